/*
 * fuzz_dns_sec.c - libFuzzer target for the secondary role's parsers of
 * outside bytes (dns_sec_wire.c): a NOTIFY from anyone (parsed, then
 * answered into a buffer of the size the input's last byte picks), and
 * a primary's answer to our SOA query for example.com with ID 0x1234.
 * Byte 0 picks which; the rest is the message.
 *
 * Checks: the NOTIFY parser returns 0 or -EBADMSG, and on 0 a valid
 * lower-case name and a question end inside the message; the answer is
 * the question's length or 0, keeps the ID and has QR set; the SOA
 * parser returns 0, 1 or -EPROTO and never reads past the message
 * (ASan watches the copy made to an exact-size heap buffer).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_sec_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static const uint8_t fuzz_apex[] = "\7example\3com";

static void
fuzz_notify(const uint8_t *m, size_t len, size_t out_size)
{
	uint8_t apex[DNS_NAME_MAX], out[12 + 2 * 255];
	size_t qend = 0, n;
	int rc = dns_sec_notify_parse(m, len, apex, &qend);

	FUZZ_CHECK(rc == 0 || rc == -EBADMSG);
	if (rc != 0)
		return;
	FUZZ_CHECK(qend >= 12 + 1 + 4 && qend <= len);
	FUZZ_CHECK(dns_name_check(apex, DNS_NAME_MAX) > 0);
	for (size_t i = 0; i < dns_name_len(apex); i++)
		FUZZ_CHECK(apex[i] < 'A' || apex[i] > 'Z');
	n = dns_sec_notify_answer(m, qend, rc, out, out_size);
	FUZZ_CHECK(n == 0 || n == qend);
	if (n > 0) {
		FUZZ_CHECK(out[0] == m[0] && out[1] == m[1]);
		FUZZ_CHECK(out[2] & 0x80);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *m;
	uint32_t serial = 0;
	size_t len;
	int rc;

	if (size < 1)
		return 0;
	len = size - 1;
	m = malloc(len ? len : 1);
	memcpy(m, data + 1, len);
	if (data[0] & 1) {
		rc = dns_sec_soa_parse(m, len, 0x1234, fuzz_apex, &serial);
		FUZZ_CHECK(rc == 0 || rc == 1 || rc == -EPROTO);
	} else {
		fuzz_notify(m, len, size > 1 ? 12 + data[size - 1] * 2u : 0);
	}
	free(m);
	return 0;
}
