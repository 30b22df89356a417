/*
 * snap_store.c - see snap_store.h.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/statefile.h"
#include "lib/util.h"
#include "snap/snap_chunker.h"
#include "snap/snap_proto.h"
#include "snap/snap_store.h"

#define SNAP_STORE_MAGIC  "haven-snap-store 1\n"
#define SNAP_STORE_MARK   "haven-snap-store"
#define SNAP_MANIFEST_MAX (1ull << 30) /* refuse bigger manifest files */

static char *snap_store_tmp_path(
    const struct snap_store *s, const struct snap_id *id);

static int
snap_store_mkdir(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -errno;
	return 0;
}

static int
snap_store_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e = 0;

	if (fd == -1)
		return -errno;
	if (fsync(fd) == -1)
		e = -errno;
	close(fd);
	return e;
}

/* Create the layout under an existing or new root. */
static int
snap_store_init(const char *root)
{
	char *chunks = xasprintf("%s/chunks", root);
	char *snaps = xasprintf("%s/snapshots", root);
	char *mark = xasprintf("%s/" SNAP_STORE_MARK, root);
	struct stat st;
	int e;

	if ((e = statefile_mkdir(root)) != 0 ||
	    (e = snap_store_mkdir(chunks)) != 0 ||
	    (e = snap_store_mkdir(snaps)) != 0)
		goto out;
	if (stat(mark, &st) == -1 && errno == ENOENT)
		e = statefile_write(root, SNAP_STORE_MARK, SNAP_STORE_MAGIC,
		    strlen(SNAP_STORE_MAGIC));
out:
	free(chunks);
	free(snaps);
	free(mark);
	return e;
}

int
snap_store_mark_parse(const char *p, size_t len, char *key_file, char *key_id,
    char *err, size_t errlen)
{
	size_t ml = strlen(SNAP_STORE_MAGIC), n;
	const char *q, *nl;

	key_file[0] = key_id[0] = '\0';
	if (len < ml || memcmp(p, SNAP_STORE_MAGIC, ml) != 0) {
		snprintf(err, errlen, "not a haven snapshot store of format 1");
		return -EINVAL;
	}
	if (len == ml)
		return 0;
	q = p + ml;
	/* "key_file /ABS/PATH\n" */
	nl = memchr(q, '\n', len - ml);
	if (nl == NULL || (size_t)(nl - q) <= 10 ||
	    memcmp(q, "key_file /", 10) != 0 ||
	    (n = (size_t)(nl - q) - 9) >= PATH_MAX || memchr(q, 0, n + 9)) {
		snprintf(err, errlen, "line 2: want 'key_file /ABSOLUTE/PATH'");
		return -EINVAL;
	}
	memcpy(key_file, q + 9, n);
	key_file[n] = '\0';
	q = nl + 1;
	/* "key_id <16 lowercase hex>\n", and the end */
	if ((size_t)(p + len - q) != 7 + 16 + 1 || memcmp(q, "key_id ", 7) ||
	    q[7 + 16] != '\n') {
		key_file[0] = '\0';
		snprintf(
		    err, errlen, "line 3: want 'key_id HEX16', then the end");
		return -EINVAL;
	}
	for (int i = 0; i < 16; i++) {
		char c = q[7 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			key_file[0] = '\0';
			snprintf(
			    err, errlen, "line 3: key_id: not lowercase hex");
			return -EINVAL;
		}
		key_id[i] = c;
	}
	key_id[16] = '\0';
	return 0;
}

/* The subkeys of a store key (see snap_store.h), and its key_id. */
static void
snap_store_derive(const uint8_t key[SNAP_PROTO_PSK_LEN], struct snap_store *s,
    char key_id[17])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t id[32];

	crypto_generichash(s->id_key, sizeof(s->id_key),
	    (const uint8_t *)"haven-snap-chunk-id-1", 21, key,
	    SNAP_PROTO_PSK_LEN);
	crypto_generichash(s->seal_key, sizeof(s->seal_key),
	    (const uint8_t *)"haven-snap-seal-1", 17, key, SNAP_PROTO_PSK_LEN);
	crypto_generichash(id, sizeof(id),
	    (const uint8_t *)"haven-snap-key-id-1", 19, key,
	    SNAP_PROTO_PSK_LEN);
	for (int i = 0; i < 8; i++) {
		key_id[2 * i] = hex[id[i] >> 4];
		key_id[2 * i + 1] = hex[id[i] & 15];
	}
	key_id[16] = '\0';
	sodium_memzero(id, sizeof(id));
}

