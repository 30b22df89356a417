/*
 * snap_plane.c - the snap plane of `haven run`: the receiving end of
 * snapshot replication. The parent binds `snap.listen`; this child
 * accepts on it, runs each session's handshake (snap_proto.h) and hands
 * the frames it opens to snap_recv.c, which changes the store.
 *
 * One process, one event loop, non-blocking sockets. A session reads one
 * unit (HELLO, AUTH or record) at a time, so its input buffer never holds
 * more than one record; its replies are small. Sessions beyond
 * max_sessions are closed at once and counted. A session that is not
 * authenticated within handshake_timeout, or idle for idle_timeout, is
 * dropped; a dropped session publishes nothing (snap_recv.h).
 *
 * The process keeps no capability: it only needs its listening socket
 * (the parent's) and a store its user may write.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/conf_node.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/plane.h"
#include "lib/priv.h"
#include "lib/util.h"
#include "snap/snap_conf.h"
#include "snap/snap_cont.h"
#include "snap/snap_recv.h"
#include "snap/snap_standby_run.h"
#include "snap/snap_store.h"

enum snap_plane_result {
	SNAP_RES_OK,      /* published (or had it already) */
	SNAP_RES_REFUSED, /* the session sent ERR */
	SNAP_RES_AUTH,    /* bad HELLO or wrong PSK */
	SNAP_RES_TIMEOUT, /* handshake or idle timeout */
	SNAP_RES_CLOSED,  /* the peer closed or reset mid-way */
	SNAP_RES_BADREC,  /* a record failed to open or decode */
	SNAP_RES_BUSY,    /* over max_sessions */
	SNAP_RES__COUNT,
};

static const char *const snap_plane_results[SNAP_RES__COUNT] = { "ok",
	"refused", "auth_failed", "timeout", "closed", "bad_record", "busy" };

struct snap_sess {
	struct snap_sess *next;
	int fd;
	struct ev_io io;
	struct ev_timer timer;
	struct snap_proto p;
	struct snap_recv r;
	char *root;     /* owned: the store at the session's start */
	struct buf in;  /* at most one unit */
	struct buf out; /* to write */
	uint8_t *frame; /* owned: one opened record, once OPEN */
	bool ending;    /* flush out, then close with result */
	enum snap_plane_result result;
	char peer[INET6_ADDRSTRLEN + 8];
	uint64_t start_ms;
	uint64_t rx, tx;
};

struct snap_last {
	bool set;
	char peer[INET6_ADDRSTRLEN + 8];
	char volume[SNAP_NAME_MAX + 1], id[SNAP_NAME_MAX + 1];
	enum snap_plane_result result;
	char error[SNAP_PROTO_TEXT_MAX];
	char standby[160]; /* what the standby image took, or "" */
	uint64_t chunks, bytes, ms, end_wall;
};

struct snap_plane_rt {
	struct ev_loop *loop; /* borrowed: the child runtime's */
	char *store;          /* owned: copy of the config's */
	char listen[INET6_ADDRSTRLEN + 8];
	uint8_t psk[SNAP_PROTO_PSK_LEN];
	bool have_psk;
	uint32_t max_sessions;
	uint64_t hs_ms, idle_ms;
	int lfd; /* owned: dup of the parent's socket, -1 when none */
	struct ev_io lio;
	struct snap_sess *sess; /* owned list */
	uint32_t nsess;
	struct snap_last last;
	/* counters */
	uint64_t results[SNAP_RES__COUNT];
	uint64_t rx_bytes, chunks, chunk_bytes, accept_errors;
	struct snap_cont *cont; /* owned: the sender side (snap.volumes) */
	struct snap_standby_run *standby; /* owned: snap.standby's appliers */
};

static struct snap_plane_rt snap_rt = { .lfd = -1 };

static void snap_plane_sess_io(struct ev_io *io, unsigned events, void *arg);

