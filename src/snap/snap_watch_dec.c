/*
 * snap_watch_dec.c - the pure half of the watcher (snap_watch.h): the
 * inotify record decoder and what each event means for a dirty set.
 */
#include <sys/inotify.h>

#include <errno.h>
#include <string.h>

#include "snap/snap_watch.h"

/* struct inotify_event's fixed part: wd, mask, cookie, len. */
#define SNAP_WATCH_HDR 16

static uint32_t
snap_watch_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v)); /* host order: the kernel's */
	return v;
}

int
snap_watch_decode(
    const uint8_t *p, size_t len, size_t *off, struct snap_watch_ev *ev)
{
	const uint8_t *r;
	uint32_t nl;
	size_t n;

	if (*off == len)
		return 0;
	if (*off > len || len - *off < SNAP_WATCH_HDR)
		return -EBADMSG;
	r = p + *off;
	nl = snap_watch_u32(r + 12);
	if (nl > len - *off - SNAP_WATCH_HDR)
		return -EBADMSG;
	memset(ev, 0, sizeof(*ev));
	ev->wd = (int32_t)snap_watch_u32(r);
	ev->mask = snap_watch_u32(r + 4);
	ev->cookie = snap_watch_u32(r + 8);
	if (nl > 0) {
		const char *name = (const char *)r + SNAP_WATCH_HDR;

		/* The kernel pads the name with at least one NUL. */
		n = strnlen(name, nl);
		if (n == nl)
			return -EBADMSG;
		for (size_t i = n; i < nl; i++)
			if (name[i] != '\0')
				return -EBADMSG;
		if (memchr(name, '/', n) != NULL ||
		    (n == 1 && name[0] == '.') ||
		    (n == 2 && name[0] == '.' && name[1] == '.'))
			return -EBADMSG;
		ev->name = n > 0 ? name : NULL;
		ev->namelen = n;
	}
	*off += SNAP_WATCH_HDR + nl;
	return 1;
}

unsigned
snap_watch_flags(uint32_t mask)
{
	unsigned f = 0;

	if (mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO))
		f |= SNAP_DIRTY_TREE;
	if (mask & (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE))
		f |= SNAP_DIRTY_SELF;
	return f;
}
