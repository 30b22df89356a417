/*
 * snap_verify.c - prove snapshots against their chunks.
 *
 * Every manifest of the store is loaded (a manifest that does not parse,
 * or whose root hash does not match its chunk list, is itself damage), and
 * every use of a data chunk is listed as (chunk ID, snapshot, index). Sorted
 * by ID, each distinct chunk is read and checked once, and a damaged one is
 * reported with every place it is used, so an operator knows which
 * snapshots and which byte ranges of which images a flipped bit costs.
 * With one snapshot named, only its chunks are read, but a damaged chunk
 * still lists every snapshot that shares it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "snap/snap.h"
#include "snap/snap_chunker.h"
#include "snap/snap_tree_io.h"

struct snap_verify_use {
	struct snap_id id;
	uint32_t snap; /* index into the manifest array */
	uint64_t idx;  /* chunk index in that image */
};

static int
snap_verify_use_cmp(const void *a, const void *b)
{
	const struct snap_verify_use *x = a, *y = b;
	int c = snap_id_cmp(&x->id, &y->id);

	if (c != 0)
		return c;
	if (x->snap != y->snap)
		return x->snap < y->snap ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* True when ref is the one snapshot asked for, or none was. */
static bool
snap_verify_is_target(const struct snap_ref *only, const struct snap_ref *r)
{
	return only == NULL ||
	    (strcmp(only->volume, r->volume) == 0 &&
	        strcmp(only->id, r->id) == 0);
}

/* Check one distinct chunk: uses u[0..n). Returns true when sound. */
static bool
snap_verify_chunk(struct snap_store *s, const struct snap_manifest *ms,
    const struct snap_ref *refs, const struct snap_verify_use *u, size_t n,
    uint8_t *buf, FILE *report)
{
	const struct snap_manifest *m0 = &ms[u[0].snap];
	char hex[SNAP_HEX_LEN + 1];
	const char *why = NULL;
	uint64_t off;
	uint32_t len;
	size_t got = 0;
	int e;

	snap_chunker_range(m0->size, m0->chunk_size, u[0].idx, &off, &len);
	e = snap_store_chunk_get(s, &u[0].id, buf, SNAP_CHUNK_MAX, &got, &why);
	/* A tree's chunks are variable: their IDs alone pin their length. */
	if (e == 0 && m0->kind == SNAP_KIND_IMAGE && got != len) {
		why = "chunk length does not match its place in the image";
		e = -EBADMSG;
	}
	if (e == 0)
		return true;
	snap_id_hex(&u[0].id, hex);
	fprintf(report, "damaged chunk %s: %s\n", hex,
	    e == -ENOENT ? "missing from the store" :
	        why      ? why :
	                   strerror(-e));
	for (size_t i = 0; i < n; i++) {
		const struct snap_manifest *m = &ms[u[i].snap];
		char where[SNAP_TREE_PATH_MAX + 128];

		if (m->kind == SNAP_KIND_TREE) {
			snap_tree_where(s, m, u[i].idx, where, sizeof(where));
			fprintf(report, "  used by %s/%s chunk %llu: %s\n",
			    refs[u[i].snap].volume, refs[u[i].snap].id,
			    (unsigned long long)u[i].idx, where);
			continue;
		}
		snap_chunker_range(
		    m->size, m->chunk_size, u[i].idx, &off, &len);
		fprintf(report,
		    "  used by %s/%s chunk %llu at offset %llu length %u\n",
		    refs[u[i].snap].volume, refs[u[i].snap].id,
		    (unsigned long long)u[i].idx, (unsigned long long)off, len);
	}
	return false;
}

/* Load every manifest; ok[i] says whether ms[i] parsed. */
static int
snap_verify_load(struct snap_store *s, const struct snap_ref *only,
    struct snap_ref **refs, size_t *n, struct snap_manifest **ms, bool **ok,
    FILE *report, struct snap_verify_stats *st, char *err, size_t errlen)
{
	char why[256];
	int e;

	if ((e = snap_store_list(s, NULL, refs, n)) != 0) {
		snprintf(err, errlen, "listing snapshots: %s", strerror(-e));
		return e;
	}
	*ms = xcalloc(*n ? *n : 1, sizeof(**ms));
	*ok = xcalloc(*n ? *n : 1, sizeof(**ok));
	for (size_t i = 0; i < *n; i++) {
		bool target = snap_verify_is_target(only, &(*refs)[i]);

		e = snap_store_manifest_load(
		    s, &(*refs)[i], &(*ms)[i], why, sizeof(why));
		(*ok)[i] = e == 0;
		if (e != 0 && target) {
			st->bad_manifests++;
			fprintf(report, "damaged manifest %s/%s: %s\n",
			    (*refs)[i].volume, (*refs)[i].id,
			    e == -EBADMSG ? why : strerror(-e));
		}
		if (target)
			st->snapshots++;
	}
	return 0;
}

/* Every use of a data chunk in the manifests that parsed, sorted by ID. */
static struct snap_verify_use *
snap_verify_uses(
    const struct snap_manifest *ms, const bool *ok, size_t n, size_t *nu)
{
	struct snap_verify_use *u = NULL;
	size_t cap = 0;

	*nu = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		for (uint64_t k = 0; k < ms[i].nchunks; k++) {
			if (snap_id_is_zero(&ms[i].chunks[k]))
				continue;
			if (*nu == cap) {
				cap = cap ? 2 * cap : 1024;
				u = xrealloc(u, cap * sizeof(*u));
			}
			u[(*nu)++] = (struct snap_verify_use){ ms[i].chunks[k],
				(uint32_t)i, k };
		}
	}
	if (*nu > 1)
		qsort(u, *nu, sizeof(*u), snap_verify_use_cmp);
	return u;
}

