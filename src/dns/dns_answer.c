/*
 * dns_answer.c - the authoritative answer engine (dns_answer.h). Pure: no
 * I/O, clock or globals, and no allocation: everything a query needs is
 * on the stack or in the caller's output buffer, and the tables were
 * built by dns_db_finish.
 *
 * One answer is a walk of RFC 1034 §4.3.2 step 3 over the db: find the
 * zone (longest apex suffix), the node (exact, else the closest encloser,
 * whose cut or wildcard decides), then either data, a CNAME to follow
 * (at most DNS_CNAME_CHAIN_MAX, possibly into another served zone), a
 * referral, or a negative answer. Owners found by exact match carry the
 * query's case (the question's bytes; a CNAME target's as loaded); a
 * synthesized wildcard answer takes the name asked for (RFC 4592 §3.4).
 * Below a DNAME the answer is the DNAME and the CNAME it synthesizes
 * (RFC 6672 §2.2; YXDOMAIN when the new name would be too long).
 * Additional records (MX/SRV/NS targets, glue) are optional and never set
 * TC, except in-domain glue of a referral, without which the referral is
 * useless (RFC 9471 §3: TC when it does not fit).
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "dns/dns_answer.h"
#include "dns/dns_answer_priv.h"
#include "dns/dns_db_priv.h"
#include "lib/util.h"

#define DNS_RCODE_YXDOMAIN 6 /* RFC 6672 §2.2 */
#define DNS_TYPE_HINFO     13
#define DNS_TYPE_IXFR      251
#define DNS_TYPE_AXFR      252

static size_t
dns_answer_fold(uint8_t dst[DNS_NAME_MAX], const uint8_t *src)
{
	size_t n = dns_name_len(src), i;

	for (i = 0; i < n; i++) {
		uint8_t c = src[i];

		dst[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
	}
	return n;
}

/* The SOA of zone, with the negative TTL, into authority. */
void
dns_answer_soa(struct dns_ans *a, int zone)
{
	const struct dns_db *db = a->db;
	const struct dns_db_zone *z = &db->zones[zone];
	struct dns_rrset set;

	if (z->soa == DNS_DB_NONE)
		return; /* a db whose finish failed: not to be served */
	dns_db_rrset(db, &db->sets[z->soa], db->arena + z->apex, &set);
	set.ttl = z->neg_ttl;
	/* Signed with its own TTL: the lower one sent is allowed (RFC
	 * 4035 §5.3.3 restores the original). */
	dns_answer_sec_put(a, DNS_SEC_AUTHORITY, zone, &set, true,
	    db->arena + z->apex, z->soa, db->sets[z->soa].ttl);
}

/* HINFO "RFC8482" "" for an ANY query (RFC 8482 §4.2). */
static void
dns_answer_hinfo(struct dns_ans *a, int zone, const struct dns_db_node *n,
    const uint8_t *owner)
{
	static const uint8_t hinfo[] = { 7, 'R', 'F', 'C', '8', '4', '8', '2',
		0 };
	static const struct dns_rdata rd = { hinfo, sizeof(hinfo) };
	struct dns_rrset set = { owner, DNS_TYPE_HINFO, DNS_CLASS_IN,
		a->db->zones[zone].neg_ttl, 1, &rd };

	dns_answer_sec_put(a, DNS_SEC_ANSWER, zone, &set, true,
	    a->db->arena + n->name, DNS_SIGN_NONE, set.ttl);
}

/* A and AAAA of target, when served and not occluded, as optional
 * additional data; in-domain glue of a referral is required. */
static void
dns_answer_addr(struct dns_ans *a, int zone, const uint8_t *target,
    uint32_t below_cut, bool required)
{
	static const uint16_t types[] = { DNS_TYPE_A, DNS_TYPE_AAAA };
	const struct dns_db *db = a->db;
	uint8_t l[DNS_NAME_MAX];
	const struct dns_db_node *n;
	struct dns_rrset set;
	uint32_t ni;
	unsigned i;

	dns_answer_fold(l, target);
	if (!dns_name_is_sub(l, db->arena + db->zones[zone].apex))
		return;
	if ((ni = dns_db_lookup(db, (uint32_t)zone, l)) == DNS_DB_NONE)
		return;
	n = &db->nodes[ni];
	if (dns_db_node_cut(n) != below_cut)
		return; /* occluded, or not the delegation's glue */
	/* Two MX to one host: its addresses once (RFC 2181 §5: a set
	 * appears once in a section). */
	for (i = 0; i < a->nadded; i++)
		if (a->added[i] == ni)
			return;
	if (a->nadded < ARRAY_SIZE(a->added))
		a->added[a->nadded++] = ni;
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		const struct dns_db_set *s = dns_db_node_set(db, n, types[i]);

		if (s == NULL)
			continue;
		dns_db_rrset(db, s, db->arena + n->name, &set);
		dns_resp_add(&a->r, DNS_SEC_ADDITIONAL, &set, required);
	}
}

