/*
 * dns_wire.h - the DNS message codec of an authoritative server: a query
 * parser that says why it refuses a message, and a response writer that
 * compresses names and truncates at RRset boundaries. Pure: no I/O, clock,
 * globals or allocation; the caller owns every buffer.
 *
 * The parser reads what an authoritative server must judge (RFC 1035
 * §4.1, RFC 6891 EDNS(0), RFC 7871 ECS, RFC 5001 NSID, RFC 8945 TSIG
 * placement) and returns one enum dns_wire_err per rejection, so each
 * cause has its own counter; dns_wire_err_rcode() gives the RCODE the
 * answer carries, or DNS_RCODE_DROP when no answer may be sent (a
 * response, or fewer bytes than a header). Unknown EDNS options and flags
 * are ignored, never echoed (RFC 6891 §6.1.2). TSIG is noted, not
 * verified: that needs keys, which are the plane's.
 *
 * The writer echoes the question as received, so the answer keeps the
 * query's case (RFC 4343 §4.1), appends whole RRsets section by section
 * and, when a required RRset does not fit, sets TC and adds nothing more
 * (RFC 2181 §9); an optional one (glue, additional data) that does not fit
 * is skipped without TC. Room for the OPT record is reserved from the
 * start so truncation never drops it (RFC 6891 §7).
 */
#ifndef HAVEN_DNS_WIRE_H
#define HAVEN_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_name.h"

#define DNS_HDR_LEN 12 /* RFC 1035 §4.1.1 */
#define DNS_UDP_MIN                                                            \
	512                 /* RFC 1035 §2.3.4; also EDNS floor,              \
	                       RFC 6891 §6.2.5 */
#define DNS_MSG_MAX   65535 /* TCP length prefix, RFC 1035 §4.2.2 */
#define DNS_OPT_FIXED 11    /* root owner, type, class, TTL, RDLEN */
#define DNS_COMP_MAX  64    /* names remembered for compression */

/* Header flag bits in the 16-bit word after the ID, RFC 1035 §4.1.1. */
#define DNS_FLAG_QR       0x8000
#define DNS_FLAG_AA       0x0400
#define DNS_FLAG_TC       0x0200
#define DNS_FLAG_RD       0x0100
#define DNS_FLAG_RA       0x0080
#define DNS_FLAG_AD       0x0020 /* RFC 4035 §3.2.3 */
#define DNS_FLAG_CD       0x0010 /* RFC 4035 §3.2.2 */
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)

#define DNS_OPCODE_QUERY  0 /* RFC 1035 §4.1.1 */
#define DNS_OPCODE_NOTIFY 4 /* RFC 1996 */
#define DNS_OPCODE_UPDATE 5 /* RFC 2136 */

#define DNS_RCODE_NOERROR  0
#define DNS_RCODE_FORMERR  1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_NOTIMP   4
#define DNS_RCODE_REFUSED  5
#define DNS_RCODE_BADVERS  16   /* extended, OPT only: RFC 6891 §9 */
#define DNS_RCODE_DROP     (-1) /* ours: send nothing */

#define DNS_CLASS_IN  1
#define DNS_CLASS_CH  3
#define DNS_CLASS_HS  4
#define DNS_CLASS_ANY 255

#define DNS_TYPE_A      1
#define DNS_TYPE_NS     2
#define DNS_TYPE_CNAME  5
#define DNS_TYPE_SOA    6
#define DNS_TYPE_PTR    12
#define DNS_TYPE_MX     15
#define DNS_TYPE_TXT    16
#define DNS_TYPE_AAAA   28
#define DNS_TYPE_SRV    33
#define DNS_TYPE_DNAME  39
#define DNS_TYPE_OPT    41
#define DNS_TYPE_RRSIG  46
#define DNS_TYPE_NSEC   47
#define DNS_TYPE_NXNAME 128 /* RFC 9824 §2: compact denial's bitmap only */
#define DNS_TYPE_TSIG   250
#define DNS_TYPE_ANY    255
#define DNS_TYPE_CAA    257

