/*
 * Unit tests for vrrp_auth.c (the HMAC-SHA256 trailer and the replay
 * rule), the decoder's trailer rule in vrrp_pkt.c, and the `auth:` keys of
 * vrrp_conf.c.
 *
 * The golden trailer was computed independently of haven, with Python's
 * hmac module and checked with openssl:
 *
 *	msg = ka_v3_uc (below), src 198.18.10.1, dst 198.18.10.2
 *	key = b"0123456789abcdef0123456789abcdef", key id 7,
 *	seq = 0x0005f0a1b2c3d4e5
 *	hdr = bytes([0xa1, 7, 0, 0]) + struct.pack(">Q", seq)
 *	hmac.new(key, src + dst + msg + hdr, hashlib.sha256).hexdigest()
 *	printf '\xc6\x12\x0a\x01\xc6\x12\x0a\x02' + msg + hdr |
 *	    openssl dgst -sha256 -mac HMAC -macopt key:0123456789abcdef...
 *	= 34694bd327a3d5f60e090f7189fffa7c6113ce34ffa42d3d1073fa30db6eaa2d
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>

#include "lib/conf.h"
#include "conf_test.h"
#include "runner.h"
#include "vrrp/vrrp_auth.h"
#include "vrrp/vrrp_conf.h"
#include "vrrp/vrrp_pkt.h"

/* keepalived 2.2.7's unicast v3 advert (test_vrrp_pkt.c has its story). */
static const uint8_t ka_v3_uc[] = { 0x31, 0x34, 0x96, 0x02, 0x00, 0x32, 0xf6,
	0xff, 0xc6, 0x12, 0x0a, 0x64, 0xc6, 0x12, 0x0a, 0x65 };

static const uint8_t golden_trailer[VRRP_AUTH_TRAILER] = { 0xa1, 0x07, 0x00,
	0x00, 0x00, 0x05, 0xf0, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0x34, 0x69, 0x4b,
	0xd3, 0x27, 0xa3, 0xd5, 0xf6, 0x0e, 0x09, 0x0f, 0x71, 0x89, 0xff, 0xfa,
	0x7c, 0x61, 0x13, 0xce, 0x34, 0xff, 0xa4, 0x2d, 0x3d, 0x10, 0x73, 0xfa,
	0x30, 0xdb, 0x6e, 0xaa, 0x2d };

#define GOLDEN_SEQ UINT64_C(0x0005f0a1b2c3d4e5)

static void
t_ip4(struct vrrp_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = AF_INET;
	inet_pton(AF_INET, "198.18.10.1", ip->src.b);
	inet_pton(AF_INET, "198.18.10.2", ip->dst.b);
	ip->ttl = 255;
	ip->len = sizeof(ka_v3_uc) + VRRP_AUTH_TRAILER;
}

static void
t_key(struct vrrp_auth_key *k)
{
	memset(k, 0, sizeof(*k));
	k->id = 7;
	k->len = 32;
	memcpy(k->bytes, "0123456789abcdef0123456789abcdef", 32);
}

/* ka_v3_uc with its trailer into buf; returns the length. */
static size_t
t_signed(uint8_t *buf, size_t size, uint64_t seq)
{
	struct vrrp_auth_key k;
	struct vrrp_ip ip;
	int n;

	t_ip4(&ip);
	t_key(&k);
	memcpy(buf, ka_v3_uc, sizeof(ka_v3_uc));
	n = vrrp_auth_append(&ip, &k, seq, buf, sizeof(ka_v3_uc), size);
	T_EQ_INT(n, sizeof(ka_v3_uc) + VRRP_AUTH_TRAILER);
	return (size_t)n;
}

static void
test_golden(void)
{
	uint8_t buf[128];
	struct vrrp_auth_key k;
	struct vrrp_ip ip;
	uint64_t seq = 0;
	size_t n = t_signed(buf, sizeof(buf), GOLDEN_SEQ);

	T_ASSERT(memcmp(buf, ka_v3_uc, sizeof(ka_v3_uc)) == 0);
	T_ASSERT(memcmp(buf + sizeof(ka_v3_uc), golden_trailer,
	             VRRP_AUTH_TRAILER) == 0);
	t_ip4(&ip);
	t_key(&k);
	T_EQ_INT(vrrp_auth_verify(&ip, &k, buf, sizeof(ka_v3_uc), n, &seq),
	    VRRP_DROP_NONE);
	T_ASSERT(seq == GOLDEN_SEQ);
}

