/*
 * lb_limit.c - how many client connections one lb worker may hold, and what
 * a listener does at that limit.
 *
 * The limit comes from the descriptor limit (RLIMIT_NOFILE, raised to the
 * hard limit by the parent at start). A proxied connection holds two
 * descriptors, client and server; on a splice listener six (a pipe per
 * direction). A reserve is set aside first: the process's own descriptors
 * (stdio, IPC channel, epoll, signalfd, io_uring, OpenSSL's), one per
 * listening socket, and the idle server connections the keep-alive pools may
 * park (keepalive x servers, per pool). A listener's effective max_conn is
 * the smaller of its max_conn and what the rest of the budget holds at its
 * cost; the worker as a whole stays within the budget too, weighing each
 * listener's connections by their cost.
 *
 * At a limit the listener stops accepting: its socket leaves epoll and new
 * clients wait in the kernel's accept queue until a connection closes.
 * Accepting and closing at once would turn a short peak into refused
 * clients; accepting past the descriptor budget would leave a client
 * accepted with no descriptor left for its server. An accept that fails
 * anyway (EMFILE, ENFILE, ENOBUFS, ENOMEM) pauses the listener the same way;
 * it retries when a connection closes or after LB_LIMIT_RETRY_MS.
 *
 * The log lines of both are limited to one per LB_LIMIT_LOG_MS per kind and
 * say how many were held back; every event is counted in /metrics.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "lb/lb_worker.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"

/* stdio, IPC, epoll, signalfd, timers, io_uring, OpenSSL, logs, slack */
#define LB_LIMIT_RESERVE_BASE 32
#define LB_LIMIT_COST         2 /* client + server */
#define LB_LIMIT_COST_SPLICE  6 /* + one pipe (2 fds) per direction */
#define LB_LIMIT_RETRY_MS     1000
#define LB_LIMIT_LOG_MS       10000

static const char *const lb_limit_err_names[LB_LIMIT_E__COUNT] = {
	[LB_LIMIT_E_EMFILE] = "EMFILE",
	[LB_LIMIT_E_ENFILE] = "ENFILE",
	[LB_LIMIT_E_ENOBUFS] = "ENOBUFS",
	[LB_LIMIT_E_ENOMEM] = "ENOMEM",
	[LB_LIMIT_E_OTHER] = "other",
};

static const char *const lb_limit_pause_names[LB_PAUSE__COUNT] = {
	[LB_PAUSE_NONE] = "none",
	[LB_PAUSE_MAX_CONN] = "max_conn",
	[LB_PAUSE_WORKER] = "worker_fd_budget",
	[LB_PAUSE_ACCEPT_ERROR] = "accept_error",
};

const char *
lb_limit_pause_name(enum lb_pause p)
{
	return (unsigned)p < LB_PAUSE__COUNT ? lb_limit_pause_names[p] : "?";
}

/* Descriptors one connection of l may hold. */
static unsigned
lb_limit_cost(const struct lb_listener *l)
{
	return l->conf.splice ? LB_LIMIT_COST_SPLICE : LB_LIMIT_COST;
}

/* Descriptors the worker's connections may hold now. */
static uint64_t
lb_limit_used(const struct lb_worker *w)
{
	const struct lb_listener *l;
	uint64_t used = 0;

	for (l = lb_listener_first(w); l != NULL; l = l->next)
		used += (uint64_t)l->nconn * lb_limit_cost(l);
	return used;
}

/*
 * True when a log line of this kind may be written now; otherwise it is
 * counted into held.
 */
static bool
lb_limit_log_ok(struct lb_limit_log *lg, uint64_t now)
{
	if (lg->last_ms != 0 && now - lg->last_ms < LB_LIMIT_LOG_MS) {
		lg->held++;
		return false;
	}
	lg->last_ms = now;
	return true;
}

static void
lb_limit_pause(struct lb_listener *l, enum lb_pause why)
{
	struct lb_limit *lim = &l->w->limit;
	struct lb_limit_log *lg = &lim->log_paused;

	if (l->paused != LB_PAUSE_NONE)
		return;
	l->paused = why;
	l->st.accept_paused[why]++;
	lb_listener_watch(l, false);
	if (why == LB_PAUSE_ACCEPT_ERROR)
		ev_timer_start(l->loop, &l->pause, LB_LIMIT_RETRY_MS);
	if (why == LB_PAUSE_ACCEPT_ERROR ||
	    !lb_limit_log_ok(lg, ev_now_ms(l->loop)))
		return;
	log_warn("accept paused",
	    "listener=%s cause=%s conns=%u max_conn=%u worker_conns=%u "
	    "worker_max_conn=%u suppressed=%u",
	    l->name, lb_limit_pause_name(why), l->nconn, l->max_conn_eff,
	    lb_conn_count(l->w), lim->max_conn, lg->held);
	lg->held = 0;
}

