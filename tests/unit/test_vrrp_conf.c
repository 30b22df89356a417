/*
 * Unit tests for vrrp_conf.c: the `vrrp:` schema binds a keepalived-like
 * instance with its defaults, its JSON (GET /v1/config) binds back to the
 * same values, and each cross-field mistake is an error at its line.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "cmd/config.h"
#include "conf_test.h"
#include "lib/json.h"
#include "lib/plane.h"
#include "runner.h"
#include "vrrp/vrrp_conf.h"

static const char t_full[] =
    "instances:\n"
    "  - name: web\n"
    "    interface: eth0\n"
    "    vrid: 51\n"
    "    priority: 150\n"
    "    advert_interval: 100ms\n"
    "    virtual_addresses: [198.18.0.100/24, 198.18.0.101]\n"
    "    unicast_peers: [198.18.0.2]\n"
    "    preempt: after healthy 30s\n"
    "    track_interfaces: [{ name: eth1, weight: 50 }]\n"
    "    track_checks:\n"
    "      - { name: app, address: 198.18.0.1:8080, check: web-http }\n"
    "    track_pools: [{ pool: api, min_up: 2, weight: 30 }, { pool: db }]\n"
    "  - name: v6\n"
    "    interface: eth0\n"
    "    vrid: 51\n"
    "    virtual_addresses: [fe80::1:100, 2001:db8::100/64]\n";

static size_t
t_bind(const char *text, struct vrrp_conf *c, char *first, size_t flen)
{
	return t_conf_bind(&vrrp_conf_schema, text, c, first, flen);
}

static void
t_check_full(const struct vrrp_conf *c)
{
	const struct vrrp_instance_conf *w = &c->instances[0];
	const struct vrrp_instance_conf *v6 = &c->instances[1];

	T_EQ_INT(c->ninstances, 2);
	T_EQ_INT(w->vrid, 51);
	T_EQ_INT(w->priority, 150);
	T_EQ_INT(w->version, 3);
	T_EQ_INT(w->advert_interval_ms, 100);
	T_EQ_INT(w->nvaddrs, 2);
	T_EQ_INT(w->vaddrs[0].prefix, 24);
	T_EQ_INT(w->vaddrs[1].prefix, 32);
	T_EQ_INT(w->family, AF_INET);
	T_EQ_INT(w->npeers, 1);
	T_EQ_INT(w->preempt, VRRP_CONF_PREEMPT_AFTER_HEALTHY);
	T_EQ_INT(w->preempt_delay_ms, 30000);
	T_ASSERT(w->stop_zero);
	T_EQ_INT(w->checksum, VRRP_CONF_CSUM_PSEUDO);
	T_EQ_INT(w->garp.master_repeat, 5);
	T_EQ_INT(w->garp.master_delay_ms, 5000);
	T_EQ_INT(w->ntrack_interfaces, 1);
	T_EQ_INT(w->track_interfaces[0].weight, 50);
	T_EQ_INT(w->ntrack_checks, 1);
	T_EQ_STR(w->track_checks[0].check, "web-http");
	T_EQ_INT(w->ntrack_pools, 2);
	T_EQ_STR(w->track_pools[0].pool, "api");
	T_EQ_INT(w->track_pools[0].min_up, 2);
	T_EQ_INT(w->track_pools[0].weight, 30);
	T_EQ_INT(w->track_pools[1].min_up, 1); /* defaults: one up, FAULT */
	T_EQ_INT(w->track_pools[1].weight, 0);
	/* defaults: keepalived's */
	T_EQ_INT(v6->priority, 100);
	T_EQ_INT(v6->advert_interval_ms, 1000);
	T_EQ_INT(v6->preempt, VRRP_CONF_PREEMPT_IMMEDIATE);
	T_EQ_INT(v6->family, AF_INET6);
	T_EQ_INT(v6->vaddrs[0].prefix, 128);
	T_EQ_INT(v6->vaddrs[1].prefix, 64);
}

static void
t_full_binds(void)
{
	struct vrrp_conf c;
	char first[256];

	T_EQ_INT(t_bind(t_full, &c, first, sizeof(first)), 0);
	t_check_full(&c);
	conf_schema_free(&vrrp_conf_schema, &c);
}

