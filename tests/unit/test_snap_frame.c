/*
 * Unit tests for snap_frame.c: round trips stored and compressed, the
 * compress-only-when-smaller rule, and that every kind of damage (any
 * flipped byte, header or payload, a truncation, an extension, a lying
 * length) is refused with a reason before a byte reaches the caller.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/util.h"
#include "runner.h"
#include "snap/snap_frame.h"

#define TF_LEN 65536

static uint8_t *
test_frame_random(size_t len, uint32_t seed)
{
	uint8_t *p = xmalloc(len);

	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
	return p;
}

/* Encode raw, decode it back, compare; returns the frame's size. */
static size_t
test_frame_round(const uint8_t *raw, size_t len, int zlevel, uint8_t *frame)
{
	struct snap_zctx z = { 0 };
	uint8_t *back = xmalloc(len);
	const char *why = "unset";
	size_t flen = 0, got = 0;

	T_EQ_INT(
	    snap_frame_encode(&z, raw, len, zlevel, NULL, frame, &flen), 0);
	T_ASSERT(flen <= snap_frame_bound(len));
	T_EQ_INT(
	    snap_frame_decode(&z, frame, flen, NULL, back, len, &got, &why), 0);
	T_ASSERT(why == NULL);
	T_EQ_INT(got, len);
	T_ASSERT(memcmp(back, raw, len) == 0);
	snap_zctx_fini(&z);
	free(back);
	return flen;
}

static void
test_frame_stored_and_compressed(void)
{
	uint8_t *rnd = test_frame_random(TF_LEN, 1);
	uint8_t *text = xmalloc(TF_LEN);
	uint8_t *frame = xmalloc(snap_frame_bound(TF_LEN));

	for (size_t i = 0; i < TF_LEN; i++)
		text[i] = "the quick brown fox "[i % 20];
	/* Random data: zstd does not help, so it is stored as is. */
	T_EQ_INT(test_frame_round(rnd, TF_LEN, 0, frame), TF_LEN + 32);
	T_EQ_INT(frame[5], 0);
	T_EQ_INT(
	    test_frame_round(rnd, TF_LEN, SNAP_ZSTD_LEVEL, frame), TF_LEN + 32);
	T_EQ_INT(frame[5], 0);
	/* Text: compressed, and much smaller. */
	T_ASSERT(test_frame_round(text, TF_LEN, SNAP_ZSTD_LEVEL, frame) <
	    TF_LEN / 10);
	T_EQ_INT(frame[5], SNAP_FRAME_ZSTD);
	/* A one-byte chunk (the tail of an odd-sized image). */
	T_EQ_INT(test_frame_round(text, 1, SNAP_ZSTD_LEVEL, frame), 33);
	free(rnd);
	free(text);
	free(frame);
}

static void
test_frame_bad_lengths_encode(void)
{
	struct snap_zctx z = { 0 };
	uint8_t b[64] = { 0 };
	size_t n;

	T_EQ_INT(snap_frame_encode(&z, b, 0, 0, NULL, b, &n), -EINVAL);
	T_EQ_INT(
	    snap_frame_encode(&z, b, SNAP_FRAME_RAW_MAX + 1, 0, NULL, b, &n),
	    -EINVAL);
}

/* Flip every byte of a frame in turn: each flip must be caught. */
static void
test_frame_every_flip_caught(void)
{
	uint8_t *raw = test_frame_random(4096, 7);
	uint8_t *frame = xmalloc(snap_frame_bound(4096));
	uint8_t *out = xmalloc(4096);
	struct snap_zctx z = { 0 };
	for (int zl = 0; zl <= SNAP_ZSTD_LEVEL; zl += SNAP_ZSTD_LEVEL) {
		size_t flen;

		/* Half the bytes repeat, so the zstd pass compresses. */
		memset(raw, 'a', 2048);
		T_EQ_INT(
		    snap_frame_encode(&z, raw, 4096, zl, NULL, frame, &flen),
		    0);
		for (size_t i = 0; i < flen; i++) {
			const char *why = NULL;
			size_t got;

			frame[i] ^= 0x20;
			T_EQ_INT(snap_frame_decode(&z, frame, flen, NULL, out,
			             4096, &got, &why),
			    -EBADMSG);
			T_ASSERT(why != NULL);
			frame[i] ^= 0x20;
		}
	}
	free(raw);
	free(frame);
	free(out);
	snap_zctx_fini(&z);
}

/*
 * Sealed frames: a round trip with the key and ID; another key, another ID
 * (the frame moved to another chunk's name), no key, or a flipped byte
 * with a fixed-up XXH3 are all refused, and the same plaintext seals to
 * the same bytes (deduplication).
 */
