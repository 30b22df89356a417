/*
 * dns_catalog_conf.c - the schema of dns.catalogs[] and its check
 * (dns_catalog.h): each catalog's name, members and transfer keys are
 * checked with their errors at the config's file:line:col, then the
 * catalog is appended to dns.zones as a zone item of its own, so every
 * part of the plane that walks the zones (transfers, IXFR journals,
 * NOTIFY, the API) serves it like a zone read from a file.
 *
 * `members: all` means every zone of dns.zones read from a file: the
 * zones this server is the primary of. A secondary zone is left out on
 * purpose: its own primary publishes it in its catalog, and a zone in two
 * catalogs is a name clash a consumer resolves by ignoring one (RFC 9432
 * §5). A secondary zone named in a list is taken: the operator chose.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_catalog.h"
#include "dns/dns_conf.h"
#include "lib/json.h"
#include "lib/util.h"

/* members: "all", or a list of zone names. */
static int
dns_catalog_parse_members(
    struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	struct dns_catalog_members *m = dst;
	char *v;

	m->all = false;
	if (conf_node_is_scalar(node)) {
		v = conf_node_text(node);
		m->all = v != NULL && strcmp(v, "all") == 0;
		free(v);
		if (m->all)
			return 0;
	} else if (conf_node_is_seq(node)) {
		m->names = xcalloc(node->n + 1, sizeof(*m->names));
		for (size_t i = 0; i < node->n; i++) {
			struct conf_node *it = conf_node_item(node, i);

			if (!conf_node_is_scalar(it) ||
			    (v = conf_node_text(it)) == NULL) {
				conf_error(
				    ctx, it, "members: expected a zone name");
				return -1;
			}
			m->names[m->n++] = v;
		}
		return 0;
	}
	conf_error(ctx, node, "members: expected all or a list of zone names");
	return -1;
}

static void
dns_catalog_members_json(const void *src, struct jw *w)
{
	const struct dns_catalog_members *m = src;

	if (m->all) {
		jw_str(w, "all");
		return;
	}
	jw_arr_begin(w);
	for (size_t i = 0; i < m->n; i++)
		jw_str(w, m->names[i]);
	jw_arr_end(w);
}

static void
dns_catalog_conf_fini(void *obj)
{
	struct dns_catalog_conf *cat = obj;

	for (size_t i = 0; i < cat->members.n; i++)
		free(cat->members.names[i]);
	free(cat->members.names);
	cat->members.names = NULL;
	cat->members.n = 0;
	free(cat->member_apex);
	cat->member_apex = NULL;
	cat->nmember_apex = 0;
	dns_xfr_conf_zone_fini(&cat->xfr);
}

static const struct conf_key dns_catalog_keys[] = {
	{ .name = "name",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_catalog_conf, name),
	    .flags = CK_REQUIRED,
	    .help = "the catalog zone's apex, e.g. catalog.invalid" },
	{ .name = "members",
	    .type = CT_CUSTOM,
	    .off = offsetof(struct dns_catalog_conf, members),
	    .dflt = "all",
	    .custom = dns_catalog_parse_members,
	    .to_json = dns_catalog_members_json,
	    .help = "all (the zones read from a file) or a list of "
	            "dns.zones names" },
	{ .name = "group",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_catalog_conf, group),
	    .help = "group property of every member (RFC 9432 §4.4.2)" },
	DNS_XFR_ZONE_KEYS(offsetof(struct dns_catalog_conf, xfr)),
};

const struct conf_schema dns_catalog_schema = {
	.name = "dns.catalogs[]",
	.size = sizeof(struct dns_catalog_conf),
	.keys = dns_catalog_keys,
	.nkeys = ARRAY_SIZE(dns_catalog_keys),
	.fini = dns_catalog_conf_fini,
};

/* Index of the zone with apex among the first nzones of c (the
 * configured ones: a catalog is no member), or -1. */
