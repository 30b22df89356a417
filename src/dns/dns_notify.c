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
 *
 * Why NOTIFY waits for every worker: the secondary answers the NOTIFY and
 * then asks for the SOA, and the transfer, on whichever worker the kernel
 * picks from the SO_REUSEPORT group. Each worker loads the zones itself,
 * so right after worker 0's reload another worker may still be on its way
 * to the new serial (loading a large zone set, not yet scheduled on a busy
 * machine, its apply rejected): a query it takes gets the old serial, or
 * an answer only after the secondary gave up waiting. Either way the
 * secondary finds nothing newer and sleeps until its retry or refresh
 * timer (often an hour), and no retransmission of the NOTIFY helps, since
 * the secondary did answer it. So every worker reports the
 * serial of each zone with notify: addresses after each apply
 * (IPC_ZONE_SERIALS, relayed by the parent to worker 0), and worker 0
 * holds a changed zone's NOTIFY until every live worker (one whose
 * sockets are not adopted: lib/plane.h) reports that serial or a later
 * one (RFC 1982 §3.2). A worker that never does (its apply rejected, or
 * wedged) holds it DNS_NOTIFY_WAIT_MS at most: then it goes out anyway,
 * counted and logged. Workers also report again when their socket set
 * changes (a sibling went or came back), so a restarted worker 0 learns
 * the others' serials without a reload.
 *
 * Workers still each read the zone files: a file replaced between two
 * workers' reads gives them different serials. The wait covers it (a
 * worker behind holds the NOTIFY, one ahead satisfies it), and the next
 * reload evens them out; one read shared by all is not done.
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
#include "lib/plane.h"
#include "lib/util.h"

#define DNS_NOTIFY_SENDS    5
#define DNS_NOTIFY_FIRST_MS 1000
#define DNS_NOTIFY_MSG      1024
#define DNS_NOTIFY_WAIT_MS  30000 /* longest a NOTIFY waits for workers */

/* A changed zone's NOTIFY held until every worker serves serial. */
struct dns_notify_wait {
	uint8_t apex[DNS_NAME_MAX];
	uint32_t serial;
	uint64_t since_ms, deadline_ms; /* ev_now_ms */
	struct dns_notify_wait *next;   /* owned: the list */
};

/* What worker 0 last heard from one worker. */
struct dns_notify_peer {
	bool known; /* a report came since worker 0 started */
	size_t n;
	struct dns_notify_serial *v; /* owned: n entries */
};

struct dns_notify {
	struct dns_notify_job *jobs;   /* owned list */
	struct dns_notify_wait *waits; /* owned list; worker 0 only */
	struct dns_notify_peer *peers; /* owned: nworkers; worker 0 only */
	unsigned nworkers;
	struct ev_timer timer; /* the earliest wait's deadline */
	bool check_queued;     /* dns_notify_check_defer is queued */
	uint64_t sent, acked, failed, errors, rejected;
	uint64_t waits_served, waits_timeout;
	uint64_t reports_sent, reports_bad;
};

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

static void
dns_notify_job_free(struct dns_notify_job *j)
{
	struct dns_notify_job **p;

	for (p = &j->s->notify->jobs; *p != NULL; p = &(*p)->next)
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
			j->s->notify->errors++;
			return;
		}
	}
	j->sends++;
	if (send(j->fd, m, j->len, 0) < 0) {
		j->s->notify->errors++;
		log_warn("dns notify send failed", "zone=%s peer=%s errno=%d",
		    j->zone, j->peer, errno);
	} else
		j->s->notify->sent++;
}

