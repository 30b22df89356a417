/*
 * Scenarios for continuous replication's timing (snap_sched.h) on a
 * virtual clock: a driver steps time by 1 ms, starts a cycle whenever the
 * scheduler says it is due and ends it after a scripted duration, the way
 * snap_cont.c does with its forked child. Checked: cycles every interval,
 * never two at once, an overrun delays the next (counted) instead of
 * stacking, the lag a peer sees, and the RPO alarm firing once on crossing
 * and once on recovery.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../unit/runner.h"
#include "snap/snap_sched.h"

#define SS_MAX 64

struct ss_run {
	struct snap_sched s;
	struct snap_rpo r;
	uint64_t target;
	uint64_t starts[SS_MAX], ends[SS_MAX];
	size_t n;
	uint64_t end_at;  /* of the running cycle */
	uint64_t capture; /* of the running cycle */
	bool link_up;
	uint64_t max_lag;
	unsigned crossed, recovered;
	uint64_t crossed_at, recovered_at;
	/* the duration of cycle i */
	uint64_t (*dur)(size_t i);
};

static void
ss_step(struct ss_run *t, uint64_t now)
{
	enum snap_rpo_event ev;
	uint64_t lag;

	if (t->s.running && now >= t->end_at) {
		if (t->link_up)
			snap_rpo_ack(&t->r, t->capture, now);
		t->ends[t->n - 1] = now;
		(void)snap_sched_end(&t->s, now);
	}
	if (snap_sched_due(&t->s, now)) {
		T_ASSERT(t->n < SS_MAX);
		/* Never two at once: the previous one has ended. */
		T_ASSERT(t->n == 0 || t->ends[t->n - 1] <= now);
		snap_sched_start(&t->s, now);
		t->starts[t->n] = now;
		t->capture = now;
		t->end_at = now + t->dur(t->n);
		t->n++;
	}
	lag = snap_rpo_lag(&t->r, now);
	if (lag > t->max_lag)
		t->max_lag = lag;
	ev = snap_rpo_step(&t->r, now, t->target);
	if (ev == SNAP_RPO_CROSSED) {
		t->crossed++;
		t->crossed_at = now;
	} else if (ev == SNAP_RPO_RECOVERED) {
		t->recovered++;
		t->recovered_at = now;
	}
}

static void
ss_init(struct ss_run *t, uint64_t interval, uint64_t target,
    uint64_t (*dur)(size_t))
{
	memset(t, 0, sizeof(*t));
	snap_sched_init(&t->s, interval, 0);
	snap_rpo_init(&t->r, 0);
	t->target = target;
	t->dur = dur;
	t->link_up = true;
}

static void
ss_run_until(struct ss_run *t, uint64_t from, uint64_t to)
{
	for (uint64_t now = from; now < to; now++)
		ss_step(t, now);
}

static uint64_t
ss_dur_200(size_t i)
{
	return 200;
}

/* Cycle 3 takes 2.5 intervals; the others 200 ms. */
static uint64_t
ss_dur_slow3(size_t i)
{
	return i == 3 ? 2500 : 200;
}

static void
sim_snap_sched_every_interval(void)
{
	struct ss_run t;

	ss_init(&t, 1000, 0, ss_dur_200);
	ss_run_until(&t, 0, 10000);
	T_EQ_INT(t.n, 10);
	for (size_t i = 0; i < t.n; i++)
		T_EQ_INT(t.starts[i], i * 1000);
	T_EQ_INT(t.s.overruns, 0);
	T_EQ_INT(t.s.cycles, 10);
	/* Lag peaks just before an ack: interval + ship time. */
	T_EQ_INT(t.max_lag, 1000 + 200 - 1);
	T_EQ_INT(t.crossed, 0);
}

/* A dirty_bytes trigger: the next cycle now, not while one runs, and the
 * interval counts from the early start. */
