/*
 * planes.h - the plane registry: one row per plane, in the spirit of
 * relayd's procs[]. The parent (start, size, stop), the API router, the
 * relay, the config's section slots, the child runtime and `haven status`
 * loop over this table; none of them names a plane.
 *
 * A row says what the parent needs to run a plane: its config section and
 * schema, its plane_ops (the child side and the config-side hooks), where
 * its API lives and how a request fans out, which IPC messages its
 * processes may send and which they receive; the privileges its processes
 * keep come from its ops->caps (lib/priv.c drops the rest).
 *
 * The table is planes[] with nplanes rows, defined in planes.c alone, so a
 * test can link the parent's code with a table of its own.
 */
#ifndef HAVEN_PLANES_H
#define HAVEN_PLANES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "lib/ipc.h"
#include "lib/plane.h"

#define PLANES_MAX 8 /* rows; the config keeps a section slot for each */

/* A set of enum ipc_type values. */
#define PLANE_MSG(t) (1u << (t))

enum plane_fanout {
	PLANE_API_ONE,      /* every method to one process */
	PLANE_API_POST_ALL, /* GET to one, POST to every worker, worst wins */
};

struct plane_row {
	const char *name;            /* static: process name, log, status */
	const struct plane_ops *ops; /* static */
	const char *section;         /* static: the config key, "health" */
	const struct conf_schema *schema; /* static: the section's */
	const char *help;                 /* static: one line */
	const char *api_prefix; /* static: "/v1/checks", NULL: no API */
	enum plane_fanout fanout;
	/* Operator POSTs under api_prefix are recorded and replayed to a
	 * restarted process (keyed by ops->replay_key). */
	bool replay;
	uint32_t sends;    /* PLANE_MSG set its processes may send */
	uint32_t receives; /* PLANE_MSG set relayed to it (verdicts...) */
	/*
	 * Every capability (PRIV_CAP bits) its processes may ever use: what
	 * ops->caps can return for any config, and what ops->init uses as
	 * root before the drop; except those only some configs need, which
	 * the parent keeps when its start config asks (planes_caps_started).
	 * The parent keeps the union of the rows' sets in its bounding set
	 * (planes_caps_bound), and nothing else of a plane's: a capability no
	 * row names is gone for every process.
	 */
	uint64_t caps_bound;
};

extern const struct plane_row planes[];
extern const size_t nplanes;

/* The row named name, or NULL. */
const struct plane_row *planes_find(const char *name);
/* Index of a row in planes[]. */
size_t planes_index(const struct plane_row *row);
/* The union of the rows' caps_bound. */
uint64_t planes_caps_bound(void);
/*
 * What the planes of c ask for when their processes drop root
 * (ops->caps): the parent keeps these too, so a capability only some
 * configs need (snap's CAP_SYS_ADMIN for `freeze`) is not in every
 * daemon's bounding set. A reload that needs more is refused by the
 * plane (child.c): restart haven.
 */
struct haven_conf;
uint64_t planes_caps_started(const struct haven_conf *c);

#endif
