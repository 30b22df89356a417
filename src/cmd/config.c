/*
 * config.c - the schema of the top-level config and its loading: bytes in,
 * a validated struct haven_conf out, with the digest of those bytes.
 *
 * The sections of the planes come from the plane registry (cmd/planes.h):
 * one key per row, bound into that row's slot; rules that span sections go
 * through the planes' hooks from haven_conf_check, the only place that sees
 * the whole tree.
 */
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/config.h"
#include "lib/conf.h"
#include "lib/priv.h"
#include "lib/util.h"

#define HAVEN_CONF_FILE_MAX (16u << 20) /* the binder's limit too */

/* Index order is enum log_level's (lib/log.h). */
static const char *const haven_conf_log_levels[] = {
	"debug",
	"info",
	"notice",
	"warn",
	"error",
	NULL,
};

static bool
haven_conf_is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
	    sin6->sin6_addr.s6_addr[12] == 127;
}

/*
 * Resolve the children's user at load time, like the API groups: a typo is
 * a config error, not a child that cannot start.
 */
static void
haven_conf_check_user(
    struct conf_ctx *ctx, struct conf_node *node, struct haven_conf_haven *h)
{
	int e = priv_user_lookup(h->user, &h->run_as);

	if (e == 0)
		return;
	if (h->user != NULL)
		conf_error(ctx, conf_key_node(node, "user"),
		    "user: no such user '%s'%s%s", h->user,
		    e != -ENOENT ? ": " : "", e != -ENOENT ? strerror(-e) : "");
	else
		conf_error(ctx, NULL,
		    "neither user 'haven' nor 'nobody' exists: set haven.user");
}

/* The node name defaults to the host name: unique without configuration. */
static void
haven_conf_check_haven(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct haven_conf_haven *h = obj;
	char host[256];

	if (h->node == NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		h->node = xstrdup(host);
	} else if (h->node[0] == '\0') {
		conf_error(
		    ctx, conf_key_node(node, "node"), "node must not be empty");
	}
	if (h->state_dir != NULL && h->state_dir[0] != '/')
		conf_error(ctx, conf_key_node(node, "state_dir"),
		    "state_dir must be an absolute path, got '%s'",
		    h->state_dir);
	haven_conf_check_user(ctx, node, h);
}

/* Resolve a group name at load time: a typo is a config error, not a
 * socket nobody can use. */
static gid_t
haven_conf_group(struct conf_ctx *ctx, struct conf_node *node, const char *key,
    const char *name)
{
	struct group gr, *grp = NULL;
	char buf[16384];
	int e;

	if (name == NULL)
		return (gid_t)-1;
	e = getgrnam_r(name, &gr, buf, sizeof(buf), &grp);
	if (e != 0 || grp == NULL) {
		conf_error(ctx, conf_key_node(node, key),
		    "%s: no such group '%s'%s%s", key, name, e ? ": " : "",
		    e ? strerror(e) : "");
		return (gid_t)-1;
	}
	return grp->gr_gid;
}

/*
 * Tokens on TCP. Any local user (and, through a browser, any web page) can
 * reach a loopback port, and whoever reaches it controls every VIP and pool:
 * a TCP listener needs a token, loopback too, unless the operator writes
 * insecure_no_token, which only loopback may have.
 */
static void
haven_conf_check_api_tcp(
    struct conf_ctx *ctx, struct conf_node *node, struct haven_conf_api *a)
{
	bool has_token = a->token != NULL || a->read_token != NULL;
	char addr[64];

