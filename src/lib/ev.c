/*
 * ev.c - see ev.h.
 *
 * One iteration is: wait (epoll_wait, at most EV_BATCH events), refresh the
 * cached clock, run the descriptor callbacks of the batch, run the timers
 * that are due, then run the deferred callbacks and finally the deferred
 * frees. Nothing waits while deferred work is queued.
 *
 * Descriptors are level-triggered: a callback that leaves data unread is
 * called again next iteration, so no handler can lose a wake-up by reading
 * short, and a stopped-and-restarted descriptor needs no re-arming dance.
 * The cost (one extra epoll_wait return for a socket drained late) is small
 * next to the bugs edge-triggered mode invites.
 *
 * Invariants:
 * - batch[cur+1 .. nbatch) never holds a pointer to a stopped ev_io:
 *   ev_io_stop() clears its entry, so a callback may stop (and
 *   ev_defer_free) any other handle of the same batch.
 * - heap[i]->heap_idx == i for every armed timer; heap[0] is the earliest
 *   by (when_ms, seq), so equal deadlines fire in arming order.
 * - A timer armed while timers are being run (seq > run_seq) waits for the
 *   next iteration, so a callback re-arming itself with 0 ms cannot spin
 *   the loop without ever polling descriptors.
 * - In sim mode the clock moves only when an iteration finds nothing
 *   ready, and then exactly to the next deadline (or the caller's bound).
 * - Not reentrant: a callback must not call ev_run, ev_run_once or
 *   ev_sim_advance on its own loop (the batch would be overwritten).
 */
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "util.h"

#define EV_BATCH     256 /* events per epoll_wait */
#define EV_NOT_ARMED ((size_t)-1)

struct ev_defer_ent {
	ev_defer_fn *fn;
	void *arg; /* borrowed for ev_defer; owned for ev_defer_free */
};

struct ev_queue {
	struct ev_defer_ent *v; /* owned */
	size_t len;
	size_t cap;
};

struct ev_sig {
	ev_signal_fn *cb;
	void *arg; /* borrowed */
};

struct ev_loop {
	int epfd;
	bool sim;
	bool broken; /* ev_break() called, cleared when ev_run returns */
	uint64_t now_ms;
	uint64_t now_us;

	struct epoll_event batch[EV_BATCH];
	int nbatch; /* entries of batch being dispatched, 0 outside */
	int cur;    /* index of the entry being dispatched */
	size_t nio; /* registered descriptors, the signalfd included */

	struct ev_timer **heap; /* owned array; timers borrowed */
	size_t nheap;
	size_t capheap;
	uint64_t seq;     /* last seq handed to a timer */
	uint64_t run_seq; /* timers with a larger seq wait an iteration */

	struct ev_queue defers;
	struct ev_queue frees;

	int sigfd; /* -1 until the first ev_signal_add */
	sigset_t sigmask;
	struct ev_io sigio;
	struct ev_sig sigs[_NSIG];

	struct ev_stats st;
};

/* Clock */

static void
ev_clock_set_ms(struct ev_loop *loop, uint64_t ms)
{
	loop->now_ms = ms;
	loop->now_us = ms * 1000;
}

void
ev_update_now(struct ev_loop *loop)
{
	if (loop->sim)
		return;
	/* One reading for both so that now_us / 1000 == now_ms. */
	loop->now_us = util_mono_us();
	loop->now_ms = loop->now_us / 1000;
}

uint64_t
ev_now_ms(const struct ev_loop *loop)
{
	return loop->now_ms;
}

uint64_t
ev_now_us(const struct ev_loop *loop)
{
	return loop->now_us;
}

/* Lifetime */

static struct ev_loop *
ev_loop_alloc(bool sim)
{
	struct ev_loop *loop = xcalloc(1, sizeof(*loop));

	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd == -1)
		fatal("epoll_create1: %s", strerror(errno));
	loop->sim = sim;
	loop->sigfd = -1;
	sigemptyset(&loop->sigmask);
	return loop;
}

struct ev_loop *
ev_loop_new(void)
{
	struct ev_loop *loop = ev_loop_alloc(false);

	ev_update_now(loop);
	return loop;
}

struct ev_loop *
ev_loop_new_sim(uint64_t start_ms)
{
	struct ev_loop *loop = ev_loop_alloc(true);

	ev_clock_set_ms(loop, start_ms);
	return loop;
}

static size_t ev_queue_run(struct ev_queue *q, uint64_t *counter, bool is_free);

/*
 * Queued deferred work still runs: a deferred free is an owner's only
 * release path. Signals stay blocked: unblocking would deliver a pending
 * SIGTERM with its default action. Handles still registered are the
 * owner's; they are only detached.
 */
