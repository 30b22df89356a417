/*
 * snap_cd.h - change detection for `snap create`: which chunks of an image
 * must be read and hashed, and which keep their ID from the parent
 * snapshot without a byte being read. One interface, two methods:
 *
 *   rescan   read every chunk and hash it (any file system);
 *   reflink  on a file system with reflinks (XFS, btrfs): FICLONE the live
 *            image into a private point-in-time copy, compare the copy's
 *            FIEMAP extents with those of the copy kept from the previous
 *            snapshot (the baseline), reuse the parent's chunk ID for
 *            every chunk whose extents are all shared at identical
 *            physical offsets, read the rest from the copy, and make the
 *            copy the next baseline once the manifest is published.
 *
 * The reflink method is only an optimisation of the rescan: any doubt
 * falls back to reading. A chunk is reused only when the baseline is
 * provably the image of the parent snapshot (its state file in the store
 * records the snapshot it was taken for and that snapshot's root hash,
 * which must be the parent's, and the baseline still has the inode,
 * size and ctime recorded when it was made: a write to it changes ctime),
 * the chunk covers the same byte range in both images, every extent under
 * it is a plain extent (no UNKNOWN, DELALLOC, ENCODED, ENCRYPTED, INLINE,
 * TAIL, NOT_ALIGNED or UNWRITTEN flag) marked SHARED in both files at the
 * same physical offset, or a hole in both; and the parent's chunk file is
 * still in the store.
 *
 * Files:
 *	<store>/cd/<volume>                  state: which baseline, of which
 *	                                     snapshot (snap_cd_state_*)
 *	<image dir>/.haven-snap/<volume>-<h>.base   the baseline (a reflink
 *	                                     copy; <h> = 8 hex digits of the
 *	                                     SHA-256 of the store's real path)
 * The baseline must be on the image's file system (FICLONE cannot cross
 * file systems), hence beside the image rather than in the store. It holds
 * the blocks the image overwrote since the last snapshot: the space cost
 * is the changed data, not a second image.
 */
#ifndef HAVEN_SNAP_CD_H
#define HAVEN_SNAP_CD_H

#include <sys/stat.h>

#include <linux/fiemap.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "snap/snap_manifest.h"
#include "snap/snap_store.h"

enum snap_cd_kind {
	SNAP_CD_AUTO, /* reflink where FICLONE works, else rescan */
	SNAP_CD_RESCAN,
	SNAP_CD_REFLINK, /* an error where FICLONE does not work */
};

/* "auto", "rescan", "reflink": 0 or -EINVAL. */
int snap_cd_kind_parse(const char *s, enum snap_cd_kind *out);
const char *snap_cd_kind_name(enum snap_cd_kind k);

/*
 * The state file <store>/cd/<volume>: which baseline copy is the image of
 * which snapshot. Its parser (snap_cd_state_parse, pure) takes the file
 * as hostile (fuzz_snap_cd_state): a field that does not parse voids the
 * baseline, and the next snapshot reads every chunk.
 */
#define SNAP_CD_STATE_MAX 8192
struct snap_cd_state {
	char snapshot[SNAP_NAME_MAX + 1];
	char root[SNAP_HEX_LEN + 1];
	uint64_t size;
	uint32_t chunk_size;
	char base[PATH_MAX];
	uint64_t dev, ino;
	int64_t ctime_s, ctime_ns;
};

/* 0, or -EBADMSG (*st zeroed). */
int snap_cd_state_parse(const char *p, size_t len, struct snap_cd_state *st);
void snap_cd_state_format(const struct snap_cd_state *st, struct buf *out);

/*
 * The same record serves another use: <store>/standby/<volume> says which
 * snapshot a replica's standby image holds (snap_standby.h). kind is the
 * store subdirectory, "cd" or "standby"; base is the file described.
 * load: 0, -ENOENT, or -EBADMSG. save: 0 or -errno.
 */
int snap_cd_state_load(const char *root, const char *kind, const char *volume,
    struct snap_cd_state *st);
int snap_cd_state_save(const struct snap_store *s, const char *kind,
    const struct snap_manifest *m, const char *base, const struct stat *sb);
/* The file behind sb is still the one recorded: same inode, size and
 * ctime (any write changes ctime). */
bool snap_cd_state_intact(
    const struct snap_cd_state *st, const struct stat *sb);
/* The record is of m's image: same root hash, size and chunk size. */
bool snap_cd_state_of(
    const struct snap_cd_state *st, const struct snap_manifest *m);

/* One FIEMAP extent, as struct fiemap_extent gives it. */
struct snap_cd_extent {
	uint64_t logical;
	uint64_t physical;
	uint64_t length;
	uint32_t flags; /* FIEMAP_EXTENT_* */
};

