/*
 * dns_sec_refresh.c - the refresh of secondary zones (RFC 1034 §4.3.5,
 * RFC 1996, RFC 5936), run by worker 0 of the dns plane only (dns_sec.h).
 *
 * One job per secondary zone. An attempt, at start, every SOA refresh,
 * after every retry wait, and at once on a NOTIFY: for each primary in
 * order, ask its SOA over UDP (again over TCP when the answer is
 * truncated); if its serial is newer than ours by RFC 1982, or we have no
 * copy served, transfer the zone by AXFR over TCP (dns_xfr_in.h checks
 * each message) and write the copy (dns_sec_copy.h), which every worker
 * then loads; if it is not newer, touch the copy's mtime (the expire
 * timer restarts). One primary gets DNS_SEC_DEADLINE_MS for all of that;
 * on any failure the next is tried. When all fail, the next attempt is
 * after the SOA retry, or, without a copy, after a back-off from 5 s
 * doubling to 300 s. Refresh and retry are clamped to [1 s, 1 day].
 *
 * Everything is non-blocking on the worker's loop: connect in progress,
 * partial reads and writes. A job holds copies of its primaries and key,
 * so a reload may free the config while an attempt runs; a NOTIFY during
 * an attempt makes it check again when it ends.
 *
 * With primaries_tls (XoT, RFC 9103) every exchange is over TLS: the SOA
 * query goes over TCP at once (no UDP: its answer would be in clear and
 * unauthenticated), and each connection's bytes pass through dns_tls.h.
 * The job owns its client context, built from the zone's CA file.
 */
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns/dns_conf.h"
#include "dns/dns_sec.h"
#include "dns/dns_sec_ixfr.h"
#include "dns/dns_sec_wire.h"
#include "dns/dns_tls.h"
#include "dns/dns_tsig.h"
#include "dns/dns_wire.h"
#include "dns/dns_xfr_in.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/statefile.h"
#include "lib/util.h"

#define DNS_SEC_DEADLINE_MS 30000 /* one primary: SOA and transfer */
#define DNS_SEC_UDP_WAIT_MS 2000  /* an SOA answer over UDP */
#define DNS_SEC_UDP_SENDS   2     /* SOA queries over UDP per primary */
#define DNS_SEC_CLAMP_MIN_S 1
#define DNS_SEC_CLAMP_MAX_S 86400
#define DNS_SEC_BACKOFF_MIN 5000   /* ms, without a copy */
#define DNS_SEC_BACKOFF_MAX 300000 /* ms */
#define DNS_SEC_MSG         1024   /* an SOA query or its UDP answer */
#define DNS_SEC_RECS_MAX    (DNS_CONF_ZONE_FILE_MAX / 3) /* hex doubles */

enum dns_sec_phase {
	DNS_SEC_IDLE,
	DNS_SEC_SOA_UDP,
	DNS_SEC_SOA_TCP,
	DNS_SEC_AXFR,
};

enum dns_sec_result {
	DNS_SEC_R_UPDATED,
	DNS_SEC_R_UP_TO_DATE,
	DNS_SEC_R_FAILED,
	DNS_SEC_R__COUNT
};

static const char *const dns_sec_rname[DNS_SEC_R__COUNT] = {
	"updated",
	"up_to_date",
	"failed",
};

/* How an IXFR we asked for was answered (RFC 1995 §4). */
enum dns_sec_ixfr_form {
	DNS_SEC_IX_INCREMENTAL, /* applied to our copy */
	DNS_SEC_IX_AXFR_FORM,   /* the whole zone */
	DNS_SEC_IX_UPTODATE,    /* the primary's SOA alone */
	DNS_SEC_IX_FALLBACK,    /* unusable: AXFR asked instead */
	DNS_SEC_IX__COUNT
};

static const char *const dns_sec_ixname[DNS_SEC_IX__COUNT] = {
	"incremental",
	"axfr_form",
	"up_to_date",
	"fallback_axfr",
};

