/*
 * fuzz_snap_watch.c - arbitrary bytes as the inotify record stream
 * (snap_watch_dec.c): the decoder must stop at a bad record without
 * reading past the input, advance by exactly each record's size, and
 * hand out names without NUL or '/' that lie inside the input. Each
 * decoded event is also applied to a dirty set as the watcher would
 * (a path per wd), so the set's hashing and growth see odd names too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap/snap_dirty.h"
#include "snap/snap_watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_watch_ev ev;
	struct snap_dirty d, t;
	struct snap_dirty_path *v;
	size_t off = 0, prev = 0, n;
	unsigned f;
	char path[4200];
	int r;

	snap_dirty_init(&d, 64);
	while ((r = snap_watch_decode(data, size, &off, &ev)) == 1) {
		if (off <= prev || off > size)
			abort();
		if (ev.namelen > 0) {
			const uint8_t *np = (const uint8_t *)ev.name;

			if (np < data || np + ev.namelen > data + off ||
			    memchr(ev.name, '\0', ev.namelen) != NULL ||
			    memchr(ev.name, '/', ev.namelen) != NULL)
				abort();
		} else if (ev.name != NULL) {
			abort();
		}
		n = (size_t)snprintf(path, sizeof(path), "d%d/%.*s",
		    (int)(ev.wd & 7), (int)ev.namelen,
		    ev.namelen ? ev.name : "");
		if (n >= sizeof(path))
			n = sizeof(path) - 1;
		f = snap_watch_flags(ev.mask);
		if (f != 0) { /* the watcher records no flagless path */
			snap_dirty_add(&d, path, n, f);
			if ((snap_dirty_get(&d, path, n) & f) != f &&
			    d.why[0] == '\0')
				abort();
		}
		prev = off;
	}
	if (r == 0 && off != size)
		abort();
	if (r < 0 && off != prev)
		abort();
	n = snap_dirty_sorted(&d, &v);
	if (n != d.n)
		abort();
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i - 1].path, v[i].path) >= 0)
			abort();
	free(v);
	snap_dirty_take(&d, &t);
	snap_dirty_fini(&t);
	snap_dirty_fini(&d);
	return 0;
}
