/*
 * dns_gslb_rt_api.c - what the GSLB runtime shows and accepts: the API
 * under /v1/dns/names, /v1/dns/plans and /v1/dns/events, the members of
 * GET /v1/dns, the Prometheus families and the `haven status` lines.
 *
 * The per-name and per-address views come from the pure state's own JSON
 * (dns_gslb_json), read back through jansson into a conf_node tree and
 * re-emitted with the runtime's counters beside them: the pure state has
 * one description of itself, and nothing here keeps a second copy that
 * could disagree with it. Its keys: names[] {name, policies[] {policy,
 * set, ttl, ...}, ...}, pools[] {name, addresses[] {address, usable,
 * ...}}.
 *
 * GET never changes anything; POSTs (execute, rollback, failback) are the
 * audited operations of dns_gslb_rt.c, with who "api".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_gslb_rt_priv.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "lib/metrics.h"
#include "lib/util.h"

#define DNS_RT_API_NAME_EVENTS 32 /* recent events in GET names/NAME */

/* ---- the pure state's JSON as a tree */

/* Parse the pure state's view into t; its root, or NULL. */
static struct conf_node *
dns_rt_api_state(struct dns_gslb_rt *rt, struct conf_tree *t)
{
	struct conf_errors errs;
	struct buf b;
	struct jw w;
	int rc;

	conf_tree_init(t);
	if (rt->g == NULL)
		return NULL;
	buf_init(&b);
	jw_init(&w, &b);
	dns_gslb_json(rt->g, &w, ev_now_ms(rt->loop));
	conf_errors_init(&errs);
	rc = b.data != NULL ? conf_json_load("gslb", b.data, b.len, t, &errs) :
	                      -1;
	conf_errors_fini(&errs);
	buf_fini(&b);
	return rc == 0 ? t->root : NULL;
}

/* Write n (and all below it) with w as it came. */
static void
dns_rt_api_node(struct jw *w, const struct conf_node *n)
{
	size_t i;

	if (n == NULL) {
		jw_null(w);
		return;
	}
	switch (n->kind) {
	case CN_SCALAR:
		if (n->plain)
			jw_raw(w, n->text, n->len);
		else
			jw_strn(w, n->text, n->len);
		break;
	case CN_SEQ:
		jw_arr_begin(w);
		for (i = 0; i < n->n; i++)
			dns_rt_api_node(w, conf_node_item(n, i));
		jw_arr_end(w);
		break;
	case CN_MAP:
		jw_obj_begin(w);
		for (i = 0; i < n->n; i++) {
			const struct conf_node *k = conf_node_key(n, i);

			jw_key(w, k != NULL && k->text != NULL ? k->text : "");
			dns_rt_api_node(w, conf_node_value(n, i));
		}
		jw_obj_end(w);
		break;
	}
}

/* The members of map n, without its braces. */
static void
dns_rt_api_members(struct jw *w, const struct conf_node *n)
{
	size_t i;

	for (i = 0; i < conf_node_count(n) && conf_node_is_map(n); i++) {
		const struct conf_node *k = conf_node_key(n, i);

		jw_key(w, k != NULL && k->text != NULL ? k->text : "");
		dns_rt_api_node(w, conf_node_value(n, i));
	}
}

/* The text of scalar path below n (NULL if absent): borrowed. */
static const char *
dns_rt_api_text(struct conf_node *n, const char *path)
{
	struct conf_node *x = conf_node_at(n, path);

	return conf_node_is_scalar(x) ? x->text : NULL;
}

static struct conf_node *
dns_rt_api_state_name(struct conf_node *root, const char *name)
{
	struct conf_node *names = conf_node_at(root, "/names"), *n;
	const char *s;
	size_t i;

	for (i = 0; (n = conf_node_item(names, i)) != NULL; i++)
		if ((s = dns_rt_api_text(n, "/name")) != NULL &&
		    strcmp(s, name) == 0)
			return n;
	return NULL;
}

/* ---- events */

static void
dns_rt_api_kstr(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	if (v == NULL)
		jw_null(w);
	else
		jw_str(w, v);
}

