/*
 * snap_dirty.c - the dirty set (snap_dirty.h): an open-addressing hash of
 * paths. Paths are only ever added (a set is taken whole and started
 * over), so there are no tombstones.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "snap/snap_dirty.h"

void
snap_dirty_init(struct snap_dirty *d, size_t max)
{
	memset(d, 0, sizeof(*d));
	d->max = max > 0 ? max : SNAP_DIRTY_MAX_DEFAULT;
}

static void
snap_dirty_clear(struct snap_dirty *d)
{
	for (size_t i = 0; i < d->cap; i++)
		free(d->v[i].path);
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

void
snap_dirty_fini(struct snap_dirty *d)
{
	snap_dirty_clear(d);
}

/* FNV-1a, 64 bits: paths are not chosen to collide (a local watcher). */
static uint64_t
snap_dirty_hash(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)p[i];
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

/* The slot holding path[0..len), or the free slot where it would go. */
static struct snap_dirty_slot *
snap_dirty_slot(const struct snap_dirty *d, const char *path, size_t len)
{
	size_t i = (size_t)snap_dirty_hash(path, len) & (d->cap - 1);

	for (;; i = (i + 1) & (d->cap - 1)) {
		struct snap_dirty_slot *s = &d->v[i];

		if (s->path == NULL ||
		    (strncmp(s->path, path, len) == 0 && s->path[len] == '\0'))
			return s;
	}
}

static void
snap_dirty_grow(struct snap_dirty *d)
{
	struct snap_dirty_slot *old = d->v;
	size_t ocap = d->cap;

	d->cap = ocap ? 2 * ocap : 64;
	d->v = xcalloc(d->cap, sizeof(*d->v));
	for (size_t i = 0; i < ocap; i++)
		if (old[i].path != NULL)
			*snap_dirty_slot(d, old[i].path, strlen(old[i].path)) =
			    old[i];
	free(old);
}

void
snap_dirty_add(
    struct snap_dirty *d, const char *path, size_t len, unsigned flags)
{
	struct snap_dirty_slot *s;

	if (d->why[0] != '\0')
		return;
	if (2 * (d->n + 1) > d->cap)
		snap_dirty_grow(d);
	s = snap_dirty_slot(d, path, len);
	if (s->path != NULL) {
		s->flags |= flags;
		return;
	}
	if (d->n == d->max) {
		snap_dirty_unknown(d, "too many dirty paths");
		return;
	}
	s->path = xmalloc(len + 1);
	memcpy(s->path, path, len);
	s->path[len] = '\0';
	s->flags = flags;
	d->n++;
}

void
snap_dirty_unknown(struct snap_dirty *d, const char *why)
{
	snap_dirty_clear(d);
	if (d->why[0] == '\0')
		snprintf(d->why, sizeof(d->why), "%s",
		    why != NULL && why[0] != '\0' ? why : "unknown");
}

void
snap_dirty_take(struct snap_dirty *d, struct snap_dirty *out)
{
	*out = *d;
	memset(d, 0, sizeof(*d));
	d->max = out->max;
}

unsigned
snap_dirty_get(const struct snap_dirty *d, const char *path, size_t len)
{
	const struct snap_dirty_slot *s;

	if (d->n == 0)
		return 0;
	s = snap_dirty_slot(d, path, len);
	return s->path != NULL ? s->flags : 0;
}

static int
snap_dirty_path_cmp(const void *a, const void *b)
{
	const struct snap_dirty_path *x = a, *y = b;

	return strcmp(x->path, y->path);
}

size_t
snap_dirty_sorted(const struct snap_dirty *d, struct snap_dirty_path **out)
{
	size_t k = 0;

	*out = xcalloc(d->n ? d->n : 1, sizeof(**out));
	for (size_t i = 0; i < d->cap; i++)
		if (d->v[i].path != NULL)
			(*out)[k++] = (struct snap_dirty_path){ d->v[i].path,
				d->v[i].flags };
	qsort(*out, k, sizeof(**out), snap_dirty_path_cmp);
	return k;
}
