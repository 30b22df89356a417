/*
 * Unit tests for dns_conf.c: the `dns:` section binds with its defaults;
 * the check hook parses listen addresses, resolves zone files against the
 * config's directory, parses them and reports their errors at the zone
 * file's own file:line:col, confines $INCLUDE to the zone's directory,
 * and refuses GSLB names outside the served zones.
 *
 * Zone files are written to a fresh directory under /tmp, named in
 * HAVEN_CONFIG_DIR as the parent would.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_test.h"
#include "dns/dns_conf.h"
#include "dns/dns_key.h"
#include "lib/util.h"
#include "runner.h"

static char t_dir[64];

static const char t_zone[] = "$TTL 300\n"
                             "@ SOA ns1 host 1 3600 600 604800 60\n"
                             "  NS ns1\n"
                             "ns1 A 198.18.0.53\n"
                             "www A 198.18.0.80\n";

static void
t_write(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t_dir, name);
	if ((f = fopen(path, "w")) == NULL)
		test_fail(__FILE__, __LINE__, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static void
t_setup(void)
{
	snprintf(t_dir, sizeof(t_dir), "/tmp/test_dns_conf.XXXXXX");
	if (mkdtemp(t_dir) == NULL)
		test_fail(__FILE__, __LINE__, "mkdtemp");
	setenv("HAVEN_CONFIG_DIR", t_dir, 1);
	t_write("example.com.zone", t_zone);
}

/* Bind; every error into errs (caller finis). Returns the count. */
static size_t
t_bind(const char *text, struct dns_conf *c, struct conf_errors *errs)
{
	conf_errors_init(errs);
	conf_bind_text(&dns_conf_schema, "t.yaml", text, strlen(text), c, errs);
	return errs->n;
}

static void
test_defaults(void)
{
	struct conf_errors errs;
	struct dns_conf c;
	char want[128];

	t_setup();
	T_EQ_INT(
	    t_bind("listen: [\"127.0.0.1:5300\", \"[::1]:5300\"]\n"
	           "zones: [{name: Example.COM, file: example.com.zone}]\n",
	        &c, &errs),
	    0);
	T_EQ_INT(c.nlisten, 2);
	T_EQ_INT(c.listen_addr[0].ss_family, AF_INET);
	T_EQ_INT(c.listen_addr[1].ss_family, AF_INET6);
	T_EQ_INT(c.workers, 1);
	T_EQ_INT(c.edns_udp_size, 1232);
	T_EQ_INT(c.tcp.idle_timeout_ms, 10000);
	T_EQ_INT(c.tcp.max_connections, 1000);
	T_EQ_INT(c.tcp.max_queries, 0);
	T_EQ_INT(c.rrl.responses_per_second, 0);
	T_EQ_INT(c.rrl.slip, 2);
	T_EQ_INT(c.rrl.window_ms, 15000);
	T_EQ_INT(c.rrl.ipv4_prefix, 24);
	T_EQ_INT(c.rrl.ipv6_prefix, 56);
	T_ASSERT(c.nsid == NULL);
	T_ASSERT(
	    dns_name_equal(c.zones[0].apex, (const uint8_t *)"\7example\3com"));
	T_ASSERT(c.zones[0].apex[1] == 'e'); /* folded */
	snprintf(want, sizeof(want), "%s/example.com.zone", t_dir);
	T_EQ_STR(c.zones[0].path, want);
	conf_errors_fini(&errs);
	conf_schema_free(&dns_conf_schema, &c);
}

/* text gives exactly one error whose position starts with want. */
static void
t_error(const char *text, const char *file, const char *want)
{
	struct conf_errors errs;
	struct dns_conf c;
	char got[512];
	size_t n = t_bind(text, &c, &errs);

	snprintf(got, sizeof(got), "%s:%d:%d: %s", n ? errs.v[0].file : "",
	    n ? errs.v[0].line : 0, n ? errs.v[0].col : 0,
	    n ? errs.v[0].msg : "");
	if (n != 1 || strncmp(got, file, strlen(file)) != 0 ||
	    strstr(got, want) == NULL)
		test_fail(__FILE__, __LINE__,
		    "%zu errors, first \"%s\", want %s...%s", n, got, file,
		    want);
	conf_errors_fini(&errs);
	if (n == 0)
		conf_schema_free(&dns_conf_schema, &c);
}

