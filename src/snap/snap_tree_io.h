/*
 * snap_tree_io.h - directory tree snapshots against the file system and
 * the store: create (snap_tree_create.c), restore, diff and the damage
 * reports of verify (snap_tree_restore.c). The index format is in
 * snap_tree.h, the manifest's tree kind in snap_manifest.h.
 *
 * The generic operations (snap.h) dispatch here: snap_create when its
 * path is a directory, snap_restore when the manifest is a tree, so
 * everything built on them (demote --from, continuous cycles, promote
 * --to) takes trees as they are.
 */
#ifndef HAVEN_SNAP_TREE_IO_H
#define HAVEN_SNAP_TREE_IO_H

#include <stdbool.h>
#include <stdio.h>

#include "snap/snap.h"
#include "snap/snap_tree.h"

/* True when path is (or, as a symlink, leads to) a directory. */
bool snap_tree_is_dir(const char *path);

/*
 * Snapshot the directory o->path (see snap_create; o->chunk_size is not
 * used: file data is cut by content, snap_cdc.h). A directory that is the
 * store itself is left out; sockets, FIFOs and devices are skipped.
 */
int snap_tree_create(struct snap_store *s, const struct snap_create_opts *o,
    struct snap_manifest *m, struct snap_create_stats *st, char *err,
    size_t errlen);

/*
 * Read, prove and parse tree m's index into *t (the caller finis it) and
 * check it against m. -EBADMSG / -ENOENT on damage, with why in err.
 */
int snap_tree_load(struct snap_store *s, const struct snap_manifest *m,
    struct snap_tree *t, char *err, size_t errlen);

/*
 * Recreate tree m as the directory outdir, which must not exist (or be
 * an empty directory): everything is written into a temp directory
 * beside it, never following a symlink, and renamed to outdir only when
 * every chunk passed its checks. Modes, mtimes, symlinks, hard links and
 * user.* xattrs always; ownership and the other xattr namespaces when
 * run as root.
 */
int snap_tree_restore(struct snap_store *s, const struct snap_manifest *m,
    const char *outdir, char *err, size_t errlen);

/*
 * Where chunk k of tree m is used, for a damage report: "file PATH (data
 * chunk J of N)" or "tree index chunk K" into out.
 */
void snap_tree_where(struct snap_store *s, const struct snap_manifest *m,
    uint64_t k, char *out, size_t outlen);

struct snap_tree_diff_stats {
	uint64_t added, removed, changed, meta;
};

/*
 * The paths that differ from tree a to tree b, one per line to out:
 * "added P", "removed P", "changed P" (data or type), "meta P" (mode,
 * owner, mtime, xattrs or link target only). Paths are printed with
 * C escapes for bytes outside printable ASCII and for backslash.
 */
int snap_tree_diff(struct snap_store *s, const struct snap_manifest *a,
    const struct snap_manifest *b, FILE *out, struct snap_tree_diff_stats *st,
    char *err, size_t errlen);

#endif
