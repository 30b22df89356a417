/*
 * lb_conn.h - internal types of the lb data path, shared by lb_listener.c,
 * lb_conn.c, lb_conn_io.c, lb_bconn.c, lb_http*.c, lb_tcp.c, lb_retry.c,
 * lb_tls.c and lb_log.c only.
 *
 * Objects and lifetimes:
 *   - struct lb_listener: one per configured listener; counted by its
 *     connections (refs), freed when closed and the last one ends.
 *   - struct lb_conn: one accepted client connection. It owns at most one
 *     backend connection at a time (b) and three I/O buffers, all taken
 *     lazily from a per-worker pool and handed back as soon as they are
 *     empty, so an idle keep-alive connection holds no buffer at all.
 *   - struct lb_bconn: one connection to a server. Attached to a client
 *     (c != NULL) or parked idle in its server's keep-alive list.
 * Freeing happens through ev_defer_free(): an epoll batch may still carry an
 * event for a connection closed earlier in the same batch.
 *
 * Per-worker state: each file below that needs state across calls keeps it
 * in its own struct (struct lb_conn_set, lb_bufpool, lb_idle_set, ...),
 * declared in its section here and held by the one struct lb_worker
 * (lb_worker.h). Connections and listeners carry a borrowed pointer to
 * their worker, so every path reaches that state with one pointer load.
 *
 * Buffers (struct lb_iobuf), by role:
 *   in  client bytes: request heads, request bodies, tunnel upstream data;
 *   hb  heads we rewrite: the request head (kept until a response starts,
 *       for retries), then the response head, or a locally made response;
 *   rb  server bytes: response heads and bodies, tunnel downstream data.
 */
#ifndef HAVEN_LB_CONN_H
#define HAVEN_LB_CONN_H

#include <sys/socket.h>
#include <sys/uio.h>

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "hc/hc.h"
#include "lb/lb_conf.h"
#include "lb/lb_metrics.h"
#include "lb/lb_pool.h"
#include "lb/lb_proxyproto.h"
#include "lb/lb_uring.h"
#include "lib/ev.h"
#include "lib/http1.h"

/*
 * 32 KiB: an L4 relay copying through buffers this size measured 1.1-1.5x
 * HAProxy's throughput on loopback (bench/lb_tcp.sh), where 16 KiB gave
 * 0.9x and 64 KiB far less; idle connections hold no buffer at all.
 */
#define LB_BUF_SIZE      (32 * 1024)
#define LB_BUF_POOL_KEEP 128 /* free buffers kept per worker (4 MiB) */
#define LB_MAX_TRIES     8   /* first attempt + retries, hard cap */
#define LB_ACCEPT_BATCH  64  /* accepts per readiness event */
#define LB_TARGET_LOG    96  /* request target bytes kept for the log */
/*
 * A pooled connection idle for longer than this is not trusted with a
 * non-idempotent request: servers commonly close idle connections after a
 * few seconds, and a request lost in that race cannot be retried.
 */
#define LB_IDLE_SAFE_MS  2000
/* Pooled connections idle longer than this are closed, not reused. */
#define LB_IDLE_MAX_MS   60000
/* With splice on, a relay direction switches to it after this many bytes. */
#define LB_SPLICE_AFTER  (64 * 1024)

/* How a client connection or request ended: log field and counter label. */
enum lb_term {
	LB_TERM_OK,              /* response complete */
	LB_TERM_CLIENT_CLOSE,    /* client closed between requests */
	LB_TERM_CLIENT_TIMEOUT,  /* client_timeout: idle or stalled */
	LB_TERM_HEADER_TIMEOUT,  /* header_timeout: slow request head */
	LB_TERM_REQUEST_TIMEOUT, /* request_timeout: slow body */
	LB_TERM_BAD_REQUEST,     /* parse error: 400/431/505 sent */
	LB_TERM_PROXYPROTO,      /* bad PROXY protocol header */
	LB_TERM_TLS,             /* TLS handshake or record failure */
	LB_TERM_CLIENT_ABORT,    /* client closed or reset mid-request */
	LB_TERM_NO_SERVER,       /* all down: all_down_status sent */
	LB_TERM_QUEUE_FULL,      /* max_queue reached: 503 */
	LB_TERM_QUEUE_TIMEOUT,   /* queue_timeout: 503 */
	LB_TERM_CONNECT_FAIL,    /* every attempt failed to connect: 502 */
	LB_TERM_SERVER_TIMEOUT,  /* server_timeout / per-try: 504 */
	LB_TERM_SERVER_ERROR,    /* server reset or closed: 502 or cut */
	LB_TERM_BAD_RESPONSE,    /* unparseable response: 502 */
	LB_TERM_STOPPING,        /* closed by a graceful stop deadline */
	LB_TERM__COUNT
};

