/*
 * Unit tests for the document tree (lib/conf_node.c), the YAML parser's
 * process boundary (lib/conf_yaml.c) and the JSON reader (lib/conf_jtree.c):
 * inputs that crash libfyaml become errors, a damaged stream is refused
 * whole, aliases stay shared, and JSON bodies are JSON only.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/conf_node.h"
#include "runner.h"

struct t_body {
	uint32_t weight;
	bool on;
	char *name;  /* owned */
	char **tags; /* owned */
	size_t ntags;
};

static const struct conf_key t_body_keys[] = {
	{ "weight", CT_UINT, offsetof(struct t_body, weight), "1", 0, 256 },
	{ "on", CT_BOOL, offsetof(struct t_body, on), "false" },
	{ "name", CT_STRING, offsetof(struct t_body, name) },
	{ "tags", CT_STRLIST, offsetof(struct t_body, tags), "[a, b]",
	    .count_off = offsetof(struct t_body, ntags) },
};

static const struct conf_schema t_body_schema = {
	.name = "body",
	.size = sizeof(struct t_body),
	.keys = t_body_keys,
	.nkeys = sizeof(t_body_keys) / sizeof(t_body_keys[0]),
};

/* Every error of one bind, "file:line:col: msg\n" each; free it. */
static char *
t_bind(bool json, const char *text, size_t len)
{
	struct conf_errors e;
	struct t_body b;
	char *out;
	size_t n;
	FILE *f;

	conf_errors_init(&e);
	if ((json ? conf_bind_json : conf_bind_text)(
	        &t_body_schema, "t", text, len, &b, &e) == 0)
		conf_schema_free(&t_body_schema, &b);
	f = open_memstream(&out, &n);
	conf_errors_print(&e, f);
	fclose(f);
	conf_errors_fini(&e);
	return out;
}

static char *
t_bind_s(bool json, const char *text)
{
	return t_bind(json, text, strlen(text));
}

/* libfyaml 0.7.12 segfaults on these: each is an error, never a crash. */
static void
test_parser_crash_is_an_error(void)
{
	static const char *const crashers[] = { ": ? z:\t>", "? a:\t? b" };

	for (size_t i = 0; i < 2; i++) {
		char *o = t_bind(false, crashers[i], strlen(crashers[i]));

		T_ASSERT(strncmp(o, "t:", 2) == 0);
		T_ASSERT(strstr(o, "YAML parser crashed") != NULL ||
		    strstr(o, "explicit keys") != NULL);
		free(o);
	}
	/* The first goes past every check made before the parser. */
	{
		char *o = t_bind(false, crashers[0], 8);

		T_ASSERT(
		    strstr(o, "the YAML parser crashed on this input") != NULL);
		free(o);
	}
}

static void
test_yaml_tree_and_aliases(void)
{
	const char *y = "a: &x [1, 'it''s', {k: v}]\nb: *x\nc:\n";
	struct conf_errors e;
	struct conf_tree t;
	struct conf_node *a, *b, *c;

	conf_errors_init(&e);
	T_EQ_INT(conf_yaml_load("t", y, strlen(y), &t, &e), 0);
	T_EQ_INT(e.n, 0);
	a = conf_node_at(t.root, "/a");
	b = conf_node_at(t.root, "/b");
	c = conf_node_at(t.root, "/c");
	T_ASSERT(a != NULL && a == b); /* shared, not copied */
	T_EQ_INT(conf_node_count(a), 3);
	T_ASSERT(conf_node_item(a, 0)->plain);
	T_EQ_STR(conf_node_item(a, 1)->text, "it's");
	T_ASSERT(!conf_node_item(a, 1)->plain);
	T_ASSERT(conf_node_eq(conf_node_at(conf_node_item(a, 2), "/k"), "v"));
	T_ASSERT(conf_node_is_null(c));
	T_EQ_INT(c->line, 3); /* an empty value sits at its key */
	T_EQ_INT(conf_node_item(a, 1)->line, 1);
	T_EQ_INT(conf_node_item(a, 1)->col, 11);
	conf_tree_fini(&t);
	conf_errors_fini(&e);
}

static void
t_decode_fails(const void *data, size_t len)
{
	struct conf_errors e;
	struct conf_tree t;

	conf_errors_init(&e);
	T_EQ_INT(conf_tree_decode(data, len, "t", &t, &e), -1);
	T_EQ_INT(e.n, 1);
	T_ASSERT(t.root == NULL && t.nall == 0);
	conf_errors_fini(&e);
}

