/*
 * dns_gslb_rt.c - the GSLB runtime of a dns worker: see dns_gslb_rt.h.
 * This file drives the pure state (verdicts, timers, plans, failback,
 * apply, persistence) and keeps the event log; dns_gslb_rt_api.c shows it.
 *
 * Invariants:
 *   - the pure state is only entered from the calls below, never from its
 *     own event callback (which only records), so it is never re-entered;
 *   - after every call that may change the state, the tick timer is
 *     re-armed from dns_gslb_tick's next deadline (0: stopped);
 *   - an executed plan with rollback_after has its timer armed at
 *     changed_ms + rollback_after (wall clock, so it survives a restart
 *     through the plans file); any other plan's is stopped;
 *   - event sequence numbers start at 1 with the process and leave no gap;
 *     the ring keeps the newest DNS_GSLB_RT_EVENTS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/dns_gslb_rt_priv.h"
#include "hc/hc.h"
#include "lib/log.h"
#include "lib/plane.h"
#include "lib/statefile.h"
#include "lib/util.h"

static const char *const dns_rt_kind_names[DNS_RT__KIND_COUNT] = {
	[DNS_RT_ADDR_DOWN] = "address_down",
	[DNS_RT_ADDR_UP] = "address_up",
	[DNS_RT_POOL_DOWN] = "pool_down",
	[DNS_RT_POOL_UP] = "pool_up",
	[DNS_RT_SWITCH] = "switch",
	[DNS_RT_PLAN] = "plan",
	[DNS_RT_FAILBACK] = "failback",
};

static const char *const dns_rt_plan_state_names[] = {
	[DNS_RT_PLAN_UNEXECUTED] = "unexecuted",
	[DNS_RT_PLAN_EXECUTED] = "executed",
	[DNS_RT_PLAN_ROLLED_BACK] = "rolled-back",
};

const char *
dns_rt_kind_name(enum dns_rt_kind k)
{
	return (unsigned)k < DNS_RT__KIND_COUNT ? dns_rt_kind_names[k] : "?";
}

const char *
dns_rt_plan_state_name(enum dns_rt_plan_state s)
{
	return (unsigned)s < ARRAY_SIZE(dns_rt_plan_state_names) ?
	    dns_rt_plan_state_names[s] :
	    "?";
}

static char *
dns_rt_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
dns_rt_event_clear(struct dns_rt_event *e)
{
	free(e->name);
	free(e->policy);
	free(e->pool);
	free(e->address);
	free(e->plan);
	free(e->from);
	free(e->to);
	memset(e, 0, sizeof(*e));
}

static void dns_rt_dirty(struct dns_gslb_rt *rt);

/*
 * Append an event to the ring (copying its strings) and hand it to the
 * alarms. Every field but kind may be NULL.
 */
static void
dns_rt_log(struct dns_gslb_rt *rt, enum dns_rt_kind kind,
    const struct dns_rt_event *src)
{
	struct dns_rt_event *e = &rt->ring[rt->seq % DNS_GSLB_RT_EVENTS];
	struct dns_alarm_event a;

	dns_rt_event_clear(e);
	e->seq = ++rt->seq;
	e->at_ms = util_wall_ms();
	e->kind = kind;
	e->name = dns_rt_dup(src->name);
	e->policy = dns_rt_dup(src->policy);
	e->pool = dns_rt_dup(src->pool);
	e->address = dns_rt_dup(src->address);
	e->plan = dns_rt_dup(src->plan);
	e->from = dns_rt_dup(src->from);
	e->to = dns_rt_dup(src->to);
	e->who = rt->who;
	rt->events[kind]++;
	dns_rt_dirty(rt);
	if (kind == DNS_RT_SWITCH || kind == DNS_RT_PLAN ||
	    kind == DNS_RT_FAILBACK)
		log_notice("gslb event",
		    "seq=%llu kind=%s name=%s policy=%s "
		    "plan=%s from=%s to=%s who=%s",
		    (unsigned long long)e->seq, dns_rt_kind_name(kind),
		    log_q(e->name ? e->name : ""),
		    log_q(e->policy ? e->policy : ""),
		    log_q(e->plan ? e->plan : ""),
		    log_q(e->from ? e->from : ""), log_q(e->to ? e->to : ""),
		    e->who);
	if (rt->alarm == NULL || rt->conf == NULL)
		return;
	a = (struct dns_alarm_event){
		.seq = e->seq,
		.at_ms = e->at_ms,
		.kind = dns_rt_kind_name(kind),
		.name = e->name,
		.policy = e->policy,
		.pool = e->pool,
		.address = e->address,
		.plan = e->plan,
		.from = e->from,
		.to = e->to,
		.who = e->who,
	};
	dns_alarm_send(rt->alarm, &rt->conf->alarms, &a);
}

