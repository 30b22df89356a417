/*
 * lb_conf.c - schema of the `lb:` section: every key's type, range and
 * default, and the rules across keys (a listener's pool exists, a server's
 * zone is one of its pool's, balance: header names its header, ...).
 *
 * Everything here is table data plus check hooks that only report; the
 * binder (lib/conf.c) does the walking, the defaults and the error positions.
 * Ranges are chosen so that a value inside them cannot break the data path:
 * a zero timeout where the proxy needs one, a header limit beyond what the
 * HTTP parser holds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb/lb_conf.h"
#include "lib/http1.h"
#include "lib/util.h"

#define LB_CONF_HOUR_MS (3600 * 1000)

static const char *const lb_conf_mode_names[] = { "http", "tcp", NULL };
static const char *const lb_conf_balance_names[] = { "roundrobin", "leastconn",
	"random2", "source", "header", NULL };
static const char *const lb_conf_failback_names[] = { "immediate", "hold",
	"manual", NULL };
static const char *const lb_conf_all_down_names[] = { "fail", "fail_open",
	NULL };
static const char *const lb_conf_omd_names[] = { "keep", "shutdown", NULL };
static const char *const lb_conf_proxy_names[] = { "none", "v1", "v2", NULL };
static const char *const lb_conf_tls_names[] = { "1.2", "1.3", NULL };


/*
 * hash_balance_factor: a factor ("1.25") or a percentage ("125"); values
 * above 10 are taken as percentages. 0 disables the bound; anything else
 * must be at least 1.0, since a cap below the average load cannot be met.
 */
static int
lb_conf_parse_factor(struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	char *v = conf_node_text(node);
	uint32_t *out = dst;
	char *end;
	double d;
	bool ok;

	errno = 0;
	d = v != NULL ? strtod(v, &end) : 0;
	ok = v != NULL && *v != '\0' && errno == 0 && *end == '\0' && d >= 0 &&
	    d <= 100000;
	free(v);
	if (!ok)
		goto bad;
	if (d <= 10)
		d *= 100;
	if (d != 0 && d < 100) {
		conf_error(ctx, node,
		    "hash_balance_factor: must be 0 (off) or at least 1.0 (100%%)");
		return -1;
	}
	*out = (uint32_t)(d + 0.5);
	return 0;
bad:
	conf_error(ctx, node,
	    "hash_balance_factor: expected a factor like 1.25 or a percentage like 125");
	return -1;
}

/* check_address: null, or an address with or without a port. */
static int
lb_conf_parse_check_addr(struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	struct lb_server_conf *s =
	    container_of(dst, struct lb_server_conf, check_address);
	char *v;
	bool ok;

	s->has_check_address = false;
	if (conf_node_is_null(node))
		return 0;
	v = conf_node_text(node);
	ok = v != NULL &&
	    (conf_parse_addr(v, true, &s->check_address) == 0 ||
	        conf_parse_addr(v, false, &s->check_address) == 0);
	free(v);
	if (!ok) {
		conf_error(ctx, node,
		    "check_address: expected 1.2.3.4, 1.2.3.4:80 or [::1]:80");
		return -1;
	}
	s->has_check_address = true;
	return 0;
}

#define LB_K(n, t, st, f, d, lo, hi, h)                                        \
	{                                                                      \
		.name = n, .type = t, .off = offsetof(struct st, f),           \
		.dflt = d, .min = lo, .max = hi, .help = h                     \
	}
#define LB_R(n, t, st, f, h)                                                   \
	{                                                                      \
		.name = n, .type = t, .off = offsetof(struct st, f),           \
		.flags = CK_REQUIRED, .help = h                                \
	}
#define LB_E(n, st, f, d, names, h)                                            \
	{                                                                      \
		.name = n, .type = CT_ENUM, .off = offsetof(struct st, f),     \
		.dflt = d, .enum_names = names, .help = h                      \
	}

static const struct conf_key lb_conf_cert_keys[] = {
	{ .name = "cert",
	    .type = CT_STRING,
	    .off = offsetof(struct lb_cert_conf, cert),
	    .flags = CK_REQUIRED,
	    .help = "PEM certificate chain" },
	{ .name = "key",
	    .type = CT_STRING,
	    .off = offsetof(struct lb_cert_conf, key),
	    .flags = CK_REQUIRED,
	    .help = "PEM private key" },
};

