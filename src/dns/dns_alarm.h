/*
 * dns_alarm.h - the traffic manager's alarms: every event of the GSLB
 * runtime's log (an address or pool going down or up, a policy switching
 * pool sets, a plan executed or rolled back, an operator's failback) sent
 * to the `alarms:` webhook and exec command of the dns section.
 *
 * A thin adapter over lib/hook.c, as hc_hooks.c is for verdicts: alarms
 * run one at a time in the order the events happened, each attempt under
 * the configured timeout, entirely on the event loop, and the queue is
 * bounded (DNS_ALARM_QMAX; past it an alarm is dropped and counted). The
 * webhook is retried `retries` times (1 s, then doubling up to 8 s); the
 * exec command runs once.
 *
 * Webhook body: {"seq", "kind", "name", "policy", "pool", "address",
 * "plan", "from", "to", "who", "at"} (absent fields are null; at is wall
 * clock ms). Exec environment: HAVEN_EVENT (the kind), HAVEN_SEQ,
 * HAVEN_NAME, HAVEN_POLICY, HAVEN_POOL, HAVEN_ADDRESS, HAVEN_PLAN,
 * HAVEN_FROM, HAVEN_TO, HAVEN_WHO, HAVEN_AT_MS (empty when absent).
 */
#ifndef HAVEN_DNS_ALARM_H
#define HAVEN_DNS_ALARM_H

#include <stdint.h>

#include "dns/dns_gslb_conf.h"
#include "lib/ev.h"
#include "lib/hook.h"

#define DNS_ALARM_QMAX 1024

/* One event as the alarms see it; every string borrowed, NULL if none. */
struct dns_alarm_event {
	uint64_t seq;
	uint64_t at_ms;   /* wall clock */
	const char *kind; /* "address_down", "switch", "plan", ... */
	const char *name, *policy, *pool, *address, *plan;
	const char *from, *to;
	const char *who; /* "health", "api", "timer", "config" */
};

struct dns_alarm;

struct dns_alarm *dns_alarm_new(struct ev_loop *loop);
/* Abandon queued alarms, kill a running command. NULL is fine. */
void dns_alarm_free(struct dns_alarm *a);
/* Queue c's exec then webhook for ev (copied). c may be NULL. */
void dns_alarm_send(struct dns_alarm *a, const struct hook_alarm_conf *c,
    const struct dns_alarm_event *ev);
/* The runner's counters (lib/hook.h). */
const struct hook_stats *dns_alarm_stats(const struct dns_alarm *a);
size_t dns_alarm_pending(const struct dns_alarm *a);

#endif