static void
dns_notify_timer_cb(struct ev_timer *t, void *arg)
{
	struct dns_notify_job *j = arg;

	(void)t;
	if (j->sends >= DNS_NOTIFY_SENDS) {
		j->s->notify->failed++;
		log_warn("dns notify unanswered",
		    "zone=%s peer=%s serial=%u "
		    "sends=%u",
		    j->zone, j->peer, j->serial, j->sends);
		dns_notify_job_free(j);
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
			j->s->notify->rejected++;
			continue;
		}
		if (rc == DNS_RCODE_NOERROR) {
			j->s->notify->acked++;
			log_info("dns notify acknowledged",
			    "zone=%s peer=%s serial=%u sends=%u", j->zone,
			    j->peer, j->serial, j->sends);
		} else {
			j->s->notify->failed++;
			log_warn("dns notify refused",
			    "zone=%s peer=%s serial=%u rcode=%d", j->zone,
			    j->peer, j->serial, rc);
		}
		dns_notify_job_free(j);
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

	for (o = s->notify->jobs; o != NULL; o = o->next)
		if (dns_name_equal(o->apex, zi->apex) &&
		    memcmp(&o->addr, a, sizeof(*a)) == 0) {
			dns_notify_job_free(o);
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
		j->s->notify->errors++;
		log_warn("dns notify socket failed", "zone=%s peer=%s errno=%d",
		    j->zone, j->peer, errno);
		if (j->fd >= 0)
			close(j->fd);
		free(j);
		return;
	}
	j->next = s->notify->jobs;
	s->notify->jobs = j;
	ev_io_init(&j->io, j->fd, dns_notify_read_cb, j);
	if (ev_io_start(s->loop, &j->io, EV_READ) < 0) {
		j->s->notify->errors++;
		dns_notify_job_free(j);
		return;
	}
	dns_notify_send(j);
	j->wait_ms = DNS_NOTIFY_FIRST_MS;
	ev_timer_start(s->loop, &j->timer, j->wait_ms);
}

static void dns_notify_wait_cb(struct ev_timer *t, void *arg);

struct dns_notify *
dns_notify_new(struct dns_srv *s, unsigned nworkers)
{
	struct dns_notify *n = xcalloc(1, sizeof(*n));

	n->nworkers = nworkers > 0 ? nworkers : 1;
	if (s->worker == 0)
		n->peers = xcalloc(n->nworkers, sizeof(*n->peers));
	ev_timer_init(&n->timer, dns_notify_wait_cb, s);
	return n;
}

static void
dns_notify_waits_clear(struct dns_notify *n)
{
	struct dns_notify_wait *w;

	while ((w = n->waits) != NULL) {
		n->waits = w->next;
		free(w);
	}
}

void
dns_notify_free(struct dns_notify *n)
{
	if (n == NULL)
		return;
	/* dns_notify_stop ran: no job, no armed timer. */
	dns_notify_waits_clear(n);
	for (unsigned i = 0; n->peers != NULL && i < n->nworkers; i++)
		free(n->peers[i].v);
	free(n->peers);
	free(n);
}

/* The entries of zones z for the zones of c with notify: addresses:
 * into a new array *out (caller frees); count. Zones still pending (a
 * secondary zone never transferred) are left out: no serial to serve. */
static size_t
dns_notify_serials(const struct dns_conf *c, const struct dns_srv_zones *z,
    struct dns_notify_serial **out)
{
	struct dns_notify_serial *v;
	size_t n = 0;
	int zn;

	*out = NULL;
	if (c == NULL || z == NULL || c->nzones == 0)
		return 0;
	v = xcalloc(c->nzones, sizeof(*v));
	for (size_t i = 0; i < c->nzones; i++) {
		const struct dns_zone_item *zi = &c->zones[i];

		if (zi->xfr.nnotify == 0 ||
		    (zn = dns_db_zone_find(z->db, zi->apex)) < 0 ||
		    dns_db_zone_is_pending(z->db, (unsigned)zn))
			continue;
		memcpy(v[n].apex, zi->apex, dns_name_len(zi->apex));
		v[n].serial = dns_db_zone_serial(z->db, (unsigned)zn);
		n++;
	}
	*out = v;
	return n;
}