static void
sim_snap_sched_early(void)
{
	struct snap_sched s;

	snap_sched_init(&s, 10000, 0);
	snap_sched_start(&s, 0);
	snap_sched_early(&s, 100); /* running: nothing */
	T_EQ_INT(s.early, 0);
	snap_sched_end(&s, 300);
	T_ASSERT(!snap_sched_due(&s, 2000));
	snap_sched_early(&s, 2000);
	T_EQ_INT(s.early, 1);
	T_ASSERT(snap_sched_due(&s, 2000));
	snap_sched_start(&s, 2000);
	T_ASSERT(!snap_sched_end(&s, 2500)); /* not an overrun */
	T_ASSERT(!snap_sched_due(&s, 11999));
	T_ASSERT(snap_sched_due(&s, 12000));
	snap_sched_early(&s, 12000); /* due already: not counted */
	T_EQ_INT(s.early, 1);
}

static void
sim_snap_sched_overrun_delays(void)
{
	struct ss_run t;

	ss_init(&t, 1000, 0, ss_dur_slow3);
	ss_run_until(&t, 0, 10000);
	/* 0, 1000, 2000, 3000 (ends 5500), then 5500 at once, 6500... */
	T_EQ_INT(t.starts[3], 3000);
	T_EQ_INT(t.ends[3], 5500);
	T_EQ_INT(t.starts[4], 5500);
	T_EQ_INT(t.starts[5], 6500);
	T_EQ_INT(t.s.overruns, 1);
	/* The two missed slots (4000, 5000) were not made up: 9, not 10. */
	T_EQ_INT(t.n, 9);
	for (size_t i = 1; i < t.n; i++)
		T_ASSERT(t.starts[i] >= t.ends[i - 1]);
	/* Worst just before the slow cycle's ack: capture 2000 was the
	 * newest acknowledged until 5500. */
	T_EQ_INT(t.max_lag, 5500 - 2000 - 1);
}

static void
sim_snap_sched_alarm_once(void)
{
	struct ss_run t;

	ss_init(&t, 1000, 3000, ss_dur_200);
	ss_run_until(&t, 0, 5000);
	T_EQ_INT(t.crossed, 0);
	/* Cut: the last ack was at 4200 for the capture at 4000. */
	t.link_up = false;
	ss_run_until(&t, 5000, 15000);
	T_EQ_INT(t.crossed, 1);
	T_EQ_INT(t.crossed_at, 4000 + 3000 + 1);
	T_EQ_INT(t.recovered, 0);
	T_EQ_INT(snap_rpo_lag(&t.r, 15000), 11000);
	/* Back: the first cycle's ack ends it, once. */
	t.link_up = true;
	ss_run_until(&t, 15000, 25000);
	T_EQ_INT(t.recovered, 1);
	T_EQ_INT(t.recovered_at, 15200);
	T_EQ_INT(t.crossed, 1);
	T_EQ_INT(t.r.crossings, 1);
	T_EQ_INT(t.r.recoveries, 1);
}

static void
sim_snap_sched_lag_no_ack(void)
{
	struct snap_rpo r;

	/* Never acknowledged: lag counts from the start of watching. */
	snap_rpo_init(&r, 1000);
	T_EQ_INT(snap_rpo_lag(&r, 4000), 3000);
	snap_rpo_ack(&r, 3500, 3900);
	T_EQ_INT(snap_rpo_lag(&r, 4000), 500);
	/* An older capture acknowledged late does not move it back. */
	snap_rpo_ack(&r, 2000, 4100);
	T_EQ_INT(snap_rpo_lag(&r, 4500), 1000);
	/* No target: never an event. */
	T_EQ_INT(snap_rpo_step(&r, 100000, 0), SNAP_RPO_NONE);
}

static void
sim_snap_pipe_offer_done(void)
{
	struct snap_pipe p = { 0 };

	/* Idle: shipped at once; busy: the next waits, a newer replaces it. */
	T_EQ_INT(snap_pipe_offer(&p), SNAP_PIPE_SHIP);
	T_EQ_INT(snap_pipe_offer(&p), SNAP_PIPE_QUEUE);
	T_EQ_INT(snap_pipe_offer(&p), SNAP_PIPE_SKIP);
	T_EQ_INT(snap_pipe_offer(&p), SNAP_PIPE_SKIP);
	T_EQ_INT(p.skipped, 2);
	/* The end of the shipment starts the waiting one; the end of that
	 * one leaves the peer idle. */
	T_ASSERT(snap_pipe_done(&p));
	T_ASSERT(p.busy);
	T_ASSERT(!snap_pipe_done(&p));
	T_ASSERT(!p.busy && !p.queued);
	T_EQ_INT(p.started, 2);
	T_EQ_INT(snap_pipe_offer(&p), SNAP_PIPE_SHIP);
}

