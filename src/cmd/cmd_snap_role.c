/*
 * cmd_snap_role.c - `haven snap promote|demote|role`: a volume's role on
 * this node (src/snap/snap_role.c does the work, snap_vol.h says what a
 * role allows).
 *
 * Exit status: 0 done; 1 error (no complete snapshot, the store failed);
 * 2 usage; 6 the volume already has that role (nothing changed).
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
#include "snap/snap_role.h"

#define CMD_SNAP_ROLE_EXIT_ALREADY 6

static void
cmd_snap_role_usage(FILE *f)
{
	fprintf(f,
	    "usage: haven snap promote --store DIR [--snapshot ID] [--to FILE "
	    "[--inplace]]\n"
	    "       VOLUME\n"
	    "  make this node the volume's primary: its newest complete "
	    "snapshot\n"
	    "  (or ID) starts a new generation, restored to FILE first when "
	    "given\n"
	    "  (over an existing FILE only the chunks that differ are "
	    "written;\n"
	    "  --inplace: into FILE itself, no temp copy, not atomic)\n"
	    "       haven snap demote --store DIR [--from FILE [--compress]] "
	    "VOLUME\n"
	    "  make it a replica here, after a final snapshot of FILE (the "
	    "live image)\n"
	    "       haven snap role --store DIR [VOLUME]\n"
	    "  each volume's role, generation and head\n"
	    "Exit status: 0 ok, 1 error, 2 usage, 6 the volume already has "
	    "that role.\n");
}

struct cmd_snap_role_args {
	const char *store;    /* borrowed: argv or environment */
	const char *snapshot; /* borrowed: promote --snapshot */
	const char *path;     /* borrowed: promote --to, demote --from */
	const char *volume;   /* borrowed; NULL for role = all */
	bool compress;
	bool inplace; /* promote --inplace */
};

