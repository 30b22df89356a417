/*
 * dns_notify.c - NOTIFY out (RFC 1996) from worker 0 of the dns plane:
 * after an apply, each zone whose SOA serial changed (or that is new)
 * gets a NOTIFY (opcode 4, AA, the SOA question) sent over UDP to each of
 * its notify: addresses, signed with its transfer_key if it has one.
 * Sent again after 1, 2, 4 and 8 s until a matching answer comes
 * (RFC 1996 §3.6 asks for retries; five sends in all), then given up.
 *
 * Invariants: one job per (zone, address); a new serial replaces the
 * job in flight for the same pair. Each job owns a connected UDP socket,
 * so the kernel filters answers from other peers, and the job matches
 * the ID, QR and opcode, and the TSIG when it signed. A job holds a copy
 * of its key: a reload may free the config while it runs.
 */
#include <sys/random.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns/dns_tsig.h"
#include "dns/dns_wire.h"
#include "dns/dns_xfr.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"

#define DNS_NOTIFY_SENDS    5
#define DNS_NOTIFY_FIRST_MS 1000
#define DNS_NOTIFY_MSG      1024

struct dns_notify_job {
	struct dns_srv *s; /* borrowed: the worker's */
	uint8_t apex[DNS_NAME_MAX];
	char zone[DNS_NAME_TEXT_MAX];
	char peer[64];
	struct sockaddr_storage addr;
	uint32_t serial;
	int fd; /* owned */
	struct ev_io io;
	struct ev_timer timer;
	unsigned sends;
	uint64_t wait_ms;
	uint16_t id;
	bool has_key;
	struct dns_tsig_key key;  /* a copy: see the header */
	struct dns_tsig_ctx tsig; /* of the last send */
	uint8_t msg[DNS_NOTIFY_MSG];
	size_t len;
	struct dns_notify_job *next; /* owned: the list */
};

static struct dns_notify_job *dns_notify_jobs; /* owned list */
static uint64_t dns_notify_sent, dns_notify_acked, dns_notify_failed,
    dns_notify_errors, dns_notify_rejected;

