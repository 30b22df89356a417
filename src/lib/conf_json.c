/*
 * conf_json.c - a bound struct back to JSON, and the reload diff of keys
 * that need a restart.
 *
 * The JSON form is the one the binder reads back: durations as "2s"
 * strings, sizes as byte counts, enums by name, addresses as text, absent
 * optional values as null (which binds as "absent"). So GET /v1/config
 * output can be edited and sent back, and two configs are equal on a key
 * exactly when the key's JSON is equal, which is what the diff uses.
 */
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "json.h"
#include "util.h"

#define CONF_FIELD_C(obj, off) ((const void *)((const char *)(obj) + (off)))

static void
conf_json_obj(
    const struct conf_schema *s, const void *obj, struct jw *w, bool mask)
{
	jw_obj_begin(w);
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct conf_key *k = &s->keys[i];

		jw_key(w, k->name);
		conf_json_value(k, CONF_FIELD_C(obj, k->off), w, mask);
	}
	jw_obj_end(w);
}

static void
conf_json_list(const struct conf_key *k, const void *field, size_t n,
    struct jw *w, bool mask)
{
	const char *arr = *(const char *const *)field;

	jw_arr_begin(w);
	for (size_t i = 0; arr != NULL && i < n; i++)
		conf_json_obj(k->sub, arr + i * k->sub->size, w, mask);
	jw_arr_end(w);
}

static void
conf_json_strlist(const void *field, struct jw *w)
{
	char *const *v = *(char *const *const *)field;

	jw_arr_begin(w);
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		jw_str(w, v[i]);
	jw_arr_end(w);
}

static void
conf_json_enum(const struct conf_key *k, int v, struct jw *w)
{
	for (int i = 0; k->enum_names != NULL && k->enum_names[i] != NULL;
	     i++) {
		if (i == v) {
			jw_str(w, k->enum_names[i]);
			return;
		}
	}
	jw_int(w, v);
}

/* The count of a CT_LIST sits beside the array in the parent struct. */
static size_t
conf_json_count(const struct conf_key *k, const void *field)
{
	const char *obj = (const char *)field - k->off;

	return *(const size_t *)CONF_FIELD_C(obj, k->count_off);
}

/* An address:port keeps ":0" (any port), or it would not bind back. */
static void
conf_json_addr(
    const struct conf_key *k, const struct sockaddr_storage *ss, struct jw *w)
{
	char tmp[80];

	if (ss->ss_family == AF_UNSPEC) {
		jw_null(w);
		return;
	}
	conf_addr_str(ss, tmp, sizeof(tmp));
	if (k->type == CT_ADDR_PORT && strchr(tmp, ':') == NULL)
		strcat(tmp, ":0");
	else if (k->type == CT_ADDR_PORT && ss->ss_family == AF_INET6 &&
	    tmp[0] != '[') {
		char v6[96];

		snprintf(v6, sizeof(v6), "[%s]:0", tmp);
		jw_str(w, v6);
		return;
	}
	jw_str(w, tmp);
}

void
conf_json_value(
    const struct conf_key *k, const void *field, struct jw *w, bool mask)
{
	char tmp[80];

	if (mask && (k->flags & CK_SECRET)) {
		if (k->type == CT_STRING && *(char *const *)field == NULL)
			jw_null(w);
		else
			jw_str(w, "***");
		return;
	}
	switch (k->type) {
	case CT_BOOL:
		jw_bool(w, *(const bool *)field);
		break;
	case CT_INT:
		jw_int(w, *(const int64_t *)field);
		break;
	case CT_UINT:
		jw_uint(w, *(const uint32_t *)field);
		break;
	case CT_DURATION:
		jw_str(w,
		    conf_fmt_duration(
		        *(const uint64_t *)field, tmp, sizeof(tmp)));
		break;
	case CT_SIZE:
		jw_uint(w, *(const uint64_t *)field);
		break;
	case CT_STRING:
		if (*(char *const *)field == NULL)
			jw_null(w);
		else
			jw_str(w, *(char *const *)field);
		break;
	case CT_ENUM:
		conf_json_enum(k, *(const int *)field, w);
		break;
	case CT_ADDR:
	case CT_ADDR_PORT:
		conf_json_addr(k, field, w);
		break;
	case CT_SECTION:
		conf_json_obj(k->sub, field, w, mask);
		break;
	case CT_LIST:
		conf_json_list(k, field, conf_json_count(k, field), w, mask);
		break;
	case CT_STRLIST:
		conf_json_strlist(field, w);
		break;
	case CT_CUSTOM:
		if (k->to_json != NULL)
			k->to_json(field, w);
		else
			jw_null(w);
		break;
	}
}