/*
 * Every byte of message and trailer is covered: a flipped bit anywhere is
 * refused, under the reason its position implies.
 */
static void
test_tampered_bytes(void)
{
	uint8_t buf[128];
	struct vrrp_auth_key k;
	struct vrrp_ip ip;
	uint64_t seq;
	size_t i, n = t_signed(buf, sizeof(buf), 42);
	size_t m = sizeof(ka_v3_uc);

	t_ip4(&ip);
	t_key(&k);
	for (i = 0; i < n; i++) {
		enum vrrp_drop want = VRRP_DROP_AUTH_BAD_MAC;

		if (i == m)
			want = VRRP_DROP_AUTH_TRAILER; /* the type */
		else if (i == m + 1)
			want = VRRP_DROP_AUTH_KEY_ID;
		buf[i] ^= 0x01;
		if (vrrp_auth_verify(&ip, &k, buf, m, n, &seq) != want)
			test_fail(__FILE__, __LINE__,
			    "byte %zu accepted or "
			    "misjudged",
			    i);
		buf[i] ^= 0x01;
	}
	T_EQ_INT(vrrp_auth_verify(&ip, &k, buf, m, n, &seq), VRRP_DROP_NONE);
	T_ASSERT(seq == 42);
}

/* Reflected to another peer, or claimed by another source: refused. */
static void
test_endpoints_covered(void)
{
	uint8_t buf[128];
	struct vrrp_auth_key k;
	struct vrrp_ip ip;
	uint64_t seq;
	size_t n = t_signed(buf, sizeof(buf), 1), m = sizeof(ka_v3_uc);

	t_key(&k);
	t_ip4(&ip);
	inet_pton(AF_INET, "198.18.10.3", ip.dst.b);
	T_EQ_INT(
	    vrrp_auth_verify(&ip, &k, buf, m, n, &seq), VRRP_DROP_AUTH_BAD_MAC);
	t_ip4(&ip);
	inet_pton(AF_INET, "198.18.10.3", ip.src.b);
	T_EQ_INT(
	    vrrp_auth_verify(&ip, &k, buf, m, n, &seq), VRRP_DROP_AUTH_BAD_MAC);
}

static void
test_wrong_key_and_id(void)
{
	uint8_t buf[128];
	struct vrrp_auth_key k;
	struct vrrp_ip ip;
	uint64_t seq;
	size_t n = t_signed(buf, sizeof(buf), 1), m = sizeof(ka_v3_uc);

	t_ip4(&ip);
	t_key(&k);
	k.bytes[31] ^= 0x80; /* same id, other key */
	T_EQ_INT(
	    vrrp_auth_verify(&ip, &k, buf, m, n, &seq), VRRP_DROP_AUTH_BAD_MAC);
	t_key(&k);
	k.len = 31; /* a prefix of the key is another key */
	T_EQ_INT(
	    vrrp_auth_verify(&ip, &k, buf, m, n, &seq), VRRP_DROP_AUTH_BAD_MAC);
	t_key(&k);
	k.id = 8;
	T_EQ_INT(
	    vrrp_auth_verify(&ip, &k, buf, m, n, &seq), VRRP_DROP_AUTH_KEY_ID);
}

static void
test_trailer_lengths(void)
{
	uint8_t buf[128];
	struct vrrp_auth_key k;
	struct vrrp_ip ip;
	uint64_t seq;
	size_t n = t_signed(buf, sizeof(buf), 1), m = sizeof(ka_v3_uc), l;

	t_ip4(&ip);
	t_key(&k);
	T_EQ_INT(
	    vrrp_auth_verify(&ip, &k, buf, m, m, &seq), VRRP_DROP_AUTH_MISSING);
	for (l = m + 1; l < n; l++)
		T_EQ_INT(vrrp_auth_verify(&ip, &k, buf, m, l, &seq),
		    VRRP_DROP_AUTH_TRAILER);
	T_EQ_INT(vrrp_auth_verify(&ip, &k, buf, m, n + 1, &seq),
	    VRRP_DROP_AUTH_TRAILER);
	T_ASSERT(vrrp_auth_is_trailer(buf, m, n));
	T_ASSERT(!vrrp_auth_is_trailer(buf, m, n - 1));
	T_ASSERT(!vrrp_auth_is_trailer(buf, m, n + 1));
	/* Appending: the room, the key length, the family. */
	memcpy(buf, ka_v3_uc, m);
	T_EQ_INT(vrrp_auth_append(&ip, &k, 1, buf, m, n - 1), -EMSGSIZE);
	T_EQ_INT(vrrp_auth_append(&ip, &k, 1, buf, m, n), (int)n);
	k.len = VRRP_AUTH_KEY_MIN - 1;
	T_EQ_INT(vrrp_auth_append(&ip, &k, 1, buf, m, n), -EINVAL);
	k.len = VRRP_AUTH_KEY_MAX + 1;
	T_EQ_INT(vrrp_auth_append(&ip, &k, 1, buf, m, n), -EINVAL);
	t_key(&k);
	ip.family = AF_UNIX;
	T_EQ_INT(vrrp_auth_append(&ip, &k, 1, buf, m, n), -EINVAL);
}

