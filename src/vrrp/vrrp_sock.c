/*
 * vrrp_sock.c - the raw VRRP socket (vrrp_sock.h).
 *
 * An IPv4 raw socket hands each datagram up with its IP header, which is
 * where the TTL and the destination are read; IPv6 raw sockets never do,
 * so there the hop limit and destination come as control messages
 * (IPV6_RECVHOPLIMIT, IPV6_RECVPKTINFO). The socket is bound to the
 * interface (SO_BINDTODEVICE): an advert for the same vrid on another
 * link is another virtual router. Nonblocking: the caller polls it.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>

#include <errno.h>
#include <ifaddrs.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vrrp/vrrp_sock.h"

void
vrrp_sock_group(int family, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(0xe0000012); /* 224.0.0.18 */
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

		sin6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "ff02::12", &sin6->sin6_addr);
	}
}

/* setsockopt with the step named in err on failure. */
static int
vrrp_sock_opt(int fd, int level, int name, const void *v, socklen_t len,
    const char *what, char *err, size_t errlen)
{
	if (setsockopt(fd, level, name, v, len) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	return -errno;
}

static int
vrrp_sock_setup4(struct vrrp_sock *s, char *err, size_t errlen)
{
	struct ip_mreqn mr = { .imr_ifindex = (int)s->ifindex };
	int ttl = 255, off = 0;
	int rc;

	mr.imr_multiaddr.s_addr = htonl(0xe0000012);
	if ((rc = vrrp_sock_opt(s->fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl),
	         "IP_TTL", err, errlen)) != 0 ||
	    (rc = vrrp_sock_opt(s->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
	         sizeof(ttl), "IP_MULTICAST_TTL", err, errlen)) != 0 ||
	    (rc = vrrp_sock_opt(s->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off,
	         sizeof(off), "IP_MULTICAST_LOOP", err, errlen)) != 0 ||
	    (rc = vrrp_sock_opt(s->fd, IPPROTO_IP, IP_MULTICAST_IF, &mr,
	         sizeof(mr), "IP_MULTICAST_IF", err, errlen)) != 0)
		return rc;
	return vrrp_sock_opt(s->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
	    sizeof(mr), "join 224.0.0.18", err, errlen);
}

static int
vrrp_sock_setup6(struct vrrp_sock *s, char *err, size_t errlen)
{
	struct ipv6_mreq mr = { .ipv6mr_interface = s->ifindex };
	int hops = 255, on = 1, off = 0, idx = (int)s->ifindex;
	int rc;

	inet_pton(AF_INET6, "ff02::12", &mr.ipv6mr_multiaddr);
	if ((rc = vrrp_sock_opt(s->fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops,
	         sizeof(hops), "IPV6_UNICAST_HOPS", err, errlen)) != 0 ||
	    (rc = vrrp_sock_opt(s->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
	         sizeof(hops), "IPV6_MULTICAST_HOPS", err, errlen)) != 0 ||
	    (rc = vrrp_sock_opt(s->fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off,
	         sizeof(off), "IPV6_MULTICAST_LOOP", err, errlen)) != 0 ||
	    (rc = vrrp_sock_opt(s->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx,
	         sizeof(idx), "IPV6_MULTICAST_IF", err, errlen)) != 0 ||
	    (rc = vrrp_sock_opt(s->fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on,
	         sizeof(on), "IPV6_RECVHOPLIMIT", err, errlen)) != 0 ||
	    (rc = vrrp_sock_opt(s->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
	         sizeof(on), "IPV6_RECVPKTINFO", err, errlen)) != 0)
		return rc;
	return vrrp_sock_opt(s->fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mr,
	    sizeof(mr), "join ff02::12", err, errlen);
}

int
vrrp_sock_open(struct vrrp_sock *s, int family, const char *ifname, char *err,
    size_t errlen)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->family = family;
	if (strlen(ifname) >= sizeof(s->ifname)) {
		snprintf(err, errlen, "interface %s: name too long", ifname);
		return -EINVAL;
	}
	strcpy(s->ifname, ifname);
	s->ifindex = if_nametoindex(ifname);
	if (s->ifindex == 0) {
		rc = -errno;
		snprintf(
		    err, errlen, "interface %s: %s", ifname, strerror(errno));
		return rc;
	}
	s->fd =
	    socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, VRRP_PROTO);
	if (s->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "raw socket (protocol 112): %s",
		    strerror(errno));
		return rc;
	}
	rc = vrrp_sock_opt(s->fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
	    (socklen_t)strlen(ifname), "SO_BINDTODEVICE", err, errlen);
	if (rc == 0)
		rc = family == AF_INET ? vrrp_sock_setup4(s, err, errlen) :
		                         vrrp_sock_setup6(s, err, errlen);
	if (rc != 0)
		vrrp_sock_close(s);
	return rc;
}

