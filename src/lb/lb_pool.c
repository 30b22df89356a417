/*
 * lb_pool.c - pools and servers: building them from config and keeping their
 * state across reloads, selection, connection accounting, passive failures,
 * admin state and slow start. Zone choice is lb_zone.c's, the order among
 * candidates the balance_*.c files'.
 *
 * A server takes new traffic when it is healthy (last verdict up or not yet
 * known, and not ejected by passive failures), admin-ready and of non-zero
 * weight; only such servers count towards a zone's health. UNKNOWN counts as
 * up because the hc plane restores last-known state at start and corrects it
 * within one probe: treating it as down would answer 503 to every request
 * until then.
 *
 * Health policy never takes capacity that answers: a server held down by
 * flap damping or passive ejection while its active probes pass is a
 * standby. It takes no traffic while its zone has the servers it needs,
 * and is used again beside the usable ones when the zone would be short
 * (the pool is then in fallback, visible in the API and /metrics), and by
 * a retry that finds no untried usable server. Only servers whose probes
 * fail, or that the operator disabled, are ever out entirely.
 *
 * Passive failures eject a server at once in this worker, except the pool's
 * last usable one (ejecting it turns a partial outage into a total one), and
 * are reported to hc, which ejects it in every worker and alone readmits it
 * with an UP verdict. Pools without health_check have no hc target to send
 * that verdict: their servers come back after LB_PASSIVE_READMIT_MS.
 */
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb/lb_pool_priv.h"
#include "lib/log.h"

uint64_t
lb_pool_now(const struct lb_pool *p)
{
	struct ev_loop *loop = lb_runtime_loop(p->rt);

	return loop != NULL ? ev_now_ms(loop) : 0;
}

/* Copy pc without its servers, duplicating every string. */
static void
lb_pool_conf_copy(struct lb_pool_conf *dst, const struct lb_pool_conf *pc)
{
	size_t i;

	*dst = *pc;
	dst->name = xstrdup(pc->name);
	dst->hash_header = pc->hash_header ? xstrdup(pc->hash_header) : NULL;
	dst->health_check = pc->health_check ? xstrdup(pc->health_check) : NULL;
	dst->all_down_body =
	    xstrdup(pc->all_down_body ? pc->all_down_body : "");
	dst->zones = xcalloc(pc->nzones + 1, sizeof(char *));
	for (i = 0; i < pc->nzones; i++)
		dst->zones[i] = xstrdup(pc->zones[i]);
	dst->retry_methods = xcalloc(pc->nretry_methods + 1, sizeof(char *));
	for (i = 0; i < pc->nretry_methods; i++)
		dst->retry_methods[i] = xstrdup(pc->retry_methods[i]);
	dst->servers = NULL;
	dst->nservers = 0;
}

static void
lb_pool_conf_clear(struct lb_pool_conf *c)
{
	size_t i;

	free(c->name);
	free(c->hash_header);
	free(c->health_check);
	free(c->all_down_body);
	for (i = 0; i < c->nzones; i++)
		free(c->zones[i]);
	free(c->zones);
	for (i = 0; i < c->nretry_methods; i++)
		free(c->retry_methods[i]);
	free(c->retry_methods);
	memset(c, 0, sizeof(*c));
}

static void
lb_pool_unref(struct lb_pool *p)
{
	if (--p->refs > 0)
		return;
	if (lb_runtime_loop(p->rt) != NULL)
		ev_timer_stop(lb_runtime_loop(p->rt), &p->hold);
	free(p->ring);
	free(p->servers);
	namemap_fini(&p->byname);
	lb_pool_conf_clear(&p->conf);
	free(p->name);
	free(p);
}

static void
lb_server_readmit_cb(struct ev_timer *t, void *arg)
{
	struct lb_server *s = arg;

	if (!s->passive_down || s->removed)
		return;
	log_info("passive readmit", "server=%s after_ms=%u", log_q(s->name),
	    LB_PASSIVE_READMIT_MS);
	lb_server_set_health(s, HC_UP, HC_R_OK);
}

static void
lb_server_apply_conf(struct lb_server *s, const struct lb_pool_conf *pc,
    const struct lb_server_conf *sc)
{
	if (s->conf_weight != sc->weight)
		s->has_admin_weight = false; /* the operator's file wins */
	/* A new address is a new machine: its health is not known. */
	if (memcmp(&s->addr, &sc->address, sizeof(s->addr)) != 0 &&
	    s->addr.ss_family != 0) {
		s->health = s->probe_state = HC_UNKNOWN;
		s->passive_down = false;
	}
	s->addr = sc->address;
	s->conf_weight = sc->weight;
	s->max_conn = lb_conf_server_max_conn(pc, sc);
	s->zone = lb_conf_server_zone(pc, sc);
}

