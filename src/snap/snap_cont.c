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
 *	P <vol> <peer> ok <ms>	peer acknowledged (COMMIT OK)
 *	P <vol> <peer> err <ms> <reason>
 *				peer failed
 *	G <vol> <deleted>	pruned
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/hook.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "snap/snap.h"
#include "snap/snap_cont.h"
#include "snap/snap_freeze.h"
#include "snap/snap_group.h"
#include "snap/snap_sched.h"
#include "snap/snap_send.h"
#include "snap/snap_store.h"
#include "snap/snap_tree_io.h"
#include "snap/snap_vol.h"
#include "snap/snap_watch.h"

#define SNAP_CONT_TICK_MS   100 /* cycles start within this of due */
/* dirty_bytes measured this often: each measure writes the source's dirty
 * pages back (snap_cd_dirty), so not at every tick. */
#define SNAP_CONT_DIRTY_MS  500
#define SNAP_CONT_IO_MS     5000 /* each connect, read or write to a peer */
#define SNAP_CONT_QMAX      64   /* alarm jobs queued */
#define SNAP_CONT_TRIES     3    /* passes over a source that changed */
#define SNAP_CONT_BACKOFF   1000
#define SNAP_CONT_BACKOFF_X 8000

enum snap_cont_res {
	SNAP_CR_OK,      /* created, every peer acknowledged */
	SNAP_CR_PARTIAL, /* created, some peer failed */
	SNAP_CR_FAILED,  /* not created (or the child died) */
	SNAP_CR_TIMEOUT, /* killed at cycle_timeout */
	SNAP_CR_REPLICA, /* skipped: the volume is a replica on this node */
	SNAP_CR__COUNT,
};

static const char *const snap_cont_res_names[SNAP_CR__COUNT] = { "ok",
	"partial", "failed", "timeout", "replica" };

struct snap_cont_peer {
	char addr[64];
	struct sockaddr_storage ss;
	struct snap_rpo rpo;
	char ack_id[SNAP_NAME_MAX + 1]; /* newest acknowledged */
	uint64_t ship_ms;               /* of the last attempt */
	uint64_t ok, failed;
	char error[256];
	bool cycle_ok; /* in the running cycle */
};

struct snap_cont_vol {
	struct snap_cont *owner; /* borrowed: the object holding this volume */
	char *name, *source;     /* owned */
	struct snap_retain_policy retain;
	char **freeze; /* owned: mount points, NULL-terminated */
	size_t nfreeze;
	char **pre_hook, **post_hook; /* owned: argv, or NULL */
	uint64_t freeze_timeout_ms, hook_timeout_ms;
	char *group; /* owned, or NULL */
	/* A group runs as one cycle, its leader's (its first volume's):
	   the leader's pid, pipe and timer serve every member. */
	size_t leader;   /* index in owner->v: itself, or its group's first */
	size_t *members; /* owned, on a leader: indexes in owner->v, itself
	                    first; nmembers */
	size_t nmembers;
	uint64_t rpo_target_ms, timeout_ms;
	struct snap_sched sched;
	struct snap_cont_peer *peers; /* owned: npeers */
	size_t npeers;
	pid_t pid; /* of the running cycle, or 0 */
	int pfd;   /* its pipe's read end, or -1 */
	struct ev_io io;
	struct ev_timer kill;
	bool killed;
	struct buf out; /* the child's lines */
	char cycle_id[SNAP_NAME_MAX + 1];
	uint64_t cycle_capture_ms;
	char last_id[SNAP_NAME_MAX + 1];
	uint64_t last_capture_ms;
	enum snap_cd_kind detect; /* the method asked for (an image's) */
	int detect_conf;          /* as configured: SNAP_CONF_DETECT_* too */
	/* owned, or NULL: the watcher of a directory source (detect
	   inotify, or auto on a directory) */
	struct snap_watch *watch;
	/* owned: the dirty set taken for the running (or last) cycle; the
	   cycle's child reads its fork's copy */
	struct snap_dirty taken;
	uint32_t dirty_paths;      /* trigger; 0: off */
	uint64_t last_dirty;       /* dirty paths the last snapshot used */
	char last_note[200];       /* why it walked the whole tree, or "" */
	uint64_t dirty_bytes;      /* trigger; 0: off */
	uint64_t dirty_now;        /* the last estimate (snap_cd_dirty) */
	int dirty_err;             /* its -errno, 0 when it was measured */
	uint64_t dirty_checked_ms; /* when (monotonic) */
	bool replica_here; /* demoted here (snap_vol.h): cycles are skipped */
	char last_detect[16];      /* the one the last snapshot used */
	uint64_t last_read_chunks; /* chunks it read */
	uint64_t last_reused;      /* chunks it took from its parent */
	char error[384];           /* of the last cycle; "" when it was ok */
	uint64_t results[SNAP_CR__COUNT];
	uint64_t pruned;
};

