/*
 * ev.h - the event loop every haven process runs: epoll for sockets, a
 * binary min-heap of timers, signalfd for signals, callbacks deferred to the
 * end of the current iteration, and frees deferred until no callback of the
 * iteration can still hold the pointer.
 *
 * One loop per process, single-threaded: nothing here locks.
 *
 * Time is in milliseconds on a monotonic clock, cached once per iteration
 * (ev_now_ms); ev_now_us gives microseconds for latency measurements. The
 * simulated backend (ev_loop_new_sim) replaces the clock with a virtual one:
 * when nothing is ready on any descriptor, the loop jumps the clock straight to
 * the next timer, so a test of a 30-second timer sequence runs in
 * microseconds and always in the same order. Descriptors still work in sim
 * mode (polled without blocking), so in-memory socketpairs connect simulated
 * peers to the code under test.
 *
 * Handle lifetimes: struct ev_io and struct ev_timer are embedded in their
 * owner's struct. Stop them before freeing the owner; stop is idempotent.
 * Freeing an object from inside a callback is safe only through
 * ev_defer_free(), because another event of the same epoll batch may still
 * point to it.
 */
#ifndef HAVEN_EV_H
#define HAVEN_EV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct ev_io;
struct ev_timer;

#define EV_READ      0x1u
#define EV_WRITE     0x2u
#define EV_ERROR     0x4u /* EPOLLERR or EPOLLHUP; delivered with READ */
/*
 * With EV_READ, given to ev_io_start on a stopped io: of the processes
 * polling one socket this way, an event wakes one (EPOLLEXCLUSIVE), not
 * all. epoll takes it only when the io is registered: to change the events
 * of such an io, stop it and start it again.
 */
#define EV_EXCLUSIVE 0x8u

typedef void ev_io_fn(struct ev_io *io, unsigned events, void *arg);
typedef void ev_timer_fn(struct ev_timer *t, void *arg);
typedef void ev_signal_fn(struct ev_loop *loop, int signo, void *arg);
typedef void ev_defer_fn(void *arg);

struct ev_io {
	int fd;
	unsigned events; /* currently registered, 0 when stopped */
	ev_io_fn *cb;
	void *arg; /* borrowed */
};

struct ev_timer {
	uint64_t when_ms;
	size_t heap_idx; /* (size_t)-1 when not armed */
	uint64_t seq;    /* arming order: ties fire first-armed first */
	ev_timer_fn *cb;
	void *arg; /* borrowed */
};

struct ev_loop *ev_loop_new(void);
/* A loop on a virtual clock that starts at start_ms. */
struct ev_loop *ev_loop_new_sim(uint64_t start_ms);
void ev_loop_free(struct ev_loop *loop);
bool ev_is_sim(const struct ev_loop *loop);

/*
 * Run until ev_break() is called or nothing is left to wait for (no
 * descriptor, timer, signal or deferred work). A sim loop also returns when
 * nothing is ready and no timer is armed: nothing could ever wake it.
 */
void ev_run(struct ev_loop *loop);
/* One iteration, waiting at most timeout_ms (-1: until something happens). */
void ev_run_once(struct ev_loop *loop, int timeout_ms);
void ev_break(struct ev_loop *loop);
/* Sim only: run every event due up to now + ms, leaving the clock there. */
void ev_sim_advance(struct ev_loop *loop, uint64_t ms);

uint64_t ev_now_ms(const struct ev_loop *loop);
/* Cached with ev_now_ms (same reading): ev_now_us() / 1000 == ev_now_ms(). */
uint64_t ev_now_us(const struct ev_loop *loop);
/* Refresh the cached time (real loops only; no-op in sim). */
void ev_update_now(struct ev_loop *loop);

void ev_io_init(struct ev_io *io, int fd, ev_io_fn *cb, void *arg);
/* Register or change the interest set. Returns 0 or -errno. */
int ev_io_start(struct ev_loop *loop, struct ev_io *io, unsigned events);
void ev_io_stop(struct ev_loop *loop, struct ev_io *io);

void ev_timer_init(struct ev_timer *t, ev_timer_fn *cb, void *arg);
/* Arm (or re-arm) to fire after_ms from ev_now_ms(). */
void ev_timer_start(
    struct ev_loop *loop, struct ev_timer *t, uint64_t after_ms);
void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t);
bool ev_timer_active(const struct ev_timer *t);

/*
 * Route signo through a signalfd to cb. The signal is blocked for the whole
 * process. Returns 0 or -errno.
 */
int ev_signal_add(struct ev_loop *loop, int signo, ev_signal_fn *cb, void *arg);

/* Run fn(arg) after the current batch of events, before waiting again. */
void ev_defer(struct ev_loop *loop, ev_defer_fn *fn, void *arg);
/* free_fn(p) at the end of the current iteration (free() if NULL). */
void ev_defer_free(struct ev_loop *loop, void *p, ev_defer_fn *free_fn);

/* Number of armed timers and registered descriptors (for tests). */
size_t ev_pending(const struct ev_loop *loop);

/*
 * Counters of what the loop did and dropped, for /metrics. Added after the
 * first contract: nothing above depends on it.
 */
struct ev_stats {
	uint64_t iterations;
	uint64_t io_events;    /* callbacks run for descriptors */
	uint64_t stale_events; /* dropped: their ev_io was stopped */
	uint64_t timers_fired;
	uint64_t defers_run;      /* ev_defer callbacks */
	uint64_t frees_run;       /* ev_defer_free releases */
	uint64_t signals;         /* delivered to a callback */
	uint64_t signals_unknown; /* read but no callback (dropped) */
	uint64_t wait_errors;     /* epoll_wait failures other than EINTR */
	uint64_t ctl_errors;      /* epoll_ctl failures, incl. DEL on stop */
	uint64_t sigfd_errors;    /* signalfd read failures or short reads */
};

void ev_get_stats(const struct ev_loop *loop, struct ev_stats *st);

#endif
