/*
 * dns_conf.c - schema of the `dns:` section (dns_conf.h) and its check
 * hook: listen addresses parsed and unique, zone names valid and unique,
 * each zone file parsed now with its errors at the zone file's own
 * file:line:col, every GSLB name inside a served zone, then the GSLB
 * cross-references (dns_gslb_conf_check).
 *
 * Zone file paths are relative to the config file's directory: the
 * directory in HAVEN_CONFIG_DIR when the parent set it (the children
 * bind the config text without its file name), else the directory of the
 * document being bound. $INCLUDE may only read files in the zone file's
 * directory or below it, after symlinks are resolved, so a zone file
 * cannot pull in /etc/shadow; nesting stops at DNS_CONF_INCLUDE_DEPTH.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns_alarm.h"
#include "dns/dns_answer.h"
#include "dns/dns_conf.h"
#include "dns/dns_gslb_conf.h"
#include "dns/dns_key.h"
#include "dns/dns_tls.h"
#include "dns/dns_zone.h"
#include "lib/util.h"

int
dns_conf_read_file(const char *path, char **text, size_t *len)
{
	struct stat st;
	size_t n = 0;
	ssize_t r;
	char *b;
	int fd, rc = 0;

	/* O_NONBLOCK: a FIFO named as a zone file must not hang the
	 * check; it is refused below as not a regular file. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -errno;
	if (fstat(fd, &st) == -1) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	if ((uint64_t)st.st_size > DNS_CONF_ZONE_FILE_MAX) {
		close(fd);
		return -EFBIG;
	}
	b = xmalloc((size_t)st.st_size + 1);
	/* The file may grow while read: stop at its size at open. */
	while (n < (size_t)st.st_size) {
		r = read(fd, b + n, (size_t)st.st_size - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = -errno;
			free(b);
			close(fd);
			return rc;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	*text = b;
	*len = n;
	return 0;
}

/* The directory that holds path (a new string). */
static char *
dns_conf_dirname(const char *path)
{
	char *copy = xstrdup(path), *d = xstrdup(dirname(copy));

	free(copy);
	return d;
}

/* What the parser's callbacks share: the confinement of $INCLUDE and
 * the caller's own callbacks, which get their arg back. */
struct dns_conf_incl {
	char *root; /* owned: real path of the zone file's directory */
	dns_zone_rr_fn *rr;
	dns_zone_err_fn *err;
	void *arg; /* borrowed: the caller's */
};

static int
dns_conf_incl_rr(const struct dns_zone_rr *rr, void *arg)
{
	struct dns_conf_incl *in = arg;

	return in->rr != NULL ? in->rr(rr, in->arg) : 0;
}

static void
dns_conf_incl_err(const char *msg, void *arg)
{
	struct dns_conf_incl *in = arg;

	if (in->err != NULL)
		in->err(msg, in->arg);
}

/*
 * $INCLUDE: path relative to the including file's directory; the real
 * path must lie under the zone's root.
 */
static int
dns_conf_include(const char *path, const char *from, unsigned depth,
    char **text, size_t *len, void *arg)
{
	struct dns_conf_incl *in = arg;
	char *dir, *joined, *real;
	size_t rl;
	int rc;

	if (depth > DNS_CONF_INCLUDE_DEPTH)
		return -ELOOP;
	if (path[0] == '/') {
		joined = xstrdup(path);
	} else {
		dir = dns_conf_dirname(from);
		joined = xasprintf("%s/%s", dir, path);
		free(dir);
	}
	real = realpath(joined, NULL);
	free(joined);
	if (real == NULL)
		return -errno;
	rl = strlen(in->root);
	if (strncmp(real, in->root, rl) != 0 ||
	    (real[rl] != '/' && strcmp(in->root, "/") != 0)) {
		free(real);
		return -EPERM;
	}
	rc = dns_conf_read_file(real, text, len);
	free(real);
	return rc;
}

void
dns_conf_split_err(const char *text, char *fbuf, size_t fsize, int *line,
    int *col, const char **msg)
{
	/* The file name may hold ':'; the position is the first
	 * ":digits:digits: " after it. */
	for (const char *p = text; (p = strchr(p, ':')) != NULL; p++) {
		char *e1, *e2;
		long l, c;

		if (p[1] < '0' || p[1] > '9')
			continue;
		l = strtol(p + 1, &e1, 10);
		if (*e1 != ':' || e1[1] < '0' || e1[1] > '9')
			continue;
		c = strtol(e1 + 1, &e2, 10);
		if (e2[0] != ':' || e2[1] != ' ' || l <= 0 || c <= 0 ||
		    l > INT_MAX || c > INT_MAX)
			continue;
		snprintf(fbuf, fsize, "%.*s", (int)(p - text), text);
		*line = (int)l;
		*col = (int)c;
		*msg = e2 + 2;
		return;
	}
	snprintf(fbuf, fsize, "%s", "");
	*line = *col = 0;
	*msg = text;
}

int
dns_conf_zone_parse(const struct dns_zone_item *z, dns_zone_rr_fn *rr,
    dns_zone_err_fn *err, void *arg)
{
	struct dns_zone_conf zc = { 0 };
	struct dns_conf_incl in = { 0 };
	char *text = NULL, *dir;
	size_t len = 0;
	int rc;

	if (z->path == NULL) /* dns-sec: a secondary zone has no file */
		return -ENOENT;
	if ((rc = dns_conf_read_file(z->path, &text, &len)) != 0) {
		char *m = xasprintf("%s:1:1: cannot read zone file: %s",
		    z->path, strerror(-rc));

		if (err != NULL)
			err(m, arg);
		free(m);
		return rc;
	}
	dir = dns_conf_dirname(z->path);
	in.root = realpath(dir, NULL);
	free(dir);
	if (in.root == NULL)
		in.root = xstrdup("/nonexistent");
	zc.origin = z->apex;
	zc.checks = DNS_ZONE_CHECK_ALL;
	zc.max_errors = 50;
	in.rr = rr;
	in.err = err;
	in.arg = arg;
	zc.rr = dns_conf_incl_rr;
	zc.err = dns_conf_incl_err;
	zc.include = dns_conf_include;
	zc.arg = &in;
	rc = dns_zone_parse(&zc, z->path, text, len, NULL);
	free(text);
	free(in.root);
	return rc;
}

/* ---- schema ---- */

/* The key's text is a secret: wiped before it is freed. */
static void
dns_conf_zone_fini(void *obj)
{
	struct dns_zone_item *z = obj;

	free(z->path);
	z->path = NULL;
	dns_conf_dnssec_fini(z);
	free(z->primary_addr);
	z->primary_addr = NULL;
	free(z->primaries_tls_ca_path);
	z->primaries_tls_ca_path = NULL;
	dns_xfr_conf_zone_fini(&z->xfr); /* dns-xfr */
}

static const struct conf_key dns_conf_zone_keys[] = {
	{ .name = "name",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_zone_item, name),
	    .flags = CK_REQUIRED,
	    .help = "the zone's apex, e.g. example.com" },
	{ .name = "file",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_zone_item, file),
	    .help = "zone file (RFC 1035 §5), relative to the config's "
	            "directory; or primaries" },
	{ .name = "primaries",
	    .type = CT_STRLIST,
	    .off = offsetof(struct dns_zone_item, primaries),
	    .count_off = offsetof(struct dns_zone_item, nprimaries),
	    .help = "\"ip:port\" of the primaries a secondary zone is "
	            "transferred from, tried in order; or file" },
	{ .name = "primaries_tls",
	    .type = CT_BOOL,
	    .off = offsetof(struct dns_zone_item, primaries_tls),
	    .help = "ask the primaries over TLS (XoT, RFC 9103): their "
	            "addresses are TLS ones, e.g. port 853" },
	{ .name = "primaries_tls_ca",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_zone_item, primaries_tls_ca),
	    .help = "PEM CA certificates the primaries' certificate must "
	            "verify against; without it the channel is encrypted "
	            "but the primary not authenticated" },
	{ .name = "primaries_tls_name",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_zone_item, primaries_tls_name),
	    .help = "the name the primaries' certificate must carry (SNI "
	            "too); needs primaries_tls_ca" },
	DNS_XFR_ZONE_KEYS(offsetof(struct dns_zone_item, xfr)), /* dns-xfr */
	{ .name = "dnssec",
	    .type = CT_SECTION,
	    .off = offsetof(struct dns_zone_item, dnssec),
	    .sub = &dns_conf_dnssec_schema,
	    .help = "sign the zone's answers online (DNSSEC)" },
};

