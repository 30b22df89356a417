/*
 * snap_create.c - snapshot an image file into the store.
 *
 * Change detection (snap_cd.h) first says which file to read (the image,
 * or with reflinks a point-in-time FICLONE copy of it) and which chunks
 * keep the parent's ID unread. Then one pass over the others, in order: a
 * range the file system reports as a hole (SEEK_DATA) is a zero chunk
 * without being read;
 * a read chunk of zero bytes is one too; any other chunk is hashed and
 * written unless the store has it (dedup against every snapshot, the
 * parent's included). The manifest is published last, after the chunk
 * directories are fsync'd, all under the store's shared lock (see
 * snap_store.h for why gc cannot slip in between).
 *
 * With rescan the image is read as it is: a file written to during the
 * pass gives a snapshot mixing old and new blocks (snap_group.c freezes
 * the file system around it when asked, and `unchanged` refuses such a
 * pass); a file that shrinks under us is an error, not a short snapshot.
 * With reflink the copy is one instant of the image.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "snap/snap.h"
#include "snap/snap_chunker.h"
#include "snap/snap_create.h"
#include "snap/snap_tree_io.h"
#include "snap/snap_vol.h"

/* A create waits this long for a volume another command holds. */
#define SNAP_CREATE_VOL_WAIT_MS 30000

static void
snap_create_random(uint8_t *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(p + got, n - got, 0);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			fatal("snap: getrandom: %s", strerror(errno));
		got += (size_t)r;
	}
}

/* "20261206T203000.123456Z-1a2b3c4d": sorts by creation time. */
void
snap_create_id(char *out, size_t len, int64_t *created)
{
	struct timespec ts;
	struct tm tm;
	uint8_t r[4];
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm);
	snap_create_random(r, sizeof(r));
	snprintf(out, len, "%s.%06ldZ-%02x%02x%02x%02x", when,
	    ts.tv_nsec / 1000, r[0], r[1], r[2], r[3]);
	*created = (int64_t)ts.tv_sec;
}

/*
 * The snapshot to follow: the volume's head (or, in a store from before
 * volume states, its newest), o->parent, or none. 0 with *found.
 */
static int
snap_create_pick(struct snap_store *s, const struct snap_create_opts *o,
    const struct snap_vol *vol, struct snap_ref *ref, bool *found, char *err,
    size_t errlen)
{
	struct snap_ref *v = NULL;
	size_t n = 0;
	int e;

	*found = false;
	if (o->parent != NULL && o->parent[0] == '\0')
		return 0;
	if (o->parent != NULL) {
		if ((e = snap_store_find(s, o->parent, ref)) != 0) {
			snprintf(err, errlen, "parent %s: %s", o->parent,
			    e == -EEXIST ? "ambiguous, use VOLUME/ID" :
			                   strerror(-e));
			return e;
		}
		*found = true;
		return 0;
	}
	if (vol->head[0] != '\0') {
		snprintf(ref->volume, sizeof(ref->volume), "%s", o->volume);
		snprintf(ref->id, sizeof(ref->id), "%s", vol->head);
		char name[2 * SNAP_NAME_MAX + 2];
		struct snap_ref any;

		snprintf(name, sizeof(name), "%s/%s", o->volume, vol->head);
		*found = snap_store_find(s, name, &any) != -ENOENT;
		if (*found)
			return 0;
		/* The head was deleted: follow the newest that is left. */
	}
	if ((e = snap_store_list(s, o->volume, &v, &n)) != 0) {
		snprintf(err, errlen, "listing snapshots: %s", strerror(-e));
		return e;
	}
	if (n > 0) {
		*ref = v[n - 1];
		*found = true;
	}
	free(v);
	return 0;
}

/*
 * Fill m's parent and lineage; *p gets the parent's manifest (empty when
 * none) for change detection. A primary writes its own generation; the
 * first snapshot of a volume starts one; a parent other than the head is
 * a branch, so it starts one too (the head's line goes on elsewhere).
 */
int
snap_create_lineage(struct snap_store *s, const struct snap_create_opts *o,
    const struct snap_vol *vol, struct snap_manifest *m,
    struct snap_manifest *p, char *err, size_t errlen)
{
	struct snap_ref ref;
	char gen[SNAP_GEN_HEX + 1];
	bool found;
	int e;

	if (vol->role == SNAP_ROLE_REPLICA) {
		snprintf(err, errlen,
		    "volume %s is a replica on this node (its snapshots "
		    "come from a peer): `haven snap promote` it first",
		    o->volume);
		return -EPERM;
	}
	if ((e = snap_create_pick(s, o, vol, &ref, &found, err, errlen)) != 0)
		return e;
	if (!found) {
		snap_vol_new_gen(gen);
		snap_manifest_lineage(m, NULL, gen);
		return 0;
	}
	if ((e = snap_store_manifest_load(s, &ref, p, err, errlen)) != 0) {
		if (e != -EBADMSG)
			snprintf(err, errlen, "parent %s/%s: %s", ref.volume,
			    ref.id, strerror(-e));
		return e;
	}
	if (o->parent != NULL && vol->head[0] != '\0' &&
	    strcmp(p->id, vol->head) != 0)
		snap_vol_new_gen(gen);
	else if (vol->role == SNAP_ROLE_PRIMARY)
		memcpy(gen, vol->generation, sizeof(gen));
	else
		memcpy(gen, p->generation, sizeof(gen));
	snap_manifest_lineage(m, p, gen);
	/* Seqs never repeat in a generation, a deleted head's included. */
	if (strcmp(gen, vol->head_gen) == 0 && m->seq <= vol->head_seq)
		m->seq = vol->head_seq + 1;
	return 0;
}

