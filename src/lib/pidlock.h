/*
 * pidlock.h - one daemon per state directory.
 *
 * `haven run` holds an exclusive flock(2) on <state_dir>/haven.lock for its
 * whole life; the file holds its pid as text so that a second daemon can
 * name the one it would have collided with. The kernel drops the lock when
 * the holder dies, however it dies, so there is no stale lock to clean up:
 * a leftover file with a dead pid in it is simply locked again.
 *
 * The descriptor is close-on-exec: children never hold the lock, so a parent
 * that dies releases it even while an orphaned child lingers.
 */
#ifndef HAVEN_PIDLOCK_H
#define HAVEN_PIDLOCK_H

#include <sys/types.h>

#define PIDLOCK_NAME "haven.lock"

/*
 * Lock dir/PIDLOCK_NAME and write our pid into it. Returns the locked fd
 * (keep it open; closing it releases the lock), -EWOULDBLOCK when another
 * process holds the lock (its pid in *holder, 0 if the file names none), or
 * another -errno.
 */
int pidlock_acquire(const char *dir, pid_t *holder);
/* The pid written in dir/PIDLOCK_NAME, or 0 if none can be read. */
pid_t pidlock_read(const char *dir);

#endif
