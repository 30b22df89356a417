/*
 * Unit tests for dns_wire.c: the query parser and the response writer.
 *
 * Golden queries were made by dig 9.18.49 (Debian 12) against a UDP socket
 * on 127.0.0.1 that printed the datagram it received in hex:
 *
 *	dig @127.0.0.1 -p PORT +tries=1 +timeout=1 ARGS
 *
 * with the ARGS given above each. Damaged variants are one edit of a
 * golden message, made here, the edit said in a comment. Responses are
 * built with the writer and checked field by field; the golden response
 * (resp_golden) was read back by dnspython 2.3.0 (dns.message.from_wire),
 * whose rendering is quoted above it.
 */
#include <errno.h>
#include <stdint.h>

#include "dns/dns_wire.h"
#include "lib/util.h"
#include "runner.h"

#define MSG_MAX 4096

struct msg {
	uint8_t b[MSG_MAX];
	size_t len;
};

/* ARGS: www.Example.COM A +noedns +norec. dig sets AD by default. */
static const char q_plain[] = "2f3a0020000100000000000003777777074578616d706c"
                              "6503434f4d0000010001";
/* ARGS: www.example.com AAAA +dnssec +nsid +subnet=198.18.0.0/15
 *       +nocookie +bufsize=1232 */
static const char q_ecs[] = "4bc80120000100000000000103777777076578616d706c"
                            "6503636f6d00001c000100002904d000008000000e00030000"
                            "0008000600010f00c612";
/* ARGS: example.com SOA +edns=1 +nocookie +noednsnegotiation */
static const char q_v1[] = "7ac201200001000000000001076578616d706c6503636f6d"
                           "000006000100002904d0000100000000";
/* ARGS: example.com TXT (a COOKIE option, code 10, which we ignore) */
static const char q_cookie[] = "a0fa01200001000000000001076578616d706c650363"
                               "6f6d000010000100002904d000000000000c000a000873"
                               "37e9bea90ac586";

/* Offsets into q_ecs: the ECS option's fields. */
#define OPT_RDLEN  42 /* the OPT's RDLENGTH, 2 bytes */
#define ECS_OLEN   50 /* OPTION-LENGTH, 2 bytes */
#define ECS_FAMILY 52
#define ECS_SOURCE 54
#define ECS_SCOPE  55
#define ECS_ADDR   56

static void
hex(struct msg *m, const char *h)
{
	size_t i, n = strlen(h) / 2;
	unsigned v;

	T_ASSERT(n <= MSG_MAX);
	for (i = 0; i < n; i++) {
		T_ASSERT(sscanf(h + 2 * i, "%2x", &v) == 1);
		m->b[i] = (uint8_t)v;
	}
	m->len = n;
}

static enum dns_wire_err
parse(const struct msg *m, struct dns_query *q)
{
	return dns_wire_parse_query(m->b, m->len, q);
}

static void
test_golden_queries(void)
{
	struct dns_query q;
	struct msg m;

	hex(&m, q_plain);
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);
	T_EQ_INT(q.id, 0x2f3a);
	T_EQ_INT(q.flags, DNS_FLAG_AD);
	T_ASSERT(q.has_question);
	T_EQ_INT(q.qname_len, 17);
	T_ASSERT(memcmp(q.qname, "\3www\7Example\3COM", 17) == 0);
	T_EQ_INT(q.qtype, DNS_TYPE_A);
	T_EQ_INT(q.qclass, DNS_CLASS_IN);
	T_ASSERT(!q.edns && !q.has_ecs && !q.nsid && !q.tsig);

	hex(&m, q_ecs);
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);
	T_EQ_INT(q.qtype, DNS_TYPE_AAAA);
	T_ASSERT(q.flags & DNS_FLAG_RD);
	T_ASSERT(q.edns && q.edns_do && q.nsid && q.has_ecs);
	T_EQ_INT(q.edns_version, 0);
	T_EQ_INT(q.udp_size, 1232);
	T_EQ_INT(q.ecs.family, DNS_ECS_FAMILY_IP4);
	T_EQ_INT(q.ecs.source, 15);
	T_EQ_INT(q.ecs.scope, 0);
	T_EQ_INT(q.ecs.addr[0], 198);
	T_EQ_INT(q.ecs.addr[1], 18);

	hex(&m, q_cookie);
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);
	T_ASSERT(q.edns && !q.edns_do && !q.nsid && !q.has_ecs);
	T_EQ_INT(q.qtype, DNS_TYPE_TXT);
}

