/*
 * snap_role.c - promote and demote (snap_role.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "snap/snap_role.h"
#include "snap/snap_standby.h"

/* A promote or demote waits this long for the store and the volume. */
#define SNAP_ROLE_WAIT_MS 30000

/* Every chunk m names is in the store; else why not, in why. */
static bool
snap_role_complete(struct snap_store *s, const struct snap_manifest *m,
    char *why, size_t whylen)
{
	for (uint64_t i = 0; i < m->nchunks; i++) {
		int e;

		if (snap_id_is_zero(&m->chunks[i]))
			continue;
		if ((e = snap_store_chunk_has(s, &m->chunks[i])) != 1) {
			snprintf(why, whylen, "%s: chunk %" PRIu64 " %s", m->id,
			    i, e == 0 ? "is missing" : strerror(-e));
			return false;
		}
	}
	return true;
}

/*
 * The snapshot to promote into *base: o->snapshot as asked, or the head
 * and then its ancestors newest first, the first with all its chunks.
 */
static int
snap_role_pick(struct snap_store *s, const struct snap_promote_opts *o,
    const struct snap_vol *vol, struct snap_manifest *base,
    struct snap_promote_result *r, char *err, size_t errlen)
{
	struct snap_ref *refs = NULL, ref;
	struct snap_manifest head;
	bool have_head = false;
	size_t n = 0;
	int e;

	snprintf(ref.volume, sizeof(ref.volume), "%s", o->volume);
	if (o->snapshot != NULL || vol->head[0] != '\0') {
		snprintf(ref.id, sizeof(ref.id), "%s",
		    o->snapshot != NULL ? o->snapshot : vol->head);
		if ((e = snap_store_manifest_load(
		         s, &ref, base, err, errlen)) != 0) {
			if (e != -EBADMSG)
				snprintf(err, errlen, "%s/%s: %s", ref.volume,
				    ref.id, strerror(-e));
			return e;
		}
		if (snap_role_complete(
		        s, base, r->skipped_why, sizeof(r->skipped_why)))
			return 0;
		if (o->snapshot != NULL) {
			snprintf(err, errlen, "%s", r->skipped_why);
			snap_manifest_fini(base);
			return -ENOENT;
		}
		r->skipped++;
		head = *base; /* ownership moves to head */
		have_head = true;
	}
	if ((e = snap_store_list(s, o->volume, &refs, &n)) != 0) {
		snprintf(
		    err, errlen, "listing %s: %s", o->volume, strerror(-e));
		goto out;
	}
	e = -ENOENT;
	for (size_t i = n; i-- > 0;) {
		char perr[160];

		if (have_head && strcmp(refs[i].id, head.id) == 0)
			continue;
		if (snap_store_manifest_load(
		        s, &refs[i], base, perr, sizeof(perr)) != 0)
			continue;
		if ((!have_head ||
		        snap_manifest_descends(
		            &head, base->generation, base->seq)) &&
		    snap_role_complete(
		        s, base, r->skipped_why, sizeof(r->skipped_why))) {
			e = 0;
			break;
		}
		snap_manifest_fini(base);
	}
	if (e != 0)
		snprintf(err, errlen, "volume %s has no complete snapshot%s%s",
		    o->volume, r->skipped ? ": " : "",
		    r->skipped ? r->skipped_why : "");
out:
	free(refs);
	if (have_head)
		snap_manifest_fini(&head);
	return e;
}

/* volume/id's manifest. */
static int
snap_role_load(struct snap_store *s, const char *volume, const char *id,
    struct snap_manifest *m)
{
	struct snap_ref ref;
	char err[160];

	snprintf(ref.volume, sizeof(ref.volume), "%s", volume);
	snprintf(ref.id, sizeof(ref.id), "%s", id);
	return snap_store_manifest_load(s, &ref, m, err, sizeof(err));
}

/* A new ID like snap_create's, and its time. */
static void
snap_role_id(char *out, size_t len, int64_t *created)
{
	struct timespec ts;
	struct tm tm;
	char when[32], gen[SNAP_GEN_HEX + 1];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm);
	snap_vol_new_gen(gen); /* 8 random hex digits of it */
	snprintf(out, len, "%s.%06ldZ-%.8s", when, ts.tv_nsec / 1000, gen);
	*created = (int64_t)ts.tv_sec;
}

int
snap_promote(struct snap_store *s, const struct snap_promote_opts *o,
    struct snap_promote_result *r, char *err, size_t errlen)
{
	struct snap_manifest base, *p = &r->head;
	struct snap_vol vol;
	char gen[SNAP_GEN_HEX + 1];
	int vfd = -1, e;

