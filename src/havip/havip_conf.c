/*
 * havip_conf.c - schema of the `havip:` section: keys, ranges, defaults,
 * and the cloud rules across keys (quotas, one subnet, IPv4 only), each
 * reported at the node that breaks it.
 *
 * Table data plus check hooks that only report, as vrrp_conf.c. The
 * defaults are the clouds' where they publish one: remap at once after an
 * announcement (remap_delay 0; reference/vip.md §5.1 allows 0-10 s), and a
 * hold-down long enough that a GARP burst from a node that lost an
 * election cannot pull the address back within it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "havip/havip_conf.h"
#include "lib/json.h"
#include "lib/util.h"

#define HAVIP_CONF_HOUR_MS (3600 * 1000)

struct in_addr
havip_conf_in(const struct sockaddr_storage *ss)
{
	return ((const struct sockaddr_in *)ss)->sin_addr;
}

static uint32_t
havip_conf_mask(uint8_t prefix)
{
	return prefix == 0 ? 0 : htonl(~UINT32_C(0) << (32 - prefix));
}

bool
havip_subnet_has(const struct havip_subnet *s, struct in_addr a)
{
	return (a.s_addr & havip_conf_mask(s->prefix)) == s->net.s_addr;
}

/* subnet: "198.18.0.0/24", host bits zero, IPv4 only. */
static int
havip_conf_parse_subnet(struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	struct havip_subnet *s = dst;
	char *v = conf_node_text(node), *slash, *end;
	unsigned long p = 0;
	int rc = -1;

	if (v != NULL && (slash = strchr(v, '/')) != NULL) {
		*slash = '\0';
		p = strtoul(slash + 1, &end, 10);
		if (slash[1] != '\0' && *end == '\0' && p >= 1 && p <= 32 &&
		    inet_pton(AF_INET, v, &s->net) == 1) {
			s->prefix = (uint8_t)p;
			rc = (s->net.s_addr & ~havip_conf_mask(s->prefix)) ? 1 :
			                                                     0;
		}
	}
	free(v);
	if (rc == 1)
		conf_error(ctx, node,
		    "subnet: host bits set (write the network address, like "
		    "198.18.0.0/24)");
	else if (rc != 0)
		conf_error(ctx, node,
		    "subnet: expected an IPv4 prefix, like 198.18.0.0/24");
	return rc == 0 ? 0 : -1;
}

static void
havip_conf_subnet_json(const void *src, struct jw *w)
{
	const struct havip_subnet *s = src;
	char a[INET_ADDRSTRLEN], out[INET_ADDRSTRLEN + 4];

	inet_ntop(AF_INET, &s->net, a, sizeof(a));
	snprintf(out, sizeof(out), "%s/%u", a, s->prefix);
	jw_str(w, out);
}

static const struct conf_key havip_conf_instance_keys[] = {
	{ .name = "name",
	    .type = CT_STRING,
	    .off = offsetof(struct havip_instance_conf, name),
	    .flags = CK_REQUIRED,
	    .help = "unique instance name, as associations name it" },
	{ .name = "interface",
	    .type = CT_STRING,
	    .off = offsetof(struct havip_instance_conf, interface),
	    .flags = CK_REQUIRED,
	    .help = "the gateway's link towards the node" },
	{ .name = "address",
	    .type = CT_ADDR,
	    .off = offsetof(struct havip_instance_conf, address),
	    .flags = CK_REQUIRED,
	    .help = "the node's own IPv4 address in the subnet" },
};

static const struct conf_schema havip_conf_instance_schema = {
	.name = "havip.instances[]",
	.size = sizeof(struct havip_instance_conf),
	.keys = havip_conf_instance_keys,
	.nkeys = ARRAY_SIZE(havip_conf_instance_keys),
};

