/*
 * Unit tests for dns_xfr_out.c: the access decision (address list, TSIG
 * key), AXFR streams of a real dns_db (SOA first and last, messages near
 * the target size, every record once, a signed stream that verifies
 * message by message on the client side of dns_tsig), and IXFR's two
 * answers. Requests are built here, signed with dns_tsig's client side,
 * whose bytes test_dns_tsig checks against dnspython.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_db.h"
#include "dns/dns_diff.h"
#include "dns/dns_journal.h"
#include "dns/dns_tsig.h"
#include "dns/dns_wire.h"
#include "dns/dns_xfr_in.h"
#include "dns/dns_xfr_out.h"
#include "lib/util.h"
#include "runner.h"

#define T_NOW  1767225600ULL
#define NHOSTS 3000

static uint8_t apex[DNS_NAME_MAX];

static void
name(uint8_t out[DNS_NAME_MAX], const char *text)
{
	T_ASSERT(dns_name_from_text(out, text, strlen(text), NULL) > 0);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* SOA RDATA for example.com with serial. */
static size_t
soa_rdata(uint8_t *rd, uint32_t serial)
{
	uint8_t n[DNS_NAME_MAX];
	size_t len = 0, k;
	uint32_t v[5] = { serial, 3600, 600, 86400, 60 };
	int i;

	name(n, "ns1.example.com.");
	k = dns_name_len(n);
	memcpy(rd, n, k);
	len += k;
	name(n, "hostmaster.example.com.");
	k = dns_name_len(n);
	memcpy(rd + len, n, k);
	len += k;
	for (i = 0; i < 5; i++) {
		put16(rd + len, (uint16_t)(v[i] >> 16));
		put16(rd + len + 2, (uint16_t)v[i]);
		len += 4;
	}
	return len;
}

static struct dns_db *
make_db(uint32_t serial, unsigned nhosts)
{
	struct dns_db *db = dns_db_new();
	uint8_t rd[512], owner[DNS_NAME_MAX];
	char text[64];
	size_t n;
	unsigned i;
	int z;

	name(apex, "example.com.");
	z = dns_db_zone_begin(db, apex);
	T_EQ_INT(z, 0);
	n = soa_rdata(rd, serial);
	T_EQ_INT(
	    dns_db_add_rr(db, 0, apex, DNS_TYPE_SOA, 3600, rd, (uint16_t)n), 0);
	name(rd, "ns1.example.com.");
	T_EQ_INT(dns_db_add_rr(db, 0, apex, DNS_TYPE_NS, 3600, rd,
	             (uint16_t)dns_name_len(rd)),
	    0);
	name(owner, "ns1.example.com.");
	memcpy(rd, "\xc6\x12\x00\x35", 4);
	T_EQ_INT(dns_db_add_rr(db, 0, owner, DNS_TYPE_A, 3600, rd, 4), 0);
	for (i = 0; i < nhosts; i++) {
		snprintf(text, sizeof(text), "h%u.example.com.", i);
		name(owner, text);
		rd[0] = 198;
		rd[1] = 18;
		rd[2] = (uint8_t)(i >> 8);
		rd[3] = (uint8_t)i;
		T_EQ_INT(
		    dns_db_add_rr(db, 0, owner, DNS_TYPE_A, 300, rd, 4), 0);
	}
	T_EQ_INT(dns_db_finish(db, NULL, NULL), 0);
	return db;
}

struct req {
	uint8_t b[1024];
	size_t len;
};

/* An AXFR or IXFR (with serial in the authority SOA) query. */
static void
make_req(struct req *r, uint16_t qtype, uint32_t serial)
{
	uint8_t rd[512];
	size_t n, k = dns_name_len(apex);

	memset(r, 0, sizeof(*r));
	put16(r->b, 0x4242);
	put16(r->b + 4, 1);
	memcpy(r->b + 12, apex, k);
	put16(r->b + 12 + k, qtype);
	put16(r->b + 14 + k, DNS_CLASS_IN);
	r->len = 16 + k;
	if (qtype == DNS_TYPE_IXFR) {
		put16(r->b + 8, 1);
		r->b[r->len] = 0xc0; /* pointer to the qname */
		r->b[r->len + 1] = 12;
		put16(r->b + r->len + 2, DNS_TYPE_SOA);
		put16(r->b + r->len + 4, DNS_CLASS_IN);
		put16(r->b + r->len + 8, 0);
		put16(r->b + r->len + 10, 3600);
		n = soa_rdata(rd, serial);
		put16(r->b + r->len + 10, (uint16_t)n);
		memcpy(r->b + r->len + 12, rd, n);
		r->len += 12 + n;
	}
}

