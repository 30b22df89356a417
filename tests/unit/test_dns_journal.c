/*
 * Unit tests for dns_diff.c and dns_journal.c: the difference of two
 * versions of a zone built from zone text (added, deleted, changed RDATA
 * and TTL, SOA kept out), the journal's chain and bounds, and its file
 * form: a round trip, then every truncation, every flipped byte (the hash
 * catches it), a wrong apex and a valid hash over a broken body, each
 * rejected with the journal left empty.
 */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_db.h"
#include "dns/dns_diff.h"
#include "dns/dns_journal.h"
#include "dns/dns_zone.h"
#include "lib/buf.h"
#include "runner.h"

static uint8_t apex[DNS_NAME_MAX];

/* Each test runs in its own process: set the apex before any use. */
static void
set_apex(void)
{
	T_ASSERT(dns_name_from_text(apex, "example.com.", 12, NULL) > 0);
}

static int
load_rr(const struct dns_zone_rr *rr, void *arg)
{
	struct dns_db *db = arg;

	T_EQ_INT(dns_db_add_rr(
	             db, 0, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen),
	    0);
	return 0;
}

/* A finished db of example.com. from zone text (SOA and NS included). */
static struct dns_db *
make_db(uint32_t serial, const char *body)
{
	struct dns_db *db = dns_db_new();
	struct dns_zone_conf zc = { .origin = apex, .rr = load_rr, .arg = db };
	char text[4096];
	int n;

	set_apex();
	n = snprintf(text, sizeof(text),
	    "$TTL 300\n"
	    "@ IN SOA ns1 hostmaster %u 3600 600 86400 60\n"
	    "@ IN NS ns1\n"
	    "ns1 IN A 198.18.0.53\n%s",
	    serial, body);
	T_ASSERT(n > 0 && (size_t)n < sizeof(text));
	T_EQ_INT(dns_db_zone_begin(db, apex), 0);
	T_EQ_INT(dns_zone_parse(&zc, "t.zone", text, (size_t)n, NULL), 0);
	T_EQ_INT(dns_db_finish(db, NULL, NULL), 0);
	return db;
}

/* "owner TYPE" of each record of l, space separated, into out. */
static void
list_text(const struct dns_rrlist *l, char *out, size_t size)
{
	struct dns_rr rr;
	size_t off = 0, n = 0;
	char name[DNS_NAME_TEXT_MAX];

	out[0] = '\0';
	while (dns_rrlist_next(l, &off, &rr)) {
		T_ASSERT(dns_name_to_text(rr.owner, name, sizeof(name)) >= 0);
		n += (size_t)snprintf(out + n, size - n, "%s%s/%u/%u",
		    n ? " " : "", name, rr.type, rr.ttl);
		T_ASSERT(n < size);
	}
}

static void
diff(uint32_t s1, const char *b1, uint32_t s2, const char *b2,
    struct dns_diff *d)
{
	struct dns_db *o = make_db(s1, b1), *n = make_db(s2, b2);

	T_EQ_INT(dns_diff_zones(o, 0, n, 0, d), 0);
	dns_db_free(o);
	dns_db_free(n);
}

static void
test_diff(void)
{
	struct dns_diff d;
	char t[1024];

	diff(1,
	    "a IN A 198.18.0.1\n"
	    "b IN A 198.18.0.2\n"
	    "c 60 IN TXT \"old\"\n"
	    "www IN CNAME a\n"
	    "x IN A 198.18.0.9\n",
	    2,
	    "a IN A 198.18.0.1\n"
	    "a IN A 198.18.0.10\n"
	    "b IN A 198.18.0.3\n"
	    "c 120 IN TXT \"old\"\n"
	    "www IN CNAME a\n"
	    "New IN AAAA 2001:db8::1\n",
	    &d);
	T_EQ_INT(d.from, 1);
	T_EQ_INT(d.to, 2);
	T_EQ_INT(d.soa_from.n, 1);
	T_EQ_INT(d.soa_to.n, 1);
	list_text(&d.del, t, sizeof(t));
	T_EQ_STR(t,
	    "b.example.com./1/300 c.example.com./16/60 "
	    "x.example.com./1/300");
	list_text(&d.add, t, sizeof(t));
	/* Canonical order, owners folded to lower case. */
	T_EQ_STR(t,
	    "a.example.com./1/300 b.example.com./1/300 "
	    "c.example.com./16/120 new.example.com./28/300");
	dns_diff_fini(&d);
	/* Same records, new serial: an empty step, still a step. */
	diff(5, "a IN A 198.18.0.1\n", 6, "a IN A 198.18.0.1\n", &d);
	T_EQ_INT(d.del.n, 0);
	T_EQ_INT(d.add.n, 0);
	T_EQ_INT(d.to, 6);
	dns_diff_fini(&d);
}

