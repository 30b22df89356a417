/* Unit tests for lb_proxyproto.c: PROXY protocol v1/v2 parse and build. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>

#include "lb/lb_proxyproto.h"
#include "lib/util.h"
#include "runner.h"

static struct sockaddr_storage
addr4(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
	return ss;
}

static struct sockaddr_storage
addr6(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	inet_pton(AF_INET6, ip, &sin6->sin6_addr);
	return ss;
}

static int
parse(const char *s, size_t n, struct lb_proxyproto_info *pi)
{
	return lb_proxyproto_parse((const uint8_t *)s, n, pi);
}

static void
test_v1_tcp4(void)
{
	const char *h = "PROXY TCP4 198.18.0.1 198.18.0.2 56324 443\r\nGET";
	struct lb_proxyproto_info pi;
	struct sockaddr_in *s = (struct sockaddr_in *)&pi.src;
	struct sockaddr_in *d = (struct sockaddr_in *)&pi.dst;

	T_EQ_INT(parse(h, strlen(h), &pi), strlen(h) - 3);
	T_EQ_INT(pi.version, 1);
	T_ASSERT(!pi.local);
	T_EQ_INT(s->sin_family, AF_INET);
	T_EQ_INT(ntohs(s->sin_port), 56324);
	T_EQ_INT(ntohs(d->sin_port), 443);
	T_EQ_INT(ntohl(s->sin_addr.s_addr), 0xc6120001);
	T_EQ_INT(ntohl(d->sin_addr.s_addr), 0xc6120002);
}

static void
test_v1_tcp6_and_unknown(void)
{
	const char *h = "PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n";
	const char *u = "PROXY UNKNOWN ffff::1 whatever\r\n";
	struct lb_proxyproto_info pi;

	T_EQ_INT(parse(h, strlen(h), &pi), strlen(h));
	T_EQ_INT(pi.src.ss_family, AF_INET6);
	T_EQ_INT(ntohs(((struct sockaddr_in6 *)&pi.dst)->sin6_port), 65535);
	T_EQ_INT(parse(u, strlen(u), &pi), strlen(u));
	T_ASSERT(pi.local);
}

static void
test_v1_incremental(void)
{
	const char *h = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
	struct lb_proxyproto_info pi;
	size_t i;

	/* Every strict prefix asks for more; the whole header completes. */
	for (i = 0; i < strlen(h); i++)
		T_EQ_INT(parse(h, i, &pi), 0);
	T_EQ_INT(parse(h, strlen(h), &pi), strlen(h));
}

static void
test_v1_rejects(void)
{
	static const char *const bad[] = {
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",       /* bare LF */
		"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",    /* double space */
		"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",    /* leading zero */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", /* port range */
		"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",    /* sign */
		"PROXY TCP4 ::1 5.6.7.8 1 2\r\n",         /* family mismatch */
		"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",     /* protocol */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",       /* missing port */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",   /* extra field */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",      /* CR not CRLF */
		"GET / HTTP/1.1\r\n",                     /* no header */
		"PROXYTCP4",
	};
	struct lb_proxyproto_info pi;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = parse(bad[i], strlen(bad[i]), &pi);

		if (r != -EPROTO)
			test_fail(
			    __FILE__, __LINE__, "accepted [%s]: %d", bad[i], r);
		T_ASSERT(pi.err != LB_PROXYPROTO_E_NONE);
	}
}

static void
test_v1_too_long(void)
{
	char h[200];
	struct lb_proxyproto_info pi;

	memset(h, 'x', sizeof(h));
	memcpy(h, "PROXY TCP4 ", 11);
	T_EQ_INT(parse(h, 105, &pi), 0);
	T_EQ_INT(parse(h, sizeof(h), &pi), -EPROTO);
	T_EQ_INT(pi.err, LB_PROXYPROTO_E_V1_TOO_LONG);
}

