/*
 * cmd_snap_repl.c - `haven snap replicate` and `reprotect`: send one
 * snapshot of a local store to a peer's snap plane (src/snap/snap_send.c
 * does the session). reprotect is replicate of the head of a volume that
 * is primary here, the step after a promote that turns the old primary
 * into this node's replica; only the chunks it lacks travel.
 *
 * Exit status, as the other snap commands: 0 published (or already there)
 * on the peer; 1 error (connect, timeout, the peer refused); 2 usage; 3 a
 * local chunk is damaged; 5 authentication failed (not the same PSK); 7
 * the peer's copy diverged (--force-diverged decides for this side); 8
 * the volume is primary on the peer (demote it there first).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/conf.h"
#include "lib/util.h"
#include "snap/snap_send.h"
#include "snap/snap_vol.h"

#define CMD_SNAP_REPL_EXIT_DAMAGED  3
#define CMD_SNAP_REPL_EXIT_AUTH     5
#define CMD_SNAP_REPL_EXIT_DIVERGED 7
#define CMD_SNAP_REPL_EXIT_ROLE     8

static void
cmd_snap_repl_usage(FILE *f)
{
	fprintf(f,
	    "usage: haven snap replicate --store DIR --to IP:PORT --psk-file F\n"
	    "           [--timeout SECONDS] [--bwlimit BYTES/s] "
	    "[--force-diverged]\n"
	    "           VOLUME [ID]\n"
	    "  send snapshot ID of VOLUME (default: its head) to the snap\n"
	    "  plane of the peer at IP:PORT; only the chunks it lacks travel.\n"
	    "       haven snap reprotect (same options) VOLUME\n"
	    "  replicate the head of a volume that is primary here (after a\n"
	    "  promote: back to the old primary, demoted since).\n"
	    "  --force-diverged: when the peer's copy diverged, it follows "
	    "this side\n"
	    "  and keeps its own snapshots as VOLUME.diverged-TIME.\n"
	    "Exit status: 0 ok, 1 error, 2 usage, 3 damaged local chunk, 5 "
	    "authentication failed,\n"
	    "7 the peer diverged, 8 the volume is primary on the peer.\n");
}

static int
cmd_snap_repl_num(
    const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr,
		    "haven snap replicate: %s: want an integer in [%" PRIu64
		    ", %" PRIu64 "]\n",
		    opt, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* The head (else the newest) snapshot of volume, or volume/id. */
static int
cmd_snap_repl_pick(struct snap_store *s, const char *volume, const char *id,
    struct snap_ref *ref)
{
	struct snap_ref *v = NULL;
	struct snap_vol vol;
	char err[384];
	size_t n = 0;
	int e;

	if (id == NULL &&
	    snap_vol_read(s, volume, &vol, err, sizeof(err)) == 0 &&
	    vol.head[0] != '\0') {
		char *name = xasprintf("%s/%s", volume, vol.head);

		e = snap_store_find(s, name, ref);
		free(name);
		if (e != -ENOENT) /* else the head was deleted: the newest */
			return e;
	}
	if (id != NULL) {
		char *name = xasprintf("%s/%s", volume, id);

		e = snap_store_find(s, name, ref);
		free(name);
		return e;
	}
	if ((e = snap_store_list(s, volume, &v, &n)) != 0)
		return e;
	if (n == 0)
		e = -ENOENT;
	else
		*ref = v[n - 1];
	free(v);
	return e;
}

/* reprotect runs on the primary: 0 when volume is primary here. */
static int
cmd_snap_repl_primary(struct snap_store *s, const char *volume)
{
	struct snap_vol vol;
	char err[384];

	if (snap_vol_read(s, volume, &vol, err, sizeof(err)) != 0) {
		fprintf(stderr, "haven snap reprotect: %s\n", err);
		return -1;
	}
	if (vol.role != SNAP_ROLE_PRIMARY) {
		fprintf(stderr,
		    "haven snap reprotect: volume %s is %s here, not "
		    "primary: promote it first\n",
		    volume, snap_role_name(vol.role));
		return -1;
	}
	return 0;
}

struct cmd_snap_repl_args {
	const char *store;       /* borrowed: argv or environment */
	const char *to;          /* borrowed */
	const char *volume, *id; /* borrowed; id NULL = newest */
	bool reprotect;
	struct snap_send_opts o;
};