static const struct conf_schema lb_conf_cert_schema = {
	.name = "lb.listeners[].tls.certificates[]",
	.size = sizeof(struct lb_cert_conf),
	.keys = lb_conf_cert_keys,
	.nkeys = ARRAY_SIZE(lb_conf_cert_keys),
};

static const struct conf_key lb_conf_tls_keys[] = {
	{ .name = "certificates",
	    .type = CT_LIST,
	    .off = offsetof(struct lb_tls_conf, certificates),
	    .count_off = offsetof(struct lb_tls_conf, ncertificates),
	    .sub = &lb_conf_cert_schema,
	    .help = "chosen by SNI; the first is the default" },
	LB_E("min_version", lb_tls_conf, min_version, "1.2", lb_conf_tls_names,
	    "lowest TLS version accepted"),
};

static void lb_conf_tls_check(
    struct conf_ctx *ctx, struct conf_node *node, void *obj);

static const struct conf_schema lb_conf_tls_schema = {
	.name = "lb.listeners[].tls",
	.size = sizeof(struct lb_tls_conf),
	.keys = lb_conf_tls_keys,
	.nkeys = ARRAY_SIZE(lb_conf_tls_keys),
	.check = lb_conf_tls_check,
};

static const struct conf_key lb_conf_listener_keys[] = {
	LB_R("name", CT_STRING, lb_listener_conf, name, "unique listener name"),
	LB_R("bind", CT_ADDR_PORT, lb_listener_conf, bind,
	    "address:port to listen on"),
	LB_E("mode", lb_listener_conf, mode, "http", lb_conf_mode_names,
	    "http (L7) or tcp (L4)"),
	LB_R("pool", CT_STRING, lb_listener_conf, pool,
	    "the pool that serves this listener"),
	{ .name = "tls",
	    .type = CT_SECTION,
	    .off = offsetof(struct lb_listener_conf, tls),
	    .sub = &lb_conf_tls_schema,
	    .help = "TLS termination" },
	LB_K("accept_proxy", CT_BOOL, lb_listener_conf, accept_proxy, "false",
	    0, 0, "expect a PROXY protocol header from clients"),
	LB_K("forwarded_headers", CT_BOOL, lb_listener_conf, forwarded_headers,
	    "true", 0, 0, "add X-Forwarded-For/-Proto"),
	LB_K("splice", CT_BOOL, lb_listener_conf, splice, "false", 0, 0,
	    "relay bulk tcp/tunnel bytes with splice(2), not copies"),
	LB_K("freebind", CT_BOOL, lb_listener_conf, freebind, "false", 0, 0,
	    "bind even before the address is here (a VIP this node may "
	    "take over)"),
	LB_K("max_conn", CT_UINT, lb_listener_conf, max_conn, "20000", 1,
	    10000000, "concurrent client connections"),
	LB_K("client_timeout", CT_DURATION, lb_listener_conf, client_timeout_ms,
	    "60s", 1, 24 * LB_CONF_HOUR_MS,
	    "client inactivity / idle keep-alive"),
	LB_K("header_timeout", CT_DURATION, lb_listener_conf, header_timeout_ms,
	    "10s", 1, LB_CONF_HOUR_MS,
	    "the whole request head must arrive within"),
	LB_K("request_timeout", CT_DURATION, lb_listener_conf,
	    request_timeout_ms, "60s", 1, 24 * LB_CONF_HOUR_MS,
	    "the whole request including its body"),
	/* At most one connection buffer (LB_BUF_SIZE), which holds the head. */
	LB_K("max_header_size", CT_SIZE, lb_listener_conf, max_header_size,
	    "16k", 1024, 16 * 1024, "request head size limit"),
	LB_K("max_headers", CT_UINT, lb_listener_conf, max_headers, "100", 1,
	    HTTP1_MAX_HDRS, "request header count limit"),
	LB_K("access_log", CT_BOOL, lb_listener_conf, access_log, "true", 0, 0,
	    "log one line per request"),
};

static const struct conf_schema lb_conf_listener_schema = {
	.name = "lb.listeners[]",
	.size = sizeof(struct lb_listener_conf),
	.keys = lb_conf_listener_keys,
	.nkeys = ARRAY_SIZE(lb_conf_listener_keys),
};

