/*
 * dns_db.h - the zones a dns process serves, as tables built once at load
 * time and read by every query (reference/gslb.md §10.8: no per-query
 * interpretation). Pure: no I/O, clock or globals; the loader (the plane)
 * reads zone files and feeds records in.
 *
 * Life cycle: dns_db_new, then per zone dns_db_zone_begin and its records
 * (dns_db_add_rr, dns_db_add_dyn), then dns_db_finish once, which sorts,
 * finds the zone cuts, wildcards and glue, and checks what RFC 1034/2181
 * require. After finish the db is read-only; a reload builds a new one
 * and the process swaps the pointer between two events (single-threaded,
 * so no reader can hold the old one across the swap).
 *
 * Names are stored folded to lower case for lookup; the answer writer
 * echoes the query's own case for the question and owner names found by
 * exact match, as RFC 4343 asks.
 */
#ifndef HAVEN_DNS_DB_H
#define HAVEN_DNS_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_name.h"
#include "dns/dns_wire.h"

struct dns_db; /* opaque */

/* Called with one message per problem found by dns_db_finish. */
typedef void dns_db_err_fn(const char *msg, void *arg);

struct dns_db *dns_db_new(void);
/* Free db and everything it owns. NULL is a no-op. */
void dns_db_free(struct dns_db *db);

/*
 * Start zone apex (wire form, any case) and return its index (0, 1...),
 * or -EEXIST if served already, -EINVAL after finish. A zone below
 * another served zone is allowed: the longest match serves a query.
 */
int dns_db_zone_begin(struct dns_db *db, const uint8_t *apex);

/*
 * Add one record to zone (an index from dns_db_zone_begin). owner must be
 * at or below the apex (-EDOM otherwise); rdata is uncompressed wire
 * RDATA, copied. Records of one owner and type form one RRset; a TTL
 * differing from the set's first is lowered to the smallest (RFC 2181
 * §5.2), and an exact duplicate record is dropped (§5). Returns 0 or
 * -errno.
 */
int dns_db_add_rr(struct dns_db *db, unsigned zone, const uint8_t *owner,
    uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);

/*
 * Mark name (at or below the apex of zone) dynamic: A, AAAA and CNAME
 * queries for it, and ANY, go to the dns_dyn provider with id. Other
 * types are answered from static records at that name, if any; finish
 * refuses a CNAME record there (a dynamic answer may be a CNAME).
 */
int dns_db_add_dyn(
    struct dns_db *db, unsigned zone, const uint8_t *name, uint32_t id);

/*
 * Build the lookup tables and check each zone: exactly one SOA, at the
 * apex; at least one NS at the apex; a CNAME alone at its name (RFC 2181
 * §10.1, RRSIG/NSEC aside); no data below a DNAME... Each problem goes to
 * err (may be NULL) as "zone example.com: message". Returns 0, -EINVAL if
 * some zone failed its checks (the db is then unusable), or -ENOMEM.
 */
int dns_db_finish(struct dns_db *db, dns_db_err_fn *err, void *arg);

/*
 * Mark zone (before finish) as configured but without data: a secondary
 * zone before its first transfer or after its copy expired. It takes no
 * records (-EBUSY after one was added; dns_db_add_rr refuses them after),
 * finish does not check it, queries for names in it get SERVFAIL (we are
 * configured for it, so not REFUSED) and it has no SOA to walk.
 */
int dns_db_zone_pending(struct dns_db *db, unsigned zone);
bool dns_db_zone_is_pending(const struct dns_db *db, unsigned zone);

/* Zones served, and the apex and SOA serial of one (after finish). */
unsigned dns_db_nzones(const struct dns_db *db);
const uint8_t *dns_db_zone_apex(const struct dns_db *db, unsigned zone);
uint32_t dns_db_zone_serial(const struct dns_db *db, unsigned zone);

/* Index of the zone whose apex is exactly apex (any case), or -ENOENT. */
int dns_db_zone_find(const struct dns_db *db, const uint8_t *apex);

/*
 * Call fn with every RRset of zone, the SOA first, then the rest in
 * canonical order (RFC 4034 §6.1), for zone transfers. The set and its
 * pointers are valid during the call only. fn returns 0 to go on or a
 * negative errno to stop the walk, which returns it.
 */
typedef int dns_db_walk_fn(const struct dns_rrset *set, void *arg);
int dns_db_zone_walk(
    const struct dns_db *db, unsigned zone, dns_db_walk_fn *fn, void *arg);

struct dns_db_stats {
	size_t zones;
	size_t names;   /* owner names, over all zones */
	size_t rrsets;
	size_t records;
	size_t bytes;   /* heap the tables hold */
};
void dns_db_stats(const struct dns_db *db, struct dns_db_stats *st);

#endif
