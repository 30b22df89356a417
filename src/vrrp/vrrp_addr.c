/*
 * vrrp_addr.c - virtual addresses and link state over rtnetlink (libmnl).
 * The contract and the reasons behind each choice are in vrrp_addr.h.
 *
 * One exchange is: send one request with a fresh sequence number, then read
 * until its end: the NLMSG_ERROR acknowledgement of a plain request (every
 * request but a dump asks for one, so even a GET ends the same way), or the
 * NLMSG_DONE of a dump. A message with another sequence number or port is a
 * leftover of an exchange abandoned earlier and is skipped. The kernel's
 * extended acknowledgement (NETLINK_EXT_ACK) supplies the reason text of an
 * error when it has one.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"
#include "vrrp/vrrp_addr.h"

#define VRRP_ADDR_REQMAX     512 /* one request: header + a few attributes */
#define VRRP_ADDR_INFINITY   0xffffffffu /* INFINITY_LIFE_TIME, if_addr.h */
#define VRRP_ADDR_DUMP_TRIES 3 /* dumps interrupted by a change, retried */

typedef int vrrp_addr_msg_fn(const struct nlmsghdr *nlh, void *arg);

/*
 * Error messages are built in two steps, the second only on failure: the
 * cause ("ENAME: text[: detail]") where the error is seen, then what was
 * asked in front of it (vrrp_addr_blame), so a call that succeeds formats
 * nothing and asks the kernel for no interface name.
 */
static int
vrrp_addr_fail(char *err, int e, const char *detail)
{
	const char *name = strerrorname_np(e);

	snprintf(err, VRRP_ADDR_ERRMAX, "%s: %s%s%s", name ? name : "E?",
	    strerror(e), detail && *detail ? ": " : "", detail ? detail : "");
	return -e;
}

/* Put "fmt...: " in front of err. */
static void vrrp_addr_blame(char *err, const char *fmt, ...) __printflike(2, 3);

static void
vrrp_addr_blame(char *err, const char *fmt, ...)
{
	char cause[VRRP_ADDR_ERRMAX];
	va_list ap;
	int n;

	memcpy(cause, err, sizeof(cause));
	va_start(ap, fmt);
	n = vsnprintf(err, VRRP_ADDR_ERRMAX, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < VRRP_ADDR_ERRMAX)
		snprintf(err + n, VRRP_ADDR_ERRMAX - (size_t)n, ": %s", cause);
}

/* "VERB ADDR/LEN dev NAME: ..." (or "ifindex N" for an unknown index). */
static void
vrrp_addr_blame_ip(
    char *err, const char *verb, const struct vrrp_addr_ip *ip, int ifindex)
{
	char a[VRRP_ADDR_STRMAX], name[IF_NAMESIZE];

	vrrp_addr_ip_format(ip, a, sizeof(a));
	if (ifindex > 0 && if_indextoname((unsigned)ifindex, name) != NULL)
		vrrp_addr_blame(err, "%s %s dev %s", verb, a, name);
	else
		vrrp_addr_blame(err, "%s %s ifindex %d", verb, a, ifindex);
}

int
vrrp_addr_ip_parse(const char *text, struct vrrp_addr_ip *ip)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long plen;
	unsigned max;
	char *end;

	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, host, &ip->u.v4) == 1) {
		ip->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, &ip->u.v6) == 1) {
		ip->family = AF_INET6;
		max = 128;
	} else
		return -EINVAL;
	ip->prefixlen = (uint8_t)max;
	if (slash == NULL)
		return 0;
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	plen = strtoul(slash + 1, &end, 10);
	if (errno != 0 || *end != '\0' || plen > max)
		return -EINVAL;
	ip->prefixlen = (uint8_t)plen;
	return 0;
}

const char *
vrrp_addr_ip_format(const struct vrrp_addr_ip *ip, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if ((ip->family != AF_INET && ip->family != AF_INET6) ||
	    inet_ntop(ip->family, &ip->u, host, sizeof(host)) == NULL)
		snprintf(out, len, "(family %d)", ip->family);
	else
		snprintf(out, len, "%s/%u", host, ip->prefixlen);
	return out;
}

