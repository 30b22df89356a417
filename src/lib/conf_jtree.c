/*
 * conf_jtree.c - JSON text to a conf_tree through jansson.
 *
 * Control-API bodies are JSON from whoever reaches the socket; they go
 * through jansson, which is built for hostile input (bounded recursion,
 * duplicate keys refused, NUL in strings refused), never through the YAML
 * parser. Strings become quoted scalars and numbers, booleans and null plain
 * ones, so the binder applies the same typing rules as to a YAML file: a
 * number in quotes is a string. Nodes carry no position; jansson's own
 * syntax errors do.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "conf_node.h"
#include "util.h"

static struct conf_node *
conf_jtree_scalar(struct conf_tree *t, const char *s, size_t len, bool plain)
{
	struct conf_node *n = conf_tree_node(t, CN_SCALAR, s, len);

	n->plain = plain;
	return n;
}

/* NULL with *why set when the value cannot be taken. */
static struct conf_node *
conf_jtree_value(struct conf_tree *t, json_t *j, int depth, const char **why)
{
	struct conf_node *n;
	const char *key;
	char num[64];
	json_t *v;
	size_t i;

	if (depth > CONF_DEPTH_MAX) {
		*why = "nested deeper than 64 levels";
		return NULL;
	}
	if (t->nall >= CONF_NODES_MAX) {
		*why = "too many values";
		return NULL;
	}
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		n = conf_tree_node(t, CN_MAP, NULL, 0);
		json_object_foreach(j, key, v)
		{
			struct conf_node *k, *c;

			k = conf_jtree_scalar(t, key, strlen(key), false);
			if ((c = conf_jtree_value(t, v, depth + 1, why)) ==
			    NULL)
				return NULL;
			conf_node_push(n, k);
			conf_node_push(n, c);
		}
		return n;
	case JSON_ARRAY:
		n = conf_tree_node(t, CN_SEQ, NULL, 0);
		json_array_foreach(j, i, v)
		{
			struct conf_node *c;

			if ((c = conf_jtree_value(t, v, depth + 1, why)) ==
			    NULL)
				return NULL;
			conf_node_push(n, c);
		}
		return n;
	case JSON_STRING:
		return conf_jtree_scalar(
		    t, json_string_value(j), json_string_length(j), false);
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(j));
		return conf_jtree_scalar(t, num, strlen(num), true);
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(j));
		return conf_jtree_scalar(t, num, strlen(num), true);
	case JSON_TRUE:
		return conf_jtree_scalar(t, "true", 4, true);
	case JSON_FALSE:
		return conf_jtree_scalar(t, "false", 5, true);
	case JSON_NULL:
	default:
		return conf_jtree_scalar(t, "null", 4, true);
	}
}

int
conf_json_load(const char *file, const char *text, size_t len,
    struct conf_tree *t, struct conf_errors *errs)
{
	const char *why = NULL;
	json_error_t err;
	json_t *j;
	size_t i;

	conf_tree_init(t);
	/* An empty body means "all defaults", as an empty file does. text
	 * need not end in a NUL: look at len bytes, no more. */
	for (i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' &&
		    text[i] != '\n')
			break;
	if (i == len)
		return 0;
	j = json_loadb(
	    text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	if (j == NULL) {
		conf_errors_add(errs, file, err.line > 0 ? err.line : 0,
		    err.column > 0 ? err.column : 0,
		    xasprintf("invalid JSON: %s", err.text));
		return -1;
	}
	t->root = conf_jtree_value(t, j, 0, &why);
	json_decref(j);
	if (t->root == NULL) {
		conf_errors_add(errs, file, 0, 0, xstrdup(why));
		conf_tree_fini(t);
		return -1;
	}
	return 0;
}
