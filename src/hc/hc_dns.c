/*
 * hc_dns.c - the dns check type: one query over UDP, answer judged by its
 * rcode and, optionally, by the presence of an address among the answers.
 *
 * The query builder and response parser are our own and tiny (RFC 1035
 * §4.1): no EDNS, one question, recursion desired. An answer is accepted
 * only if its id, QR bit, opcode and echoed question match ours (RFC 5452
 * §4.3): anything else on the socket is someone else's datagram, dropped
 * and counted, and the probe keeps waiting until the deadline. A datagram
 * that matches but cannot be decoded is a protocol error.
 */
#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hc/hc_conf.h"
#include "hc/hc_sock.h"
#include "lib/util.h"

#define HC_DNS_PORT     53   /* RFC 1035 §4.2 */
#define HC_DNS_HDR      12   /* RFC 1035 §4.1.1 */
#define HC_DNS_NAMEMAX  255  /* RFC 1035 §2.3.4 */
#define HC_DNS_LABMAX   63   /* RFC 1035 §2.3.4 */
#define HC_DNS_RXMAX    4096 /* larger than any answer without EDNS */
#define HC_DNS_F_QR     0x8000u
#define HC_DNS_F_TC     0x0200u
#define HC_DNS_F_RD     0x0100u
#define HC_DNS_CLASS_IN 1
#define HC_DNS_T_A      1
#define HC_DNS_T_AAAA   28

struct hc_dns {
	struct hc_sock s; /* first: the engine's struct hc_probe * */
	uint16_t id;
	unsigned want_rcode;
	bool has_addr;
	int addr_family;
	unsigned char addr[16]; /* expected address, network order */
	unsigned char q[HC_DNS_HDR + HC_DNS_NAMEMAX + 1 + 4];
	size_t qlen;
};

static const char *const hc_dns_rcodes[] = {
	"NOERROR",
	"FORMERR",
	"SERVFAIL",
	"NXDOMAIN",
	"NOTIMP",
	"REFUSED",
	"YXDOMAIN",
	"YXRRSET",
	"NXRRSET",
	"NOTAUTH",
	"NOTZONE",
};

static const struct {
	const char *name; /* static */
	uint16_t type;
} hc_dns_types[] = {
	{ "A", 1 },
	{ "NS", 2 },
	{ "CNAME", 5 },
	{ "SOA", 6 },
	{ "PTR", 12 },
	{ "MX", 15 },
	{ "TXT", 16 },
	{ "AAAA", 28 },
	{ "SRV", 33 },
};

static void
hc_dns_rcode_name(unsigned rc, char *dst, size_t n)
{
	if (rc < ARRAY_SIZE(hc_dns_rcodes))
		snprintf(dst, n, "%s", hc_dns_rcodes[rc]);
	else
		snprintf(dst, n, "rcode %u", rc);
}

static int
hc_dns_rcode_parse(const char *s)
{
	if (s == NULL)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(hc_dns_rcodes); i++)
		if (strcasecmp(s, hc_dns_rcodes[i]) == 0)
			return (int)i;
	return -1;
}

static int
hc_dns_type_parse(const char *s)
{
	if (s == NULL)
		return HC_DNS_T_A;
	for (size_t i = 0; i < ARRAY_SIZE(hc_dns_types); i++)
		if (strcasecmp(s, hc_dns_types[i].name) == 0)
			return hc_dns_types[i].type;
	return -1;
}

