/*
 * child.c - the runtime of a plane's child process (`haven __child PLANE`).
 *
 * The parent execs /proc/self/exe with the IPC socket on descriptor 3. This
 * file owns that process: event loop, IPC channel, signals, config parsing.
 * The plane sees only its struct plane_ops hooks (lib/plane.h) and its own
 * config section; which plane runs is looked up in the registry. The child
 * exits when the parent goes away (channel closed, or PR_SET_PDEATHSIG), so no
 * child ever outlives its supervisor.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/child.h"
#include "cmd/config.h"
#include "cmd/planes.h"
#include "lib/conf.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/plane.h"
#include "lib/priv.h"

#define CHILD_IPC_FD 3

struct child {
	const struct plane_row *row; /* borrowed: static registry row */
	const struct plane_ops *ops; /* borrowed: static, row's */
	struct ev_loop *loop;        /* owned */
	struct ipc_chan chan;
	struct haven_conf *conf; /* owned: the config in effect, or NULL */
	struct ev_timer deadline;
	bool initialised;
	bool stopping;
	bool priv_done;     /* the first config decided who we are */
	bool priv_dropped;  /* ... and we gave up root then */
	uint64_t priv_kept; /* capabilities kept at the drop */
	char plane[24];
	/* Sockets sent since the last commit (IPC_LISTENER); the runtime
	 * owns the fds, the plane dups what it keeps. */
	struct plane_sock *socks;         /* owned array */
	char (*sock_names)[IPC_NAME_MAX]; /* owned: socks[i].name */
	size_t nsocks, socks_cap;
	uint64_t send_failed; /* messages the channel refused */
	uint64_t msgs_bad;    /* messages dropped: malformed or too early */
};

static struct child child;

int
plane_send(enum ipc_type type, const void *data, size_t len)
{
	int rc = ipc_send(&child.chan, type, 0, data, len, -1);

	if (rc != 0)
		child.send_failed++;
	return rc;
}

void
plane_msg_bad(void)
{
	child.msgs_bad++;
}

/* Answer request id with hdr followed by body, counting a refusal. */
static void
child_reply(enum ipc_type type, uint32_t id, const void *hdr, size_t hlen,
    const struct buf *body)
{
	if (ipc_send2(&child.chan, type, id, hdr, hlen, body->data, body->len,
	        -1) != 0)
		child.send_failed++;
}

static void
child_metrics(struct buf *out)
{
	struct buf l;

	if (child.ops->metrics != NULL)
		child.ops->metrics(out);
	buf_init(&l);
	mx_label(&l, "plane", child.plane);
	mx_family(out, "haven_plane_ipc_send_failed_total", "counter",
	    "Messages to the parent the channel refused");
	mx_u64(out, "haven_plane_ipc_send_failed_total", l.data,
	    child.send_failed);
	mx_family(out, "haven_plane_ipc_msgs_bad_total", "counter",
	    "Messages from the parent dropped: malformed or unexpected");
	mx_u64(out, "haven_plane_ipc_msgs_bad_total", l.data, child.msgs_bad);
	buf_fini(&l);
}

void
plane_stopped(void)
{
	(void)ipc_flush(&child.chan, 1000);
	ev_break(child.loop);
}

static void
child_deadline(struct ev_timer *t, void *arg)
{
	log_warn("stop deadline reached; exiting", "plane=%s", child.plane);
	ev_break(child.loop);
}

static void
child_stop(unsigned deadline_ms)
{
	if (child.stopping)
		return;
	child.stopping = true;
	ev_timer_init(&child.deadline, child_deadline, NULL);
	ev_timer_start(child.loop, &child.deadline, deadline_ms);
	if (child.ops->stop != NULL && child.initialised)
		child.ops->stop(deadline_ms);
	else
		plane_stopped();
}

/* The parent died while we changed credentials (which clears PDEATHSIG). */
static void
child_watch_parent(void)
{
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		fatal("parent already gone");
}

/*
 * Started as root, the first config says what to keep: the child becomes
 * haven.user with the plane's capabilities before apply touches anything
 * from outside (configured files, sockets, scripts), and before any
 * verdict, request or peer byte reaches it. The config text itself comes
 * from the parent, which parsed it as root already. A drop that fails half
 * way leaves the process in no known state: it exits, and the parent's
 * back-off shows the reason in the log. Later configs may need no more
 * than what was kept.
 */