static int
dns_catalog_zone_index(
    const struct dns_conf *c, size_t nzones, const uint8_t *apex)
{
	for (size_t i = 0; i < nzones; i++)
		if (c->zones[i].apex[0] != 0 &&
		    dns_name_equal(c->zones[i].apex, apex))
			return (int)i;
	return -1;
}

/* members into cat->member_apex; the count of errors. */
static unsigned
dns_catalog_check_members(struct conf_ctx *ctx, struct conf_node *node,
    const struct dns_conf *c, size_t nzones, struct dns_catalog_conf *cat,
    size_t k)
{
	struct conf_node *at = conf_item_node(node, "catalogs", k, "members");
	uint8_t apex[DNS_NAME_MAX];
	unsigned nerr = 0;
	int z;

	free(cat->member_apex);
	cat->member_apex =
	    xcalloc((cat->members.all ? nzones : cat->members.n) + 1,
	        sizeof(*cat->member_apex));
	cat->nmember_apex = 0;
	if (cat->members.all) {
		for (size_t i = 0; i < nzones; i++)
			if (c->zones[i].apex[0] != 0 &&
			    c->zones[i].file != NULL)
				memcpy(cat->member_apex[cat->nmember_apex++],
				    c->zones[i].apex, DNS_NAME_MAX);
		return 0;
	}
	for (size_t i = 0; i < cat->members.n; i++) {
		const char *m = cat->members.names[i];
		struct conf_node *it =
		    conf_node_item(at, i) != NULL ? conf_node_item(at, i) : at;

		if (dns_name_from_text(
		        apex, m, strlen(m), (const uint8_t *)"") < 0) {
			conf_error(ctx, it,
			    "catalog %s: member %s: not a valid domain name",
			    cat->name, m);
			nerr++;
			continue;
		}
		dns_name_lower(apex);
		if ((z = dns_catalog_zone_index(c, nzones, apex)) < 0) {
			conf_error(ctx, it,
			    "catalog %s: member %s: not a zone of dns.zones",
			    cat->name, m);
			nerr++;
			continue;
		}
		for (size_t j = 0; j < cat->nmember_apex; j++)
			if (dns_name_equal(cat->member_apex[j], apex)) {
				conf_error(ctx, it,
				    "catalog %s: member %s: listed twice",
				    cat->name, m);
				nerr++;
			}
		memcpy(
		    cat->member_apex[cat->nmember_apex++], apex, DNS_NAME_MAX);
	}
	return nerr;
}

/* The transfer keys, as dns_xfr_conf_check does for a zone, with the
 * errors at the catalog's own lines; the count of errors. */
static unsigned
dns_catalog_check_xfr(struct conf_ctx *ctx, struct conf_node *node,
    const struct dns_conf *c, const struct dns_catalog_conf *cat, size_t k)
{
	const struct dns_xfr_zone_conf *x = &cat->xfr;
	struct dns_xfr_prefix p;
	struct sockaddr_storage ss;
	unsigned nerr = 0;
	size_t j;

	for (j = 0; j < x->nallow_transfer; j++)
		if (dns_xfr_prefix_parse(&p, x->allow_transfer[j]) < 0) {
			conf_error(ctx,
			    conf_item_node(
			        node, "catalogs", k, "allow_transfer"),
			    "catalog %s: allow_transfer: '%s' is not an "
			    "address or prefix",
			    cat->name, x->allow_transfer[j]);
			nerr++;
		}
	for (j = 0; j < x->nnotify; j++)
		if (conf_parse_addr(x->notify[j], true, &ss) != 0) {
			conf_error(ctx,
			    conf_item_node(node, "catalogs", k, "notify"),
			    "catalog %s: notify: expected ip:port, got '%s'",
			    cat->name, x->notify[j]);
			nerr++;
		}
	if (x->transfer_key == NULL)
		return nerr;
	for (j = 0; j < c->ntsig_keys; j++)
		if (strcmp(c->tsig_keys[j].name, x->transfer_key) == 0)
			return nerr;
	conf_error(ctx, conf_item_node(node, "catalogs", k, "transfer_key"),
	    "catalog %s: transfer_key %s: not in dns.tsig_keys", cat->name,
	    x->transfer_key);
	return nerr + 1;
}

