/*
 * snap_cont.c - continuous replication in the snap plane (snap_cont.h).
 *
 * The child of a cycle writes one line per step on its pipe; VOL is the
 * index of the volume in the object's array (a group's cycle, run by its
 * leader, reports for each member):
 *	C <vol> <id> <capture_ms> <detect> <read> <reused>
 *					snapshot created: when, by which
 *					change detection (snap_cd.h), chunks
 *					read and reused unread
 *	D <vol> <dirty> <note>	a tree's: dirty paths the create was
 *					given, why it walked everything
 *	E <reason>		snapshot failed (nothing shipped)
 *	R <vol>			the volume is a replica here: skipped
 *	G <vol> <deleted>	pruned
 *
 * A C line hands the snapshot to the volume's peers' pipelines at once
 * (snap_cont_ship_offer): shipping runs beside the rest of the cycle and
 * beyond it, so the next cycle never waits for a peer.
 *
 * The capture time is taken after a pass the source did not change under
 * (snap_cont_capture): the snapshot equals the source as it was then, so
 * lag measured from it is the data a failover would lose at most.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/hook.h"
#include "lib/log.h"
#include "lib/util.h"
#include "snap/snap.h"
#include "snap/snap_cont.h"
#include "snap/snap_cont_priv.h"
#include "snap/snap_tree_io.h"
#include "snap/snap_watch.h"

const char *const snap_cont_res_names[SNAP_CR__COUNT] = { "ok", "partial",
	"failed", "timeout", "replica" };

static void snap_cont_tick(struct ev_timer *t, void *arg);

struct snap_cont *
snap_cont_new(struct ev_loop *loop)
{
	struct snap_cont *c = xcalloc(1, sizeof(*c));

	c->loop = loop;
	c->hooks = hook_runner_new(loop, SNAP_CONT_QMAX);
	ev_timer_init(&c->tick, snap_cont_tick, c);
	return c;
}

/* ---- the plane's side ---- */

static void
snap_cont_alarm(const struct snap_cont_vol *v, const struct snap_cont_peer *p,
    enum snap_rpo_event ev, uint64_t lag)
{
	const struct hook_alarm_conf *c = &v->owner->alarm;
	const char *kind =
	    ev == SNAP_RPO_CROSSED ? "rpo_exceeded" : "rpo_recovered";
	char *tag, *env[5];

	v->owner->events[ev == SNAP_RPO_CROSSED ? 0 : 1]++;
	log_warn("snap rpo",
	    "event=%s volume=%s peer=%s lag_ms=%llu "
	    "rpo_target_ms=%llu",
	    kind, v->name, p->addr, (unsigned long long)lag,
	    (unsigned long long)v->rpo_target_ms);
	tag = xasprintf(
	    "snap_event=%s volume=%s peer=%s", kind, v->name, p->addr);
	env[0] = xasprintf("HAVEN_EVENT=%s", kind);
	env[1] = xasprintf("HAVEN_VOLUME=%s", v->name);
	env[2] = xasprintf("HAVEN_PEER=%s", p->addr);
	env[3] = xasprintf("HAVEN_LAG_MS=%llu", (unsigned long long)lag);
	env[4] = xasprintf(
	    "HAVEN_RPO_TARGET_MS=%llu", (unsigned long long)v->rpo_target_ms);
	if (c->exec != NULL && c->exec[0] != '\0') {
		struct hook_job j = { .kind = HOOK_EXEC,
			.what = c->exec,
			.timeout_ms = c->timeout_ms,
			.retries = c->retries,
			.backoff_ms = SNAP_CONT_BACKOFF,
			.backoff_max_ms = SNAP_CONT_BACKOFF_X,
			.tag = tag };

		for (size_t i = 0; i < ARRAY_SIZE(env); i++)
			j.env[i] = env[i];
		j.nenv = ARRAY_SIZE(env);
		(void)hook_submit(v->owner->hooks, &j);
	}
	if (c->webhook != NULL && c->webhook[0] != '\0') {
		struct hook_job j = { .kind = HOOK_WEB,
			.what = c->webhook,
			.timeout_ms = c->timeout_ms,
			.retries = c->retries,
			.backoff_ms = SNAP_CONT_BACKOFF,
			.backoff_max_ms = SNAP_CONT_BACKOFF_X,
			.tag = tag };
		struct buf body;
		struct jw w;

		buf_init(&body);
		jw_init(&w, &body);
		jw_obj_begin(&w);
		jw_kstr(&w, "event", kind);
		jw_kstr(&w, "volume", v->name);
		jw_kstr(&w, "peer", p->addr);
		jw_kuint(&w, "lag_ms", lag);
		jw_kuint(&w, "rpo_target_ms", v->rpo_target_ms);
		jw_obj_end(&w);
		j.body = body.data != NULL ? body.data : "{}";
		(void)hook_submit(v->owner->hooks, &j);
		buf_fini(&body);
	}
	for (size_t i = 0; i < ARRAY_SIZE(env); i++)
		free(env[i]);
	free(tag);
}

