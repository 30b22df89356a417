/*
 * dns_answer_sec.c - the DNSSEC part of the answer engine (dns_answer.h):
 * RRSIGs beside the RRsets of an answer to a query with DO, compact
 * denial (dns_nsec.h), wildcard and referral proofs, and the answers to
 * queries for the types NSEC and RRSIG. Pure like dns_answer.c, but for
 * the signer's caches (dns_sign.h), which a query may fill.
 */
#include <string.h>

#include "dns/dns_answer_priv.h"
#include "dns/dns_db_priv.h"
#include "dns/dns_nsec.h"

/*
 * Append set to sec and, when signing zone, its RRSIG right after it.
 * lname is the folded name the data is stored at (what is signed), sidx
 * its db set index or DNS_SIGN_NONE for data made for this query,
 * orig_ttl its TTL as loaded. Returns what dns_resp_add does: the set
 * and its RRSIG go in together or not at all. A signing failure (counted
 * by the signer) leaves the set unsigned: a validator then fails it, as
 * it would a SERVFAIL.
 */
/*
 * Append the RRSIGs of set (arguments as dns_answer_sec_put's) to sec:
 * one, or one per key signing the DNSKEY RRset. Alone, in answer, they
 * are what a query for type RRSIG gets (RRSIGs are not signed). Returns what
 * dns_resp_add does; a signature that cannot be made is left out
 * (counted by the signer): a validator then fails the set, as it would
 * a SERVFAIL.
 */
static int
dns_answer_sec_sigs(struct dns_ans *a, enum dns_section sec, int zone,
    const struct dns_rrset *set, bool required, const uint8_t *lname,
    uint32_t sidx, uint32_t orig_ttl)
{
	const struct dns_db *db = a->db;
	unsigned i, n = dns_sign_count(a->sign, zone, set->type);
	uint8_t rd[DNS_RRSIG_MAX];
	struct dns_rdata sr;
	struct dns_rrset sig;
	int len, rc = 0;

	sig.owner = set->owner;
	sig.type = DNS_TYPE_RRSIG;
	sig.rclass = DNS_CLASS_IN;
	sig.ttl = set->ttl;
	sig.count = 1;
	sig.rdata = &sr;
	for (i = 0; i < n && rc >= 0; i++) {
		len = dns_sign_rrsig(a->sign, zone,
		    db->arena + db->zones[zone].apex, sidx, lname, set,
		    orig_ttl, a->now, i, rd);
		if (len < 0)
			continue;
		sr.data = rd;
		sr.len = (uint16_t)len;
		rc = dns_resp_add(&a->r, sec, &sig, required);
	}
	return rc;
}

/*
 * Append set to sec and, when signing zone, its RRSIGs right after it.
 * lname is the folded name the data is stored at (what is signed), sidx
 * its db set index or DNS_SIGN_NONE for data made for this query,
 * orig_ttl its TTL as loaded. Returns what dns_resp_add does: the set
 * and its RRSIGs go in together or not at all.
 */
int
dns_answer_sec_put(struct dns_ans *a, enum dns_section sec, int zone,
    const struct dns_rrset *set, bool required, const uint8_t *lname,
    uint32_t sidx, uint32_t orig_ttl)
{
	struct dns_resp_mark m;
	int rc;

	dns_resp_mark(&a->r, &m);
	rc = dns_resp_add(&a->r, sec, set, required);
	if (rc < 0 || !dns_answer_signing(a, zone))
		return rc;
	/* A set whose RRSIGs do not fit goes too: with TC, a resolver
	 * asks again over TCP rather than see data it cannot validate. */
	if ((rc = dns_answer_sec_sigs(
	         a, sec, zone, set, required, lname, sidx, orig_ttl)) < 0)
		dns_resp_rollback(&a->r, &m);
	return rc;
}

/* A static set s of the db at node n, written with owner. */
int
dns_answer_sec_put_set(struct dns_ans *a, enum dns_section sec, int zone,
    const struct dns_db_node *n, const struct dns_db_set *s,
    const uint8_t *owner, struct dns_rrset *set)
{
	const struct dns_db *db = a->db;

	dns_db_rrset(db, s, owner, set);
	return dns_answer_sec_put(a, sec, zone, set, true, db->arena + n->name,
	    (uint32_t)(s - db->sets), s->ttl);
}

