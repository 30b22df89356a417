/*
 * dns_wire.c - see dns_wire.h. Pure: no I/O, clock, globals or
 * allocation.
 *
 * Bytes are read and written one at a time, never through a struct cast
 * over the buffer: message buffers promise no alignment.
 *
 * The query parser walks every record of every section, not just the
 * question and the OPT, because an OPT or TSIG can only be found (and a
 * second OPT only noticed) by stepping over whatever precedes it, and a
 * message whose counts lie is malformed wherever the lie is. Structural
 * faults come first, in message order; the OPT's version and options are
 * judged after the walk, so a message both malformed and of a later EDNS
 * version gets FORMERR, as RFC 6891 §6.1.3 processes the version only of
 * a message it could parse.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "dns/dns_rdata.h"
#include "dns/dns_wire.h"

static const char *const dns_wire_err_names[DNS_WIRE_ERR__COUNT] = {
	[DNS_WIRE_OK] = "ok",
	[DNS_WIRE_SHORT] = "short",
	[DNS_WIRE_QR] = "qr",
	[DNS_WIRE_OPCODE] = "opcode",
	[DNS_WIRE_QDCOUNT] = "qdcount",
	[DNS_WIRE_TRUNCATED] = "truncated",
	[DNS_WIRE_NAME_LABEL] = "name_label",
	[DNS_WIRE_NAME_LONG] = "name_long",
	[DNS_WIRE_PTR_FORWARD] = "ptr_forward",
	[DNS_WIRE_PTR_LOOP] = "ptr_loop",
	[DNS_WIRE_OPT_DUP] = "opt_dup",
	[DNS_WIRE_OPT_SECTION] = "opt_section",
	[DNS_WIRE_OPT_OWNER] = "opt_owner",
	[DNS_WIRE_OPT_OPTION] = "opt_option",
	[DNS_WIRE_ECS_LEN] = "ecs_len",
	[DNS_WIRE_ECS_FAMILY] = "ecs_family",
	[DNS_WIRE_ECS_PREFIX] = "ecs_prefix",
	[DNS_WIRE_ECS_SCOPE] = "ecs_scope",
	[DNS_WIRE_ECS_BITS] = "ecs_bits",
	[DNS_WIRE_ECS_DUP] = "ecs_dup",
	[DNS_WIRE_COOKIE_LEN] = "cookie_len",
	[DNS_WIRE_COOKIE_DUP] = "cookie_dup",
	[DNS_WIRE_KEEPALIVE] = "keepalive_len",
	[DNS_WIRE_TSIG_PLACE] = "tsig_place",
	[DNS_WIRE_TRAILING] = "trailing",
	[DNS_WIRE_BADVERS] = "badvers",
};

const char *
dns_wire_err_name(enum dns_wire_err err)
{
	if ((unsigned)err >= DNS_WIRE_ERR__COUNT)
		return "invalid";
	return dns_wire_err_names[err];
}

int
dns_wire_err_rcode(enum dns_wire_err err)
{
	switch (err) {
	case DNS_WIRE_OK:
		return DNS_RCODE_NOERROR;
	case DNS_WIRE_SHORT:
	case DNS_WIRE_QR:
	case DNS_WIRE_ERR__COUNT:
		return DNS_RCODE_DROP;
	case DNS_WIRE_OPCODE:
		return DNS_RCODE_NOTIMP;
	case DNS_WIRE_BADVERS:
		return DNS_RCODE_BADVERS;
	default:
		return DNS_RCODE_FORMERR;
	}
}

static inline uint16_t
dns_wire_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
dns_wire_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline void
dns_wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
dns_wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

enum dns_wire_err
dns_wire_name_read(
    const uint8_t *msg, size_t len, size_t *off, uint8_t out[DNS_NAME_MAX])
{
	size_t pos = *off, o = 0, end = 0, last = 0, target;
	bool jumped = false;
	uint8_t c;

	for (;;) {
		if (pos >= len)
			return DNS_WIRE_TRUNCATED;
		c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return DNS_WIRE_TRUNCATED;
			target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			if (target >= pos)
				return DNS_WIRE_PTR_FORWARD;
			/*
			 * Targets strictly decrease, so the walk ends; every
			 * compressor points back at names written earlier,
			 * whose own pointers go further back still.
			 */
			if (jumped && target >= last)
				return DNS_WIRE_PTR_LOOP;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			last = target;
			pos = target;
			continue;
		}
		if (c & 0xc0)
			return DNS_WIRE_NAME_LABEL;
		/* The label and, unless it is the root, one after it. */
		if (o + 1 + c + (c != 0) > DNS_NAME_MAX)
			return DNS_WIRE_NAME_LONG;
		if (pos + 1 + c > len)
			return DNS_WIRE_TRUNCATED;
		memcpy(out + o, msg + pos, 1 + (size_t)c);
		o += 1 + (size_t)c;
		pos += 1 + (size_t)c;
		if (c == 0)
			break;
	}
	*off = jumped ? end : pos;
	return DNS_WIRE_OK;
}

