/*
 * dns_sec_notify.c - NOTIFY in (RFC 1996) for secondary zones, on every
 * worker, over UDP and TCP (dns_sec.h).
 *
 * Accepted: a NOTIFY for one of our secondary zones, from the address of
 * one of its primaries (any source port, §3.10), and, when the zone has a
 * transfer_key, signed with that key (RFC 8945). It is answered with QR
 * and AA, its ID and question (§4.7), and starts an SOA check at once.
 * From anyone else: REFUSED. A missing or failing signature where a key
 * is required: NOTAUTH (with the TSIG error, signed where the key is
 * known, §5.3.2). A zone we are not a secondary for: NOTAUTH.
 *
 * Only worker 0 refreshes. Another worker relays by touching
 * <state_dir>/dns-secondary/<zone>.notify, which worker 0 watches
 * (dns_sec_load.c). At most one touch per zone per second: one that comes
 * sooner is delayed to the end of that second, never dropped, and NOTIFYs
 * that arrive meanwhile ride on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns/dns_sec.h"
#include "dns/dns_sec_wire.h"
#include "dns/dns_tsig.h"
#include "dns/dns_wire.h"
#include "dns/dns_xfr.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"

#define DNS_SEC_RELAY_MS 1000 /* at most one trigger per zone per second */

static const char *const dns_sec_nres_name[DNS_SEC_N__COUNT] = {
	"accepted",
	"refused",
	"notauth",
};

/* A relay of one zone (workers other than 0). */
struct dns_sec_relay {
	struct dns_srv *s; /* borrowed: the worker's */
	uint8_t apex[DNS_NAME_MAX];
	uint64_t last_ms; /* last touch; 0: never */
	struct ev_timer t;
	struct dns_sec_relay *next; /* owned: the list */
};

bool
dns_sec_is_notify(const uint8_t *msg, size_t len)
{
	return len >= DNS_HDR_LEN && !(msg[2] & 0x80) &&
	    ((msg[2] >> 3) & 0xf) == DNS_OPCODE_NOTIFY;
}

static void
dns_sec_touch(struct dns_sec_relay *r)
{
	char name[DNS_SEC_FILE_MAX], path[PATH_MAX];
	int fd;

	r->last_ms = ev_now_ms(r->s->loop);
	dns_sec_copy_name(r->apex, ".notify", name, sizeof(name));
	/* The directory is a state_dir's child: it fits, but say so if
	 * not rather than touch a truncated path. */
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", r->s->sec->dir,
	        name) >= sizeof(path)) {
		r->s->sec->relay_errors++;
		log_warn("dns notify relay failed", "path=%s errno=%d",
		    log_q(r->s->sec->dir), ENAMETOOLONG);
		return;
	}
	/* Opened for writing and closed: IN_CLOSE_WRITE at worker 0. */
	fd = open(
	    path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		r->s->sec->relay_errors++;
		log_warn("dns notify relay failed", "path=%s errno=%d",
		    log_q(path), errno);
		return;
	}
	close(fd);
	r->s->sec->relayed++;
}

static void
dns_sec_relay_cb(struct ev_timer *t, void *arg)
{
	(void)t;
	dns_sec_touch(arg);
}

static void
dns_sec_relay(struct dns_srv *s, const uint8_t *apex)
{
	struct dns_sec_relay *r;
	uint64_t now = ev_now_ms(s->loop);

	for (r = s->sec->relays; r != NULL; r = r->next)
		if (dns_name_equal(r->apex, apex))
			break;
	if (r == NULL) {
		r = xcalloc(1, sizeof(*r));
		r->s = s;
		memcpy(r->apex, apex, dns_name_len(apex));
		ev_timer_init(&r->t, dns_sec_relay_cb, r);
		r->next = s->sec->relays;
		s->sec->relays = r;
	}
	if (ev_timer_active(&r->t))
		return; /* a delayed touch is coming: this one rides on it */
	if (r->last_ms == 0 || now - r->last_ms >= DNS_SEC_RELAY_MS) {
		dns_sec_touch(r);
		return;
	}
	ev_timer_start(s->loop, &r->t, r->last_ms + DNS_SEC_RELAY_MS - now);
}

void
dns_sec_notify_relayed(struct dns_srv *s, const uint8_t *apex)
{
	(void)s;
	dns_sec_refresh_now(s, apex);
}

/* Whether cl is the address (any port) of one of zi's primaries. */
static bool
dns_sec_from_primary(
    const struct dns_zone_item *zi, const struct dns_client *cl)
{
	for (size_t i = 0; i < zi->nprimaries; i++) {
		struct dns_client p;

		dns_srv_client(&zi->primary_addr[i], &p);
		if (p.family == cl->family &&
		    memcmp(p.addr, cl->addr, p.family == AF_INET ? 4 : 16) == 0)
			return true;
	}
	return false;
}

