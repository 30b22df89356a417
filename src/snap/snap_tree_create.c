/*
 * snap_tree_create.c - snapshot a directory tree into the store.
 *
 * One walk of the tree through directory file descriptors (openat with
 * O_NOFOLLOW, so a symlink is recorded, never followed, and a name that
 * is swapped for a symlink during the walk fails instead of leading out
 * of the tree). Each regular file is read once, cut by content
 * (snap_cdc.h) and its chunks hashed and written unless the store has
 * them. Then the entries are sorted by path, hard-linked names grouped
 * (the smallest path keeps the data, the others become hardlink
 * entries), the index encoded, proven by the parser, cut into chunks and
 * stored too, and the manifest published last, as an image's is: under
 * the store's shared lock, after the chunk directories are durable.
 *
 * A file whose path, size, mtime, ctime and inode number are those its
 * parent snapshot recorded is not read: its chunk IDs are taken from the
 * parent (each checked to be in the store), as borg and restic do. The
 * ctime catches a rewrite that put the old mtime back (touch -r, rsync
 * -t); what it cannot catch is a change with the clock set back.
 *
 * Files are read as they are: a file that changes during the walk is
 * recorded as read (its size is the bytes read); a name removed between
 * readdir and its stat or open is left out and counted (vanished), as
 * rsync and tar do, instead of failing the whole snapshot of a tree
 * that is in use. A file with several
 * links is read at its first name the walk meets (a table of the inodes
 * read); the grouping then hands its data to the group's smallest path.
 */
#include <sys/stat.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "snap/snap_cdc.h"
#include "snap/snap_chunker.h"
#include "snap/snap_create.h"
#include "snap/snap_tree_io.h"
#include "snap/snap_tree_walk.h"

#define SNAP_TREE_READ_BUF    (4u * SNAP_CDC_MAX)
#define SNAP_TREE_VOL_WAIT_MS 30000

bool
snap_tree_is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int
snap_tree_walk_fail(struct snap_tree_walk *w, int e, const char *what)
{
	snprintf(w->err, w->errlen, "%s%s: %s: %s", w->path[0] ? "" : ".",
	    w->path, what, strerror(-e));
	return e;
}

/* Store one chunk and append its ID to it->ids[*n]. */
static int
snap_tree_put(struct snap_tree_walk *w, const uint8_t *p, size_t len,
    struct snap_id **ids, uint64_t *n)
{
	uint64_t stored = 0;
	int e;

	if ((*n & (*n - 1)) == 0 || *n == 0)
		*ids = xrealloc(*ids, (*n ? 2 * *n : 1) * sizeof(**ids));
	snap_store_id_of(w->s, p, len, &(*ids)[*n]);
	e = snap_store_chunk_put(w->s, &(*ids)[*n], p, len, w->zlevel, &stored);
	if (e < 0)
		return e;
	if (e == 1) {
		w->st->fresh++;
		w->st->fresh_raw += len;
		w->st->fresh_disk += stored;
	} else {
		w->st->dedup++;
	}
	(*n)++;
	return 0;
}

/* Cut p[0..len) (all of a stream) into chunks, stored. */
static int
snap_tree_put_all(struct snap_tree_walk *w, const uint8_t *p, size_t len,
    struct snap_id **ids, uint64_t *n)
{
	int e;

	for (size_t off = 0, c; off < len; off += c) {
		c = snap_cdc_cut(&w->cdc, p + off, len - off);
		if ((e = snap_tree_put(w, p + off, c, ids, n)) != 0)
			return e;
	}
	return 0;
}

