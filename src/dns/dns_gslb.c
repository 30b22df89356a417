/*
 * dns_gslb.c - the traffic manager's decision state: health, pools,
 * served sets, answer tables and the answers. Pure: no I/O, clock or
 * globals (time is the callers' now_ms; the picks' PRNG lives in the
 * state).
 *
 * Every input (a verdict, a plan, an operator's failback, a tick, a
 * restore) ends in dns_gslb_eval, which recomputes the pools, then every
 * policy's served set, then rebuilds every policy's table; answers only
 * read a table and make the per-query picks. Rebuilding all tables on
 * every change is deliberate: changes come at health-check rates, tens of
 * names by tens of addresses cost microseconds, and there is no
 * incremental bookkeeping to get wrong.
 *
 * Choices the header leaves open, made here:
 *   - fail open answers every address of the default set whose mode is
 *     not offline, plan-forced pools included: a plan drills health, and
 *     fail open is what happens when health says nothing is left;
 *   - the hold-down holds a failback from the backup set only: from fail
 *     open or last resort any available set is better at once;
 *   - a fresh state counts as "just switched", so it serves degraded_ttl
 *     for one hold_down (reference/gslb.md §10.3: start short).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_gslb_priv.h"
#include "lib/buf.h"
#include "lib/plane.h"
#include "lib/util.h"

const char *const dns_gslb_set_names[] = {
	[DNS_SET_DEFAULT] = "default",
	[DNS_SET_BACKUP] = "backup",
	[DNS_SET_FAIL_OPEN] = "fail-open",
	[DNS_SET_LAST_RESORT] = "last-resort",
};
const char *const dns_gslb_health_names[] = {
	[DNS_GSLB_H_UNKNOWN] = "unknown",
	[DNS_GSLB_H_UP] = "up",
	[DNS_GSLB_H_DOWN] = "down",
};
const char *const dns_gslb_plan_names[] = {
	[DNS_GSLB_PLAN_UNEXECUTED] = "unexecuted",
	[DNS_GSLB_PLAN_EXECUTED] = "executed",
	[DNS_GSLB_PLAN_ROLLED_BACK] = "rolled-back",
};

static void
dns_gslb_emit(struct dns_gslb *g, enum dns_gslb_event_kind kind,
    uint64_t now_ms, const struct dns_gslb_event *tmpl)
{
	struct dns_gslb_event e = *tmpl;

	if (g->ev == NULL || g->quiet)
		return;
	e.kind = kind;
	e.at_ms = now_ms;
	g->ev(&e, g->arg);
}

/* ---- addresses and pools */

bool
dns_gslb_addr_usable(const struct dns_gslb_addr *a)
{
	return a->c->mode == DNS_ADDR_ONLINE ||
	    (a->c->mode == DNS_ADDR_SMART && a->health != DNS_GSLB_H_DOWN);
}

size_t
dns_gslb_pool_up(const struct dns_gslb_pool *p)
{
	size_t up = 0;

	for (size_t i = 0; i < p->c->naddresses; i++)
		up += dns_gslb_addr_usable(&p->addrs[i]);
	return up;
}

size_t
dns_gslb_pool_need(const struct dns_gslb_pool *p)
{
	size_t n = p->c->naddresses, need;

	if (!p->c->available_pct)
		return p->c->available;
	need = (n * p->c->available + 99) / 100;
	return need > 0 ? need : 1;
}

static bool
dns_gslb_plan_has(const struct dns_gslb_plan *pl, size_t pool)
{
	for (size_t i = 0; pl != NULL && i < pl->npools; i++)
		if (pl->pools[i] == pool)
			return true;
	return false;
}

bool
dns_gslb_pool_avail_with(
    const struct dns_gslb *g, size_t i, const struct dns_gslb_plan *extra)
{
	const struct dns_gslb_pool *p = &g->pools[i];

	if (p->forced > 0 || dns_gslb_plan_has(extra, i))
		return false;
	return dns_gslb_pool_up(p) >= dns_gslb_pool_need(p);
}

static long
dns_gslb_pool_find(const struct dns_gslb *g, const char *name, size_t len)
{
	for (size_t i = 0; i < g->conf->npools; i++)
		if (strlen(g->pools[i].c->name) == len &&
		    memcmp(g->pools[i].c->name, name, len) == 0)
			return (long)i;
	return -1;
}