static struct dns_rt_name *
dns_rt_name_find(struct dns_rt_name *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

/*
 * The pure state's events, with who caused them. A plan's event names the
 * plan in ev->name; it comes before the pool and switch events it causes.
 */
static void
dns_rt_on_event(const struct dns_gslb_event *ev, void *arg)
{
	static const enum dns_rt_kind map[] = {
		[DNS_GSLB_ADDR_DOWN] = DNS_RT_ADDR_DOWN,
		[DNS_GSLB_ADDR_UP] = DNS_RT_ADDR_UP,
		[DNS_GSLB_POOL_DOWN] = DNS_RT_POOL_DOWN,
		[DNS_GSLB_POOL_UP] = DNS_RT_POOL_UP,
		[DNS_GSLB_SWITCH] = DNS_RT_SWITCH,
		[DNS_GSLB_PLAN] = DNS_RT_PLAN,
	};
	struct dns_gslb_rt *rt = arg;
	struct dns_rt_event e = {
		.name = (char *)ev->name,
		.policy = (char *)ev->policy,
		.pool = (char *)ev->pool,
		.address = (char *)ev->address,
		.from = (char *)ev->from,
		.to = (char *)ev->to,
	};
	struct dns_rt_name *n;

	if ((unsigned)ev->kind >= ARRAY_SIZE(map))
		return;
	if (ev->kind == DNS_GSLB_PLAN) {
		e.plan = e.name;
		e.name = NULL;
	}
	if (ev->kind == DNS_GSLB_SWITCH &&
	    (n = dns_rt_name_find(rt->names, rt->nnames, ev->name)) != NULL)
		n->switches++;
	dns_rt_log(rt, map[ev->kind], &e);
}

/* ---- persistence */

static void
dns_rt_save_plans(struct dns_gslb_rt *rt, struct buf *b)
{
	size_t i;

	buf_puts(b, "# haven dns gslb plans: name state changed_ms by\n");
	for (i = 0; i < rt->nplans; i++) {
		const struct dns_rt_plan *p = rt->plans[i];

		if (p->state == DNS_RT_PLAN_UNEXECUTED)
			continue;
		buf_printf(b, "plan %s %s %llu %s\n", p->name,
		    dns_rt_plan_state_name(p->state),
		    (unsigned long long)p->changed_ms,
		    p->by != NULL ? p->by : "-");
	}
}

static void
dns_rt_save_now(struct dns_gslb_rt *rt)
{
	struct buf b;
	int rc;

	ev_timer_stop(rt->loop, &rt->save);
	rt->dirty = false;
	if (rt->state_dir == NULL || rt->g == NULL)
		return;
	buf_init(&b);
	dns_gslb_save(rt->g, &b);
	rc = statefile_write(
	    rt->state_dir, DNS_GSLB_RT_STATE, b.data ? b.data : "", b.len);
	if (rc == 0) {
		buf_reset(&b);
		dns_rt_save_plans(rt, &b);
		rc = statefile_write(
		    rt->state_dir, DNS_GSLB_RT_PLANS, b.data, b.len);
	}
	buf_fini(&b);
	if (rc != 0) {
		rt->save_errors++;
		log_warn("gslb state not saved", "dir=%s error=%s",
		    log_q(rt->state_dir), log_q(strerror(-rc)));
		return;
	}
	rt->saves++;
}

static void
dns_rt_save_cb(struct ev_timer *t, void *arg)
{
	dns_rt_save_now(arg);
}

/* A write is due: at most one per DNS_GSLB_RT_SAVE_MS. */
static void
dns_rt_dirty(struct dns_gslb_rt *rt)
{
	if (rt->state_dir == NULL)
		return;
	rt->dirty = true;
	if (!ev_timer_active(&rt->save))
		ev_timer_start(rt->loop, &rt->save, DNS_GSLB_RT_SAVE_MS);
}

/* The plans file: "plan NAME STATE CHANGED_MS BY" lines. A line that does
 * not parse, or names a plan no longer configured, is skipped. */
static void
dns_rt_restore_plans(struct dns_gslb_rt *rt, char *text)
{
	static const char *const whos[] = { DNS_RT_WHO_API, DNS_RT_WHO_TIMER,
		DNS_RT_WHO_CONFIG, DNS_RT_WHO_RESTORE, DNS_RT_WHO_HEALTH };
	char *line, *save = NULL;
	char name[256], state[32], by[32];
	unsigned long long at;
	struct dns_rt_plan *p;
	size_t i;
	int rc;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "plan %255s %31s %llu %31s", name, state, &at,
		        by) != 4 ||
		    (p = dns_rt_plan_find(rt, name)) == NULL) {
			rt->restore_errors++;
			continue;
		}
		p->changed_ms = at;
		for (i = 0; i < ARRAY_SIZE(whos); i++)
			if (strcmp(by, whos[i]) == 0)
				p->by = whos[i];
		if (strcmp(state, "rolled-back") == 0) {
			p->state = DNS_RT_PLAN_ROLLED_BACK;
			continue;
		}
		if (strcmp(state, "executed") != 0) {
			rt->restore_errors++;
			continue;
		}
		/* The pure state may have restored its forced pools already. */
		rc = dns_gslb_plan(rt->g, p->name, true, ev_now_ms(rt->loop));
		if (rc == 0 || rc == -EALREADY)
			p->state = DNS_RT_PLAN_EXECUTED;
		else
			rt->restore_errors++;
	}
}

