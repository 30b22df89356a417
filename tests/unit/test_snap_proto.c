/*
 * Unit tests for snap_proto.c and snap_recv.c: the handshake succeeds
 * only with the same PSK, and fails on both sides when it differs; a
 * replayed, reordered, truncated or altered record is refused; a tag is
 * not reflectable; the frame codec round-trips and refuses every
 * truncation; and a receiving session asks only for the chunks its store
 * lacks, refuses unasked or forged chunks, and publishes only on a
 * complete COMMIT.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "runner.h"
#include "snap/snap.h"
#include "snap/snap_proto.h"
#include "snap/snap_recv.h"
#include "snap/snap_send.h"
#include "snap/snap_vol.h"

static const uint8_t tp_psk[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

/* Run both handshakes against each other; 0 when both sides are OPEN. */
static int
test_proto_pair(struct snap_proto *s, struct snap_proto *r, const uint8_t *spsk,
    const uint8_t *rpsk)
{
	uint8_t ns[32] = { 0xaa }, nr[32] = { 0xbb };
	int es, er;

	snap_proto_init(s, SNAP_ROLE_SENDER, spsk, ns);
	snap_proto_init(r, SNAP_ROLE_RECEIVER, rpsk, nr);
	T_EQ_INT(
	    snap_proto_on_hello(s, snap_proto_hello(r), SNAP_PROTO_HELLO_LEN),
	    0);
	T_EQ_INT(
	    snap_proto_on_hello(r, snap_proto_hello(s), SNAP_PROTO_HELLO_LEN),
	    0);
	es = snap_proto_on_auth(s, r->auth_out, SNAP_PROTO_AUTH_LEN);
	er = snap_proto_on_auth(r, s->auth_out, SNAP_PROTO_AUTH_LEN);
	T_EQ_INT(es, er);
	return es;
}

/* Seal text with from, open it with to; 0 and the same bytes, or -errno. */
static int
test_proto_xfer(
    struct snap_proto *from, struct snap_proto *to, const char *text)
{
	uint8_t *frame = xmalloc(SNAP_PROTO_FRAME_MAX);
	struct buf b;
	size_t flen = 0;
	int e;

	buf_init(&b);
	snap_proto_seal(from, text, strlen(text), &b);
	T_EQ_INT(snap_proto_need(to, (uint8_t *)b.data, b.len), (long)b.len);
	e = snap_proto_open(to, (uint8_t *)b.data, b.len, frame, &flen);
	if (e == 0) {
		T_EQ_INT(flen, strlen(text));
		T_ASSERT(memcmp(frame, text, flen) == 0);
	}
	buf_fini(&b);
	free(frame);
	return e;
}

static void
test_proto_handshake_ok(void)
{
	struct snap_proto s, r;

	T_EQ_INT(test_proto_pair(&s, &r, tp_psk, tp_psk), 0);
	T_EQ_INT(s.state, SNAP_PS_OPEN);
	T_EQ_INT(r.state, SNAP_PS_OPEN);
	T_EQ_INT(test_proto_xfer(&s, &r, "offer"), 0);
	T_EQ_INT(test_proto_xfer(&r, &s, "want"), 0);
	T_EQ_INT(test_proto_xfer(&s, &r, "chunk"), 0);
}

static void
test_proto_wrong_psk_both_ways(void)
{
	uint8_t other[32];
	struct snap_proto s, r;

	memcpy(other, tp_psk, 32);
	other[31] ^= 0x80;
	T_EQ_INT(test_proto_pair(&s, &r, tp_psk, other), -EACCES);
	T_EQ_INT(s.state, SNAP_PS_DEAD);
	T_EQ_INT(r.state, SNAP_PS_DEAD);
	/* A dead session opens nothing. */
	T_EQ_INT(snap_proto_need(&r, NULL, 0), -EPROTO);
}

static void
test_proto_bad_hello(void)
{
	struct snap_proto s, r;
	uint8_t ns[32] = { 1 }, nr[32] = { 2 }, h[SNAP_PROTO_HELLO_LEN];

	snap_proto_init(&s, SNAP_ROLE_SENDER, tp_psk, ns);
	snap_proto_init(&r, SNAP_ROLE_RECEIVER, tp_psk, nr);
	/* Same role on both ends, bad magic, bad version, short. */
	T_EQ_INT(
	    snap_proto_on_hello(&r, snap_proto_hello(&r), SNAP_PROTO_HELLO_LEN),
	    -EPROTO);
	snap_proto_init(&r, SNAP_ROLE_RECEIVER, tp_psk, nr);
	memcpy(h, snap_proto_hello(&s), sizeof(h));
	h[0] = 'X';
	T_EQ_INT(snap_proto_on_hello(&r, h, sizeof(h)), -EPROTO);
	snap_proto_init(&r, SNAP_ROLE_RECEIVER, tp_psk, nr);
	memcpy(h, snap_proto_hello(&s), sizeof(h));
	h[4] = 9;
	T_EQ_INT(snap_proto_on_hello(&r, h, sizeof(h)), -EPROTO);
	snap_proto_init(&r, SNAP_ROLE_RECEIVER, tp_psk, nr);
	T_EQ_INT(snap_proto_on_hello(&r, snap_proto_hello(&s), 39), -EPROTO);
}