/* Read fd to its end, cutting and storing as we go. */
static int
snap_tree_file(struct snap_tree_walk *w, int fd, struct snap_tree_item *it)
{
	size_t have = 0, off;
	bool eof = false;
	int e;

	while (!eof || have > 0) {
		while (!eof && have < SNAP_TREE_READ_BUF) {
			ssize_t r =
			    read(fd, w->buf + have, SNAP_TREE_READ_BUF - have);

			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1)
				return -errno;
			if (r == 0)
				eof = true;
			have += (size_t)r;
			it->e.size += (uint64_t)r;
			w->st->read += (uint64_t)r;
		}
		/* A cut needs SNAP_CDC_MAX bytes ahead unless at the end. */
		for (off = 0;
		     off < have && (eof || have - off >= SNAP_CDC_MAX);) {
			size_t c =
			    snap_cdc_cut(&w->cdc, w->buf + off, have - off);

			if ((e = snap_tree_put(w, w->buf + off, c, &it->ids,
			         &it->e.nchunks)) != 0)
				return e;
			off += c;
		}
		memmove(w->buf, w->buf + off, have - off);
		have -= off;
	}
	if (it->e.size > SNAP_SIZE_MAX)
		return -EFBIG;
	return 0;
}

static int
snap_tree_xattr_cmp(const void *a, const void *b)
{
	const struct snap_tree_xattr *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Every xattr of fd, names sorted. */
static int
snap_tree_xattrs(int fd, struct snap_tree_entry *e)
{
	ssize_t n = flistxattr(fd, NULL, 0), got;
	char *names, *q;

	if (n == -1)
		return errno == ENOTSUP ? 0 : -errno;
	if (n == 0)
		return 0;
	names = xmalloc((size_t)n);
	if ((n = flistxattr(fd, names, (size_t)n)) == -1) {
		free(names);
		return -errno; /* ERANGE: one was added under us */
	}
	for (q = names; q < names + n; q += strlen(q) + 1) {
		struct snap_tree_xattr *x;
		uint8_t *v = xmalloc(SNAP_TREE_XVALUE_MAX);

		if (strlen(q) == 0 || strlen(q) > SNAP_TREE_XNAME_MAX ||
		    e->nxattrs == SNAP_TREE_XATTRS_MAX) {
			free(v);
			continue;
		}
		got = fgetxattr(fd, q, v, SNAP_TREE_XVALUE_MAX);
		if (got == -1) {
			free(v);
			if (errno == ENODATA)
				continue; /* removed under us */
			free(names);
			return -errno;
		}
		e->xattrs =
		    xrealloc(e->xattrs, (e->nxattrs + 1) * sizeof(*e->xattrs));
		x = &e->xattrs[e->nxattrs++];
		x->name = xstrdup(q);
		x->len = (uint32_t)got;
		x->value = got > 0 ? xrealloc(v, (size_t)got) : NULL;
		if (got == 0)
			free(v);
	}
	free(names);
	if (e->nxattrs > 1)
		qsort(e->xattrs, e->nxattrs, sizeof(*e->xattrs),
		    snap_tree_xattr_cmp);
	return 0;
}

struct snap_tree_item *
snap_tree_item_new(struct snap_tree_walk *w)
{
	struct snap_tree_item *it;

	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 256;
		w->it = xrealloc(w->it, w->cap * sizeof(*w->it));
	}
	it = &w->it[w->n++];
	memset(it, 0, sizeof(*it));
	return it;
}

struct snap_tree_item *
snap_tree_add(
    struct snap_tree_walk *w, enum snap_tree_type type, const struct stat *sb)
{
	struct snap_tree_item *it = snap_tree_item_new(w);

	it->e.path = xstrdup(w->path);
	it->e.type = type;
	it->e.mode = sb->st_mode & 07777;
	it->e.uid = sb->st_uid;
	it->e.gid = sb->st_gid;
	it->e.mtime_ns =
	    (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
	it->dev = sb->st_dev;
	it->ino = sb->st_ino;
	it->multi = type == SNAP_TREE_FILE && sb->st_nlink > 1;
	if (type == SNAP_TREE_FILE) {
		it->e.ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000 +
		    sb->st_ctim.tv_nsec;
		it->e.ino = (uint64_t)sb->st_ino;
	}
	return it;
}

/*
 * Take the file's chunks from the parent snapshot when it records this
 * path with the same size, mtime, ctime and inode, and has every chunk.
 */
static bool
snap_tree_reuse(
    struct snap_tree_walk *w, struct snap_tree_item *it, const struct stat *sb)
{
	const struct snap_tree_entry *p;
	const struct snap_id *ids;