/* Bytes of the address proper: 4 or 16, 0 for a family we do not know. */
static size_t
vrrp_addr_ip_len(const struct vrrp_addr_ip *ip)
{
	return ip->family == AF_INET ? 4 : ip->family == AF_INET6 ? 16 : 0;
}

/* What makes ip unfit to be a virtual address, or NULL. */
static const char *
vrrp_addr_ip_unfit(const struct vrrp_addr_ip *ip)
{
	uint32_t a4;

	switch (ip->family) {
	case AF_INET:
		a4 = ntohl(ip->u.v4.s_addr);
		if (ip->prefixlen > 32)
			return "prefix length over 32";
		if (a4 == INADDR_ANY || a4 == INADDR_BROADCAST ||
		    IN_MULTICAST(a4))
			return "not a unicast address";
		return NULL;
	case AF_INET6:
		if (ip->prefixlen > 128)
			return "prefix length over 128";
		if (IN6_IS_ADDR_UNSPECIFIED(&ip->u.v6) ||
		    IN6_IS_ADDR_MULTICAST(&ip->u.v6))
			return "not a unicast address";
		return NULL;
	default:
		return "not an IPv4 or IPv6 address";
	}
}

/*
 * Open a NETLINK_ROUTE socket with flags (SOCK_CLOEXEC...), bound to a port
 * the kernel picks. Returns 0 or -errno with err filled.
 */
static int
vrrp_addr_sock_open(struct mnl_socket **out, int flags, char *err)
{
	struct mnl_socket *s;
	int e;

	if ((s = mnl_socket_open2(NETLINK_ROUTE, flags)) == NULL)
		return vrrp_addr_fail(err, errno, "netlink socket");
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) == -1) {
		e = errno;
		mnl_socket_close(s);
		return vrrp_addr_fail(err, e, "netlink bind");
	}
	*out = s;
	return 0;
}