void
ev_loop_free(struct ev_loop *loop)
{
	size_t i;

	if (loop == NULL)
		return;
	ev_queue_run(&loop->defers, &loop->st.defers_run, false);
	ev_queue_run(&loop->frees, &loop->st.frees_run, true);
	for (i = 0; i < loop->nheap; i++)
		loop->heap[i]->heap_idx = EV_NOT_ARMED;
	if (loop->sigfd != -1)
		close(loop->sigfd);
	close(loop->epfd);
	free(loop->heap);
	free(loop->defers.v);
	free(loop->frees.v);
	free(loop);
}

bool
ev_is_sim(const struct ev_loop *loop)
{
	return loop->sim;
}

size_t
ev_pending(const struct ev_loop *loop)
{
	return loop->nheap + loop->nio - (loop->sigfd != -1 ? 1 : 0);
}

void
ev_get_stats(const struct ev_loop *loop, struct ev_stats *st)
{
	*st = loop->st;
}

/* Descriptors */

void
ev_io_init(struct ev_io *io, int fd, ev_io_fn *cb, void *arg)
{
	io->fd = fd;
	io->events = 0;
	io->cb = cb;
	io->arg = arg;
}

int
ev_io_start(struct ev_loop *loop, struct ev_io *io, unsigned events)
{
	struct epoll_event ee;
	int op;

	events &= EV_READ | EV_WRITE | EV_EXCLUSIVE;
	if (events == io->events)
		return 0; /* the hot path toggles interest often */
	if ((events & (EV_READ | EV_WRITE)) == 0) {
		ev_io_stop(loop, io);
		return 0;
	}
	memset(&ee, 0, sizeof(ee));
	ee.events = ((events & EV_READ) ? EPOLLIN : 0) |
	    ((events & EV_WRITE) ? EPOLLOUT : 0);
	ee.data.ptr = io;
	op = io->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if ((events & EV_EXCLUSIVE) && op == EPOLL_CTL_ADD)
		ee.events |= EPOLLEXCLUSIVE;
	if (epoll_ctl(loop->epfd, op, io->fd, &ee) == -1) {
		loop->st.ctl_errors++;
		return -errno;
	}
	if (io->events == 0)
		loop->nio++;
	io->events = events;
	return 0;
}

void
ev_io_stop(struct ev_loop *loop, struct ev_io *io)
{
	int i;

	if (io->events == 0)
		return;
	/*
	 * EBADF/ENOENT: the fd was closed before the stop, which already
	 * removed it from the epoll set. Counted, since it is a caller bug
	 * when the fd was dup'ed (the registration would then survive).
	 */
	if (epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL) == -1)
		loop->st.ctl_errors++;
	io->events = 0;
	loop->nio--;
	for (i = loop->cur + 1; i < loop->nbatch; i++)
		if (loop->batch[i].data.ptr == io)
			loop->batch[i].data.ptr = NULL;
}

static unsigned
ev_io_mask(uint32_t e, unsigned interest)
{
	unsigned m = 0;

	if (e & EPOLLIN)
		m |= EV_READ;
	if (e & EPOLLOUT)
		m |= EV_WRITE;
	m &= interest;
	if (e & (EPOLLERR | EPOLLHUP))
		m |= EV_ERROR | EV_READ;
	return m;
}

static void
ev_io_dispatch(struct ev_loop *loop, int n)
{
	struct ev_io *io;
	unsigned m;

	loop->nbatch = n;
	for (loop->cur = 0; loop->cur < n; loop->cur++) {
		io = loop->batch[loop->cur].data.ptr;
		if (io == NULL) {
			loop->st.stale_events++;
			continue;
		}
		/* Interest may have shrunk earlier in this batch. */
		m = ev_io_mask(loop->batch[loop->cur].events, io->events);
		if (m == 0)
			continue;
		loop->st.io_events++;
		io->cb(io, m, io->arg);
	}
	loop->nbatch = 0;
	loop->cur = 0;
}

/* Timers: a binary min-heap of borrowed pointers */

static bool
ev_heap_less(const struct ev_timer *a, const struct ev_timer *b)
{
	if (a->when_ms != b->when_ms)
		return a->when_ms < b->when_ms;
	return a->seq < b->seq;
}

static void
ev_heap_put(struct ev_loop *loop, size_t i, struct ev_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void
ev_heap_up(struct ev_loop *loop, size_t i)
{
	struct ev_timer *t = loop->heap[i];
	size_t parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (!ev_heap_less(t, loop->heap[parent]))
			break;
		ev_heap_put(loop, i, loop->heap[parent]);
		i = parent;
	}
	ev_heap_put(loop, i, t);
}

