/*
 * dns_sign.c - RRSIG construction and the signature caches (dns_sign.h).
 * The one part of the answer path that allocates: a cache slot on a set's
 * first signature, and scratch for the canonical form while signing.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_rdata.h"
#include "dns/dns_sign.h"
#include "lib/util.h"

/* One cached signature. */
struct dns_sign_entry {
	uint32_t inception, expiration;
	uint8_t key[32]; /* content cache: SHA-256 of the signed records */
	bool used;
	uint8_t sig[DNS_KEY_SIG_LEN];
};

/* The keys of one zone and what each signs (dns_sign_add_key). */
struct dns_sign_zone {
	struct dns_key keys[DNS_SIGN_KEYS_MAX]; /* owned: the first n */
	unsigned n;
	int data; /* index of the key signing the data; -1: unsigned */
	uint8_t ksig[DNS_SIGN_KEYS_MAX]; /* the keys signing the DNSKEYs */
	unsigned nksig;
};

struct dns_sign {
	struct dns_sign_zone *zones; /* owned: nzones */
	unsigned nzones;
	struct dns_sign_entry **stat; /* owned: nsets slots, each owned */
	uint32_t nsets;
	struct dns_sign_entry *dyn; /* owned: DNS_SIGN_DYN_SLOTS */
	struct dns_sign_stats st;
};

struct dns_sign *
dns_sign_new(unsigned nzones, uint32_t nsets)
{
	struct dns_sign *s = xcalloc(1, sizeof(*s));

	s->zones = xcalloc(nzones + 1, sizeof(*s->zones));
	for (unsigned i = 0; i < nzones; i++)
		s->zones[i].data = -1;
	s->nzones = nzones;
	s->stat = xcalloc((size_t)nsets + 1, sizeof(*s->stat));
	s->nsets = nsets;
	s->dyn = xcalloc(DNS_SIGN_DYN_SLOTS, sizeof(*s->dyn));
	return s;
}

void
dns_sign_free(struct dns_sign *s)
{
	if (s == NULL)
		return;
	for (unsigned i = 0; i < s->nzones; i++)
		for (unsigned k = 0; k < s->zones[i].n; k++)
			dns_key_fini(&s->zones[i].keys[k]);
	for (uint32_t i = 0; i < s->nsets; i++)
		free(s->stat[i]);
	free(s->zones);
	free(s->stat);
	free(s->dyn);
	free(s);
}

void
dns_sign_add_key(
    struct dns_sign *s, unsigned zone, struct dns_key *k, unsigned uses)
{
	struct dns_sign_zone *z;

	if (zone >= s->nzones || s->zones[zone].n == DNS_SIGN_KEYS_MAX ||
	    ((uses & DNS_SIGN_DATA) && s->zones[zone].data >= 0))
		fatal("dns_sign_add_key: zone %u of %u: a key too many", zone,
		    s->nzones);
	z = &s->zones[zone];
	if (uses & DNS_SIGN_DATA)
		z->data = (int)z->n;
	if (uses & DNS_SIGN_DNSKEY)
		z->ksig[z->nksig++] = (uint8_t)z->n;
	z->keys[z->n++] = *k;
	memset(k, 0, sizeof(*k));
}

const struct dns_key *
dns_sign_key(const struct dns_sign *s, int zone)
{
	if (s == NULL || zone < 0 || (unsigned)zone >= s->nzones ||
	    s->zones[zone].data < 0)
		return NULL;
	return &s->zones[zone].keys[s->zones[zone].data];
}

unsigned
dns_sign_count(const struct dns_sign *s, int zone, uint16_t type)
{
	if (dns_sign_key(s, zone) == NULL)
		return 0;
	return type == DNS_TYPE_DNSKEY ? s->zones[zone].nksig : 1;
}

/* The nth key signing sets of type in zone, or NULL. */
static const struct dns_key *
dns_sign_signer(const struct dns_sign *s, int zone, uint16_t type, unsigned nth)
{
	const struct dns_sign_zone *z;

	if (nth >= dns_sign_count(s, zone, type))
		return NULL;
	z = &s->zones[zone];
	return &z->keys[type == DNS_TYPE_DNSKEY ? z->ksig[nth] : z->data];
}

void
dns_sign_stats(const struct dns_sign *s, struct dns_sign_stats *st)
{
	*st = s->st;
}

/*
 * Fold in place the names inside rd (len bytes) of type, per RFC 4034
 * §6.2 item 3 as amended by RFC 6840 §5.1 (not NSEC, RRSIG). Malformed
 * RDATA is left as it is: the db only holds what the parser accepted.
 */