static void
snap_cont_check_rpo(struct snap_cont_vol *v)
{
	uint64_t now = util_wall_ms();

	if (v->replica_here)
		return; /* nothing to protect from here */
	for (size_t i = 0; i < v->npeers; i++) {
		struct snap_cont_peer *p = &v->peers[i];
		enum snap_rpo_event ev =
		    snap_rpo_step(&p->rpo, now, v->rpo_target_ms);

		if (ev != SNAP_RPO_NONE)
			snap_cont_alarm(v, p, ev, snap_rpo_lag(&p->rpo, now));
	}
}

/* A line of leader l's cycle; it names the member volume it is about. */
static void
snap_cont_line(struct snap_cont_vol *l, char *line)
{
	struct snap_cont *c = l->owner;
	size_t vi;

	switch (line[0]) {
	case 'C': {
		char id[SNAP_NAME_MAX + 1], det[16];
		unsigned long long cap, rd, ru;
		struct snap_cont_vol *v;

		if (sscanf(line, "C %zu %64s %llu %15s %llu %llu", &vi, id,
		        &cap, det, &rd, &ru) != 6 ||
		    vi >= c->nv)
			break;
		v = &c->v[vi];
		snprintf(v->cycle_id, sizeof(v->cycle_id), "%s", id);
		v->cycle_capture_ms = cap;
		snprintf(v->last_id, sizeof(v->last_id), "%s", id);
		v->last_capture_ms = cap;
		snprintf(v->last_detect, sizeof(v->last_detect), "%s", det);
		v->last_read_chunks = rd;
		v->last_reused = ru;
		v->replica_here = false;
		/* What the watcher sees from now on is against this one. */
		if (v->watch != NULL)
			snap_watch_base(v->watch, id);
		snap_cont_ship_offer(v);
		break;
	}
	case 'D': {
		unsigned long long n;
		int off = 0;

		if (sscanf(line, "D %zu %llu %n", &vi, &n, &off) < 2 ||
		    vi >= c->nv)
			break;
		c->v[vi].last_dirty = n;
		snprintf(c->v[vi].last_note, sizeof(c->v[vi].last_note), "%s",
		    off > 0 ? line + off : "");
		break;
	}
	case 'R':
		if (sscanf(line, "R %zu", &vi) == 1 && vi < c->nv)
			c->v[vi].replica_here = true;
		break;
	case 'E':
		for (size_t k = 0; k < l->nmembers; k++)
			snprintf(c->v[l->members[k]].error,
			    sizeof(c->v[0].error), "%s", line + 2);
		break;
	case 'G': {
		unsigned long long n;

		if (sscanf(line, "G %zu %llu", &vi, &n) == 2 && vi < c->nv)
			c->v[vi].pruned += n;
		break;
	}
	}
}

/*
 * A member's result when leader l's cycle ended with status st. A
 * snapshot made is judged later, when its peers are done with it
 * (snap_cont_ship.c), even when the cycle was killed after it (pruning).
 */
