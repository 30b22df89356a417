/*
 * Unit tests for vrrp_pkt.c: the VRRP advertisement codec.
 *
 * Golden packets come from two places. The keepalived ones were captured
 * off the wire; the hand ones have their checksum worked out in the comment
 * above them. Every golden packet must decode to the listed fields and the
 * encoder, given those fields and the checksum form, must write the very
 * same bytes. Then one minimal edit of a good packet per discard rule, with
 * the checksum recomputed here (independently of vrrp_pkt.c) whenever the
 * edit is meant to reach a rule behind the checksum.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>

#include "lib/util.h"
#include "runner.h"
#include "vrrp/vrrp_pkt.h"

/*
 * Captured from keepalived 2.2.7 (Debian 12 package 1:2.2.7-1+b2) on Linux
 * 6.18: keepalived -n -l -D -P in network namespace vpkt1 on veth vpkt-a
 * (198.18.10.1/24, fe80::1/64), tcpdump -w in vpkt2 on the peer end
 * (198.18.10.2/24, fe80::2/64); no other keepalived on the link, so the
 * instance became master after ~3.6 s, advertised, and sent priority 0
 * when stopped with SIGTERM. Payloads are the bytes after the IP header;
 * every packet had TTL / hop limit 255. Common to all configs:
 *
 *	global_defs { router_id vpkt1; vrrp_version 3 }   (2 for the v2 ones)
 *	vrrp_instance VI { state BACKUP; interface vpkt-a; advert_int 1; ... }
 *
 * ka_v3_mc: virtual_router_id 51; priority 100;
 *           virtual_ipaddress { 198.18.10.100/32 }
 *   198.18.10.1 > 224.0.0.18. The checksum e94d is the pseudo-header form;
 *   the message-only sum would be 99f0 (see hand_v3_msg below).
 */
static const uint8_t ka_v3_mc[] = { 0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0xe9,
	0x4d, 0xc6, 0x12, 0x0a, 0x64 };
/* The same instance's priority-0 advert on SIGTERM. */
static const uint8_t ka_v3_mc_stop[] = { 0x31, 0x33, 0x00, 0x01, 0x00, 0x64,
	0x4d, 0x4e, 0xc6, 0x12, 0x0a, 0x64 };
/*
 * ka_v3_uc: virtual_router_id 52; priority 150; advert_int 0.5;
 *           unicast_src_ip 198.18.10.1; unicast_peer { 198.18.10.2 }
 *           virtual_ipaddress { 198.18.10.100/32 198.18.10.101/32 }
 *   198.18.10.1 > 198.18.10.2, TTL 255. Pseudo-header form with the peer as
 *   destination (f6ff; message-only would be 97a8).
 */
static const uint8_t ka_v3_uc[] = { 0x31, 0x34, 0x96, 0x02, 0x00, 0x32, 0xf6,
	0xff, 0xc6, 0x12, 0x0a, 0x64, 0xc6, 0x12, 0x0a, 0x65 };
static const uint8_t ka_v3_uc_stop[] = { 0x31, 0x34, 0x00, 0x02, 0x00, 0x32,
	0x8d, 0x00, 0xc6, 0x12, 0x0a, 0x64, 0xc6, 0x12, 0x0a, 0x65 };
/*
 * ka_v3_v6: vrrp_instance VI6; virtual_router_id 53; priority 100;
 *           virtual_ipaddress { fe80::100/64 fd00:18:10::100/64 }
 *   fe80::1 > ff02::12, hop limit 255; keepalived kept the configured order.
 */
static const uint8_t ka_v3_v6[] = { 0x31, 0x35, 0x64, 0x02, 0x00, 0x64, 0x6e,
	0x8b, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0xfd, 0x00, 0x00, 0x18, 0x00, 0x10, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00 };
static const uint8_t ka_v3_v6_stop[] = { 0x31, 0x35, 0x00, 0x02, 0x00, 0x64,
	0xd2, 0x8b, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0xfd, 0x00, 0x00, 0x18, 0x00, 0x10,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00 };
/*
 * ka_v2: vrrp_version 2; virtual_router_id 54; priority 100;
 *        virtual_ipaddress { 198.18.10.100/32 }
 *   198.18.10.1 > 224.0.0.18. Auth type 0, interval 1 s, 8 zero bytes of
 *   auth data; message-only checksum.
 */
static const uint8_t ka_v2[] = { 0x21, 0x36, 0x64, 0x01, 0x00, 0x01, 0xaa, 0x50,
	0xc6, 0x12, 0x0a, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00 };
static const uint8_t ka_v2_stop[] = { 0x21, 0x36, 0x00, 0x01, 0x00, 0x01, 0x0e,
	0x51, 0xc6, 0x12, 0x0a, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00 };
/*
 * ka_v2_pass: as ka_v2 with virtual_router_id 55 and
 *             authentication { auth_type PASS; auth_pass vpkt }
 *   Auth type 1, data "vpkt" NUL-padded: discarded as VRRP_DROP_AUTH.
 */
static const uint8_t ka_v2_pass[] = { 0x21, 0x37, 0x64, 0x01, 0x01, 0x01, 0xc7,
	0x6a, 0xc6, 0x12, 0x0a, 0x64, 0x76, 0x70, 0x6b, 0x74, 0x00, 0x00, 0x00,
	0x00 };

