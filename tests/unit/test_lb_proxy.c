/*
 * Tests for the lb data path (lb_listener.c, lb_conn.c, lb_http.c,
 * lb_retry.c, lb_tcp.c) end to end on loopback: a real event loop runs the
 * proxy and two tiny HTTP backends written here; the test plays the client
 * with non-blocking sockets, turning the loop until its answer is complete.
 * The pools are lbcore's real ones (lb_runtime.c), fed UP verdicts.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "lb/lb_conn.h"
#include "lb/lb_proxy.h"
#include "lb/lb_runtime.h"
#include "lib/conf.h"
#include "lib/ipc.h"
#include "lib/plane.h"
#include "lib/util.h"
#include "runner.h"

/* The runtime under test: one per test process, as one per worker. */
static struct lb_runtime t_rt;

#define TB_MAX 2

/* A backend: answers every request with its name, keep-alive. */
struct tb {
	int lfd;
	unsigned port;
	struct ev_io io;
	unsigned requests;
	unsigned conns;
	bool close_after; /* close each connection after one response */
	bool chunked;     /* answer with a chunked body */
	char name[8];
	char last_head[2048];
};

struct tb_conn {
	struct tb *b; /* borrowed */
	struct ev_io io;
	bool echo; /* after a 101: echo bytes back */
	char buf[65536];
	size_t len;
};

static struct ev_loop *t_loop;
static struct lb_worker *t_w;        /* owned: the data path under test */
static struct tb_conn *t_conns[256]; /* owned: open backend connections */
static struct tb t_b[TB_MAX];
static unsigned t_port;
static bool t_stopped;
static bool t_sim; /* next t_setup runs on the simulated clock */

void
plane_stopped(void)
{
	t_stopped = true;
}

/* Length of a complete request at p (head + Content-Length or chunked). */
static size_t
tb_request_len(const char *p, size_t len)
{
	const char *e = memmem(p, len, "\r\n\r\n", 4), *cl, *z;
	size_t head;

	if (e == NULL)
		return 0;
	head = (size_t)(e - p) + 4;
	if ((cl = memmem(p, head, "Content-Length: ", 16)) != NULL) {
		size_t n = strtoul(cl + 16, NULL, 10);

		return len >= head + n ? head + n : 0;
	}
	if (memmem(p, head, "chunked", 7) != NULL) {
		z = memmem(p + head, len - head, "0\r\n\r\n", 5);
		return z != NULL ? (size_t)(z - p) + 5 : 0;
	}
	return head;
}

static void
tb_conn_free(struct tb_conn *tc)
{
	for (size_t i = 0; i < ARRAY_SIZE(t_conns); i++)
		if (t_conns[i] == tc)
			t_conns[i] = NULL;
	ev_io_stop(t_loop, &tc->io);
	close(tc->io.fd);
	free(tc);
}

static void
tb_conn_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct tb_conn *tc = arg;
	struct tb *b = tc->b;
	char resp[512];
	ssize_t n;
	size_t rl;
	int len;

	n = read(io->fd, tc->buf + tc->len, sizeof(tc->buf) - tc->len);
	if (n <= 0) {
		tb_conn_free(tc);
		return;
	}
	tc->len += (size_t)n;
	if (tc->echo) {
		T_ASSERT(write(io->fd, tc->buf, tc->len) == (ssize_t)tc->len);
		tc->len = 0;
		return;
	}
	while ((rl = tb_request_len(tc->buf, tc->len)) > 0) {
		b->requests++;
		snprintf(b->last_head, sizeof(b->last_head), "%.*s", (int)rl,
		    tc->buf);
		if (memmem(tc->buf, rl, "Upgrade: websocket", 18) != NULL) {
			static const char up[] =
			    "HTTP/1.1 101 Switching Protocols\r\n"
			    "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n";

			T_ASSERT(write(io->fd, up, sizeof(up) - 1) ==
			    sizeof(up) - 1);
			tc->echo = true;
			tc->len = 0;
			return;
		}
		if (b->chunked)
			len = snprintf(resp, sizeof(resp),
			    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			    "Connection: keep-alive\r\n\r\n2\r\n%.2s\r\n"
			    "%zx\r\n%s\r\n0\r\n\r\n",
			    b->name, strlen(b->name) - 2, b->name + 2);
		else
			len = snprintf(resp, sizeof(resp),
			    "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
			    "Connection: keep-alive\r\n\r\n%s",
			    strlen(b->name), b->name);
		T_ASSERT(write(io->fd, resp, (size_t)len) == len);
		memmove(tc->buf, tc->buf + rl, tc->len - rl);
		tc->len -= rl;
		if (b->close_after) {
			tb_conn_free(tc);
			return;
		}
	}
}