/* Additional section processing (RFC 1035 §3.3 / RFC 2782) for a set. */
static void
dns_answer_additional(struct dns_ans *a, int zone, const struct dns_rrset *s)
{
	size_t skip;
	unsigned i;

	switch (s->type) {
	case DNS_TYPE_NS:
		skip = 0;
		break;
	case DNS_TYPE_MX:
		skip = 2;
		break;
	case DNS_TYPE_SRV:
		skip = 6;
		break;
	default:
		return;
	}
	for (i = 0; i < s->count; i++) {
		const struct dns_rdata *rd = &s->rdata[i];

		if (rd->len > skip &&
		    dns_name_check(rd->data + skip, rd->len - skip) > 0)
			dns_answer_addr(
			    a, zone, rd->data + skip, DNS_DB_NONE, false);
	}
}

/* Referral from cut node ci: NS in authority, glue in additional. */
static void
dns_answer_referral(struct dns_ans *a, int zone, uint32_t ci)
{
	const struct dns_db *db = a->db;
	const struct dns_db_node *c = &db->nodes[ci];
	const struct dns_db_set *ns = dns_db_node_set(db, c, DNS_TYPE_NS);
	struct dns_rrset set;
	unsigned i;

	dns_db_rrset(db, ns, db->arena + c->name, &set);
	/* The NS of a cut is the child's: never signed (RFC 4035 §2.2). */
	if (dns_resp_add(&a->r, DNS_SEC_AUTHORITY, &set, true) < 0)
		return;
	/* The DS, or the proof there is none (RFC 4035 §3.1.4). */
	if (dns_answer_signing(a, zone) &&
	    (dns_answer_sec_referral(a, zone, c) < 0 ||
	        dns_resp_truncated(&a->r)))
		return;
	/* Glue inside the delegation first (required), then sibling
	 * glue elsewhere in the zone (optional). */
	for (i = 0; i < set.count; i++)
		dns_answer_addr(a, zone, set.rdata[i].data, ci, true);
	for (i = 0; i < set.count; i++)
		dns_answer_addr(a, zone, set.rdata[i].data, DNS_DB_NONE, false);
	a->info->kind = DNS_ANS_REFERRAL;
	a->aa = false; /* RFC 1034 §4.3.2 step 3b */
}

/* The client the provider sees: the query's ECS when one came. */
static void
dns_answer_client(const struct dns_query *q, const struct dns_client *src,
    struct dns_client *cl)
{
	*cl = *src;
	if (!q->has_ecs)
		return;
	memset(cl, 0, sizeof(*cl));
	cl->family = q->ecs.family == DNS_ECS_FAMILY_IP4 ? AF_INET : AF_INET6;
	memcpy(cl->addr, q->ecs.addr, sizeof(cl->addr));
	cl->bits = q->ecs.source;
	cl->ecs = true;
}

enum dns_step {
	STEP_DONE,
	STEP_FOLLOW
};

/*
 * Answer for node n of zone reached under owner (the name to write),
 * exact or by wildcard. Returns STEP_FOLLOW with *next set to a CNAME
 * target to chase, or STEP_DONE.
 */
