/*
 * Unit tests for dns_tsig.c. The vectors (data/dns_tsig_vectors.h) were
 * signed by dnspython (data/gen_dns_tsig.py says how): a signed AXFR query
 * and the three messages of its answer, signed as one stream. Both
 * directions are checked: we verify what dnspython signed, and signing the
 * same messages stripped of their TSIG gives dnspython's bytes exactly.
 * Damaged variants are one edit of a vector, said in a comment.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "data/dns_tsig_vectors.h"
#include "dns/dns_tsig.h"
#include "dns/dns_wire.h"
#include "lib/util.h"
#include "runner.h"

#define MSG_MAX 1024

struct msg {
	uint8_t b[MSG_MAX];
	size_t len;
};

static void
hex(struct msg *m, const char *h)
{
	size_t i, n = strlen(h) / 2;
	unsigned v;

	T_ASSERT(n <= MSG_MAX);
	for (i = 0; i < n; i++) {
		T_ASSERT(sscanf(h + 2 * i, "%2x", &v) == 1);
		m->b[i] = (uint8_t)v;
	}
	m->len = n;
}

static void
key_init(struct dns_tsig_key *k, const char *name)
{
	struct msg s;

	hex(&s, tsig_secret);
	T_EQ_INT(dns_tsig_key_init(k, name, "hmac-sha256", s.b, s.len), 0);
}

/* m without its TSIG record: cut at the record, ARCOUNT one less. */
static void
strip(struct msg *m)
{
	struct dns_tsig_rr rr;

	T_EQ_INT(dns_tsig_find(m->b, m->len, &rr), 0);
	m->len = rr.off;
	m->b[11]--;
}

static void
test_key_init(void)
{
	struct dns_tsig_key k;
	uint8_t s[DNS_TSIG_SECRET_MAX + 1] = { 1 };

	T_EQ_INT(dns_tsig_key_init(&k, "Xfr-Key", "hmac-sha256", s, 4), 0);
	T_ASSERT(memcmp(k.name, "\7xfr-key\0", 9) == 0);
	T_EQ_INT(dns_tsig_key_init(&k, "k", "hmac-md5", s, 4), -ENOTSUP);
	T_EQ_INT(dns_tsig_key_init(&k, "k", "hmac-sha256", s, 0), -EINVAL);
	T_EQ_INT(
	    dns_tsig_key_init(&k, "k", "hmac-sha256", s, sizeof(s)), -EINVAL);
	T_EQ_INT(dns_tsig_key_init(&k, "a..b", "hmac-sha256", s, 4), -EINVAL);
}

static void
test_find(void)
{
	struct dns_tsig_rr rr;
	struct msg m;

	hex(&m, tsig_query);
	T_EQ_INT(dns_tsig_find(m.b, m.len, &rr), 0);
	T_ASSERT(memcmp(rr.name, "\7xfr-key\0", 9) == 0);
	T_EQ_INT(rr.time_signed, TSIG_T0);
	T_EQ_INT(rr.fudge, 300);
	T_EQ_INT(rr.mac_len, 32);
	T_EQ_INT(rr.orig_id, 0x1234);
	T_EQ_INT(rr.error, 0);
	T_EQ_INT(rr.off, 29);
	/* Unsigned: no record. */
	strip(&m);
	T_EQ_INT(dns_tsig_find(m.b, m.len, &rr), -ENOENT);
	/* Truncated by one byte. */
	hex(&m, tsig_query);
	T_EQ_INT(dns_tsig_find(m.b, m.len - 1, &rr), -EBADMSG);
	/* ARCOUNT 0, ANCOUNT 1: the TSIG is in the answer section. */
	m.b[11] = 0;
	m.b[7] = 1;
	T_EQ_INT(dns_tsig_find(m.b, m.len, &rr), -EBADMSG);
}

