/*
 * havip_route.h - the HAVIP's /32 route in the gateway's main table, over
 * rtnetlink (libmnl): the VPC's "route the HAVIP to the instance that owns
 * it" (reference/vip.md §5.1, `ip route replace HAVIP/32 dev v-nX`).
 *
 * One blocking NETLINK_ROUTE socket that joins no group, as vrrp_addr.h's
 * request handle: rtnetlink runs a request inside the sender's system
 * call, so each call returns with the kernel's verdict. Set is
 * RTM_NEWROUTE with NLM_F_CREATE|NLM_F_REPLACE (idempotent, and it takes
 * over a route an operator or a predecessor left), then read back with a
 * FIB-match lookup, because what the VPC routes is the truth the
 * controller reports. Delete is idempotent: a route already gone is
 * success. Routes carry protocol RTPROT_STATIC and scope link: the node
 * is on the link, there is no gateway.
 *
 * Each call returns 0 or -errno and leaves one log line in err[] on
 * failure ("replace 198.18.0.100/32 dev v-n1: EPERM: ...").
 */
#ifndef HAVEN_HAVIP_ROUTE_H
#define HAVEN_HAVIP_ROUTE_H

#include <netinet/in.h>

#include <stdint.h>

struct mnl_socket;

#define HAVIP_ROUTE_ERRMAX 256
#define HAVIP_ROUTE_BUFSZ  16384

struct havip_route {
	struct mnl_socket *sock; /* owned */
	uint32_t portid;
	uint32_t seq;
	uint8_t *buf; /* owned: HAVIP_ROUTE_BUFSZ */
	char err[HAVIP_ROUTE_ERRMAX];
};

int havip_route_init(struct havip_route *r);
void havip_route_fini(struct havip_route *r);
/* dst/32 dev ifindex scope link, replacing any, then verified. */
int havip_route_set(struct havip_route *r, struct in_addr dst, int ifindex);
/* Remove dst/32 from the main table; absent is success. */
int havip_route_del(struct havip_route *r, struct in_addr dst);
/*
 * The interface dst/32 is routed through: 0 with *ifindex, or -ENOENT
 * when the table has no /32 for it (a shorter prefix does not count).
 */
int havip_route_get(struct havip_route *r, struct in_addr dst, int *ifindex);

#endif
