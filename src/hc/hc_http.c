/*
 * hc_http.c - the http and https check types.
 *
 * One probe is: connect, TLS handshake (https), write one request with
 * "Connection: close", parse the response head with http1_parse_response,
 * test the status against expect_status and, only if a body substring is
 * expected, read at most max_body decoded body bytes (Content-Length,
 * chunked, or until close) looking for it. Everything runs on the event
 * loop without blocking and under the single deadline of struct hc_sock.
 *
 * Body rule: the substring found within the first max_body bytes passes at
 * once; a body that goes past max_body without it is too_large; a body that
 * ends without it is body_mismatch. Without a body check, reading stops
 * after the head, so a huge body costs nothing.
 *
 * SSL_write reaches the socket through write(), not send(MSG_NOSIGNAL):
 * the process must ignore SIGPIPE, as the child runtime (child.c) does.
 *
 * TLS contexts are cached per process, keyed by (verify, CA, cert, key):
 * loading a CA bundle per probe would cost more than the probe.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hc/hc_conf.h"
#include "hc/hc_sock.h"
#include "lib/buf.h"
#include "lib/http1.h"
#include "lib/util.h"

#define HC_HTTP_HEAD_MAX     16384 /* response head bytes we accept */
#define HC_HTTP_READ_CHUNK   16384 /* bytes per read() call */
#define HC_HTTP_MAX_BODY     65536 /* max_body when the config says 0 */
#define HC_HTTP_PATTERN_SHOW 40    /* pattern bytes quoted in a detail */

enum hc_http_phase {
	HC_HTTP_HANDSHAKE,
	HC_HTTP_SEND,
	HC_HTTP_HEAD,
	HC_HTTP_BODY,
};

struct hc_http_ctx {
	struct hc_http_ctx *next; /* owned: the rest of the cache */
	bool verify;
	char *ca_file;   /* owned, may be NULL */
	char *cert_file; /* owned, may be NULL */
	char *key_file;  /* owned, may be NULL */
	SSL_CTX *ctx;    /* owned */
};

struct hc_http {
	struct hc_sock s; /* first: the engine's struct hc_probe * */
	enum hc_http_phase phase;
	SSL *ssl;                /* owned; NULL for plain http */
	struct buf out;          /* owned: the request */
	size_t out_off;          /* bytes of out already written */
	struct buf in;           /* owned: response head being parsed */
	struct http1_resp *resp; /* owned: parse result, valid over in */
	uint32_t *status;        /* owned: [lo, hi] pairs */
	size_t nstatus;          /* ranges in status */
	bool head_only;          /* HEAD request: no body follows */
	char *pattern;           /* owned, NULL: no body check */
	size_t pattern_len;
	uint64_t max_body;
	struct buf body;     /* owned: decoded body kept, at most max_body */
	uint64_t body_total; /* decoded body bytes seen, kept or not */
	int code;            /* response status once the head is parsed */
	int64_t cl_left; /* Content-Length bytes to come; -1: not framed so */
	bool chunked;
	struct http1_chunked ch;
};

/* Process-wide TLS context cache; contexts live until exit. */
static struct hc_http_ctx *hc_http_ctxs; /* owned */

static const uint32_t hc_http_default_status[2] = { 200, 399 };

static bool
hc_http_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static char *
hc_http_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* The first queued OpenSSL error as text, or fallback. */
static void
hc_http_ssl_errstr(char *dst, size_t n, const char *fallback)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0) {
		snprintf(dst, n, "%s", fallback);
		return;
	}
	ERR_error_string_n(e, dst, n);
	ERR_clear_error();
}

