/*
 * snap_cd.c - the change-detection methods (rescan, reflink), the state
 * file that ties a baseline copy to the snapshot it is the image of, and
 * `snap clone` by FICLONE of that baseline. snap_cd.h has the rules.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/statefile.h"
#include "lib/util.h"
#include "snap/snap_cd.h"
#include "snap/snap_chunker.h"

#define SNAP_CD_STATE_MAGIC  "haven-snap-cd 1"
#define SNAP_CD_FIEMAP_BATCH 512

/* What <store>/cd/<volume> says. */
int
snap_cd_kind_parse(const char *s, enum snap_cd_kind *out)
{
	if (strcmp(s, "auto") == 0)
		*out = SNAP_CD_AUTO;
	else if (strcmp(s, "rescan") == 0)
		*out = SNAP_CD_RESCAN;
	else if (strcmp(s, "reflink") == 0)
		*out = SNAP_CD_REFLINK;
	else
		return -EINVAL;
	return 0;
}

const char *
snap_cd_kind_name(enum snap_cd_kind k)
{
	return k == SNAP_CD_RESCAN ? "rescan" :
	    k == SNAP_CD_REFLINK   ? "reflink" :
	                             "auto";
}

/* ---- the state file ---- */

static char *
snap_cd_state_dir(const char *root, const char *kind)
{
	return xasprintf("%s/%s", root, kind);
}

int
snap_cd_state_parse(const char *p, size_t len, struct snap_cd_state *st)
{
	char *t, magic[32];
	int n;

	memset(st, 0, sizeof(*st));
	if (len == 0 || len > SNAP_CD_STATE_MAX || memchr(p, '\0', len))
		return -EBADMSG;
	t = xstrndup(p, len);
	/* %4095[^\n] matches base's PATH_MAX - 1. */
	n = sscanf(t,
	    "%31[^\n]\nsnapshot %64s\nroot %64s\nsize %" SCNu64
	    "\nchunk_size %" SCNu32 "\nbase %4095[^\n]\ndev %" SCNu64
	    "\nino %" SCNu64 "\nctime %" SCNd64 " %" SCNd64,
	    magic, st->snapshot, st->root, &st->size, &st->chunk_size, st->base,
	    &st->dev, &st->ino, &st->ctime_s, &st->ctime_ns);
	free(t);
	if (n != 10 || strcmp(magic, SNAP_CD_STATE_MAGIC) != 0) {
		memset(st, 0, sizeof(*st));
		return -EBADMSG;
	}
	return 0;
}

void
snap_cd_state_format(const struct snap_cd_state *st, struct buf *out)
{
	buf_printf(out,
	    "%s\nsnapshot %s\nroot %s\nsize %" PRIu64 "\nchunk_size %" PRIu32
	    "\nbase %s\ndev %" PRIu64 "\nino %" PRIu64 "\nctime %" PRId64
	    " %" PRId64 "\n",
	    SNAP_CD_STATE_MAGIC, st->snapshot, st->root, st->size,
	    st->chunk_size, st->base, st->dev, st->ino, st->ctime_s,
	    st->ctime_ns);
}

int
snap_cd_state_load(const char *root, const char *kind, const char *volume,
    struct snap_cd_state *st)
{
	char *dir = snap_cd_state_dir(root, kind);
	struct buf b;
	int e;

	buf_init(&b);
	memset(st, 0, sizeof(*st));
	e = statefile_read(dir, volume, &b);
	free(dir);
	if (e == 0)
		e = snap_cd_state_parse(b.data ? b.data : "", b.len, st);
	buf_fini(&b);
	return e;
}

int
snap_cd_state_save(const struct snap_store *s, const char *kind,
    const struct snap_manifest *m, const char *base, const struct stat *sb)
{
	char *dir = snap_cd_state_dir(s->root, kind);
	struct snap_cd_state st;
	struct buf b;
	int e;

	memset(&st, 0, sizeof(st));
	snprintf(st.snapshot, sizeof(st.snapshot), "%s", m->id);
	snap_id_hex(&m->root, st.root);
	st.size = m->size;
	st.chunk_size = m->chunk_size;
	snprintf(st.base, sizeof(st.base), "%s", base);
	st.dev = (uint64_t)sb->st_dev;
	st.ino = (uint64_t)sb->st_ino;
	st.ctime_s = (int64_t)sb->st_ctim.tv_sec;
	st.ctime_ns = (int64_t)sb->st_ctim.tv_nsec;
	buf_init(&b);
	snap_cd_state_format(&st, &b);
	if ((e = statefile_mkdir(dir)) == 0)
		e = statefile_write(dir, m->volume, b.data, b.len);
	buf_fini(&b);
	free(dir);
	return e;
}

