/*
 * dns_journal.c - the IXFR journal of one zone and its file form
 * (dns_journal.h). Pure: no I/O, clock or globals.
 *
 * Decode reads bytes from disk that a crash, a full disk or an operator
 * may have damaged: the hash is checked first, then every length against
 * what is left, every name and every SOA, so a journal that passes is one
 * this code wrote for this zone. What the transfer writer later parses
 * again (the names inside NS, CNAME, PTR, MX and SOA RDATA) is checked
 * here the way dns_wire.c will read it.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_journal.h"
#include "dns/dns_rdata.h"
#include "lib/util.h"

/* RR types that never belong in a zone's data (RFC 6895 §3.1: meta and
 * query types). */
#define DNS_JOURNAL_TYPE_OPT  41
#define DNS_JOURNAL_TYPE_TKEY 249 /* TKEY, TSIG, IXFR, AXFR, MAILB, */
#define DNS_JOURNAL_TYPE_ANY  255 /* MAILA and ANY */

struct dns_journal *
dns_journal_new(const uint8_t *apex, unsigned max_versions, uint64_t max_bytes)
{
	struct dns_journal *j = xcalloc(1, sizeof(*j));

	memcpy(j->apex, apex, dns_name_len(apex));
	dns_name_lower(j->apex);
	j->max_versions = max_versions;
	j->max_bytes = max_bytes;
	return j;
}

void
dns_journal_clear(struct dns_journal *j)
{
	for (size_t i = 0; i < j->n; i++)
		dns_diff_fini(&j->v[i]);
	j->n = 0;
	j->bytes = 0;
}

void
dns_journal_free(struct dns_journal *j)
{
	if (j == NULL)
		return;
	dns_journal_clear(j);
	free(j->v);
	free(j);
}

/* Drop the oldest steps until the bounds hold. */
static void
dns_journal_trim(struct dns_journal *j)
{
	size_t drop = 0, bytes = j->bytes;

	while (drop < j->n &&
	    (j->n - drop > j->max_versions || bytes > j->max_bytes)) {
		bytes -= dns_diff_size(&j->v[drop]);
		dns_diff_fini(&j->v[drop]);
		drop++;
	}
	if (drop == 0)
		return;
	memmove(j->v, j->v + drop, (j->n - drop) * sizeof(*j->v));
	j->n -= drop;
	j->bytes = bytes;
}

void
dns_journal_set_bounds(
    struct dns_journal *j, unsigned max_versions, uint64_t max_bytes)
{
	j->max_versions = max_versions;
	j->max_bytes = max_bytes;
	dns_journal_trim(j);
}

/* RFC 1982 §3.2: b is ahead of a. */
static bool
dns_journal_newer(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(b - a) > 0;
}

int
dns_journal_append(struct dns_journal *j, struct dns_diff *d)
{
	if (!dns_journal_newer(d->from, d->to)) {
		dns_diff_fini(d);
		return -EINVAL;
	}
	if (j->n > 0 && j->v[j->n - 1].to != d->from)
		dns_journal_clear(j);
	if (j->n == j->cap) {
		j->cap = j->cap ? 2 * j->cap : 8;
		j->v = xrealloc(j->v, j->cap * sizeof(*j->v));
	}
	j->v[j->n++] = *d;
	j->bytes += dns_diff_size(d);
	memset(d, 0, sizeof(*d));
	dns_journal_trim(j);
	return 0;
}

bool
dns_journal_ends_at(const struct dns_journal *j, uint32_t serial)
{
	return j->n > 0 && j->v[j->n - 1].to == serial;
}

int
dns_journal_find(const struct dns_journal *j, uint32_t serial, size_t *first)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->v[i].from == serial) {
			*first = i;
			return 0;
		}
	return -ENOENT;
}

/* ---- encode ---- */

static void
dns_journal_put32(struct buf *out, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
		(uint8_t)(v >> 8), (uint8_t)v };

	buf_append(out, b, sizeof(b));
}