static void
test_frame_sealed(void)
{
	uint8_t *raw = test_frame_random(4096, 11);
	uint8_t *frame = xmalloc(snap_frame_bound(4096));
	uint8_t *again = xmalloc(snap_frame_bound(4096));
	uint8_t *out = xmalloc(4096), key[SNAP_FRAME_KEY] = { 1 };
	uint8_t key2[SNAP_FRAME_KEY] = { 2 };
	struct snap_id id = { { 5 } }, id2 = { { 6 } };
	struct snap_frame_seal seal = { key, &id }, other;
	struct snap_zctx z = { 0 };
	const char *why;
	size_t flen, flen2, got;

	for (int zl = 0; zl <= SNAP_ZSTD_LEVEL; zl += SNAP_ZSTD_LEVEL) {
		memset(raw, 'q', 2048);
		T_EQ_INT(
		    snap_frame_encode(&z, raw, 4096, zl, &seal, frame, &flen),
		    0);
		T_ASSERT(frame[5] & SNAP_FRAME_SEALED);
		T_ASSERT(flen <= snap_frame_bound(4096));
		/* The plaintext is not in the frame. */
		T_ASSERT(memmem(frame, flen, raw + 2048, 64) == NULL);
		T_EQ_INT(snap_frame_decode(
		             &z, frame, flen, &seal, out, 4096, &got, &why),
		    0);
		T_ASSERT(got == 4096 && memcmp(out, raw, 4096) == 0);
		T_EQ_INT(
		    snap_frame_encode(&z, raw, 4096, zl, &seal, again, &flen2),
		    0);
		T_ASSERT(flen2 == flen && memcmp(again, frame, flen) == 0);
		other = (struct snap_frame_seal){ key2, &id };
		T_EQ_INT(snap_frame_decode(
		             &z, frame, flen, &other, out, 4096, &got, &why),
		    -EBADMSG);
		T_ASSERT(strstr(why, "authentication") != NULL);
		other = (struct snap_frame_seal){ key, &id2 };
		T_EQ_INT(snap_frame_decode(
		             &z, frame, flen, &other, out, 4096, &got, &why),
		    -EBADMSG);
		T_EQ_INT(snap_frame_decode(
		             &z, frame, flen, NULL, out, 4096, &got, &why),
		    -ENOKEY);
		T_ASSERT(why != NULL);
	}
	free(raw);
	free(frame);
	free(again);
	free(out);
	snap_zctx_fini(&z);
}

static void
test_frame_reasons(void)
{
	uint8_t *raw = test_frame_random(1000, 3);
	uint8_t *frame = xmalloc(snap_frame_bound(1000) + 1);
	uint8_t out[1000];
	struct snap_zctx z = { 0 };
	const char *why;
	size_t flen, got;

	T_EQ_INT(snap_frame_encode(&z, raw, 1000, 0, NULL, frame, &flen), 0);
	T_EQ_INT(snap_frame_decode(&z, frame, 10, NULL, out, 1000, &got, &why),
	    -EBADMSG);
	T_ASSERT(strstr(why, "short") != NULL);
	T_EQ_INT(
	    snap_frame_decode(&z, frame, flen - 1, NULL, out, 1000, &got, &why),
	    -EBADMSG);
	T_ASSERT(strstr(why, "stored length") != NULL);
	frame[flen] = 0;
	T_EQ_INT(
	    snap_frame_decode(&z, frame, flen + 1, NULL, out, 1000, &got, &why),
	    -EBADMSG);
	frame[0] = 'X';
	T_EQ_INT(
	    snap_frame_decode(&z, frame, flen, NULL, out, 1000, &got, &why),
	    -EBADMSG);
	T_EQ_STR(why, "bad magic");
	frame[0] = 'H';
	frame[4] = 2;
	T_EQ_INT(
	    snap_frame_decode(&z, frame, flen, NULL, out, 1000, &got, &why),
	    -EBADMSG);
	T_EQ_STR(why, "unsupported frame version");
	frame[4] = 1;
	frame[500] ^= 1;
	T_EQ_INT(
	    snap_frame_decode(&z, frame, flen, NULL, out, 1000, &got, &why),
	    -EBADMSG);
	T_EQ_STR(why, "checksum mismatch (XXH3-128)");
	frame[500] ^= 1;
	/* A sound frame that does not fit the caller's buffer. */
	T_EQ_INT(snap_frame_decode(&z, frame, flen, NULL, out, 999, &got, &why),
	    -EOVERFLOW);
	T_EQ_INT(
	    snap_frame_decode(&z, frame, flen, NULL, out, 1000, &got, &why), 0);
	snap_zctx_fini(&z);
	free(raw);
	free(frame);
}

static const struct test tests[] = {
	TEST(test_frame_stored_and_compressed),
	TEST(test_frame_bad_lengths_encode),
	TEST(test_frame_every_flip_caught),
	TEST(test_frame_reasons),
	TEST(test_frame_sealed),
};

TEST_MAIN(tests)
