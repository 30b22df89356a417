/*
 * lb_worker.h - the state of one lb worker's data path, as one object.
 *
 * Each file of the data path keeps what it needs across calls in its own
 * struct (declared in its section of lb_conn.h, or in lb_uring.h); the
 * worker holds one of each, embedded, so that reaching any of them from a
 * connection or listener costs one pointer load (c->w, l->w) and no
 * allocation. lb_plane.c creates the worker in its init hook and holds the
 * plane's one root pointer to it; tests create their own.
 *
 * Nothing in the data path is process-wide except that root, the plane
 * glue's hooks that have no user pointer (they reach the worker through the
 * root), and the io_uring probe's payload (lb_uring.c says why).
 */
#ifndef HAVEN_LB_WORKER_H
#define HAVEN_LB_WORKER_H

#include "lb/lb_conn.h"
#include "lb/lb_uring.h"
#include "lib/ev.h"

struct lb_runtime;

struct lb_worker {
	struct ev_loop *loop;      /* borrowed: the process's event loop */
	struct lb_runtime *rt;     /* borrowed: the pools, outlive the worker */
	struct lb_listener_set ls; /* lb_listener.c */
	struct lb_conn_set conns;  /* lb_conn.c */
	struct lb_idle_set idle;   /* lb_bconn.c */
	struct lb_bufpool bufs;    /* lb_conn_io.c */
	struct lb_http http;       /* lb_http.c, lb_http_req.c */
	struct lb_log log;         /* lb_log.c */
	struct lb_limit limit;     /* lb_limit.c */
	struct lb_mem mem;         /* lb_mem.c */
	struct lb_uring uring;     /* lb_uring.c */
};

#endif
