/*
 * api.c - see api.h.
 *
 * A connection is either reading a request, waiting for its handler to
 * answer (pending != NULL), or writing the answer. Bytes that arrive while a
 * request is pending stay in the input buffer (bounded) and are parsed after
 * the answer is written: pipelined requests are answered in order.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "buf.h"
#include "http1.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define API_MAX_HEAD     (16 * 1024)
#define API_MAX_HEADERS  64
#define API_MAX_CONNS    256
#define API_HEAD_TIMEOUT 10000
#define API_IDLE_TIMEOUT 60000
#define API_MAX_LISTEN   4

struct api_listener {
	struct api_server *s; /* borrowed: owner */
	int fd;               /* owned */
	struct ev_io io;
	bool tcp;
	bool no_token;    /* TCP: tokens waived, every request is admin */
	char *token;      /* owned, NULL: none */
	char *read_token; /* owned, NULL: none */
	char **hosts;     /* owned: nhosts owned names Host may carry */
	size_t nhosts;
	gid_t group, read_group; /* unix: API_NO_GID when unset */
	uid_t own_uid;           /* unix: our euid at listen(): admin */
	char *unix_path;         /* owned, unlinked on free */
};

struct api_conn {
	struct api_server *s;         /* borrowed: owner */
	struct api_listener *l;       /* borrowed */
	struct api_conn *prev, *next; /* list of s->conns */
	int fd;                       /* owned */
	struct ev_io io;
	struct ev_timer timer;
	struct buf in;
	struct buf out;
	struct api_req *pending; /* owned jointly: see api_reply */
	size_t req_len;          /* bytes of in used by the pending request */
	bool close_after;
	bool closed;
	bool head_timing; /* timer runs the head deadline, not idleness */
	enum api_level peer_level;     /* unix: from the peer's credentials */
	struct sockaddr_storage local; /* TCP: the address it reached */
};

struct api_server {
	struct ev_loop *loop; /* borrowed */
	api_handler_fn *fn;
	void *arg; /* borrowed */
	size_t max_body;
	struct api_listener listeners[API_MAX_LISTEN];
	size_t nlisteners;
	struct api_conn *conns; /* owned list */
	size_t nconns;
	struct api_stats stats;
};

static void api_conn_io(struct ev_io *io, unsigned events, void *arg);
static void api_conn_parse(struct api_conn *c);

static void
api_conn_free(void *p)
{
	struct api_conn *c = p;

	buf_fini(&c->in);
	buf_fini(&c->out);
	free(c);
}

static void
api_conn_close(struct api_conn *c)
{
	struct api_server *s = c->s;

	if (c->closed)
		return;
	c->closed = true;
	ev_io_stop(s->loop, &c->io);
	ev_timer_stop(s->loop, &c->timer);
	close(c->fd);
	if (c->pending != NULL)
		c->pending->conn = NULL; /* orphaned: api_reply frees it */
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->nconns--;
	ev_defer_free(s->loop, c, api_conn_free);
}

static void
api_req_free(struct api_req *r)
{
	free(r->path);
	free(r->query);
	free(r->body);
	free(r);
}

/* Flush c->out; returns -1 if the connection was closed. */
static int
api_conn_flush(struct api_conn *c)
{
	while (c->out.len > 0) {
		ssize_t n = send(c->fd, c->out.data, c->out.len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			api_conn_close(c);
			return -1;
		}
		buf_consume(&c->out, (size_t)n);
	}
	if (c->out.len == 0 && c->close_after) {
		api_conn_close(c);
		return -1;
	}
	(void)ev_io_start(
	    c->s->loop, &c->io, c->out.len > 0 ? EV_READ | EV_WRITE : EV_READ);
	return 0;
}

/* extra: whole header lines ("Name: value\r\n"), or NULL. */
static void
api_conn_respond(struct api_conn *c, int status, const char *ctype,
    const char *extra, const char *body, size_t len)
{
	buf_printf(&c->out,
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n%s%s\r\n",
	    status, http1_reason(status), ctype ? ctype : "application/json",
	    len, extra ? extra : "",
	    c->close_after ? "Connection: close\r\n" : "");
	if (len > 0)
		buf_append(&c->out, body, len);
}