static void
test_badvers(void)
{
	struct dns_query q;
	struct msg m;

	hex(&m, q_v1);
	T_EQ_INT(parse(&m, &q), DNS_WIRE_BADVERS);
	T_EQ_INT(dns_wire_err_rcode(DNS_WIRE_BADVERS), DNS_RCODE_BADVERS);
	/* The answer needs the OPT facts and the question. */
	T_ASSERT(q.edns && q.has_question);
	T_EQ_INT(q.edns_version, 1);
	T_EQ_INT(q.udp_size, 1232);
}

static void
test_header_rejects(void)
{
	struct dns_query q;
	struct msg m;

	hex(&m, q_plain);
	m.len = 11;
	T_EQ_INT(parse(&m, &q), DNS_WIRE_SHORT);
	T_EQ_INT(dns_wire_err_rcode(DNS_WIRE_SHORT), DNS_RCODE_DROP);

	hex(&m, q_plain);
	m.b[2] |= 0x80; /* QR */
	T_EQ_INT(parse(&m, &q), DNS_WIRE_QR);
	T_EQ_INT(dns_wire_err_rcode(DNS_WIRE_QR), DNS_RCODE_DROP);

	hex(&m, q_plain);
	m.b[2] |= DNS_OPCODE_NOTIFY << 3;
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OPCODE);
	T_EQ_INT(q.id, 0x2f3a);
	T_ASSERT(!q.has_question);
	T_EQ_INT(dns_wire_err_rcode(DNS_WIRE_OPCODE), DNS_RCODE_NOTIMP);

	hex(&m, q_plain);
	m.b[5] = 0; /* QDCOUNT 0 */
	T_EQ_INT(parse(&m, &q), DNS_WIRE_QDCOUNT);
	m.b[5] = 2;
	T_EQ_INT(parse(&m, &q), DNS_WIRE_QDCOUNT);
	T_EQ_INT(dns_wire_err_rcode(DNS_WIRE_QDCOUNT), DNS_RCODE_FORMERR);

	/* Reserved Z bit and CD: ignored (RFC 8906 §3.1.2). */
	hex(&m, q_plain);
	m.b[3] |= 0x40 | 0x10;
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);
}

static void
test_truncated(void)
{
	struct dns_query q;
	struct msg m, full;
	size_t n;

	/* Every proper prefix past the header of every golden query is
	 * refused, never read past. */
	hex(&full, q_ecs);
	for (n = DNS_HDR_LEN; n < full.len; n++) {
		m = full;
		m.len = n;
		if (parse(&m, &q) != DNS_WIRE_TRUNCATED)
			test_fail(__FILE__, __LINE__, "prefix %zu: %s", n,
			    dns_wire_err_name(parse(&m, &q)));
	}
	/* ARCOUNT says 2, one record follows. */
	m = full;
	m.b[11] = 2;
	T_EQ_INT(parse(&m, &q), DNS_WIRE_TRUNCATED);
	/* One byte too many. */
	m = full;
	m.b[m.len++] = 0;
	T_EQ_INT(parse(&m, &q), DNS_WIRE_TRAILING);
}