static int
walk_rr(const struct dns_rrset *set, void *arg)
{
	struct dns_rr rr = { set->owner, set->type, set->rclass, set->ttl, 0,
		NULL };

	for (unsigned i = 0; i < set->count; i++) {
		rr.rdlen = set->rdata[i].len;
		rr.rdata = set->rdata[i].data;
		dns_rrlist_add(arg, &rr);
	}
	return 0;
}

/* Every record of db's zone, SOA included, in walk order. */
static void
all_records(const struct dns_db *db, struct dns_rrlist *l)
{
	memset(l, 0, sizeof(*l));
	T_EQ_INT(dns_db_zone_walk(db, 0, walk_rr, l), 0);
}

/* a and b hold the same records, whatever their order. */
static bool
same_records(const struct dns_rrlist *a, const struct dns_rrlist *b)
{
	struct dns_rrlist none = { 0 }, x = { 0 };

	if (a->n != b->n)
		return false;
	/* Deleting all of b from a copy of a succeeds only if each of b is
	 * in a; equal counts then make them equal. */
	x.b = malloc(a->len + 1);
	T_ASSERT(x.b != NULL);
	memcpy(x.b, a->b, a->len);
	x.len = x.cap = a->len;
	x.n = a->n;
	if (dns_rrlist_apply(&x, b, &none) != 0) {
		dns_rrlist_free(&x);
		return false;
	}
	T_EQ_INT(x.n, 0);
	dns_rrlist_free(&x);
	return true;
}

static void
test_apply(void)
{
	static const char *b1 = "a IN A 198.18.0.1\n"
	                        "b IN A 198.18.0.2\n"
	                        "c 60 IN TXT \"old\"\n";
	static const char *b2 = "a IN A 198.18.0.1\n"
	                        "a IN A 198.18.0.10\n"
	                        "c 120 IN TXT \"old\"\n"
	                        "d IN MX 10 a\n";
	struct dns_db *o = make_db(1, b1), *n = make_db(2, b2);
	struct dns_rrlist cur, want, before, empty = { 0 };
	struct dns_diff d;

	T_EQ_INT(dns_diff_zones(o, 0, n, 0, &d), 0);
	all_records(o, &cur);
	all_records(n, &want);
	/* Deletions and additions in one list each, the SOAs with them, as
	 * a secondary reads them off an IXFR answer. */
	T_EQ_INT(dns_rrlist_apply(&cur, &d.soa_from, &d.soa_to), 0);
	T_EQ_INT(dns_rrlist_apply(&cur, &d.del, &d.add), 0);
	T_ASSERT(same_records(&cur, &want));
	/* The same step again: its old SOA is gone, so it fails, and cur is
	 * left as it was. */
	all_records(n, &before);
	T_EQ_INT(dns_rrlist_apply(&cur, &d.soa_from, &empty), -ENOENT);
	T_EQ_INT(dns_rrlist_apply(&cur, &d.del, &d.add), -ENOENT);
	T_ASSERT(same_records(&cur, &before));
	/* A TTL change through an addition alone replaces the record. */
	dns_rrlist_free(&cur);
	all_records(o, &cur);
	T_EQ_INT(dns_rrlist_apply(&cur, &empty, &d.add), 0);
	/* Serial 1's 6 records (SOA NS ns1 a b c), c's TXT replaced by its
	 * 120 s self, a's second address and d's MX added. */
	T_EQ_INT(cur.n, 6 + 2);
	dns_rrlist_free(&cur);
	dns_rrlist_free(&want);
	dns_rrlist_free(&before);
	dns_diff_fini(&d);
	dns_db_free(o);
	dns_db_free(n);
}