	if (w->prev.n == 0 ||
	    (p = snap_tree_find(&w->prev, it->e.path)) == NULL)
		return false;
	/* Another name of the file then: the group's file has its data. */
	if (p->type == SNAP_TREE_HARDLINK &&
	    (p = snap_tree_find(&w->prev, p->target)) == NULL)
		return false;
	if (p->type != SNAP_TREE_FILE || p->size != (uint64_t)sb->st_size ||
	    p->mtime_ns != it->e.mtime_ns || p->ctime_ns != it->e.ctime_ns ||
	    p->ino != it->e.ino)
		return false;
	ids = &w->pm.chunks[w->pm.nindex + p->first];
	for (uint64_t k = 0; k < p->nchunks; k++)
		if (snap_store_chunk_has(w->s, &ids[k]) != 1)
			return false;
	it->ids = xmalloc((p->nchunks ? p->nchunks : 1) * sizeof(*ids));
	memcpy(it->ids, ids, p->nchunks * sizeof(*ids));
	it->e.nchunks = p->nchunks;
	it->e.size = p->size;
	it->read = true;
	w->st->dedup += p->nchunks;
	return true;
}

static int snap_tree_walk_dir(struct snap_tree_walk *w, int dfd, int depth);

static size_t
snap_tree_seen_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ull) ^ (uint64_t)ino;

	h *= 0xff51afd7ed558ccdull;
	return (size_t)(h ^ (h >> 32)) & (cap - 1);
}

/* True when (dev, ino) was in the table; adds it either way. */
static bool
snap_tree_seen(struct snap_tree_seen *t, dev_t dev, ino_t ino)
{
	size_t i;

	if (2 * (t->n + 1) > t->cap) {
		struct snap_tree_seen old = *t;

		t->cap = old.cap ? 2 * old.cap : 64;
		t->v = xcalloc(t->cap, sizeof(*t->v));
		t->n = 0;
		for (size_t k = 0; k < old.cap; k++)
			if (old.v[k].used)
				(void)snap_tree_seen(
				    t, old.v[k].dev, old.v[k].ino);
		free(old.v);
	}
	for (i = snap_tree_seen_hash(dev, ino, t->cap); t->v[i].used;
	     i = (i + 1) & (t->cap - 1))
		if (t->v[i].dev == dev && t->v[i].ino == ino)
			return true;
	t->v[i] = (struct snap_tree_seen_slot){ dev, ino, true };
	t->n++;
	return false;
}

/*
 * A name readdir listed (or a dirty set named) that was removed before
 * it could be stat'ed or opened: left out, as if the walk had come a
 * moment later, and counted. Its removal is an event of its own: the
 * next snapshot, walk or dirty set, sees the tree without it.
 */
static int
snap_tree_vanished(struct snap_tree_walk *w)
{
	w->st->vanished++;
	return 0;
}

