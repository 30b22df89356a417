/*
 * snap_watch.h - an inotify watcher over a directory tree, keeping the
 * dirty set (snap_dirty.h) a tree create uses to re-read only what
 * changed since the last snapshot.
 *
 * Every directory of the tree gets a watch (IN_CREATE, IN_DELETE,
 * IN_MODIFY, IN_ATTRIB, IN_MOVED_FROM/TO, IN_CLOSE_WRITE, IN_DELETE_SELF,
 * IN_MOVE_SELF). An event on a name marks it: a name created, deleted or
 * renamed gets TREE, and its directory SELF (its mtime changed); a
 * modified or chmod'ed one gets SELF. A directory that appears (mkdir,
 * or renamed in) is watched and scanned at once, in the same step that
 * marks it TREE: whatever was created in it before its watch existed is
 * under that TREE mark, which the next create walks afresh; a directory
 * renamed away loses its watches (their paths would be wrong).
 *
 * The set becomes unknown (the next create walks everything) on
 * IN_Q_OVERFLOW, on ENOSPC from inotify_add_watch (the watch limit), when
 * the root is removed, renamed or unmounted, and when the watcher
 * (re)starts. After an overflow or a broken watch the watcher starts
 * over: a new inotify instance, every directory watched again, before
 * the set is handed to a create, so the full walk that follows happens
 * under the new watches.
 *
 * What inotify does not report is not seen: writes through a shared
 * mmap, and a new hard link's effect on the other names of its inode
 * (their ctime); the tree create re-stats every name of a multi-link
 * file for that reason (snap_tree_dirty.c).
 *
 * The event decoder is pure and takes the byte stream as hostile
 * (fuzz_snap_watch): the kernel writes it, but a bug there must not
 * become a bug here.
 */
#ifndef HAVEN_SNAP_WATCH_H
#define HAVEN_SNAP_WATCH_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ev.h"
#include "lib/json.h"
#include "snap/snap_dirty.h"

/* One inotify event; name points into the decoded buffer. */
struct snap_watch_ev {
	int32_t wd;
	uint32_t mask, cookie;
	const char *name; /* borrowed: namelen bytes, no NUL or '/' inside */
	size_t namelen;   /* 0: the event is about the watched dir itself */
};

/*
 * Decode the event at p[*off..len) into *ev and move *off past it: 1; 0
 * when *off == len; -EBADMSG when the record is truncated or malformed
 * (a name with '/', no NUL padding, "." or ".."): the rest of the buffer
 * cannot be trusted. Pure.
 */
int snap_watch_decode(
    const uint8_t *p, size_t len, size_t *off, struct snap_watch_ev *ev);

/* What an event does to the set (pure): SNAP_DIRTY_* bits for its name
 * (and SELF for its directory when the name's entry came or went). */
unsigned snap_watch_flags(uint32_t mask);

struct snap_watch;

struct snap_watch_info {
	bool running;    /* an inotify instance with every watch in place */
	size_t watches;  /* directories watched */
	size_t dirty;    /* paths in the set being filled */
	const char *why; /* borrowed: "" or why the set is unknown */
	uint64_t events, overflows, restarts, dropped; /* dropped: stale wd */
};

/*
 * A watcher of the tree at root (absolute; copied), on loop (borrowed,
 * must outlive it). The directory skip_dev/skip_ino (the store, when it
 * lies inside the tree; 0/0 = none) is not watched. Starts at once; a
 * start that fails leaves the set unknown and is retried at each take.
 */
struct snap_watch *snap_watch_new(
    struct ev_loop *loop, const char *root, dev_t skip_dev, ino_t skip_ino);
/* Stop watching and release it. NULL is a no-op. */
void snap_watch_free(struct snap_watch *w);

/*
 * Read every queued event, then move the set to out (the caller finis
 * it) and start a new one. A watcher that overflowed or broke starts
 * over first (out is then unknown). out->base is what snap_watch_base
 * last named, "" when none.
 */
void snap_watch_take(struct snap_watch *w, struct snap_dirty *out);

/* The set being filled is relative to snapshot id ("" = none). */
void snap_watch_base(struct snap_watch *w, const char *id);

/* Read queued events now (the loop does it too). */
void snap_watch_poll(struct snap_watch *w);

void snap_watch_info(const struct snap_watch *w, struct snap_watch_info *out);

/* "watch": {...} of the info, for the API (GET /v1/snap). */
void snap_watch_json(const struct snap_watch *w, struct jw *jw);

#endif