/*
 * The continuous replication of one snap plane: owned by the plane's state
 * (snap_plane.c), made by snap_cont_new, released by snap_cont_free. Its
 * volumes point back at it (owner), and every timer and I/O callback gets
 * its volume or the object itself as arg: no file-scope state.
 */
struct snap_cont {
	struct ev_loop *loop; /* borrowed: the plane's */
	char *store;          /* owned */
	uint8_t psk[SNAP_PROTO_PSK_LEN];
	struct snap_cont_vol *v; /* owned: nv */
	size_t nv;
	struct hook_alarm_conf alarm; /* strings owned */
	struct hook_runner *hooks;    /* owned */
	struct ev_timer tick;
	uint64_t events[2]; /* crossed, recovered */
};

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

/* ---- the child ---- */

static void
snap_cont_say(int fd, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	(void)util_write_all(fd, line, (size_t)n);
}

/* Keep what the volume's retention policy keeps, and every peer's newest
 * acknowledged snapshot. */
static void
snap_cont_prune(
    struct snap_store *s, const struct snap_cont_vol *v, size_t vi, int fd)
{
	const char **hold = xcalloc(v->npeers + 1, sizeof(*hold));
	size_t del = 0;

	for (size_t p = 0; p < v->npeers; p++)
		hold[p] = v->peers[p].ack_id;
	if (snap_prune(s, v->name, &v->retain, (int64_t)(util_wall_ms() / 1000),
	        hold, v->npeers, false, NULL, NULL, &del) == 0)
		snap_cont_say(fd, "G %zu %zu", vi, del);
	free(hold);
}

/* What one capture measured, for the parent (the C line). */
struct snap_cont_shot {
	uint64_t capture_ms;
	char detect[16]; /* the change detection used */
	uint64_t read_chunks, reused;
	uint64_t dirty; /* a tree's dirty paths */
	char note[200]; /* why change detection fell back, or "" */
};

/*
 * Snapshot the source in one pass during which it did not change (its
 * size, mtime and ctime the same before and after the read pass, which
 * snap_create checks with `unchanged`: nothing is published otherwise),
 * so the snapshot is a state the source really had, not a mix of two.
 * Tried SNAP_CONT_TRIES times.
 */
static int
snap_cont_capture(struct snap_store *s, const struct snap_cont_vol *v,
    const struct snap_create_opts *co, struct snap_manifest *m,
    struct snap_cont_shot *shot, char *err, size_t errlen)
{
	struct snap_create_opts o = *co;
	struct snap_create_stats cs;
	int e = -EAGAIN;

	o.unchanged = true;
	o.detect = v->detect;
	o.dirty = v->watch != NULL ? &v->taken : NULL;
	for (int i = 0; i < SNAP_CONT_TRIES && e == -EAGAIN; i++)
		e = snap_create(s, &o, m, &cs, err, errlen);
	if (e == 0) {
		shot->capture_ms = cs.captured_ms;
		snprintf(shot->detect, sizeof(shot->detect), "%s",
		    cs.detect != NULL ? cs.detect : "-");
		shot->read_chunks = cs.read_chunks;
		shot->reused = cs.reused;
		shot->dirty = cs.dirty;
		snprintf(shot->note, sizeof(shot->note), "%s", cs.detect_note);
		return 0;
	}
	if (e == -EAGAIN)
		snprintf(err, errlen,
		    "%s changed during each of %d passes (no consistent "
		    "snapshot)",
		    v->source, SNAP_CONT_TRIES);
	return e;
}

/* What a group capture needs to find each member and its shot. */
struct snap_cont_cap {
	const struct snap_cont_vol *leader; /* borrowed */
	struct snap_cont_shot *shot;        /* borrowed: nmembers */
};

