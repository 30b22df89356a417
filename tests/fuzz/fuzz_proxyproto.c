/*
 * fuzz_proxyproto.c - libFuzzer target for lb_proxyproto.c. Beyond "no
 * crash" it checks the contract the listener relies on: a complete header
 * never claims more bytes than given; every strict prefix of a complete
 * header answers "need more" (the parser is restartable); and addresses
 * parsed from a header survive a v1 and a v2 build/parse round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb/lb_proxyproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static void
fuzz_proxyproto_roundtrip(const struct lb_proxyproto_info *pi)
{
	uint8_t out[LB_PROXYPROTO_BUILD_MAX];
	struct lb_proxyproto_info back;
	size_t n;

	n = lb_proxyproto_build_v2(out, &pi->src, &pi->dst);
	FUZZ_CHECK(n <= sizeof(out));
	FUZZ_CHECK(lb_proxyproto_parse(out, n, &back) == (int)n);
	FUZZ_CHECK(!back.local);
	FUZZ_CHECK(memcmp(&back.src, &pi->src, sizeof(back.src)) == 0);
	n = lb_proxyproto_build_v1((char *)out, &pi->src, &pi->dst);
	FUZZ_CHECK(n <= LB_PROXYPROTO_V1_MAX);
	FUZZ_CHECK(lb_proxyproto_parse(out, n, &back) == (int)n);
	FUZZ_CHECK(memcmp(&back.dst, &pi->dst, sizeof(back.dst)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_proxyproto_info pi, pre;
	int r;
	size_t i;

	r = lb_proxyproto_parse(data, size, &pi);
	FUZZ_CHECK(r <= 0 || (size_t)r <= size);
	if (r < 0)
		FUZZ_CHECK(pi.err != LB_PROXYPROTO_E_NONE);
	if (r <= 0)
		return 0;
	for (i = 0; i < (size_t)r; i++)
		FUZZ_CHECK(lb_proxyproto_parse(data, i, &pre) == 0);
	if (!pi.local)
		fuzz_proxyproto_roundtrip(&pi);
	return 0;
}
