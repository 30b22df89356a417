/*
 * dns_ixfr.c - a worker's IXFR journals (dns_ixfr.h): one per served
 * zone whose journal is on, matched to the config by apex on every
 * update, so a reload that keeps a zone keeps its history.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_ixfr.h"
#include "dns/dns_sec_copy.h" /* dns_sec_copy_name: the file names */
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/statefile.h"
#include "lib/util.h"

struct dns_ixfr {
	unsigned worker;
	char *dir;              /* owned: <state_dir>/dns-journal, or NULL */
	struct dns_journal **j; /* owned: nj journals */
	size_t nj;
	uint64_t appended;      /* steps added by a reload */
	uint64_t cleared;       /* serial went back, or a gap */
	uint64_t loaded;        /* journals read back from disk */
	uint64_t load_rejected; /* corrupt or truncated files */
	uint64_t load_stale;    /* files ending at another serial */
	uint64_t save_failed;
};

struct dns_ixfr *
dns_ixfr_new(unsigned worker)
{
	struct dns_ixfr *ix = xcalloc(1, sizeof(*ix));

	ix->worker = worker;
	return ix;
}

void
dns_ixfr_free(struct dns_ixfr *ix)
{
	if (ix == NULL)
		return;
	for (size_t i = 0; i < ix->nj; i++)
		dns_journal_free(ix->j[i]);
	free(ix->j);
	free(ix->dir);
	free(ix);
}

void
dns_ixfr_set_dir(struct dns_ixfr *ix, const char *state_dir)
{
	free(ix->dir);
	ix->dir = NULL;
	if (state_dir != NULL && state_dir[0] != '\0')
		ix->dir = xasprintf("%s/%s", state_dir, DNS_IXFR_DIR);
}

const struct dns_journal *
dns_ixfr_journal(const struct dns_ixfr *ix, const uint8_t *apex)
{
	for (size_t i = 0; ix != NULL && i < ix->nj; i++)
		if (dns_name_equal(ix->j[i]->apex, apex))
			return ix->j[i];
	return NULL;
}

static void
dns_ixfr_zone_text(const uint8_t *apex, char *out, size_t size)
{
	if (dns_name_to_text(apex, out, size) < 0)
		snprintf(out, size, "?");
}

/* Worker 0 writes j's file; the others only read. */
static void
dns_ixfr_save(struct dns_ixfr *ix, const struct dns_journal *j)
{
	char name[DNS_SEC_FILE_MAX], zone[DNS_NAME_TEXT_MAX];
	struct buf b;
	int rc;

	if (ix->worker != 0 || ix->dir == NULL)
		return;
	dns_sec_copy_name(j->apex, ".ixfr", name, sizeof(name));
	buf_init(&b);
	dns_journal_encode(j, &b);
	if ((rc = statefile_mkdir(ix->dir)) == 0)
		rc = statefile_write(ix->dir, name, b.data, b.len);
	buf_fini(&b);
	if (rc == 0)
		return;
	ix->save_failed++;
	dns_ixfr_zone_text(j->apex, zone, sizeof(zone));
	log_warn("dns ixfr journal not saved", "zone=%s dir=%s err=%s",
	    log_q(zone), log_q(ix->dir), log_q(strerror(-rc)));
}

/* Read j's file, if any; keep it only if it ends at serial. */
static void
dns_ixfr_load(struct dns_ixfr *ix, struct dns_journal *j, uint32_t serial)
{
	char name[DNS_SEC_FILE_MAX], zone[DNS_NAME_TEXT_MAX];
	struct buf b;
	int rc;

	if (ix->dir == NULL)
		return;
	dns_sec_copy_name(j->apex, ".ixfr", name, sizeof(name));
	dns_ixfr_zone_text(j->apex, zone, sizeof(zone));
	buf_init(&b);
	rc = statefile_read(ix->dir, name, &b);
	if (rc == 0)
		rc = dns_journal_decode(j, (const uint8_t *)b.data, b.len);
	buf_fini(&b);
	if (rc == -ENOENT)
		return;
	if (rc < 0) {
		ix->load_rejected++;
		log_warn("dns ixfr journal rejected: full transfers until "
		         "the next change",
		    "zone=%s worker=%u err=%s", log_q(zone), ix->worker,
		    log_q(strerror(-rc)));
		return;
	}
	if (j->n > 0 && !dns_journal_ends_at(j, serial)) {
		/* The zone changed while we were down: what happened in
		 * between is unknown, so no step can be served. */
		ix->load_stale++;
		log_info("dns ixfr journal stale", "zone=%s serial=%u last=%u",
		    log_q(zone), serial, j->v[j->n - 1].to);
		dns_journal_clear(j);
		return;
	}
	ix->loaded++;
}