/* The ECS option's olen bytes at p (RFC 7871 §6) into q->ecs. */
static enum dns_wire_err
dns_wire_ecs(const uint8_t *p, size_t olen, struct dns_query *q)
{
	struct dns_ecs *e = &q->ecs;
	size_t alen, max;

	if (q->has_ecs)
		return DNS_WIRE_ECS_DUP;
	if (olen < 4)
		return DNS_WIRE_ECS_LEN;
	memset(e, 0, sizeof(*e));
	e->family = dns_wire_get16(p);
	e->source = p[2];
	e->scope = p[3];
	if (e->family == DNS_ECS_FAMILY_IP4)
		max = 32;
	else if (e->family == DNS_ECS_FAMILY_IP6)
		max = 128;
	else
		return DNS_WIRE_ECS_FAMILY;
	if (e->source > max)
		return DNS_WIRE_ECS_PREFIX;
	alen = ((size_t)e->source + 7) / 8;
	if (olen - 4 != alen)
		return DNS_WIRE_ECS_LEN;
	if (e->scope != 0)
		return DNS_WIRE_ECS_SCOPE;
	memcpy(e->addr, p + 4, alen);
	if (e->source % 8 != 0 &&
	    (e->addr[alen - 1] & (0xff >> (e->source % 8))) != 0)
		return DNS_WIRE_ECS_BITS;
	q->has_ecs = true;
	return DNS_WIRE_OK;
}

/* The OPT record's version and options; rdata is rdlen bytes. */
static enum dns_wire_err
dns_wire_opt(const uint8_t *rdata, size_t rdlen, struct dns_query *q)
{
	enum dns_wire_err err;
	size_t off = 0, olen;
	uint16_t code;

	if (q->edns_version > 0)
		return DNS_WIRE_BADVERS; /* options of a later version are
		                            not ours to read */
	while (off < rdlen) {
		if (rdlen - off < 4)
			return DNS_WIRE_OPT_OPTION;
		code = dns_wire_get16(rdata + off);
		olen = dns_wire_get16(rdata + off + 2);
		off += 4;
		if (olen > rdlen - off)
			return DNS_WIRE_OPT_OPTION;
		if (code == DNS_OPTION_ECS) {
			err = dns_wire_ecs(rdata + off, olen, q);
			if (err != DNS_WIRE_OK)
				return err;
		} else if (code == DNS_OPTION_COOKIE) {
			if (q->cookie_len != 0)
				return DNS_WIRE_COOKIE_DUP;
			if (olen != DNS_COOKIE_CLIENT_LEN &&
			    (olen < DNS_COOKIE_CLIENT_LEN +
			                DNS_COOKIE_SERVER_MIN ||
			        olen > DNS_COOKIE_MAX))
				return DNS_WIRE_COOKIE_LEN;
			memcpy(q->cookie, rdata + off, olen);
			q->cookie_len = (uint8_t)olen;
		} else if (code == DNS_OPTION_KEEPALIVE) {
			/* A client only says it understands the option: a
			 * TIMEOUT is the server's to give (RFC 7828
			 * §3.2.1). */
			if (olen != 0)
				return DNS_WIRE_KEEPALIVE;
			q->keepalive = true;
		} else if (code == DNS_OPTION_NSID) {
			/* A requestor sends it empty (RFC 5001 §2.1);
			 * anything inside means nothing to us. */
			q->nsid = true;
		}
		off += olen;
	}
	return DNS_WIRE_OK;
}

