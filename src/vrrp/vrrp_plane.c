/*
 * vrrp_plane.c - the virtual IP plane as a plane of `haven run`: the child
 * runtime calls these hooks (lib/plane.h). One process; it alone holds
 * CAP_NET_ADMIN (addresses) and CAP_NET_RAW (protocol 112, ARP/NA
 * frames), so a bug in the load balancer or the health engine can never
 * move an address.
 *
 * The runtime is created at init and configured by each apply; a stop is
 * graceful: each master hands over with a priority 0 advert and takes its
 * addresses off before the process exits.
 */
#include <sys/mman.h>

#include <linux/capability.h>

#include <errno.h>
#include <sched.h>
#include <string.h>

#include "hc/hc.h"
#include "lib/log.h"
#include "lib/plane.h"
#include "lib/priv.h"
#include "vrrp/vrrp_rt.h"

struct vrrp_plane_rt {
	struct vrrp_rt *rt; /* owned */
};

static struct vrrp_plane_rt vrrp_plane_rt;

/*
 * Adverts must leave on time while the load balancer saturates every core
 * (a late advert is a false takeover): a real-time round-robin priority,
 * above every ordinary task, and the pages mapped so far locked in RAM.
 * Both are taken here, before the runtime drops root (the parent keeps
 * SYS_NICE and IPC_LOCK for this), and both outlive the drop. Hooks and
 * scripts this process runs go back to the normal policy
 * (SCHED_RESET_ON_FORK). The loop only waits on sockets and timers, so it
 * cannot spin the machine. Where either is refused (a container), the
 * plane runs on at the normal priority and says so.
 */
static void
vrrp_plane_realtime(void)
{
	struct sched_param sp = { .sched_priority = 10 };

	if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) != 0)
		log_warn("vrrp runs without real-time priority", "error=%s",
		    log_q(strerror(errno)));
	if (mlockall(MCL_CURRENT) != 0)
		log_warn("vrrp memory not locked", "error=%s",
		    log_q(strerror(errno)));
}

static int
vrrp_plane_init(struct ev_loop *loop, unsigned worker, unsigned nworkers)
{
	vrrp_plane_realtime();
	vrrp_plane_rt.rt = vrrp_rt_new(loop);
	return vrrp_plane_rt.rt != NULL ? 0 : -1;
}

static int
vrrp_plane_apply(const void *old, const void *conf, const struct plane_env *env,
    struct conf_errors *errs)
{
	const struct vrrp_conf *c = conf;

	if (vrrp_rt_apply(
	        vrrp_plane_rt.rt, c, env->targets, env->ntargets, errs) != 0)
		return -1;
	log_info("vrrp config applied", "instances=%zu", c->ninstances);
	return 0;
}

/* Verdicts (track_checks, tracked pools' servers); anything else is a
 * bug. */
static void
vrrp_plane_on_msg(const struct ipc_msg *msg)
{
	struct ipc_verdict v;

	if (msg->type != IPC_VERDICT || msg->len != sizeof(v) ||
	    vrrp_plane_rt.rt == NULL) {
		plane_msg_bad();
		return;
	}
	memcpy(&v, msg->data, sizeof(v));
	v.target[sizeof(v.target) - 1] = '\0';
	vrrp_rt_verdict(
	    vrrp_plane_rt.rt, v.target, !v.gone && v.state == HC_DOWN);
}

static int
vrrp_plane_query(const char *method, const char *path, const char *body,
    size_t body_len, struct buf *out)
{
	return vrrp_api_query(vrrp_plane_rt.rt, method, path, out);
}

static void
vrrp_plane_metrics(struct buf *out)
{
	vrrp_api_metrics(vrrp_plane_rt.rt, out);
}

static void
vrrp_plane_stopped(void *arg)
{
	vrrp_rt_free(vrrp_plane_rt.rt);
	vrrp_plane_rt.rt = NULL;
	plane_stopped();
}

/*
 * Hand over (priority 0, addresses off) at once, then let the notify
 * hooks those last transitions queued (notify_stop) run, but leave a
 * little of the runtime's deadline to exit cleanly in.
 */
static void
vrrp_plane_stop(unsigned deadline_ms)
{
	vrrp_rt_stop(vrrp_plane_rt.rt);
	vrrp_notify_drain(vrrp_plane_rt.rt,
	    deadline_ms > 500 ? deadline_ms - 250 : deadline_ms / 2,
	    vrrp_plane_stopped, NULL);
}

/* Addresses (NET_ADMIN) and the raw protocol-112 and packet sockets. */
static uint64_t
vrrp_plane_caps(const void *conf, gid_t gid)
{
	return PRIV_CAP(CAP_NET_ADMIN) | PRIV_CAP(CAP_NET_RAW);
}

const struct plane_ops vrrp_plane = {
	.name = "vrrp",
	.init = vrrp_plane_init,
	.apply = vrrp_plane_apply,
	.on_msg = vrrp_plane_on_msg,
	.query = vrrp_plane_query,
	.metrics = vrrp_plane_metrics,
	.stop = vrrp_plane_stop,
	.status = vrrp_status_print,
	.caps = vrrp_plane_caps,
	.targets = vrrp_conf_targets,
	.check_refs = vrrp_conf_check_refs,
	.target_refs = vrrp_conf_target_refs,
};
