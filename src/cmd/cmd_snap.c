/*
 * cmd_snap.c - `haven snap`: snapshots of image files in a chunk store
 * (src/snap/). Every subcommand works on --store DIR (or $HAVEN_SNAP_STORE);
 * no daemon is involved.
 *
 * Exit status: 0 success; 1 error (I/O, no such snapshot, bad arguments to
 * the store); 2 usage; 3 damaged data (verify found damage; restore, clone
 * or export met a damaged or missing chunk and wrote nothing); 4 the store
 * is busy (gc could not take the store lock within --wait).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "lib/util.h"
#include "snap/snap.h"
#include "snap/snap_tree_io.h"

#define CMD_SNAP_EXIT_DAMAGED 3
#define CMD_SNAP_EXIT_BUSY    4

struct cmd_snap_args {
	const char *store;  /* borrowed: argv or environment */
	const char *volume; /* borrowed */
	const char *parent; /* borrowed; NULL = newest of the volume */
	const char *tree;   /* borrowed: create's --tree DIR */
	bool compress;
	bool dry_run;
	int wait_ms;
	int nargs;
	char **args; /* borrowed: the positional arguments */
};

static void
cmd_snap_usage(FILE *f)
{
	fprintf(f,
	    "usage: haven snap COMMAND --store DIR [OPTIONS] [ARGS]\n"
	    "  create --volume NAME FILE [--compress] [--parent ID | "
	    "--no-parent]\n"
	    "                     snapshot an image file (incremental: chunks "
	    "the store\n"
	    "                     has are not written again)\n"
	    "  create --volume NAME --tree DIR [...]  (or a DIR as FILE)\n"
	    "                     snapshot a directory tree (content-defined "
	    "chunks);\n"
	    "                     restore ID OUTDIR recreates it, diff lists "
	    "paths\n"
	    "  list [--volume NAME]  the snapshots, oldest first per volume\n"
	    "  diff A B           the byte ranges whose chunks differ\n"
	    "  restore ID OUT     the image, byte-identical; holes stay holes\n"
	    "  clone ID OUT       same as restore for now (no reflink yet)\n"
	    "  export ID OUT|-    the raw image, every byte written ('-': "
	    "stdout)\n"
	    "  delete ID          remove a snapshot (gc frees its chunks)\n"
	    "  verify [ID]        re-hash every chunk (XXH3-128 and SHA-256); "
	    "name\n"
	    "                     each damaged chunk, its offsets and "
	    "snapshots\n"
	    "  gc [--dry-run] [--wait SECONDS]\n"
	    "                     remove chunks no snapshot uses\n"
	    "  replicate --to IP:PORT --psk-file F VOLUME [ID]\n"
	    "                     send a snapshot to a peer's snap plane "
	    "(--help)\n"
	    "  promote VOLUME, demote VOLUME, role [VOLUME]\n"
	    "                     failover and failback: a volume's role here "
	    "(--help)\n"
	    "  reprotect --to IP:PORT --psk-file F VOLUME\n"
	    "                     after a promote: replicate back to the old "
	    "primary\n"
	    "ID is a snapshot ID or VOLUME/ID. --store defaults to "
	    "$HAVEN_SNAP_STORE.\n"
	    "Exit status: 0 ok, 1 error, 2 usage, 3 damaged data, 4 store "
	    "busy.\n");
}