static void
test_listen_errors(void)
{
	t_setup();
	t_error("listen: [\"127.0.0.1\"]\n", "t.yaml:1:10:", "ip:port");
	t_error("listen: [\"127.0.0.1:53\", \"127.0.0.1:53\"]\n",
	    "t.yaml:1:26:", "listed twice");
	t_error("listen: []\n", "t.yaml:1:9:", "at least one");
	t_error("listen: [\"127.0.0.1:53\"]\nedns_udp_size: 100\n",
	    "t.yaml:2:", "");
	t_error("listen: [\"127.0.0.1:53\"]\nworkers: 0\n", "t.yaml:2:", "");
}

static void
test_zone_errors(void)
{
	char file[128];

	t_setup();
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones:\n"
	        "  - {name: example.com, file: example.com.zone}\n"
	        "  - {name: EXAMPLE.com., file: example.com.zone}\n",
	    "t.yaml:4:", "listed twice");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones: [{name: \"a..b\", file: example.com.zone}]\n",
	    "t.yaml:2:", "not a valid domain name");
	/* the zone file's own position, column of the bad address */
	t_write("bad.zone",
	    "$TTL 300\n"
	    "@ SOA ns1 host 1 3600 600 604800 60\n"
	    "  NS ns1\n"
	    "ns1 A 198.18.0.999\n");
	snprintf(file, sizeof(file), "%s/bad.zone:4:7:", t_dir);
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones: [{name: example.com, file: bad.zone}]\n",
	    file, "");
	snprintf(file, sizeof(file), "%s/missing.zone:1:1:", t_dir);
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones: [{name: example.com, file: missing.zone}]\n",
	    file, "cannot read");
	/* the zone checks: no SOA at the apex */
	t_write("nosoa.zone", "$TTL 300\nwww A 198.18.0.1\n");
	snprintf(file, sizeof(file), "%s/nosoa.zone", t_dir);
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones: [{name: example.com, file: nosoa.zone}]\n",
	    file, "SOA");
}

/* A child binds the text its parent checked (CONF_BIND_CHECKED): the zone
 * files are left to the workers' load, so a broken one is no bind error
 * there, while the same text without the flag is refused. */
static void
test_checked_skips_zone_files(void)
{
	static const char text[] =
	    "listen: [\"127.0.0.1:53\"]\n"
	    "zones: [{name: example.com, file: missing.zone}]\n";
	struct conf_errors errs;
	struct dns_conf c;

	t_setup();
	conf_errors_init(&errs);
	T_EQ_INT(conf_bind_text_flags(&dns_conf_schema, "t.yaml", text,
	             strlen(text), &c, &errs, CONF_BIND_CHECKED),
	    0);
	T_EQ_INT(errs.n, 0);
	conf_schema_free(&dns_conf_schema, &c);
	conf_errors_fini(&errs);
	T_ASSERT(t_bind(text, &c, &errs) > 0);
	conf_errors_fini(&errs);
}

/* $INCLUDE below the zone's directory works; outside it is refused. */
static void
test_include_confined(void)
{
	char sub[128], file[128];

	t_setup();
	snprintf(sub, sizeof(sub), "%s/sub", t_dir);
	T_EQ_INT(mkdir(sub, 0700), 0);
	t_write("sub/www.inc", "www A 198.18.0.80\n");
	t_write("inc.zone",
	    "$TTL 300\n"
	    "@ SOA ns1 host 1 3600 600 604800 60\n"
	    "  NS ns1\n"
	    "ns1 A 198.18.0.53\n"
	    "$INCLUDE sub/www.inc\n");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones: [{name: example.com, file: inc.zone}]\n"
	        "nsid: [x]\n",
	    "t.yaml:3:", "");
	t_write("escape.zone",
	    "$TTL 300\n"
	    "@ SOA ns1 host 1 3600 600 604800 60\n"
	    "  NS ns1\n"
	    "$INCLUDE /etc/passwd\n");
	snprintf(file, sizeof(file), "%s/escape.zone:4:", t_dir);
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones: [{name: example.com, file: escape.zone}]\n",
	    file, "");
}

