/*
 * Unit tests for dns_gslb.c and dns_gslb_view.c: the traffic manager's
 * rules on made-up timestamps. Configs are YAML bound by the real
 * schemas (dns_gslb_test.h); answers are read back as text, events as
 * one line each, so each test reads as the scenario it checks.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>

#include "conf_test.h"
#include "dns/dns_gslb.h"
#include "dns_gslb_test.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/plane.h"
#include "lib/util.h"
#include "runner.h"

#define T_A    1
#define T_AAAA 28

struct t_log {
	char line[64][160];
	int n;
};

static void
t_ev(const struct dns_gslb_event *e, void *arg)
{
	static const char *const kinds[] = { "addr-down", "addr-up",
		"pool-down", "pool-up", "switch", "plan" };
	struct t_log *l = arg;

	if (l->n == 64)
		return;
	if (e->kind == DNS_GSLB_SWITCH || e->kind == DNS_GSLB_PLAN)
		snprintf(l->line[l->n++], sizeof(l->line[0]), "%s %s%s%s %s>%s",
		    kinds[e->kind], e->name, e->policy ? " " : "",
		    e->policy ? e->policy : "", e->from, e->to);
	else
		snprintf(l->line[l->n++], sizeof(l->line[0]), "%s %s%s%s",
		    kinds[e->kind], e->pool, e->address ? " " : "",
		    e->address ? e->address : "");
}

/* The events logged so far joined by "; ", and the log emptied. */
static const char *
t_events(struct t_log *l)
{
	static char out[4096];
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < l->n; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s",
		    i ? "; " : "", l->line[i]);
	l->n = 0;
	return out;
}

static void
t_conf(const char *text, struct dns_gslb_conf *c)
{
	char first[512];

	if (t_conf_bind(&t_gslb_schema, text, c, first, sizeof(first)) != 0)
		test_fail(__FILE__, __LINE__, "config: %s", first);
}

/* The answer as text: records joined by ',', then " ttl=N scope=N";
 * "nodata" when empty. */
static const char *
t_ans(struct dns_gslb *g, uint32_t id, uint16_t qtype, const char *client,
    int ecs_bits)
{
	static char out[1024];
	struct dns_client cl = { .family = AF_INET, .bits = 32 };
	struct dns_dyn_answer a;
	size_t o = 0;

	if (client != NULL) {
		cl.family = strchr(client, ':') ? AF_INET6 : AF_INET;
		T_EQ_INT(inet_pton(cl.family, client, cl.addr), 1);
		cl.bits = cl.family == AF_INET ? 32 : 128;
	}
	if (ecs_bits >= 0) {
		cl.ecs = true;
		cl.bits = (uint8_t)ecs_bits;
	}
	T_EQ_INT(dns_gslb_answer(g, id, qtype, &cl, &a), 0);
	out[0] = '\0';
	if (a.count == 0)
		o += (size_t)snprintf(out, sizeof(out), "nodata");
	for (unsigned i = 0; i < a.count; i++) {
		char t[256];

		if (a.type == DNS_TYPE_A && a.rdata[i].len == 4)
			inet_ntop(AF_INET, a.rdata[i].data, t, sizeof(t));
		else if (a.type == DNS_TYPE_AAAA && a.rdata[i].len == 16)
			inet_ntop(AF_INET6, a.rdata[i].data, t, sizeof(t));
		else if (a.type == DNS_TYPE_CNAME)
			dns_name_to_text(a.rdata[i].data, t, sizeof(t));
		else
			snprintf(t, sizeof(t), "?type%u/len%u", a.type,
			    a.rdata[i].len);
		o += (size_t)snprintf(
		    out + o, sizeof(out) - o, "%s%s", i ? "," : "", t);
	}
	if (a.count > 0)
		o += (size_t)snprintf(
		    out + o, sizeof(out) - o, " ttl=%u", a.ttl);
	snprintf(out + o, sizeof(out) - o, " scope=%u", a.scope);
	return out;
}

#define T_FAILOVER                                                             \
	"pools:\n"                                                             \
	"  - name: site-a\n"                                                   \
	"    check: web\n"                                                     \
	"    available: \"2\"\n"                                               \
	"    addresses:\n"                                                     \
	"      - address: 198.18.1.1\n"                                        \
	"      - address: 198.18.1.2\n"                                        \
	"      - address: 198.18.1.3\n"                                        \
	"  - name: site-b\n"                                                   \
	"    check: web\n"                                                     \
	"    addresses:\n"                                                     \
	"      - address: 198.18.2.1\n"                                        \
	"names:\n"                                                             \
	"  - name: www.example.com\n"                                          \
	"    policies:\n"                                                      \
	"      - pools: [site-a]\n"                                            \
	"        backup: [site-b]\n"                                           \
	"plans:\n"                                                             \
	"  - name: lose-a\n"                                                   \
	"    pools: [site-a]\n"