static int
child_privs(const struct haven_conf *conf, struct conf_errors *errs)
{
	const struct priv_user *u = &conf->haven.run_as;
	uint64_t need;
	char err[160], caps[256];

	if (child.priv_done) {
		if (!child.priv_dropped || child.ops->caps == NULL)
			return 0;
		need = child.ops->caps(
		           haven_conf_section(conf, child.row), getegid()) &
		    ~child.priv_kept;
		if (need == 0)
			return 0;
		priv_caps_format(need, caps, sizeof(caps));
		conf_errors_addf(errs, conf->path, 0, 0,
		    "plane %s needs %s, given up when it dropped root: "
		    "restart haven to apply this config",
		    child.plane, caps);
		return -EPERM;
	}
	child.priv_done = true;
	if (geteuid() != 0 || u->uid == 0)
		return 0;
	need = child.ops->caps != NULL ?
	    child.ops->caps(haven_conf_section(conf, child.row), u->gid) :
	    0;
	if (priv_drop(u, need, err, sizeof(err)) != 0)
		fatal("cannot drop root to user %s: %s", u->name, err);
	child_watch_parent();
	child.priv_dropped = true;
	child.priv_kept = need;
	priv_caps_format(need, caps, sizeof(caps));
	log_info("dropped root", "user=%s uid=%u caps=%s", log_q(u->name),
	    (unsigned)u->uid, caps);
	return 0;
}

static void
child_sock_add(const struct ipc_msg *m)
{
	const struct ipc_listener *l = m->data;
	struct plane_sock *s;

	if (m->len < sizeof(*l) || m->fd == -1) {
		child.msgs_bad++;
		if (m->fd != -1)
			close(m->fd);
		return;
	}
	if (child.nsocks == child.socks_cap) {
		child.socks_cap = child.socks_cap ? child.socks_cap * 2 : 8;
		child.socks = xrealloc(
		    child.socks, child.socks_cap * sizeof(*child.socks));
		child.sock_names = xrealloc(child.sock_names,
		    child.socks_cap * sizeof(*child.sock_names));
	}
	memcpy(child.sock_names[child.nsocks], l->name, IPC_NAME_MAX);
	child.sock_names[child.nsocks][IPC_NAME_MAX - 1] = '\0';
	s = &child.socks[child.nsocks++];
	s->slot = l->slot;
	s->adopted = l->adopted != 0;
	s->fd = m->fd;
}

/* The names array may have moved since each socket came: point again. */
static void
child_socks_fix(void)
{
	for (size_t i = 0; i < child.nsocks; i++)
		child.socks[i].name = child.sock_names[i];
}

/* The pending set was handed to the plane: the fds it kept are dups. */
static void
child_socks_done(void)
{
	for (size_t i = 0; i < child.nsocks; i++)
		close(child.socks[i].fd);
	child.nsocks = 0;
}

/* IPC_SOCKETS: a worker of the plane went or came; same config. */
static void
child_socks_commit(void)
{
	child_socks_fix();
	if (child.ops->adopt != NULL && child.conf != NULL)
		child.ops->adopt(child.socks, child.nsocks);
	child_socks_done();
}

/* The plane's own section, with the targets every plane declares and the
 * sockets the parent sent for it. */
static int
child_apply(const struct haven_conf *next, struct conf_errors *errs)
{
	struct plane_target *targets;
	struct plane_env env = { .state_dir = next->haven.state_dir };
	int rc;

	child_socks_fix();
	env.socks = child.socks;
	env.nsocks = child.nsocks;
	env.ntargets = haven_conf_targets(next, &targets);
	env.targets = targets;
	rc = child.ops->apply(child.conf != NULL ?
	        haven_conf_section(child.conf, child.row) :
	        NULL,
	    haven_conf_section(next, child.row), &env, errs);
	free(targets);
	return rc;
}

static void
child_config(const struct ipc_msg *m)
{
	struct ipc_config_result res = { 0 };
	struct haven_conf *next = xcalloc(1, sizeof(*next));
	struct conf_errors errs;
	struct buf text;

	conf_errors_init(&errs);
	buf_init(&text);
	if (haven_conf_load_text("config", m->data, m->len, next, &errs,
	        CONF_BIND_CHECKED) == 0 &&
	    child_privs(next, &errs) == 0 && child_apply(next, &errs) == 0) {
		if (child.conf != NULL) {
			haven_conf_free(child.conf);
			free(child.conf);
		}
		child.conf = next;
		log_set_level(next->haven.log_level);
		res.ok = 1;
	} else {
		for (size_t i = 0; i < errs.n; i++)
			buf_printf(&text, "%s:%d:%d: %s\n", errs.v[i].file,
			    errs.v[i].line, errs.v[i].col, errs.v[i].msg);
		if (errs.n == 0)
			buf_puts(&text, "rejected by the plane\n");
		haven_conf_free(next);
		free(next);
	}
	child_socks_done();
	child_reply(IPC_CONFIG_RESULT, m->id, &res, sizeof(res), &text);
	conf_errors_fini(&errs);
	buf_fini(&text);
}

