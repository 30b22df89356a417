/*
 * hc_sock.h - what every check type shares: the probe skeleton (one deadline
 * for the whole probe, exactly one asynchronous result, safe teardown), a
 * non-blocking connect and the errno -> enum hc_reason mapping.
 *
 * A check type embeds struct hc_sock as the FIRST member of its own probe
 * struct, so the opaque struct hc_probe pointer the engine holds is the
 * address of that struct. Invariants kept here:
 *   - done() runs at most once, never from inside start(): an early failure
 *     is posted on a 0 ms timer, which cancel() can still stop;
 *   - when the result is delivered or the probe cancelled, the descriptor is
 *     closed, the io and timer are stopped, the type's fini hook has released
 *     what the type owns, and the memory is released with ev_defer_free()
 *     because another event of the same batch may still point to it;
 *   - the deadline covers everything (connect, TLS, request, response), so a
 *     peer trickling one byte at a time cannot stretch a probe.
 */
#ifndef HAVEN_HC_SOCK_H
#define HAVEN_HC_SOCK_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include "hc/hc_probe.h"
#include "lib/ev.h"

struct hc_check_conf;
struct hc_sock;

/* Called on descriptor events once connected (or at once for datagrams). */
typedef void hc_sock_io_fn(struct hc_sock *s, unsigned events);
/* The stream is connected: start TLS or send the request. */
typedef void hc_sock_conn_fn(struct hc_sock *s);
/* Release what the type owns (not the struct itself, not s->fd). */
typedef void hc_sock_fini_fn(struct hc_sock *s);

struct hc_sock {
	struct ev_loop *loop;     /* borrowed: outlives every probe */
	hc_probe_done_fn *done;   /* engine's callback */
	void *arg;                /* borrowed: the engine's, handed back */
	uint64_t start_us;        /* ev_now_us() at start: for latency */
	uint64_t timeout_ms;      /* the whole probe's budget */
	int fd;                   /* owned: -1 when none */
	struct ev_io io;          /* on fd while connecting or talking */
	struct ev_timer timer;    /* the deadline, or 0 ms to post early */
	bool connecting;          /* io waits for the connect to finish */
	bool posted;              /* res holds an early result for timer */
	const char *stage;        /* static string: where a timeout struck */
	hc_sock_io_fn *on_io;     /* type's event handler */
	hc_sock_conn_fn *on_conn; /* type's "connected" handler, may be NULL */
	hc_sock_fini_fn *fini;    /* type's teardown, may be NULL */
	struct hc_result res;     /* the early result while posted */
};

/*
 * Failures and discards of every check type, process-wide, for /metrics.
 * Probe outcomes are counted by the engine per target; these count what
 * only the check types see.
 */
struct hc_sock_stats {
	uint64_t sock_errors;    /* socket()/pipe()/spawn failed locally */
	uint64_t early_results;  /* results posted before any I/O */
	uint64_t http_garbage;   /* responses that were not HTTP */
	uint64_t http_too_large; /* heads or bodies over the limit */
	uint64_t tls_errors;     /* handshakes that failed */
	uint64_t dns_rx_bad_id;  /* answers to someone else's query: dropped */
	uint64_t dns_rx_malformed; /* truncated or undecodable answers */
	uint64_t icmp_rx_foreign;  /* echo replies for other probes: dropped */
	uint64_t exec_out_dropped; /* output bytes past the kept 4 KiB */
	uint64_t exec_killed;      /* process groups killed on timeout/cancel */
};

extern struct hc_sock_stats hc_sock_stats;

/*
 * Arm the deadline and fill the common fields. timeout_ms 0 means 1 s. The
 * probe does nothing else until the type calls hc_sock_connect() or sets
 * s->fd and starts s->io itself.
 */
void hc_sock_init(struct hc_sock *s, struct ev_loop *loop, uint64_t timeout_ms,
    hc_probe_done_fn *done, void *arg);

/*
 * Non-blocking connect of a new socket of the given type/protocol to addr.
 * Stream sockets report completion through s->on_conn (or on_io if NULL);
 * an immediate connect error is posted as an early result. Returns 0, or
 * -errno when no socket could be made (nothing posted: start should fail).
 */
int hc_sock_connect(struct hc_sock *s, const struct sockaddr_storage *addr,
    int type, int proto);

/*
 * Adopt an already open non-blocking descriptor (a pipe, say): s owns it
 * from now on and s->on_io gets its events once hc_sock_want() asks.
 */
void hc_sock_set_fd(struct hc_sock *s, int fd);

/*
 * Change the io interest set (EV_READ/EV_WRITE, 0 to pause). Returns 0, or
 * -1 when the loop refused: the probe has then finished (internal) and the
 * caller must return without touching s.
 */
int hc_sock_want(struct hc_sock *s, unsigned events);

/*
 * Deliver the result now (from inside a callback of this probe) and tear
 * the probe down. After this returns, s must not be touched again.
 */
void hc_sock_finish(struct hc_sock *s, enum hc_reason reason, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
/* Same, from inside start(): the result is delivered on the next iteration. */
void hc_sock_post(struct hc_sock *s, enum hc_reason reason, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
/* Finish with the reason for a socket error (errno value, positive). */
void hc_sock_finish_errno(struct hc_sock *s, int err);

/* Tear down without calling done. Once only. */
void hc_sock_cancel(struct hc_sock *s);
/* The same as an hc_check_type.cancel, for every type built on hc_sock. */
void hc_sock_probe_cancel(struct hc_probe *p);

/*
 * Datagram probes (dns, icmp), from start(): send the request on the
 * connected socket and wait for the answer, unless an early result is
 * already posted. A send error is posted as the result.
 */
void hc_sock_send_dgram(struct hc_sock *s, const void *p, size_t n);
/*
 * One datagram into p, from on_io. Returns its length, or -1 when the
 * caller must return: nothing more to read now, or a socket error (an ICMP
 * error about the target) has finished the probe.
 */
ssize_t hc_sock_recv(struct hc_sock *s, void *p, size_t n);

/* ECONNREFUSED -> connect_refused, ETIMEDOUT -> timeout, ... */
enum hc_reason hc_sock_reason(int err);

/* addr with the check's port override applied (cc->port, if non-zero). */
void hc_sock_target(const struct hc_check_conf *cc,
    const struct sockaddr_storage *addr, struct sockaddr_storage *out);
socklen_t hc_sock_len(const struct sockaddr_storage *ss);
uint16_t hc_sock_port(const struct sockaddr_storage *ss);
void hc_sock_set_port(struct sockaddr_storage *ss, uint16_t port);
/* Numeric address without port ("192.0.2.1", "2001:db8::1"). */
void hc_sock_ntop(const struct sockaddr_storage *ss, char *dst, size_t n);

/* Tests only: which socket hc_icmp.c uses (default: ping, else raw). */
#define HC_ICMP_AUTO  0
#define HC_ICMP_DGRAM 1
#define HC_ICMP_RAW   2
void hc_icmp_force(int mode);

#endif
