/*
 * Unit tests for dns_xfr_conf.c: base64 secrets, the tsig_keys list and
 * the zone keys (allow_transfer, notify, transfer_key) bound through the
 * `dns:` schema, and each problem the check reports with its position.
 * The zone file is written to a fresh directory under /tmp, named in
 * HAVEN_CONFIG_DIR as the parent would.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_conf.h"
#include "dns/dns_xfr_conf.h"
#include "lib/util.h"
#include "runner.h"

static char t_dir[64];

static void
t_setup(void)
{
	char path[128];
	FILE *f;

	if (t_dir[0] != '\0')
		return;
	snprintf(t_dir, sizeof(t_dir), "/tmp/test_dns_xfr_conf.XXXXXX");
	if (mkdtemp(t_dir) == NULL)
		test_fail(__FILE__, __LINE__, "mkdtemp");
	setenv("HAVEN_CONFIG_DIR", t_dir, 1);
	snprintf(path, sizeof(path), "%s/z.zone", t_dir);
	if ((f = fopen(path, "w")) == NULL)
		test_fail(__FILE__, __LINE__, "cannot write %s", path);
	fputs("$TTL 300\n@ SOA ns1 host 1 3600 600 604800 60\n  NS ns1\n"
	      "ns1 A 198.18.0.53\n",
	    f);
	fclose(f);
}

#define T_HEAD                                                                 \
	"listen: [\"127.0.0.1:5300\"]\n"                                       \
	"tsig_keys:\n"                                                         \
	"  - {name: xfr-key, secret: "                                         \
	"\"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\"}\n"

static size_t
t_bind(const char *text, struct dns_conf *c, struct conf_errors *errs)
{
	t_setup();
	conf_errors_init(errs);
	conf_bind_text(&dns_conf_schema, "t.yaml", text, strlen(text), c, errs);
	return errs->n;
}

static void
test_base64(void)
{
	uint8_t b[8];

	T_EQ_INT(dns_xfr_conf_base64("aGF2ZW4=", b, sizeof(b)), 5);
	T_ASSERT(memcmp(b, "haven", 5) == 0);
	T_EQ_INT(dns_xfr_conf_base64("aGF2ZW5z", b, sizeof(b)), 6);
	T_EQ_INT(dns_xfr_conf_base64("aA==", b, sizeof(b)), 1);
	/* Not canonical: bits past the last byte set. */
	T_EQ_INT(dns_xfr_conf_base64("aB==", b, sizeof(b)), -EINVAL);
	T_EQ_INT(dns_xfr_conf_base64("aGF2ZW4", b, sizeof(b)), -EINVAL);
	T_EQ_INT(dns_xfr_conf_base64("a===", b, sizeof(b)), -EINVAL);
	T_EQ_INT(dns_xfr_conf_base64("", b, sizeof(b)), -EINVAL);
	T_EQ_INT(dns_xfr_conf_base64("aGF2*W4=", b, sizeof(b)), -EINVAL);
	/* Too long for the buffer. */
	T_EQ_INT(
	    dns_xfr_conf_base64("aGF2ZW5zaGF2ZW5z", b, sizeof(b)), -EINVAL);
}

static void
test_bound(void)
{
	struct conf_errors errs;
	struct dns_conf c;

	T_EQ_INT(t_bind(T_HEAD "zones:\n"
	                       "  - {name: example.com, file: z.zone,\n"
	                       "     allow_transfer: [\"198.18.0.0/15\", "
	                       "\"::1\"],\n"
	                       "     notify: [\"127.0.0.1:5301\"],\n"
	                       "     transfer_key: xfr-key}\n",
	             &c, &errs),
	    0);
	T_EQ_INT(c.ntsig_keys, 1);
	T_EQ_INT(c.tsig_keys[0].key.secret_len, 32);
	T_EQ_INT(c.tsig_keys[0].key.secret[31], 32);
	T_EQ_STR(c.tsig_keys[0].algorithm, "hmac-sha256");
	T_EQ_INT(c.zones[0].xfr.nallow_transfer, 2);
	T_EQ_INT(c.zones[0].xfr.allow[0].len, 15);
	T_EQ_INT(c.zones[0].xfr.allow[1].family, AF_INET6);
	T_EQ_INT(c.zones[0].xfr.nnotify, 1);
	T_EQ_INT(c.zones[0].xfr.notify_addr[0].ss_family, AF_INET);
	T_ASSERT(c.zones[0].xfr.key == &c.tsig_keys[0].key);
	/* The IXFR journal's defaults. */
	T_EQ_INT(c.zones[0].xfr.ixfr_versions, 20);
	T_EQ_INT(c.zones[0].xfr.ixfr_journal_size, 4 << 20);
	conf_errors_fini(&errs);
	conf_schema_free(&dns_conf_schema, &c);
}

/* text gives exactly one error, at line:col want_pos, containing want. */
static void
t_error(const char *text, const char *want_pos, const char *want)
{
	struct conf_errors errs;
	struct dns_conf c;
	char pos[32];

	T_EQ_INT(t_bind(text, &c, &errs), 1);
	snprintf(pos, sizeof(pos), "%d:%d", errs.v[0].line, errs.v[0].col);
	T_EQ_STR(pos, want_pos);
	if (strstr(errs.v[0].msg, want) == NULL)
		test_fail(
		    __FILE__, __LINE__, "'%s' lacks '%s'", errs.v[0].msg, want);
	conf_errors_fini(&errs);
	conf_schema_free(&dns_conf_schema, &c);
}

static void
test_errors(void)
{
	t_error(T_HEAD "zones: [{name: example.com, file: z.zone, "
	               "allow_transfer: [\"198.18.0.1/15\"]}]\n",
	    "4:59", "allow_transfer: '198.18.0.1/15'");
	t_error(T_HEAD "zones: [{name: example.com, file: z.zone, "
	               "notify: [\"127.0.0.1\"]}]\n",
	    "4:51", "notify: expected ip:port");
	t_error(T_HEAD "zones: [{name: example.com, file: z.zone, "
	               "transfer_key: nokey}]\n",
	    "4:57", "transfer_key nokey: not in dns.tsig_keys");
	t_error("listen: [\"127.0.0.1:5300\"]\n"
	        "tsig_keys: [{name: k, secret: \"!!\"}]\n",
	    "2:31", "secret: not base64");
	t_error("listen: [\"127.0.0.1:5300\"]\n"
	        "tsig_keys: [{name: k, algorithm: hmac-md5, secret: aA==}]\n",
	    "2:34", "only hmac-sha256");
	t_error("listen: [\"127.0.0.1:5300\"]\n"
	        "tsig_keys: [{name: k}]\n",
	    "2:13", "secret");
	t_error(T_HEAD "zones: [{name: example.com, file: z.zone, "
	               "ixfr_journal_size: 100}]\n",
	    "4:62", "ixfr_journal_size: under 1024 bytes");
	t_error(T_HEAD "zones: [{name: example.com, file: z.zone, "
	               "ixfr_versions: 100000}]\n",
	    "4:58", "ixfr_versions");
}

static const struct test tests[] = {
	TEST(test_base64),
	TEST(test_bound),
	TEST(test_errors),
};

TEST_MAIN(tests)
