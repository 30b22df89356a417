/*
 * Scenarios for zone failover, failback policies, slow start, passive
 * readmission and reload state keeping (lb_zone.c, lb_pool.c,
 * lb_runtime.c) on the simulated clock: verdicts arrive as the hc plane would
 * send them, and time only moves through ev_sim_advance, so hold-downs and
 * ramps are checked to the millisecond.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>

#include "../unit/runner.h"
#include "hc/hc_state.h"
#include "lb/lb_pool_priv.h"
#include "lib/ev.h"

#define SLZ_START 1000000ull

/* The runtime under test: one per test process, as one per worker. */
static struct lb_runtime slz_rt;

struct slz {
	struct ev_loop *loop;
	struct lb_conf conf;
	struct lb_pool_conf pc;
	struct lb_server_conf sc[6];
	char *zones[3];
	struct lb_pool *p;
};

static char slz_zone_primary[] = "primary", slz_zone_secondary[] = "secondary";

/* Pool "web": a1 a2 in primary, b1 b2 in secondary (nservers of them). */
static void
slz_setup(struct slz *t, size_t nservers, int failback, uint32_t min_up)
{
	static const char *names[] = { "a1", "a2", "b1", "b2", "x", "y" };
	size_t i;

	memset(t, 0, sizeof(*t));
	t->loop = ev_loop_new_sim(SLZ_START);
	lb_runtime_init(&slz_rt, t->loop);
	t->zones[0] = slz_zone_primary;
	t->zones[1] = slz_zone_secondary;
	t->pc.name = "web";
	t->pc.health_check = "web-http";
	t->pc.zones = t->zones;
	t->pc.nzones = 2;
	t->pc.min_up = min_up;
	t->pc.failback = failback;
	t->pc.failback_hold_ms = 30000;
	t->pc.all_down_body = "down\n";
	t->pc.servers = t->sc;
	t->pc.nservers = nservers;
	for (i = 0; i < ARRAY_SIZE(t->sc); i++) {
		struct sockaddr_in *sin =
		    (struct sockaddr_in *)&t->sc[i].address;

		t->sc[i].name = (char *)names[i];
		t->sc[i].weight = 100;
		t->sc[i].zone = i < 2 ? slz_zone_primary : slz_zone_secondary;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(80);
		sin->sin_addr.s_addr = htonl(0xc6120000u + 10 + (uint32_t)i);
	}
	t->conf.pools = &t->pc;
	t->conf.npools = 1;
	T_EQ_INT(lb_runtime_apply(&slz_rt, &t->conf), 0);
	t->p = lb_runtime_pool(&slz_rt, "web");
	T_ASSERT(t->p != NULL);
}

static void
slz_teardown(struct slz *t)
{
	lb_runtime_fini(&slz_rt);
	ev_loop_free(t->loop);
}

static void
slz_verdict(const char *target, enum hc_state st)
{
	struct ipc_verdict v;

	memset(&v, 0, sizeof(v));
	snprintf(v.target, sizeof(v.target), "%s", target);
	v.state = st;
	v.reason = st == HC_UP ? HC_R_OK : HC_R_TIMEOUT;
	lb_runtime_verdict(&slz_rt, &v);
}

static const char *
slz_pick(struct slz *t)
{
	enum lb_pick_err err;
	struct lb_server *s = lb_pool_pick(t->p, NULL, &err);

	return s != NULL ? s->sname : "-";
}

