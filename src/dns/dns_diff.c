/*
 * dns_diff.c - the difference between two versions of a zone (dns_diff.h).
 * Pure: no I/O, clock or globals.
 *
 * Each version is walked into a flat list, its records sorted by
 * (owner in canonical order, type, class, RDATA, TTL), and the two sorted
 * arrays merged: a record in the old only is deleted, in the new only
 * added. O(n log n) in the zone's size, run once per reload that bumps a
 * serial, never per transfer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_diff.h"
#include "lib/util.h"

static void
dns_rrlist_put(struct dns_rrlist *l, const void *p, size_t n)
{
	if (l->len + n > l->cap) {
		size_t cap = l->cap ? l->cap : 1024;

		while (cap < l->len + n)
			cap *= 2;
		l->b = xrealloc(l->b, cap);
		l->cap = cap;
	}
	memcpy(l->b + l->len, p, n);
	l->len += n;
}

void
dns_rrlist_add(struct dns_rrlist *l, const struct dns_rr *rr)
{
	uint8_t owner[DNS_NAME_MAX], h[10];
	size_t olen = dns_name_len(rr->owner);

	memcpy(owner, rr->owner, olen);
	dns_name_lower(owner);
	h[0] = (uint8_t)(rr->type >> 8);
	h[1] = (uint8_t)rr->type;
	h[2] = (uint8_t)(rr->rclass >> 8);
	h[3] = (uint8_t)rr->rclass;
	h[4] = (uint8_t)(rr->ttl >> 24);
	h[5] = (uint8_t)(rr->ttl >> 16);
	h[6] = (uint8_t)(rr->ttl >> 8);
	h[7] = (uint8_t)rr->ttl;
	h[8] = (uint8_t)(rr->rdlen >> 8);
	h[9] = (uint8_t)rr->rdlen;
	dns_rrlist_put(l, owner, olen);
	dns_rrlist_put(l, h, sizeof(h));
	if (rr->rdlen > 0)
		dns_rrlist_put(l, rr->rdata, rr->rdlen);
	l->n++;
}

/* Decode the record at p (trusted: written by dns_rrlist_add). */
static const uint8_t *
dns_rr_decode(const uint8_t *p, struct dns_rr *rr)
{
	rr->owner = p;
	p += dns_name_len(p);
	rr->type = (uint16_t)(p[0] << 8 | p[1]);
	rr->rclass = (uint16_t)(p[2] << 8 | p[3]);
	rr->ttl = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
	    (uint32_t)p[6] << 8 | p[7];
	rr->rdlen = (uint16_t)(p[8] << 8 | p[9]);
	rr->rdata = p + 10;
	return p + 10 + rr->rdlen;
}

int
dns_rrlist_next(const struct dns_rrlist *l, size_t *off, struct dns_rr *rr)
{
	if (*off >= l->len)
		return 0;
	*off = (size_t)(dns_rr_decode(l->b + *off, rr) - l->b);
	return 1;
}

void
dns_rrlist_free(struct dns_rrlist *l)
{
	free(l->b);
	memset(l, 0, sizeof(*l));
}