struct dns_sec_job {
	struct dns_srv *s; /* borrowed: the worker's */
	uint8_t apex[DNS_NAME_MAX];
	char zone[DNS_NAME_TEXT_MAX];
	struct sockaddr_storage *prim; /* owned: nprim, a copy */
	size_t nprim;
	bool has_key;
	struct dns_tsig_key key; /* a copy: see the header */
	bool seen;               /* scratch of refresh_apply */
	/* The copy we serve. */
	bool have;
	uint32_t serial;
	struct dns_sec_soa soa;
	/* The attempt. */
	enum dns_sec_phase phase;
	size_t cur; /* primary tried */
	char peer[64];
	int fd; /* owned, -1 */
	struct ev_io io;
	bool connected;
	struct ssl_ctx_st *tls;   /* owned: primaries_tls; NULL: plain */
	char *tls_name;           /* owned: the primaries' name, or NULL */
	struct ssl_st *ssl;       /* owned: this connection's TLS, or NULL */
	bool tls_failed;          /* primaries_tls, but no context: no try */
	unsigned want;            /* EV_*: what the TLS layer waits for */
	struct ev_timer sched;    /* next attempt */
	struct ev_timer deadline; /* of the primary tried */
	struct ev_timer udp_wait;
	unsigned udp_sends;
	uint16_t id;
	struct dns_tsig_ctx tsig;
	struct dns_xfr_in xin;
	struct dns_sec_recs recs;   /* owned: the transfer's records */
	struct dns_sec_ixfr ixfr;   /* owned: an incremental answer applied */
	uint8_t q[DNS_SEC_MSG + 2]; /* the query, with a TCP prefix */
	size_t qlen, qoff;
	uint8_t *in; /* owned: TCP bytes read */
	size_t in_len, in_cap;
	bool again; /* a NOTIFY during the attempt */
	uint64_t backoff_ms;
	/* For the API and metrics. */
	time_t last_attempt;
	int last_result; /* -1: none yet */
	char last_error[64];
	uint64_t results[DNS_SEC_R__COUNT];
	uint64_t ixfr_forms[DNS_SEC_IX__COUNT]; /* IXFR answers, by form */
	struct dns_sec_job *next;               /* owned: the list */
};

static void dns_sec_try(struct dns_sec_job *j);
static void dns_sec_io_cb(struct ev_io *io, unsigned events, void *arg);

static uint64_t
dns_sec_clamp_ms(uint32_t s)
{
	if (s < DNS_SEC_CLAMP_MIN_S)
		s = DNS_SEC_CLAMP_MIN_S;
	if (s > DNS_SEC_CLAMP_MAX_S)
		s = DNS_SEC_CLAMP_MAX_S;
	return (uint64_t)s * 1000;
}

uint64_t
dns_sec_next_ms(
    bool ok, bool have, const struct dns_sec_soa *soa, uint64_t *backoff_ms)
{
	if (ok) {
		*backoff_ms = 0;
		return dns_sec_clamp_ms(soa->refresh);
	}
	if (have)
		return dns_sec_clamp_ms(soa->retry);
	*backoff_ms = *backoff_ms == 0 ? DNS_SEC_BACKOFF_MIN : *backoff_ms * 2;
	if (*backoff_ms > DNS_SEC_BACKOFF_MAX)
		*backoff_ms = DNS_SEC_BACKOFF_MAX;
	return *backoff_ms;
}

static void
dns_sec_close(struct dns_sec_job *j)
{
	ev_io_stop(j->s->loop, &j->io);
	dns_tls_free(j->ssl);
	j->ssl = NULL;
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	j->connected = false;
	free(j->in);
	j->in = NULL;
	j->in_len = j->in_cap = 0;
	ev_timer_stop(j->s->loop, &j->udp_wait);
}

/*
 * Leave the last attempt's outcome in .<zone>.state beside the copies:
 * GET /v1/dns is answered by one worker, which is seldom worker 0. A dot
 * name, so the watchers ignore it.
 */
static void
dns_sec_save_state(struct dns_sec_job *j)
{
	char name[DNS_SEC_FILE_MAX + 1], text[128];
	int n;

	name[0] = '.';
	dns_sec_copy_name(j->apex, ".state", name + 1, sizeof(name) - 1);
	n = snprintf(text, sizeof(text), "%lld %s %s\n",
	    (long long)j->last_attempt, dns_sec_rname[j->last_result],
	    j->last_error[0] != '\0' ? j->last_error : "-");
	if (j->s->sec->dir[0] != '\0')
		(void)statefile_write(j->s->sec->dir, name, text, (size_t)n);
}

/* The attempt ended with r: count, log, plan the next. */
static void
dns_sec_finish(struct dns_sec_job *j, enum dns_sec_result r)
{
	uint64_t next;

	dns_sec_close(j);
	ev_timer_stop(j->s->loop, &j->deadline);
	dns_sec_recs_free(&j->recs);
	dns_sec_ixfr_fini(&j->ixfr);
	j->phase = DNS_SEC_IDLE;
	j->results[r]++;
	j->last_result = (int)r;
	if (r != DNS_SEC_R_FAILED)
		j->last_error[0] = '\0';
	dns_sec_save_state(j);
	next = dns_sec_next_ms(
	    r != DNS_SEC_R_FAILED, j->have, &j->soa, &j->backoff_ms);
	if (j->again) {
		j->again = false;
		next = 0;
	}
	log_info("dns secondary refresh",
	    "zone=%s result=%s serial=%u next_ms=%llu", j->zone,
	    dns_sec_rname[r], j->serial, (unsigned long long)next);
	ev_timer_start(j->s->loop, &j->sched, next);
}

