/*
 * havip_arb.c - the HAVIP arbiter (havip_arb.h). Pure.
 *
 * Every entry point first accounts contested time up to now: between two
 * calls no advert arrives, so the set of claiming peers only shrinks as
 * their claims lapse, and two or more claim until the second-latest lapse.
 */
#include <string.h>

#include "havip/havip_arb.h"

static const char *const havip_arb_reason_names[HAVIP_R__COUNT] = {
	[HAVIP_R_NONE] = "none",
	[HAVIP_R_FIRST] = "first",
	[HAVIP_R_TAKEOVER] = "takeover",
	[HAVIP_R_RELEASE] = "release",
	[HAVIP_R_API] = "api",
	[HAVIP_R_ADOPTED] = "adopted",
};

static const char *const havip_arb_verdict_names[HAVIP_V__COUNT] = {
	[HAVIP_V_OWNER] = "owner",
	[HAVIP_V_REMAP] = "remap",
	[HAVIP_V_PENDING] = "pending",
	[HAVIP_V_HELD] = "held",
	[HAVIP_V_WITNESS] = "witness",
};

const char *
havip_arb_reason_name(enum havip_arb_reason r)
{
	return (unsigned)r < HAVIP_R__COUNT ? havip_arb_reason_names[r] :
	                                      "invalid";
}

const char *
havip_arb_verdict_name(enum havip_arb_verdict v)
{
	return (unsigned)v < HAVIP_V__COUNT ? havip_arb_verdict_names[v] :
	                                      "invalid";
}

/* When peer i's claim lapses; 0 if it does not claim (priority 0, none). */
static uint64_t
havip_arb_claim_end(const struct havip_arb *a, int i)
{
	const struct havip_arb_peer *p = &a->peer[i];

	if (!p->adverted || p->prio == 0)
		return 0;
	return p->advert_ms + HAVIP_ARB_DEAD_INTERVALS * p->interval_ms;
}

bool
havip_arb_claiming(const struct havip_arb *a, int i, uint64_t now)
{
	return i >= 0 && (size_t)i < a->npeers &&
	    havip_arb_claim_end(a, i) > now;
}

size_t
havip_arb_claimers(const struct havip_arb *a, uint64_t now)
{
	size_t i, n = 0;

	for (i = 0; i < a->npeers; i++)
		n += havip_arb_claiming(a, (int)i, now);
	return n;
}

/* Contested time from a->now_ms to now. */
static void
havip_arb_advance(struct havip_arb *a, uint64_t now)
{
	uint64_t e, first = 0, second = 0;
	size_t i;

	if (now <= a->now_ms)
		return;
	for (i = 0; i < a->npeers; i++) {
		e = havip_arb_claim_end(a, (int)i);
		if (e <= a->now_ms)
			continue;
		if (e > first) {
			second = first;
			first = e;
		} else if (e > second)
			second = e;
	}
	if (second > a->now_ms)
		a->contested_ms += (second < now ? second : now) - a->now_ms;
	a->now_ms = now;
}

void
havip_arb_init(struct havip_arb *a, size_t npeers, uint64_t hold_down_ms,
    uint64_t remap_delay_ms, uint64_t now)
{
	memset(a, 0, sizeof(*a));
	a->npeers = npeers < HAVIP_ARB_PEERS ? npeers : HAVIP_ARB_PEERS;
	a->hold_down_ms = hold_down_ms;
	a->remap_delay_ms = remap_delay_ms;
	a->witness = true;
	a->owner = HAVIP_ARB_NONE;
	a->pending = HAVIP_ARB_NONE;
	a->challenger = HAVIP_ARB_NONE;
	a->now_ms = now;
}

static void
havip_arb_set_owner(
    struct havip_arb *a, int i, enum havip_arb_reason r, uint64_t now)
{
	a->owner = i;
	a->reason = r;
	a->remap_ms = now;
	a->hold_until_ms = r == HAVIP_R_RELEASE ? now : now + a->hold_down_ms;
	a->changes[r]++;
	a->pending = HAVIP_ARB_NONE;
	if (a->challenger == i)
		a->challenger = HAVIP_ARB_NONE;
}

/* Rule 1/3's winner: now, or remap_delay after the announcement. */
static enum havip_arb_verdict
havip_arb_schedule(
    struct havip_arb *a, int i, enum havip_arb_reason r, uint64_t now)
{
	if (a->remap_delay_ms == 0) {
		havip_arb_set_owner(a, i, r, now);
		return HAVIP_V_REMAP;
	}
	if (a->pending != i) {
		a->pending = i;
		a->pending_reason = r;
		a->pending_ms = now + a->remap_delay_ms;
	}
	return HAVIP_V_PENDING;
}