/* A 4xx the server produces itself: always closes the connection. */
static void
api_conn_fail(struct api_conn *c, int status, const char *msg)
{
	struct buf b;
	struct jw w;

	c->s->stats.bad_requests++;
	buf_init(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "error", msg);
	jw_kint(&w, "status", status);
	jw_obj_end(&w);
	c->close_after = true;
	ev_timer_stop(c->s->loop, &c->timer);
	api_conn_respond(c, status, NULL, NULL, b.data, b.len);
	buf_fini(&b);
	(void)api_conn_flush(c);
}

static void
api_reply_extra(struct api_req *req, int status, const char *content_type,
    const char *extra, const char *body, size_t len)
{
	struct api_conn *c = req->conn;

	if (c != NULL) {
		c->pending = NULL;
		api_conn_respond(c, status, content_type, extra, body, len);
		buf_consume(&c->in, c->req_len);
		c->req_len = 0;
		if (api_conn_flush(c) == 0) {
			ev_timer_start(c->s->loop, &c->timer, API_IDLE_TIMEOUT);
			/* The next pipelined request, if any, after this one.
			 */
			api_conn_parse(c);
		}
	}
	api_req_free(req);
}

void
api_reply(struct api_req *req, int status, const char *content_type,
    const char *body, size_t len)
{
	api_reply_extra(req, status, content_type, NULL, body, len);
}

static void
api_error_extra(
    struct api_req *req, int status, const char *extra, const char *msg)
{
	struct buf b;
	struct jw w;

	buf_init(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "error", msg);
	jw_kint(&w, "status", status);
	jw_obj_end(&w);
	api_reply_extra(req, status, NULL, extra, b.data, b.len);
	buf_fini(&b);
}

void
api_error(struct api_req *req, int status, const char *msg)
{
	api_error_extra(req, status, NULL, msg);
}

int
api_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%') {
			char hex[3], *end;
			long v;

			/*
			 * Checked before reading s[2] (s[1] may be the NUL);
			 * strtol alone would take "+1", "-1" or " 1".
			 */
			if (!isxdigit((unsigned char)s[1]) ||
			    !isxdigit((unsigned char)s[2]))
				return -1;
			hex[0] = s[1];
			hex[1] = s[2];
			hex[2] = '\0';
			v = strtol(hex, &end, 16);
			if (*end != '\0' || v == 0)
				return -1;
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 0;
}

static const char *const api_refuse_names[API_REFUSE_N] = {
	[API_REFUSE_NO_TOKEN] = "no_token",
	[API_REFUSE_BAD_TOKEN] = "bad_token",
	[API_REFUSE_READ_ONLY] = "read_only",
	[API_REFUSE_PEER] = "peer",
	[API_REFUSE_ORIGIN] = "origin",
	[API_REFUSE_HOST] = "host",
};

const char *
api_refuse_name(enum api_refuse r)
{
	return r < API_REFUSE_N ? api_refuse_names[r] : "?";
}

/* tok equals the bytes v[0..len) (constant time for equal lengths). */
static bool
api_token_eq(const char *tok, const char *v, size_t len)
{
	return tok != NULL && strlen(tok) == len &&
	    CRYPTO_memcmp(v, tok, len) == 0;
}

/* The level a TCP request's bearer token gives, or why it gives none. */
static int
api_conn_token_level(
    const struct api_conn *c, const struct http1_req *hr, enum api_refuse *why)
{
	const struct http1_header *h = http1_find(&hr->m, "authorization");
	const struct api_listener *l = c->l;
	bool admin, read;

	if (l->no_token)
		return API_LEVEL_ADMIN;
	if (h == NULL) {
		*why = API_REFUSE_NO_TOKEN;
		return API_LEVEL_NONE;
	}
	if (h->value_len < 7 || strncasecmp(h->value, "Bearer ", 7) != 0) {
		*why = API_REFUSE_BAD_TOKEN;
		return API_LEVEL_NONE;
	}
	/* Both compared, whichever matches: the timing tells nothing. */
	admin = api_token_eq(l->token, h->value + 7, h->value_len - 7);
	read = api_token_eq(l->read_token, h->value + 7, h->value_len - 7);
	if (admin)
		return API_LEVEL_ADMIN;
	if (read)
		return API_LEVEL_READ;
	*why = API_REFUSE_BAD_TOKEN;
	return API_LEVEL_NONE;
}

