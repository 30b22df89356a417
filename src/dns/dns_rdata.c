/*
 * dns_rdata.c - the table of RDATA shapes (dns_rdata.h). Pure.
 */
#include "dns/dns_name.h"
#include "dns/dns_rdata.h"

#define C DNS_RDATA_COMPRESS
#define E DNS_RDATA_EXPAND
#define K DNS_RDATA_CANON

/* Indexed by type (all of them are below DNS_RDATA_TYPES); names 0: not
 * described. The RFC 1035 types of RFC 3597 §4 that haven's own zones
 * can hold are compressed; MD to MINFO stay as they are on output
 * (nothing is lost: compression is optional) but are folded for DNSSEC. */
#define DNS_RDATA_TYPES 40
static const struct dns_rdata_shape dns_rdata_shapes[DNS_RDATA_TYPES] = {
	[2] = { 2, 0, 0, 1, 0, C | E | K },   /* NS */
	[3] = { 3, 0, 0, 1, 0, K },           /* MD */
	[4] = { 4, 0, 0, 1, 0, K },           /* MF */
	[5] = { 5, 0, 0, 1, 0, C | E | K },   /* CNAME */
	[6] = { 6, 0, 0, 2, 20, C | E | K },  /* SOA: 2 names, 5 counters */
	[7] = { 7, 0, 0, 1, 0, K },           /* MB */
	[8] = { 8, 0, 0, 1, 0, K },           /* MG */
	[9] = { 9, 0, 0, 1, 0, K },           /* MR */
	[12] = { 12, 0, 0, 1, 0, C | E | K }, /* PTR */
	[14] = { 14, 0, 0, 2, 0, K },         /* MINFO */
	[15] = { 15, 2, 0, 1, 0, C | E | K }, /* MX: preference, exchange */
	[17] = { 17, 0, 0, 2, 0, K },         /* RP */
	[18] = { 18, 2, 0, 1, 0, K },         /* AFSDB */
	[21] = { 21, 2, 0, 1, 0, K },         /* RT */
	[26] = { 26, 2, 0, 2, 0, K },         /* PX */
	[33] = { 33, 6, 0, 1, 0, E | K }, /* SRV: prio weight port, target */
	[35] = { 35, 4, 3, 1, 0, K },     /* NAPTR: 2 counters, 3 strings */
	[36] = { 36, 2, 0, 1, 0, K },     /* KX */
	[39] = { 39, 0, 0, 1, 0, K },     /* DNAME */
};

const struct dns_rdata_shape *
dns_rdata_shape(uint16_t type, unsigned uses)
{
	const struct dns_rdata_shape *sh;

	if (type >= DNS_RDATA_TYPES)
		return NULL;
	sh = &dns_rdata_shapes[type];
	return sh->names != 0 && (sh->uses & uses) != 0 ? sh : NULL;
}

int
dns_rdata_names(const struct dns_rdata_shape *sh, const uint8_t *rd, size_t len,
    size_t at[DNS_RDATA_NAMES_MAX])
{
	size_t off = sh->fixed;
	unsigned i;
	int n;

	if (len < off)
		return -1;
	for (i = 0; i < sh->strs; i++) {
		if (off >= len || off + 1 + rd[off] > len)
			return -1;
		off += 1 + (size_t)rd[off];
	}
	for (i = 0; i < sh->names; i++) {
		if ((n = dns_name_check(rd + off, len - off)) < 0)
			return -1;
		at[i] = off;
		off += (size_t)n;
	}
	return len - off == sh->tail ? sh->names : -1;
}
