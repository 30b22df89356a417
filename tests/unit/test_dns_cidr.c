/*
 * Unit tests for dns_cidr.c: CIDR text, the longest match with nested
 * networks, and the ECS scope (RFC 7871 §7.2.1): hand-worked values, and
 * a randomised check against a naive longest match that the answer is the
 * same for every address of the client's /scope block.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>

#include "dns/dns_cidr.h"
#include "lib/util.h"
#include "runner.h"

static struct dns_cidr
t_net(const char *s)
{
	struct dns_cidr c;

	if (dns_cidr_parse(s, &c) != 0)
		test_fail(__FILE__, __LINE__, "cannot parse %s", s);
	return c;
}

static void
t_add(struct dns_cidr_map *m, const char *s, int v)
{
	struct dns_cidr c = t_net(s);

	T_EQ_INT(dns_cidr_map_add(m, &c, v), 0);
}

/* Look up text address a with bits; returns the value, scope in *scope. */
static int
t_look(
    const struct dns_cidr_map *m, const char *a, unsigned bits, uint8_t *scope)
{
	uint8_t addr[16] = { 0 };
	int fam = strchr(a, ':') != NULL ? AF_INET6 : AF_INET;

	T_EQ_INT(inet_pton(fam, a, addr), 1);
	return dns_cidr_map_lookup(m, fam, addr, bits, scope);
}

static void
test_parse(void)
{
	struct dns_cidr c;
	char t[DNS_CIDR_TEXT_MAX];

	T_EQ_INT(dns_cidr_parse("198.18.0.0/24", &c), 0);
	T_EQ_INT(c.family, AF_INET);
	T_EQ_INT(c.bits, 24);
	T_EQ_STR(dns_cidr_format(&c, t, sizeof(t)), "198.18.0.0/24");
	T_EQ_INT(dns_cidr_parse("2001:DB8::/32", &c), 0);
	T_EQ_INT(c.family, AF_INET6);
	T_EQ_STR(dns_cidr_format(&c, t, sizeof(t)), "2001:db8::/32");
	T_EQ_INT(dns_cidr_parse("0.0.0.0/0", &c), 0);
	T_EQ_INT(c.bits, 0);
	T_EQ_INT(dns_cidr_parse("198.18.0.1/32", &c), 0);
	/* host bits set: the network address was not written */
	T_EQ_INT(dns_cidr_parse("198.18.0.1/24", &c), -EBADMSG);
	T_EQ_INT(dns_cidr_parse("2001:db8::1/64", &c), -EBADMSG);
	T_EQ_INT(dns_cidr_parse("198.18.0.0/33", &c), -EINVAL);
	T_EQ_INT(dns_cidr_parse("2001:db8::/129", &c), -EINVAL);
	T_EQ_INT(dns_cidr_parse("198.18.0.0", &c), -EINVAL);
	T_EQ_INT(dns_cidr_parse("198.18.0.0/", &c), -EINVAL);
	T_EQ_INT(dns_cidr_parse("198.18.0.0/024", &c), -EINVAL);
	T_EQ_INT(dns_cidr_parse("198.18.0.0/-1", &c), -EINVAL);
	T_EQ_INT(dns_cidr_parse("198.18.0.0/24x", &c), -EINVAL);
	T_EQ_INT(dns_cidr_parse("eu/24", &c), -EINVAL);
	T_EQ_INT(dns_cidr_parse("", &c), -EINVAL);
}

static void
test_contains(void)
{
	struct dns_cidr a = t_net("198.18.0.0/15"), b = t_net("198.19.4.0/24");
	struct dns_cidr c = t_net("198.20.0.0/24"), d = t_net("2001:db8::/32");

	T_ASSERT(dns_cidr_contains(&a, &b));
	T_ASSERT(!dns_cidr_contains(&b, &a));
	T_ASSERT(dns_cidr_contains(&a, &a));
	T_ASSERT(!dns_cidr_contains(&a, &c));
	T_ASSERT(!dns_cidr_contains(&a, &d));
}

static void
test_longest_match_and_scope(void)
{
	struct dns_cidr_map *m = dns_cidr_map_new();
	struct dns_cidr dup = t_net("198.18.0.0/24");
	uint8_t scope;

	t_add(m, "198.18.0.0/24", 0);
	t_add(m, "198.18.0.128/25", 1); /* nested: a carve-out */
	t_add(m, "2001:db8::/32", 2);
	T_EQ_INT(dns_cidr_map_add(m, &dup, 7), -EEXIST);
	T_EQ_INT(dns_cidr_map_count(m), 3);

	/* in the /24 but not the /25: valid for the lower /25 */
	T_EQ_INT(t_look(m, "198.18.0.5", 32, &scope), 0);
	T_EQ_INT(scope, 25);
	/* the carve-out wins: the longest match */
	T_EQ_INT(t_look(m, "198.18.0.200", 32, &scope), 1);
	T_EQ_INT(scope, 25);
	/* no match: 198.18.1.x parts from 198.18.0.0 at bit 23 */
	T_EQ_INT(t_look(m, "198.18.1.1", 32, &scope), -1);
	T_EQ_INT(scope, 24);
	/* far away: the first bit already separates (10 vs 198) */
	T_EQ_INT(t_look(m, "10.0.0.1", 32, &scope), -1);
	T_EQ_INT(scope, 1);
	/* ECS /24: the answer depends on bit 24 we were not given; the
	 * scope never goes past SOURCE, and the /25 cannot match */
	T_EQ_INT(t_look(m, "198.18.0.0", 24, &scope), 0);
	T_EQ_INT(scope, 24);
	T_EQ_INT(t_look(m, "198.18.0.0", 16, &scope), -1);
	T_EQ_INT(scope, 16);
	/* SOURCE /0: nothing matches but a /0, scope 0 */
	T_EQ_INT(t_look(m, "0.0.0.0", 0, &scope), -1);
	T_EQ_INT(scope, 0);
	/* IPv6 */
	T_EQ_INT(t_look(m, "2001:db8::1", 128, &scope), 2);
	T_EQ_INT(scope, 32);
	T_EQ_INT(t_look(m, "2001:db8:ffff::", 56, &scope), 2);
	T_EQ_INT(scope, 32);
	T_EQ_INT(t_look(m, "2001:db9::", 56, &scope), -1);
	T_EQ_INT(scope, 32);
	T_EQ_INT(t_look(m, "2001:db8::", 8, &scope), -1);
	T_EQ_INT(scope, 8);
	dns_cidr_map_free(m);
}

