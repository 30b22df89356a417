/*
 * snap_frame.h - the on-disk frame of one stored chunk.
 *
 * Layout (little-endian), SNAP_FRAME_HDR bytes of header then the payload:
 *
 *	0  magic "HVCK"
 *	4  version (1)
 *	5  flags (SNAP_FRAME_ZSTD: the plaintext was compressed to one zstd
 *	   frame; SNAP_FRAME_SEALED: the payload is that, encrypted)
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
 * Sealed frames (a store with a key, snap_store.h): the (maybe compressed)
 * bytes are encrypted with XChaCha20-Poly1305 under the store's chunk key,
 * the chunk ID as associated data and its first 24 bytes as the nonce. A
 * sealed store's IDs are BLAKE2b keyed with another subkey of the same
 * key, a PRF of the plaintext, so a nonce repeats only for the same
 * plaintext, which seals to the same bytes (deduplication still works,
 * and equal ciphertexts reveal nothing the equal IDs did not already).
 * The XXH3-128 covers the ciphertext: bit rot is found before the key is
 * used, and a frame moved to another ID fails its tag.
 *
 * Pure apart from the zstd contexts and scratch buffer the caller owns
 * (struct snap_zctx): no I/O, no clock, no globals.
 */
#ifndef HAVEN_SNAP_FRAME_H
#define HAVEN_SNAP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "snap/snap_id.h"

#define SNAP_FRAME_HDR     32
#define SNAP_FRAME_VERSION 1
#define SNAP_FRAME_ZSTD    0x01u
#define SNAP_FRAME_SEALED  0x02u
#define SNAP_FRAME_TAG     16 /* crypto_aead_xchacha20poly1305_ietf_ABYTES */
#define SNAP_FRAME_KEY     32
#define SNAP_FRAME_RAW_MAX (4u << 20) /* largest chunk: 4 MiB */
#define SNAP_ZSTD_LEVEL    3          /* --compress */

/* zstd contexts, created on first use; one per thread of work. */
struct snap_zctx {
	void *c;      /* owned: ZSTD_CCtx */
	void *d;      /* owned: ZSTD_DCtx */
	uint8_t *buf; /* owned: scratch for sealed frames, cap bytes */
	size_t cap;
};

/* What seals a chunk: the store's chunk key and the chunk's ID. */
struct snap_frame_seal {
	const uint8_t *key;       /* borrowed: SNAP_FRAME_KEY bytes */
	const struct snap_id *id; /* borrowed: nonce and associated data */
};

void snap_zctx_fini(struct snap_zctx *z);

/* Room encode needs for a chunk of raw_len bytes. */
size_t snap_frame_bound(size_t raw_len);

/*
 * Frame raw[0..raw_len) into out (at least snap_frame_bound(raw_len)
 * bytes). zlevel 0 stores the bytes as they are; otherwise zstd at that
 * level is tried and kept only when it is smaller. seal (NULL: none)
 * encrypts the payload. *out_len gets the frame's size. Returns 0 or
 * -EINVAL (raw_len 0 or above SNAP_FRAME_RAW_MAX).
 */
int snap_frame_encode(struct snap_zctx *z, const void *raw, size_t raw_len,
    int zlevel, const struct snap_frame_seal *seal, void *out, size_t *out_len);

/*
 * Check frame[0..len) and write its plaintext into raw (cap bytes); a
 * sealed frame is opened with seal. Returns 0 with *raw_len set, or
 * -EBADMSG with *why a static reason ("bad magic", "checksum mismatch",
 * "authentication failed", ...), -ENOKEY (with *why) for a sealed frame
 * and no seal, or -EOVERFLOW when the plaintext would not fit in cap.
 */
int snap_frame_decode(struct snap_zctx *z, const void *frame, size_t len,
    const struct snap_frame_seal *seal, void *raw, size_t cap, size_t *raw_len,
    const char **why);

#endif
