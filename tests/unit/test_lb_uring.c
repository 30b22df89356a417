/*
 * Unit tests for lb_uring.c: a batch of sends on several sockets is
 * delivered and reported one by one, a full socket reports -EAGAIN at once
 * without holding up the rest, and HAVEN_IO_URING=0 turns the ring off.
 * Skipped where the kernel refuses io_uring (lb_uring_init says so).
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb/lb_uring.h"
#include "runner.h"

#define T_NSOCK 3

/* The ring under test: one per test process, as one per worker. */
static struct lb_uring t_ur;

static int t_sv[T_NSOCK][2];
static long t_res[T_NSOCK];
static int t_calls;

static void
t_done(void *tag, long res)
{
	int i = (int)(intptr_t)tag;

	t_res[i] = res;
	t_calls++;
}

static void
t_open(void)
{
	for (int i = 0; i < T_NSOCK; i++) {
		T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
		             t_sv[i]) == 0);
		t_res[i] = 0;
	}
	t_calls = 0;
}

static void
t_close(void)
{
	for (int i = 0; i < T_NSOCK; i++) {
		close(t_sv[i][0]);
		close(t_sv[i][1]);
	}
}

static void
t_need_ring(void)
{
	unsetenv("HAVEN_IO_URING");
	lb_uring_fini(&t_ur);
	if (!lb_uring_init(&t_ur))
		T_SKIP("io_uring unavailable here");
}

static void
test_batch_delivered(void)
{
	char msg[T_NSOCK][16], got[16];
	struct iovec iov[T_NSOCK];
	struct msghdr mh[T_NSOCK];
	struct lb_uring_stats st;

	t_need_ring();
	t_open();
	for (int i = 0; i < T_NSOCK; i++) {
		snprintf(msg[i], sizeof(msg[i]), "request %d", i);
		iov[i] = (struct iovec){ msg[i], strlen(msg[i]) };
		memset(&mh[i], 0, sizeof(mh[i]));
		mh[i].msg_iov = &iov[i];
		mh[i].msg_iovlen = 1;
		T_ASSERT(lb_uring_sendmsg(
		    &t_ur, t_sv[i][0], &mh[i], (void *)(intptr_t)i));
	}
	/* Nothing leaves before the submit. */
	T_EQ_INT(recv(t_sv[0][1], got, sizeof(got), 0), -1);
	lb_uring_submit(&t_ur, t_done);
	T_EQ_INT(t_calls, T_NSOCK);
	for (int i = 0; i < T_NSOCK; i++) {
		T_EQ_INT(t_res[i], (long)strlen(msg[i]));
		memset(got, 0, sizeof(got));
		T_EQ_INT(recv(t_sv[i][1], got, sizeof(got) - 1, 0),
		    (long)strlen(msg[i]));
		T_EQ_STR(got, msg[i]);
	}
	lb_uring_get_stats(&t_ur, &st);
	T_ASSERT(st.batches >= 1 && st.sends >= T_NSOCK);
	t_close();
	lb_uring_fini(&t_ur);
}

static void
test_full_socket_fails_at_once(void)
{
	static char fill[65536];
	char one = 'x';
	struct iovec iov = { &one, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	t_need_ring();
	t_open();
	while (send(t_sv[1][0], fill, sizeof(fill), MSG_DONTWAIT) > 0)
		;
	for (int i = 0; i < T_NSOCK; i++)
		T_ASSERT(lb_uring_sendmsg(
		    &t_ur, t_sv[i][0], &mh, (void *)(intptr_t)i));
	lb_uring_submit(&t_ur, t_done);
	T_EQ_INT(t_calls, T_NSOCK);
	T_EQ_INT(t_res[0], 1);
	T_EQ_INT(t_res[1], -EAGAIN);
	T_EQ_INT(t_res[2], 1);
	/* A peer gone: an error for that send, not a signal. */
	close(t_sv[0][1]);
	t_sv[0][1] = socket(AF_UNIX, SOCK_STREAM, 0);
	t_calls = 0;
	T_ASSERT(lb_uring_sendmsg(&t_ur, t_sv[0][0], &mh, (void *)(intptr_t)0));
	lb_uring_submit(&t_ur, t_done);
	T_EQ_INT(t_calls, 1);
	T_EQ_INT(t_res[0], -EPIPE);
	t_close();
	lb_uring_fini(&t_ur);
}

static void
test_env_turns_it_off(void)
{
	char one = 'x';
	struct iovec iov = { &one, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	lb_uring_fini(&t_ur);
	setenv("HAVEN_IO_URING", "0", 1);
	T_ASSERT(!lb_uring_init(&t_ur));
	T_ASSERT(!lb_uring_sendmsg(&t_ur, 0, &mh, NULL));
	lb_uring_submit(&t_ur, t_done); /* nothing queued: no call */
	unsetenv("HAVEN_IO_URING");
	lb_uring_fini(&t_ur);
}

static const struct test tests[] = {
	TEST(test_batch_delivered),
	TEST(test_full_socket_fails_at_once),
	TEST(test_env_turns_it_off),
};

TEST_MAIN(tests)