static void
test_v2_roundtrip(void)
{
	struct sockaddr_storage s = addr4("198.18.0.7", 40000);
	struct sockaddr_storage d = addr4("198.18.0.8", 80);
	struct sockaddr_storage s6 = addr6("2001:db8::7", 1234);
	struct sockaddr_storage d6 = addr6("2001:db8::8", 443);
	uint8_t out[LB_PROXYPROTO_BUILD_MAX + 4];
	struct lb_proxyproto_info pi;
	size_t n;

	n = lb_proxyproto_build_v2(out, &s, &d);
	T_EQ_INT(n, 28);
	out[n] = 'G';
	T_EQ_INT(lb_proxyproto_parse(out, n + 1, &pi), n);
	T_EQ_INT(pi.version, 2);
	T_ASSERT(memcmp(&pi.src, &s, sizeof(struct sockaddr_in)) == 0);
	T_ASSERT(memcmp(&pi.dst, &d, sizeof(struct sockaddr_in)) == 0);
	T_EQ_INT(lb_proxyproto_parse(out, n - 1, &pi), 0);

	n = lb_proxyproto_build_v2(out, &s6, &d6);
	T_EQ_INT(n, 52);
	T_EQ_INT(lb_proxyproto_parse(out, n, &pi), n);
	T_ASSERT(memcmp(&pi.src, &s6, sizeof(struct sockaddr_in6)) == 0);

	/* Mixed families: LOCAL, connection keeps its own addresses. */
	n = lb_proxyproto_build_v2(out, &s, &d6);
	T_EQ_INT(n, 16);
	T_EQ_INT(lb_proxyproto_parse(out, n, &pi), 16);
	T_ASSERT(pi.local);
}

static void
test_v2_rejects(void)
{
	uint8_t h[32];
	struct lb_proxyproto_info pi;
	struct sockaddr_storage s = addr4("1.2.3.4", 1);

	lb_proxyproto_build_v2(h, &s, &s);
	h[12] = 0x11; /* version 1 in the binary form */
	T_EQ_INT(lb_proxyproto_parse(h, 28, &pi), -EPROTO);
	T_EQ_INT(pi.err, LB_PROXYPROTO_E_V2_VERSION);
	h[12] = 0x2f; /* unknown command */
	T_EQ_INT(lb_proxyproto_parse(h, 28, &pi), -EPROTO);
	T_EQ_INT(pi.err, LB_PROXYPROTO_E_V2_COMMAND);
	h[12] = 0x21;
	h[15] = 4; /* INET needs 12 bytes of addresses */
	T_EQ_INT(lb_proxyproto_parse(h, 20, &pi), -EPROTO);
	T_EQ_INT(pi.err, LB_PROXYPROTO_E_V2_FAMILY);
	h[2] = 'X'; /* broken signature */
	T_EQ_INT(lb_proxyproto_parse(h, 28, &pi), -EPROTO);
	T_EQ_INT(pi.err, LB_PROXYPROTO_E_SIGNATURE);
}

static void
test_v1_build(void)
{
	struct sockaddr_storage s = addr4("198.18.0.1", 5000);
	struct sockaddr_storage d = addr4("198.18.0.2", 80);
	struct sockaddr_storage s6 = addr6("::1", 1);
	char out[LB_PROXYPROTO_BUILD_MAX];
	struct lb_proxyproto_info pi;
	size_t n;

	n = lb_proxyproto_build_v1(out, &s, &d);
	out[n] = '\0';
	T_EQ_STR(out, "PROXY TCP4 198.18.0.1 198.18.0.2 5000 80\r\n");
	T_EQ_INT(parse(out, n, &pi), n);
	n = lb_proxyproto_build_v1(out, &s, &s6);
	out[n] = '\0';
	T_EQ_STR(out, "PROXY UNKNOWN\r\n");
}

static const struct test tests[] = {
	TEST(test_v1_tcp4),
	TEST(test_v1_tcp6_and_unknown),
	TEST(test_v1_incremental),
	TEST(test_v1_rejects),
	TEST(test_v1_too_long),
	TEST(test_v2_roundtrip),
	TEST(test_v2_rejects),
	TEST(test_v1_build),
};

TEST_MAIN(tests)
