/*
 * Unit tests for havip_frame.c on golden frames: a gratuitous ARP as
 * arping -U sends it, an ARP reply, keepalived 2.2.7's unicast VRRPv3
 * advert (tests/unit/test_vrrp_pkt.c's ka_v3_uc) inside its IPv4 and
 * Ethernet headers, link-layer padding, and one broken frame per reason.
 */
#include <arpa/inet.h>

#include "havip/havip_frame.h"
#include "runner.h"

#define MAC_N1 0x02, 0x00, 0x00, 0x00, 0x00, 0x11
#define BCAST  0xff, 0xff, 0xff, 0xff, 0xff, 0xff

/* arping -U -s 198.18.0.100 -I eth0 198.18.0.100, from 02:00:00:00:00:11 */
static const uint8_t garp[] = { BCAST, MAC_N1, 0x08, 0x06, /* Ethernet */
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,    /* request */
	MAC_N1, 198, 18, 0, 100,                           /* sender */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 198, 18, 0, 100 };

/* 198.18.10.1 > 198.18.10.2, TTL 255, DF, then ka_v3_uc (VRID 52,
 * priority 150, 50 cs, VIPs 198.18.10.100 and .101). */
static const uint8_t vrrp_uc[] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, MAC_N1,
	0x08, 0x00, /* Ethernet */
	0x45, 0x00, 0x00, 0x24, 0x00, 0x00, 0x40, 0x00, 0xff, 0x70, 0xdb, 0x41,
	0xc6, 0x12, 0x0a, 0x01, 0xc6, 0x12, 0x0a, 0x02, /* IPv4 */
	0x31, 0x34, 0x96, 0x02, 0x00, 0x32, 0xf6, 0xff, 0xc6, 0x12, 0x0a, 0x64,
	0xc6, 0x12, 0x0a, 0x65 };

static void
test_garp(void)
{
	struct havip_frame f;
	char a[INET_ADDRSTRLEN];

	T_EQ_INT(havip_frame_parse(garp, sizeof(garp), &f), HAVIP_FDROP_NONE);
	T_EQ_INT(f.kind, HAVIP_FRAME_ARP);
	T_EQ_INT(f.op, HAVIP_ARP_REQ);
	T_EQ_STR(inet_ntop(AF_INET, &f.spa, a, sizeof(a)), "198.18.0.100");
	T_EQ_STR(inet_ntop(AF_INET, &f.tpa, a, sizeof(a)), "198.18.0.100");
	T_EQ_INT(f.sha[5], 0x11);
}

static void
test_arp_reply_padded(void)
{
	uint8_t b[60] = { 0 };
	struct havip_frame f;

	/* a reply, padded to Ethernet's 60-byte minimum */
	memcpy(b, garp, sizeof(garp));
	b[21] = HAVIP_ARP_REPLY;
	T_EQ_INT(havip_frame_parse(b, sizeof(b), &f), HAVIP_FDROP_NONE);
	T_EQ_INT(f.op, HAVIP_ARP_REPLY);
}

static void
test_vrrp_unicast(void)
{
	uint8_t b[sizeof(vrrp_uc) + 10];
	struct havip_frame f;

	T_EQ_INT(
	    havip_frame_parse(vrrp_uc, sizeof(vrrp_uc), &f), HAVIP_FDROP_NONE);
	T_EQ_INT(f.kind, HAVIP_FRAME_VRRP);
	T_EQ_INT(f.vrrp.version, 3);
	T_EQ_INT(f.vrrp.vrid, 52);
	T_EQ_INT(f.vrrp.priority, 150);
	T_EQ_INT(f.vrrp.interval_cs, 50);
	T_EQ_INT(f.vrrp.naddrs, 2);
	T_EQ_INT(f.vrrp.addrs[3], 100);
	T_EQ_INT(f.vrrp.addrs[7], 101);
	T_EQ_INT(f.ip.src.b[3], 1);
	T_EQ_INT(f.ip.ttl, 255);
	/* padding past the IP total length is not part of the advert */
	memset(b, 0, sizeof(b));
	memcpy(b, vrrp_uc, sizeof(vrrp_uc));
	T_EQ_INT(havip_frame_parse(b, sizeof(b), &f), HAVIP_FDROP_NONE);
	/* a routed advert (TTL 63) is still one */
	memcpy(b, vrrp_uc, sizeof(vrrp_uc));
	b[22] = 63;
	b[24] = 0x9b; /* checksum + (192 << 8), end-around carry */
	b[25] = 0x42;
	T_EQ_INT(havip_frame_parse(b, sizeof(vrrp_uc), &f), HAVIP_FDROP_NONE);
	T_EQ_INT(f.ip.ttl, 63);
}

