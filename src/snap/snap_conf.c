/*
 * snap_conf.c - schema of the `snap:` section (snap_conf.h). The PSK file
 * is read once at bind time, so a missing, malformed or world-readable
 * key is a config error at its line, not a plane that refuses every peer.
 * An empty section runs an idle plane (no listener), like "lb: {}".
 */
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "snap/snap_conf.h"
#include "snap/snap_id.h"
#include "snap/snap_proto.h"

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
};

static void
snap_conf_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct snap_conf *c = obj;
	uint8_t psk[SNAP_PROTO_PSK_LEN];
	char err[256];

	bool listen = c->listen.ss_family != AF_UNSPEC;

	/* "snap: {}" runs an idle plane, as "lb: {}" does; a receiver needs
	 * all three. */
	if (listen != (c->store != NULL) || listen != (c->psk_file != NULL)) {
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
}

const struct conf_schema snap_conf_schema = {
	.name = "snap",
	.size = sizeof(struct snap_conf),
	.keys = snap_conf_keys,
	.nkeys = ARRAY_SIZE(snap_conf_keys),
	.check = snap_conf_check,
};