/* A HELLO altered in flight (another nonce) breaks both tags. */
static void
test_proto_tampered_hello(void)
{
	struct snap_proto s, r;
	uint8_t ns[32] = { 1 }, nr[32] = { 2 }, h[SNAP_PROTO_HELLO_LEN];

	snap_proto_init(&s, SNAP_ROLE_SENDER, tp_psk, ns);
	snap_proto_init(&r, SNAP_ROLE_RECEIVER, tp_psk, nr);
	memcpy(h, snap_proto_hello(&s), sizeof(h));
	h[20] ^= 1;
	T_EQ_INT(snap_proto_on_hello(&r, h, sizeof(h)), 0);
	T_EQ_INT(snap_proto_on_hello(&s, snap_proto_hello(&r), sizeof(h)), 0);
	T_EQ_INT(
	    snap_proto_on_auth(&r, s.auth_out, SNAP_PROTO_AUTH_LEN), -EACCES);
	T_EQ_INT(
	    snap_proto_on_auth(&s, r.auth_out, SNAP_PROTO_AUTH_LEN), -EACCES);
}

/* The sender's own AUTH sent back to it (reflection) is refused. */
static void
test_proto_reflection(void)
{
	struct snap_proto s, r;
	uint8_t ns[32] = { 1 }, nr[32] = { 2 };

	snap_proto_init(&s, SNAP_ROLE_SENDER, tp_psk, ns);
	snap_proto_init(&r, SNAP_ROLE_RECEIVER, tp_psk, nr);
	T_EQ_INT(
	    snap_proto_on_hello(&s, snap_proto_hello(&r), SNAP_PROTO_HELLO_LEN),
	    0);
	T_EQ_INT(
	    snap_proto_on_auth(&s, s.auth_out, SNAP_PROTO_AUTH_LEN), -EACCES);
}

/* Replayed, reordered, altered and truncated records are refused. */
static void
test_proto_records_tamper(void)
{
	uint8_t *frame = xmalloc(SNAP_PROTO_FRAME_MAX);
	struct snap_proto s, r, s2, r2;
	struct buf a, b;
	size_t flen;

	T_EQ_INT(test_proto_pair(&s, &r, tp_psk, tp_psk), 0);
	buf_init(&a);
	buf_init(&b);
	snap_proto_seal(&s, "first", 5, &a);
	snap_proto_seal(&s, "second", 6, &b);
	T_EQ_INT(
	    snap_proto_open(&r, (uint8_t *)a.data, a.len, frame, &flen), 0);
	/* Replay of the first record. */
	T_EQ_INT(snap_proto_open(&r, (uint8_t *)a.data, a.len, frame, &flen),
	    -EBADMSG);
	T_EQ_INT(r.state, SNAP_PS_DEAD);

	/* Reordered: second before first. */
	T_EQ_INT(test_proto_pair(&s2, &r2, tp_psk, tp_psk), 0);
	buf_reset(&a);
	buf_reset(&b);
	snap_proto_seal(&s2, "first", 5, &a);
	snap_proto_seal(&s2, "second", 6, &b);
	T_EQ_INT(snap_proto_open(&r2, (uint8_t *)b.data, b.len, frame, &flen),
	    -EBADMSG);

	/* Every single flipped byte of a record is caught. */
	for (size_t i = 0; i < a.len; i++) {
		T_EQ_INT(test_proto_pair(&s, &r, tp_psk, tp_psk), 0);
		buf_reset(&a);
		snap_proto_seal(&s, "payload", 7, &a);
		a.data[i] ^= 0x10;
		T_EQ_INT(
		    snap_proto_open(&r, (uint8_t *)a.data, a.len, frame, &flen),
		    -EBADMSG);
	}
	/* Truncated (the length prefix then lies). */
	T_EQ_INT(test_proto_pair(&s, &r, tp_psk, tp_psk), 0);
	buf_reset(&a);
	snap_proto_seal(&s, "payload", 7, &a);
	T_EQ_INT(
	    snap_proto_open(&r, (uint8_t *)a.data, a.len - 1, frame, &flen),
	    -EBADMSG);
	buf_fini(&a);
	buf_fini(&b);
	free(frame);
}