/* One name in an open directory; w->path is its path. */
int
snap_tree_walk_one(
    struct snap_tree_walk *w, int dfd, const char *name, int depth)
{
	struct snap_tree_item *it;
	struct stat sb;
	char target[SNAP_TREE_PATH_MAX + 1];
	ssize_t tl;
	int fd, e;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return snap_tree_vanished(w);
		return snap_tree_walk_fail(w, -errno, "stat");
	}
	if (S_ISLNK(sb.st_mode)) {
		tl = readlinkat(dfd, name, target, sizeof(target));
		if (tl == -1 && errno == ENOENT)
			return snap_tree_vanished(w);
		if (tl == -1)
			return snap_tree_walk_fail(w, -errno, "readlink");
		if (tl == 0 || (size_t)tl >= sizeof(target))
			return snap_tree_walk_fail(
			    w, -ENAMETOOLONG, "readlink");
		target[tl] = '\0';
		if (strlen(target) != (size_t)tl)
			return snap_tree_walk_fail(w, -EINVAL, "readlink");
		it = snap_tree_add(w, SNAP_TREE_SYMLINK, &sb);
		it->e.target = xstrdup(target);
		return 0;
	}
	if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode)) {
		w->st->skipped++; /* socket, FIFO, device: not indexed */
		return 0;
	}
	if (S_ISDIR(sb.st_mode) && sb.st_dev == w->store_dev &&
	    sb.st_ino == w->store_ino) {
		w->st->skipped++; /* the store itself */
		return 0;
	}
	fd = openat(dfd, name,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	        (S_ISDIR(sb.st_mode) ? O_DIRECTORY : O_NONBLOCK));
	if (fd == -1 && errno == ENOENT)
		return snap_tree_vanished(w);
	if (fd == -1)
		return snap_tree_walk_fail(w, -errno, "open");
	/* What was opened is what we record: it may differ from the stat. */
	if (fstat(fd, &sb) == -1 ||
	    (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode))) {
		close(fd);
		return snap_tree_walk_fail(w, -EAGAIN, "changed during walk");
	}
	it = snap_tree_add(
	    w, S_ISDIR(sb.st_mode) ? SNAP_TREE_DIR : SNAP_TREE_FILE, &sb);
	if ((e = snap_tree_xattrs(fd, &it->e)) != 0) {
		close(fd);
		return snap_tree_walk_fail(w, e, "xattrs");
	}
	if (S_ISDIR(sb.st_mode) && w->shallow) {
		close(fd); /* the dirty walk keeps the parent's under it */
		return 0;
	}
	if (S_ISDIR(sb.st_mode))
		return snap_tree_walk_dir(w, fd, depth + 1); /* takes fd */
	/* A further name of a file read already: the grouping links it. */
	if (it->multi && snap_tree_seen(&w->seen, it->dev, it->ino)) {
		close(fd);
		return 0;
	}
	if (snap_tree_reuse(w, it, &sb)) {
		close(fd);
		return 0;
	}
	it->read = true;
	/* it may move as w->it grows: only snap_tree_file touches it. */
	e = snap_tree_file(w, fd, it);
	close(fd);
	if (e != 0)
		return snap_tree_walk_fail(w, e, "reading");
	return 0;
}

/* The entries of directory fd (taken: closed here), w->path its path. */
static int
snap_tree_walk_dir(struct snap_tree_walk *w, int fd, int depth)
{
	size_t plen = strlen(w->path);
	struct dirent *de;
	DIR *d;
	int e = 0;

	if (depth > SNAP_TREE_DEPTH_MAX) {
		close(fd);
		return snap_tree_walk_fail(w, -ELOOP, "too deep");
	}
	if ((d = fdopendir(fd)) == NULL) {
		e = -errno;
		close(fd);
		return snap_tree_walk_fail(w, e, "opendir");
	}
	while (e == 0) {
		size_t nl;

		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				e = snap_tree_walk_fail(w, -errno, "readdir");
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		nl = strlen(de->d_name);
		if (plen + (plen > 0) + nl > SNAP_TREE_PATH_MAX) {
			e = snap_tree_walk_fail(w, -ENAMETOOLONG, de->d_name);
			break;
		}
		snprintf(w->path + plen, sizeof(w->path) - plen, "%s%s",
		    plen > 0 ? "/" : "", de->d_name);
		e = snap_tree_walk_one(w, dirfd(d), de->d_name, depth);
		w->path[plen] = '\0';
	}
	closedir(d);
	return e;
}