static void
test_failover_below_available(void)
{
	struct dns_gslb_conf c;
	struct t_log l = { .n = 0 };
	struct dns_gslb *g;

	t_conf(T_FAILOVER, &c);
	g = dns_gslb_new(&c, NULL, 1000, t_ev, &l);
	/* unknown health counts as up: a fresh start serves the config */
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1),
	    "198.18.1.1,198.18.1.2,198.18.1.3 ttl=30 scope=0");
	T_EQ_STR(t_events(&l), "");
	/* one down: 2 of 3 still reach available "2"; degraded TTL */
	T_EQ_INT(dns_gslb_health(g, "site-a/198.18.1.1", false, 2000), 0);
	T_EQ_STR(t_events(&l), "addr-down site-a 198.18.1.1");
	T_EQ_STR(
	    t_ans(g, 0, T_A, NULL, -1), "198.18.1.2,198.18.1.3 ttl=5 scope=0");
	/* a second: the pool falls below, the backup set serves */
	T_EQ_INT(dns_gslb_health(g, "site-a/198.18.1.2", false, 3000), 0);
	T_EQ_STR(t_events(&l),
	    "addr-down site-a 198.18.1.2; pool-down site-a; "
	    "switch www.example.com default default>backup");
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
	/* a repeated verdict changes nothing */
	T_EQ_INT(dns_gslb_health(g, "site-a/198.18.1.2", false, 3500), 0);
	T_EQ_STR(t_events(&l), "");
	/* back: preemptive with hold_down 0 returns at once */
	T_EQ_INT(dns_gslb_health(g, "site-a/198.18.1.2", true, 4000), 0);
	T_EQ_STR(t_events(&l),
	    "addr-up site-a 198.18.1.2; pool-up site-a; "
	    "switch www.example.com default backup>default");
	T_EQ_STR(
	    t_ans(g, 0, T_A, NULL, -1), "198.18.1.2,198.18.1.3 ttl=5 scope=0");
	T_EQ_INT(dns_gslb_health(g, "site-a/198.18.1.9", true, 4000), -ENOENT);
	T_EQ_INT(dns_gslb_health(g, "nope/198.18.1.1", true, 4000), -ENOENT);
	T_EQ_INT(dns_gslb_health(g, "site-a", true, 4000), -ENOENT);
	dns_gslb_free(g);
	conf_schema_free(&t_gslb_schema, &c);
}

