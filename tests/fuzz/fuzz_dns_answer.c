/*
 * fuzz_dns_answer.c - libFuzzer target for dns_answer.c over dns_db.c.
 * The input is a query as a server receives it; a fixed db, built once
 * from the zone below (a wildcard, a delegation with glue, CNAME chains
 * and a loop, a second zone, dynamic names answered by fuzz_provider, a
 * fixed provider of this file), answers it over UDP and over TCP.
 *
 * Beyond "no crash, no read past the input", it checks what a client
 * relies on: an answer stays within the size it was allowed (512 without
 * EDNS); nothing is sent exactly when the parser says DROP; the ID is the
 * query's; TC is what info says; and every answer, with QR cleared,
 * parses back with our own strict parser (so its compression pointers go
 * backwards and its counts match its records), with the question echoed
 * byte for byte. example.com is signed (a fixed test key, DNSKEY at the
 * apex) and two of the three runs pass the signer, so a query with DO
 * walks the signing and denial paths: RRSIGs, compact NSECs, wildcard
 * proofs, referral DS proofs, under the same size and parse checks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_answer.h"
#include "dns/dns_key.h"
#include "dns/dns_sign.h"
#include "dns/dns_zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static const char fuzz_zone[] = "$TTL 300\n"
                                "@ SOA ns1 hm 1 3600 600 86400 60\n"
                                "@ NS ns1\n"
                                "@ MX 10 mail\n"
                                "ns1 A 198.18.0.53\n"
                                "mail A 198.18.0.25\n"
                                "mail AAAA 2001:db8::25\n"
                                "www A 198.18.0.1\n"
                                "www A 198.18.0.2\n"
                                "a CNAME b\n"
                                "b CNAME www\n"
                                "l1 CNAME l2\n"
                                "l2 CNAME l1\n"
                                "x CNAME www.other.test.\n"
                                "d CNAME dyn\n"
                                "e.f.g TXT \"ent\"\n"
                                "*.w A 198.18.0.9\n"
                                "*.w MX 10 mail\n"
                                "sub NS ns.sub\n"
                                "sub NS ns1\n"
                                "ns.sub A 198.18.1.53\n"
                                "t SRV 0 1 53 www\n"
                                "dn DNAME other.test.\n"
                                "dl DNAME a23456789012345678901234567890"
                                "123456789012345678901234567890123.b2345"
                                "6789012345678901234567890123456789012345"
                                "678901234567890123.other.test.\n";

static const char fuzz_other[] = "$TTL 30\n"
                                 "@ SOA ns hm 1 1 1 1 30\n"
                                 "@ NS ns.example.com.\n"
                                 "www A 198.18.2.1\n";

/* A P-256 key for fuzzing only; never a real zone's. */
static const char fuzz_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgR6FKSUpAeTvgIC/Z\n"
    "AHaw7ex14J02/0Fr9bV0AeNad92hRANCAATUzrltlHDA00jKy2ODAQQMxxMygN/F\n"
    "idJABYnTlUtThyiDttcdPorm2kMescGVxJUrvutRobij1cCxTAkNVhJZ\n"
    "-----END PRIVATE KEY-----\n";

struct fuzz_load {
	struct dns_db *db;
	int zone;
};

static int
fuzz_rr(const struct dns_zone_rr *rr, void *arg)
{
	struct fuzz_load *l = arg;

	return dns_db_add_rr(l->db, (unsigned)l->zone, rr->owner, rr->type,
	    rr->ttl, rr->rdata, rr->rdlen);
}

static void
fuzz_zone_add(struct fuzz_load *l, const char *apex, const char *text)
{
	uint8_t a[DNS_NAME_MAX];
	struct dns_zone_conf c = { a, DNS_ZONE_CHECK_ALL, 0, fuzz_rr, NULL,
		NULL, l };

	FUZZ_CHECK(dns_name_from_text(a, apex, strlen(apex), NULL) > 0);
	l->zone = dns_db_zone_begin(l->db, a);
	FUZZ_CHECK(l->zone >= 0);
	FUZZ_CHECK(dns_zone_parse(&c, apex, text, strlen(text), NULL) == 0);
}

/* id 1: an A from the client's first octet, scope 24 from ECS; id 2: a
 * CNAME to www; others are unknown. */
static int
fuzz_provider(void *p, uint32_t id, uint16_t qtype, const struct dns_client *cl,
    struct dns_dyn_answer *out)
{
	static const uint8_t www[] = "\3www\7example\3com";
	static uint8_t a[4] = { 198, 18, 3, 0 };
	static struct dns_rdata rd;

	(void)p;
	memset(out, 0, sizeof(*out));
	out->scope = cl->ecs && cl->bits > 0 ? 24 : 0;
	if (id == 1) {
		if (qtype != DNS_TYPE_A)
			return 0;
		a[3] = cl->addr[0];
		rd.data = a;
		rd.len = 4;
		out->type = DNS_TYPE_A;
	} else if (id == 2) {
		rd.data = www;
		rd.len = sizeof(www);
		out->type = DNS_TYPE_CNAME;
	} else {
		return -ENOENT;
	}
	out->ttl = 10;
	out->count = 1;
	out->rdata = &rd;
	return 0;
}

