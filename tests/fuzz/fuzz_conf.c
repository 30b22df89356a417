/*
 * fuzz_conf.c - arbitrary bytes through the whole config-file path: the
 * checks before the parser, the YAML parser in its child process, the
 * stream back, the bind with haven_conf_schema, and on success the JSON
 * output, its re-bind through jansson and the restart diff. Must never crash
 * or leak, whatever the input. One fork per input makes this target slow;
 * fuzz_conf_stream and fuzz_conf_json cover the in-process parts at speed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cmd/config.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_conf_json(const struct haven_conf *c)
{
	struct conf_errors e;
	struct haven_conf c2;
	struct buf b;
	struct jw w;

	buf_init(&b);
	jw_init(&w, &b);
	conf_to_json(&haven_conf_schema, c, &w);
	if (jw_finish(&w) != 0)
		abort();
	conf_errors_init(&e);
	/* Our own output must bind back: a CK_SECRET is "***", still valid. */
	if (conf_bind_json(
	        &haven_conf_schema, "json", b.data, b.len, &c2, &e) != 0)
		abort();
	(void)conf_restart_diff(&haven_conf_schema, c, &c2, "json", &e);
	conf_schema_free(&haven_conf_schema, &c2);
	conf_errors_fini(&e);
	buf_fini(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errors e;
	struct haven_conf c;
	struct buf b;
	struct jw w;

	conf_errors_init(&e);
	if (haven_conf_load_text("fuzz", (const char *)data, size, &c, &e, 0) ==
	    0) {
		fuzz_conf_json(&c);
		haven_conf_free(&c);
	}
	buf_init(&b);
	jw_init(&w, &b);
	jw_arr_begin(&w);
	conf_errors_json(&e, &w);
	jw_arr_end(&w);
	buf_fini(&b);
	conf_errors_fini(&e);
	return 0;
}
