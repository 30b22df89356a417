/*
 * vrrp_tk_havip.c - the "havip" takeover backend (vrrp_tk.h): a VPC's
 * highly-available VIP, routed by the cloud to whichever node it last saw
 * announce it (reference/vip.md §5).
 *
 * Acquire does what the local backend does (the address on the interface,
 * announcement bursts and refreshes), then asks the network whether it
 * worked: every probe_interval an ICMP echo request goes from the VIP to
 * the gateway. The gateway's reply is addressed to the VIP, so the VPC
 * delivers it to the node it routes the VIP to: a reply is proof that
 * traffic for the VIP reaches us (OWNER). probe_fall requests in a row
 * without one while we are master mean another node has it (NOT_OWNER):
 * typically the other master of a control-plane partition. Then we stop
 * the periodic refresh, because with last-announcer-wins two refreshing
 * masters move the address back and forth for as long as the partition
 * lasts, and announce only on an exponential back-off (1 s doubling to
 * reannounce_max) so that an owner that really died is still replaced, in
 * bounded time. Probing goes on; the first reply makes us OWNER again and
 * resumes the refresh.
 *
 * The socket is a raw IPPROTO_ICMP socket (the vrrp process holds
 * CAP_NET_RAW), bound to the VIP with IP_FREEBIND so that it opens even
 * if netlink could not add the address (then nothing is delivered to it
 * and we are, correctly, not the owner), filtered to echo replies
 * (ICMP_FILTER) and opened only while master. A raw socket sees every
 * echo reply to the VIP, including replies to the other master's requests
 * when the VPC routes to us; vrrp_tk_icmp_parse() sorts them out and each
 * discard is counted by reason.
 */
#include <sys/random.h>
#include <sys/socket.h>

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
	struct ev_timer probe;      /* next echo request */
	struct ev_timer reannounce; /* next back-off round (NOT_OWNER) */
	struct vrrp_tk_icmp_match m;
	struct sockaddr_in gw;
	bool sent_any;    /* a request is out since acquire */
	bool answered;    /* ... and the last one was answered */
	unsigned misses;  /* requests in a row without a reply */
	unsigned backoff; /* back-off rounds sent since NOT_OWNER */
};

static struct vrrp_tk_havip *
vrrp_tk_havip_of(struct vrrp_inst *in)
{
	return in->tk.priv;
}

static void
vrrp_tk_havip_close(struct vrrp_tk_havip *h)
{
	if (h->fd < 0)
		return;
	ev_io_stop(h->in->rt->loop, &h->io);
	close(h->fd);
	h->fd = -1;
}

static void vrrp_tk_havip_rx(struct ev_io *io, unsigned events, void *arg);

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
	sa.sin_addr = h->m.vip;
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

static void
vrrp_tk_havip_owner(struct vrrp_tk_havip *h)
{
	struct vrrp_inst *in = h->in;
	enum vrrp_tk_state was = in->tk.state;

	if (was == VRRP_TK_OWNER)
		return;
	ev_timer_stop(in->rt->loop, &h->reannounce);
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
	uint64_t d =
	    vrrp_tk_backoff_us(0, in->conf->havip.reannounce_max_ms * 1000);

	vrrp_tk_local_garp_stop(in);
	h->backoff = 0;
	ev_timer_start(in->rt->loop, &h->reannounce, d / 1000);
	vrrp_inst_tk_report(in, VRRP_TK_NOT_OWNER);
}

static void
vrrp_tk_havip_reannounce_cb(struct ev_timer *t, void *arg)
{
	struct vrrp_tk_havip *h = arg;
	struct vrrp_inst *in = h->in;
	uint64_t d;

	vrrp_tk_local_announce(in);
	in->tk.reannounces++;
	h->backoff++;
	d = vrrp_tk_backoff_us(
	    h->backoff, in->conf->havip.reannounce_max_ms * 1000);
	ev_timer_start(in->rt->loop, &h->reannounce, d / 1000);
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

static void
vrrp_tk_havip_token(struct vrrp_tk_havip *h)
{
	uint8_t r[2 + VRRP_TK_ICMP_TOKEN];
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
}

static int
vrrp_tk_havip_init(struct vrrp_inst *in)
{
	const struct vrrp_instance_conf *ic = in->conf;
	struct vrrp_tk_havip *h = xcalloc(1, sizeof(*h));

	vrrp_tk_local_ops.init(in);
	h->in = in;
	h->fd = -1;
	ev_timer_init(&h->probe, vrrp_tk_havip_probe_cb, h);
	ev_timer_init(&h->reannounce, vrrp_tk_havip_reannounce_cb, h);
	/* vrrp_conf.c guarantees one IPv4 VIP and an IPv4 gateway. */
	h->m.vip = ((const struct sockaddr_in *)&ic->vaddrs[0].addr)->sin_addr;
	h->gw = *(const struct sockaddr_in *)&ic->havip.gateway;
	h->gw.sin_port = 0;
	h->m.gateway = h->gw.sin_addr;
	vrrp_tk_havip_token(h);
	in->tk.priv = h;
	return 0;
}

static void
vrrp_tk_havip_stop(struct vrrp_tk_havip *h)
{
	ev_timer_stop(h->in->rt->loop, &h->probe);
	ev_timer_stop(h->in->rt->loop, &h->reannounce);
	vrrp_tk_havip_close(h);
	h->sent_any = false;
	h->answered = false;
	h->misses = 0;
	h->backoff = 0;
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
	.announce = vrrp_tk_local_reannounce,
	.release = vrrp_tk_havip_release,
	.fini = vrrp_tk_havip_fini,
};
