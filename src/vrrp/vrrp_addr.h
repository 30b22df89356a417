/*
 * vrrp_addr.h - the "local" takeover backend's address half: virtual
 * addresses added to and removed from an interface over rtnetlink, link
 * state read from the kernel, and link up/down events for interface tracking.
 *
 * Two handles, each owning one NETLINK_ROUTE socket (libmnl, close-on-exec):
 *
 *  - struct vrrp_addr_nl answers requests. rtnetlink runs a request in the
 *    sender's own system call and queues the answer before send returns, so
 *    the socket is blocking and every call here returns with the kernel's
 *    verdict; there is nothing to wait for but the kernel. It never joins a
 *    multicast group, so no notification can sit between a request and its
 *    acknowledgement.
 *  - struct vrrp_addr_mon listens to RTNLGRP_LINK. Its socket is nonblocking,
 *    for the event loop to poll; vrrp_addr_mon_read() drains it.
 *
 * Every function returns 0 (or a documented positive value) or -errno, and on
 * failure leaves in the handle's err[] one line for the log: what was asked,
 * the errno name and text, and the kernel's extended-ack message when it gave
 * one ("add 198.18.20.100/32 dev eth0: EPERM: Operation not permitted").
 *
 * Decisions, with their reasons:
 *
 *  - Add is idempotent (NLM_F_CREATE|NLM_F_REPLACE, `ip addr replace`): a VIP
 *    left on the interface by a predecessor that crashed is adopted, its
 *    flags and lifetimes set to ours, not an EEXIST that would hold the
 *    takeover. Delete is idempotent too: an address already gone
 *    (EADDRNOTAVAIL, ENOENT) is success, so a release can be retried or run
 *    twice without a spurious fault.
 *  - Only unicast addresses: 0.0.0.0, 255.255.255.255, ::, and multicast are
 *    EINVAL before the kernel sees them (it would take 0.0.0.0/0).
 *  - IPv6 VIPs are added with IFA_F_NODAD. Duplicate address detection would
 *    keep the address "tentative" for about a second (RFC 4862 §5.4: a
 *    tentative address cannot be bound, used as a source, or announced), and
 *    during a takeover the old owner may well still answer for it, which DAD
 *    would turn into a permanently "dadfailed" VIP. Ownership was settled by
 *    the VRRP election; DAD has nothing to add but delay.
 *  - An IPv6 /128 VIP gets preferred_lft 0 (deprecated, as keepalived does):
 *    it still receives traffic and can be bound, but the kernel never picks it
 *    as the source of the node's own connections, which would break when the
 *    VIP moves to another node.
 *  - IPv4 delete names both IFA_LOCAL and IFA_ADDRESS, so the kernel matches
 *    the prefix length too: deleting our 198.18.20.100/32 cannot take an
 *    operator's 198.18.20.100/24. Deleting a primary IPv4 address removes the
 *    secondaries of its subnet unless net.ipv4.conf.IF.promote_secondaries is
 *    set; a /32 VIP is alone in its subnet, so the default /32 is safe.
 *  - An optional label for IPv4 ("eth0:vip", IFA_LABEL), as keepalived's
 *    `label`: it marks our addresses in `ip addr` for the operator and lets a
 *    sweep after a crash find them. The kernel takes any string, but
 *    iproute2 (which refuses to set other labels) and ifconfig-era tools read
 *    a label as an alias of the interface named before the colon, so we
 *    insist on "IFNAME" or "IFNAME:..." within IFNAMSIZ. IPv6 has no
 *    labels: -EINVAL.
 *  - Link state "up" is IFF_UP and IFF_RUNNING: administratively up and
 *    operationally up (the kernel sets IFF_RUNNING from operstate, RFC 2863:
 *    carrier, dormant, lower layers), which is what keepalived tracks too.
 *
 * Nothing here keeps state about addresses: the kernel's tables are the
 * truth, and vrrp_addr_query() reads them.
 */
#ifndef HAVEN_VRRP_ADDR_H
#define HAVEN_VRRP_ADDR_H

#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mnl_socket;

#define VRRP_ADDR_ERRMAX 256 /* err[]: one log line */
#define VRRP_ADDR_BUFSZ                                                        \
	32768               /* receive buffer: the kernel's largest dump skb */
#define VRRP_ADDR_HWMAX  32 /* MAX_ADDR_LEN of the kernel */
#define VRRP_ADDR_STRMAX (INET6_ADDRSTRLEN + 4) /* "addr/prefixlen" */

/* A virtual address: family, bytes in network order, prefix length. */
struct vrrp_addr_ip {
	sa_family_t family; /* AF_INET or AF_INET6 */
	uint8_t prefixlen;  /* 32 or 128 for a host address */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
};

/* The request socket. Embedded in its owner; init/fini. */
struct vrrp_addr_nl {
	struct mnl_socket *sock; /* owned; NULL when closed */
	unsigned char *buf;      /* owned: VRRP_ADDR_BUFSZ, replies land here */
	uint32_t portid;         /* the kernel's name for our socket */
	uint32_t seq;            /* of the last request sent */
	char err[VRRP_ADDR_ERRMAX];
};

