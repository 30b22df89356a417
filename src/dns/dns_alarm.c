/*
 * dns_alarm.c - the adapter from GSLB runtime events to lib/hook.c jobs
 * (the `alarms:` schema is lib/hook_conf.c's): see dns_alarm.h.
 *
 * Only the translation lives here (the environment of the exec command,
 * the JSON of the webhook); the queue, processes and HTTP client are
 * lib/hook.c's. The runtime decides which process sends (worker 0 only:
 * every worker computes the same events from the same verdicts).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_alarm.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/util.h"

#define DNS_ALARM_BACKOFF_MS     1000
#define DNS_ALARM_BACKOFF_MAX_MS 8000

struct dns_alarm {
	struct hook_runner *run; /* owned */
};

struct dns_alarm *
dns_alarm_new(struct ev_loop *loop)
{
	struct dns_alarm *a = xcalloc(1, sizeof(*a));

	a->run = hook_runner_new(loop, DNS_ALARM_QMAX);
	return a;
}

void
dns_alarm_free(struct dns_alarm *a)
{
	if (a == NULL)
		return;
	hook_runner_free(a->run);
	free(a);
}

const struct hook_stats *
dns_alarm_stats(const struct dns_alarm *a)
{
	return hook_stats(a->run);
}

size_t
dns_alarm_pending(const struct dns_alarm *a)
{
	return hook_pending(a->run);
}

static const char *
dns_alarm_s(const char *s)
{
	return s != NULL ? s : "";
}

static void
dns_alarm_exec(struct dns_alarm *a, const struct hook_alarm_conf *c,
    const struct dns_alarm_event *ev, const char *tag)
{
	struct hook_job j = {
		.kind = HOOK_EXEC,
		.what = c->exec,
		.timeout_ms = c->timeout_ms,
		.tag = tag,
	};
	char *env[11];
	size_t i;

	env[0] = xasprintf("HAVEN_EVENT=%s", dns_alarm_s(ev->kind));
	env[1] = xasprintf("HAVEN_SEQ=%llu", (unsigned long long)ev->seq);
	env[2] = xasprintf("HAVEN_NAME=%s", dns_alarm_s(ev->name));
	env[3] = xasprintf("HAVEN_POLICY=%s", dns_alarm_s(ev->policy));
	env[4] = xasprintf("HAVEN_POOL=%s", dns_alarm_s(ev->pool));
	env[5] = xasprintf("HAVEN_ADDRESS=%s", dns_alarm_s(ev->address));
	env[6] = xasprintf("HAVEN_PLAN=%s", dns_alarm_s(ev->plan));
	env[7] = xasprintf("HAVEN_FROM=%s", dns_alarm_s(ev->from));
	env[8] = xasprintf("HAVEN_TO=%s", dns_alarm_s(ev->to));
	env[9] = xasprintf("HAVEN_WHO=%s", dns_alarm_s(ev->who));
	env[10] = xasprintf("HAVEN_AT_MS=%llu", (unsigned long long)ev->at_ms);
	for (i = 0; i < ARRAY_SIZE(env); i++)
		j.env[i] = env[i];
	j.nenv = ARRAY_SIZE(env);
	(void)hook_submit(a->run, &j);
	for (i = 0; i < ARRAY_SIZE(env); i++)
		free(env[i]);
}

static void
dns_alarm_kstr(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	if (v == NULL)
		jw_null(w);
	else
		jw_str(w, v);
}

static void
dns_alarm_web(struct dns_alarm *a, const struct hook_alarm_conf *c,
    const struct dns_alarm_event *ev, const char *tag)
{
	struct hook_job j = {
		.kind = HOOK_WEB,
		.what = c->webhook,
		.timeout_ms = c->timeout_ms,
		.retries = c->retries,
		.backoff_ms = DNS_ALARM_BACKOFF_MS,
		.backoff_max_ms = DNS_ALARM_BACKOFF_MAX_MS,
		.tag = tag,
	};
	struct buf body;
	struct jw w;

	buf_init(&body);
	jw_init(&w, &body);
	jw_obj_begin(&w);
	jw_kuint(&w, "seq", ev->seq);
	dns_alarm_kstr(&w, "kind", ev->kind);
	dns_alarm_kstr(&w, "name", ev->name);
	dns_alarm_kstr(&w, "policy", ev->policy);
	dns_alarm_kstr(&w, "pool", ev->pool);
	dns_alarm_kstr(&w, "address", ev->address);
	dns_alarm_kstr(&w, "plan", ev->plan);
	dns_alarm_kstr(&w, "from", ev->from);
	dns_alarm_kstr(&w, "to", ev->to);
	dns_alarm_kstr(&w, "who", ev->who);
	jw_kuint(&w, "at", ev->at_ms);
	jw_obj_end(&w);
	j.body = body.data != NULL ? body.data : "{}";
	(void)hook_submit(a->run, &j);
	buf_fini(&body);
}

void
dns_alarm_send(struct dns_alarm *a, const struct hook_alarm_conf *c,
    const struct dns_alarm_event *ev)
{
	char *tag;

	if (a == NULL || c == NULL)
		return;
	if ((c->exec == NULL || c->exec[0] == '\0') &&
	    (c->webhook == NULL || c->webhook[0] == '\0'))
		return;
	tag = xasprintf("dns_event=%s seq=%llu", log_q(dns_alarm_s(ev->kind)),
	    (unsigned long long)ev->seq);
	if (c->exec != NULL && c->exec[0] != '\0')
		dns_alarm_exec(a, c, ev, tag);
	if (c->webhook != NULL && c->webhook[0] != '\0')
		dns_alarm_web(a, c, ev, tag);
	free(tag);
}
