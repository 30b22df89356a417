/*
 * snap_tree_dirty.c - a tree create from a dirty set (snap_dirty.h): the
 * paths an inotify watcher saw change since the parent snapshot are
 * stat'ed (and read) afresh, everything else is the parent's index
 * entry, copied without a system call. The index that comes out is the
 * one a full walk (snap_tree_create.c) would make of the same tree: the
 * same functions make the fresh entries, group hard links and encode.
 *
 * Per dirty path P, in path order (a directory before what is under it):
 *  - P under a path already walked afresh: nothing (that walk has it);
 *  - P gone (or a component of it no longer a directory): the parent's
 *    entries at and under P are dropped (a "cut");
 *  - P marked TREE, new, or changed between directory and not: cut, and
 *    P walked whole (a directory with everything under it);
 *  - else P alone is stat'ed (a directory shallowly: the parent's
 *    entries under it stay).
 * The root is always stat'ed. Hard links are the exception inotify
 * forces: a new link changes the other names' ctime and link count
 * without an event on them. So every name in a parent hard-link group
 * is re-stat'ed, and so is every copied file whose inode a fresh
 * multi-link file has.
 *
 * Copied files keep their chunk IDs unchecked: the parent names them, so
 * gc keeps them; the full walk's per-chunk look-up would cost as much as
 * the stats this avoids.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "snap/snap_dirty.h"
#include "snap/snap_tree_walk.h"

/* The dirty walk's own state beside the walk's. */
struct snap_tree_dctx {
	struct snap_tree_walk *w; /* borrowed */
	int rootfd;               /* borrowed */
	struct snap_dirty done;   /* TREE: cut and walked; SELF: re-stat'ed */
	bool cuts;                /* done holds a TREE */
	char *pdir;               /* owned: the cached parent's path */
	int pfd;                  /* owned: open on pdir, or -1 */
	ino_t *multi;             /* owned: inodes of fresh multi-link files */
	size_t nmulti;
};

/* True when a strict ancestor of path[0..len) (or itself, with self) was
 * cut. */
static bool
snap_tree_dirty_cut(
    const struct snap_tree_dctx *c, const char *path, size_t len, bool self)
{
	if (!c->cuts)
		return false;
	if (self && (snap_dirty_get(&c->done, path, len) & SNAP_DIRTY_TREE))
		return true;
	for (size_t i = 0; i < len; i++)
		if (path[i] == '/' &&
		    (snap_dirty_get(&c->done, path, i) & SNAP_DIRTY_TREE))
			return true;
	return false;
}

/*
 * The directory path[0..plen) opened from the root, component by
 * component without following a symlink, in *dfd (borrowed from c).
 * -ENOENT when it is not a directory of the tree now (gone, a symlink, a
 * file, or the store).
 */
static int
snap_tree_dirty_dir(
    struct snap_tree_dctx *c, const char *path, size_t plen, int *dfd)
{
	const struct snap_tree_walk *w = c->w;
	int fd = c->rootfd;
	char comp[SNAP_TREE_PATH_MAX + 1];
	struct stat sb;

	if (plen == 0) {
		*dfd = c->rootfd;
		return 0;
	}
	if (c->pfd != -1 && strlen(c->pdir) == plen &&
	    memcmp(c->pdir, path, plen) == 0) {
		*dfd = c->pfd;
		return 0;
	}
	if (c->pfd != -1)
		close(c->pfd);
	c->pfd = -1;
	free(c->pdir);
	c->pdir = NULL;
	for (size_t at = 0; at < plen;) {
		const char *sl = memchr(path + at, '/', plen - at);
		size_t cl = (sl != NULL ? (size_t)(sl - path) : plen) - at;
		int nfd;

		memcpy(comp, path + at, cl);
		comp[cl] = '\0';
		nfd = openat(
		    fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd != c->rootfd)
			close(fd);
		if (nfd == -1)
			return errno == ENOTDIR || errno == ELOOP ? -ENOENT :
			                                            -errno;
		if (fstat(nfd, &sb) == -1) {
			close(nfd);
			return -errno;
		}
		if (sb.st_dev == w->store_dev && sb.st_ino == w->store_ino) {
			close(nfd);
			return -ENOENT; /* the store is not in the tree */
		}
		fd = nfd;
		at += cl + 1;
	}
	c->pfd = fd;
	c->pdir = xmalloc(plen + 1);
	memcpy(c->pdir, path, plen);
	c->pdir[plen] = '\0';
	*dfd = fd;
	return 0;
}

