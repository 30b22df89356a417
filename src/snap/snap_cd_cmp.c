/*
 * snap_cd_cmp.c - the pure half of reflink change detection: two FIEMAP
 * extent lists in, the bitmap of chunks that may have changed out (see
 * snap_cd.h for when a range counts as unchanged).
 *
 * Pure: no I/O, no clock, no globals.
 */
#include <errno.h>
#include <string.h>

#include "lib/util.h"
#include "snap/snap_cd.h"
#include "snap/snap_chunker.h"

/* Sorted, non-overlapping, non-empty, no overflow. */
static bool
snap_cd_cmp_valid(const struct snap_cd_extent *e, size_t n)
{
	uint64_t end = 0;

	for (size_t i = 0; i < n; i++) {
		if (e[i].length == 0 || e[i].logical < end ||
		    e[i].logical > UINT64_MAX - e[i].length ||
		    e[i].physical > UINT64_MAX - e[i].length)
			return false;
		end = e[i].logical + e[i].length;
	}
	return true;
}

static void
snap_cd_cmp_mark(uint8_t *bits, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i <= to; i++)
		bits[i / 8] |= (uint8_t)(1u << (i % 8));
}

static bool
snap_cd_cmp_plain(const struct snap_cd_extent *e)
{
	return (e->flags & FIEMAP_EXTENT_SHARED) != 0 &&
	    (e->flags & SNAP_CD_DOUBT_FLAGS) == 0;
}

/* Is [pos, *next) the same in both? *next is where that answer may end. */
static bool
snap_cd_cmp_seg(const struct snap_cd_extent *a, const struct snap_cd_extent *b,
    uint64_t pos, uint64_t *next)
{
	bool ina = a != NULL && a->logical <= pos;
	bool inb = b != NULL && b->logical <= pos;
	uint64_t end = *next;

	if (a != NULL)
		end = MIN(end, ina ? a->logical + a->length : a->logical);
	if (b != NULL)
		end = MIN(end, inb ? b->logical + b->length : b->logical);
	*next = end;
	if (!ina && !inb)
		return true; /* a hole in both: zeros in both */
	if (!ina || !inb)
		return false;
	return snap_cd_cmp_plain(a) && snap_cd_cmp_plain(b) &&
	    a->physical + (pos - a->logical) ==
	    b->physical + (pos - b->logical);
}

int64_t
snap_cd_compare(const struct snap_cd_extent *old, size_t nold,
    uint64_t old_size, const struct snap_cd_extent *cur, size_t ncur,
    uint64_t cur_size, uint32_t chunk_size, uint8_t *changed)
{
	uint64_t n, nold_chunks, pos = 0, count = 0;
	size_t ia = 0, ib = 0;

	if (!snap_chunker_size_ok(chunk_size) || old_size > SNAP_SIZE_MAX ||
	    cur_size > SNAP_SIZE_MAX || !snap_cd_cmp_valid(old, nold) ||
	    !snap_cd_cmp_valid(cur, ncur))
		return -EINVAL;
	n = snap_chunker_count(cur_size, chunk_size);
	nold_chunks = snap_chunker_count(old_size, chunk_size);
	memset(changed, 0, (size_t)((n + 7) / 8));
	/* A chunk that covers other bytes in the old image is new. */
	for (uint64_t i = n; i > 0; i--) {
		uint64_t off, ooff;
		uint32_t len, olen;

		if (i - 1 < nold_chunks) {
			snap_chunker_range(
			    cur_size, chunk_size, i - 1, &off, &len);
			snap_chunker_range(
			    old_size, chunk_size, i - 1, &ooff, &olen);
			if (len == olen)
				break; /* and every chunk before it too */
		}
		snap_cd_cmp_mark(changed, i - 1, i - 1);
	}
	while (pos < cur_size) {
		const struct snap_cd_extent *a, *b;
		uint64_t next = cur_size;

		while (ia < nold && old[ia].logical + old[ia].length <= pos)
			ia++;
		while (ib < ncur && cur[ib].logical + cur[ib].length <= pos)
			ib++;
		a = ia < nold ? &old[ia] : NULL;
		b = ib < ncur ? &cur[ib] : NULL;
		if (!snap_cd_cmp_seg(a, b, pos, &next))
			snap_cd_cmp_mark(
			    changed, pos / chunk_size, (next - 1) / chunk_size);
		pos = next;
	}
	for (uint64_t i = 0; i < n; i++)
		count += (changed[i / 8] >> (i % 8)) & 1;
	return (int64_t)count;
}
