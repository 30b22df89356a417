/*
 * lb_metrics.c - Prometheus families of the lb runtime: per pool and per
 * server traffic counters (filled by the data path), pick refusals, zone
 * state, health and admin state, active connections and latency.
 *
 * Each family is written once with the samples of every pool (or server)
 * under it, as the exposition format requires; the parent merges the
 * workers' texts with mx_merge(), so a sample is per worker (the worker
 * index is added by the parent, not here).
 */
#include "lb/lb_pool_priv.h"
#include "lib/metrics.h"

static const char *const lb_err_names[LB_ERR__COUNT] = {
	[LB_ERR_CONNECT_REFUSED] = "connect_refused",
	[LB_ERR_CONNECT_TIMEOUT] = "connect_timeout",
	[LB_ERR_CONNECT_OTHER] = "connect_other",
	[LB_ERR_SERVER_TIMEOUT] = "server_timeout",
	[LB_ERR_SERVER_RESET] = "server_reset",
	[LB_ERR_BAD_RESPONSE] = "bad_response",
	[LB_ERR_STATUS_5XX] = "status_5xx",
	[LB_ERR_TLS] = "tls",
	[LB_ERR_NO_SERVER] = "no_server",
	[LB_ERR_QUEUE_FULL] = "queue_full",
	[LB_ERR_QUEUE_TIMEOUT] = "queue_timeout",
	[LB_ERR_CLIENT_ABORT] = "client_abort",
	[LB_ERR_RETRY_BUDGET] = "retry_budget",
};

const char *
lb_err_name(enum lb_err e)
{
	return (unsigned)e < LB_ERR__COUNT ? lb_err_names[e] : "?";
}

/* pool="..." [,server="..."] [,k="v"] into l (reset first). */
static const char *
lb_metrics_labels(struct buf *l, const struct lb_pool *p,
    const struct lb_server *s, const char *k, const char *v)
{
	buf_reset(l);
	mx_label(l, "pool", p->name);
	if (s != NULL)
		mx_label(l, "server", s->sname);
	if (k != NULL)
		mx_label(l, k, v);
	return l->data;
}

typedef uint64_t lb_metrics_pool_fn(const struct lb_pool *p);
typedef uint64_t lb_metrics_server_fn(const struct lb_server *s);

static void
lb_metrics_pool_family(const struct lb_runtime *rt, struct buf *out,
    struct buf *l, const char *name, const char *type, const char *help,
    lb_metrics_pool_fn *fn)
{
	size_t i;

	mx_family(out, name, type, help);
	for (i = 0; i < lb_runtime_npools(rt); i++) {
		struct lb_pool *p = lb_runtime_pool_at(rt, i);

		mx_u64(out, name, lb_metrics_labels(l, p, NULL, NULL, NULL),
		    fn(p));
	}
}

static void
lb_metrics_server_family(const struct lb_runtime *rt, struct buf *out,
    struct buf *l, const char *name, const char *type, const char *help,
    lb_metrics_server_fn *fn)
{
	size_t i, j;

	mx_family(out, name, type, help);
	for (i = 0; i < lb_runtime_npools(rt); i++) {
		struct lb_pool *p = lb_runtime_pool_at(rt, i);

		for (j = 0; j < p->nservers; j++)
			mx_u64(out, name,
			    lb_metrics_labels(l, p, p->servers[j], NULL, NULL),
			    fn(p->servers[j]));
	}
}

#define LB_MX_POOL(fname, expr)                                                \
	static uint64_t lb_metrics_p_##fname(const struct lb_pool *p)          \
	{                                                                      \
		return (expr);                                                 \
	}
#define LB_MX_SERVER(fname, expr)                                              \
	static uint64_t lb_metrics_s_##fname(const struct lb_server *s)        \
	{                                                                      \
		return (expr);                                                 \
	}

