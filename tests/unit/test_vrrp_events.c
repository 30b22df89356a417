/*
 * test_vrrp_events.c - GET /v1/vrrp/events (vrrp_api.c) over hand-filled
 * transition rings: the instances' rings merged by number, oldest first,
 * only numbers above since, and "lost" exactly when a transition after
 * since is no longer held (a ring overwrote it) or since is from an
 * earlier process.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/util.h"
#include "runner.h"
#include "vrrp/vrrp_rt.h"

/* Log transition number rt->seq + 1 on in, as vrrp_inst_log_event does. */
static void
test_ve_log(struct vrrp_rt *rt, struct vrrp_inst *in, enum vrrp_state to)
{
	struct vrrp_event *e = &in->events[in->nevents % VRRP_EVENTS];

	e->seq = ++rt->seq;
	e->wall_ms = 1000 * e->seq;
	e->from = VRRP_S_BACKUP;
	e->to = to;
	e->reason = VRRP_R_MASTER_DOWN;
	e->priority = 100;
	in->nevents++;
}

struct test_ve {
	struct vrrp_rt rt;
	struct vrrp_inst a, b;
	struct vrrp_inst *insts[2];
};

static void
test_ve_init(struct test_ve *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->a.name, sizeof(t->a.name), "a");
	snprintf(t->b.name, sizeof(t->b.name), "b");
	t->insts[0] = &t->a;
	t->insts[1] = &t->b;
	t->rt.insts = t->insts;
	t->rt.ninsts = 2;
}

/* GET path; the parsed reply in *tree; the HTTP status. */
static int
test_ve_get(struct test_ve *t, const char *path, struct conf_tree *tree)
{
	struct conf_errors errs;
	struct buf out;
	int status;

	buf_init(&out);
	status = vrrp_api_query(&t->rt, "GET", path, &out);
	conf_errors_init(&errs);
	T_EQ_INT(conf_json_load("r", out.data, out.len, tree, &errs), 0);
	conf_errors_fini(&errs);
	buf_fini(&out);
	return status;
}

static const char *
test_ve_str(struct conf_node *n, const char *path)
{
	static char bufs[4][64];
	static unsigned k;
	char *s = conf_node_text(conf_node_at(n, path)), *out = bufs[k++ % 4];

	snprintf(out, sizeof(bufs[0]), "%s", s != NULL ? s : "(none)");
	free(s);
	return out;
}

/* Field key of the reply's i-th event. */
static const char *
test_ve_ev(struct conf_node *root, size_t i, const char *key)
{
	return test_ve_str(
	    conf_node_item(conf_node_at(root, "/events"), i), key);
}

/* The seqs of the reply's events, "3,4,5". */
static const char *
test_ve_seqs(struct conf_node *root)
{
	static char s[1024];
	struct conf_node *e;
	size_t len = 0;

	s[0] = '\0';
	for (size_t i = 0;
	     (e = conf_node_item(conf_node_at(root, "/events"), i)) != NULL;
	     i++)
		len += (size_t)snprintf(s + len, sizeof(s) - len, "%s%s",
		    i ? "," : "", test_ve_str(e, "/seq"));
	return s;
}

