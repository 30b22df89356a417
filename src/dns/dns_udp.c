/*
 * dns_udp.c - the UDP server of a dns worker: queries in by recvmmsg in
 * batches of DNS_UDP_BATCH, answered by the answer engine into per-slot
 * buffers, rate limited (dns_rrl.h), and sent back by one sendmmsg.
 *
 * The hot path allocates nothing: the batch buffers are allocated once per
 * process (struct dns_udp_batch) and shared by every UDP socket, which is
 * safe because the process is single-threaded and a batch is finished
 * before the next is read. One wakeup reads at most DNS_UDP_WAKE_MAX
 * batches, so a flood on one socket cannot starve TCP connections or the
 * parent's messages: epoll is level-triggered and calls back again.
 *
 * On a socket bound to a wildcard address, IP_PKTINFO / IPV6_RECVPKTINFO
 * give each query's destination address, and the answer leaves from it:
 * a client that asked 198.18.0.1 must not get its answer from another
 * address of the host.
 *
 * A datagram larger than the receive buffer (MSG_TRUNC) is counted and
 * dropped: a query that long is not one an authoritative server answers.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/dns_sec.h" /* dns-sec */
#include "dns/dns_srv.h"
#include "dns/dns_xfr.h" /* dns-xfr */
#include "lib/util.h"

#define DNS_UDP_RX   4096
#define DNS_UDP_CMSG 64 /* room for in6_pktinfo */

struct dns_udp_batch {
	struct mmsghdr in[DNS_UDP_BATCH];
	struct iovec iov_in[DNS_UDP_BATCH];
	struct sockaddr_storage from[DNS_UDP_BATCH];
	uint8_t rx[DNS_UDP_BATCH][DNS_UDP_RX];
	union {
		struct cmsghdr align;
		uint8_t b[DNS_UDP_CMSG];
	} cin[DNS_UDP_BATCH], cout[DNS_UDP_BATCH];
	struct mmsghdr out[DNS_UDP_BATCH];
	struct iovec iov_out[DNS_UDP_BATCH];
	uint8_t tx[DNS_UDP_BATCH][DNS_UDP_OUT];
	/* The receive headers are set up in full once per kind of socket
	 * (with or without pktinfo): recvmmsg rewrites only the name and
	 * control lengths of the entries it filled, the first `used`. */
	int hdr_pktinfo; /* -1: not set up yet; else 0 or 1 */
	unsigned used;
};

void
dns_udp_init(struct dns_srv *s)
{
	if (s->udp == NULL) {
		s->udp = xcalloc(1, sizeof(*s->udp));
		s->udp->hdr_pktinfo = -1;
	}
}

void
dns_udp_fini(struct dns_srv *s)
{
	free(s->udp);
	s->udp = NULL;
}

/* Copy the query's destination into the reply's control data. Returns
 * the control length, 0 when none came. */
static size_t
dns_udp_pktinfo(struct msghdr *in, uint8_t *out, size_t size)
{
	struct cmsghdr *c, *o;

	for (c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			if (CMSG_SPACE(sizeof(pi)) > size)
				return 0;
			memset(out, 0, CMSG_SPACE(sizeof(pi)));
			o = (struct cmsghdr *)(void *)out;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (CMSG_SPACE(sizeof(pi)) > size)
				return 0;
			memset(out, 0, CMSG_SPACE(sizeof(pi)));
			o = (struct cmsghdr *)(void *)out;
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
	}
	return 0;
}

size_t
dns_udp_respond(struct dns_srv *s, enum dns_srv_transport t,
    const struct dns_client *cl, const uint8_t *q, size_t qlen, uint8_t *out,
    size_t size, uint64_t now_ms)
{
	struct dns_answer_info info;
	size_t n;

	if (dns_sec_is_notify(q, qlen) &&
	    (n = dns_sec_notify_in(s, q, qlen, cl, out, size)) > 0)
		return n; /* dns-sec: NOTIFY in; not rate limited */
	n = dns_answer(
	    s->zones->db, s->dyn, &s->opts, cl, q, qlen, out, size, &info);
	n = dns_xfr_tsig_answer(
	    s, q, qlen, out, size, n); /* dns-xfr: TSIG-signed queries */
	dns_srv_count(s, t, &info);
	if (n == 0)
		return 0;
	/* A valid server cookie proves the source address is not forged
	 * (RFC 7873 §5.2.3): reflection limits are not for this client. */
	if (info.cookie == DNS_COOKIE_VALID && s->rrl != NULL) {
		s->st.rrl_cookie_pass++;
		goto pass;
	}
	switch (dns_rrl_check(s->rrl, cl, info.kind, info.rrl_name, now_ms)) {
	case DNS_RRL_PASS:
		break;
	case DNS_RRL_DROP:
		s->st.rrl_drop++;
		return 0;
	case DNS_RRL_SLIP:
		s->st.rrl_slip++;
		if ((n = dns_rrl_slip_msg(out, n)) == 0)
			return 0;
		info.truncated = true;
		break;
	}
pass:
	if (info.truncated)
		s->st.truncated++;
	return n;
}

