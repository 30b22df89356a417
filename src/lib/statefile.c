/*
 * statefile.c - see statefile.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "statefile.h"
#include "util.h"

int
statefile_mkdir(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return -EINVAL;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0700) == -1) {
		struct stat st;

		if (errno != EEXIST)
			return -errno;
		/* A file in its place would only fail later, at first write. */
		if (stat(path, &st) == -1)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}
	return 0;
}

int
statefile_write(const char *dir, const char *name, const void *data, size_t len)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	int fd, dfd, e;

	if (snprintf(dst, sizeof(dst), "%s/%s", dir, name) >=
	        (int)sizeof(dst) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", dir, name,
	        (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return -errno;
	if ((e = util_write_all(fd, data, len)) != 0 ||
	    (fsync(fd) == -1 && (e = -errno) != 0)) {
		close(fd);
		unlink(tmp);
		return e;
	}
	close(fd);
	if (rename(tmp, dst) == -1) {
		e = -errno;
		unlink(tmp);
		return e;
	}
	/* The rename itself must survive a crash too. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

int
statefile_read(const char *dir, const char *name, struct buf *out)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf_reserve(out, 8192), 8192);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n == -1 ? -errno : 0;

			close(fd);
			return e;
		}
		out->len += (size_t)n;
		out->data[out->len] = '\0';
	}
}
