/*
 * dns_xfr_in.c - reading an AXFR answer on the secondary side (see
 * dns_xfr_in.h). Pure: no I/O, clock or globals.
 *
 * Names inside the RDATA of the types RFC 3597 §4 lets a sender compress
 * (NS, CNAME, PTR, MX, SOA; SRV too, which senders compress in practice)
 * are expanded, so what the callback gets is what a zone file would
 * hold; other RDATA is passed as sent.
 */
#include <errno.h>
#include <string.h>

#include "dns/dns_rdata.h"
#include "dns/dns_wire.h"
#include "dns/dns_xfr_in.h"
#include "dns/dns_xfr_out.h"
#include "lib/util.h"

#define DNS_XFR_IN_RDMAX (DNS_MSG_MAX + 2 * DNS_NAME_MAX)

static const char *const dns_xfr_in_err_names[DNS_XFR_IN__COUNT] = {
	[DNS_XFR_IN_OK] = "ok",
	[DNS_XFR_IN_MALFORMED] = "malformed",
	[DNS_XFR_IN_ID] = "id",
	[DNS_XFR_IN_RCODE] = "rcode",
	[DNS_XFR_IN_TSIG] = "tsig",
	[DNS_XFR_IN_NOT_SOA] = "not_soa",
	[DNS_XFR_IN_OUTSIDE] = "outside",
	[DNS_XFR_IN_IXFR] = "ixfr",
	[DNS_XFR_IN_AFTER_END] = "after_end",
	[DNS_XFR_IN_CALLER] = "caller",
};

const char *
dns_xfr_in_err_name(enum dns_xfr_in_err e)
{
	return (unsigned)e < DNS_XFR_IN__COUNT ? dns_xfr_in_err_names[e] :
	                                         "unknown";
}

static uint16_t
dns_xfr_in_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int
dns_xfr_in_fail(struct dns_xfr_in *x, enum dns_xfr_in_err e)
{
	x->err = e;
	return -EPROTO;
}

/* The query of either kind; with ixfr, our SOA in the authority. */
static int
dns_xfr_in_query_any(struct dns_xfr_in *x, const uint8_t *apex, uint16_t id,
    bool ixfr, uint32_t ours, const struct dns_tsig_key *key, uint8_t *buf,
    size_t size, uint64_t now)
{
	/* Owner: a pointer to the question's name; root, root, 5 timers. */
	static const uint8_t soa[] = { 0xc0, DNS_HDR_LEN, 0, DNS_TYPE_SOA, 0,
		DNS_CLASS_IN, 0, 0, 0, 0, 0, 22, 0, 0 };
	size_t k = dns_name_len(apex), len = DNS_HDR_LEN + k + 4;
	int rc;

	memset(x, 0, sizeof(*x));
	memcpy(x->apex, apex, k);
	dns_name_lower(x->apex);
	x->id = id;
	x->ixfr = ixfr;
	x->ours = ours;
	if (size < len + (ixfr ? sizeof(soa) + 20 : 0))
		return -EMSGSIZE;
	memset(buf, 0, DNS_HDR_LEN);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[5] = 1;
	memcpy(buf + DNS_HDR_LEN, apex, k);
	buf[DNS_HDR_LEN + k] = 0;
	buf[DNS_HDR_LEN + k + 1] = ixfr ? DNS_TYPE_IXFR : DNS_TYPE_AXFR;
	buf[DNS_HDR_LEN + k + 2] = 0;
	buf[DNS_HDR_LEN + k + 3] = DNS_CLASS_IN;
	if (ixfr) {
		buf[9] = 1; /* NSCOUNT */
		memcpy(buf + len, soa, sizeof(soa));
		len += sizeof(soa);
		memset(buf + len, 0, 20);
		buf[len] = (uint8_t)(ours >> 24);
		buf[len + 1] = (uint8_t)(ours >> 16);
		buf[len + 2] = (uint8_t)(ours >> 8);
		buf[len + 3] = (uint8_t)ours;
		len += 20;
	}
	if (key != NULL) {
		dns_tsig_ctx_client(&x->tsig, key);
		if ((rc = dns_tsig_sign(&x->tsig, buf, &len, size, now)) < 0)
			return rc;
		x->signed_q = true;
	}
	return (int)len;
}

