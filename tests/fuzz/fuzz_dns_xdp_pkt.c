/*
 * fuzz_dns_xdp_pkt.c - libFuzzer target for dns_xdp_pkt.c. The input is a
 * frame as the RX ring hands it over. Beyond "no crash, no read past the
 * input", it checks what dns_xdp.c relies on: an accepted frame's payload
 * lies inside the frame; the reply built around it (the payload echoed,
 * in place, as dns_xdp.c's frames are reused) parses again with addresses
 * and ports swapped, the same payload, and a UDP checksum that verifies;
 * and a reply that does not fit is refused, never cut.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_xdp_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

#define FUZZ_FRAME 2048

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *f, pseudo[12];
	struct dns_xdp_pkt q, r;
	size_t len;
	uint16_t ulen;

	if (size > FUZZ_FRAME)
		return 0;
	/* the frame's own buffer: a read past size is caught by ASan */
	f = malloc(size > 0 ? size : 1);
	memcpy(f, data, size);
	if (dns_xdp_pkt_parse(f, size, &q) != DNS_XDP_PKT_OK) {
		free(f);
		return 0;
	}
	FUZZ_CHECK(
	    q.payload >= f + DNS_XDP_PKT_HDRS && q.payload + q.len <= f + size);
	/* too small by one byte: refused */
	FUZZ_CHECK(dns_xdp_pkt_reply(f, DNS_XDP_PKT_HDRS + q.len - 1, &q,
	               q.payload, q.len) == 0);
	len = dns_xdp_pkt_reply(f, size, &q, q.payload, q.len);
	FUZZ_CHECK(len == DNS_XDP_PKT_HDRS + q.len);
	FUZZ_CHECK(dns_xdp_pkt_parse(f, len, &r) == DNS_XDP_PKT_OK);
	FUZZ_CHECK(r.saddr == q.daddr && r.daddr == q.saddr);
	FUZZ_CHECK(r.sport == q.dport && r.dport == q.sport);
	FUZZ_CHECK(r.len == q.len);
	FUZZ_CHECK(memcmp(r.payload, data + (q.payload - f), q.len) == 0);
	memcpy(pseudo, f + 26, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	ulen = (uint16_t)(8 + q.len);
	pseudo[10] = (uint8_t)(ulen >> 8);
	pseudo[11] = (uint8_t)ulen;
	FUZZ_CHECK(dns_xdp_pkt_csum(f + 34, ulen,
	               (uint16_t)~dns_xdp_pkt_csum(pseudo, 12, 0)) == 0);
	free(f);
	return 0;
}
