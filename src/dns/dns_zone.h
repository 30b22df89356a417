/*
 * dns_zone.h - the RFC 1035 §5 master-file (zone file) parser. Pure: no
 * I/O, clock or globals; files named by $INCLUDE are opened by a callback
 * the caller provides, which also bounds the include depth and decides
 * which paths may be read.
 *
 * Understood: $ORIGIN, $TTL (RFC 2308 §4), $INCLUDE with an optional
 * origin, relative names, '@', omitted owner (the previous one), TTL and
 * class (in either order), parentheses across lines, ';' comments, quoted
 * strings with \X and \DDD escapes, TTLs with BIND's unit letters (1h30m),
 * the types A NS CNAME SOA PTR MX TXT AAAA SRV DNAME CAA in their text
 * form, and any type in RFC 3597's generic form ("TYPE65280 \# 2 abcd").
 * Each record goes to a callback as owner, type, class, TTL and
 * uncompressed wire RDATA; the RDATA of a known type in the generic form
 * is checked to be well-formed for that type.
 *
 * Errors are reported as "file:line:col: message" (line and column count
 * from 1, columns in bytes); the parser skips the entry at fault and goes
 * on, so one run lists many errors, up to max_errors.
 *
 * A TTL omitted is $TTL's value, or without $TTL the last TTL written out
 * (RFC 1035 §5.1); a record with neither is an error. Class omitted is the
 * previous record's, else IN; every record must have the zone's class. An
 * included file starts with the includer's origin (or the one given on
 * the $INCLUDE line) and owner; when it ends, both come back to what they
 * were (RFC 1035 §5.1 for the origin; the owner as BIND does), while a
 * $TTL it set stays in force.
 */
#ifndef HAVEN_DNS_ZONE_H
#define HAVEN_DNS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_name.h"

#define DNS_ZONE_INCLUDE_MAX 16          /* hard cap under the callback's own */
#define DNS_ZONE_TTL_MAX     0x7fffffffu /* RFC 2181 §8 */
#define DNS_ZONE_ERR_MAX     512         /* bytes of one message */

/* Zone checks, bits of dns_zone_conf.checks. */
#define DNS_ZONE_CHECK_SOA (1u << 0) /* one SOA, at the apex */
#define DNS_ZONE_CHECK_CNAME                                                   \
	(1u << 1)                        /* RFC 2181 §10.1: a CNAME           \
	                                    alone at its name */
#define DNS_ZONE_CHECK_IN_ZONE (1u << 2) /* owners at or below the apex */
#define DNS_ZONE_CHECK_ALL     0x7u

/* One record, valid only during the callback. */
struct dns_zone_rr {
	const uint8_t *owner; /* borrowed: wire name, as written (case kept) */
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	const uint8_t *rdata; /* borrowed: uncompressed wire RDATA */
	uint16_t rdlen;
	const char *file; /* borrowed: the file it came from */
	unsigned line;    /* where its entry starts */
};

/* A record; return 0, or a negative errno to stop the parse with it. */
typedef int dns_zone_rr_fn(const struct dns_zone_rr *rr, void *arg);
/* One error, formatted "file:line:col: message". */
typedef void dns_zone_err_fn(const char *msg, void *arg);
/*
 * Open the file $INCLUDE names, path as written, from the file `from`
 * (for a relative path), at nesting depth 1, 2... Returns 0 and sets
 * *text to an xmalloc'd buffer of *len bytes, which the parser then owns
 * and frees, or a negative errno (-ELOOP to refuse a depth, -EPERM a
 * path).
 */
typedef int dns_zone_include_fn(const char *path, const char *from,
    unsigned depth, char **text, size_t *len, void *arg);

struct dns_zone_conf {
	const uint8_t *origin;        /* borrowed: the initial $ORIGIN and
	                                 the apex the checks use; may be
	                                 NULL without checks */
	unsigned checks;              /* DNS_ZONE_CHECK_* */
	unsigned max_errors;          /* stop after so many; 0: 100 */
	dns_zone_rr_fn *rr;           /* required */
	dns_zone_err_fn *err;         /* NULL: errors only counted */
	dns_zone_include_fn *include; /* NULL: $INCLUDE is an error */
	void *arg;                    /* borrowed: for the callbacks */
};

/*
 * Parse len bytes of text, the file called file (for messages and for
 * the include callback). Returns 0 when no error was found, -EINVAL when
 * some were (each went to conf->err; *nerr, when not NULL, has their
 * count), -EINVAL also for checks without an origin, or what conf->rr
 * returned to stop.
 */
int dns_zone_parse(const struct dns_zone_conf *conf, const char *file,
    const char *text, size_t len, unsigned *nerr);

/* Mnemonic of a type ("A", "CAA") or NULL; type of a mnemonic or
 * "TYPEnnn" (case-insensitive, len bytes), or -EINVAL. */
const char *dns_zone_type_name(uint16_t type);
int dns_zone_type_parse(const char *s, size_t len);

#endif