static const struct conf_key havip_conf_addr_keys[] = {
	{ .name = "name",
	    .type = CT_STRING,
	    .off = offsetof(struct havip_addr_conf, name),
	    .flags = CK_REQUIRED,
	    .help = "unique HAVIP name (the API's)" },
	{ .name = "address",
	    .type = CT_ADDR,
	    .off = offsetof(struct havip_addr_conf, address),
	    .flags = CK_REQUIRED,
	    .help = "the HAVIP, an IPv4 address of subnet" },
	{ .name = "subnet",
	    .type = CT_CUSTOM,
	    .off = offsetof(struct havip_addr_conf, subnet),
	    .custom = havip_conf_parse_subnet,
	    .to_json = havip_conf_subnet_json,
	    .flags = CK_REQUIRED,
	    .help = "the VPC subnet (vSwitch) it belongs to" },
	{ .name = "instances",
	    .type = CT_STRLIST,
	    .off = offsetof(struct havip_addr_conf, instances),
	    .count_off = offsetof(struct havip_addr_conf, ninstances),
	    .flags = CK_REQUIRED,
	    .help = "associated instances, at most 10" },
	{ .name = "eip",
	    .type = CT_ADDR,
	    .off = offsetof(struct havip_addr_conf, eip),
	    .help = "public address mapped 1:1 onto the HAVIP (DNAT/SNAT)" },
};

static const struct conf_schema havip_conf_addr_schema = {
	.name = "havip.addresses[]",
	.size = sizeof(struct havip_addr_conf),
	.keys = havip_conf_addr_keys,
	.nkeys = ARRAY_SIZE(havip_conf_addr_keys),
};

static const struct conf_key havip_conf_keys[] = {
	{ .name = "hold_down",
	    .type = CT_DURATION,
	    .off = offsetof(struct havip_conf, hold_down_ms),
	    .dflt = "5s",
	    .max = HAVIP_CONF_HOUR_MS,
	    .help = "after a remap, other instances' announcements are "
	            "ignored this long" },
	{ .name = "remap_delay",
	    .type = CT_DURATION,
	    .off = offsetof(struct havip_conf, remap_delay_ms),
	    .dflt = "0s",
	    .max = HAVIP_CONF_DELAY_MAX_MS,
	    .help = "wait this long after an announcement before the remap "
	            "(0-10s)" },
	{ .name = "witness",
	    .type = CT_BOOL,
	    .off = offsetof(struct havip_conf, witness),
	    .dflt = "true",
	    .help = "keep the HAVIP with a live master against a lower or "
	            "equal challenger (false: last announcer wins, as the "
	            "clouds)" },
	{ .name = "instances",
	    .type = CT_LIST,
	    .off = offsetof(struct havip_conf, instances),
	    .count_off = offsetof(struct havip_conf, ninstances),
	    .sub = &havip_conf_instance_schema,
	    .help = "the nodes, each on a link of its own" },
	{ .name = "addresses",
	    .type = CT_LIST,
	    .off = offsetof(struct havip_conf, addresses),
	    .count_off = offsetof(struct havip_conf, naddresses),
	    .sub = &havip_conf_addr_schema,
	    .help = "the HAVIPs and their associations" },
};

/* An address of the section, where it is, for the uniqueness check. */
struct havip_conf_seen {
	struct in_addr a;
	const char *what; /* borrowed: "instance n1" */
	const char *name; /* borrowed */
};

static bool
havip_conf_v4(struct conf_ctx *ctx, struct conf_node *node,
    const struct sockaddr_storage *ss, const char *key)
{
	if (ss->ss_family == AF_INET)
		return true;
	conf_error(
	    ctx, node, "%s: IPv4 only (a HAVIP is an IPv4 address)", key);
	return false;
}

/* Report a when an earlier entry of seen has it; then add it. */
static void
havip_conf_unique(struct conf_ctx *ctx, struct conf_node *node,
    struct havip_conf_seen *seen, size_t *n, struct in_addr a, const char *what,
    const char *name)
{
	char s[INET_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < *n; i++)
		if (seen[i].a.s_addr == a.s_addr) {
			inet_ntop(AF_INET, &a, s, sizeof(s));
			conf_error(ctx, node,
			    "%s %s: address %s is already %s %s", what, name, s,
			    seen[i].what, seen[i].name);
			return;
		}
	seen[(*n)++] = (struct havip_conf_seen){ a, what, name };
}

static void
havip_conf_check_instances(struct conf_ctx *ctx, struct conf_node *node,
    struct havip_conf *c, struct havip_conf_seen *seen, size_t *nseen)
{
	struct conf_node *list = conf_key_node(node, "instances");
	size_t i, j;