/*
 * Tell worker 0 what zones z serve (worker 0 records its own). Sent from
 * inside the apply, before the swap: the worker reads no query until the
 * apply returns, so by the time worker 0's NOTIFY can bring one, z is
 * what answers it.
 */
static void
dns_notify_report_out(struct dns_srv *s, const struct dns_srv_zones *z)
{
	struct dns_notify *n = s->notify;
	struct dns_notify_report r = { .worker = s->worker };
	struct dns_notify_serial *v;
	size_t cnt = dns_notify_serials(s->conf, z, &v);

	if (s->worker == 0) {
		free(n->peers[0].v);
		n->peers[0].v = v;
		n->peers[0].n = cnt;
		n->peers[0].known = true;
		return;
	}
	if (n->nworkers > 1) {
		size_t len = sizeof(r) + cnt * sizeof(*v);
		uint8_t *b = xmalloc(len);

		r.n = (uint32_t)cnt;
		memcpy(b, &r, sizeof(r));
		if (cnt > 0)
			memcpy(b + sizeof(r), v, cnt * sizeof(*v));
		/* A failure is counted by the runtime; worker 0's wait then
		 * ends at its deadline. */
		if (plane_send(IPC_ZONE_SERIALS, b, len) == 0)
			n->reports_sent++;
		free(b);
	}
	free(v);
}

/* Whether worker w is down: worker 0 serves its sockets as adopted. */
static bool
dns_notify_worker_down(const struct dns_srv *s, unsigned w)
{
	for (const struct dns_sock *k = s->socks; k != NULL; k = k->next)
		if (k->adopted && k->slot == w)
			return true;
	return false;
}

/* Whether every live worker serves apex at serial or later. */
static bool
dns_notify_all_serve(
    const struct dns_srv *s, const uint8_t *apex, uint32_t serial)
{
	const struct dns_notify *n = s->notify;

	for (unsigned w = 0; w < n->nworkers; w++) {
		const struct dns_notify_peer *p = &n->peers[w];
		size_t i;

		if (w != 0 && dns_notify_worker_down(s, w))
			continue;
		if (!p->known)
			return false;
		for (i = 0; i < p->n; i++)
			if (dns_name_equal(p->v[i].apex, apex))
				break;
		/* RFC 1982 §3.2: later serials satisfy the wait too. */
		if (i == p->n || (int32_t)(p->v[i].serial - serial) < 0)
			return false;
	}
	return true;
}

/* Start the NOTIFYs of w's zone, if the config still has it. */
static void
dns_notify_release(struct dns_srv *s, const struct dns_notify_wait *w)
{
	const struct dns_conf *c = s->conf;

	for (size_t i = 0; c != NULL && i < c->nzones; i++) {
		const struct dns_zone_item *zi = &c->zones[i];

		if (!dns_name_equal(zi->apex, w->apex) ||
		    zi->xfr.nnotify == 0 || zi->xfr.notify_addr == NULL)
			continue;
		log_info("dns notify",
		    "zone=%s serial=%u peers=%zu waited_ms=%llu", zi->name,
		    w->serial, zi->xfr.nnotify,
		    (unsigned long long)(ev_now_ms(s->loop) - w->since_ms));
		for (size_t t = 0; t < zi->xfr.nnotify; t++)
			dns_notify_start(s, zi, t, w->serial);
		return;
	}
}

/*
 * Release each wait every worker now satisfies, or whose deadline passed
 * (counted, logged), and arm the timer for the earliest one left.
 */