static void
snap_plane_sess_free(struct snap_sess *ss)
{
	struct snap_sess **pp;
	struct snap_last *l = &snap_rt.last;

	for (pp = &snap_rt.sess; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ss) {
			*pp = ss->next;
			break;
		}
	snap_rt.nsess--;
	snap_rt.results[ss->result]++;
	memset(l, 0, sizeof(*l));
	l->set = true;
	snprintf(l->peer, sizeof(l->peer), "%s", ss->peer);
	if (ss->r.have_m) {
		snprintf(l->volume, sizeof(l->volume), "%s", ss->r.m.volume);
		snprintf(l->id, sizeof(l->id), "%s", ss->r.m.id);
	}
	l->result = ss->result;
	snprintf(l->error, sizeof(l->error), "%s", ss->r.err);
	if (ss->result == SNAP_RES_OK && ss->r.standby_kick)
		snap_standby_run_kick(snap_rt.standby, ss->r.m.volume);
	/* "; standby image: ..." without its leading "; " */
	snprintf(l->standby, sizeof(l->standby), "%s",
	    ss->r.standby_note[0] != '\0' ? ss->r.standby_note + 2 : "");
	l->chunks = ss->r.chunks;
	l->bytes = ss->rx;
	l->ms = ev_now_ms(snap_rt.loop) - ss->start_ms;
	l->end_wall = (uint64_t)time(NULL);
	log_info("snap session ended",
	    "peer=%s result=%s volume=%s id=%s "
	    "chunks=%llu bytes=%llu error=%s standby=%s",
	    ss->peer, snap_plane_results[ss->result], l->volume, l->id,
	    (unsigned long long)l->chunks, (unsigned long long)l->bytes,
	    l->error[0] != '\0' ? l->error : "-",
	    l->standby[0] != '\0' ? l->standby : "-");
	ev_io_stop(snap_rt.loop, &ss->io);
	ev_timer_stop(snap_rt.loop, &ss->timer);
	close(ss->fd);
	/* Syncs what was stored, publishes nothing that was not. */
	snap_recv_fini(&ss->r);
	sodium_memzero(&ss->p, sizeof(ss->p));
	buf_fini(&ss->in);
	buf_fini(&ss->out);
	free(ss->frame);
	free(ss->root);
	ev_defer_free(snap_rt.loop, ss, NULL);
}

static void
snap_plane_sess_end(struct snap_sess *ss, enum snap_plane_result res)
{
	ss->result = res;
	ss->ending = true;
	if (ss->out.len == 0)
		snap_plane_sess_free(ss);
}

/* Write what is queued; end the session when it was its last word. */
static int
snap_plane_sess_flush(struct snap_sess *ss)
{
	while (ss->out.len > 0) {
		ssize_t n =
		    send(ss->fd, ss->out.data, ss->out.len, MSG_NOSIGNAL);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == -1) {
			buf_reset(&ss->out);
			if (!ss->ending)
				ss->result = SNAP_RES_CLOSED;
			snap_plane_sess_free(ss);
			return -1;
		}
		ss->tx += (uint64_t)n;
		buf_consume(&ss->out, (size_t)n);
	}
	if (ss->out.len == 0 && ss->ending) {
		snap_plane_sess_free(ss);
		return -1;
	}
	/* An ending session reads no more: only its last words go out. */
	if (ev_io_start(snap_rt.loop, &ss->io,
	        ss->ending          ? EV_WRITE :
	            ss->out.len > 0 ? EV_READ | EV_WRITE :
	                              EV_READ) != 0) {
		ss->result = SNAP_RES_CLOSED;
		snap_plane_sess_free(ss);
		return -1;
	}
	return 0;
}

/* One whole record: open, decode, hand to snap_recv, seal the reply. */
static void
snap_plane_sess_record(struct snap_sess *ss, size_t len)
{
	struct snap_msg msg;
	struct buf reply;
	const char *why;
	size_t flen;
	int rc;

	if (snap_proto_open(&ss->p, (const uint8_t *)ss->in.data, len,
	        ss->frame, &flen) != 0) {
		snprintf(ss->r.err, sizeof(ss->r.err),
		    "record failed authentication");
		snap_plane_sess_end(ss, SNAP_RES_BADREC);
		return;
	}
	if (snap_msg_decode(ss->frame, flen, &msg, &why) != 0) {
		snprintf(ss->r.err, sizeof(ss->r.err), "bad frame: %s", why);
		snap_plane_sess_end(ss, SNAP_RES_BADREC);
		return;
	}
	buf_init(&reply);
	rc = snap_recv_msg(&ss->r, &msg, &reply);
	if (msg.type == SNAP_MSG_CHUNK && rc == 0) {
		snap_rt.chunks++;
		snap_rt.chunk_bytes += msg.frame_len;
	}
	if (reply.len > 0)
		snap_proto_seal(&ss->p, reply.data, reply.len, &ss->out);
	buf_fini(&reply);
	if (rc == 1)
		snap_plane_sess_end(ss, SNAP_RES_OK);
	else if (rc < 0)
		snap_plane_sess_end(ss, SNAP_RES_REFUSED);
}

