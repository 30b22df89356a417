/*
 * dns_plane.c - the traffic manager's authoritative server as a plane of
 * `haven run` (lib/plane.h): N worker processes, each serving every
 * listen address on its own UDP and TCP socket of one SO_REUSEPORT group
 * opened by the parent (so port 53 needs no capability in the worker, and
 * a worker's death loses nothing queued: the others adopt its sockets).
 *
 * Apply builds the new zone tables first (dns_load.c) and checks that the
 * parent handed over a socket for every listen address; only when all of
 * that worked does it swap tables, options and sockets, so a rejected
 * config leaves the worker serving the old one unchanged.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns_gslb.h"
#include "dns/dns_ixfr.h"
#include "dns/dns_sec.h" /* dns-sec */
#include "dns/dns_srv.h"
#include "dns/dns_tls.h"
#include "dns/dns_xfr.h" /* dns-xfr */
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/plane.h"
#include "lib/util.h"

/*
 * The worker's server: allocated by init, it lives until the process
 * exits, since the runtime may still call query and metrics after stop.
 * This is the only file-scope reference to it: the hooks of struct
 * plane_ops carry no context pointer, so they reach it here; everything
 * they call gets it as a parameter, and event callbacks get it from the
 * object they are registered with (a socket's struct dns_sock, a
 * connection's struct dns_tcp_conn).
 */
static struct dns_srv *dns_plane_srv; /* owned */

void
dns_srv_client(const struct sockaddr_storage *ss, struct dns_client *cl)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };

	memset(cl, 0, sizeof(*cl));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		/* A v4 client on a dual-stack socket is a v4 client. */
		if (memcmp(s6->sin6_addr.s6_addr, mapped, 12) == 0) {
			cl->family = AF_INET;
			memcpy(cl->addr, s6->sin6_addr.s6_addr + 12, 4);
			cl->bits = 32;
			return;
		}
		cl->family = AF_INET6;
		memcpy(cl->addr, s6->sin6_addr.s6_addr, 16);
		cl->bits = 128;
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		cl->family = AF_INET;
		memcpy(cl->addr, &s4->sin_addr, 4);
		cl->bits = 32;
	}
}

/* A socket's name: "udp/ADDR", "tcp/ADDR", or "tls/ADDR" for the TCP
 * sockets of dns.tls.listen. */
static void
dns_plane_sock_name(
    char *out, size_t size, const char *kind, const struct sockaddr_storage *ss)
{
	char a[64];

	snprintf(out, size, "%s/%s", kind, conf_addr_str(ss, a, sizeof(a)));
}

static int
dns_plane_init(struct ev_loop *loop, unsigned worker, unsigned nworkers)
{
	struct dns_srv *s = xcalloc(1, sizeof(*s));

	dns_plane_srv = s;
	s->loop = loop;
	s->worker = worker;
	s->scratch = xmalloc(2 + DNS_MSG_MAX);
	s->rt = dns_gslb_rt_new(loop, worker);
	s->dyn = dns_gslb_rt_dyn(s->rt);
	s->xfr = dns_xfr_tcp; /* dns-xfr: AXFR/IXFR responder */
	s->ixfr = dns_ixfr_new(worker);
	s->notify = dns_notify_new(s, nworkers); /* dns-xfr */
	s->sec = dns_sec_new(s);                 /* dns-sec */
	s->cat_dir = xstrdup("");
	dns_udp_init(s);
	return 0;
}

/* ---- sockets ---- */

