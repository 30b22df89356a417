/*
 * snap_sched.h - the pure parts of continuous replication: when a
 * volume's next cycle starts, and how far each peer lags behind (the RPO
 * actually achieved) with its alarm state. No I/O, clock or globals: the
 * caller passes the time, so the simulator drives these on a virtual
 * clock (tests/sim/sim_snap_sched.c).
 *
 * Invariants:
 *   - one cycle per volume at a time: snap_sched_due is false while one
 *     runs;
 *   - cycles start every interval from the previous start, or earlier
 *     when the caller says enough changed (snap_sched_early); a cycle that
 *     ends after the next one was due delays it (it starts at once, and
 *     the overrun is counted), it never stacks missed cycles;
 *   - a peer's lag is now minus the capture time of the newest snapshot
 *     it acknowledged, or minus the start of watching when it has none;
 *   - the alarm fires once on crossing rpo_target and once on recovery;
 *   - a peer has at most one shipment running and one snapshot waiting
 *     for it (snap_pipe): a newer snapshot replaces the waiting one, which
 *     is then skipped, so a slow peer never holds back a cycle.
 */
#ifndef HAVEN_SNAP_SCHED_H
#define HAVEN_SNAP_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct snap_sched {
	uint64_t interval_ms;
	uint64_t next_ms;    /* the next cycle is due at this time */
	uint64_t started_ms; /* of the running or last cycle */
	bool running;
	uint64_t cycles;   /* started */
	uint64_t overruns; /* cycles that ended after the next was due */
	uint64_t early;    /* cycles brought forward by snap_sched_early */
};

void snap_sched_init(struct snap_sched *s, uint64_t interval_ms, uint64_t now);
bool snap_sched_due(const struct snap_sched *s, uint64_t now);
/* Milliseconds until due; UINT64_MAX while a cycle runs. */
uint64_t snap_sched_wait(const struct snap_sched *s, uint64_t now);
void snap_sched_start(struct snap_sched *s, uint64_t now);
/* true when the cycle overran (the next one is late). */
bool snap_sched_end(struct snap_sched *s, uint64_t now);
/*
 * Make the next cycle due now (a dirty_bytes trigger), unless one runs;
 * the interval then counts from this cycle's start. Counted in early.
 */
void snap_sched_early(struct snap_sched *s, uint64_t now);

enum snap_rpo_event {
	SNAP_RPO_NONE,
	SNAP_RPO_CROSSED,   /* lag went above rpo_target */
	SNAP_RPO_RECOVERED, /* back at or below it */
};

struct snap_rpo {
	uint64_t since_ms; /* watching started (wall) */
	bool acked;
	uint64_t ack_capture_ms; /* capture time of the newest acked snapshot */
	uint64_t ack_at_ms;      /* when that ack came */
	bool over;               /* lag is above the target */
	uint64_t crossings, recoveries;
};

void snap_rpo_init(struct snap_rpo *r, uint64_t now);
/* An acknowledged snapshot; an older capture than the newest is ignored. */
void snap_rpo_ack(struct snap_rpo *r, uint64_t capture_ms, uint64_t now);
uint64_t snap_rpo_lag(const struct snap_rpo *r, uint64_t now);
/* Compare the lag with target_ms (0: no target) and say what changed. */
enum snap_rpo_event snap_rpo_step(
    struct snap_rpo *r, uint64_t now, uint64_t target_ms);

/*
 * One peer's shipping pipeline. A snapshot made while the peer's previous
 * shipment runs waits for it to end; a newer one replaces the waiting one,
 * which that peer then never gets. Nothing is lost for the RPO: each
 * snapshot is complete on its own, and HAVE/WANT sends the newest one's
 * chunks the peer lacks, so the newest is all a late peer needs. The
 * caller keeps which snapshot runs and which waits.
 */
struct snap_pipe {
	bool busy;        /* a shipment runs */
	bool queued;      /* a snapshot waits for it to end */
	uint64_t started; /* shipments started */
	uint64_t skipped; /* snapshots replaced while they waited */
};

enum snap_pipe_act {
	SNAP_PIPE_SHIP,  /* ship it now (busy from now on) */
	SNAP_PIPE_QUEUE, /* it waits for the running shipment */
	SNAP_PIPE_SKIP,  /* it waits, and replaced one that is skipped */
};

/* A new snapshot for this peer: what to do with it. */
enum snap_pipe_act snap_pipe_offer(struct snap_pipe *p);
/* The running shipment ended: true when the waiting snapshot is to be
 * shipped now (busy again), false when the peer is idle. */
bool snap_pipe_done(struct snap_pipe *p);

#endif
