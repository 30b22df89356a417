/*
 * Unit tests for dns_rrl.c on made-up timestamps: the account of a bucket
 * (a second of credit, at most window seconds of debt), slip, how clients
 * share buckets (prefix, kind, name), a table that stays bounded under a
 * spread of prefixes, and the slip answer made from a response.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <string.h>

#include "dns/dns_answer.h"
#include "dns/dns_rrl.h"
#include "runner.h"

static const uint8_t t_name[] = "\7example\3com";

static struct dns_client
t_v4(const char *a)
{
	struct dns_client cl = { .family = AF_INET, .bits = 32 };

	inet_pton(AF_INET, a, cl.addr);
	return cl;
}

static struct dns_client
t_v6(const char *a)
{
	struct dns_client cl = { .family = AF_INET6, .bits = 128 };

	inet_pton(AF_INET6, a, cl.addr);
	return cl;
}

static struct dns_rrl *
t_new(uint32_t rate, uint32_t slip, uint32_t window)
{
	struct dns_rrl_params p = { .rate = rate,
		.slip = slip,
		.window_s = window,
		.v4_prefix = 24,
		.v6_prefix = 56,
		.buckets = 1024 };

	return dns_rrl_new(&p);
}

static enum dns_rrl_action
t_check(struct dns_rrl *r, const char *a, uint64_t now)
{
	struct dns_client cl = t_v4(a);

	return dns_rrl_check(r, &cl, DNS_ANS_POSITIVE, t_name, now);
}

static void
test_off(void)
{
	struct dns_rrl *r = t_new(0, 2, 15);

	for (int i = 0; i < 10000; i++)
		T_EQ_INT(t_check(r, "198.18.0.1", 0), DNS_RRL_PASS);
	T_EQ_INT(dns_rrl_stats(r)->passed, 10000);
	dns_rrl_free(r);
}

/* rate 10: ten pass at once, then drop, slip, drop, slip... */
static void
test_burst_and_slip(void)
{
	struct dns_rrl *r = t_new(10, 2, 2);
	int i;

	for (i = 0; i < 10; i++)
		T_EQ_INT(t_check(r, "198.18.0.1", 1000), DNS_RRL_PASS);
	for (i = 0; i < 20; i++)
		T_EQ_INT(t_check(r, "198.18.0.1", 1000),
		    i % 2 == 0 ? DNS_RRL_DROP : DNS_RRL_SLIP);
	T_EQ_INT(dns_rrl_stats(r)->passed, 10);
	T_EQ_INT(dns_rrl_stats(r)->dropped, 10);
	T_EQ_INT(dns_rrl_stats(r)->slipped, 10);
	dns_rrl_free(r);
}

/* The debt is bounded by window: limiting ends window after a flood. */
static void
test_recovery(void)
{
	struct dns_rrl *r = t_new(10, 0, 2);

	for (int i = 0; i < 1000; i++)
		(void)t_check(r, "198.18.0.1", 0);
	/* owes 20 responses (2 s at 10/s): one second repays 10 */
	T_EQ_INT(t_check(r, "198.18.0.1", 1000), DNS_RRL_DROP);
	/* a steady 10/s from then on is under the rate, once repaid */
	T_EQ_INT(t_check(r, "198.18.0.1", 3100), DNS_RRL_PASS);
	/* 100 ms earns one response */
	for (int i = 0; i < 9; i++)
		T_EQ_INT(t_check(r, "198.18.0.1", 3100), DNS_RRL_PASS);
	T_EQ_INT(t_check(r, "198.18.0.1", 3100), DNS_RRL_DROP);
	T_EQ_INT(t_check(r, "198.18.0.1", 3300), DNS_RRL_PASS);
	dns_rrl_free(r);
}