int
snap_store_init_sealed(
    const char *root, const char *key_file, char *err, size_t errlen)
{
	uint8_t key[SNAP_PROTO_PSK_LEN];
	struct snap_store tmp;
	char key_id[17], *mark;
	struct stat st;
	struct buf b;
	int e;

	if (key_file[0] != '/' || strchr(key_file, '\n') != NULL) {
		snprintf(err, errlen, "--key-file: want an absolute path");
		return -EINVAL;
	}
	mark = xasprintf("%s/" SNAP_STORE_MARK, root);
	e = stat(mark, &st) == 0 ? -EEXIST : 0;
	free(mark);
	if (e != 0) {
		snprintf(err, errlen, "%s is a store already", root);
		return e;
	}
	if ((e = snap_proto_psk_load(key_file, key, err, errlen)) != 0)
		return e;
	snap_store_derive(key, &tmp, key_id);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&tmp, sizeof(tmp));
	buf_init(&b);
	buf_printf(&b, "%skey_file %s\nkey_id %s\n", SNAP_STORE_MAGIC, key_file,
	    key_id);
	/* The marker first: snap_store_init keeps an existing one. */
	if ((e = statefile_mkdir(root)) != 0 ||
	    (e = statefile_write(root, SNAP_STORE_MARK, b.data, b.len)) != 0 ||
	    (e = snap_store_init(root)) != 0)
		snprintf(err, errlen, "%s: %s", root, strerror(-e));
	buf_fini(&b);
	return e;
}

int
snap_store_open(const char *root, bool create, struct snap_store **out)
{
	char key_file[PATH_MAX], key_id[17], want[17], err[256];
	uint8_t key[SNAP_PROTO_PSK_LEN];
	struct snap_store *s;
	struct buf b;
	int e;

	if (create && (e = snap_store_init(root)) != 0)
		return e;
	buf_init(&b);
	if ((e = statefile_read(root, SNAP_STORE_MARK, &b)) != 0) {
		buf_fini(&b);
		return e == -ENOENT ? -ENOENT : e;
	}
	e = snap_store_mark_parse(
	    b.data ? b.data : "", b.len, key_file, want, err, sizeof(err));
	buf_fini(&b);
	if (e != 0)
		return -EINVAL;
	s = xcalloc(1, sizeof(*s));
	snprintf(s->ids, sizeof(s->ids), "sha256");
	if (key_file[0] != '\0') {
		if (snap_proto_psk_load(key_file, key, err, sizeof(err)) != 0) {
			free(s);
			return -ENOKEY;
		}
		snap_store_derive(key, s, key_id);
		sodium_memzero(key, sizeof(key));
		if (strcmp(key_id, want) != 0) {
			sodium_memzero(s, sizeof(*s));
			free(s);
			return -EKEYREJECTED;
		}
		s->sealed = true;
		snprintf(s->ids, sizeof(s->ids), "keyed-%s", key_id);
	}
	s->root = xstrdup(root);
	s->lockfd = -1;
	s->fcap = snap_frame_bound(SNAP_CHUNK_MAX);
	s->fbuf = xmalloc(s->fcap);
	*out = s;
	return 0;
}

void
snap_store_id_of(
    const struct snap_store *s, const void *p, size_t len, struct snap_id *id)
{
	if (s->sealed)
		snap_id_keyed(s->id_key, p, len, id);
	else
		snap_id_of(p, len, id);
}

const struct snap_frame_seal *
snap_store_seal(const struct snap_store *s, const struct snap_id *id,
    struct snap_frame_seal *buf)
{
	if (!s->sealed)
		return NULL;
	buf->key = s->seal_key;
	buf->id = id;
	return buf;
}

void
snap_store_close(struct snap_store *s)
{
	if (s == NULL)
		return;
	/* A failed create's batch: nothing names these temp files. */
	for (size_t i = 0; i < s->npend; i++) {
		char *tmp = snap_store_tmp_path(s, &s->pend[i]);

		unlink(tmp);
		free(tmp);
	}
	free(s->pend);
	snap_store_unlock(s);
	snap_zctx_fini(&s->z);
	free(s->fbuf);
	free(s->root);
	sodium_memzero(s->id_key, sizeof(s->id_key));
	sodium_memzero(s->seal_key, sizeof(s->seal_key));
	free(s);
}