static const struct conf_schema dns_conf_zone_schema = {
	.name = "dns.zones[]",
	.size = sizeof(struct dns_zone_item),
	.keys = dns_conf_zone_keys,
	.nkeys = ARRAY_SIZE(dns_conf_zone_keys),
	.fini = dns_conf_zone_fini,
};

static const struct conf_key dns_conf_tcp_keys[] = {
	{ .name = "idle_timeout",
	    .type = CT_DURATION,
	    .off = offsetof(struct dns_tcp_conf, idle_timeout_ms),
	    .dflt = "10s",
	    .min = 100,
	    .max = 3600 * 1000,
	    .help = "close a connection idle this long (RFC 7766 §6.2.3)" },
	{ .name = "max_connections",
	    .type = CT_UINT,
	    .off = offsetof(struct dns_tcp_conf, max_connections),
	    .dflt = "1000",
	    .min = 1,
	    .max = 1000000,
	    .help = "open connections per worker" },
	{ .name = "max_queries",
	    .type = CT_UINT,
	    .off = offsetof(struct dns_tcp_conf, max_queries),
	    .dflt = "0",
	    .min = 0,
	    .max = 0,
	    .help = "queries per connection before it is closed; 0: no "
	            "limit" },
};

static const struct conf_schema dns_conf_tcp_schema = {
	.name = "dns.tcp",
	.size = sizeof(struct dns_tcp_conf),
	.keys = dns_conf_tcp_keys,
	.nkeys = ARRAY_SIZE(dns_conf_tcp_keys),
};

