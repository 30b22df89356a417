/*
 * dns_srv.h - what the files of the dns plane share (dns_plane.c,
 * dns_udp.c, dns_tcp.c, dns_load.c, dns_api.c) and nobody else uses: the
 * worker's server state, its counters and the sockets it serves.
 *
 * One struct dns_srv per worker process: dns_plane.c allocates it at init
 * and every other function gets it as a parameter, or from the object
 * whose callback runs (a socket's watcher reaches it through its struct
 * dns_sock, a connection's through its struct dns_tcp_conn); nothing
 * keeps it in a file-scope variable but the plane's hooks, whose
 * lib/plane.h contract carries no context. The zones it answers from are a
 * reference-counted struct dns_srv_zones: a reload builds new ones and
 * swaps the pointer between two events; a zone transfer in flight keeps
 * its own reference, so the old tables live until it ends.
 *
 * Counters are plain integers: the process is single-threaded.
 */
#ifndef HAVEN_DNS_SRV_H
#define HAVEN_DNS_SRV_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_answer.h"
#include "dns/dns_conf.h"
#include "dns/dns_db.h"
#include "dns/dns_gslb_rt.h"
#include "dns/dns_rrl.h"
#include "dns/dns_xfr_out.h"
#include "lib/buf.h"
#include "lib/ev.h"
#include "lib/plane.h"

#define DNS_UDP_BATCH       32          /* datagrams per recvmmsg */
#define DNS_UDP_WAKE_MAX    8           /* batches per wakeup */
#define DNS_UDP_OUT         4096        /* bytes of one UDP answer */
#define DNS_TCP_BACKLOG_MAX (64u << 10) /* stop reading past this */
#define DNS_TCP_READ        4096        /* bytes per read() */
#define DNS_RRL_BUCKETS     (64u << 10) /* RRL table slots */

enum dns_srv_transport {
	DNS_SRV_UDP,
	DNS_SRV_TCP,
	DNS_SRV_XDP, /* UDP over the AF_XDP fast path (dns_xdp.c) */
	DNS_SRV__NTRANSPORT
};

/* qtype labels of haven_dns_queries_total: a fixed small set. */
enum dns_srv_qtype {
	DNS_SRV_QT_A,
	DNS_SRV_QT_AAAA,
	DNS_SRV_QT_CNAME,
	DNS_SRV_QT_MX,
	DNS_SRV_QT_NS,
	DNS_SRV_QT_SOA,
	DNS_SRV_QT_TXT,
	DNS_SRV_QT_SRV,
	DNS_SRV_QT_PTR,
	DNS_SRV_QT_CAA,
	DNS_SRV_QT_ANY,
	DNS_SRV_QT_XFR, /* AXFR and IXFR */
	DNS_SRV_QT_OTHER,
	DNS_SRV__NQTYPE
};

enum dns_srv_rcode {
	DNS_SRV_RC_NOERROR,
	DNS_SRV_RC_FORMERR,
	DNS_SRV_RC_SERVFAIL,
	DNS_SRV_RC_NXDOMAIN,
	DNS_SRV_RC_NOTIMP,
	DNS_SRV_RC_REFUSED,
	DNS_SRV_RC_BADVERS,
	DNS_SRV_RC_OTHER,
	DNS_SRV__NRCODE
};

struct dns_srv_stats {
	uint64_t queries[DNS_SRV__NTRANSPORT][DNS_SRV__NQTYPE][DNS_SRV__NRCODE];
	uint64_t malformed[DNS_WIRE_ERR__COUNT];
	uint64_t kinds[DNS_ANS__COUNT];
	uint64_t truncated; /* UDP answers sent with TC */
	uint64_t refused;   /* REFUSED answers, both transports */
	uint64_t dynamic;   /* answered by the GSLB */
	uint64_t rrl_drop, rrl_slip;
	uint64_t rrl_cookie_pass; /* let past the RRL by a valid cookie */
	uint64_t cookies[DNS_COOKIE__COUNT]; /* queries by their COOKIE */
	uint64_t udp_rx_errors, udp_tx_errors;
	uint64_t udp_oversize; /* datagrams over DNS_UDP_RX: dropped */
	uint64_t tcp_accepted;
	uint64_t tcp_accept_errors;
	uint64_t tcp_refused_max;   /* new connection closed: all busy */
	uint64_t tcp_closed_oldest; /* oldest idle closed for a new one */
	uint64_t tcp_closed_idle;   /* idle timeout */
	uint64_t tcp_closed_max_queries;
	uint64_t tcp_bad_length; /* a length prefix under a header */
	uint64_t tcp_io_errors;
	uint64_t tcp_read_paused; /* reading stopped for a slow reader */
	uint64_t tls_accepted;    /* connections on dns.tls.listen */
	uint64_t xfr_started;
};