static struct lb_server *
lb_server_new(struct lb_pool *p, const struct lb_pool_conf *pc,
    const struct lb_server_conf *sc)
{
	struct lb_server *s = xcalloc(1, sizeof(*s));

	s->name = xasprintf("%s/%s", pc->name, sc->name);
	s->sname = s->name + strlen(pc->name) + 1;
	s->pool = p;
	p->refs++;
	s->refs = 1;
	s->health = s->probe_state = HC_UNKNOWN;
	s->admin = LB_ADMIN_READY;
	ev_timer_init(&s->readmit, lb_server_readmit_cb, s);
	lb_server_apply_conf(s, pc, sc);
	return s;
}

/* Take s out of its pool's array bookkeeping: no more picks, no verdicts. */
static void
lb_server_detach(struct lb_server *s)
{
	s->removed = true;
	if (lb_runtime_loop(s->pool->rt) != NULL)
		ev_timer_stop(lb_runtime_loop(s->pool->rt), &s->readmit);
	lb_server_unref(s);
}

struct lb_pool *
lb_pool_new(struct lb_runtime *rt, const struct lb_pool_conf *pc)
{
	struct lb_pool *p = xcalloc(1, sizeof(*p));

	p->rt = rt;
	p->name = xstrdup(pc->name);
	p->refs = 1;
	p->active_zone = LB_ZONE_UNSET;
	p->better_zone = -1;
	p->rng = balance_hash_bytes(pc->name, strlen(pc->name)) | 1;
	ev_timer_init(&p->hold, lb_zone_hold_cb, p);
	lb_pool_update(p, pc);
	return p;
}

void
lb_pool_update(struct lb_pool *p, const struct lb_pool_conf *pc)
{
	struct lb_server **nv = xcalloc(pc->nservers + 1, sizeof(*nv));
	size_t i;

	for (i = 0; i < pc->nservers; i++) {
		struct lb_server *s = lb_pool_server(p, pc->servers[i].name);

		if (s != NULL) {
			lb_server_apply_conf(s, pc, &pc->servers[i]);
			s->removed = true; /* marks "kept" for the sweep */
		} else {
			s = lb_server_new(p, pc, &pc->servers[i]);
			/* Cannot fail: lb_pool_server said absent. */
			(void)namemap_add(&p->byname, s->sname, s);
		}
		nv[i] = s;
	}
	for (i = 0; i < p->nservers; i++) {
		if (p->servers[i]->removed)
			p->servers[i]->removed = false;
		else {
			(void)namemap_del(&p->byname, p->servers[i]->sname);
			lb_server_detach(p->servers[i]);
		}
	}
	for (i = 0; i < pc->nservers; i++)
		nv[i]->removed = false;
	free(p->servers);
	p->servers = nv;
	p->nservers = pc->nservers;
	lb_pool_conf_clear(&p->conf);
	lb_pool_conf_copy(&p->conf, pc);
	p->nzones = MAX(pc->nzones, 1);
	balance_hash_build(p);
	lb_zone_update(p);
}

void
lb_pool_release(struct lb_pool *p)
{
	size_t i;

	p->removed = true;
	if (lb_runtime_loop(p->rt) != NULL)
		ev_timer_stop(lb_runtime_loop(p->rt), &p->hold);
	for (i = 0; i < p->nservers; i++)
		lb_server_detach(p->servers[i]);
	p->nservers = 0;
	namemap_fini(&p->byname);
	lb_pool_unref(p);
}

/* Per verdict and per API request: a hash lookup, not a scan. */
struct lb_server *
lb_pool_server(struct lb_pool *p, const char *sname)
{
	return namemap_get(&p->byname, sname);
}

uint32_t
lb_server_eff_weight(const struct lb_server *s, uint64_t now_ms)
{
	uint64_t w = s->has_admin_weight ? s->admin_weight : s->conf_weight;
	uint64_t ramp = s->pool->conf.slow_start_ms, el, pm;

	if (w == 0 || s->up_since_ms == 0 || ramp == 0)
		return (uint32_t)w;
	el = now_ms > s->up_since_ms ? now_ms - s->up_since_ms : 0;
	if (el >= ramp)
		return (uint32_t)w;
	pm = LB_SLOW_START_MIN_PERMILLE +
	    (1000 - LB_SLOW_START_MIN_PERMILLE) * el / ramp;
	w = w * pm / 1000;
	return w > 0 ? (uint32_t)w : 1;
}

