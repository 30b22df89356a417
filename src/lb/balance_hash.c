/*
 * balance_hash.c - consistent hashing for balance: source and header, with
 * bounded loads.
 *
 * Each server owns LB_HASH_POINTS_PER_WEIGHT points per unit of weight on a
 * 64-bit ring (capped at LB_HASH_POINTS_MAX), placed by hashing its name and
 * the point's index, so a point depends on nothing but the server itself:
 * adding or removing one of n servers moves only about 1/n of the keys. A key
 * goes to the first point clockwise from its own hash whose server is a
 * candidate for this pick; down or excluded servers are simply walked past,
 * which keeps every other key where it was.
 *
 * Bounded load (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing with
 * Bounded Loads", 2018): with m connections active on n candidates, no
 * server may take a new one once it holds cap = ceil(c * (m + 1) / n), c the
 * balance factor; the walk continues to the next point. Because n * cap >=
 * m + 1, some candidate is always below the cap and the walk ends.
 *
 * Pure: the ring is owned by the pool and rebuilt when servers or weights
 * change; a pick only reads it.
 */
#include <stdlib.h>
#include <string.h>

#include "lb/lb_pool_priv.h"

/* splitmix64's finaliser: FNV alone spreads short keys poorly. */
static uint64_t
balance_hash_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t
balance_hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a offset basis */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return balance_hash_mix(h);
}

static int
balance_hash_cmp(const void *a, const void *b)
{
	const struct lb_hash_point *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	/* Equal points (rare): order by name so the ring is deterministic. */
	return strcmp(x->s->name, y->s->name);
}

static size_t
balance_hash_npoints(const struct lb_server *s)
{
	uint64_t w = s->has_admin_weight ? s->admin_weight : s->conf_weight;

	return (size_t)MIN(w * LB_HASH_POINTS_PER_WEIGHT, LB_HASH_POINTS_MAX);
}

void
balance_hash_build(struct lb_pool *p)
{
	size_t i, k, n = 0, np;
	uint64_t base;

	free(p->ring);
	p->ring = NULL;
	p->nring = 0;
	if (p->conf.balance != LB_BAL_SOURCE &&
	    p->conf.balance != LB_BAL_HEADER)
		return;
	for (i = 0; i < p->nservers; i++)
		n += balance_hash_npoints(p->servers[i]);
	if (n == 0)
		return;
	p->ring = xcalloc(n, sizeof(*p->ring));
	for (i = 0; i < p->nservers; i++) {
		struct lb_server *s = p->servers[i];

		np = balance_hash_npoints(s);
		base = balance_hash_bytes(s->sname, strlen(s->sname));
		for (k = 0; k < np; k++) {
			p->ring[p->nring].h = balance_hash_mix(base + k + 1);
			p->ring[p->nring++].s = s;
		}
	}
	qsort(p->ring, p->nring, sizeof(*p->ring), balance_hash_cmp);
}

uint32_t
balance_hash_cap(uint64_t total_active, size_t n, uint32_t factor_pct)
{
	uint64_t num = (uint64_t)factor_pct * (total_active + 1);
	uint64_t den = (uint64_t)100 * n;

	if (n == 0)
		return 0;
	return (uint32_t)((num + den - 1) / den);
}

/* First ring index whose point is >= h (wrapping to 0). */
static size_t
balance_hash_find(const struct lb_pool *p, uint64_t h)
{
	size_t lo = 0, hi = p->nring;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->ring[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == p->nring ? 0 : lo;
}

struct lb_server *
balance_hash_pick(struct lb_pool *p, const void *key, size_t keylen,
    struct lb_server *const *c, size_t n, uint32_t factor_pct)
{
	uint64_t total = 0;
	uint32_t cap = 0;
	size_t i, at;

	if (key == NULL || p->nring == 0 || n == 0)
		return NULL;
	p->hash_gen++;
	for (i = 0; i < n; i++) {
		c[i]->hash_mark = p->hash_gen;
		total += c[i]->active;
	}
	if (factor_pct != 0)
		cap = balance_hash_cap(total, n, factor_pct);
	at = balance_hash_find(p, balance_hash_bytes(key, keylen));
	for (i = 0; i < p->nring; i++) {
		struct lb_server *s = p->ring[(at + i) % p->nring].s;

		if (s->hash_mark != p->hash_gen)
			continue;
		if (factor_pct == 0 || s->active < cap)
			return s;
	}
	return NULL;
}
