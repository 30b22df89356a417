/*
 * Unit tests for the config binder (lib/conf*.c) and the top-level config
 * (cmd/config.c, cmd/cmd_check.c). A test schema exercises every type; each
 * error kind is asserted with its exact file:line:col.
 */
#include <netinet/in.h>

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/config.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "runner.h"

struct t_check {
	char *name; /* owned */
	uint64_t interval_ms;
	uint64_t timeout_ms;
	int mode;
	char **tags; /* owned */
	size_t ntags;
};

struct t_sub {
	bool on;
	char *dir; /* owned */
};

struct t_conf {
	bool flag;
	int64_t delta;
	uint32_t port;
	uint64_t interval_ms;
	uint64_t size;
	char *label; /* owned */
	int mode;
	struct sockaddr_storage addr;
	struct sockaddr_storage listen;
	struct t_sub sub;
	struct t_check *checks; /* owned */
	size_t nchecks;
	char **tags; /* owned */
	size_t ntags;
	int even;
	char *secret; /* owned */
	char *must;   /* owned */
};

static const char *const t_modes[] = { "fast", "slow", "balanced", NULL };

static int
t_even_parse(struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	char *s = conf_node_text(node);
	int v, rc = 0;

	if (s == NULL || sscanf(s, "%d", &v) != 1 || v % 2 != 0) {
		conf_error(ctx, node, "expected an even number");
		rc = -1;
	} else {
		*(int *)dst = v;
	}
	free(s);
	return rc;
}

static void
t_even_json(const void *src, struct jw *w)
{
	jw_int(w, *(const int *)src);
}

/* Cross-field: timeout must be below interval. */
static void
t_check_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct t_check *c = obj;

	if (c->timeout_ms >= c->interval_ms)
		conf_error(ctx, conf_key_node(node, "timeout"),
		    "timeout must be less than interval");
}

static const struct conf_key t_check_keys[] = {
	{ "name", CT_STRING, offsetof(struct t_check, name),
	    .flags = CK_REQUIRED },
	{ "interval", CT_DURATION, offsetof(struct t_check, interval_ms), "1s",
	    10, 3600000 },
	{ "timeout", CT_DURATION, offsetof(struct t_check, timeout_ms), "500ms",
	    1, 0 },
	{ "mode", CT_ENUM, offsetof(struct t_check, mode), "fast",
	    .enum_names = t_modes },
	{ "tags", CT_STRLIST, offsetof(struct t_check, tags), "[a, b]",
	    .count_off = offsetof(struct t_check, ntags) },
};

static const struct conf_schema t_check_schema = {
	.name = "checks[]",
	.size = sizeof(struct t_check),
	.keys = t_check_keys,
	.nkeys = ARRAY_SIZE(t_check_keys),
	.check = t_check_check,
};

static const struct conf_key t_sub_keys[] = {
	{ "on", CT_BOOL, offsetof(struct t_sub, on), "true" },
	{ "dir", CT_STRING, offsetof(struct t_sub, dir), "/var/x",
	    .flags = CK_RESTART },
};

static const struct conf_schema t_sub_schema = {
	.name = "sub",
	.size = sizeof(struct t_sub),
	.keys = t_sub_keys,
	.nkeys = ARRAY_SIZE(t_sub_keys),
};

static const struct conf_key t_keys[] = {
	{ "flag", CT_BOOL, offsetof(struct t_conf, flag) },
	{ "delta", CT_INT, offsetof(struct t_conf, delta), "-5", -100, 100 },
	{ "port", CT_UINT, offsetof(struct t_conf, port), "80", 1, 65535,
	    .flags = CK_RESTART },
	{ "interval", CT_DURATION, offsetof(struct t_conf, interval_ms), "2s",
	    10, 3600000 },
	{ "size", CT_SIZE, offsetof(struct t_conf, size), "16k" },
	{ "label", CT_STRING, offsetof(struct t_conf, label) },
	{ "mode", CT_ENUM, offsetof(struct t_conf, mode), "slow",
	    .enum_names = t_modes },
	{ "addr", CT_ADDR, offsetof(struct t_conf, addr) },
	{ "listen", CT_ADDR_PORT, offsetof(struct t_conf, listen) },
	{ "sub", CT_SECTION, offsetof(struct t_conf, sub),
	    .sub = &t_sub_schema },
	{ "checks", CT_LIST, offsetof(struct t_conf, checks),
	    .sub = &t_check_schema,
	    .count_off = offsetof(struct t_conf, nchecks) },
	{ "tags", CT_STRLIST, offsetof(struct t_conf, tags),
	    .count_off = offsetof(struct t_conf, ntags) },
	{ "even", CT_CUSTOM, offsetof(struct t_conf, even), "4",
	    .custom = t_even_parse, .to_json = t_even_json },
	{ "secret", CT_STRING, offsetof(struct t_conf, secret),
	    .flags = CK_SECRET },
	{ "must", CT_STRING, offsetof(struct t_conf, must),
	    .flags = CK_REQUIRED },
};

static const struct conf_schema t_schema = {
	.name = "test",
	.size = sizeof(struct t_conf),
	.keys = t_keys,
	.nkeys = ARRAY_SIZE(t_keys),
};

/* Bind text, expecting failure; return the errors joined by newlines. */
static char *
t_errors(const char *text)
{
	struct conf_errors e;
	struct t_conf c;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	conf_errors_init(&e);
	T_EQ_INT(
	    conf_bind_text(&t_schema, "t.yaml", text, strlen(text), &c, &e),
	    -1);
	/* On failure everything was released and the struct zeroed. */
	T_ASSERT(c.label == NULL && c.checks == NULL && c.nchecks == 0);
	T_ASSERT(e.n > 0);
	conf_errors_print(&e, f);
	fclose(f);
	conf_errors_fini(&e);
	return out;
}

