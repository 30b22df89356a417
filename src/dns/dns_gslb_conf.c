/*
 * dns_gslb_conf.c - schemas of the GSLB keys of the `dns:` section
 * (regions, pools, names, plans), the template presets, and the checks
 * across them, each error at the node that breaks the rule.
 *
 * Table data plus hooks, as havip_conf.c. Two things happen in hooks
 * rather than in the binder, because the structs are fixed by the
 * contract (dns_gslb_conf.h) and hold no room for anything else:
 *   - `template:` is parsed twice: its key's parser only validates, and
 *     the name's check hook expands it into plain policies, so the bound
 *     struct, `haven check` and GET /v1/config hold the expanded form (the
 *     key serialises as null, which binds back as absent);
 *   - an address's label and a name's wire form are derived there.
 * Region networks may nest across regions (the longest match wins, see
 * dns_cidr.h); the same network twice, or nested within one region, is
 * an error since one of the two could never be the match that counts.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_cidr.h"
#include "dns/dns_gslb_conf.h"
#include "lib/ipc.h"
#include "lib/json.h"
#include "lib/util.h"

#define DNS_GSLB_CONF_DAY_MS       (24ull * 3600 * 1000)
#define DNS_GSLB_CONF_WEIGHT_MAX   1000000
#define DNS_GSLB_CONF_AVAIL_MAX    100000 /* addresses a pool could hold */
#define DNS_GSLB_CONF_TEMPLATE_MAX 16     /* pools of a multi_active */

static const char *const dns_gslb_conf_mode_names[] = { "smart", "online",
	"offline", NULL };
static const char *const dns_gslb_conf_lb_names[] = { "all", "weighted",
	"round-robin", NULL };
static const char *const dns_gslb_conf_failback_names[] = { "preemptive",
	"non-preemptive", NULL };
static const char *const dns_gslb_conf_fail_names[] = { "open", "closed",
	NULL };

/* ---- regions */

/* networks: a list of CIDRs into the region's array and count. */
static int
dns_gslb_conf_parse_networks(
    struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	struct dns_region_conf *r =
	    container_of(dst, struct dns_region_conf, networks);
	size_t n = conf_node_count(node), i;
	int rc = 0;

	if (!conf_node_is_seq(node) || n == 0) {
		conf_error(ctx, node,
		    "networks: expected a list of prefixes, like "
		    "[198.18.0.0/24, \"2001:db8::/32\"]");
		return -1;
	}
	r->networks = xcalloc(n, sizeof(*r->networks));
	for (i = 0; i < n; i++) {
		struct conf_node *it = conf_node_item(node, i);
		char *v = conf_node_text(it);
		int e =
		    v != NULL ? dns_cidr_parse(v, &r->networks[i]) : -EINVAL;

		if (e == -EBADMSG)
			conf_error(ctx, it,
			    "networks: host bits set in '%s' (write the "
			    "network address, like 198.18.0.0/24)",
			    v);
		else if (e != 0)
			conf_error(ctx, it,
			    "networks: expected a prefix like 198.18.0.0/24 "
			    "or 2001:db8::/32");
		if (e != 0)
			rc = -1;
		free(v);
	}
	r->nnetworks = n;
	return rc;
}

static void
dns_gslb_conf_networks_json(const void *src, struct jw *w)
{
	const struct dns_region_conf *r =
	    container_of(src, struct dns_region_conf, networks);
	char t[DNS_CIDR_TEXT_MAX];

	jw_arr_begin(w);
	for (size_t i = 0; i < r->nnetworks; i++)
		jw_str(w, dns_cidr_format(&r->networks[i], t, sizeof(t)));
	jw_arr_end(w);
}

static void
dns_gslb_conf_region_fini(void *obj)
{
	struct dns_region_conf *r = obj;

	free(r->networks);
	r->networks = NULL;
	r->nnetworks = 0;
}

static const struct conf_key dns_gslb_conf_region_keys[] = {
	{ .name = "name",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_region_conf, name),
	    .flags = CK_REQUIRED,
	    .help = "unique region name, as policies' sources name it" },
	{ .name = "networks",
	    .type = CT_CUSTOM,
	    .off = offsetof(struct dns_region_conf, networks),
	    .flags = CK_REQUIRED,
	    .custom = dns_gslb_conf_parse_networks,
	    .to_json = dns_gslb_conf_networks_json,
	    .help = "client networks (ECS or source address) of the region" },
};

