/*
 * Unit tests for pool selection: the balancing algorithms (balance_*.c) and
 * the pick rules of lb_pool.c (exclusion, max_conn, all down, passive).
 * Pools are built from hand-made config structs; no clock is needed, so the
 * runtime runs without a loop (time stands at 0).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "lb/lb_pool_priv.h"
#include "runner.h"

#define T_MAXS 8

/* The runtime under test: one per test process, as one per worker. */
static struct lb_runtime t_rt;

struct t_pool {
	struct lb_pool_conf pc;
	struct lb_server_conf sc[T_MAXS];
	char names[T_MAXS][8];
};

static void
t_pool_init(struct t_pool *t, int balance, const uint32_t *weights, size_t n)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->pc.name = "web";
	t->pc.balance = balance;
	t->pc.min_up = 1;
	t->pc.all_down_body = "down\n";
	t->pc.servers = t->sc;
	t->pc.nservers = n;
	for (i = 0; i < n; i++) {
		struct sockaddr_in *sin =
		    (struct sockaddr_in *)&t->sc[i].address;

		snprintf(
		    t->names[i], sizeof(t->names[i]), "%c", (char)('a' + i));
		t->sc[i].name = t->names[i];
		t->sc[i].weight = weights[i];
		sin->sin_family = AF_INET;
		sin->sin_port = htons(80);
		sin->sin_addr.s_addr = htonl(0xc6120000u + 10 + (uint32_t)i);
	}
}

static struct lb_server *
t_pick(struct lb_pool *p, const char *key)
{
	struct lb_pick_ctx ctx = { 0 };
	enum lb_pick_err err;
	struct lb_server *s;

	ctx.hash_key = key;
	ctx.hash_key_len = key ? strlen(key) : 0;
	s = lb_pool_pick(p, &ctx, &err);
	T_ASSERT(s != NULL && err == LB_PICK_OK);
	return s;
}

static void
test_rr_smooth_sequence(void)
{
	static const uint32_t w[] = { 5, 1, 1 };
	struct t_pool t;
	struct lb_pool *p;
	char seq[8];
	int cnt[3] = { 0 }, i;

	t_pool_init(&t, LB_BAL_ROUNDROBIN, w, 3);
	p = lb_pool_new(&t_rt, &t.pc);
	for (i = 0; i < 7; i++)
		seq[i] = t_pick(p, NULL)->sname[0];
	seq[7] = '\0';
	T_EQ_STR(seq, "aabacaa");
	/* Over whole cycles the shares are exact. */
	for (i = 0; i < 700; i++)
		cnt[t_pick(p, NULL)->sname[0] - 'a']++;
	T_EQ_INT(cnt[0], 500);
	T_EQ_INT(cnt[1], 100);
	T_EQ_INT(cnt[2], 100);
	lb_pool_release(p);
}

static void
test_rr_weight_zero_and_admin(void)
{
	static const uint32_t w[] = { 100, 0, 100 };
	struct t_pool t;
	struct lb_pool *p;
	int i;

	t_pool_init(&t, LB_BAL_ROUNDROBIN, w, 3);
	p = lb_pool_new(&t_rt, &t.pc);
	for (i = 0; i < 20; i++)
		T_ASSERT(t_pick(p, NULL)->sname[0] != 'b');
	lb_server_set_admin(lb_pool_server(p, "a"), LB_ADMIN_DRAIN);
	for (i = 0; i < 20; i++)
		T_EQ_STR(t_pick(p, NULL)->sname, "c");
	lb_server_set_weight(lb_pool_server(p, "b"), 100);
	lb_server_set_admin(lb_pool_server(p, "a"), LB_ADMIN_READY);
	for (i = 0; i < 30; i++)
		t_pick(p, NULL);
	T_ASSERT(lb_server_usable(lb_pool_server(p, "b")));
	lb_pool_release(p);
}

