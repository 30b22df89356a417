/*
 * snap.h - the operations of `haven snap` over a store (snap_store.h):
 * create (snap_create.c), restore and export (snap_restore.c), verify
 * (snap_verify.c) and gc (snap_gc.c). Each returns 0 or a negative errno
 * and, on failure, a one-line reason in err; what they find along the way
 * (verify's damaged chunks) goes to the report stream.
 *
 * Damage is -EBADMSG (a chunk or manifest fails its checks) or -ENOENT on a
 * chunk a manifest names (it is missing); the CLI maps both to its "damaged
 * data" exit status.
 */
#ifndef HAVEN_SNAP_H
#define HAVEN_SNAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "snap/snap_cd.h"
#include "snap/snap_dirty.h"
#include "snap/snap_manifest.h"
#include "snap/snap_retain.h"
#include "snap/snap_store.h"

struct snap_create_opts {
	const char *volume; /* borrowed */
	const char *path;   /* borrowed: the image file */
	/* borrowed: "ID" or "VOLUME/ID"; NULL = the volume's newest, "" =
	   none (a new generation) */
	const char *parent;
	bool compress;       /* zstd, SNAP_ZSTD_LEVEL, where it saves space */
	uint32_t chunk_size; /* 0 = SNAP_CHUNK_DEFAULT */
	/* borrowed: publish under this ID (a consistency group's, shared by
	   its volumes; snap_group.h) with this creation time; NULL = a fresh
	   ID, now */
	const char *id;
	int64_t created;
	/* Refuse (-EAGAIN, nothing published) when the file's size, mtime
	   or ctime changed while its chunks were read: the snapshot must be
	   a state the file really had (continuous replication). */
	bool unchanged;
	enum snap_cd_kind detect; /* change detection (snap_cd.h) */
	/* borrowed: a tree's changes since dirty->base (snap_dirty.h);
	   NULL, unknown, or another parent: the whole tree is walked */
	const struct snap_dirty *dirty;
};

struct snap_create_stats {
	uint64_t chunks;       /* in the image */
	uint64_t zero;         /* all-zero or holes: not stored */
	uint64_t fresh;        /* chunks written to the store now */
	uint64_t fresh_raw;    /* their plaintext bytes */
	uint64_t fresh_disk;   /* their frames' bytes */
	uint64_t dedup;        /* data chunks the store had already */
	uint64_t read;         /* bytes read from the image */
	uint64_t read_chunks;  /* chunks read and hashed (zero ones too) */
	uint64_t reused;       /* chunks that kept the parent's ID unread */
	const char *detect;    /* static: the method used, "rescan"... */
	char detect_note[200]; /* why chunks were not reused, or "" */
	uint64_t captured_ms;  /* wall clock when the last chunk was read */
	uint64_t skipped;      /* tree: sockets, FIFOs, devices, the store */
	uint64_t dirty;        /* tree: dirty paths the create was given */
	uint64_t vanished;     /* tree: names removed under the walk */
};

/*
 * Snapshot o->path into the store under o->volume; *m gets the published
 * manifest (the caller finis it). Holds the store's shared lock throughout.
 */
int snap_create(struct snap_store *s, const struct snap_create_opts *o,
    struct snap_manifest *m, struct snap_create_stats *st, char *err,
    size_t errlen);

enum snap_restore_mode {
	SNAP_RESTORE_SPARSE, /* zero chunks become holes */
	SNAP_RESTORE_FULL,   /* every byte written ("-" = stdout) */
};

/*
 * Write m's image to path: into a temp file beside it that is renamed over
 * path only when every chunk passed its checks, so path never holds bad
 * data. With SNAP_RESTORE_FULL, path "-" streams to stdout instead (a
 * damaged chunk then stops the stream short). An existing path that is not
 * a regular file (a device, a FIFO, a directory) is refused: -EINVAL.
 */
int snap_restore(struct snap_store *s, const struct snap_manifest *m,
    const char *path, enum snap_restore_mode mode, char *err, size_t errlen);