/*
 * hand_v3_msg: ka_v3_mc's fields in the message-only form (RFC 9568).
 * Words with the checksum zeroed: 3133 + 6401 + 0064 + c612 + 0a64
 * = 1660e, folded 660e + 1 = 660f, complement 99f0.
 * (The pseudo-header form adds c612 + 0a01 + e000 + 0012 + 0070 + 000c =
 * 1b0a1: 1660e + 1b0a1 = 316af, folded 16b2, complement e94d, which is
 * what keepalived sent.)
 */
static const uint8_t hand_v3_msg[] = { 0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x99,
	0xf0, 0xc6, 0x12, 0x0a, 0x64 };
/*
 * hand_v2: VRID 1, priority 255 (owner), 2 addresses 198.18.0.1 and
 * 198.18.0.2, auth type 0, interval 3 s, zero auth data.
 * 2101 + ff02 + 0003 + c612 + 0001 + c612 + 0002 = 2ac2d, folded
 * ac2d + 2 = ac2f, complement 53d0.
 */
static const uint8_t hand_v2[] = { 0x21, 0x01, 0xff, 0x02, 0x00, 0x03, 0x53,
	0xd0, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00 };
/*
 * hand_v6: VRID 1, priority 200, interval 10 cs, one address fe80::1,
 * from fe80::2 to ff02::12. Message: 3101 + c801 + 000a + fe80 + 0001 =
 * 1f78d. Pseudo-header: fe80 + 0002 (src) + ff02 + 0012 (dst) + 0000 +
 * 0018 (length 24) + 0070 (next header) = 1fe1e. Total 3f5ab, folded
 * f5ab + 3 = f5ae, complement 0a51.
 */
static const uint8_t hand_v6[] = { 0x31, 0x01, 0xc8, 0x01, 0x00, 0x0a, 0x0a,
	0x51, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01 };

struct golden {
	const char *name;
	const uint8_t *bytes; /* static */
	size_t len;
	int family;
	const char *src;
	const char *dst;
	enum vrrp_csum form; /* the form it carries */
	uint8_t version;
	uint8_t vrid;
	uint8_t priority;
	uint8_t naddrs;
	uint16_t interval_cs;
};

#define G(name, b, fam, s, d, form, v, id, pri, n, iv)                         \
	{                                                                      \
		name, b, sizeof(b), fam, s, d, form, v, id, pri, n, iv         \
	}

static const struct golden goldens[] = {
	G("ka_v3_mc", ka_v3_mc, AF_INET, "198.18.10.1", "224.0.0.18",
	    VRRP_CSUM_PSEUDO, 3, 51, 100, 1, 100),
	G("ka_v3_mc_stop", ka_v3_mc_stop, AF_INET, "198.18.10.1", "224.0.0.18",
	    VRRP_CSUM_PSEUDO, 3, 51, 0, 1, 100),
	G("ka_v3_uc", ka_v3_uc, AF_INET, "198.18.10.1", "198.18.10.2",
	    VRRP_CSUM_PSEUDO, 3, 52, 150, 2, 50),
	G("ka_v3_uc_stop", ka_v3_uc_stop, AF_INET, "198.18.10.1", "198.18.10.2",
	    VRRP_CSUM_PSEUDO, 3, 52, 0, 2, 50),
	G("ka_v3_v6", ka_v3_v6, AF_INET6, "fe80::1", "ff02::12",
	    VRRP_CSUM_PSEUDO, 3, 53, 100, 2, 100),
	G("ka_v3_v6_stop", ka_v3_v6_stop, AF_INET6, "fe80::1", "ff02::12",
	    VRRP_CSUM_PSEUDO, 3, 53, 0, 2, 100),
	G("ka_v2", ka_v2, AF_INET, "198.18.10.1", "224.0.0.18", VRRP_CSUM_MSG,
	    2, 54, 100, 1, 100),
	G("ka_v2_stop", ka_v2_stop, AF_INET, "198.18.10.1", "224.0.0.18",
	    VRRP_CSUM_MSG, 2, 54, 0, 1, 100),
	G("hand_v3_msg", hand_v3_msg, AF_INET, "198.18.10.1", "224.0.0.18",
	    VRRP_CSUM_MSG, 3, 51, 100, 1, 100),
	G("hand_v2", hand_v2, AF_INET, "198.18.0.1", "224.0.0.18",
	    VRRP_CSUM_MSG, 2, 1, 255, 2, 300),
	G("hand_v6", hand_v6, AF_INET6, "fe80::2", "ff02::12", VRRP_CSUM_PSEUDO,
	    3, 1, 200, 1, 10),
};

static const struct golden *
t_golden(const uint8_t *bytes)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(goldens); i++)
		if (goldens[i].bytes == bytes)
			return &goldens[i];
	return NULL;
}

static struct vrrp_ip
t_ip(int family, const char *src, const char *dst)
{
	struct vrrp_ip ip;

	memset(&ip, 0, sizeof(ip));
	ip.family = family;
	ip.ttl = VRRP_TTL;
	if (inet_pton(family, src, &ip.src) != 1 ||
	    inet_pton(family, dst, &ip.dst) != 1)
		test_fail(__FILE__, __LINE__, "bad address %s or %s", src, dst);
	return ip;
}