const struct conf_schema dns_region_schema = {
	.name = "dns.regions[]",
	.size = sizeof(struct dns_region_conf),
	.keys = dns_gslb_conf_region_keys,
	.nkeys = ARRAY_SIZE(dns_gslb_conf_region_keys),
	.fini = dns_gslb_conf_region_fini,
};

/* ---- pools and their addresses */

static int
dns_gslb_conf_parse_cname(
    struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	uint8_t *wire = dst;
	static const uint8_t root[1] = { 0 };
	char *v = conf_node_text(node);
	int n =
	    v != NULL ? dns_name_from_text(wire, v, strlen(v), root) : -EINVAL;

	if (n < 0 || n == 1) {
		conf_error(ctx, node,
		    "cname: expected a domain name like edge.example.net.");
		wire[0] = 0;
		free(v);
		return -1;
	}
	dns_name_lower(wire);
	free(v);
	return 0;
}

static void
dns_gslb_conf_cname_json(const void *src, struct jw *w)
{
	const uint8_t *wire = src;
	char t[DNS_NAME_TEXT_MAX];

	if (wire[0] == 0 || dns_name_to_text(wire, t, sizeof(t)) < 0)
		jw_null(w);
	else
		jw_str(w, t);
}

/* Exactly one of address and cname; the label from what was written. */
static void
dns_gslb_conf_addr_check(
    struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct dns_addr_conf *a = obj;
	bool has_addr = a->address.ss_family != AF_UNSPEC;
	bool has_cname = a->cname[0] != 0;
	char t[INET6_ADDRSTRLEN];

	if (has_addr == has_cname) {
		conf_error(ctx, has_addr ? conf_key_node(node, "cname") : node,
		    "an address entry needs exactly one of 'address' and "
		    "'cname'");
		return;
	}
	free(a->label);
	if (has_addr) {
		const void *p = a->address.ss_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)&a->address)
		        ->sin_addr :
		    (const void *)&((struct sockaddr_in6 *)&a->address)
		        ->sin6_addr;

		inet_ntop(a->address.ss_family, p, t, sizeof(t));
		a->label = xstrdup(t);
	} else {
		a->label = conf_node_text(conf_key_node(node, "cname"));
		if (a->label == NULL)
			a->label = xstrdup("?");
	}
}

static void
dns_gslb_conf_addr_fini(void *obj)
{
	struct dns_addr_conf *a = obj;

	free(a->label);
	a->label = NULL;
}

static const struct conf_key dns_gslb_conf_addr_keys[] = {
	{ .name = "address",
	    .type = CT_ADDR,
	    .off = offsetof(struct dns_addr_conf, address),
	    .help = "an IPv4 or IPv6 address answered as A or AAAA" },
	{ .name = "cname",
	    .type = CT_CUSTOM,
	    .off = offsetof(struct dns_addr_conf, cname),
	    .custom = dns_gslb_conf_parse_cname,
	    .to_json = dns_gslb_conf_cname_json,
	    .help = "a domain name answered as CNAME (instead of address)" },
	{ .name = "weight",
	    .type = CT_UINT,
	    .off = offsetof(struct dns_addr_conf, weight),
	    .dflt = "1",
	    .min = 1,
	    .max = DNS_GSLB_CONF_WEIGHT_MAX,
	    .help = "share of picks in a weighted pool" },
	{ .name = "mode",
	    .type = CT_ENUM,
	    .off = offsetof(struct dns_addr_conf, mode),
	    .dflt = "smart",
	    .enum_names = dns_gslb_conf_mode_names,
	    .help = "smart: answered while healthy; online/offline: always, "
	            "never" },
};

static const struct conf_schema dns_gslb_conf_addr_schema = {
	.name = "dns.pools[].addresses[]",
	.size = sizeof(struct dns_addr_conf),
	.keys = dns_gslb_conf_addr_keys,
	.nkeys = ARRAY_SIZE(dns_gslb_conf_addr_keys),
	.check = dns_gslb_conf_addr_check,
	.fini = dns_gslb_conf_addr_fini,
};