int
snap_store_lock(struct snap_store *s, bool exclusive, int wait_ms)
{
	char *path = xasprintf("%s/lock", s->root);
	int fd, e;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	e = fd == -1 ? -errno : 0;
	free(path);
	if (e != 0)
		return e;
	if ((e = util_flock_wait(fd, exclusive ? LOCK_EX : LOCK_SH, wait_ms)) !=
	    0) {
		close(fd);
		return e;
	}
	snap_store_unlock(s);
	s->lockfd = fd;
	return 0;
}

void
snap_store_unlock(struct snap_store *s)
{
	if (s->lockfd != -1) {
		close(s->lockfd); /* drops the flock */
		s->lockfd = -1;
	}
}

char *
snap_store_chunk_path(const struct snap_store *s, const struct snap_id *id)
{
	char hex[SNAP_HEX_LEN + 1];

	snap_id_hex(id, hex);
	return xasprintf("%s/chunks/%.2s/%s", s->root, hex, hex);
}

int
snap_store_chunk_has(struct snap_store *s, const struct snap_id *id)
{
	char *path = snap_store_chunk_path(s, id);
	struct stat st;
	int e = 1;

	if (stat(path, &st) == -1)
		e = errno == ENOENT ? 0 : -errno;
	free(path);
	return e;
}

/* Path of the temp file of chunk id, in the chunk's directory. */
static char *
snap_store_tmp_path(const struct snap_store *s, const struct snap_id *id)
{
	char hex[SNAP_HEX_LEN + 1];

	snap_id_hex(id, hex);
	/* pid and store instance: two stores open in one process (the
	 * snap plane's sessions) never share a temp file. */
	return xasprintf("%s/chunks/%.2s/.tmp.%d.%lx.%s", s->root, hex,
	    (int)getpid(), (unsigned long)(uintptr_t)s, hex);
}

/* Make the batch's temp files durable with one syncfs, then name them. */
static int
snap_store_flush(struct snap_store *s)
{
	int fd, e = 0;

	if (s->npend == 0)
		return 0;
	fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || syncfs(fd) == -1)
		e = -errno;
	if (fd != -1)
		close(fd);
	for (size_t i = 0; i < s->npend; i++) {
		char *tmp = snap_store_tmp_path(s, &s->pend[i]);
		char *path = snap_store_chunk_path(s, &s->pend[i]);

		if (e == 0 && rename(tmp, path) == -1)
			e = -errno;
		if (e != 0)
			unlink(tmp);
		else
			s->dirty[s->pend[i].b[0] / 8] |=
			    (uint8_t)(1u << (s->pend[i].b[0] % 8));
		free(tmp);
		free(path);
	}
	s->npend = 0;
	s->pend_bytes = 0;
	return e;
}

int
snap_store_chunk_put(struct snap_store *s, const struct snap_id *id,
    const void *raw, size_t len, int zlevel, uint64_t *stored)
{
	struct snap_frame_seal seal;
	char *tmp, *dir;
	size_t flen;
	int fd, e;

	if ((e = snap_store_chunk_has(s, id)) != 0)
		return e < 0 ? e : 0;
	for (size_t i = 0; i < s->npend; i++)
		if (snap_id_cmp(&s->pend[i], id) == 0)
			return 0;
	if ((e = snap_frame_encode(&s->z, raw, len, zlevel,
	         snap_store_seal(s, id, &seal), s->fbuf, &flen)) != 0)
		return e;
	tmp = snap_store_tmp_path(s, id);
	dir = xstrndup(tmp, (size_t)(strrchr(tmp, '/') - tmp));
	if ((e = snap_store_mkdir(dir)) != 0)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		e = -errno;
		goto out;
	}
	e = util_write_all(fd, s->fbuf, flen);
	if (close(fd) == -1 && e == 0)
		e = -errno;
	if (e != 0) {
		unlink(tmp);
		goto out;
	}
	if (s->pend == NULL)
		s->pend = xmalloc(SNAP_BATCH_CHUNKS * sizeof(*s->pend));
	s->pend[s->npend++] = *id;
	s->pend_bytes += flen;
	*stored = flen;
	e = 1;
	if (s->npend == SNAP_BATCH_CHUNKS || s->pend_bytes >= SNAP_BATCH_BYTES)
		if ((e = snap_store_flush(s)) == 0)
			e = 1;