/* cat as one more zone of c, past the configured ones. Its strings are
 * copies: dns_conf_fini frees them, the catalog's own go with the
 * catalogs. */
static void
dns_catalog_append(struct dns_conf *c, const struct dns_catalog_conf *cat)
{
	struct dns_zone_item *z;

	c->zones = xrealloc(c->zones, (c->nzones + 1) * sizeof(*c->zones));
	z = &c->zones[c->nzones++];
	memset(z, 0, sizeof(*z));
	z->name = xstrdup(cat->name);
	/* Every scalar as bound (ixfr_*, transfer_tls_only...), then the
	 * owned strings copied and the not-bound fields left for
	 * dns_xfr_conf_check to fill. */
	z->xfr = cat->xfr;
	z->xfr.allow_transfer =
	    strv_dup(cat->xfr.allow_transfer, cat->xfr.nallow_transfer);
	z->xfr.notify = strv_dup(cat->xfr.notify, cat->xfr.nnotify);
	z->xfr.transfer_key = cat->xfr.transfer_key != NULL ?
	    xstrdup(cat->xfr.transfer_key) :
	    NULL;
	z->xfr.allow = NULL;
	z->xfr.notify_addr = NULL;
	z->xfr.key = NULL;
	memcpy(z->apex, cat->apex, sizeof(z->apex));
	z->catalog = cat;
}

void
dns_catalog_conf_check(
    struct conf_ctx *ctx, struct conf_node *node, struct dns_conf *c)
{
	/* Id label, "zones" and "group": what the longest owner adds. */
	const size_t extra = 1 + 2 * DNS_CATALOG_ID_BYTES + 6 + 6;
	size_t nzones = c->nzones;

	for (size_t k = 0; k < c->ncatalogs; k++) {
		struct dns_catalog_conf *cat = &c->catalogs[k];
		struct conf_node *at =
		    conf_item_node(node, "catalogs", k, "name");
		unsigned nerr = 0;

		if (dns_name_from_text(cat->apex, cat->name, strlen(cat->name),
		        (const uint8_t *)"") < 0) {
			conf_error(ctx, at,
			    "catalog %s: not a valid domain name", cat->name);
			continue;
		}
		dns_name_lower(cat->apex);
		if (dns_name_len(cat->apex) + extra > DNS_NAME_MAX) {
			conf_error(ctx, at,
			    "catalog %s: name too long for its member records",
			    cat->name);
			nerr++;
		}
		for (size_t i = 0; i < nzones; i++)
			if (dns_name_equal(c->zones[i].apex, cat->apex)) {
				conf_error(ctx, at,
				    "catalog %s: also a zone of dns.zones",
				    cat->name);
				nerr++;
			}
		for (size_t j = 0; j < k; j++)
			if (dns_name_equal(c->catalogs[j].apex, cat->apex)) {
				conf_error(ctx, at, "catalog %s: listed twice",
				    cat->name);
				nerr++;
			}
		if (cat->group != NULL &&
		    (cat->group[0] == '\0' ||
		        strlen(cat->group) > DNS_CATALOG_GROUP_MAX)) {
			conf_error(ctx,
			    conf_item_node(node, "catalogs", k, "group"),
			    "catalog %s: group: 1 to %d bytes", cat->name,
			    DNS_CATALOG_GROUP_MAX);
			nerr++;
		}
		nerr += dns_catalog_check_members(ctx, node, c, nzones, cat, k);
		nerr += dns_catalog_check_xfr(ctx, node, c, cat, k);
		/* Only a good catalog becomes a zone: the zones' own checks
		 * would report its faults again, at the dns: line. */
		if (nerr == 0)
			dns_catalog_append(c, cat);
	}
}
