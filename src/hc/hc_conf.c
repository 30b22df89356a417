/*
 * hc_conf.c - schema tables for the `health:` section, the inheritance of
 * timing keys from `health.defaults`, and the definition comparison a reload
 * uses to decide which targets keep their runtime state.
 *
 * Example:
 *   health:
 *     defaults: { interval: 1s, fall: 3 }
 *     hooks: { webhook: "http://127.0.0.1:9000/alert" }
 *     checks:
 *       - { name: web, type: http, path: /healthz }      # template
 *       - { name: db1, type: tcp, address: "198.18.0.5:5432", interval: 2s }
 */
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc/hc_conf.h"
#include "lib/util.h"

#define HC_STATUS_MAX 999

static const char *const hc_conf_type_names[] = { "tcp", "http", "https",
	"icmp", "dns", "exec", NULL };

static const char *const hc_conf_timing_keys[] = { "interval", "timeout",
	"rise", "fall", "fast_interval", "down_interval", "jitter",
	"passive_fails", "damping", "damp_penalty", "damp_suppress",
	"damp_reuse", "damp_half_life" };

/* The timing keys of a struct hc_timing at byte offset base. */
#define HC_TOFF(base, f) ((base) + offsetof(struct hc_timing, f))
/* clang-format off */
#define HC_TIMING_KEYS(base)                                                   \
	{ "interval", CT_DURATION, HC_TOFF(base, interval_ms),                 \
	    "1s", 1, 86400000,                                                 \
	    .help = "time between probes while stable" },                      \
	{ "timeout", CT_DURATION, HC_TOFF(base, timeout_ms),                   \
	    "1s", 1, 3600000,                                                  \
	    .help = "time one probe may take" },                               \
	{ "rise", CT_UINT, HC_TOFF(base, rise),                                \
	    "2", 1, 1000,                                                      \
	    .help = "consecutive passes to become up" },                       \
	{ "fall", CT_UINT, HC_TOFF(base, fall),                                \
	    "2", 1, 1000,                                                      \
	    .help = "consecutive failures to become down" },                   \
	{ "fast_interval", CT_DURATION, HC_TOFF(base, fast_interval_ms),       \
	    "250ms", 1, 86400000,                                              \
	    .help = "time between probes while changing" },                    \
	{ "down_interval", CT_DURATION, HC_TOFF(base, down_interval_ms),       \
	    "0", 0, 86400000,                                                  \
	    .help = "time between probes while down (0: interval)" },          \
	{ "jitter", CT_UINT, HC_TOFF(base, jitter_pct),                        \
	    "10", 0, 50,                                                       \
	    .help = "spread probes by +-percent" },                            \
	{ "passive_fails", CT_UINT, HC_TOFF(base, passive_fails),              \
	    "1", 0, 1000,                                                      \
	    .help = "passive reports that eject (0: off)" },                   \
	{ "damping", CT_BOOL, HC_TOFF(base, damping),                          \
	    "false", 0, 0,                                                     \
	    .help = "hold flapping targets down (lb: de-prefer only)" },       \
	{ "damp_penalty", CT_UINT, HC_TOFF(base, damp_penalty),                \
	    "1000", 1, 1000000,                                                \
	    .help = "penalty added per transition" },                          \
	{ "damp_suppress", CT_UINT, HC_TOFF(base, damp_suppress),              \
	    "3000", 1, 1000000,                                                \
	    .help = "hold down above this penalty" },                          \
	{ "damp_reuse", CT_UINT, HC_TOFF(base, damp_reuse),                    \
	    "750", 1, 1000000,                                                 \
	    .help = "release at or below this penalty" },                      \
	{ "damp_half_life", CT_DURATION, HC_TOFF(base, damp_half_life_ms),     \
	    "30s", 1, 86400000,                                                \
	    .help = "the penalty halves every" }
/* clang-format on */

static const struct conf_key hc_conf_defaults_keys[] = {
	HC_TIMING_KEYS(0),
};

static const struct conf_schema hc_conf_defaults_schema = {
	.name = "health.defaults",
	.size = sizeof(struct hc_timing),
	.keys = hc_conf_defaults_keys,
	.nkeys = ARRAY_SIZE(hc_conf_defaults_keys),
};