struct dns_gslb_addr *
dns_gslb_find_target(struct dns_gslb *g, const char *target)
{
	const char *slash = strchr(target, '/');
	long pi;

	if (slash == NULL ||
	    (pi = dns_gslb_pool_find(g, target, (size_t)(slash - target))) < 0)
		return NULL;
	for (size_t i = 0; i < g->pools[pi].c->naddresses; i++)
		if (strcmp(g->pools[pi].addrs[i].c->label, slash + 1) == 0)
			return &g->pools[pi].addrs[i];
	return NULL;
}

/* ---- sets */

static bool
dns_gslb_set_avail(const size_t *idx, size_t n, const bool *avail)
{
	for (size_t i = 0; i < n; i++)
		if (avail[idx[i]])
			return true;
	return false;
}

int
dns_gslb_next_set(const struct dns_gslb_policy *pol, int cur, const bool *avail)
{
	bool d = dns_gslb_set_avail(pol->dset, pol->nd, avail);
	bool b = dns_gslb_set_avail(pol->bset, pol->nb, avail);
	int fail = pol->c->fail == DNS_FAIL_OPEN ? DNS_SET_FAIL_OPEN :
	                                           DNS_SET_LAST_RESORT;

	if (cur == DNS_SET_BACKUP)
		return b ? DNS_SET_BACKUP : d ? DNS_SET_DEFAULT : fail;
	return d ? DNS_SET_DEFAULT : b ? DNS_SET_BACKUP : fail;
}

/* The addresses set answers, in order; for each, whether it is a
 * candidate. Shared by the table builder and the preview. */
static bool
dns_gslb_set_takes(const struct dns_gslb_pool *p, int set, bool pool_avail,
    const struct dns_gslb_addr *a)
{
	if (set == DNS_SET_FAIL_OPEN)
		return a->c->mode != DNS_ADDR_OFFLINE;
	return pool_avail && dns_gslb_addr_usable(a);
}

static uint16_t
dns_gslb_set_type(const struct dns_gslb *g, const struct dns_gslb_policy *pol)
{
	if (pol->nd > 0)
		return g->pools[pol->dset[0]].type;
	return pol->nb > 0 ? g->pools[pol->bset[0]].type : 0;
}

void
dns_gslb_set_labels(const struct dns_gslb *g, const struct dns_gslb_policy *pol,
    int set, const bool *avail, struct buf *b)
{
	const size_t *idx = set == DNS_SET_BACKUP ? pol->bset : pol->dset;
	size_t n = set == DNS_SET_BACKUP ? pol->nb : pol->nd, i, j;
	uint16_t type = dns_gslb_set_type(g, pol);
	char t[64];
	bool first = true;

	if (set == DNS_SET_LAST_RESORT) {
		for (i = 0; i < pol->c->nlast_resort; i++) {
			const struct sockaddr_storage *ss =
			    &pol->c->last_resort[i];
			const void *ap = ss->ss_family == AF_INET ?
			    (const void *)&((const struct sockaddr_in *)ss)
			        ->sin_addr :
			    (const void *)&((const struct sockaddr_in6 *)ss)
			        ->sin6_addr;

			inet_ntop(ss->ss_family, ap, t, sizeof(t));
			buf_printf(b, "%s%s", first ? "" : ",", t);
			first = false;
		}
		return;
	}
	for (i = 0; i < n; i++) {
		const struct dns_gslb_pool *p = &g->pools[idx[i]];

		if (p->type != type)
			continue;
		for (j = 0; j < p->c->naddresses; j++)
			if (dns_gslb_set_takes(
			        p, set, avail[idx[i]], &p->addrs[j])) {
				buf_printf(b, "%s%s", first ? "" : ",",
				    p->addrs[j].c->label);
				first = false;
			}
	}
}

/* ---- tables */

static void
dns_gslb_table_fini(struct dns_gslb_table *t)
{
	for (size_t i = 0; i < t->nseg; i++)
		free(t->seg[i].cum);
	free(t->seg);
	free(t->rd);
	memset(t, 0, sizeof(*t));
}

static void
dns_gslb_table_build(struct dns_gslb *g, const struct dns_gname_conf *gc,
    struct dns_gslb_policy *pol, struct dns_gslb_table *t)
{
	const size_t *idx = pol->set == DNS_SET_BACKUP ? pol->bset : pol->dset;
	size_t n = pol->set == DNS_SET_BACKUP ? pol->nb : pol->nd, i, j,
	       max = 0;