static int
snap_tree_item_cmp(const void *a, const void *b)
{
	const struct snap_tree_item *x = a, *y = b;

	return snap_tree_path_cmp(x->e.path, y->e.path);
}

static int
snap_tree_inode_cmp(const void *a, const void *b)
{
	const struct snap_tree_item *const *x = a, *const *y = b;

	if ((*x)->dev != (*y)->dev)
		return (*x)->dev < (*y)->dev ? -1 : 1;
	if ((*x)->ino != (*y)->ino)
		return (*x)->ino < (*y)->ino ? -1 : 1;
	return snap_tree_path_cmp((*x)->e.path, (*y)->e.path);
}

/* Drop the data of item x, which becomes a hardlink to path. */
static void
snap_tree_to_link(struct snap_tree_item *x, const char *path)
{
	free(x->e.target);
	for (uint32_t k = 0; k < x->e.nxattrs; k++) {
		free(x->e.xattrs[k].name);
		free(x->e.xattrs[k].value);
	}
	free(x->e.xattrs);
	x->e.xattrs = NULL;
	x->e.nxattrs = 0;
	free(x->ids);
	x->ids = NULL;
	x->e.type = SNAP_TREE_HARDLINK;
	x->e.size = x->e.nchunks = 0;
	x->e.target = xstrdup(path);
}

/* Move the data x read to g, the name that keeps it. */
static void
snap_tree_take(struct snap_tree_item *g, struct snap_tree_item *x)
{
	struct snap_tree_entry *a = &g->e, *b = &x->e;

	free(g->ids);
	g->ids = x->ids;
	x->ids = NULL;
	a->size = b->size;
	a->nchunks = b->nchunks;
	for (uint32_t k = 0; k < a->nxattrs; k++) {
		free(a->xattrs[k].name);
		free(a->xattrs[k].value);
	}
	free(a->xattrs);
	a->xattrs = b->xattrs;
	a->nxattrs = b->nxattrs;
	b->xattrs = NULL;
	b->nxattrs = 0;
	g->read = true;
}

/*
 * Sort by path, then per group of names of one inode: the smallest path
 * keeps the data and metadata, the others become hardlinks to it.
 */
void
snap_tree_group(struct snap_tree_walk *w)
{
	struct snap_tree_item **v;
	size_t nv = 0;

	qsort(w->it, w->n, sizeof(*w->it), snap_tree_item_cmp);
	v = xcalloc(w->n ? w->n : 1, sizeof(*v));
	for (size_t i = 0; i < w->n; i++)
		if (w->it[i].multi)
			v[nv++] = &w->it[i];
	if (nv > 1)
		qsort(v, nv, sizeof(*v), snap_tree_inode_cmp);
	for (size_t i = 0, g = 0; i < nv; i++) {
		if (i > g && v[i]->dev == v[g]->dev && v[i]->ino == v[g]->ino) {
			if (v[i]->read)
				snap_tree_take(v[g], v[i]);
			snap_tree_to_link(v[i], v[g]->e.path);
		} else {
			g = i; /* the next group's file */
		}
	}
	free(v);
}

/* The walk's items become t (moved) and m's chunk list. */
int
snap_tree_build(
    struct snap_tree_walk *w, struct snap_manifest *m, char *err, size_t errlen)
{
	struct snap_tree t = { .n = w->n };
	struct snap_tree check;
	struct snap_id *ids = NULL;
	uint64_t nids = 0, at;
	struct buf b;
	int e;

