/*
 * cmd_status.c - `haven status`: what runs, as a readable table, from
 * GET /v1/status (and --json for the raw document).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "lib/util.h"

static const char *
status_str(struct fy_node *n, const char *path)
{
	static char bufs[8][256];
	static unsigned k;
	struct fy_node *v = fy_node_by_path(n, path, FY_NT, FYNWF_DONT_FOLLOW);
	const char *s;
	size_t len;
	char *out = bufs[k++ % 8];

	if (v == NULL || !fy_node_is_scalar(v) ||
	    (s = fy_node_get_scalar(v, &len)) == NULL)
		return "-";
	snprintf(out, 256, "%.*s", (int)len, s);
	return out;
}

static void
status_dur(char *out, size_t n, uint64_t s)
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
status_print(struct fy_node *root)
{
	struct fy_node *procs = fy_node_by_path(root, "/processes", FY_NT, 0);
	struct fy_node *tg = fy_node_by_path(root, "/targets", FY_NT, 0);
	uint64_t now_ms = util_wall_ms();
	void *it = NULL;
	struct fy_node *n;
	char d[32];

	status_dur(d, sizeof(d), strtoull(status_str(root, "/uptime_s"),
	    NULL, 10));
	printf("haven %s  node %s  pid %s  up %s\n",
	    status_str(root, "/version"), status_str(root, "/node"),
	    status_str(root, "/pid"), d);
	printf("config %s  digest %.12s  reloads %s (%s failed)\n\n",
	    status_str(root, "/config/path"),
	    status_str(root, "/config/digest"),
	    status_str(root, "/config/reloads"),
	    status_str(root, "/config/reloads_failed"));
	printf("%-8s %-6s %-8s %-9s %-8s %s\n", "PROCESS", "WORKER", "PID",
	    "STATE", "RESTARTS", "UPTIME");
	while (procs && (n = fy_node_sequence_iterate(procs, &it)) != NULL) {
		status_dur(d, sizeof(d),
		    strtoull(status_str(n, "/uptime_s"), NULL, 10));
		printf("%-8s %-6s %-8s %-9s %-8s %s\n",
		    status_str(n, "/plane"), status_str(n, "/worker"),
		    status_str(n, "/pid"), status_str(n, "/state"),
		    status_str(n, "/restarts"), d);
	}
	if (tg == NULL || fy_node_sequence_item_count(tg) == 0)
		return;
	printf("\n%-32s %-8s %-18s %s\n", "TARGET", "STATE", "REASON",
	    "SINCE");
	it = NULL;
	while ((n = fy_node_sequence_iterate(tg, &it)) != NULL) {
		uint64_t since = strtoull(status_str(n, "/since_ms"), NULL,
		    10);

		status_dur(d, sizeof(d),
		    since && now_ms > since ? (now_ms - since) / 1000 : 0);
		printf("%-32s %-8s %-18s %s ago\n", status_str(n, "/name"),
		    status_str(n, "/state"), status_str(n, "/reason"), d);
	}
}

static void
status_usage(FILE *f)
{
	fprintf(f, "usage: haven status [-c FILE | -s SOCKET] [--json]\n"
		   "  Show the running daemon's processes and health "
		   "targets.\n");
}

int
cmd_status(int argc, char **argv)
{
	static const struct option opts[] = { { "config", 1, NULL, 'c' },
		{ "socket", 1, NULL, 's' }, { "json", 0, NULL, 'j' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *conf = NULL, *sockopt = NULL;
	struct fy_parse_cfg cfg = { .flags = FYPCF_JSON_FORCE | FYPCF_QUIET };
	struct fy_document *doc;
	bool json = false;
	struct buf out;
	char *sock;
	int c, status;

	while ((c = getopt_long(argc, argv, "c:s:jh", opts, NULL)) != -1) {
		if (c == 'c')
			conf = optarg;
		else if (c == 's')
			sockopt = optarg;
		else if (c == 'j')
			json = true;
		else {
			status_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if ((sock = client_socket(sockopt, conf)) == NULL)
		return 1;
	buf_init(&out);
	status = client_request(sock, "GET", "/v1/status", NULL, 0, &out);
	free(sock);
	if (status != 200) {
		if (status > 0)
			fprintf(stderr, "haven: status %d: %s\n", status,
			    out.data ? out.data : "");
		buf_fini(&out);
		return 1;
	}
	if (json) {
		printf("%s\n", out.data);
		buf_fini(&out);
		return 0;
	}
	doc = fy_document_build_from_string(&cfg, out.data, out.len);
	if (doc == NULL) {
		fprintf(stderr, "haven: unreadable status document\n");
		buf_fini(&out);
		return 1;
	}
	status_print(fy_document_root(doc));
	fy_document_destroy(doc);
	buf_fini(&out);
	return 0;
}
