/*
 * Unit tests for dns_db.c / dns_db_build.c: zones built from zone text
 * through dns_zone_parse, the checks dns_db_finish makes, RRset grouping
 * (duplicates, TTLs), the AXFR walk's order, and a load of a million A
 * records whose time and size are printed (not asserted: machines vary).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "dns/dns_db.h"
#include "dns/dns_zone.h"
#include "lib/util.h"
#include "runner.h"

struct load {
	struct dns_db *db;
	int zone;
	char errs[8][256];
	unsigned nerr;
};

static int
load_rr(const struct dns_zone_rr *rr, void *arg)
{
	struct load *l = arg;

	return dns_db_add_rr(l->db, (unsigned)l->zone, rr->owner, rr->type,
	    rr->ttl, rr->rdata, rr->rdlen);
}

static void
load_err(const char *msg, void *arg)
{
	struct load *l = arg;

	if (l->nerr < ARRAY_SIZE(l->errs))
		snprintf(l->errs[l->nerr], sizeof(l->errs[0]), "%s", msg);
	l->nerr++;
}

static void
name(uint8_t out[DNS_NAME_MAX], const char *text)
{
	T_ASSERT(dns_name_from_text(out, text, strlen(text), NULL) > 0);
}

/* Add zone apex from text; returns dns_zone_parse's result. */
static int
add_zone(struct load *l, const char *apex, const char *text)
{
	uint8_t a[DNS_NAME_MAX];
	struct dns_zone_conf c = { a, 0, 0, load_rr, NULL, NULL, l };

	name(a, apex);
	l->zone = dns_db_zone_begin(l->db, a);
	T_ASSERT(l->zone >= 0);
	return dns_zone_parse(&c, apex, text, strlen(text), NULL);
}

static const char zone_ok[] =
    "$TTL 300\n"
    "@ IN SOA ns1 hostmaster 2024010101 3600 600 86400 60\n"
    "@ NS ns1\n"
    "@ NS ns1\n" /* a duplicate: dropped */
    "ns1 A 198.18.0.53\n"
    "www 100 A 198.18.0.1\n"
    "www 50 A 198.18.0.2\n" /* the set's TTL becomes 50 */
    "a.b.c A 198.18.0.3\n"  /* b.c and c are empty non-terminals */
    "Mail MX 10 mx\n"
    "*.w TXT \"wild\"\n";

struct walk {
	char names[32][DNS_NAME_TEXT_MAX];
	uint16_t types[32];
	uint32_t ttls[32];
	unsigned counts[32];
	unsigned n;
};

static int
walk_fn(const struct dns_rrset *set, void *arg)
{
	struct walk *w = arg;

	T_ASSERT(w->n < 32);
	dns_name_to_text(set->owner, w->names[w->n], DNS_NAME_TEXT_MAX);
	w->types[w->n] = set->type;
	w->ttls[w->n] = set->ttl;
	w->counts[w->n] = set->count;
	w->n++;
	return 0;
}

static int
walk_stop(const struct dns_rrset *set, void *arg)
{
	unsigned *n = arg;

	(void)set;
	return ++*n == 2 ? -EINTR : 0;
}

static void
test_build_and_walk(void)
{
	struct load l = { .db = dns_db_new() };
	struct dns_db_stats st;
	struct walk w = { .n = 0 };
	uint8_t a[DNS_NAME_MAX];
	unsigned stop = 0;

	T_EQ_INT(add_zone(&l, "Example.COM.", zone_ok), 0);
	T_EQ_INT(dns_db_finish(l.db, load_err, &l), 0);
	T_EQ_INT(l.nerr, 0);
	T_EQ_INT(dns_db_nzones(l.db), 1);
	T_EQ_INT(dns_db_zone_serial(l.db, 0), 2024010101);
	name(a, "eXample.com.");
	T_EQ_INT(dns_db_zone_find(l.db, a), 0);
	name(a, "example.net.");
	T_EQ_INT(dns_db_zone_find(l.db, a), -ENOENT);
	/* Folded apex. */
	T_ASSERT(memcmp(dns_db_zone_apex(l.db, 0), "\7example\3com", 13) == 0);

	T_EQ_INT(dns_db_zone_walk(l.db, 0, walk_fn, &w), 0);
	T_EQ_INT(w.n, 7);
	T_EQ_STR(w.names[0], "example.com.");
	T_EQ_INT(w.types[0], DNS_TYPE_SOA);
	/* Then canonical order: the apex's other sets, then names. */
	T_EQ_STR(w.names[1], "example.com.");
	T_EQ_INT(w.types[1], DNS_TYPE_NS);
	T_EQ_INT(w.counts[1], 1); /* the duplicate NS went */
	T_EQ_STR(w.names[2], "a.b.c.example.com.");
	T_EQ_STR(w.names[3], "mail.example.com.");
	T_EQ_STR(w.names[4], "ns1.example.com.");
	/* "w" sorts before "www"; the empty non-terminals (c, b.c, w)
	 * hold no set, so a transfer has nothing of theirs to send. */
	T_EQ_STR(w.names[5], "*.w.example.com.");
	T_EQ_INT(w.types[5], DNS_TYPE_TXT);
	T_EQ_STR(w.names[6], "www.example.com.");
	T_EQ_INT(dns_db_zone_walk(l.db, 0, walk_stop, &stop), -EINTR);
	T_EQ_INT(stop, 2);

	dns_db_stats(l.db, &st);
	T_EQ_INT(st.zones, 1);
	T_EQ_INT(st.names, 6);
	T_EQ_INT(st.rrsets, 7);
	T_EQ_INT(st.records, 8);
	T_ASSERT(st.bytes > 0);
	dns_db_free(l.db);
}