uint32_t
dns_rr_soa_serial(const struct dns_rr *soa)
{
	const uint8_t *p;

	/* The serial is the first of the 20 bytes after the two names. */
	if (soa->rdlen < 20)
		return 0;
	p = soa->rdata + soa->rdlen - 20;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A version walked: its SOA and its other records. */
struct dns_diff_side {
	struct dns_rrlist soa;
	struct dns_rrlist rrs;
};

static int
dns_diff_walk_set(const struct dns_rrset *set, void *arg)
{
	struct dns_diff_side *side = arg;
	struct dns_rr rr = {
		.owner = set->owner,
		.type = set->type,
		.rclass = set->rclass,
		.ttl = set->ttl,
	};

	for (unsigned i = 0; i < set->count; i++) {
		rr.rdlen = set->rdata[i].len;
		rr.rdata = set->rdata[i].data;
		/* The walk gives the apex SOA first; it marks versions. */
		dns_rrlist_add(side->soa.n == 0 && set->type == DNS_TYPE_SOA ?
		        &side->soa :
		        &side->rrs,
		    &rr);
	}
	return 0;
}

static int
dns_diff_rr_cmp(const struct dns_rr *a, const struct dns_rr *b)
{
	size_t n = a->rdlen < b->rdlen ? a->rdlen : b->rdlen;
	int c;

	if ((c = dns_name_cmp_canon(a->owner, b->owner)) != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->rclass != b->rclass)
		return a->rclass < b->rclass ? -1 : 1;
	/* RFC 4034 §6.3: RDATA as a left-justified octet string. */
	if (n > 0 && (c = memcmp(a->rdata, b->rdata, n)) != 0)
		return c;
	if (a->rdlen != b->rdlen)
		return a->rdlen < b->rdlen ? -1 : 1;
	if (a->ttl != b->ttl)
		return a->ttl < b->ttl ? -1 : 1;
	return 0;
}

/* The same record as far as a deletion goes: TTL aside. */
static int
dns_diff_rr_cmp_nottl(const struct dns_rr *a, const struct dns_rr *b)
{
	struct dns_rr bb = *b;

	bb.ttl = a->ttl;
	return dns_diff_rr_cmp(a, &bb);
}

static int
dns_diff_qsort_cmp(const void *pa, const void *pb)
{
	struct dns_rr a, b;

	dns_rr_decode(*(const uint8_t *const *)pa, &a);
	dns_rr_decode(*(const uint8_t *const *)pb, &b);
	return dns_diff_rr_cmp(&a, &b);
}

/* The records of l as pointers, sorted; an xmalloc'd array of l->n. */
static const uint8_t **
dns_diff_sorted(const struct dns_rrlist *l)
{
	const uint8_t **v = xcalloc(l->n + 1, sizeof(*v));
	struct dns_rr rr;
	size_t off = 0, i = 0;

	while (i < l->n) {
		v[i++] = l->b + off;
		dns_rrlist_next(l, &off, &rr);
	}
	qsort(v, l->n, sizeof(*v), dns_diff_qsort_cmp);
	return v;
}

int
dns_rrlist_apply(struct dns_rrlist *cur, const struct dns_rrlist *del,
    const struct dns_rrlist *add)
{
	const uint8_t **cv = dns_diff_sorted(cur), **dv = dns_diff_sorted(del);
	const uint8_t **av = dns_diff_sorted(add);
	struct dns_rrlist out = { 0 };
	struct dns_rr a, b;
	bool *gone = xcalloc(cur->n + 1, sizeof(*gone));
	size_t i = 0, k = 0;
	int rc = -ENOENT, c;

	/* Both sorted: one merge finds every deletion or the first miss. */
	while (k < del->n) {
		if (i == cur->n)
			goto out;
		dns_rr_decode(cv[i], &a);
		dns_rr_decode(dv[k], &b);
		c = dns_diff_rr_cmp_nottl(&a, &b);
		if (c > 0)
			goto out;
		if (c == 0) {
			gone[i] = true;
			k++;
		}
		i++;
	}
	/* What stays, less what an addition replaces, then the additions
	 * (one of each: an addition named twice goes in once). */
	for (i = 0, k = 0; i < cur->n; i++) {
		if (gone[i])
			continue;
		dns_rr_decode(cv[i], &a);
		c = 1;
		while (k < add->n) {
			dns_rr_decode(av[k], &b);
			if ((c = dns_diff_rr_cmp_nottl(&a, &b)) <= 0)
				break;
			k++;
		}
		if (k < add->n && c == 0)
			continue;
		dns_rrlist_add(&out, &a);
	}
	for (k = 0; k < add->n; k++) {
		dns_rr_decode(av[k], &b);
		if (k > 0) {
			dns_rr_decode(av[k - 1], &a);
			if (dns_diff_rr_cmp_nottl(&a, &b) == 0)
				continue;
		}
		dns_rrlist_add(&out, &b);
	}
	dns_rrlist_free(cur);
	*cur = out;
	rc = 0;
out:
	free(gone);
	free(cv);
	free(dv);
	free(av);
	return rc;
}

static void
dns_diff_side_fini(struct dns_diff_side *s)
{
	dns_rrlist_free(&s->soa);
	dns_rrlist_free(&s->rrs);
}

int
dns_diff_zones(const struct dns_db *old, unsigned ozone,
    const struct dns_db *new, unsigned nzone, struct dns_diff *d)
{
	struct dns_diff_side o = { 0 }, n = { 0 };
	const uint8_t **ov = NULL, **nv = NULL;
	struct dns_rr a, b, soa;
	size_t i = 0, j = 0, off = 0;
	int rc = -EINVAL, c;

	memset(d, 0, sizeof(*d));
	if (dns_db_zone_walk(old, ozone, dns_diff_walk_set, &o) < 0 ||
	    dns_db_zone_walk(new, nzone, dns_diff_walk_set, &n) < 0 ||
	    o.soa.n != 1 || n.soa.n != 1)
		goto out;
	dns_rrlist_next(&o.soa, &off, &soa);
	dns_rrlist_add(&d->soa_from, &soa);
	d->from = dns_rr_soa_serial(&soa);
	off = 0;
	dns_rrlist_next(&n.soa, &off, &soa);
	dns_rrlist_add(&d->soa_to, &soa);
	d->to = dns_rr_soa_serial(&soa);
	ov = dns_diff_sorted(&o.rrs);
	nv = dns_diff_sorted(&n.rrs);
	while (i < o.rrs.n || j < n.rrs.n) {
		if (i < o.rrs.n)
			dns_rr_decode(ov[i], &a);
		if (j < n.rrs.n)
			dns_rr_decode(nv[j], &b);
		if (i == o.rrs.n)
			c = 1;
		else if (j == n.rrs.n)
			c = -1;
		else
			c = dns_diff_rr_cmp(&a, &b);
		if (c < 0) {
			dns_rrlist_add(&d->del, &a);
			i++;
		} else if (c > 0) {
			dns_rrlist_add(&d->add, &b);
			j++;
		} else {
			i++;
			j++;
		}
	}
	rc = 0;
out:
	free(ov);
	free(nv);
	dns_diff_side_fini(&o);
	dns_diff_side_fini(&n);
	if (rc < 0)
		dns_diff_fini(d);
	return rc;
}

size_t
dns_diff_size(const struct dns_diff *d)
{
	return d->soa_from.len + d->soa_to.len + d->del.len + d->add.len;
}

void
dns_diff_fini(struct dns_diff *d)
{
	dns_rrlist_free(&d->soa_from);
	dns_rrlist_free(&d->soa_to);
	dns_rrlist_free(&d->del);
	dns_rrlist_free(&d->add);
	d->from = d->to = 0;
}
