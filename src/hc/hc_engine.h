/*
 * hc_engine.h - the health engine: one runtime target per probed address,
 * probes scheduled on ev timers, verdicts published on every transition,
 * last-known verdicts persisted, and reloads that keep the state of every
 * target whose definition did not change.
 *
 * Targets come from the config through hc_engine_targets() alone: each
 * health.checks[] entry with an address is a target named by the check;
 * every target another plane declares (struct plane_target: lb's pool
 * servers, "pool/server") probes its address with the template it names.
 * The engine knows no other plane's structs.
 *
 * Lifetime and ownership: the engine owns its targets. A target borrows its
 * struct hc_check_conf from the config last applied, which the caller keeps
 * valid until the next hc_engine_apply() returns; apply re-points every
 * target to the new config, and a probe in flight on an unchanged target is
 * restarted at once so that no check type keeps reading the old config.
 *
 * The structs are visible so that hc_api.c and hc_metrics.c can render them;
 * everything else treats them as read-only.
 */
#ifndef HAVEN_HC_ENGINE_H
#define HAVEN_HC_ENGINE_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hc/hc_conf.h"
#include "hc/hc_probe.h"
#include "hc/hc_state.h"
#include "lib/buf.h"
#include "lib/ev.h"
#include "lib/ipc.h"
#include "lib/metrics.h"
#include "lib/namemap.h"
#include "lib/plane.h"

#define HC_HIST_PROBES 20   /* probe results kept per target */
#define HC_HIST_TRANS  50   /* transitions kept per target */
#define HC_PERSIST_MS  200  /* transitions are written at most this often */
#define HC_FIRST_MS    1000 /* every new target is probed within this */
#define HC_STATE_FILE  "health.json"

struct hc_engine;
struct hc_hooks;

/* One derived target, before it becomes runtime state. */
struct hc_target_spec {
	char name[IPC_NAME_MAX];
	char pool[IPC_NAME_MAX];        /* "" or the declaring owner */
	const struct hc_check_conf *cc; /* borrowed: from the config */
	struct sockaddr_storage addr;   /* probed (the type applies cc->port) */
};

struct hc_probe_rec {
	uint64_t at_ms; /* wall clock at completion */
	uint32_t latency_us;
	uint8_t reason; /* enum hc_reason */
	char detail[HC_DETAIL_MAX];
};

struct hc_trans_rec {
	uint64_t at_ms; /* wall clock */
	uint8_t from, to, reason;
};

struct hc_target {
	struct hc_engine *eng; /* borrowed: the owner */
	char name[IPC_NAME_MAX];
	char pool[IPC_NAME_MAX];
	const struct hc_check_conf *cc; /* borrowed: see the lifetime note */
	struct sockaddr_storage addr;
	struct hc_sm sm;
	uint64_t since_wall_ms; /* published state since (wall clock) */
	struct ev_timer probe_timer;
	struct ev_timer damp_timer; /* fires when damping may release */
	struct hc_probe *probe;     /* owned by its check type; NULL idle */
	uint64_t next_probe_ms;     /* loop time the timer fires at */
	struct hc_probe_rec probes[HC_HIST_PROBES]; /* ring */
	size_t nprobes;                             /* total recorded */
	struct hc_trans_rec trans[HC_HIST_TRANS];   /* ring */
	size_t ntrans;                              /* total recorded */
	struct mx_hist latency;
	uint64_t probes_ok, probes_failed;
	uint64_t passive_reports, passive_ejections, passive_refused;
	uint32_t last_latency_us;
	bool seen; /* mark for the reload diff */
	bool gone; /* removed by a reload: the last verdict says so */
};

/* Process-wide counters of things the engine dropped or failed at. */
struct hc_engine_stats {
	uint64_t probe_start_failed; /* a check type could not even start */
	uint64_t probe_no_type;      /* no check type linked for cc->type */
	uint64_t probe_errors[HC__REASON_COUNT]; /* failed probes by reason */
	uint64_t transitions;
	uint64_t verdicts_sent;
	uint64_t passive_unknown; /* report for a target we do not have */
	uint64_t passive_refused; /* last-healthy rule kept a target up */
	uint64_t persist_writes;
	uint64_t persist_errors;
	uint64_t restore_errors;  /* unreadable entries in the state file */
	uint64_t restore_stale;   /* state files too old to restore */
	uint64_t targets_dropped; /* names too long for a target */
};