int
dns_xfr_in_query(struct dns_xfr_in *x, const uint8_t *apex, uint16_t id,
    const struct dns_tsig_key *key, uint8_t *buf, size_t size, uint64_t now)
{
	return dns_xfr_in_query_any(x, apex, id, false, 0, key, buf, size, now);
}

int
dns_xfr_in_query_ixfr(struct dns_xfr_in *x, const uint8_t *apex, uint16_t id,
    uint32_t ours, const struct dns_tsig_key *key, uint8_t *buf, size_t size,
    uint64_t now)
{
	return dns_xfr_in_query_any(
	    x, apex, id, true, ours, key, buf, size, now);
}

/* RFC 1982 §3.2: b is ahead of a. */
static bool
dns_xfr_in_newer(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(b - a) > 0;
}

static uint32_t
dns_xfr_in_serial(const uint8_t *rd, int n)
{
	return (uint32_t)dns_xfr_in_get16(rd + n - 20) << 16 |
	    dns_xfr_in_get16(rd + n - 18);
}

/*
 * An apex SOA (not the opening one) of an IXFR answer in incremental
 * form, with serial: move the step machine on. Returns 1 for the closing
 * SOA, 0 for one to hand over (with *op), or -EPROTO.
 */
static int
dns_xfr_in_incr_soa(struct dns_xfr_in *x, uint32_t serial, enum dns_xfr_op *op)
{
	if (x->op == DNS_XFR_OP_DEL) {
		/* The step's new SOA: it must move forward. */
		if (!dns_xfr_in_newer(x->step_to, serial))
			return dns_xfr_in_fail(x, DNS_XFR_IN_IXFR);
		x->step_to = serial;
		x->op = *op = DNS_XFR_OP_ADD;
		return 0;
	}
	/* After additions: the closing SOA once the steps reached the
	 * opening serial, else the next step's old SOA, where the last
	 * step ended. */
	if (x->step_to == x->serial && serial == x->serial)
		return 1;
	if (serial != x->step_to)
		return dns_xfr_in_fail(x, DNS_XFR_IN_IXFR);
	x->steps++;
	x->op = *op = DNS_XFR_OP_DEL;
	return 0;
}

/* Append the name at *off of msg (bounded by end) to out at *n. */
static int
dns_xfr_in_name(
    const uint8_t *msg, size_t end, size_t *off, uint8_t *out, size_t *n)
{
	uint8_t name[DNS_NAME_MAX];

	if (dns_wire_name_read(msg, end, off, name) != DNS_WIRE_OK)
		return -EBADMSG;
	memcpy(out + *n, name, dns_name_len(name));
	*n += dns_name_len(name);
	return 0;
}

/*
 * RDATA of type at msg[off, off + rdlen) into out, names expanded;
 * returns its length or -EBADMSG.
 */
static int
dns_xfr_in_rdata(
    const uint8_t *msg, size_t off, size_t rdlen, uint16_t type, uint8_t *out)
{
	const struct dns_rdata_shape *sh;
	size_t end = off + rdlen, n, i;

	/* Only the types senders compress have names to expand here; the
	 * table keeps strings out of them. */
	if ((sh = dns_rdata_shape(type, DNS_RDATA_EXPAND)) == NULL) {
		memcpy(out, msg + off, rdlen);
		return (int)rdlen;
	}
	if (end - off < sh->fixed)
		return -EBADMSG;
	memcpy(out, msg + off, sh->fixed);
	n = sh->fixed;
	off += sh->fixed;
	for (i = 0; i < sh->names; i++)
		if (dns_xfr_in_name(msg, end, &off, out, &n) < 0)
			return -EBADMSG;
	if (end - off != sh->tail)
		return -EBADMSG;
	memcpy(out + n, msg + off, sh->tail);
	n += sh->tail;
	if (n > UINT16_MAX)
		return -EBADMSG;
	return (int)n;
}

