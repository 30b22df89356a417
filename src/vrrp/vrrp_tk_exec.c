/*
 * vrrp_tk_exec.c - the "exec" takeover backend (vrrp_tk.h): in a cloud
 * whose API moves the address (a route table entry, a HAVIP association,
 * an EIP), becoming master calls the provider's CLI, and keeps calling it
 * until the provider says the address is ours (reference/vip.md §7.2,
 * §8.2: actuation as a reconciliation loop, not a fire-and-forget script).
 *
 * Acquire does what the local backend does first (the addresses on the
 * interface, the announcement bursts: harmless on a LAN, and needed where
 * the provider learns the owner by snooping ARP), reports ACQUIRING and
 * queues exec.acquire. When it exits 0, exec.describe runs and its stdout
 * is searched for exec.expect: found is proof (OWNER); with no describe
 * configured the backend can only say HELD. A failed, timed-out or
 * unverified acquire is retried after exec.backoff, doubling up to
 * exec.backoff_max; past exec.retries the instance shows FAILED, and the
 * loop goes on at backoff_max for as long as we are master: a provider
 * API that comes back later still gets the address moved. With
 * exec.verify_interval, describe runs again that often while OWNER, and a
 * describe that no longer shows us (another node, or an operator, moved
 * the address) is NOT_OWNER and a new round of acquires.
 *
 * Ordering: the commands go on the notify hooks' serial queue
 * (vrrp_notify_runner), one at a time in submission order, so a release
 * queued while an acquire runs runs after it, and a graceful stop waits
 * for both. The retries are ours, not the runner's: each attempt is its
 * own job and the pause between them is our timer, so a release cancels
 * the pending ones at once and never waits behind a back-off. Every
 * acquire or release bumps a generation; a job's outcome from an older
 * generation is only counted, never acted upon.
 *
 * A job outlives the instance that queued it (a reload removing the
 * instance, its release still queued): its callback's argument is a
 * ticket the backend lists, and fini orphans the tickets still out. The
 * runner frees a job without calling back only when it is freed itself,
 * which vrrp_rt_free does before it frees the instances: fini frees the
 * tickets then. (An orphan whose job is still queued when the process
 * stops leaks until exit: one small struct, and only after a reload
 * removed its instance.)
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hook.h"
#include "lib/log.h"
#include "lib/util.h"
#include "vrrp/vrrp_rt.h"

enum vrrp_tk_exec_action {
	VRRP_TK_EXEC_ACQUIRE,
	VRRP_TK_EXEC_DESCRIBE,
	VRRP_TK_EXEC_RELEASE,
};

static const char *const vrrp_tk_exec_action_names[] = {
	[VRRP_TK_EXEC_ACQUIRE] = "acquire",
	[VRRP_TK_EXEC_DESCRIBE] = "describe",
	[VRRP_TK_EXEC_RELEASE] = "release",
};

struct vrrp_tk_exec;

/* One queued job's way back to its backend. */
struct vrrp_tk_exec_ticket {
	struct vrrp_tk_exec_ticket *next; /* owned by the list: see head */
	struct vrrp_tk_exec *x; /* weak: NULL once the instance is gone */
	struct vrrp_rt *rt;     /* borrowed: outlives the runner's jobs */
	uint64_t gen;
	enum vrrp_tk_exec_action act;
};

struct vrrp_tk_exec {
	struct vrrp_inst *in; /* borrowed: owner */
	/* owned: tickets of the jobs still queued or running */
	struct vrrp_tk_exec_ticket *tickets;
	uint64_t gen;           /* bumped by acquire and release */
	bool acquired;          /* an acquire was queued since the release */
	bool busy;              /* an acquire/describe of gen is queued */
	uint64_t round_us;      /* this round's first acquire; 0: verified */
	struct ev_timer retry;  /* next acquire after a back-off */
	struct ev_timer verify; /* next describe while OWNER */
	struct vrrp_tk_exec_stats st;
};

static struct vrrp_tk_exec *
vrrp_tk_exec_of(const struct vrrp_inst *in)
{
	return in->tk.ops == &vrrp_tk_exec_ops ? in->tk.priv : NULL;
}

const struct vrrp_tk_exec_stats *
vrrp_tk_exec_stats(const struct vrrp_inst *in)
{
	struct vrrp_tk_exec *x = vrrp_tk_exec_of(in);

	return x != NULL ? &x->st : NULL;
}

static void vrrp_tk_exec_done(const struct hook_outcome *o, void *arg);

