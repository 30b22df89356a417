/*
 * Unit tests for the zone-file parser (dns_zone.c, dns_zone_lex.c,
 * dns_zone_rdata.c): one zone that uses every construct, its records
 * listed in presentation-ish form (owner, TTL, class, type, RDATA hex), then
 * errors with their exact file:line:col, and the zone checks.
 *
 * Run as "test_dns_zone --dump ORIGIN FILE" it prints the records of a zone
 * file instead, one "owner ttl class type hex" line each, for
 * tests/integ/test_dns_zone_diff.py to compare with nsd-checkzone's view;
 * $INCLUDE paths are read relative to the current directory.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "dns/dns_wire.h"
#include "dns/dns_zone.h"
#include "lib/util.h"
#include "runner.h"

struct got {
	char recs[64][600];
	unsigned nrec;
	char errs[32][DNS_ZONE_ERR_MAX];
	unsigned nerr;
};

static int
got_rr(const struct dns_zone_rr *rr, void *arg)
{
	struct got *g = arg;
	char name[DNS_NAME_TEXT_MAX], *p;
	size_t i;

	if (g->nrec == ARRAY_SIZE(g->recs))
		return -ENOSPC;
	dns_name_to_text(rr->owner, name, sizeof(name));
	p = g->recs[g->nrec++];
	p += sprintf(p, "%s %u %u %u ", name, rr->ttl, rr->rclass, rr->type);
	for (i = 0; i < rr->rdlen && i < 250; i++)
		p += sprintf(p, "%02x", rr->rdata[i]);
	return 0;
}

static void
got_err(const char *msg, void *arg)
{
	struct got *g = arg;

	if (g->nerr < ARRAY_SIZE(g->errs))
		snprintf(g->errs[g->nerr++], DNS_ZONE_ERR_MAX, "%s", msg);
}

/* In-memory files for $INCLUDE. */
static const struct {
	const char *path;
	const char *text;
} files[] = {
	{ "sub.inc",
	    "host A 198.18.1.1\n"
	    "\tTXT \"in sub\"\n"
	    "$ORIGIN deeper\n"
	    "x A 198.18.1.2\n" },
	{ "loop.inc", "$INCLUDE loop.inc\n" },
	{ "bad.inc",
	    "ok A 198.18.1.3\n"
	    "bad A 300.1.1.1\n" },
};

static int
mem_include(const char *path, const char *from, unsigned depth, char **text,
    size_t *len, void *arg)
{
	size_t i;

	(void)from;
	(void)arg;
	if (depth > 4)
		return -ELOOP;
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		if (strcmp(files[i].path, path) == 0) {
			*text = xstrdup(files[i].text);
			*len = strlen(files[i].text);
			return 0;
		}
	}
	return -ENOENT;
}

static const uint8_t apex[] = "\7example";

static int
run(const char *text, unsigned checks, struct got *g)
{
	struct dns_zone_conf c = { apex, checks, 0, got_rr, got_err,
		mem_include, g };
	unsigned nerr;
	int rc;

	memset(g, 0, sizeof(*g));
	rc = dns_zone_parse(&c, "z", text, strlen(text), &nerr);
	T_EQ_INT(nerr, g->nerr);
	return rc;
}

static void
expect(const struct got *g, const char *const *want, unsigned n)
{
	unsigned i;

	for (i = 0; i < g->nrec && i < n; i++)
		if (strcmp(g->recs[i], want[i]) != 0)
			test_fail(__FILE__, __LINE__,
			    "record %u: \"%s\", want \"%s\"", i, g->recs[i],
			    want[i]);
	if (g->nrec != n)
		test_fail(
		    __FILE__, __LINE__, "%u records, want %u", g->nrec, n);
}

static void
expect_errs(const struct got *g, const char *const *want, unsigned n)
{
	unsigned i;

	for (i = 0; i < g->nerr && i < n; i++)
		if (strcmp(g->errs[i], want[i]) != 0)
			test_fail(__FILE__, __LINE__,
			    "error %u: \"%s\", want \"%s\"", i, g->errs[i],
			    want[i]);
	if (g->nerr != n)
		test_fail(__FILE__, __LINE__,
		    "%u errors (first \"%s\"), want %u", g->nerr,
		    g->nerr ? g->errs[0] : "", n);
}