static void
test_gslb_name_outside(void)
{
	t_setup();
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones: [{name: example.com, file: example.com.zone}]\n"
	        "pools:\n"
	        "  - name: a\n"
	        "    addresses: [{address: 198.18.10.1}]\n"
	        "names:\n"
	        "  - name: www.example.org\n"
	        "    template: {multi_active: [a]}\n",
	    "t.yaml:7:", "not inside any zone");
}

static void
test_split_err(void)
{
	char f[64];
	const char *m;
	int l, c;

	dns_conf_split_err(
	    "a:b.zone:12:5: bad thing", f, sizeof(f), &l, &c, &m);
	T_EQ_STR(f, "a:b.zone");
	T_EQ_INT(l, 12);
	T_EQ_INT(c, 5);
	T_EQ_STR(m, "bad thing");
	dns_conf_split_err("no position here", f, sizeof(f), &l, &c, &m);
	T_EQ_STR(f, "");
	T_EQ_INT(l, 0);
	T_EQ_STR(m, "no position here");
}

/* dns-sec: primaries instead of file; one or the other, never both. */
static void
test_secondary(void)
{
	struct conf_errors errs;
	struct dns_conf c;

	t_setup();
	T_EQ_INT(
	    t_bind("listen: [\"127.0.0.1:53\"]\n"
	           "zones:\n"
	           "  - {name: example.com, file: example.com.zone}\n"
	           "  - {name: example.net,\n"
	           "     primaries: [\"198.18.0.1:53\", \"[::1]:5399\"]}\n",
	        &c, &errs),
	    0);
	T_ASSERT(!dns_zone_item_secondary(&c.zones[0]));
	T_ASSERT(dns_zone_item_secondary(&c.zones[1]));
	T_ASSERT(c.zones[1].path == NULL);
	T_EQ_INT(c.zones[1].nprimaries, 2);
	T_EQ_INT(c.zones[1].primary_addr[0].ss_family, AF_INET);
	T_EQ_INT(c.zones[1].primary_addr[1].ss_family, AF_INET6);
	conf_errors_fini(&errs);
	conf_schema_free(&dns_conf_schema, &c);
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones:\n"
	        "  - {name: example.net, file: example.com.zone,\n"
	        "     primaries: [\"198.18.0.1:53\"]}\n",
	    "t.yaml:4:17:", "file and primaries");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones:\n"
	        "  - {name: example.net}\n",
	    "t.yaml:3:5:", "needs a file, or primaries");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones:\n"
	        "  - {name: example.net,\n"
	        "     primaries: [\"198.18.0.1:53\", \"198.18.0.2\"]}\n",
	    "t.yaml:4:35:", "primaries: expected ip:port");
	/* XoT to the primaries: only for a secondary zone, a name only
	 * with a CA, a CA only with TLS, and a CA that loads. */
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones:\n"
	        "  - {name: example.com, file: example.com.zone,\n"
	        "     primaries_tls: true}\n",
	    "t.yaml:3:5:", "primaries_tls: for a secondary zone");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones:\n"
	        "  - {name: example.net, primaries: [\"198.18.0.1:853\"],\n"
	        "     primaries_tls: true, primaries_tls_name: ns1.example.net}\n",
	    "t.yaml:4:47:", "needs primaries_tls_ca");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones:\n"
	        "  - {name: example.net, primaries: [\"198.18.0.1:853\"],\n"
	        "     primaries_tls_ca: ca.pem}\n",
	    "t.yaml:3:5:", "need primaries_tls: true");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones:\n"
	        "  - {name: example.net, primaries: [\"198.18.0.1:853\"],\n"
	        "     primaries_tls: true, primaries_tls_ca: none.pem}\n",
	    "t.yaml:4:45:", "CA file");
}

/* dns.catalogs[]: a good one becomes one more zone item, pointing back at
 * its catalog, with the zones read from a file as members by default;
 * each fault is reported at its own line and column. */
