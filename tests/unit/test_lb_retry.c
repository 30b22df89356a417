/*
 * Unit tests for the retry budget (lb_retry.c): retries are capped at a
 * share of the traffic, but a backend that dies just after a window rolls
 * over must not turn its burst of in-flight requests into client errors.
 */
#include "lb/lb_conn.h"
#include "runner.h"

static struct lb_listener *
retry_listener(unsigned pct)
{
	struct lb_listener *l = calloc(1, sizeof(*l));

	l->pconf.retry_budget_pct = pct;
	return l;
}

static unsigned
retry_take(struct lb_listener *l, unsigned n)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok += lb_retry_budget_take(l);
	return ok;
}

static void
test_budget_caps_retries(void)
{
	struct lb_listener *l = retry_listener(20);

	for (int i = 0; i < 100; i++)
		lb_retry_budget_request(l, 5000 + i);
	T_EQ_INT(retry_take(l, 50), 20);
	T_EQ_INT(l->st.retry_budget_denied, 30);
	free(l);
}

static void
test_floor_when_idle(void)
{
	struct lb_listener *l = retry_listener(20);

	lb_retry_budget_request(l, 5000);
	T_EQ_INT(retry_take(l, 10), 3);
	free(l);
}

static void
test_burst_after_rollover(void)
{
	struct lb_listener *l = retry_listener(20);

	/* A busy second: 1000 requests. */
	for (int i = 0; i < 1000; i++)
		lb_retry_budget_request(l, 5000 + i);
	/* The next window has barely started when 64 requests fail. */
	lb_retry_budget_request(l, 6000);
	T_EQ_INT(retry_take(l, 64), 64);
	T_EQ_INT(l->st.retry_budget_denied, 0);
	/* After an idle gap the old window no longer speaks. */
	lb_retry_budget_request(l, 9000);
	T_EQ_INT(retry_take(l, 10), 3);
	free(l);
}

static const struct test tests[] = {
	TEST(test_budget_caps_retries),
	TEST(test_floor_when_idle),
	TEST(test_burst_after_rollover),
};

TEST_MAIN(tests)
