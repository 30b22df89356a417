/*
 * lb_pool_priv.h - the pool and server structures, shared by pool management
 * (lb_pool.c, lb_zone.c, balance_*.c, lb_runtime.c, lb_api.c, lb_metrics.c)
 * and nothing else: the data path sees only lb_pool.h.
 *
 * Invariants:
 *   - p->servers holds the servers of the current config, in config order;
 *     a server dropped by a reload leaves the array (removed = true) and
 *     lives on until its last reference goes;
 *   - each server holds one reference on its pool, so lb_server_pool() of a
 *     removed server stays valid; the runtime holds one more while the pool
 *     is configured;
 *   - p->active_zone is the zone taking traffic, or -1 when none qualifies
 *     (all down); it only moves in lb_zone_update().
 * Time comes from the runtime's event loop (ev_now_ms), never the wall
 * clock, so the simulated clock drives every ramp and hold-down in tests.
 */
#ifndef HAVEN_LB_POOL_PRIV_H
#define HAVEN_LB_POOL_PRIV_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include "hc/hc.h"
#include "lb/lb_conf.h"
#include "lb/lb_metrics.h"
#include "lb/lb_pool.h"
#include "lb/lb_runtime.h"
#include "lib/ev.h"
#include "lib/namemap.h"

/* Readmission delay after a passive failure in a pool without health check:
 * no hc target exists that could send the UP verdict, so a timer does. */
#define LB_PASSIVE_READMIT_MS      10000
/* Slow start begins at this share of the weight (per mille). */
#define LB_SLOW_START_MIN_PERMILLE 100
/* Consistent-hash ring points per unit of weight, and the cap per server. */
#define LB_HASH_POINTS_PER_WEIGHT  2
#define LB_HASH_POINTS_MAX         2000

/* active_zone of a pool under construction, before its first evaluation. */
#define LB_ZONE_UNSET (-2)

struct lb_server {
	char *name;           /* owned: "pool/server" */
	const char *sname;    /* borrowed: the server part of name */
	struct lb_pool *pool; /* counted: one reference on the pool */
	struct sockaddr_storage addr;
	uint32_t conf_weight;  /* from the config */
	uint32_t admin_weight; /* set by the API; used when has_admin_weight */
	bool has_admin_weight;
	uint32_t max_conn;    /* 0: unlimited */
	size_t zone;          /* index into the pool's zones */
	enum hc_state health; /* last verdict; UNKNOWN counts as up */
	enum hc_reason health_reason;
	/* What the active probes alone say (ipc_verdict.probe_state): UP on
	 * a server held down by damping or passive ejection makes it a
	 * standby, used when the pool would otherwise be short. */
	enum hc_state probe_state;
	bool passive_down; /* ejected by real traffic until readmitted */
	uint32_t passive_consecutive;
	uint32_t consecutive_5xx; /* answers >= 500 in a row, for passive_5xx */
	enum lb_admin admin;
	uint64_t up_since_ms; /* slow start origin; 0: at full weight */
	uint32_t active;      /* connections in progress */
	int refs;             /* lb_server_ref + 1 while in the pool */
	bool removed;         /* dropped by a reload */
	int64_t rr_current;   /* smooth weighted round-robin state */
	uint64_t hash_mark;   /* == pool's hash_gen: a candidate of this pick */
	struct ev_timer readmit; /* health-less pools: passive readmission */
	struct lb_server_stats stats;
};

struct lb_hash_point {
	uint64_t h;
	struct lb_server *s; /* borrowed: a server of the same pool */
};

struct lb_pool {
	/* borrowed: the runtime that made it, which outlives it; NULL for a
	 * pool made on its own (tests): no clock, no hooks. */
	struct lb_runtime *rt;
	char *name;                 /* owned */
	struct lb_pool_conf conf;   /* owned copy: strings duplicated, no
	                               servers (see lb_pool_conf_copy) */
	struct lb_server **servers; /* owned array of counted pointers */
	size_t nservers;
	/* lb_pool_server's index: sname -> server borrowed from servers. */
	struct namemap byname;
	size_t nzones;              /* max(1, conf.nzones) */
	int active_zone;            /* -1: none qualifies; LB_ZONE_UNSET */
	bool fallback;              /* standbys of active_zone take traffic */
	int better_zone;            /* hold: better zone waiting, -1: none */
	uint64_t better_since_ms;   /* when better_zone qualified */
	bool failback_requested;    /* manual failback asked by the API */
	struct ev_timer hold;       /* fires when failback_hold ends */
	struct lb_hash_point *ring; /* owned; rebuilt when servers change */
	size_t nring;
	size_t lc_next;    /* least-conn tie rotation */
	uint64_t rng;      /* xorshift64* state for random2 */
	uint64_t hash_gen; /* bumped per hash pick (hash_mark) */
	int refs;          /* runtime + one per server object */
	bool removed;
	struct lb_pool_stats stats;
};

