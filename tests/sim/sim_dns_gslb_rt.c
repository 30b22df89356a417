/*
 * sim_dns_gslb_rt.c - the GSLB runtime of a dns worker on the simulated
 * clock: health verdicts switching a name to its backup set, preemptive
 * failback after hold_down run by the runtime's own timer, non-preemptive
 * failback by the operator's POST, DR plans executed and rolled back by
 * the API and by rollback_after, the event log with its sequence numbers
 * and audit (who), persistence across a "restart" (a new runtime on the
 * same state directory), and the API's errors.
 *
 * The config is bound from YAML with a schema local to this test that
 * holds the dns section's GSLB lists (the real section is dns_conf.c's),
 * and checked with dns_gslb_conf_check, as the section's hook does.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "dns/dns_gslb_rt.h"
#include "hc/hc.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "lib/plane.h"
#include "lib/statefile.h"
#include "lib/util.h"
#include "unit/conf_test.h"
#include "unit/runner.h"

static void
t_conf_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	dns_gslb_conf_check(ctx, node, obj);
}

static const struct conf_key t_keys[] = {
	{ .name = "regions",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_gslb_conf, regions),
	    .sub = &dns_region_schema,
	    .count_off = offsetof(struct dns_gslb_conf, nregions) },
	{ .name = "pools",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_gslb_conf, pools),
	    .sub = &dns_pool_schema,
	    .count_off = offsetof(struct dns_gslb_conf, npools) },
	{ .name = "names",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_gslb_conf, names),
	    .sub = &dns_gname_schema,
	    .count_off = offsetof(struct dns_gslb_conf, nnames) },
	{ .name = "plans",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_gslb_conf, plans),
	    .sub = &dns_plan_schema,
	    .count_off = offsetof(struct dns_gslb_conf, nplans) },
	{ .name = "alarms",
	    .type = CT_SECTION,
	    .off = offsetof(struct dns_gslb_conf, alarms),
	    .sub = &hook_alarm_schema },
};

static const struct conf_schema t_schema = {
	.name = "dns",
	.size = sizeof(struct dns_gslb_conf),
	.keys = t_keys,
	.nkeys = ARRAY_SIZE(t_keys),
	.check = t_conf_check,
};

/* Two sites of one address each; one name; a plan forcing site-a off. */
#define T_CONF(failback)                                                       \
	"pools:\n"                                                             \
	"  - name: site-a\n"                                                   \
	"    check: web\n"                                                     \
	"    addresses: [{address: 198.18.1.10}]\n"                            \
	"  - name: site-b\n"                                                   \
	"    check: web\n"                                                     \
	"    addresses: [{address: 198.18.2.10}]\n"                            \
	"names:\n"                                                             \
	"  - name: www.example.com\n"                                          \
	"    ttl: 30s\n"                                                       \
	"    degraded_ttl: 5s\n"                                               \
	"    policies:\n"                                                      \
	"      - pools: [site-a]\n"                                            \
	"        backup: [site-b]\n"                                           \
	"        failback: " failback "\n"                                     \
	"        hold_down: 30s\n"                                             \
	"plans:\n"                                                             \
	"  - name: lose-a\n"                                                   \
	"    pools: [site-a]\n"                                                \
	"    rollback_after: 10m\n"

static struct dns_gslb_conf *
t_conf(const char *text)
{
	struct dns_gslb_conf *c = xcalloc(1, sizeof(*c));
	char first[512];

	if (t_conf_bind(&t_schema, text, c, first, sizeof(first)) != 0)
		test_fail(__FILE__, __LINE__, "config: %s", first);
	return c;
}

static void
t_conf_free(struct dns_gslb_conf *c)
{
	conf_schema_free(&t_schema, c);
	free(c);
}

/* The A answer for name 0 to a client without ECS, as "a.b.c.d,...". */
static const char *
t_answer(struct dns_gslb_rt *rt)
{
	static char out[256];
	const struct dns_dyn *d = dns_gslb_rt_dyn(rt);
	struct dns_client cl = { .family = AF_INET, .bits = 32 };
	struct dns_dyn_answer a;
	char ip[INET_ADDRSTRLEN];
	unsigned i;

	inet_pton(AF_INET, "198.18.200.1", cl.addr);
	T_ASSERT(d->answer != NULL);
	T_EQ_INT(d->answer(d->provider, 0, DNS_TYPE_A, &cl, &a), 0);
	out[0] = '\0';
	for (i = 0; i < a.count; i++) {
		T_EQ_INT(a.rdata[i].len, 4);
		inet_ntop(AF_INET, a.rdata[i].data, ip, sizeof(ip));
		if (i > 0)
			strcat(out, ",");
		strcat(out, ip);
	}
	return out;
}

