/*
 * conf_int.h - what the files of the config binder share and nobody else
 * uses: the binding context and the walker entry points.
 *
 * A context lives for one bind. It borrows the caller's error list and the
 * document's tree; every node carries its own position.
 */
#ifndef HAVEN_CONF_INT_H
#define HAVEN_CONF_INT_H

#include "buf.h"
#include "conf.h"

#define CONF_ERRORS_MAX 100         /* per bind; then one "too many errors" */
#define CONF_VALUES_MAX 1000000     /* values bound per document (aliases) */
#define CONF_LIST_MAX   65536       /* entries of one list */
#define CONF_DEPTH_MAX  64          /* nesting of the YAML document */
#define CONF_TEXT_MAX   (16u << 20) /* bytes of one document */
#define CONF_NAME_MAX   63          /* characters of a listed object's name */

struct conf_ctx {
	const char *file;         /* borrowed: the name used in messages */
	struct conf_errors *errs; /* borrowed: where errors are appended */
	struct buf path;          /* "health.checks[0]": the map being bound */
	struct conf_node *anchor; /* borrowed: innermost map present, for
	                             errors about keys that are absent */
	const struct conf_key *in_default; /* borrowed: default parsed now */
	const struct conf_schema *dflt_schema; /* borrowed: its schema */
	size_t nvalues;   /* bound so far, against alias bombs */
	unsigned nerrors; /* reported by this context */
	unsigned nbind;   /* of those, found binding a value rather than by
	                     a check hook: the struct may lack a required
	                     field, so hooks above must not run */
	bool in_hook;     /* a schema's check hook is running */
	unsigned flags;   /* CONF_BIND_* of the bind call */
	bool stop;        /* a limit was hit: bind nothing more */
};

void conf_ctx_init(
    struct conf_ctx *ctx, const char *file, struct conf_errors *errs);
void conf_ctx_fini(struct conf_ctx *ctx);
/* Append an error with a position (line 0: none) and an owned msg. */
void conf_errors_add(
    struct conf_errors *e, const char *file, int line, int col, char *msg);
/* 1-based position of node, or 0,0 when it has none. */
void conf_node_pos(const struct conf_node *node, int *line, int *col);

/* conf_value.c: the closest of n names (one every stride bytes), or NULL. */
const char *conf_suggest(
    const char *bad, const void *names, size_t stride, size_t n);

/* conf_bind.c: bind map (NULL: absent) onto obj, which is zeroed. */
void conf_bind_map(struct conf_ctx *ctx, const struct conf_schema *s,
    struct conf_node *map, void *obj);

/*
 * conf_scalar.c: bind the text of one scalar (plain: unquoted in the
 * source) to field; node (NULL for a default) is where errors point.
 */
void conf_scalar_bind(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, const char *str, bool plain, void *field);

/* conf_json.c: one field as a JSON value; mask hides CK_SECRET values. */
void conf_json_value(
    const struct conf_key *k, const void *field, struct jw *w, bool mask);

#endif
