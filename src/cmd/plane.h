/*
 * plane.h - what a plane (hc, lb, later vrrp and dns) implements to run as a
 * child process of `haven run`.
 *
 * The child runtime (child.c) owns the process: it sets up the event loop,
 * the IPC channel to the parent, logging and signals, then calls the plane
 * through these hooks. A plane never touches the IPC socket directly except
 * through plane_send() (verdicts, passive reports).
 *
 * Order of calls: init, apply(NULL, conf) for the first config, then any of
 * apply/on_msg/query/metrics as events arrive, then stop once. apply() gets
 * the whole parsed config (struct haven_conf, owned by the runtime, valid
 * until the next apply returns) and diffs by name against the previous one so
 * that unchanged objects keep their runtime state.
 */
#ifndef HAVEN_PLANE_H
#define HAVEN_PLANE_H

#include <sys/types.h>

#include <stdint.h>

#include "lib/buf.h"
#include "lib/ev.h"
#include "lib/ipc.h"

struct haven_conf;
struct conf_errors;

struct plane_ops {
	const char *name; /* static: "hc", "lb", as the parent spawns it */
	/* Once, before the first config. worker/nworkers: see ipc_hello. */
	int (*init)(struct ev_loop *loop, unsigned worker, unsigned nworkers);
	/*
	 * Apply a validated config. old is NULL the first time. Runtime-only
	 * problems (a port that cannot be bound) go to errs and make the
	 * result a rejection; the plane must then keep running on old.
	 */
	int (*apply)(const struct haven_conf *old,
	    const struct haven_conf *conf, struct conf_errors *errs);
	/* Messages other than config, query and stop (verdicts, fds...). */
	void (*on_msg)(const struct ipc_msg *msg);
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
	/*
	 * The capabilities (PRIV_CAP bits, lib/priv.h) this process needs
	 * for conf once it runs as an unprivileged user of group gid. NULL:
	 * none. Started as root, the runtime keeps exactly these when it
	 * drops root before the first apply, and refuses a later config
	 * that needs more (a capability given up is gone for good).
	 */
	uint64_t (*caps)(const struct haven_conf *conf, gid_t gid);
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
/* The state directory from the running config (for persisted state). */
const char *plane_state_dir(void);

/* The planes linked into this binary. */
extern const struct plane_ops hc_plane;
extern const struct plane_ops lb_plane;

#endif
