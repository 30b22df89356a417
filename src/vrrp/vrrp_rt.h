/*
 * vrrp_rt.h - the runtime of the virtual IP plane: one struct vrrp_rt per
 * vrrp process, holding the instances (one virtual router each), the raw
 * sockets they share (one per interface and family) and the netlink
 * handles that move addresses and report link changes.
 *
 * Who does what:
 *   vrrp_rt.c    apply (diff by name), sockets and the receive path, link
 *                events, graceful stop;
 *   vrrp_inst.c  one instance: its state machine's timer, the actions the
 *                machine asks for (adverts; becoming or leaving master
 *                goes to its takeover backend, vrrp_tk.h), tracking, its
 *                transition log;
 *   vrrp_notify.c the notify hooks each transition runs, in order;
 *   vrrp_api.c   GET /v1/vrrp, /v1/vrrp/events, /metrics, `haven status`;
 *   vrrp_plane.c the plane_ops glue for the child runtime.
 *
 * Ownership: rt owns its instances and sockets; an instance borrows its
 * socket from rt (rt closes a socket when no instance uses it) and its
 * conf from the section the child runtime keeps until the next apply
 * returns; apply re-points every kept instance at the new section.
 */
#ifndef HAVEN_VRRP_RT_H
#define HAVEN_VRRP_RT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/ev.h"
#include "lib/namemap.h"
#include "vrrp/vrrp_addr.h"
#include "vrrp/vrrp_announce.h"
#include "vrrp/vrrp_auth.h"
#include "vrrp/vrrp_conf.h"
#include "vrrp/vrrp_fsm.h"
#include "vrrp/vrrp_pkt.h"
#include "vrrp/vrrp_sock.h"
#include "vrrp/vrrp_tk.h"

#define VRRP_EVENTS 64 /* transitions kept per instance for the API */

/* One raw socket, shared by the instances on its interface and family. */
struct vrrp_rsock {
	struct vrrp_sock s;
	struct vrrp_announce ann; /* GARP / NA on the same interface */
	struct ev_io io;
	struct vrrp_rt *rt; /* borrowed: owner */
	unsigned users;     /* instances using it */
};

struct vrrp_event {
	uint64_t seq; /* the process's transition number (vrrp_rt.seq) */
	uint64_t wall_ms;
	enum vrrp_state from, to;
	enum vrrp_reason reason;
	uint8_t priority; /* effective, at the time */
};

/*
 * A tracked lb pool at run time: its servers' target names, copied from
 * the targets lb declared at the last apply (the health engine names its
 * verdicts so), and how many of them it does not report down.
 */
struct vrrp_pool_track {
	char **servers; /* owned array of owned target names */
	size_t nservers;
	size_t usable;
};

struct vrrp_inst {
	struct vrrp_rt *rt;                    /* borrowed: owner */
	const struct vrrp_instance_conf *conf; /* borrowed: see above */
	char name[64];
	struct vrrp_fsm fsm;
	struct ev_timer timer; /* at vrrp_fsm_next_deadline */
	struct ev_timer
	    garp_timer; /* next announcement round (vrrp_tk_local) */
	struct ev_timer heal_timer; /* preempt "after healthy": full priority */
	struct vrrp_announce_sched sched;
	struct vrrp_rsock *sock; /* borrowed from rt */
	int ifindex;
	struct sockaddr_storage src; /* adverts come from here */
	bool have_src;
	struct vrrp_tk tk; /* takeover backend and its bookkeeping */
	bool holding;      /* the virtual addresses are on the interface */
	bool link_down;    /* the instance's own interface */
	/* Tracking: 1 bit per track_interfaces[] entry that is down, and
	 * per track_checks[] entry the health engine says is down. */
	uint64_t track_down;
	uint64_t check_down;
	struct vrrp_auth auth; /* HMAC trailer: key, sequences (vrrp_rt.c
	                          sets it at apply) */
	/* Per track_pools[] entry (same index): its servers, and a bit per
	 * entry whose usable count is below its min_up. */
	struct vrrp_pool_track *pools; /* owned array */
	size_t npools;
	uint64_t pool_short;
	/* The virtual addresses as the adverts carry them. */
	uint8_t addrs[VRRP_ADDRS_MAX * 16];
	enum vrrp_state last_state; /* for the transition log */
	/* The master heard last (BACKUP), for status. */
	struct sockaddr_storage master;
	uint8_t master_prio;
	/* Counters the machine does not keep. */
	uint64_t rx_adverts;
	uint64_t addr_errors; /* netlink add/del failures */
	uint64_t send_errors;
	uint64_t garp_sent;
	uint64_t addr_mismatch;    /* an advert listing other addresses */
	uint64_t master_us;        /* time spent master, before since_us */
	uint64_t dual_announce_us; /* last re-announcement to a lower master */
	struct vrrp_event events[VRRP_EVENTS];
	unsigned nevents; /* total; events[] is a ring */
};

