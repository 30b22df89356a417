/*
 * Unit tests for hc_state.c (the pure verdict state machine) and for the
 * `health:` schema's inheritance and comparison rules (hc_conf.c).
 */
#include <netinet/in.h>

#include "hc/hc_conf.h"
#include "hc/hc_state.h"
#include "lib/conf.h"
#include "runner.h"

static struct hc_timing
timing(void)
{
	struct hc_timing t;

	hc_timing_default(&t);
	/* Off by default (availability first); these cases test its rules. */
	t.damping = true;
	return t;
}

static void
feed(struct hc_sm *sm, const struct hc_timing *t, enum hc_reason r, int n,
    uint64_t *now)
{
	for (int i = 0; i < n; i++) {
		*now += 1000;
		hc_sm_probe(sm, t, r, *now);
	}
}

static void
test_rise_fall_from_unknown(void)
{
	struct hc_timing t = timing();
	struct hc_sm sm;
	unsigned bits;

	hc_sm_init(&sm, HC_UNKNOWN, HC_R_OK, 0);
	T_EQ_INT(hc_sm_probe(&sm, &t, HC_R_OK, 10), 0);
	T_EQ_INT(sm.state, HC_UNKNOWN);
	bits = hc_sm_probe(&sm, &t, HC_R_OK, 20);
	T_ASSERT(bits & HC_SM_STATE);
	T_EQ_INT(sm.state, HC_UP);
	T_EQ_INT(sm.since_ms, 20);
	/* One failure is not enough; a pass in between resets the count. */
	T_EQ_INT(hc_sm_probe(&sm, &t, HC_R_TIMEOUT, 30) & HC_SM_STATE, 0);
	T_EQ_INT(hc_sm_probe(&sm, &t, HC_R_OK, 40) & HC_SM_STATE, 0);
	T_EQ_INT(hc_sm_probe(&sm, &t, HC_R_TIMEOUT, 50) & HC_SM_STATE, 0);
	T_EQ_INT(sm.state, HC_UP);
	bits = hc_sm_probe(&sm, &t, HC_R_CONNECT_REFUSED, 60);
	T_ASSERT(bits & HC_SM_STATE);
	T_EQ_INT(sm.state, HC_DOWN);
	T_EQ_INT(sm.reason, HC_R_CONNECT_REFUSED);
	/* While down the reason follows the latest failure. */
	hc_sm_probe(&sm, &t, HC_R_TIMEOUT, 70);
	T_EQ_INT(sm.reason, HC_R_TIMEOUT);
}

static void
test_unknown_goes_down_after_fall(void)
{
	struct hc_timing t = timing();
	struct hc_sm sm;

	t.fall = 3;
	hc_sm_init(&sm, HC_UNKNOWN, HC_R_OK, 0);
	hc_sm_probe(&sm, &t, HC_R_TIMEOUT, 1);
	hc_sm_probe(&sm, &t, HC_R_TIMEOUT, 2);
	T_EQ_INT(sm.state, HC_UNKNOWN);
	hc_sm_probe(&sm, &t, HC_R_TIMEOUT, 3);
	T_EQ_INT(sm.state, HC_DOWN);
	/* A first verdict is not a flap. */
	T_EQ_INT(sm.transitions, 0);
	T_ASSERT(hc_sm_penalty(&sm, &t, 3) == 0);
}

static void
test_interval_choice(void)
{
	struct hc_timing t = timing();
	struct hc_sm sm;

	t.interval_ms = 2000;
	t.fast_interval_ms = 100;
	t.down_interval_ms = 5000;
	hc_sm_init(&sm, HC_UNKNOWN, HC_R_OK, 0);
	T_EQ_INT(hc_sm_base_delay(&sm, &t), 100); /* unknown: changing */
	hc_sm_probe(&sm, &t, HC_R_OK, 1);
	hc_sm_probe(&sm, &t, HC_R_OK, 2);
	T_EQ_INT(hc_sm_base_delay(&sm, &t), 2000); /* stable up */
	hc_sm_probe(&sm, &t, HC_R_TIMEOUT, 3);
	T_EQ_INT(hc_sm_base_delay(&sm, &t), 100); /* going down */
	hc_sm_probe(&sm, &t, HC_R_TIMEOUT, 4);
	T_EQ_INT(hc_sm_base_delay(&sm, &t), 5000); /* stable down */
	hc_sm_probe(&sm, &t, HC_R_OK, 5);
	T_EQ_INT(hc_sm_base_delay(&sm, &t), 100); /* coming back */
}

