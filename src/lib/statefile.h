/*
 * statefile.h - the state directory: where planes persist last-known state
 * (health verdicts, later VRRP state) so that a restart starts from what was
 * true. Writes are atomic: a reader sees the old file or the new one, never a
 * torn one, even across a crash or power loss (temp file, fsync, rename,
 * fsync of the directory).
 */
#ifndef HAVEN_STATEFILE_H
#define HAVEN_STATEFILE_H

#include <stddef.h>

#include "buf.h"

/* Create dir (and parents) with mode 0700 if missing. Returns 0 or -errno. */
int statefile_mkdir(const char *dir);
/* Atomically replace dir/name with data. Returns 0 or -errno. */
int statefile_write(
    const char *dir, const char *name, const void *data, size_t len);
/* Read dir/name into out (appended). -ENOENT if absent. */
int statefile_read(const char *dir, const char *name, struct buf *out);

#endif
