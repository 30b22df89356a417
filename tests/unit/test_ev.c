/*
 * Unit tests for ev.c: timer order and ties, re-arming from callbacks,
 * handles stopped in the middle of an epoll batch, signals through the
 * signalfd, deferred work ordering and when ev_run returns. Timing goes on
 * the simulated clock; the real loop is exercised only where nothing waits.
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "lib/ev.h"
#include "lib/util.h"
#include "runner.h"

#define TEV_LOG_MAX 64

/* A log of callback tags, shared by the tests below. */
static int tev_log[TEV_LOG_MAX];
static size_t tev_nlog;

static void
test_ev_log(int tag)
{
	T_ASSERT(tev_nlog < TEV_LOG_MAX);
	tev_log[tev_nlog++] = tag;
}

struct tev_timer {
	struct ev_timer t;
	struct ev_loop *loop; /* borrowed */
	int tag;
	int rearm; /* times left to re-arm itself */
	uint64_t period;
	uint64_t fired_at;
};

static void
test_ev_timer_cb(struct ev_timer *t, void *arg)
{
	struct tev_timer *tt = arg;

	T_ASSERT(&tt->t == t);
	T_ASSERT(!ev_timer_active(t));
	tt->fired_at = ev_now_ms(tt->loop);
	test_ev_log(tt->tag);
	if (tt->rearm > 0) {
		tt->rearm--;
		ev_timer_start(tt->loop, t, tt->period);
	}
}

static void
test_ev_tt_init(struct tev_timer *tt, struct ev_loop *loop, int tag)
{
	memset(tt, 0, sizeof(*tt));
	tt->loop = loop;
	tt->tag = tag;
	ev_timer_init(&tt->t, test_ev_timer_cb, tt);
}

static void
test_timer_order_and_ties(void)
{
	struct ev_loop *loop = ev_loop_new_sim(1000);
	struct tev_timer tt[6];
	/* Deadlines: tags 0,3 and 1,4 tie; 2 re-armed to a later tie. */
	uint64_t after[6] = { 20, 10, 5, 20, 10, 30 };
	int want[] = { 1, 4, 0, 3, 2, 5 };
	size_t i;

	tev_nlog = 0;
	for (i = 0; i < 6; i++) {
		test_ev_tt_init(&tt[i], loop, (int)i);
		ev_timer_start(loop, &tt[i].t, after[i]);
	}
	/* Re-arming moves 2 behind 3 although it was armed first. */
	ev_timer_start(loop, &tt[2].t, 20);
	T_EQ_INT(ev_pending(loop), 6);
	ev_run(loop);
	T_EQ_INT(tev_nlog, 6);
	for (i = 0; i < 6; i++)
		T_EQ_INT(tev_log[i], want[i]);
	T_EQ_INT(tt[1].fired_at, 1010);
	T_EQ_INT(tt[2].fired_at, 1020);
	T_EQ_INT(tt[5].fired_at, 1030);
	T_EQ_INT(ev_pending(loop), 0);
	ev_loop_free(loop);
}

static struct ev_timer *tev_order[200];
static size_t tev_norder;

static void
test_ev_heap_cb(struct ev_timer *t, void *arg)
{
	struct ev_loop *loop = arg;

	T_ASSERT(t->when_ms == ev_now_ms(loop));
	tev_order[tev_norder++] = t;
}

static void
test_timer_stop_and_heap(void)
{
	struct ev_loop *loop = ev_loop_new_sim(0);
	struct ev_timer t[200];
	size_t i, stopped = 0;

	/* A pseudo-random mix of deadlines, re-arms and stops. */
	srandom(7);
	for (i = 0; i < 200; i++) {
		ev_timer_init(&t[i], test_ev_heap_cb, loop);
		ev_timer_start(loop, &t[i], (uint64_t)(random() % 50));
	}
	for (i = 0; i < 200; i += 7)
		ev_timer_start(loop, &t[i], (uint64_t)(random() % 50));
	for (i = 0; i < 200; i += 3) {
		ev_timer_stop(loop, &t[i]);
		ev_timer_stop(loop, &t[i]); /* idempotent */
		T_ASSERT(!ev_timer_active(&t[i]));
		stopped++;
	}
	T_EQ_INT(ev_pending(loop), 200 - stopped);
	ev_run(loop);
	T_EQ_INT(tev_norder, 200 - stopped);
	for (i = 1; i < tev_norder; i++) {
		T_ASSERT(tev_order[i - 1]->when_ms <= tev_order[i]->when_ms);
		if (tev_order[i - 1]->when_ms == tev_order[i]->when_ms)
			T_ASSERT(tev_order[i - 1]->seq < tev_order[i]->seq);
	}
	ev_loop_free(loop);
}