/* address: "1.2.3.4:80", "[::1]:53" or a bare address (icmp). */
static int
hc_conf_parse_address(struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	char *s = conf_node_text(node);
	int rc = 0;

	if (s == NULL ||
	    (conf_parse_addr(s, true, dst) == -1 &&
	        conf_parse_addr(s, false, dst) == -1)) {
		conf_error(ctx, node, "address: want IP or IP:port, got %s",
		    s != NULL ? s : "a non-scalar");
		rc = -1;
	}
	free(s);
	return rc;
}

/* One expect_status item: "200" or "200-299", into lo/hi. */
static int
hc_conf_parse_status(const char *s, uint32_t *lo, uint32_t *hi)
{
	char *end;
	unsigned long a, b;

	a = strtoul(s, &end, 10);
	b = a;
	if (end != s && *end == '-')
		b = strtoul(end + 1, &end, 10);
	if (end == s || *end != '\0' || a < 100 || b > HC_STATUS_MAX || b < a)
		return -1;
	*lo = (uint32_t)a;
	*hi = (uint32_t)b;
	return 0;
}

static int
hc_conf_parse_expect_status(
    struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	struct hc_check_conf *cc =
	    container_of(dst, struct hc_check_conf, expect_status);
	struct conf_node *item;
	char *s;
	size_t n = 0;
	int rc;

	if (conf_node_is_scalar(node))
		n = 1;
	else if (conf_node_is_seq(node))
		n = conf_node_count(node);
	if (n == 0) {
		conf_error(ctx, node,
		    "expect_status: want a status, a range "
		    "\"200-299\" or a list of them");
		return -1;
	}
	free(cc->expect_status);
	cc->expect_status = xcalloc(2 * n, sizeof(uint32_t));
	cc->nexpect_status = n;
	for (size_t i = 0; i < n; i++) {
		item =
		    conf_node_is_scalar(node) ? node : conf_node_item(node, i);
		s = item != NULL ? conf_node_text(item) : NULL;
		rc = -1;
		if (s != NULL)
			rc = hc_conf_parse_status(s, &cc->expect_status[2 * i],
			    &cc->expect_status[2 * i + 1]);
		if (rc == -1)
			conf_error(ctx, item, "expect_status: bad status %s",
			    s != NULL ? s : "(not a scalar)");
		free(s);
		if (rc == -1)
			return -1;
	}
	return 0;
}

#define HC_COFF(f) offsetof(struct hc_check_conf, f)

static const struct conf_key hc_conf_check_keys[] = {
	{ .name = "name",
	    .type = CT_STRING,
	    .off = HC_COFF(name),
	    .flags = CK_REQUIRED,
	    .help = "target name (or template name)" },
	{ .name = "type",
	    .type = CT_ENUM,
	    .off = HC_COFF(type),
	    .flags = CK_REQUIRED,
	    .enum_names = hc_conf_type_names,
	    .help = "tcp, http, https, icmp, dns or exec" },
	{ .name = "address",
	    .type = CT_CUSTOM,
	    .off = HC_COFF(address),
	    .custom = hc_conf_parse_address,
	    .help = "target address; absent: a template for lb pools" },
	{ .name = "port",
	    .type = CT_UINT,
	    .off = HC_COFF(port),
	    .min = 0,
	    .max = 65535,
	    .help = "probe this port instead of the target's" },
	HC_TIMING_KEYS(HC_COFF(timing)),
	{ .name = "send",
	    .type = CT_STRING,
	    .off = HC_COFF(send),
	    .help = "tcp: bytes sent after connecting" },
	{ .name = "expect",
	    .type = CT_STRING,
	    .off = HC_COFF(expect),
	    .help = "tcp: substring expected in the reply" },
	{ .name = "method",
	    .type = CT_STRING,
	    .off = HC_COFF(method),
	    .dflt = "GET",
	    .help = "http: request method" },
	{ .name = "path",
	    .type = CT_STRING,
	    .off = HC_COFF(path),
	    .dflt = "/",
	    .help = "http: request path" },
	{ .name = "host",
	    .type = CT_STRING,
	    .off = HC_COFF(host),
	    .help = "http: Host header (default: the address)" },
	{ .name = "expect_status",
	    .type = CT_CUSTOM,
	    .off = HC_COFF(expect_status),
	    .custom = hc_conf_parse_expect_status,
	    .help = "http: accepted statuses and ranges (200-399)" },
	{ .name = "body",
	    .type = CT_STRING,
	    .off = HC_COFF(body),
	    .help = "http: substring expected in the body" },
	{ .name = "max_body",
	    .type = CT_SIZE,
	    .off = HC_COFF(max_body),
	    .dflt = "64k",
	    .min = 0,
	    .max = 16777216,
	    .help = "http: bytes of the response read at most" },
	{ .name = "sni",
	    .type = CT_STRING,
	    .off = HC_COFF(sni),
	    .help = "https: server name sent" },
	{ .name = "tls_verify",
	    .type = CT_BOOL,
	    .off = HC_COFF(tls_verify),
	    .dflt = "true",
	    .help = "https: verify the certificate" },
	{ .name = "ca_file",
	    .type = CT_STRING,
	    .off = HC_COFF(ca_file),
	    .help = "https: CA bundle (default: system)" },
	{ .name = "cert_file",
	    .type = CT_STRING,
	    .off = HC_COFF(cert_file),
	    .help = "https: client certificate" },
	{ .name = "key_file",
	    .type = CT_STRING,
	    .off = HC_COFF(key_file),
	    .help = "https: client key" },
	{ .name = "query_name",
	    .type = CT_STRING,
	    .off = HC_COFF(query_name),
	    .help = "dns: name asked" },
	{ .name = "query_type",
	    .type = CT_STRING,
	    .off = HC_COFF(query_type),
	    .dflt = "A",
	    .help = "dns: A or AAAA" },
	{ .name = "expect_rcode",
	    .type = CT_STRING,
	    .off = HC_COFF(expect_rcode),
	    .dflt = "NOERROR",
	    .help = "dns: rcode expected" },
	{ .name = "expect_address",
	    .type = CT_CUSTOM,
	    .off = HC_COFF(expect_address),
	    .custom = hc_conf_parse_address,
	    .help = "dns: address the answer must hold" },
	{ .name = "command",
	    .type = CT_STRING,
	    .off = HC_COFF(command),
	    .help = "exec: shell command; exit 0 passes" },
	{ .name = "hooks",
	    .type = CT_SECTION,
	    .off = HC_COFF(hooks),
	    .sub = &hook_alarm_schema,
	    .help = "notifications for this check's targets" },
};

