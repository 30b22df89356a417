/*
 * xsk.c - see xsk.h. Ring discipline (Documentation/networking/af_xdp.rst):
 * the producer writes descriptors, then stores the producer index with
 * release order; the consumer loads the producer index with acquire order,
 * reads descriptors, then stores its consumer index with release order.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/xsk.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define XSK_BIND_TRIES 40 /* x 50 ms: EBUSY after a predecessor closed */

static int
xsk_ring_map(struct xsk_ring *r, int fd, const struct xdp_ring_offset *o,
    off_t pgoff, uint32_t n, size_t dsz)
{
	size_t len = o->desc + n * dsz;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, fd, pgoff);

	if (m == MAP_FAILED)
		return -errno;
	r->map = m;
	r->map_len = len;
	r->prod = (uint32_t *)(void *)(m + o->producer);
	r->cons = (uint32_t *)(void *)(m + o->consumer);
	r->flags = (uint32_t *)(void *)(m + o->flags);
	r->desc = m + o->desc;
	r->mask = n - 1;
	r->next = __atomic_load_n(r->prod, __ATOMIC_ACQUIRE);
	return 0;
}

static void
xsk_ring_unmap(struct xsk_ring *r)
{
	if (r->map != NULL)
		munmap(r->map, r->map_len);
	memset(r, 0, sizeof(*r));
}

static int
xsk_setopt(int fd, int opt, unsigned v)
{
	return setsockopt(fd, SOL_XDP, opt, &v, sizeof(v)) == -1 ? -errno : 0;
}

/* Hand every frame to the fill ring, in the parent, before the bind. */
static int
xsk_fill_all(int fd)
{
	struct xdp_mmap_offsets off;
	socklen_t ol = sizeof(off);
	struct xsk_ring fill = { 0 };
	uint64_t *d;
	int e;

	if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &ol) == -1)
		return -errno;
	if ((e = xsk_ring_map(&fill, fd, &off.fr, XDP_UMEM_PGOFF_FILL_RING,
	         XSK_RING_FILL, sizeof(uint64_t))) != 0)
		return e;
	d = fill.desc;
	for (uint32_t i = 0; i < XSK_FRAMES && i < XSK_RING_FILL; i++)
		d[(fill.next + i) & fill.mask] = (uint64_t)i * XSK_FRAME_SIZE;
	__atomic_store_n(fill.prod,
	    fill.next +
	        (XSK_FRAMES < XSK_RING_FILL ? XSK_FRAMES : XSK_RING_FILL),
	    __ATOMIC_RELEASE);
	xsk_ring_unmap(&fill);
	return 0;
}

int
xsk_create(int ifindex, unsigned queue, int *xsk_fd, int *umem_fd)
{
	size_t len = (size_t)XSK_FRAMES * XSK_FRAME_SIZE;
	struct xdp_umem_reg reg = { 0 };
	struct sockaddr_xdp sx = { 0 };
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	void *umem = MAP_FAILED;
	int fd = -1, mfd = -1, e;

	if ((mfd = memfd_create("haven-xsk-umem", MFD_CLOEXEC)) == -1 ||
	    ftruncate(mfd, (off_t)len) == -1)
		goto fail_errno;
	umem = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, mfd, 0);
	if (umem == MAP_FAILED)
		goto fail_errno;
	if ((fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0)) == -1)
		goto fail_errno;
	reg.addr = (uint64_t)(uintptr_t)umem;
	reg.len = len;
	reg.chunk_size = XSK_FRAME_SIZE;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) == -1)
		goto fail_errno;
	if ((e = xsk_setopt(fd, XDP_UMEM_FILL_RING, XSK_RING_FILL)) != 0 ||
	    (e = xsk_setopt(fd, XDP_UMEM_COMPLETION_RING, XSK_RING_COMP)) !=
	        0 ||
	    (e = xsk_setopt(fd, XDP_RX_RING, XSK_RING_RX)) != 0 ||
	    (e = xsk_setopt(fd, XDP_TX_RING, XSK_RING_TX)) != 0 ||
	    (e = xsk_fill_all(fd)) != 0)
		goto fail;
	sx.sxdp_family = AF_XDP;
	sx.sxdp_ifindex = (uint32_t)ifindex;
	sx.sxdp_queue_id = queue;
	sx.sxdp_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
	for (int i = 0;; i++) {
		if (bind(fd, (struct sockaddr *)&sx, sizeof(sx)) == 0)
			break;
		if (errno != EBUSY || i == XSK_BIND_TRIES)
			goto fail_errno;
		nanosleep(&pause, NULL);
	}
	/* The pages stay pinned by the registration and in the memfd: the
	 * worker maps them from there. */
	munmap(umem, len);
	*xsk_fd = fd;
	*umem_fd = mfd;
	return 0;
fail_errno:
	e = -errno;
