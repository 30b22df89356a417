/*
 * Unit tests for havip_arb.c: the arbiter's rules on synthetic
 * timestamps (milliseconds): the first announcer owns the HAVIP, the
 * hold-down holds, the witness keeps a live owner through a split brain
 * and lets a dead or resigned one go at once, contested time is exact,
 * and the operator's associate overrides.
 */
#include "havip/havip_arb.h"
#include "runner.h"

#define N1   0
#define N2   1
#define HOLD 5000
#define ADV  100 /* advert interval, ms */

static void
t_init(struct havip_arb *a, uint64_t delay)
{
	havip_arb_init(a, 2, HOLD, delay, 0);
}

/*
 * Adverts every ADV ms over [from, to), in time order: from n1 at p1 and
 * from n2 at p2 (a negative priority: that node sends none).
 */
static void
t_adverts(struct havip_arb *a, int p1, int p2, uint64_t from, uint64_t to)
{
	for (uint64_t t = from; t < to; t += ADV) {
		if (p1 >= 0)
			havip_arb_advert(a, N1, (uint8_t)p1, ADV, t);
		if (p2 >= 0)
			havip_arb_advert(a, N2, (uint8_t)p2, ADV, t);
	}
}

static void
test_first_announce(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	T_EQ_INT(a.owner, HAVIP_ARB_NONE);
	T_EQ_INT(havip_arb_announce(&a, N1, 1000), HAVIP_V_REMAP);
	T_EQ_INT(a.owner, N1);
	T_EQ_INT(a.reason, HAVIP_R_FIRST);
	T_EQ_INT(a.remap_ms, 1000);
	T_EQ_INT(havip_arb_announce(&a, N1, 1100), HAVIP_V_OWNER);
	T_EQ_INT(a.changes[HAVIP_R_FIRST], 1);
}

static void
test_remap_delay(void)
{
	struct havip_arb a;

	t_init(&a, 1000);
	T_EQ_INT(havip_arb_announce(&a, N1, 1000), HAVIP_V_PENDING);
	T_EQ_INT(a.owner, HAVIP_ARB_NONE);
	T_EQ_INT(havip_arb_tick(&a, 1500), 2000);
	T_EQ_INT(a.owner, HAVIP_ARB_NONE);
	T_EQ_INT(havip_arb_tick(&a, 2000), HAVIP_ARB_NEVER);
	T_EQ_INT(a.owner, N1);
	T_EQ_INT(a.remap_ms, 2000);
	/* the hold-down counts from the remap, not the announcement */
	T_EQ_INT(havip_arb_announce(&a, N2, 6500), HAVIP_V_HELD);
}

static void
test_hold_down(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	havip_arb_announce(&a, N1, 0);
	T_EQ_INT(havip_arb_announce(&a, N2, 1000), HAVIP_V_HELD);
	T_EQ_INT(havip_arb_announce(&a, N2, 4999), HAVIP_V_HELD);
	T_EQ_INT(a.owner, N1);
	T_EQ_INT(a.verdicts[HAVIP_V_HELD], 2);
	/* judged again when the hold-down ends: nobody protects n1 */
	T_EQ_INT(havip_arb_tick(&a, 4999), HOLD);
	havip_arb_tick(&a, HOLD);
	T_EQ_INT(a.owner, N2);
	T_EQ_INT(a.reason, HAVIP_R_TAKEOVER);
	/* and n1 is held off in turn */
	T_EQ_INT(havip_arb_announce(&a, N1, HOLD + 10), HAVIP_V_HELD);
}

static void
test_after_hold_down_takeover(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	havip_arb_announce(&a, N1, 0);
	/* no adverts: last announcer wins, as in the clouds */
	T_EQ_INT(havip_arb_announce(&a, N2, 6000), HAVIP_V_REMAP);
	T_EQ_INT(a.owner, N2);
	T_EQ_INT(a.changes[HAVIP_R_TAKEOVER], 1);
}

