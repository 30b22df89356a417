/*
 * Unit tests for dns_gslb_conf.c: the GSLB lists bind with their
 * defaults, templates expand into plain policies (and serialise so), the
 * custom values (CIDRs, available, cnames, last_resort) parse, and every
 * cross-reference rule is an error at the line and column of the node
 * that breaks it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "conf_test.h"
#include "dns/dns_gslb_conf.h"
#include "dns_gslb_test.h"
#include "lib/json.h"
#include "lib/util.h"
#include "runner.h"

#define T_POOLS                                                                \
	"pools:\n"                                                             \
	"  - name: site-a\n"                                                   \
	"    check: web\n"                                                     \
	"    addresses:\n"                                                     \
	"      - address: 198.18.1.10\n"                                       \
	"      - address: 198.18.1.11\n"                                       \
	"        weight: 3\n"                                                  \
	"        mode: online\n"                                               \
	"  - name: site-b\n"                                                   \
	"    available: \"50%\"\n"                                             \
	"    lb: weighted\n"                                                   \
	"    addresses:\n"                                                     \
	"      - address: 198.18.2.10\n"                                       \
	"  - name: site-6\n"                                                   \
	"    addresses:\n"                                                     \
	"      - address: 2001:db8::10\n"                                      \
	"  - name: edge\n"                                                     \
	"    lb: round-robin\n"                                                \
	"    addresses:\n"                                                     \
	"      - cname: Edge.Example.NET.\n"

#define T_REGIONS                                                              \
	"regions:\n"                                                           \
	"  - name: eu\n"                                                       \
	"    networks: [198.18.0.0/24, \"2001:db8::/32\"]\n"                   \
	"  - name: us\n"                                                       \
	"    networks: [198.19.0.0/16]\n"

/* text must give exactly one error, at want (a "line:col: msg" prefix). */
static void
t_error(const char *text, const char *want)
{
	struct dns_gslb_conf c;
	char first[512];
	size_t n = t_conf_bind(&t_gslb_schema, text, &c, first, sizeof(first));

	if (n != 1 || strncmp(first, want, strlen(want)) != 0)
		test_fail(__FILE__, __LINE__,
		    "%zu errors, first \"%s\", want \"%s\"", n, first, want);
}