fail:
	if (umem != MAP_FAILED)
		munmap(umem, len);
	if (fd != -1)
		close(fd);
	if (mfd != -1)
		close(mfd);
	return e;
}

int
xsk_attach(struct xsk *x, int xsk_fd, int umem_fd)
{
	struct xdp_mmap_offsets off;
	socklen_t ol = sizeof(off);
	size_t len = (size_t)XSK_FRAMES * XSK_FRAME_SIZE;
	struct stat st;
	void *m;
	int e;

	memset(x, 0, sizeof(*x));
	x->fd = xsk_fd;
	if (fstat(umem_fd, &st) == -1)
		return -errno;
	if ((size_t)st.st_size != len)
		return -EINVAL;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
	    umem_fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	x->umem = m;
	if (getsockopt(xsk_fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &ol) == -1) {
		e = -errno;
		goto fail;
	}
	if ((e = xsk_ring_map(&x->fill, xsk_fd, &off.fr,
	         XDP_UMEM_PGOFF_FILL_RING, XSK_RING_FILL, sizeof(uint64_t))) ||
	    (e = xsk_ring_map(&x->comp, xsk_fd, &off.cr,
	         XDP_UMEM_PGOFF_COMPLETION_RING, XSK_RING_COMP,
	         sizeof(uint64_t))) ||
	    (e = xsk_ring_map(&x->rx, xsk_fd, &off.rx, XDP_PGOFF_RX_RING,
	         XSK_RING_RX, sizeof(struct xdp_desc))) ||
	    (e = xsk_ring_map(&x->tx, xsk_fd, &off.tx, XDP_PGOFF_TX_RING,
	         XSK_RING_TX, sizeof(struct xdp_desc))))
		goto fail;
	return 0;
fail:
	xsk_detach(x);
	return e;
}

void
xsk_detach(struct xsk *x)
{
	xsk_ring_unmap(&x->fill);
	xsk_ring_unmap(&x->comp);
	xsk_ring_unmap(&x->rx);
	xsk_ring_unmap(&x->tx);
	if (x->umem != NULL)
		munmap(x->umem, (size_t)XSK_FRAMES * XSK_FRAME_SIZE);
	x->umem = NULL;
}

uint32_t
xsk_rx_peek(struct xsk *x, uint32_t max, uint32_t *idx)
{
	uint32_t prod = __atomic_load_n(x->rx.prod, __ATOMIC_ACQUIRE);
	uint32_t cons = *x->rx.cons, n = prod - cons;

	*idx = cons;
	return n < max ? n : max;
}

void
xsk_rx_release(struct xsk *x, uint32_t n)
{
	__atomic_store_n(x->rx.cons, *x->rx.cons + n, __ATOMIC_RELEASE);
}

uint32_t
xsk_tx_room(const struct xsk *x)
{
	uint32_t cons = __atomic_load_n(x->tx.cons, __ATOMIC_ACQUIRE);

	return XSK_RING_TX - (x->tx.next - cons);
}

void
xsk_tx_put(struct xsk *x, uint64_t addr, uint32_t len)
{
	struct xdp_desc *d = x->tx.desc;

	d[x->tx.next & x->tx.mask] =
	    (struct xdp_desc){ .addr = addr, .len = len };
	x->tx.next++;
}

bool
xsk_tx_submit(struct xsk *x)
{
	/* Nothing queued and nothing left from a kick that failed. */
	if (x->tx.next == __atomic_load_n(x->tx.cons, __ATOMIC_ACQUIRE))
		return false;
	if (x->tx.next != *x->tx.prod)
		__atomic_store_n(x->tx.prod, x->tx.next, __ATOMIC_RELEASE);
	/* Copy mode transmits from the sendto; ENOBUFS/EAGAIN leave the
	 * descriptors queued for the next kick. */
	(void)sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
	return true;
}

void
xsk_fill_put(struct xsk *x, uint64_t addr)
{
	uint64_t *d = x->fill.desc;

	d[x->fill.next & x->fill.mask] = addr & ~(uint64_t)(XSK_FRAME_SIZE - 1);
	x->fill.next++;
}

void
xsk_fill_submit(struct xsk *x)
{
	if (x->fill.next != *x->fill.prod)
		__atomic_store_n(x->fill.prod, x->fill.next, __ATOMIC_RELEASE);
}

uint32_t
xsk_reap(struct xsk *x)
{
	uint32_t prod = __atomic_load_n(x->comp.prod, __ATOMIC_ACQUIRE);
	uint32_t cons = *x->comp.cons, n = prod - cons;
	const uint64_t *d = x->comp.desc;

	for (uint32_t i = 0; i < n; i++)
		xsk_fill_put(x, d[(cons + i) & x->comp.mask]);
	if (n > 0) {
		__atomic_store_n(x->comp.cons, prod, __ATOMIC_RELEASE);
		xsk_fill_submit(x);
	}
	return n;
}
