/*
 * dns_api.c - what a dns worker shows: GET /v1/dns (zones with their
 * serial and record counts, listen addresses, workers, counters), the
 * Prometheus families of its server, `haven status` lines, and the query
 * counters every transport feeds (dns_srv_count).
 *
 * Metric label sets are fixed and small: qtype is one of a dozen common
 * types or "other", rcode one of the RCODEs an authoritative server sends
 * or "other", so a client sending random qtypes cannot grow /metrics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_sec.h" /* dns-sec */
#include "dns/dns_srv.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "lib/metrics.h"
#include "lib/util.h"

static const char *const dns_api_qtypes[DNS_SRV__NQTYPE] = { "A", "AAAA",
	"CNAME", "MX", "NS", "SOA", "TXT", "SRV", "PTR", "CAA", "ANY", "XFR",
	"other" };
static const char *const dns_api_rcodes[DNS_SRV__NRCODE] = { "NOERROR",
	"FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS",
	"other" };
static const char *const dns_api_kinds[DNS_ANS__COUNT] = { "positive", "nodata",
	"nxdomain", "referral", "refused", "error", "drop" };

const char *
dns_srv_qtype_name(enum dns_srv_qtype q)
{
	return q < DNS_SRV__NQTYPE ? dns_api_qtypes[q] : "other";
}

const char *
dns_srv_rcode_name(enum dns_srv_rcode r)
{
	return r < DNS_SRV__NRCODE ? dns_api_rcodes[r] : "other";
}

static enum dns_srv_qtype
dns_api_qtype(uint16_t t)
{
	switch (t) {
	case DNS_TYPE_A:
		return DNS_SRV_QT_A;
	case DNS_TYPE_AAAA:
		return DNS_SRV_QT_AAAA;
	case DNS_TYPE_CNAME:
		return DNS_SRV_QT_CNAME;
	case DNS_TYPE_MX:
		return DNS_SRV_QT_MX;
	case DNS_TYPE_NS:
		return DNS_SRV_QT_NS;
	case DNS_TYPE_SOA:
		return DNS_SRV_QT_SOA;
	case DNS_TYPE_TXT:
		return DNS_SRV_QT_TXT;
	case DNS_TYPE_SRV:
		return DNS_SRV_QT_SRV;
	case DNS_TYPE_PTR:
		return DNS_SRV_QT_PTR;
	case DNS_TYPE_CAA:
		return DNS_SRV_QT_CAA;
	case DNS_TYPE_ANY:
		return DNS_SRV_QT_ANY;
	case 251: /* IXFR */
	case 252: /* AXFR */
		return DNS_SRV_QT_XFR;
	default:
		return DNS_SRV_QT_OTHER;
	}
}

static enum dns_srv_rcode
dns_api_rcode(int rc)
{
	switch (rc) {
	case DNS_RCODE_NOERROR:
		return DNS_SRV_RC_NOERROR;
	case DNS_RCODE_FORMERR:
		return DNS_SRV_RC_FORMERR;
	case DNS_RCODE_SERVFAIL:
		return DNS_SRV_RC_SERVFAIL;
	case DNS_RCODE_NXDOMAIN:
		return DNS_SRV_RC_NXDOMAIN;
	case DNS_RCODE_NOTIMP:
		return DNS_SRV_RC_NOTIMP;
	case DNS_RCODE_REFUSED:
		return DNS_SRV_RC_REFUSED;
	case DNS_RCODE_BADVERS:
		return DNS_SRV_RC_BADVERS;
	default:
		return DNS_SRV_RC_OTHER;
	}
}