/* This primary failed: the next one, or the attempt fails. */
static void
dns_sec_fail(struct dns_sec_job *j, const char *why)
{
	snprintf(j->last_error, sizeof(j->last_error), "%s", why);
	log_warn("dns secondary primary failed", "zone=%s primary=%s why=%s",
	    j->zone, j->peer, why);
	dns_sec_close(j);
	dns_sec_recs_free(&j->recs);
	dns_sec_ixfr_fini(&j->ixfr);
	j->cur++;
	if (j->cur >= j->nprim) {
		dns_sec_finish(j, DNS_SEC_R_FAILED);
		return;
	}
	dns_sec_try(j);
}

static void
dns_sec_deadline_cb(struct ev_timer *t, void *arg)
{
	(void)t;
	dns_sec_fail(arg, "deadline");
}

static uint16_t
dns_sec_new_id(void)
{
	uint16_t id;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)util_mono_us();
	return id;
}

/* Open a non-blocking socket of type to the current primary. */
static int
dns_sec_open(struct dns_sec_job *j, int type)
{
	const struct sockaddr_storage *a = &j->prim[j->cur];
	socklen_t sl = a->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	                                         sizeof(struct sockaddr_in6);
	unsigned ev = EV_READ;

	j->fd = socket(a->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (j->fd == -1)
		return -errno;
	if (connect(j->fd, (const struct sockaddr *)a, sl) == -1) {
		if (errno != EINPROGRESS)
			return -errno;
		ev = EV_WRITE;
	} else {
		j->connected = true;
	}
	if (type == SOCK_STREAM && j->connected)
		ev = EV_WRITE; /* the query goes out first */
	/* The handshake starts with the query's first write. */
	if (type == SOCK_STREAM && j->tls != NULL &&
	    (j->ssl = dns_tls_client_new(j->tls, j->fd, j->tls_name)) == NULL)
		return -ENOMEM;
	ev_io_init(&j->io, j->fd, dns_sec_io_cb, j);
	return ev_io_start(j->s->loop, &j->io, ev);
}

/* Write the SOA query (signed with the key) into j->q + 2. */
static int
dns_sec_soa_build(struct dns_sec_job *j)
{
	int n;

	j->id = dns_sec_new_id();
	n = dns_sec_soa_query(j->q + 2, DNS_SEC_MSG, j->apex, j->id);
	if (n < 0)
		return n;
	j->qlen = (size_t)n;
	if (j->has_key) {
		dns_tsig_ctx_client(&j->tsig, &j->key);
		if (dns_tsig_sign(&j->tsig, j->q + 2, &j->qlen, DNS_SEC_MSG,
		        (uint64_t)time(NULL)) != 0)
			return -EMSGSIZE;
	}
	return 0;
}

static void
dns_sec_udp_send(struct dns_sec_job *j)
{
	j->udp_sends++;
	if (send(j->fd, j->q + 2, j->qlen, 0) == -1)
		log_warn("dns secondary SOA query not sent",
		    "zone=%s primary=%s errno=%d", j->zone, j->peer, errno);
	ev_timer_start(j->s->loop, &j->udp_wait, DNS_SEC_UDP_WAIT_MS);
}

static void
dns_sec_udp_wait_cb(struct ev_timer *t, void *arg)
{
	struct dns_sec_job *j = arg;

	(void)t;
	if (j->udp_sends >= DNS_SEC_UDP_SENDS) {
		dns_sec_fail(j, "soa_timeout");
		return;
	}
	/* The same query again, ID and all: a late answer to the first
	 * send is as good. */
	dns_sec_udp_send(j);
}

/* Start a TCP exchange (SOA_TCP or AXFR) with the current primary; the
 * query is in j->q + 2, j->qlen bytes. */
static void
dns_sec_tcp_start(struct dns_sec_job *j, enum dns_sec_phase ph)
{
	dns_sec_close(j);
	j->phase = ph;
	j->q[0] = (uint8_t)(j->qlen >> 8);
	j->q[1] = (uint8_t)j->qlen;
	j->qoff = 0;
	j->qlen += 2;
	if (dns_sec_open(j, SOCK_STREAM) != 0)
		dns_sec_fail(j, "tcp_socket");
}

/* Transfer the zone from the current primary: IXFR from our serial
 * when we serve a copy (RFC 1995), else AXFR. */
static void
dns_sec_xfr_start(struct dns_sec_job *j, bool ixfr)
{
	const struct dns_tsig_key *k = j->has_key ? &j->key : NULL;
	int n;

	j->id = dns_sec_new_id();
	if (ixfr)
		n = dns_xfr_in_query_ixfr(&j->xin, j->apex, j->id, j->serial, k,
		    j->q + 2, DNS_SEC_MSG, (uint64_t)time(NULL));
	else
		n = dns_xfr_in_query(&j->xin, j->apex, j->id, k, j->q + 2,
		    DNS_SEC_MSG, (uint64_t)time(NULL));
	if (n < 0) {
		dns_sec_fail(j, "axfr_query");
		return;
	}
	j->qlen = (size_t)n;
	dns_sec_recs_free(&j->recs);
	dns_sec_ixfr_fini(&j->ixfr);
	dns_sec_ixfr_init(&j->ixfr, DNS_SEC_RECS_MAX);
	dns_sec_tcp_start(j, DNS_SEC_AXFR);
}

/* An IXFR answer we cannot use: ask the same primary for AXFR (a new
 * connection; the old copy is still what we serve). */
static void
dns_sec_ixfr_fallback(struct dns_sec_job *j, const char *why)
{
	j->ixfr_forms[DNS_SEC_IX_FALLBACK]++;
	log_warn("dns secondary ixfr unusable, asking axfr",
	    "zone=%s primary=%s why=%s", j->zone, j->peer, why);
	dns_sec_close(j);
	dns_sec_xfr_start(j, false);
}

/* Touch the copy: the refresh succeeded, its expire starts again. */
static void
dns_sec_touch_copy(struct dns_sec_job *j)
{
	char name[DNS_SEC_FILE_MAX], path[PATH_MAX];

	dns_sec_copy_name(j->apex, ".zone", name, sizeof(name));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", j->s->sec->dir,
	        name) >= sizeof(path))
		errno = ENAMETOOLONG; /* a truncated path is not touched */
	else if (utimensat(AT_FDCWD, path, NULL, 0) == 0)
		return;
	log_warn("dns secondary copy not touched", "path=%s errno=%d",
	    log_q(path), errno);
}

