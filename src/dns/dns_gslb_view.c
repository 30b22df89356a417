/*
 * dns_gslb_view.c - what the decision state shows and keeps: the API's
 * JSON views, a plan's preview, and the state file's text. Pure: no I/O,
 * clock or globals.
 *
 * The preview runs the same rules as dns_gslb_eval on a copy of the
 * pools' availability with the plan's pools forced off, and compares the
 * candidate addresses of each policy before and after: it changes
 * nothing, so an operator may preview as often as they like.
 *
 * The saved text is one entry per line, names last so that they may hold
 * anything but a newline:
 *     haven-gslb 1
 *     addr up|down POOL/LABEL
 *     plan executed|rolled-back PLAN
 *     policy SET NAME POLICY
 * Times are not saved: now_ms is monotonic and means nothing after a
 * restart, so a restored state counts from the restore.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_gslb_priv.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/util.h"

#define DNS_GSLB_VIEW_MAGIC "haven-gslb 1"

static const char *const dns_gslb_view_mode_names[] = { "smart", "online",
	"offline" };
static const char *const dns_gslb_view_lb_names[] = { "all", "weighted",
	"round-robin" };

/* A joined label list as a JSON array. */
static void
dns_gslb_view_labels(struct jw *w, const struct buf *b)
{
	const char *p = b->data, *end = b->data + b->len;

	jw_arr_begin(w);
	while (p != NULL && p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));

		if (c == NULL)
			c = end;
		jw_strn(w, p, (size_t)(c - p));
		p = c + 1;
	}
	jw_arr_end(w);
}

static bool *
dns_gslb_view_avail(const struct dns_gslb *g, const struct dns_gslb_plan *pl)
{
	bool *avail = xcalloc(g->conf->npools + 1, sizeof(*avail));

	for (size_t i = 0; i < g->conf->npools; i++)
		avail[i] = pl == NULL ? g->pools[i].avail :
		                        dns_gslb_pool_avail_with(g, i, pl);
	return avail;
}

static void
dns_gslb_view_policy(const struct dns_gslb *g, const struct dns_gslb_name *n,
    const struct dns_gslb_policy *pol, const bool *avail, struct jw *w,
    uint64_t now_ms)
{
	const struct dns_policy_conf *c = pol->c;
	uint64_t ttl = pol->degraded ? n->c->degraded_ttl_ms : n->c->ttl_ms;
	struct buf b;

	jw_obj_begin(w);
	jw_kstr(w, "policy", pol->label);
	jw_key(w, "sources");
	jw_arr_begin(w);
	for (size_t k = 0; k < c->nsources; k++)
		jw_str(w, c->sources[k]);
	jw_arr_end(w);
	jw_kstr(w, "set", dns_gslb_set_names[pol->set]);
	jw_kuint(w, "since_ms", pol->since_ms);
	jw_kuint(
	    w, "for_ms", now_ms > pol->since_ms ? now_ms - pol->since_ms : 0);
	jw_kbool(w, "degraded", pol->degraded);
	jw_kuint(w, "ttl",
	    pol->set == DNS_SET_LAST_RESORT ? n->c->degraded_ttl_ms / 1000 :
	                                      ttl / 1000);
	jw_kstr(w, "failback",
	    c->failback == DNS_FAILBACK_PREEMPT ? "preemptive" :
	                                          "non-preemptive");
	jw_kuint(w, "hold_down_ms", c->hold_down_ms);
	jw_kstr(w, "fail", c->fail == DNS_FAIL_OPEN ? "open" : "closed");
	jw_kbool(w, "default_available", pol->dflt_avail);
	jw_key(w, "failback_at_ms");
	if (pol->set == DNS_SET_BACKUP && pol->dflt_avail &&
	    c->failback == DNS_FAILBACK_PREEMPT)
		jw_uint(w, pol->dflt_since_ms + c->hold_down_ms);
	else
		jw_null(w);
	buf_init(&b);
	dns_gslb_set_labels(g, pol, pol->set, avail, &b);
	jw_key(w, "answer");
	dns_gslb_view_labels(w, &b);
	buf_fini(&b);
	jw_obj_end(w);
}

