/*
 * conf_bind.c - the walker: a YAML map and a schema table together onto a
 * plain struct, plus the matching free.
 *
 * Every problem is reported through conf_error() and binding goes on, so one
 * run lists every error of a file. A key is bound at most once (libfyaml
 * rejects duplicate keys), an absent key gets its default parsed by the very
 * parser a present value would go through, and a plain null value ("key:",
 * "~", "null") counts as absent, which is also how a JSON body says "use the
 * default". Whatever the walker allocates hangs off obj at once, so
 * conf_schema_free() can release a half-bound struct after errors.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "util.h"

#define CONF_FIELD(obj, off) ((void *)((char *)(obj) + (off)))

static void conf_bind_value(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, void *obj);

static const char *
conf_bind_kind(const struct conf_node *n)
{
	if (conf_node_is_map(n))
		return "a map";
	if (conf_node_is_seq(n))
		return "a list";
	return "a scalar";
}

/* Where the map being bound sits, for messages: "in api", "at top level". */
static const char *
conf_bind_where(struct conf_ctx *ctx, char *out, size_t len)
{
	if (ctx->path.len == 0)
		snprintf(out, len, "at the top level");
	else
		snprintf(out, len, "in %s", ctx->path.data);
	return out;
}

static size_t
conf_bind_path_push(struct conf_ctx *ctx, const char *name, long idx)
{
	size_t saved = ctx->path.len;

	if (name != NULL)
		buf_printf(&ctx->path, "%s%s", saved > 0 ? "." : "", name);
	if (idx >= 0)
		buf_printf(&ctx->path, "[%ld]", idx);
	return saved;
}

static void
conf_bind_path_pop(struct conf_ctx *ctx, size_t saved)
{
	ctx->path.len = saved;
	ctx->path.data[saved] = '\0';
}

static const struct conf_key *
conf_bind_lookup(const struct conf_schema *s, const char *name)
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].name, name) == 0)
			return &s->keys[i];
	return NULL;
}

/*
 * A default for a type whose value is not one scalar, written as YAML in
 * the schema table: a plain scalar or a flow list of plain scalars
 * ("[a, b]"). Schema text is static and ours, so it is split here rather
 * than sent to the YAML parser's process.
 */
static void
conf_bind_default_doc(struct conf_ctx *ctx, const struct conf_key *k, void *obj)
{
	const char *d = k->dflt, *end = d + strlen(d);
	struct conf_node *root;
	struct conf_tree t;

	conf_tree_init(&t);
	if (*d == '[' && end > d && end[-1] == ']') {
		root = conf_tree_node(&t, CN_SEQ, NULL, 0);
		for (const char *p = d + 1; p < end - 1;) {
			const char *q = p, *e;
			struct conf_node *c;

			while (q < end - 1 && *q != ',')
				q++;
			e = q;
			while (p < e && *p == ' ')
				p++;
			while (e > p && e[-1] == ' ')
				e--;
			c = conf_tree_node(&t, CN_SCALAR, p, (size_t)(e - p));
			c->plain = true;
			if (e > p || q < end - 1)
				conf_node_push(root, c);
			p = q + 1;
		}
	} else {
		root = conf_tree_node(&t, CN_SCALAR, d, (size_t)(end - d));
		root->plain = true;
	}
	conf_bind_value(ctx, k, root, obj);
	conf_tree_fini(&t);
}

static void
conf_bind_default(struct conf_ctx *ctx, const struct conf_schema *s,
    const struct conf_key *k, void *obj)
{
	void *field = CONF_FIELD(obj, k->off);
	size_t saved;

	if (k->type == CT_SECTION) {
		saved = conf_bind_path_push(ctx, k->name, -1);
		conf_bind_map(ctx, k->sub, NULL, field);
		conf_bind_path_pop(ctx, saved);
		return;
	}
	if (k->dflt == NULL)
		return;
	ctx->in_default = k;
	ctx->dflt_schema = s;
	switch (k->type) {
	case CT_LIST:
		conf_error(ctx, NULL, "a list cannot have a default");
		break;
	case CT_STRLIST:
	case CT_CUSTOM:
		conf_bind_default_doc(ctx, k, obj);
		break;
	default:
		conf_scalar_bind(ctx, k, NULL, k->dflt, true, field);
		break;
	}
	ctx->in_default = NULL;
	ctx->dflt_schema = NULL;
}

