/*
 * hc_sock.c - the probe skeleton shared by the check types, the
 * non-blocking connect, and hc_result_set(). See hc_sock.h for the
 * invariants; the one that matters most is "done() exactly once, never
 * from inside start(), never after cancel()".
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hc/hc_conf.h"
#include "hc/hc_sock.h"
#include "lib/util.h"

struct hc_sock_stats hc_sock_stats;

void
hc_result_set(struct hc_result *r, enum hc_reason reason, uint64_t start_us,
    struct ev_loop *loop, const char *fmt, ...)
{
	uint64_t now = ev_now_us(loop);
	va_list ap;

	r->reason = reason;
	/* A cached clock may lag start_us taken in the same iteration. */
	r->latency_us = now > start_us ?
	    (uint32_t)MIN(now - start_us, (uint64_t)UINT32_MAX) :
	    0;
	r->detail[0] = '\0';
	if (fmt == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

enum hc_reason
hc_sock_reason(int err)
{
	switch (err) {
	case 0:
		return HC_R_OK;
	case ECONNREFUSED:
		return HC_R_CONNECT_REFUSED;
	case ETIMEDOUT:
		return HC_R_TIMEOUT;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
	case EPERM: /* a local firewall REJECT or a blackhole route */
	case EACCES:
		return HC_R_UNREACHABLE;
	case ECONNRESET:
	case ECONNABORTED:
	case EPIPE:
		return HC_R_RESET;
	case EPROTO:
		return HC_R_PROTOCOL_ERROR;
	default:
		return HC_R_INTERNAL;
	}
}

/* Stop everything, let the type release its parts, free at end of batch. */
static void
hc_sock_teardown(struct hc_sock *s)
{
	ev_io_stop(s->loop, &s->io);
	ev_timer_stop(s->loop, &s->timer);
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->fini != NULL)
		s->fini(s);
	ev_defer_free(s->loop, s, NULL);
}

static void
hc_sock_deliver(struct hc_sock *s, const struct hc_result *r)
{
	hc_probe_done_fn *done = s->done;
	void *arg = s->arg;
	struct hc_result copy = *r;

	/* done may start a new probe or free arg: we are gone before it. */
	hc_sock_teardown(s);
	done(&copy, arg);
}

static void
hc_sock_vresult(struct hc_sock *s, struct hc_result *r, enum hc_reason reason,
    const char *fmt, va_list ap)
{
	hc_result_set(r, reason, s->start_us, s->loop, NULL);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
}

void
hc_sock_finish(struct hc_sock *s, enum hc_reason reason, const char *fmt, ...)
{
	struct hc_result r;
	va_list ap;

	va_start(ap, fmt);
	hc_sock_vresult(s, &r, reason, fmt, ap);
	va_end(ap);
	hc_sock_deliver(s, &r);
}

void
hc_sock_post(struct hc_sock *s, enum hc_reason reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hc_sock_vresult(s, &s->res, reason, fmt, ap);
	va_end(ap);
	hc_sock_stats.early_results++;
	s->posted = true;
	ev_io_stop(s->loop, &s->io);
	ev_timer_start(s->loop, &s->timer, 0);
}

void
hc_sock_finish_errno(struct hc_sock *s, int err)
{
	hc_sock_finish(
	    s, hc_sock_reason(err), "%s: %s", s->stage, strerror(err));
}

void
hc_sock_cancel(struct hc_sock *s)
{
	hc_sock_teardown(s);
}

void
hc_sock_probe_cancel(struct hc_probe *p)
{
	hc_sock_teardown((struct hc_sock *)p);
}

void
hc_sock_send_dgram(struct hc_sock *s, const void *p, size_t n)
{
	int err;

	if (s->posted)
		return; /* the connect failed: the result is on its way */
	if (send(s->fd, p, n, 0) == -1) {
		err = errno;
		hc_sock_post(s, hc_sock_reason(err), "send: %s", strerror(err));
	} else if (ev_io_start(s->loop, &s->io, EV_READ) < 0)
		hc_sock_post(s, HC_R_INTERNAL, "event loop refused fd");
}

ssize_t
hc_sock_recv(struct hc_sock *s, void *p, size_t n)
{
	ssize_t r;

	if ((r = recv(s->fd, p, n, 0)) >= 0)
		return r;
	/* An ICMP error on a connected datagram socket (port or host
	 * unreachable) shows up here as ECONNREFUSED or EHOSTUNREACH. */
	if (errno != EAGAIN && errno != EINTR)
		hc_sock_finish_errno(s, errno);
	return -1;
}

