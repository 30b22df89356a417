/*
 * snap_send.h - the sending side of a replication (`haven snap
 * replicate`): one blocking session over TCP to a receiver (the snap
 * plane of another node's daemon), snap_proto.h's protocol.
 *
 * The sender reads each wanted chunk's stored frame from its own store and
 * proves it before sending (frame XXH3-128, then SHA-256 against the ID),
 * so a damaged local chunk stops the replication instead of travelling;
 * the receiver checks both again. Every socket wait is bounded by
 * timeout_ms; bwlimit paces the chunk bytes.
 */
#ifndef HAVEN_SNAP_SEND_H
#define HAVEN_SNAP_SEND_H

#include <sys/socket.h>

#include <stdint.h>

#include "snap/snap_manifest.h"
#include "snap/snap_proto.h"
#include "snap/snap_store.h"

struct snap_send_opts {
	struct sockaddr_storage to;
	uint8_t psk[SNAP_PROTO_PSK_LEN];
	int timeout_ms;   /* each connect, read or write */
	uint64_t bwlimit; /* bytes/s of chunk frames; 0 = none */
	uint8_t flags;    /* OFFER flags: SNAP_OFFER_FORCE */
};

struct snap_send_stats {
	uint64_t wanted;  /* chunks the receiver asked for */
	uint64_t chunks;  /* sent */
	uint64_t bytes;   /* bytes on the wire, both ways */
	uint64_t payload; /* frame bytes of the chunks sent */
	char reply[SNAP_PROTO_TEXT_MAX + 1]; /* the receiver's OK or ERR */
	uint16_t code; /* SNAP_PROTO_E_* of an ERR; 0 after OK */
};

/*
 * Replicate snapshot m of store s. 0 when the receiver answered OK;
 * -EACCES when the handshake failed (wrong PSK), -ETIMEDOUT, -EREMOTEIO
 * when the receiver answered ERR (st->reply says why), -EBADMSG when a
 * local chunk is damaged, another -errno otherwise; err says why.
 */
int snap_send(struct snap_store *s, const struct snap_manifest *m,
    const struct snap_send_opts *o, struct snap_send_stats *st, char *err,
    size_t errlen);

#endif
