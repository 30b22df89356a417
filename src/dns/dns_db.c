/*
 * dns_db.c - zone tables: building them (zone_begin, add_rr, add_dyn),
 * lookups the answer engine uses per query, the AXFR walk and stats. The
 * finish step (grouping, empty non-terminals, cuts, checks) is in
 * dns_db_build.c. Pure: no I/O, clock or globals.
 *
 * Invariants: names in the arena are folded to lower case; a node is
 * unique per (zone, name), which tab[] guarantees at insert time; arena
 * offsets, not pointers, are held until finish, since the arena moves
 * while it grows; after finish nothing moves or changes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_db_priv.h"
#include "lib/util.h"

uint32_t
dns_db_hash(const uint8_t *lname, uint32_t zone)
{
	/* Eight octets at a time (names are short, and this runs twice per
	 * query), each word mixed in by a multiply and a fold; the length
	 * and zone seed it. Byte order does not matter: the table lives
	 * and dies in one process. */
	size_t n = dns_name_len(lname), i;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)zone << 32 | n), w;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, lname + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (i < n) {
		w = 0;
		memcpy(&w, lname + i, n - i);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	h ^= h >> 29;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

/* Two folded names equal; reads neither past its own end, as a memcmp
 * of one's length would when the other is shorter. */
static inline bool
dns_db_name_eq(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return false;
		if (*a == 0)
			return true;
		if (memcmp(a + 1, b + 1, *a) != 0)
			return false;
		a += 1 + *a;
		b += 1 + *b;
	}
}

struct dns_db *
dns_db_new(void)
{
	struct dns_db *db = xcalloc(1, sizeof(*db));

	db->zmask = 7;
	db->ztab = xcalloc(db->zmask + 1, sizeof(*db->ztab));
	db->tmask = 1023;
	db->tab = xcalloc(db->tmask + 1, sizeof(*db->tab));
	return db;
}

void
dns_db_free(struct dns_db *db)
{
	if (db == NULL)
		return;
	free(db->arena);
	free(db->zones);
	free(db->ztab);
	free(db->nodes);
	free(db->tab);
	free(db->recs);
	free(db->sets);
	free(db->rdata);
	free(db);
}

/* Copy n bytes into the arena; returns their offset. */
static uint32_t
dns_db_arena_put(struct dns_db *db, const void *p, size_t n)
{
	uint32_t off;

	if (db->alen + n > db->acap) {
		size_t cap = db->acap ? db->acap : 4096;

		while (cap < db->alen + n)
			cap *= 2;
		db->arena = xrealloc(db->arena, cap);
		db->acap = cap;
	}
	off = (uint32_t)db->alen;
	if (n > 0)
		memcpy(db->arena + off, p, n);
	db->alen += n;
	return off;
}

/* Fold src into dst; returns the length. */
static size_t
dns_db_fold(uint8_t dst[DNS_NAME_MAX], const uint8_t *src)
{
	size_t n = dns_name_len(src);

	memcpy(dst, src, n);
	dns_name_lower(dst);
	return n;
}

static int
dns_db_zone_probe(const struct dns_db *db, const uint8_t *lname)
{
	uint32_t i = dns_db_hash(lname, 0) & db->zmask, z;

	while ((z = db->ztab[i]) != 0) {
		const uint8_t *a = db->arena + db->zones[z - 1].apex;

		if (dns_db_name_eq(a, lname))
			return (int)(z - 1);
		i = (i + 1) & db->zmask;
	}
	return -1;
}

static void
dns_db_zone_index(struct dns_db *db, unsigned z)
{
	uint32_t i = dns_db_hash(db->arena + db->zones[z].apex, 0) & db->zmask;

	while (db->ztab[i] != 0)
		i = (i + 1) & db->zmask;
	db->ztab[i] = z + 1;
}

uint32_t
dns_db_lookup(const struct dns_db *db, uint32_t zone, const uint8_t *lname)
{
	uint32_t h = dns_db_hash(lname, zone), i = h & db->tmask;
	const struct dns_db_slot *s;

	for (;; i = (i + 1) & db->tmask) {
		s = &db->tab[i];
		if (s->node == 0)
			return DNS_DB_NONE;
		if (s->hash == h) {
			const struct dns_db_node *n = &db->nodes[s->node - 1];
			const uint8_t *a = db->arena + n->name;

			if (n->zone == zone && dns_db_name_eq(a, lname))
				return s->node - 1;
		}
	}
}

int
dns_db_zone_of(const struct dns_db *db, const uint8_t *lname)
{
	unsigned labels = dns_name_labels(lname);
	int z;

	/* Only suffixes as long as some apex can match. */
	for (; labels > db->zlab_max; labels--)
		lname += 1 + *lname;
	for (;; labels--) {
		if (labels < db->zlab_min)
			return -1;
		if ((z = dns_db_zone_probe(db, lname)) >= 0)
			return z;
		if (*lname == 0)
			return -1;
		lname += 1 + *lname;
	}
}