static void
dns_rt_api_event(struct jw *w, const struct dns_rt_event *e)
{
	jw_obj_begin(w);
	jw_kuint(w, "seq", e->seq);
	jw_kuint(w, "at_ms", e->at_ms);
	jw_kstr(w, "kind", dns_rt_kind_name(e->kind));
	dns_rt_api_kstr(w, "name", e->name);
	dns_rt_api_kstr(w, "policy", e->policy);
	dns_rt_api_kstr(w, "pool", e->pool);
	dns_rt_api_kstr(w, "address", e->address);
	dns_rt_api_kstr(w, "plan", e->plan);
	dns_rt_api_kstr(w, "from", e->from);
	dns_rt_api_kstr(w, "to", e->to);
	dns_rt_api_kstr(w, "who", e->who);
	jw_obj_end(w);
}

/* The oldest sequence number still in the ring (0: none). */
static uint64_t
dns_rt_api_oldest(const struct dns_gslb_rt *rt)
{
	if (rt->seq == 0)
		return 0;
	return rt->seq > DNS_GSLB_RT_EVENTS ? rt->seq - DNS_GSLB_RT_EVENTS + 1 :
	                                      1;
}

/* ?since=N; 0 when absent. -1 if malformed. */
static int
dns_rt_api_since(const char *q, uint64_t *since)
{
	const char *p;
	char *end;

	*since = 0;
	for (p = q; p != NULL && *p != '\0'; p = strchr(p, '&')) {
		if (*p == '&')
			p++;
		if (strncmp(p, "since=", 6) != 0)
			continue;
		p += 6;
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		*since = strtoull(p, &end, 10);
		if (errno != 0 || (*end != '\0' && *end != '&'))
			return -1;
		return 0;
	}
	return 0;
}

/*
 * Every event after since still kept, oldest first. Numbers leave no gap,
 * so an oldest kept past since + 1 means some were overwritten: "lost". A
 * since past the newest is a client of an earlier process (numbers
 * restart with it): it gets everything kept, also marked lost.
 */
static int
dns_rt_api_events(struct dns_gslb_rt *rt, const char *query, struct buf *out)
{
	uint64_t since, oldest = dns_rt_api_oldest(rt), s;
	bool lost;
	struct jw w;

	if (dns_rt_api_since(query, &since) != 0) {
		buf_puts(out, "{\"error\":\"since: expected a number\"}");
		return 400;
	}
	lost = since > rt->seq;
	if (lost)
		since = 0;
	if (oldest > since + 1)
		lost = true;
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kuint(&w, "newest", rt->seq);
	jw_kuint(&w, "oldest", oldest);
	jw_kbool(&w, "lost", lost);
	jw_key(&w, "events");
	jw_arr_begin(&w);
	for (s = MAX(since + 1, oldest); oldest != 0 && s <= rt->seq; s++)
		dns_rt_api_event(&w, &rt->ring[(s - 1) % DNS_GSLB_RT_EVENTS]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w) == 0 ? 200 : 500;
}

/* ---- names */

static const struct dns_rt_name *
dns_rt_api_rname(const struct dns_gslb_rt *rt, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < rt->nnames; i++)
		if (strcmp(rt->names[i].name, name) == 0)
			return &rt->names[i];
	return NULL;
}

static uint64_t
dns_rt_api_switches(const struct dns_gslb_rt *rt, const char *name)
{
	const struct dns_rt_name *r = dns_rt_api_rname(rt, name);

	return r != NULL ? r->switches : 0;
}

/*
 * The switch-time budget: how long after a site fails a client may still
 * be sent there at worst, the health check's detection (interval, fall,
 * timeouts: plane_target.detect_ms) plus the TTL the answers it cached
 * carried. null when no address of the name is health-checked.
 */
static void
dns_rt_api_budget(struct jw *w, struct dns_gslb_rt *rt, const char *name)
{
	const struct dns_rt_name *r = dns_rt_api_rname(rt, name);
	const struct dns_gname_conf *gn =
	    name != NULL ? dns_rt_gname(rt, name) : NULL;

	jw_key(w, "detect_ms");
	if (r != NULL && r->detect_ms > 0)
		jw_uint(w, r->detect_ms);
	else
		jw_null(w);
	jw_key(w, "switch_budget_ms");
	if (r != NULL && r->detect_ms > 0 && gn != NULL)
		jw_uint(w, r->detect_ms + gn->ttl_ms);
	else
		jw_null(w);
}