/* The answer with rcode, signed through ctx when it is not NULL. */
static size_t
dns_sec_reply(const uint8_t *msg, size_t qend, int rcode,
    struct dns_tsig_ctx *ctx, uint8_t *out, size_t size)
{
	size_t n = dns_sec_notify_answer(msg, qend, rcode, out, size);

	if (n > 0 && ctx != NULL &&
	    dns_tsig_sign(ctx, out, &n, size, (uint64_t)time(NULL)) != 0)
		n = dns_sec_notify_answer(msg, qend, rcode, out, size);
	return n;
}

size_t
dns_sec_notify_in(struct dns_srv *s, const uint8_t *msg, size_t len,
    const struct dns_client *from, uint8_t *out, size_t size)
{
	const struct dns_conf *c = s->conf;
	const struct dns_zone_item *zi = NULL;
	uint8_t apex[DNS_NAME_MAX];
	struct dns_tsig_ctx ctx;
	char zone[DNS_NAME_TEXT_MAX];
	size_t qend, n;
	int rc;

	if (c == NULL || dns_sec_notify_parse(msg, len, apex, &qend) != 0)
		return 0;
	for (size_t i = 0; i < c->nzones; i++)
		if (dns_zone_item_secondary(&c->zones[i]) &&
		    dns_name_equal(c->zones[i].apex, apex)) {
			zi = &c->zones[i];
			break;
		}
	dns_name_to_text(apex, zone, sizeof(zone));
	if (zi == NULL) {
		s->sec->nres[DNS_SEC_N_NOTAUTH]++;
		return dns_xfr_tsig_answer(s, msg, len, out, size,
		    dns_sec_reply(
		        msg, qend, DNS_RCODE_NOTAUTH, NULL, out, size));
	}
	if (!dns_sec_from_primary(zi, from)) {
		s->sec->nres[DNS_SEC_N_REFUSED]++;
		log_warn("dns notify refused: not a primary", "zone=%s", zone);
		return dns_sec_reply(
		    msg, qend, DNS_RCODE_REFUSED, NULL, out, size);
	}
	if (zi->xfr.key != NULL) {
		rc = dns_tsig_verify(
		    zi->xfr.key, 1, msg, len, (uint64_t)time(NULL), &ctx);
		if (rc != DNS_TSIG_NOERROR) {
			s->sec->nres[DNS_SEC_N_NOTAUTH]++;
			log_warn("dns notify refused: TSIG", "zone=%s rc=%d",
			    zone, rc);
			return dns_sec_reply(msg, qend, DNS_RCODE_NOTAUTH,
			    rc > 0 ? &ctx : NULL, out, size);
		}
		n = dns_sec_reply(
		    msg, qend, DNS_RCODE_NOERROR, &ctx, out, size);
	} else {
		/* No key required: a signed NOTIFY is still checked against
		 * the keys we know, and answered signed, as any query. */
		n = dns_sec_reply(
		    msg, qend, DNS_RCODE_NOERROR, NULL, out, size);
		n = dns_xfr_tsig_answer(s, msg, len, out, size, n);
		if (n >= DNS_HDR_LEN && (out[3] & 0xf) == DNS_RCODE_NOTAUTH) {
			s->sec->nres[DNS_SEC_N_NOTAUTH]++;
			return n;
		}
	}
	if (n == 0)
		return 0;
	s->sec->nres[DNS_SEC_N_ACCEPTED]++;
	log_info("dns notify accepted", "zone=%s worker=%u", zone, s->worker);
	if (s->worker == 0)
		dns_sec_refresh_now(s, apex);
	else
		dns_sec_relay(s, apex);
	return n;
}

void
dns_sec_notify_stop(struct dns_srv *s)
{
	struct dns_sec_relay *r;

	while ((r = s->sec->relays) != NULL) {
		s->sec->relays = r->next;
		ev_timer_stop(r->s->loop, &r->t);
		free(r);
	}
}

void
dns_sec_notify_metrics(const struct dns_sec *sec, struct buf *out)
{
	struct buf l;

	buf_init(&l);
	mx_family(out, "haven_dns_notify_in_total", "counter",
	    "NOTIFYs received for secondary zones, by what was answered");
	for (int r = 0; r < DNS_SEC_N__COUNT; r++) {
		buf_reset(&l);
		mx_label(&l, "result", dns_sec_nres_name[r]);
		mx_u64(out, "haven_dns_notify_in_total", l.data, sec->nres[r]);
	}
	buf_fini(&l);
	mx_family(out, "haven_dns_notify_relayed_total", "counter",
	    "NOTIFYs a worker other than 0 handed to worker 0");
	mx_u64(out, "haven_dns_notify_relayed_total", NULL, sec->relayed);
	mx_family(out, "haven_dns_notify_relay_errors_total", "counter",
	    "trigger files that could not be written");
	mx_u64(out, "haven_dns_notify_relay_errors_total", NULL,
	    sec->relay_errors);
}
