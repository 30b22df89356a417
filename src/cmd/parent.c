/*
 * parent.c - `haven run -c FILE`: load the config, start the control API,
 * supervise the planes, reload on SIGHUP or POST /v1/reload, stop everything
 * on SIGTERM/SIGINT within the configured deadline.
 *
 * Reload is parse → validate → compare restart-only keys → swap → send the
 * new text to every child, which diffs by name and keeps the runtime state of
 * what did not change. A config that fails validation changes nothing: the
 * error list is returned to the API caller and logged.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/parent.h"
#include "lib/log.h"
#include "lib/priv.h"
#include "lib/statefile.h"
#include "lib/util.h"

/* The plane's sockets first: the config commits them as the set. */
static void
parent_send_config(struct parent *p, struct sup_child *c)
{
	parent_socks_send(p, c);
	if (ipc_send(&c->chan, IPC_CONFIG, p->config_id, p->conf->text,
	        p->conf->text_len, -1) != 0)
		p->ipc_send_failed++;
}

static void
parent_spawned(struct sup_child *c, void *arg)
{
	struct parent *p = arg;
	struct ipc_hello h = { .worker = c->worker, .nworkers = c->nworkers };

	snprintf(h.plane, sizeof(h.plane), "%s", c->plane);
	parent_send(p, c, IPC_HELLO, &h, sizeof(h));
	parent_send_config(p, c);
	parent_relay_replay(p, c);
	parent_api_replay_ops(p, c);
}

static void
parent_config_result(
    struct parent *p, struct sup_child *c, const struct ipc_msg *m)
{
	const struct ipc_config_result *r = m->data;
	char text[1024];

	if (m->len < sizeof(*r)) {
		p->ipc_unexpected++;
		return;
	}
	if (r->ok) {
		if (c->state == SUP_STARTING) {
			c->state = SUP_RUNNING;
			/* Back: the others give up the sockets they adopted.
			 * At the first start too: a worker spawned before its
			 * siblings existed was handed their sockets to
			 * adopt (parent_slot_served), and would otherwise
			 * keep them until the next reload. */
			parent_socks_push(p, c);
		}
		parent_api_config_result(p, c, m->id, true, NULL, 0);
		return;
	}
	/*
	 * Validation passed in the parent; the plane hit a runtime error.
	 * The text after the result is not NUL-terminated: bound it.
	 */
	snprintf(text, sizeof(text), "%.*s",
	    (int)MIN(m->len - sizeof(*r), sizeof(text)), (const char *)(r + 1));
	log_err("plane rejected config", "plane=%s worker=%u errors=%s",
	    c->plane, c->worker, log_q(text[0] != '\0' ? text : "?"));
	if (c->state == SUP_STARTING)
		c->state = SUP_RUNNING;
	parent_api_config_result(
	    p, c, m->id, false, (const char *)(r + 1), m->len - sizeof(*r));
}

/* Any child answers config and queries; the rest its row must allow. */
#define PARENT_MSG_ANY (PLANE_MSG(IPC_CONFIG_RESULT) | PLANE_MSG(IPC_REPLY))

void
parent_child_msg(struct sup_child *c, const struct ipc_msg *m, void *arg)
{
	struct parent *p = arg;
	const struct plane_row *row = planes_find(c->plane);

	if (row == NULL || (unsigned)m->type >= IPC__COUNT ||
	    ((PARENT_MSG_ANY | row->sends) & PLANE_MSG(m->type)) == 0) {
		if (row != NULL && (unsigned)m->type < IPC__COUNT)
			p->ipc_dropped[planes_index(row)][m->type]++;
		else
			p->ipc_unexpected++;
		if (m->fd != -1)
			close(m->fd);
		return;
	}
	switch (m->type) {
	case IPC_CONFIG_RESULT:
		parent_config_result(p, c, m);
		break;
	case IPC_REPLY:
		parent_api_reply_msg(p, c, m);
		break;
	case IPC_VERDICT:
		parent_relay_verdict(p, m);
		break;
	case IPC_PASSIVE:
		parent_relay_passive(p, m);
		break;
	case IPC_ZONE_SERIALS:
		parent_relay_worker0(p, c, m);
		break;
	default:
		p->ipc_unexpected++;
		break;
	}
	if (m->fd != -1)
		close(m->fd);
}