bool
lb_server_healthy(const struct lb_server *s)
{
	return s->health != HC_DOWN && !s->passive_down;
}

bool
lb_server_usable(const struct lb_server *s)
{
	uint32_t w = s->has_admin_weight ? s->admin_weight : s->conf_weight;

	return !s->removed && lb_server_healthy(s) &&
	    s->admin == LB_ADMIN_READY && w > 0;
}

bool
lb_server_standby(const struct lb_server *s)
{
	uint32_t w = s->has_admin_weight ? s->admin_weight : s->conf_weight;

	if (s->removed || s->admin != LB_ADMIN_READY || w == 0 ||
	    lb_server_healthy(s))
		return false;
	/* Down by verdict: only if that verdict is a hold-down over
	 * passing probes. Up by verdict: only this worker ejected it. */
	return s->health != HC_DOWN || s->probe_state == HC_UP;
}

/* Start the slow-start ramp when s just became usable again. */
static void
lb_server_note_usable(struct lb_server *s, bool was_usable)
{
	if (was_usable || !lb_server_usable(s))
		return;
	s->up_since_ms =
	    s->pool->conf.slow_start_ms > 0 ? MAX(lb_pool_now(s->pool), 1) : 0;
}

void
lb_server_set_health(struct lb_server *s, enum hc_state st, enum hc_reason why)
{
	lb_server_set_verdict(s, st, why, st);
}

void
lb_server_set_verdict(struct lb_server *s, enum hc_state st, enum hc_reason why,
    enum hc_state probe)
{
	bool was = lb_server_usable(s);
	enum hc_state old = s->health;

	bool marked_down =
	    st == HC_DOWN && probe != HC_UP && s->probe_state != HC_DOWN;

	s->health = st;
	s->health_reason = why;
	s->probe_state = st == HC_DOWN ? probe : st;
	/* Probes, not damping or ejection: it does not answer. */
	if (marked_down && s->pool->conf.on_marked_down == LB_OMD_SHUTDOWN)
		lb_runtime_server_down(s->pool->rt, s);
	if (st == HC_UP && s->passive_down) {
		s->passive_down = false;
		s->passive_consecutive = 0;
		if (lb_runtime_loop(s->pool->rt) != NULL)
			ev_timer_stop(
			    lb_runtime_loop(s->pool->rt), &s->readmit);
	}
	/* UNKNOWN -> UP is a first verdict, not a return: no ramp. */
	if (old != HC_UNKNOWN || st != HC_UP)
		lb_server_note_usable(s, was);
	if (was != lb_server_usable(s))
		log_notice("server state",
		    "server=%s usable=%s state=%s reason=%s", log_q(s->name),
		    was ? "false" : "true", hc_state_name(st),
		    hc_reason_name(why));
	lb_zone_update(s->pool);
}

void
lb_server_set_admin(struct lb_server *s, enum lb_admin st)
{
	bool was = lb_server_usable(s);

	if (s->admin == st)
		return;
	log_notice("server admin", "server=%s from=%s to=%s", log_q(s->name),
	    lb_admin_name(s->admin), lb_admin_name(st));
	s->admin = st;
	lb_server_note_usable(s, was);
	lb_zone_update(s->pool);
}

void
lb_server_set_weight(struct lb_server *s, uint32_t w)
{
	bool was = lb_server_usable(s);

	log_notice("server weight", "server=%s weight=%u", log_q(s->name), w);
	s->admin_weight = w;
	s->has_admin_weight = true;
	lb_server_note_usable(s, was);
	balance_hash_build(s->pool);
	lb_zone_update(s->pool);
}

const char *
lb_admin_name(enum lb_admin a)
{
	switch (a) {
	case LB_ADMIN_READY:
		return "ready";
	case LB_ADMIN_DRAIN:
		return "drain";
	case LB_ADMIN_DISABLED:
		return "disabled";
	}
	return "?";
}

void
lb_server_conn_begin(struct lb_server *s)
{
	s->active++;
}

void
lb_server_conn_end(struct lb_server *s)
{
	if (s->active > 0)
		s->active--;
}

void
lb_server_ref(struct lb_server *s)
{
	s->refs++;
}

void
lb_server_unref(struct lb_server *s)
{
	struct lb_pool *p = s->pool;

	if (--s->refs > 0)
		return;
	free(s->name);
	free(s);
	lb_pool_unref(p);
}

