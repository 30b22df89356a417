/*
 * sim_hc.c - the health engine on the simulated clock.
 *
 * A scripted check type (a test double of the probe source, registered in
 * place of tcp for these tests only) answers each probe after a scripted
 * latency with a scripted result, keyed by the target's port. The engine,
 * its state machine, persistence and reload diff are the real ones; every
 * timing below is exact because the clock is virtual.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <stdlib.h>
#include <unistd.h>

#include "../unit/runner.h"
#include "hc/hc_engine.h"
#include "hc/hc_hooks.h"
#include "hc/hc_persist.h"
#include "lb/lb_conf.h"
#include "lib/conf.h"
#include "lib/statefile.h"
#include "lib/util.h"

#define T0      100000 /* virtual start */
#define MAXPORT 64
#define MAXEV   256

/* ---- the scripted check type ----------------------------------------- */

struct fake_script {
	enum hc_reason reason;
	uint64_t latency_ms;
	bool flap;            /* alternate pass/fail in pairs of probes */
	uint64_t starts[512]; /* probe start times */
	size_t nstarts;
};

/* What the daemon does: the pools declare targets, the engine probes them. */
static void
sim_hc_apply_pools(
    struct hc_engine *e, const struct hc_conf *hc, const struct lb_conf *lb)
{
	struct plane_target *t;
	size_t n = lb_targets(lb, &t);

	hc_engine_apply_conf(e, hc, t, n);
	free(t);
}

static struct fake_script fake[MAXPORT];
static struct ev_loop *fake_loop;

struct fake_probe {
	struct ev_timer tm;
	hc_probe_done_fn *done;
	void *arg;
	struct hc_result r;
};

static void
fake_fire(struct ev_timer *tm, void *arg)
{
	struct fake_probe *p = arg;
	hc_probe_done_fn *done = p->done;
	void *darg = p->arg;
	struct hc_result r = p->r;

	free(p);
	done(&r, darg);
}

static int
fake_start(struct ev_loop *loop, const struct hc_check_conf *cc,
    const struct sockaddr_storage *addr, hc_probe_done_fn *done, void *arg,
    struct hc_probe **out)
{
	unsigned port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
	struct fake_script *s = &fake[port % MAXPORT];
	struct fake_probe *p = xcalloc(1, sizeof(*p));
	enum hc_reason r = s->reason;

	if (s->flap)
		r = (s->nstarts / 2) % 2 ? HC_R_TIMEOUT : HC_R_OK;
	if (s->nstarts < ARRAY_SIZE(s->starts))
		s->starts[s->nstarts] = ev_now_ms(loop);
	s->nstarts++;
	p->done = done;
	p->arg = arg;
	p->r.reason = r;
	p->r.latency_us = (uint32_t)(s->latency_ms * 1000);
	snprintf(
	    p->r.detail, sizeof(p->r.detail), "scripted %s", hc_reason_name(r));
	ev_timer_init(&p->tm, fake_fire, p);
	ev_timer_start(loop, &p->tm, s->latency_ms);
	*out = (struct hc_probe *)p;
	return 0;
}

static void
fake_cancel(struct hc_probe *probe)
{
	struct fake_probe *p = (struct fake_probe *)probe;

	ev_timer_stop(fake_loop, &p->tm);
	free(p);
}

static const struct hc_check_type fake_type = {
	.name = "fake",
	.start = fake_start,
	.cancel = fake_cancel,
};

static void
fake_set(unsigned port, enum hc_reason r, uint64_t latency_ms)
{
	fake[port].reason = r;
	fake[port].latency_ms = latency_ms;
	fake[port].flap = false;
}

/* ---- verdict capture ---------------------------------------------------- */

struct vev {
	char name[IPC_NAME_MAX];
	enum hc_state state;
	enum hc_reason reason;
	uint64_t at;
};

static struct vev evs[MAXEV];
static size_t nevs;

static void
capture(const struct hc_target *t, void *arg)
{
	struct vev *v;

	if (nevs >= MAXEV)
		return;
	v = &evs[nevs++];
	snprintf(v->name, sizeof(v->name), "%s", t->name);
	v->state = t->sm.state;
	v->reason = t->sm.reason;
	v->at = ev_now_ms(fake_loop);
}

