/*
 * snap_store.h - the on-disk chunk store and its snapshots.
 *
 * Layout of a store directory:
 *
 *	<store>/haven-snap-store         "haven-snap-store 1\n": the format,
 *	                                 then for a sealed store "key_file
 *	                                 PATH\n" and "key_id HEX16\n"
 *	                                 (snap_store_mark_parse)
 *	<store>/lock                     flock(2) target, never written
 *	<store>/chunks/ab/abcdef...      one framed chunk per file
 *(snap_frame.h) <store>/snapshots/<volume>/<id>  manifests (snap_manifest.h)
 *
 * Invariants:
 * - A chunk file's name is the SHA-256 of the plaintext its frame holds. It
 *   appears only by rename(2) of a fully written temp file (".tmp.*" in the
 *   same directory) after that file is durable, so a reader sees a whole
 *   chunk or none, a crash never leaves a named chunk with bad bytes (a
 *   later create would deduplicate against it), and an existing chunk is
 *   never rewritten. For speed on real disks, puts are batched: up to
 *   SNAP_BATCH_CHUNKS temp files or SNAP_BATCH_BYTES are written, made
 *   durable by one syncfs(2), then renamed; one sync instead of one fsync
 *   per 64 KiB chunk.
 * - A manifest is published (temp + fsync + rename + fsync of the volume
 *   directory) only after every chunk it names is durable: the chunk
 *   directories it wrote into are fsync'd first.
 * - Locking: create holds LOCK_SH on <store>/lock from its first look at
 *   the chunks until its manifest is published; gc holds LOCK_EX for its
 *   whole run. So gc never runs between a create's "this chunk exists,
 *   skip it" and the publish of the manifest that needs it, and gc sees
 *   every temp file as garbage of a crashed create. flock is released by
 *   the kernel when a holder dies, so a crash leaves no stale lock.
 * - Sealed stores (`haven snap init --key-file F`): the key (32 bytes, in
 *   a file outside the store, readable by its owner only) gives three
 *   subkeys by keyed BLAKE2b: chunk IDs (snap_id_keyed), chunk sealing
 *   (snap_frame.h) and the key_id the marker records, so a wrong key is
 *   refused at open instead of failing every chunk. Manifests say which
 *   IDs they hold (`ids sha256` or `ids keyed-<key_id>`); only stores with
 *   the same key can replicate to each other.
 * - Nothing read from the store is trusted: frames are checked by
 *   snap_frame_decode, the plaintext's SHA-256 against the chunk's name,
 *   manifests by snap_manifest_parse.
 */
#ifndef HAVEN_SNAP_STORE_H
#define HAVEN_SNAP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snap/snap_frame.h"
#include "snap/snap_id.h"
#include "snap/snap_manifest.h"

struct snap_store {
	char *root;                       /* owned: the store directory */
	bool sealed;                      /* it has a key */
	uint8_t id_key[SNAP_FRAME_KEY];   /* sealed: the chunk ID subkey */
	uint8_t seal_key[SNAP_FRAME_KEY]; /* sealed: the frame subkey */
	char ids[SNAP_IDS_MAX + 1];       /* "sha256" or "keyed-<key_id>" */
	int lockfd;                       /* <store>/lock, -1 when not locked */
	struct snap_zctx z;
	uint8_t *fbuf; /* owned: one frame, snap_frame_bound(max chunk) */
	size_t fcap;
	uint8_t dirty[256 / 8]; /* chunk dirs written since the last sync */
	struct snap_id *pend;   /* owned: temp files not yet renamed */
	size_t npend;
	uint64_t pend_bytes;
};

#define SNAP_BATCH_CHUNKS 512
#define SNAP_BATCH_BYTES  (32ull << 20)

/* A snapshot's address in the store. */
struct snap_ref {
	char volume[SNAP_NAME_MAX + 1];
	char id[SNAP_NAME_MAX + 1];
};

/*
 * Open the store at root; with create, make it (and its layout) if it does
 * not exist. -ENOENT when it does not exist, -EINVAL when root is not a
 * store of a format this binary knows; for a sealed store, -ENOKEY when
 * its key file cannot be read (or is open to others) and -EKEYREJECTED
 * when the file holds another key.
 */
