/*
 * Unit tests for snap_manifest.c: format and parse round trip, the root
 * hash (it changes with any chunk, the size or the chunk size), one test
 * per way a manifest can be wrong (each reported with its line), counts
 * that lie, and the chunk-range diff; the tree kind (version 3): its round
 * trip, its own root domain, and what it refuses.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/buf.h"
#include "lib/util.h"
#include "runner.h"
#include "snap/snap_manifest.h"

#define K64 65536u

/* A manifest of n chunks over size bytes; chunk i is zero when i % 3 == 1. */
static void
test_mf_make(struct snap_manifest *m, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "20261206T203000.000001Z-0000abcd");
	snprintf(m->parent, sizeof(m->parent), "20261206T200000.5Z-1");
	memset(m->generation, 'e', SNAP_GEN_HEX);
	m->seq = 7;
	m->nhistory = 1;
	memset(m->history[0].gen, 'c', SNAP_GEN_HEX);
	m->history[0].seq = 4;
	m->created = 1796589000;
	snprintf(m->volume, sizeof(m->volume), "vm-1.disk_0");
	m->size = size;
	m->chunk_size = K64;
	m->nchunks = size / K64 + (size % K64 != 0);
	m->chunks = xcalloc(m->nchunks + 1, sizeof(m->chunks[0]));
	for (uint64_t i = 0; i < m->nchunks; i++)
		if (i % 3 != 1)
			snap_id_of(&i, sizeof(i), &m->chunks[i]);
	snap_manifest_root(m, &m->root);
}

static char *
test_mf_text(const struct snap_manifest *m)
{
	struct buf b;

	buf_init(&b);
	snap_manifest_format(m, &b);
	return buf_steal(&b);
}

static void
test_mf_round_trip(void)
{
	struct snap_manifest m, back;
	char err[256], *t;

	test_mf_make(&m, 10 * K64 + 123);
	t = test_mf_text(&m);
	T_ASSERT(strncmp(t, "haven-snapshot 2\nid ", 20) == 0);
	T_ASSERT(strstr(t, "\nzero\n") != NULL);
	T_EQ_INT(snap_manifest_parse(t, strlen(t), &back, err, sizeof(err)), 0);
	T_EQ_STR(back.id, m.id);
	T_EQ_STR(back.parent, m.parent);
	T_EQ_STR(back.generation, m.generation);
	T_EQ_INT(back.seq, 7);
	T_EQ_INT(back.nhistory, 1);
	T_EQ_STR(back.history[0].gen, m.history[0].gen);
	T_EQ_INT(back.history[0].seq, 4);
	T_EQ_STR(back.volume, m.volume);
	T_EQ_INT(back.created, m.created);
	T_EQ_INT(back.size, m.size);
	T_EQ_INT(back.chunk_size, K64);
	T_EQ_INT(back.nchunks, 11);
	T_ASSERT(memcmp(back.chunks, m.chunks, 11 * SNAP_ID_LEN) == 0);
	T_ASSERT(snap_id_cmp(&back.root, &m.root) == 0);
	snap_manifest_fini(&back);
	free(t);

	/* No parent, and an empty image. */
	snap_manifest_fini(&m);
	test_mf_make(&m, 0);
	m.parent[0] = '\0';
	snap_manifest_root(&m, &m.root);
	t = test_mf_text(&m);
	T_ASSERT(strstr(t, "\nparent -\n") != NULL);
	T_EQ_INT(snap_manifest_parse(t, strlen(t), &back, err, sizeof(err)), 0);
	T_EQ_STR(back.parent, "");
	T_EQ_INT(back.nchunks, 0);
	snap_manifest_fini(&back);
	snap_manifest_fini(&m);
	free(t);
}

static void
test_mf_root_covers_everything(void)
{
	struct snap_manifest m;
	struct snap_id r0, r;

	test_mf_make(&m, 4 * K64);
	r0 = m.root;
	m.chunks[3].b[31] ^= 1;
	snap_manifest_root(&m, &r);
	T_ASSERT(snap_id_cmp(&r, &r0) != 0);
	m.chunks[3].b[31] ^= 1;
	m.size--;
	snap_manifest_root(&m, &r);
	T_ASSERT(snap_id_cmp(&r, &r0) != 0);
	m.size++;
	/* Swapping two chunks is a different image. */
	{
		struct snap_id t = m.chunks[0];

		m.chunks[0] = m.chunks[2];
		m.chunks[2] = t;
	}
	snap_manifest_root(&m, &r);
	T_ASSERT(snap_id_cmp(&r, &r0) != 0);
	snap_manifest_fini(&m);
}

