/*
 * dns_journal.h - the IXFR journal of one zone: the differences between
 * its successive versions (dns_diff.h), oldest first, so that a secondary
 * at any serial the journal still knows gets only what changed since
 * (RFC 1995 §4). Pure: no I/O, clock or globals; dns_ixfr.c keeps one per
 * zone and persists it with dns_journal_encode/decode.
 *
 * Invariants: the versions form one chain, v[i].to == v[i + 1].from, each
 * step an increase by RFC 1982; appending a step that does not start at
 * the last serial empties the journal first (a history with a gap could
 * not be served). The journal is bounded by a count of versions and a
 * byte size; the oldest steps go first, and a single step over the byte
 * bound leaves the journal empty (its clients get full transfers).
 *
 * File format (all integers big-endian), which decode checks entirely
 * before it trusts any of it:
 *
 *   "HVIXJRN1"                      magic and version
 *   apex                            wire name
 *   u32 n                           versions
 *   n times:
 *     u32 from, u32 to
 *     rr soa_from, rr soa_to
 *     u32 ndel, u32 nadd, ndel + nadd times rr
 *   16 bytes                        BLAKE2b of everything before
 *
 * where rr is owner (wire, lower case), u16 type, u16 class, u32 TTL,
 * u16 rdlen, RDATA.
 */
#ifndef HAVEN_DNS_JOURNAL_H
#define HAVEN_DNS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_diff.h"
#include "lib/buf.h"

#define DNS_JOURNAL_MAGIC            "HVIXJRN1"
#define DNS_JOURNAL_MAGIC_LEN        8
#define DNS_JOURNAL_HASH_LEN         16
/* Defaults of dns.zones[].ixfr_versions and ixfr_journal_size: NSD keeps
 * 5 versions within 1 MiB by default; a few more cost little. */
#define DNS_JOURNAL_VERSIONS_DEFAULT "20"
#define DNS_JOURNAL_VERSIONS_MAX     10000
#define DNS_JOURNAL_BYTES_DEFAULT    "4m"

struct dns_journal {
	uint8_t apex[DNS_NAME_MAX]; /* wire, lower case */
	struct dns_diff *v;         /* owned: n steps, oldest first */
	size_t n, cap;
	size_t bytes;          /* dns_diff_size over the steps */
	unsigned max_versions; /* 0: the journal keeps nothing */
	uint64_t max_bytes;
};

/* A new empty journal of apex with its bounds. */
struct dns_journal *dns_journal_new(
    const uint8_t *apex, unsigned max_versions, uint64_t max_bytes);
void dns_journal_free(struct dns_journal *j);
/* Drop every step. */
void dns_journal_clear(struct dns_journal *j);
/* Change the bounds and trim to them. */
void dns_journal_set_bounds(
    struct dns_journal *j, unsigned max_versions, uint64_t max_bytes);

/*
 * Append step d (its lists move into the journal; *d is zeroed), first
 * emptying the journal if d does not start at its last serial, then trim
 * to the bounds. -EINVAL (d freed) when d->to is not ahead of d->from.
 */
int dns_journal_append(struct dns_journal *j, struct dns_diff *d);

/* Whether the journal has steps and the last one ends at serial. */
bool dns_journal_ends_at(const struct dns_journal *j, uint32_t serial);

/*
 * The steps leading from serial to the last version: *first is the index
 * of the step that starts at serial. 0, or -ENOENT when no step starts
 * there (the client needs a full transfer).
 */
int dns_journal_find(
    const struct dns_journal *j, uint32_t serial, size_t *first);

/* Append the file form of j to out. */
void dns_journal_encode(const struct dns_journal *j, struct buf *out);

/*
 * Parse len bytes of a file into j (a journal from dns_journal_new for
 * the expected apex, emptied first; its bounds are then applied). All or
 * nothing: on any error j is left empty. Returns 0, or -EINVAL for a
 * file that is truncated, corrupt, for another zone or not a chain.
 */
int dns_journal_decode(struct dns_journal *j, const uint8_t *buf, size_t len);

#endif