void
dns_journal_encode(const struct dns_journal *j, struct buf *out)
{
	uint8_t hash[DNS_JOURNAL_HASH_LEN];
	size_t start = out->len;

	buf_append(out, DNS_JOURNAL_MAGIC, DNS_JOURNAL_MAGIC_LEN);
	buf_append(out, j->apex, dns_name_len(j->apex));
	dns_journal_put32(out, (uint32_t)j->n);
	for (size_t i = 0; i < j->n; i++) {
		const struct dns_diff *d = &j->v[i];

		dns_journal_put32(out, d->from);
		dns_journal_put32(out, d->to);
		/* The lists are already in the file's rr form. */
		buf_append(out, d->soa_from.b, d->soa_from.len);
		buf_append(out, d->soa_to.b, d->soa_to.len);
		dns_journal_put32(out, (uint32_t)d->del.n);
		dns_journal_put32(out, (uint32_t)d->add.n);
		if (d->del.len > 0)
			buf_append(out, d->del.b, d->del.len);
		if (d->add.len > 0)
			buf_append(out, d->add.b, d->add.len);
	}
	crypto_generichash(hash, sizeof(hash),
	    (const uint8_t *)out->data + start, out->len - start, NULL, 0);
	buf_append(out, hash, sizeof(hash));
}

/* ---- decode ---- */

struct dns_journal_cur {
	const uint8_t *p; /* borrowed: the file's bytes */
	size_t len, off;
};

static int
dns_journal_get32(struct dns_journal_cur *c, uint32_t *v)
{
	const uint8_t *p = c->p + c->off;

	if (c->len - c->off < 4)
		return -EINVAL;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	    p[3];
	c->off += 4;
	return 0;
}

/* The RDATA of types whose names dns_wire.c compresses must hold them
 * whole, as dns_resp_rdata will read them (RFC 3597 §4). */
static int
dns_journal_rdata_check(uint16_t type, const uint8_t *p, size_t n)
{
	const struct dns_rdata_shape *sh;
	size_t at[DNS_RDATA_NAMES_MAX];

	sh = dns_rdata_shape(type, DNS_RDATA_COMPRESS);
	return sh == NULL || dns_rdata_names(sh, p, n, at) >= 0 ? 0 : -EINVAL;
}

/* One rr of the file into list l, checked; soa: it must be the apex
 * SOA, else must not be one. */
static int
dns_journal_get_rr(struct dns_journal_cur *c, const uint8_t *apex, bool soa,
    struct dns_rrlist *l)
{
	const uint8_t *p;
	struct dns_rr rr;
	int olen;

	olen = dns_name_check(c->p + c->off, c->len - c->off);
	if (olen < 0)
		return -EINVAL;
	rr.owner = c->p + c->off;
	c->off += (size_t)olen;
	if (c->len - c->off < 10)
		return -EINVAL;
	p = c->p + c->off;
	rr.type = (uint16_t)(p[0] << 8 | p[1]);
	rr.rclass = (uint16_t)(p[2] << 8 | p[3]);
	rr.ttl = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
	    (uint32_t)p[6] << 8 | p[7];
	rr.rdlen = (uint16_t)(p[8] << 8 | p[9]);
	c->off += 10;
	if (c->len - c->off < rr.rdlen)
		return -EINVAL;
	rr.rdata = c->p + c->off;
	c->off += rr.rdlen;
	if (!dns_name_is_sub(rr.owner, apex) || rr.rclass != DNS_CLASS_IN ||
	    rr.type == 0 || rr.type == DNS_JOURNAL_TYPE_OPT ||
	    (rr.type >= DNS_JOURNAL_TYPE_TKEY &&
	        rr.type <= DNS_JOURNAL_TYPE_ANY))
		return -EINVAL;
	if (soa != (rr.type == DNS_TYPE_SOA) ||
	    (soa && !dns_name_equal(rr.owner, apex)))
		return -EINVAL;
	if (dns_journal_rdata_check(rr.type, rr.rdata, rr.rdlen) < 0)
		return -EINVAL;
	dns_rrlist_add(l, &rr);
	return 0;
}

