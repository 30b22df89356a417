/*
 * snap_proto.h - the snapshot replication protocol (sender: `haven snap
 * replicate`, receiver: the snap plane), version 1.
 *
 * On the wire, over one TCP connection:
 *
 *   1. HELLO, both sides at once, in clear, SNAP_PROTO_HELLO_LEN bytes:
 *	0  magic "HVRP"
 *	4  version (1)
 *	5  role (1 sender, 2 receiver)
 *	6  reserved, 0 (2 bytes)
 *	8  nonce, 32 random bytes
 *
 *   2. AUTH, both sides, SNAP_PROTO_AUTH_LEN bytes: a 32-byte tag, then
 *      the 24-byte header of the sender's crypto_secretstream (its half of
 *      the session). With T = sender's HELLO || receiver's HELLO, each key
 *      is BLAKE2b-256 keyed with the pre-shared key over a label and T:
 *	"auth-s", "auth-r": the tag keys of each role
 *	"data-s", "data-r": the secretstream keys of each direction
 *      and a side's tag is BLAKE2b-256 keyed with its role's tag key over
 *      T || its secretstream header. Both nonces are in T, so a recorded
 *      session replays into nothing; the roles' keys differ, so a tag
 *      cannot be reflected. A peer without the PSK never gets past AUTH.
 *
 *   3. RECORDS, each way: u32 LE length, then that many bytes of one
 *      secretstream message (the encrypted frame + SNAP_PROTO_ABYTES).
 *      The stream numbers its messages, so a replayed, dropped, reordered
 *      or altered record fails to open and ends the session.
 *
 * Frames (a record's plaintext), little-endian, one type byte first:
 *	OFFER  u8 flags, u16 vlen, volume, u16 ilen, id, u32 mlen,
 *	       manifest text; flags: SNAP_OFFER_FORCE
 *	WANT   u32 n, n chunk IDs (32 bytes each): what the receiver lacks
 *	CHUNK  chunk ID, u32 flen, the chunk's stored frame (snap_frame.h)
 *	COMMIT u64 chunks sent
 *	OK     u16 tlen, text
 *	ERR    u16 code (SNAP_PROTO_E_*), u16 tlen, text
 * Every length is checked against the bytes that are there and against
 * its bound before anything is read; a frame with bytes left over is bad.
 *
 * Pure apart from libsodium's random bytes (the secretstream header): no
 * I/O, no clock, no globals. The nonces come from the caller.
 */
#ifndef HAVEN_SNAP_PROTO_H
#define HAVEN_SNAP_PROTO_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "snap/snap_frame.h"
#include "snap/snap_id.h"

#define SNAP_PROTO_VERSION   2
#define SNAP_PROTO_HELLO_LEN 40
#define SNAP_PROTO_NONCE_LEN 32
#define SNAP_PROTO_PSK_LEN   32
#define SNAP_PROTO_TAG_LEN   32
#define SNAP_PROTO_AUTH_LEN                                                    \
	(SNAP_PROTO_TAG_LEN + crypto_secretstream_xchacha20poly1305_HEADERBYTES)
#define SNAP_PROTO_ABYTES    crypto_secretstream_xchacha20poly1305_ABYTES
/* Largest frame: a CHUNK of the largest chunk, or a manifest / WANT list
 * of about 128k chunks (8 GiB at 64 KiB chunks). */
#define SNAP_PROTO_FRAME_MAX (9u << 20)
#define SNAP_PROTO_REC_MAX   (SNAP_PROTO_FRAME_MAX + SNAP_PROTO_ABYTES)
#define SNAP_PROTO_TEXT_MAX  512

enum snap_proto_role {
	SNAP_ROLE_SENDER = 1,
	SNAP_ROLE_RECEIVER = 2,
};

enum snap_proto_state {
	SNAP_PS_HELLO, /* waiting for the peer's HELLO */
	SNAP_PS_AUTH,  /* waiting for the peer's AUTH */
	SNAP_PS_OPEN,  /* records both ways */
	SNAP_PS_DEAD,  /* a check failed: nothing more is accepted */
};

enum snap_msg_type {
	SNAP_MSG_OFFER = 1,
	SNAP_MSG_WANT = 2,
	SNAP_MSG_CHUNK = 3,
	SNAP_MSG_COMMIT = 4,
	SNAP_MSG_OK = 5,
	SNAP_MSG_ERR = 6,
};

/* ERR codes. */
enum snap_proto_err {
	SNAP_PROTO_E_PROTO = 1,      /* a frame out of order or malformed */
	SNAP_PROTO_E_MANIFEST = 2,   /* the offered manifest does not parse */
	SNAP_PROTO_E_CHUNK = 3,      /* a chunk failed its checks, or unasked */
	SNAP_PROTO_E_STORE = 4,      /* the receiver's store failed */
	SNAP_PROTO_E_EXISTS = 5,     /* same snapshot ID, other content */
	SNAP_PROTO_E_BUSY = 6,       /* too many sessions, store locked */
	SNAP_PROTO_E_INCOMPLETE = 7, /* COMMIT before every wanted chunk */
	SNAP_PROTO_E_NOSNAP = 8,     /* (sender side) nothing to send */
	SNAP_PROTO_E_ROLE = 9,       /* the volume is primary on the receiver */
	SNAP_PROTO_E_DIVERGED = 10, /* the receiver's head is not an ancestor */
};

