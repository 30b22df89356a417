/*
 * lb_listener.c - listening sockets of an lb worker, the reload diff
 * (lb_proxy_apply), the graceful stop and the per-listener metrics.
 *
 * The parent opens the sockets (cmd/parent_socks.c) and keeps them: each
 * worker gets its own in one SO_REUSEPORT group per listener, so the kernel
 * spreads connections across workers, and a worker killed mid-flight
 * leaves its accept queue behind. While a worker is down the others get
 * its sockets too (adopted, struct lb_lsock) and drain them, polled with
 * EPOLLEXCLUSIVE so one connection wakes one of them. Listeners in mode
 * http have TCP_DEFER_ACCEPT set (HTTP, TLS and PROXY clients speak first,
 * so a connection is accepted with its first bytes there: one wakeup
 * fewer, and idle port scanners never cost a struct); mode tcp does not,
 * for protocols where the server speaks first (SMTP, MySQL).
 *
 * apply() works in two phases: first everything that can fail (take the
 * socket, load certificates) into scratch state, then, only if all of it
 * worked, the swap. A rejected config therefore leaves the worker exactly
 * as it was.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb/lb_proxy.h"
#include "lb/lb_runtime.h"
#include "lb/lb_worker.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/plane.h"
#include "lib/util.h"

static void lb_listener_deadline_cb(struct ev_timer *t, void *arg);

void
lb_listener_init(struct lb_worker *w)
{
	ev_timer_init(&w->ls.deadline, lb_listener_deadline_cb, w);
}

struct lb_listener *
lb_listener_first(const struct lb_worker *w)
{
	return w->ls.head;
}

bool
lb_listener_stopping(const struct lb_worker *w)
{
	return w->ls.stop_req;
}

unsigned
lb_proxy_nconn(const struct lb_worker *w)
{
	return lb_conn_count(w);
}

static void
lb_listener_free(void *p)
{
	struct lb_listener *l = p;

	lb_tls_unref(l->tls);
	free(l->name);
	free(l->pool_name);
	free(l->all_down_body);
	free(l->hash_header);
	free(l);
}

void
lb_listener_unref(struct lb_listener *l)
{
	struct lb_listener **pp;

	if (--l->refs > 0)
		return;
	for (pp = &l->w->ls.head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	ev_defer_free(l->loop, l, lb_listener_free);
}

/* Accept */

/* io is the listener's own or an adopted socket's (io->fd either way). */
static void
lb_listener_accept_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct lb_listener *l = arg;
	struct sockaddr_storage ss;
	socklen_t sl;
	int lfd = io->fd, fd, i;

	/* At a limit, clients wait in the accept queue: see lb_limit.c. */
	for (i = 0; i < LB_ACCEPT_BATCH && l->fd != -1 && !lb_limit_full(l);
	     i++) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			lb_limit_accept_error(l, errno);
			return;
		}
		l->st.accepted++;
		if (lfd != l->fd)
			l->st.accepted_adopted++;
		lb_conn_new(l, fd, &ss);
		lb_mem_conn_opened(l->w);
	}
}

static void
lb_listener_resume_cb(struct ev_timer *t, void *arg)
{
	lb_limit_resume(arg);
}

/* Take the listener's and its pool's settings from conf. */
static void
lb_listener_update(struct lb_listener *l, const struct lb_listener_conf *lc,
    const struct lb_conf *conf)
{
	const struct lb_pool_conf *pc = lb_conf_pool(conf, lc->pool);

	l->conf = *lc;
	l->conf.name = NULL;
	l->conf.pool = NULL;
	l->conf.tls.certificates = NULL;
	free(l->pool_name);
	l->pool_name = xstrdup(lc->pool);
	free(l->all_down_body);
	l->all_down_body = NULL;
	free(l->hash_header);
	l->hash_header = NULL;
	l->hash_header_len = 0;
	memset(&l->pconf, 0, sizeof(l->pconf));
	if (pc != NULL) {
		l->pconf = *pc;
		l->pconf.name = l->pconf.hash_header = NULL;
		l->pconf.health_check = l->pconf.all_down_body = NULL;
		l->pconf.zones = NULL;
		l->pconf.retry_methods = NULL;
		l->pconf.servers = NULL;
		if (pc->all_down_body != NULL)
			l->all_down_body = xstrdup(pc->all_down_body);
		if (pc->balance == LB_BAL_HEADER && pc->hash_header != NULL) {
			l->hash_header = xstrdup(pc->hash_header);
			l->hash_header_len = strlen(l->hash_header);
		}
	}
	l->pool = lb_runtime_pool(l->w->rt, lc->pool);
}