	dns_gslb_table_fini(t);
	t->type = dns_gslb_set_type(g, pol);
	for (i = 0; i < n; i++)
		max += g->pools[idx[i]].c->naddresses;
	t->rd = xcalloc(max > 0 ? max : 1, sizeof(*t->rd));
	t->seg = xcalloc(n > 0 ? n : 1, sizeof(*t->seg));
	t->simple = true;
	for (i = 0; i < n; i++) {
		const struct dns_gslb_pool *p = &g->pools[idx[i]];
		struct dns_gslb_seg *s = &t->seg[t->nseg];
		uint32_t w = 0;

		if (p->type != t->type)
			continue;
		s->off = t->n;
		s->lb = p->c->lb;
		for (j = 0; j < p->c->naddresses; j++)
			if (dns_gslb_set_takes(
			        p, pol->set, p->avail, &p->addrs[j]))
				t->rd[t->n++] = p->addrs[j].rd;
		s->n = t->n - s->off;
		if (s->n == 0)
			continue;
		if (s->lb == DNS_LB_WEIGHTED) {
			size_t k = 0;

			s->cum = xcalloc(s->n, sizeof(*s->cum));
			for (j = 0; j < p->c->naddresses; j++)
				if (dns_gslb_set_takes(
				        p, pol->set, p->avail, &p->addrs[j])) {
					w += p->addrs[j].c->weight;
					s->cum[k++] = w;
				}
		}
		if (s->lb != DNS_LB_ALL && s->n > 1)
			t->simple = false;
		t->nseg++;
	}
	if (t->n == 0)
		t->type = 0;
	t->ttl = (uint32_t)((pol->degraded ? gc->degraded_ttl_ms : gc->ttl_ms) /
	    1000);
}

/* The last resort: static, built once, always degraded_ttl. */
static void
dns_gslb_lr_build(const struct dns_gname_conf *gc, struct dns_gslb_policy *pol)
{
	const struct dns_policy_conf *c = pol->c;

	for (int f = 0; f < 2; f++) {
		struct dns_gslb_table *t = &pol->lr[f];
		int fam = f == 0 ? AF_INET : AF_INET6;

		t->rd = xcalloc(c->nlast_resort + 1, sizeof(*t->rd));
		for (size_t i = 0; i < c->nlast_resort; i++) {
			const struct sockaddr_storage *ss = &c->last_resort[i];

			if (ss->ss_family != fam)
				continue;
			if (fam == AF_INET)
				t->rd[t->n++] = (struct dns_rdata){
					(const uint8_t *)&(
					    (const struct sockaddr_in *)ss)
					    ->sin_addr,
					4
				};
			else
				t->rd[t->n++] = (struct dns_rdata){
					(const uint8_t *)&(
					    (const struct sockaddr_in6 *)ss)
					    ->sin6_addr,
					16
				};
		}
		t->type = t->n == 0 ? 0 : f == 0 ? DNS_TYPE_A : DNS_TYPE_AAAA;
		t->ttl = (uint32_t)(gc->degraded_ttl_ms / 1000);
		t->simple = true;
	}
}

/* ---- evaluation */

static bool
dns_gslb_any_down(const struct dns_gslb *g, const struct dns_gslb_policy *pol)
{
	const size_t *idx = pol->set == DNS_SET_BACKUP ? pol->bset : pol->dset;
	size_t n = pol->set == DNS_SET_BACKUP ? pol->nb : pol->nd;

	for (size_t i = 0; i < n; i++) {
		const struct dns_gslb_pool *p = &g->pools[idx[i]];

		for (size_t j = 0; j < p->c->naddresses; j++)
			if (p->addrs[j].c->mode == DNS_ADDR_SMART &&
			    p->addrs[j].health == DNS_GSLB_H_DOWN)
				return true;
	}
	return false;
}

static void
dns_gslb_eval_pools(struct dns_gslb *g, uint64_t now_ms, bool *avail)
{
	for (size_t i = 0; i < g->conf->npools; i++) {
		struct dns_gslb_pool *p = &g->pools[i];

		avail[i] = dns_gslb_pool_avail_with(g, i, NULL);
		if (avail[i] == p->avail)
			continue;
		p->avail = avail[i];
		p->since_ms = now_ms;
		dns_gslb_emit(g,
		    avail[i] ? DNS_GSLB_POOL_UP : DNS_GSLB_POOL_DOWN, now_ms,
		    &(struct dns_gslb_event){ .pool = p->c->name });
	}
}

