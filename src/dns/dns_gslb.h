/*
 * dns_gslb.h - the traffic manager's decision state: which addresses are
 * up, which pools are available, which pool set each access policy of each
 * GSLB name serves, and the answer tables that follow from them. Pure: no
 * I/O, clock or globals; time comes in as now_ms arguments (monotonic
 * milliseconds), so hold-downs are unit-tested on made-up timestamps.
 *
 * The answer tables are rebuilt when an input changes (a verdict, a forced
 * state, a hold-down ending), never per query: dns_gslb_answer only picks
 * the table of the client's policy and, for weighted and round-robin
 * pools, which records of it to return.
 *
 * Rules (reference/gslb.md §1, §10):
 *   - an address is usable when its mode is online, or smart and its
 *     health is up (unknown health counts as up until a verdict comes, so
 *     a fresh start serves the config; the runtime restores the last
 *     known state first, dns_gslb_restore);
 *   - a pool is available while its usable addresses reach `available`
 *     and no executed plan forces it offline;
 *   - a pool set is available while one of its pools is; the answer is
 *     the usable addresses of its available pools, each pool applying its
 *     lb (all, one weighted pick, or a rotating one);
 *   - a policy serves its default set while available; otherwise the
 *     backup set if available; otherwise fail open (every address of the
 *     default set, ignoring health, as gdnsd and Route 53 do) or fail
 *     closed (the last_resort addresses, or NODATA);
 *   - failback to the default set: preemptive after the set has been
 *     available for hold_down; non-preemptive only when the backup set
 *     fails, or by an operator's dns_gslb_failback;
 *   - the TTL is degraded_ttl while the policy serves anything but its
 *     default set (so clients come back soon after a failback), while any
 *     address of the served set is down, or within hold_down of a switch;
 *     else ttl.
 *
 * Every change is reported as an event (addr up/down, pool up/down, a
 * policy's switch), for the log and the alarms.
 */
#ifndef HAVEN_DNS_GSLB_H
#define HAVEN_DNS_GSLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_dyn.h"
#include "dns/dns_gslb_conf.h"

struct buf;
struct jw;
struct dns_gslb; /* opaque */

enum dns_gslb_event_kind {
	DNS_GSLB_ADDR_DOWN,
	DNS_GSLB_ADDR_UP,
	DNS_GSLB_POOL_DOWN,
	DNS_GSLB_POOL_UP,
	DNS_GSLB_SWITCH, /* a policy's served set changed: from -> to */
	DNS_GSLB_PLAN,   /* a plan executed or rolled back: to says which */
};

enum dns_gslb_set {
	DNS_SET_DEFAULT,
	DNS_SET_BACKUP,
	DNS_SET_FAIL_OPEN,
	DNS_SET_LAST_RESORT, /* fail closed: last_resort or NODATA */
};

struct dns_gslb_event {
	enum dns_gslb_event_kind kind;
	uint64_t at_ms;     /* the now_ms of the call that caused it */
	const char *name;   /* borrowed, NULL if none: GSLB name */
	const char *policy; /* "default" or the sources joined by ',' */
	const char *pool;
	const char *address;
	const char *from, *to; /* set names ("default", "backup",
	                          "fail-open", "last-resort"), plan
	                          states */
};
/* Called synchronously from the call that caused the change. */
typedef void dns_gslb_event_fn(const struct dns_gslb_event *ev, void *arg);

/*
 * Build the state for conf (borrowed: it must outlive the state), taking
 * over from old (may be NULL; not freed) the health, forced states and
 * served sets of whatever kept its name, so a reload does not switch
 * anything back. ev (may be NULL) gets the events.
 */
struct dns_gslb *dns_gslb_new(const struct dns_gslb_conf *conf,
    const struct dns_gslb *old, uint64_t now_ms, dns_gslb_event_fn *ev,
    void *arg);
void dns_gslb_free(struct dns_gslb *g);

/* A verdict for target "pool/label": returns 0, or -ENOENT if no address
 * has that target. */
int dns_gslb_health(
    struct dns_gslb *g, const char *target, bool up, uint64_t now_ms);

/* Execute or roll back plan; -ENOENT unknown, -EALREADY no change. The
 * caller runs the rollback_after timer and calls back with execute false. */
int dns_gslb_plan(
    struct dns_gslb *g, const char *plan, bool execute, uint64_t now_ms);

/* Return name's policies on their backup set to the default set now if it
 * is available (the operator's failback for non-preemptive policies);
 * -ENOENT, -EAGAIN if the default set is not available. */
int dns_gslb_failback(struct dns_gslb *g, const char *name, uint64_t now_ms);

/* Apply the hold-downs that ended by now_ms; returns the next deadline
 * (ms) the caller should call back at, or 0 if none is pending. */
uint64_t dns_gslb_tick(struct dns_gslb *g, uint64_t now_ms);

/* The dns_dyn_fn for names: id is the name's index in conf->names. */
int dns_gslb_answer(void *g, uint32_t id, uint16_t qtype,
    const struct dns_client *cl, struct dns_dyn_answer *out);

/*
 * The API's views, as JSON values written with w: every name with its
 * policies (served set, since when, TTL now, switch budget inputs),
 * pools with their addresses and health; and the answers an execution
 * of plan would change, per name and policy (before and after), without
 * changing anything.
 */
void dns_gslb_json(const struct dns_gslb *g, struct jw *w, uint64_t now_ms);
int dns_gslb_preview_json(
    const struct dns_gslb *g, const char *plan, struct jw *w);

/* The state worth keeping across a restart (health, forced pools,
 * served sets) as text, and read back into a fresh state; entries whose
 * names are gone are ignored. */
void dns_gslb_save(const struct dns_gslb *g, struct buf *out);
int dns_gslb_restore(
    struct dns_gslb *g, const char *text, size_t len, uint64_t now_ms);

/* Health targets of conf for the health plane: one per smart address of a
 * pool with a check, named "pool/label", owner the pool; into a new array
 * *out (caller frees); count. */
struct plane_target;
size_t dns_gslb_targets(
    const struct dns_gslb_conf *conf, struct plane_target **out);

#endif