static void
test_leastconn(void)
{
	static const uint32_t w[] = { 200, 100, 100 };
	struct t_pool t;
	struct lb_pool *p;
	struct lb_server *s;
	int i;

	t_pool_init(&t, LB_BAL_LEASTCONN, w, 3);
	p = lb_pool_new(&t_rt, &t.pc);
	/* Connections that stay open: load follows weight 2:1:1. */
	for (i = 0; i < 400; i++)
		lb_server_conn_begin(t_pick(p, NULL));
	T_ASSERT(lb_pool_server(p, "a")->active >= 198 &&
	    lb_pool_server(p, "a")->active <= 202);
	T_ASSERT(lb_pool_server(p, "b")->active >= 99 &&
	    lb_pool_server(p, "b")->active <= 101);
	/* Close c's connections: the next picks all go to c. */
	s = lb_pool_server(p, "c");
	while (s->active > 0)
		lb_server_conn_end(s);
	for (i = 0; i < 50; i++) {
		struct lb_server *got = t_pick(p, NULL);

		T_EQ_STR(got->sname, "c");
		lb_server_conn_begin(got);
	}
	lb_pool_release(p);
}

static void
test_random2_spread(void)
{
	static const uint32_t w[] = { 300, 100 };
	static const uint32_t w4[] = { 100, 100, 100, 100 };
	struct t_pool t;
	struct lb_pool *p;
	int i, a = 0;
	size_t k;

	/* Idle servers: the first draw wins ties, so shares follow weight. */
	t_pool_init(&t, LB_BAL_RANDOM2, w, 2);
	p = lb_pool_new(&t_rt, &t.pc);
	for (i = 0; i < 10000; i++)
		a += t_pick(p, NULL)->sname[0] == 'a';
	T_ASSERT(a > 7200 && a < 7800);
	lb_pool_release(p);

	/* Connections kept open: two choices keep loads close together. */
	t_pool_init(&t, LB_BAL_RANDOM2, w4, 4);
	p = lb_pool_new(&t_rt, &t.pc);
	for (i = 0; i < 4000; i++)
		lb_server_conn_begin(t_pick(p, NULL));
	for (k = 0; k < 4; k++)
		T_ASSERT(p->servers[k]->active > 950 &&
		    p->servers[k]->active < 1050);
	lb_pool_release(p);
}

#define T_NKEYS 20000

static void
t_map_keys(struct lb_pool *p, char map[T_NKEYS])
{
	char key[32];
	int i;

	for (i = 0; i < T_NKEYS; i++) {
		snprintf(key, sizeof(key), "user-%d", i);
		map[i] = t_pick(p, key)->sname[0];
	}
}

static void
test_hash_stability(void)
{
	static const uint32_t w[] = { 100, 100, 100, 100, 100 };
	static char before[T_NKEYS], after[T_NKEYS];
	struct t_pool t;
	struct lb_pool *p;
	int i, moved = 0, cnt[5] = { 0 };

	t_pool_init(&t, LB_BAL_HEADER, w, 5);
	t.pc.hash_header = "X-User";
	t.pc.nservers = 4;
	p = lb_pool_new(&t_rt, &t.pc);
	t_map_keys(p, before);
	/* Same key, same server, every time. */
	t_map_keys(p, after);
	T_ASSERT(memcmp(before, after, sizeof(before)) == 0);
	for (i = 0; i < T_NKEYS; i++)
		cnt[before[i] - 'a']++;
	for (i = 0; i < 4; i++)
		T_ASSERT(cnt[i] > T_NKEYS / 4 * 7 / 10 &&
		    cnt[i] < T_NKEYS / 4 * 13 / 10);

	/* A fifth server takes about 1/5 of the keys, only from others. */
	t.pc.nservers = 5;
	lb_pool_update(p, &t.pc);
	t_map_keys(p, after);
	for (i = 0; i < T_NKEYS; i++) {
		if (before[i] == after[i])
			continue;
		moved++;
		T_ASSERT(after[i] == 'e');
	}
	T_ASSERT(moved > T_NKEYS * 12 / 100 && moved < T_NKEYS * 28 / 100);

	/* A down server's keys move; nobody else's do. */
	lb_server_set_health(lb_pool_server(p, "b"), HC_DOWN, HC_R_TIMEOUT);
	t_map_keys(p, before);
	for (i = 0; i < T_NKEYS; i++) {
		T_ASSERT(before[i] != 'b');
		if (after[i] != 'b')
			T_ASSERT(before[i] == after[i]);
	}
	lb_pool_release(p);
}