static void
addr4(struct sockaddr_in *sin, const char *a)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	T_EQ_INT(inet_pton(AF_INET, a, &sin->sin_addr), 1);
}

struct stream {
	unsigned msgs;
	unsigned answers;
	uint16_t first_type, last_type;
	int rcode;
	size_t max_len;
	bool has_tsig;
	char seq[512]; /* "SOA101 A3 ...": each answer, SOA by serial, A by
	                  its last octet (h<N> has .N), others by type */
};

static void
seq_add(struct stream *s, const uint8_t *rr, const uint8_t *rdata)
{
	size_t n = strlen(s->seq);
	uint16_t type = get16(rr), rdlen = get16(rr + 8);
	const uint8_t *t = rdata + rdlen - 20;

	if (n + 24 >= sizeof(s->seq))
		return;
	if (type == DNS_TYPE_SOA)
		snprintf(s->seq + n, sizeof(s->seq) - n, "%sSOA%u",
		    n ? " " : "", (unsigned)get16(t) << 16 | get16(t + 2));
	else if (type == DNS_TYPE_A && rdlen == 4)
		snprintf(s->seq + n, sizeof(s->seq) - n, "%sA%u", n ? " " : "",
		    rdata[3]);
	else
		snprintf(s->seq + n, sizeof(s->seq) - n, "%sT%u", n ? " " : "",
		    type);
}

/* Run x to its end; collect what the messages hold. cl verifies each
 * message when not NULL. */
static void
drain(struct dns_xfr_out *x, struct stream *s, struct dns_tsig_ctx *cl)
{
	static uint8_t buf[DNS_MSG_MAX];
	uint8_t owner[DNS_NAME_MAX];
	struct dns_tsig_rr rr;
	size_t off, end, tsig_off;
	unsigned i, an;
	int n;

	memset(s, 0, sizeof(*s));
	while ((n = dns_xfr_out_next(x, buf, sizeof(buf), T_NOW)) > 0) {
		T_ASSERT(s->msgs < 1000);
		if ((size_t)n > s->max_len)
			s->max_len = (size_t)n;
		T_ASSERT(get16(buf + 2) & DNS_FLAG_QR);
		s->rcode = buf[3] & 0xf;
		end = (size_t)n;
		if (dns_tsig_find(buf, (size_t)n, &rr) == 0) {
			s->has_tsig = true;
			end = rr.off;
			if (cl != NULL)
				T_EQ_INT(dns_tsig_verify_answer(cl, buf,
				             (size_t)n, T_NOW, &tsig_off),
				    DNS_TSIG_NOERROR);
		}
		off = DNS_HDR_LEN;
		for (i = 0; i < get16(buf + 4); i++) {
			T_EQ_INT(dns_wire_name_read(buf, end, &off, owner),
			    DNS_WIRE_OK);
			off += 4;
		}
		an = get16(buf + 6);
		for (i = 0; i < an; i++) {
			T_EQ_INT(dns_wire_name_read(buf, end, &off, owner),
			    DNS_WIRE_OK);
			if (s->answers == 0)
				s->first_type = get16(buf + off);
			s->last_type = get16(buf + off);
			seq_add(s, buf + off, buf + off + 10);
			off += 10 + get16(buf + off + 8);
			s->answers++;
		}
		T_EQ_INT(off, end);
		s->msgs++;
	}
	T_EQ_INT(n, 0);
}

