/*
 * snap_cont_ship.c - each peer's shipping pipeline in continuous
 * replication (snap_cont_priv.h).
 *
 * A peer ships in its own forked process, in its own process group, one
 * shipment at a time; a snapshot made while it ships waits, and a newer
 * one replaces the waiting one (snap_pipe, snap_sched.h), which that peer
 * then skips. So a slow or dead peer holds back neither the next cycle
 * nor any other peer, and catches up with the newest snapshot when its
 * shipment ends: HAVE/WANT sends what it lacks of that one, so the
 * snapshots it skipped are not needed for its RPO. Its lag stays honest:
 * an acknowledgement moves it to the capture time of the snapshot that
 * peer acknowledged (ship_capture_ms), never of a newer one.
 *
 * Each shipping process is killed (its group) at the volume's
 * cycle_timeout and always reaped: on its pipe's EOF, or by
 * snap_cont_ship_stop. It reports one line on the pipe:
 *	ok <ms>			the peer acknowledged (COMMIT OK)
 *	err <ms> <reason>	it failed
 *
 * A cycle's result (ok or partial) is counted when each peer has
 * acknowledged, failed or skipped its snapshot (struct snap_cont_judge).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "snap/snap.h"
#include "snap/snap_cont_priv.h"
#include "snap/snap_manifest.h"
#include "snap/snap_send.h"
#include "snap/snap_store.h"

/* Count judge j's result and forget it. */
static void
snap_cont_judge_close(struct snap_cont_vol *v, size_t j)
{
	struct snap_cont_judge *g = &v->judge[j];
	enum snap_cont_res res = g->failed ? SNAP_CR_PARTIAL : SNAP_CR_OK;

	v->results[res]++;
	/* A skip leaves no error of its own: say so rather than "". */
	if (res != SNAP_CR_OK)
		log_warn("snap cycle",
		    "volume=%s snapshot=%s result=%s error=%s", v->name, g->id,
		    snap_cont_res_names[res],
		    log_q(v->error[0] != '\0' ?
		            v->error :
		            "a peer skipped it (still shipping an older one)"));
	memmove(&v->judge[j], &v->judge[j + 1],
	    (v->njudge - j - 1) * sizeof(v->judge[0]));
	v->njudge--;
}

/*
 * Judge the snapshot id until n peers are done with it. Past
 * SNAP_CONT_JUDGES pending, the oldest is closed as partial: some peer
 * has not finished it while that many newer ones were made.
 */
static void
snap_cont_judge_open(struct snap_cont_vol *v, const char *id, size_t n)
{
	struct snap_cont_judge *g;

	if (v->njudge == SNAP_CONT_JUDGES) {
		v->judge[0].failed = true;
		snap_cont_judge_close(v, 0);
	}
	g = &v->judge[v->njudge++];
	snprintf(g->id, sizeof(g->id), "%s", id);
	g->waiting = n;
	g->failed = false;
	if (n == 0)
		snap_cont_judge_close(v, v->njudge - 1);
}

/* A peer is done with snapshot id: acknowledged (ok) or not. */
static void
snap_cont_judge_note(struct snap_cont_vol *v, const char *id, bool ok)
{
	for (size_t j = 0; j < v->njudge; j++) {
		struct snap_cont_judge *g = &v->judge[j];

		if (strcmp(g->id, id) != 0)
			continue;
		g->failed = g->failed || !ok;
		if (g->waiting > 0 && --g->waiting == 0)
			snap_cont_judge_close(v, j);
		return;
	}
}