/* Why a listener stopped accepting (lb_limit.c); a metric label. */
enum lb_pause {
	LB_PAUSE_NONE,
	LB_PAUSE_MAX_CONN,     /* its effective max_conn reached */
	LB_PAUSE_WORKER,       /* the worker's descriptor budget spent */
	LB_PAUSE_ACCEPT_ERROR, /* accept failed: EMFILE, ENFILE, ENOBUFS... */
	LB_PAUSE__COUNT
};

struct lb_listener_stats {
	uint64_t accepted;
	uint64_t accept_paused[LB_PAUSE__COUNT]; /* accept stopped, by cause */
	uint64_t accept_errors; /* accept4 failures other than EAGAIN */
	/* accepted from another worker's socket while it was down */
	uint64_t accepted_adopted;
	uint64_t adopted;   /* other workers' sockets taken on */
	uint64_t requests;  /* request heads parsed */
	uint64_t responses; /* responses forwarded complete */
	uint64_t retries;
	uint64_t retry_budget_denied;
	uint64_t backend_reused; /* requests served on a pooled connection */
	uint64_t backend_connects;
	uint64_t spliced_bytes;       /* TCP relay bytes moved by splice(2) */
	uint64_t bytes_in, bytes_out; /* from / to clients */
	uint64_t http_errors[HTTP1_E__COUNT];   /* request parse errors */
	uint64_t bad_responses[HTTP1_E__COUNT]; /* response parse errors */
	uint64_t proxyproto_errors[LB_PROXYPROTO_E__COUNT];
	uint64_t tls_handshake_errors;
	uint64_t term[LB_TERM__COUNT];
};

/* Per-listener retry budget: one-second windows. */
struct lb_retry_budget {
	uint64_t window_ms;
	uint32_t requests;
	uint32_t prev_requests; /* the window before, if it was the last one */
	uint32_t retries;
};

struct lb_tls;
struct lb_conn;
struct lb_listener;
struct lb_worker;

/* Another worker's socket of a listener, drained while that one is down. */
struct lb_lsock {
	struct lb_lsock *next; /* owned list link */
	struct lb_listener *l; /* borrowed: the listener it feeds */
	unsigned slot;         /* the worker whose socket it is */
	int fd;                /* owned: a dup of what the parent sent */
	struct ev_io io;
};

struct lb_listener {
	char *name;                   /* owned */
	char *pool_name;              /* owned */
	char *all_down_body;          /* owned */
	char *hash_header;            /* owned; NULL unless balance: header */
	struct lb_listener_conf conf; /* copy: pointer fields NULL */
	struct lb_pool_conf pconf;    /* copy of its pool: pointers NULL */
	size_t hash_header_len;
	struct lb_pool *pool; /* borrowed: lb runtime; NULL once closed */
	struct lb_tls *tls;   /* counted: one ref; NULL without TLS */
	struct lb_worker *w;  /* borrowed: its worker, which outlives it */
	struct ev_loop *loop; /* borrowed: w->loop, kept for the hot path */
	struct ev_io io;
	struct ev_timer pause; /* retry after an accept error */
	int fd;                /* owned: this worker's socket; -1 once closed */
	struct lb_lsock *adopted; /* owned list: down workers' sockets */
	unsigned refs;            /* 1 while configured + 1 per connection */
	unsigned nconn;
	unsigned max_conn_eff; /* max_conn within the fd budget (lb_limit.c) */
	enum lb_pause paused;  /* LB_PAUSE_NONE while accepting */
	bool seen;             /* scratch for lb_proxy_apply's diff */
	struct lb_conn *qhead, *qtail; /* borrowed: connections queued */
	unsigned nqueue;
	struct lb_retry_budget budget;
	struct lb_listener_stats st;
	struct lb_listener *next; /* owned: the worker's list */
};

