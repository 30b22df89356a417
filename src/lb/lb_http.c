/*
 * lb_http.c - the L7 data path: HTTP/1.x requests from a client connection
 * forwarded one at a time to servers picked from the listener's pool.
 *
 * One exchange at a time per client (pipelined requests wait in the socket
 * until the previous response is complete). Heads are parsed strictly with
 * http1.h and copied once: the request head is rewritten into hb (hop-by-hop
 * headers dropped, X-Forwarded-* added) and kept there until the first byte
 * of a response, so a failed attempt can be replayed on another server; the
 * response head is then rewritten into the same buffer. Bodies are never
 * copied: they go from the buffer they were read into straight to the other
 * side with writev, framed by Content-Length or by the chunked scanner
 * (http1_chunked_feed) so that the proxy always knows where a message ends
 * and a connection can be reused.
 *
 * Invariants:
 *   - r.req_fwd bytes at in.off are body bytes already framed; bytes after
 *     them are unread body (or, once req_eom, the next request);
 *   - r.resp_fwd bytes at rb.off are response bytes framed and ready for the
 *     client; bytes after a complete response are junk and forbid reuse;
 *   - a server connection goes back to the pool only when both messages
 *     ended exactly and the server did not ask to close.
 *
 * Request bytes that become ready while the worker runs the callbacks of an
 * epoll batch are held until the batch is done (lb_http_hold), then sent
 * together (lb_http_flush, one ev_defer per batch), in one io_uring
 * submission when the kernel allows (lb_uring.h). A server process woken by
 * the first of them then finds the others too, where sending each at once
 * woke it (and let it preempt the worker) once per request: with
 * bench/lb.sh, haven's req/s rises about 10 % and the context switches of
 * the whole machine fall by more than half. Responses are not held:
 * holding them measured slower. A held connection is never freed before
 * the flush, since deferred frees run after deferred callbacks.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lb/lb_uring.h"
#include "lb/lb_worker.h"
#include "lib/log.h"
#include "lib/util.h"

/* Responses */

static void
lb_http_bad_response(struct lb_conn *c, enum http1_err e)
{
	c->l->st.bad_responses[e]++;
	lb_server_stats(c->b->srv)->errors[LB_ERR_BAD_RESPONSE]++;
	lb_conn_pstats(c)->errors[LB_ERR_BAD_RESPONSE]++;
	lb_server_passive_fail(c->b->srv, HC_R_PROTOCOL_ERROR);
	lb_http_local(c, 502, NULL, LB_TERM_BAD_RESPONSE);
}

/* Framing of the response body (RFC 9112 §6.3). */
static void
lb_http_resp_framing(struct lb_conn *c, const struct http1_resp *resp)
{
	struct lb_req *r = &c->r;

	if (r->method == HTTP1_M_HEAD || resp->status == 204 ||
	    resp->status == 304 || resp->status == 101) {
		r->resp_eom = true;
	} else if (resp->m.chunked) {
		r->resp_chunked = true;
		http1_chunked_init(&r->resp_ck);
	} else if (resp->m.content_length >= 0) {
		r->resp_left = resp->m.content_length;
		r->resp_eom = r->resp_left == 0;
	} else {
		r->resp_close = true;
		r->keep_alive = false; /* the end is the server's FIN */
	}
}

