/*
 * Unit tests for dns_rdata.c: the one table of where names sit in RDATA,
 * which readers each type is described for, and the shape check.
 */
#include <stdint.h>

#include "dns/dns_rdata.h"
#include "dns/dns_wire.h"
#include "lib/util.h"
#include "runner.h"

static void
test_uses(void)
{
	/* The answer writer compresses RFC 3597 §4's types only; SRV is
	 * expanded on input (senders compress it) but never compressed. */
	T_ASSERT(dns_rdata_shape(DNS_TYPE_MX, DNS_RDATA_COMPRESS) != NULL);
	T_ASSERT(dns_rdata_shape(DNS_TYPE_SRV, DNS_RDATA_COMPRESS) == NULL);
	T_ASSERT(dns_rdata_shape(DNS_TYPE_SRV, DNS_RDATA_EXPAND) != NULL);
	T_ASSERT(dns_rdata_shape(DNS_TYPE_DNAME, DNS_RDATA_EXPAND) == NULL);
	T_ASSERT(dns_rdata_shape(DNS_TYPE_DNAME, DNS_RDATA_CANON) != NULL);
	/* Opaque to everyone. */
	T_ASSERT(dns_rdata_shape(DNS_TYPE_A, DNS_RDATA_ANY) == NULL);
	T_ASSERT(dns_rdata_shape(DNS_TYPE_TXT, DNS_RDATA_ANY) == NULL);
	T_ASSERT(dns_rdata_shape(DNS_TYPE_NSEC, DNS_RDATA_ANY) == NULL);
	T_ASSERT(dns_rdata_shape(0, DNS_RDATA_ANY) == NULL);
	T_ASSERT(dns_rdata_shape(65535, DNS_RDATA_ANY) == NULL);
}

/* Every described type is found by its own number, and only those. */
static void
test_by_type(void)
{
	unsigned t, n = 0;

	for (t = 0; t <= 65535; t++) {
		const struct dns_rdata_shape *sh =
		    dns_rdata_shape((uint16_t)t, DNS_RDATA_ANY);

		if (sh == NULL)
			continue;
		T_EQ_INT(sh->type, t);
		T_ASSERT(sh->names >= 1 && sh->names <= DNS_RDATA_NAMES_MAX);
		n++;
	}
	T_EQ_INT(n, 19);
}

static void
test_names(void)
{
	static const uint8_t mx[] = "\0\x0a\4mail\7example\0";
	static const uint8_t soa[] = "\2ns\0\4host\0"
	                             "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5";
	/* NAPTR: order, preference, flags "u", service "E2U+sip", regexp
	 * "", replacement "." */
	static const uint8_t naptr[] = "\0\1\0\2\1u\7E2U+sip\0\0";
	size_t at[DNS_RDATA_NAMES_MAX];
	const struct dns_rdata_shape *sh;

	sh = dns_rdata_shape(DNS_TYPE_MX, DNS_RDATA_ANY);
	T_EQ_INT(dns_rdata_names(sh, mx, sizeof(mx) - 1, at), 1);
	T_EQ_INT(at[0], 2);
	/* Short, a trailing byte, a bad name. */
	T_EQ_INT(dns_rdata_names(sh, mx, 1, at), -1);
	T_EQ_INT(dns_rdata_names(sh, mx, 2, at), -1);
	T_EQ_INT(dns_rdata_names(sh, mx, sizeof(mx), at), -1);
	T_EQ_INT(dns_rdata_names(sh, mx, sizeof(mx) - 2, at), -1);

	sh = dns_rdata_shape(DNS_TYPE_SOA, DNS_RDATA_ANY);
	T_EQ_INT(dns_rdata_names(sh, soa, sizeof(soa) - 1, at), 2);
	T_EQ_INT(at[0], 0);
	T_EQ_INT(at[1], 4);
	T_EQ_INT(dns_rdata_names(sh, soa, sizeof(soa) - 2, at), -1);

	sh = dns_rdata_shape(35, DNS_RDATA_CANON);
	T_ASSERT(sh != NULL);
	T_EQ_INT(dns_rdata_names(sh, naptr, sizeof(naptr) - 1, at), 1);
	T_EQ_INT(at[0], sizeof(naptr) - 2);
	/* A string running past the end. */
	T_EQ_INT(dns_rdata_names(sh, naptr, 6, at), -1);
}

static const struct test tests[] = {
	TEST(test_uses),
	TEST(test_by_type),
	TEST(test_names),
};

TEST_MAIN(tests)
