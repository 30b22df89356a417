/*
 * parent_api.c - the control API as the parent serves it.
 *
 * The parent answers what it owns (status, config, reload, its own metrics)
 * and forwards the rest to the plane whose registry row owns the path's
 * prefix: to one process, or (fan-out PLANE_API_POST_ALL) GET to one and
 * POST to every worker, so every worker applies an operator's change.
 * /metrics gathers every process's part and merges it.
 * A forwarded request waits at most PARENT_QUERY_TIMEOUT for its children;
 * a child that dies or stays silent is left out, never waited for forever.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/parent.h"
#include "hc/hc.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/priv.h"
#include "lib/util.h"

#define PARENT_QUERY_TIMEOUT 3000

struct parent_part {
	struct sup_child *child; /* weak: cleared when it dies */
	char plane[16];          /* the child's, kept past its death */
	unsigned worker;         /* the child's, kept past its death */
	bool per_worker;         /* one of several workers of its plane */
	bool done;
	int status;
	char ctype[48];
	struct buf body; /* reply body; a reload's: the plane's error text */
};

struct parent_query {
	struct parent *p;          /* borrowed */
	struct parent_query *next; /* owned list link */
	uint32_t id;
	struct api_req *req; /* owned until answered */
	bool metrics;        /* merge all parts as Prometheus text */
	bool reload;         /* parts are config results of a reload */
	/* borrowed, static: keep a successful change for its replay */
	const struct plane_row *record;
	struct ev_timer timer;
	size_t nparts;
	struct parent_part *parts; /* owned: one per child asked */
};

static void
parent_query_free(struct parent *p, struct parent_query *q)
{
	struct parent_query **pp;

	for (pp = &p->queries; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	}
	ev_timer_stop(p->loop, &q->timer);
	for (size_t i = 0; i < q->nparts; i++)
		buf_fini(&q->parts[i].body);
	free(q->parts);
	free(q);
}

static void parent_metrics_own(struct parent *p, struct buf *b);
static void parent_query_check(struct parent_query *q);

static void
parent_op_free(struct parent_op *op)
{
	free(op->key);
	free(op->path);
	free(op->body);
	free(op);
}

/* Keep a change the plane says is a standing state (its replay_key). */
static void
parent_op_record(
    struct parent *p, const struct plane_row *row, const struct api_req *req)
{
	char *key;
	struct parent_op **pp, *op;

	if (row->ops->replay_key == NULL ||
	    (key = row->ops->replay_key(req->path)) == NULL)
		return;
	for (pp = &p->ops; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->row == row && strcmp((*pp)->key, key) == 0) {
			op = *pp;
			*pp = op->next;
			parent_op_free(op);
			break;
		}
	}
	op = xcalloc(1, sizeof(*op));
	op->row = row;
	op->key = key;
	op->path = xstrdup(req->path);
	op->body = xstrndup(req->body, req->body_len);
	op->body_len = req->body_len;
	/* Appended, so replay happens in the order the operator acted. */
	for (pp = &p->ops; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = op;
}

void
parent_api_replay_ops(struct parent *p, struct sup_child *c)
{
	for (struct parent_op *op = p->ops; op != NULL; op = op->next) {
		struct ipc_query iq = { .method = "POST" };

		if (strcmp(c->plane, op->row->name) != 0)
			continue;
		snprintf(iq.path, sizeof(iq.path), "%s", op->path);
		iq.body_len = (uint32_t)op->body_len;
		/* id 0: the reply matches no query and is dropped. */
		if (ipc_send2(&c->chan, IPC_QUERY, 0, &iq, sizeof(iq), op->body,
		        op->body_len, -1) != 0)
			p->ipc_send_failed++;
	}
}

/*
 * /metrics: ours and every child's part in one exposition. The workers of
 * one plane render the same series, so each sample of theirs gets a worker
 * label: without it they would be duplicates, which a scraper rejects.
 */
