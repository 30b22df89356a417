/*
 * dns_xdp.c - the XDP fast path of a dns worker: UDP queries the filter
 * program (lib/xdp_filter.h) steered into an AF_XDP socket are read from
 * its RX ring, answered by the same step as the socket path
 * (dns_udp_respond: NOTIFY, answer engine, TSIG, counters, RRL), and the
 * reply is written into the query's own frame and put on the TX ring; one
 * kick sends a batch. The kernel's routing, IP output and socket queues
 * are skipped on both ways, which is where the UDP path spends its time.
 *
 * The parent made the socket (this worker has no capability to); it comes
 * as a plane socket named "xdp/<if>:<queue>" with its umem's memfd as
 * "xdp/<if>:<queue>#umem", for one worker only (lib/plane.h). While the
 * worker is down its queue is not served; the frames wait in the rings for
 * the next one (xsk.h says why that is safe).
 *
 * A frame that does not parse (dns_xdp_pkt.h) is counted by reason and
 * dropped; a reply with no room on the TX ring is counted and dropped: the
 * client retries as for a lost datagram.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns/dns_srv.h"
#include "dns/dns_xdp_pkt.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "lib/xsk.h"

#define DNS_XDP_MTU_DEFAULT 1500
#define DNS_XDP_IPUDP       28 /* IPv4 + UDP headers, within the MTU */
#define DNS_XDP_KICKS_MAX   4  /* extra kicks to empty the TX ring */

struct dns_xdp_stats {
	uint64_t rx_frames;
	uint64_t dropped[DNS_XDP_PKT__COUNT]; /* by reason; [OK] unused */
	uint64_t no_answer;  /* answered nothing (RRL, malformed header) */
	uint64_t tx_no_room; /* TX ring full */
	uint64_t tx_too_big; /* over the frame or the MTU */
	uint64_t kicks;
	uint64_t attach_errors;
};

struct dns_xdp {
	struct dns_srv *srv;     /* borrowed: the owner */
	char name[IPC_NAME_MAX]; /* the socket's, "" when none */
	char ifname[IF_NAMESIZE];
	unsigned queue;
	int fd; /* owned: a dup of the xsk socket; -1 when none */
	bool attached;
	struct xsk x; /* rings and umem mapped from fd */
	struct ev_io io;
	size_t size;              /* largest DNS payload: the MTU's */
	uint8_t out[DNS_UDP_OUT]; /* one answer, before it goes in a frame */
	struct dns_xdp_stats st;  /* kept across sockets */
};

/* "xdp/eth0:0" into its interface and queue. */
static int
dns_xdp_parse_name(struct dns_xdp *d, const char *name)
{
	const char *ifn = name + 4, *colon = strrchr(name, ':');

	if (strncmp(name, "xdp/", 4) != 0 || colon == NULL ||
	    (size_t)(colon - ifn) >= sizeof(d->ifname) || colon == ifn)
		return -EINVAL;
	memcpy(d->ifname, ifn, (size_t)(colon - ifn));
	d->ifname[colon - ifn] = '\0';
	d->queue = (unsigned)strtoul(colon + 1, NULL, 10);
	return 0;
}

/* A reply may not be fragmented: its payload stays within the MTU. */
static size_t
dns_xdp_payload_max(const char *ifname)
{
	struct ifreq ifr;
	int fd, mtu = DNS_XDP_MTU_DEFAULT;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1) {
		if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 576)
			mtu = ifr.ifr_mtu;
		close(fd);
	}
	return MIN(
	    (size_t)mtu - DNS_XDP_IPUDP, sizeof(((struct dns_xdp *)0)->out));
}

/* Answer the frame of descriptor i; false when it went back to the fill
 * ring instead of the TX ring. */
