/*
 * priv.c - see priv.h.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/priv.h"
#include "lib/util.h"

#define PRIV_USER_DEFAULT  "haven"
#define PRIV_USER_FALLBACK "nobody"

static const char *const priv_cap_names[] = {
	[CAP_CHOWN] = "cap_chown",
	[CAP_DAC_OVERRIDE] = "cap_dac_override",
	[CAP_DAC_READ_SEARCH] = "cap_dac_read_search",
	[CAP_FOWNER] = "cap_fowner",
	[CAP_FSETID] = "cap_fsetid",
	[CAP_KILL] = "cap_kill",
	[CAP_SETGID] = "cap_setgid",
	[CAP_SETUID] = "cap_setuid",
	[CAP_SETPCAP] = "cap_setpcap",
	[CAP_LINUX_IMMUTABLE] = "cap_linux_immutable",
	[CAP_NET_BIND_SERVICE] = "cap_net_bind_service",
	[CAP_NET_BROADCAST] = "cap_net_broadcast",
	[CAP_NET_ADMIN] = "cap_net_admin",
	[CAP_NET_RAW] = "cap_net_raw",
	[CAP_IPC_LOCK] = "cap_ipc_lock",
	[CAP_IPC_OWNER] = "cap_ipc_owner",
	[CAP_SYS_MODULE] = "cap_sys_module",
	[CAP_SYS_RAWIO] = "cap_sys_rawio",
	[CAP_SYS_CHROOT] = "cap_sys_chroot",
	[CAP_SYS_PTRACE] = "cap_sys_ptrace",
	[CAP_SYS_PACCT] = "cap_sys_pacct",
	[CAP_SYS_ADMIN] = "cap_sys_admin",
	[CAP_SYS_BOOT] = "cap_sys_boot",
	[CAP_SYS_NICE] = "cap_sys_nice",
	[CAP_SYS_RESOURCE] = "cap_sys_resource",
	[CAP_SYS_TIME] = "cap_sys_time",
	[CAP_SYS_TTY_CONFIG] = "cap_sys_tty_config",
	[CAP_MKNOD] = "cap_mknod",
	[CAP_LEASE] = "cap_lease",
	[CAP_AUDIT_WRITE] = "cap_audit_write",
	[CAP_AUDIT_CONTROL] = "cap_audit_control",
	[CAP_SETFCAP] = "cap_setfcap",
	[CAP_MAC_OVERRIDE] = "cap_mac_override",
	[CAP_MAC_ADMIN] = "cap_mac_admin",
	[CAP_SYSLOG] = "cap_syslog",
	[CAP_WAKE_ALARM] = "cap_wake_alarm",
	[CAP_BLOCK_SUSPEND] = "cap_block_suspend",
	[CAP_AUDIT_READ] = "cap_audit_read",
	[CAP_PERFMON] = "cap_perfmon",
	[CAP_BPF] = "cap_bpf",
	[CAP_CHECKPOINT_RESTORE] = "cap_checkpoint_restore",
};

const char *
priv_cap_name(unsigned cap)
{
	return cap < ARRAY_SIZE(priv_cap_names) ? priv_cap_names[cap] : NULL;
}

void
priv_caps_format(uint64_t caps, char *out, size_t n)
{
	size_t len = 0;

	snprintf(out, n, "none");
	for (unsigned c = 0; c < 64 && n > 0; c++) {
		const char *name = priv_cap_name(c);
		char num[16];

		if (!(caps & PRIV_CAP(c)))
			continue;
		if (name == NULL) {
			snprintf(num, sizeof(num), "cap_%u", c);
			name = num;
		}
		len += (size_t)snprintf(out + MIN(len, n - 1),
		    n - MIN(len, n - 1), "%s%s", len ? "," : "", name);
	}
}

/* One small /proc/sys file into buf; 0 or -errno. */
static int
priv_read_file(const char *path, char *buf, size_t n)
{
	ssize_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	len = read(fd, buf, n - 1);
	close(fd);
	if (len == -1)
		return -errno;
	buf[len] = '\0';
	return 0;
}

/* The highest capability number of the running kernel. */
static unsigned
priv_last_cap(void)
{
	char buf[32];

	if (priv_read_file("/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) ==
	    0)
		return (unsigned)strtoul(buf, NULL, 10);
	return CAP_LAST_CAP;
}

uint64_t
priv_caps_all(void)
{
	unsigned last = MIN(priv_last_cap(), 63u);

	return last == 63 ? UINT64_MAX : PRIV_CAP(last + 1) - 1;
}

int
priv_user_lookup(const char *name, struct priv_user *u)
{
	struct passwd pw, *pwp = NULL;
	char buf[16384];
	int e;

	if (name == NULL) {
		if ((e = priv_user_lookup(PRIV_USER_DEFAULT, u)) != -ENOENT)
			return e;
		name = PRIV_USER_FALLBACK;
	}
	e = getpwnam_r(name, &pw, buf, sizeof(buf), &pwp);
	if (e != 0)
		return -e;
	if (pwp == NULL)
		return -ENOENT;
	if (snprintf(u->name, sizeof(u->name), "%s", name) >=
	    (int)sizeof(u->name))
		return -ENAMETOOLONG;
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	return 0;
}

static int
priv_capset(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32),
		    (uint32_t)(inh >> 32) },
	};

	return syscall(SYS_capset, &hdr, d) == -1 ? -errno : 0;
}

