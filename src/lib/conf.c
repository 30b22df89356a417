/*
 * conf.c - the config binder's front: error lists, positions, and turning
 * text into a document tree (conf_yaml.c in a child process for YAML,
 * conf_jtree.c for JSON bodies) before conf_bind.c walks it.
 *
 * Before any parser sees the text, cheap checks here refuse what is not
 * UTF-8 and the constructs haven never uses (explicit keys, tabs before
 * block indicators), with a position, so the common mistakes get a precise
 * message rather than the parser's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "json.h"
#include "util.h"

void
conf_errors_init(struct conf_errors *e)
{
	e->v = NULL;
	e->n = 0;
}

void
conf_errors_fini(struct conf_errors *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].file);
		free(e->v[i].msg);
	}
	free(e->v);
	conf_errors_init(e);
}

void
conf_errors_add(
    struct conf_errors *e, const char *file, int line, int col, char *msg)
{
	struct conf_error *ce;

	e->v = xrealloc(e->v, (e->n + 1) * sizeof(*e->v));
	ce = &e->v[e->n++];
	ce->file = xstrdup(file != NULL ? file : "-");
	ce->line = line;
	ce->col = col;
	ce->msg = msg;
}

void
conf_errors_addf(struct conf_errors *e, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("out of memory");
	va_end(ap);
	conf_errors_add(e, file, line, col, msg);
}

static void
conf_errors_fmt(const struct conf_error *ce, struct buf *b)
{
	if (ce->line > 0)
		buf_printf(
		    b, "%s:%d:%d: %s", ce->file, ce->line, ce->col, ce->msg);
	else
		buf_printf(b, "%s: %s", ce->file, ce->msg);
}

void
conf_errors_print(const struct conf_errors *e, FILE *f)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < e->n; i++) {
		buf_reset(&b);
		conf_errors_fmt(&e->v[i], &b);
		fprintf(f, "%s\n", b.data);
	}
	buf_fini(&b);
}

void
conf_errors_json(const struct conf_errors *e, struct jw *w)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < e->n; i++) {
		buf_reset(&b);
		conf_errors_fmt(&e->v[i], &b);
		jw_strn(w, b.data, b.len);
	}
	buf_fini(&b);
}

void
conf_ctx_init(struct conf_ctx *ctx, const char *file, struct conf_errors *errs)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->file = file;
	ctx->errs = errs;
	buf_init(&ctx->path);
	buf_puts(&ctx->path, "");
}

void
conf_ctx_fini(struct conf_ctx *ctx)
{
	buf_fini(&ctx->path);
}

void
conf_node_pos(const struct conf_node *node, int *line, int *col)
{
	*line = node != NULL ? node->line : 0;
	*col = node != NULL ? node->col : 0;
}

void
conf_error(struct conf_ctx *ctx, struct conf_node *node, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int line = 0, col = 0;

	if (!ctx->in_hook)
		ctx->nbind++;
	if (ctx->nerrors > CONF_ERRORS_MAX)
		return;
	if (ctx->nerrors++ == CONF_ERRORS_MAX) {
		conf_errors_add(ctx->errs, ctx->file, 0, 0,
		    xstrdup("too many errors; not reporting more"));
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("out of memory");
	va_end(ap);
	if (ctx->in_default != NULL) {
		char *m = xasprintf("bad default for '%s' in %s: %s",
		    ctx->in_default->name,
		    ctx->dflt_schema != NULL ? ctx->dflt_schema->name : "?",
		    msg);

		free(msg);
		msg = m;
	} else {
		conf_node_pos(node, &line, &col);
	}
	conf_errors_add(ctx->errs, ctx->file, line, col, msg);
}

/*
 * An error in another file than the one being bound (a zone file a
 * section names): counted like conf_error, so the bind fails.
 */
void
conf_error_at(struct conf_ctx *ctx, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!ctx->in_hook)
		ctx->nbind++;
	if (ctx->nerrors > CONF_ERRORS_MAX)
		return;
	if (ctx->nerrors++ == CONF_ERRORS_MAX) {
		conf_errors_add(ctx->errs, ctx->file, 0, 0,
		    xstrdup("too many errors; not reporting more"));
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("out of memory");
	va_end(ap);
	conf_errors_add(ctx->errs, file, line, col, msg);
}

