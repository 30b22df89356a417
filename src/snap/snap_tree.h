/*
 * snap_tree.h - a directory tree snapshot's file list (the tree index)
 * and its byte encoding.
 *
 * A tree snapshot is a manifest of kind tree (snap_manifest.h): its first
 * `index` chunks hold this index, a canonical byte stream (content-defined
 * chunks too, so a small change to the file list stores a chunk or two),
 * and the rest of its chunk list is every regular file's data chunks,
 * file after file in the index's order; an entry holds the number of its
 * chunks, the manifest their IDs. The chunk IDs are thus written once,
 * and the manifest's root hash covers the index and the data alike.
 *
 * Encoding, integers little-endian:
 *
 *	"HVNTREE1"  u64 count  entry...          (nothing after the last)
 *	entry:  u8 type  u16 plen  path[plen]
 *	  dir, file, symlink:  u32 mode  u32 uid  u32 gid  i64 mtime_ns
 *	  file:     u64 size  u64 nchunks  i64 ctime_ns  u64 ino
 *	  symlink:  u16 tlen  target[tlen]
 *	  hardlink: u16 tlen  target[tlen]      (an earlier file's path)
 *	  dir, file, symlink:  u16 nxattr  { u8 nlen name  u32 vlen value }...
 *
 * Invariants the parser enforces, treating the stream as hostile: the
 * first entry is the root, a dir with the empty path; every other path is
 * relative, '/'-separated, without empty, "." or ".." components or NUL,
 * at most SNAP_TREE_PATH_MAX bytes; paths strictly increase (strcmp), so
 * each appears once; an entry's parent is an earlier dir; a hardlink
 * names an earlier file (a hard-linked group is one file entry, its
 * smallest path, and a hardlink entry per other name); mode is permission
 * bits only (07777); a file of size 0 has no chunks, else between
 * ceil(size / SNAP_CDC_MAX) and size of them; xattr names strictly
 * increase; counts and lengths are bounded before anything is allocated
 * from them. Holes are not recorded (a sparse file comes back dense);
 * sockets, FIFOs and device nodes are not in the index (create skips and
 * counts them).
 *
 * Pure: no I/O, no clock, no globals.
 */
#ifndef HAVEN_SNAP_TREE_H
#define HAVEN_SNAP_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "snap/snap_manifest.h"

#define SNAP_TREE_MAGIC       "HVNTREE1"
#define SNAP_TREE_PATH_MAX    4095 /* PATH_MAX - 1 */
#define SNAP_TREE_ENTRIES_MAX (1u << 24)
#define SNAP_TREE_XATTRS_MAX  1024
#define SNAP_TREE_XNAME_MAX   255          /* XATTR_NAME_MAX */
#define SNAP_TREE_XVALUE_MAX  65536        /* XATTR_SIZE_MAX */
#define SNAP_TREE_INDEX_MAX   (1ull << 32) /* bytes of an index stream */

enum snap_tree_type {
	SNAP_TREE_DIR = 1,
	SNAP_TREE_FILE = 2,
	SNAP_TREE_SYMLINK = 3,
	SNAP_TREE_HARDLINK = 4,
};

struct snap_tree_xattr {
	char *name;     /* owned: NUL-terminated */
	uint8_t *value; /* owned: len bytes (NULL when 0) */
	uint32_t len;
};

struct snap_tree_entry {
	char *path; /* owned: "" for the root */
	enum snap_tree_type type;
	uint32_t mode; /* & 07777 */
	uint32_t uid, gid;
	int64_t mtime_ns;
	uint64_t size;    /* file */
	uint64_t nchunks; /* file: its data chunks */
	uint64_t first;   /* file: its first data chunk (set by parse) */
	int64_t ctime_ns; /* file: change hints for the next create, */
	uint64_t ino;     /* never restored (snap_tree_create.c) */
	char *target;     /* owned: symlink target or hardlink's file path */
	struct snap_tree_xattr *xattrs; /* owned: nxattrs, names sorted */
	uint32_t nxattrs;
};

struct snap_tree {
	struct snap_tree_entry *e; /* owned: n entries, sorted by path */
	size_t n;
	uint64_t nchunks; /* data chunks of all files */
	uint64_t size;    /* data bytes of all files */
};

void snap_tree_fini(struct snap_tree *t);

/* Append t's encoding to out; t's entries must satisfy the invariants. */
void snap_tree_encode(const struct snap_tree *t, struct buf *out);

/*
 * Parse p[0..len) into *t (the caller finis it), setting each file's
 * first chunk and t's totals. 0, or -EBADMSG with "entry N: reason" in
 * err; *t is then empty. The encoding of what parses is exactly p.
 */
int snap_tree_parse(const uint8_t *p, size_t len, struct snap_tree *t,
    char *err, size_t errlen);

/* t's totals match m's data chunks and size; else -EBADMSG and why. */
int snap_tree_check(const struct snap_tree *t, const struct snap_manifest *m,
    char *err, size_t errlen);

/* The entry with this path, or NULL. */
const struct snap_tree_entry *snap_tree_find(
    const struct snap_tree *t, const char *path);

/*
 * The file whose data holds data chunk k (0 is the first after the
 * index), or NULL when k is past the last. *nth gets k's place in it.
 */
const struct snap_tree_entry *snap_tree_owner(
    const struct snap_tree *t, uint64_t k, uint64_t *nth);

/* Strict path order: strcmp. */
int snap_tree_path_cmp(const char *a, const char *b);

#endif
