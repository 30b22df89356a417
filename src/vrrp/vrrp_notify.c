/*
 * vrrp_notify.c - the notify hooks of the virtual IP plane (keepalived's
 * notify_master, notify_backup, notify_fault, notify_stop and notify), run
 * through the shared runner (lib/hook.h).
 *
 * Unlike keepalived's, which fork and forget, the hooks of every instance
 * of this process share one serial queue: they run one at a time, in the
 * order the transitions happened, once per transition each, under the
 * instance's notify_timeout. A transition while a hook runs is queued
 * behind it, never merged with the next one; past VRRP_NOTIFY_QMAX queued
 * runs a new one is dropped and counted. A script that adds a route on
 * master and removes it on backup can therefore trust the order it is
 * called in.
 *
 * A transition runs the hook of its new state first (notify_stop for
 * init: the instance left the router), then the generic notify. The
 * environment carries HAVEN_INSTANCE, HAVEN_STATE, HAVEN_PREV_STATE,
 * HAVEN_REASON, HAVEN_PRIORITY and HAVEN_SEQ (the number GET
 * /v1/vrrp/events shows); notify also gets keepalived's arguments
 * "INSTANCE" NAME MASTER|BACKUP|FAULT|STOP PRIORITY.
 *
 * This process runs SCHED_RR with SCHED_RESET_ON_FORK (vrrp_plane.c), so
 * a hook starts at the normal policy; the runner's child resets it too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hook.h"
#include "lib/log.h"
#include "lib/util.h"
#include "vrrp/vrrp_rt.h"

#define VRRP_NOTIFY_QMAX 256 /* hook runs queued, the running one too */

struct vrrp_notify {
	struct vrrp_rt *rt;      /* borrowed: owner */
	struct hook_runner *run; /* owned */
	/* A graceful stop waiting for the queue to empty. */
	void (*drained)(void *arg);
	void *drained_arg; /* borrowed: the caller's */
	struct ev_timer deadline;
	bool deferred; /* drained is already on its way */
};

static struct vrrp_notify *
vrrp_notify_get(struct vrrp_rt *rt)
{
	struct vrrp_notify *n = rt->notify;

	if (n != NULL)
		return n;
	n = xcalloc(1, sizeof(*n));
	n->rt = rt;
	n->run = hook_runner_new(rt->loop, VRRP_NOTIFY_QMAX);
	ev_timer_init(&n->deadline, NULL, n);
	rt->notify = n;
	return n;
}

/* keepalived's STATE argument of notify. */
static const char *
vrrp_notify_kstate(enum vrrp_state s)
{
	switch (s) {
	case VRRP_S_MASTER:
		return "MASTER";
	case VRRP_S_BACKUP:
		return "BACKUP";
	case VRRP_S_FAULT:
		return "FAULT";
	default:
		return "STOP";
	}
}

static const char *
vrrp_notify_cmd(const struct vrrp_notify_conf *nc, enum vrrp_state to)
{
	switch (to) {
	case VRRP_S_MASTER:
		return nc->master;
	case VRRP_S_BACKUP:
		return nc->backup;
	case VRRP_S_FAULT:
		return nc->fault;
	default:
		return nc->stop;
	}
}

static void
vrrp_notify_fire(void *arg)
{
	struct vrrp_notify *n = arg;

	n->drained(n->drained_arg);
}

/* Hand over to the stopper once, from the loop: it frees the runner. */
static void
vrrp_notify_defer(struct vrrp_notify *n)
{
	if (n->drained == NULL || n->deferred)
		return;
	n->deferred = true;
	ev_defer(n->rt->loop, vrrp_notify_fire, n);
}

static void
vrrp_notify_done(const struct hook_outcome *o, void *arg)
{
	struct vrrp_notify *n = arg;

	if (n->drained != NULL && hook_pending(n->run) == 0)
		vrrp_notify_defer(n);
}

