/*
 * hook.c - the serial hook runner: see hook.h.
 *
 * One job runs at a time (the head of the queue). Every step is driven by
 * the loop: an exec job is a fork/exec watched through a pidfd (its
 * stdout, when captured, through a pipe), a webhook is a non-blocking
 * connect/write/read. r->timer is the attempt's deadline, the pause
 * before a retry, and the 0 ms "start the next job" tick, so nothing ever
 * recurses from one job into the next and a callback that submits only
 * appends to the queue.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/hook.h"
#include "lib/log.h"
#include "lib/util.h"

enum hook_phase {
	HOOK_IDLE,    /* nothing running; timer may hold a kick */
	HOOK_RUNNING, /* head job's attempt in progress */
	HOOK_WAITING, /* head job waits to retry */
	HOOK_KILLED,  /* exec timed out: SIGKILL sent, awaiting exit */
};

struct hook_item {
	struct hook_item *next; /* owned: the rest of the queue */
	enum hook_kind kind;
	char *what;              /* owned: command line or URL, for logs */
	char *cmd;               /* owned: what sh -c runs */
	char *env[HOOK_ENV_MAX]; /* owned each: "NAME=value" */
	size_t nenv;
	char *argv[HOOK_ARGV_MAX]; /* owned each */
	size_t nargv;
	char *body; /* owned: webhook JSON, or NULL */
	char *tag;  /* owned: log context, "" if none */
	uint64_t timeout_ms, backoff_ms, backoff_max_ms;
	unsigned tries_left, attempts;
	bool capture;
	hook_done_fn *done;
	void *arg; /* borrowed: the submitter's */
};

struct hook_runner {
	struct ev_loop *loop;          /* borrowed */
	struct hook_item *head, *tail; /* owned queue; head runs */
	size_t n, qmax;
	enum hook_phase phase;
	struct ev_timer timer;
	struct ev_io io;     /* on pidfd (exec) or sock (webhook) */
	int fd;              /* owned: pidfd or socket, -1 */
	pid_t pid;           /* running command, 0 if none */
	struct ev_io out_io; /* on outfd */
	int outfd;           /* owned: read end of the stdout pipe, -1 */
	struct buf out;      /* captured stdout of this attempt */
	bool truncated;
	struct buf req; /* webhook request not yet written */
	char rx[64];    /* webhook status line */
	size_t rxlen;
	struct hook_stats stats;
};

static void hook_timer_cb(struct ev_timer *tm, void *arg);
static void hook_io_cb(struct ev_io *io, unsigned events, void *arg);
static void hook_out_cb(struct ev_io *io, unsigned events, void *arg);

const char *
hook_result_name(enum hook_result res)
{
	switch (res) {
	case HOOK_OK:
		return "ok";
	case HOOK_FAILED:
		return "failed";
	case HOOK_TIMEOUT:
		return "timeout";
	}
	return "?";
}

struct hook_runner *
hook_runner_new(struct ev_loop *loop, size_t qmax)
{
	struct hook_runner *r = xcalloc(1, sizeof(*r));

	r->loop = loop;
	r->qmax = qmax;
	r->fd = -1;
	r->outfd = -1;
	buf_init(&r->out);
	buf_init(&r->req);
	ev_timer_init(&r->timer, hook_timer_cb, r);
	ev_io_init(&r->io, -1, hook_io_cb, r);
	ev_io_init(&r->out_io, -1, hook_out_cb, r);
	return r;
}

static void
hook_item_free(struct hook_item *j)
{
	size_t i;

	for (i = 0; i < j->nenv; i++)
		free(j->env[i]);
	for (i = 0; i < j->nargv; i++)
		free(j->argv[i]);
	free(j->what);
	free(j->cmd);
	free(j->body);
	free(j->tag);
	free(j);
}

static void
hook_out_close(struct hook_runner *r)
{
	ev_io_stop(r->loop, &r->out_io);
	if (r->outfd != -1)
		close(r->outfd);
	r->outfd = -1;
}

/* Close what the running attempt holds (not the job, not its output). */
static void
hook_release(struct hook_runner *r)
{
	ev_io_stop(r->loop, &r->io);
	ev_timer_stop(r->loop, &r->timer);
	if (r->fd != -1)
		close(r->fd);
	r->fd = -1;
	hook_out_close(r);
	buf_reset(&r->req);
	r->rxlen = 0;
}

/* The command runs in its own group: kill the group, else the leader. */
static void
hook_kill(pid_t pid)
{
	if (kill(-pid, SIGKILL) == -1)
		kill(pid, SIGKILL);
}