static void
dns_gslb_eval_policy(struct dns_gslb *g, const struct dns_gslb_name *n,
    struct dns_gslb_policy *pol, const bool *avail, uint64_t now_ms)
{
	bool d = dns_gslb_set_avail(pol->dset, pol->nd, avail);
	int next;

	if (d && !pol->dflt_avail)
		pol->dflt_since_ms = now_ms;
	pol->dflt_avail = d;
	next = dns_gslb_next_set(pol, pol->set, avail);
	if (next == DNS_SET_BACKUP && d &&
	    pol->c->failback == DNS_FAILBACK_PREEMPT &&
	    now_ms >= pol->dflt_since_ms + pol->c->hold_down_ms)
		next = DNS_SET_DEFAULT;
	if (next != pol->set) {
		dns_gslb_emit(g, DNS_GSLB_SWITCH, now_ms,
		    &(struct dns_gslb_event){ .name = n->c->name,
		        .policy = pol->label,
		        .from = dns_gslb_set_names[pol->set],
		        .to = dns_gslb_set_names[next] });
		pol->set = next;
		pol->since_ms = now_ms;
	}
	pol->degraded = pol->set != DNS_SET_DEFAULT ||
	    dns_gslb_any_down(g, pol) ||
	    now_ms < pol->since_ms + pol->c->hold_down_ms;
	dns_gslb_table_build(g, n->c, pol, &pol->tab);
}

void
dns_gslb_eval(struct dns_gslb *g, uint64_t now_ms)
{
	bool *avail = xcalloc(g->conf->npools + 1, sizeof(*avail));

	dns_gslb_eval_pools(g, now_ms, avail);
	for (size_t i = 0; i < g->conf->nnames; i++)
		for (size_t j = 0; j < g->names[i].c->npolicies; j++)
			dns_gslb_eval_policy(g, &g->names[i],
			    &g->names[i].pol[j], avail, now_ms);
	free(avail);
}

/* ---- building and taking over */

static void
dns_gslb_pools_new(struct dns_gslb *g)
{
	const struct dns_gslb_conf *conf = g->conf;

	g->pools = xcalloc(conf->npools + 1, sizeof(*g->pools));
	for (size_t i = 0; i < conf->npools; i++) {
		struct dns_gslb_pool *p = &g->pools[i];

		p->c = &conf->pools[i];
		p->addrs = xcalloc(p->c->naddresses + 1, sizeof(*p->addrs));
		for (size_t j = 0; j < p->c->naddresses; j++) {
			struct dns_gslb_addr *a = &p->addrs[j];
			struct sockaddr_storage *ss;

			a->c = &p->c->addresses[j];
			ss = (struct sockaddr_storage *)&a->c->address;
			snprintf(a->target, sizeof(a->target), "%s/%s",
			    p->c->name, a->c->label != NULL ? a->c->label : "");
			if (a->c->cname[0] != 0)
				a->rd = (struct dns_rdata){ a->c->cname,
					(uint16_t)dns_name_len(a->c->cname) };
			else if (ss->ss_family == AF_INET)
				a->rd = (struct dns_rdata){
					(const uint8_t *)&(
					    (struct sockaddr_in *)ss)
					    ->sin_addr,
					4
				};
			else
				a->rd = (struct dns_rdata){
					(const uint8_t *)&(
					    (struct sockaddr_in6 *)ss)
					    ->sin6_addr,
					16
				};
			g->nscratch++;
		}
		p->type = p->c->naddresses == 0      ? 0 :
		    p->c->addresses[0].cname[0] != 0 ? DNS_TYPE_CNAME :
		    p->c->addresses[0].address.ss_family == AF_INET6 ?
		                                       DNS_TYPE_AAAA :
		                                       DNS_TYPE_A;
	}
}

static size_t *
dns_gslb_resolve(
    const struct dns_gslb *g, char **names, size_t n, size_t *count)
{
	size_t *idx = xcalloc(n + 1, sizeof(*idx));
	long pi;

	*count = 0;
	for (size_t i = 0; i < n; i++)
		if ((pi = dns_gslb_pool_find(g, names[i], strlen(names[i]))) >=
		    0)
			idx[(*count)++] = (size_t)pi;
	return idx;
}

