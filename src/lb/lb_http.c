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
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lb/lb_conn.h"
#include "lib/log.h"
#include "lib/util.h"

#define LB_HTTP_CONN_TOKENS 8

/* Parse results: used synchronously, never across events. */
static struct http1_req lb_http_req;
static struct http1_resp lb_http_resp;

static bool
lb_http_name_is(const struct http1_header *h, const char *name, size_t len)
{
	return h->name_len == len && strncasecmp(h->name, name, len) == 0;
}

#define LB_HTTP_IS(h, lit) lb_http_name_is(h, lit, sizeof(lit) - 1)

/* Hop-by-hop headers (RFC 9110 §7.6.1) and the ones we set ourselves. */
static bool
lb_http_hop(const struct http1_header *h, bool upgrade)
{
	return LB_HTTP_IS(h, "connection") || LB_HTTP_IS(h, "keep-alive") ||
	    LB_HTTP_IS(h, "proxy-connection") || LB_HTTP_IS(h, "te") ||
	    LB_HTTP_IS(h, "trailer") || (!upgrade && LB_HTTP_IS(h, "upgrade"));
}

/* Framing headers are never dropped, whatever Connection lists. */
static bool
lb_http_framing(const struct http1_header *h)
{
	return LB_HTTP_IS(h, "content-length") ||
	    LB_HTTP_IS(h, "transfer-encoding") || LB_HTTP_IS(h, "host");
}

struct lb_http_tokens {
	const char *p[LB_HTTP_CONN_TOKENS]; /* borrowed: into the head */
	size_t len[LB_HTTP_CONN_TOKENS];
	size_t n;
};

/* Header names listed in Connection: they are hop-by-hop too. */
static void
lb_http_conn_tokens(const struct http1_msg *m, struct lb_http_tokens *t)
{
	size_t i, j, start;

	t->n = 0;
	for (i = 0; i < m->nhdr; i++) {
		const struct http1_header *h = &m->hdr[i];

		if (!LB_HTTP_IS(h, "connection"))
			continue;
		for (j = 0; j <= h->value_len; j++) {
			if (j < h->value_len && h->value[j] != ',')
				continue;
			start = j;
			while (start > 0 && h->value[start - 1] != ',')
				start--;
			while (start < j &&
			    (h->value[start] == ' ' || h->value[start] == '\t'))
				start++;
			size_t end = j;
			while (end > start &&
			    (h->value[end - 1] == ' ' ||
			        h->value[end - 1] == '\t'))
				end--;
			if (end > start && t->n < LB_HTTP_CONN_TOKENS) {
				t->p[t->n] = h->value + start;
				t->len[t->n++] = end - start;
			}
		}
	}
}

static bool
lb_http_listed(const struct http1_header *h, const struct lb_http_tokens *t)
{
	size_t i;

	if (lb_http_framing(h))
		return false;
	for (i = 0; i < t->n; i++)
		if (lb_http_name_is(h, t->p[i], t->len[i]))
			return true;
	return false;
}

/* End (past LF) of the header line that holds h. */
static const char *
lb_http_line_end(const struct http1_header *h)
{
	const char *p = h->value + h->value_len;

	while (*p != '\n')
		p++;
	return p + 1;
}

static bool
lb_http_put(struct lb_iobuf *b, const void *p, size_t n)
{
	if (n > LB_BUF_SIZE - b->len)
		return false;
	memcpy(b->data + b->len, p, n);
	b->len += (uint32_t)n;
	return true;
}

#define LB_HTTP_PUTS(b, lit) lb_http_put(b, lit, sizeof(lit) - 1)

/*
 * Copy the head lines of m that survive into out, coalescing runs of kept
 * lines into one memcpy each. drop_xff: X-Forwarded-* are replaced by ours.
 */
static bool
lb_http_copy_lines(struct lb_iobuf *out, const char *base,
    const struct http1_msg *m, bool upgrade, bool drop_xf,
    const struct http1_header **xff)
{
	struct lb_http_tokens tok;
	const char *run, *end;
	size_t i;
	bool ok = true;

	lb_http_conn_tokens(m, &tok);
	run = base;
	end = m->nhdr > 0 ? m->hdr[0].name : base + m->head_len - 2;
	for (i = 0; i < m->nhdr; i++) {
		const struct http1_header *h = &m->hdr[i];
		bool drop = lb_http_hop(h, upgrade) ||
		    (lb_http_listed(h, &tok) &&
		        !(upgrade && LB_HTTP_IS(h, "upgrade")));

		if (drop_xf && LB_HTTP_IS(h, "x-forwarded-for")) {
			if (*xff == NULL)
				*xff = h;
			drop = true;
		} else if (drop_xf && LB_HTTP_IS(h, "x-forwarded-proto")) {
			drop = true;
		}
		if (drop) {
			ok = ok &&
			    lb_http_put(out, run, (size_t)(h->name - run));
			run = lb_http_line_end(h);
		}
		end = lb_http_line_end(h);
	}
	return ok && lb_http_put(out, run, (size_t)(end - run));
}

static const char *
lb_http_addr(const struct sockaddr_storage *ss, char *out, size_t len)
{
	const void *a = ss->ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		return "unknown";
	return inet_ntop(ss->ss_family, a, out, (socklen_t)len) ? out :
	                                                          "unknown";
}

