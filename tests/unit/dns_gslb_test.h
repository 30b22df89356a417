/*
 * dns_gslb_test.h - a stand-in `dns:` section for the GSLB unit tests:
 * the four lists of dns_gslb_conf.h bound into a struct dns_gslb_conf by
 * their real item schemas, and the real cross-checks run as the section's
 * hook, as dns_conf.c does. Static data: include it in one test file.
 */
#ifndef HAVEN_TEST_DNS_GSLB_TEST_H
#define HAVEN_TEST_DNS_GSLB_TEST_H

#include "dns/dns_gslb_conf.h"
#include "lib/util.h"

static void
t_gslb_section_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	dns_gslb_conf_check(ctx, node, obj);
}

static const struct conf_key t_gslb_keys[] = {
	{ .name = "regions",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_gslb_conf, regions),
	    .count_off = offsetof(struct dns_gslb_conf, nregions),
	    .sub = &dns_region_schema },
	{ .name = "pools",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_gslb_conf, pools),
	    .count_off = offsetof(struct dns_gslb_conf, npools),
	    .sub = &dns_pool_schema },
	{ .name = "names",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_gslb_conf, names),
	    .count_off = offsetof(struct dns_gslb_conf, nnames),
	    .sub = &dns_gname_schema },
	{ .name = "plans",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_gslb_conf, plans),
	    .count_off = offsetof(struct dns_gslb_conf, nplans),
	    .sub = &dns_plan_schema },
};

static const struct conf_schema t_gslb_schema = {
	.name = "dns",
	.size = sizeof(struct dns_gslb_conf),
	.keys = t_gslb_keys,
	.nkeys = ARRAY_SIZE(t_gslb_keys),
	.check = t_gslb_section_check,
};

#endif
