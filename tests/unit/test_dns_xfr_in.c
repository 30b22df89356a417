/*
 * Unit tests for dns_xfr_in.c: an AXFR answer read back, from two
 * senders: dnspython (the three signed messages of data/dns_tsig_vectors.h,
 * with and without checking their TSIG chain) and our own dns_xfr_out
 * (a zone of 2000 hosts in several messages, signed, every record once).
 * Then the ways a transfer fails, each one edit of a good message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "data/dns_tsig_vectors.h"
#include "dns/dns_db.h"
#include "dns/dns_tsig.h"
#include "dns/dns_wire.h"
#include "dns/dns_xfr_in.h"
#include "dns/dns_xfr_out.h"
#include "lib/util.h"
#include "runner.h"

#define T_NOW TSIG_T0

struct msg {
	uint8_t b[DNS_MSG_MAX];
	size_t len;
};

static void
hex(struct msg *m, const char *h)
{
	size_t i, n = strlen(h) / 2;
	unsigned v;

	for (i = 0; i < n; i++) {
		T_ASSERT(sscanf(h + 2 * i, "%2x", &v) == 1);
		m->b[i] = (uint8_t)v;
	}
	m->len = n;
}

struct got {
	unsigned n, a, soa;
	char last[DNS_NAME_TEXT_MAX];
};

static int
collect(const struct dns_xfr_rr *rr, void *arg)
{
	struct got *g = arg;

	g->n++;
	g->a += rr->type == DNS_TYPE_A;
	g->soa += rr->type == DNS_TYPE_SOA;
	dns_name_to_text(rr->owner, g->last, sizeof(g->last));
	return 0;
}

static const uint8_t apex[] = "\7example\3com";

static void
start_vectors(struct dns_xfr_in *x, struct dns_tsig_key *key, bool sign)
{
	uint8_t q[512], secret[32];
	struct dns_tsig_rr rr;
	struct msg vq;
	unsigned i;

	for (i = 0; i < 32; i++)
		secret[i] = (uint8_t)(i + 1);
	T_EQ_INT(dns_tsig_key_init(
	             key, TSIG_KEY_NAME, "hmac-sha256", secret, sizeof(secret)),
	    0);
	T_ASSERT(dns_xfr_in_query(x, apex, 0x1234, sign ? key : NULL, q,
	             sizeof(q), T_NOW) > 0);
	if (sign) {
		/* The chain starts from dnspython's query, not ours. */
		hex(&vq, tsig_query);
		T_EQ_INT(dns_tsig_find(vq.b, vq.len, &rr), 0);
		memcpy(x->tsig.prior, rr.mac, rr.mac_len);
		x->tsig.prior_len = rr.mac_len;
	}
}

static void
test_dnspython_stream(void)
{
	const char *resp[] = { tsig_resp0, tsig_resp1, tsig_resp2 };
	struct dns_tsig_key key;
	struct dns_xfr_in x;
	struct got g;
	struct msg m;
	int sign;
	size_t i;

	for (sign = 0; sign < 2; sign++) {
		start_vectors(&x, &key, sign);
		memset(&g, 0, sizeof(g));
		for (i = 0; i < ARRAY_SIZE(resp); i++) {
			hex(&m, resp[i]);
			T_EQ_INT(dns_xfr_in_feed(
			             &x, m.b, m.len, T_NOW + 1, collect, &g),
			    i + 1 == ARRAY_SIZE(resp));
		}
		/* SOA once, then www's two addresses. */
		T_EQ_INT(g.n, 3);
		T_EQ_INT(g.soa, 1);
		T_EQ_INT(g.a, 2);
		T_EQ_INT(x.serial, 7);
		T_EQ_INT(x.msgs, 3);
		T_EQ_STR(g.last, "www.example.com.");
	}
	/* Signed, but the middle message altered: TSIG fails. */
	start_vectors(&x, &key, true);
	hex(&m, tsig_resp0);
	T_EQ_INT(dns_xfr_in_feed(&x, m.b, m.len, T_NOW + 1, NULL, NULL), 0);
	hex(&m, tsig_resp1);
	m.b[m.len - 60] ^= 1;
	T_EQ_INT(
	    dns_xfr_in_feed(&x, m.b, m.len, T_NOW + 1, NULL, NULL), -EPROTO);
	T_EQ_INT(x.err, DNS_XFR_IN_TSIG);
	T_EQ_INT(
	    dns_xfr_in_feed(&x, m.b, m.len, T_NOW + 1, NULL, NULL), -EPROTO);
}

