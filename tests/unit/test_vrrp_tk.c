/*
 * Unit tests for the pure parts of the takeover backends (vrrp_tk.c): the
 * ICMP echo request the havip backend sends, byte for byte; the judge of
 * what comes back, one case per discard reason; the owner probe's whole
 * Ethernet frame (golden bytes computed apart, with python3's struct) and
 * the judge of its replies; the fallback back-off; the ownership bookkeeping
 * (dual-master time, time to verify); and the takeover:/havip: keys with their
 * errors at file:line:col.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "conf_test.h"
#include "runner.h"
#include "vrrp/vrrp_conf.h"
#include "vrrp/vrrp_tk.h"

static const uint8_t t_token[VRRP_TK_ICMP_TOKEN] = { 'A', 'B', 'C', 'D', 'E',
	'F', 'G', 'H' };

/* Echo request id 0x1234 seq 7, checksum computed by hand (RFC 1071). */
static void
t_icmp_build(void)
{
	static const uint8_t want[VRRP_TK_ICMP_LEN] = { 8, 0, 0xd4, 0xaf, 0x12,
		0x34, 0x00, 0x07, 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H' };
	uint8_t buf[VRRP_TK_ICMP_LEN];

	T_EQ_INT(vrrp_tk_icmp_build(buf, 0x1234, 7, t_token), 16);
	T_ASSERT(memcmp(buf, want, sizeof(want)) == 0);
	T_EQ_INT(vrrp_tk_icmp_cksum(buf, sizeof(buf)), 0);
}

static void
t_match(struct vrrp_tk_icmp_match *m)
{
	memset(m, 0, sizeof(*m));
	inet_pton(AF_INET, "198.18.0.1", &m->from);
	inet_pton(AF_INET, "198.18.0.100", &m->to);
	m->id = 0x1234;
	m->seq = 10;
	m->window = 3;
	memcpy(m->token, t_token, sizeof(t_token));
}

/* Recompute the checksum of the ICMP message at p + 20 after an edit. */
static void
t_resum(uint8_t *p, size_t icmplen)
{
	uint16_t c;

	p[22] = p[23] = 0;
	c = vrrp_tk_icmp_cksum(p + 20, icmplen);
	p[22] = (uint8_t)(c >> 8);
	p[23] = (uint8_t)c;
}

/*
 * An IPv4 datagram gateway -> vip carrying the echo reply to (id, seq):
 * what a raw IPPROTO_ICMP socket reads. Returns its length (36).
 */
static size_t
t_reply(
    uint8_t *p, const struct vrrp_tk_icmp_match *m, uint16_t id, uint16_t seq)
{
	memset(p, 0, 36);
	p[0] = 0x45;
	p[3] = 36;
	p[8] = 64;
	p[9] = IPPROTO_ICMP;
	memcpy(p + 12, &m->from, 4);
	memcpy(p + 16, &m->to, 4);
	vrrp_tk_icmp_build(p + 20, id, seq, m->token);
	p[20] = 0; /* the reply is the request with type 0 */
	t_resum(p, 16);
	return 36;
}

static void
t_icmp_parse(void)
{
	struct vrrp_tk_icmp_match m;
	uint8_t p[64];
	uint16_t seq = 0;
	size_t n;

	t_match(&m);
	n = t_reply(p, &m, 0x1234, 10);
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_OK);
	T_EQ_INT(seq, 10);
	/* Two back is inside the window of 3, three back is not. */
	n = t_reply(p, &m, 0x1234, 8);
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_OK);
	T_EQ_INT(seq, 8);
	n = t_reply(p, &m, 0x1234, 7);
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_STALE);
	/* A sequence number from the future is not one we sent. */
	n = t_reply(p, &m, 0x1234, 11);
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_STALE);
	/* Wrap-around: last sent 1, a reply to 65535 is two back. */
	m.seq = 1;
	n = t_reply(p, &m, 0x1234, 65535);
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_OK);
	T_EQ_INT(seq, 65535);
	m.seq = 10;

	/* The other master's reply: same VIP, other id. */
	n = t_reply(p, &m, 0x4321, 10);
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_ID);
	/* Our id, another token (an id collision). */
	n = t_reply(p, &m, 0x1234, 10);
	p[35] ^= 1;
	t_resum(p, 16);
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_TOKEN_BAD);
	n = t_reply(p, &m, 0x1234, 10);
	p[30] ^= 0xff;
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_CKSUM);
	n = t_reply(p, &m, 0x1234, 10);
	p[15] ^= 1; /* from someone else than the gateway */
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_ADDR);
	n = t_reply(p, &m, 0x1234, 10);
	p[19] ^= 1; /* to another address of ours */
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_ADDR);
	n = t_reply(p, &m, 0x1234, 10);
	p[20] = 8; /* an echo request */
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_NOT_REPLY);
	n = t_reply(p, &m, 0x1234, 10);
	p[6] = 0x20; /* more fragments */
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_FRAGMENT);
	n = t_reply(p, &m, 0x1234, 10);
	p[0] = 0x65;
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_NOT_V4);
	n = t_reply(p, &m, 0x1234, 10);
	T_EQ_INT(vrrp_tk_icmp_parse(p, 19, &m, &seq), VRRP_TK_ICMP_SHORT);
	T_EQ_INT(vrrp_tk_icmp_parse(p, 27, &m, &seq), VRRP_TK_ICMP_SHORT);
	p[0] = 0x4f; /* a 60-byte header in a 36-byte datagram */
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_SHORT);
	n = t_reply(p, &m, 0x1234, 10);
	p[3] = 24; /* total length cuts the echo header */
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_SHORT);
	/* A reply cut short of the token cannot be ours. */
	n = t_reply(p, &m, 0x1234, 10);
	p[3] = 28;
	t_resum(p, 8);
	T_EQ_INT(vrrp_tk_icmp_parse(p, n, &m, &seq), VRRP_TK_ICMP_TOKEN_BAD);
	/* Every reason has a metrics name. */
	for (n = 1; n < VRRP_TK_ICMP__COUNT; n++)
		T_ASSERT(strcmp(vrrp_tk_icmp_drop_name(n), "?") != 0);
}

