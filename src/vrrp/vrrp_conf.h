/*
 * vrrp_conf.h - configuration of the virtual IP plane (the `vrrp:` section).
 *
 * Plain data bound by the schema tables in vrrp_conf.c. Key names follow
 * keepalived's vrrp_instance where one exists (virtual_router_id is vrid,
 * advert_int is advert_interval, nopreempt/preempt_delay become one
 * preempt policy), so a keepalived.conf maps key for key (README table).
 * Durations are milliseconds; the protocol's own units (centiseconds for
 * v3, seconds for v2) are derived where the packets are built.
 *
 * Invariants after a successful bind (checked by vrrp_conf_schema):
 *   - instance names are unique, and so is (interface, vrid, family): two
 *     instances there would be one virtual router on the wire;
 *   - an instance has at least one virtual address, all of one family,
 *     and its unicast peers (if any) and unicast_src are of that family;
 *   - version 2 is IPv4 only and its advert_interval is whole seconds;
 *     version 3's is a multiple of 10 ms (the wire carries centiseconds);
 *   - preempt "after D" / "after healthy D" has preempt_delay_ms = D;
 *   - takeover: havip has one IPv4 virtual address and an IPv4
 *     havip.gateway; a gateway appears only with takeover: havip;
 *   - auth other than none has a key_file and unicast_peers.
 */
#ifndef HAVEN_VRRP_CONF_H
#define HAVEN_VRRP_CONF_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"

enum vrrp_conf_preempt {
	VRRP_CONF_PREEMPT_IMMEDIATE, /* a higher priority takes over at once */
	VRRP_CONF_PREEMPT_NEVER,     /* a running master keeps the address */
	VRRP_CONF_PREEMPT_AFTER,     /* ... once this node has been up D */
	/* ... once this node has been eligible (no fault, tracking at its
	 * full priority) for D without a break: no flapping back onto a node
	 * whose checks just recovered. */
	VRRP_CONF_PREEMPT_AFTER_HEALTHY,
};

/*
 * Which checksum a v3 IPv4 advert carries; both are accepted (vrrp_pkt.h
 * has the story). keepalived 2.2 sends the pseudo-header form.
 */
enum vrrp_conf_csum {
	VRRP_CONF_CSUM_PSEUDO,  /* over the IPv4 pseudo-header too */
	VRRP_CONF_CSUM_MESSAGE, /* over the VRRP message only */
};

/* A virtual address: the VIP and the prefix it is added with. */
struct vrrp_vaddr {
	struct sockaddr_storage addr; /* port 0 */
	uint8_t prefix;               /* default /32 or /128 */
};

struct vrrp_track_if_conf {
	char *name; /* owned: interface name */
	/* Down: subtract weight from the priority; 0: go to FAULT. */
	uint32_t weight;
};

/* A health target probed by the health engine for this instance. */
struct vrrp_track_check_conf {
	char *name;                      /* owned: unique in the instance */
	struct sockaddr_storage address; /* probed; port optional */
	char *check; /* owned: a template in health.checks */
	/* Down: subtract weight from the priority; 0: go to FAULT. */
	uint32_t weight;
};

/*
 * An lb pool whose usable count is tracked: the servers of lb.pools[pool]
 * the health engine does not report down (its targets, as lb_targets.c
 * declares them). Below min_up, the weight applies as for a check. The
 * pool must have a health_check (vrrp_conf_target_refs): without one no
 * verdict ever arrives, every server would count as up for good, and
 * tracking it would only look like protection.
 */
struct vrrp_track_pool_conf {
	char *pool;      /* owned: a name in lb.pools */
	uint32_t min_up; /* usable servers wanted; default 1 */
	/* Short of min_up: subtract weight from the priority; 0: FAULT. */
	uint32_t weight;
};

/* Tracked links, checks or pools per instance: one bit each at run time. */
#define VRRP_TRACK_MAX 64

struct vrrp_garp_conf {
	uint64_t master_delay_ms;   /* second burst after becoming master */
	uint32_t master_repeat;     /* announcements per burst */
	uint64_t interval_ms;       /* between announcements of a burst */
	uint64_t master_refresh_ms; /* one more burst every ...; 0: never */
};

/*
 * Shell commands run on a transition (keepalived notify_*), serially and
 * once per transition (vrrp_notify.c). NULL: none.
 */
struct vrrp_notify_conf {
	char *master; /* owned: on becoming master */
	char *backup; /* owned: on becoming backup */
	char *fault;  /* owned: on entering fault */
	char *stop;   /* owned: on leaving the router (stop, removal) */
	char *any;    /* owned: `notify`, args INSTANCE NAME STATE PRIORITY */
	uint64_t timeout_ms; /* each run; killed past it */
};

/*
 * takeover: havip (vrrp_tk_havip.c): where ownership of the HAVIP is
 * checked, and the back-off of a master that is not the owner when it
 * cannot probe the owner or finds it gone again (vrrp_tk.h).
 */
