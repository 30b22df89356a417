/*
 * Unit tests for snap_tree.c, the tree index codec: a tree with every
 * entry type round-trips byte for byte, with each file's first data chunk
 * and the totals computed; every prefix of a valid index is refused; and
 * one test per rule of snap_tree.h (relative paths without "." or "..",
 * strict order, parents that are directories, hardlinks to earlier
 * files, bounded modes and chunk counts, sorted xattrs, no trailing
 * bytes), each refused with its reason. (A NUL inside a path is the
 * fuzz corpus's: the encoder here takes C strings.)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/util.h"
#include "runner.h"
#include "snap/snap_cdc.h"
#include "snap/snap_tree.h"

static struct snap_tree_entry *
test_tree_add(struct snap_tree *t, enum snap_tree_type type, const char *path)
{
	struct snap_tree_entry *e;

	t->e = xrealloc(t->e, (t->n + 1) * sizeof(*t->e));
	e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->path = xstrdup(path);
	e->mode = type == SNAP_TREE_DIR ? 0755 : 0644;
	e->uid = 1000;
	e->gid = 100;
	e->mtime_ns = 1796589000123456789ll;
	return e;
}

static void
test_tree_xattr(struct snap_tree_entry *e, const char *name, const char *v)
{
	struct snap_tree_xattr *x;

	e->xattrs = xrealloc(e->xattrs, (e->nxattrs + 1) * sizeof(*x));
	x = &e->xattrs[e->nxattrs++];
	x->name = xstrdup(name);
	x->len = (uint32_t)strlen(v);
	x->value = x->len ? (uint8_t *)xstrdup(v) : NULL;
}

/* root, a/, a/f (2 chunks), a/g (empty), b -> a/f (hardlink), l ->
 * "../x" (symlink), "z\n -" (1 chunk). */
static void
test_tree_make(struct snap_tree *t)
{
	struct snap_tree_entry *e;

	memset(t, 0, sizeof(*t));
	test_tree_add(t, SNAP_TREE_DIR, "");
	test_tree_add(t, SNAP_TREE_DIR, "a");
	e = test_tree_add(t, SNAP_TREE_FILE, "a/f");
	e->size = 100000;
	e->nchunks = 2;
	e->ctime_ns = -1;
	e->ino = UINT64_MAX;
	test_tree_xattr(e, "user.a", "1");
	test_tree_xattr(e, "user.b", "");
	test_tree_add(t, SNAP_TREE_FILE, "a/g");
	e = test_tree_add(t, SNAP_TREE_HARDLINK, "b");
	e->target = xstrdup("a/f");
	e = test_tree_add(t, SNAP_TREE_SYMLINK, "l");
	e->target = xstrdup("../x");
	e->mtime_ns = -5; /* before 1970 */
	e = test_tree_add(t, SNAP_TREE_FILE, "z\n -");
	e->size = 7;
	e->nchunks = 1;
}

static void
test_tree_round_trip(void)
{
	struct snap_tree t, back;
	struct buf a, b;
	char err[256];
	uint64_t nth = 99;

	test_tree_make(&t);
	buf_init(&a);
	buf_init(&b);
	snap_tree_encode(&t, &a);
	T_EQ_INT(snap_tree_parse(
	             (const uint8_t *)a.data, a.len, &back, err, sizeof(err)),
	    0);
	T_EQ_INT(back.n, 7);
	T_EQ_INT(back.nchunks, 3);
	T_EQ_INT(back.size, 100007);
	T_EQ_INT(back.e[2].first, 0);
	T_EQ_INT(back.e[6].first, 2);
	T_EQ_STR(back.e[4].target, "a/f");
	T_EQ_INT(back.e[5].mtime_ns, -5);
	T_EQ_INT(back.e[2].nxattrs, 2);
	T_EQ_INT(back.e[2].xattrs[1].len, 0);
	T_EQ_INT(back.e[2].ctime_ns, -1);
	T_ASSERT(back.e[2].ino == UINT64_MAX);
	snap_tree_encode(&back, &b);
	T_EQ_INT(b.len, a.len);
	T_ASSERT(memcmp(a.data, b.data, a.len) == 0);
	T_ASSERT(snap_tree_find(&back, "a/g") == &back.e[3]);
	T_ASSERT(snap_tree_find(&back, "a/h") == NULL);
	T_ASSERT(snap_tree_owner(&back, 1, &nth) == &back.e[2]);
	T_EQ_INT(nth, 1);
	T_ASSERT(snap_tree_owner(&back, 2, &nth) == &back.e[6]);
	T_EQ_INT(nth, 0);
	T_ASSERT(snap_tree_owner(&back, 3, &nth) == NULL);

	/* Every proper prefix is refused, cleanly. */
	for (size_t n = 0; n < a.len; n++) {
		struct snap_tree x;

		T_EQ_INT(snap_tree_parse(
		             (const uint8_t *)a.data, n, &x, err, sizeof(err)),
		    -EBADMSG);
		T_ASSERT(x.e == NULL && x.n == 0);
	}
	buf_fini(&a);
	buf_fini(&b);
	snap_tree_fini(&t);
	snap_tree_fini(&back);
}

/* Encode t (finis it) and want the parser to refuse it with msg. */
static void
test_tree_refused(struct snap_tree *t, const char *msg, int line)
{
	struct snap_tree x;
	struct buf b;
	char err[256];

	buf_init(&b);
	snap_tree_encode(t, &b);
	snap_tree_fini(t);
	if (snap_tree_parse((const uint8_t *)b.data, b.len, &x, err,
	        sizeof(err)) != -EBADMSG ||
	    strstr(err, msg) == NULL)
		test_fail(__FILE__, line, "want '%s', got '%s'", msg, err);
	T_ASSERT(x.e == NULL);
	buf_fini(&b);
}

