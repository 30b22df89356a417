/*
 * lb_status.c - the load balancer's lines in `haven status`: one per pool,
 * which zone takes traffic and how many servers are usable, from the JSON
 * of GET /v1/lb (lb_api.c) parsed by the CLI.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb/lb_api.h"
#include "lib/conf.h"

/* The scalar at path below n, or "-"; valid until the next call but one. */
static const char *
lb_status_str(struct conf_node *n, const char *path)
{
	static char bufs[2][256];
	static unsigned k;
	struct conf_node *v = conf_node_at(n, path);
	char *out = bufs[k++ % 2], *s;

	if ((s = conf_node_text(v)) == NULL)
		return "-";
	snprintf(out, sizeof(bufs[0]), "%s", s);
	free(s);
	return out;
}

static bool
lb_status_true(struct conf_node *n, const char *path)
{
	return strcmp(lb_status_str(n, path), "true") == 0;
}

void
lb_status_print(struct conf_node *root)
{
	struct conf_node *pools = conf_node_at(root, "/pools");
	struct conf_node *p, *sv, *srv;

	if (conf_node_count(pools) == 0)
		return;
	printf("\n%-24s %-16s %-8s %s\n", "POOL", "ACTIVE ZONE", "USABLE",
	    "STATE");
	for (size_t i = 0; (p = conf_node_item(pools, i)) != NULL; i++) {
		bool down = lb_status_true(p, "/all_down");
		bool fb = lb_status_true(p, "/degraded_fallback");
		int usable = 0, total = 0;
		char count[24], zone[256];

		snprintf(
		    zone, sizeof(zone), "%s", lb_status_str(p, "/active_zone"));
		sv = conf_node_at(p, "/servers");
		for (size_t j = 0; (srv = conf_node_item(sv, j)) != NULL; j++) {
			total++;
			usable += lb_status_true(srv, "/usable");
		}
		snprintf(count, sizeof(count), "%d/%d", usable, total);
		printf("%-24s %-16s %-8s %s\n", lb_status_str(p, "/name"),
		    strcmp(zone, "null") == 0 ? "-" : zone, count,
		    down   ? "all servers down" :
		        fb ? "serving, fallback on held-down servers" :
		             "serving");
	}
}
