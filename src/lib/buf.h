/*
 * buf.h - a growable byte buffer. data is owned by the buf and always
 * NUL-terminated past len, so a buffer of text can be used as a C string.
 * Consumed bytes are removed from the front with buf_consume().
 */
#ifndef HAVEN_BUF_H
#define HAVEN_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "util.h"

struct buf {
	char *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_fini(struct buf *b);
void buf_reset(struct buf *b);
/* Ensure room for n more bytes; returns a pointer to the free space. */
char *buf_reserve(struct buf *b, size_t n);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __printflike(2, 3);
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Drop n bytes from the front. */
void buf_consume(struct buf *b, size_t n);
/* Hand the data to the caller (who must free() it) and reset the buf. */
char *buf_steal(struct buf *b);

#endif
