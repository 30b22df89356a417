/*
 * dns_tcp.c - the TCP server of a dns worker (RFC 7766): non-blocking
 * accept, two-byte length framing (RFC 1035 §4.2.2), pipelined queries
 * answered in the order read, an idle timeout, a per-worker connection
 * limit, and room for zone transfers, whose one query produces a stream
 * of messages.
 *
 * Invariants of a connection:
 *   - its input buffer holds at most one partial message beyond what was
 *     parsed: it grows to 2 + the announced length (at most 2 + 65535)
 *     plus one read, and reading stops while the output backlog exceeds
 *     DNS_TCP_BACKLOG_MAX or a stream is running, so a client that sends
 *     queries and never reads the answers holds at most about 64 KiB of
 *     answers plus one message, whatever it sends;
 *   - answers leave in query order; a stream (AXFR/IXFR) runs to its end
 *     before the next query of the connection is read;
 *   - the idle timer is re-armed whenever bytes move either way, so it
 *     closes both a silent client and a reader stuck with a full window
 *     (RFC 7766 §6.2.3 and §10: resist slow readers);
 *   - connections are kept least recently active first: at
 *     max_connections a new connection closes the oldest idle one (no
 *     output pending, no stream, no partial query), since an idle client
 *     reconnects at no loss while the new one has a query waiting
 *     (RFC 7766 §6.2.3 lets a server close idle connections to free
 *     resources); when every connection is busy, the new one is closed.
 *
 * A connection accepted on a dns.tls.listen socket runs the same code
 * with its bytes through TLS (dns_tls.h): only dns_tcp_recv and
 * dns_tcp_send tell the two apart, and the events waited for follow what
 * the TLS layer asks (a handshake may write from a read), and bytes TLS
 * already decrypted are read without waiting for the socket.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns/dns_sec.h" /* dns-sec */
#include "dns/dns_srv.h"
#include "dns/dns_tls.h"
#include "dns/dns_xfr.h" /* dns-xfr */
#include "lib/util.h"

#define DNS_TCP_ACCEPT_MAX 64 /* connections accepted per wakeup */
#define DNS_TCP_READS_MAX  8  /* reads per wakeup */

struct dns_tcp_conn {
	struct dns_srv *s; /* borrowed: the worker's */
	int fd;            /* owned */
	struct ev_io io;
	struct ev_timer idle;
	struct dns_client cl;
	uint8_t *in; /* owned: bytes read and not yet parsed */
	size_t in_len, in_cap;
	uint8_t *out; /* owned: answers not yet written */
	size_t out_len, out_off, out_cap;
	struct dns_tcp_stream stream; /* active when stream.next != NULL */
	uint32_t nqueries;
	bool eof;           /* the client closed its side */
	bool last;          /* max_queries reached: no more queries */
	bool closed;        /* freed at the end of the iteration */
	struct ssl_st *ssl; /* owned: TLS (dns.tls.listen); NULL: plain */
	unsigned rd_want;   /* EV_*: what a TLS read waits for */
	unsigned wr_want;   /* EV_*: what a TLS write waits for */
	struct dns_tcp_conn *prev, *next; /* the srv's list */
};

static void dns_tcp_conn_cb(struct ev_io *io, unsigned events, void *arg);
static void dns_tcp_progress(struct dns_tcp_conn *c);

static size_t
dns_tcp_backlog(const struct dns_tcp_conn *c)
{
	return c->out_len - c->out_off;
}

static bool
dns_tcp_idle(const struct dns_tcp_conn *c)
{
	return dns_tcp_backlog(c) == 0 && c->stream.next == NULL &&
	    c->in_len == 0;
}

static void
dns_tcp_unlink(struct dns_tcp_conn *c)
{
	struct dns_srv *s = c->s;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conn_head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		s->conn_tail = c->prev;
	c->prev = c->next = NULL;
}

