/*
 * vrrp_tk_havip.c - the "havip" takeover backend (vrrp_tk.h): a VPC's
 * highly-available VIP, routed by the cloud to whichever node it last saw
 * announce it (reference/vip.md §5).
 *
 * Acquire does what the local backend does (the address on the interface,
 * announcement bursts and refreshes), then asks the network whether it
 * worked: every probe_interval an ICMP echo request goes from the VIP to
 * the gateway (the ownership probe). The gateway's reply is addressed to
 * the VIP, so the VPC delivers it to the node it routes the VIP to: a
 * reply is proof that traffic for the VIP reaches us (OWNER). probe_fall
 * requests in a row without one while we are master mean another node has
 * it (NOT_OWNER): typically the other master of a control-plane partition.
 *
 * Then we stop the periodic refresh, because with last-announcer-wins two
 * refreshing masters move the address back and forth for as long as the
 * partition lasts, and ask instead whether the node that has the address
 * is alive (the owner probe): every probe_interval an echo request goes
 * from our own address to the VIP, through the gateway, which hands it to
 * the owner. An answer means the owner lives: we stay quiet, so the
 * address stays where it is, whatever the partition does to VRRP.
 * probe_fall requests in a row unanswered mean it is gone (a dead VM):
 * we announce as at a takeover (a burst; the refresh resumes) and verify
 * again (VERIFYING). If that happens again before any proof of ownership,
 * the repeats are spaced on the back-off below (vrrp_tk_owner_lost_due):
 * an owner hidden from our probes must not make us announce every few
 * probe intervals. Ownership probing goes on throughout; its first reply
 * makes us OWNER and resumes the refresh.
 *
 * The owner probe cannot go through our own IP stack: the VIP is a local
 * address here, so the kernel would deliver the request to ourselves. It
 * is a whole Ethernet frame sent on an AF_PACKET socket to the gateway's
 * MAC, read from the kernel's neighbour table (which the ownership probes
 * keep resolved). Its reply comes from the VIP, which is local too, so the
 * kernel drops it as a martian source before any IP socket sees it: the
 * same packet socket reads it, with a BPF filter that passes only IPv4
 * echo replies. When the frame cannot be built or sent (no usable
 * neighbour entry for the gateway, a socket error) we know nothing of the
 * owner, and fall back for that round to the blind re-announcement of
 * before: on a back-off of 1 s doubling to reannounce_max, so that an
 * owner that really died is still replaced in bounded time.
 *
 * The ownership socket is a raw IPPROTO_ICMP socket (the vrrp process
 * holds CAP_NET_RAW), bound to the VIP with IP_FREEBIND so that it opens
 * even if netlink could not add the address (then nothing is delivered to
 * it and we are, correctly, not the owner), filtered to echo replies
 * (ICMP_FILTER) and opened only while master; the packet socket opens at
 * the first owner probe and closes with it. A raw socket sees every echo
 * reply to the VIP, including replies to the other master's requests when
 * the VPC routes to us; vrrp_tk_icmp_parse() sorts them out, and each
 * discard is counted by reason, per probe.
 */
#include <sys/random.h>
#include <sys/socket.h>

#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vrrp/vrrp_rt.h"

#define VRRP_TK_HAVIP_RXMAX       1500 /* our replies are 36 bytes */
#define VRRP_TK_HAVIP_BATCH       32   /* datagrams per wake-up */
/*
 * The raw ICMP type filter of linux/icmp.h (a set bit drops that type),
 * spelled out here: that header pulls linux/if.h, which clashes with the
 * net/if.h the rest of the plane uses.
 */
#define VRRP_TK_HAVIP_ICMP_FILTER 1

struct vrrp_tk_havip {
	struct vrrp_inst *in; /* borrowed: owner */
	int fd;               /* owned: raw ICMP socket; -1 when closed */
	struct ev_io io;
	int pfd; /* owned: owner probe's AF_PACKET socket; -1 when closed */
	struct ev_io pio;
	struct ev_timer probe;        /* next echo request(s) */
	struct ev_timer reannounce;   /* next fallback round (NOT_OWNER) */
	struct vrrp_tk_icmp_match m;  /* ownership: gateway -> VIP */
	struct vrrp_tk_icmp_match om; /* owner: VIP -> our address */
	struct sockaddr_in gw;
	bool sent_any;   /* a request is out since acquire */
	bool answered;   /* ... and the last one was answered */
	unsigned misses; /* requests in a row without a reply */
	/* The owner probe, while NOT_OWNER. */
	bool owner_out;        /* one is out since the last round */
	bool owner_answered;   /* ... and was answered */
	unsigned owner_misses; /* in a row without a reply */
	bool blind;            /* the last round could not send one */
	unsigned backoff;      /* fallback rounds sent since NOT_OWNER */
	unsigned lost_streak;  /* owner-lost announcements since a proof */
	uint64_t lost_us;      /* the last one (monotonic) */
};

