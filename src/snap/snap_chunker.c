/*
 * snap_chunker.c - see snap_chunker.h.
 */
#include <string.h>

#include "snap/snap_chunker.h"

bool
snap_chunker_size_ok(uint64_t chunk_size)
{
	return chunk_size >= SNAP_CHUNK_MIN && chunk_size <= SNAP_CHUNK_MAX &&
	    (chunk_size & (chunk_size - 1)) == 0;
}

uint64_t
snap_chunker_count(uint64_t size, uint32_t chunk_size)
{
	return size / chunk_size + (size % chunk_size != 0);
}

void
snap_chunker_range(uint64_t size, uint32_t chunk_size, uint64_t i,
    uint64_t *off, uint32_t *len)
{
	uint64_t o = i * chunk_size, left = size - o;

	*off = o;
	*len = left < chunk_size ? (uint32_t)left : chunk_size;
}

bool
snap_chunker_is_zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	/*
	 * Compare the buffer with itself shifted by one byte: memcmp runs
	 * vectorized, and equal means every byte equals the first.
	 */
	if (len == 0)
		return true;
	return c[0] == 0 && memcmp(c, c + 1, len - 1) == 0;
}
