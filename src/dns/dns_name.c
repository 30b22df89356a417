/*
 * dns_name.c - see dns_name.h. Pure: no I/O, clock, globals or
 * allocation.
 *
 * Canonical order walks labels from the right, but wire names only link
 * left to right, so dns_name_cmp_canon first records each name's label
 * offsets (at most 127: a 255-octet name of 1-octet labels) and then walks
 * both arrays backwards.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns_name.h"

/* Most labels a valid name can have: 127 one-octet labels and the root. */
#define DNS_NAME_LABELS_MAX 127

static inline uint8_t
dns_name_fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

int
dns_name_check(const uint8_t *buf, size_t len)
{
	size_t off = 0;

	for (;;) {
		if (off >= len || off >= DNS_NAME_MAX)
			return -EINVAL;
		if (buf[off] == 0)
			return (int)off + 1;
		if (buf[off] > DNS_LABEL_MAX)
			return -EINVAL;
		off += 1 + buf[off];
	}
}

size_t
dns_name_len(const uint8_t *name)
{
	size_t off = 0;

	while (name[off] != 0)
		off += 1 + name[off];
	return off + 1;
}

unsigned
dns_name_labels(const uint8_t *name)
{
	unsigned n = 0;

	for (; *name != 0; name += 1 + *name)
		n++;
	return n;
}

/* Value of the three decimal digits at p, or -1. */
static int
dns_name_ddd(const char *p)
{
	int i, v = 0;

	for (i = 0; i < 3; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

int
dns_name_from_text(uint8_t out[DNS_NAME_MAX], const char *text, size_t len,
    const uint8_t *origin)
{
	size_t i = 0, o = 0, lab = 0, olen;
	bool absolute = false;
	int v;

	if (len == 0)
		return -EINVAL;
	if (len == 1 && text[0] == '@') {
		if (origin == NULL)
			return -EINVAL;
		olen = dns_name_len(origin);
		memcpy(out, origin, olen);
		return (int)olen;
	}
	if (len == 1 && text[0] == '.') {
		out[0] = 0;
		return 1;
	}
	out[0] = 0; /* the first label's length octet */
	while (i < len) {
		uint8_t c = (uint8_t)text[i];

		if (c == '.') {
			if (o == lab)
				return -EINVAL; /* empty label */
			out[lab] = (uint8_t)(o - lab);
			i++;
			if (i == len) {
				absolute = true;
				break;
			}
			lab = ++o;
			if (o >= DNS_NAME_MAX)
				return -ENAMETOOLONG;
			out[lab] = 0;
			continue;
		}
		if (c == '\\') {
			if (i + 1 >= len)
				return -EINVAL;
			if (i + 3 < len &&
			    (v = dns_name_ddd(text + i + 1)) >= 0) {
				if (v > 255)
					return -EINVAL;
				c = (uint8_t)v;
				i += 4;
			} else if (text[i + 1] >= '0' && text[i + 1] <= '9') {
				return -EINVAL; /* \D or \DD: not RFC 1035 */
			} else {
				c = (uint8_t)text[i + 1];
				i += 2;
			}
		} else {
			i++;
		}
		if (o - lab >= DNS_LABEL_MAX)
			return -ENAMETOOLONG;
		if (o + 1 >= DNS_NAME_MAX)
			return -ENAMETOOLONG;
		out[++o] = c;
	}
	if (!absolute) {
		out[lab] = (uint8_t)(o - lab);
		o++;
		if (origin == NULL)
			return -EINVAL;
		olen = dns_name_len(origin);
		if (o + olen > DNS_NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(out + o, origin, olen);
		return (int)(o + olen);
	}
	/* o is the last label's final octet; the root follows it. */
	if (o + 2 > DNS_NAME_MAX)
		return -ENAMETOOLONG;
	out[++o] = 0;
	return (int)o + 1;
}

static bool
dns_name_special(uint8_t c)
{
	return c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' ||
	    c == ';' || c == '@' || c == '$';
}

int
dns_name_to_text(const uint8_t *name, char *buf, size_t size)
{
	char tmp[DNS_NAME_TEXT_MAX];
	size_t o = 0, i, n;

	if (*name == 0)
		tmp[o++] = '.';
	for (; *name != 0; name += 1 + *name) {
		for (i = 1; i <= *name; i++) {
			uint8_t c = name[i];

			if (dns_name_special(c)) {
				tmp[o++] = '\\';
				tmp[o++] = (char)c;
			} else if (c < 0x21 || c > 0x7e) {
				o += (size_t)snprintf(
				    tmp + o, sizeof(tmp) - o, "\\%03u", c);
			} else {
				tmp[o++] = (char)c;
			}
		}
		tmp[o++] = '.';
	}
	tmp[o] = '\0';
	if (size == 0)
		return -ENOSPC;
	n = o < size ? o : size - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return o < size ? (int)o : -ENOSPC;
}

void
dns_name_lower(uint8_t *name)
{
	size_t i;

	for (; *name != 0; name += 1 + *name)
		for (i = 1; i <= *name; i++)
			name[i] = dns_name_fold(name[i]);
}

bool
dns_name_equal(const uint8_t *a, const uint8_t *b)
{
	size_t i, len = dns_name_len(a);

	if (len != dns_name_len(b))
		return false;
	/* Length octets are at most 63, below 'A', so folding leaves them. */
	for (i = 0; i < len; i++)
		if (dns_name_fold(a[i]) != dns_name_fold(b[i]))
			return false;
	return true;
}

uint32_t
dns_name_hash(const uint8_t *name)
{
	uint32_t h = 2166136261u;
	size_t i, len = dns_name_len(name);

	for (i = 0; i < len; i++) {
		h ^= dns_name_fold(name[i]);
		h *= 16777619u;
	}
	return h;
}

bool
dns_name_is_sub(const uint8_t *name, const uint8_t *parent)
{
	unsigned n = dns_name_labels(name), p = dns_name_labels(parent);

	if (n < p)
		return false;
	for (; n > p; n--)
		name += 1 + *name;
	return dns_name_equal(name, parent);
}

/* Offsets of the labels of name into offs; returns their count. */
static unsigned
dns_name_offsets(const uint8_t *name, uint8_t offs[DNS_NAME_LABELS_MAX])
{
	unsigned n = 0;
	size_t off = 0;

	while (name[off] != 0) {
		offs[n++] = (uint8_t)off;
		off += 1 + name[off];
	}
	return n;
}

int
dns_name_cmp_canon(const uint8_t *a, const uint8_t *b)
{
	uint8_t oa[DNS_NAME_LABELS_MAX], ob[DNS_NAME_LABELS_MAX];
	unsigned na = dns_name_offsets(a, oa), nb = dns_name_offsets(b, ob);
	unsigned i;

	while (na > 0 && nb > 0) {
		const uint8_t *la = a + oa[--na], *lb = b + ob[--nb];
		unsigned len = la[0] < lb[0] ? la[0] : lb[0];

		for (i = 1; i <= len; i++) {
			uint8_t ca = dns_name_fold(la[i]);
			uint8_t cb = dns_name_fold(lb[i]);

			if (ca != cb)
				return ca < cb ? -1 : 1;
		}
		if (la[0] != lb[0])
			return la[0] < lb[0] ? -1 : 1;
	}
	return na == nb ? 0 : na < nb ? -1 : 1;
}
