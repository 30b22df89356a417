/*
 * lb_api.c - the lb plane's API: the state of every pool as JSON and the
 * operator actions (drain, disable, enable, weight, failback). See lb_api.h
 * for the routes.
 *
 * Request bodies are bound with the config binder and a one-key schema, so
 * a bad body gets the same precise errors as a bad config file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lb/lb_api.h"
#include "lb/lb_conn.h"
#include "lb/lb_pool_priv.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "lib/util.h"

#define LB_API_PREFIX   "/v1/lb"
#define LB_API_SEGS_MAX 6
#define LB_API_SEG_LEN  IPC_NAME_MAX

struct lb_api_weight {
	uint32_t weight;
};

static const struct conf_key lb_api_weight_keys[] = {
	{ .name = "weight",
	    .type = CT_UINT,
	    .off = offsetof(struct lb_api_weight, weight),
	    .min = 0,
	    .max = 10000,
	    .flags = CK_REQUIRED,
	    .help = "new weight, overriding the config's until it changes" },
};

static const struct conf_schema lb_api_weight_schema = {
	.name = "weight request",
	.size = sizeof(struct lb_api_weight),
	.keys = lb_api_weight_keys,
	.nkeys = ARRAY_SIZE(lb_api_weight_keys),
};

static int
lb_api_error(struct buf *out, int status, const char *msg)
{
	struct jw w;

	buf_reset(out);
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kstr(&w, "error", msg);
	jw_obj_end(&w);
	return status;
}

static void
lb_api_server(struct jw *w, const struct lb_server *s, uint64_t now)
{
	char addr[64];

	jw_obj_begin(w);
	jw_kstr(w, "name", s->sname);
	jw_kstr(w, "address", conf_addr_str(&s->addr, addr, sizeof(addr)));
	jw_kstr(w, "zone", lb_zone_name(s->pool, s->zone));
	jw_kstr(w, "state", hc_state_name(s->health));
	jw_kstr(w, "reason", hc_reason_name(s->health_reason));
	jw_kbool(w, "passive_ejected", s->passive_down);
	jw_kbool(w, "usable", lb_server_usable(s));
	jw_kbool(w, "standby", lb_server_standby(s));
	jw_kstr(w, "probes", hc_state_name(s->probe_state));
	jw_kstr(w, "admin", lb_admin_name(s->admin));
	jw_kuint(w, "weight", s->conf_weight);
	if (s->has_admin_weight)
		jw_kuint(w, "admin_weight", s->admin_weight);
	else {
		jw_key(w, "admin_weight");
		jw_null(w);
	}
	jw_kuint(w, "effective_weight", lb_server_eff_weight(s, now));
	jw_kuint(w, "active_conns", s->active);
	jw_kuint(w, "max_conn", s->max_conn);
	jw_kuint(w, "requests", s->stats.requests);
	jw_kuint(w, "passive_ejections", s->stats.passive_ejections);
	jw_obj_end(w);
}

static void
lb_api_pool(struct jw *w, struct lb_pool *p)
{
	uint64_t now = lb_pool_now(p);
	size_t i;

	lb_zone_update(p);
	jw_obj_begin(w);
	jw_kstr(w, "name", p->name);
	jw_kstr(w, "balance", lb_conf_balance_name(p->conf.balance));
	jw_kstr(w, "failback", lb_conf_failback_name(p->conf.failback));
	jw_key(w, "active_zone");
	if (p->active_zone >= 0)
		jw_str(w, lb_zone_name(p, (size_t)p->active_zone));
	else
		jw_null(w);
	jw_kbool(w, "all_down", p->active_zone < 0);
	/* Standbys (held down while their probes pass) take traffic. */
	jw_kbool(w, "degraded_fallback", p->fallback);
	jw_kuint(w, "fallback_events", p->stats.fallback_events);
	jw_key(w, "failback_pending");
	if (p->better_zone >= 0)
		jw_str(w, lb_zone_name(p, (size_t)p->better_zone));
	else
		jw_null(w);
	jw_key(w, "zones");
	jw_arr_begin(w);
	for (i = 0; i < p->nzones; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "name", lb_zone_name(p, i));
		jw_kuint(w, "healthy", lb_zone_healthy(p, i));
		jw_kuint(w, "needed", lb_zone_needed(p, i));
		jw_kuint(w, "standby", lb_zone_standby(p, i));
		jw_kbool(w, "active", p->active_zone == (int)i);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "servers");
	jw_arr_begin(w);
	for (i = 0; i < p->nservers; i++)
		lb_api_server(w, p->servers[i], now);
	jw_arr_end(w);
	jw_obj_end(w);
}

/* lw: the worker whose limits the full listing shows. */
static int
lb_api_get(struct lb_runtime *rt, const struct lb_worker *lw, struct buf *out,
    const char *pool)
{
	struct lb_pool *p = NULL;
	struct jw w;
	size_t i;

	if (pool != NULL && (p = lb_runtime_pool(rt, pool)) == NULL)
		return lb_api_error(out, 404, "no such pool");
	jw_init(&w, out);
	if (p != NULL) {
		lb_api_pool(&w, p);
		return 200;
	}
	jw_obj_begin(&w);
	jw_key(&w, "pools");
	jw_arr_begin(&w);
	for (i = 0; i < lb_runtime_npools(rt); i++)
		lb_api_pool(&w, lb_runtime_pool_at(rt, i));
	jw_arr_end(&w);
	jw_kuint(&w, "verdicts_unknown", lb_runtime_verdicts_unknown(rt));
	lb_limit_json(lw, &w);
	jw_obj_end(&w);
	return 200;
}

