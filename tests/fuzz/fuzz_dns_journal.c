/*
 * fuzz_dns_journal.c - libFuzzer target for the IXFR journal file parser
 * (dns_journal_decode), which reads bytes from the state directory. Byte
 * 0 picks the mode: bit 0 set, the trailing hash of the rest is
 * recomputed before decoding, so the fuzzer reaches the structure behind
 * it (a file with a broken hash never gets that far); clear, the rest is
 * decoded as it is. The zone is example.com; the corpus holds journals
 * haven wrote (test_dns_ixfr) and small hand-made ones.
 *
 * Checks: decode returns 0 or -EINVAL; a failure leaves the journal
 * empty; a success is one chain of increasing serials, each step's SOAs
 * carrying its serials, within the bounds, and encodes back to a file
 * that decodes to the same bytes again.
 */
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static const uint8_t fuzz_apex[] = "\7example\3com";

static void
fuzz_check_chain(const struct dns_journal *j)
{
	struct dns_rr rr;
	size_t off;

	FUZZ_CHECK(j->n <= j->max_versions);
	FUZZ_CHECK(j->bytes <= j->max_bytes);
	for (size_t i = 0; i < j->n; i++) {
		const struct dns_diff *d = &j->v[i];

		FUZZ_CHECK((int32_t)(d->to - d->from) > 0);
		FUZZ_CHECK(i == 0 || j->v[i - 1].to == d->from);
		off = 0;
		FUZZ_CHECK(dns_rrlist_next(&d->soa_from, &off, &rr) == 1);
		FUZZ_CHECK(dns_rr_soa_serial(&rr) == d->from);
		off = 0;
		FUZZ_CHECK(dns_rrlist_next(&d->soa_to, &off, &rr) == 1);
		FUZZ_CHECK(dns_rr_soa_serial(&rr) == d->to);
		off = 0;
		while (dns_rrlist_next(&d->add, &off, &rr))
			FUZZ_CHECK(dns_name_is_sub(rr.owner, fuzz_apex) &&
			    rr.type != DNS_TYPE_SOA);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_journal *j, *k;
	struct buf a, b;
	uint8_t *in;
	size_t len;
	int rc;

	if (size < 1)
		return 0;
	len = size - 1;
	in = malloc(len + 1);
	FUZZ_CHECK(in != NULL);
	memcpy(in, data + 1, len);
	if ((data[0] & 1) && len >= DNS_JOURNAL_HASH_LEN)
		crypto_generichash(in + len - DNS_JOURNAL_HASH_LEN,
		    DNS_JOURNAL_HASH_LEN, in, len - DNS_JOURNAL_HASH_LEN, NULL,
		    0);
	/* Small bounds now and then, so trimming runs too. */
	j = dns_journal_new(
	    fuzz_apex, (data[0] & 2) ? 2 : 1000, (data[0] & 4) ? 200 : 1 << 24);
	rc = dns_journal_decode(j, in, len);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc < 0) {
		FUZZ_CHECK(j->n == 0 && j->bytes == 0);
		goto out;
	}
	fuzz_check_chain(j);
	buf_init(&a);
	buf_init(&b);
	dns_journal_encode(j, &a);
	k = dns_journal_new(fuzz_apex, 1000, 1 << 24);
	FUZZ_CHECK(dns_journal_decode(k, (uint8_t *)a.data, a.len) == 0);
	FUZZ_CHECK(k->n == j->n && k->bytes == j->bytes);
	dns_journal_encode(k, &b);
	FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	dns_journal_free(k);
	buf_fini(&a);
	buf_fini(&b);
out:
	dns_journal_free(j);
	free(in);
	return 0;
}