void
lb_limit_resume(struct lb_listener *l)
{
	if (l->paused == LB_PAUSE_NONE)
		return;
	l->paused = LB_PAUSE_NONE;
	ev_timer_stop(l->loop, &l->pause);
	lb_listener_watch(l, true);
}

/* Why l must not accept now, or LB_PAUSE_NONE. */
static enum lb_pause
lb_limit_reason(const struct lb_listener *l)
{
	if (l->nconn >= l->max_conn_eff)
		return LB_PAUSE_MAX_CONN;
	if (lb_limit_used(l->w) + lb_limit_cost(l) > l->w->limit.budget)
		return LB_PAUSE_WORKER;
	return LB_PAUSE_NONE;
}

bool
lb_limit_full(struct lb_listener *l)
{
	enum lb_pause why = lb_limit_reason(l);

	if (why == LB_PAUSE_NONE)
		return false;
	lb_limit_pause(l, why);
	return true;
}

void
lb_limit_accept_error(struct lb_listener *l, int e)
{
	struct lb_limit *lim = &l->w->limit;
	struct lb_limit_log *lg = &lim->log_failed;
	enum lb_limit_err k;

	switch (e) {
	case EMFILE:
		k = LB_LIMIT_E_EMFILE;
		break;
	case ENFILE:
		k = LB_LIMIT_E_ENFILE;
		break;
	case ENOBUFS:
		k = LB_LIMIT_E_ENOBUFS;
		break;
	case ENOMEM:
		k = LB_LIMIT_E_ENOMEM;
		break;
	default:
		k = LB_LIMIT_E_OTHER;
		break;
	}
	l->st.accept_errors++;
	lim->errors[k]++;
	if (lb_limit_log_ok(lg, ev_now_ms(l->loop))) {
		log_warn("accept failed",
		    "listener=%s err=%s conns=%u worker_conns=%u nofile=%u "
		    "suppressed=%u",
		    l->name, log_q(strerror(e)), l->nconn, lb_conn_count(l->w),
		    lim->nofile, lg->held);
		lg->held = 0;
	}
	/* Whatever the cause, retrying at once would spin on it. */
	lb_limit_pause(l, LB_PAUSE_ACCEPT_ERROR);
}

void
lb_limit_conn_gone(struct lb_worker *w)
{
	struct lb_listener *l;

	for (l = lb_listener_first(w); l != NULL; l = l->next)
		if (l->paused != LB_PAUSE_NONE &&
		    lb_limit_reason(l) == LB_PAUSE_NONE)
			lb_limit_resume(l);
}

/* Descriptors kept out of the connection budget for conf. */
static unsigned
lb_limit_reserve(const struct lb_conf *conf)
{
	uint64_t r = LB_LIMIT_RESERVE_BASE + conf->nlisteners;
	size_t i;

	for (i = 0; i < conf->npools; i++)
		r += (uint64_t)conf->pools[i].keepalive *
		    conf->pools[i].nservers;
	return r > UINT_MAX ? UINT_MAX : (unsigned)r;
}

void
lb_limit_apply(struct lb_worker *w, const struct lb_conf *conf)
{
	static const struct lb_conf none;
	struct lb_limit *lim = &w->limit;
	struct lb_listener *l;
	uint64_t sum = 0;
	unsigned cap, worst = LB_LIMIT_COST;

	lim->nofile = util_nofile();
	lim->reserve = lb_limit_reserve(conf != NULL ? conf : &none);
	for (l = lb_listener_first(w); l != NULL; l = l->next)
		if (l->fd != -1 && lb_limit_cost(l) > worst)
			worst = lb_limit_cost(l);
	/* Never below one connection: a listener that can never accept
	 * would only look hung; the warning below says why. */
	lim->budget = lim->nofile > lim->reserve + worst ?
	    lim->nofile - lim->reserve :
	    worst;
	for (l = lb_listener_first(w); l != NULL; l = l->next) {
		if (l->fd == -1)
			continue;
		cap = lim->budget / lb_limit_cost(l);
		l->max_conn_eff =
		    l->conf.max_conn < cap ? l->conf.max_conn : cap;
		sum += l->conf.max_conn;
		if (l->max_conn_eff < l->conf.max_conn)
			log_warn("max_conn lowered to fit the descriptor limit",
			    "listener=%s max_conn=%u effective=%u nofile=%u "
			    "reserve=%u fds_per_conn=%u",
			    l->name, l->conf.max_conn, l->max_conn_eff,
			    lim->nofile, lim->reserve, lb_limit_cost(l));
	}
	cap = lim->budget / worst;
	lim->max_conn = sum < cap ? (unsigned)sum : cap;
	if (sum > cap && conf != NULL && conf->nlisteners > 1)
		log_warn("listeners' max_conn together exceed the descriptor "
		         "limit",
		    "sum=%llu worker_max_conn=%u nofile=%u reserve=%u",
		    (unsigned long long)sum, cap, lim->nofile, lim->reserve);
	log_info("connection limit", "max_conn=%u nofile=%u reserve=%u",
	    lim->max_conn, lim->nofile, lim->reserve);
	/* A raised limit lets paused listeners go on. */
	lb_limit_conn_gone(w);
}

