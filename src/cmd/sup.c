/*
 * sup.c - see sup.h.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/sup.h"
#include "lib/log.h"
#include "lib/util.h"

#define SUP_BACKOFF_MIN 100
#define SUP_STABLE_MS   10000 /* up this long: back-off starts over */
#define SUP_CHILD_FD    3

struct sup {
	struct ev_loop *loop;       /* borrowed */
	char *self_exe;             /* owned */
	struct sup_child *children; /* owned list */
	sup_spawned_fn *spawned;
	sup_msg_fn *msg;
	sup_exited_fn *exited;
	void *arg; /* borrowed */
	uint64_t backoff_max_ms;
	unsigned long restarts;
};

static const char *const sup_state_names[] = { "starting", "running", "backoff",
	"stopping", "stopped" };

const char *
sup_state_name(enum sup_state st)
{
	return (unsigned)st < ARRAY_SIZE(sup_state_names) ?
	    sup_state_names[st] :
	    "?";
}

static void sup_spawn(struct sup_child *c);

static void
sup_child_recv(struct ipc_chan *ch, const struct ipc_msg *m, void *arg)
{
	struct sup_child *c = arg;

	if (m == NULL) {
		/* Closed or broken: the exit itself arrives via SIGCHLD. */
		c->chan_open = false;
		return;
	}
	c->sup->msg(c, m, c->sup->arg);
}

static void
sup_timer(struct ev_timer *t, void *arg)
{
	struct sup_child *c = arg;

	if (c->state == SUP_BACKOFF) {
		sup_spawn(c);
	} else if (c->state == SUP_STOPPING && c->pid > 0) {
		log_warn("child missed its stop deadline; killing",
		    "plane=%s worker=%u pid=%d", c->plane, c->worker,
		    (int)c->pid);
		kill(c->pid, SIGKILL);
	}
}

/* Runs in the forked child: never returns. */
static void __dead
sup_exec(struct sup *s, struct sup_child *c, int fd)
{
	char argv0[32], worker[16];
	sigset_t none;

	/* signalfd blocked these in the parent; the mask survives exec. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (fd != SUP_CHILD_FD) {
		if (dup2(fd, SUP_CHILD_FD) == -1)
			_exit(127);
	} else {
		(void)fcntl(fd, F_SETFD, 0);
	}
	close_range(SUP_CHILD_FD + 1, ~0u, 0);
	snprintf(argv0, sizeof(argv0), "haven-%s", c->plane);
	snprintf(worker, sizeof(worker), "%u", c->worker);
	execl(s->self_exe, argv0, "__child", c->plane, worker, (char *)NULL);
	_exit(127);
}

static void
sup_spawn(struct sup_child *c)
{
	struct sup *s = c->sup;
	int fds[2], e;
	pid_t pid;

	if ((e = ipc_pair(fds)) != 0) {
		log_err("cannot create child channel", "plane=%s error=%s",
		    c->plane, log_q(strerror(-e)));
		goto retry;
	}
	if ((pid = fork()) == -1) {
		log_err("fork failed", "plane=%s error=%s", c->plane,
		    log_q(strerror(errno)));
		close(fds[0]);
		close(fds[1]);
		goto retry;
	}
	if (pid == 0)
		sup_exec(s, c, fds[1]);
	close(fds[1]);
	c->pid = pid;
	c->state = SUP_STARTING;
	/* The loop's clock, like the back-off timers it is compared with. */
	c->started_ms = ev_now_ms(s->loop);
	ipc_chan_init(&c->chan, s->loop, fds[0], sup_child_recv, c);
	c->chan_open = true;
	log_info("child started", "plane=%s worker=%u pid=%d restarts=%u",
	    c->plane, c->worker, (int)pid, c->restarts);
	s->spawned(c, s->arg);
	return;
retry:
	c->state = SUP_BACKOFF;
	ev_timer_start(s->loop, &c->timer, c->backoff_ms);
}

static void
sup_child_exited(struct sup_child *c, int status)
{
	struct sup *s = c->sup;
	uint64_t ran = ev_now_ms(s->loop) - c->started_ms;

	c->pid = 0;
	c->last_exit = status;
	ipc_chan_fini(&c->chan);
	c->chan_open = false;
	if (c->state == SUP_STOPPING) {
		ev_timer_stop(s->loop, &c->timer);
		c->state = SUP_STOPPED;
		log_info(
		    "child stopped", "plane=%s worker=%u", c->plane, c->worker);
		s->exited(c, s->arg);
		return;
	}
	if (ran >= SUP_STABLE_MS)
		c->backoff_ms = SUP_BACKOFF_MIN;
	c->restarts++;
	s->restarts++;
	if (WIFSIGNALED(status))
		log_err("child died; restarting",
		    "plane=%s worker=%u "
		    "signal=%d backoff_ms=%llu restarts=%u",
		    c->plane, c->worker, WTERMSIG(status),
		    (unsigned long long)c->backoff_ms, c->restarts);
	else
		log_err("child exited; restarting",
		    "plane=%s worker=%u "
		    "status=%d backoff_ms=%llu restarts=%u",
		    c->plane, c->worker, WEXITSTATUS(status),
		    (unsigned long long)c->backoff_ms, c->restarts);
	c->state = SUP_BACKOFF;
	ev_timer_start(s->loop, &c->timer, c->backoff_ms);
	c->backoff_ms = MIN(c->backoff_ms * 2, s->backoff_max_ms);
	s->exited(c, s->arg);
}

