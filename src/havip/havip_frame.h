/*
 * havip_frame.h - the frames the HAVIP controller snoops on a node's link,
 * parsed: an ARP request or reply (RFC 826; an announcement when its
 * sender address is a HAVIP, RFC 5227 §2.3), or an IPv4 datagram carrying
 * a VRRP advertisement (protocol 112, decoded by vrrp_pkt.h).
 *
 * Pure: no sockets, clock, globals or allocation. The input is what an
 * AF_PACKET SOCK_RAW socket returns: the Ethernet header (the kernel has
 * taken any VLAN tag out into auxiliary data) and what follows, link-layer
 * padding included. One reason per malformed frame, so each has a counter;
 * a VRRP payload the decoder refuses carries the decoder's own reason too.
 * An advert followed by haven's HMAC trailer (vrrp_auth.h) is read without
 * the trailer; the MAC is not checked (the gateway holds no key).
 */
#ifndef HAVEN_HAVIP_FRAME_H
#define HAVEN_HAVIP_FRAME_H

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vrrp/vrrp_pkt.h"

#define HAVIP_ETH_HLEN  14     /* IEEE 802.3 */
#define HAVIP_ETH_ARP   0x0806 /* RFC 826 */
#define HAVIP_ETH_IPV4  0x0800
#define HAVIP_ARP_LEN   28 /* RFC 826, Ethernet and IPv4 */
#define HAVIP_ARP_REQ   1  /* RFC 826 */
#define HAVIP_ARP_REPLY 2
#define HAVIP_FRAME_MAX 1600 /* more than any frame we parse */

enum havip_frame_kind {
	HAVIP_FRAME_ARP,
	HAVIP_FRAME_VRRP,
};

/* Why a frame is not used. */
enum havip_frame_drop {
	HAVIP_FDROP_NONE = 0,
	HAVIP_FDROP_SHORT,       /* shorter than Ethernet + what it says */
	HAVIP_FDROP_ETHERTYPE,   /* neither ARP nor IPv4 */
	HAVIP_FDROP_ARP_FORMAT,  /* not Ethernet/IPv4 ARP (htype, ptype,
	                            hlen, plen) */
	HAVIP_FDROP_ARP_OP,      /* neither request nor reply */
	HAVIP_FDROP_ARP_SENDER,  /* sender hardware address is not the
	                            frame's source (or is multicast): a
	                            forged or relayed announcement */
	HAVIP_FDROP_IP_HEADER,   /* version not 4, header length < 20 */
	HAVIP_FDROP_IP_LENGTH,   /* total length past the frame or below
	                            the header */
	HAVIP_FDROP_IP_CHECKSUM, /* header checksum (RFC 791) */
	HAVIP_FDROP_IP_FRAGMENT, /* a fragment: adverts are never split */
	HAVIP_FDROP_IP_PROTO,    /* not 112 */
	HAVIP_FDROP_VRRP,        /* the decoder refused it: see vdrop */
	HAVIP_FDROP__COUNT
};

struct havip_frame {
	enum havip_frame_kind kind;
	uint8_t src_mac[6]; /* the Ethernet source */
	/* ARP */
	uint16_t op;        /* HAVIP_ARP_REQ or HAVIP_ARP_REPLY */
	uint8_t sha[6];     /* sender hardware address */
	struct in_addr spa; /* sender protocol address */
	struct in_addr tpa; /* target protocol address */
	/* VRRP: the IP header's facts and the decoded advert */
	struct vrrp_ip ip;
	struct vrrp_pkt vrrp; /* addrs borrowed from the input buffer */
	enum vrrp_drop vdrop; /* HAVIP_FDROP_VRRP: the decoder's reason */
	bool auth; /* carried an HMAC trailer (vrrp_auth.h), not verified:
	              the controller holds no key */
};

/*
 * Parse len bytes at buf into *f. Returns HAVIP_FDROP_NONE, or the first
 * rule the frame breaks in the order of the enum; *f is then unspecified
 * but for vdrop. The VRRP decoder runs with versions 2 and 3 and without
 * the TTL rule: unicast adverts between nodes are routed.
 */
enum havip_frame_drop havip_frame_parse(
    const uint8_t *buf, size_t len, struct havip_frame *f);

/* Metric-label-safe name of a reason; "invalid" out of range. */
const char *havip_frame_drop_name(enum havip_frame_drop d);

#endif