static void
snap_cont_result(struct snap_cont_vol *v, const struct snap_cont_vol *l, int st)
{
	enum snap_cont_res res;

	if (v->cycle_id[0] != '\0') {
		res = SNAP_CR__COUNT;
	} else if (l->killed) {
		res = SNAP_CR_TIMEOUT;
		snprintf(v->error, sizeof(v->error), "cycle timed out");
	} else if (v->replica_here && v->cycle_id[0] == '\0') {
		res = SNAP_CR_REPLICA;
		v->error[0] = '\0';
	} else if (v->cycle_id[0] == '\0') {
		res = SNAP_CR_FAILED;
		if (v->error[0] == '\0')
			snprintf(v->error, sizeof(v->error),
			    "cycle process ended with status %d", st);
	} else {
		res = SNAP_CR_FAILED;
	}
	if (res != SNAP_CR__COUNT)
		v->results[res]++;
	if (snap_sched_end(&v->sched, ev_now_ms(v->owner->loop)))
		log_warn(
		    "snap cycle overran its interval", "volume=%s", v->name);
	if (res == SNAP_CR_FAILED || res == SNAP_CR_TIMEOUT)
		log_warn("snap cycle", "volume=%s result=%s error=%s", v->name,
		    snap_cont_res_names[res], v->error);
	snap_cont_check_rpo(v);
}

/* Leader l's cycle ended (or was killed): reap it, judge each member. */
static void
snap_cont_reap(struct snap_cont_vol *l)
{
	int st = 0;

	ev_io_stop(l->owner->loop, &l->io);
	ev_timer_stop(l->owner->loop, &l->kill);
	close(l->pfd);
	l->pfd = -1;
	while (waitpid(l->pid, &st, 0) == -1 && errno == EINTR)
		;
	l->pid = 0;
	for (size_t k = 0; k < l->nmembers; k++)
		snap_cont_result(&l->owner->v[l->members[k]], l, st);
}

static void
snap_cont_io(struct ev_io *io, unsigned events, void *arg)
{
	struct snap_cont_vol *v = arg;
	char *nl;
	ssize_t n;

	buf_reserve(&v->out, 1024);
	n = read(v->pfd, v->out.data + v->out.len, 1024);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		v->out.len += (size_t)n;
		v->out.data[v->out.len] = '\0';
		while ((nl = memchr(v->out.data, '\n', v->out.len)) != NULL) {
			*nl = '\0';
			snap_cont_line(v, v->out.data);
			buf_consume(&v->out, (size_t)(nl - v->out.data) + 1);
		}
		return;
	}
	snap_cont_reap(v);
}

static void
snap_cont_timeout(struct ev_timer *t, void *arg)
{
	struct snap_cont_vol *v = arg;

	if (v->pid > 0) {
		v->killed = true;
		(void)kill(-v->pid, SIGKILL);
	}
}

/* A cycle that could not start: each member's failed at once. */
static void
snap_cont_unstarted(struct snap_cont_vol *l, const char *what, int e)
{
	uint64_t now = ev_now_ms(l->owner->loop);

	for (size_t k = 0; k < l->nmembers; k++) {
		struct snap_cont_vol *v = &l->owner->v[l->members[k]];

		snprintf(
		    v->error, sizeof(v->error), "%s: %s", what, strerror(e));
		v->results[SNAP_CR_FAILED]++;
		if (!v->sched.running)
			snap_sched_start(&v->sched, now);
		(void)snap_sched_end(&v->sched, now);
	}
}

static void snap_cont_watch(struct snap_cont *c, struct snap_cont_vol *v);

/* Start leader l's cycle, for itself and its group's members. */
static void
snap_cont_start(struct snap_cont_vol *l)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		snap_cont_unstarted(l, "pipe", errno);
		return;
	}
	l->killed = false;
	for (size_t k = 0; k < l->nmembers; k++) {
		struct snap_cont_vol *v = &l->owner->v[l->members[k]];

		v->cycle_id[0] = '\0';
		v->error[0] = '\0';
		/* Before the fork: the child walks after every change the
		   set misses is queued for the next one. */
		if (v->watch == NULL)
			snap_cont_watch(v->owner, v); /* the source came */
		if (v->watch != NULL) {
			snap_dirty_fini(&v->taken);
			snap_watch_take(v->watch, &v->taken);
		}
		snap_sched_start(&v->sched, ev_now_ms(l->owner->loop));
	}
	pid = fork();
	if (pid == 0) {
		(void)setpgid(0, 0);
		close(fds[0]);
		snap_cont_child(l, fds[1]);
	}
	close(fds[1]);
	if (pid == -1) {
		close(fds[0]);
		snap_cont_unstarted(l, "fork", errno);
		return;
	}
	/* Both sides set the group: whichever runs first, kill(-pid) works. */
	(void)setpgid(pid, pid);
	l->pid = pid;
	l->pfd = fds[0];
	(void)util_set_nonblock(l->pfd);
	buf_reset(&l->out);
	ev_io_init(&l->io, l->pfd, snap_cont_io, l);
	if (ev_io_start(l->owner->loop, &l->io, EV_READ) != 0) {
		l->killed = true;
		(void)kill(-pid, SIGKILL);
		snap_cont_reap(l);
		return;
	}
	ev_timer_init(&l->kill, snap_cont_timeout, l);
	ev_timer_start(l->owner->loop, &l->kill, l->timeout_ms);
}

