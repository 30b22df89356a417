/*
 * dns_load.c - build the tables a dns worker answers from (dns_db.h) out
 * of a dns section: every zone file parsed again (the check hook parsed
 * them when the config was bound, but a file may have changed since, and
 * the db wants the records), then each GSLB name marked dynamic in the
 * deepest served zone that holds it, with id = its index in gslb.names.
 *
 * All or nothing: on any error the new tables are freed and the caller
 * keeps serving the ones it has, so a reload with a broken zone file
 * changes nothing.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/dns_catalog.h"
#include "dns/dns_sec.h" /* dns-sec */
#include "dns/dns_sign.h"
#include "dns/dns_srv.h"
#include "lib/util.h"

#define DNS_LOAD_DNSKEY_TTL 3600 /* seconds */

struct dns_srv_zones *
dns_srv_zones_ref(struct dns_srv_zones *z)
{
	if (z != NULL)
		z->refs++;
	return z;
}

void
dns_srv_zones_unref(struct dns_srv_zones *z)
{
	if (z == NULL || --z->refs > 0)
		return;
	dns_sign_free(z->sign);
	dns_db_free(z->db);
	free(z->records);
	free(z->sec);
	free(z);
}

struct dns_load_ctx {
	struct dns_db *db;
	unsigned zone;
	struct conf_errors *errs;
	unsigned nerr;
	size_t *records;            /* owned until handed to the zones */
	struct dns_load_keys *keys; /* owned: per zone */
	struct dns_sec_info *sec;   /* owned until handed to the zones */
};

static int
dns_load_rr(const struct dns_zone_rr *rr, void *arg)
{
	struct dns_load_ctx *l = arg;
	int rc;

	rc = dns_db_add_rr(
	    l->db, l->zone, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen);
	if (rc != 0) {
		conf_errors_addf(l->errs, rr->file, (int)rr->line, 1,
		    "record not loaded: %s", strerror(-rc));
		l->nerr++;
	}
	l->records[l->zone]++;
	return 0;
}

/* The first pass of a catalog: its records are only hashed. */
static int
dns_load_count(const struct dns_zone_rr *rr, void *arg)
{
	(void)rr;
	(void)arg;
	return 0;
}

static void
dns_load_err(const char *text, void *arg)
{
	struct dns_load_ctx *l = arg;
	char file[PATH_MAX];
	const char *msg;
	int line, col;

	dns_conf_split_err(text, file, sizeof(file), &line, &col, &msg);
	conf_errors_addf(
	    l->errs, file[0] != '\0' ? file : "dns", line, col, "%s", msg);
	l->nerr++;
}

static void
dns_load_db_err(const char *msg, void *arg)
{
	struct dns_load_ctx *l = arg;

	conf_errors_addf(l->errs, "dns", 0, 0, "%s", msg);
	l->nerr++;
}

_Static_assert(
    DNS_ZONE_KEYS_MAX <= DNS_SIGN_KEYS_MAX, "a zone's keys all fit its signer");

/* A zone's keys, parsed, until the signer takes the active ones. */
struct dns_load_keys {
	struct dns_key k[DNS_ZONE_KEYS_MAX];
	unsigned uses[DNS_ZONE_KEYS_MAX]; /* DNS_SIGN_*; 0: published only */
	unsigned n;
};

/*
 * A signed zone: its keys as read when the config was bound, every one
 * published in the apex DNSKEY RRset, cached an hour: the TTL a
 * rollover waits out between its steps.
 */
