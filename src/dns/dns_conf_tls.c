/*
 * dns_conf_tls.c - the `dns.tls:` section (dns_conf.h): where the dns
 * plane serves DNS over TLS, and the certificate it serves with.
 *
 * The check builds the TLS context once (dns_tls.h), so `haven check`
 * reports an unreadable, malformed or mismatched certificate or key at
 * its line; the dns workers read the files again on every apply, as the
 * lb's listeners do, so the files must be readable by haven.user.
 */
#include <stdlib.h>
#include <string.h>

#include "dns/dns_conf.h"
#include "dns/dns_tls.h"
#include "lib/conf.h"
#include "lib/util.h"

static void
dns_conf_tls_fini(void *obj)
{
	struct dns_tls_conf *t = obj;

	free(t->listen_addr);
	t->listen_addr = NULL;
	free(t->cert_path);
	t->cert_path = NULL;
	free(t->key_path);
	t->key_path = NULL;
}

/* Not CK_REQUIRED: a config without the section would need them; the
 * check, called only when it is there, says what is missing. */
static const struct conf_key dns_conf_tls_keys[] = {
	{ .name = "listen",
	    .type = CT_STRLIST,
	    .off = offsetof(struct dns_tls_conf, listen),
	    .count_off = offsetof(struct dns_tls_conf, nlisten),
	    .help = "\"ip:port\" (853 is DoT's and XoT's) served through TLS "
	            "1.3, beside the plain listen addresses" },
	{ .name = "cert",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_tls_conf, cert),
	    .help = "PEM certificate chain, relative to the config's "
	            "directory; readable by haven.user" },
	{ .name = "key",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_tls_conf, key),
	    .help = "its PEM private key; readable by haven.user" },
};

const struct conf_schema dns_conf_tls_schema = {
	.name = "dns.tls",
	.size = sizeof(struct dns_tls_conf),
	.keys = dns_conf_tls_keys,
	.nkeys = ARRAY_SIZE(dns_conf_tls_keys),
	.fini = dns_conf_tls_fini,
};

/* An address both plain and TLS would be two sockets on one port. */
static bool
dns_conf_tls_clash(const struct dns_conf *c, const struct sockaddr_storage *a)
{
	char x[64], y[64];

	conf_addr_str(a, x, sizeof(x));
	for (size_t i = 0; i < c->nlisten && c->listen_addr != NULL; i++)
		if (strcmp(x,
		        conf_addr_str(&c->listen_addr[i], y, sizeof(y))) == 0)
			return true;
	return false;
}

void
dns_conf_tls_check(struct conf_ctx *ctx, struct conf_node *at,
    struct dns_conf *c, const char *base)
{
	struct dns_tls_conf *t = &c->tls;
	struct conf_node *seq = conf_key_node(at, "listen");
	char err[512];
	void *tls;

	dns_conf_tls_fini(t);
	if (t->cert == NULL || t->key == NULL) {
		conf_error(ctx, at, "tls: cert and key are required");
		return;
	}
	t->listen_addr = xcalloc(t->nlisten + 1, sizeof(*t->listen_addr));
	for (size_t i = 0; i < t->nlisten; i++) {
		struct conf_node *n = conf_node_item(seq, i);

		if (conf_parse_addr(t->listen[i], true, &t->listen_addr[i]) !=
		    0)
			conf_error(ctx, n,
			    "tls: listen: expected ip:port or [ipv6]:port, got "
			    "'%s'",
			    t->listen[i]);
		else if (dns_conf_tls_clash(c, &t->listen_addr[i]))
			conf_error(ctx, n,
			    "tls: listen: %s is a plain listen address too",
			    t->listen[i]);
	}
	if (t->nlisten == 0)
		conf_error(ctx, seq != NULL ? seq : at,
		    "tls: listen: at least one address is needed");
	t->cert_path = t->cert[0] == '/' ? xstrdup(t->cert) :
	                                   xasprintf("%s/%s", base, t->cert);
	t->key_path = t->key[0] == '/' ? xstrdup(t->key) :
	                                 xasprintf("%s/%s", base, t->key);
	/* The workers load it on apply; a child binding what the parent
	 * checked has nothing to learn here. */
	if (conf_ctx_flags(ctx) & CONF_BIND_CHECKED)
		return;
	if ((tls = dns_tls_ctx_new(
	         t->cert_path, t->key_path, err, sizeof(err))) == NULL) {
		conf_error(ctx, conf_key_node(at, "cert"), "tls: %s", err);
		return;
	}
	dns_tls_ctx_free(tls);
}