/* The pairs of map onto obj; seen[i] marks keys[i] as present. */
static void
conf_bind_pairs(struct conf_ctx *ctx, const struct conf_schema *s,
    struct conf_node *map, void *obj, bool *seen)
{
	char where[256];

	for (size_t i = 0; i < map->n && !ctx->stop; i++) {
		struct conf_node *kn = conf_node_key(map, i);
		struct conf_node *vn = conf_node_value(map, i);
		const struct conf_key *k;
		const char *hint;
		char *name;

		if (!conf_node_is_scalar(kn) ||
		    (name = conf_node_text(kn)) == NULL) {
			conf_error(ctx, kn, "a key must be a string");
			continue;
		}
		if ((k = conf_bind_lookup(s, name)) == NULL) {
			hint = conf_suggest(name, &s->keys[0].name,
			    sizeof(s->keys[0]), s->nkeys);
			conf_error(ctx, kn, "unknown key '%s' %s%s%s%s", name,
			    conf_bind_where(ctx, where, sizeof(where)),
			    hint != NULL ? "; did you mean '" : "",
			    hint != NULL ? hint : "", hint != NULL ? "'?" : "");
		} else if (!conf_node_is_null(vn)) {
			seen[k - s->keys] = true;
			conf_bind_value(ctx, k, vn, obj);
		}
		free(name);
	}
}

void
conf_bind_map(struct conf_ctx *ctx, const struct conf_schema *s,
    struct conf_node *map, void *obj)
{
	struct conf_node *anchor = ctx->anchor;
	bool *seen = xcalloc(s->nkeys + 1, sizeof(*seen));
	unsigned nbind = ctx->nbind;
	char where[256];

	if (map != NULL) {
		ctx->anchor = map;
		conf_bind_pairs(ctx, s, map, obj, seen);
	}
	for (size_t i = 0; i < s->nkeys && !ctx->stop; i++) {
		const struct conf_key *k = &s->keys[i];

		if (seen[i])
			continue;
		if (k->flags & CK_REQUIRED)
			conf_error(ctx, ctx->anchor,
			    "missing required key '%s' %s", k->name,
			    conf_bind_where(ctx, where, sizeof(where)));
		else
			conf_bind_default(ctx, s, k, obj);
	}
	/*
	 * A check hook sees only a map whose values all bound, so it may rely
	 * on every required key being set: a missing name must not reach a
	 * strcmp. What is wrong is reported already. Errors from the hooks
	 * below do not count: their struct is whole, and the rules across
	 * fields above still have something to say.
	 */
	if (s->check != NULL && !ctx->stop && ctx->nbind == nbind) {
		ctx->in_hook = true;
		s->check(ctx, map, obj);
		ctx->in_hook = false;
	}
	ctx->anchor = anchor;
	free(seen);
}

/*
 * Reject a second element with the same name: reload diffs by name, so a
 * duplicate would silently shadow the first.
 */
struct conf_bind_named {
	const char *name;       /* borrowed: from the bound element */
	struct conf_node *node; /* borrowed: the element's map */
	size_t idx;
};

static int
conf_bind_named_cmp(const void *a, const void *b)
{
	const struct conf_bind_named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void
conf_bind_unique(struct conf_ctx *ctx, const struct conf_schema *sub, void *arr,
    size_t n, struct conf_node **nodes)
{
	const struct conf_key *nk = conf_bind_lookup(sub, "name");
	struct conf_bind_named *v;
	size_t m = 0;

	if (nk == NULL || nk->type != CT_STRING || n < 2)
		return;
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		char *name =
		    *(char **)CONF_FIELD((char *)arr + i * sub->size, nk->off);

		if (name != NULL && nodes[i] != NULL)
			v[m++] = (struct conf_bind_named){ name, nodes[i], i };
	}
	qsort(v, m, sizeof(*v), conf_bind_named_cmp);
	for (size_t i = 1, first = 0; i < m; i++) {
		int line, col;

		if (strcmp(v[i].name, v[first].name) != 0) {
			first = i;
			continue;
		}
		conf_node_pos(
		    conf_key_node(v[first].node, "name"), &line, &col);
		conf_error(ctx, conf_key_node(v[i].node, "name"),
		    "duplicate name '%s' (first defined at %s:%d:%d)",
		    v[i].name, ctx->file, line, col);
	}
	free(v);
}

