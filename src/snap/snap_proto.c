/*
 * snap_proto.c - the replication protocol's handshake, records and frame
 * codec (snap_proto.h). Pure apart from libsodium's random bytes.
 */
#include <errno.h>
#include <string.h>

#include "snap/snap_proto.h"

static const uint8_t snap_proto_magic[4] = { 'H', 'V', 'R', 'P' };

static void
snap_proto_put16(struct buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	buf_append(b, x, 2);
}

static void
snap_proto_put32(struct buf *b, uint32_t v)
{
	uint8_t x[4];

	for (int i = 0; i < 4; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	buf_append(b, x, 4);
}

static uint32_t
snap_proto_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

void
snap_proto_init(struct snap_proto *p, enum snap_proto_role role,
    const uint8_t psk[SNAP_PROTO_PSK_LEN],
    const uint8_t nonce[SNAP_PROTO_NONCE_LEN])
{
	uint8_t *h;

	memset(p, 0, sizeof(*p));
	p->role = role;
	p->state = SNAP_PS_HELLO;
	memcpy(p->psk, psk, SNAP_PROTO_PSK_LEN);
	h = p->hello[role - 1];
	memcpy(h, snap_proto_magic, 4);
	h[4] = SNAP_PROTO_VERSION;
	h[5] = (uint8_t)role;
	memcpy(h + 8, nonce, SNAP_PROTO_NONCE_LEN);
}

const uint8_t *
snap_proto_hello(const struct snap_proto *p)
{
	return p->hello[p->role - 1];
}

/* out = BLAKE2b-256 keyed with key over label || T [|| extra]. */
static void
snap_proto_kdf(const struct snap_proto *p, const uint8_t *key,
    const char *label, const uint8_t *extra, size_t elen, uint8_t out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, 32, 32);
	crypto_generichash_update(
	    &st, (const uint8_t *)label, strlen(label) + 1);
	crypto_generichash_update(&st, p->hello[0], SNAP_PROTO_HELLO_LEN);
	crypto_generichash_update(&st, p->hello[1], SNAP_PROTO_HELLO_LEN);
	if (elen > 0)
		crypto_generichash_update(&st, extra, elen);
	crypto_generichash_final(&st, out, 32);
}

int
snap_proto_on_hello(struct snap_proto *p, const uint8_t *in, size_t len)
{
	enum snap_proto_role peer =
	    p->role == SNAP_ROLE_SENDER ? SNAP_ROLE_RECEIVER : SNAP_ROLE_SENDER;
	uint8_t *hdr = p->auth_out + SNAP_PROTO_TAG_LEN;
	int me = p->role - 1;

	if (p->state != SNAP_PS_HELLO || len != SNAP_PROTO_HELLO_LEN ||
	    memcmp(in, snap_proto_magic, 4) != 0 ||
	    in[4] != SNAP_PROTO_VERSION || in[5] != peer || in[6] != 0 ||
	    in[7] != 0) {
		p->state = SNAP_PS_DEAD;
		return -EPROTO;
	}
	memcpy(p->hello[peer - 1], in, SNAP_PROTO_HELLO_LEN);
	snap_proto_kdf(p, p->psk, "auth-s", NULL, 0, p->tag_key[0]);
	snap_proto_kdf(p, p->psk, "auth-r", NULL, 0, p->tag_key[1]);
	snap_proto_kdf(p, p->psk, "data-s", NULL, 0, p->data_key[0]);
	snap_proto_kdf(p, p->psk, "data-r", NULL, 0, p->data_key[1]);
	crypto_secretstream_xchacha20poly1305_init_push(
	    &p->tx, hdr, p->data_key[me]);
	snap_proto_kdf(p, p->tag_key[me], "tag", hdr,
	    crypto_secretstream_xchacha20poly1305_HEADERBYTES, p->auth_out);
	p->state = SNAP_PS_AUTH;
	return 0;
}

int
snap_proto_on_auth(struct snap_proto *p, const uint8_t *in, size_t len)
{
	int peer = p->role == SNAP_ROLE_SENDER ? 1 : 0;
	const uint8_t *hdr = in + SNAP_PROTO_TAG_LEN;
	uint8_t want[SNAP_PROTO_TAG_LEN];

	if (p->state != SNAP_PS_AUTH || len != SNAP_PROTO_AUTH_LEN) {
		p->state = SNAP_PS_DEAD;
		return -EPROTO;
	}
	snap_proto_kdf(p, p->tag_key[peer], "tag", hdr,
	    crypto_secretstream_xchacha20poly1305_HEADERBYTES, want);
	if (sodium_memcmp(want, in, SNAP_PROTO_TAG_LEN) != 0 ||
	    crypto_secretstream_xchacha20poly1305_init_pull(
	        &p->rx, hdr, p->data_key[peer]) != 0) {
		p->state = SNAP_PS_DEAD;
		return -EACCES;
	}
	sodium_memzero(p->psk, sizeof(p->psk));
	sodium_memzero(p->tag_key, sizeof(p->tag_key));
	p->state = SNAP_PS_OPEN;
	return 0;
}

