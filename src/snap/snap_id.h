/*
 * snap_id.h - chunk IDs and the names of the snapshot store.
 *
 * A chunk ID is the SHA-256 of the chunk's plaintext (OpenSSL EVP, which
 * uses SHA-NI where the CPU has it), or in a store with a key (sealed,
 * snap_store.h) the BLAKE2b-256 of it keyed with a subkey, so that IDs
 * say nothing about the contents to someone without the key. The all-zero ID is
 * reserved for a chunk whose bytes are all zero (or a hole): such chunks are
 * never stored, so no real chunk can claim that ID without a SHA-256 preimage
 * of 32 zero bytes. Volume names and snapshot IDs become path components of the
 * store, so their syntax is checked here, once, for every caller: no '/', no
 * leading
 * '.', a bounded length.
 *
 * Pure: no I/O, no clock, no globals.
 */
#ifndef HAVEN_SNAP_ID_H
#define HAVEN_SNAP_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAP_ID_LEN   32 /* SHA-256 */
#define SNAP_HEX_LEN  64 /* its hex form, without the NUL */
#define SNAP_NAME_MAX 64 /* volume names and snapshot IDs */

struct snap_id {
	uint8_t b[SNAP_ID_LEN];
};

/* *id = SHA-256(p, len). */
void snap_id_of(const void *p, size_t len, struct snap_id *id);
/* *id = BLAKE2b-256 keyed with key (32 bytes) over p: a sealed store's. */
void snap_id_keyed(
    const uint8_t *key, const void *p, size_t len, struct snap_id *id);
/* True for the reserved all-zero ID (a zero chunk). */
bool snap_id_is_zero(const struct snap_id *id);
/* Lowercase hex into out[SNAP_HEX_LEN + 1]. */
void snap_id_hex(const struct snap_id *id, char *out);
/* Parse exactly SNAP_HEX_LEN lowercase hex digits. 0 or -EINVAL. */
int snap_id_parse(const char *s, size_t len, struct snap_id *id);
int snap_id_cmp(const struct snap_id *a, const struct snap_id *b);

/*
 * A volume name or snapshot ID: 1..SNAP_NAME_MAX of [A-Za-z0-9._-], not
 * starting with '.' or '-'. len is the candidate's length (it need not be
 * NUL-terminated).
 */
bool snap_name_ok(const char *s, size_t len);

#endif