static void
dns_tcp_append(struct dns_tcp_conn *c)
{
	struct dns_srv *s = c->s;

	c->prev = s->conn_tail;
	c->next = NULL;
	if (s->conn_tail != NULL)
		s->conn_tail->next = c;
	else
		s->conn_head = c;
	s->conn_tail = c;
}

static void
dns_tcp_conn_mem_free(void *p)
{
	struct dns_tcp_conn *c = p;

	dns_tls_free(c->ssl);
	free(c->in);
	free(c->out);
	free(c);
}

static void
dns_tcp_stream_end(struct dns_tcp_conn *c)
{
	if (c->stream.next == NULL)
		return;
	if (c->stream.free != NULL)
		c->stream.free(c->stream.st);
	memset(&c->stream, 0, sizeof(c->stream));
}

static void
dns_tcp_close(struct dns_tcp_conn *c)
{
	struct dns_srv *s = c->s;

	if (c->closed)
		return;
	c->closed = true;
	ev_io_stop(s->loop, &c->io);
	ev_timer_stop(s->loop, &c->idle);
	dns_tcp_stream_end(c);
	if (c->ssl != NULL)
		dns_tls_close_notify(c->ssl);
	close(c->fd);
	c->fd = -1;
	dns_tcp_unlink(c);
	s->nconns--;
	/* Its io may still sit in the current epoll batch. */
	ev_defer_free(s->loop, c, dns_tcp_conn_mem_free);
	if (s->stopping && s->nconns == 0 && s->stopped != NULL)
		s->stopped(s);
}

static void
dns_tcp_idle_cb(struct ev_timer *t, void *arg)
{
	struct dns_tcp_conn *c = arg;

	c->s->st.tcp_closed_idle++;
	dns_tcp_close(c);
}

static void
dns_tcp_touch(struct dns_tcp_conn *c)
{
	const struct dns_conf *conf = c->s->conf;

	ev_timer_start(c->s->loop, &c->idle,
	    conf != NULL ? conf->tcp.idle_timeout_ms : 10000);
}

/* Read or write up to len bytes: bytes moved, 0 at the client's close
 * (a read), -EAGAIN, or -EIO. */
static ssize_t
dns_tcp_recv(struct dns_tcp_conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->ssl != NULL)
		return dns_tls_recv(c->ssl, buf, len, &c->rd_want);
	do
		n = recv(c->fd, buf, len, MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -EIO;
	return n;
}

static ssize_t
dns_tcp_send(struct dns_tcp_conn *c, const void *buf, size_t len)
{
	ssize_t n;

	if (c->ssl != NULL)
		return dns_tls_send(c->ssl, buf, len, &c->wr_want);
	do
		n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -EIO;
	return n;
}

/* Write what is pending; false when the connection was closed. */
static bool
dns_tcp_flush(struct dns_tcp_conn *c)
{
	while (dns_tcp_backlog(c) > 0) {
		ssize_t n =
		    dns_tcp_send(c, c->out + c->out_off, dns_tcp_backlog(c));

		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			c->s->st.tcp_io_errors++;
			dns_tcp_close(c);
			return false;
		}
		c->out_off += (size_t)n;
		dns_tcp_touch(c);
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	return true;
}