static const struct conf_key lb_conf_server_keys[] = {
	LB_R("name", CT_STRING, lb_server_conf, name, "unique within the pool"),
	LB_R("address", CT_ADDR_PORT, lb_server_conf, address,
	    "address:port of the server"),
	LB_K("weight", CT_UINT, lb_server_conf, weight, "100", 0, 10000,
	    "relative share of traffic; 0 takes none"),
	LB_K("zone", CT_STRING, lb_server_conf, zone, NULL, 0, 0,
	    "one of the pool's zones (default: the first)"),
	LB_K("max_conn", CT_UINT, lb_server_conf, max_conn, "0", 0, 10000000,
	    "connection cap; 0: the pool's"),
	{ .name = "check_address",
	    .type = CT_CUSTOM,
	    .off = offsetof(struct lb_server_conf, check_address),
	    .custom = lb_conf_parse_check_addr,
	    .help = "probe this address instead (port optional)" },
};

static const struct conf_schema lb_conf_server_schema = {
	.name = "lb.pools[].servers[]",
	.size = sizeof(struct lb_server_conf),
	.keys = lb_conf_server_keys,
	.nkeys = ARRAY_SIZE(lb_conf_server_keys),
};

static const struct conf_key lb_conf_pool_keys[] = {
	LB_R("name", CT_STRING, lb_pool_conf, name, "unique pool name"),
	LB_E("balance", lb_pool_conf, balance, "roundrobin",
	    lb_conf_balance_names, "balancing algorithm"),
	LB_K("hash_header", CT_STRING, lb_pool_conf, hash_header, NULL, 0, 0,
	    "header hashed by balance: header"),
	{ .name = "hash_balance_factor",
	    .type = CT_CUSTOM,
	    .off = offsetof(struct lb_pool_conf, hash_balance_pct),
	    .custom = lb_conf_parse_factor,
	    .help = "bounded-load cap as a factor of the average (0: off)" },
	LB_K("health_check", CT_STRING, lb_pool_conf, health_check, NULL, 0, 0,
	    "a template in health.checks"),
	{ .name = "zones",
	    .type = CT_STRLIST,
	    .off = offsetof(struct lb_pool_conf, zones),
	    .count_off = offsetof(struct lb_pool_conf, nzones),
	    .help = "ordered zones: the first qualifying one takes traffic" },
	LB_K("min_up", CT_UINT, lb_pool_conf, min_up, "1", 1, 100000,
	    "healthy servers a zone needs"),
	LB_K("min_up_fraction", CT_UINT, lb_pool_conf, min_up_fraction, "0", 0,
	    100, "healthy percentage a zone needs (0: min_up)"),
	LB_E("failback", lb_pool_conf, failback, "immediate",
	    lb_conf_failback_names, "return to a better zone"),
	LB_K("failback_hold", CT_DURATION, lb_pool_conf, failback_hold_ms,
	    "30s", 0, 24 * LB_CONF_HOUR_MS, "hold-down before failback"),
	LB_E("on_marked_down", lb_pool_conf, on_marked_down, "keep",
	    lb_conf_omd_names, "cut connections to a server probes mark down"),
	LB_E("all_down", lb_pool_conf, all_down, "fail", lb_conf_all_down_names,
	    "when no zone qualifies"),
	LB_K("all_down_status", CT_UINT, lb_pool_conf, all_down_status, "503",
	    200, 599, "status answered when all down"),
	LB_K("all_down_body", CT_STRING, lb_pool_conf, all_down_body,
	    "no healthy server\n", 0, 0, "body answered when all down"),
	LB_K("slow_start", CT_DURATION, lb_pool_conf, slow_start_ms, "0s", 0,
	    LB_CONF_HOUR_MS, "weight ramp after readmission"),
	LB_K("connect_timeout", CT_DURATION, lb_pool_conf, connect_timeout_ms,
	    "2s", 1, LB_CONF_HOUR_MS, "connect to a server"),
	LB_K("server_timeout", CT_DURATION, lb_pool_conf, server_timeout_ms,
	    "30s", 1, 24 * LB_CONF_HOUR_MS, "response head / inactivity"),
	LB_K("passive_5xx", CT_UINT, lb_pool_conf, passive_5xx, "5", 0, 1000,
	    "consecutive 5xx answers that eject a server (0: off)"),
	LB_K("retries", CT_UINT, lb_pool_conf, retries, "2", 0, 10,
	    "extra attempts on other servers"),
	LB_K("retry_non_idempotent", CT_BOOL, lb_pool_conf,
	    retry_non_idempotent, "false", 0, 0, "also retry POST, PATCH..."),
	LB_K("per_try_timeout", CT_DURATION, lb_pool_conf, per_try_timeout_ms,
	    "0s", 0, 24 * LB_CONF_HOUR_MS,
	    "per attempt of GET, HEAD, retry_methods (0: server_timeout)"),
	{ .name = "retry_methods",
	    .type = CT_STRLIST,
	    .off = offsetof(struct lb_pool_conf, retry_methods),
	    .count_off = offsetof(struct lb_pool_conf, nretry_methods),
	    .help = "methods besides GET, HEAD that per_try_timeout retries" },
	LB_K("retry_budget", CT_UINT, lb_pool_conf, retry_budget_pct, "20", 0,
	    100, "percent of requests that may be retries"),
	LB_K("keepalive", CT_UINT, lb_pool_conf, keepalive, "64", 0, 100000,
	    "idle pooled connections per server per worker"),
	LB_E("send_proxy", lb_pool_conf, send_proxy, "none",
	    lb_conf_proxy_names, "PROXY protocol towards servers"),
	LB_K("max_conn", CT_UINT, lb_pool_conf, max_conn, "0", 0, 10000000,
	    "per server; 0: unlimited"),
	LB_K("max_queue", CT_UINT, lb_pool_conf, max_queue, "1000", 0, 10000000,
	    "requests waiting for a server slot"),
	LB_K("queue_timeout", CT_DURATION, lb_pool_conf, queue_timeout_ms, "2s",
	    1, LB_CONF_HOUR_MS, "longest wait for a slot"),
	{ .name = "servers",
	    .type = CT_LIST,
	    .off = offsetof(struct lb_pool_conf, servers),
	    .count_off = offsetof(struct lb_pool_conf, nservers),
	    .sub = &lb_conf_server_schema,
	    .help = "the pool's servers" },
};