uint64_t
priv_caps_effective(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &hdr, d) == -1)
		return 0;
	return (uint64_t)d[1].effective << 32 | d[0].effective;
}

/* Fill err with step and errno's text; return -e. */
static int
priv_fail(char *err, size_t errlen, const char *step, int e)
{
	snprintf(err, errlen, "%s: %s", step, strerror(e));
	return -e;
}

/*
 * The bounding set goes first, while CAP_SETPCAP is still effective; the
 * identity next, with keepcaps so that the permitted set survives the uid
 * change (setresuid clears the effective set); then the capability sets
 * themselves. The final setuid(0) must fail, or something above did not
 * take.
 */
int
priv_drop(const struct priv_user *u, uint64_t keep, char *err, size_t errlen)
{
	unsigned last = priv_last_cap();

	if (geteuid() != 0)
		return priv_fail(err, errlen, "drop", EPERM);
	if (u->uid == 0)
		return priv_fail(err, errlen, "target user is root", EINVAL);
	for (unsigned c = 0; c <= last && c < 64; c++) {
		if (keep & PRIV_CAP(c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1 && errno != EINVAL)
			return priv_fail(err, errlen, "PR_CAPBSET_DROP", errno);
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
		return priv_fail(err, errlen, "PR_SET_KEEPCAPS", errno);
	/* Supplementary groups too: e.g. ssl-cert for reading keys. */
	if (initgroups(u->name, u->gid) == -1)
		return priv_fail(err, errlen, "initgroups", errno);
	if (setresgid(u->gid, u->gid, u->gid) == -1)
		return priv_fail(err, errlen, "setresgid", errno);
	if (setresuid(u->uid, u->uid, u->uid) == -1)
		return priv_fail(err, errlen, "setresuid", errno);
	if (priv_capset(keep, keep, 0) != 0)
		return priv_fail(err, errlen, "capset", errno);
	/* Old kernels have no ambient set: nothing to clear there. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		return priv_fail(
		    err, errlen, "PR_CAP_AMBIENT_CLEAR_ALL", errno);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
		return priv_fail(err, errlen, "PR_SET_KEEPCAPS", errno);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return priv_fail(err, errlen, "PR_SET_NO_NEW_PRIVS", errno);
	if (setuid(0) != -1 || getuid() != u->uid || geteuid() != u->uid)
		return priv_fail(err, errlen, "root still reachable", EPERM);
	return 0;
}

int
priv_bound(uint64_t keep, char *err, size_t errlen)
{
	unsigned last = priv_last_cap();

	for (unsigned c = 0; c <= last && c < 64; c++) {
		if (keep & PRIV_CAP(c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1 && errno != EINVAL)
			return priv_fail(err, errlen, "PR_CAPBSET_DROP", errno);
	}
	if (priv_capset(keep, keep, 0) != 0)
		return priv_fail(err, errlen, "capset", errno);
	return 0;
}

bool
priv_ping_range_has(const char *text, gid_t gid)
{
	unsigned long lo, hi;
	char *end;

	errno = 0;
	lo = strtoul(text, &end, 10);
	if (end == text || errno != 0)
		return false;
	text = end;
	hi = strtoul(text, &end, 10);
	if (end == text || errno != 0)
		return false;
	/* "1 0", the kernel's default, is empty: lo > hi. */
	return lo <= (unsigned long)gid && (unsigned long)gid <= hi;
}

bool
priv_ping_allowed(gid_t gid)
{
	char buf[64];

	if (priv_read_file(
	        "/proc/sys/net/ipv4/ping_group_range", buf, sizeof(buf)) != 0)
		return false;
	return priv_ping_range_has(buf, gid);
}

int
priv_status_parse(const char *text, uid_t *uid, uint64_t *caps)
{
	const char *p;
	bool have_uid = false, have_caps = false;

	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, "Uid:", 4) == 0) {
			*uid = (uid_t)strtoul(p + 4, NULL, 10);
			have_uid = true;
		} else if (strncmp(p, "CapEff:", 7) == 0) {
			*caps = strtoull(p + 7, NULL, 16);
			have_caps = true;
		}
	}
	return have_uid && have_caps ? 0 : -EINVAL;
}

int
priv_proc_status(pid_t pid, uid_t *uid, uint64_t *caps)
{
	char path[64], buf[8192];
	int e;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((e = priv_read_file(path, buf, sizeof(buf))) != 0)
		return e;
	return priv_status_parse(buf, uid, caps);
}

int
priv_chown_dir(const char *dir, uid_t uid, gid_t gid)
{
	struct dirent *de;
	DIR *d;
	int dfd, e = 0;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -errno;
	if (fchown(dfd, uid, gid) == -1) {
		e = -errno;
		close(dfd);
		return e;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		e = -errno;
		close(dfd);
		return e;
	}
	while ((de = readdir(d)) != NULL) {
		/* Not following links: a link planted here stays as it is. */
		if (de->d_type == DT_REG &&
		    fchownat(dirfd(d), de->d_name, uid, gid,
		        AT_SYMLINK_NOFOLLOW) == -1 &&
		    e == 0)
			e = -errno;
	}
	closedir(d);
	return e;
}
