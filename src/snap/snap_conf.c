/*
 * snap_conf.c - schema of the `snap:` section (snap_conf.h). The PSK file
 * is read once at bind time, so a missing, malformed or world-readable
 * key is a config error at its line, not a plane that refuses every peer.
 * An empty section runs an idle plane (no listener), like "lb: {}".
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/util.h"
#include "snap/snap_cd.h"
#include "snap/snap_conf.h"
#include "snap/snap_id.h"
#include "snap/snap_proto.h"

#define SNAP_CONF_KEEP_DEFAULT 10 /* snapshots kept when nothing is said */

static const struct conf_key snap_conf_retain_keys[] = {
	{ .name = "last",
	    .type = CT_UINT,
	    .off = offsetof(struct snap_retain_policy, last),
	    .max = 100000,
	    .help = "the newest N snapshots" },
	{ .name = "hourly",
	    .type = CT_UINT,
	    .off = offsetof(struct snap_retain_policy, hourly),
	    .max = 100000,
	    .help = "the newest snapshot of each of the last N hours that "
	            "have one" },
	{ .name = "daily",
	    .type = CT_UINT,
	    .off = offsetof(struct snap_retain_policy, daily),
	    .max = 100000,
	    .help = "the newest snapshot of each of the last N days (UTC) "
	            "that have one" },
};

static const struct conf_schema snap_conf_retain_schema = {
	.name = "snap.volumes[].retain",
	.size = sizeof(struct snap_retain_policy),
	.keys = snap_conf_retain_keys,
	.nkeys = ARRAY_SIZE(snap_conf_retain_keys),
};

/* In enum snap_cd_kind's order. */
static const char *const snap_conf_detect_names[] = { "auto", "rescan",
	"reflink", "inotify", NULL };

static const struct conf_key snap_conf_vol_keys[] = {
	{ .name = "name",
	    .type = CT_STRING,
	    .off = offsetof(struct snap_vol_conf, name),
	    .flags = CK_REQUIRED,
	    .help = "the volume's name in the store" },
	{ .name = "source",
	    .type = CT_STRING,
	    .off = offsetof(struct snap_vol_conf, source),
	    .flags = CK_REQUIRED,
	    .help = "the image file snapshotted each cycle" },
	{ .name = "interval",
	    .type = CT_DURATION,
	    .off = offsetof(struct snap_vol_conf, interval_ms),
	    .dflt = "60s",
	    .min = 100,
	    .max = 86400000,
	    .help = "a cycle (snapshot, ship, prune) starts this often" },
	{ .name = "keep",
	    .type = CT_UINT,
	    .off = offsetof(struct snap_vol_conf, keep),
	    .min = 1,
	    .max = 100000,
	    .help = "same as retain.last (without retain: 10)" },
	{ .name = "retain",
	    .type = CT_SECTION,
	    .off = offsetof(struct snap_vol_conf, retain),
	    .sub = &snap_conf_retain_schema,
	    .help = "which snapshots the local store keeps after each cycle "
	            "(each peer's newest acknowledged one is kept too)" },
	{ .name = "peers",
	    .type = CT_STRLIST,
	    .off = offsetof(struct snap_vol_conf, peers),
	    .count_off = offsetof(struct snap_vol_conf, npeers),
	    .help = "ip:port of each receiver every snapshot is shipped to" },
	{ .name = "rpo_target",
	    .type = CT_DURATION,
	    .off = offsetof(struct snap_vol_conf, rpo_target_ms),
	    .help = "alarm when a peer's lag exceeds this; 0: no alarm" },
	{ .name = "cycle_timeout",
	    .type = CT_DURATION,
	    .off = offsetof(struct snap_vol_conf, timeout_ms),
	    .dflt = "5m",
	    .min = 100,
	    .max = 86400000,
	    .help = "a cycle still running after this is killed" },
	{ .name = "freeze",
	    .type = CT_STRLIST,
	    .off = offsetof(struct snap_vol_conf, freeze),
	    .count_off = offsetof(struct snap_vol_conf, nfreeze),
	    .help = "mount points frozen (FIFREEZE) while the source is "
	            "read: one consistent point in time" },
	{ .name = "freeze_timeout",
	    .type = CT_DURATION,
	    .off = offsetof(struct snap_vol_conf, freeze_timeout_ms),
	    .dflt = "30s",
	    .min = 100,
	    .max = 600000,
	    .help = "a freeze is thawed after this whatever happens (the "
	            "snapshot is then discarded)" },
	{ .name = "pre_hook",
	    .type = CT_STRLIST,
	    .off = offsetof(struct snap_vol_conf, pre_hook),
	    .count_off = offsetof(struct snap_vol_conf, npre_hook),
	    .help = "argv run before the freeze; failing aborts the cycle" },
	{ .name = "post_hook",
	    .type = CT_STRLIST,
	    .off = offsetof(struct snap_vol_conf, post_hook),
	    .count_off = offsetof(struct snap_vol_conf, npost_hook),
	    .help = "argv run after the thaw whenever pre_hook succeeded" },
	{ .name = "detect",
	    .type = CT_ENUM,
	    .off = offsetof(struct snap_vol_conf, detect),
	    .dflt = "auto",
	    .enum_names = snap_conf_detect_names,
	    .help = "change detection: reflink (FICLONE + FIEMAP: only "
	            "changed chunks read), rescan (every chunk read), "
	            "inotify (a directory source: only the paths a watcher "
	            "saw change are re-read, a full walk after an overflow), "
	            "auto (inotify on a directory, else reflink where the "
	            "file system can)" },
	{ .name = "dirty_paths",
	    .type = CT_UINT,
	    .off = offsetof(struct snap_vol_conf, dirty_paths),
	    .max = 1000000,
	    .help = "a directory source: start a cycle before the interval "
	            "once this many paths changed since the last snapshot "
	            "(needs detect auto or inotify); 0: off" },
	{ .name = "dirty_bytes",
	    .type = CT_SIZE,
	    .off = offsetof(struct snap_vol_conf, dirty_bytes),
	    .help = "start a cycle before the interval once this much of the "
	            "source changed since the last snapshot (FIEMAP against "
	            "the reflink baseline: needs detect auto or reflink on "
	            "XFS/btrfs); 0: off" },
	{ .name = "group",
	    .type = CT_STRING,
	    .off = offsetof(struct snap_vol_conf, group),
	    .help = "volumes of one group are snapshotted in one cycle, "
	            "frozen together, under one ID (a consistency group)" },
	{ .name = "hook_timeout",
	    .type = CT_DURATION,
	    .off = offsetof(struct snap_vol_conf, hook_timeout_ms),
	    .dflt = "60s",
	    .min = 100,
	    .max = 3600000,
	    .help = "a hook still running after this is killed (and failed)" },
};

