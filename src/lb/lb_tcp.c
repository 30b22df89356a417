/*
 * lb_tcp.c - the L4 data path: a bidirectional byte relay between a client
 * and a server, used for listeners in mode tcp and, in mode http, after a
 * 101 Switching Protocols (WebSocket and other upgrades).
 *
 * Each direction copies through the connection's buffers (in for client
 * to server, rb for server to client). With the listener's splice option,
 * a direction that has moved LB_SPLICE_AFTER bytes with neither end TLS
 * switches to splice(2) through its own pipe, so bulk bytes never cross
 * user space and short interactive connections never pay for two extra
 * descriptors; the pipe is grown to LB_TCP_PIPE_SIZE and filled while it
 * has room, so a slow destination does not stall reading the source.
 * Copying is the default because it measured faster on loopback and veth:
 * spliced pages reach the receiver cold in cache, copied ones warm
 * (bench/lb_tcp.sh: copy 1.1-1.5x HAProxy, splice 0.86-1.2x). Splice pays
 * where the copies are what costs, between real NICs.
 *
 * Half-close is relayed: EOF from one side becomes shutdown(SHUT_WR) on the
 * other once everything before it was delivered; the connection ends when
 * both directions are shut, or at the first error, or after client_timeout
 * without traffic either way.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "lb/lb_worker.h"
#include "lib/util.h"

#define LB_TCP_PIPE_SIZE (256 * 1024)
#define LB_TCP_ROUNDS    16 /* pump rounds per event: fairness */

void
lb_tcp_start(struct lb_conn *c)
{
	memset(&c->r, 0, sizeof(c->r));
	c->r.t_start_us = ev_now_us(c->loop);
	c->r.req_eom = true; /* no HTTP framing: nothing to wait for */
	c->nreq = 1;
	c->l->st.requests++;
	lb_conn_pstats(c)->requests++;
	lb_retry_budget_request(c->l, ev_now_ms(c->loop));
	lb_retry_dispatch(c, NULL, 0);
}

void
lb_tcp_connected(struct lb_conn *c)
{
	c->r.t_conn_us = ev_now_us(c->loop);
	lb_server_passive_ok(c->b->srv);
	lb_tcp_tunnel(c);
}

void
lb_tcp_tunnel(struct lb_conn *c)
{
	struct lb_tunnel *t = xcalloc(1, sizeof(*t));

	t->up.pipe[0] = t->up.pipe[1] = -1;
	t->down.pipe[0] = t->down.pipe[1] = -1;
	t->up.eof = c->client_eof;
	c->tun = t;
	c->state = LB_CS_TUNNEL;
	c->rd_ready = true;
	c->brd_ready = true;
	c->last_c_ms = c->last_b_ms = ev_now_ms(c->loop);
	lb_tcp_run(c);
}

static void
lb_tcp_dir_free(struct lb_tunnel_dir *d)
{
	if (d->pipe[0] != -1) {
		close(d->pipe[0]);
		close(d->pipe[1]);
		d->pipe[0] = d->pipe[1] = -1;
	}
}

void
lb_tcp_free(struct lb_conn *c)
{
	if (c->tun == NULL)
		return;
	lb_tcp_dir_free(&c->tun->up);
	lb_tcp_dir_free(&c->tun->down);
	free(c->tun);
	c->tun = NULL;
}

/*
 * Open d's pipe and grow it to LB_TCP_PIPE_SIZE: one splice(2) then moves
 * up to that much, where the default 64 KiB pipe needed a pair of calls
 * per 64 KiB, and the pipe can read ahead while the destination is slow.
 * Not larger: a slow peer pins a full pipe of pages per direction. Growing
 * fails past fs.pipe-user-pages-soft without CAP_SYS_RESOURCE; the relay
 * then works with whatever size it got.
 */
static int
lb_tcp_pipe_open(struct lb_tunnel_dir *d)
{
	int sz;

	if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		d->pipe[0] = d->pipe[1] = -1;
		return -ENFILE;
	}
	(void)fcntl(d->pipe[1], F_SETPIPE_SZ, LB_TCP_PIPE_SIZE);
	sz = fcntl(d->pipe[1], F_GETPIPE_SZ);
	d->pipesz = sz > 0 ? (size_t)sz : 64 * 1024;
	return 0;
}