struct lb_iobuf {
	char *data;   /* owned: a pool buffer of LB_BUF_SIZE, or NULL */
	uint32_t off; /* first byte not yet consumed */
	uint32_t len; /* end of the valid bytes */
};

enum lb_conn_state {
	LB_CS_TLS,      /* TLS handshake */
	LB_CS_PROXY,    /* waiting for the PROXY protocol header */
	LB_CS_IDLE,     /* between requests (keep-alive) */
	LB_CS_HEAD,     /* reading a request head */
	LB_CS_QUEUED,   /* every server at max_conn: waiting */
	LB_CS_CONNECT,  /* connecting to a server */
	LB_CS_EXCHANGE, /* request and response flowing */
	LB_CS_TUNNEL,   /* byte relay: mode tcp or after 101 */
	LB_CS_LOCAL,    /* writing a response we made, then close */
	LB_CS_CLOSED,
};

struct lb_bconn {
	struct lb_worker *w;   /* borrowed: its worker, which outlives it */
	struct lb_server *srv; /* counted: lb_server_ref */
	struct lb_conn *c;     /* weak: cleared when detached; NULL idle */
	struct ev_io io;
	int fd;
	bool connected;
	bool reused;      /* served a request before this one */
	bool counted;     /* lb_server_conn_begin() without its end yet */
	uint64_t idle_ms; /* when it was parked */
	struct lb_bconn *inext, *iprev; /* borrowed: idle list links */
	struct lb_idle *idle;           /* borrowed: its list while parked */
	uint8_t pplen, ppoff; /* PROXY header to send first (send_proxy) */
	uint8_t pp[LB_PROXYPROTO_BUILD_MAX];
};

/* A TCP relay direction (mode tcp or after an Upgrade). */
struct lb_tunnel_dir {
	int pipe[2];   /* owned; -1 until splicing pays */
	size_t pipesz; /* the pipe's capacity in bytes (F_GETPIPE_SZ) */
	size_t inpipe;
	uint64_t bytes;
	bool full; /* splice into the pipe hit EAGAIN: wait until drained */
	bool eof;  /* source reached EOF */
	bool shut; /* shutdown(SHUT_WR) done on the destination */
};

struct lb_tunnel {
	struct lb_tunnel_dir up;   /* client -> server, buffer in */
	struct lb_tunnel_dir down; /* server -> client, buffer rb */
};

/* One request/response exchange (mode http) or connection (mode tcp). */
struct lb_req {
	uint64_t t_start_us; /* first byte of the head, or accept (tcp) */
	uint64_t t_head_us;  /* head complete */
	uint64_t t_try_us;   /* current attempt started */
	uint64_t t_conn_us;  /* current attempt connected */
	uint64_t t_resp_us;  /* response head received */
	enum http1_method method;
	int minor; /* client's HTTP/1.<minor> */
	int status;
	bool keep_alive; /* the client connection survives this exchange */
	bool upgrade;    /* request asked for an upgrade */
	bool timed;   /* per_try_timeout applies: pool has one, method is GET,
	                 HEAD or one of retry_methods */
	bool req_eom; /* request end is inside in (or sent) */
	bool req_chunked;
	bool req_abandon; /* server answered before the request was sent */
	bool resp_head;   /* response head parsed and rewritten */
	bool resp_eom;    /* response end found */
	bool resp_chunked;
	bool resp_close;    /* body delimited by server close */
	bool resp_started;  /* bytes of a response were sent to the client */
	bool resp_err_sent; /* server failed: a local response replaced it */
	bool queued_once;
	bool b_keepalive;       /* the server keeps its connection open */
	bool tunnel_after;      /* 101: relay bytes once the head is flushed */
	bool hb_client;         /* hb holds bytes for the client (1xx, head) */
	unsigned stale_retries; /* retries after a pooled conn went stale */
	int last_fail;          /* enum lb_fail of the last failed attempt */
	uint32_t req_head_len;  /* request head bytes in hb */
	uint32_t req_head_sent; /* ... of which sent to the current server */
	int64_t req_left;       /* Content-Length bytes not yet scanned */
	int64_t resp_left;
	uint32_t req_fwd;  /* bytes at in.off that belong to the body */
	uint32_t resp_fwd; /* bytes at rb.off that belong to the response */
	uint64_t req_body_sent;
	uint64_t bytes_in, bytes_out;
	struct http1_chunked req_ck, resp_ck;
	unsigned ntried;
	struct lb_server *tried[LB_MAX_TRIES]; /* weak: identity only */
	enum lb_term term;
	char method_s[12];
	char target[LB_TARGET_LOG];
	uint64_t queued_ms;
};

