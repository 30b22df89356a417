/*
 * lb_conf.h - configuration of the load balancer (the `lb:` section).
 *
 * Plain data bound by the schema tables in lb_conf.c; nothing here holds
 * runtime state, so a reload can bind a fresh tree and the runtime
 * (lb_runtime.c) diffs it against the old one by name. Durations are in
 * milliseconds, sizes in bytes, percentages as integers 0-100 (the hash
 * balance factor as a percentage >= 100, "1.25" and "125" both meaning 125).
 *
 * Invariants after a successful bind (checked by lb_conf_schema):
 *   - listener, pool and per-pool server names are unique;
 *   - every listener's pool names a pool of this section;
 *   - every server's zone is one of its pool's zones (NULL: the first zone);
 *   - balance: header has hash_header set;
 *   - a listener has TLS exactly when tls.ncertificates > 0.
 * The pool's health_check template is checked against the templates the
 * planes offer (health.checks) by the top-level schema, through the plane
 * hook lb_targets_check_refs (lb_conf_check_health).
 */
#ifndef HAVEN_LB_CONF_H
#define HAVEN_LB_CONF_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"

enum lb_mode {
	LB_MODE_HTTP,
	LB_MODE_TCP,
};

enum lb_balance {
	LB_BAL_ROUNDROBIN, /* smooth weighted round-robin (nginx) */
	LB_BAL_LEASTCONN,  /* fewest active connections relative to weight */
	LB_BAL_RANDOM2,    /* power of two weighted random choices */
	LB_BAL_SOURCE,     /* consistent hash of the client address */
	LB_BAL_HEADER,     /* consistent hash of hash_header's value */
};

enum lb_failback {
	LB_FAILBACK_IMMEDIATE, /* back to a better zone as soon as it has enough
	                        */
	LB_FAILBACK_HOLD,   /* ... once it has had enough for failback_hold */
	LB_FAILBACK_MANUAL, /* only through POST .../failback */
};

enum lb_all_down {
	LB_ALL_DOWN_FAIL,      /* answer all_down_status + all_down_body */
	LB_ALL_DOWN_FAIL_OPEN, /* use every server regardless of health */
};

enum lb_on_marked_down {
	LB_OMD_KEEP,     /* connections on a server marked down run on */
	LB_OMD_SHUTDOWN, /* ... are cut at once (HAProxy shutdown-sessions) */
};

enum lb_send_proxy {
	LB_SEND_PROXY_NONE,
	LB_SEND_PROXY_V1,
	LB_SEND_PROXY_V2,
};

enum lb_tls_version {
	LB_TLS_1_2,
	LB_TLS_1_3,
};

struct lb_cert_conf {
	char *cert; /* owned: PEM certificate chain path */
	char *key;  /* owned: PEM private key path */
};

struct lb_tls_conf {
	struct lb_cert_conf *certificates; /* owned array; [0] is the default */
	size_t ncertificates;              /* 0: no TLS on this listener */
	int min_version;                   /* enum lb_tls_version: 1.2 */
};

struct lb_listener_conf {
	char *name; /* owned */
	struct sockaddr_storage bind;
	int mode;   /* enum lb_mode: http */
	char *pool; /* owned: names a struct lb_pool_conf */
	struct lb_tls_conf tls;
	bool accept_proxy;           /* false */
	bool forwarded_headers;      /* true */
	bool splice;                 /* false: mode tcp copies */
	bool freebind; /* bind an address the node does not hold (yet) */
	uint32_t max_conn;           /* 20000 */
	uint64_t client_timeout_ms;  /* 60s */
	uint64_t header_timeout_ms;  /* 10s */
	uint64_t request_timeout_ms; /* 60s */
	uint64_t max_header_size;    /* 16k */
	uint32_t max_headers;        /* 100 */
	bool access_log;             /* true */
};

