/*
 * snap_recv.c - a replication session on the receiving side (snap_recv.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"
#include "snap/snap_recv.h"

void
snap_recv_init(struct snap_recv *r, const char *root)
{
	memset(r, 0, sizeof(*r));
	r->root = root;
	r->state = SNAP_RECV_OFFER;
	r->volfd = -1;
}

void
snap_recv_fini(struct snap_recv *r)
{
	if (r->store != NULL) {
		/* Chunks taken so far are sound: keep them for a re-run. */
		(void)snap_store_chunk_sync(r->store);
		snap_store_close(r->store);
	}
	snap_vol_unlock(r->volfd);
	if (r->have_m)
		snap_manifest_fini(&r->m);
	free(r->want);
	free(r->got);
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

static int
snap_recv_fail(struct snap_recv *r, struct buf *out, int e, uint16_t code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	snap_msg_err(out, code, r->err);
	r->state = SNAP_RECV_FAILED;
	return e;
}

static int
snap_recv_idcmp(const void *a, const void *b)
{
	return snap_id_cmp(a, b);
}

/*
 * Where the offered snapshot stands against this node's head of the
 * volume (snap_recv.h): a replica follows its sender's lineage, a primary
 * takes nothing, and a head the offer does not descend from is
 * divergence, which only the operator's FORCE resolves.
 */
static int
snap_recv_lineage(
    struct snap_recv *r, const struct snap_msg *msg, struct buf *out)
{
	struct snap_manifest head;
	struct snap_ref ref;
	char perr[160];
	bool older;
	int e;

	if (r->vol.role == SNAP_ROLE_PRIMARY)
		return snap_recv_fail(r, out, -EPERM, SNAP_PROTO_E_ROLE,
		    "volume %s is primary on the receiver: demote it there "
		    "before replicating into it",
		    r->m.volume);
	if (r->vol.head[0] == '\0' ||
	    snap_manifest_descends(&r->m, r->vol.head_gen, r->vol.head_seq)) {
		r->advance = true; /* a fast-forward */
		return 0;
	}
	/* An older snapshot of the same lineage (a re-send) is taken
	 * without moving the head. */
	snprintf(ref.volume, sizeof(ref.volume), "%s", r->m.volume);
	snprintf(ref.id, sizeof(ref.id), "%s", r->vol.head);
	e = snap_store_manifest_load(r->store, &ref, &head, perr, sizeof(perr));
	if (e != 0)
		return snap_recv_fail(r, out, e, SNAP_PROTO_E_STORE,
		    "head %s/%s: %s", ref.volume, ref.id,
		    e == -EBADMSG ? perr : strerror(-e));
	older = snap_manifest_descends(&head, r->m.generation, r->m.seq);
	snap_manifest_fini(&head);
	if (older)
		return 0;
	if (!(msg->flags & SNAP_OFFER_FORCE))
		return snap_recv_fail(r, out, -ESTALE, SNAP_PROTO_E_DIVERGED,
		    "volume %s diverged: the receiver's head %s (seq %" PRIu64
		    ") is not in the lineage of %s; pick a side: replicate "
		    "with --force-diverged (the receiver keeps its own as "
		    "%s.diverged-*), or promote the receiver",
		    r->m.volume, r->vol.head, r->vol.head_seq, r->m.id,
		    r->m.volume);
	r->diverged = true;
	r->advance = true;
	return 0;
}

static int
snap_recv_offer(
    struct snap_recv *r, const struct snap_msg *msg, struct buf *out)
{
	struct snap_manifest old;
	struct snap_ref ref;
	char perr[384];
	size_t n = 0;
	int e;

