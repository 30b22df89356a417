/* Unit tests for dns_xdp_pkt.c: frames in, replies out. */
#include <arpa/inet.h>

#include <string.h>

#include "dns/dns_xdp_pkt.h"
#include "runner.h"

static const uint8_t test_payload[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0,
	0, 0, 0, 3, 'w', 'w', 'w', 0, 0, 1, 0, 1 };

/* A query frame from 198.18.0.2:40000 to 198.18.0.1:53; its length. */
static size_t
test_frame(uint8_t *f, size_t pad)
{
	size_t plen = sizeof(test_payload), ulen = 8 + plen, tot = 20 + ulen;
	uint8_t *ip = f + 14, *udp = ip + 20;

	memset(f, 0, 14 + tot + pad);
	memcpy(f, "\x02\x00\x00\x00\x00\x01", 6);     /* dst: the server */
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x02", 6); /* src: the client */
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\xc6\x12\x00\x02", 4);
	memcpy(ip + 16, "\xc6\x12\x00\x01", 4);
	uint16_t c = dns_xdp_pkt_csum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	udp[0] = 0x9c;
	udp[1] = 0x40; /* 40000 */
	udp[3] = 53;
	udp[4] = (uint8_t)(ulen >> 8);
	udp[5] = (uint8_t)ulen;
	memcpy(udp + 8, test_payload, plen);
	return 14 + tot + pad;
}

static void
test_parse_ok(void)
{
	uint8_t f[256];
	struct dns_xdp_pkt p;
	size_t n = test_frame(f, 0);

	T_EQ_INT(dns_xdp_pkt_parse(f, n, &p), DNS_XDP_PKT_OK);
	T_EQ_INT(p.saddr, htonl(0xc6120002));
	T_EQ_INT(p.daddr, htonl(0xc6120001));
	T_EQ_INT(ntohs(p.sport), 40000);
	T_EQ_INT(ntohs(p.dport), 53);
	T_EQ_INT(p.len, sizeof(test_payload));
	T_ASSERT(memcmp(p.payload, test_payload, p.len) == 0);
	/* Ethernet padding after the IP packet (a 60-byte minimum frame) */
	n = test_frame(f, 20);
	T_EQ_INT(dns_xdp_pkt_parse(f, n, &p), DNS_XDP_PKT_OK);
	T_EQ_INT(p.len, sizeof(test_payload));
}

static void
test_parse_errors(void)
{
	uint8_t f[256];
	struct dns_xdp_pkt p;
	size_t n = test_frame(f, 0);

	T_EQ_INT(dns_xdp_pkt_parse(f, 41, &p), DNS_XDP_PKT_SHORT);
	/* the IP packet claims more than the frame holds */
	T_EQ_INT(dns_xdp_pkt_parse(f, n - 1, &p), DNS_XDP_PKT_BAD_LENGTH);
	f[12] = 0x86; /* IPv6 ethertype */
	T_EQ_INT(dns_xdp_pkt_parse(f, n, &p), DNS_XDP_PKT_NOT_IPV4);
	n = test_frame(f, 0);
	f[14] = 0x46;
	T_EQ_INT(dns_xdp_pkt_parse(f, n, &p), DNS_XDP_PKT_IP_OPTIONS);
	n = test_frame(f, 0);
	f[14 + 6] |= 0x20; /* MF: a checksum error would come later */
	T_EQ_INT(dns_xdp_pkt_parse(f, n, &p), DNS_XDP_PKT_FRAGMENT);
	n = test_frame(f, 0);
	f[14 + 9] = 6;
	T_EQ_INT(dns_xdp_pkt_parse(f, n, &p), DNS_XDP_PKT_NOT_UDP);
	n = test_frame(f, 0);
	f[14 + 8] = 63; /* TTL changed, checksum not */
	T_EQ_INT(dns_xdp_pkt_parse(f, n, &p), DNS_XDP_PKT_BAD_CSUM);
	n = test_frame(f, 0);
	f[14 + 20 + 5] = 7; /* UDP length under its header */
	T_EQ_INT(dns_xdp_pkt_parse(f, n, &p), DNS_XDP_PKT_BAD_LENGTH);
	n = test_frame(f, 0);
	f[14 + 20 + 0] = f[14 + 20 + 1] = 0; /* source port 0 */
	T_EQ_INT(dns_xdp_pkt_parse(f, n, &p), DNS_XDP_PKT_BAD_ADDRESS);
	n = test_frame(f, 0);
	f[14 + 20 + 2] = f[14 + 20 + 3] = 0; /* destination port 0 */
	T_EQ_INT(dns_xdp_pkt_parse(f, n, &p), DNS_XDP_PKT_BAD_ADDRESS);
	n = test_frame(f, 0);
	/* to the broadcast address: no reply may come from it */
	memcpy(f + 14 + 16, "\xff\xff\xff\xff", 4);
	f[14 + 10] = f[14 + 11] = 0;
	uint16_t c = dns_xdp_pkt_csum(f + 14, 20, 0);
	f[14 + 10] = (uint8_t)(c >> 8);
	f[14 + 11] = (uint8_t)c;
	T_EQ_INT(dns_xdp_pkt_parse(f, n, &p), DNS_XDP_PKT_BAD_ADDRESS);
}

