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

#define LB_STATUS_STR_MAX 256

/* The scalar at path below n, copied into out (LB_STATUS_STR_MAX bytes), or
 * "-". */
static const char *
lb_status_str(struct conf_node *n, const char *path, char *out)
{
	struct conf_node *v = conf_node_at(n, path);
	char *s;

	if ((s = conf_node_text(v)) == NULL)
		return "-";
	snprintf(out, LB_STATUS_STR_MAX, "%s", s);
	free(s);
	return out;
}

static bool
lb_status_true(struct conf_node *n, const char *path)
{
	char buf[LB_STATUS_STR_MAX];

	return strcmp(lb_status_str(n, path, buf), "true") == 0;
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
		char count[24], zone[LB_STATUS_STR_MAX],
		    name[LB_STATUS_STR_MAX];
		const char *z = lb_status_str(p, "/active_zone", zone);

		sv = conf_node_at(p, "/servers");
		for (size_t j = 0; (srv = conf_node_item(sv, j)) != NULL; j++) {
			total++;
			usable += lb_status_true(srv, "/usable");
		}
		snprintf(count, sizeof(count), "%d/%d", usable, total);
		printf("%-24s %-16s %-8s %s\n", lb_status_str(p, "/name", name),
		    strcmp(z, "null") == 0 ? "-" : z, count,
		    down   ? "all servers down" :
		        fb ? "serving, fallback on held-down servers" :
		             "serving");
	}
}
