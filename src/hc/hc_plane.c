/*
 * hc_plane.c - the health engine as a plane of `haven run`: the child
 * runtime calls these hooks (lib/plane.h); verdicts go to the parent with
 * plane_send(IPC_VERDICT), passive reports arrive as IPC_PASSIVE.
 *
 * The engine is created by the first apply, because the state directory
 * (where last-known verdicts are read from) comes with the config. The
 * check types are installed here, so only the daemon links all of them.
 */
#include <linux/capability.h>

#include <string.h>

#include "hc/hc_engine.h"
#include "lib/log.h"
#include "lib/plane.h"
#include "lib/priv.h"

struct hc_plane_rt {
	struct ev_loop *loop;  /* borrowed: the child runtime's */
	struct hc_engine *eng; /* owned; NULL until the first apply */
};

static struct hc_plane_rt hc_plane_rt;

static void
hc_plane_verdict(const struct hc_target *t, void *arg)
{
	struct ipc_verdict v;

	memset(&v, 0, sizeof(v));
	snprintf(v.target, sizeof(v.target), "%s", t->name);
	v.state = (int32_t)t->sm.state;
	v.reason = (int32_t)t->sm.reason;
	v.probe_state = (int32_t)t->sm.probe;
	v.since_ms = t->since_wall_ms;
	if (t->gone) {
		v.gone = 1;
		v.state = HC_UNKNOWN;
		v.reason = HC_R_NOT_PROBED;
		v.probe_state = HC_UNKNOWN;
	}
	/* A refusal is counted by the runtime (plane.h). */
	(void)plane_send(IPC_VERDICT, &v, sizeof(v));
}

static int
hc_plane_init(struct ev_loop *loop, unsigned worker, unsigned nworkers)
{
	hc_plane_rt.loop = loop;
	return 0;
}

static struct hc_engine *
hc_plane_engine(const char *state_dir)
{
	struct hc_engine *e;

	e = hc_engine_new(hc_plane_rt.loop, state_dir, 0);
	hc_engine_set_type(e, HC_TYPE_HTTP, &hc_http_type);
	hc_engine_set_type(e, HC_TYPE_HTTPS, &hc_https_type);
	hc_engine_set_type(e, HC_TYPE_ICMP, &hc_icmp_type);
	hc_engine_set_type(e, HC_TYPE_DNS, &hc_dns_type);
	hc_engine_set_type(e, HC_TYPE_EXEC, &hc_exec_type);
	hc_engine_on_verdict(e, hc_plane_verdict, NULL);
	return e;
}

/* The targets the other planes declared come in env. */
static int
hc_plane_apply(const void *old, const void *conf, const struct plane_env *env,
    struct conf_errors *errs)
{
	if (hc_plane_rt.eng == NULL)
		hc_plane_rt.eng = hc_plane_engine(env->state_dir);
	hc_engine_apply_conf(
	    hc_plane_rt.eng, conf, env->targets, env->ntargets);
	log_info(
	    "health config applied", "targets=%zu", hc_plane_rt.eng->ntargets);
	return 0;
}

static void
hc_plane_on_msg(const struct ipc_msg *msg)
{
	struct ipc_passive p;

	/* Before the first apply there are no targets to report on. */
	if (msg->type != IPC_PASSIVE || msg->len != sizeof(p) ||
	    hc_plane_rt.eng == NULL) {
		plane_msg_bad();
		return;
	}
	memcpy(&p, msg->data, sizeof(p));
	p.target[sizeof(p.target) - 1] = '\0';
	hc_engine_passive(hc_plane_rt.eng, p.target, (enum hc_reason)p.kind);
}

static int
hc_plane_query(const char *method, const char *path, const char *body,
    size_t body_len, struct buf *out)
{
	if (hc_plane_rt.eng == NULL) {
		buf_puts(out, "{\"error\":\"health engine not configured\"}");
		return 503;
	}
	return hc_api_query(hc_plane_rt.eng, method, path, out);
}

static void
hc_plane_metrics(struct buf *out)
{
	if (hc_plane_rt.eng != NULL)
		hc_metrics_render(hc_plane_rt.eng, out);
}

/* Probes are cheap to abandon; the verdicts are what must survive. */
static void
hc_plane_stop(unsigned deadline_ms)
{
	hc_engine_free(hc_plane_rt.eng);
	hc_plane_rt.eng = NULL;
	plane_stopped();
}

/*
 * CAP_NET_RAW only for an icmp check whose ping socket the kernel would
 * refuse to our group (hc_icmp.c then falls back to a raw socket). Every
 * other check type needs nothing.
 */
static uint64_t
hc_plane_caps(const void *conf, gid_t gid)
{
	const struct hc_conf *c = conf;

	for (size_t i = 0; i < c->nchecks; i++)
		if (c->checks[i].type == HC_TYPE_ICMP)
			return priv_ping_allowed(gid) ? 0 :
			                                PRIV_CAP(CAP_NET_RAW);
	return 0;
}

const struct plane_ops hc_plane = {
	.name = "hc",
	.init = hc_plane_init,
	.apply = hc_plane_apply,
	.on_msg = hc_plane_on_msg,
	.query = hc_plane_query,
	.metrics = hc_plane_metrics,
	.stop = hc_plane_stop,
	.caps = hc_plane_caps,
	.check_names = hc_conf_check_names,
	.check_detect_ms = hc_conf_check_detect_ms,
};
