/*
 * snap_cont.h - continuous asynchronous replication, run by the snap
 * plane (snap_plane.c) for each `snap.volumes[]` entry: every interval a
 * cycle snapshots the source into the local store, hands the snapshot to
 * every peer's pipeline and prunes the volume to its `retain` policy. With
 * freeze or hooks the snapshot is taken inside a consistency group
 * (snap_group.h); volumes sharing a `group` name run as one cycle, their first
 * volume's (the leader's), frozen together and snapshotted under one ID.
 *
 * A cycle's work (reading the image) runs in a forked child of the
 * plane, in its own process group, so the plane's loop keeps serving
 * receiver sessions and the API; the child reports each step on a pipe.
 * Each peer ships in a pipeline of its own (another forked child, one
 * shipment at a time; a snapshot made meanwhile waits, a newer one
 * replaces it), so no cycle and no other peer waits for a slow peer. One
 * cycle per volume at a time (snap_sched.h); a cycle or shipment past
 * cycle_timeout has its process group killed. The lag of each peer, and
 * its RPO alarm, are computed on the loop from the acknowledgements.
 */
#ifndef HAVEN_SNAP_CONT_H
#define HAVEN_SNAP_CONT_H

#include <stdint.h>

#include "lib/buf.h"
#include "lib/conf_node.h"
#include "lib/ev.h"
#include "lib/json.h"
#include "snap/snap_conf.h"
#include "snap/snap_proto.h"

struct snap_cont;

/* An object with no volumes; loop is borrowed and must outlive it. */
struct snap_cont *snap_cont_new(struct ev_loop *loop);
/* Stop it (snap_cont_stop) and release it. NULL is a no-op. */
void snap_cont_free(struct snap_cont *c);
/* Replace the volumes by conf's (running cycles are killed); psk is copied. */
void snap_cont_apply(struct snap_cont *c, const struct snap_conf *conf,
    const uint8_t psk[SNAP_PROTO_PSK_LEN]);
/* Kill running cycles, drop every volume. Idempotent. */
void snap_cont_stop(struct snap_cont *c);
void snap_cont_metrics(const struct snap_cont *c, struct buf *out);
/* "continuous": [...] in GET /v1/snap. */
void snap_cont_json(const struct snap_cont *c, struct jw *w);
/* The `haven status` lines, from that JSON. */
void snap_cont_status(struct conf_node *root);

#endif