/*
 * dirty_bytes: bring leader l's next cycle forward when a member's source
 * changed that much since its last snapshot. The estimate is two FIEMAP
 * calls against the reflink baseline (snap_cd_dirty), run in the plane
 * itself; without a baseline yet (the first snapshot, or a rescan) there
 * is nothing to measure and the interval alone applies.
 */
static void
snap_cont_dirty(struct snap_cont *c, struct snap_cont_vol *l, uint64_t now)
{
	bool over = false;

	if (l->sched.running || snap_sched_due(&l->sched, now))
		return;
	for (size_t k = 0; k < l->nmembers; k++) {
		struct snap_cont_vol *v = &c->v[l->members[k]];
		uint64_t b = 0;

		if (v->watch != NULL && v->dirty_paths > 0) {
			struct snap_watch_info wi;

			snap_watch_info(v->watch, &wi);
			over = over || wi.dirty >= v->dirty_paths;
		}
		if (v->dirty_bytes == 0 ||
		    now - v->dirty_checked_ms < SNAP_CONT_DIRTY_MS)
			continue;
		v->dirty_checked_ms = now;
		v->dirty_err = snap_cd_dirty(c->store, v->name, v->source, &b);
		v->dirty_now = v->dirty_err == 0 ? b : 0;
		over = over || (v->dirty_err == 0 && b >= v->dirty_bytes);
	}
	if (over)
		snap_sched_early(&l->sched, now);
}

static void
snap_cont_tick(struct ev_timer *t, void *arg)
{
	struct snap_cont *c = arg;
	uint64_t now = ev_now_ms(c->loop);

	for (size_t i = 0; i < c->nv; i++) {
		struct snap_cont_vol *v = &c->v[i];

		/* A group member's cycle is its leader's. */
		if (v->leader == i)
			snap_cont_dirty(c, v, now);
		if (v->leader == i && snap_sched_due(&v->sched, now))
			snap_cont_start(v);
		snap_cont_check_rpo(v);
	}
	if (c->nv > 0)
		ev_timer_start(c->loop, &c->tick, SNAP_CONT_TICK_MS);
}

static void
snap_cont_vols_free(struct snap_cont_vol *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf_fini(&v[i].out);
		for (size_t p = 0; p < v[i].npeers; p++)
			buf_fini(&v[i].peers[p].out);
		free(v[i].peers);
		free(v[i].name);
		free(v[i].source);
		strv_free(v[i].freeze);
		strv_free(v[i].pre_hook);
		strv_free(v[i].post_hook);
		free(v[i].group);
		free(v[i].members);
		snap_watch_free(v[i].watch);
		snap_dirty_fini(&v[i].taken);
	}
	free(v);
}

/*
 * Kill and reap running cycles, forget the config. The volumes go to
 * *old (for apply to carry their state over) or are freed.
 */
static void
snap_cont_drop(struct snap_cont *c, struct snap_cont_vol **old, size_t *nold)
{
	for (size_t i = 0; i < c->nv; i++) {
		struct snap_cont_vol *v = &c->v[i];

		if (v->pid > 0) {
			v->killed = true;
			(void)kill(-v->pid, SIGKILL);
			snap_cont_reap(v);
		}
	}
	/* After the cycles: a cycle reaped above may have offered its
	   snapshot to the pipelines. */
	for (size_t i = 0; i < c->nv; i++)
		snap_cont_ship_stop(&c->v[i]);
	if (old != NULL) {
		*old = c->v;
		*nold = c->nv;
	} else {
		snap_cont_vols_free(c->v, c->nv);
	}
	c->v = NULL;
	c->nv = 0;
	free(c->alarm.exec);
	free(c->alarm.webhook);
	memset(&c->alarm, 0, sizeof(c->alarm));
	free(c->store);
	c->store = NULL;
	sodium_memzero(c->psk, sizeof(c->psk));
	ev_timer_stop(c->loop, &c->tick);
}