static void
test_bind_full(void)
{
	struct dns_gslb_conf c;
	char first[512];
	const struct dns_policy_conf *p;

	T_EQ_INT(t_conf_bind(&t_gslb_schema,
	             T_REGIONS T_POOLS "names:\n"
	                               "  - name: www.Example.com\n"
	                               "    ttl: 60s\n"
	                               "    policies:\n"
	                               "      - sources: [us, eu]\n"
	                               "        pools: [site-b]\n"
	                               "        backup: [site-a]\n"
	                               "        failback: non-preemptive\n"
	                               "        hold_down: 30s\n"
	                               "        fail: closed\n"
	                               "        last_resort: [198.18.9.9]\n"
	                               "      - pools: [site-a]\n"
	                               "plans:\n"
	                               "  - name: lose-a\n"
	                               "    pools: [site-a]\n"
	                               "    rollback_after: 10m\n",
	             &c, first, sizeof(first)),
	    0);
	T_EQ_INT(c.nregions, 2);
	T_EQ_INT(c.regions[0].nnetworks, 2);
	T_EQ_INT(c.regions[0].networks[1].family, AF_INET6);
	T_EQ_INT(c.regions[0].networks[1].bits, 32);
	T_EQ_INT(c.npools, 4);
	/* defaults */
	T_EQ_INT(c.pools[0].available, 1);
	T_ASSERT(!c.pools[0].available_pct);
	T_EQ_INT(c.pools[0].lb, DNS_LB_ALL);
	T_EQ_INT(c.pools[0].addresses[0].weight, 1);
	T_EQ_INT(c.pools[0].addresses[0].mode, DNS_ADDR_SMART);
	T_EQ_STR(c.pools[0].addresses[0].label, "198.18.1.10");
	T_EQ_INT(c.pools[0].addresses[1].weight, 3);
	T_EQ_INT(c.pools[0].addresses[1].mode, DNS_ADDR_ONLINE);
	T_EQ_STR(c.pools[0].check, "web");
	T_ASSERT(c.pools[1].check == NULL);
	T_EQ_INT(c.pools[1].available, 50);
	T_ASSERT(c.pools[1].available_pct);
	T_EQ_INT(c.pools[1].lb, DNS_LB_WEIGHTED);
	T_EQ_INT(c.pools[3].lb, DNS_LB_RR);
	/* a cname: wire form, lower case; the label as written */
	T_EQ_INT(c.pools[3].addresses[0].address.ss_family, AF_UNSPEC);
	T_EQ_INT(c.pools[3].addresses[0].cname[0], 4);
	T_ASSERT(memcmp(c.pools[3].addresses[0].cname, "\4edge\7example\3net",
	             18) == 0);
	T_EQ_STR(c.pools[3].addresses[0].label, "Edge.Example.NET.");
	/* the name */
	T_EQ_INT(c.nnames, 1);
	T_ASSERT(memcmp(c.names[0].wire, "\3www\7example\3com", 17) == 0);
	T_EQ_INT(c.names[0].ttl_ms, 60000);
	T_EQ_INT(c.names[0].degraded_ttl_ms, 5000);
	T_EQ_INT(c.names[0].npolicies, 2);
	p = &c.names[0].policies[0];
	T_EQ_INT(p->nsources, 2);
	T_EQ_INT(p->source_idx[0], 1);
	T_EQ_INT(p->source_idx[1], 0);
	T_EQ_INT(p->pool_idx[0], 1);
	T_EQ_INT(p->backup_idx[0], 0);
	T_EQ_INT(p->failback, DNS_FAILBACK_NONPREEMPT);
	T_EQ_INT(p->hold_down_ms, 30000);
	T_EQ_INT(p->fail, DNS_FAIL_CLOSED);
	T_EQ_INT(p->nlast_resort, 1);
	T_EQ_INT(p->last_resort[0].ss_family, AF_INET);
	p = &c.names[0].policies[1];
	T_EQ_INT(p->nsources, 0);
	T_EQ_INT(p->failback, DNS_FAILBACK_PREEMPT);
	T_EQ_INT(p->hold_down_ms, 0);
	T_EQ_INT(p->fail, DNS_FAIL_OPEN);
	T_EQ_INT(c.nplans, 1);
	T_EQ_INT(c.plans[0].rollback_after_ms, 600000);
	conf_schema_free(&t_gslb_schema, &c);
}

static void
test_schema_defaults(void)
{
	struct conf_errors errs;

	conf_errors_init(&errs);
	T_EQ_INT(conf_schema_check_defaults(&t_gslb_schema, &errs), 0);
	conf_errors_fini(&errs);
}

static void
test_template_dr(void)
{
	struct dns_gslb_conf c;
	struct dns_policy_conf *p;
	struct buf b;
	struct jw w;

	T_EQ_INT(t_conf_bind(&t_gslb_schema,
	             T_POOLS "names:\n"
	                     "  - name: www.example.com\n"
	                     "    template: {dr: {primary: site-a, "
	                     "secondary: site-b}}\n",
	             &c, NULL, 0),
	    0);
	T_EQ_INT(c.names[0].npolicies, 1);
	p = &c.names[0].policies[0];
	T_EQ_INT(p->nsources, 0);
	T_EQ_INT(p->npools, 1);
	T_EQ_STR(p->pools[0], "site-a");
	T_ASSERT(p->pools[1] == NULL);
	T_EQ_INT(p->nbackup, 1);
	T_EQ_STR(p->backup[0], "site-b");
	T_EQ_INT(p->failback, DNS_FAILBACK_PREEMPT);
	T_EQ_INT(p->fail, DNS_FAIL_OPEN);
	T_EQ_INT(p->backup_idx[0], 1);
	/* GET /v1/config shows the expanded form, the template as null */
	buf_init(&b);
	jw_init(&w, &b);
	conf_to_json(&t_gslb_schema, &c, &w);
	T_EQ_INT(jw_finish(&w), 0);
	T_ASSERT(strstr(b.data, "\"template\":null") != NULL);
	T_ASSERT(strstr(b.data,
	             "\"pools\":[\"site-a\"],\"backup\":"
	             "[\"site-b\"]") != NULL);
	T_ASSERT(strstr(b.data, "\"available\":\"50%\"") != NULL);
	T_ASSERT(strstr(b.data, "\"cname\":\"edge.example.net.\"") != NULL);
	conf_schema_free(&t_gslb_schema, &c);
	buf_fini(&b);
}

