/*
 * havip_rt.c - the HAVIP controller's runtime (havip_rt.h): sockets,
 * arbiters, timers and actuation.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "havip/havip_rt.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/util.h"

#define HAVIP_RT_READ_BURST 64 /* frames per wakeup, then others' turn */

static void havip_rt_actuate(struct havip_vip *v);

static const char *
havip_rt_ip(struct in_addr a, char *out)
{
	return inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}

/* The owner's link index in rt->links, or -1. */
static int
havip_rt_owner_link(const struct havip_vip *v)
{
	return v->arb.owner == HAVIP_ARB_NONE ? -1 : v->link[v->arb.owner];
}

static const char *
havip_rt_owner_name(const struct havip_vip *v)
{
	return v->arb.owner == HAVIP_ARB_NONE ? "-" : v->inst[v->arb.owner];
}

/*
 * After any arbiter call: note an owner change, re-arm the arbiter's
 * timer, and actuate when the route no longer matches.
 */
static void
havip_rt_settle(struct havip_vip *v, int owner_before, uint64_t changes_before)
{
	uint64_t now = ev_now_ms(v->rt->loop), next, changes = 0;
	size_t r;

	next = havip_arb_tick(&v->arb, now);
	for (r = 0; r < HAVIP_R__COUNT; r++)
		changes += v->arb.changes[r];
	ev_timer_stop(v->rt->loop, &v->tick);
	if (next != HAVIP_ARB_NEVER)
		ev_timer_start(
		    v->rt->loop, &v->tick, next > now ? next - now : 0);
	if (changes == changes_before && v->arb.owner == owner_before)
		return;
	v->remap_wall_ms = util_wall_ms();
	log_notice("havip owner changed", "havip=%s owner=%s reason=%s",
	    log_q(v->name), log_q(havip_rt_owner_name(v)),
	    havip_arb_reason_name(v->arb.reason));
	v->in_sync = false;
	havip_rt_actuate(v);
}

static uint64_t
havip_rt_changes(const struct havip_vip *v)
{
	uint64_t n = 0;
	size_t r;

	for (r = 0; r < HAVIP_R__COUNT; r++)
		n += v->arb.changes[r];
	return n;
}

static void
havip_rt_tick_cb(struct ev_timer *t, void *arg)
{
	struct havip_vip *v = arg;
	int owner = v->arb.owner;

	havip_rt_settle(v, owner, havip_rt_changes(v));
}

static void
havip_rt_retry_cb(struct ev_timer *t, void *arg)
{
	havip_rt_actuate(arg);
}

/* Make the route what the arbiter wants; on failure retry, backing off. */
static void
havip_rt_actuate(struct havip_vip *v)
{
	struct havip_rt *rt = v->rt;
	int li = havip_rt_owner_link(v), want, rc;
	char a[INET_ADDRSTRLEN];

	want = li < 0 ? 0 : rt->links[li].ifindex;
	ev_timer_stop(rt->loop, &v->retry);
	if (v->in_sync && v->installed == want)
		return;
	if (li >= 0 && want == 0)
		rc = -ENODEV;
	else if (want == 0)
		rc = havip_route_del(&rt->route, v->addr);
	else
		rc = havip_route_set(&rt->route, v->addr, want);
	if (rc == 0) {
		if (v->installed != want)
			v->route_changes++;
		v->installed = want;
		v->in_sync = true;
		v->backoff_ms = 0;
		log_info("havip route synced", "havip=%s address=%s dev=%s",
		    log_q(v->name), havip_rt_ip(v->addr, a),
		    li < 0 ? "-" : log_q(rt->links[li].ifname));
		return;
	}
	v->route_errors++;
	v->in_sync = false;
	v->backoff_ms =
	    v->backoff_ms == 0 ? HAVIP_RETRY_MIN_MS : v->backoff_ms * 2;
	if (v->backoff_ms > HAVIP_RETRY_MAX_MS)
		v->backoff_ms = HAVIP_RETRY_MAX_MS;
	log_warn("havip route not set, retrying",
	    "havip=%s error=%s retry_ms=%llu", log_q(v->name),
	    log_q(
	        rc == -ENODEV ? "owner's interface not found" : rt->route.err),
	    (unsigned long long)v->backoff_ms);
	ev_timer_start(rt->loop, &v->retry, v->backoff_ms);
}

/* The association index of link li in v, or -1. */
static int
havip_rt_assoc(const struct havip_vip *v, int li)
{
	size_t i;

	for (i = 0; i < v->ninst; i++)
		if (v->link[i] == li)
			return (int)i;
	return -1;
}

