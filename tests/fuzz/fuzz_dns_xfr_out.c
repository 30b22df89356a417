/*
 * fuzz_dns_xfr_out.c - libFuzzer target for the transfer responder
 * (dns_xfr_out.c) on whole requests as they arrive over TCP: the query
 * parser, the TSIG check, the IXFR authority SOA reader and the stream.
 * The zone is fixed (example.com, serial 5, a few records) and so is the
 * key (the dns_tsig target's: "xfr-key.", secret bytes 1..32), required
 * for nothing, so signed and unsigned requests both reach the stream; the
 * client is 127.0.0.1, inside allow_transfer.
 *
 * Checks: start never fails to give a stream; the stream ends within a
 * few messages; each message is a response (QR) under DNS_MSG_MAX with the
 * request's ID; a refusal is one message without answers.
 */
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_db.h"
#include "dns/dns_xfr_out.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

#define FUZZ_T0 1767225600ULL

static struct dns_db *fuzz_db;
static struct dns_tsig_key fuzz_key;
static struct dns_xfr_prefix fuzz_allow;

static void
fuzz_init(void)
{
	static const uint8_t apex[] = "\7example\3com";
	static const uint8_t www[] = "\3www\7example\3com";
	static const uint8_t soa[] = "\3ns1\7example\3com\0\12hostmaster"
	                             "\7example\3com\0"
	                             "\0\0\0\5\0\0\x0e\x10\0\0\2\x58"
	                             "\0\1\x51\x80\0\0\0\x3c";
	static const uint8_t ns[] = "\3ns1\7example\3com";
	uint8_t secret[32], a[4] = { 198, 18, 0, 1 };
	unsigned i;

	fuzz_db = dns_db_new();
	FUZZ_CHECK(dns_db_zone_begin(fuzz_db, apex) == 0);
	FUZZ_CHECK(
	    dns_db_add_rr(fuzz_db, 0, apex, 6, 300, soa, sizeof(soa) - 1) == 0);
	FUZZ_CHECK(
	    dns_db_add_rr(fuzz_db, 0, apex, 2, 300, ns, sizeof(ns)) == 0);
	FUZZ_CHECK(dns_db_add_rr(fuzz_db, 0, ns, 1, 300, a, 4) == 0);
	for (i = 0; i < 40; i++) {
		a[3] = (uint8_t)i;
		FUZZ_CHECK(dns_db_add_rr(fuzz_db, 0, www, 1, 300, a, 4) == 0);
	}
	FUZZ_CHECK(dns_db_finish(fuzz_db, NULL, NULL) == 0);
	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i + 1);
	FUZZ_CHECK(dns_tsig_key_init(&fuzz_key, "xfr-key.", "hmac-sha256",
	               secret, sizeof(secret)) == 0);
	FUZZ_CHECK(dns_xfr_prefix_parse(&fuzz_allow, "127.0.0.0/8") == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNS_MSG_MAX];
	struct dns_xfr_zone z = { (const uint8_t *)"\7example\3com",
		&fuzz_allow, 1, NULL };
	struct dns_xfr_env env;
	struct sockaddr_in sin;
	enum dns_xfr_result res;
	struct dns_xfr_out *x;
	unsigned msgs = 0;
	int n;

	if (fuzz_db == NULL)
		fuzz_init();
	if (size > DNS_MSG_MAX)
		return 0;
	env = (struct dns_xfr_env){ fuzz_db, &z, 1, &fuzz_key, 1 };
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000001);
	x = dns_xfr_out_start(
	    &env, data, size, (struct sockaddr *)&sin, FUZZ_T0, &res);
	FUZZ_CHECK(x != NULL && (unsigned)res < DNS_XFR_RESULT__COUNT);
	while ((n = dns_xfr_out_next(x, out, sizeof(out), FUZZ_T0)) > 0) {
		FUZZ_CHECK(n >= 12 && n <= DNS_MSG_MAX);
		FUZZ_CHECK(out[2] & 0x80);
		FUZZ_CHECK(out[0] == data[0] && out[1] == data[1]);
		if (res != DNS_XFR_AXFR && res != DNS_XFR_IXFR_FULL &&
		    res != DNS_XFR_IXFR_UPTODATE)
			FUZZ_CHECK(out[6] == 0 && out[7] == 0);
		FUZZ_CHECK(++msgs < 10);
	}
	FUZZ_CHECK(n == 0);
	dns_xfr_out_free(x);
	return 0;
}
