/*
 * dns_xfr.c - the transfer responder of a dns worker: builds the env
 * dns_xfr_out judges by from the current config, starts the stream for
 * dns_tcp.c, logs each transfer once at its end and counts the results.
 *
 * The stream owns its dns_xfr_out (a snapshot of the zone), so it holds
 * no reference to the zones: a reload in the middle cannot disturb it.
 */
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/dns_ixfr.h"
#include "dns/dns_xfr.h"
#include "dns/dns_xfr_out.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"

struct dns_xfr_stream {
	struct dns_xfr_out *x;    /* owned */
	struct dns_xfr_stats *st; /* borrowed: the server's */
	char zone[DNS_NAME_TEXT_MAX];
	char client[64];
	enum dns_xfr_result res;
	uint64_t started_ms;
	bool ended;
};

static void
dns_xfr_client_sa(const struct dns_client *cl, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (cl->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, cl->addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, cl->addr, 16);
	}
}

static int
dns_xfr_stream_next(void *st, uint8_t *out, size_t size, size_t *len)
{
	struct dns_xfr_stream *xs = st;
	int n = dns_xfr_out_next(xs->x, out, size, (uint64_t)time(NULL));

	if (n < 0) {
		xs->st->aborted++;
		log_warn("dns transfer aborted", "zone=%s client=%s err=%d",
		    xs->zone, xs->client, -n);
		return n;
	}
	if (n == 0) {
		xs->ended = true;
		return 0;
	}
	xs->st->messages++;
	*len = (size_t)n;
	return 1;
}

static void
dns_xfr_stream_free(void *st)
{
	struct dns_xfr_stream *xs = st;
	unsigned long recs;
	unsigned msgs;

	dns_xfr_out_counts(xs->x, &msgs, &recs);
	xs->st->records += recs;
	log_info("dns transfer",
	    "zone=%s client=%s result=%s msgs=%u "
	    "records=%lu complete=%s ms=%llu",
	    xs->zone, xs->client, dns_xfr_result_name(xs->res), msgs, recs,
	    xs->ended ? "yes" : "no",
	    (unsigned long long)(util_mono_ms() - xs->started_ms));
	dns_xfr_out_free(xs->x);
	free(xs);
}

int
dns_xfr_tcp(const struct dns_conf *c, struct dns_srv_zones *z,
    struct dns_xfr_stats *st, const uint8_t *msg, size_t len,
    const struct dns_client *cl, bool tls, struct dns_tcp_stream *s)
{
	struct dns_xfr_zone *zones;
	struct dns_tsig_key *keys;
	struct dns_xfr_env env;
	struct sockaddr_storage ss;
	struct dns_xfr_stream *xs;
	struct dns_query q;
	size_t i;

	if (c == NULL || z == NULL)
		return -ENOENT;
	zones = xcalloc(c->nzones + 1, sizeof(*zones));
	keys = xcalloc(c->ntsig_keys + 1, sizeof(*keys));
	for (i = 0; i < c->nzones; i++) {
		const struct dns_xfr_zone_conf *x = &c->zones[i].xfr;

		zones[i].apex = c->zones[i].apex;
		zones[i].allow = x->allow;
		zones[i].nallow = x->allow != NULL ? x->nallow_transfer : 0;
		zones[i].key = x->key;
		zones[i].journal = dns_ixfr_journal(z->ixfr, c->zones[i].apex);
		zones[i].tls_only = x->transfer_tls_only;
	}
	for (i = 0; i < c->ntsig_keys; i++)
		keys[i] = c->tsig_keys[i].key;
	/* zones[].key points into the config's list; the env's keys are a
	 * copy, and the two are matched by name. */
	env = (struct dns_xfr_env){ z->db, zones, c->nzones, keys,
		c->ntsig_keys, tls };
	dns_xfr_client_sa(cl, &ss);
	xs = xcalloc(1, sizeof(*xs));
	xs->st = st;
	xs->started_ms = util_mono_ms();
	xs->x = dns_xfr_out_start(&env, msg, len, (struct sockaddr *)&ss,
	    (uint64_t)time(NULL), &xs->res);
	explicit_bzero(keys, (c->ntsig_keys + 1) * sizeof(*keys));
	free(keys);
	free(zones);
	st->results[xs->res]++;
	if (dns_wire_parse_query(msg, len, &q) == DNS_WIRE_OK)
		dns_name_to_text(q.qname, xs->zone, sizeof(xs->zone));
	else
		strcpy(xs->zone, "?");
	conf_addr_str(&ss, xs->client, sizeof(xs->client));
	s->next = dns_xfr_stream_next;
	s->free = dns_xfr_stream_free;
	s->st = xs;
	return 0;
}

