/*
 * hc_state.c - the pure verdict state machine: see hc_state.h for the rules.
 * No I/O, no clock, no globals.
 */
#include <math.h>
#include <string.h>

#include "hc/hc_state.h"

/* Penalty within this factor of damp_reuse counts as decayed (float noise). */
#define HC_SM_EPS 1e-9

void
hc_sm_init(
    struct hc_sm *sm, enum hc_state st, enum hc_reason why, uint64_t now_ms)
{
	memset(sm, 0, sizeof(*sm));
	sm->state = sm->raw = sm->probe = st;
	sm->reason = sm->raw_reason = why;
	sm->since_ms = now_ms;
	sm->penalty_ms = now_ms;
}

double
hc_sm_penalty(
    const struct hc_sm *sm, const struct hc_timing *t, uint64_t now_ms)
{
	double dt;

	if (sm->penalty <= 0 || t->damp_half_life_ms == 0)
		return sm->penalty;
	dt = now_ms > sm->penalty_ms ? (double)(now_ms - sm->penalty_ms) : 0;
	return sm->penalty * exp2(-dt / (double)t->damp_half_life_ms);
}

uint64_t
hc_sm_release_at(const struct hc_sm *sm, const struct hc_timing *t)
{
	double reuse = t->damp_reuse > 0 ? t->damp_reuse : 1;
	double dt;

	if (!sm->damped)
		return UINT64_MAX;
	if (sm->penalty <= reuse || t->damp_half_life_ms == 0)
		return sm->penalty_ms;
	dt = (double)t->damp_half_life_ms * log2(sm->penalty / reuse);
	return sm->penalty_ms + (uint64_t)ceil(dt);
}

enum hc_state
hc_sm_probe_state(const struct hc_sm *sm)
{
	/* Ejection zeroes both runs: no failed probe since means it passes. */
	if (sm->passive_ejected)
		return sm->fail_run == 0 ? HC_UP : HC_DOWN;
	return sm->raw;
}

/* Recompute the published verdict from the raw one and damping. */
static unsigned
hc_sm_publish(struct hc_sm *sm, uint64_t now_ms)
{
	enum hc_state st = sm->damped ? HC_DOWN : sm->raw;
	enum hc_reason why = sm->damped ? HC_R_DAMPED : sm->raw_reason;
	enum hc_state probe = hc_sm_probe_state(sm);
	unsigned bits = 0;

	if (probe != sm->probe) {
		bits |= HC_SM_PROBE;
		sm->probe = probe;
	}
	if (st != sm->state) {
		bits |= HC_SM_STATE;
		sm->since_ms = now_ms;
	}
	if (why != sm->reason)
		bits |= HC_SM_REASON;
	if ((why == HC_R_DAMPED) != (sm->reason == HC_R_DAMPED))
		bits |= HC_SM_DAMP;
	sm->state = st;
	sm->reason = why;
	return bits;
}

/* Decay, then release damping once the penalty reached damp_reuse. */
static void
hc_sm_decay(struct hc_sm *sm, const struct hc_timing *t, uint64_t now_ms)
{
	sm->penalty = hc_sm_penalty(sm, t, now_ms);
	sm->penalty_ms = now_ms;
	if (sm->damped &&
	    (!t->damping ||
	        sm->penalty <= (double)t->damp_reuse * (1 + HC_SM_EPS)))
		sm->damped = false;
}

/* A raw transition: the only place the raw verdict changes. */
static void
hc_sm_raw(struct hc_sm *sm, const struct hc_timing *t, enum hc_state to,
    enum hc_reason why, uint64_t now_ms)
{
	enum hc_state from = sm->raw;

	sm->raw = to;
	sm->raw_reason = why;
	sm->passive_run = 0;
	if (from == HC_UNKNOWN || from == to)
		return;
	sm->transitions++;
	if (!t->damping)
		return;
	hc_sm_decay(sm, t, now_ms);
	sm->penalty += t->damp_penalty;
	if (sm->penalty > (double)t->damp_suppress)
		sm->damped = true;
}