static void
test_failover_immediate_failback(void)
{
	struct slz t;
	int i;

	slz_setup(&t, 3, LB_FAILBACK_IMMEDIATE, 2);
	T_EQ_INT(t.p->active_zone, 0);
	slz_verdict("web/a1", HC_UP);
	slz_verdict("web/a2", HC_UP);
	slz_verdict("web/a1", HC_DOWN);
	/* One healthy of the two needed: the whole pool moves. */
	T_EQ_INT(t.p->active_zone, 1);
	for (i = 0; i < 10; i++)
		T_EQ_STR(slz_pick(&t), "b1");
	ev_sim_advance(t.loop, 1000);
	slz_verdict("web/a1", HC_UP);
	T_EQ_INT(t.p->active_zone, 0);
	T_EQ_INT(t.p->stats.zone_changes, 2);
	for (i = 0; i < 10; i++)
		T_ASSERT(slz_pick(&t)[0] == 'a');
	/* Unknown targets are counted, not applied. */
	slz_verdict("web/zz", HC_DOWN);
	slz_verdict("other/a1", HC_DOWN);
	T_EQ_INT(lb_runtime_verdicts_unknown(&slz_rt), 2);
	slz_teardown(&t);
}

static void
test_failback_hold(void)
{
	struct slz t;

	slz_setup(&t, 3, LB_FAILBACK_HOLD, 2);
	slz_verdict("web/a1", HC_DOWN);
	T_EQ_INT(t.p->active_zone, 1);
	ev_sim_advance(t.loop, 5000);
	slz_verdict("web/a1", HC_UP); /* at +5 s: hold until +35 s */
	T_EQ_INT(t.p->active_zone, 1);
	ev_sim_advance(t.loop, 29999);
	T_EQ_STR(slz_pick(&t), "b1");
	T_EQ_INT(t.p->active_zone, 1);
	/* The hold timer moves traffic back with no request needed. */
	ev_sim_advance(t.loop, 1);
	T_EQ_INT(t.p->active_zone, 0);

	/* A flap during the hold restarts it from the last recovery. */
	slz_verdict("web/a2", HC_DOWN);
	T_EQ_INT(t.p->active_zone, 1);
	slz_verdict("web/a2", HC_UP);
	ev_sim_advance(t.loop, 20000);
	slz_verdict("web/a2", HC_DOWN);
	ev_sim_advance(t.loop, 5000);
	slz_verdict("web/a2", HC_UP);
	ev_sim_advance(t.loop, 29000);
	T_EQ_INT(t.p->active_zone, 1);
	ev_sim_advance(t.loop, 1000);
	T_EQ_INT(t.p->active_zone, 0);
	/* Failover itself never waits. */
	slz_verdict("web/a1", HC_DOWN);
	T_EQ_INT(t.p->active_zone, 1);
	slz_teardown(&t);
}

static void
test_failback_manual(void)
{
	struct slz t;

	slz_setup(&t, 3, LB_FAILBACK_MANUAL, 2);
	T_EQ_INT(lb_runtime_failback(&slz_rt, "web"), -EALREADY);
	slz_verdict("web/a1", HC_DOWN);
	T_EQ_INT(t.p->active_zone, 1);
	slz_verdict("web/a1", HC_UP);
	ev_sim_advance(t.loop, 3600 * 1000);
	T_EQ_STR(slz_pick(&t), "b1");
	T_EQ_INT(t.p->active_zone, 1);
	T_EQ_INT(lb_runtime_failback(&slz_rt, "web"), 0);
	T_EQ_INT(t.p->active_zone, 0);
	T_EQ_INT(lb_runtime_failback(&slz_rt, "web"), -EALREADY);
	T_EQ_INT(lb_runtime_failback(&slz_rt, "nope"), -ENOENT);
	/* Secondary failing while primary is back: go primary at once. */
	slz_verdict("web/a1", HC_DOWN);
	T_EQ_INT(t.p->active_zone, 1);
	slz_verdict("web/a1", HC_UP);
	slz_verdict("web/b1", HC_DOWN);
	T_EQ_INT(t.p->active_zone, 0);
	slz_teardown(&t);
}

