/*
 * json.h - a streaming JSON writer into a struct buf. Commas and nesting are
 * tracked by the writer, so callers emit keys and values in order and cannot
 * produce a syntactically invalid document short of unbalanced begin/end
 * calls (which jw_finish reports).
 *
 * Reading JSON (API request bodies, state files) goes through jansson: see
 * conf_jtree.c and conf.h.
 */
#ifndef HAVEN_JSON_H
#define HAVEN_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

#define JW_DEPTH_MAX 32

struct jw {
	struct buf *b; /* borrowed */
	int depth;
	bool first[JW_DEPTH_MAX]; /* no element written yet at this level */
	bool after_key;
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_uint(struct jw *w, uint64_t v);
void jw_double(struct jw *w, double v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Insert an already-encoded JSON value. */
void jw_raw(struct jw *w, const char *json, size_t n);
/* 0 if every container was closed, -1 otherwise. */
int jw_finish(struct jw *w);

/* Shorthands for "key": value. */
void jw_kstr(struct jw *w, const char *k, const char *s);
void jw_kint(struct jw *w, const char *k, int64_t v);
void jw_kuint(struct jw *w, const char *k, uint64_t v);
void jw_kbool(struct jw *w, const char *k, bool v);
void jw_kdouble(struct jw *w, const char *k, double v);

/* Append s to b as a quoted JSON string. */
void json_quote(struct buf *b, const char *s, size_t n);

#endif