static void
test_timer_rearm_from_callback(void)
{
	struct ev_loop *loop = ev_loop_new_sim(0);
	struct tev_timer a, b;

	tev_nlog = 0;
	test_ev_tt_init(&a, loop, 1);
	a.rearm = 4;
	a.period = 100;
	test_ev_tt_init(&b, loop, 2);
	ev_timer_start(loop, &a.t, 100);
	ev_timer_start(loop, &b.t, 250);
	ev_run(loop);
	/* a at 100,200,300,400,500; b at 250. */
	T_EQ_INT(tev_nlog, 6);
	T_EQ_INT(tev_log[0], 1);
	T_EQ_INT(tev_log[1], 1);
	T_EQ_INT(tev_log[2], 2);
	T_EQ_INT(tev_log[5], 1);
	T_EQ_INT(a.fired_at, 500);
	T_EQ_INT(ev_now_ms(loop), 500);
	ev_loop_free(loop);
}

static void
test_timer_zero_rearm_yields(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct tev_timer a;

	/* Re-armed with 0 ms, it must fire once per iteration, not spin. */
	tev_nlog = 0;
	test_ev_tt_init(&a, loop, 1);
	a.rearm = 10;
	ev_timer_start(loop, &a.t, 0);
	ev_run_once(loop, 0);
	T_EQ_INT(tev_nlog, 1);
	ev_run_once(loop, 0);
	T_EQ_INT(tev_nlog, 2);
	ev_run(loop);
	T_EQ_INT(tev_nlog, 11);
	ev_loop_free(loop);
}

/* Two handles ready in one batch; whichever runs first kills the other. */
struct tev_conn {
	struct ev_io io;
	struct ev_loop *loop;   /* borrowed */
	struct tev_conn **peer; /* borrowed: slot holding the other conn */
	struct tev_conn **self; /* borrowed: slot holding this conn */
	int *calls;             /* borrowed */
};

static void
test_ev_conn_free(void *p)
{
	struct tev_conn *c = p;

	*c->self = NULL;
	free(c);
}

static void
test_ev_conn_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct tev_conn *c = arg, *peer = *c->peer;

	T_ASSERT(io == &c->io);
	T_ASSERT(events & EV_READ);
	(*c->calls)++;
	if (peer != NULL) {
		ev_io_stop(c->loop, &peer->io);
		ev_defer_free(c->loop, peer, test_ev_conn_free);
		/* Not freed yet: the batch is still running. */
		T_ASSERT(*c->peer == peer);
	}
	ev_io_stop(c->loop, io);
}

static void
test_stop_during_batch(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct tev_conn *slot[2];
	struct ev_stats st;
	int sp[2][2], calls = 0, i;

	for (i = 0; i < 2; i++) {
		T_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sp[i]), 0);
		T_EQ_INT(write(sp[i][1], "x", 1), 1);
		slot[i] = xcalloc(1, sizeof(*slot[i]));
	}
	for (i = 0; i < 2; i++) {
		slot[i]->loop = loop;
		slot[i]->self = &slot[i];
		slot[i]->peer = &slot[1 - i];
		slot[i]->calls = &calls;
		ev_io_init(&slot[i]->io, sp[i][0], test_ev_conn_cb, slot[i]);
		T_EQ_INT(ev_io_start(loop, &slot[i]->io, EV_READ), 0);
	}
	T_EQ_INT(ev_pending(loop), 2);
	ev_run_once(loop, 1000);
	T_EQ_INT(calls, 1);
	/* The deferred free ran at the end of the iteration. */
	T_ASSERT((slot[0] == NULL) != (slot[1] == NULL));
	ev_get_stats(loop, &st);
	T_EQ_INT(st.stale_events, 1);
	T_EQ_INT(st.frees_run, 1);
	T_EQ_INT(ev_pending(loop), 0);
	free(slot[0] != NULL ? slot[0] : slot[1]);
	ev_loop_free(loop);
	for (i = 0; i < 4; i++)
		close(sp[i / 2][i % 2]);
}

struct tev_io {
	struct ev_io io;
	unsigned got;
	int calls;
};

