/*
 * snap_standby_run.h - the snap plane's standby appliers: one child
 * process at a time per standby image, started when a received snapshot
 * moves the volume's head (snap_standby.h has what a child does and the
 * locks it takes).
 *
 * Invariants:
 * - At most one apply per volume runs; a snapshot that arrives while one
 *   runs marks the volume again, and one more apply follows, which takes
 *   the head as it is then: bursts coalesce, the last head always lands.
 * - The plane's loop never waits for an apply: the child reports one
 *   struct snap_standby_result over a pipe and exits; the pipe's EOF ends
 *   it and the child is reaped then. A child that dies without reporting
 *   counts as a failure.
 * - The child closes every descriptor but its pipe at once, so sessions
 *   and sockets the plane closes are not held open by it.
 * - On a reload an image no longer listed has its apply killed (the image
 *   is left without a record and is hashed when next used); a stop kills
 *   them all.
 */
#ifndef HAVEN_SNAP_STANDBY_RUN_H
#define HAVEN_SNAP_STANDBY_RUN_H

#include "lib/ev.h"
#include "lib/json.h"
#include "snap/snap_standby.h"

struct snap_standby_run;

/* loop: borrowed, outlives the runner. */
struct snap_standby_run *snap_standby_run_new(struct ev_loop *loop);
void snap_standby_run_free(struct snap_standby_run *r);

/* A new configuration: the store and the images (copied), each applied
 * once now so an image listed or changed by hand catches up. */
void snap_standby_run_apply(struct snap_standby_run *r, const char *store,
    const struct snap_standby_conf *c, size_t n);

/* The images, for a receiving session's OFFER (borrowed: valid until the
 * next apply, and the set itself stays put across applies). */
const struct snap_standby_set *snap_standby_run_set(
    const struct snap_standby_run *r);

/* A snapshot of volume became the head here: apply it. */
void snap_standby_run_kick(struct snap_standby_run *r, const char *volume);

/* GET /v1/snap "standby": each image, its record and its applies. */
void snap_standby_run_json(struct snap_standby_run *r, struct jw *w);

#endif