static void
havip_rt_arp(
    struct havip_rt *rt, struct havip_link *l, const struct havip_frame *f)
{
	int li = (int)(l - rt->links), i, owner;
	uint64_t changes;
	size_t k;

	for (k = 0; k < rt->nvips; k++) {
		struct havip_vip *v = rt->vips[k];

		if (v->addr.s_addr != f->spa.s_addr)
			continue;
		if ((i = havip_rt_assoc(v, li)) < 0) {
			log_debug("havip announcement ignored",
			    "havip=%s instance=%s", log_q(v->name),
			    log_q(l->name));
			v->ignored++;
			continue;
		}
		owner = v->arb.owner;
		changes = havip_rt_changes(v);
		log_debug("havip announcement",
		    "havip=%s instance=%s verdict=%s", log_q(v->name),
		    log_q(v->inst[i]),
		    havip_arb_verdict_name(
		        havip_arb_announce(&v->arb, i, ev_now_ms(rt->loop))));
		havip_rt_settle(v, owner, changes);
	}
}

static void
havip_rt_vrrp(
    struct havip_rt *rt, struct havip_link *l, const struct havip_frame *f)
{
	int li = (int)(l - rt->links), i, owner;
	struct in_addr a;
	uint64_t changes;
	size_t j, k;

	/* The link names the node: an advert from elsewhere is relayed. */
	if (memcmp(f->ip.src.b, &l->addr, 4) != 0) {
		rt->rx[HAVIP_RX_ADVERT_SRC]++;
		return;
	}
	rt->rx[HAVIP_RX_VRRP]++;
	rt->rx[HAVIP_RX_VRRP_AUTH] += f->auth;
	for (j = 0; j < f->vrrp.naddrs; j++) {
		memcpy(&a, f->vrrp.addrs + 4 * j, 4);
		for (k = 0; k < rt->nvips; k++) {
			struct havip_vip *v = rt->vips[k];

			if (v->addr.s_addr != a.s_addr ||
			    (i = havip_rt_assoc(v, li)) < 0)
				continue;
			owner = v->arb.owner;
			changes = havip_rt_changes(v);
			havip_arb_advert(&v->arb, i, f->vrrp.priority,
			    (uint64_t)f->vrrp.interval_cs * 10,
			    ev_now_ms(rt->loop));
			havip_rt_settle(v, owner, changes);
		}
	}
}

void
havip_rt_frame(
    struct havip_rt *rt, struct havip_link *l, const struct havip_frame *f)
{
	l->rx_frames++;
	if (f->kind == HAVIP_FRAME_ARP) {
		rt->rx[HAVIP_RX_ARP]++;
		havip_rt_arp(rt, l, f);
	} else
		havip_rt_vrrp(rt, l, f);
}

static void
havip_rt_read_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct havip_link *l = arg;
	struct havip_rt *rt = l->rt;
	uint8_t buf[HAVIP_FRAME_MAX];
	struct havip_frame f;
	enum havip_frame_drop d;
	int n;

	for (n = 0; n < HAVIP_RT_READ_BURST; n++) {
		ssize_t r = recv(l->fd, buf, sizeof(buf), MSG_TRUNC);

		if (r == -1) {
			if (errno != EAGAIN && errno != EINTR)
				rt->rx[HAVIP_RX_READ_ERR]++;
			return;
		}
		/* MSG_TRUNC: r is the frame's length; parse what we hold. */
		d = havip_frame_parse(
		    buf, (size_t)r < sizeof(buf) ? (size_t)r : sizeof(buf), &f);
		if (d != HAVIP_FDROP_NONE) {
			rt->fdrops[d]++;
			if (d == HAVIP_FDROP_VRRP &&
			    (unsigned)f.vdrop < VRRP_DROP__COUNT)
				rt->vdrops[f.vdrop]++;
			continue;
		}
		havip_rt_frame(rt, l, &f);
	}
}

struct havip_rt *
havip_rt_new(struct ev_loop *loop)
{
	struct havip_rt *rt = xcalloc(1, sizeof(*rt));
	int rc;

	rt->loop = loop;
	if ((rc = havip_route_init(&rt->route)) < 0)
		log_err("havip netlink", "error=%s", log_q(rt->route.err));
	if (havip_nft_init(&rt->nft) < 0)
		log_err("havip nftables", "error=%s", log_q(rt->nft.err));
	return rt;
}

static void
havip_rt_links_close(struct havip_rt *rt)
{
	size_t i;

	for (i = 0; i < rt->nlinks; i++) {
		ev_io_stop(rt->loop, &rt->links[i].io);
		if (rt->links[i].fd >= 0)
			close(rt->links[i].fd);
	}
	free(rt->links);
	rt->links = NULL;
	rt->nlinks = 0;
}

