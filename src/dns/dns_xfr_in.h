/*
 * dns_xfr_in.h - the secondary side's reader of an AXFR answer (RFC 5936
 * §2.2): the messages of one transfer are fed in order, each checked
 * (a response to our query's ID, opcode QUERY, RCODE NOERROR, the
 * question if present equal to ours, every answer record of class IN
 * and at or below the zone apex, and the TSIG chain when the query was
 * signed), and every record is handed to the caller, decompressed, until
 * the SOA that opened the transfer comes again. Pure: no I/O, clock or
 * globals; the caller passes the time.
 *
 * To an AXFR query, an answer in IXFR's incremental form (a second SOA
 * right after the first, RFC 1995 §4) is refused: a server sending one
 * is broken. The closing SOA is not handed over a second time, so the
 * records delivered are the zone exactly once each as sent.
 *
 * To an IXFR query (dns_xfr_in_query_ixfr, with the serial we hold) the
 * answer takes one of three forms (RFC 1995 §4), told apart as they
 * come: our serial or older alone in one message (up to date); the
 * opening SOA then a second SOA, which must carry our serial
 * (incremental: records are handed over as DNS_XFR_OP_DEL or
 * DNS_XFR_OP_ADD, the old SOA of each step as a deletion and the new one
 * as an addition, so applying them in order yields the new zone); or
 * anything else after the opening SOA (AXFR form, DNS_XFR_OP_ZONE as for
 * AXFR). The steps must chain: each starts at the serial the last ended
 * at, each ends ahead of its start (RFC 1982), and the last ends at the
 * opening serial.
 */
#ifndef HAVEN_DNS_XFR_IN_H
#define HAVEN_DNS_XFR_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_name.h"
#include "dns/dns_tsig.h"

/* What a record of the transfer is. */
enum dns_xfr_op {
	DNS_XFR_OP_ZONE = 0, /* a record of the zone (AXFR form) */
	DNS_XFR_OP_DEL,      /* incremental: delete it from our copy */
	DNS_XFR_OP_ADD,      /* incremental: add it */
};

/* One record of the transfer; pointers valid during the call only. */
struct dns_xfr_rr {
	enum dns_xfr_op op;
	const uint8_t *owner; /* wire, decompressed */
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata; /* decompressed where RFC 3597 §4 allows */
	uint16_t rdlen;
};

/* Return 0 to go on, a negative errno to stop the transfer with it. */
typedef int dns_xfr_rr_fn(const struct dns_xfr_rr *rr, void *arg);

/* Why a transfer failed, one counter each. */
enum dns_xfr_in_err {
	DNS_XFR_IN_OK = 0,
	DNS_XFR_IN_MALFORMED, /* not a DNS message we can read */
	DNS_XFR_IN_ID,        /* not an answer to our query */
	DNS_XFR_IN_RCODE,     /* the server refused (rcode kept) */
	DNS_XFR_IN_TSIG,      /* unsigned or failing the chain */
	DNS_XFR_IN_NOT_SOA,   /* the first record is not the zone's SOA */
	DNS_XFR_IN_OUTSIDE,   /* a record outside the zone, or not IN */
	DNS_XFR_IN_IXFR,      /* incremental answer to an AXFR, or one
	                         whose steps do not chain */
	DNS_XFR_IN_AFTER_END, /* records after the closing SOA */
	DNS_XFR_IN_CALLER,    /* the callback stopped it */
	DNS_XFR_IN__COUNT
};

const char *dns_xfr_in_err_name(enum dns_xfr_in_err e);

struct dns_xfr_in {
	uint8_t apex[DNS_NAME_MAX];
	uint16_t id;
	bool signed_q;
	struct dns_tsig_ctx tsig; /* key borrowed from the caller */
	uint32_t serial;          /* the opening SOA's */
	uint8_t soa[1024];        /* the opening SOA's RDATA, to match */
	uint16_t soa_len;
	uint32_t soa_ttl;
	unsigned long records; /* delivered; for IXFR, plus the opening SOA,
	                          held back until the form is known */
	unsigned msgs;
	bool done;
	/* IXFR (RFC 1995). */
	bool ixfr;          /* the query was IXFR */
	uint32_t ours;      /* the serial it sent */
	bool incremental;   /* the answer is in incremental form */
	bool uptodate;      /* the answer was our SOA (or older) alone */
	enum dns_xfr_op op; /* incremental: DEL or ADD, what comes next */
	uint32_t step_to;   /* incremental: the serial the last step ends at */
	unsigned steps;     /* incremental: steps begun */
	enum dns_xfr_in_err err;
	int rcode; /* with DNS_XFR_IN_RCODE */
};

/*
 * Write an AXFR query for apex with id into buf (size bytes), signed with
 * key when not NULL (the key must outlive x), and start x for its answer.
 * Returns the query's length or -EMSGSIZE.
 */
int dns_xfr_in_query(struct dns_xfr_in *x, const uint8_t *apex, uint16_t id,
    const struct dns_tsig_key *key, uint8_t *buf, size_t size, uint64_t now);

/*
 * The same for an IXFR query carrying, in its authority section, the
 * zone's SOA with serial ours (RFC 1995 §3). Only the serial matters to
 * a primary, so the SOA's names are the root and its timers zero.
 */
int dns_xfr_in_query_ixfr(struct dns_xfr_in *x, const uint8_t *apex,
    uint16_t id, uint32_t ours, const struct dns_tsig_key *key, uint8_t *buf,
    size_t size, uint64_t now);

/*
 * Feed the next message of the answer. Returns 1 when the transfer is
 * complete (the closing SOA seen), 0 when more messages are needed, or
 * -EPROTO with x->err saying why (and -errno from fn as it is, with
 * DNS_XFR_IN_CALLER). After a return other than 0, feed nothing more.
 */
int dns_xfr_in_feed(struct dns_xfr_in *x, const uint8_t *msg, size_t len,
    uint64_t now, dns_xfr_rr_fn *fn, void *arg);

#endif
