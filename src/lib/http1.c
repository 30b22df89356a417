/*
 * http1.c - HTTP/1.x message-head parser and chunked-body scanner (see
 * http1.h for the contract). Pure: no I/O, no allocation, no clock and no
 * mutable globals; the only static data are constant tables.
 *
 * The head is parsed in one forward pass, line by line, in the order the
 * bytes arrive. Running out of bytes anywhere yields HTTP1_AGAIN (or
 * HTTP1_E_TOO_LARGE once max_head bytes are buffered), so a malformed line
 * is rejected as soon as it is complete and feeding a head byte by byte ends
 * in exactly the result one call on the whole head gives. Framing
 * (Content-Length, Transfer-Encoding, Host, Connection) is derived only once
 * the final CRLF has been seen. Character classes come from one 256-entry
 * table built at compile time from the RFC 9110 definitions, so the hot loops
 * are a load and a test per byte.
 */
#include <string.h>

#include "http1.h"
#include "util.h"

#define HTTP1_DEF_MAX_HEAD 8192 /* lim == NULL or max_head == 0 */

/* Character classes, one bit each. */
#define HTTP1_CC_TCHAR  0x01 /* RFC 9110 §5.6.2 tchar */
#define HTTP1_CC_VALUE  0x02 /* RFC 9110 §5.5 field-vchar, SP, HTAB */
#define HTTP1_CC_TARGET 0x04 /* visible US-ASCII: request-target bytes */
#define HTTP1_CC_HEX    0x08 /* HEXDIG */
#define HTTP1_CC_HOST   0x10 /* RFC 3986 uri-host / port bytes */

#define HTTP1_ALPHA(c) (((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'z')
#define HTTP1_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define HTTP1_TCHAR(c)                                                         \
	(HTTP1_ALPHA(c) || HTTP1_DIGIT(c) || (c) == '!' || (c) == '#' ||       \
	    (c) == '$' || (c) == '%' || (c) == '&' || (c) == '\'' ||           \
	    (c) == '*' || (c) == '+' || (c) == '-' || (c) == '.' ||            \
	    (c) == '^' || (c) == '_' || (c) == '`' || (c) == '|' ||            \
	    (c) == '~')
