/*
 * Unit tests for vrrp_addr.c and vrrp_announce.c, the "local" takeover
 * backend.
 *
 * The pure parts first: address parsing, the gratuitous ARP and unsolicited
 * NA frames against golden bytes written out by hand (the NA checksum
 * computed apart from the code under test), the virtual MACs, and the pacing
 * plan on a made-up clock.
 *
 * Then the real kernel. Each of those tests runs in its own forked process
 * (runner.c) and moves it into a fresh network namespace with
 * unshare(CLONE_NEWNET), so the host's interfaces are never touched and
 * nothing outlives the test: the namespace, its veth pair and its addresses
 * go away with the process. They need root (CAP_NET_ADMIN, CAP_NET_RAW) and
 * iproute2, and skip without them. Inside, a veth pair va <-> vb with
 * addresses from 198.18.0.0/15 and fd00:198:18::/64 only; no frame is sent to
 * any other address. What they prove:
 *
 *  - a VIP added is there (by our query and by `ip addr`), deleted is gone,
 *    deleted again is still success, and added twice is success; deleting
 *    our /32 leaves an operator's /24 of the same address alone;
 *  - an IPv6 VIP is usable at once (not tentative, bind() succeeds), where
 *    the same address added without NODAD is not: the contrast shows the
 *    test can fail;
 *  - a bad name, a bad label, an unknown index give an error naming the
 *    errno and the object;
 *  - link state follows `ip link set down/up`, including the peer's carrier,
 *    and the link-event socket reports each change and the deletion;
 *  - the frames that reach the peer end are, byte for byte, what RFC 5227 and
 *    RFC 4861 ask for, with the interface MAC or the virtual MAC;
 *  - a Linux neighbour on the link moves its cache entry to the announced
 *    MAC within the 1 s locktime: the ARP is taken as gratuitous and the NA
 *    carries Override and a checksum the kernel accepts.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
/* After net/if.h: IF_OPER_*, without redefining struct ifreq. */
#include <linux/if.h>

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "runner.h"
#include "vrrp/vrrp_addr.h"
#include "vrrp/vrrp_announce.h"

#define TEST_MAC0        0x02, 0x11, 0x22, 0x33, 0x44, 0x55
#define TEST_VIP4        "198.18.20.100"
#define TEST_VIP6        "fd00:198:18::100"
#define TEST_DEADLINE_MS 5000

/* Pure. */

static void
test_ip_parse(void)
{
	struct vrrp_addr_ip ip;
	char out[VRRP_ADDR_STRMAX];

	T_EQ_INT(vrrp_addr_ip_parse(TEST_VIP4, &ip), 0);
	T_EQ_INT(ip.family, AF_INET);
	T_EQ_INT(ip.prefixlen, 32);
	T_EQ_INT(ntohl(ip.u.v4.s_addr), 0xc6121464);
	T_EQ_STR(
	    vrrp_addr_ip_format(&ip, out, sizeof(out)), "198.18.20.100/32");
	T_EQ_INT(vrrp_addr_ip_parse("198.18.20.100/24", &ip), 0);
	T_EQ_INT(ip.prefixlen, 24);
	T_EQ_INT(vrrp_addr_ip_parse(TEST_VIP6, &ip), 0);
	T_EQ_INT(ip.family, AF_INET6);
	T_EQ_INT(ip.prefixlen, 128);
	T_EQ_STR(
	    vrrp_addr_ip_format(&ip, out, sizeof(out)), "fd00:198:18::100/128");
	T_EQ_INT(vrrp_addr_ip_parse("fd00:198:18::100/64", &ip), 0);
	T_EQ_INT(ip.prefixlen, 64);
	T_EQ_INT(vrrp_addr_ip_parse("198.18.20.100/33", &ip), -EINVAL);
	T_EQ_INT(vrrp_addr_ip_parse("fd00::1/129", &ip), -EINVAL);
	T_EQ_INT(vrrp_addr_ip_parse("198.18.20.100/", &ip), -EINVAL);
	T_EQ_INT(vrrp_addr_ip_parse("198.18.20.100/-1", &ip), -EINVAL);
	T_EQ_INT(vrrp_addr_ip_parse("198.18.20.100/2x", &ip), -EINVAL);
	T_EQ_INT(vrrp_addr_ip_parse("198.18.20", &ip), -EINVAL);
	T_EQ_INT(vrrp_addr_ip_parse("", &ip), -EINVAL);
	T_EQ_INT(vrrp_addr_ip_parse("/32", &ip), -EINVAL);
	T_EQ_INT(vrrp_addr_ip_parse("eth0", &ip), -EINVAL);
}

static void
test_vmac(void)
{
	static const unsigned char v4[] = { 0x00, 0x00, 0x5e, 0x00, 0x01,
		0x2a };
	static const unsigned char v6[] = { 0x00, 0x00, 0x5e, 0x00, 0x02,
		0xff };
	unsigned char mac[VRRP_ANNOUNCE_MACLEN];

	vrrp_announce_vmac(mac, AF_INET, 42);
	T_ASSERT(memcmp(mac, v4, sizeof(v4)) == 0);
	vrrp_announce_vmac(mac, AF_INET6, 255);
	T_ASSERT(memcmp(mac, v6, sizeof(v6)) == 0);
}

