/*
 * Unit tests for sup.c, the parent's supervisor, with real child processes:
 * self_exe points at a small shell script (written to a temporary directory
 * by each test) that sup execs as `script __child PLANE WORKER` with the
 * channel on fd 3. The plane name picks the script's behaviour:
 *
 *   hello  records its argv, sends IPC_READY id 7, exits 0 on any message
 *   hang   sleeps (ignores IPC_STOP: must be killed at the deadline)
 *   exit   exits 3 at once (restarted with back-off)
 *   flaky  exits 1 at once unless the file "up" exists, then sleeps
 *
 * Timer behaviour (back-off, stop deadline, the stable-run reset) runs on
 * the simulated clock: the loop jumps to each timer while the real children
 * start and die in real time, so the intervals are checked exactly. Waits
 * for the children themselves are bounded (five seconds).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "cmd/sup.h"
#include "lib/util.h"
#include "runner.h"

#define TEST_SUP_SPAWNS 8

static const char test_sup_script[] =
    "#!/bin/sh\n"
    "# argv: __child PLANE WORKER; the channel is fd 3.\n"
    "dir=$(dirname \"$0\")\n"
    "case \"$2\" in\n"
    "hello)\n"
    "\techo \"$1 $2 $3\" >\"$dir/argv.$3\"\n"
    "\tprintf '\\003\\000\\000\\000\\000\\000\\000\\000"
    "\\007\\000\\000\\000\\000\\000\\000\\000' >&3\n"
    "\thead -c 1 <&3 >/dev/null\n"
    "\texit 0 ;;\n"
    "hang) exec sleep 10 >/dev/null 2>&1 ;;\n"
    "exit) exit 3 ;;\n"
    "flaky) [ -e \"$dir/up\" ] && exec sleep 10 >/dev/null 2>&1\n"
    "\texit 1 ;;\n"
    "esac\n"
    "exit 99\n";

struct test_sup_ctx {
	struct ev_loop *loop; /* borrowed */
	int spawned, msgs, exited;
	uint64_t spawn_ms[TEST_SUP_SPAWNS]; /* loop clock at each spawn */
	uint64_t exit_ms;                   /* loop clock at the last exit */
	enum ipc_type msg_type;
	uint32_t msg_id;
	enum sup_state exit_state; /* state seen by the exited hook */
	char dir[64];
	char exe[96];
};

static void
test_sup_spawned(struct sup_child *c, void *arg)
{
	struct test_sup_ctx *x = arg;

	if (x->spawned < TEST_SUP_SPAWNS)
		x->spawn_ms[x->spawned] = ev_now_ms(x->loop);
	x->spawned++;
}

static void
test_sup_msg(struct sup_child *c, const struct ipc_msg *m, void *arg)
{
	struct test_sup_ctx *x = arg;

	x->msgs++;
	x->msg_type = m->type;
	x->msg_id = m->id;
	if (m->fd != -1)
		close(m->fd);
}

static void
test_sup_exited(struct sup_child *c, void *arg)
{
	struct test_sup_ctx *x = arg;

	x->exited++;
	x->exit_ms = ev_now_ms(x->loop);
	x->exit_state = c->state;
}

static struct sup *
test_sup_new(struct test_sup_ctx *x, bool sim)
{
	FILE *f;

	memset(x, 0, sizeof(*x));
	x->loop = sim ? ev_loop_new_sim(5000) : ev_loop_new();
	snprintf(x->dir, sizeof(x->dir), "/tmp/haven-sup-XXXXXX");
	T_ASSERT(mkdtemp(x->dir) != NULL);
	snprintf(x->exe, sizeof(x->exe), "%s/child.sh", x->dir);
	f = fopen(x->exe, "w");
	T_ASSERT(f != NULL);
	T_ASSERT(fputs(test_sup_script, f) >= 0);
	T_EQ_INT(fclose(f), 0);
	T_EQ_INT(chmod(x->exe, 0755), 0);
	return sup_new(x->loop, x->exe, test_sup_spawned, test_sup_msg,
	    test_sup_exited, x);
}

static void
test_sup_free(struct test_sup_ctx *x, struct sup *s)
{
	char p[128];

	sup_stop_all(s, 0);
	for (struct sup_child *c = sup_first(s); c != NULL; c = c->next)
		T_EQ_INT(c->pid, 0);
	sup_free(s);
	ev_loop_free(x->loop);
	snprintf(p, sizeof(p), "%s/up", x->dir);
	(void)unlink(p);
	for (int w = 0; w < 4; w++) {
		snprintf(p, sizeof(p), "%s/argv.%d", x->dir, w);
		(void)unlink(p);
	}
	T_EQ_INT(unlink(x->exe), 0);
	T_EQ_INT(rmdir(x->dir), 0);
}

/*
 * Run the loop until cond holds or five real seconds pass. On the sim loop
 * each step may jump the clock to the next timer; the short nap lets the
 * real children make progress meanwhile.
 */
