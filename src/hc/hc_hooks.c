/*
 * hc_hooks.c - transition notifications: see hc_hooks.h.
 *
 * One job runs at a time (the head of the queue). Every step is driven by
 * the loop: an exec job is a fork/exec watched through a pidfd, a webhook is
 * a non-blocking connect/write/read. h->timer is the job's deadline, the
 * pause between webhook retries, and the 0 ms "start the next job" tick, so
 * nothing ever recurses from one job into the next.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hc/hc_hooks.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/util.h"

#define HC_HOOKS_RETRY_MS 1000 /* pause between webhook attempts */

enum hc_hooks_kind {
	HC_HOOKS_EXEC,
	HC_HOOKS_WEB,
};

enum hc_hooks_phase {
	HC_HOOKS_IDLE,    /* nothing running; timer may hold a kick */
	HC_HOOKS_RUNNING, /* head job in progress */
	HC_HOOKS_WAITING, /* head job waits to retry */
	HC_HOOKS_KILLED,  /* exec timed out: SIGKILL sent, awaiting exit */
};

struct hc_hooks_job {
	struct hc_hooks_job *next; /* owned: the rest of the queue */
	enum hc_hooks_kind kind;
	char *what; /* owned: command line or URL */
	uint64_t timeout_ms;
	uint32_t tries_left; /* webhook retries still allowed */
	struct hc_hook_event ev;
};

struct hc_hooks {
	struct ev_loop *loop;             /* borrowed */
	struct hc_hooks_job *head, *tail; /* owned queue; head runs */
	size_t n;
	enum hc_hooks_phase phase;
	struct ev_timer timer;
	struct ev_io io; /* on pidfd (exec) or sock (webhook) */
	int fd;          /* owned: pidfd or socket, -1 */
	pid_t pid;       /* running command, 0 if none */
	struct buf out;  /* webhook request not yet written */
	char rx[64];     /* webhook status line */
	size_t rxlen;
	struct hc_hooks_stats stats;
};

static void hc_hooks_timer_cb(struct ev_timer *tm, void *arg);
static void hc_hooks_io_cb(struct ev_io *io, unsigned events, void *arg);
static void hc_hooks_kill(pid_t pid);

struct hc_hooks *
hc_hooks_new(struct ev_loop *loop)
{
	struct hc_hooks *h = xcalloc(1, sizeof(*h));

	h->loop = loop;
	h->fd = -1;
	buf_init(&h->out);
	ev_timer_init(&h->timer, hc_hooks_timer_cb, h);
	ev_io_init(&h->io, -1, hc_hooks_io_cb, h);
	return h;
}

/* Close what the running attempt holds (not the job). */
static void
hc_hooks_release(struct hc_hooks *h)
{
	ev_io_stop(h->loop, &h->io);
	ev_timer_stop(h->loop, &h->timer);
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	buf_reset(&h->out);
	h->rxlen = 0;
}

void
hc_hooks_free(struct hc_hooks *h)
{
	struct hc_hooks_job *j;

	if (h == NULL)
		return;
	if (h->pid > 0) {
		hc_hooks_kill(h->pid);
		(void)waitpid(h->pid, NULL, 0);
	}
	hc_hooks_release(h);
	while ((j = h->head) != NULL) {
		h->head = j->next;
		free(j->what);
		free(j);
	}
	buf_fini(&h->out);
	free(h);
}

const struct hc_hooks_stats *
hc_hooks_stats(const struct hc_hooks *h)
{
	return &h->stats;
}

size_t
hc_hooks_pending(const struct hc_hooks *h)
{
	return h->n;
}

