/*
 * parent_xdp.c - the parent's half of a plane's XDP fast path (struct
 * plane_sock_spec, type PLANE_SOCK_XDP): the filter program attached to
 * the interface by a bpf_link, and the AF_XDP socket of one queue with its
 * umem, all held here because the workers have no capability to make them
 * (lib/xdp_filter.h, lib/xsk.h). The worker maps the rings from the two
 * descriptors it is sent.
 *
 * A wildcard listen address (0.0.0.0) is not "any destination" here: on a
 * router that would steal DNS traffic passing through to other hosts,
 * which the kernel's socket never sees. It stands for the interface's own
 * IPv4 addresses as they are when the filter is built (at start and at
 * each reload).
 *
 * Order matters: the socket is bound and in the XSKMAP before the program
 * is attached, so no query is steered to a queue nobody reads; closing
 * goes the other way (the link first), so the kernel's UDP sockets get the
 * traffic back at once.
 */
#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/parent.h"
#include "cmd/planes.h"
#include "lib/log.h"
#include "lib/priv.h"
#include "lib/util.h"
#include "lib/xsk.h"

uint64_t
parent_socks_caps(const struct haven_conf *c)
{
	uint64_t caps = 0;

	for (size_t i = 0; i < nplanes; i++) {
		const struct plane_row *row = &planes[i];
		struct plane_sock_spec *specs;
		size_t n;

		if (row->ops->sockets == NULL || !haven_conf_has(c, row))
			continue;
		n = row->ops->sockets(haven_conf_section(c, row), &specs);
		for (size_t j = 0; j < n; j++)
			if (specs[j].type == PLANE_SOCK_XDP)
				caps |= PRIV_CAP(CAP_BPF) |
				    PRIV_CAP(CAP_NET_ADMIN) |
				    PRIV_CAP(CAP_NET_RAW) |
				    PRIV_CAP(CAP_IPC_LOCK);
		free(specs);
	}
	return caps;
}

/* The destinations of spec s, wildcards replaced by the interface's
 * addresses, into dst; the count (0: none to steer). */
static size_t
parent_xdp_dst(const struct plane_sock_spec *s, struct xdp_filter_dst *dst)
{
	struct ifaddrs *ifa = NULL;
	size_t n = 0;

	for (size_t i = 0; i < s->xdp_ndst; i++) {
		if (s->xdp_dst[i].addr != 0) {
			if (n < XDP_FILTER_DST_MAX)
				dst[n++] = s->xdp_dst[i];
			continue;
		}
		if (ifa == NULL && getifaddrs(&ifa) == -1)
			break;
		for (struct ifaddrs *a = ifa; a != NULL; a = a->ifa_next) {
			if (a->ifa_addr == NULL ||
			    a->ifa_addr->sa_family != AF_INET ||
			    strcmp(a->ifa_name, s->xdp_ifname) != 0 ||
			    n == XDP_FILTER_DST_MAX)
				continue;
			dst[n].addr =
			    ((const struct sockaddr_in *)(const void *)
			            a->ifa_addr)
			        ->sin_addr.s_addr;
			dst[n++].port = s->xdp_dst[i].port;
		}
	}
	if (ifa != NULL)
		freeifaddrs(ifa);
	return n;
}

int
parent_xdp_open(struct parent_sock *ps)
{
	const struct plane_sock_spec *s = &ps->spec;
	struct xdp_filter f;
	struct xdp_filter_dst dst[XDP_FILTER_DST_MAX];
	size_t ndst;
	char vlog[512];
	int ifindex, xfd = -1, mfd = -1, e;
	const char *step;

	vlog[0] = '\0';
	if ((ifindex = (int)if_nametoindex(s->xdp_ifname)) == 0) {
		e = -errno;
		step = "interface";
		goto fail;
	}
	if ((ndst = parent_xdp_dst(s, dst)) == 0) {
		e = -EADDRNOTAVAIL;
		step = "listen address (a wildcard, and the interface has no "
		       "IPv4 address)";
		goto fail;
	}
	if ((e = xsk_create(ifindex, s->xdp_queue, &xfd, &mfd)) != 0) {
		step = "AF_XDP socket (needs CAP_NET_RAW, a kernel with "
		       "AF_XDP)";
		goto fail;
	}
	if ((e = xdp_filter_open(&f, ifindex, dst, ndst, vlog, sizeof(vlog))) !=
	    0) {
		step = "XDP program (needs CAP_BPF and CAP_NET_ADMIN; no "
		       "other XDP program on the interface)";
		goto fail;
	}
	if ((e = xdp_filter_add_xsk(&f, s->xdp_queue, xfd)) != 0) {
		xdp_filter_close(&f);
		step = "XSKMAP";
		goto fail;
	}
	ps->fd = xfd;
	ps->umem_fd = mfd;
	ps->xdp = xmalloc(sizeof(*ps->xdp));
	*ps->xdp = f;
	log_info("xdp attached", "name=%s interface=%s queue=%u mode=generic",
	    s->name, s->xdp_ifname, s->xdp_queue);
	return 0;
fail:
	if (xfd != -1)
		close(xfd);
	if (mfd != -1)
		close(mfd);
	log_err("xdp not set up: serving on sockets only",
	    "name=%s interface=%s step=%s error=%s verifier=%s", s->name,
	    s->xdp_ifname, log_q(step), log_q(strerror(-e)), log_q(vlog));
	return e;
}

void
parent_xdp_refresh(struct parent_sock *ps)
{
	struct xdp_filter_dst dst[XDP_FILTER_DST_MAX];
	size_t n;
	int e;

	if (ps->xdp == NULL)
		return;
	if ((n = parent_xdp_dst(&ps->spec, dst)) == 0)
		e = -EADDRNOTAVAIL;
	else
		e = xdp_filter_update(ps->xdp, dst, n);
	if (e != 0)
		log_err("xdp filter not updated: old destinations kept",
		    "name=%s error=%s", ps->spec.name, log_q(strerror(-e)));
}

void
parent_xdp_close(struct parent_sock *ps)
{
	if (ps->xdp != NULL) {
		xdp_filter_close(ps->xdp);
		free(ps->xdp);
		ps->xdp = NULL;
	}
	if (ps->umem_fd >= 0)
		close(ps->umem_fd);
	ps->umem_fd = -1;
}