/* Whether the workers serve a copy of j's zone (worker 0's tables say
 * for all: they load the same files). An expired copy is not served,
 * and touching it would not bring it back: it is transferred again. */
static bool
dns_sec_served(const struct dns_sec_job *j)
{
	const struct dns_srv *s = j->s;

	for (size_t i = 0; s->conf != NULL && i < s->conf->nzones; i++)
		if (dns_name_equal(s->conf->zones[i].apex, j->apex))
			return s->zones != NULL && s->zones->sec != NULL &&
			    s->zones->sec[i].loaded;
	return false;
}

/* The primary's serial is known. */
static void
dns_sec_decide(struct dns_sec_job *j, uint32_t serial)
{
	if (!j->have || !dns_sec_served(j) ||
	    dns_sec_serial_gt(serial, j->serial)) {
		log_info("dns secondary transfer",
		    "zone=%s primary=%s "
		    "ours=%u theirs=%u have=%s",
		    j->zone, j->peer, j->serial, serial,
		    j->have ? "yes" : "no");
		dns_sec_xfr_start(j, j->have && dns_sec_served(j));
		return;
	}
	dns_sec_touch_copy(j);
	dns_sec_finish(j, DNS_SEC_R_UP_TO_DATE);
}

/* An answer to our SOA query (UDP or TCP). */
static void
dns_sec_soa_answer(struct dns_sec_job *j, const uint8_t *m, size_t len)
{
	size_t off = len;
	uint32_t serial = 0;
	int rc;

	if (j->has_key &&
	    dns_tsig_verify_answer(&j->tsig, m, len, (uint64_t)time(NULL),
	        &off) != DNS_TSIG_NOERROR) {
		dns_sec_fail(j, "soa_tsig");
		return;
	}
	rc = dns_sec_soa_parse(m, off, j->id, j->apex, &serial);
	if (rc == 1 && j->phase == DNS_SEC_SOA_UDP) {
		/* Truncated: the same question over TCP (RFC 7766 §5). */
		if (dns_sec_soa_build(j) != 0) {
			dns_sec_fail(j, "soa_query");
			return;
		}
		dns_sec_tcp_start(j, DNS_SEC_SOA_TCP);
		return;
	}
	if (rc != 0) {
		dns_sec_fail(j, "soa_answer");
		return;
	}
	dns_sec_close(j);
	dns_sec_decide(j, serial);
}