static void
child_query(const struct ipc_msg *m)
{
	const struct ipc_query *q = m->data;
	struct ipc_reply r = { 0 };
	struct buf out;

	buf_init(&out);
	if (m->len < sizeof(*q) || m->len - sizeof(*q) < q->body_len) {
		r.status = 400;
		buf_puts(&out, "{\"error\":\"bad query\"}");
	} else if (strcmp(q->path, "/metrics") == 0) {
		r.status = 200;
		child_metrics(&out);
		strcpy(r.content_type, "text/plain; version=0.0.4");
	} else if (child.ops->query != NULL) {
		char path[sizeof(q->path)];

		memcpy(path, q->path, sizeof(path));
		path[sizeof(path) - 1] = '\0';
		r.status = child.ops->query(
		    q->method, path, (const char *)(q + 1), q->body_len, &out);
	} else {
		r.status = 404;
		buf_puts(&out, "{\"error\":\"not found\"}");
	}
	if (r.content_type[0] == '\0')
		strcpy(r.content_type, "application/json");
	r.body_len = (uint32_t)out.len;
	child_reply(IPC_REPLY, m->id, &r, sizeof(r), &out);
	buf_fini(&out);
}

static void
child_hello(const struct ipc_msg *m)
{
	const struct ipc_hello *h = m->data;

	if (m->len < sizeof(*h) || child.initialised) {
		child.msgs_bad++;
		return;
	}
	if (child.ops->init(child.loop, h->worker, h->nworkers) != 0) {
		log_err("plane init failed; exiting", "plane=%s", child.plane);
		exit(1);
	}
	child.initialised = true;
}

static void
child_recv(struct ipc_chan *ch, const struct ipc_msg *m, void *arg)
{
	if (m == NULL) {
		/* The parent is gone: nobody supervises us any more. */
		log_info(
		    "parent channel closed; exiting", "plane=%s", child.plane);
		ev_break(child.loop);
		return;
	}
	switch (m->type) {
	case IPC_HELLO:
		child_hello(m);
		break;
	case IPC_CONFIG:
		if (child.initialised && !child.stopping)
			child_config(m);
		else
			child_socks_done();
		break;
	case IPC_QUERY:
		child_query(m);
		break;
	case IPC_LISTENER:
		child_sock_add(m);
		break;
	case IPC_SOCKETS:
		if (child.initialised && !child.stopping)
			child_socks_commit();
		else
			child_socks_done();
		break;
	case IPC_STOP:
		child_stop(m->len >= sizeof(uint32_t) ?
		        *(const uint32_t *)m->data :
		        5000);
		break;
	default:
		if (child.ops->on_msg != NULL && child.initialised) {
			child.ops->on_msg(m);
			break;
		}
		child.msgs_bad++;
		if (m->fd != -1)
			close(m->fd);
		break;
	}
}

static void
child_signal(struct ev_loop *loop, int signo, void *arg)
{
	/* SIGTERM straight to a child (not via the parent): stop cleanly. */
	child_stop(child.conf != NULL ?
	        (unsigned)child.conf->haven.shutdown_timeout_ms :
	        5000);
}

int
child_main(int argc, char **argv)
{
	if (argc < 2)
		fatal("__child needs a plane name");
	if ((child.row = planes_find(argv[1])) == NULL)
		fatal("unknown plane %s", argv[1]);
	child.ops = child.row->ops;
	snprintf(child.plane, sizeof(child.plane), "%s", argv[1]);
	log_set_plane(child.plane);
	child_watch_parent();
	signal(SIGPIPE, SIG_IGN);
	/* Ctrl-C reaches the whole group; the parent decides how to stop. */
	signal(SIGINT, SIG_IGN);
	child.loop = ev_loop_new();
	(void)ev_signal_add(child.loop, SIGTERM, child_signal, NULL);
	ipc_chan_init(&child.chan, child.loop, CHILD_IPC_FD, child_recv, NULL);
	ev_run(child.loop);
	ipc_chan_fini(&child.chan);
	if (child.conf != NULL) {
		haven_conf_free(child.conf);
		free(child.conf);
	}
	ev_loop_free(child.loop);
	return 0;
}
