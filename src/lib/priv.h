/*
 * priv.h - giving up root in a child process: an unprivileged user,
 * no_new_privs, and only the capabilities a plane asks for.
 *
 * A child of `haven run` started as root calls priv_drop() once, after the
 * config told it what it needs and before it touches anything from outside.
 * Afterwards the process runs as the user with effective = permitted = the
 * kept set, an empty inheritable and ambient set, a bounding set reduced to
 * the kept set and no_new_privs: neither setuid binaries nor file
 * capabilities give anything back, and nothing it execs (exec checks, hooks)
 * inherits a capability. The drop cannot be undone; a later config that
 * needs more is refused by the caller (priv_missing()).
 *
 * Capability sets are bit masks of the kernel's numbers: PRIV_CAP(CAP_NET_RAW).
 * No libcap: raw capget/capset and prctl, which is all this needs.
 */
#ifndef HAVEN_PRIV_H
#define HAVEN_PRIV_H

#include <sys/types.h>

#include <linux/capability.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRIV_CAP(c) (UINT64_C(1) << (c))

/* The user a child runs as, resolved once. */
struct priv_user {
	char name[64];
	uid_t uid;
	gid_t gid;
};

/*
 * Resolve name (NULL: "haven" if that user exists, else "nobody"). Return 0,
 * -ENOENT when there is no such user, or -errno from the lookup.
 */
int priv_user_lookup(const char *name, struct priv_user *u);

/*
 * Become u keeping only the capabilities in keep. Must run as root (euid 0)
 * and u->uid must not be 0. Returns 0, or -errno with the failed step in
 * err; on failure the process is in an unknown state and must exit.
 */
int priv_drop(
    const struct priv_user *u, uint64_t keep, char *err, size_t errlen);

/*
 * What the parent of `haven run` keeps for itself, started as root with
 * children that drop to a user: SETUID, SETGID and SETPCAP for their drop,
 * KILL to signal them, CHOWN and DAC_OVERRIDE to hand them the state
 * directory and still use it, NET_BIND_SERVICE to bind the planes' sockets
 * (lb ports below 1024). Its bounding set also keeps what the planes may
 * use (the union of the registry rows' caps_bound, cmd/planes.h), since
 * the children exec'd from it start from that set. packaging/haven.service
 * bounds the unit to the same union.
 */
#define PRIV_PARENT_KEEP                                                       \
	(PRIV_CAP(CAP_SETUID) | PRIV_CAP(CAP_SETGID) | PRIV_CAP(CAP_SETPCAP) | \
	    PRIV_CAP(CAP_KILL) | PRIV_CAP(CAP_CHOWN) |                         \
	    PRIV_CAP(CAP_DAC_OVERRIDE) | PRIV_CAP(CAP_NET_BIND_SERVICE))

/*
 * Stay root but keep only keep: bounding, effective and permitted sets
 * reduced to it (the children exec'd as root start from that bounding
 * set). Returns 0, or -errno with the failed step in err.
 */
int priv_bound(uint64_t keep, char *err, size_t errlen);

/*
 * Whether a process of group gid may open unprivileged ICMP sockets
 * (net.ipv4.ping_group_range of the caller's network namespace), and the
 * pure parser behind it: text is the file's content, "LOW\tHIGH".
 */
bool priv_ping_allowed(gid_t gid);
bool priv_ping_range_has(const char *text, gid_t gid);

/*
 * Hand directory dir and the regular files directly in it to uid:gid, so a
 * child running as that user can keep writing its state there (files
 * written by an earlier run as root included). 0 or -errno.
 */
int priv_chown_dir(const char *dir, uid_t uid, gid_t gid);

/* The effective capabilities of this process. */
uint64_t priv_caps_effective(void);

/*
 * uid (real) and effective capabilities of process pid from
 * /proc/PID/status, and the pure parser of that file's text. 0 or -errno.
 */
int priv_proc_status(pid_t pid, uid_t *uid, uint64_t *caps);
int priv_status_parse(const char *text, uid_t *uid, uint64_t *caps);

/* "cap_net_raw" for CAP_NET_RAW; NULL past the names this build knows. */
const char *priv_cap_name(unsigned cap);
/* caps as "cap_a,cap_b" into out (n bytes), "none" when empty. */
void priv_caps_format(uint64_t caps, char *out, size_t n);
/* Every capability this kernel knows: what a process with all of them has. */
uint64_t priv_caps_all(void);

#endif
