/*
 * Unit tests for the secondary role's pure and file parts: the saved
 * copy (dns_sec_copy.c) written, read back and compared record by record,
 * a corrupt or truncated copy refused, a write that would not parse back
 * refused with the old copy kept, expiry from the mtime; the NOTIFY and
 * SOA codecs (dns_sec_wire.c); RFC 1982 serial comparison; and a pending
 * zone in the tables answering SERVFAIL without AA (dns_db, dns_answer).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns/dns_answer.h"
#include "dns/dns_db.h"
#include "dns/dns_sec.h"
#include "dns/dns_sec_copy.h"
#include "dns/dns_sec_ixfr.h"
#include "dns/dns_sec_wire.h"
#include "dns/dns_wire.h"
#include "lib/util.h"
#include "runner.h"

static const uint8_t t_apex[] = "\7example\3com";

static char t_dir[64];

static void
t_setup(void)
{
	snprintf(t_dir, sizeof(t_dir), "/tmp/test_dns_sec.XXXXXX");
	if (mkdtemp(t_dir) == NULL)
		test_fail(__FILE__, __LINE__, "mkdtemp");
}

/* "ns1.example.com. hostmaster.example.com. serial 3600 600 86400 60" */
static size_t
t_soa(uint8_t *rd, uint32_t serial, uint32_t expire)
{
	static const uint8_t names[] = "\3ns1\7example\3com\0"
	                               "\12hostmaster\7example\3com";
	size_t n = sizeof(names);
	uint32_t v[5] = { serial, 3600, 600, expire, 60 };

	memcpy(rd, names, n);
	for (int i = 0; i < 5; i++) {
		rd[n++] = (uint8_t)(v[i] >> 24);
		rd[n++] = (uint8_t)(v[i] >> 16);
		rd[n++] = (uint8_t)(v[i] >> 8);
		rd[n++] = (uint8_t)v[i];
	}
	return n;
}

/* A zone with the kinds of records a copy must carry exactly. */
static void
t_zone(struct dns_sec_recs *r, uint32_t serial)
{
	uint8_t rd[256];
	size_t n = t_soa(rd, serial, 86400);

	dns_sec_recs_add(r, t_apex, DNS_TYPE_SOA, 300, rd, (uint16_t)n);
	dns_sec_recs_add(r, t_apex, DNS_TYPE_NS, 300,
	    (const uint8_t *)"\3ns1\7example\3com", 17);
	dns_sec_recs_add(r, (const uint8_t *)"\3ns1\7example\3com", DNS_TYPE_A,
	    3600, (const uint8_t *)"\xc6\x12\x00\x35", 4);
	/* An owner needing escapes: a space, a dot and a quote. */
	dns_sec_recs_add(r, (const uint8_t *)"\5a b.\"\7example\3com",
	    DNS_TYPE_TXT, 60, (const uint8_t *)"\3x;y", 4);
	/* An unknown type, and one with empty RDATA. */
	dns_sec_recs_add(r, (const uint8_t *)"\3odd\7example\3com", 65280, 7,
	    (const uint8_t *)"\xab\xcd\xef", 3);
	dns_sec_recs_add(r, (const uint8_t *)"\5empty\7example\3com", 65281, 7,
	    (const uint8_t *)"", 0);
}

static int
t_collect(const struct dns_zone_rr *rr, void *arg)
{
	dns_sec_recs_add(
	    arg, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen);
	return 0;
}