#define HTTP1_VALUE(c)  ((c) == '\t' || ((c) >= 0x20 && (c) != 0x7f))
#define HTTP1_TARGET(c) ((c) > 0x20 && (c) < 0x7f)
#define HTTP1_HEX(c)                                                           \
	(HTTP1_DIGIT(c) || (((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'f'))
#define HTTP1_HOST(c)                                                          \
	(HTTP1_ALPHA(c) || HTTP1_DIGIT(c) || (c) == '-' || (c) == '.' ||       \
	    (c) == '_' || (c) == '~' || (c) == '!' || (c) == '$' ||            \
	    (c) == '&' || (c) == '\'' || (c) == '(' || (c) == ')' ||           \
	    (c) == '*' || (c) == '+' || (c) == ',' || (c) == ';' ||            \
	    (c) == '=' || (c) == '%' || (c) == ':' || (c) == '[' ||            \
	    (c) == ']')
#define HTTP1_CLASS(c)                                                         \
	((HTTP1_TCHAR(c) ? HTTP1_CC_TCHAR : 0) |                               \
	    (HTTP1_VALUE(c) ? HTTP1_CC_VALUE : 0) |                            \
	    (HTTP1_TARGET(c) ? HTTP1_CC_TARGET : 0) |                          \
	    (HTTP1_HEX(c) ? HTTP1_CC_HEX : 0) |                                \
	    (HTTP1_HOST(c) ? HTTP1_CC_HOST : 0))
#define HTTP1_C4(c)                                                            \
	HTTP1_CLASS(c), HTTP1_CLASS((c) + 1), HTTP1_CLASS((c) + 2),            \
	    HTTP1_CLASS((c) + 3)
#define HTTP1_C16(c)                                                           \
	HTTP1_C4(c), HTTP1_C4((c) + 4), HTTP1_C4((c) + 8), HTTP1_C4((c) + 12)

static const unsigned char http1_cc[256] = {
	HTTP1_C16(0x00),
	HTTP1_C16(0x10),
	HTTP1_C16(0x20),
	HTTP1_C16(0x30),
	HTTP1_C16(0x40),
	HTTP1_C16(0x50),
	HTTP1_C16(0x60),
	HTTP1_C16(0x70),
	HTTP1_C16(0x80),
	HTTP1_C16(0x90),
	HTTP1_C16(0xa0),
	HTTP1_C16(0xb0),
	HTTP1_C16(0xc0),
	HTTP1_C16(0xd0),
	HTTP1_C16(0xe0),
	HTTP1_C16(0xf0),
};

#define HTTP1_IS(c, cls) (http1_cc[(unsigned char)(c)] & (cls))

/* Where the parser stands in the caller's buffer. */
struct http1_cur {
	const char *buf; /* borrowed: start of the message */
	const char *p;   /* borrowed: next byte to look at */
	const char *end; /* borrowed: buf + min(len, max_head) */
	size_t len;      /* bytes the caller has */
	size_t max_head;
	size_t max_hdrs;
};

/* Framing facts gathered from the header fields. */
struct http1_frame {
	int ncl;
	int nhost;
	bool te;         /* a Transfer-Encoding field was seen */
	bool te_chunked; /* and its final coding is chunked */
	bool conn_keep;  /* Connection: keep-alive */
	bool conn_upgrade;
	bool has_upgrade; /* an Upgrade field exists */
};

static int
http1_fail(struct http1_msg *m, enum http1_err e)
{
	m->err = e;
	return HTTP1_ERROR;
}

/* Out of bytes: wait for more unless the head may not grow any further. */
static int
http1_more(const struct http1_cur *c, struct http1_msg *m)
{
	if (c->len >= c->max_head)
		return http1_fail(m, HTTP1_E_TOO_LARGE);
	return HTTP1_AGAIN;
}

/* First byte in [p, end) outside class cls; unrolled, it is the hot loop. */
static const char *
http1_span(const char *p, const char *end, unsigned cls)
{
	while (end - p >= 4) {
		if (!HTTP1_IS(p[0], cls))
			return p;
		if (!HTTP1_IS(p[1], cls))
			return p + 1;
		if (!HTTP1_IS(p[2], cls))
			return p + 2;
		if (!HTTP1_IS(p[3], cls))
			return p + 3;
		p += 4;
	}
	while (p < end && HTTP1_IS(*p, cls))
		p++;
	return p;
}

/*
 * Expect CRLF at c->p. A byte other than CR or LF is err; a LF without CR,
 * or a CR followed by anything but LF, is a bare line end (RFC 9112 §2.2).
 */
static int
http1_crlf(struct http1_cur *c, struct http1_msg *m, enum http1_err err)
{
	if (c->p == c->end)
		return http1_more(c, m);
	if (*c->p == '\n')
		return http1_fail(m, HTTP1_E_BARE_LF);
	if (*c->p != '\r')
		return http1_fail(m, err);
	if (c->p + 1 == c->end)
		return http1_more(c, m);
	if (c->p[1] != '\n')
		return http1_fail(m, HTTP1_E_BARE_LF);
	c->p += 2;
	return HTTP1_DONE;
}

/* "HTTP/1.0" or "HTTP/1.1" at c->p (RFC 9112 §2.3). */
static int
http1_version(struct http1_cur *c, struct http1_msg *m)
{
	static const char pfx[] = "HTTP/1.";
	size_t have = (size_t)(c->end - c->p);

	if (memcmp(c->p, pfx, MIN(have, sizeof(pfx) - 1)) != 0)
		return http1_fail(m, HTTP1_E_BAD_VERSION);
	if (have < sizeof(pfx))
		return http1_more(c, m);
	if (c->p[7] != '0' && c->p[7] != '1')
		return http1_fail(m, HTTP1_E_BAD_VERSION);
	m->minor = c->p[7] - '0';
	c->p += sizeof(pfx);
	return HTTP1_DONE;
}

/* Compare a field name (tchar only) with a lower-case literal. */
static bool
http1_name_eq(const char *name, size_t len, const char *lower, size_t n)
{
	/*
	 * |0x20 folds upper to lower case; for tchar input it maps no other
	 * byte onto a letter, digit or '-', which is all the literals hold.
	 */
	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((name[i] | 0x20) != lower[i])
			return false;
	return true;
}

/* Case-insensitive comparison of arbitrary bytes with a literal. */
static bool
http1_token_eq(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char a = (unsigned char)s[i],
		              b = (unsigned char)lit[i];

		if (a >= 'A' && a <= 'Z')
			a |= 0x20;
		if (b >= 'A' && b <= 'Z')
			b |= 0x20;
		if (a != b)
			return false;
	}
	return true;
}

/* One "name: value" CRLF line at c->p into h (RFC 9112 §5). */
static int
http1_field(struct http1_cur *c, struct http1_msg *m, struct http1_header *h)
{
	const char *name = c->p, *v, *ve;
	int rc;

	c->p = http1_span(c->p, c->end, HTTP1_CC_TCHAR);
	if (c->p == c->end)
		return http1_more(c, m);
	if (*c->p != ':' || c->p == name)
		return http1_fail(m,
		    *c->p == '\n' ? HTTP1_E_BARE_LF : HTTP1_E_BAD_HEADER_NAME);
	h->name = name;
	h->name_len = (size_t)(c->p - name);
	v = ++c->p;
	c->p = http1_span(c->p, c->end, HTTP1_CC_VALUE);
	ve = c->p;
	if ((rc = http1_crlf(c, m, HTTP1_E_BAD_HEADER_VALUE)) != HTTP1_DONE)
		return rc;
	while (v < ve && (*v == ' ' || *v == '\t'))
		v++;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	h->value = v;
	h->value_len = (size_t)(ve - v);
	return HTTP1_DONE;
}

/* Header lines up to and including the empty line ending the head. */
static int
http1_fields(struct http1_cur *c, struct http1_msg *m)
{
	int rc;

	for (;;) {
		if (c->p == c->end)
			return http1_more(c, m);
		if (*c->p == '\r' || *c->p == '\n') {
			if ((rc = http1_crlf(c, m, HTTP1_E_BARE_LF)) != 0)
				return rc;
			m->head_len = (size_t)(c->p - c->buf);
			return HTTP1_DONE;
		}
		/* RFC 9112 §5.2: obs-fold; also whitespace before field 1. */
		if (*c->p == ' ' || *c->p == '\t')
			return http1_fail(m, HTTP1_E_OBS_FOLD);
		if (m->nhdr == c->max_hdrs)
			return http1_fail(m, HTTP1_E_TOO_MANY_HDRS);
		if ((rc = http1_field(c, m, &m->hdr[m->nhdr])) != HTTP1_DONE)
			return rc;
		m->nhdr++;
	}
}

/* Content-Length: 1*DIGIT, one field, one value (RFC 9112 §6.3 item 5). */
static int
http1_content_length(
    struct http1_msg *m, const struct http1_header *h, struct http1_frame *f)
{
	int64_t v = 0;

	if (++f->ncl > 1)
		return http1_fail(m, HTTP1_E_DUP_CONTENT_LENGTH);
	if (h->value_len == 0)
		return http1_fail(m, HTTP1_E_BAD_CONTENT_LENGTH);
	for (size_t i = 0; i < h->value_len; i++) {
		int d = h->value[i] - '0';

		/* "5, 5" is a folded duplicate, not a malformed number. */
		if (h->value[i] == ',')
			return http1_fail(m, HTTP1_E_DUP_CONTENT_LENGTH);
		if (d < 0 || d > 9 || v > (INT64_MAX - d) / 10)
			return http1_fail(m, HTTP1_E_BAD_CONTENT_LENGTH);
		v = v * 10 + d;
	}
	m->content_length = v;
	return 0;
}

/* Next comma-separated list element of [*p, end), OWS trimmed. */
static bool
http1_list_next(const char **p, const char *end, const char **s, size_t *n)
{
	const char *e, *q = *p;

	if (q >= end)
		return false;
	e = memchr(q, ',', (size_t)(end - q));
	if (e == NULL)
		e = end;
	*p = e + 1;
	while (q < e && (*q == ' ' || *q == '\t'))
		q++;
	while (e > q && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*s = q;
	*n = (size_t)(e - q);
	return true;
}

static bool
http1_coding_known(const char *s, size_t n)
{
	return http1_token_eq(s, n, "gzip") ||
	    http1_token_eq(s, n, "deflate") ||
	    http1_token_eq(s, n, "compress") ||
	    http1_token_eq(s, n, "x-gzip") ||
	    http1_token_eq(s, n, "x-compress");
}

/*
 * Transfer-Encoding (RFC 9112 §6.1). Several fields form one list. In a
 * request every coding must be known, chunked must come last and only once,
 * and no coding may carry parameters; a response may use anything and is
 * read until close when chunked is not last.
 */
static int
http1_transfer_encoding(struct http1_msg *m, const struct http1_header *h,
    struct http1_frame *f, bool req)
{
	const char *p = h->value, *end = h->value + h->value_len, *s;
	size_t n, tok;

	if (h->value_len == 0)
		return http1_fail(m, HTTP1_E_BAD_TRANSFER_ENCODING);
	while (http1_list_next(&p, end, &s, &n)) {
		tok = (size_t)(http1_span(s, s + n, HTTP1_CC_TCHAR) - s);
		/* Empty elements and odd bytes: parsers may disagree. */
		if (tok == 0 || (tok != n && (req || s[tok] != ';')))
			return http1_fail(m, HTTP1_E_BAD_TRANSFER_ENCODING);
		if (http1_token_eq(s, tok, "chunked")) {
			if (req && f->te_chunked)
				return http1_fail(
				    m, HTTP1_E_BAD_TRANSFER_ENCODING);
			f->te_chunked = true;
		} else if (req &&
		    (f->te_chunked || !http1_coding_known(s, n))) {
			return http1_fail(m, HTTP1_E_BAD_TRANSFER_ENCODING);
		} else {
			f->te_chunked = false;
		}
	}
	f->te = true;
	return 0;
}

static void
http1_connection(
    struct http1_msg *m, const struct http1_header *h, struct http1_frame *f)
{
	const char *p = h->value, *end = h->value + h->value_len, *s;
	size_t n;

	while (http1_list_next(&p, end, &s, &n)) {
		if (http1_token_eq(s, n, "close"))
			m->conn_close = true;
		else if (http1_token_eq(s, n, "keep-alive"))
			f->conn_keep = true;
		else if (http1_token_eq(s, n, "upgrade"))
			f->conn_upgrade = true;
	}
}

/* Host (RFC 9112 §3.2): at most one, uri-host [ ":" port ] bytes. */
static int
http1_host(
    struct http1_req *r, const struct http1_header *h, struct http1_frame *f)
{
	const char *e = h->value + h->value_len;

	if (++f->nhost > 1 || http1_span(h->value, e, HTTP1_CC_HOST) != e)
		return http1_fail(&r->m, HTTP1_E_BAD_HOST);
	r->host = h->value;
	r->host_len = h->value_len;
	return 0;
}

/* Fields that every message may carry; r is NULL for a response. */
static int
http1_frame_field(struct http1_msg *m, struct http1_req *r,
    const struct http1_header *h, struct http1_frame *f)
{
	const char *n = h->name;
	size_t len = h->name_len;

	switch (len) {
	case 4:
		if (r != NULL && http1_name_eq(n, len, "host", 4))
			return http1_host(r, h, f);
		break;
	case 6:
		if (r != NULL && r->m.minor == 1 &&
		    http1_name_eq(n, len, "expect", 6) &&
		    http1_token_eq(h->value, h->value_len, "100-continue"))
			r->expect_continue = true;
		break;
	case 7:
		if (http1_name_eq(n, len, "upgrade", 7))
			f->has_upgrade = true;
		break;
	case 10:
		if (http1_name_eq(n, len, "connection", 10))
			http1_connection(m, h, f);
		break;
	case 14:
		if (http1_name_eq(n, len, "content-length", 14))
			return http1_content_length(m, h, f);
		break;
	case 17:
		if (http1_name_eq(n, len, "transfer-encoding", 17))
			return http1_transfer_encoding(m, h, f, r != NULL);
		break;
	}
	return 0;
}

/* Walk the fields once and settle the framing both directions share. */
static int
http1_frame(struct http1_msg *m, struct http1_req *r, struct http1_frame *f)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < m->nhdr; i++)
		if (http1_frame_field(m, r, &m->hdr[i], f) != 0)
			return HTTP1_ERROR;
	/* RFC 9112 §6.1: both is the classic smuggling shape; refuse. */
	if (f->ncl > 0 && f->te)
		return http1_fail(m, HTTP1_E_CL_AND_TE);
	m->chunked = f->te && f->te_chunked;
	m->keep_alive = !m->conn_close && (m->minor == 1 || f->conn_keep);
	m->upgrade = f->conn_upgrade && f->has_upgrade;
	return HTTP1_DONE;
}