void
conf_to_json(const struct conf_schema *s, const void *obj, struct jw *w)
{
	conf_json_obj(s, obj, w, true);
}

/* Reload diff state: where we are and what was found. */
struct conf_json_diff {
	const char *file;         /* borrowed */
	struct conf_errors *errs; /* borrowed */
	struct buf path;          /* owned: "api.socket" */
	struct buf a, b;          /* owned: scratch for the two values */
	int n;
};

static void conf_json_diff_obj(struct conf_json_diff *d,
    const struct conf_schema *s, const void *o, const void *n);

static bool
conf_json_same(struct conf_json_diff *d, const struct conf_key *k,
    const void *fo, const void *fn)
{
	struct jw w;

	buf_reset(&d->a);
	buf_reset(&d->b);
	jw_init(&w, &d->a);
	conf_json_value(k, fo, &w, false);
	jw_init(&w, &d->b);
	conf_json_value(k, fn, &w, false);
	return d->a.len == d->b.len &&
	    (d->a.len == 0 || memcmp(d->a.data, d->b.data, d->a.len) == 0);
}

static const char *
conf_json_elem_name(const struct conf_schema *sub, const void *elem)
{
	for (size_t i = 0; i < sub->nkeys; i++)
		if (sub->keys[i].type == CT_STRING &&
		    strcmp(sub->keys[i].name, "name") == 0)
			return *(char *const *)CONF_FIELD_C(
			    elem, sub->keys[i].off);
	return NULL;
}

/* Elements are matched by name when they have one, else by position. */
static void
conf_json_diff_list(struct conf_json_diff *d, const struct conf_key *k,
    const void *fo, const void *fn)
{
	const char *ao = *(const char *const *)fo;
	const char *an = *(const char *const *)fn;
	size_t no = conf_json_count(k, fo), nn = conf_json_count(k, fn);
	size_t sz = k->sub->size, saved = d->path.len;

	for (size_t i = 0; an != NULL && i < nn; i++) {
		const void *en = an + i * sz, *eo = NULL;
		const char *name = conf_json_elem_name(k->sub, en);

		for (size_t j = 0; ao != NULL && j < no && eo == NULL; j++) {
			const char *on =
			    conf_json_elem_name(k->sub, ao + j * sz);

			if (name == NULL ?
			        j == i :
			        (on != NULL && strcmp(on, name) == 0))
				eo = ao + j * sz;
		}
		if (eo == NULL)
			continue;
		if (name != NULL)
			buf_printf(&d->path, "[%s]", name);
		else
			buf_printf(&d->path, "[%zu]", i);
		conf_json_diff_obj(d, k->sub, eo, en);
		d->path.len = saved;
		d->path.data[saved] = '\0';
	}
}

static void
conf_json_diff_obj(struct conf_json_diff *d, const struct conf_schema *s,
    const void *o, const void *n)
{
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct conf_key *k = &s->keys[i];
		const void *fo = CONF_FIELD_C(o, k->off);
		const void *fn = CONF_FIELD_C(n, k->off);
		size_t saved = d->path.len;

		buf_printf(&d->path, "%s%s", saved > 0 ? "." : "", k->name);
		if (k->flags & CK_RESTART) {
			if (!conf_json_same(d, k, fo, fn)) {
				conf_errors_add(d->errs, d->file, 0, 0,
				    xasprintf("%s: cannot change on reload "
				              "(restart required)",
				        d->path.data));
				d->n++;
			}
		} else if (k->type == CT_SECTION) {
			conf_json_diff_obj(d, k->sub, fo, fn);
		} else if (k->type == CT_LIST) {
			conf_json_diff_list(d, k, fo, fn);
		}
		d->path.len = saved;
		d->path.data[saved] = '\0';
	}
}

int
conf_restart_diff(const struct conf_schema *s, const void *old_obj,
    const void *new_obj, const char *file, struct conf_errors *errs)
{
	struct conf_json_diff d = { .file = file, .errs = errs };

	buf_init(&d.path);
	buf_init(&d.a);
	buf_init(&d.b);
	buf_puts(&d.path, "");
	conf_json_diff_obj(&d, s, old_obj, new_obj);
	buf_fini(&d.path);
	buf_fini(&d.a);
	buf_fini(&d.b);
	return d.n;
}
