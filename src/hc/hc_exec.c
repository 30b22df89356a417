/*
 * hc_exec.c - the exec check type: run `/bin/sh -c COMMAND` with
 * HAVEN_TARGET_ADDR and HAVEN_TARGET_PORT in its environment; exit 0 passes.
 *
 * The command runs in its own process group, stdin from /dev/null, stdout
 * and stderr into one pipe. We keep the first HC_EXEC_KEEP bytes of output
 * (the first line goes into the result's detail) and read-and-drop the rest,
 * so a command flooding its output neither blocks on a full pipe nor grows
 * our memory. Exit is noticed through a pidfd (polled by a timer where
 * pidfd_open is unavailable). On timeout or cancel the whole process group
 * gets SIGKILL; a child not yet reaped then is handed to a small reaper
 * that waits for it on the loop, so no zombie is left and nothing blocks.
 */
#include <sys/types.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hc/hc_conf.h"
#include "hc/hc_sock.h"
#include "lib/util.h"

#define HC_EXEC_KEEP    4096 /* output bytes kept */
#define HC_EXEC_READS   16   /* reads per wake-up: a flood can't starve */
#define HC_EXEC_POLL_MS 10   /* waitpid polling without pidfd */

extern char **environ;

struct hc_exec_watch;
typedef void hc_exec_exit_fn(struct hc_exec_watch *w, int status);

/* Waits for one child to exit, by pidfd or by polling. */
struct hc_exec_watch {
	struct ev_loop *loop; /* borrowed */
	pid_t pid;
	int pidfd;            /* owned, -1: polling */
	struct ev_io io;      /* on pidfd */
	struct ev_timer poll; /* waitpid every HC_EXEC_POLL_MS */
	hc_exec_exit_fn *cb;
};

struct hc_exec {
	struct hc_sock s; /* first; s.fd is the output pipe's read end */
	struct hc_exec_watch w;
	bool running; /* child not reaped yet */
	bool eof;     /* pipe closed by every writer */
	size_t outlen;
	char out[HC_EXEC_KEEP];
};

/* A killed child nobody waits for any more. */
struct hc_exec_reaper {
	struct hc_exec_watch w;
};

static void
hc_exec_watch_stop(struct hc_exec_watch *w)
{
	ev_io_stop(w->loop, &w->io);
	ev_timer_stop(w->loop, &w->poll);
	if (w->pidfd != -1) {
		close(w->pidfd);
		w->pidfd = -1;
	}
}

static void
hc_exec_watch_check(struct hc_exec_watch *w)
{
	int st = 0;
	pid_t r = waitpid(w->pid, &st, WNOHANG);

	if (r == 0) {
		if (w->pidfd == -1)
			ev_timer_start(w->loop, &w->poll, HC_EXEC_POLL_MS);
		return;
	}
	hc_exec_watch_stop(w);
	/* -1: reaped elsewhere (SIGCHLD ignored): status unknown. */
	w->cb(w, r == w->pid ? st : -1);
}

static void
hc_exec_watch_io(struct ev_io *io, unsigned events, void *arg)
{
	hc_exec_watch_check(arg);
}

static void
hc_exec_watch_timer(struct ev_timer *t, void *arg)
{
	hc_exec_watch_check(arg);
}

static void
hc_exec_watch_start(struct hc_exec_watch *w, struct ev_loop *loop, pid_t pid,
    hc_exec_exit_fn *cb)
{
	w->loop = loop;
	w->pid = pid;
	w->cb = cb;
	w->pidfd = pidfd_open(pid, 0);
	ev_io_init(&w->io, w->pidfd, hc_exec_watch_io, w);
	ev_timer_init(&w->poll, hc_exec_watch_timer, w);
	if (w->pidfd != -1) {
		fcntl(w->pidfd, F_SETFD, FD_CLOEXEC);
		if (ev_io_start(loop, &w->io, EV_READ) == 0)
			return;
		close(w->pidfd);
		w->pidfd = -1;
	}
	ev_timer_start(loop, &w->poll, HC_EXEC_POLL_MS);
}

static void
hc_exec_reaped(struct hc_exec_watch *w, int status)
{
	struct hc_exec_reaper *r = container_of(w, struct hc_exec_reaper, w);

	ev_defer_free(w->loop, r, NULL);
}