static void
lb_http_resp_final(struct lb_conn *c, const struct http1_resp *resp)
{
	struct lb_req *r = &c->r;
	struct lb_server *s = c->b->srv;
	uint64_t now = ev_now_us(c->loop);

	r->status = resp->status;
	r->t_resp_us = now;
	r->b_keepalive = resp->m.keep_alive;
	if (r->req_head_sent < r->req_head_len || !r->req_eom ||
	    r->req_fwd > 0) {
		/* Answered early: stop sending, close both after. */
		r->req_abandon = r->req_head_sent < r->req_head_len;
		r->keep_alive = false;
	}
	if (resp->status == 101)
		r->tunnel_after = true;
	lb_http_resp_framing(c, resp);
	mx_hist_observe_us(&lb_server_stats(s)->latency, now - r->t_try_us);
	mx_hist_observe_us(&lb_conn_pstats(c)->latency, now - r->t_start_us);
	if (resp->status >= 500)
		lb_server_stats(s)->errors[LB_ERR_STATUS_5XX]++;
	lb_server_passive_status(s, resp->status);
	if (!lb_http_resp_head(c, resp, c->rb.data + c->rb.off)) {
		lb_http_bad_response(c, HTTP1_E_TOO_LARGE);
		return;
	}
	r->resp_head = true;
	c->rb.off += (uint32_t)resp->m.head_len;
}

/* Parse response heads in rb; 1xx go to the client as they are. */
static void
lb_http_parse_resp(struct lb_conn *c)
{
	struct http1_limits lim = { LB_BUF_SIZE, HTTP1_MAX_HDRS };
	struct http1_resp *resp = &c->w->http.resp;
	int r;

	while (
	    !c->r.resp_head && !c->r.hb_client && lb_iobuf_avail(&c->rb) > 0) {
		r = http1_parse_response(
		    c->rb.data + c->rb.off, lb_iobuf_avail(&c->rb), &lim, resp);
		if (r == HTTP1_AGAIN) {
			if (lb_iobuf_avail(&c->rb) < LB_BUF_SIZE)
				return;
			resp->m.err = HTTP1_E_TOO_LARGE;
			r = HTTP1_ERROR;
		}
		if (r == HTTP1_ERROR) {
			lb_http_bad_response(c, resp->m.err);
			return;
		}
		if (resp->status >= 200 || resp->status == 101) {
			if (resp->status == 101 && !c->r.upgrade) {
				lb_http_bad_response(c, HTTP1_E_BAD_STATUS);
				return;
			}
			lb_http_resp_final(c, resp);
			return;
		}
		/* 1xx interim: HTTP/1.0 clients do not get them. */
		c->r.req_abandon |= c->r.req_head_sent < c->r.req_head_len;
		c->hb.off = c->hb.len = 0;
		if (c->r.minor > 0) {
			lb_http_put(
			    &c->hb, c->rb.data + c->rb.off, resp->m.head_len);
			c->r.hb_client = true;
		}
		c->rb.off += (uint32_t)resp->m.head_len;
		c->r.req_head_len = c->r.req_head_sent = 0;
	}
}

static void
lb_http_scan_resp(struct lb_conn *c)
{
	struct lb_req *r = &c->r;
	const char *p = c->rb.data + c->rb.off + r->resp_fwd;
	size_t len = c->rb.len - c->rb.off - r->resp_fwd;
	long n;

	if (!r->resp_head || r->resp_eom || len == 0)
		return;
	if (r->resp_close) {
		r->resp_fwd += (uint32_t)len;
	} else if (r->resp_chunked) {
		n = http1_chunked_feed(&r->resp_ck, p, len, NULL, NULL);
		if (n < 0) {
			/* Part of it may be out: cut the client off. */
			c->l->st.bad_responses[r->resp_ck.err]++;
			lb_conn_pstats(c)->errors[LB_ERR_BAD_RESPONSE]++;
			r->term = LB_TERM_BAD_RESPONSE;
			r->keep_alive = false;
			r->b_keepalive = false;
			r->resp_eom = true;
			return;
		}
		r->resp_fwd += (uint32_t)n;
		r->resp_eom = r->resp_ck.done;
	} else {
		n = (long)MIN((int64_t)len, r->resp_left);
		r->resp_fwd += (uint32_t)n;
		r->resp_left -= n;
		r->resp_eom = r->resp_left == 0;
	}
}

/* Exchange */

/* Server closed or failed. Before any response byte it is a retryable
 * failure; after, the response is cut. */