static enum dns_step
dns_answer_node(struct dns_ans *a, int zone, const struct dns_db_node *n,
    const uint8_t *owner, bool first, const uint8_t **next)
{
	const struct dns_db *db = a->db;
	const struct dns_db_set *s;
	struct dns_rrset set;
	uint16_t qt = a->qtype;

	if ((n->flags & DNS_DB_F_DYN) &&
	    (qt == DNS_TYPE_A || qt == DNS_TYPE_AAAA || qt == DNS_TYPE_CNAME ||
	        qt == DNS_TYPE_ANY)) {
		struct dns_dyn_answer da;

		memset(&da, 0, sizeof(da));
		if (a->dyn == NULL ||
		    a->dyn->answer(a->dyn->provider, n->u.dyn, qt, a->cl, &da) <
		        0) {
			a->info->kind = DNS_ANS_ERROR;
			a->info->rcode = DNS_RCODE_SERVFAIL;
			return STEP_DONE;
		}
		a->info->dynamic = true;
		if (da.scope > a->scope)
			a->scope = da.scope;
		/* Only what the contract lets a provider give: its own
		 * type, or a CNAME whose target is a name. */
		if (da.type != qt && da.type != DNS_TYPE_CNAME &&
		    (qt != DNS_TYPE_ANY ||
		        (da.type != DNS_TYPE_A && da.type != DNS_TYPE_AAAA)))
			da.count = 0;
		if (da.type == DNS_TYPE_CNAME && da.count > 0 &&
		    (da.count != 1 || da.rdata == NULL ||
		        dns_name_check(da.rdata[0].data, da.rdata[0].len) !=
		            da.rdata[0].len))
			da.count = 0;
		if (da.count > 0 && da.rdata != NULL) {
			set.owner = owner;
			set.type = da.type;
			set.rclass = DNS_CLASS_IN;
			set.ttl = da.ttl;
			set.count = da.count;
			set.rdata = da.rdata;
			dns_answer_sec_put(a, DNS_SEC_ANSWER, zone, &set, true,
			    db->arena + n->name, DNS_SIGN_NONE, set.ttl);
			if (da.type == DNS_TYPE_CNAME && qt != DNS_TYPE_CNAME) {
				*next = da.rdata[0].data;
				return STEP_FOLLOW;
			}
			return STEP_DONE;
		}
		if (qt == DNS_TYPE_ANY && n->nsets == 0) {
			/* The name has data, just none to give for ANY
			 * now: RFC 8482 §4.2's stand-in, not NODATA. */
			dns_answer_hinfo(a, zone, n, owner);
			return STEP_DONE;
		}
		if (qt != DNS_TYPE_ANY) {
			if (first)
				a->info->kind = DNS_ANS_NODATA;
			dns_answer_sec_neg(a, zone, n, owner);
			return STEP_DONE;
		}
		/* ANY with nothing dynamic now: one static set, below. */
	}
	if (qt == DNS_TYPE_RRSIG && dns_answer_signing(a, zone)) {
		dns_answer_sec_rrsigs(a, zone, n, owner);
		return STEP_DONE;
	}
	if (qt == DNS_TYPE_ANY) {
		if (n->nsets == 0) {
			if (first)
				a->info->kind = DNS_ANS_NODATA;
			dns_answer_sec_neg(a, zone, n, owner);
			return STEP_DONE;
		}
		/* RFC 8482 §4.2: one RRset stands for them all. */
		s = &db->sets[n->set];
		dns_answer_sec_put_set(
		    a, DNS_SEC_ANSWER, zone, n, s, owner, &set);
		return STEP_DONE;
	}
	if ((s = dns_db_node_set(db, n, qt)) != NULL) {
		if (dns_answer_sec_put_set(
		        a, DNS_SEC_ANSWER, zone, n, s, owner, &set) == 0)
			dns_answer_additional(a, zone, &set);
		return STEP_DONE;
	}
	if ((s = dns_db_node_set(db, n, DNS_TYPE_CNAME)) != NULL) {
		dns_answer_sec_put_set(
		    a, DNS_SEC_ANSWER, zone, n, s, owner, &set);
		*next = db->rdata[s->rd].data;
		return STEP_FOLLOW;
	}
	if (first)
		a->info->kind = DNS_ANS_NODATA;
	dns_answer_sec_neg(a, zone, n, owner);
	return STEP_DONE;
}

/*
 * owner lies below the DNAME set dn, whose owner is owner + prefix:
 * answer with the DNAME and the CNAME it makes (RFC 6672 §2.2), and
 * follow that unless the question was for the CNAME.
 */
