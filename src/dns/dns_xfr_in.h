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
 * An IXFR answer in incremental form (a second SOA right after the
 * first, RFC 1995 §4) is refused: we only ever ask for AXFR, so a server
 * sending one is broken. The closing SOA is not handed over a second
 * time, so the records delivered are the zone exactly once each as sent.
 */
#ifndef HAVEN_DNS_XFR_IN_H
#define HAVEN_DNS_XFR_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_name.h"
#include "dns/dns_tsig.h"

/* One record of the transfer; pointers valid during the call only. */
struct dns_xfr_rr {
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
	DNS_XFR_IN_IXFR,      /* incremental answer to an AXFR */
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
	unsigned long records; /* delivered */
	unsigned msgs;
	bool done;
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
 * Feed the next message of the answer. Returns 1 when the transfer is
 * complete (the closing SOA seen), 0 when more messages are needed, or
 * -EPROTO with x->err saying why (and -errno from fn as it is, with
 * DNS_XFR_IN_CALLER). After a return other than 0, feed nothing more.
 */
int dns_xfr_in_feed(struct dns_xfr_in *x, const uint8_t *msg, size_t len,
    uint64_t now, dns_xfr_rr_fn *fn, void *arg);

#endif