/* Act on the whole unit at the front of ss->in. -1: the session ended. */
static int
snap_plane_sess_unit(struct snap_sess *ss, size_t len)
{
	const uint8_t *u = (const uint8_t *)ss->in.data;

	switch (ss->p.state) {
	case SNAP_PS_HELLO:
		if (snap_proto_on_hello(&ss->p, u, len) != 0) {
			snprintf(ss->r.err, sizeof(ss->r.err), "bad HELLO");
			snap_plane_sess_end(ss, SNAP_RES_AUTH);
			return -1;
		}
		buf_append(&ss->out, ss->p.auth_out, SNAP_PROTO_AUTH_LEN);
		break;
	case SNAP_PS_AUTH:
		if (snap_proto_on_auth(&ss->p, u, len) != 0) {
			snprintf(ss->r.err, sizeof(ss->r.err),
			    "authentication failed (wrong PSK?)");
			/* Nothing more is said to a peer without the key. */
			buf_reset(&ss->out);
			snap_plane_sess_end(ss, SNAP_RES_AUTH);
			return -1;
		}
		ss->frame = xmalloc(SNAP_PROTO_FRAME_MAX);
		ev_timer_start(snap_rt.loop, &ss->timer, snap_rt.idle_ms);
		log_info("snap session authenticated", "peer=%s", ss->peer);
		break;
	case SNAP_PS_OPEN:
		snap_plane_sess_record(ss, len);
		break;
	case SNAP_PS_DEAD:
		return -1;
	}
	/* An ended session may be freed already: touch nothing. */
	if (ss->ending)
		return -1;
	buf_consume(&ss->in, len);
	return 0;
}

static void
snap_plane_sess_read(struct snap_sess *ss)
{
	for (;;) {
		long need = snap_proto_need(
		    &ss->p, (const uint8_t *)ss->in.data, ss->in.len);
		ssize_t n;

		if (need < 0) {
			snprintf(ss->r.err, sizeof(ss->r.err),
			    "record length out of range");
			snap_plane_sess_end(ss, SNAP_RES_BADREC);
			return;
		}
		if ((size_t)need <= ss->in.len) {
			if (snap_plane_sess_unit(ss, (size_t)need) != 0)
				return;
			continue;
		}
		buf_reserve(&ss->in, (size_t)need - ss->in.len);
		n = recv(ss->fd, ss->in.data + ss->in.len,
		    (size_t)need - ss->in.len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (ss->r.err[0] == '\0')
				snprintf(ss->r.err, sizeof(ss->r.err),
				    "peer closed mid-session");
			buf_reset(&ss->out);
			snap_plane_sess_end(ss,
			    ss->p.state == SNAP_PS_AUTH ? SNAP_RES_AUTH :
			                                  SNAP_RES_CLOSED);
			return;
		}
		ss->in.len += (size_t)n;
		ss->in.data[ss->in.len] = '\0';
		ss->rx += (uint64_t)n;
		snap_rt.rx_bytes += (uint64_t)n;
		/* The handshake deadline runs from accept: a peer that
		 * trickles bytes does not push it back. */
		if (ss->p.state == SNAP_PS_OPEN)
			ev_timer_start(
			    snap_rt.loop, &ss->timer, snap_rt.idle_ms);
	}
}

static void
snap_plane_sess_io(struct ev_io *io, unsigned events, void *arg)
{
	struct snap_sess *ss = arg;

	if (!ss->ending && (events & (EV_READ | EV_ERROR)))
		snap_plane_sess_read(ss);
	/* The read may have freed ss: it is then off the list. */
	for (struct snap_sess *s = snap_rt.sess; s != NULL; s = s->next)
		if (s == ss) {
			(void)snap_plane_sess_flush(ss);
			return;
		}
}

static void
snap_plane_sess_timeout(struct ev_timer *t, void *arg)
{
	struct snap_sess *ss = arg;

	snprintf(ss->r.err, sizeof(ss->r.err), "%s timeout",
	    ss->p.state == SNAP_PS_OPEN ? "idle" : "handshake");
	buf_reset(&ss->out);
	snap_plane_sess_end(ss, SNAP_RES_TIMEOUT);
}

