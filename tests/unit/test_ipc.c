/*
 * Unit tests for ipc.c: typed messages over a SOCK_SEQPACKET pair on a real
 * event loop. Covered: boundaries and order, gathered payloads, descriptor
 * passing (and that no copy leaks), memfd payloads past IPC_INLINE_MAX, the
 * user-space queue behind a slow peer and its limit, peer death reported
 * once as a NULL message, and malformed packets counted and dropped without
 * hurting the channel.
 *
 * Payload bytes follow a pattern derived from the message id, so the
 * receiver checks every byte without keeping copies. Waits are bounded:
 * TEST_IPC_WAIT gives up after three seconds and the assertion after it
 * fails.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "lib/ipc.h"
#include "lib/util.h"
#include "runner.h"

#define TEST_IPC_WAIT(loop, cond)                                              \
	do {                                                                   \
		uint64_t _end = util_mono_ms() + 3000;                         \
		while (!(cond) && util_mono_ms() < _end)                       \
			ev_run_once((loop), 10);                               \
	} while (0)

struct test_ipc_rx {
	int n;         /* messages received */
	int closed;    /* NULL messages received */
	int bad_order; /* ids not 1, 2, 3... (when in_order) */
	int bad_bytes; /* payloads not matching the id's pattern */
	bool in_order;
	bool pattern;
	enum ipc_type type; /* of the last message */
	uint32_t id;
	size_t len;
	int fd;          /* owned: last passed descriptor, -1 if none */
	uint8_t last;    /* last payload byte (read to prove it maps) */
	char first[256]; /* first bytes of the last payload */
};

static uint8_t
test_ipc_byte(uint32_t id, size_t i)
{
	return (uint8_t)(id * 31 + i + i / 253);
}

static char *
test_ipc_payload(uint32_t id, size_t len)
{
	char *p = xmalloc(len ? len : 1);

	for (size_t i = 0; i < len; i++)
		p[i] = (char)test_ipc_byte(id, i);
	return p;
}

static void
test_ipc_recv(struct ipc_chan *ch, const struct ipc_msg *m, void *arg)
{
	struct test_ipc_rx *rx = arg;
	const uint8_t *d;

	if (m == NULL) {
		rx->closed++;
		return;
	}
	d = m->data;
	rx->n++;
	if (rx->in_order && m->id != (uint32_t)rx->n)
		rx->bad_order++;
	if (rx->pattern) {
		/* The whole payload must be readable, last byte included. */
		if (m->len > 0)
			rx->last = d[m->len - 1];
		for (size_t i = 0; i < m->len; i++) {
			if (d[i] != test_ipc_byte(m->id, i)) {
				rx->bad_bytes++;
				break;
			}
		}
	}
	rx->type = m->type;
	rx->id = m->id;
	rx->len = m->len;
	memset(rx->first, 0, sizeof(rx->first));
	if (m->len > 0)
		memcpy(rx->first, m->data, MIN(m->len, sizeof(rx->first)));
	if (rx->fd != -1)
		close(rx->fd);
	rx->fd = m->fd;
}

static void
test_ipc_rx_init(struct test_ipc_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	rx->fd = -1;
}