int snap_store_open(const char *root, bool create, struct snap_store **out);
/*
 * Make a new sealed store at root (which must not be a store yet) whose
 * key is in key_file (an absolute path, 32 raw bytes or 64 hex digits).
 */
int snap_store_init_sealed(
    const char *root, const char *key_file, char *err, size_t errlen);
/*
 * Parse the marker file: 0 with key_file ("" for a plain store,
 * PATH_MAX bytes) and key_id (17 bytes), or -EINVAL with a reason in err.
 * Pure.
 */
int snap_store_mark_parse(const char *p, size_t len, char *key_file,
    char *key_id, char *err, size_t errlen);
/* The chunk ID of p[0..len) in this store (SHA-256, or keyed). */
void snap_store_id_of(
    const struct snap_store *s, const void *p, size_t len, struct snap_id *id);
/* The seal of chunk id in this store: NULL when it is not sealed. */
const struct snap_frame_seal *snap_store_seal(const struct snap_store *s,
    const struct snap_id *id, struct snap_frame_seal *buf);
void snap_store_close(struct snap_store *s);

/*
 * Take the store lock: shared (create) or exclusive (gc). wait_ms < 0
 * waits for ever; otherwise -EWOULDBLOCK after that long.
 */
int snap_store_lock(struct snap_store *s, bool exclusive, int wait_ms);
void snap_store_unlock(struct snap_store *s);

/* Path of a chunk file; the caller frees it. */
char *snap_store_chunk_path(
    const struct snap_store *s, const struct snap_id *id);
/* 1 when the chunk file exists, 0 when not, or -errno. */
int snap_store_chunk_has(struct snap_store *s, const struct snap_id *id);
/*
 * Store raw[0..len) as chunk id (its SHA-256) unless it exists or is in
 * the pending batch. Returns 1 and *stored (bytes written, frame included)
 * when written, 0 when it was there already, or -errno. The chunk is only
 * in the store after the batch is flushed (snap_store_chunk_sync).
 */
int snap_store_chunk_put(struct snap_store *s, const struct snap_id *id,
    const void *raw, size_t len, int zlevel, uint64_t *stored);
/*
 * Flush the pending batch (syncfs, renames), then fsync every chunk
 * directory written into since the last call.
 */
int snap_store_chunk_sync(struct snap_store *s);
/*
 * Read chunk id into raw (cap bytes) and prove it: frame checks, then the
 * plaintext's SHA-256 must be id. Returns 0 with *len, -ENOENT (missing),
 * -EBADMSG (damaged; *why says how) or another -errno.
 */
int snap_store_chunk_get(struct snap_store *s, const struct snap_id *id,
    void *raw, size_t cap, size_t *len, const char **why);

/* Load and parse a manifest; err gets the reason on -EBADMSG. */
int snap_store_manifest_load(struct snap_store *s, const struct snap_ref *r,
    struct snap_manifest *m, char *err, size_t errlen);
/* Publish m atomically as snapshots/<m->volume>/<m->id>. */
int snap_store_manifest_publish(
    struct snap_store *s, const struct snap_manifest *m);
/*
 * Re-file m under another volume name: published there first, then
 * removed here, so a crash between leaves two copies, never none.
 */
int snap_store_manifest_move(
    struct snap_store *s, const struct snap_manifest *m, const char *volume);
/* Remove a manifest (and fsync its directory). */
int snap_store_manifest_delete(struct snap_store *s, const struct snap_ref *r);

/*
 * Every snapshot (of volume, or of all volumes when NULL), sorted by volume
 * then ID (IDs sort by creation time). *out is owned by the caller.
 */
int snap_store_list(
    struct snap_store *s, const char *volume, struct snap_ref **out, size_t *n);
/*
 * Find a snapshot by "ID" or "VOLUME/ID". -ENOENT when none, -EEXIST when
 * a bare ID names snapshots of several volumes.
 */
int snap_store_find(
    struct snap_store *s, const char *name, struct snap_ref *out);

#endif
