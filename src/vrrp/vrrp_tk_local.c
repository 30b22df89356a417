/*
 * vrrp_tk_local.c - the "local" takeover backend (vrrp_tk.h): the virtual
 * addresses go on the instance's interface over netlink (vrrp_addr.c) and
 * gratuitous ARP / unsolicited NA rounds tell the segment (vrrp_announce.c),
 * paced by the instance's garp: plan (a burst at once, another after
 * master_delay, one every master_refresh).
 *
 * It has nothing to verify: a LAN gives the traffic to whoever announced
 * last, so the address is HELD as soon as it is on the interface. Netlink
 * or announcement failures are counted and logged, never fatal: the next
 * refresh round tries again.
 *
 * The helpers below (hold, plan, announce, the schedule) are shared with
 * the havip backend, which does all of this and then checks the result.
 */
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vrrp/vrrp_rt.h"

static void
vrrp_tk_local_vip(const struct vrrp_vaddr *v, struct vrrp_addr_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = v->addr.ss_family;
	ip->prefixlen = v->prefix;
	if (ip->family == AF_INET)
		ip->u.v4 = ((const struct sockaddr_in *)&v->addr)->sin_addr;
	else
		ip->u.v6 = ((const struct sockaddr_in6 *)&v->addr)->sin6_addr;
}

/* Add (hold) or remove every virtual address; failures are counted. */
void
vrrp_tk_local_hold(struct vrrp_inst *in, bool hold)
{
	const struct vrrp_instance_conf *ic = in->conf;
	struct vrrp_addr_ip ip;
	char s[VRRP_ADDR_STRMAX];
	size_t i;
	int rc;

	if (in->holding == hold || !in->rt->nl_ok)
		return;
	for (i = 0; i < ic->nvaddrs; i++) {
		vrrp_tk_local_vip(&ic->vaddrs[i], &ip);
		rc = hold ? vrrp_addr_add(&in->rt->nl, in->ifindex, &ip, NULL) :
		            vrrp_addr_del(&in->rt->nl, in->ifindex, &ip);
		if (rc != 0) {
			in->addr_errors++;
			log_err("vrrp address change failed",
			    "instance=%s address=%s error=%s", log_q(in->name),
			    vrrp_addr_ip_format(&ip, s, sizeof(s)),
			    log_q(in->rt->nl.err));
		}
	}
	in->holding = hold;
}

/* One announcement round: a frame per virtual address. */
void
vrrp_tk_local_announce(struct vrrp_inst *in)
{
	const struct vrrp_instance_conf *ic = in->conf;
	struct vrrp_addr_ip ip;
	size_t i;
	int rc;

	for (i = 0; i < ic->nvaddrs; i++) {
		vrrp_tk_local_vip(&ic->vaddrs[i], &ip);
		rc = ip.family == AF_INET ?
		    vrrp_announce_garp_send(&in->sock->ann, ip.u.v4, NULL) :
		    vrrp_announce_na_send(
		        &in->sock->ann, &ip.u.v6, false, NULL);
		if (rc == 0)
			in->garp_sent++;
		else
			log_warn("vrrp announcement not sent",
			    "instance=%s error=%s", log_q(in->name),
			    log_q(in->sock->ann.err));
	}
}

static void
vrrp_tk_local_garp_cb(struct ev_timer *t, void *arg)
{
	struct vrrp_inst *in = arg;
	uint64_t now = util_mono_us(), next;

	while (vrrp_announce_sched_due(&in->sched, now))
		vrrp_tk_local_announce(in);
	next = vrrp_announce_sched_next(&in->sched);
	if (next != UINT64_MAX)
		ev_timer_start(in->rt->loop, &in->garp_timer,
		    next > now ? (next - now + 999) / 1000 : 0);
}

void
vrrp_tk_local_plan(
    const struct vrrp_instance_conf *ic, struct vrrp_announce_plan *plan)
{
	const struct vrrp_garp_conf *g = &ic->garp;

	memset(plan, 0, sizeof(*plan));
	plan->repeat = g->master_repeat;
	plan->interval_us = g->interval_ms * 1000;
	plan->delay_us = g->master_delay_ms * 1000;
	plan->refresh_us = g->master_refresh_ms * 1000;
	plan->refresh_repeat = 1;
}

void
vrrp_tk_local_garp_start(
    struct vrrp_inst *in, const struct vrrp_announce_plan *plan)
{
	vrrp_announce_sched_start(&in->sched, plan, util_mono_us());
	vrrp_tk_local_garp_cb(&in->garp_timer, in);
}

void
vrrp_tk_local_garp_stop(struct vrrp_inst *in)
{
	vrrp_announce_sched_stop(&in->sched);
	ev_timer_stop(in->rt->loop, &in->garp_timer);
}

static int
vrrp_tk_local_init(struct vrrp_inst *in)
{
	ev_timer_init(&in->garp_timer, vrrp_tk_local_garp_cb, in);
	vrrp_announce_sched_stop(&in->sched);
	return 0;
}

static int
vrrp_tk_local_acquire(struct vrrp_inst *in)
{
	struct vrrp_announce_plan plan;

	vrrp_tk_local_hold(in, true);
	vrrp_tk_local_plan(in->conf, &plan);
	vrrp_tk_local_garp_start(in, &plan);
	vrrp_inst_tk_report(in, VRRP_TK_HELD);
	return 0;
}

void
vrrp_tk_local_reannounce(struct vrrp_inst *in)
{
	struct vrrp_announce_plan plan;

	vrrp_tk_local_plan(in->conf, &plan);
	vrrp_tk_local_garp_start(in, &plan);
}

static void
vrrp_tk_local_release(struct vrrp_inst *in)
{
	vrrp_tk_local_garp_stop(in);
	vrrp_tk_local_hold(in, false);
}

static void
vrrp_tk_local_fini(struct vrrp_inst *in)
{
	ev_timer_stop(in->rt->loop, &in->garp_timer);
}

const struct vrrp_tk_ops vrrp_tk_local_ops = {
	.name = "local",
	.verifies = false,
	.init = vrrp_tk_local_init,
	.acquire = vrrp_tk_local_acquire,
	.announce = vrrp_tk_local_reannounce,
	.release = vrrp_tk_local_release,
	.fini = vrrp_tk_local_fini,
};
