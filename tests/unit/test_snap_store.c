/*
 * Unit tests for snap_store.c: store creation and format check, chunk
 * put/get with dedup (on disk and inside a pending batch), every read
 * proven (a chunk file with another chunk's frame is refused), the
 * publish/list/find/delete of manifests, and the lock contract gc relies
 * on (shared for create, exclusive for gc, a bounded wait). Each test
 * works in its own mkdtemp() directory under /tmp.
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/util.h"
#include "runner.h"
#include "snap/snap_store.h"

static char test_st_root[64];

static const char *
test_st_tmpdir(void)
{
	snprintf(test_st_root, sizeof(test_st_root), "/tmp/haven-st-XXXXXX");
	T_ASSERT(mkdtemp(test_st_root) != NULL);
	return test_st_root;
}

static int
test_st_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static void
test_st_cleanup(void)
{
	T_EQ_INT(nftw(test_st_root, test_st_rm, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static void
test_store_open(void)
{
	const char *root = test_st_tmpdir();
	char *store = xasprintf("%s/s", root), *mark;
	struct snap_store *s;
	FILE *f;

	T_EQ_INT(snap_store_open(store, false, &s), -ENOENT);
	T_EQ_INT(snap_store_open(store, true, &s), 0);
	snap_store_close(s);
	T_EQ_INT(snap_store_open(store, false, &s), 0);
	snap_store_close(s);
	/* A store of another format is refused, not guessed at. */
	mark = xasprintf("%s/haven-snap-store", store);
	T_ASSERT((f = fopen(mark, "w")) != NULL);
	fputs("haven-snap-store 2\n", f);
	fclose(f);
	T_EQ_INT(snap_store_open(store, false, &s), -EINVAL);
	T_EQ_INT(snap_store_open(store, true, &s), -EINVAL);
	free(mark);
	free(store);
	test_st_cleanup();
}

static void
test_store_chunks(void)
{
	const char *root = test_st_tmpdir();
	struct snap_store *s;
	struct snap_id a, b;
	uint8_t da[5000], db[3000], out[8192];
	const char *why;
	uint64_t stored = 0;
	size_t len;
	char *pa, *pb;

	memset(da, 'a', sizeof(da));
	memset(db, 'b', sizeof(db));
	snap_id_of(da, sizeof(da), &a);
	snap_id_of(db, sizeof(db), &b);
	T_EQ_INT(snap_store_open(root, true, &s), 0);
	T_EQ_INT(snap_store_chunk_put(s, &a, da, sizeof(da), 3, &stored), 1);
	T_ASSERT(stored > 32 && stored < sizeof(da)); /* compressed */
	/* Pending in the batch: a second put is a dedup, not a rewrite. */
	T_EQ_INT(snap_store_chunk_put(s, &a, da, sizeof(da), 3, &stored), 0);
	T_EQ_INT(snap_store_chunk_has(s, &a), 0);
	T_EQ_INT(snap_store_chunk_sync(s), 0);
	T_EQ_INT(snap_store_chunk_has(s, &a), 1);
	T_EQ_INT(snap_store_chunk_put(s, &a, da, sizeof(da), 0, &stored), 0);
	T_EQ_INT(snap_store_chunk_put(s, &b, db, sizeof(db), 0, &stored), 1);
	T_EQ_INT(stored, sizeof(db) + 32);
	T_EQ_INT(snap_store_chunk_sync(s), 0);

	T_EQ_INT(snap_store_chunk_get(s, &a, out, sizeof(out), &len, &why), 0);
	T_EQ_INT(len, sizeof(da));
	T_ASSERT(memcmp(out, da, len) == 0);
	/* A sound frame under the wrong name: SHA-256 catches it. */
	pa = snap_store_chunk_path(s, &a);
	pb = snap_store_chunk_path(s, &b);
	T_EQ_INT(rename(pb, pa), 0);
	T_EQ_INT(snap_store_chunk_get(s, &a, out, sizeof(out), &len, &why),
	    -EBADMSG);
	T_EQ_STR(why, "content does not match its ID");
	T_EQ_INT(
	    snap_store_chunk_get(s, &b, out, sizeof(out), &len, &why), -ENOENT);
	/* A plaintext larger than the caller's room is damage, not overflow */
	T_EQ_INT(snap_store_chunk_get(s, &a, out, 100, &len, &why), -EBADMSG);
	free(pa);
	free(pb);
	snap_store_close(s);
	test_st_cleanup();
}