/* Type-specific requirements, checked once the keys are bound. */
static void
hc_conf_check_type(
    struct conf_ctx *ctx, struct conf_node *node, struct hc_check_conf *cc)
{
	bool port = cc->port != 0 ||
	    (cc->has_address && cc->address.ss_family == AF_INET &&
	        ((struct sockaddr_in *)&cc->address)->sin_port != 0) ||
	    (cc->has_address && cc->address.ss_family == AF_INET6 &&
	        ((struct sockaddr_in6 *)&cc->address)->sin6_port != 0);

	if (cc->has_address && !port && cc->type != HC_TYPE_ICMP &&
	    cc->type != HC_TYPE_EXEC)
		conf_error(ctx, conf_key_node(node, "address"),
		    "check %s: a %s check needs a port", cc->name,
		    hc_conf_type_name(cc->type));
	if (cc->type == HC_TYPE_EXEC && cc->command == NULL)
		conf_error(ctx, node, "check %s: exec needs command", cc->name);
	if (cc->type == HC_TYPE_DNS && cc->query_name == NULL)
		conf_error(
		    ctx, node, "check %s: dns needs query_name", cc->name);
	if (cc->type == HC_TYPE_DNS && strcmp(cc->query_type, "A") != 0 &&
	    strcmp(cc->query_type, "AAAA") != 0)
		conf_error(ctx, conf_key_node(node, "query_type"),
		    "check %s: query_type must be A or AAAA", cc->name);
}

static void
hc_conf_check_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct hc_check_conf *cc = obj;

	cc->timing.set = 0;
	for (size_t i = 0; i < ARRAY_SIZE(hc_conf_timing_keys); i++)
		if (conf_key_node(node, hc_conf_timing_keys[i]) != NULL)
			cc->timing.set |= 1u << i;
	cc->has_address = conf_key_node(node, "address") != NULL;
	cc->has_expect_address = conf_key_node(node, "expect_address") != NULL;
	if (cc->nexpect_status == 0) {
		cc->expect_status = xcalloc(2, sizeof(uint32_t));
		cc->expect_status[0] = 200;
		cc->expect_status[1] = 399;
		cc->nexpect_status = 1;
	}
	hc_conf_check_type(ctx, node, cc);
}

static void
hc_conf_check_fini(void *obj)
{
	struct hc_check_conf *cc = obj;

	free(cc->expect_status);
	cc->expect_status = NULL;
	cc->nexpect_status = 0;
}

