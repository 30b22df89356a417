/*
 * lb_proxy.h - the load balancer data path of one lb worker: listeners,
 * client connections, L7 HTTP/1.1 and L4 TCP proxying, TLS termination,
 * PROXY protocol, retries and access logs. lb_plane.c (lbcore) drives it.
 *
 * Everything runs on the worker's single event loop; nothing locks. The
 * parent binds the listeners and hands each worker its own socket of a
 * SO_REUSEPORT group, so the kernel spreads new connections across workers
 * (lb_listener.c).
 *
 * Reload: lb_proxy_apply() diffs listeners by name. A listener whose bind
 * address and mode are unchanged keeps its socket and its connections and
 * takes the new settings (timeouts, limits, pool, TLS certificates) for new
 * requests; a removed or rebound one stops accepting and its connections
 * finish under the settings they started with. Scalars are copied out of
 * the config tree, so nothing here points into a tree after apply returns.
 *
 * Pools are found by name with lb_runtime_pool() (the pool runtime is
 * lbcore's, applied before this); a reference to every server in use is held
 * with lb_server_ref(). Failed requests are counted in lbcore's pool and
 * server stats (lb_metrics.h); listener-level counters are ours and rendered
 * by lb_proxy_metrics(). lb_runtime.h declares apply/stop too.
 */
#ifndef HAVEN_LB_PROXY_H
#define HAVEN_LB_PROXY_H

#include <stdint.h>

#include "lb/lb_conf.h"
#include "lib/buf.h"
#include "lib/ev.h"
#include "lib/plane.h"

struct conf_errors;
struct lb_worker;

struct lb_runtime;

/*
 * The data path's state (lb_worker.h). loop and rt (where listeners find
 * their pools by name) are borrowed and outlive the worker. Free closes
 * whatever is still open at once; call it from outside the loop's
 * callbacks.
 */
struct lb_worker *lb_worker_new(struct ev_loop *loop, struct lb_runtime *rt);
void lb_worker_free(struct lb_worker *w);

/*
 * Open, keep, update or close listeners to match new (old is the previous
 * config or NULL), on the sockets the parent sent (socks: one own per
 * listener, named after it, and any adopted; duplicated, not taken).
 * Problems that only show at run time (a socket is missing, a certificate
 * does not load) go to errs and return -EINVAL with nothing changed: the
 * worker keeps serving old.
 */
int lb_proxy_apply(struct lb_worker *w, const struct lb_conf *old,
    const struct lb_conf *new, const struct plane_sock *socks, size_t nsocks,
    struct conf_errors *errs);

/* A worker went down or came back: drain exactly the adopted sockets of
 * socks (plane_ops.adopt). */
void lb_proxy_adopt(
    struct lb_worker *w, const struct plane_sock *socks, size_t nsocks);

/*
 * Graceful stop: close listeners, close idle keep-alive connections, let
 * in-flight requests finish (their responses carry Connection: close), then
 * call plane_stopped(). At deadline_ms from now whatever is left is closed
 * and plane_stopped() is called anyway. Idempotent.
 */
void lb_proxy_stop(struct lb_worker *w, unsigned deadline_ms);

/* Append the data path's Prometheus families (per-listener counters). */
void lb_proxy_metrics(const struct lb_worker *w, struct buf *out);

/* Open client connections of this worker (for status and tests). */
unsigned lb_proxy_nconn(const struct lb_worker *w);

#endif