static void
hc_hooks_push(struct hc_hooks *h, enum hc_hooks_kind kind, const char *what,
    const struct hc_hook_conf *hc, const struct hc_hook_event *ev)
{
	struct hc_hooks_job *j;

	if (h->n >= HC_HOOKS_QMAX) {
		h->stats.dropped++;
		log_warn("hook dropped", "target=%s why=queue_full",
		    log_q(ev->target));
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->kind = kind;
	j->what = xstrdup(what);
	j->timeout_ms = hc->timeout_ms ? hc->timeout_ms : 5000;
	j->tries_left = kind == HC_HOOKS_WEB ? hc->retries : 0;
	j->ev = *ev;
	if (h->tail != NULL)
		h->tail->next = j;
	else
		h->head = j;
	h->tail = j;
	h->n++;
	if (h->phase == HC_HOOKS_IDLE && !ev_timer_active(&h->timer))
		ev_timer_start(h->loop, &h->timer, 0);
}

void
hc_hooks_notify(struct hc_hooks *h, const struct hc_hook_conf *hc,
    const struct hc_hook_event *ev)
{
	if (hc == NULL)
		return;
	if (hc->exec != NULL && hc->exec[0] != '\0')
		hc_hooks_push(h, HC_HOOKS_EXEC, hc->exec, hc, ev);
	if (hc->webhook != NULL && hc->webhook[0] != '\0')
		hc_hooks_push(h, HC_HOOKS_WEB, hc->webhook, hc, ev);
}

/* The head job ended (ok or not, retries considered). Next one. */
static void
hc_hooks_finish(struct hc_hooks *h, bool ok, const char *why)
{
	struct hc_hooks_job *j = h->head;

	hc_hooks_release(h);
	h->pid = 0;
	if (!ok && j->kind == HC_HOOKS_WEB && j->tries_left > 0) {
		j->tries_left--;
		h->stats.retries++;
		h->phase = HC_HOOKS_WAITING;
		ev_timer_start(h->loop, &h->timer, HC_HOOKS_RETRY_MS);
		return;
	}
	if (ok) {
		h->stats.ok++;
	} else {
		h->stats.failed++;
		log_warn("hook failed", "target=%s hook=%s why=%s",
		    log_q(j->ev.target), log_q(j->what), log_q(why));
	}
	h->head = j->next;
	if (h->head == NULL)
		h->tail = NULL;
	h->n--;
	free(j->what);
	free(j);
	h->phase = HC_HOOKS_IDLE;
	if (h->head != NULL)
		ev_timer_start(h->loop, &h->timer, 0);
}

/* In the forked child: environment, clean signal state, exec. */
/* The command runs in its own group: kill the group, else the leader. */
static void
hc_hooks_kill(pid_t pid)
{
	if (kill(-pid, SIGKILL) == -1)
		kill(pid, SIGKILL);
}

static void __dead
hc_hooks_child(const struct hc_hooks_job *j)
{
	char since[24];
	sigset_t none;
	int fd;

	/* The loop blocks signals for signalfd; the command must not inherit.
	 */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	snprintf(
	    since, sizeof(since), "%llu", (unsigned long long)j->ev.since_ms);
	setenv("HAVEN_TARGET", j->ev.target, 1);
	setenv("HAVEN_STATE", hc_state_name(j->ev.state), 1);
	setenv("HAVEN_PREV_STATE", hc_state_name(j->ev.prev), 1);
	setenv("HAVEN_REASON", hc_reason_name(j->ev.reason), 1);
	setenv("HAVEN_DETAIL", j->ev.detail, 1);
	setenv("HAVEN_SINCE_MS", since, 1);
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		dup2(fd, 0);
		if (fd > 2)
			close(fd);
	}
	closefrom(3);
	execl("/bin/sh", "sh", "-c", j->what, (char *)NULL);
	_exit(127);
}

static int
hc_hooks_exec(struct hc_hooks *h, const struct hc_hooks_job *j)
{
	pid_t pid;
	int fd, err;

	if ((pid = fork()) == -1)
		return -errno;
	if (pid == 0)
		hc_hooks_child(j);
	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1) {
		err = errno;
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return -err;
	}
	h->pid = pid;
	h->fd = fd;
	ev_io_init(&h->io, fd, hc_hooks_io_cb, h);
	return ev_io_start(h->loop, &h->io, EV_READ);
}

static void
hc_hooks_exec_reap(struct hc_hooks *h)
{
	int st = 0;
	pid_t r;
	char why[48];

	do
		r = waitpid(h->pid, &st, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return; /* pidfd readable means exited: spurious, wait more */
	if (r == -1) {
		hc_hooks_finish(h, false, "exit status lost");
		return;
	}
	if (h->phase == HC_HOOKS_KILLED) {
		hc_hooks_finish(h, false, "timeout");
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		hc_hooks_finish(h, true, NULL);
		return;
	}
	if (WIFEXITED(st))
		snprintf(why, sizeof(why), "exit %d", WEXITSTATUS(st));
	else
		snprintf(why, sizeof(why), "signal %d", WTERMSIG(st));
	hc_hooks_finish(h, false, why);
}

/* An address with or without its port. */
static int
hc_hooks_addr(const char *s, struct sockaddr_storage *ss)
{
	if (conf_parse_addr(s, true, ss) == 0)
		return 0;
	return conf_parse_addr(s, false, ss);
}

/* "http://1.2.3.4:8080/path" -> address and path. Returns 0 or -1. */
static int
hc_hooks_url(const char *url, struct sockaddr_storage *ss, const char **path,
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
		return hc_hooks_addr(tmp, ss);
	}
	return hc_hooks_addr(host, ss);
}

