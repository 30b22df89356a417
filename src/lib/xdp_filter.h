/*
 * xdp_filter.h - the XDP program that steers DNS queries into AF_XDP
 * sockets, its XSKMAP, and the bpf_link that attaches it to an interface.
 *
 * The program is a handful of hand-written eBPF instructions, built at run
 * time with the served destinations as immediates: no clang, no object
 * file, no libbpf; bpf(2) is called directly. It redirects to XSKMAP[the
 * frame's rx queue] exactly the IPv4 UDP frames addressed to one of the
 * destinations (address 0.0.0.0: any address, that port), unfragmented and
 * without IP options; everything else, and a frame of a queue that has no
 * socket in the map, is XDP_PASS: the interface carries other traffic, and
 * the kernel's UDP sockets still serve what is passed.
 *
 * It is attached in generic (SKB) mode through a bpf_link: the kernel
 * detaches it when the last descriptor of the link closes, so a process
 * that dies cannot leave a program behind. Creating it needs CAP_BPF (or
 * CAP_SYS_ADMIN) and CAP_NET_ADMIN: the parent of `haven run` does it.
 */
#ifndef HAVEN_XDP_FILTER_H
#define HAVEN_XDP_FILTER_H

#include <stddef.h>
#include <stdint.h>

#define XDP_FILTER_DST_MAX 8  /* destinations one program matches */
#define XDP_FILTER_QUEUES  64 /* XSKMAP entries: rx queues served */

/* A destination: network byte order, as in struct sockaddr_in. */
struct xdp_filter_dst {
	uint32_t addr; /* 0: any */
	uint16_t port;
};

struct xdp_filter {
	int ifindex;
	int map_fd;  /* owned: the XSKMAP */
	int prog_fd; /* owned: the program in effect */
	int link_fd; /* owned: closing it detaches the program */
	struct xdp_filter_dst dst[XDP_FILTER_DST_MAX];
	size_t ndst;
};

/* Build the program for dst (n of them, 1..XDP_FILTER_DST_MAX) and attach
 * it to ifindex in SKB mode. Returns 0 with *f filled, or a negative
 * errno; log, if not NULL, gets the verifier's log (size bytes). */
int xdp_filter_open(struct xdp_filter *f, int ifindex,
    const struct xdp_filter_dst *dst, size_t n, char *log, size_t size);
/* Replace the program of an open filter by one for dst (the map and its
 * sockets stay): atomic for the traffic. 0 or a negative errno. */
int xdp_filter_update(
    struct xdp_filter *f, const struct xdp_filter_dst *dst, size_t n);
/* Put the AF_XDP socket xsk_fd in the map for rx queue q. */
int xdp_filter_add_xsk(struct xdp_filter *f, unsigned q, int xsk_fd);
/* Detach and close everything; idempotent. */
void xdp_filter_close(struct xdp_filter *f);

#endif