/* The k-th verdict event for name (0-based), or NULL. */
static const struct vev *
ev_of(const char *name, size_t k)
{
	for (size_t i = 0; i < nevs; i++)
		if (strcmp(evs[i].name, name) == 0 && k-- == 0)
			return &evs[i];
	return NULL;
}

static size_t
count_of(const char *name)
{
	size_t n = 0;

	while (ev_of(name, n) != NULL)
		n++;
	return n;
}

/* ---- set-up ------------------------------------------------------------ */

struct rig {
	struct ev_loop *loop;
	struct hc_engine *eng;
	struct hc_conf conf;
	bool bound;
};

static void
rig_bind(struct hc_conf *c, const char *yaml)
{
	struct conf_errors errs;

	conf_errors_init(&errs);
	if (conf_bind_text(&hc_conf_schema, "sim.yaml", yaml, strlen(yaml), c,
	        &errs) != 0) {
		conf_errors_print(&errs, stdout);
		T_ASSERT(!"config did not bind");
	}
	conf_errors_fini(&errs);
}

static void
rig_start(struct rig *r, const char *state_dir, const char *yaml)
{
	memset(r, 0, sizeof(*r));
	r->loop = fake_loop = ev_loop_new_sim(T0);
	r->eng = hc_engine_new(r->loop, state_dir, 42);
	hc_engine_set_type(r->eng, HC_TYPE_TCP, &fake_type);
	hc_engine_on_verdict(r->eng, capture, NULL);
	if (yaml != NULL) {
		rig_bind(&r->conf, yaml);
		r->bound = true;
		hc_engine_apply_conf(r->eng, &r->conf, NULL, 0);
	}
}

static void
rig_stop(struct rig *r)
{
	hc_engine_free(r->eng);
	ev_loop_free(r->loop);
	if (r->bound)
		conf_schema_free(&hc_conf_schema, &r->conf);
	fake_loop = NULL;
}

static uint64_t
now(const struct rig *r)
{
	return ev_now_ms(r->loop);
}

#define NODAMP_JIT0                                                            \
	"defaults: { jitter: 0, damping: false, down_interval: 5s }\n"

/* ---- scenarios ----------------------------------------------------------- */

static void
test_rise_fall_exact(void)
{
	struct rig r;
	uint64_t t0, s;
	const struct vev *v;

	fake_set(1, HC_R_OK, 10);
	rig_start(&r, NULL,
	    NODAMP_JIT0
	    "checks:\n"
	    "  - { name: a, type: tcp, address: \"127.0.0.1:1\" }\n");
	T_EQ_INT(nevs, 1); /* the starting verdict: unknown */
	T_EQ_INT(evs[0].state, HC_UNKNOWN);
	ev_sim_advance(r.loop, 999);
	T_ASSERT(fake[1].nstarts >= 1); /* probed within the first second */
	t0 = fake[1].starts[0];
	T_ASSERT(t0 >= T0 && t0 < T0 + 1000);
	ev_sim_advance(r.loop, 2000);
	/* pass at t0+10, fast 250 ms, pass at t0+270: up (rise 2). */
	T_EQ_INT(fake[1].starts[1], t0 + 260);
	v = ev_of("a", 1);
	T_ASSERT(v != NULL && v->state == HC_UP);
	T_EQ_INT(v->at, t0 + 270);
	T_EQ_INT(fake[1].starts[2], t0 + 1270); /* then every interval */
	/* Black-hole it: each probe costs the whole timeout. */
	fake_set(1, HC_R_TIMEOUT, 1000);
	s = fake[1].starts[fake[1].nstarts - 1] + 1010;
	ev_sim_advance(r.loop, s - now(&r));
	T_EQ_INT(fake[1].starts[fake[1].nstarts - 1], s);
	ev_sim_advance(r.loop, 5000);
	v = ev_of("a", 2);
	T_ASSERT(v != NULL && v->state == HC_DOWN);
	T_EQ_INT(v->reason, HC_R_TIMEOUT);
	/* fail at s+1000, fast 250 ms, fail at s+2250: down. */
	T_EQ_INT(v->at, s + 2250);
	/* Dead just after its last pass (s-1000): out 3.25 s later at worst. */
	T_ASSERT(v->at - (s - 1000) <= 3250);
	fake_set(1, HC_R_OK, 10);
	ev_sim_advance(r.loop, s + 2250 + 5000 + 300 - now(&r));
	/* While down, the down interval (5 s); then fast while rising. */
	T_EQ_INT(fake[1].starts[fake[1].nstarts - 2], s + 2250 + 5000);
	v = ev_of("a", 3);
	T_ASSERT(v != NULL && v->state == HC_UP);
	T_EQ_INT(v->at, s + 2250 + 5000 + 10 + 250 + 10);
	rig_stop(&r);
}

