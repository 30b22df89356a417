/*
 * snap_text.h - the line cursor of the store's text files: manifests
 * (snap_manifest.c) and volume states (snap_vol.c) are "key VALUE" lines
 * in a fixed order, read strictly, with "line N: reason" errors.
 *
 * Pure: no I/O, no clock, no globals. Every function returns 0 or
 * -EBADMSG with the reason in c->err.
 */
#ifndef HAVEN_SNAP_TEXT_H
#define HAVEN_SNAP_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "snap/snap_manifest.h"

struct snap_text {
	const char *p; /* borrowed: the input */
	size_t len;
	size_t pos;       /* start of the next line */
	unsigned lineno;  /* of the line last read */
	const char *line; /* borrowed: into p */
	size_t llen;      /* without the '\n' */
	char *err;        /* borrowed: caller's buffer */
	size_t errlen;
};

/* "line N: " and the formatted reason into c->err; -EBADMSG. */
int snap_text_fail(struct snap_text *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The next line into c->line; every line, the last one too, ends in \n. */
int snap_text_next(struct snap_text *c);
/* The next line must be "key VALUE"; *val, *vlen get VALUE (non-empty). */
int snap_text_field(
    struct snap_text *c, const char *key, const char **val, size_t *vlen);
/* "key N": a canonical decimal (no sign, no leading zero) up to max. */
int snap_text_u64(
    struct snap_text *c, const char *key, uint64_t max, uint64_t *out);
/* v[0..n) must be a generation ID (SNAP_GEN_HEX lowercase hex digits);
 * copied with a NUL into out. */
int snap_text_gen(
    struct snap_text *c, const char *key, const char *v, size_t n, char *out);

#endif
