/*
 * cmd_vrrp.c - `haven vrrp events [--follow]`: the VRRP transitions of the
 * running daemon, one line each, oldest first, from GET
 * /v1/vrrp/events?since=N; with --follow it keeps polling with the newest
 * number it has seen, as any client of the stream would.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "lib/conf.h"
#include "lib/util.h"

#define CMD_VRRP_POLL_US 500000 /* --follow: between two requests */

static void
cmd_vrrp_usage(FILE *f)
{
	fprintf(f,
	    "usage: haven vrrp [-c FILE] [-s SOCKET | -a ADDR:PORT] events "
	    "[--follow] [--since N]\n"
	    "  Print the VRRP transitions the daemon still holds, oldest "
	    "first:\n"
	    "  SEQ TIME INSTANCE FROM -> TO REASON PRIORITY. --follow "
	    "keeps printing\n"
	    "  new ones until interrupted.\n");
}

/* The scalar at path below n, or "-"; valid until the next call but 7. */
static const char *
cmd_vrrp_str(struct conf_node *n, const char *path)
{
	static char bufs[8][128];
	static unsigned k;
	char *out = bufs[k++ % 8], *s;

	if ((s = conf_node_text(conf_node_at(n, path))) == NULL)
		return "-";
	snprintf(out, sizeof(bufs[0]), "%s", s);
	free(s);
	return out;
}

static void
cmd_vrrp_print(struct conf_node *e)
{
	time_t t =
	    (time_t)(strtoull(cmd_vrrp_str(e, "/at_ms"), NULL, 10) / 1000);
	struct tm tm;
	char when[32] = "-";

	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%-6s %s %-16s %-7s -> %-7s %-24s %s\n", cmd_vrrp_str(e, "/seq"),
	    when, cmd_vrrp_str(e, "/instance"), cmd_vrrp_str(e, "/from"),
	    cmd_vrrp_str(e, "/to"), cmd_vrrp_str(e, "/reason"),
	    cmd_vrrp_str(e, "/priority"));
}

/* One poll: print what came after *since, move *since on. 0 or -1. */
static int
cmd_vrrp_poll(const struct client_target *t, uint64_t *since)
{
	struct conf_errors errs;
	struct conf_tree tree;
	struct conf_node *evs, *e;
	struct buf out;
	char path[64];
	int status, rc = -1;

	snprintf(path, sizeof(path), "/v1/vrrp/events?since=%" PRIu64, *since);
	buf_init(&out);
	status = client_request(t, "GET", path, NULL, 0, &out);
	if (status != 200) {
		if (status > 0)
			fprintf(stderr, "haven: status %d: %s\n", status,
			    out.data ? out.data : "");
		goto done;
	}
	conf_errors_init(&errs);
	if (conf_json_load("events", out.data, out.len, &tree, &errs) != 0) {
		conf_errors_fini(&errs);
		fprintf(stderr, "haven: unreadable events document\n");
		goto done;
	}
	conf_errors_fini(&errs);
	if (conf_node_eq(conf_node_at(tree.root, "/lost"), "true"))
		printf("# transitions lost: the daemon no longer holds all "
		       "after %" PRIu64 "\n",
		    *since);
	evs = conf_node_at(tree.root, "/events");
	for (size_t i = 0; (e = conf_node_item(evs, i)) != NULL; i++)
		cmd_vrrp_print(e);
	*since = strtoull(cmd_vrrp_str(tree.root, "/newest"), NULL, 10);
	conf_tree_fini(&tree);
	fflush(stdout);
	rc = 0;
done:
	buf_fini(&out);
	return rc;
}

int
cmd_vrrp(int argc, char **argv)
{
	static const struct option opts[] = { { "config", 1, NULL, 'c' },
		{ "socket", 1, NULL, 's' }, { "addr", 1, NULL, 'a' },
		{ "follow", 0, NULL, 'f' }, { "since", 1, NULL, 'n' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *conf = NULL, *sockopt = NULL, *addr = NULL;
	struct client_target t;
	uint64_t since = 0;
	bool follow = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:s:a:fn:h", opts, NULL)) != -1) {
		if (c == 'c')
			conf = optarg;
		else if (c == 's')
			sockopt = optarg;
		else if (c == 'a')
			addr = optarg;
		else if (c == 'f')
			follow = true;
		else if (c == 'n')
			since = strtoull(optarg, NULL, 10);
		else {
			cmd_vrrp_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (argc - optind != 1 || strcmp(argv[optind], "events") != 0) {
		cmd_vrrp_usage(stderr);
		return 2;
	}
	if (client_target_init(&t, sockopt, addr, conf) != 0)
		return 1;
	while ((rc = cmd_vrrp_poll(&t, &since)) == 0 && follow)
		usleep(CMD_VRRP_POLL_US);
	client_target_fini(&t);
	return rc == 0 ? 0 : 1;
}
