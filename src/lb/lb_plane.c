/*
 * lb_plane.c - the load balancer as a plane of `haven run`: glue between the
 * child runtime (lib/plane.h) and the lb runtime (pools, lb_runtime.c) and
 * data path (listeners, lb_proxy.c).
 *
 * Apply order: pools first, so that the data path resolves the new config's
 * pools by name when it rebinds its listeners; if the data path rejects the
 * config (a certificate that does not load), the pools go back to the old
 * config, which the child keeps running. Server state survives that round trip
 * because it is kept by name; only a pool the rejected config dropped loses
 * its counters.
 *
 * Passive reports leave through plane_send(IPC_PASSIVE); verdicts come in
 * as IPC_VERDICT, one struct ipc_verdict or an array of them.
 *
 * lb_plane_rt is the plane's one root: the plane hooks take no user
 * pointer, so they reach the runtime and the worker through it; everything
 * below them is passed what it needs or finds it through the object at
 * hand (a pool its runtime, a connection or listener its worker). Both live
 * until the process exits after plane_stopped(): a stop only drains them.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lb/lb_api.h"
#include "lb/lb_conf.h"
#include "lb/lb_conn.h"
#include "lb/lb_metrics.h"
#include "lb/lb_proxy.h"
#include "lb/lb_runtime.h"
#include "lib/log.h"
#include "lib/plane.h"
#include "lib/util.h"

struct lb_plane_rt {
	struct ev_loop *loop; /* borrowed: the child's */
	unsigned worker;      /* for log lines */
	struct lb_runtime rt; /* the pools */
	struct lb_worker *w;  /* owned: the data path, from init on */
};

static struct lb_plane_rt lb_plane_rt;

/* A refusal is counted by the runtime (plane.h); each report stands
 * alone, so nothing is queued for a retry. */
static void
lb_plane_passive(const struct ipc_passive *p)
{
	(void)plane_send(IPC_PASSIVE, p, sizeof(*p));
}

/* The runtime's down hook: arg is the worker. */
static void
lb_plane_server_down(struct lb_server *s, void *arg)
{
	lb_conn_server_down(arg, s);
}

static int
lb_plane_init(struct ev_loop *loop, unsigned worker, unsigned nworkers)
{
	lb_plane_rt.loop = loop;
	lb_plane_rt.worker = worker;
	lb_runtime_init(&lb_plane_rt.rt, loop);
	lb_plane_rt.w = lb_worker_new(loop, &lb_plane_rt.rt);
	lb_runtime_set_passive_hook(&lb_plane_rt.rt, lb_plane_passive);
	lb_runtime_set_down_hook(
	    &lb_plane_rt.rt, lb_plane_server_down, lb_plane_rt.w);
	lb_mem_start(lb_plane_rt.w);
	return 0;
}

static int
lb_plane_apply(const void *old, const void *conf, const struct plane_env *env,
    struct conf_errors *errs)
{
	const struct lb_conf *o = old, *c = conf;
	int rc;

	lb_runtime_apply(&lb_plane_rt.rt, c);
	rc = lb_proxy_apply(lb_plane_rt.w, o, c, env->socks, env->nsocks, errs);
	if (rc != 0) {
		log_warn("lb config rejected", "worker=%u rc=%d",
		    lb_plane_rt.worker, rc);
		lb_runtime_apply(&lb_plane_rt.rt, o);
		return rc;
	}
	log_info("lb config applied", "worker=%u pools=%zu listeners=%zu",
	    lb_plane_rt.worker, c->npools, c->nlisteners);
	return 0;
}

static void
lb_plane_on_msg(const struct ipc_msg *msg)
{
	const char *data = msg->data;
	size_t i;

	if (msg->type != IPC_VERDICT || msg->len == 0 ||
	    msg->len % sizeof(struct ipc_verdict) != 0) {
		plane_msg_bad();
		return;
	}
	for (i = 0; i < msg->len / sizeof(struct ipc_verdict); i++) {
		struct ipc_verdict cp;

		/* The payload may be unaligned: copy before use. */
		memcpy(&cp, data + i * sizeof(cp), sizeof(cp));
		lb_runtime_verdict(&lb_plane_rt.rt, &cp);
	}
}

static void
lb_plane_metrics(struct buf *out)
{
	lb_metrics_render(&lb_plane_rt.rt, out);
	lb_proxy_metrics(lb_plane_rt.w, out);
}

static int
lb_plane_query(const char *method, const char *path, const char *body,
    size_t body_len, struct buf *out)
{
	return lb_api_query(
	    &lb_plane_rt.rt, lb_plane_rt.w, method, path, body, body_len, out);
}

static void
lb_plane_adopt(const struct plane_sock *socks, size_t n)
{
	lb_proxy_adopt(lb_plane_rt.w, socks, n);
}

static void
lb_plane_stop(unsigned deadline_ms)
{
	lb_proxy_stop(lb_plane_rt.w, deadline_ms);
}

/*
 * One socket per listener, opened by the parent: the lb then needs no
 * capability at all (not even for port 80), and a worker's death loses no
 * queued connection (lb_listener.c).
 */
static size_t
lb_plane_sockets(const void *conf, struct plane_sock_spec **out)
{
	const struct lb_conf *c = conf;
	struct plane_sock_spec *v = xcalloc(c->nlisteners + 1, sizeof(*v));

	for (size_t i = 0; i < c->nlisteners; i++) {
		const struct lb_listener_conf *lc = &c->listeners[i];

		snprintf(v[i].name, sizeof(v[i].name), "%s", lc->name);
		v[i].type = SOCK_STREAM;
		v[i].addr = lc->bind;
		if (lc->mode == LB_MODE_HTTP)
			v[i].flags = PLANE_SOCK_DEFER_ACCEPT;
		if (lc->freebind)
			v[i].flags |= PLANE_SOCK_FREEBIND;
	}
	*out = v;
	return c->nlisteners;
}

/* lb.workers, or one per online CPU when 0. */
static unsigned
lb_plane_nprocs(const void *conf)
{
	const struct lb_conf *c = conf;
	long n;

	if (c->workers > 0)
		return c->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

const struct plane_ops lb_plane = {
	.name = "lb",
	.init = lb_plane_init,
	.apply = lb_plane_apply,
	.on_msg = lb_plane_on_msg,
	.query = lb_plane_query,
	.metrics = lb_plane_metrics,
	.stop = lb_plane_stop,
	.adopt = lb_plane_adopt,
	.nprocs = lb_plane_nprocs,
	.targets = lb_targets,
	.sockets = lb_plane_sockets,
	.check_refs = lb_targets_check_refs,
	.replay_key = lb_api_replay_key,
	.status = lb_status_print,
};
