/*
 * vrrp_pkt.c - see vrrp_pkt.h. Pure: no I/O, clock, globals or allocation.
 *
 * Bytes are read and written one at a time, never through a packed struct
 * cast over the buffer: the caller's buffer has no alignment promise, and
 * byte order then needs no thought.
 *
 * Decode checks the packet's shape (length, version, count against length)
 * before the checksum and its field values after it, so a packet damaged
 * in transit counts as a checksum failure rather than as whatever field the
 * damage happened to hit, and a well-formed packet that breaks a rule
 * counts under that rule.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "vrrp/vrrp_pkt.h"

static const char *const vrrp_drop_names[VRRP_DROP__COUNT] = {
	[VRRP_DROP_NONE] = "none",
	[VRRP_DROP_FAMILY] = "family",
	[VRRP_DROP_TTL] = "ttl",
	[VRRP_DROP_LENGTH] = "length",
	[VRRP_DROP_VERSION] = "version",
	[VRRP_DROP_V2_IPV6] = "v2_ipv6",
	[VRRP_DROP_ADDR_COUNT] = "addr_count",
	[VRRP_DROP_CHECKSUM] = "checksum",
	[VRRP_DROP_TYPE] = "type",
	[VRRP_DROP_NO_ADDR] = "no_addr",
	[VRRP_DROP_AUTH] = "auth",
	[VRRP_DROP_INTERVAL] = "interval",
	[VRRP_DROP_IPV6_LL] = "ipv6_ll",
	[VRRP_DROP_VRID_UNKNOWN] = "vrid",
	[VRRP_DROP_ADDR_MISMATCH] = "addr_mismatch",
	[VRRP_DROP_INTERVAL_MISMATCH] = "interval_mismatch",
	[VRRP_DROP_PEER_UNKNOWN] = "peer",
	[VRRP_DROP_AUTH_MISSING] = "auth_missing",
	[VRRP_DROP_AUTH_TRAILER] = "auth_trailer",
	[VRRP_DROP_AUTH_KEY_ID] = "auth_key_id",
	[VRRP_DROP_AUTH_BAD_MAC] = "auth_bad_mac",
	[VRRP_DROP_AUTH_REPLAY] = "auth_replay",
	[VRRP_DROP_AUTH_UNEXPECTED] = "auth_unexpected",
};

const char *
vrrp_drop_name(enum vrrp_drop d)
{
	if ((unsigned)d >= VRRP_DROP__COUNT || vrrp_drop_names[d] == NULL)
		return "invalid";
	return vrrp_drop_names[d];
}

static size_t
vrrp_pkt_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

size_t
vrrp_pkt_len(unsigned version, int family, unsigned naddrs)
{
	size_t alen = vrrp_pkt_addr_len(family);

	if (alen == 0 || naddrs > VRRP_ADDRS_MAX)
		return 0;
	if (version == 3)
		return VRRP_HDR_LEN + naddrs * alen;
	if (version == 2 && family == AF_INET)
		return VRRP_HDR_LEN + naddrs * alen + VRRP_V2_AUTH_LEN;
	return 0;
}

/*
 * Add n bytes, as big-endian 16-bit words, to an unfolded one's complement
 * sum. At most VRRP_PKT_MAX + 40 bytes go in, so 32 bits cannot overflow.
 */
static uint32_t
vrrp_pkt_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

/*
 * The RFC 1071 checksum of the n-byte message at msg with its checksum
 * field (bytes 6-7) taken as zero, plus the pseudo-header of ip when asked:
 * IPv4 source, destination, zero, protocol, 16-bit length (RFC 768 layout)
 * or the RFC 8200 §8.1 one, 32-bit length then three zeros and next header.
 */