void
hook_runner_free(struct hook_runner *r)
{
	struct hook_item *j;

	if (r == NULL)
		return;
	if (r->pid > 0) {
		hook_kill(r->pid);
		(void)waitpid(r->pid, NULL, 0);
	}
	hook_release(r);
	while ((j = r->head) != NULL) {
		r->head = j->next;
		hook_item_free(j);
	}
	buf_fini(&r->out);
	buf_fini(&r->req);
	free(r);
}

const struct hook_stats *
hook_stats(const struct hook_runner *r)
{
	return &r->stats;
}

size_t
hook_pending(const struct hook_runner *r)
{
	return r->n;
}

static struct hook_item *
hook_item_new(const struct hook_job *job)
{
	struct hook_item *j = xcalloc(1, sizeof(*j));
	size_t i;

	j->kind = job->kind;
	j->what = xstrdup(job->what);
	/* "$@" hands the positional parameters to a script path. */
	j->cmd = job->nargv > 0 ? xasprintf("%s \"$@\"", job->what) :
	                          xstrdup(job->what);
	for (i = 0; i < job->nenv; i++)
		j->env[i] = xstrdup(job->env[i]);
	j->nenv = job->nenv;
	for (i = 0; i < job->nargv; i++)
		j->argv[i] = xstrdup(job->argv[i]);
	j->nargv = job->nargv;
	j->body = job->body != NULL ? xstrdup(job->body) : NULL;
	j->tag = xstrdup(job->tag != NULL ? job->tag : "");
	j->timeout_ms = job->timeout_ms ? job->timeout_ms : HOOK_TIMEOUT_DFLT;
	j->backoff_ms = job->backoff_ms ? job->backoff_ms : HOOK_BACKOFF_DFLT;
	j->backoff_max_ms = job->backoff_max_ms;
	j->tries_left = job->retries;
	j->capture = job->capture;
	j->done = job->done;
	j->arg = job->arg;
	return j;
}

int
hook_submit(struct hook_runner *r, const struct hook_job *job)
{
	struct hook_item *j;

	if (job->nenv > HOOK_ENV_MAX || job->nargv > HOOK_ARGV_MAX ||
	    job->what == NULL)
		return -EINVAL;
	if (r->n >= r->qmax) {
		r->stats.dropped++;
		log_warn("hook dropped", "%s%swhy=queue_full",
		    job->tag != NULL ? job->tag : "",
		    job->tag != NULL && job->tag[0] != '\0' ? " " : "");
		return -ENOBUFS;
	}
	j = hook_item_new(job);
	if (r->tail != NULL)
		r->tail->next = j;
	else
		r->head = j;
	r->tail = j;
	r->n++;
	if (r->phase == HOOK_IDLE && !ev_timer_active(&r->timer))
		ev_timer_start(r->loop, &r->timer, 0);
	return 0;
}

/* Retry the head job after its back-off, doubling it up to the cap. */
static void
hook_retry(struct hook_runner *r, struct hook_item *j)
{
	uint64_t wait = j->backoff_ms;

	j->tries_left--;
	r->stats.retries++;
	if (j->backoff_max_ms > j->backoff_ms)
		j->backoff_ms = MIN(j->backoff_ms * 2, j->backoff_max_ms);
	r->phase = HOOK_WAITING;
	ev_timer_start(r->loop, &r->timer, wait);
}

/*
 * The head job's attempt ended. Retry it, or take it off the queue, tell
 * its submitter and tick for the next one.
 */
static void
hook_finish(
    struct hook_runner *r, enum hook_result res, int status, const char *why)
{
	struct hook_item *j = r->head;
	struct hook_outcome o;

	hook_release(r);
	r->pid = 0;
	if (res != HOOK_OK && j->tries_left > 0) {
		hook_retry(r, j);
		return;
	}
	if (res == HOOK_OK) {
		r->stats.ok++;
	} else {
		r->stats.failed++;
		log_warn("hook failed", "%s%shook=%s why=%s", j->tag,
		    j->tag[0] != '\0' ? " " : "", log_q(j->what), log_q(why));
	}
	r->head = j->next;
	if (r->head == NULL)
		r->tail = NULL;
	r->n--;
	r->phase = HOOK_IDLE;
	if (j->done != NULL) {
		memset(&o, 0, sizeof(o));
		o.result = res;
		o.status = status;
		o.why = why != NULL ? why : "";
		o.attempts = j->attempts;
		o.out = r->out.data != NULL ? r->out.data : "";
		o.outlen = r->out.len;
		o.truncated = r->truncated;
		j->done(&o, j->arg);
	}
	hook_item_free(j);
	if (r->head != NULL && r->phase == HOOK_IDLE)
		ev_timer_start(r->loop, &r->timer, 0);
}