/* available: "2" (addresses) or "50%" (of the pool's, rounded up). */
static int
dns_gslb_conf_parse_available(
    struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	struct dns_pool_conf *p =
	    container_of(dst, struct dns_pool_conf, available);
	char *v = conf_node_text(node), *end;
	unsigned long n = 0;
	bool pct = false;
	int rc = -1;

	if (v != NULL && v[0] >= '0' && v[0] <= '9') {
		errno = 0;
		n = strtoul(v, &end, 10);
		pct = *end == '%';
		if (pct)
			end++;
		if (errno == 0 && *end == '\0' && n >= 1 &&
		    n <= (pct ? 100 : DNS_GSLB_CONF_AVAIL_MAX))
			rc = 0;
	}
	if (rc == 0) {
		p->available = (uint32_t)n;
		p->available_pct = pct;
	} else
		conf_error(ctx, node,
		    "available: expected a count of addresses like \"2\" "
		    "or a percentage like \"50%%\" (1-100)");
	free(v);
	return rc;
}

static void
dns_gslb_conf_available_json(const void *src, struct jw *w)
{
	const struct dns_pool_conf *p =
	    container_of(src, struct dns_pool_conf, available);
	char t[16];

	snprintf(
	    t, sizeof(t), "%u%s", p->available, p->available_pct ? "%" : "");
	jw_str(w, t);
}

/* 0: IPv4, 1: IPv6, 2: cname; -1 unknown. */
static int
dns_gslb_conf_addr_kind(const struct dns_addr_conf *a)
{
	if (a->cname[0] != 0)
		return 2;
	return a->address.ss_family == AF_INET ? 0 :
	    a->address.ss_family == AF_INET6   ? 1 :
	                                         -1;
}

static const char *const dns_gslb_conf_kind_names[] = { "IPv4", "IPv6",
	"cname" };

static void
dns_gslb_conf_pool_check(
    struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct dns_pool_conf *p = obj;
	struct conf_node *list = conf_key_node(node, "addresses");
	int kind =
	    p->naddresses > 0 ? dns_gslb_conf_addr_kind(p->addresses) : -1;
	size_t i, j;

	if (p->naddresses == 0) {
		conf_error(ctx, list != NULL ? list : node,
		    "pool %s: no addresses", p->name);
		return;
	}
	for (i = 0; i < p->naddresses; i++) {
		const struct dns_addr_conf *a = &p->addresses[i];
		struct conf_node *it = conf_node_item(list, i);
		int k = dns_gslb_conf_addr_kind(a);

		if (a->label == NULL)
			continue;
		if (k != kind && kind >= 0 && k >= 0)
			conf_error(ctx, it,
			    "pool %s: %s is %s, the pool's first address is "
			    "%s (one family, or all cnames)",
			    p->name, a->label, dns_gslb_conf_kind_names[k],
			    dns_gslb_conf_kind_names[kind]);
		if (strlen(p->name) + 1 + strlen(a->label) >= IPC_NAME_MAX)
			conf_error(ctx, it,
			    "pool %s: health target '%s/%s' is longer than "
			    "%d characters",
			    p->name, p->name, a->label, IPC_NAME_MAX - 1);
		for (j = 0; j < i; j++)
			if (p->addresses[j].label != NULL &&
			    strcmp(p->addresses[j].label, a->label) == 0) {
				conf_error(ctx, it,
				    "pool %s: %s is listed twice", p->name,
				    a->label);
				break;
			}
	}
	if (!p->available_pct && p->available > p->naddresses)
		conf_error(ctx, conf_key_node(node, "available"),
		    "pool %s: available %u is more than its %zu addresses "
		    "(it could never be available)",
		    p->name, p->available, p->naddresses);
}

static const struct conf_key dns_gslb_conf_pool_keys[] = {
	{ .name = "name",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_pool_conf, name),
	    .flags = CK_REQUIRED,
	    .help = "unique pool name, as policies and plans name it" },
	{ .name = "check",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_pool_conf, check),
	    .help = "health check template probing each smart address" },
	{ .name = "available",
	    .type = CT_CUSTOM,
	    .off = offsetof(struct dns_pool_conf, available),
	    .dflt = "1",
	    .custom = dns_gslb_conf_parse_available,
	    .to_json = dns_gslb_conf_available_json,
	    .help = "up addresses for the pool to count: \"2\" or \"50%\"" },
	{ .name = "lb",
	    .type = CT_ENUM,
	    .off = offsetof(struct dns_pool_conf, lb),
	    .dflt = "all",
	    .enum_names = dns_gslb_conf_lb_names,
	    .help = "answer all usable addresses, one by weight, or one in "
	            "turn" },
	{ .name = "addresses",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_pool_conf, addresses),
	    .count_off = offsetof(struct dns_pool_conf, naddresses),
	    .sub = &dns_gslb_conf_addr_schema,
	    .flags = CK_REQUIRED,
	    .help = "the pool's addresses or cnames" },
};