unsigned
lb_limit_max_conn(const struct lb_worker *w)
{
	return w->limit.max_conn;
}

/* Metrics and status */

void
lb_limit_metrics(const struct lb_worker *w, struct buf *out)
{
	const struct lb_limit *lim = &w->limit;
	const struct lb_listener *l;
	struct buf lab;
	int i;

	buf_init(&lab);
	mx_family(out, "haven_lb_fd_limit", "gauge",
	    "RLIMIT_NOFILE soft limit of the worker");
	mx_u64(out, "haven_lb_fd_limit", NULL, lim->nofile);
	mx_family(out, "haven_lb_fd_reserve", "gauge",
	    "Descriptors kept out of the connection budget");
	mx_u64(out, "haven_lb_fd_reserve", NULL, lim->reserve);
	mx_family(out, "haven_lb_max_conn_effective", "gauge",
	    "Client connections the worker accepts at most");
	mx_u64(out, "haven_lb_max_conn_effective", NULL, lim->max_conn);
	mx_family(out, "haven_lb_accept_errors_total", "counter",
	    "accept() failures other than EAGAIN, by errno");
	for (i = 0; i < LB_LIMIT_E__COUNT; i++) {
		buf_reset(&lab);
		mx_label(&lab, "errno", lb_limit_err_names[i]);
		mx_u64(out, "haven_lb_accept_errors_total", lab.data,
		    lim->errors[i]);
	}
	mx_family(out, "haven_lb_listener_max_conn_effective", "gauge",
	    "The listener's max_conn after the descriptor limit");
	for (l = lb_listener_first(w); l != NULL; l = l->next) {
		buf_reset(&lab);
		mx_label(&lab, "listener", l->name);
		mx_u64(out, "haven_lb_listener_max_conn_effective", lab.data,
		    l->max_conn_eff);
	}
	mx_family(out, "haven_lb_listener_accept_paused", "gauge",
	    "1 while the listener does not accept");
	for (l = lb_listener_first(w); l != NULL; l = l->next) {
		buf_reset(&lab);
		mx_label(&lab, "listener", l->name);
		mx_u64(out, "haven_lb_listener_accept_paused", lab.data,
		    l->paused != LB_PAUSE_NONE);
	}
	mx_family(out, "haven_lb_accept_paused_total", "counter",
	    "Times a listener stopped accepting, by cause");
	for (l = lb_listener_first(w); l != NULL; l = l->next) {
		for (i = LB_PAUSE_NONE + 1; i < LB_PAUSE__COUNT; i++) {
			buf_reset(&lab);
			mx_label(&lab, "listener", l->name);
			mx_label(&lab, "cause", lb_limit_pause_names[i]);
			mx_u64(out, "haven_lb_accept_paused_total", lab.data,
			    l->st.accept_paused[i]);
		}
	}
	buf_fini(&lab);
}

void
lb_limit_json(const struct lb_worker *lw, struct jw *w)
{
	const struct lb_limit *lim = &lw->limit;
	const struct lb_listener *l;

	jw_key(w, "limits");
	jw_obj_begin(w);
	jw_kuint(w, "fd_limit", lim->nofile);
	jw_kuint(w, "fd_reserve", lim->reserve);
	jw_kuint(w, "max_conn_effective", lim->max_conn);
	jw_kuint(w, "connections", lb_conn_count(lw));
	jw_key(w, "listeners");
	jw_arr_begin(w);
	for (l = lb_listener_first(lw); l != NULL; l = l->next) {
		if (l->fd == -1)
			continue; /* draining after a reload */
		jw_obj_begin(w);
		jw_kstr(w, "name", l->name);
		jw_kuint(w, "max_conn", l->conf.max_conn);
		jw_kuint(w, "max_conn_effective", l->max_conn_eff);
		jw_kuint(w, "connections", l->nconn);
		jw_key(w, "paused");
		if (l->paused != LB_PAUSE_NONE)
			jw_str(w, lb_limit_pause_name(l->paused));
		else
			jw_null(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}