static void
dns_rt_restore(struct dns_gslb_rt *rt)
{
	struct buf b;
	int rc;

	buf_init(&b);
	rc = statefile_read(rt->state_dir, DNS_GSLB_RT_STATE, &b);
	if (rc == 0) {
		rc = dns_gslb_restore(
		    rt->g, b.data ? b.data : "", b.len, ev_now_ms(rt->loop));
		if (rc != 0) {
			rt->restore_errors++;
			log_warn("gslb state not restored", "dir=%s error=%s",
			    log_q(rt->state_dir), log_q(strerror(-rc)));
		} else
			log_info("gslb state restored", "dir=%s",
			    log_q(rt->state_dir));
	} else if (rc != -ENOENT) {
		rt->restore_errors++;
		log_warn("gslb state unreadable", "dir=%s error=%s",
		    log_q(rt->state_dir), log_q(strerror(-rc)));
	}
	buf_reset(&b);
	if (statefile_read(rt->state_dir, DNS_GSLB_RT_PLANS, &b) == 0 &&
	    b.data != NULL)
		dns_rt_restore_plans(rt, b.data);
	buf_fini(&b);
}

/* ---- timers */

static void
dns_rt_rearm(struct dns_gslb_rt *rt)
{
	const char *who = rt->who;
	uint64_t now = ev_now_ms(rt->loop), next;

	if (rt->g == NULL)
		return;
	/* Hold-downs that ended by now are the timer's doing. */
	rt->who = DNS_RT_WHO_TIMER;
	next = dns_gslb_tick(rt->g, now);
	rt->who = who;
	if (next == 0) {
		ev_timer_stop(rt->loop, &rt->tick);
		return;
	}
	ev_timer_start(rt->loop, &rt->tick, next > now ? next - now : 1);
}

