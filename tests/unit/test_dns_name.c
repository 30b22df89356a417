/*
 * Unit tests for dns_name.c: wire names, their text form with RFC 1035
 * escapes, ASCII-only case folding, subdomains and the RFC 4034 §6.1
 * canonical order (its own example list is the test table).
 */
#include <errno.h>
#include <stdint.h>

#include "dns/dns_name.h"
#include "lib/util.h"
#include "runner.h"

/* "example." in wire form, the origin of most cases below. */
static const uint8_t origin[] = "\x07"
                                "example";

/* text -> wire of text with origin; returns the length or -errno. */
static int
from(uint8_t out[DNS_NAME_MAX], const char *text)
{
	return dns_name_from_text(out, text, strlen(text), origin);
}

static void
test_from_text(void)
{
	static const struct {
		const char *text;
		const char *wire; /* NULL: rejected */
		size_t len;
	} cases[] = {
		{ "www", "\3www\7example", 13 },
		{ "www.example.", "\3www\7example", 13 },
		{ "@", "\7example", 9 },
		{ ".", "", 1 },
		{ "a.b", "\1a\1b\7example", 13 },
		{ "WwW.ExAmPlE.", "\3WwW\7ExAmPlE", 13 },
		/* \. inside a label, \DDD, \\ */
		{ "a\\.b.", "\3a.b", 5 },
		{ "\\065\\000z.", "\3A\0z", 5 },
		{ "a\\\\b.", "\3a\\b", 5 },
		{ "\\@.", "\1@", 3 },
		{ "", NULL, 0 },
		{ "a..b", NULL, 0 },
		{ ".a", NULL, 0 },
		{ "a\\", NULL, 0 },
		{ "\\256.", NULL, 0 },
		{ "\\12.", NULL, 0 },
		{ "\\1x.", NULL, 0 },
	};
	uint8_t out[DNS_NAME_MAX];
	size_t i;
	int n;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		n = from(out, cases[i].text);
		if (cases[i].wire == NULL) {
			if (n >= 0)
				test_fail(__FILE__, __LINE__, "\"%s\" accepted",
				    cases[i].text);
			continue;
		}
		if (n != (int)cases[i].len ||
		    memcmp(out, cases[i].wire, cases[i].len) != 0)
			test_fail(
			    __FILE__, __LINE__, "\"%s\": %d", cases[i].text, n);
	}
	/* Relative without an origin. */
	T_EQ_INT(dns_name_from_text(out, "www", 3, NULL), -EINVAL);
	T_EQ_INT(dns_name_from_text(out, "@", 1, NULL), -EINVAL);
	T_EQ_INT(dns_name_from_text(out, "www.", 4, NULL), 5);
}

static void
test_limits(void)
{
	char text[600];
	uint8_t out[DNS_NAME_MAX];
	size_t i;

	/* 63-octet label passes, 64 does not. */
	memset(text, 'a', 63);
	text[63] = '.';
	T_EQ_INT(dns_name_from_text(out, text, 64, NULL), 65);
	memset(text, 'a', 64);
	text[64] = '.';
	T_EQ_INT(dns_name_from_text(out, text, 65, NULL), -ENAMETOOLONG);
	/* 127 one-octet labels: 254 octets + root = 255, the maximum. */
	for (i = 0; i < 127; i++) {
		text[2 * i] = 'a';
		text[2 * i + 1] = '.';
	}
	T_EQ_INT(dns_name_from_text(out, text, 254, NULL), 255);
	T_EQ_INT(dns_name_check(out, 255), 255);
	T_EQ_INT(dns_name_labels(out), 127);
	/* One more octet is one too many: absolute, and relative. */
	text[254] = 'b';
	text[255] = '.';
	T_EQ_INT(dns_name_from_text(out, text, 256, NULL), -ENAMETOOLONG);
	T_EQ_INT(dns_name_from_text(out, text, 251, origin), -ENAMETOOLONG);
	/* 63+1+63+1+63+1+61 = 253 text octets -> 255 wire octets. */
	memset(text, 'x', 253);
	text[63] = text[127] = text[191] = '.';
	T_EQ_INT(dns_name_from_text(out, text, 253, (const uint8_t *)""), 255);
	text[253] = 'x';
	T_EQ_INT(dns_name_from_text(out, text, 254, (const uint8_t *)""),
	    -ENAMETOOLONG);
}

static void
test_check(void)
{
	static const uint8_t ok[] = "\3www\7example";
	static const uint8_t ptr[] = "\3www\xc0\x0c";
	static const uint8_t ext[] = "\3www\x41xx";

	T_EQ_INT(dns_name_check(ok, sizeof(ok)), 13);
	T_EQ_INT(dns_name_check(ok, 12), -EINVAL); /* root cut off */
	T_EQ_INT(dns_name_check(ptr, sizeof(ptr)), -EINVAL);
	T_EQ_INT(dns_name_check(ext, sizeof(ext)), -EINVAL);
	T_EQ_INT(dns_name_check((const uint8_t *)"", 1), 1);
	T_EQ_INT(dns_name_check((const uint8_t *)"", 0), -EINVAL);
}