static void
parent_metrics_merge(struct parent_query *q)
{
	const char **texts = xcalloc(q->nparts + 1, sizeof(*texts));
	struct buf own, out;
	char w[16];
	size_t n = 0;

	buf_init(&own);
	buf_init(&out);
	parent_metrics_own(q->p, &own);
	texts[n++] = own.data;
	for (size_t i = 0; i < q->nparts; i++) {
		struct parent_part *pt = &q->parts[i];

		if (!pt->done || pt->status != 200)
			continue;
		if (pt->per_worker) {
			struct buf l;

			buf_init(&l);
			snprintf(w, sizeof(w), "%u", pt->worker);
			mx_add_label(&l, pt->body.data, "worker", w);
			buf_fini(&pt->body);
			pt->body = l;
		}
		texts[n++] = pt->body.data;
	}
	mx_merge(&out, texts, n);
	api_reply(q->req, 200, "text/plain; version=0.0.4", out.data, out.len);
	free(texts);
	buf_fini(&own);
	buf_fini(&out);
}

/*
 * A reload the parent accepted, once every process answered its config (or
 * did not in time): 200 when all applied it, else 422 with what each plane
 * said. A plane that refused keeps running its previous config.
 */
static void
parent_reload_finish(struct parent_query *q)
{
	struct buf b;
	struct jw w;
	bool ok = true;

	buf_init(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	for (size_t i = 0; i < q->nparts; i++)
		ok = ok && q->parts[i].done && q->parts[i].status == 200;
	jw_kbool(&w, "ok", ok);
	jw_kstr(&w, "digest", q->p->conf->digest);
	if (!ok)
		jw_kstr(&w, "error",
		    "a plane did not apply the config; it keeps its previous "
		    "one");
	jw_key(&w, "processes");
	jw_arr_begin(&w);
	for (size_t i = 0; i < q->nparts; i++) {
		const struct parent_part *pt = &q->parts[i];
		const char *s = pt->body.data ? pt->body.data : "";

		jw_obj_begin(&w);
		jw_kstr(&w, "plane", pt->plane);
		jw_kuint(&w, "worker", pt->worker);
		jw_kstr(&w, "result",
		    !pt->done             ? "no answer" :
		        pt->status == 200 ? "applied" :
		                            "rejected");
		if (pt->done && pt->status != 200) {
			jw_key(&w, "errors");
			jw_arr_begin(&w);
			while (*s) {
				size_t n = strcspn(s, "\n");

				jw_strn(&w, s, n);
				s += n + (s[n] == '\n');
			}
			jw_arr_end(&w);
		}
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	api_reply(q->req, ok ? 200 : 422, NULL, b.data, b.len);
	buf_fini(&b);
}

void
parent_api_config_result(struct parent *p, struct sup_child *c, uint32_t id,
    bool ok, const char *text, size_t len)
{
	for (struct parent_query *q = p->queries; q; q = q->next) {
		if (q->id != id || !q->reload)
			continue;
		for (size_t i = 0; i < q->nparts; i++) {
			struct parent_part *pt = &q->parts[i];

			if (pt->child != c || pt->done)
				continue;
			pt->done = true;
			pt->status = ok ? 200 : 422;
			buf_append(&pt->body, text, len);
		}
		parent_query_check(q);
		return;
	}
}

/* Every part is in (or timed out): answer the client. */
static void
parent_query_finish(struct parent_query *q)
{
	struct parent *p = q->p;
	struct parent_part *best = NULL;

	if (q->metrics) {
		parent_metrics_merge(q);
	} else if (q->reload) {
		parent_reload_finish(q);
	} else {
		/* The first answer, or the worst one if workers disagree. */
		for (size_t i = 0; i < q->nparts; i++) {
			struct parent_part *pt = &q->parts[i];

			if (pt->done &&
			    (best == NULL || pt->status > best->status))
				best = pt;
		}
		if (best == NULL) {
			api_error(q->req, 503, "plane did not answer");
		} else {
			if (q->record != NULL && best->status < 300)
				parent_op_record(p, q->record, q->req);
			api_reply(q->req, best->status, best->ctype,
			    best->body.data, best->body.len);
		}
	}
	q->req = NULL;
	parent_query_free(p, q);
}

static void
parent_query_check(struct parent_query *q)
{
	for (size_t i = 0; i < q->nparts; i++)
		if (!q->parts[i].done && q->parts[i].child != NULL)
			return;
	parent_query_finish(q);
}

static void
parent_query_timeout(struct ev_timer *t, void *arg)
{
	struct parent_query *q = arg;

	log_warn("plane query timed out", "path=%s", log_q(q->req->path));
	parent_query_finish(q);
}

void
parent_api_reply_msg(
    struct parent *p, struct sup_child *c, const struct ipc_msg *m)
{
	const struct ipc_reply *r = m->data;

	if (m->len < sizeof(*r) || m->len - sizeof(*r) < r->body_len) {
		p->ipc_unexpected++;
		return;
	}
	for (struct parent_query *q = p->queries; q; q = q->next) {
		if (q->id != m->id)
			continue;
		for (size_t i = 0; i < q->nparts; i++) {
			struct parent_part *pt = &q->parts[i];

			if (pt->child != c || pt->done)
				continue;
			pt->done = true;
			pt->status = r->status;
			memcpy(pt->ctype, r->content_type, sizeof(pt->ctype));
			pt->ctype[sizeof(pt->ctype) - 1] = '\0';
			buf_append(&pt->body, r + 1, r->body_len);
		}
		parent_query_check(q);
		return;
	}
}

void
parent_api_child_gone(struct parent *p, struct sup_child *c)
{
	struct parent_query *q, *next;

	for (q = p->queries; q != NULL; q = next) {
		next = q->next; /* q may be freed by the check */
		for (size_t i = 0; i < q->nparts; i++)
			if (q->parts[i].child == c && !q->parts[i].done)
				q->parts[i].child = NULL;
		parent_query_check(q);
	}
}

void
parent_api_fini(struct parent *p)
{
	while (p->ops != NULL) {
		struct parent_op *op = p->ops;

		p->ops = op->next;
		parent_op_free(op);
	}
	while (p->queries != NULL) {
		struct parent_query *q = p->queries;

		api_error(q->req, 503, "shutting down");
		q->req = NULL;
		parent_query_free(p, q);
	}
}

/*
 * Forward req to the live children of row's plane (all of them, or only the
 * first when one is enough). row NULL: every child (metrics).
 */
static void
parent_forward(struct parent *p, struct api_req *req,
    const struct plane_row *row, bool all, bool metrics)
{
	struct parent_query *q = xcalloc(1, sizeof(*q));
	struct ipc_query iq = { 0 };
	size_t cap = 0;

	q->p = p;
	q->id = ++p->next_id;
	q->req = req;
	q->metrics = metrics;
	q->record = all && !metrics && row != NULL && row->replay ? row : NULL;
	ev_timer_init(&q->timer, parent_query_timeout, q);
	snprintf(iq.method, sizeof(iq.method), "%.7s", req->method);
	/* The query string too: a plane may take parameters (?since=). */
	snprintf(iq.path, sizeof(iq.path), "%s%s%s", req->path,
	    req->query[0] != '\0' ? "?" : "", req->query);
	iq.body_len = (uint32_t)req->body_len;
	for (struct sup_child *c = sup_first(p->sup); c; c = c->next) {
		struct parent_part *pt;

		if (!sup_child_live(c))
			continue;
		if (row != NULL && strcmp(c->plane, row->name) != 0)
			continue;
		if (ipc_send2(&c->chan, IPC_QUERY, q->id, &iq, sizeof(iq),
		        req->body, req->body_len, -1) != 0)
			continue;
		if (q->nparts == cap) {
			cap = cap ? 2 * cap : 4;
			q->parts = xrealloc(q->parts, cap * sizeof(*q->parts));
		}
		pt = &q->parts[q->nparts++];
		memset(pt, 0, sizeof(*pt));
		pt->child = c;
		snprintf(pt->plane, sizeof(pt->plane), "%s", c->plane);
		pt->worker = c->worker;
		pt->per_worker = c->nworkers > 1;
		buf_init(&pt->body);
		if (!all)
			break;
	}
	q->next = p->queries;
	p->queries = q;
	if (q->nparts == 0 && !metrics) {
		q->req = NULL;
		parent_query_free(p, q);
		api_error(req, 503, row ? "plane not running" : "no plane");
		return;
	}
	ev_timer_start(p->loop, &q->timer, PARENT_QUERY_TIMEOUT);
	parent_query_check(q);
}

/*
 * uid and effective capabilities of pid as the kernel sees them (README,
 * Privileges); left out when the process is gone or /proc says nothing.
 */
static void
parent_status_priv(struct jw *w, pid_t pid)
{
	uint64_t caps;
	uid_t uid;

	if (pid <= 0 || priv_proc_status(pid, &uid, &caps) != 0)
		return;
	jw_kuint(w, "uid", uid);
	jw_key(w, "caps");
	jw_arr_begin(w);
	for (unsigned c = 0; c < 64; c++) {
		const char *name = priv_cap_name(c);
		char num[16];

		if (!(caps & PRIV_CAP(c)))
			continue;
		if (name == NULL) {
			snprintf(num, sizeof(num), "cap_%u", c);
			name = num;
		}
		jw_str(w, name);
	}
	jw_arr_end(w);
}

static void
parent_status(struct parent *p, struct api_req *req)
{
	uint64_t now = util_mono_ms();
	struct buf b;
	struct jw w;
	void *val;

	buf_init(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "version", HAVEN_VERSION);
	jw_kstr(&w, "node", p->conf->haven.node);
	jw_kint(&w, "pid", (int64_t)getpid());
	parent_status_priv(&w, getpid());
	jw_kuint(&w, "uptime_s", (now - p->started_mono_ms) / 1000);
	jw_key(&w, "config");
	jw_obj_begin(&w);
	jw_kstr(&w, "path", p->conf_path);
	jw_kstr(&w, "digest", p->conf->digest);
	jw_kuint(&w, "loaded_at_ms", p->conf_loaded_ms);
	jw_kuint(&w, "reloads", p->reloads_ok);
	jw_kuint(&w, "reloads_failed", p->reloads_failed);
	jw_obj_end(&w);
	jw_key(&w, "processes");
	jw_arr_begin(&w);
	for (struct sup_child *c = sup_first(p->sup); c; c = c->next) {
		if (c->state == SUP_STOPPED)
			continue;
		jw_obj_begin(&w);
		jw_kstr(&w, "plane", c->plane);
		jw_kuint(&w, "worker", c->worker);
		jw_kint(&w, "pid", c->pid);
		parent_status_priv(&w, c->pid);
		jw_kstr(&w, "state", sup_state_name(c->state));
		jw_kuint(&w, "restarts", c->restarts);
		jw_kuint(
		    &w, "uptime_s", c->pid ? (now - c->started_ms) / 1000 : 0);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "targets");
	jw_arr_begin(&w);
	for (size_t pos = 0; namemap_next(&p->vtab, &pos, NULL, &val);) {
		const struct ipc_verdict *v = val;

		jw_obj_begin(&w);
		jw_kstr(&w, "name", v->target);
		jw_kstr(&w, "state", hc_state_name(v->state));
		jw_kstr(&w, "reason", hc_reason_name(v->reason));
		jw_kuint(&w, "since_ms", v->since_ms);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	api_reply(req, 200, NULL, b.data, b.len);
	buf_fini(&b);
}

static void
parent_config(struct parent *p, struct api_req *req)
{
	struct buf b;
	struct jw w;

	buf_init(&b);
	jw_init(&w, &b);
	conf_to_json(&haven_conf_schema, p->conf, &w);
	api_reply(req, 200, NULL, b.data, b.len);
	buf_fini(&b);
}

/*
 * POST /v1/reload: a config the parent rejects is answered at once (400,
 * nothing changed); an accepted one once every process has said whether it
 * applied it (parent_reload_finish), so a plane's own refusal (a
 * certificate it cannot read, a capability it gave up) is not a 200.
 */
static void
parent_reload_req(struct parent *p, struct api_req *req)
{
	struct parent_query *q;
	struct buf err, b;
	struct jw w;
	size_t cap = 0;

	buf_init(&err);
	if (parent_reload(p, &err) == 0) {
		buf_fini(&err);
		q = xcalloc(1, sizeof(*q));
		q->p = p;
		q->id = p->config_id;
		q->req = req;
		q->reload = true;
		ev_timer_init(&q->timer, parent_query_timeout, q);
		for (struct sup_child *c = sup_first(p->sup); c; c = c->next) {
			struct parent_part *pt;

			if (!sup_child_live(c))
				continue;
			if (q->nparts == cap) {
				cap = cap ? 2 * cap : 4;
				q->parts =
				    xrealloc(q->parts, cap * sizeof(*q->parts));
			}
			pt = &q->parts[q->nparts++];
			memset(pt, 0, sizeof(*pt));
			pt->child = c;
			snprintf(pt->plane, sizeof(pt->plane), "%s", c->plane);
			pt->worker = c->worker;
			buf_init(&pt->body);
		}
		q->next = p->queries;
		p->queries = q;
		ev_timer_start(p->loop, &q->timer, PARENT_QUERY_TIMEOUT);
		parent_query_check(q);
		return;
	}
	buf_init(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kbool(&w, "ok", false);
	jw_kstr(&w, "digest", p->conf->digest);
	jw_kstr(&w, "error", "config rejected; nothing changed");
	jw_key(&w, "errors");
	jw_arr_begin(&w);
	for (const char *s = err.data ? err.data : ""; *s;) {
		size_t n = strcspn(s, "\n");

		jw_strn(&w, s, n);
		s += n + (s[n] == '\n');
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	api_reply(req, 400, NULL, b.data, b.len);
	buf_fini(&b);
	buf_fini(&err);
}

static void
parent_metrics_own(struct parent *p, struct buf *b)
{
	const struct api_stats *as = api_server_stats(p->api);
	struct buf l;

	mx_family(b, "haven_up", "gauge", "1 while the daemon runs.");
	mx_u64(b, "haven_up", NULL, 1);
	mx_family(b, "haven_uptime_seconds", "gauge", "Seconds since start.");
	mx_u64(b, "haven_uptime_seconds", NULL,
	    (util_mono_ms() - p->started_mono_ms) / 1000);
	mx_family(b, "haven_config_reloads_total", "counter",
	    "Config reloads by result.");
	mx_u64(b, "haven_config_reloads_total", "result=\"ok\"", p->reloads_ok);
	mx_u64(b, "haven_config_reloads_total", "result=\"failed\"",
	    p->reloads_failed);
	mx_family(b, "haven_process_restarts_total", "counter",
	    "Restarts of a child process after it died.");
	mx_family(b, "haven_process_up", "gauge",
	    "1 if the child process is running.");
	buf_init(&l);
	for (struct sup_child *c = sup_first(p->sup); c; c = c->next) {
		if (c->state == SUP_STOPPED)
			continue;
		buf_reset(&l);
		mx_label(&l, "plane", c->plane);
		buf_printf(&l, ",worker=\"%u\"", c->worker);
		mx_u64(b, "haven_process_restarts_total", l.data, c->restarts);
		mx_u64(b, "haven_process_up", l.data, c->pid != 0);
	}
	mx_family(
	    b, "haven_api_requests_total", "counter", "Control API requests.");
	mx_u64(b, "haven_api_requests_total", NULL, as->requests);
	mx_family(b, "haven_api_rejected_total", "counter",
	    "Control API requests refused, by cause.");
	mx_u64(b, "haven_api_rejected_total", "cause=\"bad_request\"",
	    as->bad_requests);
	mx_u64(b, "haven_api_rejected_total", "cause=\"conn_limit\"",
	    as->conn_rejected);
	mx_u64(
	    b, "haven_api_rejected_total", "cause=\"timeout\"", as->timeouts);
	mx_family(b, "haven_api_refused_total", "counter",
	    "Control API requests refused by the access rules, by reason.");
	for (int i = 0; i < API_REFUSE_N; i++) {
		char lbl[48];

		snprintf(lbl, sizeof(lbl), "reason=\"%s\"", api_refuse_name(i));
		mx_u64(b, "haven_api_refused_total", lbl, as->refused[i]);
	}
	mx_family(b, "haven_relay_messages_total", "counter",
	    "Messages relayed between planes.");
	mx_u64(b, "haven_relay_messages_total", "kind=\"verdict\"",
	    p->verdicts_relayed);
	mx_u64(b, "haven_relay_messages_total", "kind=\"passive\"",
	    p->passive_relayed);
	mx_family(b, "haven_ipc_unexpected_total", "counter",
	    "IPC messages dropped as malformed or unexpected.");
	mx_u64(b, "haven_ipc_unexpected_total", NULL, p->ipc_unexpected);
	mx_family(b, "haven_ipc_dropped_total", "counter",
	    "Messages from a child its plane may not send, by plane and type.");
	for (size_t i = 0; i < nplanes; i++) {
		for (int t = 0; t < IPC__COUNT; t++) {
			if (p->ipc_dropped[i][t] == 0)
				continue;
			buf_reset(&l);
			mx_label(&l, "plane", planes[i].name);
			mx_label(&l, "type", ipc_type_name(t));
			mx_u64(b, "haven_ipc_dropped_total", l.data,
			    p->ipc_dropped[i][t]);
		}
	}
	mx_family(b, "haven_ipc_send_failed_total", "counter",
	    "Messages to a child its channel refused.");
	mx_u64(b, "haven_ipc_send_failed_total", NULL, p->ipc_send_failed);
	mx_family(b, "haven_log_suppressed_total", "counter",
	    "Log lines dropped by rate limiting in the parent.");
	mx_u64(b, "haven_log_suppressed_total", NULL, log_suppressed_total());
	buf_fini(&l);
}

void
parent_api_access(const struct haven_conf *c, struct api_access *a)
{
	const struct haven_conf_api *api = &c->api;

	memset(a, 0, sizeof(*a));
	a->token = api->token;
	a->read_token = api->read_token;
	a->no_token = api->insecure_no_token;
	a->hosts = (const char *const *)api->hosts;
	a->nhosts = api->nhosts;
	/* By name: the gids are only meaningful when a name was given. */
	a->group = api->group != NULL ? api->group_gid : API_NO_GID;
	a->read_group =
	    api->read_group != NULL ? api->read_group_gid : API_NO_GID;
}

static bool
parent_prefix(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(path, prefix, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

const struct plane_row *
parent_api_route(const char *path)
{
	for (size_t i = 0; i < nplanes; i++)
		if (planes[i].api_prefix != NULL &&
		    parent_prefix(path, planes[i].api_prefix))
			return &planes[i];
	return NULL;
}

void
parent_api_handle(struct api_req *req, void *arg)
{
	struct parent *p = arg;
	bool get = strcmp(req->method, "GET") == 0;
	bool post = strcmp(req->method, "POST") == 0;
	const char *path = req->path;
	const struct plane_row *row;

	if (strcmp(path, "/v1/status") == 0 && get)
		parent_status(p, req);
	else if (strcmp(path, "/v1/config") == 0 && get)
		parent_config(p, req);
	else if (strcmp(path, "/v1/reload") == 0 && post)
		parent_reload_req(p, req);
	else if (strcmp(path, "/metrics") == 0 && get)
		parent_forward(p, req, NULL, true, true);
	else if ((row = parent_api_route(path)) != NULL && (get || post))
		parent_forward(p, req, row,
		    post && row->fanout == PLANE_API_POST_ALL, false);
	else if (strcmp(path, "/v1/status") == 0 ||
	    strcmp(path, "/v1/config") == 0 ||
	    strcmp(path, "/v1/reload") == 0 || strcmp(path, "/metrics") == 0)
		api_error(req, 405, "method not allowed");
	else
		api_error(req, 404, "no such endpoint");
}
