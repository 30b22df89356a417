/*
 * snap_freeze.c - FIFREEZE/FITHAW bounded by a guard process, and hook
 * commands with a timeout (snap_freeze.h).
 *
 * The guard and the freezer share a socket pair (a pipe would raise
 * SIGPIPE in a freezer writing to a guard that already left). The freezer
 * writes 'T' once it has thawed everything itself; the guard then exits without
 * touching anything. End of file (the freezer died, was killed with its group,
 * or could not thaw) or the deadline makes the guard thaw. A thaw of a file
 * system that is not frozen fails with EINVAL: that is how the freezer
 * learns the guard thawed first (the deadline passed).
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "snap/snap_freeze.h"

#define SNAP_FREEZE_THAW_TRIES    50  /* by the freezer, then the guard */
#define SNAP_FREEZE_THAW_PAUSE_MS 100 /* between two tries */
#define SNAP_FREEZE_GUARD_TRIES   600 /* the guard's: a minute */
#define SNAP_FREEZE_HOOK_POLL_MS  10

struct snap_freeze {
	int fds[SNAP_FREEZE_MAX];     /* owned: each mount point, O_RDONLY */
	char *paths[SNAP_FREEZE_MAX]; /* owned */
	size_t n;
	size_t frozen; /* fds[0..frozen) are frozen by us */
	pid_t guard;   /* 0 when none */
	int gfd;       /* our end of the socket pair, or -1 */
};

static void
snap_freeze_pause(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Thaw one file system: 0, or -EINVAL when it was not frozen (someone,
 * the guard, thawed it), or the last error after tries failed ones, each
 * logged at error level: a file system left frozen stops every writer.
 */
static int
snap_freeze_thaw_one(int fd, const char *path, int tries)
{
	for (int i = 0; i < tries; i++) {
		if (ioctl(fd, FITHAW, 0) == 0)
			return 0;
		if (errno == EINVAL)
			return -EINVAL;
		log_err("snap thaw failed, retrying",
		    "mount=%s error=%s try=%d", log_q(path),
		    log_q(strerror(errno)), i + 1);
		if (i + 1 < tries)
			snap_freeze_pause(SNAP_FREEZE_THAW_PAUSE_MS);
	}
	return -errno;
}

/* Close every fd but 0-2 and keep[0..n) (sorted here). */
static void
snap_freeze_close_others(int *keep, size_t n)
{
	unsigned lo = 3;

	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)keep[i] > lo)
			(void)close_range(lo, (unsigned)keep[i] - 1, 0);
		if ((unsigned)keep[i] >= lo)
			lo = (unsigned)keep[i] + 1;
	}
	(void)close_range(lo, ~0u, 0);
}

static _Noreturn void
snap_freeze_guard(struct snap_freeze *f, int rfd, uint64_t deadline)
{
	int keep[SNAP_FREEZE_MAX + 1];
	const char *why = "deadline passed";
	char c;

	/* Out of the freezer's group and session: a cycle killed with its
	 * group, or a ^C at the terminal, must not kill the guard too. */
	(void)setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < f->n; i++)
		keep[i] = f->fds[i];
	keep[f->n] = rfd;
	snap_freeze_close_others(keep, f->n + 1);
	for (;;) {
		uint64_t now = util_mono_ms();
		struct pollfd p = { .fd = rfd, .events = POLLIN };
		int r;

		if (now >= deadline)
			break;
		r = poll(&p, 1, (int)MIN(deadline - now, 60000));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0)
			continue;
		if (read(rfd, &c, 1) == 1 && c == 'T')
			_exit(0); /* thawed by the freezer */
		why = "freezer gone";
		break;
	}
	for (size_t i = f->n; i-- > 0;) {
		int e = snap_freeze_thaw_one(
		    f->fds[i], f->paths[i], SNAP_FREEZE_GUARD_TRIES);

		if (e == 0)
			log_err("snap freeze guard thawed",
			    "mount=%s reason=%s", log_q(f->paths[i]), why);
		else if (e != -EINVAL)
			log_err("snap freeze guard could not thaw: file "
			        "system left frozen, run fsfreeze -u",
			    "mount=%s error=%s", log_q(f->paths[i]),
			    log_q(strerror(-e)));
	}
	_exit(0);
}

static void
snap_freeze_release(struct snap_freeze *f)
{
	for (size_t i = 0; i < f->n; i++) {
		close(f->fds[i]);
		free(f->paths[i]);
	}
	if (f->gfd != -1)
		close(f->gfd);
	free(f);
}

