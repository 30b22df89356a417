/*
 * havip_conf.h - configuration of the HAVIP control plane (the `havip:`
 * section): the site gateway's instances (nodes, each behind a link of its
 * own) and the high-availability virtual IPs they may hold.
 *
 * Plain data bound by the schema tables in havip_conf.c. Durations are
 * milliseconds.
 *
 * Invariants after a successful bind (checked by havip_conf_schema), the
 * cloud providers' quotas and rules (reference/vip.md §5.1):
 *   - every address is IPv4; names are unique per list; no two instances
 *     share an interface (the link a frame came in on names its sender)
 *     or an address, and no address is both a HAVIP, an EIP or an
 *     instance's;
 *   - a HAVIP lies in its subnet, and so does every instance associated
 *     with it; it has 1 to HAVIP_CONF_INST_MAX associations, each an
 *     instance of the section, none twice, and an instance is in at most
 *     HAVIP_CONF_ADDR_PER_INST HAVIPs;
 *   - a HAVIP has at most one EIP (one key holds it);
 *   - after the bind, havip_addr_conf.inst[] holds the index in
 *     havip_conf.instances of each association, in order.
 */
#ifndef HAVEN_HAVIP_CONF_H
#define HAVEN_HAVIP_CONF_H

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"

#define HAVIP_CONF_INST_MAX      10 /* instances per HAVIP (Alibaba, Tencent) */
#define HAVIP_CONF_ADDR_PER_INST 5  /* HAVIPs per instance */
#define HAVIP_CONF_DELAY_MAX_MS  10000 /* remap_delay: 0-10 s, as the clouds */

struct havip_instance_conf {
	char *name;      /* owned: unique */
	char *interface; /* owned: the gateway's link towards the node */
	struct sockaddr_storage address; /* the node's own, in the VPC */
};

struct havip_subnet {
	struct in_addr net; /* network order, host bits zero */
	uint8_t prefix;     /* 1-32 */
};

struct havip_addr_conf {
	char *name;                      /* owned: unique */
	struct sockaddr_storage address; /* the HAVIP */
	struct havip_subnet subnet;
	char **instances; /* owned, NULL-terminated: associated names */
	size_t ninstances;
	struct sockaddr_storage eip; /* AF_UNSPEC: none */
	/* Not bound: indexes of the associations in havip_conf.instances. */
	size_t inst[HAVIP_CONF_INST_MAX];
};

struct havip_conf {
	uint64_t hold_down_ms;
	uint64_t remap_delay_ms;
	bool witness; /* the arbiter's rule 3 (havip_arb.h) */
	struct havip_instance_conf *instances; /* owned array */
	size_t ninstances;
	struct havip_addr_conf *addresses; /* owned array */
	size_t naddresses;
};

extern const struct conf_schema havip_conf_schema;

/* Whether a (network order) lies in subnet s. */
bool havip_subnet_has(const struct havip_subnet *s, struct in_addr a);
/* The IPv4 address of ss (an AF_INET sockaddr_storage). */
struct in_addr havip_conf_in(const struct sockaddr_storage *ss);

#endif