/* Truncations, lies about counts, references forward and to an ancestor. */
static void
test_stream_damage(void)
{
	const char *y = "a: [1, 2]\nb: *x\n";
	struct conf_errors e;
	struct conf_tree t;
	struct buf s, m;

	buf_init(&s);
	conf_yaml_emit("a: &x [1, 2]\nb: *x\n", 19, &s);
	(void)y;
	conf_errors_init(&e);
	T_EQ_INT(conf_tree_decode(s.data, s.len, "t", &t, &e), 0);
	conf_tree_fini(&t);
	conf_errors_fini(&e);
	for (size_t cut = 0; cut < s.len; cut++)
		t_decode_fails(s.data, cut);
	/* A map promising 2^31 pairs. */
	buf_init(&m);
	buf_append(&m, "HVY1M", 5);
	conf_stream_u32(&m, 1);
	conf_stream_u32(&m, 1);
	conf_stream_u32(&m, 0x80000000u);
	buf_putc(&m, 'Z');
	t_decode_fails(m.data, m.len);
	/* A sequence holding a reference to itself: a cycle. */
	buf_reset(&m);
	buf_append(&m, "HVY1Q", 5);
	conf_stream_u32(&m, 1);
	conf_stream_u32(&m, 1);
	conf_stream_u32(&m, 1);
	buf_putc(&m, 'R');
	conf_stream_u32(&m, 0);
	buf_putc(&m, 'Z');
	t_decode_fails(m.data, m.len);
	/* Trailing bytes after the end mark. */
	buf_reset(&m);
	buf_append(&m, s.data, s.len);
	buf_putc(&m, 'Z');
	t_decode_fails(m.data, m.len);
	/* Nesting past the limit, even when the child did not object. */
	buf_reset(&m);
	buf_puts(&m, "HVY1");
	for (int i = 0; i < 100; i++) {
		buf_putc(&m, 'Q');
		conf_stream_u32(&m, 0);
		conf_stream_u32(&m, 0);
		conf_stream_u32(&m, 1);
	}
	buf_putc(&m, 'S');
	for (int i = 0; i < 4; i++)
		conf_stream_u32(&m, 0);
	buf_putc(&m, 'Z');
	t_decode_fails(m.data, m.len);
	buf_fini(&m);
	buf_fini(&s);
}

static void
test_json_bodies(void)
{
	char *o;

	o = t_bind_s(true, "{\"weight\": 7, \"on\": true, \"name\": \"x\"}");
	T_EQ_STR(o, "");
	free(o);
	o = t_bind_s(true, ""); /* all defaults */
	T_EQ_STR(o, "");
	free(o);
	/* YAML is not JSON, whatever the YAML parser would make of it. */
	o = t_bind_s(true, "weight: 7\n");
	T_ASSERT(strstr(o, "t:1:") == o && strstr(o, "invalid JSON") != NULL);
	free(o);
	o = t_bind_s(true, ": ? z:\t>");
	T_ASSERT(strstr(o, "invalid JSON") != NULL);
	free(o);
	o = t_bind_s(true, "{\"weight\": 1, \"weight\": 2}");
	T_ASSERT(strstr(o, "duplicate") != NULL);
	free(o);
	/* Types as in YAML: a number in quotes is a string. */
	o = t_bind_s(true, "{\"weight\": \"7\"}");
	T_EQ_STR(o, "t: expected a number, got the string '7'\n");
	free(o);
	o = t_bind_s(true, "{\"weight\": 1e400}");
	T_ASSERT(strstr(o, "invalid JSON") != NULL || strstr(o, "t: ") == o);
	free(o);
	o = t_bind_s(true, "{\"name\": \"a\\u0000b\"}");
	T_ASSERT(strstr(o, "invalid JSON") != NULL);
	free(o);
	o = t_bind_s(true, "[1, 2]");
	T_EQ_STR(o, "t: expected a map at the top level, got a list\n");
	free(o);
}

static void
test_json_depth(void)
{
	struct buf b;
	char *o;

	buf_init(&b);
	for (int i = 0; i < 100; i++)
		buf_puts(&b, "{\"a\":");
	buf_puts(&b, "1");
	for (int i = 0; i < 100; i++)
		buf_putc(&b, '}');
	o = t_bind(true, b.data, b.len);
	T_EQ_STR(o, "t: nested deeper than 64 levels\n");
	free(o);
	buf_fini(&b);
}

/* Defaults of list keys are split without any parser. */
static void
test_list_default(void)
{
	struct conf_errors e;
	struct t_body b;

	conf_errors_init(&e);
	T_EQ_INT(conf_bind_json(&t_body_schema, "t", "{}", 2, &b, &e), 0);
	T_EQ_INT(b.ntags, 2);
	T_EQ_STR(b.tags[0], "a");
	T_EQ_STR(b.tags[1], "b");
	conf_schema_free(&t_body_schema, &b);
	T_EQ_INT(conf_schema_check_defaults(&t_body_schema, &e), 0);
	conf_errors_fini(&e);
}

static const struct test tests[] = {
	TEST(test_parser_crash_is_an_error),
	TEST(test_yaml_tree_and_aliases),
	TEST(test_stream_damage),
	TEST(test_json_bodies),
	TEST(test_json_depth),
	TEST(test_list_default),
};

TEST_MAIN(tests)