	for (i = 0; i < c->ninstances; i++) {
		struct havip_instance_conf *ic = &c->instances[i];
		struct conf_node *it = conf_node_item(list, i);

		for (j = 0; j < i; j++)
			if (strcmp(ic->interface, c->instances[j].interface) ==
			    0)
				conf_error(ctx, conf_key_node(it, "interface"),
				    "instance %s: interface %s is already "
				    "instance %s's (the link names the node)",
				    ic->name, ic->interface,
				    c->instances[j].name);
		if (havip_conf_v4(ctx, conf_key_node(it, "address"),
		        &ic->address, "address"))
			havip_conf_unique(ctx, conf_key_node(it, "address"),
			    seen, nseen, havip_conf_in(&ic->address),
			    "instance", ic->name);
	}
}

/* The associations of one HAVIP: known, once each, in its subnet. */
static void
havip_conf_check_assoc(struct conf_ctx *ctx, struct conf_node *it,
    struct havip_conf *c, struct havip_addr_conf *ac, size_t *per_inst)
{
	struct conf_node *list = conf_key_node(it, "instances");
	size_t i, j, k;

	if (ac->ninstances == 0 || ac->ninstances > HAVIP_CONF_INST_MAX) {
		conf_error(ctx, list,
		    "havip %s: instances: 1 to %d associations (quota)",
		    ac->name, HAVIP_CONF_INST_MAX);
		return;
	}
	for (i = 0; i < ac->ninstances; i++) {
		struct conf_node *in = conf_node_item(list, i);

		for (k = 0; k < c->ninstances &&
		     strcmp(c->instances[k].name, ac->instances[i]) != 0;
		     k++)
			;
		if (k == c->ninstances) {
			conf_error(ctx, in,
			    "havip %s: no instance named %s in "
			    "havip.instances",
			    ac->name, ac->instances[i]);
			continue;
		}
		for (j = 0; j < i && ac->inst[j] != k; j++)
			;
		if (j < i) {
			conf_error(ctx, in, "havip %s: instance %s twice",
			    ac->name, ac->instances[i]);
			continue;
		}
		ac->inst[i] = k;
		if (c->instances[k].address.ss_family == AF_INET &&
		    !havip_subnet_has(
		        &ac->subnet, havip_conf_in(&c->instances[k].address)))
			conf_error(ctx, in,
			    "havip %s: instance %s's address is not in "
			    "subnet",
			    ac->name, ac->instances[i]);
		if (++per_inst[k] == HAVIP_CONF_ADDR_PER_INST + 1)
			conf_error(ctx, in,
			    "havip %s: instance %s is in more than %d "
			    "HAVIPs (quota)",
			    ac->name, ac->instances[i],
			    HAVIP_CONF_ADDR_PER_INST);
	}
}

static void
havip_conf_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct havip_conf *c = obj;
	struct conf_node *list = conf_key_node(node, "addresses");
	size_t nseen = 0, i, *per_inst;
	struct havip_conf_seen *seen;

	seen = xcalloc(c->ninstances + 2 * c->naddresses + 1, sizeof(*seen));
	per_inst = xcalloc(c->ninstances + 1, sizeof(*per_inst));
	havip_conf_check_instances(ctx, node, c, seen, &nseen);
	for (i = 0; i < c->naddresses; i++) {
		struct havip_addr_conf *ac = &c->addresses[i];
		struct conf_node *it = conf_node_item(list, i);

		if (havip_conf_v4(ctx, conf_key_node(it, "address"),
		        &ac->address, "address")) {
			if (!havip_subnet_has(
			        &ac->subnet, havip_conf_in(&ac->address)))
				conf_error(ctx, conf_key_node(it, "address"),
				    "havip %s: address is not in subnet",
				    ac->name);
			havip_conf_unique(ctx, conf_key_node(it, "address"),
			    seen, &nseen, havip_conf_in(&ac->address), "havip",
			    ac->name);
		}
		if (ac->eip.ss_family != AF_UNSPEC &&
		    havip_conf_v4(
		        ctx, conf_key_node(it, "eip"), &ac->eip, "eip"))
			havip_conf_unique(ctx, conf_key_node(it, "eip"), seen,
			    &nseen, havip_conf_in(&ac->eip), "eip of havip",
			    ac->name);
		havip_conf_check_assoc(ctx, it, c, ac, per_inst);
	}
	free(per_inst);
	free(seen);
}

const struct conf_schema havip_conf_schema = {
	.name = "havip",
	.size = sizeof(struct havip_conf),
	.keys = havip_conf_keys,
	.nkeys = ARRAY_SIZE(havip_conf_keys),
	.check = havip_conf_check,
};
