/*
 * Unit tests for the inotify dirty sets of directory trees: the event
 * decoder (snap_watch_dec.c) on well-formed and broken records, the
 * dirty set (snap_dirty.c), the watcher on a real tree (snap_watch.c:
 * what each change marks, a directory made and filled before its watch
 * existed, a renamed directory followed, a queue overflow and the watch
 * limit voiding the set until the watcher starts over), and the promise the
 * dirty set rests on: a create from a dirty set (snap_tree_dirty.c) publishes
 * the same index and chunk list as a full walk of the same tree, after rounds
 * of creates, writes, deletes, renames of files and directories, chmods,
 * symlinks, hard links and xattrs.
 */
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/ev.h"
#include "lib/util.h"
#include "runner.h"
#include "snap/snap.h"
#include "snap/snap_dirty.h"
#include "snap/snap_tree_io.h"
#include "snap/snap_watch.h"

/* An inotify record as the kernel lays it out, name padded to pad. */
static void
test_watch_rec(
    struct buf *b, int32_t wd, uint32_t mask, const char *name, size_t pad)
{
	uint32_t h[4] = { (uint32_t)wd, mask, 7, (uint32_t)pad };
	size_t nl = name != NULL ? strlen(name) : 0;

	buf_append(b, h, sizeof(h));
	for (size_t i = 0; i < pad; i++) {
		char c = i < nl ? name[i] : '\0';

		buf_append(b, &c, 1);
	}
}

static void
test_watch_decode(void)
{
	struct snap_watch_ev ev;
	struct buf b;
	size_t off = 0;

	buf_init(&b);
	test_watch_rec(&b, 3, IN_CREATE | IN_ISDIR, "sub", 16);
	test_watch_rec(&b, 1, IN_ATTRIB, NULL, 0);
	T_EQ_INT(snap_watch_decode((uint8_t *)b.data, b.len, &off, &ev), 1);
	T_EQ_INT(ev.wd, 3);
	T_EQ_INT(ev.mask, IN_CREATE | IN_ISDIR);
	T_EQ_INT(ev.cookie, 7);
	T_EQ_INT(ev.namelen, 3);
	T_ASSERT(memcmp(ev.name, "sub", 3) == 0);
	T_EQ_INT(off, 32);
	T_EQ_INT(snap_watch_decode((uint8_t *)b.data, b.len, &off, &ev), 1);
	T_EQ_INT(ev.wd, 1);
	T_EQ_INT(ev.namelen, 0);
	T_ASSERT(ev.name == NULL);
	T_EQ_INT(snap_watch_decode((uint8_t *)b.data, b.len, &off, &ev), 0);
	/* Every truncation of the first record is refused. */
	for (size_t n = 1; n < 32; n++) {
		off = 0;
		T_EQ_INT(snap_watch_decode((uint8_t *)b.data, n, &off, &ev),
		    -EBADMSG);
		T_EQ_INT(off, 0);
	}
	buf_fini(&b);
}

static void
test_watch_decode_bad(void)
{
	const char *bad[] = { "a/b", ".", "..", "abcd" };
	size_t pad[] = { 8, 4, 4, 4 }; /* "abcd": no NUL in its 4 bytes */
	struct snap_watch_ev ev;
	struct buf b;
	size_t off;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_init(&b);
		test_watch_rec(&b, 1, IN_CREATE, bad[i], pad[i]);
		off = 0;
		T_EQ_INT(snap_watch_decode((uint8_t *)b.data, b.len, &off, &ev),
		    -EBADMSG);
		buf_fini(&b);
	}
	/* Bytes after the name's NUL must be NULs too. */
	buf_init(&b);
	test_watch_rec(&b, 1, IN_CREATE, "x", 8);
	b.data[16 + 4] = 'y';
	off = 0;
	T_EQ_INT(
	    snap_watch_decode((uint8_t *)b.data, b.len, &off, &ev), -EBADMSG);
	/* A length past the buffer. */
	b.data[12] = 9;
	b.data[16 + 4] = '\0';
	off = 0;
	T_EQ_INT(
	    snap_watch_decode((uint8_t *)b.data, b.len, &off, &ev), -EBADMSG);
	buf_fini(&b);
	T_EQ_INT(snap_watch_flags(IN_CREATE), SNAP_DIRTY_TREE);
	T_EQ_INT(snap_watch_flags(IN_MOVED_TO | IN_ISDIR), SNAP_DIRTY_TREE);
	T_EQ_INT(snap_watch_flags(IN_MODIFY), SNAP_DIRTY_SELF);
	T_EQ_INT(snap_watch_flags(IN_ATTRIB), SNAP_DIRTY_SELF);
	T_EQ_INT(snap_watch_flags(IN_OPEN), 0);
}