static void
test_min_up_fraction_and_degraded(void)
{
	struct slz t;

	slz_setup(&t, 4, LB_FAILBACK_IMMEDIATE, 1);
	t.pc.min_up_fraction = 100; /* every primary server needed */
	T_EQ_INT(lb_runtime_apply(&slz_rt, &t.conf), 0);
	T_EQ_INT(lb_zone_needed(t.p, 0), 2);
	slz_verdict("web/a2", HC_DOWN);
	T_EQ_INT(t.p->active_zone, 1);
	/* Nothing qualifies: the first zone with a usable server serves. */
	slz_verdict("web/b1", HC_DOWN);
	T_EQ_INT(t.p->active_zone, 0);
	T_EQ_STR(slz_pick(&t), "a1");
	slz_teardown(&t);
}

static void
test_all_down(void)
{
	struct slz t;
	enum lb_pick_err err;

	slz_setup(&t, 3, LB_FAILBACK_IMMEDIATE, 1);
	slz_verdict("web/a1", HC_DOWN);
	slz_verdict("web/a2", HC_DOWN);
	slz_verdict("web/b1", HC_DOWN);
	T_EQ_INT(t.p->active_zone, -1);
	T_EQ_INT(t.p->stats.all_down_events, 1);
	T_ASSERT(lb_pool_pick(t.p, NULL, &err) == NULL);
	T_EQ_INT(err, LB_PICK_NONE_UP);
	/* fail_open: every server, health ignored (admin still honoured). */
	t.pc.all_down = LB_ALL_DOWN_FAIL_OPEN;
	lb_runtime_apply(&slz_rt, &t.conf);
	T_EQ_INT(
	    lb_runtime_set_admin(&slz_rt, "web", "a1", LB_ADMIN_DISABLED), 0);
	T_EQ_STR(slz_pick(&t), "a2");
	T_EQ_STR(slz_pick(&t), "b1");
	T_EQ_INT(t.p->stats.picks_fail_open, 2);
	slz_verdict("web/b1", HC_UP);
	T_EQ_INT(t.p->active_zone, 1);
	T_EQ_STR(slz_pick(&t), "b1");
	slz_teardown(&t);
}

static void
test_slow_start_ramp(void)
{
	struct slz t;
	struct lb_server *a2;
	uint64_t now;
	int i, n = 0;

	slz_setup(&t, 3, LB_FAILBACK_IMMEDIATE, 1);
	t.pc.slow_start_ms = 10000;
	lb_runtime_apply(&slz_rt, &t.conf);
	a2 = lb_pool_server(t.p, "a2");
	/* A first verdict is not a return: full weight. */
	slz_verdict("web/a2", HC_UP);
	T_EQ_INT(lb_server_eff_weight(a2, ev_now_ms(t.loop)), 100);
	slz_verdict("web/a2", HC_DOWN);
	ev_sim_advance(t.loop, 3000);
	slz_verdict("web/a2", HC_UP);
	now = ev_now_ms(t.loop);
	T_EQ_INT(lb_server_eff_weight(a2, now), 10);
	T_EQ_INT(lb_server_eff_weight(a2, now + 5000), 55);
	T_EQ_INT(lb_server_eff_weight(a2, now + 9999), 99);
	T_EQ_INT(lb_server_eff_weight(a2, now + 10000), 100);
	/* In the first second a2 gets about 10/110 of the picks. */
	for (i = 0; i < 1100; i++)
		n += strcmp(slz_pick(&t), "a2") == 0;
	T_ASSERT(n >= 95 && n <= 105);
	ev_sim_advance(t.loop, 10000);
	n = 0;
	for (i = 0; i < 1000; i++)
		n += strcmp(slz_pick(&t), "a2") == 0;
	T_EQ_INT(n, 500);
	/* Leaving maintenance ramps too. */
	lb_runtime_set_admin(&slz_rt, "web", "a2", LB_ADMIN_DISABLED);
	lb_runtime_set_admin(&slz_rt, "web", "a2", LB_ADMIN_READY);
	T_EQ_INT(lb_server_eff_weight(a2, ev_now_ms(t.loop)), 10);
	slz_teardown(&t);
}