static void
test_names(void)
{
	static const struct {
		const char *hex;
		enum dns_wire_err err;
	} cases[] = {
		/* qname "\1a" then a pointer to itself (offset 14). */
		{ "000100000001000000000000"
		  "0161c00e00010001",
		    DNS_WIRE_PTR_FORWARD },
		/* Pointer ahead to 18, where a root waits. */
		{ "000100000001000000000000"
		  "c012000100010000",
		    DNS_WIRE_PTR_FORWARD },
		/* "\1a" + pointer back to 12: the name itself, a cycle. */
		{ "000100000001000000000000"
		  "0161c00c00010001",
		    DNS_WIRE_PTR_LOOP },
		/* The question's pointer goes back to the ID, which is a
		 * pointer to the question: a cycle through a forward hop. */
		{ "c00c00000001000000000000"
		  "c00000010001",
		    DNS_WIRE_PTR_FORWARD },
		/* Labels "a" "b", then a pointer back to "b": round again. */
		{ "000100000001000000000000"
		  "01610162c00e00010001",
		    DNS_WIRE_PTR_LOOP },
		/* A label of type 01 (0x41) and of type 10 (0x81). */
		{ "000100000001000000000000"
		  "4100000100010001",
		    DNS_WIRE_NAME_LABEL },
		{ "000100000001000000000000"
		  "8100000100010001",
		    DNS_WIRE_NAME_LABEL },
		/* Pointer back into the header to "\0": the root, fine. */
		{ "000100000001000000000000"
		  "c00200010001",
		    DNS_WIRE_OK },
	};
	struct dns_query q;
	struct msg m;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		hex(&m, cases[i].hex);
		if (parse(&m, &q) != cases[i].err)
			test_fail(__FILE__, __LINE__, "case %zu: %s", i,
			    dns_wire_err_name(parse(&m, &q)));
	}
}

/* A question of 4 x 63-octet labels: 257 octets, over by two; and 3 x 63
 * + 61: 255, the largest. */
static void
test_name_long(void)
{
	struct dns_query q;
	struct msg m;
	size_t i, o;

	for (int last = 61; last <= 63; last += 2) {
		memset(&m, 0, sizeof(m));
		m.b[5] = 1;
		o = DNS_HDR_LEN;
		for (i = 0; i < 4; i++) {
			size_t l = i == 3 ? (size_t)last : 63;

			m.b[o++] = (uint8_t)l;
			memset(m.b + o, 'a', l);
			o += l;
		}
		m.b[o++] = 0;
		m.b[o + 1] = 1;
		m.b[o + 3] = 1;
		m.len = o + 4;
		T_EQ_INT(parse(&m, &q),
		    last == 61 ? DNS_WIRE_OK : DNS_WIRE_NAME_LONG);
	}
	T_EQ_INT(q.qname_len, 0); /* memset by the failed parse */
}

/* A compressed name in a record: the question is followed by an answer
 * record owned by a pointer to it, then a NULL record. */
static void
test_skip_records(void)
{
	struct dns_query q;
	struct msg m;

	hex(&m,
	    "000100000001000100000000"
	    "01610000010001"
	    "c00c000a0001000000000002abcd");
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);
	/* rdlength one past the end. */
	m.b[m.len - 3] = 3;
	T_EQ_INT(parse(&m, &q), DNS_WIRE_TRUNCATED);
}

