/*
 * dns_db_build.c - dns_db_finish: turns the records added into the
 * read-only tables dns_db_priv.h describes, and checks each zone. Pure:
 * no I/O, clock or globals.
 *
 * Steps, in this order because each needs the one before: sort the
 * records by (node, type, RDATA) so that an RRset is a run and a duplicate
 * sits next to its twin; group runs into sets (one TTL per set, the
 * lowest: RFC 2181 §5.2); add a node for every missing ancestor up to the
 * apex (empty non-terminals); point RDATA into the arena, which no longer
 * moves; visit nodes parents first to inherit zone cuts and link
 * wildcards; then check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_db_priv.h"
#include "dns/dns_rdata.h"
#include "lib/util.h"

static int
dns_db_rec_cmp(const void *a, const void *b, void *arg)
{
	const struct dns_db_rec *x = a, *y = b;
	const uint8_t *arena = arg;
	int c;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	c = memcmp(arena + x->rd, arena + y->rd, MIN(x->rdlen, y->rdlen));
	if (c != 0)
		return c;
	return (int)x->rdlen - (int)y->rdlen;
}

struct dns_db_errs {
	dns_db_err_fn *fn;
	void *arg;
	unsigned n;
};

static void
dns_db_report(const struct dns_db *db, struct dns_db_errs *e, uint32_t zone,
    const uint8_t *name, const char *what)
{
	char z[DNS_NAME_TEXT_MAX], n[DNS_NAME_TEXT_MAX],
	    msg[2 * DNS_NAME_TEXT_MAX + 64];

	e->n++;
	if (e->fn == NULL)
		return;
	/* "zone example.com: ..." as dns_db.h writes it: no root dot. */
	if (dns_name_to_text(db->arena + db->zones[zone].apex, z, sizeof(z)) >
	    1)
		z[strlen(z) - 1] = '\0';
	if (name != NULL) {
		dns_name_to_text(name, n, sizeof(n));
		snprintf(msg, sizeof(msg), "zone %s: %s: %s", z, n, what);
	} else {
		snprintf(msg, sizeof(msg), "zone %s: %s", z, what);
	}
	e->fn(msg, e->arg);
}

/* Group the sorted records into sets and rdata[] (offsets for now). */
static void
dns_db_group(struct dns_db *db)
{
	struct dns_db_set *s = NULL;
	struct dns_db_rec *r, *prev = NULL;
	size_t i;

	db->sets = xmalloc((db->nrecs + 1) * sizeof(*db->sets));
	db->rdata = xmalloc((db->nrecs + 1) * sizeof(*db->rdata));
	for (i = 0; i < db->nrecs; i++) {
		r = &db->recs[i];
		if (prev == NULL || prev->node != r->node ||
		    prev->type != r->type) {
			struct dns_db_node *n = &db->nodes[r->node];

			if (prev == NULL || prev->node != r->node)
				n->set = db->nsets;
			n->nsets++;
			s = &db->sets[db->nsets++];
			s->rd = (uint32_t)db->nrdata;
			s->count = 0;
			s->ttl = r->ttl;
			s->type = r->type;
		} else if (prev->rdlen == r->rdlen &&
		    memcmp(db->arena + prev->rd, db->arena + r->rd, r->rdlen) ==
		        0) {
			continue; /* RFC 2181 §5: a set has no duplicates */
		}
		if (r->ttl < s->ttl)
			s->ttl = r->ttl;
		db->rdata[db->nrdata].data = (const uint8_t *)(uintptr_t)r->rd;
		db->rdata[db->nrdata].len = r->rdlen;
		db->nrdata++;
		s->count++;
		prev = r;
	}
}

/* Give every name's missing ancestors a node, up to the apex. */
static void
dns_db_fill_ents(struct dns_db *db)
{
	uint8_t name[DNS_NAME_MAX];
	uint32_t i, zl;

	/* nnodes grows while we go; new nodes are visited too. */
	for (i = 0; i < db->nnodes; i++) {
		const uint8_t *p;

		if (db->nodes[i].flags & DNS_DB_F_APEX)
			continue;
		zl = db->zones[db->nodes[i].zone].labels;
		/* Copy: node_get may move the arena. */
		memcpy(name, db->arena + db->nodes[i].name,
		    dns_name_len(db->arena + db->nodes[i].name));
		p = name + 1 + name[0];
		if (db->nodes[i].labels - 1u < zl)
			continue;
		if (dns_db_lookup(db, db->nodes[i].zone, p) == DNS_DB_NONE)
			dns_db_node_get(db, db->nodes[i].zone, p);
	}
}