static struct vrrp_tk_havip *
vrrp_tk_havip_of(struct vrrp_inst *in)
{
	return in->tk.priv;
}

static void
vrrp_tk_havip_close(struct vrrp_tk_havip *h)
{
	if (h->fd >= 0) {
		ev_io_stop(h->in->rt->loop, &h->io);
		close(h->fd);
		h->fd = -1;
	}
	if (h->pfd >= 0) {
		ev_io_stop(h->in->rt->loop, &h->pio);
		close(h->pfd);
		h->pfd = -1;
	}
}

static void vrrp_tk_havip_rx(struct ev_io *io, unsigned events, void *arg);
static void vrrp_tk_havip_prx(struct ev_io *io, unsigned events, void *arg);

static int
vrrp_tk_havip_open(struct vrrp_tk_havip *h)
{
	struct sockaddr_in sa;
	/* Echo replies only; the kernel drops the rest before queueing. */
	uint32_t f = ~(UINT32_C(1) << ICMP_ECHOREPLY);
	int one = 1, fd, err;

	fd = socket(
	    AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd == -1)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr = h->m.to;
	if (setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, SOL_RAW, VRRP_TK_HAVIP_ICMP_FILTER, &f, sizeof(f)) ==
	        -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		err = -errno;
		close(fd);
		return err;
	}
	h->fd = fd;
	ev_io_init(&h->io, fd, vrrp_tk_havip_rx, h);
	if ((err = ev_io_start(h->in->rt->loop, &h->io, EV_READ)) != 0) {
		close(fd);
		h->fd = -1;
		return err;
	}
	return 0;
}

/*
 * Classic BPF on the owner probe's socket: unfragmented IPv4 ICMP echo
 * replies pass, nothing else is queued. Offsets are from the Ethernet
 * header; addresses, identifier and token are vrrp_tk_owner_parse()'s.
 */
static const struct sock_filter vrrp_tk_havip_bpf[] = {
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), /* EtherType */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETHERTYPE_IP, 0, 8),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 9), /* IPv4 protocol */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMP, 0, 6),
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 14 + 6), /* fragment offset */
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
	BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14), /* X = IPv4 header length */
	BPF_STMT(BPF_LD | BPF_B | BPF_IND, 14),  /* ICMP type */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP_ECHOREPLY, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

static int
vrrp_tk_havip_popen(struct vrrp_tk_havip *h)
{
	struct sock_fprog prog = { .len = ARRAY_SIZE(vrrp_tk_havip_bpf),
		.filter = (struct sock_filter *)vrrp_tk_havip_bpf };
	struct sockaddr_ll sll = { 0 };
	int one = 1, fd, err;

	/* Protocol 0 until bound: nothing is queued before the filter is
	 * on and the socket is tied to our interface. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETHERTYPE_IP);
	sll.sll_ifindex = h->in->ifindex;
	/* Our own frames are requests, but the filter should not even see
	 * what we send. */
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ==
	        -1 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
	        sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		err = -errno;
		close(fd);
		return err;
	}
	h->pfd = fd;
	ev_io_init(&h->pio, fd, vrrp_tk_havip_prx, h);
	if ((err = ev_io_start(h->in->rt->loop, &h->pio, EV_READ)) != 0) {
		close(fd);
		h->pfd = -1;
		return err;
	}
	return 0;
}

/* The periodic refresh only, as from the takeover: no burst. */
static void
vrrp_tk_havip_refresh(struct vrrp_inst *in)
{
	struct vrrp_announce_plan plan;

	vrrp_tk_local_plan(in->conf, &plan);
	plan.repeat = 0;
	plan.delay_us = 0;
	vrrp_tk_local_garp_start(in, &plan);
}

