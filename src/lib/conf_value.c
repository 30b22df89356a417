/*
 * conf_value.c - the scalar parsers and formatters of the config binder:
 * durations, sizes, addresses, and the edit distance behind "did you mean".
 *
 * Pure: no I/O, no clock, no globals. Every parser accepts exactly one
 * spelling per value class and rejects the rest, because a config that
 * "mostly parses" is how a 30-second timeout silently becomes 30 ms: a bare
 * number is not a duration, "yes" is not a boolean, and trailing garbage is
 * an error rather than ignored.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "util.h"

#define CONF_VALUE_MS_MAX (UINT64_MAX / 1000)

/* Milliseconds per unit; longest unit names first so "ms" wins over "m". */
static const struct {
	const char *unit; /* static */
	uint64_t ms;
} conf_value_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 3600 * 1000 },
	{ "d", 24 * 3600 * 1000 },
};

/*
 * One "<number>[.<fraction>]<unit>" term at *sp. A fraction must come out as
 * whole milliseconds ("1.5s" yes, "0.5ms" no): rounding would hide a typo.
 */
static int
conf_value_term(const char **sp, uint64_t *ms)
{
	const char *s = *sp;
	uint64_t whole = 0, frac = 0, fscale = 1, mult = 0;
	size_t ulen = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (whole > CONF_VALUE_MS_MAX / 10)
			return -1;
		whole = whole * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		for (; isdigit((unsigned char)*s); s++) {
			if (fscale >= 1000000000)
				return -1;
			frac = frac * 10 + (uint64_t)(*s - '0');
			fscale *= 10;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(conf_value_units); i++) {
		size_t n = strlen(conf_value_units[i].unit);

		if (strncmp(s, conf_value_units[i].unit, n) == 0 &&
		    !isalpha((unsigned char)s[n])) {
			mult = conf_value_units[i].ms;
			ulen = n;
			break;
		}
	}
	if (mult == 0)
		return -1;
	if (whole > CONF_VALUE_MS_MAX / mult || (frac * mult) % fscale != 0)
		return -1;
	*ms = whole * mult + frac * mult / fscale;
	*sp = s + ulen;
	return 0;
}

/*
 * "250ms", "2s", "1.5s", "1m", "1h", "1h30m". A bare number is an error, bar
 * "0", which means the same in every unit.
 */
int
conf_parse_duration(const char *s, uint64_t *ms)
{
	uint64_t total = 0, t;

	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (conf_value_term(&s, &t) == -1 || total > UINT64_MAX - t)
			return -1;
		total += t;
	}
	*ms = total;
	return 0;
}

/* "512", "16k", "1m", "2g", "1t" (base 1024); "16kb", "16KiB" too. */
int
conf_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v = 0;
	unsigned shift = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	switch (tolower((unsigned char)*s)) {
	case '\0':
		*bytes = v;
		return 0;
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	case 't':
		shift = 40;
		break;
	default:
		return -1;
	}
	s++;
	if (strcasecmp(s, "") != 0 && strcasecmp(s, "b") != 0 &&
	    strcasecmp(s, "ib") != 0)
		return -1;
	if (v > (UINT64_MAX >> shift))
		return -1;
	*bytes = v << shift;
	return 0;
}

static int
conf_value_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
conf_value_host(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return 0;
	}
	memset(ss, 0, sizeof(*ss));
	return -1;
}

/*
 * "1.2.3.4", "2001:db8::1", "[2001:db8::1]" (no port), or with a port:
 * "1.2.3.4:80", "[2001:db8::1]:80". A bare IPv6 address never takes a port:
 * "::1:80" is an address, which is why the brackets exist.
 */
int
conf_parse_addr(const char *s, bool want_port, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port = NULL;
	uint16_t pnum = 0;
	size_t hlen;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL)
			return -1;
		hlen = (size_t)(close - s - 1);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return -1;
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hlen);
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hlen = (size_t)(colon - s);
			port = colon + 1;
		} else {
			hlen = strlen(s);
		}
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, s, hlen);
	}
	host[hlen] = '\0';
	if ((port != NULL) != want_port)
		return -1;
	if (port != NULL && conf_value_port(port, &pnum) == -1)
		return -1;
	if (conf_value_host(host, pnum, ss) == -1)
		return -1;
	/* "[1.2.3.4]" would parse but is not how anyone writes IPv4. */
	if (s[0] == '[' && ss->ss_family != AF_INET6)
		return -1;
	return 0;
}