void
dns_xfr_metrics(const struct dns_srv *s, struct buf *out)
{
	static const struct dns_xfr_stats zero;
	const struct dns_xfr_stats *st = s != NULL ? &s->xfr_st : &zero;
	struct buf l;
	int r;

	buf_init(&l);
	mx_family(out, "haven_dns_xfr_requests_total", "counter",
	    "AXFR/IXFR requests over TCP, by what was decided");
	for (r = 0; r < DNS_XFR_RESULT__COUNT; r++) {
		buf_reset(&l);
		mx_label(&l, "result", dns_xfr_result_name(r));
		mx_u64(out, "haven_dns_xfr_requests_total", l.data,
		    st->results[r]);
	}
	buf_fini(&l);
	mx_family(out, "haven_dns_xfr_messages_total", "counter",
	    "transfer messages sent");
	mx_u64(out, "haven_dns_xfr_messages_total", NULL, st->messages);
	mx_family(out, "haven_dns_xfr_records_total", "counter",
	    "records sent in transfers");
	mx_u64(out, "haven_dns_xfr_records_total", NULL, st->records);
	mx_family(out, "haven_dns_xfr_aborted_total", "counter",
	    "transfers cut short: an RRset too large for a message");
	mx_u64(out, "haven_dns_xfr_aborted_total", NULL, st->aborted);
	mx_family(out, "haven_dns_tsig_answers_total", "counter",
	    "answers to signed queries (not transfers), by TSIG outcome");
	mx_u64(out, "haven_dns_tsig_answers_total", "result=\"signed\"",
	    st->tsig_signed);
	mx_u64(out, "haven_dns_tsig_answers_total", "result=\"notauth\"",
	    st->tsig_failed);
	dns_notify_metrics(s != NULL ? s->notify : NULL, out);
}

size_t
dns_xfr_tsig_answer(struct dns_srv *s, const uint8_t *q, size_t qlen,
    uint8_t *out, size_t size, size_t n)
{
	const struct dns_conf *c = s->conf;
	uint8_t name[DNS_NAME_MAX];
	struct dns_tsig_key *keys;
	struct dns_tsig_ctx ctx;
	struct dns_tsig_rr rr;
	size_t i, off = DNS_HDR_LEN, len;
	uint64_t now = (uint64_t)time(NULL);
	int rc;

	if (n < DNS_HDR_LEN || c == NULL || c->ntsig_keys == 0 ||
	    qlen < DNS_HDR_LEN || (q[10] | q[11]) == 0 ||
	    dns_tsig_find(q, qlen, &rr) != 0)
		return n;
	keys = xcalloc(c->ntsig_keys, sizeof(*keys));
	for (i = 0; i < c->ntsig_keys; i++)
		keys[i] = c->tsig_keys[i].key;
	rc = dns_tsig_verify(keys, c->ntsig_keys, q, qlen, now, &ctx);
	if (rc > 0) {
		/* NOTAUTH with the question only, then the TSIG saying why
		 * (RFC 8945 §5.2): the data must not go to a client that
		 * failed to prove it holds the key. */
		s->xfr_st.tsig_failed++;
		len = DNS_HDR_LEN;
		if (out[4] == 0 && out[5] == 1 &&
		    dns_wire_name_read(out, n, &off, name) == DNS_WIRE_OK &&
		    n - off >= 4)
			len = off + 4;
		else
			out[5] = 0;
		out[4] = 0;
		out[3] = (uint8_t)((out[3] & 0xf0) | DNS_RCODE_NOTAUTH);
		memset(out + 6, 0, 6);
		n = len;
	}
	if (rc >= 0 && dns_tsig_sign(&ctx, out, &n, size, now) == 0 &&
	    rc == DNS_TSIG_NOERROR)
		s->xfr_st.tsig_signed++;
	explicit_bzero(keys, c->ntsig_keys * sizeof(*keys));
	free(keys);
	return n;
}