static void
test_template_multi_active(void)
{
	struct dns_gslb_conf c;
	struct dns_policy_conf *p;

	T_EQ_INT(t_conf_bind(&t_gslb_schema,
	             T_POOLS "names:\n"
	                     "  - name: www.example.com\n"
	                     "    template:\n"
	                     "      multi_active: [site-a, site-b]\n",
	             &c, NULL, 0),
	    0);
	p = &c.names[0].policies[0];
	T_EQ_INT(p->npools, 2);
	T_EQ_STR(p->pools[1], "site-b");
	T_EQ_INT(p->nbackup, 0);
	T_EQ_INT(p->fail, DNS_FAIL_OPEN);
	conf_schema_free(&t_gslb_schema, &c);
}

static void
test_template_errors(void)
{
	t_error(T_POOLS "names:\n"
	                "  - name: www.example.com\n"
	                "    template: {dr: {primary: site-a}}\n",
	    "23:15: template: expected");
	t_error(T_POOLS "names:\n"
	                "  - name: www.example.com\n"
	                "    template: {active: [site-a]}\n",
	    "23:15: template: expected");
	t_error(T_POOLS "names:\n"
	                "  - name: www.example.com\n"
	                "    template: {multi_active: [site-a]}\n"
	                "    policies:\n"
	                "      - pools: [site-b]\n",
	    "23:15: name www.example.com: 'template' and 'policies'");
	/* the expanded policy's unknown pool is reported at the template */
	t_error(T_POOLS "names:\n"
	                "  - name: www.example.com\n"
	                "    template: {multi_active: [site-a, nope]}\n",
	    "23:15: name www.example.com: unknown pool 'nope'");
}

static void
test_values(void)
{
	t_error("regions:\n"
	        "  - name: eu\n"
	        "    networks: [198.18.0.1/24]\n",
	    "3:16: networks: host bits set in '198.18.0.1/24'");
	t_error("regions:\n"
	        "  - name: eu\n"
	        "    networks: [eu]\n",
	    "3:16: networks: expected a prefix");
	t_error("pools:\n"
	        "  - name: a\n"
	        "    available: \"0\"\n"
	        "    addresses: [{address: 198.18.1.1}]\n",
	    "3:16: available: expected");
	t_error("pools:\n"
	        "  - name: a\n"
	        "    available: 101%\n"
	        "    addresses: [{address: 198.18.1.1}]\n",
	    "3:16: available: expected");
	t_error("pools:\n"
	        "  - name: a\n"
	        "    available: 2\n"
	        "    addresses: [{address: 198.18.1.1}]\n",
	    "3:16: pool a: available 2 is more than its 1 addresses");
	t_error("pools:\n"
	        "  - name: a\n"
	        "    addresses: [{address: 198.18.1.1, cname: x.example.}]\n",
	    "3:46: an address entry needs exactly one");
	t_error("pools:\n"
	        "  - name: a\n"
	        "    addresses: [{weight: 2}]\n",
	    "3:17: an address entry needs exactly one");
	t_error(
	    "pools:\n"
	    "  - name: a\n"
	    "    addresses: [{address: 198.18.1.1}, {address: 2001:db8::1}]\n",
	    "3:40: pool a: 2001:db8::1 is IPv6");
	t_error(
	    "pools:\n"
	    "  - name: a\n"
	    "    addresses: [{address: 198.18.1.1}, {address: 198.18.1.1}]\n",
	    "3:40: pool a: 198.18.1.1 is listed twice");
	t_error("pools:\n"
	        "  - name: a\n"
	        "    addresses:\n"
	        "      - {address: 198.18.1.1, mode: sometimes}\n",
	    "4:37: invalid mode 'sometimes'");
}

