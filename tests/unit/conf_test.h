/*
 * conf_test.h - binding a config text in a unit test: the schema tests of
 * every plane check the number of errors and where the first one is.
 */
#ifndef HAVEN_TEST_CONF_TEST_H
#define HAVEN_TEST_CONF_TEST_H

#include <stddef.h>

#include "lib/conf.h"

/*
 * Bind text (YAML, named "t.yaml") with schema into obj. Returns the number
 * of errors; when first is not NULL it gets the first one as
 * "line:col: message" ("0:0: " when there is none).
 */
size_t t_conf_bind(const struct conf_schema *schema, const char *text,
    void *obj, char *first, size_t flen);

#endif