static const struct conf_schema hc_conf_check_schema = {
	.name = "health.checks[]",
	.size = sizeof(struct hc_check_conf),
	.keys = hc_conf_check_keys,
	.nkeys = ARRAY_SIZE(hc_conf_check_keys),
	.check = hc_conf_check_check,
	.fini = hc_conf_check_fini,
};

static void
hc_conf_top_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct hc_conf *c = obj;
	const struct hc_timing *t;

	hc_conf_resolve(c);
	for (size_t i = 0; i < c->nchecks; i++) {
		t = &c->checks[i].timing;
		if (t->damping && t->damp_reuse >= t->damp_suppress)
			conf_error(ctx, conf_key_node(node, "checks"),
			    "check %s: damp_reuse (%u) must be below "
			    "damp_suppress (%u)",
			    c->checks[i].name, t->damp_reuse, t->damp_suppress);
	}
}

static const struct conf_key hc_conf_keys[] = {
	{ .name = "defaults",
	    .type = CT_SECTION,
	    .off = offsetof(struct hc_conf, defaults),
	    .sub = &hc_conf_defaults_schema,
	    .help = "timing every check inherits" },
	{ .name = "hooks",
	    .type = CT_SECTION,
	    .off = offsetof(struct hc_conf, hooks),
	    .sub = &hook_alarm_schema,
	    .help = "notifications for every transition" },
	{ .name = "checks",
	    .type = CT_LIST,
	    .off = offsetof(struct hc_conf, checks),
	    .sub = &hc_conf_check_schema,
	    .count_off = offsetof(struct hc_conf, nchecks),
	    .help = "targets and templates" },
};

const struct conf_schema hc_conf_schema = {
	.name = "health",
	.size = sizeof(struct hc_conf),
	.keys = hc_conf_keys,
	.nkeys = ARRAY_SIZE(hc_conf_keys),
	.check = hc_conf_top_check,
};

void
hc_timing_default(struct hc_timing *t)
{
	memset(t, 0, sizeof(*t));
	t->interval_ms = 1000;
	t->timeout_ms = 1000;
	t->rise = 2;
	t->fall = 2;
	t->fast_interval_ms = 250;
	t->down_interval_ms = 0; /* resolved to interval_ms */
	t->jitter_pct = 10;
	t->passive_fails = 1;
	/*
	 * Off, as in HAProxy and keepalived: holding down a target whose
	 * probes pass trades capacity that answers for quiet logs, the
	 * reason RFC 7196 turned BGP route-flap damping down. When an
	 * operator turns it on, the lb only de-prefers damped servers.
	 */
	t->damping = false;
	t->damp_penalty = 1000;
	t->damp_suppress = 3000;
	t->damp_reuse = 750;
	t->damp_half_life_ms = 30000;
}

/* Copy field f from d to t unless bit was set on t. */
#define HC_INHERIT(t, d, bit, f)                                               \
	do {                                                                   \
		if (((t)->set & (bit)) == 0)                                   \
			(t)->f = (d)->f;                                       \
	} while (0)

void
hc_conf_resolve(struct hc_conf *c)
{
	const struct hc_timing *d = &c->defaults;
	struct hc_timing *t;

	for (size_t i = 0; i < c->nchecks; i++) {
		t = &c->checks[i].timing;
		HC_INHERIT(t, d, HC_T_INTERVAL, interval_ms);
		HC_INHERIT(t, d, HC_T_TIMEOUT, timeout_ms);
		HC_INHERIT(t, d, HC_T_RISE, rise);
		HC_INHERIT(t, d, HC_T_FALL, fall);
		HC_INHERIT(t, d, HC_T_FAST_INTERVAL, fast_interval_ms);
		HC_INHERIT(t, d, HC_T_DOWN_INTERVAL, down_interval_ms);
		HC_INHERIT(t, d, HC_T_JITTER, jitter_pct);
		HC_INHERIT(t, d, HC_T_PASSIVE_FAILS, passive_fails);
		HC_INHERIT(t, d, HC_T_DAMPING, damping);
		HC_INHERIT(t, d, HC_T_DAMP_PENALTY, damp_penalty);
		HC_INHERIT(t, d, HC_T_DAMP_SUPPRESS, damp_suppress);
		HC_INHERIT(t, d, HC_T_DAMP_REUSE, damp_reuse);
		HC_INHERIT(t, d, HC_T_DAMP_HALF, damp_half_life_ms);
		if (t->down_interval_ms == 0)
			t->down_interval_ms = t->interval_ms;
	}
}

