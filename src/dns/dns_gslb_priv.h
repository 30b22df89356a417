/*
 * dns_gslb_priv.h - the decision state's structs, shared by dns_gslb.c
 * (rules, tables, answers) and dns_gslb_view.c (JSON views, preview,
 * save and restore). Not for other modules: they see dns_gslb.h.
 *
 * Invariants: every conf pointer is borrowed from the struct
 * dns_gslb_conf the state was built for; a policy's table always matches
 * its served set and the pools' availability as of the last evaluation;
 * pool.avail is what the rules say for the current health and plans.
 */
#ifndef HAVEN_DNS_GSLB_PRIV_H
#define HAVEN_DNS_GSLB_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_cidr.h"
#include "dns/dns_gslb.h"
#include "lib/ipc.h"

enum dns_gslb_health {
	DNS_GSLB_H_UNKNOWN,
	DNS_GSLB_H_UP,
	DNS_GSLB_H_DOWN
};
enum dns_gslb_plan_state {
	DNS_GSLB_PLAN_UNEXECUTED,
	DNS_GSLB_PLAN_EXECUTED,
	DNS_GSLB_PLAN_ROLLED_BACK,
};

struct dns_gslb_addr {
	const struct dns_addr_conf *c; /* borrowed */
	char target[IPC_NAME_MAX];     /* "pool/label" */
	int health;                    /* enum dns_gslb_health */
	uint64_t since_ms;             /* of the last health change */
	struct dns_rdata rd;           /* data borrowed from c */
};

struct dns_gslb_pool {
	const struct dns_pool_conf *c; /* borrowed */
	struct dns_gslb_addr *addrs;   /* owned: c->naddresses */
	uint16_t type;                 /* DNS_TYPE_A, _AAAA or _CNAME */
	unsigned forced;               /* executed plans forcing it off */
	bool avail;
	uint64_t since_ms; /* of the last availability change */
};

/* A run of a table's records from one pool, answered by its lb. */
struct dns_gslb_seg {
	size_t off, n; /* into the table's rd */
	int lb;        /* enum dns_pool_lb */
	uint32_t *cum; /* owned: weighted: cumulative weights, n of them */
	unsigned rr;   /* round-robin: the next pick */
};

struct dns_gslb_table {
	uint16_t type;        /* 0: nothing to answer */
	uint32_t ttl;         /* seconds */
	struct dns_rdata *rd; /* owned: n, data borrowed from the conf */
	size_t n;
	struct dns_gslb_seg *seg; /* owned: nseg */
	size_t nseg;
	bool simple; /* every segment answers all: rd as it is */
};

struct dns_gslb_policy {
	const struct dns_policy_conf *c; /* borrowed */
	char *label;  /* owned: "default" or the sources joined by ',' */
	size_t *dset; /* owned: pool indexes of the default set */
	size_t nd;
	size_t *bset; /* owned: of the backup set */
	size_t nb;
	int set;           /* enum dns_gslb_set served */
	uint64_t since_ms; /* of the last switch */
	bool dflt_avail;
	uint64_t dflt_since_ms;      /* default set available since */
	bool degraded;               /* the TTL is degraded_ttl */
	struct dns_gslb_table tab;   /* the served set */
	struct dns_gslb_table lr[2]; /* last resort: A, AAAA */
};

struct dns_gslb_name {
	const struct dns_gname_conf *c; /* borrowed */
	struct dns_gslb_policy *pol;    /* owned: c->npolicies */
	size_t dflt;                    /* the default policy's index */
	struct dns_cidr_map *map;       /* owned: networks -> policy; NULL when
	                                   only the default */
};

struct dns_gslb_plan {
	const struct dns_plan_conf *c; /* borrowed */
	size_t *pools;                 /* owned: indexes, npools */
	size_t npools;
	int state; /* enum dns_gslb_plan_state */
	uint64_t since_ms;
};

struct dns_gslb {
	const struct dns_gslb_conf *conf; /* borrowed */
	struct dns_gslb_pool *pools;      /* owned: conf->npools */
	struct dns_gslb_name *names;      /* owned: conf->nnames */
	struct dns_gslb_plan *plans;      /* owned: conf->nplans */
	dns_gslb_event_fn *ev;            /* NULL: no events */
	void *arg;                        /* borrowed: ev's */
	bool quiet;                       /* restoring: no events */
	uint64_t rng;                     /* xorshift state for picks */
	struct dns_rdata *scratch; /* owned: room for any table's answer */
	size_t nscratch;
};

extern const char *const dns_gslb_set_names[];
extern const char *const dns_gslb_health_names[];
extern const char *const dns_gslb_plan_names[];

/* An address counts as up (mode online, or smart and not down). */
bool dns_gslb_addr_usable(const struct dns_gslb_addr *a);
/* Pool i available given forced extra (a plan's pools; may be NULL). */
bool dns_gslb_pool_avail_with(
    const struct dns_gslb *g, size_t i, const struct dns_gslb_plan *extra);
/* Usable addresses and the count needed of pool p. */
size_t dns_gslb_pool_up(const struct dns_gslb_pool *p);
size_t dns_gslb_pool_need(const struct dns_gslb_pool *p);
/* The set a policy would serve with pools' availability avail[]: from
 * its current set, leaving time-based failback aside. */
int dns_gslb_next_set(
    const struct dns_gslb_policy *pol, int cur, const bool *avail);
/* Append to b the labels of what set answers with avail[], joined. */
void dns_gslb_set_labels(const struct dns_gslb *g,
    const struct dns_gslb_policy *pol, int set, const bool *avail,
    struct buf *b);
/* Re-evaluate everything at now_ms: pools, sets, tables, events. */
void dns_gslb_eval(struct dns_gslb *g, uint64_t now_ms);
struct dns_gslb_addr *dns_gslb_find_target(
    struct dns_gslb *g, const char *target);

#endif