long
snap_proto_need(const struct snap_proto *p, const uint8_t *in, size_t avail)
{
	uint32_t n;

	if (p->state == SNAP_PS_HELLO)
		return SNAP_PROTO_HELLO_LEN;
	if (p->state == SNAP_PS_AUTH)
		return SNAP_PROTO_AUTH_LEN;
	if (p->state != SNAP_PS_OPEN)
		return -EPROTO;
	if (avail < 4)
		return 4;
	n = snap_proto_get32(in);
	if (n < SNAP_PROTO_ABYTES + 1 || n > SNAP_PROTO_REC_MAX)
		return -EMSGSIZE;
	return 4 + (long)n;
}

void
snap_proto_seal(
    struct snap_proto *p, const void *frame, size_t len, struct buf *out)
{
	unsigned long long clen = 0;
	uint8_t *c;

	snap_proto_put32(out, (uint32_t)(len + SNAP_PROTO_ABYTES));
	c = (uint8_t *)buf_reserve(out, len + SNAP_PROTO_ABYTES);
	crypto_secretstream_xchacha20poly1305_push(
	    &p->tx, c, &clen, frame, len, NULL, 0, 0);
	out->len += (size_t)clen;
	out->data[out->len] = '\0'; /* buf.h: NUL past len */
}

int
snap_proto_open(struct snap_proto *p, const uint8_t *rec, size_t len,
    uint8_t *frame, size_t *flen)
{
	unsigned long long mlen = 0;
	unsigned char tag = 0;

	if (p->state != SNAP_PS_OPEN || len < 4 + SNAP_PROTO_ABYTES + 1 ||
	    len - 4 > SNAP_PROTO_REC_MAX || snap_proto_get32(rec) != len - 4 ||
	    crypto_secretstream_xchacha20poly1305_pull(
	        &p->rx, frame, &mlen, &tag, rec + 4, len - 4, NULL, 0) != 0 ||
	    tag != 0) {
		p->state = SNAP_PS_DEAD;
		return -EBADMSG;
	}
	*flen = (size_t)mlen;
	return 0;
}

/* ---- frames ---- */

static void
snap_msg_name_put(struct buf *out, const char *s)
{
	size_t n = strlen(s);

	snap_proto_put16(out, (uint16_t)n);
	buf_append(out, s, n);
}

void
snap_msg_offer(struct buf *out, const char *volume, const char *id,
    uint8_t flags, const char *manifest, size_t mlen)
{
	buf_putc(out, SNAP_MSG_OFFER);
	buf_putc(out, flags);
	snap_msg_name_put(out, volume);
	snap_msg_name_put(out, id);
	snap_proto_put32(out, (uint32_t)mlen);
	buf_append(out, manifest, mlen);
}

void
snap_msg_want(struct buf *out, const struct snap_id *ids, uint32_t n)
{
	buf_putc(out, SNAP_MSG_WANT);
	snap_proto_put32(out, n);
	for (uint32_t i = 0; i < n; i++)
		buf_append(out, ids[i].b, SNAP_ID_LEN);
}

void
snap_msg_chunk(
    struct buf *out, const struct snap_id *id, const void *frame, size_t flen)
{
	buf_putc(out, SNAP_MSG_CHUNK);
	buf_append(out, id->b, SNAP_ID_LEN);
	snap_proto_put32(out, (uint32_t)flen);
	buf_append(out, frame, flen);
}

void
snap_msg_commit(struct buf *out, uint64_t sent)
{
	buf_putc(out, SNAP_MSG_COMMIT);
	snap_proto_put32(out, (uint32_t)sent);
	snap_proto_put32(out, (uint32_t)(sent >> 32));
}

static void
snap_msg_text_put(struct buf *out, const char *text)
{
	size_t n = strnlen(text, SNAP_PROTO_TEXT_MAX);

	snap_proto_put16(out, (uint16_t)n);
	buf_append(out, text, n);
}

void
snap_msg_ok(struct buf *out, const char *text)
{
	buf_putc(out, SNAP_MSG_OK);
	snap_msg_text_put(out, text);
}

void
snap_msg_err(struct buf *out, uint16_t code, const char *text)
{
	buf_putc(out, SNAP_MSG_ERR);
	snap_proto_put16(out, code);
	snap_msg_text_put(out, text);
}