static bool
lb_http_forwarded(struct lb_conn *c, const struct http1_header *xff)
{
	char ip[INET6_ADDRSTRLEN];
	const char *a = lb_http_addr(&c->peer, ip, sizeof(ip));
	bool ok = LB_HTTP_PUTS(&c->hb, "X-Forwarded-For: ");

	if (xff != NULL) {
		/* Only the first one is kept: RFC 7239 lists merge here. */
		ok = ok && lb_http_put(&c->hb, xff->value, xff->value_len) &&
		    LB_HTTP_PUTS(&c->hb, ", ");
	}
	ok = ok && lb_http_put(&c->hb, a, strlen(a)) &&
	    LB_HTTP_PUTS(&c->hb, "\r\nX-Forwarded-Proto: ");
	ok = ok &&
	    (c->ssl != NULL ? LB_HTTP_PUTS(&c->hb, "https\r\n") :
	                      LB_HTTP_PUTS(&c->hb, "http\r\n"));
	return ok;
}

void
lb_http_build_head(
    struct lb_conn *c, const struct http1_req *req, const char *base)
{
	const struct http1_header *xff = NULL;
	bool xf = c->l->conf.forwarded_headers, ok;

	lb_iobuf_get(&c->hb);
	c->hb.off = c->hb.len = 0;
	ok =
	    lb_http_copy_lines(&c->hb, base, &req->m, req->m.upgrade, xf, &xff);
	if (ok && xf)
		ok = lb_http_forwarded(c, xff);
	if (ok && req->m.upgrade)
		ok = LB_HTTP_PUTS(&c->hb, "Connection: upgrade\r\n");
	else if (ok && req->m.minor == 0)
		/* Keep the server connection poolable behind a 1.0 client. */
		ok = LB_HTTP_PUTS(&c->hb, "Connection: keep-alive\r\n");
	ok = ok && LB_HTTP_PUTS(&c->hb, "\r\n");
	c->r.req_head_len = ok ? c->hb.len : 0;
	c->r.req_head_sent = 0;
}

/* Local responses */

static void
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
	lb_iobuf_get(&c->hb);
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

static void
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
	snprintf(r->method_s, sizeof(r->method_s), "%.*s", (int)req->method_len,
	    req->method_str);
	snprintf(r->target, sizeof(r->target), "%.*s", (int)req->target_len,
	    req->target);
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
	struct http1_limits lim;
	int r;

	lim.max_head = MIN(c->l->conf.max_header_size, (uint64_t)LB_BUF_SIZE);
	lim.max_headers = MIN(c->l->conf.max_headers, HTTP1_MAX_HDRS);
	r = http1_parse_request(
	    c->in.data + c->in.off, lb_iobuf_avail(&c->in), &lim, &lb_http_req);
	if (r == HTTP1_AGAIN) {
		if (lb_iobuf_avail(&c->in) < lim.max_head)
			return false;
		lb_http_req.m.err = HTTP1_E_TOO_LARGE;
		r = HTTP1_ERROR;
	}
	if (r == HTTP1_ERROR) {
		c->l->st.http_errors[lb_http_req.m.err]++;
		lb_http_local(c, http1_err_status(lb_http_req.m.err), NULL,
		    LB_TERM_BAD_REQUEST);
		return true;
	}
	lb_http_request(c, &lb_http_req);
	return true;
}

/* IDLE / HEAD: read until a whole head is in. Returns true on progress. */
static bool
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
			lb_iobuf_settle(&c->in);
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

/* Rewrite the final response head into hb for the client. */
static bool
lb_http_resp_head(
    struct lb_conn *c, const struct http1_resp *resp, const char *base)
{
	struct lb_req *r = &c->r;
	const struct http1_header *unused = NULL;
	bool ok;

	c->hb.off = c->hb.len = 0;
	ok = lb_http_copy_lines(
	    &c->hb, base, &resp->m, resp->status == 101, false, &unused);
	if (resp->status == 101)
		ok = ok && LB_HTTP_PUTS(&c->hb, "Connection: upgrade\r\n");
	else if (!r->keep_alive)
		ok = ok && LB_HTTP_PUTS(&c->hb, "Connection: close\r\n");
	else if (r->minor == 0)
		ok = ok && LB_HTTP_PUTS(&c->hb, "Connection: keep-alive\r\n");
	ok = ok && LB_HTTP_PUTS(&c->hb, "\r\n");
	r->hb_client = true;
	return ok;
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
	else
		lb_server_passive_ok(s);
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
	struct http1_resp *resp = &lb_http_resp;
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

/* Request head and body to the server. Returns true on progress. */
static bool
lb_http_to_server(struct lb_conn *c)
{
	struct lb_req *r = &c->r;
	struct lb_bconn *b = c->b;
	struct iovec iov[3];
	int n = 0;
	long w;
	size_t k;

	if (b == NULL || !b->connected || c->bwr_blocked || r->req_abandon)
		return false;
	if (b->ppoff < b->pplen)
		iov[n++] = (struct iovec){ b->pp + b->ppoff,
			(size_t)(b->pplen - b->ppoff) };
	if (r->req_head_sent < r->req_head_len)
		iov[n++] = (struct iovec){ c->hb.data + r->req_head_sent,
			r->req_head_len - r->req_head_sent };
	if (r->req_fwd > 0)
		iov[n++] = (struct iovec){ c->in.data + c->in.off, r->req_fwd };
	if (n == 0)
		return false;
	w = lb_bconn_sendv(c, iov, n);
	if (w == -EAGAIN)
		return false;
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
		if (c->r.req_eom)
			return true; /* half-close after a request: answer it */
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
	lb_iobuf_get(&c->rb);
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
	lb_iobuf_put(&c->hb);
	lb_iobuf_put(&c->rb); /* junk after the response is dropped */
	if (!r->keep_alive || !body_done || c->closing || c->client_eof) {
		shutdown(c->fd, SHUT_WR);
		lb_conn_close(c, r->term);
		return;
	}
	c->state = LB_CS_IDLE;
	c->last_c_ms = ev_now_ms(c->loop);
	c->l->st.term[LB_TERM_OK]++;
	lb_iobuf_settle(&c->in);
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
