/*
 * runner.h - the in-house unit test runner.
 *
 * A suite is a table of named test functions handed to test_main(). Each test
 * runs in its own forked process with a timeout, so a crash or a hang fails
 * that test alone. Output is TAP; the last line is
 * "N passed, N failed, N skipped". A test passes by returning, fails through
 * a T_* assertion (or any crash), and skips through T_SKIP.
 *
 * Usage: test_foo [-t NAME]   run one test; HAVEN_TEST_TIMEOUT (s) overrides
 * the per-test timeout of 30 s.
 */
#ifndef HAVEN_TEST_RUNNER_H
#define HAVEN_TEST_RUNNER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test {
	const char *name;
	void (*fn)(void);
};

#define TEST(fn) { #fn, fn }

int test_main(int argc, char **argv, const struct test *tests, size_t n);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
void test_skip(const char *reason) __attribute__((noreturn));

#define T_ASSERT(c)                                                  \
	do {                                                         \
		if (!(c))                                            \
			test_fail(__FILE__, __LINE__, "%s", #c);     \
	} while (0)
#define T_EQ_INT(a, b)                                                    \
	do {                                                              \
		long long _a = (long long)(a), _b = (long long)(b);       \
		if (_a != _b)                                             \
			test_fail(__FILE__, __LINE__, "%s == %lld, want %lld", \
			    #a, _a, _b);                                  \
	} while (0)
#define T_EQ_STR(a, b)                                                    \
	do {                                                              \
		const char *_a = (a), *_b = (b);                          \
		if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0)      \
			test_fail(__FILE__, __LINE__,                     \
			    "%s == \"%s\", want \"%s\"", #a,              \
			    _a ? _a : "(null)", _b ? _b : "(null)");      \
	} while (0)
#define T_SKIP(reason) test_skip(reason)

#define TEST_MAIN(tbl)                                              \
	int main(int argc, char **argv)                             \
	{                                                           \
		return test_main(argc, argv, tbl,                   \
		    sizeof(tbl) / sizeof((tbl)[0]));                \
	}

#endif
