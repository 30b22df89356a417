/*
 * lb_proxyproto.c - PROXY protocol v1/v2 parser and builders. Pure: see
 * lb_proxyproto.h. The v1 grammar is taken strictly (single spaces, decimal
 * ports without sign, addresses inet_pton accepts, CRLF) because a lenient
 * parser in front of a logging or ACL decision lets a client forge its
 * address. v2 TLVs are skipped: nothing in haven consumes them yet.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lb/lb_proxyproto.h"
#include "lib/util.h"

#define LB_PROXYPROTO_V2_VER      0x20
#define LB_PROXYPROTO_V2_LOCAL    0x0
#define LB_PROXYPROTO_V2_PROXY    0x1
#define LB_PROXYPROTO_AF_UNSPEC   0x0
#define LB_PROXYPROTO_AF_INET     0x1
#define LB_PROXYPROTO_AF_INET6    0x2
#define LB_PROXYPROTO_AF_UNIX     0x3
#define LB_PROXYPROTO_V2_ADDR4    12
#define LB_PROXYPROTO_V2_ADDR6    36
#define LB_PROXYPROTO_V2_ADDRUNIX 216

static int
lb_proxyproto_fail(struct lb_proxyproto_info *info, enum lb_proxyproto_err e)
{
	info->err = e;
	return -EPROTO;
}

/* Next space-terminated token in [*p, end); advances *p past the space. */
static int
lb_proxyproto_token(
    const char **p, const char *end, char *out, size_t cap, char stop)
{
	const char *s = *p;
	size_t n = 0;

	while (s + n < end && s[n] != stop) {
		if (s[n] == ' ' || n + 1 >= cap)
			return -1;
		out[n] = s[n];
		n++;
	}
	if (n == 0 || s + n >= end)
		return -1;
	out[n] = '\0';
	*p = s + n + 1;
	return 0;
}

static int
lb_proxyproto_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
lb_proxyproto_v1_addr(
    int af, const char *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return inet_pton(AF_INET, a, &sin->sin_addr) == 1 ? 0 : -1;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1 ? 0 : -1;
	}
}