static void
test_reply(void)
{
	static const uint8_t ans[] = { 0x12, 0x34, 0x84, 0x00, 0, 0, 0, 0, 0, 0,
		0, 0, 0xab };
	uint8_t f[256], pseudo[12];
	struct dns_xdp_pkt q, r;
	size_t n = test_frame(f, 0), len;

	T_EQ_INT(dns_xdp_pkt_parse(f, n, &q), DNS_XDP_PKT_OK);
	len = dns_xdp_pkt_reply(f, sizeof(f), &q, ans, sizeof(ans));
	T_EQ_INT(len, DNS_XDP_PKT_HDRS + sizeof(ans));
	T_EQ_INT(dns_xdp_pkt_parse(f, len, &r), DNS_XDP_PKT_OK);
	T_EQ_INT(r.saddr, q.daddr);
	T_EQ_INT(r.daddr, q.saddr);
	T_EQ_INT(r.sport, q.dport);
	T_EQ_INT(r.dport, q.sport);
	T_ASSERT(memcmp(r.eth_dst, q.eth_src, 6) == 0);
	T_ASSERT(memcmp(r.eth_src, q.eth_dst, 6) == 0);
	T_ASSERT(r.len == sizeof(ans) && memcmp(r.payload, ans, r.len) == 0);
	/* the UDP checksum verifies: the sum over pseudo header and
	 * datagram is all ones */
	memcpy(pseudo, f + 14 + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	pseudo[10] = 0;
	pseudo[11] = (uint8_t)(8 + sizeof(ans));
	T_EQ_INT(dns_xdp_pkt_csum(f + 34, 8 + sizeof(ans),
	             (uint16_t)~dns_xdp_pkt_csum(pseudo, 12, 0)),
	    0);
	T_ASSERT(f[14 + 6] == 0x40); /* DF */
	/* no room: nothing written */
	T_EQ_INT(dns_xdp_pkt_reply(f, DNS_XDP_PKT_HDRS + sizeof(ans) - 1, &q,
	             ans, sizeof(ans)),
	    0);
}

static void
test_reply_in_place(void)
{
	uint8_t f[256];
	struct dns_xdp_pkt q, r;
	size_t n = test_frame(f, 0), len;

	T_EQ_INT(dns_xdp_pkt_parse(f, n, &q), DNS_XDP_PKT_OK);
	/* the payload where it already is, as an echo */
	len = dns_xdp_pkt_reply(f, sizeof(f), &q, q.payload, q.len);
	T_EQ_INT(dns_xdp_pkt_parse(f, len, &r), DNS_XDP_PKT_OK);
	T_ASSERT(memcmp(r.payload, test_payload, sizeof(test_payload)) == 0);
}

static const struct test tests[] = {
	TEST(test_parse_ok),
	TEST(test_parse_errors),
	TEST(test_reply),
	TEST(test_reply_in_place),
};

TEST_MAIN(tests)