/* -1 to go on, or the exit status. */
static int
cmd_snap_repl_parse(int argc, char **argv, struct cmd_snap_repl_args *a)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "to", required_argument, NULL, 't' },
		{ "psk-file", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "bwlimit", required_argument, NULL, 'b' },
		{ "force-diverged", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *psk = NULL;
	char err[512];
	uint64_t v;
	int c;

	memset(a, 0, sizeof(*a));
	a->store = getenv("HAVEN_SNAP_STORE");
	a->reprotect = strcmp(argv[0], "reprotect") == 0;
	a->o.timeout_ms = 30000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->store = optarg;
			break;
		case 't':
			a->to = optarg;
			break;
		case 'k':
			psk = optarg;
			break;
		case 'T':
			if (cmd_snap_repl_num(
			        "--timeout", optarg, 1, 86400, &v) != 0)
				return 2;
			a->o.timeout_ms = (int)(v * 1000);
			break;
		case 'b':
			if (cmd_snap_repl_num("--bwlimit", optarg, 1,
			        UINT64_MAX / 1000, &a->o.bwlimit) != 0)
				return 2;
			break;
		case 'F':
			a->o.flags |= SNAP_OFFER_FORCE;
			break;
		case 'h':
			cmd_snap_repl_usage(stdout);
			return 0;
		default:
			cmd_snap_repl_usage(stderr);
			return 2;
		}
	}
	if (a->store == NULL || a->to == NULL || psk == NULL ||
	    argc - optind < 1 || argc - optind > (a->reprotect ? 1 : 2)) {
		cmd_snap_repl_usage(stderr);
		return 2;
	}
	a->volume = argv[optind];
	a->id = argc - optind == 2 ? argv[optind + 1] : NULL;
	if (conf_parse_addr(a->to, true, &a->o.to) != 0) {
		fprintf(stderr, "haven snap replicate: --to %s: want IP:PORT\n",
		    a->to);
		return 2;
	}
	if (snap_proto_psk_load(psk, a->o.psk, err, sizeof(err)) != 0) {
		fprintf(stderr, "haven snap replicate: %s\n", err);
		return 1;
	}
	return -1;
}

int
cmd_snap_replicate(int argc, char **argv)
{
	struct cmd_snap_repl_args a;
	struct snap_send_stats st;
	struct snap_manifest m;
	struct snap_store *s = NULL;
	struct snap_ref ref;
	uint64_t t0;
	char err[512];
	int e, rc = 1;

	if (sodium_init() < 0) {
		fprintf(stderr, "haven snap replicate: libsodium failed\n");
		return 1;
	}
	if ((rc = cmd_snap_repl_parse(argc, argv, &a)) >= 0)
		return rc;
	rc = 1;
	if ((e = snap_store_open(a.store, false, &s)) != 0) {
		fprintf(stderr, "haven snap replicate: %s: %s\n", a.store,
		    strerror(-e));
		return 1;
	}
	if (a.reprotect && cmd_snap_repl_primary(s, a.volume) != 0)
		goto out;
	e = cmd_snap_repl_pick(s, a.volume, a.id, &ref);
	if (e != 0) {
		fprintf(stderr, "haven snap replicate: %s%s%s: %s\n", a.volume,
		    a.id != NULL ? "/" : "", a.id != NULL ? a.id : "",
		    e == -ENOENT ? "no such snapshot" : strerror(-e));
		goto out;
	}
	if ((e = snap_store_manifest_load(s, &ref, &m, err, sizeof(err))) !=
	    0) {
		fprintf(stderr, "haven snap replicate: %s/%s: %s\n", ref.volume,
		    ref.id, e == -EBADMSG ? err : strerror(-e));
		rc = e == -EBADMSG ? CMD_SNAP_REPL_EXIT_DAMAGED : 1;
		goto out;
	}
	t0 = util_mono_ms();
	e = snap_send(s, &m, &a.o, &st, err, sizeof(err));
	if (e == 0) {
		double secs = (double)(util_mono_ms() - t0) / 1000.0;

		printf("replicated %s/%s to %s: %s\n", ref.volume, ref.id, a.to,
		    st.reply);
		printf("chunks=%" PRIu64 " wanted=%" PRIu64 " of=%" PRIu64
		       " payload=%" PRIu64 " wire=%" PRIu64 " seconds=%.3f "
		       "MBps=%.1f\n",
		    st.chunks, st.wanted, m.nchunks, st.payload, st.bytes, secs,
		    secs > 0 ? (double)st.bytes / secs / 1e6 : 0.0);
		rc = 0;
	} else {
		fprintf(stderr,
		    "haven snap %s: %s/%s to %s: %s (sent %" PRIu64
		    " of %" PRIu64 " wanted chunks)\n",
		    a.reprotect ? "reprotect" : "replicate", ref.volume, ref.id,
		    a.to, err, st.chunks, st.wanted);
		rc = e == -EACCES ? CMD_SNAP_REPL_EXIT_AUTH :
		    e == -EBADMSG ? CMD_SNAP_REPL_EXIT_DAMAGED :
		    st.code == SNAP_PROTO_E_DIVERGED ?
		                    CMD_SNAP_REPL_EXIT_DIVERGED :
		    st.code == SNAP_PROTO_E_ROLE ? CMD_SNAP_REPL_EXIT_ROLE :
		                                   1;
	}
	snap_manifest_fini(&m);
out:
	snap_store_close(s);
	return rc;
}
