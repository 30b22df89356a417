/*
 * fuzz_snap_manifest.c - arbitrary bytes as a snapshot manifest
 * (<store>/snapshots/<volume>/<id>): the parser must reject or accept
 * without crashing, leaking or reading past the input. The format has one
 * spelling per manifest, so whatever parses must format back to exactly
 * the input, and must diff as identical against itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "snap/snap_manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_snap_range(uint64_t off, uint64_t len, void *arg)
{
	abort(); /* a manifest never differs from itself */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_manifest m;
	struct buf b;
	char err[256];

	if (snap_manifest_parse(
	        (const char *)data, size, &m, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || m.chunks != NULL)
			abort();
		return 0;
	}
	buf_init(&b);
	snap_manifest_format(&m, &b);
	if (b.len != size || memcmp(b.data, data, size) != 0)
		abort();
	if (snap_manifest_diff(&m, &m, fuzz_snap_range, NULL) != 0)
		abort();
	buf_fini(&b);
	snap_manifest_fini(&m);
	return 0;
}
