/*
 * snap_frame.h - the on-disk frame of one stored chunk.
 *
 * Layout (little-endian), SNAP_FRAME_HDR bytes of header then the payload:
 *
 *	0  magic "HVCK"
 *	4  version (1)
 *	5  flags (SNAP_FRAME_ZSTD: payload is one zstd frame)
 *	6  reserved, 0
 *	8  raw length (the chunk's plaintext)
 *	12 stored length (the payload)
 *	16 XXH3-128 of header bytes 0..15 followed by the payload
 *
 * The checksum covers the length and flag fields too, so a flipped bit in
 * the header is caught like one in the data. Decoding trusts nothing: every
 * field is checked against the frame's real size and the caller's buffer
 * before a byte is copied, and a zstd payload must expand to exactly the raw
 * length. The SHA-256 of the decoded plaintext (the chunk ID) is the
 * caller's second check; the frame only proves the stored bytes are the
 * ones written.
 *
 * Pure apart from the zstd contexts the caller owns (struct snap_zctx): no
 * I/O, no clock, no globals.
 */
#ifndef HAVEN_SNAP_FRAME_H
#define HAVEN_SNAP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_FRAME_HDR     32
#define SNAP_FRAME_VERSION 1
#define SNAP_FRAME_ZSTD    0x01u
#define SNAP_FRAME_RAW_MAX (4u << 20) /* largest chunk: 4 MiB */
#define SNAP_ZSTD_LEVEL    3          /* --compress */

/* zstd contexts, created on first use; one per thread of work. */
struct snap_zctx {
	void *c; /* owned: ZSTD_CCtx */
	void *d; /* owned: ZSTD_DCtx */
};

void snap_zctx_fini(struct snap_zctx *z);

/* Room encode needs for a chunk of raw_len bytes. */
size_t snap_frame_bound(size_t raw_len);

/*
 * Frame raw[0..raw_len) into out (at least snap_frame_bound(raw_len)
 * bytes). zlevel 0 stores the bytes as they are; otherwise zstd at that
 * level is tried and kept only when it is smaller. *out_len gets the frame's
 * size. Returns 0 or -EINVAL (raw_len 0 or above SNAP_FRAME_RAW_MAX).
 */
int snap_frame_encode(struct snap_zctx *z, const void *raw, size_t raw_len,
    int zlevel, void *out, size_t *out_len);

/*
 * Check frame[0..len) and write its plaintext into raw (cap bytes).
 * Returns 0 with *raw_len set, or -EBADMSG with *why a static reason
 * ("bad magic", "checksum mismatch", ...), or -EOVERFLOW when the plaintext
 * would not fit in cap.
 */
int snap_frame_decode(struct snap_zctx *z, const void *frame, size_t len,
    void *raw, size_t cap, size_t *raw_len, const char **why);

#endif
