/*
 * snap_cont_api.c - what continuous replication shows (snap_cont.h): the
 * Prometheus families in /metrics, "continuous" in GET /v1/snap, and the
 * `haven status` lines drawn from that JSON. Reads the state only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf_node.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "snap/snap_cont.h"
#include "snap/snap_cont_priv.h"
#include "snap/snap_watch.h"

/* A per-volume value for snap_cont_mx_vols; false: no sample. */
typedef bool snap_cont_vol_val_fn(const struct snap_cont_vol *v, uint64_t *x);

static bool
snap_cont_overruns(const struct snap_cont_vol *v, uint64_t *x)
{
	*x = v->sched.overruns;
	return true;
}

static bool
snap_cont_early(const struct snap_cont_vol *v, uint64_t *x)
{
	*x = v->sched.early;
	return true;
}

static bool
snap_cont_dirty_now(const struct snap_cont_vol *v, uint64_t *x)
{
	*x = v->dirty_now;
	return v->dirty_bytes > 0; /* only volumes that measure it */
}

/* The watcher's figures of v; false for a volume without one. */
static bool
snap_cont_watch(const struct snap_cont_vol *v, struct snap_watch_info *wi)
{
	if (v->watch == NULL)
		return false;
	snap_watch_info(v->watch, wi);
	return true;
}

static bool
snap_cont_watch_dirty(const struct snap_cont_vol *v, uint64_t *x)
{
	struct snap_watch_info wi;

	if (!snap_cont_watch(v, &wi))
		return false;
	*x = wi.dirty;
	return true;
}

static bool
snap_cont_watch_overflows(const struct snap_cont_vol *v, uint64_t *x)
{
	struct snap_watch_info wi;

	if (!snap_cont_watch(v, &wi))
		return false;
	*x = wi.overflows;
	return true;
}

/* One metric family with a sample per volume (label volume). */
static void
snap_cont_mx_vols(struct buf *out, struct buf *l, const struct snap_cont *c,
    const char *name, const char *type, const char *help,
    snap_cont_vol_val_fn *val)
{
	uint64_t x;

	mx_family(out, name, type, help);
	for (size_t i = 0; i < c->nv; i++) {
		if (!val(&c->v[i], &x))
			continue;
		buf_reset(l);
		mx_label(l, "volume", c->v[i].name);
		mx_u64(out, name, l->data, x);
	}
}