static struct lb_listener *
lb_listener_new(struct lb_worker *w, const struct lb_listener_conf *lc,
    const struct lb_conf *conf, int fd)
{
	struct lb_listener *l = xcalloc(1, sizeof(*l));

	l->name = xstrdup(lc->name);
	l->w = w;
	l->loop = w->loop;
	l->fd = fd;
	l->refs = 1;
	l->max_conn_eff = lc->max_conn; /* until lb_limit_apply */
	ev_io_init(&l->io, fd, lb_listener_accept_cb, l);
	ev_timer_init(&l->pause, lb_listener_resume_cb, l);
	lb_listener_update(l, lc, conf);
	l->next = w->ls.head;
	w->ls.head = l;
	lb_listener_watch(l, true);
	return l;
}

void
lb_listener_watch(struct lb_listener *l, bool on)
{
	struct lb_lsock *a;

	if (!on || l->fd == -1 || l->w->ls.stop_req ||
	    l->paused != LB_PAUSE_NONE) {
		ev_io_stop(l->loop, &l->io);
		for (a = l->adopted; a != NULL; a = a->next)
			ev_io_stop(l->loop, &a->io);
		return;
	}
	(void)ev_io_start(l->loop, &l->io, EV_READ);
	for (a = l->adopted; a != NULL; a = a->next)
		(void)ev_io_start(l->loop, &a->io, EV_READ | EV_EXCLUSIVE);
}

/* Adopted sockets */

static void
lb_lsock_free(struct lb_lsock *a)
{
	ev_io_stop(a->l->loop, &a->io);
	close(a->fd);
	a->fd = -1;
	/* Its io may still sit in the current epoll batch. */
	ev_defer_free(a->l->loop, a, free);
}

static bool
lb_lsock_listed(
    const struct plane_sock *socks, size_t n, const char *name, unsigned slot)
{
	for (size_t i = 0; i < n; i++)
		if (socks[i].adopted && socks[i].slot == slot &&
		    strcmp(socks[i].name, name) == 0)
			return true;
	return false;
}

static bool
lb_lsock_held(const struct lb_listener *l, unsigned slot)
{
	for (const struct lb_lsock *a = l->adopted; a != NULL; a = a->next)
		if (a->slot == slot)
			return true;
	return false;
}

/*
 * Make l's adopted sockets those of socks: let go of the slots whose
 * worker is back, take on those whose worker is down. A dup that fails
 * (no descriptor left) only means this worker does not help drain it.
 */
static void
lb_listener_adopt(
    struct lb_listener *l, const struct plane_sock *socks, size_t n)
{
	struct lb_lsock **pp, *a;
	int fd;

	for (pp = &l->adopted; (a = *pp) != NULL;) {
		if (lb_lsock_listed(socks, n, l->name, a->slot)) {
			pp = &a->next;
			continue;
		}
		*pp = a->next;
		lb_lsock_free(a);
	}
	for (size_t i = 0; i < n; i++) {
		if (!socks[i].adopted || strcmp(socks[i].name, l->name) != 0 ||
		    lb_lsock_held(l, socks[i].slot))
			continue;
		if ((fd = fcntl(socks[i].fd, F_DUPFD_CLOEXEC, 0)) == -1) {
			l->st.accept_errors++;
			continue;
		}
		a = xcalloc(1, sizeof(*a));
		a->l = l;
		a->slot = socks[i].slot;
		a->fd = fd;
		ev_io_init(&a->io, fd, lb_listener_accept_cb, l);
		a->next = l->adopted;
		l->adopted = a;
		l->st.adopted++;
	}
	lb_listener_watch(l, true);
}

void
lb_proxy_adopt(struct lb_worker *w, const struct plane_sock *socks, size_t n)
{
	for (struct lb_listener *l = w->ls.head; l != NULL; l = l->next)
		if (l->fd != -1)
			lb_listener_adopt(l, socks, n);
}

