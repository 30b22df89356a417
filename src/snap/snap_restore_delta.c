/*
 * snap_restore_delta.c - restore onto an image that is already there
 * (snap.h: snap_restore_onto).
 *
 * A failback promotes onto the image the node had when it was primary; a
 * restore after a bad deploy goes over the image it replaces. Most of the
 * bytes are already right, and reading and hashing the old image costs a
 * fraction of reading, verifying and decompressing every chunk from the
 * store and writing all of it again. So each chunk of the old image is
 * read and hashed with the store's ID function; a chunk whose ID is the
 * manifest's stays, the others come from the store (verified as
 * snap_restore verifies them).
 *
 * The result is what snap_restore writes, byte for byte, by the same
 * rule: every chunk in it either hashed to its manifest ID from the very
 * buffer that was written, or passed the store's checks. Where it goes:
 *
 *   temp + rename (default)  the temp file is a FICLONE of the old image
 *                            where the file system has reflinks (then
 *                            only changed chunks are written, and the
 *                            comparison reads the clone, never the live
 *                            file a writer may still touch), else a new
 *                            file that gets every chunk; the target is
 *                            replaced only after the last chunk, as
 *                            snap_restore does.
 *   in place (opt-in)        chunks are patched into the target itself,
 *                            the way rsync --inplace does: no second copy
 *                            of the image, but a crash leaves a mix of old
 *                            and new. <path>.haven-partial names the
 *                            snapshot while the target is being patched;
 *                            running the restore again finishes it (every
 *                            chunk is compared again).
 */
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/falloc.h>
#include <linux/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "snap/snap.h"
#include "snap/snap_chunker.h"

/* One restore onto an existing image. */
struct snap_rd {
	struct snap_store *s;          /* borrowed */
	const struct snap_manifest *m; /* borrowed */
	int cmp_fd; /* borrowed: where the old bytes are read from */
	int out_fd; /* borrowed: where chunks are written */
	bool copy;  /* out_fd starts empty: every nonzero chunk is written */
	const struct snap_manifest *known; /* borrowed: cmp_fd's image */
	uint8_t *old, *fresh;              /* owned: one chunk each */
	struct snap_restore_stats *st;
	char *err;
	size_t errlen;
};