static void
test_opt_rejects(void)
{
	/* Question root/A, then records as said. */
	static const struct {
		const char *counts; /* AN NS AR, 2 bytes each */
		const char *recs;
		enum dns_wire_err err;
	} cases[] = {
		/* Two OPTs. */
		{ "0002",
		    "0000290200000000000000"
		    "0000290200000000000000",
		    DNS_WIRE_OPT_DUP },
		/* OPT owner "a". */
		{ "0001", "01610000290200000000000000", DNS_WIRE_OPT_OWNER },
		/* Option length 5 in 4 bytes of RDATA. */
		{ "0001", "00002902000000000000040003 0005",
		    DNS_WIRE_OPT_OPTION },
		/* 2 bytes of RDATA: not even an option header. */
		{ "0001", "00002902000000000000020003", DNS_WIRE_OPT_OPTION },
		/* TSIG (type 250) first of two additional records. */
		{ "0002",
		    "0000fa00ff00000000 0000"
		    "0000290200000000000000",
		    DNS_WIRE_TSIG_PLACE },
		/* TSIG last: noted. */
		{ "0002",
		    "0000290200000000000000"
		    "0000fa00ff000000000000",
		    DNS_WIRE_OK },
		/* Unknown option 65001 with 1 byte, and NSID with bytes. */
		{ "0001", "000029020000000000000afde90001ff0003000100",
		    DNS_WIRE_OK },
	};
	struct dns_query q;
	struct msg m;
	char buf[512];
	size_t i, j, o;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		/* Header: ID 1, flags 0, QD 1, AN 0, NS 0, AR. */
		o = (size_t)snprintf(buf, sizeof(buf),
		    "000100000001%s%s%s0000010001", "0000", "0000",
		    cases[i].counts);
		for (j = 0; cases[i].recs[j] != '\0'; j++)
			if (cases[i].recs[j] != ' ')
				buf[o++] = cases[i].recs[j];
		buf[o] = '\0';
		hex(&m, buf);
		if (parse(&m, &q) != cases[i].err)
			test_fail(__FILE__, __LINE__, "case %zu: %s", i,
			    dns_wire_err_name(parse(&m, &q)));
	}
	T_ASSERT(q.nsid && q.edns && !q.tsig);

	/* OPT in the answer section. */
	hex(&m,
	    "0001000000010001000000000000010001"
	    "0000290200000000000000");
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OPT_SECTION);
	/* The TSIG-last case again for its flag. */
	hex(&m,
	    "0001000000010000000000020000010001"
	    "0000290200000000000000"
	    "0000fa00ff000000000000");
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);
	T_ASSERT(q.tsig);
}

static void
test_ecs_rejects(void)
{
	struct dns_query q;
	struct msg m, good;

	hex(&good, q_ecs);

	m = good;
	m.b[ECS_SCOPE] = 8; /* scope must be 0 in a query */
	T_EQ_INT(parse(&m, &q), DNS_WIRE_ECS_SCOPE);
	T_EQ_INT(dns_wire_err_rcode(DNS_WIRE_ECS_SCOPE), DNS_RCODE_FORMERR);
	T_ASSERT(q.edns && q.has_question); /* FORMERR carries an OPT */

	m = good;
	m.b[ECS_ADDR + 1] |= 1; /* 198.19/15: bit 16 is past the prefix */
	T_EQ_INT(parse(&m, &q), DNS_WIRE_ECS_BITS);

	m = good;
	m.b[ECS_SOURCE] = 17; /* /17 needs 3 octets, 2 came */
	T_EQ_INT(parse(&m, &q), DNS_WIRE_ECS_LEN);
	m.b[ECS_SOURCE] = 8; /* /8 needs 1 */
	T_EQ_INT(parse(&m, &q), DNS_WIRE_ECS_LEN);
	m.b[ECS_SOURCE] = 33;
	T_EQ_INT(parse(&m, &q), DNS_WIRE_ECS_PREFIX);

	m = good;
	m.b[ECS_FAMILY + 1] = 3;
	T_EQ_INT(parse(&m, &q), DNS_WIRE_ECS_FAMILY);

	/* Family 2 (IPv6) with /15 is two octets too: valid. */
	m = good;
	m.b[ECS_FAMILY + 1] = 2;
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);
	T_EQ_INT(q.ecs.family, DNS_ECS_FAMILY_IP6);

	/* /0 with no address: the client opted out (RFC 7871 §7.1.2). */
	m = good;
	m.b[ECS_OLEN + 1] = 4;
	m.b[ECS_SOURCE] = 0;
	m.b[OPT_RDLEN + 1] -= 2; /* 14 -> 12 */
	m.len -= 2;
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);
	T_ASSERT(q.has_ecs);
	T_EQ_INT(q.ecs.source, 0);

	/* Option length 3: no room for the fixed part. */
	m = good;
	m.b[ECS_OLEN + 1] = 3;
	m.b[OPT_RDLEN + 1] = 14 - 3;
	m.len -= 3;
	T_EQ_INT(parse(&m, &q), DNS_WIRE_ECS_LEN);
}