int
vrrp_addr_init(struct vrrp_addr_nl *nl)
{
	int one = 1, rc;

	memset(nl, 0, sizeof(*nl));
	if ((rc = vrrp_addr_sock_open(&nl->sock, SOCK_CLOEXEC, nl->err)) < 0)
		return rc;
	/*
	 * Best effort, each: the kernel's reason text with errors (4.12),
	 * acknowledgements without a copy of our request, and dumps filtered
	 * by the kernel (4.20). Older kernels work without them; the dump
	 * callbacks filter again.
	 */
	(void)mnl_socket_setsockopt(
	    nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(
	    nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(
	    nl->sock, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	/* Not 0: a message with seq 0 might be a kernel notification. */
	nl->seq = (uint32_t)time(NULL) | 1u;
	nl->buf = xmalloc(VRRP_ADDR_BUFSZ);
	return 0;
}

void
vrrp_addr_fini(struct vrrp_addr_nl *nl)
{
	if (nl->sock != NULL)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
	free(nl->buf);
	nl->buf = NULL;
}

/* The reason text of an extended acknowledgement, "" when there is none. */
static void
vrrp_addr_extack(const struct nlmsghdr *nlh, char *out, size_t len)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	size_t off = sizeof(*e);

	out[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* Uncapped, our whole request is echoed between the two. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if (off > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_for_each(a, nlh, off)
	{
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) {
			snprintf(out, len, "%s", mnl_attr_get_str(a));
			return;
		}
	}
}

/*
 * The end of an exchange, seen in message m: 0 to read on, 1 when it ended
 * well, or -errno with nl->err filled.
 */
static int
vrrp_addr_end(struct vrrp_addr_nl *nl, const struct nlmsghdr *m, bool intr)
{
	char ext[VRRP_ADDR_ERRMAX / 2];
	const struct nlmsgerr *e;
	int err = 0;

	if (m->nlmsg_type == NLMSG_DONE) {
		/* A dump may end with its error here. */
		if (mnl_nlmsg_get_payload_len(m) >= sizeof(int))
			memcpy(&err, mnl_nlmsg_get_payload(m), sizeof(int));
		if (err < 0)
			return vrrp_addr_fail(nl->err, -err, NULL);
		/* The table changed under the dump: it may be inconsistent. */
		if (intr)
			return vrrp_addr_fail(nl->err, EAGAIN,
			    "dump interrupted by a concurrent change");
		return 1;
	}
	if (m->nlmsg_type != NLMSG_ERROR)
		return 0;
	if (mnl_nlmsg_get_payload_len(m) < sizeof(*e))
		return vrrp_addr_fail(nl->err, EBADMSG, "short netlink error");
	e = mnl_nlmsg_get_payload(m);
	if (e->error == 0)
		return 1;
	vrrp_addr_extack(m, ext, sizeof(ext));
	return vrrp_addr_fail(nl->err, -e->error, ext);
}

/*
 * Send nlh and read to the end of its answer, calling cb (may be NULL) on
 * each data message. Returns 0, the first negative return of cb (with
 * nl->err filled by cb), or -errno with nl->err filled. Every request but a
 * dump asks for an acknowledgement, so each ends the same way.
 */
static int
vrrp_addr_talk(struct vrrp_addr_nl *nl, struct nlmsghdr *nlh,
    vrrp_addr_msg_fn *cb, void *arg)
{
	bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	bool intr = false;
	int cbrc = 0, len, rc;

	if (nl->sock == NULL)
		return vrrp_addr_fail(nl->err, EBADF, "netlink socket closed");
	if (!dump)
		nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) == -1)
		return vrrp_addr_fail(nl->err, errno, "netlink send");
	for (;;) {
		ssize_t n =
		    mnl_socket_recvfrom(nl->sock, nl->buf, VRRP_ADDR_BUFSZ);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return vrrp_addr_fail(
			    nl->err, errno, "netlink receive");
		}
		len = (int)n;
		for (const struct nlmsghdr *m = (void *)nl->buf;
		     mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			/* A leftover of an abandoned exchange: skip. */
			if (m->nlmsg_seq != nl->seq ||
			    m->nlmsg_pid != nl->portid)
				continue;
			if (m->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = true;
			if ((rc = vrrp_addr_end(nl, m, intr)) < 0)
				return rc;
			if (rc == 1)
				return cbrc;
			/* Keep reading to the end after a cb error. */
			if (m->nlmsg_type >= NLMSG_MIN_TYPE && cb != NULL &&
			    cbrc == 0)
				cbrc = cb(m, arg);
		}
	}
}

/*
 * Index the attributes after a header of hdrlen bytes into tb[0..max].
 * Unknown types are ignored; lengths are checked where each is used.
 */
static void
vrrp_addr_attrs(const struct nlmsghdr *nlh, size_t hdrlen,
    const struct nlattr **tb, unsigned max)
{
	const struct nlattr *a;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	mnl_attr_for_each(a, nlh, hdrlen)
	{
		if (mnl_attr_get_type(a) <= max)
			tb[mnl_attr_get_type(a)] = a;
	}
}

/*
 * RTM_NEWLINK or RTM_DELLINK into *l. Returns 0, 1 for a message that is
 * about something else than the device itself (a bridge port's AF_BRIDGE
 * view, whose RTM_DELLINK only means "left the bridge"), or -EBADMSG.
 */
static int
vrrp_addr_link_parse(const struct nlmsghdr *nlh, struct vrrp_addr_link *l)
{
	const struct nlattr *tb[IFLA_MAX + 1], *a;
	const struct ifinfomsg *ifi;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EBADMSG;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (ifi->ifi_family != AF_UNSPEC)
		return 1;
	vrrp_addr_attrs(nlh, sizeof(*ifi), tb, IFLA_MAX);
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	l->gone = nlh->nlmsg_type == RTM_DELLINK;
	l->up = !l->gone && (l->flags & IFF_UP) && (l->flags & IFF_RUNNING);
	if ((a = tb[IFLA_IFNAME]) != NULL) {
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == -1)
			return -EBADMSG;
		snprintf(
		    l->ifname, sizeof(l->ifname), "%s", mnl_attr_get_str(a));
	}
	if ((a = tb[IFLA_OPERSTATE]) != NULL) {
		if (mnl_attr_validate(a, MNL_TYPE_U8) == -1)
			return -EBADMSG;
		l->operstate = mnl_attr_get_u8(a);
	}
	if ((a = tb[IFLA_MTU]) != NULL) {
		if (mnl_attr_validate(a, MNL_TYPE_U32) == -1)
			return -EBADMSG;
		l->mtu = mnl_attr_get_u32(a);
	}
	if ((a = tb[IFLA_ADDRESS]) != NULL) {
		l->hwlen = mnl_attr_get_payload_len(a);
		if (l->hwlen > sizeof(l->hwaddr))
			return -EBADMSG;
		memcpy(l->hwaddr, mnl_attr_get_payload(a), l->hwlen);
	}
	return 0;
}