LB_MX_POOL(requests, p->stats.requests)
LB_MX_POOL(retries, p->stats.retries)
LB_MX_POOL(none_up, p->stats.picks_none_up)
LB_MX_POOL(fail_open, p->stats.picks_fail_open)
LB_MX_POOL(exhausted, p->stats.picks_exhausted)
LB_MX_POOL(full, p->stats.picks_full)
LB_MX_POOL(zone_changes, p->stats.zone_changes)
LB_MX_POOL(all_down, p->stats.all_down_events)
LB_MX_POOL(is_down, p->active_zone < 0)
LB_MX_POOL(fallback_events, p->stats.fallback_events)
LB_MX_POOL(is_fallback, p->fallback)
LB_MX_POOL(picks_fallback, p->stats.picks_fallback)
LB_MX_POOL(retry_elsewhere, p->stats.picks_retry_elsewhere)
LB_MX_SERVER(requests, s->stats.requests)
LB_MX_SERVER(responses, s->stats.responses)
LB_MX_SERVER(retries, s->stats.retries)
LB_MX_SERVER(active, s->active)
LB_MX_SERVER(usable, lb_server_usable(s))
LB_MX_SERVER(standby, lb_server_standby(s))
LB_MX_SERVER(weight, lb_server_eff_weight(s, lb_pool_now(s->pool)))
LB_MX_SERVER(passive_fails, s->stats.passive_fails)
LB_MX_SERVER(passive_ejections, s->stats.passive_ejections)
LB_MX_SERVER(passive_kept, s->stats.passive_last_kept)
LB_MX_SERVER(marked_down_cut, s->stats.marked_down_cut)
LB_MX_SERVER(bytes_in, s->stats.bytes_in)
LB_MX_SERVER(bytes_out, s->stats.bytes_out)

static void
lb_metrics_errors(const struct lb_runtime *rt, struct buf *out, struct buf *l)
{
	size_t i, j;
	int e;

	mx_family(out, "haven_lb_pool_errors_total", "counter",
	    "Failed client requests by cause");
	for (i = 0; i < lb_runtime_npools(rt); i++) {
		struct lb_pool *p = lb_runtime_pool_at(rt, i);

		for (e = 0; e < LB_ERR__COUNT; e++)
			mx_u64(out, "haven_lb_pool_errors_total",
			    lb_metrics_labels(
			        l, p, NULL, "cause", lb_err_names[e]),
			    p->stats.errors[e]);
	}
	mx_family(out, "haven_lb_server_errors_total", "counter",
	    "Failed attempts to a server by cause");
	for (i = 0; i < lb_runtime_npools(rt); i++) {
		struct lb_pool *p = lb_runtime_pool_at(rt, i);

		for (j = 0; j < p->nservers; j++)
			for (e = 0; e < LB_ERR__COUNT; e++)
				mx_u64(out, "haven_lb_server_errors_total",
				    lb_metrics_labels(l, p, p->servers[j],
				        "cause", lb_err_names[e]),
				    p->servers[j]->stats.errors[e]);
	}
}

static void
lb_metrics_zones_and_latency(
    const struct lb_runtime *rt, struct buf *out, struct buf *l)
{
	size_t i, j, z;

	mx_family(out, "haven_lb_pool_zone_active", "gauge",
	    "1 for the zone taking the pool's traffic");
	for (i = 0; i < lb_runtime_npools(rt); i++) {
		struct lb_pool *p = lb_runtime_pool_at(rt, i);

		for (z = 0; z < p->nzones; z++)
			mx_u64(out, "haven_lb_pool_zone_active",
			    lb_metrics_labels(
			        l, p, NULL, "zone", lb_zone_name(p, z)),
			    p->active_zone == (int)z);
	}
	mx_family(out, "haven_lb_pool_latency_seconds", "histogram",
	    "Request start to response head");
	for (i = 0; i < lb_runtime_npools(rt); i++) {
		struct lb_pool *p = lb_runtime_pool_at(rt, i);

		mx_hist_render(out, "haven_lb_pool_latency_seconds",
		    lb_metrics_labels(l, p, NULL, NULL, NULL),
		    &p->stats.latency);
	}
	mx_family(out, "haven_lb_server_latency_seconds", "histogram",
	    "Attempt start to response head");
	for (i = 0; i < lb_runtime_npools(rt); i++) {
		struct lb_pool *p = lb_runtime_pool_at(rt, i);

		for (j = 0; j < p->nservers; j++)
			mx_hist_render(out, "haven_lb_server_latency_seconds",
			    lb_metrics_labels(l, p, p->servers[j], NULL, NULL),
			    &p->servers[j]->stats.latency);
	}
}

struct lb_metrics_pool_def {
	const char *name, *type, *help; /* static */
	lb_metrics_pool_fn *fn;
};

struct lb_metrics_server_def {
	const char *name, *type, *help; /* static */
	lb_metrics_server_fn *fn;
};

