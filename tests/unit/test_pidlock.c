/*
 * Unit tests for pidlock.c: the first taker writes its pid, a second open
 * file description is refused and told that pid, a release lets the next
 * one in (over the leftover file), and a path that cannot be created is an
 * error, not a lock. flock(2) conflicts between two opens of one process, so
 * one process plays both daemons.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "lib/pidlock.h"
#include "lib/util.h"
#include "runner.h"

static char test_pidlock_dir[64];

static const char *
test_pidlock_tmpdir(void)
{
	snprintf(test_pidlock_dir, sizeof(test_pidlock_dir),
	    "/tmp/haven-pidlock-XXXXXX");
	T_ASSERT(mkdtemp(test_pidlock_dir) != NULL);
	return test_pidlock_dir;
}

static void
test_pidlock_cleanup(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, PIDLOCK_NAME);
	(void)unlink(path);
	T_EQ_INT(rmdir(dir), 0);
}

static void
test_second_refused_with_pid(void)
{
	const char *dir = test_pidlock_tmpdir();
	pid_t holder = -1;
	int fd1, fd2;

	fd1 = pidlock_acquire(dir, &holder);
	T_ASSERT(fd1 >= 0);
	T_EQ_INT(holder, 0);
	T_EQ_INT(pidlock_read(dir), getpid());
	fd2 = pidlock_acquire(dir, &holder);
	T_EQ_INT(fd2, -EWOULDBLOCK);
	T_EQ_INT(holder, getpid());
	/* The refused attempt must not have erased the holder's pid. */
	T_EQ_INT(pidlock_read(dir), getpid());
	close(fd1);
	test_pidlock_cleanup(dir);
}

static void
test_release_then_retake_over_stale_file(void)
{
	const char *dir = test_pidlock_tmpdir();
	char path[128];
	pid_t holder;
	int fd;

	/* A dead daemon's file, longer than our pid: must be replaced. */
	snprintf(path, sizeof(path), "%s/%s", dir, PIDLOCK_NAME);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	T_ASSERT(fd >= 0);
	T_EQ_INT(write(fd, "999999999\n", 10), 10);
	close(fd);
	fd = pidlock_acquire(dir, &holder);
	T_ASSERT(fd >= 0);
	T_EQ_INT(pidlock_read(dir), getpid());
	close(fd);
	fd = pidlock_acquire(dir, &holder);
	T_ASSERT(fd >= 0);
	close(fd);
	test_pidlock_cleanup(dir);
}

static void
test_garbage_pid_reads_zero(void)
{
	const char *dir = test_pidlock_tmpdir();
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, PIDLOCK_NAME);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	T_ASSERT(fd >= 0);
	T_EQ_INT(write(fd, "12ab\n", 5), 5);
	close(fd);
	T_EQ_INT(pidlock_read(dir), 0);
	test_pidlock_cleanup(dir);
}

static void
test_missing_dir_is_error(void)
{
	pid_t holder;

	T_EQ_INT(pidlock_acquire("/nonexistent-haven-dir/x", &holder), -ENOENT);
	T_EQ_INT(pidlock_read("/nonexistent-haven-dir/x"), 0);
}

static const struct test tests[] = {
	TEST(test_second_refused_with_pid),
	TEST(test_release_then_retake_over_stale_file),
	TEST(test_garbage_pid_reads_zero),
	TEST(test_missing_dir_is_error),
};

TEST_MAIN(tests)