static void
t_verdict(struct dns_gslb_rt *rt, const char *target, int state)
{
	struct ipc_verdict v = { .state = state };

	snprintf(v.target, sizeof(v.target), "%s", target);
	dns_gslb_rt_verdict(rt, &v);
}

/* A query's status; its body in out (reset first). */
static int
t_query(struct dns_gslb_rt *rt, const char *method, const char *path,
    struct buf *out)
{
	buf_reset(out);
	return dns_gslb_rt_query(rt, method, path, "", 0, out);
}

static bool
t_has(const struct buf *b, const char *s)
{
	return b->data != NULL && strstr(b->data, s) != NULL;
}

#define T_HAS(b, s)                                                            \
	do {                                                                   \
		if (!t_has((b), (s)))                                          \
			test_fail(__FILE__, __LINE__, "no %s in %s", (s),      \
			    (b)->data ? (b)->data : "(null)");                 \
	} while (0)

static void
test_failover_and_preemptive_failback(void)
{
	struct ev_loop *loop = ev_loop_new_sim(1000);
	struct dns_gslb_rt *rt = dns_gslb_rt_new(loop, 1);
	struct dns_gslb_conf *c = t_conf(T_CONF("preemptive"));
	struct buf b;

	buf_init(&b);
	T_EQ_INT(dns_gslb_rt_apply(rt, c, NULL, NULL, 0), 0);
	T_EQ_STR(t_answer(rt), "198.18.1.10");
	t_verdict(rt, "site-a/198.18.1.10", HC_DOWN);
	T_EQ_STR(t_answer(rt), "198.18.2.10");
	/* Not ours, and not probed yet: nothing changes. */
	t_verdict(rt, "web/other", HC_DOWN);
	t_verdict(rt, "site-b/198.18.2.10", HC_UNKNOWN);
	T_EQ_STR(t_answer(rt), "198.18.2.10");
	t_verdict(rt, "site-a/198.18.1.10", HC_UP);
	T_EQ_STR(t_answer(rt), "198.18.2.10");
	ev_sim_advance(loop, 29000);
	T_EQ_STR(t_answer(rt), "198.18.2.10");
	/* The hold-down ends on the runtime's own timer. */
	ev_sim_advance(loop, 1500);
	T_EQ_STR(t_answer(rt), "198.18.1.10");
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/events?since=0", &b), 200);
	T_HAS(&b, "\"kind\":\"address_down\"");
	T_HAS(&b, "\"kind\":\"switch\",\"name\":\"www.example.com\"");
	T_HAS(&b, "\"from\":\"default\",\"to\":\"backup\",\"who\":\"health\"");
	T_HAS(&b, "\"from\":\"backup\",\"to\":\"default\",\"who\":\"timer\"");
	T_HAS(&b, "\"lost\":false");
	buf_reset(&b);
	dns_gslb_rt_metrics(rt, &b);
	T_HAS(&b, "haven_dns_gslb_switches_total{name=\"www.example.com\"} 2");
	T_HAS(&b, "haven_dns_gslb_plan_executed{plan=\"lose-a\"} 0");
	T_HAS(
	    &b, "haven_dns_gslb_verdicts_ignored_total{reason=\"foreign\"} 1");
	T_HAS(&b,
	    "haven_dns_gslb_policy_set{name=\"www.example.com\","
	    "policy=\"default\",set=\"default\"} 1");
	T_HAS(&b,
	    "haven_dns_gslb_policy_set{name=\"www.example.com\","
	    "policy=\"default\",set=\"backup\"} 0");
	T_HAS(&b,
	    "haven_dns_gslb_address_up{pool=\"site-a\","
	    "address=\"198.18.1.10\"} 1");
	buf_fini(&b);
	dns_gslb_rt_free(rt);
	t_conf_free(c);
	ev_loop_free(loop);
}

