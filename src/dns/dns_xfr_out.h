/*
 * dns_xfr_out.h - the primary side of zone transfers: AXFR (RFC 5936) and
 * IXFR (RFC 1995) answered over TCP, gated by an address list and/or a
 * TSIG key (RFC 8945), as a pull interface the TCP connection drives:
 * dns_xfr_out_start on the request, then dns_xfr_out_next for each
 * message until it returns 0. Pure: no I/O, clock or globals; the caller
 * passes the time.
 *
 * Invariants: start copies the zone's RRsets into a snapshot the stream
 * owns, so a reload that frees the db mid-transfer cannot touch it and a
 * secondary always gets one consistent version. The SOA comes first and
 * last (RFC 5936 §2.2); when the request was signed every message is
 * (RFC 8945 §5.3.1). A refusal is a stream of one message.
 *
 * IXFR: a client whose serial is not older than ours gets our SOA alone
 * (RFC 1995 §2); one whose serial starts a step of the zone's journal
 * (dns_journal.h), which must end at our serial, gets the steps from
 * there in the incremental form of RFC 1995 §4: our SOA, then per step
 * the old SOA, the records deleted, the new SOA, the records added, and
 * our SOA again; any other gets the whole zone in AXFR form, which RFC
 * 1995 §4 allows.
 */
#ifndef HAVEN_DNS_XFR_OUT_H
#define HAVEN_DNS_XFR_OUT_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_db.h"
#include "dns/dns_journal.h"
#include "dns/dns_tsig.h"

#define DNS_TYPE_IXFR 251
#define DNS_TYPE_AXFR 252

/* Bytes a transfer message aims at; one RRset larger gets its own,
 * up to DNS_MSG_MAX. */
#define DNS_XFR_MSG_TARGET 16384

/* An address prefix of allow_transfer. */
struct dns_xfr_prefix {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t len; /* prefix bits */
};

/* Parse "198.18.0.0/15", "::1" (a host)... 0 or -EINVAL (also for bits
 * set past the prefix). */
int dns_xfr_prefix_parse(struct dns_xfr_prefix *p, const char *text);

/* Whether sa (AF_INET / AF_INET6; v4-mapped v6 counts as v4) is in p. */
bool dns_xfr_prefix_match(
    const struct dns_xfr_prefix *p, const struct sockaddr *sa);

/* Who may transfer one zone. Neither a list nor a key: nobody. */
struct dns_xfr_zone {
	const uint8_t *apex;                /* borrowed: wire form */
	const struct dns_xfr_prefix *allow; /* borrowed: nallow entries */
	size_t nallow;
	const struct dns_tsig_key *key;    /* borrowed: required, or NULL */
	const struct dns_journal *journal; /* borrowed: or NULL */
	bool tls_only; /* refused unless the request came over TLS */
};

struct dns_xfr_env {
	const struct dns_db *db;          /* borrowed */
	const struct dns_xfr_zone *zones; /* borrowed: nzones entries */
	size_t nzones;
	const struct dns_tsig_key *keys; /* borrowed: every known key */
	size_t nkeys;
	bool tls; /* the request came over TLS (XoT) */
};

/* What start decided, one counter each. */
enum dns_xfr_result {
	DNS_XFR_AXFR = 0,         /* the zone follows */
	DNS_XFR_IXFR_FULL,        /* IXFR answered in AXFR form */
	DNS_XFR_IXFR_UPTODATE,    /* IXFR: our SOA alone */
	DNS_XFR_IXFR_INCREMENTAL, /* IXFR: the journal's steps */
	DNS_XFR_FORMERR,          /* not a transfer query, or bad TSIG form */
	DNS_XFR_NOTAUTH,          /* not a zone we serve (RFC 5936 §2.2.1) */
	DNS_XFR_REFUSED,          /* outside allow_transfer, unsigned where
	                             a key is required, or in clear where
	                             TLS is */
	DNS_XFR_BADTSIG,          /* NOTAUTH: BADKEY/BADSIG/BADTIME/BADTRUNC,
	                             or signed with a key not the zone's */
	DNS_XFR_RESULT__COUNT
};

const char *dns_xfr_result_name(enum dns_xfr_result r);

struct dns_xfr_out; /* opaque */

/*
 * Judge the len-byte request msg (an AXFR or IXFR query received over
 * TCP) from client at now (seconds since the epoch) and return the
 * stream that answers it; *res says what was decided. Never NULL.
 */
struct dns_xfr_out *dns_xfr_out_start(const struct dns_xfr_env *env,
    const uint8_t *msg, size_t len, const struct sockaddr *client, uint64_t now,
    enum dns_xfr_result *res);

/*
 * Write the next message into buf (size bytes, at least DNS_MSG_MAX) and
 * return its length, 0 when the stream is over, or -EMSGSIZE when one
 * RRset cannot fit a message (the caller then closes the connection).
 */
int dns_xfr_out_next(
    struct dns_xfr_out *x, uint8_t *buf, size_t size, uint64_t now);

/* Messages and records sent so far (for the log and metrics). */
void dns_xfr_out_counts(
    const struct dns_xfr_out *x, unsigned *msgs, unsigned long *records);

void dns_xfr_out_free(struct dns_xfr_out *x);

#endif