static void
test_garp_golden(void)
{
	static const unsigned char mac[] = { TEST_MAC0 };
	static const unsigned char want[VRRP_ANNOUNCE_ARP_LEN] = {
		/* Ethernet: broadcast, our MAC, ARP */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, TEST_MAC0, 0x08, 0x06,
		/* hw Ethernet, proto IPv4, lengths 6 and 4, op request */
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
		/* sha, spa = VIP */
		TEST_MAC0, 198, 18, 20, 100,
		/* tha zero, tpa = VIP */
		0, 0, 0, 0, 0, 0, 198, 18, 20, 100
	};
	unsigned char frame[VRRP_ANNOUNCE_ARP_LEN];
	struct in_addr vip;

	T_EQ_INT(inet_pton(AF_INET, TEST_VIP4, &vip), 1);
	memset(frame, 0xee, sizeof(frame));
	T_EQ_INT(vrrp_announce_garp_build(frame, mac, vip), 42);
	T_ASSERT(memcmp(frame, want, sizeof(want)) == 0);
}

/* RFC 1071 over the RFC 8200 §8.1 pseudo-header, written apart from the
 * code under test: the sum of a correct message is 0xffff. */
static unsigned
test_icmp6_sum(const unsigned char *ip6, const unsigned char *msg, size_t len)
{
	unsigned char ph[40];
	uint32_t sum = 0;
	size_t i;

	memcpy(ph, ip6 + 8, 32); /* source, destination */
	ph[32] = (unsigned char)(len >> 24);
	ph[33] = (unsigned char)(len >> 16);
	ph[34] = (unsigned char)(len >> 8);
	ph[35] = (unsigned char)len;
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = 58;
	for (i = 0; i < sizeof(ph); i += 2)
		sum += (uint32_t)(ph[i] << 8 | ph[i + 1]);
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(msg[i] << 8 | msg[i + 1]);
	if (len & 1)
		sum += (uint32_t)msg[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

#define TEST_VIP6_BYTES                                                        \
	0xfd, 0x00, 0x01, 0x98, 0x00, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00

static void
test_na_golden(void)
{
	static const unsigned char mac[] = { TEST_MAC0 };
	static const unsigned char want[VRRP_ANNOUNCE_NA_LEN] = {
		/* Ethernet: 33:33:00:00:00:01 (ff02::1), our MAC, IPv6 */
		0x33, 0x33, 0x00, 0x00, 0x00, 0x01, TEST_MAC0, 0x86, 0xdd,
		/* version 6, payload 32, next header ICMPv6, hop limit 255 */
		0x60, 0, 0, 0, 0x00, 0x20, 58, 255,
		/* source: the VIP; destination ff02::1 */
		TEST_VIP6_BYTES, 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0x01,
		/* NA, code 0, checksum (RFC 1071, computed by hand), O */
		136, 0, 0xee, 0xa4, 0x20, 0, 0, 0,
		/* target */
		TEST_VIP6_BYTES,
		/* option 2 (target link-layer address), 1 x 8 bytes */
		2, 1, TEST_MAC0
	};
	unsigned char frame[VRRP_ANNOUNCE_NA_LEN];
	struct in6_addr vip, dst;

	T_EQ_INT(inet_pton(AF_INET6, TEST_VIP6, &vip), 1);
	memset(frame, 0xee, sizeof(frame));
	T_EQ_INT(vrrp_announce_na_build(frame, mac, &vip, &vip, false), 86);
	T_ASSERT(memcmp(frame, want, sizeof(want)) == 0);
	T_EQ_INT(test_icmp6_sum(frame + 14, frame + 54, 32), 0xffff);
	/* The destination, copied out: frame + 38 is not aligned. */
	memcpy(&dst, frame + 38, sizeof(dst));
	T_EQ_INT(vrrp_announce_icmp6_cksum(&vip, &dst, frame + 54, 32), 0);

	/* Router: R joins O, and the checksum follows. */
	T_EQ_INT(vrrp_announce_na_build(frame, mac, &vip, &vip, true), 86);
	T_EQ_INT(frame[58], 0xa0);
	T_EQ_INT(frame[56], 0x6e);
	T_EQ_INT(frame[57], 0xa4);
	T_EQ_INT(test_icmp6_sum(frame + 14, frame + 54, 32), 0xffff);
	frame[70] ^= 1; /* a flipped target bit must break the sum */
	T_ASSERT(test_icmp6_sum(frame + 14, frame + 54, 32) != 0xffff);
}

/* Drive s from `from` to `to` as an event loop would; log round times. */
static size_t
test_sched_run(
    struct vrrp_announce_sched *s, uint64_t to, uint64_t *at, size_t max)
{
	size_t n = 0;
	uint64_t now;

	while ((now = vrrp_announce_sched_next(s)) <= to) {
		T_ASSERT(vrrp_announce_sched_due(s, now));
		T_ASSERT(n < max);
		at[n++] = now;
	}
	return n;
}

static void
test_sched_keepalived_defaults(void)
{
	/* 5 at once, 5 more 5 s later, then nothing. */
	const struct vrrp_announce_plan plan = { .repeat = 5,
		.delay_us = 5000000 };
	struct vrrp_announce_sched s;
	uint64_t at[16];
	size_t i;

	vrrp_announce_sched_start(&s, &plan, 1000);
	T_EQ_INT(vrrp_announce_sched_next(&s), 1000);
	T_ASSERT(!vrrp_announce_sched_due(&s, 999));
	for (i = 0; i < 5; i++)
		T_ASSERT(vrrp_announce_sched_due(&s, 1000));
	T_ASSERT(!vrrp_announce_sched_due(&s, 1000));
	T_EQ_INT(vrrp_announce_sched_next(&s), 5001000);
	T_EQ_INT(test_sched_run(&s, UINT64_MAX - 1, at, 16), 5);
	for (i = 0; i < 5; i++)
		T_EQ_INT(at[i], 5001000);
	T_ASSERT(vrrp_announce_sched_next(&s) == UINT64_MAX);
	T_ASSERT(!vrrp_announce_sched_due(&s, UINT64_MAX - 1));
	T_EQ_INT(s.rounds, 10);
}

static void
test_sched_interval_refresh(void)
{
	/* 3 rounds 100 ms apart, then 2 rounds every 10 s. */
	const struct vrrp_announce_plan plan = { .repeat = 3,
		.interval_us = 100000,
		.refresh_us = 10000000,
		.refresh_repeat = 2 };
	static const uint64_t want[] = { 0, 100000, 200000, 10000000, 10100000,
		20000000, 20100000, 30000000, 30100000 };
	struct vrrp_announce_sched s;
	uint64_t at[16];
	size_t i;

	vrrp_announce_sched_start(&s, &plan, 0);
	T_EQ_INT(test_sched_run(&s, 30100000, at, 16), ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++)
		T_EQ_INT(at[i], want[i]);
	/* Refreshing goes on until stopped. */
	T_EQ_INT(vrrp_announce_sched_next(&s), 40000000);
	vrrp_announce_sched_stop(&s);
	T_ASSERT(vrrp_announce_sched_next(&s) == UINT64_MAX);
	vrrp_announce_sched_stop(&s);
	T_ASSERT(!vrrp_announce_sched_due(&s, 50000000));
}

static void
test_sched_late_and_merged(void)
{
	/* The delayed burst and a refresh fall together at 5 s: one burst
	 * of the larger count, and refreshes keep their phase. */
	const struct vrrp_announce_plan merged = { .repeat = 2,
		.delay_us = 5000000,
		.refresh_us = 5000000,
		.refresh_repeat = 1 };
	const struct vrrp_announce_plan spaced = { .repeat = 3,
		.interval_us = 100000 };
	struct vrrp_announce_sched s;
	uint64_t at[16];

	vrrp_announce_sched_start(&s, &merged, 0);
	T_EQ_INT(test_sched_run(&s, 10000000, at, 16), 5);
	T_EQ_INT(at[0], 0);
	T_EQ_INT(at[1], 0);
	T_EQ_INT(at[2], 5000000);
	T_EQ_INT(at[3], 5000000);
	T_EQ_INT(at[4], 10000000);

	/* A timer that fires 1 s late sends one round, then spaces the
	 * rest from there instead of bunching them. */
	vrrp_announce_sched_start(&s, &spaced, 0);
	T_ASSERT(vrrp_announce_sched_due(&s, 0));
	T_ASSERT(vrrp_announce_sched_due(&s, 1000000));
	T_ASSERT(!vrrp_announce_sched_due(&s, 1000000));
	T_EQ_INT(vrrp_announce_sched_next(&s), 1100000);
	T_ASSERT(vrrp_announce_sched_due(&s, 1100000));
	T_ASSERT(vrrp_announce_sched_next(&s) == UINT64_MAX);

	/* Nothing to send at all. */
	vrrp_announce_sched_start(&s, &(struct vrrp_announce_plan){ 0 }, 7);
	T_ASSERT(vrrp_announce_sched_next(&s) == UINT64_MAX);
}

/* The namespace. */

static uint64_t
test_now_ms(void)
{
	return util_mono_ms();
}

static void
test_nap(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Run a shell command in the test's namespace; it must succeed. */
static void test_sh(const char *fmt, ...) __printflike(1, 2);

static void
test_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st != 0)
		test_fail(__FILE__, __LINE__, "`%s` exited %d", cmd, st);
}

/* The output of a command, NUL-terminated, into out. */
static const char *test_sh_out(char *out, size_t len, const char *fmt, ...)
    __printflike(3, 4);

static const char *
test_sh_out(char *out, size_t len, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	size_t n;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	T_ASSERT((f = popen(cmd, "r")) != NULL);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	T_EQ_INT(pclose(f), 0);
	return out;
}

/*
 * Enter a fresh network namespace with lo up and a veth pair va <-> vb, both
 * up, va 198.18.20.1/24, vb 198.18.20.2/24. Skips without root or iproute2.
 */
static void
test_netns(struct vrrp_addr_nl *nl, int *va, int *vb)
{
	struct vrrp_addr_link l;
	uint64_t deadline;

	if (geteuid() != 0)
		T_SKIP("needs root for a network namespace");
	if (unshare(CLONE_NEWNET) == -1)
		T_SKIP("unshare(CLONE_NEWNET) refused");
	if (system("ip -V >/dev/null 2>&1") != 0)
		T_SKIP("iproute2 (ip) not installed");
	test_sh("ip link set lo up");
	test_sh("ip link add va type veth peer name vb");
	test_sh("ip addr add 198.18.20.1/24 dev va");
	test_sh("ip addr add 198.18.20.2/24 dev vb");
	test_sh("ip link set va up && ip link set vb up");
	if (vrrp_addr_init(nl) != 0)
		test_fail(__FILE__, __LINE__, "init: %s", nl->err);
	T_ASSERT((*va = vrrp_addr_ifindex(nl, "va")) > 0);
	T_ASSERT((*vb = vrrp_addr_ifindex(nl, "vb")) > 0);
	/* Carrier comes through the kernel's link watch, not at once. */
	deadline = test_now_ms() + TEST_DEADLINE_MS;
	for (;;) {
		T_EQ_INT(vrrp_addr_link_get(nl, *va, &l), 0);
		if (l.up) {
			T_EQ_INT(vrrp_addr_link_get(nl, *vb, &l), 0);
			if (l.up)
				break;
		}
		T_ASSERT(test_now_ms() < deadline);
		test_nap();
	}
}

static void
test_ip(const char *text, struct vrrp_addr_ip *ip)
{
	T_EQ_INT(vrrp_addr_ip_parse(text, ip), 0);
}

static void
test_addr_v4(void)
{
	struct vrrp_addr_nl nl;
	struct vrrp_addr_ip vip, own;
	char out[4096];
	uint32_t flags = 0;
	int va, vb;

	test_netns(&nl, &va, &vb);
	test_ip(TEST_VIP4, &vip);
	test_ip("198.18.20.1/24", &own);
	T_EQ_INT(vrrp_addr_query(&nl, va, &vip, &flags), 0);
	T_EQ_INT(vrrp_addr_add(&nl, va, &vip, NULL), 0);
	T_EQ_INT(vrrp_addr_query(&nl, va, &vip, &flags), 1);
	T_ASSERT(flags & IFA_F_PERMANENT);
	/* On va only. */
	T_EQ_INT(vrrp_addr_query(&nl, vb, &vip, NULL), 0);
	test_sh_out(out, sizeof(out), "ip -o -4 addr show dev va");
	T_ASSERT(strstr(out, "inet 198.18.20.100/32 ") != NULL);
	/* Adding again adopts it. */
	T_EQ_INT(vrrp_addr_add(&nl, va, &vip, NULL), 0);
	T_EQ_INT(vrrp_addr_del(&nl, va, &vip), 0);
	T_EQ_INT(vrrp_addr_query(&nl, va, &vip, NULL), 0);
	test_sh_out(out, sizeof(out), "ip -o -4 addr show dev va");
	T_ASSERT(strstr(out, "198.18.20.100") == NULL);
	/* The interface's own address was not taken with it. */
	T_ASSERT(strstr(out, "inet 198.18.20.1/24 ") != NULL);
	T_EQ_INT(vrrp_addr_query(&nl, va, &own, NULL), 1);
	/* Deleting what is gone is success, with no error left behind. */
	T_EQ_INT(vrrp_addr_del(&nl, va, &vip), 0);
	T_EQ_STR(nl.err, "");

	/* An operator's 198.18.20.100/24 is not our /32. */
	test_sh("ip addr add 198.18.20.100/24 dev va");
	T_EQ_INT(vrrp_addr_del(&nl, va, &vip), 0);
	T_EQ_INT(vrrp_addr_query(&nl, va, &vip, NULL), 1);
	test_sh_out(out, sizeof(out), "ip -o -4 addr show dev va");
	T_ASSERT(strstr(out, "inet 198.18.20.100/24 ") != NULL);
	vrrp_addr_fini(&nl);
	vrrp_addr_fini(&nl);
}

static void
test_addr_v4_label(void)
{
	struct vrrp_addr_nl nl;
	struct vrrp_addr_ip vip, vip6;
	char out[4096];
	int va, vb;

	test_netns(&nl, &va, &vb);
	test_ip(TEST_VIP4, &vip);
	test_ip(TEST_VIP6, &vip6);
	T_EQ_INT(vrrp_addr_add(&nl, va, &vip, "va:vip"), 0);
	test_sh_out(out, sizeof(out), "ip -o -4 addr show dev va");
	T_ASSERT(
	    strstr(out, "inet 198.18.20.100/32 scope global va:vip") != NULL);
	T_EQ_INT(vrrp_addr_del(&nl, va, &vip), 0);
	T_EQ_INT(vrrp_addr_query(&nl, va, &vip, NULL), 0);

	/* Another interface's name, too long, or on IPv6: refused. */
	T_EQ_INT(vrrp_addr_add(&nl, va, &vip, "vb:vip"), -EINVAL);
	T_ASSERT(strstr(nl.err, "add 198.18.20.100/32 dev va") != NULL);
	T_ASSERT(strstr(nl.err, "EINVAL") != NULL);
	T_ASSERT(strstr(nl.err, "\"vb:vip\"") != NULL);
	T_EQ_INT(vrrp_addr_add(&nl, va, &vip, "vax"), -EINVAL);
	T_EQ_INT(vrrp_addr_add(&nl, va, &vip, "va:0123456789abc"), -EINVAL);
	T_EQ_INT(vrrp_addr_add(&nl, va, &vip6, "va:vip"), -EINVAL);
	T_ASSERT(strstr(nl.err, "IPv4") != NULL);
	T_EQ_INT(vrrp_addr_query(&nl, va, &vip, NULL), 0);
	vrrp_addr_fini(&nl);
}

/* Can a socket be bound to ip right now? 0 or -errno. */
static int
test_bind6(const char *ip)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	int fd, rc = 0;

	T_EQ_INT(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
	T_ASSERT((fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0);
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1)
		rc = -errno;
	close(fd);
	return rc;
}

/* Cut text down to its line that contains needle, which must be there. */
static void
test_line(char *text, const char *needle)
{
	char *p = strstr(text, needle), *end;

	if (p == NULL)
		test_fail(
		    __FILE__, __LINE__, "no \"%s\" in \"%s\"", needle, text);
	while (p > text && p[-1] != '\n')
		p--;
	if ((end = strchr(p, '\n')) != NULL)
		*end = '\0';
	memmove(text, p, strlen(p) + 1);
}

static void
test_addr_v6_nodad(void)
{
	struct vrrp_addr_nl nl;
	struct vrrp_addr_ip vip, plain;
	char out[4096];
	uint32_t flags = 0;
	int va, vb;

	test_netns(&nl, &va, &vb);
	test_ip(TEST_VIP6, &vip);
	T_EQ_INT(vrrp_addr_add(&nl, va, &vip, NULL), 0);
	T_EQ_INT(vrrp_addr_query(&nl, va, &vip, &flags), 1);
	T_ASSERT(flags & IFA_F_NODAD);
	T_ASSERT(!(flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)));
	/* /128: deprecated, never chosen as the node's own source. */
	T_ASSERT(flags & IFA_F_DEPRECATED);
	T_EQ_INT(test_bind6(TEST_VIP6), 0);
	test_sh_out(out, sizeof(out), "ip -o -6 addr show dev va");
	test_line(out, "inet6 fd00:198:18::100/128 ");
	T_ASSERT(strstr(out, "tentative") == NULL);

	/* The contrast: the kernel's default, with DAD, is not usable yet. */
	test_sh("ip addr add fd00:198:18::101/128 dev va");
	test_ip("fd00:198:18::101", &plain);
	T_EQ_INT(vrrp_addr_query(&nl, va, &plain, &flags), 1);
	T_ASSERT(flags & IFA_F_TENTATIVE);
	T_EQ_INT(test_bind6("fd00:198:18::101"), -EADDRNOTAVAIL);

	/* A /64 VIP stays preferred. */
	test_ip("fd00:198:18::102/64", &plain);
	T_EQ_INT(vrrp_addr_add(&nl, va, &plain, NULL), 0);
	T_EQ_INT(vrrp_addr_query(&nl, va, &plain, &flags), 1);
	T_ASSERT(!(flags & (IFA_F_DEPRECATED | IFA_F_TENTATIVE)));

	T_EQ_INT(vrrp_addr_del(&nl, va, &vip), 0);
	T_EQ_INT(vrrp_addr_query(&nl, va, &vip, NULL), 0);
	T_EQ_INT(vrrp_addr_del(&nl, va, &vip), 0);
	test_sh_out(out, sizeof(out), "ip -o -6 addr show dev va");
	T_ASSERT(strstr(out, "fd00:198:18::100/") == NULL);
	vrrp_addr_fini(&nl);
}