/*
 * Chunk i of m from the store into buf (m->chunk_size bytes), proven as
 * snap_restore proves it (frame, ID, and its length against its place in
 * the image). 0, or -errno with err naming the chunk, its offset and why.
 */
int snap_restore_chunk_get(struct snap_store *s, const struct snap_manifest *m,
    uint64_t i, uint8_t *buf, char *err, size_t errlen);

struct snap_restore_stats {
	bool delta;       /* path existed: compared chunk by chunk */
	bool cloned;      /* the temp file began as a FICLONE of it */
	bool inplace;     /* patched in place */
	bool known;       /* compared by manifest, no byte read */
	uint64_t kept;    /* chunks already right */
	uint64_t written; /* chunks brought from the store (or zeroed) */
};

struct snap_restore_onto_opts {
	bool inplace; /* patch path itself: no second copy; a crash leaves
	                 <path>.haven-partial and a mix a new restore
	                 finishes */
	/* borrowed, or NULL: the caller vouches that path holds exactly
	   this snapshot's image (snap_standby.c proves it by inode and
	   ctime), so chunks are compared by ID, without reading path */
	const struct snap_manifest *known;
};

/*
 * snap_restore (sparse) onto path when an image is there already: only
 * the chunks that differ from m come from the store (snap_restore_delta.c
 * has the rules). Unless o->inplace, path is replaced atomically as
 * snap_restore does. o and st may be NULL. A missing path or a tree
 * manifest takes plain snap_restore.
 */
/* How a delta restore went, for people: "in place", "by ID against the
 * standby record", ... */
const char *snap_restore_how(const struct snap_restore_stats *st);

int snap_restore_onto(struct snap_store *s, const struct snap_manifest *m,
    const char *path, const struct snap_restore_onto_opts *o,
    struct snap_restore_stats *st, char *err, size_t errlen);

struct snap_verify_stats {
	uint64_t snapshots;     /* manifests checked */
	uint64_t bad_manifests; /* unreadable or inconsistent */
	uint64_t chunks;        /* distinct data chunks read and hashed */
	uint64_t damaged;       /* of those, damaged or missing */
};

/*
 * Check the snapshot only (or every snapshot when NULL): each manifest,
 * and each distinct chunk it names (frame XXH3-128, then SHA-256 against
 * the ID). Every damaged chunk is reported with each place it is used:
 * snapshot, chunk index and byte offset in the image. Returns 0 when all
 * is sound, -EBADMSG when anything was damaged, another -errno on error.
 */
int snap_verify(struct snap_store *s, const struct snap_ref *only, FILE *report,
    struct snap_verify_stats *st, char *err, size_t errlen);

struct snap_gc_stats {
	uint64_t snapshots;  /* manifests read */
	uint64_t referenced; /* distinct chunks they name */
	uint64_t kept;       /* chunk files kept */
	uint64_t deleted;    /* chunk files removed */
	uint64_t freed;      /* their bytes */
	uint64_t temps; /* temp files of crashed writers removed (chunks and
	                   manifests) */
};

/*
 * Remove every chunk file no manifest names, under the store's exclusive
 * lock (waiting up to wait_ms; -EWOULDBLOCK after). Refuses (-EBADMSG)
 * when any manifest cannot be read: its chunks would look unreferenced.
 * dry_run counts without removing.
 */
int snap_gc(struct snap_store *s, bool dry_run, int wait_ms,
    struct snap_gc_stats *st, char *err, size_t errlen);

typedef void snap_prune_fn(const struct snap_ref *r, bool kept, void *arg);

/*
 * Delete the snapshots of volume that policy p (snap_retain.h) does not
 * keep at time now (unix seconds), except the IDs in hold[0..nhold) (a
 * peer's newest acknowledged one). fn, when not NULL, hears each
 * snapshot's fate, in ID order; dry_run deletes nothing. 0 with
 * *deleted, or -errno when the volume cannot be listed.
 */
int snap_prune(struct snap_store *s, const char *volume,
    const struct snap_retain_policy *p, int64_t now, const char *const *hold,
    size_t nhold, bool dry_run, snap_prune_fn *fn, void *arg, size_t *deleted);

#endif