static bool
dns_xdp_one(struct dns_xdp *d, const struct xdp_desc *desc, uint64_t now_ms)
{
	struct dns_srv *s = d->srv;
	uint8_t *f = xsk_frame(&d->x, desc->addr);
	size_t room = xsk_frame_room(desc->addr), n, flen;
	struct dns_xdp_pkt q;
	struct dns_client cl;
	enum dns_xdp_pkt_err e;

	d->st.rx_frames++;
	e = desc->len <= room ? dns_xdp_pkt_parse(f, desc->len, &q) :
	                        DNS_XDP_PKT_BAD_LENGTH;
	if (e != DNS_XDP_PKT_OK) {
		d->st.dropped[e]++;
		goto drop;
	}
	memset(&cl, 0, sizeof(cl));
	cl.family = AF_INET;
	memcpy(cl.addr, &q.saddr, 4);
	cl.bits = 32;
	n = dns_udp_respond(
	    s, DNS_SRV_XDP, &cl, q.payload, q.len, d->out, d->size, now_ms);
	if (n == 0) {
		d->st.no_answer++;
		goto drop;
	}
	if (xsk_tx_room(&d->x) == 0) {
		d->st.tx_no_room++;
		goto drop;
	}
	if ((flen = dns_xdp_pkt_reply(f, room, &q, d->out, n)) == 0) {
		d->st.tx_too_big++;
		goto drop;
	}
	xsk_tx_put(&d->x, desc->addr, (uint32_t)flen);
	return true;
drop:
	xsk_fill_put(&d->x, desc->addr);
	return false;
}

/* One batch; the number of frames taken. */
static uint32_t
dns_xdp_batch(struct dns_xdp *d, uint64_t now_ms)
{
	uint32_t idx, n = xsk_rx_peek(&d->x, DNS_UDP_BATCH, &idx);

	for (uint32_t i = 0; i < n; i++)
		(void)dns_xdp_one(d, xsk_rx_desc(&d->x, idx + i), now_ms);
	if (n > 0) {
		xsk_rx_release(&d->x, n);
		xsk_fill_submit(&d->x);
	}
	return n;
}

static void
dns_xdp_read_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct dns_xdp *d = arg;
	struct dns_srv *s = d->srv;
	uint64_t now = ev_now_ms(s->loop);

	if (s->zones == NULL || !d->attached)
		return;
	s->opts.now = (uint32_t)time(NULL); /* cookies, RRSIG times */
	s->opts.sign = s->zones->sign;
	(void)xsk_reap(&d->x); /* sent frames back to the fill ring */
	for (unsigned w = 0; w < DNS_UDP_WAKE_MAX; w++) {
		uint32_t n = dns_xdp_batch(d, now);

		if (xsk_tx_submit(&d->x))
			d->st.kicks++;
		if (n < DNS_UDP_BATCH)
			break;
		(void)xsk_reap(&d->x);
	}
	/* A kick sends at most 32 frames in copy mode, and one that found
	 * the device busy sends none: what is left would wait for the next
	 * query. A few more kicks, bounded. */
	for (unsigned k = 0; k < DNS_XDP_KICKS_MAX && xsk_tx_submit(&d->x); k++)
		d->st.kicks++;
	(void)xsk_reap(&d->x);
}

static void
dns_xdp_detach(struct dns_xdp *d)
{
	if (d->attached) {
		ev_io_stop(d->srv->loop, &d->io);
		xsk_detach(&d->x);
		d->attached = false;
	}
	if (d->fd != -1)
		close(d->fd);
	d->fd = -1;
	d->name[0] = '\0';
}

static int
dns_xdp_attach(
    struct dns_xdp *d, const struct plane_sock *k, const struct plane_sock *mem)
{
	int e;

