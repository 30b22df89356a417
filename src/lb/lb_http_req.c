/*
 * req->c - the client side of an HTTP exchange: reading and parsing
 * request heads, framing request bodies (Content-Length or chunked), and
 * the responses haven makes itself (400, 408, 431, 502, 503, 504...).
 *
 * A request head is parsed only once it is complete in c->in; the parse
 * result is used at once and never kept across events. r.req_fwd counts
 * the body bytes at in.off already framed: what follows them is unread
 * body or, once req_eom, the next (pipelined) request.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lb/lb_worker.h"
#include "lib/util.h"

/* Local responses */

void
lb_http_local_flush(struct lb_conn *c)
{
	struct iovec iov;
	long w;

	while (c->hb.off < c->hb.len) {
		iov.iov_base = c->hb.data + c->hb.off;
		iov.iov_len = c->hb.len - c->hb.off;
		w = lb_conn_sendv(c, &iov, 1);
		if (w == -EAGAIN) {
			lb_conn_interest(c);
			lb_conn_arm(c);
			return;
		}
		if (w < 0)
			break;
		c->hb.off += (uint32_t)w;
		c->l->st.bytes_out += (uint64_t)w;
	}
	/* Let the client read the answer before the FIN. */
	shutdown(c->fd, SHUT_WR);
	lb_conn_close(c, c->r.term);
}

void
lb_http_local(
    struct lb_conn *c, int status, const char *body, enum lb_term term)
{
	char dflt[64];
	int n;

	if (c->l->conf.mode == LB_MODE_TCP || c->r.resp_started) {
		c->r.term = term;
		if (c->l->conf.access_log && c->l->conf.mode != LB_MODE_TCP)
			lb_log_request(c);
		lb_conn_close(c, term);
		return;
	}
	if (c->state == LB_CS_QUEUED)
		lb_conn_dequeue(c);
	lb_bconn_release(c, false);
	if (body == NULL) {
		snprintf(dflt, sizeof(dflt), "%s\n", http1_reason(status));
		body = dflt;
	}
	lb_iobuf_get(&c->w->bufs, &c->hb);
	n = snprintf(c->hb.data, LB_BUF_SIZE,
	    "HTTP/1.1 %d %s\r\ncontent-type: text/plain\r\n"
	    "content-length: %zu\r\nconnection: close\r\n\r\n%s",
	    status, http1_reason(status), strlen(body),
	    c->r.method == HTTP1_M_HEAD ? "" : body);
	c->hb.off = 0;
	c->hb.len = (uint32_t)MIN(n, LB_BUF_SIZE - 1);
	c->r.status = status;
	c->r.term = term;
	c->r.resp_started = true;
	c->r.resp_err_sent = true;
	c->state = LB_CS_LOCAL;
	if (c->l->conf.access_log && c->nreq > 0)
		lb_log_request(c);
	lb_http_local_flush(c);
}

/* Request intake */

void
lb_http_start(struct lb_conn *c)
{
	c->state = LB_CS_IDLE;
	c->rd_ready = true;
	lb_http_run(c);
}

static void
lb_http_reset_req(struct lb_conn *c)
{
	memset(&c->r, 0, sizeof(c->r));
	c->r.t_start_us = ev_now_us(c->loop);
	c->nreq++;
}

void
lb_http_scan_req(struct lb_conn *c)
{
	struct lb_req *r = &c->r;
	const char *p = c->in.data + c->in.off + r->req_fwd;
	size_t len = c->in.len - c->in.off - r->req_fwd;
	long n;

	if (r->req_eom || len == 0)
		return;
	if (r->req_chunked) {
		n = http1_chunked_feed(&r->req_ck, p, len, NULL, NULL);
		if (n < 0) {
			c->l->st.http_errors[r->req_ck.err]++;
			lb_http_local(c, 400, NULL, LB_TERM_BAD_REQUEST);
			return;
		}
		r->req_fwd += (uint32_t)n;
		r->req_eom = r->req_ck.done;
		return;
	}
	n = (long)MIN((int64_t)len, r->req_left);
	r->req_fwd += (uint32_t)n;
	r->req_left -= n;
	r->req_eom = r->req_left == 0;
}

static const char *
lb_http_hash_key(struct lb_conn *c, const struct http1_req *req, size_t *len)
{
	const struct http1_header *h;

	*len = 0;
	if (c->l->hash_header == NULL ||
	    (h = http1_find(&req->m, c->l->hash_header)) == NULL)
		return NULL;
	*len = h->value_len;
	return h->value;
}