static const char every[] =
    "; every construct once\n"
    "$TTL 1h\n"
    "@\tIN SOA ns1 hostmaster.Example. ( 2026120601 ; serial\n"
    "\t\t2h 1H 2w\n"
    "\t\t300 )\n"
    "\tNS ns1\n"
    "\t600 NS ns2.example.\n"
    "ns1 IN 3600 A 198.18.0.1\n"
    "ns2 A 198.18.0.2\n"
    "  AAAA fd00:198:18::2\n"
    "www 60 CNAME web\n"
    "web IN A 198.18.0.3 ; comment\n"
    "mail MX 10 web\n"
    "txt TXT \"a b\" plain \"q\\\"uote\" \"\\065\\;\" \"\"\n"
    "_sip._tcp SRV 0 5 5060 web\n"
    "@ CAA 0 issue \"ca.example; account=1\"\n"
    "1.0 PTR web.example.\n"
    "esc\\.dot A 198.18.0.4\n"
    "\\@\\032x A 198.18.0.5\n"
    "gen TYPE65280 \\# 3 abcd ef\n"
    "gen2 A \\# 4 C6120006\n"
    "empty TYPE65281 \\# 0\n"
    "$ORIGIN sub.example.\n"
    "a A 198.18.0.7\n"
    "$INCLUDE sub.inc\n"
    "b A 198.18.0.8\n"
    "$INCLUDE sub.inc other.example.\n"
    "\tA 198.18.0.9\n";

static void
test_every_construct(void)
{
	static const char *const want[] = {
		"example. 3600 1 6 036e7331076578616d706c65000a686f73746d"
		"6173746572074578616d706c650078c4259900001c2000000e100012"
		"75000000012c",
		"example. 3600 1 2 036e7331076578616d706c6500",
		"example. 600 1 2 036e7332076578616d706c6500",
		"ns1.example. 3600 1 1 c6120001",
		"ns2.example. 3600 1 1 c6120002",
		"ns2.example. 3600 1 28 fd000198001800000000000000000002",
		"www.example. 60 1 5 03776562076578616d706c6500",
		"web.example. 3600 1 1 c6120003",
		"mail.example. 3600 1 15 000a03776562076578616d706c6500",
		"txt.example. 3600 1 16 036120620570"
		"6c61696e06712275"
		"6f746502413b00",
		"_sip._tcp.example. 3600 1 33 0000000513c403776562076578616d"
		"706c6500",
		"example. 3600 1 257 00056973737565"
		"63612e6578616d706c653b206163636f756e743d31",
		"1.0.example. 3600 1 12 03776562076578616d706c6500",
		"esc\\.dot.example. 3600 1 1 c6120004",
		"\\@\\032x.example. 3600 1 1 c6120005",
		"gen.example. 3600 1 65280 abcdef",
		"gen2.example. 3600 1 1 c6120006",
		"empty.example. 3600 1 65281 ",
		"a.sub.example. 3600 1 1 c6120007",
		/* sub.inc under origin sub.example., owner a: */
		"host.sub.example. 3600 1 1 c6120101",
		"host.sub.example. 3600 1 16 06696e20737562",
		"x.deeper.sub.example. 3600 1 1 c6120102",
		/* back: origin sub.example. again */
		"b.sub.example. 3600 1 1 c6120008",
		"host.other.example. 3600 1 1 c6120101",
		"host.other.example. 3600 1 16 06696e20737562",
		"x.deeper.other.example. 3600 1 1 c6120102",
		/* the owner before the include: b */
		"b.sub.example. 3600 1 1 c6120009",
	};
	struct got g;

	T_EQ_INT(run(every, DNS_ZONE_CHECK_ALL, &g), 0);
	expect_errs(&g, NULL, 0);
	expect(&g, want, ARRAY_SIZE(want));
}

/* An $INCLUDE origin relative to the origin it replaces (the fuzzer's
 * first find: the name was parsed into the buffer it was relative to). */
static void
test_include_relative_origin(void)
{
	static const char *const want[] = {
		"host.rel.example. 60 1 1 c6120101",
		"host.rel.example. 60 1 16 06696e20737562",
		"x.deeper.rel.example. 60 1 1 c6120102",
		"y.example. 60 1 1 c6120001",
	};
	struct got g;

	T_EQ_INT(
	    run("$TTL 60\n$INCLUDE sub.inc rel\ny A 198.18.0.1\n", 0, &g), 0);
	expect(&g, want, ARRAY_SIZE(want));
}

