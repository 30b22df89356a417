/*
 * conf.h - the configuration binder: YAML (via libfyaml, in a child process)
 * or JSON (via jansson) onto plain C structs, driven by schema tables.
 *
 * Each config section is a struct of plain data plus a table of struct
 * conf_key giving every key its type, range, default and whether it may change
 * on reload. The binder walks the document's tree (conf_node.h) and the table
 * together:
 *   - an unknown key is an error, with a "did you mean" hint;
 *   - every error carries file:line:col of the offending node, and the binder
 *     keeps going so that one run reports every error;
 *   - defaults are applied for absent keys, required keys are checked;
 *   - lists of named objects (CT_LIST with a "name" key) reject duplicate
 *     names;
 *   - a schema's check hook runs after its keys are bound, for rules across
 *     fields (timeout < interval, ...), and reports through conf_error();
 *     it runs only when every value of that map (and all it holds)
 *     bound, so it may rely on required keys being set; errors reported
 *     by the hooks of the maps it holds do not stop it.
 *
 * The same tables serialise a bound struct back to JSON (GET /v1/config),
 * bind a JSON request body (the control API), and compare two configs for
 * keys marked CK_RESTART (a reload cannot change them).
 *
 * Memory: everything a bound struct points to is owned by that struct and
 * released by conf_schema_free() with the same schema.
 */
#ifndef HAVEN_CONF_H
#define HAVEN_CONF_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "conf_node.h"

struct conf_ctx;
struct conf_schema;

enum conf_type {
	CT_BOOL,      /* bool */
	CT_INT,       /* int64_t, range [min, max] */
	CT_UINT,      /* uint32_t, range [min, max] */
	CT_DURATION,  /* uint64_t milliseconds: "250ms", "2s", "1m", "1h" */
	CT_SIZE,      /* uint64_t bytes: "512", "16k", "1m", "2g" (base 1024) */
	CT_STRING,    /* char *, owned */
	CT_ENUM,      /* int, index into enum_names */
	CT_ADDR,      /* struct sockaddr_storage, IPv4/IPv6 address, port 0 */
	CT_ADDR_PORT, /* struct sockaddr_storage: "1.2.3.4:80", "[::1]:80" */
	CT_SECTION,   /* nested struct described by sub */
	CT_LIST,      /* array of structs described by sub: see below */
	CT_STRLIST,   /* char ** (owned, NULL-terminated) + count */
	CT_CUSTOM,    /* parse with the key's custom hook */
};

/* Key flags. */
#define CK_REQUIRED 0x1u /* absent is an error */
#define CK_RESTART  0x2u /* changing it needs a restart, not a reload */
#define CK_SECRET   0x4u /* hidden in JSON output (tokens) */

/*
 * Custom parser: bind node into the field at dst. Report problems with
 * conf_error(ctx, node, ...) and return -1.
 */
typedef int conf_custom_fn(
    struct conf_ctx *ctx, struct conf_node *node, void *dst);
/*
 * Custom serialiser: write the field at src as one JSON value, in a form
 * the custom parser accepts back (conf_to_json, conf_restart_diff).
 */
struct jw;
typedef void conf_json_fn(const void *src, struct jw *w);
/* Cross-field validation of a bound struct. */
typedef void conf_check_fn(
    struct conf_ctx *ctx, struct conf_node *node, void *obj);

/* Schema tables are static data: every pointer in them is to static data. */
struct conf_key {
	const char *name; /* static */
	enum conf_type type;
	size_t off;       /* offsetof the field in the section struct */
	const char *dflt; /* static: default as written in YAML; NULL: zero */
	int64_t min, max; /* numeric types' range; max 0: unbounded */
	unsigned flags;
	const struct conf_schema *sub; /* static: CT_SECTION, CT_LIST */
	const char *const *enum_names; /* static: CT_ENUM, NULL-terminated */
	size_t count_off;              /* CT_LIST, CT_STRLIST: size_t count */
	conf_custom_fn *custom;        /* CT_CUSTOM */
	const char *help;      /* static: one line, for docs and errors */
	conf_json_fn *to_json; /* CT_CUSTOM, optional: else null */
};

/*
 * A CT_LIST field is a pointer to an array of sub->size-byte elements
 * (owned), with its element count at count_off. If the sub schema has a key
 * called "name", names must be unique within the list.
 */
struct conf_schema {
	const char *name; /* static: for messages: "health.checks[]" */
	size_t size;      /* sizeof the struct */
	const struct conf_key *keys; /* static: nkeys of them */
	size_t nkeys;
	conf_check_fn *check;    /* optional */
	void (*fini)(void *obj); /* optional: frees what custom hooks own */
};

struct conf_error {
	char *file; /* owned */
	int line, col;
	char *msg; /* owned */
};

struct conf_errors {
	struct conf_error *v; /* owned array */
	size_t n;
};

void conf_errors_init(struct conf_errors *e);
void conf_errors_fini(struct conf_errors *e);
/*
 * Append an error that did not come from a node: a file that cannot be
 * read, a port a plane cannot bind on apply. line 0: no position.
 */
