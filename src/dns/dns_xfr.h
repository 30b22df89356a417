/*
 * dns_xfr.h - zone transfers and NOTIFY in a dns worker: the AXFR/IXFR
 * responder dns_tcp.c calls (over the pure dns_xfr_out), the NOTIFY
 * sender run on each apply (dns_notify.c), and their metrics.
 *
 * Only worker 0 sends NOTIFY, so N workers do not NOTIFY N times; every
 * worker answers transfers. The env a transfer is judged by is rebuilt
 * from the current config for each request: requests are rare, zones few.
 */
#ifndef HAVEN_DNS_XFR_H
#define HAVEN_DNS_XFR_H

#include "dns/dns_srv.h"
#include "lib/buf.h"

/* The dns_xfr_fn dns_srv.h declares. */
int dns_xfr_tcp(const struct dns_conf *c, struct dns_srv_zones *z,
    struct dns_xfr_stats *st, const uint8_t *msg, size_t len,
    const struct dns_client *cl, bool tls, struct dns_tcp_stream *s);

/*
 * Sign the n-byte answer in out (size bytes) to the qlen-byte query q if
 * q carries a TSIG and s's config (NULL before the first apply) has keys
 * (RFC 8945 §5.3), counting the outcome in s: a good signature gets the answer
 * signed; a bad one (BADKEY, BADSIG, BADTIME) turns it into NOTAUTH with
 * the question alone and the TSIG error.
 * Returns the new length; n as it was for an unsigned query, or when the
 * signature does not fit size. For the UDP and TCP answer paths.
 */
size_t dns_xfr_tsig_answer(struct dns_srv *s, const uint8_t *q, size_t qlen,
    uint8_t *out, size_t size, size_t n);

/*
 * The IPC_ZONE_SERIALS payload (dns_notify.c says why): a header, then n
 * entries, one per zone with notify: addresses the sending worker serves
 * (a zone never transferred is left out). Both ends run the same binary:
 * sent as laid out in memory.
 */
struct dns_notify_report {
	uint32_t worker; /* the sender's index */
	uint32_t n;
};

struct dns_notify_serial {
	uint8_t apex[DNS_NAME_MAX]; /* wire form, zero-padded */
	uint8_t pad;
	uint32_t serial;
};

/* A worker's NOTIFY state: jobs in flight, and in worker 0 the serials
 * every worker reported and the NOTIFYs waiting for them. Owned by the
 * server (struct dns_srv.notify); nworkers is the plane's. */
struct dns_notify *dns_notify_new(struct dns_srv *s, unsigned nworkers);
/* After dns_notify_stop. NULL is a no-op. */
void dns_notify_free(struct dns_notify *n);

/*
 * During an apply that installs zones nz (old: the previous zones, NULL
 * at the first), with s->conf already the new config: report nz's serials
 * to worker 0, and in worker 0 NOTIFY every notify: address of each zone
 * whose serial changed or that is new, once every live worker serves it,
 * retrying until acknowledged.
 */
void dns_notify_apply(struct dns_srv *s, const struct dns_srv_zones *old,
    const struct dns_srv_zones *nz);
/* An IPC_ZONE_SERIALS payload (len bytes, borrowed) another worker sent:
 * worker 0 records it and sends the NOTIFYs it completes. */
void dns_notify_report_in(struct dns_srv *s, const void *data, size_t len);
/* The worker's socket set changed (a sibling went or came back): report
 * again (worker 0 may have restarted) or, in worker 0, stop waiting for a
 * worker that went. */
void dns_notify_sockets(struct dns_srv *s);
/* Drop every pending and waiting NOTIFY (stop). Idempotent. */
void dns_notify_stop(struct dns_srv *s);

/* haven_dns_xfr_* families, then dns_notify_metrics' for s's (s NULL:
 * before init, zeros). */
void dns_xfr_metrics(const struct dns_srv *s, struct buf *out);
/* haven_dns_notify_* families of n (NULL: zeros). */
void dns_notify_metrics(const struct dns_notify *n, struct buf *out);

#endif