/* A cursor over a frame: every take checks what is left first. */
struct snap_msg_rd {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *
snap_msg_take(struct snap_msg_rd *r, size_t n)
{
	const uint8_t *q = r->p;

	if (r->bad || n > r->left) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return q;
}

static uint64_t
snap_msg_uint(struct snap_msg_rd *r, size_t n)
{
	const uint8_t *q = snap_msg_take(r, n);
	uint64_t v = 0;

	for (size_t i = 0; q != NULL && i < n; i++)
		v |= (uint64_t)q[i] << (8 * i);
	return v;
}

/* A u16-prefixed name into out; false when absent or not a store name. */
static bool
snap_msg_name_get(struct snap_msg_rd *r, char out[SNAP_NAME_MAX + 1])
{
	size_t n = (size_t)snap_msg_uint(r, 2);
	const uint8_t *q;

	if (r->bad || n > SNAP_NAME_MAX || (q = snap_msg_take(r, n)) == NULL ||
	    !snap_name_ok((const char *)q, n))
		return false;
	memcpy(out, q, n);
	out[n] = '\0';
	return true;
}

static bool
snap_msg_text_get(struct snap_msg_rd *r, char out[SNAP_PROTO_TEXT_MAX + 1])
{
	size_t n = (size_t)snap_msg_uint(r, 2);
	const uint8_t *q;

	if (r->bad || n > SNAP_PROTO_TEXT_MAX ||
	    (q = snap_msg_take(r, n)) == NULL)
		return false;
	/* Shown to an operator: anything but printable ASCII becomes '?'. */
	for (size_t i = 0; i < n; i++)
		out[i] = q[i] >= 0x20 && q[i] < 0x7f ? (char)q[i] : '?';
	out[n] = '\0';
	return true;
}

int
snap_msg_decode(
    const uint8_t *p, size_t len, struct snap_msg *m, const char **why)
{
	struct snap_msg_rd r = { p, len, false };
	const uint8_t *q;
	uint64_t n;

	memset(m, 0, sizeof(*m));
	*why = NULL;
	if (len < 1 || len > SNAP_PROTO_FRAME_MAX) {
		*why = "frame length out of range";
		return -EBADMSG;
	}
	m->type = (enum snap_msg_type) * snap_msg_take(&r, 1);
	switch (m->type) {
	case SNAP_MSG_OFFER:
		m->flags = (uint8_t)snap_msg_uint(&r, 1);
		if (!r.bad && (m->flags & ~SNAP_OFFER_FLAGS) != 0) {
			*why = "unknown OFFER flags";
			return -EBADMSG;
		}
		if (!snap_msg_name_get(&r, m->volume) ||
		    !snap_msg_name_get(&r, m->id)) {
			*why = "bad volume or snapshot name";
			return -EBADMSG;
		}
		n = snap_msg_uint(&r, 4);
		if ((q = snap_msg_take(&r, (size_t)n)) == NULL || n == 0) {
			*why = "manifest length past the frame";
			return -EBADMSG;
		}
		m->manifest = (const char *)q;
		m->manifest_len = (size_t)n;
		break;
	case SNAP_MSG_WANT:
		n = snap_msg_uint(&r, 4);
		if (r.bad || n > r.left / SNAP_ID_LEN ||
		    (q = snap_msg_take(&r, (size_t)n * SNAP_ID_LEN)) == NULL) {
			*why = "chunk count past the frame";
			return -EBADMSG;
		}
		m->ids = q;
		m->nids = (uint32_t)n;
		break;
	case SNAP_MSG_CHUNK:
		if ((q = snap_msg_take(&r, SNAP_ID_LEN)) == NULL) {
			*why = "short chunk frame";
			return -EBADMSG;
		}
		memcpy(m->chunk.b, q, SNAP_ID_LEN);
		n = snap_msg_uint(&r, 4);
		if (r.bad || n < SNAP_FRAME_HDR + 1 ||
		    n > snap_frame_bound(SNAP_FRAME_RAW_MAX) ||
		    (q = snap_msg_take(&r, (size_t)n)) == NULL) {
			*why = "chunk length out of range";
			return -EBADMSG;
		}
		m->frame = q;
		m->frame_len = (size_t)n;
		break;
	case SNAP_MSG_COMMIT:
		m->sent = snap_msg_uint(&r, 8);
		break;
	case SNAP_MSG_OK:
		if (!snap_msg_text_get(&r, m->text)) {
			*why = "text past the frame";
			return -EBADMSG;
		}
		break;
	case SNAP_MSG_ERR:
		m->code = (uint16_t)snap_msg_uint(&r, 2);
		if (!snap_msg_text_get(&r, m->text)) {
			*why = "text past the frame";
			return -EBADMSG;
		}
		break;
	default:
		*why = "unknown frame type";
		return -EBADMSG;
	}
	if (r.bad) {
		*why = "short frame";
		return -EBADMSG;
	}
	if (r.left != 0) {
		*why = "trailing bytes";
		return -EBADMSG;
	}
	return 0;
}

const char *
snap_msg_name(unsigned type)
{
	static const char *const names[] = { "?", "OFFER", "WANT", "CHUNK",
		"COMMIT", "OK", "ERR" };

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}
