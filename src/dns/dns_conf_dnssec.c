/*
 * dns_conf_dnssec.c - a zone's `dnssec:` section: its keys, read and
 * checked when the config is bound, and the rules that make a key set
 * one a validator can follow through a rollover.
 *
 *   dnssec: {key_file: example.com.pem}        # one combined key (CSK)
 *   dnssec:
 *     keys:
 *       - {file: ksk.pem, role: ksk}            # signs the DNSKEY RRset
 *       - {file: zsk-1.pem, role: zsk}          # signs everything else
 *       - {file: zsk-2.pem, role: zsk, active: false}   # only published
 *
 * Every key listed is published in the apex DNSKEY RRset; active ones
 * sign. Exactly one active key signs the data (a ZSK or a CSK): a
 * pre-publish rollover (RFC 6781 §4.1.1.1) lists the next key inactive
 * until its DNSKEY has been out for the DNSKEY TTL, then swaps which is
 * active, then drops the old one once its signatures have expired from
 * caches. Any number of active KSKs or CSKs sign the DNSKEY RRset, which
 * is the double-DS rollover of a KSK (§4.1.2): both sign while the
 * parent's DS moves from one to the other.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_conf.h"
#include "dns/dns_key.h"
#include "lib/conf.h"
#include "lib/util.h"

static const char *const dns_conf_role_names[] = { "csk", "ksk", "zsk", NULL };

static const struct conf_key dns_conf_dnssec_key_keys[] = {
	{ .name = "file",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_dnssec_key_conf, file),
	    .flags = CK_REQUIRED,
	    .help = "ECDSA P-256 private key in PEM (DNSSEC algorithm 13), "
	            "relative to the config's directory" },
	{ .name = "role",
	    .type = CT_ENUM,
	    .off = offsetof(struct dns_dnssec_key_conf, role),
	    .dflt = "csk",
	    .enum_names = dns_conf_role_names,
	    .help = "csk signs everything, ksk the DNSKEY RRset, zsk the "
	            "rest" },
	{ .name = "active",
	    .type = CT_BOOL,
	    .off = offsetof(struct dns_dnssec_key_conf, active),
	    .dflt = "true",
	    .help = "signs; false: only published (a rollover's next or "
	            "last key)" },
};

static const struct conf_schema dns_conf_dnssec_key_schema = {
	.name = "dns.zones[].dnssec.keys[]",
	.size = sizeof(struct dns_dnssec_key_conf),
	.keys = dns_conf_dnssec_key_keys,
	.nkeys = ARRAY_SIZE(dns_conf_dnssec_key_keys),
};

static const struct conf_key dns_conf_dnssec_keys[] = {
	{ .name = "key_file",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_dnssec_conf, key_file),
	    .help = "one combined key (CSK): ECDSA P-256 private key in PEM "
	            "(DNSSEC algorithm 13), relative to the config's "
	            "directory; or keys" },
	{ .name = "keys",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_dnssec_conf, keys),
	    .count_off = offsetof(struct dns_dnssec_conf, nkeys),
	    .sub = &dns_conf_dnssec_key_schema,
	    .help = "the zone's keys by role, for rollovers; or key_file" },
};

const struct conf_schema dns_conf_dnssec_schema = {
	.name = "dns.zones[].dnssec",
	.size = sizeof(struct dns_dnssec_conf),
	.keys = dns_conf_dnssec_keys,
	.nkeys = ARRAY_SIZE(dns_conf_dnssec_keys),
};

void
dns_conf_dnssec_fini(struct dns_zone_item *z)
{
	for (size_t i = 0; i < z->nkeys; i++) {
		struct dns_zone_key *k = &z->keys[i];

		if (k->pem != NULL)
			explicit_bzero(k->pem, k->pem_len);
		free(k->pem);
		free(k->path);
	}
	free(z->keys);
	z->keys = NULL;
	z->nkeys = 0;
}

/* The node of key j's file, or the closest that exists. */
static struct conf_node *
dns_conf_dnssec_node(
    struct conf_node *at, const struct dns_dnssec_conf *d, size_t j)
{
	struct conf_node *seq, *item;

	if (d->key_file != NULL)
		return conf_key_node(at, "key_file") != NULL ?
		    conf_key_node(at, "key_file") :
		    at;
	if ((seq = conf_key_node(at, "keys")) == NULL || !conf_node_is_seq(seq))
		return at;
	if ((item = conf_node_item(seq, j)) == NULL)
		return seq;
	return conf_key_node(item, "file") != NULL ?
	    conf_key_node(item, "file") :
	    item;
}

/*
 * Read key k's file and check it is a key we sign with, into *pk (the
 * caller finishes it). Returns 0; 1 when the text is not at hand (a
 * worker's reload, see dns_conf_key_inherit); -1 after an error.
 */
static int
dns_conf_dnssec_read(struct conf_ctx *ctx, struct conf_node *n,
    const struct dns_zone_item *z, struct dns_zone_key *k, struct dns_key *pk)
{
	char err[512];
	int rc;

	rc = dns_conf_read_file(k->path, &k->pem, &k->pem_len);
	/* A dns worker binds each config again, as root only the first
	 * time: on a reload it may not read a key only root may, which the
	 * parent has read and checked already. The worker keeps the key it
	 * has (dns_conf_key_inherit). */
	if ((rc == -EACCES || rc == -EPERM) &&
	    (conf_ctx_flags(ctx) & CONF_BIND_CHECKED))
		return 1;
	if (rc != 0) {
		conf_error(ctx, n, "zone %s: dnssec: cannot read %s: %s",
		    z->name, k->path, strerror(-rc));
		return -1;
	}
	if (dns_key_parse(pk, k->pem, k->pem_len, k->path, err, sizeof(err)) !=
	    0) {
		conf_error(ctx, n, "zone %s: dnssec: %s", z->name, err);
		return -1;
	}
	return 0;
}