/* haven's HMAC trailer after the message: read as the advert before it. */
static void
test_vrrp_auth_trailer(void)
{
	uint8_t b[sizeof(vrrp_uc) + 44];
	struct havip_frame f;

	memset(b, 0x5a, sizeof(b));
	memcpy(b, vrrp_uc, sizeof(vrrp_uc));
	b[17] = 0x24 + 44; /* IP total length */
	b[25] = 0x41 - 44; /* checksum: 0xdb41 - 44 */
	b[sizeof(vrrp_uc)] = 0xa1;
	T_EQ_INT(havip_frame_parse(b, sizeof(b), &f), HAVIP_FDROP_NONE);
	T_ASSERT(f.auth);
	T_EQ_INT(f.vrrp.priority, 150);
	T_EQ_INT(f.ip.len, 16);
	/* another trailer type is not ours: trailing bytes */
	b[sizeof(vrrp_uc)] = 0xa2;
	T_EQ_INT(havip_frame_parse(b, sizeof(b), &f), HAVIP_FDROP_VRRP);
	T_EQ_INT(f.vdrop, VRRP_DROP_ADDR_COUNT);
	T_EQ_INT(
	    havip_frame_parse(vrrp_uc, sizeof(vrrp_uc), &f), HAVIP_FDROP_NONE);
	T_ASSERT(!f.auth);
}

/* One frame per reason: a copy of base with one byte changed. */
static void
t_drop(const uint8_t *base, size_t len, size_t off, uint8_t v,
    enum havip_frame_drop want)
{
	uint8_t b[128];
	struct havip_frame f;
	enum havip_frame_drop d;

	memcpy(b, base, len);
	if (off < len)
		b[off] = v;
	d = havip_frame_parse(b, len, &f);
	if (d != want)
		test_fail(__FILE__, __LINE__, "byte %zu = %u: %s, want %s", off,
		    v, havip_frame_drop_name(d), havip_frame_drop_name(want));
}

static void
test_drops(void)
{
	struct havip_frame f;

	T_EQ_INT(havip_frame_parse(garp, 13, &f), HAVIP_FDROP_SHORT);
	T_EQ_INT(
	    havip_frame_parse(garp, sizeof(garp) - 1, &f), HAVIP_FDROP_SHORT);
	t_drop(garp, sizeof(garp), 13, 0xdd, HAVIP_FDROP_ETHERTYPE);
	t_drop(garp, sizeof(garp), 15, 6, HAVIP_FDROP_ARP_FORMAT);
	t_drop(garp, sizeof(garp), 18, 8, HAVIP_FDROP_ARP_FORMAT);
	t_drop(garp, sizeof(garp), 21, 3, HAVIP_FDROP_ARP_OP);
	/* sender hardware address not the frame's source */
	t_drop(garp, sizeof(garp), 27, 0x12, HAVIP_FDROP_ARP_SENDER);
	t_drop(vrrp_uc, sizeof(vrrp_uc), 14, 0x65, HAVIP_FDROP_IP_HEADER);
	t_drop(vrrp_uc, sizeof(vrrp_uc), 14, 0x44, HAVIP_FDROP_IP_HEADER);
	t_drop(vrrp_uc, sizeof(vrrp_uc), 17, 0x40, HAVIP_FDROP_IP_LENGTH);
	t_drop(vrrp_uc, sizeof(vrrp_uc), 17, 0x10, HAVIP_FDROP_IP_LENGTH);
	t_drop(vrrp_uc, sizeof(vrrp_uc), 25, 0x00, HAVIP_FDROP_IP_CHECKSUM);
	T_EQ_INT(havip_frame_parse(vrrp_uc, 20, &f), HAVIP_FDROP_SHORT);
	/* the VRRP checksum broken: the decoder's reason comes along */
	t_drop(vrrp_uc, sizeof(vrrp_uc), 41, 0x00, HAVIP_FDROP_VRRP);
	T_EQ_INT(f.vdrop, VRRP_DROP_NONE);
	{
		uint8_t b[sizeof(vrrp_uc)];

		memcpy(b, vrrp_uc, sizeof(b));
		b[41] = 0;
		T_EQ_INT(havip_frame_parse(b, sizeof(b), &f), HAVIP_FDROP_VRRP);
		T_EQ_INT(f.vdrop, VRRP_DROP_CHECKSUM);
	}
	T_EQ_STR(havip_frame_drop_name(HAVIP_FDROP__COUNT), "invalid");
}

/* Fragments and other protocols: header checksum fixed up by hand. */
static void
test_fragment_and_proto(void)
{
	uint8_t b[sizeof(vrrp_uc)];
	struct havip_frame f;

	memcpy(b, vrrp_uc, sizeof(b));
	b[20] = 0x20; /* MF, DF cleared: 0x4000 -> 0x2000 */
	b[24] = 0xfb; /* checksum + 0x2000 */
	T_EQ_INT(havip_frame_parse(b, sizeof(b), &f), HAVIP_FDROP_IP_FRAGMENT);
	memcpy(b, vrrp_uc, sizeof(b));
	b[23] = 6; /* TCP: 0x70 -> 0x06 */
	b[25] += 0x6a;
	T_EQ_INT(havip_frame_parse(b, sizeof(b), &f), HAVIP_FDROP_IP_PROTO);
}

static const struct test tests[] = {
	TEST(test_garp),
	TEST(test_arp_reply_padded),
	TEST(test_vrrp_unicast),
	TEST(test_vrrp_auth_trailer),
	TEST(test_drops),
	TEST(test_fragment_and_proto),
};

TEST_MAIN(tests)