static SSL_CTX *
hc_http_ctx_build(const struct hc_check_conf *cc, char *err, size_t n)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* A peer that closes without close_notify ends the body; no error. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(
	    ctx, cc->tls_verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (cc->tls_verify) {
		int ok = cc->ca_file != NULL ?
		    SSL_CTX_load_verify_locations(ctx, cc->ca_file, NULL) :
		    SSL_CTX_set_default_verify_paths(ctx);
		if (ok != 1)
			goto fail;
	}
	if (cc->cert_file != NULL &&
	    (SSL_CTX_use_certificate_chain_file(ctx, cc->cert_file) != 1 ||
	        SSL_CTX_use_PrivateKey_file(ctx,
	            cc->key_file ? cc->key_file : cc->cert_file,
	            SSL_FILETYPE_PEM) != 1 ||
	        SSL_CTX_check_private_key(ctx) != 1))
		goto fail;
	return ctx;
fail:
	hc_http_ssl_errstr(err, n, "cannot create TLS context");
	SSL_CTX_free(ctx);
	return NULL;
}

static SSL_CTX *
hc_http_ctx_get(const struct hc_check_conf *cc, char *err, size_t n)
{
	struct hc_http_ctx *c;
	SSL_CTX *ctx;

	for (c = hc_http_ctxs; c != NULL; c = c->next)
		if (c->verify == cc->tls_verify &&
		    hc_http_streq(c->ca_file, cc->ca_file) &&
		    hc_http_streq(c->cert_file, cc->cert_file) &&
		    hc_http_streq(c->key_file, cc->key_file))
			return c->ctx;
	if ((ctx = hc_http_ctx_build(cc, err, n)) == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->verify = cc->tls_verify;
	c->ca_file = hc_http_dup(cc->ca_file);
	c->cert_file = hc_http_dup(cc->cert_file);
	c->key_file = hc_http_dup(cc->key_file);
	c->ctx = ctx;
	c->next = hc_http_ctxs;
	hc_http_ctxs = c;
	return ctx;
}

static bool
hc_http_is_ip(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* Host header value: the configured one, else the address (and port). */
static void
hc_http_host(const struct hc_check_conf *cc, const struct sockaddr_storage *dst,
    bool tls, struct buf *b)
{
	char ip[INET6_ADDRSTRLEN];
	uint16_t port = hc_sock_port(dst);

	if (cc->host != NULL) {
		buf_puts(b, cc->host);
		return;
	}
	hc_sock_ntop(dst, ip, sizeof(ip));
	buf_printf(b, dst->ss_family == AF_INET6 ? "[%s]" : "%s", ip);
	if (port != (tls ? 443 : 80))
		buf_printf(b, ":%u", port);
}

/* SNI and certificate name: sni, else a host header that is a name. */
static int
hc_http_tls_setup(struct hc_http *h, const struct hc_check_conf *cc,
    const struct sockaddr_storage *dst, char *err, size_t n)
{
	SSL_CTX *ctx = hc_http_ctx_get(cc, err, n);
	char name[256] = "", ip[INET6_ADDRSTRLEN];

	if (ctx == NULL)
		return -1;
	if ((h->ssl = SSL_new(ctx)) == NULL) {
		hc_http_ssl_errstr(err, n, "SSL_new failed");
		return -1;
	}
	if (cc->sni != NULL)
		snprintf(name, sizeof(name), "%s", cc->sni);
	else if (cc->host != NULL && cc->host[0] != '[') {
		snprintf(name, sizeof(name), "%s", cc->host);
		name[strcspn(name, ":")] = '\0'; /* drop a ":port" */
	}
	if (name[0] != '\0' && !hc_http_is_ip(name)) {
		SSL_set_tlsext_host_name(h->ssl, name);
		if (cc->tls_verify)
			SSL_set1_host(h->ssl, name);
	} else if (cc->tls_verify) {
		/* No name to check: the certificate must carry the IP. */
		hc_sock_ntop(dst, ip, sizeof(ip));
		X509_VERIFY_PARAM_set1_ip_asc(
		    SSL_get0_param(h->ssl), name[0] != '\0' ? name : ip);
	}
	return 0;
}

static void
hc_http_fini(struct hc_sock *s)
{
	struct hc_http *h = (struct hc_http *)s;

	SSL_free(h->ssl); /* the descriptor is closed by hc_sock */
	buf_fini(&h->out);
	buf_fini(&h->in);
	buf_fini(&h->body);
	free(h->resp);
	free(h->status);
	free(h->pattern);
}

/* Why the TLS layer failed, as a result. */
static void
hc_http_tls_fail(struct hc_http *h, int sslerr, int err)
{
	char msg[120];
	long vr;

	hc_sock_stats.tls_errors++;
	if (sslerr == SSL_ERROR_SYSCALL && err != 0) {
		hc_sock_finish_errno(&h->s, err);
		return;
	}
	if (sslerr == SSL_ERROR_SYSCALL || sslerr == SSL_ERROR_ZERO_RETURN) {
		hc_sock_finish(&h->s, HC_R_CLOSED, "closed in %s", h->s.stage);
		return;
	}
	vr = SSL_get_verify_result(h->ssl);
	if (h->phase == HC_HTTP_HANDSHAKE && vr != X509_V_OK) {
		ERR_clear_error();
		hc_sock_finish(&h->s, HC_R_TLS_ERROR,
		    "certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
		return;
	}
	hc_http_ssl_errstr(msg, sizeof(msg), "TLS failure");
	hc_sock_finish(&h->s, HC_R_TLS_ERROR, "%s: %s", h->s.stage, msg);
}

/*
 * Move bytes through plain or TLS I/O. Returns > 0 bytes moved, 0 at EOF
 * (reads), -EAGAIN after arming the events needed, or -1 after finishing
 * the probe with the error.
 */
static ssize_t
hc_http_io(struct hc_http *h, bool wr, void *p, size_t n)
{
	ssize_t r;
	int e;

	if (h->ssl == NULL) {
		r = wr ? send(h->s.fd, p, n, MSG_NOSIGNAL) :
		         recv(h->s.fd, p, n, 0);
		if (r >= 0)
			return r;
		if (errno == EAGAIN || errno == EINTR)
			return hc_sock_want(&h->s, wr ? EV_WRITE : EV_READ) ?
			    -1 :
			    -EAGAIN;
		hc_sock_finish_errno(&h->s, errno);
		return -1;
	}
	ERR_clear_error();
	errno = 0;
	r = wr ? SSL_write(h->ssl, p, (int)n) : SSL_read(h->ssl, p, (int)n);
	if (r > 0)
		return r;
	switch ((e = SSL_get_error(h->ssl, (int)r))) {
	case SSL_ERROR_WANT_READ:
		return hc_sock_want(&h->s, EV_READ) ? -1 : -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		return hc_sock_want(&h->s, EV_WRITE) ? -1 : -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0 && !wr)
			return 0; /* EOF without close_notify */
		                  /* FALLTHROUGH */
	default:
		hc_http_tls_fail(h, e, errno);
		return -1;
	}
}

static void hc_http_send(struct hc_http *h);

static void
hc_http_handshake(struct hc_http *h)
{
	int r, e;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_connect(h->ssl)) == 1) {
		h->phase = HC_HTTP_SEND;
		h->s.stage = "request";
		hc_http_send(h);
		return;
	}
	e = SSL_get_error(h->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		hc_sock_want(
		    &h->s, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
		return;
	}
	hc_http_tls_fail(h, e, errno);
}

static void
hc_http_send(struct hc_http *h)
{
	ssize_t r;

	while (h->out_off < h->out.len) {
		r = hc_http_io(
		    h, true, h->out.data + h->out_off, h->out.len - h->out_off);
		if (r < 0)
			return; /* waiting, or finished */
		h->out_off += (size_t)r;
	}
	h->phase = HC_HTTP_HEAD;
	h->s.stage = "response";
	hc_sock_want(&h->s, EV_READ);
}

static bool
hc_http_status_ok(const struct hc_http *h, int code)
{
	for (size_t i = 0; i < h->nstatus; i++)
		if ((uint32_t)code >= h->status[2 * i] &&
		    (uint32_t)code <= h->status[2 * i + 1])
			return true;
	return false;
}

/* Body done without the pattern. Returns true (the probe is finished). */
static bool
hc_http_body_end(struct hc_http *h)
{
	hc_sock_finish(&h->s, HC_R_BODY_MISMATCH,
	    "status %d, body lacks \"%.*s\"", h->code,
	    (int)MIN(h->pattern_len, HC_HTTP_PATTERN_SHOW), h->pattern);
	return true;
}

/* Decoded body bytes. Returns true when the probe finished. */
static bool
hc_http_body_data(struct hc_http *h, const char *p, size_t n)
{
	size_t from, keep;

	h->body_total += n;
	keep = (size_t)MIN((uint64_t)n, h->max_body - h->body.len);
	from = h->body.len >= h->pattern_len ?
	    h->body.len - h->pattern_len + 1 :
	    0;
	buf_append(&h->body, p, keep);
	if (h->body.len - from >= h->pattern_len &&
	    memmem(h->body.data + from, h->body.len - from, h->pattern,
	        h->pattern_len) != NULL) {
		hc_sock_finish(
		    &h->s, HC_R_OK, "status %d, body matched", h->code);
		return true;
	}
	if (h->body_total > h->max_body) {
		hc_sock_stats.http_too_large++;
		hc_sock_finish(&h->s, HC_R_TOO_LARGE,
		    "status %d, no match in the first %llu body bytes", h->code,
		    (unsigned long long)h->max_body);
		return true;
	}
	return false;
}

/* Raw body bytes in their transfer framing. Returns true when finished. */
static bool
hc_http_body_feed(struct hc_http *h, const char *p, size_t n)
{
	size_t off, len;
	long used;

	if (!h->chunked) {
		if (h->cl_left >= 0)
			n = (size_t)MIN((uint64_t)n, (uint64_t)h->cl_left);
		if (n > 0 && hc_http_body_data(h, p, n))
			return true;
		if (h->cl_left >= 0 && (h->cl_left -= (int64_t)n) == 0)
			return hc_http_body_end(h);
		return false;
	}
	while (n > 0 && !h->ch.done) {
		used = http1_chunked_feed(&h->ch, p, n, &off, &len);
		if (used < 0) {
			hc_sock_stats.http_garbage++;
			hc_sock_finish(&h->s, HC_R_PROTOCOL_ERROR,
			    "bad chunked body: %s", http1_err_name(h->ch.err));
			return true;
		}
		if (len > 0 && hc_http_body_data(h, p + off, len))
			return true;
		if (used == 0)
			break;
		p += used;
		n -= (size_t)used;
	}
	return h->ch.done ? hc_http_body_end(h) : false;
}

/* The head is parsed: judge the status, then set up body reading. */
static bool
hc_http_head_done(struct hc_http *h)
{
	const struct http1_resp *r = h->resp;
	size_t head = r->m.head_len;

	h->code = r->status;
	if (!hc_http_status_ok(h, h->code)) {
		hc_sock_finish(&h->s, HC_R_BAD_STATUS, "status %d", h->code);
		return true;
	}
	if (h->pattern == NULL) {
		hc_sock_finish(&h->s, HC_R_OK, "status %d", h->code);
		return true;
	}
	if (h->head_only || h->code == 204 || h->code == 304)
		return hc_http_body_end(h);
	h->phase = HC_HTTP_BODY;
	h->s.stage = "body";
	h->chunked = r->m.chunked;
	h->cl_left = h->chunked ? -1 : r->m.content_length;
	http1_chunked_init(&h->ch);
	if (h->cl_left == 0)
		return hc_http_body_end(h);
	/* The bytes after the head are body: feed them before in moves. */
	return hc_http_body_feed(h, h->in.data + head, h->in.len - head);
}

/* Response head bytes. Returns true when the probe finished. */
static bool
hc_http_head_feed(struct hc_http *h, const char *p, size_t n)
{
	static const struct http1_limits lim = { HC_HTTP_HEAD_MAX,
		HTTP1_MAX_HDRS };
	int rc;

	buf_append(&h->in, p, n);
	for (;;) {
		/* Fail fast on a non-HTTP peer instead of waiting for CRLF. */
		if (strncmp(h->in.data, "HTTP/", MIN(h->in.len, 5)) != 0) {
			hc_sock_stats.http_garbage++;
			hc_sock_finish(
			    &h->s, HC_R_PROTOCOL_ERROR, "not an HTTP response");
			return true;
		}
		rc = http1_parse_response(h->in.data, h->in.len, &lim, h->resp);
		if (rc == HTTP1_AGAIN && h->in.len <= HC_HTTP_HEAD_MAX)
			return false;
		if (rc == HTTP1_AGAIN || h->resp->m.err == HTTP1_E_TOO_LARGE) {
			hc_sock_stats.http_too_large++;
			hc_sock_finish(&h->s, HC_R_TOO_LARGE,
			    "response head over %d bytes", HC_HTTP_HEAD_MAX);
			return true;
		}
		if (rc != HTTP1_DONE) {
			hc_sock_stats.http_garbage++;
			hc_sock_finish(&h->s, HC_R_PROTOCOL_ERROR,
			    "bad response: %s", http1_err_name(h->resp->m.err));
			return true;
		}
		/* 1xx interim answers (103 Early Hints) precede the real one.
		 */
		if (h->resp->status >= 200 || h->resp->status == 101)
			return hc_http_head_done(h);
		buf_consume(&h->in, h->resp->m.head_len);
		if (h->in.len == 0)
			return false;
	}
}

/* Peer closed. Returns true (the probe is always finished). */
static bool
hc_http_eof(struct hc_http *h)
{
	if (h->phase == HC_HTTP_HEAD) {
		hc_sock_finish(&h->s, HC_R_CLOSED, "%s",
		    h->in.len ? "closed inside the response head" :
		                "closed before any response");
		return true;
	}
	if (h->cl_left < 0 && !h->chunked)
		return hc_http_body_end(h); /* read-until-close body */
	hc_sock_finish(&h->s, HC_R_CLOSED,
	    "status %d, closed after %llu of the body bytes", h->code,
	    (unsigned long long)h->body_total);
	return true;
}

static void
hc_http_recv(struct hc_http *h)
{
	char tmp[HC_HTTP_READ_CHUNK];
	ssize_t r;
	bool fin;

	/*
	 * Read until EAGAIN: TLS may hold decrypted bytes the descriptor no
	 * longer signals. Bounded, since every path ends the probe once the
	 * head or max_body is exceeded.
	 */
	for (;;) {
		if ((r = hc_http_io(h, false, tmp, sizeof(tmp))) < 0)
			return;
		if (r == 0)
			fin = hc_http_eof(h);
		else if (h->phase == HC_HTTP_HEAD)
			fin = hc_http_head_feed(h, tmp, (size_t)r);
		else
			fin = hc_http_body_feed(h, tmp, (size_t)r);
		if (fin)
			return;
	}
}

static void
hc_http_on_io(struct hc_sock *s, unsigned events)
{
	struct hc_http *h = (struct hc_http *)s;

	switch (h->phase) {
	case HC_HTTP_HANDSHAKE:
		hc_http_handshake(h);
		break;
	case HC_HTTP_SEND:
		hc_http_send(h);
		break;
	case HC_HTTP_HEAD:
	case HC_HTTP_BODY:
		hc_http_recv(h);
		break;
	}
}

static void
hc_http_on_conn(struct hc_sock *s)
{
	struct hc_http *h = (struct hc_http *)s;

	if (h->ssl == NULL) {
		h->phase = HC_HTTP_SEND;
		hc_http_send(h);
		return;
	}
	h->phase = HC_HTTP_HANDSHAKE;
	h->s.stage = "tls handshake";
	if (SSL_set_fd(h->ssl, h->s.fd) != 1) {
		hc_sock_finish(&h->s, HC_R_INTERNAL, "SSL_set_fd failed");
		return;
	}
	hc_http_handshake(h);
}

/* Copy what the probe needs: a reload may free cc while it runs. */
static void
hc_http_setup(struct hc_http *h, const struct hc_check_conf *cc,
    const struct sockaddr_storage *dst, bool tls)
{
	const char *method = cc->method ? cc->method : "GET";
	size_t n = cc->nexpect_status;

	buf_init(&h->out);
	buf_init(&h->in);
	buf_init(&h->body);
	buf_printf(&h->out, "%s %s HTTP/1.1\r\nHost: ", method,
	    cc->path ? cc->path : "/");
	hc_http_host(cc, dst, tls, &h->out);
	buf_puts(&h->out,
	    "\r\nUser-Agent: haven-hc\r\n"
	    "Connection: close\r\n\r\n");
	h->head_only = strcmp(method, "HEAD") == 0;
	h->nstatus = n ? n : 1;
	h->status = xmalloc(2 * h->nstatus * sizeof(uint32_t));
	memcpy(h->status, n ? cc->expect_status : hc_http_default_status,
	    2 * h->nstatus * sizeof(uint32_t));
	if (cc->body != NULL && cc->body[0] != '\0') {
		h->pattern = xstrdup(cc->body);
		h->pattern_len = strlen(cc->body);
	}
	h->max_body = cc->max_body ? cc->max_body : HC_HTTP_MAX_BODY;
	h->resp = xcalloc(1, sizeof(*h->resp));
	h->cl_left = -1;
}

static int
hc_http_start_any(struct ev_loop *loop, const struct hc_check_conf *cc,
    const struct sockaddr_storage *addr, hc_probe_done_fn *done, void *arg,
    struct hc_probe **out, bool tls)
{
	struct hc_http *h = xcalloc(1, sizeof(*h));
	struct sockaddr_storage dst;
	char err[120];
	int rc;

	hc_sock_target(cc, addr, &dst);
	hc_sock_init(&h->s, loop, cc->timing.timeout_ms, done, arg);
	h->s.on_io = hc_http_on_io;
	h->s.on_conn = hc_http_on_conn;
	h->s.fini = hc_http_fini;
	hc_http_setup(h, cc, &dst, tls);
	if (tls && hc_http_tls_setup(h, cc, &dst, err, sizeof(err)) < 0) {
		hc_sock_stats.tls_errors++;
		hc_sock_post(&h->s, HC_R_TLS_ERROR, "%s", err);
	} else if ((rc = hc_sock_connect(&h->s, &dst, SOCK_STREAM, 0)) < 0) {
		hc_sock_cancel(&h->s);
		return rc;
	}
	*out = (struct hc_probe *)h;
	return 0;
}

static int
hc_http_start(struct ev_loop *loop, const struct hc_check_conf *cc,
    const struct sockaddr_storage *addr, hc_probe_done_fn *done, void *arg,
    struct hc_probe **out)
{
	return hc_http_start_any(
	    loop, cc, addr, done, arg, out, cc->type == HC_TYPE_HTTPS);
}

static int
hc_http_start_tls(struct ev_loop *loop, const struct hc_check_conf *cc,
    const struct sockaddr_storage *addr, hc_probe_done_fn *done, void *arg,
    struct hc_probe **out)
{
	return hc_http_start_any(loop, cc, addr, done, arg, out, true);
}

const struct hc_check_type hc_http_type = {
	.name = "http",
	.start = hc_http_start,
	.cancel = hc_sock_probe_cancel,
};

const struct hc_check_type hc_https_type = {
	.name = "https",
	.start = hc_http_start_tls,
	.cancel = hc_sock_probe_cancel,
};
