/*
 * cmd_snap_init.c - `haven snap init`: make a snapshot store, sealed with a
 * key when --key-file is given (snap_store.h says what sealing does).
 * `create` makes a plain store on its own; a sealed one must be made here,
 * before the first chunk, since its chunk IDs depend on the key.
 *
 * Exit status: 0 made; 1 error (the store exists, the key file is not
 * usable); 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "snap/snap_store.h"

static void
cmd_snap_init_usage(FILE *f)
{
	fprintf(f,
	    "usage: haven snap init --store DIR [--key-file F]\n"
	    "  make a store at DIR. With --key-file (32 raw bytes or 64 hex "
	    "digits,\n"
	    "  readable by its owner only, kept outside the store): chunks "
	    "are\n"
	    "  encrypted (XChaCha20-Poly1305) and their IDs keyed "
	    "(BLAKE2b); every\n"
	    "  user of the store then needs the key file, and only stores "
	    "with the\n"
	    "  same key replicate to each other.\n");
}

int
cmd_snap_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = getenv("HAVEN_SNAP_STORE"), *key = NULL;
	struct snap_store *s;
	char err[512] = "", abs[PATH_MAX];
	int c, e;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			store = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'h':
			cmd_snap_init_usage(stdout);
			return 0;
		default:
			cmd_snap_init_usage(stderr);
			return 2;
		}
	}
	if (store == NULL || store[0] == '\0' || optind != argc) {
		cmd_snap_init_usage(stderr);
		return 2;
	}
	if (snap_store_open(store, false, &s) == 0) {
		snap_store_close(s);
		fprintf(
		    stderr, "haven snap init: %s is a store already\n", store);
		return 1;
	}
	if (key == NULL) {
		e = snap_store_open(store, true, &s);
		if (e != 0) {
			fprintf(stderr, "haven snap init: %s: %s\n", store,
			    strerror(-e));
			return 1;
		}
		snap_store_close(s);
		printf("store %s: plain (SHA-256 chunk IDs, not encrypted)\n",
		    store);
		return 0;
	}
	/* The marker records the key's path: make it absolute. */
	if (realpath(key, abs) == NULL) {
		fprintf(stderr, "haven snap init: --key-file %s: %s\n", key,
		    strerror(errno));
		return 1;
	}
	if ((e = snap_store_init_sealed(store, abs, err, sizeof(err))) != 0 ||
	    (e = snap_store_open(store, false, &s)) != 0) {
		fprintf(stderr, "haven snap init: %s\n",
		    err[0] ? err : strerror(-e));
		return 1;
	}
	printf("store %s: sealed, key %s (chunk IDs %s)\n", store, abs, s->ids);
	snap_store_close(s);
	return 0;
}