static void
test_copy_roundtrip(void)
{
	struct dns_sec_recs w = { 0 }, r = { 0 };
	struct dns_sec_soa soa;
	char path[128];
	struct stat st;
	time_t mtime = 0;

	t_setup();
	t_zone(&w, 2026120601);
	T_EQ_INT(dns_sec_copy_write(t_dir, t_apex, &w), 0);
	snprintf(path, sizeof(path), "%s/example.com.zone", t_dir);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	/* No temp file left behind. */
	snprintf(path, sizeof(path), "%s/.example.com.zone.tmp", t_dir);
	T_ASSERT(access(path, F_OK) != 0);
	T_EQ_INT(
	    dns_sec_copy_read(t_dir, t_apex, t_collect, &r, &soa, &mtime), 0);
	T_EQ_INT(r.n, w.n);
	T_EQ_INT(r.len, w.len);
	T_ASSERT(memcmp(r.b, w.b, w.len) == 0);
	T_EQ_INT(soa.serial, 2026120601);
	T_EQ_INT(soa.refresh, 3600);
	T_EQ_INT(soa.retry, 600);
	T_EQ_INT(soa.expire, 86400);
	T_ASSERT(mtime <= time(NULL) && mtime >= time(NULL) - 60);
	T_ASSERT(!dns_sec_copy_expired(&soa, mtime, mtime + 86399));
	T_ASSERT(dns_sec_copy_expired(&soa, mtime, mtime + 86400));
	dns_sec_recs_free(&w);
	dns_sec_recs_free(&r);
}

static const char *
t_path(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", t_dir, name);
	return path;
}

/* One record of an incremental answer, as dns_xfr_in hands it over. */
static int
t_ixfr_rr(struct dns_sec_ixfr *ix, enum dns_xfr_op op, const uint8_t *owner,
    uint16_t type, uint32_t ttl, const uint8_t *rd, size_t n)
{
	struct dns_xfr_rr rr = { op, owner, type, ttl, rd, (uint16_t)n };

	return dns_sec_ixfr_rr(ix, t_dir, t_apex, &rr);
}

