/*
 * conf.c - the config binder's front: error lists, positions, and turning
 * text into a libfyaml document before conf_bind.c walks it.
 *
 * Text goes through libfyaml twice. The event pass checks syntax, refuses a
 * second document and nesting past CONF_DEPTH_MAX (libfyaml recurses, and a
 * control API body is untrusted), and records where each mapping and
 * sequence starts. The document pass builds the tree (and finds duplicate
 * keys). Both report through one collecting diag, so syntax errors come out
 * as file:line:col like every other error.
 */
#include <errno.h>
#include <libfyaml.h>
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
	free(ctx->marks);
	buf_fini(&ctx->path);
}

static int
conf_mark_cmp(const void *a, const void *b)
{
	const struct conf_mark *x = a, *y = b;

	if (x->node == y->node)
		return 0;
	return (uintptr_t)x->node < (uintptr_t)y->node ? -1 : 1;
}

/* The position of the key whose value is node, or 0 if node is no value. */
static struct fy_node *
conf_node_key_of(struct fy_node *parent, struct fy_node *node)
{
	struct fy_node_pair *p;
	void *it = NULL;

	while ((p = fy_node_mapping_iterate(parent, &it)) != NULL)
		if (fy_node_pair_value(p) == node)
			return fy_node_pair_key(p);
	return NULL;
}

/*
 * Scalars carry a token with a mark; collections are looked up in the mark
 * table. An empty value ("key:") has neither, so it borrows the position of
 * its key, and an element without one that of its list.
 */
void
conf_node_pos(struct conf_ctx *ctx, struct fy_node *node, int *line, int *col)
{
	*line = *col = 0;
	for (int hops = 0; node != NULL && hops < 4; hops++) {
		struct fy_node *parent;

		if (fy_node_is_scalar(node)) {
			struct fy_token *t = fy_node_get_scalar_token(node);
			const struct fy_mark *m;

			m = t != NULL ? fy_token_start_mark(t) : NULL;
			if (m != NULL && m->line >= 0) {
				enum fy_node_style st = fy_node_get_style(node);

				/* The mark is past the opening quote. */
				*line = m->line + 1;
				*col = m->column + 1;
				if ((st == FYNS_SINGLE_QUOTED ||
				        st == FYNS_DOUBLE_QUOTED) &&
				    *col > 1)
					(*col)--;
				return;
			}
		} else if (ctx->nmarks > 0) {
			struct conf_mark key = { .node = node }, *m;

			m = bsearch(&key, ctx->marks, ctx->nmarks, sizeof(*m),
			    conf_mark_cmp);
			if (m != NULL) {
				*line = m->line;
				*col = m->col;
				return;
			}
		}
		parent = fy_node_get_parent(node);
		if (parent != NULL && fy_node_is_mapping(parent)) {
			struct fy_node *k = conf_node_key_of(parent, node);

			node = k != NULL && k != node ? k : parent;
		} else {
			node = parent;
		}
	}
}

void
conf_error(struct conf_ctx *ctx, struct fy_node *node, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int line = 0, col = 0;

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
		conf_node_pos(ctx, node, &line, &col);
	}
	conf_errors_add(ctx->errs, ctx->file, line, col, msg);
}

struct fy_node *
conf_key_node(struct fy_node *map, const char *key)
{
	struct fy_node_pair *p;
	void *it = NULL;

	if (map == NULL || !fy_node_is_mapping(map))
		return NULL;
	while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p);
		const char *s;
		size_t len;

		/* Never bound (see conf_bind_pairs), and libfyaml may leak
		 * formatting one. */
		if (k == NULL || !fy_node_is_scalar(k) ||
		    fy_node_get_style(k) == FYNS_SINGLE_QUOTED)
			continue;
		s = fy_node_get_scalar(k, &len);
		if (s != NULL && len == strlen(key) && memcmp(s, key, len) == 0)
			return fy_node_resolve_alias(fy_node_pair_value(p));
	}
	return NULL;
}

