/*
 * fuzz_dns_wire.c - libFuzzer target for dns_wire.c (and the name text
 * form of dns_name.c). The input is a DNS message as a server receives it.
 *
 * Beyond "no crash, no read past the input", it checks what the server
 * will rely on: every rejection has a name and an RCODE; an accepted
 * question's name is a valid wire name whose text form reads back to the
 * same bytes; and a response written for an accepted query stays within
 * its limit and, with QR cleared, parses again as a query with the same
 * question (case kept), EDNS facts, ECS and NSID: the writer's compression
 * pointers are ones our own strict decompressor accepts, and truncation
 * never leaves a half-written record.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static void
fuzz_dns_wire_name(const struct dns_query *q)
{
	char text[DNS_NAME_TEXT_MAX];
	uint8_t back[DNS_NAME_MAX];
	int n;

	FUZZ_CHECK(dns_name_check(q->qname, sizeof(q->qname)) == q->qname_len);
	n = dns_name_to_text(q->qname, text, sizeof(text));
	FUZZ_CHECK(n > 0);
	FUZZ_CHECK(
	    dns_name_from_text(back, text, (size_t)n, NULL) == q->qname_len);
	FUZZ_CHECK(memcmp(back, q->qname, q->qname_len) == 0);
}

static void
fuzz_dns_wire_resp(const struct dns_query *q, size_t limit, unsigned mode)
{
	static const uint8_t a[] = { 198, 18, 0, 1 };
	static const uint8_t nsid[] = "fuzz";
	uint8_t out[DNS_MSG_MAX], mx[2 + DNS_NAME_MAX];
	struct dns_rdata ra[3] = { { a, 4 }, { a, 4 }, { a, 4 } };
	struct dns_rdata rn[1] = { { q->qname, q->qname_len } };
	struct dns_rdata rm[1] = { { mx, (uint16_t)(2 + q->qname_len) } };
	struct dns_rrset sa = { q->qname, DNS_TYPE_A, DNS_CLASS_IN, 1, 3, ra };
	struct dns_rrset sn = { q->qname, DNS_TYPE_NS, DNS_CLASS_IN, 1, 1, rn };
	struct dns_rrset sm = { q->qname + q->qname[0] + (q->qname[0] ? 1 : 0),
		DNS_TYPE_MX, DNS_CLASS_IN, 1, 1, rm };
	struct dns_resp_opt opt = { .udp_size = 1232, .edns_do = q->edns_do };
	struct dns_query back;
	struct dns_resp r;
	size_t n, i;

	mx[0] = 0;
	mx[1] = 10;
	memcpy(mx + 2, q->qname, q->qname_len);
	if (q->has_ecs)
		opt.ecs = &q->ecs; /* scope 0, so it parses back */
	if (q->nsid) {
		opt.nsid = nsid;
		opt.nsid_len = 4;
	}
	if (dns_resp_init(
	        &r, out, sizeof(out), limit, q, q->edns ? &opt : NULL) < 0)
		return;
	for (i = 0; i < 6; i++) {
		const struct dns_rrset *s = i % 3 == 0 ? &sa :
		    i % 3 == 1                         ? &sn :
		                                         &sm;
		int rc = dns_resp_add(
		    &r, (enum dns_section)(i / 2), s, mode >> i & 1);

		FUZZ_CHECK(rc == 0 || rc == -EMSGSIZE);
	}
	n = dns_resp_finish(&r);
	FUZZ_CHECK(n <= limit);
	out[2] &= 0x7f;
	FUZZ_CHECK(dns_wire_parse_query(out, n, &back) == DNS_WIRE_OK);
	FUZZ_CHECK(back.qname_len == q->qname_len);
	FUZZ_CHECK(memcmp(back.qname, q->qname, q->qname_len) == 0);
	FUZZ_CHECK(back.qtype == q->qtype && back.qclass == q->qclass);
	FUZZ_CHECK(back.edns == q->edns && back.edns_do == q->edns_do);
	FUZZ_CHECK(back.has_ecs == q->has_ecs && back.nsid == q->nsid);
	if (q->has_ecs)
		FUZZ_CHECK(memcmp(&back.ecs, &q->ecs, sizeof(q->ecs)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_query q;
	enum dns_wire_err e;
	int rcode;

	e = dns_wire_parse_query(data, size, &q);
	FUZZ_CHECK((unsigned)e < DNS_WIRE_ERR__COUNT);
	FUZZ_CHECK(strcmp(dns_wire_err_name(e), "invalid") != 0);
	rcode = dns_wire_err_rcode(e);
	FUZZ_CHECK(rcode == DNS_RCODE_DROP || (rcode >= 0 && rcode <= 0xfff));
	if (q.has_question)
		fuzz_dns_wire_name(&q);
	if (e != DNS_WIRE_OK)
		return 0;
	/* The message's own bytes choose the limit and which sets are
	 * required, so the corpus reaches truncation. */
	fuzz_dns_wire_resp(&q, 12 + (size_t)(q.id % 600), q.id >> 10);
	fuzz_dns_wire_resp(&q, DNS_MSG_MAX, 0x3f);
	return 0;
}