static void
lb_http_server_gone(struct lb_conn *c, long err)
{
	struct lb_req *r = &c->r;

	if (!r->resp_head && !r->hb_client && lb_iobuf_avail(&c->rb) == 0 &&
	    !r->resp_started) {
		lb_retry_fail(c, LB_FAIL_RESET);
		return;
	}
	if (r->resp_head && r->resp_close && err == 0) {
		r->resp_eom = true;
		return;
	}
	lb_server_stats(c->b->srv)->errors[LB_ERR_SERVER_RESET]++;
	lb_conn_pstats(c)->errors[LB_ERR_SERVER_RESET]++;
	if (!r->resp_head)
		lb_http_bad_response(c, HTTP1_E_NONE);
	else
		lb_http_local(c, 502, NULL, LB_TERM_SERVER_ERROR);
}

static int lb_http_req_iov(struct lb_conn *c, struct iovec *iov);
static bool lb_http_req_sent(struct lb_conn *c, long w);

/* Zeroed memory is not enough: the queue's tail points at its head. */
void
lb_http_init(struct lb_http *h)
{
	h->held = NULL;
	h->held_tail = &h->held;
	h->in_io = false;
}

static void
lb_http_flush_sent(void *tag, long res)
{
	struct lb_conn *c = tag;

	if (c->state != LB_CS_CLOSED)
		(void)lb_http_req_sent(c, res);
}

/*
 * Send what the connections held during the batch wanted to send: all in
 * one io_uring submission when the ring is on, then let each one go on.
 */
static void
lb_http_flush(void *arg)
{
	struct lb_worker *w = arg;
	struct lb_http_send *sends = w->http.sends;
	struct lb_conn *c = w->http.held, *next;
	unsigned n = 0, i;
	int niov;

	w->http.held = NULL;
	w->http.held_tail = &w->http.held;
	for (; c != NULL; c = next) {
		next = c->hnext;
		c->hnext = NULL;
		c->held = false;
		if (c->state == LB_CS_CLOSED)
			continue;
		/* Without the ring (or past its depth): the plain way, now. */
		if (n == LB_URING_DEPTH || !lb_uring_init(&w->uring)) {
			lb_http_run(c);
			continue;
		}
		sends[n].c = c;
		memset(&sends[n].mh, 0, sizeof(sends[n].mh));
		sends[n].mh.msg_iov = sends[n].iov;
		niov = lb_http_req_iov(c, sends[n].iov);
		sends[n].mh.msg_iovlen = (size_t)niov;
		/* If not queued (not below the depth), the run below sends. */
		if (niov > 0)
			(void)lb_uring_sendmsg(
			    &w->uring, c->b->fd, &sends[n].mh, c);
		n++;
	}
	lb_uring_submit(&w->uring, lb_http_flush_sent);
	for (i = 0; i < n; i++)
		if (sends[i].c->state != LB_CS_CLOSED)
			lb_http_run(sends[i].c);
}

/* Queue c's request bytes for the end of the batch; false: send now. */
static bool
lb_http_hold(struct lb_conn *c)
{
	struct lb_http *h = &c->w->http;

	if (!h->in_io)
		return false;
	if (!c->held) {
		if (h->held == NULL)
			ev_defer(c->loop, lb_http_flush, c->w);
		c->held = true;
		*h->held_tail = c;
		h->held_tail = &c->hnext;
	}
	return true;
}

/* The request bytes due to the server, as iov; 0 when none can go now. */
static int
lb_http_req_iov(struct lb_conn *c, struct iovec *iov)
{
	struct lb_req *r = &c->r;
	struct lb_bconn *b = c->b;
	int n = 0;

	if (b == NULL || !b->connected || c->bwr_blocked || r->req_abandon)
		return 0;
	if (b->ppoff < b->pplen)
		iov[n++] = (struct iovec){ b->pp + b->ppoff,
			(size_t)(b->pplen - b->ppoff) };
	if (r->req_head_sent < r->req_head_len)
		iov[n++] = (struct iovec){ c->hb.data + r->req_head_sent,
			r->req_head_len - r->req_head_sent };
	if (r->req_fwd > 0)
		iov[n++] = (struct iovec){ c->in.data + c->in.off, r->req_fwd };
	return n;
}