static void
test_ttl_rules(void)
{
	/* No $TTL: the last explicit TTL carries (RFC 1035 §5.1). After
	 * $TTL, its value (RFC 2308 §4), explicit TTLs not changing it. */
	static const char text[] = "a 100 A 198.18.0.1\n"
	                           "b A 198.18.0.2\n"
	                           "$TTL 1d\n"
	                           "c 5 A 198.18.0.3\n"
	                           "d A 198.18.0.4\n"
	                           "e 1w2d3h4m5s A 198.18.0.5\n"
	                           "f 2147483647 A 198.18.0.6\n";
	static const char *const want[] = {
		"a.example. 100 1 1 c6120001",
		"b.example. 100 1 1 c6120002",
		"c.example. 5 1 1 c6120003",
		"d.example. 86400 1 1 c6120004",
		"e.example. 788645 1 1 c6120005",
		"f.example. 2147483647 1 1 c6120006",
	};
	struct got g;

	T_EQ_INT(run(text, 0, &g), 0);
	expect(&g, want, ARRAY_SIZE(want));
}

static void
test_errors_located(void)
{
	static const char text[] = "$TTL 300\n"
	                           "a A 198.18.0.256\n"
	                           "b AAAA 198.18.0.1\n"
	                           "c MX 70000 web\n"
	                           "d FOO 1\n"
	                           "e A 198.18.0.1 extra\n"
	                           "f TXT \"unterminated\n"
	                           "g ( A\n"
	                           "    198.18.0.1 ) )\n"
	                           "h 2147483648 A 198.18.0.1\n"
	                           "i TYPE1 \\# 3 c61200\n"
	                           "j TYPE65280 \\# 2 abc\n"
	                           "k CNAME a..b\n"
	                           "$BOGUS x\n"
	                           "l SRV 1 2 3\n"
	                           "m TYPE255 \\# 0\n"
	                           "n A 198.18.0.9\n"
	                           "$INCLUDE bad.inc\n"
	                           "$INCLUDE missing.inc\n"
	                           "o TXT \"\\256\"\n"
	                           "p CAA 0 is-sue \"x\"\n"
	                           "q CH A 198.18.0.1\n"
	                           "r TYPE65280 1 2\n";
	static const char *const want_errs[] = {
		"z:2:5: bad IPv4 address",
		"z:3:8: bad IPv6 address",
		"z:4:6: expected a number 0..65535",
		"z:5:3: unknown record type FOO",
		"z:6:16: extra RDATA field",
		"z:7:7: unterminated quoted string",
		"z:9:18: unbalanced ')'",
		"z:10:3: bad TTL (0..2147483647 s, units w d h m s)",
		"z:11:9: generic RDATA not valid for the type",
		"z:12:18: odd number of hex digits",
		"z:13:9: bad name (empty label or bad escape)",
		"z:14:1: unknown directive $BOGUS",
		"z:15:12: missing RDATA fields",
		"z:16:3: type 255 cannot appear in a zone",
		"bad.inc:2:7: bad IPv4 address",
		"z:19:10: cannot include \"missing.inc\": No such file or "
		"directory",
		"z:20:7: bad string (over 255 octets, bad escape, or RDATA "
		"over 65535)",
		"z:21:9: bad CAA tag (letters and digits)",
		"z:22:1: class 3 differs from the zone's (1)",
		"z:23:13: no text form known for this type: use \\# (RFC 3597)",
	};
	static const char *const want[] = {
		/* g's entry dies with its stray ')'. */
		"n.example. 300 1 1 c6120009",
		"ok.example. 300 1 1 c6120103",
	};
	struct got g;

	T_EQ_INT(run(text, 0, &g), -EINVAL);
	expect_errs(&g, want_errs, ARRAY_SIZE(want_errs));
	expect(&g, want, ARRAY_SIZE(want));
}