static void
test_proto_need_bounds(void)
{
	struct snap_proto s, r;
	uint8_t p[4];

	T_EQ_INT(test_proto_pair(&s, &r, tp_psk, tp_psk), 0);
	T_EQ_INT(snap_proto_need(&r, p, 0), 4);
	memset(p, 0xff, 4);
	T_EQ_INT(snap_proto_need(&r, p, 4), -EMSGSIZE);
	memset(p, 0, 4);
	T_EQ_INT(snap_proto_need(&r, p, 4), -EMSGSIZE);
	p[0] = SNAP_PROTO_ABYTES + 1;
	T_EQ_INT(snap_proto_need(&r, p, 4), 4 + SNAP_PROTO_ABYTES + 1);
}

/* Decode f, expecting success; then every truncation must fail. */
static void
test_proto_codec_one(struct buf *f, struct snap_msg *m)
{
	struct snap_msg t;
	const char *why;

	T_EQ_INT(snap_msg_decode((uint8_t *)f->data, f->len, m, &why), 0);
	for (size_t n = 0; n < f->len; n++)
		T_EQ_INT(
		    snap_msg_decode((uint8_t *)f->data, n, &t, &why), -EBADMSG);
	buf_putc(f, 0);
	T_EQ_INT(
	    snap_msg_decode((uint8_t *)f->data, f->len, &t, &why), -EBADMSG);
	T_EQ_STR(why, "trailing bytes");
	f->len--;
}

static void
test_proto_codec(void)
{
	struct snap_id ids[3];
	uint8_t fr[64];
	struct snap_msg m;
	struct buf f;
	const char *why;

	buf_init(&f);
	snap_msg_offer(
	    &f, "vm1", "20261206T000000Z-1", SNAP_OFFER_FORCE, "manifest", 8);
	test_proto_codec_one(&f, &m);
	T_EQ_INT(m.type, SNAP_MSG_OFFER);
	T_EQ_STR(m.volume, "vm1");
	T_EQ_STR(m.id, "20261206T000000Z-1");
	T_EQ_INT(m.manifest_len, 8);
	T_EQ_INT(m.flags, SNAP_OFFER_FORCE);
	/* A flag this version does not know. */
	f.data[1] = 0x80;
	T_EQ_INT(snap_msg_decode((uint8_t *)f.data, f.len, &m, &why), -EBADMSG);

	buf_reset(&f);
	memset(ids, 7, sizeof(ids));
	snap_msg_want(&f, ids, 3);
	test_proto_codec_one(&f, &m);
	T_EQ_INT(m.nids, 3);
	T_ASSERT(memcmp(m.ids, ids, sizeof(ids)) == 0);
	/* A count that lies. */
	f.data[1] = 4;
	T_EQ_INT(snap_msg_decode((uint8_t *)f.data, f.len, &m, &why), -EBADMSG);

	buf_reset(&f);
	memset(fr, 9, sizeof(fr));
	snap_msg_chunk(&f, &ids[0], fr, sizeof(fr));
	test_proto_codec_one(&f, &m);
	T_EQ_INT(m.frame_len, sizeof(fr));

	buf_reset(&f);
	snap_msg_commit(&f, 12345678901ull);
	test_proto_codec_one(&f, &m);
	T_EQ_INT(m.sent, 12345678901ull);

	buf_reset(&f);
	snap_msg_err(&f, SNAP_PROTO_E_BUSY, "busy\x01");
	test_proto_codec_one(&f, &m);
	T_EQ_INT(m.code, SNAP_PROTO_E_BUSY);
	T_EQ_STR(m.text, "busy?");

	/* A volume name that would escape the store. */
	buf_reset(&f);
	snap_msg_offer(&f, "../x", "id", 0, "m", 1);
	T_EQ_INT(snap_msg_decode((uint8_t *)f.data, f.len, &m, &why), -EBADMSG);
	buf_reset(&f);
	buf_putc(&f, 99);
	T_EQ_INT(snap_msg_decode((uint8_t *)f.data, f.len, &m, &why), -EBADMSG);
	T_EQ_STR(why, "unknown frame type");
	buf_fini(&f);
}

/* ---- the receiving session, on real stores ---- */

static char tp_root[64];

static char *
test_proto_tmpdir(const char *tmpl)
{
	snprintf(tp_root, sizeof(tp_root), "%s", tmpl);
	T_ASSERT(mkdtemp(tp_root) != NULL);
	return xstrdup(tp_root);
}

static int
test_proto_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static void
test_proto_rmtree(char *root)
{
	T_EQ_INT(nftw(root, test_proto_rm, 8, FTW_DEPTH | FTW_PHYS), 0);
	free(root);
}

/* A 4-chunk image snapshot in a fresh store: chunk 2 is zero. */
static void
test_proto_source(const char *root, struct snap_store **s,
    struct snap_manifest *m, uint8_t seed)
{
	char *img = xasprintf("%s/img", root);
	struct snap_create_opts o = { .volume = "vm", .path = img };
	struct snap_create_stats st;
	uint8_t *b = xcalloc(4, 65536);
	char err[256];
	FILE *f;

