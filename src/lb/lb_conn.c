/*
 * lb_conn.c - client connections of an lb worker: lifetime, accept-time
 * setup (PROXY protocol, TLS handshake), epoll interest, one lazily re-armed
 * timer per connection, and the request queue used when every server is at
 * max_conn. Their bytes (buffers, reads, writes) are lb_conn_io.c's; server
 * connections are lb_bconn.c's.
 *
 * Invariants:
 *   - an idle keep-alive connection holds no buffer (lb_iobuf_settle hands
 *     empty buffers back), so 10,000 idle clients cost their structs only;
 *   - the timer is armed at or before the state's deadline and re-armed
 *     from lb_conn_timer_cb when activity pushed the deadline later: the hot
 *     path records timestamps instead of touching the heap on every read;
 *   - a closed connection is unlinked at once and freed at the end of the
 *     loop iteration (ev_defer_free).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb/lb_worker.h"
#include "lib/log.h"
#include "lib/util.h"

/* Interest */

void
lb_conn_interest(struct lb_conn *c)
{
	unsigned ev = 0;

	switch (c->state) {
	case LB_CS_TLS:
	case LB_CS_PROXY:
	case LB_CS_IDLE:
	case LB_CS_HEAD:
		ev = EV_READ;
		break;
	case LB_CS_QUEUED:
	case LB_CS_CONNECT:
	case LB_CS_EXCHANGE:
		/*
		 * Body bytes, or a pipelined request read ahead (parsed only
		 * after this exchange). Leaving EV_READ on spares two
		 * epoll_ctl calls per request; a full buffer is the
		 * back-pressure on a client that sends too far ahead.
		 */
		if (!c->client_eof && lb_iobuf_room(&c->in) > 0)
			ev = EV_READ;
		break;
	case LB_CS_TUNNEL:
		/* Read only what the server side can take now. */
		if (c->tun != NULL && !c->tun->up.eof && !c->bwr_blocked)
			ev = EV_READ;
		break;
	case LB_CS_LOCAL:
	case LB_CS_CLOSED:
		break;
	}
	if (c->wr_blocked || c->tls_want_write)
		ev |= EV_WRITE;
	if (c->state != LB_CS_CLOSED)
		ev_io_start(c->loop, &c->io, ev);
}

/* Timers */

static uint64_t
lb_conn_after(uint64_t from, uint64_t ms)
{
	return ms == 0 ? UINT64_MAX : from + ms;
}

static uint64_t
lb_conn_exchange_deadline(const struct lb_conn *c)
{
	const struct lb_listener_conf *lc = &c->l->conf;
	const struct lb_pool_conf *pc = &c->l->pconf;
	uint64_t d = UINT64_MAX, per_try;

	if (!c->r.req_eom)
		d = MIN(d,
		    lb_conn_after(
		        c->r.t_start_us / 1000, lc->request_timeout_ms));
	/* Only attempts that may be retried are cut short. */
	per_try = c->r.timed ? pc->per_try_timeout_ms : pc->server_timeout_ms;
	if (!c->r.resp_head)
		d = MIN(d, lb_conn_after(c->last_b_ms, per_try));
	else
		d = MIN(d, lb_conn_after(c->last_b_ms, pc->server_timeout_ms));
	if (c->wr_blocked)
		d = MIN(d, lb_conn_after(c->last_c_ms, lc->client_timeout_ms));
	return d;
}

static uint64_t
lb_conn_deadline(const struct lb_conn *c)
{
	const struct lb_listener_conf *lc = &c->l->conf;
	const struct lb_pool_conf *pc = &c->l->pconf;

	switch (c->state) {
	case LB_CS_TLS:
	case LB_CS_PROXY:
		return lb_conn_after(c->accept_ms, lc->header_timeout_ms);
	case LB_CS_IDLE:
	case LB_CS_LOCAL:
		return lb_conn_after(c->last_c_ms, lc->client_timeout_ms);
	case LB_CS_HEAD:
		return lb_conn_after(c->r.t_start_us / 1000,
		    MIN(lc->header_timeout_ms ? lc->header_timeout_ms :
		                                UINT64_MAX,
		        lc->request_timeout_ms ? lc->request_timeout_ms :
		                                 UINT64_MAX));
	case LB_CS_QUEUED:
		return lb_conn_after(c->r.queued_ms, pc->queue_timeout_ms);
	case LB_CS_CONNECT:
		return lb_conn_after(
		    c->r.t_try_us / 1000, pc->connect_timeout_ms);
	case LB_CS_EXCHANGE:
		return lb_conn_exchange_deadline(c);
	case LB_CS_TUNNEL:
		return lb_conn_after(
		    MAX(c->last_c_ms, c->last_b_ms), lc->client_timeout_ms);
	case LB_CS_CLOSED:
		break;
	}
	return UINT64_MAX;
}

