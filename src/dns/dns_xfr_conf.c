/*
 * dns_xfr_conf.c - the schema of dns.tsig_keys[] and the check of the
 * transfer keys of each zone (dns_xfr_conf.h). Keys are decoded once here,
 * so the workers never see base64; a zone's transfer_key is resolved to a
 * pointer into the same config's key list, valid as long as the config.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_conf.h"
#include "dns/dns_xfr_conf.h"
#include "lib/util.h"

#define DNS_XFR_JOURNAL_MIN 1024u /* bytes: one small step */

static const struct conf_key dns_xfr_key_keys[] = {
	{ .name = "name",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_tsig_key_item, name),
	    .flags = CK_REQUIRED,
	    .help = "the key's name, as the peers know it" },
	{ .name = "algorithm",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_tsig_key_item, algorithm),
	    .dflt = "hmac-sha256",
	    .help = "hmac-sha256 (the only one supported)" },
	{ .name = "secret",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_tsig_key_item, secret),
	    .flags = CK_REQUIRED | CK_SECRET,
	    .help = "the shared secret, base64" },
};

const struct conf_schema dns_xfr_key_schema = {
	.name = "dns.tsig_keys[]",
	.size = sizeof(struct dns_tsig_key_item),
	.keys = dns_xfr_key_keys,
	.nkeys = ARRAY_SIZE(dns_xfr_key_keys),
};

static int
dns_xfr_conf_b64val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int
dns_xfr_conf_base64(const char *text, uint8_t *out, size_t size)
{
	size_t n = 0, len = strlen(text), i, pad = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	int v;

	while (len > 0 && text[len - 1] == '=') {
		len--;
		pad++;
	}
	if (pad > 2 || (len + pad) % 4 != 0 || len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if ((v = dns_xfr_conf_b64val(text[i])) < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == size)
				return -EINVAL;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Bits left over must be zero (canonical encoding). */
	if ((acc & ((1u << bits) - 1)) != 0)
		return -EINVAL;
	return (int)n;
}

static struct conf_node *
dns_xfr_conf_node(
    struct conf_node *node, const char *list, size_t i, const char *key)
{
	struct conf_node *seq = conf_key_node(node, list), *item;

	if (!conf_node_is_seq(seq) || (item = conf_node_item(seq, i)) == NULL)
		return node;
	if (key == NULL || conf_key_node(item, key) == NULL)
		return item;
	return conf_key_node(item, key);
}

void
dns_xfr_conf_zone_fini(struct dns_xfr_zone_conf *z)
{
	free(z->allow);
	free(z->notify_addr);
	z->allow = NULL;
	z->notify_addr = NULL;
	z->key = NULL;
}

void
dns_xfr_conf_check(
    struct conf_ctx *ctx, struct conf_node *node, struct dns_conf *c)
{
	uint8_t secret[DNS_TSIG_SECRET_MAX];
	size_t i, j;
	int n, rc;

	for (i = 0; i < c->ntsig_keys; i++) {
		struct dns_tsig_key_item *k = &c->tsig_keys[i];

		n = dns_xfr_conf_base64(k->secret, secret, sizeof(secret));
		if (n <= 0) {
			conf_error(ctx,
			    dns_xfr_conf_node(node, "tsig_keys", i, "secret"),
			    "tsig key %s: secret: not base64 of 1..%d bytes",
			    k->name, DNS_TSIG_SECRET_MAX);
			continue;
		}
		rc = dns_tsig_key_init(
		    &k->key, k->name, k->algorithm, secret, (size_t)n);
		if (rc == -ENOTSUP)
			conf_error(ctx,
			    dns_xfr_conf_node(
			        node, "tsig_keys", i, "algorithm"),
			    "tsig key %s: algorithm %s: only hmac-sha256",
			    k->name, k->algorithm);
		else if (rc < 0)
			conf_error(ctx,
			    dns_xfr_conf_node(node, "tsig_keys", i, "name"),
			    "tsig key %s: not a valid domain name", k->name);
		for (j = 0; j < i && rc == 0; j++)
			if (dns_name_equal(
			        c->tsig_keys[j].key.name, k->key.name))
				conf_error(ctx,
				    dns_xfr_conf_node(
				        node, "tsig_keys", i, "name"),
				    "tsig key %s: listed twice", k->name);
		explicit_bzero(secret, sizeof(secret));
	}
	for (i = 0; i < c->nzones; i++) {
		struct dns_zone_item *zi = &c->zones[i];
		struct dns_xfr_zone_conf *z = &zi->xfr;

		dns_xfr_conf_zone_fini(z);
		z->allow = xcalloc(z->nallow_transfer + 1, sizeof(*z->allow));
		for (j = 0; j < z->nallow_transfer; j++)
			if (dns_xfr_prefix_parse(
			        &z->allow[j], z->allow_transfer[j]) < 0)
				conf_error(ctx,
				    dns_xfr_conf_node(
				        node, "zones", i, "allow_transfer"),
				    "zone %s: allow_transfer: '%s' is not an "
				    "address or prefix",
				    zi->name, z->allow_transfer[j]);
		z->notify_addr =
		    xcalloc(z->nnotify + 1, sizeof(*z->notify_addr));
		for (j = 0; j < z->nnotify; j++)
			if (conf_parse_addr(
			        z->notify[j], true, &z->notify_addr[j]) != 0)
				conf_error(ctx,
				    dns_xfr_conf_node(
				        node, "zones", i, "notify"),
				    "zone %s: notify: expected ip:port, got "
				    "'%s'",
				    zi->name, z->notify[j]);
		/* A bound no step fits in keeps nothing while looking on:
		 * say how to turn the journal off instead. */
		if (z->ixfr_versions > 0 &&
		    z->ixfr_journal_size < DNS_XFR_JOURNAL_MIN)
			conf_error(ctx,
			    dns_xfr_conf_node(
			        node, "zones", i, "ixfr_journal_size"),
			    "zone %s: ixfr_journal_size: under %u bytes keeps "
			    "no change; set ixfr_versions: 0 to turn the "
			    "journal off",
			    zi->name, DNS_XFR_JOURNAL_MIN);
		if (z->transfer_key == NULL)
			continue;
		for (j = 0; j < c->ntsig_keys; j++)
			if (strcmp(c->tsig_keys[j].name, z->transfer_key) == 0)
				break;
		if (j == c->ntsig_keys)
			conf_error(ctx,
			    dns_xfr_conf_node(node, "zones", i, "transfer_key"),
			    "zone %s: transfer_key %s: not in dns.tsig_keys",
			    zi->name, z->transfer_key);
		else
			z->key = &c->tsig_keys[j].key;
	}
}