/* The host part of a Host value names the address c reached. */
static bool
api_host_is_local(const struct api_conn *c, const char *host)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&c->local;
	const struct sockaddr_in6 *sin6 =
	    (const struct sockaddr_in6 *)&c->local;
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, host, &a4) == 1) {
		if (c->local.ss_family == AF_INET)
			return a4.s_addr == sin->sin_addr.s_addr;
		return c->local.ss_family == AF_INET6 &&
		    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
		    memcmp(&sin6->sin6_addr.s6_addr[12], &a4, 4) == 0;
	}
	return inet_pton(AF_INET6, host, &a6) == 1 &&
	    c->local.ss_family == AF_INET6 &&
	    memcmp(&a6, &sin6->sin6_addr, sizeof(a6)) == 0;
}

/*
 * Whether a TCP request's Host names this listener: its own address (as
 * the client reached it), localhost or a configured name, with our port if
 * any. A page that rebinds its own DNS name to 127.0.0.1 sends that name.
 * No Host at all is not a browser (browsers always send one).
 */
static bool
api_conn_host_ok(const struct api_conn *c, const struct http1_req *hr)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&c->local;
	char host[256];
	const char *v = hr->host, *port = NULL, *end;
	size_t len = hr->host_len;

	if (v == NULL)
		return true;
	if (len >= sizeof(host) || len == 0)
		return false;
	if (v[0] == '[') {
		if ((end = memchr(v, ']', len)) == NULL)
			return false;
		snprintf(host, sizeof(host), "%.*s", (int)(end - v - 1), v + 1);
		if (end + 1 < v + len) {
			if (end[1] != ':')
				return false;
			port = end + 2;
		}
	} else {
		end = memchr(v, ':', len);
		snprintf(host, sizeof(host), "%.*s",
		    (int)(end ? end - v : (ptrdiff_t)len), v);
		if (end != NULL)
			port = end + 1;
	}
	if (port != NULL) {
		char want[8];

		/* sin_port sits where sin6_port does. */
		snprintf(want, sizeof(want), "%u", ntohs(sin->sin_port));
		if ((size_t)(v + len - port) != strlen(want) ||
		    memcmp(port, want, strlen(want)) != 0)
			return false;
	}
	if (strcasecmp(host, "localhost") == 0 || api_host_is_local(c, host))
		return true;
	for (size_t i = 0; i < c->l->nhosts; i++)
		if (strcasecmp(host, c->l->hosts[i]) == 0)
			return true;
	return false;
}

/*
 * Decide whether the request may reach the handler. Returns true, or
 * answers the refusal, counts it and returns false.
 */
static bool
api_conn_admit(
    struct api_conn *c, const struct http1_req *hr, struct api_req *r)
{
	struct api_server *s = c->s;
	enum api_refuse why = API_REFUSE_N;
	int level;
	bool read =
	    strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;

	if (http1_find(&hr->m, "origin") != NULL)
		why = API_REFUSE_ORIGIN;
	else if (c->l->tcp && !api_conn_host_ok(c, hr))
		why = API_REFUSE_HOST;
	if (why != API_REFUSE_N) {
		level = API_LEVEL_NONE;
	} else if (c->l->tcp) {
		level = api_conn_token_level(c, hr, &why);
	} else {
		level = c->peer_level;
		why = API_REFUSE_PEER;
	}
	if (level == API_LEVEL_READ && !read)
		why = API_REFUSE_READ_ONLY;
	else if (level != API_LEVEL_NONE)
		return true;
	s->stats.refused[why]++;
	switch (why) {
	case API_REFUSE_NO_TOKEN:
	case API_REFUSE_BAD_TOKEN:
		api_error_extra(r, 401,
		    "WWW-Authenticate: Bearer realm=\"haven\"\r\n",
		    why == API_REFUSE_NO_TOKEN ? "bearer token required" :
		                                 "wrong bearer token");
		break;
	case API_REFUSE_READ_ONLY:
		api_error(r, 403, "read-only access: this method needs admin");
		break;
	case API_REFUSE_PEER:
		api_error(r, 403, "not allowed: uid not root nor in api.group");
		break;
	case API_REFUSE_ORIGIN:
		api_error(r, 403, "requests from a browser page are refused");
		break;
	default:
		api_error(r, 403, "Host is not this listener's address");
		break;
	}
	return false;
}

/*
 * Find the body of a chunked request in bytes. Returns 1 complete (body in
 * out, *used = bytes of the encoded body), 0 need more, -1 malformed, -2 too
 * large.
 */
