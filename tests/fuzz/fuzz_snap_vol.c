/*
 * fuzz_snap_vol.c - arbitrary bytes as a volume's state file
 * (<store>/volumes/<volume>/state, snap_vol.h): the parser must reject or
 * accept without crashing or reading past the input, say why it rejects,
 * and whatever it accepts must format back to exactly the input (one
 * spelling per state).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "snap/snap_vol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_vol v;
	struct buf b;
	char err[256];

	if (snap_vol_parse((const char *)data, size, &v, err, sizeof(err)) !=
	    0) {
		if (err[0] == '\0' || v.role != SNAP_ROLE_NONE)
			abort();
		return 0;
	}
	if (v.role == SNAP_ROLE_NONE ||
	    (v.role == SNAP_ROLE_PRIMARY) != (v.generation[0] != '\0'))
		abort();
	buf_init(&b);
	snap_vol_format(&v, &b);
	if (b.len != size || memcmp(b.data, data, size) != 0)
		abort();
	buf_fini(&b);
	return 0;
}