	if (snap_manifest_parse(msg->manifest, msg->manifest_len, &r->m, perr,
	        sizeof(perr)) != 0)
		return snap_recv_fail(r, out, -EBADMSG, SNAP_PROTO_E_MANIFEST,
		    "manifest: %s", perr);
	r->have_m = true;
	if (strcmp(r->m.volume, msg->volume) != 0 ||
	    strcmp(r->m.id, msg->id) != 0)
		return snap_recv_fail(r, out, -EBADMSG, SNAP_PROTO_E_MANIFEST,
		    "manifest is %s/%s, offered as %s/%s", r->m.volume, r->m.id,
		    msg->volume, msg->id);
	if (r->m.chunk_size > SNAP_FRAME_RAW_MAX)
		return snap_recv_fail(r, out, -EBADMSG, SNAP_PROTO_E_MANIFEST,
		    "chunk size %u too large", r->m.chunk_size);
	if ((e = snap_store_open(r->root, true, &r->store)) != 0)
		return snap_recv_fail(r, out, e, SNAP_PROTO_E_STORE,
		    "store %s: %s", r->root, strerror(-e));
	if (strcmp(r->m.ids, r->store->ids) != 0)
		return snap_recv_fail(r, out, -EBADMSG, SNAP_PROTO_E_MANIFEST,
		    "the snapshot's chunk IDs are %s, this store's %s: the "
		    "stores must share a key (or both have none)",
		    r->m.ids, r->store->ids);
	if ((e = snap_store_lock(r->store, false, 0)) != 0)
		return snap_recv_fail(r, out, e, SNAP_PROTO_E_BUSY,
		    "store %s is locked (gc?)", r->root);
	if ((e = snap_vol_lock(r->store, r->m.volume, 0, &r->volfd, &r->vol,
	         perr, sizeof(perr))) != 0)
		return snap_recv_fail(r, out, e,
		    e == -EWOULDBLOCK ? SNAP_PROTO_E_BUSY : SNAP_PROTO_E_STORE,
		    "%s", perr);
	if ((e = snap_recv_lineage(r, msg, out)) != 0)
		return e;
	snprintf(ref.volume, sizeof(ref.volume), "%s", r->m.volume);
	snprintf(ref.id, sizeof(ref.id), "%s", r->m.id);
	if (snap_store_manifest_load(
	        r->store, &ref, &old, perr, sizeof(perr)) == 0) {
		bool same = memcmp(old.root.b, r->m.root.b, SNAP_ID_LEN) == 0;

		snap_manifest_fini(&old);
		if (!same)
			return snap_recv_fail(r, out, -EEXIST,
			    SNAP_PROTO_E_EXISTS,
			    "%s/%s exists here with another root", ref.volume,
			    ref.id);
		r->exists = true;
	}
	/* Distinct data chunks, then those the store lacks. */
	r->want = xcalloc(r->m.nchunks + 1, sizeof(*r->want));
	for (uint64_t i = 0; i < r->m.nchunks; i++)
		if (!snap_id_is_zero(&r->m.chunks[i]))
			r->want[n++] = r->m.chunks[i];
	qsort(r->want, n, sizeof(*r->want), snap_recv_idcmp);
	r->nwant = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && snap_id_cmp(&r->want[i], &r->want[i - 1]) == 0)
			continue;
		if ((e = snap_store_chunk_has(r->store, &r->want[i])) < 0)
			return snap_recv_fail(r, out, e, SNAP_PROTO_E_STORE,
			    "store: %s", strerror(-e));
		if (e == 0)
			r->want[r->nwant++] = r->want[i];
	}
	r->got = xcalloc(r->nwant + 1, 1);
	r->raw = xmalloc(MAX(r->m.chunk_size, 1u));
	snap_msg_want(out, r->want, (uint32_t)r->nwant);
	r->state = SNAP_RECV_CHUNKS;
	return 0;
}

static int
snap_recv_chunk(
    struct snap_recv *r, const struct snap_msg *msg, struct buf *out)
{
	const struct snap_id *w;
	struct snap_frame_seal seal;
	struct snap_id sum;
	const char *why = NULL;
	uint64_t stored = 0;
	size_t len = 0;
	char hex[SNAP_HEX_LEN + 1];
	int e;

	snap_id_hex(&msg->chunk, hex);
	w = bsearch(
	    &msg->chunk, r->want, r->nwant, sizeof(*r->want), snap_recv_idcmp);
	if (w == NULL || r->got[w - r->want])
		return snap_recv_fail(r, out, -EBADMSG, SNAP_PROTO_E_CHUNK,
		    "chunk %s was not asked for", hex);
	if ((e = snap_frame_decode(&r->store->z, msg->frame, msg->frame_len,
	         snap_store_seal(r->store, &msg->chunk, &seal), r->raw,
	         r->m.chunk_size, &len, &why)) != 0)
		return snap_recv_fail(r, out, -EBADMSG, SNAP_PROTO_E_CHUNK,
		    "chunk %s: %s", hex,
		    why != NULL ? why : "larger than the chunk size");
	snap_store_id_of(r->store, r->raw, len, &sum);
	if (snap_id_cmp(&sum, &msg->chunk) != 0)
		return snap_recv_fail(r, out, -EBADMSG, SNAP_PROTO_E_CHUNK,
		    "chunk %s: content does not match its ID", hex);
	e = snap_store_chunk_put(r->store, &msg->chunk, r->raw, len,
	    (msg->frame[5] & SNAP_FRAME_ZSTD) ? SNAP_ZSTD_LEVEL : 0, &stored);
	if (e < 0)
		return snap_recv_fail(r, out, e, SNAP_PROTO_E_STORE,
		    "chunk %s: %s", hex, strerror(-e));
	r->got[w - r->want] = 1;
	r->ngot++;
	r->chunks++;
	r->bytes += msg->frame_len;
	/* Make progress durable in steps smaller than the store's batch: a
	 * receiver that crashes loses at most this much of a transfer. */
	if ((r->unsynced += msg->frame_len) >= SNAP_RECV_SYNC_BYTES) {
		r->unsynced = 0;
		if ((e = snap_store_chunk_sync(r->store)) != 0)
			return snap_recv_fail(r, out, e, SNAP_PROTO_E_STORE,
			    "sync: %s", strerror(-e));
	}
	return 0;
}

/*
 * FORCE after divergence: every snapshot of the volume that is not in
 * the offered lineage moves to <volume>.diverged-<unix time>, so the
 * losing side's data stays restorable and nothing is deleted.
 */