static void
test_bad_names(void)
{
	struct vrrp_addr_nl nl;
	struct vrrp_addr_link l;
	struct vrrp_addr_ip vip, bad;
	char out[4096];
	int va, vb;

	test_netns(&nl, &va, &vb);
	test_ip(TEST_VIP4, &vip);
	T_EQ_INT(vrrp_addr_ifindex(&nl, "nosuch0"), -ENODEV);
	T_ASSERT(strstr(nl.err, "\"nosuch0\"") != NULL);
	T_ASSERT(strstr(nl.err, "ENODEV") != NULL);
	T_EQ_INT(vrrp_addr_ifindex(&nl, "a-name-far-too-long"), -EINVAL);
	T_ASSERT(strstr(nl.err, "EINVAL") != NULL);
	T_EQ_INT(vrrp_addr_ifindex(&nl, ""), -EINVAL);
	/* An index that names nothing. */
	T_EQ_INT(vrrp_addr_add(&nl, 9999, &vip, NULL), -ENODEV);
	T_ASSERT(strstr(nl.err, "add 198.18.20.100/32 ifindex 9999") != NULL);
	/* The kernel's own reason (extended ack) follows the errno. */
	T_ASSERT(strstr(nl.err, ": ENODEV: No such device: ") != NULL);
	T_ASSERT(vrrp_addr_del(&nl, 9999, &vip) < 0);
	T_EQ_INT(vrrp_addr_link_get(&nl, 9999, &l), -ENODEV);
	T_EQ_INT(vrrp_addr_link_get(&nl, 0, &l), -ENODEV);
	/* Not a virtual address: refused before the kernel sees it. */
	bad = vip;
	bad.prefixlen = 33;
	T_EQ_INT(vrrp_addr_add(&nl, va, &bad, NULL), -EINVAL);
	T_ASSERT(strstr(nl.err, "prefix length") != NULL);
	test_ip("0.0.0.0/0", &bad);
	T_EQ_INT(vrrp_addr_add(&nl, va, &bad, NULL), -EINVAL);
	T_ASSERT(strstr(nl.err, "not a unicast address") != NULL);
	test_ip("224.0.0.18", &bad);
	T_EQ_INT(vrrp_addr_add(&nl, va, &bad, NULL), -EINVAL);
	test_ip("ff02::12", &bad);
	T_EQ_INT(vrrp_addr_add(&nl, va, &bad, NULL), -EINVAL);
	test_ip("::", &bad);
	T_EQ_INT(vrrp_addr_del(&nl, va, &bad), -EINVAL);
	bad.family = AF_UNIX;
	T_EQ_INT(vrrp_addr_query(&nl, va, &bad, NULL), -EINVAL);
	T_ASSERT(strstr(nl.err, "not an IPv4 or IPv6 address") != NULL);
	test_sh_out(out, sizeof(out), "ip -o addr show dev va");
	T_ASSERT(strstr(out, "0.0.0.0") == NULL);
	/* Everything still works afterwards. */
	T_EQ_INT(vrrp_addr_ifindex(&nl, "va"), va);
	vrrp_addr_fini(&nl);
	T_EQ_INT(vrrp_addr_ifindex(&nl, "va"), -EBADF);
}