/* Fill the pipe from in. Returns 1 on progress, 0 if not, -errno. */
static int
lb_tcp_splice_in(struct lb_tunnel_dir *d, int in, bool *rd_ready)
{
	ssize_t n;

	if (d->eof || !*rd_ready || d->full || d->inpipe >= d->pipesz)
		return 0;
	n = splice(in, NULL, d->pipe[1], NULL, d->pipesz - d->inpipe,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n == -1 && errno == EAGAIN) {
		/*
		 * EAGAIN means an empty source or a pipe out of slots (a slot
		 * holds one page or less). Into an empty pipe it can only be
		 * the source; otherwise stop filling until the pipe drains.
		 */
		if (d->inpipe == 0)
			*rd_ready = false;
		else
			d->full = true;
		return 0;
	}
	if (n == -1)
		return -errno;
	if (n == 0)
		d->eof = true;
	d->inpipe += (size_t)n;
	return 1;
}

/*
 * Move bytes from in to out through d's pipe, reading ahead into it while
 * out is slow. Returns 1 on progress, 0 when blocked, -errno on an error of
 * either end (-EPIPE marks the destination, others the source). Spliced
 * bytes count like copied ones, when they leave the pipe: *st_bytes is the
 * listener's bytes_in or bytes_out for this direction.
 */
static int
lb_tcp_splice(struct lb_conn *c, struct lb_tunnel_dir *d, int in, int out,
    bool *rd_ready, bool *wr_blocked, uint64_t *st_bytes)
{
	int progress = 0, moved;
	ssize_t n;

	if (d->pipe[0] == -1 && lb_tcp_pipe_open(d) < 0)
		return -ENFILE;
	for (int i = 0; i < LB_TCP_ROUNDS; i++) {
		if ((moved = lb_tcp_splice_in(d, in, rd_ready)) < 0)
			return moved;
		if (d->inpipe > 0 && !*wr_blocked) {
			n = splice(d->pipe[0], NULL, out, NULL, d->inpipe,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n == -1 && errno == EAGAIN) {
				*wr_blocked = true;
			} else if (n <= 0) {
				return -EPIPE;
			} else {
				d->inpipe -= (size_t)n;
				d->full = d->full && d->inpipe > 0;
				d->bytes += (uint64_t)n;
				*st_bytes += (uint64_t)n;
				c->l->st.spliced_bytes += (uint64_t)n;
				moved = 1;
			}
		}
		if (!moved)
			break;
		progress = 1;
	}
	return progress;
}

static bool
lb_tcp_can_splice(const struct lb_conn *c, const struct lb_tunnel_dir *d,
    const struct lb_iobuf *buf)
{
	return c->l->conf.splice && c->ssl == NULL &&
	    d->bytes >= LB_SPLICE_AFTER && lb_iobuf_avail(buf) == 0;
}

/*
 * The two directions share one pump; `up` picks the side: client to server
 * (buffer in, PROXY header first, TLS on the source) or server to client
 * (buffer rb, TLS on the destination). The helpers below hold every
 * difference, so the pump itself reads the same both ways.
 */

/* Close c for a failure of its server side or its client side; -1. */
static int
lb_tcp_fail(struct lb_conn *c, bool server)
{
	if (server) {
		lb_server_stats(c->b->srv)->errors[LB_ERR_SERVER_RESET]++;
		lb_conn_close(c, LB_TERM_SERVER_ERROR);
	} else {
		lb_conn_close(c, LB_TERM_CLIENT_ABORT);
	}
	return -1;
}

static bool
lb_tcp_pending(const struct lb_conn *c, bool up)
{
	if (up)
		return c->b->ppoff < c->b->pplen || lb_iobuf_avail(&c->in) > 0;
	return lb_iobuf_avail(&c->rb) > 0;
}

/*
 * Write the direction's buffered bytes (up: after what is left of the
 * PROXY header). Returns the buffer bytes written, -EAGAIN or -errno.
 */