static void
snap_plane_peer_name(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
	}
	snprintf(
	    out, n, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

static void
snap_plane_accept(struct ev_io *io, unsigned events, void *arg)
{
	struct sockaddr_storage sa;
	uint8_t nonce[SNAP_PROTO_NONCE_LEN];
	struct snap_sess *ss;
	socklen_t sl;
	int fd, one = 1;

	for (;;) {
		sl = sizeof(sa);
		fd = accept4(snap_rt.lfd, (struct sockaddr *)&sa, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR)
				snap_rt.accept_errors++;
			return;
		}
		if (snap_rt.nsess >= snap_rt.max_sessions ||
		    !snap_rt.have_psk) {
			snap_rt.results[SNAP_RES_BUSY]++;
			close(fd);
			continue;
		}
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ss = xcalloc(1, sizeof(*ss));
		ss->fd = fd;
		ss->root = xstrdup(snap_rt.store);
		ss->start_ms = ev_now_ms(snap_rt.loop);
		snap_plane_peer_name(&sa, ss->peer, sizeof(ss->peer));
		buf_init(&ss->in);
		buf_init(&ss->out);
		snap_recv_init(&ss->r, ss->root);
		ss->r.standby = snap_standby_run_set(snap_rt.standby);
		randombytes_buf(nonce, sizeof(nonce));
		snap_proto_init(&ss->p, SNAP_ROLE_RECEIVER, snap_rt.psk, nonce);
		buf_append(
		    &ss->out, snap_proto_hello(&ss->p), SNAP_PROTO_HELLO_LEN);
		ev_io_init(&ss->io, fd, snap_plane_sess_io, ss);
		ev_timer_init(&ss->timer, snap_plane_sess_timeout, ss);
		ev_timer_start(snap_rt.loop, &ss->timer, snap_rt.hs_ms);
		ss->next = snap_rt.sess;
		snap_rt.sess = ss;
		snap_rt.nsess++;
		(void)snap_plane_sess_flush(ss);
	}
}

static int
snap_plane_init(struct ev_loop *loop, unsigned worker, unsigned nworkers)
{
	snap_rt.loop = loop;
	if (sodium_init() < 0)
		return -EIO;
	snap_rt.cont = snap_cont_new(loop);
	snap_rt.standby = snap_standby_run_new(loop);
	return 0;
}

static void
snap_plane_listen_set(int fd)
{
	if (snap_rt.lfd != -1) {
		ev_io_stop(snap_rt.loop, &snap_rt.lio);
		close(snap_rt.lfd);
		snap_rt.lfd = -1;
	}
	if (fd == -1)
		return;
	snap_rt.lfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (snap_rt.lfd == -1)
		return;
	(void)util_set_nonblock(snap_rt.lfd);
	ev_io_init(&snap_rt.lio, snap_rt.lfd, snap_plane_accept, NULL);
	if (ev_io_start(snap_rt.loop, &snap_rt.lio, EV_READ) != 0)
		log_warn("snap listen socket not polled", "fd=%d", snap_rt.lfd);
}

/* The receiver's half of apply: fd is the parent's socket. */
static void
snap_plane_apply_recv(const struct snap_conf *c, const uint8_t *psk, int fd)
{
	memcpy(snap_rt.psk, psk, SNAP_PROTO_PSK_LEN);
	snap_rt.have_psk = true;
	free(snap_rt.store);
	snap_rt.store = xstrdup(c->store);
	snap_plane_peer_name(
	    &c->listen, snap_rt.listen, sizeof(snap_rt.listen));
	snap_rt.max_sessions = c->max_sessions;
	snap_rt.hs_ms = c->handshake_timeout_ms;
	snap_rt.idle_ms = c->idle_timeout_ms;
	snap_plane_listen_set(fd);
	log_info("snap config applied", "listen=%s store=%s", snap_rt.listen,
	    snap_rt.store);
}

/* Sessions in flight keep the store they started with. */
static int
snap_plane_apply(const void *old, const void *conf, const struct plane_env *env,
    struct conf_errors *errs)
{
	const struct snap_conf *c = conf;
	uint8_t psk[SNAP_PROTO_PSK_LEN] = { 0 };
	char err[256];
	int fd = -1;

