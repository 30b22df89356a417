/*
 * dns_xfr_out.c - AXFR and IXFR answers (RFC 5936, RFC 1995) as a stream
 * of messages, with the access decision in front. Pure: no I/O, clock or
 * globals.
 *
 * The snapshot is a flat byte string the stream owns, one RRset after
 * another: owner (wire), type, class, TTL, count, then count times RDATA
 * length and RDATA; the SOA is the first set. Messages are packed up to
 * DNS_XFR_MSG_TARGET bytes at RRset boundaries; only the first carries
 * the question (RFC 5936 §2.2.1 lets the rest omit it).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_wire.h"
#include "dns/dns_xfr_out.h"
#include "lib/util.h"

#define DNS_XFR_TSIG_ROOM 512 /* a TSIG record with any key name */

static const char *const dns_xfr_result_names[DNS_XFR_RESULT__COUNT] = {
	[DNS_XFR_AXFR] = "axfr",
	[DNS_XFR_IXFR_FULL] = "ixfr_full",
	[DNS_XFR_IXFR_UPTODATE] = "ixfr_uptodate",
	[DNS_XFR_IXFR_INCREMENTAL] = "ixfr_incremental",
	[DNS_XFR_FORMERR] = "formerr",
	[DNS_XFR_NOTAUTH] = "notauth",
	[DNS_XFR_REFUSED] = "refused",
	[DNS_XFR_BADTSIG] = "badtsig",
};

struct dns_xfr_out {
	struct dns_query q;
	bool signed_req; /* answers carry a TSIG */
	struct dns_tsig_ctx tsig;
	struct dns_tsig_key key; /* a copy of the request's key, which
	                            tsig.key points to: the env's may go */
	int rcode;               /* >= 0: a refusal of this RCODE, no records */
	bool silent;             /* nothing may be sent */
	uint8_t *snap;           /* owned: the RRsets, see above */
	size_t snap_len, snap_cap;
	size_t soa_len;       /* bytes of the first set, the SOA */
	size_t cursor;        /* next set to send */
	bool soa_last;        /* the closing SOA is still to send */
	unsigned max_rr;      /* the largest set's count */
	struct dns_rdata *rd; /* owned: max_rr entries */
	bool done;
	unsigned msgs;
	unsigned long records;
};

const char *
dns_xfr_result_name(enum dns_xfr_result r)
{
	return (unsigned)r < DNS_XFR_RESULT__COUNT ? dns_xfr_result_names[r] :
	                                             "unknown";
}

int
dns_xfr_prefix_parse(struct dns_xfr_prefix *p, const char *text)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long bits;
	unsigned max, i;

	memset(p, 0, sizeof(*p));
	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else
		return -EINVAL;
	bits = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || bits > max)
			return -EINVAL;
	}
	p->len = (uint8_t)bits;
	for (i = p->len; i < max; i++)
		if (p->addr[i / 8] & (0x80 >> (i % 8)))
			return -EINVAL;
	return 0;
}

