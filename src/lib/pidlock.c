/*
 * pidlock.c - see pidlock.h.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidlock.h"

static int
pidlock_path(const char *dir, char *out, size_t n)
{
	if (snprintf(out, n, "%s/%s", dir, PIDLOCK_NAME) >= (int)n)
		return -ENAMETOOLONG;
	return 0;
}

static pid_t
pidlock_read_fd(int fd)
{
	char text[32];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	char *end;
	long v;

	if (n <= 0)
		return 0;
	text[n] = '\0';
	v = strtol(text, &end, 10);
	/* The holder may be between ftruncate and write: no pid yet. */
	if (end == text || (*end != '\n' && *end != '\0') || v <= 0 ||
	    v > INT_MAX)
		return 0;
	return (pid_t)v;
}

pid_t
pidlock_read(const char *dir)
{
	char path[PATH_MAX];
	pid_t pid;
	int fd;

	if (pidlock_path(dir, path, sizeof(path)) != 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	pid = pidlock_read_fd(fd);
	close(fd);
	return pid;
}

int
pidlock_acquire(const char *dir, pid_t *holder)
{
	char path[PATH_MAX], text[32];
	int fd, e, n;

	*holder = 0;
	if ((e = pidlock_path(dir, path, sizeof(path))) != 0)
		return e;
	/*
	 * Never O_TRUNC before the lock is ours: that would erase the
	 * running daemon's pid, the one thing a second daemon must print.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1)
		return -errno;
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EINTR)
			continue;
		e = -errno;
		if (e == -EWOULDBLOCK)
			*holder = pidlock_read_fd(fd);
		close(fd);
		return e;
	}
	n = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, text, (size_t)n, 0) != n) {
		e = errno ? -errno : -EIO;
		close(fd);
		return e;
	}
	return fd;
}