static int
cmd_snap_parse(int argc, char **argv, struct cmd_snap_args *a)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "volume", required_argument, NULL, 'v' },
		{ "parent", required_argument, NULL, 'p' },
		{ "no-parent", no_argument, NULL, 'P' },
		{ "tree", required_argument, NULL, 'T' },
		{ "compress", no_argument, NULL, 'z' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double wait;
	char *end;
	int c;

	memset(a, 0, sizeof(*a));
	a->store = getenv("HAVEN_SNAP_STORE");
	a->wait_ms = 60000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:v:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->store = optarg;
			break;
		case 'v':
			a->volume = optarg;
			break;
		case 'p':
			a->parent = optarg;
			break;
		case 'P':
			a->parent = "";
			break;
		case 'T':
			a->tree = optarg;
			break;
		case 'z':
			a->compress = true;
			break;
		case 'n':
			a->dry_run = true;
			break;
		case 'w':
			wait = strtod(optarg, &end);
			/* Bounded before the cast: a day is plenty. */
			if (end == optarg || *end != '\0' || !(wait >= 0) ||
			    wait > 86400) {
				fprintf(stderr,
				    "haven snap: --wait: want "
				    "seconds in [0, 86400]\n");
				return 2;
			}
			a->wait_ms = (int)(wait * 1000);
			break;
		case 'h':
			cmd_snap_usage(stdout);
			return 0;
		default:
			return 2;
		}
	}
	a->nargs = argc - optind;
	a->args = argv + optind;
	if (a->store == NULL || a->store[0] == '\0') {
		fprintf(stderr, "haven snap: --store DIR is required\n");
		return 2;
	}
	return -1;
}

static int
cmd_snap_open(const struct cmd_snap_args *a, bool create, struct snap_store **s)
{
	int e = snap_store_open(a->store, create, s);

	if (e == 0)
		return 0;
	fprintf(stderr, "haven snap: %s: %s\n", a->store,
	    e == -ENOENT     ? "no snapshot store here" :
	        e == -EINVAL ? "not a haven snapshot store of a known format" :
	                       strerror(-e));
	return 1;
}

/* Resolve and load snapshot name; prints the error. 0, 1 or 3. */
static int
cmd_snap_load(struct snap_store *s, const char *name, struct snap_ref *ref,
    struct snap_manifest *m)
{
	char why[256];
	int e = snap_store_find(s, name, ref);

	if (e != 0) {
		fprintf(stderr, "haven snap: snapshot %s: %s\n", name,
		    e == -ENOENT     ? "not found" :
		        e == -EEXIST ? "ambiguous (several volumes), use "
		                       "VOLUME/ID" :
		        e == -EINVAL ? "not a snapshot ID" :
		                       strerror(-e));
		return 1;
	}
	e = snap_store_manifest_load(s, ref, m, why, sizeof(why));
	if (e == 0)
		return 0;
	fprintf(stderr, "haven snap: snapshot %s/%s: %s\n", ref->volume,
	    ref->id, e == -EBADMSG ? why : strerror(-e));
	return e == -EBADMSG ? CMD_SNAP_EXIT_DAMAGED : 1;
}

static int
cmd_snap_create(struct snap_store *s, const struct cmd_snap_args *a)
{
	struct snap_create_opts o = { .volume = a->volume,
		.parent = a->parent,
		.compress = a->compress };
	struct snap_create_stats st;
	struct snap_manifest m;
	char err[512];
	uint64_t t0;
	int e;

	if (a->volume == NULL || a->nargs != (a->tree == NULL)) {
		cmd_snap_usage(stderr);
		return 2;
	}
	o.path = a->tree != NULL ? a->tree : a->args[0];
	if (a->tree != NULL && !snap_tree_is_dir(a->tree)) {
		fprintf(stderr,
		    "haven snap create: --tree %s: not a directory\n", a->tree);
		return 1;
	}
	t0 = util_mono_us();
	if ((e = snap_create(s, &o, &m, &st, err, sizeof(err))) != 0) {
		fprintf(stderr, "haven snap create: %s\n", err);
		return e == -EBADMSG ? CMD_SNAP_EXIT_DAMAGED : 1;
	}
	printf("snapshot %s/%s\n", m.volume, m.id);
	printf("size=%" PRIu64 " chunks=%" PRIu64 " zero=%" PRIu64
	       " new=%" PRIu64 " new_bytes=%" PRIu64 " stored_bytes=%" PRIu64
	       " dedup=%" PRIu64 " read=%" PRIu64
	       " parent=%s generation=%s secs=%.3f\n",
	    m.size, st.chunks, st.zero, st.fresh, st.fresh_raw, st.fresh_disk,
	    st.dedup, st.read, m.parent[0] ? m.parent : "-", m.generation,
	    (double)(util_mono_us() - t0) / 1e6);
	if (st.skipped > 0)
		fprintf(stderr,
		    "haven snap create: %" PRIu64 " sockets, FIFOs, device "
		    "nodes or store directories left out of the tree\n",
		    st.skipped);
	snap_manifest_fini(&m);
	return 0;
}