static void
test_err_names(void)
{
	int e;

	for (e = 0; e < DNS_WIRE_ERR__COUNT; e++) {
		const char *n = dns_wire_err_name((enum dns_wire_err)e);

		T_ASSERT(n != NULL && strcmp(n, "invalid") != 0);
	}
	T_EQ_STR(dns_wire_err_name(DNS_WIRE_ERR__COUNT), "invalid");
}

/*
 * Response writer.
 */

static const uint8_t zone[] = "\7example\3com";

static void
test_resp_echo_and_compress(void)
{
	static const uint8_t a1[] = { 198, 18, 0, 1 }, a2[] = { 198, 18, 0, 2 };
	static const uint8_t ns[] = "\3ns1\7example\3com";
	static const uint8_t www[] = "\3www\7example\3com";
	struct dns_rdata ra[] = { { a1, 4 }, { a2, 4 } };
	struct dns_rdata rn[] = { { ns, sizeof(ns) } };
	struct dns_rrset ans = { www, DNS_TYPE_A, DNS_CLASS_IN, 300, 2, ra };
	struct dns_rrset auth = { zone, DNS_TYPE_NS, DNS_CLASS_IN, 3600, 1,
		rn };
	struct dns_rrset glue = { ns, DNS_TYPE_A, DNS_CLASS_IN, 3600, 1, ra };
	uint8_t out[512];
	struct dns_resp r;
	struct dns_query q, back;
	struct msg m;
	size_t n;

	hex(&m, q_plain); /* www.Example.COM A, id 2f3a */
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);
	T_EQ_INT(dns_resp_init(&r, out, sizeof(out), 512, &q, NULL), 0);
	dns_resp_set_flags(&r, DNS_FLAG_AA);
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ANSWER, &ans, true), 0);
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_AUTHORITY, &auth, true), 0);
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ADDITIONAL, &glue, false), 0);
	/* Sections only move forward. */
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ANSWER, &ans, true), -EINVAL);
	n = dns_resp_finish(&r);

	/* Header: same ID, QR AA, opcode 0, RD copied (clear), AD not. */
	T_EQ_INT(out[0] << 8 | out[1], 0x2f3a);
	T_EQ_INT(out[2] << 8 | out[3], DNS_FLAG_QR | DNS_FLAG_AA);
	T_ASSERT(memcmp(out + 4, "\0\1\0\2\0\1\0\1", 8) == 0);
	/* Question echoed in the query's case. */
	T_ASSERT(memcmp(out + 12, m.b + 12, 21) == 0);
	/* Answer owner: a pointer to the question name. */
	T_ASSERT(out[33] == 0xc0 && out[34] == 12);
	/* Authority owner "example.com": a pointer into the question
	 * (offset 16), whose case it then reads as. */
	T_ASSERT(out[33 + 2 * 16] == 0xc0 && out[34 + 2 * 16] == 16);
	/* NS RDATA: "ns1" + pointer to 16; glue owner: pointer to it. */
	T_ASSERT(memcmp(out + 75, "\0\6\3ns1\xc0\x10", 8) == 0);
	T_ASSERT(out[83] == 0xc0 && out[84] == 77);
	T_EQ_INT(n, 85 + 10 + 4);

	/* Parses back (QR cleared) to the same question, case kept. */
	memcpy(m.b, out, n);
	m.b[2] &= 0x7f;
	m.len = n;
	T_EQ_INT(parse(&m, &back), DNS_WIRE_OK);
	T_ASSERT(memcmp(back.qname, q.qname, q.qname_len) == 0);
}

/*
 * An owner with the question's own octets is written as a pointer to the
 * question without a search; the same name in another case finds the same
 * pointer by the search; the root, which has no label to point at, stays
 * one literal octet.
 */
