/*
 * cmd_status.c - `haven status`: what runs, as a readable table, from
 * GET /v1/status (and --json for the raw document).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/planes.h"
#include "lib/conf.h"
#include "lib/priv.h"
#include "lib/util.h"

/*
 * The scalar at path below n, or "-". Up to CMD_STATUS_NBUF results stay
 * valid at once, enough for the widest printf below.
 */
#define CMD_STATUS_NBUF 8
static const char *
cmd_status_str(struct conf_node *n, const char *path)
{
	static char bufs[CMD_STATUS_NBUF][256];
	static unsigned k;
	struct conf_node *v = conf_node_at(n, path);
	char *out = bufs[k++ % CMD_STATUS_NBUF], *s;

	if ((s = conf_node_text(v)) == NULL)
		return "-";
	snprintf(out, sizeof(bufs[0]), "%s", s);
	free(s);
	return out;
}

/* The number at path below n; 0 if absent. */
static uint64_t
cmd_status_u64(struct conf_node *n, const char *path)
{
	return strtoull(cmd_status_str(n, path), NULL, 10);
}

static void
cmd_status_dur(char *out, size_t n, uint64_t s)
{
	if (s >= 86400)
		snprintf(out, n, "%" PRIu64 "d%02" PRIu64 "h", s / 86400,
		    s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, n, "%" PRIu64 "h%02" PRIu64 "m", s / 3600,
		    s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, n, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(out, n, "%" PRIu64 "s", s);
}

/* A process's caps list as "a,b", "all" for every one this kernel has. */
static void
cmd_status_caps(struct conf_node *caps, char *out, size_t n)
{
	size_t k = conf_node_count(caps), len = 0;
	struct conf_node *c;
	char *s;

	snprintf(out, n, "%s", caps != NULL ? "none" : "-");
	for (size_t i = 0; (c = conf_node_item(caps, i)) != NULL; i++) {
		if ((s = conf_node_text(c)) == NULL)
			continue;
		if (len < n)
			len += (size_t)snprintf(
			    out + len, n - len, "%s%s", len ? "," : "", s);
		free(s);
	}
	if (k > 0 && k == (size_t)__builtin_popcountll(priv_caps_all()))
		snprintf(out, n, "all");
}

static void
cmd_status_procs(struct conf_node *procs)
{
	struct conf_node *n;
	char d[32], caps[512];

	printf("%-8s %-6s %-8s %-9s %-8s %-8s %-6s %s\n", "PROCESS", "WORKER",
	    "PID", "STATE", "RESTARTS", "UPTIME", "UID", "CAPS");
	for (size_t i = 0; (n = conf_node_item(procs, i)) != NULL; i++) {
		cmd_status_dur(d, sizeof(d), cmd_status_u64(n, "/uptime_s"));
		cmd_status_caps(conf_node_at(n, "/caps"), caps, sizeof(caps));
		printf("%-8s %-6s %-8s %-9s %-8s %-8s %-6s %s\n",
		    cmd_status_str(n, "/plane"), cmd_status_str(n, "/worker"),
		    cmd_status_str(n, "/pid"), cmd_status_str(n, "/state"),
		    cmd_status_str(n, "/restarts"), d,
		    cmd_status_str(n, "/uid"), caps);
	}
}

static void
cmd_status_targets(struct conf_node *tg)
{
	uint64_t now_ms = util_wall_ms(), since;
	struct conf_node *n;
	char d[32];

	if (conf_node_count(tg) == 0)
		return;
	printf("\n%-32s %-8s %-18s %s\n", "TARGET", "STATE", "REASON", "SINCE");
	for (size_t i = 0; (n = conf_node_item(tg, i)) != NULL; i++) {
		since = cmd_status_u64(n, "/since_ms");
		cmd_status_dur(d, sizeof(d),
		    since && now_ms > since ? (now_ms - since) / 1000 : 0);
		printf("%-32s %-8s %-18s %s ago\n", cmd_status_str(n, "/name"),
		    cmd_status_str(n, "/state"), cmd_status_str(n, "/reason"),
		    d);
	}
}

static void
cmd_status_print(struct conf_node *root)
{
	char d[32];

	cmd_status_dur(d, sizeof(d), cmd_status_u64(root, "/uptime_s"));
	printf("haven %s  node %s  pid %s  up %s\n",
	    cmd_status_str(root, "/version"), cmd_status_str(root, "/node"),
	    cmd_status_str(root, "/pid"), d);
	printf("config %s  digest %.12s  reloads %s (%s failed)\n\n",
	    cmd_status_str(root, "/config/path"),
	    cmd_status_str(root, "/config/digest"),
	    cmd_status_str(root, "/config/reloads"),
	    cmd_status_str(root, "/config/reloads_failed"));
	cmd_status_procs(conf_node_at(root, "/processes"));
	cmd_status_targets(conf_node_at(root, "/targets"));
}

/* Whether a process of plane runs (a plane stopped by config is absent). */
static bool
cmd_status_running(struct conf_node *root, const char *plane)
{
	struct conf_node *procs = conf_node_at(root, "/processes");
	struct conf_node *n;

	for (size_t i = 0; (n = conf_node_item(procs, i)) != NULL; i++)
		if (strcmp(cmd_status_str(n, "/plane"), plane) == 0 &&
		    strcmp(cmd_status_str(n, "/state"), "running") == 0)
			return true;
	return false;
}

/*
 * Each plane with a status hook and a running process prints its own
 * lines from the reply of GET <its API prefix>.
 */
static void
cmd_status_planes(const struct client_target *t, struct conf_node *root)
{
	struct conf_errors errs;
	struct conf_tree tree;
	struct buf out;

	for (size_t i = 0; i < nplanes; i++) {
		const struct plane_row *row = &planes[i];

		if (row->ops->status == NULL || row->api_prefix == NULL ||
		    !cmd_status_running(root, row->name))
			continue;
		buf_init(&out);
		conf_errors_init(&errs);
		if (client_request(t, "GET", row->api_prefix, NULL, 0, &out) ==
		        200 &&
		    conf_json_load(
		        row->name, out.data, out.len, &tree, &errs) == 0) {
			row->ops->status(tree.root);
			conf_tree_fini(&tree);
		}
		conf_errors_fini(&errs);
		buf_fini(&out);
	}
}

static void
cmd_status_usage(FILE *f)
{
	fprintf(f,
	    "usage: haven status [-c FILE] [-s SOCKET | -a ADDR:PORT] "
	    "[--json]\n"
	    "  Show the running daemon's processes, health targets "
	    "and load-balancer pools.\n");
}

int
cmd_status(int argc, char **argv)
{
	static const struct option opts[] = { { "config", 1, NULL, 'c' },
		{ "socket", 1, NULL, 's' }, { "addr", 1, NULL, 'a' },
		{ "json", 0, NULL, 'j' }, { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	const char *conf = NULL, *sockopt = NULL, *addr = NULL;
	struct client_target t;
	struct conf_errors errs;
	struct conf_tree tree;
	bool json = false;
	struct buf out;
	int c, status;

	while ((c = getopt_long(argc, argv, "c:s:a:jh", opts, NULL)) != -1) {
		if (c == 'c')
			conf = optarg;
		else if (c == 's')
			sockopt = optarg;
		else if (c == 'a')
			addr = optarg;
		else if (c == 'j')
			json = true;
		else {
			cmd_status_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (client_target_init(&t, sockopt, addr, conf) != 0)
		return 1;
	buf_init(&out);
	status = client_request(&t, "GET", "/v1/status", NULL, 0, &out);
	if (status != 200) {
		if (status > 0)
			fprintf(stderr, "haven: status %d: %s\n", status,
			    out.data ? out.data : "");
		goto fail;
	}
	if (json) {
		printf("%s\n", out.data);
		goto done;
	}
	conf_errors_init(&errs);
	if (conf_json_load("status", out.data, out.len, &tree, &errs) != 0) {
		conf_errors_fini(&errs);
		fprintf(stderr, "haven: unreadable status document\n");
		goto fail;
	}
	conf_errors_fini(&errs);
	cmd_status_print(tree.root);
	cmd_status_planes(&t, tree.root);
	conf_tree_fini(&tree);
done:
	client_target_fini(&t);
	buf_fini(&out);
	return 0;
fail:
	client_target_fini(&t);
	buf_fini(&out);
	return 1;
}