static void
test_catalog(void)
{
	static const char head[] =
	    "listen: [\"127.0.0.1:53\"]\n"
	    "tsig_keys: [{name: k1, secret: \"AQIDBA==\"}]\n"
	    "zones:\n"
	    "  - {name: example.com, file: example.com.zone}\n"
	    "  - {name: example.net, primaries: [\"198.18.0.1:53\"]}\n"
	    "catalogs:\n";
	struct conf_errors errs;
	struct dns_conf c;
	char text[1024];

	t_setup();
	snprintf(text, sizeof(text),
	    "%s  - {name: Catalog.Invalid, transfer_key: k1,\n"
	    "     allow_transfer: [\"127.0.0.0/8\"], transfer_tls_only: true}\n"
	    "  - {name: cat2.invalid, members: [example.net, example.com],\n"
	    "     group: g}\n",
	    head);
	T_EQ_INT(t_bind(text, &c, &errs), 0);
	T_EQ_INT(c.ncatalogs, 2);
	T_EQ_INT(c.nzones, 4);
	T_ASSERT(c.zones[0].catalog == NULL);
	T_ASSERT(c.zones[2].catalog == &c.catalogs[0]);
	T_ASSERT(c.zones[3].catalog == &c.catalogs[1]);
	T_ASSERT(
	    c.zones[2].path == NULL && !dns_zone_item_secondary(&c.zones[2]));
	T_ASSERT(dns_name_equal(
	    c.zones[2].apex, (const uint8_t *)"\7catalog\7invalid"));
	T_ASSERT(c.zones[2].xfr.key == &c.tsig_keys[0].key);
	T_EQ_INT(c.zones[2].xfr.nallow_transfer, 1);
	T_ASSERT(c.zones[2].xfr.transfer_tls_only);
	T_ASSERT(!c.zones[3].xfr.transfer_tls_only);
	/* all: the zones read from a file, not the secondary one */
	T_EQ_INT(c.catalogs[0].nmember_apex, 1);
	T_ASSERT(dns_name_equal(
	    c.catalogs[0].member_apex[0], (const uint8_t *)"\7example\3com"));
	/* a list: as written, a secondary zone too */
	T_EQ_INT(c.catalogs[1].nmember_apex, 2);
	T_ASSERT(dns_name_equal(
	    c.catalogs[1].member_apex[0], (const uint8_t *)"\7example\3net"));
	conf_errors_fini(&errs);
	conf_schema_free(&dns_conf_schema, &c);

	snprintf(text, sizeof(text),
	    "%s  - {name: cat.invalid, members: "
	    "[example.com, example.org]}\n",
	    head);
	t_error(text, "t.yaml:7:48:", "member example.org: not a zone");
	snprintf(text, sizeof(text), "%s  - {name: example.com}\n", head);
	t_error(text, "t.yaml:7:12:", "also a zone of dns.zones");
	snprintf(text, sizeof(text), "%s  - {name: c.invalid, members: some}\n",
	    head);
	t_error(text, "t.yaml:7:32:", "expected all or a list");
	snprintf(text, sizeof(text),
	    "%s  - {name: c.invalid, transfer_key: nokey}\n", head);
	t_error(text, "t.yaml:7:37:", "transfer_key nokey: not in");
	snprintf(text, sizeof(text),
	    "%s  - {name: c.invalid, notify: [\"127.0.0.1\"]}\n", head);
	t_error(text, "t.yaml:7:31:", "notify: expected ip:port");
	snprintf(
	    text, sizeof(text), "%s  - {name: c.invalid, group: \"\"}\n", head);
	t_error(text, "t.yaml:7:30:", "group: 1 to 255 bytes");
}

/* dns.zones[].dnssec: the key read when bound, its errors, and a
 * reload's worker taking the key it cannot read from the config before. */
