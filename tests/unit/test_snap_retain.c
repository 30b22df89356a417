/*
 * Unit tests for snap_retain.c: keep-last, hourly and daily buckets as
 * restic's forget counts them (buckets that hold snapshots, the newest of
 * each), their union, the empty policy, future-dated snapshots, and the
 * creation time read back from a snapshot ID.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "runner.h"
#include "snap/snap_retain.h"

#define H  3600
#define D  86400
/* 2026-12-06T00:00:00Z */
#define T0 1796515200ll

static size_t
keep_of(const int64_t *c, size_t n, uint32_t last, uint32_t hourly,
    uint32_t daily, int64_t now, bool *keep)
{
	struct snap_retain_policy p = { last, hourly, daily };

	return snap_retain_select(c, n, &p, now, keep);
}

static void
test_retain_last(void)
{
	int64_t c[5] = { T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4 };
	bool k[5];

	T_EQ_INT(keep_of(c, 5, 2, 0, 0, T0 + 10, k), 2);
	T_ASSERT(!k[0] && !k[1] && !k[2] && k[3] && k[4]);
	T_EQ_INT(keep_of(c, 5, 9, 0, 0, T0 + 10, k), 5);
	T_EQ_INT(keep_of(c, 0, 2, 0, 0, T0 + 10, k), 0);
}

static void
test_retain_hourly(void)
{
	/* Hours 0 (two snapshots), 1 (three), 3 (one): hour 2 has none. */
	int64_t c[6] = { T0 + 10, T0 + 50, T0 + H + 5, T0 + H + 100,
		T0 + H + 200, T0 + 3 * H + 1 };
	bool k[6];

	/* The newest of hours 3 and 1. */
	T_EQ_INT(keep_of(c, 6, 0, 2, 0, T0 + 4 * H, k), 2);
	T_ASSERT(k[5] && k[4] && !k[3] && !k[2] && !k[1] && !k[0]);
	/* Three buckets: hour 2 is empty, so hour 0 is the third. */
	T_EQ_INT(keep_of(c, 6, 0, 3, 0, T0 + 4 * H, k), 3);
	T_ASSERT(k[5] && k[4] && k[1] && !k[0]);
	/* More buckets than there are: one per hour that has any. */
	T_EQ_INT(keep_of(c, 6, 0, 24, 0, T0 + 4 * H, k), 3);
}

static void
test_retain_daily_and_union(void)
{
	/* Two a day for four days. */
	int64_t c[8];
	bool k[8];

	for (int i = 0; i < 8; i++)
		c[i] = T0 + (i / 2) * D + (i % 2) * 12 * H;
	T_EQ_INT(keep_of(c, 8, 0, 0, 3, T0 + 5 * D, k), 3);
	T_ASSERT(k[7] && k[5] && k[3] && !k[1] && !k[0] && !k[6]);
	/* last 2 + daily 3: the union (7, 6 by last; 5, 3 by daily). */
	T_EQ_INT(keep_of(c, 8, 2, 0, 3, T0 + 5 * D, k), 4);
	T_ASSERT(k[7] && k[6] && k[5] && k[3]);
	/* hourly 1 adds nothing to last 1: the same snapshot. */
	T_EQ_INT(keep_of(c, 8, 1, 1, 0, T0 + 5 * D, k), 1);
}

static void
test_retain_empty_keeps_all(void)
{
	int64_t c[3] = { T0, T0 + H, T0 + D };
	struct snap_retain_policy p = { 0, 0, 0 };
	bool k[3];

	T_ASSERT(snap_retain_empty(&p));
	T_EQ_INT(keep_of(c, 3, 0, 0, 0, T0 + 2 * D, k), 3);
}

static void
test_retain_future(void)
{
	/* The clock went back: the snapshot dated after now is kept and does
	 * not take the hour bucket of the others. */
	int64_t c[3] = { T0, T0 + H, T0 + 10 * H };
	bool k[3];

	T_EQ_INT(keep_of(c, 3, 0, 1, 0, T0 + 2 * H, k), 2);
	T_ASSERT(k[2] && k[1] && !k[0]);
}

static void
test_retain_id_time(void)
{
	int64_t t = 0;

	T_EQ_INT(
	    snap_retain_id_time("20261206T000000.123456Z-1a2b3c4d", &t), 0);
	T_EQ_INT(t, T0);
	T_EQ_INT(snap_retain_id_time("20261207T013005Z-00", &t), 0);
	T_EQ_INT(t, T0 + D + H + 30 * 60 + 5);
	T_EQ_INT(snap_retain_id_time("19700101T000000Z", &t), 0);
	T_EQ_INT(t, 0);
	/* Leap day. */
	T_EQ_INT(snap_retain_id_time("20240301T000000Z", &t), 0);
	T_EQ_INT(t - D, 1709164800ll);
	T_EQ_INT(snap_retain_id_time("manual-1", &t), -EINVAL);
	T_EQ_INT(snap_retain_id_time("20261306T000000Z", &t), -EINVAL);
	T_EQ_INT(snap_retain_id_time("2026120xT000000Z", &t), -EINVAL);
	T_EQ_INT(snap_retain_id_time("20261206T0000", &t), -EINVAL);
}

static const struct test tests[] = {
	TEST(test_retain_last),
	TEST(test_retain_hourly),
	TEST(test_retain_daily_and_union),
	TEST(test_retain_empty_keeps_all),
	TEST(test_retain_future),
	TEST(test_retain_id_time),
};

TEST_MAIN(tests)