static void
test_resp_qname_owner(void)
{
	static const uint8_t a1[] = { 198, 18, 0, 1 };
	static const uint8_t other[] = "\3WWW\7example\3com";
	struct dns_rdata ra[] = { { a1, 4 } };
	struct dns_rrset set = { NULL, DNS_TYPE_A, DNS_CLASS_IN, 300, 1, ra };
	uint8_t out[512];
	struct dns_resp r;
	struct dns_query q;
	struct msg m;
	size_t n;

	hex(&m, q_plain); /* www.Example.COM A: question at 12..32 */
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);
	T_EQ_INT(dns_resp_init(&r, out, sizeof(out), 512, &q, NULL), 0);
	set.owner = q.qname;
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ANSWER, &set, true), 0);
	set.owner = other;
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ANSWER, &set, true), 0);
	set.owner = q.qname;
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ANSWER, &set, true), 0);
	n = dns_resp_finish(&r);
	T_EQ_INT(n, 33 + 3 * 16);
	for (size_t i = 0; i < 3; i++)
		T_ASSERT(out[33 + 16 * i] == 0xc0 && out[34 + 16 * i] == 12);

	hex(&m,
	    "00010000000100000000000000000200"
	    "01"); /* . NS */
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);
	T_EQ_INT(dns_resp_init(&r, out, sizeof(out), 512, &q, NULL), 0);
	set.owner = q.qname;
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ANSWER, &set, true), 0);
	n = dns_resp_finish(&r);
	T_EQ_INT(n, 17 + 1 + 10 + 4);
	T_EQ_INT(out[17], 0);
	T_EQ_INT(out[18] << 8 | out[19], DNS_TYPE_A);
}

/*
 * The response of test_resp_golden, which dnspython 2.3.0 reads as:
 *
 *	id 19400
 *	opcode QUERY
 *	rcode NOERROR
 *	flags QR AA RD
 *	edns 0
 *	eflags DO
 *	payload 1232
 *	option Generic 3          (NSID "havn-1": 2.3.0 has no NSID class)
 *	option ECS 198.18.0.0/15 scope/0
 *	;QUESTION
 *	www.example.com. IN AAAA
 *	;ANSWER
 *	www.example.com. 60 IN CNAME web.example.com.
 *	;AUTHORITY
 *	example.com. 300 IN SOA ns1.example.com. hostmaster.example.com.
 *	    2026120601 7200 3600 1209600 300
 *
 * (dns.message.from_wire(bytes.fromhex(RESP)).to_text()).
 */
static const char resp_golden[] =
    "4bc88500000100010001000103777777076578616d706c6503636f6d0000"
    "1c0001c00c000500010000003c000603776562c010c01000060001000001"
    "2c0027036e7331c0100a686f73746d6173746572c01078c4259900001c20"
    "00000e10001275000000012c00002904d000008000001400030006686176"
    "6e2d310008000600010f00c612";

static void
test_resp_golden(void)
{
	static const uint8_t web[] = "\3web\7example\3com";
	static const uint8_t www[] = "\3www\7example\3com";
	static const uint8_t soa[] = "\3ns1\7example\3com\0"
	                             "\12hostmaster\7example\3com\0"
	                             "\x78\xc4\x25\x99"
	                             "\0\0\x1c\x20"
	                             "\0\0\x0e\x10"
	                             "\0\x12\x75\0"
	                             "\0\0\1\x2c";
	struct dns_rdata rc[] = { { web, sizeof(web) } };
	struct dns_rdata rs[] = { { soa, sizeof(soa) - 1 } };
	struct dns_rrset cname = { www, DNS_TYPE_CNAME, DNS_CLASS_IN, 60, 1,
		rc };
	struct dns_rrset neg = { zone, DNS_TYPE_SOA, DNS_CLASS_IN, 300, 1, rs };
	struct dns_resp_opt opt = { .udp_size = 1232,
		.edns_do = true,
		.nsid = (const uint8_t *)"havn-1",
		.nsid_len = 6 };
	struct dns_query q;
	struct dns_resp r;
	struct msg m, want;
	uint8_t out[1232];
	size_t n;

	T_EQ_INT(sizeof(soa) - 1, 17 + 24 + 20);
	hex(&m, q_ecs);
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);
	opt.ecs = &q.ecs;
	T_EQ_INT(dns_resp_init(&r, out, sizeof(out), q.udp_size, &q, &opt), 0);
	dns_resp_set_flags(&r, DNS_FLAG_AA);
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ANSWER, &cname, true), 0);
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_AUTHORITY, &neg, true), 0);
	n = dns_resp_finish(&r);
	hex(&want, resp_golden);
	if (n != want.len || memcmp(out, want.b, n) != 0) {
		size_t i;

		for (i = 0; i < n; i++)
			fprintf(stderr, "%02x", out[i]);
		fprintf(stderr, "\n");
		test_fail(__FILE__, __LINE__, "golden response differs");
	}
}