void
snap_cont_metrics(const struct snap_cont *c, struct buf *out)
{
	uint64_t now = util_wall_ms();
	const struct hook_stats *hs;
	struct buf l;

	if (c == NULL) /* the plane stopped */
		return;
	buf_init(&l);
	mx_family(out, "haven_snap_lag_seconds", "gauge",
	    "now minus the capture time of the newest snapshot the peer "
	    "acknowledged");
	for (size_t i = 0; i < c->nv; i++)
		for (size_t p = 0; p < c->v[i].npeers; p++) {
			struct snap_cont_peer *pp = &c->v[i].peers[p];

			buf_reset(&l);
			mx_label(&l, "volume", c->v[i].name);
			mx_label(&l, "peer", pp->addr);
			mx_f64(out, "haven_snap_lag_seconds", l.data,
			    (double)snap_rpo_lag(&pp->rpo, now) / 1000.0);
		}
	mx_family(out, "haven_snap_ship_seconds", "gauge",
	    "duration of the last shipping attempt to the peer");
	for (size_t i = 0; i < c->nv; i++)
		for (size_t p = 0; p < c->v[i].npeers; p++) {
			struct snap_cont_peer *pp = &c->v[i].peers[p];

			buf_reset(&l);
			mx_label(&l, "volume", c->v[i].name);
			mx_label(&l, "peer", pp->addr);
			mx_f64(out, "haven_snap_ship_seconds", l.data,
			    (double)pp->ship_ms / 1000.0);
		}
	mx_family(out, "haven_snap_ship_skipped_total", "counter",
	    "snapshots the peer never got: a newer one replaced them while "
	    "its previous shipment ran");
	for (size_t i = 0; i < c->nv; i++)
		for (size_t p = 0; p < c->v[i].npeers; p++) {
			struct snap_cont_peer *pp = &c->v[i].peers[p];

			buf_reset(&l);
			mx_label(&l, "volume", c->v[i].name);
			mx_label(&l, "peer", pp->addr);
			mx_u64(out, "haven_snap_ship_skipped_total", l.data,
			    pp->pipe.skipped);
		}
	mx_family(out, "haven_snap_ship_timeouts_total", "counter",
	    "shipments to the peer killed at cycle_timeout");
	for (size_t i = 0; i < c->nv; i++)
		for (size_t p = 0; p < c->v[i].npeers; p++) {
			struct snap_cont_peer *pp = &c->v[i].peers[p];

			buf_reset(&l);
			mx_label(&l, "volume", c->v[i].name);
			mx_label(&l, "peer", pp->addr);
			mx_u64(out, "haven_snap_ship_timeouts_total", l.data,
			    pp->timeouts);
		}
	mx_family(out, "haven_snap_cycles_total", "counter",
	    "continuous replication cycles, by result");
	for (size_t i = 0; i < c->nv; i++)
		for (int r = 0; r < SNAP_CR__COUNT; r++) {
			buf_reset(&l);
			mx_label(&l, "volume", c->v[i].name);
			mx_label(&l, "result", snap_cont_res_names[r]);
			mx_u64(out, "haven_snap_cycles_total", l.data,
			    c->v[i].results[r]);
		}
	snap_cont_mx_vols(out, &l, c, "haven_snap_cycle_overruns_total",
	    "counter",
	    "cycles that ended after the next was due (it started late)",
	    snap_cont_overruns);
	snap_cont_mx_vols(out, &l, c, "haven_snap_cycles_early_total",
	    "counter", "cycles started before the interval by dirty_bytes",
	    snap_cont_early);
	snap_cont_mx_vols(out, &l, c, "haven_snap_dirty_bytes", "gauge",
	    "bytes of the source changed since its last snapshot, as last "
	    "measured (volumes with dirty_bytes)",
	    snap_cont_dirty_now);
	snap_cont_mx_vols(out, &l, c, "haven_snap_watch_dirty_paths", "gauge",
	    "paths of a directory source changed since its last snapshot "
	    "(inotify)",
	    snap_cont_watch_dirty);
	snap_cont_mx_vols(out, &l, c, "haven_snap_watch_overflows_total",
	    "counter",
	    "inotify queue overflows (the next snapshot walks the whole tree)",
	    snap_cont_watch_overflows);
	mx_family(out, "haven_snap_rpo_events_total", "counter",
	    "peers' lag crossing rpo_target, and recovering");
	buf_reset(&l);
	mx_label(&l, "event", "exceeded");
	mx_u64(out, "haven_snap_rpo_events_total", l.data, c->events[0]);
	buf_reset(&l);
	mx_label(&l, "event", "recovered");
	mx_u64(out, "haven_snap_rpo_events_total", l.data, c->events[1]);
	if (c->hooks != NULL) {
		hs = hook_stats(c->hooks);
		mx_family(out, "haven_snap_alarm_hooks_total", "counter",
		    "RPO alarm hook jobs, by outcome");
		buf_reset(&l);
		mx_label(&l, "result", "ok");
		mx_u64(out, "haven_snap_alarm_hooks_total", l.data, hs->ok);
		buf_reset(&l);
		mx_label(&l, "result", "failed");
		mx_u64(out, "haven_snap_alarm_hooks_total", l.data, hs->failed);
		buf_reset(&l);
		mx_label(&l, "result", "dropped");
		mx_u64(
		    out, "haven_snap_alarm_hooks_total", l.data, hs->dropped);
	}
	buf_fini(&l);
}