/* A step from -> to that adds one A record named after to. */
static void
step(struct dns_diff *d, uint32_t from, uint32_t to)
{
	char b1[64], b2[128];

	snprintf(b1, sizeof(b1), "h%u IN A 198.18.1.1\n", from);
	snprintf(b2, sizeof(b2), "h%u IN A 198.18.1.1\nh%u IN A 198.18.1.2\n",
	    from, to);
	diff(from, b1, to, b2, d);
}

static void
test_chain(void)
{
	struct dns_journal *j;
	struct dns_diff d;
	size_t first;

	set_apex();
	j = dns_journal_new(apex, 3, 1 << 20);

	step(&d, 10, 11);
	T_EQ_INT(dns_journal_append(j, &d), 0);
	T_EQ_INT(d.del.b == NULL && d.add.b == NULL, 1); /* moved */
	step(&d, 11, 12);
	T_EQ_INT(dns_journal_append(j, &d), 0);
	T_ASSERT(dns_journal_ends_at(j, 12));
	T_EQ_INT(dns_journal_find(j, 10, &first), 0);
	T_EQ_INT(first, 0);
	T_EQ_INT(dns_journal_find(j, 11, &first), 0);
	T_EQ_INT(first, 1);
	T_EQ_INT(dns_journal_find(j, 12, &first), -ENOENT);
	T_EQ_INT(dns_journal_find(j, 9, &first), -ENOENT);
	/* Bounded by versions: the oldest goes. */
	step(&d, 12, 13);
	T_EQ_INT(dns_journal_append(j, &d), 0);
	step(&d, 13, 14);
	T_EQ_INT(dns_journal_append(j, &d), 0);
	T_EQ_INT(j->n, 3);
	T_EQ_INT(dns_journal_find(j, 10, &first), -ENOENT);
	T_EQ_INT(dns_journal_find(j, 11, &first), 0);
	/* A gap: the history before it cannot be served. */
	step(&d, 20, 21);
	T_EQ_INT(dns_journal_append(j, &d), 0);
	T_EQ_INT(j->n, 1);
	T_EQ_INT(dns_journal_find(j, 13, &first), -ENOENT);
	/* Serial arithmetic across the wrap (RFC 1982). */
	step(&d, 21, 0xfffffff0u);
	T_EQ_INT(dns_journal_append(j, &d), -EINVAL);
	T_EQ_INT(j->n, 1);
	dns_journal_clear(j);
	step(&d, 0xfffffff0u, 5);
	T_EQ_INT(dns_journal_append(j, &d), 0);
	T_ASSERT(dns_journal_ends_at(j, 5));
	/* Bounded by bytes: a step over the bound leaves nothing. */
	dns_journal_set_bounds(j, 3, 10);
	T_EQ_INT(j->n, 0);
	T_EQ_INT(j->bytes, 0);
	dns_journal_free(j);
}

static struct dns_journal *
make_journal(unsigned steps)
{
	struct dns_journal *j;
	struct dns_diff d;

	set_apex();
	j = dns_journal_new(apex, 100, 1 << 20);

	for (unsigned i = 0; i < steps; i++) {
		step(&d, 100 + i, 101 + i);
		T_EQ_INT(dns_journal_append(j, &d), 0);
	}
	return j;
}

