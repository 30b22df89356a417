/*
 * vrrp_tk.c - the pure parts of the takeover interface (vrrp_tk.h): the
 * per-instance bookkeeping every backend shares, the havip backend's
 * fallback back-off, its ICMP echo codec and its owner probe's frame, the
 * exec backend's retry schedule and proof test.
 *
 * Pure: no I/O, no clock, no globals; times come in as arguments. The
 * bookkeeping keeps one invariant: unverified_since_us is set exactly
 * while the instance is master with a backend that verifies and has no
 * proof of ownership (ACQUIRING, VERIFYING, NOT_OWNER, FAILED), so the
 * dual-master time it sums is time in which another node may have been
 * answering for the VIP.
 */
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>

#include <string.h>

#include "vrrp/vrrp_tk.h"

static const char *const vrrp_tk_state_names[VRRP_TK__COUNT] = {
	[VRRP_TK_IDLE] = "idle",
	[VRRP_TK_ACQUIRING] = "acquiring",
	[VRRP_TK_HELD] = "held",
	[VRRP_TK_VERIFYING] = "verifying",
	[VRRP_TK_OWNER] = "owner",
	[VRRP_TK_NOT_OWNER] = "not-owner",
	[VRRP_TK_FAILED] = "failed",
};

static const char *const vrrp_tk_icmp_drop_names[VRRP_TK_ICMP__COUNT] = {
	[VRRP_TK_ICMP_OK] = "ok",
	[VRRP_TK_ICMP_SHORT] = "short",
	[VRRP_TK_ICMP_NOT_V4] = "not_ipv4",
	[VRRP_TK_ICMP_FRAGMENT] = "fragment",
	[VRRP_TK_ICMP_NOT_REPLY] = "not_echo_reply",
	[VRRP_TK_ICMP_CKSUM] = "checksum",
	[VRRP_TK_ICMP_ADDR] = "address",
	[VRRP_TK_ICMP_ID] = "other_id",
	[VRRP_TK_ICMP_TOKEN_BAD] = "token",
	[VRRP_TK_ICMP_STALE] = "stale_seq",
};

const struct vrrp_tk_ops *
vrrp_tk_ops_of(int kind)
{
	switch (kind) {
	case VRRP_TK_HAVIP:
		return &vrrp_tk_havip_ops;
	case VRRP_TK_EXEC:
		return &vrrp_tk_exec_ops;
	default:
		return &vrrp_tk_local_ops;
	}
}

const char *
vrrp_tk_state_name(enum vrrp_tk_state st)
{
	return (unsigned)st < VRRP_TK__COUNT ? vrrp_tk_state_names[st] : "?";
}

const char *
vrrp_tk_icmp_drop_name(enum vrrp_tk_icmp_drop d)
{
	return (unsigned)d < VRRP_TK_ICMP__COUNT ? vrrp_tk_icmp_drop_names[d] :
	                                           "?";
}

static bool
vrrp_tk_unverified(const struct vrrp_tk *tk, enum vrrp_tk_state st)
{
	return tk->ops != NULL && tk->ops->verifies &&
	    tk->master_since_us != 0 && st != VRRP_TK_OWNER &&
	    st != VRRP_TK_IDLE;
}

/* Close or open the unverified span to match the state. */
static void
vrrp_tk_span(struct vrrp_tk *tk, uint64_t now_us)
{
	bool open = vrrp_tk_unverified(tk, tk->state);

	if (!open && tk->unverified_since_us != 0) {
		tk->unverified_us += now_us - tk->unverified_since_us;
		tk->unverified_since_us = 0;
	} else if (open && tk->unverified_since_us == 0)
		tk->unverified_since_us = now_us ? now_us : 1;
}

void
vrrp_tk_begin(struct vrrp_tk *tk, uint64_t now_us)
{
	/* 0 means "not master": a clock at 0 is taken as 1 us. */
	tk->master_since_us = now_us ? now_us : 1;
	tk->verified = false;
	tk->acquires++;
	tk->state = VRRP_TK_ACQUIRING;
	vrrp_tk_span(tk, now_us);
}

