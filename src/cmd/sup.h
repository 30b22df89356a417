/*
 * sup.h - the parent's supervisor: one child process per plane worker,
 * spawned by exec of our own binary, watched through SIGCHLD and its IPC
 * channel, restarted with exponential back-off (100 ms doubling to the
 * configured maximum, reset after a child stays up for 10 s).
 *
 * The supervisor knows nothing about what planes do: on every (re)start it
 * calls the parent's spawned hook, which sends HELLO, the config and any
 * state the new process needs; messages from children go to the msg hook.
 */
#ifndef HAVEN_SUP_H
#define HAVEN_SUP_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include "lib/ev.h"
#include "lib/ipc.h"

enum sup_state {
	SUP_STARTING, /* spawned, config not yet acknowledged */
	SUP_RUNNING,
	SUP_BACKOFF,  /* died; waiting to restart */
	SUP_STOPPING, /* asked to stop; killed at the deadline */
	SUP_STOPPED,
};

struct sup;

struct sup_child {
	struct sup *sup;        /* borrowed: owner */
	struct sup_child *next; /* owned list link (sup->children) */
	char plane[16];
	unsigned worker, nworkers;
	pid_t pid; /* 0 when not running */
	enum sup_state state;
	struct ipc_chan chan; /* open while pid != 0 */
	bool chan_open;
	unsigned restarts;
	uint64_t backoff_ms;
	uint64_t started_ms;
	int last_exit;         /* wait status of the last exit */
	struct ev_timer timer; /* back-off restart or stop deadline */
};

typedef void sup_spawned_fn(struct sup_child *c, void *arg);
typedef void sup_msg_fn(
    struct sup_child *c, const struct ipc_msg *m, void *arg);
typedef void sup_exited_fn(struct sup_child *c, void *arg);

struct sup *sup_new(struct ev_loop *loop, const char *self_exe,
    sup_spawned_fn *spawned, sup_msg_fn *msg, sup_exited_fn *exited, void *arg);
void sup_free(struct sup *s);
void sup_set_backoff_max(struct sup *s, uint64_t ms);

/* Start a supervised child for plane/worker. */
struct sup_child *sup_start(
    struct sup *s, const char *plane, unsigned worker, unsigned nworkers);
/* Ask the child to stop within deadline_ms; it is not restarted. */
void sup_stop(struct sup_child *c, unsigned deadline_ms);
/* Stop every child; returns when all exited or deadline passed (+kill). */
void sup_stop_all(struct sup *s, unsigned deadline_ms);

struct sup_child *sup_first(struct sup *s);
/* Children that are up and reachable (have an open channel). */
bool sup_child_live(const struct sup_child *c);
const char *sup_state_name(enum sup_state st);
unsigned long sup_restarts_total(const struct sup *s);

#endif
