/*
 * test_planes.c - the plane registry's promise: a plane is a folder, a
 * schema, a plane_ops and one row. This test build links the parent's code
 * with a table of its own (planes[] here replaces src/cmd/planes.c) holding
 * two planes nobody else knows: "probe" sends verdicts, "fake" runs N
 * workers, subscribes to verdicts and may send passive reports. Config
 * binding, process count, API routing by prefix, relay subscription and the
 * per-sender message check work for them with no edit elsewhere.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/config.h"
#include "cmd/parent.h"
#include "lib/util.h"
#include "runner.h"

struct fake_conf {
	uint32_t workers;
};

static const struct conf_key fake_conf_keys[] = {
	{ "workers", CT_UINT, offsetof(struct fake_conf, workers), "2", 1, 1024,
	    .help = "processes" },
};

static const struct conf_schema fake_conf_schema = {
	.name = "fake",
	.size = sizeof(struct fake_conf),
	.keys = fake_conf_keys,
	.nkeys = ARRAY_SIZE(fake_conf_keys),
};

static unsigned
fake_nprocs(const void *conf)
{
	return ((const struct fake_conf *)conf)->workers;
}

static int
fake_init(struct ev_loop *loop, unsigned worker, unsigned nworkers)
{
	return 0;
}

static int
fake_apply(const void *old, const void *conf, const struct plane_env *env,
    struct conf_errors *errs)
{
	return 0;
}

static const struct plane_ops fake_ops = {
	.name = "fake",
	.init = fake_init,
	.apply = fake_apply,
	.nprocs = fake_nprocs,
};

static const struct conf_schema probe_conf_schema = {
	.name = "probe",
	.size = sizeof(struct fake_conf),
	.keys = fake_conf_keys,
	.nkeys = 0,
};

static const struct plane_ops probe_ops = {
	.name = "probe",
	.init = fake_init,
	.apply = fake_apply,
};

const struct plane_row planes[] = {
	{
	    .name = "probe",
	    .ops = &probe_ops,
	    .section = "probing",
	    .schema = &probe_conf_schema,
	    .api_prefix = "/v1/probes",
	    .sends = PLANE_MSG(IPC_VERDICT),
	    .receives = PLANE_MSG(IPC_PASSIVE),
	},
	{
	    .name = "fake",
	    .ops = &fake_ops,
	    .section = "fake",
	    .schema = &fake_conf_schema,
	    .api_prefix = "/v1/fake",
	    .fanout = PLANE_API_POST_ALL,
	    .sends = PLANE_MSG(IPC_PASSIVE),
	    .receives = PLANE_MSG(IPC_VERDICT),
	},
};
const size_t nplanes = ARRAY_SIZE(planes);

/* Its section binds through the registry; its row sizes it. */
static void
test_fake_section_and_procs(void)
{
	const char *y = "fake:\n  workers: 3\n";
	struct parent p = { 0 };
	struct conf_errors e;
	struct haven_conf c;
	const struct fake_conf *fc;

	conf_errors_init(&e);
	T_EQ_INT(haven_conf_load_text("t.yaml", y, strlen(y), &c, &e, 0), 0);
	T_ASSERT(haven_conf_has_plane(&c, "fake"));
	T_ASSERT(!haven_conf_has_plane(&c, "probe"));
	fc = haven_conf_section(&c, planes_find("fake"));
	T_EQ_INT(fc->workers, 3);
	p.conf = &c;
	T_EQ_INT(parent_plane_procs(&p, planes_find("fake")), 3);
	T_EQ_INT(parent_plane_procs(&p, planes_find("probe")), 0);
	haven_conf_free(&c);
	conf_errors_fini(&e);

	/* No section of any row: refused, naming the rows' sections. */
	conf_errors_init(&e);
	T_EQ_INT(haven_conf_load_text("t.yaml", "", 0, &c, &e, 0), -EINVAL);
	T_ASSERT(e.n == 1 && strstr(e.v[0].msg, "probing: or fake:") != NULL);
	conf_errors_fini(&e);
}

/* The API router finds a plane by its row's prefix, and only there. */
static void
test_fake_api_route(void)
{
	T_ASSERT(parent_api_route("/v1/fake") == planes_find("fake"));
	T_ASSERT(parent_api_route("/v1/fake/things/a") == planes_find("fake"));
	T_ASSERT(parent_api_route("/v1/probes/x") == planes_find("probe"));
	T_ASSERT(parent_api_route("/v1/fakeout") == NULL);
	T_ASSERT(parent_api_route("/v1/lb") == NULL);
	T_ASSERT(parent_api_route("/v1/checks") == NULL);
}

/* Subscriptions come from the rows' receives sets. */
static void
test_fake_relay_subscription(void)
{
	T_ASSERT(parent_plane_receives("fake", IPC_VERDICT));
	T_ASSERT(!parent_plane_receives("fake", IPC_PASSIVE));
	T_ASSERT(parent_plane_receives("probe", IPC_PASSIVE));
	T_ASSERT(!parent_plane_receives("probe", IPC_VERDICT));
	T_ASSERT(!parent_plane_receives("lb", IPC_VERDICT));
}

/*
 * A verdict from a fake worker is dropped and counted under its plane and
 * type; the same verdict from the probe plane is relayed and remembered.
 */
static void
test_fake_message_check(void)
{
	struct parent p = { 0 };
	struct sup_child c = { 0 };
	struct ipc_verdict v = { 0 };
	struct ipc_msg m = {
		.type = IPC_VERDICT, .data = &v, .len = sizeof(v), .fd = -1
	};
	size_t fake = planes_index(planes_find("fake"));
	size_t probe = planes_index(planes_find("probe"));

	p.loop = ev_loop_new();
	p.sup = sup_new(p.loop, "/bin/false", NULL, NULL, NULL, &p);
	snprintf(v.target, sizeof(v.target), "pool/a");
	snprintf(c.plane, sizeof(c.plane), "fake");
	parent_child_msg(&c, &m, &p);
	T_EQ_INT(p.ipc_dropped[fake][IPC_VERDICT], 1);
	T_EQ_INT(p.verdicts_relayed, 0);
	T_EQ_INT(namemap_count(&p.vtab), 0);

	snprintf(c.plane, sizeof(c.plane), "probe");
	parent_child_msg(&c, &m, &p);
	T_EQ_INT(p.ipc_dropped[probe][IPC_VERDICT], 0);
	T_EQ_INT(p.verdicts_relayed, 1);
	T_EQ_INT(namemap_count(&p.vtab), 1);

	/* A passive report is the fake plane's to send, not the probe's. */
	m.type = IPC_PASSIVE;
	m.len = sizeof(struct ipc_passive);
	parent_child_msg(&c, &m, &p);
	T_EQ_INT(p.ipc_dropped[probe][IPC_PASSIVE], 1);
	snprintf(c.plane, sizeof(c.plane), "fake");
	parent_child_msg(&c, &m, &p);
	T_EQ_INT(p.passive_relayed, 1);
	T_EQ_INT(p.ipc_unexpected, 0);

	parent_relay_fini(&p);
	sup_free(p.sup);
	ev_loop_free(p.loop);
}

static const struct test tests[] = {
	TEST(test_fake_section_and_procs),
	TEST(test_fake_api_route),
	TEST(test_fake_relay_subscription),
	TEST(test_fake_message_check),
};

TEST_MAIN(tests)