/* A tree's chunks are sound: its index must parse and match it too. */
static bool
snap_verify_tree(struct snap_store *s, const struct snap_manifest *m,
    const struct snap_ref *ref, FILE *report, struct snap_verify_stats *st)
{
	struct snap_tree t;
	char why[256];

	if (snap_tree_load(s, m, &t, why, sizeof(why)) == 0) {
		snap_tree_fini(&t);
		return true;
	}
	st->bad_manifests++;
	fprintf(report, "damaged tree index %s/%s: %s\n", ref->volume, ref->id,
	    why);
	return false;
}

int
snap_verify(struct snap_store *s, const struct snap_ref *only, FILE *report,
    struct snap_verify_stats *st, char *err, size_t errlen)
{
	struct snap_verify_use *u = NULL;
	struct snap_manifest *ms = NULL;
	struct snap_ref *refs = NULL;
	uint8_t *buf = NULL;
	bool *ok = NULL, *hit = NULL;
	size_t n = 0, nu = 0;
	int e;

	memset(st, 0, sizeof(*st));
	if ((e = snap_verify_load(
	         s, only, &refs, &n, &ms, &ok, report, st, err, errlen)) != 0)
		goto out;
	hit = xcalloc(n ? n : 1, sizeof(*hit));
	u = snap_verify_uses(ms, ok, n, &nu);
	buf = xmalloc(SNAP_CHUNK_MAX);
	for (size_t i = 0, j; i < nu; i = j) {
		bool wanted = false;

		for (j = i; j < nu && snap_id_cmp(&u[j].id, &u[i].id) == 0; j++)
			wanted = wanted ||
			    snap_verify_is_target(only, &refs[u[j].snap]);
		if (!wanted)
			continue;
		st->chunks++;
		if (!snap_verify_chunk(
		        s, ms, refs, u + i, j - i, buf, report)) {
			st->damaged++;
			for (size_t k = i; k < j; k++)
				hit[u[k].snap] = true;
		}
	}
	for (size_t i = 0; i < n; i++) {
		char hex[SNAP_HEX_LEN + 1];

		if (!ok[i] || !snap_verify_is_target(only, &refs[i]))
			continue;
		if (!hit[i] && ms[i].kind == SNAP_KIND_TREE &&
		    !snap_verify_tree(s, &ms[i], &refs[i], report, st))
			hit[i] = true;
		snap_id_hex(&ms[i].root, hex);
		fprintf(report, "%s %s/%s root %s\n", hit[i] ? "DAMAGED" : "ok",
		    refs[i].volume, refs[i].id, hex);
	}
	e = st->damaged || st->bad_manifests ? -EBADMSG : 0;
	if (only != NULL && st->snapshots == 0) {
		snprintf(err, errlen, "%s/%s: no such snapshot", only->volume,
		    only->id);
		e = -ENOENT;
	}
out:
	for (size_t i = 0; i < n; i++)
		snap_manifest_fini(&ms[i]);
	free(ms);
	free(ok);
	free(hit);
	free(refs);
	free(u);
	free(buf);
	return e;
}