const char *
conf_ctx_file(const struct conf_ctx *ctx)
{
	return ctx->file;
}

unsigned
conf_ctx_flags(const struct conf_ctx *ctx)
{
	return ctx->flags;
}

struct conf_node *
conf_key_node(struct conf_node *map, const char *key)
{
	for (size_t i = 0; i < conf_node_count(map) && conf_node_is_map(map);
	     i++)
		if (conf_node_eq(conf_node_key(map, i), key))
			return conf_node_value(map, i);
	return NULL;
}

struct conf_node *
conf_item_node(
    struct conf_node *map, const char *list, size_t i, const char *key)
{
	struct conf_node *seq = conf_key_node(map, list), *item;

	if (!conf_node_is_seq(seq))
		return map;
	if ((item = conf_node_item(seq, i)) == NULL)
		return seq;
	if (key == NULL || conf_key_node(item, key) == NULL)
		return item;
	return conf_key_node(item, key);
}

bool
conf_section_given(struct conf_node *sec, struct conf_node *parent)
{
	if (sec == NULL || sec == parent)
		return false;
	if (!conf_node_is_map(sec) || sec->n == 0)
		return true;
	for (size_t i = 0; i < sec->n; i++) {
		struct conf_node *v = conf_node_value(sec, i);

		if (!conf_node_is_null(v) &&
		    !(conf_node_is_seq(v) && v->n == 0))
			return true;
	}
	return false;
}

char *
conf_node_text(const struct conf_node *node)
{
	if (!conf_node_is_scalar(node) || memchr(node->text, '\0', node->len))
		return NULL;
	return xstrndup(node->text, node->len);
}

static const char *
conf_node_kind(const struct conf_node *n)
{
	if (conf_node_is_map(n))
		return "a map";
	if (conf_node_is_seq(n))
		return "a list";
	return "a scalar";
}

/* Refuse what is not UTF-8 text before libfyaml sees it. */
static int
conf_bind_utf8(struct conf_ctx *ctx, const char *text, size_t len)
{
	long bad = conf_utf8_check(text, len);
	int line = 1, col = 1;

	if (bad < 0)
		return 0;
	for (long i = 0; i < bad; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			col++;
		}
	}
	ctx->nerrors++;
	conf_errors_add(ctx->errs, ctx->file, line, col,
	    xstrdup(text[bad] == '\0' ? "NUL byte in text" : "invalid UTF-8"));
	return -1;
}

/* A tab, more blanks, then a block indicator: what libfyaml crashes on. */
static bool
conf_bind_tab_indicator(const char *p, size_t n)
{
	size_t j = 0;

	while (j < n && (p[j] == '\t' || p[j] == ' '))
		j++;
	if (j < n && p[j] == '-')
		return j + 1 == n || !(p[j + 1] >= '0' && p[j + 1] <= '9');
	return j < n && (p[j] == '?' || p[j] == ':');
}

/*
 * Refuse YAML's explicit key indicator ("? key") at the start of a block
 * line, and a tab before a block indicator: haven has no complex keys, no
 * one indents with tabs, and libfyaml 0.7.12 dereferences NULL cleaning up
 * after "cannot use tab for indentation of block entry" ("? a:<TAB>? b").
 */
static int
conf_bind_no_explicit_key(struct conf_ctx *ctx, const char *text, size_t len)
{
	int line = 1;

	for (size_t i = 0; i < len; line++) {
		size_t j = i;

		while (j < len &&
		    (text[j] == ' ' ||
		        (text[j] == '-' && j + 1 < len &&
		            (text[j + 1] == ' ' || text[j + 1] == '\t'))))
			j += text[j] == '-' ? 2 : 1;
		if (j < len && text[j] == '?' &&
		    (j + 1 == len || text[j + 1] == ' ' ||
		        text[j + 1] == '\t' || text[j + 1] == '\n' ||
		        text[j + 1] == '\r')) {
			ctx->nerrors++;
			conf_errors_add(ctx->errs, ctx->file, line,
			    (int)(j - i) + 1,
			    xstrdup("explicit keys ('? ') are not supported"));
			return -1;
		}
		while (j < len && text[j] != '\n') {
			if (text[j] == '\t' &&
			    conf_bind_tab_indicator(text + j, len - j)) {
				ctx->nerrors++;
				conf_errors_add(ctx->errs, ctx->file, line,
				    (int)(j - i) + 1,
				    xstrdup("tab before '-', '?' or ':'; use "
				            "spaces"));
				return -1;
			}
			j++;
		}
		i = j + 1;
	}
	return 0;
}