/* Append single-quoted content p[0..n) to out, unescaped and folded. */
static void
conf_node_sq_fold(const char *p, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n;) {
		size_t breaks = 0;

		if (p[i] != '\n' && p[i] != '\r') {
			buf_putc(out, p[i]);
			/* Inside the quotes a quote is always doubled. */
			i += p[i] == '\'' && i + 1 < n ? 2 : 1;
			continue;
		}
		/* YAML 1.2 §7.3.2: trim around the break; one break is a space,
		 * each further (empty) line a newline. */
		while (out->len > 0 &&
		    (out->data[out->len - 1] == ' ' ||
		        out->data[out->len - 1] == '\t'))
			out->data[--out->len] = '\0';
		for (;;) {
			i += p[i] == '\r' && i + 1 < n && p[i + 1] == '\n' ? 2 :
			                                                     1;
			while (i < n && (p[i] == ' ' || p[i] == '\t'))
				i++;
			if (i >= n || (p[i] != '\n' && p[i] != '\r'))
				break;
			breaks++;
		}
		if (breaks == 0)
			buf_putc(out, ' ');
		for (; breaks > 0; breaks--)
			buf_putc(out, '\n');
	}
}

/*
 * A single-quoted scalar decoded from the source bytes: libfyaml 0.7.12
 * leaks a buffer formatting some of them (many '' escapes), and the rules
 * are two: '' is a quote, and lines fold. NULL: not that case.
 */
static char *
conf_node_sq(struct conf_ctx *ctx, struct fy_node *node)
{
	struct fy_token *t = fy_node_get_scalar_token(node);
	const struct fy_mark *a, *b;
	const char *p;
	struct buf out;
	size_t n;

	if (ctx->text == NULL || t == NULL ||
	    fy_node_get_style(node) != FYNS_SINGLE_QUOTED)
		return NULL;
	a = fy_token_start_mark(t);
	b = fy_token_end_mark(t);
	if (a == NULL || b == NULL || a->input_pos == 0 ||
	    b->input_pos < a->input_pos || b->input_pos >= ctx->len)
		return NULL;
	p = ctx->text + a->input_pos;
	n = b->input_pos - a->input_pos;
	if (p[-1] != '\'' || p[n] != '\'')
		return NULL;
	buf_init(&out);
	buf_puts(&out, "");
	conf_node_sq_fold(p, n, &out);
	return buf_steal(&out);
}

/* A scalar libfyaml formats without leaking: any style but single-quoted. */
static char *
conf_node_plain(struct fy_node *node)
{
	const char *s;
	size_t len;

	s = fy_node_get_scalar(node, &len);
	if (s == NULL)
		return xstrdup("");
	if (memchr(s, '\0', len) != NULL)
		return NULL;
	return xstrndup(s, len);
}

char *
conf_node_str(struct conf_ctx *ctx, struct fy_node *node)
{
	char *sq;

	if ((sq = conf_node_sq(ctx, node)) != NULL)
		return sq;
	return conf_node_plain(node);
}

char *
conf_node_text(struct conf_ctx *ctx, struct fy_node *node)
{
	if (node != NULL)
		node = fy_node_resolve_alias(node);
	if (node == NULL || !fy_node_is_scalar(node))
		return NULL;
	/* Without the source text a single-quoted scalar can only be had
	 * through the leaking libfyaml call: refuse it. */
	if (ctx == NULL)
		return fy_node_get_style(node) == FYNS_SINGLE_QUOTED ?
		    NULL :
		    conf_node_plain(node);
	return conf_node_str(ctx, node);
}