static void
test_jitter_and_spread(void)
{
	struct rig r;
	struct buf y;
	uint64_t gap, lo = UINT64_MAX, hi = 0;

	buf_init(&y);
	buf_puts(&y, "defaults: { jitter: 10 }\nchecks:\n");
	for (int i = 1; i <= 40; i++)
		buf_printf(&y,
		    "  - { name: t%d, type: tcp, address: \"127.0.0.1:%d\" }\n",
		    i, i);
	for (int i = 1; i <= 40; i++)
		fake_set((unsigned)i, HC_R_OK, 10);
	rig_start(&r, NULL, y.data);
	ev_sim_advance(r.loop, 999);
	for (int i = 1; i <= 40; i++) {
		T_ASSERT(fake[i].nstarts >= 1);
		lo = MIN(lo, fake[i].starts[0]);
		hi = MAX(hi, fake[i].starts[0]);
	}
	/* Spread over the first second, not all at once. */
	T_ASSERT(hi - lo > 500);
	ev_sim_advance(r.loop, 200000);
	lo = UINT64_MAX;
	hi = 0;
	for (size_t k = 3; k < fake[1].nstarts && k < 200; k++) {
		gap = fake[1].starts[k] - fake[1].starts[k - 1];
		lo = MIN(lo, gap);
		hi = MAX(hi, gap);
	}
	/* 10 ms probe + 1000 ms +-10 %. */
	T_ASSERT(lo >= 910 && hi <= 1110);
	T_ASSERT(hi - lo > 100);
	buf_fini(&y);
	rig_stop(&r);
}

static void
test_damping_hold_and_release(void)
{
	struct rig r;
	struct hc_target *t;
	const struct vev *v;
	uint64_t rel;
	size_t k;

	fake_set(2, HC_R_OK, 0);
	fake[2].flap = true; /* ok ok fail fail ok ok ... */
	rig_start(&r, NULL,
	    "defaults: { jitter: 0, fast_interval: 1s, damping: true }\n"
	    "checks:\n"
	    "  - { name: f, type: tcp, address: \"127.0.0.1:2\" }\n");
	t = hc_engine_find(r.eng, "f");
	/* Run until damping holds it down. */
	for (k = 0; k < 60 && !t->sm.damped; k++)
		ev_sim_advance(r.loop, 1000);
	T_ASSERT(t->sm.damped);
	T_EQ_INT(t->sm.transitions, 4); /* the 4th flap crossed 3000 */
	v = ev_of("f", count_of("f") - 1);
	T_EQ_INT(v->state, HC_DOWN);
	T_EQ_INT(v->reason, HC_R_DAMPED);
	/* Stop flapping: it passes from now on, but stays held down. */
	fake_set(2, HC_R_OK, 0);
	ev_sim_advance(r.loop, 5000);
	T_EQ_INT(t->sm.raw, HC_UP);
	T_EQ_INT(t->sm.state, HC_DOWN);
	rel = hc_sm_release_at(&t->sm, &t->cc->timing);
	T_ASSERT(rel > now(&r) + 30000); /* more than a half-life away */
	k = count_of("f");
	ev_sim_advance(r.loop, rel - 1 - now(&r));
	T_EQ_INT(count_of("f"), k);
	ev_sim_advance(r.loop, 1);
	/* Released exactly when the penalty reached damp_reuse. */
	v = ev_of("f", k);
	T_ASSERT(v != NULL && v->state == HC_UP);
	T_EQ_INT(v->at, rel);
	T_ASSERT(hc_sm_penalty(&t->sm, &t->cc->timing, rel) <= 750.001);
	rig_stop(&r);
}