static void
test_nonpreemptive_operator_failback(void)
{
	struct ev_loop *loop = ev_loop_new_sim(1000);
	struct dns_gslb_rt *rt = dns_gslb_rt_new(loop, 1);
	struct dns_gslb_conf *c = t_conf(T_CONF("non-preemptive"));
	struct buf b;

	buf_init(&b);
	T_EQ_INT(dns_gslb_rt_apply(rt, c, NULL, NULL, 0), 0);
	t_verdict(rt, "site-a/198.18.1.10", HC_DOWN);
	T_EQ_STR(t_answer(rt), "198.18.2.10");
	/* Default set down: the operator cannot fail back yet. */
	T_EQ_INT(
	    t_query(rt, "POST", "/v1/dns/names/www.example.com/failback", &b),
	    409);
	t_verdict(rt, "site-a/198.18.1.10", HC_UP);
	ev_sim_advance(loop, 3600 * 1000);
	T_EQ_STR(t_answer(rt), "198.18.2.10");
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/failback", &b), -ENOENT);
	T_EQ_INT(
	    t_query(rt, "GET", "/v1/dns/names/www.example.com/failback", &b),
	    405);
	T_EQ_INT(
	    t_query(rt, "POST", "/v1/dns/names/nope.example.com/failback", &b),
	    404);
	/* Case and a trailing dot do not matter. */
	T_EQ_INT(
	    t_query(rt, "POST", "/v1/dns/names/WWW.example.com./failback", &b),
	    200);
	T_EQ_STR(t_answer(rt), "198.18.1.10");
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/events", &b), 200);
	T_HAS(&b, "\"kind\":\"failback\",\"name\":\"www.example.com\"");
	T_HAS(&b, "\"who\":\"api\"");
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/names/www.example.com", &b), 200);
	T_HAS(&b, "\"switches\":2");
	buf_fini(&b);
	dns_gslb_rt_free(rt);
	t_conf_free(c);
	ev_loop_free(loop);
}

static void
test_plan_execute_and_auto_rollback(void)
{
	struct ev_loop *loop = ev_loop_new_sim(1000);
	struct dns_gslb_rt *rt = dns_gslb_rt_new(loop, 1);
	struct dns_gslb_conf *c = t_conf(T_CONF("preemptive"));
	struct buf b;

	buf_init(&b);
	T_EQ_INT(dns_gslb_rt_apply(rt, c, NULL, NULL, 0), 0);
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/plans/lose-a/preview", &b), 200);
	T_HAS(&b, "\"plan\":\"lose-a\"");
	/* A preview changes nothing. */
	T_EQ_STR(t_answer(rt), "198.18.1.10");
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/plans/lose-a/execute", &b), 405);
	T_EQ_INT(t_query(rt, "POST", "/v1/dns/plans/nope/execute", &b), 404);
	T_EQ_INT(t_query(rt, "POST", "/v1/dns/plans/lose-a/execute", &b), 200);
	T_HAS(&b, "\"state\":\"executed\"");
	T_HAS(&b, "\"by\":\"api\"");
	T_EQ_STR(t_answer(rt), "198.18.2.10");
	T_EQ_INT(t_query(rt, "POST", "/v1/dns/plans/lose-a/execute", &b), 409);
	ev_sim_advance(loop, 599 * 1000);
	T_EQ_STR(t_answer(rt), "198.18.2.10");
	ev_sim_advance(loop, 2000);
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/plans/lose-a", &b), 200);
	T_HAS(&b, "\"state\":\"rolled-back\"");
	T_HAS(&b, "\"by\":\"timer\"");
	/* Rolled back: the default set serves again (preemptive, hold_down
	 * applies to a set that was down, so allow for it). */
	ev_sim_advance(loop, 31000);
	T_EQ_STR(t_answer(rt), "198.18.1.10");
	T_EQ_INT(t_query(rt, "POST", "/v1/dns/plans/lose-a/rollback", &b), 409);
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/events?since=0", &b), 200);
	T_HAS(&b,
	    "\"plan\":\"lose-a\",\"from\":\"unexecuted\","
	    "\"to\":\"executed\",\"who\":\"api\"");
	T_HAS(&b,
	    "\"plan\":\"lose-a\",\"from\":\"executed\","
	    "\"to\":\"rolled-back\",\"who\":\"timer\"");
	buf_reset(&b);
	dns_gslb_rt_metrics(rt, &b);
	T_HAS(&b,
	    "haven_dns_gslb_plan_actions_total{plan=\"lose-a\","
	    "action=\"rollback\"} 1");
	buf_fini(&b);
	dns_gslb_rt_free(rt);
	t_conf_free(c);
	ev_loop_free(loop);
}