static void
test_prefix(void)
{
	struct dns_xfr_prefix p;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	T_EQ_INT(dns_xfr_prefix_parse(&p, "198.18.0.0/15"), 0);
	addr4(&sin, "198.19.255.1");
	T_ASSERT(dns_xfr_prefix_match(&p, (struct sockaddr *)&sin));
	addr4(&sin, "198.20.0.1");
	T_ASSERT(!dns_xfr_prefix_match(&p, (struct sockaddr *)&sin));
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	T_EQ_INT(inet_pton(AF_INET6, "::ffff:198.18.3.4", &sin6.sin6_addr), 1);
	T_ASSERT(dns_xfr_prefix_match(&p, (struct sockaddr *)&sin6));
	T_EQ_INT(dns_xfr_prefix_parse(&p, "::1"), 0);
	T_EQ_INT(p.len, 128);
	T_ASSERT(!dns_xfr_prefix_match(&p, (struct sockaddr *)&sin6));
	T_EQ_INT(dns_xfr_prefix_parse(&p, "198.18.0.1/15"), -EINVAL);
	T_EQ_INT(dns_xfr_prefix_parse(&p, "198.18.0.0/33"), -EINVAL);
	T_EQ_INT(dns_xfr_prefix_parse(&p, "198.18.0.0/"), -EINVAL);
	T_EQ_INT(dns_xfr_prefix_parse(&p, "example"), -EINVAL);
	T_EQ_INT(dns_xfr_prefix_parse(&p, "0.0.0.0/0"), 0);
	T_ASSERT(dns_xfr_prefix_match(&p, (struct sockaddr *)&sin));
}

static void
test_axfr_stream(void)
{
	struct dns_db *db = make_db(7, NHOSTS);
	struct dns_xfr_prefix p;
	struct dns_xfr_zone z = { apex, &p, 1, NULL };
	struct dns_xfr_env env = { db, &z, 1, NULL, 0 };
	struct sockaddr_in sin;
	enum dns_xfr_result res;
	struct dns_xfr_out *x;
	struct stream s;
	struct req r;
	unsigned long recs;
	unsigned msgs;

	T_EQ_INT(dns_xfr_prefix_parse(&p, "127.0.0.0/8"), 0);
	addr4(&sin, "127.0.0.1");
	make_req(&r, DNS_TYPE_AXFR, 0);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&sin, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_AXFR);
	drain(x, &s, NULL);
	/* SOA, NS, ns1 A, the hosts, SOA again. */
	T_EQ_INT(s.answers, NHOSTS + 4);
	T_EQ_INT(s.first_type, DNS_TYPE_SOA);
	T_EQ_INT(s.last_type, DNS_TYPE_SOA);
	T_EQ_INT(s.rcode, 0);
	T_ASSERT(s.msgs > 1);
	T_ASSERT(s.max_len <= DNS_XFR_MSG_TARGET);
	dns_xfr_out_counts(x, &msgs, &recs);
	T_EQ_INT(msgs, s.msgs);
	T_EQ_INT(recs, NHOSTS + 4);
	dns_xfr_out_free(x);
	/* The snapshot outlives the db: free it between start and next. */
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&sin, T_NOW, &res);
	dns_db_free(db);
	drain(x, &s, NULL);
	T_EQ_INT(s.answers, NHOSTS + 4);
	dns_xfr_out_free(x);
}

static void
test_refusals(void)
{
	struct dns_db *db = make_db(7, 3);
	struct dns_xfr_prefix p;
	struct dns_xfr_zone z = { apex, &p, 1, NULL };
	struct dns_xfr_env env = { db, &z, 1, NULL, 0 };
	struct sockaddr_in in, out;
	enum dns_xfr_result res;
	struct dns_xfr_out *x;
	struct stream s;
	struct req r;

	T_EQ_INT(dns_xfr_prefix_parse(&p, "198.18.0.0/15"), 0);
	addr4(&in, "198.18.0.9");
	addr4(&out, "127.0.0.1");
	make_req(&r, DNS_TYPE_AXFR, 0);
	/* Outside the list. */
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&out, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_REFUSED);
	drain(x, &s, NULL);
	T_EQ_INT(s.msgs, 1);
	T_EQ_INT(s.answers, 0);
	T_EQ_INT(s.rcode, DNS_RCODE_REFUSED);
	dns_xfr_out_free(x);
	/* TLS required: refused in clear, served over TLS (XoT). */
	z.tls_only = true;
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_REFUSED);
	dns_xfr_out_free(x);
	env.tls = true;
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_AXFR);
	dns_xfr_out_free(x);
	z.tls_only = env.tls = false;
	/* Neither list nor key: nobody. */
	z.nallow = 0;
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_REFUSED);
	dns_xfr_out_free(x);
	z.nallow = 1;
	/* A zone we do not serve. */
	name(r.b + 12, "example.org.");
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_NOTAUTH);
	drain(x, &s, NULL);
	T_EQ_INT(s.rcode, DNS_RCODE_NOTAUTH);
	dns_xfr_out_free(x);
	/* Not a transfer: qtype A. */
	make_req(&r, DNS_TYPE_A, 0);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_FORMERR);
	dns_xfr_out_free(x);
	/* A response: nothing is sent. */
	make_req(&r, DNS_TYPE_AXFR, 0);
	r.b[2] |= 0x80;
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	drain(x, &s, NULL);
	T_EQ_INT(s.msgs, 0);
	dns_xfr_out_free(x);
	dns_db_free(db);
}