enum dns_wire_err
dns_wire_parse_query(const uint8_t *msg, size_t len, struct dns_query *q)
{
	uint8_t owner[DNS_NAME_MAX];
	const uint8_t *opt_rdata = NULL;
	size_t off = DNS_HDR_LEN, opt_len = 0, rdlen;
	uint16_t count[DNS_SEC__COUNT], type, i;
	enum dns_wire_err err;
	unsigned sec;
	uint32_t ttl;

	memset(q, 0, sizeof(*q));
	if (len < DNS_HDR_LEN)
		return DNS_WIRE_SHORT;
	q->id = dns_wire_get16(msg);
	q->flags = dns_wire_get16(msg + 2);
	if (q->flags & DNS_FLAG_QR)
		return DNS_WIRE_QR;
	if (DNS_OPCODE(q->flags) != DNS_OPCODE_QUERY)
		return DNS_WIRE_OPCODE;
	if (dns_wire_get16(msg + 4) != 1)
		return DNS_WIRE_QDCOUNT;
	for (sec = 0; sec < DNS_SEC__COUNT; sec++)
		count[sec] = dns_wire_get16(msg + 6 + 2 * sec);

	err = dns_wire_name_read(msg, len, &off, q->qname);
	if (err != DNS_WIRE_OK)
		return err;
	if (len - off < 4)
		return DNS_WIRE_TRUNCATED;
	q->qname_len = (uint8_t)dns_name_len(q->qname);
	q->qtype = dns_wire_get16(msg + off);
	q->qclass = dns_wire_get16(msg + off + 2);
	off += 4;
	q->has_question = true;

	for (sec = 0; sec < DNS_SEC__COUNT; sec++) {
		for (i = 0; i < count[sec]; i++) {
			err = dns_wire_name_read(msg, len, &off, owner);
			if (err != DNS_WIRE_OK)
				return err;
			if (len - off < 10)
				return DNS_WIRE_TRUNCATED;
			type = dns_wire_get16(msg + off);
			ttl = dns_wire_get32(msg + off + 4);
			rdlen = dns_wire_get16(msg + off + 8);
			if (len - off - 10 < rdlen)
				return DNS_WIRE_TRUNCATED;
			if (type == DNS_TYPE_OPT) {
				if (sec != DNS_SEC_ADDITIONAL)
					return DNS_WIRE_OPT_SECTION;
				if (q->edns)
					return DNS_WIRE_OPT_DUP;
				if (owner[0] != 0)
					return DNS_WIRE_OPT_OWNER;
				q->edns = true;
				q->udp_size = dns_wire_get16(msg + off + 2);
				q->edns_version = (uint8_t)(ttl >> 16);
				q->edns_do = (ttl & DNS_EDNS_DO) != 0;
				/* CO means nothing without DO (RFC 9824
				 * §4): a compact denial is a DNSSEC answer. */
				q->edns_co =
				    q->edns_do && (ttl & DNS_EDNS_CO) != 0;
				opt_rdata = msg + off + 10;
				opt_len = rdlen;
			} else if (type == DNS_TYPE_TSIG) {
				if (sec != DNS_SEC_ADDITIONAL ||
				    i + 1 != count[sec])
					return DNS_WIRE_TSIG_PLACE;
				q->tsig = true;
			}
			off += 10 + rdlen;
		}
	}
	if (off != len)
		return DNS_WIRE_TRAILING;
	if (q->edns)
		return dns_wire_opt(opt_rdata, opt_len, q);
	return DNS_WIRE_OK;
}

/*
 * Response writer.
 */

/* The name at off in our own output (valid: we wrote it) equals name. */
static bool
dns_resp_match(const struct dns_resp *r, size_t off, const uint8_t *name)
{
	const uint8_t *b = r->buf;
	uint8_t i;

	for (;;) {
		while ((b[off] & 0xc0) == 0xc0)
			off = (size_t)(b[off] & 0x3f) << 8 | b[off + 1];
		if (b[off] != *name)
			return false;
		if (*name == 0)
			return true;
		/* Equal octets are the common case: fold only when they
		 * differ. */
		for (i = 1; i <= *name; i++) {
			uint8_t x = b[off + i], y = name[i];

			if (x == y)
				continue;
			if (x >= 'A' && x <= 'Z')
				x += 'a' - 'A';
			if (y >= 'A' && y <= 'Z')
				y += 'a' - 'A';
			if (x != y)
				return false;
		}
		off += 1 + (size_t)*name;
		name += 1 + *name;
	}
}

