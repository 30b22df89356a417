/*
 * dns_cookie.c - DNS Cookies: see dns_cookie.h.
 */
#include <sys/socket.h>

#include <sodium.h>
#include <string.h>

#include "dns/dns_cookie.h"

#define DNS_COOKIE_VERSION 1    /* RFC 9018 §4.2 */
#define DNS_COOKIE_PAST    3600 /* §4.3: valid for an hour */
#define DNS_COOKIE_FUTURE  300  /* §4.3: clock skew allowed */
#define DNS_COOKIE_RENEW   1800 /* §4.3: renew after half an hour */

/* The key of a cookie timestamped ts: the secret of its day (UTC). */
static void
dns_cookie_day_key(const uint8_t secret[DNS_COOKIE_SECRET_LEN], uint32_t ts,
    uint8_t key[DNS_COOKIE_SECRET_LEN])
{
	uint32_t day = ts / DNS_COOKIE_ROTATE;
	uint8_t in[9] = { 'h', 'v', 'c', 'k', (uint8_t)(day >> 24),
		(uint8_t)(day >> 16), (uint8_t)(day >> 8), (uint8_t)day, 0 };

	crypto_shorthash_siphash24(key, in, sizeof(in), secret);
	in[8] = 1;
	crypto_shorthash_siphash24(key + 8, in, sizeof(in), secret);
}

/* The hash over what the server cookie at sc[0..8) and the client cookie
 * commit to, for cl. */
static void
dns_cookie_hash(const uint8_t secret[DNS_COOKIE_SECRET_LEN],
    const struct dns_client *cl, const uint8_t *cc, const uint8_t *sc,
    uint8_t out[8])
{
	uint8_t in[DNS_COOKIE_CLIENT_LEN + 8 + 16], key[DNS_COOKIE_SECRET_LEN];
	size_t alen = cl->family == AF_INET6 ? 16 : 4;

	/* sc holds the timestamp (bytes 4..8), so the checker derives the
	 * same day's key as the minter did, with no state to share. */
	dns_cookie_day_key(secret,
	    (uint32_t)sc[4] << 24 | (uint32_t)sc[5] << 16 |
	        (uint32_t)sc[6] << 8 | sc[7],
	    key);

	memcpy(in, cc, DNS_COOKIE_CLIENT_LEN);
	memcpy(in + DNS_COOKIE_CLIENT_LEN, sc, 8);
	memcpy(in + DNS_COOKIE_CLIENT_LEN + 8, cl->addr, alen);
	crypto_shorthash_siphash24(
	    out, in, DNS_COOKIE_CLIENT_LEN + 8 + alen, key);
	sodium_memzero(key, sizeof(key));
}

static uint32_t
dns_cookie_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A server cookie minted now for cc into sc (DNS_COOKIE_SERVER_LEN). */
static void
dns_cookie_mint(const uint8_t secret[DNS_COOKIE_SECRET_LEN],
    const struct dns_client *cl, const uint8_t *cc, uint32_t now, uint8_t *sc)
{
	sc[0] = DNS_COOKIE_VERSION;
	sc[1] = sc[2] = sc[3] = 0;
	sc[4] = (uint8_t)(now >> 24);
	sc[5] = (uint8_t)(now >> 16);
	sc[6] = (uint8_t)(now >> 8);
	sc[7] = (uint8_t)now;
	dns_cookie_hash(secret, cl, cc, sc, sc + 8);
}

enum dns_cookie_verdict
dns_cookie_answer(const uint8_t secret[DNS_COOKIE_SECRET_LEN],
    const struct dns_client *cl, const uint8_t *in, size_t len, uint32_t now,
    uint8_t *out, size_t *olen)
{
	enum dns_cookie_verdict v = DNS_COOKIE_NEW;
	const uint8_t *sc = in + DNS_COOKIE_CLIENT_LEN;

	memcpy(out, in, DNS_COOKIE_CLIENT_LEN);
	*olen = DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_LEN;
	if (len == DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_LEN &&
	    sc[0] == DNS_COOKIE_VERSION && !sc[1] && !sc[2] && !sc[3]) {
		uint8_t h[8];
		/* Serial number arithmetic (RFC 1982): age < 0 is ahead. */
		int32_t age = (int32_t)(now - dns_cookie_get32(sc + 4));

		dns_cookie_hash(secret, cl, in, sc, h);
		if (sodium_memcmp(h, sc + 8, 8) == 0 &&
		    age <= DNS_COOKIE_PAST && age >= -DNS_COOKIE_FUTURE) {
			if (age < DNS_COOKIE_RENEW) {
				memcpy(out + DNS_COOKIE_CLIENT_LEN, sc,
				    DNS_COOKIE_SERVER_LEN);
				return DNS_COOKIE_VALID;
			}
			v = DNS_COOKIE_VALID; /* renewed below */
		} else {
			v = DNS_COOKIE_BAD;
		}
	} else if (len > DNS_COOKIE_CLIENT_LEN) {
		v = DNS_COOKIE_BAD; /* another server's format */
	}
	dns_cookie_mint(secret, cl, in, now, out + DNS_COOKIE_CLIENT_LEN);
	return v;
}

const char *
dns_cookie_name(enum dns_cookie_verdict v)
{
	static const char *const names[DNS_COOKIE__COUNT] = { "none", "new",
		"valid", "bad" };

	return (unsigned)v < DNS_COOKIE__COUNT ? names[v] : "?";
}
