/*
 * snap_standby.c - keep a standby image at a snapshot (snap_standby.h).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/statefile.h"
#include "lib/util.h"
#include "snap/snap_cd.h"
#include "snap/snap_standby.h"
#include "snap/snap_vol.h"

#define SNAP_STANDBY_KIND "standby" /* <store>/standby/<volume> */

/* An apply waits this long for the store (gc) and for a promote. */
#define SNAP_STANDBY_WAIT_MS 60000

int
snap_standby_lock(
    const struct snap_store *s, const char *volume, int wait_ms, int *fd)
{
	char *dir = xasprintf("%s/%s", s->root, SNAP_STANDBY_KIND);
	char *path = xasprintf("%s/%s.lock", dir, volume);
	int e;

	*fd = -1;
	if ((e = statefile_mkdir(dir)) == 0) {
		*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		e = *fd == -1 ? -errno : util_flock_wait(*fd, LOCK_EX, wait_ms);
	}
	if (e != 0 && *fd != -1) {
		close(*fd);
		*fd = -1;
	}
	free(path);
	free(dir);
	return e;
}

int
snap_standby_apply_head(const char *root, const char *volume, const char *image,
    struct snap_standby_result *res)
{
	struct snap_store *s = NULL;
	struct snap_manifest m;
	struct snap_vol vol;
	struct snap_ref ref;
	int lfd = -1, e;

	memset(res, 0, sizeof(*res));
	memset(&m, 0, sizeof(m));
	if ((e = snap_store_open(root, false, &s)) != 0) {
		snprintf(res->err, sizeof(res->err), "opening the store: %s",
		    strerror(-e));
		/* No store yet: no snapshot either, nothing to apply. */
		return e == -ENOENT ? -EALREADY : e;
	}
	if ((e = snap_store_lock(s, false, SNAP_STANDBY_WAIT_MS)) != 0 ||
	    (e = snap_standby_lock(s, volume, SNAP_STANDBY_WAIT_MS, &lfd)) !=
	        0) {
		snprintf(
		    res->err, sizeof(res->err), "locking: %s", strerror(-e));
		goto out;
	}
	/* The head now, not the one that started this apply: a snapshot
	 * that arrived meanwhile is applied in the same pass. */
	if ((e = snap_vol_read(s, volume, &vol, res->err, sizeof(res->err))) !=
	    0)
		goto out;
	if (vol.role == SNAP_ROLE_PRIMARY || vol.head[0] == '\0') {
		snprintf(res->err, sizeof(res->err), "%s",
		    vol.head[0] == '\0' ? "the volume has no head here" :
		                          "the volume is primary here: its "
		                          "standby image is left alone");
		e = -EALREADY;
		goto out;
	}
	snprintf(res->snapshot, sizeof(res->snapshot), "%s", vol.head);
	snprintf(ref.volume, sizeof(ref.volume), "%s", volume);
	snprintf(ref.id, sizeof(ref.id), "%s", vol.head);
	if ((e = snap_store_manifest_load(
	         s, &ref, &m, res->err, sizeof(res->err))) != 0)
		goto out;
	e = snap_standby_put(
	    s, &m, image, true, &res->st, res->err, sizeof(res->err));
	snap_manifest_fini(&m);
out:
	if (lfd != -1)
		close(lfd);
	snap_store_close(s); /* drops the store's lock */
	return e;
}

const struct snap_standby_conf *
snap_standby_find(
    const struct snap_standby_conf *c, size_t n, const char *volume)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].volume != NULL && strcmp(c[i].volume, volume) == 0)
			return &c[i];
	return NULL;
}

void
snap_standby_set_clear(struct snap_standby_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].volume);
		free(set->v[i].image);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

void
snap_standby_set_copy(
    struct snap_standby_set *set, const struct snap_standby_conf *c, size_t n)
{
	snap_standby_set_clear(set);
	if (n == 0)
		return;
	set->v = xcalloc(n, sizeof(set->v[0]));
	for (size_t i = 0; i < n; i++) {
		set->v[i].volume = xstrdup(c[i].volume);
		set->v[i].image = xstrdup(c[i].image);
	}
	set->n = n;
}

