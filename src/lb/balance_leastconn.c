/*
 * balance_leastconn.c - fewest active connections relative to weight:
 * a is better than b when a.active / w_a < b.active / w_b, compared by cross
 * multiplication so no division rounds. Ties rotate through the candidates,
 * so an idle pool still spreads its first connections instead of sending
 * them all to the first server.
 *
 * Pure: the only state is the pool's rotation index.
 */
#include "lb/lb_pool_priv.h"

struct lb_server *
balance_leastconn_pick(
    struct lb_pool *p, struct lb_server *const *c, const uint32_t *w, size_t n)
{
	size_t i, k, best = 0, start;

	if (n == 0)
		return NULL;
	start = p->lc_next++ % n;
	best = start;
	for (i = 1; i < n; i++) {
		k = (start + i) % n;
		if ((uint64_t)c[k]->active * w[best] <
		    (uint64_t)c[best]->active * w[k])
			best = k;
	}
	return c[best];
}