/* Both nodes MASTER (control-plane partition): no flapping. */
static void
test_witness_keeps_owner(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	havip_arb_announce(&a, N1, 0);
	t_adverts(&a, 100, -1, 0, 6000);
	T_EQ_INT(a.owner, N1);
	/* n2 stops hearing n1, becomes master too, and announces */
	t_adverts(&a, 100, 100, 6000, 6100);
	T_EQ_INT(havip_arb_announce(&a, N2, 6050), HAVIP_V_WITNESS);
	t_adverts(&a, 100, 100, 6100, 8100);
	T_EQ_INT(havip_arb_announce(&a, N2, 8050), HAVIP_V_WITNESS);
	t_adverts(&a, 100, 100, 8100, 10000);
	T_EQ_INT(a.owner, N1);
	T_EQ_INT(a.changes[HAVIP_R_TAKEOVER], 0);
	T_EQ_INT(a.verdicts[HAVIP_V_WITNESS], 2);
	T_EQ_INT(havip_arb_claimers(&a, 9950), 2);
}

/* Witness off: the clouds' rule, the last announcer wins after the
 * hold-down even against a live master (the split brain flaps). */
static void
test_no_witness_flaps(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	a.witness = false;
	havip_arb_announce(&a, N1, 0);
	t_adverts(&a, 100, 100, 0, 6000);
	T_EQ_INT(havip_arb_announce(&a, N2, 6050), HAVIP_V_REMAP);
	T_EQ_INT(a.owner, N2);
	t_adverts(&a, 100, 100, 6100, 12000);
	T_EQ_INT(havip_arb_announce(&a, N1, 12050), HAVIP_V_REMAP);
	T_EQ_INT(a.owner, N1);
	T_EQ_INT(a.changes[HAVIP_R_TAKEOVER], 2);
	T_EQ_INT(a.verdicts[HAVIP_V_WITNESS], 0);
}

/* A challenger that outranks the owner takes over even while it lives. */
static void
test_higher_priority_challenger(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	havip_arb_announce(&a, N1, 0);
	t_adverts(&a, 100, -1, 0, 6000);
	t_adverts(&a, 100, 150, 6000, 7000);
	T_EQ_INT(havip_arb_announce(&a, N2, 7000), HAVIP_V_REMAP);
	T_EQ_INT(a.owner, N2);
}

static void
test_priority_zero_releases(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	havip_arb_announce(&a, N1, 0);
	t_adverts(&a, 100, -1, 0, 1000);
	havip_arb_advert(&a, N1, 0, ADV, 1000);
	T_EQ_INT(a.owner, HAVIP_ARB_NONE);
	T_EQ_INT(a.reason, HAVIP_R_RELEASE);
	/* within what was the hold-down, the new master gets it at once */
	havip_arb_advert(&a, N2, 100, ADV, 1010);
	T_EQ_INT(havip_arb_announce(&a, N2, 1020), HAVIP_V_REMAP);
	T_EQ_INT(a.owner, N2);
	T_EQ_INT(a.reason, HAVIP_R_FIRST);
}

/* Release while a challenger waits: it gets the HAVIP with no new GARP. */
static void
test_release_hands_to_challenger(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	havip_arb_announce(&a, N1, 0);
	t_adverts(&a, 100, -1, 0, 6000);
	t_adverts(&a, 100, 100, 6000, 6100);
	T_EQ_INT(havip_arb_announce(&a, N2, 6050), HAVIP_V_WITNESS);
	t_adverts(&a, 100, 100, 6100, 7000);
	havip_arb_advert(&a, N2, 100, ADV, 7000);
	havip_arb_advert(&a, N1, 0, ADV, 7000);
	T_EQ_INT(a.owner, N2);
	T_EQ_INT(a.remap_ms, 7000);
}

static void
test_dead_owner_replaced(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	havip_arb_announce(&a, N1, 0);
	t_adverts(&a, 200, -1, 0, 5000);
	t_adverts(&a, 200, 100, 5000, 6000); /* n1's last advert: 5900 */
	/* n1 alive at 6000 (5900 + 3 x 100 = 6200) and outranks n2 */
	havip_arb_advert(&a, N2, 100, ADV, 6000);
	T_EQ_INT(havip_arb_announce(&a, N2, 6000), HAVIP_V_WITNESS);
	T_EQ_INT(a.owner, N1);
	havip_arb_advert(&a, N2, 100, ADV, 6100);
	/* n1's claim lapses at 6200: the waiting master takes over then */
	T_EQ_INT(havip_arb_tick(&a, 6150), 6200);
	T_EQ_INT(a.owner, N1);
	havip_arb_tick(&a, 6200);
	T_EQ_INT(a.owner, N2);
	T_EQ_INT(a.reason, HAVIP_R_TAKEOVER);
	T_EQ_INT(a.remap_ms, 6200);
}