static void
test_ttl_and_dups(void)
{
	struct load l = { .db = dns_db_new() };
	struct walk w = { .n = 0 };
	unsigned i;

	T_EQ_INT(add_zone(&l, "example.com.", zone_ok), 0);
	T_EQ_INT(dns_db_finish(l.db, load_err, &l), 0);
	T_EQ_INT(dns_db_zone_walk(l.db, 0, walk_fn, &w), 0);
	for (i = 0; i < w.n; i++)
		if (strcmp(w.names[i], "www.example.com.") == 0)
			break;
	T_ASSERT(i < w.n);
	T_EQ_INT(w.counts[i], 2);
	T_EQ_INT(w.ttls[i], 50); /* RFC 2181 §5.2: the lowest */
	dns_db_free(l.db);
}

static void
test_begin_and_add_errors(void)
{
	struct dns_db *db = dns_db_new();
	uint8_t a[DNS_NAME_MAX], o[DNS_NAME_MAX];
	static const uint8_t ip[4] = { 198, 18, 0, 1 };

	name(a, "example.com.");
	T_EQ_INT(dns_db_zone_begin(db, a), 0);
	name(a, "EXAMPLE.com.");
	T_EQ_INT(dns_db_zone_begin(db, a), -EEXIST);
	name(a, "sub.example.com.");
	T_EQ_INT(dns_db_zone_begin(db, a), 1); /* a child zone is fine */
	name(o, "www.example.net.");
	T_EQ_INT(dns_db_add_rr(db, 0, o, DNS_TYPE_A, 1, ip, 4), -EDOM);
	T_EQ_INT(dns_db_add_dyn(db, 0, o, 1), -EDOM);
	name(o, "www.example.com.");
	T_EQ_INT(dns_db_add_rr(db, 0, o, DNS_TYPE_A, 1, ip, 4), 0);
	T_EQ_INT(dns_db_add_rr(db, 0, o, DNS_TYPE_OPT, 1, ip, 4), -EINVAL);
	T_EQ_INT(dns_db_add_rr(db, 7, o, DNS_TYPE_A, 1, ip, 4), -EINVAL);
	T_EQ_INT(dns_db_add_dyn(db, 0, o, 1), 0);
	T_EQ_INT(dns_db_add_dyn(db, 0, o, 2), -EEXIST);
	/* No SOA or NS in either zone: finish says so, per zone. */
	T_EQ_INT(dns_db_finish(db, NULL, NULL), -EINVAL);
	T_EQ_INT(dns_db_finish(db, NULL, NULL), -EINVAL);
	name(a, "example.org.");
	T_EQ_INT(dns_db_zone_begin(db, a), -EINVAL); /* after finish */
	T_EQ_INT(dns_db_add_rr(db, 0, o, DNS_TYPE_A, 1, ip, 4), -EINVAL);
	dns_db_free(db);
	dns_db_free(NULL);
}