	if ((e = dns_xdp_parse_name(d, k->name)) != 0)
		return e;
	if ((d->fd = fcntl(k->fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return -errno;
	/* The rings and umem stay mapped: the memfd may go. */
	if ((e = xsk_attach(&d->x, d->fd, mem->fd)) != 0)
		return e;
	d->attached = true;
	d->size = dns_xdp_payload_max(d->ifname);
	snprintf(d->name, sizeof(d->name), "%s", k->name);
	ev_io_init(&d->io, d->fd, dns_xdp_read_cb, d);
	if (!d->srv->stopping &&
	    (e = ev_io_start(d->srv->loop, &d->io, EV_READ)) != 0)
		return e;
	log_info("dns xdp serving", "worker=%u interface=%s queue=%u",
	    d->srv->worker, d->ifname, d->queue);
	return 0;
}

void
dns_xdp_socks(struct dns_srv *s, const struct plane_sock *socks, size_t n)
{
	const struct plane_sock *k = NULL, *mem = NULL;
	struct dns_xdp *d = s->xdp;
	char want[IPC_NAME_MAX + 8];
	int e;

	for (size_t i = 0; i < n && k == NULL; i++)
		if (!socks[i].adopted &&
		    strncmp(socks[i].name, "xdp/", 4) == 0 &&
		    strchr(socks[i].name, '#') == NULL)
			k = &socks[i];
	if (k != NULL) {
		snprintf(want, sizeof(want), "%s#umem", k->name);
		for (size_t i = 0; i < n && mem == NULL; i++)
			if (strcmp(socks[i].name, want) == 0)
				mem = &socks[i];
	}
	if (d == NULL) {
		if (k == NULL || mem == NULL)
			return;
		d = s->xdp = xcalloc(1, sizeof(*s->xdp));
		d->srv = s;
		d->fd = -1;
	}
	/* The same socket as before: its rings are mapped already. */
	if (k != NULL && mem != NULL && d->attached &&
	    strcmp(d->name, k->name) == 0)
		return;
	dns_xdp_detach(d);
	if (k == NULL || mem == NULL)
		return;
	if ((e = dns_xdp_attach(d, k, mem)) != 0) {
		d->st.attach_errors++;
		log_err("dns xdp socket not served",
		    "worker=%u name=%s error=%s", s->worker, k->name,
		    log_q(strerror(-e)));
		dns_xdp_detach(d);
	}
}

void
dns_xdp_stop(struct dns_srv *s)
{
	if (s->xdp != NULL && s->xdp->attached)
		ev_io_stop(s->loop, &s->xdp->io);
}

static uint64_t
dns_xdp_dropped(const struct dns_xdp *d)
{
	uint64_t v = 0;

	for (int e = 1; e < DNS_XDP_PKT__COUNT; e++)
		v += d->st.dropped[e];
	return v;
}

static uint64_t
dns_xdp_queries(const struct dns_srv *s)
{
	uint64_t v = 0;

	for (int i = 0; i < DNS_SRV__NQTYPE; i++)
		for (int r = 0; r < DNS_SRV__NRCODE; r++)
			v += s->st.queries[DNS_SRV_XDP][i][r];
	return v;
}

void
dns_xdp_json(struct dns_srv *s, struct jw *w)
{
	const struct dns_xdp *d = s->xdp;

	jw_key(w, "xdp");
	jw_obj_begin(w);
	jw_kbool(w, "on", d != NULL && d->attached);
	if (d != NULL && d->attached) {
		jw_kstr(w, "interface", d->ifname);
		jw_kuint(w, "queue", d->queue);
		jw_kstr(w, "mode", "generic");
	}
	jw_kuint(w, "queries", dns_xdp_queries(s));
	jw_kuint(w, "rx_frames", d != NULL ? d->st.rx_frames : 0);
	jw_kuint(w, "dropped_malformed", d != NULL ? dns_xdp_dropped(d) : 0);
	jw_kuint(w, "dropped_no_room",
	    d != NULL ? d->st.tx_no_room + d->st.tx_too_big : 0);
	jw_kuint(w, "no_answer", d != NULL ? d->st.no_answer : 0);
	jw_obj_end(w);
}

void
dns_xdp_metrics(struct dns_srv *s, struct buf *out)
{
	const struct dns_xdp *d = s->xdp;
	struct buf l;

	if (d == NULL)
		return;
	buf_init(&l);
	mx_family(out, "haven_dns_xdp_up", "gauge",
	    "1 while this worker serves an AF_XDP socket");
	mx_u64(out, "haven_dns_xdp_up", NULL, d->attached ? 1 : 0);
	mx_family(out, "haven_dns_xdp_rx_frames_total", "counter",
	    "frames read from the AF_XDP socket");
	mx_u64(out, "haven_dns_xdp_rx_frames_total", NULL, d->st.rx_frames);
	mx_family(out, "haven_dns_xdp_dropped_total", "counter",
	    "frames dropped on the XDP path, by reason");
	for (int e = 1; e < DNS_XDP_PKT__COUNT; e++) {
		buf_reset(&l);
		mx_label(&l, "reason", dns_xdp_pkt_err_name(e));
		mx_u64(out, "haven_dns_xdp_dropped_total", l.data,
		    d->st.dropped[e]);
	}
	mx_u64(out, "haven_dns_xdp_dropped_total", "reason=\"tx_no_room\"",
	    d->st.tx_no_room);
	mx_u64(out, "haven_dns_xdp_dropped_total", "reason=\"tx_too_big\"",
	    d->st.tx_too_big);
	mx_u64(out, "haven_dns_xdp_dropped_total", "reason=\"no_answer\"",
	    d->st.no_answer);
	mx_family(out, "haven_dns_xdp_kicks_total", "counter",
	    "sendto calls that made the kernel transmit a TX batch");
	mx_u64(out, "haven_dns_xdp_kicks_total", NULL, d->st.kicks);
	buf_fini(&l);
}
