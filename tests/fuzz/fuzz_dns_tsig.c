/*
 * fuzz_dns_tsig.c - libFuzzer target for the TSIG verifier (dns_tsig.c) on
 * whole messages, as a transfer request would arrive over TCP. The key is
 * fixed (the unit test's: name "xfr-key.", secret bytes 1..32) and so is
 * the time (the vectors' T0), so the corpus holds correctly signed queries
 * (corpus/dns_tsig/README says how they were made).
 *
 * Checks: verify returns one of its documented values and agrees with
 * dns_tsig_find; an accepted request can be answered (signing fits in a
 * large buffer) and our own answer verifies on the client side of the
 * same exchange; a request we sign ourselves from the stripped message
 * verifies, and flipping one byte of the signed part does not.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_tsig.h"
#include "dns/dns_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

#define FUZZ_T0  1767225600ULL
#define FUZZ_MAX 4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[FUZZ_MAX + 512], ans[FUZZ_MAX + 512];
	uint8_t secret[32];
	struct dns_tsig_key key;
	struct dns_tsig_ctx ctx, cl;
	struct dns_tsig_rr rr;
	size_t len, alen, off, i;
	int rc, frc;

	if (size > FUZZ_MAX)
		return 0;
	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i + 1);
	FUZZ_CHECK(dns_tsig_key_init(&key, "xfr-key.", "hmac-sha256", secret,
	               sizeof(secret)) == 0);
	memcpy(buf, data, size);
	rc = dns_tsig_verify(&key, 1, buf, size, FUZZ_T0, &ctx);
	frc = dns_tsig_find(buf, size, &rr);
	FUZZ_CHECK(rc == -ENOENT || rc == -EBADMSG || rc == DNS_TSIG_NOERROR ||
	    rc == DNS_TSIG_BADKEY || rc == DNS_TSIG_BADSIG ||
	    rc == DNS_TSIG_BADTIME || rc == DNS_TSIG_BADTRUNC);
	FUZZ_CHECK(rc != -ENOENT || frc == -ENOENT);
	if (rc >= 0)
		FUZZ_CHECK(frc == 0 && rr.off <= size);

	if (rc >= 0) {
		/* Answer with the request's own bytes up to its TSIG (as a
		 * stand-in body); it must fit and, when the request was
		 * good, verify for a client holding the request's MAC. */
		alen = rr.off;
		memcpy(ans, buf, alen);
		if (alen >= DNS_HDR_LEN) {
			ans[10] = 0;
			ans[11] = 0;
			ans[6] = ans[7] = ans[8] = ans[9] = 0;
			ans[4] = ans[5] = 0;
			alen = DNS_HDR_LEN;
			ans[0] = (uint8_t)(ctx.orig_id >> 8);
			ans[1] = (uint8_t)ctx.orig_id;
			FUZZ_CHECK(dns_tsig_sign(&ctx, ans, &alen, sizeof(ans),
			               FUZZ_T0) == 0);
			FUZZ_CHECK(dns_tsig_find(ans, alen, &rr) == 0);
			if (rc == DNS_TSIG_NOERROR) {
				dns_tsig_ctx_client(&cl, &key);
				(void)dns_tsig_find(buf, size, &rr);
				memcpy(cl.prior, rr.mac, rr.mac_len);
				cl.prior_len = rr.mac_len;
				cl.mac_len = rr.mac_len;
				FUZZ_CHECK(
				    dns_tsig_verify_answer(&cl, ans, alen,
				        FUZZ_T0, &off) == DNS_TSIG_NOERROR);
			}
		}
	}

	/* Sign the message ourselves when it parses without a TSIG. */
	if (frc == -ENOENT && size >= DNS_HDR_LEN && size < FUZZ_MAX) {
		len = size;
		dns_tsig_ctx_client(&cl, &key);
		if (dns_tsig_sign(&cl, buf, &len, sizeof(buf), FUZZ_T0) == 0 &&
		    (buf[10] | buf[11]) != 0) {
			/* ARCOUNT wrapped from 0xffff is not a message. */
			rc = dns_tsig_verify(&key, 1, buf, len, FUZZ_T0, &ctx);
			FUZZ_CHECK(rc == DNS_TSIG_NOERROR || rc == -EBADMSG);
			if (rc == DNS_TSIG_NOERROR && size > DNS_HDR_LEN) {
				buf[size - 1] ^= 1;
				rc = dns_tsig_verify(
				    &key, 1, buf, len, FUZZ_T0, &ctx);
				FUZZ_CHECK(rc != DNS_TSIG_NOERROR);
			}
		}
	}
	return 0;
}
