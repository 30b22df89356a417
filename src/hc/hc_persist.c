/*
 * hc_persist.c - reading and writing <state_dir>/health.json: see
 * hc_persist.h. Reading goes through libfyaml (JSON is YAML 1.2); a file we
 * cannot understand costs a cold start, never a wrong verdict.
 */
#include <errno.h>
#include <libfyaml.h>
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

/* The scalar at map.key as a new string, or NULL. */
static char *
hc_persist_str(struct fy_node *map, const char *key)
{
	return conf_node_text(
	    NULL, fy_node_mapping_lookup_by_string(map, key, FY_NT));
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
hc_persist_entry(struct fy_node_pair *p, struct hc_restore *r)
{
	struct fy_node *v = fy_node_pair_value(p);
	char *name = conf_node_text(NULL, fy_node_pair_key(p));
	char *st = NULL, *since = NULL;
	bool ok = false;
	int state;

	if (name == NULL || v == NULL || !fy_node_is_mapping(v) ||
	    strlen(name) >= sizeof(r->name))
		goto out;
	st = hc_persist_str(v, "state");
	since = hc_persist_str(v, "since_ms");
	if ((state = hc_persist_state(st)) == -1)
		goto out;
	r->state = (enum hc_state)state;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->since_ms = since != NULL ? strtoull(since, NULL, 10) : 0;
	ok = true;
out:
	free(since);
	free(st);
	free(name);
	return ok;
}

static int
hc_persist_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hc_restore *)a)->name,
	    ((const struct hc_restore *)b)->name);
}

/* Fill e->restore from a parsed document. Returns entries skipped. */
static size_t
hc_persist_parse(struct hc_engine *e, struct fy_document *doc)
{
	struct fy_node *root = fy_document_root(doc), *tg;
	struct fy_node_pair *p;
	void *it = NULL;
	size_t bad = 0, n;

	tg = root != NULL && fy_node_is_mapping(root) ?
	    fy_node_mapping_lookup_by_string(root, "targets", FY_NT) :
	    NULL;
	if (tg == NULL || !fy_node_is_mapping(tg))
		return 1;
	n = (size_t)fy_node_mapping_item_count(tg);
	e->restore = xcalloc(n + 1, sizeof(*e->restore));
	while ((p = fy_node_mapping_iterate(tg, &it)) != NULL) {
		if (hc_persist_entry(p, &e->restore[e->nrestore]))
			e->nrestore++;
		else
			bad++;
	}
	qsort(e->restore, e->nrestore, sizeof(*e->restore), hc_persist_cmp);
	return bad;
}

void
hc_persist_load(struct hc_engine *e)
{
	/* Quiet: a damaged file is reported once, below, in logfmt. */
	static const struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET };
	struct fy_document *doc;
	struct buf b;
	size_t bad = 0;
	int rc;

	buf_init(&b);
	rc = statefile_read(e->state_dir, HC_STATE_FILE, &b);
	if (rc == -ENOENT)
		goto out; /* cold start */
	if (rc < 0 || b.len == 0 ||
	    (doc = fy_document_build_from_string(&cfg, b.data, b.len)) ==
	        NULL) {
		bad = 1;
		goto out;
	}
	bad = hc_persist_parse(e, doc);
	fy_document_destroy(doc);
	log_info("health state restored", "dir=%s targets=%zu skipped=%zu",
	    log_q(e->state_dir), e->nrestore, bad);
out:
	if (bad > 0 && e->nrestore == 0)
		log_warn("health state file unusable", "dir=%s",
		    log_q(e->state_dir));
	e->stats.restore_errors += bad;
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