/* IPv6: 16-byte addresses in the MAC, a round trip and a reflection. */
static void
test_ipv6(void)
{
	static const uint8_t v6[] = { 0x31, 0x35, 0x64, 0x01, 0x00, 0x64, 0, 0,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0 };
	struct vrrp_pkt p;
	struct vrrp_auth_key k;
	struct vrrp_ip ip;
	uint8_t buf[128];
	uint64_t seq;
	int n;

	memset(&ip, 0, sizeof(ip));
	ip.family = AF_INET6;
	inet_pton(AF_INET6, "fe80::1", ip.src.b);
	inet_pton(AF_INET6, "fe80::2", ip.dst.b);
	ip.ttl = 255;
	t_key(&k);
	memset(&p, 0, sizeof(p));
	p.version = 3;
	p.vrid = 53;
	p.priority = 100;
	p.naddrs = 1;
	p.interval_cs = 100;
	p.addrs = v6 + 8;
	n = vrrp_pkt_encode(&ip, &p, buf, sizeof(buf));
	T_EQ_INT(n, 24);
	n = vrrp_auth_append(&ip, &k, 99, buf, 24, sizeof(buf));
	T_EQ_INT(n, 24 + VRRP_AUTH_TRAILER);
	ip.len = (size_t)n;
	T_EQ_INT(vrrp_pkt_decode(
	             &ip, VRRP_PKT_V3 | VRRP_PKT_TRAILER, buf, (size_t)n, &p),
	    VRRP_DROP_NONE);
	T_EQ_INT(p.len, 24);
	T_EQ_INT(vrrp_auth_verify(&ip, &k, buf, p.len, ip.len, &seq),
	    VRRP_DROP_NONE);
	T_ASSERT(seq == 99);
	ip.dst.b[15] = 3;
	T_EQ_INT(vrrp_auth_verify(&ip, &k, buf, p.len, ip.len, &seq),
	    VRRP_DROP_AUTH_BAD_MAC);
}

/* The decoder: a trailer only when asked for, the checksum the message's. */
static void
test_decode_trailer(void)
{
	uint8_t buf[128];
	struct vrrp_pkt p;
	struct vrrp_ip ip;
	size_t n = t_signed(buf, sizeof(buf), 1);

	t_ip4(&ip);
	T_EQ_INT(vrrp_pkt_decode(&ip, VRRP_PKT_V3, buf, n, &p),
	    VRRP_DROP_ADDR_COUNT);
	T_EQ_INT(
	    vrrp_pkt_decode(&ip, VRRP_PKT_V3 | VRRP_PKT_TRAILER, buf, n, &p),
	    VRRP_DROP_NONE);
	T_EQ_INT(p.len, sizeof(ka_v3_uc));
	T_EQ_INT(p.csum, VRRP_CSUM_PSEUDO);
	T_EQ_INT(p.vrid, 52);
	/* Without a trailer the message is all there is. */
	ip.len = sizeof(ka_v3_uc);
	T_EQ_INT(vrrp_pkt_decode(
	             &ip, VRRP_PKT_V3 | VRRP_PKT_TRAILER, buf, ip.len, &p),
	    VRRP_DROP_NONE);
	T_EQ_INT(p.len, sizeof(ka_v3_uc));
	/* A count claiming more than the payload holds is still short. */
	ip.len = sizeof(ka_v3_uc) - 4;
	T_EQ_INT(vrrp_pkt_decode(
	             &ip, VRRP_PKT_V3 | VRRP_PKT_TRAILER, buf, ip.len, &p),
	    VRRP_DROP_ADDR_COUNT);
}

