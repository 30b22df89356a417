/*
 * snap_manifest.h - a snapshot: the manifest that lists an image's chunks.
 *
 * A manifest is a text file, one field per line, in this order and no
 * other:
 *
 *	haven-snapshot 2
 *	id 20261206T203000Z-1a2b3c4d
 *	parent -                      (or the parent snapshot's ID)
 *	generation <32 hex digits>    (who wrote it: see "Lineage")
 *	seq <n>                       (1 for a root, else the parent's + 1)
 *	history <k>                   (k <= SNAP_HISTORY_MAX)
 *	<32 hex digits> <seq>         (k lines, oldest first)
 *	created <unix seconds>
 *	volume <name>
 *	size <bytes>
 *	chunk_size <bytes>
 *	ids sha256 | keyed-<16 hex>   (what the chunk IDs are: snap_store.h)
 *	chunks <n>
 *	<64 hex digits> | zero        (n lines, chunk 0 first)
 *	root <64 hex digits>
 *	end
 *
 * A directory tree (snap_tree.h) is version 3, the same lines plus two:
 * `kind tree` after `volume`, and `index <k>` after `chunk_size`. Its
 * chunks are variable (content-defined, snap_cdc.h): chunk_size is their
 * maximum, SNAP_CDC_MAX; size is the bytes of file data in the tree; the
 * first k chunks hold the tree index (the file list, snap_tree.h), the
 * rest every regular file's data chunks, file after file in the index's
 * order. There are no zero chunks in a tree. So everything that walks a
 * chunk list (gc, verify, replication, promote) handles a tree as it is,
 * and an older binary refuses a tree manifest by its version instead of
 * misreading it as an image. Images stay version 2, byte for byte.
 *
 * Every manifest is complete (no chunk list refers to the parent's), so a
 * snapshot never depends on another one existing: deleting a parent is
 * always safe. The root hash is SHA-256 over size (u64 LE), chunk_size
 * (u32 LE) and every chunk ID in order (32 zero bytes for a zero chunk);
 * a tree's over "tree", size, chunk_size, k (u64 LE) and its chunk IDs;
 * the parser recomputes it, so a manifest that parses is self-consistent,
 * and `verify` proves the chunks behind it.
 *
 * Lineage (as DRBD's generation identifiers): a generation is the run of
 * snapshots one primary wrote, in order, so within a generation seq alone
 * orders them. A new generation starts where a snapshot's writer changes
 * (`haven snap promote`) or a branch is taken from an older snapshot; the
 * history then records each earlier generation with the seq of its last
 * snapshot in this lineage (the fork point). So snapshot A is B or one of
 * B's ancestors exactly when A's (generation, seq) is B's with a seq no
 * larger, or a history entry of B with a seq no larger
 * (snap_manifest_descends): two stores compare lineages without sharing
 * any snapshot but the ones compared. History keeps the newest
 * SNAP_HISTORY_MAX forks; past that an ancestor looks unrelated, which
 * is reported as divergence (never as a fast-forward).
 *
 * The parser is pure and treats its input as hostile: it never trusts a
 * length or a count (the chunk array grows with the lines actually read and
 * must match both `chunks` and the count `size` implies), rejects anything
 * not in canonical form, and reports the line of the first error.
 */
#ifndef HAVEN_SNAP_MANIFEST_H
#define HAVEN_SNAP_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "snap/snap_id.h"

#define SNAP_MANIFEST_VERSION      2  /* images */
#define SNAP_MANIFEST_VERSION_TREE 3  /* directory trees */
#define SNAP_GEN_HEX               32 /* 128-bit generation ID */
#define SNAP_HISTORY_MAX           32
#define SNAP_IDS_MAX               22 /* "keyed-" + 16 hex digits */

/* An earlier generation of a lineage and the seq of its last snapshot. */
struct snap_gen_point {
	char gen[SNAP_GEN_HEX + 1];
	uint64_t seq;
};

enum snap_kind {
	SNAP_KIND_IMAGE, /* version 2: fixed aligned chunks of one file */
	SNAP_KIND_TREE,  /* version 3: a directory tree (snap_tree.h) */
};

struct snap_manifest {
	char id[SNAP_NAME_MAX + 1];
	char parent[SNAP_NAME_MAX + 1]; /* "" for none ("-" on disk) */
	char generation[SNAP_GEN_HEX + 1];
	uint64_t seq;                                    /* >= 1 */
	struct snap_gen_point history[SNAP_HISTORY_MAX]; /* oldest first */
	uint32_t nhistory;
	int64_t created; /* unix seconds */
	char volume[SNAP_NAME_MAX + 1];
	uint64_t size;
	uint32_t chunk_size;
	char ids[SNAP_IDS_MAX + 1]; /* the store's scheme (snap_store.h) */
	uint64_t nchunks;
	struct snap_id *chunks; /* owned: nchunks IDs; all-zero = zero chunk */
	struct snap_id root;
	enum snap_kind kind;
	uint64_t nindex; /* tree: the first nindex chunks are the index */
};

void snap_manifest_fini(struct snap_manifest *m);

/* m->root from m's size, chunk_size and chunks. */
void snap_manifest_root(const struct snap_manifest *m, struct snap_id *root);

/* Append m's text to out. m->root must be set (snap_manifest_root). */
void snap_manifest_format(const struct snap_manifest *m, struct buf *out);

/*
 * Parse p[0..len) into *m (which the caller then owns and finis). Returns 0,
 * or -EBADMSG with "line N: reason" in err (errlen bytes); *m is then empty.
 */
int snap_manifest_parse(const char *p, size_t len, struct snap_manifest *m,
    char *err, size_t errlen);

/*
 * True when the snapshot (gen, seq) is m itself or one of m's ancestors
 * (see Lineage above).
 */
bool snap_manifest_descends(
    const struct snap_manifest *m, const char *gen, uint64_t seq);

/*
 * Make child's lineage follow parent's: seq one more, and when gen is not
 * the parent's generation, a fork: parent's (generation, seq) appended to
 * the history (the oldest entry dropped when it is full). With parent
 * NULL, a root: seq 1, no history. Sets child->parent and generation.
 */
void snap_manifest_lineage(struct snap_manifest *child,
    const struct snap_manifest *parent, const char *gen);

typedef void snap_manifest_range_fn(uint64_t off, uint64_t len, void *arg);

/*
 * Call fn once per maximal run of chunks that differ between a and b, as a
 * byte range of the larger image; chunks past the end of the shorter image
 * differ. Returns the number of differing chunks, or -EINVAL when the chunk
 * sizes differ or either is a tree (not comparable chunk by chunk; trees
 * compare by file, snap_tree_diff).
 */
int64_t snap_manifest_diff(const struct snap_manifest *a,
    const struct snap_manifest *b, snap_manifest_range_fn *fn, void *arg);

#endif