static void
dns_load_keys(struct dns_load_ctx *l, const struct dns_zone_item *zi, size_t i)
{
	struct dns_load_keys *lk = &l->keys[i];
	char err[512];
	int rc;

	for (size_t j = 0; j < zi->nkeys; j++) {
		const struct dns_zone_key *zk = &zi->keys[j];
		struct dns_key *k = &lk->k[lk->n];

		if (zk->pem == NULL) {
			conf_errors_addf(l->errs, "dns", 0, 0,
			    "zone %s: dnssec: %s is not readable by the dns "
			    "workers and was not loaded before: restart haven "
			    "to load it",
			    zi->name, zk->path);
			l->nerr++;
			continue;
		}
		if (dns_key_parse(k, zk->pem, zk->pem_len, zk->path, err,
		        sizeof(err)) != 0) {
			conf_errors_addf(l->errs, "dns", 0, 0,
			    "zone %s: dnssec: %s", zi->name, err);
			l->nerr++;
			continue;
		}
		dns_key_set_flags(k, zk->flags);
		lk->uses[lk->n] = (zk->signs_data ? DNS_SIGN_DATA : 0) |
		    (zk->signs_keys ? DNS_SIGN_DNSKEY : 0);
		lk->n++;
		rc = dns_db_add_rr(l->db, l->zone, zi->apex, DNS_TYPE_DNSKEY,
		    DNS_LOAD_DNSKEY_TTL, k->rdata, sizeof(k->rdata));
		if (rc != 0) {
			conf_errors_addf(l->errs, "dns", 0, 0,
			    "zone %s: dnssec: DNSKEY not added: %s", zi->name,
			    strerror(-rc));
			l->nerr++;
		}
	}
}

/* Finish every key l still holds. */
static void
dns_load_keys_free(struct dns_load_ctx *l, size_t nzones)
{
	for (size_t i = 0; i < nzones; i++)
		for (unsigned j = 0; j < l->keys[i].n; j++)
			dns_key_fini(&l->keys[i].k[j]);
	free(l->keys);
	l->keys = NULL;
}

/* The signer of the finished db, holding the active keys; NULL without
 * any. The keys only published are finished. */
static struct dns_sign *
dns_load_signer(struct dns_load_ctx *l, size_t nzones)
{
	struct dns_db_stats st;
	struct dns_sign *s = NULL;

	dns_db_stats(l->db, &st);
	for (size_t i = 0; i < nzones; i++) {
		for (unsigned j = 0; j < l->keys[i].n; j++) {
			if (l->keys[i].uses[j] == 0)
				continue;
			if (s == NULL)
				s = dns_sign_new(
				    (unsigned)nzones, (uint32_t)st.rrsets);
			dns_sign_add_key(s, (unsigned)i, &l->keys[i].k[j],
			    l->keys[i].uses[j]);
		}
	}
	dns_load_keys_free(l, nzones);
	return s;
}

/*
 * A catalog zone (dns_catalog.h): built once to learn the digest of its
 * records, which picks the serial, then again with that serial into the
 * db. Pure but for the serial's file, so twice costs nothing worth a
 * buffer.
 */
static void
dns_load_catalog(
    struct dns_load_ctx *l, const struct dns_zone_item *zi, const char *cat_dir)
{
	uint8_t digest[DNS_CATALOG_DIGEST_BYTES];
	uint32_t serial;
	int rc;

	rc = dns_catalog_build(zi->catalog, 0, dns_load_count, l, digest);
	if (rc == 0) {
		serial = dns_catalog_serial(
		    cat_dir, zi->apex, digest, (uint64_t)time(NULL));
		rc = dns_catalog_build(
		    zi->catalog, serial, dns_load_rr, l, NULL);
	}
	if (rc != 0) {
		conf_errors_addf(l->errs, "dns", 0, 0,
		    "catalog %s: not built: %s", zi->name, strerror(-rc));
		l->nerr++;
	}
}

/* Index of the deepest zone of c holding name, or -1. */
static int
dns_load_zone_of(const struct dns_conf *c, const uint8_t *name)
{
	int best = -1;
	unsigned best_labels = 0;

	for (size_t i = 0; i < c->nzones; i++) {
		const uint8_t *apex = c->zones[i].apex;
		unsigned n;

		if (apex[0] == 0 && c->zones[i].name[0] != '.')
			continue;
		if (!dns_name_is_sub(name, apex))
			continue;
		n = dns_name_labels(apex);
		if (best == -1 || n > best_labels) {
			best = (int)i;
			best_labels = n;
		}
	}
	return best;
}

