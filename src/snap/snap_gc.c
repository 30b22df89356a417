/*
 * snap_gc.c - remove the chunks no snapshot needs.
 *
 * Mark and sweep under the store's exclusive lock: the marks are the chunk
 * IDs of every manifest (a sorted array, searched by bisection), the sweep
 * walks chunks/xx/ and unlinks every chunk file whose name is not marked,
 * plus the temp files a crashed create left, of chunks and of manifests
 * (no create runs while we hold the lock, so every temp file is one). A manifest that cannot be read
 * stops gc before anything is removed: its chunks would look unreferenced.
 * Files whose names are not chunk names are left alone.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "snap/snap.h"

static int
snap_gc_id_cmp(const void *a, const void *b)
{
	return snap_id_cmp(a, b);
}

/* The sorted, distinct IDs every manifest names. */
static int
snap_gc_mark(struct snap_store *s, struct snap_id **out, size_t *nout,
    struct snap_gc_stats *st, char *err, size_t errlen)
{
	struct snap_ref *refs;
	struct snap_id *v = NULL;
	size_t n, nv = 0, cap = 0;
	char why[256];
	int e;

	if ((e = snap_store_list(s, NULL, &refs, &n)) != 0) {
		snprintf(err, errlen, "listing snapshots: %s", strerror(-e));
		return e;
	}
	for (size_t i = 0; i < n; i++) {
		struct snap_manifest m;

		e = snap_store_manifest_load(s, &refs[i], &m, why, sizeof(why));
		if (e != 0) {
			snprintf(err, errlen,
			    "snapshot %s/%s unreadable (%s): "
			    "nothing removed",
			    refs[i].volume, refs[i].id,
			    e == -EBADMSG ? why : strerror(-e));
			free(v);
			free(refs);
			return e;
		}
		st->snapshots++;
		for (uint64_t k = 0; k < m.nchunks; k++) {
			if (snap_id_is_zero(&m.chunks[k]))
				continue;
			if (nv == cap) {
				cap = cap ? 2 * cap : 1024;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[nv++] = m.chunks[k];
		}
		snap_manifest_fini(&m);
	}
	free(refs);
	if (nv > 1)
		qsort(v, nv, sizeof(*v), snap_gc_id_cmp);
	n = 0;
	for (size_t i = 0; i < nv; i++)
		if (n == 0 || snap_id_cmp(&v[n - 1], &v[i]) != 0)
			v[n++] = v[i];
	st->referenced = n;
	*out = v;
	*nout = n;
	return 0;
}

/* Sweep one chunks/xx directory. */
static int
snap_gc_sweep_dir(const char *dir, const char *xx, const struct snap_id *v,
    size_t nv, bool dry_run, struct snap_gc_stats *st)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool removed = false;
	int e = 0;

	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		struct snap_id id;
		struct stat sb;
		bool temp = strncmp(de->d_name, ".tmp.", 5) == 0;

		if (!temp &&
		    (snap_id_parse(de->d_name, strlen(de->d_name), &id) != 0 ||
		        memcmp(de->d_name, xx, 2) != 0))
			continue; /* not ours */
		if (!temp && nv > 0 &&
		    bsearch(&id, v, nv, sizeof(*v), snap_gc_id_cmp)) {
			st->kept++;
			continue;
		}
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
		    -1)
			continue; /* gone already */
		if (!dry_run && unlinkat(dirfd(d), de->d_name, 0) == -1) {
			e = -errno;
			break;
		}
		removed = true;
		if (temp) {
			st->temps++;
		} else {
			st->deleted++;
			st->freed += (uint64_t)sb.st_size;
		}
	}
	if (removed && !dry_run && e == 0 && fsync(dirfd(d)) == -1)
		e = -errno;
	closedir(d);
	return e;
}

/*
 * Remove the temp files of manifest publishes that died (statefile's
 * ".<id>.<pid>.tmp" beside the manifests): under the exclusive lock no
 * publish is in flight.
 */
static int
snap_gc_sweep_manifests(
    struct snap_store *s, bool dry_run, struct snap_gc_stats *st)
{
	char *dir = xasprintf("%s/snapshots", s->root);
	DIR *d = opendir(dir), *vd;
	struct dirent *de, *ve;
	int e = 0;

	free(dir);
	if (d == NULL)
		return -errno;
	while (e == 0 && (de = readdir(d)) != NULL) {
		if (!snap_name_ok(de->d_name, strlen(de->d_name)))
			continue;
		dir = xasprintf("%s/snapshots/%s", s->root, de->d_name);
		if ((vd = opendir(dir)) != NULL) {
			while ((ve = readdir(vd)) != NULL) {
				size_t n = strlen(ve->d_name);

				if (ve->d_name[0] != '.' || n < 5 ||
				    strcmp(ve->d_name + n - 4, ".tmp") != 0)
					continue;
				if (!dry_run &&
				    unlinkat(dirfd(vd), ve->d_name, 0) == -1) {
					e = -errno;
					break;
				}
				st->temps++;
			}
			closedir(vd);
		}
		free(dir);
	}
	closedir(d);
	return e;
}

int
snap_gc(struct snap_store *s, bool dry_run, int wait_ms,
    struct snap_gc_stats *st, char *err, size_t errlen)
{
	struct snap_id *v = NULL;
	char *chunks = xasprintf("%s/chunks", s->root);
	struct dirent *de;
	size_t nv = 0;
	DIR *d = NULL;
	int e;

	memset(st, 0, sizeof(*st));
	if ((e = snap_store_lock(s, true, wait_ms)) != 0) {
		snprintf(err, errlen, "%s",
		    e == -EWOULDBLOCK ? "store busy: a create is running "
		                        "(try again, or raise --wait)" :
		                        strerror(-e));
		goto out;
	}
	if ((e = snap_gc_mark(s, &v, &nv, st, err, errlen)) != 0)
		goto out;
	if ((e = snap_gc_sweep_manifests(s, dry_run, st)) != 0) {
		snprintf(err, errlen, "snapshots: %s", strerror(-e));
		goto out;
	}
	if ((d = opendir(chunks)) == NULL) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", chunks, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		char *dir;

		if (strlen(de->d_name) != 2 ||
		    strspn(de->d_name, "0123456789abcdef") != 2)
			continue;
		dir = xasprintf("%s/%s", chunks, de->d_name);
		e = snap_gc_sweep_dir(dir, de->d_name, v, nv, dry_run, st);
		if (e != 0)
			snprintf(err, errlen, "%s: %s", dir, strerror(-e));
		free(dir);
		if (e != 0)
			break;
	}
out:
	if (d != NULL)
		closedir(d);
	snap_store_unlock(s);
	free(v);
	free(chunks);
	return e;
}