/* The SOA's fields out of its RDATA. */
static int
dns_sec_soa_fields(const uint8_t *rd, size_t len, struct dns_sec_soa *soa)
{
	int l1, l2;
	const uint8_t *p;

	if ((l1 = dns_name_check(rd, len)) < 0 ||
	    (l2 = dns_name_check(rd + l1, len - (size_t)l1)) < 0 ||
	    (size_t)l1 + (size_t)l2 + 20 != len)
		return -EINVAL;
	p = rd + l1 + l2;
#define DNS_SEC_U32(x)                                                         \
	((uint32_t)(x)[0] << 24 | (uint32_t)(x)[1] << 16 |                     \
	    (uint32_t)(x)[2] << 8 | (x)[3])
	soa->serial = DNS_SEC_U32(p);
	soa->refresh = DNS_SEC_U32(p + 4);
	soa->retry = DNS_SEC_U32(p + 8);
	soa->expire = DNS_SEC_U32(p + 12);
	soa->minimum = DNS_SEC_U32(p + 16);
#undef DNS_SEC_U32
	return 0;
}

static int
dns_sec_axfr_rr(const struct dns_xfr_rr *rr, void *arg)
{
	struct dns_sec_job *j = arg;

	if (rr->op != DNS_XFR_OP_ZONE)
		return dns_sec_ixfr_rr(&j->ixfr, j->s->sec->dir, j->apex, rr);
	if (j->recs.len > DNS_SEC_RECS_MAX)
		return -EFBIG;
	dns_sec_recs_add(
	    &j->recs, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen);
	return 0;
}

/* The transfer is complete: write the copy every worker loads. */
static void
dns_sec_axfr_done(struct dns_sec_job *j)
{
	struct dns_sec_soa soa;
	int rc;

	if (dns_sec_soa_fields(j->xin.soa, j->xin.soa_len, &soa) != 0) {
		dns_sec_fail(j, "axfr_soa");
		return;
	}
	rc = dns_sec_copy_write(j->s->sec->dir, j->apex, &j->recs);
	if (rc != 0) {
		log_warn("dns secondary copy not written", "zone=%s err=%s",
		    j->zone, log_q(strerror(-rc)));
		dns_sec_fail(j, "copy_write");
		return;
	}
	log_info("dns secondary transferred",
	    "zone=%s primary=%s serial=%u "
	    "records=%zu",
	    j->zone, j->peer, soa.serial, j->recs.n);
	j->have = true;
	j->serial = soa.serial;
	j->soa = soa;
	dns_sec_finish(j, DNS_SEC_R_UPDATED);
}

/* An IXFR answer is complete: up to date, the zone in AXFR form, or
 * increments applied to our copy, whose result is written like an
 * AXFR's. Returns false (the connection is gone). */
static bool
dns_sec_ixfr_done(struct dns_sec_job *j)
{
	int rc;

	dns_sec_close(j);
	if (j->xin.uptodate) {
		j->ixfr_forms[DNS_SEC_IX_UPTODATE]++;
		dns_sec_touch_copy(j);
		dns_sec_finish(j, DNS_SEC_R_UP_TO_DATE);
		return false;
	}
	if (!j->xin.incremental) {
		j->ixfr_forms[DNS_SEC_IX_AXFR_FORM]++;
		dns_sec_axfr_done(j);
		return false;
	}
	rc = dns_sec_ixfr_finish(&j->ixfr, j->apex, j->xin.serial, &j->recs);
	if (rc < 0) {
		dns_sec_ixfr_fallback(j, "ixfr_apply");
		return false;
	}
	j->ixfr_forms[DNS_SEC_IX_INCREMENTAL]++;
	log_info("dns secondary ixfr applied", "zone=%s from=%u to=%u steps=%u",
	    j->zone, j->serial, j->xin.serial, j->xin.steps);
	dns_sec_axfr_done(j);
	return false;
}

/* One whole message read over TCP. Returns false when j's connection
 * is gone (failed or finished). */
static bool
dns_sec_tcp_msg(struct dns_sec_job *j, const uint8_t *m, size_t len)
{
	int rc;

	if (j->phase == DNS_SEC_SOA_TCP) {
		dns_sec_soa_answer(j, m, len);
		return false;
	}
	rc = dns_xfr_in_feed(
	    &j->xin, m, len, (uint64_t)time(NULL), dns_sec_axfr_rr, j);
	if (rc == 0)
		return true;
	if (rc == 1 && j->xin.ixfr)
		return dns_sec_ixfr_done(j);
	if (rc == 1) {
		dns_sec_close(j);
		dns_sec_axfr_done(j);
		return false;
	}
	if (j->xin.ixfr) {
		dns_sec_ixfr_fallback(j, dns_xfr_in_err_name(j->xin.err));
		return false;
	}
	dns_sec_fail(j, dns_xfr_in_err_name(j->xin.err));
	return false;
}