/* Rule 3: the owner keeps it against challenger c. */
static bool
havip_arb_protected(const struct havip_arb *a, int c, uint64_t now)
{
	const struct havip_arb_peer *pc = &a->peer[c];
	unsigned cprio = pc->adverted ? pc->prio : 0;

	return a->witness && a->owner != HAVIP_ARB_NONE &&
	    havip_arb_claiming(a, a->owner, now) &&
	    a->peer[a->owner].prio >= cprio;
}

enum havip_arb_verdict
havip_arb_announce(struct havip_arb *a, int i, uint64_t now)
{
	enum havip_arb_verdict v;

	if (i < 0 || (size_t)i >= a->npeers)
		return HAVIP_V_HELD;
	havip_arb_advance(a, now);
	a->peer[i].announced = true;
	a->peer[i].announce_ms = now;
	if (i == a->owner) {
		/* The owner reasserts: a waiting challenger loses. */
		a->pending = HAVIP_ARB_NONE;
		v = HAVIP_V_OWNER;
	} else if (a->owner == HAVIP_ARB_NONE)
		v = havip_arb_schedule(a, i, HAVIP_R_FIRST, now);
	else if (now < a->hold_until_ms) {
		a->challenger = i;
		v = HAVIP_V_HELD;
	} else if (havip_arb_protected(a, i, now)) {
		a->challenger = i;
		v = HAVIP_V_WITNESS;
	} else
		v = havip_arb_schedule(a, i, HAVIP_R_TAKEOVER, now);
	a->verdicts[v]++;
	return v;
}

void
havip_arb_advert(struct havip_arb *a, int i, uint8_t prio, uint64_t interval_ms,
    uint64_t now)
{
	struct havip_arb_peer *p;

	if (i < 0 || (size_t)i >= a->npeers)
		return;
	havip_arb_advance(a, now);
	p = &a->peer[i];
	p->adverted = true;
	p->advert_ms = now;
	p->prio = prio;
	p->interval_ms = interval_ms;
	if (prio == 0 && i == a->owner)
		havip_arb_set_owner(a, HAVIP_ARB_NONE, HAVIP_R_RELEASE, now);
	if (prio == 0 && i == a->challenger)
		a->challenger = HAVIP_ARB_NONE;
	if (prio == 0 && i == a->pending)
		a->pending = HAVIP_ARB_NONE;
	(void)havip_arb_tick(a, now);
}

void
havip_arb_associate(struct havip_arb *a, int i, uint64_t now)
{
	if (i < 0 || (size_t)i >= a->npeers)
		return;
	havip_arb_advance(a, now);
	havip_arb_set_owner(a, i, HAVIP_R_API, now);
	a->challenger = HAVIP_ARB_NONE;
}

void
havip_arb_adopt(struct havip_arb *a, int i, uint64_t now)
{
	if (i < 0 || (size_t)i >= a->npeers)
		return;
	havip_arb_advance(a, now);
	havip_arb_set_owner(a, i, HAVIP_R_ADOPTED, now);
	/* Nothing moved: no announcement needs holding off. */
	a->hold_until_ms = now;
}

/* The challenger judged again; returns when to look next. */
static uint64_t
havip_arb_rejudge(struct havip_arb *a, uint64_t now)
{
	int c = a->challenger;
	uint64_t end;

	if (c == HAVIP_ARB_NONE)
		return HAVIP_ARB_NEVER;
	/* One that adverts must still claim master to be owed anything. */
	if (a->peer[c].adverted && !havip_arb_claiming(a, c, now)) {
		a->challenger = HAVIP_ARB_NONE;
		return HAVIP_ARB_NEVER;
	}
	if (a->owner == HAVIP_ARB_NONE) {
		a->challenger = HAVIP_ARB_NONE;
		(void)havip_arb_schedule(a, c, HAVIP_R_FIRST, now);
		return HAVIP_ARB_NEVER;
	}
	if (now < a->hold_until_ms)
		return a->hold_until_ms;
	if (!havip_arb_protected(a, c, now)) {
		a->challenger = HAVIP_ARB_NONE;
		(void)havip_arb_schedule(a, c, HAVIP_R_TAKEOVER, now);
		return HAVIP_ARB_NEVER;
	}
	if (!a->peer[c].adverted) {
		a->challenger = HAVIP_ARB_NONE;
		return HAVIP_ARB_NEVER;
	}
	/* Both claim: look again when the first of the two claims lapses. */
	end = havip_arb_claim_end(a, a->owner);
	if (havip_arb_claim_end(a, c) < end)
		end = havip_arb_claim_end(a, c);
	return end;
}

uint64_t
havip_arb_tick(struct havip_arb *a, uint64_t now)
{
	uint64_t next;

	havip_arb_advance(a, now);
	if (a->pending != HAVIP_ARB_NONE && now >= a->pending_ms)
		havip_arb_set_owner(a, a->pending, a->pending_reason, now);
	next = havip_arb_rejudge(a, now);
	if (a->pending != HAVIP_ARB_NONE && a->pending_ms < next)
		next = a->pending_ms;
	return next;
}