/* The family of fd's address if it is a wildcard (0.0.0.0, ::), else 0. */
static int
dns_plane_wildcard(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	static const uint8_t any6[16];

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return 0;
	if (ss.ss_family == AF_INET &&
	    ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY))
		return AF_INET;
	if (ss.ss_family == AF_INET6 &&
	    memcmp(((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr, any6, 16) ==
	        0)
		return AF_INET6;
	return 0;
}

static void
dns_plane_sock_watch(struct dns_srv *s, struct dns_sock *k)
{
	unsigned ev = EV_READ;

	if (s->stopping) {
		ev_io_stop(s->loop, &k->io);
		return;
	}
	/* Adopted sockets are polled by every live worker: one wakes. */
	if (k->adopted)
		ev |= EV_EXCLUSIVE;
	ev_io_stop(s->loop, &k->io);
	if (ev_io_start(s->loop, &k->io, ev) != 0)
		log_warn("dns socket not polled", "name=%s slot=%u", k->name,
		    k->slot);
}

static void
dns_plane_sock_free(struct dns_srv *s, struct dns_sock *k)
{
	ev_io_stop(s->loop, &k->io);
	close(k->fd);
	k->fd = -1;
	ev_defer_free(s->loop, k, free);
}

static struct dns_sock *
dns_plane_sock_new(struct dns_srv *s, const struct plane_sock *ps)
{
	struct dns_sock *k;
	socklen_t sl = sizeof(int);
	int fd, type = 0, on = 1;

	if ((fd = fcntl(ps->fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == -1 ||
	    (type != SOCK_DGRAM && type != SOCK_STREAM)) {
		close(fd);
		return NULL;
	}
	(void)util_set_nonblock(fd);
	k = xcalloc(1, sizeof(*k));
	k->srv = s;
	snprintf(k->name, sizeof(k->name), "%s", ps->name);
	k->slot = ps->slot;
	k->adopted = ps->adopted;
	k->type = type;
	k->tls = type == SOCK_STREAM && strncmp(ps->name, "tls/", 4) == 0;
	k->fd = fd;
	/* Options of the shared socket: every worker sets the same ones.
	 * The parent's IPv6 sockets are V6ONLY: one option each. */
	if (type == SOCK_DGRAM) {
		int fam = dns_plane_wildcard(fd);

		if (fam == AF_INET)
			k->pktinfo = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on,
			                 sizeof(on)) == 0;
		else if (fam == AF_INET6)
			k->pktinfo =
			    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
			        sizeof(on)) == 0;
	}
	ev_io_init(&k->io, fd,
	    type == SOCK_DGRAM ? dns_udp_read_cb : dns_tcp_accept_cb, k);
	return k;
}

/* Make the served sockets those of socks (own and adopted). */
static void
dns_plane_socks_set(struct dns_srv *s, const struct plane_sock *socks, size_t n)
{
	struct dns_sock *k, **pp;

	for (k = s->socks; k != NULL; k = k->next)
		k->seen = false;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(socks[i].name, "xdp/", 4) == 0)
			continue; /* dns_xdp_socks */
		for (k = s->socks; k != NULL; k = k->next)
			if (k->slot == socks[i].slot &&
			    strcmp(k->name, socks[i].name) == 0)
				break;
		if (k == NULL) {
			if ((k = dns_plane_sock_new(s, &socks[i])) == NULL) {
				log_warn("dns socket not taken", "name=%s",
				    socks[i].name);
				continue;
			}
			k->next = s->socks;
			s->socks = k;
		}
		k->seen = true;
		k->adopted = socks[i].adopted;
		dns_plane_sock_watch(s, k);
	}
	for (pp = &s->socks; (k = *pp) != NULL;) {
		if (k->seen) {
			pp = &k->next;
			continue;
		}
		*pp = k->next;
		dns_plane_sock_free(s, k);
	}
	dns_xdp_socks(s, socks, n);
}

static void
dns_plane_adopt(const struct plane_sock *socks, size_t n)
{
	dns_plane_socks_set(dns_plane_srv, socks, n);
	dns_notify_sockets(dns_plane_srv); /* dns-xfr */
}

/* Whether env holds this worker's own socket kind/ss; else reported. */
static int
dns_plane_check_sock(const struct plane_env *env, const char *kind,
    const struct sockaddr_storage *ss, struct conf_errors *errs)
{
	char name[128];

	dns_plane_sock_name(name, sizeof(name), kind, ss);
	for (size_t j = 0; j < env->nsocks; j++)
		if (!env->socks[j].adopted &&
		    strcmp(env->socks[j].name, name) == 0)
			return 0;
	conf_errors_addf(
	    errs, "dns", 0, 0, "listen %s: no socket from the parent", name);
	return 1;
}

/* Every listen address has its two sockets of this worker, every TLS
 * one its TCP socket. */
static int
dns_plane_check_socks(const struct dns_conf *c, const struct plane_env *env,
    struct conf_errors *errs)
{
	int nerr = 0;

	for (size_t i = 0; i < c->nlisten; i++) {
		nerr +=
		    dns_plane_check_sock(env, "udp", &c->listen_addr[i], errs);
		nerr +=
		    dns_plane_check_sock(env, "tcp", &c->listen_addr[i], errs);
	}
	for (size_t i = 0; i < c->tls.nlisten && c->tls.listen_addr != NULL;
	     i++)
		nerr += dns_plane_check_sock(
		    env, "tls", &c->tls.listen_addr[i], errs);
	return nerr;
}

