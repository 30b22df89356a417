/*
 * Unit tests for priv.c: the pure parsers (ping_group_range, the Uid and
 * CapEff lines of /proc/PID/status), capability names, user lookup, and,
 * when run as root, the drop itself: each test runs in its own forked
 * process (runner.c), so a test may give up root for good. After the drop
 * the process must hold exactly the kept capabilities in its effective,
 * permitted and bounding sets, have no_new_privs, and be unable to get
 * root back; a raw socket works only when CAP_NET_RAW was kept.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <linux/capability.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "lib/priv.h"
#include "lib/util.h"
#include "runner.h"

static void
test_ping_range(void)
{
	/* The kernel's default: nobody may. */
	T_ASSERT(!priv_ping_range_has("1\t0\n", 0));
	T_ASSERT(!priv_ping_range_has("1\t0\n", 1));
	T_ASSERT(priv_ping_range_has("0\t2147483647\n", 65534));
	T_ASSERT(priv_ping_range_has("100 200", 100));
	T_ASSERT(priv_ping_range_has("100 200", 200));
	T_ASSERT(!priv_ping_range_has("100 200", 99));
	T_ASSERT(!priv_ping_range_has("100 200", 201));
	T_ASSERT(!priv_ping_range_has("", 0));
	T_ASSERT(!priv_ping_range_has("5", 5));
	T_ASSERT(!priv_ping_range_has("x y", 0));
}

static void
test_status_parse(void)
{
	const char *text = "Name:\thaven-lb\nUmask:\t0022\nState:\tS\n"
	                   "Uid:\t65534\t65534\t65534\t65534\n"
	                   "Gid:\t65534\t65534\t65534\t65534\n"
	                   "CapInh:\t0000000000000000\n"
	                   "CapPrm:\t0000000000002400\n"
	                   "CapEff:\t0000000000000400\n"
	                   "CapBnd:\t000001ffffffffff\n";
	uint64_t caps = 7;
	uid_t uid = 7;

	T_EQ_INT(priv_status_parse(text, &uid, &caps), 0);
	T_EQ_INT(uid, 65534);
	/* CapEff, not CapPrm or CapBnd. */
	T_ASSERT(caps == PRIV_CAP(CAP_NET_BIND_SERVICE));
	T_EQ_INT(priv_status_parse("Uid:\t0\t0\t0\t0\n", &uid, &caps), -EINVAL);
	T_EQ_INT(priv_status_parse("CapEff:\t0\n", &uid, &caps), -EINVAL);
}

static void
test_status_of_self(void)
{
	uint64_t caps;
	uid_t uid;

	T_EQ_INT(priv_proc_status(getpid(), &uid, &caps), 0);
	T_EQ_INT(uid, getuid());
	T_ASSERT(caps == priv_caps_effective());
	T_EQ_INT(priv_proc_status(-5, &uid, &caps), -ENOENT);
}

static void
test_caps_format(void)
{
	char out[128], small[12];

	priv_caps_format(0, out, sizeof(out));
	T_EQ_STR(out, "none");
	priv_caps_format(PRIV_CAP(CAP_NET_RAW) | PRIV_CAP(CAP_NET_BIND_SERVICE),
	    out, sizeof(out));
	T_EQ_STR(out, "cap_net_bind_service,cap_net_raw");
	priv_caps_format(PRIV_CAP(63), out, sizeof(out));
	T_EQ_STR(out, "cap_63");
	/* Truncated, terminated, never past the buffer. */
	priv_caps_format(
	    PRIV_CAP(CAP_CHOWN) | PRIV_CAP(CAP_KILL), small, sizeof(small));
	T_EQ_STR(small, "cap_chown,c");
}

static void
test_cap_names_have_no_holes(void)
{
	for (unsigned c = 0; c <= CAP_LAST_CAP; c++)
		T_ASSERT(priv_cap_name(c) != NULL);
	T_EQ_STR(priv_cap_name(CAP_NET_RAW), "cap_net_raw");
	T_ASSERT(priv_cap_name(63) == NULL);
	T_ASSERT(priv_caps_all() & PRIV_CAP(CAP_NET_ADMIN));
}