/* The shipping process of peer p: ship p->ship_id, say how, exit. */
static _Noreturn void
snap_cont_ship_child(const struct snap_cont_peer *p, int fd)
{
	const struct snap_cont_vol *v = p->vol;
	struct snap_send_opts so = { .timeout_ms = SNAP_CONT_IO_MS };
	struct snap_send_stats st;
	struct snap_store *s = NULL;
	struct snap_manifest m;
	struct snap_ref r;
	uint64_t t0 = util_mono_ms();
	char err[512];
	int e;

	memset(&m, 0, sizeof(m));
	memset(&st, 0, sizeof(st));
	snprintf(r.volume, sizeof(r.volume), "%s", v->name);
	snprintf(r.id, sizeof(r.id), "%s", p->ship_id);
	if ((e = snap_store_open(v->owner->store, false, &s)) != 0) {
		snap_cont_say(
		    fd, "err 0 %s: %s", v->owner->store, strerror(-e));
		_exit(1);
	}
	e = snap_store_manifest_load(s, &r, &m, err, sizeof(err));
	if (e != 0) {
		snap_cont_say(fd, "err 0 %s/%s: %s", r.volume, r.id,
		    e == -EBADMSG ? err : strerror(-e));
		_exit(1);
	}
	memcpy(&so.to, &p->ss, sizeof(so.to));
	memcpy(so.psk, v->owner->psk, sizeof(so.psk));
	e = snap_send(s, &m, &so, &st, err, sizeof(err));
	if (e == 0)
		snap_cont_say(
		    fd, "ok %llu", (unsigned long long)(util_mono_ms() - t0));
	else
		snap_cont_say(fd, "err %llu %s",
		    (unsigned long long)(util_mono_ms() - t0), err);
	snap_manifest_fini(&m);
	snap_store_close(s);
	_exit(e == 0 ? 0 : 1);
}

static void snap_cont_ship_start(struct snap_cont_peer *p);

/*
 * p's shipment ended (ok or not, after ms): account for it, and ship the
 * snapshot waiting, if one does. With stopping, nothing follows.
 */
static void
snap_cont_ship_end(struct snap_cont_peer *p, bool ok, uint64_t ms,
    const char *why, bool stopping)
{
	struct snap_cont_vol *v = p->vol;

	if (stopping) { /* killed by a reload or stop: not its outcome */
		p->pipe.busy = p->pipe.queued = false;
		return;
	}
	p->ship_ms = ms;
	if (ok) {
		p->ok++;
		p->error[0] = '\0';
		snprintf(p->ack_id, sizeof(p->ack_id), "%s", p->ship_id);
		snap_rpo_ack(&p->rpo, p->ship_capture_ms, util_wall_ms());
	} else {
		p->failed++;
		snprintf(p->error, sizeof(p->error), "%s", why);
		snprintf(v->error, sizeof(v->error), "%s: %s", p->addr, why);
	}
	snap_cont_judge_note(v, p->ship_id, ok);
	if (!snap_pipe_done(&p->pipe))
		return;
	memcpy(p->ship_id, p->queued_id, sizeof(p->ship_id));
	p->ship_capture_ms = p->queued_capture_ms;
	snap_cont_ship_start(p);
}

/* Reap p's shipping process (its pipe hit EOF, or it was killed). */
static void
snap_cont_ship_reap(struct snap_cont_peer *p, bool stopping)
{
	struct ev_loop *loop = p->vol->owner->loop;
	unsigned long long ms = 0;
	char why[256] = "";
	bool ok = false;
	int st = 0, off = 0;
	pid_t r;

	ev_io_stop(loop, &p->io);
	ev_timer_stop(loop, &p->kill);
	close(p->pfd);
	p->pfd = -1;
	while ((r = waitpid(p->pid, &st, 0)) == -1 && errno == EINTR)
		;
	p->pid = 0;
	if (p->out.len > 0) {
		p->out.data[p->out.len] = '\0';
		p->out.data[strcspn(p->out.data, "\n")] = '\0';
	}
	if (p->killed) {
		p->timeouts += stopping ? 0 : 1;
		ms = util_mono_ms() - p->ship_t0;
		snprintf(why, sizeof(why), "shipment killed after %llu ms%s",
		    ms, stopping ? " (stopped)" : " (cycle_timeout)");
	} else if (p->out.len > 0 && sscanf(p->out.data, "ok %llu", &ms) == 1) {
		/* Unknown exit (not reaped here): not acknowledged. */
		ok = r > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (!ok)
			snprintf(
			    why, sizeof(why), "shipping process status %d", st);
	} else if (p->out.len > 0 &&
	    sscanf(p->out.data, "err %llu %n", &ms, &off) == 1 && off > 0) {
		snprintf(why, sizeof(why), "%s", p->out.data + off);
	} else {
		ms = util_mono_ms() - p->ship_t0;
		snprintf(why, sizeof(why),
		    "shipping process ended with status %d", st);
	}
	snap_cont_ship_end(p, ok, ms, why, stopping);
}

