/*
 * dns_answer_priv.h - what dns_answer.c (the walk of RFC 1034 §4.3.2) and
 * dns_answer_sec.c (its DNSSEC additions) share: the state of one query's
 * answer. Nothing else may include it.
 */
#ifndef HAVEN_DNS_ANSWER_PRIV_H
#define HAVEN_DNS_ANSWER_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "dns/dns_answer.h"
#include "dns/dns_db_priv.h"

#define DNS_TYPE_DS 43

/* What one query's walk carries along. */
struct dns_ans {
	const struct dns_db *db;
	const struct dns_dyn *dyn;
	const struct dns_client *cl;
	struct dns_resp r;
	struct dns_answer_info *info;
	uint16_t qtype;
	uint8_t scope; /* ECS scope of the answer: the largest given */
	int zone;      /* zone of the last name looked up */
	bool aa;       /* the query's name is ours and not delegated */
	unsigned nadded;
	uint32_t added[16]; /* nodes whose addresses are in additional */
	uint8_t synth[DNS_NAME_MAX]; /* a CNAME's target made from a DNAME */
	struct dns_rdata synth_rd;
	/* CNAME targets in the message: owners of later sets point here. */
	uint8_t owners[DNS_CNAME_CHAIN_MAX][DNS_NAME_MAX];
	/* DNSSEC (DO set and a signer): NULL, or borrowed from opts. */
	struct dns_sign *sign;
	uint32_t now;
	bool negative; /* the last name walked got a negative answer */
	bool co;       /* the query's CO: NXDOMAIN beside a compact denial */
	/* Wildcard expansions to prove: the next closer names (folded),
	   their zones and closest enclosers (RFC 4035 §3.1.3.3). */
	unsigned nwild;
	struct {
		int zone;
		uint32_t ce;
		uint8_t nc[DNS_NAME_MAX];
	} wild[DNS_CNAME_CHAIN_MAX];
};

/* Whether what goes out for zone is signed. */
static inline bool
dns_answer_signing(const struct dns_ans *a, int zone)
{
	return a->sign != NULL && dns_sign_key(a->sign, zone) != NULL;
}

/* dns_answer.c: the SOA of zone, with the negative TTL, in authority. */
void dns_answer_soa(struct dns_ans *a, int zone);

/*
 * Append set to sec and, when signing zone, its RRSIG right after it.
 * lname is the folded name the data is stored at (what is signed), sidx
 * its db set index or DNS_SIGN_NONE for data made for this query,
 * orig_ttl its TTL as loaded. Returns what dns_resp_add does: the set
 * and its RRSIG go in together or not at all.
 */
int dns_answer_sec_put(struct dns_ans *a, enum dns_section sec, int zone,
    const struct dns_rrset *set, bool required, const uint8_t *lname,
    uint32_t sidx, uint32_t orig_ttl);
/* The same for the static set s at node n, written with owner; *set is
 * filled with what was written. */
int dns_answer_sec_put_set(struct dns_ans *a, enum dns_section sec, int zone,
    const struct dns_db_node *n, const struct dns_db_set *s,
    const uint8_t *owner, struct dns_rrset *set);
/* The negative answer for owner (node n, NULL when it does not exist):
 * the SOA and, when signing, the compact denial. */
void dns_answer_sec_neg(struct dns_ans *a, int zone,
    const struct dns_db_node *n, const uint8_t *owner);
/* The proof for the i-th wildcard expansion of the answer. */
void dns_answer_sec_wild_proof(struct dns_ans *a, unsigned i);
/* After the NS of a referral from cut c: its DS, or an NSEC proving
 * there is none. What dns_resp_add returned (< 0: TC). */
int dns_answer_sec_referral(
    struct dns_ans *a, int zone, const struct dns_db_node *c);
/* The answer to a query for type RRSIG at node n. */
void dns_answer_sec_rrsigs(struct dns_ans *a, int zone,
    const struct dns_db_node *n, const uint8_t *owner);

#endif