const struct conf_schema dns_pool_schema = {
	.name = "dns.pools[]",
	.size = sizeof(struct dns_pool_conf),
	.keys = dns_gslb_conf_pool_keys,
	.nkeys = ARRAY_SIZE(dns_gslb_conf_pool_keys),
	.check = dns_gslb_conf_pool_check,
};

/* ---- policies */

static int
dns_gslb_conf_parse_last_resort(
    struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	struct dns_policy_conf *p =
	    container_of(dst, struct dns_policy_conf, last_resort);
	size_t n = conf_node_count(node), i;
	int rc = 0;

	if (!conf_node_is_seq(node)) {
		conf_error(ctx, node,
		    "last_resort: expected a list of addresses, like "
		    "[198.18.9.9]");
		return -1;
	}
	p->last_resort = xcalloc(n > 0 ? n : 1, sizeof(*p->last_resort));
	for (i = 0; i < n; i++) {
		struct conf_node *it = conf_node_item(node, i);
		char *v = conf_node_text(it);

		if (v == NULL ||
		    conf_parse_addr(v, false, &p->last_resort[i]) != 0) {
			conf_error(ctx, it,
			    "last_resort: expected an IP address like "
			    "198.18.9.9 or 2001:db8::9");
			rc = -1;
		}
		free(v);
	}
	p->nlast_resort = n;
	return rc;
}

static void
dns_gslb_conf_last_resort_json(const void *src, struct jw *w)
{
	const struct dns_policy_conf *p =
	    container_of(src, struct dns_policy_conf, last_resort);
	char t[64];

	jw_arr_begin(w);
	for (size_t i = 0; i < p->nlast_resort; i++)
		jw_str(w, conf_addr_str(&p->last_resort[i], t, sizeof(t)));
	jw_arr_end(w);
}

static void
dns_gslb_conf_policy_fini(void *obj)
{
	struct dns_policy_conf *p = obj;

	free(p->last_resort);
	free(p->pool_idx);
	free(p->backup_idx);
	free(p->source_idx);
	p->last_resort = NULL;
	p->nlast_resort = 0;
	p->pool_idx = p->backup_idx = p->source_idx = NULL;
}

static const struct conf_key dns_gslb_conf_policy_keys[] = {
	{ .name = "sources",
	    .type = CT_STRLIST,
	    .off = offsetof(struct dns_policy_conf, sources),
	    .count_off = offsetof(struct dns_policy_conf, nsources),
	    .help = "regions this policy answers; absent: the default" },
	{ .name = "pools",
	    .type = CT_STRLIST,
	    .off = offsetof(struct dns_policy_conf, pools),
	    .count_off = offsetof(struct dns_policy_conf, npools),
	    .flags = CK_REQUIRED,
	    .help = "the default pool set" },
	{ .name = "backup",
	    .type = CT_STRLIST,
	    .off = offsetof(struct dns_policy_conf, backup),
	    .count_off = offsetof(struct dns_policy_conf, nbackup),
	    .help = "the backup pool set, served while the default is not "
	            "available" },
	{ .name = "failback",
	    .type = CT_ENUM,
	    .off = offsetof(struct dns_policy_conf, failback),
	    .dflt = "preemptive",
	    .enum_names = dns_gslb_conf_failback_names,
	    .help = "preemptive: back to the default set after hold_down; "
	            "non-preemptive: when the backup fails or on request" },
	{ .name = "hold_down",
	    .type = CT_DURATION,
	    .off = offsetof(struct dns_policy_conf, hold_down_ms),
	    .dflt = "0s",
	    .max = (int64_t)DNS_GSLB_CONF_DAY_MS,
	    .help = "the default set is available this long before a "
	            "preemptive failback" },
	{ .name = "fail",
	    .type = CT_ENUM,
	    .off = offsetof(struct dns_policy_conf, fail),
	    .dflt = "open",
	    .enum_names = dns_gslb_conf_fail_names,
	    .help = "when no set is available: open answers the whole "
	            "default set, closed the last_resort addresses" },
	{ .name = "last_resort",
	    .type = CT_CUSTOM,
	    .off = offsetof(struct dns_policy_conf, last_resort),
	    .custom = dns_gslb_conf_parse_last_resort,
	    .to_json = dns_gslb_conf_last_resort_json,
	    .help = "addresses a fail-closed policy answers (none: NODATA)" },
};

