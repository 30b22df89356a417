/*
 * lb_conn_io.c - the bytes of client connections: the per-worker pool of
 * LB_BUF_SIZE buffers (struct lb_iobuf) and client reads and writes, plain
 * or through OpenSSL.
 *
 * Invariants:
 *   - a buffer is taken lazily (lb_iobuf_get) and handed back as soon as it
 *     is empty (lb_iobuf_settle), so an idle keep-alive connection holds
 *     none; up to LB_BUF_POOL_KEEP free buffers are kept for reuse;
 *   - rd_ready is cleared only by a read that hit EAGAIN (or its TLS
 *     equivalent) or came back short on a plain socket, wr_blocked set only
 *     by a write that hit EAGAIN; epoll is level-triggered, so a flag
 *     cleared early costs one wakeup, never a stall.
 */
#include <sys/socket.h>

#include <errno.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "lb/lb_worker.h"
#include "lib/util.h"

struct lb_conn_freebuf {
	struct lb_conn_freebuf *next; /* owned: next free buffer */
};

/* Buffers */

void
lb_iobuf_get(struct lb_bufpool *bp, struct lb_iobuf *b)
{
	struct lb_conn_freebuf *f;

	if (b->data != NULL)
		return;
	if ((f = bp->free) != NULL) {
		bp->free = f->next;
		bp->n--;
		b->data = (char *)f;
	} else {
		b->data = xmalloc(LB_BUF_SIZE);
	}
	b->off = b->len = 0;
}

void
lb_iobuf_put(struct lb_bufpool *bp, struct lb_iobuf *b)
{
	struct lb_conn_freebuf *f;

	if (b->data == NULL)
		return;
	if (bp->n < LB_BUF_POOL_KEEP) {
		f = (struct lb_conn_freebuf *)(void *)b->data;
		f->next = bp->free;
		bp->free = f;
		bp->n++;
	} else {
		free(b->data);
	}
	b->data = NULL;
	b->off = b->len = 0;
}

void
lb_iobuf_shrink(struct lb_bufpool *bp, unsigned keep)
{
	struct lb_conn_freebuf *f;

	while (bp->n > keep && (f = bp->free) != NULL) {
		bp->free = f->next;
		bp->n--;
		free(f);
	}
}

void
lb_iobuf_settle(struct lb_bufpool *bp, struct lb_iobuf *b)
{
	if (b->data != NULL && b->off == b->len)
		lb_iobuf_put(bp, b);
}

void
lb_iobuf_compact(struct lb_iobuf *b)
{
	if (b->data == NULL || b->off == 0)
		return;
	memmove(b->data, b->data + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

/* Client I/O */

long
lb_conn_recv(struct lb_conn *c, struct lb_iobuf *b)
{
	size_t got, want;
	ssize_t n;
	int e;

	lb_iobuf_get(&c->w->bufs, b);
	if (b->len == LB_BUF_SIZE)
		lb_iobuf_compact(b);
	if (b->len == LB_BUF_SIZE)
		return -ENOBUFS;
	if (c->ssl == NULL) {
		want = LB_BUF_SIZE - b->len;
		n = recv(c->fd, b->data + b->len, want, 0);
		if (n > 0) {
			/*
			 * A short read emptied the socket: the next read
			 * would only say EAGAIN, one syscall per request
			 * spared. Level-triggered epoll reports what arrives
			 * meanwhile.
			 */
			if ((size_t)n < want)
				c->rd_ready = false;
			b->len += (uint32_t)n;
			return n;
		}
		if (n == 0)
			return 0;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			c->rd_ready = false;
			return -EAGAIN;
		}
		return -errno;
	}
	ERR_clear_error();
	if (SSL_read_ex(c->ssl, b->data + b->len, LB_BUF_SIZE - b->len, &got) ==
	    1) {
		b->len += (uint32_t)got;
		return (long)got;
	}
	switch ((e = SSL_get_error(c->ssl, 0))) {
	case SSL_ERROR_WANT_READ:
		c->rd_ready = false;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->tls_want_write = true;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		/* EOF without close_notify: a plain close to us. */
		return errno == 0 ? 0 : -errno;
	default:
		return -EPROTO;
	}
}

static long
lb_conn_send_tls(struct lb_conn *c, const struct iovec *iov, int n)
{
	long total = 0;
	size_t put;
	int i, e;

	for (i = 0; i < n; i++) {
		if (iov[i].iov_len == 0)
			continue;
		ERR_clear_error();
		if (SSL_write_ex(
		        c->ssl, iov[i].iov_base, iov[i].iov_len, &put) == 1) {
			total += (long)put;
			if (put < iov[i].iov_len)
				break;
			continue;
		}
		e = SSL_get_error(c->ssl, 0);
		if (total > 0)
			break;
		if (e == SSL_ERROR_WANT_WRITE) {
			c->wr_blocked = true;
			return -EAGAIN;
		}
		if (e == SSL_ERROR_WANT_READ)
			return -EAGAIN; /* renegotiation-like: wait for input */
		return -EPIPE;
	}
	return total;
}

long
lb_conn_sendv(struct lb_conn *c, const struct iovec *iov, int n)
{
	struct msghdr mh;
	ssize_t w;

	if (c->ssl != NULL)
		return lb_conn_send_tls(c, iov, n);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = (struct iovec *)(uintptr_t)iov;
	mh.msg_iovlen = (size_t)n;
	/* MSG_NOSIGNAL: a client gone away is an error code, not SIGPIPE. */
	w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w >= 0)
		return w;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		c->wr_blocked = true;
		return -EAGAIN;
	}
	return -errno;
}
