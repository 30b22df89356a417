/*
 * test_hook.c - the serial hook runner (lib/hook.c) with real commands on a
 * real loop: order, exactly-once, the timeout kill of a whole process
 * group, the bound on captured stdout, the queue bound, retries with
 * back-off, and the scheduling policy a command starts with.
 *
 * Timeouts here are short (100-300 ms) so each test takes well under a
 * second; a runner that waited for a hung command would hit the runner's
 * own per-test timeout instead.
 */
#include <sys/types.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/hook.h"
#include "lib/util.h"
#include "runner.h"

#define TEST_HOOK_MAX 16

/* What the done callbacks saw, in the order they were called. */
struct test_hook_log {
	int n;
	int id[TEST_HOOK_MAX];
	enum hook_result res[TEST_HOOK_MAX];
	int status[TEST_HOOK_MAX];
	unsigned attempts[TEST_HOOK_MAX];
	char out[TEST_HOOK_MAX][HOOK_OUT_MAX + 1];
	size_t outlen[TEST_HOOK_MAX];
	bool truncated[TEST_HOOK_MAX];
	uint64_t at_ms[TEST_HOOK_MAX];
};

static struct test_hook_log test_hook_log;
static int test_hook_ids[TEST_HOOK_MAX];

static void
test_hook_done(const struct hook_outcome *o, void *arg)
{
	struct test_hook_log *l = &test_hook_log;
	int i = l->n++;

	T_ASSERT(i < TEST_HOOK_MAX);
	l->id[i] = *(int *)arg;
	l->res[i] = o->result;
	l->status[i] = o->status;
	l->attempts[i] = o->attempts;
	T_ASSERT(o->outlen <= HOOK_OUT_MAX);
	T_ASSERT(o->out[o->outlen] == '\0');
	memcpy(l->out[i], o->out, o->outlen + 1);
	l->outlen[i] = o->outlen;
	l->truncated[i] = o->truncated;
	l->at_ms[i] = util_mono_ms();
}

static void
test_hook_run(struct ev_loop *loop, struct hook_runner *r, uint64_t max_ms)
{
	uint64_t end = util_mono_ms() + max_ms;

	while (hook_pending(r) > 0 && util_mono_ms() < end)
		ev_run_once(loop, 20);
	T_EQ_INT(hook_pending(r), 0);
}

static struct hook_job
test_hook_exec(const char *cmd, int id)
{
	struct hook_job j = {
		.kind = HOOK_EXEC,
		.what = cmd,
		.timeout_ms = 2000,
		.capture = true,
		.done = test_hook_done,
	};

	test_hook_ids[id] = id;
	j.arg = &test_hook_ids[id];
	return j;
}

/*
 * Each job sleeps less than the one before: run in parallel they would
 * finish backwards. Serially, the outputs come in submit order, each
 * exactly once, with its own environment and positional parameters.
 */
static void
test_hook_order(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct hook_runner *r = hook_runner_new(loop, 16);
	char cmd[5][64], env[5][16], want[16];
	int i;

	for (i = 0; i < 5; i++) {
		struct hook_job j;

		/* The arguments are appended: printf ... "$@". */
		snprintf(cmd[i], sizeof(cmd[i]),
		    "sleep 0.0%d; printf '%%s|' \"$HOOK_N\"", 8 - i * 2);
		snprintf(env[i], sizeof(env[i]), "HOOK_N=%d", i);
		j = test_hook_exec(cmd[i], i);
		j.env[0] = env[i];
		j.nenv = 1;
		j.argv[0] = "a b"; /* one argument, space and all */
		j.argv[1] = "c";
		j.nargv = 2;
		T_EQ_INT(hook_submit(r, &j), 0);
	}
	T_EQ_INT(hook_pending(r), 5);
	test_hook_run(loop, r, 5000);
	T_EQ_INT(test_hook_log.n, 5);
	for (i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "%d|a b|c|", i);
		T_EQ_INT(test_hook_log.id[i], i);
		T_EQ_INT(test_hook_log.res[i], HOOK_OK);
		T_EQ_INT(test_hook_log.status[i], 0);
		T_EQ_STR(test_hook_log.out[i], want);
	}
	T_EQ_INT(hook_stats(r)->runs, 5);
	T_EQ_INT(hook_stats(r)->ok, 5);
	hook_runner_free(r);
	ev_loop_free(loop);
}

/* Whether pid is gone or a zombie (killed; its parent has not reaped). */
static bool
test_hook_dead(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	bool dead = true;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return true;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		dead = p[2] == 'Z' || p[2] == 'X';
	fclose(f);
	return dead;
}

/*
 * A command that hangs (its background child too) is killed at its
 * timeout, group and all; the next job still runs, right after.
 */
static void
test_hook_timeout_kill(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct hook_runner *r = hook_runner_new(loop, 16);
	struct hook_job hung = test_hook_exec("sleep 30 & echo $!; wait", 0);
	struct hook_job next = test_hook_exec("echo next", 1);
	uint64_t t0 = util_mono_ms(), end;
	pid_t bg;

	hung.timeout_ms = 200;
	T_EQ_INT(hook_submit(r, &hung), 0);
	T_EQ_INT(hook_submit(r, &next), 0);
	test_hook_run(loop, r, 5000);
	T_EQ_INT(test_hook_log.n, 2);
	T_EQ_INT(test_hook_log.res[0], HOOK_TIMEOUT);
	T_EQ_INT(test_hook_log.status[0], 128 + SIGKILL);
	T_ASSERT(test_hook_log.at_ms[0] - t0 >= 200);
	T_ASSERT(test_hook_log.at_ms[0] - t0 < 2000);
	T_EQ_INT(test_hook_log.res[1], HOOK_OK);
	T_EQ_STR(test_hook_log.out[1], "next\n");
	T_EQ_INT(hook_stats(r)->timeouts, 1);
	T_EQ_INT(hook_stats(r)->failed, 1);
	T_EQ_INT(hook_stats(r)->ok, 1);
	/* The background sleep was in the group: gone too. */
	bg = (pid_t)atoi(test_hook_log.out[0]);
	T_ASSERT(bg > 1);
	end = util_mono_ms() + 2000;
	while (!test_hook_dead(bg) && util_mono_ms() < end)
		usleep(10000);
	T_ASSERT(test_hook_dead(bg));
	hook_runner_free(r);
	ev_loop_free(loop);
}