/* Split path after the prefix into segments; -1 if malformed. */
static int
lb_api_split(const char *path, char seg[][LB_API_SEG_LEN], size_t *n)
{
	size_t plen = strlen(LB_API_PREFIX), len;
	const char *p = path + plen, *e;

	*n = 0;
	if (strncmp(path, LB_API_PREFIX, plen) != 0 ||
	    (*p != '\0' && *p != '/' && *p != '?'))
		return -1;
	while (*p == '/') {
		p++;
		e = p + strcspn(p, "/?");
		len = (size_t)(e - p);
		if (len == 0 && *e != '/')
			break; /* trailing slash */
		if (len == 0 || len >= LB_API_SEG_LEN || *n == LB_API_SEGS_MAX)
			return -1;
		memcpy(seg[*n], p, len);
		seg[(*n)++][len] = '\0';
		p = e;
	}
	return 0;
}

static int
lb_api_weight(struct lb_runtime *rt, struct buf *out, const char *pool,
    const char *server, const char *body, size_t body_len)
{
	struct lb_api_weight req;
	struct conf_errors errs;
	struct jw w;
	int rc;

	conf_errors_init(&errs);
	if (conf_bind_json(&lb_api_weight_schema, "body", body ? body : "",
	        body ? body_len : 0, &req, &errs) != 0) {
		buf_reset(out);
		jw_init(&w, out);
		jw_obj_begin(&w);
		jw_key(&w, "error");
		jw_str(&w, "invalid body");
		jw_key(&w, "details");
		jw_arr_begin(&w);
		conf_errors_json(&errs, &w);
		jw_arr_end(&w);
		jw_obj_end(&w);
		conf_errors_fini(&errs);
		return 400;
	}
	conf_errors_fini(&errs);
	rc = lb_runtime_set_weight(rt, pool, server, req.weight);
	conf_schema_free(&lb_api_weight_schema, &req);
	return rc == 0 ? 0 : lb_api_error(out, 404, "no such pool or server");
}

/* POST pools/P/servers/S/ACTION */
static int
lb_api_server_action(struct lb_runtime *rt, struct buf *out,
    char seg[][LB_API_SEG_LEN], const char *body, size_t body_len)
{
	const char *act = seg[4];
	struct lb_server *s;
	int rc;

	if (strcmp(act, "weight") == 0) {
		rc = lb_api_weight(rt, out, seg[1], seg[3], body, body_len);
		if (rc != 0)
			return rc;
	} else {
		enum lb_admin st;

		if (strcmp(act, "drain") == 0)
			st = LB_ADMIN_DRAIN;
		else if (strcmp(act, "disable") == 0)
			st = LB_ADMIN_DISABLED;
		else if (strcmp(act, "enable") == 0)
			st = LB_ADMIN_READY;
		else
			return lb_api_error(out, 404, "unknown action");
		if (lb_runtime_set_admin(rt, seg[1], seg[3], st) != 0)
			return lb_api_error(out, 404, "no such pool or server");
	}
	buf_reset(out);
	{
		struct jw w;

		jw_init(&w, out);
		s = lb_pool_server(lb_runtime_pool(rt, seg[1]), seg[3]);
		lb_api_server(&w, s, lb_pool_now(s->pool));
	}
	return 200;
}

static int
lb_api_post(struct lb_runtime *rt, const struct lb_worker *lw, struct buf *out,
    char seg[][LB_API_SEG_LEN], size_t n, const char *body, size_t body_len)
{
	int rc;

	if (n == 5 && strcmp(seg[0], "pools") == 0 &&
	    strcmp(seg[2], "servers") == 0)
		return lb_api_server_action(rt, out, seg, body, body_len);
	if (n == 3 && strcmp(seg[0], "pools") == 0 &&
	    strcmp(seg[2], "failback") == 0) {
		rc = lb_runtime_failback(rt, seg[1]);
		if (rc == -ENOENT)
			return lb_api_error(out, 404, "no such pool");
		if (rc == -EALREADY)
			return lb_api_error(out, 409,
			    "no better zone qualifies: nothing to fail back to");
		return lb_api_get(rt, lw, out, seg[1]);
	}
	return lb_api_error(out, 404, "not found");
}

int
lb_api_query(struct lb_runtime *rt, const struct lb_worker *lw,
    const char *method, const char *path, const char *body, size_t body_len,
    struct buf *out)
{
	char seg[LB_API_SEGS_MAX][LB_API_SEG_LEN];
	size_t n;
	bool get = strcmp(method, "GET") == 0;

	if (lb_api_split(path, seg, &n) != 0)
		return lb_api_error(out, 404, "not found");
	if (n == 0 || (n == 2 && strcmp(seg[0], "pools") == 0)) {
		if (!get)
			return lb_api_error(out, 405, "use GET");
		return lb_api_get(rt, lw, out, n == 0 ? NULL : seg[1]);
	}
	if (strcmp(method, "POST") != 0)
		return lb_api_error(out, 405, "use POST");
	return lb_api_post(rt, lw, out, seg, n, body, body_len);
}

char *
lb_api_replay_key(const char *path)
{
	const char *last = strrchr(path, '/');

	if (last == NULL || strncmp(path, "/v1/lb/pools/", 13) != 0)
		return NULL;
	if (strcmp(last, "/drain") == 0 || strcmp(last, "/disable") == 0 ||
	    strcmp(last, "/enable") == 0)
		return xasprintf("%.*s/state", (int)(last - path), path);
	if (strcmp(last, "/weight") == 0)
		return xstrdup(path);
	return NULL;
}