static struct vrrp_ip
t_gip(const struct golden *g)
{
	struct vrrp_ip ip = t_ip(g->family, g->src, g->dst);

	ip.len = g->len;
	return ip;
}

static const unsigned t_both = VRRP_PKT_V2 | VRRP_PKT_V3;

/*
 * The RFC 1071 checksum written out the plain way, separately from
 * vrrp_pkt.c, to re-sum packets edited by the tests: big-endian 16-bit
 * words of the pseudo-header (when asked) and of the n-byte message with
 * its checksum field zeroed, folded, complemented, stored at bytes 6-7.
 */
static void
t_fix_csum(
    const struct vrrp_ip *ip, enum vrrp_csum form, uint8_t *msg, size_t n)
{
	uint8_t all[64 + VRRP_PKT_MAX];
	size_t off = 0, i;
	uint32_t sum = 0;

	if (form == VRRP_CSUM_PSEUDO && ip->family == AF_INET) {
		memcpy(all, &ip->src.v4, 4);
		memcpy(all + 4, &ip->dst.v4, 4);
		all[8] = 0;
		all[9] = 112;
		all[10] = (uint8_t)(n >> 8);
		all[11] = (uint8_t)n;
		off = 12;
	} else if (form == VRRP_CSUM_PSEUDO) {
		memcpy(all, &ip->src.v6, 16);
		memcpy(all + 16, &ip->dst.v6, 16);
		memset(all + 32, 0, 8);
		all[34] = (uint8_t)(n >> 8);
		all[35] = (uint8_t)n;
		all[39] = 112;
		off = 40;
	}
	memcpy(all + off, msg, n);
	all[off + 6] = all[off + 7] = 0;
	T_ASSERT((off + n) % 2 == 0);
	for (i = 0; i < off + n; i += 2)
		sum += (uint32_t)(all[i] * 256 + all[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	msg[6] = (uint8_t)(~sum >> 8);
	msg[7] = (uint8_t)~sum;
}

static struct vrrp_pkt
t_pkt_of(const struct golden *g)
{
	struct vrrp_pkt p;

	memset(&p, 0, sizeof(p));
	p.version = g->version;
	p.vrid = g->vrid;
	p.priority = g->priority;
	p.naddrs = g->naddrs;
	p.interval_cs = g->interval_cs;
	p.csum = g->form;
	p.addrs = g->bytes + VRRP_HDR_LEN;
	return p;
}

static void
test_golden_decode(void)
{
	struct vrrp_pkt p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(goldens); i++) {
		const struct golden *g = &goldens[i];
		struct vrrp_ip ip = t_gip(g);
		size_t alen = g->family == AF_INET ? 4 : 16;
		enum vrrp_drop d;

		printf("# %s\n", g->name);
		d = vrrp_pkt_decode(&ip, t_both, g->bytes, g->len, &p);
		T_EQ_STR(vrrp_drop_name(d), "none");
		T_EQ_INT(p.csum, g->form);
		T_EQ_INT(p.version, g->version);
		T_EQ_INT(p.vrid, g->vrid);
		T_EQ_INT(p.priority, g->priority);
		T_EQ_INT(p.naddrs, g->naddrs);
		T_EQ_INT(p.interval_cs, g->interval_cs);
		T_EQ_INT(p.reserved, 0);
		T_EQ_INT(p.checksum, g->bytes[6] << 8 | g->bytes[7]);
		T_ASSERT(p.addrs == g->bytes + VRRP_HDR_LEN);
		T_EQ_INT(
		    vrrp_pkt_len(g->version, g->family, g->naddrs), g->len);
		T_ASSERT(memcmp(p.auth, "\0\0\0\0\0\0\0\0", 8) == 0);
		T_EQ_INT(g->len,
		    VRRP_HDR_LEN + g->naddrs * alen +
		        (g->version == 2 ? 8 : 0));
	}
}

/* The encoder, given the listed fields and form, writes the same bytes. */
static void
test_golden_encode(void)
{
	uint8_t out[VRRP_PKT_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(goldens); i++) {
		const struct golden *g = &goldens[i];
		struct vrrp_ip ip = t_gip(g);
		struct vrrp_pkt p = t_pkt_of(g);

		printf("# %s\n", g->name);
		memset(out, 0xaa, sizeof(out));
		T_EQ_INT(vrrp_pkt_encode(&ip, &p, out, sizeof(out)), g->len);
		T_ASSERT(memcmp(out, g->bytes, g->len) == 0);
		T_EQ_INT(out[g->len], 0xaa); /* nothing written past the end */
	}
}

/*
 * haven's default form is keepalived's: encoding with VRRP_CSUM_AUTO
 * reproduces every keepalived capture, v3 over IPv4 included. (The other
 * way round was tried too: keepalived 2.2.7 as Backup in the same
 * namespaces stayed Backup under our default-form priority-200 adverts and
 * logged "Invalid VRRPv3 checksum" and took over under message-only ones.)
 */
static void
test_default_form_is_keepalived(void)
{
	uint8_t out[VRRP_PKT_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(goldens); i++) {
		const struct golden *g = &goldens[i];
		struct vrrp_ip ip = t_gip(g);
		struct vrrp_pkt p = t_pkt_of(g);

		if (strncmp(g->name, "ka_", 3) != 0)
			continue;
		printf("# %s\n", g->name);
		p.csum = VRRP_CSUM_AUTO;
		T_EQ_INT(vrrp_pkt_encode(&ip, &p, out, sizeof(out)), g->len);
		T_ASSERT(memcmp(out, g->bytes, g->len) == 0);
	}
}

/* v3 over IPv4: both forms decode, report themselves and differ. */
static void
test_v3_ipv4_both_forms(void)
{
	struct vrrp_ip ip = t_gip(t_golden(ka_v3_mc));
	struct vrrp_pkt p = t_pkt_of(t_golden(ka_v3_mc)), back;
	uint8_t a[64], b[64];

	p.csum = VRRP_CSUM_PSEUDO;
	T_EQ_INT(vrrp_pkt_encode(&ip, &p, a, sizeof(a)), 12);
	p.csum = VRRP_CSUM_MSG;
	T_EQ_INT(vrrp_pkt_encode(&ip, &p, b, sizeof(b)), 12);
	T_ASSERT(memcmp(a, ka_v3_mc, 12) == 0);
	T_ASSERT(memcmp(b, hand_v3_msg, 12) == 0);
	T_EQ_INT(
	    vrrp_pkt_decode(&ip, VRRP_PKT_V3, a, 12, &back), VRRP_DROP_NONE);
	T_EQ_INT(back.csum, VRRP_CSUM_PSEUDO);
	T_EQ_INT(
	    vrrp_pkt_decode(&ip, VRRP_PKT_V3, b, 12, &back), VRRP_DROP_NONE);
	T_EQ_INT(back.csum, VRRP_CSUM_MSG);

	/* The message-only form does not care about the endpoints... */
	ip = t_ip(AF_INET, "198.18.99.1", "198.18.99.2");
	ip.len = 12;
	T_EQ_INT(
	    vrrp_pkt_decode(&ip, VRRP_PKT_V3, b, 12, &back), VRRP_DROP_NONE);
	/* ...the pseudo-header one does. */
	T_EQ_INT(vrrp_pkt_decode(&ip, VRRP_PKT_V3, a, 12, &back),
	    VRRP_DROP_CHECKSUM);
}

/*
 * A unicast advert summed with the group as destination (keepalived before
 * 1.3.6, `old_unicast_checksum`) is not accepted: that form is not one of
 * the two this codec speaks.
 */
static void
test_old_unicast_checksum_refused(void)
{
	struct vrrp_ip ip = t_ip(AF_INET, "198.18.10.1", "198.18.10.2");
	struct vrrp_ip grp = t_ip(AF_INET, "198.18.10.1", "224.0.0.18");
	struct vrrp_pkt p;
	uint8_t b[sizeof(ka_v3_uc)];

	memcpy(b, ka_v3_uc, sizeof(b));
	t_fix_csum(&grp, VRRP_CSUM_PSEUDO, b, sizeof(b));
	ip.len = sizeof(b);
	T_EQ_INT(vrrp_pkt_decode(&ip, VRRP_PKT_V3, b, sizeof(b), &p),
	    VRRP_DROP_CHECKSUM);
}

/* An edit of a golden packet and the verdict it must get. */
struct drop_case {
	const char *what;
	const uint8_t *base; /* static */
	size_t baselen;
	enum vrrp_drop want;
	struct {
		int off;
		uint8_t val;
	} edit[3];
	int nedit;
	bool fix;        /* re-sum in the base's form after the edits */
	int family;      /* 0: the base's */
	const char *dst; /* NULL: the base's */
	unsigned ttl;    /* 0: 255 */
	bool ttl_any;
	long ip_delta;     /* added to ip.len */
	long buf_delta;    /* added to the buffer's length */
	unsigned versions; /* 0: both */
};

#define B(a) a, sizeof(a)

static const struct drop_case drop_cases[] = {
	{ "AF_UNIX", B(ka_v3_mc), VRRP_DROP_FAMILY, .family = AF_UNIX },
	{ "TTL 254", B(ka_v3_mc), VRRP_DROP_TTL, .ttl = 254 },
	{ "hop limit 1", B(ka_v3_v6), VRRP_DROP_TTL, .ttl = 1 },
	{ "TTL 64 from a unicast peer", B(ka_v3_uc), VRRP_DROP_NONE, .ttl = 64,
	    .ttl_any = true },
	{ "truncated by recvmsg", B(ka_v3_mc), VRRP_DROP_LENGTH,
	    .buf_delta = -1 },
	{ "7 bytes", B(ka_v3_mc), VRRP_DROP_LENGTH, .ip_delta = -5,
	    .buf_delta = -5 },
	{ "0 bytes", B(ka_v3_mc), VRRP_DROP_LENGTH, .ip_delta = -12,
	    .buf_delta = -12 },
	{ "link padding after the message", B(ka_v3_mc), VRRP_DROP_NONE,
	    .buf_delta = 4 },
	{ "version 4", B(ka_v3_mc), VRRP_DROP_VERSION, { { 0, 0x41 } }, 1 },
	{ "version 1", B(ka_v3_mc), VRRP_DROP_VERSION, { { 0, 0x11 } }, 1 },
	{ "version 0", B(ka_v3_mc), VRRP_DROP_VERSION, { { 0, 0x01 } }, 1 },
	{ "v3 to a v2 router", B(ka_v3_mc), VRRP_DROP_VERSION,
	    .versions = VRRP_PKT_V2 },
	{ "v2 to a v3 router", B(ka_v2), VRRP_DROP_VERSION,
	    .versions = VRRP_PKT_V3 },
	{ "v2 over IPv6", B(ka_v2), VRRP_DROP_V2_IPV6, .family = AF_INET6,
	    .dst = "ff02::12" },
	{ "count 2, one address", B(ka_v3_mc), VRRP_DROP_ADDR_COUNT,
	    { { 3, 2 } }, 1, true },
	{ "count 255, one address", B(ka_v3_mc), VRRP_DROP_ADDR_COUNT,
	    { { 3, 255 } }, 1, true },
	{ "IPv6 count 1, two addresses", B(ka_v3_v6), VRRP_DROP_ADDR_COUNT,
	    { { 3, 1 } }, 1, true },
	{ "a trailing byte", B(ka_v3_mc), VRRP_DROP_ADDR_COUNT, .ip_delta = 1,
	    .buf_delta = 1 },
	{ "v2 without its auth data", B(ka_v2), VRRP_DROP_ADDR_COUNT,
	    .ip_delta = -8, .buf_delta = -8 },
	{ "v3 sized like v2", B(ka_v2), VRRP_DROP_ADDR_COUNT, { { 0, 0x31 } },
	    1, true },
	{ "one address bit flipped", B(ka_v3_mc), VRRP_DROP_CHECKSUM,
	    { { 11, 0x65 } }, 1 },
	{ "v2 priority changed", B(ka_v2), VRRP_DROP_CHECKSUM, { { 2, 0x65 } },
	    1 },
	{ "IPv6 to another group", B(ka_v3_v6), VRRP_DROP_CHECKSUM,
	    .dst = "ff02::13" },
	{ "v2 summed with a pseudo-header", B(ka_v2), VRRP_DROP_CHECKSUM,
	    { { 6, 0xf9 }, { 7, 0xa5 } }, 2 },
	{ "type 2", B(ka_v3_mc), VRRP_DROP_TYPE, { { 0, 0x32 } }, 1, true },
	{ "type 0", B(ka_v2), VRRP_DROP_TYPE, { { 0, 0x20 } }, 1, true },
	{ "VRID 0", B(ka_v3_mc), VRRP_DROP_VRID_UNKNOWN, { { 1, 0 } }, 1,
	    true },
	{ "count 0", B(ka_v3_mc), VRRP_DROP_NO_ADDR, { { 3, 0 } }, 1, true,
	    .ip_delta = -4, .buf_delta = -4 },
	{ "v2 count 0", B(ka_v2), VRRP_DROP_NO_ADDR,
	    { { 3, 0 }, { 8, 0 }, { 9, 0 } }, 3, true, .ip_delta = -4,
	    .buf_delta = -4 },
	{ "v2 auth PASS (captured)", B(ka_v2_pass), VRRP_DROP_AUTH },
	{ "v2 auth type 2 (AH)", B(ka_v2), VRRP_DROP_AUTH, { { 4, 2 } }, 1,
	    true },
	{ "v3 interval 0", B(ka_v3_mc), VRRP_DROP_INTERVAL, { { 5, 0 } }, 1,
	    true },
	{ "v3 interval 0, Reserve set", B(ka_v3_mc), VRRP_DROP_INTERVAL,
	    { { 4, 0xf0 }, { 5, 0 } }, 2, true },
	{ "v2 interval 0", B(ka_v2), VRRP_DROP_INTERVAL, { { 5, 0 } }, 1,
	    true },
	{ "v3 interval 256 (high nibble)", B(ka_v3_mc), VRRP_DROP_NONE,
	    { { 4, 0x01 }, { 5, 0 } }, 2, true },
	{ "IPv6 first address fd80::", B(ka_v3_v6), VRRP_DROP_IPV6_LL,
	    { { 8, 0xfd } }, 1, true },
	{ "IPv6 first address fec0::", B(ka_v3_v6), VRRP_DROP_IPV6_LL,
	    { { 9, 0xc0 } }, 1, true },
	{ "IPv6 first address febf:: (still fe80::/10)", B(ka_v3_v6),
	    VRRP_DROP_NONE, { { 9, 0xbf } }, 1, true },
	{ "IPv6 second address link-local too", B(ka_v3_v6), VRRP_DROP_NONE,
	    { { 24, 0xfe }, { 25, 0x80 } }, 2, true },
	{ "Reserve set, ignored", B(ka_v3_mc), VRRP_DROP_NONE, { { 4, 0xa0 } },
	    1, true },
	{ "v2 auth data set with type 0, ignored", B(ka_v2), VRRP_DROP_NONE,
	    { { 12, 'x' }, { 19, 0xff } }, 2, true },
	{ "priority 255", B(ka_v3_mc), VRRP_DROP_NONE, { { 2, 255 } }, 1,
	    true },
};

/* The golden packet c edits, for its IP facts and checksum form. */
static const struct golden *
t_case_golden(const struct drop_case *c)
{
	/* ka_v2_pass is refused, so no golden: it was sent as ka_v2 was. */
	if (c->base == ka_v2_pass)
		return t_golden(ka_v2);
	return t_golden(c->base);
}

/* Build c's packet in buf (VRRP_PKT_MAX + 16 bytes) and decode it. */
static enum vrrp_drop
t_run_case(const struct drop_case *c, uint8_t *buf, struct vrrp_pkt *p)
{
	const struct golden *g = t_case_golden(c);
	struct vrrp_ip ip = t_gip(g);
	int i;

	memset(buf, 0, VRRP_PKT_MAX + 16);
	memcpy(buf, c->base, c->baselen);
	for (i = 0; i < c->nedit; i++)
		buf[c->edit[i].off] = c->edit[i].val;
	if (c->dst != NULL)
		inet_pton(c->family ? c->family : g->family, c->dst, &ip.dst);
	if (c->fix)
		t_fix_csum(&ip, g->form, buf,
		    (size_t)((long)c->baselen + c->ip_delta));
	if (c->family != 0)
		ip.family = c->family;
	if (c->ttl != 0)
		ip.ttl = c->ttl;
	ip.ttl_any = c->ttl_any;
	ip.len = (size_t)((long)c->baselen + c->ip_delta);
	return vrrp_pkt_decode(&ip, c->versions ? c->versions : t_both, buf,
	    (size_t)((long)c->baselen + c->buf_delta), p);
}

static void
test_drop_cases(void)
{
	uint8_t buf[VRRP_PKT_MAX + 16];
	struct vrrp_pkt p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(drop_cases); i++) {
		const struct drop_case *c = &drop_cases[i];

		printf("# %s\n", c->what);
		T_EQ_STR(vrrp_drop_name(t_run_case(c, buf, &p)),
		    vrrp_drop_name(c->want));
	}
}

