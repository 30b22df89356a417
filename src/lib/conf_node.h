/*
 * conf_node.h - a parsed document as plain data: the tree the config binder,
 * the schema hooks and the custom parsers walk, whatever produced it.
 *
 * Bytes from outside are never parsed where a parser crash would cost a
 * process that matters. Two producers build these trees:
 *   - conf_yaml.c runs libfyaml (which crashes on some inputs) in a child
 *     process that may die, and sends the tree back over a pipe in the
 *     stream form below; conf_tree_decode() rebuilds it here;
 *   - conf_jtree.c builds it from jansson, a JSON library made for hostile
 *     input, for control-API bodies.
 *
 * A tree owns all its nodes (t->all). A YAML alias makes one node reachable
 * twice, so the tree is a DAG; the decoder only lets a reference name a node
 * that is complete, so it is never a cycle. Positions are 1-based, 0 when
 * unknown (JSON bodies, defaults).
 *
 * Stream form (little-endian u32 fields), pure and fuzzed:
 *   "HVY1"  then one of:  'E' line col len bytes   an error (any number)
 *                         '0'                      empty document
 *                         a node: 'S' flags line col len bytes   scalar
 *                                 'M' line col n   then 2n nodes (k, v)
 *                                 'Q' line col n   then n nodes
 *                                 'R' id           node number id again
 *   then 'Z'. Node numbers count S, M and Q records from 0 in stream order.
 */
#ifndef HAVEN_CONF_NODE_H
#define HAVEN_CONF_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct conf_errors;

enum conf_node_kind {
	CN_SCALAR,
	CN_MAP,
	CN_SEQ,
};

struct conf_node {
	enum conf_node_kind kind;
	bool plain; /* scalar written bare: only those are null, bool, int */
	int line, col;
	char *text; /* owned: scalar bytes + NUL (may hold NULs: see len) */
	size_t len;
	struct conf_node **v; /* owned array of borrowed (tree-owned) nodes:
	                         seq items, or map key, value, key, value... */
	size_t n;             /* seq items or map pairs */
	size_t nv;            /* slots of v in use (a map's: 2n or 2n + 1) */
};

struct conf_tree {
	struct conf_node *root; /* borrowed from all[]; NULL: empty document */
	struct conf_node **all; /* owned: every node, each owned */
	size_t nall, cap;
};

#define CONF_STREAM_MAGIC "HVY1"
#define CONF_NODES_MAX    (1u << 20) /* distinct nodes in one document */

void conf_tree_init(struct conf_tree *t);
void conf_tree_fini(struct conf_tree *t);
/* A new node owned by t; text (may be NULL) is copied. */
struct conf_node *conf_tree_node(struct conf_tree *t, enum conf_node_kind kind,
    const char *text, size_t len);
/* Append a child (seq item, or one half of a map pair). */
void conf_node_push(struct conf_node *parent, struct conf_node *child);

/*
 * Rebuild a tree from the stream form. Errors carried in the stream are
 * appended to errs under the name file; a malformed stream is one error.
 * Returns 0 (t->root may be NULL for an empty document) or -1.
 */
int conf_tree_decode(const void *data, size_t len, const char *file,
    struct conf_tree *t, struct conf_errors *errs);

/*
 * conf_yaml.c: parse YAML text in a child process and decode its stream
 * into t. A crash, a hang or a malformed stream is an error naming file.
 * Returns 0 or -1 with errors appended.
 */
int conf_yaml_load(const char *file, const char *text, size_t len,
    struct conf_tree *t, struct conf_errors *errs);
/* What that child runs: YAML text to the stream form, appended to out. */
void conf_yaml_emit(const char *text, size_t len, struct buf *out);
/* conf_jtree.c: JSON text through jansson into t. 0 or -1 as above. */
int conf_json_load(const char *file, const char *text, size_t len,
    struct conf_tree *t, struct conf_errors *errs);

/* Stream writers, for the producer side. */
void conf_stream_u32(struct buf *b, uint32_t v);
void conf_stream_error(struct buf *b, int line, int col, const char *msg);

/* Accessors; each takes NULL and answers as for an absent node. */
static inline bool
conf_node_is_map(const struct conf_node *n)
{
	return n != NULL && n->kind == CN_MAP;
}

static inline bool
conf_node_is_seq(const struct conf_node *n)
{
	return n != NULL && n->kind == CN_SEQ;
}

static inline bool
conf_node_is_scalar(const struct conf_node *n)
{
	return n != NULL && n->kind == CN_SCALAR;
}

static inline size_t
conf_node_count(const struct conf_node *n)
{
	return n != NULL && n->kind != CN_SCALAR ? n->n : 0;
}

static inline struct conf_node *
conf_node_item(const struct conf_node *seq, size_t i)
{
	return conf_node_is_seq(seq) && i < seq->n ? seq->v[i] : NULL;
}

static inline struct conf_node *
conf_node_key(const struct conf_node *map, size_t i)
{
	return conf_node_is_map(map) && i < map->n ? map->v[2 * i] : NULL;
}

static inline struct conf_node *
conf_node_value(const struct conf_node *map, size_t i)
{
	return conf_node_is_map(map) && i < map->n ? map->v[2 * i + 1] : NULL;
}

/* The node at a '/'-separated path of map keys below n ("/config/path"). */
struct conf_node *conf_node_at(struct conf_node *n, const char *path);
/* A plain null: absent, "", "~", "null", "Null", "NULL". */
bool conf_node_is_null(const struct conf_node *n);
/* A scalar whose text equals s (and holds no NUL). */
bool conf_node_eq(const struct conf_node *n, const char *s);

#endif
