/*
 * lb_bconn.c - server connections of an lb worker: non-blocking connects,
 * writes to the server, and the keep-alive pool of idle connections per
 * server, found through a small open-addressing table keyed by the server
 * pointer.
 *
 * Invariants:
 *   - a connection is attached to one client (b->c) or parked idle in its
 *     server's list (b->idle), never both; a parked one holds its server
 *     reference but does not count as an active connection;
 *   - a parked connection keeps EV_READ armed: any event on it (EOF, RST,
 *     stray bytes) means it cannot carry a request any more, so it is
 *     closed;
 *   - closed connections are freed at the end of the loop iteration
 *     (ev_defer_free), since the same epoll batch may still name them.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb/lb_worker.h"
#include "lib/util.h"

struct lb_idle {
	struct lb_server *srv; /* weak: key; parked conns hold the refs */
	struct lb_bconn *head; /* borrowed: most recently parked first */
	unsigned n;
};

static size_t
lb_idle_slot(const struct lb_server *s, size_t cap)
{
	uintptr_t h = (uintptr_t)s;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 7) & (cap - 1);
}

static void
lb_idle_grow(struct lb_idle_set *is)
{
	struct lb_idle *old = is->tab;
	size_t oldcap = is->cap, i, j;

	is->cap = oldcap ? oldcap * 2 : 16;
	is->tab = xcalloc(is->cap, sizeof(*is->tab));
	is->used = 0;
	for (i = 0; i < oldcap; i++) {
		struct lb_bconn *b;

		if (old[i].srv == NULL || old[i].n == 0)
			continue; /* empty lists are dropped on rehash */
		j = lb_idle_slot(old[i].srv, is->cap);
		while (is->tab[j].srv != NULL)
			j = (j + 1) & (is->cap - 1);
		is->tab[j] = old[i];
		for (b = old[i].head; b != NULL; b = b->inext)
			b->idle = &is->tab[j];
		is->used++;
	}
	free(old);
}

static struct lb_idle *
lb_idle_find(struct lb_idle_set *is, struct lb_server *s, bool create)
{
	size_t i;

	if (is->cap == 0) {
		if (!create)
			return NULL;
		lb_idle_grow(is);
	}
	for (i = lb_idle_slot(s, is->cap); is->tab[i].srv != NULL;
	     i = (i + 1) & (is->cap - 1))
		if (is->tab[i].srv == s)
			return &is->tab[i];
	if (!create)
		return NULL;
	if (2 * (is->used + 1) > is->cap) {
		lb_idle_grow(is);
		return lb_idle_find(is, s, true);
	}
	is->tab[i].srv = s;
	is->used++;
	return &is->tab[i];
}

static void
lb_idle_unlink(struct lb_bconn *b)
{
	struct lb_idle *il = b->idle;

	if (il == NULL)
		return;
	if (b->iprev != NULL)
		b->iprev->inext = b->inext;
	else
		il->head = b->inext;
	if (b->inext != NULL)
		b->inext->iprev = b->iprev;
	b->inext = b->iprev = NULL;
	b->idle = NULL;
	il->n--;
}

static void
lb_bconn_destroy(struct ev_loop *loop, struct lb_bconn *b)
{
	lb_idle_unlink(b);
	ev_io_stop(loop, &b->io);
	close(b->fd);
	if (b->counted)
		lb_server_conn_end(b->srv);
	lb_server_unref(b->srv);
	ev_defer_free(loop, b, NULL);
}

static void
lb_bconn_io_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct lb_bconn *b = arg;
	struct lb_conn *c = b->c;
	socklen_t sl = sizeof(int);
	int err = 0;

	if (c == NULL) {
		lb_bconn_destroy(b->w->loop, b);
		return;
	}
	c->last_b_ms = ev_now_ms(c->loop);
	if (!b->connected) {
		if (getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
			err = errno;
		if (err == EINPROGRESS || err == EALREADY)
			return;
		if (err != 0) {
			lb_retry_fail(c,
			    err == ECONNREFUSED ? LB_FAIL_CONNECT_REFUSED :
			                          LB_FAIL_CONNECT_OTHER);
			return;
		}
		b->connected = true;
		if (c->l->conf.mode == LB_MODE_TCP)
			lb_tcp_connected(c);
		else
			lb_http_connected(c);
		return;
	}
	if (events & (EV_READ | EV_ERROR))
		c->brd_ready = true;
	if (events & EV_WRITE)
		c->bwr_blocked = false;
	if (c->state == LB_CS_TUNNEL || c->l->conf.mode == LB_MODE_TCP)
		lb_tcp_run(c);
	else
		lb_http_run_io(c);
}

