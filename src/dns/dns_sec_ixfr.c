/*
 * dns_sec_ixfr.c - an incremental transfer applied to a secondary's copy
 * (dns_sec_ixfr.h). Steps are applied one at a time, each as soon as the
 * next one begins (its old SOA is the first deletion), so a deletion of
 * a record an earlier step added finds it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_sec_ixfr.h"
#include "dns/dns_wire.h"

void
dns_sec_ixfr_init(struct dns_sec_ixfr *ix, size_t max_bytes)
{
	memset(ix, 0, sizeof(*ix));
	ix->max_bytes = max_bytes;
}

void
dns_sec_ixfr_fini(struct dns_sec_ixfr *ix)
{
	dns_rrlist_free(&ix->cur);
	dns_rrlist_free(&ix->del);
	dns_rrlist_free(&ix->add);
	ix->loaded = false;
}

static int
dns_sec_ixfr_load_rr(const struct dns_zone_rr *zr, void *arg)
{
	struct dns_sec_ixfr *ix = arg;
	struct dns_rr rr = { zr->owner, zr->type, zr->rclass, zr->ttl,
		zr->rdlen, zr->rdata };

	dns_rrlist_add(&ix->cur, &rr);
	return 0;
}

static int
dns_sec_ixfr_load(struct dns_sec_ixfr *ix, const char *dir, const uint8_t *apex)
{
	struct dns_sec_soa soa;
	time_t mtime;
	int rc;

	rc = dns_sec_copy_read(
	    dir, apex, dns_sec_ixfr_load_rr, ix, &soa, &mtime);
	if (rc < 0) {
		dns_rrlist_free(&ix->cur);
		return rc;
	}
	ix->loaded = true;
	return 0;
}

/* Apply the step read so far, if any. */
static int
dns_sec_ixfr_step(struct dns_sec_ixfr *ix)
{
	int rc;

	if (ix->del.n == 0 && ix->add.n == 0)
		return 0;
	rc = dns_rrlist_apply(&ix->cur, &ix->del, &ix->add);
	dns_rrlist_free(&ix->del);
	dns_rrlist_free(&ix->add);
	return rc;
}

int
dns_sec_ixfr_rr(struct dns_sec_ixfr *ix, const char *dir, const uint8_t *apex,
    const struct dns_xfr_rr *xr)
{
	struct dns_rr rr = { xr->owner, xr->type, DNS_CLASS_IN, xr->ttl,
		xr->rdlen, xr->rdata };
	int rc;

	if (!ix->loaded && (rc = dns_sec_ixfr_load(ix, dir, apex)) < 0)
		return rc;
	/* A step's old SOA opens it: the previous one is whole. */
	if (xr->op == DNS_XFR_OP_DEL && xr->type == DNS_TYPE_SOA &&
	    dns_name_equal(xr->owner, apex) && (rc = dns_sec_ixfr_step(ix)) < 0)
		return rc;
	if (ix->cur.len + ix->del.len + ix->add.len > ix->max_bytes)
		return -EFBIG;
	dns_rrlist_add(xr->op == DNS_XFR_OP_DEL ? &ix->del : &ix->add, &rr);
	return 0;
}

int
dns_sec_ixfr_finish(struct dns_sec_ixfr *ix, const uint8_t *apex,
    uint32_t serial, struct dns_sec_recs *out)
{
	struct dns_rr rr;
	size_t off = 0, soas = 0;
	int rc;

	if (!ix->loaded)
		return -EINVAL;
	if ((rc = dns_sec_ixfr_step(ix)) < 0)
		return rc;
	/* The SOA first, as a zone file has it; then the rest. */
	while (dns_rrlist_next(&ix->cur, &off, &rr)) {
		if (rr.type != DNS_TYPE_SOA)
			continue;
		if (!dns_name_equal(rr.owner, apex) ||
		    dns_rr_soa_serial(&rr) != serial)
			return -EINVAL;
		dns_sec_recs_add(
		    out, rr.owner, rr.type, rr.ttl, rr.rdata, rr.rdlen);
		soas++;
	}
	if (soas != 1)
		return -EINVAL;
	off = 0;
	while (dns_rrlist_next(&ix->cur, &off, &rr))
		if (rr.type != DNS_TYPE_SOA)
			dns_sec_recs_add(
			    out, rr.owner, rr.type, rr.ttl, rr.rdata, rr.rdlen);
	return 0;
}