/* The NSEC set at owner (rd: DNS_NSEC_MAX bytes, r: its one record). */
static void
dns_answer_sec_nsec_set(struct dns_ans *a, int zone, const uint8_t *owner,
    const uint8_t *next, uint16_t *types, unsigned ntypes, uint8_t *rd,
    struct dns_rdata *r, struct dns_rrset *set)
{
	types[ntypes++] = DNS_TYPE_RRSIG;
	types[ntypes++] = DNS_TYPE_NSEC;
	r->data = rd;
	r->len = (uint16_t)dns_nsec_rdata(next, types, ntypes, rd);
	set->owner = owner;
	set->type = DNS_TYPE_NSEC;
	set->rclass = DNS_CLASS_IN;
	set->ttl = a->db->zones[zone].neg_ttl;
	set->count = 1;
	set->rdata = r;
}

/*
 * A signed NSEC in authority: at owner (lname folded), next name next,
 * the ntypes types plus RRSIG and NSEC, with the negative TTL (RFC 9077).
 */
static void
dns_answer_sec_nsec_in(struct dns_ans *a, enum dns_section sec, int zone,
    const uint8_t *owner, const uint8_t *lname, const uint8_t *next,
    uint16_t *types, unsigned ntypes)
{
	uint8_t rd[DNS_NSEC_MAX];
	struct dns_rdata r;
	struct dns_rrset set;

	dns_answer_sec_nsec_set(
	    a, zone, owner, next, types, ntypes, rd, &r, &set);
	dns_answer_sec_put(
	    a, sec, zone, &set, true, lname, DNS_SIGN_NONE, set.ttl);
}

/* For a query for type RRSIG: the RRSIG of the NSEC at the name. */
static void
dns_answer_sec_nsec_sig(struct dns_ans *a, int zone, const uint8_t *owner,
    const uint8_t *lname, const uint8_t *next, uint16_t *types, unsigned ntypes)
{
	uint8_t rd[DNS_NSEC_MAX];
	struct dns_rdata r;
	struct dns_rrset set;

	dns_answer_sec_nsec_set(
	    a, zone, owner, next, types, ntypes, rd, &r, &set);
	(void)dns_answer_sec_sigs(
	    a, DNS_SEC_ANSWER, zone, &set, true, lname, DNS_SIGN_NONE, set.ttl);
}

static void
dns_answer_sec_nsec(struct dns_ans *a, int zone, const uint8_t *owner,
    const uint8_t *lname, const uint8_t *next, uint16_t *types, unsigned ntypes)
{
	dns_answer_sec_nsec_in(
	    a, DNS_SEC_AUTHORITY, zone, owner, lname, next, types, ntypes);
}

/*
 * The types node n has, as its NSEC says (types: room for
 * DNS_NSEC_TYPES_MAX - 2): at a delegation only the parent's NS and DS
 * (RFC 4035 §2.3); a dynamic name may answer A and AAAA. skip (the type
 * a NODATA denies) is left out: a provider may have nothing for it now.
 */
static unsigned
dns_answer_sec_types(const struct dns_ans *a, const struct dns_db_node *n,
    uint16_t skip, uint16_t *types)
{
	const struct dns_db_set *s = a->db->sets + n->set;
	unsigned nt = 0, i;

	for (i = 0; i < n->nsets && nt < DNS_NSEC_TYPES_MAX - 4; i++) {
		if ((n->flags & DNS_DB_F_CUT) && s[i].type != DNS_TYPE_NS &&
		    s[i].type != DNS_TYPE_DS)
			continue;
		if (s[i].type != skip)
			types[nt++] = s[i].type;
	}
	if (n->flags & DNS_DB_F_DYN) {
		if (skip != DNS_TYPE_A)
			types[nt++] = DNS_TYPE_A;
		if (skip != DNS_TYPE_AAAA)
			types[nt++] = DNS_TYPE_AAAA;
	}
	return nt;
}

/*
 * The negative answer for owner in zone: the SOA and, when signing, the
 * compact denial (dns_nsec.h): an NSEC at owner with the types of its
 * node n, or with NXNAME when there is no node. A query for type NSEC
 * gets that NSEC as its answer instead.
 */
