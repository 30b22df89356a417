/*
 * hc_state.h - the verdict state machine of one target. Pure: no I/O, no
 * clock (the caller passes now_ms), no globals, no randomness (the caller
 * passes a random 32-bit value), so every rule here is unit-tested directly.
 *
 * Two layers. The raw verdict follows the probes with hysteresis: `rise`
 * consecutive passes make a target up, `fall` consecutive failures make it
 * down, and `passive_fails` consecutive passive reports eject an up target at
 * once (only active probes readmit it). The published verdict is the raw one
 * unless flap damping holds it down: every raw up<->down transition adds
 * damp_penalty to a penalty that halves every damp_half_life_ms; above
 * damp_suppress the target is published down (reason damped) until the
 * penalty decays to damp_reuse. Transitions out of "unknown" are a first
 * verdict, not a flap, and add no penalty. Damping is off by default.
 *
 * The probe state is what the active probes alone say, before damping and
 * passive ejection: a damped target whose probes pass, or a passively
 * ejected one whose probes have not failed since, is "up by its probes".
 * It is published beside the verdict (HC_SM_PROBE when it changes) so that
 * a plane can de-prefer such a target rather than lose it: the lb uses it
 * when its pool would otherwise be short.
 *
 * Invariants: state == HC_DOWN whenever damped; ok_run and fail_run are never
 * both non-zero; since_ms is the time of the last published state change.
 */
#ifndef HAVEN_HC_STATE_H
#define HAVEN_HC_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "hc/hc.h"
#include "hc/hc_conf.h"

struct hc_sm {
	enum hc_state state;   /* published verdict */
	enum hc_reason reason; /* why it is in that state */
	enum hc_state raw;     /* verdict of probes and passive reports */
	enum hc_reason raw_reason;
	uint32_t ok_run;      /* consecutive passed probes */
	uint32_t fail_run;    /* consecutive failed probes */
	uint32_t passive_run; /* consecutive passive failure reports */
	bool passive_ejected; /* down by passive reports, not yet confirmed */
	bool damped;          /* held down by flap damping */
	double penalty;       /* damping penalty as of penalty_ms */
	uint64_t penalty_ms;
	uint64_t since_ms;    /* last published state change */
	uint32_t transitions; /* raw up<->down transitions seen */
	enum hc_state probe;  /* published probe state (hc_sm_probe_state) */
};

/* What a step changed in the published verdict (bit mask). */
#define HC_SM_STATE  0x1u /* state changed */
#define HC_SM_REASON 0x2u /* reason changed */
#define HC_SM_DAMP   0x4u /* damping began or ended */
#define HC_SM_PROBE  0x8u /* the published probe state changed */

/* What a passive report did. */
enum hc_sm_passive {
	HC_SM_P_RESET,   /* a success report cleared the count */
	HC_SM_P_COUNTED, /* counted, threshold not reached */
	HC_SM_P_EJECTED, /* threshold reached: raw verdict down */
	HC_SM_P_REFUSED, /* threshold reached but !allow (last healthy) */
	HC_SM_P_IGNORED, /* target not up, or passive ejection off */
};

/* Start in state st (HC_UNKNOWN cold, or a restored verdict). */
void hc_sm_init(
    struct hc_sm *sm, enum hc_state st, enum hc_reason why, uint64_t now_ms);
/* Feed one probe result (HC_R_OK: passed). Returns HC_SM_* bits. */
unsigned hc_sm_probe(struct hc_sm *sm, const struct hc_timing *t,
    enum hc_reason r, uint64_t now_ms);
/*
 * Feed one passive report of kind (HC_R_OK resets the count). allow is
 * false when ejecting would leave the target's pool without an up member.
 * *bits gets HC_SM_* bits.
 */
enum hc_sm_passive hc_sm_passive(struct hc_sm *sm, const struct hc_timing *t,
    enum hc_reason kind, bool allow, uint64_t now_ms, unsigned *bits);
/* Release damping if the penalty has decayed. Returns HC_SM_* bits. */
unsigned hc_sm_tick(
    struct hc_sm *sm, const struct hc_timing *t, uint64_t now_ms);
/* The damping penalty decayed to now_ms. */
double hc_sm_penalty(
    const struct hc_sm *sm, const struct hc_timing *t, uint64_t now_ms);
/* When a damped target will be released (UINT64_MAX if not damped). */
uint64_t hc_sm_release_at(const struct hc_sm *sm, const struct hc_timing *t);
/* What the active probes alone say (see above). */
enum hc_state hc_sm_probe_state(const struct hc_sm *sm);
/* True while the raw verdict is moving: probes run at fast_interval. */
bool hc_sm_changing(const struct hc_sm *sm);
/* The un-jittered delay before the next probe. */
uint64_t hc_sm_base_delay(const struct hc_sm *sm, const struct hc_timing *t);
/*
 * The delay before the next probe: the base delay moved by up to
 * +-jitter_pct percent, uniformly chosen by rnd.
 */
uint64_t hc_sm_next_delay(
    const struct hc_sm *sm, const struct hc_timing *t, uint32_t rnd);
/* Spread a delay d by +-pct percent using rnd (exposed for tests). */
uint64_t hc_sm_jitter(uint64_t d, uint32_t pct, uint32_t rnd);

#endif
