/* Unit tests for the Prometheus exposition helpers. */
#include "lib/metrics.h"
#include "runner.h"

static void
test_hist(void)
{
	struct mx_hist h = { 0 };
	struct buf b;

	for (int i = 0; i < 90; i++)
		mx_hist_observe_us(&h, 200); /* 0.2 ms */
	for (int i = 0; i < 10; i++)
		mx_hist_observe_us(&h, 20000); /* 20 ms */
	T_EQ_INT(h.count, 100);
	T_ASSERT(mx_hist_quantile(&h, 0.5) <= 0.00025);
	T_ASSERT(mx_hist_quantile(&h, 0.99) > 0.01);
	buf_init(&b);
	mx_hist_render(&b, "x_seconds", "a=\"1\"", &h);
	T_ASSERT(strstr(b.data, "x_seconds_bucket{a=\"1\",le=\"+Inf\"} 100\n"));
	T_ASSERT(
	    strstr(b.data, "x_seconds_bucket{a=\"1\",le=\"0.00025\"} 90\n"));
	T_ASSERT(strstr(b.data, "x_seconds_count{a=\"1\"} 100\n"));
	buf_fini(&b);
}

static void
test_label_escape(void)
{
	struct buf b;

	buf_init(&b);
	mx_label(&b, "name", "a\"b");
	mx_label(&b, "x", "y");
	T_EQ_STR(b.data, "name=\"a\\\"b\",x=\"y\"");
	buf_fini(&b);
}

static void
test_merge(void)
{
	const char *parts[] = {
		"# HELP a_total A.\n# TYPE a_total counter\na_total{p=\"1\"} 1\n"
		"# HELP b B.\n# TYPE b gauge\nb 2\n",
		"# HELP a_total A.\n# TYPE a_total counter\na_total{p=\"2\"} 3\n",
	};
	struct buf b;

	buf_init(&b);
	mx_merge(&b, parts, 2);
	T_EQ_STR(b.data,
	    "# HELP a_total A.\n# TYPE a_total counter\n"
	    "a_total{p=\"1\"} 1\na_total{p=\"2\"} 3\n"
	    "# HELP b B.\n# TYPE b gauge\nb 2\n");
	buf_fini(&b);
}

static void
test_add_label(void)
{
	struct buf b;

	buf_init(&b);
	mx_add_label(&b,
	    "# HELP a_total A.\n# TYPE a_total counter\n"
	    "a_total{p=\"x}\\\"y\"} 1\nb 2\nc{} 3\n",
	    "worker", "1");
	T_EQ_STR(b.data,
	    "# HELP a_total A.\n# TYPE a_total counter\n"
	    "a_total{p=\"x}\\\"y\",worker=\"1\"} 1\n"
	    "b{worker=\"1\"} 2\nc{worker=\"1\"} 3\n");
	buf_reset(&b);
	/* A last line without its newline keeps going without one. */
	mx_add_label(&b, "d{q=\"1\"} 4", "w", "0");
	T_EQ_STR(b.data, "d{q=\"1\",w=\"0\"} 4");
	buf_fini(&b);
}

static const struct test tests[] = {
	TEST(test_add_label),
	TEST(test_hist),
	TEST(test_label_escape),
	TEST(test_merge),
};

TEST_MAIN(tests)
