/*
 * fuzz_havip_frame.c - libFuzzer target for havip_frame.c: the input is
 * one frame as an AF_PACKET socket returns it. Beyond "no crash, no read
 * past the input", it checks what the controller relies on: a reason
 * inside the enum, an accepted VRRP frame's address list inside the
 * input, an accepted ARP frame's sender hardware address equal to its
 * source, and that a refused VRRP payload carries the decoder's reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "havip/havip_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct havip_frame f;
	enum havip_frame_drop d = havip_frame_parse(data, size, &f);

	FUZZ_CHECK((unsigned)d < HAVIP_FDROP__COUNT);
	if (d == HAVIP_FDROP_VRRP)
		FUZZ_CHECK(f.vdrop != VRRP_DROP_NONE &&
		    (unsigned)f.vdrop < VRRP_DROP__COUNT);
	if (d != HAVIP_FDROP_NONE)
		return 0;
	if (f.kind == HAVIP_FRAME_ARP) {
		FUZZ_CHECK(memcmp(f.sha, f.src_mac, 6) == 0);
		FUZZ_CHECK(f.op == HAVIP_ARP_REQ || f.op == HAVIP_ARP_REPLY);
		return 0;
	}
	FUZZ_CHECK(f.kind == HAVIP_FRAME_VRRP);
	FUZZ_CHECK(f.vrrp.naddrs >= 1);
	FUZZ_CHECK(f.vrrp.addrs >= data &&
	    f.vrrp.addrs + 4 * (size_t)f.vrrp.naddrs <= data + size);
	return 0;
}