void
snap_standby_state(const struct snap_store *s, const char *volume,
    const char *image, struct snap_standby_state *out)
{
	struct snap_cd_state st;
	struct stat sb;

	memset(out, 0, sizeof(*out));
	if (snap_cd_state_load(s->root, SNAP_STANDBY_KIND, volume, &st) != 0 ||
	    strcmp(st.base, image) != 0)
		return;
	out->recorded = true;
	snprintf(out->snapshot, sizeof(out->snapshot), "%s", st.snapshot);
	snprintf(out->root, sizeof(out->root), "%s", st.root);
	out->intact = stat(image, &sb) == 0 && snap_cd_state_intact(&st, &sb);
}

/*
 * The snapshot image holds, by the record: 1 with *known loaded (the
 * caller finis it), 0 when the record is absent, stale or of another file.
 */
static int
snap_standby_known(struct snap_store *s, const char *volume, const char *image,
    struct snap_manifest *known)
{
	struct snap_standby_state st;
	char err[160], root[SNAP_HEX_LEN + 1];
	struct snap_ref ref;

	snap_standby_state(s, volume, image, &st);
	if (!st.intact)
		return 0;
	snprintf(ref.volume, sizeof(ref.volume), "%s", volume);
	snprintf(ref.id, sizeof(ref.id), "%s", st.snapshot);
	if (snap_store_manifest_load(s, &ref, known, err, sizeof(err)) != 0)
		return 0;
	/* The root hash covers the size, chunk size and every chunk ID. */
	snap_id_hex(&known->root, root);
	if (strcmp(root, st.root) != 0) {
		snap_manifest_fini(known);
		return 0;
	}
	return 1;
}

bool
snap_standby_current(struct snap_store *s, const char *volume,
    const struct snap_standby_state *st)
{
	char err[160], root[SNAP_HEX_LEN + 1];
	struct snap_manifest head;
	struct snap_vol vol;
	struct snap_ref ref;
	bool same;

	if (!st->intact ||
	    snap_vol_read(s, volume, &vol, err, sizeof(err)) != 0 ||
	    vol.head[0] == '\0')
		return false;
	if (strcmp(vol.head, st->snapshot) == 0)
		return true;
	snprintf(ref.volume, sizeof(ref.volume), "%s", volume);
	snprintf(ref.id, sizeof(ref.id), "%s", vol.head);
	if (snap_store_manifest_load(s, &ref, &head, err, sizeof(err)) != 0)
		return false;
	snap_id_hex(&head.root, root);
	same = strcmp(root, st->root) == 0;
	snap_manifest_fini(&head);
	return same;
}

static void
snap_standby_forget(struct snap_store *s, const char *volume)
{
	char *path = xasprintf("%s/%s/%s", s->root, SNAP_STANDBY_KIND, volume);

	(void)unlink(path);
	free(path);
}

int
snap_standby_put(struct snap_store *s, const struct snap_manifest *m,
    const char *image, bool inplace, struct snap_restore_stats *st, char *err,
    size_t errlen)
{
	struct snap_restore_onto_opts o = { .inplace = inplace };
	struct snap_manifest known;
	struct stat sb;
	int have, e;

	memset(st, 0, sizeof(*st));
	if (m->kind == SNAP_KIND_TREE) {
		snprintf(err, errlen,
		    "a standby image needs an image volume, not a tree");
		return -EINVAL;
	}
	memset(&known, 0, sizeof(known));
	have = snap_standby_known(s, m->volume, image, &known);
	if (have && memcmp(known.root.b, m->root.b, SNAP_ID_LEN) == 0) {
		st->delta = st->known = true;
		st->kept = m->nchunks;
		snap_manifest_fini(&known);
		return 0;
	}
	o.known = have ? &known : NULL;
	snap_standby_forget(s, m->volume);
	e = snap_restore_onto(s, m, image, &o, st, err, errlen);
	if (have)
		snap_manifest_fini(&known);
	if (e != 0)
		return e;
	/* Only now, after the image's fsync, does the record name m. Without
	 * a record the image is still right; the next apply hashes it. */
	if (stat(image, &sb) == 0)
		(void)snap_cd_state_save(s, SNAP_STANDBY_KIND, m, image, &sb);
	return 0;
}