/*
 * The owner probe 198.18.0.11 -> 198.18.0.100 from 02:00:00:00:00:0b to
 * the gateway 02:00:00:00:00:01, id 0x1234, seq 7, token "ABCDEFGH". The
 * bytes were computed independently with python3's struct and an RFC 1071
 * sum of its own: IPv4 checksum 0xae3e, ICMP checksum 0xd4af.
 */
static const uint8_t t_gw_mac[VRRP_TK_MACLEN] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t t_own_mac[VRRP_TK_MACLEN] = { 2, 0, 0, 0, 0, 0x0b };

static void
t_owner_build(void)
{
	static const uint8_t want[VRRP_TK_OWNER_FRAME_LEN] = {
		/* Ethernet: gateway, us, IPv4 */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
		0x00, 0x0b, 0x08, 0x00,
		/* IPv4: 45, len 36, id 7, DF, TTL 64, ICMP, sum, src, dst */
		0x45, 0x00, 0x00, 0x24, 0x00, 0x07, 0x40, 0x00, 0x40, 0x01,
		0xae, 0x3e, 0xc6, 0x12, 0x00, 0x0b, 0xc6, 0x12, 0x00, 0x64,
		/* ICMP echo request */
		0x08, 0x00, 0xd4, 0xaf, 0x12, 0x34, 0x00, 0x07, 0x41, 0x42,
		0x43, 0x44, 0x45, 0x46, 0x47, 0x48
	};
	uint8_t f[VRRP_TK_OWNER_FRAME_LEN];
	struct in_addr src, vip;

	inet_pton(AF_INET, "198.18.0.11", &src);
	inet_pton(AF_INET, "198.18.0.100", &vip);
	memset(f, 0xee, sizeof(f));
	T_EQ_INT(vrrp_tk_owner_build(
	             f, t_gw_mac, t_own_mac, src, vip, 0x1234, 7, t_token),
	    50);
	T_ASSERT(memcmp(f, want, sizeof(want)) == 0);
	/* Both checksums verify over what they cover. */
	T_EQ_INT(vrrp_tk_icmp_cksum(f + 14, 20), 0);
	T_EQ_INT(vrrp_tk_icmp_cksum(f + 34, 16), 0);
	/* Another sequence number: another IP id, both sums follow. */
	vrrp_tk_owner_build(
	    f, t_gw_mac, t_own_mac, src, vip, 0x1234, 0xff01, t_token);
	T_EQ_INT(f[18], 0xff);
	T_EQ_INT(f[19], 0x01);
	T_EQ_INT(vrrp_tk_icmp_cksum(f + 14, 20), 0);
	T_EQ_INT(vrrp_tk_icmp_cksum(f + 34, 16), 0);
}

