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
int dns_xfr_tcp(struct dns_srv_zones *z, const uint8_t *msg, size_t len,
    const struct dns_client *cl, struct dns_tcp_stream *s);

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
