/*
 * snap_standby.h - a replica's standby image: a file a receiving node
 * keeps at the volume's newest snapshot, patched as each one arrives
 * (`snap.standby`), so a failover promote has nothing left to write.
 *
 * What the image holds is recorded in <store>/standby/<volume> (the
 * snap_cd_state record: snapshot, root hash, and the image's inode, size
 * and ctime once it was written). The record is believed only while the
 * image is still that inode with that size and ctime: any write to the
 * image changes its ctime, and then the image is compared chunk by chunk
 * by hashing it (snap_restore_onto), never trusted. The record is removed
 * before an image is patched and written again after its fsync, so a
 * crash in between leaves no record, and the next apply or promote hashes.
 *
 * Who writes the image: the snap plane, in a child process after each
 * snapshot received moves the head (snap_standby_run.h), and promote. Both
 * hold <store>/standby/<volume>.lock around it (snap_standby_lock), so a
 * promote waits for an apply in progress and never sees half an image;
 * the apply also holds the store's shared lock, so gc cannot take the
 * chunks it reads. The receiving session does not wait for the apply.
 */
#ifndef HAVEN_SNAP_STANDBY_H
#define HAVEN_SNAP_STANDBY_H

#include <stdbool.h>

#include "snap/snap.h"
#include "snap/snap_manifest.h"
#include "snap/snap_store.h"

/* One `snap.standby[]` entry. */
struct snap_standby_conf {
	char *volume; /* owned */
	char *image;  /* owned: absolute path of the standby image */
};

/*
 * Make image hold m's image: nothing when the record says it does, the
 * chunks that differ from the recorded snapshot's (by ID, no read) when
 * the record holds, the chunks that differ by hash otherwise, a plain
 * restore when there is no image yet. inplace: patch image itself (a
 * standby image nobody runs), else through a temp copy renamed over it
 * (promote's default). The record then names m. The caller holds the
 * volume's lock (snap_vol_lock), so an apply and a promote never overlap.
 */
int snap_standby_put(struct snap_store *s, const struct snap_manifest *m,
    const char *image, bool inplace, struct snap_restore_stats *st, char *err,
    size_t errlen);

/* What the record says of image, for status. */
struct snap_standby_state {
	bool recorded;                    /* a record names image */
	bool intact;                      /* and image still matches it */
	char snapshot[SNAP_NAME_MAX + 1]; /* the snapshot it holds */
	char root[SNAP_HEX_LEN + 1];      /* and that snapshot's root */
};

void snap_standby_state(const struct snap_store *s, const char *volume,
    const char *image, struct snap_standby_state *out);

/* The record holds and image is the volume's head here (by root hash: a
 * promote's new-generation head has its base's chunks). */
bool snap_standby_current(struct snap_store *s, const char *volume,
    const struct snap_standby_state *st);

/* Take volume's standby lock (exclusive), waiting up to wait_ms. 0 with
 * *fd set (close it to unlock), or -errno. */
int snap_standby_lock(
    const struct snap_store *s, const char *volume, int wait_ms, int *fd);

/* What one apply of a volume's head did (snap_standby_apply_head). */
struct snap_standby_result {
	char snapshot[SNAP_NAME_MAX + 1]; /* the head it applied */
	struct snap_restore_stats st;
	char err[192]; /* "" when it worked */
};

/*
 * Open the store at root, take its shared lock and volume's standby lock,
 * and put the volume's head into image (in place). What the snap plane's
 * apply child runs. 0, -EALREADY when there is nothing to apply (no store
 * or no head yet, or the volume is primary here), or -errno; *res is
 * filled either way.
 */
int snap_standby_apply_head(const char *root, const char *volume,
    const char *image, struct snap_standby_result *res);

/* The entry for volume in c[0..n), or NULL. */
const struct snap_standby_conf *snap_standby_find(
    const struct snap_standby_conf *c, size_t n, const char *volume);

/*
 * The receiver's own copy of the list: the config it came from is freed
 * on a reload while sessions still point at the set, which stays put
 * (its contents are swapped between sessions' steps, never during one).
 */
struct snap_standby_set {
	struct snap_standby_conf *v; /* owned, with its strings */
	size_t n;
};

void snap_standby_set_copy(
    struct snap_standby_set *set, const struct snap_standby_conf *c, size_t n);
void snap_standby_set_clear(struct snap_standby_set *set);

#endif
