/*
 * fuzz_conf_json.c - arbitrary bytes as a control-API body: jansson, the
 * tree, the bind with haven_conf_schema (every section's keys, hooks and
 * custom parsers), and on success the JSON output and its re-bind. Must
 * never crash or leak, whatever the input. The re-bind may fail: GET
 * /v1/config writes every key, and a few cross-key checks read an explicit
 * empty value ("certificates": [], "port": 0 on a template) as a mistake.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cmd/config.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct haven_conf c, c2;
	struct conf_errors e;
	struct buf b;
	struct jw w;

	conf_errors_init(&e);
	if (conf_bind_json(&haven_conf_schema, "body", (const char *)data, size,
	        &c, &e) == 0) {
		buf_init(&b);
		jw_init(&w, &b);
		conf_to_json(&haven_conf_schema, &c, &w);
		if (jw_finish(&w) != 0)
			abort();
		if (conf_bind_json(&haven_conf_schema, "json", b.data, b.len,
		        &c2, &e) == 0) {
			(void)conf_restart_diff(
			    &haven_conf_schema, &c, &c2, "j", &e);
			conf_schema_free(&haven_conf_schema, &c2);
		}
		conf_schema_free(&haven_conf_schema, &c);
		buf_fini(&b);
	}
	conf_errors_fini(&e);
	return 0;
}