static void
parent_child_exited(struct sup_child *c, void *arg)
{
	struct parent *p = arg;

	parent_api_child_gone(p, c);
	/* Died: until it is back, the others drain its sockets' queues. */
	if (c->state == SUP_BACKOFF && !p->stopping)
		parent_socks_push(p, c);
}

unsigned
parent_plane_procs(const struct parent *p, const struct plane_row *row)
{
	return haven_conf_procs(p->conf, row);
}

/* Count the live (not stopping) children of a plane. */
static unsigned
parent_count(struct parent *p, const struct plane_row *row)
{
	unsigned n = 0;

	for (struct sup_child *c = sup_first(p->sup); c; c = c->next)
		if (strcmp(c->plane, row->name) == 0 &&
		    c->state != SUP_STOPPED && c->state != SUP_STOPPING)
			n++;
	return n;
}

/*
 * Make the set of running children match the config: start planes that are
 * now enabled, stop those that are not, resize a plane's worker set (a
 * resize restarts its workers, since each knows its index among N). A plane
 * that sent verdicts and stops leaves none behind: every subscriber forgets
 * them.
 */
void
parent_apply_planes(struct parent *p)
{
	unsigned stop_ms = (unsigned)p->conf->haven.shutdown_timeout_ms;

	for (size_t i = 0; i < nplanes; i++) {
		const struct plane_row *row = &planes[i];
		unsigned want = parent_plane_procs(p, row);

		if (parent_count(p, row) == want)
			continue;
		for (struct sup_child *c = sup_first(p->sup); c; c = c->next)
			if (strcmp(c->plane, row->name) == 0)
				sup_stop(c, stop_ms);
		for (unsigned w = 0; w < want; w++)
			(void)sup_start(p->sup, row->name, w, want);
		if (want == 0 && (row->sends & PLANE_MSG(IPC_VERDICT)))
			parent_relay_forget_all(p);
	}
}

/*
 * Apply the config's tokens to the TCP listener (at start and on reload) and
 * say it loudly when the operator waived them.
 */
static void
parent_api_set_access(struct parent *p)
{
	const struct haven_conf *c = p->conf;
	struct api_access acc;

	if (c->api.listen.ss_family == AF_UNSPEC)
		return;
	parent_api_access(c, &acc);
	api_server_set_tcp_access(p->api, &acc);
	if (acc.no_token)
		log_warn("INSECURE: the TCP control API takes requests without "
		         "a token; every local user can drain, disable and "
		         "reload",
		    "setting=%s", "api.insecure_no_token");
}

int
parent_reload(struct parent *p, struct buf *errtext)
{
	struct haven_conf *next = xcalloc(1, sizeof(*next));
	struct parent_sockset socks = { 0 };
	struct conf_errors errs;
	int r = -1;

	conf_errors_init(&errs);
	if (haven_conf_load(p->conf_path, next, &errs) != 0 ||
	    conf_restart_diff(
	        &haven_conf_schema, p->conf, next, p->conf_path, &errs) != 0 ||
	    parent_socks_prepare(p, next, &socks, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++) {
			char line[1024];

			snprintf(line, sizeof(line), "%s:%d:%d: %s",
			    errs.v[i].file, errs.v[i].line, errs.v[i].col,
			    errs.v[i].msg);
			buf_printf(errtext, "%s\n", line);
			log_err("config error", "error=%s", log_q(line));
		}
		p->reloads_failed++;
		log_err("config rejected; keeping the running config",
		    "file=%s errors=%zu digest=%s", log_q(p->conf_path), errs.n,
		    p->conf->digest);
		haven_conf_free(next);
		free(next);
		goto out;
	}
	if (strcmp(next->digest, p->conf->digest) == 0) {
		log_info("config unchanged", "digest=%s", next->digest);
	} else {
		log_info("config reloaded", "old=%.12s new=%.12s",
		    p->conf->digest, next->digest);
	}
	haven_conf_free(p->conf);
	free(p->conf);
	p->conf = next;
	p->config_id = ++p->next_id;
	parent_socks_commit(p, &socks);
	parent_api_set_access(p);
	p->conf_loaded_ms = util_wall_ms();
	p->reloads_ok++;
	log_set_level(p->conf->haven.log_level);
	sup_set_backoff_max(p->sup, p->conf->haven.restart_backoff_max_ms);
	for (struct sup_child *c = sup_first(p->sup); c; c = c->next)
		if (sup_child_live(c))
			parent_send_config(p, c);
	parent_apply_planes(p);
	r = 0;
out:
	conf_errors_fini(&errs);
	return r;
}