/* The step from the zone's old version to its new one, if it went up. */
static void
dns_ixfr_step(struct dns_ixfr *ix, struct dns_journal *j,
    const struct dns_db *odb, const struct dns_db *ndb, unsigned nzone)
{
	char zone[DNS_NAME_TEXT_MAX];
	struct dns_diff d;
	uint32_t from, to;
	int oz;

	oz = odb != NULL ? dns_db_zone_find(odb, j->apex) : -ENOENT;
	if (oz < 0 || dns_db_zone_is_pending(odb, (unsigned)oz))
		return;
	from = dns_db_zone_serial(odb, (unsigned)oz);
	to = dns_db_zone_serial(ndb, nzone);
	if (from == to)
		return;
	dns_ixfr_zone_text(j->apex, zone, sizeof(zone));
	if ((int32_t)(to - from) < 0 ||
	    dns_diff_zones(odb, (unsigned)oz, ndb, nzone, &d) < 0) {
		/* RFC 1982: a serial that went back starts a new history. */
		ix->cleared++;
		log_info("dns ixfr journal cleared", "zone=%s from=%u to=%u",
		    log_q(zone), from, to);
		dns_journal_clear(j);
		dns_ixfr_save(ix, j);
		return;
	}
	log_info("dns ixfr journal step",
	    "zone=%s from=%u to=%u deleted=%zu added=%zu", log_q(zone), from,
	    to, d.del.n, d.add.n);
	if (dns_journal_append(j, &d) == 0)
		ix->appended++;
	dns_ixfr_save(ix, j);
}

/* The serial a journal read from disk must end at: the version being
 * replaced if there is one, else the one about to be served. */
static uint32_t
dns_ixfr_base(const struct dns_db *odb, const struct dns_db *ndb, int z)
{
	const uint8_t *apex = dns_db_zone_apex(ndb, (unsigned)z);
	int oz = odb != NULL ? dns_db_zone_find(odb, apex) : -ENOENT;

	if (oz >= 0 && !dns_db_zone_is_pending(odb, (unsigned)oz))
		return dns_db_zone_serial(odb, (unsigned)oz);
	return dns_db_zone_serial(ndb, (unsigned)z);
}

void
dns_ixfr_update(struct dns_ixfr *ix, const struct dns_conf *c,
    const struct dns_srv_zones *old, struct dns_srv_zones *nz)
{
	struct dns_journal **nj = xcalloc(c->nzones + 1, sizeof(*nj));
	const struct dns_db *odb = old != NULL ? old->db : NULL;
	size_t n = 0;

	for (size_t i = 0; i < c->nzones; i++) {
		const struct dns_zone_item *zi = &c->zones[i];
		const struct dns_xfr_zone_conf *x = &zi->xfr;
		struct dns_journal *j = NULL;
		int z = dns_db_zone_find(nz->db, zi->apex);
		bool fresh = false;

		/* A zone nobody may transfer needs no journal: the diff
		 * costs a walk and a sort of both versions per reload. */
		if (x->ixfr_versions == 0 || z < 0 ||
		    (x->nallow_transfer == 0 && x->key == NULL) ||
		    dns_db_zone_is_pending(nz->db, (unsigned)z))
			continue;
		for (size_t k = 0; k < ix->nj; k++)
			if (ix->j[k] != NULL &&
			    dns_name_equal(ix->j[k]->apex, zi->apex)) {
				j = ix->j[k];
				ix->j[k] = NULL;
				break;
			}
		if (j == NULL) {
			j = dns_journal_new(
			    zi->apex, x->ixfr_versions, x->ixfr_journal_size);
			fresh = true;
		}
		dns_journal_set_bounds(
		    j, x->ixfr_versions, x->ixfr_journal_size);
		if (fresh)
			dns_ixfr_load(ix, j, dns_ixfr_base(odb, nz->db, z));
		dns_ixfr_step(ix, j, odb, nz->db, (unsigned)z);
		nj[n++] = j;
	}
	for (size_t k = 0; k < ix->nj; k++)
		dns_journal_free(ix->j[k]);
	free(ix->j);
	ix->j = nj;
	ix->nj = n;
	nz->ixfr = ix;
}

void
dns_ixfr_metrics(const struct dns_ixfr *ix, struct buf *out)
{
	uint64_t versions = 0, bytes = 0;
	static const struct dns_ixfr zero;

	if (ix == NULL)
		ix = &zero;
	for (size_t i = 0; i < ix->nj; i++) {
		versions += ix->j[i]->n;
		bytes += ix->j[i]->bytes;
	}
	mx_family(out, "haven_dns_ixfr_journal_steps", "gauge",
	    "serial changes held in IXFR journals, all zones");
	mx_u64(out, "haven_dns_ixfr_journal_steps", NULL, versions);
	mx_family(out, "haven_dns_ixfr_journal_bytes", "gauge",
	    "bytes of changes held in IXFR journals, all zones");
	mx_u64(out, "haven_dns_ixfr_journal_bytes", NULL, bytes);
	mx_family(out, "haven_dns_ixfr_journal_events_total", "counter",
	    "IXFR journal events, by kind");
	mx_u64(out, "haven_dns_ixfr_journal_events_total", "event=\"appended\"",
	    ix->appended);
	mx_u64(out, "haven_dns_ixfr_journal_events_total", "event=\"cleared\"",
	    ix->cleared);
	mx_u64(out, "haven_dns_ixfr_journal_events_total", "event=\"loaded\"",
	    ix->loaded);
	mx_u64(out, "haven_dns_ixfr_journal_events_total",
	    "event=\"load_rejected\"", ix->load_rejected);
	mx_u64(out, "haven_dns_ixfr_journal_events_total",
	    "event=\"load_stale\"", ix->load_stale);
	mx_u64(out, "haven_dns_ixfr_journal_events_total",
	    "event=\"save_failed\"", ix->save_failed);
}