/* The last report of each of two links, kept across reads. */
struct test_seen {
	int ifindex[2];
	int reports[2];
	bool up[2];
	bool gone[2];
};

static void
test_link_cb(const struct vrrp_addr_link *l, void *arg)
{
	struct test_seen *s = arg;

	for (int i = 0; i < 2; i++) {
		if (l->ifindex != s->ifindex[i])
			continue;
		s->reports[i]++;
		s->up[i] = l->up;
		s->gone[i] = l->gone;
	}
}

/* Read events until link i's last report says up (gone), or fail. */
static void
test_wait_link(
    struct vrrp_addr_mon *mon, struct test_seen *s, int i, bool up, bool gone)
{
	uint64_t deadline = test_now_ms() + TEST_DEADLINE_MS;

	for (;;) {
		struct pollfd pfd = { vrrp_addr_mon_fd(mon), POLLIN, 0 };
		uint64_t now = test_now_ms();

		if (s->reports[i] > 0 && s->up[i] == up && s->gone[i] == gone)
			return;
		if (now >= deadline)
			test_fail(__FILE__, __LINE__,
			    "no event: ifindex %d up=%d gone=%d (%d seen)",
			    s->ifindex[i], up, gone, s->reports[i]);
		if (poll(&pfd, 1, (int)(deadline - now)) == 1)
			T_ASSERT(vrrp_addr_mon_read(mon, test_link_cb, s) >= 0);
	}
}