/* Queue len bytes; written at once if nothing is pending. */
static bool
dns_tcp_queue(struct dns_tcp_conn *c, const uint8_t *p, size_t len)
{
	if (c->out_off > 0 && c->out_off >= c->out_len / 2) {
		memmove(c->out, c->out + c->out_off, dns_tcp_backlog(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 1024;

		while (cap < c->out_len + len)
			cap *= 2;
		c->out = xrealloc(c->out, cap);
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	return dns_tcp_flush(c);
}

/* Send the message of n bytes at scratch + 2 with its length prefix. */
static bool
dns_tcp_send_msg(struct dns_tcp_conn *c, size_t n)
{
	uint8_t *m = c->s->scratch;

	m[0] = (uint8_t)(n >> 8);
	m[1] = (uint8_t)n;
	return dns_tcp_queue(c, m, n + 2);
}

/* Pull stream messages while the backlog allows; false when closed. */
static bool
dns_tcp_pump(struct dns_tcp_conn *c)
{
	while (c->stream.next != NULL &&
	    dns_tcp_backlog(c) < DNS_TCP_BACKLOG_MAX) {
		size_t len = 0;
		int r = c->stream.next(
		    c->stream.st, c->s->scratch + 2, DNS_MSG_MAX, &len);

		if (r < 0) {
			c->s->st.tcp_io_errors++;
			dns_tcp_close(c);
			return false;
		}
		if (r == 0) {
			dns_tcp_stream_end(c);
			break;
		}
		if (!dns_tcp_send_msg(c, len))
			return false;
	}
	return true;
}

static bool
dns_tcp_is_xfr(const uint8_t *msg, size_t len)
{
	struct dns_query q;

	if (dns_wire_parse_query(msg, len, &q) != DNS_WIRE_OK)
		return false;
	return q.qtype == 252 /* AXFR, RFC 5936 */ ||
	    q.qtype == 251 /* IXFR, RFC 1995 */;
}

/* One query; false when the connection was closed. */
static bool
dns_tcp_query(struct dns_tcp_conn *c, const uint8_t *msg, size_t len)
{
	struct dns_srv *s = c->s;
	struct dns_answer_info info;
	struct dns_answer_opts opts = s->opts;
	size_t n;

	c->nqueries++;
	if (s->conf->tcp.max_queries != 0 &&
	    c->nqueries >= s->conf->tcp.max_queries)
		c->last = true;
	if (s->xfr != NULL && dns_tcp_is_xfr(msg, len)) {
		struct dns_tcp_stream st = { 0 };

		if (s->xfr(s->conf, s->zones, &s->xfr_st, msg, len, &c->cl,
		        c->ssl != NULL, &st) == 0 &&
		    st.next != NULL) {
			s->st.xfr_started++;
			s->st.queries[DNS_SRV_TCP][DNS_SRV_QT_XFR]
			             [DNS_SRV_RC_NOERROR]++;
			c->stream = st;
			return dns_tcp_pump(c);
		}
	}
	if (dns_sec_is_notify(msg, len) &&
	    (n = dns_sec_notify_in(
	         s, msg, len, &c->cl, s->scratch + 2, DNS_MSG_MAX)) > 0)
		return dns_tcp_send_msg(c, n); /* dns-sec: NOTIFY in */
	opts.tcp = true;
	opts.now = (uint32_t)time(NULL);
	opts.sign = s->zones->sign;
	opts.tcp_idle_100ms =
	    (uint16_t)MIN(s->conf->tcp.idle_timeout_ms / 100, UINT16_MAX);
	n = dns_answer(s->zones->db, s->dyn, &opts, &c->cl, msg, len,
	    s->scratch + 2, DNS_MSG_MAX, &info);
	n = dns_xfr_tsig_answer(s, msg, len, s->scratch + 2, DNS_MSG_MAX,
	    n); /* dns-xfr: TSIG-signed queries */
	dns_srv_count(s, DNS_SRV_TCP, &info);
	if (n == 0)
		return true;
	return dns_tcp_send_msg(c, n);
}

/* Answer the complete queries buffered, as far as the backlog allows. */
static bool
dns_tcp_parse(struct dns_tcp_conn *c)
{
	size_t off = 0;
	bool ok = true;

	while (ok && !c->last && c->stream.next == NULL &&
	    dns_tcp_backlog(c) < DNS_TCP_BACKLOG_MAX && c->in_len - off >= 2) {
		size_t mlen = (size_t)c->in[off] << 8 | c->in[off + 1];

		if (mlen < DNS_HDR_LEN) {
			/* Not even a header: nothing to answer, and the
			 * framing can no longer be trusted. */
			c->s->st.tcp_bad_length++;
			c->s->st.malformed[DNS_WIRE_SHORT]++;
			dns_tcp_close(c);
			return false;
		}
		if (c->in_len - off < 2 + mlen)
			break;
		ok = dns_tcp_query(c, c->in + off + 2, mlen);
		off += 2 + mlen;
	}
	if (!ok)
		return false;
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return true;
}

/* Read what the socket has; false when closed. */
static bool
dns_tcp_read(struct dns_tcp_conn *c)
{
	for (unsigned i = 0; i < DNS_TCP_READS_MAX; i++) {
		size_t want = DNS_TCP_READ;
		ssize_t n;

		if (c->in_len + want > c->in_cap) {
			size_t cap = c->in_len + want;

			c->in = xrealloc(c->in, cap);
			c->in_cap = cap;
		}
		n = dns_tcp_recv(c, c->in + c->in_len, want);
		if (n == -EAGAIN)
			return true;
		if (n < 0) {
			c->s->st.tcp_io_errors++;
			dns_tcp_close(c);
			return false;
		}
		if (n == 0) {
			c->eof = true;
			return true;
		}
		c->in_len += (size_t)n;
		dns_tcp_touch(c);
		/* Answer as we go, so in holds at most one message more. */
		if (!dns_tcp_parse(c))
			return false;
		if (c->last || c->stream.next != NULL ||
		    dns_tcp_backlog(c) >= DNS_TCP_BACKLOG_MAX ||
		    c->in_len > 2 + DNS_MSG_MAX)
			return true;
	}
	return true;
}

/* Whether reading waits for the answers to leave (see the top). */
static bool
dns_tcp_paused(const struct dns_tcp_conn *c)
{
	return c->stream.next != NULL ||
	    dns_tcp_backlog(c) >= DNS_TCP_BACKLOG_MAX;
}

/* Whether queries may still be read. */
static bool
dns_tcp_reading(const struct dns_tcp_conn *c)
{
	return !c->eof && !c->last && !dns_tcp_paused(c);
}

/* Move the connection on after any event: pump, parse, decide what to
 * wait for, or close when it has nothing more to do. */
static void
dns_tcp_progress(struct dns_tcp_conn *c)
{
	unsigned ev = 0;
	bool paused;

	if (!dns_tcp_pump(c) || !dns_tcp_parse(c))
		return;
	/* Bytes TLS has decrypted already: no readiness will come for them.
	 * Each read takes some, so this ends. */
	while (
	    c->ssl != NULL && dns_tcp_reading(c) && dns_tls_pending(c->ssl) > 0)
		if (!dns_tcp_read(c) || !dns_tcp_pump(c))
			return;
	paused = dns_tcp_paused(c);
	/* Nothing more will be read and everything is written. */
	if ((c->eof || c->last) && c->stream.next == NULL &&
	    dns_tcp_backlog(c) == 0) {
		if (c->last && !c->s->stopping)
			c->s->st.tcp_closed_max_queries++;
		dns_tcp_close(c);
		return;
	}
	if (paused)
		c->s->st.tcp_read_paused++;
	if (!paused && !c->eof && !c->last)
		ev |= c->ssl != NULL ? c->rd_want : EV_READ;
	if (dns_tcp_backlog(c) > 0)
		ev |= c->ssl != NULL ? c->wr_want : EV_WRITE;
	if (ev == 0) {
		ev_io_stop(c->s->loop, &c->io);
	} else if (ev_io_start(c->s->loop, &c->io, ev) != 0) {
		c->s->st.tcp_io_errors++;
		dns_tcp_close(c);
	}
}

static void
dns_tcp_conn_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct dns_tcp_conn *c = arg;

	bool rd, wr;

	if (c->closed)
		return;
	/* Plain TCP does what the socket says. Over TLS either readiness
	 * may be what the other direction waits for, so both are tried:
	 * one that finds nothing costs a call. */
	wr = c->ssl != NULL ? dns_tcp_backlog(c) > 0 : (events & EV_WRITE) != 0;
	rd = c->ssl != NULL ? dns_tcp_reading(c) :
	                      (events & (EV_READ | EV_ERROR)) != 0;
	if (wr && !dns_tcp_flush(c))
		return;
	if (rd && !c->eof && !c->last) {
		if (!dns_tcp_read(c))
			return;
		/* Most recently active last: the oldest idle is first. */
		dns_tcp_unlink(c);
		dns_tcp_append(c);
	}
	dns_tcp_progress(c);
}

/* Make room for one more connection; false when every one is busy. */
static bool
dns_tcp_make_room(struct dns_srv *s)
{
	if (s->nconns < s->conf->tcp.max_connections)
		return true;
	for (struct dns_tcp_conn *c = s->conn_head; c != NULL; c = c->next) {
		if (dns_tcp_idle(c)) {
			s->st.tcp_closed_oldest++;
			dns_tcp_close(c);
			return true;
		}
	}
	return false;
}

void
dns_tcp_open(struct dns_srv *s, int fd, const struct sockaddr_storage *ss,
    struct ssl_ctx_st *tls)
{
	struct dns_tcp_conn *c = xcalloc(1, sizeof(*c));

	c->s = s;
	c->fd = fd;
	c->rd_want = EV_READ;
	c->wr_want = EV_WRITE;
	if (tls != NULL && (c->ssl = dns_tls_new(tls, fd)) == NULL)
		s->st.tcp_io_errors++; /* closed below, once counted in */
	dns_srv_client(ss, &c->cl);
	ev_io_init(&c->io, fd, dns_tcp_conn_cb, c);
	ev_timer_init(&c->idle, dns_tcp_idle_cb, c);
	dns_tcp_append(c);
	s->nconns++;
	s->st.tcp_accepted++;
	dns_tcp_touch(c);
	if (tls != NULL) {
		s->st.tls_accepted++;
		if (c->ssl == NULL) {
			dns_tcp_close(c);
			return;
		}
	}
	if (ev_io_start(s->loop, &c->io, EV_READ) != 0) {
		s->st.tcp_io_errors++;
		dns_tcp_close(c);
	}
}

void
dns_tcp_accept_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct dns_sock *k = arg;
	struct dns_srv *s = k->srv;

	for (unsigned i = 0; i < DNS_TCP_ACCEPT_MAX; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(k->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				s->st.tcp_accept_errors++;
			return;
		}
		if (s->zones == NULL || s->stopping || !dns_tcp_make_room(s) ||
		    (k->tls && s->tls == NULL)) {
			s->st.tcp_refused_max++;
			close(fd);
			continue;
		}
		dns_tcp_open(s, fd, &ss, k->tls ? s->tls : NULL);
	}
}

void
dns_tcp_close_all(struct dns_srv *s)
{
	while (s->conn_head != NULL)
		dns_tcp_close(s->conn_head);
}

/*
 * Stop: no connection reads another query; those with answers or a
 * stream still to send finish them (bounded by the idle timeout and the
 * runtime's deadline), the others close now.
 */
void
dns_tcp_drain(struct dns_srv *s)
{
	struct dns_tcp_conn *c, *next;

	for (c = s->conn_head; c != NULL; c = next) {
		next = c->next;
		c->last = true;
		dns_tcp_progress(c);
	}
}

/* New limits: connections past max_connections close, idle ones first. */
void
dns_tcp_apply(struct dns_srv *s)
{
	struct dns_tcp_conn *c, *next;

	for (c = s->conn_head;
	     c != NULL && s->nconns > s->conf->tcp.max_connections; c = next) {
		next = c->next;
		if (dns_tcp_idle(c)) {
			s->st.tcp_closed_oldest++;
			dns_tcp_close(c);
		}
	}
	for (c = s->conn_head; c != NULL; c = c->next)
		if (!c->closed)
			dns_tcp_touch(c);
}
