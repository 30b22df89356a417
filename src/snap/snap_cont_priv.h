/*
 * snap_cont_priv.h - the state continuous replication's files share
 * (snap_cont.c: the plane's side and config apply; snap_cont_cycle.c: the
 * cycle's child process; snap_cont_api.c: metrics, JSON and status). Not
 * for use outside src/snap/snap_cont*.c: snap_cont.h is the interface.
 *
 * A struct snap_cont owns its volumes; a volume owns its peers. A cycle's
 * child (snap_cont_cycle.c) makes the snapshot; each peer then ships it in
 * its own process, one at a time per peer (snap_cont_ship.c), so a slow
 * peer delays neither the next cycle nor any other peer. Both children
 * work on their fork's copy of these structs, read-only except for what
 * they report back on their pipe.
 */
#ifndef HAVEN_SNAP_CONT_PRIV_H
#define HAVEN_SNAP_CONT_PRIV_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/ev.h"
#include "lib/hook.h"
#include "lib/hook_conf.h"
#include "snap/snap.h"
#include "snap/snap_cd.h"
#include "snap/snap_proto.h"
#include "snap/snap_sched.h"

#define SNAP_CONT_TICK_MS   100 /* cycles start within this of due */
/* dirty_bytes measured this often: each measure writes the source's dirty
 * pages back (snap_cd_dirty), so not at every tick. */
#define SNAP_CONT_DIRTY_MS  500
#define SNAP_CONT_IO_MS     5000 /* each connect, read or write to a peer */
#define SNAP_CONT_QMAX      64   /* alarm jobs queued */
#define SNAP_CONT_TRIES     3    /* passes over a source that changed */
#define SNAP_CONT_BACKOFF   1000
#define SNAP_CONT_BACKOFF_X 8000
/* Snapshots whose result (every peer acknowledged or not) is pending: a
 * peer not done with one after this many newer ones makes it partial. */
#define SNAP_CONT_JUDGES    8

enum snap_cont_res {
	SNAP_CR_OK,      /* created, every peer acknowledged it */
	SNAP_CR_PARTIAL, /* created, some peer failed or skipped it */
	SNAP_CR_FAILED,  /* not created (or the child died) */
	SNAP_CR_TIMEOUT, /* killed at cycle_timeout */
	SNAP_CR_REPLICA, /* skipped: the volume is a replica on this node */
	SNAP_CR__COUNT,
};

/* The result label of each enum snap_cont_res (snap_cont.c). */
extern const char *const snap_cont_res_names[SNAP_CR__COUNT];

/*
 * A peer of a volume and its shipping pipeline (snap_cont_ship.c): at most
 * one shipping process at a time, and the newest snapshot made meanwhile
 * waiting for it (pipe, snap_sched.h).
 */
struct snap_cont_peer {
	struct snap_cont_vol *vol; /* borrowed: the volume holding this peer */
	char addr[64];
	struct sockaddr_storage ss;
	struct snap_rpo rpo;
	char ack_id[SNAP_NAME_MAX + 1]; /* newest acknowledged */
	uint64_t ship_ms;               /* of the last attempt */
	uint64_t ok, failed;
	uint64_t timeouts; /* shipments killed at cycle_timeout */
	char error[256];
	struct snap_pipe pipe;
	/* the snapshot being shipped (while pipe.busy), and its capture time:
	   what an acknowledgement moves the lag to */
	char ship_id[SNAP_NAME_MAX + 1];
	uint64_t ship_capture_ms;
	/* the snapshot waiting (while pipe.queued) */
	char queued_id[SNAP_NAME_MAX + 1];
	uint64_t queued_capture_ms;
	pid_t pid; /* of the shipping process, or 0 */
	int pfd;   /* its pipe's read end, or -1 */
	struct ev_io io;
	struct ev_timer kill;
	bool killed;
	uint64_t ship_t0; /* monotonic ms the shipment started */
	struct buf out;   /* the shipping process's line */
};

/* A snapshot waiting for its peers' outcomes: its cycle's result. */
struct snap_cont_judge {
	char id[SNAP_NAME_MAX + 1];
	size_t waiting; /* peers that neither acknowledged, failed nor
	                   skipped it yet */
	bool failed;    /* some peer failed or skipped it */
};

