/*
 * snap_tree_walk.h - the walk state shared by the full tree walk
 * (snap_tree_create.c) and the dirty-set walk (snap_tree_dirty.c), which
 * must build the same index from the same tree: one set of functions
 * makes the entries, groups the hard links and encodes the result.
 * Internal to those two files.
 */
#ifndef HAVEN_SNAP_TREE_WALK_H
#define HAVEN_SNAP_TREE_WALK_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stdbool.h>

#include "snap/snap.h"
#include "snap/snap_cdc.h"
#include "snap/snap_tree.h"

#define SNAP_TREE_DEPTH_MAX 512

/* An entry during the walk, with what the sort and grouping need. */
struct snap_tree_item {
	struct snap_tree_entry e; /* owned fields move to the tree */
	struct snap_id *ids;      /* owned: file's data chunk IDs */
	dev_t dev;
	ino_t ino;
	bool multi; /* a file with more than one link */
	bool read;  /* its data was read (ids, size, nchunks) */
};

/* Files with several links whose data was read: open addressing. */
struct snap_tree_seen {
	struct snap_tree_seen_slot {
		dev_t dev;
		ino_t ino;
		bool used;
	} * v; /* owned: cap slots */
	size_t n, cap;
};

struct snap_tree_walk {
	struct snap_store *s;         /* borrowed */
	struct snap_create_stats *st; /* borrowed */
	struct snap_cdc cdc;
	uint8_t *buf; /* owned: SNAP_TREE_READ_BUF */
	int zlevel;
	struct snap_tree_item *it; /* owned */
	size_t n, cap;
	dev_t store_dev; /* the store's directory: not walked */
	ino_t store_ino;
	struct snap_tree_seen seen;
	struct snap_manifest pm; /* owned: the parent, when a tree */
	struct snap_tree prev;   /* owned: its index (n 0 when none) */
	bool shallow;            /* a directory is recorded, not walked into */
	char path[SNAP_TREE_PATH_MAX + 1];
	char *err; /* borrowed */
	size_t errlen;
};

/* Fail with "PATH: what: strerror(-e)" in w->err; returns e. */
int snap_tree_walk_fail(struct snap_tree_walk *w, int e, const char *what);

/* A zeroed item at the end of w->it (which may move). */
struct snap_tree_item *snap_tree_item_new(struct snap_tree_walk *w);

/* A new item for w->path, of type and stat sb. */
struct snap_tree_item *snap_tree_add(
    struct snap_tree_walk *w, enum snap_tree_type type, const struct stat *sb);

/*
 * Record name in directory dfd, whose path is w->path (depth below the
 * root): a directory's whole subtree unless w->shallow, a file's data
 * read (or taken from the parent when its metadata says so).
 */
int snap_tree_walk_one(
    struct snap_tree_walk *w, int dfd, const char *name, int depth);

/* Sort the items, turn hard-linked names into groups. */
void snap_tree_group(struct snap_tree_walk *w);

/* The items become an encoded index and m's chunk list. */
int snap_tree_build(struct snap_tree_walk *w, struct snap_manifest *m,
    char *err, size_t errlen);

/*
 * The dirty-set walk: every path of d (relative to the parent w->prev)
 * is stat'ed afresh from rootfd (borrowed), the rest copied from the
 * parent's index. 0, or -errno with w->err; -ESTALE (nothing recorded
 * for it) when d names a path no tree could hold: the caller then walks
 * everything.
 */
int snap_tree_dirty_walk(
    struct snap_tree_walk *w, int rootfd, const struct snap_dirty *d);

#endif
