/*
 * snap_retain.h - which snapshots of a volume a retention policy keeps,
 * in the manner of `restic forget --keep-last/--keep-hourly/--keep-daily`:
 *
 *   last N    the N newest snapshots;
 *   hourly H  the newest snapshot of each of the H newest hours (UTC) that
 *             have a snapshot;
 *   daily D   the same with days (UTC).
 *
 * A snapshot is kept when any rule keeps it. Buckets are the hours and
 * days that hold snapshots, not the last H hours before now: a volume that
 * stopped being snapshotted for a week keeps its history instead of losing
 * it all at once. A snapshot dated after now (a clock stepped back) is
 * always kept and fills no bucket. An empty policy (all zero) keeps
 * everything: forgetting must be asked for.
 *
 * Pure: no I/O, no clock, no globals. The caller keeps whatever else it
 * must (snap_cont keeps each peer's newest acknowledged snapshot).
 */
#ifndef HAVEN_SNAP_RETAIN_H
#define HAVEN_SNAP_RETAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct snap_retain_policy {
	uint32_t last, hourly, daily;
};

/*
 * created[0..n) are the snapshots' creation times (unix seconds), oldest
 * first (the order of their IDs). Sets keep[i] for each snapshot kept and
 * returns how many are.
 */
size_t snap_retain_select(const int64_t *created, size_t n,
    const struct snap_retain_policy *p, int64_t now, bool *keep);

/* True when the policy forgets nothing (all zero). */
bool snap_retain_empty(const struct snap_retain_policy *p);

/*
 * The creation time a snapshot ID carries ("20261206T203000.123456Z-..."
 * or "20261206T203000Z-..."): 0 and *t, or -EINVAL when id is not of that
 * form (the caller then reads the manifest's `created`).
 */
int snap_retain_id_time(const char *id, int64_t *t);

#endif