static void
test_tsig(void)
{
	struct dns_db *db = make_db(7, 1500);
	struct dns_tsig_key keys[2];
	struct dns_xfr_zone z = { apex, NULL, 0, &keys[0] };
	struct dns_xfr_env env = { db, &z, 1, keys, 2 };
	struct sockaddr_in in;
	enum dns_xfr_result res;
	struct dns_tsig_ctx cl;
	struct dns_tsig_rr rr;
	struct dns_xfr_out *x;
	static uint8_t buf[DNS_MSG_MAX];
	struct stream s;
	struct req r;
	uint8_t secret[32];
	int n;

	memset(secret, 7, sizeof(secret));
	T_EQ_INT(dns_tsig_key_init(
	             &keys[0], "xfr", "hmac-sha256", secret, sizeof(secret)),
	    0);
	T_EQ_INT(dns_tsig_key_init(
	             &keys[1], "other", "hmac-sha256", secret, sizeof(secret)),
	    0);
	addr4(&in, "198.18.0.9");
	/* Unsigned, a key required: refused. */
	make_req(&r, DNS_TYPE_AXFR, 0);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_REFUSED);
	dns_xfr_out_free(x);
	/* Signed with the zone's key: a signed stream, each message
	 * verifying in order. */
	dns_tsig_ctx_client(&cl, &keys[0]);
	T_EQ_INT(dns_tsig_sign(&cl, r.b, &r.len, sizeof(r.b), T_NOW), 0);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_AXFR);
	drain(x, &s, &cl);
	T_ASSERT(s.has_tsig);
	T_ASSERT(s.msgs > 1);
	T_EQ_INT(s.answers, 1500 + 4);
	dns_xfr_out_free(x);
	/* Signed with another known key: refused, but signed. */
	make_req(&r, DNS_TYPE_AXFR, 0);
	dns_tsig_ctx_client(&cl, &keys[1]);
	T_EQ_INT(dns_tsig_sign(&cl, r.b, &r.len, sizeof(r.b), T_NOW), 0);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_REFUSED);
	drain(x, &s, &cl);
	T_ASSERT(s.has_tsig);
	dns_xfr_out_free(x);
	/* A key we do not know: NOTAUTH, TSIG error BADKEY, no MAC. */
	env.nkeys = 1;
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_BADTSIG);
	n = dns_xfr_out_next(x, buf, sizeof(buf), T_NOW);
	T_ASSERT(n > 0);
	T_EQ_INT(buf[3] & 0xf, DNS_RCODE_NOTAUTH);
	T_EQ_INT(dns_tsig_find(buf, (size_t)n, &rr), 0);
	T_EQ_INT(rr.error, DNS_TSIG_BADKEY);
	T_EQ_INT(rr.mac_len, 0);
	T_EQ_INT(dns_xfr_out_next(x, buf, sizeof(buf), T_NOW), 0);
	dns_xfr_out_free(x);
	env.nkeys = 2;
	/* The right key, a stale clock: BADTIME. */
	make_req(&r, DNS_TYPE_AXFR, 0);
	dns_tsig_ctx_client(&cl, &keys[0]);
	T_EQ_INT(dns_tsig_sign(&cl, r.b, &r.len, sizeof(r.b), T_NOW - 1000), 0);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_BADTSIG);
	n = dns_xfr_out_next(x, buf, sizeof(buf), T_NOW);
	T_EQ_INT(dns_tsig_find(buf, (size_t)n, &rr), 0);
	T_EQ_INT(rr.error, DNS_TSIG_BADTIME);
	dns_xfr_out_free(x);
	dns_db_free(db);
}

