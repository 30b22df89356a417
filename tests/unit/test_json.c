/* Unit tests for the JSON writer. */
#include "lib/json.h"
#include "runner.h"

static void
test_nested(void)
{
	struct buf b;
	struct jw w;

	buf_init(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "name", "a\"b\\c\n\x01");
	jw_key(&w, "list");
	jw_arr_begin(&w);
	jw_int(&w, -3);
	jw_uint(&w, 18446744073709551615ull);
	jw_bool(&w, true);
	jw_null(&w);
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_kdouble(&w, "x", 0.5);
	jw_obj_end(&w);
	T_EQ_INT(jw_finish(&w), 0);
	T_EQ_STR(b.data,
	    "{\"name\":\"a\\\"b\\\\c\\n\\u0001\",\"list\":[-3,"
	    "18446744073709551615,true,null,{}],\"x\":0.5}");
	buf_fini(&b);
}

static void
test_unbalanced(void)
{
	struct buf b;
	struct jw w;

	buf_init(&b);
	jw_init(&w, &b);
	jw_arr_begin(&w);
	T_EQ_INT(jw_finish(&w), -1);
	buf_fini(&b);
}

static const struct test tests[] = {
	TEST(test_nested),
	TEST(test_unbalanced),
};

TEST_MAIN(tests)