static void
test_to_text(void)
{
	static const struct {
		const char *wire;
		size_t len;
		const char *text;
	} cases[] = {
		{ "", 1, "." },
		{ "\3WwW\7example", 13, "WwW.example." },
		{ "\3a.b", 5, "a\\.b." },
		{ "\3A\0z", 5, "A\\000z." },
		{ "\4\"();", 6, "\\\"\\(\\)\\;." },
		{ "\3@$\\", 5, "\\@\\$\\\\." },
		{ "\2 \xff", 4, "\\032\\255." },
	};
	char buf[DNS_NAME_TEXT_MAX];
	uint8_t back[DNS_NAME_MAX];
	size_t i;
	int n;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const uint8_t *w = (const uint8_t *)cases[i].wire;

		n = dns_name_to_text(w, buf, sizeof(buf));
		T_EQ_STR(buf, cases[i].text);
		T_EQ_INT(n, strlen(cases[i].text));
		/* And back, byte for byte. */
		T_EQ_INT(dns_name_from_text(back, buf, (size_t)n, NULL),
		    cases[i].len);
		T_ASSERT(memcmp(back, w, cases[i].len) == 0);
	}
	T_EQ_INT(dns_name_to_text((const uint8_t *)"\3www", buf, 4), -ENOSPC);
	T_EQ_STR(buf, "www");
	T_EQ_INT(dns_name_to_text((const uint8_t *)"\3www", buf, 5), 4);
}

static void
test_case_folding(void)
{
	uint8_t a[DNS_NAME_MAX], b[DNS_NAME_MAX];

	from(a, "WWW.Example.");
	from(b, "www.eXample.");
	T_ASSERT(dns_name_equal(a, b));
	T_EQ_INT(dns_name_hash(a), dns_name_hash(b));
	/* Only A-Z fold: 0xC9 and 0xE9 (Latin-1 E acute) stay distinct,
	 * as do '@' (0x40) and '`' (0x60), which differ by the case bit. */
	from(a, "\\201.");
	from(b, "\\233.");
	T_ASSERT(!dns_name_equal(a, b));
	from(a, "\\@.");
	from(b, "`.");
	T_ASSERT(!dns_name_equal(a, b));
	T_ASSERT(dns_name_hash(a) != dns_name_hash(b));
	from(a, "MiXeD.");
	dns_name_lower(a);
	T_ASSERT(memcmp(a, "\5mixed", 7) == 0);
	/* Different lengths, same letters. */
	from(a, "ab.c.");
	from(b, "a.bc.");
	T_ASSERT(!dns_name_equal(a, b));
}

static void
test_is_sub(void)
{
	uint8_t n[DNS_NAME_MAX], p[DNS_NAME_MAX];

	from(n, "a.b.Example.");
	from(p, "example.");
	T_ASSERT(dns_name_is_sub(n, p));
	T_ASSERT(dns_name_is_sub(p, p));
	T_ASSERT(!dns_name_is_sub(p, n));
	T_ASSERT(dns_name_is_sub(n, (const uint8_t *)""));
	/* Label boundaries count: "xexample." is not under "example.". */
	from(n, "xexample.");
	T_ASSERT(!dns_name_is_sub(n, p));
	T_EQ_INT(dns_name_labels(p), 1);
	T_EQ_INT(dns_name_labels((const uint8_t *)""), 0);
}

/* RFC 4034 §6.1's example, in its canonical order. */
static void
test_canonical_order(void)
{
	static const char *const order[] = {
		"example.",
		"a.example.",
		"yljkjljk.a.example.",
		"Z.a.example.",
		"zABC.a.EXAMPLE.",
		"z.example.",
		"\\001.z.example.",
		"*.z.example.",
		"\\200.z.example.",
	};
	uint8_t a[DNS_NAME_MAX], b[DNS_NAME_MAX];
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(order); i++) {
		for (j = 0; j < ARRAY_SIZE(order); j++) {
			int c;

			T_ASSERT(from(a, order[i]) > 0);
			T_ASSERT(from(b, order[j]) > 0);
			c = dns_name_cmp_canon(a, b);
			if ((i < j && c >= 0) || (i == j && c != 0) ||
			    (i > j && c <= 0))
				test_fail(__FILE__, __LINE__, "%s vs %s: %d",
				    order[i], order[j], c);
		}
	}
	/* Case does not order. */
	from(a, "ABC.");
	from(b, "abc.");
	T_EQ_INT(dns_name_cmp_canon(a, b), 0);
}

static const struct test tests[] = {
	TEST(test_from_text),
	TEST(test_limits),
	TEST(test_check),
	TEST(test_to_text),
	TEST(test_case_folding),
	TEST(test_is_sub),
	TEST(test_canonical_order),
};

TEST_MAIN(tests)