/* snap_cont_capture inside a group (its hooks and freeze around it). */
static int
snap_cont_group_capture(struct snap_store *s, const struct snap_create_opts *co,
    struct snap_manifest *m, struct snap_create_stats *st, void *arg, char *err,
    size_t errlen)
{
	struct snap_cont_cap *c = arg;
	const struct snap_cont_vol *l = c->leader;

	memset(st, 0, sizeof(*st));
	for (size_t k = 0; k < l->nmembers; k++) {
		const struct snap_cont_vol *v = &l->owner->v[l->members[k]];

		if (strcmp(v->name, co->volume) == 0)
			return snap_cont_capture(
			    s, v, co, m, &c->shot[k], err, errlen);
	}
	snprintf(err, errlen, "no volume %s", co->volume);
	return -ENOENT;
}

/*
 * The snapshots of leader l's members, into ms[] and shot[]
 * (nmembers each): a plain capture for a lone volume without freeze or
 * hooks; otherwise a consistency group (snap_group.h) over the members,
 * freezing every mount point any of them names, with the leader's hooks
 * (the config makes a group's hooks and timeouts agree).
 */
static int
snap_cont_snapshot(struct snap_store *s, const struct snap_cont_vol *l,
    struct snap_manifest *ms, struct snap_cont_shot *shot, char *err,
    size_t errlen)
{
	struct snap_create_opts co = { .volume = l->name, .path = l->source };
	struct snap_group_vol *gv = xcalloc(l->nmembers, sizeof(*gv));
	const char *fz[SNAP_FREEZE_MAX];
	struct snap_cont_cap cap = { .leader = l, .shot = shot };
	struct snap_group_opts go = { .vols = gv,
		.nvols = l->nmembers,
		.freeze = fz,
		.pre_hook = l->pre_hook,
		.post_hook = l->post_hook,
		.freeze_timeout_ms = l->freeze_timeout_ms,
		.hook_timeout_ms = l->hook_timeout_ms,
		.capture = snap_cont_group_capture,
		.arg = &cap };
	struct snap_create_stats *st = xcalloc(l->nmembers, sizeof(*st));
	char warn[512];
	int e = 0;

	for (size_t k = 0; k < l->nmembers; k++) {
		const struct snap_cont_vol *v = &l->owner->v[l->members[k]];

		gv[k].volume = v->name;
		gv[k].path = v->source;
		for (size_t i = 0; i < v->nfreeze; i++) {
			bool dup = false;

			for (size_t j = 0; j < go.nfreeze; j++)
				dup = dup || strcmp(fz[j], v->freeze[i]) == 0;
			if (dup)
				continue;
			if (go.nfreeze == SNAP_FREEZE_MAX) {
				snprintf(err, errlen,
				    "more than %d mount points to freeze",
				    SNAP_FREEZE_MAX);
				e = -E2BIG;
				goto out;
			}
			fz[go.nfreeze++] = v->freeze[i];
		}
	}
	if (l->nmembers == 1 && go.nfreeze == 0 && l->pre_hook == NULL &&
	    l->post_hook == NULL) {
		e = snap_cont_capture(s, l, &co, ms, shot, err, errlen);
		goto out;
	}
	e = snap_group_create(s, &go, ms, st, err, errlen, warn, sizeof(warn));
	if (warn[0] != '\0')
		log_warn(
		    "snap cycle", "volume=%s warning=%s", l->name, log_q(warn));
out:
	free(st);
	free(gv);
	return e;
}

/* Ship m to peer i of v and say how it went; vi is v's index. */
static int
snap_cont_ship_one(struct snap_store *s, struct snap_cont_vol *v, size_t vi,
    size_t i, const struct snap_manifest *m, int fd)
{
	struct snap_cont_peer *p = &v->peers[i];
	struct snap_send_opts so = { .timeout_ms = SNAP_CONT_IO_MS };
	struct snap_send_stats st;
	uint64_t t0 = util_mono_ms();
	char err[512];
	int e;

	memcpy(&so.to, &p->ss, sizeof(so.to));
	memcpy(so.psk, v->owner->psk, sizeof(so.psk));
	memset(&st, 0, sizeof(st));
	e = snap_send(s, m, &so, &st, err, sizeof(err));
	if (e == 0)
		snap_cont_say(fd, "P %zu %zu ok %llu", vi, i,
		    (unsigned long long)(util_mono_ms() - t0));
	else
		snap_cont_say(fd, "P %zu %zu err %llu %s", vi, i,
		    (unsigned long long)(util_mono_ms() - t0), err);
	return e;
}

