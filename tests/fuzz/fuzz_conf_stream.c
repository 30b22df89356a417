/*
 * fuzz_conf_stream.c - arbitrary bytes as what the YAML parser's child
 * process sends back (lib/conf_node.h stream form): the decoder must refuse
 * any damage without crashing, and whatever tree it accepts is bound with
 * haven_conf_schema. A parser bug may corrupt the child's memory, so the
 * parent trusts none of these bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cmd/config.h"
#include "lib/conf.h"
#include "lib/conf_node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct haven_conf c;
	struct conf_errors e;
	struct conf_tree t;

	conf_errors_init(&e);
	if (conf_tree_decode(data, size, "stream", &t, &e) == 0) {
		if (conf_bind_tree(&haven_conf_schema, "stream", &t, &c, &e) ==
		    0)
			conf_schema_free(&haven_conf_schema, &c);
		conf_tree_fini(&t);
	}
	conf_errors_fini(&e);
	return 0;
}