struct snap_cont_vol {
	struct snap_cont *owner; /* borrowed: the object holding this volume */
	char *name, *source;     /* owned */
	struct snap_retain_policy retain;
	char **freeze; /* owned: mount points, NULL-terminated */
	size_t nfreeze;
	char **pre_hook, **post_hook; /* owned: argv, or NULL */
	uint64_t freeze_timeout_ms, hook_timeout_ms;
	char *group; /* owned, or NULL */
	/* A group runs as one cycle, its leader's (its first volume's):
	   the leader's pid, pipe and timer serve every member. */
	size_t leader;   /* index in owner->v: itself, or its group's first */
	size_t *members; /* owned, on a leader: indexes in owner->v, itself
	                    first; nmembers */
	size_t nmembers;
	uint64_t rpo_target_ms, timeout_ms;
	struct snap_sched sched;
	struct snap_cont_peer *peers; /* owned: npeers */
	size_t npeers;
	pid_t pid; /* of the running cycle, or 0 */
	int pfd;   /* its pipe's read end, or -1 */
	struct ev_io io;
	struct ev_timer kill;
	bool killed;
	struct buf out; /* the child's lines */
	char cycle_id[SNAP_NAME_MAX + 1];
	uint64_t cycle_capture_ms;
	char last_id[SNAP_NAME_MAX + 1];
	uint64_t last_capture_ms;
	enum snap_cd_kind detect; /* the method asked for (an image's) */
	int detect_conf;          /* as configured: SNAP_CONF_DETECT_* too */
	/* owned, or NULL: the watcher of a directory source (detect
	   inotify, or auto on a directory) */
	struct snap_watch *watch;
	/* owned: the dirty set taken for the running (or last) cycle; the
	   cycle's child reads its fork's copy */
	struct snap_dirty taken;
	uint32_t dirty_paths;      /* trigger; 0: off */
	uint64_t last_dirty;       /* dirty paths the last snapshot used */
	char last_note[200];       /* why it walked the whole tree, or "" */
	uint64_t dirty_bytes;      /* trigger; 0: off */
	uint64_t dirty_now;        /* the last estimate (snap_cd_dirty) */
	int dirty_err;             /* its -errno, 0 when it was measured */
	uint64_t dirty_checked_ms; /* when (monotonic) */
	bool replica_here; /* demoted here (snap_vol.h): cycles are skipped */
	char last_detect[16];      /* the one the last snapshot used */
	uint64_t last_read_chunks; /* chunks it read */
	uint64_t last_reused;      /* chunks it took from its parent */
	char error[384];           /* of the last cycle; "" when it was ok */
	uint64_t results[SNAP_CR__COUNT];
	struct snap_cont_judge judge[SNAP_CONT_JUDGES]; /* oldest first */
	size_t njudge;
	uint64_t pruned;
};

/*
 * The continuous replication of one snap plane: owned by the plane's state
 * (snap_plane.c), made by snap_cont_new, released by snap_cont_free. Its
 * volumes point back at it (owner), and every timer and I/O callback gets
 * its volume or the object itself as arg: no file-scope state.
 */
struct snap_cont {
	struct ev_loop *loop; /* borrowed: the plane's */
	char *store;          /* owned */
	uint8_t psk[SNAP_PROTO_PSK_LEN];
	struct snap_cont_vol *v; /* owned: nv */
	size_t nv;
	struct hook_alarm_conf alarm; /* strings owned */
	struct hook_runner *hooks;    /* owned */
	struct ev_timer tick;
	uint64_t events[2]; /* crossed, recovered */
};

/* One line on fd, written whole (shorter than PIPE_BUF). */
void snap_cont_say(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The cycle of leader l and its group's members, in the forked child:
 * reports on fd (the line protocol in snap_cont.c) and exits. */
_Noreturn void snap_cont_child(struct snap_cont_vol *l, int fd);

/*
 * v's newest snapshot (last_id, made by the cycle just now) to each peer:
 * shipped at once by a peer that is idle, left waiting by a busy one (a
 * snapshot already waiting there is skipped). Its result is counted when
 * every peer has acknowledged, failed or skipped it.
 */
void snap_cont_ship_offer(struct snap_cont_vol *v);
/* Kill and reap v's shipping processes, forget what waits. Idempotent. */
void snap_cont_ship_stop(struct snap_cont_vol *v);

#endif