void
lb_conn_arm(struct lb_conn *c)
{
	uint64_t d = lb_conn_deadline(c), now = ev_now_ms(c->loop);

	if (d == UINT64_MAX)
		return;
	if (!ev_timer_active(&c->timer) || d < c->timer.when_ms)
		ev_timer_start(c->loop, &c->timer, d > now ? d - now : 0);
}

static void
lb_conn_timer_cb(struct ev_timer *t, void *arg)
{
	struct lb_conn *c = arg;
	uint64_t d = lb_conn_deadline(c), now = ev_now_ms(c->loop);

	if (d == UINT64_MAX)
		return;
	if (d > now) {
		ev_timer_start(c->loop, t, d - now);
		return;
	}
	switch (c->state) {
	case LB_CS_TLS:
	case LB_CS_PROXY:
		lb_conn_close(c, LB_TERM_HEADER_TIMEOUT);
		break;
	case LB_CS_IDLE:
	case LB_CS_LOCAL:
	case LB_CS_TUNNEL:
		lb_conn_close(c, LB_TERM_CLIENT_TIMEOUT);
		break;
	case LB_CS_QUEUED:
		lb_conn_dequeue(c);
		lb_conn_pstats(c)->errors[LB_ERR_QUEUE_TIMEOUT]++;
		lb_http_local(c, 503, NULL, LB_TERM_QUEUE_TIMEOUT);
		break;
	case LB_CS_CONNECT:
		lb_retry_fail(c, LB_FAIL_CONNECT_TIMEOUT);
		break;
	default:
		lb_http_timeout(c);
		break;
	}
}

/* Lifetime */

unsigned
lb_conn_count(const struct lb_worker *w)
{
	return w->conns.n;
}

static void
lb_conn_proxy_step(struct lb_conn *c)
{
	uint8_t peek[LB_PROXYPROTO_V2_HDR + 216 + 64];
	struct lb_proxyproto_info pi;
	ssize_t n;
	int hl;

	/*
	 * Peek, so that bytes after the header (a TLS ClientHello, a request)
	 * stay in the socket for whoever reads next.
	 */
	n = recv(c->fd, peek, sizeof(peek), MSG_PEEK);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		lb_conn_close(c, LB_TERM_CLIENT_ABORT);
		return;
	}
	hl = lb_proxyproto_parse(peek, (size_t)n, &pi);
	if (hl == 0 && (size_t)n == sizeof(peek))
		hl = -EPROTO; /* cannot grow: a v2 TLV block too large */
	if (hl < 0) {
		c->l->st.proxyproto_errors[pi.err]++;
		lb_conn_close(c, LB_TERM_PROXYPROTO);
		return;
	}
	if (hl == 0)
		return;
	if (recv(c->fd, peek, (size_t)hl, 0) != hl) {
		lb_conn_close(c, LB_TERM_CLIENT_ABORT);
		return;
	}
	if (!pi.local) {
		c->peer = pi.src;
		c->local = pi.dst;
	}
	lb_conn_begin(c);
}

static void
lb_conn_tls_step(struct lb_conn *c)
{
	bool want_write = false;
	int r;

	c->tls_want_write = false;
	r = lb_tls_handshake(c->ssl, &want_write);
	if (r == -EAGAIN) {
		/* A stalled handshake ends at header_timeout, as a head does.
		 */
		c->tls_want_write = want_write;
		lb_conn_interest(c);
		lb_conn_arm(c);
		return;
	}
	if (r < 0) {
		c->l->st.tls_handshake_errors++;
		lb_conn_close(c, LB_TERM_TLS);
		return;
	}
	c->rd_ready = true; /* records may already sit in OpenSSL's buffer */
	lb_conn_mode_start(c);
}