static void
snap_conf_vol_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct snap_vol_conf *v = obj;
	struct sockaddr_storage ss;
	struct stat sb;

	if (v->dirty_bytes > 0 &&
	    (v->detect == SNAP_CD_RESCAN ||
	        v->detect == SNAP_CONF_DETECT_INOTIFY))
		conf_error(ctx, conf_key_node(node, "dirty_bytes"),
		    "dirty_bytes needs detect: auto or reflink (it measures "
		    "change against the reflink baseline)");
	if (v->dirty_paths > 0 && v->detect != SNAP_CD_AUTO &&
	    v->detect != SNAP_CONF_DETECT_INOTIFY)
		conf_error(ctx, conf_key_node(node, "dirty_paths"),
		    "dirty_paths needs detect: auto or inotify (it counts "
		    "what a watcher of a directory source saw)");
	/* A source that is not there yet is judged when a cycle runs. */
	if (v->detect == SNAP_CONF_DETECT_INOTIFY && v->source != NULL &&
	    stat(v->source, &sb) == 0 && !S_ISDIR(sb.st_mode))
		conf_error(ctx, conf_key_node(node, "detect"),
		    "detect: inotify needs a directory source (%s is not "
		    "one)",
		    v->source);
	if (v->name != NULL && !snap_name_ok(v->name, strlen(v->name)))
		conf_error(ctx, conf_key_node(node, "name"),
		    "name: letters, digits, '.', '_' and '-' only");
	if (v->source != NULL && v->source[0] != '/')
		conf_error(ctx, conf_key_node(node, "source"),
		    "source: want an absolute path");
	for (size_t i = 0; i < v->npeers; i++)
		if (conf_parse_addr(v->peers[i], true, &ss) != 0)
			conf_error(ctx, conf_key_node(node, "peers"),
			    "peers: \"%s\" is not ip:port", v->peers[i]);
	/* keep: is the older spelling of retain.last. */
	if (v->keep > 0 && v->retain.last > 0)
		conf_error(ctx, conf_key_node(node, "keep"),
		    "keep: is retain.last; give one of them");
	else if (v->keep > 0)
		v->retain.last = v->keep;
	v->keep = 0;
	if (snap_retain_empty(&v->retain))
		v->retain.last = SNAP_CONF_KEEP_DEFAULT;
	for (size_t i = 0; i < v->nfreeze; i++)
		if (v->freeze[i][0] != '/')
			conf_error(ctx, conf_key_node(node, "freeze"),
			    "freeze: \"%s\" is not an absolute path",
			    v->freeze[i]);
	if (v->group != NULL && !snap_name_ok(v->group, strlen(v->group)))
		conf_error(ctx, conf_key_node(node, "group"),
		    "group: letters, digits, '.', '_' and '-' only");
	if (v->npre_hook > 0 && v->pre_hook[0][0] != '/')
		conf_error(ctx, conf_key_node(node, "pre_hook"),
		    "pre_hook: want an absolute path first (argv, no shell)");
	if (v->npost_hook > 0 && v->post_hook[0][0] != '/')
		conf_error(ctx, conf_key_node(node, "post_hook"),
		    "post_hook: want an absolute path first (argv, no shell)");
}