static int
cmd_snap_list(struct snap_store *s, const struct cmd_snap_args *a)
{
	struct snap_ref *v;
	size_t n;
	int e, rc = 0;

	if (a->nargs != 0) {
		cmd_snap_usage(stderr);
		return 2;
	}
	if ((e = snap_store_list(s, a->volume, &v, &n)) != 0) {
		fprintf(stderr, "haven snap list: %s\n", strerror(-e));
		return 1;
	}
	printf("%-16s %-34s %-20s %14s %8s %s\n", "VOLUME", "ID", "CREATED",
	    "SIZE", "CHUNKS", "PARENT");
	for (size_t i = 0; i < n; i++) {
		struct snap_manifest m;
		char why[256], when[32] = "-";
		struct tm tm;
		time_t t;

		e = snap_store_manifest_load(s, &v[i], &m, why, sizeof(why));
		if (e != 0) {
			printf("%-16s %-34s damaged: %s\n", v[i].volume,
			    v[i].id, e == -EBADMSG ? why : strerror(-e));
			rc = CMD_SNAP_EXIT_DAMAGED;
			continue;
		}
		t = (time_t)m.created;
		if (gmtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("%-16s %-34s %-20s %14" PRIu64 " %8" PRIu64 " %s\n",
		    m.volume, m.id, when, m.size, m.nchunks,
		    m.parent[0] ? m.parent : "-");
		snap_manifest_fini(&m);
	}
	free(v);
	return rc;
}

static void
cmd_snap_diff_range(uint64_t off, uint64_t len, void *arg)
{
	uint64_t *bytes = arg;

	printf("%" PRIu64 " %" PRIu64 "\n", off, len);
	*bytes += len;
}

/* diff of two trees: the paths that differ. */
static int
cmd_snap_tree_diff(struct snap_store *s, const struct snap_ref *ra,
    const struct snap_manifest *ma, const struct snap_ref *rb,
    const struct snap_manifest *mb)
{
	struct snap_tree_diff_stats st;
	char err[512];
	int e;

	if (ma->kind != mb->kind) {
		fprintf(stderr,
		    "haven snap diff: a tree and an image do not compare\n");
		return 1;
	}
	printf("# paths that differ from %s/%s to %s/%s\n", ra->volume, ra->id,
	    rb->volume, rb->id);
	e = snap_tree_diff(s, ma, mb, stdout, &st, err, sizeof(err));
	if (e != 0) {
		fprintf(stderr, "haven snap diff: %s\n", err);
		return e == -EBADMSG || e == -ENOENT ? CMD_SNAP_EXIT_DAMAGED :
		                                       1;
	}
	printf("# %" PRIu64 " added, %" PRIu64 " removed, %" PRIu64
	       " changed, %" PRIu64 " metadata only\n",
	    st.added, st.removed, st.changed, st.meta);
	return 0;
}

static int
cmd_snap_diff(struct snap_store *s, const struct cmd_snap_args *a)
{
	struct snap_manifest ma, mb;
	struct snap_ref ra, rb;
	uint64_t bytes = 0;
	int64_t n;
	int rc;

	if (a->nargs != 2) {
		cmd_snap_usage(stderr);
		return 2;
	}
	if ((rc = cmd_snap_load(s, a->args[0], &ra, &ma)) != 0)
		return rc;
	if ((rc = cmd_snap_load(s, a->args[1], &rb, &mb)) != 0) {
		snap_manifest_fini(&ma);
		return rc;
	}
	if (ma.kind == SNAP_KIND_TREE || mb.kind == SNAP_KIND_TREE) {
		rc = cmd_snap_tree_diff(s, &ra, &ma, &rb, &mb);
		snap_manifest_fini(&ma);
		snap_manifest_fini(&mb);
		return rc;
	}
	printf("# OFFSET LENGTH of the ranges that differ between %s/%s and "
	       "%s/%s\n",
	    ra.volume, ra.id, rb.volume, rb.id);
	n = snap_manifest_diff(&ma, &mb, cmd_snap_diff_range, &bytes);
	if (n < 0) {
		fprintf(stderr,
		    "haven snap diff: chunk sizes differ (%u, %u)\n",
		    ma.chunk_size, mb.chunk_size);
		rc = 1;
	} else {
		printf("# %" PRId64 " of %" PRIu64 " chunks differ, %" PRIu64
		       " bytes\n",
		    n, MAX(ma.nchunks, mb.nchunks), bytes);
	}
	snap_manifest_fini(&ma);
	snap_manifest_fini(&mb);
	return rc;
}

static int
cmd_snap_restore(
    struct snap_store *s, const struct cmd_snap_args *a, const char *cmd)
{
	enum snap_restore_mode mode = strcmp(cmd, "export") == 0 ?
	    SNAP_RESTORE_FULL :
	    SNAP_RESTORE_SPARSE;
	struct snap_manifest m;
	struct snap_ref ref;
	char err[512];
	int e, rc;

	if (a->nargs != 2) {
		cmd_snap_usage(stderr);
		return 2;
	}
	if ((rc = cmd_snap_load(s, a->args[0], &ref, &m)) != 0)
		return rc;
	e = snap_restore(s, &m, a->args[1], mode, err, sizeof(err));
	if (e != 0) {
		fprintf(stderr, "haven snap %s: %s/%s: %s; nothing written\n",
		    cmd, ref.volume, ref.id, err);
		rc = e == -EBADMSG || e == -ENOENT ? CMD_SNAP_EXIT_DAMAGED : 1;
	} else if (strcmp(a->args[1], "-") != 0) {
		printf("%s %s/%s to %s (%" PRIu64 " bytes)%s\n",
		    mode == SNAP_RESTORE_FULL ? "exported" : "restored",
		    ref.volume, ref.id, a->args[1], m.size,
		    strcmp(cmd, "clone") == 0 ?
		        "; a plain copy: reflink clones are not "
		        "implemented yet" :
		        "");
	}
	snap_manifest_fini(&m);
	return rc;
}

static int
cmd_snap_delete(struct snap_store *s, const struct cmd_snap_args *a)
{
	struct snap_ref ref;
	int e;

	if (a->nargs != 1) {
		cmd_snap_usage(stderr);
		return 2;
	}
	if ((e = snap_store_find(s, a->args[0], &ref)) != 0 ||
	    (e = snap_store_manifest_delete(s, &ref)) != 0) {
		fprintf(stderr, "haven snap delete: %s: %s\n", a->args[0],
		    e == -EEXIST     ? "ambiguous, use VOLUME/ID" :
		        e == -ENOENT ? "not found" :
		                       strerror(-e));
		return 1;
	}
	printf("deleted %s/%s (`haven snap gc` frees chunks no other "
	       "snapshot uses)\n",
	    ref.volume, ref.id);
	return 0;
}

static int
cmd_snap_verify(struct snap_store *s, const struct cmd_snap_args *a)
{
	struct snap_verify_stats st;
	struct snap_ref ref;
	char err[512];
	int e;

	if (a->nargs > 1) {
		cmd_snap_usage(stderr);
		return 2;
	}
	if (a->nargs == 1 && (e = snap_store_find(s, a->args[0], &ref)) != 0) {
		fprintf(stderr, "haven snap verify: %s: %s\n", a->args[0],
		    e == -EEXIST ? "ambiguous, use VOLUME/ID" : "not found");
		return 1;
	}
	e = snap_verify(
	    s, a->nargs == 1 ? &ref : NULL, stdout, &st, err, sizeof(err));
	if (e != 0 && e != -EBADMSG) {
		fprintf(stderr, "haven snap verify: %s\n", err);
		return 1;
	}
	printf("verified %" PRIu64 " snapshots, %" PRIu64 " chunks: %" PRIu64
	       " damaged chunks, %" PRIu64 " damaged manifests\n",
	    st.snapshots, st.chunks, st.damaged, st.bad_manifests);
	if (e == -EBADMSG) {
		fflush(stdout);
		fprintf(stderr, "haven snap verify: damage found\n");
		return CMD_SNAP_EXIT_DAMAGED;
	}
	return 0;
}

static int
cmd_snap_gc(struct snap_store *s, const struct cmd_snap_args *a)
{
	struct snap_gc_stats st;
	char err[512];
	int e;

	if (a->nargs != 0) {
		cmd_snap_usage(stderr);
		return 2;
	}
	e = snap_gc(s, a->dry_run, a->wait_ms, &st, err, sizeof(err));
	if (e != 0) {
		fprintf(stderr, "haven snap gc: %s\n", err);
		return e == -EWOULDBLOCK ? CMD_SNAP_EXIT_BUSY :
		    e == -EBADMSG        ? CMD_SNAP_EXIT_DAMAGED :
		                           1;
	}
	printf("gc%s: snapshots=%" PRIu64 " referenced=%" PRIu64
	       " kept=%" PRIu64 " deleted=%" PRIu64 " freed_bytes=%" PRIu64
	       " temps=%" PRIu64 "\n",
	    a->dry_run ? " (dry run)" : "", st.snapshots, st.referenced,
	    st.kept, st.deleted, st.freed, st.temps);
	return 0;
}

int
cmd_snap(int argc, char **argv)
{
	struct cmd_snap_args a;
	struct snap_store *s;
	const char *cmd;
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		cmd_snap_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	if (strcmp(cmd, "replicate") == 0 || /* their own options */
	    strcmp(cmd, "reprotect") == 0)
		return cmd_snap_replicate(argc - 1, argv + 1);
	if (strcmp(cmd, "promote") == 0 || strcmp(cmd, "demote") == 0 ||
	    strcmp(cmd, "role") == 0)
		return cmd_snap_role(argc - 1, argv + 1);
	if ((rc = cmd_snap_parse(argc - 1, argv + 1, &a)) >= 0)
		return rc;
	/* Before the store is made: a bad name must not leave one behind. */
	if (strcmp(cmd, "create") == 0 && a.volume != NULL &&
	    !snap_name_ok(a.volume, strlen(a.volume))) {
		fprintf(stderr,
		    "haven snap create: bad volume name '%s' (1-%d "
		    "of [A-Za-z0-9._-], not starting with . or -)\n",
		    a.volume, SNAP_NAME_MAX);
		return 1;
	}
	if ((rc = cmd_snap_open(&a, strcmp(cmd, "create") == 0, &s)) != 0)
		return rc;
	if (strcmp(cmd, "create") == 0)
		rc = cmd_snap_create(s, &a);
	else if (strcmp(cmd, "list") == 0)
		rc = cmd_snap_list(s, &a);
	else if (strcmp(cmd, "diff") == 0)
		rc = cmd_snap_diff(s, &a);
	else if (strcmp(cmd, "restore") == 0 || strcmp(cmd, "clone") == 0 ||
	    strcmp(cmd, "export") == 0)
		rc = cmd_snap_restore(s, &a, cmd);
	else if (strcmp(cmd, "delete") == 0)
		rc = cmd_snap_delete(s, &a);
	else if (strcmp(cmd, "verify") == 0)
		rc = cmd_snap_verify(s, &a);
	else if (strcmp(cmd, "gc") == 0)
		rc = cmd_snap_gc(s, &a);
	else {
		fprintf(stderr, "haven snap: unknown command '%s'\n", cmd);
		cmd_snap_usage(stderr);
		rc = 2;
	}
	snap_store_close(s);
	return rc;
}