/* Assert that the errors of text are exactly want (newline-separated). */
#define T_ERRS(text, want)                                                     \
	do {                                                                   \
		char *_o = t_errors(text);                                     \
		T_EQ_STR(_o, want);                                            \
		free(_o);                                                      \
	} while (0)

static void
test_parse_duration(void)
{
	uint64_t ms;

	T_EQ_INT(conf_parse_duration("250ms", &ms), 0);
	T_EQ_INT(ms, 250);
	T_EQ_INT(conf_parse_duration("2s", &ms), 0);
	T_EQ_INT(ms, 2000);
	T_EQ_INT(conf_parse_duration("1.5s", &ms), 0);
	T_EQ_INT(ms, 1500);
	T_EQ_INT(conf_parse_duration("1m", &ms), 0);
	T_EQ_INT(ms, 60000);
	T_EQ_INT(conf_parse_duration("1h30m", &ms), 0);
	T_EQ_INT(ms, 5400000);
	T_EQ_INT(conf_parse_duration("0", &ms), 0);
	T_EQ_INT(ms, 0);
	T_EQ_INT(conf_parse_duration("250", &ms), -1);
	T_EQ_INT(conf_parse_duration("0.5ms", &ms), -1);
	T_EQ_INT(conf_parse_duration("fast", &ms), -1);
	T_EQ_INT(conf_parse_duration("2 s", &ms), -1);
	T_EQ_INT(conf_parse_duration("2sec", &ms), -1);
	T_EQ_INT(conf_parse_duration("", &ms), -1);
	T_EQ_INT(conf_parse_duration("-1s", &ms), -1);
	T_EQ_INT(conf_parse_duration("99999999999999999999h", &ms), -1);
}

static void
test_parse_size(void)
{
	uint64_t b;

	T_EQ_INT(conf_parse_size("512", &b), 0);
	T_EQ_INT(b, 512);
	T_EQ_INT(conf_parse_size("16k", &b), 0);
	T_EQ_INT(b, 16384);
	T_EQ_INT(conf_parse_size("1m", &b), 0);
	T_EQ_INT(b, 1048576);
	T_EQ_INT(conf_parse_size("2G", &b), 0);
	T_EQ_INT(b, 2147483648LL);
	T_EQ_INT(conf_parse_size("4KiB", &b), 0);
	T_EQ_INT(b, 4096);
	T_EQ_INT(conf_parse_size("1x", &b), -1);
	T_EQ_INT(conf_parse_size("k", &b), -1);
	T_EQ_INT(conf_parse_size("1.5m", &b), -1);
	T_EQ_INT(conf_parse_size("99999999999t", &b), -1);
}

static void
test_parse_addr(void)
{
	struct sockaddr_storage ss;
	char s[64];

	T_EQ_INT(conf_parse_addr("192.0.2.1:80", true, &ss), 0);
	T_EQ_STR(conf_addr_str(&ss, s, sizeof(s)), "192.0.2.1:80");
	T_EQ_INT(conf_parse_addr("[2001:db8::1]:443", true, &ss), 0);
	T_EQ_INT(ss.ss_family, AF_INET6);
	T_EQ_STR(conf_addr_str(&ss, s, sizeof(s)), "[2001:db8::1]:443");
	T_EQ_INT(conf_parse_addr("2001:db8::1", false, &ss), 0);
	T_EQ_STR(conf_addr_str(&ss, s, sizeof(s)), "2001:db8::1");
	T_EQ_INT(conf_parse_addr("[::1]", false, &ss), 0);
	T_EQ_INT(conf_parse_addr("10.0.0.1", false, &ss), 0);
	T_EQ_INT(conf_parse_addr("10.0.0.1", true, &ss), -1);
	T_EQ_INT(conf_parse_addr("10.0.0.1:80", false, &ss), -1);
	T_EQ_INT(conf_parse_addr("10.0.0.1:65536", true, &ss), -1);
	T_EQ_INT(conf_parse_addr("10.0.0.1:", true, &ss), -1);
	T_EQ_INT(conf_parse_addr("[10.0.0.1]:80", true, &ss), -1);
	T_EQ_INT(conf_parse_addr("example.com:80", true, &ss), -1);
	T_EQ_INT(conf_parse_addr("[::1", false, &ss), -1);
}

static void
test_fmt_and_distance(void)
{
	char s[32];

	T_EQ_STR(conf_fmt_duration(1500, s, sizeof(s)), "1500ms");
	T_EQ_STR(conf_fmt_duration(120000, s, sizeof(s)), "2m");
	T_EQ_STR(conf_fmt_duration(0, s, sizeof(s)), "0ms");
	T_EQ_STR(conf_fmt_size(16384, s, sizeof(s)), "16k");
	T_EQ_STR(conf_fmt_size(1000, s, sizeof(s)), "1000");
	T_EQ_INT(conf_edit_distance("intervall", "interval"), 1);
	T_EQ_INT(conf_edit_distance("itnerval", "interval"), 1);
	T_EQ_INT(conf_edit_distance("abc", "xyz"), 3);
}

