/*
 * snap_prune.c - forget the snapshots of a volume a retention policy does
 * not keep (snap.h: snap_prune). The policy itself is pure
 * (snap_retain.c); this file gives it the creation times and deletes.
 *
 * A snapshot's creation time comes from its ID when the ID is one this
 * code makes (cheap: no manifest read); otherwise from its manifest. A
 * snapshot whose time cannot be learnt is kept: pruning never guesses.
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

int
snap_prune(struct snap_store *s, const char *volume,
    const struct snap_retain_policy *p, int64_t now, const char *const *hold,
    size_t nhold, bool dry_run, snap_prune_fn *fn, void *arg, size_t *deleted)
{
	struct snap_ref *refs = NULL;
	int64_t *created;
	bool *keep, *unknown;
	size_t n = 0;
	int e;

	*deleted = 0;
	if ((e = snap_store_list(s, volume, &refs, &n)) != 0)
		return e;
	created = xcalloc(n + 1, sizeof(*created));
	keep = xcalloc(n + 1, sizeof(*keep));
	unknown = xcalloc(n + 1, sizeof(*unknown));
	for (size_t i = 0; i < n; i++) {
		struct snap_manifest m;
		char why[128];

		if (snap_retain_id_time(refs[i].id, &created[i]) == 0)
			continue;
		if (snap_store_manifest_load(
		        s, &refs[i], &m, why, sizeof(why)) == 0) {
			created[i] = m.created;
			snap_manifest_fini(&m);
		} else {
			unknown[i] = true;
		}
	}
	/* IDs sort by creation time, and so do our times; a foreign ID
	 * could break the order, which only makes the policy keep more. */
	(void)snap_retain_select(created, n, p, now, keep);
	for (size_t i = 0; i < n; i++) {
		bool k = keep[i] || unknown[i] ||
		    snap_prune_held(refs[i].id, hold, nhold);

		if (!k && !dry_run &&
		    (e = snap_store_manifest_delete(s, &refs[i])) != 0 &&
		    e != -ENOENT)
			k = true; /* still there: report it kept */
		else if (!k)
			(*deleted)++;
		if (fn != NULL)
			fn(&refs[i], k, arg);
	}
	free(unknown);
	free(keep);
	free(created);
	free(refs);
	return 0;
}