static void
test_hash_source_and_fallback(void)
{
	static const uint32_t w[] = { 100, 100, 100 };
	struct sockaddr_storage cl;
	struct sockaddr_in *sin = (struct sockaddr_in *)&cl;
	struct lb_pick_ctx ctx = { 0 };
	enum lb_pick_err err;
	struct t_pool t;
	struct lb_pool *p;
	struct lb_server *first;
	int i, seen[3] = { 0 };

	t_pool_init(&t, LB_BAL_SOURCE, w, 3);
	p = lb_pool_new(&t_rt, &t.pc);
	memset(&cl, 0, sizeof(cl));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0xc6130005u);
	ctx.client = &cl;
	first = lb_pool_pick(p, &ctx, &err);
	for (i = 0; i < 50; i++) {
		sin->sin_port = htons((uint16_t)(1000 + i)); /* port ignored */
		T_ASSERT(lb_pool_pick(p, &ctx, &err) == first);
	}
	/* No key (no client address): round-robin over everyone. */
	for (i = 0; i < 30; i++)
		seen[t_pick(p, NULL)->sname[0] - 'a']++;
	T_EQ_INT(seen[0], 10);
	T_EQ_INT(seen[1], 10);
	lb_pool_release(p);
}

static void
test_hash_bounded_load(void)
{
	static const uint32_t w[] = { 100, 100, 100, 100, 100 };
	struct t_pool t;
	struct lb_pool *p;
	uint64_t total = 0;
	uint32_t cap;
	char key[32];
	int i;
	size_t k;

	T_EQ_INT(balance_hash_cap(0, 5, 125), 1);
	T_EQ_INT(balance_hash_cap(99, 5, 125), 25);
	T_EQ_INT(balance_hash_cap(100, 5, 125), 26);
	t_pool_init(&t, LB_BAL_HEADER, w, 5);
	t.pc.hash_header = "X-User";
	t.pc.hash_balance_pct = 125;
	p = lb_pool_new(&t_rt, &t.pc);
	/* A skewed workload: half the requests carry the same key. */
	for (i = 0; i < 2000; i++) {
		struct lb_server *s;

		if (i % 2 == 0)
			snprintf(key, sizeof(key), "hot");
		else
			snprintf(key, sizeof(key), "k%d", i);
		cap = balance_hash_cap(total, 5, 125);
		s = t_pick(p, key);
		T_ASSERT(s->active + 1 <= cap);
		lb_server_conn_begin(s);
		total++;
		for (k = 0; k < 5; k++)
			T_ASSERT(p->servers[k]->active <= cap);
	}
	/* Without the bound the hot key piles onto one server. */
	t.pc.hash_balance_pct = 0;
	lb_pool_update(p, &t.pc);
	for (k = 0; k < 5; k++)
		while (p->servers[k]->active > 0)
			lb_server_conn_end(p->servers[k]);
	for (i = 0; i < 100; i++)
		lb_server_conn_begin(t_pick(p, "hot"));
	T_ASSERT(t_pick(p, "hot")->active == 100);
	lb_pool_release(p);
}

static void
test_pick_exclude_full_down(void)
{
	static const uint32_t w[] = { 100, 100 };
	struct lb_server *ex[2];
	struct lb_pick_ctx ctx = { 0 };
	enum lb_pick_err err;
	struct t_pool t;
	struct lb_pool *p;
	struct lb_server *a, *b;

	t_pool_init(&t, LB_BAL_ROUNDROBIN, w, 2);
	t.sc[0].max_conn = 1;
	p = lb_pool_new(&t_rt, &t.pc);
	a = lb_pool_server(p, "a");
	b = lb_pool_server(p, "b");
	ex[0] = a;
	ctx.exclude = ex;
	ctx.nexclude = 1;
	T_ASSERT(lb_pool_pick(p, &ctx, &err) == b);
	ex[1] = b;
	ctx.nexclude = 2;
	T_ASSERT(lb_pool_pick(p, &ctx, &err) == NULL);
	T_EQ_INT(err, LB_PICK_EXHAUSTED);
	/* a at its max_conn, b excluded: full, worth queueing. */
	lb_server_conn_begin(a);
	ctx.exclude = &ex[1];
	ctx.nexclude = 1;
	T_ASSERT(lb_pool_pick(p, &ctx, &err) == NULL);
	T_EQ_INT(err, LB_PICK_FULL);
	lb_server_conn_end(a);
	/* Everything down: fail, or fail open when configured. */
	lb_server_set_health(a, HC_DOWN, HC_R_TIMEOUT);
	lb_server_set_health(b, HC_DOWN, HC_R_CONNECT_REFUSED);
	T_EQ_INT(p->active_zone, -1);
	T_ASSERT(lb_pool_pick(p, NULL, &err) == NULL);
	T_EQ_INT(err, LB_PICK_NONE_UP);
	T_EQ_INT(p->stats.picks_none_up, 1);
	T_EQ_INT(p->stats.all_down_events, 1);
	t.pc.all_down = LB_ALL_DOWN_FAIL_OPEN;
	lb_pool_update(p, &t.pc);
	T_ASSERT(lb_pool_pick(p, NULL, &err) != NULL);
	T_EQ_INT(err, LB_PICK_OK);
	T_EQ_INT(p->stats.picks_fail_open, 1);
	lb_pool_release(p);
}