static void
test_link_state(void)
{
	struct vrrp_addr_nl nl;
	struct vrrp_addr_mon mon;
	struct vrrp_addr_link l;
	struct test_seen seen = { 0 };
	int va, vb;

	test_netns(&nl, &va, &vb);
	seen.ifindex[0] = va;
	seen.ifindex[1] = vb;
	/* Subscribe first, then read the state: no change falls between. */
	if (vrrp_addr_mon_init(&mon) != 0)
		test_fail(__FILE__, __LINE__, "mon: %s", mon.err);
	T_ASSERT(vrrp_addr_mon_fd(&mon) >= 0);
	T_EQ_INT(vrrp_addr_link_get(&nl, va, &l), 0);
	T_EQ_INT(l.ifindex, va);
	T_EQ_STR(l.ifname, "va");
	T_ASSERT(l.up && (l.flags & IFF_UP) && (l.flags & IFF_RUNNING));
	T_EQ_INT(l.operstate, IF_OPER_UP);
	T_EQ_INT(l.mtu, 1500);
	T_EQ_INT(l.hwlen, 6);
	/* Nothing has happened yet: reading is not an error. */
	T_ASSERT(vrrp_addr_mon_read(&mon, test_link_cb, &seen) >= 0);
	seen.reports[0] = seen.reports[1] = 0;

	test_sh("ip link set va down");
	T_EQ_INT(vrrp_addr_link_get(&nl, va, &l), 0);
	T_ASSERT(!l.up && !(l.flags & IFF_UP));
	test_wait_link(&mon, &seen, 0, false, false);
	/* The peer is still administratively up but lost its carrier. */
	test_wait_link(&mon, &seen, 1, false, false);
	T_EQ_INT(vrrp_addr_link_get(&nl, vb, &l), 0);
	T_ASSERT(!l.up && (l.flags & IFF_UP) && !(l.flags & IFF_RUNNING));
	T_EQ_INT(l.operstate, IF_OPER_LOWERLAYERDOWN);

	test_sh("ip link set va up");
	test_wait_link(&mon, &seen, 0, true, false);
	test_wait_link(&mon, &seen, 1, true, false);
	T_EQ_INT(vrrp_addr_link_get(&nl, va, &l), 0);
	T_ASSERT(l.up);

	/* Deleting the pair: both reported gone. */
	test_sh("ip link del va");
	test_wait_link(&mon, &seen, 0, false, true);
	test_wait_link(&mon, &seen, 1, false, true);
	T_EQ_INT(vrrp_addr_link_get(&nl, va, &l), -ENODEV);
	T_ASSERT(mon.events >= 4);
	T_EQ_INT(mon.rx_foreign, 0);
	T_EQ_INT(mon.rx_malformed, 0);
	vrrp_addr_mon_fini(&mon);
	vrrp_addr_mon_fini(&mon);
	T_EQ_INT(vrrp_addr_mon_fd(&mon), -1);
	vrrp_addr_fini(&nl);
}