static uint32_t
dns_db_parent(const struct dns_db *db, const struct dns_db_node *n)
{
	const uint8_t *name = db->arena + n->name;

	return dns_db_lookup(db, n->zone, name + 1 + name[0]);
}

/* Nodes parents first: a counting sort by label count. */
static uint32_t *
dns_db_depth_order(const struct dns_db *db)
{
	uint32_t count[DNS_NAME_MAX / 2 + 2] = { 0 }, *order, i, sum = 0, c;

	order = xmalloc(((size_t)db->nnodes + 1) * sizeof(*order));
	for (i = 0; i < db->nnodes; i++)
		count[db->nodes[i].labels]++;
	for (i = 0; i < ARRAY_SIZE(count); i++) {
		c = count[i];
		count[i] = sum;
		sum += c;
	}
	for (i = 0; i < db->nnodes; i++)
		order[count[db->nodes[i].labels]++] = i;
	return order;
}

static void
dns_db_link(struct dns_db *db, struct dns_db_errs *e)
{
	uint32_t *order = dns_db_depth_order(db), i, k, p, cut;

	for (k = 0; k < db->nnodes; k++) {
		struct dns_db_node *n = &db->nodes[i = order[k]], *pn;
		const uint8_t *name = db->arena + n->name;
		bool is_cut;

		if (dns_db_node_set(db, n, DNS_TYPE_DNAME) != NULL)
			n->flags |= DNS_DB_F_DNAME;
		if (n->flags & DNS_DB_F_APEX)
			continue;
		p = dns_db_parent(db, n);
		pn = &db->nodes[p];
		is_cut = dns_db_node_set(db, n, DNS_TYPE_NS) != NULL;
		if (is_cut)
			n->flags |= DNS_DB_F_CUT;
		cut = dns_db_node_cut(pn) != DNS_DB_NONE ? dns_db_node_cut(pn) :
		    is_cut                               ? i :
		                                           DNS_DB_NONE;
		if (!(n->flags & DNS_DB_F_DYN))
			n->u.cut = cut;
		else if (cut != DNS_DB_NONE)
			dns_db_report(db, e, n->zone, name,
			    "dynamic name at or below a zone cut");
		if (pn->flags & DNS_DB_F_DNAME) {
			if (n->nsets > 0 || (n->flags & DNS_DB_F_DYN))
				dns_db_report(db, e, n->zone, name,
				    "data below a DNAME (RFC 6672 §2.3)");
			n->flags |= DNS_DB_F_DNAME;
		}
		if (name[0] == 1 && name[1] == '*')
			pn->flags |= DNS_DB_F_WILD;
	}
	free(order);
}

/*
 * The names the answer engine reads out of RDATA (to follow, to find
 * additional data, to compress, to sign in canonical form) must be
 * well-formed, whoever fed them: the zone parser, a transfer, a journal.
 */
static void
dns_db_check_rdata(const struct dns_db *db, struct dns_db_errs *e,
    const struct dns_db_node *n, const struct dns_db_set *s)
{
	const struct dns_rdata_shape *sh;
	size_t at[DNS_RDATA_NAMES_MAX], i;

	if ((sh = dns_rdata_shape(s->type, DNS_RDATA_ANY)) == NULL)
		return;
	for (i = 0; i < s->count; i++) {
		const struct dns_rdata *rd = &db->rdata[s->rd + i];

		if (dns_rdata_names(sh, rd->data, rd->len, at) < 0) {
			dns_db_report(db, e, n->zone, db->arena + n->name,
			    "malformed RDATA");
			return;
		}
	}
}

static void
dns_db_check_node(
    struct dns_db *db, struct dns_db_errs *e, const struct dns_db_node *n)
{
	const uint8_t *name = db->arena + n->name;
	const struct dns_db_set *cn = dns_db_node_set(db, n, DNS_TYPE_CNAME);
	unsigned j, other = 0;