/* Read or write over the stream: bytes moved, 0 at the primary's close
 * (a read), -EAGAIN (TLS: j->want says for what), or -EIO. */
static ssize_t
dns_sec_recv(struct dns_sec_job *j, void *buf, size_t len)
{
	ssize_t n;

	if (j->ssl != NULL)
		return dns_tls_recv(j->ssl, buf, len, &j->want);
	n = recv(j->fd, buf, len, 0);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -EIO;
	return n;
}

static ssize_t
dns_sec_send(struct dns_sec_job *j, const void *buf, size_t len)
{
	ssize_t n;

	if (j->ssl != NULL)
		return dns_tls_send(j->ssl, buf, len, &j->want);
	n = send(j->fd, buf, len, MSG_NOSIGNAL);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -EIO;
	return n;
}

/* Wait for what the stream needs next: readiness for the TLS layer's
 * want, or plain EV_WRITE / EV_READ. */
static void
dns_sec_wait(struct dns_sec_job *j, unsigned plain)
{
	ev_io_stop(j->s->loop, &j->io);
	if (ev_io_start(j->s->loop, &j->io,
	        j->ssl != NULL && j->want != 0 ? j->want : plain) != 0)
		dns_sec_fail(j, "tcp_poll");
}

/* Read once; false when j's connection is gone or nothing came. */
static bool
dns_sec_tcp_read_once(struct dns_sec_job *j)
{
	ssize_t n;
	size_t off = 0, ml;

	if (j->in_cap - j->in_len < 4096) {
		j->in_cap = j->in_cap ? j->in_cap * 2 : 16384;
		j->in = xrealloc(j->in, j->in_cap);
	}
	j->want = 0;
	n = dns_sec_recv(j, j->in + j->in_len, j->in_cap - j->in_len);
	if (n == -EAGAIN) {
		if (j->ssl != NULL)
			dns_sec_wait(j, EV_READ);
		return false;
	}
	if (n <= 0) {
		dns_sec_fail(j, n == 0 ? "tcp_eof" : "tcp_read");
		return false;
	}
	j->in_len += (size_t)n;
	while (j->in_len - off >= 2) {
		ml = (size_t)j->in[off] << 8 | j->in[off + 1];
		if (j->in_len - off - 2 < ml)
			break;
		/* The handler may free j->in: copy nothing, check after. */
		if (!dns_sec_tcp_msg(j, j->in + off + 2, ml))
			return false;
		off += 2 + ml;
	}
	memmove(j->in, j->in + off, j->in_len - off);
	j->in_len -= off;
	return true;
}

/* Read what came; over TLS also what it decrypted already, for which no
 * readiness would come. */
static void
dns_sec_tcp_read(struct dns_sec_job *j)
{
	while (dns_sec_tcp_read_once(j) && j->ssl != NULL &&
	    dns_tls_pending(j->ssl) > 0)
		;
}

static void
dns_sec_io_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct dns_sec_job *j = arg;
	int err = 0;
	socklen_t sl = sizeof(err);
	ssize_t n;

	(void)io;
	if (j->phase == DNS_SEC_SOA_UDP) {
		uint8_t b[DNS_SEC_MSG * 4];

		n = recv(j->fd, b, sizeof(b), 0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			dns_sec_fail(j, "soa_unreachable");
			return;
		}
		dns_sec_soa_answer(j, b, (size_t)n);
		return;
	}
	if (!j->connected) {
		if (getsockopt(j->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 ||
		    err != 0) {
			dns_sec_fail(j, "tcp_connect");
			return;
		}
		j->connected = true;
	}
	/* Over TLS a write may wait for a read (the handshake) and the
	 * other way round: the event says little, so the step due is
	 * tried. */
	if (j->qoff < j->qlen && (j->ssl != NULL || (events & EV_WRITE))) {
		j->want = 0;
		n = dns_sec_send(j, j->q + j->qoff, j->qlen - j->qoff);
		if (n < 0 && n != -EAGAIN) {
			dns_sec_fail(j, j->ssl != NULL ? "tls" : "tcp_write");
			return;
		}
		if (n > 0)
			j->qoff += (size_t)n;
		dns_sec_wait(j, j->qoff == j->qlen ? EV_READ : EV_WRITE);
		return;
	}
	if (j->ssl != NULL || (events & EV_READ))
		dns_sec_tcp_read(j);
}