static void
tb_accept_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct tb *b = arg;
	struct tb_conn *tc;
	int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK);

	if (fd == -1)
		return;
	b->conns++;
	tc = xcalloc(1, sizeof(*tc));
	tc->b = b;
	for (size_t i = 0; i < ARRAY_SIZE(t_conns); i++) {
		if (t_conns[i] == NULL) {
			t_conns[i] = tc;
			break;
		}
	}
	ev_io_init(&tc->io, fd, tb_conn_cb, tc);
	ev_io_start(t_loop, &tc->io, EV_READ);
}

static int
t_listen(unsigned *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	T_ASSERT(listen(fd, 64) == 0);
	T_ASSERT(getsockname(fd, (struct sockaddr *)&sin, &sl) == 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
tb_start(struct tb *b, const char *name)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->lfd = t_listen(&b->port);
	ev_io_init(&b->io, b->lfd, tb_accept_cb, b);
	ev_io_start(t_loop, &b->io, EV_READ);
}

/* Kill a backend: nothing listens on its port any more. */
static void
tb_kill(struct tb *b)
{
	ev_io_stop(t_loop, &b->io);
	close(b->lfd);
}

static struct lb_conf t_conf;
static int t_lfd = -1; /* the listener's socket; the lb holds a dup */
static struct plane_sock t_own = { .name = "web" };

static void
t_verdict(const char *target, enum hc_state st)
{
	struct ipc_verdict v;

	memset(&v, 0, sizeof(v));
	snprintf(v.target, sizeof(v.target), "%s", target);
	v.state = st;
	lb_runtime_verdict(&t_rt, &v);
}

/* Proxy on a free port in front of both backends; extra: listener keys. */
static void
t_setup(const char *mode, const char *extra, const char *pool_extra)
{
	char yaml[2048];
	struct conf_errors errs;

	t_loop = t_sim ? ev_loop_new_sim(1000000) : ev_loop_new();
	t_w = lb_worker_new(t_loop, &t_rt);
	lb_runtime_init(&t_rt, t_loop);
	tb_start(&t_b[0], "b0");
	tb_start(&t_b[1], "b1");
	/* The listener's socket, as the parent would send it. */
	t_lfd = t_listen(&t_port);
	snprintf(yaml, sizeof(yaml),
	    "listeners:\n"
	    "  - { name: web, bind: 127.0.0.1:%u, mode: %s, pool: web%s }\n"
	    "pools:\n"
	    "  - name: web\n"
	    "    all_down_body: \"all gone\\n\"\n%s"
	    "    servers:\n"
	    "      - { name: b0, address: 127.0.0.1:%u }\n"
	    "      - { name: b1, address: 127.0.0.1:%u }\n",
	    t_port, mode, extra, pool_extra, t_b[0].port, t_b[1].port);
	conf_errors_init(&errs);
	if (conf_bind_text(&lb_conf_schema, "t.yaml", yaml, strlen(yaml),
	        &t_conf, &errs) != 0) {
		conf_errors_print(&errs, stdout);
		T_ASSERT(0);
	}
	T_EQ_INT(lb_runtime_apply(&t_rt, &t_conf), 0);
	t_verdict("web/b0", HC_UP);
	t_verdict("web/b1", HC_UP);
	t_own.fd = t_lfd;
	T_EQ_INT(lb_proxy_apply(t_w, NULL, &t_conf, &t_own, 1, &errs), 0);
	conf_errors_fini(&errs);
}

static int
t_connect(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)t_port);
	T_ASSERT(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
	    errno == EINPROGRESS);
	return fd;
}

