/*
 * Unit tests for havip_conf.c: the `havip:` schema binds the gateway's
 * instances and HAVIPs with their defaults, and each cloud rule it
 * enforces (quotas, one subnet, IPv4 only, unique names and addresses)
 * is an error at the line and column of the offending node.
 */
#include <arpa/inet.h>

#include "havip/havip_conf.h"
#include "lib/util.h"
#include "conf_test.h"
#include "runner.h"

static size_t
t_bind(const char *text, struct havip_conf *c, char *first, size_t flen)
{
	return t_conf_bind(&havip_conf_schema, text, c, first, flen);
}

/* text must give exactly one error, at want (a "line:col: msg" prefix). */
static void
t_error(const char *text, const char *want)
{
	struct havip_conf c;
	char first[512];
	size_t n = t_bind(text, &c, first, sizeof(first));

	if (n != 1 || strncmp(first, want, strlen(want)) != 0)
		test_fail(__FILE__, __LINE__,
		    "%zu errors, first \"%s\", want "
		    "\"%s\"",
		    n, first, want);
}

#define T_INSTS                                                                \
	"instances:\n"                                                         \
	"  - { name: n1, interface: v-n1, address: 198.18.0.11 }\n"            \
	"  - { name: n2, interface: v-n2, address: 198.18.0.12 }\n"

static void
test_bind_full(void)
{
	struct havip_conf c;
	char a[INET_ADDRSTRLEN];
	struct in_addr in;

	T_EQ_INT(t_bind("hold_down: 3s\n"
	                "remap_delay: 1s\n" T_INSTS "addresses:\n"
	                "  - name: web\n"
	                "    address: 198.18.0.100\n"
	                "    subnet: 198.18.0.0/24\n"
	                "    instances: [n2, n1]\n"
	                "    eip: 198.19.0.100\n"
	                "  - name: db\n"
	                "    address: 198.18.0.101\n"
	                "    subnet: 198.18.0.0/25\n"
	                "    instances: [n1]\n",
	             &c, NULL, 0),
	    0);
	T_EQ_INT(c.hold_down_ms, 3000);
	T_EQ_INT(c.remap_delay_ms, 1000);
	T_EQ_INT(c.ninstances, 2);
	T_EQ_STR(c.instances[1].interface, "v-n2");
	T_EQ_INT(c.naddresses, 2);
	T_EQ_INT(c.addresses[0].ninstances, 2);
	/* associations resolved to instance indexes, in their order */
	T_EQ_INT(c.addresses[0].inst[0], 1);
	T_EQ_INT(c.addresses[0].inst[1], 0);
	T_EQ_INT(c.addresses[0].subnet.prefix, 24);
	in = havip_conf_in(&c.addresses[0].eip);
	T_EQ_STR(inet_ntop(AF_INET, &in, a, sizeof(a)), "198.19.0.100");
	T_EQ_INT(c.addresses[1].eip.ss_family, AF_UNSPEC);
	conf_schema_free(&havip_conf_schema, &c);
}

static void
test_defaults(void)
{
	struct havip_conf c;
	struct conf_errors errs;

	T_EQ_INT(t_bind(T_INSTS, &c, NULL, 0), 0);
	T_EQ_INT(c.hold_down_ms, 5000);
	T_EQ_INT(c.remap_delay_ms, 0);
	T_EQ_INT(c.naddresses, 0);
	conf_schema_free(&havip_conf_schema, &c);
	conf_errors_init(&errs);
	T_EQ_INT(conf_schema_check_defaults(&havip_conf_schema, &errs), 0);
	conf_errors_fini(&errs);
}

static void
test_remap_delay_range(void)
{
	t_error("remap_delay: 11s\n", "1:14: ");
}

static void
test_quota_instances_per_havip(void)
{
	char text[4096];
	size_t n = 0, i;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "instances:\n");
	for (i = 1; i <= 11; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "  - { name: n%zu, interface: v%zu, address: "
		    "198.18.0.%zu }\n",
		    i, i, 10 + i);
	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    "addresses:\n"
	    "  - name: web\n"
	    "    address: 198.18.0.100\n"
	    "    subnet: 198.18.0.0/24\n"
	    "    instances: [n1, n2, n3, n4, n5, n6, n7, n8, n9, n10, n11]\n");
	t_error(text, "17:16: havip web: instances: 1 to 10");
}

static void
test_quota_havips_per_instance(void)
{
	char text[4096];
	size_t n = 0, i;

	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    "instances:\n"
	    "  - { name: n1, interface: v-n1, address: 198.18.0.11 }\n"
	    "addresses:\n");
	for (i = 0; i < 6; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "  - { name: h%zu, address: 198.18.0.%zu, subnet: "
		    "198.18.0.0/24, instances: [n1] }\n",
		    i, 100 + i);
	/* the sixth HAVIP is the one over quota: line 9 */
	t_error(text, "9:75: havip h5: instance n1 is in more than 5");
}

