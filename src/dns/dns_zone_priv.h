/*
 * dns_zone_priv.h - what the zone parser's files share: the tokenizer
 * (dns_zone_lex.c) and the RDATA parsers (dns_zone_rdata.c) that
 * dns_zone.c drives. Not for other modules.
 *
 * A token is a slice of the input, escapes left as written: names and
 * strings each unescape by their own rules (a "\." ends no label, a "\."
 * in a TXT string is just a dot), so only their parsers can.
 */
#ifndef HAVEN_DNS_ZONE_PRIV_H
#define HAVEN_DNS_ZONE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_name.h"

#define DNS_RDATA_MAX 65535

struct dns_zone_tok {
	const char *p; /* borrowed: into the file's text; quotes excluded */
	size_t len;
	bool quoted;
	unsigned line;
	unsigned col;
};

/* One entry: the tokens of a logical line (parentheses joined). */
struct dns_zone_entry {
	struct dns_zone_tok *tok; /* owned: grows as needed */
	unsigned ntok;
	unsigned cap;
	bool blank_owner; /* the line began with blank space */
	unsigned line;    /* of its first token */
};

struct dns_zone_lex {
	const char *text; /* borrowed: the whole file */
	size_t len;
	size_t pos;
	unsigned line;     /* of text[pos] */
	size_t line_start; /* offset of that line's first byte */
};

/*
 * The next entry of lx into e. Returns 1 with an entry, 0 at the end, or
 * -EINVAL with *why, *line and *col set (the rest of that line is then
 * skipped, so the caller can go on).
 */
int dns_zone_lex_entry(struct dns_zone_lex *lx, struct dns_zone_entry *e,
    const char **why, unsigned *line, unsigned *col);
void dns_zone_entry_fini(struct dns_zone_entry *e);

/* Where and why an RDATA parser failed. */
struct dns_zone_fail {
	const struct dns_zone_tok *tok; /* borrowed: the token at fault, or
	                                   NULL: after the last one */
	char why[160];
};

/*
 * Parse the n tokens of type's RDATA, names relative to origin (may be
 * NULL), into out (DNS_RDATA_MAX bytes). Returns the length, or -EINVAL
 * with f filled.
 */
int dns_zone_rdata(uint16_t type, const struct dns_zone_tok *tok, unsigned n,
    const uint8_t *origin, uint8_t *out, struct dns_zone_fail *f);

/* A TTL: digits, or BIND's [0-9]+[wdhms] groups. 0 or -EINVAL. */
int dns_zone_ttl(const struct dns_zone_tok *t, uint32_t *out);

/* A name token relative to origin: its length, or -EINVAL with *why. */
int dns_zone_name(const struct dns_zone_tok *t, const uint8_t *origin,
    uint8_t out[DNS_NAME_MAX], const char **why);

#endif