static void
test_ixfr(void)
{
	struct dns_db *db = make_db(100, 50);
	struct dns_xfr_prefix p;
	struct dns_xfr_zone z = { apex, &p, 1, NULL };
	struct dns_xfr_env env = { db, &z, 1, NULL, 0 };
	struct sockaddr_in in;
	enum dns_xfr_result res;
	struct dns_xfr_out *x;
	struct stream s;
	struct req r;

	T_EQ_INT(dns_xfr_prefix_parse(&p, "0.0.0.0/0"), 0);
	addr4(&in, "198.18.0.9");
	/* Same serial: our SOA alone. */
	make_req(&r, DNS_TYPE_IXFR, 100);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_IXFR_UPTODATE);
	drain(x, &s, NULL);
	T_EQ_INT(s.msgs, 1);
	T_EQ_INT(s.answers, 1);
	T_EQ_INT(s.first_type, DNS_TYPE_SOA);
	dns_xfr_out_free(x);
	/* Older (serial arithmetic across the wrap too): the whole zone. */
	make_req(&r, DNS_TYPE_IXFR, 99);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_IXFR_FULL);
	drain(x, &s, NULL);
	T_EQ_INT(s.answers, 50 + 4);
	dns_xfr_out_free(x);
	make_req(&r, DNS_TYPE_IXFR, 0xfffffff0u);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_IXFR_FULL);
	dns_xfr_out_free(x);
	/* Newer than ours: up to date as far as we can tell. */
	make_req(&r, DNS_TYPE_IXFR, 101);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_IXFR_UPTODATE);
	dns_xfr_out_free(x);
	/* No SOA in the authority section. */
	make_req(&r, DNS_TYPE_IXFR, 99);
	r.b[9] = 0;
	r.len = 12 + dns_name_len(apex) + 4;
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_FORMERR);
	dns_xfr_out_free(x);
	dns_db_free(db);
}

struct copy_arg {
	struct dns_db *db;
	bool drop_h1;
};

/* Add set to the copy, but for h1.example.com when dropping it. */
static int
copy_set(const struct dns_rrset *set, void *arg)
{
	struct copy_arg *cp = arg;
	uint8_t h1[DNS_NAME_MAX];

	name(h1, "h1.example.com.");
	if (cp->drop_h1 && dns_name_equal(set->owner, h1))
		return 0;
	for (unsigned i = 0; i < set->count; i++)
		T_EQ_INT(dns_db_add_rr(cp->db, 0, set->owner, set->type,
		             set->ttl, set->rdata[i].data, set->rdata[i].len),
		    0);
	return 0;
}

/* A zone at serial with hosts h0..h<nhosts - 1>, h1 dropped when
 * drop_h1: versions to take steps between. */
static struct dns_db *
make_version(uint32_t serial, unsigned nhosts, bool drop_h1)
{
	struct dns_db *db = make_db(serial, nhosts), *out;
	struct copy_arg cp = { NULL, drop_h1 };

	if (!drop_h1)
		return db;
	/* Rebuild without h1: the db is read-only once finished. */
	out = dns_db_new();
	T_EQ_INT(dns_db_zone_begin(out, apex), 0);
	cp.db = out;
	T_EQ_INT(dns_db_zone_walk(db, 0, copy_set, &cp), 0);
	T_EQ_INT(dns_db_finish(out, NULL, NULL), 0);
	dns_db_free(db);
	return out;
}