const char *
conf_addr_str(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	char a[INET6_ADDRSTRLEN];

	switch (ss->ss_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		if (sin->sin_port == 0)
			snprintf(out, outlen, "%s", a);
		else
			snprintf(out, outlen, "%s:%u", a, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		if (sin6->sin6_port == 0)
			snprintf(out, outlen, "%s", a);
		else
			snprintf(
			    out, outlen, "[%s]:%u", a, ntohs(sin6->sin6_port));
		break;
	default:
		snprintf(out, outlen, "(none)");
		break;
	}
	return out;
}

/* The largest unit that divides ms exactly, so output parses back as is. */
const char *
conf_fmt_duration(uint64_t ms, char *out, size_t outlen)
{
	static const struct {
		uint64_t ms;
		const char *unit;
	} u[] = { { 3600000, "h" }, { 60000, "m" }, { 1000, "s" } };

	for (size_t i = 0; i < ARRAY_SIZE(u); i++) {
		if (ms != 0 && ms % u[i].ms == 0) {
			snprintf(out, outlen, "%llu%s",
			    (unsigned long long)(ms / u[i].ms), u[i].unit);
			return out;
		}
	}
	snprintf(out, outlen, "%llums", (unsigned long long)ms);
	return out;
}

const char *
conf_fmt_size(uint64_t bytes, char *out, size_t outlen)
{
	static const char units[] = "kmgt";
	int i;

	for (i = 3; i >= 0; i--) {
		uint64_t m = 1ULL << (10 * (i + 1));

		if (bytes != 0 && bytes % m == 0) {
			snprintf(out, outlen, "%llu%c",
			    (unsigned long long)(bytes / m), units[i]);
			return out;
		}
	}
	snprintf(out, outlen, "%llu", (unsigned long long)bytes);
	return out;
}

/*
 * Optimal string alignment distance (Damerau-Levenshtein restricted to
 * adjacent transpositions), capped: anything past 2 is "not a typo", so
 * long inputs return early instead of filling a large matrix.
 */
int
conf_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int d[34][34];

	if (la > 32 || lb > 32)
		return la > lb ? (int)(la - lb) + 3 : (int)(lb - la) + 3;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = MIN(d[i - 1][j] + 1, d[i][j - 1] + 1);

			v = MIN(v, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1])
				v = MIN(v, d[i - 2][j - 2] + 1);
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/*
 * The closest of n names (each a const char * every stride bytes, so keys
 * of a schema table work as well as an enum's names) to a misspelt one:
 * edit distance up to 2, or one being a prefix of the other ("fast" for
 * "fastest"). NULL when nothing is close.
 */
const char *
conf_suggest(const char *bad, const void *names, size_t stride, size_t n)
{
	const char *best = NULL;
	int bestd = 3;

	for (size_t i = 0; i < n; i++) {
		const char *cand =
		    *(const char *const *)((const char *)names + i * stride);
		size_t lb = strlen(bad), lc = strlen(cand);
		int d = conf_edit_distance(bad, cand);

		if (d > 2 && lb >= 3 && lc >= 3 &&
		    strncmp(bad, cand, MIN(lb, lc)) == 0)
			d = 2;
		if (d < bestd && (size_t)d < MAX(lb, 2)) {
			best = cand;
			bestd = d;
		}
	}
	return best;
}

/*
 * Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629
 * §4: no overlong forms, no surrogates, nothing past U+10FFFF), or of the
 * first NUL; -1 if there is none. libfyaml 0.7.12 loops forever on some
 * malformed input (invalid UTF-8 in a directive name), and a config is
 * UTF-8 text in any case.
 */
long
conf_utf8_check(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;

	for (size_t i = 0; i < len;) {
		unsigned c = s[i], need, min, cp;

		if (c == 0)
			return (long)i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1, min = 0x80, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2, min = 0x800, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3, min = 0x10000, cp = c & 0x07;
		} else {
			return (long)i;
		}
		if (len - i <= need)
			return (long)i;
		for (unsigned j = 1; j <= need; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return (long)i;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (long)i;
		i += need + 1;
	}
	return -1;
}
