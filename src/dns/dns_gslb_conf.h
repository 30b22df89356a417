/*
 * dns_gslb_conf.h - configuration of the traffic manager's GSLB names:
 * regions (source networks), address pools, names with their access
 * policies, and DR plans. These are keys of the `dns:` section (dns_conf.c
 * binds them with the schemas below); plain data, durations in ms.
 *
 *   regions:  - name: eu
 *               networks: [198.18.0.0/24, "2001:db8::/32"]
 *   pools:    - name: site-a
 *               check: web             # health template; none: no probes
 *               available: "1" | "50%" # up addresses for the pool to count
 *               lb: all | weighted | round-robin
 *               addresses:
 *                 - address: 198.18.1.10   # or cname: edge.example.net.
 *                   weight: 1
 *                   mode: smart | online | offline
 *   names:    - name: www.example.com
 *               ttl: 30s
 *               degraded_ttl: 5s       # while degraded or just switched
 *               template: {dr: {primary: site-a, secondary: site-b}}
 *                       | {multi_active: [site-a, site-b]}
 *               policies:
 *                 - sources: [eu]      # region names; absent: default
 *                   pools: [site-a]    # default pool set
 *                   backup: [site-b]   # backup pool set
 *                   failback: preemptive | non-preemptive
 *                   hold_down: 30s     # default set up this long first
 *                   fail: open | closed
 *                   last_resort: [198.18.9.9]
 *   plans:    - name: lose-site-a
 *               pools: [site-a]        # forced offline while executed
 *               rollback_after: 10m    # 0: stays until rolled back
 *
 * A template expands into plain policies at bind time (dns_gslb_conf.c):
 * what `haven check` and GET /v1/config show is the expanded form.
 */
#ifndef HAVEN_DNS_GSLB_CONF_H
#define HAVEN_DNS_GSLB_CONF_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_name.h"
#include "lib/conf.h"
#include "lib/hook_conf.h"

struct dns_cidr {
	int family;       /* AF_INET, AF_INET6 */
	uint8_t addr[16]; /* network order, host bits zero */
	uint8_t bits;
};

struct dns_region_conf {
	char *name;                /* owned: unique */
	struct dns_cidr *networks; /* owned array */
	size_t nnetworks;
};

enum dns_addr_mode {
	DNS_ADDR_SMART,
	DNS_ADDR_ONLINE,
	DNS_ADDR_OFFLINE
};
enum dns_pool_lb {
	DNS_LB_ALL,
	DNS_LB_WEIGHTED,
	DNS_LB_RR
};

struct dns_addr_conf {
	struct sockaddr_storage address; /* AF_UNSPEC for a cname */
	uint8_t cname[DNS_NAME_MAX];     /* wire form; [0] == 0: none */
	uint32_t weight;                 /* 1.. */
	int mode;                        /* enum dns_addr_mode */
	char *label; /* owned: the address or cname as written; with the
	                pool, the health target "pool/label" */
};

struct dns_pool_conf {
	char *name;  /* owned: unique */
	char *check; /* owned: health template, or NULL */
	/* Up addresses needed: an absolute count, or a percentage of the
	 * pool's when available_pct (rounded up, at least 1). */
	uint32_t available;
	bool available_pct;
	int lb;                          /* enum dns_pool_lb */
	struct dns_addr_conf *addresses; /* owned array; one family or all
	                                    cnames */
	size_t naddresses;
};

enum dns_failback {
	DNS_FAILBACK_PREEMPT,
	DNS_FAILBACK_NONPREEMPT
};
enum dns_fail_mode {
	DNS_FAIL_OPEN,
	DNS_FAIL_CLOSED
};

struct dns_policy_conf {
	char **sources; /* owned, NULL-terminated region names; 0: default */
	size_t nsources;
	char **pools; /* owned: the default pool set */
	size_t npools;
	char **backup; /* owned: the backup pool set; may be empty */
	size_t nbackup;
	int failback; /* enum dns_failback */
	uint64_t hold_down_ms;
	int fail;                             /* enum dns_fail_mode */
	struct sockaddr_storage *last_resort; /* owned array */
	size_t nlast_resort;
	/* Not bound: indexes into dns_gslb_conf.pools / .regions. */
	size_t *pool_idx, *backup_idx, *source_idx; /* owned arrays */
};

struct dns_gname_conf {
	char *name;                 /* owned: as written */
	uint8_t wire[DNS_NAME_MAX]; /* the name, wire form, lower case */
	uint64_t ttl_ms, degraded_ttl_ms;
	struct dns_policy_conf *policies; /* owned array: after template
	                                     expansion; exactly one has
	                                     no sources (the default) */
	size_t npolicies;
};

struct dns_plan_conf {
	char *name;   /* owned: unique */
	char **pools; /* owned: forced offline while the plan is executed */
	size_t npools;
	uint64_t rollback_after_ms; /* 0: until rolled back */
};

struct dns_gslb_conf {
	struct dns_region_conf *regions; /* owned arrays, each unique by name */
	size_t nregions;
	struct dns_pool_conf *pools;
	size_t npools;
	struct dns_gname_conf *names;
	size_t nnames;
	struct dns_plan_conf *plans;
	size_t nplans;
	struct hook_alarm_conf alarms;
};

/* Item schemas of the dns section's lists "regions", "pools", "names",
 * "plans" (bound by dns_conf.c into its struct dns_gslb_conf). */
extern const struct conf_schema dns_region_schema;
extern const struct conf_schema dns_pool_schema;
extern const struct conf_schema dns_gname_schema;
extern const struct conf_schema dns_plan_schema;

/*
 * Cross-references, called from the dns section's check hook with the
 * section's node: names unique, pool, region and plan names resolved
 * (filling the index arrays), pools of one policy of one family or all
 * cnames, nested or overlapping region networks reported. Errors at the
 * offending node.
 */
void dns_gslb_conf_check(
    struct conf_ctx *ctx, struct conf_node *section, struct dns_gslb_conf *c);

#endif