static void
dns_sign_canon_rdata(uint16_t type, uint8_t *rd, size_t len)
{
	const struct dns_rdata_shape *sh;
	size_t at[DNS_RDATA_NAMES_MAX];
	int n, i;

	if ((sh = dns_rdata_shape(type, DNS_RDATA_CANON)) == NULL)
		return;
	n = dns_rdata_names(sh, rd, len, at);
	for (i = 0; i < n; i++)
		dns_name_lower(rd + at[i]);
}

/* Canonical RDATA, for sorting: bytes, then the shorter first. */
struct dns_sign_rec {
	const uint8_t *p;
	uint16_t len;
};

static int
dns_sign_rec_cmp(const void *a, const void *b)
{
	const struct dns_sign_rec *x = a, *y = b;
	int c = memcmp(x->p, y->p, MIN(x->len, y->len));

	if (c != 0)
		return c;
	return (int)x->len - (int)y->len;
}

int
dns_sign_data(const uint8_t *rrsig_fixed, size_t fixed_len,
    const uint8_t *lname, const struct dns_rrset *set, uint32_t orig_ttl,
    uint8_t *out, size_t size)
{
	size_t olen = dns_name_len(lname), need = fixed_len, rdsum = 0, off;
	struct dns_sign_rec *recs;
	uint8_t *canon;
	unsigned i;

	for (i = 0; i < set->count; i++) {
		need += olen + 10 + set->rdata[i].len;
		rdsum += set->rdata[i].len;
	}
	if (need > size)
		return -EMSGSIZE;
	recs = xcalloc(set->count + 1, sizeof(*recs));
	canon = xmalloc(rdsum + 1);
	for (i = 0, off = 0; i < set->count; i++) {
		memcpy(canon + off, set->rdata[i].data, set->rdata[i].len);
		dns_sign_canon_rdata(set->type, canon + off, set->rdata[i].len);
		recs[i].p = canon + off;
		recs[i].len = set->rdata[i].len;
		off += set->rdata[i].len;
	}
	qsort(recs, set->count, sizeof(*recs), dns_sign_rec_cmp);
	memcpy(out, rrsig_fixed, fixed_len);
	off = fixed_len;
	for (i = 0; i < set->count; i++) {
		/* RFC 4034 §6.3: a duplicate record counts once. */
		if (i > 0 && dns_sign_rec_cmp(&recs[i - 1], &recs[i]) == 0)
			continue;
		memcpy(out + off, lname, olen);
		dns_name_lower(out + off);
		off += olen;
		out[off++] = (uint8_t)(set->type >> 8);
		out[off++] = (uint8_t)set->type;
		out[off++] = 0;
		out[off++] = DNS_CLASS_IN;
		out[off++] = (uint8_t)(orig_ttl >> 24);
		out[off++] = (uint8_t)(orig_ttl >> 16);
		out[off++] = (uint8_t)(orig_ttl >> 8);
		out[off++] = (uint8_t)orig_ttl;
		out[off++] = (uint8_t)(recs[i].len >> 8);
		out[off++] = (uint8_t)recs[i].len;
		memcpy(out + off, recs[i].p, recs[i].len);
		off += recs[i].len;
	}
	free(canon);
	free(recs);
	return (int)off;
}

/* RRSIG RDATA up to the signer's name; its length. RFC 4034 §3.1. */
static size_t
dns_sign_fixed(uint8_t *p, uint16_t type, const uint8_t *lname,
    uint32_t orig_ttl, uint32_t inc, uint32_t exp, uint16_t tag,
    const uint8_t *apex)
{
	unsigned labels = dns_name_labels(lname);
	size_t alen = dns_name_len(apex);

	if (lname[0] == 1 && lname[1] == '*')
		labels--; /* RFC 4034 §3.1.3 */
	p[0] = (uint8_t)(type >> 8);
	p[1] = (uint8_t)type;
	p[2] = DNS_KEY_ALG_ECDSAP256;
	p[3] = (uint8_t)labels;
	p[4] = (uint8_t)(orig_ttl >> 24);
	p[5] = (uint8_t)(orig_ttl >> 16);
	p[6] = (uint8_t)(orig_ttl >> 8);
	p[7] = (uint8_t)orig_ttl;
	p[8] = (uint8_t)(exp >> 24);
	p[9] = (uint8_t)(exp >> 16);
	p[10] = (uint8_t)(exp >> 8);
	p[11] = (uint8_t)exp;
	p[12] = (uint8_t)(inc >> 24);
	p[13] = (uint8_t)(inc >> 16);
	p[14] = (uint8_t)(inc >> 8);
	p[15] = (uint8_t)inc;
	p[16] = (uint8_t)(tag >> 8);
	p[17] = (uint8_t)tag;
	memcpy(p + 18, apex, alen);
	dns_name_lower(p + 18);
	return 18 + alen;
}