static void
test_dnssec(void)
{
	static const char pem[] =
	    "-----BEGIN PRIVATE KEY-----\n"
	    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgR6FKSUpAeTvgIC/Z\n"
	    "AHaw7ex14J02/0Fr9bV0AeNad92hRANCAATUzrltlHDA00jKy2ODAQQMxxMygN/F\n"
	    "idJABYnTlUtThyiDttcdPorm2kMescGVxJUrvutRobij1cCxTAkNVhJZ\n"
	    "-----END PRIVATE KEY-----\n";
	struct conf_errors errs;
	struct dns_conf c, next;
	char want[128];

	t_setup();
	t_write("k.pem", pem);
	t_write("bad.pem", "junk\n");
	T_EQ_INT(t_bind("listen: [\"127.0.0.1:53\"]\n"
	                "zones:\n"
	                "  - {name: example.com, file: example.com.zone,\n"
	                "     dnssec: {key_file: k.pem}}\n",
	             &c, &errs),
	    0);
	snprintf(want, sizeof(want), "%s/k.pem", t_dir);
	T_EQ_INT(c.zones[0].nkeys, 1);
	T_EQ_STR(c.zones[0].keys[0].path, want);
	T_ASSERT(c.zones[0].keys[0].pem_len == strlen(pem));
	T_ASSERT(memcmp(c.zones[0].keys[0].pem, pem, strlen(pem)) == 0);
	/* key_file is one combined key, active. */
	T_EQ_INT(c.zones[0].keys[0].flags, DNS_KEY_FLAGS_CSK);
	T_ASSERT(c.zones[0].keys[0].signs_data);
	T_ASSERT(c.zones[0].keys[0].signs_keys);
	conf_errors_fini(&errs);

	/* A worker's reload that could not read the key keeps the text it
	 * had for the same file. */
	T_EQ_INT(t_bind("listen: [\"127.0.0.1:53\"]\n"
	                "zones:\n"
	                "  - {name: example.com, file: example.com.zone,\n"
	                "     dnssec: {key_file: k.pem}}\n",
	             &next, &errs),
	    0);
	conf_errors_fini(&errs);
	free(next.zones[0].keys[0].pem);
	next.zones[0].keys[0].pem = NULL;
	dns_conf_key_inherit(&next, &c);
	T_ASSERT(next.zones[0].keys[0].pem != NULL);
	T_ASSERT(memcmp(next.zones[0].keys[0].pem, pem, strlen(pem)) == 0);
	conf_schema_free(&dns_conf_schema, &next);
	conf_schema_free(&dns_conf_schema, &c);

	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones:\n"
	        "  - {name: example.com, file: example.com.zone,\n"
	        "     dnssec: {key_file: bad.pem}}\n",
	    "t.yaml:4:25:", "not a PEM private key");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones:\n"
	        "  - {name: example.com, file: example.com.zone,\n"
	        "     dnssec: {key_file: none.pem}}\n",
	    "t.yaml:4:25:", "cannot read");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones:\n"
	        "  - {name: example.com, file: example.com.zone,\n"
	        "     dnssec: {}}\n",
	    "t.yaml:4:14:", "key_file or keys is required");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones:\n"
	        "  - {name: example.net, primaries: [\"198.18.0.1:53\"],\n"
	        "     dnssec: {key_file: k.pem}}\n",
	    "t.yaml:4:25:", "signed by its primary");
}

