/* Unit tests for buf.c. */
#include "lib/buf.h"
#include "runner.h"

static void
test_append_and_consume(void)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "hello ");
	buf_printf(&b, "%s %d", "world", 42);
	T_EQ_STR(b.data, "hello world 42");
	buf_consume(&b, 6);
	T_EQ_STR(b.data, "world 42");
	buf_consume(&b, 100);
	T_EQ_INT(b.len, 0);
	T_EQ_STR(b.data, "");
	buf_fini(&b);
}

static void
test_printf_grows(void)
{
	struct buf b;
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b);
	buf_printf(&b, "<%s>", big);
	T_EQ_INT(b.len, sizeof(big) + 1);
	T_ASSERT(b.data[0] == '<' && b.data[b.len - 1] == '>');
	free(buf_steal(&b));
	T_ASSERT(b.data == NULL);
}

static const struct test tests[] = {
	TEST(test_append_and_consume),
	TEST(test_printf_grows),
};

TEST_MAIN(tests)
