/*
 * fuzz_dns_xfr_in.c - libFuzzer target for the secondary's reader of AXFR
 * answers (dns_xfr_in.c). The input is what a primary would send on the
 * TCP connection: byte 0 picks the mode (bit 0: the query was signed with
 * the dns_tsig target's key, "xfr-key.", secret bytes 1..32, at the
 * vectors' time; bit 1: the query was IXFR from serial 100), then messages,
 * each behind its 2-byte length, for a transfer of example.com asked with ID
 * 0x1234 (the corpus holds the dnspython stream of
 * tests/unit/data/dns_tsig_vectors.h).
 *
 * Checks: each feed returns 0, 1 or -EPROTO with a reason set; nothing is
 * accepted after the end or a failure; every record handed over lies at
 * or below the apex; the opening SOA is handed over once and counted.
 * For IXFR: deletions and additions only in the incremental form, which
 * alternates them step by step; an up-to-date answer hands nothing over.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_xfr_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

#define FUZZ_T0 1767225600ULL

static const uint8_t fuzz_apex[] = "\7example\3com";

struct fuzz_st {
	unsigned long n;
	const struct dns_xfr_in *x; /* borrowed */
};

static int
fuzz_rr(const struct dns_xfr_rr *rr, void *arg)
{
	struct fuzz_st *st = arg;

	FUZZ_CHECK(dns_name_is_sub(rr->owner, fuzz_apex));
	FUZZ_CHECK(dns_name_check(rr->owner, DNS_NAME_MAX) > 0);
	FUZZ_CHECK((rr->op != DNS_XFR_OP_ZONE) == st->x->incremental);
	FUZZ_CHECK(rr->op == DNS_XFR_OP_ZONE || st->x->ixfr);
	st->n++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The MAC of the vectors' query: the chain's start. */
	static const uint8_t qmac[32] = { 0x0d, 0xeb, 0x2d, 0x84, 0x90, 0x95,
		0x9c, 0x72, 0x8f, 0x72, 0x26, 0xa2, 0xe7, 0x48, 0x9d, 0x44,
		0x31, 0xbc, 0x50, 0x58, 0x9a, 0x71, 0x5c, 0xa9, 0xb0, 0xa0,
		0x00, 0xd3, 0x0f, 0x0f, 0x74, 0x6f };
	static struct dns_xfr_in x;
	struct dns_tsig_key key;
	uint8_t q[512], secret[32];
	struct fuzz_st st = { 0, &x };
	size_t off = 1, len;
	int rc = 0;
	unsigned i;

	if (size < 1)
		return 0;
	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i + 1);
	FUZZ_CHECK(dns_tsig_key_init(&key, "xfr-key.", "hmac-sha256", secret,
	               sizeof(secret)) == 0);
	if (data[0] & 2)
		FUZZ_CHECK(dns_xfr_in_query_ixfr(&x, fuzz_apex, 0x1234, 100,
		               (data[0] & 1) ? &key : NULL, q, sizeof(q),
		               FUZZ_T0) > 0);
	else
		FUZZ_CHECK(dns_xfr_in_query(&x, fuzz_apex, 0x1234,
		               (data[0] & 1) ? &key : NULL, q, sizeof(q),
		               FUZZ_T0) > 0);
	if (data[0] & 1) {
		memcpy(x.tsig.prior, qmac, sizeof(qmac));
		x.tsig.prior_len = sizeof(qmac);
	}
	while (size - off >= 2) {
		len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			break;
		rc = dns_xfr_in_feed(
		    &x, data + off, len, FUZZ_T0 + 1, fuzz_rr, &st);
		off += len;
		FUZZ_CHECK(rc == 0 || rc == 1 || rc == -EPROTO);
		FUZZ_CHECK((rc == -EPROTO) == (x.err != DNS_XFR_IN_OK));
		/* An IXFR answer holds its opening SOA back. */
		FUZZ_CHECK(
		    st.n == x.records || (x.ixfr && st.n + 1 == x.records));
		if (rc != 0) {
			FUZZ_CHECK(dns_xfr_in_feed(&x, data, size, FUZZ_T0,
			               fuzz_rr, &st) == -EPROTO);
			break;
		}
	}
	if (rc == 1)
		FUZZ_CHECK(x.done && x.records >= 1);
	if (rc == 1 && x.uptodate)
		FUZZ_CHECK(st.n == 0 && !x.incremental);
	if (rc == 1 && x.incremental)
		FUZZ_CHECK(x.steps >= 1 && st.n >= 2);
	return 0;
}