#define TEST_SUP_WAIT(x, cond)                                                 \
	do {                                                                   \
		uint64_t _end = util_mono_ms() + 5000;                         \
		while (!(cond) && util_mono_ms() < _end) {                     \
			if (ev_is_sim((x)->loop)) {                            \
				ev_run_once((x)->loop, -1);                    \
				(void)poll(NULL, 0, 1);                        \
			} else {                                               \
				ev_run_once((x)->loop, 10);                    \
			}                                                      \
		}                                                              \
	} while (0)

static void
test_spawn_message_graceful_stop(void)
{
	struct test_sup_ctx x;
	struct sup *s = test_sup_new(&x, false);
	struct sup_child *c;
	char path[128], argv[64] = "";
	uint64_t t0;
	FILE *f;

	c = sup_start(s, "hello", 2, 3);
	T_ASSERT(c != NULL && c->pid > 0);
	T_EQ_INT(x.spawned, 1); /* the hook runs at once: it sends HELLO */
	T_EQ_INT(c->state, SUP_STARTING);
	T_ASSERT(sup_child_live(c));
	T_EQ_STR(c->plane, "hello");
	T_EQ_INT(c->worker, 2);
	T_EQ_INT(c->nworkers, 3);
	TEST_SUP_WAIT(&x, x.msgs > 0);
	T_EQ_INT(x.msgs, 1);
	T_EQ_INT(x.msg_type, IPC_READY);
	T_EQ_INT(x.msg_id, 7);
	T_EQ_INT(c->chan.rx_bad, 0);
	snprintf(path, sizeof(path), "%s/argv.2", x.dir);
	f = fopen(path, "r");
	T_ASSERT(f != NULL);
	T_ASSERT(fgets(argv, sizeof(argv), f) != NULL);
	fclose(f);
	T_EQ_STR(argv, "__child hello 2\n");

	/* IPC_STOP reaches the child, which exits well before the deadline. */
	t0 = util_mono_ms();
	sup_stop(c, 3000);
	T_EQ_INT(c->state, SUP_STOPPING);
	TEST_SUP_WAIT(&x, c->state == SUP_STOPPED);
	T_EQ_INT(c->state, SUP_STOPPED);
	T_ASSERT(util_mono_ms() - t0 < 3000);
	T_ASSERT(WIFEXITED(c->last_exit) && WEXITSTATUS(c->last_exit) == 0);
	T_EQ_INT(x.exited, 1);
	T_EQ_INT(x.exit_state, SUP_STOPPED);
	T_EQ_INT(c->pid, 0);
	T_ASSERT(!sup_child_live(c));
	T_EQ_INT(c->restarts, 0);
	T_EQ_INT(sup_restarts_total(s), 0);
	sup_stop(c, 100); /* idempotent */
	T_EQ_INT(c->state, SUP_STOPPED);
	test_sup_free(&x, s);
}

static void
test_backoff_doubles_to_max(void)
{
	static const uint64_t want[] = { 100, 200, 400, 500, 500 };
	struct test_sup_ctx x;
	struct sup *s = test_sup_new(&x, true);
	struct sup_child *c;

	sup_set_backoff_max(s, 500);
	c = sup_start(s, "exit", 0, 1);
	TEST_SUP_WAIT(&x, x.spawned >= 6);
	T_EQ_INT(x.spawned, 6);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (x.spawn_ms[i + 1] - x.spawn_ms[i] != want[i])
			test_fail(__FILE__, __LINE__,
			    "restart %zu after %llu ms, want %llu", i + 1,
			    (unsigned long long)(x.spawn_ms[i + 1] -
			        x.spawn_ms[i]),
			    (unsigned long long)want[i]);
	T_ASSERT(x.exited >= 5);
	T_ASSERT(c->restarts >= 5);
	T_ASSERT(sup_restarts_total(s) >= 5);
	/* Between lives: waiting, unreachable, with the exit recorded. */
	TEST_SUP_WAIT(&x, c->state == SUP_BACKOFF);
	T_EQ_INT(c->state, SUP_BACKOFF);
	T_ASSERT(!sup_child_live(c));
	T_EQ_INT(c->pid, 0);
	T_ASSERT(WIFEXITED(c->last_exit) && WEXITSTATUS(c->last_exit) == 3);
	T_EQ_INT(x.exit_state, SUP_BACKOFF);
	/* Stopped while waiting: never started again. */
	sup_stop(c, 1000);
	T_EQ_INT(c->state, SUP_STOPPED);
	ev_sim_advance(x.loop, 60000);
	T_EQ_INT(x.spawned, 6);
	test_sup_free(&x, s);
}

