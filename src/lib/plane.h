/*
 * plane.h - the contract between a plane (hc, lb, later vrrp and dns) and
 * the rest of haven: what a plane implements to run as a child process of
 * `haven run`, and the few config-side hooks the parent calls without
 * knowing the plane's structs.
 *
 * The child runtime (cmd/child.c) owns the process: it sets up the event
 * loop, the IPC channel to the parent, logging and signals, then calls the
 * plane through these hooks. A plane never touches the IPC socket directly
 * except through plane_send() (verdicts, passive reports).
 *
 * Order of calls: init, apply(NULL, conf) for the first config, then any of
 * apply/on_msg/query/metrics as events arrive, then stop once. apply() gets
 * the plane's own config section (its struct, bound by the plane's schema,
 * owned by the runtime and valid until the next apply returns) and diffs by
 * name against the previous one so that unchanged objects keep their
 * runtime state. What it needs from outside its section comes in struct
 * plane_env.
 *
 * The config-side hooks (nprocs, targets, sockets, check_names,
 * check_refs, target_refs, replay_key, caps) are pure functions of a
 * section: the parent calls them.
 */
#ifndef HAVEN_PLANE_H
#define HAVEN_PLANE_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/ev.h"
#include "lib/ipc.h"
#include "lib/xdp_filter.h"

struct conf_ctx;
struct conf_errors;
struct conf_node;

/*
 * A health target a plane wants probed, declared from its own section
 * (lb: one per server of a pool with a health_check). The health plane
 * resolves check against its templates; the verdicts come back named name.
 */
struct plane_target {
	char name[IPC_NAME_MAX];      /* the verdict's target: "pool/server" */
	char owner[IPC_NAME_MAX];     /* the declaring object ("pool") */
	const char *check;            /* borrowed from the section: template */
	struct sockaddr_storage addr; /* probed (the check type sets a port) */
	/* static: the declaring plane ("lb"), set by the parent's collector,
	 * so another plane can tell one plane's owners from another's */
	const char *plane;
	/* Set by the parent's collector from the plane offering check:
	 * the longest a failure of this target may take to become a down
	 * verdict (plane_ops.check_detect_ms); 0 when unknown. */
	uint64_t detect_ms;
};

/*
 * A socket a plane serves on, declared from its own section (lb: one per
 * listener) and opened by the parent, which keeps it for as long as a
 * config declares it: a process that dies takes no socket, and so no
 * queued connection, with it. Each worker of the plane gets a socket of
 * its own in the same SO_REUSEPORT group (the kernel spreads new
 * connections over them); while a worker is down, the others also get its
 * socket (adopted) and drain its queue.
 */
#define PLANE_SOCK_DEFER_ACCEPT                                                \
	0x1u /* TCP_DEFER_ACCEPT: client speaks first                          \
	      */
/* IP_FREEBIND: the address may arrive later (a virtual IP, lb freebind). */
#define PLANE_SOCK_FREEBIND 0x2u

/*
 * type PLANE_SOCK_XDP: not a socket of the kernel's stack but an AF_XDP
 * socket on queue xdp_queue of interface xdp_ifname, with the XDP program
 * that steers UDP to the xdp_dst destinations into it (lib/xdp_filter.h,
 * lib/xsk.h). The parent holds the program and the socket; it hands the
 * socket to worker slot xdp_queue % workers only (rings have one consumer:
 * never adopted), followed by the umem's memfd named "<name>#umem". Setting
 * it up needs root; when it fails the parent logs why and the config is
 * still applied: the plane serves on its other sockets.
 */
#define PLANE_SOCK_XDP (-1)

struct plane_sock_spec {
	char name[IPC_NAME_MAX];      /* the declaring object ("web") */
	int type;                     /* SOCK_STREAM, SOCK_DGRAM, or
	                                 PLANE_SOCK_XDP */
	unsigned flags;               /* PLANE_SOCK_* */
	struct sockaddr_storage addr; /* bound */
	/* PLANE_SOCK_XDP only */
	char xdp_ifname[16];
	unsigned xdp_queue;
	struct xdp_filter_dst xdp_dst[XDP_FILTER_DST_MAX];
	size_t xdp_ndst;
};

/* A socket handed to a process. */
struct plane_sock {
	const char *name; /* borrowed: the spec's */
	unsigned slot;    /* the worker whose socket it is */
	bool adopted;     /* slot is another worker's, down for now */
	int fd;           /* borrowed: the runtime closes it; dup to keep */
};