static uint16_t
vrrp_pkt_csum(
    const struct vrrp_ip *ip, bool pseudo, const uint8_t *msg, size_t n)
{
	uint8_t ph[40];
	size_t phlen = 0;
	uint32_t sum;

	if (pseudo && ip->family == AF_INET) {
		memcpy(ph, &ip->src.v4, 4);
		memcpy(ph + 4, &ip->dst.v4, 4);
		ph[8] = 0;
		ph[9] = VRRP_IPPROTO;
		ph[10] = (uint8_t)(n >> 8);
		ph[11] = (uint8_t)n;
		phlen = 12;
	} else if (pseudo) {
		memcpy(ph, &ip->src.v6, 16);
		memcpy(ph + 16, &ip->dst.v6, 16);
		ph[32] = ph[33] = 0;
		ph[34] = (uint8_t)(n >> 8);
		ph[35] = (uint8_t)n;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = VRRP_IPPROTO;
		phlen = 40;
	}
	sum = vrrp_pkt_sum(0, ph, phlen);
	sum = vrrp_pkt_sum(sum, msg, 6);
	sum = vrrp_pkt_sum(sum, msg + 8, n - 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Which form makes the n-byte message at msg verify: the pseudo-header one
 * first, as it is what keepalived sends, and for v3 over IPv4 the
 * message-only one next. VRRP_CSUM_AUTO when neither does.
 */
static enum vrrp_csum
vrrp_pkt_csum_match(
    const struct vrrp_ip *ip, unsigned version, const uint8_t *msg, size_t n)
{
	uint16_t got = (uint16_t)(msg[6] << 8 | msg[7]);

	if (version == 3 && vrrp_pkt_csum(ip, true, msg, n) == got)
		return VRRP_CSUM_PSEUDO;
	if ((version == 2 || ip->family == AF_INET) &&
	    vrrp_pkt_csum(ip, false, msg, n) == got)
		return VRRP_CSUM_MSG;
	return VRRP_CSUM_AUTO;
}

static bool
vrrp_pkt_is_ll6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80; /* fe80::/10 */
}

/* The rules a well-formed, correctly summed packet can still break. */
static enum vrrp_drop
vrrp_pkt_fields(int family, unsigned version, const uint8_t *msg)
{
	if ((msg[0] & 0x0f) != VRRP_TYPE_ADVERT)
		return VRRP_DROP_TYPE;
	if (msg[1] == 0)
		return VRRP_DROP_VRID_UNKNOWN; /* no instance can have it */
	if (msg[3] == 0)
		return VRRP_DROP_NO_ADDR;
	if (version == 2 && msg[4] != 0)
		return VRRP_DROP_AUTH;
	/* A zero interval would expire a Backup's timer at once. */
	if (msg[5] == 0 && (version == 2 || (msg[4] & 0x0f) == 0))
		return VRRP_DROP_INTERVAL;
	if (family == AF_INET6 && !vrrp_pkt_is_ll6(msg + VRRP_HDR_LEN))
		return VRRP_DROP_IPV6_LL;
	return VRRP_DROP_NONE;
}

enum vrrp_drop
vrrp_pkt_decode(const struct vrrp_ip *ip, unsigned versions, const uint8_t *buf,
    size_t len, struct vrrp_pkt *out)
{
	enum vrrp_drop why;
	unsigned version;
	size_t n, m, alen;

	if ((alen = vrrp_pkt_addr_len(ip->family)) == 0)
		return VRRP_DROP_FAMILY;
	if (len < ip->len)
		return VRRP_DROP_LENGTH;
	n = ip->len;
	if (!ip->ttl_any && ip->ttl != VRRP_TTL)
		return VRRP_DROP_TTL;
	if (n < VRRP_HDR_LEN)
		return VRRP_DROP_LENGTH;
	version = buf[0] >> 4;
	if ((version != 2 && version != 3) || !(versions & (1u << version)))
		return VRRP_DROP_VERSION;
	if (version == 2 && ip->family != AF_INET)
		return VRRP_DROP_V2_IPV6;
	/*
	 * Exact: trailing bytes are no part of any advertisement we know,
	 * unless the caller takes them as a trailer; then the message is
	 * what the count says and the rest is the caller's.
	 */
	m = vrrp_pkt_len(version, ip->family, buf[3]);
	if (n != m && !((versions & VRRP_PKT_TRAILER) && m < n))
		return VRRP_DROP_ADDR_COUNT;
	n = m;
	memset(out, 0, sizeof(*out));
	if ((out->csum = vrrp_pkt_csum_match(ip, version, buf, n)) ==
	    VRRP_CSUM_AUTO)
		return VRRP_DROP_CHECKSUM;
	if ((why = vrrp_pkt_fields(ip->family, version, buf)) != VRRP_DROP_NONE)
		return why;

	out->version = (uint8_t)version;
	out->len = n;
	out->vrid = buf[1];
	out->priority = buf[2];
	out->naddrs = buf[3];
	out->checksum = (uint16_t)(buf[6] << 8 | buf[7]);
	out->addrs = buf + VRRP_HDR_LEN;
	if (version == 3) {
		out->reserved = buf[4] >> 4;
		out->interval_cs = (uint16_t)((buf[4] & 0x0f) << 8 | buf[5]);
	} else {
		out->interval_cs = (uint16_t)(buf[5] * 100);
		memcpy(out->auth, buf + VRRP_HDR_LEN + buf[3] * alen,
		    VRRP_V2_AUTH_LEN);
	}
	return VRRP_DROP_NONE;
}

static bool
vrrp_pkt_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/*
 * Whether pkt is one vrrp_pkt_decode would accept for these endpoints; on
 * success *form is the checksum form to write. vrrp_pkt_len() has already
 * vetted version and family.
 */
static int
vrrp_pkt_check(
    const struct vrrp_ip *ip, const struct vrrp_pkt *pkt, enum vrrp_csum *form)
{
	unsigned iv = pkt->interval_cs;

	if (pkt->vrid == 0 || pkt->naddrs == 0 || pkt->addrs == NULL)
		return -EINVAL;
	if (pkt->version == 3 &&
	    (iv == 0 || iv > VRRP_V3_INTVL_MAX || pkt->reserved > 0x0f ||
	        !vrrp_pkt_zero(pkt->auth, sizeof(pkt->auth))))
		return -EINVAL;
	if (pkt->version == 2 &&
	    (iv == 0 || iv % 100 != 0 || iv / 100 > VRRP_V2_INTVL_MAX ||
	        pkt->reserved != 0))
		return -EINVAL;
	if (ip->family == AF_INET6 && !vrrp_pkt_is_ll6(pkt->addrs))
		return -EINVAL;
	*form = pkt->csum;
	if (*form == VRRP_CSUM_AUTO)
		*form = pkt->version == 2 ? VRRP_CSUM_MSG : VRRP_CSUM_PSEUDO;
	if (*form == VRRP_CSUM_PSEUDO && pkt->version != 3)
		return -EINVAL;
	if (*form == VRRP_CSUM_MSG && pkt->version != 2 &&
	    ip->family != AF_INET)
		return -EINVAL;
	if (*form != VRRP_CSUM_PSEUDO && *form != VRRP_CSUM_MSG)
		return -EINVAL;
	return 0;
}

int
vrrp_pkt_encode(const struct vrrp_ip *ip, const struct vrrp_pkt *pkt,
    uint8_t *buf, size_t size)
{
	size_t n, alen = vrrp_pkt_addr_len(ip->family);
	enum vrrp_csum form;
	uint16_t c;

	n = vrrp_pkt_len(pkt->version, ip->family, pkt->naddrs);
	if (n == 0 || vrrp_pkt_check(ip, pkt, &form) < 0)
		return -EINVAL;
	if (n > size)
		return -EMSGSIZE;
	buf[0] = (uint8_t)(pkt->version << 4 | VRRP_TYPE_ADVERT);
	buf[1] = pkt->vrid;
	buf[2] = pkt->priority;
	buf[3] = pkt->naddrs;
	if (pkt->version == 3) {
		buf[4] = (uint8_t)(pkt->reserved << 4 | pkt->interval_cs >> 8);
		buf[5] = (uint8_t)pkt->interval_cs;
	} else {
		buf[4] = 0; /* auth type: none, the only one we speak */
		buf[5] = (uint8_t)(pkt->interval_cs / 100);
	}
	/* memmove: a caller may re-encode a packet decoded from buf. */
	memmove(buf + VRRP_HDR_LEN, pkt->addrs, pkt->naddrs * alen);
	if (pkt->version == 2)
		memcpy(buf + VRRP_HDR_LEN + pkt->naddrs * alen, pkt->auth,
		    VRRP_V2_AUTH_LEN);
	c = vrrp_pkt_csum(ip, form == VRRP_CSUM_PSEUDO, buf, n);
	buf[6] = (uint8_t)(c >> 8);
	buf[7] = (uint8_t)c;
	return (int)n;
}