/* Keep a (truncated) copy for the log: per request, so no printf. */
static void
lb_http_req_keep(char *dst, size_t cap, const char *src, size_t len)
{
	len = MIN(len, cap - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void
lb_http_request(struct lb_conn *c, const struct http1_req *req)
{
	struct lb_req *r = &c->r;
	const char *key;
	size_t klen;

	r->t_head_us = ev_now_us(c->loop);
	r->method = req->method;
	r->minor = req->m.minor;
	r->keep_alive = req->m.keep_alive && !c->closing;
	r->upgrade = req->m.upgrade;
	lb_http_req_keep(
	    r->method_s, sizeof(r->method_s), req->method_str, req->method_len);
	lb_http_req_keep(
	    r->target, sizeof(r->target), req->target, req->target_len);
	r->timed = c->l->pconf.per_try_timeout_ms != 0 &&
	    lb_pool_timed_method(c->l->pool, req->method_str, req->method_len);
	if (req->m.chunked) {
		r->req_chunked = true;
		http1_chunked_init(&r->req_ck);
	} else {
		r->req_left =
		    req->m.content_length > 0 ? req->m.content_length : 0;
		r->req_eom = r->req_left == 0;
	}
	c->l->st.requests++;
	lb_conn_pstats(c)->requests++;
	lb_retry_budget_request(c->l, ev_now_ms(c->loop));
	lb_http_build_head(c, req, c->in.data + c->in.off);
	if (r->req_head_len == 0) {
		c->l->st.http_errors[HTTP1_E_TOO_LARGE]++;
		lb_http_local(c, 431, NULL, LB_TERM_BAD_REQUEST);
		return;
	}
	key = lb_http_hash_key(c, req, &klen);
	r->bytes_in = req->m.head_len; /* the body adds req_body_sent */
	c->in.off += (uint32_t)req->m.head_len;
	lb_http_scan_req(c);
	if (c->state == LB_CS_CLOSED || c->state == LB_CS_LOCAL)
		return;
	lb_retry_dispatch(c, key, klen);
}

static bool
lb_http_parse_head(struct lb_conn *c)
{
	struct http1_req *req = &c->w->http.req;
	struct http1_limits lim;
	int r;

	lim.max_head = MIN(c->l->conf.max_header_size, (uint64_t)LB_BUF_SIZE);
	lim.max_headers = MIN(c->l->conf.max_headers, HTTP1_MAX_HDRS);
	r = http1_parse_request(
	    c->in.data + c->in.off, lb_iobuf_avail(&c->in), &lim, req);
	if (r == HTTP1_AGAIN) {
		if (lb_iobuf_avail(&c->in) < lim.max_head)
			return false;
		req->m.err = HTTP1_E_TOO_LARGE;
		r = HTTP1_ERROR;
	}
	if (r == HTTP1_ERROR) {
		c->l->st.http_errors[req->m.err]++;
		lb_http_local(
		    c, http1_err_status(req->m.err), NULL, LB_TERM_BAD_REQUEST);
		return true;
	}
	lb_http_request(c, req);
	return true;
}

/* IDLE / HEAD: read until a whole head is in. Returns true on progress. */
bool
lb_http_read_head(struct lb_conn *c)
{
	long n;

	for (;;) {
		if (lb_iobuf_avail(&c->in) > 0) {
			if (c->state == LB_CS_IDLE) {
				lb_http_reset_req(c);
				c->state = LB_CS_HEAD;
				lb_conn_arm(c);
			}
			if (lb_http_parse_head(c))
				return true;
		}
		if (!c->rd_ready)
			return false;
		n = lb_conn_recv(c, &c->in);
		if (n > 0) {
			c->l->st.bytes_in += (uint64_t)n;
			c->last_c_ms = ev_now_ms(c->loop);
			continue;
		}
		if (n == -EAGAIN) {
			lb_iobuf_settle(&c->w->bufs, &c->in);
			return false;
		}
		if (n == -ENOBUFS) {
			c->l->st.http_errors[HTTP1_E_TOO_LARGE]++;
			lb_http_local(c, 431, NULL, LB_TERM_BAD_REQUEST);
			return true;
		}
		lb_conn_close(c,
		    c->state == LB_CS_IDLE && n == 0 ? LB_TERM_CLIENT_CLOSE :
		                                       LB_TERM_CLIENT_ABORT);
		return true;
	}
}
