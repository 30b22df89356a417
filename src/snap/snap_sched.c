/*
 * snap_sched.c - cycle timing and lag of continuous replication
 * (snap_sched.h). Pure: no I/O, clock or globals.
 */
#include <stdint.h>

#include "snap/snap_sched.h"

void
snap_sched_init(struct snap_sched *s, uint64_t interval_ms, uint64_t now)
{
	*s = (struct snap_sched){ .interval_ms = interval_ms, .next_ms = now };
}

bool
snap_sched_due(const struct snap_sched *s, uint64_t now)
{
	return !s->running && now >= s->next_ms;
}

uint64_t
snap_sched_wait(const struct snap_sched *s, uint64_t now)
{
	if (s->running)
		return UINT64_MAX;
	return now >= s->next_ms ? 0 : s->next_ms - now;
}

void
snap_sched_start(struct snap_sched *s, uint64_t now)
{
	s->running = true;
	s->started_ms = now;
	s->next_ms = now + s->interval_ms;
	s->cycles++;
}

bool
snap_sched_end(struct snap_sched *s, uint64_t now)
{
	s->running = false;
	if (now <= s->next_ms)
		return false;
	/* Late: the next starts now; the missed ones are not made up. */
	s->next_ms = now;
	s->overruns++;
	return true;
}

void
snap_rpo_init(struct snap_rpo *r, uint64_t now)
{
	*r = (struct snap_rpo){ .since_ms = now };
}

void
snap_rpo_ack(struct snap_rpo *r, uint64_t capture_ms, uint64_t now)
{
	if (r->acked && capture_ms < r->ack_capture_ms)
		return;
	r->acked = true;
	r->ack_capture_ms = capture_ms;
	r->ack_at_ms = now;
}

uint64_t
snap_rpo_lag(const struct snap_rpo *r, uint64_t now)
{
	uint64_t from = r->acked ? r->ack_capture_ms : r->since_ms;

	return now > from ? now - from : 0;
}

enum snap_rpo_event
snap_rpo_step(struct snap_rpo *r, uint64_t now, uint64_t target_ms)
{
	bool over = target_ms > 0 && snap_rpo_lag(r, now) > target_ms;

	if (over == r->over)
		return SNAP_RPO_NONE;
	r->over = over;
	if (over) {
		r->crossings++;
		return SNAP_RPO_CROSSED;
	}
	r->recoveries++;
	return SNAP_RPO_RECOVERED;
}

void
snap_sched_early(struct snap_sched *s, uint64_t now)
{
	if (s->running || s->next_ms <= now)
		return;
	s->next_ms = now;
	s->early++;
}

enum snap_pipe_act
snap_pipe_offer(struct snap_pipe *p)
{
	if (!p->busy) {
		p->busy = true;
		p->started++;
		return SNAP_PIPE_SHIP;
	}
	if (!p->queued) {
		p->queued = true;
		return SNAP_PIPE_QUEUE;
	}
	p->skipped++;
	return SNAP_PIPE_SKIP;
}

bool
snap_pipe_done(struct snap_pipe *p)
{
	if (!p->queued) {
		p->busy = false;
		return false;
	}
	p->queued = false;
	p->started++;
	return true; /* still busy: with the waiting one */
}
