/*
 * Unit tests for dns_answer.c: queries built here byte by byte, answered
 * from a db loaded from the zone text below through dns_zone_parse, and
 * the responses read back by a small decoder of our own that follows
 * compression pointers with dns_wire_name_read (which refuses forward and
 * looping pointers, so every answer's compression is checked too).
 *
 * The dynamic names are answered by test_provider, a real dns_dyn
 * provider in this file: it hands out an address built from the client
 * it was given, so the tests see what the engine passed it.
 */
#include <sys/socket.h>

#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "dns/dns_answer.h"
#include "dns/dns_zone.h"
#include "lib/util.h"
#include "runner.h"

#define DNS_TYPE_HINFO 13
#define DNS_TYPE_DS    43
#define DNS_TYPE_AXFR  252

static const char zone_example[] =
    "$TTL 300\n"
    "@ SOA ns1 hostmaster 1 3600 600 86400 60\n"
    "@ NS ns1\n"
    "@ NS ns2.example.net.\n"
    "@ MX 10 mail\n"
    "ns1 A 198.18.0.53\n"
    "mail A 198.18.0.25\n"
    "mail AAAA 2001:db8::25\n"
    "www A 198.18.0.1\n"
    "www A 198.18.0.2\n"
    "alias CNAME WWW\n"
    "chain1 CNAME chain2\n"
    "chain2 CNAME alias\n"
    "loop1 CNAME loop2\n"
    "loop2 CNAME loop1\n"
    "out CNAME www.example.net.\n"
    "cross CNAME www.other.test.\n"
    "dangling CNAME nothere\n"
    "a.b.c A 198.18.0.3\n"
    "*.wild A 198.18.0.9\n"
    "*.wild MX 10 mail\n"
    "sub NS ns.sub\n"
    "sub NS ns1\n"
    "sub NS ns2.example.net.\n"
    "ns.sub A 198.18.1.53\n"
    "deep.sub A 198.18.1.1\n"
    "_sip._tcp SRV 0 5 5060 sip\n"
    "sip A 198.18.0.60\n"
    "tocname CNAME dyncname\n"
    "mx2 MX 10 mail\n"
    "mx2 MX 20 mail\n"
    "dn DNAME other.test.\n"
    "dn2 DNAME "
    "a23456789012345678901234567890123456789012345678901234567890123"
    ".other.test.\n";

static const char zone_other[] = "$TTL 30\n"
                                 "@ SOA ns hm 5 1 1 1 3600\n"
                                 "@ NS ns.example.com.\n"
                                 "www A 198.18.2.1\n";

#define DYN_ADDR  1
#define DYN_CNAME 2
#define DYN_WRONG 3
#define DYN_FAIL  99

struct prov {
	unsigned calls;
	struct dns_client last;
	uint16_t last_qtype;
	uint8_t a[4];
	struct dns_rdata rd;
};

/* id 1: A 198.18.3.<first octet of the client>, scope 24 from ECS;
 * id 2: CNAME www.example.com; else unknown. */
static int
test_provider(void *p, uint32_t id, uint16_t qtype, const struct dns_client *cl,
    struct dns_dyn_answer *out)
{
	static const uint8_t www[] = "\3www\7example\3com";
	struct prov *pv = p;

	pv->calls++;
	pv->last = *cl;
	pv->last_qtype = qtype;
	memset(out, 0, sizeof(*out));
	switch (id) {
	case DYN_ADDR:
		out->scope = cl->ecs && cl->bits > 0 ? 24 : 0;
		if (qtype != DNS_TYPE_A)
			return 0;
		pv->a[0] = 198;
		pv->a[1] = 18;
		pv->a[2] = 3;
		pv->a[3] = cl->addr[0];
		pv->rd.data = pv->a;
		pv->rd.len = 4;
		out->type = DNS_TYPE_A;
		out->ttl = 20;
		out->count = 1;
		out->rdata = &pv->rd;
		return 0;
	case DYN_CNAME:
		pv->rd.data = www;
		pv->rd.len = sizeof(www);
		out->type = DNS_TYPE_CNAME;
		out->ttl = 10;
		out->count = 1;
		out->rdata = &pv->rd;
		return 0;
	case DYN_WRONG: /* breaks the contract: AAAA whatever asked */
		pv->rd.data = pv->a;
		pv->rd.len = 4;
		out->type = DNS_TYPE_AAAA;
		out->ttl = 10;
		out->count = 1;
		out->rdata = &pv->rd;
		return 0;
	default:
		return -ENOENT;
	}
}

struct fix {
	struct dns_db *db;
	int zone;
	struct prov prov;
	struct dns_dyn dyn;
	struct dns_answer_opts opts;
	struct dns_client src;
};

static int
fix_rr(const struct dns_zone_rr *rr, void *arg)
{
	struct fix *f = arg;

	return dns_db_add_rr(f->db, (unsigned)f->zone, rr->owner, rr->type,
	    rr->ttl, rr->rdata, rr->rdlen);
}

static void
name(uint8_t out[DNS_NAME_MAX], const char *text)
{
	T_ASSERT(dns_name_from_text(out, text, strlen(text), NULL) > 0);
}

static void
fix_zone(struct fix *f, const char *apex, const char *text)
{
	uint8_t a[DNS_NAME_MAX];
	struct dns_zone_conf c = { a, DNS_ZONE_CHECK_ALL, 0, fix_rr, NULL, NULL,
		f };

	name(a, apex);
	f->zone = dns_db_zone_begin(f->db, a);
	T_ASSERT(f->zone >= 0);
	T_EQ_INT(dns_zone_parse(&c, apex, text, strlen(text), NULL), 0);
}

