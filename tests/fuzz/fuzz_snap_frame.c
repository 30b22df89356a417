/*
 * fuzz_snap_frame.c - arbitrary bytes as a stored chunk file: the frame
 * decoder must refuse or accept without crashing or writing past the
 * caller's buffer. When the first input byte is odd, the checksum field is
 * recomputed first, so the fuzzer gets past XXH3-128 and reaches the length
 * checks and zstd with hostile payloads and lying lengths. When bit 2 is
 * set, a fixed key and chunk ID open sealed frames (XChaCha20-Poly1305:
 * a forged one must fail its tag, never crash). Whatever decodes must
 * re-encode, sealed or not, and decode to the same plaintext.
 */
#define XXH_INLINE_ALL
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lib/util.h"
#include "snap/snap_frame.h"

#define FUZZ_CAP (256u << 10) /* a smaller room than the largest chunk */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fz_key[SNAP_FRAME_KEY] = { 7, 1, 9 };
static const struct snap_id fz_id = { { 0xab, 0xcd } };
static const struct snap_frame_seal fz_seal = { fz_key, &fz_id };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct snap_frame_seal *seal;
	static struct snap_zctx z;
	static uint8_t *raw, *back, *frame;
	uint8_t *in;
	const char *why;
	size_t len = 0, flen, blen;
	int e;

	if (raw == NULL) {
		raw = xmalloc(FUZZ_CAP);
		back = xmalloc(FUZZ_CAP);
		frame = xmalloc(snap_frame_bound(FUZZ_CAP));
	}
	if (size < 1)
		return 0;
	/* An exact-size copy, so ASan sees any read past the frame. */
	in = xmalloc(size - 1 ? size - 1 : 1);
	memcpy(in, data + 1, size - 1);
	if ((data[0] & 1) && size - 1 >= SNAP_FRAME_HDR) {
		XXH3_state_t st;
		XXH128_canonical_t c;

		XXH3_128bits_reset(&st);
		XXH3_128bits_update(&st, in, 16);
		XXH3_128bits_update(
		    &st, in + SNAP_FRAME_HDR, size - 1 - SNAP_FRAME_HDR);
		XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&st));
		memcpy(in + 16, c.digest, 16);
	}
	seal = (data[0] & 4) ? &fz_seal : NULL;
	e = snap_frame_decode(
	    &z, in, size - 1, seal, raw, FUZZ_CAP, &len, &why);
	if ((e == -EBADMSG || e == -ENOKEY) && why == NULL)
		abort();
	if (e == 0) {
		if (len == 0 || len > FUZZ_CAP)
			abort();
		if (snap_frame_encode(&z, raw, len, data[0] & 2 ? 3 : 0, seal,
		        frame, &flen) != 0 ||
		    snap_frame_decode(&z, frame, flen, seal, back, FUZZ_CAP,
		        &blen, &why) != 0 ||
		    blen != len || memcmp(back, raw, len) != 0)
			abort();
	}
	free(in);
	return 0;
}