/* What a plane gets beside its own section on apply. */
struct plane_env {
	const char *state_dir; /* borrowed: persisted state lives here */
	/* borrowed: every target any configured plane declared */
	const struct plane_target *targets;
	size_t ntargets;
	/* borrowed: this process's sockets (ops->sockets), own and adopted */
	const struct plane_sock *socks;
	size_t nsocks;
};

struct plane_ops {
	const char *name; /* static: "hc", "lb", as the parent spawns it */
	/* Once, before the first config. worker/nworkers: see ipc_hello. */
	int (*init)(struct ev_loop *loop, unsigned worker, unsigned nworkers);
	/*
	 * Apply a validated section. old is NULL the first time. Runtime-only
	 * problems (a port that cannot be bound) go to errs and make the
	 * result a rejection; the plane must then keep running on old.
	 */
	int (*apply)(const void *old, const void *conf,
	    const struct plane_env *env, struct conf_errors *errs);
	/* Messages other than config, query and stop (verdicts...). */
	void (*on_msg)(const struct ipc_msg *msg);
	/*
	 * The process's set of sockets changed without a new config: a
	 * worker of the plane went down (its sockets are adopted) or came
	 * back (they are not any more). Same rules as env->socks.
	 */
	void (*adopt)(const struct plane_sock *socks, size_t n);
	/*
	 * An API request routed to this plane. Write the body to out and
	 * return the HTTP status. content_type defaults to application/json.
	 */
	int (*query)(const char *method, const char *path, const char *body,
	    size_t body_len, struct buf *out);
	/* Append this process's Prometheus families (the runtime adds its
	 * own IPC counters after them). */
	void (*metrics)(struct buf *out);
	/*
	 * Stop accepting new work and finish what is in flight; call
	 * plane_stopped() when done (the runtime exits at the deadline
	 * regardless).
	 */
	void (*stop)(unsigned deadline_ms);

	/* ---- config side: pure, called in the parent too; each optional */

	/* Processes the section asks for; NULL: one. */
	unsigned (*nprocs)(const void *conf);
	/* Targets to probe, into a new array *out (caller frees); count. */
	size_t (*targets)(const void *conf, struct plane_target **out);
	/* Sockets the parent opens for it, into a new array *out (caller
	 * frees); count. No two may share type and address. */
	size_t (*sockets)(const void *conf, struct plane_sock_spec **out);
	/* Names of the check templates the section offers, into a new array
	 * of borrowed strings (caller frees the array); count. */
	size_t (*check_names)(const void *conf, const char ***out);
	/* The worst-case time from a target's failure to its down verdict
	 * under the offered check template named check; 0 if not offered. */
	uint64_t (*check_detect_ms)(const void *conf, const char *check);
	/* Report each check template the section names that is not among
	 * names, at its node below node (the section's). */
	void (*check_refs)(struct conf_ctx *ctx, struct conf_node *node,
	    const void *conf, const char *const *names, size_t n);
	/*
	 * Report each object of another plane the section names (vrrp:
	 * track_pools) that is not among targets, every target every
	 * configured plane declares (plane set), at its node below node.
	 */
	void (*target_refs)(struct conf_ctx *ctx, struct conf_node *node,
	    const void *conf, const struct plane_target *targets, size_t n);
	/*
	 * The replay key of an operator's POST path (a later POST with the
	 * same key replaces it), or NULL if the change is not a standing
	 * state to give a restarted process again. Owned by the caller.
	 */
	char *(*replay_key)(const char *path);
	/* `haven status`: print the reply of GET <api prefix> (a parsed
	 * JSON document's root) as a table. */
	void (*status)(struct conf_node *root);
	/*
	 * The capabilities (PRIV_CAP bits, lib/priv.h) this process needs
	 * for its section once it runs as an unprivileged user of group gid.
	 * NULL: none. Started as root, the runtime keeps exactly these when
	 * it drops root before the first apply, and refuses a later config
	 * that needs more (a capability given up is gone for good).
	 */
	uint64_t (*caps)(const void *conf, gid_t gid);
};

/*
 * Send a message to the parent (e.g. IPC_VERDICT). Returns 0 or -errno; the
 * runtime counts failures in haven_plane_ipc_send_failed_total.
 */
int plane_send(enum ipc_type type, const void *data, size_t len);
/* Count a message the plane cannot use (haven_plane_ipc_msgs_bad_total). */
void plane_msg_bad(void);
/* Tell the runtime the plane has drained: the process exits. */
void plane_stopped(void);

#endif