static void
test_round_trip(void)
{
	struct dns_db *db = dns_db_new();
	uint8_t soa[64], owner[DNS_NAME_MAX], a[4] = { 198, 18, 0, 0 };
	static uint8_t q[512], buf[DNS_MSG_MAX];
	struct dns_tsig_key key;
	struct dns_xfr_zone z = { apex, NULL, 0, &key };
	struct dns_xfr_env env = { db, &z, 1, &key, 1 };
	struct sockaddr_storage ss = { .ss_family = AF_INET };
	enum dns_xfr_result res;
	struct dns_xfr_out *out;
	struct dns_xfr_in x;
	struct got g = { 0 };
	char text[64];
	uint8_t secret[16];
	int n, qlen, fed = 0;
	unsigned i;

	memset(secret, 9, sizeof(secret));
	T_EQ_INT(dns_tsig_key_init(&key, "k", "hmac-sha256", secret, 16), 0);
	T_EQ_INT(dns_db_zone_begin(db, apex), 0);
	memcpy(soa, "\3ns1\7example\3com\0\1h\7example\3com\0", 32);
	memset(soa + 32, 0, 20);
	soa[35] = 42;
	T_EQ_INT(dns_db_add_rr(db, 0, apex, DNS_TYPE_SOA, 60, soa, 52), 0);
	T_EQ_INT(dns_db_add_rr(db, 0, apex, DNS_TYPE_NS, 60, soa, 17), 0);
	for (i = 0; i < 2000; i++) {
		snprintf(text, sizeof(text), "h%u.example.com.", i);
		T_ASSERT(
		    dns_name_from_text(owner, text, strlen(text), NULL) > 0);
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		T_EQ_INT(dns_db_add_rr(db, 0, owner, DNS_TYPE_A, 60, a, 4), 0);
	}
	T_EQ_INT(dns_db_finish(db, NULL, NULL), 0);
	qlen = dns_xfr_in_query(&x, apex, 77, &key, q, sizeof(q), T_NOW);
	T_ASSERT(qlen > 0);
	out = dns_xfr_out_start(
	    &env, q, (size_t)qlen, (struct sockaddr *)&ss, T_NOW, &res);
	T_EQ_INT(res, DNS_XFR_AXFR);
	while ((n = dns_xfr_out_next(out, buf, sizeof(buf), T_NOW)) > 0) {
		T_EQ_INT(fed, 0);
		fed = dns_xfr_in_feed(&x, buf, (size_t)n, T_NOW, collect, &g);
		T_ASSERT(fed >= 0);
	}
	T_EQ_INT(fed, 1);
	T_ASSERT(x.msgs > 1);
	T_EQ_INT(x.serial, 42);
	T_EQ_INT(g.n, 2000 + 2); /* SOA, NS, the hosts */
	T_EQ_INT(g.a, 2000);
	dns_xfr_out_free(out);
	dns_db_free(db);
}

static void
test_failures(void)
{
	struct dns_tsig_key key;
	struct dns_xfr_in x;
	struct msg m, m2;
	size_t soa_off;

	/* Another ID. */
	start_vectors(&x, &key, false);
	hex(&m, tsig_resp0);
	m.b[1] ^= 1;
	T_EQ_INT(dns_xfr_in_feed(&x, m.b, m.len, T_NOW, NULL, NULL), -EPROTO);
	T_EQ_INT(x.err, DNS_XFR_IN_ID);
	/* REFUSED. */
	start_vectors(&x, &key, false);
	hex(&m, tsig_resp0);
	m.b[3] = (uint8_t)((m.b[3] & 0xf0) | DNS_RCODE_REFUSED);
	T_EQ_INT(dns_xfr_in_feed(&x, m.b, m.len, T_NOW, NULL, NULL), -EPROTO);
	T_EQ_INT(x.err, DNS_XFR_IN_RCODE);
	T_EQ_INT(x.rcode, DNS_RCODE_REFUSED);
	/* The first record not a SOA: resp1 (www A) first. */
	start_vectors(&x, &key, false);
	hex(&m, tsig_resp1);
	T_EQ_INT(dns_xfr_in_feed(&x, m.b, m.len, T_NOW, NULL, NULL), -EPROTO);
	T_EQ_INT(x.err, DNS_XFR_IN_NOT_SOA);
	/* SOA then SOA: the incremental form. */
	start_vectors(&x, &key, false);
	hex(&m, tsig_resp0);
	T_EQ_INT(dns_xfr_in_feed(&x, m.b, m.len, T_NOW, NULL, NULL), 0);
	T_EQ_INT(dns_xfr_in_feed(&x, m.b, m.len, T_NOW, NULL, NULL), -EPROTO);
	T_EQ_INT(x.err, DNS_XFR_IN_IXFR);
	/* A closing SOA with another serial. */
	start_vectors(&x, &key, false);
	hex(&m, tsig_resp0);
	hex(&m2, tsig_resp1);
	T_EQ_INT(dns_xfr_in_feed(&x, m.b, m.len, T_NOW, NULL, NULL), 0);
	T_EQ_INT(dns_xfr_in_feed(&x, m2.b, m2.len, T_NOW, NULL, NULL), 0);
	hex(&m, tsig_resp2);
	/* The serial: 20 bytes before the end of the SOA RDATA, which
	 * ends where the TSIG record starts. */
	{
		struct dns_tsig_rr rr;

		T_EQ_INT(dns_tsig_find(m.b, m.len, &rr), 0);
		soa_off = rr.off - 20;
	}
	T_EQ_INT(m.b[soa_off + 3], 7);
	m.b[soa_off + 3] = 8;
	T_EQ_INT(dns_xfr_in_feed(&x, m.b, m.len, T_NOW, NULL, NULL), -EPROTO);
	T_EQ_INT(x.err, DNS_XFR_IN_NOT_SOA);
	/* Truncated. */
	start_vectors(&x, &key, false);
	hex(&m, tsig_resp0);
	T_EQ_INT(dns_xfr_in_feed(&x, m.b, 30, T_NOW, NULL, NULL), -EPROTO);
	T_EQ_INT(x.err, DNS_XFR_IN_MALFORMED);
	/* Another zone asked in the question: not our answer. */
	T_EQ_INT(dns_xfr_in_query(&x, (const uint8_t *)"\7example\3org", 0x1234,
	             NULL, m2.b, sizeof(m2.b), T_NOW) > 0,
	    1);
	hex(&m, tsig_resp0);
	T_EQ_INT(dns_xfr_in_feed(&x, m.b, m.len, T_NOW, NULL, NULL), -EPROTO);
	T_EQ_INT(x.err, DNS_XFR_IN_ID);
}

static const struct test tests[] = {
	TEST(test_dnspython_stream),
	TEST(test_round_trip),
	TEST(test_failures),
};

TEST_MAIN(tests)
