/*
 * parent_xdp.c - the parent's half of a plane's XDP fast path (struct
 * plane_sock_spec, type PLANE_SOCK_XDP): the filter program attached to
 * the interface by a bpf_link, and the AF_XDP socket of one queue with its
 * umem, all held here because the workers have no capability to make them
 * (lib/xdp_filter.h, lib/xsk.h). The worker maps the rings from the two
 * descriptors it is sent.
 *
 * Order matters: the socket is bound and in the XSKMAP before the program
 * is attached, so no query is steered to a queue nobody reads; closing
 * goes the other way (the link first), so the kernel's UDP sockets get the
 * traffic back at once.
 */
#include <net/if.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/parent.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xsk.h"

int
parent_xdp_open(struct parent_sock *ps)
{
	const struct plane_sock_spec *s = &ps->spec;
	struct xdp_filter f;
	char vlog[512];
	int ifindex, xfd = -1, mfd = -1, e;
	const char *step;

	vlog[0] = '\0';
	if ((ifindex = (int)if_nametoindex(s->xdp_ifname)) == 0) {
		e = -errno;
		step = "interface";
		goto fail;
	}
	if ((e = xsk_create(ifindex, s->xdp_queue, &xfd, &mfd)) != 0) {
		step = "AF_XDP socket (needs CAP_NET_RAW, a kernel with "
		       "AF_XDP)";
		goto fail;
	}
	if ((e = xdp_filter_open(&f, ifindex, s->xdp_dst, s->xdp_ndst, vlog,
	         sizeof(vlog))) != 0) {
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
	int e;

	if (ps->xdp == NULL)
		return;
	if ((e = xdp_filter_update(
	         ps->xdp, ps->spec.xdp_dst, ps->spec.xdp_ndst)) != 0)
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
