/*
 * fuzz_dns_gslb_restore.c - arbitrary bytes as the GSLB state file: the
 * decision state restores all of it or nothing. Must never crash or leak;
 * what it accepts must save back to text that restores to the same state
 * (save, restore, save gives the same bytes), and every name must still
 * answer.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/dns_gslb_test.h"
#include "dns/dns_gslb.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* JSON, bound in-process: the YAML parser runs in a child. */
static const char fuzz_gslb_conf[] =
    "{\"regions\": [{\"name\": \"eu\", \"networks\": [\"198.18.0.0/24\"]}],"
    " \"pools\": ["
    "  {\"name\": \"a\", \"available\": \"2\", \"addresses\": ["
    "   {\"address\": \"198.18.1.1\"}, {\"address\": \"198.18.1.2\"},"
    "   {\"address\": \"198.18.1.3\", \"mode\": \"online\"}]},"
    "  {\"name\": \"b\", \"lb\": \"weighted\", \"addresses\": ["
    "   {\"address\": \"198.18.2.1\"}, {\"address\": \"198.18.2.2\"}]}],"
    " \"names\": ["
    "  {\"name\": \"www.example.com\", \"policies\": ["
    "   {\"sources\": [\"eu\"], \"pools\": [\"b\"], \"backup\": [\"a\"],"
    "    \"failback\": \"non-preemptive\"},"
    "   {\"pools\": [\"a\"], \"backup\": [\"b\"], \"fail\": \"closed\","
    "    \"last_resort\": [\"198.18.9.9\"]}]},"
    "  {\"name\": \"dr.example.com\","
    "   \"template\": {\"dr\": {\"primary\": \"b\", \"secondary\": \"a\"}}}],"
    " \"plans\": [{\"name\": \"lose-a\", \"pools\": [\"a\"]},"
    "  {\"name\": \"lose-b\", \"pools\": [\"b\"]}]}";

static void
fuzz_gslb_answer_all(struct dns_gslb *g, const struct dns_gslb_conf *c)
{
	struct dns_client cl = { .family = AF_INET,
		.addr = { 198, 18, 0, 1 },
		.bits = 24,
		.ecs = true };
	struct dns_dyn_answer a;

	for (uint32_t i = 0; i < c->nnames; i++)
		if (dns_gslb_answer(g, i, 1, &cl, &a) != 0 || a.count > 8)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_gslb_conf c;
	static bool bound;
	struct dns_gslb *g, *g2;
	struct buf b1, b2;

	if (!bound) {
		struct conf_errors errs;

		conf_errors_init(&errs);
		if (conf_bind_json(&t_gslb_schema, "fuzz.json", fuzz_gslb_conf,
		        strlen(fuzz_gslb_conf), &c, &errs) != 0)
			abort();
		conf_errors_fini(&errs);
		bound = true;
	}
	g = dns_gslb_new(&c, NULL, 1000, NULL, NULL);
	if (dns_gslb_restore(g, (const char *)data, size, 2000) == 0) {
		buf_init(&b1);
		buf_init(&b2);
		dns_gslb_save(g, &b1);
		g2 = dns_gslb_new(&c, NULL, 1000, NULL, NULL);
		if (dns_gslb_restore(g2, b1.data, b1.len, 2000) != 0)
			abort();
		dns_gslb_save(g2, &b2);
		if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
			abort();
		fuzz_gslb_answer_all(g2, &c);
		dns_gslb_free(g2);
		buf_fini(&b1);
		buf_fini(&b2);
	}
	fuzz_gslb_answer_all(g, &c);
	dns_gslb_free(g);
	return 0;
}