static void
ev_heap_down(struct ev_loop *loop, size_t i)
{
	struct ev_timer *t = loop->heap[i];
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= loop->nheap)
			break;
		if (c + 1 < loop->nheap &&
		    ev_heap_less(loop->heap[c + 1], loop->heap[c]))
			c++;
		if (!ev_heap_less(loop->heap[c], t))
			break;
		ev_heap_put(loop, i, loop->heap[c]);
		i = c;
	}
	ev_heap_put(loop, i, t);
}

void
ev_timer_init(struct ev_timer *t, ev_timer_fn *cb, void *arg)
{
	t->when_ms = 0;
	t->heap_idx = EV_NOT_ARMED;
	t->seq = 0;
	t->cb = cb;
	t->arg = arg;
}

bool
ev_timer_active(const struct ev_timer *t)
{
	return t->heap_idx != EV_NOT_ARMED;
}

void
ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t after_ms)
{
	t->when_ms = loop->now_ms + after_ms;
	if (t->when_ms < loop->now_ms)
		t->when_ms = UINT64_MAX; /* "never", not a wrap to the past */
	t->seq = ++loop->seq;
	if (ev_timer_active(t)) {
		/* Re-arm in place: the key moved either way. */
		ev_heap_up(loop, t->heap_idx);
		ev_heap_down(loop, t->heap_idx);
		return;
	}
	if (loop->nheap == loop->capheap) {
		loop->capheap = loop->capheap ? 2 * loop->capheap : 64;
		loop->heap =
		    xrealloc(loop->heap, loop->capheap * sizeof(*loop->heap));
	}
	ev_heap_put(loop, loop->nheap++, t);
	ev_heap_up(loop, t->heap_idx);
}

void
ev_timer_stop(struct ev_loop *loop, struct ev_timer *t)
{
	size_t i = t->heap_idx;
	struct ev_timer *last;

	if (i == EV_NOT_ARMED)
		return;
	t->heap_idx = EV_NOT_ARMED;
	last = loop->heap[--loop->nheap];
	if (last == t)
		return;
	ev_heap_put(loop, i, last);
	ev_heap_up(loop, i);
	ev_heap_down(loop, last->heap_idx);
}

static size_t
ev_timer_run(struct ev_loop *loop)
{
	struct ev_timer *t;
	size_t n = 0;

	loop->run_seq = loop->seq;
	while (loop->nheap > 0) {
		t = loop->heap[0];
		if (t->when_ms > loop->now_ms || t->seq > loop->run_seq)
			break;
		ev_timer_stop(loop, t);
		n++;
		loop->st.timers_fired++;
		t->cb(t, t->arg);
	}
	return n;
}

/* Deferred work */

