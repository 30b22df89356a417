/*
 * hook.h - a serial runner of operator hooks on an event loop: shell
 * commands (exec) and JSON POSTs (webhooks), for any plane that tells
 * the outside world about a transition (hc verdicts, vrrp states) or asks
 * it something (a cloud CLI whose output is parsed).
 *
 * Invariants:
 *   - jobs run one at a time, in the order they were submitted, each
 *     exactly once (plus its retries), each attempt under its timeout:
 *     a hook that depends on the previous one having finished (a route
 *     removed before it is added elsewhere) sees the transitions in
 *     order, and a hung hook delays the next by its timeout at most;
 *   - everything happens on the loop (fork/exec watched through a pidfd,
 *     a non-blocking HTTP client), so the caller's timers never wait for
 *     a hook;
 *   - the queue is bounded (qmax jobs, the running one included); a job
 *     past the bound is refused and counted, never merged into another;
 *   - an exec job's command runs in its own process group, and a timeout
 *     kills the whole group: a shell's children do not outlive it;
 *   - captured stdout is bounded by HOOK_OUT_MAX; the rest is read and
 *     thrown away (the command never blocks on a full pipe) and the
 *     outcome says it was truncated.
 *
 * A job's strings are copied at submit: the caller's config may be freed
 * by a reload while the job waits.
 */
#ifndef HAVEN_HOOK_H
#define HAVEN_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ev.h"

#define HOOK_OUT_MAX      4096 /* captured stdout bytes kept per job */
#define HOOK_TIMEOUT_DFLT 5000 /* per attempt, when a job gives 0 */
#define HOOK_BACKOFF_DFLT 1000 /* first pause before a retry, ms */
#define HOOK_ENV_MAX      16   /* environment pairs per job */
#define HOOK_ARGV_MAX     8    /* positional parameters per job */

enum hook_kind {
	HOOK_EXEC, /* /bin/sh -c what; exit status 0 is success */
	HOOK_WEB,  /* POST body to http://ip[:port]/path; 2xx is success */
};

enum hook_result {
	HOOK_OK,
	HOOK_FAILED,  /* ran and failed, or could not be started */
	HOOK_TIMEOUT, /* the last attempt was killed at its timeout */
};

/* How a job ended, given to its callback; pointers valid during it. */
struct hook_outcome {
	enum hook_result result;
	/* exec: exit code, or 128 + signal; web: HTTP status; -1: none. */
	int status;
	const char *why; /* borrowed: "exit 3", "timeout", "" when ok */
	unsigned attempts;
	const char *out; /* borrowed: captured stdout, NUL-terminated */
	size_t outlen;
	bool truncated; /* the command wrote more than HOOK_OUT_MAX */
};

typedef void hook_done_fn(const struct hook_outcome *o, void *arg);

/* What to run; every string is copied by hook_submit. */
struct hook_job {
	enum hook_kind kind;
	const char *what; /* command line, or http:// URL */
	/* exec: "NAME=value" added to the command's environment. */
	const char *env[HOOK_ENV_MAX];
	size_t nenv;
	/*
	 * exec: positional parameters: the shell runs `what "$@"`, so a
	 * script path gets them as $1..., as keepalived's notify does.
	 */
	const char *argv[HOOK_ARGV_MAX];
	size_t nargv;
	const char *body;    /* web: the JSON body */
	uint64_t timeout_ms; /* per attempt; 0: HOOK_TIMEOUT_DFLT */
	unsigned retries;    /* attempts after a failed first one */
	/* Pause before the first retry (0: HOOK_BACKOFF_DFLT), doubled
	 * after each one up to backoff_max_ms (0: never doubled). */
	uint64_t backoff_ms, backoff_max_ms;
	bool capture;       /* exec: keep stdout (else it is inherited) */
	const char *tag;    /* for log lines: "target=web/a" */
	hook_done_fn *done; /* NULL: none; never called for abandoned jobs */
	void *arg;          /* borrowed: given to done */
};

struct hook_stats {
	uint64_t runs;         /* attempts started */
	uint64_t ok;           /* jobs that succeeded */
	uint64_t failed;       /* jobs that failed (after their last retry) */
	uint64_t timeouts;     /* attempts killed or abandoned at the timeout */
	uint64_t retries;      /* attempts after the first */
	uint64_t dropped;      /* jobs refused: queue full */
	uint64_t spawn_errors; /* fork/pidfd/pipe/socket failures */
};

struct hook_runner;

struct hook_runner *hook_runner_new(struct ev_loop *loop, size_t qmax);
/* Abandon queued jobs, kill a running command and reap it. */
void hook_runner_free(struct hook_runner *r);
/*
 * Queue a job. Returns 0, or -ENOBUFS (queue full, counted in dropped)
 * or -EINVAL (too many env/argv entries, nothing queued or counted).
 * Callbacks may submit; they must not free the runner.
 */
int hook_submit(struct hook_runner *r, const struct hook_job *job);
/* Jobs queued or in progress. */
size_t hook_pending(const struct hook_runner *r);
const struct hook_stats *hook_stats(const struct hook_runner *r);
const char *hook_result_name(enum hook_result res);

#endif
