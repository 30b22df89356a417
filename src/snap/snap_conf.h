/*
 * snap_conf.h - configuration of the snap plane (the `snap:` section):
 * where it listens for replication sessions, the store they write into,
 * the pre-shared key they must prove, and their limits.
 *
 * Plain data bound by the schema in snap_conf.c. Durations are
 * milliseconds. After a successful bind, psk_file was readable by the
 * config's reader, held a key of the right form and was not open to
 * others (snap_proto_psk_load); the plane reads it again on apply.
 * volumes[] makes this node a sender too: store and psk_file then hold
 * for both directions.
 */
#ifndef HAVEN_SNAP_CONF_H
#define HAVEN_SNAP_CONF_H

#include <sys/socket.h>

#include <stdint.h>

#include "lib/conf.h"
#include "lib/hook_conf.h"
#include "snap/snap_retain.h"
#include "snap/snap_standby.h"

/* One volume replicated continuously (`snap.volumes[]`). */
struct snap_vol_conf {
	char *name;           /* owned */
	char *source;         /* owned: the image file */
	uint64_t interval_ms; /* a cycle starts this often */
	uint32_t keep;        /* alias of retain.last; 0 after the check */
	struct snap_retain_policy retain; /* of the local store; never empty */
	char **peers; /* owned: "ip:port", NULL-terminated */
	size_t npeers;
	uint64_t rpo_target_ms; /* alarm above this lag; 0: none */
	uint64_t timeout_ms;    /* a cycle is killed after this */
	/* Consistency (snap_freeze.h): mount points frozen around the
	   snapshot, and hooks run before and after. */
	char **freeze; /* owned: NULL-terminated */
	size_t nfreeze;
	uint64_t freeze_timeout_ms; /* thawed after this whatever happens */
	char **pre_hook;            /* owned: argv, NULL-terminated */
	size_t npre_hook;
	char **post_hook; /* owned: argv, NULL-terminated */
	size_t npost_hook;
	uint64_t hook_timeout_ms; /* each hook is killed after this */
	/* owned, or NULL: volumes with one group name are snapshotted
	   together, one freeze around all (a consistency group) */
	char *group;
	/* enum snap_cd_kind (auto, rescan, reflink), or
	   SNAP_CONF_DETECT_INOTIFY; auto on a directory source is inotify */
	int detect;
	uint64_t
	    dirty_bytes; /* a cycle starts once this much changed; 0: off */
	uint32_t dirty_paths; /* a tree's cycle starts once this many
	                         paths changed (inotify); 0: off */
};

/* detect: inotify, the value after enum snap_cd_kind's (snap_cd.h):
 * a directory tree's dirty set (snap_watch.h). */
#define SNAP_CONF_DETECT_INOTIFY 3

struct snap_conf {
	struct sockaddr_storage listen; /* AF_UNSPEC: no receiver (idle) */
	char *store;                    /* owned: the store directory */
	char *psk_file;                 /* owned */
	uint32_t max_sessions;          /* at once; more are refused */
	uint64_t handshake_timeout_ms;  /* connect to AUTH done */
	uint64_t idle_timeout_ms;       /* no byte in either way */
	struct snap_vol_conf *volumes;  /* owned: nvolumes, sent out */
	size_t nvolumes;
	/* owned: nstandby; images this receiver keeps at each volume's
	   newest snapshot (snap_standby.h) */
	struct snap_standby_conf *standby;
	size_t nstandby;
	struct hook_alarm_conf alarms;
};

extern const struct conf_schema snap_conf_schema;

#endif