struct vrrp_havip_conf {
	struct sockaddr_storage gateway; /* IPv4; AF_UNSPEC when absent */
	uint64_t probe_interval_ms;      /* echo requests to the gateway */
	uint32_t probe_fall;        /* unanswered in a row: not the owner */
	uint64_t reannounce_max_ms; /* back-off cap while not the owner */
};

enum vrrp_conf_auth {
	VRRP_CONF_AUTH_NONE,
	VRRP_CONF_AUTH_HMAC_SHA256, /* our trailer, vrrp_auth.h */
};

/*
 * auth: HMAC-SHA256 of unicast adverts (not keepalived's). The key is
 * the file's content, read by the vrrp process at apply as lb reads its
 * TLS keys, never by the parent: the secret stays out of the config
 * tree, the API and the parent.
 */
struct vrrp_auth_conf {
	int type;        /* enum vrrp_conf_auth */
	char *key_file;  /* owned: path; NULL when type is none */
	uint32_t key_id; /* 0-255, carried in the trailer */
};

/*
 * takeover: exec (vrrp_tk_exec.c): the provider's CLI. Commands run with
 * /bin/sh -c on the notify hooks' serial queue; NULL: none.
 */
struct vrrp_exec_conf {
	char *acquire;       /* owned: run on becoming master (required) */
	char *release;       /* owned: run on leaving master */
	char *describe;      /* owned: prints the provider's current state */
	char *expect;        /* owned: in describe's stdout: we own the VIP */
	uint64_t timeout_ms; /* each run; killed past it */
	uint32_t retries;    /* acquires after a failed first one */
	uint64_t backoff_ms; /* first pause, doubling ... */
	uint64_t backoff_max_ms;     /* ... up to this; FAILED retries here */
	uint64_t verify_interval_ms; /* re-verify while master; 0: once */
};

struct vrrp_instance_conf {
	char *name;      /* owned: unique */
	char *interface; /* owned: where adverts go and the VIPs live */
	uint32_t vrid;   /* 1-255 */
	uint32_t priority;
	uint32_t version; /* 2 or 3 */
	uint64_t advert_interval_ms;
	struct vrrp_vaddr *vaddrs; /* owned array */
	size_t nvaddrs;
	/* owned array; none: multicast to 224.0.0.18 / ff02::12 */
	struct sockaddr_storage *peers;
	size_t npeers;
	struct sockaddr_storage unicast_src; /* AF_UNSPEC: the interface's */
	int preempt;                         /* enum vrrp_conf_preempt */
	uint64_t preempt_delay_ms;           /* for AFTER, AFTER_HEALTHY */
	bool accept;    /* a backup-turned-master answers for the VIPs */
	bool stop_zero; /* send priority 0 on a graceful stop */
	int checksum;   /* enum vrrp_conf_csum: v3 IPv4 adverts sent */
	struct vrrp_garp_conf garp;
	struct vrrp_auth_conf auth;
	struct vrrp_track_if_conf *track_interfaces; /* owned array */
	size_t ntrack_interfaces;
	struct vrrp_track_check_conf *track_checks; /* owned array */
	size_t ntrack_checks;
	struct vrrp_notify_conf notify;
	int takeover; /* enum vrrp_tk_kind: local | havip | exec */
	struct vrrp_havip_conf havip;
	struct vrrp_track_pool_conf *track_pools; /* owned array */
	size_t ntrack_pools;
	struct vrrp_exec_conf exec;
	/* Not bound: the family of the virtual addresses. */
	int family;
};

struct vrrp_conf {
	struct vrrp_instance_conf *instances; /* owned array */
	size_t ninstances;
};

extern const struct conf_schema vrrp_conf_schema;

/*
 * The plane's config-side hooks (lib/plane.h): each track_checks entry is
 * a health target named "vrrp:INSTANCE/NAME", owned by the instance.
 */
struct plane_target;
size_t vrrp_conf_targets(const void *conf, struct plane_target **out);
void vrrp_conf_check_refs(struct conf_ctx *ctx, struct conf_node *node,
    const void *conf, const char *const *names, size_t n);
/*
 * Each track_pools entry must name a pool some plane declared health
 * targets for (lb: a pool of lb.pools with a health_check), with at least
 * min_up of them.
 */
void vrrp_conf_target_refs(struct conf_ctx *ctx, struct conf_node *node,
    const void *conf, const struct plane_target *targets, size_t n);
/* Whether t is a server of lb pool `pool` (declared by lb, owned by it). */
bool vrrp_conf_pool_server(const struct plane_target *t, const char *pool);
/* "vrrp:INSTANCE/NAME" into out; false if it does not fit. */
bool vrrp_conf_target_name(
    char *out, size_t outlen, const char *instance, const char *name);

/* "never", "immediate", "after 30s", "after healthy 30s" of an instance. */
const char *vrrp_preempt_name(int preempt);

#endif
