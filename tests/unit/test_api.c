/*
 * Unit tests for api.c, the control API's HTTP/1.1 server, driven by plain
 * client sockets in the same process: the test writes raw requests, runs
 * the loop in bounded steps and parses what comes back.
 *
 * Covered: routing data handed to the handler (path decoded, query, body
 * by length or chunks), answers given later, requests orphaned by a client
 * that leaves, pipelining in order, keep-alive and Connection: close, the
 * server's own 400/408/413/431, the bearer token on TCP, the connection
 * limit, and a held request with a full input buffer not spinning the loop.
 * Timeouts run on the simulated clock.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <unistd.h>

#include "lib/api.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "runner.h"

#define TEST_API_MAX_BODY 1024

struct test_api_h {
	int n;                /* requests handed to the handler */
	bool hold;            /* keep the request instead of answering */
	struct api_req *held; /* owned until api_reply */
	char method[16];
	char path[256];
	char query[256];
	char body[4096];
	size_t body_len;
};

struct test_api_resp {
	int status;
	char ctype[64];
	char body[4096];
	bool conn_close; /* "Connection: close" in the head */
	bool www_auth;   /* "WWW-Authenticate: Bearer" in the head */
};

struct test_api {
	struct ev_loop *loop;   /* owned */
	struct api_server *srv; /* owned */
	struct test_api_h h;
	char dir[64];
	char sock[100];
};

static void
test_api_handler(struct api_req *req, void *arg)
{
	struct test_api_h *h = arg;
	char body[512];
	int n;

	h->n++;
	snprintf(h->method, sizeof(h->method), "%s", req->method);
	snprintf(h->path, sizeof(h->path), "%s", req->path);
	snprintf(h->query, sizeof(h->query), "%s", req->query);
	h->body_len = MIN(req->body_len, sizeof(h->body) - 1);
	memcpy(h->body, req->body, h->body_len);
	h->body[h->body_len] = '\0';
	if (h->hold) {
		h->held = req;
		return;
	}
	n = snprintf(body, sizeof(body), "{\"path\":\"%s\"}", req->path);
	api_reply(req, 200, NULL, body, (size_t)n);
}

static void
test_api_start(struct test_api *t, bool sim)
{
	memset(t, 0, sizeof(*t));
	t->loop = sim ? ev_loop_new_sim(1000) : ev_loop_new();
	t->srv =
	    api_server_new(t->loop, test_api_handler, &t->h, TEST_API_MAX_BODY);
	snprintf(t->dir, sizeof(t->dir), "/tmp/haven-api-XXXXXX");
	T_ASSERT(mkdtemp(t->dir) != NULL);
	snprintf(t->sock, sizeof(t->sock), "%s/api.sock", t->dir);
	T_EQ_INT(api_listen_unix(t->srv, t->sock, NULL), 0);
}

static void
test_api_stop(struct test_api *t)
{
	api_server_free(t->srv);
	/* The server removes its socket; the directory is then empty. */
	T_EQ_INT(rmdir(t->dir), 0);
	ev_loop_free(t->loop);
}