static void lb_conf_pool_check(
    struct conf_ctx *ctx, struct conf_node *node, void *obj);

static const struct conf_schema lb_conf_pool_schema = {
	.name = "lb.pools[]",
	.size = sizeof(struct lb_pool_conf),
	.keys = lb_conf_pool_keys,
	.nkeys = ARRAY_SIZE(lb_conf_pool_keys),
	.check = lb_conf_pool_check,
};

static const struct conf_key lb_conf_keys[] = {
	LB_K("workers", CT_UINT, lb_conf, workers, "0", 0, 1024,
	    "worker processes (0: one per core)"),
	{ .name = "listeners",
	    .type = CT_LIST,
	    .off = offsetof(struct lb_conf, listeners),
	    .count_off = offsetof(struct lb_conf, nlisteners),
	    .sub = &lb_conf_listener_schema,
	    .help = "client-facing sockets" },
	{ .name = "pools",
	    .type = CT_LIST,
	    .off = offsetof(struct lb_conf, pools),
	    .count_off = offsetof(struct lb_conf, npools),
	    .sub = &lb_conf_pool_schema,
	    .help = "server pools" },
};

static void lb_conf_check(
    struct conf_ctx *ctx, struct conf_node *node, void *obj);

const struct conf_schema lb_conf_schema = {
	.name = "lb",
	.size = sizeof(struct lb_conf),
	.keys = lb_conf_keys,
	.nkeys = ARRAY_SIZE(lb_conf_keys),
	.check = lb_conf_check,
};

/* The node of key in the i-th mapping of the sequence at map.list. */
static struct conf_node *
lb_conf_item_node(
    struct conf_node *map, const char *list, size_t i, const char *key)
{
	struct conf_node *seq = conf_key_node(map, list), *item;

	if (!conf_node_is_seq(seq))
		return map;
	item = conf_node_item(seq, i);
	if (item == NULL)
		return seq;
	if (key == NULL)
		return item;
	return conf_key_node(item, key) != NULL ? conf_key_node(item, key) :
	                                          item;
}

static void
lb_conf_tls_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct lb_tls_conf *t = obj;

	if (node != NULL && conf_key_node(node, "certificates") != NULL &&
	    t->ncertificates == 0)
		conf_error(ctx, conf_key_node(node, "certificates"),
		    "tls.certificates: at least one certificate is needed");
}