static struct dns_db *
fuzz_db(struct dns_sign **sign)
{
	static struct dns_db *db;
	static struct dns_sign *signer;
	struct dns_db_stats st;
	struct dns_key k, k2;
	char err[128];
	struct fuzz_load l;
	uint8_t n[DNS_NAME_MAX];
	static const char *const dyn[] = { "dyn.example.com.",
		"dc.example.com.", "bad.example.com." };
	static const uint32_t ids[] = { 1, 2, 99 };
	unsigned i;

	*sign = signer;
	if (db != NULL)
		return db;
	FUZZ_CHECK(dns_key_parse(&k, fuzz_pem, sizeof(fuzz_pem) - 1, "fuzz",
	               err, sizeof(err)) == 0);
	/* A second DNSKEY (the same key as a ZSK) that signs the DNSKEY
	 * RRset too: a KSK rollover's two signatures there. */
	FUZZ_CHECK(dns_key_parse(&k2, fuzz_pem, sizeof(fuzz_pem) - 1, "fuzz",
	               err, sizeof(err)) == 0);
	dns_key_set_flags(&k2, DNS_KEY_FLAGS_ZSK);
	l.db = dns_db_new();
	fuzz_zone_add(&l, "other.test.", fuzz_other);
	fuzz_zone_add(&l, "example.com.", fuzz_zone);
	for (i = 0; i < 3; i++) {
		FUZZ_CHECK(
		    dns_name_from_text(n, dyn[i], strlen(dyn[i]), NULL) > 0);
		FUZZ_CHECK(dns_db_add_dyn(l.db, 1, n, ids[i]) == 0);
	}
	FUZZ_CHECK(dns_name_from_text(n, "example.com.", 12, NULL) > 0);
	FUZZ_CHECK(dns_db_add_rr(l.db, 1, n, DNS_TYPE_DNSKEY, 3600, k.rdata,
	               sizeof(k.rdata)) == 0);
	FUZZ_CHECK(dns_db_add_rr(l.db, 1, n, DNS_TYPE_DNSKEY, 3600, k2.rdata,
	               sizeof(k2.rdata)) == 0);
	FUZZ_CHECK(dns_db_finish(l.db, NULL, NULL) == 0);
	dns_db_stats(l.db, &st);
	signer = dns_sign_new(2, (uint32_t)st.rrsets);
	dns_sign_add_key(signer, 1, &k, DNS_SIGN_DATA | DNS_SIGN_DNSKEY);
	dns_sign_add_key(signer, 1, &k2, DNS_SIGN_DNSKEY);
	*sign = signer;
	db = l.db;
	return db;
}

static void
fuzz_one(const struct dns_db *db, struct dns_sign *sign, const uint8_t *data,
    size_t size, bool tcp, uint16_t udp_max, bool nsid)
{
	static uint8_t out[DNS_MSG_MAX];
	static const struct dns_dyn dyn = { fuzz_provider, NULL };
	static const uint8_t id[] = "fuzz-node";
	static const uint8_t secret[DNS_COOKIE_SECRET_LEN] = { 42 };
	/* With NSID on, cookies on too: both options in one OPT. */
	struct dns_answer_opts o = { udp_max, tcp, nsid ? id : NULL,
		nsid ? 9 : 0, nsid ? secret : NULL, 1800000000u, 0, sign };
	struct dns_client src = { 2, { 198, 18, 0, 7 }, 32, false };
	struct dns_answer_info info;
	struct dns_query q, back;
	enum dns_wire_err e;
	size_t n, limit;

	e = dns_wire_parse_query(data, size, &q);
	n = dns_answer(db, &dyn, &o, &src, data, size, out, sizeof(out), &info);
	FUZZ_CHECK(info.err == e);
	FUZZ_CHECK((unsigned)info.kind < DNS_ANS__COUNT);
	if (dns_wire_err_rcode(e) == DNS_RCODE_DROP) {
		FUZZ_CHECK(n == 0 && info.kind == DNS_ANS_DROP);
		return;
	}
	FUZZ_CHECK(n >= DNS_HDR_LEN);
	FUZZ_CHECK(dns_name_check(info.rrl_name, DNS_NAME_MAX) > 0);
	if (tcp)
		limit = DNS_MSG_MAX;
	else if (e == DNS_WIRE_OK && q.edns)
		limit = q.udp_size > udp_max ? udp_max : q.udp_size;
	else
		limit = DNS_UDP_MIN;
	if (limit < DNS_UDP_MIN)
		limit = DNS_UDP_MIN;
	FUZZ_CHECK(n <= limit);
	FUZZ_CHECK(out[0] == data[0] && out[1] == data[1]);
	FUZZ_CHECK((out[2] & 0x80) != 0);
	FUZZ_CHECK(((out[2] & 0x02) != 0) == info.truncated);
	out[2] &= 0x7f;
	e = dns_wire_parse_query(out, n, &back);
	/* A dynamic answer's ECS has a scope, and a TCP answer's
	 * edns-tcp-keepalive a TIMEOUT, which no query may. */
	FUZZ_CHECK(e == DNS_WIRE_OK || e == DNS_WIRE_ECS_SCOPE ||
	    (tcp && e == DNS_WIRE_KEEPALIVE) || !q.has_question);
	if (q.has_question) {
		FUZZ_CHECK(back.qname_len == q.qname_len);
		FUZZ_CHECK(memcmp(back.qname, q.qname, q.qname_len) == 0);
		FUZZ_CHECK(back.qtype == q.qtype && back.qclass == q.qclass);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_sign *sign;
	const struct dns_db *db = fuzz_db(&sign);

	fuzz_one(db, NULL, data, size, false, DNS_EDNS_UDP_DEFAULT, false);
	fuzz_one(db, sign, data, size, true, DNS_EDNS_UDP_DEFAULT, true);
	fuzz_one(db, sign, data, size, false, 4096, true);
	return 0;
}
