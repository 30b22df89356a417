/*
 * dns_tsig.c - RFC 8945 transaction signatures with HMAC-SHA256: parse the
 * TSIG record, build the digest input §4.3 describes, sign and verify.
 * Pure (no I/O, clock or globals): the caller passes the time.
 *
 * The digest never copies the message: the HMAC is fed the prior MAC, the
 * header as it was before the TSIG was added (ARCOUNT one less, the
 * original ID), the rest of the message up to the TSIG record, then the
 * TSIG variables. Comparisons of MACs run in constant time.
 */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

#include "dns/dns_tsig.h"
#include "dns/dns_wire.h"
#include "lib/util.h"

/* "hmac-sha256." in wire form, RFC 8945 §6. */
static const uint8_t dns_tsig_alg_sha256[] = { 11, 'h', 'm', 'a', 'c', '-', 's',
	'h', 'a', '2', '5', '6', 0 };

#define DNS_TSIG_FIXED                                                         \
	16 /* time 6, fudge 2, MAC size 2, orig id 2,                          \
	      error 2, other len 2; plus MAC and other */

static uint16_t
dns_tsig_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
dns_tsig_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
dns_tsig_put48(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 5; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

int
dns_tsig_key_init(struct dns_tsig_key *key, const char *name, const char *alg,
    const uint8_t *secret, size_t secret_len)
{
	int n;

	memset(key, 0, sizeof(*key));
	if (strcmp(alg, "hmac-sha256") != 0 && strcmp(alg, "hmac-sha256.") != 0)
		return -ENOTSUP;
	if (secret_len == 0 || secret_len > DNS_TSIG_SECRET_MAX)
		return -EINVAL;
	n = dns_name_from_text(
	    key->name, name, strlen(name), (const uint8_t *)"");
	if (n < 0)
		return -EINVAL;
	dns_name_lower(key->name);
	memcpy(key->secret, secret, secret_len);
	key->secret_len = secret_len;
	return 0;
}

/* Move *off past the record there; 0 or -EBADMSG. */
static int
dns_tsig_skip_rr(const uint8_t *msg, size_t len, size_t *off, uint16_t *type,
    uint8_t owner[DNS_NAME_MAX])
{
	size_t rdlen;

	if (dns_wire_name_read(msg, len, off, owner) != DNS_WIRE_OK)
		return -EBADMSG;
	if (len - *off < 10)
		return -EBADMSG;
	*type = dns_tsig_get16(msg + *off);
	rdlen = dns_tsig_get16(msg + *off + 8);
	if (len - *off - 10 < rdlen)
		return -EBADMSG;
	*off += 10 + rdlen;
	return 0;
}

/* Parse the TSIG RDATA at p (rdlen bytes) into rr. */
static int
dns_tsig_rdata(const uint8_t *msg, size_t len, size_t off, size_t rdlen,
    struct dns_tsig_rr *rr)
{
	size_t end = off + rdlen, p = off;
	int n;

	/* The algorithm name is never compressed (§4.2). */
	n = dns_name_check(msg + p, end - p);
	if (n < 0)
		return -EBADMSG;
	memcpy(rr->alg, msg + p, (size_t)n);
	p += (size_t)n;
	if (end - p < 10)
		return -EBADMSG;
	rr->time_signed = (uint64_t)dns_tsig_get16(msg + p) << 32 |
	    (uint64_t)dns_tsig_get16(msg + p + 2) << 16 |
	    dns_tsig_get16(msg + p + 4);
	rr->fudge = dns_tsig_get16(msg + p + 6);
	rr->mac_len = dns_tsig_get16(msg + p + 8);
	p += 10;
	if (rr->mac_len > DNS_TSIG_MAC_MAX || end - p < rr->mac_len)
		return -EBADMSG;
	memcpy(rr->mac, msg + p, rr->mac_len);
	p += rr->mac_len;
	if (end - p < 6)
		return -EBADMSG;
	rr->orig_id = dns_tsig_get16(msg + p);
	rr->error = dns_tsig_get16(msg + p + 2);
	rr->other_len = dns_tsig_get16(msg + p + 4);
	p += 6;
	if (rr->other_len > sizeof(rr->other) || end - p != rr->other_len)
		return -EBADMSG;
	memcpy(rr->other, msg + p, rr->other_len);
	return 0;
}

int
dns_tsig_find(const uint8_t *msg, size_t len, struct dns_tsig_rr *rr)
{
	uint8_t owner[DNS_NAME_MAX];
	size_t off = DNS_HDR_LEN, start = 0, rdlen;
	unsigned i, n, qd, ar;
	uint16_t type = 0;

	memset(rr, 0, sizeof(*rr));
	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	qd = dns_tsig_get16(msg + 4);
	n = (unsigned)dns_tsig_get16(msg + 6) + dns_tsig_get16(msg + 8) +
	    dns_tsig_get16(msg + 10);
	ar = dns_tsig_get16(msg + 10);
	for (i = 0; i < qd; i++) {
		if (dns_wire_name_read(msg, len, &off, owner) != DNS_WIRE_OK ||
		    len - off < 4)
			return -EBADMSG;
		off += 4;
	}
	for (i = 0; i < n; i++) {
		start = off;
		if (dns_tsig_skip_rr(msg, len, &off, &type, owner) < 0)
			return -EBADMSG;
		if (type == DNS_TYPE_TSIG && (i + 1 != n || ar == 0))
			return -EBADMSG;
	}
	if (off != len)
		return -EBADMSG;
	if (n == 0 || type != DNS_TYPE_TSIG)
		return -ENOENT;
	/* Re-read the last record's owner and fixed part. */
	off = start;
	if (dns_wire_name_read(msg, len, &off, rr->name) != DNS_WIRE_OK)
		return -EBADMSG;
	if (dns_tsig_get16(msg + off + 2) != DNS_CLASS_ANY ||
	    dns_tsig_get16(msg + off + 4) != 0 ||
	    dns_tsig_get16(msg + off + 6) != 0)
		return -EBADMSG;
	rdlen = dns_tsig_get16(msg + off + 8);
	rr->off = start;
	return dns_tsig_rdata(msg, len, off + 10, rdlen, rr);
}

/*
 * HMAC-SHA256 over the pieces of one digest. A NULL return from the
 * OpenSSL calls is an allocation failure: reported as -ENOMEM.
 */
struct dns_tsig_hmac {
	EVP_MAC *mac;     /* owned */
	EVP_MAC_CTX *ctx; /* owned */
};

static int
dns_tsig_hmac_init(struct dns_tsig_hmac *h, const struct dns_tsig_key *key)
{
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	h->ctx = NULL;
	h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (h->mac == NULL)
		return -ENOMEM;
	h->ctx = EVP_MAC_CTX_new(h->mac);
	if (h->ctx == NULL ||
	    !EVP_MAC_init(h->ctx, key->secret, key->secret_len, params)) {
		EVP_MAC_CTX_free(h->ctx);
		EVP_MAC_free(h->mac);
		return -ENOMEM;
	}
	return 0;
}

static void
dns_tsig_hmac_update(struct dns_tsig_hmac *h, const uint8_t *p, size_t n)
{
	/* Update on an initialised HMAC only fails on a broken provider. */
	(void)EVP_MAC_update(h->ctx, p, n);
}

static int
dns_tsig_hmac_final(struct dns_tsig_hmac *h, uint8_t out[DNS_TSIG_SHA256_LEN])
{
	size_t n = 0;
	int ok;

	ok = EVP_MAC_final(h->ctx, out, &n, DNS_TSIG_SHA256_LEN);
	EVP_MAC_CTX_free(h->ctx);
	EVP_MAC_free(h->mac);
	return ok && n == DNS_TSIG_SHA256_LEN ? 0 : -ENOMEM;
}

/* The TSIG fields the digest covers (§4.3.3), or the timers (§4.3.1). */
struct dns_tsig_vars {
	const uint8_t *name; /* borrowed: key name */
	uint64_t time_signed;
	uint16_t fudge;
	uint16_t error;
	uint16_t other_len;
	const uint8_t *other; /* borrowed */
};

/*
 * MAC of: prior (if prior_len), the message's first end bytes with
 * ARCOUNT one less than in msg when tsig_in_msg, and id as its ID, then
 * the variables (all, or the timers when timers_only).
 */
static int
dns_tsig_digest(const struct dns_tsig_key *key, const uint8_t *prior,
    uint16_t prior_len, const uint8_t *msg, size_t end, uint16_t id,
    bool tsig_in_msg, const struct dns_tsig_vars *v, bool timers_only,
    uint8_t out[DNS_TSIG_SHA256_LEN])
{
	struct dns_tsig_hmac h;
	uint8_t hdr[DNS_HDR_LEN], b[16], name[DNS_NAME_MAX];
	int rc;

	if ((rc = dns_tsig_hmac_init(&h, key)) < 0)
		return rc;
	if (prior_len > 0) {
		dns_tsig_put16(b, prior_len);
		dns_tsig_hmac_update(&h, b, 2);
		dns_tsig_hmac_update(&h, prior, prior_len);
	}
	memcpy(hdr, msg, DNS_HDR_LEN);
	dns_tsig_put16(hdr, id);
	if (tsig_in_msg)
		dns_tsig_put16(
		    hdr + 10, (uint16_t)(dns_tsig_get16(hdr + 10) - 1));
	dns_tsig_hmac_update(&h, hdr, DNS_HDR_LEN);
	dns_tsig_hmac_update(&h, msg + DNS_HDR_LEN, end - DNS_HDR_LEN);
	if (!timers_only) {
		memcpy(name, v->name, dns_name_len(v->name));
		dns_name_lower(name);
		dns_tsig_hmac_update(&h, name, dns_name_len(name));
		dns_tsig_put16(b, DNS_CLASS_ANY);
		memset(b + 2, 0, 4); /* TTL */
		dns_tsig_hmac_update(&h, b, 6);
		dns_tsig_hmac_update(
		    &h, dns_tsig_alg_sha256, sizeof(dns_tsig_alg_sha256));
	}
	dns_tsig_put48(b, v->time_signed);
	dns_tsig_put16(b + 6, v->fudge);
	dns_tsig_hmac_update(&h, b, 8);
	if (!timers_only) {
		dns_tsig_put16(b, v->error);
		dns_tsig_put16(b + 2, v->other_len);
		dns_tsig_hmac_update(&h, b, 4);
		if (v->other_len > 0)
			dns_tsig_hmac_update(&h, v->other, v->other_len);
	}
	return dns_tsig_hmac_final(&h, out);
}

static bool
dns_tsig_in_time(uint64_t now, uint64_t signed_at, uint16_t fudge)
{
	uint64_t d = now > signed_at ? now - signed_at : signed_at - now;

	return d <= fudge;
}

/*
 * Check rr's MAC in msg against key with the chaining state of ctx;
 * returns a TSIG error or a negative errno.
 */
static int
dns_tsig_check(const struct dns_tsig_key *key, struct dns_tsig_ctx *ctx,
    const uint8_t *msg, const struct dns_tsig_rr *rr, uint64_t now,
    bool timers_only)
{
	uint8_t mac[DNS_TSIG_SHA256_LEN];
	struct dns_tsig_vars v = {
		.name = rr->name,
		.time_signed = rr->time_signed,
		.fudge = rr->fudge,
		.error = rr->error,
		.other_len = rr->other_len,
		.other = rr->other,
	};
	int rc;

	if (rr->mac_len > DNS_TSIG_SHA256_LEN ||
	    rr->mac_len < MIN(10, DNS_TSIG_MAC_MIN))
		return -EBADMSG;
	rc = dns_tsig_digest(key, ctx->prior, ctx->prior_len, msg, rr->off,
	    rr->orig_id, true, &v, timers_only, mac);
	if (rc < 0)
		return rc;
	if (CRYPTO_memcmp(mac, rr->mac, rr->mac_len) != 0)
		return DNS_TSIG_BADSIG;
	if (!dns_tsig_in_time(now, rr->time_signed, rr->fudge))
		return DNS_TSIG_BADTIME;
	if (rr->mac_len < DNS_TSIG_MAC_MIN)
		return DNS_TSIG_BADTRUNC;
	return DNS_TSIG_NOERROR;
}

int
dns_tsig_verify(const struct dns_tsig_key *keys, size_t nkeys,
    const uint8_t *msg, size_t len, uint64_t now, struct dns_tsig_ctx *ctx)
{
	struct dns_tsig_rr rr;
	size_t i;
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	if ((rc = dns_tsig_find(msg, len, &rr)) < 0)
		return rc;
	ctx->orig_id = rr.orig_id;
	ctx->signed_at = rr.time_signed;
	memcpy(ctx->name, rr.name, dns_name_len(rr.name));
	if (rr.mac_len > DNS_TSIG_SHA256_LEN || rr.mac_len < 10)
		return -EBADMSG;
	for (i = 0; i < nkeys; i++)
		if (dns_name_equal(keys[i].name, rr.name))
			break;
	if (i == nkeys || !dns_name_equal(rr.alg, dns_tsig_alg_sha256)) {
		ctx->error = DNS_TSIG_BADKEY;
		return ctx->error;
	}
	ctx->key = &keys[i];
	rc = dns_tsig_check(ctx->key, ctx, msg, &rr, now, false);
	if (rc < 0)
		return rc;
	ctx->error = (uint16_t)rc;
	if (rc == DNS_TSIG_NOERROR || rc == DNS_TSIG_BADTIME ||
	    rc == DNS_TSIG_BADTRUNC) {
		/* The answer is signed, chained to this MAC (§5.3). */
		memcpy(ctx->prior, rr.mac, rr.mac_len);
		ctx->prior_len = rr.mac_len;
		ctx->mac_len = DNS_TSIG_SHA256_LEN;
		if (rc == DNS_TSIG_NOERROR)
			ctx->mac_len = rr.mac_len;
	}
	return rc;
}

void
dns_tsig_ctx_client(struct dns_tsig_ctx *ctx, const struct dns_tsig_key *key)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->key = key;
	memcpy(ctx->name, key->name, dns_name_len(key->name));
	ctx->mac_len = DNS_TSIG_SHA256_LEN;
}