static void
test_policy_errors(void)
{
	t_error(T_REGIONS T_POOLS "names:\n"
	                          "  - name: www.example.com\n"
	                          "    policies:\n"
	                          "      - pools: [site-a, nope]\n",
	    "29:25: name www.example.com: unknown pool 'nope' in 'pools'");
	t_error(T_REGIONS T_POOLS "names:\n"
	                          "  - name: www.example.com\n"
	                          "    policies:\n"
	                          "      - pools: [site-a]\n"
	                          "        sources: [mars]\n"
	                          "      - pools: [site-b]\n",
	    "30:19: name www.example.com: unknown region 'mars'");
	t_error(T_REGIONS T_POOLS "names:\n"
	                          "  - name: www.example.com\n"
	                          "    policies:\n"
	                          "      - pools: [site-a]\n"
	                          "        backup: [site-6]\n",
	    "29:9: name www.example.com: pool site-6 holds IPv6 addresses");
	t_error(T_REGIONS T_POOLS "names:\n"
	                          "  - name: www.example.com\n"
	                          "    policies:\n"
	                          "      - pools: [site-a]\n"
	                          "      - pools: [site-b]\n",
	    "30:9: name www.example.com: a second policy without sources");
	t_error(T_REGIONS T_POOLS "names:\n"
	                          "  - name: www.example.com\n"
	                          "    policies:\n"
	                          "      - pools: [site-a]\n"
	                          "        sources: [eu]\n",
	    "29:7: name www.example.com: no default policy");
	t_error(T_REGIONS T_POOLS "names:\n"
	                          "  - name: www.example.com\n"
	                          "    policies:\n"
	                          "      - pools: [site-a]\n"
	                          "        sources: [eu]\n"
	                          "      - pools: [site-b]\n"
	                          "        sources: [us, eu]\n"
	                          "      - pools: [site-a]\n",
	    "32:23: name www.example.com: region eu is a source of two");
	t_error(T_REGIONS T_POOLS "names:\n"
	                          "  - name: www.example.com\n"
	                          "    policies:\n"
	                          "      - pools: [site-a]\n"
	                          "        backup: [site-a]\n",
	    "29:9: name www.example.com: pool site-a is twice");
	t_error(T_POOLS "names:\n"
	                "  - name: www.example.com\n"
	                "    template: {multi_active: [site-a]}\n"
	                "  - name: WWW.example.com.\n"
	                "    template: {multi_active: [site-b]}\n",
	    "24:11: name WWW.example.com.: the same name as");
	t_error(T_POOLS "names:\n"
	                "  - name: www.example.com\n"
	                "    ttl: 2s\n"
	                "    template: {multi_active: [site-a]}\n",
	    "23:10: name www.example.com: degraded_ttl is longer than ttl");
	t_error(T_POOLS "names:\n"
	                "  - name: www.example.com\n"
	                "    policies:\n"
	                "      - pools: [site-a]\n"
	                "        last_resort: [198.18.9.9]\n",
	    "25:22: last_resort is answered only by 'fail: closed'");
	t_error(T_POOLS "names:\n"
	                "  - name: www.example.com\n",
	    "22:5: name www.example.com: needs 'policies' or a 'template'");
}

static void
test_region_overlap(void)
{
	struct dns_gslb_conf c;

	/* nested across regions: a carve-out, allowed */
	T_EQ_INT(t_conf_bind(&t_gslb_schema,
	             "regions:\n"
	             "  - name: eu\n"
	             "    networks: [198.18.0.0/15]\n"
	             "  - name: lab\n"
	             "    networks: [198.18.7.0/24]\n",
	             &c, NULL, 0),
	    0);
	conf_schema_free(&t_gslb_schema, &c);
	t_error("regions:\n"
	        "  - name: eu\n"
	        "    networks: [198.18.0.0/15]\n"
	        "  - name: us\n"
	        "    networks: [198.19.0.0/16, 198.18.0.0/15]\n",
	    "5:31: region us: network 198.18.0.0/15 is also 198.18.0.0/15 of "
	    "region eu");
	t_error("regions:\n"
	        "  - name: eu\n"
	        "    networks: [198.18.0.0/15, 198.18.4.0/24]\n",
	    "3:31: region eu: network 198.18.4.0/24 overlaps 198.18.0.0/15");
}

static void
test_plan_errors(void)
{
	t_error(T_POOLS "plans:\n"
	                "  - name: p\n"
	                "    pools: [site-a, gone]\n",
	    "23:21: plan p: unknown pool 'gone'");
}

static const struct test tests[] = {
	TEST(test_bind_full),
	TEST(test_schema_defaults),
	TEST(test_template_dr),
	TEST(test_template_multi_active),
	TEST(test_template_errors),
	TEST(test_values),
	TEST(test_policy_errors),
	TEST(test_region_overlap),
	TEST(test_plan_errors),
};

TEST_MAIN(tests)
