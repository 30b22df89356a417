/*
 * dns_gslb_rt_priv.h - what the GSLB runtime's two files share: the
 * runtime's struct (dns_gslb_rt.c drives it; dns_gslb_rt_api.c shows it
 * and turns API requests into its operations). Nothing else includes it.
 */
#ifndef HAVEN_DNS_GSLB_RT_PRIV_H
#define HAVEN_DNS_GSLB_RT_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "dns/dns_alarm.h"
#include "dns/dns_gslb.h"
#include "dns/dns_gslb_rt.h"

/* Who caused an event, for the log and the audit trail. */
#define DNS_RT_WHO_HEALTH  "health"
#define DNS_RT_WHO_API     "api"
#define DNS_RT_WHO_TIMER   "timer"
#define DNS_RT_WHO_CONFIG  "config"
#define DNS_RT_WHO_RESTORE "restore"

/* A plan's state as the GTM's DR-plan API names it (reference §1). */
enum dns_rt_plan_state {
	DNS_RT_PLAN_UNEXECUTED,
	DNS_RT_PLAN_EXECUTED,
	DNS_RT_PLAN_ROLLED_BACK,
};

enum dns_rt_kind {
	DNS_RT_ADDR_DOWN,
	DNS_RT_ADDR_UP,
	DNS_RT_POOL_DOWN,
	DNS_RT_POOL_UP,
	DNS_RT_SWITCH,
	DNS_RT_PLAN,     /* audit: executed or rolled back, by who */
	DNS_RT_FAILBACK, /* audit: an operator's failback of a name */
	DNS_RT__KIND_COUNT
};

/* One entry of the event log. */
struct dns_rt_event {
	uint64_t seq;   /* 1.., no gaps; 0: slot never used */
	uint64_t at_ms; /* wall clock */
	enum dns_rt_kind kind;
	char *name, *policy, *pool, *address, *plan; /* owned, NULL: none */
	char *from, *to;                             /* owned, NULL: none */
	const char *who;                             /* static: DNS_RT_WHO_* */
};

struct dns_gslb_rt;

/* A configured DR plan's runtime, kept by name across applies. */
struct dns_rt_plan {
	char *name;                       /* owned */
	const struct dns_plan_conf *conf; /* borrowed: rt->conf's */
	enum dns_rt_plan_state state;
	uint64_t changed_ms; /* wall clock of the last execute/rollback */
	const char *by;      /* static: DNS_RT_WHO_*, NULL: never */
	uint64_t executions, rollbacks;
	struct ev_timer rollback; /* rollback_after while executed */
	struct dns_gslb_rt *rt;   /* borrowed: the owner */
};

/* A GSLB name's counters, kept by name across applies. */
struct dns_rt_name {
	char *name; /* owned */
	uint64_t switches;
	/* The slowest down verdict of an address of its policies' pools
	 * (plane_target.detect_ms); 0: none is health-checked. */
	uint64_t detect_ms;
};

struct dns_gslb_rt {
	struct ev_loop *loop; /* borrowed */
	unsigned worker;
	const struct dns_gslb_conf *conf; /* borrowed: until the next apply */
	struct dns_gslb *g;               /* owned; NULL before an apply */
	struct dns_dyn dyn;               /* provider: g */
	char *state_dir;                  /* owned, NULL: no persistence */
	bool applied;                     /* the first apply happened */
	const char *who; /* static: cause of the events of the current call */
	struct ev_timer tick;       /* the pure state's next deadline */
	struct ev_timer save;       /* coalesced state write */
	bool dirty;                 /* a write is due */
	struct dns_rt_plan **plans; /* owned array of owned: conf order */
	size_t nplans;
	struct dns_rt_name *names; /* owned array: conf order */
	size_t nnames;
	struct dns_rt_event ring[DNS_GSLB_RT_EVENTS];
	uint64_t seq; /* of the newest event, 0: none yet */
	uint64_t events[DNS_RT__KIND_COUNT];
	uint64_t verdicts, verdicts_foreign, verdicts_unknown;
	uint64_t saves, save_errors, restore_errors;
	struct dns_alarm *alarm; /* owned; NULL on workers other than 0 */
};

const char *dns_rt_kind_name(enum dns_rt_kind k);
const char *dns_rt_plan_state_name(enum dns_rt_plan_state s);
struct dns_rt_plan *dns_rt_plan_find(struct dns_gslb_rt *rt, const char *name);
/* Execute or roll back p for who: 0, -EALREADY, or the pure state's. */
int dns_rt_plan_do(struct dns_gslb_rt *rt, struct dns_rt_plan *p, bool execute,
    const char *who);
/* An operator's failback of name: 0, -ENOENT, -EAGAIN. */
int dns_rt_failback(struct dns_gslb_rt *rt, const char *name, const char *who);
/* The conf's GSLB name matching s (case-insensitive, trailing dot
 * optional), or NULL. */
const struct dns_gname_conf *dns_rt_gname(
    const struct dns_gslb_rt *rt, const char *s);

#endif