/* Account for a send of lb_http_req_iov's bytes. Returns true on progress. */
static bool
lb_http_req_sent(struct lb_conn *c, long w)
{
	struct lb_req *r = &c->r;
	struct lb_bconn *b = c->b;
	size_t k;

	if (w == -EAGAIN) {
		c->bwr_blocked = true;
		return false;
	}
	if (w < 0) {
		lb_http_server_gone(c, w);
		return true;
	}
	c->last_b_ms = ev_now_ms(c->loop);
	lb_server_stats(b->srv)->bytes_out += (uint64_t)w;
	k = MIN((size_t)w, (size_t)(b->pplen - b->ppoff));
	b->ppoff += (uint8_t)k;
	w -= (long)k;
	k = MIN((size_t)w, (size_t)(r->req_head_len - r->req_head_sent));
	r->req_head_sent += (uint32_t)k;
	w -= (long)k;
	c->in.off += (uint32_t)w;
	r->req_fwd -= (uint32_t)w;
	r->req_body_sent += (uint64_t)w;
	return true;
}

/* Request head and body to the server. Returns true on progress. */
static bool
lb_http_to_server(struct lb_conn *c)
{
	struct iovec iov[3];
	int n;

	if ((n = lb_http_req_iov(c, iov)) == 0 || lb_http_hold(c))
		return false;
	return lb_http_req_sent(c, lb_bconn_sendv(c, iov, n));
}

static bool
lb_http_from_client(struct lb_conn *c)
{
	long n;

	if (!c->rd_ready || c->client_eof || lb_iobuf_room(&c->in) == 0)
		return false;
	n = lb_conn_recv(c, &c->in);
	if (n == -EAGAIN || n == -ENOBUFS)
		return false;
	if (n <= 0) {
		c->client_eof = true;
		/*
		 * A FIN after a whole request is a half-close: answer it. A
		 * reset means nobody is left to answer, so the server's work
		 * is abandoned now rather than at the response's first write.
		 */
		if (n == 0 && c->r.req_eom)
			return true;
		lb_conn_pstats(c)->errors[LB_ERR_CLIENT_ABORT]++;
		c->r.term = LB_TERM_CLIENT_ABORT;
		if (c->l->conf.access_log)
			lb_log_request(c);
		lb_conn_close(c, LB_TERM_CLIENT_ABORT);
		return true;
	}
	c->l->st.bytes_in += (uint64_t)n;
	c->last_c_ms = ev_now_ms(c->loop);
	lb_http_scan_req(c);
	return true;
}

static bool
lb_http_from_server(struct lb_conn *c)
{
	struct lb_bconn *b = c->b;
	ssize_t n;

	if (b == NULL || !b->connected || !c->brd_ready || c->r.resp_eom)
		return false;
	lb_iobuf_get(&c->w->bufs, &c->rb);
	if (c->rb.len == LB_BUF_SIZE)
		lb_iobuf_compact(&c->rb);
	if (c->rb.len == LB_BUF_SIZE)
		return false; /* the client is slow: wait for it */
	n = recv(b->fd, c->rb.data + c->rb.len, LB_BUF_SIZE - c->rb.len, 0);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->brd_ready = false;
		return false;
	}
	if (n <= 0) {
		lb_http_server_gone(c, n == 0 ? 0 : -errno);
		return true;
	}
	/* Short read: the socket is empty (see lb_conn_recv). */
	if ((size_t)n < LB_BUF_SIZE - c->rb.len)
		c->brd_ready = false;
	c->rb.len += (uint32_t)n;
	c->last_b_ms = ev_now_ms(c->loop);
	lb_server_stats(b->srv)->bytes_in += (uint64_t)n;
	if (!c->r.resp_head)
		lb_http_parse_resp(c);
	if (c->state == LB_CS_EXCHANGE)
		lb_http_scan_resp(c);
	return true;
}