static int
test_api_connect(struct test_api *t)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	T_ASSERT(fd != -1);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t->sock);
	T_EQ_INT(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void
test_api_send(int fd, const char *s, size_t len)
{
	T_EQ_INT(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

#define TEST_API_SEND(fd, s) test_api_send((fd), (s), strlen(s))

/* Cut one complete response off the front of in. Returns 1 if found. */
static int
test_api_parse(struct buf *in, struct test_api_resp *r)
{
	char *end = in->len ? strstr(in->data, "\r\n\r\n") : NULL;
	const char *cl, *ct;
	size_t head, blen;

	if (end == NULL)
		return 0;
	head = (size_t)(end - in->data) + 4;
	cl = strstr(in->data, "Content-Length: ");
	T_ASSERT(cl != NULL && cl < end);
	blen = strtoul(cl + 16, NULL, 10);
	if (in->len < head + blen)
		return 0;
	memset(r, 0, sizeof(*r));
	T_EQ_INT(sscanf(in->data, "HTTP/1.1 %d ", &r->status), 1);
	if ((ct = strstr(in->data, "Content-Type: ")) != NULL && ct < end)
		sscanf(ct + 14, "%63[^\r]", r->ctype);
	r->conn_close = memmem(in->data, head, "Connection: close", 17);
	r->www_auth = memmem(in->data, head, "WWW-Authenticate: Bearer", 24);
	T_ASSERT(blen < sizeof(r->body));
	memcpy(r->body, in->data + head, blen);
	buf_consume(in, head + blen);
	return 1;
}

/*
 * Run the loop until fd yields a complete response (returns 1), or EOF or
 * three seconds pass (returns 0). in keeps bytes read past the response.
 */
static int
test_api_read(
    struct test_api *t, int fd, struct buf *in, struct test_api_resp *r)
{
	uint64_t end = util_mono_ms() + 3000;

	while (util_mono_ms() < end) {
		char tmp[8192];
		ssize_t n;

		if (test_api_parse(in, r))
			return 1;
		n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n == 0)
			return 0;
		if (n > 0) {
			buf_append(in, tmp, (size_t)n);
			continue;
		}
		ev_run_once(t->loop, 10);
	}
	return 0;
}

/* One request on a fresh connection; the response must come. */
static void
test_api_once(struct test_api *t, const char *req, struct test_api_resp *r)
{
	int fd = test_api_connect(t);
	struct buf in;

	buf_init(&in);
	TEST_API_SEND(fd, req);
	T_EQ_INT(test_api_read(t, fd, &in, r), 1);
	buf_fini(&in);
	close(fd);
}

/* True once the server has closed fd (run the loop up to three seconds). */
static bool
test_api_eof(struct test_api *t, int fd)
{
	uint64_t end = util_mono_ms() + 3000;

	while (util_mono_ms() < end) {
		char tmp[4096];
		ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);

		if (n == 0 || (n == -1 && errno == ECONNRESET))
			return true;
		if (n == -1)
			ev_run_once(t->loop, 10);
	}
	return false;
}

/* Nothing arrives on fd during a few loop iterations. */
static void
test_api_quiet(struct test_api *t, int fd)
{
	char c;

	for (int i = 0; i < 5; i++)
		ev_run_once(t->loop, 5);
	T_EQ_INT(recv(fd, &c, 1, MSG_DONTWAIT), -1);
	T_EQ_INT(errno, EAGAIN);
}

static void
test_get_keepalive_unix(void)
{
	struct test_api t;
	struct test_api_resp r;
	struct stat st;
	struct buf in;
	int fd;

	test_api_start(&t, false);
	T_ASSERT(stat(t.sock, &st) == 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	buf_init(&in);
	fd = test_api_connect(&t);
	TEST_API_SEND(
	    fd, "GET /v1/status?verbose=1 HTTP/1.1\r\nHost: x\r\n\r\n");
	T_EQ_INT(test_api_read(&t, fd, &in, &r), 1);
	T_EQ_INT(r.status, 200);
	T_EQ_STR(r.ctype, "application/json");
	T_EQ_STR(r.body, "{\"path\":\"/v1/status\"}");
	T_ASSERT(!r.conn_close);
	T_EQ_STR(t.h.method, "GET");
	T_EQ_STR(t.h.query, "verbose=1");
	/* Same connection, second request. */
	TEST_API_SEND(fd, "DELETE /v1/x HTTP/1.1\r\nHost: x\r\n\r\n");
	T_EQ_INT(test_api_read(&t, fd, &in, &r), 1);
	T_EQ_INT(r.status, 200);
	T_EQ_STR(t.h.method, "DELETE");
	T_EQ_STR(t.h.query, "");
	T_EQ_INT(t.h.n, 2);
	T_EQ_INT(api_server_stats(t.srv)->requests, 2);
	T_EQ_INT(api_server_stats(t.srv)->accepted, 1);
	buf_fini(&in);
	close(fd);
	test_api_stop(&t);
}

static void
test_request_bodies(void)
{
	struct test_api t;
	struct test_api_resp r;
	struct buf in;
	int fd;

	test_api_start(&t, false);
	buf_init(&in);
	fd = test_api_connect(&t);
	/* The body arrives after the head: no dispatch until it is whole. */
	TEST_API_SEND(fd,
	    "POST /v1/reload HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 11\r\n\r\nhello");
	test_api_quiet(&t, fd);
	T_EQ_INT(t.h.n, 0);
	TEST_API_SEND(fd, " world");
	T_EQ_INT(test_api_read(&t, fd, &in, &r), 1);
	T_EQ_INT(r.status, 200);
	T_EQ_STR(t.h.body, "hello world");
	T_EQ_INT(t.h.body_len, 11);
	TEST_API_SEND(fd,
	    "PUT /v1/c HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "5\r\nchunk\r\n3\r\ned!\r\n0\r\n\r\n");
	T_EQ_INT(test_api_read(&t, fd, &in, &r), 1);
	T_EQ_INT(r.status, 200);
	T_EQ_STR(t.h.method, "PUT");
	T_EQ_STR(t.h.body, "chunked!");
	buf_fini(&in);
	close(fd);
	test_api_stop(&t);
}

static void
test_path_decoding(void)
{
	struct test_api t;
	struct test_api_resp r;
	char s1[] = "a%2Fb%20c", s2[] = "%4", s3[] = "x%", s4[] = "%00",
	     s5[] = "%g1", s6[] = "%+1", s7[] = "% 1";

	T_EQ_INT(api_unescape(s1), 0);
	T_EQ_STR(s1, "a/b c");
	T_EQ_INT(api_unescape(s2), -1);
	T_EQ_INT(api_unescape(s3), -1);
	T_EQ_INT(api_unescape(s4), -1); /* NUL would cut the name short */
	T_EQ_INT(api_unescape(s5), -1);
	T_EQ_INT(api_unescape(s6), -1); /* strtol would take a sign */
	T_EQ_INT(api_unescape(s7), -1);

	test_api_start(&t, false);
	test_api_once(
	    &t, "GET /v1/pools/web%201?a=%20 HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	T_EQ_INT(r.status, 200);
	T_EQ_STR(t.h.path, "/v1/pools/web 1");
	T_EQ_STR(t.h.query, "a=%20"); /* left to the handler */
	test_api_once(&t, "GET /v1/%zz HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	T_EQ_INT(r.status, 400);
	T_ASSERT(strstr(r.body, "\"status\":400") != NULL);
	test_api_once(&t, "GET /v1/%00x HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	T_EQ_INT(r.status, 400);
	T_EQ_INT(t.h.n, 1);
	test_api_stop(&t);
}

static void
test_async_reply(void)
{
	struct test_api t;
	struct test_api_resp r;
	struct buf in;
	int fd;

	test_api_start(&t, false);
	t.h.hold = true;
	buf_init(&in);
	fd = test_api_connect(&t);
	TEST_API_SEND(fd, "GET /v1/lb HTTP/1.1\r\nHost: x\r\n\r\n");
	test_api_quiet(&t, fd);
	T_EQ_INT(t.h.n, 1);
	T_ASSERT(t.h.held != NULL && t.h.held->conn != NULL);
	api_reply(t.h.held, 202, "text/plain", "later", 5);
	t.h.held = NULL;
	T_EQ_INT(test_api_read(&t, fd, &in, &r), 1);
	T_EQ_INT(r.status, 202);
	T_EQ_STR(r.ctype, "text/plain");
	T_EQ_STR(r.body, "later");
	/* The connection is reusable afterwards. */
	t.h.hold = false;
	TEST_API_SEND(fd, "GET /v1/next HTTP/1.1\r\nHost: x\r\n\r\n");
	T_EQ_INT(test_api_read(&t, fd, &in, &r), 1);
	T_EQ_STR(r.body, "{\"path\":\"/v1/next\"}");
	buf_fini(&in);
	close(fd);
	test_api_stop(&t);
}

static void
test_orphaned_request(void)
{
	struct test_api t;
	uint64_t end;
	int fd;

	test_api_start(&t, false);
	t.h.hold = true;
	fd = test_api_connect(&t);
	TEST_API_SEND(fd, "GET /v1/slow HTTP/1.1\r\nHost: x\r\n\r\n");
	end = util_mono_ms() + 3000;
	while (t.h.n == 0 && util_mono_ms() < end)
		ev_run_once(t.loop, 10);
	T_ASSERT(t.h.held != NULL);
	close(fd);
	/* The server notices and drops its side; the request stays valid. */
	end = util_mono_ms() + 3000;
	while (t.h.held->conn != NULL && util_mono_ms() < end)
		ev_run_once(t.loop, 10);
	T_ASSERT(t.h.held->conn == NULL);
	for (int i = 0; i < 3; i++)
		ev_run_once(t.loop, 1); /* let the connection be freed */
	T_EQ_STR(t.h.held->path, "/v1/slow");
	api_error(t.h.held, 503, "too late"); /* frees; writes nowhere */
	t.h.held = NULL;
	test_api_stop(&t);
}

static void
test_pipelining_in_order(void)
{
	struct test_api t;
	struct test_api_resp r;
	struct buf in;
	int fd;

	test_api_start(&t, false);
	t.h.hold = true;
	buf_init(&in);
	fd = test_api_connect(&t);
	TEST_API_SEND(fd,
	    "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
	test_api_quiet(&t, fd);
	/* One request at a time: /b waits for /a's answer. */
	T_EQ_INT(t.h.n, 1);
	T_EQ_STR(t.h.path, "/a");
	t.h.hold = false;
	api_reply(t.h.held, 200, "text/plain", "first", 5);
	t.h.held = NULL;
	T_EQ_INT(t.h.n, 3);
	T_EQ_INT(test_api_read(&t, fd, &in, &r), 1);
	T_EQ_STR(r.body, "first");
	T_EQ_INT(test_api_read(&t, fd, &in, &r), 1);
	T_EQ_STR(r.body, "{\"path\":\"/b\"}");
	T_EQ_INT(test_api_read(&t, fd, &in, &r), 1);
	T_EQ_STR(r.body, "{\"path\":\"/c\"}");
	buf_fini(&in);
	close(fd);
	test_api_stop(&t);
}

static void
test_connection_close(void)
{
	struct test_api t;
	struct test_api_resp r;
	struct buf in;
	int fd;

	test_api_start(&t, false);
	buf_init(&in);
	fd = test_api_connect(&t);
	TEST_API_SEND(fd,
	    "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close"
	    "\r\n\r\n");
	T_EQ_INT(test_api_read(&t, fd, &in, &r), 1);
	T_EQ_INT(r.status, 200);
	T_ASSERT(r.conn_close);
	T_ASSERT(test_api_eof(&t, fd));
	close(fd);

	/* HTTP/1.0 without keep-alive: one request per connection. */
	fd = test_api_connect(&t);
	TEST_API_SEND(fd, "GET /b HTTP/1.0\r\n\r\n");
	T_EQ_INT(test_api_read(&t, fd, &in, &r), 1);
	T_EQ_INT(r.status, 200);
	T_ASSERT(test_api_eof(&t, fd));
	close(fd);
	buf_fini(&in);
	test_api_stop(&t);
}

/*
 * A 4xx of the server's own: JSON error, then the connection closes. len 0:
 * req is a C string.
 */
static void
test_api_expect_fail(
    struct test_api *t, const char *req, size_t len, int status)
{
	struct test_api_resp r;
	char want[32];
	struct buf in;
	int fd = test_api_connect(t);

	buf_init(&in);
	test_api_send(fd, req, len ? len : strlen(req));
	T_EQ_INT(test_api_read(t, fd, &in, &r), 1);
	T_EQ_INT(r.status, status);
	T_EQ_STR(r.ctype, "application/json");
	snprintf(want, sizeof(want), "\"status\":%d", status);
	T_ASSERT(strstr(r.body, want) != NULL);
	T_ASSERT(strstr(r.body, "\"error\":") != NULL);
	T_ASSERT(r.conn_close);
	T_ASSERT(test_api_eof(t, fd));
	buf_fini(&in);
	close(fd);
}

static void
test_server_errors(void)
{
	struct test_api t;
	char big[20000];
	int n;

	test_api_start(&t, false);
	/* Head never ends and outgrows the limit. */
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(big + n, 'a', sizeof(big) - (size_t)n);
	test_api_expect_fail(&t, big, sizeof(big), 431);
	/* Declared body over max_body: refused before it is sent. */
	test_api_expect_fail(&t,
	    "POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5000\r\n\r\n",
	    0, 413);
	n = snprintf(big, sizeof(big),
	    "POST / HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "800\r\n");
	memset(big + n, 'b', 0x800);
	memcpy(big + n + 0x800, "\r\n", 2);
	test_api_expect_fail(&t, big, (size_t)n + 0x800 + 2, 413);
	test_api_expect_fail(&t, "BLAH\r\n\r\n", 0, 400);
	test_api_expect_fail(&t,
	    "GET / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: abc\r\n\r\n",
	    0, 400);
	test_api_expect_fail(&t, "GET / HTTP/1.1\r\n\r\n", 0, 400);
	T_EQ_INT(t.h.n, 0);
	T_ASSERT(api_server_stats(t.srv)->bad_requests >= 6);
	test_api_stop(&t);
}

/* Head deadline (408) and idle close, on the simulated clock. */
static void
test_timeouts_sim(void)
{
	struct test_api t;
	struct test_api_resp r;
	struct buf in;
	int slow, idle;
	char c;

	test_api_start(&t, true);
	buf_init(&in);
	slow = test_api_connect(&t);
	idle = test_api_connect(&t);
	TEST_API_SEND(slow, "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 5; i++)
		ev_run_once(t.loop, 0);
	ev_sim_advance(t.loop, 9999);
	T_EQ_INT(recv(slow, &c, 1, MSG_DONTWAIT), -1);
	ev_sim_advance(t.loop, 2);
	T_EQ_INT(test_api_parse(&in, &r), 0);
	{
		char tmp[4096];
		ssize_t n = recv(slow, tmp, sizeof(tmp), MSG_DONTWAIT);

		T_ASSERT(n > 0);
		buf_append(&in, tmp, (size_t)n);
	}
	T_EQ_INT(test_api_parse(&in, &r), 1);
	T_EQ_INT(r.status, 408);
	T_EQ_INT(recv(slow, &c, 1, MSG_DONTWAIT), 0);
	/* The idle connection lasts its full minute, then closes quietly. */
	T_EQ_INT(recv(idle, &c, 1, MSG_DONTWAIT), -1);
	ev_sim_advance(t.loop, 50000 - 2);
	T_EQ_INT(recv(idle, &c, 1, MSG_DONTWAIT), -1);
	ev_sim_advance(t.loop, 10000);
	T_EQ_INT(recv(idle, &c, 1, MSG_DONTWAIT), 0);
	T_EQ_INT(api_server_stats(t.srv)->timeouts, 2);
	buf_fini(&in);
	close(slow);
	close(idle);
	test_api_stop(&t);
}

/* A free loopback port (racy in theory; fine on a test machine). */
static void
test_api_tcp_addr(struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_EQ_INT(bind(fd, (struct sockaddr *)sin, len), 0);
	T_EQ_INT(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	close(fd);
}

/*
 * One request over TCP to ss: method, then the head lines given (each
 * ending in \r\n; Host: localhost unless given). Returns the status; *r
 * the rest.
 */
static int
test_api_tcp_req(struct test_api *t, const struct sockaddr_storage *ss,
    const char *method, const char *lines, struct test_api_resp *r)
{
	struct test_api_resp tmp;
	char req[512];
	struct buf in;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (r == NULL)
		r = &tmp;
	T_EQ_INT(connect(fd, (const struct sockaddr *)ss,
	             sizeof(struct sockaddr_in)),
	    0);
	(void)util_set_nonblock(fd);
	snprintf(req, sizeof(req), "%s /v1/x HTTP/1.1\r\n%s%s\r\n", method,
	    strstr(lines, "Host: ") ? "" : "Host: localhost\r\n", lines);
	buf_init(&in);
	TEST_API_SEND(fd, req);
	T_EQ_INT(test_api_read(t, fd, &in, r), 1);
	buf_fini(&in);
	close(fd);
	return r->status;
}

static int
test_api_tcp_status(
    struct test_api *t, const struct sockaddr_storage *ss, const char *auth)
{
	return test_api_tcp_req(t, ss, "GET", auth, NULL);
}

static const struct api_access test_api_tokens = {
	.token = "s3cret",
	.read_token = "look",
	.group = API_NO_GID,
	.read_group = API_NO_GID,
};

static void
test_bearer_token_tcp(void)
{
	struct sockaddr_storage ss;
	struct test_api t;
	struct test_api_resp r;
	const struct api_stats *st;

	test_api_start(&t, false);
	test_api_tcp_addr(&ss);
	T_EQ_INT(api_listen_tcp(t.srv, &ss, &test_api_tokens), 0);
	st = api_server_stats(t.srv);
	T_EQ_INT(test_api_tcp_req(&t, &ss, "GET", "", &r), 401);
	T_ASSERT(r.www_auth);
	T_EQ_INT(st->refused[API_REFUSE_NO_TOKEN], 1);
	T_EQ_INT(test_api_tcp_req(
	             &t, &ss, "GET", "Authorization: Bearer nope\r\n", &r),
	    401);
	T_ASSERT(r.www_auth);
	T_EQ_INT(
	    test_api_tcp_status(&t, &ss, "Authorization: Bearer s3cre\r\n"),
	    401);
	T_EQ_INT(
	    test_api_tcp_status(&t, &ss, "Authorization: Bearer s3cret2\r\n"),
	    401);
	/* Same length, one byte off: the bytes themselves are compared. */
	T_EQ_INT(
	    test_api_tcp_status(&t, &ss, "Authorization: Bearer s3creT\r\n"),
	    401);
	T_EQ_INT(
	    test_api_tcp_status(&t, &ss, "Authorization: s3cret\r\n"), 401);
	T_EQ_INT(t.h.n, 0);
	T_EQ_INT(st->refused[API_REFUSE_BAD_TOKEN], 5);
	T_EQ_INT(
	    test_api_tcp_status(&t, &ss, "Authorization: Bearer s3cret\r\n"),
	    200);
	T_EQ_INT(
	    test_api_tcp_status(&t, &ss, "Authorization: bearer s3cret\r\n"),
	    200);
	T_EQ_INT(t.h.n, 2);
	/* The unix socket, to root (us), needs no token. */
	test_api_once(&t, "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	T_EQ_INT(r.status, 200);
	test_api_stop(&t);
}

/*
 * The matrix: no token, read-only token, admin token, each with GET and
 * a writing method; only admin writes, only a known token reads.
 */
static void
test_levels_tcp(void)
{
	static const struct {
		const char *auth;
		int get, post;
	} rows[] = {
		{ "", 401, 401 },
		{ "Authorization: Bearer look\r\n", 200, 403 },
		{ "Authorization: Bearer s3cret\r\n", 200, 200 },
	};
	static const char *const writes[] = { "POST", "PUT", "DELETE" };
	struct sockaddr_storage ss;
	struct test_api t;
	struct test_api_resp r;
	const struct api_stats *st;

	test_api_start(&t, false);
	test_api_tcp_addr(&ss);
	T_EQ_INT(api_listen_tcp(t.srv, &ss, &test_api_tokens), 0);
	st = api_server_stats(t.srv);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		T_EQ_INT(test_api_tcp_req(&t, &ss, "GET", rows[i].auth, &r),
		    rows[i].get);
		T_EQ_INT(test_api_tcp_req(&t, &ss, "HEAD", rows[i].auth, &r),
		    rows[i].get);
		for (size_t k = 0; k < ARRAY_SIZE(writes); k++) {
			T_EQ_INT(test_api_tcp_req(
			             &t, &ss, writes[k], rows[i].auth, &r),
			    rows[i].post);
			T_EQ_INT(r.www_auth, rows[i].post == 401);
		}
	}
	T_EQ_INT(st->refused[API_REFUSE_NO_TOKEN], 5);
	T_EQ_INT(st->refused[API_REFUSE_READ_ONLY], 3);
	/* 2 + 2 reads, 3 admin writes reached the handler. */
	T_EQ_INT(t.h.n, 7);
	T_EQ_STR(api_refuse_name(API_REFUSE_READ_ONLY), "read_only");
	/* A reload takes the read token away: it stops working at once. */
	api_server_set_tcp_access(t.srv,
	    &(struct api_access){ .token = "s3cret",
	        .group = API_NO_GID,
	        .read_group = API_NO_GID });
	T_EQ_INT(test_api_tcp_status(&t, &ss, "Authorization: Bearer look\r\n"),
	    401);
	test_api_stop(&t);
}

/* The operator's waiver: every request on the listener is admin. */
static void
test_waiver_tcp(void)
{
	struct sockaddr_storage ss;
	struct test_api t;
	struct api_access a = {
		.no_token = true, .group = API_NO_GID, .read_group = API_NO_GID
	};

	test_api_start(&t, false);
	test_api_tcp_addr(&ss);
	T_EQ_INT(api_listen_tcp(t.srv, &ss, &a), 0);
	T_EQ_INT(test_api_tcp_req(&t, &ss, "POST", "", NULL), 200);
	T_EQ_INT(test_api_tcp_req(&t, &ss, "GET", "", NULL), 200);
	test_api_stop(&t);
}

/*
 * A browser names the page's origin and the host it thinks it talks to:
 * an Origin, or a Host other than ours, is refused even with a token.
 */
static void
test_origin_and_host(void)
{
	static const char *const names[] = { "api.example" };
	const char *admin = "Authorization: Bearer s3cret\r\n";
	struct sockaddr_storage ss;
	struct test_api t;
	struct test_api_resp r;
	struct api_access a = test_api_tokens;
	const struct api_stats *st;
	char lines[256];
	unsigned port;

	a.hosts = names;
	a.nhosts = 1;
	test_api_start(&t, false);
	test_api_tcp_addr(&ss);
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	T_EQ_INT(api_listen_tcp(t.srv, &ss, &a), 0);
	st = api_server_stats(t.srv);
	static const struct {
		const char *host; /* %u: our port */
		int status;
	} rows[] = {
		{ "127.0.0.1:%u", 200 },
		{ "127.0.0.1", 200 },
		{ "localhost:%u", 200 },
		{ "LocalHost", 200 },
		{ "api.example:%u", 200 },
		{ "evil.example:%u", 403 },
		{ "127.0.0.1.evil.example:%u", 403 },
		{ "127.0.0.2:%u", 403 },
		{ "127.0.0.1:1", 403 },
		{ "127.0.0.1:%u0", 403 },
		{ "[::1]:%u", 403 },
		{ "localhost:", 403 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char host[96];

		snprintf(host, sizeof(host), rows[i].host, port);
		snprintf(lines, sizeof(lines), "Host: %s\r\n%s", host, admin);
		T_EQ_INT(test_api_tcp_req(&t, &ss, "POST", lines, &r),
		    rows[i].status);
	}
	T_EQ_INT(st->refused[API_REFUSE_HOST], 7);
	snprintf(lines, sizeof(lines),
	    "Host: 127.0.0.1:%u\r\nOrigin: http://evil.example\r\n%s", port,
	    admin);
	T_EQ_INT(test_api_tcp_req(&t, &ss, "GET", lines, &r), 403);
	/* Even "null" and our own address: a page is a page. */
	snprintf(lines, sizeof(lines), "Origin: null\r\n%s", admin);
	T_EQ_INT(test_api_tcp_req(&t, &ss, "GET", lines, &r), 403);
	test_api_once(&t,
	    "POST /v1/x HTTP/1.1\r\nHost: x\r\nOrigin: http://127.0.0.1\r\n"
	    "Content-Length: 0\r\n\r\n",
	    &r);
	T_EQ_INT(r.status, 403);
	T_EQ_INT(st->refused[API_REFUSE_ORIGIN], 3);
	T_EQ_INT(t.h.n, 5);
	test_api_stop(&t);
}

/*
 * In a child: become uid/gid (nogroup's members only as given), send one
 * request on the unix socket, exit with the status / 100 * 10 + status %
 * 10 (200 → 20, 403 → 43), 1 if it cannot connect.
 */
static void
test_api_as_user(const char *sock, uid_t uid, gid_t gid, const char *method)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char req[128], resp[256];
	int fd, status = 0;
	ssize_t n;

	if (setgroups(0, NULL) == -1 || setgid(gid) == -1 || setuid(uid) == -1)
		_exit(2);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		_exit(1);
	snprintf(req, sizeof(req),
	    "%s /v1/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
	    "Content-Length: 0\r\n\r\n",
	    method);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		_exit(3);
	n = read(fd, resp, sizeof(resp) - 1);
	if (n <= 0)
		_exit(4);
	resp[n] = '\0';
	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		_exit(5);
	_exit(status / 100 * 10 + status % 10);
}

/* Run the child above while the loop serves it; its exit code. */
static int
test_api_run_as(struct test_api *t, uid_t uid, gid_t gid, const char *method)
{
	uint64_t end = util_mono_ms() + 5000;
	int st;
	pid_t pid = fork();

	T_ASSERT(pid != -1);
	if (pid == 0)
		test_api_as_user(t->sock, uid, gid, method);
	while (util_mono_ms() < end) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		ev_run_once(t->loop, 10);
	}
	kill(pid, SIGKILL);
	T_ASSERT(!"the child user's request timed out");
	return -1;
}

static void
test_api_restart_unix(struct test_api *t, const struct api_access *a)
{
	api_server_free(t->srv);
	t->srv = api_server_new(t->loop, test_api_handler, &t->h, 0);
	T_EQ_INT(api_listen_unix(t->srv, t->sock, a), 0);
}

/*
 * The unix socket: the kernel's word on the peer decides. Root is admin;
 * nobody is admin through the admin group, reads through the read group,
 * and is refused (403, counted) in neither.
 */
static void
test_unix_peer_levels(void)
{
	const uid_t nobody = 65534;
	const gid_t nogroup = 65534;
	struct api_access a = { .group = API_NO_GID, .read_group = API_NO_GID };
	struct test_api t;
	struct stat st;

	if (geteuid() != 0)
		T_SKIP("needs root to act as user nobody");
	test_api_start(&t, false);
	/* mkdtemp's 0700 would stop nobody before the socket does. */
	T_EQ_INT(chmod(t.dir, 0711), 0);
	/* No group: 0600, nobody cannot even connect. */
	T_EQ_INT(test_api_run_as(&t, nobody, nogroup, "GET"), 1);
	T_EQ_INT(test_api_run_as(&t, 0, 0, "POST"), 20);

	a.group = nogroup;
	test_api_restart_unix(&t, &a);
	T_ASSERT(stat(t.sock, &st) == 0);
	T_EQ_INT(st.st_mode & 0777, 0660);
	T_EQ_INT(st.st_gid, nogroup);
	T_EQ_INT(test_api_run_as(&t, nobody, nogroup, "POST"), 20);

	/* Read group: nobody reads, cannot write. */
	a.group = 0;
	a.read_group = nogroup;
	test_api_restart_unix(&t, &a);
	T_ASSERT(stat(t.sock, &st) == 0);
	T_EQ_INT(st.st_mode & 0777, 0666);
	T_EQ_INT(test_api_run_as(&t, nobody, nogroup, "GET"), 20);
	T_EQ_INT(test_api_run_as(&t, nobody, nogroup, "POST"), 43);
	T_EQ_INT(api_server_stats(t.srv)->refused[API_REFUSE_READ_ONLY], 1);

	/* In neither group: the file lets it connect, the check refuses. */
	a.group = 0;
	a.read_group = 0;
	test_api_restart_unix(&t, &a);
	T_EQ_INT(test_api_run_as(&t, nobody, nogroup, "GET"), 43);
	T_EQ_INT(test_api_run_as(&t, nobody, nogroup, "POST"), 43);
	T_EQ_INT(api_server_stats(t.srv)->refused[API_REFUSE_PEER], 2);
	/* Root needs no group. */
	T_EQ_INT(test_api_run_as(&t, 0, 0, "POST"), 20);
	test_api_stop(&t);
}

static void
test_connection_limit(void)
{
	enum {
		TEST_API_CONNS = 256
	};
	static int fds[TEST_API_CONNS + 1];
	struct test_api t;
	struct test_api_resp r;
	struct buf in;
	int extra;

	test_api_start(&t, false);
	for (int i = 0; i <= TEST_API_CONNS; i++) {
		fds[i] = test_api_connect(&t);
		ev_run_once(t.loop, 0); /* accept before the backlog fills */
	}
	T_EQ_INT(api_server_stats(t.srv)->accepted, TEST_API_CONNS + 1);
	T_EQ_INT(api_server_stats(t.srv)->conn_rejected, 1);
	/* The one over the limit is closed; the others still work. */
	T_ASSERT(test_api_eof(&t, fds[TEST_API_CONNS]));
	buf_init(&in);
	TEST_API_SEND(fds[0], "GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
	T_EQ_INT(test_api_read(&t, fds[0], &in, &r), 1);
	T_EQ_INT(r.status, 200);
	/* A freed slot can be used again. */
	close(fds[1]);
	for (int i = 0; i < 5; i++)
		ev_run_once(t.loop, 5);
	extra = test_api_connect(&t);
	TEST_API_SEND(extra, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
	T_EQ_INT(test_api_read(&t, extra, &in, &r), 1);
	T_EQ_STR(r.body, "{\"path\":\"/again\"}");
	T_EQ_INT(api_server_stats(t.srv)->conn_rejected, 1);
	buf_fini(&in);
	close(extra);
	for (int i = 0; i <= TEST_API_CONNS; i++)
		if (i != 1)
			close(fds[i]);
	test_api_stop(&t);
}

/*
 * A client that pipelines more than the input buffer holds while its
 * request is pending must not make the loop spin on a readable socket.
 */
static void
test_held_request_full_input(void)
{
	struct test_api t;
	struct test_api_resp r;
	struct ev_stats before, after;
	char junk[65536];
	struct buf in;
	ssize_t sent = 0;
	int fd;

	test_api_start(&t, false);
	t.h.hold = true;
	buf_init(&in);
	fd = test_api_connect(&t);
	TEST_API_SEND(fd, "GET /held HTTP/1.1\r\nHost: x\r\n\r\n");
	memset(junk, 'j', sizeof(junk));
	for (int i = 0; i < 5; i++)
		ev_run_once(t.loop, 5);
	T_EQ_INT(t.h.n, 1);
	while (sent < (ssize_t)sizeof(junk)) {
		ssize_t n = send(fd, junk, sizeof(junk) - (size_t)sent,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n <= 0)
			break;
		sent += n;
		ev_run_once(t.loop, 0);
	}
	T_ASSERT(sent > 16 * 1024 + TEST_API_MAX_BODY + 4096);
	ev_get_stats(t.loop, &before);
	for (int i = 0; i < 20; i++)
		ev_run_once(t.loop, 5);
	ev_get_stats(t.loop, &after);
	T_ASSERT(after.io_events - before.io_events < 5);
	/* Answered, the held request goes out; then the junk is refused. */
	api_reply(t.h.held, 200, NULL, "{}", 2);
	t.h.held = NULL;
	T_EQ_INT(test_api_read(&t, fd, &in, &r), 1);
	T_EQ_INT(r.status, 200);
	T_EQ_INT(test_api_read(&t, fd, &in, &r), 1);
	T_ASSERT(r.status == 400 || r.status == 431);
	buf_fini(&in);
	close(fd);
	test_api_stop(&t);
}

/*
 * A socket a server still listens on is neither stolen nor unlinked; one
 * nobody listens on (a crashed daemon's) is replaced.
 */
static void
test_unix_socket_not_stolen(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct api_server *other;
	struct test_api t;
	struct test_api_resp r;
	pid_t pid = -1;
	int fd;

	test_api_start(&t, false);
	T_EQ_INT(api_unix_probe(t.sock, &pid), -EADDRINUSE);
	T_EQ_INT(pid, getpid());
	other = api_server_new(t.loop, test_api_handler, &t.h, 0);
	T_EQ_INT(api_listen_unix(other, t.sock, NULL), -EADDRINUSE);
	api_server_free(other);
	/* The first server's socket is still there and answers. */
	test_api_once(&t, "GET /still HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	T_EQ_INT(r.status, 200);
	test_api_stop(&t);

	/* Stale: bound, then closed without unlink. */
	test_api_start(&t, false);
	api_server_free(t.srv);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t.sock);
	T_EQ_INT(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	T_EQ_INT(api_unix_probe(t.sock, &pid), 0);
	T_EQ_INT(pid, 0);
	t.srv = api_server_new(t.loop, test_api_handler, &t.h, 0);
	T_EQ_INT(api_listen_unix(t.srv, t.sock, NULL), 0);
	test_api_once(&t, "GET /new HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	T_EQ_INT(r.status, 200);
	test_api_stop(&t);
}

static const struct test tests[] = {
	TEST(test_get_keepalive_unix),
	TEST(test_request_bodies),
	TEST(test_path_decoding),
	TEST(test_async_reply),
	TEST(test_orphaned_request),
	TEST(test_pipelining_in_order),
	TEST(test_connection_close),
	TEST(test_server_errors),
	TEST(test_timeouts_sim),
	TEST(test_bearer_token_tcp),
	TEST(test_levels_tcp),
	TEST(test_waiver_tcp),
	TEST(test_origin_and_host),
	TEST(test_unix_peer_levels),
	TEST(test_connection_limit),
	TEST(test_held_request_full_input),
	TEST(test_unix_socket_not_stolen),
};

TEST_MAIN(tests)