static void
http1_msg_init(struct http1_msg *m)
{
	m->minor = 0;
	m->nhdr = 0;
	m->head_len = 0;
	m->content_length = -1;
	m->chunked = false;
	m->keep_alive = false;
	m->conn_close = false;
	m->upgrade = false;
	m->close_delimited = false;
	m->err = HTTP1_E_NONE;
}

static void
http1_cur_init(struct http1_cur *c, const char *buf, size_t len,
    const struct http1_limits *lim)
{
	c->buf = c->p = buf;
	c->len = len;
	c->max_head = lim != NULL && lim->max_head > 0 ? lim->max_head :
	                                                 HTTP1_DEF_MAX_HEAD;
	c->max_hdrs = lim != NULL && lim->max_headers > 0 ? lim->max_headers :
	                                                    HTTP1_MAX_HDRS;
	if (c->max_hdrs > HTTP1_MAX_HDRS)
		c->max_hdrs = HTTP1_MAX_HDRS;
	c->end = buf + MIN(len, c->max_head);
}

static enum http1_method
http1_method_id(const char *s, size_t n)
{
	static const struct {
		const char *name;
		size_t len;
		enum http1_method m;
	} tbl[] = {
		{ "GET", 3, HTTP1_M_GET },
		{ "HEAD", 4, HTTP1_M_HEAD },
		{ "POST", 4, HTTP1_M_POST },
		{ "PUT", 3, HTTP1_M_PUT },
		{ "DELETE", 6, HTTP1_M_DELETE },
		{ "OPTIONS", 7, HTTP1_M_OPTIONS },
		{ "TRACE", 5, HTTP1_M_TRACE },
		{ "PATCH", 5, HTTP1_M_PATCH },
		{ "CONNECT", 7, HTTP1_M_CONNECT },
	};

	/* Methods are case-sensitive (RFC 9110 §9.1). */
	for (size_t i = 0; i < sizeof(tbl) / sizeof(tbl[0]); i++)
		if (n == tbl[i].len && memcmp(s, tbl[i].name, n) == 0)
			return tbl[i].m;
	return HTTP1_M_OTHER;
}

