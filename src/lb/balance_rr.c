/*
 * balance_rr.c - smooth weighted round-robin, the nginx algorithm: on each
 * pick every candidate's current weight grows by its effective weight, the
 * largest wins and gives back the sum of all weights. Over any window of
 * sum(w) picks each server gets exactly its share, interleaved rather than in
 * bursts (weights 5,1,1 give a a b a c a a).
 *
 * Pure: the only state is rr_current inside the servers. Ties go to the
 * earliest candidate, so the sequence is deterministic for tests.
 */
#include "lb/lb_pool_priv.h"

struct lb_server *
balance_rr_pick(struct lb_server *const *c, const uint32_t *w, size_t n)
{
	struct lb_server *best = NULL;
	int64_t total = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		c[i]->rr_current += w[i];
		total += w[i];
		if (best == NULL || c[i]->rr_current > best->rr_current)
			best = c[i];
	}
	if (best != NULL)
		best->rr_current -= total;
	return best;
}