static void
lb_conf_pool_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct lb_pool_conf *p = obj;
	size_t i, j;

	if (p->balance == LB_BAL_HEADER &&
	    (p->hash_header == NULL || *p->hash_header == '\0'))
		conf_error(ctx, conf_key_node(node, "balance"),
		    "pool %s: balance: header needs hash_header", p->name);
	if (p->balance != LB_BAL_HEADER && p->hash_header != NULL)
		conf_error(ctx, conf_key_node(node, "hash_header"),
		    "pool %s: hash_header is only used with balance: header",
		    p->name);
	for (i = 0; i < p->nzones; i++)
		for (j = 0; j < i; j++)
			if (strcmp(p->zones[i], p->zones[j]) == 0)
				conf_error(ctx, conf_key_node(node, "zones"),
				    "pool %s: zone %s listed twice", p->name,
				    p->zones[i]);
	for (i = 0; i < p->nservers; i++) {
		const char *z = p->servers[i].zone;

		if (z == NULL)
			continue;
		for (j = 0; j < p->nzones; j++)
			if (strcmp(z, p->zones[j]) == 0)
				break;
		if (j == p->nzones)
			conf_error(ctx,
			    lb_conf_item_node(node, "servers", i, "zone"),
			    "server %s/%s: zone %s is not in the pool's zones",
			    p->name, p->servers[i].name, z);
	}
	if (p->per_try_timeout_ms > p->server_timeout_ms)
		conf_error(ctx, conf_key_node(node, "per_try_timeout"),
		    "pool %s: per_try_timeout exceeds server_timeout", p->name);
}

static bool
lb_conf_same_addr(
    const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	char sa[64], sb[64];

	return a->ss_family == b->ss_family &&
	    strcmp(conf_addr_str(a, sa, sizeof(sa)),
	        conf_addr_str(b, sb, sizeof(sb))) == 0;
}

static void
lb_conf_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct lb_conf *c = obj;
	const struct lb_listener_conf *l;
	size_t i, j;

	for (i = 0; i < c->nlisteners; i++) {
		l = &c->listeners[i];
		if (l->pool != NULL && lb_conf_pool(c, l->pool) == NULL)
			conf_error(ctx,
			    lb_conf_item_node(node, "listeners", i, "pool"),
			    "listener %s: pool %s is not defined", l->name,
			    l->pool);
		for (j = 0; j < i; j++)
			if (lb_conf_same_addr(&l->bind, &c->listeners[j].bind))
				conf_error(ctx,
				    lb_conf_item_node(
				        node, "listeners", i, "bind"),
				    "listener %s: bind address already used by listener %s",
				    l->name, c->listeners[j].name);
	}
}

void
lb_conf_check_health(struct conf_ctx *ctx, struct conf_node *lb_node,
    const struct lb_conf *c, const char *const *checks, size_t nchecks)
{
	size_t i, j;

	for (i = 0; i < c->npools; i++) {
		const char *hc = c->pools[i].health_check;

		if (hc == NULL)
			continue;
		for (j = 0; j < nchecks; j++)
			if (strcmp(hc, checks[j]) == 0)
				break;
		if (j == nchecks)
			conf_error(ctx,
			    lb_conf_item_node(
			        lb_node, "pools", i, "health_check"),
			    "pool %s: health_check %s is not in health.checks",
			    c->pools[i].name, hc);
	}
}

const struct lb_pool_conf *
lb_conf_pool(const struct lb_conf *c, const char *name)
{
	size_t i;

	for (i = 0; c != NULL && i < c->npools; i++)
		if (strcmp(c->pools[i].name, name) == 0)
			return &c->pools[i];
	return NULL;
}

const struct lb_server_conf *
lb_conf_server(const struct lb_pool_conf *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nservers; i++)
		if (strcmp(p->servers[i].name, name) == 0)
			return &p->servers[i];
	return NULL;
}

size_t
lb_conf_server_zone(
    const struct lb_pool_conf *p, const struct lb_server_conf *s)
{
	size_t i;

	if (s->zone == NULL)
		return 0;
	for (i = 0; i < p->nzones; i++)
		if (strcmp(p->zones[i], s->zone) == 0)
			return i;
	return 0;
}

uint32_t
lb_conf_server_max_conn(
    const struct lb_pool_conf *p, const struct lb_server_conf *s)
{
	return s->max_conn != 0 ? s->max_conn : p->max_conn;
}

const char *
lb_conf_balance_name(int b)
{
	if (b < 0 || b >= (int)ARRAY_SIZE(lb_conf_balance_names) - 1)
		return "?";
	return lb_conf_balance_names[b];
}

const char *
lb_conf_failback_name(int f)
{
	if (f < 0 || f >= (int)ARRAY_SIZE(lb_conf_failback_names) - 1)
		return "?";
	return lb_conf_failback_names[f];
}
