/*
 * snap_tree_restore.c - a tree snapshot back to a directory, and the
 * readers of tree indexes (diff, verify's damage reports).
 *
 * Restore builds the tree in a fresh temp directory beside the target
 * (mode 0700, ours alone) and renames it into place only when every
 * chunk passed its checks, so the target never holds part of a tree or
 * bad data. It never follows a symlink: every directory is reached from
 * the temp root by openat(O_NOFOLLOW | O_DIRECTORY) one component at a
 * time, files are created with O_EXCL | O_NOFOLLOW, links with linkat
 * and symlinkat relative to such descriptors. The index is hostile input
 * (snap_tree.h), but its guarantees (relative paths without "..", each
 * parent an earlier directory) are checked here again by construction:
 * a symlink entry can never be the parent of anything.
 *
 * Order: entries in index order (a parent before its children); a file's
 * data, then owner, xattrs, mode, mtime; a directory is made 0700 and
 * gets its metadata in a last pass, children first (reverse order), so a
 * read-only directory is filled before it is closed and a directory's
 * mtime is set after its last entry was made. One syncfs makes the tree
 * durable before the rename.
 */
#include <sys/stat.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "snap/snap_cdc.h"
#include "snap/snap_tree_io.h"

/* A restore in progress. */
struct snap_tree_rs {
	struct snap_store *s;          /* borrowed */
	const struct snap_manifest *m; /* borrowed */
	const struct snap_tree *t;     /* borrowed */
	int rootfd;                    /* the temp directory */
	char *ppath;                   /* owned: the cached parent's path */
	int pfd;                       /* its descriptor, -1 for none */
	uint8_t *buf;                  /* owned: SNAP_CDC_MAX */
	bool root;                     /* euid 0: owners, all xattrs */
	char *err;                     /* borrowed */
	size_t errlen;
};

int
snap_tree_load(struct snap_store *s, const struct snap_manifest *m,
    struct snap_tree *t, char *err, size_t errlen)
{
	struct buf b;
	char hex[SNAP_HEX_LEN + 1];
	int e = 0;

	memset(t, 0, sizeof(*t));
	if (m->kind != SNAP_KIND_TREE) {
		snprintf(err, errlen, "not a tree snapshot");
		return -EINVAL;
	}
	buf_init(&b);
	for (uint64_t i = 0; i < m->nindex; i++) {
		const char *why = NULL;
		size_t got = 0;
		char *p;

		if (b.len + SNAP_CDC_MAX > SNAP_TREE_INDEX_MAX) {
			snprintf(err, errlen, "tree index too large");
			e = -EBADMSG;
			break;
		}
		p = buf_reserve(&b, SNAP_CDC_MAX);
		e = snap_store_chunk_get(
		    s, &m->chunks[i], p, SNAP_CDC_MAX, &got, &why);
		if (e != 0) {
			snap_id_hex(&m->chunks[i], hex);
			snprintf(err, errlen,
			    "tree index chunk %" PRIu64 " %s: %s", i, hex,
			    e == -ENOENT ? "missing from the store" :
			        why      ? why :
			                   strerror(-e));
			break;
		}
		b.len += got;
	}
	if (e == 0 &&
	    (e = snap_tree_parse(
	         (const uint8_t *)b.data, b.len, t, err, errlen)) == 0 &&
	    (e = snap_tree_check(t, m, err, errlen)) != 0)
		snap_tree_fini(t);
	buf_fini(&b);
	return e;
}

static int
snap_tree_rs_fail(
    struct snap_tree_rs *r, int e, const char *path, const char *what)
{
	snprintf(r->err, r->errlen, "%s: %s: %s", path[0] ? path : ".", what,
	    strerror(-e));
	return e;
}

