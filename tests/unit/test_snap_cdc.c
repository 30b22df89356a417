/*
 * Unit tests for snap_cdc.c: chunk sizes stay within min/max with an
 * average near 64 KiB; cut points are stable under insertions (bytes
 * inserted near the start or in the middle of a large buffer change only
 * the chunks around the edit); a cut depends only on the SNAP_CDC_MAX
 * bytes ahead, so a streaming caller cuts where a whole-buffer one does;
 * another key gives other cut points.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "runner.h"
#include "snap/snap_cdc.h"
#include "snap/snap_id.h"

#define MIB (1u << 20)

static void
test_cdc_fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 24);
	}
}

/* Chunk IDs of p[0..n), cut whole; returns their number. */
static size_t
test_cdc_ids(const struct snap_cdc *c, const uint8_t *p, size_t n,
    struct snap_id *ids, size_t *lens)
{
	size_t k = 0;

	for (size_t off = 0, l; off < n; off += l) {
		l = snap_cdc_cut(c, p + off, n - off);
		if (lens != NULL)
			lens[k] = l;
		snap_id_of(p + off, l, &ids[k++]);
	}
	return k;
}

/* How many of b's chunks a does not have. */
static size_t
test_cdc_new(
    const struct snap_id *a, size_t na, const struct snap_id *b, size_t nb)
{
	size_t fresh = 0;

	for (size_t i = 0; i < nb; i++) {
		bool found = false;

		for (size_t j = 0; j < na && !found; j++)
			found = snap_id_cmp(&a[j], &b[i]) == 0;
		fresh += !found;
	}
	return fresh;
}

static void
test_cdc_sizes(void)
{
	struct snap_cdc c;
	size_t n = 16 * MIB, k;
	uint8_t *p = xmalloc(n);
	struct snap_id *ids = xcalloc(n / SNAP_CDC_MIN + 1, sizeof(*ids));
	size_t *lens = xcalloc(n / SNAP_CDC_MIN + 1, sizeof(*lens));

	snap_cdc_init(&c, SNAP_CDC_KEY_FIXED, strlen(SNAP_CDC_KEY_FIXED));
	test_cdc_fill(p, n, 1);
	k = test_cdc_ids(&c, p, n, ids, lens);
	for (size_t i = 0; i < k; i++) {
		T_ASSERT(lens[i] <= SNAP_CDC_MAX);
		T_ASSERT(i == k - 1 || lens[i] >= SNAP_CDC_MIN);
	}
	/* Normalized chunking: about 64-80 KiB on random data. */
	if (n / k < 48 * 1024 || n / k > 110 * 1024)
		test_fail(__FILE__, __LINE__, "average %zu", n / k);
	/* Short inputs are one chunk; empty is none. */
	T_EQ_INT(snap_cdc_cut(&c, p, 0), 0);
	T_EQ_INT(snap_cdc_cut(&c, p, 100), 100);
	T_EQ_INT(snap_cdc_cut(&c, p, SNAP_CDC_MIN), SNAP_CDC_MIN);
	/* Zeros: deterministic, never past the max. */
	memset(p, 0, SNAP_CDC_MAX * 2);
	T_ASSERT(snap_cdc_cut(&c, p, SNAP_CDC_MAX * 2) <= SNAP_CDC_MAX);
	free(p);
	free(ids);
	free(lens);
}

static void
test_cdc_insert(void)
{
	struct snap_cdc c;
	size_t n = 8 * MIB, ins = 100, na, nb, nc;
	uint8_t *a = xmalloc(n), *b = xmalloc(n + ins), *cc = xmalloc(n + ins);
	struct snap_id *ia = xcalloc(n / SNAP_CDC_MIN + 2, sizeof(*ia));
	struct snap_id *ib = xcalloc(n / SNAP_CDC_MIN + 2, sizeof(*ib));
	struct snap_id *ic = xcalloc(n / SNAP_CDC_MIN + 2, sizeof(*ic));

	snap_cdc_init(&c, SNAP_CDC_KEY_FIXED, strlen(SNAP_CDC_KEY_FIXED));
	test_cdc_fill(a, n, 2);
	/* 100 bytes inserted at 1000, and at the middle. */
	/* All of a shifted by ins, then its first 1000 bytes moved back
	 * (one memcpy of the tail trips gcc's -Warray-bounds under ASan). */
	memcpy(b + ins, a, n);
	memmove(b, b + ins, 1000);
	memset(b + 1000, 'x', ins);
	memcpy(cc, a, n / 2);
	memset(cc + n / 2, 'y', ins);
	memcpy(cc + n / 2 + ins, a + n / 2, n / 2);
	na = test_cdc_ids(&c, a, n, ia, NULL);
	nb = test_cdc_ids(&c, b, n + ins, ib, NULL);
	nc = test_cdc_ids(&c, cc, n + ins, ic, NULL);
	T_ASSERT(na > 80);
	/* The edited chunk, and at most one more while the cuts resync. */
	T_ASSERT(test_cdc_new(ia, na, ib, nb) <= 2);
	T_ASSERT(test_cdc_new(ia, na, ic, nc) <= 2);
	T_ASSERT(test_cdc_new(ia, na, ib, nb) >= 1);
	free(a);
	free(b);
	free(cc);
	free(ia);
	free(ib);
	free(ic);
}

static void
test_cdc_stream_and_key(void)
{
	struct snap_cdc c, d;
	size_t n = 4 * MIB, same = 0, cuts = 0;
	uint8_t *p = xmalloc(n);

	snap_cdc_init(&c, SNAP_CDC_KEY_FIXED, strlen(SNAP_CDC_KEY_FIXED));
	snap_cdc_init(&d, "another key", 11);
	test_cdc_fill(p, n, 3);
	for (size_t off = 0, l; off + SNAP_CDC_MAX < n; off += l) {
		/* Exactly the max ahead cuts where everything ahead does. */
		l = snap_cdc_cut(&c, p + off, n - off);
		T_EQ_INT(snap_cdc_cut(&c, p + off, SNAP_CDC_MAX), l);
		same += snap_cdc_cut(&d, p + off, n - off) == l;
		cuts++;
	}
	T_ASSERT(cuts > 20);
	T_ASSERT(same < cuts / 4);
	free(p);
}

static const struct test tests[] = {
	TEST(test_cdc_sizes),
	TEST(test_cdc_insert),
	TEST(test_cdc_stream_and_key),
};

TEST_MAIN(tests)
