/*
 * Unit tests for lb_api.c and lb_metrics.c: the JSON state of pools and
 * servers, the admin actions and their errors, and the Prometheus families,
 * all against a runtime built from a bound config.
 */
#include "lb/lb_api.h"
#include "lb/lb_metrics.h"
#include "lb/lb_pool_priv.h"
#include "lb/lb_proxy.h"
#include "runner.h"

static const char t_conf[] =
    "pools:\n"
    "  - name: web\n"
    "    zones: [primary, secondary]\n"
    "    servers:\n"
    "      - { name: a1, address: 198.18.0.10:80, zone: primary }\n"
    "      - { name: b1, address: 198.18.0.20:80, zone: secondary }\n";

static struct lb_conf t_c;
/* The runtime under test: one per test process, as one per worker. */
static struct lb_runtime t_rt;

static struct lb_worker *t_w; /* owned: no listeners, for its limits */

static void
t_setup(void)
{
	struct conf_errors errs;

	conf_errors_init(&errs);
	T_EQ_INT(conf_bind_text(&lb_conf_schema, "t.yaml", t_conf,
	             strlen(t_conf), &t_c, &errs),
	    0);
	conf_errors_fini(&errs);
	lb_runtime_init(&t_rt, NULL);
	lb_runtime_apply(&t_rt, &t_c);
	t_w = lb_worker_new(NULL, &t_rt);
}

static void
t_teardown(void)
{
	lb_worker_free(t_w);
	t_w = NULL;
	lb_runtime_fini(&t_rt);
	conf_schema_free(&lb_conf_schema, &t_c);
}

static int
t_q(const char *method, const char *path, const char *body, struct buf *out)
{
	buf_reset(out);
	return lb_api_query(
	    &t_rt, t_w, method, path, body, body ? strlen(body) : 0, out);
}

static void
test_get_state(void)
{
	struct buf out;

	t_setup();
	buf_init(&out);
	T_EQ_INT(t_q("GET", "/v1/lb", NULL, &out), 200);
	T_ASSERT(strstr(out.data, "\"name\":\"web\"") != NULL);
	T_ASSERT(strstr(out.data, "\"active_zone\":\"primary\"") != NULL);
	T_ASSERT(strstr(out.data, "\"address\":\"198.18.0.10:80\"") != NULL);
	T_ASSERT(strstr(out.data, "\"admin\":\"ready\"") != NULL);
	T_ASSERT(strstr(out.data, "\"effective_weight\":100") != NULL);
	T_EQ_INT(t_q("GET", "/v1/lb/pools/web", NULL, &out), 200);
	T_ASSERT(out.data[0] == '{' && strstr(out.data, "\"zones\"") != NULL);
	T_EQ_INT(t_q("GET", "/v1/lb/pools/nope", NULL, &out), 404);
	T_EQ_INT(t_q("DELETE", "/v1/lb", NULL, &out), 405);
	T_EQ_INT(t_q("GET", "/v1/lbx", NULL, &out), 404);
	buf_fini(&out);
	t_teardown();
}

static void
test_admin_actions(void)
{
	struct lb_server *a1;
	struct buf out;

	t_setup();
	buf_init(&out);
	a1 = lb_pool_server(lb_runtime_pool(&t_rt, "web"), "a1");
	T_EQ_INT(
	    t_q("POST", "/v1/lb/pools/web/servers/a1/drain", NULL, &out), 200);
	T_EQ_INT(a1->admin, LB_ADMIN_DRAIN);
	T_ASSERT(strstr(out.data, "\"admin\":\"drain\"") != NULL);
	/* No usable server left in primary: secondary takes over. */
	T_EQ_INT(lb_runtime_pool(&t_rt, "web")->active_zone, 1);
	T_EQ_INT(t_q("POST", "/v1/lb/pools/web/servers/a1/disable", NULL, &out),
	    200);
	T_EQ_INT(a1->admin, LB_ADMIN_DISABLED);
	T_EQ_INT(
	    t_q("POST", "/v1/lb/pools/web/servers/a1/enable", NULL, &out), 200);
	T_EQ_INT(a1->admin, LB_ADMIN_READY);
	T_EQ_INT(t_q("POST", "/v1/lb/pools/web/servers/a1/weight",
	             "{\"weight\": 42}", &out),
	    200);
	T_EQ_INT(lb_server_eff_weight(a1, 0), 42);
	T_ASSERT(strstr(out.data, "\"admin_weight\":42") != NULL);
	T_EQ_INT(t_q("POST", "/v1/lb/pools/web/servers/a1/weight",
	             "{\"weight\": 99999}", &out),
	    400);
	T_EQ_INT(t_q("POST", "/v1/lb/pools/web/servers/a1/weight",
	             "{\"wieght\": 1}", &out),
	    400);
	T_ASSERT(strstr(out.data, "wieght") != NULL);
	T_EQ_INT(
	    t_q("POST", "/v1/lb/pools/web/servers/zz/drain", NULL, &out), 404);
	T_EQ_INT(t_q("POST", "/v1/lb/pools/web/servers/a1/explode", NULL, &out),
	    404);
	T_EQ_INT(
	    t_q("GET", "/v1/lb/pools/web/servers/a1/drain", NULL, &out), 405);
	/* Failback: immediate policy already failed back: nothing to do. */
	T_EQ_INT(t_q("POST", "/v1/lb/pools/web/failback", NULL, &out), 409);
	T_EQ_INT(t_q("POST", "/v1/lb/pools/nope/failback", NULL, &out), 404);
	buf_fini(&out);
	t_teardown();
}

static void
test_metrics(void)
{
	struct lb_pool *p;
	struct buf out;

	t_setup();
	buf_init(&out);
	p = lb_runtime_pool(&t_rt, "web");
	lb_pool_stats(p)->errors[LB_ERR_CONNECT_TIMEOUT] = 3;
	lb_server_conn_begin(lb_pool_server(p, "a1"));
	lb_metrics_render(&t_rt, &out);
	T_ASSERT(strstr(out.data,
	             "# TYPE haven_lb_pool_errors_total counter") != NULL);
	T_ASSERT(strstr(out.data,
	             "haven_lb_pool_errors_total{pool=\"web\","
	             "cause=\"connect_timeout\"} 3") != NULL);
	T_ASSERT(strstr(out.data,
	             "haven_lb_server_active_connections{pool="
	             "\"web\",server=\"a1\"} 1") != NULL);
	T_ASSERT(strstr(out.data,
	             "haven_lb_pool_zone_active{pool=\"web\","
	             "zone=\"primary\"} 1") != NULL);
	T_EQ_STR(lb_err_name(LB_ERR_STATUS_5XX), "status_5xx");
	buf_fini(&out);
	t_teardown();
}

static const struct test tests[] = {
	TEST(test_get_state),
	TEST(test_admin_actions),
	TEST(test_metrics),
};

TEST_MAIN(tests)