struct dns_ixfr;

/* Tables the worker answers from; see the header comment. */
struct dns_srv_zones {
	struct dns_db *db; /* owned */
	size_t *records;   /* owned: records read per zone, for the API */
	struct dns_sec_info *sec; /* owned: per zone of the config; dns-sec */
	struct dns_sign *sign;    /* owned: the signer of db; NULL when no
	                             zone is signed */
	const struct dns_ixfr *ixfr; /* borrowed: the server's journals
	                                (dns_ixfr.h), which outlive every
	                                zones; NULL: none */
	unsigned refs;
};

struct dns_srv_zones *dns_srv_zones_ref(struct dns_srv_zones *z);
void dns_srv_zones_unref(struct dns_srv_zones *z);

/*
 * A responder that produces a stream of messages for one TCP query: zone
 * transfers (RFC 5936). The connection pulls the next message whenever its
 * output backlog is under DNS_TCP_BACKLOG_MAX and reads no further query
 * until the stream ends.
 */
struct dns_tcp_stream {
	/* Write the next message into out (size bytes) and set *len; return
	 * 1 for a message, 0 when the stream is done (nothing written), or a
	 * negative errno to close the connection. */
	int (*next)(void *st, uint8_t *out, size_t size, size_t *len);
	void (*free)(void *st); /* called once, when done or closed */
	void *st;               /* owned by the stream */
};

/* The server's transfer counters (dns_xfr.c counts, dns_xfr_metrics
 * shows). */
struct dns_xfr_stats {
	uint64_t results[DNS_XFR_RESULT__COUNT]; /* requests, by decision */
	uint64_t messages, records;
	uint64_t aborted; /* an RRset too large for a message */
	/* answers to signed queries (not transfers), by TSIG outcome */
	uint64_t tsig_signed, tsig_failed;
};

/*
 * The transfer responder (dns-xfr sets it from its plane hook): called for
 * an AXFR or IXFR query over TCP with the server's config (borrowed for
 * the call), the zones (take a reference to keep them), the server's
 * counters (borrowed; the stream may keep the pointer, since the server
 * outlives its connections), the query, who asks and whether over TLS.
 * Returns 0 with *s set to stream, or -ENOENT to let the answer engine
 * reply (REFUSED).
 */
typedef int dns_xfr_fn(const struct dns_conf *c, struct dns_srv_zones *z,
    struct dns_xfr_stats *st, const uint8_t *msg, size_t len,
    const struct dns_client *cl, bool tls, struct dns_tcp_stream *s);

/* One socket served: own or adopted (lib/plane.h). */
struct dns_sock {
	struct dns_srv *srv; /* borrowed: the server whose list holds it */
	char name[128];      /* the spec's: "udp/ip:port", "tcp/ip:port" */
	unsigned slot;
	bool adopted;
	int type;     /* SOCK_DGRAM, SOCK_STREAM */
	int fd;       /* owned: a dup of the runtime's */
	bool pktinfo; /* bound to a wildcard: reply from the query's
	                 destination address */
	bool tls;     /* a dns.tls.listen socket: connections speak TLS */
	struct ev_io io;
	bool seen;             /* scratch for the reconcile */
	struct dns_sock *next; /* the srv's list (owned by srv->socks) */
};

struct dns_tcp_conn;
struct dns_sec_info;
struct jw;
struct dns_notify;
struct dns_sec;