static void
test_user_lookup(void)
{
	struct priv_user u;

	T_EQ_INT(priv_user_lookup("root", &u), 0);
	T_EQ_INT(u.uid, 0);
	T_EQ_INT(priv_user_lookup("no-such-user-haven-test", &u), -ENOENT);
	/* The default: haven when it exists, else nobody. */
	T_EQ_INT(priv_user_lookup(NULL, &u), 0);
	T_ASSERT(strcmp(u.name, "haven") == 0 || strcmp(u.name, "nobody") == 0);
	T_ASSERT(u.uid != 0);
}

static void
test_drop_refuses_root_target(void)
{
	struct priv_user u;
	char err[128];

	T_EQ_INT(priv_user_lookup("root", &u), 0);
	T_EQ_INT(priv_drop(&u, 0, err, sizeof(err)),
	    geteuid() == 0 ? -EINVAL : -EPERM);
}

/* Drop to nobody keeping keep; the checks every drop must pass. */
static void
test_priv_drop_to_nobody(uint64_t keep)
{
	struct priv_user u;
	uint64_t caps;
	char err[160];
	uid_t uid;

	if (geteuid() != 0)
		T_SKIP("needs root");
	T_EQ_INT(priv_user_lookup("nobody", &u), 0);
	if (priv_drop(&u, keep, err, sizeof(err)) != 0)
		test_fail(__FILE__, __LINE__, "priv_drop: %s", err);
	T_EQ_INT(getuid(), u.uid);
	T_EQ_INT(geteuid(), u.uid);
	T_EQ_INT(getgid(), u.gid);
	T_EQ_INT(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
	T_EQ_INT(priv_proc_status(getpid(), &uid, &caps), 0);
	T_EQ_INT(uid, u.uid);
	T_ASSERT(caps == keep);
	for (unsigned c = 0; c <= CAP_LAST_CAP; c++)
		T_EQ_INT(prctl(PR_CAPBSET_READ, c, 0, 0, 0),
		    (keep & PRIV_CAP(c)) != 0);
	T_EQ_INT(setuid(0), -1);
	T_EQ_INT(setgid(0), -1);
}

static void
test_drop_keeps_net_raw(void)
{
	int fd;

	test_priv_drop_to_nobody(PRIV_CAP(CAP_NET_RAW));
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	T_ASSERT(fd >= 0);
	close(fd);
}

static void
test_drop_keeps_nothing(void)
{
	int fd;

	test_priv_drop_to_nobody(0);
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	T_EQ_INT(fd, -1);
	T_EQ_INT(errno, EPERM);
	/* Files root owns and others may not write stay closed. */
	T_EQ_INT(open("/etc/shadow", O_RDONLY), -1);
	T_EQ_INT(errno, EACCES);
}

static void
test_chown_dir(void)
{
	char dir[64], path[96];
	struct stat st;
	int fd;

	if (geteuid() != 0)
		T_SKIP("needs root");
	snprintf(dir, sizeof(dir), "/tmp/haven-priv-XXXXXX");
	T_ASSERT(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/health.json", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	T_ASSERT(fd >= 0);
	close(fd);
	T_EQ_INT(priv_chown_dir(dir, 65534, 65534), 0);
	T_EQ_INT(stat(dir, &st), 0);
	T_EQ_INT(st.st_uid, 65534);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_uid, 65534);
	T_EQ_INT(st.st_gid, 65534);
	T_EQ_INT(unlink(path), 0);
	T_EQ_INT(rmdir(dir), 0);
	T_EQ_INT(priv_chown_dir(dir, 65534, 65534), -ENOENT);
}

static const struct test tests[] = {
	TEST(test_ping_range),
	TEST(test_status_parse),
	TEST(test_status_of_self),
	TEST(test_caps_format),
	TEST(test_cap_names_have_no_holes),
	TEST(test_user_lookup),
	TEST(test_drop_refuses_root_target),
	TEST(test_drop_keeps_net_raw),
	TEST(test_drop_keeps_nothing),
	TEST(test_chown_dir),
};

TEST_MAIN(tests)
