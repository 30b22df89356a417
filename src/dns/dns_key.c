/*
 * dns_key.c - DNSSEC signing key (dns_key.h) on OpenSSL 3.
 */
#include <errno.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns_key.h"
#include "dns/dns_name.h"

/* Read the key from bio (freed here), named path in errors. */
static int
dns_key_from_bio(
    struct dns_key *k, BIO *bio, const char *path, char *err, size_t errlen)
{
	uint8_t pub[1 + DNS_KEY_PUB_LEN];
	char group[64];
	size_t n = 0;

	k->pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);

	if (k->pkey == NULL) {
		snprintf(err, errlen, "%s: not a PEM private key", path);
		return -EINVAL;
	}
	/* Only P-256: algorithm 13 is that curve (RFC 6605 §2). */
	if (!EVP_PKEY_is_a(k->pkey, "EC") ||
	    EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	        group, sizeof(group), NULL) != 1 ||
	    strcmp(group, "prime256v1") != 0) {
		snprintf(err, errlen,
		    "%s: not an ECDSA P-256 key (DNSSEC algorithm 13)", path);
		dns_key_fini(k);
		return -EINVAL;
	}
	if (EVP_PKEY_get_octet_string_param(
	        k->pkey, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n) != 1 ||
	    n != sizeof(pub) || pub[0] != 0x04) {
		snprintf(err, errlen, "%s: public key not derivable", path);
		dns_key_fini(k);
		return -EINVAL;
	}
	k->rdata[0] = DNS_KEY_FLAGS_CSK >> 8;
	k->rdata[1] = DNS_KEY_FLAGS_CSK & 0xff;
	k->rdata[2] = DNS_KEY_PROTOCOL;
	k->rdata[3] = DNS_KEY_ALG_ECDSAP256;
	memcpy(k->rdata + 4, pub + 1, DNS_KEY_PUB_LEN); /* without 0x04 */
	k->tag = dns_key_tag(k->rdata, sizeof(k->rdata));
	return 0;
}

int
dns_key_load(struct dns_key *k, const char *path, char *err, size_t errlen)
{
	BIO *bio;

	memset(k, 0, sizeof(*k));
	errno = 0;
	if ((bio = BIO_new_file(path, "r")) == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno != 0 ? errno : EIO));
		return -ENOENT;
	}
	return dns_key_from_bio(k, bio, path, err, errlen);
}

int
dns_key_parse(struct dns_key *k, const char *pem, size_t len, const char *what,
    char *err, size_t errlen)
{
	BIO *bio;

	memset(k, 0, sizeof(*k));
	if (len > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		snprintf(err, errlen, "%s: cannot read", what);
		return -ENOMEM;
	}
	return dns_key_from_bio(k, bio, what, err, errlen);
}

void
dns_key_set_flags(struct dns_key *k, uint16_t flags)
{
	k->rdata[0] = (uint8_t)(flags >> 8);
	k->rdata[1] = (uint8_t)(flags & 0xff);
	k->tag = dns_key_tag(k->rdata, sizeof(k->rdata));
}

void
dns_key_fini(struct dns_key *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
}

uint16_t
dns_key_tag(const uint8_t *rdata, size_t len)
{
	uint32_t ac = 0;
	size_t i;

	for (i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return (uint16_t)(ac & 0xffff);
}

int
dns_key_ds(const uint8_t *owner, const uint8_t *rdata, size_t len,
    uint8_t digest[DNS_KEY_DS_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned dl = 0;
	int ok;

	if (md == NULL)
		return -EIO;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, owner, dns_name_len(owner)) == 1 &&
	    EVP_DigestUpdate(md, rdata, len) == 1 &&
	    EVP_DigestFinal_ex(md, digest, &dl) == 1 && dl == DNS_KEY_DS_LEN;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -EIO;
}

int
dns_key_ds_text(
    const struct dns_key *k, const uint8_t *apex, char *buf, size_t size)
{
	uint8_t d[DNS_KEY_DS_LEN];
	int n;

	if (dns_key_ds(apex, k->rdata, sizeof(k->rdata), d) != 0)
		return -EIO;
	n = snprintf(buf, size, "%u %d %d ", k->tag, DNS_KEY_ALG_ECDSAP256,
	    DNS_KEY_DS_SHA256);
	if (n < 0 || size < (size_t)n + 2 * DNS_KEY_DS_LEN + 1)
		return -EMSGSIZE;
	for (size_t i = 0; i < DNS_KEY_DS_LEN; i++)
		snprintf(buf + n + 2 * i, 3, "%02x", d[i]);
	return 0;
}

int
dns_key_sign(const struct dns_key *k, const uint8_t *data, size_t len,
    uint8_t sig[DNS_KEY_SIG_LEN])
{
	unsigned char der[80];
	const unsigned char *p = der;
	size_t dlen = sizeof(der);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *es = NULL;
	const BIGNUM *r, *s;
	int rc = -EIO;

	if (md == NULL)
		return -EIO;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(md, der, &dlen, data, len) != 1)
		goto out;
	/* OpenSSL gives DER; DNSSEC wants the two integers padded. */
	if ((es = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) == NULL)
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, 32) != 32 ||
	    BN_bn2binpad(s, sig + 32, 32) != 32)
		goto out;
	rc = 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return rc;
}
