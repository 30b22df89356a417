/*
 * Scenarios for ev.c on the simulated clock: half an hour of timers in
 * milliseconds of real time at exact virtual timestamps, the exact
 * semantics of ev_sim_advance, and socketpair I/O driven by the sim loop
 * (the clock stands still while descriptors are ready).
 */
#include <sys/socket.h>

#include <unistd.h>

#include "../unit/runner.h"
#include "lib/ev.h"
#include "lib/util.h"

#define SEV_START 5000000ull       /* arbitrary, non-zero virtual start */
#define SEV_SPAN  (30 * 60 * 1000) /* 30 minutes */
#define SEV_MAX   4096

struct sev_rec {
	int tag;
	uint64_t at;
};

static struct sev_rec sev_log[SEV_MAX];
static size_t sev_nlog;

struct sev_timer {
	struct ev_timer t;
	struct ev_loop *loop; /* borrowed */
	int tag;
	uint64_t period; /* 0: one-shot */
	uint64_t until;  /* re-arm while the next deadline is <= until */
	unsigned fired;
};

static void
sim_ev_timer_cb(struct ev_timer *t, void *arg)
{
	struct sev_timer *st = arg;
	uint64_t now = ev_now_ms(st->loop);

	T_ASSERT(sev_nlog < SEV_MAX);
	T_EQ_INT(now, t->when_ms);
	T_EQ_INT(ev_now_us(st->loop), now * 1000);
	sev_log[sev_nlog].tag = st->tag;
	sev_log[sev_nlog].at = now;
	sev_nlog++;
	st->fired++;
	if (st->period > 0 && now + st->period <= st->until)
		ev_timer_start(st->loop, t, st->period);
}

static void
sim_ev_st_init(
    struct sev_timer *st, struct ev_loop *loop, int tag, uint64_t period)
{
	memset(st, 0, sizeof(*st));
	st->loop = loop;
	st->tag = tag;
	st->period = period;
	st->until = ev_now_ms(loop) + SEV_SPAN;
	ev_timer_init(&st->t, sim_ev_timer_cb, st);
}

/* Heartbeat 1 s, check 7 s, report 5 min, a one-shot at the very end. */
static void
sim_ev_half_hour(void)
{
	struct ev_loop *loop = ev_loop_new_sim(SEV_START);
	struct sev_timer hb, chk, rep, last;

	sev_nlog = 0;
	sim_ev_st_init(&chk, loop, 2, 7000);
	sim_ev_st_init(&hb, loop, 1, 1000);
	sim_ev_st_init(&rep, loop, 3, 300000);
	sim_ev_st_init(&last, loop, 4, 0);
	ev_timer_start(loop, &chk.t, chk.period);
	ev_timer_start(loop, &hb.t, hb.period);
	ev_timer_start(loop, &rep.t, rep.period);
	ev_timer_start(loop, &last.t, SEV_SPAN);
	ev_run(loop);
	ev_loop_free(loop);
}

static void
test_thirty_minutes(void)
{
	struct sev_rec first[SEV_MAX];
	size_t i, n, hb = 0, chk = 0, tie = 0;
	uint64_t t0 = util_mono_ms(), prev = SEV_START;

	sim_ev_half_hour();
	T_ASSERT(util_mono_ms() - t0 < 2000);
	n = sev_nlog;
	T_EQ_INT(n, 1800 + 257 + 6 + 1);
	for (i = 0; i < n; i++) {
		T_ASSERT(sev_log[i].at >= prev);
		prev = sev_log[i].at;
		if (sev_log[i].tag == 1)
			T_EQ_INT(sev_log[i].at, SEV_START + ++hb * 1000);
		if (sev_log[i].tag == 2)
			T_EQ_INT(sev_log[i].at, SEV_START + ++chk * 7000);
		if (sev_log[i].at == SEV_START + 7000 && tie == 0)
			tie = i;
	}
	/*
	 * At 7 s both are due; the check was armed at 0 s, the heartbeat
	 * re-armed at 6 s: the check goes first.
	 */
	T_EQ_INT(sev_log[tie].tag, 2);
	T_EQ_INT(sev_log[tie + 1].tag, 1);
	T_EQ_INT(sev_log[tie + 1].at, SEV_START + 7000);
	T_EQ_INT(sev_log[n - 1].at, SEV_START + SEV_SPAN);
	/* Deterministic: a second run logs exactly the same. */
	memcpy(first, sev_log, n * sizeof(first[0]));
	sim_ev_half_hour();
	T_EQ_INT(sev_nlog, n);
	T_ASSERT(memcmp(first, sev_log, n * sizeof(first[0])) == 0);
}

