/*
 * hc_tcp.c - the tcp check: connect, optionally send `send` and wait for a
 * reply holding `expect`. Without send/expect a completed handshake passes.
 *
 * The whole probe runs under the hc_sock deadline (cc->timeout_ms), so a
 * black-holed target costs exactly one timeout. The reply is kept up to
 * HC_TCP_RX_MAX bytes: an expect string must appear in that window, and the
 * probe fails as too_large once it is full without a match, so a peer that
 * streams forever cannot hold memory or the probe.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hc/hc_conf.h"
#include "hc/hc_sock.h"
#include "lib/util.h"

#define HC_TCP_RX_MAX 4096

struct hc_tcp {
	struct hc_sock s; /* first: struct hc_probe * points here */
	const char *send; /* borrowed from cc: valid while the probe runs */
	size_t sendlen;
	size_t sent;
	const char *expect; /* borrowed from cc, NULL: none */
	size_t rxlen;
	char rx[HC_TCP_RX_MAX + 1];
};

static void hc_tcp_io(struct hc_sock *s, unsigned events);

/* The handshake is done: pass, or start the send/expect exchange. */
static void
hc_tcp_connected(struct hc_sock *s)
{
	struct hc_tcp *p = (struct hc_tcp *)s;

	if (p->send == NULL && p->expect == NULL) {
		hc_sock_finish(s, HC_R_OK, "connected");
		return;
	}
	if (p->send != NULL) {
		s->stage = "send";
		hc_sock_want(s, EV_WRITE);
		return;
	}
	s->stage = "expect";
	hc_sock_want(s, EV_READ);
}

static void
hc_tcp_write(struct hc_tcp *p)
{
	ssize_t n;

	n = send(
	    p->s.fd, p->send + p->sent, p->sendlen - p->sent, MSG_NOSIGNAL);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			hc_sock_finish_errno(&p->s, errno);
		return;
	}
	p->sent += (size_t)n;
	if (p->sent < p->sendlen)
		return;
	if (p->expect == NULL) {
		hc_sock_finish(&p->s, HC_R_OK, "sent %zu bytes", p->sent);
		return;
	}
	p->s.stage = "expect";
	hc_sock_want(&p->s, EV_READ);
}

static void
hc_tcp_read(struct hc_tcp *p)
{
	ssize_t n;

	n = recv(p->s.fd, p->rx + p->rxlen, HC_TCP_RX_MAX - p->rxlen, 0);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			hc_sock_finish_errno(&p->s, errno);
		return;
	}
	if (n == 0) {
		hc_sock_finish(&p->s, HC_R_CLOSED,
		    "closed after %zu bytes without the expected reply",
		    p->rxlen);
		return;
	}
	p->rxlen += (size_t)n;
	p->rx[p->rxlen] = '\0';
	/* Binary replies may hold NULs: search the whole window. */
	if (memmem(p->rx, p->rxlen, p->expect, strlen(p->expect)) != NULL) {
		hc_sock_finish(&p->s, HC_R_OK, "expect matched");
		return;
	}
	if (p->rxlen == HC_TCP_RX_MAX) {
		hc_sock_finish(&p->s, HC_R_TOO_LARGE,
		    "no match in the first %d bytes", HC_TCP_RX_MAX);
		return;
	}
}

static void
hc_tcp_io(struct hc_sock *s, unsigned events)
{
	struct hc_tcp *p = (struct hc_tcp *)s;

	if (p->send != NULL && p->sent < p->sendlen) {
		if (events & (EV_WRITE | EV_ERROR))
			hc_tcp_write(p);
		return;
	}
	if (events & (EV_READ | EV_ERROR))
		hc_tcp_read(p);
}

static int
hc_tcp_start(struct ev_loop *loop, const struct hc_check_conf *cc,
    const struct sockaddr_storage *addr, hc_probe_done_fn *done, void *arg,
    struct hc_probe **out)
{
	struct hc_tcp *p = xcalloc(1, sizeof(*p));
	struct sockaddr_storage dst;
	int rc;

	hc_sock_init(&p->s, loop, cc->timing.timeout_ms, done, arg);
	p->s.on_io = hc_tcp_io;
	p->s.on_conn = hc_tcp_connected;
	p->send = cc->send != NULL && cc->send[0] != '\0' ? cc->send : NULL;
	p->sendlen = p->send != NULL ? strlen(p->send) : 0;
	p->expect =
	    cc->expect != NULL && cc->expect[0] != '\0' ? cc->expect : NULL;
	hc_sock_target(cc, addr, &dst);
	if ((rc = hc_sock_connect(&p->s, &dst, SOCK_STREAM, 0)) < 0) {
		/* Nothing was posted: tear down without a result. */
		hc_sock_cancel(&p->s);
		return rc;
	}
	*out = (struct hc_probe *)p;
	return 0;
}

const struct hc_check_type hc_tcp_type = {
	.name = "tcp",
	.start = hc_tcp_start,
	.cancel = hc_sock_probe_cancel,
};