static const char *
vrrp_tk_exec_cmd(const struct vrrp_exec_conf *c, enum vrrp_tk_exec_action act)
{
	switch (act) {
	case VRRP_TK_EXEC_ACQUIRE:
		return c->acquire;
	case VRRP_TK_EXEC_DESCRIBE:
		return c->describe;
	default:
		return c->release;
	}
}

/* The first virtual address, without its prefix. */
static void
vrrp_tk_exec_vip(const struct vrrp_instance_conf *ic, char *s, size_t len)
{
	const struct sockaddr_storage *a = &ic->vaddrs[0].addr;
	const void *p = a->ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)a)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr;

	if (inet_ntop(a->ss_family, p, s, (socklen_t)len) == NULL)
		snprintf(s, len, "?");
}

/*
 * Queue act's command. 0, or -errno when the queue refused it (full):
 * then nothing runs and no ticket is left.
 */
static int
vrrp_tk_exec_submit(struct vrrp_tk_exec *x, enum vrrp_tk_exec_action act)
{
	struct vrrp_inst *in = x->in;
	const struct vrrp_exec_conf *c = &in->conf->exec;
	struct hook_job j = { .kind = HOOK_EXEC };
	struct vrrp_tk_exec_ticket *t;
	char env[4][96], vip[INET6_ADDRSTRLEN], tag[112];
	int rc;

	j.what = vrrp_tk_exec_cmd(c, act);
	if (j.what == NULL || j.what[0] == '\0')
		return -EINVAL;
	vrrp_tk_exec_vip(in->conf, vip, sizeof(vip));
	snprintf(env[0], sizeof(env[0]), "HAVEN_INSTANCE=%s", in->name);
	snprintf(env[1], sizeof(env[1]), "HAVEN_VIP=%s", vip);
	snprintf(env[2], sizeof(env[2]), "HAVEN_ACTION=%s",
	    vrrp_tk_exec_action_names[act]);
	snprintf(env[3], sizeof(env[3]), "HAVEN_ATTEMPT=%u",
	    act == VRRP_TK_EXEC_ACQUIRE ? x->st.attempt : 0);
	for (size_t i = 0; i < ARRAY_SIZE(env); i++)
		j.env[i] = env[i];
	j.nenv = ARRAY_SIZE(env);
	snprintf(tag, sizeof(tag), "instance=%s takeover=%s", log_q(in->name),
	    vrrp_tk_exec_action_names[act]);
	j.tag = tag;
	j.timeout_ms = c->timeout_ms;
	/* Only describe's output is read; the others' goes to our stdout,
	 * as the notify hooks' does, for the operator's log. */
	j.capture = act == VRRP_TK_EXEC_DESCRIBE;
	t = xcalloc(1, sizeof(*t));
	t->x = x;
	t->rt = in->rt;
	t->gen = x->gen;
	t->act = act;
	j.done = vrrp_tk_exec_done;
	j.arg = t;
	if ((rc = hook_submit(vrrp_notify_runner(in->rt), &j)) != 0) {
		free(t);
		return rc;
	}
	t->next = x->tickets;
	x->tickets = t;
	x->st.runs++;
	return 0;
}

static void
vrrp_tk_exec_unlink(struct vrrp_tk_exec *x, struct vrrp_tk_exec_ticket *t)
{
	struct vrrp_tk_exec_ticket **p;

	for (p = &x->tickets; *p != NULL; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			return;
		}
}

static void vrrp_tk_exec_failed(struct vrrp_tk_exec *x, const char *why);

/* The next acquire of the round, now. */
static void
vrrp_tk_exec_attempt(struct vrrp_tk_exec *x)
{
	int rc;

	x->st.attempt++;
	if (x->st.attempt > 1)
		x->st.retries++;
	if ((rc = vrrp_tk_exec_submit(x, VRRP_TK_EXEC_ACQUIRE)) != 0) {
		/* A full queue is a failed attempt: counted, retried. */
		x->st.failures++;
		vrrp_tk_exec_failed(x, strerror(-rc));
		return;
	}
	x->busy = true;
}

static void
vrrp_tk_exec_retry_cb(struct ev_timer *t, void *arg)
{
	vrrp_tk_exec_attempt(arg);
}