	if (c->psk_file != NULL &&
	    snap_proto_psk_load(c->psk_file, psk, err, sizeof(err)) != 0) {
		conf_errors_addf(errs, "snap", 0, 0, "%s", err);
		return -EINVAL;
	}
	if (c->listen.ss_family != AF_UNSPEC) {
		for (size_t i = 0; i < env->nsocks; i++)
			if (!env->socks[i].adopted)
				fd = env->socks[i].fd;
		if (fd == -1) {
			conf_errors_addf(errs, "snap", 0, 0,
			    "listen: no socket from the parent");
			sodium_memzero(psk, sizeof(psk));
			return -EINVAL;
		}
		snap_plane_apply_recv(c, psk, fd);
	} else {
		/* No receiver: idle, or a sender only. */
		snap_plane_listen_set(-1);
		snap_rt.have_psk = false;
		sodium_memzero(snap_rt.psk, sizeof(snap_rt.psk));
		free(snap_rt.store);
		snap_rt.store = c->store != NULL ? xstrdup(c->store) : NULL;
		snap_rt.listen[0] = '\0';
	}
	snap_standby_run_apply(
	    snap_rt.standby, c->store, c->standby, c->nstandby);
	snap_cont_apply(snap_rt.cont, c, psk);
	sodium_memzero(psk, sizeof(psk));
	return 0;
}

static void
snap_plane_metrics(struct buf *out)
{
	struct buf l;

	buf_init(&l);
	mx_family(out, "haven_snap_sessions_total", "counter",
	    "replication sessions received, by result");
	for (int i = 0; i < SNAP_RES__COUNT; i++) {
		buf_reset(&l);
		mx_label(&l, "result", snap_plane_results[i]);
		mx_u64(out, "haven_snap_sessions_total", l.data,
		    snap_rt.results[i]);
	}
	buf_fini(&l);
	mx_family(out, "haven_snap_auth_failures_total", "counter",
	    "replication peers that failed the PSK handshake");
	mx_u64(out, "haven_snap_auth_failures_total", NULL,
	    snap_rt.results[SNAP_RES_AUTH]);
	mx_family(out, "haven_snap_sessions_active", "gauge",
	    "replication sessions in progress");
	mx_u64(out, "haven_snap_sessions_active", NULL, snap_rt.nsess);
	mx_family(out, "haven_snap_received_bytes_total", "counter",
	    "bytes read from replication peers");
	mx_u64(out, "haven_snap_received_bytes_total", NULL, snap_rt.rx_bytes);
	mx_family(out, "haven_snap_received_chunks_total", "counter",
	    "chunks received, checked and stored");
	mx_u64(out, "haven_snap_received_chunks_total", NULL, snap_rt.chunks);
	mx_family(out, "haven_snap_received_chunk_bytes_total", "counter",
	    "frame bytes of the chunks received");
	mx_u64(out, "haven_snap_received_chunk_bytes_total", NULL,
	    snap_rt.chunk_bytes);
	mx_family(out, "haven_snap_accept_errors_total", "counter",
	    "accept(2) failures on the replication socket");
	mx_u64(
	    out, "haven_snap_accept_errors_total", NULL, snap_rt.accept_errors);
	snap_cont_metrics(snap_rt.cont, out);
}

static void
snap_plane_query_snapshots(struct jw *w)
{
	struct snap_store *s = NULL;
	struct snap_ref *v = NULL;
	size_t n = 0;

	jw_key(w, "volumes");
	jw_obj_begin(w);
	if (snap_rt.store != NULL &&
	    snap_store_open(snap_rt.store, false, &s) == 0 &&
	    snap_store_list(s, NULL, &v, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (i == 0 ||
			    strcmp(v[i].volume, v[i - 1].volume) != 0) {
				if (i > 0)
					jw_arr_end(w);
				jw_key(w, v[i].volume);
				jw_arr_begin(w);
			}
			jw_str(w, v[i].id);
		}
		if (n > 0)
			jw_arr_end(w);
	}
	jw_obj_end(w);
	/* Each volume's role here (snap_vol.h): failover at a glance. */
	jw_key(w, "roles");
	jw_obj_begin(w);
	for (size_t i = 0; s != NULL && i < n; i++) {
		struct snap_vol vol;
		char err[384];

		if ((i > 0 && strcmp(v[i].volume, v[i - 1].volume) == 0) ||
		    snap_vol_read(s, v[i].volume, &vol, err, sizeof(err)) != 0)
			continue;
		jw_key(w, v[i].volume);
		jw_obj_begin(w);
		jw_kstr(w, "role", snap_role_name(vol.role));
		jw_kstr(w, "generation", vol.generation);
		jw_kstr(w, "head", vol.head);
		jw_kuint(w, "head_seq", vol.head_seq);
		jw_obj_end(w);
	}
	jw_obj_end(w);
	snap_standby_run_json(snap_rt.standby, w);
	free(v);
	snap_store_close(s);
}