/* Hand libfyaml's collected errors over as ours. */
static int
conf_diag_take(struct conf_ctx *ctx, struct fy_diag *diag)
{
	struct fy_diag_error *de;
	void *it = NULL;
	int n = 0;

	while ((de = fy_diag_errors_iterate(diag, &it)) != NULL) {
		if (ctx->nerrors++ >= CONF_ERRORS_MAX)
			continue;
		conf_errors_add(ctx->errs, ctx->file, de->line, de->column,
		    xstrdup(de->msg != NULL ? de->msg : "YAML syntax error"));
		n++;
	}
	if (n == 0 && fy_diag_got_error(diag)) {
		ctx->nerrors++;
		conf_errors_add(
		    ctx->errs, ctx->file, 0, 0, xstrdup("YAML syntax error"));
		n++;
	}
	return n;
}

/* Diagnostics are collected; the text output would only reach stderr. */
static void
conf_diag_discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
}

static void
conf_marks_push(struct conf_ctx *ctx, size_t *cap, int line, int col)
{
	if (ctx->nmarks == *cap) {
		*cap = *cap != 0 ? *cap * 2 : 64;
		ctx->marks = xrealloc(ctx->marks, *cap * sizeof(*ctx->marks));
	}
	ctx->marks[ctx->nmarks].node = NULL;
	ctx->marks[ctx->nmarks].line = line + 1;
	ctx->marks[ctx->nmarks].col = col + 1;
	ctx->nmarks++;
}

/* A structural limit hit in the event pass; returns -1 to stop it. */
static int
conf_event_limit(struct conf_ctx *ctx, struct fy_event *ev, const char *what)
{
	const struct fy_mark *m = fy_event_start_mark(ev);

	ctx->nerrors++;
	conf_errors_add(ctx->errs, ctx->file, m != NULL ? m->line + 1 : 0,
	    m != NULL ? m->column + 1 : 0, xstrdup(what));
	return -1;
}

/* Sets *docs to the number of documents seen (0: empty or comments). */
static int
conf_event_pass(struct conf_ctx *ctx, struct fy_parse_cfg *cfg,
    const char *text, size_t len, int *docs)
{
	struct fy_parser *fyp;
	struct fy_event *ev;
	size_t cap = 0;
	int depth = 0, rc = 0;

	if ((fyp = fy_parser_create(cfg)) == NULL)
		fatal("libfyaml: cannot create a parser");
	if (fy_parser_set_string(fyp, text, len) != 0)
		fatal("libfyaml: cannot set the input");
	while (rc == 0 && (ev = fy_parser_parse(fyp)) != NULL) {
		const struct fy_mark *m = fy_event_start_mark(ev);

		switch (ev->type) {
		case FYET_DOCUMENT_START:
			if (++*docs > 1)
				rc = conf_event_limit(
				    ctx, ev, "more than one YAML document");
			break;
		case FYET_MAPPING_START:
		case FYET_SEQUENCE_START:
			if (++depth > CONF_DEPTH_MAX) {
				rc = conf_event_limit(
				    ctx, ev, "nested deeper than 64 levels");
				break;
			}
			conf_marks_push(ctx, &cap, m != NULL ? m->line : -1,
			    m != NULL ? m->column : -1);
			break;
		case FYET_MAPPING_END:
		case FYET_SEQUENCE_END:
			depth--;
			break;
		default:
			break;
		}
		fy_parser_event_free(fyp, ev);
	}
	fy_parser_destroy(fyp);
	return rc;
}

/* Collection nodes in pre-order, as the event pass met their starts. */
static void
conf_marks_walk(struct conf_ctx *ctx, struct fy_node *n, size_t *i)
{
	struct fy_node_pair *p;
	struct fy_node *c;
	void *it = NULL;

	if (n == NULL || fy_node_is_scalar(n))
		return;
	if (*i < ctx->nmarks)
		ctx->marks[*i].node = n;
	(*i)++;
	if (fy_node_is_mapping(n)) {
		while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
			conf_marks_walk(ctx, fy_node_pair_key(p), i);
			conf_marks_walk(ctx, fy_node_pair_value(p), i);
		}
	} else {
		while ((c = fy_node_sequence_iterate(n, &it)) != NULL)
			conf_marks_walk(ctx, c, i);
	}
}

