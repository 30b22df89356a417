/*
 * Unit tests for snap_freeze.c's parts that need no root: hooks (exit
 * status, timeout, environment, argv without a shell, a missing program)
 * and the refusals made before anything is frozen (not a mount point, one
 * file system named twice, the store on the frozen file system). The
 * freeze itself needs root and a loop mount: tests/integ/test_snap_freeze.py.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "runner.h"
#include "snap/snap_freeze.h"

static int
hook(const char *a0, const char *a1, const char *a2, char *const *env,
    uint64_t timeout_ms, char *err, size_t errlen)
{
	char *argv[] = { (char *)a0, (char *)a1, (char *)a2, NULL };

	return snap_freeze_hook(argv, env, timeout_ms, err, errlen);
}

static void
test_hook_status(void)
{
	char err[256];

	T_EQ_INT(
	    hook("/bin/true", NULL, NULL, NULL, 5000, err, sizeof(err)), 0);
	T_EQ_INT(
	    hook("false", NULL, NULL, NULL, 5000, err, sizeof(err)), -ECHILD);
	T_ASSERT(strstr(err, "exit status 1") != NULL);
	T_EQ_INT(
	    hook("/nonexistent/hook", NULL, NULL, NULL, 5000, err, sizeof(err)),
	    -ECHILD);
	T_ASSERT(strstr(err, "exit status 127") != NULL);
	T_EQ_INT(hook("", NULL, NULL, NULL, 5000, err, sizeof(err)), -EINVAL);
}

static void
test_hook_timeout(void)
{
	char err[256];
	uint64_t t0 = util_mono_ms();

	T_EQ_INT(hook("/bin/sleep", "10", NULL, NULL, 200, err, sizeof(err)),
	    -ETIMEDOUT);
	T_ASSERT(util_mono_ms() - t0 < 5000);
	T_ASSERT(strstr(err, "killed after 200 ms") != NULL);
}

static void
test_hook_env_and_argv(void)
{
	char *env[] = { "HAVEN_SNAP_VOLUME=vm1", "HAVEN_T_X=a b", NULL };
	char err[256];

	/* Our variables are added; the argument is one word, no shell
	 * splitting it. */
	T_EQ_INT(hook("/bin/sh", "-c",
	             "test \"$HAVEN_SNAP_VOLUME\" = vm1 && "
	             "test \"$HAVEN_T_X\" = 'a b' && test -n \"$PATH\"",
	             env, 5000, err, sizeof(err)),
	    0);
	/* A value of ours replaces the inherited one. */
	T_EQ_INT(setenv("HAVEN_T_X", "old", 1), 0);
	T_EQ_INT(hook("/bin/sh", "-c", "test \"$HAVEN_T_X\" = 'a b'", env, 5000,
	             err, sizeof(err)),
	    0);
	/* stdin is /dev/null. */
	T_EQ_INT(
	    hook("/bin/sh", "-c", "! read x", NULL, 5000, err, sizeof(err)), 0);
}

static void
test_freeze_refusals(void)
{
	const char *root[] = { "/" }, *twice[] = { "/", "/" };
	char dir[] = "/tmp/haven-freeze-XXXXXX", err[512];
	const char *sub[1];
	struct snap_freeze *f = NULL;

	T_ASSERT(mkdtemp(dir) != NULL);
	sub[0] = dir;
	/* A fresh subdirectory is never a mount point. */
	T_EQ_INT(snap_freeze_begin(sub, 1, NULL, 1000, &f, err, sizeof(err)),
	    -EINVAL);
	T_ASSERT(strstr(err, "not a mount point") != NULL);
	T_ASSERT(f == NULL);
	/* The store on the file system to freeze: refused before freezing
	 * (these never reach FIFREEZE, so running as root is safe). */
	T_EQ_INT(snap_freeze_begin(root, 1, "/", 1000, &f, err, sizeof(err)),
	    -EINVAL);
	/* (In a chroot "/" may not be a mount root: refused for that.) */
	T_ASSERT(strstr(err, "is on that file system") != NULL ||
	    strstr(err, "not a mount point") != NULL);
	T_EQ_INT(snap_freeze_begin(twice, 2, NULL, 1000, &f, err, sizeof(err)),
	    -EINVAL);
	T_ASSERT(strstr(err, "one file system") != NULL ||
	    strstr(err, "not a mount point") != NULL);
	T_EQ_INT(snap_freeze_begin(root, 0, NULL, 1000, &f, err, sizeof(err)),
	    -EINVAL);
	T_ASSERT(f == NULL);
	rmdir(dir);
}

static const struct test tests[] = {
	TEST(test_hook_status),
	TEST(test_hook_timeout),
	TEST(test_hook_env_and_argv),
	TEST(test_freeze_refusals),
};

TEST_MAIN(tests)
