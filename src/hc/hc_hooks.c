/*
 * hc_hooks.c - transition notifications: see hc_hooks.h.
 *
 * Only the translation from a verdict transition to runner jobs lives
 * here: the environment of the exec hook, the JSON of the webhook. The
 * queue, the processes and the HTTP client are lib/hook.c's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hc/hc_hooks.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/util.h"

#define HC_HOOKS_RETRY_MS   1000 /* pause between webhook attempts */
#define HC_HOOKS_TIMEOUT_MS 5000 /* when the conf gives none */

struct hc_hooks {
	struct hook_runner *run; /* owned */
};

struct hc_hooks *
hc_hooks_new(struct ev_loop *loop)
{
	struct hc_hooks *h = xcalloc(1, sizeof(*h));

	h->run = hook_runner_new(loop, HC_HOOKS_QMAX);
	return h;
}

void
hc_hooks_free(struct hc_hooks *h)
{
	if (h == NULL)
		return;
	hook_runner_free(h->run);
	free(h);
}

const struct hook_stats *
hc_hooks_stats(const struct hc_hooks *h)
{
	return hook_stats(h->run);
}

size_t
hc_hooks_pending(const struct hc_hooks *h)
{
	return hook_pending(h->run);
}

static void
hc_hooks_exec(struct hc_hooks *h, const struct hook_alarm_conf *hc,
    const struct hc_hook_event *ev, const char *tag)
{
	struct hook_job j = {
		.kind = HOOK_EXEC,
		.what = hc->exec,
		.timeout_ms =
		    hc->timeout_ms ? hc->timeout_ms : HC_HOOKS_TIMEOUT_MS,
		.tag = tag,
	};
	char *env[6];
	size_t i;

	env[0] = xasprintf("HAVEN_TARGET=%s", ev->target);
	env[1] = xasprintf("HAVEN_STATE=%s", hc_state_name(ev->state));
	env[2] = xasprintf("HAVEN_PREV_STATE=%s", hc_state_name(ev->prev));
	env[3] = xasprintf("HAVEN_REASON=%s", hc_reason_name(ev->reason));
	env[4] = xasprintf("HAVEN_DETAIL=%s", ev->detail);
	env[5] =
	    xasprintf("HAVEN_SINCE_MS=%llu", (unsigned long long)ev->since_ms);
	for (i = 0; i < ARRAY_SIZE(env); i++)
		j.env[i] = env[i];
	j.nenv = ARRAY_SIZE(env);
	(void)hook_submit(h->run, &j);
	for (i = 0; i < ARRAY_SIZE(env); i++)
		free(env[i]);
}

static void
hc_hooks_web(struct hc_hooks *h, const struct hook_alarm_conf *hc,
    const struct hc_hook_event *ev, const char *tag)
{
	struct hook_job j = {
		.kind = HOOK_WEB,
		.what = hc->webhook,
		.timeout_ms =
		    hc->timeout_ms ? hc->timeout_ms : HC_HOOKS_TIMEOUT_MS,
		.retries = hc->retries,
		.backoff_ms = HC_HOOKS_RETRY_MS,
		.tag = tag,
	};
	struct buf body;
	struct jw w;

	buf_init(&body);
	jw_init(&w, &body);
	jw_obj_begin(&w);
	jw_kstr(&w, "target", ev->target);
	jw_kstr(&w, "state", hc_state_name(ev->state));
	jw_kstr(&w, "previous", hc_state_name(ev->prev));
	jw_kstr(&w, "reason", hc_reason_name(ev->reason));
	jw_kstr(&w, "detail", ev->detail);
	jw_kuint(&w, "since_ms", ev->since_ms);
	jw_obj_end(&w);
	j.body = body.data != NULL ? body.data : "{}";
	(void)hook_submit(h->run, &j);
	buf_fini(&body);
}

void
hc_hooks_notify(struct hc_hooks *h, const struct hook_alarm_conf *hc,
    const struct hc_hook_event *ev)
{
	char *tag;

	if (hc == NULL)
		return;
	tag = xasprintf("target=%s", log_q(ev->target));
	if (hc->exec != NULL && hc->exec[0] != '\0')
		hc_hooks_exec(h, hc, ev, tag);
	if (hc->webhook != NULL && hc->webhook[0] != '\0')
		hc_hooks_web(h, hc, ev, tag);
	free(tag);
}