/*
 * The four request-target forms of RFC 9112 §3.2: origin ("/..."),
 * absolute ("scheme:..."), authority (CONNECT only) and asterisk (OPTIONS
 * only).
 */
static bool
http1_target_ok(const struct http1_req *r)
{
	const char *t = r->target;
	size_t i, n = r->target_len;

	if (r->method == HTTP1_M_CONNECT)
		return t[0] != '/' && t[0] != '*';
	if (t[0] == '/')
		return true;
	if (t[0] == '*')
		return n == 1 && r->method == HTTP1_M_OPTIONS;
	if (!HTTP1_ALPHA(t[0]))
		return false;
	for (i = 1; i < n; i++)
		if (!HTTP1_ALPHA(t[i]) && !HTTP1_DIGIT(t[i]) && t[i] != '+' &&
		    t[i] != '-' && t[i] != '.')
			break;
	return i < n && t[i] == ':';
}

/* METHOD SP request-target SP HTTP-version CRLF (RFC 9112 §3). */
static int
http1_request_line(struct http1_cur *c, struct http1_req *r)
{
	struct http1_msg *m = &r->m;
	int rc;

	/* RFC 9112 §2.2: ignore empty lines before the request line. */
	while (c->p < c->end && c->p[0] == '\r') {
		if (c->end - c->p < 2)
			return http1_more(c, m);
		if (c->p[1] != '\n')
			return http1_fail(m, HTTP1_E_BARE_LF);
		c->p += 2;
	}
	r->method_str = c->p;
	c->p = http1_span(c->p, c->end, HTTP1_CC_TCHAR);
	if (c->p == c->end)
		return http1_more(c, m);
	if (*c->p != ' ' || c->p == r->method_str)
		return http1_fail(m, HTTP1_E_BAD_METHOD);
	r->method_len = (size_t)(c->p - r->method_str);
	r->method = http1_method_id(r->method_str, r->method_len);
	r->target = ++c->p;
	c->p = http1_span(c->p, c->end, HTTP1_CC_TARGET);
	if (c->p == c->end)
		return http1_more(c, m);
	r->target_len = (size_t)(c->p - r->target);
	if (*c->p == '\r' || *c->p == '\n')
		return http1_fail(m, HTTP1_E_BAD_VERSION); /* HTTP/0.9 */
	if (*c->p != ' ' || r->target_len == 0 || !http1_target_ok(r))
		return http1_fail(m, HTTP1_E_BAD_TARGET);
	c->p++;
	if ((rc = http1_version(c, m)) != HTTP1_DONE)
		return rc;
	return http1_crlf(c, m, HTTP1_E_BAD_VERSION);
}