static bool
lb_http_to_client(struct lb_conn *c)
{
	struct lb_req *r = &c->r;
	struct iovec iov[2];
	int n = 0;
	long w;
	size_t k;

	if (c->wr_blocked)
		return false;
	if (r->hb_client && c->hb.off < c->hb.len)
		iov[n++] = (struct iovec){ c->hb.data + c->hb.off,
			c->hb.len - c->hb.off };
	if (r->resp_fwd > 0)
		iov[n++] =
		    (struct iovec){ c->rb.data + c->rb.off, r->resp_fwd };
	if (n == 0)
		return false;
	w = lb_conn_sendv(c, iov, n);
	if (w == -EAGAIN)
		return false;
	if (w < 0) {
		lb_conn_pstats(c)->errors[LB_ERR_CLIENT_ABORT]++;
		r->term = LB_TERM_CLIENT_ABORT;
		if (c->l->conf.access_log)
			lb_log_request(c);
		lb_conn_close(c, LB_TERM_CLIENT_ABORT);
		return true;
	}
	r->resp_started = true;
	c->last_c_ms = ev_now_ms(c->loop);
	c->l->st.bytes_out += (uint64_t)w;
	r->bytes_out += (uint64_t)w;
	if (r->hb_client) {
		k = MIN((size_t)w, (size_t)(c->hb.len - c->hb.off));
		c->hb.off += (uint32_t)k;
		w -= (long)k;
		if (c->hb.off == c->hb.len) {
			r->hb_client = false;
			c->hb.off = c->hb.len = 0;
		}
	}
	c->rb.off += (uint32_t)w;
	r->resp_fwd -= (uint32_t)w;
	/* A 1xx went out: the next head may already be waiting in rb. */
	if (!r->resp_head && !r->hb_client)
		lb_http_parse_resp(c);
	if (c->state == LB_CS_EXCHANGE)
		lb_http_scan_resp(c);
	return true;
}

/* The exchange is over: log, pool the server connection, next request. */
static void
lb_http_finish(struct lb_conn *c)
{
	struct lb_req *r = &c->r;
	bool reuse, body_done;

	body_done = r->req_eom && r->req_fwd == 0 && !r->req_abandon;
	reuse = r->b_keepalive && body_done && !r->resp_close &&
	    lb_iobuf_avail(&c->rb) == 0 && r->term == LB_TERM_OK &&
	    c->l->pconf.send_proxy == LB_SEND_PROXY_NONE;
	lb_server_stats(c->b->srv)->responses++;
	c->l->st.responses++;
	if (c->l->conf.access_log)
		lb_log_request(c);
	lb_bconn_release(c, reuse);
	c->hb.off = c->hb.len = 0;
	lb_iobuf_put(&c->w->bufs, &c->hb);
	/* Junk after the response is dropped with rb. */
	lb_iobuf_put(&c->w->bufs, &c->rb);
	if (!r->keep_alive || !body_done || c->closing || c->client_eof) {
		shutdown(c->fd, SHUT_WR);
		lb_conn_close(c, r->term);
		return;
	}
	c->state = LB_CS_IDLE;
	c->last_c_ms = ev_now_ms(c->loop);
	c->l->st.term[LB_TERM_OK]++;
	lb_iobuf_settle(&c->w->bufs, &c->in);
	lb_conn_arm(c);
}

