/*
 * dns_zone_rdata.c - RDATA from master-file tokens to uncompressed wire
 * form, one parser per type, and RFC 3597's generic "\# len hex" form for
 * every type. Pure: no I/O, clock or globals.
 *
 * Each parser consumes exactly the tokens it needs and refuses extra
 * ones: a stray token is far more often a missing ';' than a feature.
 * Numbers are plain decimal; quoted tokens are accepted only where RFC
 * 1035 §5.1 has a <character-string>.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns_wire.h"
#include "dns/dns_zone.h"
#include "dns/dns_zone_priv.h"

/* Write at most n bytes into out at *o; false when DNS_RDATA_MAX is hit. */
static bool
dns_zone_put(uint8_t *out, size_t *o, const void *p, size_t n)
{
	if (*o + n > DNS_RDATA_MAX)
		return false;
	memcpy(out + *o, p, n);
	*o += n;
	return true;
}

static int
dns_zone_fail(
    struct dns_zone_fail *f, const struct dns_zone_tok *t, const char *why)
{
	f->tok = t;
	snprintf(f->why, sizeof(f->why), "%s", why);
	return -EINVAL;
}

/* An unquoted decimal number of at most max. 0 or -EINVAL. */
static int
dns_zone_num(const struct dns_zone_tok *t, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (t->quoted || t->len == 0 || t->len > 10)
		return -EINVAL;
	for (i = 0; i < t->len; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(t->p[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int
dns_zone_ttl(const struct dns_zone_tok *t, uint32_t *out)
{
	uint64_t total = 0, v = 0;
	bool digits = false, units = false;
	size_t i;

	if (t->quoted || t->len == 0 || t->p[0] < '0' || t->p[0] > '9')
		return -EINVAL;
	for (i = 0; i < t->len; i++) {
		char c = t->p[i];
		uint64_t mul;

		if (c >= '0' && c <= '9') {
			v = v * 10 + (uint64_t)(c - '0');
			if (v > DNS_ZONE_TTL_MAX)
				return -EINVAL;
			digits = true;
			continue;
		}
		switch (c | 0x20) {
		case 'w':
			mul = 604800;
			break;
		case 'd':
			mul = 86400;
			break;
		case 'h':
			mul = 3600;
			break;
		case 'm':
			mul = 60;
			break;
		case 's':
			mul = 1;
			break;
		default:
			return -EINVAL;
		}
		if (!digits)
			return -EINVAL;
		total += v * mul;
		if (total > DNS_ZONE_TTL_MAX)
			return -EINVAL;
		v = 0;
		digits = false;
		units = true;
	}
	if (digits) {
		/* "1h30" is not BIND's syntax: a bare tail needs a unit. */
		if (units)
			return -EINVAL;
		total = v;
	}
	*out = (uint32_t)total;
	return 0;
}

int
dns_zone_name(const struct dns_zone_tok *t, const uint8_t *origin,
    uint8_t out[DNS_NAME_MAX], const char **why)
{
	int n;

	if (t->quoted) {
		*why = "a name cannot be quoted";
		return -EINVAL;
	}
	n = dns_name_from_text(out, t->p, t->len, origin);
	if (n == -ENAMETOOLONG)
		*why = "name too long (labels 63, names 255 octets)";
	else if (n < 0 && origin == NULL &&
	    (t->len == 0 || t->p[t->len - 1] != '.' ||
	        (t->len >= 2 && t->p[t->len - 2] == '\\')))
		*why = "relative name and no $ORIGIN";
	else if (n < 0)
		*why = "bad name (empty label or bad escape)";
	return n;
}

/*
 * A <character-string> (RFC 1035 §5.1) unescaped into out at *o, with
 * its length octet. 0, or -EINVAL (over 255 octets, bad \DDD).
 */
static int
dns_zone_cstr(const struct dns_zone_tok *t, uint8_t *out, size_t *o, size_t max)
{
	size_t i, at = *o, n = 0;

	if (at + 1 > DNS_RDATA_MAX)
		return -EINVAL;
	(*o)++;
	for (i = 0; i < t->len; i++) {
		uint8_t c = (uint8_t)t->p[i];

		if (c == '\\') {
			/* The tokenizer left no lone '\' at the end. */
			if (i + 3 < t->len && t->p[i + 1] >= '0' &&
			    t->p[i + 1] <= '9') {
				unsigned v = 0, k;

				for (k = 1; k <= 3; k++) {
					if (t->p[i + k] < '0' ||
					    t->p[i + k] > '9')
						return -EINVAL;
					v = v * 10 +
					    (unsigned)(t->p[i + k] - '0');
				}
				if (v > 255)
					return -EINVAL;
				c = (uint8_t)v;
				i += 3;
			} else if (t->p[i + 1] >= '0' && t->p[i + 1] <= '9') {
				return -EINVAL;
			} else {
				c = (uint8_t)t->p[++i];
			}
		}
		if (n == max || !dns_zone_put(out, o, &c, 1))
			return -EINVAL;
		n++;
	}
	out[at] = (uint8_t)n;
	return 0;
}

/* Tokens, one each, for the fixed-shape types. */
static int
dns_zone_count(const struct dns_zone_tok *tok, unsigned n, unsigned want,
    struct dns_zone_fail *f)
{
	if (n < want)
		return dns_zone_fail(f, NULL, "missing RDATA fields");
	if (n > want)
		return dns_zone_fail(f, &tok[want], "extra RDATA field");
	return 0;
}

static int
dns_zone_addr(
    const struct dns_zone_tok *t, int af, uint8_t *out, struct dns_zone_fail *f)
{
	char buf[64];

	if (t->quoted || t->len >= sizeof(buf) ||
	    memchr(t->p, '\\', t->len) != NULL)
		goto bad;
	memcpy(buf, t->p, t->len);
	buf[t->len] = '\0';
	if (inet_pton(af, buf, out) == 1)
		return af == AF_INET ? 4 : 16;
bad:
	return dns_zone_fail(
	    f, t, af == AF_INET ? "bad IPv4 address" : "bad IPv6 address");
}

static int
dns_zone_put_name(const struct dns_zone_tok *t, const uint8_t *origin,
    uint8_t *out, size_t *o, struct dns_zone_fail *f)
{
	uint8_t name[DNS_NAME_MAX];
	const char *why = "bad name";
	int n;

	if ((n = dns_zone_name(t, origin, name, &why)) < 0)
		return dns_zone_fail(f, t, why);
	dns_zone_put(out, o, name, (size_t)n); /* fits: callers are short */
	return 0;
}

static int
dns_zone_put_u16(const struct dns_zone_tok *t, uint8_t *out, size_t *o,
    struct dns_zone_fail *f)
{
	uint32_t v;

	if (dns_zone_num(t, 0xffff, &v) < 0)
		return dns_zone_fail(f, t, "expected a number 0..65535");
	out[(*o)++] = (uint8_t)(v >> 8);
	out[(*o)++] = (uint8_t)v;
	return 0;
}

/* SOA (RFC 1035 §3.3.13): MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM. */
static int
dns_zone_soa(const struct dns_zone_tok *tok, unsigned n, const uint8_t *origin,
    uint8_t *out, struct dns_zone_fail *f)
{
	size_t o = 0;
	uint32_t v;
	unsigned i;

	if (dns_zone_count(tok, n, 7, f) < 0 ||
	    dns_zone_put_name(&tok[0], origin, out, &o, f) < 0 ||
	    dns_zone_put_name(&tok[1], origin, out, &o, f) < 0)
		return -EINVAL;
	for (i = 2; i < 7; i++) {
		/* The serial is a plain number; the timers are TTLs. */
		if ((i == 2 ? dns_zone_num(&tok[i], 0xffffffffu, &v) :
		              dns_zone_ttl(&tok[i], &v)) < 0)
			return dns_zone_fail(f, &tok[i],
			    i == 2 ? "bad serial" : "bad SOA timer");
		out[o++] = (uint8_t)(v >> 24);
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	return (int)o;
}

static int
dns_zone_txt(const struct dns_zone_tok *tok, unsigned n, uint8_t *out,
    struct dns_zone_fail *f)
{
	size_t o = 0;
	unsigned i;

	if (n == 0)
		return dns_zone_fail(f, NULL, "TXT needs at least one string");
	for (i = 0; i < n; i++)
		if (dns_zone_cstr(&tok[i], out, &o, 255) < 0)
			return dns_zone_fail(f, &tok[i],
			    "bad string (over 255 octets, bad escape, or "
			    "RDATA over 65535)");
	return (int)o;
}

/* CAA (RFC 8659 §4.1.1): FLAGS TAG VALUE; the value has no length
 * octet, it runs to the end of the RDATA. */
static int
dns_zone_caa(const struct dns_zone_tok *tok, unsigned n, uint8_t *out,
    struct dns_zone_fail *f)
{
	size_t o = 0, i;
	uint32_t v;

	if (dns_zone_count(tok, n, 3, f) < 0)
		return -EINVAL;
	if (dns_zone_num(&tok[0], 255, &v) < 0)
		return dns_zone_fail(f, &tok[0], "bad CAA flags (0..255)");
	out[o++] = (uint8_t)v;
	if (tok[1].quoted || tok[1].len == 0 || tok[1].len > 255)
		goto badtag;
	for (i = 0; i < tok[1].len; i++) {
		char c = tok[1].p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9')))
			goto badtag;
	}
	out[o++] = (uint8_t)tok[1].len;
	dns_zone_put(out, &o, tok[1].p, tok[1].len);
	/* The value unescapes as a string, minus the length octet. */
	{
		size_t at = o;

		if (dns_zone_cstr(&tok[2], out, &o, DNS_RDATA_MAX) < 0)
			return dns_zone_fail(f, &tok[2], "bad CAA value");
		memmove(out + at, out + at + 1, o - at - 1);
		o--;
	}
	return (int)o;
badtag:
	return dns_zone_fail(f, &tok[1], "bad CAA tag (letters and digits)");
}

static int
dns_zone_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 3597 §5: \# LENGTH HEX... (the hex may be split into words). */
static int
dns_zone_generic(const struct dns_zone_tok *tok, unsigned n, uint8_t *out,
    struct dns_zone_fail *f)
{
	size_t o = 0, i;
	uint32_t want;
	unsigned k;
	int hi = -1;

	if (n < 2 || dns_zone_num(&tok[1], DNS_RDATA_MAX, &want) < 0)
		return dns_zone_fail(
		    f, n < 2 ? NULL : &tok[1], "\\# needs a length 0..65535");
	for (k = 2; k < n; k++) {
		if (tok[k].quoted)
			return dns_zone_fail(f, &tok[k], "bad hex");
		for (i = 0; i < tok[k].len; i++) {
			int v = dns_zone_hexval(tok[k].p[i]);

			if (v < 0)
				return dns_zone_fail(f, &tok[k], "bad hex");
			if (hi < 0) {
				hi = v;
				continue;
			}
			if (o == want)
				return dns_zone_fail(f, &tok[k],
				    "more hex than the length says");
			out[o++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		return dns_zone_fail(
		    f, &tok[n - 1], "odd number of hex digits");
	if (o != want)
		return dns_zone_fail(f, NULL, "less hex than the length says");
	return (int)o;
}

/* Names in the RDATA of known types, given in the generic form, must
 * parse; fixed-size types must have their size. */
static int
dns_zone_generic_check(uint16_t type, const uint8_t *rd, size_t len)
{
	size_t fixed = 0;
	int l;

	switch (type) {
	case DNS_TYPE_A:
		return len == 4 ? 0 : -EINVAL;
	case DNS_TYPE_AAAA:
		return len == 16 ? 0 : -EINVAL;
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
	case DNS_TYPE_DNAME:
		return dns_name_check(rd, len) == (int)len ? 0 : -EINVAL;
	case DNS_TYPE_MX:
		fixed = 2;
		break;
	case DNS_TYPE_SRV:
		fixed = 6;
		break;
	case DNS_TYPE_SOA:
		if ((l = dns_name_check(rd, len)) < 0)
			return -EINVAL;
		rd += l;
		len -= (size_t)l;
		if ((l = dns_name_check(rd, len)) < 0)
			return -EINVAL;
		return len - (size_t)l == 20 ? 0 : -EINVAL;
	default:
		return 0;
	}
	if (len < fixed)
		return -EINVAL;
	return dns_name_check(rd + fixed, len - fixed) == (int)(len - fixed) ?
	    0 :
	    -EINVAL;
}

int
dns_zone_rdata(uint16_t type, const struct dns_zone_tok *tok, unsigned n,
    const uint8_t *origin, uint8_t *out, struct dns_zone_fail *f)
{
	size_t o = 0;
	int len;

	f->tok = NULL;
	f->why[0] = '\0';
	if (n > 0 && !tok[0].quoted && tok[0].len == 2 && tok[0].p[0] == '\\' &&
	    tok[0].p[1] == '#') {
		if ((len = dns_zone_generic(tok, n, out, f)) < 0)
			return len;
		if (dns_zone_generic_check(type, out, (size_t)len) < 0)
			return dns_zone_fail(
			    f, &tok[0], "generic RDATA not valid for the type");
		return len;
	}
	switch (type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA:
		if (dns_zone_count(tok, n, 1, f) < 0)
			return -EINVAL;
		return dns_zone_addr(
		    &tok[0], type == DNS_TYPE_A ? AF_INET : AF_INET6, out, f);
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
	case DNS_TYPE_DNAME:
		if (dns_zone_count(tok, n, 1, f) < 0 ||
		    dns_zone_put_name(&tok[0], origin, out, &o, f) < 0)
			return -EINVAL;
		return (int)o;
	case DNS_TYPE_MX:
		if (dns_zone_count(tok, n, 2, f) < 0 ||
		    dns_zone_put_u16(&tok[0], out, &o, f) < 0 ||
		    dns_zone_put_name(&tok[1], origin, out, &o, f) < 0)
			return -EINVAL;
		return (int)o;
	case DNS_TYPE_SRV:
		/* RFC 2782: PRIORITY WEIGHT PORT TARGET. */
		if (dns_zone_count(tok, n, 4, f) < 0 ||
		    dns_zone_put_u16(&tok[0], out, &o, f) < 0 ||
		    dns_zone_put_u16(&tok[1], out, &o, f) < 0 ||
		    dns_zone_put_u16(&tok[2], out, &o, f) < 0 ||
		    dns_zone_put_name(&tok[3], origin, out, &o, f) < 0)
			return -EINVAL;
		return (int)o;
	case DNS_TYPE_SOA:
		return dns_zone_soa(tok, n, origin, out, f);
	case DNS_TYPE_TXT:
		return dns_zone_txt(tok, n, out, f);
	case DNS_TYPE_CAA:
		return dns_zone_caa(tok, n, out, f);
	default:
		return dns_zone_fail(f, n > 0 ? &tok[0] : NULL,
		    "no text form known for this type: use \\# (RFC 3597)");
	}
}