/*
 * The owner's answer to the frame above as the packet socket reads it:
 * gateway MAC -> ours, 198.18.0.100 -> 198.18.0.11, echo reply.
 */
static size_t
t_owner_reply(
    uint8_t *f, const struct vrrp_tk_icmp_match *om, uint16_t id, uint16_t seq)
{
	memcpy(f, t_own_mac, 6);
	memcpy(f + 6, t_gw_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	return 14 + t_reply(f + 14, om, id, seq);
}

static void
t_owner_parse(void)
{
	struct vrrp_tk_icmp_match m, om;
	uint8_t f[80];
	uint16_t seq = 0;
	size_t n;

	/* The ownership probe's match (gateway -> VIP, id 0x1234) and the
	 * owner probe's (VIP -> us, id 0x5678): what the backend keeps. */
	t_match(&m);
	om = m;
	om.from = m.to;
	inet_pton(AF_INET, "198.18.0.11", &om.to);
	om.id = 0x5678;

	n = t_owner_reply(f, &om, 0x5678, 9);
	T_EQ_INT(n, 50);
	T_EQ_INT(vrrp_tk_owner_parse(f, n, &om, &seq), VRRP_TK_ICMP_OK);
	T_EQ_INT(seq, 9);
	/* Not our most recent probe_fall requests. */
	n = t_owner_reply(f, &om, 0x5678, 7);
	T_EQ_INT(vrrp_tk_owner_parse(f, n, &om, &seq), VRRP_TK_ICMP_STALE);
	/* The ownership probe's id on the owner probe's path: told apart. */
	n = t_owner_reply(f, &om, 0x1234, 10);
	T_EQ_INT(vrrp_tk_owner_parse(f, n, &om, &seq), VRRP_TK_ICMP_ID);
	/* An ownership reply (gateway -> VIP) is not an owner reply. */
	n = t_owner_reply(f, &m, 0x5678, 10);
	T_EQ_INT(vrrp_tk_owner_parse(f, n, &om, &seq), VRRP_TK_ICMP_ADDR);
	/* ... and the other way round. */
	n = t_owner_reply(f, &om, 0x1234, 10);
	T_EQ_INT(
	    vrrp_tk_icmp_parse(f + 14, n - 14, &m, &seq), VRRP_TK_ICMP_ADDR);
	/* Our id, another payload. */
	n = t_owner_reply(f, &om, 0x5678, 10);
	f[49] ^= 1;
	t_resum(f + 14, 16);
	T_EQ_INT(vrrp_tk_owner_parse(f, n, &om, &seq), VRRP_TK_ICMP_TOKEN_BAD);
	/* Our own request, had it come back: not a reply. */
	n = t_owner_reply(f, &om, 0x5678, 10);
	f[34] = 8;
	T_EQ_INT(vrrp_tk_owner_parse(f, n, &om, &seq), VRRP_TK_ICMP_NOT_REPLY);
	/* Another EtherType (IPv6, ARP); no room for the header. */
	n = t_owner_reply(f, &om, 0x5678, 10);
	f[12] = 0x86;
	f[13] = 0xdd;
	T_EQ_INT(vrrp_tk_owner_parse(f, n, &om, &seq), VRRP_TK_ICMP_NOT_V4);
	T_EQ_INT(vrrp_tk_owner_parse(f, 13, &om, &seq), VRRP_TK_ICMP_SHORT);
	n = t_owner_reply(f, &om, 0x5678, 10);
	T_EQ_INT(
	    vrrp_tk_owner_parse(f, 14 + 27, &om, &seq), VRRP_TK_ICMP_SHORT);
	/* A NIC's padding to 60 bytes is cut by the IPv4 total length. */
	memset(f + n, 0, 60 - n);
	T_EQ_INT(vrrp_tk_owner_parse(f, 60, &om, &seq), VRRP_TK_ICMP_OK);
}

static void
t_backoff(void)
{
	static const uint64_t want[] = { 1, 2, 4, 8, 16, 30, 30, 30 };
	unsigned i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		T_EQ_INT(vrrp_tk_backoff_us(i, 30000000), want[i] * 1000000);
	/* No shift overflows however long the partition lasts. */
	T_EQ_INT(vrrp_tk_backoff_us(1000000, 3600000000ull), 3600000000ull);
	T_ASSERT(vrrp_tk_backoff_us(64, UINT64_MAX) == UINT64_MAX);
	/* A cap below the first step is the first step. */
	T_EQ_INT(vrrp_tk_backoff_us(0, 10), 1000000);
	T_EQ_INT(vrrp_tk_backoff_us(5, 1500000), 1500000);
}

/* Times in seconds for readability; the API takes microseconds. */
#define S(x) ((uint64_t)((x)*1000000.0))

/* Owner-lost announcements: the first at once, repeats on the back-off. */
static void
t_owner_lost_due(void)
{
	const uint64_t s = 1000000, max = 30 * s, t = 100 * s;

	T_ASSERT(vrrp_tk_owner_lost_due(0, 0, t, max));
	/* The second 1 s after the first, the third 2 s after that... */
	T_ASSERT(!vrrp_tk_owner_lost_due(1, t, t + s - 1, max));
	T_ASSERT(vrrp_tk_owner_lost_due(1, t, t + s, max));
	T_ASSERT(!vrrp_tk_owner_lost_due(2, t, t + 2 * s - 1, max));
	T_ASSERT(vrrp_tk_owner_lost_due(2, t, t + 2 * s, max));
	/* ... capped at reannounce_max. */
	T_ASSERT(!vrrp_tk_owner_lost_due(40, t, t + max - 1, max));
	T_ASSERT(vrrp_tk_owner_lost_due(40, t, t + max, max));
	/* A clock behind the last one (cannot happen) never announces. */
	T_ASSERT(!vrrp_tk_owner_lost_due(1, t, t - 1, max));
}

static void
t_bookkeeping(void)
{
	struct vrrp_tk tk;

	memset(&tk, 0, sizeof(tk));
	tk.ops = &vrrp_tk_havip_ops;
	vrrp_tk_begin(&tk, S(10));
	T_EQ_INT(tk.state, VRRP_TK_ACQUIRING);
	T_ASSERT(vrrp_tk_set(&tk, VRRP_TK_VERIFYING, S(10)));
	T_ASSERT(!vrrp_tk_set(&tk, VRRP_TK_VERIFYING, S(10.1)));
	T_EQ_INT(vrrp_tk_unverified_us(&tk, S(10.3)), S(0.3));
	T_ASSERT(vrrp_tk_set(&tk, VRRP_TK_OWNER, S(10.4)));
	T_EQ_INT(tk.verify_us, S(0.4));
	T_EQ_INT(vrrp_tk_unverified_us(&tk, S(20)), S(0.4));
	/* Lost, then found again: unverified grows meanwhile only, and the
	 * time to verify stays that of the takeover. */
	vrrp_tk_set(&tk, VRRP_TK_NOT_OWNER, S(20));
	T_EQ_INT(vrrp_tk_unverified_us(&tk, S(25)), S(5.4));
	vrrp_tk_set(&tk, VRRP_TK_OWNER, S(30));
	T_EQ_INT(tk.verify_us, S(0.4));
	T_EQ_INT(vrrp_tk_unverified_us(&tk, S(40)), S(10.4));
	/* Leaving master while not the owner closes the span. */
	vrrp_tk_set(&tk, VRRP_TK_NOT_OWNER, S(40));
	vrrp_tk_end(&tk, S(41));
	T_EQ_INT(tk.state, VRRP_TK_IDLE);
	T_EQ_INT(vrrp_tk_unverified_us(&tk, S(100)), S(11.4));
	/* Next takeover: a new time to verify. */
	vrrp_tk_begin(&tk, S(200));
	vrrp_tk_set(&tk, VRRP_TK_VERIFYING, S(200));
	vrrp_tk_set(&tk, VRRP_TK_OWNER, S(201.5));
	T_EQ_INT(tk.verify_us, S(1.5));
	T_EQ_INT(tk.acquires, 2);
	T_EQ_INT(vrrp_tk_unverified_us(&tk, S(300)), S(12.9));
	/* A report once master is over changes nothing that counts. */
	vrrp_tk_end(&tk, S(300));
	T_EQ_INT(vrrp_tk_unverified_us(&tk, S(400)), S(12.9));

	/* local verifies nothing: its master time is not "unverified". */
	memset(&tk, 0, sizeof(tk));
	tk.ops = &vrrp_tk_local_ops;
	vrrp_tk_begin(&tk, S(1));
	vrrp_tk_set(&tk, VRRP_TK_HELD, S(1));
	T_EQ_INT(vrrp_tk_unverified_us(&tk, S(50)), 0);
	vrrp_tk_set(&tk, VRRP_TK_FAILED, S(50));
	T_EQ_INT(tk.failures, 1);
	T_EQ_STR(vrrp_tk_state_name(VRRP_TK_NOT_OWNER), "not-owner");
}

static size_t
t_bind(const char *text, struct vrrp_conf *c, char *first, size_t flen)
{
	return t_conf_bind(&vrrp_conf_schema, text, c, first, flen);
}

#define T_INST                                                                 \
	"instances:\n"                                                         \
	"  - name: web\n"                                                      \
	"    interface: eth0\n"                                                \
	"    vrid: 51\n"

static void
t_conf(void)
{
	struct vrrp_conf c;
	char e[256];
	const struct vrrp_instance_conf *ic;

	/* The default is local, havip's keys have their defaults. */
	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n", &c, e,
	             sizeof(e)),
	    0);
	ic = &c.instances[0];
	T_EQ_INT(ic->takeover, VRRP_TK_LOCAL);
	T_EQ_INT(ic->havip.gateway.ss_family, AF_UNSPEC);
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    takeover: havip\n"
	                       "    havip: { gateway: 198.18.0.1 }\n",
	             &c, e, sizeof(e)),
	    0);
	ic = &c.instances[0];
	T_EQ_INT(ic->takeover, VRRP_TK_HAVIP);
	T_EQ_INT(ic->havip.gateway.ss_family, AF_INET);
	T_EQ_INT(ic->havip.probe_interval_ms, 200);
	T_EQ_INT(ic->havip.probe_fall, 3);
	T_EQ_INT(ic->havip.reannounce_max_ms, 30000);
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    takeover: havip\n",
	             &c, e, sizeof(e)),
	    1);
	T_EQ_STR(
	    e, "6:15: takeover havip: a havip: map with a gateway is required");
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    takeover: havip\n"
	                       "    havip: { probe_fall: 2 }\n",
	             &c, e, sizeof(e)),
	    1);
	T_EQ_STR(e, "7:12: havip.gateway: an IPv4 address is required");
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    takeover: havip\n"
	                       "    havip: { gateway: 'fe80::1' }\n",
	             &c, e, sizeof(e)),
	    1);
	T_EQ_STR(e, "7:23: havip.gateway: an IPv4 address is required");
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST
	             "    virtual_addresses: [198.18.0.100, 198.18.0.101]\n"
	             "    takeover: havip\n"
	             "    havip: { gateway: 198.18.0.1 }\n",
	             &c, e, sizeof(e)),
	    1);
	T_EQ_STR(e,
	    "5:24: virtual_addresses: takeover havip takes exactly one IPv4 "
	    "address");
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    havip: { gateway: 198.18.0.1 }\n",
	             &c, e, sizeof(e)),
	    1);
	T_EQ_STR(e, "6:23: havip.gateway: only with takeover: havip");
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    takeover: cloud\n",
	             &c, e, sizeof(e)),
	    1);
	conf_schema_free(&vrrp_conf_schema, &c);
}

