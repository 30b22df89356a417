/*
 * hc_conf.h - configuration of the health engine (the `health:` section).
 *
 * Plain data bound by the schema tables in hc_conf.c. A check either names
 * its own target (`address`) or is a template: the load balancer's pools name
 * a template in `health_check:` and the engine runs one target per pool
 * server, called "pool/server". Runtime state (counters, history) lives in
 * hc_engine.c, keyed by target name, so a reload keeps it for every target
 * whose check definition did not change.
 *
 * Inheritance: every timing key may be written in `health.defaults` and
 * overridden per check. The binder records which keys a check wrote in
 * hc_timing.set; the section's check hook (hc_conf_resolve) then copies every
 * other key from the defaults, so after a successful bind each check's timing
 * is complete and the check types read cc->timing.timeout_ms directly.
 */
#ifndef HAVEN_HC_CONF_H
#define HAVEN_HC_CONF_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "lib/hook_conf.h"

enum hc_conf_type {
	HC_TYPE_TCP,
	HC_TYPE_HTTP,
	HC_TYPE_HTTPS,
	HC_TYPE_ICMP,
	HC_TYPE_DNS,
	HC_TYPE_EXEC,
};

/* Bits of hc_timing.set, one per key, in field order. */
#define HC_T_INTERVAL      0x0001u
#define HC_T_TIMEOUT       0x0002u
#define HC_T_RISE          0x0004u
#define HC_T_FALL          0x0008u
#define HC_T_FAST_INTERVAL 0x0010u
#define HC_T_DOWN_INTERVAL 0x0020u
#define HC_T_JITTER        0x0040u
#define HC_T_PASSIVE_FAILS 0x0080u
#define HC_T_DAMPING       0x0100u
#define HC_T_DAMP_PENALTY  0x0200u
#define HC_T_DAMP_SUPPRESS 0x0400u
#define HC_T_DAMP_REUSE    0x0800u
#define HC_T_DAMP_HALF     0x1000u
#define HC_T_ALL           0x1fffu

/* Timing shared by defaults and each check (a check inherits defaults). */
struct hc_timing {
	uint64_t interval_ms;       /* 1s */
	uint64_t timeout_ms;        /* 1s, independent of interval */
	uint32_t rise;              /* 2 */
	uint32_t fall;              /* 2 */
	uint64_t fast_interval_ms;  /* while changing state: 250ms */
	uint64_t down_interval_ms;  /* while down: = interval */
	uint32_t jitter_pct;        /* spread probes by +-pct of interval: 10 */
	uint32_t passive_fails;     /* consecutive passive failures to eject: 1;
	                               0 turns passive ejection off */
	bool damping;               /* flap damping on: true */
	uint32_t damp_penalty;      /* added per transition: 1000 */
	uint32_t damp_suppress;     /* hold down above: 3000 */
	uint32_t damp_reuse;        /* release below: 750 */
	uint64_t damp_half_life_ms; /* penalty halves every: 30s */
	uint32_t set;               /* HC_T_* keys written for this check */
};

struct hc_check_conf {
	char *name; /* owned */
	int type;   /* enum hc_conf_type */
	bool has_address;
	struct sockaddr_storage address; /* target; port may be 0 for icmp */
	uint32_t port; /* check port override (0: target's port) */
	struct hc_timing timing;
	/* tcp */
	char *send;   /* owned, may be NULL: bytes to send after connect */
	char *expect; /* owned, may be NULL: substring expected in the reply */
	/* http/https */
	char *method; /* owned: GET */
	char *path;   /* owned: / */
	char *host;   /* owned, may be NULL: Host header (default: address) */
	/*
	 * owned: inclusive ranges as flat [lo, hi] pairs, so expect_status[2i]
	 * and expect_status[2i+1] bound range i; nexpect_status counts ranges.
	 * YAML: `expect_status: [200, "300-399"]`. Never empty after binding:
	 * absent means one range 200-399.
	 */
	uint32_t *expect_status; /* owned: 2 * nexpect_status bounds */
	size_t nexpect_status;
	char *body;        /* owned, may be NULL: expected body substring */
	uint64_t max_body; /* bytes read at most: 64k */
	/* https */
	char *sni; /* owned, may be NULL */
	bool tls_verify;
	char *ca_file;   /* owned, may be NULL */
	char *cert_file; /* owned, may be NULL: client certificate */
	char *key_file;  /* owned, may be NULL */
	/* dns */
	char *query_name;   /* owned */
	char *query_type;   /* owned: A or AAAA */
	char *expect_rcode; /* owned: NOERROR */
	bool has_expect_address;
	struct sockaddr_storage expect_address;
	/* exec */
	char *command; /* owned: run via /bin/sh -c with HAVEN_TARGET_* env */
	struct hook_alarm_conf hooks; /* this check's own hooks, run first */
};

struct hc_conf {
	struct hc_timing defaults;
	struct hook_alarm_conf hooks; /* global notification hooks */
	struct hc_check_conf *checks; /* owned array */
	size_t nchecks;
};

extern const struct conf_schema hc_conf_schema;

/*
 * Complete every check's timing from the defaults (keys not in
 * timing.set). Idempotent; the schema's check hook calls it, and code that
 * builds a struct hc_conf by hand calls it too.
 */
void hc_conf_resolve(struct hc_conf *c);
/* Defaults as documented above, set mask empty. */
void hc_timing_default(struct hc_timing *t);
/* The check named name, or NULL. */
/* The names of every check (templates too) in a new array of borrowed
 * strings (plane_ops.check_names); the count. */
size_t hc_conf_check_names(const void *conf, const char ***out);
const struct hc_check_conf *hc_conf_check(
    const struct hc_conf *c, const char *name);
/*
 * plane_ops.check_detect_ms: the worst case from a failure to the down
 * verdict of the check named name (0 if none): the failure comes just
 * after a passing probe, so the next is an interval away (plus its
 * jitter), then fall probes each run out their timeout (a target that
 * stops answering) with fast_interval between them.
 */
uint64_t hc_conf_check_detect_ms(const void *conf, const char *name);
/*
 * True when a and b define the same probe (every bound field but the name
 * and the hooks): a reload keeps a target's runtime state exactly then.
 */
bool hc_check_conf_same(
    const struct hc_check_conf *a, const struct hc_check_conf *b);
/* Same family, address and port. */
bool hc_conf_addr_same(
    const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* Name of enum hc_conf_type as written in YAML. */
const char *hc_conf_type_name(int type);

#endif