static long
lb_tcp_send(struct lb_conn *c, bool up)
{
	struct lb_bconn *b = c->b;
	struct lb_iobuf *buf = up ? &c->in : &c->rb;
	struct iovec iov[2];
	long w, pp = 0;
	int n = 0;

	if (up && b->ppoff < b->pplen)
		iov[n++] = (struct iovec){ b->pp + b->ppoff,
			(size_t)(b->pplen - b->ppoff) };
	if (lb_iobuf_avail(buf) > 0)
		iov[n++] =
		    (struct iovec){ buf->data + buf->off, lb_iobuf_avail(buf) };
	w = up ? lb_bconn_sendv(c, iov, n) : lb_conn_sendv(c, iov, n);
	if (w < 0)
		return w;
	if (up) {
		pp = MIN((long)(b->pplen - b->ppoff), w);
		b->ppoff += (uint8_t)pp;
		lb_server_stats(b->srv)->bytes_out += (uint64_t)w;
		c->last_b_ms = ev_now_ms(c->loop);
	} else {
		c->l->st.bytes_out += (uint64_t)w;
		c->last_c_ms = ev_now_ms(c->loop);
	}
	buf->off += (uint32_t)(w - pp);
	return w - pp;
}

/* Read into the direction's buffer. Returns bytes, 0 at EOF, -errno. */
static long
lb_tcp_recv(struct lb_conn *c, bool up)
{
	long w;

	if (up) {
		/* Through OpenSSL when the client is TLS; keeps rd_ready. */
		w = lb_conn_recv(c, &c->in);
		if (w >= 0) {
			c->l->st.bytes_in += (uint64_t)w;
			c->last_c_ms = ev_now_ms(c->loop);
		}
		return w;
	}
	/* Only called with rb empty, so a fresh buffer has all its room. */
	lb_iobuf_get(&c->w->bufs, &c->rb);
	w = recv(c->b->fd, c->rb.data + c->rb.len, LB_BUF_SIZE - c->rb.len, 0);
	if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->brd_ready = false;
		return -EAGAIN;
	}
	if (w < 0)
		return -errno;
	c->rb.len += (uint32_t)w;
	lb_server_stats(c->b->srv)->bytes_in += (uint64_t)w;
	c->last_b_ms = ev_now_ms(c->loop);
	return w;
}

/* The source said EOF and everything before it left: pass the FIN on. */
static void
lb_tcp_shut(struct lb_conn *c, bool up)
{
	if (up) {
		shutdown(c->b->fd, SHUT_WR);
		return;
	}
	if (c->ssl != NULL)
		(void)SSL_shutdown(c->ssl);
	shutdown(c->fd, SHUT_WR);
}

/* lb_tcp_splice for one direction, with its server byte counter. */
static int
lb_tcp_splice_dir(struct lb_conn *c, bool up)
{
	struct lb_server_stats *ss = lb_server_stats(c->b->srv);
	struct lb_tunnel_dir *d = up ? &c->tun->up : &c->tun->down;
	uint64_t before = d->bytes;
	int r;

	if (up)
		r = lb_tcp_splice(c, d, c->fd, c->b->fd, &c->rd_ready,
		    &c->bwr_blocked, &c->l->st.bytes_in);
	else
		r = lb_tcp_splice(c, d, c->b->fd, c->fd, &c->brd_ready,
		    &c->wr_blocked, &c->l->st.bytes_out);
	*(up ? &ss->bytes_out : &ss->bytes_in) += d->bytes - before;
	if (r > 0)
		*(up ? &c->last_c_ms : &c->last_b_ms) = ev_now_ms(c->loop);
	return r;
}

/*
 * Move bytes one way: drain the buffer, then splice or read more. Returns 1
 * on progress, 0 when blocked, -1 when the connection was closed. A failed
 * write is the destination's fault, a failed read the source's: up, those
 * are the server and the client.
 */
