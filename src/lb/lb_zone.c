/*
 * lb_zone.c - zone failover and failback of a pool.
 *
 * Zones are ordered by preference. A zone qualifies when it has servers and
 * at least min_up of them (capped at the zone's size), or min_up_fraction
 * percent rounded up (at least one), are usable. Traffic goes to the active
 * zone only:
 *   - failover is immediate: when the active zone stops qualifying, the
 *     first qualifying zone takes over;
 *   - failback (a better zone qualifies again while the active one still
 *     does) follows the pool's policy: at once, after the better zone has
 *     qualified without interruption for failback_hold, or only when the
 *     operator asks (POST .../failback);
 *   - standbys (servers held down by damping or passive ejection while
 *     their probes pass, lb_server_standby) count when usable servers alone
 *     are short: a zone that qualifies with them is preferred to one that
 *     does not, and while the active zone has fewer usable servers than it
 *     needs its standbys take traffic too (p->fallback);
 *   - when no zone qualifies but some server is usable, the first zone with
 *     a usable server is used (degraded), then the first with a standby,
 *     rather than failing every request;
 *   - with no usable or standby server the pool is "all down" (active_zone
 *     -1): picks fail with all_down_status, or use every server (fail_open).
 * Every change of active zone is logged with its cause and counted.
 *
 * State is re-evaluated on every event that can change it (verdict, admin
 * action, passive failure, reload, pick) and by the hold timer, so no
 * transition waits for traffic.
 */
#include <errno.h>

#include "lb/lb_pool_priv.h"
#include "lib/log.h"

const char *
lb_zone_name(const struct lb_pool *p, size_t z)
{
	if (z < p->conf.nzones)
		return p->conf.zones[z];
	return z == 0 ? "default" : "?";
}

static size_t
lb_zone_total(const struct lb_pool *p, size_t z)
{
	size_t i, n = 0;

	for (i = 0; i < p->nservers; i++)
		n += p->servers[i]->zone == z;
	return n;
}

size_t
lb_zone_healthy(const struct lb_pool *p, size_t z)
{
	size_t i, n = 0;

	for (i = 0; i < p->nservers; i++)
		n +=
		    p->servers[i]->zone == z && lb_server_usable(p->servers[i]);
	return n;
}

size_t
lb_zone_standby(const struct lb_pool *p, size_t z)
{
	size_t i, n = 0;

	for (i = 0; i < p->nservers; i++)
		n += p->servers[i]->zone == z &&
		    lb_server_standby(p->servers[i]);
	return n;
}

size_t
lb_zone_needed(const struct lb_pool *p, size_t z)
{
	size_t total = lb_zone_total(p, z), need;

	/* A zone never needs more servers than it has: min_up 2 with a
	 * one-server backup zone means "all of it". */
	if (p->conf.min_up_fraction == 0)
		return MAX(MIN(p->conf.min_up, total), 1);
	need = (total * p->conf.min_up_fraction + 99) / 100;
	return MAX(need, 1);
}

static bool
lb_zone_qualifies(const struct lb_pool *p, size_t z)
{
	return lb_zone_healthy(p, z) >= lb_zone_needed(p, z);
}

/* The zone that should take traffic ignoring failback policy, or -1. */
static int
lb_zone_best(const struct lb_pool *p)
{
	size_t z;

	for (z = 0; z < p->nzones; z++)
		if (lb_zone_qualifies(p, z))
			return (int)z;
	for (z = 0; z < p->nzones; z++)
		if (lb_zone_healthy(p, z) + lb_zone_standby(p, z) >=
		    lb_zone_needed(p, z))
			return (int)z;
	for (z = 0; z < p->nzones; z++)
		if (lb_zone_healthy(p, z) > 0)
			return (int)z;
	for (z = 0; z < p->nzones; z++)
		if (lb_zone_standby(p, z) > 0)
			return (int)z;
	return -1;
}