/* An lb config with one pool "web" of n servers on ports 10.. */
static void
pool_conf(struct lb_conf *lb, struct lb_pool_conf *p, struct lb_server_conf *sv,
    size_t n)
{
	static char *names[] = { "a", "b", "c" };

	memset(lb, 0, sizeof(*lb));
	memset(p, 0, sizeof(*p));
	memset(sv, 0, n * sizeof(*sv));
	p->name = "web";
	p->health_check = "tpl";
	p->servers = sv;
	p->nservers = n;
	lb->pools = p;
	lb->npools = 1;
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&sv[i].address;

		sv[i].name = names[i];
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)(10 + i));
		sin->sin_addr.s_addr = htonl(0x7f000001);
	}
}

static void
test_passive_ejection_last_healthy(void)
{
	struct lb_server_conf sv[2];
	struct lb_pool_conf p;
	struct lb_conf lb;
	struct rig r;
	struct hc_target *a, *b;
	const struct vev *v;
	uint64_t at;

	fake_set(10, HC_R_OK, 5);
	fake_set(11, HC_R_OK, 5);
	rig_start(&r, NULL, NULL);
	rig_bind(&r.conf,
	    NODAMP_JIT0 "checks:\n"
	                "  - { name: tpl, type: tcp }\n");
	r.bound = true;
	pool_conf(&lb, &p, sv, 2);
	sim_hc_apply_pools(r.eng, &r.conf, &lb);
	a = hc_engine_find(r.eng, "web/a");
	b = hc_engine_find(r.eng, "web/b");
	T_ASSERT(a != NULL && b != NULL);
	ev_sim_advance(r.loop, 3000);
	T_EQ_INT(a->sm.state, HC_UP);
	T_EQ_INT(b->sm.state, HC_UP);
	/* One passive report (passive_fails 1) ejects at once. */
	at = now(&r);
	hc_engine_passive(r.eng, "web/a", HC_R_CONNECT_REFUSED);
	v = ev_of("web/a", count_of("web/a") - 1);
	T_EQ_INT(v->state, HC_DOWN);
	T_EQ_INT(v->reason, HC_R_PASSIVE_EJECTED);
	T_EQ_INT(v->at, at);
	/* The pool's last healthy member is never ejected by reports. */
	hc_engine_passive(r.eng, "web/b", HC_R_TIMEOUT);
	hc_engine_passive(r.eng, "web/b", HC_R_TIMEOUT);
	T_EQ_INT(b->sm.state, HC_UP);
	T_EQ_INT(r.eng->stats.passive_refused, 2);
	hc_engine_passive(r.eng, "nope/x", HC_R_TIMEOUT);
	T_EQ_INT(r.eng->stats.passive_unknown, 1);
	/* Re-probed at the fast interval; back only after rise passes. */
	ev_sim_advance(r.loop, 250);
	T_ASSERT(fake[10].starts[fake[10].nstarts - 1] > at);
	T_ASSERT(fake[10].starts[fake[10].nstarts - 1] <= at + 250);
	T_EQ_INT(a->sm.state, HC_DOWN);
	ev_sim_advance(r.loop, 300);
	T_EQ_INT(a->sm.state, HC_UP);
	T_EQ_INT(a->sm.ok_run, 2);
	rig_stop(&r);
}

static char *
tmpdir(void)
{
	char tmpl[] = "/tmp/sim_hc.XXXXXX";

	T_ASSERT(mkdtemp(tmpl) != NULL);
	return xstrdup(tmpl);
}

static void
rmdir_all(char *dir)
{
	char *p = xasprintf("%s/%s", dir, HC_STATE_FILE);

	unlink(p);
	free(p);
	rmdir(dir);
	free(dir);
}

#define TWO_CHECKS                                                             \
	NODAMP_JIT0 "checks:\n"                                                \
	            "  - { name: up1, type: tcp, address: \"127.0.0.1:3\" }\n" \
	            "  - { name: dn1, type: tcp, address: \"127.0.0.1:4\" }\n"