static const char t_good[] = "flag: true\n"
                             "delta: -7\n"
                             "port: 8080\n"
                             "interval: 1.5s\n"
                             "size: 2m\n"
                             "label: \"hello world\"\n"
                             "mode: balanced\n"
                             "addr: 2001:db8::5\n"
                             "listen: 127.0.0.1:9900\n"
                             "sub:\n"
                             "  on: false\n"
                             "checks:\n"
                             "  - name: web1\n"
                             "    interval: 2s\n"
                             "    tags: [x]\n"
                             "  - name: web2\n"
                             "    mode: slow\n"
                             "tags: [a, 'b c']\n"
                             "even: 10\n"
                             "secret: hunter2\n"
                             "must: yes-a-string\n";

static void
test_bind_every_type(void)
{
	struct conf_errors e;
	struct t_conf c;
	char s[64];

	conf_errors_init(&e);
	T_EQ_INT(
	    conf_bind_text(&t_schema, "t.yaml", t_good, strlen(t_good), &c, &e),
	    0);
	T_EQ_INT(e.n, 0);
	T_ASSERT(c.flag);
	T_EQ_INT(c.delta, -7);
	T_EQ_INT(c.port, 8080);
	T_EQ_INT(c.interval_ms, 1500);
	T_EQ_INT(c.size, 2 << 20);
	T_EQ_STR(c.label, "hello world");
	T_EQ_INT(c.mode, 2);
	T_EQ_STR(conf_addr_str(&c.addr, s, sizeof(s)), "2001:db8::5");
	T_EQ_STR(conf_addr_str(&c.listen, s, sizeof(s)), "127.0.0.1:9900");
	T_ASSERT(!c.sub.on);
	T_EQ_STR(c.sub.dir, "/var/x");
	T_EQ_INT(c.nchecks, 2);
	T_EQ_STR(c.checks[0].name, "web1");
	T_EQ_INT(c.checks[0].interval_ms, 2000);
	T_EQ_INT(c.checks[0].ntags, 1);
	T_EQ_STR(c.checks[0].tags[0], "x");
	T_ASSERT(c.checks[0].tags[1] == NULL);
	T_EQ_STR(c.checks[1].name, "web2");
	T_EQ_INT(c.checks[1].mode, 1);
	T_EQ_INT(c.ntags, 2);
	T_EQ_STR(c.tags[1], "b c");
	T_EQ_INT(c.even, 10);
	T_EQ_STR(c.secret, "hunter2");
	T_EQ_STR(c.must, "yes-a-string");
	conf_schema_free(&t_schema, &c);
	T_ASSERT(c.checks == NULL && c.label == NULL && c.tags == NULL);
	conf_errors_fini(&e);
}

static void
test_defaults(void)
{
	struct conf_errors e;
	struct t_conf c;
	const char *text = "must: x\nchecks:\n  - name: a\nlabel: ~\n";

	conf_errors_init(&e);
	T_EQ_INT(
	    conf_bind_text(&t_schema, "t.yaml", text, strlen(text), &c, &e), 0);
	T_ASSERT(!c.flag);
	T_EQ_INT(c.delta, -5);
	T_EQ_INT(c.port, 80);
	T_EQ_INT(c.interval_ms, 2000);
	T_EQ_INT(c.size, 16384);
	T_ASSERT(c.label == NULL); /* ~ is null: absent, no default */
	T_EQ_INT(c.mode, 1);
	T_EQ_INT(c.addr.ss_family, AF_UNSPEC);
	T_ASSERT(c.sub.on);
	T_EQ_STR(c.sub.dir, "/var/x");
	T_EQ_INT(c.checks[0].interval_ms, 1000);
	T_EQ_INT(c.checks[0].timeout_ms, 500);
	T_EQ_INT(c.checks[0].ntags, 2);
	T_EQ_STR(c.checks[0].tags[1], "b");
	T_EQ_INT(c.ntags, 0);
	T_EQ_INT(c.even, 4);
	conf_schema_free(&t_schema, &c);
	conf_errors_fini(&e);
}

static void
test_err_unknown_key(void)
{
	T_ERRS("must: x\nchecks:\n  - name: a\n    intervall: 2s\n",
	    "t.yaml:4:5: unknown key 'intervall' in checks[0]; "
	    "did you mean 'interval'?\n");
	T_ERRS("must: x\nlsiten: 1.2.3.4:5\nzzz: 1\n",
	    "t.yaml:2:1: unknown key 'lsiten' at the top level; "
	    "did you mean 'listen'?\n"
	    "t.yaml:3:1: unknown key 'zzz' at the top level\n");
}

static void
test_err_wrong_type(void)
{
	T_ERRS("must: x\ninterval: fast\n",
	    "t.yaml:2:11: expected a duration like 250ms or 2s, got 'fast'\n");
	T_ERRS("must: x\ninterval: 250\n",
	    "t.yaml:2:11: duration '250' needs a unit: 250ms, 2s\n");
	T_ERRS("must: x\nflag: yes\n",
	    "t.yaml:2:7: expected true or false, got 'yes'\n");
	T_ERRS("must: x\nport: \"80\"\n",
	    "t.yaml:2:7: expected a number, got the string '80'\n");
	T_ERRS("must: x\nsize: 1q\n",
	    "t.yaml:2:7: expected a size like 512, 16k or 1m, got '1q'\n");
	T_ERRS("must: x\nmode: balance\n",
	    "t.yaml:2:7: invalid mode 'balance'; expected one of: fast, "
	    "slow, balanced; did you mean 'balanced'?\n");
	T_ERRS("must: x\nlisten: 10.0.0.1\n",
	    "t.yaml:2:9: expected address:port like 192.0.2.1:80 or "
	    "[2001:db8::1]:80, got '10.0.0.1'\n");
	T_ERRS("must: x\naddr: nowhere\n",
	    "t.yaml:2:7: expected an IP address like 192.0.2.1 or "
	    "2001:db8::1, got 'nowhere'\n");
	T_ERRS("must: x\neven: 3\n", "t.yaml:2:7: expected an even number\n");
}

