/*
 * vrrp_inst.c - one virtual router on this node: the state machine
 * (vrrp_fsm.c) wired to the clock, the raw socket and its takeover
 * backend (vrrp_tk.h: addresses, announcements, ownership checks).
 *
 * The machine is pure and answers every input with a list of actions;
 * vrrp_inst_act() performs them in order and then arms the one timer at
 * the machine's next deadline. Nothing else decides state: tracking only
 * feeds the machine a priority or a fault.
 *
 * Time is CLOCK_MONOTONIC in microseconds, read fresh at every input (the
 * loop's cached time may be a whole callback old, and a 10 ms advert
 * interval has no room for that). ev timers have millisecond resolution;
 * a timer that fires early does nothing and is re-armed (vrrp_fsm_timer
 * ignores an early call), so rounding costs at most a millisecond.
 */
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/plane.h"
#include "lib/util.h"
#include "vrrp/vrrp_rt.h"

static uint64_t
vrrp_inst_now(void)
{
	return util_mono_us();
}

static const uint8_t *
vrrp_inst_ip_bytes(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (const uint8_t *)&((const struct sockaddr_in *)ss)
		    ->sin_addr;
	return (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
}

static size_t
vrrp_inst_alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static void
vrrp_inst_arm(struct vrrp_inst *in)
{
	uint64_t d = vrrp_fsm_next_deadline(&in->fsm), now, ms;

	ev_timer_stop(in->rt->loop, &in->timer);
	if (d == UINT64_MAX)
		return;
	now = vrrp_inst_now();
	ms = d > now ? (d - now + 999) / 1000 : 0;
	ev_timer_start(in->rt->loop, &in->timer, ms);
}

static void
vrrp_inst_log_event(struct vrrp_inst *in, enum vrrp_reason reason)
{
	struct vrrp_event *e = &in->events[in->nevents % VRRP_EVENTS];
	enum vrrp_state to = in->fsm.state;

	if (to == in->last_state)
		return;
	e->seq = ++in->rt->seq;
	e->wall_ms = util_wall_ms();
	e->from = in->last_state;
	e->to = to;
	e->reason = reason;
	e->priority = in->fsm.priority;
	in->nevents++;
	log_notice("vrrp transition",
	    "instance=%s from=%s to=%s reason=%s "
	    "priority=%u",
	    log_q(in->name), vrrp_state_name(e->from), vrrp_state_name(to),
	    vrrp_reason_name(reason), in->fsm.priority);
	in->last_state = to;
	vrrp_notify_transition(in, e);
}

/* One advert to every destination: the group, or each unicast peer. */
static void
vrrp_inst_send(struct vrrp_inst *in, const struct vrrp_action *a)
{
	const struct vrrp_instance_conf *ic = in->conf;
	struct sockaddr_storage group;
	struct vrrp_pkt pkt;
	struct vrrp_ip ip;
	uint8_t buf[VRRP_PKT_MAX + VRRP_V2_AUTH_LEN + VRRP_AUTH_TRAILER];
	size_t i, ndst = ic->npeers ? ic->npeers : 1;
	int n, rc;

	if (a->priority == VRRP_PRIO_STOP && !ic->stop_zero)
		return;
	memset(&pkt, 0, sizeof(pkt));
	pkt.version = (uint8_t)ic->version;
	pkt.vrid = (uint8_t)ic->vrid;
	pkt.priority = a->priority;
	pkt.naddrs = (uint8_t)ic->nvaddrs;
	pkt.interval_cs = ic->version == 3 ? a->max_adver_int :
	                                     (uint16_t)(a->max_adver_int * 100);
	pkt.csum = VRRP_CSUM_AUTO;
	if (ic->version == 3 && ic->family == AF_INET)
		pkt.csum = ic->checksum == VRRP_CONF_CSUM_MESSAGE ?
		    VRRP_CSUM_MSG :
		    VRRP_CSUM_PSEUDO;
	pkt.addrs = in->addrs;
	vrrp_sock_group(ic->family, &group);
	memset(&ip, 0, sizeof(ip));
	ip.family = ic->family;
	memcpy(
	    ip.src.b, vrrp_inst_ip_bytes(&in->src), vrrp_inst_alen(ic->family));
	for (i = 0; i < ndst; i++) {
		const struct sockaddr_storage *dst =
		    ic->npeers ? &ic->peers[i] : &group;

		memcpy(ip.dst.b, vrrp_inst_ip_bytes(dst),
		    vrrp_inst_alen(ic->family));
		n = vrrp_pkt_encode(&ip, &pkt, buf, sizeof(buf));
		/* One sequence per packet: each peer checks its own. */
		if (n >= 0 && in->auth.on)
			n = vrrp_auth_append(&ip, &in->auth.key,
			    in->auth.tx_seq++, buf, (size_t)n, sizeof(buf));
		if (n < 0) {
			in->send_errors++;
			log_err("vrrp advert not encodable",
			    "instance=%s "
			    "error=%s",
			    log_q(in->name), strerror(-n));
			continue;
		}
		rc =
		    vrrp_sock_send(&in->sock->s, &in->src, dst, buf, (size_t)n);
		if (rc != 0) {
			in->send_errors++;
			log_warn("vrrp advert not sent", "instance=%s error=%s",
			    log_q(in->name), strerror(-rc));
		}
	}
}

/*
 * Hand MASTER to the takeover backend. It reports its state from here on
 * (vrrp_inst_tk_report); a backend that cannot even start is FAILED, and
 * the instance stays master: the election is not the backend's to undo.
 */
static void
vrrp_inst_tk_acquire(struct vrrp_inst *in)
{
	int rc;

	vrrp_tk_begin(&in->tk, vrrp_inst_now());
	if ((rc = in->tk.ops->acquire(in)) != 0) {
		log_err("vrrp takeover failed",
		    "instance=%s backend=%s error=%s", log_q(in->name),
		    in->tk.ops->name, strerror(-rc));
		vrrp_inst_tk_report(in, VRRP_TK_FAILED);
	}
}

static void
vrrp_inst_tk_release(struct vrrp_inst *in)
{
	in->tk.ops->release(in);
	if (in->tk.master_since_us != 0)
		vrrp_tk_end(&in->tk, vrrp_inst_now());
}

void
vrrp_inst_tk_report(struct vrrp_inst *in, enum vrrp_tk_state st)
{
	enum vrrp_tk_state was = in->tk.state;

	if (in->tk.master_since_us == 0 ||
	    !vrrp_tk_set(&in->tk, st, vrrp_inst_now()))
		return;
	log_notice("vrrp takeover", "instance=%s backend=%s from=%s to=%s",
	    log_q(in->name), in->tk.ops->name, vrrp_tk_state_name(was),
	    vrrp_tk_state_name(st));
}

/* Perform what the machine asked, in order, then re-arm its timer. */
static void
vrrp_inst_act(struct vrrp_inst *in, const struct vrrp_actions *acts)
{
	unsigned i;

	for (i = 0; i < acts->n; i++) {
		const struct vrrp_action *a = &acts->v[i];

		switch (a->act) {
		case VRRP_A_SEND_ADVERT:
			vrrp_inst_send(in, a);
			break;
		case VRRP_A_BECOME_MASTER:
			vrrp_inst_log_event(in, a->reason);
			vrrp_inst_tk_acquire(in);
			break;
		case VRRP_A_BECOME_BACKUP:
		case VRRP_A_BECOME_INIT:
		case VRRP_A_BECOME_FAULT:
			vrrp_inst_log_event(in, a->reason);
			vrrp_inst_tk_release(in);
			break;
		}
	}
	vrrp_inst_arm(in);
}

static void
vrrp_inst_timer_cb(struct ev_timer *t, void *arg)
{
	struct vrrp_inst *in = arg;
	struct vrrp_actions acts;

	vrrp_fsm_timer(&in->fsm, vrrp_inst_now(), &acts);
	vrrp_inst_act(in, &acts);
}

/* One tracked thing: down, its weight off the priority; weight 0 faults. */
static void
vrrp_inst_weigh(bool down, uint32_t weight, int64_t *p, bool *fault)
{
	if (!down)
		return;
	if (weight == 0)
		*fault = true;
	*p -= weight;
}

/*
 * The priority tracking gives: the configured one less the weight of each
 * tracked link, check or pool that is down (a pool: fewer usable servers
 * than its min_up), at least 1; FAULT when the instance's own link or a
 * tracked one of weight 0 is down. A check or a pool server not probed
 * yet (after a cold start) counts as up: an instance must not give up its
 * address because the health engine has just started. The owner (255)
 * only faults.
 */
static void
vrrp_inst_tracked(const struct vrrp_inst *in, unsigned *prio, bool *fault)
{
	const struct vrrp_instance_conf *ic = in->conf;
	int64_t p = ic->priority;
	size_t i;

	*fault = in->link_down;
	for (i = 0; i < ic->ntrack_interfaces && i < VRRP_TRACK_MAX; i++)
		vrrp_inst_weigh(in->track_down & (UINT64_C(1) << i),
		    ic->track_interfaces[i].weight, &p, fault);
	for (i = 0; i < ic->ntrack_checks && i < VRRP_TRACK_MAX; i++)
		vrrp_inst_weigh(in->check_down & (UINT64_C(1) << i),
		    ic->track_checks[i].weight, &p, fault);
	for (i = 0; i < ic->ntrack_pools && i < VRRP_TRACK_MAX; i++)
		vrrp_inst_weigh(in->pool_short & (UINT64_C(1) << i),
		    ic->track_pools[i].weight, &p, fault);
	if (ic->priority == VRRP_PRIO_OWNER)
		p = VRRP_PRIO_OWNER;
	*prio = p < 1 ? 1 : (unsigned)p;
}

/*
 * Feed the machine what tracking says. With preempt "after healthy D" a
 * priority that rises (or a fault that clears) comes back at 1 and only
 * reaches its full value after D without a relapse (heal_timer), so a
 * node whose checks just recovered does not take the address back and
 * lose it again on the next flap.
 */
static void
vrrp_inst_retrack(struct vrrp_inst *in, bool healed)
{
	const struct vrrp_instance_conf *ic = in->conf;
	struct vrrp_actions acts;
	unsigned prio;
	bool fault, slow = ic->preempt == VRRP_CONF_PREEMPT_AFTER_HEALTHY;

	vrrp_inst_tracked(in, &prio, &fault);
	if (slow && !healed && prio != VRRP_PRIO_OWNER &&
	    (prio > in->fsm.priority || (in->fsm.fault && !fault))) {
		if (!ev_timer_active(&in->heal_timer))
			ev_timer_start(in->rt->loop, &in->heal_timer,
			    ic->preempt_delay_ms);
		prio = in->fsm.fault ? 1 : in->fsm.priority;
	} else if (!healed && prio < in->fsm.priority)
		ev_timer_stop(in->rt->loop, &in->heal_timer);
	if (prio != in->fsm.priority && prio != VRRP_PRIO_OWNER) {
		vrrp_fsm_set_priority(&in->fsm, vrrp_inst_now(), prio);
		vrrp_inst_arm(in);
	}
	if (fault != in->fsm.fault && in->fsm.state != VRRP_S_INIT) {
		vrrp_fsm_set_fault(&in->fsm, vrrp_inst_now(), fault, &acts);
		vrrp_inst_act(in, &acts);
	}
}

static void
vrrp_inst_heal_cb(struct ev_timer *t, void *arg)
{
	vrrp_inst_retrack(arg, true);
}

void
vrrp_inst_link(struct vrrp_inst *in, const struct vrrp_addr_link *l)
{
	const struct vrrp_instance_conf *ic = in->conf;
	uint64_t before = in->track_down;
	bool was = in->link_down;
	size_t i;

	if (l->ifindex == in->ifindex)
		in->link_down = !l->up || l->gone;
	for (i = 0; i < ic->ntrack_interfaces && i < VRRP_TRACK_MAX; i++) {
		if (strcmp(ic->track_interfaces[i].name, l->ifname) != 0)
			continue;
		if (!l->up || l->gone)
			in->track_down |= UINT64_C(1) << i;
		else
			in->track_down &= ~(UINT64_C(1) << i);
	}
	if (before != in->track_down || was != in->link_down)
		vrrp_inst_retrack(in, false);
}

void
vrrp_inst_check(struct vrrp_inst *in, size_t i, bool down)
{
	uint64_t before = in->check_down, bit = UINT64_C(1) << i;

	if (i >= VRRP_TRACK_MAX)
		return;
	in->check_down = down ? before | bit : before & ~bit;
	if (before != in->check_down)
		vrrp_inst_retrack(in, false);
}

/* Count pool i's servers the health engine does not report down. */
static bool
vrrp_inst_pool_count(struct vrrp_inst *in, const struct vrrp_instance_conf *ic,
    size_t i, uint64_t *bits)
{
	struct vrrp_pool_track *pt = &in->pools[i];
	uint64_t bit = UINT64_C(1) << i, before = *bits;
	size_t k;

	pt->usable = 0;
	for (k = 0; k < pt->nservers; k++)
		if (namemap_get(&in->rt->down, pt->servers[k]) == NULL)
			pt->usable++;
	if (pt->usable < ic->track_pools[i].min_up)
		*bits |= bit;
	else
		*bits &= ~bit;
	return *bits != before;
}

static void
vrrp_inst_pools_free(struct vrrp_inst *in)
{
	size_t i, k;

	for (i = 0; i < in->npools; i++) {
		for (k = 0; k < in->pools[i].nservers; k++)
			free(in->pools[i].servers[k]);
		free(in->pools[i].servers);
	}
	free(in->pools);
	in->pools = NULL;
	in->npools = 0;
}

void
vrrp_inst_pools_bind(struct vrrp_inst *in, const struct vrrp_instance_conf *ic,
    const struct plane_target *targets, size_t ntargets)
{
	size_t i, j, n = ic->ntrack_pools;

	vrrp_inst_pools_free(in);
	if (n > VRRP_TRACK_MAX)
		n = VRRP_TRACK_MAX;
	in->pools = n ? xcalloc(n, sizeof(*in->pools)) : NULL;
	in->npools = n;
	in->pool_short = 0;
	for (i = 0; i < n; i++) {
		struct vrrp_pool_track *pt = &in->pools[i];

		for (j = 0; j < ntargets; j++) {
			if (!vrrp_conf_pool_server(
			        &targets[j], ic->track_pools[i].pool))
				continue;
			pt->servers = xrealloc(pt->servers,
			    (pt->nservers + 1) * sizeof(*pt->servers));
			pt->servers[pt->nservers++] = xstrdup(targets[j].name);
		}
		(void)vrrp_inst_pool_count(in, ic, i, &in->pool_short);
	}
}

void
vrrp_inst_pool_recount(struct vrrp_inst *in, size_t i)
{
	if (i < in->npools &&
	    vrrp_inst_pool_count(in, in->conf, i, &in->pool_short))
		vrrp_inst_retrack(in, false);
}

/* The state of every link the instance watches, at start. */
static void
vrrp_inst_links_init(struct vrrp_inst *in)
{
	const struct vrrp_instance_conf *ic = in->conf;
	struct vrrp_addr_link l;
	size_t i;
	int idx;

	in->track_down = 0;
	in->link_down = false;
	if (!in->rt->nl_ok)
		return;
	if (vrrp_addr_link_get(&in->rt->nl, in->ifindex, &l) == 0)
		in->link_down = !l.up;
	for (i = 0; i < ic->ntrack_interfaces && i < VRRP_TRACK_MAX; i++) {
		idx = vrrp_addr_ifindex(
		    &in->rt->nl, ic->track_interfaces[i].name);
		if (idx <= 0 || vrrp_addr_link_get(&in->rt->nl, idx, &l) != 0 ||
		    !l.up)
			in->track_down |= UINT64_C(1) << i;
	}
}

static void
vrrp_inst_fsm_conf(const struct vrrp_instance_conf *ic,
    const struct sockaddr_storage *src, struct vrrp_fsm_conf *fc)
{
	memset(fc, 0, sizeof(*fc));
	fc->version = ic->version;
	fc->vrid = ic->vrid;
	fc->priority = ic->priority;
	fc->adver_us = ic->advert_interval_ms * 1000;
	fc->accept_mode = ic->accept;
	switch (ic->preempt) {
	case VRRP_CONF_PREEMPT_NEVER:
		fc->preempt = VRRP_PREEMPT_NEVER;
		break;
	case VRRP_CONF_PREEMPT_AFTER:
		fc->preempt = VRRP_PREEMPT_AFTER;
		fc->preempt_delay_us = ic->preempt_delay_ms * 1000;
		break;
	default: /* immediate; after healthy holds the priority back */
		fc->preempt = VRRP_PREEMPT_IMMEDIATE;
		break;
	}
	fc->self.family = ic->family;
	memcpy(fc->self.bytes, vrrp_inst_ip_bytes(src),
	    vrrp_inst_alen(ic->family));
}

struct vrrp_inst *
vrrp_inst_new(struct vrrp_rt *rt, const struct vrrp_instance_conf *ic,
    struct conf_errors *errs)
{
	struct vrrp_inst *in = calloc(1, sizeof(*in));
	struct vrrp_fsm_conf fc;
	const char *why;
	char err[256];
	size_t i, alen = vrrp_inst_alen(ic->family);
	int rc;

	if (in == NULL) {
		conf_errors_addf(errs, NULL, 0, 0, "vrrp: out of memory");
		return NULL;
	}
	in->rt = rt;
	in->conf = ic;
	snprintf(in->name, sizeof(in->name), "%s", ic->name);
	in->last_state = VRRP_S_INIT;
	ev_timer_init(&in->timer, vrrp_inst_timer_cb, in);
	ev_timer_init(&in->heal_timer, vrrp_inst_heal_cb, in);
	for (i = 0; i < ic->nvaddrs; i++)
		memcpy(in->addrs + i * alen,
		    vrrp_inst_ip_bytes(&ic->vaddrs[i].addr), alen);
	in->sock =
	    vrrp_rt_sock(rt, ic->interface, ic->family, err, sizeof(err));
	if (in->sock == NULL)
		goto fail;
	in->ifindex = (int)in->sock->s.ifindex;
	if (ic->unicast_src.ss_family != AF_UNSPEC)
		in->src = ic->unicast_src;
	else if ((rc = vrrp_sock_src(ic->family, ic->interface,
	              &ic->vaddrs[0].addr, ic->nvaddrs,
	              sizeof(struct vrrp_vaddr), &in->src)) != 0) {
		snprintf(err, sizeof(err),
		    "interface %s has no %s address to advertise from",
		    ic->interface,
		    ic->family == AF_INET ? "IPv4" : "IPv6 link-local");
		goto fail;
	}
	in->tk.ops = vrrp_tk_ops_of(ic->takeover);
	if ((rc = in->tk.ops->init(in)) != 0) {
		in->tk.ops = NULL;
		snprintf(err, sizeof(err), "takeover %s: %s",
		    vrrp_tk_ops_of(ic->takeover)->name, strerror(-rc));
		goto fail;
	}
	vrrp_inst_fsm_conf(ic, &in->src, &fc);
	if (vrrp_fsm_init(&in->fsm, &fc) != 0) {
		vrrp_fsm_conf_check(&fc, &why);
		snprintf(err, sizeof(err), "%s", why);
		goto fail;
	}
	return in;
fail:
	conf_errors_addf(
	    errs, NULL, 0, 0, "vrrp instance %s: %s", ic->name, err);
	vrrp_inst_free(in);
	return NULL;
}

/*
 * A running instance takes a new conf in place when it is the same
 * virtual router with the same wire behaviour; anything else is a new
 * instance (the old one leaves with priority 0, the new one joins).
 */
bool
vrrp_inst_same(const struct vrrp_inst *in, const struct vrrp_instance_conf *ic)
{
	const struct vrrp_instance_conf *o = in->conf;
	size_t i;

	if (strcmp(o->interface, ic->interface) != 0 || o->vrid != ic->vrid ||
	    o->version != ic->version || o->family != ic->family ||
	    o->advert_interval_ms != ic->advert_interval_ms ||
	    o->preempt != ic->preempt ||
	    o->preempt_delay_ms != ic->preempt_delay_ms ||
	    o->accept != ic->accept || o->nvaddrs != ic->nvaddrs ||
	    o->npeers != ic->npeers || o->takeover != ic->takeover ||
	    memcmp(&o->havip.gateway, &ic->havip.gateway,
	        sizeof(o->havip.gateway)) ||
	    memcmp(&o->unicast_src, &ic->unicast_src, sizeof(o->unicast_src)))
		return false;
	if ((o->priority == VRRP_PRIO_OWNER) !=
	    (ic->priority == VRRP_PRIO_OWNER))
		return false;
	for (i = 0; i < o->nvaddrs; i++)
		if (memcmp(&o->vaddrs[i], &ic->vaddrs[i], sizeof(o->vaddrs[i])))
			return false;
	for (i = 0; i < o->npeers; i++)
		if (memcmp(&o->peers[i], &ic->peers[i], sizeof(o->peers[i])))
			return false;
	return true;
}

/* The check bits of the old conf, carried over by name to the new one. */
static uint64_t
vrrp_inst_checks_remap(
    const struct vrrp_inst *in, const struct vrrp_instance_conf *ic)
{
	const struct vrrp_instance_conf *o = in->conf;
	uint64_t bits = 0;
	size_t i, j;

	for (i = 0; i < o->ntrack_checks && i < VRRP_TRACK_MAX; i++) {
		if (!(in->check_down & (UINT64_C(1) << i)))
			continue;
		for (j = 0; j < ic->ntrack_checks && j < VRRP_TRACK_MAX; j++)
			if (strcmp(o->track_checks[i].name,
			        ic->track_checks[j].name) == 0)
				bits |= UINT64_C(1) << j;
	}
	return bits;
}

void
vrrp_inst_update(struct vrrp_inst *in, const struct vrrp_instance_conf *ic)
{
	in->check_down = vrrp_inst_checks_remap(in, ic);
	in->conf = ic;
	/* fsm.conf.priority is the base tracking subtracts from. */
	in->fsm.conf.priority = ic->priority;
	vrrp_inst_links_init(in);
	vrrp_inst_retrack(in, false);
}

void
vrrp_inst_start(struct vrrp_inst *in)
{
	struct vrrp_actions acts;
	unsigned prio;
	bool fault;

	vrrp_inst_links_init(in);
	vrrp_inst_tracked(in, &prio, &fault);
	if (in->conf->preempt == VRRP_CONF_PREEMPT_AFTER_HEALTHY &&
	    prio != VRRP_PRIO_OWNER) {
		/* Healthy for D before it may take over a lower master. */
		vrrp_fsm_set_priority(&in->fsm, vrrp_inst_now(), 1);
		ev_timer_start(
		    in->rt->loop, &in->heal_timer, in->conf->preempt_delay_ms);
	} else if (prio != in->fsm.priority && prio != VRRP_PRIO_OWNER) {
		vrrp_fsm_set_priority(&in->fsm, vrrp_inst_now(), prio);
	}
	if (vrrp_fsm_startup(&in->fsm, vrrp_inst_now(), &acts) == 0)
		vrrp_inst_act(in, &acts);
	if (fault) {
		vrrp_fsm_set_fault(&in->fsm, vrrp_inst_now(), true, &acts);
		vrrp_inst_act(in, &acts);
	}
}

void
vrrp_inst_shutdown(struct vrrp_inst *in)
{
	struct vrrp_actions acts;

	vrrp_fsm_shutdown(&in->fsm, vrrp_inst_now(), &acts);
	vrrp_inst_act(in, &acts);
	vrrp_inst_tk_release(in);
}

void
vrrp_inst_free(struct vrrp_inst *in)
{
	if (in == NULL)
		return;
	ev_timer_stop(in->rt->loop, &in->timer);
	ev_timer_stop(in->rt->loop, &in->heal_timer);
	vrrp_inst_pools_free(in);
	if (in->tk.ops != NULL)
		in->tk.ops->fini(in);
	if (in->sock != NULL)
		vrrp_rt_sock_put(in->rt, in->sock);
	vrrp_auth_fini(&in->auth);
	free(in);
}

/* Whether the advert lists exactly our virtual addresses, in order. */
static bool
vrrp_inst_addrs_match(const struct vrrp_inst *in, const struct vrrp_pkt *p)
{
	size_t alen = vrrp_inst_alen(in->conf->family);

	return p->naddrs == in->conf->nvaddrs &&
	    memcmp(p->addrs, in->addrs, p->naddrs * alen) == 0;
}

static bool
vrrp_inst_is_peer(const struct vrrp_inst *in, const struct sockaddr_storage *a)
{
	size_t i, alen = vrrp_inst_alen(in->conf->family);

	for (i = 0; i < in->conf->npeers; i++)
		if (memcmp(vrrp_inst_ip_bytes(&in->conf->peers[i]),
		        vrrp_inst_ip_bytes(a), alen) == 0)
			return true;
	return false;
}

/*
 * Another master below us (a split brain healing, or our own stall a
 * backup took over in: test_vrrp_faults.py): it announced the addresses
 * last, so the hosts on the link send to it, and our advert is about to
 * make it step down and drop them. Announce them again, as at a takeover,
 * or the link black-holes the VIP until its ARP / ND entries expire
 * (keepalived's garp_lower_prio_repeat). At most once per master-down
 * interval: a peer that never steps down must not make us flood.
 */
static void
vrrp_inst_reannounce(struct vrrp_inst *in, uint64_t dual_before, uint64_t now)
{
	if (in->fsm.st.dual_master == dual_before ||
	    in->fsm.state != VRRP_S_MASTER ||
	    (in->dual_announce_us != 0 &&
	        now - in->dual_announce_us <
	            vrrp_fsm_down_interval_us(&in->fsm)))
		return;
	in->dual_announce_us = now;
	in->tk.ops->announce(in);
}

void
vrrp_inst_rx(
    struct vrrp_inst *in, const struct vrrp_rx *rx, const struct vrrp_pkt *pkt)
{
	const struct vrrp_instance_conf *ic = in->conf;
	struct vrrp_advert_in ad;
	struct vrrp_actions acts;
	uint64_t dual, now;

	if (ic->npeers > 0 && !vrrp_inst_is_peer(in, &rx->src)) {
		in->rt->drops[VRRP_DROP_PEER_UNKNOWN]++;
		return;
	}
	/* Unicast to a multicast instance: RFC 9568 §7.1's TTL rule
	 * still holds (vrrp_rt.c lifts it for unicast destinations). */
	if (ic->npeers == 0 && rx->ttl != VRRP_TTL) {
		in->rt->drops[VRRP_DROP_TTL]++;
		return;
	}
	if (!vrrp_inst_addrs_match(in, pkt)) {
		/* RFC 3768 §7.1: v2 MUST discard unless from the owner;
		 * RFC 9568 §7.1 only asks to log. */
		in->addr_mismatch++;
		log_warn("vrrp advert lists other addresses",
		    "instance=%s vrid=%u", log_q(in->name), pkt->vrid);
		if (ic->version == 2 && pkt->priority != VRRP_PRIO_OWNER) {
			in->rt->drops[VRRP_DROP_ADDR_MISMATCH]++;
			return;
		}
	}
	in->rx_adverts++;
	memset(&ad, 0, sizeof(ad));
	ad.src.family = ic->family;
	memcpy(ad.src.bytes, vrrp_inst_ip_bytes(&rx->src),
	    vrrp_inst_alen(ic->family));
	ad.priority = pkt->priority;
	ad.max_adver_int = ic->version == 3 ?
	    pkt->interval_cs :
	    (uint16_t)(pkt->interval_cs / 100);
	ad.validated = true;
	if (pkt->priority != VRRP_PRIO_STOP) {
		in->master = rx->src;
		in->master_prio = pkt->priority;
	}
	dual = in->fsm.st.dual_master;
	vrrp_fsm_rx_advert(&in->fsm, now = vrrp_inst_now(), &ad, &acts);
	vrrp_inst_act(in, &acts);
	vrrp_inst_reannounce(in, dual, now);
}
