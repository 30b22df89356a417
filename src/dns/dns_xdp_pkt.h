/*
 * dns_xdp_pkt.h - the frames of the XDP fast path (dns_xdp.c): an Ethernet
 * frame carrying an IPv4 UDP query is parsed into who asked and the DNS
 * payload, and the reply frame is built around an answer. Pure: no I/O,
 * clock or globals.
 *
 * What parses is what the kernel's UDP input would deliver: IPv4 without
 * options, not a fragment, a valid header checksum, lengths that agree
 * (Ethernet padding after the IP packet is allowed), unicast addresses and
 * ports other than 0: everything the reply needs to parse in turn. The UDP
 * checksum is not verified: over veth a locally sent frame carries only
 * the pseudo-header sum (CHECKSUM_PARTIAL) and a NIC has verified it in
 * hardware; a corrupted payload gets an answer or FORMERR like any other.
 * The reply's checksums are complete.
 */
#ifndef HAVEN_DNS_XDP_PKT_H
#define HAVEN_DNS_XDP_PKT_H

#include <stddef.h>
#include <stdint.h>

#define DNS_XDP_PKT_HDRS 42 /* Ethernet 14 + IPv4 20 + UDP 8 */

/* Why a frame was dropped; one counter each. */
enum dns_xdp_pkt_err {
	DNS_XDP_PKT_OK,
	DNS_XDP_PKT_SHORT,      /* under the headers */
	DNS_XDP_PKT_NOT_IPV4,   /* ethertype, version */
	DNS_XDP_PKT_IP_OPTIONS, /* IHL over 5 */
	DNS_XDP_PKT_FRAGMENT,   /* MF or an offset */
	DNS_XDP_PKT_NOT_UDP,
	DNS_XDP_PKT_BAD_CSUM,    /* IPv4 header checksum */
	DNS_XDP_PKT_BAD_LENGTH,  /* IP or UDP length */
	DNS_XDP_PKT_BAD_ADDRESS, /* an address not unicast, a port 0 */
	DNS_XDP_PKT__COUNT
};

struct dns_xdp_pkt {
	uint8_t eth_src[6], eth_dst[6];
	uint32_t saddr, daddr;  /* network byte order */
	uint16_t sport, dport;  /* network byte order */
	const uint8_t *payload; /* borrowed: inside the frame parsed */
	size_t len;
};

const char *dns_xdp_pkt_err_name(enum dns_xdp_pkt_err e);

/* Parse the len-byte frame into *p. */
enum dns_xdp_pkt_err dns_xdp_pkt_parse(
    const uint8_t *frame, size_t len, struct dns_xdp_pkt *p);

/*
 * Write into frame (room bytes) the reply to q carrying the len-byte
 * payload (which may lie anywhere, inside frame too): addresses, ports and
 * MACs swapped, TTL 64, DF set, both checksums. Returns the frame's length,
 * or 0 when it does not fit in room.
 */
size_t dns_xdp_pkt_reply(uint8_t *frame, size_t room,
    const struct dns_xdp_pkt *q, const uint8_t *payload, size_t len);

/* The IPv4 (RFC 791) and UDP (RFC 768) one's-complement checksums. */
uint16_t dns_xdp_pkt_csum(const uint8_t *p, size_t len, uint32_t sum);

#endif