/* -1 to go on, or the exit status. */
static int
cmd_snap_role_parse(
    const char *cmd, int argc, char **argv, struct cmd_snap_role_args *a)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "snapshot", required_argument, NULL, 'i' },
		{ "to", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'f' },
		{ "compress", no_argument, NULL, 'z' },
		{ "inplace", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool promote = strcmp(cmd, "promote") == 0;
	bool demote = strcmp(cmd, "demote") == 0;
	int c;

	memset(a, 0, sizeof(*a));
	a->store = getenv("HAVEN_SNAP_STORE");
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->store = optarg;
			break;
		case 'i':
			if (!promote)
				goto usage;
			a->snapshot = optarg;
			break;
		case 't':
			if (!promote)
				goto usage;
			a->path = optarg;
			break;
		case 'f':
			if (!demote)
				goto usage;
			a->path = optarg;
			break;
		case 'z':
			if (!demote)
				goto usage;
			a->compress = true;
			break;
		case 'I':
			if (!promote)
				goto usage;
			a->inplace = true;
			break;
		case 'h':
			cmd_snap_role_usage(stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (a->store == NULL || a->store[0] == '\0')
		goto usage;
	if (argc - optind == 1)
		a->volume = argv[optind];
	else if (argc - optind != 0 || promote || demote)
		goto usage;
	if (a->volume != NULL && !snap_name_ok(a->volume, strlen(a->volume))) {
		fprintf(stderr, "haven snap %s: bad volume name '%s'\n", cmd,
		    a->volume);
		return 2;
	}
	return -1;
usage:
	cmd_snap_role_usage(stderr);
	return 2;
}

static int
cmd_snap_promote(struct snap_store *s, const struct cmd_snap_role_args *a)
{
	struct snap_promote_opts o = {
		.volume = a->volume,
		.snapshot = a->snapshot,
		.to = a->path,
		.inplace = a->inplace,
	};
	struct snap_promote_result r;
	char err[512];
	int e;

	e = snap_promote(s, &o, &r, err, sizeof(err));
	if (e != 0) {
		fprintf(stderr, "haven snap promote: %s\n", err);
		return e == -EALREADY ? CMD_SNAP_ROLE_EXIT_ALREADY : 1;
	}
	if (r.skipped > 0)
		printf("skipped %u newer snapshot(s): %s\n", r.skipped,
		    r.skipped_why);
	/* What a failover loses is what was written after the base. */
	printf("promoted %s: primary here, generation %s, from %s (taken "
	       "%lld s ago)%s%s\n",
	    a->volume, r.head.generation, r.base,
	    (long long)(time(NULL) - r.base_created),
	    a->path != NULL ? ", image restored to " : "",
	    a->path != NULL ? a->path : "");
	if (r.restore.delta)
		printf("delta: kept %" PRIu64 " chunks, wrote %" PRIu64
		       " (%s)\n",
		    r.restore.kept, r.restore.written,
		    snap_restore_how(&r.restore));
	printf("volume=%s role=primary generation=%s base=%s head=%s "
	       "seq=%" PRIu64 "\n",
	    a->volume, r.head.generation, r.base, r.head.id, r.head.seq);
	snap_manifest_fini(&r.head);
	return 0;
}

static int
cmd_snap_demote(struct snap_store *s, const struct cmd_snap_role_args *a)
{
	struct snap_demote_opts o = {
		.volume = a->volume,
		.from = a->path,
		.compress = a->compress,
	};
	struct snap_create_stats st;
	struct snap_manifest final;
	char err[512];
	int e;

	e = snap_demote(s, &o, &final, &st, err, sizeof(err));
	if (e != 0) {
		fprintf(stderr, "haven snap demote: %s\n", err);
		snap_manifest_fini(&final);
		return e == -EALREADY ? CMD_SNAP_ROLE_EXIT_ALREADY : 1;
	}
	if (final.id[0] != '\0')
		printf("final snapshot %s/%s: chunks=%" PRIu64 " new=%" PRIu64
		       "\n",
		    a->volume, final.id, st.chunks, st.fresh);
	else if (final.parent[0] != '\0')
		printf("no final snapshot: the image is %s/%s's\n", a->volume,
		    final.parent);
	printf("demoted %s: replica here; snapshots from the primary are "
	       "accepted\n",
	    a->volume);
	printf("volume=%s role=replica final=%s\n", a->volume,
	    final.id[0] != '\0' ? final.id : "-");
	snap_manifest_fini(&final);
	return 0;
}

/* One line per volume: the volumes with a state, or the one asked. */
static int
cmd_snap_role_show(struct snap_store *s, const struct cmd_snap_role_args *a)
{
	struct snap_ref *refs = NULL;
	size_t n = 0;
	char last[SNAP_NAME_MAX + 1] = "";
	int e, rc = 0;

	if (a->volume == NULL) {
		if ((e = snap_store_list(s, NULL, &refs, &n)) != 0) {
			fprintf(stderr, "haven snap role: %s\n", strerror(-e));
			return 1;
		}
	} else {
		refs = xcalloc(1, sizeof(*refs));
		snprintf(
		    refs[0].volume, sizeof(refs[0].volume), "%s", a->volume);
		n = 1;
	}
	printf("%-24s %-8s %-32s %s\n", "VOLUME", "ROLE", "GENERATION",
	    "HEAD (SEQ)");
	for (size_t i = 0; i < n; i++) {
		struct snap_vol v;
		char err[384];

		if (strcmp(refs[i].volume, last) == 0)
			continue;
		snprintf(last, sizeof(last), "%s", refs[i].volume);
		if (snap_vol_read(s, last, &v, err, sizeof(err)) != 0) {
			fprintf(stderr, "haven snap role: %s\n", err);
			rc = 1;
			continue;
		}
		printf("%-24s %-8s %-32s %s (%" PRIu64 ")\n", last,
		    snap_role_name(v.role),
		    v.generation[0] ? v.generation : "-",
		    v.head[0] ? v.head : "-", v.head_seq);
	}
	free(refs);
	return rc;
}

int
cmd_snap_role(int argc, char **argv)
{
	struct cmd_snap_role_args a;
	struct snap_store *s;
	const char *cmd = argv[0];
	int rc, e;

	if ((rc = cmd_snap_role_parse(cmd, argc, argv, &a)) >= 0)
		return rc;
	if ((e = snap_store_open(a.store, false, &s)) != 0) {
		fprintf(stderr, "haven snap %s: %s: %s\n", cmd, a.store,
		    e == -ENOENT ? "no store there" : strerror(-e));
		return 1;
	}
	if (strcmp(cmd, "promote") == 0)
		rc = cmd_snap_promote(s, &a);
	else if (strcmp(cmd, "demote") == 0)
		rc = cmd_snap_demote(s, &a);
	else
		rc = cmd_snap_role_show(s, &a);
	snap_store_close(s);
	return rc;
}