/* Policy j's regions' networks into n's map, valued j. */
static void
dns_gslb_name_map_add(struct dns_gslb *g, struct dns_gslb_name *n, size_t j)
{
	const struct dns_policy_conf *pc = &n->c->policies[j];

	if (n->map == NULL)
		n->map = dns_cidr_map_new();
	for (size_t k = 0; k < pc->nsources; k++)
		for (size_t r = 0; r < g->conf->nregions; r++) {
			const struct dns_region_conf *rc = &g->conf->regions[r];

			if (strcmp(rc->name, pc->sources[k]) != 0)
				continue;
			/* the same network in two policies is a conf
			 * error: the first added keeps it */
			for (size_t m = 0; m < rc->nnetworks; m++)
				(void)dns_cidr_map_add(
				    n->map, &rc->networks[m], (int)j);
		}
}

static void
dns_gslb_names_new(struct dns_gslb *g)
{
	const struct dns_gslb_conf *conf = g->conf;

	g->names = xcalloc(conf->nnames + 1, sizeof(*g->names));
	for (size_t i = 0; i < conf->nnames; i++) {
		struct dns_gslb_name *n = &g->names[i];

		n->c = &conf->names[i];
		n->pol = xcalloc(n->c->npolicies + 1, sizeof(*n->pol));
		for (size_t j = 0; j < n->c->npolicies; j++) {
			struct dns_gslb_policy *pol = &n->pol[j];
			const struct dns_policy_conf *pc = &n->c->policies[j];
			struct buf b;

			pol->c = pc;
			pol->dset = dns_gslb_resolve(
			    g, pc->pools, pc->npools, &pol->nd);
			pol->bset = dns_gslb_resolve(
			    g, pc->backup, pc->nbackup, &pol->nb);
			buf_init(&b);
			for (size_t k = 0; k < pc->nsources; k++)
				buf_printf(&b, "%s%s", k > 0 ? "," : "",
				    pc->sources[k]);
			pol->label = pc->nsources == 0 ? xstrdup("default") :
			                                 buf_steal(&b);
			buf_fini(&b);
			if (pc->nsources == 0)
				n->dflt = j;
			else
				dns_gslb_name_map_add(g, n, j);
			dns_gslb_lr_build(n->c, pol);
		}
	}
}

static void
dns_gslb_plans_new(struct dns_gslb *g)
{
	const struct dns_gslb_conf *conf = g->conf;

	g->plans = xcalloc(conf->nplans + 1, sizeof(*g->plans));
	for (size_t i = 0; i < conf->nplans; i++) {
		g->plans[i].c = &conf->plans[i];
		g->plans[i].pools = dns_gslb_resolve(g, conf->plans[i].pools,
		    conf->plans[i].npools, &g->plans[i].npools);
	}
}

static void
dns_gslb_force(struct dns_gslb *g, const struct dns_gslb_plan *pl, bool on)
{
	for (size_t i = 0; i < pl->npools; i++) {
		struct dns_gslb_pool *p = &g->pools[pl->pools[i]];

		if (on)
			p->forced++;
		else if (p->forced > 0)
			p->forced--;
	}
}

static const struct dns_gslb_pool *
dns_gslb_old_pool(const struct dns_gslb *old, const char *name)
{
	for (size_t i = 0; i < old->conf->npools; i++)
		if (strcmp(old->pools[i].c->name, name) == 0)
			return &old->pools[i];
	return NULL;
}

static const struct dns_gslb_policy *
dns_gslb_old_policy(
    const struct dns_gslb *old, const char *name, const char *label)
{
	for (size_t i = 0; i < old->conf->nnames; i++) {
		const struct dns_gslb_name *n = &old->names[i];

		if (strcmp(n->c->name, name) != 0)
			continue;
		for (size_t j = 0; j < n->c->npolicies; j++)
			if (strcmp(n->pol[j].label, label) == 0)
				return &n->pol[j];
	}
	return NULL;
}

