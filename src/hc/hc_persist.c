/*
 * hc_persist.c - reading and writing <state_dir>/health.json: see
 * hc_persist.h. Reading goes through jansson; a file we cannot understand, or
 * one too old to trust, costs a cold start, never a wrong verdict.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc/hc_engine.h"
#include "hc/hc_persist.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/statefile.h"
#include "lib/util.h"

void
hc_persist_render(const struct hc_engine *e, struct buf *out)
{
	const struct hc_target *t;
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kint(&w, "version", 1);
	jw_kuint(&w, "written_ms", hc_engine_wall_ms(e));
	jw_key(&w, "targets");
	jw_obj_begin(&w);
	for (size_t i = 0; i < e->ntargets; i++) {
		t = e->targets[i];
		if (t->sm.state == HC_UNKNOWN)
			continue;
		jw_key(&w, t->name);
		jw_obj_begin(&w);
		jw_kstr(&w, "state", hc_state_name(t->sm.state));
		jw_kstr(&w, "reason", hc_reason_name(t->sm.reason));
		jw_kuint(&w, "since_ms", t->since_wall_ms);
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	jw_obj_end(&w);
	buf_putc(out, '\n');
}

int
hc_persist_write(const struct hc_engine *e)
{
	struct buf b;
	int rc;

	buf_init(&b);
	hc_persist_render(e, &b);
	if ((rc = statefile_mkdir(e->state_dir)) == 0)
		rc =
		    statefile_write(e->state_dir, HC_STATE_FILE, b.data, b.len);
	buf_fini(&b);
	return rc;
}

/* The state an entry names: HC_UP, HC_DOWN, or -1 if neither. */
static int
hc_persist_state(const char *st)
{
	if (st != NULL && strcmp(st, hc_state_name(HC_UP)) == 0)
		return HC_UP;
	if (st != NULL && strcmp(st, hc_state_name(HC_DOWN)) == 0)
		return HC_DOWN;
	return -1;
}

/* One "name": {...} entry; false if it cannot be used. */
static bool
hc_persist_entry(const char *name, json_t *v, struct hc_restore *r)
{
	json_t *since = json_object_get(v, "since_ms");
	int state;

	if (!json_is_object(v) || strlen(name) >= sizeof(r->name) ||
	    (state = hc_persist_state(
	         json_string_value(json_object_get(v, "state")))) == -1 ||
	    (since != NULL && !json_is_integer(since)))
		return false;
	r->state = (enum hc_state)state;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->since_ms = since != NULL && json_integer_value(since) > 0 ?
	    (uint64_t)json_integer_value(since) :
	    0;
	return true;
}

static int
hc_persist_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hc_restore *)a)->name,
	    ((const struct hc_restore *)b)->name);
}

/*
 * Fill e->restore from a parsed document written at most max_age_ms ago.
 * Returns entries skipped; *stale is set when the whole file is too old
 * (or too new: a clock that went back) to say anything about now.
 */
static size_t
hc_persist_parse(struct hc_engine *e, json_t *root, bool *stale)
{
	json_t *tg = json_object_get(root, "targets"), *v;
	json_t *written = json_object_get(root, "written_ms");
	uint64_t now = hc_engine_wall_ms(e), at;
	const char *name;

	if (!json_is_object(tg))
		return 1;
	at = json_is_integer(written) && json_integer_value(written) > 0 ?
	    (uint64_t)json_integer_value(written) :
	    0;
	if (at == 0 || at > now + HC_RESTORE_SKEW_MS ||
	    (at < now && now - at > HC_RESTORE_MAX_AGE_MS)) {
		*stale = true;
		return json_object_size(tg);
	}
	e->restore = xcalloc(json_object_size(tg) + 1, sizeof(*e->restore));
	json_object_foreach(tg, name, v)
	{
		if (hc_persist_entry(name, v, &e->restore[e->nrestore]))
			e->nrestore++;
	}
	qsort(e->restore, e->nrestore, sizeof(*e->restore), hc_persist_cmp);
	return json_object_size(tg) - e->nrestore;
}

/*
 * The file is ours, but whatever is in the state directory is read as
 * outside bytes: jansson parses it, bounded, and anything it refuses costs a
 * cold start.
 */
void
hc_persist_load_buf(struct hc_engine *e, const char *data, size_t len)
{
	const char *dir = e->state_dir != NULL ? e->state_dir : "-";
	json_error_t err;
	bool stale = false;
	json_t *root = NULL;
	size_t bad = 0;

	free(e->restore);
	e->restore = NULL;
	e->nrestore = 0;
	if (len == 0 ||
	    (root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err)) ==
	        NULL)
		bad = 1;
	else
		bad = hc_persist_parse(e, root, &stale);
	json_decref(root);
	if (stale) {
		log_warn("health state too old to trust; probing afresh",
		    "dir=%s max_age_s=%u", log_q(dir),
		    HC_RESTORE_MAX_AGE_MS / 1000);
		e->stats.restore_stale++;
		return;
	}
	if (bad > 0 && e->nrestore == 0)
		log_warn("health state file unusable; probing afresh", "dir=%s",
		    log_q(dir));
	else
		log_info("health state restored",
		    "dir=%s targets=%zu skipped=%zu", log_q(dir), e->nrestore,
		    bad);
	e->stats.restore_errors += bad;
}

void
hc_persist_load(struct hc_engine *e)
{
	struct buf b;
	int rc;

	buf_init(&b);
	rc = statefile_read(e->state_dir, HC_STATE_FILE, &b);
	if (rc == 0)
		hc_persist_load_buf(e, b.data, b.len);
	else if (rc != -ENOENT) { /* ENOENT: a cold start */
		log_warn("health state file unreadable; probing afresh",
		    "dir=%s err=%s", log_q(e->state_dir), strerror(-rc));
		e->stats.restore_errors++;
	}
	buf_fini(&b);
}

const struct hc_restore *
hc_persist_find(const struct hc_engine *e, const char *name)
{
	struct hc_restore key;

	if (e->nrestore == 0 || strlen(name) >= sizeof(key.name))
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(
	    &key, e->restore, e->nrestore, sizeof(key), hc_persist_cmp);
}
