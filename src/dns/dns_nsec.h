/*
 * dns_nsec.h - authenticated denial for an online signer: NSEC records
 * made per query, never a chain over the zone. Pure: no I/O, clock,
 * globals or allocation.
 *
 * Denial is RFC 9824 compact denial ("black lies"): a name that does not
 * exist gets NOERROR and an NSEC at the name itself whose next name is
 * its immediate successor (\000.name) and whose bitmap is RRSIG, NSEC and
 * NXNAME; a name without the type asked gets the same NSEC with the
 * name's real types. One NSEC, signed once per name, proves either, with
 * no walk of the zone possible and no wildcard proof needed.
 *
 * Wildcard expansions are signed with the wildcard's label count (RFC
 * 4035 §5.3.4), so they carry the proof that the next closer name does
 * not exist: an RFC 4470 minimally covering NSEC from a predecessor of
 * that name to its successor.
 */
#ifndef HAVEN_DNS_NSEC_H
#define HAVEN_DNS_NSEC_H

#include <stddef.h>
#include <stdint.h>

#include "dns/dns_name.h"
#include "dns/dns_wire.h" /* DNS_TYPE_NXNAME */

#define DNS_NSEC_TYPES_MAX 64 /* types one bitmap is built from */
/* next name and a bitmap of DNS_NSEC_TYPES_MAX types at worst */
#define DNS_NSEC_MAX       (DNS_NAME_MAX + DNS_NSEC_TYPES_MAX * 34)

/*
 * Write the type bitmap (RFC 4034 §4.1.2) of the n types (any order,
 * repeats allowed) to out (n * 34 bytes suffice). Returns its length.
 */
size_t dns_nsec_bitmap(const uint16_t *types, unsigned n, uint8_t *out);

/* Write the immediate successor of folded name (RFC 4471 §3.1.2 style:
 * \000.name, or when that is too long the last octet of the first label
 * raised) to out. Returns 0, or -ERANGE when name has no successor in
 * its zone that we can name (a maximal name of \255 octets). */
int dns_nsec_successor(const uint8_t *name, uint8_t out[DNS_NAME_MAX]);

/*
 * Write the next sibling of folded name: its first label with a \000
 * octet appended, or when that does not fit the label's last octet
 * raised. Nothing but names below name lies between them; unlike
 * \000.name it shares name's parent, so a validator finds the closest
 * encloser, and the wildcard, from it (RFC 4035 §5.3.4). 0 or -ERANGE.
 */
int dns_nsec_sibling(const uint8_t *name, uint8_t out[DNS_NAME_MAX]);

/*
 * Write to out a name before folded name in canonical order such that no
 * name lies between them but names below parent (name's parent) that
 * precede name and everything below those, i.e. RFC 4470 §3.1.1's
 * predecessor: the first label's last octet lowered by one and filled
 * with \255 to 63 octets, then \255 labels up to the name length limit;
 * a first label ending in \000 loses that octet instead; "\000" alone
 * gives the parent. name must have at least one label.
 */
void dns_nsec_predecessor(const uint8_t *name, uint8_t out[DNS_NAME_MAX]);

/* NSEC RDATA: next, then the bitmap of the types. Its length. */
size_t dns_nsec_rdata(
    const uint8_t *next, const uint16_t *types, unsigned n, uint8_t *out);

#endif