/*
 * OFFER flags. FORCE is the operator's choice after a DIVERGED refusal:
 * the receiver follows the sender, and keeps its own snapshots that are
 * not in the offered lineage under another volume name (snap_recv.h).
 */
#define SNAP_OFFER_FORCE 0x01
#define SNAP_OFFER_FLAGS SNAP_OFFER_FORCE

struct snap_proto {
	enum snap_proto_role role;
	enum snap_proto_state state;
	uint8_t psk[SNAP_PROTO_PSK_LEN];
	uint8_t hello[2]
	             [SNAP_PROTO_HELLO_LEN]; /* [0] sender's, [1] receiver's */
	uint8_t tag_key[2][32];              /* [0] sender's, [1] receiver's */
	uint8_t data_key[2][32];
	uint8_t auth_out[SNAP_PROTO_AUTH_LEN];
	crypto_secretstream_xchacha20poly1305_state tx, rx;
};

/* A decoded frame. Pointers are borrowed from the record's plaintext. */
struct snap_msg {
	enum snap_msg_type type;
	uint8_t flags;                  /* OFFER */
	char volume[SNAP_NAME_MAX + 1]; /* OFFER */
	char id[SNAP_NAME_MAX + 1];     /* OFFER */
	const char *manifest;           /* OFFER */
	size_t manifest_len;
	const uint8_t *ids; /* WANT: n * SNAP_ID_LEN bytes */
	uint32_t nids;
	struct snap_id chunk; /* CHUNK */
	const uint8_t *frame; /* CHUNK */
	size_t frame_len;
	uint64_t sent;                      /* COMMIT */
	uint16_t code;                      /* ERR */
	char text[SNAP_PROTO_TEXT_MAX + 1]; /* OK, ERR */
};

/*
 * Start a session of role with the pre-shared key and this side's random
 * nonce; the HELLO to send is then p->hello[role - 1].
 */
void snap_proto_init(struct snap_proto *p, enum snap_proto_role role,
    const uint8_t psk[SNAP_PROTO_PSK_LEN],
    const uint8_t nonce[SNAP_PROTO_NONCE_LEN]);
/* This side's HELLO. */
const uint8_t *snap_proto_hello(const struct snap_proto *p);
/*
 * Take the peer's HELLO (exactly SNAP_PROTO_HELLO_LEN bytes). Derives the
 * keys and prepares this side's AUTH (p->auth_out). 0, or -EPROTO (bad
 * magic, version or role; the state becomes DEAD).
 */
int snap_proto_on_hello(struct snap_proto *p, const uint8_t *in, size_t len);
/*
 * Take the peer's AUTH. 0, or -EACCES when its tag is wrong (another PSK,
 * or an altered HELLO): DEAD.
 */
int snap_proto_on_auth(struct snap_proto *p, const uint8_t *in, size_t len);
/*
 * How many bytes the next unit from the peer needs, given the avail bytes
 * at in: the HELLO, the AUTH, or a record (its length prefix decides).
 * Returns that total (> avail means read more), or -EMSGSIZE when a record
 * claims more than SNAP_PROTO_REC_MAX (or less than the tag).
 */
long snap_proto_need(
    const struct snap_proto *p, const uint8_t *in, size_t avail);
/* Encrypt frame[0..len) as one record appended to out. */
void snap_proto_seal(
    struct snap_proto *p, const void *frame, size_t len, struct buf *out);
/*
 * Open one whole record rec[0..len) (prefix included, as
 * snap_proto_need measured it) into frame (SNAP_PROTO_FRAME_MAX bytes).
 * 0 with *flen, or -EBADMSG (forged, replayed, reordered: DEAD).
 */
int snap_proto_open(struct snap_proto *p, const uint8_t *rec, size_t len,
    uint8_t *frame, size_t *flen);

/* Frame codec. Encoders append one frame's plaintext to out. */
void snap_msg_offer(struct buf *out, const char *volume, const char *id,
    uint8_t flags, const char *manifest, size_t mlen);
void snap_msg_want(struct buf *out, const struct snap_id *ids, uint32_t n);
void snap_msg_chunk(
    struct buf *out, const struct snap_id *id, const void *frame, size_t flen);
void snap_msg_commit(struct buf *out, uint64_t sent);
void snap_msg_ok(struct buf *out, const char *text);
void snap_msg_err(struct buf *out, uint16_t code, const char *text);
/*
 * Decode p[0..len) into *m. 0, or -EBADMSG with *why a static reason
 * (unknown type, a length past the end or its bound, trailing bytes, a
 * bad volume or snapshot name).
 */
int snap_msg_decode(
    const uint8_t *p, size_t len, struct snap_msg *m, const char **why);

/* Static name of a frame type ("OFFER"), "?" for others. */
const char *snap_msg_name(unsigned type);

/*
 * Read a PSK file: 32 raw bytes, or 64 hex digits (a trailing newline
 * allowed). Refuses a file others can read or write. 0, or -errno with
 * a reason in err.
 */
int snap_proto_psk_load(const char *path, uint8_t psk[SNAP_PROTO_PSK_LEN],
    char *err, size_t errlen);

#endif
