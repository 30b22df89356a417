/*
 * dns_sign.h - online DNSSEC signing of the RRsets an answer carries, and
 * the signature caches that keep it affordable.
 *
 * One dns_sign belongs to one dns_db (the same zones, the same set
 * indices) and lives as long as it: a reload builds both anew. Zones with
 * a key that signs data (dns_sign_add_key) are signed; the rest never
 * are. One key signs a zone's data; the DNSKEY RRset gets a signature
 * from each key that signs it (a KSK rollover has two).
 *
 * RRSIG RDATA is built per RFC 4034 §3.1 over the canonical form of §6:
 * owner and the names inside RDATA of the types §6.2 lists folded to
 * lower case, records sorted by their canonical RDATA, the TTL the
 * original one. Validity: inception DNS_SIGN_SKEW before now, expiration
 * DNS_SIGN_VALIDITY after; a cached signature is reused until half its
 * validity is gone, so a resolver always gets days of margin.
 *
 * Two caches: static RRsets by their index in the db (one slot each,
 * allocated on first use: a zone never queried costs a pointer per set),
 * and everything made per query (GSLB answers, NSEC records of denials,
 * RFC 8482 HINFO) by content: a direct-mapped table of DNS_SIGN_DYN_SLOTS
 * entries keyed by the SHA-256 of the canonical data, so memory is bounded
 * and a colliding entry is simply replaced. Not thread-safe: one per
 * worker process, like the db.
 */
#ifndef HAVEN_DNS_SIGN_H
#define HAVEN_DNS_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_key.h"
#include "dns/dns_wire.h"

#define DNS_SIGN_SKEW      3600u         /* inception in the past */
#define DNS_SIGN_VALIDITY  (7u * 86400u) /* expiration ahead */
#define DNS_SIGN_DYN_SLOTS 4096u         /* content cache entries */
#define DNS_SIGN_NONE      UINT32_MAX    /* not a static set */
/* RRSIG RDATA: 18 fixed bytes, the signer, the signature. */
#define DNS_RRSIG_MAX      (18 + DNS_NAME_MAX + DNS_KEY_SIG_LEN)

struct dns_sign;

struct dns_sign_stats {
	uint64_t signed_static; /* signatures made for db sets */
	uint64_t signed_dyn;    /* for per-query sets */
	uint64_t hits;          /* answered from a cache */
	uint64_t failures;      /* signing failed: set sent unsigned */
};

/* A signer for nzones zones and nsets db sets; no key yet. */
struct dns_sign *dns_sign_new(unsigned nzones, uint32_t nsets);
/* Free s, its keys and caches. NULL is a no-op. */
void dns_sign_free(struct dns_sign *s);

#define DNS_SIGN_KEYS_MAX 8   /* signing keys of one zone */
#define DNS_SIGN_DATA     0x1 /* signs every RRset but the DNSKEYs */
#define DNS_SIGN_DNSKEY   0x2 /* signs the apex DNSKEY RRset */

/*
 * Give zone a key that signs what uses says (DNS_SIGN_*): s takes
 * ownership of *k (k is zeroed). At most one key of a zone signs data,
 * and DNS_SIGN_KEYS_MAX keys in all (the config's check enforces both).
 */
void dns_sign_add_key(
    struct dns_sign *s, unsigned zone, struct dns_key *k, unsigned uses);

/* The key signing zone's data, or NULL when it is not signed. s may be
 * NULL. */
const struct dns_key *dns_sign_key(const struct dns_sign *s, int zone);

/* How many RRSIGs a set of type in zone gets: 0 when zone is not
 * signed, 1 but for the DNSKEY RRset. s may be NULL. */
unsigned dns_sign_count(const struct dns_sign *s, int zone, uint16_t type);

/*
 * Write into out (at least DNS_RRSIG_MAX bytes) the RRSIG RDATA for set
 * of zone (which must have a key), signed by the apex. lname is the
 * folded name the data is stored at (a wildcard's own "*.name": the
 * labels field then omits the "*", RFC 4034 §3.1.3); it is also the
 * owner signed, whatever set->owner says. orig_ttl is the set's TTL as
 * loaded. sidx is the set's db index for the static cache, or
 * DNS_SIGN_NONE to use the content cache. now: unix seconds. nth: which
 * of its dns_sign_count signatures. Returns the RDATA length or a
 * negative errno.
 */
int dns_sign_rrsig(struct dns_sign *s, int zone, const uint8_t *apex,
    uint32_t sidx, const uint8_t *lname, const struct dns_rrset *set,
    uint32_t orig_ttl, uint32_t now, unsigned nth, uint8_t *out);

/*
 * The data an RRSIG signs (RFC 4034 §3.1.8.1): rrsig_fixed (the RDATA
 * without its signature: fixed_len bytes) followed by each record of set
 * in canonical form with owner lname and TTL orig_ttl, sorted. Written
 * into out (size bytes). Returns its length, or -EMSGSIZE. Exposed for
 * the tests, which verify against it.
 */
int dns_sign_data(const uint8_t *rrsig_fixed, size_t fixed_len,
    const uint8_t *lname, const struct dns_rrset *set, uint32_t orig_ttl,
    uint8_t *out, size_t size);

void dns_sign_stats(const struct dns_sign *s, struct dns_sign_stats *st);

#endif