/*
 * Ship m to v's peers, all at once: one process per peer (forked from the
 * cycle, so in its process group, killed with it at cycle_timeout), so a
 * slow or unreachable peer does not hold back the others' lag. Each reports
 * its own line (shorter than PIPE_BUF: written whole); its exit status
 * says whether the peer acknowledged, which the prune then keeps.
 */
static void
snap_cont_ship(struct snap_store *s, struct snap_cont_vol *v, size_t vi,
    const struct snap_manifest *m, int fd)
{
	pid_t *pids = xcalloc(v->npeers + 1, sizeof(*pids));

	for (size_t i = 0; i < v->npeers; i++) {
		pids[i] = v->npeers > 1 ? fork() : -1;
		if (pids[i] == 0)
			_exit(snap_cont_ship_one(s, v, vi, i, m, fd) == 0 ? 0 :
			                                                    1);
		if (pids[i] == -1 &&
		    snap_cont_ship_one(s, v, vi, i, m, fd) == 0)
			snprintf(v->peers[i].ack_id, sizeof(v->peers[i].ack_id),
			    "%s", m->id); /* one peer, or no fork: inline */
	}
	for (size_t i = 0; i < v->npeers; i++) {
		pid_t r;
		int st = 0;

		if (pids[i] <= 0)
			continue;
		while ((r = waitpid(pids[i], &st, 0)) == -1 && errno == EINTR)
			;
		/* Unknown (not reaped here): not counted as acknowledged. */
		if (r == pids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			snprintf(v->peers[i].ack_id, sizeof(v->peers[i].ack_id),
			    "%s", m->id);
	}
	free(pids);
}

/*
 * A volume demoted on this node (its role in the store says replica) is
 * not snapshotted: its snapshots now come from the new primary, and a
 * create would be refused anyway. The cycle says so ("R") instead of
 * failing, and the parent stops judging that volume's lag until a cycle
 * creates again (after a promote).
 */
static bool
snap_cont_replica(struct snap_store *s, const struct snap_cont_vol *l, int fd)
{
	bool any = false;

	for (size_t k = 0; k < l->nmembers; k++) {
		const struct snap_cont_vol *v = &l->owner->v[l->members[k]];
		struct snap_vol vol;
		char err[384];

		if (snap_vol_read(s, v->name, &vol, err, sizeof(err)) == 0 &&
		    vol.role == SNAP_ROLE_REPLICA) {
			snap_cont_say(fd, "R %zu", l->members[k]);
			any = true;
		}
	}
	return any;
}

/* The cycle of leader l (and its group's members). */
static _Noreturn void
snap_cont_child(struct snap_cont_vol *l, int fd)
{
	struct snap_cont *c = l->owner;
	struct snap_manifest *ms = xcalloc(l->nmembers, sizeof(*ms));
	struct snap_cont_shot *shot = xcalloc(l->nmembers, sizeof(*shot));
	struct snap_store *s = NULL;
	char err[512];
	int e;

	if ((e = snap_store_open(c->store, true, &s)) != 0) {
		snap_cont_say(fd, "E %s: %s", c->store, strerror(-e));
		_exit(1);
	}
	if (snap_cont_replica(s, l, fd))
		_exit(0);
	if (snap_cont_snapshot(s, l, ms, shot, err, sizeof(err)) != 0) {
		snap_cont_say(fd, "E %s", err);
		_exit(1);
	}
	for (size_t k = 0; k < l->nmembers; k++)
		snap_cont_say(fd, "C %zu %s %llu %s %llu %llu", l->members[k],
		    ms[k].id, (unsigned long long)shot[k].capture_ms,
		    shot[k].detect, (unsigned long long)shot[k].read_chunks,
		    (unsigned long long)shot[k].reused);
	for (size_t k = 0; k < l->nmembers; k++)
		snap_cont_say(fd, "D %zu %llu %s", l->members[k],
		    (unsigned long long)shot[k].dirty, shot[k].note);
	for (size_t k = 0; k < l->nmembers; k++)
		snap_cont_ship(
		    s, &c->v[l->members[k]], l->members[k], &ms[k], fd);
	for (size_t k = 0; k < l->nmembers; k++) {
		snap_cont_prune(s, &c->v[l->members[k]], l->members[k], fd);
		snap_manifest_fini(&ms[k]);
	}
	snap_store_close(s);
	_exit(0);
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
	case 'P': {
		size_t i;
		unsigned long long ms;
		char what[8];
		int off = 0;
		struct snap_cont_vol *v;
		struct snap_cont_peer *p;

		if (sscanf(line, "P %zu %zu %7s %llu %n", &vi, &i, what, &ms,
		        &off) < 4 ||
		    vi >= c->nv || i >= c->v[vi].npeers)
			break;
		v = &c->v[vi];
		p = &v->peers[i];
		p->ship_ms = ms;
		if (strcmp(what, "ok") == 0) {
			p->ok++;
			p->cycle_ok = true;
			p->error[0] = '\0';
			snprintf(
			    p->ack_id, sizeof(p->ack_id), "%s", v->cycle_id);
			snap_rpo_ack(
			    &p->rpo, v->cycle_capture_ms, util_wall_ms());
		} else {
			p->failed++;
			snprintf(p->error, sizeof(p->error), "%s",
			    off > 0 ? line + off : "");
			snprintf(v->error, sizeof(v->error), "%s: %s", p->addr,
			    p->error);
		}
		break;
	}
	case 'G': {
		unsigned long long n;

		if (sscanf(line, "G %zu %llu", &vi, &n) == 2 && vi < c->nv)
			c->v[vi].pruned += n;
		break;
	}
	}
}