#define DNS_EDNS_DO           0x8000 /* OPT TTL flags, RFC 3225 §3 */
#define DNS_EDNS_CO           0x4000 /* Compact Answers OK, RFC 9824 §4 */
#define DNS_OPTION_NSID       3      /* RFC 5001 §2.3 */
#define DNS_OPTION_COOKIE     10     /* RFC 7873 §4 */
#define DNS_COOKIE_CLIENT_LEN 8
#define DNS_COOKIE_SERVER_MIN 8 /* RFC 7873 §4: 8 to 32 bytes */
#define DNS_COOKIE_SERVER_MAX 32
#define DNS_COOKIE_MAX        (DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_MAX)
#define DNS_OPTION_ECS        8 /* RFC 7871 §6 */
#define DNS_ECS_FAMILY_IP4    1
#define DNS_ECS_FAMILY_IP6    2
#define DNS_NSID_MAX          128 /* ours: what a server id needs */

#define DNS_OPTION_KEEPALIVE      11 /* RFC 7828 §3.1 edns-tcp-keepalive */
#define DNS_OPTION_EDE            15 /* RFC 8914 §2 extended DNS error */
/* RFC 8914 §4 INFO-CODEs haven sends */
#define DNS_EDE_NOT_READY         14 /* a secondary zone, no copy yet */
#define DNS_EDE_PROHIBITED        18 /* a transfer asked on this path */
#define DNS_EDE_NOT_AUTHORITATIVE 20 /* a name outside our zones */
#define DNS_EDE_INVALID_QTYPE     30 /* NXNAME asked (RFC 9824 §3.5) */

/*
 * Why a query is refused. The comment names the RCODE dns_wire_err_rcode
 * maps it to and the rule.
 */
enum dns_wire_err {
	DNS_WIRE_OK = 0,
	DNS_WIRE_SHORT,       /* drop: under 12 bytes, no ID to answer */
	DNS_WIRE_QR,          /* drop: a response (RFC 1035 §4.1.1);
	                         answering it invites loops */
	DNS_WIRE_OPCODE,      /* NOTIMP: not QUERY (RFC 8906 §3.1.3) */
	DNS_WIRE_QDCOUNT,     /* FORMERR: QUERY without exactly one
	                         question (RFC 9619) */
	DNS_WIRE_TRUNCATED,   /* FORMERR: a count promises more than the
	                         message holds */
	DNS_WIRE_NAME_LABEL,  /* FORMERR: label type 01 or 10 (RFC 6891
	                         §5 retired extended labels) */
	DNS_WIRE_NAME_LONG,   /* FORMERR: name over 255 octets */
	DNS_WIRE_PTR_FORWARD, /* FORMERR: pointer to itself or ahead */
	DNS_WIRE_PTR_LOOP,    /* FORMERR: pointer not before the last
	                         one's target: could cycle */
	DNS_WIRE_OPT_DUP,     /* FORMERR: two OPT (RFC 6891 §6.1.1) */
	DNS_WIRE_OPT_SECTION, /* FORMERR: OPT outside additional */
	DNS_WIRE_OPT_OWNER,   /* FORMERR: OPT owner not root (§6.1.2) */
	DNS_WIRE_OPT_OPTION,  /* FORMERR: an option overruns RDATA */
	DNS_WIRE_ECS_LEN,     /* FORMERR: address octets not
	                         ceil(source / 8) (RFC 7871 §6) */
	DNS_WIRE_ECS_FAMILY,  /* FORMERR: family not 1 or 2 (§7.2.1) */
	DNS_WIRE_ECS_PREFIX,  /* FORMERR: source over 32 / 128 */
	DNS_WIRE_ECS_SCOPE,   /* FORMERR: scope not 0 in a query (§6) */
	DNS_WIRE_ECS_BITS,    /* FORMERR: address bits past the source
	                         prefix set (§6) */
	DNS_WIRE_ECS_DUP,     /* FORMERR: two ECS options (ours: which
	                         one would the answer be for?) */
	DNS_WIRE_COOKIE_LEN,  /* FORMERR: a COOKIE not 8 or 16..40 bytes
	                         (RFC 7873 §5.2.2) */
	DNS_WIRE_COOKIE_DUP,  /* FORMERR: two COOKIE options */
	DNS_WIRE_KEEPALIVE,   /* FORMERR: edns-tcp-keepalive with a
	                         TIMEOUT in a query (RFC 7828 §3.2.1) */
	DNS_WIRE_TSIG_PLACE,  /* FORMERR: TSIG not last in additional
	                         (RFC 8945 §5.1) */
	DNS_WIRE_TRAILING,    /* FORMERR: bytes after the last record */
	DNS_WIRE_BADVERS,     /* BADVERS: EDNS version above 0
	                         (RFC 6891 §6.1.3) */
	DNS_WIRE_ERR__COUNT
};