	t.e = xcalloc(w->n ? w->n : 1, sizeof(*t.e));
	for (size_t i = 0; i < w->n; i++) {
		t.e[i] = w->it[i].e;
		memset(&w->it[i].e, 0, sizeof(w->it[i].e));
	}
	buf_init(&b);
	snap_tree_encode(&t, &b);
	/* Never publish an index that restore would refuse. */
	if ((e = snap_tree_parse(
	         (const uint8_t *)b.data, b.len, &check, err, errlen)) != 0)
		goto out;
	snap_tree_fini(&check);
	if (b.len > SNAP_TREE_INDEX_MAX) {
		snprintf(err, errlen, "tree index of %zu bytes: too many files",
		    b.len);
		e = -EFBIG;
		goto out;
	}
	if ((e = snap_tree_put_all(
	         w, (const uint8_t *)b.data, b.len, &ids, &nids)) != 0) {
		snprintf(
		    err, errlen, "writing the tree index: %s", strerror(-e));
		goto out;
	}
	m->kind = SNAP_KIND_TREE;
	m->chunk_size = SNAP_CDC_MAX;
	m->nindex = nids;
	m->nchunks = nids;
	m->size = 0;
	for (size_t i = 0; i < w->n; i++) {
		m->nchunks += t.e[i].nchunks;
		m->size += t.e[i].size;
	}
	m->chunks = xcalloc(m->nchunks, sizeof(*m->chunks));
	memcpy(m->chunks, ids, nids * sizeof(*ids));
	at = nids;
	for (size_t i = 0; i < w->n; i++) {
		if (t.e[i].nchunks > 0)
			memcpy(&m->chunks[at], w->it[i].ids,
			    t.e[i].nchunks * sizeof(*ids));
		at += t.e[i].nchunks;
	}
	w->st->chunks = m->nchunks;
out:
	free(ids);
	buf_fini(&b);
	snap_tree_fini(&t);
	return e;
}

static void
snap_tree_walk_fini(struct snap_tree_walk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct snap_tree_entry *e = &w->it[i].e; /* unless moved */

		for (uint32_t k = 0; k < e->nxattrs; k++) {
			free(e->xattrs[k].name);
			free(e->xattrs[k].value);
		}
		free(e->xattrs);
		free(e->path);
		free(e->target);
		free(w->it[i].ids);
	}
	free(w->it);
	free(w->buf);
	free(w->seen.v);
	snap_tree_fini(&w->prev);
	snap_manifest_fini(&w->pm);
}

/*
 * Take the parent's manifest pm (the lineage loaded it; emptied here) and
 * its index into w when it is a tree whose index loads; else none (every
 * file is read: a damaged parent costs time).
 */
static void
snap_tree_prev(struct snap_tree_walk *w, struct snap_manifest *pm)
{
	char why[256];

	w->pm = *pm;
	memset(pm, 0, sizeof(*pm));
	if (w->pm.id[0] == '\0')
		return; /* no parent */
	if (w->pm.kind != SNAP_KIND_TREE ||
	    snap_tree_load(w->s, &w->pm, &w->prev, why, sizeof(why)) != 0)
		snap_manifest_fini(&w->pm);
}

/*
 * Why dirty set d cannot stand for a walk against w's parent, or NULL
 * when it can (a watcher's set with a base: snap_watch.h).
 */
static const char *
snap_tree_dirty_why(const struct snap_tree_walk *w, const struct snap_dirty *d)
{
	if (d == NULL)
		return ""; /* no watcher: the walk is the method */
	if (d->why[0] != '\0')
		return d->why;
	if (w->prev.n == 0)
		return "no parent tree snapshot";
	if (d->base[0] == '\0')
		return "no base snapshot for the dirty set";
	if (strcmp(d->base, w->pm.id) != 0)
		return "the parent is not the dirty set's base";
	return NULL;
}

/* The walk from the root directory rootfd (taken) to m's chunk list. */
static int
snap_tree_walk(struct snap_store *s, const struct snap_create_opts *o,
    int rootfd, struct snap_manifest *pm, struct snap_manifest *m,
    struct snap_create_stats *st, char *err, size_t errlen)
{
	struct snap_tree_walk w = {
		.s = s, .st = st, .err = err, .errlen = errlen
	};
	struct snap_tree_item *root;
	const char *why;
	struct stat sb;
	int e;

