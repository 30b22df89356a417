/*
 * fuzz_snap_cd_state.c - arbitrary bytes as a change-detection state file
 * (<store>/cd/<volume>, snap_cd.h): the parser must accept or refuse
 * without crashing or reading past the input, and what it accepts must
 * format into a file that parses back to the same fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "snap/snap_cd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct snap_cd_state st, back;
	struct buf b;

	if (snap_cd_state_parse((const char *)data, size, &st) != 0)
		return 0;
	buf_init(&b);
	snap_cd_state_format(&st, &b);
	if (snap_cd_state_parse(b.data, b.len, &back) != 0 ||
	    memcmp(&st, &back, sizeof(st)) != 0)
		abort();
	buf_fini(&b);
	return 0;
}
