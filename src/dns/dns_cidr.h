/*
 * dns_cidr.h - source networks for the traffic manager: CIDR text, and a
 * map from networks to small integers (a region, or a policy of one name)
 * answered by longest-prefix match, with the ECS SCOPE PREFIX-LENGTH the
 * answer is valid for (RFC 7871 §7.2.1, reference/gslb.md §5, §10.7).
 * Pure: no I/O, clock or globals.
 *
 * Invariants of a map: IPv4 and IPv6 are separate binary tries; one value
 * per distinct network (the same network twice is -EEXIST); nested networks
 * are allowed and the longest match wins, so a /24 carved out of another
 * region's /16 answers for its /24 only.
 *
 * The scope of a lookup is the shortest prefix of the client's address on
 * which the answer cannot change: the matched network's length, lengthened
 * until the client's block is apart from every more specific network it
 * is not in. A client outside every network gets the shortest prefix that
 * separates it from all of them (0 when the family has none), never its
 * SOURCE copied back, so resolvers cache as widely as the map allows. The
 * scope never exceeds the bits given: only those bits of the client are
 * known, and a scope above SOURCE would only ask for data we do not use.
 */
#ifndef HAVEN_DNS_CIDR_H
#define HAVEN_DNS_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_gslb_conf.h"

#define DNS_CIDR_TEXT_MAX 64 /* "ffff:...:ffff/128" and the NUL */

/*
 * "198.18.0.0/24", "2001:db8::/32" into out. Returns 0, -EINVAL when it is
 * not an address and a prefix length of its family, or -EBADMSG when bits
 * past the prefix are set (the network address was not written).
 */
int dns_cidr_parse(const char *s, struct dns_cidr *out);
/* The network as text, like "198.18.0.0/24"; out holds DNS_CIDR_TEXT_MAX. */
const char *dns_cidr_format(const struct dns_cidr *c, char *out, size_t len);
/* inner lies within outer (equal included), same family. */
bool dns_cidr_contains(
    const struct dns_cidr *outer, const struct dns_cidr *inner);

struct dns_cidr_map; /* opaque */

struct dns_cidr_map *dns_cidr_map_new(void);
void dns_cidr_map_free(struct dns_cidr_map *m);
/* Map net to value (>= 0). -EEXIST: net is there already; -EINVAL: value
 * negative or family unknown. */
int dns_cidr_map_add(
    struct dns_cidr_map *m, const struct dns_cidr *net, int value);
/* Networks added. */
size_t dns_cidr_map_count(const struct dns_cidr_map *m);

/*
 * The value of the longest network holding the first bits bits of addr
 * (family AF_INET: 4 octets, AF_INET6: 16; bits clamped to the family's
 * width), or -1 when none does; *scope gets the prefix length the answer
 * is valid for, as the header comment says. Only the first bits bits of
 * addr are read, so a network longer than bits never matches.
 */
int dns_cidr_map_lookup(const struct dns_cidr_map *m, int family,
    const uint8_t *addr, unsigned bits, uint8_t *scope);

#endif