	snap_cdc_init(&w.cdc, SNAP_CDC_KEY_FIXED, strlen(SNAP_CDC_KEY_FIXED));
	w.zlevel = o->compress ? SNAP_ZSTD_LEVEL : 0;
	w.buf = xmalloc(SNAP_TREE_READ_BUF);
	snap_tree_prev(&w, pm);
	if (stat(s->root, &sb) == 0) {
		w.store_dev = sb.st_dev;
		w.store_ino = sb.st_ino;
	}
	if (fstat(rootfd, &sb) == -1) {
		e = snap_tree_walk_fail(&w, -errno, "stat");
		close(rootfd);
		goto out;
	}
	root = snap_tree_add(&w, SNAP_TREE_DIR, &sb);
	if ((e = snap_tree_xattrs(rootfd, &root->e)) != 0) {
		snap_tree_walk_fail(&w, e, "xattrs");
		close(rootfd);
		goto out;
	}
	st->captured_ms = util_wall_ms(); /* the state is no older */
	why = snap_tree_dirty_why(&w, o->dirty);
	st->detect = o->dirty != NULL && why == NULL ? "inotify" : "walk";
	snprintf(st->detect_note, sizeof(st->detect_note), "%s",
	    why != NULL ? why : "");
	if (why == NULL) {
		st->dirty = o->dirty->n;
		e = snap_tree_dirty_walk(&w, rootfd, o->dirty);
		if (e != -ESTALE) {
			close(rootfd);
		} else {
			st->detect = "walk";
			snprintf(st->detect_note, sizeof(st->detect_note),
			    "a dirty path too long for a tree");
			e = snap_tree_walk_dir(&w, rootfd, 0);
		}
	} else {
		e = snap_tree_walk_dir(&w, rootfd, 0);
	}
	if (e != 0)
		goto out;
	snap_tree_group(&w);
	e = snap_tree_build(&w, m, err, errlen);
out:
	snap_tree_walk_fini(&w);
	return e;
}

int
snap_tree_create(struct snap_store *s, const struct snap_create_opts *o,
    struct snap_manifest *m, struct snap_create_stats *st, char *err,
    size_t errlen)
{
	struct snap_manifest pm;
	struct snap_vol vol;
	int rootfd, vfd = -1, e;

	memset(m, 0, sizeof(*m));
	memset(&pm, 0, sizeof(pm));
	memset(st, 0, sizeof(*st));
	rootfd = open(o->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd == -1) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
		return e;
	}
	/* From the first look at the chunks to the publish: snap_store.h */
	if ((e = snap_store_lock(s, false, -1)) != 0) {
		snprintf(err, errlen, "locking the store: %s", strerror(-e));
		close(rootfd);
		goto out;
	}
	if ((e = snap_vol_lock(s, o->volume, SNAP_TREE_VOL_WAIT_MS, &vfd, &vol,
	         err, errlen)) != 0) {
		close(rootfd);
		goto out;
	}
	snprintf(m->volume, sizeof(m->volume), "%s", o->volume);
	snprintf(m->ids, sizeof(m->ids), "%s", s->ids);
	if (o->id != NULL) {
		snprintf(m->id, sizeof(m->id), "%s", o->id);
		m->created = o->created;
	} else {
		snap_create_id(m->id, sizeof(m->id), &m->created);
	}
	if ((e = snap_create_lineage(s, o, &vol, m, &pm, err, errlen)) != 0) {
		close(rootfd);
		goto out;
	}
	if ((e = snap_tree_walk(s, o, rootfd, &pm, m, st, err, errlen)) != 0)
		goto out;
	e = snap_create_publish(s, &vol, m, err, errlen);
out:
	snap_manifest_fini(&pm);
	snap_vol_unlock(vfd);
	snap_store_unlock(s);
	if (e != 0)
		snap_manifest_fini(m);
	return e;
}