static void
hc_sock_timer_cb(struct ev_timer *t, void *arg)
{
	struct hc_sock *s = arg;

	if (s->posted) {
		hc_sock_deliver(s, &s->res);
		return;
	}
	hc_sock_finish(s, HC_R_TIMEOUT, "timeout after %llu ms in %s",
	    (unsigned long long)s->timeout_ms, s->stage);
}

static void
hc_sock_io_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct hc_sock *s = arg;
	socklen_t len = sizeof(int);
	int err = 0;

	if (!s->connecting) {
		s->on_io(s, events);
		return;
	}
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		hc_sock_finish_errno(s, err);
		return;
	}
	if (!(events & EV_WRITE))
		return; /* not connected yet: a spurious wake-up */
	s->connecting = false;
	s->stage = "request";
	if (s->on_conn != NULL)
		s->on_conn(s);
	else
		s->on_io(s, events);
}

void
hc_sock_init(struct hc_sock *s, struct ev_loop *loop, uint64_t timeout_ms,
    hc_probe_done_fn *done, void *arg)
{
	s->loop = loop;
	s->done = done;
	s->arg = arg;
	s->start_us = ev_now_us(loop);
	s->timeout_ms = timeout_ms ? timeout_ms : 1000;
	s->fd = -1;
	s->connecting = false;
	s->posted = false;
	s->stage = "connect";
	ev_io_init(&s->io, -1, hc_sock_io_cb, s);
	ev_timer_init(&s->timer, hc_sock_timer_cb, s);
	ev_timer_start(loop, &s->timer, s->timeout_ms);
}

void
hc_sock_set_fd(struct hc_sock *s, int fd)
{
	s->fd = fd;
	s->connecting = false;
	ev_io_init(&s->io, fd, hc_sock_io_cb, s);
}

int
hc_sock_want(struct hc_sock *s, unsigned events)
{
	int rc;

	if (events == 0) {
		ev_io_stop(s->loop, &s->io);
		return 0;
	}
	if ((rc = ev_io_start(s->loop, &s->io, events)) < 0) {
		hc_sock_finish(
		    s, HC_R_INTERNAL, "event loop: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

int
hc_sock_connect(
    struct hc_sock *s, const struct sockaddr_storage *addr, int type, int proto)
{
	int fd;

	fd =
	    socket(addr->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd == -1) {
		hc_sock_stats.sock_errors++;
		return -errno;
	}
	s->fd = fd;
	ev_io_init(&s->io, fd, hc_sock_io_cb, s);
	if (connect(fd, (const struct sockaddr *)addr, hc_sock_len(addr)) ==
	    -1) {
		if (errno != EINPROGRESS) {
			hc_sock_post(s, hc_sock_reason(errno), "connect: %s",
			    strerror(errno));
			return 0;
		}
		s->connecting = true;
		if (ev_io_start(s->loop, &s->io, EV_WRITE) < 0)
			hc_sock_post(s, HC_R_INTERNAL, "event loop refused fd");
		return 0;
	}
	if (type != SOCK_STREAM) {
		s->stage = "response"; /* datagram: the type sends at once */
		return 0;
	}
	/* A stream connected at once: still report it from the loop. */
	s->connecting = true;
	if (ev_io_start(s->loop, &s->io, EV_WRITE) < 0)
		hc_sock_post(s, HC_R_INTERNAL, "event loop refused fd");
	return 0;
}

void
hc_sock_target(const struct hc_check_conf *cc,
    const struct sockaddr_storage *addr, struct sockaddr_storage *out)
{
	*out = *addr;
	if (cc != NULL && cc->port != 0)
		hc_sock_set_port(out, (uint16_t)cc->port);
}

socklen_t
hc_sock_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	                                   sizeof(struct sockaddr_in);
}

uint16_t
hc_sock_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

void
hc_sock_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

void
hc_sock_ntop(const struct sockaddr_storage *ss, char *dst, size_t n)
{
	const void *a;

	if (ss->ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	else
		a = &((const struct sockaddr_in *)ss)->sin_addr;
	if (inet_ntop(ss->ss_family, a, dst, (socklen_t)n) == NULL)
		snprintf(dst, n, "?");
}