static void
test_codec(void)
{
	struct dns_journal *j = make_journal(3), *k;
	struct buf b, b2;

	buf_init(&b);
	buf_init(&b2);
	dns_journal_encode(j, &b);
	k = dns_journal_new(apex, 100, 1 << 20);
	T_EQ_INT(dns_journal_decode(k, (uint8_t *)b.data, b.len), 0);
	T_EQ_INT(k->n, 3);
	T_EQ_INT(k->bytes, j->bytes);
	T_ASSERT(dns_journal_ends_at(k, 103));
	dns_journal_encode(k, &b2);
	T_EQ_INT(b2.len, b.len);
	T_ASSERT(memcmp(b.data, b2.data, b.len) == 0);
	/* Bounds apply to what is read. */
	dns_journal_free(k);
	k = dns_journal_new(apex, 2, 1 << 20);
	T_EQ_INT(dns_journal_decode(k, (uint8_t *)b.data, b.len), 0);
	T_EQ_INT(k->n, 2);
	T_EQ_INT(k->v[0].from, 101);
	/* An empty journal is a valid file too. */
	dns_journal_clear(k);
	buf_reset(&b2);
	dns_journal_encode(k, &b2);
	T_EQ_INT(dns_journal_decode(k, (uint8_t *)b2.data, b2.len), 0);
	T_EQ_INT(k->n, 0);
	dns_journal_free(k);
	dns_journal_free(j);
	buf_fini(&b);
	buf_fini(&b2);
}

static void
test_codec_corrupt(void)
{
	struct dns_journal *j = make_journal(2), *k;
	uint8_t other[DNS_NAME_MAX], hash[DNS_JOURNAL_HASH_LEN];
	struct buf b;
	uint8_t *c;
	size_t i, body;

	buf_init(&b);
	dns_journal_encode(j, &b);
	k = dns_journal_new(apex, 100, 1 << 20);
	c = malloc(b.len);
	T_ASSERT(c != NULL);
	/* Every truncation. */
	for (i = 0; i < b.len; i++) {
		T_EQ_INT(dns_journal_decode(k, (uint8_t *)b.data, i), -EINVAL);
		T_EQ_INT(k->n, 0);
	}
	/* Every flipped byte. */
	for (i = 0; i < b.len; i++) {
		memcpy(c, b.data, b.len);
		c[i] ^= 0x20;
		T_EQ_INT(dns_journal_decode(k, c, b.len), -EINVAL);
		T_EQ_INT(k->n, 0);
	}
	/* Another zone's journal. */
	T_ASSERT(dns_name_from_text(other, "example.org.", 12, NULL) > 0);
	dns_journal_free(k);
	k = dns_journal_new(other, 100, 1 << 20);
	T_EQ_INT(dns_journal_decode(k, (uint8_t *)b.data, b.len), -EINVAL);
	dns_journal_free(k);
	k = dns_journal_new(apex, 100, 1 << 20);
	/* A body broken under a valid hash: the parser itself must catch
	 * it. Break the chain: step 2's from serial (after the header,
	 * apex, count and step 1) is found by re-encoding step 1 alone. */
	body = b.len - DNS_JOURNAL_HASH_LEN;
	for (i = DNS_JOURNAL_MAGIC_LEN; i + 4 <= body; i++) {
		memcpy(c, b.data, b.len);
		/* Serial 101 where step 2's from is: make it 999. */
		if (memcmp(c + i, "\0\0\0\x65\0\0\0\x66", 8) != 0)
			continue;
		c[i + 2] = 0x03;
		c[i + 3] = 0xe7;
		crypto_generichash(hash, sizeof(hash), c, body, NULL, 0);
		memcpy(c + body, hash, sizeof(hash));
		T_EQ_INT(dns_journal_decode(k, c, b.len), -EINVAL);
		T_EQ_INT(k->n, 0);
		break;
	}
	T_ASSERT(i + 4 <= body); /* the pattern was found */
	/* A count promising more records than the bytes hold. */
	memcpy(c, b.data, b.len);
	i = DNS_JOURNAL_MAGIC_LEN + dns_name_len(apex);
	c[i] = 0xff;
	crypto_generichash(hash, sizeof(hash), c, body, NULL, 0);
	memcpy(c + body, hash, sizeof(hash));
	T_EQ_INT(dns_journal_decode(k, c, b.len), -EINVAL);
	free(c);
	dns_journal_free(k);
	dns_journal_free(j);
	buf_fini(&b);
}

static const struct test tests[] = {
	TEST(test_diff),
	TEST(test_apply),
	TEST(test_chain),
	TEST(test_codec),
	TEST(test_codec_corrupt),
};

TEST_MAIN(tests)