void
snap_cont_json(const struct snap_cont *c, struct jw *w)
{
	uint64_t now = util_wall_ms();

	jw_key(w, "continuous");
	jw_arr_begin(w);
	for (size_t i = 0; c != NULL && i < c->nv; i++) {
		struct snap_cont_vol *v = &c->v[i];

		jw_obj_begin(w);
		jw_kstr(w, "volume", v->name);
		jw_kstr(w, "group", v->group != NULL ? v->group : "");
		jw_kuint(w, "interval_ms", v->sched.interval_ms);
		jw_kuint(w, "rpo_target_ms", v->rpo_target_ms);
		jw_kbool(w, "running", v->sched.running);
		jw_kuint(w, "cycles", v->sched.cycles);
		jw_kuint(w, "overruns", v->sched.overruns);
		jw_kuint(w, "pruned", v->pruned);
		jw_kstr(w, "last_id", v->last_id);
		jw_kuint(w, "last_time_ms", v->last_capture_ms);
		jw_kstr(w, "detect",
		    v->detect_conf == SNAP_CONF_DETECT_INOTIFY ?
		        "inotify" :
		        snap_cd_kind_name(v->detect));
		jw_kstr(w, "last_detect", v->last_detect);
		jw_kstr(w, "last_detect_note", v->last_note);
		jw_kuint(w, "last_dirty_paths", v->last_dirty);
		jw_kuint(w, "dirty_paths_trigger", v->dirty_paths);
		if (v->watch != NULL)
			snap_watch_json(v->watch, w);
		jw_kuint(w, "last_read_chunks", v->last_read_chunks);
		jw_kuint(w, "last_reused_chunks", v->last_reused);
		jw_kuint(w, "dirty_trigger", v->dirty_bytes);
		jw_kuint(w, "dirty_bytes", v->dirty_now);
		jw_kstr(w, "dirty_error",
		    v->dirty_err != 0 ? strerror(-v->dirty_err) : "");
		jw_kuint(w, "early_cycles", v->sched.early);
		jw_kbool(w, "replica_here", v->replica_here);
		jw_kstr(w, "last_error", v->error);
		jw_key(w, "results");
		jw_obj_begin(w);
		for (int r = 0; r < SNAP_CR__COUNT; r++)
			jw_kuint(w, snap_cont_res_names[r], v->results[r]);
		jw_obj_end(w);
		jw_key(w, "peers");
		jw_arr_begin(w);
		for (size_t p = 0; p < v->npeers; p++) {
			struct snap_cont_peer *pp = &v->peers[p];

			jw_obj_begin(w);
			jw_kstr(w, "peer", pp->addr);
			jw_kstr(w, "acked_id", pp->ack_id);
			jw_kuint(w, "acked_time_ms",
			    pp->rpo.acked ? pp->rpo.ack_capture_ms : 0);
			jw_kuint(w, "last_ack_ms",
			    pp->rpo.acked ? pp->rpo.ack_at_ms : 0);
			jw_kuint(w, "lag_ms", snap_rpo_lag(&pp->rpo, now));
			jw_kbool(w, "rpo_exceeded", pp->rpo.over);
			jw_kuint(w, "ship_ms", pp->ship_ms);
			jw_kuint(w, "ok", pp->ok);
			jw_kuint(w, "failed", pp->failed);
			jw_kuint(w, "timeouts", pp->timeouts);
			jw_kuint(w, "shipments", pp->pipe.started);
			jw_kuint(w, "skipped", pp->pipe.skipped);
			jw_kbool(w, "shipping", pp->pipe.busy);
			jw_kstr(
			    w, "shipping_id", pp->pipe.busy ? pp->ship_id : "");
			jw_kstr(w, "waiting_id",
			    pp->pipe.queued ? pp->queued_id : "");
			jw_kstr(w, "last_error", pp->error);
			jw_obj_end(w);
		}
		jw_arr_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static char *snap_cont_at(struct conf_node *n, const char *path);

/* The `haven status` line of a tree's dirty set, when it has a watcher. */
static void
snap_cont_watch_status(struct conf_node *v)
{
	char *ldet, *note, *ld, *run, *dirty, *why, *ovf;

	if (conf_node_at(v, "/watch") == NULL)
		return;
	ldet = snap_cont_at(v, "/last_detect");
	note = snap_cont_at(v, "/last_detect_note");
	ld = snap_cont_at(v, "/last_dirty_paths");
	run = snap_cont_at(v, "/watch/running");
	dirty = snap_cont_at(v, "/watch/dirty");
	why = snap_cont_at(v, "/watch/unknown");
	ovf = snap_cont_at(v, "/watch/overflows");
	printf("    inotify %s, %s dirty now%s%s%s, %s overflows; last "
	       "snapshot: %s",
	    strcmp(run, "true") == 0 ? "watching" : "NOT watching", dirty,
	    strcmp(why, "-") != 0 ? " (unknown: " : "",
	    strcmp(why, "-") != 0 ? why : "", strcmp(why, "-") != 0 ? ")" : "",
	    ovf, strcmp(ldet, "inotify") == 0 ? "dirty set" : "full walk");
	if (strcmp(ldet, "inotify") == 0)
		printf(", %s paths\n", ld);
	else
		printf("%s%s\n", strcmp(note, "-") != 0 ? ": " : "",
		    strcmp(note, "-") != 0 ? note : "");
	free(ldet);
	free(note);
	free(ld);
	free(run);
	free(dirty);
	free(why);
	free(ovf);
}

static char *
snap_cont_at(struct conf_node *n, const char *path)
{
	struct conf_node *v = conf_node_at(n, path);
	char *t = v != NULL ? conf_node_text(v) : NULL;

	if (t == NULL || t[0] == '\0') {
		free(t);
		return xstrdup("-");
	}
	return t;
}

void
snap_cont_status(struct conf_node *root)
{
	struct conf_node *vols = conf_node_at(root, "/continuous");

	for (size_t i = 0; i < conf_node_count(vols); i++) {
		struct conf_node *v = conf_node_item(vols, i);
		struct conf_node *peers = conf_node_at(v, "/peers");
		char *name = snap_cont_at(v, "/volume");
		char *id = snap_cont_at(v, "/last_id");
		char *err = snap_cont_at(v, "/last_error");
		char *ovr = snap_cont_at(v, "/overruns");
		char *det = snap_cont_at(v, "/detect");
		char *ldet = snap_cont_at(v, "/last_detect");
		char *rd = snap_cont_at(v, "/last_read_chunks");
		char *ru = snap_cont_at(v, "/last_reused_chunks");
		char *rep = snap_cont_at(v, "/replica_here");

		printf("  continuous %-16s newest %s, overruns %s%s%s\n", name,
		    id, ovr, strcmp(err, "-") != 0 ? ", last error: " : "",
		    strcmp(err, "-") != 0 ? err : "");
		/* The change detection asked for, and what the last
		 * snapshot used (auto resolves per file system). */
		printf("    detect %s (last: %s, %s chunks read, %s reused)\n",
		    det, ldet, rd, ru);
		snap_cont_watch_status(v);
		if (strcmp(rep, "true") == 0)
			printf("    replica on this node (demoted): cycles "
			       "skipped until a promote\n");
		free(rep);
		free(det);
		free(ldet);
		free(rd);
		free(ru);
		for (size_t p = 0; p < conf_node_count(peers); p++) {
			struct conf_node *pn = conf_node_item(peers, p);
			char *a = snap_cont_at(pn, "/peer");
			char *lag = snap_cont_at(pn, "/lag_ms");
			char *ship = snap_cont_at(pn, "/ship_ms");
			char *over = snap_cont_at(pn, "/rpo_exceeded");
			char *skip = snap_cont_at(pn, "/skipped");
			char *busy = snap_cont_at(pn, "/shipping");

			printf("    -> %-22s lag %s ms, last ship %s ms, "
			       "skipped %s%s%s\n",
			    a, lag, ship, skip,
			    strcmp(busy, "true") == 0 ? ", shipping" : "",
			    strcmp(over, "true") == 0 ? ", RPO EXCEEDED" : "");
			free(skip);
			free(busy);
			free(a);
			free(lag);
			free(ship);
			free(over);
		}
		free(name);
		free(id);
		free(err);
		free(ovr);
	}
}