/* A member's result when leader l's cycle ended with status st. */
static void
snap_cont_result(struct snap_cont_vol *v, const struct snap_cont_vol *l, int st)
{
	enum snap_cont_res res;
	bool all = true;

	for (size_t i = 0; i < v->npeers; i++)
		all = all && v->peers[i].cycle_ok;
	if (l->killed) {
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
		res = all ? SNAP_CR_OK : SNAP_CR_PARTIAL;
	}
	v->results[res]++;
	if (snap_sched_end(&v->sched, ev_now_ms(v->owner->loop)))
		log_warn(
		    "snap cycle overran its interval", "volume=%s", v->name);
	if (res != SNAP_CR_OK && res != SNAP_CR_REPLICA)
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
		for (size_t i = 0; i < v->npeers; i++)
			v->peers[i].cycle_ok = false;
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

/* A copy of v[0..n), NULL-terminated; NULL when n is 0. */
static char **
snap_cont_strv_dup(char *const *v, size_t n)
{
	char **out;

	if (n == 0)
		return NULL;
	out = xcalloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static void
snap_cont_strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static void
snap_cont_vols_free(struct snap_cont_vol *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf_fini(&v[i].out);
		free(v[i].peers);
		free(v[i].name);
		free(v[i].source);
		snap_cont_strv_free(v[i].freeze);
		snap_cont_strv_free(v[i].pre_hook);
		snap_cont_strv_free(v[i].post_hook);
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
				        o->peers[q].addr) == 0) {
					struct sockaddr_storage ss =
					    v->peers[p].ss;

					v->peers[p] = o->peers[q];
					v->peers[p].ss = ss;
				}
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
		v->freeze = snap_cont_strv_dup(vc->freeze, vc->nfreeze);
		v->nfreeze = vc->nfreeze;
		v->pre_hook = snap_cont_strv_dup(vc->pre_hook, vc->npre_hook);
		v->post_hook =
		    snap_cont_strv_dup(vc->post_hook, vc->npost_hook);
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

/* A per-volume value for snap_cont_mx_vols; false: no sample. */
typedef bool snap_cont_vol_val_fn(const struct snap_cont_vol *v, uint64_t *x);

static bool
snap_cont_overruns(const struct snap_cont_vol *v, uint64_t *x)
{
	*x = v->sched.overruns;
	return true;
}

static bool
snap_cont_early(const struct snap_cont_vol *v, uint64_t *x)
{
	*x = v->sched.early;
	return true;
}

static bool
snap_cont_dirty_now(const struct snap_cont_vol *v, uint64_t *x)
{
	*x = v->dirty_now;
	return v->dirty_bytes > 0; /* only volumes that measure it */
}

static bool
snap_cont_watch_dirty(const struct snap_cont_vol *v, uint64_t *x)
{
	struct snap_watch_info wi;

	if (v->watch == NULL)
		return false;
	snap_watch_info(v->watch, &wi);
	*x = wi.dirty;
	return true;
}

static bool
snap_cont_watch_overflows(const struct snap_cont_vol *v, uint64_t *x)
{
	struct snap_watch_info wi;

	if (v->watch == NULL)
		return false;
	snap_watch_info(v->watch, &wi);
	*x = wi.overflows;
	return true;
}

/* One metric family with a sample per volume (label volume). */
static void
snap_cont_mx_vols(struct buf *out, struct buf *l, const struct snap_cont *c,
    const char *name, const char *type, const char *help,
    snap_cont_vol_val_fn *val)
{
	uint64_t x;

	mx_family(out, name, type, help);
	for (size_t i = 0; i < c->nv; i++) {
		if (!val(&c->v[i], &x))
			continue;
		buf_reset(l);
		mx_label(l, "volume", c->v[i].name);
		mx_u64(out, name, l->data, x);
	}
}

void
snap_cont_metrics(const struct snap_cont *c, struct buf *out)
{
	uint64_t now = util_wall_ms();
	const struct hook_stats *hs;
	struct buf l;

	if (c == NULL) /* the plane stopped */
		return;
	buf_init(&l);
	mx_family(out, "haven_snap_lag_seconds", "gauge",
	    "now minus the capture time of the newest snapshot the peer "
	    "acknowledged");
	for (size_t i = 0; i < c->nv; i++)
		for (size_t p = 0; p < c->v[i].npeers; p++) {
			struct snap_cont_peer *pp = &c->v[i].peers[p];

			buf_reset(&l);
			mx_label(&l, "volume", c->v[i].name);
			mx_label(&l, "peer", pp->addr);
			mx_f64(out, "haven_snap_lag_seconds", l.data,
			    (double)snap_rpo_lag(&pp->rpo, now) / 1000.0);
		}
	mx_family(out, "haven_snap_ship_seconds", "gauge",
	    "duration of the last shipping attempt to the peer");
	for (size_t i = 0; i < c->nv; i++)
		for (size_t p = 0; p < c->v[i].npeers; p++) {
			struct snap_cont_peer *pp = &c->v[i].peers[p];

			buf_reset(&l);
			mx_label(&l, "volume", c->v[i].name);
			mx_label(&l, "peer", pp->addr);
			mx_f64(out, "haven_snap_ship_seconds", l.data,
			    (double)pp->ship_ms / 1000.0);
		}
	mx_family(out, "haven_snap_cycles_total", "counter",
	    "continuous replication cycles, by result");
	for (size_t i = 0; i < c->nv; i++)
		for (int r = 0; r < SNAP_CR__COUNT; r++) {
			buf_reset(&l);
			mx_label(&l, "volume", c->v[i].name);
			mx_label(&l, "result", snap_cont_res_names[r]);
			mx_u64(out, "haven_snap_cycles_total", l.data,
			    c->v[i].results[r]);
		}
	snap_cont_mx_vols(out, &l, c, "haven_snap_cycle_overruns_total",
	    "counter",
	    "cycles that ended after the next was due (it started late)",
	    snap_cont_overruns);
	snap_cont_mx_vols(out, &l, c, "haven_snap_cycles_early_total",
	    "counter", "cycles started before the interval by dirty_bytes",
	    snap_cont_early);
	snap_cont_mx_vols(out, &l, c, "haven_snap_dirty_bytes", "gauge",
	    "bytes of the source changed since its last snapshot, as last "
	    "measured (volumes with dirty_bytes)",
	    snap_cont_dirty_now);
	snap_cont_mx_vols(out, &l, c, "haven_snap_watch_dirty_paths", "gauge",
	    "paths of a directory source changed since its last snapshot "
	    "(inotify)",
	    snap_cont_watch_dirty);
	snap_cont_mx_vols(out, &l, c, "haven_snap_watch_overflows_total",
	    "counter",
	    "inotify queue overflows (the next snapshot walks the whole tree)",
	    snap_cont_watch_overflows);
	mx_family(out, "haven_snap_rpo_events_total", "counter",
	    "peers' lag crossing rpo_target, and recovering");
	buf_reset(&l);
	mx_label(&l, "event", "exceeded");
	mx_u64(out, "haven_snap_rpo_events_total", l.data, c->events[0]);
	buf_reset(&l);
	mx_label(&l, "event", "recovered");
	mx_u64(out, "haven_snap_rpo_events_total", l.data, c->events[1]);
	if (c->hooks != NULL) {
		hs = hook_stats(c->hooks);
		mx_family(out, "haven_snap_alarm_hooks_total", "counter",
		    "RPO alarm hook jobs, by outcome");
		buf_reset(&l);
		mx_label(&l, "result", "ok");
		mx_u64(out, "haven_snap_alarm_hooks_total", l.data, hs->ok);
		buf_reset(&l);
		mx_label(&l, "result", "failed");
		mx_u64(out, "haven_snap_alarm_hooks_total", l.data, hs->failed);
		buf_reset(&l);
		mx_label(&l, "result", "dropped");
		mx_u64(
		    out, "haven_snap_alarm_hooks_total", l.data, hs->dropped);
	}
	buf_fini(&l);
}

void
snap_cont_json(const struct snap_cont *c, struct jw *w)
{
	uint64_t now = util_wall_ms();

	jw_key(w, "continuous");
	jw_arr_begin(w);
	for (size_t i = 0; c != NULL && i < c->nv; i++) {
		struct snap_cont_vol *v = &c->v[i];

		jw_obj_begin(w);
		jw_kstr(w, "volume", v->name);
		jw_kstr(w, "group", v->group != NULL ? v->group : "");
		jw_kuint(w, "interval_ms", v->sched.interval_ms);
		jw_kuint(w, "rpo_target_ms", v->rpo_target_ms);
		jw_kbool(w, "running", v->sched.running);
		jw_kuint(w, "cycles", v->sched.cycles);
		jw_kuint(w, "overruns", v->sched.overruns);
		jw_kuint(w, "pruned", v->pruned);
		jw_kstr(w, "last_id", v->last_id);
		jw_kuint(w, "last_time_ms", v->last_capture_ms);
		jw_kstr(w, "detect",
		    v->detect_conf == SNAP_CONF_DETECT_INOTIFY ?
		        "inotify" :
		        snap_cd_kind_name(v->detect));
		jw_kstr(w, "last_detect", v->last_detect);
		jw_kstr(w, "last_detect_note", v->last_note);
		jw_kuint(w, "last_dirty_paths", v->last_dirty);
		jw_kuint(w, "dirty_paths_trigger", v->dirty_paths);
		if (v->watch != NULL)
			snap_watch_json(v->watch, w);
		jw_kuint(w, "last_read_chunks", v->last_read_chunks);
		jw_kuint(w, "last_reused_chunks", v->last_reused);
		jw_kuint(w, "dirty_trigger", v->dirty_bytes);
		jw_kuint(w, "dirty_bytes", v->dirty_now);
		jw_kstr(w, "dirty_error",
		    v->dirty_err != 0 ? strerror(-v->dirty_err) : "");
		jw_kuint(w, "early_cycles", v->sched.early);
		jw_kbool(w, "replica_here", v->replica_here);
		jw_kstr(w, "last_error", v->error);
		jw_key(w, "results");
		jw_obj_begin(w);
		for (int r = 0; r < SNAP_CR__COUNT; r++)
			jw_kuint(w, snap_cont_res_names[r], v->results[r]);
		jw_obj_end(w);
		jw_key(w, "peers");
		jw_arr_begin(w);
		for (size_t p = 0; p < v->npeers; p++) {
			struct snap_cont_peer *pp = &v->peers[p];

			jw_obj_begin(w);
			jw_kstr(w, "peer", pp->addr);
			jw_kstr(w, "acked_id", pp->ack_id);
			jw_kuint(w, "acked_time_ms",
			    pp->rpo.acked ? pp->rpo.ack_capture_ms : 0);
			jw_kuint(w, "last_ack_ms",
			    pp->rpo.acked ? pp->rpo.ack_at_ms : 0);
			jw_kuint(w, "lag_ms", snap_rpo_lag(&pp->rpo, now));
			jw_kbool(w, "rpo_exceeded", pp->rpo.over);
			jw_kuint(w, "ship_ms", pp->ship_ms);
			jw_kuint(w, "ok", pp->ok);
			jw_kuint(w, "failed", pp->failed);
			jw_kstr(w, "last_error", pp->error);
			jw_obj_end(w);
		}
		jw_arr_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static char *snap_cont_at(struct conf_node *n, const char *path);

/* The `haven status` line of a tree's dirty set, when it has a watcher. */
static void
snap_cont_watch_status(struct conf_node *v)
{
	char *ldet, *note, *ld, *run, *dirty, *why, *ovf;

	if (conf_node_at(v, "/watch") == NULL)
		return;
	ldet = snap_cont_at(v, "/last_detect");
	note = snap_cont_at(v, "/last_detect_note");
	ld = snap_cont_at(v, "/last_dirty_paths");
	run = snap_cont_at(v, "/watch/running");
	dirty = snap_cont_at(v, "/watch/dirty");
	why = snap_cont_at(v, "/watch/unknown");
	ovf = snap_cont_at(v, "/watch/overflows");
	printf("    inotify %s, %s dirty now%s%s%s, %s overflows; last "
	       "snapshot: %s",
	    strcmp(run, "true") == 0 ? "watching" : "NOT watching", dirty,
	    strcmp(why, "-") != 0 ? " (unknown: " : "",
	    strcmp(why, "-") != 0 ? why : "", strcmp(why, "-") != 0 ? ")" : "",
	    ovf, strcmp(ldet, "inotify") == 0 ? "dirty set" : "full walk");
	if (strcmp(ldet, "inotify") == 0)
		printf(", %s paths\n", ld);
	else
		printf("%s%s\n", strcmp(note, "-") != 0 ? ": " : "",
		    strcmp(note, "-") != 0 ? note : "");
	free(ldet);
	free(note);
	free(ld);
	free(run);
	free(dirty);
	free(why);
	free(ovf);
}

static char *
snap_cont_at(struct conf_node *n, const char *path)
{
	struct conf_node *v = conf_node_at(n, path);
	char *t = v != NULL ? conf_node_text(v) : NULL;

	if (t == NULL || t[0] == '\0') {
		free(t);
		return xstrdup("-");
	}
	return t;
}

void
snap_cont_status(struct conf_node *root)
{
	struct conf_node *vols = conf_node_at(root, "/continuous");

	for (size_t i = 0; i < conf_node_count(vols); i++) {
		struct conf_node *v = conf_node_item(vols, i);
		struct conf_node *peers = conf_node_at(v, "/peers");
		char *name = snap_cont_at(v, "/volume");
		char *id = snap_cont_at(v, "/last_id");
		char *err = snap_cont_at(v, "/last_error");
		char *ovr = snap_cont_at(v, "/overruns");
		char *det = snap_cont_at(v, "/detect");
		char *ldet = snap_cont_at(v, "/last_detect");
		char *rd = snap_cont_at(v, "/last_read_chunks");
		char *ru = snap_cont_at(v, "/last_reused_chunks");
		char *rep = snap_cont_at(v, "/replica_here");

		printf("  continuous %-16s newest %s, overruns %s%s%s\n", name,
		    id, ovr, strcmp(err, "-") != 0 ? ", last error: " : "",
		    strcmp(err, "-") != 0 ? err : "");
		/* The change detection asked for, and what the last
		 * snapshot used (auto resolves per file system). */
		printf("    detect %s (last: %s, %s chunks read, %s reused)\n",
		    det, ldet, rd, ru);
		snap_cont_watch_status(v);
		if (strcmp(rep, "true") == 0)
			printf("    replica on this node (demoted): cycles "
			       "skipped until a promote\n");
		free(rep);
		free(det);
		free(ldet);
		free(rd);
		free(ru);
		for (size_t p = 0; p < conf_node_count(peers); p++) {
			struct conf_node *pn = conf_node_item(peers, p);
			char *a = snap_cont_at(pn, "/peer");
			char *lag = snap_cont_at(pn, "/lag_ms");
			char *ship = snap_cont_at(pn, "/ship_ms");
			char *over = snap_cont_at(pn, "/rpo_exceeded");

			printf("    -> %-22s lag %s ms, last ship %s ms%s\n", a,
			    lag, ship,
			    strcmp(over, "true") == 0 ? ", RPO EXCEEDED" : "");
			free(a);
			free(lag);
			free(ship);
			free(over);
		}
		free(name);
		free(id);
		free(err);
		free(ovr);
	}
}
