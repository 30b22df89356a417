/*
 * ipc.c - see ipc.h.
 *
 * Wire format of one packet: struct ipc_hdr, then the payload when it fits
 * IPC_INLINE_MAX, else nothing (the payload is in a memfd passed as the first
 * descriptor). A caller's descriptor, if any, comes after the memfd.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "util.h"

struct ipc_pkt {
	struct ipc_pkt *next; /* owned */
	size_t len;           /* bytes in data */
	size_t cost;          /* bytes it holds: data, or header + memfd */
	int fds[2];           /* owned; -1 when unused */
	char data[];
};

int
ipc_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == -1)
		return -errno;
	/* Room for bursts of verdicts without queueing in userspace. */
	for (int i = 0; i < 2; i++) {
		int sz = 1 << 20;

		(void)setsockopt(
		    fds[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		(void)setsockopt(
		    fds[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	return 0;
}

static void
ipc_pkt_free(struct ipc_pkt *p)
{
	for (int i = 0; i < 2; i++)
		if (p->fds[i] != -1)
			close(p->fds[i]);
	free(p);
}

/* Returns 1 sent, 0 would block, -errno on failure. */
static int
ipc_pkt_send(int fd, const struct ipc_pkt *p)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { (void *)p->data, p->len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int nfd = (p->fds[0] != -1) + (p->fds[1] != -1);

	if (nfd > 0) {
		struct cmsghdr *cm;
		int k = 0;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfd * sizeof(int));
		for (int i = 0; i < 2; i++)
			if (p->fds[i] != -1)
				memcpy(CMSG_DATA(cm) + k++ * sizeof(int),
				    &p->fds[i], sizeof(int));
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) == -1) {
		if (errno == EAGAIN || errno == ENOBUFS)
			return 0;
		return -errno;
	}
	return 1;
}

static void ipc_chan_io(struct ev_io *io, unsigned events, void *arg);

static void
ipc_chan_fail(struct ipc_chan *ch)
{
	if (ch->dead)
		return;
	ch->dead = 1;
	ev_io_stop(ch->loop, &ch->io);
	ch->cb(ch, NULL, ch->arg);
}

static int
ipc_flush_some(struct ipc_chan *ch)
{
	while (ch->qhead != NULL) {
		struct ipc_pkt *p = ch->qhead;
		int r = ipc_pkt_send(ch->fd, p);

		if (r <= 0)
			return r;
		ch->qhead = p->next;
		if (ch->qhead == NULL)
			ch->qtail = NULL;
		ch->qbytes -= p->cost;
		ipc_pkt_free(p);
	}
	return 1;
}

static void
ipc_chan_want(struct ipc_chan *ch)
{
	unsigned ev = EV_READ | (ch->qhead != NULL ? EV_WRITE : 0);

	if (!ch->dead && ch->io.events != ev)
		(void)ev_io_start(ch->loop, &ch->io, ev);
}

void
ipc_chan_init(struct ipc_chan *ch, struct ev_loop *loop, int fd,
    ipc_recv_fn *cb, void *arg)
{
	memset(ch, 0, sizeof(*ch));
	ch->fd = fd;
	ch->loop = loop;
	ch->cb = cb;
	ch->arg = arg;
	(void)util_set_nonblock(fd);
	ev_io_init(&ch->io, fd, ipc_chan_io, ch);
	(void)ev_io_start(loop, &ch->io, EV_READ);
}

void
ipc_chan_fini(struct ipc_chan *ch)
{
	struct ipc_pkt *p, *next;

	if (ch->fd == -1)
		return;
	ev_io_stop(ch->loop, &ch->io);
	for (p = ch->qhead; p != NULL; p = next) {
		next = p->next;
		ipc_pkt_free(p);
	}
	ch->qhead = ch->qtail = NULL;
	ch->qbytes = 0;
	close(ch->fd);
	ch->fd = -1;
	ch->dead = 1;
}

/* A sealed memfd holding the payload pieces. Returns the fd or -errno. */
static int
ipc_memfd(const void *a, size_t alen, const void *b, size_t blen)
{
	int fd = memfd_create("haven-ipc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	const char *parts[2] = { a, b };
	size_t lens[2] = { alen, blen };

	if (fd == -1)
		return -errno;
	for (int i = 0; i < 2; i++) {
		size_t off = 0;

		while (off < lens[i]) {
			ssize_t n = write(fd, parts[i] + off, lens[i] - off);

			if (n == -1) {
				int e = errno;

				close(fd);
				return -e;
			}
			off += (size_t)n;
		}
	}
	(void)fcntl(fd, F_ADD_SEALS,
	    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	return fd;
}

int
ipc_send2(struct ipc_chan *ch, enum ipc_type type, uint32_t id, const void *a,
    size_t alen, const void *b, size_t blen, int pass_fd)
{
	size_t total = alen + blen;
	bool big = total > IPC_INLINE_MAX;
	struct ipc_hdr h = {
		.type = (uint16_t)type, .len = (uint32_t)total, .id = id
	};
	struct ipc_pkt *p;
	int k = 0;

	if (ch->dead)
		return -EPIPE;
	p = xmalloc(sizeof(*p) + sizeof(h) + (big ? 0 : total));
	p->next = NULL;
	p->fds[0] = p->fds[1] = -1;
	if (big) {
		int mfd = ipc_memfd(a, alen, b, blen);

		if (mfd < 0) {
			free(p);
			return mfd;
		}
		p->fds[k++] = mfd;
		h.flags |= IPC_F_MEMFD;
	}
	if (pass_fd != -1) {
		if ((p->fds[k] = fcntl(pass_fd, F_DUPFD_CLOEXEC, 0)) == -1) {
			int e = errno;

			ipc_pkt_free(p);
			return -e;
		}
		h.flags |= IPC_F_FD;
	}
	memcpy(p->data, &h, sizeof(h));
	p->len = sizeof(h);
	if (!big) {
		if (alen)
			memcpy(p->data + p->len, a, alen);
		if (blen)
			memcpy(p->data + p->len + alen, b, blen);
		p->len += total;
	}
	if (ch->qtail != NULL)
		ch->qtail->next = p;
	else
		ch->qhead = p;
	ch->qtail = p;
	/* A memfd payload counts in full, so a stuck reader hits the cap. */
	p->cost = p->len + (big ? total : 0);
	ch->qbytes += p->cost;
	ch->tx_msgs++;
	if (ch->qbytes > IPC_QUEUE_MAX) {
		log_err("ipc peer not reading", "queued=%zu", ch->qbytes);
		ipc_chan_fail(ch);
		return -ENOBUFS;
	}
	if (ipc_flush_some(ch) < 0) {
		ipc_chan_fail(ch);
		return -EPIPE;
	}
	ipc_chan_want(ch);
	return 0;
}

int
ipc_send(struct ipc_chan *ch, enum ipc_type type, uint32_t id, const void *data,
    size_t len, int pass_fd)
{
	return ipc_send2(ch, type, id, data, len, NULL, 0, pass_fd);
}

int
ipc_flush(struct ipc_chan *ch, int timeout_ms)
{
	uint64_t end = util_mono_ms() + (uint64_t)timeout_ms;

	while (!ch->dead && ch->qhead != NULL) {
		struct pollfd pfd = { ch->fd, POLLOUT, 0 };
		uint64_t now = util_mono_ms();

		if (now >= end)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(end - now)) == -1 && errno != EINTR)
			return -errno;
		if (ipc_flush_some(ch) < 0)
			return -EPIPE;
	}
	return ch->dead ? -EPIPE : 0;
}

/*
 * Map a memfd payload. Returns NULL on failure, including a file shorter
 * than the header claims or one that could still shrink: touching a mapping
 * past its end raises SIGBUS, and a peer must not be able to kill us so.
 */
static void *
ipc_map(int fd, size_t len)
{
	struct stat st;
	int seals;
	void *p;

	if (len == 0)
		return NULL;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals == -1 || !(seals & F_SEAL_SHRINK) || fstat(fd, &st) == -1 ||
	    st.st_size < 0 || (uint64_t)st.st_size < len)
		return NULL;
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Read and dispatch one packet. Returns 1 read, 0 nothing, -1 failed. */
static int
ipc_recv_one(struct ipc_chan *ch)
{
	char data[sizeof(struct ipc_hdr) + IPC_INLINE_MAX];
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh = { .msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf) };
	int fds[4] = { -1, -1, -1, -1 }, nfd = 0, k = 0;
	struct ipc_msg m = { .fd = -1 };
	struct ipc_hdr h;
	void *map = NULL;
	ssize_t n;

	n = recvmsg(ch->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL;
	     cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		nfd = MIN(nfd, 4);
		memcpy(fds, CMSG_DATA(cm), (size_t)nfd * sizeof(int));
	}
	if ((size_t)n < sizeof(h) || (mh.msg_flags & MSG_TRUNC))
		goto bad;
	memcpy(&h, data, sizeof(h));
	m.type = h.type;
	m.id = h.id;
	if (h.flags & IPC_F_MEMFD) {
		if (nfd < 1 || (map = ipc_map(fds[k], h.len)) == NULL)
			if (h.len != 0)
				goto bad;
		m.data = map;
		m.len = h.len;
		k++;
	} else {
		if ((size_t)n != sizeof(h) + h.len)
			goto bad;
		m.data = data + sizeof(h);
		m.len = h.len;
	}
	if (h.flags & IPC_F_FD) {
		if (k >= nfd)
			goto bad;
		m.fd = fds[k];
		fds[k++] = -1;
	}
	for (int i = 0; i < nfd; i++)
		if (fds[i] != -1 && i < k)
			close(fds[i]), fds[i] = -1;
	ch->rx_msgs++;
	ch->cb(ch, &m, ch->arg);
	if (map != NULL)
		munmap(map, h.len);
	for (int i = 0; i < nfd; i++)
		if (fds[i] != -1)
			close(fds[i]);
	return 1;
bad:
	ch->rx_bad++;
	log_warn("ipc bad packet dropped", "bytes=%zd", n);
	for (int i = 0; i < nfd; i++)
		if (fds[i] != -1)
			close(fds[i]);
	return 1;
}

static void
ipc_chan_io(struct ev_io *io, unsigned events, void *arg)
{
	struct ipc_chan *ch = arg;

	if (events & EV_WRITE) {
		if (ipc_flush_some(ch) < 0) {
			ipc_chan_fail(ch);
			return;
		}
		ipc_chan_want(ch);
	}
	if (events & (EV_READ | EV_ERROR)) {
		/* Bounded so one chatty peer cannot starve the loop. */
		for (int i = 0; i < 64 && !ch->dead; i++) {
			int r = ipc_recv_one(ch);

			if (r < 0) {
				ipc_chan_fail(ch);
				return;
			}
			if (r == 0)
				break;
		}
	}
}

const char *
ipc_type_name(enum ipc_type type)
{
	static const char *const names[IPC__COUNT] = {
		[IPC_NONE] = "none",
		[IPC_CONFIG] = "config",
		[IPC_CONFIG_RESULT] = "config_result",
		[IPC_READY] = "ready",
		[IPC_QUERY] = "query",
		[IPC_REPLY] = "reply",
		[IPC_VERDICT] = "verdict",
		[IPC_PASSIVE] = "passive",
		[IPC_STOP] = "stop",
		[IPC_LISTENER] = "listener",
		[IPC_HELLO] = "hello",
		[IPC_SOCKETS] = "sockets",
		[IPC_ZONE_SERIALS] = "zone_serials",
	};

	return (unsigned)type < IPC__COUNT && names[type] != NULL ?
	    names[type] :
	    "unknown";
}
