/*
 * Unit tests for snap_prune.c on a store in a mkdtemp() directory: the
 * policy applied to a volume's manifests, the creation time read from an
 * ID or else from the manifest, a held ID (a peer's newest acknowledged
 * snapshot) never deleted, a snapshot whose time cannot be read kept, and
 * --dry-run deleting nothing.
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "runner.h"
#include "snap/snap.h"

static char test_pr_root[64];

static int
test_pr_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static void
test_pr_publish(struct snap_store *s, const char *id, int64_t created)
{
	struct snap_manifest m = { 0 };

	snprintf(m.id, sizeof(m.id), "%s", id);
	memset(m.generation, 'a', SNAP_GEN_HEX);
	m.seq = 1;
	snprintf(m.volume, sizeof(m.volume), "vol");
	m.chunk_size = 65536;
	m.created = created;
	snap_manifest_root(&m, &m.root);
	T_EQ_INT(snap_store_manifest_publish(s, &m), 0);
}

struct test_pr_seen {
	char ids[8][SNAP_NAME_MAX + 1];
	bool kept[8];
	size_t n;
};

static void
test_pr_fate(const struct snap_ref *r, bool kept, void *arg)
{
	struct test_pr_seen *seen = arg;

	T_ASSERT(seen->n < 8);
	snprintf(seen->ids[seen->n], sizeof(seen->ids[0]), "%s", r->id);
	seen->kept[seen->n++] = kept;
}

/* Five snapshots; the fourth ("broken") has a manifest that cannot be
 * read, the fifth an ID that says no time. */
static struct snap_store *
test_pr_store(void)
{
	struct snap_store *s;
	char *bad;
	FILE *f;

	snprintf(test_pr_root, sizeof(test_pr_root), "/tmp/haven-pr-XXXXXX");
	T_ASSERT(mkdtemp(test_pr_root) != NULL);
	T_EQ_INT(snap_store_open(test_pr_root, true, &s), 0);
	test_pr_publish(s, "20261201T100000Z-a", 0);
	test_pr_publish(s, "20261201T110000Z-b", 0);
	test_pr_publish(s, "20261202T100000Z-c", 0);
	test_pr_publish(s, "manual-x", 1796947200); /* 2026-12-11 */
	bad = xasprintf("%s/snapshots/vol/broken", test_pr_root);
	T_ASSERT((f = fopen(bad, "w")) != NULL);
	fputs("not a manifest\n", f);
	fclose(f);
	free(bad);
	return s;
}

static void
test_prune_hold_and_unknown(void)
{
	struct snap_store *s = test_pr_store();
	struct snap_retain_policy p = { .last = 1 };
	const char *hold[] = { "20261201T100000Z-a" };
	struct test_pr_seen seen = { 0 };
	struct snap_ref *v;
	size_t del = 0, n;

	T_EQ_INT(snap_prune(s, "vol", &p, 1797000000, hold, 1, false,
	             test_pr_fate, &seen, &del),
	    0);
	T_EQ_INT(del, 2);
	T_EQ_INT(seen.n, 5);
	/* Sorted by ID: a, b, c, broken, manual-x. */
	T_EQ_STR(seen.ids[0], "20261201T100000Z-a");
	T_ASSERT(seen.kept[0]);  /* held */
	T_ASSERT(!seen.kept[1]); /* b */
	T_ASSERT(!seen.kept[2]); /* c */
	T_EQ_STR(seen.ids[3], "broken");
	T_ASSERT(seen.kept[3]); /* no time: kept */
	T_ASSERT(seen.kept[4]); /* the newest */
	T_EQ_INT(snap_store_list(s, "vol", &v, &n), 0);
	T_EQ_INT(n, 3);
	free(v);
	snap_store_close(s);
	T_EQ_INT(nftw(test_pr_root, test_pr_rm, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static void
test_prune_daily_from_manifest_time(void)
{
	struct snap_store *s = test_pr_store();
	struct snap_retain_policy p = { .daily = 2 };
	struct test_pr_seen seen = { 0 };
	struct snap_ref *v;
	size_t del = 0, n;

	/* Days: 12-01 (a, b), 12-02 (c), 12-11 (manual-x, from its
	 * manifest). The two newest days: manual-x and c. A dry run. */
	T_EQ_INT(snap_prune(s, "vol", &p, 1797000000, NULL, 0, true,
	             test_pr_fate, &seen, &del),
	    0);
	T_EQ_INT(del, 2);
	T_ASSERT(!seen.kept[0] && !seen.kept[1] && seen.kept[2]);
	T_ASSERT(seen.kept[3] && seen.kept[4]);
	T_EQ_INT(snap_store_list(s, "vol", &v, &n), 0);
	T_EQ_INT(n, 5); /* dry run: all there */
	free(v);
	snap_store_close(s);
	T_EQ_INT(nftw(test_pr_root, test_pr_rm, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static void
test_prune_orders_by_time(void)
{
	struct snap_store *s = test_pr_store();
	struct snap_retain_policy p = { .last = 1 };
	struct test_pr_seen seen = { 0 };
	size_t del = 0;

	/* A foreign ID that sorts first but is the newest (12-20). */
	test_pr_publish(s, "0-late", 1797724800);
	T_EQ_INT(snap_prune(s, "vol", &p, 1798000000, NULL, 0, true,
	             test_pr_fate, &seen, &del),
	    0);
	T_EQ_STR(seen.ids[0], "0-late");
	T_ASSERT(seen.kept[0]);
	T_ASSERT(!seen.kept[5]); /* manual-x: not the newest any more */
	T_EQ_INT(del, 4);        /* a, b, c, manual-x; broken is kept */
	snap_store_close(s);
	T_EQ_INT(nftw(test_pr_root, test_pr_rm, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static const struct test tests[] = {
	TEST(test_prune_orders_by_time),
	TEST(test_prune_hold_and_unknown),
	TEST(test_prune_daily_from_manifest_time),
};

TEST_MAIN(tests)
