/*
 * hc_hooks.h - notifications on verdict transitions: an exec hook (a shell
 * command with the transition in its environment) and a webhook (a JSON
 * POST to http://ip:port/path, retried).
 *
 * Hooks run one at a time, in the order transitions happened, each under its
 * own timeout, entirely on the event loop (fork/exec watched through a
 * pidfd, a non-blocking HTTP client), so a slow or hung hook never delays a
 * probe. The queue is bounded: past HC_HOOKS_QMAX pending runs, new ones are
 * dropped and counted.
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

struct hc_hooks_stats {
	uint64_t runs;         /* attempts started */
	uint64_t ok;           /* runs that succeeded */
	uint64_t failed;       /* runs that failed (after their last retry) */
	uint64_t timeouts;     /* attempts killed or abandoned at the timeout */
	uint64_t retries;      /* webhook attempts after the first */
	uint64_t dropped;      /* runs not queued: queue full */
	uint64_t spawn_errors; /* fork/pidfd/socket failures */
};

struct hc_hooks *hc_hooks_new(struct ev_loop *loop);
/* Abandon pending runs, kill a running command. */
void hc_hooks_free(struct hc_hooks *h);
/* Queue hc's exec then webhook for ev (copied). hc may be NULL. */
void hc_hooks_notify(struct hc_hooks *h, const struct hc_hook_conf *hc,
    const struct hc_hook_event *ev);
const struct hc_hooks_stats *hc_hooks_stats(const struct hc_hooks *h);
/* Runs queued or in progress. */
size_t hc_hooks_pending(const struct hc_hooks *h);

#endif