static const struct conf_key dns_conf_rrl_keys[] = {
	{ .name = "responses_per_second",
	    .type = CT_UINT,
	    .off = offsetof(struct dns_rrl_conf, responses_per_second),
	    .dflt = "0",
	    .min = 0,
	    .max = 1000000,
	    .help = "responses per second per client prefix and answer; "
	            "0: off" },
	{ .name = "slip",
	    .type = CT_UINT,
	    .off = offsetof(struct dns_rrl_conf, slip),
	    .dflt = "2",
	    .min = 0,
	    .max = 100,
	    .help = "every Nth limited response goes out truncated (TC); "
	            "0: none" },
	{ .name = "window",
	    .type = CT_DURATION,
	    .off = offsetof(struct dns_rrl_conf, window_ms),
	    .dflt = "15s",
	    .min = 1000,
	    .max = 3600 * 1000,
	    .help = "credit a bucket may owe: limiting lasts this long "
	            "after a flood" },
	{ .name = "ipv4_prefix",
	    .type = CT_UINT,
	    .off = offsetof(struct dns_rrl_conf, ipv4_prefix),
	    .dflt = "24",
	    .min = 8,
	    .max = 32,
	    .help = "IPv4 clients share a bucket per prefix of this length" },
	{ .name = "ipv6_prefix",
	    .type = CT_UINT,
	    .off = offsetof(struct dns_rrl_conf, ipv6_prefix),
	    .dflt = "56",
	    .min = 16,
	    .max = 128,
	    .help = "IPv6 clients share a bucket per prefix of this length" },
};

