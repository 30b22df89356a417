/*
 * lb_runtime.c - the pools of one lb worker and the entry points that change
 * them: reloads (diff by name), health verdicts and operator actions.
 *
 * One struct lb_runtime per worker (lb_runtime.h), passed to every entry
 * point; tests call lb_runtime_init/fini on their own around each case.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb/lb_pool_priv.h"
#include "lib/log.h"

void
lb_runtime_init(struct lb_runtime *rt, struct ev_loop *loop)
{
	memset(rt, 0, sizeof(*rt));
	rt->loop = loop;
}

void
lb_runtime_fini(struct lb_runtime *rt)
{
	lb_runtime_apply(rt, NULL);
	namemap_fini(&rt->byname);
	free(rt->pools);
	rt->pools = NULL;
	rt->loop = NULL;
}

struct ev_loop *
lb_runtime_loop(const struct lb_runtime *rt)
{
	return rt != NULL ? rt->loop : NULL;
}

void
lb_runtime_set_passive_hook(struct lb_runtime *rt, lb_passive_hook_fn *fn)
{
	rt->passive_hook = fn;
}

void
lb_runtime_set_down_hook(struct lb_runtime *rt, lb_down_hook_fn *fn, void *arg)
{
	rt->down_hook = fn;
	rt->down_arg = arg;
}

void
lb_runtime_server_down(struct lb_runtime *rt, struct lb_server *s)
{
	if (rt != NULL && rt->down_hook != NULL)
		rt->down_hook(s, rt->down_arg);
}

void
lb_runtime_passive_report(struct lb_runtime *rt, const struct ipc_passive *p)
{
	if (rt == NULL)
		return;
	if (rt->passive_hook != NULL)
		rt->passive_hook(p);
	else
		rt->passive_unsent++;
}

/* Per verdict and per API request: a hash lookup, not a scan. */
struct lb_pool *
lb_runtime_pool(const struct lb_runtime *rt, const char *name)
{
	return namemap_get(&rt->byname, name);
}

size_t
lb_runtime_npools(const struct lb_runtime *rt)
{
	return rt->npools;
}

struct lb_pool *
lb_runtime_pool_at(const struct lb_runtime *rt, size_t i)
{
	return i < rt->npools ? rt->pools[i] : NULL;
}

uint64_t
lb_runtime_verdicts_unknown(const struct lb_runtime *rt)
{
	return rt->verdicts_unknown;
}

uint64_t
lb_runtime_passive_unsent(const struct lb_runtime *rt)
{
	return rt->passive_unsent;
}

int
lb_runtime_apply(struct lb_runtime *rt, const struct lb_conf *conf)
{
	size_t n = conf != NULL ? conf->npools : 0, i;
	struct lb_pool **nv = xcalloc(n + 1, sizeof(*nv)), *p;

	for (i = 0; i < n; i++) {
		p = lb_runtime_pool(rt, conf->pools[i].name);
		if (p != NULL) {
			lb_pool_update(p, &conf->pools[i]);
			p->removed = true; /* marks "kept" for the sweep */
		} else {
			p = lb_pool_new(rt, &conf->pools[i]);
			/* Cannot fail: lb_runtime_pool said absent. */
			(void)namemap_add(&rt->byname, p->name, p);
		}
		nv[i] = p;
	}
	for (i = 0; i < rt->npools; i++) {
		p = rt->pools[i];
		if (p->removed) {
			p->removed = false;
			continue;
		}
		log_info("pool removed", "pool=%s", log_q(p->name));
		(void)namemap_del(&rt->byname, p->name);
		lb_pool_release(p);
	}
	for (i = 0; i < n; i++)
		nv[i]->removed = false;
	free(rt->pools);
	rt->pools = nv;
	rt->npools = n;
	return 0;
}

/* Find "pool/server" among the configured servers. */
static struct lb_server *
lb_runtime_find(const struct lb_runtime *rt, const char *target)
{
	const char *slash = strchr(target, '/');
	char pname[IPC_NAME_MAX];
	struct lb_pool *p;

	if (slash == NULL || (size_t)(slash - target) >= sizeof(pname))
		return NULL;
	memcpy(pname, target, (size_t)(slash - target));
	pname[slash - target] = '\0';
	p = lb_runtime_pool(rt, pname);
	return p != NULL ? lb_pool_server(p, slash + 1) : NULL;
}

void
lb_runtime_verdict(struct lb_runtime *rt, const struct ipc_verdict *v)
{
	char target[IPC_NAME_MAX + 1];
	struct lb_server *s;

	memcpy(target, v->target, IPC_NAME_MAX);
	target[IPC_NAME_MAX] = '\0';
	s = lb_runtime_find(rt, target);
	if (s == NULL || v->state < 0 || v->state >= HC__STATE_COUNT) {
		rt->verdicts_unknown++;
		return;
	}
	lb_server_set_verdict(s, (enum hc_state)v->state,
	    v->reason >= 0 && v->reason < HC__REASON_COUNT ?
	        (enum hc_reason)v->reason :
	        HC_R_INTERNAL,
	    v->probe_state == HC_UP ? HC_UP : (enum hc_state)v->state);
}

static struct lb_server *
lb_runtime_server(
    const struct lb_runtime *rt, const char *pool, const char *server)
{
	struct lb_pool *p = lb_runtime_pool(rt, pool);

	return p != NULL ? lb_pool_server(p, server) : NULL;
}

int
lb_runtime_set_admin(struct lb_runtime *rt, const char *pool,
    const char *server, enum lb_admin st)
{
	struct lb_server *s = lb_runtime_server(rt, pool, server);

	if (s == NULL)
		return -ENOENT;
	lb_server_set_admin(s, st);
	return 0;
}

int
lb_runtime_set_weight(struct lb_runtime *rt, const char *pool,
    const char *server, uint32_t weight)
{
	struct lb_server *s = lb_runtime_server(rt, pool, server);

	if (s == NULL)
		return -ENOENT;
	if (weight > 10000)
		return -EINVAL;
	lb_server_set_weight(s, weight);
	return 0;
}

int
lb_runtime_failback(struct lb_runtime *rt, const char *pool)
{
	struct lb_pool *p = lb_runtime_pool(rt, pool);

	if (p == NULL)
		return -ENOENT;
	return lb_zone_failback(p);
}
