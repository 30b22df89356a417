/*
 * hc_metrics.c - the health engine's Prometheus families: the state of every
 * target, probe latency histograms, transitions, probe errors by reason, and
 * every discard the engine, its hooks and the check types count.
 */
#include <stdio.h>

#include "hc/hc_engine.h"
#include "hc/hc_hooks.h"
#include "hc/hc_sock.h"
#include "lib/metrics.h"

static void
hc_metrics_label(
    struct buf *l, const char *k, const char *v, const char *k2, const char *v2)
{
	buf_reset(l);
	mx_label(l, k, v);
	if (k2 != NULL)
		mx_label(l, k2, v2);
}

static void
hc_metrics_targets(const struct hc_engine *e, struct buf *out, struct buf *l)
{
	const struct hc_target *t;

	mx_family(out, "haven_hc_target_state", "gauge",
	    "1 for the state each target is in");
	for (size_t i = 0; i < e->ntargets; i++) {
		t = e->targets[i];
		for (int s = 0; s < HC__STATE_COUNT; s++) {
			hc_metrics_label(
			    l, "target", t->name, "state", hc_state_name(s));
			mx_u64(out, "haven_hc_target_state", l->data,
			    t->sm.state == (enum hc_state)s);
		}
	}
	mx_family(out, "haven_hc_probe_duration_seconds", "histogram",
	    "probe latency, start to verdict");
	for (size_t i = 0; i < e->ntargets; i++) {
		t = e->targets[i];
		hc_metrics_label(l, "target", t->name, NULL, NULL);
		mx_hist_render(out, "haven_hc_probe_duration_seconds", l->data,
		    &t->latency);
	}
	mx_family(out, "haven_hc_target_transitions_total", "counter",
	    "published state changes per target");
	for (size_t i = 0; i < e->ntargets; i++) {
		t = e->targets[i];
		hc_metrics_label(l, "target", t->name, NULL, NULL);
		mx_u64(out, "haven_hc_target_transitions_total", l->data,
		    t->ntrans);
	}
	mx_family(out, "haven_hc_passive_reports_total", "counter",
	    "failures of real traffic reported per target");
	for (size_t i = 0; i < e->ntargets; i++) {
		t = e->targets[i];
		hc_metrics_label(l, "target", t->name, NULL, NULL);
		mx_u64(out, "haven_hc_passive_reports_total", l->data,
		    t->passive_reports);
	}
}

static void
hc_metrics_counter(
    struct buf *out, const char *name, const char *help, uint64_t v)
{
	mx_family(out, name, "counter", help);
	mx_u64(out, name, NULL, v);
}

static void
hc_metrics_engine(const struct hc_engine *e, struct buf *out, struct buf *l)
{
	const struct hc_engine_stats *s = &e->stats;

	mx_family(out, "haven_hc_probe_errors_total", "counter",
	    "failed probes by reason");
	for (int r = 1; r < HC__REASON_COUNT; r++) {
		hc_metrics_label(l, "reason", hc_reason_name(r), NULL, NULL);
		mx_u64(out, "haven_hc_probe_errors_total", l->data,
		    s->probe_errors[r]);
	}
	hc_metrics_counter(out, "haven_hc_transitions_total",
	    "published state changes", s->transitions);
	hc_metrics_counter(out, "haven_hc_verdicts_sent_total",
	    "verdict messages sent to the parent", s->verdicts_sent);
	hc_metrics_counter(out, "haven_hc_probe_start_failed_total",
	    "probes that could not start", s->probe_start_failed);
	hc_metrics_counter(out, "haven_hc_probe_no_type_total",
	    "probes of a type not in this build", s->probe_no_type);
	hc_metrics_counter(out, "haven_hc_passive_unknown_total",
	    "passive reports for unknown targets (dropped)",
	    s->passive_unknown);
	hc_metrics_counter(out, "haven_hc_passive_refused_total",
	    "passive ejections refused: last healthy member of a pool",
	    s->passive_refused);
	hc_metrics_counter(out, "haven_hc_persist_writes_total",
	    "state file writes", s->persist_writes);
	hc_metrics_counter(out, "haven_hc_persist_errors_total",
	    "state file writes that failed", s->persist_errors);
	hc_metrics_counter(out, "haven_hc_restore_errors_total",
	    "state file entries that could not be used", s->restore_errors);
	hc_metrics_counter(out, "haven_hc_restore_stale_total",
	    "state files older than the restore limit, not used",
	    s->restore_stale);
	hc_metrics_counter(out, "haven_hc_targets_dropped_total",
	    "targets dropped: duplicate names", s->targets_dropped);
	mx_family(out, "haven_hc_targets", "gauge", "targets probed");
	mx_u64(out, "haven_hc_targets", NULL, e->ntargets);
}

static void
hc_metrics_hooks(const struct hc_engine *e, struct buf *out, struct buf *l)
{
	const struct hook_stats *h = hc_hooks_stats(e->hookq);
	const struct {
		const char *what;
		uint64_t v;
	} rows[] = {
		{ "runs", h->runs },
		{ "ok", h->ok },
		{ "failed", h->failed },
		{ "timeouts", h->timeouts },
		{ "retries", h->retries },
		{ "dropped", h->dropped },
		{ "spawn_errors", h->spawn_errors },
	};

	mx_family(out, "haven_hc_hooks_total", "counter",
	    "notification hook runs by outcome");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		hc_metrics_label(l, "what", rows[i].what, NULL, NULL);
		mx_u64(out, "haven_hc_hooks_total", l->data, rows[i].v);
	}
}

static void
hc_metrics_sock(struct buf *out, struct buf *l)
{
	const struct hc_sock_stats *s = &hc_sock_stats;
	const struct {
		const char *what;
		uint64_t v;
	} rows[] = {
		{ "sock_errors", s->sock_errors },
		{ "early_results", s->early_results },
		{ "http_garbage", s->http_garbage },
		{ "http_too_large", s->http_too_large },
		{ "tls_errors", s->tls_errors },
		{ "dns_rx_bad_id", s->dns_rx_bad_id },
		{ "dns_rx_malformed", s->dns_rx_malformed },
		{ "icmp_rx_foreign", s->icmp_rx_foreign },
		{ "exec_out_dropped", s->exec_out_dropped },
		{ "exec_killed", s->exec_killed },
	};

	mx_family(out, "haven_hc_check_events_total", "counter",
	    "what the check types saw and dropped");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		hc_metrics_label(l, "what", rows[i].what, NULL, NULL);
		mx_u64(out, "haven_hc_check_events_total", l->data, rows[i].v);
	}
}

void
hc_metrics_render(const struct hc_engine *e, struct buf *out)
{
	struct buf l;

	buf_init(&l);
	hc_metrics_targets(e, out, &l);
	hc_metrics_engine(e, out, &l);
	hc_metrics_hooks(e, out, &l);
	hc_metrics_sock(out, &l);
	buf_fini(&l);
}
