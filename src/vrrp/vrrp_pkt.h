/*
 * vrrp_pkt.h - the VRRP advertisement codec: version 3 (RFC 9568) over IPv4
 * and IPv6, version 2 (RFC 3768) over IPv4. Pure: no sockets, clock, globals
 * or allocation; the caller brings the bytes and the IP header facts it got
 * from recvmsg, and gets back a decoded advertisement or the reason the RFC
 * makes it discard the packet, one enum value per reason so each has its own
 * counter. Decoding then encoding an accepted packet gives back the same
 * bytes (the fuzz target checks this), so the decoder keeps the fields the
 * protocol ignores (v3 Reserve, v2 auth data) rather than dropping them.
 *
 * Version 3 (RFC 9568 §5.1), after the IPv4 or IPv6 header, protocol 112:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |Version| Type  | Virtual Rtr ID|   Priority    |IPvX Addr Count|
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |Reserve| Max Advertise Interval|          Checksum             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |      Count x IPv4 (4 bytes) or IPv6 (16 bytes) addresses      |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Version 2 (RFC 3768 §5.1), IPv4 only: byte 4 is Auth Type, byte 5 the
 * Advertisement Interval in whole seconds, and 8 bytes of authentication
 * data follow the addresses. Max Advertise Interval is in centiseconds,
 * 1..4095; struct vrrp_pkt holds both versions' interval in centiseconds,
 * the unit RFC 9568 §8.4.2 converts v2 seconds to.
 *
 * The checksum (RFC 1071 one's complement, field zeroed) is where
 * implementations disagree:
 * - v2: the message only (RFC 3768 §5.3.8).
 * - v3 over IPv6: the message plus the RFC 8200 §8.1 pseudo-header, next
 *   header 112. Always.
 * - v3 over IPv4: RFC 5798 §5.2.8 named only the IPv6 pseudo-header, and
 *   keepalived, FRR and Wireshark read that as "add the IPv4 pseudo-header"
 *   (source, destination, zero, 112, 16-bit length); Cisco and others sum
 *   the message only, and RFC 9568 §5.2.8 has since settled on the message
 *   only. Captures of keepalived 2.2.7 (Debian 12; tests/unit/
 *   test_vrrp_pkt.c) show it sends the pseudo-header form, to the group and
 *   to unicast peers alike (with the peer's address as destination); fed
 *   our message-only adverts it logs "Invalid VRRPv3 checksum" and takes
 *   over, and its v3_checksum_as_v2 switch only appeared in 2.2.8. So
 *   decode accepts either form and says which one verified; encode writes
 *   the form asked for, the pseudo-header one by default so that keepalived
 *   peers accept us.
 * The checksum field must equal what RFC 1071 computes: the other one's
 * complement zero (0xffff for a computed 0x0000) is refused, which no
 * sender produces and which keeps decode-then-encode the identity.
 *
 * v2 authentication: type 0 is accepted and its data ignored (RFC 3768
 * §5.3.6.1, §5.3.10). Type 1, the RFC 2338 plain-text password keepalived
 * still sends with `authentication { auth_type PASS }`, and type 2 (AH) are
 * discarded as VRRP_DROP_AUTH: a cleartext password authenticates nothing,
 * RFC 3768 removed both, and a v2 receiver MUST discard on an auth type
 * mismatch, so a haven peer never configured for them has nothing to match.
 */
#ifndef HAVEN_VRRP_PKT_H
#define HAVEN_VRRP_PKT_H

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VRRP_IPPROTO      112  /* RFC 9568 §5.1.1.4 */
#define VRRP_TTL          255  /* RFC 9568 §5.1.1.3, §5.1.2.3 */
#define VRRP_TYPE_ADVERT  1    /* RFC 9568 §5.2.2 */
#define VRRP_HDR_LEN      8    /* RFC 9568 §5.1 */
#define VRRP_V2_AUTH_LEN  8    /* RFC 3768 §5.3.10 */
#define VRRP_ADDRS_MAX    255  /* 8-bit count */
#define VRRP_V3_INTVL_MAX 4095 /* cs, RFC 9568 §5.2.7, erratum 8301 */
#define VRRP_V2_INTVL_MAX 255  /* s, 8-bit field, RFC 3768 §5.3.7 */
#define VRRP_PRIO_RELEASE 0    /* RFC 9568 §5.2.4: the Active is leaving */
#define VRRP_PRIO_OWNER   255  /* RFC 9568 §5.2.4 */
/* The largest advertisement: v3 over IPv6 with 255 addresses. */
#define VRRP_PKT_MAX      (VRRP_HDR_LEN + VRRP_ADDRS_MAX * 16)