static void
test_err_range(void)
{
	T_ERRS("must: x\ninterval: 0ms\n",
	    "t.yaml:2:11: interval 0ms out of range (10ms..1h)\n");
	T_ERRS("must: x\nport: 70000\n",
	    "t.yaml:2:7: port 70000 out of range (1..65535)\n");
	T_ERRS("must: x\ndelta: -101\n",
	    "t.yaml:2:8: delta -101 out of range (-100..100)\n");
}

static void
test_err_duplicate_name(void)
{
	T_ERRS("must: x\n"
	       "checks:\n"
	       "  - name: web1\n"
	       "  - name: web2\n"
	       "  - {name: web1}\n",
	    "t.yaml:5:12: duplicate name 'web1' (first defined at "
	    "t.yaml:3:11)\n");
}

static void
test_err_shape(void)
{
	T_ERRS("must: x\nchecks:\n  name: a\n",
	    "t.yaml:3:3: expected a list for 'checks', got a map\n");
	T_ERRS("must: x\nsub: [1, 2]\n",
	    "t.yaml:2:6: expected a map for 'sub', got a list\n");
	T_ERRS("must: x\nchecks: [a]\n",
	    "t.yaml:2:10: expected a map for checks[0], got a scalar\n");
	T_ERRS("must: x\nport: [1]\n",
	    "t.yaml:2:7: expected a single value for 'port', got a list\n");
	T_ERRS("- a\n",
	    "t.yaml:1:1: expected a map at the top level, got a list\n");
}

static void
test_err_required(void)
{
	T_ERRS("flag: true\nchecks:\n  - interval: 1s\n",
	    "t.yaml:3:5: missing required key 'name' in checks[0]\n"
	    "t.yaml:1:1: missing required key 'must' at the top level\n");
	T_ERRS("", "t.yaml: missing required key 'must' at the top level\n");
}

static void
test_err_syntax(void)
{
	T_ERRS("must: x\nchecks: [a, b\nport: 1\n",
	    "t.yaml:4:1: flow sequence without a closing bracket\n");
	T_ERRS("must: x\nmust: y\n", "t.yaml:2:1: duplicate key\n");
	T_ERRS("must: x\n---\nmust: y\n",
	    "t.yaml:2:1: more than one YAML document\n");
}

static void
test_err_check_hook_and_collect(void)
{
	/* Several errors in one run, in document order then checks. */
	T_ERRS("must: x\n"
	       "checks:\n"
	       "  - name: a\n"
	       "    interval: 1s\n"
	       "    timeout: 2s\n"
	       "  - name: b\n"
	       "    mode: fastest\n"
	       "port: 0\n",
	    "t.yaml:5:14: timeout must be less than interval\n"
	    "t.yaml:7:11: invalid mode 'fastest'; expected one of: fast, "
	    "slow, balanced; did you mean 'fast'?\n"
	    "t.yaml:8:7: port 0 out of range (1..65535)\n");
}

static void
test_empty_value_position(void)
{
	/* "key:" with nothing is null: for a required key that is absent. */
	T_ERRS("checks:\n  - name:\n",
	    "t.yaml:2:5: missing required key "
	    "'name' in checks[0]\n"
	    "t.yaml:1:1: missing required key "
	    "'must' at the top level\n");
}

/* Quoting: '' inside single quotes, escapes and folding elsewhere. */
static void
test_quoted_strings(void)
{
	const char *text = "must: ''''''''''''''''' '\n"
	                   "label: \"a\\tb\\u00e9\"\n"
	                   "secret: 'one  \n  two\n\n  three  \n  '\n"
	                   "tags: ['it''s', '']\n"
	                   "\"even\": 6\n";
	struct conf_errors e;
	struct t_conf c;

	conf_errors_init(&e);
	T_EQ_INT(
	    conf_bind_text(&t_schema, "t.yaml", text, strlen(text), &c, &e), 0);
	T_EQ_STR(c.must, "'''''''' ");
	T_EQ_STR(c.label, "a\tb\xc3\xa9");
	T_EQ_STR(c.secret, "one two\nthree ");
	T_EQ_INT(c.even, 6);
	T_EQ_STR(c.tags[0], "it's");
	T_EQ_STR(c.tags[1], "");
	conf_schema_free(&t_schema, &c);
	conf_errors_fini(&e);
	/* Quoted keys are keys like any other; a list is none. */
	T_ERRS("must: x\n'label': y\n'checks': 3\n",
	    "t.yaml:3:11: expected a list for 'checks', got a scalar\n");
	T_ERRS("must: x\n[a]: y\n", "t.yaml:2:1: a key must be a string\n");
}

static void
test_aliases(void)
{
	struct conf_errors e;
	struct t_conf c;
	const char *text = "must: &m x\nlabel: *m\n"
	                   "checks:\n  - &c {name: a}\n";
	struct buf b;

	conf_errors_init(&e);
	T_EQ_INT(
	    conf_bind_text(&t_schema, "t.yaml", text, strlen(text), &c, &e), 0);
	T_EQ_STR(c.label, "x");
	conf_schema_free(&t_schema, &c);
	conf_errors_fini(&e);
	/* An alias bomb is cut off by the value limit, not by memory. */
	buf_init(&b);
	buf_puts(&b, "must: x\na: &a [x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x]\n");
	for (char l = 'b'; l <= 'h'; l++)
		buf_printf(&b, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", l,
		    l, l - 1, l - 1, l - 1, l - 1, l - 1, l - 1, l - 1, l - 1);
	buf_puts(&b, "tags: *h\n");
	conf_errors_init(&e);
	T_EQ_INT(
	    conf_bind_text(&t_schema, "t.yaml", b.data, b.len, &c, &e), -1);
	T_ASSERT(e.n >= 1);
	conf_errors_fini(&e);
	buf_fini(&b);
}