struct lb_conn {
	struct lb_listener *l; /* counted: listener refs */
	struct lb_worker *w;   /* borrowed: its worker, which outlives it */
	struct ev_loop *loop;  /* borrowed: w->loop, kept for the hot path */
	struct ev_io io;
	struct ev_timer timer;
	int fd;
	enum lb_conn_state state;
	SSL *ssl;            /* owned; NULL for plain TCP */
	struct lb_tls *tls;  /* counted: while ssl exists */
	bool tls_want_write; /* the TLS engine waits for POLLOUT */
	bool rd_ready;       /* client readable since the last EAGAIN */
	bool wr_blocked;     /* client write hit EAGAIN */
	bool brd_ready;      /* server readable since the last EAGAIN */
	bool bwr_blocked;    /* server write hit EAGAIN */
	bool client_eof;
	bool closing; /* a graceful stop: no more keep-alive */
	bool in_run;  /* lb_http_run re-entrancy guard */
	bool held;    /* queued for lb_http_flush: request bytes held */
	uint64_t accept_ms;
	uint64_t last_c_ms;           /* last client progress */
	uint64_t last_b_ms;           /* last server progress */
	uint64_t nreq;                /* requests on this connection */
	struct sockaddr_storage peer; /* client (or PROXY-announced) */
	struct sockaddr_storage local;
	struct lb_iobuf in, hb, rb;
	struct lb_bconn *b;          /* owned while attached */
	struct lb_tunnel *tun;       /* owned; tunnels only */
	struct lb_conn *qnext;       /* borrowed: listener queue link */
	struct lb_conn *hnext;       /* borrowed: lb_http_flush queue link */
	struct lb_conn *next, *prev; /* borrowed: the worker's list */
	struct lb_req r;
};

/* lb_conn_io.c: buffers and client I/O */
struct lb_conn_freebuf;
/* The worker's free LB_BUF_SIZE buffers, for reuse. */
struct lb_bufpool {
	struct lb_conn_freebuf *free; /* owned: free list */
	unsigned n;                   /* buffers on it */
};
/* Read into b. Returns bytes, 0 at EOF, -EAGAIN, -ENOBUFS, or -errno. */
long lb_conn_recv(struct lb_conn *c, struct lb_iobuf *b);
/* Write to the client. Returns bytes, -EAGAIN, or -errno. */
long lb_conn_sendv(struct lb_conn *c, const struct iovec *iov, int n);
void lb_iobuf_get(struct lb_bufpool *bp, struct lb_iobuf *b);
void lb_iobuf_put(struct lb_bufpool *bp, struct lb_iobuf *b);
/* Free pooled buffers until at most keep remain (after a burst). */
void lb_iobuf_shrink(struct lb_bufpool *bp, unsigned keep);
/* Drop consumed bytes; hand the buffer back to bp when it is empty. */
void lb_iobuf_settle(struct lb_bufpool *bp, struct lb_iobuf *b);
/* Move unconsumed bytes to the front so len can grow. */
void lb_iobuf_compact(struct lb_iobuf *b);
static inline uint32_t
lb_iobuf_avail(const struct lb_iobuf *b)
{
	return b->len - b->off;
}
static inline uint32_t
lb_iobuf_room(const struct lb_iobuf *b)
{
	/* Compaction (lb_iobuf_compact) can always reclaim off bytes. */
	return b->data == NULL ? LB_BUF_SIZE : LB_BUF_SIZE - (b->len - b->off);
}