static const struct conf_schema dns_conf_rrl_schema = {
	.name = "dns.rrl",
	.size = sizeof(struct dns_rrl_conf),
	.keys = dns_conf_rrl_keys,
	.nkeys = ARRAY_SIZE(dns_conf_rrl_keys),
};

static const struct conf_key dns_conf_keys[] = {
	{ .name = "listen",
	    .type = CT_STRLIST,
	    .off = offsetof(struct dns_conf, listen),
	    .count_off = offsetof(struct dns_conf, nlisten),
	    .help = "addresses to serve on, \"ip:port\": UDP and TCP each" },
	{ .name = "workers",
	    .type = CT_UINT,
	    .off = offsetof(struct dns_conf, workers),
	    .dflt = "1",
	    .min = 1,
	    .max = 256,
	    .flags = CK_RESTART,
	    .help = "server processes" },
	{ .name = "nsid",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_conf, nsid),
	    .help = "server id sent to clients that ask (RFC 5001)" },
	{ .name = "cookies",
	    .type = CT_BOOL,
	    .off = offsetof(struct dns_conf, cookies),
	    .dflt = "true",
	    .help = "answer DNS Cookies (RFC 7873, server cookies of RFC "
	            "9018); a valid one lets its client past rrl" },
	{ .name = "edns_udp_size",
	    .type = CT_UINT,
	    .off = offsetof(struct dns_conf, edns_udp_size),
	    .dflt = "1232",
	    .min = 512,
	    .max = 4096,
	    .help = "largest UDP answer to an EDNS client (RFC 6891)" },
	{ .name = "tcp",
	    .type = CT_SECTION,
	    .off = offsetof(struct dns_conf, tcp),
	    .sub = &dns_conf_tcp_schema,
	    .help = "TCP limits (RFC 7766)" },
	{ .name = "rrl",
	    .type = CT_SECTION,
	    .off = offsetof(struct dns_conf, rrl),
	    .sub = &dns_conf_rrl_schema,
	    .help = "response rate limiting" },
	{ .name = "zones",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_conf, zones),
	    .count_off = offsetof(struct dns_conf, nzones_conf),
	    .sub = &dns_conf_zone_schema,
	    .help = "zones served, one zone file each" },
	{ .name = "regions",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_conf, gslb.regions),
	    .count_off = offsetof(struct dns_conf, gslb.nregions),
	    .sub = &dns_region_schema,
	    .help = "GSLB source regions (networks)" },
	{ .name = "pools",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_conf, gslb.pools),
	    .count_off = offsetof(struct dns_conf, gslb.npools),
	    .sub = &dns_pool_schema,
	    .help = "GSLB address pools, health-checked" },
	{ .name = "names",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_conf, gslb.names),
	    .count_off = offsetof(struct dns_conf, gslb.nnames),
	    .sub = &dns_gname_schema,
	    .help = "GSLB names and their access policies" },
	{ .name = "plans",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_conf, gslb.plans),
	    .count_off = offsetof(struct dns_conf, gslb.nplans),
	    .sub = &dns_plan_schema,
	    .help = "DR plans: pools forced offline while executed" },
	{ .name = "tls",
	    .type = CT_SECTION,
	    .off = offsetof(struct dns_conf, tls),
	    .sub = &dns_conf_tls_schema,
	    .help = "addresses served through TLS 1.3: zone transfers (XoT, "
	            "RFC 9103) and queries (DoT, RFC 7858)" },
	{ .name = "tsig_keys", /* dns-xfr */
	    .type = CT_LIST,
	    .off = offsetof(struct dns_conf, tsig_keys),
	    .count_off = offsetof(struct dns_conf, ntsig_keys),
	    .sub = &dns_xfr_key_schema,
	    .help = "TSIG keys (RFC 8945) for transfers and NOTIFY" },
	{ .name = "catalogs",
	    .type = CT_LIST,
	    .off = offsetof(struct dns_conf, catalogs),
	    .count_off = offsetof(struct dns_conf, ncatalogs),
	    .sub = &dns_catalog_schema,
	    .help = "catalog zones (RFC 9432) listing the zones served" },
	{ .name = "alarms",
	    .type = CT_SECTION,
	    .off = offsetof(struct dns_conf, gslb.alarms),
	    .sub = &hook_alarm_schema,
	    .help = "where GSLB events are sent" },
	{ .name = "xdp",
	    .type = CT_SECTION,
	    .off = offsetof(struct dns_conf, xdp),
	    .sub = &dns_xdp_conf_schema,
	    .help = "XDP fast path for UDP queries (dns_xdp_conf.h)" },
};