static void
parent_signal(struct ev_loop *loop, int signo, void *arg)
{
	struct parent *p = arg;
	struct buf err;

	if (signo == SIGHUP) {
		log_info("SIGHUP: reloading", "file=%s", log_q(p->conf_path));
		buf_init(&err);
		(void)parent_reload(p, &err);
		buf_fini(&err);
		return;
	}
	log_info("stopping", "signal=%d", signo);
	p->stopping = true;
	ev_break(p->loop);
}

static int
parent_listen(struct parent *p)
{
	const struct haven_conf *c = p->conf;
	char *dir = xstrdup(c->api.socket);
	struct api_access acc;
	int e;

	/* The socket's directory (e.g. /run/haven) may not exist yet. */
	(void)statefile_mkdir(dirname(dir));
	free(dir);
	parent_api_access(c, &acc);
	p->api = api_server_new(p->loop, parent_api_handle, p, c->api.max_body);
	if ((e = api_listen_unix(p->api, c->api.socket, &acc)) != 0) {
		log_err("cannot listen on the API socket", "path=%s error=%s",
		    log_q(c->api.socket), log_q(strerror(-e)));
		return -1;
	}
	if (c->api.listen.ss_family != AF_UNSPEC) {
		char a[96];

		conf_addr_str(&c->api.listen, a, sizeof(a));
		if ((e = api_listen_tcp(p->api, &c->api.listen, &acc)) != 0) {
			log_err("cannot listen on the API address",
			    "addr=%s error=%s", a, log_q(strerror(-e)));
			return -1;
		}
		log_info("API listening",
		    "addr=%s admin_token=%s read_token=%s", a,
		    c->api.token ? "set" : "none",
		    c->api.read_token ? "set" : "none");
		parent_api_set_access(p);
	}
	log_info("API listening", "socket=%s group=%s read_group=%s",
	    log_q(c->api.socket), c->api.group ? log_q(c->api.group) : "none",
	    c->api.read_group ? log_q(c->api.read_group) : "none");
	return 0;
}

/*
 * Soft descriptor limit up to the hard one before any child starts: the lb
 * workers inherit it and size their connection limit from it.
 */
static void
parent_raise_nofile(void)
{
	unsigned before, after;
	int e;

	if ((e = util_raise_nofile(&before, &after)) != 0)
		log_warn("cannot raise the descriptor limit",
		    "nofile=%u error=%s", util_nofile(), log_q(strerror(-e)));
	else
		log_info("descriptor limit", "nofile=%u was=%u", after, before);
}

/*
 * Files a section names relative to the config (dns zone files) are
 * relative to the config file's directory. The children bind the text
 * the parent sends without its file name, so the directory goes to them,
 * absolute, in the environment they inherit.
 */
static void
parent_conf_dir(const char *path)
{
	char *copy = xstrdup(path), *dir;

	if ((dir = realpath(dirname(copy), NULL)) != NULL) {
		(void)setenv("HAVEN_CONFIG_DIR", dir, 1);
		free(dir);
	}
	free(copy);
}

static void
parent_usage(FILE *f)
{
	fprintf(f,
	    "usage: haven run [-c FILE]\n"
	    "  Run the daemon in the foreground with FILE (default %s).\n"
	    "  SIGHUP reloads FILE; SIGTERM or SIGINT stops.\n",
	    HAVEN_DEFAULT_CONFIG);
}

/*
 * Started as root for children that drop to a user, the parent itself keeps
 * only what it needs to run them (PRIV_PARENT_KEEP) and what the registry
 * says its planes may use: no bug in the parent then reaches, say,
 * CAP_SYS_ADMIN or CAP_SYS_MODULE. Where that cannot be done (no
 * CAP_SETPCAP in a container) it says so and runs on.
 */