static int
lb_tcp_pump(struct lb_conn *c, bool up)
{
	struct lb_tunnel_dir *d = up ? &c->tun->up : &c->tun->down;
	struct lb_iobuf *buf = up ? &c->in : &c->rb;
	bool *src_ready = up ? &c->rd_ready : &c->brd_ready;
	bool *dst_blocked = up ? &c->bwr_blocked : &c->wr_blocked;
	int r, progress = 0;
	long w;

	for (int i = 0; i < LB_TCP_ROUNDS; i++) {
		if (lb_tcp_pending(c, up)) {
			if (*dst_blocked)
				return progress;
			if ((w = lb_tcp_send(c, up)) == -EAGAIN)
				return progress;
			if (w < 0)
				return lb_tcp_fail(c, up);
			d->bytes += (uint64_t)w;
			progress = 1;
			continue;
		}
		lb_iobuf_settle(&c->w->bufs, buf);
		if (d->inpipe == 0 && d->eof) {
			if (!d->shut)
				lb_tcp_shut(c, up);
			d->shut = true;
			return progress;
		}
		if (lb_tcp_can_splice(c, d, buf)) {
			r = lb_tcp_splice_dir(c, up);
			if (r == -EPIPE)
				return lb_tcp_fail(c, up);
			if (r < 0 && r != -ENFILE)
				return lb_tcp_fail(c, !up);
			if (r != -ENFILE) {
				/* Out of the pump once the pipe is idle. */
				if (r == 0 || d->inpipe > 0 || !d->eof)
					return progress | r;
				continue;
			}
		}
		if (!*src_ready)
			return progress;
		w = lb_tcp_recv(c, up);
		if (w == -EAGAIN || w == -ENOBUFS)
			return progress;
		if (w < 0)
			return lb_tcp_fail(c, !up);
		if (w == 0)
			d->eof = true;
		progress = 1;
	}
	return progress;
}

/* Before the tunnel exists (queued, connecting): buffer what comes. */
static void
lb_tcp_read_ahead(struct lb_conn *c)
{
	long n;

	while (c->rd_ready && !c->client_eof && lb_iobuf_room(&c->in) > 0) {
		n = lb_conn_recv(c, &c->in);
		if (n == -EAGAIN || n == -ENOBUFS)
			break;
		if (n < 0) {
			lb_conn_close(c, LB_TERM_CLIENT_ABORT);
			return;
		}
		if (n == 0)
			c->client_eof = true;
		c->l->st.bytes_in += (uint64_t)n;
	}
	lb_iobuf_settle(&c->w->bufs, &c->in);
	lb_conn_interest(c);
}

/*
 * Whether d's source should be polled for input. A pipe in use reads ahead
 * while it has room; a buffer only when the destination takes bytes (a
 * full buffer cannot take more, and polling it would spin).
 */
static bool
lb_tcp_wants_read(
    const struct lb_tunnel_dir *d, const struct lb_iobuf *buf, bool blocked)
{
	if (d->eof)
		return false;
	if (d->pipe[0] != -1 && lb_iobuf_avail(buf) == 0)
		return !d->full && d->inpipe < d->pipesz;
	return !blocked;
}

void
lb_tcp_run(struct lb_conn *c)
{
	struct lb_tunnel *t = c->tun;
	unsigned ev = 0;
	int up, down;

	if (c->state != LB_CS_TUNNEL) {
		lb_tcp_read_ahead(c);
		return;
	}
	/* Bounded: a bulk transfer must not starve the other connections. */
	for (int i = 0; i < 4; i++) {
		if ((up = lb_tcp_pump(c, true)) < 0)
			return;
		if ((down = lb_tcp_pump(c, false)) < 0)
			return;
		if (up == 0 && down == 0)
			break;
	}
	if (t->up.shut && t->down.shut) {
		lb_conn_close(c, LB_TERM_OK);
		return;
	}
	/*
	 * Bytes left in a buffer or pipe ask for POLLOUT even when the last
	 * write did not block: the rounds above are bounded, and this is what
	 * brings us back to finish them. One ev_io_start per side: the mask
	 * is usually unchanged, and then it costs no epoll_ctl.
	 */
	ev = lb_tcp_wants_read(&t->up, &c->in, c->bwr_blocked) ? EV_READ : 0;
	if (c->wr_blocked || c->tls_want_write || lb_iobuf_avail(&c->rb) > 0 ||
	    t->down.inpipe > 0)
		ev |= EV_WRITE;
	ev_io_start(c->loop, &c->io, ev);
	ev = lb_tcp_wants_read(&t->down, &c->rb, c->wr_blocked) ? EV_READ : 0;
	if (c->bwr_blocked || lb_iobuf_avail(&c->in) > 0 || t->up.inpipe > 0 ||
	    c->b->ppoff < c->b->pplen)
		ev |= EV_WRITE;
	ev_io_start(c->loop, &c->b->io, ev);
	lb_conn_arm(c);
}