/* Open directory path (relative to the temp root) without symlinks. */
static int
snap_tree_rs_opendir(struct snap_tree_rs *r, const char *path)
{
	char comp[SNAP_TREE_PATH_MAX + 1];
	const char *p = path;
	int fd = dup(r->rootfd), nfd;

	if (fd == -1)
		return -errno;
	while (*p != '\0') {
		const char *sl = strchr(p, '/');
		size_t n = sl ? (size_t)(sl - p) : strlen(p);

		memcpy(comp, p, n);
		comp[n] = '\0';
		nfd = openat(
		    fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (nfd == -1)
			return -errno;
		fd = nfd;
		p += n + (sl != NULL);
	}
	return fd;
}

/*
 * The descriptor of path's parent directory (cached: siblings follow
 * each other) and path's last component in *base.
 */
static int
snap_tree_rs_parent(struct snap_tree_rs *r, const char *path, const char **base)
{
	const char *sl = strrchr(path, '/');
	size_t n = sl ? (size_t)(sl - path) : 0;
	int fd;

	*base = sl ? sl + 1 : path;
	if (r->pfd != -1 && strlen(r->ppath) == n &&
	    memcmp(r->ppath, path, n) == 0)
		return r->pfd;
	if (r->pfd != -1)
		close(r->pfd);
	r->pfd = -1;
	free(r->ppath);
	r->ppath = xmalloc(n + 1);
	memcpy(r->ppath, path, n);
	r->ppath[n] = '\0';
	if ((fd = snap_tree_rs_opendir(r, r->ppath)) < 0)
		return fd;
	r->pfd = fd;
	return fd;
}

/* Set e's xattrs on fd: user.* always, the rest as root only. */
static int
snap_tree_rs_xattrs(
    struct snap_tree_rs *r, int fd, const struct snap_tree_entry *e)
{
	for (uint32_t k = 0; k < e->nxattrs; k++) {
		const struct snap_tree_xattr *x = &e->xattrs[k];

		if (!r->root && strncmp(x->name, "user.", 5) != 0)
			continue;
		if (fsetxattr(fd, x->name, x->value ? (void *)x->value : "",
		        x->len, 0) == -1)
			return snap_tree_rs_fail(r, -errno, e->path, x->name);
	}
	return 0;
}

/* Owner, xattrs, mode, mtime of a file or directory open as fd. */
static int
snap_tree_rs_meta(
    struct snap_tree_rs *r, int fd, const struct snap_tree_entry *e)
{
	struct timespec ts[2];
	int x;

	if (r->root && fchown(fd, e->uid, e->gid) == -1)
		return snap_tree_rs_fail(r, -errno, e->path, "chown");
	if ((x = snap_tree_rs_xattrs(r, fd, e)) != 0)
		return x;
	if (fchmod(fd, e->mode) == -1)
		return snap_tree_rs_fail(r, -errno, e->path, "chmod");
	ts[0].tv_sec = ts[1].tv_sec = (time_t)(e->mtime_ns / 1000000000);
	ts[0].tv_nsec = ts[1].tv_nsec = (long)(e->mtime_ns % 1000000000);
	if (ts[1].tv_nsec < 0) {
		ts[0].tv_sec = --ts[1].tv_sec;
		ts[0].tv_nsec = ts[1].tv_nsec += 1000000000;
	}
	if (futimens(fd, ts) == -1)
		return snap_tree_rs_fail(r, -errno, e->path, "utimens");
	return 0;
}

static int
snap_tree_rs_write(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A regular file: every chunk proven, then written. */
static int
snap_tree_rs_file(struct snap_tree_rs *r, int dfd, const char *base,
    const struct snap_tree_entry *e)
{
	const struct snap_manifest *m = r->m;
	char hex[SNAP_HEX_LEN + 1];
	uint64_t total = 0;
	int fd, x = 0;

	fd = openat(dfd, base,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return snap_tree_rs_fail(r, -errno, e->path, "create");
	for (uint64_t j = 0; j < e->nchunks && x == 0; j++) {
		const struct snap_id *id = &m->chunks[m->nindex + e->first + j];
		const char *why = NULL;
		size_t got = 0;

		x = snap_store_chunk_get(
		    r->s, id, r->buf, SNAP_CDC_MAX, &got, &why);
		if (x != 0) {
			snap_id_hex(id, hex);
			snprintf(r->err, r->errlen,
			    "%s: data chunk %" PRIu64 " %s: %s", e->path, j,
			    hex,
			    x == -ENOENT ? "missing from the store" :
			        why      ? why :
			                   strerror(-x));
			break;
		}
		total += got;
		if (total > e->size) {
			snprintf(r->err, r->errlen,
			    "%s: chunks longer than the file", e->path);
			x = -EBADMSG;
			break;
		}
		if ((x = snap_tree_rs_write(fd, r->buf, got)) != 0)
			snap_tree_rs_fail(r, x, e->path, "write");
	}
	if (x == 0 && total != e->size) {
		snprintf(r->err, r->errlen, "%s: chunks shorter than the file",
		    e->path);
		x = -EBADMSG;
	}
	if (x == 0)
		x = snap_tree_rs_meta(r, fd, e);
	close(fd);
	return x;
}

static int
snap_tree_rs_symlink(struct snap_tree_rs *r, int dfd, const char *base,
    const struct snap_tree_entry *e)
{
	struct timespec ts[2];

	if (symlinkat(e->target, dfd, base) == -1)
		return snap_tree_rs_fail(r, -errno, e->path, "symlink");
	if (r->root &&
	    fchownat(dfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) == -1)
		return snap_tree_rs_fail(r, -errno, e->path, "chown");
	ts[0].tv_sec = ts[1].tv_sec = (time_t)(e->mtime_ns / 1000000000);
	ts[0].tv_nsec = ts[1].tv_nsec = (long)(e->mtime_ns % 1000000000);
	if (ts[1].tv_nsec < 0) {
		ts[0].tv_sec = --ts[1].tv_sec;
		ts[0].tv_nsec = ts[1].tv_nsec += 1000000000;
	}
	if (utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW) == -1)
		return snap_tree_rs_fail(r, -errno, e->path, "utimens");
	return 0;
}

static int
snap_tree_rs_hardlink(struct snap_tree_rs *r, int dfd, const char *base,
    const struct snap_tree_entry *e)
{
	const char *sl = strrchr(e->target, '/'), *tbase;
	char *tdir;
	int tfd, x = 0;

	tbase = sl ? sl + 1 : e->target;
	tdir = sl ? xstrndup(e->target, (size_t)(sl - e->target)) : xstrdup("");
	tfd = snap_tree_rs_opendir(r, tdir);
	free(tdir);
	if (tfd < 0)
		return snap_tree_rs_fail(r, tfd, e->target, "open");
	if (linkat(tfd, tbase, dfd, base, 0) == -1)
		x = snap_tree_rs_fail(r, -errno, e->path, "link");
	close(tfd);
	return x;
}

/* First pass: entry i (not the root) created. */
static int
snap_tree_rs_entry(struct snap_tree_rs *r, const struct snap_tree_entry *e)
{
	const char *base;
	int dfd = snap_tree_rs_parent(r, e->path, &base);

	if (dfd < 0)
		return snap_tree_rs_fail(r, dfd, e->path, "parent directory");
	switch (e->type) {
	case SNAP_TREE_DIR:
		if (mkdirat(dfd, base, 0700) == -1)
			return snap_tree_rs_fail(r, -errno, e->path, "mkdir");
		return 0;
	case SNAP_TREE_FILE:
		return snap_tree_rs_file(r, dfd, base, e);
	case SNAP_TREE_SYMLINK:
		return snap_tree_rs_symlink(r, dfd, base, e);
	case SNAP_TREE_HARDLINK:
		return snap_tree_rs_hardlink(r, dfd, base, e);
	}
	return snap_tree_rs_fail(r, -EINVAL, e->path, "type");
}

/* Last pass: a directory's metadata. */
static int
snap_tree_rs_dir(struct snap_tree_rs *r, const struct snap_tree_entry *e)
{
	int fd = snap_tree_rs_opendir(r, e->path), x;

	if (fd < 0)
		return snap_tree_rs_fail(r, fd, e->path, "open");
	x = snap_tree_rs_meta(r, fd, e);
	close(fd);
	return x;
}

/* Remove name in dfd and everything under it, never following links. */
static void
snap_tree_rmrf(int dfd, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (unlinkat(dfd, name, 0) == 0 || (errno != EISDIR && errno != EPERM))
		return;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return;
	(void)fchmod(fd, 0700);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			snap_tree_rmrf(dirfd(d), de->d_name);
	closedir(d);
	(void)unlinkat(dfd, name, AT_REMOVEDIR);
}

/* Both passes into the temp root. */
static int
snap_tree_rs_run(struct snap_tree_rs *r)
{
	const struct snap_tree *t = r->t;
	int x;

	for (size_t i = 1; i < t->n; i++)
		if ((x = snap_tree_rs_entry(r, &t->e[i])) != 0)
			return x;
	if (r->pfd != -1)
		close(r->pfd);
	r->pfd = -1;
	for (size_t i = t->n; i-- > 1;)
		if (t->e[i].type == SNAP_TREE_DIR &&
		    (x = snap_tree_rs_dir(r, &t->e[i])) != 0)
			return x;
	if ((x = snap_tree_rs_meta(r, r->rootfd, &t->e[0])) != 0)
		return x;
	if (syncfs(r->rootfd) == -1)
		return snap_tree_rs_fail(r, -errno, "", "syncfs");
	return 0;
}

/* Make the temp directory tmp in dfd (named dir) and open it. */
static int
snap_tree_rs_tmp(
    struct snap_tree_rs *r, int dfd, const char *dir, const char *tmp)
{
	int e;

	if (mkdirat(dfd, tmp, 0700) == -1) {
		e = -errno;
		snprintf(
		    r->err, r->errlen, "%s/%s: %s", dir, tmp, strerror(errno));
		return e;
	}
	r->rootfd =
	    openat(dfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r->rootfd == -1) {
		e = -errno;
		snprintf(
		    r->err, r->errlen, "%s/%s: %s", dir, tmp, strerror(errno));
		(void)unlinkat(dfd, tmp, AT_REMOVEDIR);
		return e;
	}
	return 0;
}

int
snap_tree_restore(struct snap_store *s, const struct snap_manifest *m,
    const char *outdir, char *err, size_t errlen)
{
	struct snap_tree_rs r = { .s = s,
		.m = m,
		.pfd = -1,
		.err = err,
		.errlen = errlen,
		.rootfd = -1 };
	char *copy = xstrdup(outdir), *dir, *base, *tmp = NULL;
	struct snap_tree t;
	struct stat sb;
	int dfd = -1, e;

	dir = xstrdup(dirname(copy));
	free(copy);
	copy = xstrdup(outdir);
	base = xstrdup(basename(copy));
	free(copy);
	if (lstat(outdir, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
		snprintf(
		    err, errlen, "%s exists and is not a directory", outdir);
		e = -EEXIST;
		goto out;
	}
	if ((e = snap_tree_load(s, m, &t, err, errlen)) != 0)
		goto out;
	r.t = &t;
	r.buf = xmalloc(SNAP_CDC_MAX);
	r.root = geteuid() == 0;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fini;
	}
	tmp = xasprintf(".%s.haven-tmp.%d", base, (int)getpid());
	if ((e = snap_tree_rs_tmp(&r, dfd, dir, tmp)) != 0)
		goto fini;
	e = snap_tree_rs_run(&r);
	/* Over an empty directory only: a full one is ENOTEMPTY. */
	if (e == 0 && renameat(dfd, tmp, dfd, base) == -1) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", outdir,
		    errno == ENOTEMPTY || errno == EEXIST ?
		        "exists and is not empty" :
		        strerror(errno));
	}
	if (e != 0)
		snap_tree_rmrf(dfd, tmp);
	else
		(void)fsync(dfd);
fini:
	if (r.pfd != -1)
		close(r.pfd);
	if (r.rootfd != -1)
		close(r.rootfd);
	if (dfd != -1)
		close(dfd);
	free(r.ppath);
	free(r.buf);
	snap_tree_fini(&t);
out:
	free(tmp);
	free(dir);
	free(base);
	return e;
}

void
snap_tree_where(struct snap_store *s, const struct snap_manifest *m, uint64_t k,
    char *out, size_t outlen)
{
	const struct snap_tree_entry *f;
	struct snap_tree t;
	char why[256];
	uint64_t nth;

	if (k < m->nindex) {
		snprintf(out, outlen, "tree index chunk %" PRIu64, k);
		return;
	}
	if (snap_tree_load(s, m, &t, why, sizeof(why)) != 0) {
		snprintf(out, outlen,
		    "data chunk %" PRIu64 " (file unknown: %s)", k - m->nindex,
		    why);
		return;
	}
	f = snap_tree_owner(&t, k - m->nindex, &nth);
	if (f != NULL)
		snprintf(out, outlen,
		    "file %s (data chunk %" PRIu64 " of %" PRIu64 ")", f->path,
		    nth + 1, f->nchunks);
	else
		snprintf(out, outlen, "data chunk %" PRIu64, k - m->nindex);
	snap_tree_fini(&t);
}