static void
test_utf8(void)
{
	static const char nul[] = "must: x\nlabel: a\0b\n";
	struct conf_errors e;
	struct t_conf c;

	T_EQ_INT(conf_utf8_check("h\xc3\xa9", 3), -1);
	T_EQ_INT(conf_utf8_check("\xf0\x9f\x98\x80", 4), -1);
	T_EQ_INT(conf_utf8_check("ab\xc3", 3), 2);       /* truncated */
	T_EQ_INT(conf_utf8_check("\xc0\xaf", 2), 0);     /* overlong */
	T_EQ_INT(conf_utf8_check("\xed\xa0\x80", 3), 0); /* surrogate */
	T_EQ_INT(conf_utf8_check("\xf4\x90\x80\x80", 4), 0);
	/* libfyaml 0.7.12 never returns on this one: it must not see it. */
	T_ERRS("%\xa9\xa9\xa9x", "t.yaml:1:2: invalid UTF-8\n");
	T_ERRS("must: x\nlabel: \xc3\xa9\xff\n", "t.yaml:2:9: invalid UTF-8\n");
	conf_errors_init(&e);
	T_EQ_INT(
	    conf_bind_text(&t_schema, "t.yaml", nul, sizeof(nul) - 1, &c, &e),
	    -1);
	T_EQ_INT(e.n, 1);
	T_EQ_STR(e.v[0].msg, "NUL byte in text");
	T_EQ_INT(e.v[0].line, 2);
	T_EQ_INT(e.v[0].col, 9);
	conf_errors_fini(&e);
}

/* libfyaml 0.7.12 crashes on some explicit keys: they never reach it. */
static void
test_explicit_key(void)
{
	T_ERRS("must: x\n? e:\t? :\n",
	    "t.yaml:2:1: explicit keys ('? ') are not supported\n");
	T_ERRS("must: x\nchecks:\n  - ? a\n",
	    "t.yaml:3:5: explicit keys ('? ') are not supported\n");
	T_ERRS("must: x\nz: : z:\t\t:\n",
	    "t.yaml:2:8: tab before '-', '?' or ':'; use spaces\n");
	T_ERRS("must: x\na: b\t- c\n",
	    "t.yaml:2:5: tab before '-', '?' or ':'; use spaces\n");
	T_ERRS("must: x\n[h:\t:}\n",
	    "t.yaml:2:4: tab before '-', '?' or ':'; use spaces\n");
}

static void
test_depth_limit(void)
{
	struct buf b;
	char *o;

	buf_init(&b);
	buf_puts(&b, "must: ");
	for (int i = 0; i < 100; i++)
		buf_putc(&b, '[');
	o = t_errors(b.data);
	T_EQ_STR(o, "t.yaml:1:70: nested deeper than 64 levels\n");
	free(o);
	buf_fini(&b);
}

static char *
t_json(const struct conf_schema *s, const void *obj)
{
	struct buf b;
	struct jw w;

	buf_init(&b);
	jw_init(&w, &b);
	conf_to_json(s, obj, &w);
	T_EQ_INT(jw_finish(&w), 0);
	return buf_steal(&b);
}

static void
test_json_round_trip(void)
{
	struct conf_errors e;
	struct t_conf c, c2;
	char *j1, *j2;

	conf_errors_init(&e);
	T_EQ_INT(
	    conf_bind_text(&t_schema, "t.yaml", t_good, strlen(t_good), &c, &e),
	    0);
	j1 = t_json(&t_schema, &c);
	T_ASSERT(strstr(j1, "\"secret\":\"***\"") != NULL);
	T_ASSERT(strstr(j1, "hunter2") == NULL);
	T_ASSERT(strstr(j1, "\"interval\":\"1500ms\"") != NULL);
	T_ASSERT(strstr(j1, "\"listen\":\"127.0.0.1:9900\"") != NULL);
	T_ASSERT(strstr(j1, "\"even\":10") != NULL);
	/* Bind the JSON back: same values, apart from the masked secret. */
	T_EQ_INT(conf_bind_text(&t_schema, "body", j1, strlen(j1), &c2, &e), 0);
	T_EQ_STR(c2.secret, "***");
	j2 = t_json(&t_schema, &c2);
	T_EQ_STR(j2, j1);
	T_EQ_INT(c2.interval_ms, 1500);
	T_EQ_INT(c2.nchecks, 2);
	T_EQ_INT(c2.checks[0].ntags, 1);
	conf_schema_free(&t_schema, &c);
	conf_schema_free(&t_schema, &c2);
	free(j1);
	free(j2);
	conf_errors_fini(&e);
}

/* Port 0 asks for any port: no server or listener means that. */
static void
test_port_zero_refused(void)
{
	T_ERRS("must: x\nlisten: 127.0.0.1:0\n",
	    "t.yaml:2:9: port 0 in '127.0.0.1:0': give a port from 1 to "
	    "65535\n");
	T_ERRS("must: x\nlisten: '[::1]:0'\n",
	    "t.yaml:2:9: port 0 in '[::1]:0': give a port from 1 to 65535\n");
}