static void
test_ixfr_apply(void)
{
	static const uint8_t ns1[] = "ns1examplecom";
	static const uint8_t add[] = "newexamplecom";
	struct dns_sec_recs w = { 0 }, out = { 0 };
	struct dns_sec_ixfr ix;
	uint8_t s1[256], s2[256], s3[256];
	size_t n1 = t_soa(s1, 1, 86400), n2 = t_soa(s2, 2, 86400);
	size_t n3 = t_soa(s3, 3, 86400);

	t_setup();
	t_zone(&w, 1);
	T_EQ_INT(dns_sec_copy_write(t_dir, t_apex, &w), 0);
	/* 1 -> 2: ns1's address changes; 2 -> 3: a record added, then
	 * deleted again in the same step is not sent, one added. */
	dns_sec_ixfr_init(&ix, 1 << 20);
	T_EQ_INT(
	    t_ixfr_rr(&ix, DNS_XFR_OP_DEL, t_apex, DNS_TYPE_SOA, 300, s1, n1),
	    0);
	T_EQ_INT(t_ixfr_rr(&ix, DNS_XFR_OP_DEL, ns1, DNS_TYPE_A, 3600,
	             (const uint8_t *)"\xc6\x12\x00\x35", 4),
	    0);
	T_EQ_INT(
	    t_ixfr_rr(&ix, DNS_XFR_OP_ADD, t_apex, DNS_TYPE_SOA, 300, s2, n2),
	    0);
	T_EQ_INT(t_ixfr_rr(&ix, DNS_XFR_OP_ADD, ns1, DNS_TYPE_A, 3600,
	             (const uint8_t *)"\xc6\x12\x00\x36", 4),
	    0);
	T_EQ_INT(
	    t_ixfr_rr(&ix, DNS_XFR_OP_DEL, t_apex, DNS_TYPE_SOA, 300, s2, n2),
	    0);
	T_EQ_INT(
	    t_ixfr_rr(&ix, DNS_XFR_OP_ADD, t_apex, DNS_TYPE_SOA, 300, s3, n3),
	    0);
	T_EQ_INT(t_ixfr_rr(&ix, DNS_XFR_OP_ADD, add, DNS_TYPE_A, 60,
	             (const uint8_t *)"\xc6\x12\x09\x09", 4),
	    0);
	/* The announced serial must be what the steps reached. */
	T_EQ_INT(dns_sec_ixfr_finish(&ix, t_apex, 4, &out), -EINVAL);
	dns_sec_recs_free(&out);
	T_EQ_INT(dns_sec_ixfr_finish(&ix, t_apex, 3, &out), 0);
	/* Six records of serial 1, one added; the SOA first. */
	T_EQ_INT(out.n, 7);
	T_ASSERT(memcmp(out.b, t_apex, sizeof(t_apex)) == 0);
	T_EQ_INT(out.b[sizeof(t_apex)], 0);
	T_EQ_INT(out.b[sizeof(t_apex) + 1], DNS_TYPE_SOA);
	/* It makes a copy that loads. */
	T_EQ_INT(dns_sec_copy_write(t_dir, t_apex, &out), 0);
	dns_sec_ixfr_fini(&ix);
	dns_sec_recs_free(&out);

	/* A deletion of a record the copy lacks: refused. */
	dns_sec_ixfr_init(&ix, 1 << 20);
	T_EQ_INT(
	    t_ixfr_rr(&ix, DNS_XFR_OP_DEL, t_apex, DNS_TYPE_SOA, 300, s3, n3),
	    0);
	T_EQ_INT(t_ixfr_rr(&ix, DNS_XFR_OP_DEL, add, DNS_TYPE_A, 60,
	             (const uint8_t *)"\xc6\x12\x09\x0a", 4),
	    0);
	T_EQ_INT(
	    t_ixfr_rr(&ix, DNS_XFR_OP_ADD, t_apex, DNS_TYPE_SOA, 300, s1, n1),
	    0);
	T_EQ_INT(dns_sec_ixfr_finish(&ix, t_apex, 1, &out), -ENOENT);
	dns_sec_ixfr_fini(&ix);
	/* A first step not starting at our SOA: refused. */
	dns_sec_ixfr_init(&ix, 1 << 20);
	T_EQ_INT(
	    t_ixfr_rr(&ix, DNS_XFR_OP_DEL, t_apex, DNS_TYPE_SOA, 300, s1, n1),
	    0);
	T_EQ_INT(
	    t_ixfr_rr(&ix, DNS_XFR_OP_ADD, t_apex, DNS_TYPE_SOA, 300, s2, n2),
	    0);
	T_EQ_INT(dns_sec_ixfr_finish(&ix, t_apex, 2, &out), -ENOENT);
	dns_sec_ixfr_fini(&ix);
	/* Over the bound. */
	dns_sec_ixfr_init(&ix, 64);
	T_EQ_INT(
	    t_ixfr_rr(&ix, DNS_XFR_OP_DEL, t_apex, DNS_TYPE_SOA, 300, s3, n3),
	    -EFBIG);
	dns_sec_ixfr_fini(&ix);
	/* No copy at all: nothing to apply to. */
	T_EQ_INT(unlink(t_path("example.com.zone")), 0);
	dns_sec_ixfr_init(&ix, 1 << 20);
	T_EQ_INT(
	    t_ixfr_rr(&ix, DNS_XFR_OP_DEL, t_apex, DNS_TYPE_SOA, 300, s3, n3),
	    -ENOENT);
	dns_sec_ixfr_fini(&ix);
	dns_sec_recs_free(&out);
	dns_sec_recs_free(&w);
}

