/*
 * lb_uring.c - see lb_uring.h.
 *
 * Invariants:
 *   - every queued send carries MSG_DONTWAIT, which io_uring honours by
 *     completing at once, with -EAGAIN when the socket is full, instead of
 *     waiting for room in the background. lb_uring_init checks exactly that
 *     on a full socketpair before it trusts the ring, so a batch never has
 *     a send in flight after lb_uring_submit returns, and no buffer or
 *     connection named by a batch is touched by the kernel afterwards;
 *   - nq is the number of sends of the current batch, tags[0..nq) their
 *     tags and got[i] whether send i's completion was reported (all 0 and
 *     false outside a batch).
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb/lb_uring.h"
#include "lib/log.h"
#include "lib/util.h"

static struct io_uring lb_uring_ring;
static int lb_uring_state; /* 0: not tried, 1: on, -1: off */
static unsigned lb_uring_nq;
static void *lb_uring_tags[LB_URING_DEPTH]; /* borrowed: callers' tags */
static bool lb_uring_got[LB_URING_DEPTH];
static struct lb_uring_stats lb_uring_st;

/* Submit one send and expect its completion before the call returns. */
static int
lb_uring_probe_one(int fd, struct msghdr *mh, long *res)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&lb_uring_ring);
	struct io_uring_cqe *cqe;

	if (sqe == NULL)
		return -ENOSPC;
	io_uring_prep_sendmsg(sqe, fd, mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (io_uring_submit(&lb_uring_ring) != 1)
		return -EIO;
	if (io_uring_peek_cqe(&lb_uring_ring, &cqe) != 0)
		return -EINPROGRESS; /* went to the background */
	*res = cqe->res;
	io_uring_cqe_seen(&lb_uring_ring, cqe);
	return 0;
}

/*
 * On a socketpair: a send with room completes inline with its length, a
 * send into a full socket completes inline with -EAGAIN. Returns a reason
 * for the log when either does not hold, NULL when both do.
 */
static const char *
lb_uring_probe(void)
{
	static char data[4096]; /* static: outlives a send gone astray */
	static struct iovec iov = { data, sizeof(data) };
	static struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	const char *why = NULL;
	int sv[2];
	long res = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	        sv) == -1)
		return "socketpair failed";
	if (lb_uring_probe_one(sv[0], &mh, &res) != 0 ||
	    res != (long)sizeof(data))
		why = "a send with room did not complete inline";
	while (why == NULL && send(sv[0], data, sizeof(data), MSG_DONTWAIT) > 0)
		;
	if (why == NULL &&
	    (lb_uring_probe_one(sv[0], &mh, &res) != 0 || res != -EAGAIN))
		why = "a send into a full socket did not fail at once";
	/* Closing first ends anything still pending on these sockets. */
	close(sv[0]);
	close(sv[1]);
	return why;
}

bool
lb_uring_init(void)
{
	const char *env = getenv("HAVEN_IO_URING"), *why = NULL;
	int rc;

	if (lb_uring_state != 0)
		return lb_uring_state == 1;
	lb_uring_state = -1;
	if (env != NULL && strcmp(env, "0") == 0) {
		log_info("lb send batching", "io_uring=off reason=%s",
		    log_q("HAVEN_IO_URING=0"));
		return false;
	}
	if ((rc = io_uring_queue_init(LB_URING_DEPTH, &lb_uring_ring, 0)) < 0) {
		log_info("lb send batching", "io_uring=off reason=%s",
		    log_q(strerror(-rc)));
		return false;
	}
	if ((why = lb_uring_probe()) != NULL) {
		io_uring_queue_exit(&lb_uring_ring);
		log_warn(
		    "lb send batching", "io_uring=off reason=%s", log_q(why));
		return false;
	}
	lb_uring_state = 1;
	log_info("lb send batching", "io_uring=on depth=%d", LB_URING_DEPTH);
	return true;
}

void
lb_uring_fini(void)
{
	if (lb_uring_state == 1)
		io_uring_queue_exit(&lb_uring_ring);
	lb_uring_state = 0;
	lb_uring_nq = 0;
}

bool
lb_uring_sendmsg(int fd, const struct msghdr *mh, void *tag)
{
	struct io_uring_sqe *sqe;

	if (lb_uring_state != 1 || lb_uring_nq == LB_URING_DEPTH ||
	    (sqe = io_uring_get_sqe(&lb_uring_ring)) == NULL)
		return false;
	io_uring_prep_sendmsg(sqe, fd, mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, lb_uring_nq);
	lb_uring_tags[lb_uring_nq] = tag;
	lb_uring_got[lb_uring_nq] = false;
	lb_uring_nq++;
	return true;
}

/* Report the completions the ring holds. Returns how many. */
static unsigned
lb_uring_reap(lb_uring_done_fn *done)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	uint64_t i;

	io_uring_for_each_cqe(&lb_uring_ring, head, cqe)
	{
		i = io_uring_cqe_get_data64(cqe);
		if (i < lb_uring_nq && !lb_uring_got[i]) {
			lb_uring_got[i] = true;
			done(lb_uring_tags[i], cqe->res);
		}
		seen++;
	}
	io_uring_cq_advance(&lb_uring_ring, seen);
	return seen;
}

void
lb_uring_submit(lb_uring_done_fn *done)
{
	struct io_uring_cqe *cqe;
	unsigned left, i;
	int rc;

	if (lb_uring_nq == 0)
		return;
	lb_uring_st.batches++;
	lb_uring_st.sends += lb_uring_nq;
	/* Inline completions: the wait is met by the submit itself. */
	do
		rc = io_uring_submit_and_wait(&lb_uring_ring, lb_uring_nq);
	while (rc == -EINTR);
	left = lb_uring_nq - lb_uring_reap(done);
	if (left > 0 && rc >= 0) {
		/* Not expected after the probe; these are in the kernel. */
		while (left > 0 && io_uring_wait_cqe(&lb_uring_ring, &cqe) == 0)
			left -= MIN(left, lb_uring_reap(done));
	}
	if (left > 0) {
		/*
		 * The ring failed (rc < 0): nothing unreported was sent.
		 * Retire it; the callers see -EAGAIN, wait for POLLOUT and
		 * then send the plain way.
		 */
		log_warn("lb send batching", "io_uring=off reason=%s",
		    log_q(strerror(rc < 0 ? -rc : EIO)));
		io_uring_queue_exit(&lb_uring_ring);
		lb_uring_state = -1;
		for (i = 0; i < lb_uring_nq; i++)
			if (!lb_uring_got[i])
				done(lb_uring_tags[i], -EAGAIN);
	}
	lb_uring_nq = 0;
}

void
lb_uring_get_stats(struct lb_uring_stats *st)
{
	*st = lb_uring_st;
}
