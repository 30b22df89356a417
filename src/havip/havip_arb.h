/*
 * havip_arb.h - the arbiter of one HAVIP: which associated instance owns
 * it, decided from the ARP announcements and the VRRP adverts the gateway
 * sees, on timestamps the caller brings.
 *
 * Pure: no I/O, clock or globals; the caller passes now (milliseconds on
 * a monotonic clock, never decreasing) to every call and actuates when
 * owner changes. Instances are indexes 0..npeers-1 into the HAVIP's
 * associations.
 *
 * The rules (reference/vip.md §7/§8: a cloud's last-announcer-wins turns
 * a split brain into flapping; the controller sees both nodes' adverts, so
 * it can be the witness that a two-node cluster lacks):
 *   1. no owner: the announcer becomes the owner, remap_delay after its
 *      announcement;
 *   2. within hold_down of the last remap, a non-owner's announcement is
 *      held (counted) and judged again when the hold-down ends: a node
 *      that took over right after a remap is not forgotten;
 *   3. after the hold-down, a challenger takes over unless the owner is
 *      protected: alive as a master (an advert with non-zero priority
 *      within HAVIP_ARB_DEAD_INTERVALS of its advertised interval) with
 *      a priority at least the challenger's last advertised one (0 if it
 *      never adverted). A challenger refused so, while it claims master
 *      itself, takes over the moment the owner's claim lapses; one that
 *      never adverts is judged once. A priority-0 advert from the owner
 *      releases the HAVIP at once (no owner; rule 1 then applies);
 *   4. the operator's associate overrides all of it and restarts the
 *      hold-down.
 * With witness off (struct havip_arb.witness, the `witness:` key) rule 3
 * protects nobody: after the hold-down the last announcer wins, which is
 * what the clouds do and what a test or a benchmark compares against.
 * Contested time is the time during which two or more instances claimed
 * master (both nodes MASTER: the dual-master time), accounted exactly
 * between calls.
 */
#ifndef HAVEN_HAVIP_ARB_H
#define HAVEN_HAVIP_ARB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "havip/havip_conf.h"

#define HAVIP_ARB_PEERS          HAVIP_CONF_INST_MAX
#define HAVIP_ARB_NONE           (-1)
#define HAVIP_ARB_DEAD_INTERVALS 3 /* as VRRP's Master_Down_Interval */
#define HAVIP_ARB_NEVER          UINT64_MAX

/* Why the owner last changed. */
enum havip_arb_reason {
	HAVIP_R_NONE,     /* never changed */
	HAVIP_R_FIRST,    /* rule 1: announced while nobody owned it */
	HAVIP_R_TAKEOVER, /* rule 3: the owner was dead or outranked */
	HAVIP_R_RELEASE,  /* the owner sent priority 0: nobody owns it */
	HAVIP_R_API,      /* rule 4: the operator associated it */
	HAVIP_R_ADOPTED,  /* found routed to it when the controller started */
	HAVIP_R__COUNT
};

/* What became of an announcement. */
enum havip_arb_verdict {
	HAVIP_V_OWNER,   /* from the owner: nothing to do */
	HAVIP_V_REMAP,   /* the owner is now the announcer */
	HAVIP_V_PENDING, /* it will be, after remap_delay */
	HAVIP_V_HELD,    /* rule 2 */
	HAVIP_V_WITNESS, /* rule 3: the owner is alive and outranks it */
	HAVIP_V__COUNT
};

struct havip_arb_peer {
	bool announced;
	uint64_t announce_ms; /* last announcement */
	bool adverted;
	uint64_t advert_ms;   /* last VRRP advert */
	uint8_t prio;         /* its priority */
	uint64_t interval_ms; /* its advertised interval */
};

struct havip_arb {
	uint64_t hold_down_ms;
	uint64_t remap_delay_ms;
	bool witness; /* rule 3 on (havip_arb_init sets it) */
	size_t npeers;
	struct havip_arb_peer peer[HAVIP_ARB_PEERS];
	int owner;                    /* peer index or HAVIP_ARB_NONE */
	enum havip_arb_reason reason; /* of the last change */
	uint64_t remap_ms;            /* of the last change */
	uint64_t hold_until_ms;       /* rule 2 applies before this */
	int pending;                  /* rule 1/3 winner waiting remap_delay */
	enum havip_arb_reason pending_reason;
	uint64_t pending_ms; /* when it takes over */
	int challenger;      /* refused by rule 2/3, judged again later */
	uint64_t now_ms;     /* contested time is accounted up to here */
	/* counters */
	uint64_t changes[HAVIP_R__COUNT];
	uint64_t verdicts[HAVIP_V__COUNT];
	uint64_t contested_ms;
};

void havip_arb_init(struct havip_arb *a, size_t npeers, uint64_t hold_down_ms,
    uint64_t remap_delay_ms, uint64_t now);
/* An ARP announcement of the HAVIP from peer i. */
enum havip_arb_verdict havip_arb_announce(
    struct havip_arb *a, int i, uint64_t now);
/* A VRRP advert naming the HAVIP from peer i. */
void havip_arb_advert(struct havip_arb *a, int i, uint8_t prio,
    uint64_t interval_ms, uint64_t now);
/* The operator moves it to peer i (rule 4). */
void havip_arb_associate(struct havip_arb *a, int i, uint64_t now);
/* At start: the network already routes it to peer i; no hold-down. */
void havip_arb_adopt(struct havip_arb *a, int i, uint64_t now);
/*
 * Apply what is due at now (a pending remap, a challenger judged again)
 * and return when to call again, or HAVIP_ARB_NEVER.
 */
uint64_t havip_arb_tick(struct havip_arb *a, uint64_t now);
/* Whether peer i claims master at now. */
bool havip_arb_claiming(const struct havip_arb *a, int i, uint64_t now);
/* How many peers claim master at now. */
size_t havip_arb_claimers(const struct havip_arb *a, uint64_t now);

/* "first", "takeover"...; "none" for HAVIP_R_NONE. */
const char *havip_arb_reason_name(enum havip_arb_reason r);
/* "owner", "remap", "pending", "held", "witness". */
const char *havip_arb_verdict_name(enum havip_arb_verdict v);

#endif