/* Start on primary j->cur. */
static void
dns_sec_try(struct dns_sec_job *j)
{
	conf_addr_str(&j->prim[j->cur], j->peer, sizeof(j->peer));
	ev_timer_start(j->s->loop, &j->deadline, DNS_SEC_DEADLINE_MS);
	j->phase = DNS_SEC_SOA_UDP;
	j->udp_sends = 0;
	if (dns_sec_soa_build(j) != 0) {
		dns_sec_fail(j, "soa_query");
		return;
	}
	if (j->tls_failed) {
		dns_sec_fail(j, "tls_ca");
		return;
	}
	if (j->tls != NULL) {
		dns_sec_tcp_start(j, DNS_SEC_SOA_TCP);
		return;
	}
	if (dns_sec_open(j, SOCK_DGRAM) != 0) {
		dns_sec_fail(j, "udp_socket");
		return;
	}
	dns_sec_udp_send(j);
}

static void
dns_sec_start(struct dns_sec_job *j)
{
	if (j->phase != DNS_SEC_IDLE) {
		j->again = true;
		return;
	}
	ev_timer_stop(j->s->loop, &j->sched);
	j->last_attempt = time(NULL);
	j->cur = 0;
	j->again = false;
	dns_sec_try(j);
}

static void
dns_sec_sched_cb(struct ev_timer *t, void *arg)
{
	(void)t;
	dns_sec_start(arg);
}

void
dns_sec_refresh_now(struct dns_srv *s, const uint8_t *apex)
{
	for (struct dns_sec_job *j = s->sec->jobs; j != NULL; j = j->next)
		if (dns_name_equal(j->apex, apex)) {
			log_info("dns secondary check on notify", "zone=%s",
			    j->zone);
			dns_sec_start(j);
			return;
		}
}

static void
dns_sec_job_free(struct dns_sec_job *j)
{
	dns_sec_close(j);
	ev_timer_stop(j->s->loop, &j->sched);
	ev_timer_stop(j->s->loop, &j->deadline);
	dns_sec_recs_free(&j->recs);
	dns_sec_ixfr_fini(&j->ixfr);
	free(j->prim);
	dns_tls_ctx_free(j->tls);
	free(j->tls_name);
	explicit_bzero(&j->key, sizeof(j->key));
	explicit_bzero(&j->tsig, sizeof(j->tsig));
	explicit_bzero(&j->xin, sizeof(j->xin));
	free(j);
}

/* j's TLS to the primaries from zi: a new context on every apply (the
 * CA file may have changed); an attempt under way keeps its connection.
 * A CA that does not load leaves the job without a context: its attempts
 * fail ("tls_ca") rather than fall back to clear text. */
static void
dns_sec_job_tls(struct dns_sec_job *j, const struct dns_zone_item *zi)
{
	char err[512];

	dns_tls_ctx_free(j->tls);
	j->tls = NULL;
	free(j->tls_name);
	j->tls_name = zi->primaries_tls_name != NULL ?
	    xstrdup(zi->primaries_tls_name) :
	    NULL;
	j->tls_failed = false;
	if (!zi->primaries_tls)
		return;
	j->tls =
	    dns_tls_client_ctx_new(zi->primaries_tls_ca_path, err, sizeof(err));
	if (j->tls == NULL) {
		j->tls_failed = true;
		log_warn("dns secondary tls not set up", "zone=%s err=%s",
		    j->zone, log_q(err));
	}
}

/* Copy zi's primaries and key into j (a reload may change them). */
static void
dns_sec_job_conf(struct dns_sec_job *j, const struct dns_zone_item *zi)
{
	free(j->prim);
	j->prim = xcalloc(zi->nprimaries + 1, sizeof(*j->prim));
	memcpy(j->prim, zi->primary_addr, zi->nprimaries * sizeof(*j->prim));
	j->nprim = zi->nprimaries;
	j->has_key = zi->xfr.key != NULL;
	if (j->has_key)
		j->key = *zi->xfr.key;
	else
		explicit_bzero(&j->key, sizeof(j->key));
	dns_sec_job_tls(j, zi);
}

