/*
 * fuzz_snap_cd.c - snap_cd_compare on arbitrary extent lists: it must
 * reject what is unsorted, overlapping or overflowing, and for whatever it
 * accepts its bitmap must match a slow reference that asks, for every
 * 64-byte unit of the new image, "is this a hole in both, or a plain
 * shared extent at the same physical offset in both?" (extent boundaries
 * are multiples of 64, so one answer holds for the whole unit).
 *
 * Input: byte 0 picks the chunk size (4 KiB..64 KiB), bytes 1-4 the two
 * sizes (in units of 64 bytes plus byte 5 and 6 as a tail), byte 7 how many
 * of the extents that follow belong to the old list; each extent is 8
 * bytes: logical, length, physical (16, 8, 16 bits, in units of 64), a
 * flags byte mapped onto FIEMAP flags, and 2 bytes that, when 0xffff, put
 * the extent at the top of the offset space (overflow).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "snap/snap_cd.h"
#include "snap/snap_chunker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CD_UNIT 64
#define FUZZ_CD_MAX  128

static const uint32_t fuzz_cd_flag[8] = {
	FIEMAP_EXTENT_SHARED,
	FIEMAP_EXTENT_SHARED,
	FIEMAP_EXTENT_SHARED,
	FIEMAP_EXTENT_LAST,
	FIEMAP_EXTENT_UNWRITTEN,
	FIEMAP_EXTENT_DELALLOC,
	FIEMAP_EXTENT_ENCODED,
	FIEMAP_EXTENT_MERGED,
};

static const struct snap_cd_extent *
fuzz_cd_find(const struct snap_cd_extent *e, size_t n, uint64_t pos)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].logical <= pos && pos - e[i].logical < e[i].length)
			return &e[i];
	return NULL;
}

static bool
fuzz_cd_plain(const struct snap_cd_extent *e)
{
	return (e->flags & FIEMAP_EXTENT_SHARED) &&
	    !(e->flags & SNAP_CD_DOUBT_FLAGS);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_cd_extent ext[FUZZ_CD_MAX];
	uint8_t *bits, *ref;
	uint64_t osz, csz, n, on, count = 0;
	uint32_t cs;
	size_t ne, nold;
	int64_t r;

	if (size < 8)
		return 0;
	cs = 4096u << (data[0] % 5);
	osz =
	    (uint64_t)(data[1] | data[2] << 8) % 4096 * FUZZ_CD_UNIT + data[5];
	csz =
	    (uint64_t)(data[3] | data[4] << 8) % 4096 * FUZZ_CD_UNIT + data[6];
	ne = MIN((size - 8) / 8, FUZZ_CD_MAX);
	nold = ne ? data[7] % (ne + 1) : 0;
	for (size_t i = 0; i < ne; i++) {
		const uint8_t *p = data + 8 + 8 * i;
		uint64_t hi = (uint64_t)(p[6] | p[7] << 8);

		ext[i].logical = (uint64_t)(p[0] | p[1] << 8) * FUZZ_CD_UNIT;
		if (hi == 0xffff) /* near the top: overflow must be refused */
			ext[i].logical = UINT64_MAX - p[0];
		ext[i].length = (uint64_t)p[2] * FUZZ_CD_UNIT;
		ext[i].physical = (uint64_t)(p[3] | p[4] << 8) * FUZZ_CD_UNIT;
		ext[i].flags = fuzz_cd_flag[p[5] % 8] |
		    (p[5] & 0x80 ? FIEMAP_EXTENT_LAST : 0);
	}
	n = snap_chunker_count(csz, cs);
	bits = malloc(n / 8 + 1);
	ref = calloc(1, n / 8 + 1);
	r = snap_cd_compare(
	    ext, nold, osz, ext + nold, ne - nold, csz, cs, bits);
	if (r < 0)
		goto out;
	on = snap_chunker_count(osz, cs);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off, ooff;
		uint32_t len, olen;
		bool same = i < on;

		snap_chunker_range(csz, cs, i, &off, &len);
		if (same) {
			snap_chunker_range(osz, cs, i, &ooff, &olen);
			same = len == olen;
		}
		for (uint64_t u = off; same && u < off + len;
		     u += FUZZ_CD_UNIT) {
			const struct snap_cd_extent *a, *b;

			a = fuzz_cd_find(ext, nold, u);
			b = fuzz_cd_find(ext + nold, ne - nold, u);
			if (a == NULL && b == NULL)
				continue;
			same = a != NULL && b != NULL && fuzz_cd_plain(a) &&
			    fuzz_cd_plain(b) &&
			    a->physical + (u - a->logical) ==
			        b->physical + (u - b->logical);
		}
		if (!same) {
			ref[i / 8] |= (uint8_t)(1u << (i % 8));
			count++;
		}
	}
	if ((uint64_t)r != count || memcmp(bits, ref, (size_t)(n + 7) / 8) != 0)
		abort();
out:
	free(bits);
	free(ref);
	return 0;
}