static void
test_ixfr_incremental(void)
{
	struct dns_db *v100 = make_version(100, 3, false);
	struct dns_db *v101 = make_version(101, 5, false);
	struct dns_db *v102 = make_version(102, 5, true);
	struct dns_journal *j;
	struct dns_xfr_prefix p;
	struct dns_xfr_zone z = { apex, &p, 1, NULL, NULL };
	struct dns_xfr_env env = { v102, &z, 1, NULL, 0 };
	struct sockaddr_in in;
	enum dns_xfr_result res;
	struct dns_xfr_out *x;
	struct dns_diff d;
	struct stream s;
	struct req r;

	j = dns_journal_new(apex, 10, 1 << 20);
	T_EQ_INT(dns_diff_zones(v100, 0, v101, 0, &d), 0);
	T_EQ_INT(dns_journal_append(j, &d), 0);
	T_EQ_INT(dns_diff_zones(v101, 0, v102, 0, &d), 0);
	T_EQ_INT(dns_journal_append(j, &d), 0);
	z.journal = j;
	T_EQ_INT(dns_xfr_prefix_parse(&p, "0.0.0.0/0"), 0);
	addr4(&in, "198.18.0.9");
	/* Two steps: h3 and h4 added, then h1 deleted (RFC 1995 §4). */
	make_req(&r, DNS_TYPE_IXFR, 100);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_IXFR_INCREMENTAL);
	drain(x, &s, NULL);
	T_EQ_STR(s.seq, "SOA102 SOA100 SOA101 A3 A4 SOA101 A1 SOA102 SOA102");
	T_EQ_INT(s.rcode, 0);
	dns_xfr_out_free(x);
	/* The last step alone. */
	make_req(&r, DNS_TYPE_IXFR, 101);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_IXFR_INCREMENTAL);
	drain(x, &s, NULL);
	T_EQ_STR(s.seq, "SOA102 SOA101 A1 SOA102 SOA102");
	dns_xfr_out_free(x);
	/* A serial the journal does not know: the whole zone. */
	make_req(&r, DNS_TYPE_IXFR, 99);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_IXFR_FULL);
	drain(x, &s, NULL);
	T_EQ_INT(s.answers, 3 + 4 + 1); /* SOA NS ns1, h0 h2 h3 h4, SOA */
	dns_xfr_out_free(x);
	/* Up to date: our SOA alone, journal or not. */
	make_req(&r, DNS_TYPE_IXFR, 102);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_IXFR_UPTODATE);
	dns_xfr_out_free(x);
	/* A journal that does not end at what we serve is not used. */
	env.db = v101;
	make_req(&r, DNS_TYPE_IXFR, 100);
	x = dns_xfr_out_start(
	    &env, r.b, r.len, (struct sockaddr *)&in, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_IXFR_FULL);
	dns_xfr_out_free(x);
	dns_journal_free(j);
	dns_db_free(v100);
	dns_db_free(v101);
	dns_db_free(v102);
}

/* What the secondary's reader hands over, as text: "-SOA100 +A3 ...". */
struct in_seq {
	char text[512];
	unsigned zone_records;
};

static int
in_rr(const struct dns_xfr_rr *rr, void *arg)
{
	struct in_seq *q = arg;
	size_t n = strlen(q->text);
	const char *op = rr->op == DNS_XFR_OP_DEL ? "-" :
	    rr->op == DNS_XFR_OP_ADD              ? "+" :
	                                            "";

	if (rr->op == DNS_XFR_OP_ZONE) {
		q->zone_records++;
		return 0;
	}
	if (rr->type == DNS_TYPE_SOA)
		snprintf(q->text + n, sizeof(q->text) - n, "%s%sSOA%u",
		    n ? " " : "", op,
		    (unsigned)get16(rr->rdata + rr->rdlen - 20) << 16 |
		        get16(rr->rdata + rr->rdlen - 18));
	else
		snprintf(q->text + n, sizeof(q->text) - n, "%s%sA%u",
		    n ? " " : "", op, rr->rdata[3]);
	return 0;
}

/* Ask with the secondary's IXFR query for ours, answer with env, feed
 * the answer back to the reader; its last feed's return. */
static int
ixfr_roundtrip(const struct dns_xfr_env *env, uint32_t ours, uint32_t claim,
    struct dns_xfr_in *in, struct in_seq *q)
{
	static uint8_t buf[DNS_MSG_MAX];
	struct dns_xfr_in asked;
	struct sockaddr_in sin;
	enum dns_xfr_result res;
	struct dns_xfr_out *x;
	uint8_t qb[512];
	int n, len, rc = 0;

	memset(q, 0, sizeof(*q));
	addr4(&sin, "198.18.0.9");
	/* The primary sees ours; the reader may believe claim (a lie to
	 * check the second SOA against). */
	len = dns_xfr_in_query_ixfr(
	    in, apex, 0x4242, claim, NULL, qb, sizeof(qb), T_NOW);
	T_ASSERT(len > 0);
	T_EQ_INT(dns_xfr_in_query_ixfr(
	             &asked, apex, 0x4242, ours, NULL, qb, sizeof(qb), T_NOW),
	    len);
	x = dns_xfr_out_start(
	    env, qb, (size_t)len, (struct sockaddr *)&sin, T_NOW, &res);
	while ((n = dns_xfr_out_next(x, buf, sizeof(buf), T_NOW)) > 0) {
		rc = dns_xfr_in_feed(in, buf, (size_t)n, T_NOW, in_rr, q);
		if (rc != 0)
			break;
	}
	dns_xfr_out_free(x);
	return rc;
}

