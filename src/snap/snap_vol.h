/*
 * snap_vol.h - a volume's role on this node, kept in the store.
 *
 * A volume is primary on the node whose image is live (it creates the
 * snapshots, in its own generation) and a replica where its snapshots
 * arrive from a peer. The role decides what the store accepts: a replica
 * refuses `snap create`, a primary refuses incoming snapshots, so two
 * nodes that both believe they are primary cannot overwrite each other
 * (split brain is refused, not merged). `promote` and `demote`
 * (snap_role.c) are the only ways to change it.
 *
 * On disk, <store>/volumes/<volume>/state, one field per line in this
 * order:
 *
 *	haven-volume 1
 *	role primary | replica
 *	generation <32 hex> | -     (the generation a primary writes)
 *	head <snapshot ID> | -      (the newest snapshot of the lineage)
 *	head_generation <32 hex> | -
 *	head_seq <n>                (0 when there is no head)
 *
 * written whole (temp + fsync + rename + fsync of the directory), and
 * <store>/volumes/<volume>/lock, the flock(2) that serialises everything
 * that reads the state and then changes the volume (create, a received
 * snapshot's check and publish, promote, demote). The lock is taken after
 * the store's own lock, never before it.
 *
 * A volume without a state file has no role yet: the first create makes
 * it primary, the first received snapshot a replica. The parser is pure
 * and treats the file as hostile (fuzz_snap_vol).
 */
#ifndef HAVEN_SNAP_VOL_H
#define HAVEN_SNAP_VOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "snap/snap_manifest.h"
#include "snap/snap_store.h"

enum snap_role {
	SNAP_ROLE_NONE,    /* no state file yet */
	SNAP_ROLE_PRIMARY, /* the image is live here */
	SNAP_ROLE_REPLICA, /* snapshots arrive from a peer */
};

struct snap_vol {
	enum snap_role role;
	char generation[SNAP_GEN_HEX + 1]; /* "" unless primary */
	char head[SNAP_NAME_MAX + 1];      /* "" for none */
	char head_gen[SNAP_GEN_HEX + 1];
	uint64_t head_seq;
};

/* Static name of a role: "primary", "replica", "none". */
const char *snap_role_name(enum snap_role r);

void snap_vol_format(const struct snap_vol *v, struct buf *out);
/* 0, or -EBADMSG with "line N: reason" in err. */
int snap_vol_parse(
    const char *p, size_t len, struct snap_vol *v, char *err, size_t errlen);

/* Set v's head to m. */
void snap_vol_set_head(struct snap_vol *v, const struct snap_manifest *m);

/* A fresh random generation ID into gen[SNAP_GEN_HEX + 1]. */
void snap_vol_new_gen(char *gen);

/*
 * Take volume's lock (exclusive; wait_ms < 0 waits for ever, else
 * -EWOULDBLOCK after that long) and read its state (role NONE when there
 * is none). *lockfd is the lock to pass to snap_vol_unlock.
 */
int snap_vol_lock(struct snap_store *s, const char *volume, int wait_ms,
    int *lockfd, struct snap_vol *v, char *err, size_t errlen);
void snap_vol_unlock(int lockfd);
/* Read the state without the lock (for display). */
int snap_vol_read(struct snap_store *s, const char *volume, struct snap_vol *v,
    char *err, size_t errlen);
/* Write the state durably; the caller holds the lock. */
int snap_vol_write(
    struct snap_store *s, const char *volume, const struct snap_vol *v);

#endif