static bool
lb_http_exchange(struct lb_conn *c)
{
	bool progress = false;

	progress |= lb_http_to_server(c);
	if (c->state != LB_CS_EXCHANGE)
		return true;
	progress |= lb_http_from_client(c);
	if (c->state != LB_CS_EXCHANGE)
		return true;
	progress |= lb_http_from_server(c);
	if (c->state != LB_CS_EXCHANGE)
		return true;
	progress |= lb_http_to_client(c);
	if (c->state != LB_CS_EXCHANGE)
		return true;
	if (c->r.resp_head && !c->r.hb_client && c->r.tunnel_after) {
		lb_tcp_tunnel(c);
		return false;
	}
	if (c->r.resp_eom && c->r.resp_head && !c->r.hb_client &&
	    c->r.resp_fwd == 0) {
		lb_http_finish(c);
		return true;
	}
	return progress;
}

static unsigned
lb_http_server_interest(const struct lb_conn *c)
{
	unsigned ev = 0;

	if (c->b == NULL)
		return 0;
	if (!c->r.resp_eom && lb_iobuf_room(&c->rb) > 0)
		ev |= EV_READ;
	if (c->bwr_blocked)
		ev |= EV_WRITE;
	return ev;
}

void
lb_http_run(struct lb_conn *c)
{
	bool progress = true;

	if (c->in_run)
		return;
	c->in_run = true;
	while (progress && c->state != LB_CS_CLOSED) {
		switch (c->state) {
		case LB_CS_IDLE:
		case LB_CS_HEAD:
			progress = lb_http_read_head(c);
			break;
		case LB_CS_EXCHANGE:
			progress = lb_http_exchange(c);
			break;
		case LB_CS_LOCAL:
			lb_http_local_flush(c);
			progress = false;
			break;
		case LB_CS_TUNNEL:
			c->in_run = false;
			lb_tcp_run(c);
			return;
		default:
			progress = false;
			break;
		}
	}
	c->in_run = false;
	if (c->state == LB_CS_CLOSED)
		return;
	lb_conn_interest(c);
	if (c->state == LB_CS_EXCHANGE)
		lb_bconn_set_interest(c, lb_http_server_interest(c));
	lb_conn_arm(c);
}

void
lb_http_run_io(struct lb_conn *c)
{
	struct lb_http *h = &c->w->http;
	bool outer = !h->in_io;

	h->in_io = true;
	lb_http_run(c);
	if (outer)
		h->in_io = false;
}

void
lb_http_connected(struct lb_conn *c)
{
	c->r.t_conn_us = ev_now_us(c->loop);
	c->state = LB_CS_EXCHANGE;
	c->brd_ready = false;
	lb_http_run(c);
}

void
lb_http_timeout(struct lb_conn *c)
{
	struct lb_req *r = &c->r;
	uint64_t now = ev_now_ms(c->loop);
	const struct lb_listener_conf *lc = &c->l->conf;

	if (c->state == LB_CS_HEAD) {
		lb_http_local(c, 408, NULL, LB_TERM_HEADER_TIMEOUT);
		return;
	}
	if (!r->req_eom && lc->request_timeout_ms &&
	    now >= r->t_start_us / 1000 + lc->request_timeout_ms) {
		lb_http_local(c, 408, NULL, LB_TERM_REQUEST_TIMEOUT);
		return;
	}
	if (c->wr_blocked && lc->client_timeout_ms &&
	    now >= c->last_c_ms + lc->client_timeout_ms) {
		lb_conn_close(c, LB_TERM_CLIENT_TIMEOUT);
		return;
	}
	if (!r->resp_head && !r->hb_client && lb_iobuf_avail(&c->rb) == 0) {
		lb_retry_fail(c, LB_FAIL_TIMEOUT);
		return;
	}
	lb_server_stats(c->b->srv)->errors[LB_ERR_SERVER_TIMEOUT]++;
	lb_conn_pstats(c)->errors[LB_ERR_SERVER_TIMEOUT]++;
	lb_http_local(c, 504, NULL, LB_TERM_SERVER_TIMEOUT);
}