/* RFC 7871 §6 client subnet: in a query, or to echo in a response. */
struct dns_ecs {
	uint16_t family;  /* DNS_ECS_FAMILY_IP4 / _IP6 */
	uint8_t source;   /* SOURCE PREFIX-LENGTH */
	uint8_t scope;    /* SCOPE PREFIX-LENGTH: 0 in queries */
	uint8_t addr[16]; /* network order; bits past source are 0 */
};

/* A parsed query. Fields below a failed step are unspecified. */
struct dns_query {
	uint16_t id;
	uint16_t flags;              /* header flags word as received */
	bool has_question;           /* the question parsed: echo it back */
	uint8_t qname[DNS_NAME_MAX]; /* as received, case kept,
	                                decompressed */
	uint8_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	bool edns; /* an OPT record came */
	uint8_t edns_version;
	bool edns_do;      /* DO bit (RFC 3225) */
	bool edns_co;      /* CO bit (RFC 9824 §4), only with DO */
	uint16_t udp_size; /* OPT CLASS as sent; not clamped here */
	bool has_ecs;
	struct dns_ecs ecs;
	bool nsid;          /* NSID requested (RFC 5001 §2.1) */
	uint8_t cookie_len; /* 0: no COOKIE option; else 8 or 16..40 */
	uint8_t cookie[DNS_COOKIE_MAX];
	bool keepalive; /* an empty edns-tcp-keepalive (RFC 7828) came */
	bool tsig;      /* a TSIG record is last; not verified */
};

/*
 * Parse the len-byte message at msg as a query. Returns DNS_WIRE_OK and
 * fills *q, or the first rule the message breaks. After DNS_WIRE_BADVERS
 * and the ECS and COOKIE errors the OPT fields (edns, edns_do, udp_size)
 * are filled,
 * since the answer carries an OPT; after any error from DNS_WIRE_OPCODE
 * on, id and flags are, and has_question says whether the question is.
 */
enum dns_wire_err dns_wire_parse_query(
    const uint8_t *msg, size_t len, struct dns_query *q);

/*
 * Read the possibly compressed name at *off of the len-byte message msg
 * into out (wire form, case kept) and move *off past it. Pointers must go
 * strictly backwards, each before the target of the one before, so the
 * walk always ends. Returns DNS_WIRE_OK or a DNS_WIRE_NAME_* / _PTR_* /
 * DNS_WIRE_TRUNCATED error.
 */
enum dns_wire_err dns_wire_name_read(
    const uint8_t *msg, size_t len, size_t *off, uint8_t out[DNS_NAME_MAX]);

/* The RCODE (extended, up to 4095) for err, or DNS_RCODE_DROP. */
int dns_wire_err_rcode(enum dns_wire_err err);

/* Metric-label-safe name of err ("qdcount", "ecs_bits"...). */
const char *dns_wire_err_name(enum dns_wire_err err);

enum dns_section {
	DNS_SEC_ANSWER = 0,
	DNS_SEC_AUTHORITY,
	DNS_SEC_ADDITIONAL,
	DNS_SEC__COUNT
};

struct dns_rdata {
	const uint8_t *data; /* borrowed: uncompressed wire RDATA */
	uint16_t len;
};

/* One RRset to append: the same owner, type, class and TTL (RFC 2181
 * §5.2) for every record. */
struct dns_rrset {
	const uint8_t *owner; /* borrowed: wire name */
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	unsigned count;
	const struct dns_rdata *rdata; /* borrowed: count entries */
};