/* 40 A records of 16 bytes each (owner pointer 2 + 10 + 4) do not fit
 * in 512: TC, no answer at all, the OPT still there. */
static void
test_resp_truncation(void)
{
	static const uint8_t addr[] = { 198, 18, 0, 9 };
	static const uint8_t www[] = "\3www\7example\3com";
	struct dns_rdata rd[40];
	struct dns_rrset big = { www, DNS_TYPE_A, DNS_CLASS_IN, 60, 40, rd };
	struct dns_rrset small = { www, DNS_TYPE_A, DNS_CLASS_IN, 60, 2, rd };
	struct dns_resp_opt opt = { .udp_size = 1232 };
	struct dns_query q, back;
	struct dns_resp r;
	uint8_t out[512];
	struct msg m;
	size_t i, n;

	for (i = 0; i < 40; i++)
		rd[i] = (struct dns_rdata){ addr, 4 };
	hex(&m, q_ecs);
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);

	/* Optional data that does not fit: skipped, no TC. */
	T_EQ_INT(dns_resp_init(&r, out, sizeof(out), 512, &q, &opt), 0);
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ANSWER, &small, true), 0);
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ADDITIONAL, &big, false), -EMSGSIZE);
	T_ASSERT(!dns_resp_truncated(&r));
	n = dns_resp_finish(&r);
	T_EQ_INT(out[2] & (DNS_FLAG_TC >> 8), 0);
	T_EQ_INT(n, 33 + 2 * 16 + 11);
	T_EQ_INT(out[7], 2);
	T_EQ_INT(out[11], 1); /* the OPT */

	/* Required data that does not fit: TC, stop there. */
	T_EQ_INT(dns_resp_init(&r, out, sizeof(out), 512, &q, &opt), 0);
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ANSWER, &small, true), 0);
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ANSWER, &big, true), -EMSGSIZE);
	T_ASSERT(dns_resp_truncated(&r));
	T_EQ_INT(
	    dns_resp_add(&r, DNS_SEC_ADDITIONAL, &small, false), -EMSGSIZE);
	n = dns_resp_finish(&r);
	T_ASSERT(out[2] & (DNS_FLAG_TC >> 8));
	T_EQ_INT(out[7], 2); /* the first set stayed, whole */
	T_EQ_INT(n, 33 + 2 * 16 + 11);
	memcpy(m.b, out, n);
	m.b[2] &= 0x7f;
	m.len = n;
	T_EQ_INT(parse(&m, &back), DNS_WIRE_OK);
	T_ASSERT(back.edns);

	/* Exactly at the limit fits: 33 + 16k + 11 = 508 -> k = 29.
	 * (The header, question and OPT with 29 records: 508 <= 512.) */
	big.count = 29;
	T_EQ_INT(dns_resp_init(&r, out, sizeof(out), 508, &q, &opt), 0);
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ANSWER, &big, true), 0);
	T_EQ_INT(dns_resp_finish(&r), 508);
	T_EQ_INT(dns_resp_init(&r, out, sizeof(out), 507, &q, &opt), 0);
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ANSWER, &big, true), -EMSGSIZE);

	/* A limit below header + question + OPT. */
	T_EQ_INT(dns_resp_init(&r, out, sizeof(out), 40, &q, &opt), -EMSGSIZE);
}

