/*
 * Unit tests for lb_conf.c: the `lb:` schema binds the documented example,
 * applies its defaults, and rejects each cross-field mistake with an error
 * at the offending line.
 */
#include <netinet/in.h>

#include "lb/lb_conf.h"
#include "runner.h"

static const char t_full[] =
    "workers: 2\n"
    "listeners:\n"
    "  - name: web\n"
    "    bind: 127.0.0.1:8080\n"
    "    mode: http\n"
    "    pool: web\n"
    "    tls:\n"
    "      certificates:\n"
    "        - { cert: /tmp/a.pem, key: /tmp/a.key }\n"
    "      min_version: \"1.3\"\n"
    "    header_timeout: 5s\n"
    "    max_header_size: 12k\n"
    "  - name: raw\n"
    "    bind: \"[::1]:9000\"\n"
    "    mode: tcp\n"
    "    pool: web\n"
    "pools:\n"
    "  - name: web\n"
    "    balance: header\n"
    "    hash_header: X-User\n"
    "    hash_balance_factor: 1.25\n"
    "    zones: [primary, secondary]\n"
    "    failback: hold\n"
    "    failback_hold: 30s\n"
    "    slow_start: 10s\n"
    "    servers:\n"
    "      - { name: a1, address: 198.18.0.10:80, weight: 50, zone: primary,\n"
    "          max_conn: 0, check_address: null }\n"
    "      - { name: b1, address: 198.18.0.20:80, zone: secondary,\n"
    "          check_address: 198.18.1.20 }\n"
    "      - { name: a2, address: 198.18.0.11:80 }\n";

/* Bind text; returns the number of errors, the first one in *first. */
static size_t
t_bind(const char *text, struct lb_conf *c, char *first, size_t flen)
{
	struct conf_errors errs;
	size_t n;

	conf_errors_init(&errs);
	conf_bind_text(&lb_conf_schema, "t.yaml", text, strlen(text), c, &errs);
	n = errs.n;
	if (first != NULL && flen > 0)
		snprintf(first, flen, "%d:%d: %s", n ? errs.v[0].line : 0,
		    n ? errs.v[0].col : 0, n ? errs.v[0].msg : "");
	conf_errors_fini(&errs);
	return n;
}

static void
test_full_example(void)
{
	struct lb_conf c;
	const struct lb_pool_conf *p;
	char err[256];

	T_EQ_INT(t_bind(t_full, &c, err, sizeof(err)), 0);
	T_EQ_INT(c.workers, 2);
	T_EQ_INT(c.nlisteners, 2);
	T_EQ_STR(c.listeners[0].pool, "web");
	T_EQ_INT(c.listeners[0].tls.ncertificates, 1);
	T_EQ_STR(c.listeners[0].tls.certificates[0].key, "/tmp/a.key");
	T_EQ_INT(c.listeners[0].tls.min_version, LB_TLS_1_3);
	T_EQ_INT(c.listeners[0].header_timeout_ms, 5000);
	T_EQ_INT(c.listeners[0].max_header_size, 12288);
	T_EQ_INT(c.listeners[1].mode, LB_MODE_TCP);
	T_EQ_INT(c.listeners[1].bind.ss_family, AF_INET6);
	T_EQ_INT(c.listeners[1].tls.ncertificates, 0);
	p = lb_conf_pool(&c, "web");
	T_ASSERT(p != NULL);
	T_EQ_INT(p->balance, LB_BAL_HEADER);
	T_EQ_INT(p->hash_balance_pct, 125);
	T_EQ_INT(p->nzones, 2);
	T_EQ_INT(p->failback, LB_FAILBACK_HOLD);
	T_EQ_INT(p->slow_start_ms, 10000);
	T_EQ_INT(p->nservers, 3);
	T_EQ_INT(p->servers[0].weight, 50);
	T_ASSERT(!p->servers[0].has_check_address);
	T_ASSERT(p->servers[1].has_check_address);
	T_EQ_INT(lb_conf_server_zone(p, &p->servers[1]), 1);
	/* No zone: the first one. */
	T_EQ_INT(lb_conf_server_zone(p, lb_conf_server(p, "a2")), 0);
	conf_schema_free(&lb_conf_schema, &c);
}