/*
 * The pure part. old[0..nold) are the extents of the baseline (an image of
 * old_size bytes), cur[0..ncur) those of the new copy (cur_size bytes),
 * each sorted by logical offset without overlap. Sets bit i of changed
 * (snap_chunker_count(cur_size, chunk_size) bits, LSB first) for every
 * chunk of the new image that may differ from chunk i of the old one, and
 * clears the others. Returns the number of changed chunks, or -EINVAL
 * (changed untouched) for a bad chunk size, a size past SNAP_SIZE_MAX, or
 * extent lists that are unsorted, overlapping, empty-length or overflow:
 * the caller then reads every chunk.
 *
 * Pure (snap_cd_cmp.c): no I/O, no clock, no globals.
 */
int64_t snap_cd_compare(const struct snap_cd_extent *old, size_t nold,
    uint64_t old_size, const struct snap_cd_extent *cur, size_t ncur,
    uint64_t cur_size, uint32_t chunk_size, uint8_t *changed);

/* Flags that make an extent's bytes uncertain: such a range is read. */
#define SNAP_CD_DOUBT_FLAGS                                                    \
	(FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |                      \
	    FIEMAP_EXTENT_ENCODED | FIEMAP_EXTENT_DATA_ENCRYPTED |             \
	    FIEMAP_EXTENT_NOT_ALIGNED | FIEMAP_EXTENT_DATA_INLINE |            \
	    FIEMAP_EXTENT_DATA_TAIL | FIEMAP_EXTENT_UNWRITTEN)

struct snap_cd;

/* A change-detection method (snap_cd.c has the two). */
struct snap_cd_ops {
	const char *name; /* static: "rescan", "reflink" */
	/*
	 * Prepare: set cd->fd to the file to read (the image, or a
	 * point-in-time copy) and, given the parent manifest, the chunks
	 * whose ID is the parent's (cd->reuse). 0 or -errno with err; an
	 * -EOPNOTSUPP or -EXDEV from reflink means "no reflinks here".
	 */
	int (*begin)(struct snap_cd *cd, char *err, size_t errlen);
	/* After m is published: keep what the next snapshot needs. */
	int (*commit)(struct snap_cd *cd, const struct snap_manifest *m);
	/* Release everything; an uncommitted copy is removed. */
	void (*end)(struct snap_cd *cd);
};

extern const struct snap_cd_ops snap_cd_rescan;
extern const struct snap_cd_ops snap_cd_reflink;

struct snap_cd {
	const struct snap_cd_ops *ops;      /* static */
	struct snap_store *store;           /* borrowed */
	const char *volume;                 /* borrowed */
	const char *path;                   /* borrowed: the live image */
	int image_fd;                       /* borrowed: open on path */
	const struct snap_manifest *parent; /* borrowed; NULL = none */
	uint32_t chunk_size;
	int fd;           /* the file to read: image_fd or copy_fd */
	int copy_fd;      /* owned: the point-in-time copy, or -1 */
	bool copy_anon;   /* copy_fd is an unlinked O_TMPFILE */
	char *copy_path;  /* owned: the copy's name until commit renames it */
	char *base_path;  /* owned: where the baseline lives */
	uint8_t *changed; /* owned: bitmap, 1 = read; NULL = read all */
	uint64_t nchunks; /* bits in changed */
	char note[200];   /* why chunks could not be reused, or "" */
};

/*
 * Start change detection for one create of o->path under volume, with
 * the parent manifest (NULL when none) and chunk size. want is the
 * user's choice; AUTO tries reflink and falls back to rescan, recording
 * why in cd->note. After 0, read cd->fd; call snap_cd_reuse per chunk,
 * snap_cd_commit after the publish, snap_cd_end always.
 */
int snap_cd_begin(struct snap_cd *cd, enum snap_cd_kind want,
    struct snap_store *s, const char *volume, const char *path, int image_fd,
    const struct snap_manifest *parent, uint32_t chunk_size, char *err,
    size_t errlen);
/* True when chunk i may take the parent's chunk i ID without a read. */
bool snap_cd_reuse(const struct snap_cd *cd, uint64_t i);
int snap_cd_commit(struct snap_cd *cd, const struct snap_manifest *m);
void snap_cd_end(struct snap_cd *cd);

/*
 * `snap clone`: FICLONE the baseline of m (if the store's state says the
 * baseline is exactly snapshot m and it is intact) into path, through a
 * temp file renamed over it. 0 on success; -errno with the reason in why
 * when it could not (no baseline of m, another file system, no
 * reflinks): the caller then restores instead.
 */
int snap_cd_clone(struct snap_store *s, const struct snap_manifest *m,
    const char *path, char *why, size_t whylen);

/*
 * How many bytes of the image at path differ from the baseline of volume
 * (the store at store, by its path, not opened): the changed chunks
 * times the chunk size, from FIEMAP of both (the image's with
 * FIEMAP_FLAG_SYNC, which writes its dirty pages back: XFS shows a
 * rewritten shared extent only then). For continuous replication's
 * dirty_bytes trigger: two FIEMAP calls, an estimate from above.
 * 0 with *bytes; -ENOENT without a baseline (no reflink snapshot yet),
 * -ESTALE when the baseline changed or is on another file system, or
 * another -errno.
 */
int snap_cd_dirty(
    const char *store, const char *volume, const char *path, uint64_t *bytes);

#endif
