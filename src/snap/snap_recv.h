/*
 * snap_recv.h - one replication session on the receiving side, past the
 * handshake: the frames of snap_proto.h in, the reply frames out, the
 * store changed in between. No sockets: the snap plane (snap_plane.c)
 * feeds it the frames it opened and seals what it appends.
 *
 * Invariants:
 * - WANT names only chunks the store lacks, so a session that died and
 *   is run again is asked only for what the first one did not store.
 * - A CHUNK is taken only when it was wanted and not yet received, its
 *   frame passes XXH3-128 and its plaintext's SHA-256 is its ID; it is
 *   then stored through snap_store_chunk_put (temp + rename, durable at
 *   the next sync, at least every SNAP_RECV_SYNC_BYTES).
 * - The manifest is published only on COMMIT, after every wanted chunk
 *   arrived, the chunks are synced and every chunk it names is present.
 *   A session that ends any other way publishes nothing; snap_recv_fini
 *   still syncs the chunks it took, so a re-run need not send them again
 *   (gc drops them if no snapshot ever names them).
 * - The store's shared lock is held from OFFER to the end, so gc cannot
 *   remove a chunk WANT counted as present before the publish; so is the
 *   volume's lock (snap_vol.h), so one session at a time changes a volume
 *   and its role cannot change under it.
 * - Roles and lineage (snap_manifest.h): a volume that is primary here is
 *   refused (ROLE). An offer that descends from this node's head moves
 *   the head; an older snapshot of the same lineage is stored without
 *   moving it; anything else is DIVERGED unless the sender set FORCE,
 *   and then, at COMMIT, every local snapshot outside the offered lineage
 *   is moved to <volume>.diverged-<time> before the publish. The first
 *   snapshot received makes the volume a replica here.
 */
#ifndef HAVEN_SNAP_RECV_H
#define HAVEN_SNAP_RECV_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "snap/snap_manifest.h"
#include "snap/snap_proto.h"
#include "snap/snap_standby.h"
#include "snap/snap_store.h"
#include "snap/snap_vol.h"

/* Chunks are synced (renamed into place) every this many frame bytes. */
#define SNAP_RECV_SYNC_BYTES (8u << 20)

enum snap_recv_state {
	SNAP_RECV_OFFER,  /* waiting for OFFER */
	SNAP_RECV_CHUNKS, /* WANT sent: CHUNKs, then COMMIT */
	SNAP_RECV_DONE,   /* OK sent: published */
	SNAP_RECV_FAILED, /* ERR sent */
};

struct snap_recv {
	const char *root; /* borrowed: the store directory */
	enum snap_recv_state state;
	struct snap_store *store; /* owned; NULL until OFFER */
	struct snap_manifest m;   /* the offered snapshot */
	bool have_m;
	bool exists;         /* the same snapshot is already published */
	int volfd;           /* the volume's lock; -1 until OFFER */
	struct snap_vol vol; /* its state, read under that lock */
	bool advance;        /* the offer becomes the head */
	bool diverged;       /* FORCE: set the others aside at COMMIT */
	char aside[SNAP_NAME_MAX + 64]; /* what was set aside, for OK */
	struct snap_id *want;           /* owned: sorted, distinct */
	uint8_t *got;                   /* owned: one flag per want */
	size_t nwant, ngot;
	uint8_t *raw;                  /* owned: one chunk's plaintext */
	uint64_t chunks, bytes;        /* CHUNKs stored, their frames' bytes */
	uint64_t unsynced;             /* frame bytes since the last sync */
	char err[SNAP_PROTO_TEXT_MAX]; /* why it failed */
	/* Standby images (snap_standby.h): the set is borrowed from the
	   plane (it stays put; its contents change only between loop
	   iterations). A COMMIT that moves the head of a volume with one
	   sets standby_kick, for the plane to start the apply, and says so
	   in standby_note, which the OK text carries. */
	const struct snap_standby_set *standby;
	bool standby_kick;
	char standby_note[160];
};

void snap_recv_init(struct snap_recv *r, const char *root);
void snap_recv_fini(struct snap_recv *r);

/*
 * Take one frame; append the reply frame(s) to out. Returns 0 (go on), 1
 * (done: OK appended) or a negative errno (ERR appended, r->err says why,
 * the session is over).
 */
int snap_recv_msg(
    struct snap_recv *r, const struct snap_msg *msg, struct buf *out);

#endif
