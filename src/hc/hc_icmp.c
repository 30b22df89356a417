/*
 * hc_icmp.c - the icmp check type: one echo request, passed by the matching
 * echo reply, over IPv4 or IPv6.
 *
 * It prefers the unprivileged ping socket (SOCK_DGRAM + IPPROTO_ICMP[V6]),
 * allowed when our group is inside net.ipv4.ping_group_range; the kernel
 * then owns the identifier and the checksum and hands us only our replies.
 * Otherwise it falls back to a raw socket (root or CAP_NET_RAW), where we
 * build the checksum (IPv4; the kernel does it for ICMPv6, RFC 3542 §3.1)
 * and must sort our reply out of every ICMP packet the host receives: id,
 * sequence and a random 16-byte payload token must all match. Both sockets
 * are connected, so an ICMP error about the target (host unreachable) is
 * reported on the socket and ends the probe as unreachable.
 */
#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hc/hc_conf.h"
#include "hc/hc_sock.h"
#include "lib/util.h"

#define HC_ICMP_TOKEN 16                  /* payload bytes: our random token */
#define HC_ICMP_PKT   (8 + HC_ICMP_TOKEN) /* echo header + token */
#define HC_ICMP_RXMAX 1500 /* a reply echoes our 24 bytes; errors are small */

struct hc_icmp {
	struct hc_sock s; /* first: the engine's struct hc_probe * */
	bool raw;         /* raw socket: we filter and checksum */
	bool v6;
	uint16_t id; /* ours on raw sockets; the kernel's on ping sockets */
	uint16_t seq;
	unsigned char token[HC_ICMP_TOKEN];
};

static int hc_icmp_mode = HC_ICMP_AUTO;

void
hc_icmp_force(int mode)
{
	hc_icmp_mode = mode;
}

/* RFC 1071 Internet checksum. */
static uint16_t
hc_icmp_cksum(const unsigned char *p, size_t n)
{
	uint32_t sum = 0;

	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n == 1)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int
hc_icmp_open(struct hc_icmp *ic, const struct sockaddr_storage *dst)
{
	int proto = ic->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, rc;

	if (hc_icmp_mode != HC_ICMP_RAW) {
		rc = hc_sock_connect(&ic->s, dst, SOCK_DGRAM, proto);
		if (rc == 0 || hc_icmp_mode == HC_ICMP_DGRAM ||
		    (rc != -EACCES && rc != -EPERM && rc != -EPROTONOSUPPORT))
			return rc;
		/* An expected refusal, not a fault: undo its count. */
		hc_sock_stats.sock_errors--;
	}
	ic->raw = true;
	if ((rc = hc_sock_connect(&ic->s, dst, SOCK_RAW, proto)) < 0)
		return rc;
	if (ic->v6) {
		struct icmp6_filter f;

		/* Errors still reach us through the socket error. */
		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		setsockopt(
		    ic->s.fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}
	return 0;
}

/* The echo request: RFC 792 (type 8) and RFC 4443 §4.1 (type 128). */
static void
hc_icmp_build(const struct hc_icmp *ic, unsigned char pkt[HC_ICMP_PKT])
{
	uint16_t ck;

	memset(pkt, 0, HC_ICMP_PKT);
	pkt[0] = ic->v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
	pkt[4] = (unsigned char)(ic->id >> 8);
	pkt[5] = (unsigned char)ic->id;
	pkt[6] = (unsigned char)(ic->seq >> 8);
	pkt[7] = (unsigned char)ic->seq;
	memcpy(pkt + 8, ic->token, HC_ICMP_TOKEN);
	if (ic->raw && !ic->v6) {
		ck = hc_icmp_cksum(pkt, HC_ICMP_PKT);
		pkt[2] = (unsigned char)(ck >> 8);
		pkt[3] = (unsigned char)ck;
	}
}

/* Is p[0..n) (an ICMP message) the reply to our request? */
static bool
hc_icmp_match(const struct hc_icmp *ic, const unsigned char *p, size_t n)
{
	if (n < HC_ICMP_PKT)
		return false;
	if (p[0] != (ic->v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) || p[1] != 0)
		return false;
	/* A ping socket rewrites the id to its own; it filters for us. */
	if (ic->raw && ((unsigned)p[4] << 8 | p[5]) != ic->id)
		return false;
	if (((unsigned)p[6] << 8 | p[7]) != ic->seq)
		return false;
	return memcmp(p + 8, ic->token, HC_ICMP_TOKEN) == 0;
}

static void
hc_icmp_on_io(struct hc_sock *s, unsigned events)
{
	struct hc_icmp *ic = (struct hc_icmp *)s;
	unsigned char p[HC_ICMP_RXMAX];
	size_t off;
	ssize_t r;

	for (;;) {
		if ((r = hc_sock_recv(s, p, sizeof(p))) < 0)
			return;
		off = 0;
		/* Raw IPv4 sockets deliver the IP header too. */
		if (ic->raw && !ic->v6 && r >= (ssize_t)sizeof(struct ip))
			off =
			    (size_t)(((const struct ip *)(void *)p)->ip_hl) * 4;
		if (off <= (size_t)r &&
		    hc_icmp_match(ic, p + off, (size_t)r - off)) {
			hc_sock_finish(s, HC_R_OK, "echo reply (%s socket)",
			    ic->raw ? "raw" : "ping");
			return;
		}
		hc_sock_stats.icmp_rx_foreign++;
	}
}

static int
hc_icmp_start(struct ev_loop *loop, const struct hc_check_conf *cc,
    const struct sockaddr_storage *addr, hc_probe_done_fn *done, void *arg,
    struct hc_probe **out)
{
	static uint16_t seq;
	struct hc_icmp *ic = xcalloc(1, sizeof(*ic));
	unsigned char pkt[HC_ICMP_PKT];
	struct sockaddr_storage dst = *addr;
	int rc;

	/* ICMP has no port; a raw IPv6 connect insists on 0. */
	hc_sock_set_port(&dst, 0);
	hc_sock_init(&ic->s, loop, cc->timing.timeout_ms, done, arg);
	ic->s.on_io = hc_icmp_on_io;
	ic->s.stage = "echo";
	ic->v6 = dst.ss_family == AF_INET6;
	ic->seq = ++seq;
	if (getrandom(ic->token, sizeof(ic->token), GRND_NONBLOCK) !=
	    sizeof(ic->token)) {
		uint64_t t = util_mono_us();

		memcpy(ic->token, &t, sizeof(t));
	}
	ic->id = (uint16_t)(getpid() ^ (ic->token[0] << 8 | ic->token[1]));
	if ((rc = hc_icmp_open(ic, &dst)) < 0) {
		hc_sock_cancel(&ic->s);
		return rc;
	}
	hc_icmp_build(ic, pkt);
	hc_sock_send_dgram(&ic->s, pkt, sizeof(pkt));
	*out = (struct hc_probe *)ic;
	return 0;
}

const struct hc_check_type hc_icmp_type = {
	.name = "icmp",
	.start = hc_icmp_start,
	.cancel = hc_sock_probe_cancel,
};
