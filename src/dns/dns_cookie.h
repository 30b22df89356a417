/*
 * dns_cookie.h - DNS Cookies (RFC 7873) with the interoperable server
 * cookie of RFC 9018.
 *
 * A client sends an 8-byte client cookie, and once it has one, the server
 * cookie it got back. The server cookie is
 *
 *	version (1) | reserved (3, zero) | timestamp (4, unix s) | hash (8)
 *	hash = SipHash-2-4(secret, client cookie | version | reserved |
 *	                           timestamp | client IP)
 *
 * (RFC 9018 §4), so any worker, or any server sharing the secret, can
 * check one without state. A server cookie is valid when its hash matches
 * and its timestamp is at most an hour old and at most 5 minutes ahead
 * (§4.3). haven never requires cookies (no BADCOOKIE): a query without a
 * valid one is answered as any other and gets a fresh server cookie; a
 * valid one is reused until it is half an hour old, then renewed (§4.3),
 * and marks the client as not spoofed, which lets it past response rate
 * limiting (RFC 7873 §5.2.3).
 *
 * Rotation (RFC 7873 §7.1, RFC 9018 §5): the SipHash key is not the stored
 * secret itself but that day's key, SipHash(secret, "hvck" | UTC day |
 * 0 and 1) (16 bytes), and the day is the one in the cookie's own
 * timestamp. So the key changes every day with nothing to coordinate
 * between workers or restarts, a cookie minted before midnight still
 * checks after it, and what an attacker could learn of one day's key by
 * brute force says nothing of the next day's. The cost: a non-haven
 * server given the same secret would not accept haven's cookies (RFC
 * 9018's cross-vendor sharing assumes the raw secret as the key).
 *
 * Pure: the secret and the time are the caller's.
 */
#ifndef HAVEN_DNS_COOKIE_H
#define HAVEN_DNS_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "dns/dns_dyn.h"

#define DNS_COOKIE_SERVER_LEN 16    /* ours: RFC 9018 §4 */
#define DNS_COOKIE_SECRET_LEN 16    /* SipHash-2-4 key */
#define DNS_COOKIE_ROTATE     86400 /* seconds each derived key lives */

enum dns_cookie_verdict {
	DNS_COOKIE_NONE = 0, /* no COOKIE option */
	DNS_COOKIE_NEW,      /* a client cookie only: one minted */
	DNS_COOKIE_VALID,    /* our server cookie, in date */
	DNS_COOKIE_BAD,      /* a server cookie we did not mint, or stale */
	DNS_COOKIE__COUNT
};

/*
 * The COOKIE option to answer in[0..len) (client cookie, maybe a server
 * cookie; the parser checked the lengths) from client cl at now: out
 * (DNS_COOKIE_MAX bytes) gets the client cookie and a server cookie, *olen
 * their length. Returns what the query's cookie was.
 */
enum dns_cookie_verdict dns_cookie_answer(
    const uint8_t secret[DNS_COOKIE_SECRET_LEN], const struct dns_client *cl,
    const uint8_t *in, size_t len, uint32_t now, uint8_t *out, size_t *olen);

/* Metric label of v: "none", "new", "valid", "bad". */
const char *dns_cookie_name(enum dns_cookie_verdict v);

#endif
