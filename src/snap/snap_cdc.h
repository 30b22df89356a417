/*
 * snap_cdc.h - content-defined chunking of file data (FastCDC).
 *
 * Files in a directory tree change by insertion and deletion as often as
 * in place, so their chunks are cut where the content says, not at fixed
 * offsets: an insert moves the data after it, but the cut points after
 * the edit are found again at the same bytes and only the chunks around
 * the edit change. This is FastCDC (Xia et al., USENIX ATC 2016): a Gear
 * rolling hash h = (h << 1) + gear[byte], whose top bits depend on the
 * last 64 bytes only, and normalized chunking: below the average size a
 * cut needs SNAP_CDC_BITS + 2 top bits of h zero (harder), above it
 * SNAP_CDC_BITS - 2 (easier), which narrows the size distribution around
 * the average. Sizes are min/avg/max 16/64/256 KiB (data-dr.md §5.2);
 * no chunk is longer than the max, and only the last chunk of the data
 * is shorter than the min.
 *
 * The gear table is derived from a key (SHA-256 of key || i for entry i),
 * so a store can keep its cut points secret from whoever sees chunk sizes
 * (restic #5291). For now every caller uses SNAP_CDC_KEY_FIXED: the store
 * holds plaintext anyway, and a per-store key would change the cut points
 * after a failover (the promoted replica's store would chunk differently
 * and dedup nothing against what it received).
 *
 * Pure: no I/O, no clock, no globals.
 */
#ifndef HAVEN_SNAP_CDC_H
#define HAVEN_SNAP_CDC_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_CDC_MIN  (16u << 10)
#define SNAP_CDC_AVG  (64u << 10)
#define SNAP_CDC_MAX  (256u << 10)
#define SNAP_CDC_BITS 16 /* log2(SNAP_CDC_AVG) */

/* The key every store uses today (see above). */
#define SNAP_CDC_KEY_FIXED "haven-cdc-1"

struct snap_cdc {
	uint64_t gear[256];
	uint64_t mask_s; /* before the average: harder to cut */
	uint64_t mask_l; /* after it: easier */
};

/* Derive the gear table from key[0..keylen). */
void snap_cdc_init(struct snap_cdc *c, const void *key, size_t keylen);

/*
 * Length of the next chunk at the start of p[0..len). The caller passes
 * at least SNAP_CDC_MAX bytes unless p holds the rest of the data, so a
 * return of len with len < SNAP_CDC_MAX means "the rest" only then.
 * Returns 0 only for len 0.
 */
size_t snap_cdc_cut(const struct snap_cdc *c, const uint8_t *p, size_t len);

#endif