void
vrrp_sock_close(struct vrrp_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* IPv4: the datagram starts with the IP header the kernel received. */
static int
vrrp_sock_rx4(uint8_t *buf, size_t n, struct vrrp_rx *rx)
{
	struct sockaddr_in *src = (struct sockaddr_in *)&rx->src;
	struct sockaddr_in *dst = (struct sockaddr_in *)&rx->dst;
	struct iphdr ip;
	size_t hl;

	if (n < sizeof(ip))
		return -EBADMSG;
	memcpy(&ip, buf, sizeof(ip));
	hl = (size_t)ip.ihl * 4;
	if (hl < sizeof(ip) || hl > n)
		return -EBADMSG;
	src->sin_family = AF_INET;
	src->sin_addr.s_addr = ip.saddr;
	dst->sin_family = AF_INET;
	dst->sin_addr.s_addr = ip.daddr;
	rx->ttl = ip.ttl;
	rx->payload = buf + hl;
	rx->len = n - hl;
	return 0;
}

int
vrrp_sock_recv(
    struct vrrp_sock *s, uint8_t *buf, size_t cap, struct vrrp_rx *rx)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		    CMSG_SPACE(sizeof(int))];
	} cb;
	struct sockaddr_storage from;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cb.b,
		.msg_controllen = sizeof(cb.b),
	};
	struct cmsghdr *c;
	ssize_t n;

	memset(rx, 0, sizeof(*rx));
	rx->ttl = -1;
	n = recvmsg(s->fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (s->family == AF_INET)
		return vrrp_sock_rx4(buf, (size_t)n, rx);
	memcpy(&rx->src, &from, sizeof(from));
	rx->payload = buf;
	rx->len = (size_t)n;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != IPPROTO_IPV6)
			continue;
		if (c->cmsg_type == IPV6_HOPLIMIT)
			memcpy(&rx->ttl, CMSG_DATA(c), sizeof(int));
		else if (c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			struct sockaddr_in6 *d =
			    (struct sockaddr_in6 *)&rx->dst;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			d->sin6_family = AF_INET6;
			d->sin6_addr = pi.ipi6_addr;
		}
	}
	((struct sockaddr_in6 *)&rx->src)->sin6_port = 0;
	return 0;
}

int
vrrp_sock_send(struct vrrp_sock *s, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, const uint8_t *p, size_t n)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cb;
	struct sockaddr_storage to = *dst;
	struct iovec iov = { .iov_base = (void *)p, .iov_len = n };
	struct msghdr mh = {
		.msg_name = &to,
		.msg_namelen = s->family == AF_INET ?
		    sizeof(struct sockaddr_in) :
		    sizeof(struct sockaddr_in6),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	struct cmsghdr *c;

	memset(&cb, 0, sizeof(cb));
	if (s->family == AF_INET6)
		((struct sockaddr_in6 *)&to)->sin6_scope_id = s->ifindex;
	if (src != NULL && src->ss_family == s->family) {
		mh.msg_control = cb.b;
		c = (struct cmsghdr *)cb.b;
		if (s->family == AF_INET) {
			struct in_pktinfo pi = { .ipi_ifindex =
				                     (int)s->ifindex };

			pi.ipi_spec_dst =
			    ((const struct sockaddr_in *)src)->sin_addr;
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		} else {
			struct in6_pktinfo pi = { .ipi6_ifindex = s->ifindex };

			pi.ipi6_addr =
			    ((const struct sockaddr_in6 *)src)->sin6_addr;
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		}
	}
	if (sendmsg(s->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

static bool
vrrp_sock_skipped(const struct sockaddr *sa,
    const struct sockaddr_storage *skip, size_t nskip, size_t stride)
{
	const unsigned char *p = (const unsigned char *)skip;
	size_t i;

	for (i = 0; i < nskip; i++, p += stride) {
		const struct sockaddr_storage *s =
		    (const struct sockaddr_storage *)p;

		if (s->ss_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET &&
		    ((const struct sockaddr_in *)s)->sin_addr.s_addr ==
		        ((const struct sockaddr_in *)sa)->sin_addr.s_addr)
			return true;
		if (sa->sa_family == AF_INET6 &&
		    memcmp(&((const struct sockaddr_in6 *)s)->sin6_addr,
		        &((const struct sockaddr_in6 *)sa)->sin6_addr, 16) == 0)
			return true;
	}
	return false;
}

int
vrrp_sock_src(int family, const char *ifname,
    const struct sockaddr_storage *skip, size_t nskip, size_t skip_stride,
    struct sockaddr_storage *out)
{
	struct ifaddrs *ifa, *i;
	int rc = -EADDRNOTAVAIL;

	if (getifaddrs(&ifa) != 0)
		return -errno;
	for (i = ifa; i != NULL && rc != 0; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != family ||
		    strcmp(i->ifa_name, ifname) != 0)
			continue;
		if (family == AF_INET6 &&
		    !IN6_IS_ADDR_LINKLOCAL(
		        &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
			continue;
		if (vrrp_sock_skipped(i->ifa_addr, skip, nskip, skip_stride))
			continue;
		memset(out, 0, sizeof(*out));
		memcpy(out, i->ifa_addr,
		    family == AF_INET ? sizeof(struct sockaddr_in) :
		                        sizeof(struct sockaddr_in6));
		((struct sockaddr_in *)out)->sin_port = 0;
		if (family == AF_INET6)
			((struct sockaddr_in6 *)out)->sin6_scope_id = 0;
		rc = 0;
	}
	freeifaddrs(ifa);
	return rc;
}