	for (size_t i = 0; i < 4 * 65536; i++)
		if (i / 65536 != 2)
			b[i] = (uint8_t)(i * 31 + seed + i / 65536);
	T_ASSERT((f = fopen(img, "w")) != NULL);
	T_EQ_INT(fwrite(b, 1, 4 * 65536, f), 4 * 65536);
	fclose(f);
	T_EQ_INT(snap_store_open(root, true, s), 0);
	T_EQ_INT(snap_create(*s, &o, m, &st, err, sizeof(err)), 0);
	free(b);
	free(img);
}

static uint8_t *
test_proto_frame(struct snap_store *s, const struct snap_id *id, size_t *len)
{
	char *p = snap_store_chunk_path(s, id);
	uint8_t *b = xmalloc(1 << 20);
	FILE *f = fopen(p, "r");

	T_ASSERT(f != NULL);
	*len = fread(b, 1, 1 << 20, f);
	fclose(f);
	free(p);
	return b;
}

/* Feed one encoded frame to r; the reply decoded into *reply. */
static int
test_proto_feed(
    struct snap_recv *r, struct buf *f, struct snap_msg *reply, struct buf *out)
{
	struct snap_msg m;
	const char *why;
	int rc;

	T_EQ_INT(snap_msg_decode((uint8_t *)f->data, f->len, &m, &why), 0);
	buf_reset(out);
	rc = snap_recv_msg(r, &m, out);
	if (out->len > 0)
		T_EQ_INT(snap_msg_decode(
		             (uint8_t *)out->data, out->len, reply, &why),
		    0);
	buf_reset(f);
	return rc;
}

