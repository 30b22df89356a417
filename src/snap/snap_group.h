/*
 * snap_group.h - a consistent snapshot of one or more volumes: a
 * consistency group. In order:
 *
 *   1. the pre hook (if any); failing, it aborts: nothing else runs;
 *   2. every file system in freeze[] is frozen (snap_freeze.h);
 *   3. every volume is snapshotted, all under one ID (the same ID in each
 *      volume's directory of the store, the time of the freeze in it);
 *   4. everything is thawed;
 *   5. the post hook (if any), whenever the pre hook succeeded, with the
 *      result in HAVEN_SNAP_RESULT.
 *
 * All or nothing: when a volume fails, or the freeze outlasted its timeout
 * (the guard thawed while images were read), the snapshots the group had
 * published are deleted. A failing post hook keeps the snapshots; it is
 * reported in warn.
 *
 * Hooks see HAVEN_SNAP_PHASE (pre|post), HAVEN_SNAP_VOLUME and
 * HAVEN_SNAP_SOURCE (space-separated when several), HAVEN_SNAP_FREEZE
 * (mount points, space-separated), HAVEN_SNAP_STORE, HAVEN_SNAP_ID (the
 * group's ID), and in post HAVEN_SNAP_RESULT (ok|failed) and
 * HAVEN_SNAP_ERROR.
 */
#ifndef HAVEN_SNAP_GROUP_H
#define HAVEN_SNAP_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snap/snap.h"

struct snap_group_vol {
	const char *volume; /* borrowed */
	const char *path;   /* borrowed: its image */
};

/*
 * How one volume is snapshotted inside the group: snap_create by default;
 * snap_cont passes its own (it checks that the source did not change).
 */
typedef int snap_group_capture_fn(struct snap_store *s,
    const struct snap_create_opts *co, struct snap_manifest *m,
    struct snap_create_stats *st, void *arg, char *err, size_t errlen);

struct snap_group_opts {
	const struct snap_group_vol *vols; /* borrowed: nvols */
	size_t nvols;
	const char *const *freeze; /* borrowed: nfreeze mount points */
	size_t nfreeze;
	char *const *pre_hook;  /* borrowed: argv, or NULL */
	char *const *post_hook; /* borrowed: argv, or NULL */
	uint64_t freeze_timeout_ms;
	uint64_t hook_timeout_ms;
	bool compress;
	snap_group_capture_fn *capture; /* NULL: snap_create */
	void *arg;                      /* borrowed: capture's */
};

/*
 * Snapshot o's volumes as one group. ms[0..nvols) get the published
 * manifests and st[0..nvols) their stats (the caller finis the
 * manifests); on failure none is published and err says why. A post hook
 * that failed leaves its reason in warn (else warn[0] is NUL).
 */
int snap_group_create(struct snap_store *s, const struct snap_group_opts *o,
    struct snap_manifest *ms, struct snap_create_stats *st, char *err,
    size_t errlen, char *warn, size_t warnlen);

#endif