static void
dns_conf_check_listen(
    struct conf_ctx *ctx, struct conf_node *node, struct dns_conf *c)
{
	struct conf_node *seq = conf_key_node(node, "listen");
	char a[64], b[64];

	c->listen_addr = xcalloc(c->nlisten + 1, sizeof(*c->listen_addr));
	for (size_t i = 0; i < c->nlisten; i++) {
		struct conf_node *n = conf_node_item(seq, i);

		if (conf_parse_addr(c->listen[i], true, &c->listen_addr[i]) !=
		    0) {
			conf_error(ctx, n,
			    "listen: expected ip:port or [ipv6]:port, got '%s'",
			    c->listen[i]);
			continue;
		}
		conf_addr_str(&c->listen_addr[i], a, sizeof(a));
		for (size_t j = 0; j < i; j++)
			if (strcmp(a,
			        conf_addr_str(
			            &c->listen_addr[j], b, sizeof(b))) == 0)
				conf_error(
				    ctx, n, "listen: %s listed twice", a);
	}
	if (c->nlisten == 0)
		conf_error(ctx, seq != NULL ? seq : node,
		    "listen: at least one address is needed");
}

/* The base directory of relative zone files (a new string). */
static char *
dns_conf_base_dir(struct conf_ctx *ctx)
{
	const char *env = getenv("HAVEN_CONFIG_DIR");
	const char *f = conf_ctx_file(ctx);

	if (env != NULL && env[0] == '/')
		return xstrdup(env);
	if (f != NULL && strchr(f, '/') != NULL)
		return dns_conf_dirname(f);
	return xstrdup(".");
}

struct dns_conf_errs {
	struct conf_ctx *ctx;
	unsigned n;
};

static void
dns_conf_zone_err(const char *text, void *arg)
{
	struct dns_conf_errs *e = arg;
	char file[PATH_MAX];
	const char *msg;
	int line, col;

	dns_conf_split_err(text, file, sizeof(file), &line, &col, &msg);
	conf_error_at(e->ctx, file[0] != '\0' ? file : conf_ctx_file(e->ctx),
	    line, col, "%s", msg);
	e->n++;
}

/*
 * dns-sec: a zone has a file or primaries, never both. Parses the
 * primaries of a secondary zone. Returns 0 when z has a file to read,
 * 1 when it has none (secondary, or in error).
 */
static int
dns_conf_check_primaries(struct conf_ctx *ctx, struct conf_node *node,
    struct dns_zone_item *z, size_t i)
{
	struct conf_node *at;