/* Listed names go into URLs, labels and fixed IPC fields. */
static void
test_list_names(void)
{
	char *o, long_name[128];

	memset(long_name, 'n', 100);
	long_name[100] = '\0';
	T_ERRS("must: x\nchecks:\n  - name: 'a/b'\n",
	    "t.yaml:3:11: name 'a/b' may hold only letters, digits and "
	    ". _ : -\n");
	{
		char text[256];

		snprintf(text, sizeof(text), "must: x\nchecks:\n  - name: %s\n",
		    long_name);
		o = t_errors(text);
		T_EQ_STR(o,
		    "t.yaml:3:11: a name must have 1 to 63 characters, this "
		    "one has 100\n");
		free(o);
	}
	{
		const char *ok = "must: x\nchecks:\n  - name: web-1.a_b:c\n";
		struct conf_errors e;
		struct t_conf c;

		conf_errors_init(&e);
		T_EQ_INT(
		    conf_bind_text(&t_schema, "t.yaml", ok, strlen(ok), &c, &e),
		    0);
		conf_schema_free(&t_schema, &c);
		conf_errors_fini(&e);
	}
}

static void
test_json_body_errors(void)
{
	T_ERRS("{\"must\": \"x\",\n \"interval\": 5, \"flag\": \"true\"}",
	    "t.yaml:2:14: duration '5' needs a unit: 250ms, 2s\n"
	    "t.yaml:2:25: expected true or false, got the string 'true'\n");
}

static void
test_restart_diff(void)
{
	const char *a = "must: x\nport: 80\nsub: {dir: /a}\nlabel: l1\n";
	const char *b = "must: y\nport: 81\nsub: {dir: /b}\nlabel: l2\n";
	struct conf_errors e;
	struct t_conf c1, c2;

	conf_errors_init(&e);
	T_EQ_INT(conf_bind_text(&t_schema, "t.yaml", a, strlen(a), &c1, &e), 0);
	T_EQ_INT(conf_bind_text(&t_schema, "t.yaml", b, strlen(b), &c2, &e), 0);
	T_EQ_INT(conf_restart_diff(&t_schema, &c1, &c1, "t.yaml", &e), 0);
	T_EQ_INT(e.n, 0);
	T_EQ_INT(conf_restart_diff(&t_schema, &c1, &c2, "t.yaml", &e), 2);
	T_EQ_INT(e.n, 2);
	T_EQ_STR(
	    e.v[0].msg, "port: cannot change on reload (restart required)");
	T_EQ_STR(
	    e.v[1].msg, "sub.dir: cannot change on reload (restart required)");
	conf_schema_free(&t_schema, &c1);
	conf_schema_free(&t_schema, &c2);
	conf_errors_fini(&e);
}

static void
test_schema_defaults_valid(void)
{
	static const struct conf_key bad_keys[] = {
		{ "a", CT_DURATION, 0, "10" },
		{ "b", CT_UINT, 0, "7", 1, 5 },
		{ "c", CT_ENUM, 0, "medium", .enum_names = t_modes },
		{ "d", CT_ENUM, 0 },
	};
	static const struct conf_schema bad = { "bad", sizeof(uint64_t),
		bad_keys, ARRAY_SIZE(bad_keys) };
	struct conf_errors e;

	conf_errors_init(&e);
	T_EQ_INT(conf_schema_check_defaults(&t_schema, &e), 0);
	T_EQ_INT(conf_schema_check_defaults(&haven_conf_schema, &e), 0);
	T_EQ_INT(e.n, 0);
	T_EQ_INT(conf_schema_check_defaults(&bad, &e), 4);
	T_EQ_STR(e.v[0].msg,
	    "bad default for 'a' in bad: duration '10' needs "
	    "a unit: 250ms, 2s");
	T_EQ_STR(
	    e.v[1].msg, "bad default for 'b' in bad: b 7 out of range (1..5)");
	conf_errors_fini(&e);
}

static void
test_haven_conf_defaults(void)
{
	struct conf_errors e;
	struct haven_conf c;
	char host[256];

	conf_errors_init(&e);
	T_EQ_INT(
	    haven_conf_load_text("h.yaml", "health: {}\n", 11, &c, &e, 0), 0);
	/* sha256sum of the 11 bytes "health: {}\n" */
	T_EQ_STR(c.digest,
	    "e698308264ec4a3f413a42846980d7295831aa36e3dc183b"
	    "97c451b262b28f4c");
	T_EQ_STR(c.path, "h.yaml");
	T_EQ_STR(c.haven.state_dir, "/var/lib/haven");
	T_EQ_INT(c.haven.log_level, 1);
	T_EQ_INT(c.haven.shutdown_timeout_ms, 5000);
	T_EQ_INT(c.haven.restart_backoff_max_ms, 10000);
	T_EQ_STR(c.api.socket, "/run/haven/haven.sock");
	T_EQ_INT(c.api.listen.ss_family, AF_UNSPEC);
	T_EQ_INT(c.api.max_body, 1 << 20);
	T_ASSERT(gethostname(host, sizeof(host)) == 0);
	T_EQ_STR(c.haven.node, host);
	T_ASSERT(
	    !haven_conf_has_plane(&c, "lb") && haven_conf_has_plane(&c, "hc"));
	haven_conf_free(&c);
	conf_errors_fini(&e);
}

/*
 * A file that configures no plane (empty, only comments, only haven: and
 * api:) would start a daemon that runs nothing, or, sent with a reload,
 * stop every plane: refused. An empty section is a plane that runs.
 */