int
dns_load_build(const struct dns_conf *c, const char *sec_dir,
    const char *cat_dir, bool sec_strict, struct dns_srv_zones **out,
    struct conf_errors *errs)
{
	struct dns_load_ctx l = { .errs = errs };
	int rc, z;

	*out = NULL;
	l.db = dns_db_new();
	l.records = xcalloc(c->nzones + 1, sizeof(*l.records));
	l.sec = xcalloc(c->nzones + 1, sizeof(*l.sec));
	l.keys = xcalloc(c->nzones + 1, sizeof(*l.keys));
	for (size_t i = 0; i < c->nzones; i++) {
		const struct dns_zone_item *zi = &c->zones[i];

		rc = dns_db_zone_begin(l.db, zi->apex);
		if (rc < 0) {
			conf_errors_addf(errs, "dns", 0, 0,
			    "zone %s: cannot be served: %s", zi->name,
			    strerror(-rc));
			l.nerr++;
			continue;
		}
		if ((unsigned)rc != i)
			fatal("dns_db zone index %d for zone %zu", rc, i);
		l.zone = (unsigned)rc;
		if (dns_zone_item_secondary(zi)) { /* dns-sec */
			rc = dns_sec_load_zone(
			    l.db, l.zone, zi, sec_dir, sec_strict, &l.sec[i]);
			if (rc != 0) {
				conf_errors_addf(errs, "dns", 0, 0,
				    "zone %s: saved copy not loaded: %s",
				    zi->name, strerror(-rc));
				l.nerr++;
			}
			l.records[i] = l.sec[i].records;
			continue;
		}
		if (zi->catalog != NULL) {
			dns_load_catalog(&l, zi, cat_dir);
			continue;
		}
		if (dns_conf_zone_parse(zi, dns_load_rr, dns_load_err, &l) !=
		        0 &&
		    l.nerr == 0)
			l.nerr++;
		dns_load_keys(&l, zi, i);
	}
	for (size_t i = 0; i < c->gslb.nnames && l.nerr == 0; i++) {
		const struct dns_gname_conf *g = &c->gslb.names[i];

		if ((z = dns_load_zone_of(c, g->wire)) < 0) {
			conf_errors_addf(errs, "dns", 0, 0,
			    "name %s: not inside any zone", g->name);
			l.nerr++;
			continue;
		}
		rc = dns_db_add_dyn(l.db, (unsigned)z, g->wire, (uint32_t)i);
		if (rc != 0) {
			conf_errors_addf(errs, "dns", 0, 0,
			    "name %s: cannot be made dynamic: %s", g->name,
			    strerror(-rc));
			l.nerr++;
		}
	}
	if (l.nerr == 0 && dns_db_finish(l.db, dns_load_db_err, &l) != 0 &&
	    l.nerr == 0) {
		conf_errors_addf(errs, "dns", 0, 0, "zone tables not built");
		l.nerr++;
	}
	if (l.nerr > 0) {
		dns_load_keys_free(&l, c->nzones);
		dns_db_free(l.db);
		free(l.records);
		free(l.sec);
		return -EINVAL;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->sign = dns_load_signer(&l, c->nzones);
	(*out)->db = l.db;
	(*out)->records = l.records;
	(*out)->sec = l.sec;
	(*out)->refs = 1;
	/*
	 * The build's staging (the records as added, the sort's arrays)
	 * was freed by dns_db_finish, but glibc keeps freed heap; on a
	 * zone of a million records that is most of the worker's resident
	 * memory. Hand it back once, here, where a load has just ended.
	 */
	(void)malloc_trim(0);
	return 0;
}