static void
test_fail_open_and_closed(void)
{
	struct dns_gslb_conf c;
	struct dns_gslb *g;

	t_conf("pools:\n"
	       "  - name: a\n"
	       "    addresses:\n"
	       "      - address: 198.18.1.1\n"
	       "      - address: 198.18.1.2\n"
	       "      - address: 198.18.1.3\n"
	       "        mode: offline\n"
	       "  - name: b\n"
	       "    addresses: [{address: 198.18.2.1}]\n"
	       "names:\n"
	       "  - name: open.example.com\n"
	       "    policies: [{pools: [a], backup: [b]}]\n"
	       "  - name: closed.example.com\n"
	       "    policies:\n"
	       "      - pools: [a]\n"
	       "        backup: [b]\n"
	       "        fail: closed\n"
	       "        last_resort: [198.18.9.9, \"2001:db8::9\"]\n"
	       "  - name: nodata.example.com\n"
	       "    policies: [{pools: [a], fail: closed}]\n",
	    &c);
	g = dns_gslb_new(&c, NULL, 0, NULL, NULL);
	dns_gslb_health(g, "a/198.18.1.1", false, 10);
	dns_gslb_health(g, "a/198.18.1.2", false, 10);
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
	T_EQ_STR(t_ans(g, 2, T_A, NULL, -1), "nodata scope=0");
	dns_gslb_health(g, "b/198.18.2.1", false, 20);
	/* open: the whole default set, health ignored, offline still out */
	T_EQ_STR(
	    t_ans(g, 0, T_A, NULL, -1), "198.18.1.1,198.18.1.2 ttl=5 scope=0");
	/* closed: the last resort of the query's family */
	T_EQ_STR(t_ans(g, 1, T_A, NULL, -1), "198.18.9.9 ttl=5 scope=0");
	T_EQ_STR(t_ans(g, 1, T_AAAA, NULL, -1), "2001:db8::9 ttl=5 scope=0");
	T_EQ_STR(t_ans(g, 2, T_A, NULL, -1), "nodata scope=0");
	/* the backup comes back: from a fail state, at once */
	dns_gslb_health(g, "b/198.18.2.1", true, 30);
	T_EQ_STR(t_ans(g, 1, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
	T_EQ_INT(dns_gslb_answer(g, 3, T_A,
	             &(struct dns_client){ .family = AF_INET },
	             &(struct dns_dyn_answer){ 0 }),
	    -ENOENT);
	dns_gslb_free(g);
	conf_schema_free(&t_gslb_schema, &c);
}

static void
test_preemptive_hold_down(void)
{
	struct dns_gslb_conf c;
	struct t_log l = { .n = 0 };
	struct dns_gslb *g;

	t_conf("pools:\n"
	       "  - name: a\n"
	       "    addresses: [{address: 198.18.1.1}]\n"
	       "  - name: b\n"
	       "    addresses: [{address: 198.18.2.1}]\n"
	       "names:\n"
	       "  - name: www.example.com\n"
	       "    policies:\n"
	       "      - pools: [a]\n"
	       "        backup: [b]\n"
	       "        hold_down: 30s\n",
	    &c);
	g = dns_gslb_new(&c, NULL, 0, t_ev, &l);
	/* a fresh state is "just switched": degraded TTL for hold_down */
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.1.1 ttl=5 scope=0");
	T_EQ_INT(dns_gslb_tick(g, 100), 30000);
	T_EQ_INT(dns_gslb_tick(g, 30000), 0);
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.1.1 ttl=30 scope=0");
	dns_gslb_health(g, "a/198.18.1.1", false, 40000);
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
	/* back up: held on the backup for 30 s of uninterrupted health */
	dns_gslb_health(g, "a/198.18.1.1", true, 50000);
	T_EQ_INT(dns_gslb_tick(g, 50000), 70000);
	dns_gslb_health(g, "a/198.18.1.1", false, 60000);
	dns_gslb_health(g, "a/198.18.1.1", true, 65000);
	T_EQ_INT(dns_gslb_tick(g, 70000), 95000);
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
	t_events(&l);
	T_EQ_INT(dns_gslb_tick(g, 94999), 95000);
	T_EQ_STR(t_events(&l), "");
	/* the hold-down ends: the switch, then one hold_down degraded */
	T_EQ_INT(dns_gslb_tick(g, 95000), 125000);
	T_EQ_STR(t_events(&l), "switch www.example.com default backup>default");
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.1.1 ttl=5 scope=0");
	T_EQ_INT(dns_gslb_tick(g, 125000), 0);
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.1.1 ttl=30 scope=0");
	dns_gslb_free(g);
	conf_schema_free(&t_gslb_schema, &c);
}

static void
test_non_preemptive(void)
{
	struct dns_gslb_conf c;
	struct t_log l = { .n = 0 };
	struct dns_gslb *g;

	t_conf("pools:\n"
	       "  - name: a\n"
	       "    addresses: [{address: 198.18.1.1}]\n"
	       "  - name: b\n"
	       "    addresses: [{address: 198.18.2.1}]\n"
	       "names:\n"
	       "  - name: www.example.com\n"
	       "    policies:\n"
	       "      - pools: [a]\n"
	       "        backup: [b]\n"
	       "        failback: non-preemptive\n",
	    &c);
	g = dns_gslb_new(&c, NULL, 0, t_ev, &l);
	dns_gslb_health(g, "a/198.18.1.1", false, 10);
	T_EQ_INT(dns_gslb_failback(g, "www.example.com", 15), -EAGAIN);
	dns_gslb_health(g, "a/198.18.1.1", true, 20);
	T_EQ_INT(dns_gslb_tick(g, 3600000), 0);
	/* stays on the backup however long the default is back */
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
	T_EQ_STR(t_events(&l),
	    "addr-down a 198.18.1.1; pool-down a; "
	    "switch www.example.com default default>backup; "
	    "addr-up a 198.18.1.1; pool-up a");
	/* the operator's failback */
	T_EQ_INT(dns_gslb_failback(g, "nope.example.com", 4000000), -ENOENT);
	T_EQ_INT(dns_gslb_failback(g, "www.example.com", 4000000), 0);
	T_EQ_STR(t_events(&l), "switch www.example.com default backup>default");
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.1.1 ttl=30 scope=0");
	/* or the backup failing while the default is up */
	dns_gslb_health(g, "a/198.18.1.1", false, 5000000);
	dns_gslb_health(g, "a/198.18.1.1", true, 5000010);
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
	t_events(&l);
	dns_gslb_health(g, "b/198.18.2.1", false, 5000020);
	T_EQ_STR(t_events(&l),
	    "addr-down b 198.18.2.1; pool-down b; "
	    "switch www.example.com default backup>default");
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.1.1 ttl=30 scope=0");
	dns_gslb_free(g);
	conf_schema_free(&t_gslb_schema, &c);
}

static void
test_online_offline_modes(void)
{
	struct dns_gslb_conf c;
	struct dns_gslb *g;

	t_conf("pools:\n"
	       "  - name: a\n"
	       "    check: web\n"
	       "    addresses:\n"
	       "      - address: 198.18.1.1\n"
	       "        mode: online\n"
	       "      - address: 198.18.1.2\n"
	       "        mode: offline\n"
	       "      - address: 198.18.1.3\n"
	       "names:\n"
	       "  - name: www.example.com\n"
	       "    policies: [{pools: [a]}]\n",
	    &c);
	g = dns_gslb_new(&c, NULL, 0, NULL, NULL);
	T_EQ_STR(
	    t_ans(g, 0, T_A, NULL, -1), "198.18.1.1,198.18.1.3 ttl=30 scope=0");
	/* verdicts about forced addresses change nothing they answer */
	dns_gslb_health(g, "a/198.18.1.1", false, 10);
	dns_gslb_health(g, "a/198.18.1.2", true, 10);
	T_EQ_STR(
	    t_ans(g, 0, T_A, NULL, -1), "198.18.1.1,198.18.1.3 ttl=30 scope=0");
	dns_gslb_health(g, "a/198.18.1.3", false, 20);
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.1.1 ttl=5 scope=0");
	dns_gslb_free(g);
	conf_schema_free(&t_gslb_schema, &c);
}

static const char *
t_preview(struct dns_gslb *g, const char *plan, int *rc)
{
	static char out[2048];
	struct buf b;
	struct jw w;

	buf_init(&b);
	jw_init(&w, &b);
	*rc = dns_gslb_preview_json(g, plan, &w);
	T_ASSERT(*rc != 0 || jw_finish(&w) == 0);
	snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
	buf_fini(&b);
	return out;
}

static void
test_plan_execute_preview_rollback(void)
{
	struct dns_gslb_conf c;
	struct t_log l = { .n = 0 };
	struct dns_gslb *g;
	int rc;

	t_conf(T_FAILOVER, &c);
	g = dns_gslb_new(&c, NULL, 0, t_ev, &l);
	/* the preview says what would change, and changes nothing */
	T_EQ_STR(t_preview(g, "lose-a", &rc),
	    "{\"plan\":\"lose-a\",\"state\":\"unexecuted\",\"changes\":[{"
	    "\"name\":\"www.example.com\",\"policy\":\"default\","
	    "\"set_before\":\"default\",\"set_after\":\"backup\","
	    "\"before\":[\"198.18.1.1\",\"198.18.1.2\",\"198.18.1.3\"],"
	    "\"after\":[\"198.18.2.1\"]}]}");
	T_EQ_INT(rc, 0);
	T_EQ_STR(t_events(&l), "");
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1),
	    "198.18.1.1,198.18.1.2,198.18.1.3 ttl=30 scope=0");
	t_preview(g, "nope", &rc);
	T_EQ_INT(rc, -ENOENT);

	T_EQ_INT(dns_gslb_plan(g, "lose-a", true, 100), 0);
	T_EQ_STR(t_events(&l),
	    "plan lose-a unexecuted>executed; pool-down site-a; "
	    "switch www.example.com default default>backup");
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
	T_EQ_INT(dns_gslb_plan(g, "lose-a", true, 200), -EALREADY);
	T_EQ_INT(dns_gslb_plan(g, "nope", true, 200), -ENOENT);
	/* health coming back does not undo a plan */
	dns_gslb_health(g, "site-a/198.18.1.1", true, 250);
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
	/* a reload keeps the plan executed and its pools forced off */
	{
		struct dns_gslb *g2 = dns_gslb_new(&c, g, 260, t_ev, &l);

		T_EQ_STR(
		    t_ans(g2, 0, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
		T_EQ_INT(dns_gslb_plan(g2, "lose-a", true, 270), -EALREADY);
		dns_gslb_free(g2);
	}
	/* executed: nothing more to change */
	T_EQ_STR(t_preview(g, "lose-a", &rc),
	    "{\"plan\":\"lose-a\",\"state\":\"executed\",\"changes\":[]}");
	t_events(&l);
	T_EQ_INT(dns_gslb_plan(g, "lose-a", false, 300), 0);
	T_EQ_STR(t_events(&l),
	    "plan lose-a executed>rolled-back; pool-up site-a; "
	    "switch www.example.com default backup>default");
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1),
	    "198.18.1.1,198.18.1.2,198.18.1.3 ttl=30 scope=0");
	T_EQ_INT(dns_gslb_plan(g, "lose-a", false, 400), -EALREADY);
	dns_gslb_free(g);
	conf_schema_free(&t_gslb_schema, &c);
}