static void
test_ev_io_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct tev_io *t = arg;

	t->got = events;
	t->calls++;
}

static void
test_io_interest_and_error(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct tev_io t = { 0 };
	int sp[2];

	T_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	ev_io_init(&t.io, sp[0], test_ev_io_cb, &t);
	/* Writable at once; nothing to read. */
	T_EQ_INT(ev_io_start(loop, &t.io, EV_READ | EV_WRITE), 0);
	ev_run_once(loop, 1000);
	T_EQ_INT(t.calls, 1);
	T_EQ_INT(t.got, EV_WRITE);
	/* Narrowed to READ: no call while nothing arrives. */
	T_EQ_INT(ev_io_start(loop, &t.io, EV_READ), 0);
	ev_run_once(loop, 0);
	T_EQ_INT(t.calls, 1);
	/* Peer hangs up: READ with ERROR. */
	close(sp[1]);
	ev_run_once(loop, 1000);
	T_EQ_INT(t.calls, 2);
	T_ASSERT(t.got & EV_READ);
	T_ASSERT(t.got & EV_ERROR);
	/* events 0 stops; stop is idempotent. */
	T_EQ_INT(ev_io_start(loop, &t.io, 0), 0);
	T_EQ_INT(t.io.events, 0);
	ev_io_stop(loop, &t.io);
	T_EQ_INT(ev_pending(loop), 0);
	/* A bad fd is reported, not fatal. */
	ev_io_init(&t.io, 1000000, test_ev_io_cb, &t);
	T_EQ_INT(ev_io_start(loop, &t.io, EV_READ), -EBADF);
	T_EQ_INT(ev_pending(loop), 0);
	close(sp[0]);
	ev_loop_free(loop);
}

static int tev_sig_count[_NSIG];

static void
test_ev_sig_cb(struct ev_loop *loop, int signo, void *arg)
{
	T_ASSERT(arg == (void *)loop);
	tev_sig_count[signo]++;
	if (tev_sig_count[SIGUSR1] > 0 && tev_sig_count[SIGUSR2] > 0)
		ev_break(loop);
}

static void
test_signals(void)
{
	struct ev_loop *loop = ev_loop_new();
	sigset_t cur;

	T_EQ_INT(ev_signal_add(loop, SIGUSR1, test_ev_sig_cb, loop), 0);
	T_EQ_INT(ev_signal_add(loop, SIGUSR2, test_ev_sig_cb, loop), 0);
	T_EQ_INT(ev_signal_add(loop, 0, test_ev_sig_cb, loop), -EINVAL);
	/* Signals are not handles: ev_pending ignores the signalfd. */
	T_EQ_INT(ev_pending(loop), 0);
	T_EQ_INT(sigprocmask(SIG_BLOCK, NULL, &cur), 0);
	T_ASSERT(sigismember(&cur, SIGUSR1));
	T_ASSERT(sigismember(&cur, SIGUSR2));
	/* Blocked, so raise() only makes them pending: no default action. */
	T_EQ_INT(raise(SIGUSR1), 0);
	T_EQ_INT(raise(SIGUSR2), 0);
	/* Registered signals keep ev_run going until the break. */
	ev_run(loop);
	T_EQ_INT(tev_sig_count[SIGUSR1], 1);
	T_EQ_INT(tev_sig_count[SIGUSR2], 1);
	T_EQ_INT(raise(SIGUSR1), 0);
	ev_run_once(loop, 1000);
	T_EQ_INT(tev_sig_count[SIGUSR1], 2);
	ev_loop_free(loop);
}

struct tev_defer {
	struct ev_loop *loop; /* borrowed */
	int tag;
};

static void
test_ev_defer_cb(void *arg)
{
	struct tev_defer *d = arg;

	test_ev_log(d->tag);
	/* Queued from a deferred callback: still before the next wait. */
	if (d->tag == 1) {
		static struct tev_defer late = { NULL, 9 };

		late.loop = d->loop;
		ev_defer(d->loop, test_ev_defer_cb, &late);
	}
}

static void
test_ev_defer_free_fn(void *p)
{
	test_ev_log(100);
	free(p);
}

static void
test_ev_defer_io_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct tev_defer *d = arg;

	test_ev_log(0);
	ev_defer_free(d->loop, xmalloc(16), test_ev_defer_free_fn);
	ev_defer_free(d->loop, xmalloc(16), NULL); /* plain free() */
	ev_defer(d->loop, test_ev_defer_cb, &d[1]);
	ev_defer(d->loop, test_ev_defer_cb, &d[2]);
	/* Deferred work has not run inside the batch. */
	T_EQ_INT(tev_nlog, 1);
	ev_io_stop(d->loop, io);
}