/* Bind the tree's root to obj; errors so far in ctx count. */
static int
conf_bind_root(struct conf_ctx *ctx, const struct conf_schema *s,
    struct conf_tree *t, void *obj)
{
	struct conf_node *root = t->root;

	if (root != NULL && conf_node_is_scalar(root) && root->plain &&
	    root->len == 0)
		root = NULL; /* only comments */
	if (root != NULL && !conf_node_is_map(root))
		conf_error(ctx, root, "expected a map at the top level, got %s",
		    conf_node_kind(root));
	else
		conf_bind_map(ctx, s, root, obj);
	if (ctx->nerrors > 0) {
		conf_schema_free(s, obj);
		return -1;
	}
	return 0;
}

int
conf_bind_tree(const struct conf_schema *s, const char *name,
    struct conf_tree *t, void *obj, struct conf_errors *errs)
{
	struct conf_ctx ctx;
	int rc;

	memset(obj, 0, s->size);
	conf_ctx_init(&ctx, name, errs);
	rc = conf_bind_root(&ctx, s, t, obj);
	conf_ctx_fini(&ctx);
	return rc;
}

int
conf_bind_text(const struct conf_schema *s, const char *name, const char *text,
    size_t len, void *obj, struct conf_errors *errs)
{
	return conf_bind_text_flags(s, name, text, len, obj, errs, 0);
}

int
conf_bind_text_flags(const struct conf_schema *s, const char *name,
    const char *text, size_t len, void *obj, struct conf_errors *errs,
    unsigned flags)
{
	struct conf_tree t;
	struct conf_ctx ctx;
	size_t before = errs->n;
	int rc = -1;

	memset(obj, 0, s->size);
	conf_tree_init(&t);
	conf_ctx_init(&ctx, name, errs);
	ctx.flags = flags;
	if (len > CONF_TEXT_MAX)
		conf_error(&ctx, NULL, "larger than %u bytes", CONF_TEXT_MAX);
	else if (conf_bind_utf8(&ctx, text, len) == 0 &&
	    conf_bind_no_explicit_key(&ctx, text, len) == 0 &&
	    conf_yaml_load(name, text, len, &t, errs) == 0)
		rc = conf_bind_root(&ctx, s, &t, obj);
	if (rc != 0 && errs->n == before)
		conf_errors_add(errs, name, 0, 0, xstrdup("invalid"));
	conf_tree_fini(&t);
	conf_ctx_fini(&ctx);
	return rc;
}

int
conf_bind_json(const struct conf_schema *s, const char *name, const char *text,
    size_t len, void *obj, struct conf_errors *errs)
{
	struct conf_tree t;
	int rc = -1;

	memset(obj, 0, s->size);
	if (len > CONF_TEXT_MAX)
		conf_errors_addf(
		    errs, name, 0, 0, "larger than %u bytes", CONF_TEXT_MAX);
	else if (conf_json_load(name, text, len, &t, errs) == 0) {
		rc = conf_bind_tree(s, name, &t, obj, errs);
		conf_tree_fini(&t);
	}
	return rc;
}

int
conf_bind_file(const struct conf_schema *s, const char *path, void *obj,
    struct conf_errors *errs)
{
	struct buf b;
	char chunk[8192];
	size_t n;
	FILE *f;
	int rc;

	memset(obj, 0, s->size);
	if ((f = fopen(path, "rb")) == NULL) {
		conf_errors_add(errs, path, 0, 0,
		    xasprintf("cannot open: %s", strerror(errno)));
		return -1;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
	    b.len <= CONF_TEXT_MAX)
		buf_append(&b, chunk, n);
	if (ferror(f)) {
		conf_errors_add(errs, path, 0, 0,
		    xasprintf("cannot read: %s", strerror(errno)));
		rc = -1;
	} else {
		rc = conf_bind_text(
		    s, path, b.data != NULL ? b.data : "", b.len, obj, errs);
	}
	fclose(f);
	buf_fini(&b);
	return rc;
}