static void
dns_db_tab_insert(struct dns_db *db, uint32_t node, uint32_t h)
{
	uint32_t i = h & db->tmask;

	while (db->tab[i].node != 0)
		i = (i + 1) & db->tmask;
	db->tab[i].hash = h;
	db->tab[i].node = node + 1;
}

/* Keep the table at most half full, for short probes. */
static void
dns_db_tab_grow(struct dns_db *db)
{
	struct dns_db_slot *old = db->tab;
	uint32_t omask = db->tmask, i;

	if ((db->nnodes + 1) * 2 <= db->tmask + 1)
		return;
	db->tmask = omask * 2 + 1;
	db->tab = xcalloc((size_t)db->tmask + 1, sizeof(*db->tab));
	for (i = 0; i <= omask; i++)
		if (old[i].node != 0)
			dns_db_tab_insert(db, old[i].node - 1, old[i].hash);
	free(old);
}

uint32_t
dns_db_node_get(struct dns_db *db, uint32_t zone, const uint8_t *lname)
{
	uint32_t n = dns_db_lookup(db, zone, lname);
	struct dns_db_node *nd;

	if (n != DNS_DB_NONE)
		return n;
	dns_db_tab_grow(db);
	if (db->nnodes == db->ncap) {
		db->ncap = db->ncap ? db->ncap * 2 : 256;
		db->nodes = xrealloc(db->nodes, db->ncap * sizeof(*db->nodes));
	}
	n = db->nnodes++;
	nd = &db->nodes[n];
	memset(nd, 0, sizeof(*nd));
	nd->name = dns_db_arena_put(db, lname, dns_name_len(lname));
	nd->zone = zone;
	nd->u.cut = DNS_DB_NONE;
	nd->labels = (uint8_t)dns_name_labels(lname);
	dns_db_tab_insert(db, n, dns_db_hash(lname, zone));
	return n;
}

int
dns_db_zone_begin(struct dns_db *db, const uint8_t *apex)
{
	uint8_t l[DNS_NAME_MAX];
	struct dns_db_zone *z;
	unsigned i, labels;

	if (db->finished)
		return -EINVAL;
	if (dns_name_check(apex, DNS_NAME_MAX) < 0)
		return -EINVAL;
	dns_db_fold(l, apex);
	if (dns_db_zone_probe(db, l) >= 0)
		return -EEXIST;
	if (db->nzones == db->zcap) {
		db->zcap = db->zcap ? db->zcap * 2 : 4;
		db->zones = xrealloc(db->zones, db->zcap * sizeof(*db->zones));
	}
	i = db->nzones++;
	z = &db->zones[i];
	memset(z, 0, sizeof(*z));
	z->soa = DNS_DB_NONE;
	z->node = dns_db_node_get(db, i, l);
	z->apex = db->nodes[z->node].name;
	db->nodes[z->node].flags |= DNS_DB_F_APEX;
	labels = dns_name_labels(l);
	z->labels = (uint8_t)labels;
	if (i == 0 || labels < db->zlab_min)
		db->zlab_min = (uint8_t)labels;
	if (i == 0 || labels > db->zlab_max)
		db->zlab_max = (uint8_t)labels;
	if (db->nzones * 2 > db->zmask + 1) {
		unsigned j;

		db->zmask = db->zmask * 2 + 1;
		free(db->ztab);
		db->ztab = xcalloc(db->zmask + 1, sizeof(*db->ztab));
		for (j = 0; j < db->nzones; j++)
			dns_db_zone_index(db, j);
	} else {
		dns_db_zone_index(db, i);
	}
	return (int)i;
}

/* Fold owner into l after checking it belongs to zone. */
static int
dns_db_owner(const struct dns_db *db, unsigned zone, const uint8_t *owner,
    uint8_t l[DNS_NAME_MAX])
{
	if (db->finished || zone >= db->nzones)
		return -EINVAL;
	if (dns_name_check(owner, DNS_NAME_MAX) < 0)
		return -EINVAL;
	dns_db_fold(l, owner);
	if (!dns_name_is_sub(l, db->arena + db->zones[zone].apex))
		return -EDOM;
	return 0;
}

int
dns_db_add_rr(struct dns_db *db, unsigned zone, const uint8_t *owner,
    uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	uint8_t l[DNS_NAME_MAX];
	struct dns_db_rec *r;
	uint32_t n;
	int rc;

	if ((rc = dns_db_owner(db, zone, owner, l)) < 0)
		return rc;
	if (db->zones[zone].pending)
		return -EBUSY;
	/* Meta types are never data (RFC 6895 §3.1). */
	if (type == DNS_TYPE_OPT || type == DNS_TYPE_TSIG || type == 0 ||
	    (type >= 128 && type <= 255))
		return -EINVAL;
	/* Offsets are 32-bit: refuse before they would wrap. */
	if (db->alen + rdlen + DNS_NAME_MAX >= UINT32_MAX)
		return -ENOMEM;
	n = dns_db_node_get(db, zone, l);
	if (db->nrecs == db->rcap) {
		db->rcap = db->rcap ? db->rcap * 2 : 1024;
		db->recs = xrealloc(db->recs, db->rcap * sizeof(*db->recs));
	}
	r = &db->recs[db->nrecs++];
	r->node = n;
	r->type = type;
	r->ttl = ttl;
	r->rdlen = rdlen;
	r->rd = dns_db_arena_put(db, rdata, rdlen);
	return 0;
}

