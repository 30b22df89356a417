/*
 * vrrp_announce.h - the "local" takeover backend's announcement half: the
 * gratuitous ARP (IPv4) and unsolicited Neighbor Advertisement (IPv6) a new
 * owner of a virtual address sends so that hosts and switches on the segment
 * move the address to it (RFC 9568 §6.4.2 and §8.1.2, RFC 5227, RFC 4861
 * §7.2.6), and a plan that paces the repeats.
 *
 * Three parts:
 *
 *  - Frame builders, pure (no I/O, clock or globals): whole Ethernet frames,
 *    golden-tested byte for byte.
 *  - A sender: one AF_PACKET SOCK_RAW socket per interface, kept open. It is
 *    opened with protocol 0, so the kernel queues nothing to it: it only
 *    sends, and never fills with copies of the segment's traffic. The
 *    interface's MAC address is read back from the bound socket at each send
 *    (getsockname() of a packet socket gives the device address), so a MAC
 *    change (bond failover, operator) is followed without reopening.
 *  - A pacing plan (keepalived's garp_master_repeat, garp_interval /
 *    gna_interval, garp_master_delay, garp_master_refresh and
 *    garp_master_refresh_repeat), pure: the caller's event loop asks when the
 *    next round is due and whether one is due now.
 *
 * Why the frames look as they do:
 *
 *  - Gratuitous ARP as an ARP Announcement (RFC 5227 §2.3): an ARP request
 *    (op 1) with sender IP = target IP = the VIP and a zero target MAC
 *    (§2.1.1), the request form §3 of that RFC recommends over a reply.
 *    Linux (net/ipv4/arp.c) takes a request whose sender and target IP are
 *    equal as gratuitous whatever its target MAC, a reply only when its
 *    target MAC repeats the sender's; and a gratuitous frame replaces a
 *    cached MAC even inside the entry's locktime (1 s), which a fast
 *    failover needs (test_announce_moves_neighbour fails without it). With
 *    the default arp_accept=0 Linux only updates entries it already has and
 *    creates none: exactly the hosts that talk to the VIP. keepalived sends
 *    the request form too; the HAVIP clouds of vip.md re-point the address
 *    at whoever announces it, in either form.
 *  - Broadcast destination: every host that caches the VIP must hear it, and
 *    every switch on the path must see the frame's source MAC on the new
 *    port to move its forwarding entry. We hold no list of neighbours to
 *    unicast to.
 *  - The unsolicited NA goes to ff02::1 (all nodes; MAC 33:33:00:00:00:01)
 *    with hop limit 255 (receivers drop any other, RFC 4861 §7.1.2),
 *    Override set so caches replace the old MAC, Solicited clear (it answers
 *    no solicitation, and §7.1.2 forbids S on a multicast NA), Router as the
 *    caller says, and the Target Link-Layer Address option carrying the new
 *    MAC, which is the point of an unsolicited NA (§7.2.6). Its IPv6 source
 *    is the VIP itself, as Linux does for its own unsolicited NAs: an
 *    address of the interface (§7.2.4) that is usable at once, since
 *    vrrp_addr adds VIPs without DAD, whereas the link-local may still be
 *    tentative right after the link comes up.
 *  - With use_vmac the Ethernet source and the sender MAC inside (ARP sha,
 *    NA target link-layer option) are the VRRP virtual MAC,
 *    00:00:5e:00:01:VRID for IPv4 and 00:00:5e:00:02:VRID for IPv6
 *    (RFC 9568 §7.3), so hosts and switches learn the address that moves
 *    with the router (erratum 7949). Receiving frames sent to it is the
 *    caller's business (a macvlan, as keepalived's use_vmac).
 */
#ifndef HAVEN_VRRP_ANNOUNCE_H
#define HAVEN_VRRP_ANNOUNCE_H

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VRRP_ANNOUNCE_MACLEN  6
#define VRRP_ANNOUNCE_ARP_LEN 42 /* Ethernet + ARP for IPv4, RFC 826 */
#define VRRP_ANNOUNCE_NA_ICMP 32 /* NA 24 (RFC 4861 §4.4) + TLLA option 8 */
#define VRRP_ANNOUNCE_NA_LEN  86 /* Ethernet + IPv6 header 40 + NA_ICMP */
#define VRRP_ANNOUNCE_ERRMAX  192

/* The NA flags, first byte of the word after the checksum (RFC 4861 §4.4). */
#define VRRP_ANNOUNCE_NA_ROUTER    0x80u
#define VRRP_ANNOUNCE_NA_SOLICITED 0x40u
#define VRRP_ANNOUNCE_NA_OVERRIDE  0x20u

/* The VRRP virtual MAC of vrid for family (RFC 9568 §7.3) into mac. */
void vrrp_announce_vmac(
    unsigned char mac[VRRP_ANNOUNCE_MACLEN], int family, uint8_t vrid);

