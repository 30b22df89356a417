/*
 * havip_frame.c - parser of the frames the HAVIP controller snoops
 * (havip_frame.h). Pure; every length is checked before the bytes it
 * covers are read, and nothing is read past len.
 */
#include <string.h>

#include "havip/havip_frame.h"
#include "vrrp/vrrp_auth.h"

static const char *const havip_frame_drop_names[HAVIP_FDROP__COUNT] = {
	[HAVIP_FDROP_NONE] = "none",
	[HAVIP_FDROP_SHORT] = "short",
	[HAVIP_FDROP_ETHERTYPE] = "ethertype",
	[HAVIP_FDROP_ARP_FORMAT] = "arp_format",
	[HAVIP_FDROP_ARP_OP] = "arp_op",
	[HAVIP_FDROP_ARP_SENDER] = "arp_sender",
	[HAVIP_FDROP_IP_HEADER] = "ip_header",
	[HAVIP_FDROP_IP_LENGTH] = "ip_length",
	[HAVIP_FDROP_IP_CHECKSUM] = "ip_checksum",
	[HAVIP_FDROP_IP_FRAGMENT] = "ip_fragment",
	[HAVIP_FDROP_IP_PROTO] = "ip_proto",
	[HAVIP_FDROP_VRRP] = "vrrp",
};

const char *
havip_frame_drop_name(enum havip_frame_drop d)
{
	if ((unsigned)d >= HAVIP_FDROP__COUNT)
		return "invalid";
	return havip_frame_drop_names[d];
}

static uint16_t
havip_frame_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static enum havip_frame_drop
havip_frame_arp(const uint8_t *p, size_t len, struct havip_frame *f)
{
	if (len < HAVIP_ARP_LEN)
		return HAVIP_FDROP_SHORT;
	/* RFC 826: hardware 1 (Ethernet), protocol IPv4, 6- and 4-byte. */
	if (havip_frame_be16(p) != 1 ||
	    havip_frame_be16(p + 2) != HAVIP_ETH_IPV4 || p[4] != 6 || p[5] != 4)
		return HAVIP_FDROP_ARP_FORMAT;
	f->op = havip_frame_be16(p + 6);
	if (f->op != HAVIP_ARP_REQ && f->op != HAVIP_ARP_REPLY)
		return HAVIP_FDROP_ARP_OP;
	memcpy(f->sha, p + 8, 6);
	memcpy(&f->spa, p + 14, 4);
	memcpy(&f->tpa, p + 24, 4);
	/*
	 * A node announces with its own MAC on both layers; a mismatch is
	 * a frame relayed or forged on behalf of another host, and a
	 * multicast sender cannot own an address.
	 */
	if (memcmp(f->sha, f->src_mac, 6) != 0 || (f->sha[0] & 1))
		return HAVIP_FDROP_ARP_SENDER;
	f->kind = HAVIP_FRAME_ARP;
	return HAVIP_FDROP_NONE;
}

/* RFC 1071 sum of an IPv4 header: 0 when it verifies. */
static uint16_t
havip_frame_ip_sum(const uint8_t *p, size_t hl)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < hl; i += 2)
		s += havip_frame_be16(p + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * An advert of haven's unicast authentication (vrrp_auth.h) carries a
 * trailer after the message, inside the IP payload. The controller has no
 * key, so it cannot verify the MAC: it reads the message before the
 * trailer as an advert (the link and the source address still name the
 * node) and says so in f->auth. Shortens f->ip.len to the message and
 * returns true when the payload is exactly message + one v1 trailer.
 */
static bool
havip_frame_trailer(struct havip_frame *f, const uint8_t *v)
{
	size_t msg;

	if (f->ip.len < VRRP_HDR_LEN || (v[0] >> 4 != 2 && v[0] >> 4 != 3))
		return false;
	msg = vrrp_pkt_len(v[0] >> 4, AF_INET, v[3]);
	if (f->ip.len != msg + VRRP_AUTH_TRAILER || v[msg] != VRRP_AUTH_TYPE_V1)
		return false;
	f->ip.len = msg;
	f->auth = true;
	return true;
}

static enum havip_frame_drop
havip_frame_ipv4(const uint8_t *p, size_t len, struct havip_frame *f)
{
	size_t hl, tl;

	if (len < 20)
		return HAVIP_FDROP_SHORT;
	hl = (size_t)(p[0] & 0x0f) * 4;
	if (p[0] >> 4 != 4 || hl < 20)
		return HAVIP_FDROP_IP_HEADER;
	tl = havip_frame_be16(p + 2);
	if (hl > len || tl > len || tl < hl)
		return HAVIP_FDROP_IP_LENGTH;
	if (havip_frame_ip_sum(p, hl) != 0)
		return HAVIP_FDROP_IP_CHECKSUM;
	/* MF set or a fragment offset: a piece of a datagram. */
	if (havip_frame_be16(p + 6) & 0x3fff)
		return HAVIP_FDROP_IP_FRAGMENT;
	if (p[9] != VRRP_IPPROTO)
		return HAVIP_FDROP_IP_PROTO;
	memset(&f->ip, 0, sizeof(f->ip));
	f->ip.family = AF_INET;
	memcpy(f->ip.src.b, p + 12, 4);
	memcpy(f->ip.dst.b, p + 16, 4);
	f->ip.ttl = p[8];
	f->ip.len = tl - hl;
	f->ip.ttl_any = true;
	f->vdrop = vrrp_pkt_decode(
	    &f->ip, VRRP_PKT_V2 | VRRP_PKT_V3, p + hl, tl - hl, &f->vrrp);
	if (f->vdrop == VRRP_DROP_ADDR_COUNT && havip_frame_trailer(f, p + hl))
		f->vdrop = vrrp_pkt_decode(&f->ip, VRRP_PKT_V2 | VRRP_PKT_V3,
		    p + hl, f->ip.len, &f->vrrp);
	if (f->vdrop != VRRP_DROP_NONE)
		return HAVIP_FDROP_VRRP;
	f->kind = HAVIP_FRAME_VRRP;
	return HAVIP_FDROP_NONE;
}

enum havip_frame_drop
havip_frame_parse(const uint8_t *buf, size_t len, struct havip_frame *f)
{
	uint16_t type;

	memset(f, 0, sizeof(*f));
	if (len < HAVIP_ETH_HLEN)
		return HAVIP_FDROP_SHORT;
	memcpy(f->src_mac, buf + 6, 6);
	type = havip_frame_be16(buf + 12);
	if (type == HAVIP_ETH_ARP)
		return havip_frame_arp(
		    buf + HAVIP_ETH_HLEN, len - HAVIP_ETH_HLEN, f);
	if (type == HAVIP_ETH_IPV4)
		return havip_frame_ipv4(
		    buf + HAVIP_ETH_HLEN, len - HAVIP_ETH_HLEN, f);
	return HAVIP_FDROP_ETHERTYPE;
}