/* dnssec.keys: roles, what is active, and the rules a rollover keeps. */
static void
test_dnssec_keys(void)
{
	static const char k1[] =
	    "-----BEGIN PRIVATE KEY-----\n"
	    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgeqXB7BUKoplh+EfZ\n"
	    "5d+oZUFhEj9FW1liLindHssns4ChRANCAASO4soyr6cRfMc2yfU/ygKOe8oKv1Nu\n"
	    "KDEcqZyXqOMPQhLe/pJ9ERNykxW+zl0C+3TfP1BIlEmxsimNh9hfUd/p\n"
	    "-----END PRIVATE KEY-----\n";
	static const char k2[] =
	    "-----BEGIN PRIVATE KEY-----\n"
	    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgEuoQvceuAGl7PxKz\n"
	    "WWVrOWsVPy28r3E7BHfsTpp1VdmhRANCAARCE4BdIY6jIo6QbTv4jFqPiXTEolix\n"
	    "WPkXTtXmAYBVuBQmmCKfTFkNdjSdt3q5YlpWACAyTl23MVLbDnrpXEo1\n"
	    "-----END PRIVATE KEY-----\n";
	static const char head[] = "listen: [\"127.0.0.1:53\"]\n"
	                           "zones:\n"
	                           "  - name: example.com\n"
	                           "    file: example.com.zone\n"
	                           "    dnssec:\n"
	                           "      keys:\n";
	struct conf_errors errs;
	struct dns_conf c;
	char y[1024];

	t_setup();
	t_write("ksk.pem", k1);
	t_write("zsk.pem", k2);
	t_write("zsk2.pem", k1);
	snprintf(y, sizeof(y),
	    "%s"
	    "        - {file: ksk.pem, role: ksk}\n"
	    "        - {file: zsk.pem, role: zsk}\n",
	    head);
	T_EQ_INT(t_bind(y, &c, &errs), 0);
	T_EQ_INT(c.zones[0].nkeys, 2);
	T_EQ_INT(c.zones[0].keys[0].flags, DNS_KEY_FLAGS_CSK);
	T_ASSERT(c.zones[0].keys[0].signs_keys);
	T_ASSERT(!c.zones[0].keys[0].signs_data);
	T_EQ_INT(c.zones[0].keys[1].flags, DNS_KEY_FLAGS_ZSK);
	T_ASSERT(!c.zones[0].keys[1].signs_keys);
	T_ASSERT(c.zones[0].keys[1].signs_data);
	conf_errors_fini(&errs);
	conf_schema_free(&dns_conf_schema, &c);
	/* A pre-published key: listed, not signing. */
	t_write("k1.pem", k1);
	snprintf(y, sizeof(y),
	    "%s"
	    "        - {file: zsk.pem}\n"
	    "        - {file: k1.pem, role: zsk, active: false}\n",
	    head);
	T_EQ_INT(t_bind(y, &c, &errs), 0);
	T_ASSERT(!c.zones[0].keys[1].signs_keys);
	T_ASSERT(!c.zones[0].keys[1].signs_data);
	conf_errors_fini(&errs);
	conf_schema_free(&dns_conf_schema, &c);

	snprintf(y, sizeof(y),
	    "%s"
	    "        - {file: ksk.pem}\n"
	    "        - {file: zsk.pem, role: zsk}\n",
	    head);
	t_error(y, "t.yaml:8:18:", "both active and would both sign");
	snprintf(
	    y, sizeof(y), "%s        - {file: ksk.pem, role: ksk}\n", head);
	t_error(y, "t.yaml:6:7:", "no active zsk or csk");
	snprintf(
	    y, sizeof(y), "%s        - {file: zsk.pem, role: zsk}\n", head);
	t_error(y, "t.yaml:6:7:", "no active ksk or csk");
	snprintf(y, sizeof(y),
	    "%s"
	    "        - {file: ksk.pem}\n"
	    "        - {file: zsk2.pem, role: zsk, active: false}\n",
	    head);
	t_error(y, "t.yaml:8:18:", "the same key as");
	snprintf(
	    y, sizeof(y), "%s        - {file: ksk.pem, role: kzk}\n", head);
	t_error(y, "t.yaml:7:33:", "did you mean 'ksk'");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "zones:\n"
	        "  - {name: example.com, file: example.com.zone,\n"
	        "     dnssec: {key_file: ksk.pem, keys: [{file: zsk.pem}]}}\n",
	    "t.yaml:4:40:", "not both");
}

/* dns.tls: what it needs, an address that is plain too, and a
 * certificate that does not load. */
static void
test_tls(void)
{
	static const char crt[] =
	    "-----BEGIN CERTIFICATE-----\n"
	    "MIIBizCCATGgAwIBAgIUIOU3x1owRkis4SJe5I65KhffY9MwCgYIKoZIzj0EAwIw\n"
	    "GjEYMBYGA1UEAwwPbnMxLmV4YW1wbGUuY29tMCAXDTI2MTIwNzA0MDg1N1oYDzIx\n"
	    "MjYxMTEzMDQwODU3WjAaMRgwFgYDVQQDDA9uczEuZXhhbXBsZS5jb20wWTATBgcq\n"
	    "hkjOPQIBBggqhkjOPQMBBwNCAARYn+vuqbxA0lHX1i0eG60n7Eo/0vt/3feCPq+B\n"
	    "XwycfPQk9qKqIuUpt346AL9FfrgJ+2ERVLsRSaDY628RtzFho1MwUTAdBgNVHQ4E\n"
	    "FgQU2p136UP0vIhLzznmCAPjKXrxP9EwHwYDVR0jBBgwFoAU2p136UP0vIhLzznm\n"
	    "CAPjKXrxP9EwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiAdWIW8\n"
	    "9aGIR+OFi2dhRqL8ksKkwcmrH1i7FxvHQ01osQIhAIsW0i8SkPgvfTv7/mPQFw3f\n"
	    "J99/984fsxH6ABAJfd1F\n"
	    "-----END CERTIFICATE-----\n";
	static const char key[] =
	    "-----BEGIN PRIVATE KEY-----\n"
	    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3ZpTyeA1pIA2TMP5\n"
	    "O5va53x033FZ0H/+SYzW2Ag0TmWhRANCAARYn+vuqbxA0lHX1i0eG60n7Eo/0vt/\n"
	    "3feCPq+BXwycfPQk9qKqIuUpt346AL9FfrgJ+2ERVLsRSaDY628RtzFh\n"
	    "-----END PRIVATE KEY-----\n";
	struct conf_errors errs;
	struct dns_conf c;

	t_setup();
	t_write("c.pem", crt);
	t_write("k.pem", key);
	T_EQ_INT(t_bind("listen: [\"127.0.0.1:53\"]\n"
	                "tls: {listen: [\"127.0.0.1:853\"], cert: c.pem, "
	                "key: k.pem}\n",
	             &c, &errs),
	    0);
	T_EQ_INT(c.tls.nlisten, 1);
	T_ASSERT(c.tls.cert_path != NULL && c.tls.key_path != NULL);
	conf_errors_fini(&errs);
	conf_schema_free(&dns_conf_schema, &c);
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "tls: {listen: [\"127.0.0.1:853\"]}\n",
	    "t.yaml:2:6:", "cert and key are required");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "tls: {listen: [\"127.0.0.1:53\"], cert: c.pem, key: k.pem}\n",
	    "t.yaml:2:16:", "a plain listen address too");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "tls: {listen: [], cert: c.pem, key: k.pem}\n",
	    "t.yaml:2:15:", "at least one address");
	t_error("listen: [\"127.0.0.1:53\"]\n"
	        "tls: {listen: [\"127.0.0.1:853\"], cert: none.pem, "
	        "key: k.pem}\n",
	    "t.yaml:2:40:", "tls: certificate");
}