static void
havip_rt_vip_free(struct havip_rt *rt, struct havip_vip *v)
{
	ev_timer_stop(rt->loop, &v->tick);
	ev_timer_stop(rt->loop, &v->retry);
	free(v->name);
	free(v);
}

void
havip_rt_stop(struct havip_rt *rt)
{
	size_t i;

	if (rt == NULL)
		return;
	havip_rt_links_close(rt);
	for (i = 0; i < rt->nvips; i++) {
		ev_timer_stop(rt->loop, &rt->vips[i]->tick);
		ev_timer_stop(rt->loop, &rt->vips[i]->retry);
	}
	if (rt->nft_ok && havip_nft_remove(&rt->nft) < 0)
		log_warn("havip EIP table not deleted", "error=%s",
		    log_q(rt->nft.err));
	rt->nft_ok = false;
}

void
havip_rt_free(struct havip_rt *rt)
{
	size_t i;

	if (rt == NULL)
		return;
	havip_rt_links_close(rt);
	for (i = 0; i < rt->nvips; i++)
		havip_rt_vip_free(rt, rt->vips[i]);
	free(rt->vips);
	havip_route_fini(&rt->route);
	havip_nft_fini(&rt->nft);
	free(rt);
}

struct havip_vip *
havip_rt_find(struct havip_rt *rt, const char *name)
{
	size_t i;

	for (i = 0; rt != NULL && i < rt->nvips; i++)
		if (strcmp(rt->vips[i]->name, name) == 0)
			return rt->vips[i];
	return NULL;
}

/* Open the links of c's instances; a link that fails is logged, counted
 * and left closed (its frames are then not seen: the error says so). */
static void
havip_rt_links_open(struct havip_rt *rt, const struct havip_conf *c)
{
	size_t i;
	int fd;

	rt->links =
	    xcalloc(c->ninstances ? c->ninstances : 1, sizeof(*rt->links));
	rt->nlinks = c->ninstances;
	for (i = 0; i < c->ninstances; i++) {
		struct havip_link *l = &rt->links[i];
		const struct havip_instance_conf *ic = &c->instances[i];

		snprintf(l->name, sizeof(l->name), "%s", ic->name);
		snprintf(l->ifname, sizeof(l->ifname), "%s", ic->interface);
		l->addr = havip_conf_in(&ic->address);
		l->rt = rt;
		l->fd = -1;
		l->ifindex = (int)if_nametoindex(ic->interface);
		if (l->ifindex == 0) {
			rt->sock_errors++;
			log_warn("havip instance link not found",
			    "instance=%s interface=%s", log_q(ic->name),
			    log_q(ic->interface));
			continue;
		}
		if ((fd = havip_sock_open(l->ifindex)) < 0) {
			rt->sock_errors++;
			log_warn("havip snooping socket",
			    "interface=%s error=%s", log_q(ic->interface),
			    log_q(strerror(-fd)));
			continue;
		}
		l->fd = fd;
		ev_io_init(&l->io, fd, havip_rt_read_cb, l);
		ev_io_start(rt->loop, &l->io, EV_READ);
	}
}

/* Whether v (running) stands for ac unchanged: same address and list. */
static bool
havip_rt_same(const struct havip_vip *v, const struct havip_addr_conf *ac)
{
	size_t i;

	if (v->addr.s_addr != havip_conf_in(&ac->address).s_addr ||
	    v->ninst != ac->ninstances)
		return false;
	for (i = 0; i < v->ninst; i++)
		if (strcmp(v->inst[i], ac->instances[i]) != 0)
			return false;
	return true;
}

static struct havip_vip *
havip_rt_vip_new(struct havip_rt *rt, const struct havip_conf *c,
    const struct havip_addr_conf *ac)
{
	struct havip_vip *v = xcalloc(1, sizeof(*v));
	size_t i;

	v->rt = rt;
	v->name = xstrdup(ac->name);
	v->addr = havip_conf_in(&ac->address);
	v->ninst = ac->ninstances;
	for (i = 0; i < v->ninst; i++)
		snprintf(
		    v->inst[i], sizeof(v->inst[i]), "%s", ac->instances[i]);
	ev_timer_init(&v->tick, havip_rt_tick_cb, v);
	ev_timer_init(&v->retry, havip_rt_retry_cb, v);
	havip_arb_init(&v->arb, v->ninst, c->hold_down_ms, c->remap_delay_ms,
	    ev_now_ms(rt->loop));
	v->arb.witness = c->witness;
	return v;
}

