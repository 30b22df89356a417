/*
 * snap_watch.c - the inotify watcher of a directory tree (snap_watch.h).
 *
 * The watch descriptors map to directory paths in an open-addressing hash
 * (the kernel hands them out cyclically, so an array indexed by wd would
 * grow with every mkdir ever seen). A directory is watched through
 * /proc/self/fd of the descriptor it is then read from, so the watch and
 * the scan are on one directory even if its name is swapped meanwhile.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "snap/snap_tree.h"
#include "snap/snap_watch.h"

#define SNAP_WATCH_MASK                                                        \
	(IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM |       \
	    IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF |     \
	    IN_EXCL_UNLINK | IN_ONLYDIR)
#define SNAP_WATCH_BUF   65536
#define SNAP_WATCH_READS 16 /* per wakeup: the loop has other work */

struct snap_watch_wd {
	int wd;
	char *path; /* owned: relative, "" the root; NULL with !used */
	bool used, tomb;
};

/*
 * One watched tree: made by snap_watch_new, released by snap_watch_free;
 * its io callback gets the object itself as arg.
 */
struct snap_watch {
	struct ev_loop *loop; /* borrowed */
	char *root;           /* owned: absolute */
	dev_t skip_dev;
	ino_t skip_ino;
	int fd; /* owned: the inotify instance, or -1 */
	struct ev_io io;
	struct snap_watch_wd *wds; /* owned: cap slots */
	size_t nwd, ntomb, cap;
	int root_wd;
	bool broken; /* start over before the next take */
	bool started;
	struct snap_dirty set;
	uint8_t *buf; /* owned: SNAP_WATCH_BUF */
	uint64_t events, overflows, restarts, dropped;
};

/* ---- the wd map ---- */

static size_t
snap_watch_wd_hash(int wd, size_t cap)
{
	uint64_t h = (uint64_t)(uint32_t)wd * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (cap - 1);
}

static struct snap_watch_wd *
snap_watch_wd_find(const struct snap_watch *w, int wd)
{
	if (w->cap == 0)
		return NULL;
	for (size_t i = snap_watch_wd_hash(wd, w->cap);;
	     i = (i + 1) & (w->cap - 1)) {
		struct snap_watch_wd *s = &w->wds[i];

		if (!s->used && !s->tomb)
			return NULL;
		if (s->used && s->wd == wd)
			return s;
	}
}

static void snap_watch_wd_put(struct snap_watch *w, int wd, char *path);

static void
snap_watch_wd_rehash(struct snap_watch *w)
{
	struct snap_watch_wd *old = w->wds;
	size_t ocap = w->cap;

	w->cap = ocap == 0 ? 64 : 2 * w->nwd + 2 > ocap / 2 ? 2 * ocap : ocap;
	w->wds = xcalloc(w->cap, sizeof(*w->wds));
	w->nwd = w->ntomb = 0;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].used)
			snap_watch_wd_put(w, old[i].wd, old[i].path);
	free(old);
}

/* Map wd to path (taken); a wd already mapped gets the new path. */
static void
snap_watch_wd_put(struct snap_watch *w, int wd, char *path)
{
	struct snap_watch_wd *s = snap_watch_wd_find(w, wd);
	size_t i;

	if (s != NULL) {
		free(s->path);
		s->path = path;
		return;
	}
	if (2 * (w->nwd + w->ntomb + 1) > w->cap)
		snap_watch_wd_rehash(w);
	for (i = snap_watch_wd_hash(wd, w->cap); w->wds[i].used;
	     i = (i + 1) & (w->cap - 1))
		;
	if (w->wds[i].tomb)
		w->ntomb--;
	w->wds[i] =
	    (struct snap_watch_wd){ .wd = wd, .path = path, .used = true };
	w->nwd++;
}

static void
snap_watch_wd_del(struct snap_watch *w, struct snap_watch_wd *s)
{
	free(s->path);
	*s = (struct snap_watch_wd){ .tomb = true };
	w->nwd--;
	w->ntomb++;
}

static void
snap_watch_wd_clear(struct snap_watch *w)
{
	for (size_t i = 0; i < w->cap; i++)
		free(w->wds[i].path);
	free(w->wds);
	w->wds = NULL;
	w->nwd = w->ntomb = w->cap = 0;
}

/* Drop the watches of path and everything under it (renamed away). */
static void
snap_watch_unwatch(struct snap_watch *w, const char *path)
{
	size_t pl = strlen(path);

	for (size_t i = 0; i < w->cap; i++) {
		struct snap_watch_wd *s = &w->wds[i];

		if (!s->used || strncmp(s->path, path, pl) != 0 ||
		    (s->path[pl] != '\0' && s->path[pl] != '/'))
			continue;
		(void)inotify_rm_watch(w->fd, s->wd);
		snap_watch_wd_del(w, s);
	}
}

/* ---- watching ---- */

static void
snap_watch_break(struct snap_watch *w, const char *why)
{
	snap_dirty_unknown(&w->set, why);
	if (!w->broken)
		log_warn("snap watch", "root=%s unknown=%s", w->root,
		    log_q(w->set.why));
	w->broken = true;
}

