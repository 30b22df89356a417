/*
 * snap_chunker.h - fixed, aligned chunking of image files.
 *
 * A disk image changes in place, block by block, so chunk i always covers
 * bytes [i * chunk_size, (i + 1) * chunk_size) of the image (the last one is
 * shorter when the size is not a multiple). An overwrite inside one chunk
 * changes that chunk's ID and no other, which keeps an incremental snapshot
 * proportional to what was written; a content-defined chunker would only
 * add cost here. Chunks whose bytes are all zero (holes included) are zero
 * chunks: recorded, never stored, restored as holes.
 *
 * Pure: no I/O, no clock, no globals.
 */
#ifndef HAVEN_SNAP_CHUNKER_H
#define HAVEN_SNAP_CHUNKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAP_CHUNK_DEFAULT (64u << 10)
#define SNAP_CHUNK_MIN     (4u << 10)
#define SNAP_CHUNK_MAX     (4u << 20)   /* == SNAP_FRAME_RAW_MAX */
#define SNAP_SIZE_MAX      (1ull << 50) /* images up to 1 PiB */

/* A power of two in [SNAP_CHUNK_MIN, SNAP_CHUNK_MAX]. */
bool snap_chunker_size_ok(uint64_t chunk_size);
/* Chunks of an image of size bytes (0 for an empty image). */
uint64_t snap_chunker_count(uint64_t size, uint32_t chunk_size);
/* Offset and length of chunk i; i < snap_chunker_count(). */
void snap_chunker_range(uint64_t size, uint32_t chunk_size, uint64_t i,
    uint64_t *off, uint32_t *len);
/* True when p[0..len) is all zero bytes. */
bool snap_chunker_is_zero(const void *p, size_t len);

#endif