void
dns_srv_count(struct dns_srv *s, enum dns_srv_transport t,
    const struct dns_answer_info *info)
{
	if (info->err != DNS_WIRE_OK && info->err < DNS_WIRE_ERR__COUNT &&
	    info->err != DNS_WIRE_BADVERS)
		s->st.malformed[info->err]++;
	if (info->kind < DNS_ANS__COUNT)
		s->st.kinds[info->kind]++;
	if (info->cookie < DNS_COOKIE__COUNT)
		s->st.cookies[info->cookie]++;
	/* Nothing sent: a malformed packet, counted above only. */
	if (info->rcode == DNS_RCODE_DROP)
		return;
	s->st.queries[t][dns_api_qtype(info->qtype)]
	             [dns_api_rcode(info->rcode)]++;
	if (info->rcode == DNS_RCODE_REFUSED)
		s->st.refused++;
	if (info->dynamic)
		s->st.dynamic++;
	if (t == DNS_SRV_TCP && info->truncated)
		s->st.truncated++;
}

/* ---- GET /v1/dns ---- */

static void
dns_api_zones_json(struct dns_srv *s, struct jw *w)
{
	const struct dns_conf *c = s->conf;

	jw_key(w, "zones");
	jw_arr_begin(w);
	for (size_t i = 0; c != NULL && i < c->nzones; i++) {
		char text[DNS_NAME_TEXT_MAX];

		jw_obj_begin(w);
		(void)dns_name_to_text(c->zones[i].apex, text, sizeof(text));
		jw_kstr(w, "name", text);
		if (c->zones[i].path != NULL)
			jw_kstr(w, "file", c->zones[i].path);
		if (c->zones[i].catalog != NULL) /* dns_catalog.h */
			jw_kbool(w, "catalog", true);
		if (s->zones != NULL && i < dns_db_nzones(s->zones->db)) {
			jw_kuint(w, "serial",
			    dns_db_zone_serial(s->zones->db, (unsigned)i));
			jw_kuint(w, "records",
			    s->zones->records != NULL ? s->zones->records[i] :
			                                0);
			dns_sec_zone_json(s, i, w); /* dns-sec */
		}
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void
dns_api_counters_json(struct dns_srv *s, struct jw *w)
{
	const struct dns_srv_stats *st = &s->st;
	uint64_t q[DNS_SRV__NTRANSPORT] = { 0 }, mal = 0;

	for (int t = 0; t < DNS_SRV__NTRANSPORT; t++)
		for (int i = 0; i < DNS_SRV__NQTYPE; i++)
			for (int r = 0; r < DNS_SRV__NRCODE; r++)
				q[t] += st->queries[t][i][r];
	for (int e = 0; e < DNS_WIRE_ERR__COUNT; e++)
		mal += st->malformed[e];
	jw_key(w, "counters");
	jw_obj_begin(w);
	jw_kuint(w, "queries_udp", q[DNS_SRV_UDP]);
	jw_kuint(w, "queries_tcp", q[DNS_SRV_TCP]);
	jw_kuint(w, "queries_xdp", q[DNS_SRV_XDP]);
	jw_kuint(w, "malformed", mal);
	jw_kuint(w, "refused", st->refused);
	jw_kuint(w, "truncated", st->truncated);
	jw_kuint(w, "dynamic", st->dynamic);
	jw_kuint(w, "rrl_drop", st->rrl_drop);
	jw_kuint(w, "rrl_slip", st->rrl_slip);
	jw_kuint(w, "rrl_cookie_pass", st->rrl_cookie_pass);
	for (int v = DNS_COOKIE_NEW; v < DNS_COOKIE__COUNT; v++) {
		char k[32];

		snprintf(k, sizeof(k), "cookie_%s", dns_cookie_name(v));
		jw_kuint(w, k, st->cookies[v]);
	}
	jw_kuint(w, "tcp_connections", s->nconns);
	jw_kuint(w, "tcp_accepted", st->tcp_accepted);
	jw_kuint(w, "tls_accepted", st->tls_accepted);
	jw_kuint(w, "tcp_refused", st->tcp_refused_max);
	jw_kuint(w, "tcp_closed_idle", st->tcp_closed_idle);
	jw_obj_end(w);
}

static void
dns_api_get(struct dns_srv *s, struct buf *out)
{
	const struct dns_conf *c = s->conf;
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kuint(&w, "worker", s->worker);
	jw_kuint(&w, "workers", c != NULL ? c->workers : 0);
	jw_key(&w, "listen");
	jw_arr_begin(&w);
	for (size_t i = 0; c != NULL && i < c->nlisten; i++)
		jw_str(&w, c->listen[i]);
	jw_arr_end(&w);
	if (c != NULL && c->nsid != NULL)
		jw_kstr(&w, "nsid", c->nsid);
	jw_kuint(&w, "edns_udp_size", c != NULL ? c->edns_udp_size : 0);
	jw_kbool(&w, "rrl", c != NULL && c->rrl.responses_per_second > 0);
	dns_api_zones_json(s, &w);
	dns_api_counters_json(s, &w);
	dns_xdp_json(s, &w);
	if (s->rt != NULL)
		dns_gslb_rt_json(s->rt, &w);
	jw_obj_end(&w);
	(void)jw_finish(&w);
}

int
dns_api_query(struct dns_srv *s, const char *method, const char *path,
    const char *body, size_t body_len, struct buf *out)
{
	int rc;

	if (s->rt != NULL &&
	    (rc = dns_gslb_rt_query(
	         s->rt, method, path, body, body_len, out)) != -ENOENT)
		return rc;
	if (strcmp(path, "/v1/dns") == 0 || strcmp(path, "/v1/dns/") == 0) {
		if (strcmp(method, "GET") != 0) {
			buf_puts(out, "{\"error\":\"method not allowed\"}");
			return 405;
		}
		dns_api_get(s, out);
		return 200;
	}
	buf_puts(out, "{\"error\":\"not found\"}");
	return 404;
}

/* ---- /metrics ---- */

static void
dns_api_metrics_queries(struct dns_srv *s, struct buf *out)
{
	static const char *const tr[DNS_SRV__NTRANSPORT] = { "udp", "tcp",
		"xdp" };
	struct buf l;

	buf_init(&l);
	mx_family(out, "haven_dns_queries_total", "counter",
	    "DNS queries answered, by transport, query type and RCODE");
	for (int t = 0; t < DNS_SRV__NTRANSPORT; t++)
		for (int q = 0; q < DNS_SRV__NQTYPE; q++)
			for (int r = 0; r < DNS_SRV__NRCODE; r++) {
				uint64_t v = s->st.queries[t][q][r];

				if (v == 0)
					continue;
				buf_reset(&l);
				mx_label(&l, "transport", tr[t]);
				mx_label(&l, "qtype", dns_api_qtypes[q]);
				mx_label(&l, "rcode", dns_api_rcodes[r]);
				mx_u64(
				    out, "haven_dns_queries_total", l.data, v);
			}
	mx_family(out, "haven_dns_malformed_total", "counter",
	    "DNS messages refused as malformed, by reason");
	for (int e = 1; e < DNS_WIRE_ERR__COUNT; e++) {
		if (e == DNS_WIRE_BADVERS)
			continue;
		buf_reset(&l);
		mx_label(&l, "reason", dns_wire_err_name(e));
		mx_u64(out, "haven_dns_malformed_total", l.data,
		    s->st.malformed[e]);
	}
	mx_family(
	    out, "haven_dns_answers_total", "counter", "DNS answers by kind");
	for (int k = 0; k < DNS_ANS__COUNT; k++) {
		buf_reset(&l);
		mx_label(&l, "kind", dns_api_kinds[k]);
		mx_u64(out, "haven_dns_answers_total", l.data, s->st.kinds[k]);
	}
	buf_fini(&l);
}

/* The signer's counters; they start again with each load of the zones
 * (the signer and its caches belong to the tables). */
static void
dns_api_metrics_dnssec(struct dns_srv *s, struct buf *out)
{
	struct dns_sign_stats ss;

	if (s->zones == NULL || s->zones->sign == NULL)
		return;
	dns_sign_stats(s->zones->sign, &ss);
	mx_family(out, "haven_dns_dnssec_rrsigs_total", "counter",
	    "RRSIGs made for DO answers (signed: zone data, or per-query data "
	    "such as GSLB answers and NSEC), or taken from a cache");
	mx_u64(out, "haven_dns_dnssec_rrsigs_total", "source=\"signed_static\"",
	    ss.signed_static);
	mx_u64(out, "haven_dns_dnssec_rrsigs_total",
	    "source=\"signed_dynamic\"", ss.signed_dyn);
	mx_u64(
	    out, "haven_dns_dnssec_rrsigs_total", "source=\"cache\"", ss.hits);
	mx_family(out, "haven_dns_dnssec_sign_failures_total", "counter",
	    "RRsets sent unsigned because signing failed");
	mx_u64(out, "haven_dns_dnssec_sign_failures_total", NULL, ss.failures);
}

void
dns_api_metrics(struct dns_srv *s, struct buf *out)
{
	const struct dns_srv_stats *st = &s->st;

	dns_api_metrics_queries(s, out);
	dns_xdp_metrics(s, out);
	if (s->rt != NULL)
		dns_gslb_rt_metrics(s->rt, out);
	mx_family(out, "haven_dns_rrl_total", "counter",
	    "UDP responses rate limited: dropped, or sent truncated (slip)");
	mx_u64(out, "haven_dns_rrl_total", "action=\"drop\"", st->rrl_drop);
	mx_u64(out, "haven_dns_rrl_total", "action=\"slip\"", st->rrl_slip);
	mx_u64(out, "haven_dns_rrl_total", "action=\"cookie_pass\"",
	    st->rrl_cookie_pass);
	mx_family(out, "haven_dns_cookies_total", "counter",
	    "DNS queries by their COOKIE option (RFC 7873): none, new "
	    "(client cookie only), valid (our server cookie), bad");
	for (int v = 0; v < DNS_COOKIE__COUNT; v++) {
		char l[32];

		snprintf(l, sizeof(l), "result=\"%s\"", dns_cookie_name(v));
		mx_u64(out, "haven_dns_cookies_total", l, st->cookies[v]);
	}
	mx_family(out, "haven_dns_refused_total", "counter",
	    "DNS queries answered REFUSED (not our zone, transfers)");
	mx_u64(out, "haven_dns_refused_total", NULL, st->refused);
	mx_family(out, "haven_dns_truncated_total", "counter",
	    "DNS answers sent with TC over UDP");
	mx_u64(out, "haven_dns_truncated_total", NULL, st->truncated);
	mx_family(out, "haven_dns_dynamic_total", "counter",
	    "DNS answers computed by the GSLB");
	mx_u64(out, "haven_dns_dynamic_total", NULL, st->dynamic);
	dns_api_metrics_dnssec(s, out);
	mx_family(out, "haven_dns_udp_errors_total", "counter",
	    "UDP receive and send errors");
	mx_u64(
	    out, "haven_dns_udp_errors_total", "dir=\"rx\"", st->udp_rx_errors);
	mx_u64(
	    out, "haven_dns_udp_errors_total", "dir=\"tx\"", st->udp_tx_errors);
	mx_family(out, "haven_dns_udp_oversize_total", "counter",
	    "UDP datagrams too long for a query (over 4096 bytes), dropped");
	mx_u64(out, "haven_dns_udp_oversize_total", NULL, st->udp_oversize);
	mx_family(out, "haven_dns_tcp_connections", "gauge",
	    "open DNS TCP connections");
	mx_u64(out, "haven_dns_tcp_connections", NULL, s->nconns);
	mx_family(out, "haven_dns_tcp_accepted_total", "counter",
	    "DNS TCP connections accepted");
	mx_u64(out, "haven_dns_tcp_accepted_total", NULL, st->tcp_accepted);
	mx_family(out, "haven_dns_tls_accepted_total", "counter",
	    "of those, connections on dns.tls.listen (XoT, DoT)");
	mx_u64(out, "haven_dns_tls_accepted_total", NULL, st->tls_accepted);
	mx_family(out, "haven_dns_tcp_refused_total", "counter",
	    "DNS TCP connections closed at once: every slot busy");
	mx_u64(out, "haven_dns_tcp_refused_total", NULL, st->tcp_refused_max);
	mx_family(out, "haven_dns_tcp_closed_total", "counter",
	    "DNS TCP connections closed by the server, by reason");
	mx_u64(out, "haven_dns_tcp_closed_total", "reason=\"idle\"",
	    st->tcp_closed_idle);
	mx_u64(out, "haven_dns_tcp_closed_total", "reason=\"oldest\"",
	    st->tcp_closed_oldest);
	mx_u64(out, "haven_dns_tcp_closed_total", "reason=\"max_queries\"",
	    st->tcp_closed_max_queries);
	mx_u64(out, "haven_dns_tcp_closed_total", "reason=\"bad_length\"",
	    st->tcp_bad_length);
	mx_u64(out, "haven_dns_tcp_closed_total", "reason=\"error\"",
	    st->tcp_io_errors);
	mx_family(out, "haven_dns_tcp_read_paused_total", "counter",
	    "times a DNS TCP connection stopped reading for a slow reader");
	mx_u64(
	    out, "haven_dns_tcp_read_paused_total", NULL, st->tcp_read_paused);
	mx_family(out, "haven_dns_zone_serial", "gauge",
	    "SOA serial of each zone served");
	for (size_t i = 0; s->zones != NULL && s->conf != NULL &&
	     i < s->conf->nzones && i < dns_db_nzones(s->zones->db);
	     i++) {
		char text[DNS_NAME_TEXT_MAX];
		struct buf l;

		buf_init(&l);
		(void)dns_name_to_text(
		    s->conf->zones[i].apex, text, sizeof(text));
		mx_label(&l, "zone", text);
		mx_u64(out, "haven_dns_zone_serial", l.data,
		    dns_db_zone_serial(s->zones->db, (unsigned)i));
		buf_fini(&l);
	}
}

/* ---- haven status ---- */

static const char *
dns_api_str(struct conf_node *n, const char *path, char *buf, size_t size)
{
	struct conf_node *v = conf_node_at(n, path);
	char *t = v != NULL ? conf_node_text(v) : NULL;

	snprintf(buf, size, "%s", t != NULL ? t : "-");
	free(t);
	return buf;
}

void
dns_api_status_print(struct conf_node *root)
{
	struct conf_node *zones = conf_node_at(root, "/zones"), *z;
	char a[128], b[32], c[32], d[32], e[32];

	printf("\nDNS workers %s, queries udp %s tcp %s, malformed %s, rrl "
	       "drop %s\n",
	    dns_api_str(root, "/workers", a, sizeof(a)),
	    dns_api_str(root, "/counters/queries_udp", b, sizeof(b)),
	    dns_api_str(root, "/counters/queries_tcp", c, sizeof(c)),
	    dns_api_str(root, "/counters/malformed", d, sizeof(d)),
	    dns_api_str(root, "/counters/rrl_drop", e, sizeof(e)));
	if (conf_node_count(zones) > 0)
		printf("%-32s %12s %10s\n", "ZONE", "SERIAL", "RECORDS");
	for (size_t i = 0; (z = conf_node_item(zones, i)) != NULL; i++)
		printf("%-32s %12s %10s\n",
		    dns_api_str(z, "/name", a, sizeof(a)),
		    dns_api_str(z, "/serial", b, sizeof(b)),
		    dns_api_str(z, "/records", c, sizeof(c)));
	if (conf_node_at(root, "/xdp/interface") != NULL)
		printf("XDP on %s queue %s (generic): queries %s, dropped "
		       "malformed %s, no room %s\n",
		    dns_api_str(root, "/xdp/interface", a, sizeof(a)),
		    dns_api_str(root, "/xdp/queue", b, sizeof(b)),
		    dns_api_str(root, "/xdp/queries", c, sizeof(c)),
		    dns_api_str(root, "/xdp/dropped_malformed", d, sizeof(d)),
		    dns_api_str(root, "/xdp/dropped_no_room", e, sizeof(e)));
	dns_gslb_rt_status_print(root);
}