/* Offset of an earlier copy of name in the message, or -1. */
static int
dns_resp_find(const struct dns_resp *r, const uint8_t *name)
{
	unsigned i;

	for (i = 0; i < r->ncomp; i++)
		if (dns_resp_match(r, r->comp[i], name))
			return r->comp[i];
	return -1;
}

/*
 * Whether name is, octet for octet, the first name of the message (the
 * question's, which most owners of an answer repeat). That name is
 * literal, at DNS_HDR_LEN, and comp[0]: the search would find it first,
 * so a pointer to it is what the search would give, found without
 * folding case label by label.
 */
static bool
dns_resp_is_first(const struct dns_resp *r, const uint8_t *name)
{
	size_t n;

	if (r->ncomp == 0 || r->comp[0] != DNS_HDR_LEN)
		return false; /* no name yet, or the root (never in comp) */
	n = dns_name_len(name);
	return r->len >= DNS_HDR_LEN + n &&
	    memcmp(r->buf + DNS_HDR_LEN, name, n) == 0;
}

/*
 * Write name at r->len, ending at most at end. With compress, the longest
 * suffix already in the message becomes a pointer and the labels written
 * before it are remembered for later names. Returns 0 or -EMSGSIZE.
 */
static int
dns_resp_name(
    struct dns_resp *r, const uint8_t *name, bool compress, size_t end)
{
	const uint8_t *s = name;
	size_t lit, need;
	int ptr = -1;

	if (compress && dns_resp_is_first(r, name)) {
		ptr = DNS_HDR_LEN;
	} else if (compress)
		for (; *s != 0; s += 1 + *s)
			if ((ptr = dns_resp_find(r, s)) >= 0)
				break;
	lit = (size_t)(s - name);
	need = lit + (ptr >= 0 ? 2 : 1);
	if (r->len + need > end)
		return -EMSGSIZE;
	if (compress) {
		const uint8_t *l;

		for (l = name; l < s; l += 1 + *l) {
			size_t at = r->len + (size_t)(l - name);

			if (at < 0x4000 && r->ncomp < DNS_COMP_MAX)
				r->comp[r->ncomp++] = (uint16_t)at;
		}
	}
	memcpy(r->buf + r->len, name, lit);
	r->len += lit;
	if (ptr >= 0) {
		dns_wire_put16(r->buf + r->len, (uint16_t)(0xc000 | ptr));
		r->len += 2;
	} else {
		r->buf[r->len++] = 0;
	}
	return 0;
}

/* Bytes the OPT record will take. */
static size_t
dns_resp_opt_len(const struct dns_resp_opt *opt)
{
	size_t n = DNS_OPT_FIXED;

	if (opt->nsid != NULL)
		n += 4 + opt->nsid_len;
	if (opt->ecs != NULL)
		n += 4 + 4 + ((size_t)opt->ecs->source + 7) / 8;
	if (opt->cookie != NULL)
		n += 4 + opt->cookie_len;
	if (opt->keepalive)
		n += 4 + 2;
	if (opt->has_ede)
		n += 4 + 2;
	return n;
}

int
dns_resp_init(struct dns_resp *r, uint8_t *buf, size_t size, size_t limit,
    const struct dns_query *q, const struct dns_resp_opt *opt)
{
	uint16_t flags;

	/* comp[] is read only below ncomp: the head is enough to clear. */
	memset(r, 0, offsetof(struct dns_resp, comp));
	r->buf = buf;
	r->limit = limit < size ? limit : size;
	if (r->limit > DNS_MSG_MAX)
		r->limit = DNS_MSG_MAX;
	if (opt != NULL) {
		if ((opt->nsid != NULL && opt->nsid_len > DNS_NSID_MAX) ||
		    (opt->cookie != NULL && opt->cookie_len > DNS_COOKIE_MAX))
			return -EINVAL;
		if (opt->ecs != NULL &&
		    ((opt->ecs->family == DNS_ECS_FAMILY_IP4 &&
		         opt->ecs->source > 32) ||
		        opt->ecs->source > 128))
			return -EINVAL;
		r->has_opt = true;
		r->opt = *opt;
		r->reserve = dns_resp_opt_len(opt);
	}
	if (r->limit < DNS_HDR_LEN + r->reserve)
		return -EMSGSIZE;
	flags =
	    DNS_FLAG_QR | (q->flags & (0xf << 11 | DNS_FLAG_RD | DNS_FLAG_CD));
	memset(buf, 0, DNS_HDR_LEN);
	dns_wire_put16(buf, q->id);
	dns_wire_put16(buf + 2, flags);
	r->len = DNS_HDR_LEN;
	if (q->has_question) {
		if (dns_resp_name(r, q->qname, true, r->limit - r->reserve) <
		        0 ||
		    r->len + 4 > r->limit - r->reserve)
			return -EMSGSIZE;
		dns_wire_put16(buf + r->len, q->qtype);
		dns_wire_put16(buf + r->len + 2, q->qclass);
		r->len += 4;
		dns_wire_put16(buf + 4, 1);
	}
	return 0;
}