static void
test_recv_session(void)
{
	char *src = test_proto_tmpdir("/tmp/haven-tp-src-XXXXXX");
	char *dst = test_proto_tmpdir("/tmp/haven-tp-dst-XXXXXX");
	struct snap_store *s, *d;
	struct snap_manifest m;
	struct snap_recv r;
	struct snap_msg reply;
	struct snap_ref *refs;
	struct snap_id want[4];
	struct buf f, out, mt;
	uint8_t *fr;
	size_t n, flen;
	uint32_t nwant;

	test_proto_source(src, &s, &m, 1);
	buf_init(&f);
	buf_init(&out);
	buf_init(&mt);
	snap_manifest_format(&m, &mt);

	/* Session 1: OFFER -> WANT of the 3 data chunks; send one, then
	 * die. Nothing is published, the chunk stays. */
	snap_recv_init(&r, dst);
	snap_msg_offer(&f, m.volume, m.id, 0, mt.data, mt.len);
	T_EQ_INT(test_proto_feed(&r, &f, &reply, &out), 0);
	T_EQ_INT(reply.type, SNAP_MSG_WANT);
	T_EQ_INT(reply.nids, 3);
	nwant = reply.nids;
	memcpy(want, reply.ids, nwant * SNAP_ID_LEN);
	fr = test_proto_frame(s, &want[0], &flen);
	snap_msg_chunk(&f, &want[0], fr, flen);
	T_EQ_INT(test_proto_feed(&r, &f, &reply, &out), 0);
	free(fr);
	/* COMMIT too early: refused, nothing published. */
	snap_msg_commit(&f, 1);
	T_ASSERT(test_proto_feed(&r, &f, &reply, &out) < 0);
	T_EQ_INT(reply.type, SNAP_MSG_ERR);
	T_EQ_INT(reply.code, SNAP_PROTO_E_INCOMPLETE);
	snap_recv_fini(&r);
	T_EQ_INT(snap_store_open(dst, false, &d), 0);
	T_EQ_INT(snap_store_list(d, NULL, &refs, &n), 0);
	T_EQ_INT(n, 0);
	free(refs);
	T_EQ_INT(snap_store_chunk_has(d, &want[0]), 1);

	/* Session 2: WANT asks only for the 2 missing; an unasked chunk
	 * (the one it has) is refused. */
	snap_recv_init(&r, dst);
	snap_msg_offer(&f, m.volume, m.id, 0, mt.data, mt.len);
	T_EQ_INT(test_proto_feed(&r, &f, &reply, &out), 0);
	T_EQ_INT(reply.nids, 2);
	fr = test_proto_frame(s, &want[0], &flen);
	snap_msg_chunk(&f, &want[0], fr, flen);
	T_ASSERT(test_proto_feed(&r, &f, &reply, &out) < 0);
	T_EQ_INT(reply.code, SNAP_PROTO_E_CHUNK);
	free(fr);
	snap_recv_fini(&r);

	/* Session 3: a forged chunk (frame of another ID) is refused;
	 * session 4 completes with the 2 real ones and publishes. */
	snap_recv_init(&r, dst);
	snap_msg_offer(&f, m.volume, m.id, 0, mt.data, mt.len);
	T_EQ_INT(test_proto_feed(&r, &f, &reply, &out), 0);
	memcpy(want, reply.ids, 2 * SNAP_ID_LEN);
	fr = test_proto_frame(s, &want[1], &flen);
	snap_msg_chunk(&f, &want[0], fr, flen);
	T_ASSERT(test_proto_feed(&r, &f, &reply, &out) < 0);
	T_EQ_INT(reply.code, SNAP_PROTO_E_CHUNK);
	free(fr);
	snap_recv_fini(&r);

	snap_recv_init(&r, dst);
	snap_msg_offer(&f, m.volume, m.id, 0, mt.data, mt.len);
	T_EQ_INT(test_proto_feed(&r, &f, &reply, &out), 0);
	T_EQ_INT(reply.nids, 2);
	for (int i = 0; i < 2; i++) {
		fr = test_proto_frame(s, &want[i], &flen);
		snap_msg_chunk(&f, &want[i], fr, flen);
		T_EQ_INT(test_proto_feed(&r, &f, &reply, &out), 0);
		free(fr);
	}
	snap_msg_commit(&f, 2);
	T_EQ_INT(test_proto_feed(&r, &f, &reply, &out), 1);
	T_EQ_INT(reply.type, SNAP_MSG_OK);
	snap_recv_fini(&r);
	T_EQ_INT(snap_store_list(d, NULL, &refs, &n), 0);
	T_EQ_INT(n, 1);
	T_EQ_STR(refs[0].id, m.id);
	free(refs);

	/* The same volume/ID with other content: refused, nothing changes;
	 * offered again as it is: "had", nothing travels. */
	{
		struct snap_manifest m2 = m;
		struct buf mt2;

		m2.chunks = xcalloc(m.nchunks, sizeof(*m2.chunks));
		memcpy(m2.chunks, m.chunks, m.nchunks * sizeof(*m2.chunks));
		memset(&m2.chunks[0], 0, sizeof(m2.chunks[0]));
		snap_manifest_root(&m2, &m2.root);
		buf_init(&mt2);
		snap_manifest_format(&m2, &mt2);
		snap_recv_init(&r, dst);
		snap_msg_offer(&f, m2.volume, m2.id, 0, mt2.data, mt2.len);
		T_ASSERT(test_proto_feed(&r, &f, &reply, &out) < 0);
		T_EQ_INT(reply.code, SNAP_PROTO_E_EXISTS);
		snap_recv_fini(&r);
		free(m2.chunks);
		buf_fini(&mt2);
	}
	snap_recv_init(&r, dst);
	snap_msg_offer(&f, m.volume, m.id, 0, mt.data, mt.len);
	T_EQ_INT(test_proto_feed(&r, &f, &reply, &out), 0);
	T_EQ_INT(reply.nids, 0);
	snap_msg_commit(&f, 0);
	T_EQ_INT(test_proto_feed(&r, &f, &reply, &out), 1);
	T_ASSERT(strncmp(reply.text, "had ", 4) == 0);
	snap_recv_fini(&r);
	snap_store_close(d);
	snap_store_close(s);
	snap_manifest_fini(&m);
	buf_fini(&f);
	buf_fini(&out);
	buf_fini(&mt);
	test_proto_rmtree(src);
	test_proto_rmtree(dst);
}

/*
 * Two sessions of one process receive the same chunks at once (two
 * senders of one image, or two volumes sharing data): each session's
 * store batch has temp files of its own, so both publish.
 */
static void
test_recv_concurrent_same_chunks(void)
{
	char *src = test_proto_tmpdir("/tmp/haven-tp-src-XXXXXX");
	char *dst = test_proto_tmpdir("/tmp/haven-tp-dst-XXXXXX");
	struct snap_recv ra, rb;
	struct snap_recv *rs[2] = { &ra, &rb };
	struct snap_store *s;
	struct snap_manifest m;
	struct snap_msg reply;
	struct snap_id want[4];
	struct buf f, out, mt;
	uint8_t *fr;
	size_t flen;

	test_proto_source(src, &s, &m, 3);
	buf_init(&f);
	buf_init(&out);
	buf_init(&mt);
	/* Two volumes with the same chunks (one session per volume at a
	 * time: the volume's lock). */
	for (int k = 0; k < 2; k++) {
		snprintf(m.volume, sizeof(m.volume), "vm%d", k);
		buf_reset(&mt);
		snap_manifest_format(&m, &mt);
		snap_recv_init(rs[k], dst);
		snap_msg_offer(&f, m.volume, m.id, 0, mt.data, mt.len);
		T_EQ_INT(test_proto_feed(rs[k], &f, &reply, &out), 0);
		T_EQ_INT(reply.nids, 3);
		memcpy(want, reply.ids, 3 * SNAP_ID_LEN);
	}
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 2; k++) {
			fr = test_proto_frame(s, &want[i], &flen);
			snap_msg_chunk(&f, &want[i], fr, flen);
			T_EQ_INT(test_proto_feed(rs[k], &f, &reply, &out), 0);
			free(fr);
		}
	for (int k = 0; k < 2; k++) {
		snap_msg_commit(&f, 3);
		T_EQ_INT(test_proto_feed(rs[k], &f, &reply, &out), 1);
		T_EQ_INT(reply.type, SNAP_MSG_OK);
		snap_recv_fini(rs[k]);
	}
	snap_store_close(s);
	snap_manifest_fini(&m);
	buf_fini(&f);
	buf_fini(&out);
	buf_fini(&mt);
	test_proto_rmtree(src);
	test_proto_rmtree(dst);
}

