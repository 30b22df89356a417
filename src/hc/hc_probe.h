/*
 * hc_probe.h - the interface between the health engine and the check types.
 *
 * A check type (hc_tcp.c, hc_http.c, hc_icmp.c, hc_dns.c, hc_exec.c) starts one
 * probe of one address and reports exactly one struct hc_result through the
 * done callback, asynchronously (never from inside start), no later than the
 * timeout plus one loop iteration. cancel() aborts a probe in flight without
 * calling done; afterwards the probe's memory is gone. A check type keeps no
 * state between probes except what it caches per process (an SSL_CTX, say).
 */
#ifndef HAVEN_HC_PROBE_H
#define HAVEN_HC_PROBE_H

#include <sys/socket.h>

#include <stdint.h>

#include "hc/hc.h"
#include "lib/ev.h"

struct hc_check_conf;
struct hc_probe;

#define HC_DETAIL_MAX 160

struct hc_result {
	enum hc_reason reason;      /* HC_R_OK when the probe passed */
	uint32_t latency_us;        /* start to verdict */
	char detail[HC_DETAIL_MAX]; /* human explanation: "status 503",
	                               "exit 2: <first output line>" */
};

typedef void hc_probe_done_fn(const struct hc_result *r, void *arg);

struct hc_check_type {
	const char *name; /* static: "tcp", "http"... as in the config */
	/*
	 * Start a probe of addr (port included) with cc's parameters.
	 * Returns 0 and sets *out, or -errno when it could not even start
	 * (then done is not called).
	 */
	int (*start)(struct ev_loop *loop, const struct hc_check_conf *cc,
	    const struct sockaddr_storage *addr, hc_probe_done_fn *done,
	    void *arg, struct hc_probe **out);
	void (*cancel)(struct hc_probe *p);
};

extern const struct hc_check_type hc_tcp_type;
extern const struct hc_check_type hc_http_type; /* http and https */
extern const struct hc_check_type hc_https_type;
extern const struct hc_check_type hc_icmp_type;
extern const struct hc_check_type hc_dns_type;
extern const struct hc_check_type hc_exec_type;

/* Fill r->latency_us from a start time taken with ev_now_us(). */
void hc_result_set(struct hc_result *r, enum hc_reason reason,
    uint64_t start_us, struct ev_loop *loop, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
