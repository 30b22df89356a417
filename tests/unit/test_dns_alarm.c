/*
 * test_dns_alarm.c - the dns section's `alarms:` schema (defaults, the
 * http:// rule, ranges) and the alarm adapter over lib/hook.c with real
 * commands and a real webhook receiver on a real loop: the exec command's
 * environment, the webhook's JSON body, a retried 500.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <stdlib.h>
#include <unistd.h>

#include "conf_test.h"
#include "dns/dns_alarm.h"
#include "lib/buf.h"
#include "lib/statefile.h"
#include "lib/util.h"
#include "runner.h"

static size_t
t_bind(const char *text, struct hook_alarm_conf *c, char *first, size_t flen)
{
	return t_conf_bind(&hook_alarm_schema, text, c, first, flen);
}

static void
test_alarm_defaults(void)
{
	struct conf_errors errs;
	struct hook_alarm_conf c;
	char first[256];

	conf_errors_init(&errs);
	T_EQ_INT(conf_schema_check_defaults(&hook_alarm_schema, &errs), 0);
	conf_errors_fini(&errs);
	T_EQ_INT(t_bind("exec: /bin/true\n", &c, first, sizeof(first)), 0);
	T_EQ_STR(c.exec, "/bin/true");
	T_ASSERT(c.webhook == NULL);
	T_EQ_INT(c.retries, 3);
	T_EQ_INT(c.timeout_ms, 5000);
	conf_schema_free(&hook_alarm_schema, &c);
	T_EQ_INT(t_bind("webhook: http://127.0.0.1:9/a\nretries: 0\n"
	                "timeout: 250ms\n",
	             &c, first, sizeof(first)),
	    0);
	T_EQ_INT(c.retries, 0);
	T_EQ_INT(c.timeout_ms, 250);
	conf_schema_free(&hook_alarm_schema, &c);
}

static void
t_error(const char *text, const char *want)
{
	struct hook_alarm_conf c;
	char first[512];
	size_t n = t_bind(text, &c, first, sizeof(first));

	if (n != 1 || strncmp(first, want, strlen(want)) != 0)
		test_fail(__FILE__, __LINE__, "%s: %zu errors, first \"%s\"",
		    text, n, first);
}

static void
test_alarm_errors(void)
{
	t_error("webhook: https://127.0.0.1/x\n", "1:10: webhook must be");
	t_error("exec: ''\n", "1:7: exec must not be empty");
	t_error("retries: 21\n", "1:10:");
	t_error("timeout: 0s\n", "1:10:");
	t_error("webhok: http://127.0.0.1/x\n", "1:1:");
}

static char *
t_tmpdir(void)
{
	char *d = xstrdup("/tmp/test_dns_alarm.XXXXXX");

	T_ASSERT(mkdtemp(d) != NULL);
	return d;
}

static void
t_rmdir(char *dir, const char *const *files, size_t n)
{
	size_t i;
	char *p;

	for (i = 0; i < n; i++) {
		p = xasprintf("%s/%s", dir, files[i]);
		unlink(p);
		free(p);
	}
	rmdir(dir);
	free(dir);
}

static int
t_listener(uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	T_ASSERT(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	T_ASSERT(listen(fd, 4) == 0);
	T_ASSERT(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Answers 500 to the first request and 204 to the second, which it
 * writes to out. */
static void __attribute__((noreturn)) t_webhook_server(int lfd, const char *out)
{
	char buf[4096];
	ssize_t n;
	FILE *f;

	for (int i = 0; i < 2; i++) {
		int c = accept(lfd, NULL, NULL);
		size_t len = 0;

		if (c == -1)
			_exit(1);
		while (len < sizeof(buf) - 1 &&
		    (n = read(c, buf + len, sizeof(buf) - 1 - len)) > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			if (strstr(buf, "\r\n\r\n") && buf[len - 1] == '}')
				break;
		}
		if (i == 1 && (f = fopen(out, "w")) != NULL) {
			fwrite(buf, 1, len, f);
			fclose(f);
		}
		dprintf(c,
		    i == 0 ? "HTTP/1.1 500 Oops\r\n\r\n" :
		             "HTTP/1.1 204 No Content\r\n\r\n");
		close(c);
	}
	_exit(0);
}

static const struct dns_alarm_event t_switch = {
	.seq = 7,
	.at_ms = 1700000000123,
	.kind = "switch",
	.name = "www.example.com",
	.policy = "eu,us",
	.from = "default",
	.to = "backup",
	.who = "health",
};