static void
fix_init(struct fix *f)
{
	uint8_t n[DNS_NAME_MAX], rd[101];
	unsigned i;

	memset(f, 0, sizeof(*f));
	f->db = dns_db_new();
	fix_zone(f, "other.test.", zone_other);
	fix_zone(f, "example.com.", zone_example);
	T_EQ_INT(f->zone, 1);
	/* 14 TXT records of 101 bytes: 1.5 KB, over 1232. */
	name(n, "big.example.com.");
	for (i = 0; i < 14; i++) {
		rd[0] = 100;
		memset(rd + 1, 'a' + (int)i, 100);
		T_EQ_INT(
		    dns_db_add_rr(f->db, 1, n, DNS_TYPE_TXT, 300, rd, 101), 0);
	}
	name(n, "dyn.example.com.");
	T_EQ_INT(dns_db_add_dyn(f->db, 1, n, DYN_ADDR), 0);
	name(n, "dyncname.example.com.");
	T_EQ_INT(dns_db_add_dyn(f->db, 1, n, DYN_CNAME), 0);
	name(n, "dynwrong.example.com.");
	T_EQ_INT(dns_db_add_dyn(f->db, 1, n, DYN_WRONG), 0);
	name(n, "dynfail.example.com.");
	T_EQ_INT(dns_db_add_dyn(f->db, 1, n, DYN_FAIL), 0);
	T_EQ_INT(dns_db_finish(f->db, NULL, NULL), 0);
	f->dyn.answer = test_provider;
	f->dyn.provider = &f->prov;
	f->opts.udp_max = DNS_EDNS_UDP_DEFAULT;
	f->src.family = AF_INET;
	f->src.addr[0] = 198;
	f->src.addr[1] = 18;
	f->src.addr[2] = 7;
	f->src.addr[3] = 1;
	f->src.bits = 32;
}

/* ---- queries ---- */

struct qopt {
	bool edns;
	uint16_t udp;
	bool dnssec_ok;
	uint8_t version;
	bool nsid;
	int ecs_source;     /* -1: no ECS */
	uint8_t cookie_len; /* 0: no COOKIE */
	uint8_t cookie[48];
	uint8_t ecs_addr[4];
	uint16_t qclass;
	uint16_t flags;
	int keepalive_len; /* -1 or 0: none; else 1 + the option's length */
};

static const struct qopt plain = { .ecs_source = -1 };
static const struct qopt edns = { .edns = true, .udp = 4096, .ecs_source = -1 };

struct msg {
	uint8_t b[DNS_MSG_MAX];
	size_t len;
};

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

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
mkq(struct msg *m, const char *qname, uint16_t qtype, const struct qopt *o)
{
	uint8_t n[DNS_NAME_MAX];
	size_t l, rdl = 0;
	uint8_t *p;

	name(n, qname);
	l = dns_name_len(n);
	memset(m->b, 0, DNS_HDR_LEN);
	put16(m->b, 0x1234);
	put16(m->b + 2, o->flags);
	put16(m->b + 4, 1);
	memcpy(m->b + DNS_HDR_LEN, n, l);
	p = m->b + DNS_HDR_LEN + l;
	put16(p, qtype);
	put16(p + 2, o->qclass ? o->qclass : DNS_CLASS_IN);
	p += 4;
	if (o->edns) {
		put16(m->b + 10, 1);
		p[0] = 0;
		put16(p + 1, DNS_TYPE_OPT);
		put16(p + 3, o->udp);
		p[5] = 0;
		p[6] = o->version;
		put16(p + 7, o->dnssec_ok ? DNS_EDNS_DO : 0);
		p += DNS_OPT_FIXED;
		if (o->nsid) {
			put16(p + rdl, DNS_OPTION_NSID);
			put16(p + rdl + 2, 0);
			rdl += 4;
		}
		if (o->keepalive_len > 0) {
			put16(p + rdl, DNS_OPTION_KEEPALIVE);
			put16(p + rdl + 2, (uint16_t)(o->keepalive_len - 1));
			memset(p + rdl + 4, 0, (size_t)o->keepalive_len - 1);
			rdl += 4 + (size_t)o->keepalive_len - 1;
		}
		if (o->cookie_len > 0) {
			put16(p + rdl, DNS_OPTION_COOKIE);
			put16(p + rdl + 2, o->cookie_len);
			memcpy(p + rdl + 4, o->cookie, o->cookie_len);
			rdl += 4 + (size_t)o->cookie_len;
		}
		if (o->ecs_source >= 0) {
			size_t al = ((size_t)o->ecs_source + 7) / 8;

			put16(p + rdl, DNS_OPTION_ECS);
			put16(p + rdl + 2, (uint16_t)(4 + al));
			put16(p + rdl + 4, DNS_ECS_FAMILY_IP4);
			p[rdl + 6] = (uint8_t)o->ecs_source;
			p[rdl + 7] = 0;
			memcpy(p + rdl + 8, o->ecs_addr, al);
			rdl += 8 + al;
		}
		put16(p - 2, (uint16_t)rdl);
		p += rdl;
	}
	m->len = (size_t)(p - m->b);
}

/* ---- responses ---- */

struct rr {
	uint8_t owner[DNS_NAME_MAX];
	uint16_t type, rclass;
	uint32_t ttl;
	size_t rd; /* offset in the message */
	uint16_t rdlen;
};

struct resp {
	size_t len;
	uint16_t id, flags;
	int rcode; /* extended when an OPT came */
	uint16_t count[4];
	uint8_t qname[DNS_NAME_MAX];
	uint16_t qtype;
	struct rr rr[64]; /* answer, authority, additional but OPT */
	unsigned n;
	bool opt;
	uint16_t opt_udp;
	uint32_t opt_ttl;
	bool has_nsid, has_ecs;
	uint8_t nsid[DNS_NSID_MAX];
	uint16_t nsid_len;
	uint8_t ecs_source, ecs_scope;
	uint8_t cookie_len;
	uint8_t cookie[DNS_COOKIE_MAX];
	int keepalive; /* -1: none; else TIMEOUT */
	int ede;       /* -1: none; else INFO-CODE */
};