/*
 * 100 KB of stdout: the first HOOK_OUT_MAX bytes are kept, the rest read
 * and dropped, so the command is not blocked on a full pipe and exits 0.
 */
static void
test_hook_capture_bound(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct hook_runner *r = hook_runner_new(loop, 16);
	struct hook_job big = test_hook_exec(
	    "head -c 100000 /dev/zero | tr '\\0' x; echo done >&2", 0);
	struct hook_job small = test_hook_exec("printf 'hello'", 1);
	size_t i;

	T_EQ_INT(hook_submit(r, &big), 0);
	T_EQ_INT(hook_submit(r, &small), 0);
	test_hook_run(loop, r, 5000);
	T_EQ_INT(test_hook_log.n, 2);
	T_EQ_INT(test_hook_log.res[0], HOOK_OK);
	T_EQ_INT(test_hook_log.outlen[0], HOOK_OUT_MAX);
	T_ASSERT(test_hook_log.truncated[0]);
	for (i = 0; i < HOOK_OUT_MAX; i++)
		T_ASSERT(test_hook_log.out[0][i] == 'x');
	/* Each attempt starts with an empty capture. */
	T_EQ_STR(test_hook_log.out[1], "hello");
	T_ASSERT(!test_hook_log.truncated[1]);
	hook_runner_free(r);
	ev_loop_free(loop);
}

/* Past qmax (the running job included), a job is refused and counted. */
static void
test_hook_queue_bound(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct hook_runner *r = hook_runner_new(loop, 3);
	struct hook_job j;
	int i;

	for (i = 0; i < 5; i++) {
		j = test_hook_exec("sleep 0.02; echo $HOOK_N", i);
		T_EQ_INT(hook_submit(r, &j), i < 3 ? 0 : -ENOBUFS);
	}
	T_EQ_INT(hook_stats(r)->dropped, 2);
	test_hook_run(loop, r, 5000);
	T_EQ_INT(test_hook_log.n, 3);
	for (i = 0; i < 3; i++)
		T_EQ_INT(test_hook_log.id[i], i);
	/* Room again once the queue drained. */
	j = test_hook_exec("true", 5);
	T_EQ_INT(hook_submit(r, &j), 0);
	test_hook_run(loop, r, 5000);
	T_EQ_INT(test_hook_log.n, 4);
	T_EQ_INT(hook_stats(r)->dropped, 2);
	hook_runner_free(r);
	ev_loop_free(loop);
}

/* A failing job is retried after 50 ms, then 100 ms (doubled, capped). */
static void
test_hook_retry_backoff(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct hook_runner *r = hook_runner_new(loop, 16);
	struct hook_job j = test_hook_exec("echo try; exit 3", 0);
	uint64_t t0 = util_mono_ms();

	j.retries = 2;
	j.backoff_ms = 50;
	j.backoff_max_ms = 100;
	T_EQ_INT(hook_submit(r, &j), 0);
	test_hook_run(loop, r, 5000);
	T_EQ_INT(test_hook_log.n, 1);
	T_EQ_INT(test_hook_log.res[0], HOOK_FAILED);
	T_EQ_INT(test_hook_log.status[0], 3);
	T_EQ_INT(test_hook_log.attempts[0], 3);
	T_EQ_STR(test_hook_log.out[0], "try\n"); /* the last attempt's */
	T_ASSERT(test_hook_log.at_ms[0] - t0 >= 150);
	T_EQ_INT(hook_stats(r)->runs, 3);
	T_EQ_INT(hook_stats(r)->retries, 2);
	T_EQ_INT(hook_stats(r)->failed, 1);
	hook_runner_free(r);
	ev_loop_free(loop);
}

/*
 * A real-time caller (the vrrp process) must not hand its policy to a
 * hook. Set SCHED_RR here without SCHED_RESET_ON_FORK: the runner's child
 * resets it itself. Needs the privilege to go real-time.
 */
static void
test_hook_sched_reset(void)
{
	struct sched_param sp = { .sched_priority = 5 };
	struct ev_loop *loop;
	struct hook_runner *r;
	struct hook_job j;

	if (sched_setscheduler(0, SCHED_RR, &sp) != 0)
		T_SKIP("cannot go SCHED_RR here");
	loop = ev_loop_new();
	r = hook_runner_new(loop, 16);
	/* Field 41 of /proc/PID/stat is the policy; comm "sh" has no
	 * space, so awk's fields line up. */
	j = test_hook_exec("awk '{print $41}' /proc/$$/stat", 0);
	T_EQ_INT(hook_submit(r, &j), 0);
	test_hook_run(loop, r, 5000);
	T_EQ_INT(test_hook_log.n, 1);
	T_EQ_STR(test_hook_log.out[0], "0\n");
	hook_runner_free(r);
	ev_loop_free(loop);
}

static const struct test tests[] = {
	TEST(test_hook_order),
	TEST(test_hook_timeout_kill),
	TEST(test_hook_capture_bound),
	TEST(test_hook_queue_bound),
	TEST(test_hook_retry_backoff),
	TEST(test_hook_sched_reset),
};

TEST_MAIN(tests)