static void
test_events_since(void)
{
	struct ev_loop *loop = ev_loop_new_sim(1000);
	struct dns_gslb_rt *rt = dns_gslb_rt_new(loop, 1);
	struct dns_gslb_conf *c = t_conf(T_CONF("preemptive"));
	struct buf b;
	unsigned long long newest;
	char path[64];
	int i;

	buf_init(&b);
	T_EQ_INT(dns_gslb_rt_apply(rt, c, NULL, NULL, 0), 0);
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/events?since=x", &b), 400);
	T_EQ_INT(t_query(rt, "POST", "/v1/dns/events", &b), 405);
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/eventsX", &b), -ENOENT);
	T_EQ_INT(t_query(rt, "GET", "/v1/dns", &b), -ENOENT);
	/* Enough flaps to wrap the ring. */
	for (i = 0; i < 1200; i++)
		t_verdict(rt, "site-b/198.18.2.10", i % 2 ? HC_UP : HC_DOWN);
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/events?since=0", &b), 200);
	T_HAS(&b, "\"lost\":true");
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/events?since=99999", &b), 200);
	T_HAS(&b, "\"lost\":true");
	newest = strtoull(strstr(b.data, "\"newest\":") + 9, NULL, 10);
	T_ASSERT(newest >= 1200);
	snprintf(path, sizeof(path), "/v1/dns/events?since=%llu", newest - 3);
	T_EQ_INT(t_query(rt, "GET", path, &b), 200);
	T_HAS(&b, "\"lost\":false");
	/* Exactly the three newest, oldest first. */
	T_ASSERT(strstr(b.data, "\"seq\":") != NULL);
	T_EQ_INT(
	    strtoull(strstr(b.data, "\"seq\":") + 6, NULL, 10), newest - 2);
	buf_fini(&b);
	dns_gslb_rt_free(rt);
	t_conf_free(c);
	ev_loop_free(loop);
}

static void
t_rmdir(const char *dir)
{
	char *p;

	p = xasprintf("%s/%s", dir, DNS_GSLB_RT_STATE);
	unlink(p);
	free(p);
	p = xasprintf("%s/%s", dir, DNS_GSLB_RT_PLANS);
	unlink(p);
	free(p);
	rmdir(dir);
}

static void
test_restart_serves_persisted_state(void)
{
	char dir[] = "/tmp/sim_dns_gslb_rt.XXXXXX";
	struct ev_loop *loop = ev_loop_new_sim(1000);
	struct dns_gslb_conf *c = t_conf(T_CONF("non-preemptive"));
	struct dns_gslb_rt *rt;
	struct buf b;

	T_ASSERT(mkdtemp(dir) != NULL);
	buf_init(&b);
	rt = dns_gslb_rt_new(loop, 0);
	T_EQ_INT(dns_gslb_rt_apply(rt, c, dir, NULL, 0), 0);
	t_verdict(rt, "site-a/198.18.1.10", HC_DOWN);
	T_EQ_INT(t_query(rt, "POST", "/v1/dns/plans/lose-a/execute", &b), 200);
	/* Coalesced: written within DNS_GSLB_RT_SAVE_MS. */
	ev_sim_advance(loop, DNS_GSLB_RT_SAVE_MS + 1);
	T_EQ_INT(statefile_read(dir, DNS_GSLB_RT_STATE, &b), 0);
	buf_reset(&b);
	T_EQ_INT(statefile_read(dir, DNS_GSLB_RT_PLANS, &b), 0);
	T_HAS(&b, "plan lose-a executed ");
	dns_gslb_rt_free(rt);

	/* A new process: what was true is served before any verdict. */
	rt = dns_gslb_rt_new(loop, 0);
	T_EQ_INT(dns_gslb_rt_apply(rt, c, dir, NULL, 0), 0);
	T_EQ_STR(t_answer(rt), "198.18.2.10");
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/plans/lose-a", &b), 200);
	T_HAS(&b, "\"state\":\"executed\"");
	/* Its rollback timer came back too. */
	ev_sim_advance(loop, 601 * 1000);
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/plans/lose-a", &b), 200);
	T_HAS(&b, "\"state\":\"rolled-back\"");
	/* site-a is still down (restored): backup stays. */
	T_EQ_STR(t_answer(rt), "198.18.2.10");
	dns_gslb_rt_free(rt);
	buf_fini(&b);
	t_conf_free(c);
	ev_loop_free(loop);
	t_rmdir(dir);
}