/* lb_conn.c: client connections */
/* The worker's client connections. */
struct lb_conn_set {
	struct lb_conn *list; /* borrowed: live connections, via next/prev */
	unsigned n;           /* on list */
	unsigned nqueued;     /* queued, over every listener */
	/* Counters of requests whose pool is gone: written, never read. */
	struct lb_pool_stats pstats_sink;
};
struct lb_conn *lb_conn_new(
    struct lb_listener *l, int fd, const struct sockaddr_storage *peer);
/* Close the client and whatever it owns; counts term. */
void lb_conn_close(struct lb_conn *c, enum lb_term term);
/* Re-arm the timer for the state's deadline (earlier only: lazy). */
void lb_conn_arm(struct lb_conn *c);
/* Set the client's epoll interest from its state. */
void lb_conn_interest(struct lb_conn *c);
unsigned lb_conn_count(const struct lb_worker *w);
/*
 * Graceful stop of l's connections (NULL: all): idle ones close now, the
 * rest after their exchange; force closes everything.
 */
void lb_conn_stop(struct lb_worker *w, const struct lb_listener *l, bool force);
/*
 * Probes marked s down and its pool has on_marked_down: shutdown: close
 * its idle pooled connections, retry elsewhere the requests it has not
 * begun to answer (when they may be retried), cut the others.
 */
void lb_conn_server_down(struct lb_worker *w, struct lb_server *s);
/* The listener's request/connection is done: its queue may move. */
void lb_conn_queue_kick(struct lb_listener *l);
/* Wait for a server slot; false when the queue is full. */
bool lb_conn_enqueue(struct lb_conn *c);
void lb_conn_dequeue(struct lb_conn *c);
/* After the PROXY header: TLS handshake if any, then the mode. */
void lb_conn_begin(struct lb_conn *c);
void lb_conn_mode_start(struct lb_conn *c);
struct lb_pool *lb_conn_pool(const struct lb_conn *c);
/* The pool's counters; a scratch set when the pool is gone. */
struct lb_pool_stats *lb_conn_pstats(const struct lb_conn *c);

/* lb_bconn.c: server connections */
struct lb_idle;
/* The worker's keep-alive pools: an open-addressing table keyed by server. */
struct lb_idle_set {
	struct lb_idle *tab; /* owned; NULL until the first parked conn */
	size_t cap;          /* power of two, or 0 */
	size_t used;
};
/* Send to the server. Returns bytes, -EAGAIN, or -errno. */
long lb_bconn_sendv(struct lb_conn *c, const struct iovec *iov, int n);
/* Start a non-blocking connect; returns 0 or -errno. */
int lb_bconn_connect(struct lb_conn *c, struct lb_server *s);
/* Detach and close c->b; reuse: park it in the idle pool if allowed. */
void lb_bconn_release(struct lb_conn *c, bool reuse);
/* A parked connection to s usable for this request, or NULL. */
struct lb_bconn *lb_bconn_take_idle(
    struct lb_conn *c, struct lb_server *s, bool idempotent);
void lb_bconn_close_idle_all(struct lb_worker *w);
/* Close s's idle pooled connections; returns how many. */
size_t lb_bconn_close_idle_server(struct lb_worker *w, struct lb_server *s);
/* Close every idle connection and free the table. */
void lb_bconn_fini(struct lb_worker *w);
void lb_bconn_set_interest(struct lb_conn *c, unsigned ev);

/* lb_limit.c: connection limits from RLIMIT_NOFILE, accept pausing */
/* Accept errors by errno, as a metric label. */
enum lb_limit_err {
	LB_LIMIT_E_EMFILE,
	LB_LIMIT_E_ENFILE,
	LB_LIMIT_E_ENOBUFS,
	LB_LIMIT_E_ENOMEM,
	LB_LIMIT_E_OTHER,
	LB_LIMIT_E__COUNT
};

/* One rate-limited log line kind. */
struct lb_limit_log {
	uint64_t last_ms; /* when one was last written; 0: never */
	unsigned held;    /* lines not written since */
};