/* Read exactly len bytes at off. */
static int
snap_create_read(int fd, uint8_t *p, size_t len, uint64_t off)
{
	ssize_t n = util_pread_full(fd, p, len, off);

	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -ENODATA; /* the file shrank */
}

/*
 * Chunk i keeps the parent's ID without a read when change detection says
 * so and, for a data chunk, the store still has it (the parent's manifest
 * names it, but a chunk file can go missing; then it is read).
 */
static bool
snap_create_reuse(struct snap_store *s, const struct snap_cd *cd,
    struct snap_manifest *m, uint64_t i)
{
	const struct snap_id *id;

	if (!snap_cd_reuse(cd, i))
		return false;
	id = &cd->parent->chunks[i];
	if (!snap_id_is_zero(id) && snap_store_chunk_has(s, id) != 1)
		return false;
	m->chunks[i] = *id;
	return true;
}

/*
 * The chunk loop over cd->fd. *data_at caches the next data offset
 * SEEK_DATA gave.
 */
static int
snap_create_chunks(struct snap_store *s, const struct snap_cd *cd,
    const struct snap_create_opts *o, struct snap_manifest *m,
    struct snap_create_stats *st, char *err, size_t errlen)
{
	int fd = cd->fd;
	uint8_t *buf = xmalloc(m->chunk_size);
	int zlevel = o->compress ? SNAP_ZSTD_LEVEL : 0;
	uint64_t data_at = 0;
	bool seek_data = true;
	int e = 0;

	for (uint64_t i = 0; i < m->nchunks; i++) {
		uint64_t off, stored = 0;
		uint32_t len;

		snap_chunker_range(m->size, m->chunk_size, i, &off, &len);
		if (snap_create_reuse(s, cd, m, i)) {
			st->reused++;
			continue;
		}
		if (seek_data && data_at < off) {
			off_t d = lseek(fd, (off_t)off, SEEK_DATA);

			if (d != -1)
				data_at = (uint64_t)d;
			else if (errno == ENXIO)
				data_at = UINT64_MAX; /* only holes left */
			else
				seek_data = false; /* not supported: read */
		}
		if (seek_data && data_at >= off + len) {
			st->zero++;
			continue; /* m->chunks[i] stays zero */
		}
		if ((e = snap_create_read(fd, buf, len, off)) != 0) {
			snprintf(err, errlen, "%s: reading at %llu: %s",
			    o->path, (unsigned long long)off,
			    e == -ENODATA ? "file shrank during the snapshot" :
			                    strerror(-e));
			break;
		}
		st->read += len;
		st->read_chunks++;
		if (snap_chunker_is_zero(buf, len)) {
			st->zero++;
			continue;
		}
		snap_store_id_of(s, buf, len, &m->chunks[i]);
		e = snap_store_chunk_put(
		    s, &m->chunks[i], buf, len, zlevel, &stored);
		if (e < 0) {
			snprintf(err, errlen, "writing chunk %llu: %s",
			    (unsigned long long)i, strerror(-e));
			break;
		}
		if (e == 1) {
			st->fresh++;
			st->fresh_raw += len;
			st->fresh_disk += stored;
		} else {
			st->dedup++;
		}
		e = 0;
	}
	free(buf);
	return e;
}