/*
 * The TLS context of c's dns.tls, read from its files now (a reload
 * picks up a renewed certificate): *out, NULL without the section.
 * Connections keep the context they started on (OpenSSL counts it).
 */
static int
dns_plane_tls(
    const struct dns_conf *c, struct ssl_ctx_st **out, struct conf_errors *errs)
{
	char err[512];

	*out = NULL;
	if (c->tls.cert_path == NULL)
		return 0;
	*out = dns_tls_ctx_new(
	    c->tls.cert_path, c->tls.key_path, err, sizeof(err));
	if (*out != NULL)
		return 0;
	conf_errors_addf(errs, "dns", 0, 0, "tls: %s", err);
	return -1;
}

/* ---- apply ---- */

static void
dns_plane_rrl(
    struct dns_srv *s, const struct dns_conf *o, const struct dns_conf *c)
{
	struct dns_rrl_params p = {
		.rate = c->rrl.responses_per_second,
		.slip = c->rrl.slip,
		.window_s = (uint32_t)((c->rrl.window_ms + 999) / 1000),
		.v4_prefix = (uint8_t)c->rrl.ipv4_prefix,
		.v6_prefix = (uint8_t)c->rrl.ipv6_prefix,
		.buckets = DNS_RRL_BUCKETS,
	};

	/* Same limits: the buckets' accounts carry over. */
	if (o != NULL && s->rrl != NULL &&
	    memcmp(&o->rrl, &c->rrl, sizeof(c->rrl)) == 0)
		return;
	dns_rrl_free(s->rrl);
	s->rrl = p.rate > 0 ? dns_rrl_new(&p) : NULL;
}

/*
 * The server cookie secret (dns_cookie.h), the same for every worker so
 * that a cookie minted by one checks in another, and kept across restarts
 * so that clients' cookies stay valid: <state_dir>/dns-cookie-secret,
 * made by the first worker that finds none (a temp file linked into place,
 * so of two racing workers one wins and both read the winner's). Without
 * a state directory, or when it fails, each worker makes its own: cookies
 * then still work, but one worker's are "bad" in another.
 */
static void
dns_plane_cookie_secret(struct dns_srv *s, const char *state_dir)
{
	uint8_t key[DNS_COOKIE_SECRET_LEN];
	char *path = NULL, *tmp = NULL;
	ssize_t n = -1;
	int fd;

	randombytes_buf(key, sizeof(key));
	if (state_dir == NULL)
		goto own;
	path = xasprintf("%s/dns-cookie-secret", state_dir);
	tmp = xasprintf("%s.%u.%ld", path, s->worker, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) !=
	    -1) {
		bool ok =
		    util_write_all(fd, key, sizeof(key)) == 0 && fsync(fd) == 0;

		close(fd);
		if (ok)
			(void)link(tmp, path); /* EEXIST: another's won */
		unlink(tmp);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, s->cookie_secret, sizeof(s->cookie_secret));
		close(fd);
	}
	if (n == (ssize_t)sizeof(s->cookie_secret))
		goto out;
	log_warn("dns cookie secret not shared", "path=%s", log_q(path));
own:
	memcpy(s->cookie_secret, key, sizeof(key));
out:
	sodium_memzero(key, sizeof(key));
	free(path);
	free(tmp);
}

static int
dns_plane_apply(const void *old, const void *conf, const struct plane_env *env,
    struct conf_errors *errs)
{
	const struct dns_conf *o = old, *c = conf;
	struct dns_srv *s = dns_plane_srv;
	struct dns_srv_zones *z = NULL;
	struct ssl_ctx_st *tls = NULL;
	size_t nsid_len;
	int rc;