/* A child that stayed up 10 s is restarted after 100 ms again. */
static void
test_stable_run_resets_backoff(void)
{
	struct test_sup_ctx x;
	struct sup *s = test_sup_new(&x, true);
	struct sup_child *c;
	char up[128];
	FILE *f;

	c = sup_start(s, "flaky", 0, 1);
	TEST_SUP_WAIT(&x, x.spawned == 3 && c->state == SUP_BACKOFF);
	T_EQ_INT(c->state, SUP_BACKOFF);
	T_EQ_INT(c->restarts, 3);
	/* From now on the child stays up. */
	snprintf(up, sizeof(up), "%s/up", x.dir);
	f = fopen(up, "w");
	T_ASSERT(f != NULL);
	fclose(f);
	TEST_SUP_WAIT(&x, x.spawned == 4);
	T_EQ_INT(x.spawn_ms[3] - x.spawn_ms[2], 400);
	T_EQ_INT(c->backoff_ms, 800);
	ev_sim_advance(x.loop, 10000);
	T_EQ_INT(c->state, SUP_STARTING);
	T_ASSERT(c->pid > 0);
	T_EQ_INT(kill(c->pid, SIGKILL), 0);
	TEST_SUP_WAIT(&x, x.spawned == 5);
	T_EQ_INT(x.spawned, 5);
	T_EQ_INT(x.spawn_ms[4] - x.spawn_ms[3], 10000 + 100);
	T_ASSERT(WIFSIGNALED(c->last_exit));
	test_sup_free(&x, s);
}

/* A child that ignores IPC_STOP is killed 500 ms past its deadline. */
static void
test_stop_deadline_kills(void)
{
	struct test_sup_ctx x;
	struct sup *s = test_sup_new(&x, true);
	struct sup_child *c;
	uint64_t t0;

	c = sup_start(s, "hang", 0, 1);
	t0 = ev_now_ms(x.loop);
	sup_stop(c, 1000);
	TEST_SUP_WAIT(&x, c->state == SUP_STOPPED);
	T_EQ_INT(c->state, SUP_STOPPED);
	T_EQ_INT(x.exit_ms - t0, 1500);
	T_ASSERT(
	    WIFSIGNALED(c->last_exit) && WTERMSIG(c->last_exit) == SIGKILL);
	T_EQ_INT(x.spawned, 1);
	T_EQ_INT(c->restarts, 0);
	T_EQ_INT(x.exit_state, SUP_STOPPED);
	ev_sim_advance(x.loop, 60000);
	T_EQ_INT(x.spawned, 1);
	test_sup_free(&x, s);
}

/* stop_all returns with every child gone: graceful ones and the stuck one. */
static void
test_stop_all(void)
{
	struct test_sup_ctx x;
	struct sup *s = test_sup_new(&x, false);
	struct sup_child *h0, *h1, *hang;
	uint64_t t0;

	h0 = sup_start(s, "hello", 0, 2);
	h1 = sup_start(s, "hello", 1, 2);
	hang = sup_start(s, "hang", 0, 1);
	TEST_SUP_WAIT(&x, x.msgs == 2);
	T_EQ_INT(x.msgs, 2);
	t0 = util_mono_ms();
	sup_stop_all(s, 200);
	T_ASSERT(util_mono_ms() - t0 < 2000);
	T_EQ_INT(h0->pid, 0);
	T_EQ_INT(h1->pid, 0);
	T_EQ_INT(hang->pid, 0);
	T_ASSERT(WIFEXITED(h0->last_exit) && WEXITSTATUS(h0->last_exit) == 0);
	T_ASSERT(WIFEXITED(h1->last_exit) && WEXITSTATUS(h1->last_exit) == 0);
	T_ASSERT(WIFSIGNALED(hang->last_exit) &&
	    WTERMSIG(hang->last_exit) == SIGKILL);
	T_EQ_INT(x.spawned, 3);
	T_EQ_INT(sup_restarts_total(s), 0);
	T_ASSERT(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
	test_sup_free(&x, s);
}

/* Stopped children are freed when the set next changes: no pile-up. */
static void
test_stopped_children_pruned(void)
{
	struct test_sup_ctx x;
	struct sup *s = test_sup_new(&x, true);
	struct sup_child *c;
	size_t n = 0;

	for (int gen = 0; gen < 5; gen++) {
		c = sup_start(s, "hang", 0, 1);
		sup_stop(c, 100);
		TEST_SUP_WAIT(&x, c->state == SUP_STOPPED);
		T_EQ_INT(c->state, SUP_STOPPED);
	}
	(void)sup_start(s, "hang", 0, 1);
	for (c = sup_first(s); c != NULL; c = c->next)
		n++;
	T_EQ_INT(n, 1);
	sup_stop_all(s, 100);
	test_sup_free(&x, s);
}

static const struct test tests[] = {
	TEST(test_spawn_message_graceful_stop),
	TEST(test_backoff_doubles_to_max),
	TEST(test_stable_run_resets_backoff),
	TEST(test_stop_deadline_kills),
	TEST(test_stop_all),
	TEST(test_stopped_children_pruned),
};

TEST_MAIN(tests)