void
dns_resp_set_flags(struct dns_resp *r, uint16_t flags)
{
	r->buf[2] |= (uint8_t)(flags >> 8);
	r->buf[3] |= (uint8_t)flags;
}

int
dns_resp_set_rcode(struct dns_resp *r, int rcode)
{
	if (rcode < 0 || rcode > 0xfff || (rcode > 0xf && !r->has_opt))
		return -EINVAL;
	r->rcode = rcode;
	r->buf[3] = (uint8_t)((r->buf[3] & 0xf0) | (rcode & 0xf));
	return 0;
}

/*
 * Write the RDATA of one record. The types whose RDATA names RFC 3597 §4
 * lets us compress get them compressed; their RDATA must then parse, or
 * -EINVAL. Everything else goes as it is.
 */
static int
dns_resp_rdata(
    struct dns_resp *r, uint16_t type, const struct dns_rdata *rd, size_t end)
{
	const struct dns_rdata_shape *sh;
	size_t at[DNS_RDATA_NAMES_MAX], from = 0;
	int names, i;

	sh = dns_rdata_shape(type, DNS_RDATA_COMPRESS);
	names = sh == NULL ? 0 : dns_rdata_names(sh, rd->data, rd->len, at);
	if (names < 0)
		return -EINVAL;
	/* The bytes before each name as they are, the name compressed, and
	 * after the last name the rest (the whole RDATA when it has none). */
	for (i = 0; i < names; i++) {
		if (r->len + (at[i] - from) > end)
			return -EMSGSIZE;
		memcpy(r->buf + r->len, rd->data + from, at[i] - from);
		r->len += at[i] - from;
		if (dns_resp_name(r, rd->data + at[i], true, end) < 0)
			return -EMSGSIZE;
		from = at[i] + dns_name_len(rd->data + at[i]);
	}
	if (r->len + (rd->len - from) > end)
		return -EMSGSIZE;
	memcpy(r->buf + r->len, rd->data + from, rd->len - from);
	r->len += rd->len - from;
	return 0;
}

/* One record of set; 0, -EMSGSIZE or -EINVAL. */
static int
dns_resp_rr(struct dns_resp *r, const struct dns_rrset *set,
    const struct dns_rdata *rd, size_t end)
{
	size_t at;
	int rc;

	if ((rc = dns_resp_name(r, set->owner, true, end)) < 0)
		return rc;
	if (r->len + 10 > end)
		return -EMSGSIZE;
	dns_wire_put16(r->buf + r->len, set->type);
	dns_wire_put16(r->buf + r->len + 2, set->rclass);
	dns_wire_put32(r->buf + r->len + 4, set->ttl);
	at = r->len + 8;
	r->len += 10;
	if ((rc = dns_resp_rdata(r, set->type, rd, end)) < 0)
		return rc;
	dns_wire_put16(r->buf + at, (uint16_t)(r->len - at - 2));
	return 0;
}

int
dns_resp_add(struct dns_resp *r, enum dns_section sec,
    const struct dns_rrset *set, bool required)
{
	size_t mark_len = r->len, end = r->limit - r->reserve;
	unsigned mark_comp = r->ncomp, i;
	int rc = 0;

	if ((unsigned)sec >= DNS_SEC__COUNT || sec < r->sec)
		return -EINVAL;
	if (r->full)
		return -EMSGSIZE;
	for (i = 0; i < set->count && rc == 0; i++)
		rc = dns_resp_rr(r, set, &set->rdata[i], end);
	if (rc == 0 && (unsigned)r->counts[sec] + set->count > 0xffff)
		rc = -EMSGSIZE;
	if (rc < 0) {
		r->len = mark_len;
		r->ncomp = mark_comp;
		if (rc == -EMSGSIZE && required) {
			r->full = true;
			r->buf[2] |= DNS_FLAG_TC >> 8;
		}
		return rc;
	}
	r->sec = sec;
	r->counts[sec] = (uint16_t)(r->counts[sec] + set->count);
	return 0;
}