static void
dns_notify_check(struct dns_srv *s)
{
	struct dns_notify *n = s->notify;
	struct dns_notify_wait *w, **pp;
	uint64_t now = ev_now_ms(s->loop), next = UINT64_MAX;

	if (n->peers == NULL)
		return;
	for (pp = &n->waits; (w = *pp) != NULL;) {
		bool served = dns_notify_all_serve(s, w->apex, w->serial);

		if (!served && now < w->deadline_ms) {
			if (w->deadline_ms < next)
				next = w->deadline_ms;
			pp = &w->next;
			continue;
		}
		if (served)
			n->waits_served++;
		else {
			char zone[DNS_NAME_TEXT_MAX];

			n->waits_timeout++;
			dns_name_to_text(w->apex, zone, sizeof(zone));
			log_warn("dns notify sent before every worker serves "
			         "the serial",
			    "zone=%s serial=%u waited_ms=%llu", zone, w->serial,
			    (unsigned long long)(now - w->since_ms));
		}
		*pp = w->next;
		dns_notify_release(s, w);
		free(w);
	}
	if (next == UINT64_MAX)
		ev_timer_stop(s->loop, &n->timer);
	else
		ev_timer_start(s->loop, &n->timer, next - now);
}

static void
dns_notify_wait_cb(struct ev_timer *t, void *arg)
{
	(void)t;
	dns_notify_check(arg);
}

static void
dns_notify_check_defer(void *arg)
{
	struct dns_srv *s = arg; /* lives until the process exits */

	s->notify->check_queued = false;
	if (!s->stopping)
		dns_notify_check(s);
}

/* Hold a NOTIFY of apex at serial; a newer serial replaces the wait. */
static void
dns_notify_wait_add(struct dns_srv *s, const uint8_t *apex, uint32_t serial)
{
	struct dns_notify *n = s->notify;
	struct dns_notify_wait *w;

	for (w = n->waits; w != NULL; w = w->next)
		if (dns_name_equal(w->apex, apex))
			break;
	if (w == NULL) {
		w = xcalloc(1, sizeof(*w));
		memcpy(w->apex, apex, dns_name_len(apex));
		w->next = n->waits;
		n->waits = w;
	}
	w->serial = serial;
	w->since_ms = ev_now_ms(s->loop);
	w->deadline_ms = w->since_ms + DNS_NOTIFY_WAIT_MS;
}

void
dns_notify_apply(struct dns_srv *s, const struct dns_srv_zones *old,
    const struct dns_srv_zones *nz)
{
	const struct dns_conf *c = s->conf;
	uint32_t serial;
	int zn, zo;

	if (c == NULL || nz == NULL || s->stopping)
		return;
	dns_notify_report_out(s, nz);
	if (s->worker != 0)
		return;
	for (size_t i = 0; i < c->nzones; i++) {
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
		dns_notify_wait_add(s, zi->apex, serial);
	}
	/* Checked once the apply is over: the plane sets the config's
	 * sockets after this call, and they say which workers are down. */
	if (s->notify->waits != NULL && !s->notify->check_queued) {
		s->notify->check_queued = true;
		ev_defer(s->loop, dns_notify_check_defer, s);
	}
}

/* Whether apex holds a wire-form name ending within its DNS_NAME_MAX
 * octets: dns_name_equal may then walk it. */
static bool
dns_notify_name_ok(const uint8_t *apex)
{
	size_t o = 0;

	while (o < DNS_NAME_MAX) {
		if (apex[o] == 0)
			return true;
		if (apex[o] > 63) /* RFC 1035 §2.3.4; no compression here */
			return false;
		o += 1 + (size_t)apex[o];
	}
	return false;
}

void
dns_notify_report_in(struct dns_srv *s, const void *data, size_t len)
{
	struct dns_notify *n = s->notify;
	struct dns_notify_report r;
	struct dns_notify_peer *p;

	if (len < sizeof(r)) {
		n->reports_bad++;
		return;
	}
	/* The payload may be unaligned: copy before use. */
	memcpy(&r, data, sizeof(r));
	if (n->peers == NULL || r.worker == 0 || r.worker >= n->nworkers ||
	    r.n > (len - sizeof(r)) / sizeof(struct dns_notify_serial) ||
	    len != sizeof(r) + r.n * sizeof(struct dns_notify_serial)) {
		n->reports_bad++;
		return;
	}
	p = &n->peers[r.worker];
	free(p->v);
	p->v = xcalloc(r.n + 1, sizeof(*p->v));
	memcpy(p->v, (const uint8_t *)data + sizeof(r), r.n * sizeof(*p->v));
	for (size_t i = 0; i < r.n; i++)
		if (!dns_notify_name_ok(p->v[i].apex)) {
			/* Our own binary sent it: a bug, not an attack. Forget
			 * the worker's report: its waits end at the deadline.
			 */
			n->reports_bad++;
			free(p->v);
			p->v = NULL;
			p->n = 0;
			p->known = false;
			return;
		}
	p->n = r.n;
	p->known = true;
	if (s->conf != NULL)
		dns_notify_check(s);
}