/* Forget the owner probe's rounds: entering or leaving NOT_OWNER. */
static void
vrrp_tk_havip_owner_reset(struct vrrp_tk_havip *h)
{
	ev_timer_stop(h->in->rt->loop, &h->reannounce);
	h->owner_out = false;
	h->owner_answered = false;
	h->owner_misses = 0;
	h->blind = false;
	h->backoff = 0;
}

static void
vrrp_tk_havip_owner(struct vrrp_tk_havip *h)
{
	struct vrrp_inst *in = h->in;
	enum vrrp_tk_state was = in->tk.state;

	if (was == VRRP_TK_OWNER)
		return;
	vrrp_tk_havip_owner_reset(h);
	h->lost_streak = 0;
	/* From VERIFYING the takeover's schedule still runs; after
	 * NOT_OWNER only the refresh comes back. */
	if (was == VRRP_TK_NOT_OWNER)
		vrrp_tk_havip_refresh(in);
	vrrp_inst_tk_report(in, VRRP_TK_OWNER);
}

static void
vrrp_tk_havip_not_owner(struct vrrp_tk_havip *h)
{
	struct vrrp_inst *in = h->in;

	vrrp_tk_local_garp_stop(in);
	vrrp_tk_havip_owner_reset(h);
	vrrp_inst_tk_report(in, VRRP_TK_NOT_OWNER);
}

/*
 * probe_fall owner probes in a row unanswered: nobody else holds the
 * VIP. Announce as a takeover does and verify again; if the VPC still
 * routes elsewhere, probe_fall ownership probes bring NOT_OWNER back.
 */
static void
vrrp_tk_havip_owner_lost(struct vrrp_tk_havip *h)
{
	struct vrrp_inst *in = h->in;
	struct vrrp_announce_plan plan;

	in->tk.owner_lost++;
	h->lost_streak++;
	h->lost_us = util_mono_us();
	log_notice("vrrp havip owner gone", "instance=%s unanswered=%u",
	    log_q(in->name), h->owner_misses);
	vrrp_tk_havip_owner_reset(h);
	h->misses = 0;
	vrrp_tk_local_plan(in->conf, &plan);
	vrrp_tk_local_garp_start(in, &plan);
	vrrp_inst_tk_report(in, VRRP_TK_VERIFYING);
}

/* A fallback round: blind, so announce, as before owner probes. */
static void
vrrp_tk_havip_reannounce_cb(struct ev_timer *t, void *arg)
{
	struct vrrp_tk_havip *h = arg;
	struct vrrp_inst *in = h->in;
	uint64_t d;

	/* Owner probes went out again since it was armed: they decide. */
	if (!h->blind || in->tk.state != VRRP_TK_NOT_OWNER)
		return;
	vrrp_tk_local_announce(in);
	in->tk.reannounces++;
	h->backoff++;
	d = vrrp_tk_backoff_us(
	    h->backoff, in->conf->havip.reannounce_max_ms * 1000);
	ev_timer_start(in->rt->loop, &h->reannounce, d / 1000);
}

/* The interface's MAC from the bound packet socket: it may change. */
static int
vrrp_tk_havip_ifmac(struct vrrp_tk_havip *h, uint8_t mac[VRRP_TK_MACLEN])
{
	struct sockaddr_ll sll;
	socklen_t len = sizeof(sll);

	if (getsockname(h->pfd, (struct sockaddr *)&sll, &len) == -1)
		return -errno;
	if (sll.sll_hatype != ARPHRD_ETHER || sll.sll_halen != VRRP_TK_MACLEN)
		return -EOPNOTSUPP;
	memcpy(mac, sll.sll_addr, VRRP_TK_MACLEN);
	return 0;
}

/*
 * One owner probe: our address -> VIP, handed to the gateway. Returns 0,
 * -EHOSTUNREACH when the gateway has no usable neighbour entry, or
 * another -errno; *why names the step that failed, for the log.
 */