int
http1_parse_request(const char *buf, size_t len, const struct http1_limits *lim,
    struct http1_req *req)
{
	struct http1_cur c;
	struct http1_frame f;
	int rc;

	http1_cur_init(&c, buf, len, lim);
	http1_msg_init(&req->m);
	req->method = HTTP1_M_OTHER;
	req->method_str = req->target = req->host = NULL;
	req->method_len = req->target_len = req->host_len = 0;
	req->expect_continue = false;
	if ((rc = http1_request_line(&c, req)) != HTTP1_DONE)
		return rc;
	if ((rc = http1_fields(&c, &req->m)) != HTTP1_DONE)
		return rc;
	if ((rc = http1_frame(&req->m, req, &f)) != HTTP1_DONE)
		return rc;
	/* RFC 9112 §6.1: a 1.0 request with TE has unreliable framing. */
	if (req->m.minor == 0 && f.te)
		return http1_fail(&req->m, HTTP1_E_BAD_TRANSFER_ENCODING);
	if (f.te && !f.te_chunked)
		return http1_fail(&req->m, HTTP1_E_BAD_TRANSFER_ENCODING);
	if (req->m.minor == 1 && f.nhost == 0)
		return http1_fail(&req->m, HTTP1_E_BAD_HOST);
	return HTTP1_DONE;
}

