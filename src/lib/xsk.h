/*
 * xsk.h - an AF_XDP socket, its umem and its four rings, split the way
 * haven's privileges are: the parent (root) creates the socket, puts the
 * umem in a memfd, registers it, sizes the rings, hands every frame to the
 * fill ring and binds; a worker without any capability gets the socket and
 * the memfd as descriptors and maps the rings and the umem itself.
 *
 * Frames never leave the umem: the kernel writes a query into a frame of
 * the fill ring and puts it on the RX ring; the worker writes the reply
 * into that same frame and puts it on the TX ring (or, dropping it, back on
 * the fill ring); the completion ring gives sent frames back, and they go
 * to the fill ring again. So the worker keeps no free list and no state
 * between batches: a worker that restarts on the same socket continues
 * from the rings' indexes (a crash mid-batch loses at most that batch's
 * frames, out of XSK_FRAMES).
 *
 * Copy mode (XDP_COPY) and XDP_USE_NEED_WAKEUP: generic XDP on any
 * interface. Single producer, single consumer per ring: one process at a
 * time may serve a socket.
 */
#ifndef HAVEN_XSK_H
#define HAVEN_XSK_H

#include <linux/if_xdp.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XSK_FRAME_SIZE 2048u /* power of two, at least 2048 */
#define XSK_FRAMES     4096u /* the umem: 8 MiB */
#define XSK_RING_FILL  4096u /* holds every frame: it never overflows */
#define XSK_RING_COMP  4096u
#define XSK_RING_RX    2048u
#define XSK_RING_TX    2048u

struct xsk_ring {
	uint32_t *prod; /* borrowed: the ring's mapping */
	uint32_t *cons;
	uint32_t *flags;
	void *desc;
	uint32_t mask;
	uint32_t next; /* producer rings: the next index to fill, published
	                  by the submit */
	void *map;     /* owned: the mapping, map_len bytes */
	size_t map_len;
};

struct xsk {
	int fd;        /* borrowed: the caller keeps the socket */
	uint8_t *umem; /* owned mapping of the memfd, XSK_FRAMES frames */
	struct xsk_ring fill, comp, rx, tx;
};

/* Parent side: a bound AF_XDP socket on ifindex's queue, its frames in
 * the fill ring. *xsk_fd and *umem_fd are the caller's (close both).
 * Retries EBUSY from bind for a while: the socket of a closed predecessor
 * is released asynchronously. 0 or a negative errno. */
int xsk_create(int ifindex, unsigned queue, int *xsk_fd, int *umem_fd);

/* Worker side: map the rings of xsk_fd and the umem in umem_fd. 0 or a
 * negative errno; x->fd is xsk_fd (still the caller's). */
int xsk_attach(struct xsk *x, int xsk_fd, int umem_fd);
/* Unmap; idempotent. */
void xsk_detach(struct xsk *x);

/* RX: up to max descriptors are at *idx .. *idx+n-1 (xsk_rx_desc); the
 * count. Release them with xsk_rx_release(x, n) when done. */
uint32_t xsk_rx_peek(struct xsk *x, uint32_t max, uint32_t *idx);
static inline const struct xdp_desc *
xsk_rx_desc(const struct xsk *x, uint32_t idx)
{
	return &((const struct xdp_desc *)x->rx.desc)[idx & x->rx.mask];
}
void xsk_rx_release(struct xsk *x, uint32_t n);

/* Frame addr as a pointer into the umem, and the bytes from it to the
 * end of its frame. */
static inline uint8_t *
xsk_frame(const struct xsk *x, uint64_t addr)
{
	return x->umem + addr;
}
static inline size_t
xsk_frame_room(uint64_t addr)
{
	return XSK_FRAME_SIZE - (size_t)(addr & (XSK_FRAME_SIZE - 1));
}

/* Free TX slots (of XSK_RING_TX). */
uint32_t xsk_tx_room(const struct xsk *x);
/* Queue the frame at addr, len bytes, for sending (room was checked). */
void xsk_tx_put(struct xsk *x, uint64_t addr, uint32_t len);
/* Publish what xsk_tx_put queued and kick the kernel (copy mode sends
 * only on a kick) while any frame is unsent; true when it kicked. */
bool xsk_tx_submit(struct xsk *x);
/* Give the frame at addr back to the kernel's fill ring. */
void xsk_fill_put(struct xsk *x, uint64_t addr);
/* Publish the fill ring. */
void xsk_fill_submit(struct xsk *x);
/* Move sent frames from the completion ring to the fill ring; count. */
uint32_t xsk_reap(struct xsk *x);

#endif