static void
test_haven_conf_no_plane(void)
{
	const char *none[] = { "", "# only a comment\n",
		"haven:\n  node: n1\napi:\n  socket: /tmp/x.sock\n" };
	struct conf_errors e;
	struct haven_conf c;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(none); i++) {
		conf_errors_init(&e);
		T_EQ_INT(haven_conf_load_text(
		             "h.yaml", none[i], strlen(none[i]), &c, &e, 0),
		    -EINVAL);
		T_EQ_INT(e.n, 1);
		T_ASSERT(strstr(e.v[0].msg, "no plane configured") != NULL);
		conf_errors_fini(&e);
	}
	conf_errors_init(&e);
	T_EQ_INT(haven_conf_load_text("h.yaml", "lb: {}\n", 7, &c, &e, 0), 0);
	T_ASSERT(
	    haven_conf_has_plane(&c, "lb") && !haven_conf_has_plane(&c, "hc"));
	haven_conf_free(&c);
	conf_errors_fini(&e);
}

/*
 * A listed object without its name, referred to by name elsewhere (found by
 * fuzz_conf_json and fuzz_conf_stream: the cross-checks met a NULL name):
 * the missing key is the error, and nothing crashes.
 */
static void
test_haven_conf_nameless_objects(void)
{
	static const char *const texts[] = {
		/* a check template without a name, one a pool names */
		"health:\n  checks:\n    - { tame: web, type: tcp }\n"
		"lb:\n  pools:\n    - name: p\n      health_check: web\n"
		"      servers: [{ name: a, address: 127.0.0.1:1 }]\n",
		/* a pool without a name, one a listener names */
		"lb:\n  listeners:\n    - { name: l, bind: 127.0.0.1:1, "
		"pool: p }\n  pools:\n    - servers: [{ name: a, address: "
		"127.0.0.1:1 }]\n",
		/* a server without a name */
		("lb:\n  pools:\n    - name: p\n      servers: [{ address: "
		 "127.0.0.1:1 }, { name: a, address: 127.0.0.1:2 }]\n"),
	};
	struct conf_errors e;
	struct haven_conf c;

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		conf_errors_init(&e);
		T_EQ_INT(haven_conf_load_text(
		             "h.yaml", texts[i], strlen(texts[i]), &c, &e, 0),
		    -EINVAL);
		T_ASSERT(e.n >= 1);
		T_ASSERT(strstr(e.v[e.n - 1].msg,
		             "missing required key "
		             "'name'") != NULL ||
		    strstr(e.v[0].msg, "missing required key 'name'") != NULL);
		conf_errors_fini(&e);
	}
}

/*
 * Every TCP listener needs a token, loopback too, unless loopback and the
 * operator waived it in words; each refusal points at the key to fix.
 */
static void
test_haven_conf_api_token(void)
{
	static const struct {
		const char *api; /* the api: section's lines */
		const char *err; /* substring of the one error; NULL: valid */
		int line, col;
	} cases[] = {
		{ "  listen: 0.0.0.0:9900\n", "needs api.token", 3, 11 },
		{ "  listen: 127.0.0.1:9900\n", "needs api.token", 3, 11 },
		{ "  listen: '[::1]:9900'\n", "needs api.token", 3, 11 },
		{ "  listen: 0.0.0.0:9900\n  token: s3cret\n", NULL },
		{ "  listen: 0.0.0.0:9900\n  read_token: look\n", NULL },
		{ "  listen: 127.0.0.1:9900\n  insecure_no_token: true\n",
		    NULL },
		{ "  listen: 0.0.0.0:9900\n  insecure_no_token: true\n",
		    "loopback only", 4, 22 },
		{ "  listen: 127.0.0.1:9900\n  insecure_no_token: true\n"
		  "  token: s3cret\n",
		    "contradicts", 4, 22 },
		{ "  listen: 127.0.0.1:9900\n  token: same\n"
		  "  read_token: same\n",
		    "read_token equals token", 5, 15 },
		{ "  listen: 127.0.0.1:9900\n  token: ''\n",
		    "must not be empty", 4, 10 },
		{ "  group: no-such-group-haven\n", "no such group", 3, 10 },
		{ "  read_group: root\n", NULL },
		{ "  token: s3cret\n", NULL }, /* no listener: unused, valid */
	};
	struct conf_errors e;
	struct haven_conf c;
	char text[512];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int n = snprintf(text, sizeof(text),
		    "haven:\n  node: n1\napi:\n%shealth: {}\n", cases[i].api);
		int r;

		/* The api lines start on line 4: shift the table's lines. */
		conf_errors_init(&e);
		r = haven_conf_load_text("h.yaml", text, (size_t)n, &c, &e, 0);
		if (cases[i].err == NULL) {
			if (r != 0)
				test_fail(__FILE__, __LINE__, "case %zu: %s", i,
				    e.v[0].msg);
			haven_conf_free(&c);
		} else {
			T_EQ_INT(r, -EINVAL);
			T_EQ_INT(e.n, 1);
			if (strstr(e.v[0].msg, cases[i].err) == NULL)
				test_fail(__FILE__, __LINE__, "case %zu: %s", i,
				    e.v[0].msg);
			T_EQ_INT(e.v[0].line, cases[i].line + 1);
			T_EQ_INT(e.v[0].col, cases[i].col);
			T_ASSERT(c.path == NULL && c.haven.node == NULL);
		}
		conf_errors_fini(&e);
	}
}

