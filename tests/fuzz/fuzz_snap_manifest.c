/*
 * fuzz_snap_manifest.c - arbitrary bytes as a snapshot manifest
 * (<store>/snapshots/<volume>/<id>): the parser must reject or accept
 * without crashing, leaking or reading past the input. The format has one
 * spelling per manifest, so whatever parses must format back to exactly
 * the input, and must diff as identical against itself (an image; a
 * tree, version 3, refuses a chunk-by-chunk diff).
 *
 * A mutated chunk list almost never matches its root hash, so most inputs
 * would stop at the root check: when the parser reports the root it
 * computed, the input is parsed again with that root in place, which takes
 * mutated sizes and chunk lists through the whole parser and the round
 * trip.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/util.h"
#include "snap/snap_manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_snap_range(uint64_t off, uint64_t len, void *arg)
{
	abort(); /* a manifest never differs from itself */
}

/* Parse p; on success the round trip and self-diff must hold. */
static int
fuzz_snap_one(const char *p, size_t size, char *err, size_t errlen)
{
	struct snap_manifest m;
	struct buf b;

	if (snap_manifest_parse(p, size, &m, err, errlen) != 0) {
		if (err[0] == '\0' || m.chunks != NULL)
			abort();
		return -1;
	}
	buf_init(&b);
	snap_manifest_format(&m, &b);
	if (b.len != size || memcmp(b.data, p, size) != 0)
		abort();
	/* Images compare chunk by chunk, trees do not (by path instead). */
	if (snap_manifest_diff(&m, &m, fuzz_snap_range, NULL) !=
	    (m.kind == SNAP_KIND_TREE ? -EINVAL : 0))
		abort();
	/* A snapshot descends from itself and from every fork it lists. */
	if (!snap_manifest_descends(&m, m.generation, m.seq))
		abort();
	for (uint32_t i = 0; i < m.nhistory; i++)
		if (!snap_manifest_descends(
		        &m, m.history[i].gen, m.history[i].seq))
			abort();
	buf_fini(&b);
	snap_manifest_fini(&m);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char tag[] = "computed ";
	char err[256], *copy, *root, *at;

	if (fuzz_snap_one((const char *)data, size, err, sizeof(err)) == 0)
		return 0;
	/* Put the computed root in the last "root " line and try again. */
	if ((at = strstr(err, tag)) == NULL)
		return 0;
	at += sizeof(tag) - 1;
	copy = xmalloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	root = NULL;
	for (char *q = copy; (q = strstr(q, "\nroot ")) != NULL; q++)
		root = q + 6;
	if (root != NULL && (size_t)(root - copy) + SNAP_HEX_LEN <= size) {
		memcpy(root, at, SNAP_HEX_LEN);
		(void)fuzz_snap_one(copy, size, err, sizeof(err));
	}
	free(copy);
	return 0;
}
