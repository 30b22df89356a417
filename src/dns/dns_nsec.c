/*
 * dns_nsec.c - NSEC records of an online signer (dns_nsec.h). Pure.
 */
#include <errno.h>
#include <string.h>

#include "dns/dns_nsec.h"

size_t
dns_nsec_bitmap(const uint16_t *types, unsigned n, uint8_t *out)
{
	size_t len = 0;
	unsigned win, i;

	/* Windows in order; each takes the types that fall in it. At most
	 * 256 passes, each over n types: n is small. */
	for (win = 0; win < 256; win++) {
		uint8_t bits[32];
		unsigned max = 0;

		memset(bits, 0, sizeof(bits));
		for (i = 0; i < n; i++) {
			if (types[i] >> 8 != win)
				continue;
			unsigned b = types[i] & 0xff;

			bits[b / 8] |= (uint8_t)(0x80 >> (b % 8));
			if (b / 8 + 1 > max)
				max = b / 8 + 1;
		}
		if (max == 0)
			continue;
		out[len++] = (uint8_t)win;
		out[len++] = (uint8_t)max;
		memcpy(out + len, bits, max);
		len += max;
	}
	return len;
}

/* The first label's last octet raised (skipping what sorts as a
 * lower-case letter would): a sibling after every name below name. */
static int
dns_nsec_raise(const uint8_t *name, size_t len, uint8_t out[DNS_NAME_MAX])
{
	const uint8_t *rest = name + 1 + name[0];
	int i;

	if (name[0] == 0)
		return -ERANGE;
	/* "ab\255" is followed by "ac": raise the last octet below \255
	 * and cut the label there, or "ab\255x" would be skipped. */
	for (i = name[0]; i >= 1 && name[i] == 0xff; i--)
		;
	if (i < 1)
		return -ERANGE;
	out[0] = (uint8_t)i;
	memcpy(out + 1, name + 1, (size_t)i);
	out[i]++;
	/* On an upper-case letter it would sort as the lower case, after
	 * names it skips: '[' is the next octet that is not a letter. */
	if (out[i] >= 'A' && out[i] <= 'Z')
		out[i] = '[';
	memcpy(out + 1 + i, rest, len - (size_t)(rest - name));
	return 0;
}

int
dns_nsec_successor(const uint8_t *name, uint8_t out[DNS_NAME_MAX])
{
	size_t len = dns_name_len(name);

	if (len + 2 <= DNS_NAME_MAX) {
		out[0] = 1;
		out[1] = 0;
		memcpy(out + 2, name, len);
		return 0;
	}
	/* No room below: names below name would not fit either. */
	return dns_nsec_raise(name, len, out);
}

int
dns_nsec_sibling(const uint8_t *name, uint8_t out[DNS_NAME_MAX])
{
	size_t len = dns_name_len(name);

	if (name[0] == 0)
		return -ERANGE;
	if (name[0] < 63 && len + 1 <= DNS_NAME_MAX) {
		out[0] = (uint8_t)(name[0] + 1);
		memcpy(out + 1, name + 1, name[0]);
		out[1 + name[0]] = 0;
		memcpy(
		    out + 2 + name[0], name + 1 + name[0], len - 1 - name[0]);
		return 0;
	}
	return dns_nsec_raise(name, len, out);
}

void
dns_nsec_predecessor(const uint8_t *name, uint8_t out[DNS_NAME_MAX])
{
	const uint8_t *parent = name + 1 + name[0];
	size_t plen = dns_name_len(parent), flen = name[0], len, total;
	uint8_t label[64];

	memcpy(label, name + 1, flen);
	if (label[flen - 1] == 0) {
		/* "x\000" precedes "x\000..." : drop the octet. */
		flen--;
		if (flen == 0) {
			memcpy(out, parent, plen);
			return;
		}
	} else {
		label[flen - 1]--;
		/* Lowered onto an upper-case letter it would sort as its
		 * lower case, after name: use the octet below 'A'. */
		if (label[flen - 1] >= 'A' && label[flen - 1] <= 'Z')
			label[flen - 1] = '@';
		/* The last name before "abc": "abb\255\255..." */
		while (flen < 63 && plen + 1 + flen + 1 <= DNS_NAME_MAX)
			label[flen++] = 0xff;
	}
	/* Names below "abb\255..." follow it: prepend \255 labels, the
	 * greatest, up to the length limit. */
	total = plen + 1 + flen;
	len = 0;
	while (total + 2 <= DNS_NAME_MAX) {
		size_t l = DNS_NAME_MAX - total - 1;

		if (l > 63)
			l = 63;
		out[len++] = (uint8_t)l;
		memset(out + len, 0xff, l);
		len += l;
		total += 1 + l;
	}
	out[len++] = (uint8_t)flen;
	memcpy(out + len, label, flen);
	len += flen;
	memcpy(out + len, parent, plen);
}

size_t
dns_nsec_rdata(
    const uint8_t *next, const uint16_t *types, unsigned n, uint8_t *out)
{
	size_t len = dns_name_len(next);

	memcpy(out, next, len);
	return len + dns_nsec_bitmap(types, n, out + len);
}
