/*
 * fuzz_snap_proto.c - arbitrary bytes against the replication protocol
 * (snap_proto.h). The first input byte picks the way in:
 *
 *   0  the frame decoder on the rest; whatever decodes (and carries no
 *      text, which is sanitised) must re-encode to the same bytes.
 *   1  a receiver's handshake fed the rest as the peer's byte stream, cut
 *      into units by snap_proto_need as the plane cuts it: hostile
 *      HELLOs, AUTHs and record lengths. Without the PSK nothing may ever
 *      reach OPEN.
 *   2  an honest sender and receiver complete the handshake; the rest is
 *      sealed as one frame, opened and decoded: the decoder behind a
 *      real record.
 *   3  as 2, then the rest XORed into a sealed record: any change must
 *      be refused.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "snap/snap_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fz_psk[32] = { 0x42, 0x17 };

static void
fuzz_snap_proto_decode(const uint8_t *p, size_t n)
{
	struct snap_msg m;
	struct buf b;
	const char *why;
	uint8_t *in = xmalloc(n ? n : 1);
	int e;

	memcpy(in, p, n);
	e = snap_msg_decode(in, n, &m, &why);
	if (e != 0 && why == NULL)
		abort();
	if (e == 0 && m.type != SNAP_MSG_OK && m.type != SNAP_MSG_ERR) {
		buf_init(&b);
		if (m.type == SNAP_MSG_OFFER)
			snap_msg_offer(&b, m.volume, m.id, m.flags, m.manifest,
			    m.manifest_len);
		else if (m.type == SNAP_MSG_WANT)
			snap_msg_want(
			    &b, (const struct snap_id *)m.ids, m.nids);
		else if (m.type == SNAP_MSG_CHUNK)
			snap_msg_chunk(&b, &m.chunk, m.frame, m.frame_len);
		else
			snap_msg_commit(&b, m.sent);
		if (b.len != n || memcmp(b.data, in, n) != 0)
			abort();
		buf_fini(&b);
	}
	free(in);
}

static void
fuzz_snap_proto_stream(const uint8_t *p, size_t n)
{
	static uint8_t frame[SNAP_PROTO_FRAME_MAX];
	uint8_t nonce[32] = { 7 };
	struct snap_proto r;
	size_t off = 0, flen;

	snap_proto_init(&r, SNAP_ROLE_RECEIVER, fz_psk, nonce);
	while (r.state != SNAP_PS_DEAD) {
		long need = snap_proto_need(&r, p + off, n - off);
		uint8_t *u;

		if (need < 0 || (size_t)need > n - off)
			break;
		u = xmalloc((size_t)need);
		memcpy(u, p + off, (size_t)need);
		if (r.state == SNAP_PS_HELLO)
			(void)snap_proto_on_hello(&r, u, (size_t)need);
		else if (r.state == SNAP_PS_AUTH)
			(void)snap_proto_on_auth(&r, u, (size_t)need);
		else
			(void)snap_proto_open(
			    &r, u, (size_t)need, frame, &flen);
		free(u);
		off += (size_t)need;
		/* No tag can be right without the PSK's BLAKE2b output. */
		if (r.state == SNAP_PS_OPEN)
			abort();
	}
}

static void
fuzz_snap_proto_sealed(const uint8_t *p, size_t n, bool flip)
{
	static uint8_t frame[SNAP_PROTO_FRAME_MAX];
	uint8_t ns[32] = { 1 }, nr[32] = { 2 };
	struct snap_proto s, r;
	struct snap_msg m;
	const char *why;
	struct buf b;
	size_t flen = 0;
	bool changed = false;
	int e;

	snap_proto_init(&s, SNAP_ROLE_SENDER, fz_psk, ns);
	snap_proto_init(&r, SNAP_ROLE_RECEIVER, fz_psk, nr);
	if (snap_proto_on_hello(
	        &s, snap_proto_hello(&r), SNAP_PROTO_HELLO_LEN) != 0 ||
	    snap_proto_on_hello(
	        &r, snap_proto_hello(&s), SNAP_PROTO_HELLO_LEN) != 0 ||
	    snap_proto_on_auth(&s, r.auth_out, SNAP_PROTO_AUTH_LEN) != 0 ||
	    snap_proto_on_auth(&r, s.auth_out, SNAP_PROTO_AUTH_LEN) != 0)
		abort();
	buf_init(&b);
	if (!flip && n == 0) {
		/* Every frame has its type byte: no empty record exists. */
	} else if (!flip) {
		snap_proto_seal(&s, p, n, &b);
		if (snap_proto_open(
		        &r, (uint8_t *)b.data, b.len, frame, &flen) != 0 ||
		    flen != n || memcmp(frame, p, n) != 0)
			abort();
		(void)snap_msg_decode(frame, flen, &m, &why);
	} else {
		snap_proto_seal(&s, "CHUNK", 5, &b);
		for (size_t i = 0; i < n; i++)
			b.data[i % b.len] ^= (char)p[i];
		/* XORs that cancel out leave the record as it was. */
		for (size_t i = 0; i < b.len; i++) {
			uint8_t x = 0;

			for (size_t j = i; j < n; j += b.len)
				x ^= p[j];
			changed |= x != 0;
		}
		e = snap_proto_open(&r, (uint8_t *)b.data, b.len, frame, &flen);
		if (changed && e == 0)
			abort();
		if (!changed && e != 0)
			abort();
	}
	buf_fini(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;

	if (!init) {
		if (sodium_init() < 0)
			abort();
		init = true;
	}
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		fuzz_snap_proto_decode(data + 1, size - 1);
		break;
	case 1:
		fuzz_snap_proto_stream(data + 1, size - 1);
		break;
	case 2:
		fuzz_snap_proto_sealed(data + 1, size - 1, false);
		break;
	default:
		fuzz_snap_proto_sealed(data + 1, size - 1, true);
		break;
	}
	return 0;
}