static void
test_slip_zero_and_one(void)
{
	struct dns_rrl *r0 = t_new(1, 0, 1), *r1 = t_new(1, 1, 1);

	T_EQ_INT(t_check(r0, "198.18.0.1", 0), DNS_RRL_PASS);
	T_EQ_INT(t_check(r1, "198.18.0.1", 0), DNS_RRL_PASS);
	for (int i = 0; i < 5; i++) {
		T_EQ_INT(t_check(r0, "198.18.0.1", 0), DNS_RRL_DROP);
		T_EQ_INT(t_check(r1, "198.18.0.1", 0), DNS_RRL_SLIP);
	}
	dns_rrl_free(r0);
	dns_rrl_free(r1);
}

/* One /24 (and one /56) is one client; the kind and name split it. */
static void
test_buckets(void)
{
	struct dns_rrl *r = t_new(1, 0, 1);
	struct dns_client a = t_v6("2001:db8:0:1::1"),
	                  b = t_v6("2001:db8:0:ff::2"),
	                  c = t_v6("2001:db8:0:100::1");
	static const uint8_t other[] = "\5other\3com";

	T_EQ_INT(t_check(r, "198.18.0.1", 0), DNS_RRL_PASS);
	T_EQ_INT(t_check(r, "198.18.0.200", 0), DNS_RRL_DROP);
	T_EQ_INT(t_check(r, "198.18.1.1", 0), DNS_RRL_PASS);
	T_EQ_INT(
	    dns_rrl_check(r, &a, DNS_ANS_POSITIVE, t_name, 0), DNS_RRL_PASS);
	T_EQ_INT(
	    dns_rrl_check(r, &b, DNS_ANS_POSITIVE, t_name, 0), DNS_RRL_DROP);
	T_EQ_INT(
	    dns_rrl_check(r, &c, DNS_ANS_POSITIVE, t_name, 0), DNS_RRL_PASS);
	T_EQ_INT(
	    dns_rrl_check(r, &a, DNS_ANS_NXDOMAIN, t_name, 0), DNS_RRL_PASS);
	T_EQ_INT(
	    dns_rrl_check(r, &a, DNS_ANS_POSITIVE, other, 0), DNS_RRL_PASS);
	dns_rrl_free(r);
}

/* A spread of prefixes evicts, never grows the table. */
static void
test_bounded(void)
{
	struct dns_rrl *r = t_new(1, 0, 10);
	struct dns_client cl = { .family = AF_INET, .bits = 32 };

	for (uint32_t i = 0; i < 100000; i++) {
		uint32_t a = htonl(0xc6120000u + (i << 8));

		memcpy(cl.addr, &a, 4);
		T_EQ_INT(dns_rrl_check(r, &cl, DNS_ANS_POSITIVE, t_name, i),
		    DNS_RRL_PASS);
	}
	T_ASSERT(dns_rrl_stats(r)->evicted > 90000);
	dns_rrl_free(r);
}

static void
test_slip_msg(void)
{
	/* a response: id, QR|AA|RD, 1 question, 1 answer, 0, 1 (OPT) */
	uint8_t m[128] = { 0x12, 0x34, 0x85, 0x00, 0, 1, 0, 1, 0, 0, 0, 1 };
	size_t q = 12, len;

	memcpy(m + q, t_name, sizeof(t_name));
	q += sizeof(t_name);
	memcpy(m + q, "\0\1\0\1", 4);
	q += 4;
	len = q + 30; /* records, not looked at */
	T_EQ_INT(dns_rrl_slip_msg(m, len), q);
	T_EQ_INT(m[2], 0x87); /* TC added */
	T_EQ_INT(m[3], 0x00);
	for (int i = 6; i < 12; i++)
		T_EQ_INT(m[i], 0);
	T_EQ_INT(m[5], 1); /* the question stays */
	/* under a header, or a question that overruns: nothing */
	T_EQ_INT(dns_rrl_slip_msg(m, 11), 0);
	T_EQ_INT(dns_rrl_slip_msg(m, q - 1), 0);
}

static const struct test tests[] = {
	TEST(test_off),
	TEST(test_burst_and_slip),
	TEST(test_recovery),
	TEST(test_slip_zero_and_one),
	TEST(test_buckets),
	TEST(test_bounded),
	TEST(test_slip_msg),
};

TEST_MAIN(tests)
