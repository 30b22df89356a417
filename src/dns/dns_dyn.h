/*
 * dns_dyn.h - the contract between the answer engine (dns_answer.c) and a
 * provider of computed answers (the GSLB, dns_gslb.c). A name of a zone
 * may be marked dynamic (dns_db_add_dyn); a query for it asks the provider
 * instead of the zone's tables. The provider answers from tables it built
 * when the health state last changed, never by interpreting config per
 * query (reference/gslb.md §10.8).
 *
 * Everything here is single-threaded: a worker process calls its own
 * provider from its own event loop, so what the provider lends stays valid
 * until its next call or its next state change, whichever comes first.
 */
#ifndef HAVEN_DNS_DYN_H
#define HAVEN_DNS_DYN_H

#include <stdbool.h>
#include <stdint.h>

#include "dns/dns_wire.h"

/*
 * Who asks, for source-based policies. With an ECS option whose source
 * prefix is above 0 (RFC 7871 §7.1.2), family/addr/bits are the option's;
 * otherwise they are the packet's source address with bits 32 or 128.
 * ECS with SOURCE /0 means the client opted out: the provider must not use
 * client data and must answer with scope 0 (§7.1.2), which is what ecs &&
 * bits == 0 says.
 */
struct dns_client {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; an IPv4 address in the first 4 */
	uint8_t bits;     /* prefix length known: 0..32 / 0..128 */
	bool ecs;         /* from an ECS option, not the source address */
};

/* What a provider answers for one dynamic name and query type. */
struct dns_dyn_answer {
	uint16_t type;  /* DNS_TYPE_A, _AAAA or _CNAME; 0 with count 0 */
	uint32_t ttl;   /* for the RRset, already shortened while the
	                   name is degraded or recently switched */
	unsigned count; /* records; 0: NODATA (nothing of that type, or a
	                   fail-closed policy with no last resort) */
	const struct dns_rdata *rdata; /* borrowed: count entries, valid as
	                                  the header comment says */
	uint8_t scope; /* ECS SCOPE PREFIX-LENGTH the answer is valid for
	                  (RFC 7871 §7.2.1): 0 when it did not depend on
	                  the client */
};

/*
 * The answer for dynamic name id (as given to dns_db_add_dyn) to a query
 * of qtype from client cl. Returns 0 and fills *out, or -ENOENT when id
 * is unknown (the engine answers SERVFAIL and counts it). A CNAME answer
 * is given for any qtype; A/AAAA only for their own type (another qtype
 * gets count 0).
 */
typedef int dns_dyn_fn(void *provider, uint32_t id, uint16_t qtype,
    const struct dns_client *cl, struct dns_dyn_answer *out);

struct dns_dyn {
	dns_dyn_fn *answer;
	void *provider; /* borrowed: passed to answer */
};

#endif