static void
test_resp_badvers_formerr(void)
{
	struct dns_resp_opt opt = { .udp_size = 1232 };
	struct dns_query q;
	struct dns_resp r;
	uint8_t out[512];
	struct msg m;
	size_t n;

	hex(&m, q_v1);
	T_EQ_INT(parse(&m, &q), DNS_WIRE_BADVERS);
	T_EQ_INT(dns_resp_init(&r, out, sizeof(out), 512, &q, &opt), 0);
	T_EQ_INT(
	    dns_resp_set_rcode(&r, dns_wire_err_rcode(DNS_WIRE_BADVERS)), 0);
	n = dns_resp_finish(&r);
	/* BADVERS = 16: header RCODE 0, OPT extended RCODE 1, version 0. */
	T_EQ_INT(out[3] & 0xf, 0);
	T_EQ_INT(n, 29 + 11);
	T_ASSERT(memcmp(out + 29, "\0\0\x29\x04\xd0\1\0\0\0\0\0", 11) == 0);

	/* Without EDNS an extended RCODE cannot be said. */
	T_EQ_INT(dns_resp_init(&r, out, sizeof(out), 512, &q, NULL), 0);
	T_EQ_INT(dns_resp_set_rcode(&r, DNS_RCODE_BADVERS), -EINVAL);
	T_EQ_INT(dns_resp_set_rcode(&r, DNS_RCODE_FORMERR), 0);
	n = dns_resp_finish(&r);
	T_EQ_INT(out[3] & 0xf, DNS_RCODE_FORMERR);
	T_EQ_INT(n, 29);

	/* NOTIMP for an opcode: no question to echo, opcode copied. */
	hex(&m, q_plain);
	m.b[2] |= DNS_OPCODE_NOTIFY << 3;
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OPCODE);
	T_EQ_INT(dns_resp_init(&r, out, sizeof(out), 512, &q, NULL), 0);
	T_EQ_INT(dns_resp_set_rcode(&r, DNS_RCODE_NOTIMP), 0);
	T_EQ_INT(dns_resp_finish(&r), DNS_HDR_LEN);
	T_EQ_INT(out[2], 0x80 | DNS_OPCODE_NOTIFY << 3);
	T_EQ_INT(out[3], DNS_RCODE_NOTIMP);
	T_EQ_INT(out[5], 0);
}

static void
test_resp_bad_rdata(void)
{
	static const uint8_t bad[] = "\3ns1\xc0\x0c";
	static const uint8_t www[] = "\3www\7example\3com";
	struct dns_rdata rd[] = { { bad, sizeof(bad) - 1 } };
	struct dns_rrset set = { www, DNS_TYPE_NS, DNS_CLASS_IN, 60, 1, rd };
	struct dns_query q;
	struct dns_resp r;
	uint8_t out[512];
	struct msg m;

	hex(&m, q_plain);
	T_EQ_INT(parse(&m, &q), DNS_WIRE_OK);
	T_EQ_INT(dns_resp_init(&r, out, sizeof(out), 512, &q, NULL), 0);
	/* A compressed name as NS RDATA is the caller's bug, not TC. */
	T_EQ_INT(dns_resp_add(&r, DNS_SEC_ANSWER, &set, true), -EINVAL);
	T_ASSERT(!dns_resp_truncated(&r));
	T_EQ_INT(dns_resp_finish(&r), 33);
}

static const struct test tests[] = {
	TEST(test_golden_queries),
	TEST(test_badvers),
	TEST(test_header_rejects),
	TEST(test_truncated),
	TEST(test_names),
	TEST(test_name_long),
	TEST(test_skip_records),
	TEST(test_opt_rejects),
	TEST(test_ecs_rejects),
	TEST(test_err_names),
	TEST(test_resp_echo_and_compress),
	TEST(test_resp_qname_owner),
	TEST(test_resp_golden),
	TEST(test_resp_truncation),
	TEST(test_resp_badvers_formerr),
	TEST(test_resp_bad_rdata),
};

TEST_MAIN(tests)