static void
test_restart_from_persisted_state(void)
{
	char *dir = tmpdir();
	struct rig r;
	struct buf f;
	const struct vev *v;
	uint64_t t;

	fake_set(3, HC_R_OK, 5);
	fake_set(4, HC_R_CONNECT_REFUSED, 5);
	rig_start(&r, dir, TWO_CHECKS);
	ev_sim_advance(r.loop, 1000);
	T_EQ_INT(hc_engine_find(r.eng, "up1")->sm.state, HC_UP);
	T_EQ_INT(hc_engine_find(r.eng, "dn1")->sm.state, HC_DOWN);
	/* Written (coalesced) within HC_PERSIST_MS of the transitions. */
	t = now(&r);
	ev_sim_advance(r.loop, HC_PERSIST_MS);
	buf_init(&f);
	T_EQ_INT(statefile_read(dir, HC_STATE_FILE, &f), 0);
	T_ASSERT(strstr(f.data, "\"up1\":{\"state\":\"up\"") != NULL);
	T_ASSERT(strstr(f.data, "\"dn1\":{\"state\":\"down\"") != NULL);
	T_ASSERT(r.eng->stats.persist_writes >= 1);
	(void)t;
	buf_fini(&f);
	rig_stop(&r);

	/* Restart: both start in their last state, then are re-probed. */
	nevs = 0;
	fake[3].nstarts = fake[4].nstarts = 0;
	rig_start(&r, dir, TWO_CHECKS);
	v = ev_of("up1", 0);
	T_ASSERT(v != NULL && v->state == HC_UP && v->reason == HC_R_RESTORED);
	v = ev_of("dn1", 0);
	T_ASSERT(
	    v != NULL && v->state == HC_DOWN && v->reason == HC_R_RESTORED);
	ev_sim_advance(r.loop, 999);
	T_EQ_INT(fake[3].nstarts >= 1, 1);
	T_EQ_INT(fake[4].nstarts >= 1, 1);
	ev_sim_advance(r.loop, 30000);
	/* No flap: neither ever published another state. */
	T_EQ_INT(count_of("up1"), 1);
	T_EQ_INT(count_of("dn1"), 1);
	T_EQ_INT(hc_engine_find(r.eng, "up1")->sm.reason, HC_R_OK);
	T_EQ_INT(hc_engine_find(r.eng, "dn1")->sm.reason, HC_R_CONNECT_REFUSED);
	rig_stop(&r);

	/* A damaged file is a cold start, never a crash or a wrong state. */
	T_EQ_INT(statefile_write(dir, HC_STATE_FILE, "{\"targets\": [", 13), 0);
	nevs = 0;
	rig_start(&r, dir, TWO_CHECKS);
	T_EQ_INT(ev_of("up1", 0)->state, HC_UNKNOWN);
	T_ASSERT(r.eng->stats.restore_errors >= 1);
	rig_stop(&r);

	/* A verdict written longer ago than HC_RESTORE_MAX_AGE_MS says
	 * nothing about now: a cold start, counted. So is a file without
	 * written_ms (the old format). The bytes of a libfyaml crash are
	 * only a damaged file. */
	{
		static const char *const old[] = {
			"{\"version\":1,\"written_ms\":1000,\"targets\":"
			"{\"up1\":{\"state\":\"up\"}}}",
			"{\"version\":1,\"targets\":{\"up1\":{\"state\":"
			"\"up\"}}}",
			": ? z:\t>",
		};

		for (size_t i = 0; i < 3; i++) {
			T_EQ_INT(statefile_write(dir, HC_STATE_FILE, old[i],
			             strlen(old[i])),
			    0);
			nevs = 0;
			rig_start(&r, dir, TWO_CHECKS);
			T_EQ_INT(ev_of("up1", 0)->state, HC_UNKNOWN);
			T_ASSERT(r.eng->stats.restore_stale +
			        r.eng->stats.restore_errors ==
			    1);
			T_EQ_INT(r.eng->stats.restore_stale, i < 2 ? 1 : 0);
			rig_stop(&r);
		}
	}
	rmdir_all(dir);
}