/*
 * Worker 0 is down while an operator executes a plan on worker 1; the
 * restarted worker 0 restores it from the file worker 1 wrote.
 */
static void
test_restart_sees_another_workers_change(void)
{
	char dir[] = "/tmp/sim_dns_gslb_rt.XXXXXX";
	struct ev_loop *loop = ev_loop_new_sim(1000);
	struct dns_gslb_conf *c = t_conf(T_CONF("preemptive"));
	struct dns_gslb_rt *w1, *w0;
	struct buf b;

	T_ASSERT(mkdtemp(dir) != NULL);
	buf_init(&b);
	w1 = dns_gslb_rt_new(loop, 1);
	T_EQ_INT(dns_gslb_rt_apply(w1, c, dir, NULL, 0), 0);
	T_EQ_INT(t_query(w1, "POST", "/v1/dns/plans/lose-a/execute", &b), 200);
	ev_sim_advance(loop, DNS_GSLB_RT_SAVE_MS + 1);
	w0 = dns_gslb_rt_new(loop, 0);
	T_EQ_INT(dns_gslb_rt_apply(w0, c, dir, NULL, 0), 0);
	T_EQ_STR(t_answer(w0), "198.18.2.10");
	T_EQ_INT(t_query(w0, "GET", "/v1/dns/plans/lose-a", &b), 200);
	T_HAS(&b, "\"state\":\"executed\"");
	T_HAS(&b, "\"by\":\"api\"");
	dns_gslb_rt_free(w0);
	dns_gslb_rt_free(w1);
	buf_fini(&b);
	t_conf_free(c);
	ev_loop_free(loop);
	t_rmdir(dir);
}

/* A reload keeps the served set, counters and plan state by name. */
static void
test_reload_keeps_state(void)
{
	struct ev_loop *loop = ev_loop_new_sim(1000);
	struct dns_gslb_rt *rt = dns_gslb_rt_new(loop, 1);
	struct dns_gslb_conf *c = t_conf(T_CONF("non-preemptive"));
	struct dns_gslb_conf *c2 = t_conf(T_CONF("non-preemptive"));
	const struct dns_dyn *d = dns_gslb_rt_dyn(rt);
	struct buf b;

	buf_init(&b);
	T_EQ_INT(dns_gslb_rt_apply(rt, c, NULL, NULL, 0), 0);
	t_verdict(rt, "site-a/198.18.1.10", HC_DOWN);
	t_verdict(rt, "site-a/198.18.1.10", HC_UP);
	T_EQ_STR(t_answer(rt), "198.18.2.10");
	T_EQ_INT(dns_gslb_rt_apply(rt, c2, NULL, NULL, 0), 0);
	t_conf_free(c);
	T_ASSERT(dns_gslb_rt_dyn(rt) == d);
	T_EQ_STR(t_answer(rt), "198.18.2.10");
	dns_gslb_rt_metrics(rt, &b);
	T_HAS(&b, "haven_dns_gslb_switches_total{name=\"www.example.com\"} 1");
	buf_fini(&b);
	dns_gslb_rt_free(rt);
	t_conf_free(c2);
	ev_loop_free(loop);
}