static void
parent_bound(struct parent *p)
{
	uint64_t keep = PRIV_PARENT_KEEP | planes_caps_bound() |
	    planes_caps_started(p->conf) | parent_socks_caps(p->conf);
	char err[160], caps[512];

	if (geteuid() != 0 || p->conf->haven.run_as.uid == 0)
		return;
	if (priv_bound(keep, err, sizeof(err)) != 0) {
		log_warn("cannot reduce the parent's capabilities", "error=%s",
		    log_q(err));
		return;
	}
	priv_caps_format(keep, caps, sizeof(caps));
	log_info("parent capabilities reduced", "caps=%s", caps);
}

/* The planes' sockets at start: one that cannot be bound stops it. */
static int
parent_open_socks(struct parent *p)
{
	struct parent_sockset set;
	struct conf_errors errs;
	int e;

	conf_errors_init(&errs);
	if ((e = parent_socks_prepare(p, p->conf, &set, &errs)) != 0)
		conf_errors_print(&errs, stderr);
	else
		parent_socks_commit(p, &set);
	conf_errors_fini(&errs);
	return e;
}

/* Everything cmd_run built, on the way out of a run or of a refused start;
 * each part may not have been made yet. */
static void
parent_free(struct parent *p)
{
	if (p->api != NULL)
		api_server_free(p->api);
	if (p->sup != NULL)
		sup_free(p->sup);
	parent_relay_fini(p);
	parent_socks_fini(p);
	haven_conf_free(p->conf);
	free(p->conf);
	free(p->conf_path);
	if (p->loop != NULL)
		ev_loop_free(p->loop);
	parent_single_stop(p);
}

int
cmd_run(int argc, char **argv)
{
	static const struct option opts[] = { { "config", 1, NULL, 'c' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	struct parent p = { 0 };
	struct conf_errors errs;
	const char *path = HAVEN_DEFAULT_CONFIG;
	int c, e;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c == 'c') {
			path = optarg;
		} else {
			parent_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	log_set_plane("main");
	parent_conf_dir(path);
	p.conf = xcalloc(1, sizeof(*p.conf));
	conf_errors_init(&errs);
	if (haven_conf_load(path, p.conf, &errs) != 0) {
		conf_errors_print(&errs, stderr);
		conf_errors_fini(&errs);
		free(p.conf);
		return 1;
	}
	conf_errors_fini(&errs);
	p.conf_path = xstrdup(path);
	p.started_ms = p.conf_loaded_ms = util_wall_ms();
	p.started_mono_ms = util_mono_ms();
	log_set_level(p.conf->haven.log_level);
	parent_raise_nofile();
	if ((e = statefile_mkdir(p.conf->haven.state_dir)) != 0)
		fatal("cannot create state directory %s: %s",
		    p.conf->haven.state_dir, strerror(-e));
	/* The planes write their state there after dropping root (child.c). */
	if (geteuid() == 0 && p.conf->haven.run_as.uid != 0 &&
	    (e = priv_chown_dir(p.conf->haven.state_dir,
	         p.conf->haven.run_as.uid, p.conf->haven.run_as.gid)) != 0)
		fatal("cannot hand the state directory %s to user %s: %s",
		    p.conf->haven.state_dir, p.conf->haven.run_as.name,
		    strerror(-e));
	if (parent_single_start(&p) != 0 || parent_open_socks(&p) != 0) {
		parent_free(&p);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	p.loop = ev_loop_new();
	if (parent_listen(&p) != 0) {
		parent_free(&p);
		return 1;
	}
	parent_bound(&p);
	p.sup = sup_new(p.loop, "/proc/self/exe", parent_spawned,
	    parent_child_msg, parent_child_exited, &p);
	sup_set_backoff_max(p.sup, p.conf->haven.restart_backoff_max_ms);
	(void)ev_signal_add(p.loop, SIGHUP, parent_signal, &p);
	(void)ev_signal_add(p.loop, SIGTERM, parent_signal, &p);
	(void)ev_signal_add(p.loop, SIGINT, parent_signal, &p);
	log_info("haven started", "version=%s pid=%d config=%s digest=%.12s",
	    HAVEN_VERSION, (int)getpid(), log_q(path), p.conf->digest);
	parent_apply_planes(&p);
	ev_run(p.loop);
	sup_stop_all(p.sup, (unsigned)p.conf->haven.shutdown_timeout_ms);
	parent_api_fini(&p);
	parent_free(&p);
	log_info("haven stopped", "pid=%d", (int)getpid());
	return 0;
}