/* An AF_PACKET socket receiving ethertype on ifindex. */
static int
test_listen(int ifindex, unsigned ethertype)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int fd;

	fd = socket(
	    AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons((uint16_t)ethertype));
	T_ASSERT(fd >= 0);
	sll.sll_protocol = htons((uint16_t)ethertype);
	sll.sll_ifindex = ifindex;
	T_EQ_INT(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
}

typedef bool test_match_fn(const unsigned char *f, size_t n, const void *key);

/* The next frame on fd that match() accepts, within the deadline. */
static size_t
test_recv(
    int fd, unsigned char *f, size_t cap, test_match_fn *match, const void *key)
{
	uint64_t deadline = test_now_ms() + TEST_DEADLINE_MS;

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		uint64_t now = test_now_ms();
		ssize_t n;

		if (now >= deadline)
			test_fail(__FILE__, __LINE__, "no matching frame");
		if (poll(&pfd, 1, (int)(deadline - now)) != 1)
			continue;
		n = recv(fd, f, cap, MSG_DONTWAIT);
		if (n > 0 && match(f, (size_t)n, key))
			return (size_t)n;
	}
}

/* The ARP frames announcing key (4 bytes). */
static bool
test_is_garp(const unsigned char *f, size_t n, const void *key)
{
	return n >= 42 && f[12] == 0x08 && f[13] == 0x06 &&
	    memcmp(f + 28, key, 4) == 0;
}

