/*
 * Unit tests for snap_chunker.c: chunk counts and ranges at and around
 * chunk boundaries, the accepted chunk sizes, and zero detection (one
 * non-zero byte anywhere, the first and last included, is data).
 */
#include <stdint.h>
#include <stdlib.h>

#include "lib/util.h"
#include "runner.h"
#include "snap/snap_chunker.h"

#define K64 65536u

static void
test_chunker_count_and_ranges(void)
{
	uint64_t off;
	uint32_t len;

	T_EQ_INT(snap_chunker_count(0, K64), 0);
	T_EQ_INT(snap_chunker_count(1, K64), 1);
	T_EQ_INT(snap_chunker_count(K64, K64), 1);
	T_EQ_INT(snap_chunker_count(K64 + 1, K64), 2);
	T_EQ_INT(snap_chunker_count(1ull << 40, K64), 1ull << 24);
	snap_chunker_range(K64 + 1, K64, 0, &off, &len);
	T_EQ_INT(off, 0);
	T_EQ_INT(len, K64);
	snap_chunker_range(K64 + 1, K64, 1, &off, &len);
	T_EQ_INT(off, K64);
	T_EQ_INT(len, 1);
	/* Aligned: chunk i starts at i * size whatever came before. */
	snap_chunker_range(10 * (uint64_t)K64 + 5, K64, 7, &off, &len);
	T_EQ_INT(off, 7 * (uint64_t)K64);
	T_EQ_INT(len, K64);
	/* Far past 4 GiB: no 32-bit overflow in the offset. */
	snap_chunker_range(1ull << 40, K64, (1ull << 24) - 1, &off, &len);
	T_EQ_INT(off, (1ull << 40) - K64);
	T_EQ_INT(len, K64);
}

static void
test_chunker_sizes(void)
{
	T_ASSERT(snap_chunker_size_ok(K64));
	T_ASSERT(snap_chunker_size_ok(4096));
	T_ASSERT(snap_chunker_size_ok(4u << 20));
	T_ASSERT(!snap_chunker_size_ok(2048));
	T_ASSERT(!snap_chunker_size_ok(8u << 20));
	T_ASSERT(!snap_chunker_size_ok(K64 + 4096));
	T_ASSERT(!snap_chunker_size_ok(0));
}

static void
test_chunker_zero(void)
{
	uint8_t *p = xcalloc(1, K64);

	T_ASSERT(snap_chunker_is_zero(p, K64));
	T_ASSERT(snap_chunker_is_zero(p, 1));
	T_ASSERT(snap_chunker_is_zero(p, 0));
	for (size_t i = 0; i < K64; i += 4093) {
		p[i] = 1;
		T_ASSERT(!snap_chunker_is_zero(p, K64));
		p[i] = 0;
	}
	p[K64 - 1] = 0x80;
	T_ASSERT(!snap_chunker_is_zero(p, K64));
	T_ASSERT(snap_chunker_is_zero(p, K64 - 1));
	p[K64 - 1] = 0;
	p[0] = 0xff;
	T_ASSERT(!snap_chunker_is_zero(p, K64));
	free(p);
}

static const struct test tests[] = {
	TEST(test_chunker_count_and_ranges),
	TEST(test_chunker_sizes),
	TEST(test_chunker_zero),
};

TEST_MAIN(tests)
