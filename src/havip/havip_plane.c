/*
 * havip_plane.c - the HAVIP control plane as a plane of `haven run`: the
 * site gateway's (or the test VPC's) controller that routes each HAVIP to
 * the instance that owns it and maps EIPs onto HAVIPs (lib/plane.h).
 *
 * One process, holding CAP_NET_ADMIN (routes, nftables) and CAP_NET_RAW
 * (the snooping AF_PACKET sockets) and nothing else; the parent keeps
 * both in its bounding set for the VIP plane already.
 */
#include <linux/capability.h>

#include "havip/havip_rt.h"
#include "lib/log.h"
#include "lib/plane.h"
#include "lib/priv.h"

static struct havip_rt *havip_plane_rt; /* owned */

static int
havip_plane_init(struct ev_loop *loop, unsigned worker, unsigned nworkers)
{
	havip_plane_rt = havip_rt_new(loop);
	return 0;
}

static int
havip_plane_apply(const void *old, const void *conf,
    const struct plane_env *env, struct conf_errors *errs)
{
	const struct havip_conf *c = conf;

	if (havip_rt_apply(havip_plane_rt, c, errs) != 0)
		return -1;
	log_info("havip config applied", "instances=%zu havips=%zu",
	    c->ninstances, c->naddresses);
	return 0;
}

static int
havip_plane_query(const char *method, const char *path, const char *body,
    size_t body_len, struct buf *out)
{
	return havip_api_query(
	    havip_plane_rt, method, path, body, body_len, out);
}

static void
havip_plane_metrics(struct buf *out)
{
	havip_api_metrics(havip_plane_rt, out);
}

static void
havip_plane_stop(unsigned deadline_ms)
{
	havip_rt_stop(havip_plane_rt);
	havip_rt_free(havip_plane_rt);
	havip_plane_rt = NULL;
	plane_stopped();
}

/* Routes and nftables (NET_ADMIN); packet sockets (NET_RAW). */
static uint64_t
havip_plane_caps(const void *conf, gid_t gid)
{
	return PRIV_CAP(CAP_NET_ADMIN) | PRIV_CAP(CAP_NET_RAW);
}

const struct plane_ops havip_plane = {
	.name = "havip",
	.init = havip_plane_init,
	.apply = havip_plane_apply,
	.query = havip_plane_query,
	.metrics = havip_plane_metrics,
	.stop = havip_plane_stop,
	.status = havip_status_print,
	.caps = havip_plane_caps,
};