/* HTTP-version SP 3DIGIT SP reason-phrase CRLF (RFC 9112 §4). */
static int
http1_status_line(struct http1_cur *c, struct http1_resp *r)
{
	struct http1_msg *m = &r->m;
	const char *p;
	size_t have;
	int rc;

	if ((rc = http1_version(c, m)) != HTTP1_DONE)
		return rc;
	p = c->p;
	have = (size_t)(c->end - p);
	if (have > 0 && p[0] != ' ')
		return http1_fail(m, HTTP1_E_BAD_STATUS);
	for (size_t i = 1; i < 4 && i < have; i++)
		if (!HTTP1_DIGIT(p[i]))
			return http1_fail(m, HTTP1_E_BAD_STATUS);
	if (have < 5)
		return http1_more(c, m);
	/* A missing SP before an empty reason is tolerated: servers do it. */
	if (p[4] != ' ' && p[4] != '\r')
		return http1_fail(
		    m, p[4] == '\n' ? HTTP1_E_BARE_LF : HTTP1_E_BAD_STATUS);
	r->status = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
	if (r->status < 100 || r->status > 599)
		return http1_fail(m, HTTP1_E_BAD_STATUS);
	c->p += p[4] == ' ' ? 5 : 4;
	r->reason = c->p;
	c->p = http1_span(c->p, c->end, HTTP1_CC_VALUE);
	r->reason_len = (size_t)(c->p - r->reason);
	return http1_crlf(c, m, HTTP1_E_BAD_STATUS);
}

int
http1_parse_response(const char *buf, size_t len,
    const struct http1_limits *lim, struct http1_resp *resp)
{
	struct http1_msg *m = &resp->m;
	struct http1_cur c;
	struct http1_frame f;
	int rc;

	http1_cur_init(&c, buf, len, lim);
	http1_msg_init(m);
	resp->status = 0;
	resp->reason = NULL;
	resp->reason_len = 0;
	if ((rc = http1_status_line(&c, resp)) != HTTP1_DONE)
		return rc;
	if ((rc = http1_fields(&c, m)) != HTTP1_DONE)
		return rc;
	if ((rc = http1_frame(m, NULL, &f)) != HTTP1_DONE)
		return rc;
	if (resp->status < 200 || resp->status == 204 || resp->status == 304) {
		/* RFC 9112 §6.3 items 1-2: never a body, whatever it says. */
		m->content_length = 0;
		m->chunked = false;
	} else if ((f.te && (!f.te_chunked || m->minor == 0)) ||
	    (!f.te && f.ncl == 0)) {
		/* RFC 9112 §6.1, §6.3 items 4 and 8: the body ends at EOF. */
		m->chunked = false;
		m->close_delimited = true;
		m->keep_alive = false;
	}
	return HTTP1_DONE;
}

const struct http1_header *
http1_find(const struct http1_msg *m, const char *name)
{
	for (size_t i = 0; i < m->nhdr; i++)
		if (http1_token_eq(m->hdr[i].name, m->hdr[i].name_len, name))
			return &m->hdr[i];
	return NULL;
}

bool
http1_method_idempotent(enum http1_method m)
{
	switch (m) {
	case HTTP1_M_GET:
	case HTTP1_M_HEAD:
	case HTTP1_M_PUT:
	case HTTP1_M_DELETE:
	case HTTP1_M_OPTIONS:
	case HTTP1_M_TRACE:
		return true;
	default:
		return false;
	}
}