/*
 * In the forked child: a clean signal mask and scheduling policy (the
 * vrrp process runs real-time; SCHED_RESET_ON_FORK normally resets it
 * already), the job's environment, stdout to the pipe or inherited,
 * exec. Only async-signal-safe calls past fork, plus setenv/putenv on
 * memory the child owns (a single-threaded parent).
 */
static void __dead
hook_child(const struct hook_item *j, int outw)
{
	const char *av[HOOK_ARGV_MAX + 5];
	struct sched_param sp = { .sched_priority = 0 };
	sigset_t none;
	size_t i, n = 0;
	int fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (sched_getscheduler(0) != SCHED_OTHER)
		(void)sched_setscheduler(0, SCHED_OTHER, &sp);
	for (i = 0; i < j->nenv; i++)
		putenv(j->env[i]);
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		dup2(fd, 0);
		if (fd > 2)
			close(fd);
	}
	if (outw != -1) {
		dup2(outw, 1);
		if (outw > 2)
			close(outw);
	}
	closefrom(3);
	av[n++] = "sh";
	av[n++] = "-c";
	av[n++] = j->cmd;
	if (j->nargv > 0) {
		av[n++] = "sh"; /* $0 */
		for (i = 0; i < j->nargv; i++)
			av[n++] = j->argv[i];
	}
	av[n] = NULL;
	execv("/bin/sh", (char *const *)av);
	_exit(127);
}

static int
hook_exec(struct hook_runner *r, const struct hook_item *j)
{
	int pfd[2] = { -1, -1 }, fd, err;
	pid_t pid;

	if (j->capture) {
		if (pipe2(pfd, O_CLOEXEC) == -1)
			return -errno;
		(void)util_set_nonblock(pfd[0]);
	}
	if ((pid = fork()) == -1) {
		err = errno;
		goto fail;
	}
	if (pid == 0)
		hook_child(j, pfd[1]);
	if (pfd[1] != -1)
		close(pfd[1]);
	pfd[1] = -1;
	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1) {
		err = errno;
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		goto fail;
	}
	r->pid = pid;
	r->fd = fd;
	if (pfd[0] != -1) {
		r->outfd = pfd[0];
		ev_io_init(&r->out_io, r->outfd, hook_out_cb, r);
		(void)ev_io_start(r->loop, &r->out_io, EV_READ);
	}
	ev_io_init(&r->io, fd, hook_io_cb, r);
	return ev_io_start(r->loop, &r->io, EV_READ);
fail:
	if (pfd[0] != -1)
		close(pfd[0]);
	if (pfd[1] != -1)
		close(pfd[1]);
	return -err;
}

/*
 * Read what the command wrote: keep up to HOOK_OUT_MAX, read and drop the
 * rest so the command never blocks on a full pipe. Stops at EOF, or when
 * nothing is ready and drain is set (the command has exited; a grandchild
 * holding the pipe open must not keep the job alive).
 */
static void
hook_out_read(struct hook_runner *r, bool drain)
{
	char tmp[4096];
	ssize_t n;
	size_t keep;

	while (r->outfd != -1) {
		n = read(r->outfd, tmp, sizeof(tmp));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN && !drain)
			return;
		if (n <= 0) {
			hook_out_close(r);
			return;
		}
		keep =
		    r->out.len < HOOK_OUT_MAX ? HOOK_OUT_MAX - r->out.len : 0;
		if ((size_t)n > keep)
			r->truncated = true;
		buf_append(&r->out, tmp, MIN((size_t)n, keep));
	}
}

static void
hook_out_cb(struct ev_io *io, unsigned events, void *arg)
{
	hook_out_read(arg, false);
}

static void
hook_exec_reap(struct hook_runner *r)
{
	int st = 0, code;
	pid_t w;
	char why[48];

	do
		w = waitpid(r->pid, &st, WNOHANG);
	while (w == -1 && errno == EINTR);
	if (w == 0)
		return; /* pidfd readable means exited: spurious, wait more */
	hook_out_read(r, true);
	if (w == -1) {
		hook_finish(r, HOOK_FAILED, -1, "exit status lost");
		return;
	}
	code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (r->phase == HOOK_KILLED) {
		hook_finish(r, HOOK_TIMEOUT, code, "timeout");
		return;
	}
	if (WIFEXITED(st) && code == 0) {
		hook_finish(r, HOOK_OK, 0, NULL);
		return;
	}
	if (WIFEXITED(st))
		snprintf(why, sizeof(why), "exit %d", code);
	else
		snprintf(why, sizeof(why), "signal %d", WTERMSIG(st));
	hook_finish(r, HOOK_FAILED, code, why);
}

/* An address with or without its port. */
static int
hook_addr(const char *s, struct sockaddr_storage *ss)
{
	if (conf_parse_addr(s, true, ss) == 0)
		return 0;
	return conf_parse_addr(s, false, ss);
}

