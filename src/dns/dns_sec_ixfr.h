/*
 * dns_sec_ixfr.h - a secondary zone's incremental transfer (RFC 1995)
 * applied to its saved copy (dns-sec): the records an IXFR answer in
 * incremental form hands over (dns_xfr_in.h: deletions and additions,
 * step after step) are applied to the records of the copy we serve,
 * read from disk at the first one, and the result becomes the records of
 * the next copy, which dns_sec_copy_write checks and renames into place
 * like an AXFR's. Nothing touches the copy until the whole answer has
 * been applied: a failed or partial transfer leaves the old copy served.
 *
 * Any inconsistency (a deletion of a record we lack, a first step not
 * starting at our SOA, a result without exactly the announced SOA) fails
 * with -ENOENT or -EINVAL, and the caller asks AXFR instead.
 */
#ifndef HAVEN_DNS_SEC_IXFR_H
#define HAVEN_DNS_SEC_IXFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_diff.h"
#include "dns/dns_sec_copy.h"
#include "dns/dns_xfr_in.h"

struct dns_sec_ixfr {
	struct dns_rrlist cur;      /* owned: the zone as applied so far */
	struct dns_rrlist del, add; /* owned: the step being read */
	bool loaded;                /* cur holds the copy */
	size_t max_bytes;           /* bound on cur + del + add */
};

/* Start empty; max_bytes bounds what one transfer may hold. */
void dns_sec_ixfr_init(struct dns_sec_ixfr *ix, size_t max_bytes);
void dns_sec_ixfr_fini(struct dns_sec_ixfr *ix);

/*
 * One record of an incremental answer (rr->op DEL or ADD) for apex,
 * whose copy is in dir. Returns 0, -ENOENT (no copy, or a deletion we
 * cannot apply), -EFBIG (over the bound) or -EINVAL (a corrupt copy).
 */
int dns_sec_ixfr_rr(struct dns_sec_ixfr *ix, const char *dir,
    const uint8_t *apex, const struct dns_xfr_rr *rr);

/*
 * The answer is complete and announced serial: apply the last step and
 * append the zone's records to out, the SOA first. 0, or -ENOENT /
 * -EINVAL as above, or when the result does not hold exactly one apex
 * SOA with that serial.
 */
int dns_sec_ixfr_finish(struct dns_sec_ixfr *ix, const uint8_t *apex,
    uint32_t serial, struct dns_sec_recs *out);

#endif