const char *
http1_err_name(enum http1_err e)
{
	static const char *const names[HTTP1_E__COUNT] = {
		[HTTP1_E_NONE] = "none",
		[HTTP1_E_TOO_LARGE] = "too_large",
		[HTTP1_E_TOO_MANY_HDRS] = "too_many_headers",
		[HTTP1_E_BAD_METHOD] = "bad_method",
		[HTTP1_E_BAD_TARGET] = "bad_target",
		[HTTP1_E_BAD_VERSION] = "bad_version",
		[HTTP1_E_BAD_STATUS] = "bad_status",
		[HTTP1_E_BAD_HEADER_NAME] = "bad_header_name",
		[HTTP1_E_BAD_HEADER_VALUE] = "bad_header_value",
		[HTTP1_E_OBS_FOLD] = "obs_fold",
		[HTTP1_E_BARE_LF] = "bare_lf",
		[HTTP1_E_BAD_CONTENT_LENGTH] = "bad_content_length",
		[HTTP1_E_DUP_CONTENT_LENGTH] = "dup_content_length",
		[HTTP1_E_CL_AND_TE] = "cl_and_te",
		[HTTP1_E_BAD_TRANSFER_ENCODING] = "bad_transfer_encoding",
		[HTTP1_E_BAD_HOST] = "bad_host",
		[HTTP1_E_BAD_CHUNK] = "bad_chunk",
	};

	if ((unsigned)e >= HTTP1_E__COUNT || names[e] == NULL)
		return "unknown";
	return names[e];
}

int
http1_err_status(enum http1_err e)
{
	switch (e) {
	case HTTP1_E_TOO_LARGE:
	case HTTP1_E_TOO_MANY_HDRS:
		return 431;
	case HTTP1_E_BAD_VERSION:
		return 505;
	default:
		return 400;
	}
}

