/*
 * snap_send.c - the sending side of a replication session (snap_send.h).
 * Blocking I/O, each wait bounded by poll(2).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "snap/snap_send.h"

struct snap_send {
	int fd;
	int timeout_ms;
	struct snap_proto p;
	struct buf in;  /* bytes read, not yet a whole unit */
	struct buf out; /* records to write */
	uint8_t *frame; /* owned: one opened record */
	struct snap_send_stats *st;
};

static int
snap_send_wait(struct snap_send *c, short ev)
{
	struct pollfd pfd = { .fd = c->fd, .events = ev };
	int n;

	while ((n = poll(&pfd, 1, c->timeout_ms)) == -1 && errno == EINTR)
		;
	if (n == -1)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static int
snap_send_flush(struct snap_send *c)
{
	size_t off = 0;
	int e = 0;

	while (off < c->out.len) {
		ssize_t n = send(
		    c->fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);

		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			if ((e = snap_send_wait(c, POLLOUT)) != 0)
				break;
			continue;
		}
		if (n == -1) {
			e = -errno;
			break;
		}
		off += (size_t)n;
		c->st->bytes += (uint64_t)n;
	}
	buf_reset(&c->out);
	return e;
}

/* Read until c->in holds the next whole unit; its length in *len. */
static int
snap_send_read_unit(struct snap_send *c, size_t *len)
{
	for (;;) {
		long need = snap_proto_need(
		    &c->p, (const uint8_t *)c->in.data, c->in.len);
		ssize_t n;
		int e;

		if (need < 0)
			return (int)need;
		if ((size_t)need <= c->in.len) {
			*len = (size_t)need;
			return 0;
		}
		buf_reserve(&c->in, (size_t)need - c->in.len);
		n = recv(
		    c->fd, c->in.data + c->in.len, (size_t)need - c->in.len, 0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			if ((e = snap_send_wait(c, POLLIN)) != 0)
				return e;
			continue;
		}
		if (n == -1)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		c->in.len += (size_t)n;
		c->in.data[c->in.len] = '\0';
		c->st->bytes += (uint64_t)n;
	}
}

static int
snap_send_handshake(struct snap_send *c, const uint8_t psk[32])
{
	uint8_t nonce[SNAP_PROTO_NONCE_LEN];
	size_t len;
	int e;

	randombytes_buf(nonce, sizeof(nonce));
	snap_proto_init(&c->p, SNAP_ROLE_SENDER, psk, nonce);
	buf_append(&c->out, snap_proto_hello(&c->p), SNAP_PROTO_HELLO_LEN);
	if ((e = snap_send_flush(c)) != 0 ||
	    (e = snap_send_read_unit(c, &len)) != 0)
		return e;
	if ((e = snap_proto_on_hello(&c->p, (uint8_t *)c->in.data, len)) != 0)
		return e;
	buf_consume(&c->in, len);
	buf_append(&c->out, c->p.auth_out, SNAP_PROTO_AUTH_LEN);
	if ((e = snap_send_flush(c)) != 0)
		return e;
	/* A receiver that refuses our tag closes: that too is -EACCES. */
	if ((e = snap_send_read_unit(c, &len)) != 0)
		return e == -ECONNRESET ? -EACCES : e;
	if (snap_proto_on_auth(&c->p, (uint8_t *)c->in.data, len) != 0)
		return -EACCES;
	buf_consume(&c->in, len);
	return 0;
}

static int
snap_send_frame(struct snap_send *c, struct buf *f)
{
	snap_proto_seal(&c->p, f->data, f->len, &c->out);
	buf_reset(f);
	return snap_send_flush(c);
}

static int
snap_send_recv_msg(struct snap_send *c, struct snap_msg *m, const char **why)
{
	size_t len, flen;
	int e;

	*why = NULL;
	if ((e = snap_send_read_unit(c, &len)) != 0)
		return e;
	if (snap_proto_open(
	        &c->p, (uint8_t *)c->in.data, len, c->frame, &flen) != 0) {
		*why = "record failed authentication";
		return -EBADMSG;
	}
	buf_consume(&c->in, len);
	return snap_msg_decode(c->frame, flen, m, why);
}