int
lb_bconn_connect(struct lb_conn *c, struct lb_server *s)
{
	const struct sockaddr_storage *sa = lb_server_addr(s);
	struct lb_bconn *b;
	socklen_t sl;
	int fd, one = 1;

	fd = socket(
	    sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sl = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	                                 sizeof(struct sockaddr_in);
	if (connect(fd, (const struct sockaddr *)sa, sl) == -1 &&
	    errno != EINPROGRESS) {
		int e = -errno;

		close(fd);
		return e;
	}
	b = xcalloc(1, sizeof(*b));
	b->w = c->w;
	b->fd = fd;
	b->srv = s;
	lb_server_ref(s);
	b->c = c;
	lb_server_conn_begin(s);
	b->counted = true;
	if (c->l->pconf.send_proxy == LB_SEND_PROXY_V1)
		b->pplen = (uint8_t)lb_proxyproto_build_v1(
		    (char *)b->pp, &c->peer, &c->local);
	else if (c->l->pconf.send_proxy == LB_SEND_PROXY_V2)
		b->pplen =
		    (uint8_t)lb_proxyproto_build_v2(b->pp, &c->peer, &c->local);
	ev_io_init(&b->io, fd, lb_bconn_io_cb, b);
	c->b = b;
	c->brd_ready = false;
	c->bwr_blocked = false;
	c->l->st.backend_connects++;
	if (ev_io_start(c->loop, &b->io, EV_WRITE) < 0)
		return -EIO; /* caller releases c->b */
	return 0;
}

long
lb_bconn_sendv(struct lb_conn *c, const struct iovec *iov, int n)
{
	struct msghdr mh;
	ssize_t w;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = (struct iovec *)(uintptr_t)iov;
	mh.msg_iovlen = (size_t)n;
	w = sendmsg(c->b->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w >= 0)
		return w;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		c->bwr_blocked = true;
		return -EAGAIN;
	}
	return -errno;
}

void
lb_bconn_set_interest(struct lb_conn *c, unsigned ev)
{
	if (c->b != NULL)
		ev_io_start(
		    c->loop, &c->b->io, c->b->connected ? ev : EV_WRITE);
}

struct lb_bconn *
lb_bconn_take_idle(struct lb_conn *c, struct lb_server *s, bool idempotent)
{
	struct lb_idle *il = lb_idle_find(&c->w->idle, s, false);
	uint64_t now = ev_now_ms(c->loop);
	struct lb_bconn *b;

	while (il != NULL && (b = il->head) != NULL) {
		lb_idle_unlink(b);
		if (now - b->idle_ms > LB_IDLE_MAX_MS ||
		    (!idempotent && now - b->idle_ms > LB_IDLE_SAFE_MS)) {
			lb_bconn_destroy(c->loop, b);
			continue;
		}
		b->c = c;
		b->reused = true;
		lb_server_conn_begin(s);
		b->counted = true;
		c->b = b;
		c->brd_ready = false;
		c->bwr_blocked = false;
		return b;
	}
	return NULL;
}

void
lb_bconn_release(struct lb_conn *c, bool reuse)
{
	struct lb_bconn *b = c->b;
	struct lb_idle *il;

	if (b == NULL)
		return;
	c->b = NULL;
	b->c = NULL;
	if (b->counted) {
		lb_server_conn_end(b->srv);
		b->counted = false;
	}
	if (reuse && b->connected && !lb_listener_stopping(c->w) &&
	    c->l->pconf.keepalive > 0) {
		il = lb_idle_find(&c->w->idle, b->srv, true);
		if (il->n < c->l->pconf.keepalive) {
			b->idle = il;
			b->inext = il->head;
			b->iprev = NULL;
			if (il->head != NULL)
				il->head->iprev = b;
			il->head = b;
			il->n++;
			b->idle_ms = ev_now_ms(c->loop);
			ev_io_start(c->loop, &b->io, EV_READ);
			lb_conn_queue_kick(c->l);
			return;
		}
	}
	lb_bconn_destroy(c->loop, b);
	lb_conn_queue_kick(c->l);
}

size_t
lb_bconn_close_idle_server(struct lb_worker *w, struct lb_server *s)
{
	struct lb_idle *il = lb_idle_find(&w->idle, s, false);
	size_t n = 0;

	while (il != NULL && il->head != NULL) {
		lb_bconn_destroy(w->loop, il->head);
		n++;
	}
	return n;
}

void
lb_bconn_close_idle_all(struct lb_worker *w)
{
	struct lb_idle_set *is = &w->idle;
	size_t i;

	for (i = 0; i < is->cap; i++)
		while (is->tab[i].head != NULL)
			lb_bconn_destroy(w->loop, is->tab[i].head);
}

void
lb_bconn_fini(struct lb_worker *w)
{
	lb_bconn_close_idle_all(w);
	free(w->idle.tab);
	memset(&w->idle, 0, sizeof(w->idle));
}