/* Called on every published state change (and once per new target). */
typedef void hc_engine_verdict_fn(const struct hc_target *t, void *arg);

struct hc_engine {
	struct ev_loop *loop;       /* borrowed */
	struct hc_target **targets; /* owned: sorted by name */
	size_t ntargets;
	/* hc_engine_find's index: name -> target borrowed from targets. */
	struct namemap byname;
	const struct hook_alarm_conf *hooks; /* borrowed: global hooks */
	const struct hc_check_type *types[HC_TYPE_EXEC + 1]; /* borrowed */
	char *state_dir;            /* owned, NULL: no persistence */
	struct hc_restore *restore; /* owned: state file until 1st apply */
	size_t nrestore;
	struct ev_timer persist_timer;
	bool persist_dirty;
	uint64_t rng;     /* xorshift state */
	int64_t wall_off; /* wall clock - loop clock, ms */
	hc_engine_verdict_fn *on_verdict;
	void *on_verdict_arg;   /* borrowed */
	struct hc_hooks *hookq; /* owned */
	struct hc_engine_stats stats;
};

/*
 * A new engine on loop. state_dir (copied, may be NULL) holds health.json;
 * it is read now and used for the targets of the first apply. seed makes the
 * jitter reproducible (sim tests); 0 seeds from the clock.
 */
struct hc_engine *hc_engine_new(
    struct ev_loop *loop, const char *state_dir, uint64_t seed);
/* Cancel every probe, write the state file once more, free. */
void hc_engine_free(struct hc_engine *e);
void hc_engine_on_verdict(
    struct hc_engine *e, hc_engine_verdict_fn *fn, void *arg);
/* Use ct for checks of type (a test double, or a type linked late). */
void hc_engine_set_type(
    struct hc_engine *e, int type, const struct hc_check_type *ct);

/*
 * Derive the targets of hc and the ndecl targets the planes declared (decl
 * may be NULL) into a new array (*out, owned by the caller). A declared
 * target naming no template of hc is left out. Returns the count.
 */
size_t hc_engine_targets(const struct hc_conf *hc,
    const struct plane_target *decl, size_t ndecl, struct hc_target_spec **out);
/*
 * Make the runtime targets match specs: unchanged targets keep their state,
 * changed ones restart from unknown, new ones start unknown (or restored
 * from the state file on the first apply), missing ones are dropped.
 * hooks: global hooks (borrowed like the check confs), may be NULL.
 */
void hc_engine_apply(struct hc_engine *e, const struct hc_target_spec *specs,
    size_t n, const struct hook_alarm_conf *hooks);
/* Convenience: derive and apply. */
void hc_engine_apply_conf(struct hc_engine *e, const struct hc_conf *hc,
    const struct plane_target *decl, size_t ndecl);

/* A passive report from real traffic (struct ipc_passive). */
void hc_engine_passive(
    struct hc_engine *e, const char *target, enum hc_reason kind);

struct hc_target *hc_engine_find(const struct hc_engine *e, const char *name);
/* Wall-clock milliseconds consistent with the loop clock. */
uint64_t hc_engine_wall_ms(const struct hc_engine *e);
/* Write the state file now if anything changed. Returns 0 or -errno. */
int hc_engine_persist(struct hc_engine *e);

/* The n-th most recent probe (0: latest) or NULL. */
const struct hc_probe_rec *hc_target_probe(const struct hc_target *t, size_t n);
const struct hc_trans_rec *hc_target_trans(const struct hc_target *t, size_t n);

/* hc_api.c: GET /v1/checks[/NAME]. Returns the HTTP status. */
int hc_api_query(
    struct hc_engine *e, const char *method, const char *path, struct buf *out);
/* hc_metrics.c: the engine's Prometheus families. */
void hc_metrics_render(const struct hc_engine *e, struct buf *out);

#endif