/* A name of the pure view with the runtime's counters added. */
static void
dns_rt_api_name(
    struct jw *w, struct dns_gslb_rt *rt, struct conf_node *n, bool events)
{
	const char *name = dns_rt_api_text(n, "/name");
	uint64_t s, oldest = dns_rt_api_oldest(rt);
	unsigned k = 0;

	jw_obj_begin(w);
	dns_rt_api_members(w, n);
	jw_kuint(w, "switches", dns_rt_api_switches(rt, name));
	dns_rt_api_budget(w, rt, name);
	if (events) {
		/* The newest events of this name, newest first. */
		jw_key(w, "events");
		jw_arr_begin(w);
		for (s = rt->seq;
		     oldest != 0 && s >= oldest && k < DNS_RT_API_NAME_EVENTS;
		     s--) {
			const struct dns_rt_event *e =
			    &rt->ring[(s - 1) % DNS_GSLB_RT_EVENTS];

			if (e->name == NULL || name == NULL ||
			    strcmp(e->name, name) != 0)
				continue;
			dns_rt_api_event(w, e);
			k++;
		}
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

static int
dns_rt_api_names(struct dns_gslb_rt *rt, const char *one, struct buf *out)
{
	const struct dns_gname_conf *gn = NULL;
	struct conf_node *root, *names, *n;
	struct conf_tree t;
	struct jw w;
	size_t i;
	int status = 200;

	if (one != NULL && (gn = dns_rt_gname(rt, one)) == NULL) {
		buf_puts(out, "{\"error\":\"no such GSLB name\"}");
		return 404;
	}
	root = dns_rt_api_state(rt, &t);
	jw_init(&w, out);
	if (gn != NULL) {
		if ((n = dns_rt_api_state_name(root, gn->name)) == NULL) {
			buf_puts(out, "{\"error\":\"state unavailable\"}");
			status = 503;
		} else
			dns_rt_api_name(&w, rt, n, true);
	} else {
		names = conf_node_at(root, "/names");
		jw_obj_begin(&w);
		jw_key(&w, "names");
		jw_arr_begin(&w);
		for (i = 0; (n = conf_node_item(names, i)) != NULL; i++)
			dns_rt_api_name(&w, rt, n, false);
		jw_arr_end(&w);
		jw_key(&w, "pools");
		dns_rt_api_node(&w, conf_node_at(root, "/pools"));
		jw_obj_end(&w);
	}
	conf_tree_fini(&t);
	if (status != 200)
		return status;
	return jw_finish(&w) == 0 ? 200 : 500;
}

static int
dns_rt_api_failback(struct dns_gslb_rt *rt, const char *name, struct buf *out)
{
	struct jw w;
	int rc = dns_rt_failback(rt, name, DNS_RT_WHO_API);

	if (rc == -ENOENT) {
		buf_puts(out, "{\"error\":\"no such GSLB name\"}");
		return 404;
	}
	if (rc == -EAGAIN) {
		buf_puts(out,
		    "{\"error\":\"the default pool set is not "
		    "available\"}");
		return 409;
	}
	if (rc != 0) {
		buf_printf(out, "{\"error\":\"failback: %s\"}", strerror(-rc));
		return 500;
	}
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kstr(&w, "name", dns_rt_gname(rt, name)->name);
	jw_kstr(&w, "result", "failed back");
	jw_kuint(&w, "seq", rt->seq);
	jw_obj_end(&w);
	return jw_finish(&w) == 0 ? 200 : 500;
}

/* ---- plans */

static void
dns_rt_api_plan(struct jw *w, const struct dns_rt_plan *p)
{
	uint64_t after = p->conf != NULL ? p->conf->rollback_after_ms : 0;
	size_t i;

	jw_obj_begin(w);
	jw_kstr(w, "name", p->name);
	jw_key(w, "pools");
	jw_arr_begin(w);
	for (i = 0; p->conf != NULL && i < p->conf->npools; i++)
		jw_str(w, p->conf->pools[i]);
	jw_arr_end(w);
	jw_kuint(w, "rollback_after_ms", after);
	jw_kstr(w, "state", dns_rt_plan_state_name(p->state));
	jw_key(w, "changed_ms");
	if (p->changed_ms == 0)
		jw_null(w);
	else
		jw_uint(w, p->changed_ms);
	dns_rt_api_kstr(w, "by", p->by);
	jw_key(w, "rollback_at_ms");
	if (p->state != DNS_RT_PLAN_EXECUTED || after == 0)
		jw_null(w);
	else
		jw_uint(w, p->changed_ms + after);
	jw_kuint(w, "executions", p->executions);
	jw_kuint(w, "rollbacks", p->rollbacks);
	jw_obj_end(w);
}

static void
dns_rt_api_plans_arr(struct jw *w, struct dns_gslb_rt *rt)
{
	size_t i;

	jw_arr_begin(w);
	for (i = 0; i < rt->nplans; i++)
		dns_rt_api_plan(w, rt->plans[i]);
	jw_arr_end(w);
}

static int
dns_rt_api_preview(
    struct dns_gslb_rt *rt, struct dns_rt_plan *p, struct buf *out)
{
	struct buf b;
	struct jw w, pw;
	int rc;

	buf_init(&b);
	jw_init(&pw, &b);
	rc = dns_gslb_preview_json(rt->g, p->name, &pw);
	if (rc != 0 || jw_finish(&pw) != 0 || b.data == NULL) {
		buf_fini(&b);
		buf_printf(out, "{\"error\":\"preview: %s\"}",
		    strerror(rc != 0 ? -rc : EINVAL));
		return rc == -ENOENT ? 404 : 500;
	}
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kstr(&w, "plan", p->name);
	jw_kstr(&w, "state", dns_rt_plan_state_name(p->state));
	jw_key(&w, "preview");
	jw_raw(&w, b.data, b.len);
	jw_obj_end(&w);
	buf_fini(&b);
	return jw_finish(&w) == 0 ? 200 : 500;
}

static int
dns_rt_api_plan_do(struct dns_gslb_rt *rt, struct dns_rt_plan *p, bool execute,
    struct buf *out)
{
	struct jw w;
	int rc = dns_rt_plan_do(rt, p, execute, DNS_RT_WHO_API);

	if (rc == -EALREADY) {
		buf_printf(out, "{\"error\":\"plan is already %s\"}",
		    dns_rt_plan_state_name(p->state));
		return 409;
	}
	if (rc != 0) {
		buf_printf(out, "{\"error\":\"plan: %s\"}", strerror(-rc));
		return 500;
	}
	jw_init(&w, out);
	dns_rt_api_plan(&w, p);
	return jw_finish(&w) == 0 ? 200 : 500;
}

/* ---- routing */

/* The next segment of *p (after a '/') into seg; false at the end. */
static bool
dns_rt_api_seg(const char **p, const char *end, char *seg, size_t segsz)
{
	const char *s = *p, *e;

	if (s >= end || *s != '/')
		return false;
	s++;
	for (e = s; e < end && *e != '/'; e++)
		;
	if (e == s || (size_t)(e - s) >= segsz)
		return false;
	memcpy(seg, s, (size_t)(e - s));
	seg[e - s] = '\0';
	*p = e;
	return true;
}

static int
dns_rt_api_method(struct buf *out)
{
	buf_puts(out, "{\"error\":\"method not allowed\"}");
	return 405;
}

static int
dns_rt_api_not_found(struct buf *out)
{
	buf_puts(out, "{\"error\":\"not found\"}");
	return 404;
}

static int
dns_rt_api_plans(struct dns_gslb_rt *rt, const char *method, const char *p,
    const char *end, struct buf *out)
{
	char name[256], act[32];
	struct dns_rt_plan *plan;
	bool get = strcmp(method, "GET") == 0;
	bool post = strcmp(method, "POST") == 0;
	struct jw w;

	if (p == end) {
		if (!get)
			return dns_rt_api_method(out);
		jw_init(&w, out);
		jw_obj_begin(&w);
		jw_key(&w, "plans");
		dns_rt_api_plans_arr(&w, rt);
		jw_obj_end(&w);
		return jw_finish(&w) == 0 ? 200 : 500;
	}
	if (!dns_rt_api_seg(&p, end, name, sizeof(name)))
		return dns_rt_api_not_found(out);
	if ((plan = dns_rt_plan_find(rt, name)) == NULL) {
		buf_puts(out, "{\"error\":\"no such plan\"}");
		return 404;
	}
	if (p == end) {
		if (!get)
			return dns_rt_api_method(out);
		jw_init(&w, out);
		dns_rt_api_plan(&w, plan);
		return jw_finish(&w) == 0 ? 200 : 500;
	}
	if (!dns_rt_api_seg(&p, end, act, sizeof(act)) || p != end)
		return dns_rt_api_not_found(out);
	if (strcmp(act, "preview") == 0)
		return get ? dns_rt_api_preview(rt, plan, out) :
		             dns_rt_api_method(out);
	if (strcmp(act, "execute") == 0 || strcmp(act, "rollback") == 0)
		return post ? dns_rt_api_plan_do(
		                  rt, plan, strcmp(act, "execute") == 0, out) :
		              dns_rt_api_method(out);
	return dns_rt_api_not_found(out);
}

static int
dns_rt_api_names_route(struct dns_gslb_rt *rt, const char *method,
    const char *p, const char *end, struct buf *out)
{
	char name[256], act[32];
	bool get = strcmp(method, "GET") == 0;

	if (p == end)
		return get ? dns_rt_api_names(rt, NULL, out) :
		             dns_rt_api_method(out);
	if (!dns_rt_api_seg(&p, end, name, sizeof(name)))
		return dns_rt_api_not_found(out);
	if (p == end)
		return get ? dns_rt_api_names(rt, name, out) :
		             dns_rt_api_method(out);
	if (!dns_rt_api_seg(&p, end, act, sizeof(act)) || p != end ||
	    strcmp(act, "failback") != 0)
		return dns_rt_api_not_found(out);
	return strcmp(method, "POST") == 0 ?
	    dns_rt_api_failback(rt, name, out) :
	    dns_rt_api_method(out);
}

/* path == prefix, or prefix followed by '/'; *rest after prefix. */
static bool
dns_rt_api_under(
    const char *path, const char *end, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);

	if ((size_t)(end - path) < n || strncmp(path, prefix, n) != 0)
		return false;
	if (path + n != end && path[n] != '/')
		return false;
	*rest = path + n;
	return true;
}

int
dns_gslb_rt_query(struct dns_gslb_rt *rt, const char *method, const char *path,
    const char *body, size_t len, struct buf *out)
{
	const char *end = path + strcspn(path, "?"), *rest;

	if (dns_rt_api_under(path, end, "/v1/dns/events", &rest)) {
		if (rest != end)
			return dns_rt_api_not_found(out);
		if (strcmp(method, "GET") != 0)
			return dns_rt_api_method(out);
		return dns_rt_api_events(rt, *end == '?' ? end + 1 : "", out);
	}
	if (rt->g == NULL &&
	    (dns_rt_api_under(path, end, "/v1/dns/names", &rest) ||
	        dns_rt_api_under(path, end, "/v1/dns/plans", &rest))) {
		buf_puts(out, "{\"error\":\"not configured yet\"}");
		return 503;
	}
	if (dns_rt_api_under(path, end, "/v1/dns/names", &rest))
		return dns_rt_api_names_route(rt, method, rest, end, out);
	if (dns_rt_api_under(path, end, "/v1/dns/plans", &rest))
		return dns_rt_api_plans(rt, method, rest, end, out);
	return -ENOENT;
}

/* ---- GET /v1/dns members */

static void
dns_rt_api_alarms_json(struct jw *w, struct dns_gslb_rt *rt)
{
	const struct hook_stats *st;

	jw_key(w, "alarms");
	if (rt->alarm == NULL) {
		jw_null(w);
		return;
	}
	st = dns_alarm_stats(rt->alarm);
	jw_obj_begin(w);
	jw_kbool(w, "webhook", rt->conf != NULL && rt->conf->alarms.webhook);
	jw_kbool(w, "exec", rt->conf != NULL && rt->conf->alarms.exec);
	jw_kuint(w, "pending", dns_alarm_pending(rt->alarm));
	jw_kuint(w, "runs", st->runs);
	jw_kuint(w, "ok", st->ok);
	jw_kuint(w, "failed", st->failed);
	jw_kuint(w, "timeouts", st->timeouts);
	jw_kuint(w, "dropped", st->dropped);
	jw_obj_end(w);
}

void
dns_gslb_rt_json(struct dns_gslb_rt *rt, struct jw *w)
{
	struct conf_node *root, *n;
	struct conf_tree t;
	size_t i;

	root = dns_rt_api_state(rt, &t);
	jw_key(w, "gslb");
	jw_obj_begin(w);
	jw_key(w, "names");
	jw_arr_begin(w);
	for (i = 0;
	     (n = conf_node_item(conf_node_at(root, "/names"), i)) != NULL; i++)
		dns_rt_api_name(w, rt, n, false);
	jw_arr_end(w);
	jw_key(w, "pools");
	dns_rt_api_node(w, conf_node_at(root, "/pools"));
	conf_tree_fini(&t);
	jw_key(w, "plans");
	dns_rt_api_plans_arr(w, rt);
	jw_key(w, "events");
	jw_obj_begin(w);
	jw_kuint(w, "newest", rt->seq);
	jw_kuint(w, "oldest", dns_rt_api_oldest(rt));
	jw_obj_end(w);
	dns_rt_api_alarms_json(w, rt);
	jw_obj_end(w);
}

/* ---- /metrics */

static const char *const dns_rt_api_sets[] = { "default", "backup", "fail-open",
	"last-resort" };

/* An address counts as up when it is usable (health and mode), or, in
 * a view without that, when its health says up. */
static bool
dns_rt_api_up(struct conf_node *a)
{
	const char *s = dns_rt_api_text(a, "/usable");

	if (s != NULL)
		return strcmp(s, "true") == 0;
	s = dns_rt_api_text(a, "/health");
	return s != NULL && strcmp(s, "up") == 0;
}

static const char *
dns_rt_api_addr_label(struct conf_node *a)
{
	const char *s = dns_rt_api_text(a, "/address");

	return s != NULL ? s : dns_rt_api_text(a, "/label");
}

static void
dns_rt_api_state_metrics(struct dns_gslb_rt *rt, struct buf *out, struct buf *l)
{
	struct conf_node *root, *n, *p, *a;
	struct conf_tree t;
	const char *name, *pol, *set;
	size_t i, j, k;

	root = dns_rt_api_state(rt, &t);
	mx_family(out, "haven_dns_gslb_policy_set", "gauge",
	    "1 for the pool set an access policy serves now");
	for (i = 0; (n = conf_node_item(conf_node_at(root, "/names"), i));
	     i++) {
		name = dns_rt_api_text(n, "/name");
		for (j = 0;
		     (p = conf_node_item(conf_node_at(n, "/policies"), j));
		     j++) {
			pol = dns_rt_api_text(p, "/policy");
			set = dns_rt_api_text(p, "/set");
			for (k = 0; k < ARRAY_SIZE(dns_rt_api_sets); k++) {
				buf_reset(l);
				mx_label(l, "name", name ? name : "");
				mx_label(l, "policy", pol ? pol : "");
				mx_label(l, "set", dns_rt_api_sets[k]);
				mx_u64(out, "haven_dns_gslb_policy_set",
				    l->data,
				    set != NULL &&
				        strcmp(set, dns_rt_api_sets[k]) == 0);
			}
		}
	}
	mx_family(out, "haven_dns_gslb_address_up", "gauge",
	    "1 while a pool's address is usable (health and mode)");
	for (i = 0; (p = conf_node_item(conf_node_at(root, "/pools"), i));
	     i++) {
		name = dns_rt_api_text(p, "/name");
		for (j = 0;
		     (a = conf_node_item(conf_node_at(p, "/addresses"), j));
		     j++) {
			buf_reset(l);
			mx_label(l, "pool", name ? name : "");
			mx_label(l, "address",
			    dns_rt_api_addr_label(a) ?
			        dns_rt_api_addr_label(a) :
			        "");
			mx_u64(out, "haven_dns_gslb_address_up", l->data,
			    dns_rt_api_up(a));
		}
	}
	conf_tree_fini(&t);
}

static void
dns_rt_api_alarm_metrics(struct dns_gslb_rt *rt, struct buf *out)
{
	const struct hook_stats *st;
	size_t i;

	if (rt->alarm == NULL)
		return;
	st = dns_alarm_stats(rt->alarm);
	const struct {
		const char *name, *help;
		uint64_t v;
	} rows[] = {
		{ "haven_dns_gslb_alarm_runs_total",
		    "alarm attempts started (webhook and exec)", st->runs },
		{ "haven_dns_gslb_alarm_ok_total", "alarms delivered", st->ok },
		{ "haven_dns_gslb_alarm_failed_total",
		    "alarms that failed after their last retry", st->failed },
		{ "haven_dns_gslb_alarm_timeouts_total",
		    "alarm attempts killed or abandoned at the timeout",
		    st->timeouts },
		{ "haven_dns_gslb_alarm_retries_total",
		    "alarm attempts after the first", st->retries },
		{ "haven_dns_gslb_alarm_dropped_total",
		    "alarms not queued: queue full", st->dropped },
	};

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		mx_family(out, rows[i].name, "counter", rows[i].help);
		mx_u64(out, rows[i].name, NULL, rows[i].v);
	}
}