#define REFUSE(t, msg) test_tree_refused(t, msg, __LINE__)

/* A fresh valid tree with entry i's path replaced. */
static struct snap_tree *
test_tree_path(struct snap_tree *t, size_t i, const char *path)
{
	test_tree_make(t);
	free(t->e[i].path);
	t->e[i].path = xstrdup(path);
	return t;
}

static void
test_tree_rejects(void)
{
	struct snap_tree t;
	struct buf b;
	char err[256];

	REFUSE(test_tree_path(&t, 6, "/z"), "relative");
	REFUSE(test_tree_path(&t, 6, "z/.."), "relative");
	REFUSE(test_tree_path(&t, 3, "a/../g"), "relative");
	REFUSE(test_tree_path(&t, 3, "a/./g"), "relative");
	REFUSE(test_tree_path(&t, 3, "a//g"), "relative");
	REFUSE(test_tree_path(&t, 3, "a/g/"), "relative");
	REFUSE(test_tree_path(&t, 6, ".."), "relative");
	REFUSE(test_tree_path(&t, 3, "a/f"), "strictly increase");
	REFUSE(test_tree_path(&t, 3, "a/e"), "strictly increase");
	REFUSE(test_tree_path(&t, 0, "r"), "root directory");
	REFUSE(test_tree_path(&t, 6, "m/z"), "parent");   /* no m */
	REFUSE(test_tree_path(&t, 6, "l/z"), "parent");   /* symlink */
	REFUSE(test_tree_path(&t, 5, "b/z"), "parent");   /* hardlink */
	REFUSE(test_tree_path(&t, 3, "a/f/g"), "parent"); /* file */

	test_tree_make(&t);
	free(t.e[4].target);
	t.e[4].target = xstrdup("a"); /* a directory */
	REFUSE(&t, "earlier file");
	test_tree_make(&t);
	free(t.e[4].target);
	t.e[4].target = xstrdup("z\n -"); /* later */
	REFUSE(&t, "earlier file");
	test_tree_make(&t);
	free(t.e[4].target);
	t.e[4].target = xstrdup("../etc/passwd");
	REFUSE(&t, "earlier file");
	test_tree_make(&t);
	t.e[2].mode = 010644; /* type bits */
	REFUSE(&t, "07777");
	test_tree_make(&t);
	t.e[2].nchunks = 0;
	REFUSE(&t, "cannot hold");
	test_tree_make(&t);
	t.e[6].nchunks = 8; /* more chunks than bytes */
	REFUSE(&t, "cannot hold");
	test_tree_make(&t);
	t.e[2].size = 3 * (uint64_t)SNAP_CDC_MAX; /* 2 chunks too few */
	REFUSE(&t, "cannot hold");
	test_tree_make(&t);
	t.e[2].nchunks = 0; /* an empty file with a chunk */
	t.e[3].nchunks = 1;
	REFUSE(&t, "cannot hold");
	test_tree_make(&t);
	free(t.e[2].xattrs[1].name);
	t.e[2].xattrs[1].name = xstrdup("user.a");
	REFUSE(&t, "xattr names must increase");
	test_tree_make(&t);
	free(t.e[2].xattrs[1].name);
	t.e[2].xattrs[1].name = xstrdup("");
	REFUSE(&t, "empty xattr name");
	test_tree_make(&t);
	t.e[5].type = 9;
	REFUSE(&t, "unknown type");

	/* Framing: magic, counts, trailing bytes, a NUL in a path. */
	test_tree_make(&t);
	buf_init(&b);
	snap_tree_encode(&t, &b);
	snap_tree_fini(&t);
	{
		struct snap_tree x;
		struct buf c;

		b.data[0] = 'X';
		T_EQ_INT(snap_tree_parse((const uint8_t *)b.data, b.len, &x,
		             err, sizeof(err)),
		    -EBADMSG);
		T_ASSERT(strstr(err, "not a tree index") != NULL);
		b.data[0] = 'H';
		b.data[8] = 8; /* one entry more than there is */
		T_EQ_INT(snap_tree_parse((const uint8_t *)b.data, b.len, &x,
		             err, sizeof(err)),
		    -EBADMSG);
		b.data[8] = 0;
		b.data[14] = 1; /* a count beyond any input */
		T_EQ_INT(snap_tree_parse((const uint8_t *)b.data, b.len, &x,
		             err, sizeof(err)),
		    -EBADMSG);
		T_ASSERT(strstr(err, "entry count") != NULL);
		b.data[14] = 0;
		b.data[8] = 7;
		buf_init(&c);
		buf_append(&c, b.data, b.len);
		buf_putc(&c, 0);
		T_EQ_INT(snap_tree_parse((const uint8_t *)c.data, c.len, &x,
		             err, sizeof(err)),
		    -EBADMSG);
		T_ASSERT(strstr(err, "data after") != NULL);
		buf_fini(&c);
		T_EQ_INT(snap_tree_parse((const uint8_t *)b.data, b.len, &x,
		             err, sizeof(err)),
		    0);
		snap_tree_fini(&x);
	}
	buf_fini(&b);
}

static const struct test tests[] = {
	TEST(test_tree_round_trip),
	TEST(test_tree_rejects),
};

TEST_MAIN(tests)
