/*
 * dns_sec_copy.h - the saved copy of a secondary zone (dns-sec): the
 * records of the last good transfer, written to
 * <state_dir>/dns-secondary/<zone>.zone as an RFC 1035 zone file with
 * every record in RFC 3597's generic form ("owner ttl IN TYPEn \# len
 * hex"), so the zone parser reads any type back exactly, without a text
 * form per type. The file's mtime is the time of the last successful
 * refresh: the SOA expire timer counts from it, across restarts.
 *
 * Writes are checked and atomic: the text goes to a temp file, is
 * fsync'd, read back and parsed by the real zone parser (the record count
 * must match, the zone must hold one SOA at the apex and build into
 * tables on its own, so a copy on disk never fails a load), and only then
 * renamed over the old copy (and the directory fsync'd). A reader thus
 * sees the old copy or the new one, never a torn or unparsable one.
 *
 * Records are collected into a struct dns_sec_recs (a flat byte list)
 * while a transfer runs; nothing of it is trusted until the write checks
 * it.
 */
#ifndef HAVEN_DNS_SEC_COPY_H
#define HAVEN_DNS_SEC_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dns/dns_name.h"
#include "dns/dns_zone.h"

#define DNS_SEC_DIR      "dns-secondary" /* under the state directory */
/* A copy's or trigger's file name: the zone's text with %XX escapes. */
#define DNS_SEC_FILE_MAX (3 * DNS_NAME_TEXT_MAX + 16)

/* Records of one zone: each as owner (wire), type, ttl, rdlen, rdata. */
struct dns_sec_recs {
	uint8_t *b; /* owned */
	size_t len, cap;
	size_t n; /* records */
};

/* What the SOA of a copy says (RFC 1035 §3.3.13), host order. */
struct dns_sec_soa {
	uint32_t serial, refresh, retry, expire, minimum;
};

void dns_sec_recs_add(struct dns_sec_recs *r, const uint8_t *owner,
    uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);
void dns_sec_recs_free(struct dns_sec_recs *r);

/* The file name of apex's copy ("example.com.zone", "root.zone") and of
 * its NOTIFY trigger (suffix ".notify") into out (DNS_SEC_FILE_MAX
 * bytes suffice). Lower case; '/', '\\', '%' and a leading '.' as %XX,
 * so two zones never share a file. */
void dns_sec_copy_name(
    const uint8_t *apex, const char *suffix, char *out, size_t size);

/* The copy text of r (appended to a fresh xmalloc'd string, *len set). */
char *dns_sec_copy_text(const struct dns_sec_recs *r, size_t *len);

/*
 * Write r as apex's copy into dir (created 0700 if missing), checked as
 * the header says. Returns 0, -EINVAL when the text does not parse back
 * as the zone (nothing replaced), or -errno from the file system.
 */
int dns_sec_copy_write(
    const char *dir, const uint8_t *apex, const struct dns_sec_recs *r);

/*
 * Parse the copy text (len bytes, named file for messages) of apex: each
 * record to rr, the SOA's fields to *soa. With rr NULL the records are
 * built into scratch tables instead, to check that they would load
 * (dns_db_finish: NS at the apex, a CNAME alone...): a copy that passes
 * cannot make a worker's tables fail. Returns 0, or -EINVAL when it does
 * not parse, lacks exactly one SOA at the apex or (rr NULL) would not
 * load. Pure.
 */
int dns_sec_copy_parse(const char *file, const char *text, size_t len,
    const uint8_t *apex, dns_zone_rr_fn *rr, void *arg, struct dns_sec_soa *soa,
    size_t *nrecs);

/*
 * Read apex's copy from dir: the records to rr (NULL: checked as
 * dns_sec_copy_parse says), the SOA to *soa and the file's mtime (the
 * last successful refresh) to *mtime. Returns 0, -ENOENT without a copy,
 * -EINVAL for a corrupt one.
 */
int dns_sec_copy_read(const char *dir, const uint8_t *apex, dns_zone_rr_fn *rr,
    void *arg, struct dns_sec_soa *soa, time_t *mtime);

/* Whether a copy refreshed at mtime with soa has expired at now. */
bool dns_sec_copy_expired(
    const struct dns_sec_soa *soa, time_t mtime, time_t now);

#endif