static int
api_chunked_body(
    const char *p, size_t len, size_t max, struct buf *out, size_t *used)
{
	struct http1_chunked ch;
	size_t off = 0;

	http1_chunked_init(&ch);
	while (off < len && !ch.done) {
		size_t doff = 0, dlen = 0;
		long n =
		    http1_chunked_feed(&ch, p + off, len - off, &doff, &dlen);

		if (n < 0)
			return -1;
		if (dlen > 0)
			buf_append(out, p + off + doff, dlen);
		if (out->len > max)
			return -2;
		if (n == 0)
			break;
		off += (size_t)n;
	}
	*used = off;
	return ch.done ? 1 : 0;
}

static char *
api_split_target(const char *t, size_t len, char **query)
{
	const char *q = memchr(t, '?', len);
	size_t plen = q ? (size_t)(q - t) : len;

	*query = q ? xstrndup(q + 1, len - plen - 1) : xstrdup("");
	return xstrndup(t, plen);
}

static void
api_conn_dispatch(struct api_conn *c, const struct http1_req *hr,
    struct buf *body, size_t total)
{
	struct api_server *s = c->s;
	struct api_req *r = xcalloc(1, sizeof(*r));

	snprintf(r->method, sizeof(r->method), "%.*s", (int)hr->method_len,
	    hr->method_str);
	r->path = api_split_target(hr->target, hr->target_len, &r->query);
	r->body_len = body->len;
	r->body = buf_steal(body);
	r->start_us = util_mono_us();
	r->conn = c;
	c->pending = r;
	c->req_len = total;
	c->close_after = !hr->m.keep_alive;
	c->head_timing = false;
	ev_timer_stop(s->loop, &c->timer);
	s->stats.requests++;
	if (!api_conn_admit(c, hr, r))
		return;
	if (r->path[0] != '/' || api_unescape(r->path) != 0) {
		s->stats.bad_requests++;
		api_error(r, 400, "bad request target");
		return;
	}
	s->fn(r, s->arg);
}

static void
api_conn_parse(struct api_conn *c)
{
	const struct http1_limits lim = { API_MAX_HEAD, API_MAX_HEADERS };
	struct http1_req hr;
	struct buf body;
	size_t used = 0;
	int r;

	if (c->closed || c->pending != NULL || c->in.len == 0)
		return;
	r = http1_parse_request(c->in.data, c->in.len, &lim, &hr);
	if (r == HTTP1_AGAIN) {
		if (c->in.len > API_MAX_HEAD) {
			api_conn_fail(c, 431, "request head too large");
		} else if (!c->head_timing) {
			/* Slowloris: the whole head within the deadline. */
			c->head_timing = true;
			ev_timer_start(c->s->loop, &c->timer, API_HEAD_TIMEOUT);
		}
		return;
	}
	if (r == HTTP1_ERROR) {
		api_conn_fail(
		    c, http1_err_status(hr.m.err), http1_err_name(hr.m.err));
		return;
	}
	buf_init(&body);
	if (hr.m.chunked) {
		r = api_chunked_body(c->in.data + hr.m.head_len,
		    c->in.len - hr.m.head_len, c->s->max_body, &body, &used);
		if (r == -1 || r == -2) {
			buf_fini(&body);
			api_conn_fail(c, r == -1 ? 400 : 413,
			    r == -1 ? "bad chunked body" : "body too large");
			return;
		}
	} else if (hr.m.content_length > 0) {
		if ((uint64_t)hr.m.content_length > c->s->max_body) {
			buf_fini(&body);
			api_conn_fail(c, 413, "body too large");
			return;
		}
		used = (size_t)hr.m.content_length;
		r = c->in.len - hr.m.head_len >= used;
		if (r)
			buf_append(&body, c->in.data + hr.m.head_len, used);
	} else {
		r = 1;
	}
	if (r == 0) {
		buf_fini(&body);
		return; /* the rest of the body has not arrived yet */
	}
	api_conn_dispatch(c, &hr, &body, hr.m.head_len + used);
	buf_fini(&body);
}

static void
api_conn_timeout(struct ev_timer *t, void *arg)
{
	struct api_conn *c = arg;

	c->s->stats.timeouts++;
	if (c->in.len > 0)
		api_conn_fail(c, 408, "request head timeout");
	else
		api_conn_close(c);
}