void
dns_notify_sockets(struct dns_srv *s)
{
	if (s->stopping || s->zones == NULL)
		return;
	if (s->worker != 0)
		dns_notify_report_out(s, s->zones);
	else
		dns_notify_check(s);
}

void
dns_notify_stop(struct dns_srv *s)
{
	struct dns_notify *n = s->notify;

	while (n->jobs != NULL)
		dns_notify_job_free(n->jobs);
	ev_timer_stop(s->loop, &n->timer);
	dns_notify_waits_clear(n);
}

void
dns_notify_metrics(const struct dns_notify *n, struct buf *out)
{
	static const struct dns_notify zero;
	struct dns_notify_job *j;
	struct dns_notify_wait *w;
	uint64_t pending = 0, waiting = 0;

	if (n == NULL)
		n = &zero;
	for (j = n->jobs; j != NULL; j = j->next)
		pending++;
	for (w = n->waits; w != NULL; w = w->next)
		waiting++;
	mx_family(out, "haven_dns_notify_sent_total", "counter",
	    "NOTIFY messages sent, retries included (RFC 1996)");
	mx_u64(out, "haven_dns_notify_sent_total", NULL, n->sent);
	mx_family(out, "haven_dns_notify_acked_total", "counter",
	    "NOTIFYs a secondary acknowledged");
	mx_u64(out, "haven_dns_notify_acked_total", NULL, n->acked);
	mx_family(out, "haven_dns_notify_failed_total", "counter",
	    "NOTIFYs refused or unanswered after every retry");
	mx_u64(out, "haven_dns_notify_failed_total", NULL, n->failed);
	mx_family(out, "haven_dns_notify_errors_total", "counter",
	    "NOTIFYs not sent: socket or signing errors");
	mx_u64(out, "haven_dns_notify_errors_total", NULL, n->errors);
	mx_family(out, "haven_dns_notify_ignored_total", "counter",
	    "datagrams on a NOTIFY socket that were not its answer, or "
	    "failed TSIG");
	mx_u64(out, "haven_dns_notify_ignored_total", NULL, n->rejected);
	mx_family(out, "haven_dns_notify_pending", "gauge",
	    "NOTIFYs awaiting an answer");
	mx_u64(out, "haven_dns_notify_pending", NULL, pending);
	mx_family(out, "haven_dns_notify_waits_total", "counter",
	    "new serials whose NOTIFY waited for every worker to serve them: "
	    "until all did (served) or for 30 s (timeout)");
	mx_u64(out, "haven_dns_notify_waits_total", "result=\"served\"",
	    n->waits_served);
	mx_u64(out, "haven_dns_notify_waits_total", "result=\"timeout\"",
	    n->waits_timeout);
	mx_family(out, "haven_dns_notify_waiting", "gauge",
	    "new serials whose NOTIFY waits for a worker still serving an "
	    "older one");
	mx_u64(out, "haven_dns_notify_waiting", NULL, waiting);
	mx_family(out, "haven_dns_notify_reports_total", "counter",
	    "zone serial reports: sent to worker 0 (sent), received and "
	    "malformed (bad)");
	mx_u64(out, "haven_dns_notify_reports_total", "result=\"sent\"",
	    n->reports_sent);
	mx_u64(out, "haven_dns_notify_reports_total", "result=\"bad\"",
	    n->reports_bad);
}