static int
vrrp_tk_havip_owner_send(struct vrrp_tk_havip *h, const char **why)
{
	struct vrrp_inst *in = h->in;
	unsigned char gw[VRRP_ADDR_HWMAX];
	uint8_t own[VRRP_TK_MACLEN], frame[VRRP_TK_OWNER_FRAME_LEN];
	struct sockaddr_ll sll = { 0 };
	size_t n;
	int rc;

	/* The address adverts come from: never the VIP (vrrp_inst.c). */
	*why = "source address";
	if (in->src.ss_family != AF_INET)
		return -EADDRNOTAVAIL;
	h->om.to = ((const struct sockaddr_in *)&in->src)->sin_addr;
	*why = "packet socket";
	if (h->pfd < 0 && (rc = vrrp_tk_havip_popen(h)) < 0)
		return rc;
	*why = "interface address";
	if ((rc = vrrp_tk_havip_ifmac(h, own)) < 0)
		return rc;
	*why = "gateway neighbour entry";
	if (!in->rt->nl_ok)
		return -ENOTCONN;
	rc = vrrp_addr_neigh_get(&in->rt->nl, in->ifindex, h->gw.sin_addr, gw);
	if (rc < 0)
		return rc;
	if (rc != VRRP_TK_MACLEN)
		return -EHOSTUNREACH;
	h->om.seq++;
	n = vrrp_tk_owner_build(frame, gw, own, h->om.to, h->om.from, h->om.id,
	    h->om.seq, h->om.token);
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = in->ifindex;
	sll.sll_protocol = htons(ETHERTYPE_IP);
	sll.sll_halen = VRRP_TK_MACLEN;
	memcpy(sll.sll_addr, gw, VRRP_TK_MACLEN);
	*why = "send";
	if (sendto(h->pfd, frame, n, 0, (struct sockaddr *)&sll, sizeof(sll)) ==
	    -1)
		return -errno;
	return 0;
}

/*
 * A round of the owner probe while NOT_OWNER: judge the last request,
 * send the next, or find the owner gone.
 */
static void
vrrp_tk_havip_owner_round(struct vrrp_tk_havip *h)
{
	struct vrrp_inst *in = h->in;
	const struct vrrp_havip_conf *hc = &in->conf->havip;
	const char *why;
	uint64_t d;
	int rc;

	if (h->owner_out && !h->owner_answered) {
		in->tk.owner_missed++;
		/* Held back while a repeat would come too soon: the
		 * misses stay counted and the next round asks again. */
		if (++h->owner_misses >= hc->probe_fall &&
		    vrrp_tk_owner_lost_due(h->lost_streak, h->lost_us,
		        util_mono_us(), hc->reannounce_max_ms * 1000)) {
			vrrp_tk_havip_owner_lost(h);
			return;
		}
	}
	h->om.window = (uint16_t)(hc->probe_fall ? hc->probe_fall : 1);
	h->owner_out = h->owner_answered = false;
	if ((rc = vrrp_tk_havip_owner_send(h, &why)) == 0) {
		in->tk.owner_sent++;
		h->owner_out = true;
		h->blind = false;
		ev_timer_stop(in->rt->loop, &h->reannounce);
		return;
	}
	in->tk.owner_unsent++;
	if (!h->blind)
		log_warn("vrrp havip owner probe not sent, re-announcing on "
		         "back-off",
		    "instance=%s step=%s error=%s", log_q(in->name), why,
		    strerror(-rc));
	h->blind = true;
	if (!ev_timer_active(&h->reannounce)) {
		d = vrrp_tk_backoff_us(
		    h->backoff, hc->reannounce_max_ms * 1000);
		ev_timer_start(in->rt->loop, &h->reannounce, d / 1000);
	}
}

static void
vrrp_tk_havip_send(struct vrrp_tk_havip *h)
{
	struct vrrp_inst *in = h->in;
	uint8_t buf[VRRP_TK_ICMP_LEN];
	size_t n;

	h->m.seq++;
	n = vrrp_tk_icmp_build(buf, h->m.id, h->m.seq, h->m.token);
	if (sendto(h->fd, buf, n, 0, (struct sockaddr *)&h->gw,
	        sizeof(h->gw)) == -1) {
		/* Counted as a miss too at the next tick: no reply comes. */
		in->tk.probe_errors++;
		log_warn("vrrp havip probe not sent", "instance=%s error=%s",
		    log_q(in->name), strerror(errno));
	} else
		in->tk.probes_sent++;
	h->sent_any = true;
	h->answered = false;
}