/* Standbys of the active zone take traffic while its usable are short. */
static void
lb_zone_fallback(struct lb_pool *p)
{
	bool fb = false;
	size_t z, up;

	if (p->active_zone >= 0) {
		z = (size_t)p->active_zone;
		up = lb_zone_healthy(p, z);
		fb = up < lb_zone_needed(p, z) && lb_zone_standby(p, z) > 0;
	}
	if (fb == p->fallback)
		return;
	p->fallback = fb;
	if (!fb) {
		log_notice("pool fallback ended", "pool=%s", log_q(p->name));
		return;
	}
	p->stats.fallback_events++;
	log_warn("pool fallback",
	    "pool=%s zone=%s usable=%zu standby=%zu needed=%zu", log_q(p->name),
	    lb_zone_name(p, z), up, lb_zone_standby(p, z),
	    lb_zone_needed(p, z));
}

static void
lb_zone_switch(struct lb_pool *p, int to, const char *why)
{
	int from = p->active_zone;

	p->active_zone = to;
	p->better_zone = -1;
	if (lb_runtime_loop(p->rt) != NULL)
		ev_timer_stop(lb_runtime_loop(p->rt), &p->hold);
	p->stats.zone_changes++;
	if (to < 0) {
		p->stats.all_down_events++;
		log_err("pool all down", "pool=%s from=%s all_down=%s",
		    log_q(p->name), from < 0 ? "none" : lb_zone_name(p, from),
		    p->conf.all_down == LB_ALL_DOWN_FAIL ? "fail" :
		                                           "fail_open");
		return;
	}
	log_notice("zone change",
	    "pool=%s from=%s to=%s cause=%s healthy=%zu "
	    "needed=%zu",
	    log_q(p->name), from < 0 ? "none" : lb_zone_name(p, from),
	    lb_zone_name(p, to), why, lb_zone_healthy(p, to),
	    lb_zone_needed(p, to));
}

/* A better zone than the active one qualifies: apply the failback policy. */
static void
lb_zone_failback_policy(struct lb_pool *p, int best)
{
	struct ev_loop *loop = lb_runtime_loop(p->rt);
	uint64_t now = lb_pool_now(p);

	switch (p->conf.failback) {
	case LB_FAILBACK_IMMEDIATE:
		lb_zone_switch(p, best, "failback");
		return;
	case LB_FAILBACK_MANUAL:
		if (p->failback_requested)
			lb_zone_switch(p, best, "failback-manual");
		else if (p->better_zone != best) {
			p->better_zone = best;
			p->better_since_ms = now;
			log_notice("failback pending",
			    "pool=%s zone=%s "
			    "failback=manual",
			    log_q(p->name), lb_zone_name(p, best));
		}
		return;
	}
	if (p->failback_requested) {
		lb_zone_switch(p, best, "failback-manual");
		return;
	}
	if (p->better_zone != best) {
		p->better_zone = best;
		p->better_since_ms = now;
		if (loop != NULL)
			ev_timer_start(
			    loop, &p->hold, p->conf.failback_hold_ms);
	}
	if (now - p->better_since_ms >= p->conf.failback_hold_ms)
		lb_zone_switch(p, best, "failback-hold");
}

static void
lb_zone_choose(struct lb_pool *p)
{
	int best = lb_zone_best(p), cur = p->active_zone;

	if (cur == LB_ZONE_UNSET) { /* a new pool: a start, not a change */
		p->active_zone = best;
		return;
	}
	if (best == cur) {
		if (p->better_zone >= 0 && lb_runtime_loop(p->rt) != NULL)
			ev_timer_stop(lb_runtime_loop(p->rt), &p->hold);
		p->better_zone = -1;
		return;
	}
	if (cur < 0 || best < 0 || best > cur ||
	    !lb_zone_qualifies(p, (size_t)cur)) {
		lb_zone_switch(p, best, cur < 0 ? "recovered" : "failover");
		return;
	}
	lb_zone_failback_policy(p, best);
}

void
lb_zone_update(struct lb_pool *p)
{
	lb_zone_choose(p);
	lb_zone_fallback(p);
}

void
lb_zone_hold_cb(struct ev_timer *t, void *arg)
{
	struct lb_pool *p = arg;

	if (!p->removed)
		lb_zone_update(p);
}

int
lb_zone_failback(struct lb_pool *p)
{
	int before = p->active_zone;

	p->failback_requested = true;
	lb_zone_update(p);
	p->failback_requested = false;
	return p->active_zone != before ? 0 : -EALREADY;
}