out:
	free(tmp);
	free(dir);
	return e;
}

int
snap_store_chunk_sync(struct snap_store *s)
{
	int e = snap_store_flush(s);

	for (unsigned i = 0; i < 256; i++) {
		char *dir;

		if (!(s->dirty[i / 8] & (1u << (i % 8))))
			continue;
		dir = xasprintf("%s/chunks/%02x", s->root, i);
		if (e == 0)
			e = snap_store_fsync_dir(dir);
		free(dir);
	}
	memset(s->dirty, 0, sizeof(s->dirty));
	if (e == 0) {
		/* New chunks/ab directories are entries of chunks/. */
		char *dir = xasprintf("%s/chunks", s->root);

		e = snap_store_fsync_dir(dir);
		free(dir);
	}
	return e;
}

int
snap_store_chunk_get(struct snap_store *s, const struct snap_id *id, void *raw,
    size_t cap, size_t *len, const char **why)
{
	char *path = snap_store_chunk_path(s, id);
	struct snap_frame_seal seal;
	struct snap_id got;
	struct stat st;
	size_t have = 0;
	int fd, e = 0;

	*why = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return -errno;
	if (fstat(fd, &st) == -1) {
		e = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > s->fcap) {
		*why = "not a chunk frame (wrong type or size)";
		e = -EBADMSG;
		goto out;
	}
	while (have < (size_t)st.st_size) {
		ssize_t n = read(fd, s->fbuf + have, (size_t)st.st_size - have);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = -errno;
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if ((e = snap_frame_decode(&s->z, s->fbuf, have,
	         snap_store_seal(s, id, &seal), raw, cap, len, why)) != 0) {
		if (e == -EOVERFLOW) {
			*why = "chunk longer than its place in the image";
			e = -EBADMSG;
		}
		if (e == -ENOKEY)
			e = -EBADMSG; /* a sealed frame in a plain store */
		goto out;
	}
	snap_store_id_of(s, raw, *len, &got);
	if (snap_id_cmp(&got, id) != 0) {
		*why = "content does not match its ID";
		e = -EBADMSG;
	}
out:
	close(fd);
	return e;
}

int
snap_store_manifest_load(struct snap_store *s, const struct snap_ref *r,
    struct snap_manifest *m, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/snapshots/%s", s->root, r->volume);
	char *path = xasprintf("%s/%s", dir, r->id);
	struct stat st;
	struct buf b;
	int e;

	buf_init(&b);
	memset(m, 0, sizeof(*m));
	if (stat(path, &st) == -1) {
		e = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SNAP_MANIFEST_MAX) {
		snprintf(err, errlen, "not a manifest (wrong type or size)");
		e = -EBADMSG;
		goto out;
	}
	if ((e = statefile_read(dir, r->id, &b)) != 0)
		goto out;
	if ((e = snap_manifest_parse(
	         b.data ? b.data : "", b.len, m, err, errlen)) != 0)
		goto out;
	if (strcmp(m->ids, s->ids) != 0) {
		snprintf(err, errlen,
		    "manifest's chunk IDs are %s, this store's %s", m->ids,
		    s->ids);
		snap_manifest_fini(m);
		e = -EBADMSG;
	} else if (strcmp(m->volume, r->volume) != 0 ||
	    strcmp(m->id, r->id) != 0) {
		snprintf(err, errlen,
		    "manifest names %s/%s but is stored as "
		    "%s/%s",
		    m->volume, m->id, r->volume, r->id);
		snap_manifest_fini(m);
		e = -EBADMSG;
	}
out:
	buf_fini(&b);
	free(path);
	free(dir);
	return e;
}

int
snap_store_manifest_publish(struct snap_store *s, const struct snap_manifest *m)
{
	char *dir = xasprintf("%s/snapshots/%s", s->root, m->volume);
	char *parent = xasprintf("%s/snapshots", s->root);
	struct stat st;
	struct buf b;
	bool fresh = stat(dir, &st) == -1;
	int e;

	buf_init(&b);
	snap_manifest_format(m, &b);
	if ((e = snap_store_mkdir(dir)) != 0)
		goto out;
	if (fresh && (e = snap_store_fsync_dir(parent)) != 0)
		goto out;
	e = statefile_write(dir, m->id, b.data, b.len);
out:
	buf_fini(&b);
	free(parent);
	free(dir);
	return e;
}

int
snap_store_manifest_move(
    struct snap_store *s, const struct snap_manifest *m, const char *volume)
{
	struct snap_manifest c = *m; /* shares m's chunks, not owned */
	struct snap_ref from;
	int e;

	snprintf(c.volume, sizeof(c.volume), "%s", volume);
	snprintf(from.volume, sizeof(from.volume), "%s", m->volume);
	snprintf(from.id, sizeof(from.id), "%s", m->id);
	if ((e = snap_store_manifest_publish(s, &c)) != 0)
		return e;
	return snap_store_manifest_delete(s, &from);
}

int
snap_store_manifest_delete(struct snap_store *s, const struct snap_ref *r)
{
	char *dir = xasprintf("%s/snapshots/%s", s->root, r->volume);
	char *path = xasprintf("%s/%s", dir, r->id);
	int e = 0;

	if (unlink(path) == -1)
		e = -errno;
	else
		e = snap_store_fsync_dir(dir);
	free(path);
	free(dir);
	return e;
}

static int
snap_store_ref_cmp(const void *a, const void *b)
{
	const struct snap_ref *x = a, *y = b;
	int c = strcmp(x->volume, y->volume);

	return c != 0 ? c : strcmp(x->id, y->id);
}

/* Append the snapshots of one volume directory. */
static int
snap_store_list_vol(struct snap_store *s, const char *volume,
    struct snap_ref **v, size_t *n, size_t *cap)
{
	char *dir = xasprintf("%s/snapshots/%s", s->root, volume);
	DIR *d = opendir(dir);
	struct dirent *de;
	int e = 0;

	free(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		/* Temp files of a publish in flight start with '.'. */
		if (!snap_name_ok(de->d_name, strlen(de->d_name)))
			continue;
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 16;
			*v = xrealloc(*v, *cap * sizeof(**v));
		}
		snprintf(
		    (*v)[*n].volume, sizeof((*v)[*n].volume), "%s", volume);
		snprintf((*v)[*n].id, sizeof((*v)[*n].id), "%s", de->d_name);
		(*n)++;
	}
	closedir(d);
	return e;
}