/* A new HAVIP already routed through an associated link is adopted. */
static void
havip_rt_adopt(struct havip_rt *rt, struct havip_vip *v)
{
	int ifindex = 0;
	size_t i;

	if (havip_route_get(&rt->route, v->addr, &ifindex) < 0)
		return;
	for (i = 0; i < v->ninst; i++)
		if (v->link[i] >= 0 &&
		    rt->links[v->link[i]].ifindex == ifindex) {
			havip_arb_adopt(&v->arb, (int)i, ev_now_ms(rt->loop));
			v->installed = ifindex;
			v->in_sync = true;
			v->remap_wall_ms = util_wall_ms();
			log_notice("havip route adopted", "havip=%s owner=%s",
			    log_q(v->name), log_q(v->inst[i]));
			return;
		}
}

static void
havip_rt_bind(struct havip_rt *rt, struct havip_vip *v,
    const struct havip_conf *c, const struct havip_addr_conf *ac)
{
	size_t i;

	v->subnet = ac->subnet;
	v->has_eip = ac->eip.ss_family == AF_INET;
	v->eip = v->has_eip ? havip_conf_in(&ac->eip) : (struct in_addr){ 0 };
	v->arb.hold_down_ms = c->hold_down_ms;
	v->arb.remap_delay_ms = c->remap_delay_ms;
	for (i = 0; i < v->ninst; i++)
		v->link[i] = (int)ac->inst[i];
}

int
havip_rt_apply(
    struct havip_rt *rt, const struct havip_conf *c, struct conf_errors *errs)
{
	struct havip_vip **vips, *v;
	size_t i, j;
	bool fresh;

	/* First, so that a refused ruleset changes nothing else. */
	if (havip_nft_apply(&rt->nft, c) < 0) {
		rt->nft_errors++;
		conf_errors_addf(errs, "havip", 0, 0,
		    "EIP table not installed: %s", rt->nft.err);
		return -1;
	}
	rt->nft_ok = true;
	havip_rt_links_close(rt);
	havip_rt_links_open(rt, c);
	vips = xcalloc(c->naddresses ? c->naddresses : 1, sizeof(*vips));
	for (i = 0; i < c->naddresses; i++) {
		const struct havip_addr_conf *ac = &c->addresses[i];

		v = NULL;
		for (j = 0; j < rt->nvips; j++)
			if (rt->vips[j] != NULL &&
			    strcmp(rt->vips[j]->name, ac->name) == 0 &&
			    havip_rt_same(rt->vips[j], ac)) {
				v = rt->vips[j];
				rt->vips[j] = NULL;
			}
		fresh = v == NULL;
		if (fresh)
			v = havip_rt_vip_new(rt, c, ac);
		havip_rt_bind(rt, v, c, ac);
		if (fresh)
			havip_rt_adopt(rt, v);
		vips[i] = v;
	}
	/* What is gone (or changed address) gives its route back. */
	for (j = 0; j < rt->nvips; j++) {
		if ((v = rt->vips[j]) == NULL)
			continue;
		for (i = 0; i < c->naddresses &&
		     havip_conf_in(&c->addresses[i].address).s_addr !=
		         v->addr.s_addr;
		     i++)
			;
		if (i == c->naddresses && v->installed != 0 &&
		    havip_route_del(&rt->route, v->addr) < 0)
			log_warn("havip route not removed", "havip=%s error=%s",
			    log_q(v->name), log_q(rt->route.err));
		havip_rt_vip_free(rt, v);
	}
	free(rt->vips);
	rt->vips = vips;
	rt->nvips = c->naddresses;
	for (i = 0; i < rt->nvips; i++) {
		rt->vips[i]->in_sync = false;
		havip_rt_settle(rt->vips[i], rt->vips[i]->arb.owner,
		    havip_rt_changes(rt->vips[i]));
		havip_rt_actuate(rt->vips[i]);
	}
	return 0;
}

int
havip_rt_associate(struct havip_rt *rt, const char *havip, const char *instance)
{
	struct havip_vip *v = havip_rt_find(rt, havip);
	uint64_t changes;
	size_t i, k;
	int owner;

	if (v == NULL)
		return -ENOENT;
	for (i = 0; i < v->ninst && strcmp(v->inst[i], instance) != 0; i++)
		;
	if (i == v->ninst) {
		for (k = 0;
		     k < rt->nlinks && strcmp(rt->links[k].name, instance) != 0;
		     k++)
			;
		return k == rt->nlinks ? -ESRCH : -EPERM;
	}
	/* Idempotent: associating the owner changes nothing. */
	if (v->arb.owner == (int)i)
		return 0;
	owner = v->arb.owner;
	changes = havip_rt_changes(v);
	havip_arb_associate(&v->arb, (int)i, ev_now_ms(rt->loop));
	havip_rt_settle(v, owner, changes);
	return 0;
}
