/*
 * fuzz_dns_zone.c - libFuzzer target for the zone-file parser
 * (dns_zone*.c). The input is a zone file for "example." with every check
 * on; "$INCLUDE x" includes the input itself again, as deep as the
 * parser's own cap allows, so include handling is fuzzed too.
 *
 * Beyond "no crash, no leak, no read past the input", each record must be
 * what the rest of the server assumes: the owner a valid name inside the
 * zone; a name in NS, CNAME, PTR, MX or SOA RDATA one the response writer
 * accepts (it returns 0 or -EMSGSIZE, never -EINVAL, for every record the
 * parser produced); the error count matches the messages, each of which
 * has the "file:line:col: " form.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_wire.h"
#include "dns/dns_zone.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

struct fuzz_zone {
	const uint8_t *data;
	size_t size;
	unsigned nerr;
};

static const uint8_t fuzz_zone_apex[] = "\7example";

static int
fuzz_zone_rr(const struct dns_zone_rr *rr, void *arg)
{
	static const struct dns_query q = { .has_question = true,
		.qname = "\7example",
		.qname_len = 9,
		.qtype = 1,
		.qclass = 1 };
	uint8_t out[DNS_MSG_MAX];
	struct dns_rdata rd = { rr->rdata, rr->rdlen };
	struct dns_rrset set = { rr->owner, rr->type, rr->rclass, rr->ttl, 1,
		&rd };
	struct dns_resp r;
	int rc;

	(void)arg;
	FUZZ_CHECK(dns_name_check(rr->owner, DNS_NAME_MAX) > 0);
	FUZZ_CHECK(dns_name_is_sub(rr->owner, fuzz_zone_apex));
	FUZZ_CHECK(rr->ttl <= DNS_ZONE_TTL_MAX);
	FUZZ_CHECK(rr->rclass == DNS_CLASS_IN || rr->rclass != 0);
	FUZZ_CHECK(
	    dns_resp_init(&r, out, sizeof(out), DNS_MSG_MAX, &q, NULL) == 0);
	rc = dns_resp_add(&r, DNS_SEC_ANSWER, &set, true);
	FUZZ_CHECK(rc == 0 || rc == -EMSGSIZE);
	return 0;
}

static void
fuzz_zone_err(const char *msg, void *arg)
{
	struct fuzz_zone *fz = arg;
	unsigned line, col;
	const char *p = strchr(msg, ':');

	FUZZ_CHECK(p != NULL && sscanf(p, ":%u:%u: ", &line, &col) == 2);
	fz->nerr++;
}

static int
fuzz_zone_include(const char *path, const char *from, unsigned depth,
    char **text, size_t *len, void *arg)
{
	struct fuzz_zone *fz = arg;

	(void)from;
	if (strcmp(path, "x") != 0)
		return -ENOENT;
	if (depth > 3)
		return -ELOOP;
	*text = xmalloc(fz->size + 1);
	memcpy(*text, fz->data, fz->size);
	*len = fz->size;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_zone fz = { data, size, 0 };
	struct dns_zone_conf c = { fuzz_zone_apex, DNS_ZONE_CHECK_ALL, 1000,
		fuzz_zone_rr, fuzz_zone_err, fuzz_zone_include, &fz };
	unsigned nerr;
	int rc;

	rc = dns_zone_parse(&c, "f", (const char *)data, size, &nerr);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	FUZZ_CHECK(nerr == fz.nerr);
	FUZZ_CHECK((rc == 0) == (nerr == 0));
	return 0;
}