const struct hc_check_conf *
hc_conf_check(const struct hc_conf *c, const char *name)
{
	for (size_t i = 0; i < c->nchecks; i++)
		if (strcmp(c->checks[i].name, name) == 0)
			return &c->checks[i];
	return NULL;
}

uint64_t
hc_conf_check_detect_ms(const void *conf, const char *name)
{
	const struct hc_check_conf *k = hc_conf_check(conf, name);
	const struct hc_timing *t;
	uint64_t gaps, j;

	if (k == NULL)
		return 0;
	t = &k->timing;
	j = t->jitter_pct > 100 ? 100 : t->jitter_pct;
	gaps = t->interval_ms +
	    (t->fall > 0 ? t->fall - 1 : 0) * t->fast_interval_ms;
	return gaps + gaps * j / 100 + (uint64_t)t->fall * t->timeout_ms;
}

size_t
hc_conf_check_names(const void *conf, const char ***out)
{
	const struct hc_conf *c = conf;

	*out = xcalloc(c->nchecks + 1, sizeof(**out));
	for (size_t i = 0; i < c->nchecks; i++)
		(*out)[i] = c->checks[i].name;
	return c->nchecks;
}

const char *
hc_conf_type_name(int type)
{
	if (type < 0 || (size_t)type >= ARRAY_SIZE(hc_conf_type_names) - 1)
		return "invalid";
	return hc_conf_type_names[type];
}

static bool
hc_conf_str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Family, address and port; padding and flow info do not count. */
bool
hc_conf_addr_same(
    const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
	return true;
}

static bool
hc_conf_timing_same(const struct hc_timing *a, const struct hc_timing *b)
{
	return a->interval_ms == b->interval_ms &&
	    a->timeout_ms == b->timeout_ms && a->rise == b->rise &&
	    a->fall == b->fall && a->fast_interval_ms == b->fast_interval_ms &&
	    a->down_interval_ms == b->down_interval_ms &&
	    a->jitter_pct == b->jitter_pct &&
	    a->passive_fails == b->passive_fails && a->damping == b->damping &&
	    a->damp_penalty == b->damp_penalty &&
	    a->damp_suppress == b->damp_suppress &&
	    a->damp_reuse == b->damp_reuse &&
	    a->damp_half_life_ms == b->damp_half_life_ms;
}

static bool
hc_conf_strings_same(
    const struct hc_check_conf *a, const struct hc_check_conf *b)
{
	return hc_conf_str_same(a->send, b->send) &&
	    hc_conf_str_same(a->expect, b->expect) &&
	    hc_conf_str_same(a->method, b->method) &&
	    hc_conf_str_same(a->path, b->path) &&
	    hc_conf_str_same(a->host, b->host) &&
	    hc_conf_str_same(a->body, b->body) &&
	    hc_conf_str_same(a->sni, b->sni) &&
	    hc_conf_str_same(a->ca_file, b->ca_file) &&
	    hc_conf_str_same(a->cert_file, b->cert_file) &&
	    hc_conf_str_same(a->key_file, b->key_file) &&
	    hc_conf_str_same(a->query_name, b->query_name) &&
	    hc_conf_str_same(a->query_type, b->query_type) &&
	    hc_conf_str_same(a->expect_rcode, b->expect_rcode) &&
	    hc_conf_str_same(a->command, b->command);
}

bool
hc_check_conf_same(const struct hc_check_conf *a, const struct hc_check_conf *b)
{
	if (a->type != b->type || a->has_address != b->has_address ||
	    a->port != b->port || a->max_body != b->max_body ||
	    a->tls_verify != b->tls_verify ||
	    a->has_expect_address != b->has_expect_address ||
	    a->nexpect_status != b->nexpect_status)
		return false;
	if (a->has_address && !hc_conf_addr_same(&a->address, &b->address))
		return false;
	if (a->has_expect_address &&
	    !hc_conf_addr_same(&a->expect_address, &b->expect_address))
		return false;
	if (a->nexpect_status > 0 &&
	    memcmp(a->expect_status, b->expect_status,
	        2 * a->nexpect_status * sizeof(uint32_t)) != 0)
		return false;
	return hc_conf_timing_same(&a->timing, &b->timing) &&
	    hc_conf_strings_same(a, b);
}
