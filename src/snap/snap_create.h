/*
 * snap_create.h - the parts of snap_create.c its variants share: the
 * directory tree create (snap_tree_create.c) names and places its
 * snapshot exactly as an image's is.
 */
#ifndef HAVEN_SNAP_CREATE_H
#define HAVEN_SNAP_CREATE_H

#include <stddef.h>
#include <stdint.h>

#include "snap/snap.h"
#include "snap/snap_vol.h"

/* A new snapshot ID ("20261206T203000.123456Z-1a2b3c4d") and its time. */
void snap_create_id(char *out, size_t len, int64_t *created);

/*
 * Fill m's parent and lineage for a create of o->volume whose state is
 * vol (the caller holds the store's shared lock and the volume's lock);
 * *p gets the parent's manifest (empty when none; the caller finis it).
 */
int snap_create_lineage(struct snap_store *s, const struct snap_create_opts *o,
    const struct snap_vol *vol, struct snap_manifest *m,
    struct snap_manifest *p, char *err, size_t errlen);

/*
 * Seal m (its root hash), make its chunks durable, publish it and record
 * it as the head of its volume, which is primary here from now on (vol
 * is the state read under the volume's lock, which the caller holds).
 */
int snap_create_publish(struct snap_store *s, struct snap_vol *vol,
    struct snap_manifest *m, char *err, size_t errlen);

#endif