/*
 * The gratuitous ARP for vip from mac into frame (VRRP_ANNOUNCE_ARP_LEN
 * bytes). Returns the length.
 */
size_t vrrp_announce_garp_build(unsigned char frame[VRRP_ANNOUNCE_ARP_LEN],
    const unsigned char mac[VRRP_ANNOUNCE_MACLEN], struct in_addr vip);

/*
 * The unsolicited NA for target vip from mac, with IPv6 source src, into
 * frame (VRRP_ANNOUNCE_NA_LEN bytes), router setting the R flag. Returns
 * the length.
 */
size_t vrrp_announce_na_build(unsigned char frame[VRRP_ANNOUNCE_NA_LEN],
    const unsigned char mac[VRRP_ANNOUNCE_MACLEN], const struct in6_addr *src,
    const struct in6_addr *vip, bool router);

/*
 * RFC 1071 sum of an ICMPv6 message of len bytes under the RFC 8200 §8.1
 * pseudo-header; 0 when the message's checksum field is right.
 */
uint16_t vrrp_announce_icmp6_cksum(const struct in6_addr *src,
    const struct in6_addr *dst, const unsigned char *msg, size_t len);

/* The sender of one interface. Embedded in its owner; open/close. */
struct vrrp_announce {
	int fd; /* owned: AF_PACKET; -1 when closed */
	int ifindex;
	uint64_t tx_frames; /* frames the kernel took */
	uint64_t tx_errors; /* frames it refused (each leaves err set) */
	char err[VRRP_ANNOUNCE_ERRMAX];
};

/* Open the sender for ifindex. Returns 0 or -errno (message in a->err). */
int vrrp_announce_open(struct vrrp_announce *a, int ifindex);
/* Close it; idempotent, and safe after a failed open. */
void vrrp_announce_close(struct vrrp_announce *a);

/*
 * Send one gratuitous ARP for vip. mac NULL: the interface's own; else the
 * source to announce (the virtual MAC, vrrp_announce_vmac). Returns 0 or
 * -errno (-ENETDOWN on a link that is down, -EOPNOTSUPP when the interface
 * has no Ethernet address).
 */
int vrrp_announce_garp_send(
    struct vrrp_announce *a, struct in_addr vip, const unsigned char *mac);
/* Send one unsolicited NA for vip, likewise; router sets the R flag. */
int vrrp_announce_na_send(struct vrrp_announce *a, const struct in6_addr *vip,
    bool router, const unsigned char *mac);

/*
 * The pacing of announcements after a takeover, in keepalived's terms: a
 * burst of `repeat` rounds `interval_us` apart at once, another such burst
 * `delay_us` after the takeover (0: none), and a burst of `refresh_repeat`
 * rounds every `refresh_us` from the takeover on, for as long as we hold the
 * address (0: none). keepalived's defaults: repeat 5, interval 0, delay 5 s,
 * no refresh. A round is one frame per VIP, which the caller sends; so
 * interval_us spaces rounds, where keepalived's vrrp_garp_interval spaces
 * every frame: a caller that wants that runs one plan per VIP. Plain data.
 */
struct vrrp_announce_plan {
	unsigned repeat;
	uint64_t interval_us;
	uint64_t delay_us;
	uint64_t refresh_us;
	unsigned refresh_repeat;
};

/*
 * A running plan. Pure: time comes in as now_us, on any monotonic clock.
 * Bursts that fall due together merge into one; a round found late is sent
 * once and the next one spaced interval_us after it, never bunched up to
 * catch up (the interval is there to spare rate-limited neighbours).
 */
struct vrrp_announce_sched {
	struct vrrp_announce_plan plan;
	uint64_t start_us;        /* the takeover */
	uint64_t next_us;         /* next round; UINT64_MAX: nothing more */
	uint64_t next_refresh_us; /* next refresh burst; UINT64_MAX: none */
	unsigned left;            /* rounds left in the current burst */
	bool delayed_pending;     /* the delayed burst is still to come */
	uint64_t rounds;          /* rounds taken since start */
};

void vrrp_announce_sched_start(struct vrrp_announce_sched *s,
    const struct vrrp_announce_plan *plan, uint64_t now_us);
/* Nothing more to send (leaving the owner state); idempotent. */
void vrrp_announce_sched_stop(struct vrrp_announce_sched *s);
/* When the next round is due, UINT64_MAX when none is: arm a timer. */
uint64_t vrrp_announce_sched_next(const struct vrrp_announce_sched *s);
/*
 * Is a round due at now_us? If so, count it taken and return true: the
 * caller sends one round. Call in a loop until false (interval 0 makes a
 * whole burst due at once), then arm a timer at vrrp_announce_sched_next().
 */
bool vrrp_announce_sched_due(struct vrrp_announce_sched *s, uint64_t now_us);

#endif