static void
test_reload_keeps_state(void)
{
	struct hc_conf c2;
	struct rig r;
	struct hc_target *a, *b, *c;
	size_t na;

	fake_set(5, HC_R_OK, 500); /* long probes: reload hits one in flight */
	fake_set(6, HC_R_OK, 5);
	fake_set(7, HC_R_OK, 5);
	rig_start(&r, NULL,
	    NODAMP_JIT0
	    "checks:\n"
	    "  - { name: a, type: tcp, address: \"127.0.0.1:5\" }\n"
	    "  - { name: b, type: tcp, address: \"127.0.0.1:6\" }\n");
	ev_sim_advance(r.loop, 3000);
	a = hc_engine_find(r.eng, "a");
	T_EQ_INT(a->sm.state, HC_UP);
	T_EQ_INT(hc_engine_find(r.eng, "b")->sm.state, HC_UP);
	while (a->probe == NULL)
		ev_sim_advance(r.loop, 1);
	na = count_of("a");
	/* a unchanged (hooks differ: not part of the probe), b moves. */
	rig_bind(&c2,
	    NODAMP_JIT0
	    "checks:\n"
	    "  - { name: a, type: tcp, address: \"127.0.0.1:5\","
	    " hooks: { exec: \"true\" } }\n"
	    "  - { name: b, type: tcp, address: \"127.0.0.1:7\" }\n"
	    "  - { name: c, type: tcp, address: \"127.0.0.1:6\" }\n");
	hc_engine_apply_conf(r.eng, &c2, NULL, 0);
	conf_schema_free(&hc_conf_schema, &r.conf);
	r.conf = c2;
	a = hc_engine_find(r.eng, "a");
	b = hc_engine_find(r.eng, "b");
	c = hc_engine_find(r.eng, "c");
	T_ASSERT(a != NULL && b != NULL && c != NULL);
	T_EQ_INT(a->sm.state, HC_UP);
	T_ASSERT(a->cc == &c2.checks[0]); /* re-pointed at the new config */
	/* The probe in flight read the old config: restarted at once. */
	T_ASSERT(a->probe == NULL);
	T_EQ_INT(a->next_probe_ms, now(&r));
	ev_sim_advance(r.loop, 0);
	T_ASSERT(a->probe != NULL);
	T_EQ_INT(count_of("a"), na);       /* no verdict: nothing changed */
	T_EQ_INT(b->sm.state, HC_UNKNOWN); /* definition changed */
	T_EQ_INT(ev_of("b", count_of("b") - 1)->state, HC_UNKNOWN);
	T_EQ_INT(c->sm.state, HC_UNKNOWN);
	ev_sim_advance(r.loop, 2000);
	T_EQ_INT(b->sm.state, HC_UP);
	T_EQ_INT(c->sm.state, HC_UP);
	T_EQ_INT(fake[7].nstarts >= 2, 1);
	/* Removing a target drops it. */
	rig_bind(&c2,
	    NODAMP_JIT0
	    "checks:\n"
	    "  - { name: a, type: tcp, address: \"127.0.0.1:5\" }\n");
	hc_engine_apply_conf(r.eng, &c2, NULL, 0);
	conf_schema_free(&hc_conf_schema, &r.conf);
	r.conf = c2;
	T_EQ_INT(r.eng->ntargets, 1);
	T_ASSERT(hc_engine_find(r.eng, "b") == NULL);
	ev_sim_advance(r.loop, 2000);
	rig_stop(&r);
}