/* Two instances' transitions interleave; the stream is one sequence. */
static void
test_ve_merge(void)
{
	struct test_ve t;
	struct conf_tree tree;

	test_ve_init(&t);
	test_ve_log(&t.rt, &t.a, VRRP_S_BACKUP);
	test_ve_log(&t.rt, &t.b, VRRP_S_BACKUP);
	test_ve_log(&t.rt, &t.b, VRRP_S_MASTER);
	test_ve_log(&t.rt, &t.a, VRRP_S_MASTER);
	test_ve_log(&t.rt, &t.b, VRRP_S_FAULT);
	T_EQ_INT(test_ve_get(&t, "/v1/vrrp/events", &tree), 200);
	T_EQ_STR(test_ve_seqs(tree.root), "1,2,3,4,5");
	T_EQ_STR(test_ve_str(tree.root, "/newest"), "5");
	T_EQ_STR(test_ve_str(tree.root, "/oldest"), "1");
	T_EQ_STR(test_ve_str(tree.root, "/lost"), "false");
	T_EQ_STR(test_ve_ev(tree.root, 3, "/instance"), "a");
	T_EQ_STR(test_ve_ev(tree.root, 3, "/to"), "master");
	T_EQ_STR(test_ve_ev(tree.root, 4, "/instance"), "b");
	T_EQ_STR(test_ve_ev(tree.root, 4, "/to"), "fault");
	T_EQ_STR(test_ve_ev(tree.root, 4, "/at_ms"), "5000");
	conf_tree_fini(&tree);
	T_EQ_INT(test_ve_get(&t, "/v1/vrrp/events?since=3", &tree), 200);
	T_EQ_STR(test_ve_seqs(tree.root), "4,5");
	T_EQ_STR(test_ve_str(tree.root, "/lost"), "false");
	conf_tree_fini(&tree);
	T_EQ_INT(test_ve_get(&t, "/v1/vrrp/events?x=1&since=5", &tree), 200);
	T_EQ_STR(test_ve_seqs(tree.root), "");
	T_EQ_STR(test_ve_str(tree.root, "/lost"), "false");
	conf_tree_fini(&tree);
	/* Numbers restart with the process: a since from before. */
	T_EQ_INT(test_ve_get(&t, "/v1/vrrp/events?since=9", &tree), 200);
	T_EQ_STR(test_ve_seqs(tree.root), "1,2,3,4,5");
	T_EQ_STR(test_ve_str(tree.root, "/lost"), "true");
	conf_tree_fini(&tree);
	T_EQ_INT(test_ve_get(&t, "/v1/vrrp/events?since=-1", &tree), 400);
	conf_tree_fini(&tree);
	T_EQ_INT(test_ve_get(&t, "/v1/vrrp/events?since=3x", &tree), 400);
	conf_tree_fini(&tree);
}

/*
 * a's ring overwrites its oldest: a client behind them is told it lost
 * some, one that kept up is not.
 */
static void
test_ve_lost(void)
{
	struct test_ve t;
	struct conf_tree tree;
	char want[16];
	int i;

	test_ve_init(&t);
	test_ve_log(&t.rt, &t.b, VRRP_S_BACKUP); /* 1, kept in b */
	for (i = 0; i < VRRP_EVENTS + 6; i++)    /* 2..71; 2..7 overwritten */
		test_ve_log(&t.rt, &t.a, i % 2 ? VRRP_S_MASTER : VRRP_S_BACKUP);
	T_EQ_INT(test_ve_get(&t, "/v1/vrrp/events?since=0", &tree), 200);
	T_EQ_STR(test_ve_str(tree.root, "/lost"), "true");
	T_EQ_STR(test_ve_str(tree.root, "/oldest"), "1");
	T_EQ_STR(test_ve_ev(tree.root, 0, "/seq"), "1");
	T_EQ_STR(test_ve_ev(tree.root, 1, "/seq"), "8");
	T_EQ_INT(conf_node_count(conf_node_at(tree.root, "/events")),
	    1 + VRRP_EVENTS);
	conf_tree_fini(&tree);
	T_EQ_INT(test_ve_get(&t, "/v1/vrrp/events?since=6", &tree), 200);
	T_EQ_STR(test_ve_str(tree.root, "/lost"), "true"); /* 7 is gone */
	conf_tree_fini(&tree);
	T_EQ_INT(test_ve_get(&t, "/v1/vrrp/events?since=7", &tree), 200);
	T_EQ_STR(test_ve_str(tree.root, "/lost"), "false");
	snprintf(want, sizeof(want), "%d", 2 + VRRP_EVENTS + 5);
	T_EQ_STR(test_ve_str(tree.root, "/newest"), want);
	T_EQ_STR(test_ve_ev(tree.root, 0, "/seq"), "8");
	conf_tree_fini(&tree);
}

static const struct test tests[] = {
	TEST(test_ve_merge),
	TEST(test_ve_lost),
};

TEST_MAIN(tests)
