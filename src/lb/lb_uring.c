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
 *   - the state is the worker's (struct lb_uring, lb_uring.h): nothing
 *     here is process-wide but the probe's payload below.
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

/* Submit one send and expect its completion before the call returns. */
static int
lb_uring_probe_one(struct lb_uring *u, int fd, struct msghdr *mh, long *res)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	struct io_uring_cqe *cqe;

	if (sqe == NULL)
		return -ENOSPC;
	io_uring_prep_sendmsg(sqe, fd, mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (io_uring_submit(&u->ring) != 1)
		return -EIO;
	if (io_uring_peek_cqe(&u->ring, &cqe) != 0)
		return -EINPROGRESS; /* went to the background */
	*res = cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	return 0;
}

/*
 * On a socketpair: a send with room completes inline with its length, a
 * send into a full socket completes inline with -EAGAIN. Returns a reason
 * for the log when either does not hold, NULL when both do.
 */
static const char *
lb_uring_probe(struct lb_uring *u)
{
	/*
	 * Process-wide on purpose: a send that went to the background may
	 * read these after this function returns, so they must outlive it;
	 * they hold no state (zeros, read only by the kernel).
	 */
	static char data[4096];
	static struct iovec iov = { data, sizeof(data) };
	static struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	const char *why = NULL;
	int sv[2];
	long res = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	        sv) == -1)
		return "socketpair failed";
	if (lb_uring_probe_one(u, sv[0], &mh, &res) != 0 ||
	    res != (long)sizeof(data))
		why = "a send with room did not complete inline";
	while (why == NULL && send(sv[0], data, sizeof(data), MSG_DONTWAIT) > 0)
		;
	if (why == NULL &&
	    (lb_uring_probe_one(u, sv[0], &mh, &res) != 0 || res != -EAGAIN))
		why = "a send into a full socket did not fail at once";
	/* Closing first ends anything still pending on these sockets. */
	close(sv[0]);
	close(sv[1]);
	return why;
}

bool
lb_uring_init(struct lb_uring *u)
{
	const char *env = getenv("HAVEN_IO_URING"), *why = NULL;
	int rc;

	if (u->state != 0)
		return u->state == 1;
	u->state = -1;
	if (env != NULL && strcmp(env, "0") == 0) {
		log_info("lb send batching", "io_uring=off reason=%s",
		    log_q("HAVEN_IO_URING=0"));
		return false;
	}
	if ((rc = io_uring_queue_init(LB_URING_DEPTH, &u->ring, 0)) < 0) {
		log_info("lb send batching", "io_uring=off reason=%s",
		    log_q(strerror(-rc)));
		return false;
	}
	if ((why = lb_uring_probe(u)) != NULL) {
		io_uring_queue_exit(&u->ring);
		log_warn(
		    "lb send batching", "io_uring=off reason=%s", log_q(why));
		return false;
	}
	u->state = 1;
	log_info("lb send batching", "io_uring=on depth=%d", LB_URING_DEPTH);
	return true;
}

void
lb_uring_fini(struct lb_uring *u)
{
	if (u->state == 1)
		io_uring_queue_exit(&u->ring);
	u->state = 0;
	u->nq = 0;
}

bool
lb_uring_sendmsg(struct lb_uring *u, int fd, const struct msghdr *mh, void *tag)
{
	struct io_uring_sqe *sqe;

	if (u->state != 1 || u->nq == LB_URING_DEPTH ||
	    (sqe = io_uring_get_sqe(&u->ring)) == NULL)
		return false;
	io_uring_prep_sendmsg(sqe, fd, mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, u->nq);
	u->tags[u->nq] = tag;
	u->got[u->nq] = false;
	u->nq++;
	return true;
}

/* Report the completions the ring holds. Returns how many. */
static unsigned
lb_uring_reap(struct lb_uring *u, lb_uring_done_fn *done)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	uint64_t i;

	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		i = io_uring_cqe_get_data64(cqe);
		if (i < u->nq && !u->got[i]) {
			u->got[i] = true;
			done(u->tags[i], cqe->res);
		}
		seen++;
	}
	io_uring_cq_advance(&u->ring, seen);
	return seen;
}

void
lb_uring_submit(struct lb_uring *u, lb_uring_done_fn *done)
{
	struct io_uring_cqe *cqe;
	unsigned left, i;
	int rc;

	if (u->nq == 0)
		return;
	u->st.batches++;
	u->st.sends += u->nq;
	/* Inline completions: the wait is met by the submit itself. */
	do
		rc = io_uring_submit_and_wait(&u->ring, u->nq);
	while (rc == -EINTR);
	left = u->nq - lb_uring_reap(u, done);
	if (left > 0 && rc >= 0) {
		/* Not expected after the probe; these are in the kernel. */
		while (left > 0 && io_uring_wait_cqe(&u->ring, &cqe) == 0)
			left -= MIN(left, lb_uring_reap(u, done));
	}
	if (left > 0) {
		/*
		 * The ring failed (rc < 0): nothing unreported was sent.
		 * Retire it; the callers see -EAGAIN, wait for POLLOUT and
		 * then send the plain way.
		 */
		log_warn("lb send batching", "io_uring=off reason=%s",
		    log_q(strerror(rc < 0 ? -rc : EIO)));
		io_uring_queue_exit(&u->ring);
		u->state = -1;
		for (i = 0; i < u->nq; i++)
			if (!u->got[i])
				done(u->tags[i], -EAGAIN);
	}
	u->nq = 0;
}

void
lb_uring_get_stats(const struct lb_uring *u, struct lb_uring_stats *st)
{
	*st = u->st;
}