int
dns_db_add_dyn(
    struct dns_db *db, unsigned zone, const uint8_t *name, uint32_t id)
{
	uint8_t l[DNS_NAME_MAX];
	uint32_t n;
	int rc;

	if ((rc = dns_db_owner(db, zone, name, l)) < 0)
		return rc;
	n = dns_db_node_get(db, zone, l);
	if (db->nodes[n].flags & DNS_DB_F_DYN)
		return -EEXIST;
	db->nodes[n].flags |= DNS_DB_F_DYN;
	db->nodes[n].u.dyn = id;
	return 0;
}

unsigned
dns_db_nzones(const struct dns_db *db)
{
	return db->nzones;
}

const uint8_t *
dns_db_zone_apex(const struct dns_db *db, unsigned zone)
{
	if (zone >= db->nzones)
		return NULL;
	return db->arena + db->zones[zone].apex;
}

int
dns_db_zone_pending(struct dns_db *db, unsigned zone)
{
	if (db->finished || zone >= db->nzones)
		return -EINVAL;
	for (size_t i = 0; i < db->nrecs; i++)
		if (db->nodes[db->recs[i].node].zone == zone)
			return -EBUSY;
	db->zones[zone].pending = true;
	return 0;
}

bool
dns_db_zone_is_pending(const struct dns_db *db, unsigned zone)
{
	return zone < db->nzones && db->zones[zone].pending;
}

uint32_t
dns_db_zone_serial(const struct dns_db *db, unsigned zone)
{
	if (zone >= db->nzones)
		return 0;
	return db->zones[zone].serial;
}

int
dns_db_zone_find(const struct dns_db *db, const uint8_t *apex)
{
	uint8_t l[DNS_NAME_MAX];
	int z;

	if (dns_name_check(apex, DNS_NAME_MAX) < 0)
		return -ENOENT;
	dns_db_fold(l, apex);
	z = dns_db_zone_probe(db, l);
	return z < 0 ? -ENOENT : z;
}

static int
dns_db_walk_cmp(const void *a, const void *b, void *arg)
{
	const struct dns_db *db = arg;
	const struct dns_db_node *x = &db->nodes[*(const uint32_t *)a];
	const struct dns_db_node *y = &db->nodes[*(const uint32_t *)b];

	return dns_name_cmp_canon(db->arena + x->name, db->arena + y->name);
}

int
dns_db_zone_walk(
    const struct dns_db *db, unsigned zone, dns_db_walk_fn *fn, void *arg)
{
	const struct dns_db_zone *z;
	struct dns_rrset set;
	uint32_t *order, n = 0, i, j;
	int rc = 0;

	if (!db->finished || zone >= db->nzones)
		return -EINVAL;
	z = &db->zones[zone];
	if (z->soa == DNS_DB_NONE)
		return -EINVAL; /* its finish failed */
	dns_db_rrset(db, &db->sets[z->soa], db->arena + z->apex, &set);
	if ((rc = fn(&set, arg)) < 0)
		return rc;
	order = xmalloc(((size_t)db->nnodes + 1) * sizeof(*order));
	for (i = 0; i < db->nnodes; i++)
		if (db->nodes[i].zone == zone && db->nodes[i].nsets > 0)
			order[n++] = i;
	qsort_r(order, n, sizeof(*order), dns_db_walk_cmp, (void *)db);
	for (i = 0; i < n && rc == 0; i++) {
		const struct dns_db_node *nd = &db->nodes[order[i]];

		for (j = 0; j < nd->nsets && rc == 0; j++) {
			const struct dns_db_set *s = &db->sets[nd->set + j];

			if (s->type == DNS_TYPE_SOA && order[i] == z->node)
				continue;
			dns_db_rrset(db, s, db->arena + nd->name, &set);
			rc = fn(&set, arg);
		}
	}
	free(order);
	return rc;
}

void
dns_db_stats(const struct dns_db *db, struct dns_db_stats *st)
{
	uint32_t i;

	memset(st, 0, sizeof(*st));
	st->zones = db->nzones;
	for (i = 0; i < db->nnodes; i++)
		if (db->nodes[i].nsets > 0)
			st->names++;
	st->rrsets = db->nsets;
	st->records = db->finished ? db->nrdata : db->nrecs;
	st->bytes = sizeof(*db) + db->acap + db->zcap * sizeof(*db->zones) +
	    ((size_t)db->zmask + 1) * sizeof(*db->ztab) +
	    (size_t)db->ncap * sizeof(*db->nodes) +
	    ((size_t)db->tmask + 1) * sizeof(*db->tab) +
	    db->rcap * sizeof(*db->recs) + db->nsets * sizeof(*db->sets) +
	    db->nrdata * sizeof(*db->rdata);
}