static void
dns_gslb_conf_policy_check(
    struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct dns_policy_conf *p = obj;

	if (p->npools == 0)
		conf_error(ctx, conf_key_node(node, "pools"),
		    "a policy needs at least one pool in 'pools'");
	if (p->nlast_resort > 0 && p->fail == DNS_FAIL_OPEN)
		conf_error(ctx, conf_key_node(node, "last_resort"),
		    "last_resort is answered only by 'fail: closed'");
}

static const struct conf_schema dns_gslb_conf_policy_schema = {
	.name = "dns.names[].policies[]",
	.size = sizeof(struct dns_policy_conf),
	.keys = dns_gslb_conf_policy_keys,
	.nkeys = ARRAY_SIZE(dns_gslb_conf_policy_keys),
	.check = dns_gslb_conf_policy_check,
	.fini = dns_gslb_conf_policy_fini,
};

/* ---- names and templates */

static char **
dns_gslb_conf_strv(struct conf_node *const *nodes, size_t n)
{
	char **v = xcalloc(n + 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = conf_node_text(nodes[i]);
	return v;
}

/*
 * Validate the template at node and, when g is not NULL, expand it into
 * g's single default policy. Returns 0 or -1 (reported).
 */
static int
dns_gslb_conf_template(
    struct conf_ctx *ctx, struct conf_node *node, struct dns_gname_conf *g)
{
	struct conf_node *kn, *vn, *items[DNS_GSLB_CONF_TEMPLATE_MAX];
	struct dns_policy_conf *p;
	size_t n = 0, i;
	bool dr;

	if (!conf_node_is_map(node) || conf_node_count(node) != 1)
		goto bad;
	kn = conf_node_key(node, 0);
	vn = conf_node_value(node, 0);
	if (conf_node_eq(kn, "dr")) {
		dr = true;
		if (!conf_node_is_map(vn) || conf_node_count(vn) != 2)
			goto bad;
		items[0] = conf_key_node(vn, "primary");
		items[1] = conf_key_node(vn, "secondary");
		n = 2;
	} else if (conf_node_eq(kn, "multi_active")) {
		dr = false;
		n = conf_node_count(vn);
		if (!conf_node_is_seq(vn) || n == 0 ||
		    n > DNS_GSLB_CONF_TEMPLATE_MAX)
			goto bad;
		for (i = 0; i < n; i++)
			items[i] = conf_node_item(vn, i);
	} else
		goto bad;
	for (i = 0; i < n; i++)
		if (!conf_node_is_scalar(items[i]) ||
		    conf_node_is_null(items[i]) || items[i]->len == 0 ||
		    memchr(items[i]->text, '\0', items[i]->len) != NULL)
			goto bad;
	if (g == NULL)
		return 0;
	p = xcalloc(1, sizeof(*p));
	p->failback = DNS_FAILBACK_PREEMPT;
	p->fail = DNS_FAIL_OPEN;
	if (dr) {
		p->pools = dns_gslb_conf_strv(&items[0], 1);
		p->npools = 1;
		p->backup = dns_gslb_conf_strv(&items[1], 1);
		p->nbackup = 1;
	} else {
		p->pools = dns_gslb_conf_strv(items, n);
		p->npools = n;
	}
	g->policies = p;
	g->npolicies = 1;
	return 0;
bad:
	conf_error(ctx, node,
	    "template: expected {dr: {primary: POOL, secondary: POOL}} or "
	    "{multi_active: [POOL, ...]} (at most %d pools)",
	    DNS_GSLB_CONF_TEMPLATE_MAX);
	return -1;
}

/* The key's own parser validates only: the name's hook expands. */
static int
dns_gslb_conf_parse_template(
    struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	(void)dst;
	return dns_gslb_conf_template(ctx, node, NULL);
}

static void
dns_gslb_conf_gname_check(
    struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct dns_gname_conf *g = obj;
	struct conf_node *tn = conf_key_node(node, "template");
	struct conf_node *pn = conf_key_node(node, "policies");
	static const uint8_t root[1] = { 0 };
	size_t i, j, k, ndefault = 0;
	int n;

	n = dns_name_from_text(g->wire, g->name, strlen(g->name), root);
	if (n <= 1) {
		conf_error(ctx, conf_key_node(node, "name"),
		    "name '%s' is not a domain name", g->name);
		return;
	}
	dns_name_lower(g->wire);
	if (g->degraded_ttl_ms > g->ttl_ms) {
		struct conf_node *at = conf_key_node(node, "degraded_ttl");

		if (at == NULL)
			at = conf_key_node(node, "ttl");
		conf_error(ctx, at, "name %s: degraded_ttl is longer than ttl",
		    g->name);
	}
	if (tn != NULL && !conf_node_is_null(tn)) {
		if (g->npolicies > 0) {
			conf_error(ctx, tn,
			    "name %s: 'template' and 'policies' exclude "
			    "each other (a template is a policy preset)",
			    g->name);
			return;
		}
		if (dns_gslb_conf_template(ctx, tn, g) != 0)
			return;
	}
	if (g->npolicies == 0) {
		conf_error(ctx, node,
		    "name %s: needs 'policies' or a "
		    "'template'",
		    g->name);
		return;
	}
	for (i = 0; i < g->npolicies; i++) {
		struct dns_policy_conf *p = &g->policies[i];
		struct conf_node *it = conf_node_item(pn, i);

		if (p->nsources == 0 && ndefault++ == 1)
			conf_error(ctx, it,
			    "name %s: a second policy without sources "
			    "(exactly one is the default)",
			    g->name);
		for (j = 0; j < p->nsources; j++)
			for (k = 0; k <= i; k++) {
				const struct dns_policy_conf *q =
				    &g->policies[k];
				size_t m, lim = k == i ? j : q->nsources;

				for (m = 0; m < lim; m++)
					if (strcmp(q->sources[m],
					        p->sources[j]) == 0)
						goto dup;
				continue;
dup:
				conf_error(ctx,
				    conf_node_item(
				        conf_key_node(it, "sources"), j),
				    "name %s: region %s is a source of two "
				    "policies",
				    g->name, p->sources[j]);
				break;
			}
	}
	if (ndefault == 0)
		conf_error(ctx, pn != NULL ? pn : node,
		    "name %s: no default policy (one without 'sources' "
		    "answers clients of no region)",
		    g->name);
}

static const struct conf_key dns_gslb_conf_gname_keys[] = {
	{ .name = "name",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_gname_conf, name),
	    .flags = CK_REQUIRED,
	    .help = "the domain name answered from pools" },
	{ .name = "ttl",
	    .type = CT_DURATION,
	    .off = offsetof(struct dns_gname_conf, ttl_ms),
	    .dflt = "30s",
	    .max = (int64_t)DNS_GSLB_CONF_DAY_MS,
	    .help = "TTL of the answers" },
	{ .name = "degraded_ttl",
	    .type = CT_DURATION,
	    .off = offsetof(struct dns_gname_conf, degraded_ttl_ms),
	    .dflt = "5s",
	    .max = (int64_t)DNS_GSLB_CONF_DAY_MS,
	    .help = "TTL while an address is down or just after a switch" },
	{ .name = "template",
	    .type = CT_CUSTOM,
	    .off = offsetof(struct dns_gname_conf, policies),
	    .custom = dns_gslb_conf_parse_template,
	    .help = "a preset expanded into policies: {dr: {primary, "
	            "secondary}} or {multi_active: [pools]}" },
	{ .name = "policies",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_gname_conf, policies),
	    .count_off = offsetof(struct dns_gname_conf, npolicies),
	    .sub = &dns_gslb_conf_policy_schema,
	    .help = "access policies: by source region, one default" },
};