void
dns_sec_refresh_apply(struct dns_srv *s)
{
	const struct dns_conf *c = s->conf;
	struct dns_sec_job *j, **pp;

	for (j = s->sec->jobs; j != NULL; j = j->next)
		j->seen = false;
	for (size_t i = 0; c != NULL && i < c->nzones; i++) {
		const struct dns_zone_item *zi = &c->zones[i];

		if (!dns_zone_item_secondary(zi) || zi->primary_addr == NULL)
			continue;
		for (j = s->sec->jobs; j != NULL; j = j->next)
			if (dns_name_equal(j->apex, zi->apex))
				break;
		if (j == NULL) {
			j = xcalloc(1, sizeof(*j));
			j->s = s;
			j->fd = -1;
			j->last_result = -1;
			memcpy(j->apex, zi->apex, dns_name_len(zi->apex));
			dns_name_to_text(j->apex, j->zone, sizeof(j->zone));
			ev_io_init(&j->io, -1, dns_sec_io_cb, j);
			ev_timer_init(&j->sched, dns_sec_sched_cb, j);
			ev_timer_init(&j->deadline, dns_sec_deadline_cb, j);
			ev_timer_init(&j->udp_wait, dns_sec_udp_wait_cb, j);
			/* What the workers serve now: a copy loaded at
			 * start is compared, not transferred again. */
			if (s->zones != NULL && s->zones->sec != NULL &&
			    s->zones->sec[i].loaded) {
				j->have = true;
				j->soa = s->zones->sec[i].soa;
				j->serial = j->soa.serial;
			}
			j->next = s->sec->jobs;
			s->sec->jobs = j;
			ev_timer_start(s->loop, &j->sched, 0);
		}
		dns_sec_job_conf(j, zi);
		j->seen = true;
	}
	for (pp = &s->sec->jobs; (j = *pp) != NULL;) {
		if (j->seen) {
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		dns_sec_job_free(j);
	}
}

void
dns_sec_refresh_stop(struct dns_srv *s)
{
	struct dns_sec_job *j;

	while ((j = s->sec->jobs) != NULL) {
		s->sec->jobs = j->next;
		dns_sec_job_free(j);
	}
}

void
dns_sec_refresh_metrics(const struct dns_sec *sec, struct buf *out)
{
	struct buf l;

	buf_init(&l);
	mx_family(out, "haven_dns_secondary_refresh_total", "counter",
	    "refresh attempts of secondary zones, by result (worker 0)");
	for (struct dns_sec_job *j = sec->jobs; j != NULL; j = j->next)
		for (int r = 0; r < DNS_SEC_R__COUNT; r++) {
			buf_reset(&l);
			mx_label(&l, "zone", j->zone);
			mx_label(&l, "result", dns_sec_rname[r]);
			mx_u64(out, "haven_dns_secondary_refresh_total", l.data,
			    j->results[r]);
		}
	mx_family(out, "haven_dns_secondary_ixfr_total", "counter",
	    "IXFR answers to our refreshes, by form (worker 0)");
	for (struct dns_sec_job *j = sec->jobs; j != NULL; j = j->next)
		for (int f = 0; f < DNS_SEC_IX__COUNT; f++) {
			buf_reset(&l);
			mx_label(&l, "zone", j->zone);
			mx_label(&l, "form", dns_sec_ixname[f]);
			mx_u64(out, "haven_dns_secondary_ixfr_total", l.data,
			    j->ixfr_forms[f]);
		}
	buf_fini(&l);
}

/* Another worker's view: what worker 0 left in .<zone>.state. */
void
dns_sec_refresh_json_saved(struct dns_srv *s, const uint8_t *apex, struct jw *w)
{
	char name[DNS_SEC_FILE_MAX + 1], result[32], error[64];
	long long at;
	struct buf b;

	name[0] = '.';
	dns_sec_copy_name(apex, ".state", name + 1, sizeof(name) - 1);
	buf_init(&b);
	if (s->sec->dir[0] != '\0' &&
	    statefile_read(s->sec->dir, name, &b) == 0) {
		buf_putc(&b, '\0');
		if (sscanf(b.data, "%lld %31s %63s", &at, result, error) == 3) {
			jw_kint(w, "last_attempt", at);
			jw_kstr(w, "last_result", result);
			if (strcmp(error, "-") != 0)
				jw_kstr(w, "last_error", error);
		}
	}
	buf_fini(&b);
}

void
dns_sec_refresh_json(struct dns_srv *s, const uint8_t *apex, struct jw *w)
{
	for (struct dns_sec_job *j = s->sec->jobs; j != NULL; j = j->next) {
		if (!dns_name_equal(j->apex, apex))
			continue;
		jw_key(w, "last_attempt");
		if (j->last_attempt != 0)
			jw_int(w, (int64_t)j->last_attempt);
		else
			jw_null(w);
		jw_key(w, "last_result");
		if (j->last_result >= 0)
			jw_str(w, dns_sec_rname[j->last_result]);
		else
			jw_null(w);
		if (j->last_error[0] != '\0')
			jw_kstr(w, "last_error", j->last_error);
		jw_kbool(w, "refreshing", j->phase != DNS_SEC_IDLE);
		return;
	}
}