/* PROXY header done (or not expected): TLS, then the mode's first step. */
void
lb_conn_begin(struct lb_conn *c)
{
	if (c->l->tls != NULL) {
		c->tls = c->l->tls;
		lb_tls_ref(c->tls);
		if ((c->ssl = lb_tls_ssl_new(c->tls, c->fd)) == NULL) {
			c->l->st.tls_handshake_errors++;
			lb_conn_close(c, LB_TERM_TLS);
			return;
		}
		c->state = LB_CS_TLS;
		lb_conn_tls_step(c);
		return;
	}
	lb_conn_mode_start(c);
}

void
lb_conn_mode_start(struct lb_conn *c)
{
	if (c->l->conf.mode == LB_MODE_TCP)
		lb_tcp_start(c);
	else
		lb_http_start(c);
}

static void
lb_conn_io_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct lb_conn *c = arg;

	if (events & (EV_READ | EV_ERROR))
		c->rd_ready = true;
	if (events & EV_WRITE)
		c->wr_blocked = false;
	c->last_c_ms = ev_now_ms(c->loop);
	switch (c->state) {
	case LB_CS_PROXY:
		lb_conn_proxy_step(c);
		break;
	case LB_CS_TLS:
		lb_conn_tls_step(c);
		break;
	case LB_CS_CLOSED:
		break;
	default:
		if (c->l->conf.mode == LB_MODE_TCP || c->state == LB_CS_TUNNEL)
			lb_tcp_run(c);
		else
			lb_http_run_io(c);
		break;
	}
}

struct lb_conn *
lb_conn_new(struct lb_listener *l, int fd, const struct sockaddr_storage *peer)
{
	struct lb_conn *c = xcalloc(1, sizeof(*c));
	socklen_t sl = sizeof(c->local);
	int one = 1;

	c->l = l;
	l->refs++;
	l->nconn++;
	c->w = l->w;
	c->loop = l->loop;
	c->fd = fd;
	c->peer = *peer;
	if (getsockname(fd, (struct sockaddr *)&c->local, &sl) == -1)
		memset(&c->local, 0, sizeof(c->local));
	/* Responses leave in one writev; Nagle would only delay them. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->accept_ms = c->last_c_ms = c->last_b_ms = ev_now_ms(c->loop);
	ev_io_init(&c->io, fd, lb_conn_io_cb, c);
	ev_timer_init(&c->timer, lb_conn_timer_cb, c);
	if ((c->next = c->w->conns.list) != NULL)
		c->next->prev = c;
	c->w->conns.list = c;
	c->w->conns.n++;
	if (l->conf.accept_proxy) {
		c->state = LB_CS_PROXY;
		lb_conn_interest(c);
		lb_conn_arm(c);
	} else {
		lb_conn_begin(c);
	}
	return c;
}

void
lb_conn_close(struct lb_conn *c, enum lb_term term)
{
	struct lb_listener *l = c->l;
	struct lb_worker *w = c->w;

	if (c->state == LB_CS_CLOSED)
		return;
	l->st.term[term]++;
	if (c->state == LB_CS_QUEUED)
		lb_conn_dequeue(c);
	if (l->conf.access_log && l->conf.mode == LB_MODE_TCP &&
	    c->r.t_start_us != 0) {
		lb_log_tcp(c, term);
	} else if (l->conf.access_log && c->tun != NULL) {
		c->r.term = term;
		lb_log_request(c);
	}
	if (c->b != NULL)
		lb_bconn_release(c, false);
	lb_tcp_free(c);
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl); /* best effort close_notify */
		SSL_free(c->ssl);
		c->ssl = NULL;
		lb_tls_unref(c->tls);
	}
	ev_io_stop(c->loop, &c->io);
	ev_timer_stop(c->loop, &c->timer);
	close(c->fd);
	lb_iobuf_put(&w->bufs, &c->in);
	lb_iobuf_put(&w->bufs, &c->hb);
	lb_iobuf_put(&w->bufs, &c->rb);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns.list = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	w->conns.n--;
	c->state = LB_CS_CLOSED;
	l->nconn--;
	ev_defer_free(c->loop, c, NULL);
	lb_listener_unref(l);
	lb_listener_conn_gone(w);
}