	free(z->primary_addr);
	z->primary_addr = NULL;
	if (z->file != NULL && z->nprimaries > 0) {
		conf_error(ctx, conf_item_node(node, "zones", i, "primaries"),
		    "zone %s: file and primaries: a zone has one or the other",
		    z->name);
		return 1;
	}
	if (z->file == NULL && z->nprimaries == 0) {
		at = conf_key_node(
		    conf_item_node(node, "zones", i, NULL), "primaries");
		conf_error(ctx,
		    at != NULL ? at : conf_item_node(node, "zones", i, NULL),
		    "zone %s: needs a file, or primaries to transfer it from",
		    z->name);
		return 1;
	}
	if (z->file != NULL) {
		if (z->primaries_tls || z->primaries_tls_ca != NULL ||
		    z->primaries_tls_name != NULL)
			conf_error(ctx, conf_item_node(node, "zones", i, NULL),
			    "zone %s: primaries_tls: for a secondary zone",
			    z->name);
		return 0;
	}
	z->primary_addr = xcalloc(z->nprimaries + 1, sizeof(*z->primary_addr));
	at = conf_item_node(node, "zones", i, "primaries");
	for (size_t j = 0; j < z->nprimaries; j++)
		if (conf_parse_addr(
		        z->primaries[j], true, &z->primary_addr[j]) != 0)
			conf_error(ctx,
			    conf_node_is_seq(at) &&
			            conf_node_item(at, j) != NULL ?
			        conf_node_item(at, j) :
			        at,
			    "zone %s: primaries: expected ip:port or "
			    "[ipv6]:port, got '%s'",
			    z->name, z->primaries[j]);
	return 1;
}

/*
 * dns-sec: a secondary zone's TLS to its primaries (XoT). The CA file is
 * loaded now, so `haven check` reports it at its line; the dns worker
 * that refreshes loads it again (it must be readable by haven.user).
 */
static void
dns_conf_check_primaries_tls(struct conf_ctx *ctx, struct conf_node *node,
    struct dns_zone_item *z, size_t i, const char *base)
{
	const char *ca = z->primaries_tls_ca;
	struct conf_node *at;
	char err[512];
	void *tls;

	free(z->primaries_tls_ca_path);
	z->primaries_tls_ca_path = NULL;
	if ((ca != NULL || z->primaries_tls_name != NULL) &&
	    !z->primaries_tls) {
		conf_error(ctx, conf_item_node(node, "zones", i, NULL),
		    "zone %s: primaries_tls_ca and _name need primaries_tls: "
		    "true",
		    z->name);
		return;
	}
	if (z->primaries_tls_name != NULL && ca == NULL) {
		conf_error(ctx,
		    conf_item_node(node, "zones", i, "primaries_tls_name"),
		    "zone %s: primaries_tls_name needs primaries_tls_ca: a "
		    "name is only checked on a certificate that verifies",
		    z->name);
		return;
	}
	if (ca == NULL)
		return;
	z->primaries_tls_ca_path =
	    ca[0] == '/' ? xstrdup(ca) : xasprintf("%s/%s", base, ca);
	if (conf_ctx_flags(ctx) & CONF_BIND_CHECKED)
		return;
	at = conf_item_node(node, "zones", i, "primaries_tls_ca");
	if ((tls = dns_tls_client_ctx_new(
	         z->primaries_tls_ca_path, err, sizeof(err))) == NULL) {
		conf_error(ctx, at, "zone %s: %s", z->name, err);
		return;
	}
	dns_tls_ctx_free(tls);
}

static void
dns_conf_check_zones(
    struct conf_ctx *ctx, struct conf_node *node, struct dns_conf *c)
{
	char *base = dns_conf_base_dir(ctx);