/* Health, plans, pools' and policies' states of whatever kept its name. */
static void
dns_gslb_take_over(struct dns_gslb *g, const struct dns_gslb *old)
{
	size_t i, j, k;

	for (i = 0; i < g->conf->npools; i++) {
		struct dns_gslb_pool *p = &g->pools[i];
		const struct dns_gslb_pool *op =
		    dns_gslb_old_pool(old, p->c->name);

		if (op == NULL)
			continue;
		p->avail = op->avail;
		p->since_ms = op->since_ms;
		for (j = 0; j < p->c->naddresses; j++)
			for (k = 0; k < op->c->naddresses; k++)
				if (strcmp(op->addrs[k].c->label,
				        p->addrs[j].c->label) == 0) {
					p->addrs[j].health =
					    op->addrs[k].health;
					p->addrs[j].since_ms =
					    op->addrs[k].since_ms;
				}
	}
	for (i = 0; i < g->conf->nplans; i++)
		for (j = 0; j < old->conf->nplans; j++)
			if (strcmp(old->plans[j].c->name,
			        g->plans[i].c->name) == 0) {
				g->plans[i].state = old->plans[j].state;
				g->plans[i].since_ms = old->plans[j].since_ms;
				if (g->plans[i].state == DNS_GSLB_PLAN_EXECUTED)
					dns_gslb_force(g, &g->plans[i], true);
			}
	for (i = 0; i < g->conf->nnames; i++)
		for (j = 0; j < g->names[i].c->npolicies; j++) {
			struct dns_gslb_policy *pol = &g->names[i].pol[j];
			const struct dns_gslb_policy *op = dns_gslb_old_policy(
			    old, g->names[i].c->name, pol->label);

			if (op == NULL ||
			    (op->set == DNS_SET_BACKUP && pol->nb == 0))
				continue;
			pol->set = op->set;
			pol->since_ms = op->since_ms;
			pol->dflt_avail = op->dflt_avail;
			pol->dflt_since_ms = op->dflt_since_ms;
		}
}

/* What a fresh state starts from, without events: the best set. */
static void
dns_gslb_initial(struct dns_gslb *g, uint64_t now_ms)
{
	bool *avail = xcalloc(g->conf->npools + 1, sizeof(*avail));

	for (size_t i = 0; i < g->conf->npools; i++) {
		g->pools[i].avail = avail[i] =
		    dns_gslb_pool_avail_with(g, i, NULL);
		g->pools[i].since_ms = now_ms;
	}
	for (size_t i = 0; i < g->conf->nnames; i++)
		for (size_t j = 0; j < g->names[i].c->npolicies; j++) {
			struct dns_gslb_policy *pol = &g->names[i].pol[j];

			pol->set =
			    dns_gslb_next_set(pol, DNS_SET_DEFAULT, avail);
			pol->since_ms = now_ms;
			pol->dflt_avail =
			    dns_gslb_set_avail(pol->dset, pol->nd, avail);
			pol->dflt_since_ms = now_ms;
		}
	free(avail);
}

struct dns_gslb *
dns_gslb_new(const struct dns_gslb_conf *conf, const struct dns_gslb *old,
    uint64_t now_ms, dns_gslb_event_fn *ev, void *arg)
{
	struct dns_gslb *g = xcalloc(1, sizeof(*g));

	g->conf = conf;
	g->ev = ev;
	g->arg = arg;
	g->rng = UINT64_C(0x9e3779b97f4a7c15);
	dns_gslb_pools_new(g);
	dns_gslb_names_new(g);
	dns_gslb_plans_new(g);
	g->scratch = xcalloc(g->nscratch + 1, sizeof(*g->scratch));
	dns_gslb_initial(g, now_ms);
	if (old != NULL)
		dns_gslb_take_over(g, old);
	dns_gslb_eval(g, now_ms);
	return g;
}

void
dns_gslb_free(struct dns_gslb *g)
{
	size_t i, j;

	if (g == NULL)
		return;
	for (i = 0; i < g->conf->npools; i++)
		free(g->pools[i].addrs);
	for (i = 0; i < g->conf->nnames; i++) {
		struct dns_gslb_name *n = &g->names[i];

		for (j = 0; j < n->c->npolicies; j++) {
			free(n->pol[j].label);
			free(n->pol[j].dset);
			free(n->pol[j].bset);
			dns_gslb_table_fini(&n->pol[j].tab);
			dns_gslb_table_fini(&n->pol[j].lr[0]);
			dns_gslb_table_fini(&n->pol[j].lr[1]);
		}
		free(n->pol);
		dns_cidr_map_free(n->map);
	}
	for (i = 0; i < g->conf->nplans; i++)
		free(g->plans[i].pools);
	free(g->pools);
	free(g->names);
	free(g->plans);
	free(g->scratch);
	free(g);
}

/* ---- inputs */