static void
test_reload_keeps_state(void)
{
	struct dns_gslb_conf c1, c2;
	struct t_log l = { .n = 0 };
	struct dns_gslb *g1, *g2;

	t_conf("pools:\n"
	       "  - name: a\n"
	       "    addresses: [{address: 198.18.1.1}, {address: 198.18.1.2}]\n"
	       "  - name: b\n"
	       "    addresses: [{address: 198.18.2.1}]\n"
	       "names:\n"
	       "  - name: www.example.com\n"
	       "    policies:\n"
	       "      - {pools: [a], backup: [b], failback: non-preemptive}\n",
	    &c1);
	g1 = dns_gslb_new(&c1, NULL, 0, t_ev, &l);
	dns_gslb_health(g1, "a/198.18.1.1", false, 10);
	dns_gslb_health(g1, "a/198.18.1.2", false, 10);
	dns_gslb_health(g1, "a/198.18.1.2", true, 20);
	T_EQ_STR(t_ans(g1, 0, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
	t_events(&l);
	/* a new name and pool, other TTLs, an address more in a */
	t_conf("pools:\n"
	       "  - name: c\n"
	       "    addresses: [{address: 198.18.3.1}]\n"
	       "  - name: b\n"
	       "    addresses: [{address: 198.18.2.1}]\n"
	       "  - name: a\n"
	       "    addresses: [{address: 198.18.1.1}, {address: 198.18.1.2},"
	       " {address: 198.18.1.4}]\n"
	       "names:\n"
	       "  - name: new.example.com\n"
	       "    policies: [{pools: [c]}]\n"
	       "  - name: www.example.com\n"
	       "    ttl: 60s\n"
	       "    degraded_ttl: 7s\n"
	       "    policies:\n"
	       "      - {pools: [a], backup: [b], failback: non-preemptive}\n",
	    &c2);
	g2 = dns_gslb_new(&c2, g1, 30, t_ev, &l);
	dns_gslb_free(g1);
	conf_schema_free(&t_gslb_schema, &c1);
	/* nothing switched back, nothing reported */
	T_EQ_STR(t_events(&l), "");
	/* on the backup set: the new degraded TTL */
	T_EQ_STR(t_ans(g2, 1, T_A, NULL, -1), "198.18.2.1 ttl=7 scope=0");
	T_EQ_STR(t_ans(g2, 0, T_A, NULL, -1), "198.18.3.1 ttl=30 scope=0");
	T_EQ_INT(dns_gslb_failback(g2, "www.example.com", 40), 0);
	/* the kept verdict: .1 still down */
	T_EQ_STR(
	    t_ans(g2, 1, T_A, NULL, -1), "198.18.1.2,198.18.1.4 ttl=7 scope=0");
	/* all of a up: the new TTL */
	T_EQ_INT(dns_gslb_health(g2, "a/198.18.1.1", true, 50), 0);
	T_EQ_STR(t_ans(g2, 1, T_A, NULL, -1),
	    "198.18.1.1,198.18.1.2,198.18.1.4 ttl=60 scope=0");
	dns_gslb_free(g2);
	conf_schema_free(&t_gslb_schema, &c2);
}

static void
t_save(struct dns_gslb *g, struct buf *b)
{
	buf_reset(b);
	dns_gslb_save(g, b);
}

static void
test_save_restore(void)
{
	struct dns_gslb_conf c;
	struct dns_gslb *g1, *g2;
	struct t_log l = { .n = 0 };
	struct buf b1, b2;
	static const char junk[] = "haven-gslb 1\naddr maybe a/b\n";
	static const char gone[] = "haven-gslb 1\n"
	                           "addr down gone/198.18.0.1\n"
	                           "plan executed gone\n"
	                           "policy backup gone.example.com default\n";

	t_conf(T_FAILOVER "  - name: lose-b\n"
	                  "    pools: [site-b]\n",
	    &c);
	g1 = dns_gslb_new(&c, NULL, 0, NULL, NULL);
	dns_gslb_health(g1, "site-a/198.18.1.1", false, 10);
	dns_gslb_health(g1, "site-a/198.18.1.3", true, 10);
	dns_gslb_plan(g1, "lose-a", true, 20);
	dns_gslb_plan(g1, "lose-b", true, 20);
	dns_gslb_plan(g1, "lose-b", false, 30);
	buf_init(&b1);
	buf_init(&b2);
	t_save(g1, &b1);
	T_EQ_STR(b1.data,
	    "haven-gslb 1\n"
	    "addr down site-a/198.18.1.1\n"
	    "addr up site-a/198.18.1.3\n"
	    "plan executed lose-a\n"
	    "plan rolled-back lose-b\n"
	    "policy backup www.example.com default\n");
	g2 = dns_gslb_new(&c, NULL, 5, t_ev, &l);
	T_EQ_INT(dns_gslb_restore(g2, junk, sizeof(junk) - 1, 40), -EINVAL);
	T_EQ_INT(dns_gslb_restore(g2, "x", 1, 40), -EINVAL);
	T_EQ_INT(dns_gslb_restore(g2, gone, sizeof(gone) - 1, 40), 0);
	T_EQ_STR(t_ans(g2, 0, T_A, NULL, -1),
	    "198.18.1.1,198.18.1.2,198.18.1.3 ttl=30 scope=0");
	T_EQ_INT(dns_gslb_restore(g2, b1.data, b1.len, 50), 0);
	/* restoring is not news */
	T_EQ_STR(t_events(&l), "");
	t_save(g2, &b2);
	T_EQ_STR(b2.data, b1.data);
	T_EQ_STR(t_ans(g2, 0, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
	T_EQ_INT(dns_gslb_plan(g2, "lose-a", true, 60), -EALREADY);
	T_EQ_INT(dns_gslb_plan(g2, "lose-a", false, 60), 0);
	T_EQ_STR(
	    t_ans(g2, 0, T_A, NULL, -1), "198.18.1.2,198.18.1.3 ttl=5 scope=0");
	buf_fini(&b1);
	buf_fini(&b2);
	dns_gslb_free(g1);
	dns_gslb_free(g2);
	conf_schema_free(&t_gslb_schema, &c);
}

static void
test_ecs_scope(void)
{
	struct dns_gslb_conf c;
	struct dns_gslb *g;

	t_conf("regions:\n"
	       "  - name: eu\n"
	       "    networks: [198.18.0.0/24]\n"
	       "  - name: us\n"
	       "    networks: [198.19.0.0/16]\n"
	       "pools:\n"
	       "  - name: p-eu\n"
	       "    addresses: [{address: 198.18.10.1}]\n"
	       "  - name: p-us\n"
	       "    addresses: [{address: 198.18.20.1}]\n"
	       "  - name: p-def\n"
	       "    addresses: [{address: 198.18.30.1}]\n"
	       "names:\n"
	       "  - name: geo.example.com\n"
	       "    policies:\n"
	       "      - {sources: [eu], pools: [p-eu]}\n"
	       "      - {sources: [us], pools: [p-us]}\n"
	       "      - {pools: [p-def]}\n"
	       "  - name: us-only.example.com\n"
	       "    policies:\n"
	       "      - {sources: [us], pools: [p-us]}\n"
	       "      - {pools: [p-def]}\n"
	       "  - name: plain.example.com\n"
	       "    policies: [{pools: [p-def]}]\n",
	    &c);
	g = dns_gslb_new(&c, NULL, 0, NULL, NULL);
	/* matched: the matched prefix */
	T_EQ_STR(
	    t_ans(g, 0, T_A, "198.18.0.0", 24), "198.18.10.1 ttl=30 scope=24");
	T_EQ_STR(
	    t_ans(g, 0, T_A, "198.19.0.0", 24), "198.18.20.1 ttl=30 scope=16");
	/* no match: what separates the client from every network, not
	 * SOURCE copied back */
	T_EQ_STR(
	    t_ans(g, 0, T_A, "10.1.2.0", 24), "198.18.30.1 ttl=30 scope=1");
	T_EQ_STR(
	    t_ans(g, 0, T_A, "198.18.1.0", 24), "198.18.30.1 ttl=30 scope=24");
	/* SOURCE shorter than the network: no match, scope = SOURCE */
	T_EQ_STR(
	    t_ans(g, 0, T_A, "198.18.0.0", 20), "198.18.30.1 ttl=30 scope=20");
	/* SOURCE /0: opted out, the default policy, scope 0 */
	T_EQ_STR(
	    t_ans(g, 0, T_A, "198.18.0.0", 0), "198.18.30.1 ttl=30 scope=0");
	/* no ECS: the packet's source decides, no scope to give */
	T_EQ_STR(
	    t_ans(g, 0, T_A, "198.18.0.77", -1), "198.18.10.1 ttl=30 scope=0");
	/* the name's own networks only: eu's do not narrow us-only */
	T_EQ_STR(
	    t_ans(g, 1, T_A, "198.18.0.0", 24), "198.18.30.1 ttl=30 scope=16");
	/* a name without source policies does not depend on the client */
	T_EQ_STR(
	    t_ans(g, 2, T_A, "198.18.0.0", 24), "198.18.30.1 ttl=30 scope=0");
	/* IPv6 clients: no IPv6 networks, valid for all */
	T_EQ_STR(
	    t_ans(g, 0, T_A, "2001:db8::", 56), "198.18.30.1 ttl=30 scope=0");
	dns_gslb_free(g);
	conf_schema_free(&t_gslb_schema, &c);
}

static void
test_weighted_distribution(void)
{
	struct dns_gslb_conf c;
	struct dns_gslb *g;
	unsigned n1 = 0, n3 = 0, other = 0;
	const unsigned runs = 40000;

	t_conf("pools:\n"
	       "  - name: w\n"
	       "    lb: weighted\n"
	       "    addresses:\n"
	       "      - {address: 198.18.1.1, weight: 1}\n"
	       "      - {address: 198.18.1.3, weight: 3}\n"
	       "      - {address: 198.18.1.9, weight: 50}\n"
	       "names:\n"
	       "  - name: www.example.com\n"
	       "    policies: [{pools: [w]}]\n",
	    &c);
	g = dns_gslb_new(&c, NULL, 0, NULL, NULL);
	/* a down address is never picked, whatever its weight */
	dns_gslb_health(g, "w/198.18.1.9", false, 10);
	for (unsigned i = 0; i < runs; i++) {
		const char *a = t_ans(g, 0, T_A, NULL, -1);

		if (strcmp(a, "198.18.1.1 ttl=5 scope=0") == 0)
			n1++;
		else if (strcmp(a, "198.18.1.3 ttl=5 scope=0") == 0)
			n3++;
		else
			other++;
	}
	T_EQ_INT(other, 0);
	/* expected 10000 and 30000; 5 sigma is about 430 */
	T_ASSERT(n1 > 9500 && n1 < 10500);
	T_ASSERT(n3 > 29500 && n3 < 30500);
	dns_gslb_free(g);
	conf_schema_free(&t_gslb_schema, &c);
}

static void
test_round_robin_and_types(void)
{
	struct dns_gslb_conf c;
	struct dns_gslb *g;

	t_conf("pools:\n"
	       "  - name: rr\n"
	       "    lb: round-robin\n"
	       "    addresses: [{address: 198.18.1.1}, {address: 198.18.1.2},"
	       " {address: 198.18.1.3}]\n"
	       "  - name: all\n"
	       "    addresses: [{address: 198.18.2.1}, {address: 198.18.2.2}]\n"
	       "  - name: v6\n"
	       "    addresses: [{address: \"2001:db8::1\"}]\n"
	       "  - name: edge\n"
	       "    addresses: [{cname: edge.example.net.}]\n"
	       "names:\n"
	       "  - name: www.example.com\n"
	       "    policies: [{pools: [rr, all]}]\n"
	       "  - name: six.example.com\n"
	       "    policies: [{pools: [v6]}]\n"
	       "  - name: alias.example.com\n"
	       "    policies: [{pools: [edge]}]\n",
	    &c);
	g = dns_gslb_new(&c, NULL, 0, NULL, NULL);
	/* one of rr in turn, all of the other pool */
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1),
	    "198.18.1.1,198.18.2.1,198.18.2.2 ttl=30 scope=0");
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1),
	    "198.18.1.2,198.18.2.1,198.18.2.2 ttl=30 scope=0");
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1),
	    "198.18.1.3,198.18.2.1,198.18.2.2 ttl=30 scope=0");
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1),
	    "198.18.1.1,198.18.2.1,198.18.2.2 ttl=30 scope=0");
	/* A/AAAA only for their own type; a CNAME for any */
	T_EQ_STR(t_ans(g, 0, T_AAAA, NULL, -1), "nodata scope=0");
	T_EQ_STR(t_ans(g, 1, T_AAAA, NULL, -1), "2001:db8::1 ttl=30 scope=0");
	T_EQ_STR(t_ans(g, 1, T_A, NULL, -1), "nodata scope=0");
	T_EQ_STR(
	    t_ans(g, 2, T_A, NULL, -1), "edge.example.net. ttl=30 scope=0");
	T_EQ_STR(
	    t_ans(g, 2, T_AAAA, NULL, -1), "edge.example.net. ttl=30 scope=0");
	dns_gslb_free(g);
	conf_schema_free(&t_gslb_schema, &c);
}

