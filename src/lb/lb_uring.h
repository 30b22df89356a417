/*
 * lb_uring.h - several sends in one system call, through io_uring.
 *
 * The lb worker holds the request bytes that become ready during an epoll
 * batch and sends them when the batch is done (lb_http.c). Sent one
 * sendmsg(2) at a time, the first wakes a backend process on this CPU,
 * which preempts the worker as that call returns and so gets one request
 * per wake-up. Submitted together, every send is delivered before the
 * worker returns to user space, and the backend finds all of them at once.
 *
 * Usage per batch: lb_uring_sendmsg() for each send, then lb_uring_submit(),
 * which reports every result before it returns. A caller whose
 * lb_uring_sendmsg() returns false sends that message itself.
 */
#ifndef HAVEN_LB_URING_H
#define HAVEN_LB_URING_H

#include <sys/socket.h>

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#define LB_URING_DEPTH 256 /* sends per batch */

struct lb_uring_stats {
	uint64_t batches; /* submits with at least one send */
	uint64_t sends;   /* sends through the ring */
};

/*
 * One worker's ring (held in struct lb_worker). Zeroed memory is a ring not
 * tried yet. nq is the number of sends of the current batch, tags[0..nq)
 * their tags and got[i] whether send i's completion was reported (all 0 and
 * false outside a batch).
 */
struct lb_uring {
	struct io_uring ring;
	int state; /* 0: not tried, 1: on, -1: off */
	unsigned nq;
	void *tags[LB_URING_DEPTH]; /* borrowed: callers' tags, one batch */
	bool got[LB_URING_DEPTH];
	struct lb_uring_stats st;
};

/*
 * Set the ring up once per worker; idempotent. It stays off (and every
 * lb_uring_sendmsg returns false) when io_uring is unavailable, when a
 * non-blocking send would not complete inline, or when the environment
 * has HAVEN_IO_URING=0. Logs which.
 */
bool lb_uring_init(struct lb_uring *u);
/* Back to "not tried"; the ring's memory is the caller's. */
void lb_uring_fini(struct lb_uring *u);

/*
 * Queue a non-blocking sendmsg on fd; tag comes back to lb_uring_submit's
 * callback. mh and the memory it points to are borrowed until
 * lb_uring_submit returns. False: the ring is off or full.
 */
bool lb_uring_sendmsg(
    struct lb_uring *u, int fd, const struct msghdr *mh, void *tag);

typedef void lb_uring_done_fn(void *tag, long res);

/* Send what was queued; done(tag, bytes sent or -errno) for each. */
void lb_uring_submit(struct lb_uring *u, lb_uring_done_fn *done);

void lb_uring_get_stats(const struct lb_uring *u, struct lb_uring_stats *st);

#endif
