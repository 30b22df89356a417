/*
 * conf_node.c - the document tree and its stream form: see conf_node.h.
 *
 * Pure: no I/O, clock or globals. The decoder trusts nothing it reads: the
 * stream comes from a process whose memory a parser bug may have corrupted,
 * so every count is checked against the bytes left, every reference against
 * the nodes already complete, and nesting against CONF_DEPTH_MAX.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "conf_node.h"
#include "util.h"

void
conf_tree_init(struct conf_tree *t)
{
	memset(t, 0, sizeof(*t));
}

void
conf_tree_fini(struct conf_tree *t)
{
	for (size_t i = 0; i < t->nall; i++) {
		free(t->all[i]->text);
		free(t->all[i]->v);
		free(t->all[i]);
	}
	free(t->all);
	conf_tree_init(t);
}

struct conf_node *
conf_tree_node(
    struct conf_tree *t, enum conf_node_kind kind, const char *text, size_t len)
{
	struct conf_node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	if (kind == CN_SCALAR) {
		n->text = xmalloc(len + 1);
		if (len > 0)
			memcpy(n->text, text, len);
		n->text[len] = '\0';
		n->len = len;
	}
	if (t->nall == t->cap) {
		t->cap = t->cap != 0 ? t->cap * 2 : 64;
		t->all = xrealloc(t->all, t->cap * sizeof(*t->all));
	}
	t->all[t->nall++] = n;
	return n;
}

void
conf_node_push(struct conf_node *parent, struct conf_node *child)
{
	size_t slots = parent->nv++;

	/* Grow at powers of two; a map's pairs fill two slots each. */
	if ((slots & (slots - 1)) == 0)
		parent->v = xrealloc(parent->v,
		    (slots != 0 ? slots * 2 : 2) * sizeof(*parent->v));
	parent->v[slots] = child;
	parent->n = parent->kind == CN_MAP ? parent->nv / 2 : parent->nv;
}

bool
conf_node_is_null(const struct conf_node *n)
{
	if (n == NULL)
		return true;
	if (n->kind != CN_SCALAR || !n->plain)
		return false;
	return n->len == 0 || conf_node_eq(n, "~") || conf_node_eq(n, "null") ||
	    conf_node_eq(n, "Null") || conf_node_eq(n, "NULL");
}

struct conf_node *
conf_node_at(struct conf_node *n, const char *path)
{
	while (n != NULL && *path == '/') {
		const char *e = strchr(++path, '/');
		size_t len = e != NULL ? (size_t)(e - path) : strlen(path);
		struct conf_node *next = NULL;

		for (size_t i = 0; i < conf_node_count(n) && n->kind == CN_MAP;
		     i++) {
			struct conf_node *k = conf_node_key(n, i);

			if (k->len == len && memcmp(k->text, path, len) == 0) {
				next = conf_node_value(n, i);
				break;
			}
		}
		n = next;
		path += len;
	}
	return n;
}

bool
conf_node_eq(const struct conf_node *n, const char *s)
{
	size_t len = strlen(s);

	return conf_node_is_scalar(n) && n->len == len &&
	    memcmp(n->text, s, len) == 0;
}

void
conf_stream_u32(struct buf *b, uint32_t v)
{
	unsigned char le[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff,
		v >> 24 };

	buf_append(b, le, sizeof(le));
}

void
conf_stream_error(struct buf *b, int line, int col, const char *msg)
{
	size_t len = strlen(msg);

	buf_putc(b, 'E');
	conf_stream_u32(b, (uint32_t)(line > 0 ? line : 0));
	conf_stream_u32(b, (uint32_t)(col > 0 ? col : 0));
	conf_stream_u32(b, (uint32_t)len);
	buf_append(b, msg, len);
}

struct conf_dec {
	const unsigned char *p, *end;
	struct conf_tree *t;
	bool *done; /* done[i]: node i is complete (may be referenced) */
	size_t ndone_cap;
	const char *why; /* static: first problem */
};

static int
conf_dec_u32(struct conf_dec *d, uint32_t *v)
{
	if (d->end - d->p < 4) {
		d->why = "truncated";
		return -1;
	}
	*v = (uint32_t)d->p[0] | (uint32_t)d->p[1] << 8 |
	    (uint32_t)d->p[2] << 16 | (uint32_t)d->p[3] << 24;
	d->p += 4;
	return 0;
}

/* line, col: positions beyond int range are dropped, not trusted. */
static int
conf_dec_pos(struct conf_dec *d, struct conf_node *n)
{
	uint32_t line, col;

	if (conf_dec_u32(d, &line) != 0 || conf_dec_u32(d, &col) != 0)
		return -1;
	n->line = line <= INT32_MAX ? (int)line : 0;
	n->col = col <= INT32_MAX ? (int)col : 0;
	return 0;
}

