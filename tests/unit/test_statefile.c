/*
 * Unit tests for statefile.c: mkdir -p with a private leaf, atomic replace
 * (a reader never sees a torn file: the old inode stays intact until the new
 * one is renamed over it), read back, and failures that leave nothing behind.
 * Every test works in its own mkdtemp() directory under /tmp.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>

#include "lib/statefile.h"
#include "lib/util.h"
#include "runner.h"

static char test_sf_root[64];

static const char *
test_sf_tmpdir(void)
{
	snprintf(test_sf_root, sizeof(test_sf_root), "/tmp/haven-sf-XXXXXX");
	T_ASSERT(mkdtemp(test_sf_root) != NULL);
	return test_sf_root;
}

static int
test_sf_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

/* Remove the test's directory; left in place when a test fails. */
static void
test_sf_cleanup(void)
{
	T_EQ_INT(nftw(test_sf_root, test_sf_rm, 8, FTW_DEPTH | FTW_PHYS), 0);
}

/* Entries of dir other than . and .. */
static int
test_sf_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	T_ASSERT(d != NULL);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_mkdir_parents(void)
{
	const char *root = test_sf_tmpdir();
	char *dir = xasprintf("%s/a/b/state", root);
	char *file = xasprintf("%s/plain", root);
	char *under = xasprintf("%s/plain/sub", root);
	struct stat st;
	int fd;

	T_EQ_INT(statefile_mkdir(dir), 0);
	T_ASSERT(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
	/* The leaf holds state: nobody else may read it. */
	T_EQ_INT(st.st_mode & 0777, 0700);
	/* Existing: fine, and a trailing slash too. */
	T_EQ_INT(statefile_mkdir(dir), 0);
	free(dir);
	dir = xasprintf("%s/a/b/state/", root);
	T_EQ_INT(statefile_mkdir(dir), 0);

	T_EQ_INT(statefile_mkdir(""), -EINVAL);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	T_ASSERT(fd != -1);
	close(fd);
	T_EQ_INT(statefile_mkdir(under), -ENOTDIR);
	/* A file where the directory should be is not a state directory. */
	T_EQ_INT(statefile_mkdir(file), -ENOTDIR);
	free(dir);
	free(file);
	free(under);
	test_sf_cleanup();
}

static void
test_write_read_roundtrip(void)
{
	const char *dir = test_sf_tmpdir();
	const char data[] = "health\0with\0nuls\n";
	char *path = xasprintf("%s/health.json", dir);
	struct stat st;
	struct buf b;

	T_EQ_INT(statefile_write(dir, "health.json", data, sizeof(data)), 0);
	T_ASSERT(stat(path, &st) == 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	T_EQ_INT(st.st_size, sizeof(data));
	/* No temporary file stays behind. */
	T_EQ_INT(test_sf_entries(dir), 1);

	buf_init(&b);
	buf_puts(&b, "prefix:");
	T_EQ_INT(statefile_read(dir, "health.json", &b), 0);
	T_EQ_INT(b.len, 7 + sizeof(data));
	T_ASSERT(memcmp(b.data, "prefix:", 7) == 0);
	T_ASSERT(memcmp(b.data + 7, data, sizeof(data)) == 0);
	T_ASSERT(b.data[b.len] == '\0');

	/* Shorter contents replace, not overlay, the old ones. */
	T_EQ_INT(statefile_write(dir, "health.json", "{}", 2), 0);
	buf_consume(&b, b.len);
	T_EQ_INT(statefile_read(dir, "health.json", &b), 0);
	T_EQ_STR(b.data, "{}");

	/* Empty is a valid state. */
	T_EQ_INT(statefile_write(dir, "empty", "", 0), 0);
	buf_consume(&b, b.len);
	T_EQ_INT(statefile_read(dir, "empty", &b), 0);
	T_EQ_INT(b.len, 0);
	buf_fini(&b);
	free(path);
	test_sf_cleanup();
}

static void
test_large_file(void)
{
	const char *dir = test_sf_tmpdir();
	size_t len = 1 << 20;
	char *data = xmalloc(len);
	struct buf b;

	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 7 + i / 251);
	T_EQ_INT(statefile_write(dir, "big", data, len), 0);
	buf_init(&b);
	T_EQ_INT(statefile_read(dir, "big", &b), 0);
	T_EQ_INT(b.len, len);
	T_ASSERT(memcmp(b.data, data, len) == 0);
	buf_fini(&b);
	free(data);
	test_sf_cleanup();
}

/* A reader with the old file open keeps reading the old bytes, whole. */
static void
test_replace_is_atomic(void)
{
	const char *dir = test_sf_tmpdir();
	char *path = xasprintf("%s/vrrp", dir);
	char got[64];
	struct stat before, after;
	ssize_t n;
	int fd;

	T_EQ_INT(statefile_write(dir, "vrrp", "state=master\n", 13), 0);
	fd = open(path, O_RDONLY);
	T_ASSERT(fd != -1);
	T_ASSERT(fstat(fd, &before) == 0);
	T_EQ_INT(statefile_write(dir, "vrrp", "state=backup prio=90\n", 21), 0);
	n = pread(fd, got, sizeof(got) - 1, 0);
	T_EQ_INT(n, 13);
	got[n] = '\0';
	T_EQ_STR(got, "state=master\n");
	T_ASSERT(stat(path, &after) == 0);
	T_ASSERT(after.st_ino != before.st_ino);
	T_EQ_INT(after.st_size, 21);
	close(fd);
	free(path);
	test_sf_cleanup();
}

static void
test_failures(void)
{
	const char *dir = test_sf_tmpdir();
	char *missing = xasprintf("%s/nope", dir);
	char *sub = xasprintf("%s/taken", dir);
	char longname[5000];
	struct buf b;

	buf_init(&b);
	T_EQ_INT(statefile_read(dir, "absent", &b), -ENOENT);
	T_EQ_INT(b.len, 0);
	T_EQ_INT(statefile_write(missing, "x", "1", 1), -ENOENT);

	/* A directory in the way: the write fails and cleans up. */
	T_ASSERT(mkdir(sub, 0700) == 0);
	T_ASSERT(statefile_write(dir, "taken", "1", 1) < 0);
	T_EQ_INT(test_sf_entries(dir), 1);
	T_ASSERT(statefile_read(dir, "taken", &b) < 0);

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	T_EQ_INT(statefile_write(dir, longname, "1", 1), -ENAMETOOLONG);
	T_EQ_INT(statefile_read(dir, longname, &b), -ENAMETOOLONG);
	buf_fini(&b);
	free(missing);
	free(sub);
	test_sf_cleanup();
}

static const struct test tests[] = {
	TEST(test_mkdir_parents),
	TEST(test_write_read_roundtrip),
	TEST(test_large_file),
	TEST(test_replace_is_atomic),
	TEST(test_failures),
};

TEST_MAIN(tests)