static void
test_dirty_set(void)
{
	struct snap_dirty d, t;
	struct snap_dirty_path *v;
	char p[32];

	snap_dirty_init(&d, 100);
	snap_dirty_add(&d, "b/c", 3, SNAP_DIRTY_SELF);
	snap_dirty_add(&d, "a", 1, SNAP_DIRTY_TREE);
	snap_dirty_add(&d, "b/cd", 3, SNAP_DIRTY_TREE); /* "b/c" again */
	snap_dirty_add(&d, "", 0, SNAP_DIRTY_SELF);
	T_EQ_INT(d.n, 3);
	T_EQ_INT(
	    snap_dirty_get(&d, "b/c", 3), SNAP_DIRTY_SELF | SNAP_DIRTY_TREE);
	T_EQ_INT(snap_dirty_get(&d, "b/cd", 4), 0);
	T_EQ_INT(snap_dirty_sorted(&d, &v), 3);
	T_EQ_STR(v[0].path, "");
	T_EQ_STR(v[1].path, "a");
	T_EQ_STR(v[2].path, "b/c");
	free(v);
	snprintf(d.base, sizeof(d.base), "S1");
	snap_dirty_take(&d, &t);
	T_EQ_INT(d.n, 0);
	T_EQ_STR(d.base, "");
	T_EQ_INT(t.n, 3);
	T_EQ_STR(t.base, "S1");
	snap_dirty_fini(&t);
	/* Past max the set gives up: unknown, empty, the first why kept. */
	for (int i = 0; i < 101; i++) {
		int n = snprintf(p, sizeof(p), "f%d", i);

		snap_dirty_add(&d, p, (size_t)n, SNAP_DIRTY_SELF);
	}
	T_EQ_INT(d.n, 0);
	T_EQ_STR(d.why, "too many dirty paths");
	snap_dirty_unknown(&d, "inotify queue overflow");
	T_EQ_STR(d.why, "too many dirty paths");
	snap_dirty_add(&d, "x", 1, SNAP_DIRTY_SELF);
	T_EQ_INT(d.n, 0);
	snap_dirty_take(&d, &t);
	T_EQ_STR(d.why, "");
	snap_dirty_fini(&t);
	snap_dirty_fini(&d);
}

/* ---- on a real tree ---- */