static void
test_api_and_metrics(void)
{
	struct lb_server_conf sv[1];
	struct lb_pool_conf p;
	struct lb_conf lb;
	struct rig r;
	struct buf out;

	fake_set(10, HC_R_BAD_STATUS, 3);
	rig_start(&r, NULL, NULL);
	rig_bind(
	    &r.conf, NODAMP_JIT0 "checks:\n  - { name: tpl, type: tcp }\n");
	r.bound = true;
	pool_conf(&lb, &p, sv, 1);
	sim_hc_apply_pools(r.eng, &r.conf, &lb);
	ev_sim_advance(r.loop, 3000);
	buf_init(&out);
	T_EQ_INT(hc_api_query(r.eng, "GET", "/v1/checks", &out), 200);
	T_ASSERT(strstr(out.data, "\"name\":\"web/a\"") != NULL);
	T_ASSERT(strstr(out.data, "\"state\":\"down\"") != NULL);
	buf_reset(&out);
	T_EQ_INT(hc_api_query(r.eng, "GET", "/v1/checks/web%2Fa", &out), 200);
	T_ASSERT(strstr(out.data, "\"reason\":\"bad_status\"") != NULL);
	T_ASSERT(
	    strstr(out.data, "\"detail\":\"scripted bad_status\"") != NULL);
	T_ASSERT(strstr(out.data, "\"transitions\":[{") != NULL);
	T_ASSERT(strstr(out.data, "\"latency_us\":3000") != NULL);
	T_ASSERT(strstr(out.data, "\"fall\":2") != NULL);
	buf_reset(&out);
	T_EQ_INT(hc_api_query(r.eng, "GET", "/v1/checks/web/a", &out), 200);
	buf_reset(&out);
	T_EQ_INT(hc_api_query(r.eng, "GET", "/v1/checks/nope", &out), 404);
	T_ASSERT(strstr(out.data, "\"error\"") != NULL);
	buf_reset(&out);
	T_EQ_INT(hc_api_query(r.eng, "POST", "/v1/checks", &out), 405);
	buf_reset(&out);
	hc_metrics_render(r.eng, &out);
	T_ASSERT(strstr(out.data,
	             "haven_hc_target_state{target=\"web/a\","
	             "state=\"down\"} 1") != NULL);
	T_ASSERT(strstr(out.data,
	             "haven_hc_target_state{target=\"web/a\","
	             "state=\"up\"} 0") != NULL);
	T_ASSERT(strstr(out.data,
	             "haven_hc_probe_errors_total{reason="
	             "\"bad_status\"}") != NULL);
	T_ASSERT(strstr(out.data,
	             "haven_hc_probe_duration_seconds_count{"
	             "target=\"web/a\"}") != NULL);
	buf_fini(&out);
	rig_stop(&r);
}

/* ---- real loop: the tcp check and the hooks, bounded in time ---------- */