/* GET /v1/config gives JSON that binds back to the same section. */
static void
t_json_round_trip(void)
{
	struct vrrp_conf c, back;
	struct conf_errors errs;
	struct buf b;
	struct jw w;

	T_EQ_INT(t_bind(t_full, &c, NULL, 0), 0);
	buf_init(&b);
	jw_init(&w, &b);
	conf_to_json(&vrrp_conf_schema, &c, &w);
	T_EQ_INT(jw_finish(&w), 0);
	T_ASSERT(strstr(b.data, "\"after healthy 30s\"") != NULL);
	T_ASSERT(strstr(b.data, "\"198.18.0.100/24\"") != NULL);
	conf_errors_init(&errs);
	T_EQ_INT(conf_bind_json(
	             &vrrp_conf_schema, "json", b.data, b.len, &back, &errs),
	    0);
	t_check_full(&back);
	conf_errors_fini(&errs);
	conf_schema_free(&vrrp_conf_schema, &back);
	conf_schema_free(&vrrp_conf_schema, &c);
	buf_fini(&b);
}

static void
t_errors(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "instances: [{ name: a, interface: e, vrid: 1, "
		  "virtual_addresses: [198.18.0.1], preempt: later }]",
		    "1:89: preempt: expected never" },
		{ "instances: [{ name: a, interface: e, vrid: 1, "
		  "virtual_addresses: [198.18.0.1/33] }]",
		    "1:67: expected an address with an optional prefix" },
		{ "instances: [{ name: a, interface: e, vrid: 1, "
		  "virtual_addresses: [] }]",
		    "1:66: virtual_addresses: at least one address" },
		{ "instances: [{ name: a, interface: e, vrid: 1, "
		  "virtual_addresses: [198.18.0.1, '2001:db8::1'] }]",
		    "1:79: virtual_addresses: all of one family" },
		{ "instances: [{ name: a, interface: e, vrid: 1, version: 3, "
		  "advert_interval: 15ms, virtual_addresses: [198.18.0.1] }]",
		    "1:76: advert_interval: version 3 carries centiseconds" },
		{ "instances: [{ name: a, interface: e, vrid: 1, priority: 255, "
		  "preempt: never, virtual_addresses: [198.18.0.1] }]",
		    "1:71: preempt: the address owner" },
		{ "instances: [{ name: a, interface: e, vrid: 1, "
		  "virtual_addresses: [198.18.0.1], unicast_peers: ['::1'] }]",
		    "1:96: unicast_peers: not the family" },
		{ "instances:\n"
		  "  - { name: a, interface: e, vrid: 7, "
		  "virtual_addresses: [198.18.0.1] }\n"
		  "  - { name: b, interface: e, vrid: 7, "
		  "virtual_addresses: [198.18.0.2] }\n",
		    "3:5: instance b: interface e vrid 7 is already instance a" },
		{ "instances: [{ name: a, interface: e, vrid: 1, "
		  "virtual_addresses: [198.18.0.1], "
		  "track_pools: [{ pool: p }, { pool: p, weight: 5 }] }]",
		    "1:107: track_pools: pool p is tracked twice" },
		{ "instances: [{ name: a, interface: e, vrid: 1, "
		  "virtual_addresses: [198.18.0.1], "
		  "track_pools: [{ pool: p, min_up: 0 }] }]",
		    "1:113: min_up 0 out of range" },
		{ "instances: [{ name: a, interface: e, vrid: 1, "
		  "virtual_addresses: [198.18.0.1], "
		  "track_pools: [{ min_up: 1 }] }]",
		    "1:94: missing required key 'pool'" },
	};
	struct vrrp_conf c;
	char first[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T_ASSERT(t_bind(cases[i].text, &c, first, sizeof(first)) >= 1);
		if (strncmp(first, cases[i].want, strlen(cases[i].want)) != 0)
			test_fail(__FILE__, __LINE__, "case %zu: got \"%s\"", i,
			    first);
	}
}

