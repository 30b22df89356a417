/*
 * runner.c - see runner.h. Exit status of a test process: 0 pass, 77 skip,
 * anything else (or a signal) fail.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdarg.h>
#include <unistd.h>

#include "runner.h"

#define RUNNER_SKIP 77

void
test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "# %s:%d: assertion failed: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	_exit(1);
}

void
test_skip(const char *reason)
{
	printf("# skip: %s\n", reason);
	fflush(stdout);
	_exit(RUNNER_SKIP);
}

static int
runner_one(const struct test *t, unsigned timeout)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) == -1) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		alarm(timeout);
		t->fn();
		fflush(stdout);
		exit(0);
	}
	while (waitpid(pid, &st, 0) == -1)
		;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	printf("# killed by signal %d%s\n", WTERMSIG(st),
	    WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
	return 1;
}

int
test_main(int argc, char **argv, const struct test *tests, size_t n)
{
	const char *only = NULL, *env = getenv("HAVEN_TEST_TIMEOUT");
	unsigned timeout = env ? (unsigned)atoi(env) : 30;
	unsigned pass = 0, fail = 0, skip = 0, num = 0;
	int c;

	while ((c = getopt(argc, argv, "t:")) != -1) {
		if (c != 't') {
			fprintf(stderr, "usage: %s [-t TEST]\n", argv[0]);
			return 2;
		}
		only = optarg;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n", only ? (size_t)1 : n);
	for (size_t i = 0; i < n; i++) {
		int r;

		if (only != NULL && strcmp(only, tests[i].name) != 0)
			continue;
		r = runner_one(&tests[i], timeout);
		num++;
		if (r == 0) {
			pass++;
			printf("ok %u - %s\n", num, tests[i].name);
		} else if (r == RUNNER_SKIP) {
			skip++;
			printf("ok %u - %s # SKIP\n", num, tests[i].name);
		} else {
			fail++;
			printf("not ok %u - %s\n", num, tests[i].name);
		}
	}
	if (only != NULL && num == 0) {
		fprintf(stderr, "no test named %s\n", only);
		return 2;
	}
	printf("%u passed, %u failed, %u skipped\n", pass, fail, skip);
	return fail ? 1 : 0;
}