static void
api_conn_read(struct api_conn *c)
{
	size_t cap = API_MAX_HEAD + c->s->max_body + 4096;

	for (;;) {
		char *dst;
		ssize_t n;

		if (c->in.len >= cap) {
			/*
			 * Pending: stop reading until api_reply re-arms us
			 * (level-triggered, the socket would stay ready and
			 * spin the loop); otherwise it is too big.
			 */
			if (c->pending == NULL)
				api_conn_fail(c, 413, "request too large");
			else
				(void)ev_io_start(c->s->loop, &c->io,
				    c->out.len > 0 ? EV_WRITE : 0);
			return;
		}
		dst = buf_reserve(&c->in, 16384);
		n = recv(c->fd, dst, MIN(16384, cap - c->in.len), 0);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			api_conn_close(c);
			return;
		}
		if (n == -1)
			break;
		c->in.len += (size_t)n;
		c->in.data[c->in.len] = '\0';
	}
	api_conn_parse(c);
}

static void
api_conn_io(struct ev_io *io, unsigned events, void *arg)
{
	struct api_conn *c = arg;

	if (events & EV_WRITE) {
		if (api_conn_flush(c) < 0)
			return;
	}
	if (events & (EV_READ | EV_ERROR))
		api_conn_read(c);
}

/* Whether the peer (uid, gid) belongs to group g, supplementary too. */
static bool
api_peer_in_group(const struct ucred *cr, gid_t g)
{
	struct passwd pw, *pwp = NULL;
	gid_t groups[256];
	int n = (int)ARRAY_SIZE(groups);
	char pwbuf[4096];

	if (g == API_NO_GID)
		return false;
	if (cr->gid == g)
		return true;
	/*
	 * SO_PEERCRED carries no supplementary groups: take them from the
	 * group database for the peer's user, as login would have.
	 */
	if (getpwuid_r(cr->uid, &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 ||
	    pwp == NULL)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) == -1)
		n = (int)ARRAY_SIZE(groups); /* more: the first ones decide */
	for (int i = 0; i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

/* The level a unix socket peer gets: decided once, at accept. */
static enum api_level
api_peer_level(const struct api_listener *l, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return API_LEVEL_NONE;
	if (cr.uid == 0 || cr.uid == l->own_uid ||
	    api_peer_in_group(&cr, l->group))
		return API_LEVEL_ADMIN;
	if (api_peer_in_group(&cr, l->read_group))
		return API_LEVEL_READ;
	return API_LEVEL_NONE;
}

static void
api_accept(struct ev_io *io, unsigned events, void *arg)
{
	struct api_listener *l = arg;
	struct api_server *s = l->s;

	for (int i = 0; i < 32; i++) {
		struct api_conn *c;
		int fd =
		    accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1)
			return;
		s->stats.accepted++;
		if (s->nconns >= API_MAX_CONNS) {
			s->stats.conn_rejected++;
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->s = s;
		c->l = l;
		c->fd = fd;
		if (l->tcp) {
			socklen_t len = sizeof(c->local);

			if (getsockname(
			        fd, (struct sockaddr *)&c->local, &len) == -1)
				c->local.ss_family = AF_UNSPEC;
		} else {
			c->peer_level = api_peer_level(l, fd);
		}
		buf_init(&c->in);
		buf_init(&c->out);
		ev_io_init(&c->io, fd, api_conn_io, c);
		ev_timer_init(&c->timer, api_conn_timeout, c);
		ev_timer_start(s->loop, &c->timer, API_IDLE_TIMEOUT);
		c->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		(void)ev_io_start(s->loop, &c->io, EV_READ);
	}
}

struct api_server *
api_server_new(
    struct ev_loop *loop, api_handler_fn *fn, void *arg, size_t max_body)
{
	struct api_server *s = xcalloc(1, sizeof(*s));

	s->loop = loop;
	s->fn = fn;
	s->arg = arg;
	s->max_body = max_body ? max_body : 1 << 20;
	return s;
}

static void
api_listener_clear_tokens(struct api_listener *l)
{
	free(l->token);
	free(l->read_token);
	for (size_t i = 0; i < l->nhosts; i++)
		free(l->hosts[i]);
	free(l->hosts);
	l->token = l->read_token = NULL;
	l->hosts = NULL;
	l->nhosts = 0;
}

static void
api_listener_set_tokens(struct api_listener *l, const struct api_access *a)
{
	api_listener_clear_tokens(l);
	l->no_token = a->no_token;
	l->token = a->token ? xstrdup(a->token) : NULL;
	l->read_token = a->read_token ? xstrdup(a->read_token) : NULL;
	l->nhosts = a->nhosts;
	l->hosts = xcalloc(a->nhosts + 1, sizeof(*l->hosts));
	for (size_t i = 0; i < a->nhosts; i++)
		l->hosts[i] = xstrdup(a->hosts[i]);
}

static int
api_listener_add(struct api_server *s, int fd, bool tcp,
    const struct api_access *a, const char *path)
{
	struct api_listener *l;

	if (s->nlisteners == API_MAX_LISTEN) {
		close(fd);
		return -ENOSPC;
	}
	l = &s->listeners[s->nlisteners++];
	l->s = s;
	l->fd = fd;
	l->tcp = tcp;
	l->own_uid = geteuid();
	l->group = a ? a->group : API_NO_GID;
	l->read_group = a ? a->read_group : API_NO_GID;
	if (tcp)
		api_listener_set_tokens(l, a);
	l->unix_path = path ? xstrdup(path) : NULL;
	ev_io_init(&l->io, fd, api_accept, l);
	return ev_io_start(s->loop, &l->io, EV_READ);
}

void
api_server_set_tcp_access(struct api_server *s, const struct api_access *a)
{
	for (size_t i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].tcp)
			api_listener_set_tokens(&s->listeners[i], a);
}