void
dns_answer_sec_neg(struct dns_ans *a, int zone, const struct dns_db_node *n,
    const uint8_t *owner)
{
	uint8_t l[DNS_NAME_MAX], next[DNS_NAME_MAX];
	uint16_t types[DNS_NSEC_TYPES_MAX];
	bool nsec = (a->qtype == DNS_TYPE_NSEC || a->qtype == DNS_TYPE_RRSIG) &&
	    dns_answer_signing(a, zone);
	unsigned nt = 0;
	size_t i, len;

	a->negative = true;
	if (!nsec)
		dns_answer_soa(a, zone);
	if (!dns_answer_signing(a, zone))
		return;
	len = dns_name_len(owner);
	for (i = 0; i < len; i++)
		l[i] = owner[i];
	dns_name_lower(l);
	if (dns_nsec_successor(l, next) != 0)
		return;
	if (n == NULL)
		types[nt++] = DNS_TYPE_NXNAME;
	else
		nt = dns_answer_sec_types(a, n, 0, types);
	if (nsec) {
		/* Asked for the NSEC itself: compact denial has one at every
		 * name, so it is the answer (its bitmap says NSEC is there). */
		if (a->info->kind == DNS_ANS_NODATA ||
		    a->info->kind == DNS_ANS_NXDOMAIN)
			a->info->kind = DNS_ANS_POSITIVE;
		a->negative = false;
		if (a->qtype == DNS_TYPE_NSEC) {
			dns_answer_sec_nsec_in(
			    a, DNS_SEC_ANSWER, zone, owner, l, next, types, nt);
			return;
		}
		dns_answer_sec_nsec_sig(a, zone, owner, l, next, types, nt);
		return;
	}
	if (n != NULL)
		nt = dns_answer_sec_types(a, n, a->qtype, types);
	dns_answer_sec_nsec(a, zone, owner, l, next, types, nt);
}

/*
 * The proof for wildcard expansion i that its next closer name does not
 * exist (RFC 4035 §3.1.3.3): an NSEC from a predecessor of that name to
 * its next sibling (RFC 4470), which covers it and no name that exists.
 */
void
dns_answer_sec_wild_proof(struct dns_ans *a, unsigned i)
{
	const struct dns_db *db = a->db;
	const uint8_t *nc = a->wild[i].nc;
	uint8_t prev[DNS_NAME_MAX], next[DNS_NAME_MAX];
	uint16_t types[DNS_NSEC_TYPES_MAX];
	unsigned nt = 0;

	if (dns_nsec_sibling(nc, next) != 0)
		return;
	dns_nsec_predecessor(nc, prev);
	/* A next closer label of one \000 octet has the closest encloser
	 * as predecessor: its NSEC must then tell its real types. */
	if (nc[0] == 1 && nc[1] == 0)
		nt = dns_answer_sec_types(
		    a, &db->nodes[a->wild[i].ce], DNS_TYPE_NSEC, types);
	dns_answer_sec_nsec(a, a->wild[i].zone, prev, prev, next, types, nt);
}

int
dns_answer_sec_referral(
    struct dns_ans *a, int zone, const struct dns_db_node *c)
{
	const struct dns_db *db = a->db;
	const struct dns_db_set *ds = dns_db_node_set(db, c, DNS_TYPE_DS);
	uint8_t next[DNS_NAME_MAX];
	uint16_t types[DNS_NSEC_TYPES_MAX];
	struct dns_rrset set;

	if (ds != NULL)
		return dns_answer_sec_put_set(a, DNS_SEC_AUTHORITY, zone, c, ds,
		    db->arena + c->name, &set);
	if (dns_nsec_successor(db->arena + c->name, next) != 0)
		return 0;
	dns_answer_sec_nsec(a, zone, db->arena + c->name, db->arena + c->name,
	    next, types, dns_answer_sec_types(a, c, DNS_TYPE_DS, types));
	return 0;
}

void
dns_answer_sec_rrsigs(struct dns_ans *a, int zone, const struct dns_db_node *n,
    const uint8_t *owner)
{
	const struct dns_db *db = a->db;
	const struct dns_db_set *s = db->sets + n->set, *e = s + n->nsets;
	struct dns_rrset set;

	for (; s < e; s++) {
		dns_db_rrset(db, s, owner, &set);
		(void)dns_answer_sec_sigs(a, DNS_SEC_ANSWER, zone, &set, true,
		    db->arena + n->name, (uint32_t)(s - db->sets), s->ttl);
	}
	/* Then the NSEC's, which compact denial has at every name. */
	dns_answer_sec_neg(a, zone, n, owner);
}