static void
test_not_in_subnet(void)
{
	t_error(T_INSTS "addresses:\n"
	                "  - name: web\n"
	                "    address: 198.18.1.100\n"
	                "    subnet: 198.18.0.0/24\n"
	                "    instances: [n1]\n",
	    "6:14: havip web: address is not in subnet");
	t_error(T_INSTS "addresses:\n"
	                "  - name: web\n"
	                "    address: 198.18.0.100\n"
	                "    subnet: 198.18.0.96/27\n"
	                "    instances: [n1]\n",
	    "8:17: havip web: instance n1's address is not in subnet");
}

static void
test_ipv4_only(void)
{
	t_error(T_INSTS "addresses:\n"
	                "  - name: web\n"
	                "    address: fd00:198:18::100\n"
	                "    subnet: 198.18.0.0/24\n"
	                "    instances: [n1]\n",
	    "6:14: address: IPv4 only");
	t_error(T_INSTS "addresses:\n"
	                "  - name: web\n"
	                "    address: 198.18.0.100\n"
	                "    subnet: 198.18.0.0/24\n"
	                "    instances: [n1]\n"
	                "    eip: fd00:198:18::1\n",
	    "9:10: eip: IPv4 only");
}

static void
test_subnet_syntax(void)
{
	t_error(T_INSTS "addresses:\n"
	                "  - { name: web, address: 198.18.0.100, subnet: "
	                "198.18.0.1/24, instances: [n1] }\n",
	    "5:49: subnet: host bits set");
	t_error(T_INSTS "addresses:\n"
	                "  - { name: web, address: 198.18.0.100, subnet: "
	                "198.18.0.0, instances: [n1] }\n",
	    "5:49: subnet: expected an IPv4 prefix");
}

static void
test_unknown_and_twice(void)
{
	t_error(T_INSTS "addresses:\n"
	                "  - { name: web, address: 198.18.0.100, subnet: "
	                "198.18.0.0/24, instances: [n1, n3] }\n",
	    "5:80: havip web: no instance named n3");
	t_error(T_INSTS "addresses:\n"
	                "  - { name: web, address: 198.18.0.100, subnet: "
	                "198.18.0.0/24, instances: [n1, n1] }\n",
	    "5:80: havip web: instance n1 twice");
}

static void
test_unique(void)
{
	/* names: the binder's rule for lists of named objects */
	struct havip_conf c;

	T_ASSERT(
	    t_bind("instances:\n"
	           "  - { name: n1, interface: a, address: 198.18.0.11 }\n"
	           "  - { name: n1, interface: b, address: 198.18.0.12 }\n",
	        &c, NULL, 0) == 1);
	t_error("instances:\n"
	        "  - { name: n1, interface: a, address: 198.18.0.11 }\n"
	        "  - { name: n2, interface: a, address: 198.18.0.12 }\n",
	    "3:28: instance n2: interface a is already instance n1's");
	t_error(T_INSTS "addresses:\n"
	                "  - { name: web, address: 198.18.0.11, subnet: "
	                "198.18.0.0/24, instances: [n1] }\n",
	    "5:27: havip web: address 198.18.0.11 is already instance n1");
	t_error(T_INSTS "addresses:\n"
	                "  - { name: a, address: 198.18.0.100, subnet: "
	                "198.18.0.0/24, instances: [n1], eip: 198.19.0.1 }\n"
	                "  - { name: b, address: 198.18.0.101, subnet: "
	                "198.18.0.0/24, instances: [n1], eip: 198.19.0.1 }\n",
	    "6:84: eip of havip b: address 198.19.0.1 is already eip of "
	    "havip a");
}

static void
test_one_eip(void)
{
	/* one key holds it: a list is a type error */
	struct havip_conf c;
	char first[256];

	T_EQ_INT(t_bind(T_INSTS "addresses:\n"
	                        "  - name: web\n"
	                        "    address: 198.18.0.100\n"
	                        "    subnet: 198.18.0.0/24\n"
	                        "    instances: [n1]\n"
	                        "    eip: [198.19.0.1, 198.19.0.2]\n",
	             &c, first, sizeof(first)),
	    1);
	T_ASSERT(strncmp(first, "9:10: ", 6) == 0);
}

static const struct test tests[] = {
	TEST(test_bind_full),
	TEST(test_defaults),
	TEST(test_remap_delay_range),
	TEST(test_quota_instances_per_havip),
	TEST(test_quota_havips_per_instance),
	TEST(test_not_in_subnet),
	TEST(test_ipv4_only),
	TEST(test_subnet_syntax),
	TEST(test_unknown_and_twice),
	TEST(test_unique),
	TEST(test_one_eip),
};

TEST_MAIN(tests)