/* Read chunk id's stored frame into f and prove it; its length in *flen. */
static int
snap_send_read_chunk(struct snap_store *s, const struct snap_id *id, uint8_t *f,
    size_t cap, uint8_t *raw, size_t *flen, const char **why)
{
	char *path = snap_store_chunk_path(s, id);
	struct snap_frame_seal seal;
	struct snap_id sum;
	size_t len = 0, rlen = 0;
	ssize_t n;
	int fd, e = 0;

	*why = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return -errno;
	while (len < cap && (n = read(fd, f + len, cap - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = -errno;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (e != 0)
		return e;
	if ((e = snap_frame_decode(&s->z, f, len, snap_store_seal(s, id, &seal),
	         raw, SNAP_FRAME_RAW_MAX, &rlen, why)) != 0)
		return -EBADMSG;
	snap_store_id_of(s, raw, rlen, &sum);
	if (snap_id_cmp(&sum, id) != 0) {
		*why = "content does not match its ID";
		return -EBADMSG;
	}
	*flen = len;
	return 0;
}

static int
snap_send_idcmp(const void *a, const void *b)
{
	return snap_id_cmp(a, b);
}

/*
 * Only chunks of the offered snapshot leave this store, each at most
 * once: a receiver that knows the PSK still cannot ask for the chunks of
 * other snapshots or volumes, or for one chunk over and over.
 */
static bool
snap_send_want_ok(
    const struct snap_manifest *m, const struct snap_id *want, uint32_t n)
{
	struct snap_id *have = xcalloc(m->nchunks + 1, sizeof(*have));
	struct snap_id *w = xcalloc((size_t)n + 1, sizeof(*w));
	bool ok = true;

	memcpy(have, m->chunks, m->nchunks * sizeof(*have));
	qsort(have, m->nchunks, sizeof(*have), snap_send_idcmp);
	memcpy(w, want, (size_t)n * sizeof(*w));
	qsort(w, n, sizeof(*w), snap_send_idcmp);
	for (uint32_t i = 0; ok && i < n; i++)
		ok = !snap_id_is_zero(&w[i]) &&
		    (i == 0 || snap_id_cmp(&w[i], &w[i - 1]) != 0) &&
		    bsearch(&w[i], have, m->nchunks, sizeof(*have),
		        snap_send_idcmp) != NULL;
	free(have);
	free(w);
	return ok;
}

/* Sleep so that bytes sent since t0 stay within limit bytes/s. */
static void
snap_send_pace(uint64_t t0_ms, uint64_t bytes, uint64_t limit)
{
	uint64_t due = t0_ms + bytes * 1000 / limit, now = util_mono_ms();

	if (due > now) {
		struct timespec ts = { (time_t)((due - now) / 1000),
			(long)((due - now) % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
}

static int
snap_send_connect(struct snap_send *c, const struct sockaddr_storage *to)
{
	socklen_t sl = to->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	                                           sizeof(struct sockaddr_in);
	int e = 0, one = 1;

	c->fd = socket(to->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return -errno;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)util_set_nonblock(c->fd);
	if (connect(c->fd, (const struct sockaddr *)to, sl) == -1) {
		socklen_t el = sizeof(e);

		if (errno != EINPROGRESS)
			return -errno;
		if ((e = snap_send_wait(c, POLLOUT)) != 0)
			return e;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1)
			return -errno;
		return -e;
	}
	return 0;
}

/*
 * Send the c->st->wanted chunks of want, each read and proven first. 0;
 * 1 when the receiver refused one (its ERR in *msg); or -errno with err.
 */
static int
snap_send_chunks(struct snap_send *c, struct snap_store *s,
    const struct snap_id *want, const struct snap_send_opts *o,
    struct snap_msg *msg, char *err, size_t errlen)
{
	size_t cap = snap_frame_bound(SNAP_FRAME_RAW_MAX), flen = 0;
	uint8_t *sf = xmalloc(cap), *raw = xmalloc(SNAP_FRAME_RAW_MAX);
	uint64_t t0 = util_mono_ms();
	char hex[SNAP_HEX_LEN + 1];
	const char *why;
	struct buf f;
	int e = 0;

	buf_init(&f);
	for (uint64_t i = 0; i < c->st->wanted; i++) {
		if ((e = snap_send_read_chunk(
		         s, &want[i], sf, cap, raw, &flen, &why)) != 0) {
			snap_id_hex(&want[i], hex);
			snprintf(err, errlen, "local chunk %s: %s", hex,
			    why != NULL ? why : strerror(-e));
			break;
		}
		snap_msg_chunk(&f, &want[i], sf, flen);
		if ((e = snap_send_frame(c, &f)) != 0) {
			/* A receiver that refused a chunk said why first. */
			if (snap_send_recv_msg(c, msg, &why) == 0 &&
			    msg->type == SNAP_MSG_ERR)
				e = 1;
			break;
		}
		c->st->chunks++;
		c->st->payload += flen;
		if (o->bwlimit > 0)
			snap_send_pace(t0, c->st->payload, o->bwlimit);
	}
	buf_fini(&f);
	free(sf);
	free(raw);
	return e;
}

static int
snap_send_session(struct snap_send *c, struct snap_store *s,
    const struct snap_manifest *m, const struct snap_send_opts *o, char *err,
    size_t errlen)
{
	struct buf f, mt;
	struct snap_msg msg;
	struct snap_id *want = NULL;
	const char *why;
	int e;

	buf_init(&f);
	buf_init(&mt);
	snap_manifest_format(m, &mt);
	snap_msg_offer(&f, m->volume, m->id, o->flags, mt.data, mt.len);
	if (f.len > SNAP_PROTO_FRAME_MAX) {
		snprintf(err, errlen,
		    "manifest of %" PRIu64 " chunks is past what protocol "
		    "version %d carries in one frame (%u bytes)",
		    m->nchunks, SNAP_PROTO_VERSION, SNAP_PROTO_FRAME_MAX);
		e = -EMSGSIZE;
		goto out;
	}
	if ((e = snap_send_frame(c, &f)) != 0)
		goto out;
	if ((e = snap_send_recv_msg(c, &msg, &why)) != 0)
		goto bad;
	if (msg.type == SNAP_MSG_ERR)
		goto refused;
	if (msg.type != SNAP_MSG_WANT) {
		e = -EBADMSG;
		why = "expected WANT";
		goto bad;
	}
	/* msg.ids points into c->frame, which the next read reuses. */
	c->st->wanted = msg.nids;
	want = xcalloc((size_t)msg.nids + 1, sizeof(*want));
	memcpy(want, msg.ids, (size_t)msg.nids * SNAP_ID_LEN);
	if (!snap_send_want_ok(m, want, msg.nids)) {
		e = -EBADMSG;
		why = "WANT names a chunk the offered snapshot does not have";
		goto bad;
	}
	e = snap_send_chunks(c, s, want, o, &msg, err, errlen);
	if (e == 1)
		goto refused;
	if (e != 0)
		goto out;
	snap_msg_commit(&f, c->st->chunks);
	if ((e = snap_send_frame(c, &f)) != 0)
		goto out;
	if ((e = snap_send_recv_msg(c, &msg, &why)) != 0)
		goto bad;
	if (msg.type == SNAP_MSG_OK) {
		snprintf(c->st->reply, sizeof(c->st->reply), "%s", msg.text);
		goto out;
	}
	if (msg.type != SNAP_MSG_ERR) {
		e = -EBADMSG;
		why = "expected OK or ERR";
		goto bad;
	}
refused:
	c->st->code = msg.code;
	snprintf(c->st->reply, sizeof(c->st->reply), "%s", msg.text);
	snprintf(
	    err, errlen, "receiver refused (code %u): %s", msg.code, msg.text);
	e = -EREMOTEIO;
	goto out;
bad:
	if (why != NULL)
		snprintf(err, errlen, "bad reply from the receiver: %s", why);
out:
	if (e != 0 && err[0] == '\0')
		snprintf(err, errlen, "%s", strerror(-e));
	free(want);
	buf_fini(&f);
	buf_fini(&mt);
	return e;
}

int
snap_send(struct snap_store *s, const struct snap_manifest *m,
    const struct snap_send_opts *o, struct snap_send_stats *st, char *err,
    size_t errlen)
{
	struct snap_send c;
	int e;

	memset(st, 0, sizeof(*st));
	memset(&c, 0, sizeof(c));
	err[0] = '\0';
	c.fd = -1;
	c.timeout_ms = o->timeout_ms;
	c.st = st;
	buf_init(&c.in);
	buf_init(&c.out);
	c.frame = xmalloc(SNAP_PROTO_FRAME_MAX);
	if ((e = snap_send_connect(&c, &o->to)) != 0) {
		snprintf(err, errlen, "connect: %s", strerror(-e));
		goto out;
	}
	if ((e = snap_send_handshake(&c, o->psk)) != 0) {
		snprintf(err, errlen, "handshake: %s",
		    e == -EACCES ? "the receiver and we do not share the PSK" :
		                   strerror(-e));
		goto out;
	}
	e = snap_send_session(&c, s, m, o, err, errlen);
out:
	if (c.fd != -1)
		close(c.fd);
	sodium_memzero(&c.p, sizeof(c.p));
	buf_fini(&c.in);
	buf_fini(&c.out);
	free(c.frame);
	return e;
}