static int
test_watch_rm(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

struct test_watch_env {
	char dir[64];
	char *tree, *store;
	struct ev_loop *loop;
};

static void
test_watch_env_init(struct test_watch_env *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/hv-watch-XXXXXX");
	T_ASSERT(mkdtemp(t->dir) != NULL);
	t->tree = xasprintf("%s/tree", t->dir);
	t->store = xasprintf("%s/store", t->dir);
	T_EQ_INT(mkdir(t->tree, 0755), 0);
	t->loop = ev_loop_new();
}

static void
test_watch_env_fini(struct test_watch_env *t)
{
	ev_loop_free(t->loop);
	(void)nftw(t->dir, test_watch_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(t->tree);
	free(t->store);
}

/* Write s to tree/rel (created or truncated). */
static void
test_watch_put(const struct test_watch_env *t, const char *rel, const char *s)
{
	char *p = xasprintf("%s/%s", t->tree, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	T_ASSERT(fd != -1);
	T_EQ_INT(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
	free(p);
}

static void
test_watch_mkdir(const struct test_watch_env *t, const char *rel)
{
	char *p = xasprintf("%s/%s", t->tree, rel);

	T_EQ_INT(mkdir(p, 0755), 0);
	free(p);
}

static void
test_watch_mv(const struct test_watch_env *t, const char *a, const char *b)
{
	char *pa = xasprintf("%s/%s", t->tree, a);
	char *pb = xasprintf("%s/%s", t->tree, b);

	T_EQ_INT(rename(pa, pb), 0);
	free(pa);
	free(pb);
}

static void
test_watch_watcher(void)
{
	struct test_watch_env t;
	struct snap_watch_info wi;
	struct snap_watch *w;
	struct snap_dirty d;

	test_watch_env_init(&t);
	test_watch_mkdir(&t, "a");
	test_watch_put(&t, "a/f", "one");
	test_watch_put(&t, "g", "two");
	w = snap_watch_new(t.loop, t.tree, 0, 0);
	snap_watch_info(w, &wi);
	T_ASSERT(wi.running);
	T_EQ_INT(wi.watches, 2);
	/* A new watcher saw nothing before it: the first set is unknown. */
	snap_watch_take(w, &d);
	T_EQ_STR(d.why, "watcher started");
	snap_dirty_fini(&d);
	snap_watch_base(w, "S1");
	test_watch_put(&t, "a/f", "three");
	T_EQ_INT(chmod(t.tree, 0700), 0);
	test_watch_mkdir(&t, "n");
	test_watch_mkdir(&t, "n/m");
	test_watch_put(&t, "n/m/x", "before any watch on n/m");
	snap_watch_take(w, &d);
	T_EQ_STR(d.why, "");
	T_EQ_STR(d.base, "S1");
	T_EQ_INT(snap_dirty_get(&d, "a/f", 3), SNAP_DIRTY_SELF);
	T_EQ_INT(snap_dirty_get(&d, "", 0), SNAP_DIRTY_SELF);
	T_EQ_INT(snap_dirty_get(&d, "n", 1), SNAP_DIRTY_TREE);
	T_EQ_INT(snap_dirty_get(&d, "g", 1), 0);
	snap_dirty_fini(&d);
	/* n and n/m are watched now: a change deep in n shows up. */
	snap_watch_info(w, &wi);
	T_EQ_INT(wi.watches, 4);
	test_watch_put(&t, "n/m/x", "after");
	snap_watch_take(w, &d);
	T_EQ_STR(d.base, "");
	T_EQ_INT(snap_dirty_get(&d, "n/m/x", 5), SNAP_DIRTY_SELF);
	snap_dirty_fini(&d);
	/* A directory renamed: both names marked, the new one followed. */
	test_watch_mv(&t, "n", "r");
	snap_watch_take(w, &d);
	T_EQ_INT(snap_dirty_get(&d, "n", 1), SNAP_DIRTY_TREE);
	T_EQ_INT(snap_dirty_get(&d, "r", 1), SNAP_DIRTY_TREE);
	snap_dirty_fini(&d);
	test_watch_put(&t, "r/m/x", "moved");
	snap_watch_take(w, &d);
	T_EQ_INT(d.n, 1);
	T_EQ_INT(snap_dirty_get(&d, "r/m/x", 5), SNAP_DIRTY_SELF);
	snap_dirty_fini(&d);
	snap_watch_info(w, &wi);
	T_EQ_INT(wi.watches, 4);
	T_EQ_INT(wi.overflows, 0);
	snap_watch_free(w);
	test_watch_env_fini(&t);
}

/* More events than the queue holds: the set is unknown, the watcher
 * starts over and the set after is known again. */
static void
test_watch_overflow(void)
{
	struct test_watch_env t;
	struct snap_watch_info wi;
	struct snap_watch *w;
	struct snap_dirty d;
	unsigned max = 16384;
	char name[32];
	FILE *f;

	test_watch_env_init(&t);
	if ((f = fopen("/proc/sys/fs/inotify/max_queued_events", "r")) !=
	    NULL) {
		T_EQ_INT(fscanf(f, "%u", &max), 1);
		fclose(f);
	}
	if (max > 200000)
		T_SKIP("max_queued_events too large to overflow here");
	w = snap_watch_new(t.loop, t.tree, 0, 0);
	snap_watch_take(w, &d);
	snap_dirty_fini(&d);
	for (unsigned i = 0; i <= max / 2 + 1; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		test_watch_put(&t, name, ""); /* CREATE, CLOSE_WRITE */
	}
	snap_watch_take(w, &d);
	T_EQ_STR(d.why, "inotify queue overflow");
	T_EQ_INT(d.n, 0);
	snap_dirty_fini(&d);
	snap_watch_info(w, &wi);
	T_EQ_INT(wi.overflows, 1);
	T_EQ_INT(wi.restarts, 1);
	T_ASSERT(wi.running);
	test_watch_put(&t, "f0", "x");
	snap_watch_take(w, &d);
	T_EQ_STR(d.why, "");
	T_EQ_INT(snap_dirty_get(&d, "f0", 2), SNAP_DIRTY_SELF);
	snap_dirty_fini(&d);
	snap_watch_free(w);
	test_watch_env_fini(&t);
}

/* The root renamed away: unknown until it is back and watched again. */
static void
test_watch_root_gone(void)
{
	struct test_watch_env t;
	struct snap_watch *w;
	struct snap_dirty d;
	char *away;

	test_watch_env_init(&t);
	away = xasprintf("%s/away", t.dir);
	w = snap_watch_new(t.loop, t.tree, 0, 0);
	snap_watch_take(w, &d);
	snap_dirty_fini(&d);
	T_EQ_INT(rename(t.tree, away), 0);
	snap_watch_take(w, &d);
	T_EQ_STR(d.why, "the root was removed, renamed or unmounted");
	snap_dirty_fini(&d);
	snap_watch_take(w, &d); /* the restart found no root */
	T_EQ_STR(d.why, "the root could not be watched");
	snap_dirty_fini(&d);
	T_EQ_INT(rename(away, t.tree), 0);
	snap_watch_take(w, &d); /* broken still: starts over, now with it */
	T_ASSERT(d.why[0] != '\0');
	snap_dirty_fini(&d);
	test_watch_put(&t, "back", "x");
	snap_watch_take(w, &d);
	T_EQ_STR(d.why, "");
	T_ASSERT(snap_dirty_get(&d, "back", 4) != 0);
	snap_dirty_fini(&d);
	snap_watch_free(w);
	free(away);
	test_watch_env_fini(&t);
}

/* Write s to a /proc file; false when it cannot be written. */
static bool
test_watch_proc(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd == -1)
		return false;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok;
}

/*
 * The watch limit: in a user namespace of its own (the limit there is
 * this process's alone, /proc/sys/user/max_inotify_watches), a limit of
 * 3 watches on a tree of 6 directories. The set is unknown and says
 * why; once the limit is raised the next take starts over, and the set
 * after that is known.
 */
static void
test_watch_limit(void)
{
	struct test_watch_env t;
	struct snap_watch_info wi;
	struct snap_watch *w;
	struct snap_dirty d;
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();

	test_watch_env_init(&t);
	for (int i = 0; i < 5; i++) {
		char n[8];

		snprintf(n, sizeof(n), "d%d", i);
		test_watch_mkdir(&t, n);
	}
	if (unshare(CLONE_NEWUSER) == -1)
		T_SKIP("no user namespaces");
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (!test_watch_proc("/proc/self/setgroups", "deny") ||
	    !test_watch_proc("/proc/self/uid_map", map))
		T_SKIP("cannot map the user namespace");
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	if (!test_watch_proc("/proc/self/gid_map", map) ||
	    !test_watch_proc("/proc/sys/user/max_inotify_watches", "3"))
		T_SKIP("cannot set this namespace's inotify watch limit");
	w = snap_watch_new(t.loop, t.tree, 0, 0);
	snap_watch_info(w, &wi);
	T_ASSERT(!wi.running);
	snap_watch_take(w, &d);
	T_EQ_STR(d.why,
	    "inotify watch limit reached "
	    "(fs.inotify.max_user_watches)");
	snap_dirty_fini(&d);
	/* Still short: the set after the take is unknown too. */
	snap_watch_take(w, &d);
	T_ASSERT(d.why[0] != '\0');
	snap_dirty_fini(&d);
	T_ASSERT(test_watch_proc("/proc/sys/user/max_inotify_watches", "100"));
	snap_watch_take(w, &d); /* the last unknown one: it starts over */
	T_ASSERT(d.why[0] != '\0');
	snap_dirty_fini(&d);
	snap_watch_info(w, &wi);
	T_ASSERT(wi.running);
	T_EQ_INT(wi.watches, 6);
	test_watch_put(&t, "d4/x", "x");
	snap_watch_take(w, &d);
	T_EQ_STR(d.why, "");
	T_EQ_INT(
	    snap_dirty_get(&d, "d4/x", 4), SNAP_DIRTY_TREE | SNAP_DIRTY_SELF);
	snap_dirty_fini(&d);
	snap_watch_free(w);
	test_watch_env_fini(&t);
}

/* ---- a dirty-set create is a full walk ---- */

/* Create a snapshot of the tree under volume; its index bytes to out. */
static void
test_watch_snap(struct snap_store *s, const char *tree, const char *volume,
    const struct snap_dirty *d, const char *want_detect, struct buf *out,
    struct snap_manifest *m)
{
	struct snap_create_opts o = {
		.volume = volume, .path = tree, .dirty = d
	};
	struct snap_create_stats st;
	struct snap_tree t;
	char err[256];

	T_EQ_INT(snap_create(s, &o, m, &st, err, sizeof(err)), 0);
	if (want_detect != NULL && strcmp(st.detect, want_detect) != 0)
		test_fail(__FILE__, __LINE__, "detect %s (%s), want %s",
		    st.detect, st.detect_note, want_detect);
	T_EQ_INT(snap_tree_load(s, m, &t, err, sizeof(err)), 0);
	buf_reset(out);
	snap_tree_encode(&t, out);
	snap_tree_fini(&t);
}

/* One round of changes (k picks names), each kind the header lists. */
static void
test_watch_change(const struct test_watch_env *t, int k)
{
	char a[64], b[64], *p, *q;
	struct timeval tv[2] = { { 1000000000 + k, 0 }, { 1000000000, 5 } };

	snprintf(a, sizeof(a), "d%d", k);
	test_watch_mkdir(t, a);
	snprintf(a, sizeof(a), "d%d/new", k);
	test_watch_put(t, a, "created in a new directory");
	test_watch_put(t, "keep/mod", k % 2 ? "odd" : "even content");
	snprintf(a, sizeof(a), "f%d", k);
	test_watch_put(t, a, "a file to be renamed");
	snprintf(b, sizeof(b), "f%d.renamed", k);
	test_watch_mv(t, a, b);
	if (k > 0) {
		snprintf(a, sizeof(a), "d%d", k - 1);
		snprintf(b, sizeof(b), "moved/d%d", k - 1);
		test_watch_mv(t, a, b); /* a directory, with its files */
		snprintf(a, sizeof(a), "f%d.renamed", k - 1);
		p = xasprintf("%s/%s", t->tree, a);
		T_EQ_INT(unlink(p), 0);
		free(p);
	}
	p = xasprintf("%s/keep/mode", t->tree);
	T_EQ_INT(chmod(p, k % 2 ? 0600 : 0640), 0);
	T_EQ_INT(utimes(p, tv), 0);
	free(p);
	snprintf(a, sizeof(a), "keep/ln%d", k);
	p = xasprintf("%s/%s", t->tree, a);
	T_EQ_INT(symlink(k % 2 ? "../nowhere" : "mod", p), 0);
	free(p);
	/* A new hard link to a file no event names, with a smaller path;
	   the last rounds only remove links, down to one name. */
	snprintf(a, sizeof(a), "keep/%c-link%d", 'a' + k % 3, k);
	p = xasprintf("%s/%s", t->tree, a);
	q = xasprintf("%s/zz/target", t->tree);
	if (k < 4)
		T_EQ_INT(link(q, p), 0);
	free(p);
	free(q);
	if (k > 1) { /* a link of the group removed */
		snprintf(
		    a, sizeof(a), "keep/%c-link%d", 'a' + (k - 2) % 3, k - 2);
		p = xasprintf("%s/%s", t->tree, a);
		T_EQ_INT(unlink(p), 0);
		free(p);
	}
	p = xasprintf("%s/keep/x", t->tree);
	snprintf(a, sizeof(a), "v%d", k);
	if (setxattr(p, "user.k", a, strlen(a), 0) == -1)
		T_ASSERT(errno == ENOTSUP);
	free(p);
	/* A file replaced by a directory and back. */
	p = xasprintf("%s/flip", t->tree);
	if (k % 2) {
		T_EQ_INT(unlink(p), 0);
		T_EQ_INT(mkdir(p, 0755), 0);
		test_watch_put(t, "flip/in", "inside");
	} else if (k > 0) {
		q = xasprintf("%s/flip/in", t->tree);
		T_EQ_INT(unlink(q), 0);
		T_EQ_INT(rmdir(p), 0);
		free(q);
		test_watch_put(t, "flip", "a file again");
	}
	free(p);
}

static void
test_watch_equal_walk(void)
{
	struct test_watch_env t;
	struct snap_store *s;
	struct snap_watch *w;
	struct snap_dirty d;
	struct snap_manifest m, f;
	struct buf bi, bf;

	test_watch_env_init(&t);
	test_watch_mkdir(&t, "keep");
	test_watch_mkdir(&t, "moved");
	test_watch_mkdir(&t, "zz");
	test_watch_put(&t, "keep/mod", "first");
	test_watch_put(&t, "keep/mode", "mode");
	test_watch_put(&t, "keep/x", "xattrs");
	test_watch_put(&t, "zz/target", "the hard-linked file");
	test_watch_put(&t, "flip", "a file");
	for (int i = 0; i < 50; i++) {
		char n[32];

		snprintf(n, sizeof(n), "keep/still%02d", i);
		test_watch_put(&t, n, n);
	}
	buf_init(&bi);
	buf_init(&bf);
	T_EQ_INT(snap_store_open(t.store, true, &s), 0);
	w = snap_watch_new(t.loop, t.tree, 0, 0);
	snap_watch_take(w, &d);
	test_watch_snap(s, t.tree, "v", &d, "walk", &bi, &m);
	T_EQ_STR(d.why, "watcher started");
	snap_dirty_fini(&d);
	for (int k = 0; k < 6; k++) {
		snap_watch_base(w, m.id);
		snap_manifest_fini(&m);
		test_watch_change(&t, k);
		snap_watch_take(w, &d);
		T_ASSERT(d.n > 0);
		test_watch_snap(s, t.tree, "v", &d, "inotify", &bi, &m);
		test_watch_snap(s, t.tree, "full", NULL, "walk", &bf, &f);
		if (bi.len != bf.len || memcmp(bi.data, bf.data, bi.len) != 0)
			test_fail(__FILE__, __LINE__,
			    "round %d: the dirty-set index differs from the "
			    "full walk's",
			    k);
		T_EQ_INT(m.nchunks, f.nchunks);
		T_EQ_INT(m.nindex, f.nindex);
		T_EQ_INT(m.size, f.size);
		T_ASSERT(memcmp(m.chunks, f.chunks,
		             m.nchunks * sizeof(*m.chunks)) == 0);
		snap_manifest_fini(&f);
		snap_dirty_fini(&d);
	}
	snap_manifest_fini(&m);
	buf_fini(&bi);
	buf_fini(&bf);
	snap_watch_free(w);
	snap_store_close(s);
	test_watch_env_fini(&t);
}

/* A set whose base is not the parent, or an unknown one: a full walk,
 * and why. */
static void
test_watch_fallback(void)
{
	struct test_watch_env t;
	struct snap_create_opts o = { .volume = "v" };
	struct snap_create_stats st;
	struct snap_store *s;
	struct snap_manifest m;
	struct snap_dirty d;
	char err[256];

	test_watch_env_init(&t);
	test_watch_put(&t, "a", "a");
	o.path = t.tree;
	T_EQ_INT(snap_store_open(t.store, true, &s), 0);
	snap_dirty_init(&d, 0);
	o.dirty = &d;
	T_EQ_INT(snap_create(s, &o, &m, &st, err, sizeof(err)), 0);
	T_EQ_STR(st.detect, "walk");
	T_EQ_STR(st.detect_note, "no parent tree snapshot");
	snap_manifest_fini(&m);
	T_EQ_INT(snap_create(s, &o, &m, &st, err, sizeof(err)), 0);
	T_EQ_STR(st.detect_note, "no base snapshot for the dirty set");
	snap_manifest_fini(&m);
	snprintf(d.base, sizeof(d.base), "20260101T000000.000000Z-00000000");
	T_EQ_INT(snap_create(s, &o, &m, &st, err, sizeof(err)), 0);
	T_EQ_STR(st.detect_note, "the parent is not the dirty set's base");
	snprintf(d.base, sizeof(d.base), "%s", m.id);
	snap_manifest_fini(&m);
	snap_dirty_unknown(&d, "inotify queue overflow");
	T_EQ_INT(snap_create(s, &o, &m, &st, err, sizeof(err)), 0);
	T_EQ_STR(st.detect, "walk");
	T_EQ_STR(st.detect_note, "inotify queue overflow");
	snap_manifest_fini(&m);
	snap_dirty_fini(&d);
	snap_store_close(s);
	test_watch_env_fini(&t);
}

static const struct test tests[] = {
	TEST(test_watch_decode),
	TEST(test_watch_decode_bad),
	TEST(test_dirty_set),
	TEST(test_watch_watcher),
	TEST(test_watch_overflow),
	TEST(test_watch_limit),
	TEST(test_watch_root_gone),
	TEST(test_watch_equal_walk),
	TEST(test_watch_fallback),
};

TEST_MAIN(tests)
