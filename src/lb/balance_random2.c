/*
 * balance_random2.c - power of two choices: draw two different candidates at
 * random, each with probability proportional to its weight, and take the one
 * with fewer active connections relative to weight (Mitzenmacher). It keeps
 * the spread of random choice without the herding of pure least-connections
 * when many workers decide on stale counts.
 *
 * Pure: the generator (xorshift64*) state lives in the pool, seeded from the
 * pool name so runs are reproducible.
 */
#include "lb/lb_pool_priv.h"

uint64_t
balance_random2_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Index drawn by weight among c, skipping index skip (n: none). */
static size_t
balance_random2_draw(uint64_t *rng, const uint32_t *w, size_t n, size_t skip)
{
	uint64_t total = 0, r;
	size_t i;

	for (i = 0; i < n; i++)
		if (i != skip)
			total += w[i];
	r = balance_random2_next(rng) % total;
	for (i = 0; i < n; i++) {
		if (i == skip)
			continue;
		if (r < w[i])
			return i;
		r -= w[i];
	}
	return n - 1;
}

struct lb_server *
balance_random2_pick(
    struct lb_pool *p, struct lb_server *const *c, const uint32_t *w, size_t n)
{
	size_t a, b;

	if (n == 0)
		return NULL;
	if (n == 1)
		return c[0];
	a = balance_random2_draw(&p->rng, w, n, n);
	b = balance_random2_draw(&p->rng, w, n, a);
	if ((uint64_t)c[b]->active * w[a] < (uint64_t)c[a]->active * w[b])
		return c[b];
	return c[a];
}