	if (a->token != NULL && a->token[0] == '\0')
		conf_error(ctx, conf_key_node(node, "token"),
		    "token must not be empty");
	if (a->read_token != NULL && a->read_token[0] == '\0')
		conf_error(ctx, conf_key_node(node, "read_token"),
		    "read_token must not be empty");
	if (a->token != NULL && a->read_token != NULL &&
	    strcmp(a->token, a->read_token) == 0)
		conf_error(ctx, conf_key_node(node, "read_token"),
		    "read_token equals token: which level would it give?");
	if (a->insecure_no_token && has_token)
		conf_error(ctx, conf_key_node(node, "insecure_no_token"),
		    "insecure_no_token contradicts token/read_token: "
		    "remove one");
	if (a->listen.ss_family == AF_UNSPEC)
		return;
	conf_addr_str(&a->listen, addr, sizeof(addr));
	if (a->insecure_no_token && !haven_conf_is_loopback(&a->listen))
		conf_error(ctx, conf_key_node(node, "insecure_no_token"),
		    "insecure_no_token is for loopback only; listen %s "
		    "needs api.token",
		    addr);
	else if (!has_token && !a->insecure_no_token)
		conf_error(ctx, conf_key_node(node, "listen"),
		    "listen %s needs api.token (admin) or api.read_token "
		    "(read-only); on loopback, api.insecure_no_token: true "
		    "waives it",
		    addr);
}

static void
haven_conf_check_api(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct haven_conf_api *a = obj;
	struct sockaddr_un sun;

	if (a->socket != NULL && a->socket[0] != '/')
		conf_error(ctx, conf_key_node(node, "socket"),
		    "socket must be an absolute path, got '%s'", a->socket);
	else if (a->socket != NULL && strlen(a->socket) >= sizeof(sun.sun_path))
		conf_error(ctx, conf_key_node(node, "socket"),
		    "socket path longer than %zu bytes",
		    sizeof(sun.sun_path) - 1);
	haven_conf_check_api_tcp(ctx, node, a);
	a->group_gid = haven_conf_group(ctx, node, "group", a->group);
	a->read_group_gid =
	    haven_conf_group(ctx, node, "read_group", a->read_group);
}

static int
haven_conf_target_cmp(const void *a, const void *b)
{
	const struct plane_target *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/*
 * Health targets share one namespace (the verdicts' names), so two planes
 * must not declare the same one: an lb pool and a dns pool both called
 * "web" with a server of the same label would get each other's verdicts.
 * A plane keeps its own names unique; across planes it is reported here,
 * at the later plane's section.
 */
static void
haven_conf_check_target_dups(struct conf_ctx *ctx, struct conf_node *node,
    const struct plane_target *t, size_t n)
{
	struct plane_target *s;

	if (n < 2)
		return;
	s = xmalloc(n * sizeof(*s));
	memcpy(s, t, n * sizeof(*s));
	qsort(s, n, sizeof(*s), haven_conf_target_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct plane_row *row;

		if (strcmp(s[i - 1].name, s[i].name) != 0 ||
		    strcmp(s[i - 1].plane, s[i].plane) == 0)
			continue;
		row = planes_find(s[i].plane);
		conf_error(ctx,
		    row != NULL ? conf_key_node(node, row->section) : node,
		    "health target \"%s\" is declared by both %s and %s; "
		    "rename one of the pools",
		    s[i].name, s[i - 1].plane, s[i].plane);
	}
	free(s);
}

/* Objects one plane names in another (vrrp track_pools: lb pools). */
static void
haven_conf_check_target_refs(
    struct conf_ctx *ctx, struct conf_node *node, struct haven_conf *c)
{
	struct plane_target *t;
	size_t n = haven_conf_targets(c, &t);

	haven_conf_check_target_dups(ctx, node, t, n);

	for (size_t i = 0; i < nplanes; i++)
		if (c->has[i] && planes[i].ops->target_refs != NULL)
			planes[i].ops->target_refs(ctx,
			    conf_key_node(node, planes[i].section),
			    c->slot[i].b, t, n);
	free(t);
}

/*
 * Rules across sections: a plane that names check templates (lb pools'
 * health_check) must name ones a plane offers (health.checks). A plane runs
 * when its section is present, even empty, so "lb: {}" starts the workers an
 * API call can then fill. A config with no plane section at all is refused:
 * a daemon that runs nothing is never what was meant, and an emptied or
 * truncated file sent with a reload would otherwise stop every plane that is
 * serving.
 */
static void
haven_conf_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct haven_conf *c = obj;
	const char **names = NULL;
	size_t nnames = 0;
	bool any = false;
	struct buf want;

	buf_init(&want);
	for (size_t i = 0; i < nplanes; i++) {
		c->has[i] = conf_key_node(node, planes[i].section) != NULL;
		any |= c->has[i];
		buf_printf(&want, "%s%s:",
		    i == 0              ? "" :
		        i + 1 < nplanes ? ", " :
		                          " or ",
		    planes[i].section);
	}
	if (!any)
		conf_error(ctx, NULL,
		    "no plane configured (add a %s section; "
		    "'%s: {}' runs an empty one)",
		    want.data, planes[0].section);
	buf_fini(&want);
	for (size_t i = 0; i < nplanes; i++) {
		const char **v = NULL;
		size_t n;

		if (planes[i].ops->check_names == NULL)
			continue;
		n = planes[i].ops->check_names(c->slot[i].b, &v);
		names = xrealloc(names, (nnames + n + 1) * sizeof(*names));
		for (size_t j = 0; j < n; j++)
			names[nnames++] = v[j];
		free(v);
	}
	for (size_t i = 0; i < nplanes; i++)
		if (c->has[i] && planes[i].ops->check_refs != NULL)
			planes[i].ops->check_refs(ctx,
			    conf_key_node(node, planes[i].section),
			    c->slot[i].b, names, nnames);
	free(names);
	haven_conf_check_target_refs(ctx, node, c);
}