void
lb_conn_stop(struct lb_worker *w, const struct lb_listener *l, bool force)
{
	struct lb_conn *c, *next;

	for (c = w->conns.list; c != NULL; c = next) {
		next = c->next;
		if (l != NULL && c->l != l)
			continue;
		c->closing = true;
		if (force)
			lb_conn_close(c, LB_TERM_STOPPING);
		else if (c->state == LB_CS_IDLE && lb_iobuf_avail(&c->in) == 0)
			lb_conn_close(c, LB_TERM_CLIENT_CLOSE);
	}
}

void
lb_conn_server_down(struct lb_worker *w, struct lb_server *s)
{
	struct lb_conn *c, *next;
	size_t n = lb_bconn_close_idle_server(w, s);

	for (c = w->conns.list; c != NULL; c = next) {
		next = c->next;
		if (c->b == NULL || c->b->srv != s)
			continue;
		n++;
		if (c->l->conf.mode == LB_MODE_HTTP && !c->r.resp_head &&
		    !c->r.resp_started && !c->r.hb_client &&
		    lb_iobuf_avail(&c->rb) == 0)
			lb_retry_fail(c,
			    c->state == LB_CS_CONNECT ? LB_FAIL_CONNECT_OTHER :
			                                LB_FAIL_RESET);
		else
			lb_conn_close(c, LB_TERM_SERVER_ERROR);
	}
	lb_server_stats(s)->marked_down_cut += n;
	if (n > 0)
		log_notice("marked down: connections cut", "server=%s n=%zu",
		    log_q(lb_server_name(s)), n);
}

/* Queue (every server at max_conn) */

void
lb_conn_dequeue(struct lb_conn *c)
{
	struct lb_listener *l = c->l;
	struct lb_conn **pp;

	for (pp = &l->qhead; *pp != NULL; pp = &(*pp)->qnext) {
		if (*pp != c)
			continue;
		*pp = c->qnext;
		if (l->qtail == c) {
			struct lb_conn *t = l->qhead;

			while (t != NULL && t->qnext != NULL)
				t = t->qnext;
			l->qtail = t;
		}
		c->qnext = NULL;
		l->nqueue--;
		c->w->conns.nqueued--;
		return;
	}
}

/*
 * A server slot may have freed up: the oldest waiter of every listener on
 * the same pool tries again. One waiter each, so a kick costs a bounded
 * number of picks.
 */
void
lb_conn_queue_kick(struct lb_listener *from)
{
	struct lb_listener *l;
	struct lb_conn *c;

	if (from->w->conns.nqueued == 0)
		return;
	for (l = lb_listener_first(from->w); l != NULL; l = l->next) {
		if (l->qhead == NULL || l->pool != from->pool)
			continue;
		c = l->qhead;
		lb_conn_dequeue(c);
		lb_retry_dispatch(c, NULL, 0);
	}
}

bool
lb_conn_enqueue(struct lb_conn *c)
{
	struct lb_listener *l = c->l;

	if (l->nqueue >= l->pconf.max_queue)
		return false;
	c->qnext = NULL;
	if (l->qtail != NULL)
		l->qtail->qnext = c;
	else
		l->qhead = c;
	l->qtail = c;
	l->nqueue++;
	c->w->conns.nqueued++;
	if (!c->r.queued_once)
		c->r.queued_ms = ev_now_ms(c->loop);
	c->r.queued_once = true;
	c->state = LB_CS_QUEUED;
	lb_conn_arm(c);
	return true;
}

struct lb_pool *
lb_conn_pool(const struct lb_conn *c)
{
	return c->l->pool;
}

struct lb_pool_stats *
lb_conn_pstats(const struct lb_conn *c)
{
	return c->l->pool != NULL ? lb_pool_stats(c->l->pool) :
	                            &c->w->conns.pstats_sink;
}
