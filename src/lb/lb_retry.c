/*
 * lb_retry.c - choosing a server for a request (or a TCP connection),
 * and what to do when an attempt fails.
 *
 * Rules (the defaults must give zero client-visible errors when a server
 * dies under load):
 *   - a connect failure is always retried on a different server: nothing
 *     was sent;
 *   - a server that closed or reset before any response byte is retried on
 *     a different server when the request is idempotent (or the pool has
 *     retry_non_idempotent) and no body byte was streamed to it: the body
 *     is not kept, so it cannot be replayed;
 *   - a pooled connection found stale that way is not the server's fault:
 *     an idempotent request is retried (on any server, the same one
 *     included) without a passive report and without using a retry or the
 *     budget, at most LB_RETRY_STALE_MAX times; non-idempotent requests
 *     are only given pooled connections idle < LB_IDLE_SAFE_MS to make
 *     that race unlikely;
 *   - per_try_timeout cuts only attempts of GET, HEAD and the pool's
 *     retry_methods (r->timed), and those are retried on another server
 *     when no body byte was streamed; the stalled server is reported
 *     passively, so it stops being chosen until its probes readmit it;
 *   - retries are bounded by the pool's retries and by a budget: per
 *     listener and one-second window, at most max(3, retry_budget% of the
 *     requests of this window or the one before, whichever is larger)
 *     retries, so a sick pool does not double its own load.
 * Every failed attempt is counted on its server and reported with
 * lb_server_passive_fail(), which takes the server out of rotation at once.
 */
#include <errno.h>

#include "lb/lb_conn.h"
#include "lib/log.h"
#include "lib/util.h"

#define LB_RETRY_STALE_MAX 2
#define LB_RETRY_FLOOR     3 /* retries per second always allowed */

void
lb_retry_budget_request(struct lb_listener *l, uint64_t now_ms)
{
	struct lb_retry_budget *b = &l->budget;

	if (now_ms - b->window_ms >= 1000) {
		/*
		 * Keep the last full window's count: a backend dying early in
		 * a window fails a burst of in-flight requests at once, and a
		 * budget sized by this window's few requests so far would
		 * turn that burst into client errors.
		 */
		b->prev_requests =
		    now_ms - b->window_ms < 2000 ? b->requests : 0;
		b->window_ms = now_ms;
		b->requests = 0;
		b->retries = 0;
	}
	b->requests++;
}

bool
lb_retry_budget_take(struct lb_listener *l)
{
	struct lb_retry_budget *b = &l->budget;
	uint64_t allowed;

	allowed = (uint64_t)MAX(b->requests, b->prev_requests) *
	    l->pconf.retry_budget_pct / 100;
	if (allowed < LB_RETRY_FLOOR)
		allowed = LB_RETRY_FLOOR;
	if (b->retries >= allowed) {
		l->st.retry_budget_denied++;
		return false;
	}
	b->retries++;
	return true;
}

/* Give up on the request: 502/503/504 in http, a close in tcp. */
static void
lb_retry_giveup(
    struct lb_conn *c, int status, const char *body, enum lb_term term)
{
	lb_http_local(c, status, body, term);
}

static void
lb_retry_no_server(struct lb_conn *c, enum lb_pick_err err)
{
	struct lb_pool_stats *ps = lb_conn_pstats(c);

	switch (err) {
	case LB_PICK_FULL:
		if (lb_conn_enqueue(c))
			return;
		ps->errors[LB_ERR_QUEUE_FULL]++;
		lb_retry_giveup(c, 503, NULL, LB_TERM_QUEUE_FULL);
		return;
	case LB_PICK_EXHAUSTED:
		/* Every server tried: answer as the last failure deserves. */
		if (c->r.last_fail == LB_FAIL_TIMEOUT) {
			ps->errors[LB_ERR_SERVER_TIMEOUT]++;
			lb_retry_giveup(c, 504, NULL, LB_TERM_SERVER_TIMEOUT);
		} else {
			ps->errors[LB_ERR_CONNECT_OTHER]++;
			lb_retry_giveup(c, 502, NULL, LB_TERM_CONNECT_FAIL);
		}
		return;
	default:
		ps->errors[LB_ERR_NO_SERVER]++;
		lb_retry_giveup(c, (int)c->l->pconf.all_down_status,
		    c->l->all_down_body, LB_TERM_NO_SERVER);
		return;
	}
}

static void
lb_retry_attach(struct lb_conn *c, struct lb_server *s)
{
	int r;

	c->r.t_try_us = ev_now_us(c->loop);
	c->last_b_ms = ev_now_ms(c->loop);
	lb_server_stats(s)->requests++;
	if (c->l->conf.mode == LB_MODE_HTTP &&
	    c->l->pconf.send_proxy == LB_SEND_PROXY_NONE &&
	    lb_bconn_take_idle(c, s, http1_method_idempotent(c->r.method)) !=
	        NULL) {
		c->l->st.backend_reused++;
		c->r.t_conn_us = c->r.t_try_us;
		c->state = LB_CS_EXCHANGE;
		lb_http_run(c);
		return;
	}
	c->state = LB_CS_CONNECT;
	if ((r = lb_bconn_connect(c, s)) < 0) {
		if (c->b == NULL) {
			/* Refused at once (loopback) or no socket: retry. */
			lb_retry_fail_server(c, s,
			    r == -ECONNREFUSED ? LB_FAIL_CONNECT_REFUSED :
			                         LB_FAIL_CONNECT_OTHER);
		} else {
			lb_retry_fail(c, LB_FAIL_CONNECT_OTHER);
		}
		return;
	}
	lb_conn_interest(c);
	lb_conn_arm(c);
}