const struct conf_schema dns_gname_schema = {
	.name = "dns.names[]",
	.size = sizeof(struct dns_gname_conf),
	.keys = dns_gslb_conf_gname_keys,
	.nkeys = ARRAY_SIZE(dns_gslb_conf_gname_keys),
	.check = dns_gslb_conf_gname_check,
};

/* ---- plans */

static const struct conf_key dns_gslb_conf_plan_keys[] = {
	{ .name = "name",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_plan_conf, name),
	    .flags = CK_REQUIRED,
	    .help = "unique plan name, as the API executes it" },
	{ .name = "pools",
	    .type = CT_STRLIST,
	    .off = offsetof(struct dns_plan_conf, pools),
	    .count_off = offsetof(struct dns_plan_conf, npools),
	    .flags = CK_REQUIRED,
	    .help = "pools forced offline while the plan is executed" },
	{ .name = "rollback_after",
	    .type = CT_DURATION,
	    .off = offsetof(struct dns_plan_conf, rollback_after_ms),
	    .dflt = "0s",
	    .max = (int64_t)(7 * DNS_GSLB_CONF_DAY_MS),
	    .help = "roll back by itself after this long; 0: stays until "
	            "rolled back" },
};

const struct conf_schema dns_plan_schema = {
	.name = "dns.plans[]",
	.size = sizeof(struct dns_plan_conf),
	.keys = dns_gslb_conf_plan_keys,
	.nkeys = ARRAY_SIZE(dns_gslb_conf_plan_keys),
};