void
vrrp_notify_transition(struct vrrp_inst *in, const struct vrrp_event *e)
{
	const struct vrrp_notify_conf *nc = &in->conf->notify;
	const char *cmd[2] = { vrrp_notify_cmd(nc, e->to), nc->any };
	struct hook_job j = { .kind = HOOK_EXEC };
	struct vrrp_notify *n;
	char env[6][96], prio[8], tag[96];
	size_t i;

	if ((cmd[0] == NULL || cmd[0][0] == '\0') &&
	    (cmd[1] == NULL || cmd[1][0] == '\0'))
		return;
	n = vrrp_notify_get(in->rt);
	snprintf(env[0], sizeof(env[0]), "HAVEN_INSTANCE=%s", in->name);
	snprintf(
	    env[1], sizeof(env[1]), "HAVEN_STATE=%s", vrrp_state_name(e->to));
	snprintf(env[2], sizeof(env[2]), "HAVEN_PREV_STATE=%s",
	    vrrp_state_name(e->from));
	snprintf(env[3], sizeof(env[3]), "HAVEN_REASON=%s",
	    vrrp_reason_name(e->reason));
	snprintf(env[4], sizeof(env[4]), "HAVEN_PRIORITY=%u", e->priority);
	snprintf(env[5], sizeof(env[5]), "HAVEN_SEQ=%llu",
	    (unsigned long long)e->seq);
	for (i = 0; i < ARRAY_SIZE(env); i++)
		j.env[i] = env[i];
	j.nenv = ARRAY_SIZE(env);
	snprintf(prio, sizeof(prio), "%u", e->priority);
	snprintf(tag, sizeof(tag), "instance=%s seq=%llu", log_q(in->name),
	    (unsigned long long)e->seq);
	j.tag = tag;
	j.timeout_ms = nc->timeout_ms;
	j.done = vrrp_notify_done;
	j.arg = n;
	for (i = 0; i < ARRAY_SIZE(cmd); i++) {
		if (cmd[i] == NULL || cmd[i][0] == '\0')
			continue;
		j.what = cmd[i];
		j.nargv = 0;
		if (i == 1) {
			j.argv[0] = "INSTANCE";
			j.argv[1] = in->name;
			j.argv[2] = vrrp_notify_kstate(e->to);
			j.argv[3] = prio;
			j.nargv = 4;
		}
		(void)hook_submit(n->run, &j);
	}
}

static void
vrrp_notify_deadline_cb(struct ev_timer *t, void *arg)
{
	struct vrrp_notify *n = arg;

	log_warn("vrrp notify hooks cut short by the stop deadline",
	    "pending=%zu", hook_pending(n->run));
	vrrp_notify_defer(n);
}

void
vrrp_notify_drain(
    struct vrrp_rt *rt, uint64_t within_ms, void (*done)(void *arg), void *arg)
{
	struct vrrp_notify *n = vrrp_notify_get(rt);

	n->drained = done;
	n->drained_arg = arg;
	if (hook_pending(n->run) == 0) {
		vrrp_notify_defer(n);
		return;
	}
	ev_timer_init(&n->deadline, vrrp_notify_deadline_cb, n);
	ev_timer_start(rt->loop, &n->deadline, within_ms);
}

void
vrrp_notify_free(struct vrrp_rt *rt)
{
	struct vrrp_notify *n = rt->notify;

	if (n == NULL)
		return;
	ev_timer_stop(rt->loop, &n->deadline);
	hook_runner_free(n->run);
	free(n);
	rt->notify = NULL;
}

struct hook_runner *
vrrp_notify_runner(struct vrrp_rt *rt)
{
	return vrrp_notify_get(rt)->run;
}

void
vrrp_notify_settled(struct vrrp_rt *rt)
{
	if (rt->notify != NULL)
		vrrp_notify_done(NULL, rt->notify);
}

const struct hook_stats *
vrrp_notify_stats(const struct vrrp_rt *rt)
{
	return rt->notify != NULL ? hook_stats(rt->notify->run) : NULL;
}
