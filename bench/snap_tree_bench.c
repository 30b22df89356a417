/*
 * snap_tree_bench.c - the haven half of bench/snap_tree.sh: one process
 * that holds an inotify watcher (snap_watch.h) on a tree, as the snap
 * plane does in continuous mode, and times incremental tree creates two
 * ways: from the watcher's dirty set (store A) and by a full walk that
 * stats every path and reuses unchanged files' chunks by metadata (store
 * B). Both start from a full snapshot of the same tree.
 *
 * Driven on stdin/stdout: it prints "ready" after the first snapshots;
 * each line "go" then takes the dirty set, times both creates and prints
 *	dirty_s=S walk_s=S paths=N detect=D same=0|1
 * where same says both indexes and chunk lists are identical (the dirty
 * set is not allowed to be wrong to be fast).
 *
 * Usage: snap_tree_bench TREE STORE_A STORE_B
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/ev.h"
#include "snap/snap.h"
#include "snap/snap_tree_io.h"
#include "snap/snap_watch.h"

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
bench_create(struct snap_store *s, const char *tree, const struct snap_dirty *d,
    struct snap_manifest *m, struct snap_create_stats *st)
{
	struct snap_create_opts o = { .volume = "t", .path = tree, .dirty = d };
	char err[512];

	if (snap_create(s, &o, m, st, err, sizeof(err)) != 0) {
		fprintf(stderr, "snap_tree_bench: create: %s\n", err);
		exit(1);
	}
}

static void
bench_index(struct snap_store *s, const struct snap_manifest *m, struct buf *b)
{
	struct snap_tree t;
	char err[512];

	if (snap_tree_load(s, m, &t, err, sizeof(err)) != 0) {
		fprintf(stderr, "snap_tree_bench: load: %s\n", err);
		exit(1);
	}
	buf_reset(b);
	snap_tree_encode(&t, b);
	snap_tree_fini(&t);
}

int
main(int argc, char **argv)
{
	struct snap_store *a, *b;
	struct snap_manifest ma, mb;
	struct snap_create_stats sa, sb;
	struct ev_loop *loop;
	struct snap_watch *w;
	struct snap_dirty d;
	struct buf ia, ib;
	char line[64];

	if (argc != 4) {
		fprintf(
		    stderr, "usage: snap_tree_bench TREE STORE_A STORE_B\n");
		return 2;
	}
	if (snap_store_open(argv[2], true, &a) != 0 ||
	    snap_store_open(argv[3], true, &b) != 0) {
		fprintf(stderr, "snap_tree_bench: cannot open the stores\n");
		return 1;
	}
	loop = ev_loop_new();
	w = snap_watch_new(loop, argv[1], 0, 0);
	snap_watch_take(w, &d); /* unknown: the watcher just started */
	bench_create(a, argv[1], &d, &ma, &sa);
	snap_dirty_fini(&d);
	snap_watch_base(w, ma.id);
	snap_manifest_fini(&ma);
	bench_create(b, argv[1], NULL, &mb, &sb);
	snap_manifest_fini(&mb);
	buf_init(&ia);
	buf_init(&ib);
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		double t0, t1, t2;
		bool same;

		if (strncmp(line, "go", 2) != 0)
			break;
		t0 = bench_now();
		snap_watch_take(w, &d);
		bench_create(a, argv[1], &d, &ma, &sa);
		t1 = bench_now();
		bench_create(b, argv[1], NULL, &mb, &sb);
		t2 = bench_now();
		snap_watch_base(w, ma.id);
		bench_index(a, &ma, &ia);
		bench_index(b, &mb, &ib);
		same = ia.len == ib.len &&
		    memcmp(ia.data, ib.data, ia.len) == 0 &&
		    ma.nchunks == mb.nchunks &&
		    memcmp(ma.chunks, mb.chunks,
		        ma.nchunks * sizeof(*ma.chunks)) == 0;
		printf("dirty_s=%.4f walk_s=%.4f paths=%zu detect=%s same=%d\n",
		    t1 - t0, t2 - t1, d.n, sa.detect, same);
		fflush(stdout);
		snap_dirty_fini(&d);
		snap_manifest_fini(&ma);
		snap_manifest_fini(&mb);
	}
	buf_fini(&ia);
	buf_fini(&ib);
	snap_watch_free(w);
	ev_loop_free(loop);
	snap_store_close(a);
	snap_store_close(b);
	return 0;
}