/* `haven status` from GET /v1/dns's member, as the CLI gets it. */
static void
test_status_lines(void)
{
	char path[] = "/tmp/sim_dns_gslb_rt_status.XXXXXX";
	struct ev_loop *loop = ev_loop_new_sim(1000);
	struct dns_gslb_rt *rt = dns_gslb_rt_new(loop, 0);
	struct dns_gslb_conf *c = t_conf(T_CONF("preemptive"));
	struct conf_errors errs;
	struct conf_tree t;
	struct buf b;
	struct jw w;
	int fd, saved;
	struct plane_target tg = {
		.name = "site-a/198.18.1.10", .plane = "dns", .detect_ms = 3375
	};

	buf_init(&b);
	T_EQ_INT(dns_gslb_rt_apply(rt, c, NULL, &tg, 1), 0);
	t_verdict(rt, "site-a/198.18.1.10", HC_DOWN);
	T_EQ_INT(t_query(rt, "POST", "/v1/dns/plans/lose-a/execute", &b), 200);
	buf_reset(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	dns_gslb_rt_json(rt, &w);
	jw_obj_end(&w);
	T_EQ_INT(jw_finish(&w), 0);
	conf_tree_init(&t);
	conf_errors_init(&errs);
	T_EQ_INT(conf_json_load("t", b.data, b.len, &t, &errs), 0);
	T_ASSERT((fd = mkstemp(path)) >= 0);
	fflush(stdout);
	saved = dup(1);
	T_ASSERT(dup2(fd, 1) == 1);
	dns_gslb_rt_status_print(t.root);
	fflush(stdout);
	T_ASSERT(dup2(saved, 1) == 1);
	close(saved);
	close(fd);
	buf_reset(&b);
	T_EQ_INT(statefile_read("/tmp", strrchr(path, '/') + 1, &b), 0);
	unlink(path);
	T_HAS(&b, "GSLB NAME");
	T_HAS(&b, "www.example.com");
	T_HAS(&b, "backup");
	T_HAS(&b, "degraded addresses:\n    site-a/198.18.1.10\n");
	T_HAS(&b, "plan lose-a: executed (by api)");
	T_HAS(&b, "3.4s + ttl 30.0s = 33.4s");
	conf_errors_fini(&errs);
	conf_tree_fini(&t);
	buf_fini(&b);
	dns_gslb_rt_free(rt);
	t_conf_free(c);
	ev_loop_free(loop);
}

/* Each name shows its switch-time budget: the slowest detection among
 * its pools' targets (as the parent's collector sets them) plus its TTL;
 * targets of other planes, or of pools it does not name, do not count. */
static void
test_switch_budget(void)
{
	struct ev_loop *loop = ev_loop_new_sim(1000);
	struct dns_gslb_rt *rt = dns_gslb_rt_new(loop, 0);
	struct dns_gslb_conf *c = t_conf(T_CONF("preemptive"));
	struct plane_target t[4] = {
		{ .name = "site-a/198.18.1.10",
		    .plane = "dns",
		    .detect_ms = 3350 },
		{ .name = "site-b/198.18.2.10",
		    .plane = "dns",
		    .detect_ms = 4000 },
		{ .name = "site-b/198.18.2.10",
		    .plane = "lb",
		    .detect_ms = 90000 },
		{ .name = "site-c/198.18.3.10",
		    .plane = "dns",
		    .detect_ms = 80000 },
	};
	struct buf b;

	buf_init(&b);
	T_EQ_INT(dns_gslb_rt_apply(rt, c, NULL, t, 4), 0);
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/names/www.example.com", &b), 200);
	T_HAS(&b, "\"detect_ms\":4000,\"switch_budget_ms\":34000");
	/* Without health-checked targets the budget is unknown. */
	T_EQ_INT(dns_gslb_rt_apply(rt, c, NULL, NULL, 0), 0);
	T_EQ_INT(t_query(rt, "GET", "/v1/dns/names", &b), 200);
	T_HAS(&b, "\"detect_ms\":null,\"switch_budget_ms\":null");
	buf_fini(&b);
	dns_gslb_rt_free(rt);
	t_conf_free(c);
	ev_loop_free(loop);
}

static const struct test tests[] = {
	TEST(test_switch_budget),
	TEST(test_failover_and_preemptive_failback),
	TEST(test_nonpreemptive_operator_failback),
	TEST(test_plan_execute_and_auto_rollback),
	TEST(test_events_since),
	TEST(test_restart_serves_persisted_state),
	TEST(test_reload_keeps_state),
	TEST(test_restart_sees_another_workers_change),
	TEST(test_status_lines),
};

TEST_MAIN(tests)