struct vrrp_addr_link_req {
	struct vrrp_addr_nl *nl;    /* borrowed */
	struct vrrp_addr_link *out; /* borrowed */
	bool seen;
};

static int
vrrp_addr_link_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct vrrp_addr_link_req *r = arg;
	int rc;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	if ((rc = vrrp_addr_link_parse(nlh, r->out)) < 0)
		return vrrp_addr_fail(r->nl->err, EBADMSG, "malformed link");
	r->seen |= rc == 0;
	return 0;
}

/* RTM_GETLINK by index (ifindex > 0) or by name into *out. */
static int
vrrp_addr_getlink(struct vrrp_addr_nl *nl, int ifindex, const char *ifname,
    struct vrrp_addr_link *out)
{
	_Alignas(struct nlmsghdr) unsigned char req[VRRP_ADDR_REQMAX];
	struct vrrp_addr_link_req r = { .nl = nl, .out = out };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct ifinfomsg *ifi;
	int rc;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (ifname != NULL)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	/* Only what we read: no statistics, no VF tables. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if ((rc = vrrp_addr_talk(nl, nlh, vrrp_addr_link_cb, &r)) < 0)
		return rc;
	if (!r.seen)
		return vrrp_addr_fail(nl->err, ENODEV, "no link in the answer");
	return 0;
}

int
vrrp_addr_ifindex(struct vrrp_addr_nl *nl, const char *ifname)
{
	struct vrrp_addr_link l;
	int rc;

	if (ifname[0] == '\0' || strlen(ifname) >= IFNAMSIZ ||
	    strchr(ifname, '/') != NULL)
		rc = vrrp_addr_fail(nl->err, EINVAL, "not an interface name");
	else if ((rc = vrrp_addr_getlink(nl, 0, ifname, &l)) == 0)
		return l.ifindex;
	vrrp_addr_blame(nl->err, "interface \"%.*s\"", IFNAMSIZ, ifname);
	return rc;
}

int
vrrp_addr_link_get(
    struct vrrp_addr_nl *nl, int ifindex, struct vrrp_addr_link *out)
{
	int rc;

	if (ifindex <= 0)
		rc = vrrp_addr_fail(nl->err, ENODEV, NULL);
	else if ((rc = vrrp_addr_getlink(nl, ifindex, NULL, out)) == 0)
		return 0;
	vrrp_addr_blame(nl->err, "link state of ifindex %d", ifindex);
	return rc;
}

/*
 * Check ip (and label) before a request. Returns the address length or
 * -errno with the cause in nl->err.
 */
static int
vrrp_addr_check(struct vrrp_addr_nl *nl, int ifindex,
    const struct vrrp_addr_ip *ip, const char *label)
{
	char name[IF_NAMESIZE], detail[128];
	size_t alen = vrrp_addr_ip_len(ip), nlen;
	const char *why;

	if ((why = vrrp_addr_ip_unfit(ip)) != NULL)
		return vrrp_addr_fail(nl->err, EINVAL, why);
	if (ifindex <= 0)
		return vrrp_addr_fail(nl->err, ENODEV, NULL);
	if (label == NULL)
		return (int)alen;
	if (ip->family != AF_INET)
		return vrrp_addr_fail(
		    nl->err, EINVAL, "labels are for IPv4 addresses only");
	if (if_indextoname((unsigned)ifindex, name) == NULL)
		return vrrp_addr_fail(nl->err, errno, NULL);
	nlen = strlen(name);
	if (strlen(label) >= IFNAMSIZ || strncmp(label, name, nlen) != 0 ||
	    (label[nlen] != '\0' && label[nlen] != ':')) {
		snprintf(detail, sizeof(detail),
		    "label \"%.*s\" is not \"%s\" or \"%s:...\" in %d bytes",
		    IFNAMSIZ, label, name, name, IFNAMSIZ - 1);
		return vrrp_addr_fail(nl->err, EINVAL, detail);
	}
	return (int)alen;
}

/* The RTM_NEWADDR/RTM_DELADDR request for ip on ifindex, in req. */
static struct nlmsghdr *
vrrp_addr_msg(unsigned char *req, uint16_t type, uint16_t flags, int ifindex,
    const struct vrrp_addr_ip *ip, size_t alen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = ip->family;
	ifa->ifa_prefixlen = ip->prefixlen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	/*
	 * IPv4 has a local address and, for point-to-point links, a peer in
	 * IFA_ADDRESS; ours are the same, and naming both makes a delete
	 * match the prefix length too. IPv6 reads IFA_ADDRESS.
	 */
	if (ip->family == AF_INET)
		mnl_attr_put(nlh, IFA_LOCAL, alen, &ip->u);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, &ip->u);
	return nlh;
}