static enum dns_step
dns_answer_dname(struct dns_ans *a, int zone, const struct dns_db_node *c,
    const struct dns_db_set *dn, const uint8_t *owner, size_t prefix,
    const uint8_t **next)
{
	const struct dns_rdata *t = &a->db->rdata[dn->rd];
	struct dns_rrset set;
	int tl;

	/* The DNAME's owner as the question wrote it. */
	if (dns_answer_sec_put_set(
	        a, DNS_SEC_ANSWER, zone, c, dn, owner + prefix, &set) < 0)
		return STEP_DONE;
	if ((tl = dns_name_check(t->data, t->len)) < 0)
		return STEP_DONE;
	if (prefix + (size_t)tl > DNS_NAME_MAX) {
		a->info->rcode = DNS_RCODE_YXDOMAIN; /* the DNAME stays */
		return STEP_DONE;
	}
	memcpy(a->synth, owner, prefix);
	memcpy(a->synth + prefix, t->data, (size_t)tl);
	a->synth_rd.data = a->synth;
	a->synth_rd.len = (uint16_t)(prefix + (size_t)tl);
	/* The CNAME made from the DNAME is not signed: a validator makes
	 * it again from the signed DNAME (RFC 6672 §5.3.1). */
	set.owner = owner;
	set.type = DNS_TYPE_CNAME;
	set.ttl = dn->ttl;
	set.count = 1;
	set.rdata = &a->synth_rd;
	if (dns_resp_add(&a->r, DNS_SEC_ANSWER, &set, true) < 0 ||
	    a->qtype == DNS_TYPE_CNAME)
		return STEP_DONE;
	*next = a->synth;
	return STEP_FOLLOW;
}

/*
 * Resolve name (the query's, or a CNAME target), written as owner.
 * Returns STEP_FOLLOW with *next, or STEP_DONE.
 */
static enum dns_step
dns_answer_name(
    struct dns_ans *a, const uint8_t *owner, bool first, const uint8_t **next)
{
	const struct dns_db *db = a->db;
	uint8_t l[DNS_NAME_MAX];
	const uint8_t *ce;
	uint32_t ni;
	int zone;

	dns_answer_fold(l, owner);
	if ((zone = dns_db_zone_of(db, l)) < 0) {
		/* A chain leaving our zones ends here: the resolver goes
		 * on (RFC 1034 §4.3.2 step 3a). */
		if (first) {
			a->info->kind = DNS_ANS_REFUSED;
			a->info->rcode = DNS_RCODE_REFUSED;
			a->info->ede = DNS_EDE_NOT_AUTHORITATIVE;
		}
		return STEP_DONE;
	}
	if (db->zones[zone].pending) {
		/* dns-sec: ours, but no copy of it: SERVFAIL without AA. A
		 * chain into it ends here, as one leaving our zones. */
		if (first) {
			a->info->kind = DNS_ANS_ERROR;
			a->info->rcode = DNS_RCODE_SERVFAIL;
			a->info->ede = DNS_EDE_NOT_READY;
		}
		return STEP_DONE;
	}
	a->zone = zone;
	if (first)
		a->aa = true;
	ni = dns_db_lookup(db, (uint32_t)zone, l);
	if (ni != DNS_DB_NONE) {
		const struct dns_db_node *n = &db->nodes[ni];

		/* DS at a cut is the parent's data (RFC 4035 §3.1.4.1). */
		uint32_t cut = dns_db_node_cut(n);

		if (cut != DNS_DB_NONE &&
		    !(cut == ni && a->qtype == DNS_TYPE_DS)) {
			if (first)
				dns_answer_referral(a, zone, cut);
			return STEP_DONE;
		}
		return dns_answer_node(a, zone, n, owner, first, next);
	}
	/* The closest encloser: every ancestor up to the apex is a node. */
	for (ce = l + 1 + l[0];; ce += 1 + *ce) {
		ni = dns_db_lookup(db, (uint32_t)zone, ce);
		if (ni != DNS_DB_NONE)
			break;
	}
	{
		const struct dns_db_node *c = &db->nodes[ni];

		if (dns_db_node_cut(c) != DNS_DB_NONE) {
			if (first)
				dns_answer_referral(
				    a, zone, dns_db_node_cut(c));
			return STEP_DONE;
		}
		const struct dns_db_set *dn;

		if ((c->flags & DNS_DB_F_DNAME) &&
		    (dn = dns_db_node_set(db, c, DNS_TYPE_DNAME)) != NULL)
			return dns_answer_dname(
			    a, zone, c, dn, owner, (size_t)(ce - l), next);
		if (c->flags & DNS_DB_F_WILD) {
			/* "*.<ce>" written over the label before ce: l is
			 * ours, and a label (2 bytes or more) is there. */
			size_t at = (size_t)(ce - l) - 2;
			const uint8_t *nc = l;
			uint32_t cei = ni;
			enum dns_step st;

			/* The next closer name: the label above ce. */
			while (nc + 1 + *nc < ce)
				nc += 1 + *nc;
			if (a->nwild < DNS_CNAME_CHAIN_MAX)
				memcpy(
				    a->wild[a->nwild].nc, nc, dns_name_len(nc));
			l[at] = 1;
			l[at + 1] = '*';
			ni = dns_db_lookup(db, (uint32_t)zone, l + at);
			if (ni != DNS_DB_NONE) {
				a->negative = false;
				st = dns_answer_node(a, zone, &db->nodes[ni],
				    owner, first, next);
				/* A denial there is compact: the NSEC at the
				 * name proves it alone. */
				if (!a->negative &&
				    a->nwild < DNS_CNAME_CHAIN_MAX &&
				    dns_answer_signing(a, zone)) {
					a->wild[a->nwild].zone = zone;
					a->wild[a->nwild++].ce = cei;
				}
				return st;
			}
		}
	}
	if (first)
		a->info->kind = DNS_ANS_NXDOMAIN;
	/* Of the last name (RFC 6604); a compact denial says NOERROR, its
	 * NSEC says the name is not there (RFC 9824 §3), unless the client
	 * said with CO that it reads NXDOMAIN beside that NSEC (§4). */
	if (!dns_answer_signing(a, zone) || a->co)
		a->info->rcode = DNS_RCODE_NXDOMAIN;
	dns_answer_sec_neg(a, zone, NULL, owner);
	return STEP_DONE;
}