/* Replace the first occurrence of from with to in t; parse; want line. */
static void
test_mf_bad(const char *from, const char *to, unsigned line, const char *msg)
{
	struct snap_manifest m, back;
	struct buf b;
	char err[256], want[32], *t, *at;

	test_mf_make(&m, 3 * K64);
	t = test_mf_text(&m);
	at = strstr(t, from);
	T_ASSERT(at != NULL);
	buf_init(&b);
	buf_append(&b, t, (size_t)(at - t));
	buf_puts(&b, to);
	buf_puts(&b, at + strlen(from));
	T_EQ_INT(snap_manifest_parse(b.data, b.len, &back, err, sizeof(err)),
	    -EBADMSG);
	T_ASSERT(back.chunks == NULL);
	snprintf(want, sizeof(want), "line %u: ", line);
	if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, msg))
		test_fail(__FILE__, __LINE__, "'%s' -> '%s': got \"%s\"", from,
		    to, err);
	buf_fini(&b);
	free(t);
	snap_manifest_fini(&m);
}

#define C32 "cccccccccccccccccccccccccccccccc"
#define E32 "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

static void
test_mf_rejects(void)
{
	test_mf_bad("haven-snapshot 2", "haven-snapshot 1", 1, "version");
	test_mf_bad("haven-snapshot 2", "restic", 1, "not a haven");
	test_mf_bad("seq 7", "seq 0", 5, "at least 1");
	test_mf_bad("seq 7", "seq 07", 5, "canonical");
	test_mf_bad("history 1", "history 33", 6, "range");
	test_mf_bad("history 1", "history 2", 8, "hex digits");
	test_mf_bad(" 4\n", " 04\n", 7, "bad seq");
	test_mf_bad(" 4\n", " 7\n", 7, "at or past seq");
	test_mf_bad(" 4\n", " x\n", 7, "bad seq");
	test_mf_bad("\n" C32, "\n" E32, 7, "repeats a generation");
	test_mf_bad("\ncccc", "\nCCCC", 7, "not lowercase hex");
	test_mf_bad("id 2026", "id ../2026", 2, "bad name");
	test_mf_bad("id 2026", "ident 2026", 2, "expected 'id");
	test_mf_bad("parent 2026", "parent .x", 3, "bad name");
	test_mf_bad("generation e", "generation E", 4, "lowercase hex");
	test_mf_bad("generation e", "generation ", 4, "hex digits");
	test_mf_bad("created 1796589000", "created -1", 8, "not a number");
	test_mf_bad("created 1796589000", "created 01", 8, "canonical");
	test_mf_bad(
	    "created 1796589000", "created 99999999999999999999", 8, "range");
	test_mf_bad(
	    "created 1796589000", "created 9223372036854775808", 8, "range");
	test_mf_bad("volume vm", "volume v/m", 9, "bad name");
	test_mf_bad("size 196608", "size 196609", 13, "cannot cover");
	test_mf_bad("size 196608", "size 1125899906842625", 10, "range");
	test_mf_bad("chunk_size 65536", "chunk_size 65537", 11, "power of two");
	test_mf_bad("chunk_size 65536", "chunk_size 8388608", 11, "range");
	test_mf_bad("ids sha256", "ids md5", 12, "want sha256 or keyed");
	test_mf_bad("ids sha256", "ids keyed-0123", 12, "want sha256 or keyed");
	test_mf_bad("chunks 3", "chunks 4", 13, "cannot cover");
	test_mf_bad("\nzero\n", "\nZERO\n", 15, "hex digits or 'zero'");
	test_mf_bad("\nzero\n",
	    "\n0000000000000000000000000000000000000000"
	    "000000000000000000000000\n",
	    15, "spelled 'zero'");
	test_mf_bad("root ", "root 0", 17, "hex digits");
	test_mf_bad("\nend\n", "\nend\nextra\n", 19, "after 'end'");
	test_mf_bad("\nend\n", "\nfin\n", 18, "expected 'end'");
	test_mf_bad("\nend\n", "\nend", 18, "not terminated");
	test_mf_bad("\nend\n", "\n", 18, "unexpected end");
}