/* ---- across the lists */

static long
dns_gslb_conf_find_pool(const struct dns_gslb_conf *c, const char *name)
{
	for (size_t i = 0; i < c->npools; i++)
		if (strcmp(c->pools[i].name, name) == 0)
			return (long)i;
	return -1;
}

static long
dns_gslb_conf_find_region(const struct dns_gslb_conf *c, const char *name)
{
	for (size_t i = 0; i < c->nregions; i++)
		if (strcmp(c->regions[i].name, name) == 0)
			return (long)i;
	return -1;
}

static void
dns_gslb_conf_check_regions(
    struct conf_ctx *ctx, struct conf_node *section, struct dns_gslb_conf *c)
{
	struct conf_node *list = conf_key_node(section, "regions");
	char t1[DNS_CIDR_TEXT_MAX], t2[DNS_CIDR_TEXT_MAX];
	size_t i, j, k, l;

	for (i = 0; i < c->nregions; i++) {
		const struct dns_region_conf *r = &c->regions[i];
		struct conf_node *nets =
		    conf_key_node(conf_node_item(list, i), "networks");

		for (j = 0; j < r->nnetworks; j++)
			for (k = 0; k <= i; k++) {
				const struct dns_region_conf *q =
				    &c->regions[k];
				size_t lim = k == i ? j : q->nnetworks;

				for (l = 0; l < lim; l++) {
					const struct dns_cidr *a =
					    &q->networks[l];
					const struct dns_cidr *b =
					    &r->networks[j];
					bool same = a->bits == b->bits &&
					    dns_cidr_contains(a, b);

					/* across regions, nesting is a
					 * carve-out: longest match wins */
					if (!same &&
					    (k != i ||
					        (!dns_cidr_contains(a, b) &&
					            !dns_cidr_contains(b, a))))
						continue;
					conf_error(ctx, conf_node_item(nets, j),
					    "region %s: network %s %s %s of "
					    "region %s",
					    r->name,
					    dns_cidr_format(b, t1, sizeof(t1)),
					    same ? "is also" : "overlaps",
					    dns_cidr_format(a, t2, sizeof(t2)),
					    q->name);
					goto next;
				}
			}
next:;
	}
}

/* Resolve the names of a pool set into a new index array. */
static size_t *
dns_gslb_conf_resolve_pools(struct conf_ctx *ctx, struct conf_node *where,
    const struct dns_gslb_conf *c, const char *gname, char **names, size_t n,
    const char *key)
{
	size_t *idx = xcalloc(n > 0 ? n : 1, sizeof(*idx));

	for (size_t i = 0; i < n; i++) {
		long p = dns_gslb_conf_find_pool(c, names[i]);
		struct conf_node *at =
		    conf_node_item(conf_key_node(where, key), i);

		if (p < 0)
			conf_error(ctx, at != NULL ? at : where,
			    "name %s: unknown pool '%s' in '%s'", gname,
			    names[i], key);
		idx[i] = p < 0 ? 0 : (size_t)p;
	}
	return idx;
}