static const struct conf_schema snap_conf_vol_schema = {
	.name = "snap.volumes[]",
	.size = sizeof(struct snap_vol_conf),
	.keys = snap_conf_vol_keys,
	.nkeys = ARRAY_SIZE(snap_conf_vol_keys),
	.check = snap_conf_vol_check,
};

static const struct conf_key snap_conf_standby_keys[] = {
	{ .name = "volume",
	    .type = CT_STRING,
	    .off = offsetof(struct snap_standby_conf, volume),
	    .flags = CK_REQUIRED,
	    .help = "a volume this node receives" },
	{ .name = "image",
	    .type = CT_STRING,
	    .off = offsetof(struct snap_standby_conf, image),
	    .flags = CK_REQUIRED,
	    .help = "the file kept at its newest snapshot (absolute path)" },
};

static void
snap_conf_standby_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct snap_standby_conf *sb = obj;

	if (sb->volume != NULL && !snap_name_ok(sb->volume, strlen(sb->volume)))
		conf_error(ctx, conf_key_node(node, "volume"),
		    "volume: letters, digits, '.', '_' and '-' only");
	if (sb->image != NULL && sb->image[0] != '/')
		conf_error(ctx, conf_key_node(node, "image"),
		    "image: want an absolute path");
}

static const struct conf_schema snap_conf_standby_schema = {
	.name = "snap.standby[]",
	.size = sizeof(struct snap_standby_conf),
	.keys = snap_conf_standby_keys,
	.nkeys = ARRAY_SIZE(snap_conf_standby_keys),
	.check = snap_conf_standby_check,
};

static const struct conf_key snap_conf_keys[] = {
	{ .name = "listen",
	    .type = CT_ADDR_PORT,
	    .off = offsetof(struct snap_conf, listen),
	    .help = "ip:port where peers replicate snapshots to" },
	{ .name = "store",
	    .type = CT_STRING,
	    .off = offsetof(struct snap_conf, store),
	    .help = "the snapshot store received snapshots go into" },
	{ .name = "psk_file",
	    .type = CT_STRING,
	    .off = offsetof(struct snap_conf, psk_file),
	    .flags = CK_SECRET,
	    .help = "pre-shared key: 32 bytes or 64 hex digits, mode 0600" },
	{ .name = "max_sessions",
	    .type = CT_UINT,
	    .off = offsetof(struct snap_conf, max_sessions),
	    .dflt = "4",
	    .min = 1,
	    .max = 64,
	    .help = "replication sessions at once; more are refused" },
	{ .name = "handshake_timeout",
	    .type = CT_DURATION,
	    .off = offsetof(struct snap_conf, handshake_timeout_ms),
	    .dflt = "10s",
	    .min = 100,
	    .max = 600000,
	    .help = "a peer must authenticate within this" },
	{ .name = "idle_timeout",
	    .type = CT_DURATION,
	    .off = offsetof(struct snap_conf, idle_timeout_ms),
	    .dflt = "60s",
	    .min = 100,
	    .max = 3600000,
	    .help = "a session with no traffic this long is dropped" },
	{ .name = "volumes",
	    .type = CT_LIST,
	    .off = offsetof(struct snap_conf, volumes),
	    .count_off = offsetof(struct snap_conf, nvolumes),
	    .sub = &snap_conf_vol_schema,
	    .help = "volumes snapshotted and shipped continuously" },
	{ .name = "standby",
	    .type = CT_LIST,
	    .off = offsetof(struct snap_conf, standby),
	    .count_off = offsetof(struct snap_conf, nstandby),
	    .sub = &snap_conf_standby_schema,
	    .help = "images kept at the newest snapshot received, so a "
	            "promote has nothing to write" },
	{ .name = "alarms",
	    .type = CT_SECTION,
	    .off = offsetof(struct snap_conf, alarms),
	    .sub = &hook_alarm_schema,
	    .help = "where RPO-target crossings and recoveries are sent" },
};

