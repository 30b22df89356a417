/*
 * Unit tests for DNSSEC signing: dns_key.c (key tag, DS digest, signing),
 * dns_sign.c (RRSIG RDATA, canonical signed data, the static cache) and
 * dns_nsec.c (bitmaps, successor, sibling and predecessor names).
 *
 * Signatures are verified with OpenSSL against the public key taken from
 * the DNSKEY RDATA alone, the way a validator does, not with the private
 * key's handle. The key tag and DS of the test key were computed by
 * dnspython (dns.dnssec.key_id, make_ds); the RFC 6605 §6.1 DNSKEY gives
 * a published vector for both.
 */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dns/dns_key.h"
#include "dns/dns_nsec.h"
#include "dns/dns_sign.h"
#include "lib/util.h"
#include "runner.h"

static const char test_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgR6FKSUpAeTvgIC/Z\n"
    "AHaw7ex14J02/0Fr9bV0AeNad92hRANCAATUzrltlHDA00jKy2ODAQQMxxMygN/F\n"
    "idJABYnTlUtThyiDttcdPorm2kMescGVxJUrvutRobij1cCxTAkNVhJZ\n"
    "-----END PRIVATE KEY-----\n";
#define TEST_TAG 10315
static const char test_ds[] =
    "e0187f0b093437baaf2efccdee0a5cc8bcc21c3d9d5fd59e037ba80b163f697a";

/* Keys of the wrong type for algorithm 13: Ed25519, and EC on P-384. */
static const char ed_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIAujuVlgh3CQ11gGkv6mTwEAVCk0RDUDvJJwEHJJuRzm\n"
    "-----END PRIVATE KEY-----\n";
static const char p384_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBAp60RwZ/qmxPemQ93\n"
    "yPIJxNL3TyDRM2hh9AQZXxRoPKoM9f5kJBDpbiNxZ6RegQihZANiAAQWRONPltNT\n"
    "gEAS/w6tNkMY3vvKtLB+RwTGi7G9auO4KIwHFAgflfcilKIB4jfDi7VsUu3w0h+y\n"
    "t4pwzCzgCXHYnupaE8n3dBm3wuq1O1X4nVVR4aa7qXdiElcCZy36mYU=\n"
    "-----END PRIVATE KEY-----\n";

static void
hex(uint8_t *out, const char *h)
{
	unsigned v;

	for (size_t i = 0; h[2 * i] != '\0'; i++) {
		T_ASSERT(sscanf(h + 2 * i, "%2x", &v) == 1);
		out[i] = (uint8_t)v;
	}
}

static void
key_load(struct dns_key *k)
{
	char err[256];

	T_EQ_INT(dns_key_parse(k, test_pem, sizeof(test_pem) - 1, "test", err,
	             sizeof(err)),
	    0);
}

/* A validator's check: the public key from the DNSKEY RDATA, r||s made
 * DER, ECDSA P-256 with SHA-256 over data. 1 valid, 0 not. */
