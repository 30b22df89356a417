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
#include "snap/snap_freeze.h"
#include "snap/snap_group.h"
#include "snap/snap_tree_io.h"

#define CMD_SNAP_EXIT_DAMAGED 3
#define CMD_SNAP_EXIT_BUSY    4

struct cmd_snap_args {
	const char *store;  /* borrowed: argv or environment */
	const char *volume; /* borrowed */
	const char *parent; /* borrowed; NULL = newest of the volume */
	enum snap_cd_kind detect;
	const char *tree; /* borrowed: create's --tree DIR */
	bool compress;
	bool dry_run;
	bool inplace; /* restore --inplace */
	int wait_ms;
	struct snap_retain_policy retain;    /* prune's --keep-* */
	const char *freeze[SNAP_FREEZE_MAX]; /* borrowed: create --freeze */
	size_t nfreeze;
	char *pre, *post; /* borrowed: --pre, --post (split on blanks) */
	uint64_t freeze_ms, hook_ms;
	int nargs;
	char **args; /* borrowed: the positional arguments */
};

static void
cmd_snap_usage(FILE *f)
{
	fprintf(f,
	    "usage: haven snap COMMAND --store DIR [OPTIONS] [ARGS]\n"
	    "  init [--key-file F]  make a store; with a key, sealed: chunks "
	    "encrypted,\n"
	    "                     IDs keyed (create makes a plain one when "
	    "missing)\n"
	    "  create --volume NAME FILE [--compress] [--parent ID | "
	    "--no-parent]\n"
	    "         [--detect auto|rescan|reflink]\n"
	    "                     snapshot an image file (incremental: chunks "
	    "the store\n"
	    "                     has are not written again; reflink: chunks "
	    "whose\n"
	    "                     extents are shared with the last snapshot's "
	    "copy\n"
	    "                     are not even read)\n"
	    "  create NAME=FILE... [--freeze MOUNTPOINT]... [--pre CMD] "
	    "[--post CMD]\n"
	    "         [--freeze-timeout SECONDS] [--hook-timeout SECONDS]\n"
	    "                     a consistency group: pre hook, freeze "
	    "every mount\n"
	    "                     point, snapshot every volume under one ID, "
	    "thaw, post\n"
	    "                     hook (CMD is split on blanks, no shell); "
	    "also with\n"
	    "                     --volume NAME FILE\n"
	    "  create --volume NAME --tree DIR [...]  (or a DIR as FILE)\n"
	    "                     snapshot a directory tree (content-defined "
	    "chunks);\n"
	    "                     restore ID OUTDIR recreates it, diff lists "
	    "paths\n"
	    "  list [--volume NAME]  the snapshots, oldest first per volume\n"
	    "  diff A B           the byte ranges whose chunks differ\n"
	    "  restore [--inplace] ID OUT\n"
	    "                     the image, byte-identical; holes stay "
	    "holes; over an\n"
	    "                     existing OUT only the chunks that differ "
	    "are written\n"
	    "                     (--inplace: into OUT itself, no temp copy)\n"
	    "  clone ID OUT       like restore, but an instant reflink copy "
	    "where the\n"
	    "                     snapshot's baseline copy is on OUT's file "
	    "system\n"
	    "  export ID OUT|-    the raw image, every byte written ('-': "
	    "stdout)\n"
	    "  delete ID          remove a snapshot (gc frees its chunks)\n"
	    "  verify [ID]        re-hash every chunk (XXH3-128 and SHA-256); "
	    "name\n"
	    "                     each damaged chunk, its offsets and "
	    "snapshots\n"
	    "  gc [--dry-run] [--wait SECONDS]\n"
	    "                     remove chunks no snapshot uses\n"
	    "  prune --volume NAME [--keep-last N] [--keep-hourly N]\n"
	    "        [--keep-daily N] [--dry-run]\n"
	    "                     delete the snapshots no rule keeps (the "
	    "newest N;\n"
	    "                     the newest of each of the last N hours or "
	    "UTC days\n"
	    "                     that have one); gc then frees their chunks\n"
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
		{ "tree", required_argument, NULL, 'R' },
		{ "compress", no_argument, NULL, 'z' },
		{ "detect", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "inplace", no_argument, NULL, 'I' },
		{ "wait", required_argument, NULL, 'w' },
		{ "keep-last", required_argument, NULL, 'L' },
		{ "freeze", required_argument, NULL, 'F' },
		{ "pre", required_argument, NULL, 'B' },
		{ "post", required_argument, NULL, 'A' },
		{ "freeze-timeout", required_argument, NULL, 'T' },
		{ "hook-timeout", required_argument, NULL, 'K' },
		{ "keep-hourly", required_argument, NULL, 'H' },
		{ "keep-daily", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double wait;
	char *end;
	int c;

	memset(a, 0, sizeof(*a));
	a->store = getenv("HAVEN_SNAP_STORE");
	a->wait_ms = 60000;
	a->freeze_ms = 30000;
	a->hook_ms = 60000;
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
		case 'R':
			a->tree = optarg;
			break;
		case 'z':
			a->compress = true;
			break;
		case 'd':
			if (snap_cd_kind_parse(optarg, &a->detect) != 0) {
				fprintf(stderr,
				    "haven snap: --detect: want auto, "
				    "rescan or reflink\n");
				return 2;
			}
			break;
		case 'n':
			a->dry_run = true;
			break;
		case 'I':
			a->inplace = true;
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
		case 'L':
		case 'H':
		case 'D': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (end == optarg || *end != '\0' || optarg[0] == '-' ||
			    v > 100000) {
				fprintf(stderr,
				    "haven snap: --keep-*: want a count in "
				    "[0, 100000]\n");
				return 2;
			}
			*(c == 'L'       ? &a->retain.last :
			        c == 'H' ? &a->retain.hourly :
			                   &a->retain.daily) = (uint32_t)v;
			break;
		}
		case 'F':
			if (a->nfreeze == SNAP_FREEZE_MAX) {
				fprintf(stderr,
				    "haven snap: at most %d --freeze\n",
				    SNAP_FREEZE_MAX);
				return 2;
			}
			a->freeze[a->nfreeze++] = optarg;
			break;
		case 'B':
			a->pre = optarg;
			break;
		case 'A':
			a->post = optarg;
			break;
		case 'T':
		case 'K':
			wait = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(wait > 0) ||
			    wait > 3600) {
				fprintf(stderr,
				    "haven snap: --%s-timeout: want "
				    "seconds in (0, 3600]\n",
				    c == 'T' ? "freeze" : "hook");
				return 2;
			}
			*(c == 'T' ? &a->freeze_ms : &a->hook_ms) =
			    (uint64_t)(wait * 1000);
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
	    e == -ENOENT ? "no snapshot store here" :
	        e == -EINVAL ?
	                   "not a haven snapshot store of a known format" :
	        e == -ENOKEY ?
	                   "its key file (see haven-snap-store) cannot be read "
	                   "by this user, or others may read it" :
	        e == -EKEYREJECTED ? "its key file holds another key" :
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

static void
cmd_snap_create_print(const struct snap_manifest *m,
    const struct snap_create_stats *st, uint64_t t0)
{
	printf("snapshot %s/%s\n", m->volume, m->id);
	if (st->detect_note[0] != '\0')
		printf("detect %s: %s\n", st->detect, st->detect_note);
	printf("size=%" PRIu64 " chunks=%" PRIu64 " zero=%" PRIu64
	       " new=%" PRIu64 " new_bytes=%" PRIu64 " stored_bytes=%" PRIu64
	       " dedup=%" PRIu64 " read=%" PRIu64
	       " detect=%s read_chunks=%" PRIu64 " reused=%" PRIu64
	       " parent=%s generation=%s seq=%" PRIu64 " secs=%.3f\n",
	    m->size, st->chunks, st->zero, st->fresh, st->fresh_raw,
	    st->fresh_disk, st->dedup, st->read,
	    st->detect != NULL ? st->detect : "-", st->read_chunks, st->reused,
	    m->parent[0] ? m->parent : "-", m->generation, m->seq,
	    (double)(util_mono_us() - t0) / 1e6);
	if (st->skipped > 0)
		fprintf(stderr,
		    "haven snap create: %" PRIu64 " sockets, FIFOs, device "
		    "nodes or store directories left out of the tree\n",
		    st->skipped);
}

/* "CMD ARG..." split on blanks into a NULL-terminated argv (no shell). */
static char **
cmd_snap_argv(char *cmd)
{
	char **v = xcalloc(strlen(cmd) / 2 + 2, sizeof(*v));
	size_t n = 0;

	for (char *save = NULL, *t = strtok_r(cmd, " \t", &save); t != NULL;
	     t = strtok_r(NULL, " \t", &save))
		v[n++] = t;
	if (n == 0) {
		free(v);
		return NULL;
	}
	return v;
}

/* A consistency group: NAME=FILE arguments, or --volume NAME FILE. */
static int
cmd_snap_create_group(struct snap_store *s, const struct cmd_snap_args *a)
{
	size_t n = a->volume != NULL ? 1 : (size_t)a->nargs;
	struct snap_group_vol *v = xcalloc(n, sizeof(*v));
	struct snap_manifest *ms = xcalloc(n, sizeof(*ms));
	struct snap_create_stats *st = xcalloc(n, sizeof(*st));
	struct snap_group_opts o = { .vols = v,
		.nvols = n,
		.freeze = a->freeze,
		.nfreeze = a->nfreeze,
		.freeze_timeout_ms = a->freeze_ms,
		.hook_timeout_ms = a->hook_ms,
		.compress = a->compress };
	char err[512], warn[512];
	uint64_t t0 = util_mono_us();
	int e, rc = 0;

	for (size_t i = 0; a->volume == NULL && i < n; i++) {
		char *eq = strchr(a->args[i], '=');

		if (eq == NULL || eq == a->args[i] || eq[1] == '\0' ||
		    !snap_name_ok(a->args[i], (size_t)(eq - a->args[i]))) {
			fprintf(stderr,
			    "haven snap create: '%s': want NAME=FILE (or "
			    "--volume NAME FILE)\n",
			    a->args[i]);
			rc = 2;
			goto out;
		}
		*eq = '\0';
		v[i].volume = a->args[i];
		v[i].path = eq + 1;
	}
	if (a->volume != NULL) {
		v[0].volume = a->volume;
		v[0].path = a->args[0];
	}
	o.pre_hook = a->pre != NULL ? cmd_snap_argv(a->pre) : NULL;
	o.post_hook = a->post != NULL ? cmd_snap_argv(a->post) : NULL;
	e = snap_group_create(
	    s, &o, ms, st, err, sizeof(err), warn, sizeof(warn));
	if (e != 0) {
		fprintf(stderr, "haven snap create: %s\n", err);
		rc = e == -EBADMSG ? CMD_SNAP_EXIT_DAMAGED : 1;
	} else {
		printf("group %s volumes=%zu frozen=%zu\n", ms[0].id, n,
		    a->nfreeze);
		for (size_t i = 0; i < n; i++) {
			cmd_snap_create_print(&ms[i], &st[i], t0);
			snap_manifest_fini(&ms[i]);
		}
	}
	if (warn[0] != '\0')
		fprintf(stderr, "haven snap create: warning: %s\n", warn);
	free((void *)o.pre_hook);
	free((void *)o.post_hook);
out:
	free(st);
	free(ms);
	free(v);
	return rc;
}

static int
cmd_snap_create(struct snap_store *s, const struct cmd_snap_args *a)
{
	struct snap_create_opts o = { .volume = a->volume,
		.parent = a->parent,
		.compress = a->compress,
		.detect = a->detect };
	struct cmd_snap_args ta;
	struct snap_create_stats st;
	struct snap_manifest m;
	char err[512];
	uint64_t t0;
	int e;

	/* --tree DIR is the FILE argument, checked to be a directory. */
	if (a->tree != NULL) {
		if (a->volume == NULL || a->nargs != 0) {
			cmd_snap_usage(stderr);
			return 2;
		}
		if (!snap_tree_is_dir(a->tree)) {
			fprintf(stderr,
			    "haven snap create: --tree %s: not a directory\n",
			    a->tree);
			return 1;
		}
		ta = *a;
		ta.args = (char **)&a->tree;
		ta.nargs = 1;
		a = &ta;
	}
	if ((a->volume == NULL && a->nargs < 1) ||
	    (a->volume != NULL && a->nargs != 1)) {
		cmd_snap_usage(stderr);
		return 2;
	}
	if (a->volume == NULL || a->nfreeze > 0 || a->pre != NULL ||
	    a->post != NULL) {
		if (a->parent != NULL) {
			fprintf(stderr,
			    "haven snap create: --parent and "
			    "--no-parent are for a plain create\n");
			return 2;
		}
		return cmd_snap_create_group(s, a);
	}
	o.path = a->args[0];
	t0 = util_mono_us();
	if ((e = snap_create(s, &o, &m, &st, err, sizeof(err))) != 0) {
		fprintf(stderr, "haven snap create: %s\n", err);
		return e == -EBADMSG ? CMD_SNAP_EXIT_DAMAGED : 1;
	}
	cmd_snap_create_print(&m, &st, t0);
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
	struct snap_restore_stats rs = { 0 };
	struct snap_manifest m;
	struct snap_ref ref;
	char err[512], why[256] = "";
	int e, rc;

	if (a->nargs != 2 || (a->inplace && strcmp(cmd, "restore") != 0)) {
		cmd_snap_usage(stderr);
		return 2;
	}
	if ((rc = cmd_snap_load(s, a->args[0], &ref, &m)) != 0)
		return rc;
	if (strcmp(cmd, "clone") == 0 &&
	    snap_cd_clone(s, &m, a->args[1], why, sizeof(why)) == 0) {
		printf("cloned %s/%s to %s (%" PRIu64 " bytes) by reflink\n",
		    ref.volume, ref.id, a->args[1], m.size);
		snap_manifest_fini(&m);
		return 0;
	}
	if (strcmp(cmd, "restore") == 0)
		e = snap_restore_onto(s, &m, a->args[1],
		    &(struct snap_restore_onto_opts){ .inplace = a->inplace },
		    &rs, err, sizeof(err));
	else
		e = snap_restore(s, &m, a->args[1], mode, err, sizeof(err));
	if (e != 0) {
		fprintf(stderr, "haven snap %s: %s/%s: %s; %s\n", cmd,
		    ref.volume, ref.id, err,
		    rs.inplace ? "the target is partly patched: run the "
		                 "restore again" :
		                 "nothing written");
		rc = e == -EBADMSG || e == -ENOENT ? CMD_SNAP_EXIT_DAMAGED : 1;
	} else if (strcmp(a->args[1], "-") != 0) {
		printf("%s %s/%s to %s (%" PRIu64 " bytes)%s%s\n",
		    mode == SNAP_RESTORE_FULL ? "exported" : "restored",
		    ref.volume, ref.id, a->args[1], m.size,
		    strcmp(cmd, "clone") == 0 ?
		        "; a plain copy, not a reflink: " :
		        "",
		    strcmp(cmd, "clone") == 0 ? why : "");
		if (rs.delta)
			printf("delta: kept %" PRIu64 " chunks, wrote %" PRIu64
			       " (%s)\n",
			    rs.kept, rs.written, snap_restore_how(&rs));
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

static void
cmd_snap_prune_one(const struct snap_ref *r, bool kept, void *arg)
{
	const struct cmd_snap_args *a = arg;

	printf("%s %s/%s\n",
	    kept           ? "keep" :
	        a->dry_run ? "would-delete" :
	                     "delete",
	    r->volume, r->id);
}

static int
cmd_snap_prune(struct snap_store *s, const struct cmd_snap_args *a)
{
	size_t deleted = 0;
	int e;

	if (a->volume == NULL || a->nargs != 0) {
		cmd_snap_usage(stderr);
		return 2;
	}
	if (snap_retain_empty(&a->retain)) {
		fprintf(stderr,
		    "haven snap prune: give at least one --keep-last, "
		    "--keep-hourly or --keep-daily above 0\n");
		return 2;
	}
	e = snap_prune(s, a->volume, &a->retain, (int64_t)time(NULL), NULL, 0,
	    a->dry_run, cmd_snap_prune_one, (void *)a, &deleted);
	if (e != 0) {
		fprintf(stderr, "haven snap prune: %s: %s\n", a->volume,
		    strerror(-e));
		return 1;
	}
	printf("prune%s: volume=%s %s=%zu\n", a->dry_run ? " (dry run)" : "",
	    a->volume, a->dry_run ? "would_delete" : "deleted", deleted);
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
	if (strcmp(cmd, "init") == 0)
		return cmd_snap_init(argc - 1, argv + 1);
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
	else if (strcmp(cmd, "prune") == 0)
		rc = cmd_snap_prune(s, &a);
	else {
		fprintf(stderr, "haven snap: unknown command '%s'\n", cmd);
		cmd_snap_usage(stderr);
		rc = 2;
	}
	snap_store_close(s);
	return rc;
}