static void
test_template_dr(void)
{
	struct dns_gslb_conf c;
	struct dns_gslb *g;

	t_conf("pools:\n"
	       "  - name: a\n"
	       "    addresses: [{address: 198.18.1.1}]\n"
	       "  - name: b\n"
	       "    addresses: [{address: 198.18.2.1}]\n"
	       "names:\n"
	       "  - name: dr.example.com\n"
	       "    template: {dr: {primary: a, secondary: b}}\n"
	       "  - name: ma.example.com\n"
	       "    template: {multi_active: [a, b]}\n",
	    &c);
	g = dns_gslb_new(&c, NULL, 0, NULL, NULL);
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.1.1 ttl=30 scope=0");
	T_EQ_STR(
	    t_ans(g, 1, T_A, NULL, -1), "198.18.1.1,198.18.2.1 ttl=30 scope=0");
	dns_gslb_health(g, "a/198.18.1.1", false, 10);
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
	T_EQ_STR(t_ans(g, 1, T_A, NULL, -1), "198.18.2.1 ttl=5 scope=0");
	dns_gslb_health(g, "b/198.18.2.1", false, 20);
	/* multi-active fails open */
	T_EQ_STR(
	    t_ans(g, 1, T_A, NULL, -1), "198.18.1.1,198.18.2.1 ttl=5 scope=0");
	dns_gslb_health(g, "a/198.18.1.1", true, 30);
	T_EQ_STR(t_ans(g, 0, T_A, NULL, -1), "198.18.1.1 ttl=30 scope=0");
	dns_gslb_free(g);
	conf_schema_free(&t_gslb_schema, &c);
}