static void
decode(const struct msg *m, struct resp *r)
{
	size_t off = DNS_HDR_LEN;
	unsigned sec, i;

	memset(r, 0, sizeof(*r));
	r->keepalive = r->ede = -1;
	r->len = m->len;
	T_ASSERT(m->len >= DNS_HDR_LEN);
	r->id = get16(m->b);
	r->flags = get16(m->b + 2);
	r->rcode = r->flags & 0xf;
	for (i = 0; i < 4; i++)
		r->count[i] = get16(m->b + 4 + 2 * i);
	T_ASSERT(r->flags & DNS_FLAG_QR);
	if (r->count[0] == 1) {
		T_EQ_INT(dns_wire_name_read(m->b, m->len, &off, r->qname),
		    DNS_WIRE_OK);
		T_ASSERT(off + 4 <= m->len);
		r->qtype = get16(m->b + off);
		off += 4;
	}
	for (sec = 1; sec < 4; sec++) {
		for (i = 0; i < r->count[sec]; i++) {
			struct rr x;

			T_EQ_INT(
			    dns_wire_name_read(m->b, m->len, &off, x.owner),
			    DNS_WIRE_OK);
			T_ASSERT(off + 10 <= m->len);
			x.type = get16(m->b + off);
			x.rclass = get16(m->b + off + 2);
			x.ttl = get32(m->b + off + 4);
			x.rdlen = get16(m->b + off + 8);
			x.rd = off + 10;
			off += 10 + (size_t)x.rdlen;
			T_ASSERT(off <= m->len);
			if (x.type == DNS_TYPE_OPT) {
				size_t p = x.rd;

				T_ASSERT(sec == 3 && !r->opt);
				r->opt = true;
				r->opt_udp = x.rclass;
				r->opt_ttl = x.ttl;
				r->rcode |= (int)(x.ttl >> 24) << 4;
				while (p + 4 <= x.rd + x.rdlen) {
					uint16_t c = get16(m->b + p),
					         l = get16(m->b + p + 2);

					if (c == DNS_OPTION_NSID) {
						r->has_nsid = true;
						r->nsid_len = l;
						memcpy(
						    r->nsid, m->b + p + 4, l);
					} else if (c == DNS_OPTION_COOKIE) {
						T_ASSERT(l <= DNS_COOKIE_MAX);
						r->cookie_len = (uint8_t)l;
						memcpy(
						    r->cookie, m->b + p + 4, l);
					} else if (c == DNS_OPTION_KEEPALIVE) {
						T_EQ_INT(l, 2);
						r->keepalive =
						    get16(m->b + p + 4);
					} else if (c == DNS_OPTION_EDE) {
						T_ASSERT(l >= 2);
						r->ede = get16(m->b + p + 4);
					} else if (c == DNS_OPTION_ECS) {
						r->has_ecs = true;
						r->ecs_source = m->b[p + 6];
						r->ecs_scope = m->b[p + 7];
					}
					p += 4 + (size_t)l;
				}
				continue;
			}
			T_ASSERT(r->n < ARRAY_SIZE(r->rr));
			r->rr[r->n++] = x;
		}
	}
	T_EQ_INT(off, m->len); /* nothing after the last record */
}

/* Records of section sec (1 answer, 2 authority, 3 additional), OPT out. */
static const struct rr *
rr_at(const struct resp *r, unsigned sec, unsigned i)
{
	unsigned base = 0, s;

	for (s = 1; s < sec; s++)
		base += r->count[s];
	T_ASSERT(base + i < r->n);
	return &r->rr[base + i];
}

static void
t_owner(const struct rr *x, const char *text)
{
	char t[DNS_NAME_TEXT_MAX];

	dns_name_to_text(x->owner, t, sizeof(t));
	T_EQ_STR(t, text);
}

/* The name in RDATA at skip bytes, as text. */
static void
t_rdname(const struct msg *m, const struct rr *x, size_t skip, const char *text)
{
	uint8_t n[DNS_NAME_MAX];
	char t[DNS_NAME_TEXT_MAX];
	size_t off = x->rd + skip;

	T_EQ_INT(dns_wire_name_read(m->b, m->len, &off, n), DNS_WIRE_OK);
	T_EQ_INT(off, x->rd + x->rdlen);
	dns_name_to_text(n, t, sizeof(t));
	T_EQ_STR(t, text);
}

static void
t_a(const struct msg *m, const struct rr *x, unsigned last)
{
	T_EQ_INT(x->type, DNS_TYPE_A);
	T_EQ_INT(x->rdlen, 4);
	T_EQ_INT(m->b[x->rd + 3], last);
}

/* Answer q with f as UDP (or TCP) and decode the response. */
static void
ask(struct fix *f, const struct msg *q, struct msg *out, struct resp *r,
    struct dns_answer_info *info)
{
	out->len = dns_answer(f->db, &f->dyn, &f->opts, &f->src, q->b, q->len,
	    out->b, sizeof(out->b), info);
	T_ASSERT(out->len > 0);
	decode(out, r);
	T_EQ_INT(r->id, 0x1234);
	T_EQ_INT(r->rcode, info->rcode);
	T_EQ_INT((r->flags & DNS_FLAG_TC) != 0, info->truncated);
}

static void
query(struct fix *f, const char *qname, uint16_t qtype, const struct qopt *o,
    struct msg *out, struct resp *r, struct dns_answer_info *info)
{
	struct msg q;

	mkq(&q, qname, qtype, o);
	ask(f, &q, out, r, info);
}

static void
rrl(const struct dns_answer_info *info, const char *text)
{
	char t[DNS_NAME_TEXT_MAX];

	dns_name_to_text(info->rrl_name, t, sizeof(t));
	T_EQ_STR(t, text);
}

/* ---- tests ---- */