static void
dns_notify_free(struct dns_notify_job *j)
{
	struct dns_notify_job **p;

	for (p = &dns_notify_jobs; *p != NULL; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	ev_io_stop(j->s->loop, &j->io);
	ev_timer_stop(j->s->loop, &j->timer);
	if (j->fd >= 0)
		close(j->fd);
	explicit_bzero(&j->key, sizeof(j->key));
	free(j);
}

/* Build (again: a new ID and TSIG time each send) and send j's NOTIFY. */
static void
dns_notify_send(struct dns_notify_job *j)
{
	size_t k = dns_name_len(j->apex);
	uint8_t *m = j->msg;

	if (getrandom(&j->id, sizeof(j->id), 0) != sizeof(j->id))
		j->id = (uint16_t)util_mono_us();
	memset(m, 0, DNS_HDR_LEN);
	m[0] = (uint8_t)(j->id >> 8);
	m[1] = (uint8_t)j->id;
	m[2] = (uint8_t)(DNS_OPCODE_NOTIFY << 3 | DNS_FLAG_AA >> 8);
	m[5] = 1; /* QDCOUNT */
	memcpy(m + DNS_HDR_LEN, j->apex, k);
	m[DNS_HDR_LEN + k + 1] = DNS_TYPE_SOA;
	m[DNS_HDR_LEN + k + 3] = DNS_CLASS_IN;
	j->len = DNS_HDR_LEN + k + 4;
	if (j->has_key) {
		dns_tsig_ctx_client(&j->tsig, &j->key);
		if (dns_tsig_sign(&j->tsig, m, &j->len, sizeof(j->msg),
		        (uint64_t)time(NULL)) < 0) {
			dns_notify_errors++;
			return;
		}
	}
	j->sends++;
	if (send(j->fd, m, j->len, 0) < 0) {
		dns_notify_errors++;
		log_warn("dns notify send failed", "zone=%s peer=%s errno=%d",
		    j->zone, j->peer, errno);
	} else
		dns_notify_sent++;
}

static void
dns_notify_timer_cb(struct ev_timer *t, void *arg)
{
	struct dns_notify_job *j = arg;

	(void)t;
	if (j->sends >= DNS_NOTIFY_SENDS) {
		dns_notify_failed++;
		log_warn("dns notify unanswered",
		    "zone=%s peer=%s serial=%u "
		    "sends=%u",
		    j->zone, j->peer, j->serial, j->sends);
		dns_notify_free(j);
		return;
	}
	dns_notify_send(j);
	j->wait_ms *= 2;
	ev_timer_start(j->s->loop, &j->timer, j->wait_ms);
}

/* Whether the len-byte answer acknowledges j's last NOTIFY. */
static int
dns_notify_match(struct dns_notify_job *j, uint8_t *b, size_t len)
{
	size_t off;
	uint16_t flags;
	int rc;

	if (len < DNS_HDR_LEN || (uint16_t)(b[0] << 8 | b[1]) != j->id)
		return -ENOENT;
	flags = (uint16_t)(b[2] << 8 | b[3]);
	if (!(flags & DNS_FLAG_QR) || DNS_OPCODE(flags) != DNS_OPCODE_NOTIFY)
		return -ENOENT;
	if (j->has_key) {
		rc = dns_tsig_verify_answer(
		    &j->tsig, b, len, (uint64_t)time(NULL), &off);
		if (rc != DNS_TSIG_NOERROR)
			return -EPERM;
	}
	return flags & 0xf;
}

static void
dns_notify_read_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct dns_notify_job *j = arg;
	uint8_t b[DNS_NOTIFY_MSG];
	ssize_t n;
	int i, rc;

	(void)io;
	(void)events;
	for (i = 0; i < 8; i++) {
		n = recv(j->fd, b, sizeof(b), 0);
		if (n < 0)
			return; /* EAGAIN, or ICMP unreachable: retry */
		rc = dns_notify_match(j, b, (size_t)n);
		if (rc == -ENOENT || rc == -EPERM) {
			dns_notify_rejected++;
			continue;
		}
		if (rc == DNS_RCODE_NOERROR) {
			dns_notify_acked++;
			log_info("dns notify acknowledged",
			    "zone=%s peer=%s serial=%u sends=%u", j->zone,
			    j->peer, j->serial, j->sends);
		} else {
			dns_notify_failed++;
			log_warn("dns notify refused",
			    "zone=%s peer=%s serial=%u rcode=%d", j->zone,
			    j->peer, j->serial, rc);
		}
		dns_notify_free(j);
		return;
	}
}