static void
dns_gslb_conf_check_policy(struct conf_ctx *ctx, struct conf_node *where,
    struct dns_gslb_conf *c, struct dns_gname_conf *g,
    struct dns_policy_conf *p)
{
	int kind = -1;
	size_t i, j;

	free(p->pool_idx);
	free(p->backup_idx);
	free(p->source_idx);
	p->pool_idx = dns_gslb_conf_resolve_pools(
	    ctx, where, c, g->name, p->pools, p->npools, "pools");
	p->backup_idx = dns_gslb_conf_resolve_pools(
	    ctx, where, c, g->name, p->backup, p->nbackup, "backup");
	p->source_idx =
	    xcalloc(p->nsources > 0 ? p->nsources : 1, sizeof(*p->source_idx));
	for (i = 0; i < p->nsources; i++) {
		long r = dns_gslb_conf_find_region(c, p->sources[i]);

		if (r < 0) {
			struct conf_node *at =
			    conf_node_item(conf_key_node(where, "sources"), i);

			conf_error(ctx, at != NULL ? at : where,
			    "name %s: unknown region '%s' in 'sources'",
			    g->name, p->sources[i]);
		}
		p->source_idx[i] = r < 0 ? 0 : (size_t)r;
	}
	for (i = 0; i < p->npools + p->nbackup; i++) {
		const char *pn =
		    i < p->npools ? p->pools[i] : p->backup[i - p->npools];
		long pi = dns_gslb_conf_find_pool(c, pn);
		int k;

		if (pi < 0 || c->pools[pi].naddresses == 0)
			continue;
		for (j = 0; j < i; j++) {
			const char *qn = j < p->npools ?
			    p->pools[j] :
			    p->backup[j - p->npools];

			if (strcmp(pn, qn) == 0) {
				conf_error(ctx, where,
				    "name %s: pool %s is twice in one "
				    "policy's sets",
				    g->name, pn);
				break;
			}
		}
		k = dns_gslb_conf_addr_kind(&c->pools[pi].addresses[0]);
		if (kind < 0)
			kind = k;
		else if (k != kind)
			conf_error(ctx, where,
			    "name %s: pool %s holds %s addresses, the "
			    "policy's first pool %s (one family, or all "
			    "cnames)",
			    g->name, pn, dns_gslb_conf_kind_names[k],
			    dns_gslb_conf_kind_names[kind]);
	}
}

static void
dns_gslb_conf_check_names(
    struct conf_ctx *ctx, struct conf_node *section, struct dns_gslb_conf *c)
{
	struct conf_node *list = conf_key_node(section, "names");
	size_t i, j;

	for (i = 0; i < c->nnames; i++) {
		struct dns_gname_conf *g = &c->names[i];
		struct conf_node *gn = conf_node_item(list, i);
		struct conf_node *pn = conf_key_node(gn, "policies");

		for (j = 0; j < i; j++)
			if (dns_name_equal(c->names[j].wire, g->wire)) {
				conf_error(ctx, conf_key_node(gn, "name"),
				    "name %s: the same name as %s", g->name,
				    c->names[j].name);
				break;
			}
		for (j = 0; j < g->npolicies; j++) {
			struct conf_node *where = conf_node_item(pn, j);

			if (where == NULL)
				where = conf_key_node(gn, "template");
			dns_gslb_conf_check_policy(
			    ctx, where, c, g, &g->policies[j]);
		}
	}
}

static void
dns_gslb_conf_check_plans(
    struct conf_ctx *ctx, struct conf_node *section, struct dns_gslb_conf *c)
{
	struct conf_node *list = conf_key_node(section, "plans");

	for (size_t i = 0; i < c->nplans; i++) {
		struct conf_node *pn =
		    conf_key_node(conf_node_item(list, i), "pools");

		for (size_t j = 0; j < c->plans[i].npools; j++)
			if (dns_gslb_conf_find_pool(c, c->plans[i].pools[j]) <
			    0)
				conf_error(ctx, conf_node_item(pn, j),
				    "plan %s: unknown pool '%s'",
				    c->plans[i].name, c->plans[i].pools[j]);
	}
}

void
dns_gslb_conf_check(
    struct conf_ctx *ctx, struct conf_node *section, struct dns_gslb_conf *c)
{
	dns_gslb_conf_check_regions(ctx, section, c);
	dns_gslb_conf_check_names(ctx, section, c);
	dns_gslb_conf_check_plans(ctx, section, c);
}