static void
t_drain(struct ev_loop *loop, struct dns_alarm *a, uint64_t max_ms)
{
	uint64_t end = util_mono_ms() + max_ms;

	while (dns_alarm_pending(a) > 0 && util_mono_ms() < end)
		ev_run_once(loop, 50);
	T_EQ_INT(dns_alarm_pending(a), 0);
}

static void
test_alarm_exec_env(void)
{
	static const char *const files[] = { "exec.out" };
	char *dir = t_tmpdir();
	struct ev_loop *loop = ev_loop_new();
	struct dns_alarm *a = dns_alarm_new(loop);
	struct hook_alarm_conf c = { .retries = 3, .timeout_ms = 2000 };
	struct buf b;

	/* Only the alarm's keys: the suite runner sets HAVEN_BIN and more. */
	c.exec = xasprintf("env | grep -E '^HAVEN_(ADDRESS|AT_MS|EVENT|FROM|"
	                   "NAME|PLAN|POLICY|POOL|SEQ|TO|WHO)=' | sort "
	                   "> %s/exec.out",
	    dir);
	dns_alarm_send(a, &c, &t_switch);
	/* Nothing configured: nothing queued. */
	dns_alarm_send(a, &(struct hook_alarm_conf){ 0 }, &t_switch);
	dns_alarm_send(a, NULL, &t_switch);
	T_EQ_INT(dns_alarm_pending(a), 1);
	t_drain(loop, a, 5000);
	T_EQ_INT(dns_alarm_stats(a)->ok, 1);
	buf_init(&b);
	T_EQ_INT(statefile_read(dir, "exec.out", &b), 0);
	T_EQ_STR(b.data,
	    "HAVEN_ADDRESS=\n"
	    "HAVEN_AT_MS=1700000000123\n"
	    "HAVEN_EVENT=switch\n"
	    "HAVEN_FROM=default\n"
	    "HAVEN_NAME=www.example.com\n"
	    "HAVEN_PLAN=\n"
	    "HAVEN_POLICY=eu,us\n"
	    "HAVEN_POOL=\n"
	    "HAVEN_SEQ=7\n"
	    "HAVEN_TO=backup\n"
	    "HAVEN_WHO=health\n");
	buf_fini(&b);
	dns_alarm_free(a);
	ev_loop_free(loop);
	free(c.exec);
	t_rmdir(dir, files, ARRAY_SIZE(files));
}

static void
test_alarm_webhook_retried(void)
{
	static const char *const files[] = { "web.out" };
	char *dir = t_tmpdir();
	char *webf = xasprintf("%s/web.out", dir);
	struct ev_loop *loop = ev_loop_new();
	struct dns_alarm *a = dns_alarm_new(loop);
	struct hook_alarm_conf c = { .retries = 3, .timeout_ms = 2000 };
	const struct hook_stats *st;
	struct buf b;
	uint16_t port;
	int lfd = t_listener(&port);
	pid_t srv;

	if ((srv = fork()) == 0)
		t_webhook_server(lfd, webf);
	close(lfd);
	c.webhook = xasprintf("http://127.0.0.1:%u/gslb", port);
	dns_alarm_send(a, &c, &t_switch);
	t_drain(loop, a, 8000);
	st = dns_alarm_stats(a);
	T_EQ_INT(st->ok, 1);
	T_EQ_INT(st->retries, 1);
	T_EQ_INT(st->failed, 0);
	buf_init(&b);
	T_EQ_INT(statefile_read(dir, "web.out", &b), 0);
	T_ASSERT(strstr(b.data, "POST /gslb HTTP/1.1\r\n") == b.data);
	T_ASSERT(
	    strstr(b.data,
	        "{\"seq\":7,\"kind\":\"switch\",\"name\":\"www.example.com\","
	        "\"policy\":\"eu,us\",\"pool\":null,\"address\":null,"
	        "\"plan\":null,\"from\":\"default\",\"to\":\"backup\","
	        "\"who\":\"health\",\"at\":1700000000123}") != NULL);
	buf_fini(&b);
	waitpid(srv, NULL, 0);
	dns_alarm_free(a);
	ev_loop_free(loop);
	free(c.webhook);
	free(webf);
	t_rmdir(dir, files, ARRAY_SIZE(files));
}

static const struct test tests[] = {
	TEST(test_alarm_defaults),
	TEST(test_alarm_errors),
	TEST(test_alarm_exec_env),
	TEST(test_alarm_webhook_retried),
};

TEST_MAIN(tests)