/* Hand over the opening SOA an IXFR answer in AXFR form held back. */
static int
dns_xfr_in_opening(struct dns_xfr_in *x, dns_xfr_rr_fn *fn, void *arg)
{
	struct dns_xfr_rr rr = {
		.op = DNS_XFR_OP_ZONE,
		.owner = x->apex,
		.type = DNS_TYPE_SOA,
		.ttl = x->soa_ttl,
		.rdata = x->soa,
		.rdlen = x->soa_len,
	};
	int rc;

	if (fn != NULL && (rc = fn(&rr, arg)) < 0) {
		x->err = DNS_XFR_IN_CALLER;
		return rc;
	}
	x->records++;
	return 0;
}

/*
 * Where rr (a record of the answer, at or below the apex) stands: the
 * opening SOA, the second SOA that makes an IXFR answer incremental, a
 * step's SOA, the closing SOA, or data. Sets rr->op. Returns 0 to hand
 * rr over, 1 to hand nothing over (a SOA kept or the closing one), or
 * -EPROTO (or fn's error, handing over a held-back SOA).
 */
static int
dns_xfr_in_place(
    struct dns_xfr_in *x, struct dns_xfr_rr *rr, dns_xfr_rr_fn *fn, void *arg)
{
	bool soa =
	    rr->type == DNS_TYPE_SOA && dns_name_equal(rr->owner, x->apex);
	const uint8_t *rd = rr->rdata;
	int n = rr->rdlen, rc;

	rr->op = x->incremental ? x->op : DNS_XFR_OP_ZONE;
	if (x->records == 0) {
		if (!soa || (size_t)n > sizeof(x->soa))
			return dns_xfr_in_fail(x, DNS_XFR_IN_NOT_SOA);
		memcpy(x->soa, rd, (size_t)n);
		x->soa_len = (uint16_t)n;
		x->serial = dns_xfr_in_serial(rd, n);
		x->soa_ttl = rr->ttl;
		/* An IXFR answer's opening SOA waits until its form is
		 * known: incremental hands it over as the last step's
		 * addition, AXFR form as the zone's. */
		if (x->ixfr) {
			x->records++;
			return 1;
		}
		return 0;
	}
	if (soa && x->records == 1 && x->ixfr) {
		/* SOA, SOA: RFC 1995's incremental form, which starts at
		 * the serial we sent. */
		if (dns_xfr_in_serial(rd, n) != x->ours ||
		    !dns_xfr_in_newer(x->ours, x->serial))
			return dns_xfr_in_fail(x, DNS_XFR_IN_IXFR);
		x->incremental = true;
		x->step_to = x->ours;
		x->steps = 1;
		x->op = rr->op = DNS_XFR_OP_DEL;
		return 0;
	}
	if (soa && x->incremental) {
		rc = dns_xfr_in_incr_soa(x, dns_xfr_in_serial(rd, n), &rr->op);
		if (rc == 1)
			x->done = true;
		return rc;
	}
	if (soa) {
		/* SOA, SOA to an AXFR: RFC 1995's incremental form. */
		if (x->records == 1)
			return dns_xfr_in_fail(x, DNS_XFR_IN_IXFR);
		if ((size_t)n != x->soa_len ||
		    memcmp(rd + n - 20, x->soa + n - 20, 4) != 0)
			return dns_xfr_in_fail(x, DNS_XFR_IN_NOT_SOA);
		x->done = true;
		return 1;
	}
	if (x->ixfr && x->records == 1) {
		/* AXFR form: the opening SOA is the zone's. */
		x->records = 0;
		if ((rc = dns_xfr_in_opening(x, fn, arg)) < 0)
			return rc;
	}
	return 0;
}