static bool
snap_rd_all_zero(const uint8_t *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

/* A zero chunk over bytes that are not zero: a hole where one can be
 * punched, else written zeros. */
static int
snap_rd_zero(struct snap_rd *r, uint64_t off, uint32_t len)
{
	if (fallocate(r->out_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	        (off_t)off, (off_t)len) == 0)
		return 0;
	if (errno != EOPNOTSUPP)
		return -errno;
	memset(r->fresh, 0, len);
	return util_pwrite_all(r->out_fd, r->fresh, len, off);
}

/*
 * With a known old image: chunk i is the same when the known manifest has
 * the same ID over the same byte range (its last chunk may be shorter).
 */
static bool
snap_rd_known_same(
    const struct snap_rd *r, uint64_t i, uint64_t off, uint32_t len)
{
	const struct snap_manifest *k = r->known;
	uint64_t koff;
	uint32_t klen;

	if (k->chunk_size != r->m->chunk_size || i >= k->nchunks)
		return false;
	snap_chunker_range(k->size, k->chunk_size, i, &koff, &klen);
	return koff == off && klen == len &&
	    memcmp(k->chunks[i].b, r->m->chunks[i].b, SNAP_ID_LEN) == 0;
}

/* Chunk i: keep it, or bring it from the store. */
static int
snap_rd_chunk(struct snap_rd *r, uint64_t i)
{
	const struct snap_id *want = &r->m->chunks[i];
	struct snap_id id;
	uint64_t off;
	uint32_t len;
	ssize_t n;
	bool same;
	int e;

	snap_chunker_range(r->m->size, r->m->chunk_size, i, &off, &len);
	if (r->known != NULL) {
		if (snap_rd_known_same(r, i, off, len)) {
			r->st->kept++;
			return 0;
		}
		n = 0; /* differs: no need to read it */
	} else if ((n = util_pread_full(r->cmp_fd, r->old, len, off)) < 0) {
		snprintf(r->err, r->errlen, "reading the old image at %llu: %s",
		    (unsigned long long)off, strerror((int)-n));
		return (int)n;
	}
	if (snap_id_is_zero(want)) {
		same = (size_t)n == len && snap_rd_all_zero(r->old, len);
		if (r->copy || same) { /* a new file: left a hole */
			r->st->kept += same;
			r->st->written += !same;
			return 0;
		}
		r->st->written++;
		if ((e = snap_rd_zero(r, off, len)) != 0)
			snprintf(r->err, r->errlen, "zeroing at %llu: %s",
			    (unsigned long long)off, strerror(-e));
		return e;
	}
	same = false;
	if ((size_t)n == len) {
		snap_store_id_of(r->s, r->old, len, &id);
		same = memcmp(id.b, want->b, SNAP_ID_LEN) == 0;
	}
	if (same) {
		r->st->kept++;
		if (!r->copy)
			return 0;
		e = util_pwrite_all(r->out_fd, r->old, len, off);
	} else {
		r->st->written++;
		if ((e = snap_restore_chunk_get(
		         r->s, r->m, i, r->fresh, r->err, r->errlen)) != 0)
			return e;
		e = util_pwrite_all(r->out_fd, r->fresh, len, off);
	}
	if (e != 0)
		snprintf(r->err, r->errlen, "writing at %llu: %s",
		    (unsigned long long)off, strerror(-e));
	return e;
}

static int
snap_rd_run(struct snap_rd *r)
{
	int e = 0;

	r->old = xmalloc(r->m->chunk_size);
	r->fresh = xmalloc(r->m->chunk_size);
	for (uint64_t i = 0; i < r->m->nchunks && e == 0; i++)
		e = snap_rd_chunk(r, i);
	free(r->old);
	free(r->fresh);
	if (e == 0 &&
	    (ftruncate(r->out_fd, (off_t)r->m->size) == -1 ||
	        fsync(r->out_fd) == -1)) {
		e = -errno;
		snprintf(r->err, r->errlen, "%s", strerror(errno));
	}
	return e;
}

static void
snap_rd_sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd != -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

/* The marker file names the snapshot being patched in. */
static int
snap_rd_mark(const char *marker, const struct snap_manifest *m)
{
	char line[SNAP_NAME_MAX * 2 + 8];
	int fd, e = 0, n;

	fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return -errno;
	n = snprintf(line, sizeof(line), "%s/%s\n", m->volume, m->id);
	if (util_pwrite_all(fd, (const uint8_t *)line, (size_t)n, 0) != 0 ||
	    fsync(fd) == -1)
		e = -errno;
	close(fd);
	return e;
}

static int
snap_rd_inplace(struct snap_rd *r, const char *path)
{
	char *marker = xasprintf("%s.haven-partial", path);
	int fd, e;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd == -1) {
		e = -errno;
		snprintf(r->err, r->errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((e = snap_rd_mark(marker, r->m)) != 0) {
		snprintf(r->err, r->errlen, "%s: %s", marker, strerror(-e));
		close(fd);
		goto out;
	}
	snap_rd_sync_dir(marker);
	r->cmp_fd = r->out_fd = fd;
	r->st->inplace = true;
	e = snap_rd_run(r);
	close(fd);
	if (e == 0) { /* the marker stays when the target is a mix */
		unlink(marker);
		snap_rd_sync_dir(marker);
	}
out:
	free(marker);
	return e;
}

static int
snap_rd_replace(struct snap_rd *r, const char *path, int old_fd)
{
	char *tmp = xasprintf("%s.haven-tmp.%d", path, (int)getpid());
	int fd, e;

	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1) {
		e = -errno;
		snprintf(r->err, r->errlen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return e;
	}
	r->out_fd = fd;
	if (ioctl(fd, FICLONE, old_fd) == 0) {
		r->st->cloned = true;
		r->cmp_fd = fd;
	} else {
		r->copy = true;
		r->cmp_fd = old_fd;
		r->known = NULL;
		r->st->known = false;
	}
	e = snap_rd_run(r);
	close(fd);
	if (e == 0 && rename(tmp, path) == -1) {
		e = -errno;
		snprintf(r->err, r->errlen, "%s: %s", path, strerror(errno));
	}
	if (e != 0)
		unlink(tmp);
	else
		snap_rd_sync_dir(path);
	free(tmp);
	return e;
}

int
snap_restore_onto(struct snap_store *s, const struct snap_manifest *m,
    const char *path, const struct snap_restore_onto_opts *o,
    struct snap_restore_stats *st, char *err, size_t errlen)
{
	static const struct snap_restore_onto_opts none;
	struct snap_restore_stats scratch;
	struct snap_rd r = {
		.s = s,
		.m = m,
		.st = st != NULL ? st : &scratch,
		.err = err,
		.errlen = errlen,
	};
	struct stat sb;
	int old_fd, e;

	memset(r.st, 0, sizeof(*r.st));
	if (o == NULL)
		o = &none;
	if (m->kind == SNAP_KIND_TREE)
		return snap_restore(
		    s, m, path, SNAP_RESTORE_SPARSE, err, errlen);
	/* O_NONBLOCK: a FIFO at path must not hang the open; fstat refuses
	 * it below. On a regular file the flag does nothing. */
	old_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (old_fd == -1 && errno == ENOENT) { /* nothing to start from */
		if ((e = snap_restore(
		         s, m, path, SNAP_RESTORE_SPARSE, err, errlen)) == 0)
			r.st->written = m->nchunks;
		return e;
	}
	if (old_fd == -1 || fstat(old_fd, &sb) == -1) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen,
		    "%s exists and is not a regular file "
		    "(for a device: export ID - | dd of=%s)",
		    path, path);
		e = -EINVAL;
		goto out;
	}
	r.st->delta = true;
	/* A known image is compared by ID only: sound in place, or on a
	 * clone of it; a fresh copy needs every byte read. */
	r.known = o->known;
	r.st->known = o->known != NULL;
	e = o->inplace ? snap_rd_inplace(&r, path) :
	                 snap_rd_replace(&r, path, old_fd);
out:
	if (old_fd != -1)
		close(old_fd);
	return e;
}

const char *
snap_restore_how(const struct snap_restore_stats *st)
{
	if (st->known && st->written == 0)
		return "the standby image was at the snapshot already";
	if (st->known)
		return st->inplace ?
		    "in place, by ID against the standby record" :
		    "onto a reflink copy, by ID against the "
		    "standby record";
	if (st->inplace)
		return "in place";
	return st->cloned ? "onto a reflink copy" : "onto a new copy";
}