	dns_sec_set_dir(s->sec, env->state_dir); /* dns-sec: the copies */
	free(s->cat_dir); /* the catalogs' serials (dns_catalog.h) */
	s->cat_dir = env->state_dir != NULL && env->state_dir[0] != '\0' ?
	    xasprintf("%s/dns-catalog", env->state_dir) :
	    xstrdup("");
	/* The keys a reload could not read: c's not-bound fields are the
	 * plane's to complete, and c is what later rebuilds load from. */
	dns_conf_key_inherit((struct dns_conf *)c, o);
	if (dns_load_build(c, s->sec->dir, s->cat_dir, false, &z, errs) != 0 ||
	    dns_plane_check_socks(c, env, errs) != 0 ||
	    dns_plane_tls(c, &tls, errs) != 0)
		goto reject;
	/* The runtime keeps its old state when it refuses: nothing else
	 * has changed yet. */
	if ((rc = dns_gslb_rt_apply(s->rt, &c->gslb, env->state_dir,
	         env->targets, env->ntargets)) != 0) {
		conf_errors_addf(errs, "dns", 0, 0,
		    "GSLB state not applied: %s", strerror(-rc));
		goto reject;
	}
	s->conf = c;
	dns_tls_ctx_free(s->tls);
	s->tls = tls;
	s->opts.udp_max = (uint16_t)c->edns_udp_size;
	s->opts.tcp = false;
	nsid_len = c->nsid != NULL ? strlen(c->nsid) : 0;
	if (nsid_len > DNS_NSID_MAX)
		nsid_len = DNS_NSID_MAX;
	memcpy(s->nsid, c->nsid != NULL ? c->nsid : "", nsid_len);
	s->opts.nsid = nsid_len > 0 ? s->nsid : NULL;
	s->opts.nsid_len = (uint16_t)nsid_len;
	if (c->cookies && s->opts.cookie_secret == NULL) {
		dns_plane_cookie_secret(s, env->state_dir);
		s->opts.cookie_secret = s->cookie_secret;
	} else if (!c->cookies) {
		s->opts.cookie_secret = NULL;
	}
	dns_plane_rrl(s, o, c);
	dns_ixfr_set_dir(s->ixfr, env->state_dir);
	dns_ixfr_update(s->ixfr, c, s->zones, z); /* before the swap */
	dns_notify_apply(s, s->zones, z); /* dns-xfr: NOTIFY on new serials */
	dns_srv_zones_unref(s->zones);
	s->zones = z;
	dns_plane_socks_set(s, env->socks, env->nsocks);
	dns_tcp_apply(s);
	dns_sec_apply(s, env->state_dir); /* dns-sec: watch, refresh */
	log_info("dns config applied",
	    "worker=%u zones=%zu listen=%zu gslb_names=%zu", s->worker,
	    c->nzones, c->nlisten, c->gslb.nnames);
	return 0;
reject:
	dns_tls_ctx_free(tls);
	dns_srv_zones_unref(z);
	log_warn("dns config rejected", "worker=%u", s->worker);
	return -EINVAL;
}

/* Verdicts for our pools' addresses, one or an array of them; the
 * other workers' zone serials (dns-xfr). */
static void
dns_plane_on_msg(const struct ipc_msg *msg)
{
	struct dns_srv *s = dns_plane_srv;
	const char *data = msg->data;

	if (msg->type == IPC_ZONE_SERIALS) {
		dns_notify_report_in(s, msg->data, msg->len);
		return;
	}
	if (msg->type != IPC_VERDICT || msg->len == 0 ||
	    msg->len % sizeof(struct ipc_verdict) != 0) {
		plane_msg_bad();
		return;
	}
	for (size_t i = 0; i < msg->len / sizeof(struct ipc_verdict); i++) {
		struct ipc_verdict v;

		/* The payload may be unaligned: copy before use. */
		memcpy(&v, data + i * sizeof(v), sizeof(v));
		if (s->rt != NULL) /* NULL once stopped */
			dns_gslb_rt_verdict(s->rt, &v);
	}
}

/* Every connection has finished: the process may exit. */
static void
dns_plane_stopped(struct dns_srv *s)
{
	s->stopped = NULL;
	/* Flushes a pending state write (worker 0). */
	dns_gslb_rt_free(s->rt);
	s->rt = NULL;
	s->dyn = NULL;
	dns_notify_stop(s); /* dns-xfr */
	dns_sec_stop(s);    /* dns-sec */
	dns_tls_ctx_free(s->tls);
	s->tls = NULL;
	plane_stopped();
}

/*
 * Stop taking queries: UDP at once (a datagram in flight is answered by
 * the other workers or retried by the client), TCP once each connection
 * has sent what it owes; the runtime's deadline bounds the wait.
 */
static void
dns_plane_stop(unsigned deadline_ms)
{
	struct dns_srv *s = dns_plane_srv;

	if (s->stopping)
		return;
	s->stopping = true;
	for (struct dns_sock *k = s->socks; k != NULL; k = k->next)
		ev_io_stop(s->loop, &k->io);
	dns_xdp_stop(s);
	s->stopped = dns_plane_stopped;
	dns_tcp_drain(s);
	if (s->nconns == 0 && s->stopped != NULL)
		dns_plane_stopped(s);
}

/* ---- config side ---- */

/*
 * Queries and metrics are the two hooks the runtime (cmd/child.c) calls
 * whether or not init has run; the parent sends the hello first, so only
 * a worker that never got one takes these guards.
 */