bool
dns_xfr_prefix_match(const struct dns_xfr_prefix *p, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };
	const uint8_t *a;
	unsigned i;
	int fam;

	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&(
		    (const struct sockaddr_in *)(const void *)sa)
		        ->sin_addr;
		fam = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)sa)
		        ->sin6_addr.s6_addr;
		fam = AF_INET6;
		if (p->family == AF_INET && memcmp(a, mapped, 12) == 0) {
			a += 12;
			fam = AF_INET;
		}
	} else
		return false;
	if (fam != p->family)
		return false;
	for (i = 0; i < p->len; i++)
		if ((a[i / 8] ^ p->addr[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

static void
dns_xfr_put(struct dns_xfr_out *x, const void *p, size_t n)
{
	if (x->snap_len + n > x->snap_cap) {
		size_t cap = x->snap_cap ? x->snap_cap : 4096;

		while (cap < x->snap_len + n)
			cap *= 2;
		x->snap = xrealloc(x->snap, cap);
		x->snap_cap = cap;
	}
	memcpy(x->snap + x->snap_len, p, n);
	x->snap_len += n;
}

static void
dns_xfr_put16(struct dns_xfr_out *x, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	dns_xfr_put(x, b, 2);
}

static int
dns_xfr_snap_set(const struct dns_rrset *set, void *arg)
{
	struct dns_xfr_out *x = arg;
	unsigned i;

	dns_xfr_put(x, set->owner, dns_name_len(set->owner));
	dns_xfr_put16(x, set->type);
	dns_xfr_put16(x, set->rclass);
	dns_xfr_put16(x, (uint16_t)(set->ttl >> 16));
	dns_xfr_put16(x, (uint16_t)set->ttl);
	dns_xfr_put16(x, (uint16_t)set->count);
	for (i = 0; i < set->count; i++) {
		dns_xfr_put16(x, set->rdata[i].len);
		dns_xfr_put(x, set->rdata[i].data, set->rdata[i].len);
	}
	if (set->count > x->max_rr)
		x->max_rr = set->count;
	if (x->soa_len == 0)
		x->soa_len = x->snap_len;
	return 0;
}

/* One record of a journal list as a set of its own in the snapshot
 * would repeat the owner for each; records of one owner, type and TTL
 * (adjacent: the lists are sorted) go as one set. */
static void
dns_xfr_snap_list(struct dns_xfr_out *x, const struct dns_rrlist *l)
{
	struct dns_rdata *rd = NULL;
	struct dns_rrset set;
	struct dns_rr rr, first;
	size_t off = 0, cap = 0, n = 0;

	while (dns_rrlist_next(l, &off, &rr)) {
		if (n > 0 &&
		    (rr.type != first.type || rr.ttl != first.ttl ||
		        rr.rclass != first.rclass ||
		        !dns_name_equal(rr.owner, first.owner) ||
		        n == UINT16_MAX)) {
			set = (struct dns_rrset){ first.owner, first.type,
				first.rclass, first.ttl, (unsigned)n, rd };
			dns_xfr_snap_set(&set, x);
			n = 0;
		}
		if (n == 0)
			first = rr;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			rd = xrealloc(rd, cap * sizeof(*rd));
		}
		rd[n].data = rr.rdata;
		rd[n].len = rr.rdlen;
		n++;
	}
	if (n > 0) {
		set = (struct dns_rrset){ first.owner, first.type, first.rclass,
			first.ttl, (unsigned)n, rd };
		dns_xfr_snap_set(&set, x);
	}
	free(rd);
}

/*
 * The incremental answer (RFC 1995 §4) from the journal's step first
 * on: our SOA (the last step's new one), then per step the old SOA, its
 * deletions, the new SOA, its additions; the closing SOA is the first
 * set again.
 */
static void
dns_xfr_snap_ixfr(
    struct dns_xfr_out *x, const struct dns_journal *j, size_t first)
{
	dns_xfr_snap_list(x, &j->v[j->n - 1].soa_to);
	for (size_t i = first; i < j->n; i++) {
		dns_xfr_snap_list(x, &j->v[i].soa_from);
		dns_xfr_snap_list(x, &j->v[i].del);
		dns_xfr_snap_list(x, &j->v[i].soa_to);
		dns_xfr_snap_list(x, &j->v[i].add);
	}
}

static uint16_t
dns_xfr_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Decode the set at *off of the snapshot into set, using x->rd. */
static void
dns_xfr_snap_get(struct dns_xfr_out *x, size_t *off, struct dns_rrset *set)
{
	const uint8_t *p = x->snap + *off;
	unsigned i;

	set->owner = p;
	p += dns_name_len(p);
	set->type = dns_xfr_get16(p);
	set->rclass = dns_xfr_get16(p + 2);
	set->ttl = (uint32_t)dns_xfr_get16(p + 4) << 16 | dns_xfr_get16(p + 6);
	set->count = dns_xfr_get16(p + 8);
	p += 10;
	for (i = 0; i < set->count; i++) {
		x->rd[i].len = dns_xfr_get16(p);
		x->rd[i].data = p + 2;
		p += 2 + x->rd[i].len;
	}
	set->rdata = x->rd;
	*off = (size_t)(p - x->snap);
}

/*
 * The serial of the SOA in the authority section of an IXFR request
 * (RFC 1995 §3). 0 or -EBADMSG.
 */
static int
dns_xfr_ixfr_serial(const uint8_t *msg, size_t len, uint32_t *serial)
{
	uint8_t name[DNS_NAME_MAX];
	size_t off = DNS_HDR_LEN, rdlen, end;

	if (dns_xfr_get16(msg + 6) != 0 || dns_xfr_get16(msg + 8) < 1)
		return -EBADMSG;
	if (dns_wire_name_read(msg, len, &off, name) != DNS_WIRE_OK ||
	    len - off < 4)
		return -EBADMSG;
	off += 4;
	if (dns_wire_name_read(msg, len, &off, name) != DNS_WIRE_OK ||
	    len - off < 10 || dns_xfr_get16(msg + off) != DNS_TYPE_SOA)
		return -EBADMSG;
	rdlen = dns_xfr_get16(msg + off + 8);
	off += 10;
	if (len - off < rdlen)
		return -EBADMSG;
	end = off + rdlen;
	if (dns_wire_name_read(msg, end, &off, name) != DNS_WIRE_OK ||
	    dns_wire_name_read(msg, end, &off, name) != DNS_WIRE_OK ||
	    end - off < 20)
		return -EBADMSG;
	*serial = (uint32_t)dns_xfr_get16(msg + off) << 16 |
	    dns_xfr_get16(msg + off + 2);
	return 0;
}

static const struct dns_xfr_zone *
dns_xfr_zone_find(const struct dns_xfr_env *env, const uint8_t *apex)
{
	size_t i;

	for (i = 0; i < env->nzones; i++)
		if (dns_name_equal(env->zones[i].apex, apex))
			return &env->zones[i];
	return NULL;
}

static bool
dns_xfr_allowed(const struct dns_xfr_env *env, const struct dns_xfr_zone *z,
    const struct sockaddr *client, const struct dns_xfr_out *x)
{
	size_t i;

	if ((z->nallow == 0 && z->key == NULL) || (z->tls_only && !env->tls))
		return false;
	if (z->nallow > 0) {
		for (i = 0; i < z->nallow; i++)
			if (dns_xfr_prefix_match(&z->allow[i], client))
				break;
		if (i == z->nallow)
			return false;
	}
	if (z->key != NULL &&
	    (!x->signed_req || x->tsig.key == NULL ||
	        !dns_name_equal(x->tsig.key->name, z->key->name)))
		return false;
	return true;
}

static struct dns_xfr_out *
dns_xfr_refuse(struct dns_xfr_out *x, int rcode, enum dns_xfr_result why,
    enum dns_xfr_result *res)
{
	x->rcode = rcode;
	*res = why;
	return x;
}

struct dns_xfr_out *
dns_xfr_out_start(const struct dns_xfr_env *env, const uint8_t *msg, size_t len,
    const struct sockaddr *client, uint64_t now, enum dns_xfr_result *res)
{
	struct dns_xfr_out *x = xcalloc(1, sizeof(*x));
	const struct dns_xfr_zone *z;
	enum dns_wire_err werr;
	uint32_t serial, ours;
	size_t first;
	int zone, rc;

	x->rcode = -1;
	werr = dns_wire_parse_query(msg, len, &x->q);
	if (werr != DNS_WIRE_OK) {
		rc = dns_wire_err_rcode(werr);
		x->silent = rc == DNS_RCODE_DROP;
		/* An RCODE over 15 needs an OPT we do not write here. */
		return dns_xfr_refuse(
		    x, rc > 15 ? DNS_RCODE_FORMERR : rc, DNS_XFR_FORMERR, res);
	}
	if (x->q.tsig) {
		rc = dns_tsig_verify(
		    env->keys, env->nkeys, msg, len, now, &x->tsig);
		if (rc < 0)
			return dns_xfr_refuse(
			    x, DNS_RCODE_FORMERR, DNS_XFR_FORMERR, res);
		x->signed_req = true;
		if (x->tsig.key != NULL) {
			x->key = *x->tsig.key;
			x->tsig.key = &x->key;
		}
		if (rc != DNS_TSIG_NOERROR)
			return dns_xfr_refuse(
			    x, DNS_RCODE_NOTAUTH, DNS_XFR_BADTSIG, res);
	}
	if ((x->q.qtype != DNS_TYPE_AXFR && x->q.qtype != DNS_TYPE_IXFR) ||
	    x->q.qclass != DNS_CLASS_IN)
		return dns_xfr_refuse(
		    x, DNS_RCODE_FORMERR, DNS_XFR_FORMERR, res);
	zone = dns_db_zone_find(env->db, x->q.qname);
	z = dns_xfr_zone_find(env, x->q.qname);
	if (zone < 0 || z == NULL)
		return dns_xfr_refuse(
		    x, DNS_RCODE_NOTAUTH, DNS_XFR_NOTAUTH, res);
	if (!dns_xfr_allowed(env, z, client, x))
		return dns_xfr_refuse(
		    x, DNS_RCODE_REFUSED, DNS_XFR_REFUSED, res);
	ours = dns_db_zone_serial(env->db, (unsigned)zone);
	*res = DNS_XFR_AXFR;
	if (x->q.qtype == DNS_TYPE_IXFR) {
		if (dns_xfr_ixfr_serial(msg, len, &serial) < 0)
			return dns_xfr_refuse(
			    x, DNS_RCODE_FORMERR, DNS_XFR_FORMERR, res);
		/* RFC 1982 arithmetic: the client is older iff ours is
		 * ahead of its serial. */
		*res = (int32_t)(ours - serial) > 0 ? DNS_XFR_IXFR_FULL :
		                                      DNS_XFR_IXFR_UPTODATE;
		/* The journal serves only if it leads to what we serve. */
		if (*res == DNS_XFR_IXFR_FULL && z->journal != NULL &&
		    dns_journal_ends_at(z->journal, ours) &&
		    dns_journal_find(z->journal, serial, &first) == 0) {
			*res = DNS_XFR_IXFR_INCREMENTAL;
			dns_xfr_snap_ixfr(x, z->journal, first);
			x->soa_last = true;
			x->rd =
			    xcalloc(x->max_rr ? x->max_rr : 1, sizeof(*x->rd));
			return x;
		}
	}
	rc = dns_db_zone_walk(env->db, (unsigned)zone, dns_xfr_snap_set, x);
	if (rc < 0 || x->soa_len == 0)
		return dns_xfr_refuse(
		    x, DNS_RCODE_SERVFAIL, DNS_XFR_NOTAUTH, res);
	if (*res == DNS_XFR_IXFR_UPTODATE)
		x->snap_len = x->soa_len;
	else
		x->soa_last = true;
	x->rd = xcalloc(x->max_rr ? x->max_rr : 1, sizeof(*x->rd));
	return x;
}

/* Start the message at buf with limit; the question in the first only. */
static int
dns_xfr_msg_init(struct dns_xfr_out *x, struct dns_resp *r, uint8_t *buf,
    size_t size, size_t limit)
{
	struct dns_query q = x->q;
	int rc;

	q.has_question = x->msgs == 0;
	if (x->signed_req)
		limit -= DNS_XFR_TSIG_ROOM;
	rc = dns_resp_init(r, buf, size, limit, &q, NULL);
	if (rc < 0)
		return rc;
	dns_resp_set_flags(r, DNS_FLAG_AA);
	return 0;
}

/* Fill r with sets from the cursor on; the count added. */
static int
dns_xfr_fill(struct dns_xfr_out *x, struct dns_resp *r, unsigned *added)
{
	struct dns_rrset set;
	size_t off;
	int rc;

	*added = 0;
	while (x->cursor < x->snap_len || x->soa_last) {
		bool closing = x->cursor >= x->snap_len;

		off = closing ? 0 : x->cursor;
		dns_xfr_snap_get(x, &off, &set);
		rc = dns_resp_add(r, DNS_SEC_ANSWER, &set, false);
		if (rc == -EMSGSIZE)
			return *added > 0 ? 0 : -EMSGSIZE;
		if (rc < 0)
			return rc;
		(*added)++;
		x->records += set.count;
		if (closing)
			x->soa_last = false;
		else
			x->cursor = off;
	}
	return 0;
}

int
dns_xfr_out_next(struct dns_xfr_out *x, uint8_t *buf, size_t size, uint64_t now)
{
	struct dns_resp r;
	size_t n, saved_cursor = x->cursor;
	unsigned long saved_records = x->records;
	unsigned added;
	int rc;

	if (x->done || x->silent)
		return 0;
	if (size < DNS_MSG_MAX)
		return -EINVAL;
	if ((rc = dns_xfr_msg_init(x, &r, buf, size, DNS_XFR_MSG_TARGET)) < 0)
		return rc;
	if (x->rcode >= 0) {
		dns_resp_set_rcode(&r, x->rcode);
		x->done = true;
	} else {
		rc = dns_xfr_fill(x, &r, &added);
		if (rc == -EMSGSIZE) {
			/* One set over the target: give it a message of
			 * the largest size. */
			x->cursor = saved_cursor;
			x->records = saved_records;
			rc = dns_xfr_msg_init(x, &r, buf, size, DNS_MSG_MAX);
			if (rc < 0)
				return rc;
			rc = dns_xfr_fill(x, &r, &added);
		}
		if (rc < 0)
			return rc;
		if (x->cursor >= x->snap_len && !x->soa_last)
			x->done = true;
	}
	n = dns_resp_finish(&r);
	if (x->signed_req &&
	    (rc = dns_tsig_sign(&x->tsig, buf, &n, size, now)) < 0)
		return rc;
	x->msgs++;
	return (int)n;
}

void
dns_xfr_out_counts(
    const struct dns_xfr_out *x, unsigned *msgs, unsigned long *records)
{
	*msgs = x->msgs;
	*records = x->records;
}

void
dns_xfr_out_free(struct dns_xfr_out *x)
{
	if (x == NULL)
		return;
	free(x->snap);
	free(x->rd);
	explicit_bzero(&x->key, sizeof(x->key));
	free(x);
}