static int slz_reports;

static void
slz_hook(const struct ipc_passive *msg)
{
	slz_reports++;
}

static void
test_passive_readmit_without_health(void)
{
	struct slz t;
	struct lb_server *a1;

	slz_setup(&t, 2, LB_FAILBACK_IMMEDIATE, 1);
	lb_runtime_set_passive_hook(&slz_rt, slz_hook);
	t.pc.health_check = NULL;
	lb_runtime_apply(&slz_rt, &t.conf);
	a1 = lb_pool_server(t.p, "a1");
	lb_server_passive_fail(a1, HC_R_CONNECT_REFUSED);
	T_EQ_INT(slz_reports, 1);
	T_ASSERT(!lb_server_usable(a1));
	ev_sim_advance(t.loop, LB_PASSIVE_READMIT_MS - 1);
	T_ASSERT(!lb_server_usable(a1));
	T_EQ_STR(slz_pick(&t), "a2");
	ev_sim_advance(t.loop, 1);
	T_ASSERT(lb_server_usable(a1));

	/* With a health check only the verdict readmits. */
	t.pc.health_check = "web-http";
	lb_runtime_apply(&slz_rt, &t.conf);
	lb_server_passive_fail(a1, HC_R_TIMEOUT);
	ev_sim_advance(t.loop, 10 * LB_PASSIVE_READMIT_MS);
	T_ASSERT(!lb_server_usable(a1));
	slz_verdict("web/a1", HC_UP);
	T_ASSERT(lb_server_usable(a1));
	slz_teardown(&t);
}

static void
test_reload_keeps_state(void)
{
	struct slz t;
	struct lb_server *a1, *a2;

	slz_setup(&t, 3, LB_FAILBACK_IMMEDIATE, 1);
	a1 = lb_pool_server(t.p, "a1");
	a2 = lb_pool_server(t.p, "a2");
	slz_verdict("web/a1", HC_DOWN);
	lb_runtime_set_admin(&slz_rt, "web", "a2", LB_ADMIN_DRAIN);
	lb_server_conn_begin(a2);
	/* Reload: b2 added, a2's weight changed in the file. */
	t.pc.nservers = 4;
	t.sc[1].weight = 50;
	lb_runtime_apply(&slz_rt, &t.conf);
	T_ASSERT(lb_runtime_pool(&slz_rt, "web") == t.p);
	T_ASSERT(lb_pool_server(t.p, "a1") == a1);
	T_EQ_INT(a1->health, HC_DOWN);
	T_EQ_INT(a2->admin, LB_ADMIN_DRAIN);
	T_EQ_INT(a2->active, 1);
	T_EQ_INT(a2->conf_weight, 50);
	T_ASSERT(lb_pool_server(t.p, "b2") != NULL);
	T_EQ_INT(t.p->active_zone, 1);
	/* A pool dropped from the config disappears. */
	t.conf.npools = 0;
	lb_runtime_apply(&slz_rt, &t.conf);
	T_ASSERT(lb_runtime_pool(&slz_rt, "web") == NULL);
	slz_teardown(&t);
}

/* One server of the damping drill: its state machine and its faults. */
struct slz_srv {
	struct hc_sm sm;
	uint64_t fault_until; /* probes fail before this time */
};

/* Send sm's verdict as hc_plane does, probe state included. */
static void
slz_send(const char *target, const struct hc_sm *sm)
{
	struct ipc_verdict v;

	memset(&v, 0, sizeof(v));
	snprintf(v.target, sizeof(v.target), "%s", target);
	v.state = sm->state;
	v.reason = sm->reason;
	v.probe_state = sm->probe;
	lb_runtime_verdict(&slz_rt, &v);
}

/* Start a 3 s fault on a seeded server unless two are faulted already. */
static void
slz_fault(
    struct slz_srv *sv, const struct hc_timing *tm, uint64_t *rng, uint64_t now)
{
	static const char *names[] = { "web/a1", "web/a2", "web/b1" };
	size_t i, k, nfault = 0;
	unsigned bits;