const struct sockaddr_storage *
lb_server_addr(const struct lb_server *s)
{
	return &s->addr;
}

const char *
lb_server_name(const struct lb_server *s)
{
	return s->name;
}

struct lb_pool *
lb_server_pool(const struct lb_server *s)
{
	return s->pool;
}

const struct lb_pool_conf *
lb_pool_config(const struct lb_pool *p)
{
	return &p->conf;
}

const char *
lb_pool_name(const struct lb_pool *p)
{
	return p->name;
}

struct lb_server_stats *
lb_server_stats(struct lb_server *s)
{
	return &s->stats;
}

bool
lb_pool_timed_method(const struct lb_pool *p, const char *method, size_t len)
{
	size_t i;

	if ((len == 3 && memcmp(method, "GET", 3) == 0) ||
	    (len == 4 && memcmp(method, "HEAD", 4) == 0))
		return true;
	for (i = 0; p != NULL && i < p->conf.nretry_methods; i++)
		if (strlen(p->conf.retry_methods[i]) == len &&
		    memcmp(method, p->conf.retry_methods[i], len) == 0)
			return true;
	return false;
}

struct lb_pool_stats *
lb_pool_stats(struct lb_pool *p)
{
	return &p->stats;
}

static size_t
lb_pool_nusable(const struct lb_pool *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->nservers; i++)
		n += lb_server_usable(p->servers[i]);
	return n;
}

void
lb_server_passive_fail(struct lb_server *s, enum hc_reason why)
{
	struct ipc_passive msg;
	struct ev_loop *loop = lb_runtime_loop(s->pool->rt);

	s->stats.passive_fails++;
	s->passive_consecutive++;
	memset(&msg, 0, sizeof(msg));
	snprintf(msg.target, sizeof(msg.target), "%s", s->name);
	msg.kind = (int32_t)why;
	lb_runtime_passive_report(s->pool->rt, &msg);
	if (s->removed || s->passive_down)
		return;
	if (lb_server_usable(s) && lb_pool_nusable(s->pool) == 1) {
		s->stats.passive_last_kept++;
		log_warn("passive eject refused",
		    "server=%s reason=%s last=true", log_q(s->name),
		    hc_reason_name(why));
		return;
	}
	s->stats.passive_ejections++;
	log_warn("passive eject", "server=%s reason=%s", log_q(s->name),
	    hc_reason_name(why));
	s->passive_down = true;
	if (s->pool->conf.health_check == NULL && loop != NULL)
		ev_timer_start(loop, &s->readmit, LB_PASSIVE_READMIT_MS);
	lb_zone_update(s->pool);
}

void
lb_server_passive_ok(struct lb_server *s)
{
	s->passive_consecutive = 0;
	s->consecutive_5xx = 0;
}

/*
 * Only a run of 5xx answers ejects, never one: a single request that makes
 * every server fail (a bad URL, a poisoned payload) must not empty the
 * pool, while a server whose dependency broke answers nothing else.
 */
void
lb_server_passive_status(struct lb_server *s, unsigned status)
{
	uint32_t limit = s->pool->conf.passive_5xx;

	if (status < 500) {
		lb_server_passive_ok(s);
		return;
	}
	if (limit == 0 || ++s->consecutive_5xx < limit)
		return;
	s->consecutive_5xx = 0;
	lb_server_passive_fail(s, HC_R_BAD_STATUS);
}

#define LB_POOL_STACK_CANDS 64

static bool
lb_pool_excluded(const struct lb_pick_ctx *ctx, const struct lb_server *s)
{
	size_t i;

	for (i = 0; ctx != NULL && i < ctx->nexclude; i++)
		if (ctx->exclude[i] == s)
			return true;
	return false;
}

/* Bytes of the client address (no port) for source hashing. */
static const void *
lb_pool_source_key(const struct sockaddr_storage *ss, size_t *len)
{
	if (ss == NULL)
		return NULL;
	if (ss->ss_family == AF_INET) {
		*len = 4;
		return &((const struct sockaddr_in *)ss)->sin_addr;
	}
	if (ss->ss_family == AF_INET6) {
		*len = 16;
		return &((const struct sockaddr_in6 *)ss)->sin6_addr;
	}
	return NULL;
}

static struct lb_server *
lb_pool_choose(struct lb_pool *p, const struct lb_pick_ctx *ctx,
    struct lb_server *const *c, const uint32_t *w, size_t n)
{
	const void *key = NULL;
	size_t keylen = 0;
	struct lb_server *s = NULL;