void conf_errors_addf(struct conf_errors *e, const char *file, int line,
    int col, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Print each error as "file:line:col: message\n" ("file: message" at 0). */
void conf_errors_print(const struct conf_errors *e, FILE *f);
/* Append each error as a JSON string "file:line:col: message" to a JSON array.
 */
struct jw;
void conf_errors_json(const struct conf_errors *e, struct jw *w);

/* Report an error at node (NULL: at the document level). */
void conf_error(struct conf_ctx *ctx, struct conf_node *node, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
/* Report an error at file:line:col of another file (line 0: none). */
void conf_error_at(struct conf_ctx *ctx, const char *file, int line, int col,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The name of the document being bound, as given to conf_bind_*. */
const char *conf_ctx_file(const struct conf_ctx *ctx);
/* The CONF_BIND_* flags of the bind call (conf_bind_text_flags). */
unsigned conf_ctx_flags(const struct conf_ctx *ctx);
/*
 * The text of a scalar node as a new string (free it), or NULL if node is
 * not a scalar or holds a NUL byte.
 */
char *conf_node_text(const struct conf_node *node);
/* The YAML node a key was bound from, for check hooks (NULL if absent). */
struct conf_node *conf_key_node(struct conf_node *map, const char *key);
/*
 * The node of key in item i of the list under map's key list (key NULL:
 * the item itself), or the closest that exists (the item, the list, map):
 * where a check hook reports what is wrong with one list item.
 */
struct conf_node *conf_item_node(
    struct conf_node *map, const char *list, size_t i, const char *key);
/*
 * Whether an optional section was given: sec is its node (NULL, or the
 * parent's when absent, as conf_item_node returns). The config's JSON
 * (GET /v1/config, fuzz_conf's round trip) writes an unused section with
 * every key null or an empty list, which must bind back as absent; an
 * empty map written by hand counts as given, so its missing keys are
 * reported by the section's check.
 */
bool conf_section_given(struct conf_node *sec, struct conf_node *parent);

/*
 * Bind YAML (JSON included, as YAML 1.2) text to obj (zeroed first) with
 * schema. name is the file name used in messages. The text is parsed in a
 * child process (conf_yaml.c). Returns 0, or -1 with errors appended to
 * errs; on -1 obj has been freed back to zero.
 */
int conf_bind_text(const struct conf_schema *s, const char *name,
    const char *text, size_t len, void *obj, struct conf_errors *errs);
/*
 * The text was bound and checked before, by a process that reported its
 * errors (the parent's config, sent to a child): check hooks may skip
 * the checks that only read other files, such as parsing a zone file of
 * a million records that the plane reads again when it applies.
 */
#define CONF_BIND_CHECKED 0x1u
int conf_bind_text_flags(const struct conf_schema *s, const char *name,
    const char *text, size_t len, void *obj, struct conf_errors *errs,
    unsigned flags);
int conf_bind_file(const struct conf_schema *s, const char *path, void *obj,
    struct conf_errors *errs);
/* Bind a tree already parsed (conf_node.h) the same way. */
int conf_bind_tree(const struct conf_schema *s, const char *name,
    struct conf_tree *t, void *obj, struct conf_errors *errs);
/* The same for JSON only (control-API bodies), parsed here by jansson. */
int conf_bind_json(const struct conf_schema *s, const char *name,
    const char *text, size_t len, void *obj, struct conf_errors *errs);
void conf_schema_free(const struct conf_schema *s, void *obj);

/* Serialise obj as a JSON object (CK_SECRET values as "***"). */
void conf_to_json(const struct conf_schema *s, const void *obj, struct jw *w);

/*
 * Report every CK_RESTART key whose value differs between old and new, as an
 * error "key.path: cannot change on reload (restart required)". Returns the
 * number of differences.
 */
int conf_restart_diff(const struct conf_schema *s, const void *old_obj,
    const void *new_obj, const char *file, struct conf_errors *errs);

/*
 * Check every default of s and of its nested schemas: each parses with its
 * key's parser and lies within the key's range; CT_ENUM/CT_LIST/CT_CUSTOM
 * keys carry what their type needs. Errors name the schema and key.
 * Returns the number of problems (a unit test asserts 0 for every schema).
 */
int conf_schema_check_defaults(
    const struct conf_schema *s, struct conf_errors *errs);

/* Value parsers, also used by the CLI and tests. Return 0 or -1. */
int conf_parse_duration(const char *s, uint64_t *ms);
int conf_parse_size(const char *s, uint64_t *bytes);
/* "1.2.3.4:80", "[2001:db8::1]:80"; want_port: port required. */
int conf_parse_addr(const char *s, bool want_port, struct sockaddr_storage *ss);
/* "1.2.3.4:80" / "[::1]:80" into out (at least 64 bytes). */
const char *conf_addr_str(
    const struct sockaddr_storage *ss, char *out, size_t outlen);
/* "2s", "1500ms", "1h": the largest exact unit, parseable back. */
const char *conf_fmt_duration(uint64_t ms, char *out, size_t outlen);
/* "16k", "1m", "1000": the largest exact 1024-based unit. */
const char *conf_fmt_size(uint64_t bytes, char *out, size_t outlen);
/* Offset of the first malformed UTF-8 byte or NUL in text, or -1. */
long conf_utf8_check(const char *text, size_t len);
/* Damerau (optimal string alignment) distance; > 2 may be approximate. */
int conf_edit_distance(const char *a, const char *b);

#endif