static int
dns_plane_query(const char *method, const char *path, const char *body,
    size_t body_len, struct buf *out)
{
	if (dns_plane_srv == NULL) {
		buf_puts(out, "{\"error\":\"dns server not initialised\"}");
		return 503;
	}
	return dns_api_query(dns_plane_srv, method, path, body, body_len, out);
}

/* dns-xfr: the server's families, then the transfer and NOTIFY ones. */
static void
dns_plane_metrics(struct buf *out)
{
	if (dns_plane_srv != NULL)
		dns_api_metrics(dns_plane_srv, out);
	dns_xfr_metrics(dns_plane_srv, out);
	dns_ixfr_metrics(
	    dns_plane_srv != NULL ? dns_plane_srv->ixfr : NULL, out);
	dns_sec_metrics(dns_plane_srv, out); /* dns-sec */
}

static size_t
dns_plane_sockets(const void *conf, struct plane_sock_spec **out)
{
	const struct dns_conf *c = conf;
	size_t ntls = c->tls.listen_addr != NULL ? c->tls.nlisten : 0;
	/* plus one for the XDP socket, one so xcalloc never sees 0 */
	struct plane_sock_spec *v =
	    xcalloc(2 * c->nlisten + ntls + 2, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < c->nlisten && c->listen_addr != NULL; i++) {
		for (int t = 0; t < 2; t++) {
			v[n].type = t == 0 ? SOCK_DGRAM : SOCK_STREAM;
			v[n].addr = c->listen_addr[i];
			dns_plane_sock_name(v[n].name, sizeof(v[n].name),
			    t == 0 ? "udp" : "tcp", &v[n].addr);
			n++;
		}
	}
	for (size_t i = 0; i < ntls; i++) {
		v[n].type = SOCK_STREAM;
		v[n].addr = c->tls.listen_addr[i];
		dns_plane_sock_name(
		    v[n].name, sizeof(v[n].name), "tls", &v[n].addr);
		n++;
	}
	if (dns_xdp_conf_spec(c, &v[n])) /* the XDP fast path */
		n++;
	*out = v;
	return n;
}

static size_t
dns_plane_targets(const void *conf, struct plane_target **out)
{
	const struct dns_conf *c = conf;

	return dns_gslb_targets(&c->gslb, out);
}

/* Each pool's `check` must be a template of health.checks. */
static void
dns_plane_check_refs(struct conf_ctx *ctx, struct conf_node *node,
    const void *conf, const char *const *names, size_t n)
{
	const struct dns_conf *c = conf;
	struct conf_node *seq = conf_key_node(node, "pools");

	for (size_t i = 0; i < c->gslb.npools; i++) {
		const char *chk = c->gslb.pools[i].check;
		struct conf_node *at = conf_node_item(seq, i);
		size_t j;

		if (chk == NULL)
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(chk, names[j]) == 0)
				break;
		if (j < n)
			continue;
		if (at != NULL && conf_key_node(at, "check") != NULL)
			at = conf_key_node(at, "check");
		conf_error(ctx, at != NULL ? at : node,
		    "pool %s: check %s is not in health.checks",
		    c->gslb.pools[i].name, chk);
	}
}

/*
 * A plan executed or rolled back is standing state: a restarted worker
 * gets the operator's last word on it again (one key per plan, so a
 * rollback replaces the execute). A failback is a one-off.
 */
static char *
dns_plane_replay_key(const char *path)
{
	const char *last = strrchr(path, '/');

	if (last == NULL || strncmp(path, "/v1/dns/plans/", 14) != 0)
		return NULL;
	if (strcmp(last, "/execute") == 0 || strcmp(last, "/rollback") == 0)
		return xasprintf("%.*s/state", (int)(last - path), path);
	return NULL;
}

static unsigned
dns_plane_nprocs(const void *conf)
{
	const struct dns_conf *c = conf;

	return c->workers > 0 ? c->workers : 1;
}

const struct plane_ops dns_plane = {
	.name = "dns",
	.init = dns_plane_init,
	.apply = dns_plane_apply,
	.on_msg = dns_plane_on_msg,
	.adopt = dns_plane_adopt,
	.query = dns_plane_query,
	.metrics = dns_plane_metrics, /* dns-xfr: was dns_api_metrics */
	.stop = dns_plane_stop,
	.nprocs = dns_plane_nprocs,
	.sockets = dns_plane_sockets,
	.targets = dns_plane_targets,
	.check_refs = dns_plane_check_refs,
	.replay_key = dns_plane_replay_key,
	.status = dns_api_status_print,
};