static void
test_schema_defaults(void)
{
	struct conf_errors errs;

	conf_errors_init(&errs);
	T_EQ_INT(conf_schema_check_defaults(&dns_conf_schema, &errs), 0);
	conf_errors_fini(&errs);
}

/* dns.xdp: the interface must exist, IPv4 listen addresses are its
 * filter's destinations. */
static void
test_xdp(void)
{
	struct plane_sock_spec sp;
	struct conf_errors errs;
	struct dns_conf c;

	t_setup();
	t_error("listen: [\"198.18.0.1:53\"]\nxdp: {interface: nosuchif0}\n",
	    "t.yaml:2:18:", "no such interface");
	t_error("listen: [\"[::1]:53\"]\nxdp: {interface: lo}\n",
	    "t.yaml:2:18:", "IPv4 listen address");
	T_EQ_INT(t_bind("listen: [\"[::1]:53\", \"198.18.0.1:53\", "
	                "\"0.0.0.0:5353\"]\nxdp: {interface: lo}\n",
	             &c, &errs),
	    0);
	T_ASSERT(dns_xdp_conf_spec(&c, &sp));
	T_EQ_INT(sp.type, PLANE_SOCK_XDP);
	T_EQ_STR(sp.name, "xdp/lo:0");
	T_EQ_STR(sp.xdp_ifname, "lo");
	T_EQ_INT(sp.xdp_ndst, 2);
	T_EQ_INT(sp.xdp_dst[0].addr, htonl(0xc6120001));
	T_EQ_INT(sp.xdp_dst[0].port, htons(53));
	T_EQ_INT(sp.xdp_dst[1].addr, 0); /* the parent: the interface's */
	T_EQ_INT(sp.xdp_dst[1].port, htons(5353));
	conf_errors_fini(&errs);
	conf_schema_free(&dns_conf_schema, &c);
	/* off by default */
	T_EQ_INT(t_bind("listen: [\"198.18.0.1:53\"]\n", &c, &errs), 0);
	T_ASSERT(!dns_xdp_conf_spec(&c, &sp));
	conf_errors_fini(&errs);
	conf_schema_free(&dns_conf_schema, &c);
}

static const struct test tests[] = {
	TEST(test_defaults),
	TEST(test_listen_errors),
	TEST(test_zone_errors),
	TEST(test_checked_skips_zone_files),
	TEST(test_include_confined),
	TEST(test_gslb_name_outside),
	TEST(test_split_err),
	TEST(test_secondary),
	TEST(test_catalog),
	TEST(test_dnssec),
	TEST(test_dnssec_keys),
	TEST(test_tls),
	TEST(test_schema_defaults),
	TEST(test_xdp),
};

TEST_MAIN(tests)
