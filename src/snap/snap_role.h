/*
 * snap_role.h - failover and failback of a volume: promote a replica,
 * demote a primary (snap_vol.h has the roles, snap_manifest.h the
 * lineage they write).
 *
 * A planned failback runs: demote the current primary with its image (a
 * final snapshot, so nothing written is lost), replicate that snapshot to
 * the old primary (a replica since its own demote), promote it there.
 * After an unplanned failover the old primary's last snapshots may never
 * have left it; its demote keeps them, and the first replication from the
 * new primary is refused as diverged until the operator picks a side
 * (snap_recv.h): nothing is resolved silently.
 */
#ifndef HAVEN_SNAP_ROLE_H
#define HAVEN_SNAP_ROLE_H

#include <stdbool.h>
#include <stdint.h>

#include "snap/snap.h"
#include "snap/snap_vol.h"

struct snap_promote_opts {
	const char *volume;   /* borrowed */
	const char *snapshot; /* borrowed: "ID" to promote; NULL = the head */
	const char *to; /* borrowed: restore the image here first; NULL: no */
	bool inplace;   /* patch o->to in place (snap_restore_onto) */
};

struct snap_promote_result {
	char base[SNAP_NAME_MAX + 1];      /* the snapshot promoted from */
	int64_t base_created;              /* its creation time (unix s) */
	unsigned skipped;                  /* newer snapshots passed over */
	char skipped_why[192];             /* why the last one was */
	struct snap_restore_stats restore; /* of o->to, when given */
	struct snap_manifest head; /* owned: the new generation's first */
};

/*
 * Make volume primary here: choose the head (or o->snapshot) or, when its
 * chunks are not all in the store, the newest ancestor whose are; restore
 * it to o->to (atomically, before anything else changes); then publish a
 * new snapshot of the same content in a new generation and record the
 * role. -EALREADY when the volume is already primary, -ENOENT when no
 * complete snapshot exists. The caller finis r->head.
 */
int snap_promote(struct snap_store *s, const struct snap_promote_opts *o,
    struct snap_promote_result *r, char *err, size_t errlen);

struct snap_demote_opts {
	const char *volume; /* borrowed */
	const char *from;   /* borrowed: the image, for a final snapshot;
	                       NULL: none */
	bool compress;
};

/*
 * Make volume a replica here, after a final snapshot of o->from when
 * given (*final gets it; nchunks 0 and id "" when none: no image, or one
 * unchanged since the head, whose ID is then final->parent). -EALREADY
 * when it is a replica already. The caller finis *final.
 */
int snap_demote(struct snap_store *s, const struct snap_demote_opts *o,
    struct snap_manifest *final, struct snap_create_stats *st, char *err,
    size_t errlen);

#endif