static int
verify(
    const uint8_t *dnskey, const uint8_t *data, size_t len, const uint8_t *sig)
{
	uint8_t pub[65], der[80], *p = der;
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *es = ECDSA_SIG_new();
	int dl, ok;

	pub[0] = 0x04;
	memcpy(pub + 1, dnskey + 4, 64);
	T_ASSERT(dnskey[3] == DNS_KEY_ALG_ECDSAP256);
	OSSL_PARAM_BLD_push_utf8_string(
	    b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
	OSSL_PARAM_BLD_push_octet_string(
	    b, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
	params = OSSL_PARAM_BLD_to_param(b);
	T_ASSERT(EVP_PKEY_fromdata_init(pc) == 1);
	T_ASSERT(EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, params) == 1);
	ECDSA_SIG_set0(
	    es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
	dl = i2d_ECDSA_SIG(es, &p);
	T_ASSERT(dl > 0);
	T_ASSERT(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1);
	ok = EVP_DigestVerify(md, der, (size_t)dl, data, len) == 1;
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	return ok;
}

static void
test_key_tag_ds(void)
{
	/* RFC 6605 §6.1: example.net. DNSKEY, key tag 55648, its DS. */
	static const char rfc_pub[] =
	    "1a88c88615d437fbb8bf9e1942a1929f28562706ae6c2bd399e7b1bfb6d1e9e7"
	    "5b92b4aa42917ae1c61b701ef035c3fe7be3009cbafe5a2f71316c902dcf0d00";
	static const uint8_t example_net[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l',
		'e', 3, 'n', 'e', 't', 0 };
	uint8_t rd[DNS_KEY_RDATA_LEN], d[DNS_KEY_DS_LEN], want[DNS_KEY_DS_LEN];
	uint8_t apex[DNS_NAME_MAX];
	struct dns_key k;

	rd[0] = 1;
	rd[1] = 1;
	rd[2] = 3;
	rd[3] = 13;
	hex(rd + 4, rfc_pub);
	T_EQ_INT(dns_key_tag(rd, sizeof(rd)), 55648);
	T_EQ_INT(dns_key_ds(example_net, rd, sizeof(rd), d), 0);
	hex(want,
	    "b4c8c1fe2e7477127b27115656ad6256"
	    "f424625bf5c1e2770ce6d6e37df61d17");
	T_ASSERT(memcmp(d, want, sizeof(d)) == 0);

	key_load(&k);
	T_EQ_INT(k.tag, TEST_TAG);
	T_EQ_INT(k.rdata[0] << 8 | k.rdata[1], DNS_KEY_FLAGS_CSK);
	T_EQ_INT(
	    dns_name_from_text(apex, "example.com", 11, (const uint8_t *)""),
	    13);
	T_EQ_INT(dns_key_ds(apex, k.rdata, sizeof(k.rdata), d), 0);
	hex(want, test_ds);
	T_ASSERT(memcmp(d, want, sizeof(d)) == 0);
	dns_key_fini(&k);
}

static void
test_key_errors(void)
{
	struct dns_key k;
	char err[256];

	T_EQ_INT(
	    dns_key_parse(&k, "junk", 4, "k.pem", err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "not a PEM private key") != NULL);
	T_EQ_INT(dns_key_parse(
	             &k, ed_pem, sizeof(ed_pem) - 1, "k.pem", err, sizeof(err)),
	    -EINVAL);
	T_ASSERT(strstr(err, "not an ECDSA P-256") != NULL);
	T_ASSERT(k.pkey == NULL);
	T_EQ_INT(dns_key_parse(&k, p384_pem, sizeof(p384_pem) - 1, "k.pem", err,
	             sizeof(err)),
	    -EINVAL);
	T_ASSERT(strstr(err, "not an ECDSA P-256") != NULL);
	T_EQ_INT(
	    dns_key_load(&k, "/nonexistent/k.pem", err, sizeof(err)), -ENOENT);
	T_ASSERT(strstr(err, "cannot read") != NULL);
}

/*
 * An MX set with mixed case in its owner and targets, records out of
 * order: the signed data has the owner and the targets folded, the
 * records sorted by canonical RDATA (RFC 4034 §6.2, §6.3), and the
 * RRSIG verifies against the DNSKEY.
 */
static void
test_rrsig_canonical(void)
{
	static const uint8_t mx_b[] = { 0, 20, 1, 'B', 3, 'E', 'x', 'A', 0 };
	static const uint8_t mx_a[] = { 0, 20, 1, 'a', 3, 'e', 'x', 'a', 0 };
	static const uint8_t mx_z[] = { 0, 10, 1, 'Z', 3, 'E', 'X', 'A', 0 };
	const struct dns_rdata rd[] = { { mx_b, sizeof(mx_b) },
		{ mx_a, sizeof(mx_a) }, { mx_z, sizeof(mx_z) } };
	static const uint8_t owner[] = { 3, 'W', 'w', 'W', 3, 'e', 'x', 'a',
		0 };
	static const uint8_t apex[] = { 3, 'E', 'X', 'A', 0 };
	struct dns_rrset set = { owner, DNS_TYPE_MX, DNS_CLASS_IN, 300, 3, rd };
	uint8_t lname[sizeof(owner)], out[DNS_RRSIG_MAX], data[1024];
	struct dns_sign_stats st;
	struct dns_sign *s = dns_sign_new(1, 4);
	struct dns_key k;
	uint32_t now = 1800000000;
	size_t fixed;
	int n, dl;

	memcpy(lname, owner, sizeof(owner));
	dns_name_lower(lname);
	key_load(&k);
	dns_sign_add_key(s, 0, &k, DNS_SIGN_DATA | DNS_SIGN_DNSKEY);
	T_ASSERT(k.pkey == NULL); /* moved */
	n = dns_sign_rrsig(s, 0, apex, 2, lname, &set, 300, now, 0, out);
	fixed = 18 + sizeof(apex);
	T_EQ_INT(n, (int)(fixed + DNS_KEY_SIG_LEN));
	/* type covered, algorithm, labels, original TTL */
	T_EQ_INT(out[0] << 8 | out[1], DNS_TYPE_MX);
	T_EQ_INT(out[2], 13);
	T_EQ_INT(out[3], 2);
	T_EQ_INT(
	    (uint32_t)out[4] << 24 | out[5] << 16 | out[6] << 8 | out[7], 300);
	/* expiration, inception */
	T_EQ_INT((uint32_t)out[8] << 24 | out[9] << 16 | out[10] << 8 | out[11],
	    now + DNS_SIGN_VALIDITY);
	T_EQ_INT(
	    (uint32_t)out[12] << 24 | out[13] << 16 | out[14] << 8 | out[15],
	    now - DNS_SIGN_SKEW);
	T_EQ_INT(out[16] << 8 | out[17], TEST_TAG);
	/* signer, folded */
	T_ASSERT(memcmp(out + 18, "\3exa\0", 5) == 0);

	dl = dns_sign_data(out, fixed, owner, &set, 300, data, sizeof(data));
	T_EQ_INT(dl, (int)(fixed + 3 * (sizeof(owner) + 10 + sizeof(mx_a))));
	{
		/* What a validator rebuilds: each record as owner, type,
		 * class, TTL, RDLENGTH, RDATA, all folded, in order. */
		static const uint8_t want_rd[3][9] = {
			{ 0, 10, 1, 'z', 3, 'e', 'x', 'a', 0 },
			{ 0, 20, 1, 'a', 3, 'e', 'x', 'a', 0 },
			{ 0, 20, 1, 'b', 3, 'e', 'x', 'a', 0 },
		};
		const uint8_t *p = data + fixed;

		for (int i = 0; i < 3; i++) {
			T_ASSERT(memcmp(p, "\3www\3exa\0", 9) == 0);
			p += 9;
			T_ASSERT(memcmp(p, "\0\17\0\1\0\0\1\54\0\11", 10) == 0);
			p += 10;
			T_ASSERT(memcmp(p, want_rd[i], 9) == 0);
			p += 9;
		}
	}
	T_ASSERT(
	    verify(dns_sign_key(s, 0)->rdata, data, (size_t)dl, out + fixed));
	/* One bit off and it fails: the check can fail. */
	data[fixed + 3] ^= 1;
	T_ASSERT(
	    !verify(dns_sign_key(s, 0)->rdata, data, (size_t)dl, out + fixed));

	/* The static cache: the same set again is not signed again. */
	uint8_t out2[DNS_RRSIG_MAX];

	T_EQ_INT(
	    dns_sign_rrsig(s, 0, apex, 2, lname, &set, 300, now + 60, 0, out2),
	    n);
	T_ASSERT(memcmp(out, out2, (size_t)n) == 0);
	dns_sign_stats(s, &st);
	T_EQ_INT(st.signed_static, 1);
	T_EQ_INT(st.hits, 1);
	/* Past half the validity it is signed anew, with new times. */
	T_EQ_INT(dns_sign_rrsig(s, 0, apex, 2, lname, &set, 300,
	             now + DNS_SIGN_VALIDITY / 2 + 1, 0, out2),
	    n);
	dns_sign_stats(s, &st);
	T_EQ_INT(st.signed_static, 2);
	T_ASSERT(memcmp(out + 8, out2 + 8, 8) != 0);
	dns_sign_free(s);
}

/*
 * A wildcard's data is signed at "*.name" with the labels field not
 * counting the "*" (RFC 4034 §3.1.3); per-query data (no set index) goes
 * to the content cache: the same records again are a hit, others not.
 */
static void
test_rrsig_wildcard_dynamic(void)
{
	static const uint8_t a1[] = { 198, 18, 0, 1 }, a2[] = { 198, 18, 0, 2 };
	static const uint8_t wild[] = { 1, '*', 4, 'a', 'p', 'p', 's', 3, 'e',
		'x', 'a', 0 };
	static const uint8_t apex[] = { 3, 'e', 'x', 'a', 0 };
	struct dns_rdata r1 = { a1, 4 }, r2 = { a2, 4 };
	struct dns_rrset set = { wild, DNS_TYPE_A, DNS_CLASS_IN, 30, 1, &r1 };
	uint8_t out[DNS_RRSIG_MAX], out2[DNS_RRSIG_MAX], data[512];
	struct dns_sign *s = dns_sign_new(1, 0);
	struct dns_sign_stats st;
	struct dns_key k;
	uint32_t now = 1800000000;
	int n, dl;

	key_load(&k);
	dns_sign_add_key(s, 0, &k, DNS_SIGN_DATA | DNS_SIGN_DNSKEY);
	n = dns_sign_rrsig(
	    s, 0, apex, DNS_SIGN_NONE, wild, &set, 30, now, 0, out);
	T_ASSERT(n > 0);
	T_EQ_INT(out[3], 2); /* apps.exa: the "*" not counted */
	dl = dns_sign_data(out, (size_t)n - DNS_KEY_SIG_LEN, wild, &set, 30,
	    data, sizeof(data));
	T_ASSERT(verify(dns_sign_key(s, 0)->rdata, data, (size_t)dl,
	    out + n - DNS_KEY_SIG_LEN));
	T_EQ_INT(dns_sign_rrsig(s, 0, apex, DNS_SIGN_NONE, wild, &set, 30,
	             now + 5, 0, out2),
	    n);
	T_ASSERT(memcmp(out, out2, (size_t)n) == 0);
	set.rdata = &r2;
	T_EQ_INT(dns_sign_rrsig(s, 0, apex, DNS_SIGN_NONE, wild, &set, 30,
	             now + 5, 0, out2),
	    n);
	dns_sign_stats(s, &st);
	T_EQ_INT(st.signed_dyn, 2);
	T_EQ_INT(st.hits, 1);
	/* A zone without a key is not signed; an index past the db's is
	 * refused. */
	T_ASSERT(dns_sign_key(s, 1) == NULL);
	T_EQ_INT(dns_sign_rrsig(s, 0, apex, 7, wild, &set, 30, now, 0, out2),
	    -EINVAL);
	dns_sign_free(s);
}

static void
test_nsec_names(void)
{
	static const uint8_t name[] = { 1, 'b', 3, 'e', 'x', 'a', 0 };
	static const uint8_t lo[] = { 1, 0, 3, 'e', 'x', 'a', 0 };
	static const uint8_t ff[] = { 2, 'a', 0xff, 3, 'e', 'x', 'a', 0 };
	uint8_t out[DNS_NAME_MAX];

	T_EQ_INT(dns_nsec_successor(name, out), 0);
	T_ASSERT(memcmp(out, "\1\0\1b\3exa\0", 9) == 0);
	T_EQ_INT(dns_nsec_sibling(name, out), 0);
	T_ASSERT(memcmp(out, "\2b\0\3exa\0", 8) == 0);
	/* "a\255" is followed by "b": nothing is skipped. */
	T_EQ_INT(dns_nsec_sibling(ff, out), 0);
	T_EQ_INT(dns_nsec_successor(ff, out), 0);
	T_ASSERT(dns_name_cmp_canon(ff, out) < 0);

	/* The predecessor sorts before the name and after every name
	 * below the sibling before it; it is as long as a name may be. */
	dns_nsec_predecessor(name, out);
	T_EQ_INT(dns_name_len(out), DNS_NAME_MAX);
	T_ASSERT(dns_name_cmp_canon(out, name) < 0);
	{
		static const uint8_t below_a[] = { 1, 'z', 1, 'a', 3, 'e', 'x',
			'a', 0 };
		static const uint8_t a[] = { 1, 'a', 3, 'e', 'x', 'a', 0 };

		T_ASSERT(dns_name_cmp_canon(below_a, out) < 0);
		T_ASSERT(dns_name_cmp_canon(a, out) < 0);
	}
	/* "B" lowered is "A", which sorts as "a", after "[": use "@". */
	{
		static const uint8_t brk[] = { 1, '[', 3, 'e', 'x', 'a', 0 };

		dns_nsec_predecessor(brk, out);
		T_ASSERT(dns_name_cmp_canon(out, brk) < 0);
	}
	/* "\000" has its parent before it. */
	dns_nsec_predecessor(lo, out);
	T_ASSERT(memcmp(out, "\3exa\0", 5) == 0);
}

static void
test_nsec_bitmap(void)
{
	/* RFC 4034 §4.3: A MX RRSIG NSEC TYPE1234 */
	static const uint16_t types[] = { 1234, 47, 1, 46, 15, 1 };
	static const uint8_t want[] = { 0x00, 0x06, 0x40, 0x01, 0x00, 0x00,
		0x00, 0x03, 0x04, 0x1b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x20 };
	uint8_t out[6 * 34];

	T_EQ_INT(dns_nsec_bitmap(types, 6, out), sizeof(want));
	T_ASSERT(memcmp(out, want, sizeof(want)) == 0);
}

static const struct test tests[] = {
	TEST(test_key_tag_ds),
	TEST(test_key_errors),
	TEST(test_rrsig_canonical),
	TEST(test_rrsig_wildcard_dynamic),
	TEST(test_nsec_names),
	TEST(test_nsec_bitmap),
};

TEST_MAIN(tests)
