/*
 * snap_standby_run.c - standby appliers in child processes
 * (snap_standby_run.h).
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "snap/snap_standby_run.h"

/* One standby image and its applies. */
struct snap_sb_job {
	struct snap_standby_run *owner; /* borrowed */
	char *volume, *image;           /* owned */
	pid_t pid;                      /* 0: no apply running */
	int pfd;                        /* the child's report; -1 */
	struct ev_io io;
	/* the report as it arrives: the child's rc, then its result */
	uint8_t rep[sizeof(int) + sizeof(struct snap_standby_result)];
	size_t got;
	bool again;        /* kicked while running */
	uint64_t start_ms; /* of the running apply */
	uint64_t applies;  /* that finished, failed or not */
	uint64_t failures; /* of those */
	bool have_last;
	struct snap_standby_result last;
	int last_rc;
	uint64_t last_ms, last_end; /* duration, wall-clock end (s) */
};

struct snap_standby_run {
	struct ev_loop *loop; /* borrowed */
	char *store;          /* owned */
	struct snap_standby_set set;
	struct snap_sb_job **jobs; /* owned: one per set entry, same order */
	size_t njobs;
};

static void snap_sb_start(struct snap_sb_job *j);

/* The child: report one result and exit; nothing here returns. */
static void
snap_sb_child(struct snap_sb_job *j, const char *store, int wfd)
{
	struct snap_standby_result res;
	int rc;

	/* Keep only the pipe: the plane's sockets must close when it
	 * closes them, not when this apply ends. */
	if (wfd > 3)
		(void)close_range(3, (unsigned)wfd - 1, 0);
	(void)close_range((unsigned)wfd + 1, ~0u, 0);
	rc = snap_standby_apply_head(store, j->volume, j->image, &res);
	if (rc != 0 && res.err[0] == '\0')
		snprintf(res.err, sizeof(res.err), "%s", strerror(-rc));
	/* One write under PIPE_BUF: the parent reads it whole or not at
	 * all, and the same binary on both ends needs no parser. */
	memcpy(j->rep, &rc, sizeof(rc));
	memcpy(j->rep + sizeof(rc), &res, sizeof(res));
	(void)util_write_all(wfd, j->rep, sizeof(j->rep));
	_exit(0);
}

static void
snap_sb_done(struct snap_sb_job *j)
{
	struct snap_standby_run *r = j->owner;
	int st = 0;

	ev_io_stop(r->loop, &j->io);
	close(j->pfd);
	j->pfd = -1;
	while (waitpid(j->pid, &st, 0) == -1 && errno == EINTR)
		;
	j->pid = 0;
	j->applies++;
	j->last_ms = ev_now_ms(r->loop) - j->start_ms;
	j->last_end = (uint64_t)time(NULL);
	j->have_last = true;
	if (j->got != sizeof(j->rep)) {
		memset(&j->last, 0, sizeof(j->last));
		snprintf(j->last.err, sizeof(j->last.err),
		    "the apply process ended without a report (status %d)", st);
		j->last_rc = -EIO;
	} else {
		memcpy(&j->last_rc, j->rep, sizeof(j->last_rc));
		memcpy(&j->last, j->rep + sizeof(j->last_rc), sizeof(j->last));
		j->last.err[sizeof(j->last.err) - 1] = '\0';
		j->last.snapshot[sizeof(j->last.snapshot) - 1] = '\0';
	}
	if (j->last_rc != 0 && j->last_rc != -EALREADY) {
		j->failures++;
		log_warn("snap standby apply failed",
		    "volume=%s image=%s error=%s", j->volume, j->image,
		    j->last.err);
	} else if (j->last_rc == 0) {
		log_info("snap standby applied",
		    "volume=%s snapshot=%s written=%llu kept=%llu ms=%llu",
		    j->volume, j->last.snapshot,
		    (unsigned long long)j->last.st.written,
		    (unsigned long long)j->last.st.kept,
		    (unsigned long long)j->last_ms);
	}
	if (j->again) {
		j->again = false;
		snap_sb_start(j);
	}
}

/* The report, then EOF when the child exits. */
static void
snap_sb_io(struct ev_io *io, unsigned events, void *arg)
{
	struct snap_sb_job *j = arg;
	uint8_t extra[64];
	ssize_t n;

	(void)io;
	(void)events;
	do {
		if (j->got < sizeof(j->rep))
			n = read(
			    j->pfd, j->rep + j->got, sizeof(j->rep) - j->got);
		else /* more than a report: not ours to read */
			n = read(j->pfd, extra, sizeof(extra));
		if (n > 0 && j->got < sizeof(j->rep))
			j->got += (size_t)n;
	} while (n > 0 || (n == -1 && errno == EINTR));
	if (n == -1 && errno == EAGAIN)
		return;
	snap_sb_done(j); /* EOF or an error: the child is gone */
}