/*
 * Is the baseline at st->base still exactly what the state recorded (and
 * so the image of st->snapshot)? Any write to it changes its ctime.
 */
bool
snap_cd_state_intact(const struct snap_cd_state *st, const struct stat *sb)
{
	return S_ISREG(sb->st_mode) && (uint64_t)sb->st_dev == st->dev &&
	    (uint64_t)sb->st_ino == st->ino &&
	    (uint64_t)sb->st_size == st->size &&
	    (int64_t)sb->st_ctim.tv_sec == st->ctime_s &&
	    (int64_t)sb->st_ctim.tv_nsec == st->ctime_ns;
}

/*
 * Is the baseline the state describes m's image? The root hash covers the
 * size, the chunk size and every chunk ID, so a manifest with the same
 * root names exactly the baseline's chunks, whichever snapshot recorded
 * it (a rescan snapshot of unchanged data keeps the baseline usable).
 */
bool
snap_cd_state_of(const struct snap_cd_state *st, const struct snap_manifest *m)
{
	char root[SNAP_HEX_LEN + 1];

	snap_id_hex(&m->root, root);
	return strcmp(st->root, root) == 0 && st->size == m->size &&
	    st->chunk_size == m->chunk_size;
}

static void
snap_cd_fsync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd != -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

/* Remove path's directory if it is empty (ours, made for nothing). */
static void
snap_cd_rmdir(const char *path)
{
	char *copy = xstrdup(path);

	(void)rmdir(dirname(copy));
	free(copy);
}

/* ---- rescan ---- */

static int
snap_cd_rescan_begin(struct snap_cd *cd, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	cd->fd = cd->image_fd;
	return 0;
}

static int
snap_cd_rescan_commit(struct snap_cd *cd, const struct snap_manifest *m)
{
	(void)cd;
	(void)m;
	return 0;
}

static void
snap_cd_rescan_end(struct snap_cd *cd)
{
	(void)cd;
}

const struct snap_cd_ops snap_cd_rescan = {
	.name = "rescan",
	.begin = snap_cd_rescan_begin,
	.commit = snap_cd_rescan_commit,
	.end = snap_cd_rescan_end,
};

/* ---- reflink ---- */

/*
 * Every extent of fd in [0, size), flushed first with FIEMAP_FLAG_SYNC in
 * fm_flags (without it, data not yet written back shows as DELALLOC).
 */
static int
snap_cd_fiemap_flags(int fd, uint64_t size, uint32_t flags,
    struct snap_cd_extent **out, size_t *n)
{
	size_t bytes = sizeof(struct fiemap) +
	    SNAP_CD_FIEMAP_BATCH * sizeof(struct fiemap_extent);
	struct fiemap *fm = xmalloc(bytes);
	uint64_t start = 0;
	size_t cap = 0;
	int e = 0;

	*out = NULL;
	*n = 0;
	while (start < size) {
		const struct fiemap_extent *fe = NULL;

		memset(fm, 0, bytes);
		fm->fm_start = start;
		fm->fm_length = size - start;
		fm->fm_flags = flags;
		fm->fm_extent_count = SNAP_CD_FIEMAP_BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) == -1) {
			e = -errno;
			break;
		}
		if (fm->fm_mapped_extents == 0)
			break;
		for (uint32_t i = 0; i < fm->fm_mapped_extents; i++) {
			fe = &fm->fm_extents[i];
			if (*n == cap) {
				cap = cap ? 2 * cap : 64;
				*out = xrealloc(*out, cap * sizeof(**out));
			}
			(*out)[(*n)++] = (struct snap_cd_extent){
				.logical = fe->fe_logical,
				.physical = fe->fe_physical,
				.length = fe->fe_length,
				.flags = fe->fe_flags,
			};
		}
		if ((fe->fe_flags & FIEMAP_EXTENT_LAST) != 0 ||
		    fe->fe_logical + fe->fe_length <= start)
			break;
		start = fe->fe_logical + fe->fe_length;
	}
	free(fm);
	if (e != 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return e;
}

static int
snap_cd_fiemap(int fd, uint64_t size, struct snap_cd_extent **out, size_t *n)
{
	return snap_cd_fiemap_flags(fd, size, FIEMAP_FLAG_SYNC, out, n);
}