int
dns_gslb_health(
    struct dns_gslb *g, const char *target, bool up, uint64_t now_ms)
{
	struct dns_gslb_addr *a = dns_gslb_find_target(g, target);
	int h = up ? DNS_GSLB_H_UP : DNS_GSLB_H_DOWN;
	bool was_down;

	if (a == NULL)
		return -ENOENT;
	if (a->health == h)
		return 0;
	was_down = a->health == DNS_GSLB_H_DOWN;
	a->health = h;
	a->since_ms = now_ms;
	if (was_down != !up) {
		long pi = dns_gslb_pool_find(
		    g, target, (size_t)(strchr(target, '/') - target));

		dns_gslb_emit(g, up ? DNS_GSLB_ADDR_UP : DNS_GSLB_ADDR_DOWN,
		    now_ms,
		    &(struct dns_gslb_event){
		        .pool = g->pools[pi].c->name, .address = a->c->label });
	}
	dns_gslb_eval(g, now_ms);
	return 0;
}

static struct dns_gslb_plan *
dns_gslb_plan_find(const struct dns_gslb *g, const char *name)
{
	for (size_t i = 0; i < g->conf->nplans; i++)
		if (strcmp(g->plans[i].c->name, name) == 0)
			return &g->plans[i];
	return NULL;
}

int
dns_gslb_plan(
    struct dns_gslb *g, const char *plan, bool execute, uint64_t now_ms)
{
	struct dns_gslb_plan *pl = dns_gslb_plan_find(g, plan);
	int from;

	if (pl == NULL)
		return -ENOENT;
	if ((pl->state == DNS_GSLB_PLAN_EXECUTED) == execute)
		return -EALREADY;
	from = pl->state;
	pl->state =
	    execute ? DNS_GSLB_PLAN_EXECUTED : DNS_GSLB_PLAN_ROLLED_BACK;
	pl->since_ms = now_ms;
	dns_gslb_force(g, pl, execute);
	/* the plan's event first: the pools' and switches' follow from it */
	dns_gslb_emit(g, DNS_GSLB_PLAN, now_ms,
	    &(struct dns_gslb_event){ .name = pl->c->name,
	        .from = dns_gslb_plan_names[from],
	        .to = dns_gslb_plan_names[pl->state] });
	dns_gslb_eval(g, now_ms);
	return 0;
}

int
dns_gslb_failback(struct dns_gslb *g, const char *name, uint64_t now_ms)
{
	struct dns_gslb_name *n = NULL;
	bool *avail;
	size_t i;

	for (i = 0; i < g->conf->nnames; i++)
		if (strcmp(g->names[i].c->name, name) == 0)
			n = &g->names[i];
	if (n == NULL)
		return -ENOENT;
	avail = xcalloc(g->conf->npools + 1, sizeof(*avail));
	for (i = 0; i < g->conf->npools; i++)
		avail[i] = g->pools[i].avail;
	for (i = 0; i < n->c->npolicies; i++)
		if (n->pol[i].set != DNS_SET_DEFAULT &&
		    !dns_gslb_set_avail(n->pol[i].dset, n->pol[i].nd, avail)) {
			free(avail);
			return -EAGAIN;
		}
	free(avail);
	for (i = 0; i < n->c->npolicies; i++) {
		struct dns_gslb_policy *pol = &n->pol[i];

		if (pol->set == DNS_SET_DEFAULT)
			continue;
		dns_gslb_emit(g, DNS_GSLB_SWITCH, now_ms,
		    &(struct dns_gslb_event){ .name = n->c->name,
		        .policy = pol->label,
		        .from = dns_gslb_set_names[pol->set],
		        .to = dns_gslb_set_names[DNS_SET_DEFAULT] });
		pol->set = DNS_SET_DEFAULT;
		pol->since_ms = now_ms;
	}
	dns_gslb_eval(g, now_ms);
	return 0;
}

uint64_t
dns_gslb_tick(struct dns_gslb *g, uint64_t now_ms)
{
	uint64_t next = 0, t;

	dns_gslb_eval(g, now_ms);
	for (size_t i = 0; i < g->conf->nnames; i++)
		for (size_t j = 0; j < g->names[i].c->npolicies; j++) {
			const struct dns_gslb_policy *pol = &g->names[i].pol[j];
			uint64_t hold = pol->c->hold_down_ms;

			if (hold == 0)
				continue;
			/* a preemptive failback pending */
			t = pol->dflt_since_ms + hold;
			if (pol->set == DNS_SET_BACKUP && pol->dflt_avail &&
			    pol->c->failback == DNS_FAILBACK_PREEMPT &&
			    t > now_ms && (next == 0 || t < next))
				next = t;
			/* the degraded TTL after a switch ending */
			t = pol->since_ms + hold;
			if (t > now_ms && (next == 0 || t < next))
				next = t;
		}
	return next;
}