static bool
snap_conf_argv_eq(char *const *a, char *const *b)
{
	size_t i = 0;

	for (; a != NULL && b != NULL && a[i] != NULL && b[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return (a == NULL || a[i] == NULL) && (b == NULL || b[i] == NULL);
}

/*
 * A group runs as one cycle, on its first volume's schedule: its volumes
 * must agree on what that cycle does. Each may add mount points to
 * freeze.
 */
static void
snap_conf_groups_check(
    struct conf_ctx *ctx, struct conf_node *node, const struct snap_conf *c)
{
	for (size_t i = 0; i < c->nvolumes; i++) {
		const struct snap_vol_conf *v = &c->volumes[i], *f = NULL;
		const char *what = NULL;

		if (v->group == NULL)
			continue;
		for (size_t j = 0; j < i && f == NULL; j++)
			if (c->volumes[j].group != NULL &&
			    strcmp(c->volumes[j].group, v->group) == 0)
				f = &c->volumes[j];
		if (f == NULL)
			continue;
		if (f->interval_ms != v->interval_ms)
			what = "interval";
		else if (f->timeout_ms != v->timeout_ms)
			what = "cycle_timeout";
		else if (f->freeze_timeout_ms != v->freeze_timeout_ms)
			what = "freeze_timeout";
		else if (f->hook_timeout_ms != v->hook_timeout_ms)
			what = "hook_timeout";
		else if (!snap_conf_argv_eq(f->pre_hook, v->pre_hook))
			what = "pre_hook";
		else if (!snap_conf_argv_eq(f->post_hook, v->post_hook))
			what = "post_hook";
		if (what != NULL)
			conf_error(ctx, conf_key_node(node, "volumes"),
			    "volumes: %s and %s are in group %s but differ "
			    "in %s (a group is one cycle)",
			    f->name, v->name, v->group, what);
	}
}

static void
snap_conf_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct snap_conf *c = obj;
	uint8_t psk[SNAP_PROTO_PSK_LEN];
	char err[256];

	bool listen = c->listen.ss_family != AF_UNSPEC;

	/* "snap: {}" runs an idle plane, as "lb: {}" does; a receiver needs
	 * all three, a sender store and psk_file. */
	if (c->nvolumes > 0 && (c->store == NULL || c->psk_file == NULL)) {
		conf_error(ctx, conf_key_node(node, "volumes"),
		    "snap: volumes need store and psk_file");
		return;
	}
	if (c->nvolumes == 0 &&
	    (listen != (c->store != NULL) || listen != (c->psk_file != NULL))) {
		conf_error(ctx, node,
		    "snap: listen, store and psk_file go together (a "
		    "receiver needs all three)");
		return;
	}
	if (c->psk_file != NULL &&
	    snap_proto_psk_load(c->psk_file, psk, err, sizeof(err)) != 0)
		conf_error(ctx, conf_key_node(node, "psk_file"), "%s", err);
	sodium_memzero(psk, sizeof(psk));
	if (c->store != NULL && c->store[0] != '/')
		conf_error(ctx, conf_key_node(node, "store"),
		    "store: want an absolute path");
	snap_conf_groups_check(ctx, node, c);
	if (c->nstandby > 0 && !listen)
		conf_error(ctx, conf_key_node(node, "standby"),
		    "standby: only a receiver (listen) keeps standby images");
	for (size_t i = 1; i < c->nstandby; i++)
		if (c->standby[i].volume != NULL &&
		    snap_standby_find(c->standby, i, c->standby[i].volume))
			conf_error(ctx, conf_key_node(node, "standby"),
			    "standby: volume %s is listed twice",
			    c->standby[i].volume);
}

const struct conf_schema snap_conf_schema = {
	.name = "snap",
	.size = sizeof(struct snap_conf),
	.keys = snap_conf_keys,
	.nkeys = ARRAY_SIZE(snap_conf_keys),
	.check = snap_conf_check,
};