/* "<dir of the image>/.haven-snap/<volume>-<8 hex of the store path>" */
static int
snap_cd_reflink_paths(struct snap_cd *cd, char *err, size_t errlen)
{
	char *img = realpath(cd->path, NULL), *root, *dir,
	     hex[SNAP_HEX_LEN + 1];
	struct snap_id h;
	int e = 0;

	root = realpath(cd->store->root, NULL);
	if (img == NULL || root == NULL) {
		e = -errno;
		snprintf(err, errlen, "realpath: %s", strerror(errno));
		goto out;
	}
	snap_id_of(root, strlen(root), &h);
	snap_id_hex(&h, hex);
	dir = xasprintf("%s/.haven-snap", dirname(img));
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(dir);
		goto out;
	}
	cd->base_path = xasprintf("%s/%s-%.8s.base", dir, cd->volume, hex);
	cd->copy_path =
	    xasprintf("%s/%s-%.8s.new.%d", dir, cd->volume, hex, (int)getpid());
	free(dir);
out:
	free(img);
	free(root);
	return e;
}

/* Which chunks can keep the parent's IDs; leaves cd->note when none. */
static void
snap_cd_reflink_compare(struct snap_cd *cd)
{
	const struct snap_manifest *p = cd->parent;
	struct snap_cd_extent *xo = NULL, *xn = NULL;
	struct snap_cd_state st;
	struct stat sb, cb;
	size_t no = 0, nn = 0;
	int64_t r;
	int bfd = -1;

	if (p == NULL) {
		snprintf(cd->note, sizeof(cd->note), "no parent snapshot");
		return;
	}
	if (p->chunk_size != cd->chunk_size) {
		snprintf(cd->note, sizeof(cd->note),
		    "parent has another chunk size");
		return;
	}
	if (snap_cd_state_load(cd->store->root, "cd", cd->volume, &st) != 0 ||
	    !snap_cd_state_of(&st, p) || strcmp(st.base, cd->base_path) != 0) {
		snprintf(cd->note, sizeof(cd->note),
		    "no baseline copy of parent %s", p->id);
		return;
	}
	bfd = open(st.base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (bfd == -1 || fstat(bfd, &sb) == -1 ||
	    !snap_cd_state_intact(&st, &sb)) {
		snprintf(cd->note, sizeof(cd->note),
		    "baseline of %s changed or missing", p->id);
		goto out;
	}
	/* Physical offsets compare only within one file system. */
	if (fstat(cd->copy_fd, &cb) == -1 || cb.st_dev != sb.st_dev) {
		snprintf(cd->note, sizeof(cd->note),
		    "baseline on another file system");
		goto out;
	}
	if (snap_cd_fiemap(bfd, st.size, &xo, &no) != 0 ||
	    snap_cd_fiemap(cd->copy_fd, (uint64_t)cb.st_size, &xn, &nn) != 0) {
		snprintf(cd->note, sizeof(cd->note), "FIEMAP failed");
		goto out;
	}
	/* Still untouched now that its extents are read. */
	if (fstat(bfd, &sb) == -1 || !snap_cd_state_intact(&st, &sb)) {
		snprintf(cd->note, sizeof(cd->note),
		    "baseline of %s changed during the snapshot", p->id);
		goto out;
	}
	cd->nchunks = snap_chunker_count((uint64_t)cb.st_size, cd->chunk_size);
	cd->changed = xmalloc((size_t)((cd->nchunks + 7) / 8) + 1);
	r = snap_cd_compare(xo, no, st.size, xn, nn, (uint64_t)cb.st_size,
	    cd->chunk_size, cd->changed);
	if (r < 0) {
		snprintf(cd->note, sizeof(cd->note), "extent lists unusable");
		free(cd->changed);
		cd->changed = NULL;
	}
out:
	if (bfd != -1)
		close(bfd);
	free(xo);
	free(xn);
}

/*
 * The copy is an O_TMPFILE in the baseline's directory where the file
 * system has them (XFS, btrfs): a crash before the commit leaves nothing
 * behind. Elsewhere it is a named file, removed on every path but a crash.
 */
static int
snap_cd_reflink_open(struct snap_cd *cd, char *err, size_t errlen)
{
	char *dir = xstrdup(cd->base_path);
	int e = 0;

	cd->copy_fd = open(dirname(dir), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	free(dir);
	if (cd->copy_fd != -1) {
		cd->copy_anon = true;
		return 0;
	}
	cd->copy_fd = open(cd->copy_path,
	    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (cd->copy_fd == -1) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", cd->copy_path, strerror(errno));
	}
	return e;
}

static int
snap_cd_reflink_begin(struct snap_cd *cd, char *err, size_t errlen)
{
	int e;

	if ((e = snap_cd_reflink_paths(cd, err, errlen)) != 0)
		return e;
	if ((e = snap_cd_reflink_open(cd, err, errlen)) != 0) {
		free(cd->copy_path);
		cd->copy_path = NULL;
		snap_cd_rmdir(cd->base_path);
		return e;
	}
	/* The point-in-time copy: from here on the image may change. */
	if (ioctl(cd->copy_fd, FICLONE, cd->image_fd) == -1) {
		e = -errno;
		snprintf(err, errlen, "FICLONE of %s: %s", cd->path,
		    strerror(errno));
		/* No reflinks on this file system (or not across them):
		 * leave no trace beside the image. */
		if (e == -EINVAL || e == -ENOTTY || e == -ENOSYS)
			e = -EOPNOTSUPP;
		if (!cd->copy_anon)
			unlink(cd->copy_path);
		free(cd->copy_path);
		cd->copy_path = NULL;
		snap_cd_rmdir(cd->base_path);
		return e;
	}
	cd->fd = cd->copy_fd;
	snap_cd_reflink_compare(cd);
	return 0;
}

static int
snap_cd_reflink_commit(struct snap_cd *cd, const struct snap_manifest *m)
{
	char proc[64];
	struct stat sb;
	int e;

	/* Durable copy, then the name, then the state naming its inode: a
	 * crash in between leaves a state that no longer matches. */
	if (fsync(cd->copy_fd) == -1)
		return -errno;
	if (cd->copy_anon) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", cd->copy_fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, cd->copy_path,
		        AT_SYMLINK_FOLLOW) == -1)
			return -errno;
		cd->copy_anon = false;
	}
	if (rename(cd->copy_path, cd->base_path) == -1)
		return -errno;
	free(cd->copy_path);
	cd->copy_path = NULL;
	snap_cd_fsync_dir(cd->base_path);
	if (fstat(cd->copy_fd, &sb) == -1)
		return -errno;
	if ((e = snap_cd_state_save(cd->store, "cd", m, cd->base_path, &sb)) !=
	    0)
		return e;
	return 0;
}