/*
 * Names of listed objects end up in API paths (/v1/lb/pools/P/servers/S),
 * metric labels, log lines and fixed-size IPC fields ("pool/server" in
 * IPC_NAME_MAX bytes): keep them short and plain.
 */
static void
conf_bind_name_check(struct conf_ctx *ctx, const struct conf_schema *sub,
    void *elem, struct conf_node *map)
{
	const struct conf_key *nk = conf_bind_lookup(sub, "name");
	const char *name;
	size_t len;

	if (nk == NULL || nk->type != CT_STRING)
		return;
	if ((name = *(char **)CONF_FIELD(elem, nk->off)) == NULL)
		return;
	len = strlen(name);
	if (len == 0 || len > CONF_NAME_MAX)
		conf_error(ctx, conf_key_node(map, "name"),
		    "a name must have 1 to %d characters, this one has %zu",
		    CONF_NAME_MAX, len);
	else if (strspn(name,
	             "abcdefghijklmnopqrstuvwxyz"
	             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") != len)
		conf_error(ctx, conf_key_node(map, "name"),
		    "name '%s' may hold only letters, digits and . _ : -",
		    name);
}

static void
conf_bind_list(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, void *obj)
{
	size_t n = conf_node_count(node), i = 0;
	size_t *count = CONF_FIELD(obj, k->count_off);
	void **arr = CONF_FIELD(obj, k->off);
	struct conf_node **nodes, *c;

	if (n > CONF_LIST_MAX) {
		conf_error(ctx, node, "'%s' has %zu entries, more than %d",
		    k->name, n, CONF_LIST_MAX);
		return;
	}
	if (n == 0)
		return;
	*arr = xcalloc(n, k->sub->size);
	*count = n;
	nodes = xcalloc(n, sizeof(*nodes));
	while (i < n && (c = conf_node_item(node, i)) != NULL && !ctx->stop) {
		size_t saved = conf_bind_path_push(ctx, k->name, (long)i);

		if (!conf_node_is_map(c))
			conf_error(ctx, c != NULL ? c : node,
			    "expected a map for %s, got %s", ctx->path.data,
			    c != NULL ? conf_bind_kind(c) : "nothing");
		else {
			conf_bind_map(
			    ctx, k->sub, c, (char *)*arr + i * k->sub->size);
			conf_bind_name_check(
			    ctx, k->sub, (char *)*arr + i * k->sub->size, c);
		}
		nodes[i++] = conf_node_is_map(c) ? c : NULL;
		conf_bind_path_pop(ctx, saved);
	}
	conf_bind_unique(ctx, k->sub, *arr, n, nodes);
	free(nodes);
}

static void
conf_bind_strlist(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, void *obj)
{
	size_t n = conf_node_count(node), i = 0, j;
	size_t *count = CONF_FIELD(obj, k->count_off);
	char ***arr = CONF_FIELD(obj, k->off);
	struct conf_node *c;

	if (n > CONF_LIST_MAX) {
		conf_error(ctx, node, "'%s' has %zu entries, more than %d",
		    k->name, n, CONF_LIST_MAX);
		return;
	}
	*arr = xcalloc(n + 1, sizeof(**arr));
	for (j = 0; j < n && (c = conf_node_item(node, j)) != NULL; j++) {
		char *s = NULL;

		if (!conf_node_is_scalar(c) || conf_node_is_null(c))
			conf_error(ctx, c, "expected a string in '%s', got %s",
			    k->name,
			    conf_node_is_scalar(c) ? "null" :
			                             conf_bind_kind(c));
		else if ((s = conf_node_text(c)) == NULL)
			conf_error(ctx, c, "string contains a NUL byte");
		if (s != NULL)
			(*arr)[i++] = s;
	}
	*count = i;
}

static void
conf_bind_custom(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, void *field)
{
	unsigned before = ctx->nerrors;

	if (k->custom == NULL) {
		conf_error(
		    ctx, node, "'%s' has no parser (schema bug)", k->name);
		return;
	}
	if (k->custom(ctx, node, field) != 0 && ctx->nerrors == before)
		conf_error(ctx, node, "invalid value for '%s'", k->name);
}

static void
conf_bind_value(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, void *obj)
{
	void *field = CONF_FIELD(obj, k->off);
	bool is_map = conf_node_is_map(node);
	bool is_seq = conf_node_is_seq(node);
	size_t saved;
	char *str;

	if (++ctx->nvalues > CONF_VALUES_MAX) {
		conf_error(ctx, node, "more than %d values (alias expansion?)",
		    CONF_VALUES_MAX);
		ctx->stop = true;
		return;
	}
	switch (k->type) {
	case CT_CUSTOM:
		conf_bind_custom(ctx, k, node, field);
		return;
	case CT_SECTION:
		if (!is_map)
			break;
		saved = conf_bind_path_push(ctx, k->name, -1);
		conf_bind_map(ctx, k->sub, node, field);
		conf_bind_path_pop(ctx, saved);
		return;
	case CT_LIST:
		if (is_seq)
			conf_bind_list(ctx, k, node, obj);
		break;
	case CT_STRLIST:
		if (is_seq)
			conf_bind_strlist(ctx, k, node, obj);
		break;
	default:
		if (is_map || is_seq)
			break;
		if ((str = conf_node_text(node)) == NULL) {
			conf_error(ctx, node, "string contains a NUL byte");
			return;
		}
		conf_scalar_bind(ctx, k, node, str, node->plain, field);
		free(str);
		return;
	}
	if (is_seq && (k->type == CT_LIST || k->type == CT_STRLIST))
		return;
	conf_error(ctx, node, "expected %s for '%s', got %s",
	    k->type == CT_SECTION                           ? "a map" :
	        k->type == CT_LIST || k->type == CT_STRLIST ? "a list" :
	                                                      "a single value",
	    k->name, conf_bind_kind(node));
}

void
conf_schema_free(const struct conf_schema *s, void *obj)
{
	if (obj == NULL)
		return;
	if (s->fini != NULL)
		s->fini(obj);
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct conf_key *k = &s->keys[i];
		void *field = CONF_FIELD(obj, k->off);

		switch (k->type) {
		case CT_STRING:
			free(*(char **)field);
			break;
		case CT_SECTION:
			conf_schema_free(k->sub, field);
			break;
		case CT_LIST: {
			char *arr = *(char **)field;
			size_t n = *(size_t *)CONF_FIELD(obj, k->count_off);

			for (size_t j = 0; arr != NULL && j < n; j++)
				conf_schema_free(
				    k->sub, arr + j * k->sub->size);
			free(arr);
			break;
		}
		case CT_STRLIST: {
			char **v = *(char ***)field;

			for (size_t j = 0; v != NULL && v[j] != NULL; j++)
				free(v[j]);
			free(v);
			break;
		}
		default:
			break;
		}
	}
	memset(obj, 0, s->size);
}

/* A schema that cannot work whatever the input: report it by key. */
static void
conf_bind_check_key(struct conf_ctx *ctx, const struct conf_key *k)
{
	bool ok = true;

	switch (k->type) {
	case CT_SECTION:
	case CT_LIST:
		ok = k->sub != NULL;
		break;
	case CT_ENUM:
		ok = k->enum_names != NULL && k->enum_names[0] != NULL;
		break;
	case CT_CUSTOM:
		ok = k->custom != NULL;
		break;
	default:
		break;
	}
	if (!ok)
		conf_error(ctx, NULL, "type needs sub, enum_names or custom");
}

static void
conf_bind_check_schema(
    struct conf_ctx *ctx, const struct conf_schema *s, int depth)
{
	void *scratch;

	if (depth > 16) /* schemas do not recurse; a loop is a typo */
		return;
	scratch = xcalloc(1, s->size);
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct conf_key *k = &s->keys[i];

		ctx->in_default = k;
		ctx->dflt_schema = s;
		conf_bind_check_key(ctx, k);
		ctx->in_default = NULL;
		if ((k->type == CT_SECTION || k->type == CT_LIST) &&
		    k->sub != NULL)
			conf_bind_check_schema(ctx, k->sub, depth + 1);
		else if (k->type != CT_SECTION)
			conf_bind_default(ctx, s, k, scratch);
	}
	conf_schema_free(s, scratch);
	free(scratch);
}

int
conf_schema_check_defaults(
    const struct conf_schema *s, struct conf_errors *errs)
{
	struct conf_ctx ctx;
	int n;

	conf_ctx_init(&ctx, s->name, errs);
	conf_bind_check_schema(&ctx, s, 0);
	n = (int)ctx.nerrors;
	conf_ctx_fini(&ctx);
	return n;
}
