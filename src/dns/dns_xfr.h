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
    const uint8_t *msg, size_t len, const struct dns_client *cl,
    struct dns_tcp_stream *s);

/*
 * Sign the n-byte answer in out (size bytes) to the qlen-byte query q if
 * q carries a TSIG and c (the server's config, NULL before the first
 * apply) has keys (RFC 8945 §5.3): a good signature gets the answer
 * signed; a bad one (BADKEY, BADSIG, BADTIME) turns it into NOTAUTH with
 * the question alone and the TSIG error.
 * Returns the new length; n as it was for an unsigned query, or when the
 * signature does not fit size. For the UDP and TCP answer paths.
 */
size_t dns_xfr_tsig_answer(const struct dns_conf *c, const uint8_t *q,
    size_t qlen, uint8_t *out, size_t size, size_t n);

/*
 * After an apply that installs zones nz (old: the previous zones, NULL at
 * the first), NOTIFY every notify: address of each zone whose serial
 * changed or that is new, retrying until acknowledged.
 */
void dns_notify_apply(struct dns_srv *s, const struct dns_srv_zones *old,
    const struct dns_srv_zones *nz);
/* Drop every pending NOTIFY (stop). */
void dns_notify_stop(struct dns_srv *s);

/* haven_dns_xfr_* families, then dns_notify_metrics'. */
void dns_xfr_metrics(struct buf *out);
/* haven_dns_notify_* families. */
void dns_notify_metrics(struct buf *out);

#endif
