/*
 * fuzz_snap_mark.c - arbitrary bytes as a store's marker file
 * (<store>/haven-snap-store, snap_store.h): the parser must accept or
 * refuse without crashing or reading past the input, say why it refuses,
 * and what it accepts must be the one spelling it describes (rebuilt from
 * the parsed fields, byte for byte).
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap/snap_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char key_file[PATH_MAX], rebuilt[PATH_MAX + 64];
	char key_id[17], err[256] = "";
	int n;

	if (snap_store_mark_parse((const char *)data, size, key_file, key_id,
	        err, sizeof(err)) != 0) {
		if (err[0] == '\0' || key_file[0] != '\0')
			abort();
		return 0;
	}
	if (key_file[0] == '\0')
		n = snprintf(rebuilt, sizeof(rebuilt), "haven-snap-store 1\n");
	else
		n = snprintf(rebuilt, sizeof(rebuilt),
		    "haven-snap-store 1\nkey_file %s\nkey_id %s\n", key_file,
		    key_id);
	if (n < 0 || (size_t)n != size || memcmp(rebuilt, data, size) != 0)
		abort();
	return 0;
}
