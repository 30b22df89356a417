/*
 * fuzz_vrrp_tk_icmp.c - libFuzzer target for the takeover backends' ICMP
 * judges (vrrp_tk.c): vrrp_tk_icmp_parse, fed what a raw ICMP socket
 * returns, and vrrp_tk_owner_parse, fed what the owner probe's packet
 * socket returns. Both read bytes any host on the link can send.
 *
 * The input's first 23 bytes are the match (what we last sent) and the
 * mode, so the fuzzer can steer a packet into every branch, the accepting
 * one included; the rest is the packet. Beyond "no crash, no read past the
 * input" it checks what the backend relies on: a reason inside the enum,
 * and an accepted reply's sequence number inside the window the match
 * allows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vrrp/vrrp_tk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

#define FUZZ_HDR 23 /* from 4, to 4, id 2, seq 2, window 2, token 8, mode 1 */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vrrp_tk_icmp_match m;
	enum vrrp_tk_icmp_drop d;
	uint16_t seq = 0, window;
	uint8_t *pkt;
	size_t len;

	if (size < FUZZ_HDR)
		return 0;
	memcpy(&m.from, data, 4);
	memcpy(&m.to, data + 4, 4);
	m.id = (uint16_t)(data[8] << 8 | data[9]);
	m.seq = (uint16_t)(data[10] << 8 | data[11]);
	m.window = (uint16_t)(data[12] << 8 | data[13]);
	memcpy(m.token, data + 14, VRRP_TK_ICMP_TOKEN);
	/* A copy of exactly the packet's bytes, so ASan sees any over-read. */
	len = size - FUZZ_HDR;
	pkt = malloc(len > 0 ? len : 1);
	memcpy(pkt, data + FUZZ_HDR, len);
	if (data[22] & 1)
		d = vrrp_tk_owner_parse(pkt, len, &m, &seq);
	else
		d = vrrp_tk_icmp_parse(pkt, len, &m, &seq);
	free(pkt);
	FUZZ_CHECK((unsigned)d < VRRP_TK_ICMP__COUNT);
	FUZZ_CHECK(vrrp_tk_icmp_drop_name(d) != NULL);
	if (d == VRRP_TK_ICMP_OK) {
		window = m.window > 0 ? m.window : 1;
		FUZZ_CHECK((uint16_t)(m.seq - seq) < window);
	}
	return 0;
}