static void
t_put(const char *name, const char *text)
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
test_copy_corrupt(void)
{
	struct dns_sec_recs w = { 0 }, bad = { 0 };
	struct dns_sec_soa soa;
	time_t mtime;
	char *text;
	size_t len;

	t_setup();
	T_EQ_INT(dns_sec_copy_read(t_dir, t_apex, NULL, NULL, &soa, &mtime),
	    -ENOENT);
	/* Not a zone file. */
	t_put("example.com.zone", "garbage here\n");
	T_EQ_INT(dns_sec_copy_read(t_dir, t_apex, NULL, NULL, &soa, &mtime),
	    -EINVAL);
	/* A good copy cut short in the middle of a record's hex. */
	t_zone(&w, 5);
	text = dns_sec_copy_text(&w, &len);
	text[len - 20] = '\0';
	t_put("example.com.zone", text);
	free(text);
	T_EQ_INT(dns_sec_copy_read(t_dir, t_apex, NULL, NULL, &soa, &mtime),
	    -EINVAL);
	/* A copy without its SOA (the line after the comment). */
	text = dns_sec_copy_text(&w, &len);
	T_ASSERT(strstr(text, "\nexample.com. 300 IN TYPE6 ") != NULL);
	{
		char *p = strchr(text, '\n') + 1, *q = strchr(p, '\n') + 1;

		memmove(p, q, strlen(q) + 1);
	}
	t_put("example.com.zone", text);
	free(text);
	T_EQ_INT(dns_sec_copy_read(t_dir, t_apex, NULL, NULL, &soa, &mtime),
	    -EINVAL);
	/* A good copy, then a write that cannot parse back (a record
	 * outside the zone): refused, the good copy stays. */
	T_EQ_INT(dns_sec_copy_write(t_dir, t_apex, &w), 0);
	t_zone(&bad, 6);
	dns_sec_recs_add(&bad, (const uint8_t *)"\3www\7example\3org",
	    DNS_TYPE_A, 60, (const uint8_t *)"\1\2\3\4", 4);
	T_EQ_INT(dns_sec_copy_write(t_dir, t_apex, &bad), -EINVAL);
	T_EQ_INT(dns_sec_copy_read(t_dir, t_apex, NULL, NULL, &soa, &mtime), 0);
	T_EQ_INT(soa.serial, 5);
	/* Parses, but would not load: no NS at the apex (the zone parser
	 * does not check that; the tables do). */
	dns_sec_recs_free(&bad);
	{
		uint8_t rd[256];
		size_t n = t_soa(rd, 7, 86400);

		dns_sec_recs_add(
		    &bad, t_apex, DNS_TYPE_SOA, 300, rd, (uint16_t)n);
		dns_sec_recs_add(&bad, t_apex, DNS_TYPE_A, 300,
		    (const uint8_t *)"\1\2\3\4", 4);
	}
	T_EQ_INT(dns_sec_copy_write(t_dir, t_apex, &bad), -EINVAL);
	T_EQ_INT(dns_sec_copy_read(t_dir, t_apex, NULL, NULL, &soa, &mtime), 0);
	T_EQ_INT(soa.serial, 5);
	text = dns_sec_copy_text(&bad, &len);
	t_put("example.com.zone", text);
	free(text);
	T_EQ_INT(dns_sec_copy_read(t_dir, t_apex, NULL, NULL, &soa, &mtime),
	    -EINVAL);
	dns_sec_recs_free(&w);
	dns_sec_recs_free(&bad);
}

static void
test_copy_name(void)
{
	char b[64];

	dns_sec_copy_name(
	    (const uint8_t *)"\7EXAMPLE\3com", ".zone", b, sizeof(b));
	T_EQ_STR(b, "example.com.zone");
	dns_sec_copy_name((const uint8_t *)"", ".notify", b, sizeof(b));
	T_EQ_STR(b, "root.notify");
	dns_sec_copy_name((const uint8_t *)"\3a/b\3com", ".zone", b, sizeof(b));
	T_EQ_STR(b, "a%2Fb.com.zone");
	/* "a.b" as one label (an escaped dot) is not the zone a.b. */
	dns_sec_copy_name((const uint8_t *)"\3a.b\3com", ".zone", b, sizeof(b));
	T_EQ_STR(b, "a%5C.b.com.zone");
	dns_sec_copy_name((const uint8_t *)"\2a%\3com", ".zone", b, sizeof(b));
	T_EQ_STR(b, "a%25.com.zone");
}

