/*
 * snap_text.c - see snap_text.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "snap/snap_text.h"

int
snap_text_fail(struct snap_text *c, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->errlen > 0)
		snprintf(c->err, c->errlen, "line %u: %s", c->lineno, msg);
	return -EBADMSG;
}

int
snap_text_next(struct snap_text *c)
{
	const char *nl;

	c->lineno++;
	if (c->pos >= c->len)
		return snap_text_fail(c, "unexpected end of input");
	nl = memchr(c->p + c->pos, '\n', c->len - c->pos);
	if (nl == NULL)
		return snap_text_fail(c, "line not terminated");
	c->line = c->p + c->pos;
	c->llen = (size_t)(nl - c->line);
	c->pos += c->llen + 1;
	return 0;
}

int
snap_text_field(
    struct snap_text *c, const char *key, const char **val, size_t *vlen)
{
	size_t klen = strlen(key);
	int e;

	if ((e = snap_text_next(c)) != 0)
		return e;
	if (c->llen <= klen + 1 || memcmp(c->line, key, klen) != 0 ||
	    c->line[klen] != ' ')
		return snap_text_fail(c, "expected '%s VALUE'", key);
	*val = c->line + klen + 1;
	*vlen = c->llen - klen - 1;
	return 0;
}

int
snap_text_u64(struct snap_text *c, const char *key, uint64_t max, uint64_t *out)
{
	const char *v = NULL;
	size_t n = 0;
	uint64_t x = 0;
	int e;

	if ((e = snap_text_field(c, key, &v, &n)) != 0)
		return e;
	if (n > 20 || (n > 1 && v[0] == '0'))
		return snap_text_fail(c, "%s: not a canonical number", key);
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(v[i] - '0');

		if (d > 9)
			return snap_text_fail(c, "%s: not a number", key);
		if (x > (UINT64_MAX - d) / 10)
			return snap_text_fail(c, "%s: out of range", key);
		x = x * 10 + d;
	}
	if (x > max)
		return snap_text_fail(c, "%s: out of range", key);
	*out = x;
	return 0;
}

int
snap_text_gen(
    struct snap_text *c, const char *key, const char *v, size_t n, char *out)
{
	if (n != SNAP_GEN_HEX)
		return snap_text_fail(
		    c, "%s: want %d hex digits", key, SNAP_GEN_HEX);
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') ||
		        (v[i] >= 'a' && v[i] <= 'f')))
			return snap_text_fail(c, "%s: not lowercase hex", key);
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}
