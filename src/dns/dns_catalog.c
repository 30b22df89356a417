/*
 * dns_catalog.c - the records of a catalog zone (dns_catalog.h). Pure: no
 * I/O, clock or globals; the serial is the caller's.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "dns/dns_catalog.h"
#include "dns/dns_wire.h"

/* "invalid." (RFC 9432 §4.1: the NS target; RFC 6761 §6.4). */
static const uint8_t dns_catalog_invalid[] = "\7invalid";

/* What the records share while they are written. */
struct dns_catalog_out {
	const struct dns_catalog_conf *cat; /* borrowed */
	dns_zone_rr_fn *rr;
	void *arg; /* borrowed: rr's */
	crypto_generichash_state hs;
};

/* Owner, type and RDATA into the digest. */
static void
dns_catalog_hash(struct dns_catalog_out *o, const uint8_t *owner, uint16_t type,
    const uint8_t *rdata, uint16_t rdlen)
{
	uint8_t hdr[4] = { (uint8_t)(type >> 8), (uint8_t)type,
		(uint8_t)(rdlen >> 8), (uint8_t)rdlen };

	crypto_generichash_update(&o->hs, owner, dns_name_len(owner));
	crypto_generichash_update(&o->hs, hdr, sizeof(hdr));
	crypto_generichash_update(&o->hs, rdata, rdlen);
}

/* One record to the caller, and into the digest unless it is the SOA,
 * which dns_catalog_apex hashes without its serial. */
static int
dns_catalog_emit(struct dns_catalog_out *o, const uint8_t *owner, uint16_t type,
    const uint8_t *rdata, uint16_t rdlen)
{
	struct dns_zone_rr r = {
		.owner = owner,
		.type = type,
		.rclass = DNS_CLASS_IN,
		.ttl = DNS_CATALOG_TTL,
		.rdata = rdata,
		.rdlen = rdlen,
		.file = "catalog",
		.line = 0,
	};

	if (type != DNS_TYPE_SOA)
		dns_catalog_hash(o, owner, type, rdata, rdlen);
	return o->rr(&r, o->arg);
}

void
dns_catalog_id(const uint8_t *member, char out[2 * DNS_CATALOG_ID_BYTES + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t name[DNS_NAME_MAX], h[DNS_CATALOG_ID_BYTES];
	size_t len = dns_name_len(member);

	/* Lower case first: the id must not change with how the zone's
	 * name was written in the config. */
	memcpy(name, member, len);
	dns_name_lower(name);
	crypto_generichash(h, sizeof(h), name, len, NULL, 0);
	for (size_t i = 0; i < sizeof(h); i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 0xf];
	}
	out[2 * sizeof(h)] = '\0';
}

/* label + suffix (wire) into out; -ENAMETOOLONG past DNS_NAME_MAX. */
static int
dns_catalog_prepend(
    uint8_t out[DNS_NAME_MAX], const char *label, const uint8_t *suffix)
{
	size_t ll = strlen(label), sl = dns_name_len(suffix);

	if (ll == 0 || ll > 63 || 1 + ll + sl > DNS_NAME_MAX)
		return -ENAMETOOLONG;
	out[0] = (uint8_t)ll;
	memcpy(out + 1, label, ll);
	memcpy(out + 1 + ll, suffix, sl);
	return 0;
}

static void
dns_catalog_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The apex: SOA (§4.1: its contents are the transfer's only), NS. */
static int
dns_catalog_apex(struct dns_catalog_out *o, uint32_t serial)
{
	const uint8_t *inv = dns_catalog_invalid;
	size_t il = dns_name_len(inv);
	uint8_t soa[2 * DNS_NAME_MAX + 20], *p = soa;
	int rc;

	memcpy(p, inv, il); /* MNAME */
	p += il;
	memcpy(p, inv, il); /* RNAME */
	p += il;
	dns_catalog_put32(p, 0);
	dns_catalog_put32(p + 4, DNS_CATALOG_REFRESH);
	dns_catalog_put32(p + 8, DNS_CATALOG_RETRY);
	dns_catalog_put32(p + 12, DNS_CATALOG_EXPIRE);
	dns_catalog_put32(p + 16, 0); /* negative caching: none */
	/* The SOA without its serial: a haven with other timers must
	 * raise the serial too. */
	dns_catalog_hash(
	    o, o->cat->apex, DNS_TYPE_SOA, soa, (uint16_t)(p + 20 - soa));
	dns_catalog_put32(p, serial);
	p += 20;
	rc = dns_catalog_emit(
	    o, o->cat->apex, DNS_TYPE_SOA, soa, (uint16_t)(p - soa));
	if (rc != 0)
		return rc;
	return dns_catalog_emit(
	    o, o->cat->apex, DNS_TYPE_NS, inv, (uint16_t)il);
}

/* One member: the PTR at its id (§4.3), and its group (§4.4.2). */
static int
dns_catalog_member(
    struct dns_catalog_out *o, const uint8_t *zones, const uint8_t *member)
{
	uint8_t owner[DNS_NAME_MAX], gowner[DNS_NAME_MAX], txt[256];
	char id[2 * DNS_CATALOG_ID_BYTES + 1];
	size_t gl;
	int rc;

	dns_catalog_id(member, id);
	if ((rc = dns_catalog_prepend(owner, id, zones)) != 0)
		return rc;
	rc = dns_catalog_emit(
	    o, owner, DNS_TYPE_PTR, member, (uint16_t)dns_name_len(member));
	if (rc != 0 || o->cat->group == NULL)
		return rc;
	if ((rc = dns_catalog_prepend(gowner, "group", owner)) != 0)
		return rc;
	gl = strlen(o->cat->group);
	if (gl > DNS_CATALOG_GROUP_MAX)
		return -EINVAL; /* the check refuses it first */
	txt[0] = (uint8_t)gl;
	memcpy(txt + 1, o->cat->group, gl);
	return dns_catalog_emit(
	    o, gowner, DNS_TYPE_TXT, txt, (uint16_t)(gl + 1));
}

int
dns_catalog_build(const struct dns_catalog_conf *cat, uint32_t serial,
    dns_zone_rr_fn *rr, void *arg, uint8_t digest[DNS_CATALOG_DIGEST_BYTES])
{
	/* One character-string: its length, then the text. */
	static const uint8_t version[] = { sizeof(DNS_CATALOG_VERSION) - 1,
		DNS_CATALOG_VERSION[0] };
	struct dns_catalog_out o = { .cat = cat, .rr = rr, .arg = arg };
	uint8_t owner[DNS_NAME_MAX], zones[DNS_NAME_MAX];
	uint8_t sink[DNS_CATALOG_DIGEST_BYTES];
	int rc;

	crypto_generichash_init(&o.hs, NULL, 0, sizeof(sink));
	if ((rc = dns_catalog_apex(&o, serial)) != 0)
		goto out;
	if ((rc = dns_catalog_prepend(owner, "version", cat->apex)) != 0)
		goto out;
	if ((rc = dns_catalog_emit(
	         &o, owner, DNS_TYPE_TXT, version, sizeof(version))) != 0)
		goto out;
	if ((rc = dns_catalog_prepend(zones, "zones", cat->apex)) != 0)
		goto out;
	for (size_t i = 0; i < cat->nmember_apex && rc == 0; i++)
		rc = dns_catalog_member(&o, zones, cat->member_apex[i]);
out:
	crypto_generichash_final(
	    &o.hs, digest != NULL ? digest : sink, sizeof(sink));
	return rc;
}