static void
ev_queue_push(struct ev_queue *q, ev_defer_fn *fn, void *arg)
{
	if (q->len == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 32;
		q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	q->v[q->len].fn = fn;
	q->v[q->len].arg = arg;
	q->len++;
}

/*
 * FIFO, including entries queued by the entries being run: they too must
 * run before the next wait. Indexing (not a pointer) survives the realloc
 * a push from a callback may do.
 */
static size_t
ev_queue_run(struct ev_queue *q, uint64_t *counter, bool is_free)
{
	struct ev_defer_ent e;
	size_t i;

	for (i = 0; i < q->len; i++) {
		e = q->v[i];
		(*counter)++;
		if (is_free && e.fn == NULL)
			free(e.arg);
		else
			e.fn(e.arg);
	}
	q->len = 0;
	return i;
}

void
ev_defer(struct ev_loop *loop, ev_defer_fn *fn, void *arg)
{
	ev_queue_push(&loop->defers, fn, arg);
}

void
ev_defer_free(struct ev_loop *loop, void *p, ev_defer_fn *free_fn)
{
	if (p != NULL)
		ev_queue_push(&loop->frees, free_fn, p);
}

/*
 * Callbacks first, frees last: a deferred callback may still look at an
 * object whose release was deferred in the same iteration. A free_fn that
 * defers a callback gets it run here too.
 */
static size_t
ev_defer_run(struct ev_loop *loop)
{
	size_t n = 0;

	while (loop->defers.len > 0 || loop->frees.len > 0) {
		n += ev_queue_run(&loop->defers, &loop->st.defers_run, false);
		n += ev_queue_run(&loop->frees, &loop->st.frees_run, true);
	}
	return n;
}

/* Signals */

static void
ev_signal_read(struct ev_io *io, unsigned events, void *arg)
{
	struct ev_loop *loop = arg;
	struct signalfd_siginfo si;
	ssize_t r;
	int signo;

	for (;;) {
		r = read(io->fd, &si, sizeof(si));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			return;
		if (r != (ssize_t)sizeof(si)) {
			loop->st.sigfd_errors++;
			return;
		}
		signo = (int)si.ssi_signo;
		if (signo <= 0 || signo >= _NSIG || !loop->sigs[signo].cb) {
			loop->st.signals_unknown++;
			continue;
		}
		loop->st.signals++;
		loop->sigs[signo].cb(loop, signo, loop->sigs[signo].arg);
	}
}

int
ev_signal_add(struct ev_loop *loop, int signo, ev_signal_fn *cb, void *arg)
{
	sigset_t one, mask = loop->sigmask;
	int fd, r;

	if (signo <= 0 || signo >= _NSIG || cb == NULL)
		return -EINVAL;
	if (sigaddset(&mask, signo) == -1)
		return -errno;
	sigemptyset(&one);
	sigaddset(&one, signo);
	/* Blocked first, or it could be delivered the default way. */
	if (sigprocmask(SIG_BLOCK, &one, NULL) == -1)
		return -errno;
	/* With an existing fd, signalfd() replaces its mask in place. */
	fd = signalfd(loop->sigfd, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return -errno;
	if (loop->sigfd == -1) {
		ev_io_init(&loop->sigio, fd, ev_signal_read, loop);
		if ((r = ev_io_start(loop, &loop->sigio, EV_READ)) < 0) {
			close(fd);
			return r;
		}
		loop->sigfd = fd;
	}
	loop->sigmask = mask;
	loop->sigs[signo].cb = cb;
	loop->sigs[signo].arg = arg;
	return 0;
}

/* Running */

/*
 * How long the next wait may block: 0 with deferred work queued, otherwise
 * until the earliest timer, bounded by the caller's timeout (-1: none).
 */
static int
ev_wait_ms(const struct ev_loop *loop, int timeout_ms)
{
	uint64_t d;

	if (loop->defers.len > 0 || loop->frees.len > 0)
		return 0;
	if (loop->nheap == 0)
		return timeout_ms;
	if (loop->heap[0]->when_ms <= loop->now_ms)
		return 0;
	d = loop->heap[0]->when_ms - loop->now_ms;
	if (d > INT_MAX)
		d = INT_MAX;
	if (timeout_ms >= 0 && (uint64_t)timeout_ms < d)
		return timeout_ms;
	return (int)d;
}

/*
 * One iteration. Returns how many callbacks ran; 0 means nothing was ready,
 * nothing was due and the clock (sim) could not move.
 */
static size_t
ev_iterate(struct ev_loop *loop, int timeout_ms)
{
	int wait = ev_wait_ms(loop, timeout_ms);
	size_t ran = 0;
	int n;

	loop->st.iterations++;
	n = epoll_wait(loop->epfd, loop->batch, EV_BATCH, loop->sim ? 0 : wait);
	if (n == -1) {
		if (errno != EINTR)
			loop->st.wait_errors++;
		n = 0;
	}
	if (!loop->sim)
		ev_update_now(loop);
	else if (n == 0 && wait > 0) {
		/* Nothing ready: the virtual wait ends at once. */
		ev_clock_set_ms(loop, loop->now_ms + (uint64_t)wait);
		ran++;
	}
	ev_io_dispatch(loop, n);
	ran += (size_t)n;
	ran += ev_timer_run(loop);
	ran += ev_defer_run(loop);
	return ran;
}

void
ev_run_once(struct ev_loop *loop, int timeout_ms)
{
	ev_iterate(loop, timeout_ms);
}

void
ev_break(struct ev_loop *loop)
{
	loop->broken = true;
}

/*
 * The signalfd counts in nio, so registered signals keep the loop alive.
 * In sim mode an iteration that did nothing means nothing ever will (no
 * timer to jump to, no descriptor ready): return rather than spin.
 */
void
ev_run(struct ev_loop *loop)
{
	size_t ran;

	while (!loop->broken) {
		if (loop->nio == 0 && loop->nheap == 0 &&
		    loop->defers.len == 0 && loop->frees.len == 0)
			break;
		ran = ev_iterate(loop, -1);
		if (loop->sim && ran == 0)
			break;
	}
	loop->broken = false;
}

/*
 * Iterate until an iteration finds nothing to do at the target time. Each
 * step either runs ready work at the current time or jumps to the next
 * deadline, never past the target; ev_break() does not cut it short.
 */
void
ev_sim_advance(struct ev_loop *loop, uint64_t ms)
{
	uint64_t target = loop->now_ms + ms, left;
	size_t ran;

	if (!loop->sim)
		return;
	for (;;) {
		left = target - loop->now_ms;
		ran = ev_iterate(loop, left > INT_MAX ? INT_MAX : (int)left);
		if (ran == 0 && loop->now_ms == target)
			break;
	}
}