/* The worker's limits, as sized by the last lb_limit_apply. */
struct lb_limit {
	unsigned nofile;   /* RLIMIT_NOFILE soft limit at the last apply */
	unsigned reserve;  /* descriptors set aside, see lb_limit.c */
	unsigned budget;   /* nofile - reserve, at least one connection's */
	unsigned max_conn; /* worker-wide effective connection limit */
	uint64_t errors[LB_LIMIT_E__COUNT];
	struct lb_limit_log log_paused, log_failed;
};

/* Size the limits for conf (NULL: none); after the listeners changed. */
void lb_limit_apply(struct lb_worker *w, const struct lb_conf *conf);
/* Before an accept: true, and l paused, when l must not take another. */
bool lb_limit_full(struct lb_listener *l);
/* accept4 failed with e (not EAGAIN, EINTR, ECONNABORTED): count, log
 * (rate-limited), pause l. */
void lb_limit_accept_error(struct lb_listener *l, int e);
/* Accept again on l if it is paused (its retry timer fired). */
void lb_limit_resume(struct lb_listener *l);
/* A connection closed: resume the paused listeners now below their limits. */
void lb_limit_conn_gone(struct lb_worker *w);
/* The worker-wide effective connection limit. */
unsigned lb_limit_max_conn(const struct lb_worker *w);
const char *lb_limit_pause_name(enum lb_pause p);
struct jw;
/* "limits": {...} for GET /v1/lb. */
void lb_limit_json(const struct lb_worker *w, struct jw *jw);
void lb_limit_metrics(const struct lb_worker *w, struct buf *out);

/* lb_mem.c: memory back to the system after a burst */
struct lb_mem {
	struct ev_timer timer; /* the periodic check, once started */
	unsigned peak;         /* most connections since the last trim */
	bool low;              /* the count was low at the previous tick too */
	uint64_t trims;
	uint64_t trimmed_bytes; /* RSS given back, as measured around trims */
};
void lb_mem_init(struct lb_worker *w);  /* by lb_worker_new */
void lb_mem_start(struct lb_worker *w); /* the periodic check */
void lb_mem_stop(struct lb_worker *w);
void lb_mem_conn_opened(struct lb_worker *w); /* after each accept */
void lb_mem_metrics(const struct lb_worker *w, struct buf *out);

/* lb_listener.c */
/* The worker's listeners and its graceful stop. */
struct lb_listener_set {
	struct lb_listener *head; /* owned: configured + draining, via next */
	bool stop_req;            /* lb_proxy_stop was called */
	bool stopped;             /* plane_stopped() was called */
	struct ev_timer deadline; /* the stop's; set up by lb_proxy_stop */
};
void lb_listener_unref(struct lb_listener *l);
struct lb_listener *lb_listener_first(const struct lb_worker *w);
bool lb_listener_stopping(const struct lb_worker *w);
void lb_listener_init(struct lb_worker *w); /* by lb_worker_new */
/* Close every listener (connections must be gone or going). */
void lb_listener_fini(struct lb_worker *w);
/* Poll l's sockets, own and adopted, unless it is closed, paused or
 * stopping (on false: stop polling them). */
void lb_listener_watch(struct lb_listener *l, bool on);
/* A connection closed: checks whether a stop has drained. */
void lb_listener_conn_gone(struct lb_worker *w);

/* lb_http.c: the exchange and the response side */
/* A held connection's send, as lb_uring needs it until the submit. */
struct lb_http_send {
	struct msghdr mh;
	struct iovec iov[3];
	struct lb_conn *c; /* borrowed: held */
};

/*
 * The worker's HTTP state: parse results, used synchronously and never
 * across events (scratch, so no request allocates one), and the queue of
 * connections whose request bytes wait for the end of the epoll batch.
 */