/* What was measured of a peer (its pipeline stopped: snap_cont_drop). */
static void
snap_cont_carry_peer(struct snap_cont_peer *p, const struct snap_cont_peer *o)
{
	p->rpo = o->rpo;
	memcpy(p->ack_id, o->ack_id, sizeof(p->ack_id));
	p->ship_ms = o->ship_ms;
	p->ok = o->ok;
	p->failed = o->failed;
	p->timeouts = o->timeouts;
	memcpy(p->error, o->error, sizeof(p->error));
	p->pipe.started = o->pipe.started;
	p->pipe.skipped = o->pipe.skipped;
}

/* A reload keeps what was measured of a volume and peer still there. */
static void
snap_cont_carry(
    struct snap_cont_vol *v, const struct snap_cont_vol *old, size_t nold)
{
	for (size_t i = 0; i < nold; i++) {
		const struct snap_cont_vol *o = &old[i];

		if (strcmp(o->name, v->name) != 0)
			continue;
		snprintf(v->last_id, sizeof(v->last_id), "%s", o->last_id);
		v->last_capture_ms = o->last_capture_ms;
		memcpy(v->last_detect, o->last_detect, sizeof(v->last_detect));
		v->last_dirty = o->last_dirty;
		memcpy(v->last_note, o->last_note, sizeof(v->last_note));
		v->last_read_chunks = o->last_read_chunks;
		v->last_reused = o->last_reused;
		memcpy(v->results, o->results, sizeof(v->results));
		v->pruned = o->pruned;
		v->sched.cycles = o->sched.cycles;
		v->sched.overruns = o->sched.overruns;
		v->sched.early = o->sched.early;
		for (size_t p = 0; p < v->npeers; p++)
			for (size_t q = 0; q < o->npeers; q++)
				if (strcmp(v->peers[p].addr,
				        o->peers[q].addr) == 0)
					snap_cont_carry_peer(
					    &v->peers[p], &o->peers[q]);
	}
}

/* Each volume's leader, and each leader's members (config order). */
static void
snap_cont_groups(struct snap_cont *c)
{
	for (size_t i = 0; i < c->nv; i++) {
		struct snap_cont_vol *v = &c->v[i];

		v->leader = i;
		for (size_t j = 0; v->group != NULL && j < i; j++)
			if (c->v[j].group != NULL &&
			    strcmp(c->v[j].group, v->group) == 0) {
				v->leader = j;
				break;
			}
	}
	for (size_t i = 0; i < c->nv; i++) {
		struct snap_cont_vol *l = &c->v[i];

		if (l->leader != i)
			continue;
		l->members = xcalloc(c->nv, sizeof(*l->members));
		for (size_t j = i; j < c->nv; j++)
			if (c->v[j].leader == i)
				l->members[l->nmembers++] = j;
	}
}

/*
 * A watcher for v when its source is a directory and detect asks for
 * inotify (or auto). A source missing now gets none until a reload: its
 * cycles then fail or walk, and say so.
 */
static void
snap_cont_watch(struct snap_cont *c, struct snap_cont_vol *v)
{
	struct stat sb;

	if (v->watch != NULL)
		return;
	if ((v->detect_conf != SNAP_CONF_DETECT_INOTIFY &&
	        v->detect_conf != SNAP_CD_AUTO) ||
	    !snap_tree_is_dir(v->source))
		return;
	/* The store inside the tree is not watched (nor snapshotted). */
	if (stat(c->store, &sb) == -1)
		sb.st_dev = sb.st_ino = 0;
	v->watch = snap_watch_new(c->loop, v->source, sb.st_dev, sb.st_ino);
	log_info(
	    "snap watch started", "volume=%s source=%s", v->name, v->source);
}

/*
 * A reload keeps the watcher of a volume whose source and detect did not
 * change: its dirty set goes on (unless the reload killed the cycle it
 * was taken for: that cycle published nothing to base the set on, and
 * the next one walks).
 */