static void
test_replay(void)
{
	const uint64_t down = 3600000, base = UINT64_C(1700000000000000);
	struct vrrp_auth_peer p;

	memset(&p, 0, sizeof(p));
	/* A new peer: anything; then only higher. */
	T_EQ_INT(vrrp_auth_replay(&p, 1000, 10, base, down), VRRP_DROP_NONE);
	T_EQ_INT(
	    vrrp_auth_replay(&p, 1000, 20, base, down), VRRP_DROP_AUTH_REPLAY);
	T_EQ_INT(
	    vrrp_auth_replay(&p, 999, 30, base, down), VRRP_DROP_AUTH_REPLAY);
	T_EQ_INT(vrrp_auth_replay(&p, 1001, 40, base, down), VRRP_DROP_NONE);
	T_ASSERT(p.seq == 1001 && p.heard_us == 40);
	/* Dropped adverts change nothing. */
	T_EQ_INT(
	    vrrp_auth_replay(&p, 5, 50, base, down), VRRP_DROP_AUTH_REPLAY);
	T_ASSERT(p.seq == 1001 && p.heard_us == 40);
}

/* The clock-step-back exception: silent longer than down, and fresh. */
static void
test_replay_restart(void)
{
	const uint64_t down = 3600000, wall = UINT64_C(1700000000000000);
	struct vrrp_auth_peer p;

	memset(&p, 0, sizeof(p));
	/* The peer's clock was an hour ahead. */
	T_EQ_INT(
	    vrrp_auth_replay(&p, wall + 3600000000ULL, 1000000, wall, down),
	    VRRP_DROP_NONE);
	/* Not silent long enough: a fresh lower sequence is a replay. */
	T_EQ_INT(vrrp_auth_replay(&p, wall, 1000000 + down, wall, down),
	    VRRP_DROP_AUTH_REPLAY);
	/* Silent, but a stale sequence (an old run's recording). */
	T_EQ_INT(vrrp_auth_replay(&p, wall - VRRP_AUTH_FRESH_US - 1,
	             1000000 + down + 1, wall, down),
	    VRRP_DROP_AUTH_REPLAY);
	/* Silent and fresh: the restarted peer is heard again. */
	T_EQ_INT(vrrp_auth_replay(&p, wall - 5, 1000000 + down + 1, wall, down),
	    VRRP_DROP_NONE);
	T_ASSERT(p.seq == wall - 5);
	/* ... and from there on only upwards. */
	T_EQ_INT(vrrp_auth_replay(&p, wall - 5, 1000000 + down + 2, wall, down),
	    VRRP_DROP_AUTH_REPLAY);
	T_EQ_INT(vrrp_auth_replay(&p, wall - 4, 1000000 + down + 3, wall, down),
	    VRRP_DROP_NONE);
}

static void
test_set(void)
{
	struct vrrp_auth_key k;
	struct vrrp_auth a;

	memset(&a, 0, sizeof(a));
	t_key(&k);
	vrrp_auth_set(&a, &k, 2, 5000);
	T_ASSERT(a.on && a.tx_seq == 5000 && a.npeers == 2);
	a.tx_seq = 5010;
	a.peers[1].seq = 77;
	/* A reload: the sequences go on, the key is the new one. */
	k.id = 9;
	vrrp_auth_set(&a, &k, 2, 9000);
	T_ASSERT(a.on && a.tx_seq == 5010 && a.peers[1].seq == 77);
	T_EQ_INT(a.key.id, 9);
	vrrp_auth_set(&a, NULL, 2, 9000);
	T_ASSERT(!a.on && a.key.len == 0 && a.tx_seq == 5010);
	vrrp_auth_fini(&a);
	T_ASSERT(a.peers == NULL);
}

static size_t
t_bind(const char *text, struct vrrp_conf *c, char *first, size_t flen)
{
	return t_conf_bind(&vrrp_conf_schema, text, c, first, flen);
}