static void
test_serial_arith(void)
{
	T_ASSERT(dns_sec_serial_gt(2, 1));
	T_ASSERT(!dns_sec_serial_gt(1, 1));
	T_ASSERT(!dns_sec_serial_gt(1, 2));
	/* Wrap-around, RFC 1982 §3.2. */
	T_ASSERT(dns_sec_serial_gt(0, 0xffffffffu));
	T_ASSERT(dns_sec_serial_gt(5, 0xfffffff0u));
	T_ASSERT(!dns_sec_serial_gt(0x80000001u, 1) ||
	    !dns_sec_serial_gt(1, 0x80000001u));
}

static void
test_notify_codec(void)
{
	uint8_t q[64] = { 0x12, 0x34, 0x24 /* NOTIFY, AA */, 0, 0, 1, 0, 0, 0,
		0, 0, 0 };
	uint8_t apex[DNS_NAME_MAX], out[64];
	size_t qend, n;

	memcpy(q + 12, "\7EXAMPLE\3com\0\0\6\0\1", 17);
	T_EQ_INT(dns_sec_notify_parse(q, 29, apex, &qend), 0);
	T_EQ_INT(qend, 29);
	T_ASSERT(dns_name_equal(apex, t_apex) &&
	    memcmp(apex, t_apex, sizeof(t_apex)) == 0); /* lowered */
	n = dns_sec_notify_answer(q, qend, 0, out, sizeof(out));
	T_EQ_INT(n, 29);
	T_EQ_INT(out[0], 0x12);
	T_EQ_INT(out[2], 0x80 | 0x20 | 0x04); /* QR, NOTIFY, AA */
	T_EQ_INT(out[3], 0);
	T_ASSERT(memcmp(out + 12, q + 12, 17) == 0);
	n = dns_sec_notify_answer(q, qend, DNS_RCODE_REFUSED, out, 20);
	T_EQ_INT(n, 0); /* does not fit */
	n = dns_sec_notify_answer(q, qend, DNS_RCODE_REFUSED, out, 64);
	T_EQ_INT(out[2], 0xa0); /* no AA with an error */
	T_EQ_INT(out[3], DNS_RCODE_REFUSED);
	/* Not a NOTIFY, a response, no question, not SOA, truncated. */
	q[2] = 0x00;
	T_EQ_INT(dns_sec_notify_parse(q, 29, apex, &qend), -EBADMSG);
	q[2] = 0xa4;
	T_EQ_INT(dns_sec_notify_parse(q, 29, apex, &qend), -EBADMSG);
	q[2] = 0x24;
	q[5] = 0;
	T_EQ_INT(dns_sec_notify_parse(q, 29, apex, &qend), -EBADMSG);
	q[5] = 1;
	q[26] = 1;
	T_EQ_INT(dns_sec_notify_parse(q, 29, apex, &qend), -EBADMSG);
	q[26] = 6;
	T_EQ_INT(dns_sec_notify_parse(q, 28, apex, &qend), -EBADMSG);
}

/* An answer to the SOA query in q, with the SOA's names compressed. */
static size_t
t_soa_answer(uint8_t *m, const uint8_t *q, size_t qlen, uint32_t serial)
{
	static const uint8_t rr[] = { 0xc0, 12, 0, 6, 0, 1, 0, 0, 1, 0x2c, 0,
		0 /* rdlen */, 3, 'n', 's', '1', 0xc0, 12, 0xc0, 12 };
	size_t n = qlen;

	memcpy(m, q, qlen);
	m[2] = 0x84; /* QR, AA */
	m[7] = 1;    /* ANCOUNT */
	memcpy(m + n, rr, sizeof(rr));
	m[n + 11] = 6 + 2 + 20;
	n += sizeof(rr);
	m[n++] = (uint8_t)(serial >> 24);
	m[n++] = (uint8_t)(serial >> 16);
	m[n++] = (uint8_t)(serial >> 8);
	m[n++] = (uint8_t)serial;
	memset(m + n, 0, 16);
	return n + 16;
}