static void
test_defer_order(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct tev_defer d[3] = { { loop, 0 }, { loop, 1 }, { loop, 2 } };
	int want[] = { 0, 1, 2, 9, 100 };
	struct ev_stats st;
	struct ev_io io;
	int sp[2];
	size_t i;

	tev_nlog = 0;
	T_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	T_EQ_INT(write(sp[1], "x", 1), 1);
	ev_io_init(&io, sp[0], test_ev_defer_io_cb, d);
	T_EQ_INT(ev_io_start(loop, &io, EV_READ), 0);
	ev_run_once(loop, 1000);
	T_EQ_INT(tev_nlog, 5);
	for (i = 0; i < 5; i++)
		T_EQ_INT(tev_log[i], want[i]);
	ev_get_stats(loop, &st);
	T_EQ_INT(st.defers_run, 3);
	T_EQ_INT(st.frees_run, 2);
	close(sp[0]);
	close(sp[1]);
	ev_loop_free(loop);
}

static void
test_ev_break_cb(struct ev_timer *t, void *arg)
{
	struct ev_loop *loop = arg;

	test_ev_log(1);
	ev_break(loop);
	/* Still armed: only the break ends ev_run. */
	ev_timer_start(loop, t, 10);
}

static void
test_run_returns(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct tev_defer d = { loop, 5 };
	struct tev_timer a;
	struct ev_timer b;
	uint64_t t0;

	/* Nothing registered: returns at once. */
	ev_run(loop);
	/* A real 0 ms timer: runs, then ev_run has nothing left. */
	tev_nlog = 0;
	test_ev_tt_init(&a, loop, 7);
	ev_timer_start(loop, &a.t, 0);
	t0 = util_mono_ms();
	ev_run(loop);
	T_EQ_INT(tev_nlog, 1);
	T_ASSERT(util_mono_ms() - t0 < 1000);
	T_EQ_INT(ev_pending(loop), 0);
	/* A real 5 ms timer: the cached clock moves with the real one. */
	t0 = ev_now_ms(loop);
	ev_timer_start(loop, &a.t, 5);
	ev_run(loop);
	T_EQ_INT(tev_nlog, 2);
	T_ASSERT(a.fired_at >= t0 + 5);
	T_ASSERT(util_mono_ms() >= a.fired_at);
	/* A deferred callback alone keeps it going for one iteration. */
	ev_defer(loop, test_ev_defer_cb, &d);
	ev_run(loop);
	T_EQ_INT(tev_nlog, 3);
	/* ev_break ends a loop that still has work. */
	ev_timer_init(&b, test_ev_break_cb, loop);
	ev_timer_start(loop, &b, 0);
	ev_run(loop);
	T_EQ_INT(tev_nlog, 4);
	T_ASSERT(ev_timer_active(&b));
	ev_timer_stop(loop, &b);
	ev_loop_free(loop);
}

static void
test_now_consistent(void)
{
	struct ev_loop *real = ev_loop_new();
	struct ev_loop *sim = ev_loop_new_sim(12345);
	uint64_t before;

	T_ASSERT(!ev_is_sim(real));
	T_ASSERT(ev_is_sim(sim));
	T_EQ_INT(ev_now_ms(real), ev_now_us(real) / 1000);
	before = ev_now_us(real);
	ev_update_now(real);
	T_ASSERT(ev_now_us(real) >= before);
	T_EQ_INT(ev_now_ms(sim), 12345);
	T_EQ_INT(ev_now_us(sim), 12345000);
	ev_update_now(sim); /* no-op */
	T_EQ_INT(ev_now_ms(sim), 12345);
	ev_loop_free(real);
	ev_loop_free(sim);
}

static const struct test tests[] = {
	TEST(test_timer_order_and_ties),
	TEST(test_timer_stop_and_heap),
	TEST(test_timer_rearm_from_callback),
	TEST(test_timer_zero_rearm_yields),
	TEST(test_stop_during_batch),
	TEST(test_io_interest_and_error),
	TEST(test_signals),
	TEST(test_defer_order),
	TEST(test_run_returns),
	TEST(test_now_consistent),
};

TEST_MAIN(tests)