bool
vrrp_tk_set(struct vrrp_tk *tk, enum vrrp_tk_state st, uint64_t now_us)
{
	if (tk->state == st)
		return false;
	if (st == VRRP_TK_FAILED)
		tk->failures++;
	if (st == VRRP_TK_OWNER && !tk->verified && tk->master_since_us) {
		tk->verified = true;
		tk->verify_us = now_us - tk->master_since_us;
	}
	tk->state = st;
	vrrp_tk_span(tk, now_us);
	return true;
}

void
vrrp_tk_proof(struct vrrp_tk *tk, uint64_t wall_ms)
{
	tk->verified_wall_ms = wall_ms;
}

void
vrrp_tk_end(struct vrrp_tk *tk, uint64_t now_us)
{
	tk->state = VRRP_TK_IDLE;
	vrrp_tk_span(tk, now_us);
	tk->master_since_us = 0;
}

uint64_t
vrrp_tk_unverified_us(const struct vrrp_tk *tk, uint64_t now_us)
{
	uint64_t open = 0;

	if (tk->unverified_since_us != 0 && now_us > tk->unverified_since_us)
		open = now_us - tk->unverified_since_us;
	return tk->unverified_us + open;
}

uint64_t
vrrp_tk_backoff_us(unsigned n, uint64_t max_us)
{
	uint64_t d = VRRP_TK_BACKOFF_FIRST_US;

	if (max_us < VRRP_TK_BACKOFF_FIRST_US)
		max_us = VRRP_TK_BACKOFF_FIRST_US;
	/* Stops at the cap, and saturates rather than wrap. */
	while (n-- > 0 && d < max_us)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	return d < max_us ? d : max_us;
}

uint64_t
vrrp_tk_exec_pause_ms(
    unsigned n, unsigned retries, uint64_t backoff_ms, uint64_t max_ms)
{
	uint64_t d = backoff_ms ? backoff_ms : 1;

	if (max_ms < d)
		max_ms = d;
	if (n > retries)
		return max_ms;
	/* Stops at the cap, and saturates rather than wrap. */
	while (n-- > 1 && d < max_ms)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	return d < max_ms ? d : max_ms;
}

bool
vrrp_tk_exec_owns(const char *out, size_t len, const char *expect)
{
	size_t n = expect != NULL ? strlen(expect) : 0;

	return n > 0 && out != NULL && memmem(out, len, expect, n) != NULL;
}

bool
vrrp_tk_owner_lost_due(
    unsigned streak, uint64_t last_us, uint64_t now_us, uint64_t max_us)
{
	if (streak == 0)
		return true;
	return now_us >= last_us &&
	    now_us - last_us >= vrrp_tk_backoff_us(streak - 1, max_us);
}

uint16_t
vrrp_tk_icmp_cksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n == 1)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t
vrrp_tk_icmp_build(uint8_t buf[VRRP_TK_ICMP_LEN], uint16_t id, uint16_t seq,
    const uint8_t token[VRRP_TK_ICMP_TOKEN])
{
	uint16_t c;

	memset(buf, 0, VRRP_TK_ICMP_LEN);
	buf[0] = ICMP_ECHO; /* RFC 792: type 8, code 0 */
	buf[4] = (uint8_t)(id >> 8);
	buf[5] = (uint8_t)id;
	buf[6] = (uint8_t)(seq >> 8);
	buf[7] = (uint8_t)seq;
	memcpy(buf + 8, token, VRRP_TK_ICMP_TOKEN);
	c = vrrp_tk_icmp_cksum(buf, VRRP_TK_ICMP_LEN);
	buf[2] = (uint8_t)(c >> 8);
	buf[3] = (uint8_t)c;
	return VRRP_TK_ICMP_LEN;
}

static uint16_t
vrrp_tk_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