static int
listener(uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	T_ASSERT(fd != -1);
	T_ASSERT(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	T_ASSERT(listen(fd, 64) == 0);
	T_ASSERT(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Run the real loop until *state == want or ms pass. */
static bool
run_until(struct ev_loop *loop, const enum hc_state *state, enum hc_state want,
    uint64_t ms)
{
	uint64_t end = util_mono_ms() + ms;

	while (*state != want && util_mono_ms() < end)
		ev_run_once(loop, 50);
	return *state == want;
}

static void
test_real_tcp_check(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct hc_engine *e = hc_engine_new(loop, NULL, 1);
	struct conf_errors errs;
	struct hc_conf c;
	struct hc_target *t;
	uint16_t port;
	int fd = listener(&port);
	char *y = xasprintf("defaults: { interval: 100ms, fast_interval: 50ms,"
	                    " down_interval: 100ms, timeout: 500ms }\n"
	                    "checks:\n  - { name: real, type: tcp,"
	                    " address: \"127.0.0.1:%u\" }\n",
	    port);

	conf_errors_init(&errs);
	T_EQ_INT(
	    conf_bind_text(&hc_conf_schema, "t", y, strlen(y), &c, &errs), 0);
	hc_engine_apply_conf(e, &c, NULL, 0);
	t = hc_engine_find(e, "real");
	T_ASSERT(run_until(loop, &t->sm.state, HC_UP, 3000));
	T_EQ_INT(hc_target_probe(t, 0)->reason, HC_R_OK);
	close(fd); /* now refused */
	T_ASSERT(run_until(loop, &t->sm.state, HC_DOWN, 3000));
	T_EQ_INT(t->sm.reason, HC_R_CONNECT_REFUSED);
	hc_engine_free(e);
	ev_loop_free(loop);
	conf_schema_free(&hc_conf_schema, &c);
	conf_errors_fini(&errs);
	free(y);
}

/* A webhook receiver: answers 500 to the first request, 204 after. */
static void __dead
webhook_server(int lfd, const char *out)
{
	char buf[4096];
	ssize_t n;
	FILE *f;

	for (int i = 0; i < 2; i++) {
		int c = accept(lfd, NULL, NULL);
		size_t len = 0;

		if (c == -1)
			_exit(1);
		/* Read until the JSON body's closing brace. */
		while (len < sizeof(buf) - 1 &&
		    (n = read(c, buf + len, sizeof(buf) - 1 - len)) > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			if (strstr(buf, "\r\n\r\n") && buf[len - 1] == '}')
				break;
		}
		if (i == 1 && (f = fopen(out, "w")) != NULL) {
			fwrite(buf, 1, len, f);
			fclose(f);
		}
		dprintf(c,
		    i == 0 ? "HTTP/1.1 500 Oops\r\n\r\n" :
		             "HTTP/1.1 204 No Content\r\n\r\n");
		close(c);
	}
	_exit(0);
}

static void
test_real_hooks(void)
{
	char *dir = tmpdir();
	char *hookf = xasprintf("%s/exec.out", dir);
	char *webf = xasprintf("%s/web.out", dir);
	struct ev_loop *loop = ev_loop_new();
	struct hc_hooks *h = hc_hooks_new(loop);
	struct hook_alarm_conf hc = { 0 }, slow = { 0 };
	struct hc_hook_event ev = { 0 };
	uint64_t end = util_mono_ms() + 8000;
	const struct hook_stats *st;
	struct buf b;
	uint16_t port;
	int lfd = listener(&port);
	pid_t srv;

	if ((srv = fork()) == 0)
		webhook_server(lfd, webf);
	close(lfd);
	snprintf(ev.target, sizeof(ev.target), "web/a");
	ev.state = HC_DOWN;
	ev.prev = HC_UP;
	ev.reason = HC_R_TIMEOUT;
	snprintf(ev.detail, sizeof(ev.detail), "timeout after 1000 ms");
	slow.exec = "sleep 10";
	slow.timeout_ms = 200;
	hc.exec = xasprintf("echo \"$HAVEN_TARGET $HAVEN_STATE "
	                    "$HAVEN_PREV_STATE $HAVEN_REASON\" > %s",
	    hookf);
	hc.webhook = xasprintf("http://127.0.0.1:%u/alert", port);
	hc.timeout_ms = 2000;
	hc.retries = 2;
	/* The hung hook is killed at its timeout; the next ones still run. */
	hc_hooks_notify(h, &slow, &ev);
	hc_hooks_notify(h, &hc, &ev);
	T_EQ_INT(hc_hooks_pending(h), 3);
	while (hc_hooks_pending(h) > 0 && util_mono_ms() < end)
		ev_run_once(loop, 50);
	st = hc_hooks_stats(h);
	T_EQ_INT(hc_hooks_pending(h), 0);
	T_EQ_INT(st->timeouts, 1);
	T_EQ_INT(st->failed, 1);
	T_EQ_INT(st->ok, 2);
	T_EQ_INT(st->retries, 1); /* the 500 was retried */
	buf_init(&b);
	T_EQ_INT(statefile_read(dir, "exec.out", &b), 0);
	T_EQ_STR(b.data, "web/a down up timeout\n");
	buf_reset(&b);
	T_EQ_INT(statefile_read(dir, "web.out", &b), 0);
	T_ASSERT(strstr(b.data, "POST /alert HTTP/1.1\r\n") == b.data);
	T_ASSERT(
	    strstr(b.data, "\"target\":\"web/a\",\"state\":\"down\"") != NULL);
	buf_fini(&b);
	waitpid(srv, NULL, 0);
	hc_hooks_free(h);
	ev_loop_free(loop);
	unlink(hookf);
	unlink(webf);
	rmdir_all(dir);
	free(hookf);
	free(webf);
	free(hc.exec);
	free(hc.webhook);
}

static const struct test tests[] = {
	TEST(test_rise_fall_exact),
	TEST(test_jitter_and_spread),
	TEST(test_damping_hold_and_release),
	TEST(test_passive_ejection_last_healthy),
	TEST(test_restart_from_persisted_state),
	TEST(test_reload_keeps_state),
	TEST(test_api_and_metrics),
	TEST(test_real_tcp_check),
	TEST(test_real_hooks),
};

TEST_MAIN(tests)
