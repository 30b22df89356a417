/*
 * cmd_status.c - `haven status`: what runs, as a readable table, from
 * GET /v1/status (and --json for the raw document).
 */
#include <getopt.h>
#include <inttypes.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "lib/conf.h"
#include "lib/util.h"

/*
 * The scalar at path below n, or "-". Up to CMD_STATUS_NBUF results stay
 * valid at once, enough for the widest printf below.
 */
#define CMD_STATUS_NBUF 8
static const char *
cmd_status_str(struct fy_node *n, const char *path)
{
	static char bufs[CMD_STATUS_NBUF][256];
	static unsigned k;
	struct fy_node *v = fy_node_by_path(n, path, FY_NT, FYNWF_DONT_FOLLOW);
	char *out = bufs[k++ % CMD_STATUS_NBUF], *s;

	if ((s = conf_node_text(NULL, v)) == NULL)
		return "-";
	snprintf(out, sizeof(bufs[0]), "%s", s);
	free(s);
	return out;
}

/* The number at path below n; 0 if absent. */
static uint64_t
cmd_status_u64(struct fy_node *n, const char *path)
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

static void
cmd_status_procs(struct fy_node *procs)
{
	void *it = NULL;
	struct fy_node *n;
	char d[32];

	printf("%-8s %-6s %-8s %-9s %-8s %s\n", "PROCESS", "WORKER", "PID",
	    "STATE", "RESTARTS", "UPTIME");
	while (procs && (n = fy_node_sequence_iterate(procs, &it)) != NULL) {
		cmd_status_dur(d, sizeof(d), cmd_status_u64(n, "/uptime_s"));
		printf("%-8s %-6s %-8s %-9s %-8s %s\n",
		    cmd_status_str(n, "/plane"), cmd_status_str(n, "/worker"),
		    cmd_status_str(n, "/pid"), cmd_status_str(n, "/state"),
		    cmd_status_str(n, "/restarts"), d);
	}
}

static void
cmd_status_targets(struct fy_node *tg)
{
	uint64_t now_ms = util_wall_ms(), since;
	void *it = NULL;
	struct fy_node *n;
	char d[32];

	if (tg == NULL || fy_node_sequence_item_count(tg) == 0)
		return;
	printf("\n%-32s %-8s %-18s %s\n", "TARGET", "STATE", "REASON", "SINCE");
	while ((n = fy_node_sequence_iterate(tg, &it)) != NULL) {
		since = cmd_status_u64(n, "/since_ms");
		cmd_status_dur(d, sizeof(d),
		    since && now_ms > since ? (now_ms - since) / 1000 : 0);
		printf("%-32s %-8s %-18s %s ago\n", cmd_status_str(n, "/name"),
		    cmd_status_str(n, "/state"), cmd_status_str(n, "/reason"),
		    d);
	}
}

static void
cmd_status_print(struct fy_node *root)
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
	cmd_status_procs(fy_node_by_path(root, "/processes", FY_NT, 0));
	cmd_status_targets(fy_node_by_path(root, "/targets", FY_NT, 0));
}

/* One line per lb pool: which zone takes traffic and how many servers. */
static void
cmd_status_pools(struct fy_node *pools)
{
	struct fy_node *p, *sv, *srv;
	void *it = NULL, *sit;

	if (pools == NULL || fy_node_sequence_item_count(pools) <= 0)
		return;
	printf("\n%-24s %-16s %-8s %s\n", "POOL", "ACTIVE ZONE", "USABLE",
	    "STATE");
	while ((p = fy_node_sequence_iterate(pools, &it)) != NULL) {
		const char *zone = cmd_status_str(p, "/active_zone");
		bool down = strcmp(cmd_status_str(p, "/all_down"), "true") == 0;
		bool fb = strcmp(cmd_status_str(p, "/degraded_fallback"),
		              "true") == 0;
		int usable = 0, total = 0;
		char count[24];

		sv = fy_node_by_path(p, "/servers", FY_NT, 0);
		sit = NULL;
		while (
		    sv && (srv = fy_node_sequence_iterate(sv, &sit)) != NULL) {
			total++;
			usable +=
			    strcmp(cmd_status_str(srv, "/usable"), "true") == 0;
		}
		snprintf(count, sizeof(count), "%d/%d", usable, total);
		printf("%-24s %-16s %-8s %s\n", cmd_status_str(p, "/name"),
		    strcmp(zone, "null") == 0 ? "-" : zone, count,
		    down   ? "all servers down" :
		        fb ? "serving, fallback on held-down servers" :
		             "serving");
	}
}

/* The lb section of the table, if an lb plane answers. */
static void
cmd_status_lb(const struct client_target *t)
{
	struct fy_parse_cfg cfg = { .flags = FYPCF_JSON_FORCE | FYPCF_QUIET };
	struct fy_document *doc;
	struct buf out;

	buf_init(&out);
	if (client_request(t, "GET", "/v1/lb", NULL, 0, &out) == 200 &&
	    (doc = fy_document_build_from_string(&cfg, out.data, out.len)) !=
	        NULL) {
		cmd_status_pools(
		    fy_node_by_path(fy_document_root(doc), "/pools", FY_NT, 0));
		fy_document_destroy(doc);
	}
	buf_fini(&out);
}

static bool
cmd_status_has_lb(struct fy_node *root)
{
	struct fy_node *procs = fy_node_by_path(root, "/processes", FY_NT, 0);
	struct fy_node *n;
	void *it = NULL;

	while (procs && (n = fy_node_sequence_iterate(procs, &it)) != NULL)
		if (strcmp(cmd_status_str(n, "/plane"), "lb") == 0 &&
		    strcmp(cmd_status_str(n, "/state"), "running") == 0)
			return true;
	return false;
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
	struct fy_parse_cfg cfg = { .flags = FYPCF_JSON_FORCE | FYPCF_QUIET };
	struct fy_document *doc;
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
	doc = fy_document_build_from_string(&cfg, out.data, out.len);
	if (doc == NULL) {
		fprintf(stderr, "haven: unreadable status document\n");
		goto fail;
	}
	cmd_status_print(fy_document_root(doc));
	if (cmd_status_has_lb(fy_document_root(doc)))
		cmd_status_lb(&t);
	fy_document_destroy(doc);
done:
	client_target_fini(&t);
	buf_fini(&out);
	return 0;
fail:
	client_target_fini(&t);
	buf_fini(&out);
	return 1;
}