void
lb_retry_dispatch(struct lb_conn *c, const char *key, size_t keylen)
{
	struct lb_pick_ctx ctx;
	enum lb_pick_err err = LB_PICK_NONE_UP;
	struct lb_server *s = NULL;

	if (c->l->pool != NULL) {
		ctx.client = &c->peer;
		ctx.hash_key = key;
		ctx.hash_key_len = keylen;
		ctx.exclude = c->r.tried;
		ctx.nexclude = c->r.ntried;
		s = lb_pool_pick(c->l->pool, &ctx, &err);
	}
	if (s == NULL) {
		lb_retry_no_server(c, err);
		return;
	}
	if (c->r.ntried < LB_MAX_TRIES)
		c->r.tried[c->r.ntried++] = s;
	lb_retry_attach(c, s);
}

static enum lb_err
lb_retry_err(enum lb_fail why)
{
	switch (why) {
	case LB_FAIL_CONNECT_REFUSED:
		return LB_ERR_CONNECT_REFUSED;
	case LB_FAIL_CONNECT_TIMEOUT:
		return LB_ERR_CONNECT_TIMEOUT;
	case LB_FAIL_CONNECT_OTHER:
		return LB_ERR_CONNECT_OTHER;
	case LB_FAIL_RESET:
		return LB_ERR_SERVER_RESET;
	case LB_FAIL_TIMEOUT:
		break;
	}
	return LB_ERR_SERVER_TIMEOUT;
}

static enum hc_reason
lb_retry_reason(enum lb_fail why)
{
	switch (why) {
	case LB_FAIL_CONNECT_REFUSED:
		return HC_R_CONNECT_REFUSED;
	case LB_FAIL_CONNECT_OTHER:
		return HC_R_UNREACHABLE;
	case LB_FAIL_RESET:
		return HC_R_RESET;
	case LB_FAIL_CONNECT_TIMEOUT:
	case LB_FAIL_TIMEOUT:
		break;
	}
	return HC_R_TIMEOUT;
}

static bool
lb_retry_connect_fail(enum lb_fail why)
{
	return why == LB_FAIL_CONNECT_REFUSED ||
	    why == LB_FAIL_CONNECT_TIMEOUT || why == LB_FAIL_CONNECT_OTHER;
}

/* May the request go to another server after this failure? */
static bool
lb_retry_allowed(struct lb_conn *c, enum lb_fail why)
{
	struct lb_req *r = &c->r;

	if (r->ntried > c->l->pconf.retries || r->ntried >= LB_MAX_TRIES)
		return false;
	if (lb_retry_connect_fail(why))
		return true;
	if (c->l->conf.mode == LB_MODE_TCP)
		return false; /* bytes may have flowed both ways */
	if (r->req_body_sent > 0)
		return false;
	if (why == LB_FAIL_TIMEOUT && r->timed)
		return true; /* the operator listed the method */
	return http1_method_idempotent(r->method) ||
	    c->l->pconf.retry_non_idempotent;
}

static void
lb_retry_final(struct lb_conn *c, enum lb_fail why)
{
	struct lb_pool_stats *ps = lb_conn_pstats(c);

	ps->errors[lb_retry_err(why)]++;
	if (why == LB_FAIL_TIMEOUT)
		lb_retry_giveup(c, 504, NULL, LB_TERM_SERVER_TIMEOUT);
	else if (why == LB_FAIL_RESET)
		lb_retry_giveup(c, 502, NULL, LB_TERM_SERVER_ERROR);
	else
		lb_retry_giveup(c, 502, NULL, LB_TERM_CONNECT_FAIL);
}

/* Replay from the start of the request head on the next attempt. */
static void
lb_retry_again(struct lb_conn *c)
{
	c->r.req_head_sent = 0;
	lb_retry_dispatch(c, NULL, 0);
}

void
lb_retry_fail_server(struct lb_conn *c, struct lb_server *s, enum lb_fail why)
{
	struct lb_req *r = &c->r;

	lb_server_stats(s)->errors[lb_retry_err(why)]++;
	lb_server_passive_fail(s, lb_retry_reason(why));
	r->last_fail = (int)why;
	if (!lb_retry_allowed(c, why)) {
		lb_retry_final(c, why);
		return;
	}
	if (!lb_retry_budget_take(c->l)) {
		lb_conn_pstats(c)->errors[LB_ERR_RETRY_BUDGET]++;
		lb_retry_final(c, why);
		return;
	}
	c->l->st.retries++;
	lb_conn_pstats(c)->retries++;
	lb_server_stats(s)->retries++;
	lb_retry_again(c);
}

void
lb_retry_fail(struct lb_conn *c, enum lb_fail why)
{
	struct lb_bconn *b = c->b;
	struct lb_server *s;

	if (b == NULL)
		return;
	s = b->srv;
	lb_server_ref(s); /* release may drop the last reference */
	if (b->reused && why == LB_FAIL_RESET &&
	    c->r.stale_retries < LB_RETRY_STALE_MAX &&
	    c->r.req_body_sent == 0 &&
	    (http1_method_idempotent(c->r.method) ||
	        c->l->pconf.retry_non_idempotent)) {
		/* A pooled connection the server had closed: not its fault. */
		lb_bconn_release(c, false);
		c->r.stale_retries++;
		if (c->r.ntried > 0 && c->r.tried[c->r.ntried - 1] == s)
			c->r.ntried--;
		lb_server_unref(s);
		lb_retry_again(c);
		return;
	}
	lb_bconn_release(c, false);
	lb_retry_fail_server(c, s, why);
	lb_server_unref(s);
}
