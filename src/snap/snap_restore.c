/*
 * snap_restore.c - write a snapshot's image back out (restore, clone,
 * export).
 *
 * Every chunk is proven before a byte of it is written (frame XXH3-128,
 * then SHA-256 against its ID, then its length against its place in the
 * image), and a file target is a temp file renamed over the target only
 * after the last chunk passed: a damaged store yields an error and no
 * target, never a target with bad data in it. A sparse restore leaves zero
 * chunks as holes (never written, the size set with ftruncate), so a sparse
 * image comes back sparse.
 */
#include <sys/stat.h>

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
#include "snap/snap_tree_io.h"

static int
snap_restore_write(
    int fd, const uint8_t *p, size_t len, uint64_t off, bool stream)
{
	return stream ? util_write_all(fd, p, len) :
	                util_pwrite_all(fd, p, len, off);
}

int
snap_restore_chunk_get(struct snap_store *s, const struct snap_manifest *m,
    uint64_t i, uint8_t *buf, char *err, size_t errlen)
{
	char hex[SNAP_HEX_LEN + 1];
	const char *why = NULL;
	uint64_t off;
	uint32_t len;
	size_t got = 0;
	int e;

	snap_chunker_range(m->size, m->chunk_size, i, &off, &len);
	e = snap_store_chunk_get(
	    s, &m->chunks[i], buf, m->chunk_size, &got, &why);
	if (e == 0 && got != len) {
		why = "chunk length does not match its place in the image";
		e = -EBADMSG;
	}
	if (e != 0) {
		snap_id_hex(&m->chunks[i], hex);
		snprintf(err, errlen, "chunk %llu (offset %llu) %s: %s",
		    (unsigned long long)i, (unsigned long long)off, hex,
		    e == -ENOENT ? "missing from the store" :
		        why      ? why :
		                   strerror(-e));
	}
	return e;
}

/* The chunk loop; fd is the temp file or stdout. */
static int
snap_restore_chunks(struct snap_store *s, const struct snap_manifest *m, int fd,
    enum snap_restore_mode mode, bool stream, char *err, size_t errlen)
{
	uint8_t *buf = xmalloc(m->chunk_size), *zero = NULL;
	int e = 0;

	for (uint64_t i = 0; i < m->nchunks && e == 0; i++) {
		const uint8_t *p = buf;
		uint64_t off;
		uint32_t len;

		snap_chunker_range(m->size, m->chunk_size, i, &off, &len);
		if (snap_id_is_zero(&m->chunks[i])) {
			if (mode == SNAP_RESTORE_SPARSE)
				continue;
			if (zero == NULL)
				zero = xcalloc(1, m->chunk_size);
			p = zero;
		} else if ((e = snap_restore_chunk_get(
		                s, m, i, buf, err, errlen)) != 0) {
			break;
		}
		if ((e = snap_restore_write(fd, p, len, off, stream)) != 0)
			snprintf(err, errlen, "writing at %llu: %s",
			    (unsigned long long)off, strerror(-e));
	}
	free(zero);
	free(buf);
	return e;
}

int
snap_restore(struct snap_store *s, const struct snap_manifest *m,
    const char *path, enum snap_restore_mode mode, char *err, size_t errlen)
{
	char *tmp, *dir, *copy;
	struct stat st;
	int fd, e;

	if (m->kind == SNAP_KIND_TREE && mode == SNAP_RESTORE_FULL) {
		snprintf(err, errlen,
		    "a directory tree has no raw image to export: restore it");
		return -EINVAL;
	}
	if (m->kind == SNAP_KIND_TREE)
		return snap_tree_restore(s, m, path, err, errlen);
	if (mode == SNAP_RESTORE_FULL && strcmp(path, "-") == 0)
		return snap_restore_chunks(
		    s, m, STDOUT_FILENO, mode, true, err, errlen);
	/*
	 * The temp file is renamed over path: over a device node or a FIFO
	 * that would replace the node itself (think /dev/sdb). Only regular
	 * files are targets; a device takes `export ID - | dd of=DEV`.
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen,
		    "%s exists and is not a regular file "
		    "(for a device: export ID - | dd of=%s)",
		    path, path);
		return -EINVAL;
	}
	copy = xstrdup(path);
	dir = xstrdup(dirname(copy));
	free(copy);
	tmp = xasprintf("%s.haven-tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	e = snap_restore_chunks(s, m, fd, mode, false, err, errlen);
	if (e == 0 &&
	    (ftruncate(fd, (off_t)m->size) == -1 || fsync(fd) == -1)) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
	}
	close(fd);
	if (e == 0 && rename(tmp, path) == -1) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (e != 0) {
		unlink(tmp);
		goto out;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
out:
	free(tmp);
	free(dir);
	return e;
}