static void
test_jitter_bounds(void)
{
	struct hc_timing t = timing();
	struct hc_sm sm;
	uint64_t d, lo = UINT64_MAX, hi = 0;

	T_EQ_INT(hc_sm_jitter(1000, 10, 0), 900);
	T_EQ_INT(hc_sm_jitter(1000, 10, 200), 1100);
	T_EQ_INT(hc_sm_jitter(1000, 0, 12345), 1000);
	T_EQ_INT(hc_sm_jitter(5, 10, 7), 5); /* span rounds to 0 */
	hc_sm_init(&sm, HC_UP, HC_R_RESTORED, 0);
	t.jitter_pct = 20;
	for (uint32_t r = 0; r < 100000; r += 7) {
		d = hc_sm_next_delay(&sm, &t, r * 2654435761u);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	T_ASSERT(lo >= 800 && hi <= 1200);
	T_ASSERT(lo < 820 && hi > 1180); /* and the spread is used */
}

static void
test_damping_decay(void)
{
	struct hc_timing t = timing();
	struct hc_sm sm;
	double p;

	hc_sm_init(&sm, HC_UP, HC_R_OK, 0);
	hc_sm_probe(&sm, &t, HC_R_TIMEOUT, 1000);
	hc_sm_probe(&sm, &t, HC_R_TIMEOUT, 1000);
	T_EQ_INT(sm.state, HC_DOWN);
	p = hc_sm_penalty(&sm, &t, 1000);
	T_ASSERT(p > 999.9 && p < 1000.1);
	p = hc_sm_penalty(&sm, &t, 31000); /* one half-life */
	T_ASSERT(p > 499.9 && p < 500.1);
	p = hc_sm_penalty(&sm, &t, 61000);
	T_ASSERT(p > 249.9 && p < 250.1);
}

/* Flap the raw verdict quickly: up, down, up, down... */
static void
test_damping_suppress_and_release(void)
{
	struct hc_timing t = timing();
	struct hc_sm sm;
	uint64_t now = 0, rel;
	unsigned bits;

	hc_sm_init(&sm, HC_UP, HC_R_OK, 0);
	feed(&sm, &t, HC_R_TIMEOUT, 2, &now); /* 1000 */
	feed(&sm, &t, HC_R_OK, 2, &now);      /* ~1955 */
	feed(&sm, &t, HC_R_TIMEOUT, 2, &now); /* ~2870 */
	T_ASSERT(!sm.damped);
	feed(&sm, &t, HC_R_OK, 1, &now);
	now += 1000;
	bits = hc_sm_probe(&sm, &t, HC_R_OK, now); /* 4th flap: > 3000 */
	T_ASSERT(sm.damped);
	T_ASSERT(bits & HC_SM_DAMP);
	T_EQ_INT(sm.raw, HC_UP);
	T_EQ_INT(sm.state, HC_DOWN);
	T_EQ_INT(sm.reason, HC_R_DAMPED);
	rel = hc_sm_release_at(&sm, &t);
	/* penalty ~3700 -> 750 takes log2(3700/750) ~ 2.3 half-lives. */
	T_ASSERT(rel > now + 65000 && rel < now + 72000);
	/* Probes passing while damped change nothing. */
	T_EQ_INT(hc_sm_probe(&sm, &t, HC_R_OK, now + 1000) & HC_SM_STATE, 0);
	T_EQ_INT(hc_sm_tick(&sm, &t, rel - 1), 0);
	T_ASSERT(sm.damped);
	bits = hc_sm_tick(&sm, &t, rel);
	T_ASSERT(bits & HC_SM_STATE);
	T_ASSERT(bits & HC_SM_DAMP);
	T_ASSERT(!sm.damped);
	T_EQ_INT(sm.state, HC_UP);
	T_EQ_INT(sm.reason, HC_R_OK);
	T_EQ_INT(hc_sm_release_at(&sm, &t), UINT64_MAX);
}

static void
test_damping_off(void)
{
	struct hc_timing t = timing();
	struct hc_sm sm;
	uint64_t now = 0;

	t.damping = false;
	hc_sm_init(&sm, HC_UP, HC_R_OK, 0);
	for (int i = 0; i < 10; i++) {
		feed(&sm, &t, HC_R_TIMEOUT, 2, &now);
		feed(&sm, &t, HC_R_OK, 2, &now);
	}
	T_ASSERT(!sm.damped);
	T_EQ_INT(sm.state, HC_UP);
	T_EQ_INT(sm.transitions, 20);
}

/* Damping is off unless asked for: HAProxy and keepalived have none. */
static void
test_damping_default_off(void)
{
	struct hc_timing t;

	hc_timing_default(&t);
	T_ASSERT(!t.damping);
}

/*
 * The probe state says what the probes alone give: a damped target that
 * passes them is "up by its probes", and the change is published (bit
 * HC_SM_PROBE) although the verdict stays down.
 */
static void
test_probe_state_under_damping(void)
{
	struct hc_timing t = timing();
	struct hc_sm sm;
	uint64_t now = 0;
	unsigned bits;

	hc_sm_init(&sm, HC_UP, HC_R_OK, 0);
	T_EQ_INT(hc_sm_probe_state(&sm), HC_UP);
	feed(&sm, &t, HC_R_TIMEOUT, 2, &now);
	feed(&sm, &t, HC_R_OK, 2, &now);
	feed(&sm, &t, HC_R_TIMEOUT, 2, &now);
	T_EQ_INT(sm.probe, HC_DOWN);
	feed(&sm, &t, HC_R_OK, 1, &now);
	now += 1000;
	bits = hc_sm_probe(&sm, &t, HC_R_OK, now);
	T_ASSERT(sm.damped);
	T_EQ_INT(sm.state, HC_DOWN);
	T_EQ_INT(sm.probe, HC_UP);
	T_ASSERT(bits & HC_SM_PROBE);
	/* Probes fail while damped: verdict unchanged, probe state moves. */
	now += 1000;
	bits = hc_sm_probe(&sm, &t, HC_R_TIMEOUT, now);
	T_EQ_INT(bits, 0);
	now += 1000;
	bits = hc_sm_probe(&sm, &t, HC_R_TIMEOUT, now);
	T_EQ_INT(bits, HC_SM_PROBE);
	T_EQ_INT(sm.probe, HC_DOWN);
	T_EQ_INT(sm.state, HC_DOWN);
	T_EQ_INT(sm.reason, HC_R_DAMPED);
}

/* Passively ejected: up by its probes until one of them fails. */
static void
test_probe_state_after_ejection(void)
{
	struct hc_timing t = timing();
	struct hc_sm sm;
	unsigned bits;

	t.damping = false;
	hc_sm_init(&sm, HC_UP, HC_R_OK, 0);
	T_EQ_INT(hc_sm_passive(&sm, &t, HC_R_RESET, true, 1, &bits),
	    HC_SM_P_EJECTED);
	T_EQ_INT(sm.state, HC_DOWN);
	T_EQ_INT(sm.probe, HC_UP);
	T_EQ_INT(bits & HC_SM_PROBE, 0);
	bits = hc_sm_probe(&sm, &t, HC_R_CONNECT_REFUSED, 2);
	T_EQ_INT(bits, HC_SM_PROBE);
	T_EQ_INT(sm.probe, HC_DOWN);
}

static void
test_passive_eject_and_readmit(void)
{
	struct hc_timing t = timing();
	struct hc_sm sm;
	unsigned bits;

	t.passive_fails = 3;
	hc_sm_init(&sm, HC_UP, HC_R_OK, 0);
	T_EQ_INT(hc_sm_passive(&sm, &t, HC_R_RESET, true, 1, &bits),
	    HC_SM_P_COUNTED);
	T_EQ_INT(
	    hc_sm_passive(&sm, &t, HC_R_OK, true, 2, &bits), HC_SM_P_RESET);
	T_EQ_INT(hc_sm_passive(&sm, &t, HC_R_RESET, true, 3, &bits),
	    HC_SM_P_COUNTED);
	T_EQ_INT(hc_sm_passive(&sm, &t, HC_R_RESET, true, 4, &bits),
	    HC_SM_P_COUNTED);
	/* Threshold reached, but the pool's last healthy member stays. */
	T_EQ_INT(hc_sm_passive(&sm, &t, HC_R_RESET, false, 5, &bits),
	    HC_SM_P_REFUSED);
	T_EQ_INT(sm.state, HC_UP);
	T_EQ_INT(hc_sm_passive(&sm, &t, HC_R_TIMEOUT, true, 6, &bits),
	    HC_SM_P_EJECTED);
	T_ASSERT(bits & HC_SM_STATE);
	T_EQ_INT(sm.state, HC_DOWN);
	T_EQ_INT(sm.reason, HC_R_PASSIVE_EJECTED);
	T_ASSERT(hc_sm_changing(&sm)); /* fast re-probe */
	T_EQ_INT(hc_sm_base_delay(&sm, &t), t.fast_interval_ms);
	/* Reports while down are ignored; readmission needs rise passes. */
	T_EQ_INT(hc_sm_passive(&sm, &t, HC_R_RESET, true, 7, &bits),
	    HC_SM_P_IGNORED);
	hc_sm_probe(&sm, &t, HC_R_OK, 8);
	T_EQ_INT(sm.state, HC_DOWN);
	hc_sm_probe(&sm, &t, HC_R_OK, 9);
	T_EQ_INT(sm.state, HC_UP);
	T_ASSERT(!sm.passive_ejected);
	T_EQ_INT(sm.passive_run, 0);
}

static void
test_passive_confirmed_by_probes(void)
{
	struct hc_timing t = timing();
	struct hc_sm sm;
	unsigned bits;

	hc_sm_init(&sm, HC_UP, HC_R_OK, 0);
	T_EQ_INT(hc_sm_passive(&sm, &t, HC_R_CONNECT_REFUSED, true, 1, &bits),
	    HC_SM_P_EJECTED);
	hc_sm_probe(&sm, &t, HC_R_CONNECT_REFUSED, 2);
	T_ASSERT(sm.passive_ejected);
	hc_sm_probe(&sm, &t, HC_R_CONNECT_REFUSED, 3);
	/* fall failures confirm: back to down_interval, a probe reason. */
	T_ASSERT(!sm.passive_ejected);
	T_EQ_INT(sm.reason, HC_R_CONNECT_REFUSED);
	T_EQ_INT(
	    hc_sm_base_delay(&sm, &t), t.interval_ms); /* down: 0 = interval */
}

static void
test_passive_off(void)
{
	struct hc_timing t = timing();
	struct hc_sm sm;
	unsigned bits;

	t.passive_fails = 0;
	hc_sm_init(&sm, HC_UP, HC_R_OK, 0);
	for (int i = 0; i < 5; i++)
		T_EQ_INT(hc_sm_passive(&sm, &t, HC_R_RESET, true, 1, &bits),
		    HC_SM_P_IGNORED);
	T_EQ_INT(sm.state, HC_UP);
}

static void
test_restored_down_needs_rise(void)
{
	struct hc_timing t = timing();
	struct hc_sm sm;

	t.rise = 3;
	hc_sm_init(&sm, HC_DOWN, HC_R_RESTORED, 0);
	hc_sm_probe(&sm, &t, HC_R_OK, 1);
	hc_sm_probe(&sm, &t, HC_R_OK, 2);
	T_EQ_INT(sm.state, HC_DOWN);
	T_EQ_INT(sm.reason, HC_R_RESTORED);
	hc_sm_probe(&sm, &t, HC_R_OK, 3);
	T_EQ_INT(sm.state, HC_UP);
	/* Restored down -> up is a real transition: it counts. */
	T_EQ_INT(sm.transitions, 1);
}

static const char conf_text[] =
    "defaults: { interval: 3s, fall: 4, damping: false }\n"
    "checks:\n"
    "  - { name: a, type: tcp, address: \"127.0.0.1:80\" }\n"
    "  - { name: b, type: tcp, address: \"127.0.0.1:81\", interval: 500ms,"
    " damping: true, expect_status: [204, \"300-302\"] }\n"
    "  - { name: tpl, type: http, path: /healthz }\n";

static void
test_conf_inherit(void)
{
	struct conf_errors errs;
	struct hc_conf c;
	const struct hc_check_conf *a, *b, *tpl;

	conf_errors_init(&errs);
	if (conf_bind_text(&hc_conf_schema, "t.yaml", conf_text,
	        sizeof(conf_text) - 1, &c, &errs) != 0) {
		conf_errors_print(&errs, stdout);
		T_ASSERT(!"bind failed");
	}
	a = hc_conf_check(&c, "a");
	b = hc_conf_check(&c, "b");
	tpl = hc_conf_check(&c, "tpl");
	T_ASSERT(a && b && tpl);
	T_EQ_INT(a->timing.interval_ms, 3000);
	T_EQ_INT(a->timing.down_interval_ms, 3000); /* 0: the interval */
	T_EQ_INT(a->timing.fall, 4);
	T_EQ_INT(a->timing.rise, 2);
	T_ASSERT(!a->timing.damping);
	T_EQ_INT(b->timing.interval_ms, 500);
	T_EQ_INT(b->timing.down_interval_ms, 500);
	T_EQ_INT(b->timing.fall, 4);
	T_ASSERT(b->timing.damping);
	T_EQ_INT(b->timing.set, HC_T_INTERVAL | HC_T_DAMPING);
	T_EQ_INT(b->nexpect_status, 2);
	T_EQ_INT(b->expect_status[2], 300);
	T_EQ_INT(b->expect_status[3], 302);
	T_EQ_INT(a->nexpect_status, 1);
	T_EQ_INT(a->expect_status[1], 399);
	T_ASSERT(a->has_address && !tpl->has_address);
	T_ASSERT(!hc_check_conf_same(a, b));
	T_ASSERT(hc_check_conf_same(a, a));
	conf_schema_free(&hc_conf_schema, &c);
	conf_errors_fini(&errs);
}

static void
test_conf_errors(void)
{
	static const char bad[] =
	    "checks:\n"
	    "  - { name: x, type: tcp, address: \"127.0.0.1\" }\n"
	    "  - { name: y, type: dns, address: \"127.0.0.1:53\" }\n"
	    "  - { name: z, type: tcp, address: \"127.0.0.1:1\","
	    " damping: true, damp_reuse: 5000 }\n";
	struct conf_errors errs;
	struct hc_conf c;

	conf_errors_init(&errs);
	T_EQ_INT(conf_bind_text(&hc_conf_schema, "t.yaml", bad, sizeof(bad) - 1,
	             &c, &errs),
	    -1);
	conf_errors_print(&errs, stdout);
	T_EQ_INT(errs.n, 3); /* no port, no query_name, reuse >= suppress */
	conf_errors_fini(&errs);
}

static void
test_conf_same_ignores_hooks(void)
{
	struct hc_check_conf a, b;
	uint32_t st[2] = { 200, 399 };

	memset(&a, 0, sizeof(a));
	hc_timing_default(&a.timing);
	a.expect_status = st;
	a.nexpect_status = 1;
	a.has_address = true;
	a.address.ss_family = AF_INET;
	((struct sockaddr_in *)&a.address)->sin_port = htons(80);
	b = a;
	b.hooks.exec = "true";
	b.name = "other";
	T_ASSERT(hc_check_conf_same(&a, &b));
	((struct sockaddr_in *)&b.address)->sin_port = htons(81);
	T_ASSERT(!hc_check_conf_same(&a, &b));
	b = a;
	b.timing.rise = 3;
	T_ASSERT(!hc_check_conf_same(&a, &b));
	b = a;
	b.path = "/x";
	T_ASSERT(!hc_check_conf_same(&a, &b));
}

/* The worst case from a failure to the down verdict: an interval (plus
 * jitter) to the next probe, fall timeouts, fast_interval between them. */
static void
test_detect_ms(void)
{
	struct hc_check_conf k[1];
	struct hc_conf c = { .checks = k, .nchecks = 1 };

	memset(k, 0, sizeof(k));
	k[0].name = "web";
	hc_timing_default(&k[0].timing);
	/* Defaults: 1 s interval, 10 % jitter, fall 2, 250 ms fast, 1 s
	 * timeout: 1.1 s + 0.275 s + 2 s. */
	T_EQ_INT(hc_conf_check_detect_ms(&c, "web"), 3375);
	k[0].timing.jitter_pct = 0;
	k[0].timing.fall = 3;
	k[0].timing.timeout_ms = 500;
	T_EQ_INT(hc_conf_check_detect_ms(&c, "web"), 1000 + 500 + 1500);
	T_EQ_INT(hc_conf_check_detect_ms(&c, "nope"), 0);
}

static const struct test tests[] = {
	TEST(test_detect_ms),
	TEST(test_rise_fall_from_unknown),
	TEST(test_unknown_goes_down_after_fall),
	TEST(test_interval_choice),
	TEST(test_jitter_bounds),
	TEST(test_damping_decay),
	TEST(test_damping_suppress_and_release),
	TEST(test_damping_off),
	TEST(test_damping_default_off),
	TEST(test_probe_state_under_damping),
	TEST(test_probe_state_after_ejection),
	TEST(test_passive_eject_and_readmit),
	TEST(test_passive_confirmed_by_probes),
	TEST(test_passive_off),
	TEST(test_restored_down_needs_rise),
	TEST(test_conf_inherit),
	TEST(test_conf_errors),
	TEST(test_conf_same_ignores_hooks),
};

TEST_MAIN(tests)