static void
test_defaults(void)
{
	static const char text[] =
	    "listeners:\n"
	    "  - { name: l, bind: 127.0.0.1:1, pool: p }\n"
	    "pools:\n"
	    "  - { name: p, servers: [ { name: s, address: 127.0.0.1:2 } ] }\n";
	struct conf_errors errs;
	struct lb_conf c;
	const struct lb_listener_conf *l;
	const struct lb_pool_conf *p;

	conf_errors_init(&errs);
	T_EQ_INT(conf_schema_check_defaults(&lb_conf_schema, &errs), 0);
	conf_errors_fini(&errs);
	T_EQ_INT(t_bind(text, &c, NULL, 0), 0);
	l = &c.listeners[0];
	T_EQ_INT(l->mode, LB_MODE_HTTP);
	T_EQ_INT(l->max_conn, 20000);
	T_EQ_INT(l->client_timeout_ms, 60000);
	T_EQ_INT(l->header_timeout_ms, 10000);
	T_EQ_INT(l->max_header_size, 16384);
	T_EQ_INT(l->max_headers, 100);
	T_ASSERT(l->forwarded_headers && l->access_log && !l->accept_proxy);
	p = &c.pools[0];
	T_EQ_INT(p->balance, LB_BAL_ROUNDROBIN);
	T_EQ_INT(p->hash_balance_pct, 0);
	T_EQ_INT(p->min_up, 1);
	T_EQ_INT(p->failback, LB_FAILBACK_IMMEDIATE);
	T_EQ_INT(p->failback_hold_ms, 30000);
	T_EQ_INT(p->all_down_status, 503);
	T_EQ_STR(p->all_down_body, "no healthy server\n");
	T_EQ_INT(p->connect_timeout_ms, 2000);
	T_EQ_INT(p->server_timeout_ms, 30000);
	T_EQ_INT(p->retries, 2);
	T_EQ_INT(p->retry_budget_pct, 20);
	T_EQ_INT(p->keepalive, 64);
	T_EQ_INT(p->max_queue, 1000);
	T_EQ_INT(p->queue_timeout_ms, 2000);
	T_EQ_INT(p->servers[0].weight, 100);
	T_EQ_INT(lb_conf_server_max_conn(p, &p->servers[0]), 0);
	conf_schema_free(&lb_conf_schema, &c);
}

/* Each case: a config with one mistake, the line it is on, a message part. */
struct t_bad {
	const char *text;
	int line;
	const char *want;
};

static const struct t_bad t_bads[] = {
	{ "listeners:\n  - { name: l, bind: 127.0.0.1:1, pool: nope }\n"
	  "pools:\n  - { name: p }\n",
	    2, "pool nope is not defined" },
	{ "pools:\n  - name: p\n    zones: [a, b]\n    servers:\n"
	  "      - { name: s, address: 127.0.0.1:2, zone: c }\n",
	    5, "zone c is not in the pool's zones" },
	{ "pools:\n  - name: p\n    balance: header\n", 3,
	    "needs hash_header" },
	{ "pools:\n  - name: p\n    hash_header: X-A\n", 3,
	    "only used with balance: header" },
	{ "pools:\n  - { name: p }\n  - { name: p }\n", 3, "p" },
	{ "pools:\n  - name: p\n    servers:\n"
	  "      - { name: s, address: 127.0.0.1:2 }\n"
	  "      - { name: s, address: 127.0.0.1:3 }\n",
	    5, "s" },
	{ "pools:\n  - name: p\n    hash_balance_factor: 0.5\n", 3,
	    "at least 1.0" },
	{ "pools:\n  - name: p\n    hash_balance_factor: lots\n", 3, "factor" },
	{ "pools:\n  - name: p\n    zones: [a, a]\n", 3, "listed twice" },
	{ "pools:\n  - name: p\n    balanse: leastconn\n", 3, "balanse" },
	{ "pools:\n  - name: p\n    balance: fastest\n", 3, "fastest" },
	{ "pools:\n  - name: p\n    min_up_fraction: 150\n", 3, "" },
	{ "listeners:\n  - { name: l, bind: 127.0.0.1:1, pool: p,"
	  " max_header_size: 32k }\npools:\n  - { name: p }\n",
	    2, "out of range" },
	{ "pools:\n  - name: p\n    server_timeout: 1s\n"
	  "    per_try_timeout: 5s\n",
	    4, "per_try_timeout" },
	{ "pools:\n  - name: p\n    servers:\n      - { name: s }\n", 4,
	    "address" },
	{ "pools:\n  - { name: p }\nlisteners:\n"
	  "  - { name: a, bind: 127.0.0.1:1, pool: p }\n"
	  "  - { name: b, bind: 127.0.0.1:1, pool: p }\n",
	    5, "already used" },
	{ "pools:\n  - { name: p }\nlisteners:\n"
	  "  - { name: a, bind: 127.0.0.1:1, pool: p, max_headers: 1000 }\n",
	    4, "" },
	{ "pools:\n  - { name: p }\nlisteners:\n"
	  "  - { name: a, bind: 127.0.0.1:1, pool: p,\n"
	  "      tls: { certificates: [] } }\n",
	    5, "at least one certificate" },
	{ "pools:\n  - name: p\n    servers:\n"
	  "      - { name: s, address: 1.2.3.4:5, check_address: foo }\n",
	    4, "check_address" },
};