static void
test_targets(void)
{
	struct dns_gslb_conf c;
	struct plane_target *t;
	size_t n;

	t_conf("pools:\n"
	       "  - name: a\n"
	       "    check: web\n"
	       "    addresses:\n"
	       "      - address: 198.18.1.1\n"
	       "      - address: 198.18.1.2\n"
	       "        mode: online\n"
	       "  - name: b\n"
	       "    addresses: [{address: 198.18.2.1}]\n"
	       "  - name: c\n"
	       "    check: web\n"
	       "    addresses: [{cname: edge.example.net.}]\n"
	       "  - name: d\n"
	       "    check: web\n"
	       "    addresses: [{address: \"2001:db8::1\"}]\n",
	    &c);
	n = dns_gslb_targets(&c, &t);
	T_EQ_INT(n, 2);
	T_EQ_STR(t[0].name, "a/198.18.1.1");
	T_EQ_STR(t[0].owner, "a");
	T_ASSERT(t[0].check == c.pools[0].check);
	T_EQ_INT(t[0].addr.ss_family, AF_INET);
	T_EQ_INT(((struct sockaddr_in *)&t[0].addr)->sin_port, 0);
	T_EQ_STR(t[1].name, "d/2001:db8::1");
	T_EQ_STR(t[1].owner, "d");
	T_EQ_INT(t[1].addr.ss_family, AF_INET6);
	free(t);
	conf_schema_free(&t_gslb_schema, &c);
}