static void
test_ixfr_in(void)
{
	struct dns_db *v100 = make_version(100, 3, false);
	struct dns_db *v101 = make_version(101, 5, false);
	struct dns_db *v102 = make_version(102, 5, true);
	struct dns_journal *j = dns_journal_new(apex, 10, 1 << 20);
	struct dns_xfr_prefix p;
	struct dns_xfr_zone z = { apex, &p, 1, NULL, j };
	struct dns_xfr_env env = { v102, &z, 1, NULL, 0 };
	struct dns_xfr_in in;
	struct dns_diff d;
	struct in_seq q;

	T_EQ_INT(dns_xfr_prefix_parse(&p, "0.0.0.0/0"), 0);
	T_EQ_INT(dns_diff_zones(v100, 0, v101, 0, &d), 0);
	T_EQ_INT(dns_journal_append(j, &d), 0);
	T_EQ_INT(dns_diff_zones(v101, 0, v102, 0, &d), 0);
	T_EQ_INT(dns_journal_append(j, &d), 0);
	/* Incremental: each step's old SOA deleted, new SOA added. */
	T_EQ_INT(ixfr_roundtrip(&env, 100, 100, &in, &q), 1);
	T_ASSERT(in.incremental && !in.uptodate);
	T_EQ_INT(in.steps, 2);
	T_EQ_STR(q.text, "-SOA100 +SOA101 +A3 +A4 -SOA101 -A1 +SOA102");
	/* Up to date: nothing handed over. */
	T_EQ_INT(ixfr_roundtrip(&env, 102, 102, &in, &q), 1);
	T_ASSERT(in.uptodate && !in.incremental);
	T_EQ_STR(q.text, "");
	T_EQ_INT(q.zone_records, 0);
	/* A serial the journal lacks: AXFR form, the whole zone. */
	T_EQ_INT(ixfr_roundtrip(&env, 99, 99, &in, &q), 1);
	T_ASSERT(!in.incremental && !in.uptodate);
	T_EQ_INT(q.zone_records, 3 + 4); /* SOA NS ns1, h0 h2 h3 h4 */
	/* The second SOA is not the serial we hold: refused. */
	T_EQ_INT(ixfr_roundtrip(&env, 100, 101, &in, &q), -EPROTO);
	T_EQ_INT(in.err, DNS_XFR_IN_IXFR);
	/* An incremental answer to an AXFR query stays refused. */
	{
		static uint8_t buf[DNS_MSG_MAX];
		struct sockaddr_in sin;
		enum dns_xfr_result res;
		struct dns_xfr_out *x;
		struct dns_xfr_in ax;
		uint8_t qb[512];
		int len, n;

		addr4(&sin, "198.18.0.9");
		len = dns_xfr_in_query_ixfr(
		    &in, apex, 0x4242, 100, NULL, qb, sizeof(qb), T_NOW);
		T_ASSERT(dns_xfr_in_query(&ax, apex, 0x4242, NULL, buf,
		             sizeof(buf), T_NOW) > 0);
		x = dns_xfr_out_start(&env, qb, (size_t)len,
		    (struct sockaddr *)&sin, T_NOW, &res);
		T_EQ_INT(res, DNS_XFR_IXFR_INCREMENTAL);
		n = dns_xfr_out_next(x, buf, sizeof(buf), T_NOW);
		T_ASSERT(n > 0);
		/* The question says IXFR: patch it to AXFR's to get past
		 * the question check to the records. */
		buf[DNS_HDR_LEN + dns_name_len(apex) + 1] = DNS_TYPE_AXFR;
		T_EQ_INT(
		    dns_xfr_in_feed(&ax, buf, (size_t)n, T_NOW, NULL, NULL),
		    -EPROTO);
		T_EQ_INT(ax.err, DNS_XFR_IN_IXFR);
		dns_xfr_out_free(x);
	}
	dns_journal_free(j);
	dns_db_free(v100);
	dns_db_free(v101);
	dns_db_free(v102);
}

static const struct test tests[] = {
	TEST(test_prefix),
	TEST(test_axfr_stream),
	TEST(test_refusals),
	TEST(test_tsig),
	TEST(test_ixfr),
	TEST(test_ixfr_incremental),
	TEST(test_ixfr_in),
};

TEST_MAIN(tests)
