/*
 * vrrp_sock.h - the raw IP socket VRRP adverts travel on (IP protocol 112),
 * one per interface and family, shared by the instances there.
 *
 * Receiving gives what RFC 9568 §7.1's checks need beside the payload: the
 * sender, the destination, the TTL / hop limit and the interface; sending
 * fixes the source address (the checksum of v3 covers it, and a host
 * holding a VIP must not advertise from the VIP) and sends with TTL 255.
 * Multicast membership (224.0.0.18 / ff02::12) is joined on the interface
 * only; adverts this host sends are not looped back.
 */
#ifndef HAVEN_VRRP_SOCK_H
#define HAVEN_VRRP_SOCK_H

#include <sys/socket.h>

#include <net/if.h>

#include <stddef.h>
#include <stdint.h>

#define VRRP_PROTO 112

struct vrrp_sock {
	int fd; /* owned; -1 closed */
	int family;
	unsigned ifindex;
	char ifname[IF_NAMESIZE];
};

/* One received advert: the payload points into the caller's buffer. */
struct vrrp_rx {
	struct sockaddr_storage src, dst; /* port 0 */
	int ttl;                          /* TTL / hop limit, -1 unknown */
	const uint8_t *payload;           /* borrowed: the VRRP message */
	size_t len;
};

/*
 * Open and bind to ifname for family (AF_INET, AF_INET6), joining the VRRP
 * group. 0, or -errno with what failed in err.
 */
int vrrp_sock_open(struct vrrp_sock *s, int family, const char *ifname,
    char *err, size_t errlen);
void vrrp_sock_close(struct vrrp_sock *s);
/*
 * Read one datagram into buf. 0 with rx filled, -EAGAIN when none is
 * queued, -EBADMSG for a datagram too short for its IP header (IPv4), or
 * another -errno.
 */
int vrrp_sock_recv(
    struct vrrp_sock *s, uint8_t *buf, size_t cap, struct vrrp_rx *rx);
/* Send p from src (AF_UNSPEC: the kernel's choice) to dst. 0 or -errno. */
int vrrp_sock_send(struct vrrp_sock *s, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, const uint8_t *p, size_t n);
/* The VRRP multicast group of family, port 0. */
void vrrp_sock_group(int family, struct sockaddr_storage *out);
/*
 * The address adverts from ifname go out from: IPv4 its first address not
 * among skip[] (the VIPs), IPv6 its link-local one (RFC 9568 §5.1.2.1).
 * 0 or -errno (-EADDRNOTAVAIL: none yet).
 */
int vrrp_sock_src(int family, const char *ifname,
    const struct sockaddr_storage *skip, size_t nskip, size_t skip_stride,
    struct sockaddr_storage *out);

#endif
