/*
 * snap_cdc.c - see snap_cdc.h.
 */
#include <string.h>

#include "snap/snap_cdc.h"
#include "snap/snap_id.h"

void
snap_cdc_init(struct snap_cdc *c, const void *key, size_t keylen)
{
	uint8_t in[64 + 2];
	struct snap_id d;

	/* Bounded key: a longer one would only be hashed down anyway. */
	if (keylen > 64)
		keylen = 64;
	memcpy(in, key, keylen);
	for (unsigned i = 0; i < 256; i++) {
		uint64_t v = 0;

		in[keylen] = (uint8_t)i;
		in[keylen + 1] = 0xc3; /* domain: gear table entries */
		snap_id_of(in, keylen + 2, &d);
		for (int k = 0; k < 8; k++)
			v = v << 8 | d.b[k];
		c->gear[i] = v;
	}
	/* The top bits: bit 63 - k of h depends on the last 64 - k bytes. */
	c->mask_s = ~(UINT64_MAX >> (SNAP_CDC_BITS + 2));
	c->mask_l = ~(UINT64_MAX >> (SNAP_CDC_BITS - 2));
}

size_t
snap_cdc_cut(const struct snap_cdc *c, const uint8_t *p, size_t len)
{
	size_t i = SNAP_CDC_MIN, normal = SNAP_CDC_AVG;
	uint64_t h = 0;

	if (len <= SNAP_CDC_MIN)
		return len;
	if (len > SNAP_CDC_MAX)
		len = SNAP_CDC_MAX;
	if (normal > len)
		normal = len;
	/* The hash starts 64 bytes before the min so that the first
	 * candidate sees a full window: cut points then depend on the
	 * bytes around them only, not on where the chunk began. */
	for (size_t k = SNAP_CDC_MIN - 64; k < SNAP_CDC_MIN; k++)
		h = (h << 1) + c->gear[p[k]];
	for (; i < normal; i++) {
		h = (h << 1) + c->gear[p[i]];
		if ((h & c->mask_s) == 0)
			return i + 1;
	}
	for (; i < len; i++) {
		h = (h << 1) + c->gear[p[i]];
		if ((h & c->mask_l) == 0)
			return i + 1;
	}
	return len;
}