/* Stop accepting; connections finish under the settings they have. */
static void
lb_listener_close(struct lb_listener *l)
{
	struct lb_lsock *a;

	if (l->fd == -1)
		return;
	lb_listener_watch(l, false);
	ev_timer_stop(l->loop, &l->pause);
	while ((a = l->adopted) != NULL) {
		l->adopted = a->next;
		lb_lsock_free(a);
	}
	close(l->fd);
	l->fd = -1;
	/* The runtime may free a pool the new config dropped. */
	l->pool = NULL;
	lb_conn_stop(l->w, l, false);
	lb_listener_unref(l);
}

void
lb_listener_fini(struct lb_worker *w)
{
	struct lb_listener *l, *next;

	for (l = w->ls.head; l != NULL; l = next) {
		next = l->next;
		lb_listener_close(l);
	}
	if (w->loop != NULL)
		ev_timer_stop(w->loop, &w->ls.deadline);
}

static struct lb_listener *
lb_listener_find(const struct lb_worker *w, const char *name)
{
	struct lb_listener *l;

	for (l = w->ls.head; l != NULL; l = l->next)
		if (l->fd != -1 && strcmp(l->name, name) == 0)
			return l;
	return NULL;
}

static bool
lb_listener_same_socket(
    const struct lb_listener *l, const struct lb_listener_conf *lc)
{
	return l->conf.mode == lc->mode &&
	    memcmp(&l->conf.bind, &lc->bind, sizeof(lc->bind)) == 0;
}

/* Reload */

struct lb_listener_prep {
	struct lb_listener *keep; /* borrowed: reused as it is */
	int fd;                   /* owned until committed; -1 if kept */
	struct lb_tls *tls;       /* counted: until committed */
};

static void
lb_listener_prep_free(struct lb_listener_prep *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i].fd != -1)
			close(p[i].fd);
		lb_tls_unref(p[i].tls);
	}
	free(p);
}

/* This worker's own socket for the listener name, or -1. */
static int
lb_listener_own_fd(const struct plane_sock *socks, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!socks[i].adopted && strcmp(socks[i].name, name) == 0)
			return socks[i].fd;
	return -1;
}

/* Phase 1: everything that can fail. Returns the number of errors. */
static int
lb_listener_prepare(const struct lb_worker *w, const struct lb_conf *new,
    const struct plane_sock *socks, size_t nsocks, struct lb_listener_prep *p,
    struct conf_errors *errs)
{
	char err[256];
	int nerr = 0, fd;
	size_t i;

	for (i = 0; i < new->nlisteners; i++) {
		const struct lb_listener_conf *lc = &new->listeners[i];
		struct lb_listener *l = lb_listener_find(w, lc->name);

		p[i].fd = -1;
		fd = lb_listener_own_fd(socks, nsocks, lc->name);
		/* The parent keeps the socket of an unchanged bind: so do we.
		 */
		if (l != NULL && lb_listener_same_socket(l, lc)) {
			p[i].keep = l;
		} else if (fd == -1) {
			conf_errors_addf(errs, "lb", 0, 0,
			    "listener %s: no socket from the parent", lc->name);
			nerr++;
		} else if ((p[i].fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
			conf_errors_addf(errs, "lb", 0, 0,
			    "listener %s: cannot take its socket: %s", lc->name,
			    strerror(errno));
			nerr++;
		}
		if (lc->tls.ncertificates == 0)
			continue;
		p[i].tls = lb_tls_new(&lc->tls, err, sizeof(err));
		if (p[i].tls == NULL) {
			conf_errors_addf(errs, "lb", 0, 0,
			    "listener %s: tls: %s", lc->name, err);
			nerr++;
		}
	}
	return nerr;
}

int
lb_proxy_apply(struct lb_worker *w, const struct lb_conf *old,
    const struct lb_conf *new, const struct plane_sock *socks, size_t nsocks,
    struct conf_errors *errs)
{
	struct lb_listener_prep *p;
	struct lb_listener *l, *next;
	size_t i, n = new != NULL ? new->nlisteners : 0;