/* The roles' rules over z's bound keys (see the top of the file). */
static void
dns_conf_dnssec_rules(
    struct conf_ctx *ctx, struct conf_node *at, const struct dns_zone_item *z)
{
	const struct dns_dnssec_conf *d = &z->dnssec;
	size_t j, data = z->nkeys, nkeys = 0;

	for (j = 0; j < z->nkeys; j++) {
		if (z->keys[j].signs_keys)
			nkeys++;
		if (!z->keys[j].signs_data)
			continue;
		if (data == z->nkeys) {
			data = j;
			continue;
		}
		conf_error(ctx, dns_conf_dnssec_node(at, d, j),
		    "zone %s: dnssec: %s and %s are both active and would "
		    "both sign the data; a rollover publishes the next key "
		    "with active: false for a DNSKEY TTL first",
		    z->name, d->keys[data].file, d->keys[j].file);
	}
	if (data == z->nkeys)
		conf_error(ctx, at,
		    "zone %s: dnssec: no active zsk or csk signs the data",
		    z->name);
	if (nkeys == 0)
		conf_error(ctx, at,
		    "zone %s: dnssec: no active ksk or csk signs the DNSKEY "
		    "RRset",
		    z->name);
}

void
dns_conf_dnssec_check(struct conf_ctx *ctx, struct conf_node *at, bool present,
    struct dns_zone_item *z, const char *base)
{
	const struct dns_dnssec_conf *d = &z->dnssec;
	struct dns_key pk[DNS_ZONE_KEYS_MAX];
	bool have[DNS_ZONE_KEYS_MAX] = { false };
	size_t n, j, i;

	dns_conf_dnssec_fini(z);
	if (!present)
		return;
	if (d->key_file != NULL && d->nkeys > 0) {
		conf_error(ctx, conf_key_node(at, "keys"),
		    "zone %s: dnssec: key_file (one combined key) or keys, "
		    "not both",
		    z->name);
		return;
	}
	if (d->key_file == NULL && d->nkeys == 0) {
		conf_error(ctx, at,
		    "zone %s: dnssec: key_file or keys is required", z->name);
		return;
	}
	if (dns_zone_item_secondary(z)) {
		conf_error(ctx, dns_conf_dnssec_node(at, d, 0),
		    "zone %s: dnssec: a secondary zone is signed by its "
		    "primary",
		    z->name);
		return;
	}
	if (d->nkeys > DNS_ZONE_KEYS_MAX) {
		conf_error(ctx, conf_key_node(at, "keys"),
		    "zone %s: dnssec: at most %d keys", z->name,
		    DNS_ZONE_KEYS_MAX);
		return;
	}
	n = d->key_file != NULL ? 1 : d->nkeys;
	z->keys = xcalloc(n, sizeof(*z->keys));
	z->nkeys = n;
	for (j = 0; j < n; j++) {
		struct dns_zone_key *k = &z->keys[j];
		const char *file =
		    d->key_file != NULL ? d->key_file : d->keys[j].file;
		int role =
		    d->key_file != NULL ? DNS_KEY_ROLE_CSK : d->keys[j].role;
		bool active = d->key_file != NULL || d->keys[j].active;

		k->path = file[0] == '/' ? xstrdup(file) :
		                           xasprintf("%s/%s", base, file);
		k->flags = role == DNS_KEY_ROLE_ZSK ? DNS_KEY_FLAGS_ZSK :
		                                      DNS_KEY_FLAGS_CSK;
		k->signs_keys = active && role != DNS_KEY_ROLE_ZSK;
		k->signs_data = active && role != DNS_KEY_ROLE_KSK;
		have[j] =
		    dns_conf_dnssec_read(
		        ctx, dns_conf_dnssec_node(at, d, j), z, k, &pk[j]) == 0;
	}
	/* The same key twice would publish one DNSKEY as two roles. */
	for (j = 0; j < n; j++)
		for (i = 0; i < j && have[j]; i++)
			if (have[i] &&
			    memcmp(pk[i].rdata + 4, pk[j].rdata + 4,
			        DNS_KEY_PUB_LEN) == 0) {
				conf_error(ctx, dns_conf_dnssec_node(at, d, j),
				    "zone %s: dnssec: %s is the same key as %s",
				    z->name, z->keys[j].path, z->keys[i].path);
				break;
			}
	for (j = 0; j < n; j++)
		if (have[j])
			dns_key_fini(&pk[j]);
	dns_conf_dnssec_rules(ctx, at, z);
}

/* A key of c read from path, its text at hand; NULL when none. */
static const struct dns_zone_key *
dns_conf_key_find(const struct dns_conf *c, const char *path)
{
	for (size_t i = 0; i < c->nzones; i++)
		for (size_t k = 0; k < c->zones[i].nkeys; k++)
			if (c->zones[i].keys[k].pem != NULL &&
			    strcmp(c->zones[i].keys[k].path, path) == 0)
				return &c->zones[i].keys[k];
	return NULL;
}

void
dns_conf_key_inherit(struct dns_conf *next, const struct dns_conf *prev)
{
	for (size_t i = 0; i < next->nzones && prev != NULL; i++) {
		for (size_t k = 0; k < next->zones[i].nkeys; k++) {
			struct dns_zone_key *nk = &next->zones[i].keys[k];
			const struct dns_zone_key *pk;

			if (nk->pem != NULL ||
			    (pk = dns_conf_key_find(prev, nk->path)) == NULL)
				continue;
			nk->pem = xmalloc(pk->pem_len + 1);
			memcpy(nk->pem, pk->pem, pk->pem_len + 1);
			nk->pem_len = pk->pem_len;
		}
	}
}