/* The attempt failed or was not verified: pause, then the next one. */
static void
vrrp_tk_exec_failed(struct vrrp_tk_exec *x, const char *why)
{
	struct vrrp_inst *in = x->in;
	const struct vrrp_exec_conf *c = &in->conf->exec;
	uint64_t ms = vrrp_tk_exec_pause_ms(
	    x->st.attempt, c->retries, c->backoff_ms, c->backoff_max_ms);

	if (x->st.attempt == c->retries + 1)
		log_err("vrrp exec takeover failed",
		    "instance=%s attempts=%u why=%s retry_ms=%llu",
		    log_q(in->name), x->st.attempt, log_q(why),
		    (unsigned long long)ms);
	else
		log_warn("vrrp exec takeover attempt failed",
		    "instance=%s attempt=%u why=%s retry_ms=%llu",
		    log_q(in->name), x->st.attempt, log_q(why),
		    (unsigned long long)ms);
	if (x->st.attempt > c->retries)
		vrrp_inst_tk_report(in, VRRP_TK_FAILED);
	ev_timer_start(in->rt->loop, &x->retry, ms);
}

static void
vrrp_tk_exec_describe(struct vrrp_tk_exec *x)
{
	if (vrrp_tk_exec_submit(x, VRRP_TK_EXEC_DESCRIBE) == 0) {
		x->busy = true;
		x->in->tk.probes_sent++;
		return;
	}
	/* Queue full: no proof this time. */
	x->st.failures++;
	x->in->tk.probe_errors++;
	vrrp_tk_exec_failed(x, "describe not queued");
}

static void
vrrp_tk_exec_verify_cb(struct ev_timer *t, void *arg)
{
	struct vrrp_tk_exec *x = arg;

	if (!x->busy && !ev_timer_active(&x->retry))
		vrrp_tk_exec_describe(x);
}

/* Describe came back: proof, or a new round. */
static void
vrrp_tk_exec_described(struct vrrp_tk_exec *x, const struct hook_outcome *o)
{
	struct vrrp_inst *in = x->in;
	const struct vrrp_exec_conf *c = &in->conf->exec;
	bool was_owner = in->tk.state == VRRP_TK_OWNER;

	if (o->result == HOOK_OK &&
	    vrrp_tk_exec_owns(o->out, o->outlen, c->expect)) {
		in->tk.probes_ok++;
		vrrp_tk_proof(&in->tk, util_wall_ms());
		if (x->round_us != 0) {
			x->st.verify_us = util_mono_us() - x->round_us;
			x->st.verified_once = true;
			x->round_us = 0;
		}
		x->st.attempt = 0;
		vrrp_inst_tk_report(in, VRRP_TK_OWNER);
		if (c->verify_interval_ms > 0)
			ev_timer_start(
			    in->rt->loop, &x->verify, c->verify_interval_ms);
		return;
	}
	in->tk.probes_missed++;
	if (!was_owner) {
		vrrp_tk_exec_failed(x,
		    o->result == HOOK_OK ? "describe: expect not found" :
		                           o->why);
		return;
	}
	/* We had proof and lost it: a fresh round, at once. */
	log_warn("vrrp exec takeover lost", "instance=%s why=%s",
	    log_q(in->name),
	    log_q(
	        o->result == HOOK_OK ? "describe: expect not found" : o->why));
	vrrp_inst_tk_report(in, VRRP_TK_NOT_OWNER);
	x->round_us = util_mono_us();
	x->st.attempt = 0;
	vrrp_tk_exec_attempt(x);
}

static void
vrrp_tk_exec_acquired(struct vrrp_tk_exec *x, const struct hook_outcome *o)
{
	struct vrrp_inst *in = x->in;
	const struct vrrp_exec_conf *c = &in->conf->exec;

	if (o->result != HOOK_OK) {
		vrrp_tk_exec_failed(x, o->why);
		return;
	}
	if (c->describe != NULL && c->describe[0] != '\0') {
		vrrp_tk_exec_describe(x);
		return;
	}
	/* Nothing to verify with: the provider took the call. */
	x->st.attempt = 0;
	vrrp_inst_tk_report(in, VRRP_TK_HELD);
}

static void
vrrp_tk_exec_done(const struct hook_outcome *o, void *arg)
{
	struct vrrp_tk_exec_ticket *t = arg;
	struct vrrp_tk_exec *x = t->x;
	struct vrrp_rt *rt = t->rt;

	if (x != NULL) {
		vrrp_tk_exec_unlink(x, t);
		if (o->result != HOOK_OK)
			x->st.failures++;
		if (o->result == HOOK_TIMEOUT)
			x->st.timeouts++;
		if (o->result != HOOK_OK && t->act == VRRP_TK_EXEC_DESCRIBE)
			x->in->tk.probe_errors++;
		if (t->act == VRRP_TK_EXEC_RELEASE && o->result != HOOK_OK)
			log_warn("vrrp exec release failed",
			    "instance=%s why=%s", log_q(x->in->name),
			    log_q(o->why));
		if (t->gen == x->gen && t->act != VRRP_TK_EXEC_RELEASE) {
			x->busy = false;
			if (t->act == VRRP_TK_EXEC_ACQUIRE)
				vrrp_tk_exec_acquired(x, o);
			else
				vrrp_tk_exec_described(x, o);
		}
	}
	free(t);
	vrrp_notify_settled(rt);
}