/* The exec backend's retry schedule and proof test. */
static void
t_exec_pure(void)
{
	/* retries 5, 1s doubling to 30s: 1 2 4 8 16, then the cap. */
	T_EQ_INT(vrrp_tk_exec_pause_ms(1, 5, 1000, 30000), 1000);
	T_EQ_INT(vrrp_tk_exec_pause_ms(2, 5, 1000, 30000), 2000);
	T_EQ_INT(vrrp_tk_exec_pause_ms(4, 5, 1000, 30000), 8000);
	T_EQ_INT(vrrp_tk_exec_pause_ms(5, 5, 1000, 30000), 16000);
	T_EQ_INT(vrrp_tk_exec_pause_ms(6, 5, 1000, 30000), 30000);
	T_EQ_INT(vrrp_tk_exec_pause_ms(600, 5, 1000, 30000), 30000);
	/* The cap applies within the retries too. */
	T_EQ_INT(vrrp_tk_exec_pause_ms(3, 10, 1000, 3000), 3000);
	T_EQ_INT(vrrp_tk_exec_pause_ms(60, 100, 1000, 30000), 30000);
	/* No retries: FAILED at once, then the cap. */
	T_EQ_INT(vrrp_tk_exec_pause_ms(1, 0, 200, 800), 800);
	/* A cap below the first pause is the first pause. */
	T_EQ_INT(vrrp_tk_exec_pause_ms(1, 3, 500, 100), 500);
	T_EQ_INT(vrrp_tk_exec_pause_ms(9, 3, 500, 100), 500);
	/* No wrap at huge counts. */
	T_EQ_INT(vrrp_tk_exec_pause_ms(1000, 2000, 1, UINT64_MAX), UINT64_MAX);

	T_ASSERT(vrrp_tk_exec_owns("owner=b\n", 8, "owner=b"));
	T_ASSERT(!vrrp_tk_exec_owns("owner=bb\n", 3, "owner=b"));
	T_ASSERT(!vrrp_tk_exec_owns("owner=a\n", 8, "owner=b"));
	/* Past a NUL in the output, and never for an empty expect. */
	T_ASSERT(vrrp_tk_exec_owns("x\0owner=b", 10, "owner=b"));
	T_ASSERT(!vrrp_tk_exec_owns("anything", 8, ""));
	T_ASSERT(!vrrp_tk_exec_owns(NULL, 0, "b"));
}