int
snap_store_list(
    struct snap_store *s, const char *volume, struct snap_ref **out, size_t *n)
{
	struct snap_ref *v = NULL;
	size_t cap = 0;
	int e = 0;

	*n = 0;
	if (volume != NULL && !snap_name_ok(volume, strlen(volume)))
		return -EINVAL;
	if (volume != NULL) {
		e = snap_store_list_vol(s, volume, &v, n, &cap);
	} else {
		char *dir = xasprintf("%s/snapshots", s->root);
		DIR *d = opendir(dir);
		struct dirent *de;

		free(dir);
		if (d == NULL)
			return -errno;
		while (e == 0 && (de = readdir(d)) != NULL)
			if (snap_name_ok(de->d_name, strlen(de->d_name)))
				e = snap_store_list_vol(
				    s, de->d_name, &v, n, &cap);
		closedir(d);
	}
	if (e != 0) {
		free(v);
		*n = 0;
		return e;
	}
	if (*n > 1)
		qsort(v, *n, sizeof(*v), snap_store_ref_cmp);
	*out = v;
	return 0;
}

int
snap_store_find(struct snap_store *s, const char *name, struct snap_ref *out)
{
	const char *slash = strchr(name, '/');
	struct snap_ref *v;
	size_t n, hits = 0;
	int e;

	if (slash != NULL) {
		char *path;
		struct stat st;

		if (!snap_name_ok(name, (size_t)(slash - name)) ||
		    !snap_name_ok(slash + 1, strlen(slash + 1)))
			return -EINVAL;
		snprintf(out->volume, sizeof(out->volume), "%.*s",
		    (int)(slash - name), name);
		snprintf(out->id, sizeof(out->id), "%s", slash + 1);
		path = xasprintf(
		    "%s/snapshots/%s/%s", s->root, out->volume, out->id);
		e = stat(path, &st) == -1 ? -errno : 0;
		free(path);
		return e;
	}
	if (!snap_name_ok(name, strlen(name)))
		return -EINVAL;
	if ((e = snap_store_list(s, NULL, &v, &n)) != 0)
		return e;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].id, name) == 0 && hits++ == 0)
			*out = v[i];
	free(v);
	return hits == 0 ? -ENOENT : hits > 1 ? -EEXIST : 0;
}