static void
hc_hooks_web_request(struct buf *out, const struct hc_hooks_job *j,
    const char *host, const char *path)
{
	struct buf body;
	struct jw w;

	buf_init(&body);
	jw_init(&w, &body);
	jw_obj_begin(&w);
	jw_kstr(&w, "target", j->ev.target);
	jw_kstr(&w, "state", hc_state_name(j->ev.state));
	jw_kstr(&w, "previous", hc_state_name(j->ev.prev));
	jw_kstr(&w, "reason", hc_reason_name(j->ev.reason));
	jw_kstr(&w, "detail", j->ev.detail);
	jw_kuint(&w, "since_ms", j->ev.since_ms);
	jw_obj_end(&w);
	buf_printf(out,
	    "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: haven/%s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n",
	    path, host, HAVEN_VERSION, body.len);
	buf_append(out, body.data, body.len);
	buf_fini(&body);
}

static int
hc_hooks_web(struct hc_hooks *h, const struct hc_hooks_job *j)
{
	struct sockaddr_storage ss;
	const char *path;
	char host[80];
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (hc_hooks_url(j->what, &ss, &path, host, sizeof(host)) == -1)
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
	h->fd = fd;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS)
		return -errno;
	hc_hooks_web_request(&h->out, j, host, path);
	ev_io_init(&h->io, fd, hc_hooks_io_cb, h);
	return ev_io_start(h->loop, &h->io, EV_WRITE);
}

/* Write the request, then read until the status line is complete. */
static void
hc_hooks_web_io(struct hc_hooks *h, unsigned events)
{
	ssize_t n;
	char *eol;
	int code;

	if (h->out.len > 0) {
		n = send(h->fd, h->out.data, h->out.len, MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			hc_hooks_finish(h, false, strerror(errno));
			return;
		}
		if (n > 0)
			buf_consume(&h->out, (size_t)n);
		if (h->out.len == 0)
			ev_io_start(h->loop, &h->io, EV_READ);
		return;
	}
	n = recv(h->fd, h->rx + h->rxlen, sizeof(h->rx) - 1 - h->rxlen, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		hc_hooks_finish(h, false, n == 0 ? "closed" : strerror(errno));
		return;
	}
	h->rxlen += (size_t)n;
	h->rx[h->rxlen] = '\0';
	eol = strchr(h->rx, '\n');
	if (eol == NULL && h->rxlen < sizeof(h->rx) - 1)
		return;
	if (sscanf(h->rx, "HTTP/1.%*d %d", &code) != 1)
		code = 0;
	hc_hooks_finish(h, code >= 200 && code < 300,
	    code == 0 ? "not HTTP" : "status not 2xx");
}

static void
hc_hooks_io_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct hc_hooks *h = arg;

	if (h->head == NULL)
		return;
	if (h->head->kind == HC_HOOKS_EXEC)
		hc_hooks_exec_reap(h);
	else
		hc_hooks_web_io(h, events);
}

/* Start an attempt of the head job. */
static void
hc_hooks_start(struct hc_hooks *h)
{
	struct hc_hooks_job *j = h->head;
	int rc;

	h->phase = HC_HOOKS_RUNNING;
	h->stats.runs++;
	rc =
	    j->kind == HC_HOOKS_EXEC ? hc_hooks_exec(h, j) : hc_hooks_web(h, j);
	if (rc < 0) {
		h->stats.spawn_errors++;
		hc_hooks_finish(h, false, strerror(-rc));
		return;
	}
	ev_timer_start(h->loop, &h->timer, j->timeout_ms);
}

static void
hc_hooks_timer_cb(struct ev_timer *tm, void *arg)
{
	struct hc_hooks *h = arg;

	switch (h->phase) {
	case HC_HOOKS_IDLE:
	case HC_HOOKS_WAITING:
		if (h->head != NULL)
			hc_hooks_start(h);
		break;
	case HC_HOOKS_RUNNING:
		h->stats.timeouts++;
		if (h->head->kind == HC_HOOKS_WEB) {
			hc_hooks_finish(h, false, "timeout");
			break;
		}
		/* Kill the whole group; the pidfd tells us when it is gone. */
		hc_hooks_kill(h->pid);
		h->phase = HC_HOOKS_KILLED;
		break;
	case HC_HOOKS_KILLED:
		break;
	}
}