/*
 * Two peers on the virtual clock, the way snap_cont.c runs them: a cycle
 * every 1000 ms makes a snapshot in 100 ms, then each peer's pipeline
 * takes it. Peer 0 ships in 200 ms; peer 1 stalls from 3000 to 15000 (a
 * shipment started then ends at 15000). Peer 0's lag stays within
 * interval + snapshot + ship, cycles never wait for peer 1, peer 1 skips
 * the snapshots made while it stalled and, once back, gets the newest.
 */
struct sp_peer {
	struct snap_pipe pipe;
	struct snap_rpo rpo;
	uint64_t end_at;          /* of its running shipment */
	uint64_t ship_cap, q_cap; /* capture times: running, waiting */
	uint64_t max_lag;
};

static uint64_t
sp_ship_end(size_t peer, uint64_t now)
{
	if (peer == 1 && now >= 3000 && now < 15000)
		return 15000;
	return now + 200;
}

static void
sim_snap_pipe_slow_peer(void)
{
	struct snap_sched s;
	struct sp_peer pp[2];
	uint64_t cycle_end = 0, capture = 0, max_lag_late = 0;

	memset(pp, 0, sizeof(pp));
	snap_sched_init(&s, 1000, 0);
	for (size_t i = 0; i < 2; i++)
		snap_rpo_init(&pp[i].rpo, 0);
	for (uint64_t now = 0; now < 25000; now++) {
		if (s.running && now == cycle_end) {
			(void)snap_sched_end(&s, now);
			for (size_t i = 0; i < 2; i++) {
				struct sp_peer *p = &pp[i];

				if (snap_pipe_offer(&p->pipe) ==
				    SNAP_PIPE_SHIP) {
					p->ship_cap = capture;
					p->end_at = sp_ship_end(i, now);
				} else {
					p->q_cap = capture;
				}
			}
		}
		if (snap_sched_due(&s, now)) {
			snap_sched_start(&s, now);
			capture = now;
			cycle_end = now + 100;
		}
		for (size_t i = 0; i < 2; i++) {
			struct sp_peer *p = &pp[i];
			uint64_t lag;

			if (p->pipe.busy && now == p->end_at) {
				snap_rpo_ack(&p->rpo, p->ship_cap, now);
				if (snap_pipe_done(&p->pipe)) {
					p->ship_cap = p->q_cap;
					p->end_at = sp_ship_end(i, now);
				}
			}
			lag = snap_rpo_lag(&p->rpo, now);
			if (lag > p->max_lag)
				p->max_lag = lag;
			if (i == 1 && now >= 17000 && lag > max_lag_late)
				max_lag_late = lag;
		}
	}
	/* A cycle every interval, none late, whatever peer 1 does. */
	T_EQ_INT(s.cycles, 25);
	T_EQ_INT(s.overruns, 0);
	/* Peer 0: ack 300 ms after each capture, newest at most 1 s old. */
	T_ASSERT(pp[0].max_lag <= 1000 + 100 + 200);
	T_EQ_INT(pp[0].pipe.skipped, 0);
	T_EQ_INT(pp[0].pipe.started, 25);
	/* Peer 1 shipped 3000's snapshot until 15000: those of 4000..14000
	 * waited, each replaced by the next but 14000's (10 skipped). */
	T_EQ_INT(pp[1].pipe.skipped, 10);
	T_EQ_INT(pp[1].max_lag, 15000 - 2000 - 1);
	/* Back: from 15000 it ships the newest (14000's) and keeps up. */
	T_ASSERT(max_lag_late <= 1000 + 100 + 200);
	T_EQ_INT(pp[1].rpo.ack_capture_ms, 24000);
}

static const struct test tests[] = {
	TEST(sim_snap_pipe_offer_done),
	TEST(sim_snap_pipe_slow_peer),
	TEST(sim_snap_sched_every_interval),
	TEST(sim_snap_sched_overrun_delays),
	TEST(sim_snap_sched_early),
	TEST(sim_snap_sched_alarm_once),
	TEST(sim_snap_sched_lag_no_ack),
};

TEST_MAIN(tests)