/* Lineage: a chain in generation A, a promote to B at seq 3, a branch. */
static void
test_mf_lineage(void)
{
	struct snap_manifest a1, a2, a3, b4, b5, x4;
	char ga[SNAP_GEN_HEX + 1], gb[SNAP_GEN_HEX + 1], gx[SNAP_GEN_HEX + 1];

	memset(ga, 'a', SNAP_GEN_HEX);
	memset(gb, 'b', SNAP_GEN_HEX);
	memset(gx, 'd', SNAP_GEN_HEX);
	ga[SNAP_GEN_HEX] = gb[SNAP_GEN_HEX] = gx[SNAP_GEN_HEX] = '\0';
	memset(&a1, 0, sizeof(a1));
	snprintf(a1.id, sizeof(a1.id), "a1");
	snap_manifest_lineage(&a1, NULL, ga);
	T_EQ_INT(a1.seq, 1);
	T_EQ_STR(a1.parent, "");
	a2 = a1;
	snprintf(a2.id, sizeof(a2.id), "a2");
	snap_manifest_lineage(&a2, &a1, ga);
	a3 = a2;
	snprintf(a3.id, sizeof(a3.id), "a3");
	snap_manifest_lineage(&a3, &a2, ga);
	T_EQ_INT(a3.seq, 3);
	T_EQ_INT(a3.nhistory, 0);
	T_EQ_STR(a3.parent, "a2");
	/* Promote elsewhere: b4 forks from a3. */
	b4 = a3;
	snprintf(b4.id, sizeof(b4.id), "b4");
	snap_manifest_lineage(&b4, &a3, gb);
	T_EQ_INT(b4.seq, 4);
	T_EQ_INT(b4.nhistory, 1);
	T_EQ_STR(b4.history[0].gen, ga);
	T_EQ_INT(b4.history[0].seq, 3);
	b5 = b4;
	snap_manifest_lineage(&b5, &b4, gb);
	T_EQ_INT(b5.nhistory, 1);
	/* The old primary went on after a2 in its own line: x4 in A. */
	x4 = a3;
	snap_manifest_lineage(&x4, &a3, ga);
	T_EQ_INT(x4.seq, 4);
	T_ASSERT(snap_manifest_descends(&b5, ga, 1));
	T_ASSERT(snap_manifest_descends(&b5, ga, 3));
	T_ASSERT(!snap_manifest_descends(&b5, ga, 4)); /* x4: diverged */
	T_ASSERT(snap_manifest_descends(&b5, gb, 4));
	T_ASSERT(snap_manifest_descends(&b5, gb, 5));
	T_ASSERT(!snap_manifest_descends(&b5, gb, 6));
	T_ASSERT(!snap_manifest_descends(&b5, gx, 1));
	T_ASSERT(!snap_manifest_descends(&a3, gb, 4)); /* older side */
	T_ASSERT(snap_manifest_descends(&x4, ga, 3));
	/* History stays bounded: the oldest fork falls off. */
	for (int i = 0; i < SNAP_HISTORY_MAX + 2; i++) {
		struct snap_manifest c = b5;

		snprintf(gx, sizeof(gx), "%032x", i + 1);
		snap_manifest_lineage(&c, &b5, gx);
		b5 = c;
	}
	T_EQ_INT(b5.nhistory, SNAP_HISTORY_MAX);
	T_ASSERT(!snap_manifest_descends(&b5, ga, 1));
	T_EQ_INT(b5.history[SNAP_HISTORY_MAX - 1].seq, b5.seq - 1);
}

static void
test_mf_root_mismatch(void)
{
	struct snap_manifest m, back;
	char err[256], *t, *line;

	test_mf_make(&m, 3 * K64);
	t = test_mf_text(&m);
	/* A well-formed but different chunk ID: only the root catches it. */
	line = strstr(t, "zero\n") + 5;
	line[0] = line[0] == 'a' ? 'b' : 'a';
	T_EQ_INT(snap_manifest_parse(t, strlen(t), &back, err, sizeof(err)),
	    -EBADMSG);
	T_ASSERT(strstr(err, "root hash does not match") != NULL);
	free(t);
	snap_manifest_fini(&m);
}

struct test_mf_ranges {
	uint64_t v[16];
	int n;
};

static void
test_mf_range(uint64_t off, uint64_t len, void *arg)
{
	struct test_mf_ranges *r = arg;

	T_ASSERT(r->n < 8);
	r->v[2 * r->n] = off;
	r->v[2 * r->n + 1] = len;
	r->n++;
}

static void
test_mf_diff(void)
{
	struct snap_manifest a, b;
	struct test_mf_ranges r = { 0 };

	test_mf_make(&a, 10 * K64);
	test_mf_make(&b, 10 * K64);
	T_EQ_INT(snap_manifest_diff(&a, &b, test_mf_range, &r), 0);
	T_EQ_INT(r.n, 0);
	b.chunks[2].b[0] ^= 1;
	b.chunks[3].b[0] ^= 1;
	b.chunks[9].b[0] ^= 1;
	T_EQ_INT(snap_manifest_diff(&a, &b, test_mf_range, &r), 3);
	T_EQ_INT(r.n, 2);
	T_EQ_INT(r.v[0], 2 * K64);
	T_EQ_INT(r.v[1], 2 * K64);
	T_EQ_INT(r.v[2], 9 * K64);
	T_EQ_INT(r.v[3], K64);
	snap_manifest_fini(&b);

	/* b grew by half a chunk: its old last chunk and the new one. */
	test_mf_make(&b, 10 * K64 + K64 / 2);
	memset(&r, 0, sizeof(r));
	T_EQ_INT(snap_manifest_diff(&a, &b, test_mf_range, &r), 1);
	T_EQ_INT(r.n, 1);
	T_EQ_INT(r.v[0], 10 * K64);
	T_EQ_INT(r.v[1], K64 / 2);
	b.chunk_size = 2 * K64;
	T_EQ_INT(snap_manifest_diff(&a, &b, test_mf_range, &r), -EINVAL);
	snap_manifest_fini(&a);
	snap_manifest_fini(&b);
}

