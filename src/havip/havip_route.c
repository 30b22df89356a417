/*
 * havip_route.c - the HAVIP /32 routes over rtnetlink (havip_route.h).
 */
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "havip/havip_route.h"
#include "lib/util.h"

/* "what: ENAME: text" into r->err; returns -e. */
static int
havip_route_fail(struct havip_route *r, int e, const char *fmt, ...)
{
	char what[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof(r->err), "%s: %s: %s", what,
	    strerrorname_np(e) ? strerrorname_np(e) : "E?", strerror(e));
	return -e;
}

int
havip_route_init(struct havip_route *r)
{
	int one = 1, e;

	memset(r, 0, sizeof(*r));
	r->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (r->sock == NULL)
		return havip_route_fail(r, errno, "netlink socket");
	if (mnl_socket_bind(r->sock, 0, MNL_SOCKET_AUTOPID) == -1) {
		e = errno;
		mnl_socket_close(r->sock);
		r->sock = NULL;
		return havip_route_fail(r, e, "netlink bind");
	}
	/* Acknowledgements without a copy of the request; best effort. */
	(void)mnl_socket_setsockopt(
	    r->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	r->portid = mnl_socket_get_portid(r->sock);
	/* Not 0: a message with seq 0 might be a kernel notification. */
	r->seq = (uint32_t)time(NULL) | 1u;
	r->buf = xmalloc(HAVIP_ROUTE_BUFSZ);
	return 0;
}

void
havip_route_fini(struct havip_route *r)
{
	if (r->sock != NULL)
		mnl_socket_close(r->sock);
	r->sock = NULL;
	free(r->buf);
	r->buf = NULL;
}

struct havip_route_ans {
	bool found;
	uint8_t dst_len;
	int oif;
};

static int
havip_route_parse(const struct nlmsghdr *m, struct havip_route_ans *ans)
{
	const struct rtmsg *rtm;
	const struct nlattr *a;

	if (m->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(m) < sizeof(*rtm))
		return 0;
	rtm = mnl_nlmsg_get_payload(m);
	ans->found = true;
	ans->dst_len = rtm->rtm_dst_len;
	mnl_attr_for_each(a, m, sizeof(*rtm))
	{
		if (mnl_attr_get_type(a) == RTA_OIF &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			ans->oif = (int)mnl_attr_get_u32(a);
	}
	return 0;
}

/*
 * Send nlh (acknowledged) and read to its end; a RTM_NEWROUTE answer goes
 * to ans (may be NULL). 0 or -errno (the kernel's) with r->err filled.
 */
static int
havip_route_talk(struct havip_route *r, struct nlmsghdr *nlh,
    struct havip_route_ans *ans, const char *what)
{
	const struct nlmsgerr *e;
	int len;

	if (r->sock == NULL)
		return havip_route_fail(r, EBADF, "%s", what);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++r->seq;
	if (mnl_socket_sendto(r->sock, nlh, nlh->nlmsg_len) == -1)
		return havip_route_fail(r, errno, "%s: send", what);
	for (;;) {
		ssize_t n =
		    mnl_socket_recvfrom(r->sock, r->buf, HAVIP_ROUTE_BUFSZ);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return havip_route_fail(r, errno, "%s: receive", what);
		}
		len = (int)n;
		for (const struct nlmsghdr *m = (void *)r->buf;
		     mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_seq != r->seq || m->nlmsg_pid != r->portid)
				continue;
			if (m->nlmsg_type == NLMSG_DONE)
				return 0;
			if (m->nlmsg_type != NLMSG_ERROR) {
				if (ans != NULL)
					havip_route_parse(m, ans);
				continue;
			}
			if (mnl_nlmsg_get_payload_len(m) < sizeof(*e))
				return havip_route_fail(r, EBADMSG, "%s", what);
			e = mnl_nlmsg_get_payload(m);
			if (e->error == 0)
				return 0;
			return havip_route_fail(r, -e->error, "%s", what);
		}
	}
}

static struct nlmsghdr *
havip_route_msg(uint8_t *req, uint16_t type, uint16_t flags, struct in_addr dst)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_table = RT_TABLE_MAIN;
	mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	return nlh;
}

int
havip_route_get(struct havip_route *r, struct in_addr dst, int *ifindex)
{
	uint8_t req[MNL_SOCKET_BUFFER_SIZE] __attribute__((aligned(4)));
	struct havip_route_ans ans = { 0 };
	struct nlmsghdr *nlh;
	char a[INET_ADDRSTRLEN];
	struct rtmsg *rtm;
	int rc;

	inet_ntop(AF_INET, &dst, a, sizeof(a));
	nlh = havip_route_msg(req, RTM_GETROUTE, 0, dst);
	rtm = mnl_nlmsg_get_payload(nlh);
	/* The table entry that matches, not the route a packet would take. */
	rtm->rtm_flags = RTM_F_FIB_MATCH;
	rtm->rtm_table = RT_TABLE_UNSPEC;
	rc = havip_route_talk(r, nlh, &ans, "get");
	if (rc == -ENETUNREACH || rc == -EHOSTUNREACH || rc == -ENOENT ||
	    rc == -ESRCH || (rc == 0 && (!ans.found || ans.dst_len != 32)))
		return havip_route_fail(r, ENOENT, "get %s/32", a);
	if (rc < 0)
		return havip_route_fail(r, -rc, "get %s/32", a);
	*ifindex = ans.oif;
	return 0;
}

int
havip_route_set(struct havip_route *r, struct in_addr dst, int ifindex)
{
	uint8_t req[MNL_SOCKET_BUFFER_SIZE] __attribute__((aligned(4)));
	char a[INET_ADDRSTRLEN], ifn[IF_NAMESIZE] = "?";
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int rc, got = 0;

	inet_ntop(AF_INET, &dst, a, sizeof(a));
	(void)if_indextoname((unsigned)ifindex, ifn);
	nlh = havip_route_msg(
	    req, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, dst);
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	if ((rc = havip_route_talk(r, nlh, NULL, "replace")) < 0)
		return havip_route_fail(r, -rc, "replace %s/32 dev %s", a, ifn);
	if ((rc = havip_route_get(r, dst, &got)) < 0)
		return rc;
	if (got != ifindex)
		return havip_route_fail(r, EAGAIN,
		    "replace %s/32 dev %s: read back ifindex %d", a, ifn, got);
	return 0;
}

int
havip_route_del(struct havip_route *r, struct in_addr dst)
{
	uint8_t req[MNL_SOCKET_BUFFER_SIZE] __attribute__((aligned(4)));
	char a[INET_ADDRSTRLEN];
	struct nlmsghdr *nlh;
	int rc, got;

	inet_ntop(AF_INET, &dst, a, sizeof(a));
	nlh = havip_route_msg(req, RTM_DELROUTE, 0, dst);
	/* Any scope matches (as `ip route del`): ours is link, an
	 * operator's may be another, and the /32 goes either way. */
	((struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_scope =
	    RT_SCOPE_NOWHERE;
	rc = havip_route_talk(r, nlh, NULL, "delete");
	if (rc < 0 && rc != -ESRCH && rc != -ENOENT)
		return havip_route_fail(r, -rc, "delete %s/32", a);
	/* Read back: a /32 that is still there was not ours to match. */
	if ((rc = havip_route_get(r, dst, &got)) != -ENOENT)
		return havip_route_fail(
		    r, rc == 0 ? EEXIST : -rc, "delete %s/32: still routed", a);
	return 0;
}