static void
test_family_without_networks(void)
{
	struct dns_cidr_map *m = dns_cidr_map_new();
	uint8_t scope = 99;

	t_add(m, "198.18.0.0/24", 0);
	/* nothing to tell apart: valid for everyone */
	T_EQ_INT(t_look(m, "2001:db8::1", 128, &scope), -1);
	T_EQ_INT(scope, 0);
	dns_cidr_map_free(m);
	m = dns_cidr_map_new();
	T_EQ_INT(t_look(m, "198.18.0.1", 32, &scope), -1);
	T_EQ_INT(scope, 0);
	dns_cidr_map_free(m);
}

static void
test_default_route(void)
{
	struct dns_cidr_map *m = dns_cidr_map_new();
	uint8_t scope;

	t_add(m, "0.0.0.0/0", 5);
	t_add(m, "198.18.0.0/15", 6);
	T_EQ_INT(t_look(m, "8.8.8.8", 32, &scope), 5);
	T_EQ_INT(scope, 1);
	T_EQ_INT(t_look(m, "198.19.3.4", 32, &scope), 6);
	T_EQ_INT(scope, 15);
	T_EQ_INT(t_look(m, "0.0.0.0", 0, &scope), 5);
	T_EQ_INT(scope, 0);
	dns_cidr_map_free(m);
}

/* ---- randomised: the scope block always gets the same answer */

#define T_NETS 24

struct t_ref {
	uint32_t net[T_NETS];
	unsigned bits[T_NETS];
	size_t n;
};

static uint32_t t_seed = 12345;

static uint32_t
t_rand(void)
{
	t_seed = t_seed * 1103515245u + 12345u;
	return (t_seed >> 8) ^ (t_seed << 13);
}

static uint32_t
t_mask(unsigned bits)
{
	return bits == 0 ? 0 : ~UINT32_C(0) << (32 - bits);
}

static int
t_ref_look(const struct t_ref *r, uint32_t a)
{
	int best = -1;
	unsigned bl = 0;

	for (size_t i = 0; i < r->n; i++)
		if ((a & t_mask(r->bits[i])) == r->net[i] &&
		    (best < 0 || r->bits[i] > bl)) {
			best = (int)i;
			bl = r->bits[i];
		}
	return best;
}

static int
t_map_look(
    const struct dns_cidr_map *m, uint32_t a, unsigned bits, uint8_t *scope)
{
	uint32_t be = htonl(a);

	return dns_cidr_map_lookup(
	    m, AF_INET, (const uint8_t *)&be, bits, scope);
}

static void
test_random_scope_blocks(void)
{
	for (int round = 0; round < 40; round++) {
		struct dns_cidr_map *m = dns_cidr_map_new();
		struct t_ref r = { .n = 0 };

		while (r.n < T_NETS) {
			unsigned bits = 15 + t_rand() % 14;
			uint32_t net = (0xc6120000u | (t_rand() & 0x1ffffu)) &
			    t_mask(bits);
			struct dns_cidr c = { .family = AF_INET,
				.bits = (uint8_t)bits };
			uint32_t be = htonl(net);

			memcpy(c.addr, &be, 4);
			if (dns_cidr_map_add(m, &c, (int)r.n) != 0)
				continue;
			r.net[r.n] = net;
			r.bits[r.n++] = bits;
		}
		for (int q = 0; q < 300; q++) {
			/* mostly inside 198.18.0.0/15, some anywhere */
			uint32_t a = q % 5 == 0 ?
			    t_rand() :
			    0xc6120000u | (t_rand() & 0x1ffffu);
			uint8_t scope;
			int v = t_map_look(m, a, 32, &scope);
			uint32_t lo = a & t_mask(scope), span = ~t_mask(scope);

			T_EQ_INT(v, t_ref_look(&r, a));
			T_ASSERT(scope <= 32);
			/* the block's ends and random members agree */
			T_EQ_INT(t_ref_look(&r, lo), v);
			T_EQ_INT(t_ref_look(&r, lo | span), v);
			for (int k = 0; k < 32; k++)
				T_EQ_INT(
				    t_ref_look(&r, lo | (t_rand() & span)), v);
			/* an ECS prefix: the scope never passes SOURCE */
			{
				unsigned src = 8 + t_rand() % 25;
				uint8_t s2;

				(void)t_map_look(m, a & t_mask(src), src, &s2);
				T_ASSERT(s2 <= src);
			}
		}
		dns_cidr_map_free(m);
	}
}

static const struct test tests[] = {
	TEST(test_parse),
	TEST(test_contains),
	TEST(test_longest_match_and_scope),
	TEST(test_family_without_networks),
	TEST(test_default_route),
	TEST(test_random_scope_blocks),
};

TEST_MAIN(tests)
