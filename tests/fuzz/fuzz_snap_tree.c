/*
 * fuzz_snap_tree.c - arbitrary bytes as a tree index (snap_tree.h), the
 * file list a restore trusts to place files: the parser must reject or
 * accept without crashing, leaking or reading past the input. What parses
 * must encode back to exactly the input (one spelling per index), every
 * path must be found again, and every data chunk must map to the file
 * that holds it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "snap/snap_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_tree t;
	struct buf b;
	char err[256];
	uint64_t nth;

	if (snap_tree_parse(data, size, &t, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || t.e != NULL || t.n != 0)
			abort();
		return 0;
	}
	buf_init(&b);
	snap_tree_encode(&t, &b);
	if (b.len != size || memcmp(b.data, data, size) != 0)
		abort();
	buf_fini(&b);
	for (size_t i = 0; i < t.n; i++) {
		const struct snap_tree_entry *e = &t.e[i];

		if (snap_tree_find(&t, e->path) != e)
			abort();
		if (e->path[0] == '/' || strstr(e->path, "..") == e->path)
			abort();
		if (e->type != SNAP_TREE_FILE || e->nchunks == 0)
			continue;
		if (snap_tree_owner(&t, e->first, &nth) != e || nth != 0 ||
		    snap_tree_owner(&t, e->first + e->nchunks - 1, &nth) != e)
			abort();
	}
	if (snap_tree_owner(&t, t.nchunks, &nth) != NULL)
		abort();
	snap_tree_fini(&t);
	return 0;
}