static void
test_conf(void)
{
	static const char ok[] =
	    "instances:\n"
	    "  - name: web\n"
	    "    interface: eth0\n"
	    "    vrid: 51\n"
	    "    virtual_addresses: [198.18.0.100]\n"
	    "    unicast_peers: [198.18.0.2]\n"
	    "    auth: { type: hmac-sha256, key_file: /etc/k, key_id: 3 }\n";
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "instances:\n"
		  "  - name: web\n"
		  "    interface: eth0\n"
		  "    vrid: 51\n"
		  "    virtual_addresses: [198.18.0.100]\n"
		  "    auth: { type: hmac-sha256, key_file: /etc/k }\n",
		    "6:11: auth: needs unicast_peers" },
		{ "instances:\n"
		  "  - name: web\n"
		  "    interface: eth0\n"
		  "    vrid: 51\n"
		  "    virtual_addresses: [198.18.0.100]\n"
		  "    unicast_peers: [198.18.0.2]\n"
		  "    auth: { type: hmac-sha256 }\n",
		    "7:11: auth: key_file is required" },
		{ "instances:\n"
		  "  - name: web\n"
		  "    interface: eth0\n"
		  "    vrid: 51\n"
		  "    virtual_addresses: [198.18.0.100]\n"
		  "    unicast_peers: [198.18.0.2]\n"
		  "    auth: { key_file: /etc/k }\n",
		    "7:23: auth: key_file without type" },
		{ "instances:\n"
		  "  - name: web\n"
		  "    interface: eth0\n"
		  "    vrid: 51\n"
		  "    virtual_addresses: [198.18.0.100]\n"
		  "    unicast_peers: [198.18.0.2]\n"
		  "    auth: { type: md5, key_file: /etc/k }\n",
		    "7:" },
		{ "instances:\n"
		  "  - name: web\n"
		  "    interface: eth0\n"
		  "    vrid: 51\n"
		  "    virtual_addresses: [198.18.0.100]\n"
		  "    unicast_peers: [198.18.0.2]\n"
		  "    auth: { type: hmac-sha256, key_file: /k, key_id: 256 }\n",
		    "7:" },
	};
	struct vrrp_conf c;
	char first[256];
	size_t i;

	T_EQ_INT(t_bind(ok, &c, first, sizeof(first)), 0);
	T_EQ_INT(c.instances[0].auth.type, VRRP_CONF_AUTH_HMAC_SHA256);
	T_EQ_STR(c.instances[0].auth.key_file, "/etc/k");
	T_EQ_INT(c.instances[0].auth.key_id, 3);
	conf_schema_free(&vrrp_conf_schema, &c);
	/* Off by default. */
	T_EQ_INT(t_bind("instances: [{ name: a, interface: e, vrid: 1, "
	                "virtual_addresses: [198.18.0.1] }]",
	             &c, NULL, 0),
	    0);
	T_EQ_INT(c.instances[0].auth.type, VRRP_CONF_AUTH_NONE);
	T_ASSERT(c.instances[0].auth.key_file == NULL);
	conf_schema_free(&vrrp_conf_schema, &c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_ASSERT(t_bind(bad[i].text, &c, first, sizeof(first)) >= 1);
		if (strncmp(first, bad[i].want, strlen(bad[i].want)) != 0)
			test_fail(__FILE__, __LINE__, "case %zu: got \"%s\"", i,
			    first);
		conf_schema_free(&vrrp_conf_schema, &c);
	}
}

static void
test_drop_names(void)
{
	T_EQ_STR(vrrp_drop_name(VRRP_DROP_AUTH_MISSING), "auth_missing");
	T_EQ_STR(vrrp_drop_name(VRRP_DROP_AUTH_TRAILER), "auth_trailer");
	T_EQ_STR(vrrp_drop_name(VRRP_DROP_AUTH_KEY_ID), "auth_key_id");
	T_EQ_STR(vrrp_drop_name(VRRP_DROP_AUTH_BAD_MAC), "auth_bad_mac");
	T_EQ_STR(vrrp_drop_name(VRRP_DROP_AUTH_REPLAY), "auth_replay");
	T_EQ_STR(vrrp_drop_name(VRRP_DROP_AUTH_UNEXPECTED), "auth_unexpected");
}

static const struct test tests[] = {
	TEST(test_golden),
	TEST(test_tampered_bytes),
	TEST(test_endpoints_covered),
	TEST(test_wrong_key_and_id),
	TEST(test_trailer_lengths),
	TEST(test_ipv6),
	TEST(test_decode_trailer),
	TEST(test_replay),
	TEST(test_replay_restart),
	TEST(test_set),
	TEST(test_conf),
	TEST(test_drop_names),
};

TEST_MAIN(tests)