static void
t_send(int fd, const char *s)
{
	size_t n = strlen(s), off = 0;
	ssize_t w;
	uint64_t end = util_mono_ms() + 2000;

	while (off < n && util_mono_ms() < end) {
		w = write(fd, s + off, n - off);
		if (w > 0)
			off += (size_t)w;
		ev_run_once(t_loop, 5);
	}
	T_EQ_INT(off, n);
}

/*
 * Turn the loop until want responses (heads with Content-Length) or EOF
 * arrived on fd; returns the bytes read into out (NUL-terminated).
 */
static size_t
t_recv(int fd, char *out, size_t cap, unsigned want, bool *eof)
{
	uint64_t end = util_mono_ms() + 3000;
	size_t len = 0;
	unsigned got = 0;
	ssize_t n;

	*eof = false;
	while (got < want && !*eof && util_mono_ms() < end) {
		ev_run_once(t_loop, 5);
		while ((n = read(fd, out + len, cap - 1 - len)) > 0)
			len += (size_t)n;
		if (n == 0)
			*eof = true;
		out[len] = '\0';
		got = 0;
		for (const char *p = out; (p = strstr(p, "HTTP/1.1 ")) != NULL;
		     p++) {
			const char *h = strstr(p, "\r\n\r\n");
			const char *cl = strstr(p, "ontent-length: ");

			if (h == NULL)
				break;
			if (cl == NULL || cl > h)
				cl = strstr(p, "ontent-Length: ");
			if (cl != NULL && cl < h &&
			    (size_t)(out + len - (h + 4)) <
			        strtoul(cl + 15, NULL, 10))
				break;
			got++;
		}
	}
	return len;
}

/* Turn the loop until needle shows up in what fd sent (3 s at most). */
static void
t_recv_until(int fd, char *out, size_t cap, const char *needle)
{
	uint64_t end = util_mono_ms() + 3000;
	size_t len = 0;
	ssize_t n;

	out[0] = '\0';
	while (strstr(out, needle) == NULL && util_mono_ms() < end) {
		ev_run_once(t_loop, 5);
		while ((n = read(fd, out + len, cap - 1 - len)) > 0)
			len += (size_t)n;
		out[len] = '\0';
	}
}

static void
t_teardown(void)
{
	lb_proxy_stop(t_w, 1000);
	for (int i = 0; i < 200 && !t_stopped; i++)
		ev_run_once(t_loop, 5);
	T_ASSERT(t_stopped);
	lb_worker_free(t_w);
	t_w = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(t_conns); i++)
		if (t_conns[i] != NULL)
			tb_conn_free(t_conns[i]);
	close(t_lfd);
	t_lfd = -1;
}