	switch (p->conf.balance) {
	case LB_BAL_LEASTCONN:
		return balance_leastconn_pick(p, c, w, n);
	case LB_BAL_RANDOM2:
		return balance_random2_pick(p, c, w, n);
	case LB_BAL_SOURCE:
		key = lb_pool_source_key(ctx ? ctx->client : NULL, &keylen);
		break;
	case LB_BAL_HEADER:
		key = ctx ? ctx->hash_key : NULL;
		keylen = ctx ? ctx->hash_key_len : 0;
		break;
	}
	if (key != NULL)
		s = balance_hash_pick(
		    p, key, keylen, c, n, p->conf.hash_balance_pct);
	/* No key to hash (header absent): spread like roundrobin. */
	return s != NULL ? s : balance_rr_pick(c, w, n);
}

/* May s take a new request, given the zone in use (-1: fail-open)? */
static bool
lb_pool_candidate(const struct lb_pool *p, const struct lb_server *s)
{
	if (p->active_zone < 0)
		return !s->removed && s->admin == LB_ADMIN_READY &&
		    (s->has_admin_weight ? s->admin_weight : s->conf_weight) >
		    0;
	return (int)s->zone == p->active_zone &&
	    (lb_server_usable(s) || (p->fallback && lb_server_standby(s)));
}

/*
 * A retry found every candidate of the active zone tried: any untried
 * server that answers its probes, usable in another zone first, then a
 * standby, before the client is given a 502.
 */
static struct lb_server *
lb_pool_pick_retry(struct lb_pool *p, const struct lb_pick_ctx *ctx,
    struct lb_server **c, uint32_t *w)
{
	struct lb_server *s;
	uint64_t now = lb_pool_now(p);
	size_t i, n;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		n = 0;
		for (i = 0; i < p->nservers; i++) {
			s = p->servers[i];
			if (!(pass == 0 ? lb_server_usable(s) :
			                  lb_server_standby(s)) ||
			    lb_pool_excluded(ctx, s) ||
			    (s->max_conn != 0 && s->active >= s->max_conn))
				continue;
			c[n] = s;
			w[n++] = MAX(lb_server_eff_weight(s, now), 1);
		}
		if (n > 0) {
			p->stats.picks_retry_elsewhere++;
			return balance_rr_pick(c, w, n);
		}
	}
	return NULL;
}

struct lb_server *
lb_pool_pick(
    struct lb_pool *p, const struct lb_pick_ctx *ctx, enum lb_pick_err *err)
{
	struct lb_server *stack_c[LB_POOL_STACK_CANDS], **c = stack_c, *s;
	uint32_t stack_w[LB_POOL_STACK_CANDS], *w = stack_w;
	size_t i, n = 0, nexcl = 0, nfull = 0;
	uint64_t now = lb_pool_now(p);

	lb_zone_update(p);
	if (p->active_zone < 0 && p->conf.all_down != LB_ALL_DOWN_FAIL_OPEN) {
		p->stats.picks_none_up++;
		*err = LB_PICK_NONE_UP;
		return NULL;
	}
	if (p->nservers > LB_POOL_STACK_CANDS) {
		c = xcalloc(p->nservers, sizeof(*c));
		w = xcalloc(p->nservers, sizeof(*w));
	}
	for (i = 0; i < p->nservers; i++) {
		s = p->servers[i];
		if (!lb_pool_candidate(p, s))
			continue;
		if (lb_pool_excluded(ctx, s)) {
			nexcl++;
			continue;
		}
		if (s->max_conn != 0 && s->active >= s->max_conn) {
			nfull++;
			continue;
		}
		c[n] = s;
		w[n++] = MAX(lb_server_eff_weight(s, now), 1);
	}
	s = NULL;
	if (n > 0) {
		s = lb_pool_choose(p, ctx, c, w, n);
		*err = LB_PICK_OK;
		if (p->active_zone < 0)
			p->stats.picks_fail_open++;
		else if (!lb_server_usable(s))
			p->stats.picks_fallback++;
	} else if (nexcl > 0 && p->active_zone >= 0 &&
	    (s = lb_pool_pick_retry(p, ctx, c, w)) != NULL) {
		*err = LB_PICK_OK;
	} else if (nfull > 0) {
		*err = LB_PICK_FULL;
		p->stats.picks_full++;
	} else if (nexcl > 0) {
		*err = LB_PICK_EXHAUSTED;
		p->stats.picks_exhausted++;
	} else {
		*err = LB_PICK_NONE_UP;
		p->stats.picks_none_up++;
	}
	if (c != stack_c) {
		free(c);
		free(w);
	}
	return s;
}