static int t_passive_calls;
static char t_passive_target[IPC_NAME_MAX];

static void
t_passive_hook(const struct ipc_passive *msg)
{
	t_passive_calls++;
	memcpy(t_passive_target, msg->target, sizeof(t_passive_target));
}

/*
 * A health-checked round-robin pool of a and b with passive reports going
 * to t_passive_hook; the caller sets passive_5xx. Undo: lb_pool_release,
 * lb_runtime_fini.
 */
static struct lb_pool *
t_passive_pool(struct t_pool *t, uint32_t passive_5xx, struct lb_server **a,
    struct lb_server **b)
{
	static const uint32_t w[] = { 100, 100 };
	struct lb_pool *p;

	lb_runtime_init(&t_rt, NULL);
	lb_runtime_set_passive_hook(&t_rt, t_passive_hook);
	t_passive_calls = 0;
	t_pool_init(t, LB_BAL_ROUNDROBIN, w, 2);
	t->pc.health_check = "web-http";
	t->pc.passive_5xx = passive_5xx;
	p = lb_pool_new(&t_rt, &t->pc);
	*a = lb_pool_server(p, "a");
	*b = lb_pool_server(p, "b");
	return p;
}

static void
test_passive_never_last(void)
{
	struct t_pool t;
	struct lb_pool *p;
	struct lb_server *a, *b;
	int i;

	p = t_passive_pool(&t, 0, &a, &b);
	lb_server_passive_fail(a, HC_R_CONNECT_REFUSED);
	T_EQ_INT(t_passive_calls, 1);
	T_EQ_STR(t_passive_target, "web/a");
	T_ASSERT(a->passive_down);
	for (i = 0; i < 10; i++)
		T_ASSERT(t_pick(p, NULL) == b);
	/* b is the last one: reported, but kept in rotation. */
	lb_server_passive_fail(b, HC_R_TIMEOUT);
	T_EQ_INT(t_passive_calls, 2);
	T_ASSERT(!b->passive_down);
	T_EQ_INT(b->stats.passive_last_kept, 1);
	/* Only an UP verdict readmits a. */
	lb_server_set_health(a, HC_DOWN, HC_R_PASSIVE_EJECTED);
	T_ASSERT(!lb_server_usable(a));
	lb_server_set_health(a, HC_UP, HC_R_OK);
	T_ASSERT(lb_server_usable(a));
	lb_pool_release(p);
	lb_runtime_fini(&t_rt);
}

static void
test_passive_5xx_run(void)
{
	struct t_pool t;
	struct lb_pool *p;
	struct lb_server *a, *b;
	int i;

	p = t_passive_pool(&t, 3, &a, &b);
	/* A success between 5xx answers restarts the count. */
	lb_server_passive_status(a, 500);
	lb_server_passive_status(a, 503);
	lb_server_passive_status(a, 404);
	lb_server_passive_status(a, 502);
	lb_server_passive_status(a, 500);
	T_EQ_INT(t_passive_calls, 0);
	T_ASSERT(!a->passive_down);
	lb_server_passive_status(a, 504);
	T_EQ_INT(t_passive_calls, 1);
	T_ASSERT(a->passive_down);
	T_EQ_INT(a->stats.passive_ejections, 1);
	for (i = 0; i < 4; i++)
		T_ASSERT(t_pick(p, NULL) == b);
	/* The last usable server answers 5xx too: reported, kept. */
	for (i = 0; i < 3; i++)
		lb_server_passive_status(b, 500);
	T_EQ_INT(t_passive_calls, 2);
	T_ASSERT(!b->passive_down);
	T_EQ_INT(b->stats.passive_last_kept, 1);
	/* 0 turns status observation off. */
	t.pc.passive_5xx = 0;
	lb_pool_update(p, &t.pc);
	b = lb_pool_server(p, "b");
	for (i = 0; i < 10; i++)
		lb_server_passive_status(b, 500);
	T_EQ_INT(t_passive_calls, 2);
	lb_pool_release(p);
	lb_runtime_fini(&t_rt);
}

