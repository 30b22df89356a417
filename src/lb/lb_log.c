/*
 * lb_log.c - access logs: one logfmt line per HTTP exchange or TCP
 * connection, with the client, the server, timings in microseconds and a
 * termination cause (the HAProxy session-state idea, spelled out):
 *
 *   msg=access listener=web client=198.18.0.1:5123 server=web/a1
 *   method=GET target=/x status=200 bytes_in=80 bytes_out=612 tries=1
 *   t_head=41 t_connect=90 t_response=400 t_total=455 term=ok
 *
 * Lines go through log.c, which rate-limits per message. At a hundred
 * thousand requests a second most lines are suppressed anyway, so the same
 * budget is checked here first: a line that would be dropped is not even
 * formatted (only counted, as log.c would).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>

#include "lb/lb_worker.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/util.h"

static const char *const lb_log_terms[] = {
	[LB_TERM_OK] = "ok",
	[LB_TERM_CLIENT_CLOSE] = "client_close",
	[LB_TERM_CLIENT_TIMEOUT] = "client_timeout",
	[LB_TERM_HEADER_TIMEOUT] = "header_timeout",
	[LB_TERM_REQUEST_TIMEOUT] = "request_timeout",
	[LB_TERM_BAD_REQUEST] = "bad_request",
	[LB_TERM_PROXYPROTO] = "proxy_protocol",
	[LB_TERM_TLS] = "tls",
	[LB_TERM_CLIENT_ABORT] = "client_abort",
	[LB_TERM_NO_SERVER] = "no_server",
	[LB_TERM_QUEUE_FULL] = "queue_full",
	[LB_TERM_QUEUE_TIMEOUT] = "queue_timeout",
	[LB_TERM_CONNECT_FAIL] = "connect_fail",
	[LB_TERM_SERVER_TIMEOUT] = "server_timeout",
	[LB_TERM_SERVER_ERROR] = "server_error",
	[LB_TERM_BAD_RESPONSE] = "bad_response",
	[LB_TERM_STOPPING] = "stopping",
};

const char *
lb_log_term_name(enum lb_term t)
{
	return (unsigned)t < ARRAY_SIZE(lb_log_terms) ? lb_log_terms[t] :
	                                                "unknown";
}

/* The same per-second budget log.c applies to one message. */
static bool
lb_log_budget(struct lb_conn *c)
{
	struct lb_log *lg = &c->w->log;
	uint64_t now = ev_now_ms(c->loop);

	if (log_get_level() > LOG_INFO)
		return false;
	if (now - lg->window_ms >= 1000) {
		lg->window_ms = now;
		lg->count = 0;
	}
	if (++lg->count > LOG_BURST) {
		lg->skipped++;
		return false;
	}
	return true;
}

static long long
lb_log_since(uint64_t from, uint64_t to)
{
	return from == 0 || to < from ? -1 : (long long)(to - from);
}

/* tried[] entries are identities only (possibly freed): name c->b. */
static const char *
lb_log_server(const struct lb_conn *c)
{
	return c->b != NULL ? lb_server_name(c->b->srv) : "-";
}

uint64_t
lb_log_skipped_total(const struct lb_worker *w)
{
	return w->log.skipped;
}

void
lb_log_request(struct lb_conn *c)
{
	const struct lb_req *r = &c->r;
	uint64_t now = ev_now_us(c->loop);
	char client[64];

	if (!lb_log_budget(c))
		return;
	log_info("access",
	    "listener=%s client=%s server=%s method=%s target=%s status=%d "
	    "bytes_in=%llu bytes_out=%llu tries=%u t_head=%lld t_connect=%lld "
	    "t_response=%lld t_total=%lld term=%s",
	    c->l->name, conf_addr_str(&c->peer, client, sizeof(client)),
	    lb_log_server(c), log_q(r->method_s[0] ? r->method_s : "-"),
	    log_q(r->target[0] ? r->target : "-"), r->status,
	    (unsigned long long)(r->bytes_in + r->req_body_sent),
	    (unsigned long long)r->bytes_out, r->ntried,
	    lb_log_since(r->t_start_us, r->t_head_us),
	    lb_log_since(r->t_try_us, r->t_conn_us),
	    lb_log_since(r->t_start_us, r->t_resp_us),
	    lb_log_since(r->t_start_us, now), lb_log_term_name(r->term));
}

void
lb_log_tcp(struct lb_conn *c, enum lb_term term)
{
	const struct lb_req *r = &c->r;
	const struct lb_tunnel *t = c->tun;
	uint64_t now = ev_now_us(c->loop);
	char client[64];

	if (!lb_log_budget(c))
		return;
	log_info("access",
	    "listener=%s client=%s server=%s bytes_up=%llu bytes_down=%llu "
	    "tries=%u t_connect=%lld t_total=%lld term=%s",
	    c->l->name, conf_addr_str(&c->peer, client, sizeof(client)),
	    lb_log_server(c), (unsigned long long)(t != NULL ? t->up.bytes : 0),
	    (unsigned long long)(t != NULL ? t->down.bytes : 0), r->ntried,
	    lb_log_since(r->t_try_us, r->t_conn_us),
	    lb_log_since(r->t_start_us, now), lb_log_term_name(term));
}