static void
hc_dns_put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static unsigned
hc_dns_get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Header + question for name/type into q. Returns length or -EINVAL. */
static int
hc_dns_build(
    unsigned char *q, size_t cap, uint16_t id, const char *name, unsigned type)
{
	size_t o = HC_DNS_HDR, len;
	const char *dot;

	memset(q, 0, HC_DNS_HDR);
	hc_dns_put16(q, id);
	hc_dns_put16(q + 2, HC_DNS_F_RD);
	hc_dns_put16(q + 4, 1); /* QDCOUNT */
	while (*name != '\0') {
		dot = strchr(name, '.');
		len = dot ? (size_t)(dot - name) : strlen(name);
		if (len == 0 || len > HC_DNS_LABMAX ||
		    o + 1 + len + 1 + 4 > cap ||
		    o + 1 + len + 1 - HC_DNS_HDR > HC_DNS_NAMEMAX)
			return -EINVAL;
		q[o++] = (unsigned char)len;
		memcpy(q + o, name, len);
		o += len;
		name += len + (dot != NULL);
	}
	q[o++] = 0;
	hc_dns_put16(q + o, type);
	hc_dns_put16(q + o + 2, HC_DNS_CLASS_IN);
	return (int)(o + 4);
}

/* Skip a possibly compressed name at p[*o]. Returns 0 or -1 if malformed. */
static int
hc_dns_skip_name(const unsigned char *p, size_t len, size_t *o)
{
	size_t i = *o;

	while (i < len) {
		if ((p[i] & 0xc0) == 0xc0) { /* pointer ends the name */
			if (i + 2 > len)
				return -1;
			*o = i + 2;
			return 0;
		}
		if (p[i] & 0xc0)
			return -1; /* reserved label types */
		if (p[i] == 0) {
			*o = i + 1;
			return 0;
		}
		i += 1 + p[i];
	}
	return -1;
}

/* Our question echoed, names compared case-insensitively (RFC 4343). */
static bool
hc_dns_question_ok(const struct hc_dns *d, const unsigned char *p, size_t len)
{
	size_t qn = d->qlen - HC_DNS_HDR;

	if (hc_dns_get16(p + 4) != 1 || len < d->qlen)
		return false;
	for (size_t i = 0; i < qn; i++)
		if (tolower(p[HC_DNS_HDR + i]) != tolower(d->q[HC_DNS_HDR + i]))
			return false;
	return true;
}

/*
 * Look for the expected address among the answer RRs. Returns 1 found,
 * 0 absent, -1 malformed.
 */
static int
hc_dns_find_addr(
    const struct hc_dns *d, const unsigned char *p, size_t len, unsigned *nans)
{
	unsigned an = hc_dns_get16(p + 6), type, rdlen;
	size_t o = d->qlen;

	*nans = an;
	for (unsigned i = 0; i < an; i++) {
		if (hc_dns_skip_name(p, len, &o) < 0 || o + 10 > len)
			return -1;
		type = hc_dns_get16(p + o);
		rdlen = hc_dns_get16(p + o + 8);
		o += 10;
		if (o + rdlen > len)
			return -1;
		if (hc_dns_get16(p + o - 8) == HC_DNS_CLASS_IN &&
		    ((type == HC_DNS_T_A && rdlen == 4 &&
		         d->addr_family == AF_INET) ||
		        (type == HC_DNS_T_AAAA && rdlen == 16 &&
		            d->addr_family == AF_INET6)) &&
		    memcmp(p + o, d->addr, rdlen) == 0)
			return 1;
		o += rdlen;
	}
	return 0;
}

/* One datagram. Returns true when it decided the probe. */
static bool
hc_dns_answer(struct hc_dns *d, const unsigned char *p, size_t len)
{
	char got[24], want[24];
	unsigned flags, rcode, nans;
	int found;

	if (len < HC_DNS_HDR || hc_dns_get16(p) != d->id) {
		hc_sock_stats.dns_rx_bad_id++;
		return false;
	}
	flags = hc_dns_get16(p + 2);
	if (!(flags & HC_DNS_F_QR) || ((flags >> 11) & 0xf) != 0 ||
	    !hc_dns_question_ok(d, p, len)) {
		hc_sock_stats.dns_rx_malformed++;
		return false; /* not the answer to our question: keep waiting */
	}
	rcode = flags & 0xf;
	if (rcode != d->want_rcode) {
		hc_dns_rcode_name(rcode, got, sizeof(got));
		hc_dns_rcode_name(d->want_rcode, want, sizeof(want));
		hc_sock_finish(
		    &d->s, HC_R_DNS_RCODE, "rcode %s, want %s", got, want);
		return true;
	}
	if (!d->has_addr) {
		hc_sock_finish(&d->s, HC_R_OK, "rcode %s, %u answers",
		    hc_dns_rcodes[rcode], hc_dns_get16(p + 6));
		return true;
	}
	if ((found = hc_dns_find_addr(d, p, len, &nans)) < 0) {
		hc_sock_stats.dns_rx_malformed++;
		hc_sock_finish(&d->s, HC_R_PROTOCOL_ERROR, "malformed answer");
	} else if (found)
		hc_sock_finish(
		    &d->s, HC_R_OK, "address found in %u answers", nans);
	else
		hc_sock_finish(&d->s, HC_R_DNS_ANSWER,
		    "address absent from %u answers%s", nans,
		    (flags & HC_DNS_F_TC) ? " (truncated)" : "");
	return true;
}