int
vrrp_addr_add(struct vrrp_addr_nl *nl, int ifindex,
    const struct vrrp_addr_ip *ip, const char *label)
{
	_Alignas(struct nlmsghdr) unsigned char req[VRRP_ADDR_REQMAX];
	struct nlmsghdr *nlh;
	int rc;

	if ((rc = vrrp_addr_check(nl, ifindex, ip, label)) < 0)
		goto fail;
	nlh = vrrp_addr_msg(req, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE,
	    ifindex, ip, (size_t)rc);
	if (label != NULL)
		mnl_attr_put_strz(nlh, IFA_LABEL, label);
	if (ip->family == AF_INET6) {
		struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
		struct ifa_cacheinfo ci = {
			.ifa_valid = VRRP_ADDR_INFINITY,
			.ifa_prefered =
			    ip->prefixlen == 128 ? 0 : VRRP_ADDR_INFINITY,
		};

		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
		mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
	}
	if ((rc = vrrp_addr_talk(nl, nlh, NULL, NULL)) == 0)
		return 0;
fail:
	vrrp_addr_blame_ip(nl->err, "add", ip, ifindex);
	return rc;
}

int
vrrp_addr_del(
    struct vrrp_addr_nl *nl, int ifindex, const struct vrrp_addr_ip *ip)
{
	_Alignas(struct nlmsghdr) unsigned char req[VRRP_ADDR_REQMAX];
	struct nlmsghdr *nlh;
	int rc;

	if ((rc = vrrp_addr_check(nl, ifindex, ip, NULL)) < 0)
		goto fail;
	nlh = vrrp_addr_msg(req, RTM_DELADDR, 0, ifindex, ip, (size_t)rc);
	rc = vrrp_addr_talk(nl, nlh, NULL, NULL);
	/* IPv4 says EADDRNOTAVAIL, IPv6 ENOENT or EADDRNOTAVAIL: gone. */
	if (rc == 0 || rc == -EADDRNOTAVAIL || rc == -ENOENT) {
		nl->err[0] = '\0';
		return 0;
	}
fail:
	vrrp_addr_blame_ip(nl->err, "delete", ip, ifindex);
	return rc;
}

struct vrrp_addr_query_req {
	const struct vrrp_addr_ip *ip; /* borrowed */
	int ifindex;
	bool found;
	uint32_t flags;
};

static int
vrrp_addr_query_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct vrrp_addr_query_req *q = arg;
	const struct nlattr *tb[IFA_MAX + 1], *a;
	const struct ifaddrmsg *ifa;
	size_t alen = vrrp_addr_ip_len(q->ip);

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return 0;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != q->ip->family ||
	    ifa->ifa_index != (unsigned)q->ifindex)
		return 0;
	vrrp_addr_attrs(nlh, sizeof(*ifa), tb, IFA_MAX);
	/* IPv4's own address is IFA_LOCAL; IFA_ADDRESS may be a peer. */
	a = tb[IFA_LOCAL] != NULL ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (a == NULL || mnl_attr_get_payload_len(a) != alen ||
	    memcmp(mnl_attr_get_payload(a), &q->ip->u, alen) != 0)
		return 0;
	q->found = true;
	/* The 8-bit field cannot hold the flags from 0x100 up. */
	q->flags = ifa->ifa_flags;
	if ((a = tb[IFA_FLAGS]) != NULL &&
	    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		q->flags = mnl_attr_get_u32(a);
	return 0;
}

