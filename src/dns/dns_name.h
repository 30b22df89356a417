/*
 * dns_name.h - domain names in wire form (RFC 1035 §3.1): a sequence of
 * length-prefixed labels ending with the root's zero octet, never
 * compressed here. Pure: no I/O, clock, globals or allocation.
 *
 * Every function but dns_name_check takes names that are already valid:
 * labels of 1..63 octets, the whole at most 255 octets, the terminating
 * zero included (RFC 1035 §2.3.4). Text is the master-file presentation
 * form (RFC 1035 §5.1): '.' separates labels, "\X" takes X literally and
 * "\DDD" is the octet of decimal value DDD. Comparison and hashing fold
 * ASCII A-Z only (RFC 4343 §3): DNS labels are octets, not characters, so
 * no locale ever enters.
 */
#ifndef HAVEN_DNS_NAME_H
#define HAVEN_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX      255 /* octets, RFC 1035 §2.3.4 */
#define DNS_LABEL_MAX     63  /* octets, RFC 1035 §2.3.4 */
/* Longest text form: every octet as \DDD, the dots, the NUL. */
#define DNS_NAME_TEXT_MAX (DNS_NAME_MAX * 4 + 1)

/*
 * Length of the valid uncompressed name at buf within len bytes, or
 * -EINVAL: a label type other than 0 (the top two bits: compression
 * pointers and RFC 6891's extended labels), a label past len, or more than
 * DNS_NAME_MAX octets.
 */
int dns_name_check(const uint8_t *buf, size_t len);

/* Length of a valid name, its root octet included (1 for the root). */
size_t dns_name_len(const uint8_t *name);

/* Labels of a valid name, the root not counted (0 for the root). */
unsigned dns_name_labels(const uint8_t *name);

/*
 * Text (len bytes, not NUL-terminated) to wire form in out. A name without
 * a trailing unescaped dot is relative and gets origin appended; "@" alone
 * is the origin itself; "." is the root. origin may be NULL, and then a
 * relative name is -EINVAL. Returns the wire length, or -EINVAL for an
 * empty label, a bad or out-of-range \DDD, a trailing lone backslash or
 * empty text, or -ENAMETOOLONG for a label over 63 or a name over 255.
 * out and origin must not overlap: out is written before origin is read.
 */
int dns_name_from_text(uint8_t out[DNS_NAME_MAX], const char *text, size_t len,
    const uint8_t *origin);

/*
 * Wire to text into buf of size bytes, absolute (trailing dot), escaping
 * what would not read back: the separators and specials . \ " ( ) ; @ $
 * as \X, anything outside 0x21..0x7e as \DDD. Returns the length without
 * the NUL, or -ENOSPC (buf then holds a truncated, terminated string when
 * size > 0). DNS_NAME_TEXT_MAX bytes always suffice.
 */
int dns_name_to_text(const uint8_t *name, char *buf, size_t size);

/* Lower ASCII A-Z in place, the only folding DNS does. */
void dns_name_lower(uint8_t *name);

/* Equal but for the case of A-Z. */
bool dns_name_equal(const uint8_t *a, const uint8_t *b);

/* A hash that equal names (per dns_name_equal) share: FNV-1a of the
 * folded octets, lengths included. */
uint32_t dns_name_hash(const uint8_t *name);

/* name equals parent or lies below it (case-insensitive). */
bool dns_name_is_sub(const uint8_t *name, const uint8_t *parent);

/*
 * Canonical DNS name order (RFC 4034 §6.1): labels compared from the root
 * down, each as a folded octet string, a label that is a prefix of
 * another sorting first, and a name that is a proper suffix of another
 * (its parent) sorting first. Returns <0, 0 or >0 as strcmp does.
 */
int dns_name_cmp_canon(const uint8_t *a, const uint8_t *b);

#endif