static void
snap_sb_start(struct snap_sb_job *j)
{
	struct snap_standby_run *r = j->owner;
	int fds[2];
	pid_t pid;

	if (r->store == NULL)
		return;
	if (j->pid != 0) {
		j->again = true;
		return;
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_warn("snap standby apply not started", "volume=%s error=%s",
		    j->volume, strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		snap_sb_child(j, r->store, fds[1]);
	}
	close(fds[1]);
	if (pid == -1) {
		log_warn("snap standby apply not started", "volume=%s error=%s",
		    j->volume, strerror(errno));
		close(fds[0]);
		return;
	}
	j->pid = pid;
	j->pfd = fds[0];
	j->got = 0;
	j->start_ms = ev_now_ms(r->loop);
	(void)util_set_nonblock(j->pfd);
	ev_io_init(&j->io, j->pfd, snap_sb_io, j);
	if (ev_io_start(r->loop, &j->io, EV_READ) != 0) {
		(void)kill(pid, SIGKILL);
		snap_sb_done(j);
	}
}

static void
snap_sb_job_free(void *p)
{
	struct snap_sb_job *j = p;

	free(j->volume);
	free(j->image);
	free(j);
}

/* Stop j's apply, if any, and free j once no callback can hold it. */
static void
snap_sb_job_drop(struct snap_sb_job *j)
{
	struct snap_standby_run *r = j->owner;

	if (j->pid != 0) {
		(void)kill(j->pid, SIGKILL);
		j->again = false;
		snap_sb_done(j);
	}
	ev_defer_free(r->loop, j, snap_sb_job_free);
}

struct snap_standby_run *
snap_standby_run_new(struct ev_loop *loop)
{
	struct snap_standby_run *r = xcalloc(1, sizeof(*r));

	r->loop = loop;
	return r;
}

void
snap_standby_run_free(struct snap_standby_run *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->njobs; i++)
		snap_sb_job_drop(r->jobs[i]);
	free(r->jobs);
	snap_standby_set_clear(&r->set);
	free(r->store);
	free(r);
}

void
snap_standby_run_apply(struct snap_standby_run *r, const char *store,
    const struct snap_standby_conf *c, size_t n)
{
	struct snap_sb_job **jobs = n > 0 ? xcalloc(n, sizeof(*jobs)) : NULL;
	bool same_store =
	    r->store != NULL && store != NULL && strcmp(r->store, store) == 0;

	/* A job carries over when its volume, image and store are kept. */
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; same_store && k < r->njobs; k++) {
			struct snap_sb_job *o = r->jobs[k];

			if (o != NULL && strcmp(o->volume, c[i].volume) == 0 &&
			    strcmp(o->image, c[i].image) == 0) {
				jobs[i] = o;
				r->jobs[k] = NULL;
				break;
			}
		}
		if (jobs[i] == NULL) {
			jobs[i] = xcalloc(1, sizeof(*jobs[i]));
			jobs[i]->owner = r;
			jobs[i]->volume = xstrdup(c[i].volume);
			jobs[i]->image = xstrdup(c[i].image);
			jobs[i]->pfd = -1;
		}
	}
	for (size_t k = 0; k < r->njobs; k++)
		if (r->jobs[k] != NULL)
			snap_sb_job_drop(r->jobs[k]);
	free(r->jobs);
	r->jobs = jobs;
	r->njobs = n;
	free(r->store);
	r->store = store != NULL ? xstrdup(store) : NULL;
	snap_standby_set_copy(&r->set, c, n);
	for (size_t i = 0; i < n; i++)
		snap_sb_start(r->jobs[i]);
}

const struct snap_standby_set *
snap_standby_run_set(const struct snap_standby_run *r)
{
	return &r->set;
}

void
snap_standby_run_kick(struct snap_standby_run *r, const char *volume)
{
	for (size_t i = 0; i < r->njobs; i++)
		if (strcmp(r->jobs[i]->volume, volume) == 0)
			snap_sb_start(r->jobs[i]);
}

void
snap_standby_run_json(struct snap_standby_run *r, struct jw *w)
{
	struct snap_store *s = NULL;

	jw_key(w, "standby");
	jw_arr_begin(w);
	if (r->store != NULL && snap_store_open(r->store, false, &s) != 0)
		s = NULL;
	for (size_t i = 0; i < r->njobs; i++) {
		struct snap_sb_job *j = r->jobs[i];
		struct snap_standby_state st;

		memset(&st, 0, sizeof(st));
		if (s != NULL)
			snap_standby_state(s, j->volume, j->image, &st);
		jw_obj_begin(w);
		jw_kstr(w, "volume", j->volume);
		jw_kstr(w, "image", j->image);
		jw_kstr(w, "snapshot", st.snapshot);
		jw_kbool(w, "intact", st.intact);
		jw_kbool(w, "current",
		    s != NULL && snap_standby_current(s, j->volume, &st));
		jw_kbool(w, "running", j->pid != 0);
		jw_kuint(w, "applies", j->applies);
		jw_kuint(w, "failures", j->failures);
		jw_key(w, "last");
		if (!j->have_last) {
			jw_null(w);
		} else {
			jw_obj_begin(w);
			jw_kstr(w, "result",
			    j->last_rc == 0             ? "applied" :
			        j->last_rc == -EALREADY ? "nothing to apply" :
			                                  "failed");
			jw_kstr(w, "snapshot", j->last.snapshot);
			jw_kuint(w, "written", j->last.st.written);
			jw_kuint(w, "kept", j->last.st.kept);
			jw_kuint(w, "duration_ms", j->last_ms);
			jw_kuint(w, "ended", j->last_end);
			jw_kstr(w, "error", j->last.err);
			jw_obj_end(w);
		}
		jw_obj_end(w);
	}
	jw_arr_end(w);
	snap_store_close(s);
}
