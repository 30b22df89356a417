/*
 * snap_tree.c - see snap_tree.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "snap/snap_cdc.h"
#include "snap/snap_chunker.h"
#include "snap/snap_tree.h"

/* The parser's cursor. */
struct snap_tree_cur {
	const uint8_t *p; /* borrowed: the input */
	size_t len;
	size_t pos;
	size_t entry; /* the entry being read, for errors */
	char *err;    /* borrowed: caller's buffer */
	size_t errlen;
};

void
snap_tree_fini(struct snap_tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct snap_tree_entry *e = &t->e[i];

		for (uint32_t k = 0; k < e->nxattrs; k++) {
			free(e->xattrs[k].name);
			free(e->xattrs[k].value);
		}
		free(e->xattrs);
		free(e->path);
		free(e->target);
	}
	free(t->e);
	memset(t, 0, sizeof(*t));
}

int
snap_tree_path_cmp(const char *a, const char *b)
{
	return strcmp(a, b);
}

static void
snap_tree_put(struct buf *b, uint64_t v, int n)
{
	uint8_t x[8];

	for (int i = 0; i < n; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	buf_append(b, x, (size_t)n);
}

static bool
snap_tree_has_meta(enum snap_tree_type t)
{
	return t != SNAP_TREE_HARDLINK;
}

void
snap_tree_encode(const struct snap_tree *t, struct buf *out)
{
	buf_append(out, SNAP_TREE_MAGIC, 8);
	snap_tree_put(out, t->n, 8);
	for (size_t i = 0; i < t->n; i++) {
		const struct snap_tree_entry *e = &t->e[i];
		size_t pl = strlen(e->path);

		snap_tree_put(out, (uint64_t)e->type, 1);
		snap_tree_put(out, pl, 2);
		buf_append(out, e->path, pl);
		if (snap_tree_has_meta(e->type)) {
			snap_tree_put(out, e->mode, 4);
			snap_tree_put(out, e->uid, 4);
			snap_tree_put(out, e->gid, 4);
			snap_tree_put(out, (uint64_t)e->mtime_ns, 8);
		}
		if (e->type == SNAP_TREE_FILE) {
			snap_tree_put(out, e->size, 8);
			snap_tree_put(out, e->nchunks, 8);
			snap_tree_put(out, (uint64_t)e->ctime_ns, 8);
			snap_tree_put(out, e->ino, 8);
		}
		if (e->type == SNAP_TREE_SYMLINK ||
		    e->type == SNAP_TREE_HARDLINK) {
			size_t tl = strlen(e->target);

			snap_tree_put(out, tl, 2);
			buf_append(out, e->target, tl);
		}
		if (!snap_tree_has_meta(e->type))
			continue;
		snap_tree_put(out, e->nxattrs, 2);
		for (uint32_t k = 0; k < e->nxattrs; k++) {
			size_t nl = strlen(e->xattrs[k].name);

			snap_tree_put(out, nl, 1);
			buf_append(out, e->xattrs[k].name, nl);
			snap_tree_put(out, e->xattrs[k].len, 4);
			if (e->xattrs[k].len > 0)
				buf_append(
				    out, e->xattrs[k].value, e->xattrs[k].len);
		}
	}
}

static int
snap_tree_fail(struct snap_tree_cur *c, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->errlen > 0)
		snprintf(c->err, c->errlen, "tree index entry %zu: %s",
		    c->entry, msg);
	return -EBADMSG;
}

/* n (1..8) little-endian bytes into *v. */
static int
snap_tree_get(struct snap_tree_cur *c, int n, uint64_t *v)
{
	*v = 0;
	if (c->len - c->pos < (size_t)n)
		return snap_tree_fail(c, "truncated");
	for (int i = 0; i < n; i++)
		*v |= (uint64_t)c->p[c->pos + (size_t)i] << (8 * i);
	c->pos += (size_t)n;
	return 0;
}

/* n bytes without a NUL, as a new string. */
static int
snap_tree_str(struct snap_tree_cur *c, size_t n, char **out)
{
	if (c->len - c->pos < n)
		return snap_tree_fail(c, "truncated");
	if (memchr(c->p + c->pos, '\0', n) != NULL)
		return snap_tree_fail(c, "NUL in a name");
	*out = xmalloc(n + 1);
	memcpy(*out, c->p + c->pos, n);
	(*out)[n] = '\0';
	c->pos += n;
	return 0;
}