/* tests/unit/conf/, wherever the test runs from. */
static const char *
t_conf_dir(void)
{
	static char dir[4096];
	const char *cands[] = { "tests/unit/conf", "../tests/unit/conf",
		"../../tests/unit/conf", "../../../tests/unit/conf" };
	const char *slash = strrchr(__FILE__, '/');

	snprintf(dir, sizeof(dir), "%.*s/conf",
	    slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	if (access(dir, R_OK) == 0)
		return dir;
	for (size_t i = 0; i < ARRAY_SIZE(cands); i++)
		if (access(cands[i], R_OK) == 0)
			return cands[i];
	test_fail(__FILE__, __LINE__, "tests/unit/conf not found");
}

/* Load tests/unit/conf/name; want has '@' where the path goes. */
static void
t_expect_file(const char *name, const char *want)
{
	struct conf_errors e;
	struct haven_conf c;
	char path[4200];
	char *out = NULL;
	size_t len = 0;
	struct buf w;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t_conf_dir(), name);
	conf_errors_init(&e);
	T_ASSERT(haven_conf_load(path, &c, &e) != 0);
	f = open_memstream(&out, &len);
	conf_errors_print(&e, f);
	fclose(f);
	buf_init(&w);
	for (const char *p = want; *p != '\0'; p++) {
		if (*p == '@')
			buf_puts(&w, path);
		else
			buf_putc(&w, *p);
	}
	T_EQ_STR(out, w.data);
	buf_fini(&w);
	free(out);
	conf_errors_fini(&e);
}

static void
test_broken_files(void)
{
	t_expect_file("bad_duration.yaml",
	    "@:3:21: expected a duration like 250ms or 2s, got 'fast'\n");
	t_expect_file("bad_typo.yaml",
	    "@:2:3: unknown key 'log_levle' in haven; did you mean "
	    "'log_level'?\n"
	    "@:5:13: max_body 1g out of range (1k..64m)\n");
	t_expect_file(
	    "bad_syntax.yaml", "@:3:2: invalid indentation in mapping\n");
	t_expect_file("bad_enum.yaml",
	    "@:2:14: invalid log_level 'verbose'; expected one of: debug, "
	    "info, notice, warn, error\n");
	t_expect_file(
	    "missing.yaml", "@: cannot open: No such file or directory\n");
}

/* Run cmd_check with stdout captured into out; returns its status. */
static int
t_run_check(int argc, char **argv, char *out, size_t outlen)
{
	FILE *tmp = tmpfile();
	int saved = dup(1), rc;
	size_t n;

	T_ASSERT(tmp != NULL && saved != -1);
	fflush(stdout);
	T_ASSERT(dup2(fileno(tmp), 1) == 1);
	rc = cmd_check(argc, argv);
	fflush(stdout);
	T_ASSERT(dup2(saved, 1) == 1);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, outlen - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return rc;
}

static void
test_cmd_check(void)
{
	char path[4200], bad[4200], out[8192], want[4400];
	char *ok_argv[] = { "check", "-q", "-c", path, NULL };
	char *loud_argv[] = { "check", "-c", path, NULL };
	char *bad_argv[] = { "check", "-q", "-c", bad, NULL };
	char *use_argv[] = { "check", "-x", NULL };
	char *help_argv[] = { "check", "--help", NULL };
	struct conf_errors e;
	struct haven_conf c;

	snprintf(path, sizeof(path), "%s/good.yaml", t_conf_dir());
	snprintf(bad, sizeof(bad), "%s/bad_enum.yaml", t_conf_dir());
	T_EQ_INT(t_run_check(4, ok_argv, out, sizeof(out)), 0);
	T_EQ_STR(out, "");
	conf_errors_init(&e);
	T_EQ_INT(haven_conf_load(path, &c, &e), 0);
	snprintf(want, sizeof(want), "%s: ok (digest %s)\n", path, c.digest);
	haven_conf_free(&c);
	conf_errors_fini(&e);
	T_EQ_INT(t_run_check(3, loud_argv, out, sizeof(out)), 0);
	T_EQ_STR(out, want);
	/* Errors go to stderr (see bad_enum.yaml in test_broken_files). */
	T_EQ_INT(t_run_check(4, bad_argv, out, sizeof(out)), 1);
	T_EQ_STR(out, "");
	T_EQ_INT(t_run_check(2, use_argv, out, sizeof(out)), 2);
	T_EQ_INT(t_run_check(2, help_argv, out, sizeof(out)), 0);
	T_ASSERT(strncmp(out, "usage: haven check", 18) == 0);
}

static const struct test tests[] = {
	TEST(test_parse_duration),
	TEST(test_parse_size),
	TEST(test_parse_addr),
	TEST(test_fmt_and_distance),
	TEST(test_bind_every_type),
	TEST(test_defaults),
	TEST(test_err_unknown_key),
	TEST(test_err_wrong_type),
	TEST(test_err_range),
	TEST(test_err_duplicate_name),
	TEST(test_err_shape),
	TEST(test_err_required),
	TEST(test_err_syntax),
	TEST(test_err_check_hook_and_collect),
	TEST(test_empty_value_position),
	TEST(test_quoted_strings),
	TEST(test_aliases),
	TEST(test_utf8),
	TEST(test_explicit_key),
	TEST(test_depth_limit),
	TEST(test_json_round_trip),
	TEST(test_port_zero_refused),
	TEST(test_list_names),
	TEST(test_json_body_errors),
	TEST(test_restart_diff),
	TEST(test_schema_defaults_valid),
	TEST(test_haven_conf_defaults),
	TEST(test_haven_conf_api_token),
	TEST(test_haven_conf_no_plane),
	TEST(test_haven_conf_nameless_objects),
	TEST(test_broken_files),
	TEST(test_cmd_check),
};

TEST_MAIN(tests)