static const struct conf_key haven_conf_haven_keys[] = {
	{ "node", CT_STRING, offsetof(struct haven_conf_haven, node),
	    .help = "this node's name (default: the host name)" },
	{ "state_dir", CT_STRING, offsetof(struct haven_conf_haven, state_dir),
	    "/var/lib/haven", .flags = CK_RESTART,
	    .help = "where health and VRRP state survive restarts" },
	{ "log_level", CT_ENUM, offsetof(struct haven_conf_haven, log_level),
	    "info", .enum_names = haven_conf_log_levels,
	    .help = "least severe level logged" },
	{ "shutdown_timeout", CT_DURATION,
	    offsetof(struct haven_conf_haven, shutdown_timeout_ms), "5s", 100,
	    5 * 60 * 1000, .help = "drain time before children are killed" },
	{ "restart_backoff_max", CT_DURATION,
	    offsetof(struct haven_conf_haven, restart_backoff_max_ms), "10s",
	    1000, 5 * 60 * 1000,
	    .help = "longest wait before restarting a crashed child" },
	{ "user", CT_STRING, offsetof(struct haven_conf_haven, user),
	    .flags = CK_RESTART,
	    .help = "started as root, the planes run as this user "
	            "(default haven, else nobody; root keeps root)" },
};

static const struct conf_schema haven_conf_haven_schema = {
	.name = "haven",
	.size = sizeof(struct haven_conf_haven),
	.keys = haven_conf_haven_keys,
	.nkeys = ARRAY_SIZE(haven_conf_haven_keys),
	.check = haven_conf_check_haven,
};

static const struct conf_key haven_conf_api_keys[] = {
	{ "socket", CT_STRING, offsetof(struct haven_conf_api, socket),
	    "/run/haven/haven.sock", .flags = CK_RESTART,
	    .help = "control API unix socket (0600; 0660 with group)" },
	{ "listen", CT_ADDR_PORT, offsetof(struct haven_conf_api, listen),
	    .flags = CK_RESTART,
	    .help = "optional TCP listener, e.g. 127.0.0.1:9900" },
	{ "token", CT_STRING, offsetof(struct haven_conf_api, token),
	    .flags = CK_SECRET,
	    .help = "admin bearer token for listen (every method)" },
	{ "read_token", CT_STRING, offsetof(struct haven_conf_api, read_token),
	    .flags = CK_SECRET,
	    .help = "read-only bearer token for listen (GET only)" },
	{ "insecure_no_token", CT_BOOL,
	    offsetof(struct haven_conf_api, insecure_no_token), "false",
	    .help = "loopback listen without a token: any local user is "
	            "admin" },
	{ .name = "hosts",
	    .type = CT_STRLIST,
	    .off = offsetof(struct haven_conf_api, hosts),
	    .count_off = offsetof(struct haven_conf_api, nhosts),
	    .help = "names besides the address and localhost that Host may "
	            "carry on listen" },
	{ "group", CT_STRING, offsetof(struct haven_conf_api, group),
	    .flags = CK_RESTART,
	    .help = "unix socket: members are admin (socket 0660)" },
	{ "read_group", CT_STRING, offsetof(struct haven_conf_api, read_group),
	    .flags = CK_RESTART,
	    .help = "unix socket: members may only read (socket 0666)" },
	{ "max_body", CT_SIZE, offsetof(struct haven_conf_api, max_body), "1m",
	    1024, 64 << 20, .help = "largest request body accepted" },
};