static void
dns_rt_tick_cb(struct ev_timer *t, void *arg)
{
	struct dns_gslb_rt *rt = arg;

	dns_rt_rearm(rt);
	rt->who = DNS_RT_WHO_HEALTH;
}

/* Arm p's rollback at changed_ms + rollback_after, or stop it. */
static void
dns_rt_plan_arm(struct dns_rt_plan *p)
{
	struct ev_loop *loop = p->rt->loop;
	uint64_t now = util_wall_ms(), due;

	if (p->state != DNS_RT_PLAN_EXECUTED || p->conf == NULL ||
	    p->conf->rollback_after_ms == 0) {
		ev_timer_stop(loop, &p->rollback);
		return;
	}
	due = p->changed_ms + p->conf->rollback_after_ms;
	ev_timer_start(loop, &p->rollback, due > now ? due - now : 0);
}

static void
dns_rt_plan_timer_cb(struct ev_timer *t, void *arg)
{
	struct dns_rt_plan *p = arg;

	(void)dns_rt_plan_do(p->rt, p, false, DNS_RT_WHO_TIMER);
}

struct dns_rt_plan *
dns_rt_plan_find(struct dns_gslb_rt *rt, const char *name)
{
	size_t i;

	for (i = 0; i < rt->nplans; i++)
		if (strcmp(rt->plans[i]->name, name) == 0)
			return rt->plans[i];
	return NULL;
}

int
dns_rt_plan_do(struct dns_gslb_rt *rt, struct dns_rt_plan *p, bool execute,
    const char *who)
{
	int rc;

	if (execute == (p->state == DNS_RT_PLAN_EXECUTED))
		return -EALREADY;
	rt->who = who;
	rc = dns_gslb_plan(rt->g, p->name, execute, ev_now_ms(rt->loop));
	/* Our record and the pure state's disagree only after a restore
	 * that lost one of the files: follow the pure state. */
	if (rc != 0 && rc != -EALREADY) {
		rt->who = DNS_RT_WHO_HEALTH;
		return rc;
	}
	p->state = execute ? DNS_RT_PLAN_EXECUTED : DNS_RT_PLAN_ROLLED_BACK;
	p->changed_ms = util_wall_ms();
	p->by = who;
	if (execute)
		p->executions++;
	else
		p->rollbacks++;
	dns_rt_plan_arm(p);
	dns_rt_rearm(rt);
	rt->who = DNS_RT_WHO_HEALTH;
	return 0;
}

const struct dns_gname_conf *
dns_rt_gname(const struct dns_gslb_rt *rt, const char *s)
{
	size_t i, n = strlen(s), m;

	if (rt->conf == NULL)
		return NULL;
	if (n > 0 && s[n - 1] == '.')
		n--;
	for (i = 0; i < rt->conf->nnames; i++) {
		const char *c = rt->conf->names[i].name;

		m = strlen(c);
		if (m > 0 && c[m - 1] == '.')
			m--;
		if (m == n && strncasecmp(c, s, n) == 0)
			return &rt->conf->names[i];
	}
	return NULL;
}

int
dns_rt_failback(struct dns_gslb_rt *rt, const char *name, const char *who)
{
	const struct dns_gname_conf *gn = dns_rt_gname(rt, name);
	struct dns_rt_event e = { 0 };
	int rc;

	if (gn == NULL || rt->g == NULL)
		return -ENOENT;
	rt->who = who;
	e.name = gn->name;
	rc = dns_gslb_failback(rt->g, gn->name, ev_now_ms(rt->loop));
	if (rc == 0) {
		dns_rt_log(rt, DNS_RT_FAILBACK, &e);
		dns_rt_rearm(rt);
	}
	rt->who = DNS_RT_WHO_HEALTH;
	return rc;
}

/* ---- lifetime, apply, verdicts */