static void
test_checks(void)
{
	static const char text[] = "$TTL 300\n"
	                           "@ SOA ns1 h 1 2 3 4 5\n"
	                           "www SOA ns1 h 1 2 3 4 5\n"
	                           "@ SOA ns1 h 2 2 3 4 5\n"
	                           "a CNAME www\n"
	                           "a TXT x\n"
	                           "b A 198.18.0.1\n"
	                           "b CNAME www\n"
	                           "c CNAME www\n"
	                           "c CNAME web\n"
	                           "c TYPE46 \\# 0\n" /* RRSIG */
	                           "other. A 198.18.0.1\n"
	                           "Example. NS ns1\n"
	                           "xexample. A 198.18.0.1\n";
	static const char *const want_errs[] = {
		"z:3:1: SOA at www.example., not at the zone apex",
		"z:4:1: second SOA record",
		"z:6:1: data beside the CNAME at a.example.",
		"z:8:1: CNAME beside other data at b.example.",
		"z:10:1: second CNAME at c.example.",
		"z:12:1: other. is outside the zone",
		"z:14:1: xexample. is outside the zone",
	};
	static const char *const want[] = {
		("example. 300 1 6 036e7331076578616d706c650001680765"
		 "78616d706c65000000000100000002000000030000000400000005"),
		"a.example. 300 1 5 03777777076578616d706c6500",
		"b.example. 300 1 1 c6120001",
		"c.example. 300 1 5 03777777076578616d706c6500",
		"c.example. 300 1 46 ",
		"Example. 300 1 2 036e7331076578616d706c6500",
	};
	struct got g;

	T_EQ_INT(run(text, DNS_ZONE_CHECK_ALL, &g), -EINVAL);
	expect_errs(&g, want_errs, ARRAY_SIZE(want_errs));
	expect(&g, want, ARRAY_SIZE(want));
	/* The same without checks: every record, no error. */
	T_EQ_INT(run(text, 0, &g), 0);
	T_EQ_INT(g.nrec, 13);

	T_EQ_INT(
	    run("$TTL 1\nwww A 198.18.0.1\n", DNS_ZONE_CHECK_SOA, &g), -EINVAL);
	T_EQ_STR(g.errs[0], "z:1:1: no SOA record at the apex");
}

static void
test_entry_rules(void)
{
	static const char *const want_errs[] = {
		("z:1:1: no owner: the line starts blank and no record came "
		 "before"),
		"z:2:1: no TTL: give one or set $TTL",
		"z:3:1: $INCLUDE nested deeper than 16",
		"z:4:3: no record type",
	};
	struct dns_zone_conf c = { NULL, 0, 0, got_rr, got_err, NULL, NULL };
	struct got g;
	static const char rel[] = "www 1 A 198.18.0.1\n"
	                          "$INCLUDE x\n"
	                          "w.x. 1 A 198.18.0.1\n"
	                          "$ORIGIN x.\n"
	                          "www 1 A 198.18.0.2\n";
	unsigned nerr;

	/* loop.inc includes itself; mem_include refuses past depth 4, so
	 * the cap seen is the callback's, once per level. */
	T_EQ_INT(run("\tA 198.18.0.1\n"
	             "a A 198.18.0.1\n"
	             "$INCLUDE loop.inc\n"
	             "b 1\n",
	             0, &g),
	    -EINVAL);
	T_EQ_STR(g.errs[0], want_errs[0]);
	T_EQ_STR(g.errs[1], want_errs[1]);
	T_EQ_STR(g.errs[2],
	    "loop.inc:1:10: cannot include \"loop.inc\": "
	    "Too many levels of symbolic links");
	T_EQ_STR(g.errs[3], want_errs[3]);
	T_EQ_INT(g.nerr, 4);

	/* No origin at all: relative names fail, absolute ones do not,
	 * and $INCLUDE without a callback is refused. */
	memset(&g, 0, sizeof(g));
	c.arg = &g;
	T_EQ_INT(dns_zone_parse(&c, "r", rel, strlen(rel), &nerr), -EINVAL);
	T_EQ_INT(nerr, 2);
	T_EQ_STR(g.errs[0], "r:1:1: relative name and no $ORIGIN");
	T_EQ_STR(g.errs[1], "r:2:1: $INCLUDE is not allowed here");
	T_EQ_INT(g.nrec, 2);
	T_EQ_STR(g.recs[0], "w.x. 1 1 1 c6120001");
	T_EQ_STR(g.recs[1], "www.x. 1 1 1 c6120002");

	/* Checks need an origin. */
	c.checks = DNS_ZONE_CHECK_SOA;
	T_EQ_INT(dns_zone_parse(&c, "r", rel, strlen(rel), &nerr), -EINVAL);
	T_EQ_INT(nerr, 0);
}