	for (size_t i = 0; i < c->nzones; i++) {
		struct dns_zone_item *z = &c->zones[i];
		struct dns_conf_errs e = { .ctx = ctx };
		struct conf_node *sec;
		int n;

		n = dns_name_from_text(
		    z->apex, z->name, strlen(z->name), (const uint8_t *)"");
		if (n < 0) {
			conf_error(ctx,
			    conf_item_node(node, "zones", i, "name"),
			    "zone %s: not a valid domain name", z->name);
			z->apex[0] = 0;
			continue;
		}
		dns_name_lower(z->apex);
		for (size_t j = 0; j < i; j++)
			if (dns_name_equal(z->apex, c->zones[j].apex))
				conf_error(ctx,
				    conf_item_node(node, "zones", i, "name"),
				    "zone %s: listed twice", z->name);
		free(z->path);
		z->path = NULL;
		dns_conf_check_primaries_tls(ctx, node, z, i, base);
		/* A signed zone's keys are read now, so `haven check` says
		 * what is wrong with one at its line. */
		sec = conf_item_node(node, "zones", i, "dnssec");
		dns_conf_dnssec_check(ctx, sec,
		    conf_section_given(
		        sec, conf_item_node(node, "zones", i, NULL)),
		    z, base);
		if (dns_conf_check_primaries(ctx, node, z, i) != 0)
			continue;
		z->path = z->file[0] == '/' ? xstrdup(z->file) :
		                              xasprintf("%s/%s", base, z->file);
		/* A child binds what the parent checked, and the dns
		 * workers parse the file again when they load it. */
		if (!(conf_ctx_flags(ctx) & CONF_BIND_CHECKED))
			(void)dns_conf_zone_parse(
			    z, NULL, dns_conf_zone_err, &e);
	}
	free(base);
}

/* Every GSLB name must lie in a served zone: else no query reaches it. */
static void
dns_conf_check_gnames(
    struct conf_ctx *ctx, struct conf_node *node, struct dns_conf *c)
{
	for (size_t i = 0; i < c->gslb.nnames; i++) {
		const struct dns_gname_conf *g = &c->gslb.names[i];
		size_t j;

		for (j = 0; j < c->nzones; j++)
			if (c->zones[j].apex[0] != 0 &&
			    dns_name_is_sub(g->wire, c->zones[j].apex))
				break;
		if (j == c->nzones)
			conf_error(ctx,
			    conf_item_node(node, "names", i, "name"),
			    "name %s: not inside any zone of dns.zones",
			    g->name);
	}
}

static void
dns_conf_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct dns_conf *c = obj;

	/* Without a dns: section there is nothing to serve or check; with
	 * one, listen is required (checked here, since a required key
	 * would be required of a config without the section too). */
	c->nzones = c->nzones_conf;
	if (node == NULL)
		return;
	dns_conf_check_listen(ctx, node, c);
	if (c->nsid != NULL && strlen(c->nsid) > DNS_NSID_MAX)
		conf_error(ctx, conf_key_node(node, "nsid"),
		    "nsid: at most %d bytes", DNS_NSID_MAX);
	dns_conf_check_zones(ctx, node, c);
	if (conf_section_given(conf_key_node(node, "tls"), node)) {
		char *base = dns_conf_base_dir(ctx);

		dns_conf_tls_check(ctx, conf_key_node(node, "tls"), c, base);
		free(base);
	}
	dns_conf_check_gnames(ctx, node, c);
	/* After the zones (members are zones) and before the transfer
	 * keys (a catalog becomes a zone whose keys they fill). */
	dns_catalog_conf_check(ctx, node, c);
	dns_xfr_conf_check(ctx, node, c); /* dns-xfr */
	dns_gslb_conf_check(ctx, node, &c->gslb);
	dns_xdp_conf_check(ctx, node, c);
}

static void
dns_conf_fini(void *obj)
{
	struct dns_conf *c = obj;

	free(c->listen_addr);
	c->listen_addr = NULL;
	/* The catalogs' zone items: past what the schema frees, so that the
	 * config's JSON (GET /v1/config) shows the config as written. */
	for (size_t i = c->nzones_conf; i < c->nzones; i++)
		conf_schema_free(&dns_conf_zone_schema, &c->zones[i]);
	c->nzones = c->nzones_conf;
}

const struct conf_schema dns_conf_schema = {
	.name = "dns",
	.size = sizeof(struct dns_conf),
	.keys = dns_conf_keys,
	.nkeys = ARRAY_SIZE(dns_conf_keys),
	.check = dns_conf_check,
	.fini = dns_conf_fini,
};
