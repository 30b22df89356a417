/*
 * dns_gslb_rt.h - the GSLB runtime of one dns worker process: it drives the
 * pure decision state (dns_gslb.h) from the outside world and shows it.
 *
 *   - health verdicts from the parent (hc's, relayed) become
 *     dns_gslb_health calls for the targets "pool/label" of our pools;
 *   - the pure state's deadlines (failback hold-downs) and each executed
 *     plan's rollback_after run as timers on the worker's loop, re-armed
 *     after every change;
 *   - every event (address or pool down/up, a policy's switch, a plan
 *     executed or rolled back, an operator's failback) goes into a
 *     bounded log with a sequence number, with who caused it (health,
 *     api, timer, config), and worker 0 sends it to the alarms;
 *   - after a change, each worker saves the state (coalesced, at most one
 *     write per DNS_GSLB_RT_SAVE_MS) to state_dir; the first apply of a
 *     process restores it, so a restart serves the last-known answers;
 *   - the API (/v1/dns/names, /v1/dns/plans, /v1/dns/events), the
 *     Prometheus families and the `haven status` lines.
 *
 * Every worker runs the same runtime on the same verdicts and operator
 * POSTs (the plane's row sends POSTs to every worker), so all answer
 * alike. Each writes the state file (atomically, its own temporary file),
 * so a worker restarted after it missed a POST restores what the others
 * did since; only worker 0 sends alarms.
 */
#ifndef HAVEN_DNS_GSLB_RT_H
#define HAVEN_DNS_GSLB_RT_H

#include <stddef.h>

#include "dns/dns_dyn.h"
#include "dns/dns_gslb_conf.h"
#include "lib/buf.h"

struct plane_target;
#include "lib/ev.h"
#include "lib/ipc.h"

#define DNS_GSLB_RT_EVENTS  1024 /* events kept for GET /v1/dns/events */
#define DNS_GSLB_RT_SAVE_MS 100  /* state writes are this far apart */
/* Files in the state directory: the pure state, and the plans' runtime
 * (when each was executed, by whom), which the pure state does not keep. */
#define DNS_GSLB_RT_STATE   "dns-gslb.state"
#define DNS_GSLB_RT_PLANS   "dns-gslb-plans.state"

struct jw;
struct conf_node;
struct dns_gslb_rt;

struct dns_gslb_rt *dns_gslb_rt_new(struct ev_loop *loop, unsigned worker);
/* Flush a pending state write, stop timers, free. */
void dns_gslb_rt_free(struct dns_gslb_rt *rt);

/*
 * Apply conf (borrowed until the next apply or free): a new decision state
 * built from the old one, so health, forced pools and served sets carry
 * over by name. The first apply restores what state_dir holds (state_dir
 * may be NULL: nothing restored or saved). 0, or -errno with the old
 * state kept. targets (borrowed for the call) are every plane's health
 * targets, whose detect_ms gives each name's switch-time budget.
 */
int dns_gslb_rt_apply(struct dns_gslb_rt *rt, const struct dns_gslb_conf *conf,
    const char *state_dir, const struct plane_target *targets, size_t ntargets);
/* The provider for dns_db's dynamic names: a stable pointer, whose
 * provider field follows each apply. answer NULL before the first. */
const struct dns_dyn *dns_gslb_rt_dyn(struct dns_gslb_rt *rt);
/* A relayed health verdict; targets not ours are ignored. */
void dns_gslb_rt_verdict(struct dns_gslb_rt *rt, const struct ipc_verdict *v);

/*
 * An API request: path may carry a query string (events?since=N). Writes
 * the JSON body to out and returns the HTTP status, or -ENOENT when the
 * path is not one of the runtime's (out untouched).
 */
int dns_gslb_rt_query(struct dns_gslb_rt *rt, const char *method,
    const char *path, const char *body, size_t len, struct buf *out);
/* Prometheus families of the GSLB state and its alarms. */
void dns_gslb_rt_metrics(struct dns_gslb_rt *rt, struct buf *out);
/* The member "gslb" of GET /v1/dns's object: names, pools, plans, the
 * event log's bounds, the alarms' counters. */
void dns_gslb_rt_json(struct dns_gslb_rt *rt, struct jw *w);
/* `haven status` lines from GET /v1/dns's parsed reply. */
void dns_gslb_rt_status_print(struct conf_node *root);

#endif