/* Tell the guard we thawed, and reap it (it exits at once). */
static void
snap_freeze_guard_done(struct snap_freeze *f)
{
	if (f->guard <= 0)
		return;
	/* The guard may be gone (it thawed at the deadline): no SIGPIPE. */
	(void)send(f->gfd, "T", 1, MSG_NOSIGNAL);
	close(f->gfd);
	f->gfd = -1;
	while (waitpid(f->guard, NULL, 0) == -1 && errno == EINTR)
		;
	f->guard = 0;
}

/* True when fd is the root of a mount. */
static int
snap_freeze_is_mount(int fd, const char *path, char *err, size_t errlen)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)) {
		snprintf(err, errlen,
		    "%s: the kernel does not say whether this is a mount "
		    "point (statx)",
		    path);
		return -EOPNOTSUPP;
	}
	if (!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
		snprintf(err, errlen,
		    "%s: not a mount point (freeze names the mount point of "
		    "the file system)",
		    path);
		return -EINVAL;
	}
	return 0;
}

/* Open and check the mount points into f. */
static int
snap_freeze_open(struct snap_freeze *f, const char *const *mounts, size_t n,
    const char *store, char *err, size_t errlen)
{
	struct stat sb, ss;
	dev_t devs[SNAP_FREEZE_MAX];
	bool have_store = store != NULL && stat(store, &ss) == 0;
	int e;

	if (n == 0 || n > SNAP_FREEZE_MAX) {
		snprintf(err, errlen, "freeze: 1 to %d mount points",
		    SNAP_FREEZE_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		int fd = open(mounts[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd == -1) {
			e = -errno;
			snprintf(err, errlen, "freeze %s: %s", mounts[i],
			    strerror(errno));
			return e;
		}
		f->fds[f->n] = fd;
		f->paths[f->n++] = xstrdup(mounts[i]);
		if ((e = snap_freeze_is_mount(fd, mounts[i], err, errlen)) != 0)
			return e;
		if (fstat(fd, &sb) == -1) {
			e = -errno;
			snprintf(err, errlen, "freeze %s: %s", mounts[i],
			    strerror(errno));
			return e;
		}
		devs[i] = sb.st_dev;
		for (size_t j = 0; j < i; j++)
			if (devs[j] == sb.st_dev) {
				snprintf(err, errlen,
				    "freeze: %s and %s are one file system",
				    mounts[j], mounts[i]);
				return -EINVAL;
			}
		if (have_store && ss.st_dev == sb.st_dev) {
			snprintf(err, errlen,
			    "freeze %s: the store %s is on that file system "
			    "(its writes would block until the thaw); put "
			    "the store elsewhere",
			    mounts[i], store);
			return -EINVAL;
		}
	}
	return 0;
}

int
snap_freeze_begin(const char *const *mounts, size_t n, const char *store,
    uint64_t timeout_ms, struct snap_freeze **out, char *err, size_t errlen)
{
	struct snap_freeze *f = xcalloc(1, sizeof(*f));
	uint64_t deadline = util_mono_ms() + timeout_ms;
	int p[2], e;

	f->gfd = -1;
	*out = NULL;
	if ((e = snap_freeze_open(f, mounts, n, store, err, errlen)) != 0)
		goto fail;
	/* The guard first: from the first FIFREEZE on, something thaws. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) == -1) {
		e = -errno;
		snprintf(
		    err, errlen, "freeze: socketpair: %s", strerror(errno));
		goto fail;
	}
	f->guard = fork();
	if (f->guard == 0) {
		close(p[1]);
		snap_freeze_guard(f, p[0], deadline);
	}
	close(p[0]);
	f->gfd = p[1];
	if (f->guard == -1) {
		e = -errno;
		f->guard = 0;
		snprintf(err, errlen, "freeze: fork: %s", strerror(errno));
		goto fail;
	}
	for (; f->frozen < f->n; f->frozen++) {
		if (ioctl(f->fds[f->frozen], FIFREEZE, 0) == 0)
			continue;
		e = -errno;
		snprintf(err, errlen, "freeze %s: %s", f->paths[f->frozen],
		    errno == EBUSY     ? "frozen already" :
		        errno == EPERM ? "not permitted (needs CAP_SYS_ADMIN)" :
		        errno == EOPNOTSUPP ?
		                         "the file system cannot be frozen" :
		                         strerror(errno));
		goto fail;
	}
	*out = f;
	return 0;
fail:
	/* Thaw what we froze; the guard does it if we cannot. */
	while (f->frozen > 0) {
		int t;

		f->frozen--;
		t = snap_freeze_thaw_one(f->fds[f->frozen], f->paths[f->frozen],
		    SNAP_FREEZE_THAW_TRIES);
		if (t != 0 && t != -EINVAL)
			f->guard = 0; /* leave it to the guard: no 'T' */
	}
	if (f->guard > 0)
		snap_freeze_guard_done(f);
	snap_freeze_release(f);
	return e;
}

int
snap_freeze_end(struct snap_freeze *f, char *err, size_t errlen)
{
	bool lost = false, stuck = false;

	for (size_t i = f->frozen; i-- > 0;) {
		int e = snap_freeze_thaw_one(
		    f->fds[i], f->paths[i], SNAP_FREEZE_THAW_TRIES);

		if (e == -EINVAL)
			lost = true;
		else if (e != 0)
			stuck = true;
	}
	if (stuck) {
		/* Close our end without 'T': the guard keeps trying. */
		snprintf(err, errlen,
		    "thaw failed after %d tries; the guard keeps trying",
		    SNAP_FREEZE_THAW_TRIES);
		snap_freeze_release(f);
		return -EIO;
	}
	snap_freeze_guard_done(f);
	snap_freeze_release(f);
	if (lost) {
		snprintf(err, errlen,
		    "the freeze outlasted its timeout: the guard thawed the "
		    "file system while the snapshot was read");
		return -ETIMEDOUT;
	}
	return 0;
}

/* environ plus env (an env name overrides ours). Caller frees the array. */
static char **
snap_freeze_env(char *const *env)
{
	size_t n = 0, m = 0, k = 0;
	char **out;

	while (environ[n] != NULL)
		n++;
	while (env != NULL && env[m] != NULL)
		m++;
	out = xcalloc(n + m + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t len = eq != NULL ? (size_t)(eq - environ[i]) + 1 : 0;
		bool over = false;

		for (size_t j = 0; len > 0 && j < m; j++)
			if (strncmp(env[j], environ[i], len) == 0)
				over = true;
		if (!over)
			out[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		out[k++] = env[j];
	return out;
}

static _Noreturn void
snap_freeze_hook_child(char *const *argv, char **envp, pid_t parent)
{
	sigset_t all;
	int fd;

	(void)setpgid(0, 0);
	/* In its own group, a cycle killed with its group would not take
	 * the hook along: it dies with its parent instead. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	/* The plane blocks signals for its signalfd: not the hook's. */
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	if ((fd = open("/dev/null", O_RDONLY)) != -1 && fd != 0) {
		(void)dup2(fd, 0);
		close(fd);
	}
	(void)dup2(2, 1);
	(void)close_range(3, ~0u, 0);
	execvpe(argv[0], argv, envp);
	fprintf(stderr, "haven snap hook: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int
snap_freeze_hook(char *const *argv, char *const *env, uint64_t timeout_ms,
    char *err, size_t errlen)
{
	uint64_t deadline = util_mono_ms() + timeout_ms;
	char **envp;
	pid_t pid, r, self;
	int st = 0, e;

	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
		snprintf(err, errlen, "empty hook command");
		return -EINVAL;
	}
	envp = snap_freeze_env(env);
	self = getpid();
	pid = fork();
	if (pid == 0)
		snap_freeze_hook_child(argv, envp, self);
	e = -errno;
	free(envp);
	if (pid == -1) {
		snprintf(err, errlen, "%s: fork: %s", argv[0], strerror(-e));
		return e;
	}
	(void)setpgid(pid, pid); /* both sides: kill(-pid) works at once */
	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r == -1 && errno != EINTR) {
			e = -errno;
			snprintf(err, errlen, "%s: waitpid: %s", argv[0],
			    strerror(errno));
			return e;
		}
		if (util_mono_ms() >= deadline) {
			(void)kill(-pid, SIGKILL);
			(void)kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			snprintf(err, errlen, "%s: killed after %llu ms",
			    argv[0], (unsigned long long)timeout_ms);
			return -ETIMEDOUT;
		}
		snap_freeze_pause(SNAP_FREEZE_HOOK_POLL_MS);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		snprintf(err, errlen, "%s: exit status %d", argv[0],
		    WEXITSTATUS(st));
	else
		snprintf(err, errlen, "%s: killed by signal %d", argv[0],
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return -ECHILD;
}