static void
snap_cd_reflink_end(struct snap_cd *cd)
{
	if (cd->copy_path != NULL && !cd->copy_anon)
		unlink(cd->copy_path);
}

const struct snap_cd_ops snap_cd_reflink = {
	.name = "reflink",
	.begin = snap_cd_reflink_begin,
	.commit = snap_cd_reflink_commit,
	.end = snap_cd_reflink_end,
};

/* ---- the interface ---- */

static void
snap_cd_reset(struct snap_cd *cd)
{
	if (cd->ops != NULL)
		cd->ops->end(cd);
	if (cd->copy_fd != -1)
		close(cd->copy_fd);
	free(cd->copy_path);
	free(cd->base_path);
	free(cd->changed);
	cd->copy_fd = -1;
	cd->copy_anon = false;
	cd->copy_path = cd->base_path = NULL;
	cd->changed = NULL;
	cd->nchunks = 0;
	cd->fd = -1;
}

int
snap_cd_begin(struct snap_cd *cd, enum snap_cd_kind want, struct snap_store *s,
    const char *volume, const char *path, int image_fd,
    const struct snap_manifest *parent, uint32_t chunk_size, char *err,
    size_t errlen)
{
	int e;

	memset(cd, 0, sizeof(*cd));
	cd->store = s;
	cd->volume = volume;
	cd->path = path;
	cd->image_fd = image_fd;
	cd->parent = parent;
	cd->chunk_size = chunk_size;
	cd->fd = cd->copy_fd = -1;
	if (want != SNAP_CD_RESCAN) {
		cd->ops = &snap_cd_reflink;
		if ((e = cd->ops->begin(cd, err, errlen)) == 0)
			return 0;
		if (want == SNAP_CD_REFLINK)
			return e;
		/* auto: this file system (or directory) cannot; rescan. */
		snprintf(cd->note, sizeof(cd->note), "reflink: %s", err);
		err[0] = '\0';
		snap_cd_reset(cd);
	}
	cd->ops = &snap_cd_rescan;
	return cd->ops->begin(cd, err, errlen);
}