struct dns_gslb_rt *
dns_gslb_rt_new(struct ev_loop *loop, unsigned worker)
{
	struct dns_gslb_rt *rt = xcalloc(1, sizeof(*rt));

	rt->loop = loop;
	rt->worker = worker;
	rt->who = DNS_RT_WHO_HEALTH;
	ev_timer_init(&rt->tick, dns_rt_tick_cb, rt);
	ev_timer_init(&rt->save, dns_rt_save_cb, rt);
	if (worker == 0)
		rt->alarm = dns_alarm_new(loop);
	return rt;
}

static void
dns_rt_plans_free(struct ev_loop *loop, struct dns_rt_plan **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ev_timer_stop(loop, &v[i]->rollback);
		free(v[i]->name);
		free(v[i]);
	}
	free(v);
}

static void
dns_rt_names_free(struct dns_rt_name *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

void
dns_gslb_rt_free(struct dns_gslb_rt *rt)
{
	size_t i;

	if (rt == NULL)
		return;
	if (rt->dirty)
		dns_rt_save_now(rt);
	ev_timer_stop(rt->loop, &rt->tick);
	ev_timer_stop(rt->loop, &rt->save);
	dns_rt_plans_free(rt->loop, rt->plans, rt->nplans);
	dns_rt_names_free(rt->names, rt->nnames);
	for (i = 0; i < DNS_GSLB_RT_EVENTS; i++)
		dns_rt_event_clear(&rt->ring[i]);
	dns_gslb_free(rt->g);
	dns_alarm_free(rt->alarm);
	free(rt->state_dir);
	free(rt);
}

/* The slowest detection among pool's addresses: its targets are ours,
 * named "pool/address" (dns_gslb_targets). */
static uint64_t
dns_rt_pool_detect_ms(const char *pool, const struct plane_target *t, size_t nt)
{
	size_t len = strlen(pool);
	uint64_t ms = 0;

	for (size_t i = 0; i < nt; i++)
		if (t[i].plane != NULL && strcmp(t[i].plane, "dns") == 0 &&
		    strncmp(t[i].name, pool, len) == 0 &&
		    t[i].name[len] == '/' && t[i].detect_ms > ms)
			ms = t[i].detect_ms;
	return ms;
}

/* A name's detection time: what the switch of any of its policies waits
 * for, the slowest down verdict among the pools they name. */
static uint64_t
dns_rt_name_detect_ms(
    const struct dns_gname_conf *n, const struct plane_target *t, size_t nt)
{
	uint64_t ms = 0, m;

	for (size_t i = 0; i < n->npolicies; i++) {
		const struct dns_policy_conf *p = &n->policies[i];

		for (size_t j = 0; j < p->npools + p->nbackup; j++) {
			m = dns_rt_pool_detect_ms(j < p->npools ?
			        p->pools[j] :
			        p->backup[j - p->npools],
			    t, nt);
			if (m > ms)
				ms = m;
		}
	}
	return ms;
}

/* The names' counters for conf, carried over by name from rt's. */
static struct dns_rt_name *
dns_rt_names_for(struct dns_gslb_rt *rt, const struct dns_gslb_conf *conf,
    const struct plane_target *t, size_t nt)
{
	struct dns_rt_name *v = xcalloc(conf->nnames + 1, sizeof(*v)), *o;
	size_t i;

	for (i = 0; i < conf->nnames; i++) {
		v[i].name = xstrdup(conf->names[i].name);
		v[i].detect_ms = dns_rt_name_detect_ms(&conf->names[i], t, nt);
		o = dns_rt_name_find(rt->names, rt->nnames, v[i].name);
		if (o != NULL)
			v[i].switches = o->switches;
	}
	return v;
}

/* The plans of conf, their state carried over by name from rt's. */
static struct dns_rt_plan **
dns_rt_plans_for(struct dns_gslb_rt *rt, const struct dns_gslb_conf *conf)
{
	struct dns_rt_plan **v = xcalloc(conf->nplans + 1, sizeof(*v)), *o, *p;
	size_t i;

	for (i = 0; i < conf->nplans; i++) {
		p = v[i] = xcalloc(1, sizeof(*p));
		p->name = xstrdup(conf->plans[i].name);
		p->conf = &conf->plans[i];
		p->rt = rt;
		ev_timer_init(&p->rollback, dns_rt_plan_timer_cb, p);
		if ((o = dns_rt_plan_find(rt, p->name)) == NULL)
			continue;
		p->state = o->state;
		p->changed_ms = o->changed_ms;
		p->by = o->by;
		p->executions = o->executions;
		p->rollbacks = o->rollbacks;
	}
	return v;
}

int
dns_gslb_rt_apply(struct dns_gslb_rt *rt, const struct dns_gslb_conf *conf,
    const char *state_dir, const struct plane_target *targets, size_t ntargets)
{
	struct dns_rt_name *onames = rt->names;
	size_t onnames = rt->nnames, i;
	struct dns_rt_plan **plans;
	struct dns_gslb *g;
	bool first = !rt->applied;

	/* Switches counted while the new state takes over count for the
	 * new names. */
	rt->names = dns_rt_names_for(rt, conf, targets, ntargets);
	rt->nnames = conf->nnames;
	rt->who = first ? DNS_RT_WHO_RESTORE : DNS_RT_WHO_CONFIG;
	g = dns_gslb_new(conf, rt->g, ev_now_ms(rt->loop), dns_rt_on_event, rt);
	rt->who = DNS_RT_WHO_HEALTH;
	if (g == NULL) {
		dns_rt_names_free(rt->names, rt->nnames);
		rt->names = onames;
		rt->nnames = onnames;
		return -EINVAL;
	}
	dns_rt_names_free(onames, onnames);
	plans = dns_rt_plans_for(rt, conf);
	dns_rt_plans_free(rt->loop, rt->plans, rt->nplans);
	rt->plans = plans;
	rt->nplans = conf->nplans;
	dns_gslb_free(rt->g);
	rt->g = g;
	rt->conf = conf;
	rt->dyn.answer = dns_gslb_answer;
	rt->dyn.provider = g;
	if (state_dir != NULL &&
	    (rt->state_dir == NULL || strcmp(state_dir, rt->state_dir) != 0)) {
		free(rt->state_dir);
		rt->state_dir = xstrdup(state_dir);
		(void)statefile_mkdir(rt->state_dir);
	}
	rt->applied = true;
	if (first && rt->state_dir != NULL) {
		rt->who = DNS_RT_WHO_RESTORE;
		dns_rt_restore(rt);
		rt->who = DNS_RT_WHO_HEALTH;
	}
	for (i = 0; i < rt->nplans; i++)
		dns_rt_plan_arm(rt->plans[i]);
	dns_rt_rearm(rt);
	dns_rt_dirty(rt);
	return 0;
}

const struct dns_dyn *
dns_gslb_rt_dyn(struct dns_gslb_rt *rt)
{
	return &rt->dyn;
}

/*
 * UP is up and DOWN is down; UNKNOWN (a target not probed yet) is no
 * verdict at all: the pure state counts an address up until one comes,
 * so a cold start serves the config rather than failing over. A target
 * gone from the health config is ours to forget on our next apply.
 */
void
dns_gslb_rt_verdict(struct dns_gslb_rt *rt, const struct ipc_verdict *v)
{
	char target[IPC_NAME_MAX];
	int rc;

	if (rt->g == NULL)
		return;
	rt->verdicts++;
	if (v->gone || v->state == HC_UNKNOWN) {
		rt->verdicts_unknown++;
		return;
	}
	snprintf(target, sizeof(target), "%.*s", (int)sizeof(v->target) - 1,
	    v->target);
	rt->who = DNS_RT_WHO_HEALTH;
	rc = dns_gslb_health(
	    rt->g, target, v->state == HC_UP, ev_now_ms(rt->loop));
	if (rc == -ENOENT) {
		rt->verdicts_foreign++;
		return;
	}
	dns_rt_rearm(rt);
}
