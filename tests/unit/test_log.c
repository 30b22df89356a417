/*
 * Unit tests for log.c: the logfmt line shape, quoting with log_q(), level
 * filtering and per-message rate limiting.
 *
 * stderr is redirected into a memfd so each test reads back exactly the
 * bytes log_msg() wrote. The rate-limit window is one second of the
 * monotonic clock; instead of sleeping, the test that crosses a window forks
 * a child into a time namespace whose monotonic clock runs 2 s ahead, so the
 * child sees the window as expired with the parent's limiter state intact.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <regex.h>
#include <sched.h>
#include <unistd.h>

#include "lib/log.h"
#include "runner.h"

static int test_log_fd = -1; /* owned: memfd behind stderr */
static char test_log_out[65536];

/* Send stderr to a fresh memfd. */
static void
test_log_capture(void)
{
	test_log_fd = memfd_create("test-log", MFD_CLOEXEC);
	T_ASSERT(test_log_fd != -1);
	T_ASSERT(dup2(test_log_fd, STDERR_FILENO) == STDERR_FILENO);
}

/* What was logged since the last call, NUL-terminated. */
static const char *
test_log_take(void)
{
	ssize_t n =
	    pread(test_log_fd, test_log_out, sizeof(test_log_out) - 1, 0);

	T_ASSERT(n >= 0);
	test_log_out[n] = '\0';
	/* stderr shares the file offset with test_log_fd: both restart. */
	T_ASSERT(ftruncate(test_log_fd, 0) == 0);
	T_ASSERT(lseek(test_log_fd, 0, SEEK_SET) == 0);
	return test_log_out;
}