static const struct lb_metrics_pool_def lb_metrics_pool_defs[] = {
	{ "haven_lb_pool_requests_total", "counter",
	    "Client requests for the pool", lb_metrics_p_requests },
	{ "haven_lb_pool_retries_total", "counter", "Extra attempts made",
	    lb_metrics_p_retries },
	{ "haven_lb_pool_picks_none_up_total", "counter",
	    "Picks refused: no usable server", lb_metrics_p_none_up },
	{ "haven_lb_pool_picks_fail_open_total", "counter",
	    "Picks served with health ignored (all_down: fail_open)",
	    lb_metrics_p_fail_open },
	{ "haven_lb_pool_picks_exhausted_total", "counter",
	    "Retries with no untried server left", lb_metrics_p_exhausted },
	{ "haven_lb_pool_picks_full_total", "counter",
	    "Picks refused: every candidate at max_conn", lb_metrics_p_full },
	{ "haven_lb_pool_zone_changes_total", "counter", "Active zone changes",
	    lb_metrics_p_zone_changes },
	{ "haven_lb_pool_all_down_total", "counter",
	    "Transitions to no usable server", lb_metrics_p_all_down },
	{ "haven_lb_pool_all_down", "gauge", "1 while no server is usable",
	    lb_metrics_p_is_down },
	{ "haven_lb_pool_degraded_fallback", "gauge",
	    "1 while held-down servers whose probes pass take traffic",
	    lb_metrics_p_is_fallback },
	{ "haven_lb_pool_fallback_total", "counter",
	    "Transitions into using held-down servers",
	    lb_metrics_p_fallback_events },
	{ "haven_lb_pool_picks_fallback_total", "counter",
	    "Picks that chose a held-down server",
	    lb_metrics_p_picks_fallback },
	{ "haven_lb_pool_picks_retry_elsewhere_total", "counter",
	    "Retries served outside the active zone's usable servers",
	    lb_metrics_p_retry_elsewhere },
};

static const struct lb_metrics_server_def lb_metrics_server_defs[] = {
	{ "haven_lb_server_requests_total", "counter",
	    "Attempts sent to the server", lb_metrics_s_requests },
	{ "haven_lb_server_responses_total", "counter",
	    "Complete responses received", lb_metrics_s_responses },
	{ "haven_lb_server_retries_total", "counter",
	    "Attempts that were retries", lb_metrics_s_retries },
	{ "haven_lb_server_active_connections", "gauge",
	    "Connections in progress", lb_metrics_s_active },
	{ "haven_lb_server_usable", "gauge",
	    "1 when the server takes new traffic", lb_metrics_s_usable },
	{ "haven_lb_server_standby", "gauge",
	    "1 when held down while its probes pass (fallback only)",
	    lb_metrics_s_standby },
	{ "haven_lb_server_weight_effective", "gauge",
	    "Weight after admin override and slow start", lb_metrics_s_weight },
	{ "haven_lb_server_passive_fails_total", "counter",
	    "Failures seen in real traffic", lb_metrics_s_passive_fails },
	{ "haven_lb_server_passive_ejections_total", "counter",
	    "Passive failures that ejected the server",
	    lb_metrics_s_passive_ejections },
	{ "haven_lb_server_passive_last_kept_total", "counter",
	    "Ejections refused: last usable server of the pool",
	    lb_metrics_s_passive_kept },
	{ "haven_lb_server_marked_down_cut_total", "counter",
	    "Connections cut when probes marked it down (on_marked_down)",
	    lb_metrics_s_marked_down_cut },
	{ "haven_lb_server_bytes_in_total", "counter",
	    "Bytes received from the server", lb_metrics_s_bytes_in },
	{ "haven_lb_server_bytes_out_total", "counter",
	    "Bytes sent to the server", lb_metrics_s_bytes_out },
};

void
lb_metrics_render(const struct lb_runtime *rt, struct buf *out)
{
	const struct lb_metrics_pool_def *pd;
	const struct lb_metrics_server_def *sd;
	struct buf l;
	size_t i;

	buf_init(&l);
	for (i = 0; i < ARRAY_SIZE(lb_metrics_pool_defs); i++) {
		pd = &lb_metrics_pool_defs[i];
		lb_metrics_pool_family(
		    rt, out, &l, pd->name, pd->type, pd->help, pd->fn);
	}
	lb_metrics_zones_and_latency(rt, out, &l);
	lb_metrics_errors(rt, out, &l);
	for (i = 0; i < ARRAY_SIZE(lb_metrics_server_defs); i++) {
		sd = &lb_metrics_server_defs[i];
		lb_metrics_server_family(
		    rt, out, &l, sd->name, sd->type, sd->help, sd->fn);
	}
	mx_family(out, "haven_lb_verdicts_unknown_total", "counter",
	    "Health verdicts for targets this worker does not have");
	mx_u64(out, "haven_lb_verdicts_unknown_total", NULL,
	    lb_runtime_verdicts_unknown(rt));
	mx_family(out, "haven_lb_passive_unsent_total", "counter",
	    "Passive reports dropped: no channel to the parent");
	mx_u64(out, "haven_lb_passive_unsent_total", NULL,
	    lb_runtime_passive_unsent(rt));
	buf_fini(&l);
}
