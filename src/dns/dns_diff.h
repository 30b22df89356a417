/*
 * dns_diff.h - the difference between two versions of one zone, as IXFR
 * (RFC 1995 §4) carries it: the old and the new SOA, the records the new
 * version no longer has and the records it gained. Pure: no I/O, clock or
 * globals.
 *
 * Records are kept flat (struct dns_rrlist): owner (wire, lower case),
 * type, class, TTL, RDATA length, RDATA, one after another, so a diff is
 * one allocation per list, cheap to copy into a transfer or a file. A
 * record is the whole tuple: a TTL change is the old record deleted and
 * the new one added, which is what a secondary needs to end up with the
 * new TTL. The SOA is never in del or add: it is the version marker.
 */
#ifndef HAVEN_DNS_DIFF_H
#define HAVEN_DNS_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "dns/dns_db.h"

/* Records, flat: see above. */
struct dns_rrlist {
	uint8_t *b; /* owned */
	size_t len, cap;
	size_t n; /* records */
};

/* One record of a list, pointing into it. */
struct dns_rr {
	const uint8_t *owner; /* borrowed: the list's */
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata; /* borrowed: the list's */
};

/* Append one record (copied; owner folded to lower case). */
void dns_rrlist_add(struct dns_rrlist *l, const struct dns_rr *rr);
/* Read the record at *off of l (a list built by dns_rrlist_add, so
 * trusted) and move *off past it. Returns 1, or 0 at the end. */
int dns_rrlist_next(const struct dns_rrlist *l, size_t *off, struct dns_rr *rr);
void dns_rrlist_free(struct dns_rrlist *l);

/* The SOA serial of a SOA record's RDATA, 0 if it is too short. */
uint32_t dns_rr_soa_serial(const struct dns_rr *soa);

struct dns_diff {
	uint32_t from, to;          /* the two versions' serials */
	struct dns_rrlist soa_from; /* one record: the old SOA */
	struct dns_rrlist soa_to;   /* one record: the new SOA */
	struct dns_rrlist del, add; /* canonical order, SOA excluded */
};

/*
 * The difference from zone ozone of old to zone nzone of new (both
 * finished, same apex) into *d (zeroed here). Returns 0, or -EINVAL when
 * either zone has no SOA to walk (pending).
 */
int dns_diff_zones(const struct dns_db *old, unsigned ozone,
    const struct dns_db *new, unsigned nzone, struct dns_diff *d);

/*
 * Apply one step of an incremental transfer to cur, a zone's records
 * (SOA included): every record of del must be in cur (owner, type, class
 * and RDATA equal; the TTL aside, since RFC 1995 names the record to
 * delete, not its TTL) and leaves it; then every record of add goes in,
 * replacing an equal one (a TTL change). The SOA is not special: a step
 * deletes the old one and adds the new one, so a step that does not
 * start at cur's serial fails on its first deletion. Returns 0, or
 * -ENOENT when del names a record cur does not hold, cur then unchanged.
 */
int dns_rrlist_apply(struct dns_rrlist *cur, const struct dns_rrlist *del,
    const struct dns_rrlist *add);

/* Bytes a diff holds (its lists), for the journal's bound. */
size_t dns_diff_size(const struct dns_diff *d);
void dns_diff_fini(struct dns_diff *d);

#endif