unsigned
hc_sm_probe(struct hc_sm *sm, const struct hc_timing *t, enum hc_reason r,
    uint64_t now_ms)
{
	hc_sm_decay(sm, t, now_ms);
	if (r == HC_R_OK) {
		sm->fail_run = 0;
		sm->ok_run++;
		if (sm->raw != HC_UP && sm->ok_run >= t->rise) {
			sm->passive_ejected = false;
			hc_sm_raw(sm, t, HC_UP, HC_R_OK, now_ms);
		} else if (sm->raw == HC_UP) {
			sm->raw_reason = HC_R_OK;
		}
	} else {
		sm->ok_run = 0;
		sm->fail_run++;
		if (sm->raw != HC_DOWN && sm->fail_run >= t->fall) {
			hc_sm_raw(sm, t, HC_DOWN, r, now_ms);
		} else if (sm->raw == HC_DOWN && !sm->passive_ejected) {
			/* Keep the latest cause for "why is it down". */
			sm->raw_reason = r;
		} else if (sm->passive_ejected && sm->fail_run >= t->fall) {
			/* Active probes confirm the ejection. */
			sm->passive_ejected = false;
			sm->raw_reason = r;
		}
	}
	return hc_sm_publish(sm, now_ms);
}

enum hc_sm_passive
hc_sm_passive(struct hc_sm *sm, const struct hc_timing *t, enum hc_reason kind,
    bool allow, uint64_t now_ms, unsigned *bits)
{
	*bits = 0;
	if (kind == HC_R_OK) {
		sm->passive_run = 0;
		return HC_SM_P_RESET;
	}
	if (t->passive_fails == 0 || sm->raw != HC_UP)
		return HC_SM_P_IGNORED;
	if (sm->passive_run < t->passive_fails)
		sm->passive_run++;
	if (sm->passive_run < t->passive_fails)
		return HC_SM_P_COUNTED;
	if (!allow)
		return HC_SM_P_REFUSED;
	hc_sm_decay(sm, t, now_ms);
	sm->ok_run = sm->fail_run = 0;
	sm->passive_ejected = true;
	hc_sm_raw(sm, t, HC_DOWN, HC_R_PASSIVE_EJECTED, now_ms);
	*bits = hc_sm_publish(sm, now_ms);
	return HC_SM_P_EJECTED;
}

unsigned
hc_sm_tick(struct hc_sm *sm, const struct hc_timing *t, uint64_t now_ms)
{
	hc_sm_decay(sm, t, now_ms);
	return hc_sm_publish(sm, now_ms);
}

bool
hc_sm_changing(const struct hc_sm *sm)
{
	if (sm->raw == HC_UNKNOWN || sm->passive_ejected)
		return true;
	if (sm->raw == HC_UP)
		return sm->fail_run > 0;
	return sm->ok_run > 0;
}

uint64_t
hc_sm_base_delay(const struct hc_sm *sm, const struct hc_timing *t)
{
	if (hc_sm_changing(sm))
		return t->fast_interval_ms;
	if (sm->raw == HC_DOWN && t->down_interval_ms != 0)
		return t->down_interval_ms;
	return t->interval_ms;
}

uint64_t
hc_sm_jitter(uint64_t d, uint32_t pct, uint32_t rnd)
{
	uint64_t span;

	if (pct > 100)
		pct = 100;
	span = d * pct / 100;
	if (span == 0)
		return d;
	return d - span + (uint64_t)rnd % (2 * span + 1);
}

uint64_t
hc_sm_next_delay(
    const struct hc_sm *sm, const struct hc_timing *t, uint32_t rnd)
{
	return hc_sm_jitter(hc_sm_base_delay(sm, t), t->jitter_pct, rnd);
}
