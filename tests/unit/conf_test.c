/*
 * conf_test.c - see conf_test.h.
 */
#include <stdio.h>
#include <string.h>

#include "conf_test.h"

size_t
t_conf_bind(const struct conf_schema *schema, const char *text, void *obj,
    char *first, size_t flen)
{
	struct conf_errors errs;
	size_t n;

	conf_errors_init(&errs);
	conf_bind_text(schema, "t.yaml", text, strlen(text), obj, &errs);
	n = errs.n;
	if (first != NULL)
		snprintf(first, flen, "%d:%d: %s", n ? errs.v[0].line : 0,
		    n ? errs.v[0].col : 0, n ? errs.v[0].msg : "");
	conf_errors_fini(&errs);
	return n;
}