/* Finish must report each broken rule once, naming zone and owner. */
static void
test_checks(void)
{
	struct load l = { .db = dns_db_new() };
	static const char bad[] = "$TTL 300\n"
	                          "@ SOA ns hm 1 1 1 1 1\n"
	                          "@ SOA ns hm 2 1 1 1 1\n"
	                          "x SOA ns hm 1 1 1 1 1\n"
	                          "c CNAME www\n"
	                          "c A 198.18.0.1\n"
	                          "d DNAME example.net.\n"
	                          "x.d A 198.18.0.2\n"
	                          "y.z.d TXT \"hidden\"\n"
	                          "dyn CNAME www\n"
	                          "s NS ns.example.net.\n";
	uint8_t o[DNS_NAME_MAX];
	unsigned i;
	bool seen[8] = { false };
	static const char *want[8] = {
		"zone example.com: x.example.com.: SOA not at the apex",
		"zone example.com: c.example.com.: CNAME and other data "
		"(RFC 2181 §10.1)",
		"zone example.com: x.d.example.com.: data below a DNAME "
		"(RFC 6672 §2.3)",
		"zone example.com: y.z.d.example.com.: data below a DNAME "
		"(RFC 6672 §2.3)",
		"zone example.com: dyn.example.com.: CNAME at a dynamic name",
		"zone example.com: no NS at the apex",
		"zone example.com: more than one SOA",
		"zone example.com: h.s.example.com.: dynamic name at or below "
		"a zone cut",
	};

	T_EQ_INT(add_zone(&l, "example.com.", bad), 0);
	name(o, "dyn.example.com.");
	T_EQ_INT(dns_db_add_dyn(l.db, 0, o, 9), 0);
	name(o, "h.s.example.com.");
	T_EQ_INT(dns_db_add_dyn(l.db, 0, o, 10), 0);
	T_EQ_INT(dns_db_finish(l.db, load_err, &l), -EINVAL);
	for (i = 0; i < l.nerr && i < ARRAY_SIZE(l.errs); i++)
		printf("# %s\n", l.errs[i]);
	T_EQ_INT(l.nerr, 8);
	for (i = 0; i < l.nerr; i++) {
		unsigned j;

		for (j = 0; j < 8; j++)
			if (strcmp(l.errs[i], want[j]) == 0)
				seen[j] = true;
	}
	for (i = 0; i < 8; i++)
		if (!seen[i])
			test_fail(__FILE__, __LINE__, "missing: %s", want[i]);
	dns_db_free(l.db);
}

/* RDATA names the engine reads must be whole names, whoever added them. */
static void
test_malformed_rdata(void)
{
	struct load l = { .db = dns_db_new() };
	static const char ok[] = "$TTL 300\n"
	                         "@ SOA ns hm 1 1 1 1 1\n"
	                         "@ NS ns\n";
	static const uint8_t cut[] = { 5, 'a', 'b' }; /* label past the end */
	static const uint8_t mx[] = { 0, 10, 1, 'm', 0, 9 }; /* a byte after */
	uint8_t o[DNS_NAME_MAX];

	T_EQ_INT(add_zone(&l, "example.com.", ok), 0);
	name(o, "c.example.com.");
	T_EQ_INT(dns_db_add_rr(l.db, 0, o, DNS_TYPE_CNAME, 1, cut, 3), 0);
	name(o, "m.example.com.");
	T_EQ_INT(dns_db_add_rr(l.db, 0, o, DNS_TYPE_MX, 1, mx, 6), 0);
	T_EQ_INT(dns_db_finish(l.db, load_err, &l), -EINVAL);
	T_EQ_INT(l.nerr, 2);
	T_EQ_STR(
	    l.errs[0], "zone example.com: c.example.com.: malformed RDATA");
	T_EQ_STR(
	    l.errs[1], "zone example.com: m.example.com.: malformed RDATA");
	dns_db_free(l.db);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A million A records, h<i>.example.com, built as the loader would. */
static void
test_million(void)
{
	static const uint8_t soa[] = "\2ns\0\2hm\0\0\0\0\1\0\0\0\1\0\0\0\1"
	                             "\0\0\0\1\0\0\0\1";
	static const uint8_t ns[] = "\2ns\7example\3com";
	struct dns_db *db = dns_db_new();
	struct dns_db_stats st;
	uint8_t o[DNS_NAME_MAX], ip[4] = { 198, 18, 0, 0 };
	unsigned i, n = 1000000;
	double t0, t1, t2;
	char text[32];

	t0 = now_s();
	name(o, "example.com.");
	T_EQ_INT(dns_db_zone_begin(db, o), 0);
	T_EQ_INT(dns_db_add_rr(db, 0, o, DNS_TYPE_SOA, 3600, soa, 28), 0);
	T_EQ_INT(dns_db_add_rr(db, 0, o, DNS_TYPE_NS, 3600, ns, 16), 0);
	for (i = 0; i < n; i++) {
		int len = snprintf(text, sizeof(text), "h%u", i);

		T_ASSERT(dns_name_from_text(o, text, (size_t)len,
		             (const uint8_t *)"\7example\3com") > 0);
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)i;
		T_EQ_INT(dns_db_add_rr(db, 0, o, DNS_TYPE_A, 300, ip, 4), 0);
	}
	t1 = now_s();
	T_EQ_INT(dns_db_finish(db, NULL, NULL), 0);
	t2 = now_s();
	dns_db_stats(db, &st);
	T_EQ_INT(st.records, n + 2);
	T_EQ_INT(st.names, n + 1);
	printf("# 1M A records: add %.3f s, finish %.3f s, %zu bytes "
	       "(%.1f per record)\n",
	    t1 - t0, t2 - t1, st.bytes, (double)st.bytes / n);
	dns_db_free(db);
}

static const struct test tests[] = {
	TEST(test_build_and_walk),
	TEST(test_ttl_and_dups),
	TEST(test_begin_and_add_errors),
	TEST(test_checks),
	TEST(test_malformed_rdata),
	TEST(test_million),
};

TEST_MAIN(tests)
