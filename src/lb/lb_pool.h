/*
 * lb_pool.h - the contract between the proxy data path (lb_proxy*.c,
 * lb_http*.c, lb_tcp*.c) and pool management (lb_pool.c, balance_*.c,
 * lb_zone.c).
 *
 * A pool holds servers in ordered zones. Selection honours health verdicts
 * from the hc plane, admin state (drain/disable), weights with slow start,
 * zone failover (the first zone with enough healthy servers takes the
 * traffic) and the pool's balancing algorithm. The data path asks for a
 * server, tells the pool when a connection to it begins and ends (least-
 * connections and bounded-load hashing need it) and reports failures it saw
 * in real traffic (passive health).
 *
 * Lifetime: pools and servers are owned by the lb runtime (lb_runtime.c) and
 * survive reloads when their name and definition are unchanged. A server
 * removed by a reload while connections still use it is kept (refs > 0)
 * until its last connection ends: hold a reference with lb_server_ref() for
 * as long as a connection points at it.
 */
#ifndef HAVEN_LB_POOL_H
#define HAVEN_LB_POOL_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hc/hc.h"

struct lb_pool;
struct lb_server;

/* What the data path knows about the request when it picks. */
struct lb_pick_ctx {
	const struct sockaddr_storage *client; /* source-IP hashing */
	const char *hash_key; /* header hashing: value or NULL */
	size_t hash_key_len;
	/* Servers already tried for this request: never picked again. */
	struct lb_server *const *exclude;
	size_t nexclude;
};

/* Why there was no server. */
enum lb_pick_err {
	LB_PICK_OK,
	LB_PICK_NONE_UP,   /* every server down: answer 503 (or fail-open) */
	LB_PICK_EXHAUSTED, /* all candidates excluded (retries used them up) */
	LB_PICK_FULL,      /* all candidates at max_conn */
};

struct lb_server *lb_pool_pick(
    struct lb_pool *p, const struct lb_pick_ctx *ctx, enum lb_pick_err *err);

/*
 * May per_try_timeout cut an attempt of this method and retry it
 * elsewhere? GET, HEAD and the pool's retry_methods (exact match of the
 * len bytes at method, which need no NUL: the request's own token).
 */
bool lb_pool_timed_method(
    const struct lb_pool *p, const char *method, size_t len);

/* Connection accounting for least-conn and bounded load. */
void lb_server_conn_begin(struct lb_server *s);
void lb_server_conn_end(struct lb_server *s);

void lb_server_ref(struct lb_server *s);
void lb_server_unref(struct lb_server *s);

const struct sockaddr_storage *lb_server_addr(const struct lb_server *s);
const char *lb_server_name(const struct lb_server *s); /* "pool/server" */
struct lb_pool *lb_server_pool(const struct lb_server *s);

/*
 * A failure seen in real traffic (HC_R_CONNECT_REFUSED, HC_R_TIMEOUT,
 * HC_R_RESET, HC_R_BAD_STATUS for 5xx...): the server stops being picked at
 * once (never the pool's last healthy server) and the report goes to the hc
 * plane, which re-probes at the fast interval and alone readmits.
 */
void lb_server_passive_fail(struct lb_server *s, enum hc_reason why);
/* A success in real traffic resets the consecutive-failure count. */
void lb_server_passive_ok(struct lb_server *s);
/*
 * The final status of a server's answer: below 500 is a success; the
 * pool's passive_5xx answers of 500 or more in a row are one passive
 * failure (HC_R_BAD_STATUS). passive_5xx 0 ignores status codes.
 */
void lb_server_passive_status(struct lb_server *s, unsigned status);

#endif
