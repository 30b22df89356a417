/*
 * snap_frame.c - see snap_frame.h.
 */
#define XXH_INLINE_ALL
#include <errno.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>

#include "lib/util.h"
#include "snap/snap_frame.h"

static const uint8_t snap_frame_magic[4] = { 'H', 'V', 'C', 'K' };

void
snap_zctx_fini(struct snap_zctx *z)
{
	ZSTD_freeCCtx(z->c);
	ZSTD_freeDCtx(z->d);
	z->c = z->d = NULL;
}

size_t
snap_frame_bound(size_t raw_len)
{
	return SNAP_FRAME_HDR + MAX(raw_len, ZSTD_compressBound(raw_len));
}

static void
snap_frame_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
snap_frame_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* XXH3-128 of hdr[0..16) then payload, canonical (big-endian) bytes. */
static void
snap_frame_sum(
    const uint8_t *hdr, const void *payload, size_t len, uint8_t out[16])
{
	XXH3_state_t st;
	XXH128_canonical_t c;

	XXH3_128bits_reset(&st);
	XXH3_128bits_update(&st, hdr, 16);
	XXH3_128bits_update(&st, payload, len);
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&st));
	memcpy(out, c.digest, 16);
}

int
snap_frame_encode(struct snap_zctx *z, const void *raw, size_t raw_len,
    int zlevel, void *out, size_t *out_len)
{
	uint8_t *hdr = out, *payload = hdr + SNAP_FRAME_HDR;
	size_t stored = raw_len;
	uint8_t flags = 0;

	if (raw_len == 0 || raw_len > SNAP_FRAME_RAW_MAX)
		return -EINVAL;
	if (zlevel > 0) {
		size_t n;

		if (z->c == NULL && (z->c = ZSTD_createCCtx()) == NULL)
			fatal("snap: ZSTD_createCCtx failed");
		n = ZSTD_compressCCtx(z->c, payload,
		    ZSTD_compressBound(raw_len), raw, raw_len, zlevel);
		/* Kept only when it saves space; an error stores raw. */
		if (!ZSTD_isError(n) && n < raw_len) {
			stored = n;
			flags |= SNAP_FRAME_ZSTD;
		}
	}
	if (!(flags & SNAP_FRAME_ZSTD))
		memcpy(payload, raw, raw_len);
	memcpy(hdr, snap_frame_magic, 4);
	hdr[4] = SNAP_FRAME_VERSION;
	hdr[5] = flags;
	hdr[6] = hdr[7] = 0;
	snap_frame_put32(hdr + 8, (uint32_t)raw_len);
	snap_frame_put32(hdr + 12, (uint32_t)stored);
	snap_frame_sum(hdr, payload, stored, hdr + 16);
	*out_len = SNAP_FRAME_HDR + stored;
	return 0;
}

int
snap_frame_decode(struct snap_zctx *z, const void *frame, size_t len, void *raw,
    size_t cap, size_t *raw_len, const char **why)
{
	const uint8_t *hdr = frame, *payload = hdr + SNAP_FRAME_HDR;
	uint8_t sum[16];
	uint32_t rlen, slen;

	*why = NULL;
	if (len < SNAP_FRAME_HDR) {
		*why = "short frame (truncated header)";
		return -EBADMSG;
	}
	if (memcmp(hdr, snap_frame_magic, 4) != 0) {
		*why = "bad magic";
		return -EBADMSG;
	}
	if (hdr[4] != SNAP_FRAME_VERSION) {
		*why = "unsupported frame version";
		return -EBADMSG;
	}
	if ((hdr[5] & ~SNAP_FRAME_ZSTD) != 0 || hdr[6] != 0 || hdr[7] != 0) {
		*why = "unknown flags";
		return -EBADMSG;
	}
	rlen = snap_frame_get32(hdr + 8);
	slen = snap_frame_get32(hdr + 12);
	if (slen != len - SNAP_FRAME_HDR) {
		*why = "stored length does not match the frame size";
		return -EBADMSG;
	}
	if (rlen == 0 || rlen > SNAP_FRAME_RAW_MAX ||
	    (!(hdr[5] & SNAP_FRAME_ZSTD) && slen != rlen)) {
		*why = "bad raw length";
		return -EBADMSG;
	}
	snap_frame_sum(hdr, payload, slen, sum);
	if (memcmp(sum, hdr + 16, 16) != 0) {
		*why = "checksum mismatch (XXH3-128)";
		return -EBADMSG;
	}
	if (rlen > cap)
		return -EOVERFLOW;
	if (hdr[5] & SNAP_FRAME_ZSTD) {
		size_t n;

		if (z->d == NULL && (z->d = ZSTD_createDCtx()) == NULL)
			fatal("snap: ZSTD_createDCtx failed");
		n = ZSTD_decompressDCtx(z->d, raw, rlen, payload, slen);
		if (ZSTD_isError(n) || n != rlen) {
			*why = "zstd payload does not expand to the raw length";
			return -EBADMSG;
		}
	} else {
		memcpy(raw, payload, rlen);
	}
	*raw_len = rlen;
	return 0;
}