static void
t_exec_conf(void)
{
	struct vrrp_conf c;
	char e[256];
	const struct vrrp_instance_conf *ic;

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    takeover: exec\n"
	                       "    exec:\n"
	                       "      acquire: cli attach\n"
	                       "      describe: cli show\n"
	                       "      expect: 'owner: me'\n",
	             &c, e, sizeof(e)),
	    0);
	ic = &c.instances[0];
	T_EQ_INT(ic->takeover, VRRP_TK_EXEC);
	T_EQ_STR(ic->exec.acquire, "cli attach");
	T_ASSERT(ic->exec.release == NULL);
	T_EQ_STR(ic->exec.expect, "owner: me");
	T_EQ_INT(ic->exec.timeout_ms, 10000);
	T_EQ_INT(ic->exec.retries, 5);
	T_EQ_INT(ic->exec.backoff_ms, 1000);
	T_EQ_INT(ic->exec.backoff_max_ms, 30000);
	T_EQ_INT(ic->exec.verify_interval_ms, 0);
	T_ASSERT(vrrp_tk_ops_of(ic->takeover) == &vrrp_tk_exec_ops);
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    takeover: exec\n",
	             &c, e, sizeof(e)),
	    1);
	T_EQ_STR(e, "6:15: takeover exec: exec.acquire is required");
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    takeover: exec\n"
	                       "    exec: { release: x }\n",
	             &c, e, sizeof(e)),
	    1);
	T_EQ_STR(e, "7:11: takeover exec: exec.acquire is required");
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    takeover: exec\n"
	                       "    exec:\n"
	                       "      acquire: a\n"
	                       "      describe: d\n",
	             &c, e, sizeof(e)),
	    1);
	T_EQ_STR(e,
	    "9:17: exec.describe: exec.expect is required (the text that "
	    "proves ownership)");
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    takeover: exec\n"
	                       "    exec: { acquire: a, expect: me }\n",
	             &c, e, sizeof(e)),
	    1);
	T_EQ_STR(e, "7:33: exec.expect: only with exec.describe");
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    takeover: exec\n"
	                       "    exec: { acquire: a, describe: d, "
	                       "expect: '' }\n",
	             &c, e, sizeof(e)),
	    1);
	T_EQ_STR(e, "7:46: exec.expect: must not be empty");
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(
	    t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                  "    takeover: exec\n"
	                  "    exec: { acquire: a, verify_interval: 5s }\n",
	        &c, e, sizeof(e)),
	    1);
	T_EQ_STR(e, "7:42: exec.verify_interval: needs exec.describe");
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    takeover: exec\n"
	                       "    exec: { acquire: a, backoff: 5s, "
	                       "backoff_max: 2s }\n",
	             &c, e, sizeof(e)),
	    1);
	T_EQ_STR(e, "7:51: exec.backoff_max: less than exec.backoff");
	conf_schema_free(&vrrp_conf_schema, &c);

	/* Commands that would never run. */
	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    exec: { acquire: a }\n",
	             &c, e, sizeof(e)),
	    1);
	T_EQ_STR(e, "6:11: exec: only with takeover: exec");
	conf_schema_free(&vrrp_conf_schema, &c);

	/* The map of defaults alone, as JSON output carries it, is fine. */
	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    exec: { timeout: 10s, retries: 5 }\n",
	             &c, e, sizeof(e)),
	    0);
	conf_schema_free(&vrrp_conf_schema, &c);

	T_EQ_INT(t_bind(T_INST "    virtual_addresses: [198.18.0.100]\n"
	                       "    takeover: exec\n"
	                       "    exec: { acquire: a, timeout: 10ms }\n",
	             &c, e, sizeof(e)),
	    1);
	conf_schema_free(&vrrp_conf_schema, &c);
}

static const struct test tests[] = {
	TEST(t_icmp_build),
	TEST(t_icmp_parse),
	TEST(t_owner_build),
	TEST(t_owner_parse),
	TEST(t_backoff),
	TEST(t_owner_lost_due),
	TEST(t_bookkeeping),
	TEST(t_conf),
	TEST(t_exec_pure),
	TEST(t_exec_conf),
};

TEST_MAIN(tests)