/* Whether e may still be served at now: half its validity left. */
static bool
dns_sign_fresh(const struct dns_sign_entry *e, uint32_t now)
{
	uint32_t mid = e->inception + DNS_SIGN_SKEW + DNS_SIGN_VALIDITY / 2;

	return e->used && now >= e->inception && now < mid;
}

/* The content cache slot of a key: its first 24 bits, uniform enough. */
static uint32_t
dns_sign_slot(const uint8_t key[32])
{
	return ((uint32_t)key[0] << 16 | (uint32_t)key[1] << 8 | key[2]) %
	    DNS_SIGN_DYN_SLOTS;
}

/* The content key of a per-query set: SHA-256 of its signed records. */
static int
dns_sign_content_key(const uint8_t *data, size_t len, uint8_t key[32])
{
	unsigned dl = 0;

	if (EVP_Digest(data, len, key, &dl, EVP_sha256(), NULL) != 1 ||
	    dl != 32)
		return -EIO;
	return 0;
}

int
dns_sign_rrsig(struct dns_sign *s, int zone, const uint8_t *apex, uint32_t sidx,
    const uint8_t *lname, const struct dns_rrset *set, uint32_t orig_ttl,
    uint32_t now, unsigned nth, uint8_t *out)
{
	const struct dns_key *k = dns_sign_signer(s, zone, set->type, nth);
	struct dns_sign_entry *e, tmp;
	uint32_t inc = now - DNS_SIGN_SKEW, exp = now + DNS_SIGN_VALIDITY;
	uint8_t *data = NULL, ckey[32];
	size_t fixed, size;
	int n, rc = -EIO;

	if (k == NULL)
		return -EINVAL;
	if (sidx != DNS_SIGN_NONE && sidx >= s->nsets)
		return -EINVAL;
	/* A set's one static slot holds its first signature; a DNSKEY
	 * RRset's others (a KSK rollover's) are cached by content. */
	if (nth > 0)
		sidx = DNS_SIGN_NONE;
	/* The fixed part with the times a new signature gets; a cached
	 * signature's own times are written over them at the end. */
	fixed = dns_sign_fixed(
	    out, set->type, lname, orig_ttl, inc, exp, k->tag, apex);
	size = fixed;
	for (unsigned i = 0; i < set->count; i++)
		size += dns_name_len(lname) + 10 + set->rdata[i].len;
	if (sidx != DNS_SIGN_NONE) {
		e = s->stat[sidx];
		if (e != NULL && dns_sign_fresh(e, now))
			goto hit;
		if (e == NULL)
			e = s->stat[sidx] = xcalloc(1, sizeof(*e));
	} else {
		e = NULL;
	}
	data = xmalloc(size);
	if ((n = dns_sign_data(out, fixed, lname, set, orig_ttl, data, size)) <
	    0) {
		rc = n;
		goto fail;
	}
	if (e == NULL) {
		/* Keyed by the records alone (the times excluded), and by
		 * the type, labels and TTL the fixed part holds. */
		memset(data + 8, 0, 8);
		if (dns_sign_content_key(data, (size_t)n, ckey) != 0)
			goto fail;
		dns_sign_fixed(
		    data, set->type, lname, orig_ttl, inc, exp, k->tag, apex);
		e = &s->dyn[dns_sign_slot(ckey)];
		if (dns_sign_fresh(e, now) && memcmp(e->key, ckey, 32) == 0)
			goto hit;
		memcpy(tmp.key, ckey, 32);
	}
	tmp.inception = inc;
	tmp.expiration = exp;
	tmp.used = true;
	if (dns_key_sign(k, data, (size_t)n, tmp.sig) != 0)
		goto fail;
	if (sidx != DNS_SIGN_NONE) {
		memcpy(tmp.key, e->key, 32);
		s->st.signed_static++;
	} else {
		s->st.signed_dyn++;
	}
	*e = tmp;
	free(data);
	goto write;
hit:
	s->st.hits++;
	free(data);
write:
	dns_sign_fixed(out, set->type, lname, orig_ttl, e->inception,
	    e->expiration, k->tag, apex);
	memcpy(out + fixed, e->sig, DNS_KEY_SIG_LEN);
	return (int)(fixed + DNS_KEY_SIG_LEN);
fail:
	s->st.failures++;
	free(data);
	return rc;
}