/* Every reason the decoder can give has a case above. */
static void
test_drop_cases_cover_decoder(void)
{
	static const enum vrrp_drop mine[] = { VRRP_DROP_FAMILY, VRRP_DROP_TTL,
		VRRP_DROP_LENGTH, VRRP_DROP_VERSION, VRRP_DROP_V2_IPV6,
		VRRP_DROP_ADDR_COUNT, VRRP_DROP_CHECKSUM, VRRP_DROP_TYPE,
		VRRP_DROP_NO_ADDR, VRRP_DROP_AUTH, VRRP_DROP_INTERVAL,
		VRRP_DROP_IPV6_LL, VRRP_DROP_VRID_UNKNOWN };
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(mine); i++) {
		for (j = 0; j < ARRAY_SIZE(drop_cases); j++)
			if (drop_cases[j].want == mine[i])
				break;
		if (j == ARRAY_SIZE(drop_cases))
			test_fail(__FILE__, __LINE__, "no case for %s",
			    vrrp_drop_name(mine[i]));
	}
}

/* Accepted edits keep what the protocol ignores, so they re-encode. */
static void
test_accepted_cases_reencode(void)
{
	uint8_t buf[VRRP_PKT_MAX + 16], out[VRRP_PKT_MAX];
	struct vrrp_pkt p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(drop_cases); i++) {
		const struct drop_case *c = &drop_cases[i];
		struct vrrp_ip ip;

		if (c->want != VRRP_DROP_NONE)
			continue;
		ip = t_gip(t_case_golden(c));
		printf("# %s\n", c->what);
		T_EQ_INT(t_run_case(c, buf, &p), VRRP_DROP_NONE);
		T_EQ_INT(
		    vrrp_pkt_encode(&ip, &p, out, sizeof(out)), c->baselen);
		T_ASSERT(memcmp(out, buf, c->baselen) == 0);
	}
}

