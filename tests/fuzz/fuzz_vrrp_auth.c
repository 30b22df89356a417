/*
 * fuzz_vrrp_auth.c - libFuzzer target for the HMAC trailer (vrrp_auth.c)
 * behind the decoder's trailer rule (vrrp_pkt.c, VRRP_PKT_TRAILER), the
 * way the receive path chains them. The input's first FUZZ_AUTH_HDR bytes
 * stand for the IP layer and the receiver's key, the rest is the payload:
 *
 *	byte 0   bit 0: IPv6; bit 1: the receiver expects key id 8, not 7;
 *	         bit 2: ttl_any
 *	1..16    source address (IPv4: the first 4 bytes)
 *	17..32   destination address (IPv4: the first 4 bytes)
 *
 * The key is fixed ("0123456789abcdef0123456789abcdef"), so the corpus can
 * hold correctly signed adverts (tests/fuzz/corpus/vrrp_auth/README says
 * how they were made). Checks: decode then verify give only their own
 * reasons and never read past the input; an accepted trailer is exactly
 * one trailer of ours; re-signing the message with the sequence it carried
 * gives back the same bytes (the MAC is a function of what it covers);
 * signing any decoded message verifies, and a flipped bit in the result or
 * another destination does not.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vrrp/vrrp_auth.h"
#include "vrrp/vrrp_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_AUTH_HDR 33

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static void
fuzz_vrrp_auth_key(struct vrrp_auth_key *k, uint8_t id)
{
	memset(k, 0, sizeof(*k));
	k->id = id;
	k->len = 32;
	memcpy(k->bytes, "0123456789abcdef0123456789abcdef", 32);
}

/* Sign the decoded message ourselves: it must verify, and only as is. */
static void
fuzz_vrrp_auth_sign(const struct vrrp_ip *ip, const struct vrrp_auth_key *k,
    const uint8_t *msg, size_t mlen, size_t flip)
{
	uint8_t buf[VRRP_PKT_MAX + VRRP_V2_AUTH_LEN + VRRP_AUTH_TRAILER];
	struct vrrp_ip other = *ip;
	uint64_t seq = 0;
	int n;

	memcpy(buf, msg, mlen);
	n = vrrp_auth_append(
	    ip, k, UINT64_C(0x0123456789abcdef), buf, mlen, sizeof(buf));
	FUZZ_CHECK(n == (int)(mlen + VRRP_AUTH_TRAILER));
	FUZZ_CHECK(vrrp_auth_verify(ip, k, buf, mlen, (size_t)n, &seq) ==
	    VRRP_DROP_NONE);
	FUZZ_CHECK(seq == UINT64_C(0x0123456789abcdef));
	other.dst.b[0] ^= 0x80;
	FUZZ_CHECK(vrrp_auth_verify(&other, k, buf, mlen, (size_t)n, &seq) ==
	    VRRP_DROP_AUTH_BAD_MAC);
	buf[flip % (size_t)n] ^= 0x04;
	FUZZ_CHECK(vrrp_auth_verify(ip, k, buf, mlen, (size_t)n, &seq) !=
	    VRRP_DROP_NONE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t again[VRRP_PKT_MAX + VRRP_V2_AUTH_LEN + VRRP_AUTH_TRAILER];
	struct vrrp_auth_key k;
	const uint8_t *msg;
	struct vrrp_pkt p;
	struct vrrp_ip ip;
	enum vrrp_drop d;
	uint64_t seq = 0;
	size_t rem;
	int n;

	if (size < FUZZ_AUTH_HDR)
		return 0;
	msg = data + FUZZ_AUTH_HDR;
	rem = size - FUZZ_AUTH_HDR;
	memset(&ip, 0, sizeof(ip));
	ip.family = data[0] & 1 ? AF_INET6 : AF_INET;
	ip.ttl_any = data[0] & 4;
	ip.ttl = VRRP_TTL;
	ip.len = rem;
	memcpy(ip.src.b, data + 1, 16);
	memcpy(ip.dst.b, data + 17, 16);
	fuzz_vrrp_auth_key(&k, data[0] & 2 ? 8 : 7);

	d = vrrp_pkt_decode(
	    &ip, VRRP_PKT_V2 | VRRP_PKT_V3 | VRRP_PKT_TRAILER, msg, rem, &p);
	FUZZ_CHECK(d < VRRP_DROP_ADDR_MISMATCH);
	if (d != VRRP_DROP_NONE)
		return 0;
	FUZZ_CHECK(p.len >= VRRP_HDR_LEN && p.len <= ip.len);
	d = vrrp_auth_verify(&ip, &k, msg, p.len, ip.len, &seq);
	FUZZ_CHECK(d == VRRP_DROP_NONE || d == VRRP_DROP_AUTH_MISSING ||
	    d == VRRP_DROP_AUTH_TRAILER || d == VRRP_DROP_AUTH_KEY_ID ||
	    d == VRRP_DROP_AUTH_BAD_MAC);
	FUZZ_CHECK((d == VRRP_DROP_AUTH_MISSING) == (p.len == ip.len));
	if (d == VRRP_DROP_NONE) {
		FUZZ_CHECK(vrrp_auth_is_trailer(msg, p.len, ip.len));
		memcpy(again, msg, p.len);
		n = vrrp_auth_append(&ip, &k, seq, again, p.len, sizeof(again));
		FUZZ_CHECK(n == (int)ip.len);
		/* Reserved is ignored on receipt but covered: equal only
		 * when it was zero, as we send it. */
		if (msg[p.len + 2] == 0 && msg[p.len + 3] == 0)
			FUZZ_CHECK(memcmp(again, msg, ip.len) == 0);
	}
	fuzz_vrrp_auth_sign(&ip, &k, msg, p.len, rem);
	return 0;
}