/* The NAs for target key (16 bytes). */
static bool
test_is_na(const unsigned char *f, size_t n, const void *key)
{
	return n >= 86 && f[12] == 0x86 && f[13] == 0xdd && f[20] == 58 &&
	    f[54] == 136 && memcmp(f + 62, key, 16) == 0;
}

/* va's MAC, by ioctl: not the path the code under test takes. */
static void
test_ifmac(const char *ifname, unsigned char mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	T_ASSERT(fd >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	T_EQ_INT(ioctl(fd, SIOCGIFHWADDR, &ifr), 0);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
}

/* Every byte of a received GARP for vip from mac. */
static void
test_check_garp(const unsigned char *f, size_t n, const unsigned char *mac,
    const unsigned char *vip)
{
	static const unsigned char hdr[] = { 0x00, 0x01, 0x08, 0x00, 0x06, 0x04,
		0x00, 0x01 };
	size_t i;

	T_ASSERT(n >= 42);
	for (i = 0; i < 6; i++)
		T_EQ_INT(f[i], 0xff);                    /* broadcast */
	T_ASSERT(memcmp(f + 6, mac, 6) == 0);            /* Ethernet source */
	T_EQ_INT(f[12] << 8 | f[13], 0x0806);            /* ARP */
	T_ASSERT(memcmp(f + 14, hdr, sizeof(hdr)) == 0); /* op 1: request */
	T_ASSERT(memcmp(f + 22, mac, 6) == 0);           /* sha */
	T_ASSERT(memcmp(f + 28, vip, 4) == 0);           /* spa */
	for (i = 32; i < 38; i++)
		T_EQ_INT(f[i], 0);             /* tha */
	T_ASSERT(memcmp(f + 38, vip, 4) == 0); /* tpa */
	for (i = 42; i < n; i++)
		T_EQ_INT(f[i], 0); /* padding, if any */
}

static void
test_garp_on_wire(void)
{
	struct vrrp_addr_nl nl;
	struct vrrp_announce an;
	unsigned char f[2048], mac[6], vmac[6];
	struct in_addr vip;
	size_t n;
	int va, vb, rx;

	test_netns(&nl, &va, &vb);
	T_EQ_INT(inet_pton(AF_INET, TEST_VIP4, &vip), 1);
	test_ifmac("va", mac);
	rx = test_listen(vb, ETH_P_ARP);
	if (vrrp_announce_open(&an, va) != 0)
		test_fail(__FILE__, __LINE__, "open: %s", an.err);

	T_EQ_INT(vrrp_announce_garp_send(&an, vip, NULL), 0);
	n = test_recv(rx, f, sizeof(f), test_is_garp, &vip);
	test_check_garp(f, n, mac, (const unsigned char *)&vip);

	/* use_vmac: the virtual MAC in the Ethernet source and in sha. */
	vrrp_announce_vmac(vmac, AF_INET, 42);
	T_EQ_INT(vrrp_announce_garp_send(&an, vip, vmac), 0);
	n = test_recv(rx, f, sizeof(f), test_is_garp, &vip);
	T_EQ_INT(f[11], 0x2a);
	test_check_garp(f, n, vmac, (const unsigned char *)&vip);
	T_EQ_INT(an.tx_frames, 2);
	T_EQ_INT(an.tx_errors, 0);

	/* A link that is down refuses the frame, and says so. */
	test_sh("ip link set va down");
	T_EQ_INT(vrrp_announce_garp_send(&an, vip, NULL), -ENETDOWN);
	T_ASSERT(strstr(an.err, "ENETDOWN") != NULL);
	T_EQ_INT(an.tx_errors, 1);
	vrrp_announce_close(&an);
	vrrp_announce_close(&an);
	T_EQ_INT(vrrp_announce_garp_send(&an, vip, NULL), -EBADF);
	T_EQ_INT(vrrp_announce_open(&an, 0), -ENODEV);
	vrrp_announce_close(&an);
	close(rx);
	vrrp_addr_fini(&nl);
}

/* Every byte of a received NA for vip from mac. */
static void
test_check_na(const unsigned char *f, size_t n, const unsigned char *mac,
    const unsigned char *vip, unsigned flags)
{
	static const unsigned char allnodes_mac[] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const unsigned char allnodes[16] = { 0xff, 0x02, [15] = 0x01 };
	static const unsigned char ip6[] = { 0x60, 0, 0, 0, 0, 32, 58, 255 };

	T_EQ_INT(n, 86);
	T_ASSERT(memcmp(f, allnodes_mac, 6) == 0);
	T_ASSERT(memcmp(f + 6, mac, 6) == 0);
	T_EQ_INT(f[12] << 8 | f[13], 0x86dd);
	/* version, class, flow, payload 32, ICMPv6, hop limit 255 */
	T_ASSERT(memcmp(f + 14, ip6, sizeof(ip6)) == 0);
	T_ASSERT(memcmp(f + 22, vip, 16) == 0); /* source: the VIP */
	T_ASSERT(memcmp(f + 38, allnodes, 16) == 0);
	T_EQ_INT(f[54], 136); /* Neighbor Advertisement */
	T_EQ_INT(f[55], 0);
	T_EQ_INT(test_icmp6_sum(f + 14, f + 54, 32), 0xffff);
	T_EQ_INT(f[58], flags); /* R S O */
	T_EQ_INT(f[59] | f[60] | f[61], 0);
	T_ASSERT(memcmp(f + 62, vip, 16) == 0); /* target */
	T_EQ_INT(f[78], 2);                     /* TLLA option */
	T_EQ_INT(f[79], 1);
	T_ASSERT(memcmp(f + 80, mac, 6) == 0);
}

static void
test_na_on_wire(void)
{
	struct vrrp_addr_nl nl;
	struct vrrp_announce an;
	unsigned char f[2048], mac[6], vmac[6];
	struct in6_addr vip;
	size_t n;
	int va, vb, rx;

	test_netns(&nl, &va, &vb);
	T_EQ_INT(inet_pton(AF_INET6, TEST_VIP6, &vip), 1);
	test_ifmac("va", mac);
	/* The kernel's own IPv6 chatter (DAD, MLD) arrives too: skipped. */
	rx = test_listen(vb, ETH_P_IPV6);
	if (vrrp_announce_open(&an, va) != 0)
		test_fail(__FILE__, __LINE__, "open: %s", an.err);

	T_EQ_INT(vrrp_announce_na_send(&an, &vip, false, NULL), 0);
	n = test_recv(rx, f, sizeof(f), test_is_na, &vip);
	test_check_na(f, n, mac, vip.s6_addr, 0x20);

	vrrp_announce_vmac(vmac, AF_INET6, 42);
	T_EQ_INT(vrrp_announce_na_send(&an, &vip, true, vmac), 0);
	n = test_recv(rx, f, sizeof(f), test_is_na, &vip);
	test_check_na(f, n, vmac, vip.s6_addr, 0xa0);
	T_EQ_INT(an.tx_frames, 2);
	vrrp_announce_close(&an);
	close(rx);
	vrrp_addr_fini(&nl);
}

/* Poll `ip neigh` until its line for addr on vb holds want. */
static void
test_wait_neigh(const char *addr, const char *want)
{
	uint64_t deadline = test_now_ms() + TEST_DEADLINE_MS;
	char out[1024];

	for (;;) {
		test_sh_out(
		    out, sizeof(out), "ip neigh show to %s dev vb", addr);
		if (strstr(out, want) != NULL)
			return;
		if (test_now_ms() >= deadline)
			test_fail(__FILE__, __LINE__, "neighbour %s: \"%s\"",
			    addr, out);
		test_nap();
	}
}

static void
test_announce_moves_neighbour(void)
{
	struct vrrp_addr_nl nl;
	struct vrrp_announce an;
	unsigned char vmac[6];
	struct in_addr vip4;
	struct in6_addr vip6;
	int va, vb;

	test_netns(&nl, &va, &vb);
	T_EQ_INT(inet_pton(AF_INET, TEST_VIP4, &vip4), 1);
	T_EQ_INT(inet_pton(AF_INET6, TEST_VIP6, &vip6), 1);
	if (vrrp_announce_open(&an, va) != 0)
		test_fail(__FILE__, __LINE__, "open: %s", an.err);
	/*
	 * vb knows the VIP at an old MAC, learnt just now: inside the 1 s
	 * locktime only a frame the kernel takes as gratuitous (ARP) or one
	 * with Override (NA) may replace it. With arp_accept=0 the entry
	 * must exist to be updated at all.
	 */
	test_sh("ip neigh replace " TEST_VIP4
	        " lladdr 02:00:00:00:00:01 dev vb nud stale");
	vrrp_announce_vmac(vmac, AF_INET, 7);
	T_EQ_INT(vrrp_announce_garp_send(&an, vip4, vmac), 0);
	test_wait_neigh(TEST_VIP4, "lladdr 00:00:5e:00:01:07 ");

	test_sh("ip -6 neigh replace " TEST_VIP6
	        " lladdr 02:00:00:00:00:01 dev vb nud stale");
	vrrp_announce_vmac(vmac, AF_INET6, 7);
	T_EQ_INT(vrrp_announce_na_send(&an, &vip6, true, vmac), 0);
	test_wait_neigh(TEST_VIP6, "lladdr 00:00:5e:00:02:07 router");
	vrrp_announce_close(&an);
	vrrp_addr_fini(&nl);
}

static const struct test tests[] = {
	TEST(test_ip_parse),
	TEST(test_vmac),
	TEST(test_garp_golden),
	TEST(test_na_golden),
	TEST(test_sched_keepalived_defaults),
	TEST(test_sched_interval_refresh),
	TEST(test_sched_late_and_merged),
	TEST(test_addr_v4),
	TEST(test_addr_v4_label),
	TEST(test_addr_v6_nodad),
	TEST(test_bad_names),
	TEST(test_link_state),
	TEST(test_garp_on_wire),
	TEST(test_na_on_wire),
	TEST(test_announce_moves_neighbour),
};

TEST_MAIN(tests)