/* Picks of p over n tries: how many went to each of a, b, c; none fail. */
static void
t_count(struct lb_pool *p, int n, int cnt[3])
{
	int i;

	cnt[0] = cnt[1] = cnt[2] = 0;
	for (i = 0; i < n; i++)
		cnt[t_pick(p, NULL)->sname[0] - 'a']++;
}

/*
 * Damping holds a server down while its probes pass: de-preferred while
 * the pool has what it needs, used again when it would be short.
 */
static void
test_damped_come_back_when_short(void)
{
	static const uint32_t w[] = { 100, 100, 100 };
	struct t_pool t;
	struct lb_pool *p;
	struct lb_server *a, *b;
	int cnt[3];

	t_pool_init(&t, LB_BAL_ROUNDROBIN, w, 3);
	t.pc.health_check = "web-http";
	t.pc.min_up = 2;
	p = lb_pool_new(&t_rt, &t.pc);
	a = lb_pool_server(p, "a");
	b = lb_pool_server(p, "b");
	lb_server_set_verdict(a, HC_DOWN, HC_R_DAMPED, HC_UP);
	T_ASSERT(!lb_server_usable(a) && lb_server_standby(a));
	/* Two usable of the two needed: a takes nothing. */
	T_ASSERT(!p->fallback);
	t_count(p, 20, cnt);
	T_EQ_INT(cnt[0], 0);
	/* b fails its probes: one usable, one needed more; a is back. */
	lb_server_set_health(b, HC_DOWN, HC_R_TIMEOUT);
	T_ASSERT(!lb_server_standby(b));
	T_ASSERT(p->fallback);
	T_EQ_INT(p->stats.fallback_events, 1);
	t_count(p, 20, cnt);
	T_EQ_INT(cnt[0], 10);
	T_EQ_INT(cnt[1], 0);
	T_EQ_INT(cnt[2], 10);
	T_EQ_INT(p->stats.picks_fallback, 10);
	/* Damped while its probes fail: not a standby, never picked. */
	lb_server_set_verdict(a, HC_DOWN, HC_R_DAMPED, HC_DOWN);
	T_ASSERT(!lb_server_standby(a));
	T_ASSERT(!p->fallback);
	t_count(p, 10, cnt);
	T_EQ_INT(cnt[2], 10);
	/* b back: the pool has enough again. */
	lb_server_set_verdict(a, HC_DOWN, HC_R_DAMPED, HC_UP);
	T_ASSERT(p->fallback);
	lb_server_set_health(b, HC_UP, HC_R_OK);
	T_ASSERT(!p->fallback);
	t_count(p, 20, cnt);
	T_EQ_INT(cnt[0], 0);
	/* The operator's word is final: disabled is never a standby. */
	lb_server_set_admin(a, LB_ADMIN_DISABLED);
	T_ASSERT(!lb_server_standby(a));
	lb_pool_release(p);
}

/* Every server held down while its probes pass: the pool still serves. */
static void
test_one_probing_up_never_503(void)
{
	static const uint32_t w[] = { 100, 100, 100 };
	struct t_pool t;
	struct lb_pool *p;
	enum lb_pick_err err;
	int cnt[3];

	t_pool_init(&t, LB_BAL_ROUNDROBIN, w, 3);
	t.pc.health_check = "web-http";
	p = lb_pool_new(&t_rt, &t.pc);
	lb_server_set_health(lb_pool_server(p, "a"), HC_DOWN, HC_R_TIMEOUT);
	lb_server_set_health(lb_pool_server(p, "b"), HC_DOWN, HC_R_TIMEOUT);
	lb_server_set_verdict(
	    lb_pool_server(p, "c"), HC_DOWN, HC_R_DAMPED, HC_UP);
	T_ASSERT(p->active_zone == 0);
	t_count(p, 10, cnt);
	T_EQ_INT(cnt[2], 10);
	/* Passively ejected, no probe failed since: still a standby. */
	lb_server_set_verdict(
	    lb_pool_server(p, "c"), HC_DOWN, HC_R_PASSIVE_EJECTED, HC_UP);
	t_count(p, 10, cnt);
	T_EQ_INT(cnt[2], 10);
	/* Its probes fail too: now, and only now, the pool is down. */
	lb_server_set_verdict(
	    lb_pool_server(p, "c"), HC_DOWN, HC_R_PASSIVE_EJECTED, HC_DOWN);
	T_ASSERT(lb_pool_pick(p, NULL, &err) == NULL);
	T_EQ_INT(err, LB_PICK_NONE_UP);
	lb_pool_release(p);
}