struct lb_server_conf {
	char *name; /* owned */
	struct sockaddr_storage address;
	uint32_t weight;   /* 100; 0 takes no new traffic */
	char *zone;        /* owned, may be NULL: the pool's first zone */
	uint32_t max_conn; /* 0: unlimited (overrides the pool's when set) */
	bool has_check_address;
	struct sockaddr_storage check_address; /* port 0: server's port */
};

struct lb_pool_conf {
	char *name;                /* owned */
	int balance;               /* enum lb_balance: roundrobin */
	char *hash_header;         /* owned, may be NULL; required for header */
	uint32_t hash_balance_pct; /* 0: unbounded; else >= 100 (125 = 1.25) */
	char *health_check; /* owned, may be NULL: health.checks template */
	char **zones;       /* owned, NULL-terminated; may be empty */
	size_t nzones;
	uint32_t min_up;             /* 1 */
	uint32_t min_up_fraction;    /* percent 0-100; 0: use min_up only */
	int failback;                /* enum lb_failback: immediate */
	uint64_t failback_hold_ms;   /* 30s */
	int all_down;                /* enum lb_all_down: fail */
	int on_marked_down;          /* enum lb_on_marked_down: keep */
	uint32_t all_down_status;    /* 503 */
	char *all_down_body;         /* owned: "no healthy server\n" */
	uint64_t slow_start_ms;      /* 0: off */
	uint64_t connect_timeout_ms; /* 2s */
	uint64_t server_timeout_ms;  /* 30s */
	uint32_t passive_5xx;        /* 5 consecutive 5xx eject; 0: off */
	uint32_t retries;            /* 2 */
	bool retry_non_idempotent;   /* false */
	uint64_t per_try_timeout_ms; /* 0: server_timeout; GET, HEAD and
	                                retry_methods only */
	char **retry_methods; /* owned, NULL-terminated: methods besides GET
	                         and HEAD that per_try_timeout retries */
	size_t nretry_methods;
	uint32_t retry_budget_pct;      /* 20; floor of 3 retries per second */
	uint32_t keepalive;             /* 64 idle connections/server/worker */
	int send_proxy;                 /* enum lb_send_proxy: none */
	uint32_t max_conn;              /* per server; 0: unlimited */
	uint32_t max_queue;             /* 1000 */
	uint64_t queue_timeout_ms;      /* 2s */
	struct lb_server_conf *servers; /* owned array */
	size_t nservers;
};

struct lb_conf {
	uint32_t workers;                   /* 0: one per core */
	struct lb_listener_conf *listeners; /* owned array */
	size_t nlisteners;
	struct lb_pool_conf *pools; /* owned array */
	size_t npools;
};

extern const struct conf_schema lb_conf_schema;

/* Lookups by name; NULL when absent. */
const struct lb_pool_conf *lb_conf_pool(
    const struct lb_conf *c, const char *name);
const struct lb_server_conf *lb_conf_server(
    const struct lb_pool_conf *p, const char *name);
/* Index of a server's zone in p->zones (0 when it has none or p has none). */
size_t lb_conf_server_zone(
    const struct lb_pool_conf *p, const struct lb_server_conf *s);
/* Effective per-server connection cap: the server's, else the pool's. */
uint32_t lb_conf_server_max_conn(
    const struct lb_pool_conf *p, const struct lb_server_conf *s);

/* Names of the enum values as written in YAML (for JSON output). */
const char *lb_conf_balance_name(int b);
const char *lb_conf_failback_name(int f);

/*
 * Cross-section check, for the top-level schema's check hook: every pool's
 * health_check must name one of the check names given. lb_node is the `lb`
 * mapping (for error positions). Reports through conf_error().
 */
void lb_conf_check_health(struct conf_ctx *ctx, struct conf_node *lb_node,
    const struct lb_conf *c, const char *const *checks, size_t nchecks);

/* lb_targets.c: the health targets lb declares (plane_ops.targets). */
struct plane_target;
size_t lb_targets(const void *conf, struct plane_target **out);
void lb_targets_check_refs(struct conf_ctx *ctx, struct conf_node *node,
    const void *conf, const char *const *names, size_t n);

#endif