/* Bits of the `versions` argument of vrrp_pkt_decode(). */
#define VRRP_PKT_V2      (1u << 2)
#define VRRP_PKT_V3      (1u << 3)
/*
 * Not a version: bytes after the message are let through as a trailer
 * (out->len < ip->len) for the caller to judge (vrrp_auth.h), instead of
 * VRRP_DROP_ADDR_COUNT. The receive path always sets it and then drops a
 * trailer an instance without auth gets (auth_unexpected, or addr_count
 * for bytes that are no trailer of ours), so without auth the rule is
 * what it was.
 */
#define VRRP_PKT_TRAILER (1u << 8)

/*
 * Why a packet is discarded. The decoder returns the values up to
 * VRRP_DROP_IPV6_LL; the ones after need the instance's configuration and
 * are the caller's to judge, listed here so there is one set of counters.
 * Every value but VRRP_DROP_NONE is a MUST-discard of RFC 9568 §7.1 (with
 * its errata) or RFC 3768 §7.1 unless its comment says otherwise.
 */
enum vrrp_drop {
	VRRP_DROP_NONE = 0,   /* accepted */
	VRRP_DROP_FAMILY,     /* caller passed neither AF_INET nor AF_INET6 */
	VRRP_DROP_TTL,        /* TTL / hop limit is not 255 */
	VRRP_DROP_LENGTH,     /* shorter than the IP layer says, or than
	                         the 8-byte header */
	VRRP_DROP_VERSION,    /* not 2 or 3, or not one the caller runs */
	VRRP_DROP_V2_IPV6,    /* version 2 over IPv6: v2 is IPv4 only */
	VRRP_DROP_ADDR_COUNT, /* length is not what the count implies: short
	                         (RFC) or with trailing bytes (ours: no
	                         advertisement we speak has any) */
	VRRP_DROP_CHECKSUM,   /* verifies in no form allowed */
	VRRP_DROP_TYPE,       /* not ADVERTISEMENT (RFC 9568 §5.2.2) */
	VRRP_DROP_NO_ADDR,    /* count 0 (§5.2.5, erratum 8299) */
	VRRP_DROP_AUTH,       /* v2 auth type not 0 (RFC 3768 §7.1) */
	VRRP_DROP_INTERVAL,   /* interval 0 (erratum 8301); for v2 ours:
	                         it can equal no local interval */
	VRRP_DROP_IPV6_LL,    /* first IPv6 address not link-local
	                         (§5.2.9, erratum 8300) */
	/* Judged by the caller against its configuration: */
	VRRP_DROP_VRID_UNKNOWN,      /* no instance with this VRID here; the
	                                decoder also gives it for VRID 0 */
	VRRP_DROP_ADDR_MISMATCH,     /* address list differs: MAY in v3, MUST
	                                for v2 from a non-owner (RFC 3768 §7.1) */
	VRRP_DROP_INTERVAL_MISMATCH, /* v2 interval differs from ours
	                                (RFC 3768 §7.1); v3 only logs */
	VRRP_DROP_PEER_UNKNOWN,      /* unicast: source is no configured peer
	                                (an extension, as keepalived's
	                                check_unicast_src) */
	/* Our HMAC-SHA256 trailer (vrrp_auth.h), all extensions: */
	VRRP_DROP_AUTH_MISSING,    /* auth configured, no trailer */
	VRRP_DROP_AUTH_TRAILER,    /* bytes after the message that are not
	                              exactly one trailer of a known type */
	VRRP_DROP_AUTH_KEY_ID,     /* trailer names another key id */
	VRRP_DROP_AUTH_BAD_MAC,    /* MAC does not verify with our key */
	VRRP_DROP_AUTH_REPLAY,     /* sequence not above the last accepted */
	VRRP_DROP_AUTH_UNEXPECTED, /* a trailer to an instance without auth */
	VRRP_DROP__COUNT
};

/* Which bytes the checksum sums; see the top of this file. */
enum vrrp_csum {
	VRRP_CSUM_AUTO = 0, /* encode only: the one form allowed, or for v3
	                       over IPv4 the pseudo-header one (keepalived's) */
	VRRP_CSUM_PSEUDO,   /* message plus the IPv4 / IPv6 pseudo-header */
	VRRP_CSUM_MSG,      /* message only */
};

union vrrp_ipaddr {
	struct in_addr v4;
	struct in6_addr v6;
	uint8_t b[16];
};