/* "TCP4 a b p q" between "PROXY " and CRLF. */
static int
lb_proxyproto_v1_body(
    const char *p, const char *end, struct lb_proxyproto_info *info)
{
	char proto[8], src[48], dst[48], sport[8], dport[8];
	uint16_t sp, dp;
	int af;

	if (end - p >= 7 && memcmp(p, "UNKNOWN", 7) == 0) {
		/* The rest of an UNKNOWN line is ignored by spec. */
		info->local = true;
		return 0;
	}
	if (lb_proxyproto_token(&p, end, proto, sizeof(proto), ' ') == -1 ||
	    lb_proxyproto_token(&p, end, src, sizeof(src), ' ') == -1 ||
	    lb_proxyproto_token(&p, end, dst, sizeof(dst), ' ') == -1 ||
	    lb_proxyproto_token(&p, end, sport, sizeof(sport), ' ') == -1)
		return -1;
	/* The last token ends at the CR, which end points at. */
	if (lb_proxyproto_token(&p, end + 1, dport, sizeof(dport), '\r') == -1)
		return -1;
	if (strcmp(proto, "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(proto, "TCP6") == 0)
		af = AF_INET6;
	else
		return -1;
	if (lb_proxyproto_port(sport, &sp) == -1 ||
	    lb_proxyproto_port(dport, &dp) == -1 ||
	    lb_proxyproto_v1_addr(af, src, sp, &info->src) == -1 ||
	    lb_proxyproto_v1_addr(af, dst, dp, &info->dst) == -1)
		return -1;
	return 0;
}

static int
lb_proxyproto_v1(
    const uint8_t *buf, size_t len, struct lb_proxyproto_info *info)
{
	const char *s = (const char *)buf;
	/* The CR must leave room for LF within the 107-byte maximum. */
	size_t i, lim = MIN(len, (size_t)LB_PROXYPROTO_V1_MAX - 1);

	for (i = 0; i < lim; i++) {
		if (s[i] == '\n')
			return lb_proxyproto_fail(
			    info, LB_PROXYPROTO_E_V1_SYNTAX);
		if (s[i] == '\r')
			break;
	}
	if (i == lim) {
		if (len >= LB_PROXYPROTO_V1_MAX - 1)
			return lb_proxyproto_fail(
			    info, LB_PROXYPROTO_E_V1_TOO_LONG);
		return 0;
	}
	if (i + 1 >= len)
		return 0;
	if (s[i + 1] != '\n')
		return lb_proxyproto_fail(info, LB_PROXYPROTO_E_V1_SYNTAX);
	info->version = 1;
	if (lb_proxyproto_v1_body(s + 6, s + i, info) == -1)
		return lb_proxyproto_fail(info, LB_PROXYPROTO_E_V1_SYNTAX);
	return (int)(i + 2);
}

static void
lb_proxyproto_v2_addrs(
    const uint8_t *a, int af, struct lb_proxyproto_info *info)
{
	memset(&info->src, 0, sizeof(info->src));
	memset(&info->dst, 0, sizeof(info->dst));
	if (af == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&info->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&info->dst;

		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&d->sin_addr, a + 4, 4);
		memcpy(&s->sin_port, a + 8, 2);
		memcpy(&d->sin_port, a + 10, 2);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&info->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&info->dst;

		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		memcpy(&d->sin6_addr, a + 16, 16);
		memcpy(&s->sin6_port, a + 32, 2);
		memcpy(&d->sin6_port, a + 34, 2);
	}
}

static int
lb_proxyproto_v2(
    const uint8_t *buf, size_t len, struct lb_proxyproto_info *info)
{
	size_t body, need;
	unsigned fam;

	if (len < LB_PROXYPROTO_V2_HDR)
		return 0;
	if ((buf[12] & 0xf0) != LB_PROXYPROTO_V2_VER)
		return lb_proxyproto_fail(info, LB_PROXYPROTO_E_V2_VERSION);
	body = (size_t)buf[14] << 8 | buf[15];
	if (len < LB_PROXYPROTO_V2_HDR + body)
		return 0;
	info->version = 2;
	fam = buf[13] >> 4;
	switch (buf[12] & 0x0f) {
	case LB_PROXYPROTO_V2_LOCAL:
		info->local = true;
		return (int)(LB_PROXYPROTO_V2_HDR + body);
	case LB_PROXYPROTO_V2_PROXY:
		break;
	default:
		return lb_proxyproto_fail(info, LB_PROXYPROTO_E_V2_COMMAND);
	}
	need = fam == LB_PROXYPROTO_AF_INET ? LB_PROXYPROTO_V2_ADDR4 :
	    fam == LB_PROXYPROTO_AF_INET6   ? LB_PROXYPROTO_V2_ADDR6 :
	    fam == LB_PROXYPROTO_AF_UNIX    ? LB_PROXYPROTO_V2_ADDRUNIX :
	                                      0;
	if (fam > LB_PROXYPROTO_AF_UNIX || body < need)
		return lb_proxyproto_fail(info, LB_PROXYPROTO_E_V2_FAMILY);
	if (fam == LB_PROXYPROTO_AF_INET || fam == LB_PROXYPROTO_AF_INET6)
		lb_proxyproto_v2_addrs(buf + LB_PROXYPROTO_V2_HDR,
		    fam == LB_PROXYPROTO_AF_INET ? AF_INET : AF_INET6, info);
	else
		info->local = true;
	return (int)(LB_PROXYPROTO_V2_HDR + body);
}

int
lb_proxyproto_parse(
    const uint8_t *buf, size_t len, struct lb_proxyproto_info *info)
{
	size_t n;

	memset(info, 0, sizeof(*info));
	if (len == 0)
		return 0;
	if (buf[0] == '\r') {
		n = MIN(len, (size_t)LB_PROXYPROTO_SIG_LEN);
		if (memcmp(buf, LB_PROXYPROTO_V2_SIG, n) != 0)
			return lb_proxyproto_fail(
			    info, LB_PROXYPROTO_E_SIGNATURE);
		return lb_proxyproto_v2(buf, len, info);
	}
	n = MIN(len, (size_t)6);
	if (memcmp(buf, "PROXY ", n) != 0)
		return lb_proxyproto_fail(info, LB_PROXYPROTO_E_SIGNATURE);
	if (len < 6)
		return 0;
	return lb_proxyproto_v1(buf, len, info);
}

static bool
lb_proxyproto_same_inet(
    const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return a->ss_family == b->ss_family &&
	    (a->ss_family == AF_INET || a->ss_family == AF_INET6);
}

size_t
lb_proxyproto_build_v1(char *out, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst)
{
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	unsigned sp, dp;
	int n;

	if (!lb_proxyproto_same_inet(src, dst)) {
		memcpy(out, "PROXY UNKNOWN\r\n", 15);
		return 15;
	}
	if (src->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)src;
		const struct sockaddr_in *d = (const void *)dst;

		inet_ntop(AF_INET, &s->sin_addr, sa, sizeof(sa));
		inet_ntop(AF_INET, &d->sin_addr, da, sizeof(da));
		sp = ntohs(s->sin_port);
		dp = ntohs(d->sin_port);
	} else {
		const struct sockaddr_in6 *s = (const void *)src;
		const struct sockaddr_in6 *d = (const void *)dst;

		inet_ntop(AF_INET6, &s->sin6_addr, sa, sizeof(sa));
		inet_ntop(AF_INET6, &d->sin6_addr, da, sizeof(da));
		sp = ntohs(s->sin6_port);
		dp = ntohs(d->sin6_port);
	}
	n = snprintf(out, LB_PROXYPROTO_BUILD_MAX, "PROXY %s %s %s %u %u\r\n",
	    src->ss_family == AF_INET ? "TCP4" : "TCP6", sa, da, sp, dp);
	return (size_t)n;
}