bool
snap_cd_reuse(const struct snap_cd *cd, uint64_t i)
{
	return cd->changed != NULL && cd->parent != NULL && i < cd->nchunks &&
	    i < cd->parent->nchunks &&
	    ((cd->changed[i / 8] >> (i % 8)) & 1) == 0;
}

int
snap_cd_commit(struct snap_cd *cd, const struct snap_manifest *m)
{
	return cd->ops->commit(cd, m);
}

void
snap_cd_end(struct snap_cd *cd)
{
	snap_cd_reset(cd);
	cd->ops = NULL;
}

/* ---- clone ---- */

int
snap_cd_clone(struct snap_store *s, const struct snap_manifest *m,
    const char *path, char *why, size_t whylen)
{
	struct snap_cd_state st;
	struct stat sb;
	char *tmp = NULL;
	int bfd, fd = -1, e;

	if (snap_cd_state_load(s->root, "cd", m->volume, &st) != 0 ||
	    !snap_cd_state_of(&st, m)) {
		snprintf(why, whylen, "no baseline copy of this snapshot");
		return -ENOENT;
	}
	bfd = open(st.base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (bfd == -1 || fstat(bfd, &sb) == -1 ||
	    !snap_cd_state_intact(&st, &sb)) {
		snprintf(why, whylen, "the baseline copy changed or is gone");
		e = -ESTALE;
		goto out;
	}
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		snprintf(why, whylen, "%s is not a regular file", path);
		e = -EINVAL;
		goto out;
	}
	tmp = xasprintf("%s.haven-tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1 || ioctl(fd, FICLONE, bfd) == -1 || fsync(fd) == -1 ||
	    rename(tmp, path) == -1) {
		e = -errno;
		snprintf(
		    why, whylen, "FICLONE to %s: %s", path, strerror(errno));
		if (fd != -1)
			unlink(tmp);
		goto out;
	}
	snap_cd_fsync_dir(path);
	e = 0;
out:
	if (fd != -1)
		close(fd);
	if (bfd != -1)
		close(bfd);
	free(tmp);
	return e;
}

int
snap_cd_dirty(
    const char *store, const char *volume, const char *path, uint64_t *bytes)
{
	struct snap_cd_extent *xo = NULL, *xn = NULL;
	struct snap_cd_state st;
	struct stat bs, is;
	size_t no = 0, nn = 0;
	uint8_t *changed = NULL;
	int64_t r;
	int bfd = -1, ifd = -1, e;

	if ((e = snap_cd_state_load(store, "cd", volume, &st)) != 0)
		return e == -ENOENT ? -ENOENT : -EBADMSG;
	bfd = open(st.base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ifd = open(path, O_RDONLY | O_CLOEXEC);
	if (bfd == -1 || ifd == -1 || fstat(bfd, &bs) == -1 ||
	    fstat(ifd, &is) == -1) {
		e = -errno;
		goto out;
	}
	if (!snap_cd_state_intact(&st, &bs) || bs.st_dev != is.st_dev) {
		e = -ESTALE;
		goto out;
	}
	/* The image with FIEMAP_FLAG_SYNC: XFS keeps a copy-on-write of a
	 * shared extent in its COW fork until writeback, and FIEMAP shows
	 * the data fork, still the shared extent: unsynced, a rewrite looks
	 * unchanged. The baseline is never written: no sync. */
	if ((e = snap_cd_fiemap_flags(bfd, st.size, 0, &xo, &no)) != 0 ||
	    (e = snap_cd_fiemap_flags(
	         ifd, (uint64_t)is.st_size, FIEMAP_FLAG_SYNC, &xn, &nn)) != 0)
		goto out;
	changed = xmalloc(
	    (size_t)((snap_chunker_count((uint64_t)is.st_size, st.chunk_size) +
	                 7) /
	        8) +
	    1);
	r = snap_cd_compare(xo, no, st.size, xn, nn, (uint64_t)is.st_size,
	    st.chunk_size, changed);
	if (r < 0) {
		e = (int)r;
		goto out;
	}
	*bytes = MIN((uint64_t)r * st.chunk_size, (uint64_t)is.st_size);
out:
	if (bfd != -1)
		close(bfd);
	if (ifd != -1)
		close(ifd);
	free(xo);
	free(xn);
	free(changed);
	return e;
}
