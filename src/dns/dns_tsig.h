/*
 * dns_tsig.h - transaction signatures (RFC 8945) with HMAC-SHA256, the one
 * algorithm the issue asks for: verify a signed request, sign its answer
 * (one message, or every message of a zone transfer, §5.3.1), sign a
 * request of ours (NOTIFY) and verify the answers it gets. Pure: no I/O,
 * clock or globals; the caller passes the time. OpenSSL's EVP_MAC does
 * the HMAC.
 *
 * Invariants: a struct dns_tsig_ctx carries the MAC that chains the next
 * signature (the request's, then each message's we signed or verified),
 * so the messages of one exchange must go through the same ctx in order.
 * Key names are kept lower case, as the digest wants them canonical
 * (§4.3.3). Secrets are bytes; the config decodes base64.
 */
#ifndef HAVEN_DNS_TSIG_H
#define HAVEN_DNS_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_name.h"

#define DNS_RCODE_NOTAUTH 9 /* RFC 8945 §5.2: the TSIG failed */

/* TSIG RR error field values, RFC 8945 §3. */
#define DNS_TSIG_NOERROR  0
#define DNS_TSIG_BADSIG   16
#define DNS_TSIG_BADKEY   17
#define DNS_TSIG_BADTIME  18
#define DNS_TSIG_BADTRUNC 22

#define DNS_TSIG_SHA256_LEN 32
#define DNS_TSIG_MAC_MAX    64  /* the largest MAC we parse */
#define DNS_TSIG_SECRET_MAX 128 /* bytes: room for 1024-bit secrets */
#define DNS_TSIG_FUDGE      300 /* seconds, §10's recommendation */
/* Shortest truncated MAC accepted: half the hash (§5.2.2.1); and 10. */
#define DNS_TSIG_MAC_MIN    (DNS_TSIG_SHA256_LEN / 2)

struct dns_tsig_key {
	uint8_t name[DNS_NAME_MAX]; /* wire form, lower case */
	uint8_t secret[DNS_TSIG_SECRET_MAX];
	size_t secret_len; /* 1 .. DNS_TSIG_SECRET_MAX */
};

/*
 * Fill key from its text name and secret bytes. Only "hmac-sha256" is
 * known; -ENOTSUP for another alg, -EINVAL for a bad name or a secret of
 * 0 or more than DNS_TSIG_SECRET_MAX bytes.
 */
int dns_tsig_key_init(struct dns_tsig_key *key, const char *name,
    const char *alg, const uint8_t *secret, size_t secret_len);

/* A TSIG record as parsed from a message. */
struct dns_tsig_rr {
	size_t off; /* where the record starts; the signed part ends here */
	uint8_t name[DNS_NAME_MAX]; /* key name, as received */
	uint8_t alg[DNS_NAME_MAX];  /* algorithm name, as received */
	uint64_t time_signed;       /* 48 bits */
	uint16_t fudge;
	uint16_t mac_len;
	uint8_t mac[DNS_TSIG_MAC_MAX];
	uint16_t orig_id;
	uint16_t error;
	uint16_t other_len;
	uint8_t other[6]; /* BADTIME's server time; longer is refused */
};

/*
 * Find the TSIG record of the len-byte message msg: it must be the last
 * record of the additional section (§5.1). Returns 0 and fills *rr,
 * -ENOENT when the message carries none, or -EBADMSG when the message or
 * the record is malformed (a TSIG elsewhere, a MAC over
 * DNS_TSIG_MAC_MAX...), which the answer reports as FORMERR.
 */
int dns_tsig_find(const uint8_t *msg, size_t len, struct dns_tsig_rr *rr);

/*
 * The state of one signed exchange. Fields are the module's; read key,
 * error and signed_at only.
 */
struct dns_tsig_ctx {
	const struct dns_tsig_key *key; /* borrowed: NULL when no key
	                                   matched (BADKEY) */
	uint16_t error;                 /* what the request's TSIG earned */
	uint64_t signed_at;             /* the request's time signed */
	uint16_t orig_id;
	uint8_t name[DNS_NAME_MAX];      /* the request's key name */
	uint16_t mac_len;                /* length our MACs use */
	uint8_t prior[DNS_TSIG_MAC_MAX]; /* the MAC chaining the next */
	uint16_t prior_len;              /* 0: none, a request of ours */
	unsigned nmsg; /* messages signed or verified after the first */
};

/*
 * Verify the signed request msg (len bytes) against keys (nkeys of them)
 * at time now (seconds since the epoch), §5.2: the key name and
 * algorithm must be known (else BADKEY), the MAC must match (BADSIG; a
 * MAC shorter than the hash but at least DNS_TSIG_MAC_MIN is compared on
 * its length, a shorter one is BADTRUNC), and now must lie within fudge
 * of the time signed (BADTIME), checked last. Returns the TSIG error
 * (DNS_TSIG_NOERROR...), also left in ctx->error, -ENOENT without a TSIG
 * record, or -EBADMSG (FORMERR: malformed, a MAC of more than the hash or
 * under 10 octets). After any return >= 0, ctx is ready for
 * dns_tsig_sign to sign the answers.
 */
int dns_tsig_verify(const struct dns_tsig_key *keys, size_t nkeys,
    const uint8_t *msg, size_t len, uint64_t now, struct dns_tsig_ctx *ctx);

/* Start ctx for a request of ours signed with key. */
void dns_tsig_ctx_client(
    struct dns_tsig_ctx *ctx, const struct dns_tsig_key *key);

/*
 * Append a TSIG record to the message in msg (*len bytes, size the
 * buffer), raise ARCOUNT and grow *len. The first message of ctx signs
 * with the request MAC prefix (§5.3) and all TSIG variables; later ones
 * (the rest of a transfer) with the prior MAC and the timers only
 * (§5.3.1). When ctx->error is BADKEY or BADSIG the record carries the
 * error and no MAC (§5.3.2); BADTIME adds our time as other data.
 * Returns 0, -EMSGSIZE if it does not fit, or -EINVAL without a key.
 */
int dns_tsig_sign(struct dns_tsig_ctx *ctx, uint8_t *msg, size_t *len,
    size_t size, uint64_t now);

/*
 * Verify an answer to a request of ours signed through ctx (the first
 * answer message, then each later one of a transfer). Every message must
 * be signed: we do not accept the unsigned gaps §5.3.1 allows. Returns
 * the TSIG error (NOERROR when valid), -ENOENT when unsigned, -EBADMSG
 * when malformed. *tsig_off gets where the TSIG record starts, so the
 * caller can parse the message without it.
 */
int dns_tsig_verify_answer(struct dns_tsig_ctx *ctx, const uint8_t *msg,
    size_t len, uint64_t now, size_t *tsig_off);

#endif