static void
test_json_view(void)
{
	struct dns_gslb_conf c;
	struct dns_gslb *g;
	struct buf b;
	struct jw w;

	t_conf(T_FAILOVER, &c);
	g = dns_gslb_new(&c, NULL, 0, NULL, NULL);
	dns_gslb_health(g, "site-a/198.18.1.1", false, 100);
	dns_gslb_health(g, "site-a/198.18.1.2", false, 100);
	buf_init(&b);
	jw_init(&w, &b);
	dns_gslb_json(g, &w, 1100);
	T_EQ_INT(jw_finish(&w), 0);
	T_ASSERT(strstr(b.data,
	             "\"policy\":\"default\",\"sources\":[],"
	             "\"set\":\"backup\",\"since_ms\":100,"
	             "\"for_ms\":1000,\"degraded\":true,"
	             "\"ttl\":5") != NULL);
	T_ASSERT(strstr(b.data, "\"answer\":[\"198.18.2.1\"]") != NULL);
	T_ASSERT(strstr(b.data, "\"failback_at_ms\":null") != NULL);
	T_ASSERT(strstr(b.data,
	             "{\"name\":\"site-a\",\"available\":false,"
	             "\"since_ms\":100,\"forced_offline\":false,"
	             "\"up\":1,\"need\":2") != NULL);
	T_ASSERT(strstr(b.data,
	             "{\"address\":\"198.18.1.1\",\"target\":"
	             "\"site-a/198.18.1.1\",\"mode\":\"smart\","
	             "\"health\":\"down\",\"usable\":false") != NULL);
	T_ASSERT(strstr(b.data,
	             "{\"name\":\"lose-a\",\"state\":"
	             "\"unexecuted\"") != NULL);
	buf_fini(&b);
	dns_gslb_free(g);
	conf_schema_free(&t_gslb_schema, &c);
}

static const struct test tests[] = {
	TEST(test_failover_below_available),
	TEST(test_fail_open_and_closed),
	TEST(test_preemptive_hold_down),
	TEST(test_non_preemptive),
	TEST(test_online_offline_modes),
	TEST(test_plan_execute_preview_rollback),
	TEST(test_reload_keeps_state),
	TEST(test_save_restore),
	TEST(test_ecs_scope),
	TEST(test_weighted_distribution),
	TEST(test_round_robin_and_types),
	TEST(test_template_dr),
	TEST(test_targets),
	TEST(test_json_view),
};

TEST_MAIN(tests)