/* Watch directory rel, open as fd (taken), and queue its subdirectories
 * on the stack. */
static void
snap_watch_dir(struct snap_watch *w, const char *rel, int fd, char ***stack,
    size_t *nstack, size_t *capstack)
{
	char proc[64];
	struct dirent *de;
	struct stat sb;
	size_t rl = strlen(rel);
	DIR *d;
	int wd;

	if (fstat(fd, &sb) == -1 ||
	    (w->skip_ino != 0 && sb.st_dev == w->skip_dev &&
	        sb.st_ino == w->skip_ino)) {
		close(fd);
		return;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((wd = inotify_add_watch(w->fd, proc, SNAP_WATCH_MASK)) == -1) {
		if (errno == ENOSPC)
			snap_watch_break(w,
			    "inotify watch limit reached "
			    "(fs.inotify.max_user_watches)");
		else
			snap_watch_break(w, "inotify_add_watch failed");
		close(fd);
		return;
	}
	snap_watch_wd_put(w, wd, xstrdup(rel));
	if (rl == 0)
		w->root_wd = wd;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		snap_watch_break(w, "a directory could not be read");
		return;
	}
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		bool dir = de->d_type == DT_DIR;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_UNKNOWN)
			dir = fstatat(dirfd(d), de->d_name, &sb,
			          AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(sb.st_mode);
		if (!dir || rl + 1 + nl > SNAP_TREE_PATH_MAX)
			continue; /* a full walk reports a path too long */
		if (*nstack == *capstack) {
			*capstack = *capstack ? 2 * *capstack : 64;
			*stack = xrealloc(*stack, *capstack * sizeof(**stack));
		}
		(*stack)[(*nstack)++] = rl ?
		    xasprintf("%s/%s", rel, de->d_name) :
		    xstrdup(de->d_name);
	}
	closedir(d);
}

/*
 * Watch directory rel and every directory under it. A directory that is
 * gone (or no longer one) by the time we get to it is left out: its
 * parent's events said so, and marked it.
 */
static void
snap_watch_add_tree(struct snap_watch *w, const char *rel)
{
	char **stack = xmalloc(sizeof(*stack));
	size_t n = 1, cap = 1;

	stack[0] = xstrdup(rel);
	while (n > 0) {
		char *p = stack[--n];
		char *abs =
		    p[0] ? xasprintf("%s/%s", w->root, p) : xstrdup(w->root);
		int fd = w->broken ?
		    -1 :
		    open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd == -1 && !w->broken && errno != ENOENT &&
		    errno != ENOTDIR && errno != ELOOP)
			snap_watch_break(w, "a directory could not be opened");
		if (fd != -1)
			snap_watch_dir(w, p, fd, &stack, &n, &cap);
		free(abs);
		free(p);
	}
	free(stack);
}

static void snap_watch_io(struct ev_io *io, unsigned events, void *arg);

static void
snap_watch_stop_fd(struct snap_watch *w)
{
	if (w->fd != -1) {
		ev_io_stop(w->loop, &w->io);
		close(w->fd);
		w->fd = -1;
	}
	snap_watch_wd_clear(w);
	w->root_wd = -1;
}

/* A new instance with every directory watched; the set is unknown (what
 * changed before the watches existed was not seen). */
static void
snap_watch_start(struct snap_watch *w)
{
	bool again = w->started;

	snap_watch_stop_fd(w);
	if (again)
		w->restarts++;
	w->started = true;
	w->broken = false;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd == -1) {
		snap_watch_break(w, "inotify_init1 failed");
		return;
	}
	ev_io_init(&w->io, w->fd, snap_watch_io, w);
	if (ev_io_start(w->loop, &w->io, EV_READ) != 0) {
		snap_watch_break(w, "inotify fd not pollable");
		return;
	}
	snap_watch_add_tree(w, "");
	if (w->root_wd == -1)
		snap_watch_break(w, "the root could not be watched");
	/* After a failure above its reason stands (the first is kept). */
	snap_dirty_unknown(
	    &w->set, again ? "watcher restarted" : "watcher started");
}