void
dns_gslb_rt_metrics(struct dns_gslb_rt *rt, struct buf *out)
{
	struct buf l;
	size_t i;
	int k;

	buf_init(&l);
	mx_family(out, "haven_dns_gslb_switches_total", "counter",
	    "times an access policy of the name changed pool set");
	for (i = 0; i < rt->nnames; i++) {
		buf_reset(&l);
		mx_label(&l, "name", rt->names[i].name);
		mx_u64(out, "haven_dns_gslb_switches_total", l.data,
		    rt->names[i].switches);
	}
	dns_rt_api_state_metrics(rt, out, &l);
	mx_family(out, "haven_dns_gslb_plan_executed", "gauge",
	    "1 while the DR plan is executed");
	for (i = 0; i < rt->nplans; i++) {
		buf_reset(&l);
		mx_label(&l, "plan", rt->plans[i]->name);
		mx_u64(out, "haven_dns_gslb_plan_executed", l.data,
		    rt->plans[i]->state == DNS_RT_PLAN_EXECUTED);
	}
	mx_family(out, "haven_dns_gslb_plan_actions_total", "counter",
	    "DR plan executions and rollbacks (by the API or the timer)");
	for (i = 0; i < rt->nplans; i++) {
		buf_reset(&l);
		mx_label(&l, "plan", rt->plans[i]->name);
		mx_label(&l, "action", "execute");
		mx_u64(out, "haven_dns_gslb_plan_actions_total", l.data,
		    rt->plans[i]->executions);
		buf_reset(&l);
		mx_label(&l, "plan", rt->plans[i]->name);
		mx_label(&l, "action", "rollback");
		mx_u64(out, "haven_dns_gslb_plan_actions_total", l.data,
		    rt->plans[i]->rollbacks);
	}
	mx_family(out, "haven_dns_gslb_events_total", "counter",
	    "GSLB events logged, by kind");
	for (k = 0; k < DNS_RT__KIND_COUNT; k++) {
		buf_reset(&l);
		mx_label(&l, "kind", dns_rt_kind_name((enum dns_rt_kind)k));
		mx_u64(
		    out, "haven_dns_gslb_events_total", l.data, rt->events[k]);
	}
	buf_fini(&l);
	mx_family(out, "haven_dns_gslb_verdicts_total", "counter",
	    "health verdicts received");
	mx_u64(out, "haven_dns_gslb_verdicts_total", NULL, rt->verdicts);
	mx_family(out, "haven_dns_gslb_verdicts_ignored_total", "counter",
	    "verdicts for targets not ours (foreign) or with no state yet");
	mx_u64(out, "haven_dns_gslb_verdicts_ignored_total",
	    "reason=\"foreign\"", rt->verdicts_foreign);
	mx_u64(out, "haven_dns_gslb_verdicts_ignored_total",
	    "reason=\"unknown\"", rt->verdicts_unknown);
	mx_family(out, "haven_dns_gslb_state_saves_total", "counter",
	    "GSLB state files written");
	mx_u64(out, "haven_dns_gslb_state_saves_total", NULL, rt->saves);
	mx_family(out, "haven_dns_gslb_state_save_errors_total", "counter",
	    "GSLB state writes that failed");
	mx_u64(out, "haven_dns_gslb_state_save_errors_total", NULL,
	    rt->save_errors);
	mx_family(out, "haven_dns_gslb_state_restore_errors_total", "counter",
	    "persisted GSLB state or plan lines not restored");
	mx_u64(out, "haven_dns_gslb_state_restore_errors_total", NULL,
	    rt->restore_errors);
	dns_rt_api_alarm_metrics(rt, out);
}

