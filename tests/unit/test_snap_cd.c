/*
 * Unit tests for snap_cd_compare (snap_cd_cmp.c): a chunk is unchanged
 * only when every byte of it is a hole in both images or a plain SHARED
 * extent at the same physical offset in both, and it covers the same
 * bytes in both images; extent lists it cannot trust are refused, and
 * kind names parse.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "runner.h"
#include "snap/snap_cd.h"

#define K64 65536u
#define SH  FIEMAP_EXTENT_SHARED

static bool
bit(const uint8_t *b, uint64_t i)
{
	return (b[i / 8] >> (i % 8)) & 1;
}

static void
test_cd_identical(void)
{
	struct snap_cd_extent e[] = {
		{ 0, 1 << 20, 4 * K64, SH },
		{ 4 * K64, 1 << 20, 2 * K64, SH | FIEMAP_EXTENT_LAST },
	};
	uint8_t b[2];

	T_EQ_INT(snap_cd_compare(e, 2, 6 * K64, e, 2, 6 * K64, K64, b), 0);
	T_EQ_INT(b[0], 0);
	/* Split differently, same blocks: still unchanged. */
	struct snap_cd_extent f[] = {
		{ 0, 1 << 20, K64 + 4096, SH },
		{ K64 + 4096, (1 << 20) + K64 + 4096, 3 * K64 - 4096, SH },
		{ 4 * K64, 1 << 20, 2 * K64, SH | FIEMAP_EXTENT_MERGED },
	};
	T_EQ_INT(snap_cd_compare(e, 2, 6 * K64, f, 3, 6 * K64, K64, b), 0);
}

static void
test_cd_moved_block(void)
{
	/* One 4 KiB block of chunk 2 was rewritten (copy on write). */
	struct snap_cd_extent old[] = { { 0, 1 << 20, 8 * K64, SH } };
	struct snap_cd_extent cur[] = {
		{ 0, 1 << 20, 2 * K64 + 8192, SH },
		{ 2 * K64 + 8192, 9 << 20, 4096, 0 },
		{ 2 * K64 + 12288, (1 << 20) + 2 * K64 + 12288, 6 * K64 - 12288,
		    SH },
	};
	uint8_t b[1];

	T_EQ_INT(snap_cd_compare(old, 1, 8 * K64, cur, 3, 8 * K64, K64, b), 1);
	T_EQ_INT(b[0], 1 << 2);
	/* Same physical but the SHARED flag missing: not trusted. */
	cur[1].physical = (1 << 20) + 2 * K64 + 8192;
	T_EQ_INT(snap_cd_compare(old, 1, 8 * K64, cur, 3, 8 * K64, K64, b), 1);
	cur[1].flags = SH;
	T_EQ_INT(snap_cd_compare(old, 1, 8 * K64, cur, 3, 8 * K64, K64, b), 0);
	/* An extent across a chunk boundary marks both chunks. */
	cur[1].physical = 7 << 20;
	cur[1].logical = 3 * K64 - 4096;
	cur[1].length = 8192;
	cur[0].length = 3 * K64 - 4096;
	cur[2].logical = 3 * K64 + 4096;
	cur[2].physical = (1 << 20) + 3 * K64 + 4096;
	cur[2].length = 5 * K64 - 4096;
	T_EQ_INT(snap_cd_compare(old, 1, 8 * K64, cur, 3, 8 * K64, K64, b), 2);
	T_EQ_INT(b[0], (1 << 2) | (1 << 3));
}

static void
test_cd_doubtful_flags(void)
{
	static const uint32_t doubt[] = {
		FIEMAP_EXTENT_UNKNOWN,
		FIEMAP_EXTENT_DELALLOC,
		FIEMAP_EXTENT_ENCODED,
		FIEMAP_EXTENT_DATA_ENCRYPTED,
		FIEMAP_EXTENT_NOT_ALIGNED,
		FIEMAP_EXTENT_DATA_INLINE,
		FIEMAP_EXTENT_DATA_TAIL,
		FIEMAP_EXTENT_UNWRITTEN,
	};
	struct snap_cd_extent old[] = { { 0, 1 << 20, 4 * K64, SH } };
	struct snap_cd_extent cur[] = {
		{ 0, 1 << 20, K64, SH },
		{ K64, (1 << 20) + K64, K64, SH },
		{ 2 * K64, (1 << 20) + 2 * K64, 2 * K64, SH },
	};
	uint8_t b[1];

	for (size_t i = 0; i < ARRAY_SIZE(doubt); i++) {
		cur[1].flags = SH | doubt[i];
		T_EQ_INT(
		    snap_cd_compare(old, 1, 4 * K64, cur, 3, 4 * K64, K64, b),
		    1);
		T_EQ_INT(b[0], 1 << 1);
		/* In the old list too. */
		old[0].flags = SH | doubt[i];
		cur[1].flags = SH;
		T_EQ_INT(
		    snap_cd_compare(old, 1, 4 * K64, cur, 3, 4 * K64, K64, b),
		    4);
		old[0].flags = SH;
	}
}