int
dns_xfr_in_feed(struct dns_xfr_in *x, const uint8_t *msg, size_t len,
    uint64_t now, dns_xfr_rr_fn *fn, void *arg)
{
	uint8_t rd[DNS_XFR_IN_RDMAX], owner[DNS_NAME_MAX], q[DNS_NAME_MAX];
	size_t off = DNS_HDR_LEN, end = len, tsig_off, rdlen;
	unsigned qd, an, i;
	uint16_t flags, type, rclass;
	struct dns_xfr_rr rr;
	int n, rc;

	if (x->done || x->err != DNS_XFR_IN_OK)
		return -EPROTO;
	if (len < DNS_HDR_LEN)
		return dns_xfr_in_fail(x, DNS_XFR_IN_MALFORMED);
	if (dns_xfr_in_get16(msg) != x->id)
		return dns_xfr_in_fail(x, DNS_XFR_IN_ID);
	flags = dns_xfr_in_get16(msg + 2);
	if (!(flags & DNS_FLAG_QR) || DNS_OPCODE(flags) != DNS_OPCODE_QUERY)
		return dns_xfr_in_fail(x, DNS_XFR_IN_ID);
	if (x->signed_q) {
		rc = dns_tsig_verify_answer(&x->tsig, msg, len, now, &tsig_off);
		if (rc != DNS_TSIG_NOERROR) {
			/* A refusal we can read says more than "tsig". */
			if ((flags & 0xf) != 0) {
				x->rcode = flags & 0xf;
				return dns_xfr_in_fail(x, DNS_XFR_IN_RCODE);
			}
			return dns_xfr_in_fail(x, DNS_XFR_IN_TSIG);
		}
		end = tsig_off;
	}
	if ((flags & 0xf) != 0) {
		x->rcode = flags & 0xf;
		return dns_xfr_in_fail(x, DNS_XFR_IN_RCODE);
	}
	qd = dns_xfr_in_get16(msg + 4);
	an = dns_xfr_in_get16(msg + 6);
	if (qd > 1)
		return dns_xfr_in_fail(x, DNS_XFR_IN_MALFORMED);
	if (qd == 1) {
		if (dns_wire_name_read(msg, end, &off, q) != DNS_WIRE_OK ||
		    end - off < 4)
			return dns_xfr_in_fail(x, DNS_XFR_IN_MALFORMED);
		if (!dns_name_equal(q, x->apex) ||
		    dns_xfr_in_get16(msg + off) !=
		        (x->ixfr ? DNS_TYPE_IXFR : DNS_TYPE_AXFR) ||
		    dns_xfr_in_get16(msg + off + 2) != DNS_CLASS_IN)
			return dns_xfr_in_fail(x, DNS_XFR_IN_ID);
		off += 4;
	}
	x->msgs++;
	for (i = 0; i < an; i++) {
		if (dns_wire_name_read(msg, end, &off, owner) != DNS_WIRE_OK ||
		    end - off < 10)
			return dns_xfr_in_fail(x, DNS_XFR_IN_MALFORMED);
		type = dns_xfr_in_get16(msg + off);
		rclass = dns_xfr_in_get16(msg + off + 2);
		rr.ttl = (uint32_t)dns_xfr_in_get16(msg + off + 4) << 16 |
		    dns_xfr_in_get16(msg + off + 6);
		rdlen = dns_xfr_in_get16(msg + off + 8);
		off += 10;
		if (end - off < rdlen)
			return dns_xfr_in_fail(x, DNS_XFR_IN_MALFORMED);
		if (x->done)
			return dns_xfr_in_fail(x, DNS_XFR_IN_AFTER_END);
		n = dns_xfr_in_rdata(msg, off, rdlen, type, rd);
		if (n < 0)
			return dns_xfr_in_fail(x, DNS_XFR_IN_MALFORMED);
		off += rdlen;
		if (rclass != DNS_CLASS_IN || !dns_name_is_sub(owner, x->apex))
			return dns_xfr_in_fail(x, DNS_XFR_IN_OUTSIDE);
		rr.owner = owner;
		rr.type = type;
		rr.rdata = rd;
		rr.rdlen = (uint16_t)n;
		if ((rc = dns_xfr_in_place(x, &rr, fn, arg)) < 0)
			return rc;
		if (rc == 1)
			continue;
		if (fn != NULL && (rc = fn(&rr, arg)) < 0) {
			x->err = DNS_XFR_IN_CALLER;
			return rc;
		}
		x->records++;
	}
	/* Our serial or older, alone: up to date (RFC 1995 §2). */
	if (x->ixfr && !x->done && x->records == 1 && !x->incremental &&
	    !dns_xfr_in_newer(x->ours, x->serial)) {
		x->uptodate = true;
		x->done = true;
	}
	return x->done ? 1 : 0;
}