/*
 * The checksum field must be the computed value: a v2 packet whose sum
 * computes to 0x0000 is accepted with 0x0000 and refused with 0xffff, the
 * other one's complement zero, which no RFC 1071 sender writes.
 */
static void
test_checksum_negative_zero(void)
{
	struct vrrp_ip ip = t_ip(AF_INET, "198.18.10.1", "224.0.0.18");
	uint8_t b[20] = { 0x21, 0x36, 0x64, 0x01, 0x00, 0x01, 0, 0, 0xc6, 0x12,
		0, 0 };
	struct vrrp_pkt p;
	uint32_t sum;

	/* 2136 + 6401 + 0001 + c612 = 14b4a -> 4b4b; last word 0xffff - it. */
	sum = 0x2136 + 0x6401 + 0x0001 + 0xc612;
	sum = (sum & 0xffff) + (sum >> 16);
	b[10] = (uint8_t)((0xffff - sum) >> 8);
	b[11] = (uint8_t)(0xffff - sum);
	ip.len = sizeof(b);
	T_EQ_INT(vrrp_pkt_decode(&ip, VRRP_PKT_V2, b, sizeof(b), &p),
	    VRRP_DROP_NONE);
	T_EQ_INT(p.checksum, 0);
	b[6] = b[7] = 0xff;
	T_EQ_INT(vrrp_pkt_decode(&ip, VRRP_PKT_V2, b, sizeof(b), &p),
	    VRRP_DROP_CHECKSUM);
}

