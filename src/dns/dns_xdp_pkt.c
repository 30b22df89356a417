/*
 * dns_xdp_pkt.c - see dns_xdp_pkt.h. Fields are read and written bytewise
 * (a frame's IP header is 2-byte aligned at best): no struct overlays.
 */
#include <arpa/inet.h>

#include <stdbool.h>
#include <string.h>

#include "dns/dns_xdp_pkt.h"

#define DNS_XDP_ETH  14
#define DNS_XDP_IP   20
#define DNS_XDP_UDP  8
#define DNS_XDP_TTL  64     /* RFC 1700's recommended default */
#define DNS_XDP_DF   0x4000 /* RFC 791 §3.1 */
#define DNS_XDP_MFOF 0x3fff /* MF and the fragment offset */

static const char *const dns_xdp_pkt_err_names[DNS_XDP_PKT__COUNT] = {
	[DNS_XDP_PKT_OK] = "ok",
	[DNS_XDP_PKT_SHORT] = "short",
	[DNS_XDP_PKT_NOT_IPV4] = "not_ipv4",
	[DNS_XDP_PKT_IP_OPTIONS] = "ip_options",
	[DNS_XDP_PKT_FRAGMENT] = "fragment",
	[DNS_XDP_PKT_NOT_UDP] = "not_udp",
	[DNS_XDP_PKT_BAD_CSUM] = "bad_checksum",
	[DNS_XDP_PKT_BAD_LENGTH] = "bad_length",
	[DNS_XDP_PKT_BAD_ADDRESS] = "bad_address",
};

const char *
dns_xdp_pkt_err_name(enum dns_xdp_pkt_err e)
{
	return (unsigned)e < DNS_XDP_PKT__COUNT ? dns_xdp_pkt_err_names[e] :
	                                          "unknown";
}

static uint16_t
dns_xdp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
dns_xdp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t
dns_xdp_pkt_csum(const uint8_t *p, size_t len, uint32_t sum)
{
	uint64_t s = sum;

	for (; len >= 2; p += 2, len -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (len > 0)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Not 0/8, 127/8 (martian on a wire), multicast or above (RFC 1122
 * §3.2.1.3, RFC 5771). */
static bool
dns_xdp_pkt_unicast(uint32_t a)
{
	uint32_t h = ntohl(a);

	return (h >> 24) != 0 && (h >> 24) != 127 && h < 0xe0000000u;
}

enum dns_xdp_pkt_err
dns_xdp_pkt_parse(const uint8_t *f, size_t len, struct dns_xdp_pkt *p)
{
	const uint8_t *ip = f + DNS_XDP_ETH, *udp = ip + DNS_XDP_IP;
	size_t tot, ulen;

	if (len < DNS_XDP_PKT_HDRS)
		return DNS_XDP_PKT_SHORT;
	if (dns_xdp_get16(f + 12) != 0x0800 || (ip[0] >> 4) != 4)
		return DNS_XDP_PKT_NOT_IPV4;
	if ((ip[0] & 0x0f) != 5)
		return DNS_XDP_PKT_IP_OPTIONS;
	if (dns_xdp_get16(ip + 6) & DNS_XDP_MFOF)
		return DNS_XDP_PKT_FRAGMENT;
	if (ip[9] != 17)
		return DNS_XDP_PKT_NOT_UDP;
	if (dns_xdp_pkt_csum(ip, DNS_XDP_IP, 0) != 0)
		return DNS_XDP_PKT_BAD_CSUM;
	tot = dns_xdp_get16(ip + 2);
	ulen = dns_xdp_get16(udp + 4);
	if (tot < DNS_XDP_IP + DNS_XDP_UDP || tot > len - DNS_XDP_ETH ||
	    ulen < DNS_XDP_UDP || ulen > tot - DNS_XDP_IP)
		return DNS_XDP_PKT_BAD_LENGTH;
	memcpy(&p->saddr, ip + 12, 4);
	memcpy(&p->daddr, ip + 16, 4);
	memcpy(&p->sport, udp, 2);
	memcpy(&p->dport, udp + 2, 2);
	/* The reply goes from daddr:dport to saddr:sport: all four must be
	 * what a unicast datagram may carry (under a wildcard listen address
	 * the filter passes a broadcast destination too). */
	if (!dns_xdp_pkt_unicast(p->saddr) || !dns_xdp_pkt_unicast(p->daddr) ||
	    p->sport == 0 || p->dport == 0)
		return DNS_XDP_PKT_BAD_ADDRESS;
	memcpy(p->eth_dst, f, 6);
	memcpy(p->eth_src, f + 6, 6);
	p->payload = udp + DNS_XDP_UDP;
	p->len = ulen - DNS_XDP_UDP;
	return DNS_XDP_PKT_OK;
}

size_t
dns_xdp_pkt_reply(uint8_t *f, size_t room, const struct dns_xdp_pkt *q,
    const uint8_t *payload, size_t len)
{
	uint8_t *ip = f + DNS_XDP_ETH, *udp = ip + DNS_XDP_IP;
	uint8_t pseudo[12];
	uint32_t sum;
	uint16_t c;
	struct dns_xdp_pkt r = *q; /* q may point into f */

	if (room < DNS_XDP_PKT_HDRS || len > room - DNS_XDP_PKT_HDRS ||
	    len > 0xffff - DNS_XDP_IP - DNS_XDP_UDP)
		return 0;
	memmove(udp + DNS_XDP_UDP, payload, len);
	memcpy(f, r.eth_src, 6);
	memcpy(f + 6, r.eth_dst, 6);
	dns_xdp_put16(f + 12, 0x0800);
	ip[0] = 0x45;
	ip[1] = 0;
	dns_xdp_put16(ip + 2, (uint16_t)(DNS_XDP_IP + DNS_XDP_UDP + len));
	dns_xdp_put16(ip + 4, 0); /* id: DF set, never fragmented */
	dns_xdp_put16(ip + 6, DNS_XDP_DF);
	ip[8] = DNS_XDP_TTL;
	ip[9] = 17;
	dns_xdp_put16(ip + 10, 0);
	memcpy(ip + 12, &r.daddr, 4);
	memcpy(ip + 16, &r.saddr, 4);
	dns_xdp_put16(ip + 10, dns_xdp_pkt_csum(ip, DNS_XDP_IP, 0));
	memcpy(udp, &r.dport, 2);
	memcpy(udp + 2, &r.sport, 2);
	dns_xdp_put16(udp + 4, (uint16_t)(DNS_XDP_UDP + len));
	dns_xdp_put16(udp + 6, 0);
	/* RFC 768: pseudo header, then the datagram; a sum of 0 is sent
	 * as all ones. */
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	dns_xdp_put16(pseudo + 10, (uint16_t)(DNS_XDP_UDP + len));
	sum = (uint16_t)~dns_xdp_pkt_csum(pseudo, sizeof(pseudo), 0);
	c = dns_xdp_pkt_csum(udp, DNS_XDP_UDP + len, sum);
	dns_xdp_put16(udp + 6, c == 0 ? 0xffff : c);
	return DNS_XDP_PKT_HDRS + len;
}