/*
 * What the IP layer told the caller about the datagram: recvmsg's source,
 * IP_PKTINFO / IPV6_PKTINFO destination, IP_TTL / IPV6_HOPLIMIT, and the
 * payload length the IP header gives. To encode, only family, src and dst
 * are read (the pseudo-header); they must be what the kernel will put in
 * the header, so a unicast advert is encoded once per peer.
 */
struct vrrp_ip {
	int family;            /* AF_INET or AF_INET6 */
	union vrrp_ipaddr src; /* network order */
	union vrrp_ipaddr dst; /* the group, or our address for unicast */
	unsigned ttl;          /* TTL or hop limit as received */
	size_t len;            /* VRRP bytes per the IP header; fewer in
	                          the buffer means recvmsg truncated them */
	bool ttl_any;          /* unicast peers: no TTL rule here (the packet
	                          may be routed); the caller applies its own
	                          bounds, as keepalived's min_ttl/max_ttl */
};

/* One advertisement, decoded or to encode. */
struct vrrp_pkt {
	uint8_t version;      /* 2 or 3 */
	uint8_t vrid;         /* 1..255 */
	uint8_t priority;     /* VRRP_PRIO_RELEASE, 1..254, VRRP_PRIO_OWNER */
	uint8_t naddrs;       /* 1..255 */
	uint16_t interval_cs; /* v3: Max Advertise Interval, 1..4095;
	                         v2: Advertisement Interval x 100, 100..25500 */
	uint8_t reserved;     /* v3 Reserve nibble as received, ignored
	                         (§5.2.6); 0 to send; 0 for v2 */
	enum vrrp_csum csum;  /* decode: the form that verified (never
	                         AUTO); encode: the form to write */
	uint16_t checksum;    /* decode: as on the wire; encode: ignored */
	const uint8_t *addrs; /* borrowed: naddrs addresses of 4 (IPv4) or
	                         16 (IPv6) bytes in network order; decode
	                         points into its input buffer */
	uint8_t auth[VRRP_V2_AUTH_LEN]; /* v2 auth data as received, ignored
	                                   (RFC 3768 §5.3.10); 0 to send; 0
	                                   for v3 */
	size_t len; /* decode: bytes of the message; below ip->len only
	               with VRRP_PKT_TRAILER. encode: ignored */
};

/*
 * Decode the VRRP message of len bytes at buf (what followed the IP
 * header). versions is a mask of VRRP_PKT_V2 / VRRP_PKT_V3: the versions
 * this router runs; v2 and v3 both only in RFC 9568 §8.4 interop mode.
 * Returns VRRP_DROP_NONE and fills *out (out->addrs pointing into buf), or
 * the first rule the packet breaks, in the order: family, length against
 * the IP layer, TTL, header length, version, v2 over IPv6, address count
 * against length, checksum, type, VRID 0, count 0, auth type, interval,
 * first IPv6 address. *out is unspecified after a drop. Bytes past ip->len are
 * not part of the message (link-layer padding) and are ignored. The
 * message must fill ip->len exactly (VRRP_DROP_ADDR_COUNT) unless
 * versions has VRRP_PKT_TRAILER: then it may be shorter, out->len says
 * where it ends, and the checksum is the message's alone.
 */
enum vrrp_drop vrrp_pkt_decode(const struct vrrp_ip *ip, unsigned versions,
    const uint8_t *buf, size_t len, struct vrrp_pkt *out);

/*
 * Encode pkt for the IP endpoints ip (family, src, dst) into buf of size
 * bytes. Returns the bytes written, or -EMSGSIZE when they do not fit, or
 * -EINVAL for a packet vrrp_pkt_decode would discard or that the wire
 * cannot carry: version not 2/3, v2 over IPv6, VRID 0, no address, an
 * interval out of range (a v2 one not whole seconds), an IPv6 list not
 * starting with a link-local address, a checksum form the version and
 * family do not allow, a Reserve wider than 4 bits, or v2/v3-only fields
 * set for the other version. Priority is not judged: that the owner alone
 * sends 255 is configuration's business.
 */
int vrrp_pkt_encode(const struct vrrp_ip *ip, const struct vrrp_pkt *pkt,
    uint8_t *buf, size_t size);

/* Bytes of a packet of this shape: 8 + count x 4|16 (+ 8 for v2). */
size_t vrrp_pkt_len(unsigned version, int family, unsigned naddrs);

/* Metric-label-safe name ("ttl", "checksum"...); "invalid" out of range. */
const char *vrrp_drop_name(enum vrrp_drop d);

#endif