int
dns_tsig_sign(struct dns_tsig_ctx *ctx, uint8_t *msg, size_t *len, size_t size,
    uint64_t now)
{
	uint8_t mac[DNS_TSIG_SHA256_LEN], other[6], *p;
	const struct dns_tsig_key *key = ctx->key;
	bool request, nomac, timers_only;
	struct dns_tsig_vars v;
	size_t need, n;
	uint16_t mac_len;
	int rc;

	if (*len < DNS_HDR_LEN)
		return -EINVAL;
	nomac = ctx->error == DNS_TSIG_BADKEY || ctx->error == DNS_TSIG_BADSIG;
	if (key == NULL && !nomac)
		return -EINVAL;
	request = ctx->prior_len == 0 && !nomac;
	timers_only = !request && ctx->nmsg > 0;
	memset(&v, 0, sizeof(v));
	/* BADKEY names the key the request asked for (§5.3.2). */
	v.name = key != NULL ? key->name : ctx->name;
	v.time_signed = ctx->error == DNS_TSIG_BADTIME ? ctx->signed_at : now;
	v.fudge = DNS_TSIG_FUDGE;
	v.error = ctx->error;
	if (ctx->error == DNS_TSIG_BADTIME) {
		dns_tsig_put48(other, now);
		v.other = other;
		v.other_len = 6;
	}
	mac_len = nomac ? 0 : ctx->mac_len;
	n = dns_name_len(v.name);
	need = n + 10 + sizeof(dns_tsig_alg_sha256) + DNS_TSIG_FIXED + mac_len +
	    v.other_len;
	if (size < *len || size - *len < need)
		return -EMSGSIZE;
	if (!nomac) {
		rc = dns_tsig_digest(key, ctx->prior, ctx->prior_len, msg, *len,
		    dns_tsig_get16(msg), false, &v, timers_only, mac);
		if (rc < 0)
			return rc;
	}
	p = msg + *len;
	memcpy(p, v.name, n);
	p += n;
	dns_tsig_put16(p, DNS_TYPE_TSIG);
	dns_tsig_put16(p + 2, DNS_CLASS_ANY);
	memset(p + 4, 0, 4);
	dns_tsig_put16(p + 8, (uint16_t)(need - n - 10));
	p += 10;
	memcpy(p, dns_tsig_alg_sha256, sizeof(dns_tsig_alg_sha256));
	p += sizeof(dns_tsig_alg_sha256);
	dns_tsig_put48(p, v.time_signed);
	dns_tsig_put16(p + 6, v.fudge);
	dns_tsig_put16(p + 8, mac_len);
	p += 10;
	memcpy(p, mac, mac_len);
	p += mac_len;
	dns_tsig_put16(p, request ? dns_tsig_get16(msg) : ctx->orig_id);
	dns_tsig_put16(p + 2, v.error);
	dns_tsig_put16(p + 4, v.other_len);
	p += 6;
	memcpy(p, other, v.other_len);
	*len += need;
	dns_tsig_put16(msg + 10, (uint16_t)(dns_tsig_get16(msg + 10) + 1));
	if (!nomac) {
		memcpy(ctx->prior, mac, mac_len);
		ctx->prior_len = mac_len;
	}
	if (request)
		ctx->orig_id = dns_tsig_get16(msg);
	else
		ctx->nmsg++;
	return 0;
}

int
dns_tsig_verify_answer(struct dns_tsig_ctx *ctx, const uint8_t *msg, size_t len,
    uint64_t now, size_t *tsig_off)
{
	struct dns_tsig_rr rr;
	int rc;

	if ((rc = dns_tsig_find(msg, len, &rr)) < 0)
		return rc;
	*tsig_off = rr.off;
	if (ctx->key == NULL || !dns_name_equal(rr.name, ctx->key->name) ||
	    !dns_name_equal(rr.alg, dns_tsig_alg_sha256))
		return DNS_TSIG_BADKEY;
	if (rr.error != DNS_TSIG_NOERROR && rr.mac_len == 0)
		return rr.error;
	rc = dns_tsig_check(ctx->key, ctx, msg, &rr, now, ctx->nmsg > 0);
	if (rc < 0)
		return rc;
	if (rc == DNS_TSIG_NOERROR && rr.error != DNS_TSIG_NOERROR)
		rc = rr.error;
	if (rc == DNS_TSIG_NOERROR) {
		memcpy(ctx->prior, rr.mac, rr.mac_len);
		ctx->prior_len = rr.mac_len;
		ctx->nmsg++;
	}
	return rc;
}
