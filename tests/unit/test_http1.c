/*
 * Unit tests for http1.c: request and response heads, the smuggling shapes
 * RFC 9112 §11.2 warns about, limits, incremental feeding and the chunked
 * scanner. Inputs are copied into exact-size heap buffers so the ASan build
 * catches any read past the caller's bytes.
 */
#include "lib/http1.h"
#include "lib/util.h"
#include "runner.h"

#define H11 "Host: example.com\r\n"

struct http1_case {
	const char *name;
	const char *raw;
	size_t len;
	int rc;
	enum http1_err err;
};

#define OK(name, lit)                                                          \
	{                                                                      \
		name, lit, sizeof(lit) - 1, HTTP1_DONE, 0                      \
	}
#define BAD(name, lit, e)                                                      \
	{                                                                      \
		name, lit, sizeof(lit) - 1, HTTP1_ERROR, e                     \
	}
#define AGAIN(name, lit)                                                       \
	{                                                                      \
		name, lit, sizeof(lit) - 1, HTTP1_AGAIN, 0                     \
	}

static const struct http1_limits test_lim = { 1024, 16 };

static const struct http1_case test_reqs[] = {
	OK("get", "GET / HTTP/1.1\r\n" H11 "\r\n"),
	OK("http10 no host", "GET /x HTTP/1.0\r\n\r\n"),
	OK("post cl", "POST /a HTTP/1.1\r\n" H11 "Content-Length: 5\r\n\r\n"),
	OK("post chunked",
	    "POST /a HTTP/1.1\r\n" H11 "Transfer-Encoding: chunked\r\n\r\n"),
	OK("gzip then chunked",
	    "POST / HTTP/1.1\r\n" H11
	    "Transfer-Encoding: gzip, chunked\r\n\r\n"),
	OK("te split over two fields",
	    "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: gzip\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"),
	OK("te tab ows",
	    "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding:\tchunked\t\r\n\r\n"),
	OK("te leading spaces",
	    "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding:   chunked\r\n\r\n"),
	OK("cl tab ows",
	    "POST / HTTP/1.1\r\n" H11 "Content-Length:\t5\t\r\n\r\n"),
	OK("cl leading zeros",
	    "POST / HTTP/1.1\r\n" H11 "Content-Length: 007\r\n\r\n"),
	OK("empty value", "GET / HTTP/1.1\r\n" H11 "X-Empty:\r\n\r\n"),
	OK("obs-text value",
	    "GET / HTTP/1.1\r\n" H11 "X-U: caf\xc3\xa9\r\n\r\n"),
	OK("leading empty line", "\r\nGET / HTTP/1.1\r\n" H11 "\r\n"),
	OK("options asterisk", "OPTIONS * HTTP/1.1\r\n" H11 "\r\n"),
	OK("absolute form", "GET http://a.example/x HTTP/1.1\r\n" H11 "\r\n"),
	OK("connect authority",
	    "CONNECT a.example:443 HTTP/1.1\r\n"
	    "Host: a.example:443\r\n\r\n"),
	OK("extension method", "PURGE /x HTTP/1.1\r\n" H11 "\r\n"),
	OK("ipv6 host", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"),
	OK("empty host", "GET / HTTP/1.1\r\nHost:\r\n\r\n"),
	BAD("cl.te",
	    "POST / HTTP/1.1\r\n" H11 "Content-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    HTTP1_E_CL_AND_TE),
	BAD("te.cl",
	    "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n",
	    HTTP1_E_CL_AND_TE),
	BAD("te chunked, identity",
	    "POST / HTTP/1.1\r\n" H11
	    "Transfer-Encoding: chunked, identity\r\n\r\n",
	    HTTP1_E_BAD_TRANSFER_ENCODING),
	BAD("te identity",
	    "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: identity\r\n\r\n",
	    HTTP1_E_BAD_TRANSFER_ENCODING),
	BAD("te xchunked",
	    "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: xchunked\r\n\r\n",
	    HTTP1_E_BAD_TRANSFER_ENCODING),
	BAD("te chunked twice",
	    "POST / HTTP/1.1\r\n" H11
	    "Transfer-Encoding: chunked, chunked\r\n\r\n",
	    HTTP1_E_BAD_TRANSFER_ENCODING),
	BAD("te chunked then gzip",
	    "POST / HTTP/1.1\r\n" H11
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
	    HTTP1_E_BAD_TRANSFER_ENCODING),
	BAD("te empty element",
	    "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: , chunked\r\n\r\n",
	    HTTP1_E_BAD_TRANSFER_ENCODING),
	BAD("te param",
	    "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: chunked;x=1\r\n\r\n",
	    HTTP1_E_BAD_TRANSFER_ENCODING),
	BAD("te empty", "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding:\r\n\r\n",
	    HTTP1_E_BAD_TRANSFER_ENCODING),
	BAD("te vtab chunked",
	    "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: \x0b"
	    "chunked\r\n\r\n",
	    HTTP1_E_BAD_HEADER_VALUE),
	BAD("te folded chunked",
	    "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding:\r\n chunked\r\n\r\n",
	    HTTP1_E_OBS_FOLD),
	BAD("te in http/1.0",
	    "POST / HTTP/1.0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    HTTP1_E_BAD_TRANSFER_ENCODING),
	BAD("te space before colon",
	    "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding : chunked\r\n\r\n",
	    HTTP1_E_BAD_HEADER_NAME),
	BAD("te tab before colon",
	    "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding\t: chunked\r\n\r\n",
	    HTTP1_E_BAD_HEADER_NAME),
	BAD("cl plus", "POST / HTTP/1.1\r\n" H11 "Content-Length: +5\r\n\r\n",
	    HTTP1_E_BAD_CONTENT_LENGTH),
	BAD("cl minus", "POST / HTTP/1.1\r\n" H11 "Content-Length: -1\r\n\r\n",
	    HTTP1_E_BAD_CONTENT_LENGTH),
	BAD("cl list", "POST / HTTP/1.1\r\n" H11 "Content-Length: 5, 5\r\n\r\n",
	    HTTP1_E_DUP_CONTENT_LENGTH),
	BAD("cl twice equal",
	    "POST / HTTP/1.1\r\n" H11 "Content-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\n",
	    HTTP1_E_DUP_CONTENT_LENGTH),
	BAD("cl hex", "POST / HTTP/1.1\r\n" H11 "Content-Length: 0x5\r\n\r\n",
	    HTTP1_E_BAD_CONTENT_LENGTH),
	BAD("cl inner tab",
	    "POST / HTTP/1.1\r\n" H11 "Content-Length: 5\t5\r\n\r\n",
	    HTTP1_E_BAD_CONTENT_LENGTH),
	BAD("cl empty", "POST / HTTP/1.1\r\n" H11 "Content-Length:\r\n\r\n",
	    HTTP1_E_BAD_CONTENT_LENGTH),
	BAD("cl overflow",
	    "POST / HTTP/1.1\r\n" H11
	    "Content-Length: 9223372036854775808\r\n\r\n",
	    HTTP1_E_BAD_CONTENT_LENGTH),
	BAD("obs-fold", "GET / HTTP/1.1\r\n" H11 "X-A: b\r\n c\r\n\r\n",
	    HTTP1_E_OBS_FOLD),
	BAD("obs-fold tab", "GET / HTTP/1.1\r\n" H11 "X-A: b\r\n\tc\r\n\r\n",
	    HTTP1_E_OBS_FOLD),
	BAD("space before first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
	    HTTP1_E_OBS_FOLD),
	BAD("nul in value", "GET / HTTP/1.1\r\n" H11 "X-A: b\0c\r\n\r\n",
	    HTTP1_E_BAD_HEADER_VALUE),
	BAD("del in value", "GET / HTTP/1.1\r\n" H11 "X-A: b\x7f\r\n\r\n",
	    HTTP1_E_BAD_HEADER_VALUE),
	BAD("bare lf ending field", "GET / HTTP/1.1\r\n" H11 "X-A: b\n\r\n",
	    HTTP1_E_BARE_LF),
	BAD("bare lf request line", "GET / HTTP/1.1\n" H11 "\r\n",
	    HTTP1_E_BARE_LF),
	BAD("bare lf end of head", "GET / HTTP/1.1\r\n" H11 "\n",
	    HTTP1_E_BARE_LF),
	BAD("bare cr in value", "GET / HTTP/1.1\r\n" H11 "X-A: b\rc\r\n\r\n",
	    HTTP1_E_BARE_LF),
	BAD("bare lf in name", "GET / HTTP/1.1\r\n" H11 "X-A\n: b\r\n\r\n",
	    HTTP1_E_BARE_LF),
	BAD("space before colon", "GET / HTTP/1.1\r\n" H11 "X-A : b\r\n\r\n",
	    HTTP1_E_BAD_HEADER_NAME),
	BAD("empty name", "GET / HTTP/1.1\r\n" H11 ": b\r\n\r\n",
	    HTTP1_E_BAD_HEADER_NAME),
	BAD("no colon", "GET / HTTP/1.1\r\n" H11 "X-A\r\n\r\n",
	    HTTP1_E_BAD_HEADER_NAME),
	BAD("bad name char", "GET / HTTP/1.1\r\n" H11 "X(A): b\r\n\r\n",
	    HTTP1_E_BAD_HEADER_NAME),
	BAD("no host", "GET / HTTP/1.1\r\n\r\n", HTTP1_E_BAD_HOST),
	BAD("two hosts", "GET / HTTP/1.1\r\n" H11 H11 "\r\n", HTTP1_E_BAD_HOST),
	BAD("two hosts 1.0", "GET / HTTP/1.0\r\n" H11 H11 "\r\n",
	    HTTP1_E_BAD_HOST),
	BAD("host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
	    HTTP1_E_BAD_HOST),
	BAD("host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
	    HTTP1_E_BAD_HOST),
	OK("lower-case method is a token", "get / HTTP/1.1\r\n" H11 "\r\n"),
	BAD("method with slash", "GE/T / HTTP/1.1\r\n" H11 "\r\n",
	    HTTP1_E_BAD_METHOD),
	BAD("empty method", " / HTTP/1.1\r\n" H11 "\r\n", HTTP1_E_BAD_METHOD),
	BAD("tab after method", "GET\t/ HTTP/1.1\r\n" H11 "\r\n",
	    HTTP1_E_BAD_METHOD),
	BAD("tls hello", "\x16\x03\x01\x02\x00\x01", HTTP1_E_BAD_METHOD),
	BAD("two spaces", "GET  / HTTP/1.1\r\n" H11 "\r\n", HTTP1_E_BAD_TARGET),
	BAD("space in target", "GET /a b HTTP/1.1\r\n" H11 "\r\n",
	    HTTP1_E_BAD_VERSION),
	BAD("ctl in target", "GET /a\x01 HTTP/1.1\r\n" H11 "\r\n",
	    HTTP1_E_BAD_TARGET),
	BAD("utf8 target", "GET /\xc3\xa9 HTTP/1.1\r\n" H11 "\r\n",
	    HTTP1_E_BAD_TARGET),
	BAD("relative target", "GET a/b HTTP/1.1\r\n" H11 "\r\n",
	    HTTP1_E_BAD_TARGET),
	BAD("asterisk on get", "GET * HTTP/1.1\r\n" H11 "\r\n",
	    HTTP1_E_BAD_TARGET),
	BAD("http/0.9", "GET /\r\n\r\n", HTTP1_E_BAD_VERSION),
	BAD("http/2.0", "GET / HTTP/2.0\r\n" H11 "\r\n", HTTP1_E_BAD_VERSION),
	BAD("http/1.2", "GET / HTTP/1.2\r\n" H11 "\r\n", HTTP1_E_BAD_VERSION),
	BAD("lower http", "GET / http/1.1\r\n" H11 "\r\n", HTTP1_E_BAD_VERSION),
	BAD("space after version", "GET / HTTP/1.1 \r\n" H11 "\r\n",
	    HTTP1_E_BAD_VERSION),
	BAD("bare cr after blank", "\rGET / HTTP/1.1\r\n" H11 "\r\n",
	    HTTP1_E_BARE_LF),
	AGAIN("partial line", "GET / HTTP/1.1\r\nHost: a"),
	AGAIN("ends in cr", "GET / HTTP/1.1\r\n" H11 "\r"),
	AGAIN("only crlf", "\r\n"),
	AGAIN("empty", ""),
};

static char *
test_copy(const char *s, size_t n)
{
	char *p = malloc(n > 0 ? n : 1);

	T_ASSERT(p != NULL);
	memcpy(p, s, n);
	return p;
}

static int
test_req(const char *s, size_t n, const struct http1_limits *lim,
    struct http1_req *r)
{
	char *b = test_copy(s, n);
	int rc = http1_parse_request(b, n, lim, r);

	free(b); /* pointers in r dangle: callers compare scalars only */
	return rc;
}

static void
test_request_table(void)
{
	struct http1_req r;
	unsigned bad = 0;

	for (size_t i = 0; i < ARRAY_SIZE(test_reqs); i++) {
		const struct http1_case *c = &test_reqs[i];
		int rc = test_req(c->raw, c->len, &test_lim, &r);

		if (rc != c->rc || (rc == HTTP1_ERROR && r.m.err != c->err) ||
		    (rc == HTTP1_DONE && r.m.head_len != c->len)) {
			printf("# case '%s': rc %d err %s\n", c->name, rc,
			    http1_err_name(r.m.err));
			bad++;
		}
	}
	T_EQ_INT(bad, 0);
}

/* Every prefix gives AGAIN until the first answer, which is the one-shot. */
static void
test_request_incremental(void)
{
	struct http1_req one, inc;

	for (size_t i = 0; i < ARRAY_SIZE(test_reqs); i++) {
		const struct http1_case *c = &test_reqs[i];
		int rc1 = test_req(c->raw, c->len, &test_lim, &one), rc = 1;
		size_t n;

		for (n = 0; n <= c->len; n++)
			if ((rc = test_req(c->raw, n, &test_lim, &inc)) !=
			    HTTP1_AGAIN)
				break;
		if (rc != rc1 || inc.m.err != one.m.err ||
		    inc.m.head_len != one.m.head_len ||
		    inc.m.nhdr != one.m.nhdr)
			test_fail(
			    __FILE__, __LINE__, "case '%s' differs", c->name);
	}
}

static void
test_request_fields(void)
{
	static const char raw[] = "POST /submit?x=1 HTTP/1.1\r\n"
	                          "Host:  api.example:8080 \r\n"
	                          "Content-Length: 42\r\n"
	                          "Expect: 100-Continue\r\n"
	                          "X-Trail: v \t\r\n"
	                          "\r\n"
	                          "body";
	struct http1_req r;
	const struct http1_header *h;

	T_EQ_INT(
	    http1_parse_request(raw, sizeof(raw) - 1, NULL, &r), HTTP1_DONE);
	T_EQ_INT(r.m.head_len, sizeof(raw) - 1 - 4);
	T_EQ_INT(r.method, HTTP1_M_POST);
	T_ASSERT(r.method_len == 4 && memcmp(r.method_str, "POST", 4) == 0);
	T_ASSERT(
	    r.target_len == 11 && memcmp(r.target, "/submit?x=1", 11) == 0);
	T_ASSERT(
	    r.host_len == 16 && memcmp(r.host, "api.example:8080", 16) == 0);
	T_EQ_INT(r.m.minor, 1);
	T_EQ_INT(r.m.nhdr, 4);
	T_EQ_INT(r.m.content_length, 42);
	T_ASSERT(!r.m.chunked && r.m.keep_alive && !r.m.upgrade);
	T_ASSERT(r.expect_continue);
	h = http1_find(&r.m, "x-trail");
	T_ASSERT(h != NULL && h->value_len == 1 && h->value[0] == 'v');
	T_ASSERT(http1_find(&r.m, "CONTENT-length") == &r.m.hdr[1]);
	T_ASSERT(http1_find(&r.m, "x-trai") == NULL);
	T_ASSERT(http1_find(&r.m, "x-trailer") == NULL);
}

static int
test_req_str(const char *s, struct http1_req *r)
{
	/* the literal outlives r, so pointers stay valid */
	return http1_parse_request(s, strlen(s), NULL, r);
}

static void
test_request_connection(void)
{
	struct http1_req r;

	T_EQ_INT(test_req_str("GET / HTTP/1.1\r\n" H11 "\r\n", &r), 0);
	T_ASSERT(r.m.keep_alive && !r.m.conn_close);
	T_EQ_INT(r.m.content_length, -1);
	T_EQ_INT(test_req_str("GET / HTTP/1.1\r\n" H11
	                      "Connection: Keep-Alive, CLOSE\r\n\r\n",
	             &r),
	    0);
	T_ASSERT(!r.m.keep_alive && r.m.conn_close);
	T_EQ_INT(test_req_str("GET / HTTP/1.0\r\n\r\n", &r), 0);
	T_ASSERT(!r.m.keep_alive && r.host == NULL);
	T_EQ_INT(test_req_str("GET / HTTP/1.0\r\n"
	                      "Connection: keep-alive\r\n\r\n",
	             &r),
	    0);
	T_ASSERT(r.m.keep_alive);
	T_EQ_INT(test_req_str("GET / HTTP/1.0\r\nConnection: foo,\r\n"
	                      "connection: keep-alive\r\n\r\n",
	             &r),
	    0);
	T_ASSERT(r.m.keep_alive);
	/* upgrade needs both the Connection token and the Upgrade field */
	T_EQ_INT(test_req_str("GET /ws HTTP/1.1\r\n" H11
	                      "Connection: keep-alive, Upgrade\r\n"
	                      "Upgrade: websocket\r\n\r\n",
	             &r),
	    0);
	T_ASSERT(r.m.upgrade && r.m.keep_alive);
	T_EQ_INT(
	    test_req_str(
	        "GET /ws HTTP/1.1\r\n" H11 "Upgrade: websocket\r\n\r\n", &r),
	    0);
	T_ASSERT(!r.m.upgrade);
	T_EQ_INT(
	    test_req_str(
	        "GET /ws HTTP/1.1\r\n" H11 "Connection: upgrade\r\n\r\n", &r),
	    0);
	T_ASSERT(!r.m.upgrade);
	/* Expect is ignored in 1.0 (RFC 9110 §10.1.1) */
	T_EQ_INT(test_req_str("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n"
	                      "Content-Length: 1\r\n\r\n",
	             &r),
	    0);
	T_ASSERT(!r.expect_continue);
	T_EQ_INT(test_req_str("POST / HTTP/1.1\r\n" H11
	                      "Transfer-Encoding: CHUNKED\r\n\r\n",
	             &r),
	    0);
	T_ASSERT(r.m.chunked && r.m.content_length == -1);
}

static void
test_request_methods(void)
{
	static const struct {
		const char *name;
		enum http1_method m;
		bool idem;
	} tbl[] = {
		{ "GET", HTTP1_M_GET, true },
		{ "HEAD", HTTP1_M_HEAD, true },
		{ "POST", HTTP1_M_POST, false },
		{ "PUT", HTTP1_M_PUT, true },
		{ "DELETE", HTTP1_M_DELETE, true },
		{ "OPTIONS", HTTP1_M_OPTIONS, true },
		{ "TRACE", HTTP1_M_TRACE, true },
		{ "PATCH", HTTP1_M_PATCH, false },
		{ "GETS", HTTP1_M_OTHER, false },
		{ "Get", HTTP1_M_OTHER, false },
	};
	char raw[128];
	struct http1_req r;

	for (size_t i = 0; i < ARRAY_SIZE(tbl); i++) {
		snprintf(raw, sizeof(raw), "%s / HTTP/1.1\r\n" H11 "\r\n",
		    tbl[i].name);
		T_EQ_INT(test_req_str(raw, &r), HTTP1_DONE);
		T_EQ_INT(r.method, tbl[i].m);
		T_EQ_INT(http1_method_idempotent(r.method), tbl[i].idem);
	}
}

static int
test_req_lim(const char *s, const struct http1_limits *lim, struct http1_req *r)
{
	return test_req(s, strlen(s), lim, r);
}

static void
test_request_limits(void)
{
	static const char big[] =
	    "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n"
	    "Host: a\r\n\r\n";
	const size_t n = sizeof(big) - 1;
	struct http1_limits lim = { n, 3 };
	struct http1_req r;

	/* a head exactly at the limit passes; one byte over does not */
	T_EQ_INT(test_req(big, n, &lim, &r), HTTP1_DONE);
	lim.max_head = n - 1;
	T_EQ_INT(test_req(big, n, &lim, &r), HTTP1_ERROR);
	T_EQ_INT(r.m.err, HTTP1_E_TOO_LARGE);
	T_EQ_INT(http1_err_status(r.m.err), 431);
	/* a partial head below the limit waits; at the limit it fails */
	T_EQ_INT(test_req(big, n - 2, &lim, &r), HTTP1_AGAIN);
	T_EQ_INT(test_req(big, n - 1, &lim, &r), HTTP1_ERROR);
	T_EQ_INT(r.m.err, HTTP1_E_TOO_LARGE);

	lim.max_head = 1024;
	T_EQ_INT(test_req_lim("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n"
	                      "\r\n",
	             &lim, &r),
	    HTTP1_DONE);
	T_EQ_INT(r.m.nhdr, 3);
	T_EQ_INT(test_req_lim("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n"
	                      "C: 3\r\n\r\n",
	             &lim, &r),
	    HTTP1_ERROR);
	T_EQ_INT(r.m.err, HTTP1_E_TOO_MANY_HDRS);
	T_EQ_INT(http1_err_status(r.m.err), 431);
	/* NULL limits: 8 KiB of head */
	T_EQ_INT(test_req_lim("GET / HTTP/1.1\r\nHost: a\r\n\r\n", NULL, &r),
	    HTTP1_DONE);
}

/* The array caps at HTTP1_MAX_HDRS even if the caller asks for more. */
static void
test_request_max_hdrs_cap(void)
{
	struct http1_limits lim = { 1 << 16, 1000 };
	char raw[8192];
	struct http1_req r;
	size_t n;

	for (int extra = 0; extra < 2; extra++) {
		n = (size_t)snprintf(
		    raw, sizeof(raw), "GET / HTTP/1.1\r\nHost: h\r\n");
		for (int i = 1; i < HTTP1_MAX_HDRS + extra; i++)
			n += (size_t)snprintf(
			    raw + n, sizeof(raw) - n, "H%d: x\r\n", i);
		memcpy(raw + n, "\r\n", 2);
		if (extra == 0) {
			T_EQ_INT(test_req(raw, n + 2, &lim, &r), HTTP1_DONE);
			T_EQ_INT(r.m.nhdr, HTTP1_MAX_HDRS);
		} else {
			T_EQ_INT(test_req(raw, n + 2, &lim, &r), HTTP1_ERROR);
			T_EQ_INT(r.m.err, HTTP1_E_TOO_MANY_HDRS);
		}
	}
}

static void
test_err_status_and_names(void)
{
	T_EQ_INT(http1_err_status(HTTP1_E_TOO_LARGE), 431);
	T_EQ_INT(http1_err_status(HTTP1_E_TOO_MANY_HDRS), 431);
	T_EQ_INT(http1_err_status(HTTP1_E_BAD_VERSION), 505);
	T_EQ_INT(http1_err_status(HTTP1_E_CL_AND_TE), 400);
	T_EQ_INT(http1_err_status(HTTP1_E_BAD_HOST), 400);
	for (int e = 0; e < HTTP1_E__COUNT; e++)
		T_ASSERT(strcmp(http1_err_name(e), "unknown") != 0);
	T_EQ_STR(http1_err_name(HTTP1_E_CL_AND_TE), "cl_and_te");
	T_EQ_STR(http1_err_name(HTTP1_E__COUNT), "unknown");
	T_EQ_STR(http1_reason(200), "OK");
	T_EQ_STR(http1_reason(404), "Not Found");
	T_EQ_STR(http1_reason(431), "Request Header Fields Too Large");
	T_EQ_STR(http1_reason(505), "HTTP Version Not Supported");
	T_EQ_STR(http1_reason(599), "Unknown");
	static const int common[] = { 200, 201, 204, 301, 302, 304, 400, 401,
		403, 404, 405, 408, 411, 413, 414, 429, 431, 500, 501, 502, 503,
		504, 505 };
	for (size_t i = 0; i < ARRAY_SIZE(common); i++)
		T_ASSERT(strcmp(http1_reason(common[i]), "Unknown") != 0);
}

static const struct http1_case test_resps[] = {
	OK("200 cl", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"),
	OK("empty reason", "HTTP/1.1 204 \r\n\r\n"),
	OK("no sp no reason", "HTTP/1.1 204\r\n\r\n"),
	OK("1.0 close", "HTTP/1.0 200 OK\r\n\r\n"),
	OK("te gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
	OK("reason obs-text", "HTTP/1.1 200 \xc3\xa9t\xc3\xa9\r\n\r\n"),
	BAD("cl and te",
	    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    HTTP1_E_CL_AND_TE),
	BAD("dup cl",
	    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
	    "Content-Length: 3\r\n\r\n",
	    HTTP1_E_DUP_CONTENT_LENGTH),
	BAD("status 99", "HTTP/1.1 099 X\r\n\r\n", HTTP1_E_BAD_STATUS),
	BAD("status 600", "HTTP/1.1 600 X\r\n\r\n", HTTP1_E_BAD_STATUS),
	BAD("status 2 digits", "HTTP/1.1 20 OK\r\n\r\n", HTTP1_E_BAD_STATUS),
	BAD("status 4 digits", "HTTP/1.1 2000 OK\r\n\r\n", HTTP1_E_BAD_STATUS),
	BAD("version 2", "HTTP/2 200 OK\r\n\r\n", HTTP1_E_BAD_VERSION),
	BAD("garbage", "<html>", HTTP1_E_BAD_VERSION),
	BAD("bare lf", "HTTP/1.1 200 OK\n\r\n", HTTP1_E_BARE_LF),
	BAD("obs-fold", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
	    HTTP1_E_OBS_FOLD),
	AGAIN("partial", "HTTP/1.1 200 OK\r\nContent-Le"),
};

static int
test_resp(const char *s, size_t n, struct http1_resp *r)
{
	char *b = test_copy(s, n);
	int rc = http1_parse_response(b, n, &test_lim, r);

	free(b);
	return rc;
}

static void
test_response_table(void)
{
	struct http1_resp r, inc;

	for (size_t i = 0; i < ARRAY_SIZE(test_resps); i++) {
		const struct http1_case *c = &test_resps[i];
		int rc = test_resp(c->raw, c->len, &r), rci = 1;

		if (rc != c->rc || (rc == HTTP1_ERROR && r.m.err != c->err))
			test_fail(__FILE__, __LINE__, "case '%s': rc %d %s",
			    c->name, rc, http1_err_name(r.m.err));
		for (size_t n = 0; n <= c->len; n++)
			if ((rci = test_resp(c->raw, n, &inc)) != HTTP1_AGAIN)
				break;
		if (rci != rc || inc.m.err != r.m.err ||
		    inc.m.head_len != r.m.head_len)
			test_fail(__FILE__, __LINE__, "case '%s' incremental",
			    c->name);
	}
}

static void
test_response_framing(void)
{
	static const char *const nobody[] = {
		"HTTP/1.1 100 Continue\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	struct http1_resp r;
	const char *s;

	s = "HTTP/1.1 200 Fine Thanks\r\nContent-Length: 3\r\n\r\nabc";
	T_EQ_INT(http1_parse_response(s, strlen(s), NULL, &r), HTTP1_DONE);
	T_EQ_INT(r.status, 200);
	T_ASSERT(
	    r.reason_len == 11 && memcmp(r.reason, "Fine Thanks", 11) == 0);
	T_EQ_INT(r.m.content_length, 3);
	T_EQ_INT(r.m.head_len, strlen(s) - 3);
	T_ASSERT(r.m.keep_alive && !r.m.close_delimited && !r.m.chunked);

	s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
	T_EQ_INT(http1_parse_response(s, strlen(s), NULL, &r), HTTP1_DONE);
	T_ASSERT(r.m.chunked && !r.m.close_delimited && r.m.keep_alive);

	s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n";
	T_EQ_INT(http1_parse_response(s, strlen(s), NULL, &r), HTTP1_DONE);
	T_ASSERT(!r.m.chunked && r.m.close_delimited && !r.m.keep_alive);

	s = "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n";
	T_EQ_INT(http1_parse_response(s, strlen(s), NULL, &r), HTTP1_DONE);
	T_ASSERT(r.m.close_delimited && !r.m.keep_alive);
	T_EQ_INT(r.m.content_length, -1);

	s = "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	T_EQ_INT(http1_parse_response(s, strlen(s), NULL, &r), HTTP1_DONE);
	T_ASSERT(!r.m.chunked && r.m.close_delimited);

	s = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
	    "Content-Length: 0\r\n\r\n";
	T_EQ_INT(http1_parse_response(s, strlen(s), NULL, &r), HTTP1_DONE);
	T_ASSERT(r.m.keep_alive && r.m.minor == 0);

	s = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n";
	T_EQ_INT(http1_parse_response(s, strlen(s), NULL, &r), HTTP1_DONE);
	T_ASSERT(r.m.upgrade && r.m.content_length == 0);

	for (size_t i = 0; i < ARRAY_SIZE(nobody); i++) {
		s = nobody[i];
		T_EQ_INT(http1_parse_response(s, strlen(s), NULL, &r), 0);
		T_EQ_INT(r.m.content_length, 0);
		T_ASSERT(!r.m.chunked && !r.m.close_delimited);
		T_ASSERT(r.m.keep_alive);
	}
}

/* Feed a whole body one shot; collect decoded data into out. */
static long
test_chunked_all(const char *in, size_t len, size_t step, char *out,
    size_t *outlen, struct http1_chunked *c)
{
	size_t off = 0;

	http1_chunked_init(c);
	*outlen = 0;
	while (off < len && !c->done) {
		size_t lim = MIN(step, len - off), doff, dlen;
		char *b = test_copy(in + off, lim);
		long n = http1_chunked_feed(c, b, lim, &doff, &dlen);

		if (n < 0) {
			free(b);
			return -1;
		}
		T_ASSERT((size_t)n <= lim && doff + dlen <= (size_t)n);
		memcpy(out + *outlen, b + doff, dlen);
		*outlen += dlen;
		free(b);
		off += (size_t)n;
	}
	return (long)off;
}

static void
test_chunked_split(void)
{
	static const char body[] = "5\r\nhello\r\n"
	                           "1a;ext=\"v\" ; x\r\n"
	                           "abcdefghijklmnopqrstuvwxyz\r\n"
	                           "0\r\n"
	                           "Trailer-A: 1\r\n"
	                           "\r\n"
	                           "NEXT";
	const size_t len = sizeof(body) - 1, msg = len - 4;
	struct http1_chunked c;
	char out[64];
	size_t outlen;

	T_EQ_INT(test_chunked_all(body, len, len, out, &outlen, &c), msg);
	T_ASSERT(c.done && outlen == 31);
	T_ASSERT(memcmp(out, "helloabcdefghijklmnopqrstuvwxyz", 31) == 0);
	/* the same answer when split in two at every byte boundary */
	for (size_t cut = 1; cut < len; cut++) {
		size_t off = 0, total = 0;
		long n;

		http1_chunked_init(&c);
		n = http1_chunked_feed(&c, body, cut, NULL, NULL);
		T_ASSERT(n >= 0);
		off = (size_t)n;
		if (!c.done) {
			n = http1_chunked_feed(
			    &c, body + off, len - off, NULL, NULL);
			T_ASSERT(n >= 0);
			off += (size_t)n;
		}
		total = off;
		if (!c.done || total != msg)
			test_fail(
			    __FILE__, __LINE__, "cut %zu: %zu", cut, total);
	}
	/* and fed in pieces of every size, with data reported */
	for (size_t step = 1; step <= len; step++) {
		T_EQ_INT(
		    test_chunked_all(body, len, step, out, &outlen, &c), msg);
		T_ASSERT(c.done && outlen == 31);
		T_ASSERT(
		    memcmp(out, "helloabcdefghijklmnopqrstuvwxyz", 31) == 0);
	}
	/* once done, nothing more is consumed */
	T_EQ_INT(http1_chunked_feed(&c, "x", 1, NULL, NULL), 0);
}

static void
test_chunked_errors(void)
{
#define B(lit)                                                                 \
	{                                                                      \
		lit, sizeof(lit) - 1                                           \
	}
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {
		B("\r\n"),                  /* empty size */
		B("g\r\n"),                 /* not hex */
		B("-1\r\n"),                /* sign */
		B("0x5\r\n"),               /* prefix */
		B("5\nhello\r\n"),          /* bare LF after size */
		B("5\r\nhelloX\r\n"),       /* data longer than size */
		B("5\r\nhello\n0\r\n\r\n"), /* bare LF after data */
		B("5 \r\nhello\r\n"),       /* BWS without extension */
		B("5;a\nb\r\n"),            /* LF inside extension */
		B("5;a\0b\r\n"),            /* NUL inside extension */
		B("0\r\n x: 1\r\n\r\n"),    /* folded trailer */
		B("0\r\nx : 1\r\n\r\n"),    /* space before colon */
		B("0\r\nx: 1\n\r\n"),       /* bare LF in trailer */
		B("0\r\n\n"),               /* bare LF at the end */
		B("0\r\n\rx"),              /* CR not followed by LF */
		B("40000000000000001\r\n"), /* > 2^62 */
		B("100000000000000000000\r\n"),
	};
#undef B
	static const char *const good[] = {
		"4000000000000000\r\n", /* 2^62: accepted, body pending */
		"0000000000000000000000000005\r\nhello\r\n0\r\n\r\n",
		"5\t;a=b\r\nhello\r\n0\r\n\r\n",
		"A\r\n0123456789\r\n0\r\n\r\n",
	};
	struct http1_chunked c;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		http1_chunked_init(&c);
		if (http1_chunked_feed(&c, bad[i].s, bad[i].len, NULL, NULL) !=
		    -1)
			test_fail(__FILE__, __LINE__, "bad[%zu] accepted", i);
		T_EQ_INT(c.err, HTTP1_E_BAD_CHUNK);
		/* the error sticks */
		T_EQ_INT(
		    http1_chunked_feed(&c, "0\r\n\r\n", 5, NULL, NULL), -1);
	}
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		http1_chunked_init(&c);
		if (http1_chunked_feed(&c, good[i], strlen(good[i]), NULL,
		        NULL) != (long)strlen(good[i]))
			test_fail(__FILE__, __LINE__, "good[%zu] refused", i);
		T_ASSERT(c.done == (i != 0));
	}
	T_EQ_INT(c.remaining, 0);
	http1_chunked_init(&c);
	T_EQ_INT(http1_chunked_feed(&c, good[0], strlen(good[0]), NULL, NULL),
	    (long)strlen(good[0]));
	T_ASSERT(c.remaining == (1ULL << 62));
}

static void
test_chunked_bounds(void)
{
	static char line[HTTP1_CHUNK_LINE_MAX + 16];
	static char tr[HTTP1_TRAILER_MAX + 64];
	struct http1_chunked c;
	size_t n;

	/* an extension as long as the line bound is refused */
	memset(line, 'a', sizeof(line));
	memcpy(line, "1;", 2);
	http1_chunked_init(&c);
	T_EQ_INT(http1_chunked_feed(&c, line, sizeof(line), NULL, NULL), -1);
	/* a shorter one passes */
	http1_chunked_init(&c);
	memcpy(line + 100, "\r\nx\r\n0\r\n\r\n", 10);
	T_EQ_INT(http1_chunked_feed(&c, line, 110, NULL, NULL), 110);
	T_ASSERT(c.done);
	/* trailers beyond HTTP1_TRAILER_MAX are refused */
	n = (size_t)snprintf(tr, sizeof(tr), "0\r\n");
	while (n + 16 < sizeof(tr))
		n += (size_t)snprintf(
		    tr + n, sizeof(tr) - n, "T: 0123456789\r\n");
	http1_chunked_init(&c);
	T_EQ_INT(http1_chunked_feed(&c, tr, n, NULL, NULL), -1);
}

static const struct test tests[] = {
	TEST(test_request_table),
	TEST(test_request_incremental),
	TEST(test_request_fields),
	TEST(test_request_connection),
	TEST(test_request_methods),
	TEST(test_request_limits),
	TEST(test_request_max_hdrs_cap),
	TEST(test_err_status_and_names),
	TEST(test_response_table),
	TEST(test_response_framing),
	TEST(test_chunked_split),
	TEST(test_chunked_errors),
	TEST(test_chunked_bounds),
};

TEST_MAIN(tests)