/* An empty image's snapshot id following parent (NULL: a root) in gen. */
static void
test_lin_make(struct snap_manifest *m, const char *id, char gch,
    const struct snap_manifest *parent)
{
	char gen[SNAP_GEN_HEX + 1];

	memset(gen, gch, SNAP_GEN_HEX);
	gen[SNAP_GEN_HEX] = '\0';
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	snprintf(m->volume, sizeof(m->volume), "vm");
	m->chunk_size = 65536;
	m->created = 1796589000;
	snap_manifest_lineage(m, parent, gen);
	snap_manifest_root(m, &m->root);
}

/* Offer m (with flags) and commit: the reply's code, 0 for OK. */
static int
test_lin_send(const char *dst, const struct snap_manifest *m, uint8_t flags,
    char *text, size_t tlen)
{
	struct snap_recv r;
	struct snap_msg reply;
	struct buf f, out, mt;
	int rc;

	buf_init(&f);
	buf_init(&out);
	buf_init(&mt);
	snap_manifest_format(m, &mt);
	snap_recv_init(&r, dst);
	snap_msg_offer(&f, m->volume, m->id, flags, mt.data, mt.len);
	rc = test_proto_feed(&r, &f, &reply, &out);
	if (rc == 0) {
		T_EQ_INT(reply.nids, 0);
		snap_msg_commit(&f, 0);
		rc = test_proto_feed(&r, &f, &reply, &out);
	}
	snprintf(text, tlen, "%s", reply.text);
	rc = rc == 1 ? 0 : reply.code;
	snap_recv_fini(&r);
	buf_fini(&f);
	buf_fini(&out);
	buf_fini(&mt);
	return rc;
}

/*
 * Roles and lineage on the receiver: fast-forward, an older re-send,
 * divergence refused, then forced (the loser set aside, its ancestors
 * kept), and a primary volume refused outright.
 */
static void
test_recv_lineage(void)
{
	char *dst = test_proto_tmpdir("/tmp/haven-tp-lin-XXXXXX");
	struct snap_manifest a1, a2, x3, b2;
	struct snap_store *d;
	struct snap_ref *refs;
	struct snap_vol v;
	char text[SNAP_PROTO_TEXT_MAX + 1], err[256];
	size_t n;

	test_lin_make(&a1, "1-a1", 'a', NULL);
	test_lin_make(&a2, "2-a2", 'a', &a1);
	test_lin_make(&x3, "3-x3", 'a', &a2); /* the old primary's last */
	test_lin_make(&b2, "4-b2", 'b', &a1); /* promoted elsewhere at a1 */
	T_EQ_INT(test_lin_send(dst, &a1, 0, text, sizeof(text)), 0);
	T_EQ_INT(test_lin_send(dst, &a2, 0, text, sizeof(text)), 0);
	T_EQ_INT(test_lin_send(dst, &x3, 0, text, sizeof(text)), 0);
	T_EQ_INT(snap_store_open(dst, false, &d), 0);
	T_EQ_INT(snap_vol_read(d, "vm", &v, err, sizeof(err)), 0);
	T_EQ_INT(v.role, SNAP_ROLE_REPLICA);
	T_EQ_STR(v.head, "3-x3");
	T_EQ_INT(v.head_seq, 3);
	/* a2 again: older, stored, the head stays. */
	T_EQ_INT(test_lin_send(dst, &a2, 0, text, sizeof(text)), 0);
	T_ASSERT(strstr(text, "older than the head") != NULL);
	/* b2 does not descend from x3: refused, nothing moves. */
	T_EQ_INT(test_lin_send(dst, &b2, 0, text, sizeof(text)),
	    SNAP_PROTO_E_DIVERGED);
	T_ASSERT(strstr(text, "diverged") != NULL);
	T_EQ_INT(snap_store_list(d, NULL, &refs, &n), 0);
	T_EQ_INT(n, 3);
	free(refs);
	/* Forced: a2 and x3 (not in b2's line) are set aside, a1 stays. */
	T_EQ_INT(
	    test_lin_send(dst, &b2, SNAP_OFFER_FORCE, text, sizeof(text)), 0);
	T_ASSERT(strstr(text, "2 snapshot(s) kept as vm.diverged-") != NULL);
	T_EQ_INT(snap_store_list(d, "vm", &refs, &n), 0);
	T_EQ_INT(n, 2);
	T_EQ_STR(refs[0].id, "1-a1");
	T_EQ_STR(refs[1].id, "4-b2");
	free(refs);
	T_EQ_INT(snap_store_list(d, NULL, &refs, &n), 0);
	T_EQ_INT(n, 4);
	T_ASSERT(strncmp(refs[2].volume, "vm.diverged-", 12) == 0);
	T_EQ_STR(refs[2].id, "2-a2");
	free(refs);
	T_EQ_INT(snap_vol_read(d, "vm", &v, err, sizeof(err)), 0);
	T_EQ_STR(v.head, "4-b2");
	/* A primary takes nothing. */
	v.role = SNAP_ROLE_PRIMARY;
	memset(v.generation, 'c', SNAP_GEN_HEX);
	T_EQ_INT(snap_vol_write(d, "vm", &v), 0);
	T_EQ_INT(test_lin_send(dst, &b2, SNAP_OFFER_FORCE, text, sizeof(text)),
	    SNAP_PROTO_E_ROLE);
	snap_store_close(d);
	test_proto_rmtree(dst);
}