static void
sup_reap(struct ev_loop *loop, int signo, void *arg)
{
	struct sup *s = arg;
	pid_t pid;
	int st;

	/*
	 * Reap only our own children by pid: anything else this process may
	 * fork is its owner's to wait for.
	 */
	for (struct sup_child *c = s->children; c; c = c->next) {
		if (c->pid > 0 && (pid = waitpid(c->pid, &st, WNOHANG)) > 0)
			sup_child_exited(c, st);
	}
}

struct sup *
sup_new(struct ev_loop *loop, const char *self_exe, sup_spawned_fn *spawned,
    sup_msg_fn *msg, sup_exited_fn *exited, void *arg)
{
	struct sup *s = xcalloc(1, sizeof(*s));

	s->loop = loop;
	s->self_exe = xstrdup(self_exe);
	s->spawned = spawned;
	s->msg = msg;
	s->exited = exited;
	s->arg = arg;
	s->backoff_max_ms = 10000;
	if (ev_signal_add(loop, SIGCHLD, sup_reap, s) != 0)
		fatal("cannot watch SIGCHLD");
	return s;
}

void
sup_set_backoff_max(struct sup *s, uint64_t ms)
{
	s->backoff_max_ms = MAX(ms, SUP_BACKOFF_MIN);
}

/*
 * Free the children a previous stop left behind. Done here, not when they
 * stop, so a stopped child stays readable until the caller next changes the
 * set; without it every reload that resizes a plane would leak one struct
 * per worker.
 */
static void
sup_prune(struct sup *s)
{
	struct sup_child **pp = &s->children, *c;

	while ((c = *pp) != NULL) {
		if (c->state != SUP_STOPPED) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		ev_timer_stop(s->loop, &c->timer);
		ipc_chan_fini(&c->chan);
		free(c);
	}
}

struct sup_child *
sup_start(struct sup *s, const char *plane, unsigned worker, unsigned nworkers)
{
	struct sup_child *c;

	sup_prune(s);
	c = xcalloc(1, sizeof(*c));

	c->sup = s;
	snprintf(c->plane, sizeof(c->plane), "%s", plane);
	c->worker = worker;
	c->nworkers = nworkers;
	c->backoff_ms = SUP_BACKOFF_MIN;
	c->chan.fd = -1;
	ev_timer_init(&c->timer, sup_timer, c);
	c->next = s->children;
	s->children = c;
	sup_spawn(c);
	return c;
}

void
sup_stop(struct sup_child *c, unsigned deadline_ms)
{
	uint32_t d = deadline_ms;

	if (c->state == SUP_STOPPED || c->state == SUP_STOPPING)
		return;
	ev_timer_stop(c->sup->loop, &c->timer);
	if (c->pid == 0) {
		c->state = SUP_STOPPED;
		return;
	}
	c->state = SUP_STOPPING;
	if (c->chan_open)
		(void)ipc_send(&c->chan, IPC_STOP, 0, &d, sizeof(d), -1);
	else
		kill(c->pid, SIGTERM);
	/* A grace of 500 ms past the child's own deadline, then SIGKILL. */
	ev_timer_start(c->sup->loop, &c->timer, deadline_ms + 500);
}

static bool
sup_any_running(const struct sup *s)
{
	for (struct sup_child *c = s->children; c; c = c->next)
		if (c->pid != 0)
			return true;
	return false;
}

void
sup_stop_all(struct sup *s, unsigned deadline_ms)
{
	uint64_t end = util_mono_ms() + deadline_ms + 1000;

	for (struct sup_child *c = s->children; c; c = c->next)
		sup_stop(c, deadline_ms);
	while (sup_any_running(s) && util_mono_ms() < end)
		ev_run_once(s->loop, 100);
	for (struct sup_child *c = s->children; c; c = c->next) {
		if (c->pid != 0) {
			kill(c->pid, SIGKILL);
			(void)waitpid(c->pid, NULL, 0);
			c->pid = 0;
		}
	}
}

struct sup_child *
sup_first(struct sup *s)
{
	return s->children;
}

bool
sup_child_live(const struct sup_child *c)
{
	return c->pid != 0 && c->chan_open &&
	    (c->state == SUP_RUNNING || c->state == SUP_STARTING);
}

unsigned long
sup_restarts_total(const struct sup *s)
{
	return s->restarts;
}

void
sup_free(struct sup *s)
{
	struct sup_child *c, *next;

	for (c = s->children; c != NULL; c = next) {
		next = c->next;
		ev_timer_stop(s->loop, &c->timer);
		ipc_chan_fini(&c->chan);
		free(c);
	}
	free(s->self_exe);
	free(s);
}