static void
test_verify_query(void)
{
	struct dns_tsig_key keys[2];
	struct dns_tsig_ctx ctx;
	struct msg m;

	key_init(&keys[0], "other-key");
	key_init(&keys[1], TSIG_KEY_NAME);
	hex(&m, tsig_query);
	T_EQ_INT(dns_tsig_verify(keys, 2, m.b, m.len, TSIG_T0, &ctx),
	    DNS_TSIG_NOERROR);
	T_ASSERT(ctx.key == &keys[1]);
	T_EQ_INT(ctx.error, DNS_TSIG_NOERROR);
	/* Within the fudge either way, then just outside. */
	T_EQ_INT(dns_tsig_verify(keys, 2, m.b, m.len, TSIG_T0 + 300, &ctx),
	    DNS_TSIG_NOERROR);
	T_EQ_INT(dns_tsig_verify(keys, 2, m.b, m.len, TSIG_T0 - 300, &ctx),
	    DNS_TSIG_NOERROR);
	T_EQ_INT(dns_tsig_verify(keys, 2, m.b, m.len, TSIG_T0 + 301, &ctx),
	    DNS_TSIG_BADTIME);
	T_EQ_INT(dns_tsig_verify(keys, 2, m.b, m.len, TSIG_T0 - 301, &ctx),
	    DNS_TSIG_BADTIME);
	/* The key is unknown. */
	T_EQ_INT(dns_tsig_verify(keys, 1, m.b, m.len, TSIG_T0, &ctx),
	    DNS_TSIG_BADKEY);
	T_ASSERT(ctx.key == NULL);
	/* Another secret under the same name. */
	keys[1].secret[0] ^= 1;
	T_EQ_INT(dns_tsig_verify(keys, 2, m.b, m.len, TSIG_T0, &ctx),
	    DNS_TSIG_BADSIG);
	keys[1].secret[0] ^= 1;
	/* One bit of the question flipped: the MAC no longer matches. */
	m.b[14] ^= 0x20;
	T_EQ_INT(dns_tsig_verify(keys, 2, m.b, m.len, TSIG_T0, &ctx),
	    DNS_TSIG_BADSIG);
	m.b[14] ^= 0x20;
	/* The header's ID changed (a forwarder would): original ID rules. */
	m.b[0] = 0x99;
	T_EQ_INT(dns_tsig_verify(keys, 2, m.b, m.len, TSIG_T0, &ctx),
	    DNS_TSIG_NOERROR);
	/* Unsigned. */
	strip(&m);
	T_EQ_INT(dns_tsig_verify(keys, 2, m.b, m.len, TSIG_T0, &ctx), -ENOENT);
}

static void
test_verify_mac_sizes(void)
{
	struct dns_tsig_key key;
	struct dns_tsig_ctx ctx;
	struct msg m;
	size_t ms;

	key_init(&key, TSIG_KEY_NAME);
	hex(&m, tsig_query);
	/* MAC size field: after owner (9), fixed (10), alg (13), time and
	 * fudge (8). */
	ms = 29 + 9 + 10 + 13 + 8;
	T_EQ_INT(m.b[ms + 1], 32);
	/* Claims 9 octets (under 10): FORMERR. Record lengths no longer
	 * add up either, which is FORMERR too. */
	m.b[ms + 1] = 9;
	T_EQ_INT(dns_tsig_verify(&key, 1, m.b, m.len, TSIG_T0, &ctx), -EBADMSG);
}

static void
test_sign_answer_stream(void)
{
	const char *resp[] = { tsig_resp0, tsig_resp1, tsig_resp2 };
	struct dns_tsig_key key;
	struct dns_tsig_ctx ctx;
	struct msg q, want, got;
	size_t i;

	key_init(&key, TSIG_KEY_NAME);
	hex(&q, tsig_query);
	T_EQ_INT(dns_tsig_verify(&key, 1, q.b, q.len, TSIG_T0, &ctx), 0);
	for (i = 0; i < ARRAY_SIZE(resp); i++) {
		hex(&want, resp[i]);
		got = want;
		strip(&got);
		T_EQ_INT(dns_tsig_sign(
		             &ctx, got.b, &got.len, sizeof(got.b), TSIG_T0 + 1),
		    0);
		T_EQ_INT(got.len, want.len);
		T_ASSERT(memcmp(got.b, want.b, want.len) == 0);
	}
}

