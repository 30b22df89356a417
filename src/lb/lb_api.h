/*
 * lb_api.h - the lb plane's part of the control API (routed to it by the
 * parent under /v1/lb):
 *
 *   GET  /v1/lb                                 every pool, zone and server
 *   GET  /v1/lb/pools/NAME                      one pool
 *   POST /v1/lb/pools/NAME/servers/NAME/drain   no new traffic
 *   POST /v1/lb/pools/NAME/servers/NAME/disable no new traffic, not healthy
 *   POST /v1/lb/pools/NAME/servers/NAME/enable  back to ready
 *   POST /v1/lb/pools/NAME/servers/NAME/weight  body {"weight": N}
 *   POST /v1/lb/pools/NAME/failback             manual failback
 *
 * Answers are JSON; errors are {"error": "..."} with 400, 404, 405 or 409.
 * Each worker applies admin actions to its own runtime; the parent sends a
 * POST to every worker.
 */
#ifndef HAVEN_LB_API_H
#define HAVEN_LB_API_H

#include <stddef.h>

#include "lib/buf.h"

struct lb_runtime;
struct lb_worker;

/* The plane_ops query hook, on the pools of rt and the limits of lw
 * (lb_plane.c passes its own): writes the body to out, returns the
 * status. */
int lb_api_query(struct lb_runtime *rt, const struct lb_worker *lw,
    const char *method, const char *path, const char *body, size_t body_len,
    struct buf *out);
/*
 * The plane_ops replay_key hook: a server's state changes (drain, disable,
 * enable) replace each other, and so do its weight changes; anything else
 * (a manual failback is a one-off decision, not a standing state) is not
 * replayed to a restarted worker: NULL. The key is owned by the caller.
 */
char *lb_api_replay_key(const char *path);

/* lb_status.c, the plane_ops status hook: one line per pool for `haven
 * status`, from the reply of GET /v1/lb. */
struct conf_node;
void lb_status_print(struct conf_node *root);

#endif
