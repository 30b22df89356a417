/*
 * lb_runtime.h - the runtime state of one lb worker: the pools built from the
 * current `lb:` config, the health verdicts fed into them, and the operator
 * actions of the API.
 *
 * One runtime per worker process, held by lb_plane.c's root (tests make
 * their own); every pool points back to the runtime that made it, which
 * outlives it. lb_runtime_apply() diffs the new config against
 * the pools it has by name: a pool or server that still exists keeps its
 * runtime state (health, passive ejection, admin state, connection counts,
 * counters, round-robin position); its definition is updated in place. A
 * pool or server that disappeared is detached and freed once the last
 * connection using it ends (lb_server_unref).
 *
 * The runtime never talks to the parent itself: passive reports leave through
 * the hook installed with lb_runtime_set_passive_hook() (lb_plane.c sends them
 * with plane_send), so the runtime and pools run unchanged in tests.
 */
#ifndef HAVEN_LB_RUNTIME_H
#define HAVEN_LB_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb/lb_conf.h"
#include "lb/lb_pool.h"
#include "lib/conf.h"
#include "lib/ev.h"
#include "lib/ipc.h"
#include "lib/namemap.h"

/* Operator states of a server (POST .../drain|disable|enable). */
enum lb_admin {
	LB_ADMIN_READY,    /* takes traffic when healthy */
	LB_ADMIN_DRAIN,    /* keeps its connections, gets no new ones */
	LB_ADMIN_DISABLED, /* no new traffic; not counted for zone health */
};

typedef void lb_passive_hook_fn(const struct ipc_passive *p);
/* A server whose probes mark it down, in a pool with on_marked_down:
 * shutdown: the data path cuts its connections (lb_conn_server_down);
 * arg is what lb_runtime_set_down_hook was given. */
typedef void lb_down_hook_fn(struct lb_server *s, void *arg);

struct lb_runtime {
	struct ev_loop *loop;   /* borrowed: NULL in tests without a clock */
	struct lb_pool **pools; /* owned array of counted pointers */
	size_t npools;
	/* lb_runtime_pool's index: name -> pool borrowed from pools. */
	struct namemap byname;
	lb_passive_hook_fn *passive_hook;
	lb_down_hook_fn *down_hook;
	void *down_arg;            /* borrowed: down_hook's */
	uint64_t verdicts_unknown; /* verdicts for targets we do not have */
	uint64_t passive_unsent;   /* reports with no hook to take them */
};

/* loop is borrowed for timers and the clock. */
void lb_runtime_init(struct lb_runtime *rt, struct ev_loop *loop);
/* Drops every pool (servers still referenced are freed on their unref). */
void lb_runtime_fini(struct lb_runtime *rt);
/* rt's loop; NULL for NULL (a pool made on its own, in tests). */
struct ev_loop *lb_runtime_loop(const struct lb_runtime *rt);
void lb_runtime_set_passive_hook(struct lb_runtime *rt, lb_passive_hook_fn *fn);
void lb_runtime_set_down_hook(
    struct lb_runtime *rt, lb_down_hook_fn *fn, void *arg);
/* Called by lb_pool.c when probes mark s down (see lb_down_hook_fn); rt
 * may be NULL. */
void lb_runtime_server_down(struct lb_runtime *rt, struct lb_server *s);
/* Called by lb_pool.c for every passive failure it reports; rt may be
 * NULL (nothing to send it to). */
void lb_runtime_passive_report(
    struct lb_runtime *rt, const struct ipc_passive *p);

/*
 * Make the pools match conf (NULL: no pools). Never fails on a validated
 * config; returns 0.
 */
int lb_runtime_apply(struct lb_runtime *rt, const struct lb_conf *conf);

/* A verdict from the hc plane: target "pool/server". Unknown ones count. */
void lb_runtime_verdict(struct lb_runtime *rt, const struct ipc_verdict *v);

/* The pool by name (NULL if absent). The data path resolves its listener's
 * pool with this after each apply. */
struct lb_pool *lb_runtime_pool(const struct lb_runtime *rt, const char *name);
size_t lb_runtime_npools(const struct lb_runtime *rt);
const char *lb_pool_name(const struct lb_pool *p);
/* The pool's settings (timeouts, retries, queue...): the pointer lives as
 * long as the pool; a reload updates what it points to. */
const struct lb_pool_conf *lb_pool_config(const struct lb_pool *p);
struct lb_pool *lb_runtime_pool_at(const struct lb_runtime *rt, size_t i);
/* Verdicts for targets we do not know (stale or another plane's). */
uint64_t lb_runtime_verdicts_unknown(const struct lb_runtime *rt);
/* Passive reports dropped because no hook was installed. */
uint64_t lb_runtime_passive_unsent(const struct lb_runtime *rt);

/* Admin operations; return 0 or -ENOENT (pool or server) / -EINVAL. */
int lb_runtime_set_admin(struct lb_runtime *rt, const char *pool,
    const char *server, enum lb_admin st);
int lb_runtime_set_weight(struct lb_runtime *rt, const char *pool,
    const char *server, uint32_t weight);
int lb_runtime_failback(struct lb_runtime *rt, const char *pool);

/* The data path's side of a reload and the stop: lb_proxy.h (called after
 * lb_runtime_apply(), so lb_runtime_pool() already resolves new's pools). */

#endif