static void
t_roundtrip(const struct vrrp_ip *ip0, const struct vrrp_pkt *p)
{
	uint8_t out[VRRP_PKT_MAX], again[VRRP_PKT_MAX];
	struct vrrp_ip ip = *ip0;
	struct vrrp_pkt back;
	int n;

	n = vrrp_pkt_encode(&ip, p, out, sizeof(out));
	T_EQ_INT(n, vrrp_pkt_len(p->version, ip.family, p->naddrs));
	ip.len = (size_t)n;
	T_EQ_INT(vrrp_pkt_decode(&ip, t_both, out, (size_t)n, &back),
	    VRRP_DROP_NONE);
	T_EQ_INT(back.version, p->version);
	T_EQ_INT(back.vrid, p->vrid);
	T_EQ_INT(back.priority, p->priority);
	T_EQ_INT(back.naddrs, p->naddrs);
	T_EQ_INT(back.interval_cs, p->interval_cs);
	T_EQ_INT(back.reserved, p->reserved);
	T_ASSERT(memcmp(back.auth, p->auth, sizeof(p->auth)) == 0);
	T_ASSERT(memcmp(back.addrs, p->addrs,
	             (size_t)p->naddrs * (ip.family == AF_INET ? 4 : 16)) == 0);
	if (p->csum != VRRP_CSUM_AUTO)
		T_EQ_INT(back.csum, p->csum);
	T_EQ_INT(vrrp_pkt_encode(&ip, &back, again, sizeof(again)), n);
	T_ASSERT(memcmp(out, again, (size_t)n) == 0);
}