	*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
	k = (size_t)(*rng >> 33) % 3;
	for (i = 0; i < 3; i++)
		nfault += sv[i].fault_until > now;
	if (sv[k].fault_until > now || nfault >= 2)
		return;
	sv[k].fault_until = now + 3000;
	hc_sm_passive(&sv[k].sm, tm, HC_R_CONNECT_REFUSED, true, now, &bits);
	if (bits)
		slz_send(names[k], &sv[k].sm);
}

/*
 * The bad day on the simulated clock: damping on, probes every
 * second (fall 2, rise 2), a seeded fault every 2-4 s on one of three
 * servers for 3 s (never more than two at once), each fault also
 * reported passively. Damping ends up holding servers down while their
 * probes pass; the pool must never refuse a pick while one passes.
 */
static void
test_damping_never_empties_pool(void)
{
	static const char *names[] = { "web/a1", "web/a2", "web/b1" };
	struct hc_timing tm;
	struct slz_srv sv[3];
	struct slz t;
	enum lb_pick_err err;
	uint64_t now, end, next_fault, rng = 13;
	size_t i, held_up = 0, picks = 0;
	bool any;

	slz_setup(&t, 3, LB_FAILBACK_IMMEDIATE, 1);
	t.pc.nzones = 0;
	for (i = 0; i < 3; i++)
		t.sc[i].zone = NULL;
	T_EQ_INT(lb_runtime_apply(&slz_rt, &t.conf), 0);
	hc_timing_default(&tm);
	tm.damping = true;
	now = ev_now_ms(t.loop);
	for (i = 0; i < 3; i++) {
		hc_sm_init(&sv[i].sm, HC_UP, HC_R_OK, now);
		sv[i].fault_until = 0;
		slz_send(names[i], &sv[i].sm);
	}
	end = now + 60000;
	next_fault = now + 2000;
	while (now < end) {
		ev_sim_advance(t.loop, 100);
		now = ev_now_ms(t.loop);
		if (now >= next_fault) {
			slz_fault(sv, &tm, &rng, now);
			next_fault = now + 2000 + (rng >> 40) % 2001;
		}
		any = false;
		for (i = 0; i < 3; i++) {
			unsigned bits = hc_sm_tick(&sv[i].sm, &tm, now);

			if (now % 1000 == 0)
				bits |= hc_sm_probe(&sv[i].sm, &tm,
				    now < sv[i].fault_until ?
				        HC_R_CONNECT_REFUSED :
				        HC_R_OK,
				    now);
			if (bits)
				slz_send(names[i], &sv[i].sm);
			held_up += sv[i].sm.state == HC_DOWN &&
			    sv[i].sm.probe == HC_UP;
			any |= sv[i].sm.probe == HC_UP;
		}
		if (!any)
			continue; /* nothing passes its probes */
		T_ASSERT(lb_pool_pick(t.p, NULL, &err) != NULL);
		picks++;
	}
	/* The drill did what it is for: servers held down while answering. */
	T_ASSERT(held_up > 0);
	T_ASSERT(t.p->stats.fallback_events > 0);
	T_ASSERT(t.p->stats.picks_fallback > 0);
	T_EQ_INT(t.p->stats.picks_none_up, 0);
	T_ASSERT(picks > 500);
	slz_teardown(&t);
}

static const struct test tests[] = {
	TEST(test_failover_immediate_failback),
	TEST(test_failback_hold),
	TEST(test_failback_manual),
	TEST(test_min_up_fraction_and_degraded),
	TEST(test_all_down),
	TEST(test_slow_start_ramp),
	TEST(test_passive_readmit_without_health),
	TEST(test_reload_keeps_state),
	TEST(test_damping_never_empties_pool),
};

TEST_MAIN(tests)