static void
test_store_manifests(void)
{
	const char *root = test_st_tmpdir();
	struct snap_manifest m = { 0 }, back;
	struct snap_store *s;
	struct snap_ref *v, r;
	char err[256];
	size_t n;

	T_EQ_INT(snap_store_open(root, true, &s), 0);
	snprintf(m.id, sizeof(m.id), "id-1");
	memset(m.generation, 'a', SNAP_GEN_HEX);
	m.seq = 1;
	snprintf(m.volume, sizeof(m.volume), "vol");
	m.chunk_size = 65536;
	snap_manifest_root(&m, &m.root);
	T_EQ_INT(snap_store_manifest_publish(s, &m), 0);
	snprintf(m.volume, sizeof(m.volume), "other");
	T_EQ_INT(snap_store_manifest_publish(s, &m), 0);
	snprintf(m.id, sizeof(m.id), "id-0");
	T_EQ_INT(snap_store_manifest_publish(s, &m), 0);

	T_EQ_INT(snap_store_list(s, NULL, &v, &n), 0);
	T_EQ_INT(n, 3);
	T_EQ_STR(v[0].volume, "other");
	T_EQ_STR(v[0].id, "id-0");
	T_EQ_STR(v[2].volume, "vol");
	free(v);
	T_EQ_INT(snap_store_list(s, "../..", &v, &n), -EINVAL);
	T_EQ_INT(snap_store_find(s, "id-1", &r), -EEXIST);
	T_EQ_INT(snap_store_find(s, "vol/id-1", &r), 0);
	T_EQ_INT(snap_store_find(s, "id-0", &r), 0);
	T_EQ_STR(r.volume, "other");
	T_EQ_INT(snap_store_find(s, "../id-0", &r), -EINVAL);
	T_EQ_INT(snap_store_find(s, "nope", &r), -ENOENT);
	T_EQ_INT(snap_store_manifest_load(s, &r, &back, err, sizeof(err)), 0);
	T_EQ_STR(back.id, "id-0");
	snap_manifest_fini(&back);
	T_EQ_INT(snap_store_manifest_delete(s, &r), 0);
	T_EQ_INT(snap_store_find(s, "id-0", &r), -ENOENT);
	T_EQ_INT(snap_store_find(s, "id-1", &r), -EEXIST);
	snap_store_close(s);
	test_st_cleanup();
}

static void
test_store_lock(void)
{
	const char *root = test_st_tmpdir();
	struct snap_store *c1, *c2, *gc;
	uint64_t t0;

	T_EQ_INT(snap_store_open(root, true, &c1), 0);
	T_EQ_INT(snap_store_open(root, false, &c2), 0);
	T_EQ_INT(snap_store_open(root, false, &gc), 0);
	/* Two creates at once, and gc waits for both. */
	T_EQ_INT(snap_store_lock(c1, false, 0), 0);
	T_EQ_INT(snap_store_lock(c2, false, 0), 0);
	t0 = util_mono_ms();
	T_EQ_INT(snap_store_lock(gc, true, 100), -EWOULDBLOCK);
	T_ASSERT(util_mono_ms() - t0 >= 100);
	snap_store_unlock(c1);
	T_EQ_INT(snap_store_lock(gc, true, 0), -EWOULDBLOCK);
	snap_store_unlock(c2);
	T_EQ_INT(snap_store_lock(gc, true, 0), 0);
	/* And a create waits for gc. */
	T_EQ_INT(snap_store_lock(c1, false, 50), -EWOULDBLOCK);
	snap_store_close(gc); /* closing drops the lock */
	T_EQ_INT(snap_store_lock(c1, false, 0), 0);
	snap_store_close(c1);
	snap_store_close(c2);
	test_st_cleanup();
}

static const struct test tests[] = {
	TEST(test_store_open),
	TEST(test_store_chunks),
	TEST(test_store_manifests),
	TEST(test_store_lock),
};

TEST_MAIN(tests)