	memset(r, 0, sizeof(*r));
	memset(&base, 0, sizeof(base));
	if ((e = snap_store_lock(s, false, SNAP_ROLE_WAIT_MS)) != 0) {
		snprintf(err, errlen, "locking the store: %s", strerror(-e));
		return e;
	}
	if ((e = snap_vol_lock(s, o->volume, SNAP_ROLE_WAIT_MS, &vfd, &vol, err,
	         errlen)) != 0)
		goto out;
	if (vol.role == SNAP_ROLE_PRIMARY) {
		snprintf(err, errlen,
		    "volume %s is primary here already "
		    "(generation %s)",
		    o->volume, vol.generation);
		e = -EALREADY;
		goto out;
	}
	if ((e = snap_role_pick(s, o, &vol, &base, r, err, errlen)) != 0)
		goto out;
	snprintf(r->base, sizeof(r->base), "%s", base.id);
	r->base_created = base.created;
	/* The image first: if it cannot be written, nothing has changed.
	 * A standby apply in progress finishes first (snap_standby.h). */
	if (o->to != NULL) {
		int sfd;

		if ((e = snap_standby_lock(
		         s, o->volume, SNAP_ROLE_WAIT_MS, &sfd)) != 0) {
			snprintf(err, errlen,
			    "waiting for the standby image's apply: %s",
			    strerror(-e));
			goto out;
		}
		e = snap_standby_put(
		    s, &base, o->to, o->inplace, &r->restore, err, errlen);
		close(sfd);
		if (e != 0)
			goto out;
	}
	*p = base;
	p->chunks = xcalloc(base.nchunks + 1, sizeof(p->chunks[0]));
	memcpy(p->chunks, base.chunks, base.nchunks * sizeof(p->chunks[0]));
	snap_role_id(p->id, sizeof(p->id), &p->created);
	snap_vol_new_gen(gen);
	snap_manifest_lineage(p, &base, gen);
	if ((e = snap_store_manifest_publish(s, p)) != 0) {
		snprintf(err, errlen, "publishing %s: %s", p->id, strerror(-e));
		goto out;
	}
	vol.role = SNAP_ROLE_PRIMARY;
	memcpy(vol.generation, gen, sizeof(vol.generation));
	snap_vol_set_head(&vol, p);
	if ((e = snap_vol_write(s, o->volume, &vol)) != 0)
		snprintf(err, errlen, "recording the role: %s", strerror(-e));
out:
	if (e != 0)
		snap_manifest_fini(&r->head);
	snap_manifest_fini(&base);
	snap_vol_unlock(vfd);
	snap_store_unlock(s);
	return e;
}

int
snap_demote(struct snap_store *s, const struct snap_demote_opts *o,
    struct snap_manifest *final, struct snap_create_stats *st, char *err,
    size_t errlen)
{
	struct snap_manifest parent;
	char same[SNAP_NAME_MAX + 1] = "";
	struct snap_vol vol;
	int vfd = -1, e;

	memset(final, 0, sizeof(*final));
	memset(st, 0, sizeof(*st));
	if (o->from != NULL) {
		struct snap_create_opts co = {
			.volume = o->volume,
			.path = o->from,
			.compress = o->compress,
		};

		if ((e = snap_create(s, &co, final, st, err, errlen)) != 0)
			return e;
		/* An image unchanged since its parent needs no final
		 * snapshot: keeping one would make this node's head newer
		 * than what the new primary has, a divergence with no data
		 * in it. */
		if (final->parent[0] != '\0' &&
		    snap_role_load(s, o->volume, final->parent, &parent) == 0) {
			if (memcmp(parent.root.b, final->root.b, SNAP_ID_LEN) ==
			    0)
				snprintf(same, sizeof(same), "%s", parent.id);
			snap_manifest_fini(&parent);
		}
	}
	if ((e = snap_store_lock(s, false, SNAP_ROLE_WAIT_MS)) != 0) {
		snprintf(err, errlen, "locking the store: %s", strerror(-e));
		return e;
	}
	if ((e = snap_vol_lock(s, o->volume, SNAP_ROLE_WAIT_MS, &vfd, &vol, err,
	         errlen)) != 0)
		goto out;
	if (vol.role == SNAP_ROLE_REPLICA) {
		snprintf(err, errlen, "volume %s is a replica here already",
		    o->volume);
		e = -EALREADY;
		goto out;
	}
	if (same[0] != '\0' && strcmp(vol.head, final->id) == 0) {
		struct snap_ref ref;

		snprintf(ref.volume, sizeof(ref.volume), "%s", o->volume);
		snprintf(ref.id, sizeof(ref.id), "%s", final->id);
		if (snap_role_load(s, o->volume, same, &parent) == 0) {
			snap_vol_set_head(&vol, &parent);
			snap_manifest_fini(&parent);
			(void)snap_store_manifest_delete(s, &ref);
			snap_manifest_fini(final);
			snprintf(
			    final->parent, sizeof(final->parent), "%s", same);
		}
	}
	vol.role = SNAP_ROLE_REPLICA;
	vol.generation[0] = '\0';
	if ((e = snap_vol_write(s, o->volume, &vol)) != 0)
		snprintf(err, errlen, "recording the role: %s", strerror(-e));
out:
	snap_vol_unlock(vfd);
	snap_store_unlock(s);
	return e;
}