static void
test_client_side(void)
{
	const char *resp[] = { tsig_resp0, tsig_resp1, tsig_resp2 };
	struct dns_tsig_key key;
	struct dns_tsig_ctx ctx;
	struct msg q, got, r;
	size_t i, off;

	key_init(&key, TSIG_KEY_NAME);
	/* Signing the query ourselves gives dnspython's bytes. */
	hex(&q, tsig_query);
	got = q;
	strip(&got);
	dns_tsig_ctx_client(&ctx, &key);
	T_EQ_INT(
	    dns_tsig_sign(&ctx, got.b, &got.len, sizeof(got.b), TSIG_T0), 0);
	T_EQ_INT(got.len, q.len);
	T_ASSERT(memcmp(got.b, q.b, q.len) == 0);
	/* Each answer verifies, chained. */
	for (i = 0; i < ARRAY_SIZE(resp); i++) {
		hex(&r, resp[i]);
		T_EQ_INT(
		    dns_tsig_verify_answer(&ctx, r.b, r.len, TSIG_T0 + 1, &off),
		    DNS_TSIG_NOERROR);
		T_ASSERT(off < r.len);
	}
	/* Out of order: the second answer first fails. */
	dns_tsig_ctx_client(&ctx, &key);
	got = q;
	strip(&got);
	T_EQ_INT(
	    dns_tsig_sign(&ctx, got.b, &got.len, sizeof(got.b), TSIG_T0), 0);
	hex(&r, tsig_resp1);
	T_EQ_INT(dns_tsig_verify_answer(&ctx, r.b, r.len, TSIG_T0 + 1, &off),
	    DNS_TSIG_BADSIG);
}

static void
test_error_answers(void)
{
	struct dns_tsig_key key, other;
	struct dns_tsig_ctx ctx, cl;
	struct dns_tsig_rr rr;
	struct msg q, a;

	key_init(&key, TSIG_KEY_NAME);
	key_init(&other, "other-key");
	hex(&q, tsig_query);
	/* BADKEY: the answer names the asked key, no MAC. */
	T_EQ_INT(dns_tsig_verify(&other, 1, q.b, q.len, TSIG_T0, &ctx),
	    DNS_TSIG_BADKEY);
	hex(&a, tsig_resp0);
	strip(&a);
	T_EQ_INT(dns_tsig_sign(&ctx, a.b, &a.len, sizeof(a.b), TSIG_T0), 0);
	T_EQ_INT(dns_tsig_find(a.b, a.len, &rr), 0);
	T_EQ_INT(rr.error, DNS_TSIG_BADKEY);
	T_EQ_INT(rr.mac_len, 0);
	T_ASSERT(memcmp(rr.name, "\7xfr-key\0", 9) == 0);
	/* BADTIME: signed, with our time as other data; a client holding
	 * the key verifies the MAC and sees the error. */
	T_EQ_INT(dns_tsig_verify(&key, 1, q.b, q.len, TSIG_T0 + 1000, &ctx),
	    DNS_TSIG_BADTIME);
	hex(&a, tsig_resp0);
	strip(&a);
	T_EQ_INT(
	    dns_tsig_sign(&ctx, a.b, &a.len, sizeof(a.b), TSIG_T0 + 1000), 0);
	T_EQ_INT(dns_tsig_find(a.b, a.len, &rr), 0);
	T_EQ_INT(rr.error, DNS_TSIG_BADTIME);
	T_EQ_INT(rr.time_signed, TSIG_T0);
	T_EQ_INT(rr.other_len, 6);
	T_EQ_INT(rr.other[5], (TSIG_T0 + 1000) & 0xff);
	dns_tsig_ctx_client(&cl, &key);
	memcpy(cl.prior, ctx.prior, 32); /* as if cl had signed q */
	cl.prior_len = 32;
	hex(&q, tsig_query);
	{
		struct dns_tsig_rr qr;
		size_t off;

		T_EQ_INT(dns_tsig_find(q.b, q.len, &qr), 0);
		memcpy(cl.prior, qr.mac, 32);
		T_EQ_INT(dns_tsig_verify_answer(&cl, a.b, a.len, TSIG_T0, &off),
		    DNS_TSIG_BADTIME);
	}
	/* No room. */
	hex(&a, tsig_resp0);
	strip(&a);
	T_EQ_INT(dns_tsig_verify(&key, 1, q.b, q.len, TSIG_T0, &ctx), 0);
	T_EQ_INT(
	    dns_tsig_sign(&ctx, a.b, &a.len, a.len + 20, TSIG_T0), -EMSGSIZE);
}

static const struct test tests[] = {
	TEST(test_key_init),
	TEST(test_find),
	TEST(test_verify_query),
	TEST(test_verify_mac_sizes),
	TEST(test_sign_answer_stream),
	TEST(test_client_side),
	TEST(test_error_answers),
};

TEST_MAIN(tests)