static int
snap_recv_set_aside(struct snap_recv *r, struct buf *out)
{
	struct snap_ref *refs = NULL;
	char to[SNAP_NAME_MAX + 2], perr[160];
	size_t n = 0, moved = 0;
	int e, len;

	len = snprintf(to, sizeof(to), "%s.diverged-%lld", r->m.volume,
	    (long long)time(NULL));
	if (len < 0 || len > SNAP_NAME_MAX)
		return snap_recv_fail(r, out, -ENAMETOOLONG, SNAP_PROTO_E_STORE,
		    "volume name %s too long to set diverged snapshots aside",
		    r->m.volume);
	if ((e = snap_store_list(r->store, r->m.volume, &refs, &n)) != 0)
		return snap_recv_fail(r, out, e, SNAP_PROTO_E_STORE,
		    "listing %s: %s", r->m.volume, strerror(-e));
	for (size_t i = 0; i < n && e == 0; i++) {
		struct snap_manifest x;

		e = snap_store_manifest_load(
		    r->store, &refs[i], &x, perr, sizeof(perr));
		if (e != 0)
			break;
		if (!snap_manifest_descends(&r->m, x.generation, x.seq)) {
			e = snap_store_manifest_move(r->store, &x, to);
			moved += e == 0;
		}
		snap_manifest_fini(&x);
	}
	free(refs);
	if (e != 0)
		return snap_recv_fail(r, out, e, SNAP_PROTO_E_STORE,
		    "setting diverged snapshots aside: %s",
		    e == -EBADMSG ? perr : strerror(-e));
	snprintf(r->aside, sizeof(r->aside),
	    " (diverged: %zu snapshot(s) kept as %s)", moved, to);
	return 0;
}

static int
snap_recv_commit(struct snap_recv *r, struct buf *out)
{
	char msg[SNAP_PROTO_TEXT_MAX];
	int e;

	if (r->ngot != r->nwant)
		return snap_recv_fail(r, out, -EPROTO, SNAP_PROTO_E_INCOMPLETE,
		    "COMMIT after %zu of %zu chunks", r->ngot, r->nwant);
	if ((e = snap_store_chunk_sync(r->store)) != 0)
		return snap_recv_fail(
		    r, out, e, SNAP_PROTO_E_STORE, "sync: %s", strerror(-e));
	/* The chunks WANT did not ask for must still be there (the lock
	 * keeps gc away; this catches a hand-deleted file). */
	for (uint64_t i = 0; i < r->m.nchunks; i++) {
		if (snap_id_is_zero(&r->m.chunks[i]))
			continue;
		if ((e = snap_store_chunk_has(r->store, &r->m.chunks[i])) != 1)
			return snap_recv_fail(r, out, e < 0 ? e : -ENOENT,
			    SNAP_PROTO_E_STORE, "chunk %" PRIu64 " is missing",
			    i);
	}
	if (r->diverged && (e = snap_recv_set_aside(r, out)) != 0)
		return e;
	if (!r->exists &&
	    (e = snap_store_manifest_publish(r->store, &r->m)) != 0)
		return snap_recv_fail(
		    r, out, e, SNAP_PROTO_E_STORE, "publish: %s", strerror(-e));
	if (r->advance || r->vol.role == SNAP_ROLE_NONE) {
		r->vol.role = SNAP_ROLE_REPLICA;
		r->vol.generation[0] = '\0';
		if (r->advance)
			snap_vol_set_head(&r->vol, &r->m);
		if ((e = snap_vol_write(r->store, r->m.volume, &r->vol)) != 0)
			return snap_recv_fail(r, out, e, SNAP_PROTO_E_STORE,
			    "recording the head: %s", strerror(-e));
	}
	/* The plane starts the apply once the session ends: the sender
	 * does not wait for it (snap_standby_run.h). */
	if (r->advance && r->standby != NULL &&
	    snap_standby_find(r->standby->v, r->standby->n, r->m.volume)) {
		r->standby_kick = true;
		snprintf(r->standby_note, sizeof(r->standby_note),
		    "; standby image: being brought to it");
	}
	snprintf(msg, sizeof(msg), "%s %s/%s%s%s%s",
	    r->exists ? "had" : "published", r->m.volume, r->m.id,
	    r->advance ? "" : " (older than the head, which stays)",
	    r->aside[0] ? r->aside : "", r->standby_note);
	snap_msg_ok(out, msg);
	r->state = SNAP_RECV_DONE;
	return 1;
}

int
snap_recv_msg(struct snap_recv *r, const struct snap_msg *msg, struct buf *out)
{
	if (r->state == SNAP_RECV_OFFER && msg->type == SNAP_MSG_OFFER)
		return snap_recv_offer(r, msg, out);
	if (r->state == SNAP_RECV_CHUNKS && msg->type == SNAP_MSG_CHUNK)
		return snap_recv_chunk(r, msg, out);
	if (r->state == SNAP_RECV_CHUNKS && msg->type == SNAP_MSG_COMMIT)
		return snap_recv_commit(r, out);
	return snap_recv_fail(r, out, -EPROTO, SNAP_PROTO_E_PROTO,
	    "%s frame out of order", snap_msg_name(msg->type));
}
