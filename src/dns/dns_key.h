/*
 * dns_key.h - a DNSSEC signing key: an ECDSA P-256 private key read from
 * a PEM file (algorithm 13, RFC 6605), as a combined key or a KSK (flags
 * 257: zone key + SEP) or a ZSK (256); its DNSKEY RDATA, key tag (RFC
 * 4034 App. B) and DS digest (SHA-256, RFC 4509) for the parent.
 *
 * Signatures are r||s, 32 bytes each (RFC 6605 §4), made with OpenSSL 3's
 * EVP interface. The key never leaves the process. There is no key
 * generation here (openssl genpkey makes one); rollovers are the
 * operator's, with keys listed by role (dns_conf_dnssec.c).
 */
#ifndef HAVEN_DNS_KEY_H
#define HAVEN_DNS_KEY_H

#include <stddef.h>
#include <stdint.h>

#define DNS_KEY_ALG_ECDSAP256 13  /* RFC 6605 §2 */
#define DNS_KEY_FLAGS_CSK     257 /* ZONE | SEP, RFC 4034 §2.1.1 */
#define DNS_KEY_FLAGS_ZSK     256 /* ZONE */
#define DNS_KEY_PROTOCOL      3   /* RFC 4034 §2.1.2 */
#define DNS_KEY_PUB_LEN       64  /* X || Y, RFC 6605 §4 */
#define DNS_KEY_SIG_LEN       64  /* r || s */
#define DNS_KEY_RDATA_LEN     (4 + DNS_KEY_PUB_LEN)
#define DNS_KEY_DS_SHA256     2  /* RFC 4509 §2.2 */
#define DNS_KEY_DS_LEN        32 /* SHA-256 digest */
#define DNS_TYPE_DNSKEY       48

struct evp_pkey_st;

struct dns_key {
	struct evp_pkey_st *pkey;         /* owned: the private key */
	uint8_t rdata[DNS_KEY_RDATA_LEN]; /* its DNSKEY RDATA */
	uint16_t tag;                     /* RFC 4034 App. B */
};

/*
 * Read the PEM private key at path into k. 0, or -errno with a reason in
 * err (errlen bytes): unreadable, not a private key, not EC P-256.
 */
int dns_key_load(struct dns_key *k, const char *path, char *err, size_t errlen);
/* The same from the PEM text pem (len bytes), named what in errors. */
int dns_key_parse(struct dns_key *k, const char *pem, size_t len,
    const char *what, char *err, size_t errlen);
/* Make k's DNSKEY say flags (DNS_KEY_FLAGS_*; parsed keys say CSK), and
 * its tag follow. */
void dns_key_set_flags(struct dns_key *k, uint16_t flags);
/* Free what k owns; a zeroed or finished k is a no-op. */
void dns_key_fini(struct dns_key *k);

/* Key tag of DNSKEY RDATA (RFC 4034 App. B; not for algorithm 1). */
uint16_t dns_key_tag(const uint8_t *rdata, size_t len);

/*
 * DS digest (SHA-256) of the DNSKEY RDATA at owner (folded wire name):
 * SHA-256(owner | rdata), RFC 4034 §5.1.4. 0 or -EIO.
 */
int dns_key_ds(const uint8_t *owner, const uint8_t *rdata, size_t len,
    uint8_t digest[DNS_KEY_DS_LEN]);

/*
 * The DS RDATA of k at apex (folded) in presentation form, "TAG 13 2
 * HEX" (RFC 4034 §5.3), into buf: what an operator gives the parent.
 * 0, or -EIO / -EMSGSIZE (buf needs DNS_KEY_DS_TEXT bytes).
 */
#define DNS_KEY_DS_TEXT 80
int dns_key_ds_text(
    const struct dns_key *k, const uint8_t *apex, char *buf, size_t size);

/* Sign len bytes of data: SHA-256 then ECDSA, r||s into sig. 0 or -EIO. */
int dns_key_sign(const struct dns_key *k, const uint8_t *data, size_t len,
    uint8_t sig[DNS_KEY_SIG_LEN]);

#endif