static const struct conf_schema haven_conf_api_schema = {
	.name = "api",
	.size = sizeof(struct haven_conf_api),
	.keys = haven_conf_api_keys,
	.nkeys = ARRAY_SIZE(haven_conf_api_keys),
	.check = haven_conf_check_api,
};

/* haven, api, then one section per registry row (the constructor). */
static struct conf_key haven_conf_keys[2 + PLANES_MAX] = {
	{ "haven", CT_SECTION, offsetof(struct haven_conf, haven),
	    .sub = &haven_conf_haven_schema },
	{ "api", CT_SECTION, offsetof(struct haven_conf, api),
	    .sub = &haven_conf_api_schema },
};

/*
 * size covers the whole struct, so binding zeroes path, text and digest
 * too: haven_conf_load_text sets them after a successful bind. nkeys is
 * set with the section keys, before main().
 */
struct conf_schema haven_conf_schema = {
	.name = "config",
	.size = sizeof(struct haven_conf),
	.keys = haven_conf_keys,
	.nkeys = 2,
	.check = haven_conf_check,
};

/* The registry is static data: its section keys are known before main. */
__attribute__((constructor)) static void
haven_conf_schema_init(void)
{
	if (nplanes > PLANES_MAX)
		fatal("%zu planes registered; PLANES_MAX is %d", nplanes,
		    PLANES_MAX);
	for (size_t i = 0; i < nplanes; i++) {
		struct conf_key *k = &haven_conf_keys[2 + i];

		if (planes[i].schema->size > HAVEN_CONF_SLOT)
			fatal("plane %s: section of %zu bytes; the slot has %d",
			    planes[i].name, planes[i].schema->size,
			    HAVEN_CONF_SLOT);
		k->name = planes[i].section;
		k->type = CT_SECTION;
		k->off = offsetof(struct haven_conf, slot) +
		    i * sizeof(union haven_conf_slot);
		k->sub = planes[i].schema;
		k->help = planes[i].help;
	}
	haven_conf_schema.nkeys = 2 + nplanes;
}

static void
haven_conf_digest(const char *text, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		fatal("SHA-256 failed");
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int
haven_conf_load_text(const char *name, const char *text, size_t len,
    struct haven_conf *c, struct conf_errors *errs, unsigned flags)
{
	int rc = conf_bind_text_flags(
	    &haven_conf_schema, name, text, len, c, errs, flags);

	/*
	 * The checks parse what the config points at (a zone file of a
	 * million records, say) and free it again; glibc would keep that
	 * heap in the parent and in every child, which all bind the
	 * config. Hand it back.
	 */
	(void)malloc_trim(0);
	if (rc != 0)
		return -EINVAL;
	c->path = xstrdup(name);
	c->text = xmalloc(len + 1);
	memcpy(c->text, text, len);
	c->text[len] = '\0';
	c->text_len = len;
	haven_conf_digest(text, len, c->digest);
	return 0;
}

/* All of fd, up to HAVEN_CONF_FILE_MAX + 1 bytes (the binder rejects more). */
static int
haven_conf_read(int fd, struct buf *b)
{
	ssize_t n;

	do {
		char *p = buf_reserve(b, 65536);

		n = read(fd, p, 65536);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -errno;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	} while (n > 0 && b->len <= HAVEN_CONF_FILE_MAX);
	return 0;
}

int
haven_conf_load(
    const char *path, struct haven_conf *c, struct conf_errors *errs)
{
	struct buf b;
	int fd, rc;

	memset(c, 0, sizeof(*c));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = -errno;
		conf_errors_addf(
		    errs, path, 0, 0, "cannot open: %s", strerror(-rc));
		return rc;
	}
	buf_init(&b);
	if ((rc = haven_conf_read(fd, &b)) != 0)
		conf_errors_addf(
		    errs, path, 0, 0, "cannot read: %s", strerror(-rc));
	else
		rc = haven_conf_load_text(
		    path, b.data != NULL ? b.data : "", b.len, c, errs, 0);
	close(fd);
	buf_fini(&b);
	return rc;
}