/* The SOA just read into l has serial want. */
static int
dns_journal_soa_is(const struct dns_rrlist *l, uint32_t want)
{
	struct dns_rr rr;
	size_t off = 0;

	if (l->n != 1 || !dns_rrlist_next(l, &off, &rr))
		return -EINVAL;
	return dns_rr_soa_serial(&rr) == want ? 0 : -EINVAL;
}

static int
dns_journal_get_step(
    struct dns_journal_cur *c, const uint8_t *apex, struct dns_diff *d)
{
	uint32_t ndel, nadd, i;

	if (dns_journal_get32(c, &d->from) < 0 ||
	    dns_journal_get32(c, &d->to) < 0 ||
	    !dns_journal_newer(d->from, d->to) ||
	    dns_journal_get_rr(c, apex, true, &d->soa_from) < 0 ||
	    dns_journal_get_rr(c, apex, true, &d->soa_to) < 0 ||
	    dns_journal_soa_is(&d->soa_from, d->from) < 0 ||
	    dns_journal_soa_is(&d->soa_to, d->to) < 0 ||
	    dns_journal_get32(c, &ndel) < 0 || dns_journal_get32(c, &nadd) < 0)
		return -EINVAL;
	/* Each rr takes at least 11 bytes: the counts cannot promise more
	 * than what is left, so a lie fails here, not after a long loop. */
	if ((uint64_t)ndel + nadd > (c->len - c->off) / 11)
		return -EINVAL;
	for (i = 0; i < ndel; i++)
		if (dns_journal_get_rr(c, apex, false, &d->del) < 0)
			return -EINVAL;
	for (i = 0; i < nadd; i++)
		if (dns_journal_get_rr(c, apex, false, &d->add) < 0)
			return -EINVAL;
	return 0;
}

int
dns_journal_decode(struct dns_journal *j, const uint8_t *buf, size_t len)
{
	uint8_t hash[DNS_JOURNAL_HASH_LEN];
	struct dns_journal_cur c = { .p = buf };
	struct dns_diff d;
	uint32_t n, i;
	int alen;

	dns_journal_clear(j);
	if (len < DNS_JOURNAL_MAGIC_LEN + 1 + 4 + DNS_JOURNAL_HASH_LEN)
		return -EINVAL;
	c.len = len - DNS_JOURNAL_HASH_LEN;
	crypto_generichash(hash, sizeof(hash), buf, c.len, NULL, 0);
	if (sodium_memcmp(hash, buf + c.len, sizeof(hash)) != 0 ||
	    memcmp(buf, DNS_JOURNAL_MAGIC, DNS_JOURNAL_MAGIC_LEN) != 0)
		return -EINVAL;
	c.off = DNS_JOURNAL_MAGIC_LEN;
	alen = dns_name_check(buf + c.off, c.len - c.off);
	if (alen < 0 || !dns_name_equal(buf + c.off, j->apex))
		return -EINVAL;
	c.off += (size_t)alen;
	if (dns_journal_get32(&c, &n) < 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		memset(&d, 0, sizeof(d));
		if (dns_journal_get_step(&c, j->apex, &d) < 0 ||
		    (j->n > 0 && j->v[j->n - 1].to != d.from)) {
			dns_diff_fini(&d);
			goto bad;
		}
		/* Bounds are applied once the whole file passed. */
		if (j->n == j->cap) {
			j->cap = j->cap ? 2 * j->cap : 8;
			j->v = xrealloc(j->v, j->cap * sizeof(*j->v));
		}
		j->v[j->n++] = d;
		j->bytes += dns_diff_size(&d);
	}
	if (c.off != c.len)
		goto bad;
	dns_journal_trim(j);
	return 0;
bad:
	dns_journal_clear(j);
	return -EINVAL;
}