/* ---- haven status */

/* The scalar at path below n, or "-"; valid until the next call but three. */
static const char *
dns_rt_status_str(struct conf_node *n, const char *path)
{
	static char bufs[4][128];
	static unsigned k;
	char *out = bufs[k++ % 4], *s;

	if ((s = conf_node_text(conf_node_at(n, path))) == NULL)
		return "-";
	snprintf(out, sizeof(bufs[0]), "%s", s);
	free(s);
	return out;
}

static void
dns_rt_status_degraded(struct conf_node *gslb)
{
	struct conf_node *p, *a;
	size_t i, j;
	bool head = false;

	for (i = 0; (p = conf_node_item(conf_node_at(gslb, "/pools"), i)); i++)
		for (j = 0;
		     (a = conf_node_item(conf_node_at(p, "/addresses"), j));
		     j++) {
			if (dns_rt_api_up(a))
				continue;
			if (!head)
				printf("  degraded addresses:\n");
			head = true;
			printf("    %s/%s\n", dns_rt_status_str(p, "/name"),
			    dns_rt_api_addr_label(a) ?
			        dns_rt_api_addr_label(a) :
			        "-");
		}
}

/* "3.4s + ttl 30s = 33.4s", or "-" when no address is health-checked. */
static void
dns_rt_status_budget(struct conf_node *n, char *out, size_t size)
{
	const char *d = dns_rt_api_text(n, "/detect_ms");
	const char *b = dns_rt_api_text(n, "/switch_budget_ms");
	unsigned long long dm, bm;

	if (d == NULL || b == NULL || sscanf(d, "%llu", &dm) != 1 ||
	    sscanf(b, "%llu", &bm) != 1) {
		snprintf(out, size, "-");
		return;
	}
	snprintf(out, size, "%.1fs + ttl %.1fs = %.1fs", (double)dm / 1000,
	    (double)(bm - dm) / 1000, (double)bm / 1000);
}