/* ---- answers */

static uint64_t
dns_gslb_rand(struct dns_gslb *g)
{
	/* xorshift64*: statistically fine for spreading picks, cheap */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * UINT64_C(2685821657736338717);
}

static size_t
dns_gslb_pick_weighted(struct dns_gslb *g, const struct dns_gslb_seg *s)
{
	uint32_t r = (uint32_t)((dns_gslb_rand(g) >> 11) % s->cum[s->n - 1]);
	size_t lo = 0, hi = s->n - 1;

	/* the first cumulative weight above r */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->cum[mid] > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void
dns_gslb_fill(
    struct dns_gslb *g, struct dns_gslb_table *t, struct dns_dyn_answer *out)
{
	size_t n = 0;

	out->type = t->type;
	out->ttl = t->ttl;
	if (t->simple) {
		out->count = (unsigned)t->n;
		out->rdata = t->rd;
		return;
	}
	for (size_t i = 0; i < t->nseg; i++) {
		struct dns_gslb_seg *s = &t->seg[i];

		if (s->lb == DNS_LB_ALL || s->n == 1) {
			memcpy(&g->scratch[n], &t->rd[s->off],
			    s->n * sizeof(*t->rd));
			n += s->n;
		} else if (s->lb == DNS_LB_WEIGHTED)
			g->scratch[n++] =
			    t->rd[s->off + dns_gslb_pick_weighted(g, s)];
		else
			g->scratch[n++] = t->rd[s->off + s->rr++ % s->n];
	}
	out->count = (unsigned)n;
	out->rdata = g->scratch;
}

int
dns_gslb_answer(void *gp, uint32_t id, uint16_t qtype,
    const struct dns_client *cl, struct dns_dyn_answer *out)
{
	struct dns_gslb *g = gp;
	struct dns_gslb_name *n;
	struct dns_gslb_policy *pol;
	struct dns_gslb_table *t;
	uint8_t scope = 0;
	int v = -1;

	if (id >= g->conf->nnames)
		return -ENOENT;
	n = &g->names[id];
	memset(out, 0, sizeof(*out));
	/* SOURCE /0: the client opted out, use nothing of it (RFC 7871
	 * §7.1.2) */
	if (n->map != NULL && !(cl->ecs && cl->bits == 0))
		v = dns_cidr_map_lookup(
		    n->map, cl->family, cl->addr, cl->bits, &scope);
	pol = &n->pol[v >= 0 ? (size_t)v : n->dflt];
	out->scope = cl->ecs ? scope : 0;
	if (pol->set == DNS_SET_LAST_RESORT)
		t = &pol->lr[qtype == DNS_TYPE_AAAA ? 1 : 0];
	else
		t = &pol->tab;
	if (t->n == 0 || (t->type != DNS_TYPE_CNAME && t->type != qtype)) {
		out->ttl = t->ttl;
		return 0;
	}
	dns_gslb_fill(g, t, out);
	return 0;
}

/* ---- health targets */

size_t
dns_gslb_targets(const struct dns_gslb_conf *conf, struct plane_target **out)
{
	size_t n = 0, i, j;

	for (i = 0; i < conf->npools; i++)
		if (conf->pools[i].check != NULL)
			n += conf->pools[i].naddresses;
	*out = xcalloc(n + 1, sizeof(**out));
	n = 0;
	for (i = 0; i < conf->npools; i++) {
		const struct dns_pool_conf *p = &conf->pools[i];

		if (p->check == NULL)
			continue;
		for (j = 0; j < p->naddresses; j++) {
			const struct dns_addr_conf *a = &p->addresses[j];
			struct plane_target *t = &(*out)[n];

			/* a cname has no address to probe, and the
			 * forced modes ignore health */
			if (a->mode != DNS_ADDR_SMART ||
			    a->address.ss_family == AF_UNSPEC)
				continue;
			snprintf(t->name, sizeof(t->name), "%s/%s", p->name,
			    a->label);
			snprintf(t->owner, sizeof(t->owner), "%s", p->name);
			t->check = p->check;
			t->addr = a->address;
			n++;
		}
	}
	return n;
}