/* Ejected by this worker's traffic: back when the pool would be short. */
static void
test_ejected_come_back_when_short(void)
{
	struct t_pool t;
	struct lb_pool *p;
	struct lb_server *a, *b;
	int i;

	p = t_passive_pool(&t, 0, &a, &b);
	lb_server_passive_fail(a, HC_R_CONNECT_REFUSED);
	T_ASSERT(a->passive_down && lb_server_standby(a));
	T_ASSERT(!p->fallback);
	for (i = 0; i < 10; i++)
		T_ASSERT(t_pick(p, NULL) == b);
	/* b's probes fail: a, ejected but not failing probes, serves. */
	lb_server_set_health(b, HC_DOWN, HC_R_CONNECT_REFUSED);
	T_ASSERT(p->fallback);
	for (i = 0; i < 10; i++)
		T_ASSERT(t_pick(p, NULL) == a);
	lb_pool_release(p);
	lb_runtime_fini(&t_rt);
}

/* A retry lands on a de-preferred server rather than giving up. */
static void
test_retry_lands_on_standby(void)
{
	static const uint32_t w[] = { 100, 100, 100 };
	struct t_pool t;
	struct lb_pool *p;
	struct lb_server *a, *tried[2], *s;
	struct lb_pick_ctx ctx = { 0 };
	enum lb_pick_err err;

	t_pool_init(&t, LB_BAL_ROUNDROBIN, w, 3);
	t.pc.health_check = "web-http";
	p = lb_pool_new(&t_rt, &t.pc);
	a = lb_pool_server(p, "a");
	lb_server_set_verdict(
	    lb_pool_server(p, "b"), HC_DOWN, HC_R_DAMPED, HC_UP);
	lb_server_set_health(lb_pool_server(p, "c"), HC_DOWN, HC_R_TIMEOUT);
	T_ASSERT(t_pick(p, NULL) == a);
	/* a failed this request: b, only de-preferred, takes the retry. */
	tried[0] = a;
	ctx.exclude = tried;
	ctx.nexclude = 1;
	s = lb_pool_pick(p, &ctx, &err);
	T_ASSERT(s != NULL && err == LB_PICK_OK);
	T_EQ_STR(s->sname, "b");
	T_EQ_INT(p->stats.picks_retry_elsewhere, 1);
	/* b failed too: c fails its probes, so every candidate is spent. */
	tried[1] = s;
	ctx.nexclude = 2;
	T_ASSERT(lb_pool_pick(p, &ctx, &err) == NULL);
	T_EQ_INT(err, LB_PICK_EXHAUSTED);
	lb_pool_release(p);
}

/* per_try_timeout cuts GET, HEAD and the listed methods only. */
static void
test_timed_methods(void)
{
	static const uint32_t w[] = { 100 };
	static char put[] = "PUT", purge[] = "PURGE", vc[] = "VERSION-CONTROL";
	char *methods[] = { put, purge, vc, NULL };
	struct t_pool t;
	struct lb_pool *p;

	t_pool_init(&t, LB_BAL_ROUNDROBIN, w, 1);
	p = lb_pool_new(&t_rt, &t.pc);
	T_ASSERT(lb_pool_timed_method(p, "GET", 3));
	T_ASSERT(lb_pool_timed_method(p, "HEAD", 4));
	T_ASSERT(!lb_pool_timed_method(p, "PUT", 3));
	T_ASSERT(!lb_pool_timed_method(p, "POST", 4));
	t.pc.retry_methods = methods;
	t.pc.nretry_methods = 3;
	lb_pool_update(p, &t.pc);
	t.pc.retry_methods = NULL; /* the pool keeps its own copy */
	T_ASSERT(lb_pool_timed_method(p, "PUT", 3));
	T_ASSERT(lb_pool_timed_method(p, "PURGE", 5));
	T_ASSERT(!lb_pool_timed_method(p, "purge", 5));
	/* Longer than any fixed buffer of the request: whole token counts. */
	T_ASSERT(lb_pool_timed_method(p, "VERSION-CONTROL", 15));
	T_ASSERT(!lb_pool_timed_method(p, "VERSION-CONTROLS", 16));
	T_ASSERT(!lb_pool_timed_method(p, "VERSION-CON", 11));
	T_ASSERT(!lb_pool_timed_method(p, "PURGE", 3));
	T_ASSERT(!lb_pool_timed_method(p, "POST", 4));
	lb_pool_release(p);
}