static void
vrrp_tk_exec_stop(struct vrrp_tk_exec *x)
{
	ev_timer_stop(x->in->rt->loop, &x->retry);
	ev_timer_stop(x->in->rt->loop, &x->verify);
	x->gen++;
	x->busy = false;
	x->round_us = 0;
	x->st.attempt = 0;
}

static int
vrrp_tk_exec_init(struct vrrp_inst *in)
{
	struct vrrp_tk_exec *x = xcalloc(1, sizeof(*x));

	vrrp_tk_local_ops.init(in);
	x->in = in;
	ev_timer_init(&x->retry, vrrp_tk_exec_retry_cb, x);
	ev_timer_init(&x->verify, vrrp_tk_exec_verify_cb, x);
	in->tk.priv = x;
	return 0;
}

static int
vrrp_tk_exec_acquire(struct vrrp_inst *in)
{
	struct vrrp_tk_exec *x = vrrp_tk_exec_of(in);
	struct vrrp_announce_plan plan;

	vrrp_tk_exec_stop(x);
	vrrp_tk_local_hold(in, true);
	vrrp_tk_local_plan(in->conf, &plan);
	vrrp_tk_local_garp_start(in, &plan);
	vrrp_inst_tk_report(in, VRRP_TK_ACQUIRING);
	x->acquired = true;
	x->round_us = util_mono_us();
	vrrp_tk_exec_attempt(x);
	return 0;
}

/*
 * Announce again on the link, and ask the provider again rather than
 * acquire: a lower-priority master was heard, so it may have called its
 * own acquire; if describe no longer shows us, the round starts over.
 */
static void
vrrp_tk_exec_announce(struct vrrp_inst *in)
{
	struct vrrp_tk_exec *x = vrrp_tk_exec_of(in);
	const struct vrrp_exec_conf *c = &in->conf->exec;

	vrrp_tk_local_reannounce(in);
	if (c->describe == NULL || c->describe[0] == '\0' || x->busy ||
	    ev_timer_active(&x->retry))
		return;
	ev_timer_stop(in->rt->loop, &x->verify);
	vrrp_tk_exec_describe(x);
}

static void
vrrp_tk_exec_release(struct vrrp_inst *in)
{
	struct vrrp_tk_exec *x = vrrp_tk_exec_of(in);
	int rc;

	vrrp_tk_exec_stop(x);
	vrrp_tk_local_ops.release(in);
	/* Idempotent: the instance calls it again on shutdown, and at
	 * start-up for a backup that never acquired. */
	if (!x->acquired)
		return;
	x->acquired = false;
	if (in->conf->exec.release == NULL || in->conf->exec.release[0] == '\0')
		return;
	x->st.releases++;
	if ((rc = vrrp_tk_exec_submit(x, VRRP_TK_EXEC_RELEASE)) != 0) {
		x->st.failures++;
		log_err("vrrp exec release not queued", "instance=%s error=%s",
		    log_q(in->name), strerror(-rc));
	}
}

static void
vrrp_tk_exec_fini(struct vrrp_inst *in)
{
	struct vrrp_tk_exec *x = vrrp_tk_exec_of(in);
	struct vrrp_tk_exec_ticket *t, *next;

	if (x != NULL) {
		vrrp_tk_exec_stop(x);
		for (t = x->tickets; t != NULL; t = next) {
			next = t->next;
			/* A live runner still calls back: orphan it. A
			 * freed one never will. */
			if (in->rt->notify != NULL)
				t->x = NULL;
			else
				free(t);
		}
		free(x);
		in->tk.priv = NULL;
	}
	vrrp_tk_local_ops.fini(in);
}

const struct vrrp_tk_ops vrrp_tk_exec_ops = {
	.name = "exec",
	.verifies = true,
	.init = vrrp_tk_exec_init,
	.acquire = vrrp_tk_exec_acquire,
	.announce = vrrp_tk_exec_announce,
	.release = vrrp_tk_exec_release,
	.fini = vrrp_tk_exec_fini,
};