struct dns_srv {
	struct ev_loop *loop; /* borrowed: the child's */
	unsigned worker;
	const struct dns_conf *conf; /* borrowed: the runtime's, until the
	                                next apply */
	struct dns_srv_zones *zones; /* owned reference, NULL before the
	                                first apply */
	struct dns_gslb_rt *rt;      /* owned: the GSLB runtime */
	struct ssl_ctx_st *tls;      /* owned: dns.tls's context; NULL: none */
	const struct dns_dyn *dyn;   /* borrowed: the GSLB runtime's */
	dns_xfr_fn *xfr;             /* NULL: transfers REFUSED */
	struct dns_xfr_stats xfr_st;
	struct dns_answer_opts opts;
	uint8_t nsid[DNS_NSID_MAX];
	uint8_t cookie_secret[DNS_COOKIE_SECRET_LEN]; /* dns_cookie.h */
	struct dns_rrl *rrl;                          /* owned, NULL when off */
	struct dns_ixfr *ixfr;     /* owned: IXFR journals (dns_ixfr.h) */
	struct dns_notify *notify; /* owned: NOTIFY out (dns_xfr.h) */
	struct dns_sec *sec;       /* owned: the secondary role (dns_sec.h) */
	struct dns_sock *socks;    /* owned list */
	/* owned: where catalog serials are kept (dns_catalog.h); "": none */
	char *cat_dir;
	/* TCP connections, least recently active first. */
	struct dns_tcp_conn *conn_head, *conn_tail; /* owned */
	unsigned nconns;
	uint8_t *scratch; /* owned: 2 + DNS_MSG_MAX, one answer at a time */
	struct dns_udp_batch *udp; /* owned: recvmmsg/sendmmsg buffers */
	struct dns_xdp *xdp;       /* owned: the XDP path; NULL until a
	                              socket came */
	bool stopping;
	/* Called once the last connection closed while stopping. */
	void (*stopped)(struct dns_srv *s);
	struct dns_srv_stats st;
};

/* Count one answered query. */
void dns_srv_count(struct dns_srv *s, enum dns_srv_transport t,
    const struct dns_answer_info *info);
const char *dns_srv_qtype_name(enum dns_srv_qtype q);
const char *dns_srv_rcode_name(enum dns_srv_rcode r);

/* Client address from a socket address (bits 32/128, ecs false). */
void dns_srv_client(const struct sockaddr_storage *ss, struct dns_client *cl);

/* dns_load.c: build the zones of c (zone files, the saved copies of
 * secondary zones in sec_dir, "" for none; sec_strict: see
 * dns_sec_load_zone; the catalogs, their serials kept in cat_dir, "" for
 * nowhere; GSLB names); errors to errs. Returns 0 and *out, or
 * -EINVAL. */
int dns_load_build(const struct dns_conf *c, const char *sec_dir,
    const char *cat_dir, bool sec_strict, struct dns_srv_zones **out,
    struct conf_errors *errs);

/* dns_udp.c */
void dns_udp_init(struct dns_srv *s);
void dns_udp_fini(struct dns_srv *s);
void dns_udp_read_cb(struct ev_io *io, unsigned events, void *arg);
/* The answer to one UDP query qlen bytes long from cl, into out (size
 * bytes): NOTIFY, the answer engine, TSIG, the counters of transport t,
 * RRL. Its length, or 0 when nothing is to be sent. The UDP socket path
 * and the XDP path (dns_xdp.c) share it. */
size_t dns_udp_respond(struct dns_srv *s, enum dns_srv_transport t,
    const struct dns_client *cl, const uint8_t *q, size_t qlen, uint8_t *out,
    size_t size, uint64_t now_ms);

/* dns_xdp.c: the XDP fast path of worker s (see there) */
struct dns_xdp;
/* Take the AF_XDP socket in socks meant for this worker (and its umem),
 * or let go of one no longer in the set. */
void dns_xdp_socks(struct dns_srv *s, const struct plane_sock *socks, size_t n);
void dns_xdp_stop(struct dns_srv *s);
void dns_xdp_json(struct dns_srv *s, struct jw *w);
void dns_xdp_metrics(struct dns_srv *s, struct buf *out);

/* dns_tcp.c */
void dns_tcp_accept_cb(struct ev_io *io, unsigned events, void *arg);
/* Serve the connected, non-blocking stream socket fd (owned from now)
 * from client ss, through TLS when tls is not NULL (borrowed: the
 * server's context); the accept path and fuzz_dns_tcp use it. */
struct ssl_ctx_st;
void dns_tcp_open(struct dns_srv *s, int fd, const struct sockaddr_storage *ss,
    struct ssl_ctx_st *tls);
/* Close every connection (stop) or only those past the new limits. */
void dns_tcp_close_all(struct dns_srv *s);
/* Stop reading queries; connections close once their answers are out. */
void dns_tcp_drain(struct dns_srv *s);
void dns_tcp_apply(struct dns_srv *s);

/* dns_api.c: the plane's query and metrics hooks, for server s. */
int dns_api_query(struct dns_srv *s, const char *method, const char *path,
    const char *body, size_t body_len, struct buf *out);
void dns_api_metrics(struct dns_srv *s, struct buf *out);
void dns_api_status_print(struct conf_node *root);

#endif