/* The state file: what parses formats back the same; bad ones say why. */
static void
test_vol_parse(void)
{
	struct snap_vol v, back;
	struct buf b;
	char err[256];

	memset(&v, 0, sizeof(v));
	v.role = SNAP_ROLE_PRIMARY;
	memset(v.generation, 'd', SNAP_GEN_HEX);
	memset(v.head_gen, 'e', SNAP_GEN_HEX);
	snprintf(v.head, sizeof(v.head), "20261206T203000Z-1");
	v.head_seq = 42;
	buf_init(&b);
	snap_vol_format(&v, &b);
	T_EQ_INT(snap_vol_parse(b.data, b.len, &back, err, sizeof(err)), 0);
	T_ASSERT(memcmp(&v, &back, sizeof(v)) == 0);
	/* A replica with a generation, a head without a seq, junk. */
	buf_reset(&b);
	buf_puts(&b,
	    "haven-volume 1\nrole replica\ngeneration "
	    "dddddddddddddddddddddddddddddddd\nhead -\n"
	    "head_generation -\nhead_seq 0\n");
	T_EQ_INT(
	    snap_vol_parse(b.data, b.len, &back, err, sizeof(err)), -EBADMSG);
	T_ASSERT(strstr(err, "line 3: ") != NULL);
	buf_reset(&b);
	buf_puts(&b,
	    "haven-volume 1\nrole replica\ngeneration -\nhead x\n"
	    "head_generation -\nhead_seq 0\n");
	T_EQ_INT(
	    snap_vol_parse(b.data, b.len, &back, err, sizeof(err)), -EBADMSG);
	T_ASSERT(strstr(err, "all set or all unset") != NULL);
	T_EQ_INT(snap_vol_parse("", 0, &back, err, sizeof(err)), -EBADMSG);
	T_EQ_INT(back.role, SNAP_ROLE_NONE);
	buf_fini(&b);
}

static void
test_proto_read_full(int fd, uint8_t *p, size_t n)
{
	size_t off = 0;
	ssize_t r;

	while (off < n && (r = read(fd, p + off, n - off)) > 0)
		off += (size_t)r;
	if (off != n)
		_exit(2);
}

