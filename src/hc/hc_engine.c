/*
 * hc_engine.c - targets, probe scheduling, verdict publishing and the reload
 * diff. See hc_engine.h for the ownership rules; the verdict rules
 * themselves live in the pure hc_state.c, persistence in hc_persist.c.
 *
 * Scheduling: a target has at most one probe in flight. The next probe is
 * armed when the previous one completes, after the delay hc_state picks
 * (fast while changing, down_interval while down, interval otherwise, each
 * jittered), so a black-holed target costs one timeout per probe and probes
 * never pile up. New targets are spread uniformly over the first second.
 */
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc/hc_engine.h"
#include "hc/hc_hooks.h"
#include "hc/hc_persist.h"
#include "lib/log.h"
#include "lib/util.h"

static void hc_engine_probe_cb(struct ev_timer *tm, void *arg);
static void hc_engine_damp_cb(struct ev_timer *tm, void *arg);
static void hc_engine_persist_cb(struct ev_timer *tm, void *arg);

static uint32_t
hc_engine_rand(struct hc_engine *e)
{
	/* xorshift64*: plenty for spreading probes, and reproducible. */
	e->rng ^= e->rng >> 12;
	e->rng ^= e->rng << 25;
	e->rng ^= e->rng >> 27;
	return (uint32_t)((e->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

uint64_t
hc_engine_wall_ms(const struct hc_engine *e)
{
	return (uint64_t)((int64_t)ev_now_ms(e->loop) + e->wall_off);
}

struct hc_engine *
hc_engine_new(struct ev_loop *loop, const char *state_dir, uint64_t seed)
{
	struct hc_engine *e = xcalloc(1, sizeof(*e));

	e->loop = loop;
	e->rng = seed != 0 ? seed : (util_mono_us() | 1);
	e->wall_off = (int64_t)util_wall_ms() - (int64_t)ev_now_ms(loop);
	/* The plane installs the other types: tests link only what they use. */
	e->types[HC_TYPE_TCP] = &hc_tcp_type;
	ev_timer_init(&e->persist_timer, hc_engine_persist_cb, e);
	e->hookq = hc_hooks_new(loop);
	if (state_dir != NULL) {
		e->state_dir = xstrdup(state_dir);
		hc_persist_load(e);
	}
	return e;
}

void
hc_engine_set_type(
    struct hc_engine *e, int type, const struct hc_check_type *ct)
{
	if (type >= 0 && (size_t)type < ARRAY_SIZE(e->types))
		e->types[type] = ct;
}

void
hc_engine_on_verdict(struct hc_engine *e, hc_engine_verdict_fn *fn, void *arg)
{
	e->on_verdict = fn;
	e->on_verdict_arg = arg;
}

static void
hc_engine_cancel_probe(struct hc_target *t)
{
	const struct hc_check_type *ct = t->eng->types[t->cc->type];

	if (t->probe != NULL && ct != NULL)
		ct->cancel(t->probe);
	t->probe = NULL;
}

static void
hc_engine_target_free(struct hc_target *t)
{
	hc_engine_cancel_probe(t);
	ev_timer_stop(t->eng->loop, &t->probe_timer);
	ev_timer_stop(t->eng->loop, &t->damp_timer);
	free(t);
}

void
hc_engine_free(struct hc_engine *e)
{
	if (e == NULL)
		return;
	if (e->persist_dirty)
		(void)hc_engine_persist(e);
	for (size_t i = 0; i < e->ntargets; i++)
		hc_engine_target_free(e->targets[i]);
	e->ntargets = 0;
	namemap_fini(&e->byname);
	ev_timer_stop(e->loop, &e->persist_timer);
	hc_hooks_free(e->hookq);
	free(e->targets);
	free(e->restore);
	free(e->state_dir);
	free(e);
}

/* Per passive report and per API request: a hash lookup, not a search. */
struct hc_target *
hc_engine_find(const struct hc_engine *e, const char *name)
{
	return namemap_get(&e->byname, name);
}

const struct hc_probe_rec *
hc_target_probe(const struct hc_target *t, size_t n)
{
	if (n >= t->nprobes || n >= HC_HIST_PROBES)
		return NULL;
	return &t->probes[(t->nprobes - 1 - n) % HC_HIST_PROBES];
}

const struct hc_trans_rec *
hc_target_trans(const struct hc_target *t, size_t n)
{
	if (n >= t->ntrans || n >= HC_HIST_TRANS)
		return NULL;
	return &t->trans[(t->ntrans - 1 - n) % HC_HIST_TRANS];
}

/* ---- deriving targets from the config ---------------------------------- */

static bool
hc_engine_spec_add(struct hc_target_spec **v, size_t *n, size_t *cap,
    const char *owner, const char *name, const struct hc_check_conf *cc,
    const struct sockaddr_storage *addr)
{
	struct hc_target_spec *s;
	int len;

	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	s = &(*v)[*n];
	memset(s, 0, sizeof(*s));
	len = snprintf(s->name, sizeof(s->name), "%s", name);
	if (len < 0 || (size_t)len >= sizeof(s->name))
		return false;
	if (owner != NULL)
		snprintf(s->pool, sizeof(s->pool), "%s", owner);
	s->cc = cc;
	s->addr = *addr;
	(*n)++;
	return true;
}

size_t
hc_engine_targets(const struct hc_conf *hc, const struct plane_target *decl,
    size_t ndecl, struct hc_target_spec **out)
{
	const struct hc_check_conf *cc;
	size_t n = 0, cap = 0;
	/* Checks by name: thousands of declared targets may name them. */
	struct namemap checks;

	*out = NULL;
	namemap_init(&checks);
	for (size_t i = 0; hc != NULL && i < hc->nchecks; i++) {
		cc = &hc->checks[i];
		/* Names are unique (conf_bind); values are only read. */
		if (ndecl > 0)
			(void)namemap_add(&checks, cc->name, (void *)cc);
		if (!cc->has_address)
			continue; /* a template: used by declared targets */
		if (!hc_engine_spec_add(
		        out, &n, &cap, NULL, cc->name, cc, &cc->address))
			log_warn("target name too long", "check=%s",
			    log_q(cc->name));
	}
	for (size_t i = 0; hc != NULL && i < ndecl; i++) {
		const struct plane_target *t = &decl[i];

		/* The config check refused unknown templates. */
		if (t->check == NULL ||
		    (cc = namemap_get(&checks, t->check)) == NULL)
			continue;
		if (!hc_engine_spec_add(
		        out, &n, &cap, t->owner, t->name, cc, &t->addr))
			log_warn("target name too long", "target=%s",
			    log_q(t->name));
	}
	namemap_fini(&checks);
	return n;
}

/* ---- publishing -------------------------------------------------------- */

static void
hc_engine_persist_mark(struct hc_engine *e)
{
	if (e->state_dir == NULL)
		return;
	e->persist_dirty = true;
	/* Coalesce: one write per HC_PERSIST_MS however many transitions. */
	if (!ev_timer_active(&e->persist_timer))
		ev_timer_start(e->loop, &e->persist_timer, HC_PERSIST_MS);
}

static void
hc_engine_persist_cb(struct ev_timer *tm, void *arg)
{
	(void)hc_engine_persist(arg);
}

int
hc_engine_persist(struct hc_engine *e)
{
	int rc;

	if (e->state_dir == NULL || !e->persist_dirty)
		return 0;
	e->persist_dirty = false;
	if ((rc = hc_persist_write(e)) < 0) {
		e->stats.persist_errors++;
		log_warn("cannot persist health state", "dir=%s err=%s",
		    log_q(e->state_dir), log_q(strerror(-rc)));
		return rc;
	}
	e->stats.persist_writes++;
	return 0;
}

static void
hc_engine_send(struct hc_target *t)
{
	struct hc_engine *e = t->eng;

	e->stats.verdicts_sent++;
	if (e->on_verdict != NULL)
		e->on_verdict(t, e->on_verdict_arg);
}

static void
hc_engine_hooks(struct hc_target *t, enum hc_state prev, const char *detail)
{
	struct hc_hook_event ev;

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.target, sizeof(ev.target), "%s", t->name);
	ev.state = t->sm.state;
	ev.prev = prev;
	ev.reason = t->sm.reason;
	snprintf(ev.detail, sizeof(ev.detail), "%s", detail);
	ev.since_ms = t->since_wall_ms;
	hc_hooks_notify(t->eng->hookq, &t->cc->hooks, &ev);
	hc_hooks_notify(t->eng->hookq, t->eng->hooks, &ev);
}

/* The published verdict changed (bits from hc_state): tell everyone. */
static void
hc_engine_publish(
    struct hc_target *t, enum hc_state prev, unsigned bits, const char *detail)
{
	struct hc_engine *e = t->eng;
	struct hc_trans_rec *tr;

	if (!(bits & (HC_SM_STATE | HC_SM_DAMP))) {
		/*
		 * Same verdict, but the probes changed their mind about a
		 * target held down (damped, passively ejected): planes that
		 * fall back on such targets must know. Not a transition.
		 */
		if (bits & HC_SM_PROBE) {
			log_info("check probe state",
			    "target=%s state=%s reason=%s probes=%s",
			    log_q(t->name), hc_state_name(t->sm.state),
			    hc_reason_name(t->sm.reason),
			    hc_state_name(t->sm.probe));
			hc_engine_send(t);
		}
		return;
	}
	if (bits & HC_SM_STATE)
		t->since_wall_ms = hc_engine_wall_ms(e);
	tr = &t->trans[t->ntrans++ % HC_HIST_TRANS];
	tr->at_ms = hc_engine_wall_ms(e);
	tr->from = (uint8_t)prev;
	tr->to = (uint8_t)t->sm.state;
	tr->reason = (uint8_t)t->sm.reason;
	e->stats.transitions++;
	log_msg(t->sm.state == HC_UP ? LOG_NOTICE : LOG_WARN, "check state",
	    "target=%s from=%s to=%s reason=%s detail=%s penalty=%.0f",
	    log_q(t->name), hc_state_name(prev), hc_state_name(t->sm.state),
	    hc_reason_name(t->sm.reason), log_q(detail),
	    hc_sm_penalty(&t->sm, &t->cc->timing, ev_now_ms(e->loop)));
	hc_engine_send(t);
	hc_engine_hooks(t, prev, detail);
	hc_engine_persist_mark(e);
}

/* Keep the damping timer on the release time while damped. */
static void
hc_engine_damp_arm(struct hc_target *t)
{
	uint64_t at = hc_sm_release_at(&t->sm, &t->cc->timing);
	uint64_t now = ev_now_ms(t->eng->loop);

	if (at == UINT64_MAX) {
		ev_timer_stop(t->eng->loop, &t->damp_timer);
		return;
	}
	ev_timer_start(t->eng->loop, &t->damp_timer, at > now ? at - now : 0);
}

static void
hc_engine_damp_cb(struct ev_timer *tm, void *arg)
{
	struct hc_target *t = arg;
	enum hc_state prev = t->sm.state;
	unsigned bits;

	bits = hc_sm_tick(&t->sm, &t->cc->timing, ev_now_ms(t->eng->loop));
	hc_engine_publish(t, prev, bits, "flap damping released");
	hc_engine_damp_arm(t);
}

/* ---- probing ----------------------------------------------------------- */

static void
hc_engine_schedule(struct hc_target *t, uint64_t delay)
{
	t->next_probe_ms = ev_now_ms(t->eng->loop) + delay;
	ev_timer_start(t->eng->loop, &t->probe_timer, delay);
}

static void
hc_engine_record(struct hc_target *t, const struct hc_result *r)
{
	struct hc_probe_rec *pr = &t->probes[t->nprobes++ % HC_HIST_PROBES];

	pr->at_ms = hc_engine_wall_ms(t->eng);
	pr->latency_us = r->latency_us;
	pr->reason = (uint8_t)r->reason;
	snprintf(pr->detail, sizeof(pr->detail), "%s", r->detail);
	t->last_latency_us = r->latency_us;
	mx_hist_observe_us(&t->latency, r->latency_us);
	if (r->reason == HC_R_OK) {
		t->probes_ok++;
	} else {
		t->probes_failed++;
		if ((unsigned)r->reason < HC__REASON_COUNT)
			t->eng->stats.probe_errors[r->reason]++;
	}
}

/* Feed a probe result to the state machine and arm the next probe. */
static void
hc_engine_result(struct hc_target *t, const struct hc_result *r)
{
	struct hc_engine *e = t->eng;
	enum hc_state prev = t->sm.state;
	enum hc_reason why = r->reason;
	unsigned bits;

	if ((unsigned)why >= HC__REASON_COUNT)
		why = HC_R_INTERNAL;
	hc_engine_record(t, r);
	bits = hc_sm_probe(&t->sm, &t->cc->timing, why, ev_now_ms(e->loop));
	hc_engine_publish(t, prev, bits, r->detail);
	hc_engine_damp_arm(t);
	hc_engine_schedule(
	    t, hc_sm_next_delay(&t->sm, &t->cc->timing, hc_engine_rand(e)));
}

static void
hc_engine_probe_done(const struct hc_result *r, void *arg)
{
	struct hc_target *t = arg;

	t->probe = NULL;
	hc_engine_result(t, r);
}

static void
hc_engine_probe_cb(struct ev_timer *tm, void *arg)
{
	struct hc_target *t = arg;
	struct hc_engine *e = t->eng;
	const struct hc_check_type *ct = e->types[t->cc->type];
	struct hc_result r;
	int rc;

	if (t->probe != NULL)
		return; /* still in flight: its completion re-arms */
	if (ct == NULL) {
		e->stats.probe_no_type++;
		hc_result_set(&r, HC_R_INTERNAL, ev_now_us(e->loop), e->loop,
		    "no %s check type in this build",
		    hc_conf_type_name(t->cc->type));
		hc_engine_result(t, &r);
		return;
	}
	rc = ct->start(
	    e->loop, t->cc, &t->addr, hc_engine_probe_done, t, &t->probe);
	if (rc < 0) {
		t->probe = NULL;
		e->stats.probe_start_failed++;
		hc_result_set(&r, HC_R_INTERNAL, ev_now_us(e->loop), e->loop,
		    "cannot start probe: %s", strerror(-rc));
		hc_engine_result(t, &r);
	}
}

/* ---- passive reports ----------------------------------------------------- */

/* True unless t is its pool's last up member (the pool must keep one). */
static bool
hc_engine_may_eject(const struct hc_engine *e, const struct hc_target *t)
{
	if (t->pool[0] == '\0')
		return true;
	for (size_t i = 0; i < e->ntargets; i++) {
		const struct hc_target *o = e->targets[i];

		if (o != t && o->sm.state == HC_UP &&
		    strcmp(o->pool, t->pool) == 0)
			return true;
	}
	return false;
}

void
hc_engine_passive(struct hc_engine *e, const char *target, enum hc_reason kind)
{
	struct hc_target *t = hc_engine_find(e, target);
	enum hc_state prev;
	enum hc_sm_passive res;
	unsigned bits;

	if (t == NULL) {
		e->stats.passive_unknown++;
		return;
	}
	prev = t->sm.state;
	if (kind != HC_R_OK)
		t->passive_reports++;
	res = hc_sm_passive(&t->sm, &t->cc->timing, kind,
	    hc_engine_may_eject(e, t), ev_now_ms(e->loop), &bits);
	if (res == HC_SM_P_REFUSED) {
		t->passive_refused++;
		e->stats.passive_refused++;
		log_info("passive ejection refused",
		    "target=%s why=last_healthy_in_pool", log_q(t->name));
		return;
	}
	if (res != HC_SM_P_EJECTED)
		return;
	t->passive_ejections++;
	hc_engine_publish(t, prev, bits, hc_reason_name(kind));
	hc_engine_damp_arm(t);
	/* Re-probe at the fast interval; readmission is the probes' call. */
	if (t->probe == NULL)
		hc_engine_schedule(t,
		    hc_sm_next_delay(
		        &t->sm, &t->cc->timing, hc_engine_rand(e)));
}

/* ---- targets and the reload diff ---------------------------------------- */

/* Start t from its restored verdict or unknown; first probe within 1 s. */
static void
hc_engine_target_start(struct hc_target *t, bool restore)
{
	struct hc_engine *e = t->eng;
	const struct hc_restore *r =
	    restore ? hc_persist_find(e, t->name) : NULL;
	uint64_t now = ev_now_ms(e->loop);
	uint64_t span = MIN((uint64_t)HC_FIRST_MS, t->cc->timing.interval_ms);

	if (r != NULL) {
		hc_sm_init(&t->sm, r->state, HC_R_RESTORED, now);
		t->since_wall_ms = r->since_ms;
	} else {
		hc_sm_init(&t->sm, HC_UNKNOWN, HC_R_NOT_PROBED, now);
		t->since_wall_ms = hc_engine_wall_ms(e);
	}
	ev_timer_stop(e->loop, &t->damp_timer);
	hc_engine_schedule(t, span > 0 ? hc_engine_rand(e) % span : 0);
}

static struct hc_target *
hc_engine_target_new(struct hc_engine *e, const struct hc_target_spec *s)
{
	struct hc_target *t = xcalloc(1, sizeof(*t));

	t->eng = e;
	memcpy(t->name, s->name, sizeof(t->name));
	memcpy(t->pool, s->pool, sizeof(t->pool));
	t->cc = s->cc;
	t->addr = s->addr;
	ev_timer_init(&t->probe_timer, hc_engine_probe_cb, t);
	ev_timer_init(&t->damp_timer, hc_engine_damp_cb, t);
	hc_engine_target_start(t, e->restore != NULL);
	/* Subscribers learn every target's starting verdict. */
	hc_engine_send(t);
	return t;
}

/* Re-point an existing target at its new definition. */
static void
hc_engine_target_update(struct hc_target *t, const struct hc_target_spec *s)
{
	bool same = hc_check_conf_same(t->cc, s->cc) &&
	    hc_conf_addr_same(&t->addr, &s->addr);
	bool inflight = t->probe != NULL;
	enum hc_state prev = t->sm.state;

	/* The old config dies after apply: no probe may keep reading it. */
	hc_engine_cancel_probe(t);
	t->cc = s->cc;
	t->addr = s->addr;
	memcpy(t->pool, s->pool, sizeof(t->pool));
	if (same) {
		if (inflight)
			hc_engine_schedule(t, 0);
		return;
	}
	log_info("check definition changed", "target=%s", log_q(t->name));
	hc_engine_target_start(t, false);
	hc_engine_publish(t, prev, prev != t->sm.state ? HC_SM_STATE : 0,
	    "definition changed");
}

static int
hc_engine_cmp_spec(const void *a, const void *b)
{
	const struct hc_target_spec *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int
hc_engine_cmp_target(const void *a, const void *b)
{
	const struct hc_target *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

void
hc_engine_apply(struct hc_engine *e, const struct hc_target_spec *specs,
    size_t n, const struct hook_alarm_conf *hooks)
{
	const struct hc_target_spec **sv = xcalloc(n + 1, sizeof(*sv));
	struct hc_target **nv = xcalloc(n + 1, sizeof(*nv));
	struct hc_target *t;
	size_t nn = 0;

	for (size_t i = 0; i < n; i++)
		sv[i] = &specs[i];
	qsort(sv, n, sizeof(*sv), hc_engine_cmp_spec);
	e->hooks = hooks;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(sv[i]->name, sv[i - 1]->name) == 0) {
			e->stats.targets_dropped++;
			log_warn("duplicate target name", "target=%s",
			    log_q(sv[i]->name));
			continue;
		}
		if ((t = hc_engine_find(e, sv[i]->name)) != NULL)
			hc_engine_target_update(t, sv[i]);
		else {
			t = hc_engine_target_new(e, sv[i]);
			/* Cannot fail: find said absent, t is not NULL. */
			(void)namemap_add(&e->byname, t->name, t);
		}
		t->seen = true;
		nv[nn++] = t;
	}
	for (size_t i = 0; i < e->ntargets; i++) {
		if (e->targets[i]->seen)
			continue;
		/* Subscribers must forget it, not keep its last verdict. */
		e->targets[i]->gone = true;
		hc_engine_send(e->targets[i]);
		(void)namemap_del(&e->byname, e->targets[i]->name);
		hc_engine_target_free(e->targets[i]);
	}
	for (size_t i = 0; i < nn; i++)
		nv[i]->seen = false;
	qsort(nv, nn, sizeof(*nv), hc_engine_cmp_target);
	free(e->targets);
	e->targets = nv;
	e->ntargets = nn;
	free(sv);
	/* The state file speaks for the first config only. */
	free(e->restore);
	e->restore = NULL;
	e->nrestore = 0;
	hc_engine_persist_mark(e);
}

void
hc_engine_apply_conf(struct hc_engine *e, const struct hc_conf *hc,
    const struct plane_target *decl, size_t ndecl)
{
	struct hc_target_spec *specs;
	size_t n = hc_engine_targets(hc, decl, ndecl, &specs);

	hc_engine_apply(e, specs, n, hc != NULL ? &hc->hooks : NULL);
	free(specs);
}
