/*
 * dns_rdata.c - the table of RDATA shapes (dns_rdata.h). Pure.
 */
#include "dns/dns_name.h"
#include "dns/dns_rdata.h"

#define C DNS_RDATA_COMPRESS
#define E DNS_RDATA_EXPAND
#define K DNS_RDATA_CANON

/* Sorted by type. The RFC 1035 types of RFC 3597 §4 that haven's own
 * zones can hold are compressed; MD to MINFO stay as they are on output
 * (nothing is lost: compression is optional) but are folded for DNSSEC. */
static const struct dns_rdata_shape dns_rdata_shapes[] = {
	{ 2, 0, 0, 1, 0, C | E | K },  /* NS */
	{ 3, 0, 0, 1, 0, K },          /* MD */
	{ 4, 0, 0, 1, 0, K },          /* MF */
	{ 5, 0, 0, 1, 0, C | E | K },  /* CNAME */
	{ 6, 0, 0, 2, 20, C | E | K }, /* SOA: MNAME RNAME, five counters */
	{ 7, 0, 0, 1, 0, K },          /* MB */
	{ 8, 0, 0, 1, 0, K },          /* MG */
	{ 9, 0, 0, 1, 0, K },          /* MR */
	{ 12, 0, 0, 1, 0, C | E | K }, /* PTR */
	{ 14, 0, 0, 2, 0, K },         /* MINFO */
	{ 15, 2, 0, 1, 0, C | E | K }, /* MX: preference, exchange */
	{ 17, 0, 0, 2, 0, K },         /* RP */
	{ 18, 2, 0, 1, 0, K },         /* AFSDB */
	{ 21, 2, 0, 1, 0, K },         /* RT */
	{ 26, 2, 0, 2, 0, K },         /* PX */
	{ 33, 6, 0, 1, 0, E | K },     /* SRV: priority weight port, target */
	{ 35, 4, 3, 1, 0, K },         /* NAPTR: order pref, 3 strings, repl. */
	{ 36, 2, 0, 1, 0, K },         /* KX */
	{ 39, 0, 0, 1, 0, K },         /* DNAME */
};

const struct dns_rdata_shape *
dns_rdata_shape(uint16_t type, unsigned uses)
{
	size_t lo = 0,
	       hi = sizeof(dns_rdata_shapes) / sizeof(dns_rdata_shapes[0]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct dns_rdata_shape *sh = &dns_rdata_shapes[mid];

		if (sh->type == type)
			return (sh->uses & uses) != 0 ? sh : NULL;
		if (sh->type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
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