/* A receiver that knows the PSK but asks for a chunk of another image. */
static void
test_proto_evil_receiver(int lfd)
{
	uint8_t nonce[32] = { 9 }, hello[SNAP_PROTO_HELLO_LEN];
	uint8_t auth[SNAP_PROTO_AUTH_LEN], *rec = xmalloc(SNAP_PROTO_REC_MAX);
	uint8_t *frame = xmalloc(SNAP_PROTO_FRAME_MAX);
	struct snap_proto r;
	struct snap_id foreign;
	struct buf b, w;
	size_t flen;
	long need;
	int fd = accept(lfd, NULL, NULL);

	snap_proto_init(&r, SNAP_ROLE_RECEIVER, tp_psk, nonce);
	if (fd == -1 || write(fd, snap_proto_hello(&r), 40) != 40)
		_exit(2);
	test_proto_read_full(fd, hello, sizeof(hello));
	if (snap_proto_on_hello(&r, hello, sizeof(hello)) != 0 ||
	    write(fd, r.auth_out, sizeof(auth)) != (ssize_t)sizeof(auth))
		_exit(2);
	test_proto_read_full(fd, auth, sizeof(auth));
	if (snap_proto_on_auth(&r, auth, sizeof(auth)) != 0)
		_exit(2);
	test_proto_read_full(fd, rec, 4);
	need = snap_proto_need(&r, rec, 4);
	test_proto_read_full(fd, rec + 4, (size_t)need - 4);
	if (snap_proto_open(&r, rec, (size_t)need, frame, &flen) != 0)
		_exit(2);
	memset(foreign.b, 0x5a, sizeof(foreign.b));
	buf_init(&w);
	buf_init(&b);
	snap_msg_want(&w, &foreign, 1);
	snap_proto_seal(&r, w.data, w.len, &b);
	if (write(fd, b.data, b.len) != (ssize_t)b.len)
		_exit(2);
	while (read(fd, rec, 4096) > 0)
		;
	_exit(0);
}

static void
test_send_refuses_foreign_want(void)
{
	char *src = test_proto_tmpdir("/tmp/haven-tp-src-XXXXXX");
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct snap_send_opts o = { .timeout_ms = 5000 };
	struct snap_send_stats st;
	struct snap_store *s;
	struct snap_manifest m;
	socklen_t sl = sizeof(sa);
	char err[256];
	int lfd, status = -1;
	pid_t pid;

	test_proto_source(src, &s, &m, 4);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT((lfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	T_EQ_INT(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	T_EQ_INT(listen(lfd, 1), 0);
	T_EQ_INT(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	T_ASSERT((pid = fork()) != -1);
	if (pid == 0)
		test_proto_evil_receiver(lfd);
	close(lfd);
	memcpy(&o.to, &sa, sizeof(sa));
	memcpy(o.psk, tp_psk, sizeof(o.psk));
	T_EQ_INT(snap_send(s, &m, &o, &st, err, sizeof(err)), -EBADMSG);
	T_ASSERT(strstr(err, "does not have") != NULL);
	T_EQ_INT(st.chunks, 0);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	T_EQ_INT(status, 0);
	snap_store_close(s);
	snap_manifest_fini(&m);
	test_proto_rmtree(src);
}

/* PSK files: raw 32 bytes or 64 hex digits; others may not read them. */
static void
test_proto_psk_file(void)
{
	char *dir = test_proto_tmpdir("/tmp/haven-tp-psk-XXXXXX");
	char *path = xasprintf("%s/psk", dir);
	uint8_t psk[32], raw[32];
	char err[256];
	FILE *f;

	for (int i = 0; i < 32; i++)
		raw[i] = (uint8_t)(i * 7);
	T_ASSERT((f = fopen(path, "w")) != NULL);
	fwrite(raw, 1, 32, f);
	fclose(f);
	T_EQ_INT(chmod(path, 0600), 0);
	T_EQ_INT(snap_proto_psk_load(path, psk, err, sizeof(err)), 0);
	T_ASSERT(memcmp(psk, raw, 32) == 0);
	T_ASSERT((f = fopen(path, "w")) != NULL);
	for (int i = 0; i < 32; i++)
		fprintf(f, "%02X", raw[i]);
	fputs("\n", f);
	fclose(f);
	memset(psk, 0, 32);
	T_EQ_INT(snap_proto_psk_load(path, psk, err, sizeof(err)), 0);
	T_ASSERT(memcmp(psk, raw, 32) == 0);
	T_EQ_INT(chmod(path, 0644), 0);
	T_EQ_INT(snap_proto_psk_load(path, psk, err, sizeof(err)), -EPERM);
	T_ASSERT(strstr(err, "readable or writable by others") != NULL);
	T_EQ_INT(chmod(path, 0600), 0);
	T_ASSERT((f = fopen(path, "w")) != NULL);
	fputs("too short\n", f);
	fclose(f);
	T_EQ_INT(snap_proto_psk_load(path, psk, err, sizeof(err)), -EINVAL);
	free(path);
	test_proto_rmtree(dir);
}

static const struct test tests[] = {
	TEST(test_proto_handshake_ok),
	TEST(test_proto_wrong_psk_both_ways),
	TEST(test_proto_bad_hello),
	TEST(test_proto_tampered_hello),
	TEST(test_proto_reflection),
	TEST(test_proto_records_tamper),
	TEST(test_proto_need_bounds),
	TEST(test_proto_codec),
	TEST(test_recv_session),
	TEST(test_recv_concurrent_same_chunks),
	TEST(test_proto_psk_file),
	TEST(test_send_refuses_foreign_want),
	TEST(test_recv_lineage),
	TEST(test_vol_parse),
};

TEST_MAIN(tests)