	if (!(n->flags & DNS_DB_F_APEX) &&
	    dns_db_node_set(db, n, DNS_TYPE_SOA) != NULL)
		dns_db_report(db, e, n->zone, name, "SOA not at the apex");
	for (j = 0; j < n->nsets; j++)
		dns_db_check_rdata(db, e, n, &db->sets[n->set + j]);
	if (cn == NULL)
		return;
	for (j = 0; j < n->nsets; j++) {
		uint16_t t = db->sets[n->set + j].type;

		if (t != DNS_TYPE_CNAME && t != DNS_TYPE_RRSIG &&
		    t != DNS_TYPE_NSEC)
			other++;
	}
	if (other > 0)
		dns_db_report(db, e, n->zone, name,
		    "CNAME and other data (RFC 2181 §10.1)");
	if (cn->count > 1)
		dns_db_report(db, e, n->zone, name, "more than one CNAME");
	if (n->flags & DNS_DB_F_DYN)
		dns_db_report(db, e, n->zone, name, "CNAME at a dynamic name");
}

static void
dns_db_check_zone(struct dns_db *db, struct dns_db_errs *e, uint32_t zi)
{
	struct dns_db_zone *z = &db->zones[zi];
	const struct dns_db_node *n = &db->nodes[z->node];
	const struct dns_db_set *soa = dns_db_node_set(db, n, DNS_TYPE_SOA);
	const struct dns_rdata *rd;
	uint32_t minimum;
	int l1, l2;

	if (dns_db_node_set(db, n, DNS_TYPE_NS) == NULL)
		dns_db_report(db, e, zi, NULL, "no NS at the apex");
	if (soa == NULL) {
		dns_db_report(db, e, zi, NULL, "no SOA at the apex");
		return;
	}
	if (soa->count != 1) {
		dns_db_report(db, e, zi, NULL, "more than one SOA");
		return;
	}
	rd = &db->rdata[soa->rd];
	if ((l1 = dns_name_check(rd->data, rd->len)) < 0 ||
	    (l2 = dns_name_check(rd->data + l1, rd->len - (size_t)l1)) < 0 ||
	    (size_t)l1 + (size_t)l2 + 20 != rd->len) {
		dns_db_report(db, e, zi, NULL, "malformed SOA RDATA");
		return;
	}
	rd = &db->rdata[soa->rd];
	z->soa = (uint32_t)(soa - db->sets);
	{
		const uint8_t *p = rd->data + l1 + l2;

		z->serial = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3];
		minimum = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 |
		    (uint32_t)p[18] << 8 | p[19];
	}
	z->neg_ttl = MIN(soa->ttl, minimum);
}

int
dns_db_finish(struct dns_db *db, dns_db_err_fn *err, void *arg)
{
	struct dns_db_errs e = { err, arg, 0 };
	size_t i;

	if (db->finished)
		return -EINVAL;
	db->finished = true;
	/* No records at all: a db of pending zones only (dns-sec). */
	if (db->nrecs > 0)
		qsort_r(db->recs, db->nrecs, sizeof(*db->recs), dns_db_rec_cmp,
		    db->arena);
	dns_db_group(db);
	free(db->recs);
	db->recs = NULL;
	db->nrecs = db->rcap = 0;
	dns_db_fill_ents(db);
	/* The arena stops growing here: shrink it before pointing in. */
	db->arena = xrealloc(db->arena, db->alen + 1);
	db->acap = db->alen + 1;
	for (i = 0; i < db->nrdata; i++)
		db->rdata[i].data = db->arena + (uintptr_t)db->rdata[i].data;
	dns_db_link(db, &e);
	for (i = 0; i < db->nnodes; i++)
		dns_db_check_node(db, &e, &db->nodes[i]);
	for (i = 0; i < db->nzones; i++)
		if (!db->zones[i].pending)
			dns_db_check_zone(db, &e, (uint32_t)i);
	/* Give back what growth by doubling over-allocated. */
	db->sets = xrealloc(db->sets, (db->nsets + 1) * sizeof(*db->sets));
	db->rdata = xrealloc(db->rdata, (db->nrdata + 1) * sizeof(*db->rdata));
	db->nodes = xrealloc(db->nodes, (db->nnodes + 1) * sizeof(*db->nodes));
	db->ncap = db->nnodes + 1;
	return e.n > 0 ? -EINVAL : 0;
}
