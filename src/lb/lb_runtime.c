/*
 * lb_runtime.c - the pools of one lb worker and the entry points that change
 * them: reloads (diff by name), health verdicts and operator actions.
 *
 * A process-wide singleton because a worker is one single-threaded process
 * with one config; tests call lb_runtime_init/fini around each case.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb/lb_pool_priv.h"
#include "lb/lb_uring.h"
#include "lib/log.h"

static struct {
	struct ev_loop *loop;   /* borrowed */
	struct lb_pool **pools; /* owned array of counted pointers */
	size_t npools;
	/* lb_runtime_pool's index: name -> pool borrowed from pools. */
	struct namemap byname;
	lb_passive_hook_fn *passive_hook;
	lb_down_hook_fn *down_hook;
	uint64_t verdicts_unknown; /* verdicts for targets we do not have */
	uint64_t passive_unsent;   /* reports with no hook to take them */
} lb_rt;

void
lb_runtime_init(struct ev_loop *loop)
{
	memset(&lb_rt, 0, sizeof(lb_rt));
	lb_rt.loop = loop;
}

void
lb_runtime_fini(void)
{
	lb_runtime_apply(NULL);
	lb_uring_fini();
	namemap_fini(&lb_rt.byname);
	free(lb_rt.pools);
	lb_rt.pools = NULL;
	lb_rt.loop = NULL;
}

struct ev_loop *
lb_runtime_loop(void)
{
	return lb_rt.loop;
}

void
lb_runtime_set_passive_hook(lb_passive_hook_fn *fn)
{
	lb_rt.passive_hook = fn;
}

void
lb_runtime_set_down_hook(lb_down_hook_fn *fn)
{
	lb_rt.down_hook = fn;
}

void
lb_runtime_server_down(struct lb_server *s)
{
	if (lb_rt.down_hook != NULL)
		lb_rt.down_hook(s);
}

void
lb_runtime_passive_report(const struct ipc_passive *p)
{
	if (lb_rt.passive_hook != NULL)
		lb_rt.passive_hook(p);
	else
		lb_rt.passive_unsent++;
}

/* Per verdict and per API request: a hash lookup, not a scan. */
struct lb_pool *
lb_runtime_pool(const char *name)
{
	return namemap_get(&lb_rt.byname, name);
}

size_t
lb_runtime_npools(void)
{
	return lb_rt.npools;
}

struct lb_pool *
lb_runtime_pool_at(size_t i)
{
	return i < lb_rt.npools ? lb_rt.pools[i] : NULL;
}

uint64_t
lb_runtime_verdicts_unknown(void)
{
	return lb_rt.verdicts_unknown;
}

uint64_t
lb_runtime_passive_unsent(void)
{
	return lb_rt.passive_unsent;
}

int
lb_runtime_apply(const struct lb_conf *conf)
{
	size_t n = conf != NULL ? conf->npools : 0, i;
	struct lb_pool **nv = xcalloc(n + 1, sizeof(*nv)), *p;

	for (i = 0; i < n; i++) {
		p = lb_runtime_pool(conf->pools[i].name);
		if (p != NULL) {
			lb_pool_update(p, &conf->pools[i]);
			p->removed = true; /* marks "kept" for the sweep */
		} else {
			p = lb_pool_new(&conf->pools[i]);
			/* Cannot fail: lb_runtime_pool said absent. */
			(void)namemap_add(&lb_rt.byname, p->name, p);
		}
		nv[i] = p;
	}
	for (i = 0; i < lb_rt.npools; i++) {
		p = lb_rt.pools[i];
		if (p->removed) {
			p->removed = false;
			continue;
		}
		log_info("pool removed", "pool=%s", log_q(p->name));
		(void)namemap_del(&lb_rt.byname, p->name);
		lb_pool_release(p);
	}
	for (i = 0; i < n; i++)
		nv[i]->removed = false;
	free(lb_rt.pools);
	lb_rt.pools = nv;
	lb_rt.npools = n;
	return 0;
}

/* Find "pool/server" among the configured servers. */
static struct lb_server *
lb_runtime_find(const char *target)
{
	const char *slash = strchr(target, '/');
	char pname[IPC_NAME_MAX];
	struct lb_pool *p;

	if (slash == NULL || (size_t)(slash - target) >= sizeof(pname))
		return NULL;
	memcpy(pname, target, (size_t)(slash - target));
	pname[slash - target] = '\0';
	p = lb_runtime_pool(pname);
	return p != NULL ? lb_pool_server(p, slash + 1) : NULL;
}

void
lb_runtime_verdict(const struct ipc_verdict *v)
{
	char target[IPC_NAME_MAX + 1];
	struct lb_server *s;

	memcpy(target, v->target, IPC_NAME_MAX);
	target[IPC_NAME_MAX] = '\0';
	s = lb_runtime_find(target);
	if (s == NULL || v->state < 0 || v->state >= HC__STATE_COUNT) {
		lb_rt.verdicts_unknown++;
		return;
	}
	lb_server_set_verdict(s, (enum hc_state)v->state,
	    v->reason >= 0 && v->reason < HC__REASON_COUNT ?
	        (enum hc_reason)v->reason :
	        HC_R_INTERNAL,
	    v->probe_state == HC_UP ? HC_UP : (enum hc_state)v->state);
}

static struct lb_server *
lb_runtime_server(const char *pool, const char *server)
{
	struct lb_pool *p = lb_runtime_pool(pool);

	return p != NULL ? lb_pool_server(p, server) : NULL;
}

int
lb_runtime_set_admin(const char *pool, const char *server, enum lb_admin st)
{
	struct lb_server *s = lb_runtime_server(pool, server);

	if (s == NULL)
		return -ENOENT;
	lb_server_set_admin(s, st);
	return 0;
}

int
lb_runtime_set_weight(const char *pool, const char *server, uint32_t weight)
{
	struct lb_server *s = lb_runtime_server(pool, server);

	if (s == NULL)
		return -ENOENT;
	if (weight > 10000)
		return -EINVAL;
	lb_server_set_weight(s, weight);
	return 0;
}

int
lb_runtime_failback(const char *pool)
{
	struct lb_pool *p = lb_runtime_pool(pool);

	if (p == NULL)
		return -ENOENT;
	return lb_zone_failback(p);
}