	p = xcalloc(n + 1, sizeof(*p));
	if (n > 0 && lb_listener_prepare(w, new, socks, nsocks, p, errs) > 0) {
		lb_listener_prep_free(p, n);
		return -EINVAL;
	}
	for (l = w->ls.head; l != NULL; l = l->next)
		l->seen = false;
	for (i = 0; i < n; i++) {
		const struct lb_listener_conf *lc = &new->listeners[i];

		if ((l = p[i].keep) != NULL)
			lb_listener_update(l, lc, new);
		else
			l = lb_listener_new(w, lc, new, p[i].fd);
		p[i].fd = -1;
		lb_tls_unref(l->tls);
		l->tls = p[i].tls;
		p[i].tls = NULL;
		l->seen = true;
	}
	for (l = w->ls.head; l != NULL; l = next) {
		next = l->next;
		if (!l->seen && l->fd != -1)
			lb_listener_close(l);
	}
	lb_proxy_adopt(w, socks, nsocks);
	/* Server addresses may have changed under their names. */
	lb_bconn_close_idle_all(w);
	lb_listener_prep_free(p, n);
	lb_limit_apply(w, new);
	(void)old; /* the diff is by name against what is running */
	return 0;
}

/* Graceful stop */

static void
lb_listener_finish(struct lb_worker *w)
{
	if (w->ls.stopped)
		return;
	w->ls.stopped = true;
	if (w->loop != NULL)
		ev_timer_stop(w->loop, &w->ls.deadline);
	log_info("lb drained", "conns=%u", lb_conn_count(w));
	plane_stopped();
}

void
lb_listener_conn_gone(struct lb_worker *w)
{
	if (w->ls.stop_req && lb_conn_count(w) == 0)
		lb_listener_finish(w);
	else
		lb_limit_conn_gone(w);
}

static void
lb_listener_deadline_cb(struct ev_timer *t, void *arg)
{
	struct lb_worker *w = arg;

	log_warn("lb stop deadline", "conns=%u", lb_conn_count(w));
	lb_conn_stop(w, NULL, true);
	lb_listener_finish(w);
}

void
lb_proxy_stop(struct lb_worker *w, unsigned deadline_ms)
{
	struct lb_listener *l, *next;

	if (w->ls.stop_req)
		return;
	w->ls.stop_req = true;
	for (l = w->ls.head; l != NULL; l = next) {
		next = l->next;
		lb_listener_close(l);
	}
	lb_bconn_close_idle_all(w);
	if (lb_conn_count(w) == 0 || w->loop == NULL) {
		lb_listener_finish(w);
		return;
	}
	ev_timer_start(w->loop, &w->ls.deadline, deadline_ms);
}

/* Metrics */

struct lb_listener_mx {
	const char *name;
	const char *type;
	const char *help;
	size_t off; /* of a uint64_t in struct lb_listener_stats */
};

#define LB_MX(n, f, h)                                                         \
	{                                                                      \
		"haven_lb_listener_" n, "counter", h,                          \
		    offsetof(struct lb_listener_stats, f)                      \
	}

static const struct lb_listener_mx lb_listener_mx[] = {
	LB_MX("accepted_total", accepted, "Client connections accepted"),
	LB_MX("accept_errors_total", accept_errors,
	    "accept() failures other than EAGAIN"),
	LB_MX("accepted_adopted_total", accepted_adopted,
	    "Client connections accepted from a down worker's socket"),
	LB_MX("adopted_sockets_total", adopted,
	    "Down workers' sockets taken on to drain their queues"),
	LB_MX("requests_total", requests,
	    "HTTP request heads parsed (tcp: connections dispatched)"),
	LB_MX("responses_total", responses, "Responses forwarded complete"),
	LB_MX("retries_total", retries, "Attempts that were retries"),
	LB_MX("retry_budget_denied_total", retry_budget_denied,
	    "Retries refused by the retry budget"),
	LB_MX("backend_reused_total", backend_reused,
	    "Requests sent on a pooled server connection"),
	LB_MX("backend_connects_total", backend_connects,
	    "Server connections opened"),
	LB_MX("spliced_bytes_total", spliced_bytes,
	    "TCP relay bytes moved with splice(2)"),
	LB_MX("bytes_in_total", bytes_in, "Bytes received from clients"),
	LB_MX("bytes_out_total", bytes_out, "Bytes sent to clients"),
	LB_MX("tls_handshake_errors_total", tls_handshake_errors,
	    "TLS handshakes that failed"),
};

static void
lb_listener_labels(
    struct buf *lab, const char *listener, const char *k, const char *v)
{
	buf_reset(lab);
	mx_label(lab, "listener", listener);
	if (k != NULL)
		mx_label(lab, k, v);
}

/* One family of per-cause counters; zero samples are left out. */
static void
lb_listener_mx_causes(const struct lb_worker *w, struct buf *out,
    struct buf *lab, const char *name, const char *help, size_t off, size_t n,
    const char *(*cause)(int))
{
	struct lb_listener *l;
	size_t i;

	mx_family(out, name, "counter", help);
	for (l = w->ls.head; l != NULL; l = l->next) {
		const uint64_t *v =
		    (const uint64_t *)(const void *)((const char *)&l->st +
		        off);

		for (i = 0; i < n; i++) {
			if (v[i] == 0)
				continue;
			lb_listener_labels(
			    lab, l->name, "cause", cause((int)i));
			mx_u64(out, name, lab->data, v[i]);
		}
	}
}

static const char *
lb_listener_http_cause(int e)
{
	return http1_err_name((enum http1_err)e);
}

static const char *
lb_listener_pp_cause(int e)
{
	return lb_proxyproto_err_name((enum lb_proxyproto_err)e);
}

static const char *
lb_listener_term_cause(int e)
{
	return lb_log_term_name((enum lb_term)e);
}

/* The worker's send batching (lb_uring.h). */
static void
lb_listener_uring_metrics(const struct lb_worker *w, struct buf *out)
{
	struct lb_uring_stats us;

	lb_uring_get_stats(&w->uring, &us);
	mx_family(out, "haven_lb_send_batches_total", "counter",
	    "Batches of requests sent to servers in one io_uring submission");
	mx_u64(out, "haven_lb_send_batches_total", NULL, us.batches);
	mx_family(out, "haven_lb_batched_sends_total", "counter",
	    "Requests sent to servers through those batches");
	mx_u64(out, "haven_lb_batched_sends_total", NULL, us.sends);
}

/* lb_plane.c renders the pools' families (lb_metrics.c) just before. */
void
lb_proxy_metrics(const struct lb_worker *w, struct buf *out)
{
	struct lb_listener *l;
	struct buf lab;
	size_t i;

	lb_listener_uring_metrics(w, out);
	buf_init(&lab);
	for (i = 0; i < ARRAY_SIZE(lb_listener_mx); i++) {
		const struct lb_listener_mx *m = &lb_listener_mx[i];

		mx_family(out, m->name, m->type, m->help);
		for (l = w->ls.head; l != NULL; l = l->next) {
			lb_listener_labels(&lab, l->name, NULL, NULL);
			mx_u64(out, m->name, lab.data,
			    *(const uint64_t *)(const void
			            *)((const char *)&l->st + m->off));
		}
	}
	mx_family(out, "haven_lb_access_log_skipped_total", "counter",
	    "Access log lines dropped by the per-second budget");
	mx_u64(out, "haven_lb_access_log_skipped_total", NULL,
	    lb_log_skipped_total(w));
	mx_family(out, "haven_lb_listener_connections", "gauge",
	    "Open client connections");
	for (l = w->ls.head; l != NULL; l = l->next) {
		lb_listener_labels(&lab, l->name, NULL, NULL);
		mx_u64(
		    out, "haven_lb_listener_connections", lab.data, l->nconn);
	}
	lb_listener_mx_causes(w, out, &lab,
	    "haven_lb_listener_http_errors_total",
	    "Requests rejected by the HTTP parser, by cause",
	    offsetof(struct lb_listener_stats, http_errors), HTTP1_E__COUNT,
	    lb_listener_http_cause);
	lb_listener_mx_causes(w, out, &lab,
	    "haven_lb_listener_bad_responses_total",
	    "Server responses rejected by the HTTP parser, by cause",
	    offsetof(struct lb_listener_stats, bad_responses), HTTP1_E__COUNT,
	    lb_listener_http_cause);
	lb_listener_mx_causes(w, out, &lab,
	    "haven_lb_listener_proxyproto_errors_total",
	    "Connections closed for a bad PROXY protocol header, by cause",
	    offsetof(struct lb_listener_stats, proxyproto_errors),
	    LB_PROXYPROTO_E__COUNT, lb_listener_pp_cause);
	lb_listener_mx_causes(w, out, &lab,
	    "haven_lb_listener_terminations_total",
	    "Requests and connections ended, by termination cause",
	    offsetof(struct lb_listener_stats, term), LB_TERM__COUNT,
	    lb_listener_term_cause);
	buf_fini(&lab);
	lb_limit_metrics(w, out);
	lb_mem_metrics(w, out);
}