static struct conf_node *
conf_dec_new(
    struct conf_dec *d, enum conf_node_kind kind, const void *text, size_t len)
{
	if (d->t->nall >= CONF_NODES_MAX) {
		d->why = "too many nodes";
		return NULL;
	}
	if (d->t->nall == d->ndone_cap) {
		d->ndone_cap = d->ndone_cap != 0 ? d->ndone_cap * 2 : 64;
		d->done = xrealloc(d->done, d->ndone_cap * sizeof(*d->done));
	}
	d->done[d->t->nall] = false;
	return conf_tree_node(d->t, kind, text, len);
}

static struct conf_node *conf_dec_node(struct conf_dec *d, int depth);

static struct conf_node *
conf_dec_collection(struct conf_dec *d, enum conf_node_kind kind, int depth)
{
	struct conf_node *n = conf_dec_new(d, kind, NULL, 0), *c;
	size_t idx = d->t->nall - 1;
	uint32_t count;
	uint64_t want;

	if (n == NULL || conf_dec_pos(d, n) != 0 ||
	    conf_dec_u32(d, &count) != 0)
		return NULL;
	/* Each child takes at least 5 bytes ('R' id): no count may promise
	 * more children than the bytes left can hold. */
	want = (uint64_t)count * (kind == CN_MAP ? 2 : 1);
	if (want > (uint64_t)(d->end - d->p) / 5) {
		d->why = "count beyond the data";
		return NULL;
	}
	for (uint64_t i = 0; i < want; i++) {
		if ((c = conf_dec_node(d, depth + 1)) == NULL)
			return NULL;
		conf_node_push(n, c);
	}
	d->done[idx] = true;
	return n;
}

static struct conf_node *
conf_dec_node(struct conf_dec *d, int depth)
{
	struct conf_node *n;
	uint32_t flags, line, col, len, id;
	size_t idx;

	if (depth > CONF_DEPTH_MAX + 1) {
		d->why = "nested too deep";
		return NULL;
	}
	if (d->p >= d->end) {
		d->why = "truncated";
		return NULL;
	}
	switch (*d->p++) {
	case 'S':
		if (conf_dec_u32(d, &flags) != 0 ||
		    conf_dec_u32(d, &line) != 0 || conf_dec_u32(d, &col) != 0 ||
		    conf_dec_u32(d, &len) != 0)
			return NULL;
		if (len > (uint64_t)(d->end - d->p)) {
			d->why = "scalar beyond the data";
			return NULL;
		}
		if ((n = conf_dec_new(d, CN_SCALAR, d->p, len)) == NULL)
			return NULL;
		d->p += len;
		n->plain = (flags & 1) != 0;
		n->line = line <= INT32_MAX ? (int)line : 0;
		n->col = col <= INT32_MAX ? (int)col : 0;
		d->done[d->t->nall - 1] = true;
		return n;
	case 'M':
		return conf_dec_collection(d, CN_MAP, depth);
	case 'Q':
		return conf_dec_collection(d, CN_SEQ, depth);
	case 'R':
		if (conf_dec_u32(d, &id) != 0)
			return NULL;
		idx = id;
		if (idx >= d->t->nall || !d->done[idx]) {
			d->why = "reference to an unfinished node";
			return NULL;
		}
		return d->t->all[idx];
	default:
		d->why = "unknown record";
		return NULL;
	}
}

int
conf_tree_decode(const void *data, size_t len, const char *file,
    struct conf_tree *t, struct conf_errors *errs)
{
	struct conf_dec d = {
		.p = data, .end = (const unsigned char *)data + len, .t = t
	};
	size_t nerr = 0;
	uint32_t line, col, mlen;
	int rc = -1;

	conf_tree_init(t);
	if (len < 4 || memcmp(data, CONF_STREAM_MAGIC, 4) != 0) {
		d.why = "bad magic";
		goto out;
	}
	d.p += 4;
	while (d.p < d.end && *d.p == 'E') {
		d.p++;
		if (conf_dec_u32(&d, &line) != 0 ||
		    conf_dec_u32(&d, &col) != 0 || conf_dec_u32(&d, &mlen) != 0)
			goto out;
		if (mlen > (uint64_t)(d.end - d.p)) {
			d.why = "error text beyond the data";
			goto out;
		}
		if (nerr++ < CONF_ERRORS_MAX)
			conf_errors_add(errs, file,
			    line <= INT32_MAX ? (int)line : 0,
			    col <= INT32_MAX ? (int)col : 0,
			    xstrndup((const char *)d.p, mlen));
		d.p += mlen;
	}
	if (nerr == 0) {
		if (d.p < d.end && *d.p == '0')
			d.p++;
		else if ((t->root = conf_dec_node(&d, 0)) == NULL)
			goto out;
	}
	if (d.p >= d.end || *d.p != 'Z' || d.p + 1 != d.end) {
		d.why = d.why != NULL ? d.why : "no end mark";
		goto out;
	}
	rc = nerr > 0 ? -1 : 0;
out:
	if (rc != 0 && d.why != NULL)
		conf_errors_add(errs, file, 0, 0,
		    xasprintf(
		        "the YAML parser's output is malformed (%s)", d.why));
	if (rc != 0)
		conf_tree_fini(t);
	free(d.done);
	return rc;
}