/* "http://1.2.3.4:8080/path" -> address and path. Returns 0 or -1. */
static int
hook_url(const char *url, struct sockaddr_storage *ss, const char **path,
    char *host, size_t hostlen)
{
	const char *p = url + 7, *slash;
	size_t n;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	slash = strchr(p, '/');
	n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, p, n);
	host[n] = '\0';
	*path = slash != NULL ? slash : "/";
	if (strncmp(host, "localhost", 9) == 0) {
		char tmp[80];

		snprintf(tmp, sizeof(tmp), "127.0.0.1%s", host + 9);
		return hook_addr(tmp, ss);
	}
	return hook_addr(host, ss);
}

static int
hook_web(struct hook_runner *r, const struct hook_item *j)
{
	struct sockaddr_storage ss;
	const char *path, *body = j->body != NULL ? j->body : "";
	char host[80];
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (hook_url(j->what, &ss, &path, host, sizeof(host)) == -1)
		return -EINVAL;
	/* No port: 80, as any HTTP client would. */
	if (ss.ss_family == AF_INET &&
	    ((struct sockaddr_in *)&ss)->sin_port == 0)
		((struct sockaddr_in *)&ss)->sin_port = htons(80);
	if (ss.ss_family == AF_INET6 &&
	    ((struct sockaddr_in6 *)&ss)->sin6_port == 0)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(80);
	len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	                                 sizeof(struct sockaddr_in);
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	r->fd = fd;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS)
		return -errno;
	buf_printf(&r->req,
	    "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: haven/%s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n",
	    path, host, HAVEN_VERSION, strlen(body));
	buf_puts(&r->req, body);
	ev_io_init(&r->io, fd, hook_io_cb, r);
	return ev_io_start(r->loop, &r->io, EV_WRITE);
}

/* Write the request, then read until the status line is complete. */
static void
hook_web_io(struct hook_runner *r)
{
	ssize_t n;
	int code;

	if (r->req.len > 0) {
		n = send(r->fd, r->req.data, r->req.len, MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			hook_finish(r, HOOK_FAILED, -1, strerror(errno));
			return;
		}
		if (n > 0)
			buf_consume(&r->req, (size_t)n);
		if (r->req.len == 0)
			ev_io_start(r->loop, &r->io, EV_READ);
		return;
	}
	n = recv(r->fd, r->rx + r->rxlen, sizeof(r->rx) - 1 - r->rxlen, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		hook_finish(
		    r, HOOK_FAILED, -1, n == 0 ? "closed" : strerror(errno));
		return;
	}
	r->rxlen += (size_t)n;
	r->rx[r->rxlen] = '\0';
	if (strchr(r->rx, '\n') == NULL && r->rxlen < sizeof(r->rx) - 1)
		return;
	if (sscanf(r->rx, "HTTP/1.%*d %d", &code) != 1)
		code = 0;
	if (code >= 200 && code < 300)
		hook_finish(r, HOOK_OK, code, NULL);
	else
		hook_finish(r, HOOK_FAILED, code ? code : -1,
		    code == 0 ? "not HTTP" : "status not 2xx");
}

static void
hook_io_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct hook_runner *r = arg;

	if (r->head == NULL)
		return;
	if (r->head->kind == HOOK_EXEC)
		hook_exec_reap(r);
	else
		hook_web_io(r);
}

/* Start an attempt of the head job. */
static void
hook_start(struct hook_runner *r)
{
	struct hook_item *j = r->head;
	int rc;

	r->phase = HOOK_RUNNING;
	r->stats.runs++;
	j->attempts++;
	buf_reset(&r->out);
	r->truncated = false;
	rc = j->kind == HOOK_EXEC ? hook_exec(r, j) : hook_web(r, j);
	if (rc < 0) {
		r->stats.spawn_errors++;
		hook_finish(r, HOOK_FAILED, -1, strerror(-rc));
		return;
	}
	ev_timer_start(r->loop, &r->timer, j->timeout_ms);
}

static void
hook_timer_cb(struct ev_timer *tm, void *arg)
{
	struct hook_runner *r = arg;

	switch (r->phase) {
	case HOOK_IDLE:
	case HOOK_WAITING:
		if (r->head != NULL)
			hook_start(r);
		break;
	case HOOK_RUNNING:
		r->stats.timeouts++;
		if (r->head->kind == HOOK_WEB) {
			hook_finish(r, HOOK_TIMEOUT, -1, "timeout");
			break;
		}
		/* Kill the whole group; the pidfd tells us when it is gone. */
		hook_kill(r->pid);
		r->phase = HOOK_KILLED;
		break;
	case HOOK_KILLED:
		break;
	}
}