static void
dns_notify_start(struct dns_srv *s, const struct dns_zone_item *zi, size_t t,
    uint32_t serial)
{
	const struct sockaddr_storage *a = &zi->xfr.notify_addr[t];
	struct dns_notify_job *j, *o;
	socklen_t sl = a->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	                                         sizeof(struct sockaddr_in6);

	for (o = dns_notify_jobs; o != NULL; o = o->next)
		if (dns_name_equal(o->apex, zi->apex) &&
		    memcmp(&o->addr, a, sizeof(*a)) == 0) {
			dns_notify_free(o);
			break;
		}
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	memcpy(j->apex, zi->apex, dns_name_len(zi->apex));
	dns_name_to_text(j->apex, j->zone, sizeof(j->zone));
	j->addr = *a;
	conf_addr_str(a, j->peer, sizeof(j->peer));
	j->serial = serial;
	if (zi->xfr.key != NULL) {
		j->key = *zi->xfr.key;
		j->has_key = true;
	}
	ev_io_init(&j->io, -1, dns_notify_read_cb, j);
	ev_timer_init(&j->timer, dns_notify_timer_cb, j);
	j->fd =
	    socket(a->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (j->fd < 0 || connect(j->fd, (const struct sockaddr *)a, sl) < 0) {
		dns_notify_errors++;
		log_warn("dns notify socket failed", "zone=%s peer=%s errno=%d",
		    j->zone, j->peer, errno);
		if (j->fd >= 0)
			close(j->fd);
		free(j);
		return;
	}
	j->next = dns_notify_jobs;
	dns_notify_jobs = j;
	ev_io_init(&j->io, j->fd, dns_notify_read_cb, j);
	if (ev_io_start(s->loop, &j->io, EV_READ) < 0) {
		dns_notify_errors++;
		dns_notify_free(j);
		return;
	}
	dns_notify_send(j);
	j->wait_ms = DNS_NOTIFY_FIRST_MS;
	ev_timer_start(s->loop, &j->timer, j->wait_ms);
}

void
dns_notify_apply(struct dns_srv *s, const struct dns_srv_zones *old,
    const struct dns_srv_zones *nz)
{
	const struct dns_conf *c = s->conf;
	size_t i, t;
	uint32_t serial;
	int zn, zo;

	if (s->worker != 0 || c == NULL || nz == NULL)
		return;
	for (i = 0; i < c->nzones; i++) {
		const struct dns_zone_item *zi = &c->zones[i];

		if (zi->xfr.nnotify == 0 || zi->xfr.notify_addr == NULL)
			continue;
		if ((zn = dns_db_zone_find(nz->db, zi->apex)) < 0 ||
		    dns_db_zone_is_pending(nz->db, (unsigned)zn))
			continue;
		serial = dns_db_zone_serial(nz->db, (unsigned)zn);
		zo = old != NULL ? dns_db_zone_find(old->db, zi->apex) : -1;
		if (zo >= 0 &&
		    dns_db_zone_serial(old->db, (unsigned)zo) == serial)
			continue;
		log_info("dns notify", "zone=%s serial=%u peers=%zu", zi->name,
		    serial, zi->xfr.nnotify);
		for (t = 0; t < zi->xfr.nnotify; t++)
			dns_notify_start(s, zi, t, serial);
	}
}

void
dns_notify_stop(struct dns_srv *s)
{
	(void)s;
	while (dns_notify_jobs != NULL)
		dns_notify_free(dns_notify_jobs);
}

void
dns_notify_metrics(struct buf *out)
{
	struct dns_notify_job *j;
	uint64_t n = 0;

	for (j = dns_notify_jobs; j != NULL; j = j->next)
		n++;
	mx_family(out, "haven_dns_notify_sent_total", "counter",
	    "NOTIFY messages sent, retries included (RFC 1996)");
	mx_u64(out, "haven_dns_notify_sent_total", NULL, dns_notify_sent);
	mx_family(out, "haven_dns_notify_acked_total", "counter",
	    "NOTIFYs a secondary acknowledged");
	mx_u64(out, "haven_dns_notify_acked_total", NULL, dns_notify_acked);
	mx_family(out, "haven_dns_notify_failed_total", "counter",
	    "NOTIFYs refused or unanswered after every retry");
	mx_u64(out, "haven_dns_notify_failed_total", NULL, dns_notify_failed);
	mx_family(out, "haven_dns_notify_errors_total", "counter",
	    "NOTIFYs not sent: socket or signing errors");
	mx_u64(out, "haven_dns_notify_errors_total", NULL, dns_notify_errors);
	mx_family(out, "haven_dns_notify_ignored_total", "counter",
	    "datagrams on a NOTIFY socket that were not its answer, or "
	    "failed TSIG");
	mx_u64(
	    out, "haven_dns_notify_ignored_total", NULL, dns_notify_rejected);
	mx_family(out, "haven_dns_notify_pending", "gauge",
	    "NOTIFYs awaiting an answer");
	mx_u64(out, "haven_dns_notify_pending", NULL, n);
}