static int
snap_plane_query(const char *method, const char *path, const char *body,
    size_t body_len, struct buf *out)
{
	const struct snap_last *l = &snap_rt.last;
	struct jw w;

	if (strcmp(method, "GET") != 0) {
		buf_puts(out, "{\"error\":\"method not allowed\"}");
		return 405;
	}
	if (strcmp(path, "/v1/snap") != 0 && strcmp(path, "/v1/snap/") != 0) {
		buf_puts(out, "{\"error\":\"not found\"}");
		return 404;
	}
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kstr(&w, "store", snap_rt.store != NULL ? snap_rt.store : "");
	jw_kstr(&w, "listen", snap_rt.listen);
	jw_kuint(&w, "sessions_active", snap_rt.nsess);
	jw_kuint(&w, "max_sessions", snap_rt.max_sessions);
	snap_plane_query_snapshots(&w);
	snap_cont_json(snap_rt.cont, &w);
	jw_key(&w, "last_session");
	if (!l->set) {
		jw_null(&w);
	} else {
		jw_obj_begin(&w);
		jw_kstr(&w, "peer", l->peer);
		jw_kstr(&w, "result", snap_plane_results[l->result]);
		jw_kstr(&w, "volume", l->volume);
		jw_kstr(&w, "id", l->id);
		jw_kuint(&w, "chunks", l->chunks);
		jw_kuint(&w, "bytes", l->bytes);
		jw_kuint(&w, "duration_ms", l->ms);
		jw_kuint(&w, "ended", l->end_wall);
		jw_kstr(&w, "error", l->error);
		jw_kstr(&w, "standby", l->standby);
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	jw_finish(&w);
	return 200;
}

/* Sessions in flight are dropped: none publishes (snap_recv.h). */
static void
snap_plane_stop(unsigned deadline_ms)
{
	while (snap_rt.sess != NULL) {
		snprintf(snap_rt.sess->r.err, sizeof(snap_rt.sess->r.err),
		    "daemon stopping");
		snap_rt.sess->result = SNAP_RES_CLOSED;
		snap_plane_sess_free(snap_rt.sess);
	}
	snap_plane_listen_set(-1);
	snap_cont_free(snap_rt.cont);
	snap_rt.cont = NULL;
	sodium_memzero(snap_rt.psk, sizeof(snap_rt.psk));
	free(snap_rt.store);
	snap_rt.store = NULL;
	snap_standby_run_free(snap_rt.standby);
	snap_rt.standby = NULL;
	plane_stopped();
}

static const char *
snap_plane_str(struct conf_node *n, const char *path, char *buf, size_t size)
{
	struct conf_node *v = conf_node_at(n, path);
	char *t = v != NULL ? conf_node_text(v) : NULL;

	snprintf(buf, size, "%s", t != NULL && t[0] != '\0' ? t : "-");
	free(t);
	return buf;
}

/* One line per standby image: is it at the head, and if not, why. */
static void
snap_plane_status_standby(struct conf_node *root)
{
	struct conf_node *sbs = conf_node_at(root, "/standby");

	for (size_t i = 0; i < conf_node_count(sbs); i++) {
		struct conf_node *sb = conf_node_item(sbs, i);
		char vol[SNAP_NAME_MAX + 1], img[256], id[SNAP_NAME_MAX + 1];
		char cur[8], ok[8], run[8];

		snap_plane_str(sb, "/volume", vol, sizeof(vol));
		snap_plane_str(sb, "/image", img, sizeof(img));
		snap_plane_str(sb, "/snapshot", id, sizeof(id));
		snap_plane_str(sb, "/current", cur, sizeof(cur));
		snap_plane_str(sb, "/intact", ok, sizeof(ok));
		snap_plane_str(sb, "/running", run, sizeof(run));
		printf("  standby %s -> %s: %s\n", vol, img,
		    strcmp(run, "true") == 0 ? "being brought to the head" :
		    strcmp(cur, "true") == 0 ? "at the head" :
		        strcmp(id, "-") == 0 ? "no record (the next snapshot "
		                               "hashes it)" :
		        strcmp(ok, "true") != 0 ?
		                               "changed since its record (the "
		                               "next snapshot hashes it)" :
		                               "behind the head (the next "
		                               "snapshot brings it)");
	}
}

/* `haven status`: the receiver, its volumes and the last session. */
static void
snap_plane_status(struct conf_node *root)
{
	struct conf_node *vols = conf_node_at(root, "/volumes");
	char a[256], b[256], c[64], d[64], e[64], f[256], g[64];

	if (strcmp(snap_plane_str(root, "/listen", a, sizeof(a)), "-") == 0)
		printf("\nSnapshot store %s (no receiver)\n",
		    snap_plane_str(root, "/store", b, sizeof(b)));
	else
		printf("\nSnapshot receiver on %s, store %s, sessions %s\n", a,
		    snap_plane_str(root, "/store", b, sizeof(b)),
		    snap_plane_str(root, "/sessions_active", c, sizeof(c)));
	for (size_t i = 0; i < conf_node_count(vols); i++) {
		struct conf_node *ids = conf_node_value(vols, i);
		char *k = conf_node_text(conf_node_key(vols, i));
		struct conf_node *last =
		    conf_node_item(ids, conf_node_count(ids) - 1);
		char *t = last != NULL ? conf_node_text(last) : NULL;

		char path[SNAP_NAME_MAX + 16];

		snprintf(
		    path, sizeof(path), "/roles/%s/role", k != NULL ? k : "?");
		printf("  %-24s %-7s %4zu snapshots, newest %s\n",
		    k != NULL ? k : "?",
		    snap_plane_str(root, path, a, sizeof(a)),
		    conf_node_count(ids), t != NULL ? t : "-");
		free(k);
		free(t);
	}
	snap_plane_status_standby(root);
	snap_cont_status(root);
	if (!conf_node_is_map(conf_node_at(root, "/last_session")))
		return;
	snap_plane_str(root, "/last_session/error", f, sizeof(f));
	printf("  last session: %s from %s, %s/%s, %s chunks, %s ms%s%s\n",
	    snap_plane_str(root, "/last_session/result", c, sizeof(c)),
	    snap_plane_str(root, "/last_session/peer", a, sizeof(a)),
	    snap_plane_str(root, "/last_session/volume", d, sizeof(d)),
	    snap_plane_str(root, "/last_session/id", b, sizeof(b)),
	    snap_plane_str(root, "/last_session/chunks", e, sizeof(e)),
	    snap_plane_str(root, "/last_session/duration_ms", g, sizeof(g)),
	    strcmp(f, "-") != 0 ? ": " : "", strcmp(f, "-") != 0 ? f : "");
}

static size_t
snap_plane_sockets(const void *conf, struct plane_sock_spec **out)
{
	const struct snap_conf *c = conf;
	struct plane_sock_spec *v = xcalloc(1, sizeof(*v));

	if (c->listen.ss_family == AF_UNSPEC) {
		*out = v;
		return 0;
	}
	snprintf(v->name, sizeof(v->name), "snap");
	v->type = SOCK_STREAM;
	v->addr = c->listen;
	*out = v;
	return 1;
}

/*
 * CAP_SYS_ADMIN only when a volume freezes file systems (FIFREEZE and
 * FITHAW need it; snap_freeze.h). Hooks are exec'd without it.
 */
static uint64_t
snap_plane_caps(const void *conf, gid_t gid)
{
	const struct snap_conf *c = conf;

	for (size_t i = 0; i < c->nvolumes; i++)
		if (c->volumes[i].nfreeze > 0)
			return PRIV_CAP(CAP_SYS_ADMIN);
	return 0;
}

const struct plane_ops snap_plane = {
	.name = "snap",
	.init = snap_plane_init,
	.apply = snap_plane_apply,
	.query = snap_plane_query,
	.metrics = snap_plane_metrics,
	.stop = snap_plane_stop,
	.sockets = snap_plane_sockets,
	.status = snap_plane_status,
	.caps = snap_plane_caps,
};