static void
test_exact_case_kept(void)
{
	struct fix f;
	struct msg m;
	struct resp r;
	struct dns_answer_info info;

	fix_init(&f);
	query(&f, "wWw.ExAmple.COM.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_POSITIVE);
	T_EQ_INT(r.rcode, DNS_RCODE_NOERROR);
	T_ASSERT(r.flags & DNS_FLAG_AA);
	T_EQ_INT(r.count[1], 2);
	T_EQ_INT(r.count[2], 0);
	T_EQ_INT(r.count[3], 0); /* no OPT without EDNS */
	T_ASSERT(!r.opt);
	t_owner(rr_at(&r, 1, 0), "wWw.ExAmple.COM.");
	T_EQ_INT(rr_at(&r, 1, 0)->ttl, 300);
	t_a(&m, rr_at(&r, 1, 0), 1);
	t_a(&m, rr_at(&r, 1, 1), 2);
	/* The owners point at the question. */
	T_EQ_INT(m.b[rr_at(&r, 1, 0)->rd - 12], 0xc0);
	T_EQ_INT(m.b[rr_at(&r, 1, 0)->rd - 11], 12);
	T_EQ_INT(m.len, 12 + 17 + 4 + 2 * 16);
	T_EQ_INT(info.qtype, DNS_TYPE_A);
	T_ASSERT(!info.dynamic && !info.edns);
	rrl(&info, "www.example.com.");
	dns_db_free(f.db);
}

static void
test_nodata_nxdomain_ent(void)
{
	struct fix f;
	struct msg m;
	struct resp r;
	struct dns_answer_info info;

	fix_init(&f);
	query(&f, "www.example.com.", DNS_TYPE_TXT, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_NODATA);
	T_EQ_INT(r.rcode, DNS_RCODE_NOERROR);
	T_ASSERT(r.flags & DNS_FLAG_AA);
	T_EQ_INT(r.count[1], 0);
	T_EQ_INT(r.count[2], 1);
	T_EQ_INT(rr_at(&r, 2, 0)->type, DNS_TYPE_SOA);
	T_EQ_INT(rr_at(&r, 2, 0)->ttl, 60); /* MINIMUM under the TTL */
	t_owner(rr_at(&r, 2, 0), "example.com.");
	rrl(&info, "www.example.com.");

	query(&f, "nope.Example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_NXDOMAIN);
	T_EQ_INT(r.rcode, DNS_RCODE_NXDOMAIN);
	T_ASSERT(r.flags & DNS_FLAG_AA);
	T_EQ_INT(r.count[2], 1);
	T_EQ_INT(rr_at(&r, 2, 0)->ttl, 60);
	rrl(&info, "example.com.");

	/* b.c and c have no data but a descendant: NODATA (RFC 8020). */
	query(&f, "b.c.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_NODATA);
	T_EQ_INT(r.rcode, DNS_RCODE_NOERROR);
	query(&f, "c.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_NOERROR);
	query(&f, "x.b.c.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_NXDOMAIN);
	/* Other zone: its own SOA, its own negative TTL (30 < 3600). */
	query(&f, "no.other.test.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_NXDOMAIN);
	T_EQ_INT(rr_at(&r, 2, 0)->ttl, 30);
	t_owner(rr_at(&r, 2, 0), "other.test.");
	dns_db_free(f.db);
}

static void
test_wildcard(void)
{
	struct fix f;
	struct msg m;
	struct resp r;
	struct dns_answer_info info;

	fix_init(&f);
	query(&f, "Foo.wild.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_POSITIVE);
	T_ASSERT(r.flags & DNS_FLAG_AA);
	T_EQ_INT(r.count[1], 1);
	t_owner(rr_at(&r, 1, 0), "Foo.wild.example.com.");
	t_a(&m, rr_at(&r, 1, 0), 9);
	/* Deeper names match the same wildcard (RFC 4592 §2.2.1). */
	query(&f, "a.b.wild.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.count[1], 1);
	t_owner(rr_at(&r, 1, 0), "a.b.wild.example.com.");
	/* The wildcard's parent is an empty non-terminal: NODATA. */
	query(&f, "wild.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_NODATA);
	/* Wildcard NODATA. */
	query(&f, "x.wild.example.com.", DNS_TYPE_TXT, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_NODATA);
	T_EQ_INT(r.rcode, DNS_RCODE_NOERROR);
	/* Wildcard MX with its additional data. */
	query(&f, "x.wild.example.com.", DNS_TYPE_MX, &plain, &m, &r, &info);
	T_EQ_INT(r.count[1], 1);
	t_rdname(&m, rr_at(&r, 1, 0), 2, "mail.example.com.");
	T_EQ_INT(r.count[3], 2);
	t_owner(rr_at(&r, 3, 0), "mail.example.com.");
	T_EQ_INT(rr_at(&r, 3, 0)->type, DNS_TYPE_A);
	T_EQ_INT(rr_at(&r, 3, 1)->type, DNS_TYPE_AAAA);
	dns_db_free(f.db);
}

static void
test_cname(void)
{
	struct fix f;
	struct msg m;
	struct resp r;
	struct dns_answer_info info;
	unsigned i;

	fix_init(&f);
	query(&f, "chain1.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_POSITIVE);
	T_ASSERT(r.flags & DNS_FLAG_AA);
	T_EQ_INT(r.count[1], 5);
	t_owner(rr_at(&r, 1, 0), "chain1.example.com.");
	t_rdname(&m, rr_at(&r, 1, 0), 0, "chain2.example.com.");
	t_owner(rr_at(&r, 1, 2), "alias.example.com.");
	t_rdname(&m, rr_at(&r, 1, 2), 0, "WWW.example.com.");
	/* The target's case as loaded is the next owner's. */
	t_owner(rr_at(&r, 1, 3), "WWW.example.com.");
	t_a(&m, rr_at(&r, 1, 4), 2);
	/* The CNAME itself when asked for. */
	query(&f, "alias.example.com.", DNS_TYPE_CNAME, &plain, &m, &r, &info);
	T_EQ_INT(r.count[1], 1);
	T_EQ_INT(rr_at(&r, 1, 0)->type, DNS_TYPE_CNAME);
	/* Leaving our zones: the CNAME alone, NOERROR. */
	query(&f, "out.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_NOERROR);
	T_EQ_INT(r.count[1], 1);
	T_EQ_INT(r.count[2], 0);
	T_ASSERT(r.flags & DNS_FLAG_AA);
	/* Into another zone of ours. */
	query(&f, "cross.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.count[1], 2);
	t_owner(rr_at(&r, 1, 1), "www.other.test.");
	T_EQ_INT(rr_at(&r, 1, 1)->ttl, 30);
	/* A dangling one: NXDOMAIN for the target (RFC 6604 §3). */
	query(&f, "dangling.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_NXDOMAIN);
	T_EQ_INT(r.count[1], 1);
	T_EQ_INT(r.count[2], 1);
	T_EQ_INT(info.kind, DNS_ANS_POSITIVE);
	/* A loop ends after DNS_CNAME_CHAIN_MAX CNAMEs. */
	query(&f, "loop1.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_NOERROR);
	T_EQ_INT(r.count[1], DNS_CNAME_CHAIN_MAX);
	for (i = 0; i < DNS_CNAME_CHAIN_MAX; i++)
		T_EQ_INT(rr_at(&r, 1, i)->type, DNS_TYPE_CNAME);
	dns_db_free(f.db);
}

static void
test_referral_glue(void)
{
	struct fix f;
	struct msg m;
	struct resp r;
	struct dns_answer_info info;
	unsigned i;

	fix_init(&f);
	query(&f, "www.sub.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_REFERRAL);
	T_EQ_INT(r.rcode, DNS_RCODE_NOERROR);
	T_ASSERT(!(r.flags & DNS_FLAG_AA));
	T_EQ_INT(r.count[1], 0);
	T_EQ_INT(r.count[2], 3);
	for (i = 0; i < 3; i++) {
		t_owner(rr_at(&r, 2, i), "sub.example.com.");
		T_EQ_INT(rr_at(&r, 2, i)->type, DNS_TYPE_NS);
	}
	/* In-domain glue, then sibling glue; nothing for example.net. */
	T_EQ_INT(r.count[3], 2);
	t_owner(rr_at(&r, 3, 0), "ns.sub.example.com.");
	t_a(&m, rr_at(&r, 3, 0), 53);
	t_owner(rr_at(&r, 3, 1), "ns1.example.com.");
	rrl(&info, "example.com.");
	/* Occluded data below the cut is not answered. */
	query(&f, "deep.sub.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_REFERRAL);
	T_EQ_INT(r.count[1], 0);
	/* At the cut itself, too, but DS is the parent's to answer. */
	query(&f, "sub.example.com.", DNS_TYPE_NS, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_REFERRAL);
	query(&f, "sub.example.com.", DNS_TYPE_DS, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_NODATA);
	T_ASSERT(r.flags & DNS_FLAG_AA);
	/* The apex NS: glue only for the name in the zone. */
	query(&f, "example.com.", DNS_TYPE_NS, &plain, &m, &r, &info);
	T_EQ_INT(r.count[1], 2);
	T_EQ_INT(r.count[3], 1);
	t_owner(rr_at(&r, 3, 0), "ns1.example.com.");
	/* SRV target's address. */
	query(&f, "_sip._tcp.example.com.", 33, &plain, &m, &r, &info);
	T_EQ_INT(r.count[1], 1);
	T_EQ_INT(r.count[3], 1);
	t_owner(rr_at(&r, 3, 0), "sip.example.com.");
	dns_db_free(f.db);
}

static void
test_refused_and_errors(void)
{
	struct fix f;
	struct msg q, m;
	struct resp r;
	struct dns_answer_info info;
	struct qopt ch = plain;

	fix_init(&f);
	query(&f, "www.example.org.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_REFUSED);
	T_EQ_INT(r.rcode, DNS_RCODE_REFUSED);
	T_ASSERT(!(r.flags & DNS_FLAG_AA));
	T_EQ_INT(r.count[0], 1);
	rrl(&info, "www.example.org.");
	/* A parent of a zone is not served either. */
	query(&f, "com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_REFUSED);
	ch.qclass = DNS_CLASS_CH;
	query(&f, "www.example.com.", DNS_TYPE_A, &ch, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_REFUSED);
	query(&f, "example.com.", DNS_TYPE_AXFR, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_REFUSED);
	/* NXNAME is a meta-type: asking for it is FORMERR (RFC 9824 §3.5),
	 * with EDE 30 when an OPT came. */
	query(&f, "www.example.com.", 128, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_ERROR);
	T_EQ_INT(r.rcode, DNS_RCODE_FORMERR);
	T_EQ_INT(info.ede, 0);
	query(&f, "www.example.com.", 128, &edns, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_FORMERR);
	T_EQ_INT(info.ede, DNS_EDE_INVALID_QTYPE);

	/* FORMERR: no question. */
	mkq(&q, "www.example.com.", DNS_TYPE_A, &plain);
	put16(q.b + 4, 0);
	q.len = DNS_HDR_LEN;
	ask(&f, &q, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_ERROR);
	T_EQ_INT(r.rcode, DNS_RCODE_FORMERR);
	T_EQ_INT(info.err, DNS_WIRE_QDCOUNT);
	rrl(&info, ".");
	/* NOTIMP: UPDATE. */
	mkq(&q, "www.example.com.", DNS_TYPE_A, &plain);
	put16(q.b + 2, DNS_OPCODE_UPDATE << 11);
	ask(&f, &q, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_NOTIMP);
	/* A response: nothing goes back. */
	mkq(&q, "www.example.com.", DNS_TYPE_A, &plain);
	put16(q.b + 2, DNS_FLAG_QR);
	T_EQ_INT(dns_answer(f.db, &f.dyn, &f.opts, &f.src, q.b, q.len, m.b,
	             sizeof(m.b), &info),
	    0);
	T_EQ_INT(info.kind, DNS_ANS_DROP);
	T_EQ_INT(info.rcode, DNS_RCODE_DROP);
	T_EQ_INT(dns_answer(f.db, &f.dyn, &f.opts, &f.src, q.b, 5, m.b,
	             sizeof(m.b), &info),
	    0);
	dns_db_free(f.db);
}

static void
test_any(void)
{
	struct fix f;
	struct msg m;
	struct resp r;
	struct dns_answer_info info;

	fix_init(&f);
	query(&f, "www.example.com.", DNS_TYPE_ANY, &plain, &m, &r, &info);
	T_EQ_INT(r.count[1], 2);
	T_EQ_INT(rr_at(&r, 1, 0)->type, DNS_TYPE_A);
	query(&f, "example.com.", DNS_TYPE_ANY, &plain, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_NOERROR);
	T_ASSERT(r.count[1] >= 1);
	T_EQ_INT(rr_at(&r, 1, r.count[1] - 1)->type,
	    rr_at(&r, 1, 0)->type); /* one RRset */
	/* A dynamic name with nothing to give for ANY: HINFO. */
	query(&f, "dyn.example.com.", DNS_TYPE_ANY, &plain, &m, &r, &info);
	T_EQ_INT(r.count[1], 1);
	T_EQ_INT(rr_at(&r, 1, 0)->type, DNS_TYPE_HINFO);
	T_EQ_INT(rr_at(&r, 1, 0)->rdlen, 9);
	T_ASSERT(memcmp(m.b + rr_at(&r, 1, 0)->rd, "\7RFC8482\0", 9) == 0);
	/* ANY at an empty non-terminal: NODATA. */
	query(&f, "c.example.com.", DNS_TYPE_ANY, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_NODATA);
	dns_db_free(f.db);
}

static void
test_truncation(void)
{
	struct fix f;
	struct msg m;
	struct resp r;
	struct dns_answer_info info;
	struct qopt small = edns;

	fix_init(&f);
	/* 512 without EDNS: TC, and no partial RRset. */
	query(&f, "big.example.com.", DNS_TYPE_TXT, &plain, &m, &r, &info);
	T_ASSERT(info.truncated);
	T_EQ_INT(r.count[1], 0);
	T_ASSERT(m.len <= 512);
	/* EDNS 4096 is clamped to our 1232. */
	query(&f, "big.example.com.", DNS_TYPE_TXT, &edns, &m, &r, &info);
	T_ASSERT(info.truncated);
	T_ASSERT(r.opt);
	T_EQ_INT(r.opt_udp, 1232);
	/* A client size under 512 counts as 512. */
	small.udp = 100;
	query(&f, "www.example.com.", DNS_TYPE_A, &small, &m, &r, &info);
	T_ASSERT(!info.truncated);
	T_EQ_INT(r.count[1], 2);
	/* Over TCP it all fits. */
	f.opts.tcp = true;
	query(&f, "big.example.com.", DNS_TYPE_TXT, &plain, &m, &r, &info);
	T_ASSERT(!info.truncated);
	T_EQ_INT(r.count[1], 14);
	/* With udp_max 4096 and the client's 4096 it fits over UDP. */
	f.opts.tcp = false;
	f.opts.udp_max = 4096;
	query(&f, "big.example.com.", DNS_TYPE_TXT, &edns, &m, &r, &info);
	T_ASSERT(!info.truncated);
	T_EQ_INT(r.opt_udp, 4096);
	/* Optional additional data never truncates: MX with a 512 limit
	 * in plain DNS always fits here, but the referral's required glue
	 * and the MX's optional data are both checked above. */
	dns_db_free(f.db);
}

/*
 * DNS Cookies (RFC 7873, RFC 9018 server cookies): a client cookie gets
 * it back with a fresh server cookie; that one comes back valid and is
 * reused; it is bad from another address, with another client cookie,
 * after an hour, or altered; renewed after half an hour; bad lengths
 * are FORMERR; cookies off means no COOKIE in the answer.
 */
static void
test_cookies(void)
{
	static const uint8_t secret[DNS_COOKIE_SECRET_LEN] = { 9, 8, 7 };
	static const uint8_t cc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct fix f;
	struct msg m;
	struct resp r;
	struct dns_answer_info info;
	struct qopt o = edns;
	uint8_t sc[16];

	fix_init(&f);
	memcpy(o.cookie, cc, 8);
	o.cookie_len = 8;
	/* Off: the option is read (and checked) but not answered. */
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(r.cookie_len, 0);
	T_EQ_INT(info.cookie, DNS_COOKIE_NONE);
	f.opts.cookie_secret = secret;
	f.opts.now = 1800000000u;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(info.cookie, DNS_COOKIE_NEW);
	T_EQ_INT(r.rcode, DNS_RCODE_NOERROR);
	T_EQ_INT(r.cookie_len, 24);
	T_ASSERT(memcmp(r.cookie, cc, 8) == 0);
	T_EQ_INT(r.cookie[8], 1); /* version */
	memcpy(sc, r.cookie + 8, 16);
	/* Back with the server cookie: valid, and the same one again. */
	memcpy(o.cookie + 8, sc, 16);
	o.cookie_len = 24;
	f.opts.now += 600;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(info.cookie, DNS_COOKIE_VALID);
	T_ASSERT(memcmp(r.cookie + 8, sc, 16) == 0);
	/* Past half an hour: still valid, but renewed. */
	f.opts.now += 1500;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(info.cookie, DNS_COOKIE_VALID);
	T_ASSERT(memcmp(r.cookie + 8, sc, 16) != 0);
	/* Past an hour: bad, a fresh one. */
	f.opts.now += 1600;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(info.cookie, DNS_COOKIE_BAD);
	T_EQ_INT(r.rcode, DNS_RCODE_NOERROR); /* never required */
	T_EQ_INT(r.cookie_len, 24);
	f.opts.now -= 3100;
	/* Another source address, another client cookie, a flipped bit. */
	f.src.addr[3] = 2;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(info.cookie, DNS_COOKIE_BAD);
	f.src.addr[3] = 1;
	o.cookie[0] ^= 1;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(info.cookie, DNS_COOKIE_BAD);
	o.cookie[0] ^= 1;
	o.cookie[20] ^= 1;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(info.cookie, DNS_COOKIE_BAD);
	o.cookie[20] ^= 1;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(info.cookie, DNS_COOKIE_VALID);
	/* Another server's 8-byte server cookie: bad, replaced by ours. */
	o.cookie_len = 16;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(info.cookie, DNS_COOKIE_BAD);
	T_EQ_INT(r.cookie_len, 24);
	/* Lengths RFC 7873 §5.2.2 refuses: FORMERR, with an OPT. */
	for (int bad = 0; bad < 4; bad++) {
		static const uint8_t lens[] = { 1, 7, 9, 41 };

		o.cookie_len = lens[bad];
		query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
		T_EQ_INT(r.rcode, DNS_RCODE_FORMERR);
		T_EQ_INT(info.err, DNS_WIRE_COOKIE_LEN);
		T_ASSERT(r.opt);
	}
	/* Rotation: minted 100 s before a UTC midnight, still valid 10
	 * minutes after it (its own timestamp picks the key). */
	f.opts.now = 20834u * DNS_COOKIE_ROTATE - 100;
	o.cookie_len = 8;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(info.cookie, DNS_COOKIE_NEW);
	memcpy(sc, r.cookie + 8, 16);
	{
		/* The hash is keyed with the day's key (dns_cookie.h), not
		 * with the secret itself. */
		uint32_t day = f.opts.now / DNS_COOKIE_ROTATE;
		uint8_t kin[9] = { 'h', 'v', 'c', 'k', (uint8_t)(day >> 24),
			(uint8_t)(day >> 16), (uint8_t)(day >> 8), (uint8_t)day,
			0 };
		uint8_t key[16], hin[20], h[8];

		crypto_shorthash_siphash24(key, kin, sizeof(kin), secret);
		kin[8] = 1;
		crypto_shorthash_siphash24(key + 8, kin, sizeof(kin), secret);
		memcpy(hin, cc, 8);
		memcpy(hin + 8, sc, 8);
		memcpy(hin + 16, f.src.addr, 4);
		crypto_shorthash_siphash24(h, hin, sizeof(hin), key);
		T_ASSERT(memcmp(h, sc + 8, 8) == 0);
		crypto_shorthash_siphash24(h, hin, sizeof(hin), secret);
		T_ASSERT(memcmp(h, sc + 8, 8) != 0);
	}
	memcpy(o.cookie + 8, sc, 16);
	o.cookie_len = 24;
	f.opts.now += 700;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(info.cookie, DNS_COOKIE_VALID);
	/* The same hash under the next day's timestamp (and a clock to
	 * match): another key, so bad. Same day, one second later: the
	 * hash covers the timestamp, so bad too. */
	for (int k = 0; k < 2; k++) {
		uint32_t ts = 20834u * DNS_COOKIE_ROTATE - 100 +
		    (k == 0 ? DNS_COOKIE_ROTATE : 1);

		o.cookie[8 + 4] = (uint8_t)(ts >> 24);
		o.cookie[8 + 5] = (uint8_t)(ts >> 16);
		o.cookie[8 + 6] = (uint8_t)(ts >> 8);
		o.cookie[8 + 7] = (uint8_t)ts;
		f.opts.now = ts + 10;
		query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
		T_EQ_INT(info.cookie, DNS_COOKIE_BAD);
	}
	dns_db_free(f.db);
}

/*
 * edns-tcp-keepalive (RFC 7828): over TCP an empty option gets our idle
 * timeout in 100 ms units; over UDP it is ignored; one with a TIMEOUT in
 * a query is FORMERR. Extended DNS Errors (RFC 8914): a name outside our
 * zones is REFUSED with Not Authoritative, a transfer on this path with
 * Prohibited; none without EDNS, none on a plain answer.
 */
static void
test_keepalive_ede(void)
{
	struct fix f;
	struct msg m;
	struct resp r;
	struct dns_answer_info info;
	struct qopt o = edns;

	fix_init(&f);
	o.keepalive_len = 1;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_NOERROR);
	T_EQ_INT(r.keepalive, -1); /* UDP */
	f.opts.tcp = true;
	f.opts.tcp_idle_100ms = 100;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(r.keepalive, 100);
	T_EQ_INT(r.ede, -1);
	o.keepalive_len = 3;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_FORMERR);
	T_EQ_INT(info.err, DNS_WIRE_KEEPALIVE);
	T_ASSERT(r.opt);
	o.keepalive_len = 0;
	f.opts.tcp = false;

	query(&f, "www.elsewhere.org.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_REFUSED);
	T_EQ_INT(r.ede, DNS_EDE_NOT_AUTHORITATIVE);
	T_EQ_INT(info.ede, DNS_EDE_NOT_AUTHORITATIVE);
	query(&f, "example.com.", DNS_TYPE_AXFR, &o, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_REFUSED);
	T_EQ_INT(r.ede, DNS_EDE_PROHIBITED);
	query(&f, "www.elsewhere.org.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_REFUSED);
	T_ASSERT(!r.opt);
	T_EQ_INT(info.ede, 0);
	dns_db_free(f.db);
}

static void
test_edns(void)
{
	static const uint8_t id[] = "node-1";
	struct fix f;
	struct msg m;
	struct resp r;
	struct dns_answer_info info;
	struct qopt o = edns;

	fix_init(&f);
	o.dnssec_ok = true;
	o.nsid = true;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_ASSERT(info.edns);
	T_ASSERT(r.opt);
	T_EQ_INT(r.opt_ttl, DNS_EDNS_DO);
	T_ASSERT(!r.has_nsid); /* asked, but none configured */
	f.opts.nsid = id;
	f.opts.nsid_len = 6;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_ASSERT(r.has_nsid);
	T_EQ_INT(r.nsid_len, 6);
	T_ASSERT(memcmp(r.nsid, "node-1", 6) == 0);
	o.nsid = false;
	o.dnssec_ok = false;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_ASSERT(!r.has_nsid);
	T_EQ_INT(r.opt_ttl, 0);
	/* BADVERS, with an OPT of version 0. */
	o.version = 1;
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_BADVERS);
	T_EQ_INT(info.kind, DNS_ANS_ERROR);
	T_EQ_INT(r.count[1], 0);
	T_ASSERT(r.opt);
	T_EQ_INT((r.opt_ttl >> 16) & 0xff, 0);
	dns_db_free(f.db);
}

static void
test_dynamic_and_ecs(void)
{
	struct fix f;
	struct msg m;
	struct resp r;
	struct dns_answer_info info;
	struct qopt o = edns;

	fix_init(&f);
	/* From the packet's source. */
	query(&f, "dyn.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_ASSERT(info.dynamic);
	T_ASSERT(r.flags & DNS_FLAG_AA);
	T_EQ_INT(r.count[1], 1);
	t_a(&m, rr_at(&r, 1, 0), 198);
	T_EQ_INT(rr_at(&r, 1, 0)->ttl, 20);
	T_EQ_INT(f.prov.last.family, AF_INET);
	T_EQ_INT(f.prov.last.bits, 32);
	T_ASSERT(!f.prov.last.ecs);
	/* ECS: the provider sees the subnet, the answer echoes scope 24. */
	o.ecs_source = 24;
	o.ecs_addr[0] = 203;
	o.ecs_addr[1] = 0;
	o.ecs_addr[2] = 113;
	query(&f, "Dyn.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_ASSERT(f.prov.last.ecs);
	T_EQ_INT(f.prov.last.bits, 24);
	T_EQ_INT(f.prov.last.addr[0], 203);
	t_a(&m, rr_at(&r, 1, 0), 203);
	t_owner(rr_at(&r, 1, 0), "Dyn.example.com.");
	T_ASSERT(r.has_ecs);
	T_EQ_INT(r.ecs_source, 24);
	T_EQ_INT(r.ecs_scope, 24);
	/* Static data: scope 0. */
	query(&f, "www.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_ASSERT(r.has_ecs);
	T_EQ_INT(r.ecs_scope, 0);
	T_ASSERT(!info.dynamic);
	/* SOURCE /0: opted out, scope 0 whatever the provider says. */
	o.ecs_source = 0;
	query(&f, "dyn.example.com.", DNS_TYPE_A, &o, &m, &r, &info);
	T_ASSERT(f.prov.last.ecs);
	T_EQ_INT(f.prov.last.bits, 0);
	T_EQ_INT(r.ecs_scope, 0);
	/* AAAA from the provider: none, NODATA. */
	query(&f, "dyn.example.com.", DNS_TYPE_AAAA, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_NODATA);
	T_EQ_INT(r.count[2], 1);
	/* TXT is not the provider's: it is not asked. */
	f.prov.calls = 0;
	query(&f, "dyn.example.com.", DNS_TYPE_TXT, &plain, &m, &r, &info);
	T_EQ_INT(f.prov.calls, 0);
	T_EQ_INT(info.kind, DNS_ANS_NODATA);
	/* A CNAME from the provider is followed like a static one, and
	 * a static CNAME into a dynamic name asks the provider. */
	query(&f, "tocname.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.count[1], 4);
	t_owner(rr_at(&r, 1, 1), "dyncname.example.com.");
	T_EQ_INT(rr_at(&r, 1, 1)->ttl, 10);
	t_rdname(&m, rr_at(&r, 1, 1), 0, "www.example.com.");
	t_a(&m, rr_at(&r, 1, 3), 2);
	T_EQ_INT(f.prov.last_qtype, DNS_TYPE_A);
	/* A type it may not give for A is not written: NODATA. */
	query(&f, "dynwrong.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_NODATA);
	T_EQ_INT(r.count[1], 0);
	/* An unknown id: SERVFAIL. */
	query(&f, "dynfail.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_SERVFAIL);
	T_EQ_INT(info.kind, DNS_ANS_ERROR);
	/* No provider at all: SERVFAIL too, never a crash. */
	{
		struct msg q;

		mkq(&q, "dyn.example.com.", DNS_TYPE_A, &plain);
		m.len = dns_answer(f.db, NULL, &f.opts, &f.src, q.b, q.len, m.b,
		    sizeof(m.b), &info);
		T_ASSERT(m.len > 0);
		T_EQ_INT(info.rcode, DNS_RCODE_SERVFAIL);
	}
	dns_db_free(f.db);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Not a pass/fail test: prints the cost of a static A answer. */
static void
test_bench(void)
{
	struct fix f;
	struct msg q, m;
	struct dns_answer_info info;
	unsigned i, n = 1000000;
	size_t sum = 0;
	double t0, t1;

	fix_init(&f);
	mkq(&q, "www.example.com.", DNS_TYPE_A, &edns);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		q.b[1] = (uint8_t)i;
		sum += dns_answer(f.db, &f.dyn, &f.opts, &f.src, q.b, q.len,
		    m.b, 1232, &info);
	}
	t1 = now_s();
	T_EQ_INT(sum, (size_t)n * 76);
	printf("# static A with EDNS: %.0f ns/query\n", (t1 - t0) * 1e9 / n);
	mkq(&q, "nope.example.com.", DNS_TYPE_A, &plain);
	t0 = now_s();
	for (i = 0; i < n; i++)
		sum += dns_answer(
		    f.db, &f.dyn, &f.opts, &f.src, q.b, q.len, m.b, 512, &info);
	t1 = now_s();
	printf("# NXDOMAIN: %.0f ns/query\n", (t1 - t0) * 1e9 / n);
	dns_db_free(f.db);
}

static void
test_dname_and_dedup(void)
{
	struct fix f;
	struct msg m;
	struct resp r;
	struct dns_answer_info info;
	char longq[256];
	unsigned i;

	fix_init(&f);
	query(&f, "Www.DN.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_NOERROR);
	T_ASSERT(r.flags & DNS_FLAG_AA);
	T_EQ_INT(r.count[1], 3);
	T_EQ_INT(rr_at(&r, 1, 0)->type, DNS_TYPE_DNAME);
	t_owner(rr_at(&r, 1, 0), "DN.example.com.");
	T_EQ_INT(rr_at(&r, 1, 1)->type, DNS_TYPE_CNAME);
	t_owner(rr_at(&r, 1, 1), "Www.DN.example.com.");
	T_EQ_INT(rr_at(&r, 1, 1)->ttl, 300);
	t_rdname(&m, rr_at(&r, 1, 1), 0, "Www.other.test.");
	t_owner(rr_at(&r, 1, 2), "Www.other.test.");
	t_a(&m, rr_at(&r, 1, 2), 1);
	/* The DNAME's own name is not redirected. */
	query(&f, "dn.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_NODATA);
	/* Too long once rewritten: YXDOMAIN with the DNAME. */
	longq[0] = 0;
	for (i = 0; i < 4; i++)
		strcat(longq,
		    "b234567890123456789012345678901234567890123456789.");
	strcat(longq, "dn2.example.com.");
	query(&f, longq, DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.rcode, 6);
	T_EQ_INT(r.count[1], 1);
	T_EQ_INT(rr_at(&r, 1, 0)->type, DNS_TYPE_DNAME);
	/* Two MX to one host: its addresses once. */
	query(&f, "mx2.example.com.", DNS_TYPE_MX, &plain, &m, &r, &info);
	T_EQ_INT(r.count[1], 2);
	T_EQ_INT(r.count[3], 2);
	T_EQ_INT(rr_at(&r, 3, 0)->type, DNS_TYPE_A);
	T_EQ_INT(rr_at(&r, 3, 1)->type, DNS_TYPE_AAAA);
	dns_db_free(f.db);
}

/* A child zone served next to its parent's delegation: the longest
 * match answers, with authority. */
static void
test_child_zone(void)
{
	static const char parent[] = "$TTL 300\n"
	                             "@ SOA ns hm 1 1 1 1 1\n"
	                             "@ NS ns\n"
	                             "ns A 198.18.0.53\n"
	                             "sub NS ns.sub\n"
	                             "ns.sub A 198.18.1.53\n";
	static const char child[] = "$TTL 300\n"
	                            "@ SOA ns hm 7 1 1 1 1\n"
	                            "@ NS ns\n"
	                            "ns A 198.18.1.53\n"
	                            "www A 198.18.1.80\n";
	struct fix f;
	struct msg m;
	struct resp r;
	struct dns_answer_info info;

	memset(&f, 0, sizeof(f));
	f.db = dns_db_new();
	fix_zone(&f, "example.com.", parent);
	fix_zone(&f, "sub.example.com.", child);
	T_EQ_INT(dns_db_finish(f.db, NULL, NULL), 0);
	f.opts.udp_max = 1232;
	f.src.family = AF_INET;
	f.src.bits = 32;
	query(&f, "www.sub.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(info.kind, DNS_ANS_POSITIVE);
	T_ASSERT(r.flags & DNS_FLAG_AA);
	t_a(&m, rr_at(&r, 1, 0), 80);
	query(&f, "no.sub.example.com.", DNS_TYPE_A, &plain, &m, &r, &info);
	T_EQ_INT(r.rcode, DNS_RCODE_NXDOMAIN);
	t_owner(rr_at(&r, 2, 0), "sub.example.com.");
	rrl(&info, "sub.example.com.");
	dns_db_free(f.db);
}

static const struct test tests[] = {
	TEST(test_exact_case_kept),
	TEST(test_nodata_nxdomain_ent),
	TEST(test_wildcard),
	TEST(test_cname),
	TEST(test_referral_glue),
	TEST(test_refused_and_errors),
	TEST(test_any),
	TEST(test_truncation),
	TEST(test_edns),
	TEST(test_keepalive_ede),
	TEST(test_cookies),
	TEST(test_dynamic_and_ecs),
	TEST(test_dname_and_dedup),
	TEST(test_child_zone),
	TEST(test_bench),
};

TEST_MAIN(tests)