static void
test_keepalive_roundrobin(void)
{
	char out[4096];
	bool eof;
	int fd;

	t_setup("http", "", "");
	fd = t_connect();
	t_send(fd,
	    "GET /a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n"
	    "X-Forwarded-For: 203.0.113.9\r\nKeep-Alive: 5\r\n\r\n");
	t_recv(fd, out, sizeof(out), 1, &eof);
	T_ASSERT(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	T_ASSERT(!eof);
	/* Hop-by-hop headers stay behind, X-Forwarded-* are ours. */
	T_ASSERT(strstr(out, "Connection: keep-alive") == NULL);
	{
		struct tb *b = t_b[0].requests ? &t_b[0] : &t_b[1];

		T_ASSERT(
		    strstr(b->last_head,
		        "X-Forwarded-For: 203.0.113.9, 127.0.0.1\r\n") != NULL);
		T_ASSERT(strstr(b->last_head, "X-Forwarded-Proto: http\r\n"));
		T_ASSERT(strstr(b->last_head, "Keep-Alive") == NULL);
		T_ASSERT(strstr(b->last_head, "GET /a HTTP/1.1\r\n") ==
		    b->last_head);
	}
	t_send(fd, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
	t_recv(fd, out, sizeof(out), 1, &eof);
	T_ASSERT(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	/* Round robin: one request each. */
	T_EQ_INT(t_b[0].requests, 1);
	T_EQ_INT(t_b[1].requests, 1);
	T_EQ_INT(lb_proxy_nconn(t_w), 1);
	close(fd);
	t_teardown();
}

static int
t_connect_port(unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	T_ASSERT(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
	    errno == EINPROGRESS);
	return fd;
}

/*
 * A down worker's socket handed over as adopted is drained (its queued
 * client gets its answer) and counted; once its worker is back and the set
 * no longer lists it, this worker leaves it alone.
 */
static void
test_adopted_socket(void)
{
	struct plane_sock socks[2];
	unsigned port2;
	char out[4096];
	bool eof;
	int other, fd;

	t_setup("http", "", "");
	other = t_listen(&port2);
	/* A client queued on the other worker's socket before it died. */
	fd = t_connect_port(port2);
	socks[0] = t_own;
	socks[1] = (struct plane_sock){
		.name = "web", .slot = 1, .adopted = true, .fd = other
	};
	lb_proxy_adopt(t_w, socks, 2);
	t_send(fd, "GET /q HTTP/1.1\r\nHost: x\r\n\r\n");
	t_recv(fd, out, sizeof(out), 1, &eof);
	T_ASSERT(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	T_EQ_INT(lb_listener_first(t_w)->st.accepted_adopted, 1);
	T_EQ_INT(lb_listener_first(t_w)->st.adopted, 1);
	close(fd);
	/* Back: not ours any more, a new client there waits for its worker. */
	lb_proxy_adopt(t_w, &t_own, 1);
	fd = t_connect_port(port2);
	t_send(fd, "GET /r HTTP/1.1\r\nHost: x\r\n\r\n");
	for (int i = 0; i < 40; i++)
		ev_run_once(t_loop, 5);
	T_EQ_INT(read(fd, out, sizeof(out)), -1);
	T_EQ_INT(lb_listener_first(t_w)->st.accepted_adopted, 1);
	close(fd);
	close(other);
	t_teardown();
}

static void
test_pipelined_and_pooled(void)
{
	char out[8192];
	bool eof;
	int fd;

	t_setup("http", "", "");
	fd = t_connect();
	t_send(fd,
	    "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /4 HTTP/1.1\r\nHost: x\r\n\r\n");
	t_recv(fd, out, sizeof(out), 4, &eof);
	T_EQ_INT(t_b[0].requests + t_b[1].requests, 4);
	/* In order, one per request. */
	T_ASSERT(strstr(out, "b0HTTP/1.1 200 OK") != NULL ||
	    strstr(out, "b1HTTP/1.1 200 OK") != NULL);
	/* Server connections were pooled and reused. */
	T_EQ_INT(t_b[0].conns, 1);
	T_EQ_INT(t_b[1].conns, 1);
	close(fd);
	t_teardown();
}

static void
test_dead_backend_retried(void)
{
	char out[4096];
	bool eof;
	int fd, i;

	t_setup("http", "", "");
	tb_kill(&t_b[0]);
	for (i = 0; i < 6; i++) {
		fd = t_connect();
		t_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
		t_recv(fd, out, sizeof(out), 1, &eof);
		/* Connect refused: retried elsewhere, never an error. */
		T_ASSERT(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
		T_ASSERT(strstr(out, "\r\n\r\nb1") != NULL);
		close(fd);
	}
	T_EQ_INT(t_b[1].requests, 6);
	T_ASSERT(lb_listener_first(t_w)->st.retries >= 1);
	t_teardown();
}

static void
test_stale_pooled_conn_retried(void)
{
	char out[4096];
	bool eof;
	int fd;

	t_setup("http", "", "");
	t_b[0].close_after = t_b[1].close_after = true;
	fd = t_connect();
	for (int i = 0; i < 4; i++) {
		t_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
		t_recv(fd, out, sizeof(out), 1, &eof);
		T_ASSERT(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	}
	close(fd);
	t_teardown();
}

static void
test_bad_requests(void)
{
	char out[65536], big[20000];
	bool eof;
	int fd;

	t_setup("http", ", max_header_size: 8k", "");
	fd = t_connect();
	t_send(fd,
	    "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	t_recv(fd, out, sizeof(out), 1, &eof);
	T_ASSERT(strncmp(out, "HTTP/1.1 400 ", 13) == 0);
	t_recv(fd, out, sizeof(out), 2, &eof);
	T_ASSERT(eof);
	close(fd);

	fd = t_connect();
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ", 32);
	big[sizeof(big) - 1] = '\0';
	t_send(fd, big);
	t_recv(fd, out, sizeof(out), 1, &eof);
	T_ASSERT(strncmp(out, "HTTP/1.1 431 ", 13) == 0);
	close(fd);

	fd = t_connect();
	t_send(fd, "GET / HTTP/2.0\r\nHost: x\r\n\r\n");
	t_recv(fd, out, sizeof(out), 1, &eof);
	T_ASSERT(strncmp(out, "HTTP/1.1 505 ", 13) == 0);
	close(fd);
	T_EQ_INT(t_b[0].requests + t_b[1].requests, 0);
	T_ASSERT(lb_listener_first(t_w)->st.term[LB_TERM_BAD_REQUEST] == 3);
	t_teardown();
}

static void
test_chunked_both_ways(void)
{
	char out[4096];
	bool eof;
	int fd;

	t_setup("http", "", "");
	t_b[0].chunked = t_b[1].chunked = true;
	fd = t_connect();
	t_send(fd,
	    "POST /up HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n0\r\n\r\n");
	/* Chunked response: wait for the last chunk. */
	t_recv_until(fd, out, sizeof(out), "\r\n0\r\n\r\n");
	T_ASSERT(strstr(out, "Transfer-Encoding: chunked") != NULL);
	T_ASSERT(strstr(out, "\r\n2\r\nb") != NULL);
	{
		struct tb *b = t_b[0].requests ? &t_b[0] : &t_b[1];

		T_ASSERT(strstr(b->last_head, "5\r\nhello\r\n0\r\n\r\n"));
	}
	/* The connection is still usable. */
	t_b[0].chunked = t_b[1].chunked = false;
	t_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	t_recv(fd, out, sizeof(out), 1, &eof);
	T_ASSERT(
	    strncmp(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", 36) == 0);
	close(fd);
	t_teardown();
}

static void
test_all_down(void)
{
	char out[4096];
	bool eof;
	int fd;

	t_setup("http", "", "");
	t_verdict("web/b0", HC_DOWN);
	t_verdict("web/b1", HC_DOWN);
	fd = t_connect();
	t_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	t_recv(fd, out, sizeof(out), 1, &eof);
	T_ASSERT(strncmp(out, "HTTP/1.1 503 ", 13) == 0);
	T_ASSERT(strstr(out, "\r\n\r\nall gone\n") != NULL);
	close(fd);
	t_teardown();
}

static void
test_tcp_relay(void)
{
	char out[4096];
	bool eof;
	int fd;

	/* The HTTP backends answer through a mode tcp listener unchanged. */
	t_setup("tcp", "", "");
	fd = t_connect();
	t_send(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	t_recv(fd, out, sizeof(out), 1, &eof);
	T_ASSERT(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	/* Nothing rewritten at L4. */
	T_ASSERT(strstr(out, "Connection: keep-alive") != NULL);
	close(fd);
	t_teardown();
}

/* Turn the loop for ms; returns the bytes that arrived on fd meanwhile. */
static size_t
t_quiet(int fd, unsigned ms)
{
	uint64_t end = util_mono_ms() + ms;
	char buf[512];
	size_t got = 0;
	ssize_t n;

	while (util_mono_ms() < end) {
		ev_run_once(t_loop, 5);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			got += (size_t)n;
		if (n == 0)
			got++; /* EOF counts: the client was not left waiting */
	}
	return got;
}

/*
 * The effective max_conn comes from RLIMIT_NOFILE: two descriptors per
 * connection (six with splice: a pipe per direction) once the reserve (32
 * for the process, one per listener, keepalive x servers per pool) is set
 * aside. The test runs with a soft limit of 200; returns the listener's
 * effective max_conn.
 */
#define T_NOFILE  200
#define T_RESERVE (32 + 1 + 4 * 2)

static unsigned
t_maxconn_at_nofile(const char *mode, const char *extra)
{
	struct rlimit rl;
	unsigned eff;

	T_ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	rl.rlim_cur = T_NOFILE;
	T_ASSERT(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	t_setup(mode, extra, "    keepalive: 4\n");
	eff = lb_listener_first(t_w)->max_conn_eff;
	T_EQ_INT(lb_limit_max_conn(t_w), eff);
	t_teardown();
	return eff;
}

static void
test_maxconn_from_nofile(void)
{
	T_EQ_INT(t_maxconn_at_nofile("http", ""), (T_NOFILE - T_RESERVE) / 2);
}

static void
test_maxconn_from_nofile_splice(void)
{
	T_EQ_INT(t_maxconn_at_nofile("tcp", ", splice: true"),
	    (T_NOFILE - T_RESERVE) / 6);
}

/* A max_conn within the budget is kept as it is. */
static void
test_maxconn_within_nofile(void)
{
	T_EQ_INT(
	    t_maxconn_at_nofile("tcp", ", splice: true, max_conn: 10"), 10);
}

/*
 * Out of descriptors at accept (EMFILE): the listener pauses instead of
 * spinning, counts the error once, and accepts again after its retry
 * delay once descriptors are back; the client waited in the queue.
 */
static void
test_accept_emfile_pauses(void)
{
	struct rlimit rl, low;
	char out[256];
	bool eof;
	int fd, spare;

	t_setup("http", "", "");
	fd = t_connect();
	/* No descriptor left for the next accept (lowest free is spare). */
	T_ASSERT((spare = dup(0)) != -1);
	close(spare);
	T_ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	low = rl;
	low.rlim_cur = (rlim_t)spare;
	T_ASSERT(setrlimit(RLIMIT_NOFILE, &low) == 0);
	t_send(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	T_EQ_INT(t_quiet(fd, 300), 0);
	T_EQ_INT(lb_listener_first(t_w)->st.accept_errors, 1);
	T_EQ_INT(lb_listener_first(t_w)->paused, LB_PAUSE_ACCEPT_ERROR);
	T_EQ_INT(
	    lb_listener_first(t_w)->st.accept_paused[LB_PAUSE_ACCEPT_ERROR], 1);
	T_ASSERT(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	t_recv(fd, out, sizeof(out), 1, &eof);
	T_ASSERT(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	T_EQ_INT(lb_listener_first(t_w)->st.accept_errors, 1);
	T_EQ_INT(lb_listener_first(t_w)->paused, LB_PAUSE_NONE);
	close(fd);
	t_teardown();
}

static void
test_maxconn_and_stop(void)
{
	char out[256];
	bool eof;
	int fd[3];

	t_setup("http", ", max_conn: 2", "");
	for (int i = 0; i < 3; i++)
		fd[i] = t_connect();
	t_send(fd[0], "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	t_recv(fd[0], out, sizeof(out), 1, &eof);
	t_send(fd[1], "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	t_recv(fd[1], out, sizeof(out), 1, &eof);
	t_send(fd[2], "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	/* The third one waits in the accept queue: not accepted, not cut. */
	T_EQ_INT(t_quiet(fd[2], 300), 0);
	T_EQ_INT(lb_listener_first(t_w)->paused, LB_PAUSE_MAX_CONN);
	T_EQ_INT(
	    lb_listener_first(t_w)->st.accept_paused[LB_PAUSE_MAX_CONN], 1);
	T_EQ_INT(lb_proxy_nconn(t_w), 2);
	/* One closes: accepting resumes and the third is served. */
	close(fd[0]);
	t_recv(fd[2], out, sizeof(out), 1, &eof);
	T_ASSERT(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	/* Back at two: paused again until the next one closes. */
	T_EQ_INT(lb_proxy_nconn(t_w), 2);
	T_EQ_INT(
	    lb_listener_first(t_w)->st.accept_paused[LB_PAUSE_MAX_CONN], 2);
	/* Stop: idle keep-alive connections close, the worker drains. */
	lb_proxy_stop(t_w, 1000);
	for (int i = 0; i < 100 && !t_stopped; i++)
		ev_run_once(t_loop, 5);
	T_ASSERT(t_stopped);
	T_EQ_INT(lb_proxy_nconn(t_w), 0);
	for (size_t i = 0; i < ARRAY_SIZE(t_conns); i++)
		if (t_conns[i] != NULL)
			tb_conn_free(t_conns[i]);
}

static void
test_accept_and_send_proxy(void)
{
	char out[4096];
	bool eof;
	int fd;

	t_setup("http", ", accept_proxy: true", "    send_proxy: v1\n");
	fd = t_connect();
	t_send(fd,
	    "PROXY TCP4 198.18.0.5 198.18.0.1 4242 80\r\n"
	    "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	t_recv(fd, out, sizeof(out), 1, &eof);
	T_ASSERT(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	{
		struct tb *b = t_b[0].requests ? &t_b[0] : &t_b[1];

		/* The announced client is the one passed on, both ways. */
		T_ASSERT(strncmp(b->last_head,
		             "PROXY TCP4 198.18.0.5 198.18.0.1 4242 80\r\n",
		             42) == 0);
		T_ASSERT(strstr(b->last_head,
		             "X-Forwarded-For: 198.18.0.5\r\n") != NULL);
	}
	close(fd);
	fd = t_connect();
	t_send(fd, "PROXY TCP4 nonsense\r\nGET / HTTP/1.1\r\n\r\n");
	t_recv(fd, out, sizeof(out), 1, &eof);
	T_ASSERT(eof && out[0] == '\0');
	T_EQ_INT(lb_listener_first(t_w)->st.term[LB_TERM_PROXYPROTO], 1);
	close(fd);
	t_teardown();
}

static void
test_upgrade_tunnel(void)
{
	char out[4096];
	int fd;

	t_setup("http", "", "");
	fd = t_connect();
	t_send(fd,
	    "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n");
	t_recv_until(fd, out, sizeof(out), "\r\n\r\n");
	T_ASSERT(strncmp(out, "HTTP/1.1 101 ", 13) == 0);
	T_ASSERT(strstr(out, "Upgrade: websocket\r\n") != NULL);
	{
		struct tb *b = t_b[0].requests ? &t_b[0] : &t_b[1];

		T_ASSERT(strstr(b->last_head, "Upgrade: websocket\r\n"));
		T_ASSERT(strstr(b->last_head, "Connection: upgrade\r\n"));
	}
	t_send(fd, "ping-frame");
	t_recv_until(fd, out, sizeof(out), "ping-frame");
	T_EQ_STR(out, "ping-frame");
	close(fd);
	t_teardown();
}

static void
test_header_timeout_sim(void)
{
	char out[4096];
	bool eof;
	int fd;

	/* Slowloris: a head that never ends is answered 408 at 2 s. */
	t_sim = true;
	t_setup("http", ", header_timeout: 2s", "");
	fd = t_connect();
	t_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n");
	{
		uint64_t t0 = ev_now_ms(t_loop);

		t_recv(fd, out, sizeof(out), 1, &eof);
		T_ASSERT(strncmp(out, "HTTP/1.1 408 ", 13) == 0);
		T_ASSERT(ev_now_ms(t_loop) - t0 >= 2000);
		T_ASSERT(ev_now_ms(t_loop) - t0 < 2100);
	}
	T_EQ_INT(lb_listener_first(t_w)->st.term[LB_TERM_HEADER_TIMEOUT], 1);
	close(fd);
	t_teardown();
}

static const struct test tests[] = {
	TEST(test_accept_and_send_proxy),
	TEST(test_upgrade_tunnel),
	TEST(test_header_timeout_sim),
	TEST(test_keepalive_roundrobin),
	TEST(test_pipelined_and_pooled),
	TEST(test_dead_backend_retried),
	TEST(test_stale_pooled_conn_retried),
	TEST(test_bad_requests),
	TEST(test_chunked_both_ways),
	TEST(test_all_down),
	TEST(test_tcp_relay),
	TEST(test_maxconn_and_stop),
	TEST(test_maxconn_from_nofile),
	TEST(test_maxconn_from_nofile_splice),
	TEST(test_maxconn_within_nofile),
	TEST(test_accept_emfile_pauses),
	TEST(test_adopted_socket),
};

TEST_MAIN(tests)