/* First output line, control characters replaced: fit for a detail. */
static void
hc_exec_first_line(const struct hc_exec *e, char *dst, size_t n)
{
	size_t i;

	for (i = 0; i < e->outlen && i + 1 < n; i++) {
		unsigned char c = (unsigned char)e->out[i];

		if (c == '\n' || c == '\r')
			break;
		dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[i] = '\0';
}

/* Read what the pipe holds; keep the head, drop the rest. */
static void
hc_exec_drain(struct hc_exec *e)
{
	char scratch[65536];
	ssize_t r;

	for (int i = 0; i < HC_EXEC_READS && !e->eof; i++) {
		if (e->outlen < sizeof(e->out))
			r = read(e->s.fd, e->out + e->outlen,
			    sizeof(e->out) - e->outlen);
		else
			r = read(e->s.fd, scratch, sizeof(scratch));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return; /* EAGAIN, or an error that EOF will follow */
		if (r == 0) {
			e->eof = true;
			return;
		}
		if (e->outlen < sizeof(e->out))
			e->outlen += (size_t)r;
		else
			hc_sock_stats.exec_out_dropped += (uint64_t)r;
	}
}

static void
hc_exec_on_io(struct hc_sock *s, unsigned events)
{
	struct hc_exec *e = (struct hc_exec *)s;

	hc_exec_drain(e);
	if (e->eof)
		hc_sock_want(s, 0); /* now only the exit matters */
}

static void
hc_exec_exited(struct hc_exec_watch *w, int st)
{
	struct hc_exec *e = container_of(w, struct hc_exec, w);
	char line[HC_DETAIL_MAX];

	e->running = false;
	hc_exec_drain(e); /* what the command wrote before it exited */
	hc_exec_first_line(e, line, sizeof(line));
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		hc_sock_finish(&e->s, HC_R_OK, "exit 0: %s", line);
	else if (st != -1 && WIFEXITED(st))
		hc_sock_finish(&e->s, HC_R_EXEC_FAILED, "exit %d: %s",
		    WEXITSTATUS(st), line);
	else if (st != -1 && WIFSIGNALED(st))
		hc_sock_finish(&e->s, HC_R_EXEC_FAILED, "signal %d: %s",
		    WTERMSIG(st), line);
	else
		hc_sock_finish(&e->s, HC_R_EXEC_FAILED,
		    "exit status lost (reaped elsewhere)");
}

/* Timeout or cancel: kill the group; reap now or hand to a reaper. */
static void
hc_exec_fini(struct hc_sock *s)
{
	struct hc_exec *e = (struct hc_exec *)s;
	struct hc_exec_reaper *r;

	if (!e->running)
		return;
	hc_exec_watch_stop(&e->w);
	kill(-e->w.pid, SIGKILL);
	hc_sock_stats.exec_killed++;
	if (waitpid(e->w.pid, NULL, WNOHANG) != 0)
		return; /* reaped (or not ours any more) */
	r = xcalloc(1, sizeof(*r));
	hc_exec_watch_start(&r->w, s->loop, e->w.pid, hc_exec_reaped);
}

/* environ without stale HAVEN_TARGET_*, plus ours. Pointers borrowed. */
static char **
hc_exec_env(char *addr, char *port)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = xcalloc(n + 3, sizeof(*env));
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "HAVEN_TARGET_", 13) != 0)
			env[k++] = environ[i];
	env[k++] = addr;
	env[k++] = port;
	env[k] = NULL;
	return env;
}

/* Spawn the command writing into wfd. Returns 0 or -errno. */
static int
hc_exec_spawn(
    const char *cmd, const struct sockaddr_storage *dst, int wfd, pid_t *pid)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	char ip[INET6_ADDRSTRLEN], addr[64], port[32], **env;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int rc;

	hc_sock_ntop(dst, ip, sizeof(ip));
	snprintf(addr, sizeof(addr), "HAVEN_TARGET_ADDR=%s", ip);
	snprintf(port, sizeof(port), "HAVEN_TARGET_PORT=%u", hc_sock_port(dst));
	env = hc_exec_env(addr, port);
	sigemptyset(&none);
	/* The loop blocks signals for signalfd and may ignore SIGPIPE. */
	sigemptyset(&dfl);
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaddset(&dfl, sig);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at,
	    POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	        POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, wfd, 1);
	posix_spawn_file_actions_adddup2(&fa, wfd, 2);
	rc = posix_spawn(pid, "/bin/sh", &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(env);
	return -rc;
}

static int
hc_exec_start(struct ev_loop *loop, const struct hc_check_conf *cc,
    const struct sockaddr_storage *addr, hc_probe_done_fn *done, void *arg,
    struct hc_probe **out)
{
	struct sockaddr_storage dst;
	struct hc_exec *e;
	int p[2], rc;
	pid_t pid;

	if (cc->command == NULL)
		return -EINVAL;
	hc_sock_target(cc, addr, &dst);
	/* Only our end is non-blocking: the command writes normally. */
	if (pipe2(p, O_CLOEXEC) == -1) {
		hc_sock_stats.sock_errors++;
		return -errno;
	}
	if ((rc = util_set_nonblock(p[0])) < 0 ||
	    (rc = hc_exec_spawn(cc->command, &dst, p[1], &pid)) < 0) {
		hc_sock_stats.sock_errors++;
		close(p[0]);
		close(p[1]);
		return rc;
	}
	close(p[1]);
	e = xcalloc(1, sizeof(*e));
	hc_sock_init(&e->s, loop, cc->timing.timeout_ms, done, arg);
	e->s.on_io = hc_exec_on_io;
	e->s.fini = hc_exec_fini;
	e->s.stage = "command";
	hc_sock_set_fd(&e->s, p[0]);
	e->running = true;
	hc_exec_watch_start(&e->w, loop, pid, hc_exec_exited);
	if (ev_io_start(loop, &e->s.io, EV_READ) < 0)
		hc_sock_post(&e->s, HC_R_INTERNAL, "event loop refused fd");
	*out = (struct hc_probe *)e;
	return 0;
}

const struct hc_check_type hc_exec_type = {
	.name = "exec",
	.start = hc_exec_start,
	.cancel = hc_sock_probe_cancel,
};