/* One event: mark the set, follow directories that came or went. */
static void
snap_watch_event(struct snap_watch *w, const struct snap_watch_ev *ev)
{
	struct snap_watch_wd *s;
	unsigned f;
	char *child;

	w->events++;
	if (ev->mask & IN_Q_OVERFLOW) {
		w->overflows++;
		snap_watch_break(w, "inotify queue overflow");
		return;
	}
	if ((s = snap_watch_wd_find(w, ev->wd)) == NULL) {
		/* A watch removed since (its dir's TREE mark covers what
		   it saw); the IN_IGNORED our own rm_watch causes is not a
		   loss. */
		if (!(ev->mask & IN_IGNORED))
			w->dropped++;
		return;
	}
	if (ev->wd == w->root_wd &&
	    (ev->mask &
	        (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT))) {
		snap_watch_break(
		    w, "the root was removed, renamed or unmounted");
		return;
	}
	if (ev->mask & IN_UNMOUNT) {
		snap_watch_break(w, "a file system in the tree was unmounted");
		return;
	}
	if (ev->mask & IN_IGNORED) {
		snap_watch_wd_del(w, s);
		return;
	}
	if (ev->namelen == 0) {
		if (ev->mask & IN_ATTRIB)
			snap_dirty_add(
			    &w->set, s->path, strlen(s->path), SNAP_DIRTY_SELF);
		return; /* a subdir's own DELETE/MOVE_SELF: its parent's */
	}
	if (strlen(s->path) + 1 + ev->namelen > SNAP_TREE_PATH_MAX) {
		snap_dirty_unknown(&w->set, "a path too long");
		return;
	}
	child = s->path[0] ?
	    xasprintf("%s/%.*s", s->path, (int)ev->namelen, ev->name) :
	    xasprintf("%.*s", (int)ev->namelen, ev->name);
	f = snap_watch_flags(ev->mask);
	if (f != 0)
		snap_dirty_add(&w->set, child, strlen(child), f);
	if (f & SNAP_DIRTY_TREE)
		snap_dirty_add(
		    &w->set, s->path, strlen(s->path), SNAP_DIRTY_SELF);
	/* s may move as the map grows: not used past here. */
	if ((ev->mask & IN_ISDIR) && (ev->mask & IN_MOVED_FROM))
		snap_watch_unwatch(w, child);
	if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
		snap_watch_add_tree(w, child);
	free(child);
}

/* Read and apply queued events: at most max reads (0: until none). */
static void
snap_watch_read(struct snap_watch *w, int max)
{
	for (int i = 0; w->fd != -1 && (max == 0 || i < max); i++) {
		ssize_t n = read(w->fd, w->buf, SNAP_WATCH_BUF);
		struct snap_watch_ev ev;
		size_t off = 0;
		int r;

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			snap_watch_break(w, "reading inotify failed");
			snap_watch_stop_fd(w);
			return;
		}
		while (
		    (r = snap_watch_decode(w->buf, (size_t)n, &off, &ev)) == 1)
			snap_watch_event(w, &ev);
		if (r < 0) {
			snap_watch_break(w, "a malformed inotify record");
			return;
		}
	}
}

static void
snap_watch_io(struct ev_io *io, unsigned events, void *arg)
{
	struct snap_watch *w = arg;

	(void)io;
	(void)events;
	snap_watch_read(w, SNAP_WATCH_READS);
}

struct snap_watch *
snap_watch_new(
    struct ev_loop *loop, const char *root, dev_t skip_dev, ino_t skip_ino)
{
	struct snap_watch *w = xcalloc(1, sizeof(*w));

	w->loop = loop;
	w->root = xstrdup(root);
	w->skip_dev = skip_dev;
	w->skip_ino = skip_ino;
	w->fd = -1;
	w->root_wd = -1;
	w->buf = xmalloc(SNAP_WATCH_BUF);
	snap_dirty_init(&w->set, 0);
	snap_watch_start(w);
	return w;
}

void
snap_watch_free(struct snap_watch *w)
{
	if (w == NULL)
		return;
	snap_watch_stop_fd(w);
	snap_dirty_fini(&w->set);
	free(w->buf);
	free(w->root);
	free(w);
}

void
snap_watch_poll(struct snap_watch *w)
{
	snap_watch_read(w, 0);
}

void
snap_watch_take(struct snap_watch *w, struct snap_dirty *out)
{
	snap_watch_read(w, 0);
	snap_dirty_take(&w->set, out);
	if (!w->broken)
		return;
	/* out already says why (every break marks the set). Start over
	   now: the full walk that out calls for comes after these watches,
	   so the set that follows is known, unless the start failed. */
	snap_watch_start(w);
	if (!w->broken) {
		snap_dirty_fini(&w->set);
		snap_dirty_init(&w->set, out->max);
	}
}

void
snap_watch_base(struct snap_watch *w, const char *id)
{
	snprintf(w->set.base, sizeof(w->set.base), "%s", id);
}

void
snap_watch_info(const struct snap_watch *w, struct snap_watch_info *out)
{
	memset(out, 0, sizeof(*out));
	out->running = w->fd != -1 && !w->broken;
	out->watches = w->nwd;
	out->dirty = w->set.n;
	out->why = w->set.why;
	out->events = w->events;
	out->overflows = w->overflows;
	out->restarts = w->restarts;
	out->dropped = w->dropped;
}

void
snap_watch_json(const struct snap_watch *w, struct jw *jw)
{
	struct snap_watch_info wi;

	snap_watch_info(w, &wi);
	jw_key(jw, "watch");
	jw_obj_begin(jw);
	jw_kbool(jw, "running", wi.running);
	jw_kuint(jw, "watches", wi.watches);
	jw_kuint(jw, "dirty", wi.dirty);
	jw_kstr(jw, "unknown", wi.why);
	jw_kuint(jw, "events", wi.events);
	jw_kuint(jw, "overflows", wi.overflows);
	jw_kuint(jw, "restarts", wi.restarts);
	jw_kuint(jw, "dropped", wi.dropped);
	jw_obj_end(jw);
}
