/*
 * Unit tests for dns_catalog.c and dns_catalog_serial.c: the records of a
 * catalog zone (RFC 9432 §4: SOA, NS invalid., version TXT "2", a PTR per
 * member at its id under zones, group TXT), ids pinned to their hash so a
 * change that would move every member on every consumer fails here, the
 * digest that picks the serial, and the serial's rules: kept while the
 * digest is, raised when it changes, never behind the stored one nor the
 * clock, the clock again when the stored file is corrupt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns_catalog.h"
#include "dns/dns_wire.h"
#include "lib/buf.h"
#include "runner.h"

/* Records as "owner TYPE rdata-summary\n" lines. */
static int
t_rr(const struct dns_zone_rr *rr, void *arg)
{
	struct buf *b = arg;
	char owner[DNS_NAME_TEXT_MAX], target[DNS_NAME_TEXT_MAX];

	T_ASSERT(dns_name_to_text(rr->owner, owner, sizeof(owner)) > 0);
	T_EQ_INT(rr->rclass, DNS_CLASS_IN);
	switch (rr->type) {
	case DNS_TYPE_SOA:
		T_EQ_INT(rr->rdlen, 9 + 9 + 20);
		buf_printf(b, "%s SOA %u\n", owner,
		    (unsigned)rr->rdata[18] << 24 | rr->rdata[19] << 16 |
		        rr->rdata[20] << 8 | rr->rdata[21]);
		break;
	case DNS_TYPE_NS:
	case DNS_TYPE_PTR:
		T_ASSERT(
		    dns_name_to_text(rr->rdata, target, sizeof(target)) > 0);
		buf_printf(b, "%s %s %s\n", owner,
		    rr->type == DNS_TYPE_NS ? "NS" : "PTR", target);
		break;
	case DNS_TYPE_TXT:
		T_EQ_INT(rr->rdata[0], rr->rdlen - 1);
		buf_printf(b, "%s TXT \"%.*s\"\n", owner, (int)rr->rdata[0],
		    (const char *)rr->rdata + 1);
		break;
	default:
		test_fail(__FILE__, __LINE__, "type %u", rr->type);
	}
	return 0;
}

/* A catalog of the given members (text, NULL-ended). */
static void
t_cat(struct dns_catalog_conf *cat, const char *name, const char **members,
    const char *group)
{
	size_t n = 0;

	memset(cat, 0, sizeof(*cat));
	T_ASSERT(dns_name_from_text(cat->apex, name, strlen(name), NULL) > 0);
	while (members[n] != NULL)
		n++;
	cat->member_apex = calloc(n + 1, sizeof(*cat->member_apex));
	for (size_t i = 0; i < n; i++)
		T_ASSERT(dns_name_from_text(cat->member_apex[i], members[i],
		             strlen(members[i]), NULL) > 0);
	cat->nmember_apex = n;
	cat->group = (char *)group;
}

static void
test_records(void)
{
	static const char *m[] = { "example.com.", "example.net.", NULL };
	struct dns_catalog_conf cat;
	struct buf b;

	t_cat(&cat, "catalog.invalid.", m, NULL);
	buf_init(&b);
	T_EQ_INT(dns_catalog_build(&cat, 42, t_rr, &b, NULL), 0);
	buf_putc(&b, '\0');
	T_EQ_STR(b.data,
	    "catalog.invalid. SOA 42\n"
	    "catalog.invalid. NS invalid.\n"
	    "version.catalog.invalid. TXT \"2\"\n"
	    "3f55df7e6dfeb4fa.zones.catalog.invalid. PTR example.com.\n"
	    "e53e921d4933d9cf.zones.catalog.invalid. PTR example.net.\n");
	buf_fini(&b);

	/* A group: one TXT per member, under its id (§4.4.2). */
	cat.group = "fast";
	buf_init(&b);
	T_EQ_INT(dns_catalog_build(&cat, 42, t_rr, &b, NULL), 0);
	buf_putc(&b, '\0');
	T_ASSERT(strstr(b.data,
	             "group.3f55df7e6dfeb4fa.zones.catalog.invalid. TXT "
	             "\"fast\"\n") != NULL);
	T_ASSERT(strstr(b.data,
	             "group.e53e921d4933d9cf.zones.catalog.invalid. TXT "
	             "\"fast\"\n") != NULL);
	buf_fini(&b);
	free(cat.member_apex);
}

/* The id is the member's, whatever its case, and pinned: a new hash
 * would make every consumer reset every member's state (RFC 9432 §5). */