/*
 * Open the socket file to the groups that may use it. Done after bind, so
 * it goes from 0600 to wider, never the other way: no window where a peer
 * the config excludes could connect.
 */
static int
api_unix_perms(const char *path, const struct api_access *a)
{
	gid_t g;
	mode_t mode;

	if (a == NULL ||
	    (a->group == API_NO_GID && a->read_group == API_NO_GID))
		return 0;
	g = a->group != API_NO_GID ? a->group : a->read_group;
	/* Two groups cannot share one file group: the peer check decides. */
	mode = a->read_group != API_NO_GID ? 0666 : 0660;
	if (chown(path, (uid_t)-1, g) == -1 || chmod(path, mode) == -1)
		return -errno;
	return 0;
}

int
api_unix_probe(const char *path, pid_t *pid)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd, e = 0;

	*pid = 0;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	/*
	 * Non-blocking: a listener with a full backlog answers EAGAIN, which
	 * still means someone is there. Only ECONNREFUSED (a socket file no
	 * process listens on, or not a socket at all) is stale.
	 */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		/* The peer's credentials as of its listen(): its pid. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
			*pid = cred.pid;
		e = -EADDRINUSE;
	} else if (errno == EAGAIN) {
		e = -EADDRINUSE;
	} else if (errno != ECONNREFUSED && errno != ENOENT) {
		e = -errno;
	}
	close(fd);
	return e;
}

int
api_listen_unix(
    struct api_server *s, const char *path, const struct api_access *a)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	pid_t holder;
	int fd, e;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	/* Never steal the socket of a daemon that still answers on it. */
	if ((e = api_unix_probe(path, &holder)) != 0)
		return e;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	(void)unlink(path);
	/* Created 0600 from the start: no window where others can connect. */
	old = umask(0177);
	e = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (e == -1 || listen(fd, 64) == -1) {
		e = -errno;
		close(fd);
		return e;
	}
	if ((e = api_unix_perms(path, a)) != 0) {
		close(fd);
		(void)unlink(path);
		return e;
	}
	return api_listener_add(s, fd, false, a, path);
}

int
api_listen_tcp(struct api_server *s, const struct sockaddr_storage *ss,
    const struct api_access *a)
{
	socklen_t len = ss->ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	int fd, one = 1, e;

	fd = socket(
	    ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) == -1 ||
	    listen(fd, 64) == -1) {
		e = -errno;
		close(fd);
		return e;
	}
	return api_listener_add(s, fd, true, a, NULL);
}

const struct api_stats *
api_server_stats(const struct api_server *s)
{
	return &s->stats;
}

void
api_server_free(struct api_server *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		api_conn_close(s->conns);
	for (size_t i = 0; i < s->nlisteners; i++) {
		struct api_listener *l = &s->listeners[i];

		ev_io_stop(s->loop, &l->io);
		close(l->fd);
		if (l->unix_path != NULL)
			(void)unlink(l->unix_path);
		free(l->unix_path);
		api_listener_clear_tokens(l);
	}
	free(s);
}