int
vrrp_addr_query(struct vrrp_addr_nl *nl, int ifindex,
    const struct vrrp_addr_ip *ip, uint32_t *ifa_flags)
{
	_Alignas(struct nlmsghdr) unsigned char req[VRRP_ADDR_REQMAX];
	struct vrrp_addr_query_req q = { .ip = ip, .ifindex = ifindex };
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int rc, tries = 0;

	if ((rc = vrrp_addr_check(nl, ifindex, ip, NULL)) < 0)
		goto fail;
	do {
		q.found = false;
		nlh = mnl_nlmsg_put_header(req);
		nlh->nlmsg_type = RTM_GETADDR;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = ip->family;
		ifa->ifa_index = (unsigned)ifindex;
		rc = vrrp_addr_talk(nl, nlh, vrrp_addr_query_cb, &q);
		/* An interrupted dump is retried a few times. */
	} while (rc == -EAGAIN && ++tries < VRRP_ADDR_DUMP_TRIES);
	if (rc < 0)
		goto fail;
	if (q.found && ifa_flags != NULL)
		*ifa_flags = q.flags;
	return q.found ? 1 : 0;
fail:
	vrrp_addr_blame_ip(nl->err, "query", ip, ifindex);
	return rc;
}

struct vrrp_addr_neigh_req {
	struct in_addr ip;
	int ifindex;
	unsigned char *mac; /* borrowed: VRRP_ADDR_HWMAX bytes */
	unsigned len;       /* 0: no usable entry yet */
};

/* Entries with a link-layer address the kernel itself would send to. */
#define VRRP_ADDR_NUD_USABLE                                                   \
	(NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_STALE | NUD_DELAY |   \
	    NUD_PROBE)

static int
vrrp_addr_neigh_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct vrrp_addr_neigh_req *q = arg;
	const struct nlattr *tb[NDA_MAX + 1], *a;
	const struct ndmsg *nd;
	size_t n;

	if (nlh->nlmsg_type != RTM_NEWNEIGH ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*nd))
		return 0;
	nd = mnl_nlmsg_get_payload(nlh);
	/* Without strict checking the kernel dumps every interface. */
	if (nd->ndm_family != AF_INET || nd->ndm_ifindex != q->ifindex ||
	    (nd->ndm_state & VRRP_ADDR_NUD_USABLE) == 0)
		return 0;
	vrrp_addr_attrs(nlh, sizeof(*nd), tb, NDA_MAX);
	if ((a = tb[NDA_DST]) == NULL || mnl_attr_get_payload_len(a) != 4 ||
	    memcmp(mnl_attr_get_payload(a), &q->ip, 4) != 0 ||
	    (a = tb[NDA_LLADDR]) == NULL)
		return 0;
	n = mnl_attr_get_payload_len(a);
	if (n == 0 || n > VRRP_ADDR_HWMAX)
		return 0;
	memcpy(q->mac, mnl_attr_get_payload(a), n);
	q->len = (unsigned)n;
	return 0;
}

int
vrrp_addr_neigh_get(
    struct vrrp_addr_nl *nl, int ifindex, struct in_addr ip, unsigned char *mac)
{
	_Alignas(struct nlmsghdr) unsigned char req[VRRP_ADDR_REQMAX];
	struct vrrp_addr_neigh_req q = {
		.ip = ip, .ifindex = ifindex, .mac = mac
	};
	struct nlmsghdr *nlh;
	struct ndmsg *nd;
	struct vrrp_addr_ip a = { .family = AF_INET, .prefixlen = 32 };
	int rc, tries = 0;