static void
dns_answer_rrl_name(struct dns_answer_info *info, const uint8_t *name)
{
	dns_answer_fold(info->rrl_name, name);
}

size_t
dns_answer(const struct dns_db *db, const struct dns_dyn *dyn,
    const struct dns_answer_opts *opts, const struct dns_client *src,
    const uint8_t *msg, size_t len, uint8_t *out, size_t size,
    struct dns_answer_info *info)
{
	struct dns_query q;
	struct dns_resp_opt ro, *rop = NULL;
	struct dns_ecs ecs;
	struct dns_client cl;
	struct dns_ans a;
	uint8_t cookie[DNS_COOKIE_MAX];
	enum dns_wire_err e;
	size_t limit;
	int rcode;

	info->kind = DNS_ANS_POSITIVE;
	info->ede = 0;
	info->rcode = DNS_RCODE_NOERROR;
	info->qtype = 0;
	info->truncated = false;
	info->dynamic = false;
	info->edns = false;
	info->cookie = DNS_COOKIE_NONE;
	info->rrl_name[0] = 0;
	e = dns_wire_parse_query(msg, len, &q);
	info->err = e;
	rcode = dns_wire_err_rcode(e);
	if (rcode == DNS_RCODE_DROP) {
		info->kind = DNS_ANS_DROP;
		info->rcode = DNS_RCODE_DROP;
		return 0;
	}
	if (q.has_question) {
		info->qtype = q.qtype;
		dns_answer_rrl_name(info, q.qname);
	}
	/* The OPT fields are known when the parse succeeded, or failed on
	 * the version or the ECS option (dns_wire.h). */
	if (e == DNS_WIRE_OK || e == DNS_WIRE_BADVERS ||
	    (e >= DNS_WIRE_ECS_LEN && e <= DNS_WIRE_KEEPALIVE)) {
		if (q.edns) {
			info->edns = true;
			memset(&ro, 0, sizeof(ro));
			ro.udp_size = opts->udp_max;
			ro.edns_do = q.edns_do;
			ro.edns_co = q.edns_co;
			if (e == DNS_WIRE_OK && q.nsid && opts->nsid != NULL) {
				ro.nsid = opts->nsid;
				ro.nsid_len = opts->nsid_len;
			}
			if (e == DNS_WIRE_OK && q.cookie_len > 0 &&
			    opts->cookie_secret != NULL) {
				size_t clen;

				/* Bound to the source address, not ECS. */
				info->cookie = dns_cookie_answer(
				    opts->cookie_secret, src, q.cookie,
				    q.cookie_len, opts->now, cookie, &clen);
				ro.cookie = cookie;
				ro.cookie_len = (uint8_t)clen;
			}
			/* Over UDP the option is ignored (RFC 7828
			 * §3.2.1): a timeout means nothing there. */
			if (e == DNS_WIRE_OK && q.keepalive && opts->tcp) {
				ro.keepalive = true;
				ro.keepalive_100ms = opts->tcp_idle_100ms;
			}
			if (e == DNS_WIRE_OK && q.has_ecs) {
				ecs = q.ecs;
				ecs.scope = 0;
				ro.ecs = &ecs;
			}
			rop = &ro;
		}
	} else {
		q.edns = false;
	}
	if (opts->tcp)
		limit = DNS_MSG_MAX;
	else if (q.edns)
		limit = MAX(DNS_UDP_MIN, MIN(q.udp_size, opts->udp_max));
	else
		limit = DNS_UDP_MIN;
	if (dns_resp_init(&a.r, out, size, limit, &q, rop) < 0) {
		info->kind = DNS_ANS_DROP;
		info->rcode = DNS_RCODE_DROP;
		return 0;
	}
	if (e != DNS_WIRE_OK) {
		info->kind = DNS_ANS_ERROR;
		info->rcode = rcode;
		dns_resp_set_rcode(&a.r, rcode);
		return dns_resp_finish(&a.r);
	}
	if (q.qclass != DNS_CLASS_IN || q.qtype == DNS_TYPE_AXFR ||
	    q.qtype == DNS_TYPE_IXFR) {
		info->kind = DNS_ANS_REFUSED;
		info->rcode = DNS_RCODE_REFUSED;
		dns_resp_set_rcode(&a.r, DNS_RCODE_REFUSED);
		/* A transfer on this path, or a class we do not serve. */
		if (dns_resp_set_ede(&a.r, DNS_EDE_PROHIBITED) == 0)
			info->ede = DNS_EDE_PROHIBITED;
		return dns_resp_finish(&a.r);
	}
	if (q.qtype == DNS_TYPE_NXNAME) {
		/* A meta-type that only lives in compact denial's bitmaps
		 * (RFC 9824 §3.5): asking for it is malformed. */
		info->kind = DNS_ANS_ERROR;
		info->rcode = DNS_RCODE_FORMERR;
		dns_resp_set_rcode(&a.r, DNS_RCODE_FORMERR);
		if (dns_resp_set_ede(&a.r, DNS_EDE_INVALID_QTYPE) == 0)
			info->ede = DNS_EDE_INVALID_QTYPE;
		return dns_resp_finish(&a.r);
	}
	a.db = db;
	a.dyn = dyn;
	dns_answer_client(&q, src, &cl);
	a.cl = &cl;
	a.info = info;
	a.qtype = q.qtype;
	a.scope = 0;
	a.zone = -1;
	a.aa = false;
	a.nadded = 0;
	a.sign = q.edns_do ? opts->sign : NULL;
	a.co = q.edns_co;
	a.now = opts->now;
	a.negative = false;
	a.nwild = 0;
	{
		const uint8_t *owner = q.qname, *next = NULL;
		enum dns_step st;
		unsigned chain = 0;

		for (;;) {
			st = dns_answer_name(&a, owner, chain == 0, &next);
			if (st != STEP_FOLLOW ||
			    chain + 1 == DNS_CNAME_CHAIN_MAX ||
			    dns_resp_truncated(&a.r))
				break;
			/* Copy: a provider's target is only lent until its
			 * next call. */
			memcpy(a.owners[chain], next, dns_name_len(next));
			owner = a.owners[chain++];
		}
	}
	for (unsigned i = 0; i < a.nwild && !dns_resp_truncated(&a.r); i++)
		dns_answer_sec_wild_proof(&a, i);
	if (info->kind == DNS_ANS_NXDOMAIN || info->kind == DNS_ANS_REFERRAL)
		dns_answer_rrl_name(info, db->arena + db->zones[a.zone].apex);
	if (a.aa && info->kind != DNS_ANS_ERROR)
		dns_resp_set_flags(&a.r, DNS_FLAG_AA);
	dns_resp_set_rcode(&a.r, info->rcode);
	/* The scope a client may cache for; none when it opted out. */
	if (rop != NULL && rop->ecs != NULL)
		ecs.scope = q.ecs.source == 0 ? 0 : a.scope;
	info->truncated = dns_resp_truncated(&a.r);
	/* Why there is no answer, for the client's logs (RFC 8914); only
	 * with an OPT, and only if it still fits. */
	if (info->ede != 0 && dns_resp_set_ede(&a.r, info->ede) != 0)
		info->ede = 0;
	return dns_resp_finish(&a.r);
}