static void
vrrp_tk_havip_probe_cb(struct ev_timer *t, void *arg)
{
	struct vrrp_tk_havip *h = arg;
	struct vrrp_inst *in = h->in;
	const struct vrrp_havip_conf *hc = &in->conf->havip;

	if (h->sent_any && !h->answered) {
		in->tk.probes_missed++;
		h->misses++;
		if (h->misses >= hc->probe_fall &&
		    in->tk.state != VRRP_TK_NOT_OWNER)
			vrrp_tk_havip_not_owner(h);
	}
	if (in->tk.state == VRRP_TK_NOT_OWNER)
		vrrp_tk_havip_owner_round(h);
	/* The window follows probe_fall across a reload. */
	h->m.window = (uint16_t)(hc->probe_fall ? hc->probe_fall : 1);
	vrrp_tk_havip_send(h);
	ev_timer_start(in->rt->loop, &h->probe, hc->probe_interval_ms);
}

static void
vrrp_tk_havip_rx(struct ev_io *io, unsigned events, void *arg)
{
	struct vrrp_tk_havip *h = arg;
	struct vrrp_inst *in = h->in;
	uint8_t buf[VRRP_TK_HAVIP_RXMAX];
	enum vrrp_tk_icmp_drop why;
	uint16_t seq;
	ssize_t n;
	int i;

	for (i = 0; i < VRRP_TK_HAVIP_BATCH && h->fd >= 0; i++) {
		n = recv(h->fd, buf, sizeof(buf), MSG_TRUNC);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				in->tk.probe_errors++;
			break;
		}
		/* Longer than our 36 bytes by far: not ours, malformed. */
		why = (size_t)n > sizeof(buf) ?
		    VRRP_TK_ICMP_SHORT :
		    vrrp_tk_icmp_parse(buf, (size_t)n, &h->m, &seq);
		if (why != VRRP_TK_ICMP_OK) {
			in->tk.probe_drops[why]++;
			continue;
		}
		in->tk.probes_ok++;
		vrrp_tk_proof(&in->tk, util_wall_ms());
		h->answered = true;
		h->misses = 0;
		vrrp_tk_havip_owner(h);
	}
}

/*
 * Owner probe replies, read off the wire before the kernel drops them as
 * martians (they come from the VIP, which is ours too). Only a reply to a
 * recent request while NOT_OWNER counts as a sign of life.
 */
static void
vrrp_tk_havip_prx(struct ev_io *io, unsigned events, void *arg)
{
	struct vrrp_tk_havip *h = arg;
	struct vrrp_inst *in = h->in;
	uint8_t buf[VRRP_TK_ETH_HLEN + VRRP_TK_HAVIP_RXMAX];
	enum vrrp_tk_icmp_drop why;
	uint16_t seq;
	ssize_t n;
	int i;

	for (i = 0; i < VRRP_TK_HAVIP_BATCH && h->pfd >= 0; i++) {
		n = recv(h->pfd, buf, sizeof(buf), MSG_TRUNC);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				in->tk.probe_errors++;
			break;
		}
		why = (size_t)n > sizeof(buf) ?
		    VRRP_TK_ICMP_SHORT :
		    vrrp_tk_owner_parse(buf, (size_t)n, &h->om, &seq);
		if (why != VRRP_TK_ICMP_OK) {
			in->tk.owner_drops[why]++;
			continue;
		}
		in->tk.owner_ok++;
		if (in->tk.state == VRRP_TK_NOT_OWNER) {
			h->owner_answered = true;
			h->owner_misses = 0;
		}
	}
}

/* Identifiers and tokens of both probes, drawn apart. */
static void
vrrp_tk_havip_token(struct vrrp_tk_havip *h)
{
	uint8_t r[2 * (2 + VRRP_TK_ICMP_TOKEN)];
	struct timespec ts;
	size_t i;

	/* getrandom() at most blocks before the pool is seeded; a weak
	 * token only risks taking the other master's reply for ours. */
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		for (i = 0; i < sizeof(r); i++)
			r[i] = (uint8_t)((uint64_t)ts.tv_nsec >> (i % 4 * 8) ^
			    (unsigned)getpid() >> (i % 2 * 8));
	}
	h->m.id = (uint16_t)(r[0] << 8 | r[1]);
	memcpy(h->m.token, r + 2, VRRP_TK_ICMP_TOKEN);
	h->om.id = (uint16_t)(r[10] << 8 | r[11]);
	/* Told apart by their sockets already; distinct ids keep the
	 * other master's replies of one from passing for the other. */
	if (h->om.id == h->m.id)
		h->om.id ^= 0x8000;
	memcpy(h->om.token, r + 12, VRRP_TK_ICMP_TOKEN);
}