static void
test_id_stable(void)
{
	char a[2 * DNS_CATALOG_ID_BYTES + 1], b[sizeof(a)];

	dns_catalog_id((const uint8_t *)"\7example\3com", a);
	dns_catalog_id((const uint8_t *)"\7ExAmPlE\3COM", b);
	T_EQ_STR(a, b);
	T_EQ_STR(a, "3f55df7e6dfeb4fa");
	dns_catalog_id((const uint8_t *)"\7example\3org", b);
	T_ASSERT(strcmp(a, b) != 0);
}

static void
t_digest(const char **m, const char *group, uint32_t serial,
    uint8_t d[DNS_CATALOG_DIGEST_BYTES])
{
	struct dns_catalog_conf cat;
	struct buf b;

	t_cat(&cat, "catalog.invalid.", m, group);
	buf_init(&b);
	T_EQ_INT(dns_catalog_build(&cat, serial, t_rr, &b, d), 0);
	buf_fini(&b);
	free(cat.member_apex);
}

/* The digest sees every record but the SOA serial. */
static void
test_digest(void)
{
	static const char *m1[] = { "example.com.", NULL };
	static const char *m2[] = { "example.com.", "example.org.", NULL };
	uint8_t a[DNS_CATALOG_DIGEST_BYTES], b[DNS_CATALOG_DIGEST_BYTES];

	t_digest(m1, NULL, 1, a);
	t_digest(m1, NULL, 99, b);
	T_ASSERT(memcmp(a, b, sizeof(a)) == 0);
	t_digest(m2, NULL, 1, b);
	T_ASSERT(memcmp(a, b, sizeof(a)) != 0);
	t_digest(m1, "g", 1, b);
	T_ASSERT(memcmp(a, b, sizeof(a)) != 0);
}

/* A member whose owner would pass 255 bytes is refused, not cut. */
static void
test_too_long(void)
{
	static const char *m[] = { "example.com.", NULL };
	struct dns_catalog_conf cat;
	char name[300];
	struct buf b;
	size_t n = 0;

	/* 4 labels of 60: 244 bytes of wire name, then the id will not
	 * fit. */
	for (int i = 0; i < 4; i++)
		n += (size_t)snprintf(name + n, sizeof(name) - n, "%.60s.",
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	t_cat(&cat, name, m, NULL);
	buf_init(&b);
	T_EQ_INT(dns_catalog_build(&cat, 1, t_rr, &b, NULL), -ENAMETOOLONG);
	buf_fini(&b);
	free(cat.member_apex);
}

static void
test_serial(void)
{
	const uint8_t *apex = (const uint8_t *)"\7catalog\7invalid";
	uint8_t d1[DNS_CATALOG_DIGEST_BYTES], d2[DNS_CATALOG_DIGEST_BYTES];
	char dir[64], path[128];
	FILE *f;

	memset(d1, 1, sizeof(d1));
	memset(d2, 2, sizeof(d2));
	snprintf(dir, sizeof(dir), "/tmp/test_dns_catalog.XXXXXX");
	T_ASSERT(mkdtemp(dir) != NULL);
	/* Nowhere to keep it: the clock. */
	T_EQ_INT(dns_catalog_serial("", apex, d1, 1000), 1000);
	/* First time: the clock; the same records later: kept. */
	T_EQ_INT(dns_catalog_serial(dir, apex, d1, 1000), 1000);
	T_EQ_INT(dns_catalog_serial(dir, apex, d1, 5000), 1000);
	/* New records: the clock, being ahead... */
	T_EQ_INT(dns_catalog_serial(dir, apex, d2, 2000), 2000);
	/* ...or one more than the stored serial when the clock is behind
	 * (a clock stepped back, or changes faster than a second). */
	T_EQ_INT(dns_catalog_serial(dir, apex, d1, 2000), 2001);
	T_EQ_INT(dns_catalog_serial(dir, apex, d2, 1500), 2002);
	T_EQ_INT(dns_catalog_serial(dir, apex, d2, 9000), 2002);
	/* A corrupt file: the clock, which a lost one also falls back to. */
	snprintf(path, sizeof(path), "%s/catalog.invalid.serial", dir);
	T_ASSERT((f = fopen(path, "w")) != NULL);
	fputs("garbage\n", f);
	fclose(f);
	T_EQ_INT(dns_catalog_serial(dir, apex, d1, 7000), 7000);
	T_EQ_INT(dns_catalog_serial(dir, apex, d1, 8000), 7000);
	unlink(path);
	rmdir(dir);
}

static const struct test tests[] = {
	TEST(test_records),
	TEST(test_id_stable),
	TEST(test_digest),
	TEST(test_too_long),
	TEST(test_serial),
};

TEST_MAIN(tests)