/* One interface's state, from a query or an event. */
struct vrrp_addr_link {
	int ifindex;
	char ifname[IFNAMSIZ];
	unsigned flags;    /* IFF_* (ifi_flags) */
	uint8_t operstate; /* IF_OPER_* (RFC 2863) */
	bool up;           /* IFF_UP && IFF_RUNNING */
	bool gone;         /* an event only: the interface was deleted */
	unsigned mtu;
	unsigned hwlen; /* 6 on Ethernet, 0 when the link has none */
	unsigned char hwaddr[VRRP_ADDR_HWMAX];
};

typedef void vrrp_addr_link_fn(const struct vrrp_addr_link *l, void *arg);

/* The link-event socket. Embedded in its owner; init/fini. */
struct vrrp_addr_mon {
	struct mnl_socket *sock; /* owned; NULL when closed */
	unsigned char *buf;      /* owned: VRRP_ADDR_BUFSZ */
	uint64_t events;         /* link messages reported */
	uint64_t overruns;       /* times the kernel dropped events (ENOBUFS) */
	uint64_t rx_foreign;     /* datagrams not from the kernel, discarded */
	uint64_t rx_malformed;   /* messages that did not parse, discarded */
	char err[VRRP_ADDR_ERRMAX];
};

/*
 * Parse "198.18.20.100", "198.18.20.100/24", "fd00:198:18::100" or ".../64".
 * Without a prefix, a host address (32 or 128). Returns 0 or -EINVAL.
 */
int vrrp_addr_ip_parse(const char *text, struct vrrp_addr_ip *ip);
/* "addr/prefixlen" into out (VRRP_ADDR_STRMAX is enough); returns out. */
const char *vrrp_addr_ip_format(
    const struct vrrp_addr_ip *ip, char *out, size_t len);

/* Open the request socket. Returns 0 or -errno (message in nl->err). */
int vrrp_addr_init(struct vrrp_addr_nl *nl);
/* Close it; idempotent, and safe on a zeroed struct. */
void vrrp_addr_fini(struct vrrp_addr_nl *nl);

/* The index of interface ifname (> 0), or -ENODEV, -EINVAL (bad name). */
int vrrp_addr_ifindex(struct vrrp_addr_nl *nl, const char *ifname);

/*
 * Put ip on interface ifindex (see the decisions above); label is NULL or an
 * IPv4 label beginning with the interface name. Returns 0 or -errno.
 */
int vrrp_addr_add(struct vrrp_addr_nl *nl, int ifindex,
    const struct vrrp_addr_ip *ip, const char *label);
/* Take ip (same prefix length) off ifindex; absent already is success. */
int vrrp_addr_del(
    struct vrrp_addr_nl *nl, int ifindex, const struct vrrp_addr_ip *ip);
/*
 * Is ip (address bytes; any prefix length) on ifindex? Returns 1 and sets
 * *ifa_flags (IFA_F_TENTATIVE, _DADFAILED, _DEPRECATED, _NODAD...) when it is,
 * 0 when not, -errno on failure (-EAGAIN: the address table kept changing
 * under the dump, three times). ifa_flags may be NULL.
 */
int vrrp_addr_query(struct vrrp_addr_nl *nl, int ifindex,
    const struct vrrp_addr_ip *ip, uint32_t *ifa_flags);

/* The state of interface ifindex into *out. Returns 0 or -errno (-ENODEV). */
int vrrp_addr_link_get(
    struct vrrp_addr_nl *nl, int ifindex, struct vrrp_addr_link *out);

/*
 * The link-layer address of the IPv4 neighbour ip on ifindex, read from the
 * kernel's neighbour table into mac (VRRP_ADDR_HWMAX bytes). Returns its
 * length (> 0), 0 when there is no usable entry (none, or one still being
 * resolved or failed), or -errno. It only reads: resolving is the kernel's
 * work, done for whatever traffic goes to ip (the havip backend's ownership
 * probes keep the gateway's entry fresh).
 */
int vrrp_addr_neigh_get(struct vrrp_addr_nl *nl, int ifindex, struct in_addr ip,
    unsigned char *mac);

/*
 * Subscribe to link events (RTNLGRP_LINK). Returns 0 or -errno. The caller
 * polls vrrp_addr_mon_fd() for reading and then calls vrrp_addr_mon_read().
 * Subscribe before the first vrrp_addr_link_get() of the links you track, so
 * no change can fall between the two.
 */
int vrrp_addr_mon_init(struct vrrp_addr_mon *mon);
void vrrp_addr_mon_fini(struct vrrp_addr_mon *mon);
int vrrp_addr_mon_fd(const struct vrrp_addr_mon *mon);
/*
 * Read every pending event and report each link message through cb, in
 * order. The kernel sends one for any change of a link (flags, MTU, name,
 * address...), so cb gets the link's whole current state, not an edge: it
 * compares l->up with what it knew. Returns the number of messages reported,
 * or -ENOBUFS when the kernel had to drop events (socket buffer full: state
 * was lost, so requery each tracked link with vrrp_addr_link_get()), or
 * another -errno.
 */
int vrrp_addr_mon_read(
    struct vrrp_addr_mon *mon, vrrp_addr_link_fn *cb, void *arg);

#endif
