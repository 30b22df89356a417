/*
 * snap_group.c - consistency groups: hooks, freeze, snapshots, thaw, in
 * that order (snap_group.h).
 */
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/util.h"
#include "snap/snap_freeze.h"
#include "snap/snap_group.h"

#define SNAP_GROUP_NENV 9

/* The same form as snap_create's IDs, so they sort among them. */
static void
snap_group_id(char *out, size_t len, int64_t *created)
{
	struct timespec ts;
	struct tm tm;
	uint8_t r[4] = { 0 };
	char when[32];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			fatal("snap: getrandom: %s", strerror(errno));
		got += (size_t)n;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm);
	snprintf(out, len, "%s.%06ldZ-%02x%02x%02x%02x", when,
	    ts.tv_nsec / 1000, r[0], r[1], r[2], r[3]);
	*created = (int64_t)ts.tv_sec;
}

/*
 * "NAME=a b c": v is the first of n strings stride bytes apart (a field
 * of an array of structs, or a plain array of strings).
 */
static char *
snap_group_join(const char *name, const char *const *v, size_t n, size_t stride)
{
	struct buf b;
	char *out;

	buf_init(&b);
	buf_puts(&b, name);
	buf_puts(&b, "=");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_puts(&b, " ");
		buf_puts(
		    &b, *(const char *const *)((const char *)v + i * stride));
	}
	out = xstrdup(b.data != NULL ? b.data : "");
	buf_fini(&b);
	return out;
}

static int
snap_group_hook(struct snap_store *s, const struct snap_group_opts *o,
    char *const *argv, const char *id, const char *result, const char *error,
    char *err, size_t errlen)
{
	char *env[SNAP_GROUP_NENV + 1] = { 0 };
	size_t n = 0;
	int e;

	env[n++] = xasprintf("HAVEN_SNAP_PHASE=%s", result ? "post" : "pre");
	env[n++] = snap_group_join("HAVEN_SNAP_VOLUME", &o->vols[0].volume,
	    o->nvols, sizeof(o->vols[0]));
	env[n++] = snap_group_join("HAVEN_SNAP_SOURCE", &o->vols[0].path,
	    o->nvols, sizeof(o->vols[0]));
	env[n++] = snap_group_join(
	    "HAVEN_SNAP_FREEZE", o->freeze, o->nfreeze, sizeof(o->freeze[0]));
	env[n++] = xasprintf("HAVEN_SNAP_STORE=%s", s->root);
	if (id != NULL) /* none yet before the freeze */
		env[n++] = xasprintf("HAVEN_SNAP_ID=%s", id);
	if (result != NULL) {
		env[n++] = xasprintf("HAVEN_SNAP_RESULT=%s", result);
		env[n++] = xasprintf("HAVEN_SNAP_ERROR=%s", error);
	}
	e = snap_freeze_hook(argv, env, o->hook_timeout_ms, err, errlen);
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	return e;
}

static int
snap_group_capture_default(struct snap_store *s,
    const struct snap_create_opts *co, struct snap_manifest *m,
    struct snap_create_stats *st, void *arg, char *err, size_t errlen)
{
	return snap_create(s, co, m, st, err, errlen);
}

static void
snap_group_unpublish(struct snap_store *s, struct snap_manifest *ms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct snap_ref r;

		snprintf(r.volume, sizeof(r.volume), "%s", ms[i].volume);
		snprintf(r.id, sizeof(r.id), "%s", ms[i].id);
		(void)snap_store_manifest_delete(s, &r);
		snap_manifest_fini(&ms[i]);
	}
}

/* Snapshot every volume; on failure unpublish those done. */
static int
snap_group_capture(struct snap_store *s, const struct snap_group_opts *o,
    const char *id, int64_t created, struct snap_manifest *ms,
    struct snap_create_stats *st, char *err, size_t errlen)
{
	snap_group_capture_fn *fn =
	    o->capture != NULL ? o->capture : snap_group_capture_default;
	size_t done = 0;
	int e = 0;

	for (; done < o->nvols; done++) {
		struct snap_create_opts co = { .volume = o->vols[done].volume,
			.path = o->vols[done].path,
			.compress = o->compress,
			.id = id,
			.created = created };
		char why[384];

		e = fn(s, &co, &ms[done], &st[done], o->arg, why, sizeof(why));
		if (e != 0) {
			snprintf(
			    err, errlen, "%s: %s", o->vols[done].volume, why);
			break;
		}
	}
	if (e != 0)
		snap_group_unpublish(s, ms, done);
	return e;
}

int
snap_group_create(struct snap_store *s, const struct snap_group_opts *o,
    struct snap_manifest *ms, struct snap_create_stats *st, char *err,
    size_t errlen, char *warn, size_t warnlen)
{
	struct snap_freeze *f = NULL;
	char id[SNAP_NAME_MAX + 1], why[384];
	int64_t created = 0;
	int e = 0, t;

	warn[0] = '\0';
	id[0] = '\0';
	if (o->nvols == 0) {
		snprintf(err, errlen, "no volume");
		return -EINVAL;
	}
	if (o->pre_hook != NULL &&
	    (e = snap_group_hook(
	         s, o, o->pre_hook, NULL, NULL, NULL, why, sizeof(why))) != 0) {
		snprintf(err, errlen, "pre hook failed, nothing done: %s", why);
		return e;
	}
	if (o->nfreeze > 0)
		e = snap_freeze_begin(o->freeze, o->nfreeze, s->root,
		    o->freeze_timeout_ms, &f, err, errlen);
	if (e == 0) {
		/* The group's time is the freeze's. */
		snap_group_id(id, sizeof(id), &created);
		e = snap_group_capture(s, o, id, created, ms, st, err, errlen);
		if (f != NULL &&
		    (t = snap_freeze_end(f, why, sizeof(why))) != 0) {
			if (e == 0)
				snap_group_unpublish(s, ms, o->nvols);
			if (e == 0 || t == -EIO) {
				snprintf(err, errlen, "%s%s", why,
				    e == 0 ? "; snapshot discarded" : "");
				e = t;
			}
		}
	}
	if (o->post_hook != NULL &&
	    (t = snap_group_hook(s, o, o->post_hook, id[0] ? id : NULL,
	         e == 0 ? "ok" : "failed", e == 0 ? "" : err, why,
	         sizeof(why))) != 0)
		snprintf(warn, warnlen, "post hook failed: %s", why);
	return e;
}