/* Write one raw packet, optionally with a descriptor, bypassing ipc.c. */
static void
test_ipc_raw(int fd, const void *data, size_t len, int pass_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)data, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass_fd != -1) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	T_EQ_INT(sendmsg(fd, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

static void
test_roundtrip(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct ipc_verdict v = { .target = "web/s1",
		.state = 2,
		.reason = 5,
		.since_ms = 123456789 };
	struct ipc_query q = {
		.method = "POST", .path = "/v1/x", .body_len = 4
	};
	struct ipc_chan a, b;
	struct test_ipc_rx ra, rb;
	int fds[2];

	test_ipc_rx_init(&ra);
	test_ipc_rx_init(&rb);
	T_EQ_INT(ipc_pair(fds), 0);
	ipc_chan_init(&a, loop, fds[0], test_ipc_recv, &ra);
	ipc_chan_init(&b, loop, fds[1], test_ipc_recv, &rb);

	T_EQ_INT(ipc_send(&a, IPC_VERDICT, 42, &v, sizeof(v), -1), 0);
	TEST_IPC_WAIT(loop, rb.n == 1);
	T_EQ_INT(rb.n, 1);
	T_EQ_INT(rb.type, IPC_VERDICT);
	T_EQ_INT(rb.id, 42);
	T_EQ_INT(rb.len, sizeof(v));
	T_ASSERT(memcmp(rb.first, &v, sizeof(v)) == 0);
	T_EQ_INT(rb.fd, -1);
	T_EQ_INT(a.tx_msgs, 1);
	T_EQ_INT(b.rx_msgs, 1);

	/* Struct and body arrive as one contiguous payload. */
	T_EQ_INT(ipc_send2(&b, IPC_QUERY, 7, &q, sizeof(q), "ping", 4, -1), 0);
	TEST_IPC_WAIT(loop, ra.n == 1);
	T_EQ_INT(ra.type, IPC_QUERY);
	T_EQ_INT(ra.len, sizeof(q) + 4);

	/* An empty message is still a message. */
	T_EQ_INT(ipc_send(&a, IPC_READY, 0, NULL, 0, -1), 0);
	TEST_IPC_WAIT(loop, rb.n == 2);
	T_EQ_INT(rb.type, IPC_READY);
	T_EQ_INT(rb.len, 0);
	T_EQ_INT(ra.closed + rb.closed, 0);

	ipc_chan_fini(&a);
	ipc_chan_fini(&a); /* idempotent */
	ipc_chan_fini(&b);
	ev_loop_free(loop);
}

static void
test_gathered_body_bytes(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct ipc_reply r = {
		.status = 200, .content_type = "text/plain", .body_len = 5
	};
	struct ipc_chan a, b;
	struct test_ipc_rx rb;
	int fds[2];

	test_ipc_rx_init(&rb);
	T_EQ_INT(ipc_pair(fds), 0);
	ipc_chan_init(&a, loop, fds[0], test_ipc_recv, NULL);
	ipc_chan_init(&b, loop, fds[1], test_ipc_recv, &rb);
	T_EQ_INT(ipc_send2(&a, IPC_REPLY, 3, &r, sizeof(r), "hello", 5, -1), 0);
	TEST_IPC_WAIT(loop, rb.n == 1);
	T_EQ_INT(rb.len, sizeof(r) + 5);
	T_ASSERT(memcmp(rb.first, &r, sizeof(r)) == 0);
	T_ASSERT(memcmp(rb.first + sizeof(r), "hello", 5) == 0);
	ipc_chan_fini(&a);
	ipc_chan_fini(&b);
	ev_loop_free(loop);
}

static void
test_many_in_order(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct ipc_chan a, b;
	struct test_ipc_rx rb;
	int fds[2];

	test_ipc_rx_init(&rb);
	rb.in_order = rb.pattern = true;
	T_EQ_INT(ipc_pair(fds), 0);
	ipc_chan_init(&a, loop, fds[0], test_ipc_recv, NULL);
	ipc_chan_init(&b, loop, fds[1], test_ipc_recv, &rb);
	for (uint32_t id = 1; id <= 500; id++) {
		size_t len = (id * 97) % 4000;
		char *p = test_ipc_payload(id, len);

		T_EQ_INT(ipc_send(&a, IPC_VERDICT, id, p, len, -1), 0);
		free(p);
	}
	TEST_IPC_WAIT(loop, rb.n == 500);
	T_EQ_INT(rb.n, 500);
	T_EQ_INT(rb.bad_order, 0);
	T_EQ_INT(rb.bad_bytes, 0);
	T_EQ_INT(b.rx_bad, 0);
	ipc_chan_fini(&a);
	ipc_chan_fini(&b);
	ev_loop_free(loop);
}

/* The descriptor arrives, works, and no stray copy keeps the pipe open. */
static void
test_fd_passing(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct ipc_listener l = { .name = "web" };
	struct ipc_chan a, b;
	struct test_ipc_rx rb;
	int fds[2], p[2];
	char c;

	test_ipc_rx_init(&rb);
	T_EQ_INT(ipc_pair(fds), 0);
	T_ASSERT(pipe(p) == 0);
	ipc_chan_init(&a, loop, fds[0], test_ipc_recv, NULL);
	ipc_chan_init(&b, loop, fds[1], test_ipc_recv, &rb);
	T_EQ_INT(ipc_send(&a, IPC_LISTENER, 1, &l, sizeof(l), p[1]), 0);
	/* The caller keeps its own descriptor. */
	T_ASSERT(fcntl(p[1], F_GETFD) != -1);
	TEST_IPC_WAIT(loop, rb.n == 1);
	T_ASSERT(rb.fd != -1 && rb.fd != p[1]);
	T_EQ_STR(rb.first, "web");
	T_EQ_INT(write(rb.fd, "x", 1), 1);
	T_EQ_INT(read(p[0], &c, 1), 1);
	T_ASSERT(c == 'x');
	close(rb.fd);
	close(p[1]);
	T_EQ_INT(read(p[0], &c, 1), 0); /* every write end is closed */
	close(p[0]);
	ipc_chan_fini(&a);
	ipc_chan_fini(&b);
	ev_loop_free(loop);
}

static void
test_memfd_payloads(void)
{
	static const size_t sizes[] = { IPC_INLINE_MAX - sizeof(struct ipc_hdr),
		IPC_INLINE_MAX, IPC_INLINE_MAX + 1, 4 << 20 };
	struct ev_loop *loop = ev_loop_new();
	struct ipc_chan a, b;
	struct test_ipc_rx rb;
	int fds[2], p[2];
	char c, *big;

	test_ipc_rx_init(&rb);
	rb.in_order = rb.pattern = true;
	T_EQ_INT(ipc_pair(fds), 0);
	ipc_chan_init(&a, loop, fds[0], test_ipc_recv, NULL);
	ipc_chan_init(&b, loop, fds[1], test_ipc_recv, &rb);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char *d = test_ipc_payload((uint32_t)i + 1, sizes[i]);

		T_EQ_INT(
		    ipc_send(&a, IPC_CONFIG, (uint32_t)i + 1, d, sizes[i], -1),
		    0);
		free(d);
		TEST_IPC_WAIT(loop, rb.n == (int)i + 1);
		T_EQ_INT(rb.n, i + 1);
		T_EQ_INT(rb.len, sizes[i]);
		/* The memfd is ipc.c's business, never the caller's. */
		T_EQ_INT(rb.fd, -1);
	}
	T_EQ_INT(rb.bad_bytes, 0);

	/* A big payload and a caller's descriptor together. */
	T_ASSERT(pipe(p) == 0);
	big = test_ipc_payload(5, 100000);
	T_EQ_INT(ipc_send(&a, IPC_CONFIG, 5, big, 100000, p[1]), 0);
	free(big);
	TEST_IPC_WAIT(loop, rb.n == 5);
	T_EQ_INT(rb.len, 100000);
	T_EQ_INT(rb.bad_bytes, 0);
	T_ASSERT(rb.fd != -1);
	T_EQ_INT(write(rb.fd, "y", 1), 1);
	T_EQ_INT(read(p[0], &c, 1), 1);
	close(rb.fd);
	close(p[1]);
	T_EQ_INT(read(p[0], &c, 1), 0);
	close(p[0]);
	ipc_chan_fini(&a);
	ipc_chan_fini(&b);
	ev_loop_free(loop);
}

/* Send 30 KB messages until the socket is full. Returns how many. */
static int
test_ipc_fill(struct ipc_chan *a)
{
	int n = 0;

	while (a->qhead == NULL && n < 2000) {
		char *d = test_ipc_payload((uint32_t)n + 1, 30000);

		T_EQ_INT(
		    ipc_send(a, IPC_VERDICT, (uint32_t)n + 1, d, 30000, -1), 0);
		free(d);
		n++;
	}
	T_ASSERT(a->qhead != NULL);
	return n;
}

static void
test_slow_peer_is_queued(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct ipc_chan a, b;
	struct test_ipc_rx ra, rb;
	int fds[2], n;

	test_ipc_rx_init(&ra);
	test_ipc_rx_init(&rb);
	rb.in_order = rb.pattern = true;
	T_EQ_INT(ipc_pair(fds), 0);
	ipc_chan_init(&a, loop, fds[0], test_ipc_recv, &ra);
	n = test_ipc_fill(&a);
	T_ASSERT(a.qbytes > 0);
	/* A few more queue behind, in order. */
	for (int i = 0; i < 5; i++) {
		char *d = test_ipc_payload((uint32_t)++n, 30000);

		T_EQ_INT(
		    ipc_send(&a, IPC_VERDICT, (uint32_t)n, d, 30000, -1), 0);
		free(d);
	}
	ipc_chan_init(&b, loop, fds[1], test_ipc_recv, &rb);
	TEST_IPC_WAIT(loop, rb.n == n);
	T_EQ_INT(rb.n, n);
	T_EQ_INT(rb.bad_order, 0);
	T_EQ_INT(rb.bad_bytes, 0);
	T_ASSERT(a.qhead == NULL);
	T_EQ_INT(a.qbytes, 0);
	T_EQ_INT(ra.closed, 0);
	ipc_chan_fini(&a);
	ipc_chan_fini(&b);
	ev_loop_free(loop);
}

static void
test_queue_limit_kills_channel(void)
{
	struct ev_loop *loop = ev_loop_new();
	char *d = test_ipc_payload(1, IPC_INLINE_MAX);
	struct ipc_chan a;
	struct test_ipc_rx ra;
	int fds[2], r = 0, sent = 0;

	test_ipc_rx_init(&ra);
	T_EQ_INT(ipc_pair(fds), 0);
	ipc_chan_init(&a, loop, fds[0], test_ipc_recv, &ra);
	/* fds[1] is never read: the peer is stuck. */
	while (sent < 4000 &&
	    (r = ipc_send(&a, IPC_VERDICT, 1, d, IPC_INLINE_MAX, -1)) == 0)
		sent++;
	T_EQ_INT(r, -ENOBUFS);
	T_ASSERT((size_t)sent * IPC_INLINE_MAX <= IPC_QUEUE_MAX + (2 << 20));
	T_EQ_INT(ra.closed, 1);
	T_ASSERT(a.dead);
	T_EQ_INT(ipc_send(&a, IPC_READY, 0, NULL, 0, -1), -EPIPE);
	T_EQ_INT(ipc_flush(&a, 10), -EPIPE);
	T_EQ_INT(ra.closed, 1);
	free(d);
	ipc_chan_fini(&a); /* frees the 64 MB queue */
	close(fds[1]);
	ev_loop_free(loop);
}

static void
test_peer_death(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct ipc_chan a;
	struct test_ipc_rx ra;
	int fds[2];

	test_ipc_rx_init(&ra);
	T_EQ_INT(ipc_pair(fds), 0);
	ipc_chan_init(&a, loop, fds[0], test_ipc_recv, &ra);
	close(fds[1]);
	TEST_IPC_WAIT(loop, ra.closed > 0);
	T_EQ_INT(ra.closed, 1);
	T_EQ_INT(ra.n, 0);
	T_ASSERT(a.dead);
	T_EQ_INT(ipc_send(&a, IPC_READY, 0, NULL, 0, -1), -EPIPE);
	/* Reported once, however long the loop keeps running. */
	for (int i = 0; i < 5; i++)
		ev_run_once(loop, 1);
	T_EQ_INT(ra.closed, 1);
	ipc_chan_fini(&a);
	ev_loop_free(loop);
}

/* The peer dies with packets still queued for it. */
static void
test_peer_death_with_queue(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct ipc_chan a;
	struct test_ipc_rx ra;
	int fds[2];

	test_ipc_rx_init(&ra);
	T_EQ_INT(ipc_pair(fds), 0);
	ipc_chan_init(&a, loop, fds[0], test_ipc_recv, &ra);
	(void)test_ipc_fill(&a);
	close(fds[1]);
	TEST_IPC_WAIT(loop, ra.closed > 0);
	T_EQ_INT(ra.closed, 1);
	T_ASSERT(a.dead);
	ipc_chan_fini(&a);
	T_ASSERT(a.qhead == NULL);
	ev_loop_free(loop);
}

static void
test_bad_packets_counted(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct ipc_hdr h;
	struct ipc_chan b;
	struct test_ipc_rx rb;
	int fds[2], p[2], mfd;
	char pkt[sizeof(h) + 200], c;
	char *huge;

	test_ipc_rx_init(&rb);
	rb.pattern = true; /* touch every payload byte */
	T_EQ_INT(ipc_pair(fds), 0);
	ipc_chan_init(&b, loop, fds[1], test_ipc_recv, &rb);
	T_ASSERT(pipe(p) == 0);
	memset(pkt, 0, sizeof(pkt));

	/* Shorter than a header, with a descriptor that must not leak. */
	test_ipc_raw(fds[0], "abc", 3, p[1]);
	/* Header claims more payload than the packet holds. */
	h = (struct ipc_hdr){ .type = IPC_VERDICT, .len = 100 };
	memcpy(pkt, &h, sizeof(h));
	test_ipc_raw(fds[0], pkt, sizeof(h) + 10, -1);
	/* Says a descriptor is attached; none is. */
	h = (struct ipc_hdr){ .type = IPC_LISTENER, .flags = IPC_F_FD };
	memcpy(pkt, &h, sizeof(h));
	test_ipc_raw(fds[0], pkt, sizeof(h), -1);
	/* Says the payload is in a memfd; none is attached. */
	h = (struct ipc_hdr){
		.type = IPC_CONFIG, .flags = IPC_F_MEMFD, .len = 100
	};
	memcpy(pkt, &h, sizeof(h));
	test_ipc_raw(fds[0], pkt, sizeof(h), -1);
	/* A memfd smaller than the claimed length: reading it would fault. */
	mfd = memfd_create("short", MFD_CLOEXEC);
	T_EQ_INT(write(mfd, "0123456789", 10), 10);
	h = (struct ipc_hdr){
		.type = IPC_CONFIG, .flags = IPC_F_MEMFD, .len = 1 << 20
	};
	memcpy(pkt, &h, sizeof(h));
	test_ipc_raw(fds[0], pkt, sizeof(h), mfd);
	close(mfd);
	/* Long enough, but unsealed: the sender could shrink it later. */
	mfd = memfd_create("unsealed", MFD_CLOEXEC);
	T_EQ_INT(ftruncate(mfd, 4096), 0);
	h = (struct ipc_hdr){
		.type = IPC_CONFIG, .flags = IPC_F_MEMFD, .len = 4096
	};
	memcpy(pkt, &h, sizeof(h));
	test_ipc_raw(fds[0], pkt, sizeof(h), mfd);
	close(mfd);
	/* Larger than any inline packet may be. */
	huge = xcalloc(1, sizeof(h) + IPC_INLINE_MAX + 100);
	h = (struct ipc_hdr){ .type = IPC_CONFIG, .len = IPC_INLINE_MAX + 100 };
	memcpy(huge, &h, sizeof(h));
	test_ipc_raw(fds[0], huge, sizeof(h) + IPC_INLINE_MAX + 100, -1);
	free(huge);
	/* And then a good one: the channel lives on. */
	h = (struct ipc_hdr){ .type = IPC_READY, .id = 9 };
	test_ipc_raw(fds[0], &h, sizeof(h), -1);

	TEST_IPC_WAIT(loop, rb.n > 0 && rb.type == IPC_READY);
	T_EQ_INT(rb.n, 1);
	T_EQ_INT(rb.type, IPC_READY);
	T_EQ_INT(rb.id, 9);
	T_EQ_INT(b.rx_bad, 7);
	T_EQ_INT(b.rx_msgs, 1);
	T_EQ_INT(rb.closed, 0);
	T_ASSERT(!b.dead);
	close(p[1]);
	T_EQ_INT(read(p[0], &c, 1), 0); /* the dropped fd was closed */
	close(p[0]);
	close(fds[0]);
	ipc_chan_fini(&b);
	ev_loop_free(loop);
}

/* ipc_flush blocks until the peer has taken everything, within a bound. */
static void
test_flush(void)
{
	struct ev_loop *loop = ev_loop_new();
	struct ipc_chan a;
	struct test_ipc_rx ra;
	int fds[2], n, st;
	pid_t pid;

	test_ipc_rx_init(&ra);
	T_EQ_INT(ipc_pair(fds), 0);
	ipc_chan_init(&a, loop, fds[0], test_ipc_recv, &ra);
	T_EQ_INT(ipc_flush(&a, 10), 0); /* nothing queued */
	n = test_ipc_fill(&a);
	T_EQ_INT(ipc_flush(&a, 20), -ETIMEDOUT);
	if ((pid = fork()) == 0) {
		char buf[sizeof(struct ipc_hdr) + IPC_INLINE_MAX];
		int got = 0;

		close(fds[0]);
		while (read(fds[1], buf, sizeof(buf)) > 0)
			got++;
		_exit(got == n ? 0 : 1);
	}
	T_ASSERT(pid > 0);
	close(fds[1]);
	T_EQ_INT(ipc_flush(&a, 5000), 0);
	T_ASSERT(a.qhead == NULL);
	ipc_chan_fini(&a);
	T_ASSERT(waitpid(pid, &st, 0) == pid);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ev_loop_free(loop);
}

static const struct test tests[] = {
	TEST(test_roundtrip),
	TEST(test_gathered_body_bytes),
	TEST(test_many_in_order),
	TEST(test_fd_passing),
	TEST(test_memfd_payloads),
	TEST(test_slow_peer_is_queued),
	TEST(test_queue_limit_kills_channel),
	TEST(test_peer_death),
	TEST(test_peer_death_with_queue),
	TEST(test_bad_packets_counted),
	TEST(test_flush),
};

TEST_MAIN(tests)