const char *
http1_reason(int status)
{
	/* RFC 9110 §15 */
	static const struct {
		int status;
		const char *text;
	} tbl[] = {
		{ 100, "Continue" },
		{ 101, "Switching Protocols" },
		{ 200, "OK" },
		{ 201, "Created" },
		{ 202, "Accepted" },
		{ 204, "No Content" },
		{ 206, "Partial Content" },
		{ 301, "Moved Permanently" },
		{ 302, "Found" },
		{ 303, "See Other" },
		{ 304, "Not Modified" },
		{ 307, "Temporary Redirect" },
		{ 308, "Permanent Redirect" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 408, "Request Timeout" },
		{ 409, "Conflict" },
		{ 411, "Length Required" },
		{ 412, "Precondition Failed" },
		{ 413, "Content Too Large" },
		{ 414, "URI Too Long" },
		{ 415, "Unsupported Media Type" },
		{ 417, "Expectation Failed" },
		{ 421, "Misdirected Request" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" },
		{ 501, "Not Implemented" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(tbl); i++)
		if (tbl[i].status == status)
			return tbl[i].text;
	return "Unknown";
}

/*
 * Chunked scanner states. The size line and the trailer section are
 * walked one byte at a time (they are short); data moves in bulk.
 */
enum http1_ch_state {
	HTTP1_CH_SIZE0,   /* first hex digit of chunk-size */
	HTTP1_CH_SIZE,    /* more hex digits */
	HTTP1_CH_BWS,     /* SP/HTAB after the size: only ';' may follow */
	HTTP1_CH_EXT,     /* chunk-ext, skipped up to CR */
	HTTP1_CH_SIZE_LF, /* LF ending the size line */
	HTTP1_CH_DATA,    /* chunk-data, remaining bytes left */
	HTTP1_CH_DATA_CR, /* CRLF after chunk-data */
	HTTP1_CH_DATA_LF,
	HTTP1_CH_TR_START, /* start of a trailer line or the final CRLF */
	HTTP1_CH_TR_NAME,  /* trailer field name */
	HTTP1_CH_TR_VALUE, /* trailer field value */
	HTTP1_CH_TR_LF,    /* LF ending a trailer line */
	HTTP1_CH_FINAL_LF, /* LF of the final CRLF */
};

void
http1_chunked_init(struct http1_chunked *c)
{
	c->state = HTTP1_CH_SIZE0;
	c->remaining = 0;
	c->ext_len = 0;
	c->done = false;
	c->err = HTTP1_E_NONE;
}

static int
http1_chunked_fail(struct http1_chunked *c)
{
	c->err = HTTP1_E_BAD_CHUNK;
	return -1;
}

/* chunk-size [ chunk-ext ] CRLF, one byte at a time. */
static int
http1_chunked_size(struct http1_chunked *c, unsigned char ch)
{
	if (++c->ext_len > HTTP1_CHUNK_LINE_MAX)
		return http1_chunked_fail(c);
	switch (c->state) {
	case HTTP1_CH_SIZE0:
	case HTTP1_CH_SIZE:
		if (HTTP1_IS(ch, HTTP1_CC_HEX)) {
			unsigned d =
			    HTTP1_DIGIT(ch) ? ch - '0' : (ch | 0x20) - 'a' + 10;

			if (c->remaining > (HTTP1_CHUNK_SIZE_MAX - d) >> 4)
				return http1_chunked_fail(c);
			c->remaining = c->remaining << 4 | d;
			c->state = HTTP1_CH_SIZE;
			return 0;
		}
		if (c->state == HTTP1_CH_SIZE0)
			return http1_chunked_fail(c); /* empty size */
		                                      /* FALLTHROUGH */
	case HTTP1_CH_BWS:
		if (ch == ' ' || ch == '\t')
			c->state = HTTP1_CH_BWS;
		else if (ch == ';')
			c->state = HTTP1_CH_EXT;
		else if (ch == '\r' && c->state == HTTP1_CH_SIZE)
			c->state = HTTP1_CH_SIZE_LF;
		else
			return http1_chunked_fail(c);
		return 0;
	case HTTP1_CH_EXT:
		if (ch == '\r')
			c->state = HTTP1_CH_SIZE_LF;
		else if (!HTTP1_IS(ch, HTTP1_CC_VALUE))
			return http1_chunked_fail(c);
		return 0;
	default: /* HTTP1_CH_SIZE_LF */
		if (ch != '\n')
			return http1_chunked_fail(c);
		c->ext_len = 0;
		c->state = c->remaining > 0 ? HTTP1_CH_DATA : HTTP1_CH_TR_START;
		return 0;
	}
}

/* trailer-section CRLF after the last chunk (RFC 9112 §7.1.2). */
static int
http1_chunked_trailer(struct http1_chunked *c, unsigned char ch)
{
	if (++c->ext_len > HTTP1_TRAILER_MAX)
		return http1_chunked_fail(c);
	switch (c->state) {
	case HTTP1_CH_TR_START:
		if (ch == '\r')
			c->state = HTTP1_CH_FINAL_LF;
		else if (HTTP1_IS(ch, HTTP1_CC_TCHAR))
			c->state = HTTP1_CH_TR_NAME;
		else
			return http1_chunked_fail(c); /* incl. obs-fold */
		return 0;
	case HTTP1_CH_TR_NAME:
		if (ch == ':')
			c->state = HTTP1_CH_TR_VALUE;
		else if (!HTTP1_IS(ch, HTTP1_CC_TCHAR))
			return http1_chunked_fail(c);
		return 0;
	case HTTP1_CH_TR_VALUE:
		if (ch == '\r')
			c->state = HTTP1_CH_TR_LF;
		else if (!HTTP1_IS(ch, HTTP1_CC_VALUE))
			return http1_chunked_fail(c);
		return 0;
	case HTTP1_CH_TR_LF:
		if (ch != '\n')
			return http1_chunked_fail(c);
		c->state = HTTP1_CH_TR_START;
		return 0;
	default: /* HTTP1_CH_FINAL_LF */
		if (ch != '\n')
			return http1_chunked_fail(c);
		c->done = true;
		return 0;
	}
}

static int
http1_chunked_byte(struct http1_chunked *c, unsigned char ch)
{
	switch (c->state) {
	case HTTP1_CH_DATA_CR:
		if (ch != '\r')
			return http1_chunked_fail(c);
		c->state = HTTP1_CH_DATA_LF;
		return 0;
	case HTTP1_CH_DATA_LF:
		if (ch != '\n')
			return http1_chunked_fail(c);
		c->state = HTTP1_CH_SIZE0;
		return 0;
	case HTTP1_CH_TR_START:
	case HTTP1_CH_TR_NAME:
	case HTTP1_CH_TR_VALUE:
	case HTTP1_CH_TR_LF:
	case HTTP1_CH_FINAL_LF:
		return http1_chunked_trailer(c, ch);
	default:
		return http1_chunked_size(c, ch);
	}
}

long
http1_chunked_feed(struct http1_chunked *c, const char *in, size_t len,
    size_t *data_off, size_t *data_len)
{
	bool report = data_off != NULL && data_len != NULL;
	size_t i = 0, n;

	if (report)
		*data_off = *data_len = 0;
	if (c->err != HTTP1_E_NONE)
		return -1;
	while (i < len && !c->done) {
		if (c->state != HTTP1_CH_DATA) {
			if (http1_chunked_byte(c, (unsigned char)in[i]) != 0)
				return -1;
			i++;
			continue;
		}
		n = MIN(len - i, c->remaining);
		c->remaining -= n;
		if (c->remaining == 0)
			c->state = HTTP1_CH_DATA_CR;
		if (report) {
			*data_off = i;
			*data_len = n;
			return (long)(i + n);
		}
		i += n;
	}
	return (long)i;
}