static void
snap_cont_ship_io(struct ev_io *io, unsigned events, void *arg)
{
	struct snap_cont_peer *p = arg;
	ssize_t n;

	buf_reserve(&p->out, 1024);
	n = read(p->pfd, p->out.data + p->out.len, 1024);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		/* One line is expected; a runaway child cannot grow this. */
		if (p->out.len + (size_t)n < 4096)
			p->out.len += (size_t)n;
		return;
	}
	snap_cont_ship_reap(p, false);
}

static void
snap_cont_ship_timeout(struct ev_timer *t, void *arg)
{
	struct snap_cont_peer *p = arg;

	if (p->pid > 0) {
		p->killed = true;
		(void)kill(-p->pid, SIGKILL);
	}
}

/* Start shipping p->ship_id to p (its pipeline is busy). */
static void
snap_cont_ship_start(struct snap_cont_peer *p)
{
	struct snap_cont_vol *v = p->vol;
	struct ev_loop *loop = v->owner->loop;
	char why[128];
	int fds[2];
	pid_t pid;

	p->killed = false;
	p->ship_t0 = util_mono_ms();
	buf_reset(&p->out);
	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(why, sizeof(why), "pipe: %s", strerror(errno));
		snap_cont_ship_end(p, false, 0, why, false);
		return;
	}
	pid = fork();
	if (pid == 0) {
		(void)setpgid(0, 0);
		close(fds[0]);
		snap_cont_ship_child(p, fds[1]);
	}
	close(fds[1]);
	if (pid == -1) {
		snprintf(why, sizeof(why), "fork: %s", strerror(errno));
		close(fds[0]);
		snap_cont_ship_end(p, false, 0, why, false);
		return;
	}
	/* Both sides set the group: whichever runs first, kill(-pid) works. */
	(void)setpgid(pid, pid);
	p->pid = pid;
	p->pfd = fds[0];
	(void)util_set_nonblock(p->pfd);
	ev_io_init(&p->io, p->pfd, snap_cont_ship_io, p);
	if (ev_io_start(loop, &p->io, EV_READ) != 0) {
		p->killed = true;
		(void)kill(-pid, SIGKILL);
		snap_cont_ship_reap(p, false);
		return;
	}
	ev_timer_init(&p->kill, snap_cont_ship_timeout, p);
	ev_timer_start(loop, &p->kill, v->timeout_ms);
}

void
snap_cont_ship_offer(struct snap_cont_vol *v)
{
	/* First: a shipment that cannot start ends (and notes) at once. */
	snap_cont_judge_open(v, v->last_id, v->npeers);
	for (size_t i = 0; i < v->npeers; i++) {
		struct snap_cont_peer *p = &v->peers[i];

		switch (snap_pipe_offer(&p->pipe)) {
		case SNAP_PIPE_SHIP:
			memcpy(p->ship_id, v->last_id, sizeof(p->ship_id));
			p->ship_capture_ms = v->last_capture_ms;
			snap_cont_ship_start(p);
			break;
		case SNAP_PIPE_SKIP:
			/* The one waiting is replaced: this peer skips it. */
			snap_cont_judge_note(v, p->queued_id, false);
			/* FALLTHROUGH */
		case SNAP_PIPE_QUEUE:
			memcpy(p->queued_id, v->last_id, sizeof(p->queued_id));
			p->queued_capture_ms = v->last_capture_ms;
			break;
		}
	}
}

void
snap_cont_ship_stop(struct snap_cont_vol *v)
{
	for (size_t i = 0; i < v->npeers; i++) {
		struct snap_cont_peer *p = &v->peers[i];

		if (p->pid > 0) {
			p->killed = true;
			(void)kill(-p->pid, SIGKILL);
			snap_cont_ship_reap(p, true);
		}
		p->pipe.busy = p->pipe.queued = false;
	}
	/* Their outcomes will not come: not counted either way. */
	v->njudge = 0;
}