static void
test_dead_owner_new_announcement(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	havip_arb_announce(&a, N1, 0);
	t_adverts(&a, 200, -1, 0, 6000);
	/* n2 becomes master after n1 died and announces at 6300 */
	havip_arb_advert(&a, N2, 100, ADV, 6300);
	T_EQ_INT(havip_arb_announce(&a, N2, 6300), HAVIP_V_REMAP);
	T_EQ_INT(a.owner, N2);
}

static void
test_contested_time(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	t_adverts(&a, 100, -1, 0, 4000);
	t_adverts(&a, 100, 100, 4000, 6000); /* n2 claims to 5900 + 300 */
	t_adverts(&a, 100, -1, 6000, 10000);
	havip_arb_tick(&a, 20000);
	T_EQ_INT(a.contested_ms, 6200 - 4000);
	/* a priority-0 advert ends a claim at once */
	t_init(&a, 0);
	t_adverts(&a, 100, -1, 0, 1000);
	t_adverts(&a, 100, 100, 1000, 2000);
	havip_arb_advert(&a, N1, 100, ADV, 2000);
	havip_arb_advert(&a, N2, 0, ADV, 2000);
	t_adverts(&a, 100, -1, 2100, 3000);
	havip_arb_tick(&a, 9000);
	T_EQ_INT(a.contested_ms, 1000);
	T_EQ_INT(havip_arb_claimers(&a, 9000), 0);
}

static void
test_api_override(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	havip_arb_announce(&a, N1, 0);
	t_adverts(&a, 200, -1, 0, 7000);
	havip_arb_associate(&a, N2, 7000);
	T_EQ_INT(a.owner, N2);
	T_EQ_INT(a.reason, HAVIP_R_API);
	T_EQ_INT(a.hold_until_ms, 7000 + HOLD);
	/* the hold-down restarts: n1 (alive, master) is held off */
	t_adverts(&a, 200, -1, 7000, 8000);
	T_EQ_INT(havip_arb_announce(&a, N1, 8000), HAVIP_V_HELD);
	T_EQ_INT(a.owner, N2);
}

static void
test_adopt_no_hold_down(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	havip_arb_adopt(&a, N1, 100);
	T_EQ_INT(a.owner, N1);
	T_EQ_INT(a.reason, HAVIP_R_ADOPTED);
	T_EQ_INT(havip_arb_announce(&a, N2, 200), HAVIP_V_REMAP);
}

static void
test_out_of_range(void)
{
	struct havip_arb a;

	t_init(&a, 0);
	havip_arb_announce(&a, 7, 0);
	havip_arb_advert(&a, -1, 100, ADV, 0);
	havip_arb_associate(&a, 2, 0);
	T_EQ_INT(a.owner, HAVIP_ARB_NONE);
	T_EQ_STR(havip_arb_reason_name(HAVIP_R__COUNT), "invalid");
	T_EQ_STR(havip_arb_verdict_name(HAVIP_V_WITNESS), "witness");
}

static const struct test tests[] = {
	TEST(test_first_announce),
	TEST(test_remap_delay),
	TEST(test_hold_down),
	TEST(test_after_hold_down_takeover),
	TEST(test_witness_keeps_owner),
	TEST(test_no_witness_flaps),
	TEST(test_higher_priority_challenger),
	TEST(test_priority_zero_releases),
	TEST(test_release_hands_to_challenger),
	TEST(test_dead_owner_replaced),
	TEST(test_dead_owner_new_announcement),
	TEST(test_contested_time),
	TEST(test_api_override),
	TEST(test_adopt_no_hold_down),
	TEST(test_out_of_range),
};

TEST_MAIN(tests)
