/*
 * lb_metrics.h - per pool and per server traffic counters of one lb worker,
 * and their Prometheus rendering.
 *
 * The data path (lb_proxy*.c) increments the fields directly: a counter is a
 * plain integer inside the object it counts, the hot path pays one add. Every
 * request that does not end in a response from a server is counted under
 * exactly one cause in errors[] of its pool (and of the server, when one was
 * chosen). Active connections are not here: they are the pool's own
 * accounting (lb_server_conn_begin/end) and rendered from it.
 *
 * Counters live as long as their server or pool object, so a reload that
 * keeps a server keeps its counters.
 */
#ifndef HAVEN_LB_METRICS_H
#define HAVEN_LB_METRICS_H

#include <stdint.h>

#include "lib/buf.h"
#include "lib/metrics.h"

struct lb_pool;
struct lb_server;

/* Why a request failed. Appended to only: the names are metric labels. */
enum lb_err {
	LB_ERR_CONNECT_REFUSED, /* RST / ECONNREFUSED on connect */
	LB_ERR_CONNECT_TIMEOUT, /* connect_timeout expired */
	LB_ERR_CONNECT_OTHER,   /* unreachable, socket errors */
	LB_ERR_SERVER_TIMEOUT,  /* server_timeout / per_try_timeout expired */
	LB_ERR_SERVER_RESET,    /* reset or closed before a complete response */
	LB_ERR_BAD_RESPONSE,    /* unparseable response head */
	LB_ERR_STATUS_5XX,      /* the server answered 5xx (passed through) */
	LB_ERR_TLS,             /* TLS failure towards the server */
	LB_ERR_NO_SERVER,       /* no usable server: all down (503) */
	LB_ERR_QUEUE_FULL,      /* max_queue reached */
	LB_ERR_QUEUE_TIMEOUT,   /* waited queue_timeout for a slot */
	LB_ERR_CLIENT_ABORT,    /* client went away before the response */
	LB_ERR_RETRY_BUDGET, /* a retry was wanted but the budget was spent */
	LB_ERR__COUNT
};

const char *lb_err_name(enum lb_err e);

struct lb_server_stats {
	uint64_t requests;              /* attempts sent to this server */
	uint64_t responses;             /* complete responses received */
	uint64_t errors[LB_ERR__COUNT]; /* failed attempts by cause */
	uint64_t retries;               /* attempts that were retries */
	uint64_t passive_fails;         /* lb_server_passive_fail() calls */
	uint64_t passive_ejections;     /* ... that took it out of rotation */
	uint64_t passive_last_kept;     /* ... refused: it was the last one */
	uint64_t marked_down_cut;       /* connections cut: on_marked_down */
	uint64_t bytes_in, bytes_out;   /* from / to the server */
	struct mx_hist latency;         /* attempt start to response head */
};

struct lb_pool_stats {
	uint64_t requests;              /* client requests for this pool */
	uint64_t errors[LB_ERR__COUNT]; /* failed client requests by cause */
	uint64_t retries;               /* extra attempts made */
	uint64_t picks_none_up;         /* picks refused: every server down */
	uint64_t picks_fail_open; /* picks served by all_down: fail_open */
	uint64_t picks_exhausted; /* retries with no untried server */
	uint64_t picks_full;      /* every candidate at max_conn */
	uint64_t zone_changes;    /* active zone changed */
	uint64_t all_down_events; /* transitions into "no zone usable" */
	uint64_t fallback_events; /* transitions into using standbys */
	uint64_t picks_fallback;  /* picks that chose a standby server */
	uint64_t picks_retry_elsewhere; /* retries served outside the zone's
	                                   usable servers */
	struct mx_hist latency;         /* request start to response head */
};

struct lb_server_stats *lb_server_stats(struct lb_server *s);
struct lb_pool_stats *lb_pool_stats(struct lb_pool *p);

struct lb_runtime;
/* Append this worker's lb families (every pool of rt). */
void lb_metrics_render(const struct lb_runtime *rt, struct buf *out);

#endif
