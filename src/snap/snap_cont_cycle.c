/*
 * snap_cont_cycle.c - the child process of a continuous replication cycle
 * (snap_cont_priv.h): snapshot the leader's members, prune, and report
 * every step as one line on the pipe to the plane (the line protocol is in
 * snap_cont.c). It runs in its own process group, which the plane kills
 * at cycle_timeout. It ships nothing: the plane hands each snapshot to the
 * peers' pipelines (snap_cont_ship.c) as soon as its C line arrives.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "snap/snap.h"
#include "snap/snap_cont_priv.h"
#include "snap/snap_create.h"
#include "snap/snap_freeze.h"
#include "snap/snap_group.h"
#include "snap/snap_store.h"
#include "snap/snap_vol.h"

void
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

/*
 * Keep what the volume's retention policy keeps, every peer's newest
 * acknowledged snapshot (its next shipment's parent), and the snapshots
 * the peers' pipelines are shipping or hold waiting, as the plane knew
 * them at the fork: a pipeline takes only those or newer ones (the one
 * this cycle made, the newest, which no policy prunes).
 */
static void
snap_cont_prune(
    struct snap_store *s, const struct snap_cont_vol *v, size_t vi, int fd)
{
	const char **hold = xcalloc(3 * v->npeers + 1, sizeof(*hold));
	size_t n = 0, del = 0;

	for (size_t i = 0; i < v->npeers; i++) {
		const struct snap_cont_peer *p = &v->peers[i];

		hold[n++] = p->ack_id;
		if (p->pipe.busy)
			hold[n++] = p->ship_id;
		if (p->pipe.queued)
			hold[n++] = p->queued_id;
	}
	if (snap_prune(s, v->name, &v->retain, (int64_t)(util_wall_ms() / 1000),
	        hold, n, false, NULL, NULL, &del) == 0)
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
_Noreturn void
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
	for (size_t k = 0; k < l->nmembers; k++) {
		snap_cont_prune(s, &c->v[l->members[k]], l->members[k], fd);
		snap_manifest_fini(&ms[k]);
	}
	snap_store_close(s);
	_exit(0);
}
