/*
 * fuzz_vrrp_pkt.c - libFuzzer target for vrrp_pkt.c. The input's first
 * FUZZ_VRRP_HDR bytes stand for what recvmsg would tell the caller, the
 * rest is the VRRP payload:
 *
 *	byte 0   bit 0: IPv6; bits 1-2: VRRP_PKT_V2 / VRRP_PKT_V3 run (none
 *	         set: both); bit 3: ttl_any; bit 4: TTL from byte 1, else 255
 *	byte 1   TTL / hop limit
 *	byte 2   bits 0-2: k; bit 3 clear: the IP layer announces k bytes
 *	         fewer than the payload holds (link padding), set: k more
 *	         (recvmsg truncated)
 *	3..18    source address (IPv4: the first 4 bytes)
 *	19..34   destination address (IPv4: the first 4 bytes)
 *
 * Beyond "no crash, no read past the input", it checks what callers rely
 * on: the decoder gives only reasons it owns; an accepted packet's address
 * list lies inside the message; encoding the decoded struct, in the form
 * that verified, gives back the very input bytes (decode-then-encode is the
 * identity, which also proves the encoder's checks no stricter than the
 * decoder's); one byte less of room is -EMSGSIZE; and a v3 IPv4 packet
 * re-encoded in the other checksum form decodes again, reporting that form.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vrrp/vrrp_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_VRRP_HDR 35

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static void
fuzz_vrrp_pkt_ip(
    const uint8_t *h, size_t rem, struct vrrp_ip *ip, unsigned *versions)
{
	size_t k = h[2] & 7;

	memset(ip, 0, sizeof(*ip));
	ip->family = h[0] & 1 ? AF_INET6 : AF_INET;
	*versions = (h[0] >> 1 & 3) << 2;
	if (*versions == 0)
		*versions = VRRP_PKT_V2 | VRRP_PKT_V3;
	ip->ttl_any = h[0] & 8;
	ip->ttl = h[0] & 16 ? h[1] : VRRP_TTL;
	if (h[2] & 8)
		ip->len = rem + k;
	else
		ip->len = rem > k ? rem - k : 0;
	memcpy(ip->src.b, h + 3, 16);
	memcpy(ip->dst.b, h + 19, 16);
}

/* v3 over IPv4 in the form that did not verify must decode too. */
static void
fuzz_vrrp_pkt_other_form(const struct vrrp_ip *ip, struct vrrp_pkt p)
{
	uint8_t out[VRRP_PKT_MAX];
	struct vrrp_pkt back;
	int n;

	p.csum = p.csum == VRRP_CSUM_PSEUDO ? VRRP_CSUM_MSG : VRRP_CSUM_PSEUDO;
	n = vrrp_pkt_encode(ip, &p, out, sizeof(out));
	FUZZ_CHECK(n == (int)ip->len);
	FUZZ_CHECK(vrrp_pkt_decode(ip, VRRP_PKT_V3, out, (size_t)n, &back) ==
	    VRRP_DROP_NONE);
	/* Both forms can verify at once only when they write the same sum. */
	FUZZ_CHECK(back.csum == p.csum || back.checksum == p.checksum);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[VRRP_PKT_MAX];
	const uint8_t *msg;
	struct vrrp_pkt p;
	struct vrrp_ip ip;
	enum vrrp_drop d;
	unsigned versions;
	size_t rem, alen;
	int n;

	if (size < FUZZ_VRRP_HDR)
		return 0;
	msg = data + FUZZ_VRRP_HDR;
	rem = size - FUZZ_VRRP_HDR;
	fuzz_vrrp_pkt_ip(data, rem, &ip, &versions);
	d = vrrp_pkt_decode(&ip, versions, msg, rem, &p);
	FUZZ_CHECK(d < VRRP_DROP_ADDR_MISMATCH);
	FUZZ_CHECK(vrrp_drop_name(d) != NULL);
	if (d != VRRP_DROP_NONE)
		return 0;

	alen = ip.family == AF_INET ? 4 : 16;
	FUZZ_CHECK(p.csum == VRRP_CSUM_PSEUDO || p.csum == VRRP_CSUM_MSG);
	FUZZ_CHECK(p.naddrs > 0 && p.addrs == msg + VRRP_HDR_LEN);
	FUZZ_CHECK(VRRP_HDR_LEN + p.naddrs * alen <= ip.len && ip.len <= rem);
	n = vrrp_pkt_encode(&ip, &p, out, sizeof(out));
	FUZZ_CHECK(n == (int)ip.len);
	FUZZ_CHECK(memcmp(out, msg, ip.len) == 0);
	FUZZ_CHECK(vrrp_pkt_encode(&ip, &p, out, ip.len - 1) == -EMSGSIZE);
	if (p.version == 3 && ip.family == AF_INET)
		fuzz_vrrp_pkt_other_form(&ip, p);
	return 0;
}
