/*
 * vrrp_auth.h - optional HMAC-SHA256 authentication with anti-replay for
 * unicast VRRP adverts. Our own extension: VRRPv3 has no authentication
 * at all, and its TTL=255 rule proves nothing about a unicast peer that
 * may sit several routers away (../shared/reference/vip.md §8.5). It is
 * NOT keepalived-compatible (keepalived's auth_hmac is a different,
 * unreleased design), so it is off by default and must stay off towards
 * keepalived peers.
 *
 * Wire format: a 44-byte trailer follows the VRRP message (v3: after the
 * addresses; v2: after the 8 bytes of auth data), inside the same IP
 * payload. The VRRP checksum covers the message alone, computed as if no
 * trailer followed (its pseudo-header length is the message's), so the
 * message stays a valid advert byte for byte.
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  Type (0xa1)  |    Key ID     |        Reserved (0)           |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |              Sequence number (64 bits, big-endian)            |
 *    |                                                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                HMAC-SHA256 (32 bytes)                         |
 *    ~                                                               ~
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Type 0xa1 is "HMAC-SHA256, trailer version 1"; another value is another
 * format. Reserved is sent as zero and ignored on receipt (the MAC covers
 * it). The MAC is HMAC-SHA256 with the configured key over
 *
 *     source IP || destination IP || VRRP message || trailer bytes 0..11
 *
 * (4 + 4 bytes of address for IPv4, 16 + 16 for IPv6, network order, as
 * the IP header carries them), so an advert cannot be reflected to another
 * peer nor claimed by another source. The sequence number starts at the
 * sender's wall clock in microseconds when the instance starts and grows
 * by one per packet, so a restarted sender begins above anything it sent
 * before (it sends far fewer than one packet per microsecond).
 *
 * The codec functions (append, verify) and the replay rule are pure: no
 * I/O, clock or globals; the caller brings the clocks. Reading the key file
 * is the runtime's (vrrp_rt.c, at apply, in the vrrp process).
 */
#ifndef HAVEN_VRRP_AUTH_H
#define HAVEN_VRRP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vrrp/vrrp_pkt.h"

#define VRRP_AUTH_TYPE_V1 0xa1 /* HMAC-SHA256, trailer version 1 */
#define VRRP_AUTH_MAC_LEN 32
#define VRRP_AUTH_HDR_LEN 12 /* type, key id, reserved, sequence */
#define VRRP_AUTH_TRAILER (VRRP_AUTH_HDR_LEN + VRRP_AUTH_MAC_LEN)
#define VRRP_AUTH_KEY_MIN 16 /* bytes; shorter is guessable */
#define VRRP_AUTH_KEY_MAX 64 /* SHA-256's block: HMAC hashes longer keys */

struct vrrp_auth_key {
	uint8_t id; /* key id on the wire */
	size_t len; /* VRRP_AUTH_KEY_MIN..VRRP_AUTH_KEY_MAX */
	uint8_t bytes[VRRP_AUTH_KEY_MAX];
};

/* What the receiver remembers of one peer, for the replay rule. */
struct vrrp_auth_peer {
	bool heard;        /* accepted at least one advert */
	uint64_t seq;      /* highest sequence accepted */
	uint64_t heard_us; /* monotonic time of that advert */
};

/*
 * One instance's authentication state at run time. peers[i] is
 * conf->peers[i]; a reload keeps the array (a changed peer list makes a
 * new instance, vrrp_inst_same), so sequences survive it.
 */
struct vrrp_auth {
	bool on;
	struct vrrp_auth_key key;
	uint64_t tx_seq;              /* next sequence to send */
	struct vrrp_auth_peer *peers; /* owned: npeers */
	size_t npeers;
};

/*
 * Append the trailer for the msglen-byte VRRP message at buf (already
 * encoded for ip's endpoints) with sequence seq. Returns the new length,
 * msglen + VRRP_AUTH_TRAILER, or -EMSGSIZE if size cannot hold it, or
 * -EINVAL for a family other than AF_INET/AF_INET6 or a key of a length
 * out of range.
 */
int vrrp_auth_append(const struct vrrp_ip *ip, const struct vrrp_auth_key *k,
    uint64_t seq, uint8_t *buf, size_t msglen, size_t size);

/*
 * Whether the len - msglen bytes after the msglen-byte message at buf look
 * like our trailer (the length and type of one), MAC unchecked: how a
 * receiver without auth tells "auth_unexpected" from trailing junk.
 */
bool vrrp_auth_is_trailer(const uint8_t *buf, size_t msglen, size_t len);

/*
 * Verify the trailer after the msglen-byte message at buf (len bytes in
 * all) against key k for ip's endpoints. Returns VRRP_DROP_NONE and sets
 * *seq, or, in this order: VRRP_DROP_AUTH_MISSING (no byte after the
 * message), VRRP_DROP_AUTH_TRAILER (not exactly one trailer, or another
 * type), VRRP_DROP_AUTH_KEY_ID, VRRP_DROP_AUTH_BAD_MAC (compared in
 * constant time). The sequence is not judged here: vrrp_auth_replay.
 */
enum vrrp_drop vrrp_auth_verify(const struct vrrp_ip *ip,
    const struct vrrp_auth_key *k, const uint8_t *buf, size_t msglen,
    size_t len, uint64_t *seq);

/*
 * The anti-replay rule for a verified advert with sequence seq from peer
 * p, at monotonic time now_us and wall time wall_us; down_us is the
 * instance's master-down interval. Accepts (VRRP_DROP_NONE, and p
 * remembers seq and now_us) when seq is above the highest accepted, or
 * when the peer is new. A sequence not above it is VRRP_DROP_AUTH_REPLAY,
 * with one exception for a peer that restarted after its wall clock was
 * stepped back (see vrrp_auth.c): the peer has been silent for more than
 * down_us and seq is within VRRP_AUTH_FRESH_US of our own wall clock.
 */
#define VRRP_AUTH_FRESH_US (60ULL * 1000000) /* clock agreement we assume */
enum vrrp_drop vrrp_auth_replay(struct vrrp_auth_peer *p, uint64_t seq,
    uint64_t now_us, uint64_t wall_us, uint64_t down_us);

/*
 * Take key k (or none: NULL) for an instance with npeers peers; the first
 * time, the send sequence starts at wall_us. Keeps the peer table when
 * its size is unchanged. Never fails.
 */
void vrrp_auth_set(struct vrrp_auth *a, const struct vrrp_auth_key *k,
    size_t npeers, uint64_t wall_us);
/* Free the peer table and wipe the key. */
void vrrp_auth_fini(struct vrrp_auth *a);

#endif