struct vrrp_rt {
	struct ev_loop *loop; /* borrowed: the child runtime's */
	struct vrrp_addr_nl nl;
	struct vrrp_addr_mon mon;
	struct ev_io mon_io;
	bool nl_ok;
	struct vrrp_inst **insts; /* owned array of owned */
	size_t ninsts;
	struct vrrp_rsock **socks; /* owned array of owned */
	size_t nsocks;
	/* Adverts dropped before reaching an instance, by reason. */
	uint64_t drops[VRRP_DROP__COUNT];
	uint64_t rx_total;
	/* Targets the health engine reports down, whatever plane declared
	 * them (values: rt, only presence counts): a pool tracked from a
	 * reload counts from what is already known, not from "all up". */
	struct namemap down;
	bool stopping;
	/* Transitions numbered across instances, from 1, for the notify
	 * hooks (HAVEN_SEQ) and GET /v1/vrrp/events; restarts with the
	 * process. */
	uint64_t seq;
	struct vrrp_notify *notify; /* owned: NULL until the first hook */
};

struct vrrp_rt *vrrp_rt_new(struct ev_loop *loop);
/*
 * Apply a validated section; runtime problems go to errs. 0 or -1.
 * targets: every target the config declares (plane_env), for the servers
 * of tracked pools; borrowed for the call only.
 */
struct plane_target;
int vrrp_rt_apply(struct vrrp_rt *rt, const struct vrrp_conf *conf,
    const struct plane_target *targets, size_t ntargets,
    struct conf_errors *errs);
/* Release every address, priority 0 where master (graceful stop). */
void vrrp_rt_stop(struct vrrp_rt *rt);
void vrrp_rt_free(struct vrrp_rt *rt);
/* The socket for (ifname, family), opened on first use. NULL + err. */
struct vrrp_rsock *vrrp_rt_sock(struct vrrp_rt *rt, const char *ifname,
    int family, char *err, size_t errlen);
void vrrp_rt_sock_put(struct vrrp_rt *rt, struct vrrp_rsock *s);

/* vrrp_inst.c */
struct vrrp_inst *vrrp_inst_new(struct vrrp_rt *rt,
    const struct vrrp_instance_conf *ic, struct conf_errors *errs);
/* Whether ic can be taken over by a running inst (same virtual router). */
bool vrrp_inst_same(
    const struct vrrp_inst *in, const struct vrrp_instance_conf *ic);
/* Take the new conf of the same router (priority, tracking, garp). */
void vrrp_inst_update(
    struct vrrp_inst *in, const struct vrrp_instance_conf *ic);
void vrrp_inst_start(struct vrrp_inst *in);
/* Leave the router: priority 0 if master and stop_priority_zero. */
void vrrp_inst_shutdown(struct vrrp_inst *in);
void vrrp_inst_free(struct vrrp_inst *in);
/* A validated advert for this instance's vrid on its socket. */
void vrrp_inst_rx(
    struct vrrp_inst *in, const struct vrrp_rx *rx, const struct vrrp_pkt *pkt);
/* A link changed (tracking, own interface). */
void vrrp_inst_link(struct vrrp_inst *in, const struct vrrp_addr_link *l);
/* The takeover backend's state changed (vrrp_tk.h); ignored once the
 * instance has left master. */
void vrrp_inst_tk_report(struct vrrp_inst *in, enum vrrp_tk_state st);
/* The health engine's verdict on track_checks[i]: down or not. */
void vrrp_inst_check(struct vrrp_inst *in, size_t i, bool down);
/* Take the servers of each tracked pool of ic from targets and count the
 * usable ones (before vrrp_inst_update or vrrp_inst_start). */
void vrrp_inst_pools_bind(struct vrrp_inst *in,
    const struct vrrp_instance_conf *ic, const struct plane_target *targets,
    size_t ntargets);
/* A verdict on a server of track_pools[i]: count its usable ones again. */
void vrrp_inst_pool_recount(struct vrrp_inst *in, size_t i);
/* A verdict from the health engine (IPC_VERDICT), for the instances whose
 * track_checks name its target or whose tracked pools hold it. */
void vrrp_rt_verdict(struct vrrp_rt *rt, const char *target, bool down);

/* vrrp_notify.c */
/* Queue the hooks of in's conf for e, just logged. */
void vrrp_notify_transition(struct vrrp_inst *in, const struct vrrp_event *e);
/*
 * After vrrp_rt_stop: call done (from the loop, never from inside this
 * call's caller's stack) once every queued hook has run, or after
 * within_ms, killing what still runs. rt stays valid until done runs.
 */
void vrrp_notify_drain(
    struct vrrp_rt *rt, uint64_t within_ms, void (*done)(void *arg), void *arg);
void vrrp_notify_free(struct vrrp_rt *rt);
struct hook_stats;
/* NULL when no hook has run yet. */
const struct hook_stats *vrrp_notify_stats(const struct vrrp_rt *rt);
/*
 * The hooks' runner, created on first use. The exec takeover
 * (vrrp_tk_exec.c) queues its commands here too: they run in the order of
 * the transitions, with the hooks, and a graceful stop waits for them.
 * The done callback of a job queued so must end with
 * vrrp_notify_settled(), which lets a waiting stop proceed.
 */
struct hook_runner *vrrp_notify_runner(struct vrrp_rt *rt);
void vrrp_notify_settled(struct vrrp_rt *rt);

/* vrrp_api.c */
int vrrp_api_query(
    struct vrrp_rt *rt, const char *method, const char *path, struct buf *out);
void vrrp_api_metrics(struct vrrp_rt *rt, struct buf *out);
void vrrp_status_print(struct conf_node *root);

#endif