static void
test_advance_semantics(void)
{
	struct ev_loop *loop = ev_loop_new_sim(1000);
	struct sev_timer a, b, c;

	sev_nlog = 0;
	sim_ev_st_init(&a, loop, 1, 0);
	ev_timer_start(loop, &a.t, 100);
	ev_sim_advance(loop, 99);
	T_EQ_INT(ev_now_ms(loop), 1099);
	T_EQ_INT(a.fired, 0);
	/* A deadline equal to the target fires within the advance. */
	ev_sim_advance(loop, 1);
	T_EQ_INT(a.fired, 1);
	T_EQ_INT(ev_now_ms(loop), 1100);
	/* Nothing due: the clock still lands exactly on the target. */
	ev_sim_advance(loop, 12345);
	T_EQ_INT(ev_now_ms(loop), 13445);
	/* Timers re-armed inside the advance fire inside it too. */
	sim_ev_st_init(&b, loop, 2, 10);
	ev_timer_start(loop, &b.t, 10);
	ev_sim_advance(loop, 35);
	T_EQ_INT(b.fired, 3);
	T_EQ_INT(ev_now_ms(loop), 13480);
	T_EQ_INT(b.t.when_ms, 13485); /* fired 13455, 13465, 13475 */
	/* advance(0) runs what is due now, without moving the clock. */
	sim_ev_st_init(&c, loop, 3, 0);
	ev_timer_start(loop, &c.t, 0);
	ev_sim_advance(loop, 0);
	T_EQ_INT(c.fired, 1);
	T_EQ_INT(ev_now_ms(loop), 13480);
	T_EQ_INT(b.fired, 3);
	ev_timer_stop(loop, &b.t);
	T_EQ_INT(ev_pending(loop), 0);
	/* ev_run with nothing left returns without moving the clock. */
	ev_run(loop);
	T_EQ_INT(ev_now_ms(loop), 13480);
	ev_loop_free(loop);
}

/*
 * A client pings an echo server over a socketpair every 500 ms, starting
 * at 1 s. The replies arrive at the very ms of the ping: I/O never moves
 * the virtual clock.
 */
struct sev_peer {
	struct ev_io io;
	struct ev_timer t;
	struct ev_loop *loop; /* borrowed */
	int rounds;
	uint64_t reply_at[8];
};

static void
sim_ev_echo_cb(struct ev_io *io, unsigned events, void *arg)
{
	char b[16];
	ssize_t n;

	T_ASSERT(events & EV_READ);
	n = read(io->fd, b, sizeof(b));
	T_ASSERT(n > 0);
	T_EQ_INT(write(io->fd, b, (size_t)n), n);
}

static void
sim_ev_ping_cb(struct ev_timer *t, void *arg)
{
	struct sev_peer *p = arg;

	T_EQ_INT(write(p->io.fd, "ping", 4), 4);
}

static void
sim_ev_reply_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct sev_peer *p = arg;
	char b[16];

	T_EQ_INT(read(io->fd, b, sizeof(b)), 4);
	T_ASSERT(memcmp(b, "ping", 4) == 0);
	p->reply_at[p->rounds++] = ev_now_ms(p->loop);
	if (p->rounds < 5)
		ev_timer_start(p->loop, &p->t, 500);
}

static void
test_socketpair_io(void)
{
	struct ev_loop *loop = ev_loop_new_sim(0);
	struct sev_peer cli = { 0 };
	struct ev_io srv;
	int sp[2], i;

	T_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	T_EQ_INT(util_set_nonblock(sp[0]), 0);
	T_EQ_INT(util_set_nonblock(sp[1]), 0);
	ev_io_init(&srv, sp[0], sim_ev_echo_cb, NULL);
	T_EQ_INT(ev_io_start(loop, &srv, EV_READ), 0);
	cli.loop = loop;
	ev_io_init(&cli.io, sp[1], sim_ev_reply_cb, &cli);
	T_EQ_INT(ev_io_start(loop, &cli.io, EV_READ), 0);
	ev_timer_init(&cli.t, sim_ev_ping_cb, &cli);
	ev_timer_start(loop, &cli.t, 1000);
	ev_sim_advance(loop, 2000);
	T_EQ_INT(cli.rounds, 3);
	T_EQ_INT(ev_now_ms(loop), 2000);
	/*
	 * Descriptors stay registered but nothing can become ready: the sim
	 * ev_run returns instead of blocking forever.
	 */
	ev_run(loop);
	T_EQ_INT(cli.rounds, 5);
	for (i = 0; i < 5; i++)
		T_EQ_INT(cli.reply_at[i], 1000 + 500 * (uint64_t)i);
	T_EQ_INT(ev_now_ms(loop), 3000);
	T_EQ_INT(ev_pending(loop), 2);
	ev_io_stop(loop, &srv);
	ev_io_stop(loop, &cli.io);
	close(sp[0]);
	close(sp[1]);
	ev_loop_free(loop);
}

static const struct test tests[] = {
	TEST(test_thirty_minutes),
	TEST(test_advance_semantics),
	TEST(test_socketpair_io),
};

TEST_MAIN(tests)