static void
dns_gslb_view_names(const struct dns_gslb *g, struct jw *w, uint64_t now_ms)
{
	bool *avail = dns_gslb_view_avail(g, NULL);

	jw_key(w, "names");
	jw_arr_begin(w);
	for (size_t i = 0; i < g->conf->nnames; i++) {
		const struct dns_gslb_name *n = &g->names[i];

		jw_obj_begin(w);
		jw_kstr(w, "name", n->c->name);
		jw_kuint(w, "ttl_ms", n->c->ttl_ms);
		jw_kuint(w, "degraded_ttl_ms", n->c->degraded_ttl_ms);
		jw_key(w, "policies");
		jw_arr_begin(w);
		for (size_t j = 0; j < n->c->npolicies; j++)
			dns_gslb_view_policy(
			    g, n, &n->pol[j], avail, w, now_ms);
		jw_arr_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	free(avail);
}

static void
dns_gslb_view_pools(const struct dns_gslb *g, struct jw *w)
{
	jw_key(w, "pools");
	jw_arr_begin(w);
	for (size_t i = 0; i < g->conf->npools; i++) {
		const struct dns_gslb_pool *p = &g->pools[i];

		jw_obj_begin(w);
		jw_kstr(w, "name", p->c->name);
		jw_kbool(w, "available", p->avail);
		jw_kuint(w, "since_ms", p->since_ms);
		jw_kbool(w, "forced_offline", p->forced > 0);
		jw_kuint(w, "up", dns_gslb_pool_up(p));
		jw_kuint(w, "need", dns_gslb_pool_need(p));
		jw_kstr(w, "lb", dns_gslb_view_lb_names[p->c->lb]);
		jw_key(w, "check");
		if (p->c->check != NULL)
			jw_str(w, p->c->check);
		else
			jw_null(w);
		jw_key(w, "addresses");
		jw_arr_begin(w);
		for (size_t j = 0; j < p->c->naddresses; j++) {
			const struct dns_gslb_addr *a = &p->addrs[j];

			jw_obj_begin(w);
			jw_kstr(w, "address", a->c->label);
			jw_kstr(w, "target", a->target);
			jw_kstr(
			    w, "mode", dns_gslb_view_mode_names[a->c->mode]);
			jw_kstr(w, "health", dns_gslb_health_names[a->health]);
			jw_kbool(w, "usable", dns_gslb_addr_usable(a));
			jw_kuint(w, "since_ms", a->since_ms);
			jw_kuint(w, "weight", a->c->weight);
			jw_obj_end(w);
		}
		jw_arr_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void
dns_gslb_view_plans(const struct dns_gslb *g, struct jw *w)
{
	jw_key(w, "plans");
	jw_arr_begin(w);
	for (size_t i = 0; i < g->conf->nplans; i++) {
		const struct dns_gslb_plan *pl = &g->plans[i];

		jw_obj_begin(w);
		jw_kstr(w, "name", pl->c->name);
		jw_kstr(w, "state", dns_gslb_plan_names[pl->state]);
		jw_kuint(w, "since_ms", pl->since_ms);
		jw_kuint(w, "rollback_after_ms", pl->c->rollback_after_ms);
		jw_key(w, "pools");
		jw_arr_begin(w);
		for (size_t j = 0; j < pl->c->npools; j++)
			jw_str(w, pl->c->pools[j]);
		jw_arr_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

void
dns_gslb_json(const struct dns_gslb *g, struct jw *w, uint64_t now_ms)
{
	jw_obj_begin(w);
	dns_gslb_view_names(g, w, now_ms);
	dns_gslb_view_pools(g, w);
	dns_gslb_view_plans(g, w);
	jw_obj_end(w);
}

int
dns_gslb_preview_json(const struct dns_gslb *g, const char *plan, struct jw *w)
{
	const struct dns_gslb_plan *pl = NULL;
	bool *before, *after;
	struct buf b1, b2;
	size_t i, j;

	for (i = 0; i < g->conf->nplans; i++)
		if (strcmp(g->plans[i].c->name, plan) == 0)
			pl = &g->plans[i];
	if (pl == NULL)
		return -ENOENT;
	before = dns_gslb_view_avail(g, NULL);
	after = dns_gslb_view_avail(g, pl);
	buf_init(&b1);
	buf_init(&b2);
	jw_obj_begin(w);
	jw_kstr(w, "plan", pl->c->name);
	jw_kstr(w, "state", dns_gslb_plan_names[pl->state]);
	jw_key(w, "changes");
	jw_arr_begin(w);
	for (i = 0; i < g->conf->nnames; i++)
		for (j = 0; j < g->names[i].c->npolicies; j++) {
			const struct dns_gslb_policy *pol = &g->names[i].pol[j];
			int to = dns_gslb_next_set(pol, pol->set, after);

			buf_reset(&b1);
			buf_reset(&b2);
			dns_gslb_set_labels(g, pol, pol->set, before, &b1);
			dns_gslb_set_labels(g, pol, to, after, &b2);
			if (to == pol->set && b1.len == b2.len &&
			    (b1.len == 0 ||
			        memcmp(b1.data, b2.data, b1.len) == 0))
				continue;
			jw_obj_begin(w);
			jw_kstr(w, "name", g->names[i].c->name);
			jw_kstr(w, "policy", pol->label);
			jw_kstr(w, "set_before", dns_gslb_set_names[pol->set]);
			jw_kstr(w, "set_after", dns_gslb_set_names[to]);
			jw_key(w, "before");
			dns_gslb_view_labels(w, &b1);
			jw_key(w, "after");
			dns_gslb_view_labels(w, &b2);
			jw_obj_end(w);
		}
	jw_arr_end(w);
	jw_obj_end(w);
	buf_fini(&b1);
	buf_fini(&b2);
	free(before);
	free(after);
	return 0;
}

void
dns_gslb_save(const struct dns_gslb *g, struct buf *out)
{
	size_t i, j;

	buf_puts(out, DNS_GSLB_VIEW_MAGIC "\n");
	for (i = 0; i < g->conf->npools; i++)
		for (j = 0; j < g->pools[i].c->naddresses; j++) {
			const struct dns_gslb_addr *a = &g->pools[i].addrs[j];

			if (a->health != DNS_GSLB_H_UNKNOWN)
				buf_printf(out, "addr %s %s\n",
				    dns_gslb_health_names[a->health],
				    a->target);
		}
	for (i = 0; i < g->conf->nplans; i++)
		if (g->plans[i].state != DNS_GSLB_PLAN_UNEXECUTED)
			buf_printf(out, "plan %s %s\n",
			    dns_gslb_plan_names[g->plans[i].state],
			    g->plans[i].c->name);
	for (i = 0; i < g->conf->nnames; i++)
		for (j = 0; j < g->names[i].c->npolicies; j++)
			buf_printf(out, "policy %s %s %s\n",
			    dns_gslb_set_names[g->names[i].pol[j].set],
			    g->names[i].c->name, g->names[i].pol[j].label);
}

static int
dns_gslb_view_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/*
 * One line, split into kind, value and the rest (the rest may hold
 * spaces). Returns 0 and applies it when apply, or -EINVAL when it is
 * not an entry of the format.
 */
static int
dns_gslb_view_line(struct dns_gslb *g, char *line, bool apply)
{
	char *kind = line, *val, *rest;
	int v;

	if ((val = strchr(kind, ' ')) == NULL)
		return -EINVAL;
	*val++ = '\0';
	if ((rest = strchr(val, ' ')) == NULL || rest[1] == '\0')
		return -EINVAL;
	*rest++ = '\0';
	if (strcmp(kind, "addr") == 0) {
		struct dns_gslb_addr *a;

		v = dns_gslb_view_index(dns_gslb_health_names, 3, val);
		if (v != DNS_GSLB_H_UP && v != DNS_GSLB_H_DOWN)
			return -EINVAL;
		if (apply && (a = dns_gslb_find_target(g, rest)) != NULL)
			a->health = v;
		return 0;
	}
	if (strcmp(kind, "plan") == 0) {
		v = dns_gslb_view_index(dns_gslb_plan_names, 3, val);
		if (v != DNS_GSLB_PLAN_EXECUTED &&
		    v != DNS_GSLB_PLAN_ROLLED_BACK)
			return -EINVAL;
		for (size_t i = 0; apply && i < g->conf->nplans; i++) {
			struct dns_gslb_plan *pl = &g->plans[i];

			if (strcmp(pl->c->name, rest) != 0 || pl->state == v)
				continue;
			for (size_t j = 0; j < pl->npools; j++) {
				struct dns_gslb_pool *p =
				    &g->pools[pl->pools[j]];

				if (v == DNS_GSLB_PLAN_EXECUTED)
					p->forced++;
				else if (p->forced > 0 &&
				    pl->state == DNS_GSLB_PLAN_EXECUTED)
					p->forced--;
			}
			pl->state = v;
		}
		return 0;
	}
	if (strcmp(kind, "policy") == 0) {
		char *label = strchr(rest, ' ');

		v = dns_gslb_view_index(dns_gslb_set_names, 4, val);
		if (v < 0 || label == NULL)
			return -EINVAL;
		*label++ = '\0';
		for (size_t i = 0; apply && i < g->conf->nnames; i++) {
			struct dns_gslb_name *n = &g->names[i];

			if (strcmp(n->c->name, rest) != 0)
				continue;
			for (size_t j = 0; j < n->c->npolicies; j++)
				if (strcmp(n->pol[j].label, label) == 0 &&
				    (v != DNS_SET_BACKUP || n->pol[j].nb > 0))
					n->pol[j].set = v;
		}
		return 0;
	}
	return -EINVAL;
}

/* Every line checked, then (apply) applied. */
static int
dns_gslb_view_lines(
    struct dns_gslb *g, const char *text, size_t len, bool apply)
{
	char *copy = xmalloc(len + 1), *p, *nl;
	int rc = 0;

	memcpy(copy, text, len);
	copy[len] = '\0';
	nl = strchr(copy, '\n');
	if (nl == NULL || (size_t)(nl - copy) != strlen(DNS_GSLB_VIEW_MAGIC) ||
	    memcmp(copy, DNS_GSLB_VIEW_MAGIC, (size_t)(nl - copy)) != 0)
		rc = -EINVAL;
	for (p = nl != NULL ? nl + 1 : NULL; rc == 0 && p != NULL && *p != '\0';
	     p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		rc = dns_gslb_view_line(g, p, apply);
	}
	free(copy);
	return rc;
}

int
dns_gslb_restore(
    struct dns_gslb *g, const char *text, size_t len, uint64_t now_ms)
{
	int rc;

	if (memchr(text, '\0', len) != NULL ||
	    (rc = dns_gslb_view_lines(g, text, len, false)) != 0)
		return -EINVAL;
	(void)dns_gslb_view_lines(g, text, len, true);
	/* what was true before the restart is not news: no events, and
	 * the hold-downs count from now */
	g->quiet = true;
	for (size_t i = 0; i < g->conf->npools; i++)
		for (size_t j = 0; j < g->pools[i].c->naddresses; j++)
			g->pools[i].addrs[j].since_ms = now_ms;
	for (size_t i = 0; i < g->conf->nplans; i++)
		if (g->plans[i].state != DNS_GSLB_PLAN_UNEXECUTED)
			g->plans[i].since_ms = now_ms;
	for (size_t i = 0; i < g->conf->nnames; i++)
		for (size_t j = 0; j < g->names[i].c->npolicies; j++) {
			g->names[i].pol[j].since_ms = now_ms;
			g->names[i].pol[j].dflt_avail = false;
		}
	dns_gslb_eval(g, now_ms);
	g->quiet = false;
	return 0;
}
