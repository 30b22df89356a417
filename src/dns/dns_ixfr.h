/*
 * dns_ixfr.h - the IXFR journals of a dns worker (dns_journal.h), kept
 * up to date as its tables are rebuilt and persisted in the state
 * directory, so a restarted haven still answers IXFR incrementally.
 *
 * Every worker computes the same difference from the same two versions
 * (it builds both tables itself), so each holds its journals in memory
 * and no worker waits for another; only worker 0 writes the files
 * (<state_dir>/dns-journal/<zone>.ixfr, atomically replaced), and a
 * worker reads a zone's file once, when it first serves that zone. A
 * journal read from disk is used only if it ends at the serial the zone
 * has now; a corrupt one is logged, counted and ignored (full transfers
 * until the next change).
 *
 * Only zones someone may transfer (allow_transfer or transfer_key) with
 * ixfr_versions above 0 get a journal.
 *
 * State lives in struct dns_ixfr, which the worker's struct dns_srv owns;
 * its struct dns_srv_zones borrow it for the transfer responder.
 */
#ifndef HAVEN_DNS_IXFR_H
#define HAVEN_DNS_IXFR_H

#include "dns/dns_journal.h"
#include "dns/dns_srv.h"
#include "lib/buf.h"

#define DNS_IXFR_DIR "dns-journal" /* under the state directory */

struct dns_ixfr; /* opaque */

struct dns_ixfr *dns_ixfr_new(unsigned worker);
void dns_ixfr_free(struct dns_ixfr *ix);

/* Where journals are kept from now on (NULL: in memory only). */
void dns_ixfr_set_dir(struct dns_ixfr *ix, const char *state_dir);

/*
 * Tables nz of config c are about to replace old (NULL at the first
 * apply): make the journals those of c's zones, append the difference of
 * each zone whose serial went up, save what changed (worker 0), and make
 * nz borrow ix.
 */
void dns_ixfr_update(struct dns_ixfr *ix, const struct dns_conf *c,
    const struct dns_srv_zones *old, struct dns_srv_zones *nz);

/* The journal of zone apex, or NULL (not served, or journal off). */
const struct dns_journal *dns_ixfr_journal(
    const struct dns_ixfr *ix, const uint8_t *apex);

/* haven_dns_ixfr_* families. ix may be NULL (before init). */
void dns_ixfr_metrics(const struct dns_ixfr *ix, struct buf *out);

#endif