/* Each track_checks entry is one health target, named for the plane. */
static void
t_targets(void)
{
	struct plane_target *t;
	struct vrrp_conf c;
	size_t n;

	T_EQ_INT(t_bind(t_full, &c, NULL, 0), 0);
	n = vrrp_conf_targets(&c, &t);
	T_EQ_INT(n, 1);
	T_EQ_STR(t[0].name, "vrrp:web/app");
	T_EQ_STR(t[0].owner, "web");
	T_EQ_STR(t[0].check, "web-http");
	T_EQ_INT(ntohs(((struct sockaddr_in *)&t[0].addr)->sin_port), 8080);
	free(t);
	conf_schema_free(&vrrp_conf_schema, &c);
}

/*
 * A whole config: an lb pool with a health_check and one without, and a
 * vrrp instance tracking pools. Line 18 is the vrrp instance's
 * track_pools entry, at column 19 the pool.
 */
static const char t_haven[] =
    "health:\n"
    "  checks: [{ name: web-http, type: http, path: / }]\n"
    "lb:\n"
    "  pools:\n"
    "    - name: web\n"
    "      health_check: web-http\n"
    "      servers:\n"
    "        - { name: s1, address: '198.18.0.5:80' }\n"
    "        - { name: s2, address: '198.18.0.6:80' }\n"
    "    - { name: bare, servers: [{ name: s1, address: '198.18.0.7:80' }] "
    "}\n"
    "vrrp:\n"
    "  instances:\n"
    "    - name: web\n"
    "      interface: eth0\n"
    "      vrid: 1\n"
    "      virtual_addresses: [198.18.0.100]\n"
    "      track_pools:\n"
    "        - { pool: %s, min_up: %s, weight: 10 }\n";

static size_t
t_haven_load(const char *pool, const char *min_up, char *first, size_t flen)
{
	struct conf_errors errs;
	struct haven_conf c;
	char text[2048];
	size_t n;
	int len = snprintf(text, sizeof(text), t_haven, pool, min_up);

	conf_errors_init(&errs);
	if (haven_conf_load_text("h.yaml", text, (size_t)len, &c, &errs, 0) ==
	    0)
		haven_conf_free(&c);
	n = errs.n;
	snprintf(first, flen, "%d:%d: %s", n ? errs.v[0].line : 0,
	    n ? errs.v[0].col : 0, n ? errs.v[0].msg : "");
	conf_errors_fini(&errs);
	return n;
}

/*
 * track_pools names an lb pool whose servers are health-checked: an
 * unknown pool and a pool without health_check are refused at the pool
 * key, a min_up above the pool's checked servers at min_up; the lb
 * targets the instance will count carry their plane.
 */
static void
t_track_pool_refs(void)
{
	char first[512];

	T_EQ_INT(t_haven_load("web", "2", first, sizeof(first)), 0);
	T_EQ_INT(t_haven_load("nope", "1", first, sizeof(first)), 1);
	T_EQ_STR(first,
	    "18:19: instance web: pool nope is not in lb.pools or has no "
	    "health_check (no verdict would ever count its servers)");
	T_EQ_INT(t_haven_load("bare", "1", first, sizeof(first)), 1);
	T_ASSERT(strncmp(first, "18:19: instance web: pool bare is not in",
	             40) == 0);
	T_EQ_INT(t_haven_load("web", "3", first, sizeof(first)), 1);
	T_EQ_STR(first,
	    "18:32: instance web: min_up 3 but pool web has 2 "
	    "health-checked servers");
}

/* A pool's servers are lb's targets owned by the pool, and only those. */
static void
t_pool_server(void)
{
	struct plane_target t;

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "web/s1");
	snprintf(t.owner, sizeof(t.owner), "web");
	t.plane = "lb";
	T_ASSERT(vrrp_conf_pool_server(&t, "web"));
	T_ASSERT(!vrrp_conf_pool_server(&t, "api"));
	/* vrrp's own targets are owned by an instance that may share the
	 * pool's name: not servers. */
	t.plane = "vrrp";
	T_ASSERT(!vrrp_conf_pool_server(&t, "web"));
	t.plane = NULL;
	T_ASSERT(!vrrp_conf_pool_server(&t, "web"));
}

static const struct test tests[] = {
	TEST(t_full_binds),
	TEST(t_json_round_trip),
	TEST(t_errors),
	TEST(t_targets),
	TEST(t_track_pool_refs),
	TEST(t_pool_server),
};

TEST_MAIN(tests)