static bool
snap_create_same(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * With o->unchanged, the file must be as it was when it was opened (before
 * the first chunk was read): checked right after the last one, so the
 * window is the read pass only, not the syncs and the publish after it.
 * The reflink method reads a point-in-time copy: nothing to check.
 */
static int
snap_create_unchanged(int fd, const struct snap_cd *cd,
    const struct snap_create_opts *o, const struct stat *before,
    struct snap_create_stats *st, char *err, size_t errlen)
{
	struct stat after;

	st->captured_ms = util_wall_ms();
	/* A reflink copy is one instant of the image already. */
	if (!o->unchanged || cd->fd != fd)
		return 0;
	if (fstat(fd, &after) == -1) {
		snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
		return -errno;
	}
	if (!snap_create_same(before, &after)) {
		snprintf(err, errlen, "%s changed during the pass", o->path);
		return -EAGAIN;
	}
	return 0;
}

int
snap_create_publish(struct snap_store *s, struct snap_vol *vol,
    struct snap_manifest *m, char *err, size_t errlen)
{
	int e;

	snap_manifest_root(m, &m->root);
	if ((e = snap_store_chunk_sync(s)) != 0 ||
	    (e = snap_store_manifest_publish(s, m)) != 0) {
		snprintf(
		    err, errlen, "publishing the manifest: %s", strerror(-e));
		return e;
	}
	vol->role = SNAP_ROLE_PRIMARY;
	memcpy(vol->generation, m->generation, sizeof(vol->generation));
	snap_vol_set_head(vol, m);
	if ((e = snap_vol_write(s, m->volume, vol)) != 0)
		snprintf(err, errlen,
		    "snapshot %s published, but recording it as the volume's "
		    "head failed: %s",
		    m->id, strerror(-e));
	return e;
}

int
snap_create(struct snap_store *s, const struct snap_create_opts *o,
    struct snap_manifest *m, struct snap_create_stats *st, char *err,
    size_t errlen)
{
	struct snap_manifest parent;
	struct snap_vol vol;
	struct snap_cd cd;
	struct stat sb0, sb;
	int fd, vfd = -1, e;

	memset(m, 0, sizeof(*m));
	memset(&parent, 0, sizeof(parent));
	memset(&cd, 0, sizeof(cd));
	cd.fd = cd.copy_fd = -1;
	memset(st, 0, sizeof(*st));
	if (!snap_name_ok(o->volume, strlen(o->volume))) {
		snprintf(err, errlen,
		    "bad volume name '%s' (1-%d of "
		    "[A-Za-z0-9._-], not starting with . or -)",
		    o->volume, SNAP_NAME_MAX);
		return -EINVAL;
	}
	if (snap_tree_is_dir(o->path))
		return snap_tree_create(s, o, m, st, err, errlen);
	m->chunk_size = o->chunk_size ? o->chunk_size : SNAP_CHUNK_DEFAULT;
	if (!snap_chunker_size_ok(m->chunk_size)) {
		snprintf(err, errlen, "bad chunk size %u", m->chunk_size);
		return -EINVAL;
	}
	if ((fd = open(o->path, O_RDONLY | O_CLOEXEC)) == -1) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
		return e;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size > SNAP_SIZE_MAX) {
		snprintf(err, errlen,
		    "%s: not a regular file of at most 1 PiB "
		    "(block devices are not supported yet)",
		    o->path);
		close(fd);
		return -EINVAL;
	}
	sb0 = sb; /* the image as opened, for `unchanged` */
	/* From the first look at the chunks to the publish: see snap_store.h */
	if ((e = snap_store_lock(s, false, -1)) != 0) {
		snprintf(err, errlen, "locking the store: %s", strerror(-e));
		goto out;
	}
	if ((e = snap_vol_lock(s, o->volume, SNAP_CREATE_VOL_WAIT_MS, &vfd,
	         &vol, err, errlen)) != 0)
		goto out;
	snprintf(m->volume, sizeof(m->volume), "%s", o->volume);
	snprintf(m->ids, sizeof(m->ids), "%s", s->ids);
	if (o->id != NULL) {
		snprintf(m->id, sizeof(m->id), "%s", o->id);
		m->created = o->created;
	} else {
		snap_create_id(m->id, sizeof(m->id), &m->created);
	}
	if ((e = snap_create_lineage(s, o, &vol, m, &parent, err, errlen)) != 0)
		goto out;
	e = snap_cd_begin(&cd, o->detect, s, o->volume, o->path, fd,
	    parent.chunks != NULL ? &parent : NULL, m->chunk_size, err, errlen);
	if (e != 0)
		goto out;
	st->detect = cd.ops->name;
	snprintf(st->detect_note, sizeof(st->detect_note), "%s", cd.note);
	/* cd.fd may be a point-in-time copy: its size is the image's. */
	if (fstat(cd.fd, &sb) == -1) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
		goto out;
	}
	if ((uint64_t)sb.st_size > SNAP_SIZE_MAX) {
		e = -EINVAL;
		snprintf(err, errlen, "%s: grew past 1 PiB", o->path);
		goto out;
	}
	(void)posix_fadvise(cd.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	m->size = (uint64_t)sb.st_size;
	m->nchunks = snap_chunker_count(m->size, m->chunk_size);
	m->chunks = xcalloc(m->nchunks ? m->nchunks : 1, sizeof(m->chunks[0]));
	st->chunks = m->nchunks;
	if ((e = snap_create_chunks(s, &cd, o, m, st, err, errlen)) != 0 ||
	    (e = snap_create_unchanged(fd, &cd, o, &sb0, st, err, errlen)) != 0)
		goto out;
	if ((e = snap_create_publish(s, &vol, m, err, errlen)) != 0)
		goto out;
	/* Published: a failure to keep the baseline only costs the next
	 * snapshot a full read. */
	if (snap_cd_commit(&cd, m) != 0)
		snprintf(st->detect_note, sizeof(st->detect_note),
		    "could not keep the baseline copy: the next snapshot "
		    "reads every chunk");
out:
	if (cd.ops != NULL)
		snap_cd_end(&cd);
	snap_manifest_fini(&parent);
	snap_vol_unlock(vfd);
	snap_store_unlock(s);
	close(fd);
	if (e != 0)
		snap_manifest_fini(m);
	return e;
}