static void
test_cd_holes(void)
{
	/* Chunk 0 data, 1 hole in both, 2 hole only in the new (punched),
	 * 3 data only in the new (filled). */
	struct snap_cd_extent old[] = {
		{ 0, 1 << 20, K64, SH },
		{ 2 * K64, (1 << 20) + 2 * K64, K64, SH },
	};
	struct snap_cd_extent cur[] = {
		{ 0, 1 << 20, K64, SH },
		{ 3 * K64, 5 << 20, K64, 0 },
	};
	uint8_t b[1];

	T_EQ_INT(snap_cd_compare(old, 2, 4 * K64, cur, 2, 4 * K64, K64, b), 2);
	T_EQ_INT(b[0], (1 << 2) | (1 << 3));
	/* Empty lists: two sparse files of holes only are the same. */
	T_EQ_INT(
	    snap_cd_compare(NULL, 0, 4 * K64, NULL, 0, 4 * K64, K64, b), 0);
}

static void
test_cd_sizes(void)
{
	struct snap_cd_extent e[] = { { 0, 1 << 20, 8 * K64, SH } };
	uint8_t b[2];

	/* Grown from 2.5 chunks to 4: chunk 2 now covers more, 3 is new. */
	T_EQ_INT(
	    snap_cd_compare(e, 1, 2 * K64 + 100, e, 1, 4 * K64, K64, b), 2);
	T_EQ_INT(b[0], (1 << 2) | (1 << 3));
	/* Shrunk to 1.5 chunks: chunk 1 covers fewer bytes. */
	T_EQ_INT(snap_cd_compare(e, 1, 4 * K64, e, 1, K64 + 5, K64, b), 1);
	T_EQ_INT(b[0], 1 << 1);
	/* Shrunk to whole chunks: what remains is unchanged. */
	T_EQ_INT(snap_cd_compare(e, 1, 4 * K64, e, 1, 2 * K64, K64, b), 0);
	/* Same odd size: the short last chunk is the same. */
	T_EQ_INT(
	    snap_cd_compare(e, 1, 3 * K64 + 7, e, 1, 3 * K64 + 7, K64, b), 0);
	/* Empty new image: no chunks. */
	T_EQ_INT(snap_cd_compare(e, 1, 4 * K64, e, 1, 0, K64, b), 0);
	/* From empty: all new. */
	T_EQ_INT(snap_cd_compare(NULL, 0, 0, e, 1, 9 * K64, K64, b), 9);
	T_ASSERT(bit(b, 8));
}

static void
test_cd_refused(void)
{
	struct snap_cd_extent unsorted[] = {
		{ K64, 0, K64, SH },
		{ 0, 0, K64, SH },
	};
	struct snap_cd_extent overlap[] = {
		{ 0, 0, K64, SH },
		{ K64 - 1, 0, K64, SH },
	};
	struct snap_cd_extent empty[] = { { 0, 0, 0, SH } };
	struct snap_cd_extent wrap[] = { { UINT64_MAX - 10, 0, K64, SH } };
	struct snap_cd_extent pwrap[] = { { 0, UINT64_MAX - 10, K64, SH } };
	struct snap_cd_extent ok[] = { { 0, 0, K64, SH } };
	uint8_t b[1] = { 0xaa };

	T_EQ_INT(
	    snap_cd_compare(ok, 1, K64, unsorted, 2, K64, K64, b), -EINVAL);
	T_EQ_INT(snap_cd_compare(overlap, 2, K64, ok, 1, K64, K64, b), -EINVAL);
	T_EQ_INT(snap_cd_compare(ok, 1, K64, empty, 1, K64, K64, b), -EINVAL);
	T_EQ_INT(snap_cd_compare(ok, 1, K64, wrap, 1, K64, K64, b), -EINVAL);
	T_EQ_INT(snap_cd_compare(pwrap, 1, K64, ok, 1, K64, K64, b), -EINVAL);
	T_EQ_INT(snap_cd_compare(ok, 1, K64, ok, 1, K64, 3000, b), -EINVAL);
	T_EQ_INT(
	    snap_cd_compare(ok, 1, 1ull << 51, ok, 1, K64, K64, b), -EINVAL);
	T_EQ_INT(b[0], 0xaa); /* untouched */
}

static void
test_cd_kind_names(void)
{
	enum snap_cd_kind k;

	T_EQ_INT(snap_cd_kind_parse("auto", &k), 0);
	T_EQ_INT(k, SNAP_CD_AUTO);
	T_EQ_INT(snap_cd_kind_parse("rescan", &k), 0);
	T_EQ_INT(k, SNAP_CD_RESCAN);
	T_EQ_INT(snap_cd_kind_parse("reflink", &k), 0);
	T_EQ_INT(k, SNAP_CD_REFLINK);
	T_EQ_INT(snap_cd_kind_parse("fiemap", &k), -EINVAL);
	T_EQ_STR(snap_cd_kind_name(SNAP_CD_REFLINK), "reflink");
}

static const struct test tests[] = {
	TEST(test_cd_identical),
	TEST(test_cd_moved_block),
	TEST(test_cd_doubtful_flags),
	TEST(test_cd_holes),
	TEST(test_cd_sizes),
	TEST(test_cd_refused),
	TEST(test_cd_kind_names),
};

TEST_MAIN(tests)