static void
test_max_errors_and_stop(void)
{
	struct dns_zone_conf c = { apex, 0, 3, got_rr, got_err, NULL, NULL };
	static const char text[] = "a 1 A x\nb 1 A x\nc 1 A x\nd 1 A x\n";
	struct got g;
	unsigned nerr;

	memset(&g, 0, sizeof(g));
	c.arg = &g;
	T_EQ_INT(dns_zone_parse(&c, "z", text, strlen(text), &nerr), -EINVAL);
	T_EQ_INT(nerr, 3);
	T_EQ_INT(g.nerr, 3);
}

static int
stop_rr(const struct dns_zone_rr *rr, void *arg)
{
	(*(unsigned *)arg)++;
	return -ECANCELED;
}

static void
test_callback_stops(void)
{
	static const char text[] = "a 1 A 198.18.0.1\nb 1 A 198.18.0.2\n";
	unsigned calls = 0;
	struct dns_zone_conf c = { apex, DNS_ZONE_CHECK_ALL, 0, stop_rr, NULL,
		NULL, &calls };

	T_EQ_INT(dns_zone_parse(&c, "z", text, strlen(text), NULL), -ECANCELED);
	T_EQ_INT(calls, 1);
}

static void
test_type_names(void)
{
	T_EQ_INT(dns_zone_type_parse("aaaa", 4), DNS_TYPE_AAAA);
	T_EQ_INT(dns_zone_type_parse("TYPE65535", 9), 65535);
	T_EQ_INT(dns_zone_type_parse("TYPE65536", 9), -EINVAL);
	T_EQ_INT(dns_zone_type_parse("TYPE", 4), -EINVAL);
	T_EQ_INT(dns_zone_type_parse("AAAAA", 5), -EINVAL);
	T_EQ_STR(dns_zone_type_name(DNS_TYPE_CAA), "CAA");
	T_ASSERT(dns_zone_type_name(65280) == NULL);
}

static const struct test tests[] = {
	TEST(test_every_construct),
	TEST(test_ttl_rules),
	TEST(test_include_relative_origin),
	TEST(test_errors_located),
	TEST(test_checks),
	TEST(test_entry_rules),
	TEST(test_max_errors_and_stop),
	TEST(test_callback_stops),
	TEST(test_type_names),
};

/* --dump: read a file (and its includes) from disk. */
static int
dump_include(const char *path, const char *from, unsigned depth, char **text,
    size_t *len, void *arg)
{
	FILE *f;
	long n;

	(void)from;
	(void)arg;
	if (depth > 8)
		return -ELOOP;
	if ((f = fopen(path, "r")) == NULL)
		return -errno;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*text = xmalloc((size_t)n + 1);
	*len = fread(*text, 1, (size_t)n, f);
	fclose(f);
	return 0;
}

static int
dump_rr(const struct dns_zone_rr *rr, void *arg)
{
	char name[DNS_NAME_TEXT_MAX];
	uint16_t i;

	(void)arg;
	dns_name_to_text(rr->owner, name, sizeof(name));
	printf("%s %u %u %u ", name, rr->ttl, rr->rclass, rr->type);
	for (i = 0; i < rr->rdlen; i++)
		printf("%02x", rr->rdata[i]);
	printf("\n");
	return 0;
}

static void
dump_err(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s\n", msg);
}

static int
dump(const char *origin_text, const char *path)
{
	uint8_t origin[DNS_NAME_MAX];
	struct dns_zone_conf c = { origin, DNS_ZONE_CHECK_ALL, 0, dump_rr,
		dump_err, dump_include, NULL };
	char *text;
	size_t len;
	int rc;

	if (dns_name_from_text(origin, origin_text, strlen(origin_text),
	        (const uint8_t *)"") < 0)
		return 2;
	if ((rc = dump_include(path, NULL, 0, &text, &len, NULL)) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(-rc));
		return 2;
	}
	rc = dns_zone_parse(&c, path, text, len, NULL);
	free(text);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--dump") == 0)
		return dump(argv[2], argv[3]);
	return test_main(argc, argv, tests, ARRAY_SIZE(tests));
}