/* Path p afresh, as the header says; flags are its SNAP_DIRTY_*. */
static int
snap_tree_dirty_one(struct snap_tree_dctx *c, const char *p, unsigned flags)
{
	struct snap_tree_walk *w = c->w;
	const struct snap_tree_entry *prev;
	const char *sl = strrchr(p, '/'), *name = sl != NULL ? sl + 1 : p;
	size_t len = strlen(p), plen = sl != NULL ? (size_t)(sl - p) : 0;
	struct stat sb;
	int depth = 0, dfd, e;
	bool cut;

	if (len == 0 || snap_tree_dirty_cut(c, p, len, false))
		return 0;
	for (size_t i = 0; i < len; i++)
		depth += p[i] == '/';
	if (depth >= SNAP_TREE_DEPTH_MAX) {
		snprintf(w->path, sizeof(w->path), "%s", p);
		return snap_tree_walk_fail(w, -ELOOP, "too deep");
	}
	e = snap_tree_dirty_dir(c, p, plen, &dfd);
	if (e == 0 && fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		e = errno == ENOTDIR ? -ENOENT : -errno;
	if (e == -ENOENT) {
		snap_dirty_add(&c->done, p, len, SNAP_DIRTY_TREE);
		c->cuts = true;
		return 0;
	}
	snprintf(w->path, sizeof(w->path), "%s", p);
	if (e != 0)
		return snap_tree_walk_fail(w, e, "stat");
	prev = snap_tree_find(&w->prev, p);
	cut = (flags & SNAP_DIRTY_TREE) || prev == NULL ||
	    (prev->type == SNAP_TREE_DIR) != S_ISDIR(sb.st_mode);
	snap_dirty_add(
	    &c->done, p, len, cut ? SNAP_DIRTY_TREE : SNAP_DIRTY_SELF);
	c->cuts = c->cuts || cut;
	w->shallow = !cut;
	e = snap_tree_walk_one(w, dfd, name, depth);
	w->shallow = false;
	return e;
}

/* Parent entry pe, copied as it was. */
static void
snap_tree_dirty_copy(struct snap_tree_walk *w, const struct snap_tree_entry *pe)
{
	struct snap_tree_item *it = snap_tree_item_new(w);
	struct snap_tree_entry *e = &it->e;

	*e = *pe;
	e->path = xstrdup(pe->path);
	e->target = pe->target != NULL ? xstrdup(pe->target) : NULL;
	e->first = 0;
	e->xattrs = NULL;
	if (pe->nxattrs > 0) {
		e->xattrs = xcalloc(pe->nxattrs, sizeof(*e->xattrs));
		for (uint32_t k = 0; k < pe->nxattrs; k++) {
			const struct snap_tree_xattr *x = &pe->xattrs[k];

			e->xattrs[k].name = xstrdup(x->name);
			e->xattrs[k].len = x->len;
			if (x->len > 0) {
				e->xattrs[k].value = xmalloc(x->len);
				memcpy(e->xattrs[k].value, x->value, x->len);
			}
		}
	}
	if (pe->type != SNAP_TREE_FILE)
		return;
	it->ids = xmalloc((pe->nchunks ? pe->nchunks : 1) * sizeof(*it->ids));
	memcpy(it->ids, &w->pm.chunks[w->pm.nindex + pe->first],
	    pe->nchunks * sizeof(*it->ids));
	it->read = true;
	w->st->dedup += pe->nchunks;
	w->st->reused += pe->nchunks;
}

static int
snap_tree_dirty_ino_cmp(const void *a, const void *b)
{
	ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;

	return x < y ? -1 : x > y;
}

/* The inodes of the fresh entries that are multi-link files, sorted. */
static void
snap_tree_dirty_multi(struct snap_tree_dctx *c)
{
	struct snap_tree_walk *w = c->w;

	c->multi = xcalloc(w->n ? w->n : 1, sizeof(*c->multi));
	for (size_t i = 0; i < w->n; i++)
		if (w->it[i].multi)
			c->multi[c->nmulti++] = w->it[i].ino;
	qsort(c->multi, c->nmulti, sizeof(*c->multi), snap_tree_dirty_ino_cmp);
}

/*
 * Copy every parent entry the fresh ones do not replace; those that must
 * be re-stat'ed after all (a file sharing a fresh multi-link inode) go to
 * *later instead.
 */
static void
snap_tree_dirty_rest(struct snap_tree_dctx *c, char ***later, size_t *nlater)
{
	struct snap_tree_walk *w = c->w;

	*nlater = 0;
	*later = xcalloc(w->prev.n ? w->prev.n : 1, sizeof(**later));
	for (size_t i = 0; i < w->prev.n; i++) {
		const struct snap_tree_entry *pe = &w->prev.e[i];
		size_t len = strlen(pe->path);
		ino_t ino = (ino_t)pe->ino;

		if (len == 0 || snap_dirty_get(&c->done, pe->path, len) != 0 ||
		    snap_tree_dirty_cut(c, pe->path, len, false))
			continue;
		if (pe->type == SNAP_TREE_HARDLINK ||
		    (pe->type == SNAP_TREE_FILE && c->nmulti > 0 &&
		        bsearch(&ino, c->multi, c->nmulti, sizeof(ino),
		            snap_tree_dirty_ino_cmp) != NULL)) {
			(*later)[(*nlater)++] = pe->path;
			continue;
		}
		snap_tree_dirty_copy(w, pe);
	}
}

int
snap_tree_dirty_walk(
    struct snap_tree_walk *w, int rootfd, const struct snap_dirty *d)
{
	struct snap_tree_dctx c = { .w = w, .rootfd = rootfd, .pfd = -1 };
	struct snap_dirty work;
	struct snap_dirty_path *v = NULL;
	char **later = NULL;
	size_t nv, nlater = 0;
	int e = 0;

	snap_dirty_init(&c.done, SIZE_MAX);
	snap_dirty_init(&work, SIZE_MAX);
	for (size_t i = 0; i < d->cap; i++) {
		const char *p = d->v[i].path;

		if (p == NULL)
			continue;
		if (strlen(p) > SNAP_TREE_PATH_MAX) {
			e = -ESTALE;
			goto out;
		}
		snap_dirty_add(&work, p, strlen(p), d->v[i].flags);
	}
	/* Every name of a parent hard-link group (the header says why). */
	for (size_t i = 0; i < w->prev.n; i++) {
		const struct snap_tree_entry *pe = &w->prev.e[i];

		if (pe->type != SNAP_TREE_HARDLINK)
			continue;
		snap_dirty_add(
		    &work, pe->path, strlen(pe->path), SNAP_DIRTY_SELF);
		snap_dirty_add(
		    &work, pe->target, strlen(pe->target), SNAP_DIRTY_SELF);
	}
	nv = snap_dirty_sorted(&work, &v);
	for (size_t i = 0; i < nv && e == 0; i++)
		e = snap_tree_dirty_one(&c, v[i].path, v[i].flags);
	if (e != 0)
		goto out;
	snap_tree_dirty_multi(&c);
	snap_tree_dirty_rest(&c, &later, &nlater);
	for (size_t i = 0; i < nlater && e == 0; i++)
		e = snap_tree_dirty_one(&c, later[i], SNAP_DIRTY_SELF);
out:
	free(later);
	free(v);
	free(c.multi);
	free(c.pdir);
	if (c.pfd != -1)
		close(c.pfd);
	snap_dirty_fini(&work);
	snap_dirty_fini(&c.done);
	return e;
}