struct lb_http {
	struct http1_resp resp;     /* scratch: lb_http.c's response parse */
	struct http1_req req;       /* scratch: lb_http_req.c's request parse */
	struct lb_conn *held;       /* borrowed: the queue, via hnext */
	struct lb_conn **held_tail; /* borrowed: &held or the last hnext */
	bool in_io;                 /* lb_http_run_io is on the stack */
	struct lb_http_send sends[LB_URING_DEPTH]; /* scratch: one flush */
};
void lb_http_init(struct lb_http *h);
void lb_http_run(struct lb_conn *c); /* progress on any event */
/* lb_http_run for a readiness event: request bytes wait for the batch end. */
void lb_http_run_io(struct lb_conn *c);
void lb_http_timeout(struct lb_conn *c);
void lb_http_connected(struct lb_conn *c);

/* lb_http_req.c: requests and local responses */
void lb_http_start(struct lb_conn *c); /* after TLS/PROXY: first request */
/* A local response with status and body, then close. */
void lb_http_local(
    struct lb_conn *c, int status, const char *body, enum lb_term term);
/* Write what is left of a local response; closes when done. */
void lb_http_local_flush(struct lb_conn *c);
/* IDLE / HEAD: read until a whole head is in. True on progress. */
bool lb_http_read_head(struct lb_conn *c);
/* Frame request body bytes that arrived in c->in. */
void lb_http_scan_req(struct lb_conn *c);

/* lb_http_head.c: head rewriting */
/* Build the request head for the backend into c->hb (req_head_len 0 if it
 * does not fit). */
void lb_http_build_head(
    struct lb_conn *c, const struct http1_req *req, const char *buf);
/* Rewrite the final response head at base into c->hb for the client. */
bool lb_http_resp_head(
    struct lb_conn *c, const struct http1_resp *resp, const char *base);
/* Append n bytes to b; false when they do not fit. */
bool lb_http_put(struct lb_iobuf *b, const void *p, size_t n);

/* lb_tcp.c */
void lb_tcp_start(struct lb_conn *c);  /* mode tcp: dispatch */
void lb_tcp_tunnel(struct lb_conn *c); /* switch to a byte relay */
void lb_tcp_run(struct lb_conn *c);
void lb_tcp_connected(struct lb_conn *c);
void lb_tcp_free(struct lb_conn *c);

/* lb_retry.c */
enum lb_fail {
	LB_FAIL_CONNECT_REFUSED,
	LB_FAIL_CONNECT_TIMEOUT,
	LB_FAIL_CONNECT_OTHER,
	LB_FAIL_RESET,   /* closed/reset before any response byte */
	LB_FAIL_TIMEOUT, /* no response head within the per-try timeout */
};
/* Pick a server not tried yet and connect; queues or answers on failure. */
void lb_retry_dispatch(struct lb_conn *c, const char *key, size_t keylen);
/*
 * The current attempt failed: count and report it, release the server
 * connection, then retry on another server when the request allows it, or
 * answer 502/504 (mode tcp: close).
 */
void lb_retry_fail(struct lb_conn *c, enum lb_fail why);
/* The same when the attempt never got a connection (c->b is NULL). */
void lb_retry_fail_server(
    struct lb_conn *c, struct lb_server *s, enum lb_fail why);
bool lb_retry_budget_take(struct lb_listener *l);
void lb_retry_budget_request(struct lb_listener *l, uint64_t now_ms);

/* lb_tls.c */
struct lb_tls *lb_tls_new(
    const struct lb_tls_conf *conf, char *err, size_t errlen);
void lb_tls_ref(struct lb_tls *t);
void lb_tls_unref(struct lb_tls *t);
SSL *lb_tls_ssl_new(struct lb_tls *t, int fd);
/* 0 done, -EAGAIN (want_write set when it needs POLLOUT), -EPROTO. */
int lb_tls_handshake(SSL *ssl, bool *want_write);

/* lb_log.c */
/* The access log's per-second budget (the one log.c applies per message). */
struct lb_log {
	uint64_t window_ms; /* start of the current second */
	unsigned count;     /* lines in it */
	uint64_t skipped;   /* lines not formatted: over budget */
};
void lb_log_request(struct lb_conn *c);
void lb_log_tcp(struct lb_conn *c, enum lb_term term);
const char *lb_log_term_name(enum lb_term t);
/* Access lines not even formatted: over the per-second budget. */
uint64_t lb_log_skipped_total(const struct lb_worker *w);

#endif