/* Relative, no empty, "." or ".." component. */
static bool
snap_tree_path_ok(const char *p, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return false;
	while (i <= n) {
		const char *s = p + i, *sl = memchr(s, '/', n - i);
		size_t cl = sl ? (size_t)(sl - s) : n - i;

		if (cl == 0 || (cl == 1 && s[0] == '.') ||
		    (cl == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		i += cl + 1;
	}
	return true;
}

/* The entry with path p among e[0..n), sorted. */
static const struct snap_tree_entry *
snap_tree_search(const struct snap_tree_entry *e, size_t n, const char *p)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = snap_tree_path_cmp(e[mid].path, p);

		if (c == 0)
			return &e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct snap_tree_entry *
snap_tree_find(const struct snap_tree *t, const char *path)
{
	return snap_tree_search(t->e, t->n, path);
}

/* Path, order and parent of entry i (t->e[0..i) parsed already). */
static int
snap_tree_place(struct snap_tree_cur *c, struct snap_tree *t, size_t i)
{
	struct snap_tree_entry *e = &t->e[i];
	const struct snap_tree_entry *parent;
	size_t n = strlen(e->path);
	char *sl;

	if (i == 0) {
		if (n != 0 || e->type != SNAP_TREE_DIR)
			return snap_tree_fail(c,
			    "the first entry must be the "
			    "root directory (empty path)");
		return 0;
	}
	if (n > SNAP_TREE_PATH_MAX || !snap_tree_path_ok(e->path, n))
		return snap_tree_fail(c,
		    "path must be relative, without empty, '.' or '..' "
		    "components");
	if (snap_tree_path_cmp(t->e[i - 1].path, e->path) >= 0)
		return snap_tree_fail(c, "paths must strictly increase");
	sl = strrchr(e->path, '/');
	if (sl == NULL) {
		parent = &t->e[0];
	} else {
		*sl = '\0';
		parent = snap_tree_search(t->e, i, e->path);
		*sl = '/';
	}
	if (parent == NULL || parent->type != SNAP_TREE_DIR)
		return snap_tree_fail(c, "parent is not a directory entry");
	return 0;
}

static int
snap_tree_xattrs(struct snap_tree_cur *c, struct snap_tree_entry *e)
{
	uint64_t nx, nl, vl;
	int r;

	if ((r = snap_tree_get(c, 2, &nx)) != 0)
		return r;
	if (nx > SNAP_TREE_XATTRS_MAX)
		return snap_tree_fail(c, "too many xattrs");
	/* Each takes 5 bytes or more: bounded by the input before alloc. */
	if (nx * 5 > c->len - c->pos)
		return snap_tree_fail(c, "truncated");
	e->xattrs = xcalloc(nx ? nx : 1, sizeof(*e->xattrs));
	for (uint64_t k = 0; k < nx; k++) {
		struct snap_tree_xattr *x = &e->xattrs[k];

		if ((r = snap_tree_get(c, 1, &nl)) != 0)
			return r;
		if (nl == 0)
			return snap_tree_fail(c, "empty xattr name");
		if ((r = snap_tree_str(c, nl, &x->name)) != 0)
			return r;
		e->nxattrs++;
		if (k > 0 && strcmp(e->xattrs[k - 1].name, x->name) >= 0)
			return snap_tree_fail(c, "xattr names must increase");
		if ((r = snap_tree_get(c, 4, &vl)) != 0)
			return r;
		if (vl > SNAP_TREE_XVALUE_MAX || vl > c->len - c->pos)
			return snap_tree_fail(c, "xattr value too long");
		x->len = (uint32_t)vl;
		if (vl > 0) {
			x->value = xmalloc(vl);
			memcpy(x->value, c->p + c->pos, vl);
			c->pos += vl;
		}
	}
	return 0;
}

/* The fields after the path. */
static int
snap_tree_body(
    struct snap_tree_cur *c, struct snap_tree *t, struct snap_tree_entry *e)
{
	uint64_t v, tl;
	int r;

	if (snap_tree_has_meta(e->type)) {
		if ((r = snap_tree_get(c, 4, &v)) != 0)
			return r;
		if (v > 07777)
			return snap_tree_fail(c, "mode beyond 07777");
		e->mode = (uint32_t)v;
		if ((r = snap_tree_get(c, 4, &v)) != 0)
			return r;
		e->uid = (uint32_t)v;
		if ((r = snap_tree_get(c, 4, &v)) != 0)
			return r;
		e->gid = (uint32_t)v;
		if ((r = snap_tree_get(c, 8, &v)) != 0)
			return r;
		e->mtime_ns = (int64_t)v;
	}
	if (e->type == SNAP_TREE_FILE) {
		if ((r = snap_tree_get(c, 8, &e->size)) != 0 ||
		    (r = snap_tree_get(c, 8, &e->nchunks)) != 0 ||
		    (r = snap_tree_get(c, 8, &v)) != 0 ||
		    (r = snap_tree_get(c, 8, &e->ino)) != 0)
			return r;
		e->ctime_ns = (int64_t)v;
		if (e->size > SNAP_SIZE_MAX || e->nchunks > e->size ||
		    e->nchunks <
		        e->size / SNAP_CDC_MAX + (e->size % SNAP_CDC_MAX != 0))
			return snap_tree_fail(c,
			    "%" PRIu64 " chunks cannot hold %" PRIu64 " bytes",
			    e->nchunks, e->size);
		if (t->size + e->size > SNAP_SIZE_MAX)
			return snap_tree_fail(c, "tree larger than 1 PiB");
		e->first = t->nchunks;
		t->nchunks += e->nchunks;
		t->size += e->size;
	}
	if (e->type == SNAP_TREE_SYMLINK || e->type == SNAP_TREE_HARDLINK) {
		if ((r = snap_tree_get(c, 2, &tl)) != 0)
			return r;
		if (tl == 0 || tl > SNAP_TREE_PATH_MAX)
			return snap_tree_fail(c, "bad link target length");
		if ((r = snap_tree_str(c, tl, &e->target)) != 0)
			return r;
	}
	if (e->type == SNAP_TREE_HARDLINK) {
		const struct snap_tree_entry *f =
		    snap_tree_search(t->e, (size_t)(e - t->e), e->target);

		if (f == NULL || f->type != SNAP_TREE_FILE)
			return snap_tree_fail(
			    c, "hardlink to something not an earlier file");
	}
	if (snap_tree_has_meta(e->type))
		return snap_tree_xattrs(c, e);
	return 0;
}

static int
snap_tree_entry(struct snap_tree_cur *c, struct snap_tree *t)
{
	struct snap_tree_entry *e = &t->e[t->n];
	uint64_t type, pl;
	int r;

	memset(e, 0, sizeof(*e));
	if ((r = snap_tree_get(c, 1, &type)) != 0)
		return r;
	if (type < SNAP_TREE_DIR || type > SNAP_TREE_HARDLINK)
		return snap_tree_fail(c, "unknown type %" PRIu64, type);
	e->type = (enum snap_tree_type)type;
	if ((r = snap_tree_get(c, 2, &pl)) != 0)
		return r;
	if ((r = snap_tree_str(c, pl, &e->path)) != 0)
		return r;
	t->n++; /* owned by t from here: fini frees what was read */
	if ((r = snap_tree_place(c, t, t->n - 1)) != 0)
		return r;
	return snap_tree_body(c, t, e);
}

int
snap_tree_parse(
    const uint8_t *p, size_t len, struct snap_tree *t, char *err, size_t errlen)
{
	struct snap_tree_cur c = {
		.p = p, .len = len, .err = err, .errlen = errlen
	};
	uint64_t n;
	int r;

	memset(t, 0, sizeof(*t));
	if (errlen > 0)
		err[0] = '\0';
	if (len < 16 || memcmp(p, SNAP_TREE_MAGIC, 8) != 0) {
		r = snap_tree_fail(&c, "not a tree index");
		goto fail;
	}
	c.pos = 8;
	if ((r = snap_tree_get(&c, 8, &n)) != 0)
		goto fail;
	/* An entry takes 3 bytes or more: bounded by the input. */
	if (n == 0 || n > SNAP_TREE_ENTRIES_MAX || n > (len - c.pos) / 3) {
		r = snap_tree_fail(&c, "bad entry count %" PRIu64, n);
		goto fail;
	}
	t->e = xcalloc(n, sizeof(*t->e));
	for (c.entry = 0; c.entry < n; c.entry++)
		if ((r = snap_tree_entry(&c, t)) != 0)
			goto fail;
	if (c.pos != len) {
		r = snap_tree_fail(&c, "data after the last entry");
		goto fail;
	}
	return 0;
fail:
	snap_tree_fini(t);
	return r;
}

int
snap_tree_check(const struct snap_tree *t, const struct snap_manifest *m,
    char *err, size_t errlen)
{
	if (m->kind != SNAP_KIND_TREE || m->nchunks - m->nindex != t->nchunks ||
	    m->size != t->size) {
		snprintf(err, errlen,
		    "tree index lists %" PRIu64 " chunks and %" PRIu64
		    " bytes, the manifest %" PRIu64 " and %" PRIu64,
		    t->nchunks, t->size, m->nchunks - m->nindex, m->size);
		return -EBADMSG;
	}
	return 0;
}

const struct snap_tree_entry *
snap_tree_owner(const struct snap_tree *t, uint64_t k, uint64_t *nth)
{
	/* Linear: only damage reports ask, and rarely. */
	for (size_t i = 0; i < t->n; i++) {
		const struct snap_tree_entry *e = &t->e[i];

		if (e->type == SNAP_TREE_FILE && e->first <= k &&
		    k - e->first < e->nchunks) {
			*nth = k - e->first;
			return e;
		}
	}
	return NULL;
}