/* 1 to 255 addresses in each version and family, with bound intervals. */
static void
test_roundtrip_counts(void)
{
	static uint8_t addrs[VRRP_ADDRS_MAX * 16];
	struct vrrp_ip ip4 = t_ip(AF_INET, "198.18.0.1", "224.0.0.18");
	struct vrrp_ip ip6 = t_ip(AF_INET6, "fe80::1", "ff02::12");
	static const unsigned counts[] = { 1, 2, 3, 4, 64, 128, 254, 255 };
	struct vrrp_pkt p;
	size_t i;
	unsigned n;

	for (i = 0; i < sizeof(addrs); i++)
		addrs[i] = (uint8_t)(i * 7 + 1);
	addrs[0] = 0xfe; /* the first IPv6 address is link-local */
	addrs[1] = 0x80;
	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		n = counts[i];
		memset(&p, 0, sizeof(p));
		p.vrid = (uint8_t)n;
		p.priority = (uint8_t)(255 - n);
		p.naddrs = (uint8_t)n;
		p.addrs = addrs;
		p.version = 3;
		p.interval_cs = n & 1 ? 1 : VRRP_V3_INTVL_MAX;
		p.csum = VRRP_CSUM_PSEUDO;
		t_roundtrip(&ip4, &p);
		t_roundtrip(&ip6, &p);
		p.csum = VRRP_CSUM_MSG;
		t_roundtrip(&ip4, &p);
		p.version = 2;
		p.interval_cs = n & 1 ? 100 : 25500;
		memcpy(p.auth, "haven\0\0\1", 8);
		t_roundtrip(&ip4, &p);
	}
	T_EQ_INT(vrrp_pkt_len(3, AF_INET6, 255), VRRP_PKT_MAX);
	T_EQ_INT(vrrp_pkt_len(3, AF_INET, 255), 1028);
	T_EQ_INT(vrrp_pkt_len(2, AF_INET, 255), 1036);
	T_EQ_INT(vrrp_pkt_len(3, AF_INET, 0), 8);
	T_EQ_INT(vrrp_pkt_len(2, AF_INET6, 1), 0);
	T_EQ_INT(vrrp_pkt_len(4, AF_INET, 1), 0);
	T_EQ_INT(vrrp_pkt_len(3, AF_UNIX, 1), 0);
	T_EQ_INT(vrrp_pkt_len(3, AF_INET, 256), 0);
}

/* 255 addresses announced, fewer present: refused, never read past. */
static void
test_count_255_short(void)
{
	struct vrrp_ip ip = t_ip(AF_INET6, "fe80::1", "ff02::12");
	uint8_t b[VRRP_PKT_MAX];
	struct vrrp_pkt p;

	memset(b, 0, sizeof(b));
	b[0] = 0x31;
	b[1] = 1;
	b[3] = 255;
	b[5] = 100;
	b[8] = 0xfe;
	b[9] = 0x80;
	ip.len = sizeof(b) - 16;
	t_fix_csum(&ip, VRRP_CSUM_PSEUDO, b, ip.len);
	T_EQ_INT(vrrp_pkt_decode(&ip, VRRP_PKT_V3, b, ip.len, &p),
	    VRRP_DROP_ADDR_COUNT);
	ip.len = sizeof(b);
	t_fix_csum(&ip, VRRP_CSUM_PSEUDO, b, ip.len);
	T_EQ_INT(
	    vrrp_pkt_decode(&ip, VRRP_PKT_V3, b, ip.len, &p), VRRP_DROP_NONE);
	T_EQ_INT(p.naddrs, 255);
}