static int t_down_calls;

static void
t_down_hook(struct lb_server *s, void *arg)
{
	(void)s;
	t_down_calls++;
}

/* on_marked_down: shutdown acts when probes fail, not on a hold-down. */
static void
test_on_marked_down(void)
{
	static const uint32_t w[] = { 100, 100 };
	struct t_pool t;
	struct lb_pool *p;
	struct lb_server *a;

	lb_runtime_init(&t_rt, NULL);
	lb_runtime_set_down_hook(&t_rt, t_down_hook, NULL);
	t_down_calls = 0;
	t_pool_init(&t, LB_BAL_ROUNDROBIN, w, 2);
	t.pc.health_check = "web-http";
	p = lb_pool_new(&t_rt, &t.pc);
	a = lb_pool_server(p, "a");
	lb_server_set_health(a, HC_DOWN, HC_R_TIMEOUT);
	T_EQ_INT(t_down_calls, 0); /* keep: the default */
	lb_server_set_health(a, HC_UP, HC_R_OK);
	t.pc.on_marked_down = LB_OMD_SHUTDOWN;
	lb_pool_update(p, &t.pc);
	lb_server_set_verdict(a, HC_DOWN, HC_R_DAMPED, HC_UP);
	T_EQ_INT(t_down_calls, 0); /* it answers: only de-preferred */
	lb_server_set_verdict(a, HC_DOWN, HC_R_DAMPED, HC_DOWN);
	T_EQ_INT(t_down_calls, 1);
	lb_server_set_health(a, HC_DOWN, HC_R_TIMEOUT);
	T_EQ_INT(t_down_calls, 1); /* once per marking down */
	lb_pool_release(p);
	lb_runtime_fini(&t_rt);
}

static void
test_server_ref_outlives_reload(void)
{
	static const uint32_t w[] = { 100, 100 };
	struct t_pool t;
	struct lb_pool *p;
	struct lb_server *b;

	t_pool_init(&t, LB_BAL_ROUNDROBIN, w, 2);
	p = lb_pool_new(&t_rt, &t.pc);
	b = lb_pool_server(p, "b");
	lb_server_ref(b);
	lb_server_conn_begin(b);
	t.pc.nservers = 1;
	lb_pool_update(p, &t.pc);
	T_ASSERT(lb_pool_server(p, "b") == NULL);
	T_ASSERT(b->removed);
	T_EQ_STR(lb_server_name(b), "web/b");
	lb_pool_release(p);
	/* The pool lives on through b's reference. */
	T_EQ_STR(lb_server_pool(b)->name, "web");
	lb_server_conn_end(b);
	lb_server_unref(b);
}

static const struct test tests[] = {
	TEST(test_rr_smooth_sequence),
	TEST(test_rr_weight_zero_and_admin),
	TEST(test_leastconn),
	TEST(test_random2_spread),
	TEST(test_hash_stability),
	TEST(test_hash_source_and_fallback),
	TEST(test_hash_bounded_load),
	TEST(test_pick_exclude_full_down),
	TEST(test_passive_never_last),
	TEST(test_passive_5xx_run),
	TEST(test_damped_come_back_when_short),
	TEST(test_one_probing_up_never_503),
	TEST(test_ejected_come_back_when_short),
	TEST(test_retry_lands_on_standby),
	TEST(test_timed_methods),
	TEST(test_on_marked_down),
	TEST(test_server_ref_outlives_reload),
};

TEST_MAIN(tests)
