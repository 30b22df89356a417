/*
 * hc_hooks.h - notifications on verdict transitions: an exec hook (a shell
 * command with the transition in its environment) and a webhook (a JSON
 * POST to http://ip:port/path, retried).
 *
 * A thin adapter over the shared runner (lib/hook.h): hooks run one at a
 * time, in the order transitions happened, each under its own timeout,
 * entirely on the event loop, so a slow or hung hook never delays a probe.
 * The queue is bounded: past HC_HOOKS_QMAX pending runs, new ones are
 * dropped and counted. Webhooks are retried hc->retries times, 1 s apart.
 *
 * Exec hook environment: HAVEN_TARGET, HAVEN_STATE, HAVEN_PREV_STATE,
 * HAVEN_REASON, HAVEN_DETAIL, HAVEN_SINCE_MS. Exit status 0 is success.
 */
#ifndef HAVEN_HC_HOOKS_H
#define HAVEN_HC_HOOKS_H

#include <stdint.h>

#include "hc/hc.h"
#include "hc/hc_conf.h"
#include "hc/hc_probe.h"
#include "lib/ev.h"
#include "lib/hook.h"
#include "lib/ipc.h"

#define HC_HOOKS_QMAX 1024

struct hc_hooks;

struct hc_hook_event {
	char target[IPC_NAME_MAX];
	enum hc_state state, prev;
	enum hc_reason reason;
	char detail[HC_DETAIL_MAX];
	uint64_t since_ms; /* wall clock */
};

struct hc_hooks *hc_hooks_new(struct ev_loop *loop);
/* Abandon pending runs, kill a running command. */
void hc_hooks_free(struct hc_hooks *h);
/* Queue hc's exec then webhook for ev (copied). hc may be NULL. */
void hc_hooks_notify(struct hc_hooks *h, const struct hook_alarm_conf *hc,
    const struct hc_hook_event *ev);
/* The runner's counters (lib/hook.h): runs, ok, failed, timeouts... */
const struct hook_stats *hc_hooks_stats(const struct hc_hooks *h);
/* Runs queued or in progress. */
size_t hc_hooks_pending(const struct hc_hooks *h);

#endif
