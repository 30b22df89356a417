/*
 * snap_dirty.h - a dirty set: the paths of a directory tree that changed
 * since one snapshot of it (its base), as an inotify watcher
 * (snap_watch.h) saw them, for a tree create that re-reads only those
 * (snap_tree_dirty.c) and takes everything else from the base's index.
 *
 * A path is relative to the tree's root ("" is the root) and carries
 * flags: SELF, the entry itself changed (content, mode, owner, times,
 * xattrs: re-stat it, keep what the base recorded under it); TREE, the
 * name was created, removed or renamed (forget what the base recorded at
 * and under it, walk it afresh if it exists).
 *
 * A set can be unknown: events were lost (queue overflow), a watch could
 * not be added (the watch limit), the root went away, the watcher
 * restarted, or too many paths piled up. An unknown set holds no paths
 * and says why; its snapshot must walk the whole tree. The first reason
 * is kept: it is the one that mattered.
 *
 * Pure: no I/O, no clock, no globals.
 */
#ifndef HAVEN_SNAP_DIRTY_H
#define HAVEN_SNAP_DIRTY_H

#include <stdbool.h>
#include <stddef.h>

#include "snap/snap_id.h"

#define SNAP_DIRTY_SELF 1u
#define SNAP_DIRTY_TREE 2u

/* Paths kept before a set gives up and becomes unknown. */
#define SNAP_DIRTY_MAX_DEFAULT (1u << 20)

struct snap_dirty_slot {
	char *path; /* owned; NULL = free slot */
	unsigned flags;
};

struct snap_dirty {
	struct snap_dirty_slot *v; /* owned: cap slots (a power of 2) */
	size_t n, cap;
	size_t max;   /* more paths than this: unknown */
	char why[96]; /* "" while known; else why it is unknown */
	/* the snapshot the set is relative to; "" = none yet */
	char base[SNAP_NAME_MAX + 1];
};

/* One path of a set, in snap_dirty_sorted's array. */
struct snap_dirty_path {
	const char *path; /* borrowed from the set */
	unsigned flags;
};

/* An empty, known set without a base; max 0 = SNAP_DIRTY_MAX_DEFAULT. */
void snap_dirty_init(struct snap_dirty *d, size_t max);
void snap_dirty_fini(struct snap_dirty *d);

/*
 * Record path[0..len) (no NUL inside) with flags, or'ed into what it
 * had. A no-op on an unknown set; past max paths the set becomes unknown.
 */
void snap_dirty_add(
    struct snap_dirty *d, const char *path, size_t len, unsigned flags);

/* Drop the paths: the set is unknown because of why (unless it was). */
void snap_dirty_unknown(struct snap_dirty *d, const char *why);

/* Move d's content (paths, why, base) to out (initialised here); d is
 * left empty, known and without a base: it starts over. */
void snap_dirty_take(struct snap_dirty *d, struct snap_dirty *out);

/* The flags recorded for path[0..len), 0 when none. */
unsigned snap_dirty_get(
    const struct snap_dirty *d, const char *path, size_t len);

/*
 * d's paths sorted by strcmp into *out (allocated; the caller frees the
 * array, the strings stay d's). Returns their number.
 */
size_t snap_dirty_sorted(
    const struct snap_dirty *d, struct snap_dirty_path **out);

#endif