static void
snap_cont_watch_carry(
    struct snap_cont_vol *v, struct snap_cont_vol *old, size_t nold)
{
	for (size_t i = 0; i < nold; i++)
		if (old[i].watch != NULL && strcmp(old[i].name, v->name) == 0 &&
		    strcmp(old[i].source, v->source) == 0 &&
		    old[i].detect_conf == v->detect_conf) {
			v->watch = old[i].watch;
			old[i].watch = NULL;
		}
}

void
snap_cont_apply(struct snap_cont *c, const struct snap_conf *conf,
    const uint8_t psk[SNAP_PROTO_PSK_LEN])
{
	uint64_t now = ev_now_ms(c->loop), wall = util_wall_ms();
	struct snap_cont_vol *old = NULL;
	size_t nold = 0;

	snap_cont_drop(c, &old, &nold);
	if (conf->nvolumes == 0) {
		snap_cont_vols_free(old, nold);
		return;
	}
	c->store = xstrdup(conf->store);
	memcpy(c->psk, psk, sizeof(c->psk));
	c->alarm.exec =
	    conf->alarms.exec != NULL ? xstrdup(conf->alarms.exec) : NULL;
	c->alarm.webhook =
	    conf->alarms.webhook != NULL ? xstrdup(conf->alarms.webhook) : NULL;
	c->alarm.retries = conf->alarms.retries;
	c->alarm.timeout_ms = conf->alarms.timeout_ms;
	c->v = xcalloc(conf->nvolumes, sizeof(*c->v));
	c->nv = conf->nvolumes;
	for (size_t i = 0; i < conf->nvolumes; i++) {
		const struct snap_vol_conf *vc = &conf->volumes[i];
		struct snap_cont_vol *v = &c->v[i];

		v->owner = c;
		v->name = xstrdup(vc->name);
		v->source = xstrdup(vc->source);
		v->retain = vc->retain;
		v->freeze = strv_dup(vc->freeze, vc->nfreeze);
		v->nfreeze = vc->nfreeze;
		v->pre_hook = strv_dup(vc->pre_hook, vc->npre_hook);
		v->post_hook = strv_dup(vc->post_hook, vc->npost_hook);
		v->freeze_timeout_ms = vc->freeze_timeout_ms;
		v->detect_conf = vc->detect;
		v->detect = vc->detect == SNAP_CONF_DETECT_INOTIFY ?
		    SNAP_CD_AUTO :
		    (enum snap_cd_kind)vc->detect;
		v->dirty_bytes = vc->dirty_bytes;
		v->dirty_paths = vc->dirty_paths;
		snap_dirty_init(&v->taken, 0);
		snap_cont_watch_carry(v, old, nold);
		snap_cont_watch(c, v);
		v->hook_timeout_ms = vc->hook_timeout_ms;
		v->group = vc->group != NULL ? xstrdup(vc->group) : NULL;
		v->rpo_target_ms = vc->rpo_target_ms;
		v->timeout_ms = vc->timeout_ms;
		v->pfd = -1;
		buf_init(&v->out);
		snap_sched_init(&v->sched, vc->interval_ms, now);
		v->peers = xcalloc(vc->npeers + 1, sizeof(*v->peers));
		v->npeers = vc->npeers;
		for (size_t p = 0; p < vc->npeers; p++) {
			snprintf(v->peers[p].addr, sizeof(v->peers[p].addr),
			    "%s", vc->peers[p]);
			(void)conf_parse_addr(
			    vc->peers[p], true, &v->peers[p].ss);
			snap_rpo_init(&v->peers[p].rpo, wall);
			v->peers[p].vol = v;
			v->peers[p].pfd = -1;
			buf_init(&v->peers[p].out);
		}
		snap_cont_carry(v, old, nold);
	}
	snap_cont_vols_free(old, nold);
	snap_cont_groups(c);
	log_info("snap continuous replication applied", "volumes=%zu", c->nv);
	ev_timer_start(c->loop, &c->tick, 0);
}

void
snap_cont_stop(struct snap_cont *c)
{
	snap_cont_drop(c, NULL, NULL);
}

void
snap_cont_free(struct snap_cont *c)
{
	if (c == NULL)
		return;
	snap_cont_stop(c);
	hook_runner_free(c->hooks);
	free(c);
}