bool
dns_resp_truncated(const struct dns_resp *r)
{
	return r->full;
}

void
dns_resp_mark(const struct dns_resp *r, struct dns_resp_mark *m)
{
	m->len = r->len;
	m->ncomp = r->ncomp;
	m->sec = r->sec;
	memcpy(m->counts, r->counts, sizeof(m->counts));
}

void
dns_resp_rollback(struct dns_resp *r, const struct dns_resp_mark *m)
{
	r->len = m->len;
	r->ncomp = m->ncomp;
	r->sec = m->sec;
	memcpy(r->counts, m->counts, sizeof(r->counts));
}

/* Append the OPT record into the room reserved for it. */
static void
dns_resp_opt_write(struct dns_resp *r)
{
	const struct dns_resp_opt *o = &r->opt;
	uint8_t *p = r->buf + r->len;
	size_t rdlen = r->reserve - DNS_OPT_FIXED, alen;

	p[0] = 0; /* root owner */
	dns_wire_put16(p + 1, DNS_TYPE_OPT);
	dns_wire_put16(p + 3, o->udp_size);
	/* Extended RCODE high bits, version 0, DO (RFC 6891 §6.1.3), CO. */
	dns_wire_put32(p + 5,
	    (uint32_t)(r->rcode >> 4) << 24 | (o->edns_do ? DNS_EDNS_DO : 0) |
	        (o->edns_co ? DNS_EDNS_CO : 0));
	dns_wire_put16(p + 9, (uint16_t)rdlen);
	p += DNS_OPT_FIXED;
	if (o->nsid != NULL) {
		dns_wire_put16(p, DNS_OPTION_NSID);
		dns_wire_put16(p + 2, o->nsid_len);
		memcpy(p + 4, o->nsid, o->nsid_len);
		p += 4 + o->nsid_len;
	}
	if (o->ecs != NULL) {
		alen = ((size_t)o->ecs->source + 7) / 8;
		dns_wire_put16(p, DNS_OPTION_ECS);
		dns_wire_put16(p + 2, (uint16_t)(4 + alen));
		dns_wire_put16(p + 4, o->ecs->family);
		p[6] = o->ecs->source;
		p[7] = o->ecs->scope;
		memcpy(p + 8, o->ecs->addr, alen);
		p += 8 + alen;
	}
	if (o->cookie != NULL) {
		dns_wire_put16(p, DNS_OPTION_COOKIE);
		dns_wire_put16(p + 2, o->cookie_len);
		memcpy(p + 4, o->cookie, o->cookie_len);
		p += 4 + o->cookie_len;
	}
	if (o->keepalive) {
		dns_wire_put16(p, DNS_OPTION_KEEPALIVE);
		dns_wire_put16(p + 2, 2);
		dns_wire_put16(p + 4, o->keepalive_100ms);
		p += 6;
	}
	if (o->has_ede) {
		dns_wire_put16(p, DNS_OPTION_EDE);
		dns_wire_put16(p + 2, 2);
		dns_wire_put16(p + 4, o->ede);
	}
	r->len += r->reserve;
}

int
dns_resp_set_ede(struct dns_resp *r, uint16_t code)
{
	if (!r->has_opt)
		return -EINVAL;
	if (!r->opt.has_ede) {
		if (r->len + r->reserve + 6 > r->limit)
			return -EMSGSIZE;
		r->reserve += 6;
		r->opt.has_ede = true;
	}
	r->opt.ede = code;
	return 0;
}

size_t
dns_resp_finish(struct dns_resp *r)
{
	uint16_t ar = r->counts[DNS_SEC_ADDITIONAL];

	if (r->has_opt) {
		dns_resp_opt_write(r);
		ar++;
	}
	dns_wire_put16(r->buf + 6, r->counts[DNS_SEC_ANSWER]);
	dns_wire_put16(r->buf + 8, r->counts[DNS_SEC_AUTHORITY]);
	dns_wire_put16(r->buf + 10, ar);
	return r->len;
}