void
haven_conf_free(struct haven_conf *c)
{
	free(c->path);
	free(c->text);
	c->path = c->text = NULL;
	conf_schema_free(&haven_conf_schema, c);
}

bool
haven_conf_has(const struct haven_conf *c, const struct plane_row *row)
{
	return c->has[planes_index(row)];
}

bool
haven_conf_has_plane(const struct haven_conf *c, const char *name)
{
	const struct plane_row *row = planes_find(name);

	return row != NULL && haven_conf_has(c, row);
}

const void *
haven_conf_section(const struct haven_conf *c, const struct plane_row *row)
{
	return c->slot[planes_index(row)].b;
}

unsigned
haven_conf_procs(const struct haven_conf *c, const struct plane_row *row)
{
	if (!haven_conf_has(c, row))
		return 0;
	if (row->ops->nprocs == NULL)
		return 1;
	return row->ops->nprocs(haven_conf_section(c, row));
}

/* The check template's worst-case detection time, from whichever plane
 * offers templates (0: none does, or no such template). */
static uint64_t
haven_conf_detect_ms(const struct haven_conf *c, const char *check)
{
	uint64_t ms;

	for (size_t i = 0; check != NULL && i < nplanes; i++)
		if (c->has[i] && planes[i].ops->check_detect_ms != NULL &&
		    (ms = planes[i].ops->check_detect_ms(
		         c->slot[i].b, check)) != 0)
			return ms;
	return 0;
}

size_t
haven_conf_targets(const struct haven_conf *c, struct plane_target **out)
{
	size_t n = 0;

	*out = NULL;
	for (size_t i = 0; i < nplanes; i++) {
		struct plane_target *v = NULL;
		size_t k;

		if (!c->has[i] || planes[i].ops->targets == NULL)
			continue;
		k = planes[i].ops->targets(c->slot[i].b, &v);
		for (size_t j = 0; j < k; j++) {
			v[j].plane = planes[i].name;
			v[j].detect_ms = haven_conf_detect_ms(c, v[j].check);
		}
		if (k > 0) {
			*out = xrealloc(*out, (n + k) * sizeof(**out));
			memcpy(*out + n, v, k * sizeof(*v));
			n += k;
		}
		free(v);
	}
	return n;
}

/* ---- the registry's lookups (the rows are in planes.c) ----------------- */

const struct plane_row *
planes_find(const char *name)
{
	for (size_t i = 0; i < nplanes; i++)
		if (strcmp(planes[i].name, name) == 0)
			return &planes[i];
	return NULL;
}

size_t
planes_index(const struct plane_row *row)
{
	return (size_t)(row - planes);
}

uint64_t
planes_caps_started(const struct haven_conf *c)
{
	uint64_t caps = 0;

	for (size_t i = 0; i < nplanes; i++)
		if (planes[i].ops->caps != NULL &&
		    haven_conf_has(c, &planes[i]))
			caps |= planes[i].ops->caps(
			    haven_conf_section(c, &planes[i]),
			    c->haven.run_as.gid);
	return caps;
}

uint64_t
planes_caps_bound(void)
{
	uint64_t caps = 0;

	for (size_t i = 0; i < nplanes; i++)
		caps |= planes[i].caps_bound;
	return caps;
}
