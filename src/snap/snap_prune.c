/*
 * snap_prune.c - forget the snapshots of a volume a retention policy does
 * not keep (snap.h: snap_prune). The policy itself is pure
 * (snap_retain.c); this file gives it the creation times and deletes.
 *
 * A snapshot's creation time comes from its ID when the ID is one this
 * code makes (cheap: no manifest read); otherwise from its manifest; the
 * policy sees the snapshots ordered by that time. A snapshot whose time
 * cannot be learnt is kept: pruning never guesses.
 * Only manifests are deleted; `haven snap gc` frees their chunks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "snap/snap.h"
#include "snap/snap_retain.h"

static bool
snap_prune_held(const char *id, const char *const *hold, size_t nhold)
{
	for (size_t i = 0; i < nhold; i++)
		if (hold[i] != NULL && strcmp(hold[i], id) == 0)
			return true;
	return false;
}

struct snap_prune_item {
	int64_t created;
	size_t at;
};

static int
snap_prune_cmp(const void *a, const void *b)
{
	const struct snap_prune_item *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Sort created[0..n) ascending, at[] along (ties in at order). */
static void
snap_prune_sort(int64_t *created, size_t *at, size_t n)
{
	struct snap_prune_item *v = xcalloc(n + 1, sizeof(*v));

	for (size_t j = 0; j < n; j++)
		v[j] = (struct snap_prune_item){ created[j], at[j] };
	qsort(v, n, sizeof(*v), snap_prune_cmp);
	for (size_t j = 0; j < n; j++) {
		created[j] = v[j].created;
		at[j] = v[j].at;
	}
	free(v);
}

int
snap_prune(struct snap_store *s, const char *volume,
    const struct snap_retain_policy *p, int64_t now, const char *const *hold,
    size_t nhold, bool dry_run, snap_prune_fn *fn, void *arg, size_t *deleted)
{
	struct snap_ref *refs = NULL;
	int64_t *created;
	size_t *at, nk = 0; /* known: refs[at[j]] was created at created[j] */
	bool *keep, *kk;
	size_t n = 0;
	int e;

	*deleted = 0;
	if ((e = snap_store_list(s, volume, &refs, &n)) != 0)
		return e;
	created = xcalloc(n + 1, sizeof(*created));
	at = xcalloc(n + 1, sizeof(*at));
	kk = xcalloc(n + 1, sizeof(*kk));
	keep = xcalloc(n + 1, sizeof(*keep));
	for (size_t i = 0; i < n; i++) {
		struct snap_manifest m;
		char why[128];

		keep[i] = true; /* unless the policy, knowing its time, says */
		if (snap_retain_id_time(refs[i].id, &created[nk]) == 0) {
			at[nk++] = i;
		} else if (snap_store_manifest_load(
		               s, &refs[i], &m, why, sizeof(why)) == 0) {
			created[nk] = m.created;
			at[nk++] = i;
			snap_manifest_fini(&m);
		}
	}
	/* Our IDs sort by creation time; a foreign one need not: order by
	 * time (then by ID). A snapshot of unknown time is kept and takes
	 * no place in the policy. */
	snap_prune_sort(created, at, nk);
	(void)snap_retain_select(created, nk, p, now, kk);
	for (size_t j = 0; j < nk; j++)
		keep[at[j]] = kk[j];
	for (size_t i = 0; i < n; i++) {
		bool k = keep[i] || snap_prune_held(refs[i].id, hold, nhold);

		if (!k && !dry_run &&
		    (e = snap_store_manifest_delete(s, &refs[i])) != 0 &&
		    e != -ENOENT)
			k = true; /* still there: report it kept */
		else if (!k)
			(*deleted)++;
		if (fn != NULL)
			fn(&refs[i], k, arg);
	}
	free(keep);
	free(kk);
	free(at);
	free(created);
	free(refs);
	return 0;
}
