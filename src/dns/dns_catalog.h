/*
 * dns_catalog.h - catalog zones, the producer side (RFC 9432): a zone
 * haven synthesizes from its config, listing the zones it serves, so that
 * a secondary (Knot's catalog-role: interpret, BIND's catalog-zones)
 * provisions and transfers the members without being told of each.
 *
 *   dns:
 *     catalogs:
 *       - name: catalog.invalid
 *         members: all            # or [example.com, example.net]
 *         group: fast             # optional, RFC 9432 §4.4.2
 *         allow_transfer: ["127.0.0.0/8"]   # as any zone's, and notify,
 *         notify: ["127.0.0.1:5301"]        # transfer_key, ixfr_*
 *
 * The catalog's records (§4): at the apex the SOA and the single NS
 * "invalid." (§4.1), version.<catalog> TXT "2" (§4.2.1), and per member
 * <id>.zones.<catalog> PTR <member> (§4.3), plus group.<id>.zones TXT when
 * a group is set. The unique id is the hex of a BLAKE2b hash of the
 * member's lower-case wire name, so it is the same across restarts, on
 * every worker and on every haven serving the same zone: a consumer takes
 * a new id for a member as a reset of the zone's state (§5), which a
 * restart of haven must not cause.
 *
 * The config side (dns_catalog_conf.c) checks a catalog and appends it to
 * dns.zones, past the configured zones (nzones_conf), as one more zone
 * item that has neither file nor primaries but a catalog pointer: the
 * transfer, journal, NOTIFY and API code then serve it as any zone. dns_load.c
 * fills it with dns_catalog_build; the serial comes from dns_catalog_serial
 * (dns_catalog_serial.c).
 *
 * dns_catalog_id and dns_catalog_build are pure; dns_catalog_serial does
 * file I/O in the state directory.
 */
#ifndef HAVEN_DNS_CATALOG_H
#define HAVEN_DNS_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_name.h"
#include "dns/dns_xfr_conf.h"
#include "dns/dns_zone.h"
#include "lib/conf.h"

#define DNS_CATALOG_VERSION      "2" /* RFC 9432 §4.2.1 */
#define DNS_CATALOG_ID_BYTES     8   /* hashed: 16 hex characters */
#define DNS_CATALOG_DIGEST_BYTES 32  /* what a serial stands for */
#define DNS_CATALOG_GROUP_MAX    255 /* one TXT character-string */
/* SOA timers: a NOTIFY brings changes at once; refresh is the fallback.
 * Expire is long: a consumer whose catalog expires may drop every
 * member, which a primary down for a week must not cause. */
#define DNS_CATALOG_REFRESH      600u
#define DNS_CATALOG_RETRY        60u
#define DNS_CATALOG_EXPIRE       2419200u /* 4 weeks */
#define DNS_CATALOG_TTL          0u       /* not for resolvers (§3) */

struct dns_conf;
struct dns_zone_item;

/* The `members:` key: "all", or a list of zone names. */
struct dns_catalog_members {
	bool all;     /* every zone of dns.zones read from a file */
	char **names; /* owned, NULL-terminated: as written; NULL when all */
	size_t n;
};

/* One dns.catalogs[] entry. */
struct dns_catalog_conf {
	char *name; /* owned: the catalog's apex as written */
	struct dns_catalog_members members;
	char *group; /* owned, may be NULL: §4.4.2 group property */
	/* Who may transfer it, whom to NOTIFY: the zone keys' schema. Only
	 * the zone item the check appends gets the not-bound fields. */
	struct dns_xfr_zone_conf xfr;
	/* Not bound: set by the check. */
	uint8_t apex[DNS_NAME_MAX];
	uint8_t (*member_apex)[DNS_NAME_MAX]; /* owned: nmember_apex */
	size_t nmember_apex;
};

/* dns.catalogs[]: name, members, group and the zone transfer keys. */
extern const struct conf_schema dns_catalog_schema;

/*
 * The check of dns.catalogs (dns_conf.c's hook, after the zones have
 * been checked): names valid and distinct from every zone's, members
 * known zones, transfer keys valid; then each catalog without error is
 * appended to c->zones as a zone item whose catalog field points at it.
 */
void dns_catalog_conf_check(
    struct conf_ctx *ctx, struct conf_node *node, struct dns_conf *c);

/* The unique id label of member (wire form): lower-case hex, NUL-ended. */
void dns_catalog_id(
    const uint8_t *member, char out[2 * DNS_CATALOG_ID_BYTES + 1]);

/*
 * Every record of catalog cat with this serial, to rr (owner, type, TTL,
 * RDATA; file "catalog", line 0). digest (may be NULL) receives a BLAKE2b
 * hash of every record, the SOA's serial left out: two builds with the
 * same digest differ at most in their serial. Returns 0, what rr returned, or
 * -ENAMETOOLONG for a member whose catalog name would pass 255 bytes.
 */
int dns_catalog_build(const struct dns_catalog_conf *cat, uint32_t serial,
    dns_zone_rr_fn *rr, void *arg, uint8_t digest[DNS_CATALOG_DIGEST_BYTES]);

/*
 * The serial of a catalog whose records have this digest. dir: where
 * the catalogs' serials are kept ("" or NULL: nowhere). Kept in
 * dir/<catalog>.serial with the digest it stands for, under an flock of
 * dir, so every worker loading at once agrees. See the .c for why.
 * now is the wall clock in seconds.
 */
uint32_t dns_catalog_serial(const char *dir, const uint8_t *apex,
    const uint8_t digest[DNS_CATALOG_DIGEST_BYTES], uint64_t now);

#endif
