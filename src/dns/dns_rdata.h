/*
 * dns_rdata.h - where the domain names sit inside a type's RDATA.
 *
 * Five readers must find them, each for a different set of types:
 *
 *   the answer writer   compresses them, but only in the types RFC 3597
 *                       §4 lets a server compress (DNS_RDATA_COMPRESS);
 *                       the journal's parser checks that set, since the
 *                       writer will read it;
 *   a transfer's reader expands the ones senders compress, which is that
 *                       set and SRV (DNS_RDATA_EXPAND);
 *   the DNSSEC signer   lowercases the ones RFC 4034 §6.2, as RFC 6840
 *                       §5.1 amends it, names (DNS_RDATA_CANON);
 *   the zone tables     check every name any of them will read.
 *
 * One table answers all five, so a type is described once. The RDATA of
 * a described type is `fixed` opaque bytes, `strs` character-strings,
 * `names` uncompressed names, then exactly `tail` opaque bytes.
 */
#ifndef HAVEN_DNS_RDATA_H
#define HAVEN_DNS_RDATA_H

#include <stddef.h>
#include <stdint.h>

#define DNS_RDATA_COMPRESS 0x1
#define DNS_RDATA_EXPAND   0x2
#define DNS_RDATA_CANON    0x4
#define DNS_RDATA_ANY      0x7

#define DNS_RDATA_NAMES_MAX 2

struct dns_rdata_shape {
	uint16_t type;
	uint8_t fixed, strs, names, tail;
	uint8_t uses; /* DNS_RDATA_* */
};

/* The shape of type when one of the uses in `uses` applies to it, else
 * NULL (its RDATA is opaque to that reader). */
const struct dns_rdata_shape *dns_rdata_shape(uint16_t type, unsigned uses);

/*
 * Find the names of rd (len bytes, names uncompressed) laid out as sh:
 * their offsets into at[], in order. Returns sh->names, or -1 when rd
 * does not have the shape (short, a bad name, a tail of another length).
 */
int dns_rdata_names(const struct dns_rdata_shape *sh, const uint8_t *rd,
    size_t len, size_t at[DNS_RDATA_NAMES_MAX]);

#endif