size_t
lb_proxyproto_build_v2(uint8_t *out, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst)
{
	size_t body = 0;

	memcpy(out, LB_PROXYPROTO_V2_SIG, LB_PROXYPROTO_SIG_LEN);
	if (!lb_proxyproto_same_inet(src, dst)) {
		out[12] = LB_PROXYPROTO_V2_VER | LB_PROXYPROTO_V2_LOCAL;
		out[13] = LB_PROXYPROTO_AF_UNSPEC << 4;
	} else if (src->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)src;
		const struct sockaddr_in *d = (const void *)dst;
		uint8_t *a = out + LB_PROXYPROTO_V2_HDR;

		out[12] = LB_PROXYPROTO_V2_VER | LB_PROXYPROTO_V2_PROXY;
		out[13] = LB_PROXYPROTO_AF_INET << 4 | 0x1; /* STREAM */
		memcpy(a, &s->sin_addr, 4);
		memcpy(a + 4, &d->sin_addr, 4);
		memcpy(a + 8, &s->sin_port, 2);
		memcpy(a + 10, &d->sin_port, 2);
		body = LB_PROXYPROTO_V2_ADDR4;
	} else {
		const struct sockaddr_in6 *s = (const void *)src;
		const struct sockaddr_in6 *d = (const void *)dst;
		uint8_t *a = out + LB_PROXYPROTO_V2_HDR;

		out[12] = LB_PROXYPROTO_V2_VER | LB_PROXYPROTO_V2_PROXY;
		out[13] = LB_PROXYPROTO_AF_INET6 << 4 | 0x1;
		memcpy(a, &s->sin6_addr, 16);
		memcpy(a + 16, &d->sin6_addr, 16);
		memcpy(a + 32, &s->sin6_port, 2);
		memcpy(a + 34, &d->sin6_port, 2);
		body = LB_PROXYPROTO_V2_ADDR6;
	}
	out[14] = (uint8_t)(body >> 8);
	out[15] = (uint8_t)body;
	return LB_PROXYPROTO_V2_HDR + body;
}

const char *
lb_proxyproto_err_name(enum lb_proxyproto_err e)
{
	static const char *const names[] = {
		[LB_PROXYPROTO_E_NONE] = "none",
		[LB_PROXYPROTO_E_SIGNATURE] = "signature",
		[LB_PROXYPROTO_E_V1_SYNTAX] = "v1_syntax",
		[LB_PROXYPROTO_E_V1_TOO_LONG] = "v1_too_long",
		[LB_PROXYPROTO_E_V2_VERSION] = "v2_version",
		[LB_PROXYPROTO_E_V2_COMMAND] = "v2_command",
		[LB_PROXYPROTO_E_V2_FAMILY] = "v2_family",
	};

	return (unsigned)e < ARRAY_SIZE(names) ? names[e] : "unknown";
}
