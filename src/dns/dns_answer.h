/*
 * dns_answer.h - the authoritative answer engine: one query message in,
 * one response message out, from a finished dns_db and an optional
 * dns_dyn provider. Pure: no I/O, clock or globals; the transport (UDP or
 * TCP) and its rate limiting are the caller's.
 *
 * It implements RFC 1034 §4.3.2's algorithm for the zones of the db:
 * REFUSED outside them, AA inside; delegations as referrals with the NS
 * RRset in authority and the glue that is needed in additional; CNAME
 * chains followed inside the served zones (bounded); wildcards (RFC
 * 4592); NXDOMAIN and NODATA with the SOA in authority, its TTL the lesser
 * of its own and its MINIMUM (RFC 2308 §3); minimal ANY (RFC 8482 §4.2:
 * one RRset, or HINFO "RFC8482" when the name has none); AXFR and IXFR are
 * refused here (zone transfers go to the transfer code on TCP). EDNS
 * (RFC 6891): the answer's OPT advertises opts->udp_max, echoes DO, NSID
 * when asked and configured, and ECS (RFC 7871) with the scope the
 * provider gave (0 for static data); a UDP answer is limited to the
 * smaller of the client's size (512 without EDNS) and opts->udp_max, and
 * truncated with TC per dns_wire.h. DNSSEC (dns_answer_sec.c): with DO
 * set and opts->sign, the zones it has keys for are signed online, each
 * RRset beside its RRSIG, denials compact (RFC 9824, dns_nsec.h); the
 * signer's caches are the one state a query may change.
 */
#ifndef HAVEN_DNS_ANSWER_H
#define HAVEN_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_cookie.h"
#include "dns/dns_db.h"
#include "dns/dns_dyn.h"
#include "dns/dns_sign.h"
#include "dns/dns_wire.h"

#define DNS_EDNS_UDP_DEFAULT 1232 /* DNS Flag Day 2020 */
#define DNS_CNAME_CHAIN_MAX  8    /* CNAMEs followed in one answer */

struct dns_answer_opts {
	uint16_t udp_max;    /* our EDNS payload size; 512..65535 */
	bool tcp;            /* no size limit but DNS_MSG_MAX */
	const uint8_t *nsid; /* borrowed: NULL, or our server id */
	uint16_t nsid_len;   /* at most DNS_NSID_MAX */
	/* borrowed: DNS_COOKIE_SECRET_LEN bytes; NULL: COOKIE ignored */
	const uint8_t *cookie_secret;
	uint32_t now; /* unix seconds, for server cookies */
	/* TCP: the idle timeout edns-tcp-keepalive announces (RFC 7828),
	   in 100 ms units */
	uint16_t tcp_idle_100ms;
	/* borrowed: the signer of db (dns_sign.h), or NULL: answers to
	   queries with DO set carry RRSIGs and NSEC denials for the zones
	   it has a key for. Mutable: its caches fill as queries come. */
	struct dns_sign *sign;
};

/* What kind of answer went out: the RRL's response classes (the
 * responses a rate limiter tells apart) and the metrics' labels. */
enum dns_answer_kind {
	DNS_ANS_POSITIVE = 0, /* data in answer (incl. CNAME chains) */
	DNS_ANS_NODATA,
	DNS_ANS_NXDOMAIN,
	DNS_ANS_REFERRAL,
	DNS_ANS_REFUSED, /* not our zone, or AXFR/IXFR over this path */
	DNS_ANS_ERROR,   /* FORMERR, NOTIMP, BADVERS, SERVFAIL */
	DNS_ANS_DROP,    /* nothing sent (dns_wire_err_rcode DROP) */
	DNS_ANS__COUNT
};

struct dns_answer_info {
	enum dns_answer_kind kind;
	uint16_t ede;          /* RFC 8914 INFO-CODE sent with an OPT, or 0 */
	int rcode;             /* extended RCODE sent, or DNS_RCODE_DROP */
	enum dns_wire_err err; /* why the query was refused, or _OK */
	uint16_t qtype;        /* 0 when no question parsed */
	bool truncated;        /* TC set */
	bool dynamic;          /* the dns_dyn provider answered */
	bool edns;             /* the query had an OPT */
	enum dns_cookie_verdict cookie; /* its COOKIE, when one was read */
	/* The RRL's key name, as NSD and Knot impute it: the zone apex for
	 * NXDOMAIN and referrals, else the query name; folded to lower
	 * case; the root when no question parsed. */
	uint8_t rrl_name[DNS_NAME_MAX];
};

/*
 * Answer the len-byte query msg from client src (its address, bits 32 or
 * 128, ecs false: the engine replaces it with the query's ECS when one
 * came). Writes the response into out (size bytes, at least 512; 65535
 * for TCP) and returns its length, or 0 when nothing may be sent; *info
 * says what was done. dyn may be NULL when the db has no dynamic names.
 */
size_t dns_answer(const struct dns_db *db, const struct dns_dyn *dyn,
    const struct dns_answer_opts *opts, const struct dns_client *src,
    const uint8_t *msg, size_t len, uint8_t *out, size_t size,
    struct dns_answer_info *info);

#endif
