/*
 * snap_frame.c - see snap_frame.h.
 */
#define XXH_INLINE_ALL
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
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
	free(z->buf);
	memset(z, 0, sizeof(*z));
}

/* z's scratch buffer, at least n bytes. */
static uint8_t *
snap_frame_scratch(struct snap_zctx *z, size_t n)
{
	if (z->cap < n) {
		free(z->buf);
		z->buf = xmalloc(n);
		z->cap = n;
	}
	return z->buf;
}

size_t
snap_frame_bound(size_t raw_len)
{
	return SNAP_FRAME_HDR + MAX(raw_len, ZSTD_compressBound(raw_len)) +
	    SNAP_FRAME_TAG;
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
    int zlevel, const struct snap_frame_seal *seal, void *out, size_t *out_len)
{
	uint8_t *hdr = out, *payload = hdr + SNAP_FRAME_HDR;
	/* Sealed: compress into scratch, then encrypt into the payload. */
	uint8_t *zout = seal != NULL ?
	    snap_frame_scratch(z, ZSTD_compressBound(raw_len) + 1) :
	    payload;
	const uint8_t *plain = raw;
	size_t stored = raw_len;
	uint8_t flags = 0;

	if (raw_len == 0 || raw_len > SNAP_FRAME_RAW_MAX)
		return -EINVAL;
	if (zlevel > 0) {
		size_t n;

		if (z->c == NULL && (z->c = ZSTD_createCCtx()) == NULL)
			fatal("snap: ZSTD_createCCtx failed");
		n = ZSTD_compressCCtx(z->c, zout, ZSTD_compressBound(raw_len),
		    raw, raw_len, zlevel);
		/* Kept only when it saves space; an error stores raw. */
		if (!ZSTD_isError(n) && n < raw_len) {
			stored = n;
			plain = zout;
			flags |= SNAP_FRAME_ZSTD;
		}
	}
	if (seal != NULL) {
		unsigned long long clen = 0;

		crypto_aead_xchacha20poly1305_ietf_encrypt(payload, &clen,
		    plain, stored, seal->id->b, SNAP_ID_LEN, NULL, seal->id->b,
		    seal->key);
		stored = (size_t)clen;
		flags |= SNAP_FRAME_SEALED;
	} else if (!(flags & SNAP_FRAME_ZSTD)) {
		memcpy(payload, raw, raw_len);
	}
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

/* Open a sealed payload in place of p[0..*n): into scratch. */
static int
snap_frame_open(struct snap_zctx *z, const struct snap_frame_seal *seal,
    const uint8_t **p, size_t *n, const char **why)
{
	uint8_t *dst = snap_frame_scratch(z, *n);
	unsigned long long mlen = 0;

	if (seal == NULL) {
		*why = "sealed chunk, but this store has no key";
		return -ENOKEY;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(dst, &mlen, NULL, *p, *n,
	        seal->id->b, SNAP_ID_LEN, seal->id->b, seal->key) != 0) {
		*why = "authentication failed (another key, or altered)";
		return -EBADMSG;
	}
	*p = dst;
	*n = (size_t)mlen;
	return 0;
}

int
snap_frame_decode(struct snap_zctx *z, const void *frame, size_t len,
    const struct snap_frame_seal *seal, void *raw, size_t cap, size_t *raw_len,
    const char **why)
{
	const uint8_t *hdr = frame, *payload = hdr + SNAP_FRAME_HDR;
	uint8_t sum[16];
	uint32_t rlen, slen;
	size_t plen;
	bool sealed;
	int e;

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
	if ((hdr[5] & ~(SNAP_FRAME_ZSTD | SNAP_FRAME_SEALED)) != 0 ||
	    hdr[6] != 0 || hdr[7] != 0) {
		*why = "unknown flags";
		return -EBADMSG;
	}
	sealed = (hdr[5] & SNAP_FRAME_SEALED) != 0;
	rlen = snap_frame_get32(hdr + 8);
	slen = snap_frame_get32(hdr + 12);
	if (slen != len - SNAP_FRAME_HDR) {
		*why = "stored length does not match the frame size";
		return -EBADMSG;
	}
	if (rlen == 0 || rlen > SNAP_FRAME_RAW_MAX ||
	    (sealed && slen <= SNAP_FRAME_TAG) ||
	    (!(hdr[5] & SNAP_FRAME_ZSTD) &&
	        slen != rlen + (sealed ? SNAP_FRAME_TAG : 0))) {
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
	plen = slen;
	if (sealed && (e = snap_frame_open(z, seal, &payload, &plen, why)) != 0)
		return e;
	if (hdr[5] & SNAP_FRAME_ZSTD) {
		size_t n;

		if (z->d == NULL && (z->d = ZSTD_createDCtx()) == NULL)
			fatal("snap: ZSTD_createDCtx failed");
		n = ZSTD_decompressDCtx(z->d, raw, rlen, payload, plen);
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