static int
vrrp_tk_havip_init(struct vrrp_inst *in)
{
	const struct vrrp_instance_conf *ic = in->conf;
	struct vrrp_tk_havip *h = xcalloc(1, sizeof(*h));

	vrrp_tk_local_ops.init(in);
	h->in = in;
	h->fd = -1;
	h->pfd = -1;
	ev_timer_init(&h->probe, vrrp_tk_havip_probe_cb, h);
	ev_timer_init(&h->reannounce, vrrp_tk_havip_reannounce_cb, h);
	/* vrrp_conf.c guarantees one IPv4 VIP and an IPv4 gateway. */
	h->m.to = ((const struct sockaddr_in *)&ic->vaddrs[0].addr)->sin_addr;
	h->gw = *(const struct sockaddr_in *)&ic->havip.gateway;
	h->gw.sin_port = 0;
	h->m.from = h->gw.sin_addr;
	h->om.from = h->m.to;
	vrrp_tk_havip_token(h);
	in->tk.priv = h;
	return 0;
}

static void
vrrp_tk_havip_stop(struct vrrp_tk_havip *h)
{
	ev_timer_stop(h->in->rt->loop, &h->probe);
	vrrp_tk_havip_owner_reset(h);
	vrrp_tk_havip_close(h);
	h->lost_streak = 0;
	h->sent_any = false;
	h->answered = false;
	h->misses = 0;
}

static int
vrrp_tk_havip_acquire(struct vrrp_inst *in)
{
	struct vrrp_tk_havip *h = vrrp_tk_havip_of(in);
	struct vrrp_announce_plan plan;
	int rc;

	vrrp_tk_havip_stop(h);
	vrrp_tk_local_hold(in, true);
	vrrp_tk_local_plan(in->conf, &plan);
	vrrp_tk_local_garp_start(in, &plan);
	if ((rc = vrrp_tk_havip_open(h)) != 0) {
		/* Announced but blind: FAILED shows it, and the address is
		 * held as the local backend would. */
		in->tk.probe_errors++;
		log_err("vrrp havip probe socket", "instance=%s error=%s",
		    log_q(in->name), strerror(-rc));
		return rc;
	}
	vrrp_inst_tk_report(in, VRRP_TK_VERIFYING);
	vrrp_tk_havip_probe_cb(&h->probe, h);
	return 0;
}

/*
 * announce(): a lower-priority master was heard, so it announced last.
 * Answer with a burst as the local backend does; from NOT_OWNER that is a
 * takeover again, so verify again rather than keep a refresh running
 * without proof (probe_fall unanswered probes stop it again).
 */
static void
vrrp_tk_havip_announce(struct vrrp_inst *in)
{
	struct vrrp_tk_havip *h = vrrp_tk_havip_of(in);

	vrrp_tk_local_reannounce(in);
	if (in->tk.state == VRRP_TK_NOT_OWNER) {
		vrrp_tk_havip_owner_reset(h);
		h->misses = 0;
		vrrp_inst_tk_report(in, VRRP_TK_VERIFYING);
	}
}

static void
vrrp_tk_havip_release(struct vrrp_inst *in)
{
	vrrp_tk_havip_stop(vrrp_tk_havip_of(in));
	vrrp_tk_local_ops.release(in);
}

static void
vrrp_tk_havip_fini(struct vrrp_inst *in)
{
	struct vrrp_tk_havip *h = vrrp_tk_havip_of(in);

	if (h != NULL) {
		vrrp_tk_havip_stop(h);
		free(h);
		in->tk.priv = NULL;
	}
	vrrp_tk_local_ops.fini(in);
}

const struct vrrp_tk_ops vrrp_tk_havip_ops = {
	.name = "havip",
	.verifies = true,
	.init = vrrp_tk_havip_init,
	.acquire = vrrp_tk_havip_acquire,
	.announce = vrrp_tk_havip_announce,
	.release = vrrp_tk_havip_release,
	.fini = vrrp_tk_havip_fini,
};