/* lb_pool.c */
struct lb_pool *lb_pool_new(
    struct lb_runtime *rt, const struct lb_pool_conf *pc);
/* Update definition in place (same name), keeping state by server name. */
void lb_pool_update(struct lb_pool *p, const struct lb_pool_conf *pc);
/* Detach from the runtime; freed when the last server reference goes. */
void lb_pool_release(struct lb_pool *p);
struct lb_server *lb_pool_server(struct lb_pool *p, const char *sname);
/* Weight after admin override and slow start; 0: takes no traffic. */
uint32_t lb_server_eff_weight(const struct lb_server *s, uint64_t now_ms);
/* Healthy for zone accounting: up/unknown, not ejected, not disabled. */
bool lb_server_healthy(const struct lb_server *s);
/* Accepts new traffic: healthy, admin ready, weight > 0. */
bool lb_server_usable(const struct lb_server *s);
/*
 * Not usable only because damping or passive ejection holds it down while
 * its probes pass (or, without health check, only passive ejection): it is
 * de-preferred, taken again when the pool would be short (fallback) and by
 * retries that found nothing better.
 */
bool lb_server_standby(const struct lb_server *s);
/* A verdict: probe is what the probes alone say (ipc_verdict). */
void lb_server_set_verdict(struct lb_server *s, enum hc_state st,
    enum hc_reason why, enum hc_state probe);
/* A verdict whose probes agree with it (probe == st). */
void lb_server_set_health(
    struct lb_server *s, enum hc_state st, enum hc_reason why);
void lb_server_set_admin(struct lb_server *s, enum lb_admin st);
void lb_server_set_weight(struct lb_server *s, uint32_t w);
const char *lb_admin_name(enum lb_admin a);
/* Now on the clock of p's runtime, in ms; 0 without one. */
uint64_t lb_pool_now(const struct lb_pool *p);

/* lb_zone.c */
void lb_zone_hold_cb(struct ev_timer *t, void *arg);
void lb_zone_update(struct lb_pool *p);
int lb_zone_failback(struct lb_pool *p);
/* Servers of zone z that are healthy / needed for the zone to qualify. */
size_t lb_zone_healthy(const struct lb_pool *p, size_t z);
/* Standby servers of zone z (lb_server_standby). */
size_t lb_zone_standby(const struct lb_pool *p, size_t z);
size_t lb_zone_needed(const struct lb_pool *p, size_t z);
const char *lb_zone_name(const struct lb_pool *p, size_t z);

/*
 * Balancers choose among n candidates (usable, not excluded, below max_conn)
 * with their effective weights w[i] > 0. Pure apart from the state they keep
 * in the servers and pool.
 */
struct lb_server *balance_rr_pick(
    struct lb_server *const *c, const uint32_t *w, size_t n);
struct lb_server *balance_leastconn_pick(
    struct lb_pool *p, struct lb_server *const *c, const uint32_t *w, size_t n);
struct lb_server *balance_random2_pick(
    struct lb_pool *p, struct lb_server *const *c, const uint32_t *w, size_t n);
uint64_t balance_random2_next(uint64_t *state);
/* Rebuild p->ring from p->servers and their configured weights. */
void balance_hash_build(struct lb_pool *p);
/*
 * The first candidate clockwise from key's point whose load is below the
 * bounded-load cap (factor_pct 0: no cap). NULL when key is NULL.
 */
struct lb_server *balance_hash_pick(struct lb_pool *p, const void *key,
    size_t keylen, struct lb_server *const *c, size_t n, uint32_t factor_pct);
uint64_t balance_hash_bytes(const void *p, size_t n);
/* cap = ceil(factor * (total + 1) / n), the Mirrokni et al. bound. */
uint32_t balance_hash_cap(uint64_t total_active, size_t n, uint32_t factor_pct);

#endif