static void
test_soa_codec(void)
{
	uint8_t q[64], m[128];
	uint32_t serial = 0;
	int ql = dns_sec_soa_query(q, sizeof(q), t_apex, 0xbeef);
	size_t n;

	T_EQ_INT(ql, 12 + 13 + 4);
	T_EQ_INT(dns_sec_soa_query(q, 20, t_apex, 1), -EMSGSIZE);
	n = t_soa_answer(m, q, (size_t)ql, 0xfffffff7u);
	T_EQ_INT(dns_sec_soa_parse(m, n, 0xbeef, t_apex, &serial), 0);
	T_EQ_INT(serial, 0xfffffff7u);
	T_EQ_INT(dns_sec_soa_parse(m, n, 0xbeee, t_apex, &serial), -EPROTO);
	T_EQ_INT(dns_sec_soa_parse(m, n - 1, 0xbeef, t_apex, &serial), -EPROTO);
	T_EQ_INT(dns_sec_soa_parse(
	             m, n, 0xbeef, (const uint8_t *)"\7example\3org", &serial),
	    -EPROTO);
	m[2] |= 0x02; /* TC */
	T_EQ_INT(dns_sec_soa_parse(m, n, 0xbeef, t_apex, &serial), 1);
	m[2] &= (uint8_t)~0x02;
	m[3] = DNS_RCODE_REFUSED;
	T_EQ_INT(dns_sec_soa_parse(m, n, 0xbeef, t_apex, &serial), -EPROTO);
	m[3] = 0;
	m[7] = 0; /* no answer */
	T_EQ_INT(dns_sec_soa_parse(m, n, 0xbeef, t_apex, &serial), -EPROTO);
	/* Our query is not an answer. */
	T_EQ_INT(
	    dns_sec_soa_parse(q, (size_t)ql, 0xbeef, t_apex, &serial), -EPROTO);
}

/* A pending zone answers SERVFAIL without AA; a loaded one beside it
 * answers as usual; an unknown name is REFUSED. */
static void
test_pending_servfail(void)
{
	struct dns_answer_opts opts = { .udp_max = 1232 };
	struct dns_client cl = { .family = 2, .bits = 32 };
	struct dns_answer_info info;
	struct dns_db *db = dns_db_new();
	uint8_t rd[128], q[64], out[512];
	int z0, z1, ql;
	size_t n;

	z0 = dns_db_zone_begin(db, t_apex);
	z1 = dns_db_zone_begin(db, (const uint8_t *)"\7example\3net");
	T_EQ_INT(z0, 0);
	T_EQ_INT(z1, 1);
	n = t_soa(rd, 1, 86400);
	T_EQ_INT(dns_db_add_rr(db, 1, (const uint8_t *)"\7example\3net",
	             DNS_TYPE_SOA, 300, rd, (uint16_t)n),
	    0);
	T_EQ_INT(
	    dns_db_add_rr(db, 1, (const uint8_t *)"\7example\3net", DNS_TYPE_NS,
	        300, (const uint8_t *)"\3ns1\7example\3com", 17),
	    0);
	T_EQ_INT(dns_db_zone_pending(db, 1), -EBUSY); /* has records */
	T_EQ_INT(dns_db_zone_pending(db, 0), 0);
	T_EQ_INT(dns_db_add_rr(db, 0, t_apex, DNS_TYPE_A, 1,
	             (const uint8_t *)"\1\2\3\4", 4),
	    -EBUSY);
	T_EQ_INT(dns_db_finish(db, NULL, NULL), 0);
	T_ASSERT(dns_db_zone_is_pending(db, 0));
	T_ASSERT(!dns_db_zone_is_pending(db, 1));

	ql = dns_sec_soa_query(q, sizeof(q), t_apex, 7);
	n = dns_answer(
	    db, NULL, &opts, &cl, q, (size_t)ql, out, sizeof(out), &info);
	T_ASSERT(n >= 12);
	T_EQ_INT(out[3] & 0xf, DNS_RCODE_SERVFAIL);
	T_EQ_INT(out[2] & 0x04, 0); /* no AA */
	T_EQ_INT(info.kind, DNS_ANS_ERROR);
	ql = dns_sec_soa_query(
	    q, sizeof(q), (const uint8_t *)"\3www\7example\3com", 8);
	n = dns_answer(
	    db, NULL, &opts, &cl, q, (size_t)ql, out, sizeof(out), &info);
	T_EQ_INT(out[3] & 0xf, DNS_RCODE_SERVFAIL);
	ql = dns_sec_soa_query(
	    q, sizeof(q), (const uint8_t *)"\7example\3net", 9);
	n = dns_answer(
	    db, NULL, &opts, &cl, q, (size_t)ql, out, sizeof(out), &info);
	T_EQ_INT(out[3] & 0xf, DNS_RCODE_NOERROR);
	T_ASSERT(out[2] & 0x04);
	ql = dns_sec_soa_query(
	    q, sizeof(q), (const uint8_t *)"\7example\3org", 10);
	n = dns_answer(
	    db, NULL, &opts, &cl, q, (size_t)ql, out, sizeof(out), &info);
	T_EQ_INT(out[3] & 0xf, DNS_RCODE_REFUSED);
	dns_db_free(db);
}