static void
test_encode_rejects(void)
{
	struct vrrp_ip ip4 = t_ip(AF_INET, "198.18.0.1", "224.0.0.18");
	struct vrrp_ip ip6 = t_ip(AF_INET6, "fe80::1", "ff02::12");
	struct vrrp_ip bad = ip4;
	static const uint8_t a4[4] = { 198, 18, 0, 100 };
	static const uint8_t a6[16] = { 0xfd, 0 };
	struct vrrp_pkt ok, p;
	uint8_t out[VRRP_PKT_MAX];

	memset(&ok, 0, sizeof(ok));
	ok.version = 3;
	ok.vrid = 9;
	ok.naddrs = 1;
	ok.interval_cs = 100;
	ok.addrs = a4;
	T_EQ_INT(vrrp_pkt_encode(&ip4, &ok, out, sizeof(out)), 12);
	T_EQ_INT(vrrp_pkt_encode(&ip4, &ok, out, 12), 12);
	T_EQ_INT(vrrp_pkt_encode(&ip4, &ok, out, 11), -EMSGSIZE);
	T_EQ_INT(vrrp_pkt_encode(&ip4, &ok, out, 0), -EMSGSIZE);

#define T_REJECT(ipp, field, val)                                              \
	do {                                                                   \
		p = ok;                                                        \
		p.field = val;                                                 \
		T_EQ_INT(vrrp_pkt_encode(ipp, &p, out, sizeof(out)), -EINVAL); \
	} while (0)
	T_REJECT(&ip4, version, 4);
	T_REJECT(&ip4, version, 1);
	T_REJECT(&ip4, vrid, 0);
	T_REJECT(&ip4, naddrs, 0);
	T_REJECT(&ip4, addrs, NULL);
	T_REJECT(&ip4, interval_cs, 0);
	T_REJECT(&ip4, interval_cs, VRRP_V3_INTVL_MAX + 1);
	T_REJECT(&ip4, reserved, 0x10);
	T_REJECT(&ip4, auth[3], 1); /* v2-only field on a v3 packet */
	T_REJECT(&ip4, csum, (enum vrrp_csum)7);
	T_REJECT(&ip6, addrs, a6); /* first IPv6 address not link-local */
	T_REJECT(&ip6, csum, VRRP_CSUM_MSG);
	bad.family = AF_UNIX;
	T_REJECT(&bad, vrid, 1);

	ok.version = 2;
	T_EQ_INT(vrrp_pkt_encode(&ip4, &ok, out, sizeof(out)), 20);
	T_REJECT(&ip4, interval_cs, 150); /* v2: whole seconds only */
	T_REJECT(&ip4, interval_cs, 25600);
	T_REJECT(&ip4, interval_cs, 0);
	T_REJECT(&ip4, reserved, 1); /* v3-only field on a v2 packet */
	T_REJECT(&ip4, csum, VRRP_CSUM_PSEUDO);
	ok.addrs = (const uint8_t[16]){ 0xfe, 0x80 };
	T_REJECT(&ip6, vrid, 1); /* v2 over IPv6 */
#undef T_REJECT
}

/* Re-encoding into the buffer the packet was decoded from is allowed. */
static void
test_encode_in_place(void)
{
	struct vrrp_ip ip = t_gip(t_golden(ka_v3_v6));
	uint8_t b[sizeof(ka_v3_v6)];
	struct vrrp_pkt p;

	memcpy(b, ka_v3_v6, sizeof(b));
	T_EQ_INT(vrrp_pkt_decode(&ip, VRRP_PKT_V3, b, sizeof(b), &p),
	    VRRP_DROP_NONE);
	p.priority = 0;
	T_EQ_INT(vrrp_pkt_encode(&ip, &p, b, sizeof(b)), sizeof(b));
	T_ASSERT(memcmp(b, ka_v3_v6_stop, sizeof(b)) == 0);
}

static void
test_drop_names(void)
{
	int d, e;

	T_EQ_STR(vrrp_drop_name(VRRP_DROP_NONE), "none");
	T_EQ_STR(vrrp_drop_name(VRRP_DROP_TTL), "ttl");
	T_EQ_STR(vrrp_drop_name(VRRP_DROP_CHECKSUM), "checksum");
	T_EQ_STR(vrrp_drop_name(VRRP_DROP__COUNT), "invalid");
	T_EQ_STR(vrrp_drop_name((enum vrrp_drop) - 1), "invalid");
	for (d = 0; d < VRRP_DROP__COUNT; d++) {
		const char *n = vrrp_drop_name((enum vrrp_drop)d), *s;

		T_ASSERT(strcmp(n, "invalid") != 0);
		T_ASSERT(n[0] != '\0' && strlen(n) <= 20);
		for (s = n; *s != '\0'; s++)
			T_ASSERT(islower((unsigned char)*s) ||
			    isdigit((unsigned char)*s) || *s == '_');
		for (e = 0; e < d; e++)
			T_ASSERT(strcmp(n, vrrp_drop_name((enum vrrp_drop)e)));
	}
}

static const struct test tests[] = {
	TEST(test_golden_decode),
	TEST(test_golden_encode),
	TEST(test_default_form_is_keepalived),
	TEST(test_v3_ipv4_both_forms),
	TEST(test_old_unicast_checksum_refused),
	TEST(test_drop_cases),
	TEST(test_drop_cases_cover_decoder),
	TEST(test_accepted_cases_reencode),
	TEST(test_checksum_negative_zero),
	TEST(test_roundtrip_counts),
	TEST(test_count_255_short),
	TEST(test_encode_rejects),
	TEST(test_encode_in_place),
	TEST(test_drop_names),
};

TEST_MAIN(tests)