static void
hc_dns_on_io(struct hc_sock *s, unsigned events)
{
	struct hc_dns *d = (struct hc_dns *)s;
	unsigned char p[HC_DNS_RXMAX];
	ssize_t r;

	do {
		if ((r = hc_sock_recv(s, p, sizeof(p))) < 0)
			return;
	} while (!hc_dns_answer(d, p, (size_t)r));
}

static uint16_t
hc_dns_new_id(void)
{
	static uint16_t fallback;
	uint16_t id;

	/* An unpredictable id makes spoofed answers harder (RFC 5452). */
	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) == sizeof(id))
		return id;
	return (uint16_t)(util_mono_us() ^ (uint64_t)getpid() ^ ++fallback);
}

/* Check the config and fill d; -EINVAL when it cannot make a query. */
static int
hc_dns_setup(struct hc_dns *d, const struct hc_check_conf *cc)
{
	int qtype = hc_dns_type_parse(cc->query_type);
	int rc = hc_dns_rcode_parse(cc->expect_rcode);
	int len;

	if (qtype < 0 || rc < 0 || cc->query_name == NULL)
		return -EINVAL;
	d->want_rcode = (unsigned)rc;
	d->id = hc_dns_new_id();
	len = hc_dns_build(
	    d->q, sizeof(d->q), d->id, cc->query_name, (unsigned)qtype);
	if (len < 0)
		return len;
	d->qlen = (size_t)len;
	if ((d->has_addr = cc->has_expect_address)) {
		d->addr_family = cc->expect_address.ss_family;
		if (d->addr_family == AF_INET6)
			memcpy(d->addr,
			    &((const struct sockaddr_in6 *)&cc->expect_address)
			         ->sin6_addr,
			    16);
		else
			memcpy(d->addr,
			    &((const struct sockaddr_in *)&cc->expect_address)
			         ->sin_addr,
			    4);
	}
	return 0;
}

static int
hc_dns_start(struct ev_loop *loop, const struct hc_check_conf *cc,
    const struct sockaddr_storage *addr, hc_probe_done_fn *done, void *arg,
    struct hc_probe **out)
{
	struct hc_dns *d = xcalloc(1, sizeof(*d));
	struct sockaddr_storage dst;
	int rc;

	hc_sock_target(cc, addr, &dst);
	if (hc_sock_port(&dst) == 0)
		hc_sock_set_port(&dst, HC_DNS_PORT);
	hc_sock_init(&d->s, loop, cc->timing.timeout_ms, done, arg);
	d->s.on_io = hc_dns_on_io;
	if ((rc = hc_dns_setup(d, cc)) < 0 ||
	    (rc = hc_sock_connect(&d->s, &dst, SOCK_DGRAM, 0)) < 0) {
		hc_sock_cancel(&d->s);
		return rc;
	}
	hc_sock_send_dgram(&d->s, d->q, d->qlen);
	*out = (struct hc_probe *)d;
	return 0;
}

const struct hc_check_type hc_dns_type = {
	.name = "dns",
	.start = hc_dns_start,
	.cancel = hc_sock_probe_cancel,
};