/* Answer datagram i into out slot j; false when nothing is to be sent. */
static bool
dns_udp_answer(struct dns_srv *s, struct dns_sock *k, unsigned i, unsigned j,
    uint64_t now_ms)
{
	struct dns_udp_batch *b = s->udp;
	struct msghdr *h = &b->in[i].msg_hdr;
	struct dns_client cl;
	size_t n;

	if (h->msg_flags & MSG_TRUNC) {
		s->st.udp_oversize++;
		return false;
	}
	dns_srv_client(&b->from[i], &cl);
	if ((n = dns_udp_respond(s, DNS_SRV_UDP, &cl, b->rx[i],
	         b->in[i].msg_len, b->tx[j], DNS_UDP_OUT, now_ms)) == 0)
		return false;
	b->iov_out[j].iov_base = b->tx[j];
	b->iov_out[j].iov_len = n;
	memset(&b->out[j], 0, sizeof(b->out[j]));
	b->out[j].msg_hdr.msg_name = &b->from[i];
	b->out[j].msg_hdr.msg_namelen = h->msg_namelen;
	b->out[j].msg_hdr.msg_iov = &b->iov_out[j];
	b->out[j].msg_hdr.msg_iovlen = 1;
	if (k->pktinfo) {
		size_t cl_len = dns_udp_pktinfo(h, b->cout[j].b, DNS_UDP_CMSG);

		if (cl_len > 0) {
			b->out[j].msg_hdr.msg_control = b->cout[j].b;
			b->out[j].msg_hdr.msg_controllen = cl_len;
		}
	}
	return true;
}

static void
dns_udp_send(struct dns_srv *s, int fd, unsigned n)
{
	unsigned done = 0;
	int r;

	while (done < n) {
		r = sendmmsg(fd, s->udp->out + done, n - done, MSG_DONTWAIT);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* A full send buffer or an unreachable client:
			 * skip that one answer, keep the rest. */
			s->st.udp_tx_errors++;
			done++;
			continue;
		}
		done += (unsigned)r;
	}
}

/* Make the receive headers ready for a recvmmsg on k. */
static void
dns_udp_rx_reset(struct dns_udp_batch *b, const struct dns_sock *k)
{
	unsigned i, n = DNS_UDP_BATCH;

	if (b->hdr_pktinfo == (int)k->pktinfo)
		n = b->used;
	for (i = 0; i < n; i++) {
		struct msghdr *h = &b->in[i].msg_hdr;

		b->iov_in[i].iov_base = b->rx[i];
		b->iov_in[i].iov_len = DNS_UDP_RX;
		memset(h, 0, sizeof(*h));
		h->msg_name = &b->from[i];
		h->msg_namelen = sizeof(b->from[i]);
		h->msg_iov = &b->iov_in[i];
		h->msg_iovlen = 1;
		if (k->pktinfo) {
			h->msg_control = b->cin[i].b;
			h->msg_controllen = DNS_UDP_CMSG;
		}
	}
	b->hdr_pktinfo = k->pktinfo;
	b->used = 0;
}

/* One batch; returns how many datagrams were read (0: drained). */
static int
dns_udp_batch_run(struct dns_srv *s, struct dns_sock *k, uint64_t now_ms)
{
	struct dns_udp_batch *b = s->udp;
	unsigned j = 0;
	int r;

	dns_udp_rx_reset(b, k);
	r = recvmmsg(k->fd, b->in, DNS_UDP_BATCH, MSG_DONTWAIT, NULL);
	if (r == -1) {
		b->used = 1; /* a failure stops at the first entry */
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			s->st.udp_rx_errors++;
		return 0;
	}
	b->used = (unsigned)r;
	for (unsigned i = 0; i < (unsigned)r; i++)
		if (dns_udp_answer(s, k, i, j, now_ms))
			j++;
	if (j > 0)
		dns_udp_send(s, k->fd, j);
	return r;
}

void
dns_udp_read_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct dns_sock *k = arg;
	struct dns_srv *s = k->srv;
	uint64_t now = ev_now_ms(s->loop);

	if (s->zones == NULL || s->udp == NULL)
		return;
	s->opts.now = (uint32_t)time(NULL); /* cookies, RRSIG times */
	s->opts.sign = s->zones->sign;      /* of the zones answered from */
	for (unsigned w = 0; w < DNS_UDP_WAKE_MAX; w++)
		if (dns_udp_batch_run(s, k, now) < DNS_UDP_BATCH)
			break;
}