static void
conf_marks_bind(struct conf_ctx *ctx, struct fy_document *doc)
{
	size_t n = 0;

	conf_marks_walk(ctx, fy_document_root(doc), &n);
	/* Both walks see the same tree; if not, positions are only missing. */
	if (n < ctx->nmarks)
		ctx->nmarks = n;
	if (ctx->nmarks > 0)
		qsort(ctx->marks, ctx->nmarks, sizeof(*ctx->marks),
		    conf_mark_cmp);
}

/* Parse text into *docp (NULL for an empty document). 0 or -1. */
static int
conf_load(struct conf_ctx *ctx, const char *text, size_t len,
    struct fy_document **docp)
{
	struct fy_diag_cfg dcfg;
	struct fy_parse_cfg cfg = { 0 };
	struct fy_diag *diag;
	int rc = 0, docs = 0;

	*docp = NULL;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = conf_diag_discard;
	dcfg.colorize = false;
	if ((diag = fy_diag_create(&dcfg)) == NULL)
		fatal("libfyaml: cannot create a diag");
	fy_diag_set_collect_errors(diag, true);
	cfg.flags = FYPCF_QUIET;
	cfg.diag = diag;
	if (conf_event_pass(ctx, &cfg, text, len, &docs) != 0 ||
	    conf_diag_take(ctx, diag) > 0) {
		rc = -1;
		goto out;
	}
	/* libfyaml fails an empty stream; for us it is "all defaults". */
	if (docs == 0)
		goto out;
	*docp = fy_document_build_from_string(&cfg, text, len);
	if (conf_diag_take(ctx, diag) > 0) {
		rc = -1;
		goto out;
	}
	if (*docp != NULL)
		conf_marks_bind(ctx, *docp);
out:
	if (rc != 0 && *docp != NULL) {
		fy_document_destroy(*docp);
		*docp = NULL;
	}
	fy_diag_destroy(diag);
	return rc;
}

static const char *
conf_node_kind(struct fy_node *n)
{
	if (fy_node_is_mapping(n))
		return "a map";
	if (fy_node_is_sequence(n))
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

int
conf_bind_text(const struct conf_schema *s, const char *name, const char *text,
    size_t len, void *obj, struct conf_errors *errs)
{
	struct fy_document *doc = NULL;
	struct fy_node *root = NULL;
	struct conf_ctx ctx;
	int rc = 0;

	memset(obj, 0, s->size);
	conf_ctx_init(&ctx, name, errs);
	ctx.text = text;
	ctx.len = len;
	if (len > CONF_TEXT_MAX) {
		conf_error(&ctx, NULL, "larger than %u bytes", CONF_TEXT_MAX);
		goto out;
	}
	if (conf_bind_utf8(&ctx, text, len) != 0 ||
	    conf_bind_no_explicit_key(&ctx, text, len) != 0 ||
	    conf_load(&ctx, text, len, &doc) != 0)
		goto out;
	if (doc != NULL)
		root = fy_node_resolve_alias(fy_document_root(doc));
	if (root != NULL && fy_node_is_scalar(root) &&
	    fy_node_get_style(root) == FYNS_PLAIN &&
	    fy_node_get_scalar_length(root) == 0)
		root = NULL; /* only comments */
	if (root != NULL && !fy_node_is_mapping(root))
		conf_error(&ctx, root,
		    "expected a map at the top level, got %s",
		    conf_node_kind(root));
	else
		conf_bind_map(&ctx, s, root, obj);
out:
	if (ctx.nerrors > 0) {
		conf_schema_free(s, obj);
		rc = -1;
	}
	if (doc != NULL)
		fy_document_destroy(doc);
	conf_ctx_fini(&ctx);
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
