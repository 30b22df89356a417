/*
 * vrrp_announce.c - gratuitous ARP and unsolicited NA frames, their sender,
 * and the pacing plan. What the frames carry and why: vrrp_announce.h.
 *
 * The builders and the plan are pure; the sender is the only part that
 * touches a socket. Multi-byte fields are written byte by byte in network
 * order, so the frames do not depend on the host's byte order or on struct
 * padding.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "vrrp/vrrp_announce.h"

#define VRRP_ANNOUNCE_TLLA 2 /* Target Link-Layer Address, RFC 4861 §4.6.1 */

static const unsigned char vrrp_announce_bcast[VRRP_ANNOUNCE_MACLEN] = { 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff };
/* ff02::1 mapped to Ethernet, RFC 2464 §7. */
static const unsigned char vrrp_announce_allnodes_mac[VRRP_ANNOUNCE_MACLEN] = {
	0x33, 0x33, 0x00, 0x00, 0x00, 0x01
};
static const struct in6_addr vrrp_announce_allnodes = {
	{ { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 } }
};

static unsigned char *
vrrp_announce_put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return p + 2;
}

static unsigned char *
vrrp_announce_put(unsigned char *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

void
vrrp_announce_vmac(
    unsigned char mac[VRRP_ANNOUNCE_MACLEN], int family, uint8_t vrid)
{
	mac[0] = 0x00;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = 0x00;
	mac[4] = family == AF_INET6 ? 0x02 : 0x01;
	mac[5] = vrid;
}

/* The Ethernet header; returns where the payload starts. */
static unsigned char *
vrrp_announce_eth(unsigned char *p, const unsigned char *dst,
    const unsigned char *src, unsigned type)
{
	p = vrrp_announce_put(p, dst, VRRP_ANNOUNCE_MACLEN);
	p = vrrp_announce_put(p, src, VRRP_ANNOUNCE_MACLEN);
	return vrrp_announce_put16(p, type);
}

size_t
vrrp_announce_garp_build(unsigned char frame[VRRP_ANNOUNCE_ARP_LEN],
    const unsigned char mac[VRRP_ANNOUNCE_MACLEN], struct in_addr vip)
{
	static const unsigned char zero[VRRP_ANNOUNCE_MACLEN];
	unsigned char *p;

	p = vrrp_announce_eth(frame, vrrp_announce_bcast, mac, ETHERTYPE_ARP);
	p = vrrp_announce_put16(p, ARPHRD_ETHER);
	p = vrrp_announce_put16(p, ETHERTYPE_IP);
	*p++ = VRRP_ANNOUNCE_MACLEN;
	*p++ = sizeof(vip);
	p = vrrp_announce_put16(p, ARPOP_REQUEST);
	p = vrrp_announce_put(p, mac, VRRP_ANNOUNCE_MACLEN); /* sha */
	p = vrrp_announce_put(p, &vip, sizeof(vip));         /* spa */
	p = vrrp_announce_put(p, zero, sizeof(zero)); /* tha: RFC 5227 §2.1.1 */
	p = vrrp_announce_put(p, &vip, sizeof(vip));  /* tpa = spa */
	return (size_t)(p - frame);
}

uint16_t
vrrp_announce_icmp6_cksum(const struct in6_addr *src,
    const struct in6_addr *dst, const unsigned char *msg, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < 16; i += 2) {
		sum += (uint32_t)src->s6_addr[i] << 8 | src->s6_addr[i + 1];
		sum += (uint32_t)dst->s6_addr[i] << 8 | dst->s6_addr[i + 1];
	}
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
	sum += IPPROTO_ICMPV6;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)msg[i] << 8 | msg[i + 1];
	if (len & 1)
		sum += (uint32_t)msg[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t
vrrp_announce_na_build(unsigned char frame[VRRP_ANNOUNCE_NA_LEN],
    const unsigned char mac[VRRP_ANNOUNCE_MACLEN], const struct in6_addr *src,
    const struct in6_addr *vip, bool router)
{
	unsigned char *p, *icmp;
	uint16_t ck;

	p = vrrp_announce_eth(
	    frame, vrrp_announce_allnodes_mac, mac, ETHERTYPE_IPV6);
	/* IPv6 header, RFC 8200 §3: version 6, class 0, flow 0. */
	*p++ = 0x60;
	*p++ = 0;
	p = vrrp_announce_put16(p, 0);
	p = vrrp_announce_put16(p, VRRP_ANNOUNCE_NA_ICMP);
	*p++ = IPPROTO_ICMPV6;
	*p++ = 255; /* hop limit, RFC 4861 §7.1.2 */
	p = vrrp_announce_put(p, src, sizeof(*src));
	p = vrrp_announce_put(p, &vrrp_announce_allnodes, 16);
	/* Neighbor Advertisement, RFC 4861 §4.4. */
	icmp = p;
	*p++ = ND_NEIGHBOR_ADVERT;
	*p++ = 0;                      /* code */
	p = vrrp_announce_put16(p, 0); /* checksum, below */
	*p++ = (unsigned char)(VRRP_ANNOUNCE_NA_OVERRIDE |
	    (router ? VRRP_ANNOUNCE_NA_ROUTER : 0));
	*p++ = 0;
	p = vrrp_announce_put16(p, 0);
	p = vrrp_announce_put(p, vip, sizeof(*vip));
	/* Target Link-Layer Address option: type, length in 8 bytes. */
	*p++ = VRRP_ANNOUNCE_TLLA;
	*p++ = 1;
	p = vrrp_announce_put(p, mac, VRRP_ANNOUNCE_MACLEN);
	ck = vrrp_announce_icmp6_cksum(
	    src, &vrrp_announce_allnodes, icmp, VRRP_ANNOUNCE_NA_ICMP);
	vrrp_announce_put16(icmp + 2, ck);
	return (size_t)(p - frame);
}

static int
vrrp_announce_fail(struct vrrp_announce *a, int e, const char *what)
{
	const char *name = strerrorname_np(e);

	snprintf(a->err, sizeof(a->err), "%s on ifindex %d: %s: %s", what,
	    a->ifindex, name ? name : "E?", strerror(e));
	return -e;
}

int
vrrp_announce_open(struct vrrp_announce *a, int ifindex)
{
	struct sockaddr_ll sll = { 0 };
	int e;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	a->ifindex = ifindex;
	if (ifindex <= 0)
		return vrrp_announce_fail(a, ENODEV, "announce socket");
	/* Protocol 0: the kernel delivers nothing to us; we only send. */
	a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (a->fd == -1)
		return vrrp_announce_fail(a, errno, "announce socket");
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifindex;
	if (bind(a->fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		e = errno;
		close(a->fd);
		a->fd = -1;
		return vrrp_announce_fail(a, e, "announce socket: bind");
	}
	return 0;
}

void
vrrp_announce_close(struct vrrp_announce *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

/* The interface's MAC now, from the bound socket. */
static int
vrrp_announce_ifmac(struct vrrp_announce *a, unsigned char *mac)
{
	struct sockaddr_ll sll;
	socklen_t len = sizeof(sll);

	if (getsockname(a->fd, (struct sockaddr *)&sll, &len) == -1)
		return vrrp_announce_fail(a, errno, "announce: getsockname");
	if (sll.sll_hatype != ARPHRD_ETHER ||
	    sll.sll_halen != VRRP_ANNOUNCE_MACLEN)
		return vrrp_announce_fail(
		    a, EOPNOTSUPP, "announce: not an Ethernet interface");
	memcpy(mac, sll.sll_addr, VRRP_ANNOUNCE_MACLEN);
	return 0;
}

static int
vrrp_announce_xmit(struct vrrp_announce *a, const unsigned char *frame,
    size_t len, unsigned ethertype, const char *what)
{
	struct sockaddr_ll sll = { 0 };
	ssize_t n;

	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = a->ifindex;
	sll.sll_protocol = htons((uint16_t)ethertype);
	sll.sll_halen = VRRP_ANNOUNCE_MACLEN;
	memcpy(sll.sll_addr, frame, VRRP_ANNOUNCE_MACLEN);
	do
		n = sendto(
		    a->fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll));
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		a->tx_errors++;
		return vrrp_announce_fail(a, errno, what);
	}
	if ((size_t)n != len) {
		a->tx_errors++;
		return vrrp_announce_fail(a, EMSGSIZE, what);
	}
	a->tx_frames++;
	return 0;
}

int
vrrp_announce_garp_send(
    struct vrrp_announce *a, struct in_addr vip, const unsigned char *mac)
{
	unsigned char frame[VRRP_ANNOUNCE_ARP_LEN], own[VRRP_ANNOUNCE_MACLEN];
	size_t len;
	int rc;

	if (a->fd < 0)
		return vrrp_announce_fail(a, EBADF, "gratuitous ARP");
	if (mac == NULL) {
		if ((rc = vrrp_announce_ifmac(a, own)) < 0) {
			a->tx_errors++;
			return rc;
		}
		mac = own;
	}
	len = vrrp_announce_garp_build(frame, mac, vip);
	return vrrp_announce_xmit(
	    a, frame, len, ETHERTYPE_ARP, "gratuitous ARP");
}

int
vrrp_announce_na_send(struct vrrp_announce *a, const struct in6_addr *vip,
    bool router, const unsigned char *mac)
{
	unsigned char frame[VRRP_ANNOUNCE_NA_LEN], own[VRRP_ANNOUNCE_MACLEN];
	size_t len;
	int rc;

	if (a->fd < 0)
		return vrrp_announce_fail(a, EBADF, "unsolicited NA");
	if (mac == NULL) {
		if ((rc = vrrp_announce_ifmac(a, own)) < 0) {
			a->tx_errors++;
			return rc;
		}
		mac = own;
	}
	len = vrrp_announce_na_build(frame, mac, vip, vip, router);
	return vrrp_announce_xmit(
	    a, frame, len, ETHERTYPE_IPV6, "unsolicited NA");
}

/* Begin the burst that starts at `at` with n rounds. */
static void
vrrp_announce_sched_burst(
    struct vrrp_announce_sched *s, uint64_t at, unsigned n)
{
	s->left = n;
	s->next_us = n > 0 ? at : UINT64_MAX;
}

/* The current burst is over: find the next one, or the end. */
static void
vrrp_announce_sched_after(struct vrrp_announce_sched *s, uint64_t now_us)
{
	uint64_t delayed = UINT64_MAX, at;
	unsigned n;

	if (s->delayed_pending)
		delayed = s->start_us + s->plan.delay_us;
	at = MIN(delayed, s->next_refresh_us);
	if (at == UINT64_MAX) {
		s->left = 0;
		s->next_us = UINT64_MAX;
		return;
	}
	/* Both due together (or while a burst ran): one burst, the larger. */
	n = 0;
	if (delayed <= MAX(at, now_us)) {
		s->delayed_pending = false;
		n = s->plan.repeat;
	}
	if (s->next_refresh_us <= MAX(at, now_us)) {
		/* Refreshes keep their phase from the takeover. */
		while (s->next_refresh_us <= MAX(at, now_us))
			s->next_refresh_us += s->plan.refresh_us;
		n = MAX(n, s->plan.refresh_repeat);
	}
	/* n > 0: sched_start admits neither burst with 0 rounds. */
	vrrp_announce_sched_burst(s, MAX(at, now_us), n);
}

void
vrrp_announce_sched_start(struct vrrp_announce_sched *s,
    const struct vrrp_announce_plan *plan, uint64_t now_us)
{
	memset(s, 0, sizeof(*s));
	s->plan = *plan;
	s->start_us = now_us;
	s->delayed_pending = plan->delay_us > 0 && plan->repeat > 0;
	s->next_refresh_us = plan->refresh_us > 0 && plan->refresh_repeat > 0 ?
	    now_us + plan->refresh_us :
	    UINT64_MAX;
	vrrp_announce_sched_burst(s, now_us, plan->repeat);
	if (s->left == 0)
		vrrp_announce_sched_after(s, now_us);
}

void
vrrp_announce_sched_stop(struct vrrp_announce_sched *s)
{
	s->left = 0;
	s->delayed_pending = false;
	s->next_refresh_us = UINT64_MAX;
	s->next_us = UINT64_MAX;
}

uint64_t
vrrp_announce_sched_next(const struct vrrp_announce_sched *s)
{
	return s->next_us;
}

bool
vrrp_announce_sched_due(struct vrrp_announce_sched *s, uint64_t now_us)
{
	if (s->next_us == UINT64_MAX || now_us < s->next_us)
		return false;
	s->rounds++;
	if (--s->left > 0) {
		/* Spaced from now: a late round does not bunch the rest. */
		s->next_us = now_us + s->plan.interval_us;
		return true;
	}
	vrrp_announce_sched_after(s, now_us);
	return true;
}