void
dns_gslb_rt_status_print(struct conf_node *root)
{
	struct conf_node *gslb = conf_node_at(root, "/gslb"), *n, *p, *pl;
	char name[128], sw[32], budget[64];
	const char *by;
	size_t i, j;

	if (conf_node_count(conf_node_at(gslb, "/names")) == 0 &&
	    conf_node_count(conf_node_at(gslb, "/plans")) == 0)
		return;
	printf("\n%-28s %-20s %-12s %-9s %-5s %s\n", "GSLB NAME", "POLICY",
	    "SET", "SWITCHES", "TTL", "SWITCH BUDGET");
	for (i = 0; (n = conf_node_item(conf_node_at(gslb, "/names"), i));
	     i++) {
		/* dns_rt_status_str keeps four results: copy the name's. */
		snprintf(
		    name, sizeof(name), "%s", dns_rt_status_str(n, "/name"));
		snprintf(
		    sw, sizeof(sw), "%s", dns_rt_status_str(n, "/switches"));
		dns_rt_status_budget(n, budget, sizeof(budget));
		for (j = 0;
		     (p = conf_node_item(conf_node_at(n, "/policies"), j)); j++)
			printf("%-28s %-20s %-12s %-9s %-5s %s\n",
			    j == 0 ? name : "", dns_rt_status_str(p, "/policy"),
			    dns_rt_status_str(p, "/set"), j == 0 ? sw : "",
			    dns_rt_status_str(p, "/ttl"), j == 0 ? budget : "");
	}
	dns_rt_status_degraded(gslb);
	for (i = 0; (pl = conf_node_item(conf_node_at(gslb, "/plans"), i));
	     i++) {
		by = conf_node_is_null(conf_node_at(pl, "/by")) ?
		    NULL :
		    dns_rt_status_str(pl, "/by");
		printf("  plan %s: %s", dns_rt_status_str(pl, "/name"),
		    dns_rt_status_str(pl, "/state"));
		if (by != NULL)
			printf(" (by %s)", by);
		printf("\n");
	}
}