enum vrrp_tk_icmp_drop
vrrp_tk_icmp_parse(const uint8_t *pkt, size_t len,
    const struct vrrp_tk_icmp_match *m, uint16_t *seq)
{
	const uint8_t *icmp;
	size_t ihl, tot, n;
	uint16_t id, s, window = m->window ? m->window : 1;

	if (len < 20)
		return VRRP_TK_ICMP_SHORT;
	if (pkt[0] >> 4 != 4)
		return VRRP_TK_ICMP_NOT_V4;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	tot = vrrp_tk_be16(pkt + 2);
	/* Raw sockets hand over the header as received; trust the shorter
	 * of the datagram and its total length. */
	if (ihl < 20 || tot < ihl || len < ihl + 8 || tot < ihl + 8)
		return VRRP_TK_ICMP_SHORT;
	if ((vrrp_tk_be16(pkt + 6) & 0x3fff) != 0) /* MF or an offset */
		return VRRP_TK_ICMP_FRAGMENT;
	icmp = pkt + ihl;
	n = (tot < len ? tot : len) - ihl;
	if (icmp[0] != ICMP_ECHOREPLY || icmp[1] != 0)
		return VRRP_TK_ICMP_NOT_REPLY;
	if (vrrp_tk_icmp_cksum(icmp, n) != 0)
		return VRRP_TK_ICMP_CKSUM;
	if (memcmp(pkt + 12, &m->from, 4) != 0 ||
	    memcmp(pkt + 16, &m->to, 4) != 0)
		return VRRP_TK_ICMP_ADDR;
	id = vrrp_tk_be16(icmp + 4);
	s = vrrp_tk_be16(icmp + 6);
	if (id != m->id)
		return VRRP_TK_ICMP_ID;
	if (n < VRRP_TK_ICMP_LEN ||
	    memcmp(icmp + 8, m->token, VRRP_TK_ICMP_TOKEN) != 0)
		return VRRP_TK_ICMP_TOKEN_BAD;
	/* Sequence numbers wrap: distance back from the last one sent. */
	if ((uint16_t)(m->seq - s) >= window)
		return VRRP_TK_ICMP_STALE;
	*seq = s;
	return VRRP_TK_ICMP_OK;
}

size_t
vrrp_tk_owner_build(uint8_t frame[VRRP_TK_OWNER_FRAME_LEN],
    const uint8_t gw_mac[VRRP_TK_MACLEN], const uint8_t own_mac[VRRP_TK_MACLEN],
    struct in_addr src, struct in_addr vip, uint16_t id, uint16_t seq,
    const uint8_t token[VRRP_TK_ICMP_TOKEN])
{
	uint8_t *ip = frame + VRRP_TK_ETH_HLEN;
	uint16_t c, tot = 20 + VRRP_TK_ICMP_LEN;

	memcpy(frame, gw_mac, VRRP_TK_MACLEN);
	memcpy(frame + VRRP_TK_MACLEN, own_mac, VRRP_TK_MACLEN);
	frame[12] = 0x08; /* ETHERTYPE_IP */
	frame[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45; /* version 4, 5 words: no options */
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	/* A fresh identifier per probe, though DF makes it unused. */
	ip[4] = (uint8_t)(seq >> 8);
	ip[5] = (uint8_t)seq;
	ip[6] = 0x40; /* DF: 36 bytes never need fragmenting */
	ip[8] = 64;
	ip[9] = IPPROTO_ICMP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &vip, 4);
	c = vrrp_tk_icmp_cksum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	vrrp_tk_icmp_build(ip + 20, id, seq, token);
	return VRRP_TK_OWNER_FRAME_LEN;
}

enum vrrp_tk_icmp_drop
vrrp_tk_owner_parse(const uint8_t *frame, size_t len,
    const struct vrrp_tk_icmp_match *m, uint16_t *seq)
{
	if (len < VRRP_TK_ETH_HLEN)
		return VRRP_TK_ICMP_SHORT;
	if (vrrp_tk_be16(frame + 12) != 0x0800) /* ETHERTYPE_IP */
		return VRRP_TK_ICMP_NOT_V4;
	return vrrp_tk_icmp_parse(
	    frame + VRRP_TK_ETH_HLEN, len - VRRP_TK_ETH_HLEN, m, seq);
}