static int
test_log_count(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void
test_line_shape(void)
{
	regex_t re;
	const char *out;

	test_log_capture();
	log_set_plane("hc");
	log_info("check down", "check=%s reason=%s", "web1",
	    log_q("connect refused"));
	out = test_log_take();
	T_ASSERT(regcomp(&re,
	             "^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
	             "\\.[0-9]{3}Z level=info plane=hc msg=\"check down\" "
	             "check=web1 reason=\"connect refused\"\n$",
	             REG_EXTENDED) == 0);
	if (regexec(&re, out, 0, NULL, 0) != 0)
		test_fail(__FILE__, __LINE__, "bad line: %s", out);
	regfree(&re);

	/* A one-word message stays bare. */
	log_warn("stopping", "signal=%d", 15);
	out = test_log_take();
	T_ASSERT(strstr(out, " level=warn plane=hc msg=stopping signal=15\n"));
}

static void
test_level_filter(void)
{
	const char *out;

	test_log_capture();
	log_set_level(LOG_WARN);
	T_EQ_INT(log_get_level(), LOG_WARN);
	log_debug("dbg line", "k=%d", 1);
	log_info("info line", "k=%d", 2);
	T_EQ_STR(test_log_take(), "");
	log_warn("warn line", "k=%d", 3);
	log_err("err line", "k=%d", 4);
	out = test_log_take();
	T_EQ_INT(test_log_count(out, "\n"), 2);
	T_ASSERT(strstr(out, "level=warn") && strstr(out, "level=error"));
	log_set_level(LOG_DEBUG);
	log_debug("dbg line", "k=%d", 5);
	T_ASSERT(strstr(test_log_take(), "level=debug"));
}

static void
test_level_names(void)
{
	T_EQ_INT(log_level_parse("debug"), LOG_DEBUG);
	T_EQ_INT(log_level_parse("info"), LOG_INFO);
	T_EQ_INT(log_level_parse("notice"), LOG_NOTICE);
	T_EQ_INT(log_level_parse("warn"), LOG_WARN);
	T_EQ_INT(log_level_parse("warning"), LOG_WARN);
	T_EQ_INT(log_level_parse("error"), LOG_ERR);
	T_EQ_INT(log_level_parse("err"), LOG_ERR);
	T_EQ_INT(log_level_parse("INFO"), -1);
	T_EQ_INT(log_level_parse(""), -1);
	T_EQ_STR(log_level_name(LOG_ERR), "error");
	T_EQ_STR(log_level_name((enum log_level)42), "?");
}

static void
test_quote(void)
{
	const char *plain = "web1:8080/path";
	char long_in[1200];
	const char *q;

	/* Nothing to quote: the caller's own string comes back. */
	T_ASSERT(log_q(plain) == plain);
	T_EQ_STR(log_q(""), "\"\"");
	T_EQ_STR(log_q("a b"), "\"a b\"");
	T_EQ_STR(log_q("k=v"), "\"k=v\"");
	T_EQ_STR(log_q("say \"hi\""), "\"say \\\"hi\\\"\"");
	T_EQ_STR(log_q("c:\\tmp"), "\"c:\\\\tmp\"");
	T_EQ_STR(log_q("two\nlines"), "\"two\\nlines\"");
	T_EQ_STR(log_q("bell\a"), "\"bell?\"");

	/* Long values are cut, but the quotes stay balanced. */
	memset(long_in, '"', sizeof(long_in) - 1);
	long_in[sizeof(long_in) - 1] = '\0';
	q = log_q(long_in);
	T_ASSERT(strlen(q) < 512);
	T_ASSERT(q[0] == '"' && q[strlen(q) - 1] == '"' &&
	    q[strlen(q) - 2] == '"' && q[strlen(q) - 3] == '\\');
}

static void
test_quote_buffers_rotate(void)
{
	const char *r[8];
	char in[8][8];

	for (int i = 0; i < 8; i++) {
		snprintf(in[i], sizeof(in[i]), "v %d", i);
		r[i] = log_q(in[i]);
	}
	/* Eight results in one line must all still be intact. */
	for (int i = 0; i < 8; i++) {
		char want[16];

		snprintf(want, sizeof(want), "\"v %d\"", i);
		T_EQ_STR(r[i], want);
	}
}

static void
test_long_line_is_one_line(void)
{
	char big[3000];
	const char *out;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	test_log_capture();
	log_info("big", "v=%s", big);
	out = test_log_take();
	T_ASSERT(strlen(out) < 2048);
	T_EQ_INT(test_log_count(out, "\n"), 1);
	T_ASSERT(out[strlen(out) - 1] == '\n');
}

/* Log msg n times from one call site (one literal address). */
static void
test_log_burst(int n)
{
	for (int i = 0; i < n; i++)
		log_info("burst", "i=%d", i);
}

/* Runs in a child whose monotonic clock is 2 s ahead of the parent's. */
static void
test_log_after_window(void)
{
	const char *out;

	test_log_take();
	test_log_burst(1);
	out = test_log_take();
	T_EQ_INT(test_log_count(out, "\n"), 1);
	T_ASSERT(strstr(out, "i=0 suppressed=15\n") != NULL);
	/* A fresh budget, and no stale count on the next line. */
	test_log_burst(LOG_BURST - 1);
	out = test_log_take();
	T_EQ_INT(test_log_count(out, "\n"), LOG_BURST - 1);
	T_EQ_INT(test_log_count(out, "suppressed="), 0);
	_exit(0);
}

static void
test_rate_limit(void)
{
	const char *out;
	pid_t pid;
	int fd, st;

	test_log_capture();
	test_log_burst(LOG_BURST + 15);
	out = test_log_take();
	T_EQ_INT(test_log_count(out, "\n"), LOG_BURST);
	T_EQ_INT(test_log_count(out, "suppressed="), 0);
	T_EQ_INT(log_suppressed_total(), 15);
	/* Another message has its own budget. */
	log_info("other", "k=%d", 1);
	T_EQ_INT(test_log_count(test_log_take(), "msg=other"), 1);

	if (unshare(CLONE_NEWTIME) == -1)
		T_SKIP("no time namespace (need CAP_SYS_ADMIN)");
	fd = open("/proc/self/timens_offsets", O_WRONLY);
	T_ASSERT(fd != -1);
	T_ASSERT(write(fd, "monotonic 2 0", 13) == 13);
	close(fd);
	if ((pid = fork()) == 0)
		test_log_after_window();
	T_ASSERT(pid > 0);
	T_ASSERT(waitpid(pid, &st, 0) == pid);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/*
 * Two messages whose addresses share a rate-limit slot, alternating: each
 * is still repeated 30 times within a second, so lines must be suppressed.
 */
static void
test_rate_limit_collision(void)
{
	static char arena[1024] __attribute__((aligned(64)));
	char *a = arena, *b = arena + 512; /* 512 >> 3 == 64 slots apart */
	const char *out;

	strcpy(a, "alpha");
	strcpy(b, "beta");
	test_log_capture();
	for (int i = 0; i < 30; i++) {
		log_msg(LOG_INFO, a, "i=%d", i);
		log_msg(LOG_INFO, b, "i=%d", i);
	}
	out = test_log_take();
	T_ASSERT(test_log_count(out, "msg=alpha") <= LOG_BURST);
	T_ASSERT(test_log_count(out, "msg=beta") <= LOG_BURST);
	T_ASSERT(log_suppressed_total() >= 60 - 2 * LOG_BURST);
}

static const struct test tests[] = {
	TEST(test_line_shape),
	TEST(test_level_filter),
	TEST(test_level_names),
	TEST(test_quote),
	TEST(test_quote_buffers_rotate),
	TEST(test_long_line_is_one_line),
	TEST(test_rate_limit),
	TEST(test_rate_limit_collision),
};

TEST_MAIN(tests)
