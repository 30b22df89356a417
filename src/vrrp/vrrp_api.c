/*
 * vrrp_api.c - what the virtual IP plane shows: GET /v1/vrrp (each
 * instance's state, priorities, master and recent transitions), GET
 * /v1/vrrp/events (the transitions of every instance as one stream to
 * follow), its Prometheus families, and its lines in `haven status`.
 *
 * Read-only for now: nothing here changes an instance, so the plane's
 * registry row asks for no replay.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hook.h"
#include "lib/json.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "vrrp/vrrp_rt.h"

/* One transition of the stream and its instance. */
struct vrrp_api_ev {
	const struct vrrp_event *e; /* borrowed: in's ring */
	const struct vrrp_inst *in; /* borrowed */
};

static void
vrrp_api_addr(struct jw *w, const char *k, const struct sockaddr_storage *ss)
{
	char a[64];

	jw_key(w, k);
	if (ss->ss_family == AF_UNSPEC)
		jw_null(w);
	else
		jw_str(w, conf_addr_str(ss, a, sizeof(a)));
}

static void
vrrp_api_events(struct jw *w, const struct vrrp_inst *in)
{
	unsigned n = in->nevents < VRRP_EVENTS ? in->nevents : VRRP_EVENTS;
	unsigned i;

	jw_key(w, "transitions");
	jw_arr_begin(w);
	for (i = 0; i < n; i++) {
		const struct vrrp_event *e =
		    &in->events[(in->nevents - 1 - i) % VRRP_EVENTS];

		jw_obj_begin(w);
		jw_kuint(w, "at_ms", e->wall_ms);
		jw_kstr(w, "from", vrrp_state_name(e->from));
		jw_kstr(w, "to", vrrp_state_name(e->to));
		jw_kstr(w, "reason", vrrp_reason_name(e->reason));
		jw_kuint(w, "priority", e->priority);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* What tracking holds against the instance, entry by entry. */
static void
vrrp_api_tracking(struct jw *w, const struct vrrp_inst *in)
{
	const struct vrrp_instance_conf *ic = in->conf;
	size_t i;

	jw_key(w, "tracking");
	jw_arr_begin(w);
	for (i = 0; i < ic->ntrack_interfaces && i < VRRP_TRACK_MAX; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "interface", ic->track_interfaces[i].name);
		jw_kbool(w, "down", in->track_down & (UINT64_C(1) << i));
		jw_kuint(w, "weight", ic->track_interfaces[i].weight);
		jw_obj_end(w);
	}
	for (i = 0; i < ic->ntrack_checks && i < VRRP_TRACK_MAX; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "check", ic->track_checks[i].name);
		jw_kbool(w, "down", in->check_down & (UINT64_C(1) << i));
		jw_kuint(w, "weight", ic->track_checks[i].weight);
		jw_obj_end(w);
	}
	for (i = 0; i < in->npools; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "pool", ic->track_pools[i].pool);
		jw_kbool(w, "down", in->pool_short & (UINT64_C(1) << i));
		jw_kuint(w, "usable", in->pools[i].usable);
		jw_kuint(w, "servers", in->pools[i].nservers);
		jw_kuint(w, "min_up", ic->track_pools[i].min_up);
		jw_kuint(w, "weight", ic->track_pools[i].weight);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* havip's owner probes: is the node the VPC routes the VIP to alive? */
static void
vrrp_api_owner_probes(struct jw *w, const struct vrrp_tk *tk)
{
	size_t d;

	jw_key(w, "owner_probes");
	jw_obj_begin(w);
	jw_kuint(w, "sent", tk->owner_sent);
	jw_kuint(w, "answered", tk->owner_ok);
	jw_kuint(w, "missed", tk->owner_missed);
	jw_kuint(w, "unsent", tk->owner_unsent);
	jw_kuint(w, "owner_lost", tk->owner_lost);
	jw_key(w, "replies_discarded");
	jw_obj_begin(w);
	for (d = 1; d < VRRP_TK_ICMP__COUNT; d++)
		jw_kuint(w, vrrp_tk_icmp_drop_name(d), tk->owner_drops[d]);
	jw_obj_end(w);
	jw_obj_end(w);
}

/*
 * The exec backend's runs (its probes above are its describe runs):
 * attempt is the acquire the current round is at, 0 when none is due.
 */
static void
vrrp_api_tk_exec(struct jw *w, const struct vrrp_inst *in)
{
	const struct vrrp_tk_exec_stats *x = vrrp_tk_exec_stats(in);

	if (x == NULL)
		return;
	jw_key(w, "exec");
	jw_obj_begin(w);
	jw_kuint(w, "attempt", x->attempt);
	jw_kuint(w, "retries_max", in->conf->exec.retries);
	jw_kuint(w, "runs", x->runs);
	jw_kuint(w, "failures", x->failures);
	jw_kuint(w, "timeouts", x->timeouts);
	jw_kuint(w, "retries", x->retries);
	jw_kuint(w, "releases", x->releases);
	jw_key(w, "acquire_verified_seconds");
	if (!x->verified_once)
		jw_null(w);
	else
		jw_double(w, (double)x->verify_us / 1e6);
	jw_obj_end(w);
}

/*
 * The takeover backend: its state and, for a backend that verifies,
 * what it knows about ownership. unverified_master_seconds is time as
 * master without proof that the VIP's traffic reaches this node: in a
 * partition, the time both nodes may have claimed the address.
 */
static void
vrrp_api_takeover(struct jw *w, const struct vrrp_inst *in)
{
	const struct vrrp_tk *tk = &in->tk;
	size_t d;

	jw_key(w, "takeover");
	jw_obj_begin(w);
	jw_kstr(w, "backend", tk->ops->name);
	jw_kstr(w, "state", vrrp_tk_state_name(tk->state));
	jw_kuint(w, "acquires", tk->acquires);
	jw_kuint(w, "failures", tk->failures);
	if (tk->ops->verifies) {
		jw_key(w, "last_verified_ms");
		if (tk->verified_wall_ms == 0)
			jw_null(w);
		else
			jw_uint(w, tk->verified_wall_ms);
		jw_kdouble(w, "unverified_master_seconds",
		    (double)vrrp_tk_unverified_us(tk, util_mono_us()) / 1e6);
		jw_key(w, "verify_seconds");
		if (tk->verify_us == 0 && !tk->verified)
			jw_null(w);
		else
			jw_double(w, (double)tk->verify_us / 1e6);
		jw_kuint(w, "probes_sent", tk->probes_sent);
		jw_kuint(w, "probes_answered", tk->probes_ok);
		jw_kuint(w, "probes_missed", tk->probes_missed);
		jw_kuint(w, "probe_errors", tk->probe_errors);
		jw_kuint(w, "reannounces", tk->reannounces);
		jw_key(w, "replies_discarded");
		jw_obj_begin(w);
		for (d = 1; d < VRRP_TK_ICMP__COUNT; d++)
			jw_kuint(
			    w, vrrp_tk_icmp_drop_name(d), tk->probe_drops[d]);
		jw_obj_end(w);
		vrrp_api_owner_probes(w, tk);
	}
	vrrp_api_tk_exec(w, in);
	jw_obj_end(w);
}

static void
vrrp_api_inst(struct jw *w, const struct vrrp_inst *in)
{
	const struct vrrp_instance_conf *ic = in->conf;

	jw_obj_begin(w);
	jw_kstr(w, "name", in->name);
	jw_kstr(w, "interface", ic->interface);
	jw_kuint(w, "vrid", ic->vrid);
	jw_kuint(w, "version", ic->version);
	jw_kstr(w, "state", vrrp_state_name(in->fsm.state));
	jw_kuint(w, "priority", in->fsm.priority);
	jw_kuint(w, "configured_priority", ic->priority);
	jw_kbool(w, "holding_addresses", in->holding);
	vrrp_api_addr(w, "source", &in->src);
	if (in->fsm.state == VRRP_S_MASTER)
		vrrp_api_addr(w, "master", &in->src);
	else
		vrrp_api_addr(w, "master", &in->master);
	jw_kuint(
	    w, "master_down_interval_us", vrrp_fsm_down_interval_us(&in->fsm));
	jw_kbool(w, "link_down", in->link_down);
	vrrp_api_takeover(w, in);
	vrrp_api_tracking(w, in);
	vrrp_api_events(w, in);
	jw_obj_end(w);
}

/* ?since=N of the events path; 0 when absent. 0 or -1 if malformed. */
static int
vrrp_api_since(const char *q, uint64_t *since)
{
	const char *p;
	char *end;

	*since = 0;
	for (p = q; p != NULL && *p != '\0'; p = strchr(p, '&')) {
		if (*p == '&')
			p++;
		if (strncmp(p, "since=", 6) != 0)
			continue;
		p += 6;
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		*since = strtoull(p, &end, 10);
		if (errno != 0 || (*end != '\0' && *end != '&'))
			return -1;
		return 0;
	}
	return 0;
}

static int
vrrp_api_ev_cmp(const void *a, const void *b)
{
	const struct vrrp_event *x = ((const struct vrrp_api_ev *)a)->e;
	const struct vrrp_event *y = ((const struct vrrp_api_ev *)b)->e;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Every transition after since still in the instances' rings, oldest
 * first. Transition numbers leave no gap, so fewer than newest - since
 * of them means some were overwritten (or left with a removed instance):
 * "lost". A since past the newest is a client of an earlier process (the
 * numbers restart with it): it gets everything kept, also marked lost.
 */
static int
vrrp_api_stream(struct vrrp_rt *rt, const char *query, struct buf *out)
{
	struct vrrp_api_ev *v = NULL;
	uint64_t since, oldest = 0;
	size_t n = 0, cap = 0, i;
	unsigned k, kept;
	bool lost;
	struct jw w;

	if (vrrp_api_since(query, &since) != 0) {
		buf_puts(out, "{\"error\":\"since: expected a number\"}");
		return 400;
	}
	lost = since > rt->seq;
	if (lost)
		since = 0;
	for (i = 0; i < rt->ninsts; i++) {
		const struct vrrp_inst *in = rt->insts[i];

		kept = MIN(in->nevents, VRRP_EVENTS);
		for (k = 0; k < kept; k++) {
			const struct vrrp_event *e =
			    &in->events[(in->nevents - 1 - k) % VRRP_EVENTS];

			if (oldest == 0 || e->seq < oldest)
				oldest = e->seq;
			if (e->seq <= since)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[n].e = e;
			v[n++].in = in;
		}
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), vrrp_api_ev_cmp);
	if (n < rt->seq - since)
		lost = true;
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kuint(&w, "newest", rt->seq);
	jw_kuint(&w, "oldest", oldest);
	jw_kbool(&w, "lost", lost);
	jw_key(&w, "events");
	jw_arr_begin(&w);
	for (i = 0; i < n; i++) {
		jw_obj_begin(&w);
		jw_kuint(&w, "seq", v[i].e->seq);
		jw_kstr(&w, "instance", v[i].in->name);
		jw_kuint(&w, "at_ms", v[i].e->wall_ms);
		jw_kstr(&w, "from", vrrp_state_name(v[i].e->from));
		jw_kstr(&w, "to", vrrp_state_name(v[i].e->to));
		jw_kstr(&w, "reason", vrrp_reason_name(v[i].e->reason));
		jw_kuint(&w, "priority", v[i].e->priority);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	free(v);
	return jw_finish(&w) == 0 ? 200 : 500;
}

int
vrrp_api_query(
    struct vrrp_rt *rt, const char *method, const char *path, struct buf *out)
{
	size_t plen = strcspn(path, "?");
	struct jw w;
	size_t i;

	if (strcmp(method, "GET") != 0) {
		buf_puts(out, "{\"error\":\"method not allowed\"}");
		return 405;
	}
	if (plen == strlen("/v1/vrrp/events") &&
	    strncmp(path, "/v1/vrrp/events", plen) == 0)
		return vrrp_api_stream(
		    rt, path[plen] == '?' ? path + plen + 1 : "", out);
	if ((plen != 8 && plen != 9) || strncmp(path, "/v1/vrrp/", plen) != 0) {
		buf_puts(out, "{\"error\":\"not found\"}");
		return 404;
	}
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_key(&w, "instances");
	jw_arr_begin(&w);
	for (i = 0; i < rt->ninsts; i++)
		vrrp_api_inst(&w, rt->insts[i]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w) == 0 ? 200 : 500;
}

typedef uint64_t vrrp_api_stat_fn(const struct vrrp_inst *in);

static uint64_t
vrrp_api_to_master(const struct vrrp_inst *in)
{
	return in->fsm.st.to_master;
}

static uint64_t
vrrp_api_sent(const struct vrrp_inst *in)
{
	return in->fsm.st.adverts_sent;
}

static uint64_t
vrrp_api_rx(const struct vrrp_inst *in)
{
	return in->rx_adverts;
}

static uint64_t
vrrp_api_dual(const struct vrrp_inst *in)
{
	return in->fsm.st.dual_master;
}

static uint64_t
vrrp_api_late(const struct vrrp_inst *in)
{
	return in->fsm.st.late_timers;
}

static uint64_t
vrrp_api_send_err(const struct vrrp_inst *in)
{
	return in->send_errors;
}

static uint64_t
vrrp_api_addr_err(const struct vrrp_inst *in)
{
	return in->addr_errors;
}

static uint64_t
vrrp_api_garp(const struct vrrp_inst *in)
{
	return in->garp_sent;
}

static uint64_t
vrrp_api_state(const struct vrrp_inst *in)
{
	return (uint64_t)in->fsm.state;
}

static uint64_t
vrrp_api_prio(const struct vrrp_inst *in)
{
	return in->fsm.priority;
}

static const struct {
	const char *name, *type, *help;
	vrrp_api_stat_fn *fn;
} vrrp_api_families[] = {
	{ "haven_vrrp_state", "gauge", "0 init, 1 backup, 2 master, 3 fault",
	    vrrp_api_state },
	{ "haven_vrrp_priority", "gauge", "effective priority", vrrp_api_prio },
	{ "haven_vrrp_became_master_total", "counter", "transitions to master",
	    vrrp_api_to_master },
	{ "haven_vrrp_adverts_sent_total", "counter", "adverts sent",
	    vrrp_api_sent },
	{ "haven_vrrp_adverts_received_total", "counter",
	    "adverts accepted for this instance", vrrp_api_rx },
	{ "haven_vrrp_dual_master_total", "counter",
	    "adverts from another master while master (split brain)",
	    vrrp_api_dual },
	{ "haven_vrrp_late_timers_total", "counter",
	    "timers run more than an interval late (stalled process)",
	    vrrp_api_late },
	{ "haven_vrrp_send_errors_total", "counter", "adverts not sent",
	    vrrp_api_send_err },
	{ "haven_vrrp_address_errors_total", "counter",
	    "virtual address changes the kernel refused", vrrp_api_addr_err },
	{ "haven_vrrp_announcements_total", "counter",
	    "gratuitous ARP / unsolicited NA frames sent", vrrp_api_garp },
};

/* The notify hooks' runner: one queue for the process, no label. */
static void
vrrp_api_notify_metrics(struct vrrp_rt *rt, struct buf *out)
{
	static const struct hook_stats none;
	const struct hook_stats *st =
	    vrrp_notify_stats(rt) != NULL ? vrrp_notify_stats(rt) : &none;
	const struct {
		const char *name, *help;
		uint64_t v;
	} rows[] = {
		{ "haven_vrrp_notify_runs_total", "notify hook runs started",
		    st->runs },
		{ "haven_vrrp_notify_failed_total",
		    "notify hooks that failed or timed out", st->failed },
		{ "haven_vrrp_notify_timeouts_total",
		    "notify hook runs killed at notify_timeout", st->timeouts },
		{ "haven_vrrp_notify_dropped_total",
		    "notify hook runs not queued: queue full", st->dropped },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		mx_family(out, rows[i].name, "counter", rows[i].help);
		mx_u64(out, rows[i].name, NULL, rows[i].v);
	}
}

static uint64_t
vrrp_api_tk_sent(const struct vrrp_inst *in)
{
	return in->tk.probes_sent;
}

static uint64_t
vrrp_api_tk_ok(const struct vrrp_inst *in)
{
	return in->tk.probes_ok;
}

static uint64_t
vrrp_api_tk_missed(const struct vrrp_inst *in)
{
	return in->tk.probes_missed;
}

static uint64_t
vrrp_api_tk_reann(const struct vrrp_inst *in)
{
	return in->tk.reannounces;
}

static uint64_t
vrrp_api_tk_osent(const struct vrrp_inst *in)
{
	return in->tk.owner_sent;
}

static uint64_t
vrrp_api_tk_ook(const struct vrrp_inst *in)
{
	return in->tk.owner_ok;
}

static uint64_t
vrrp_api_tk_omissed(const struct vrrp_inst *in)
{
	return in->tk.owner_missed;
}

static uint64_t
vrrp_api_tk_ounsent(const struct vrrp_inst *in)
{
	return in->tk.owner_unsent;
}

static uint64_t
vrrp_api_tk_olost(const struct vrrp_inst *in)
{
	return in->tk.owner_lost;
}

static uint64_t
vrrp_api_tk_owner(const struct vrrp_inst *in)
{
	return in->tk.state == VRRP_TK_OWNER;
}

/* Families of verifying backends only: "local" has nothing to show. */
static const struct {
	const char *name, *type, *help;
	vrrp_api_stat_fn *fn;
} vrrp_api_tk_families[] = {
	{ "haven_vrrp_takeover_owner", "gauge",
	    "1 when probes prove the VIP's traffic reaches this node",
	    vrrp_api_tk_owner },
	{ "haven_vrrp_takeover_probes_total", "counter",
	    "ownership probes sent", vrrp_api_tk_sent },
	{ "haven_vrrp_takeover_probes_answered_total", "counter",
	    "ownership probes answered", vrrp_api_tk_ok },
	{ "haven_vrrp_takeover_probes_missed_total", "counter",
	    "ownership probes unanswered by the next one", vrrp_api_tk_missed },
	{ "haven_vrrp_takeover_reannounces_total", "counter",
	    "back-off announcements while not owner and blind (owner probe "
	    "not sent)",
	    vrrp_api_tk_reann },
	{ "haven_vrrp_takeover_owner_probes_total", "counter",
	    "owner probes sent while not owner (echo to the VIP via the "
	    "gateway)",
	    vrrp_api_tk_osent },
	{ "haven_vrrp_takeover_owner_probes_answered_total", "counter",
	    "owner probes answered: the node holding the VIP is alive",
	    vrrp_api_tk_ook },
	{ "haven_vrrp_takeover_owner_probes_missed_total", "counter",
	    "owner probes unanswered by the next one", vrrp_api_tk_omissed },
	{ "haven_vrrp_takeover_owner_probes_unsent_total", "counter",
	    "owner probes not built or sent: the back-off applied",
	    vrrp_api_tk_ounsent },
	{ "haven_vrrp_takeover_owner_lost_total", "counter",
	    "owner found gone (probe_fall owner probes unanswered): announced",
	    vrrp_api_tk_olost },
};

static void
vrrp_api_tk_metrics(struct vrrp_rt *rt, struct buf *out, struct buf *l)
{
	uint64_t now = util_mono_us();
	size_t f, i, d;

	for (f = 0; f < ARRAY_SIZE(vrrp_api_tk_families); f++) {
		mx_family(out, vrrp_api_tk_families[f].name,
		    vrrp_api_tk_families[f].type, vrrp_api_tk_families[f].help);
		for (i = 0; i < rt->ninsts; i++) {
			if (!rt->insts[i]->tk.ops->verifies)
				continue;
			buf_reset(l);
			mx_label(l, "instance", rt->insts[i]->name);
			mx_u64(out, vrrp_api_tk_families[f].name, l->data,
			    vrrp_api_tk_families[f].fn(rt->insts[i]));
		}
	}
	mx_family(out, "haven_vrrp_unverified_master_seconds_total", "counter",
	    "time as master without proof of owning the VIP (dual master)");
	mx_family(out, "haven_vrrp_takeover_verify_seconds", "gauge",
	    "last takeover: from becoming master to the first proof");
	mx_family(out, "haven_vrrp_takeover_replies_discarded_total", "counter",
	    "probe replies discarded, by reason");
	mx_family(out, "haven_vrrp_takeover_owner_replies_discarded_total",
	    "counter", "owner probe replies discarded, by reason");
	for (i = 0; i < rt->ninsts; i++) {
		const struct vrrp_tk *tk = &rt->insts[i]->tk;

		if (!tk->ops->verifies)
			continue;
		buf_reset(l);
		mx_label(l, "instance", rt->insts[i]->name);
		mx_f64(out, "haven_vrrp_unverified_master_seconds_total",
		    l->data, (double)vrrp_tk_unverified_us(tk, now) / 1e6);
		mx_f64(out, "haven_vrrp_takeover_verify_seconds", l->data,
		    (double)tk->verify_us / 1e6);
		for (d = 1; d < VRRP_TK_ICMP__COUNT; d++) {
			buf_reset(l);
			mx_label(l, "instance", rt->insts[i]->name);
			mx_label(l, "reason", vrrp_tk_icmp_drop_name(d));
			mx_u64(out,
			    "haven_vrrp_takeover_replies_discarded_total",
			    l->data, tk->probe_drops[d]);
			mx_u64(out,
			    "haven_vrrp_takeover_owner_replies_discarded_total",
			    l->data, tk->owner_drops[d]);
		}
	}
}

/* The exec backend's instances only. */
static void
vrrp_api_tk_exec_metrics(struct vrrp_rt *rt, struct buf *out, struct buf *l)
{
	static const struct {
		const char *name, *help;
	} rows[] = {
		{ "haven_vrrp_takeover_exec_runs_total",
		    "exec takeover commands started (acquire, describe, "
		    "release)" },
		{ "haven_vrrp_takeover_exec_failures_total",
		    "exec takeover commands that failed or timed out" },
		{ "haven_vrrp_takeover_exec_timeouts_total",
		    "exec takeover commands killed at exec.timeout" },
		{ "haven_vrrp_takeover_exec_retries_total",
		    "acquires after the first of a round" },
	};
	const struct vrrp_tk_exec_stats *x;
	uint64_t v[ARRAY_SIZE(rows)];
	size_t f, i;

	for (f = 0; f < ARRAY_SIZE(rows); f++) {
		mx_family(out, rows[f].name, "counter", rows[f].help);
		for (i = 0; i < rt->ninsts; i++) {
			if ((x = vrrp_tk_exec_stats(rt->insts[i])) == NULL)
				continue;
			v[0] = x->runs;
			v[1] = x->failures;
			v[2] = x->timeouts;
			v[3] = x->retries;
			buf_reset(l);
			mx_label(l, "instance", rt->insts[i]->name);
			mx_u64(out, rows[f].name, l->data, v[f]);
		}
	}
	mx_family(out, "haven_vrrp_takeover_exec_verify_seconds", "gauge",
	    "last round: from its first acquire to describe's proof");
	for (i = 0; i < rt->ninsts; i++) {
		if ((x = vrrp_tk_exec_stats(rt->insts[i])) == NULL)
			continue;
		buf_reset(l);
		mx_label(l, "instance", rt->insts[i]->name);
		mx_f64(out, "haven_vrrp_takeover_exec_verify_seconds", l->data,
		    (double)x->verify_us / 1e6);
	}
}

void
vrrp_api_metrics(struct vrrp_rt *rt, struct buf *out)
{
	struct buf l;
	size_t f, i;
	int d;

	buf_init(&l);
	for (f = 0; f < ARRAY_SIZE(vrrp_api_families); f++) {
		mx_family(out, vrrp_api_families[f].name,
		    vrrp_api_families[f].type, vrrp_api_families[f].help);
		for (i = 0; i < rt->ninsts; i++) {
			buf_reset(&l);
			mx_label(&l, "instance", rt->insts[i]->name);
			mx_u64(out, vrrp_api_families[f].name, l.data,
			    vrrp_api_families[f].fn(rt->insts[i]));
		}
	}
	vrrp_api_tk_metrics(rt, out, &l);
	vrrp_api_tk_exec_metrics(rt, out, &l);
	mx_family(out, "haven_vrrp_adverts_discarded_total", "counter",
	    "adverts discarded, by the RFC 9568 / 3768 rule they broke");
	for (d = 1; d < VRRP_DROP__COUNT; d++) {
		buf_reset(&l);
		mx_label(&l, "reason", vrrp_drop_name((enum vrrp_drop)d));
		mx_u64(out, "haven_vrrp_adverts_discarded_total", l.data,
		    rt->drops[d]);
	}
	buf_fini(&l);
	vrrp_api_notify_metrics(rt, out);
}

/* The scalar at path below n, or "-"; valid until the next call but three. */
static const char *
vrrp_status_str(struct conf_node *n, const char *path)
{
	static char bufs[4][128];
	static unsigned k;
	char *out = bufs[k++ % 4], *s;

	if ((s = conf_node_text(conf_node_at(n, path))) == NULL)
		return "-";
	snprintf(out, sizeof(bufs[0]), "%s", s);
	free(s);
	return out;
}

/* A verifying backend's line under its instance; nothing for local. */
static void
vrrp_status_takeover(struct conf_node *tk)
{
	struct conf_node *x;
	char ago[48] = "never", att[48];
	char *v;
	uint64_t at, now = util_wall_ms();

	if (conf_node_at(tk, "/unverified_master_seconds") == NULL)
		return;
	v = conf_node_text(conf_node_at(tk, "/last_verified_ms"));
	if (v != NULL && (at = strtoull(v, NULL, 10)) != 0)
		snprintf(ago, sizeof(ago), "%.1fs ago",
		    now > at ? (double)(now - at) / 1e3 : 0.0);
	free(v);
	printf("  takeover %s: %s, last verified %s,",
	    vrrp_status_str(tk, "/backend"), vrrp_status_str(tk, "/state"),
	    ago);
	printf(" verify %ss, unverified master %ss\n",
	    vrrp_status_str(tk, "/verify_seconds"),
	    vrrp_status_str(tk, "/unverified_master_seconds"));
	if ((x = conf_node_at(tk, "/exec")) == NULL)
		return;
	snprintf(att, sizeof(att), "%s/%s", vrrp_status_str(x, "/attempt"),
	    vrrp_status_str(x, "/retries_max"));
	printf("  exec: attempt %s, runs %s, failures %s, timeouts %s,", att,
	    vrrp_status_str(x, "/runs"), vrrp_status_str(x, "/failures"),
	    vrrp_status_str(x, "/timeouts"));
	printf(" acquire->verified %ss\n",
	    vrrp_status_str(x, "/acquire_verified_seconds"));
}

/* A line under the instance per tracked pool: the usable count counts. */
static void
vrrp_status_pools(struct conf_node *in)
{
	struct conf_node *tr = conf_node_at(in, "/tracking"), *t;
	char up[64];

	for (size_t i = 0; (t = conf_node_item(tr, i)) != NULL; i++) {
		if (conf_node_at(t, "/pool") == NULL)
			continue;
		/* vrrp_status_str keeps four results: two printfs. */
		snprintf(up, sizeof(up), "%s/%s", vrrp_status_str(t, "/usable"),
		    vrrp_status_str(t, "/servers"));
		printf("  pool %s: %s up, min_up %s, weight %s",
		    vrrp_status_str(t, "/pool"), up,
		    vrrp_status_str(t, "/min_up"),
		    vrrp_status_str(t, "/weight"));
		printf("%s\n",
		    strcmp(vrrp_status_str(t, "/down"), "true") == 0 ?
		        " (short: weight applies)" :
		        "");
	}
}

void
vrrp_status_print(struct conf_node *root)
{
	struct conf_node *insts = conf_node_at(root, "/instances"), *in, *t;
	char prio[32], last[160];

	if (conf_node_count(insts) == 0)
		return;
	printf("\n%-16s %-8s %-10s %-20s %s\n", "VRRP INSTANCE", "STATE",
	    "PRIORITY", "MASTER", "LAST TRANSITION");
	for (size_t i = 0; (in = conf_node_item(insts, i)) != NULL; i++) {
		snprintf(prio, sizeof(prio), "%s/%s",
		    vrrp_status_str(in, "/priority"),
		    vrrp_status_str(in, "/configured_priority"));
		t = conf_node_item(conf_node_at(in, "/transitions"), 0);
		if (t == NULL)
			snprintf(last, sizeof(last), "-");
		else
			snprintf(last, sizeof(last), "%s -> %s (%s)",
			    vrrp_status_str(t, "/from"),
			    vrrp_status_str(t, "/to"),
			    vrrp_status_str(t, "/reason"));
		printf("%-16s %-8s %-10s %-20s %s\n",
		    vrrp_status_str(in, "/name"), vrrp_status_str(in, "/state"),
		    prio, vrrp_status_str(in, "/master"), last);
		vrrp_status_takeover(conf_node_at(in, "/takeover"));
		vrrp_status_pools(in);
	}
}
