/*
 * snap_freeze.h - a consistent point in time for a snapshot: file systems
 * frozen (FIFREEZE) while their image is read, and the pre/post hook
 * commands an application uses to quiesce itself (snap_group.h puts them
 * together).
 *
 * Invariants:
 *   - a freeze is always thawed: by snap_freeze_end on every path, and
 *     otherwise by a guard process forked before the first FIFREEZE. The
 *     guard leaves our process group and session (a cycle killed with its
 *     group does not take the guard along) and thaws everything at the
 *     deadline, or as soon as the freezer dies or gives up (its socket
 *     closes without the word "thawed");
 *   - a thaw that fails is logged at error level and retried, by the
 *     freezer and then by the guard;
 *   - the process that freezes must not write to a frozen file system (it
 *     would block until the thaw): begin refuses a store on one of them
 *     (same st_dev), and hooks run before the freeze and after the thaw;
 *   - only mount points are frozen (statx STATX_ATTR_MOUNT_ROOT), so a
 *     typo cannot freeze the root file system under a subdirectory.
 *
 * Blocking calls: used by `haven snap create` and by a continuous cycle's
 * child (snap_cont.c), never on an event loop. FIFREEZE needs
 * CAP_SYS_ADMIN.
 */
#ifndef HAVEN_SNAP_FREEZE_H
#define HAVEN_SNAP_FREEZE_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_FREEZE_MAX 16 /* mount points in one freeze */

struct snap_freeze;

/*
 * Freeze the file systems mounted at mounts[0..n), in order, for at most
 * timeout_ms. Refused (-EINVAL) when a path is not a mount point, two name
 * one file system, or store (a path, may be NULL) is on one of them;
 * -EBUSY when one is frozen already. On failure nothing is left frozen.
 */
int snap_freeze_begin(const char *const *mounts, size_t n, const char *store,
    uint64_t timeout_ms, struct snap_freeze **out, char *err, size_t errlen);

/*
 * Thaw, in reverse order, and release f. 0 when every file system stayed
 * frozen from begin until now; -ETIMEDOUT when the guard had thawed them
 * at the deadline (what was read meanwhile is not consistent); -EIO when a
 * thaw kept failing (the guard goes on retrying).
 */
int snap_freeze_end(struct snap_freeze *f, char *err, size_t errlen);

/*
 * Run argv (argv[0] a path or a name looked up in PATH; no shell) with
 * env (NULL-terminated "K=V", added to ours) in its own process group,
 * stdin from /dev/null and stdout onto our stderr. After timeout_ms the
 * group is killed. 0 on exit status 0; -ETIMEDOUT; -ECHILD when it failed
 * (status or signal in err); another -errno when it could not start.
 */
int snap_freeze_hook(char *const *argv, char *const *env, uint64_t timeout_ms,
    char *err, size_t errlen);

#endif