	/* A dump, not a GET of one entry: an absent entry is then an
	 * empty answer, not an error to tell from the others. */
	do {
		q.len = 0;
		nlh = mnl_nlmsg_put_header(req);
		nlh->nlmsg_type = RTM_GETNEIGH;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
		nd->ndm_family = AF_INET;
		/* Strict checking refuses ndm_ifindex in a dump request;
		 * the filter is this attribute. */
		mnl_attr_put_u32(nlh, NDA_IFINDEX, (uint32_t)ifindex);
		rc = vrrp_addr_talk(nl, nlh, vrrp_addr_neigh_cb, &q);
	} while (rc == -EAGAIN && ++tries < VRRP_ADDR_DUMP_TRIES);
	if (rc < 0) {
		a.u.v4 = ip;
		vrrp_addr_blame_ip(nl->err, "neighbour", &a, ifindex);
		return rc;
	}
	return (int)q.len;
}

int
vrrp_addr_mon_init(struct vrrp_addr_mon *mon)
{
	int group = RTNLGRP_LINK, rc;

	memset(mon, 0, sizeof(*mon));
	if ((rc = vrrp_addr_sock_open(
	         &mon->sock, SOCK_CLOEXEC | SOCK_NONBLOCK, mon->err)) < 0)
		goto fail;
	if (mnl_socket_setsockopt(mon->sock, NETLINK_ADD_MEMBERSHIP, &group,
	        sizeof(group)) == -1) {
		rc = vrrp_addr_fail(mon->err, errno, "join RTNLGRP_LINK");
		mnl_socket_close(mon->sock);
		mon->sock = NULL;
		goto fail;
	}
	mon->buf = xmalloc(VRRP_ADDR_BUFSZ);
	return 0;
fail:
	vrrp_addr_blame(mon->err, "link events");
	return rc;
}

void
vrrp_addr_mon_fini(struct vrrp_addr_mon *mon)
{
	if (mon->sock != NULL)
		mnl_socket_close(mon->sock);
	mon->sock = NULL;
	free(mon->buf);
	mon->buf = NULL;
}

int
vrrp_addr_mon_fd(const struct vrrp_addr_mon *mon)
{
	return mon->sock != NULL ? mnl_socket_get_fd(mon->sock) : -1;
}

/* Report the link messages of one datagram of len bytes. */
static int
vrrp_addr_mon_batch(
    struct vrrp_addr_mon *mon, int len, vrrp_addr_link_fn *cb, void *arg)
{
	const struct nlmsghdr *m = (void *)mon->buf;
	struct vrrp_addr_link l;
	int n = 0, rc;

	for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
		if (m->nlmsg_type != RTM_NEWLINK &&
		    m->nlmsg_type != RTM_DELLINK)
			continue;
		if ((rc = vrrp_addr_link_parse(m, &l)) < 0) {
			mon->rx_malformed++;
			continue;
		}
		if (rc == 1)
			continue;
		mon->events++;
		n++;
		cb(&l, arg);
	}
	if (len > 0) /* bytes left that are not a whole message */
		mon->rx_malformed++;
	return n;
}

int
vrrp_addr_mon_read(struct vrrp_addr_mon *mon, vrrp_addr_link_fn *cb, void *arg)
{
	bool lost = false;
	int total = 0, rc;

	if (mon->sock == NULL) {
		rc = vrrp_addr_fail(mon->err, EBADF, "socket closed");
		goto fail;
	}
	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { mon->buf, VRRP_ADDR_BUFSZ };
		struct msghdr msg = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
		};
		ssize_t n = recvmsg(mnl_socket_get_fd(mon->sock), &msg, 0);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			if (errno == ENOBUFS) {
				/* Reported once; what follows is readable. */
				mon->overruns++;
				lost = true;
				continue;
			}
			rc = vrrp_addr_fail(mon->err, errno, "read");
			goto fail;
		}
		/* Only the kernel speaks for RTNLGRP_LINK. */
		if (msg.msg_namelen != sizeof(from) || from.nl_pid != 0) {
			mon->rx_foreign++;
			continue;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			mon->rx_malformed++;
			lost = true;
			continue;
		}
		total += vrrp_addr_mon_batch(mon, (int)n, cb, arg);
	}
	if (!lost)
		return total;
	rc = vrrp_addr_fail(mon->err, ENOBUFS,
	    "events were lost: query the tracked links again");
fail:
	vrrp_addr_blame(mon->err, "link events");
	return rc;
}
