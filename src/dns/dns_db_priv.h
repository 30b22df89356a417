/*
 * dns_db_priv.h - the layout of a finished dns_db, shared by dns_db.c
 * (which builds it) and dns_answer.c (which reads it on every query).
 * Nothing outside those files may include it.
 *
 * Layout (chosen for a million records): one arena holds every owner name
 * (folded to lower case) and every RDATA (as loaded, case kept); nodes are
 * the owner names, one per (zone, name), found through an open-addressing
 * hash whose slots keep the full hash so a probe touches a node only on a
 * likely hit; a node's RRsets are contiguous in sets[], sorted by type;
 * a set's records are contiguous in rdata[], which points into the arena.
 * After dns_db_finish: every ancestor of a node up to its apex is a node
 * too (empty non-terminals get one with no sets), so the closest encloser
 * of any name is found by stripping labels; node.u.cut names the topmost
 * zone cut at or above the node (or DNS_DB_NONE), except on a dynamic
 * node, which holds its provider id there instead (finish refuses a
 * dynamic name at or below a cut, so its cut is always NONE); a node with
 * a child "*" says so with DNS_DB_F_WILD, and the child is found through
 * the hash like any name. Nodes are 20 bytes: at a million names, every
 * field costs a megabyte per byte.
 */
#ifndef HAVEN_DNS_DB_PRIV_H
#define HAVEN_DNS_DB_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_db.h"

#define DNS_DB_NONE UINT32_MAX

#define DNS_DB_F_APEX  0x01 /* the zone's apex */
#define DNS_DB_F_CUT   0x02 /* NS below the apex: a delegation */
#define DNS_DB_F_DYN   0x04 /* A/AAAA/CNAME/ANY from the provider */
#define DNS_DB_F_DNAME 0x08 /* at or below a DNAME owner */
#define DNS_DB_F_WILD  0x10 /* "*.<this>" is a node */

struct dns_db_node {
	uint32_t name; /* arena offset: folded wire name */
	uint32_t zone; /* index into zones[] */
	uint32_t set;  /* first of nsets in sets[] */
	union {
		uint32_t cut; /* topmost cut node at or above, or NONE */
		uint32_t dyn; /* provider id when DNS_DB_F_DYN */
	} u;
	uint16_t nsets; /* 0: an empty non-terminal (or dynamic only) */
	uint8_t flags;  /* DNS_DB_F_* */
	uint8_t labels; /* of the name, root not counted */
};

struct dns_db_set {
	uint32_t rd; /* first of count in rdata[] */
	uint32_t count;
	uint32_t ttl;
	uint16_t type;
};

struct dns_db_zone {
	uint32_t apex;    /* arena offset: folded wire name */
	uint32_t node;    /* the apex node */
	uint32_t soa;     /* index into sets[] */
	uint32_t neg_ttl; /* min(SOA TTL, MINIMUM): RFC 2308 §3 */
	uint32_t serial;
	uint8_t labels; /* of the apex */
	bool pending;   /* a secondary zone without a usable copy */
};

/* Hash slot: node + 1 (0: empty) and the key's hash. */
struct dns_db_slot {
	uint32_t hash;
	uint32_t node;
};

/* Build-time record, sorted and grouped into sets by finish. */
struct dns_db_rec {
	uint32_t node;
	uint32_t rd; /* arena offset */
	uint32_t ttl;
	uint16_t type;
	uint16_t rdlen;
};

struct dns_db {
	uint8_t *arena; /* owned */
	size_t alen, acap;
	struct dns_db_zone *zones; /* owned */
	unsigned nzones, zcap;
	uint32_t *ztab; /* owned: zone index + 1 by apex hash; 0 empty */
	uint32_t zmask;
	uint8_t zlab_min, zlab_max; /* apex label counts served */
	struct dns_db_node *nodes;  /* owned */
	uint32_t nnodes, ncap;
	struct dns_db_slot *tab; /* owned: nodes by (zone, name) */
	uint32_t tmask;
	struct dns_db_rec *recs; /* owned; freed by finish */
	size_t nrecs, rcap;
	struct dns_db_set *sets; /* owned */
	uint32_t nsets;
	struct dns_rdata *rdata; /* owned; data borrowed from arena */
	size_t nrdata;
	bool finished;
};

/* Hash of a folded wire name in zone. */
uint32_t dns_db_hash(const uint8_t *lname, uint32_t zone);

/* The node of folded name lname in zone, or DNS_DB_NONE. */
uint32_t dns_db_lookup(
    const struct dns_db *db, uint32_t zone, const uint8_t *lname);

/* The node of folded lname in zone, created (build time only). */
uint32_t dns_db_node_get(
    struct dns_db *db, uint32_t zone, const uint8_t *lname);

/* The zone whose apex is the longest suffix of folded lname, or -1. */
int dns_db_zone_of(const struct dns_db *db, const uint8_t *lname);

/* The topmost cut at or above n, or DNS_DB_NONE. */
static inline uint32_t
dns_db_node_cut(const struct dns_db_node *n)
{
	return (n->flags & DNS_DB_F_DYN) ? DNS_DB_NONE : n->u.cut;
}

/* The set of type at node, or NULL. */
static inline const struct dns_db_set *
dns_db_node_set(
    const struct dns_db *db, const struct dns_db_node *n, uint16_t type)
{
	const struct dns_db_set *s = db->sets + n->set, *e = s + n->nsets;

	for (; s < e; s++)
		if (s->type == type)
			return s;
	return NULL;
}

static inline const uint8_t *
dns_db_node_name(const struct dns_db *db, const struct dns_db_node *n)
{
	return db->arena + n->name;
}

/* Fill an rrset for writing from set, with owner. */
static inline void
dns_db_rrset(const struct dns_db *db, const struct dns_db_set *s,
    const uint8_t *owner, struct dns_rrset *out)
{
	out->owner = owner;
	out->type = s->type;
	out->rclass = 1; /* IN */
	out->ttl = s->ttl;
	out->count = s->count;
	out->rdata = db->rdata + s->rd;
}

#endif