static void
test_errors(void)
{
	struct lb_conf c;
	char err[512];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t_bads); i++) {
		char want[16];

		if (t_bind(t_bads[i].text, &c, err, sizeof(err)) == 0)
			test_fail(__FILE__, __LINE__, "case %zu accepted", i);
		snprintf(want, sizeof(want), "%d:", t_bads[i].line);
		if (strncmp(err, want, strlen(want)) != 0 ||
		    strstr(err, t_bads[i].want) == NULL)
			test_fail(__FILE__, __LINE__,
			    "case %zu: got \"%s\", want line %d and \"%s\"", i,
			    err, t_bads[i].line, t_bads[i].want);
	}
}

/* A stand-in for the top-level schema: lb plus the cross-section check. */
struct t_top {
	struct lb_conf lb;
};

static void
t_top_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	static const char *const checks[] = { "web-http", "tcp" };
	struct t_top *t = obj;

	lb_conf_check_health(
	    ctx, conf_key_node(node, "lb"), &t->lb, checks, ARRAY_SIZE(checks));
}

static const struct conf_key t_top_keys[] = {
	{ .name = "lb",
	    .type = CT_SECTION,
	    .off = offsetof(struct t_top, lb),
	    .sub = &lb_conf_schema },
};

static const struct conf_schema t_top_schema = {
	.name = "top",
	.size = sizeof(struct t_top),
	.keys = t_top_keys,
	.nkeys = ARRAY_SIZE(t_top_keys),
	.check = t_top_check,
};

static void
test_health_cross_check(void)
{
	static const char good[] =
	    "lb:\n  pools:\n    - { name: p, health_check: web-http }\n"
	    "    - { name: q }\n";
	static const char bad[] =
	    "lb:\n  pools:\n    - { name: p, health_check: web-http }\n"
	    "    - { name: q, health_check: nope }\n";
	struct conf_errors errs;
	struct t_top t;

	conf_errors_init(&errs);
	T_EQ_INT(conf_bind_text(
	             &t_top_schema, "t.yaml", good, strlen(good), &t, &errs),
	    0);
	conf_schema_free(&t_top_schema, &t);
	T_ASSERT(conf_bind_text(&t_top_schema, "t.yaml", bad, strlen(bad), &t,
	             &errs) != 0);
	T_EQ_INT(errs.n, 1);
	T_EQ_INT(errs.v[0].line, 4);
	T_ASSERT(strstr(errs.v[0].msg, "health_check nope") != NULL);
	conf_errors_fini(&errs);
}

/*
 * Custom keys read their scalars through conf_node_text(): single-quoted
 * values with '' escapes (which leak through libfyaml 0.7.12's own reader;
 * the ASan build catches that) bind, and are judged on their decoded text.
 */
static void
test_single_quoted(void)
{
	static const char good[] =
	    "pools:\n  - name: p\n    hash_balance_factor: '1.5'\n"
	    "    servers:\n      - { name: a, address: 198.18.0.1:80,\n"
	    "          check_address: '198.18.1.1:8080' }\n";
	static const char bad[] =
	    "pools:\n  - name: p\n    hash_balance_factor: 'nan'\n"
	    "    servers:\n      - { name: a, address: 198.18.0.1:80,\n"
	    "          check_address: 'a''b''c''d''e''f''g''h''i''j' }\n";
	struct lb_conf c;
	char first[256];

	T_EQ_INT(t_bind(good, &c, first, sizeof(first)), 0);
	T_EQ_INT(c.pools[0].hash_balance_pct, 150);
	T_ASSERT(c.pools[0].servers[0].has_check_address);
	T_EQ_INT(
	    ntohs(((struct sockaddr_in *)&c.pools[0].servers[0].check_address)
	              ->sin_port),
	    8080);
	conf_schema_free(&lb_conf_schema, &c);
	/* A NaN factor is refused, not converted. */
	T_EQ_INT(t_bind(bad, &c, first, sizeof(first)), 2);
	T_ASSERT(strstr(first, "hash_balance_factor") != NULL);
}

static const struct test tests[] = {
	TEST(test_single_quoted),
	TEST(test_full_example),
	TEST(test_defaults),
	TEST(test_errors),
	TEST(test_health_cross_check),
};

TEST_MAIN(tests)