/* Tables of one pending zone and no record at all build (the first
 * start of a secondary-only server). */
static void
test_pending_only(void)
{
	struct dns_answer_opts opts = { .udp_max = 1232 };
	struct dns_client cl = { .family = 2, .bits = 32 };
	struct dns_answer_info info;
	struct dns_db *db = dns_db_new();
	uint8_t q[64], out[512];
	int ql;

	T_EQ_INT(dns_db_zone_begin(db, t_apex), 0);
	T_EQ_INT(dns_db_zone_pending(db, 0), 0);
	T_EQ_INT(dns_db_finish(db, NULL, NULL), 0);
	ql = dns_sec_soa_query(q, sizeof(q), t_apex, 7);
	T_ASSERT(dns_answer(db, NULL, &opts, &cl, q, (size_t)ql, out,
	             sizeof(out), &info) >= 12);
	T_EQ_INT(out[3] & 0xf, DNS_RCODE_SERVFAIL);
	dns_db_free(db);
}

/* When the refresh runs next: refresh, retry, back-off, clamps. */
static void
test_schedule(void)
{
	struct dns_sec_soa soa = { .refresh = 3600, .retry = 600 };
	uint64_t b = 0;

	T_EQ_INT(dns_sec_next_ms(true, true, &soa, &b), 3600000);
	T_EQ_INT(dns_sec_next_ms(false, true, &soa, &b), 600000);
	T_EQ_INT(b, 0);
	/* No copy: 5 s, 10 s, ... 300 s and there it stays. */
	T_EQ_INT(dns_sec_next_ms(false, false, &soa, &b), 5000);
	T_EQ_INT(dns_sec_next_ms(false, false, &soa, &b), 10000);
	T_EQ_INT(dns_sec_next_ms(false, false, &soa, &b), 20000);
	for (int i = 0; i < 10; i++)
		(void)dns_sec_next_ms(false, false, &soa, &b);
	T_EQ_INT(dns_sec_next_ms(false, false, &soa, &b), 300000);
	/* A success resets it. */
	T_EQ_INT(dns_sec_next_ms(true, true, &soa, &b), 3600000);
	T_EQ_INT(dns_sec_next_ms(false, false, &soa, &b), 5000);
	/* Clamped to [1 s, 1 day]. */
	soa.refresh = 0;
	soa.retry = 0xffffffffu;
	T_EQ_INT(dns_sec_next_ms(true, true, &soa, &b), 1000);
	T_EQ_INT(dns_sec_next_ms(false, true, &soa, &b), 86400000);
}

static const struct test tests[] = {
	TEST(test_schedule),
	TEST(test_pending_only),
	TEST(test_copy_roundtrip),
	TEST(test_ixfr_apply),
	TEST(test_copy_corrupt),
	TEST(test_copy_name),
	TEST(test_serial_arith),
	TEST(test_notify_codec),
	TEST(test_soa_codec),
	TEST(test_pending_servfail),
};

TEST_MAIN(tests)