/* A tree: 2 index chunks and 3 data chunks over 100000 bytes. */
static void
test_mf_make_tree(struct snap_manifest *m)
{
	test_mf_make(m, 5 * K64);
	m->kind = SNAP_KIND_TREE;
	m->chunk_size = 4 * K64;
	m->nindex = 2;
	m->size = 100000;
	for (uint64_t i = 0; i < m->nchunks; i++)
		snap_id_of(&i, sizeof(i), &m->chunks[i]);
	snap_manifest_root(m, &m->root);
}

static void
test_mf_tree_bad(
    const char *from, const char *to, unsigned line, const char *msg)
{
	struct snap_manifest m, back;
	struct buf b;
	char err[256], want[32], *t, *at;

	test_mf_make_tree(&m);
	t = test_mf_text(&m);
	at = strstr(t, from);
	T_ASSERT(at != NULL);
	buf_init(&b);
	buf_append(&b, t, (size_t)(at - t));
	buf_puts(&b, to);
	buf_puts(&b, at + strlen(from));
	T_EQ_INT(snap_manifest_parse(b.data, b.len, &back, err, sizeof(err)),
	    -EBADMSG);
	snprintf(want, sizeof(want), "line %u: ", line);
	if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, msg))
		test_fail(__FILE__, __LINE__, "'%s' -> '%s': got \"%s\"", from,
		    to, err);
	buf_fini(&b);
	free(t);
	snap_manifest_fini(&m);
}

static void
test_mf_tree(void)
{
	struct snap_manifest m, back;
	struct snap_id root;
	char err[256], *t;

	test_mf_make_tree(&m);
	t = test_mf_text(&m);
	T_ASSERT(strncmp(t, "haven-snapshot 3\n", 17) == 0);
	T_ASSERT(
	    strstr(t,
	        "\nvolume vm-1.disk_0\nkind tree\nsize 100000\n"
	        "chunk_size 262144\nids sha256\nindex 2\nchunks 5\n") != NULL);
	T_EQ_INT(snap_manifest_parse(t, strlen(t), &back, err, sizeof(err)), 0);
	T_EQ_INT(back.kind, SNAP_KIND_TREE);
	T_EQ_INT(back.nindex, 2);
	T_EQ_INT(back.nchunks, 5);
	T_EQ_INT(back.size, 100000);
	T_ASSERT(memcmp(back.chunks, m.chunks, 5 * SNAP_ID_LEN) == 0);
	/* Same chunks as an image would hash to another root; so would
	 * another split between index and data. */
	m.kind = SNAP_KIND_IMAGE;
	snap_manifest_root(&m, &root);
	T_ASSERT(snap_id_cmp(&root, &back.root) != 0);
	m.kind = SNAP_KIND_TREE;
	m.nindex = 3;
	snap_manifest_root(&m, &root);
	T_ASSERT(snap_id_cmp(&root, &back.root) != 0);
	/* Trees do not diff chunk by chunk. */
	T_EQ_INT(snap_manifest_diff(&back, &back, NULL, NULL), -EINVAL);
	snap_manifest_fini(&back);
	snap_manifest_fini(&m);
	free(t);

	test_mf_tree_bad("kind tree", "kind image", 10, "is 'tree'");
	test_mf_tree_bad("kind tree\n", "", 10, "expected 'kind");
	test_mf_tree_bad("haven-snapshot 3", "haven-snapshot 4", 1, "version");
	test_mf_tree_bad(
	    "chunk_size 262144", "chunk_size 65536", 13, "a tree's is");
	test_mf_tree_bad("index 2", "index 0", 14, "one chunk or more");
	test_mf_tree_bad("index 2", "index 6", 15, "cannot hold");
	test_mf_tree_bad("size 100000", "size 2", 15, "cannot hold");
	test_mf_tree_bad("chunks 5", "chunks 1", 15, "cannot hold");
	test_mf_tree_bad("chunks 5\n", "chunks 5\nzero\n", 16, "no zero");
	test_mf_tree_bad("index 2\n", "", 14, "expected 'index");
}

static const struct test tests[] = {
	TEST(test_mf_round_trip),
	TEST(test_mf_root_covers_everything),
	TEST(test_mf_rejects),
	TEST(test_mf_root_mismatch),
	TEST(test_mf_lineage),
	TEST(test_mf_diff),
	TEST(test_mf_tree),
};

TEST_MAIN(tests)