/* The OPT record a response carries (RFC 6891 §6.1.2). */
struct dns_resp_opt {
	uint16_t udp_size;         /* our payload size */
	bool edns_do;              /* echo of the query's DO */
	bool edns_co;              /* echo of the query's CO */
	const struct dns_ecs *ecs; /* borrowed: NULL, or the query's ECS
	                              with the answer's scope */
	const uint8_t *nsid;       /* borrowed: NULL, or our id */
	uint16_t nsid_len;         /* at most DNS_NSID_MAX */
	const uint8_t *cookie;     /* borrowed: NULL, or the COOKIE to send */
	uint8_t cookie_len;        /* at most DNS_COOKIE_MAX */
	bool keepalive;            /* send edns-tcp-keepalive (TCP only) */
	uint16_t keepalive_100ms;  /* its TIMEOUT: our idle timeout */
	uint16_t ede;              /* RFC 8914 INFO-CODE, with has_ede */
	bool has_ede;              /* set by dns_resp_set_ede */
};

/* A response being written. Fields are the writer's; read none. */
struct dns_resp {
	uint8_t *buf;   /* borrowed: the caller's output buffer */
	size_t limit;   /* bytes the message may use in all */
	size_t len;     /* written so far */
	size_t reserve; /* bytes kept back for the OPT record */
	uint16_t counts[DNS_SEC__COUNT];
	enum dns_section sec; /* sections only move forward */
	bool full;            /* TC set: nothing more goes in */
	bool has_opt;
	struct dns_resp_opt opt; /* its pointers are borrowed as above */
	int rcode;               /* extended: low 4 bits in the header */
	unsigned ncomp;
	/* Offsets of names written, for compression pointers; read only
	 * below ncomp, so it stays last: dns_resp_init clears the rest. */
	uint16_t comp[DNS_COMP_MAX];
};

/*
 * Start a response to q in buf of size bytes, using at most limit of them
 * (the client's UDP size, clamped by the caller, or DNS_MSG_MAX for TCP).
 * Copies ID, opcode and RD, sets QR, and echoes the question if
 * q->has_question. opt is NULL for a query without EDNS (no OPT may be
 * added, RFC 6891 §7) or the OPT to append, whose room is reserved now.
 * Returns 0, or -EMSGSIZE when the header, question and OPT exceed the
 * limit or size, or -EINVAL for an NSID over DNS_NSID_MAX.
 */
/*
 * Add an Extended DNS Error (RFC 8914) with INFO-CODE code and no text to
 * the OPT of r. 0, -EINVAL without an OPT (a query without EDNS gets
 * none), or -EMSGSIZE when it no longer fits (then nothing changed).
 */
int dns_resp_set_ede(struct dns_resp *r, uint16_t code);

int dns_resp_init(struct dns_resp *r, uint8_t *buf, size_t size, size_t limit,
    const struct dns_query *q, const struct dns_resp_opt *opt);

/* Header flags to set (AA, ...) beyond what dns_resp_init wrote. */
void dns_resp_set_flags(struct dns_resp *r, uint16_t flags);

/* Set the RCODE; one above 15 (BADVERS) needs an OPT: -EINVAL without. */
int dns_resp_set_rcode(struct dns_resp *r, int rcode);

/*
 * Append the RRset in section sec, which must not come before the last
 * one used (-EINVAL). Owners, and names inside NS, CNAME, PTR, MX and SOA
 * RDATA (RFC 3597 §4), are compressed. All or nothing: if the set does
 * not fit it is rolled back and -EMSGSIZE returned; when required, TC is
 * set too and every later append fails with -EMSGSIZE.
 */
int dns_resp_add(struct dns_resp *r, enum dns_section sec,
    const struct dns_rrset *set, bool required);

/* Whether TC was set. */
bool dns_resp_truncated(const struct dns_resp *r);

/* A point in a response to come back to (the RRSIG of a set that does
 * not fit takes the set out with it, RFC 4035 §3.1.1). */
struct dns_resp_mark {
	size_t len;
	unsigned ncomp;
	enum dns_section sec;
	uint16_t counts[DNS_SEC__COUNT];
};
void dns_resp_mark(const struct dns_resp *r, struct dns_resp_mark *m);
/* Remove every record appended since m. TC, once set, stays set. */
void dns_resp_rollback(struct dns_resp *r, const struct dns_resp_mark *m);

/* Write the counts and the OPT; returns the message length. */
size_t dns_resp_finish(struct dns_resp *r);

#endif
