/*
 * config.h - the top-level configuration of haven: the `haven:` and `api:`
 * sections, and slots the planes fill with their own (`health:`, `lb:`).
 *
 * A struct haven_conf is plain data bound from one YAML file (or the text a
 * reload receives) by haven_conf_schema. The planes' sections are not named
 * here: row i of the plane registry (cmd/planes.h) binds its section into
 * slot i with its own schema; haven_conf_section() gives it back. Besides the
 * bound values it keeps the exact bytes it came from, their SHA-256 and the
 * file name, so `haven status`, the control API and the reload logic can tell
 * which config runs. It is immutable once loaded: a reload loads a new one and
 * diffs.
 *
 * Invariants after a successful load: haven.node is set (default: the host
 * name), state_dir and api.socket are absolute paths, api.listen has a token
 * (admin or read-only) unless it is loopback and insecure_no_token waives
 * it, api.group / api.read_group are resolved to gids and haven.user to a
 * uid and gid (haven.run_as).
 */
#ifndef HAVEN_CONFIG_H
#define HAVEN_CONFIG_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/planes.h"
#include "lib/conf.h"
#include "lib/priv.h"

#define HAVEN_CONF_PATH "/etc/haven/haven.yaml"
/* Bytes of a plane's section struct; a bigger schema is a build error
 * caught at start (haven_conf_schema's constructor). */
#define HAVEN_CONF_SLOT 512

struct haven_conf_haven {
	char *node;      /* owned: this node's name in the cluster, metrics */
	char *state_dir; /* owned: persisted health and VRRP state */
	int log_level;   /* enum log_level */
	uint64_t shutdown_timeout_ms;
	uint64_t restart_backoff_max_ms; /* cap of child restart back-off */
	char *user; /* owned, may be NULL: the children's user when root */
	/* Not bound: user resolved (default haven, else nobody). */
	struct priv_user run_as;
};

struct haven_conf_api {
	char *socket;                   /* owned: unix socket path */
	struct sockaddr_storage listen; /* AF_UNSPEC: no TCP listener */
	char *token;            /* owned, may be NULL: admin bearer token */
	char *read_token;       /* owned, may be NULL: read-only bearer token */
	bool insecure_no_token; /* loopback TCP without a token: admin */
	char **hosts;           /* owned: more Host names TCP accepts */
	size_t nhosts;
	char *group;       /* owned, may be NULL: unix peers admin by group */
	char *read_group;  /* owned, may be NULL: unix peers read-only */
	uint64_t max_body; /* bytes of a request body */
	/* Not bound: group and read_group resolved, (gid_t)-1 if unset. */
	gid_t group_gid, read_group_gid;
};

struct haven_conf {
	struct haven_conf_haven haven;
	struct haven_conf_api api;
	/* Section slots: planes[i] binds its section into slot[i]. */
	union haven_conf_slot {
		max_align_t align;
		unsigned char b[HAVEN_CONF_SLOT];
	} slot[PLANES_MAX];
	/* Set by the top-level check: planes[i]'s section is in the file. */
	bool has[PLANES_MAX];

	/* Not bound: where the config came from. */
	char *path; /* owned: file name, or the name given with the text */
	char *text; /* owned: the bytes as loaded, NUL-terminated */
	size_t text_len;
	char digest[65]; /* SHA-256 of text, lower-case hex */
};

/*
 * Its keys are haven, api and one section per registry row, set by a
 * constructor before main(); not written after that.
 */
extern struct conf_schema haven_conf_schema;

/*
 * Load and validate. Return 0, or -EINVAL with every problem in errs (or
 * -errno when the file cannot be read, also in errs); on failure c is left
 * zeroed. The caller frees c with haven_conf_free() after success.
 */
int haven_conf_load(
    const char *path, struct haven_conf *c, struct conf_errors *errs);
/* The same for text that did not come from a file (a child's config from
 * the parent); flags: CONF_BIND_* (CONF_BIND_CHECKED in a child, whose
 * parent has checked the text already). */
int haven_conf_load_text(const char *name, const char *text, size_t len,
    struct haven_conf *c, struct conf_errors *errs, unsigned flags);
void haven_conf_free(struct haven_conf *c);

/* Whether the config enables a plane: its section is present. */
bool haven_conf_has(const struct haven_conf *c, const struct plane_row *row);
/* The same by the plane's name (false for an unknown one). */
bool haven_conf_has_plane(const struct haven_conf *c, const char *name);
/* A plane's section (its schema's struct; zero-valued when absent). */
const void *haven_conf_section(
    const struct haven_conf *c, const struct plane_row *row);
/* How many processes a plane runs under c (0: not configured). */
unsigned haven_conf_procs(
    const struct haven_conf *c, const struct plane_row *row);
/*
 * Every target the configured planes declare (plane_ops.targets), into a
 * new array *out (caller frees); returns the count.
 */
size_t haven_conf_targets(
    const struct haven_conf *c, struct plane_target **out);

#endif
