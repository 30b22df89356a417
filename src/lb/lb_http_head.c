/*
 * lb_http_head.c - rewriting HTTP/1.x heads between client and server: the
 * request head for the server (hop-by-hop headers dropped, X-Forwarded-For
 * and X-Forwarded-Proto set) and the response head for the client.
 *
 * Heads are parsed by http1.h in place; the lines that survive are copied
 * into hb in runs (one memcpy per run of kept lines), so a head is copied
 * exactly once. A head that does not fit into LB_BUF_SIZE is reported to
 * the caller (431 or 502), never truncated.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>
#include <strings.h>

#include "lb/lb_worker.h"
#include "lib/util.h"

#define LB_HTTP_CONN_TOKENS 8

static bool
lb_http_name_is(const struct http1_header *h, const char *name, size_t len)
{
	return h->name_len == len && strncasecmp(h->name, name, len) == 0;
}

#define LB_HTTP_IS(h, lit) lb_http_name_is(h, lit, sizeof(lit) - 1)

/* Hop-by-hop headers (RFC 9110 §7.6.1) and the ones we set ourselves. */
static bool
lb_http_hop(const struct http1_header *h, bool upgrade)
{
	return LB_HTTP_IS(h, "connection") || LB_HTTP_IS(h, "keep-alive") ||
	    LB_HTTP_IS(h, "proxy-connection") || LB_HTTP_IS(h, "te") ||
	    LB_HTTP_IS(h, "trailer") || (!upgrade && LB_HTTP_IS(h, "upgrade"));
}

/* Framing headers are never dropped, whatever Connection lists. */
static bool
lb_http_framing(const struct http1_header *h)
{
	return LB_HTTP_IS(h, "content-length") ||
	    LB_HTTP_IS(h, "transfer-encoding") || LB_HTTP_IS(h, "host");
}

struct lb_http_tokens {
	const char *p[LB_HTTP_CONN_TOKENS]; /* borrowed: into the head */
	size_t len[LB_HTTP_CONN_TOKENS];
	size_t n;
};

/* Header names listed in Connection: they are hop-by-hop too. */
static void
lb_http_conn_tokens(const struct http1_msg *m, struct lb_http_tokens *t)
{
	size_t i, j, start;

	t->n = 0;
	for (i = 0; i < m->nhdr; i++) {
		const struct http1_header *h = &m->hdr[i];

		if (!LB_HTTP_IS(h, "connection"))
			continue;
		for (j = 0; j <= h->value_len; j++) {
			if (j < h->value_len && h->value[j] != ',')
				continue;
			start = j;
			while (start > 0 && h->value[start - 1] != ',')
				start--;
			while (start < j &&
			    (h->value[start] == ' ' || h->value[start] == '\t'))
				start++;
			size_t end = j;
			while (end > start &&
			    (h->value[end - 1] == ' ' ||
			        h->value[end - 1] == '\t'))
				end--;
			if (end > start && t->n < LB_HTTP_CONN_TOKENS) {
				t->p[t->n] = h->value + start;
				t->len[t->n++] = end - start;
			}
		}
	}
}

static bool
lb_http_listed(const struct http1_header *h, const struct lb_http_tokens *t)
{
	size_t i;

	if (lb_http_framing(h))
		return false;
	for (i = 0; i < t->n; i++)
		if (lb_http_name_is(h, t->p[i], t->len[i]))
			return true;
	return false;
}

/* End (past LF) of the header line that holds h. */
static const char *
lb_http_line_end(const struct http1_header *h)
{
	const char *p = h->value + h->value_len;

	while (*p != '\n')
		p++;
	return p + 1;
}

bool
lb_http_put(struct lb_iobuf *b, const void *p, size_t n)
{
	if (n > LB_BUF_SIZE - b->len)
		return false;
	memcpy(b->data + b->len, p, n);
	b->len += (uint32_t)n;
	return true;
}

#define LB_HTTP_PUTS(b, lit) lb_http_put(b, lit, sizeof(lit) - 1)

/*
 * Copy the head lines of m that survive into out, coalescing runs of kept
 * lines into one memcpy each. drop_xff: X-Forwarded-* are replaced by ours.
 */
static bool
lb_http_copy_lines(struct lb_iobuf *out, const char *base,
    const struct http1_msg *m, bool upgrade, bool drop_xf,
    const struct http1_header **xff)
{
	struct lb_http_tokens tok;
	const char *run, *end;
	size_t i;
	bool ok = true;

	lb_http_conn_tokens(m, &tok);
	run = base;
	end = m->nhdr > 0 ? m->hdr[0].name : base + m->head_len - 2;
	for (i = 0; i < m->nhdr; i++) {
		const struct http1_header *h = &m->hdr[i];
		bool drop = lb_http_hop(h, upgrade) ||
		    (lb_http_listed(h, &tok) &&
		        !(upgrade && LB_HTTP_IS(h, "upgrade")));

		if (drop_xf && LB_HTTP_IS(h, "x-forwarded-for")) {
			if (*xff == NULL)
				*xff = h;
			drop = true;
		} else if (drop_xf && LB_HTTP_IS(h, "x-forwarded-proto")) {
			drop = true;
		}
		if (drop) {
			ok = ok &&
			    lb_http_put(out, run, (size_t)(h->name - run));
			run = lb_http_line_end(h);
		}
		end = lb_http_line_end(h);
	}
	return ok && lb_http_put(out, run, (size_t)(end - run));
}

/*
 * Dotted quad by hand: glibc's inet_ntop formats IPv4 with sprintf, which
 * showed up in per-request profiles. out holds at least 16 bytes.
 */
static const char *
lb_http_addr4(const struct in_addr *in, char *out)
{
	const unsigned char *b = (const unsigned char *)&in->s_addr;
	char *p = out;
	int i;

	for (i = 0; i < 4; i++) {
		if (b[i] >= 100)
			*p++ = (char)('0' + b[i] / 100);
		if (b[i] >= 10)
			*p++ = (char)('0' + b[i] / 10 % 10);
		*p++ = (char)('0' + b[i] % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	return out;
}

static const char *
lb_http_addr(const struct sockaddr_storage *ss, char *out, size_t len)
{
	const void *a = ss->ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		return "unknown";
	if (ss->ss_family == AF_INET && len >= INET_ADDRSTRLEN)
		return lb_http_addr4(a, out);
	return inet_ntop(ss->ss_family, a, out, (socklen_t)len) ? out :
	                                                          "unknown";
}

static bool
lb_http_forwarded(struct lb_conn *c, const struct http1_header *xff)
{
	char ip[INET6_ADDRSTRLEN];
	const char *a = lb_http_addr(&c->peer, ip, sizeof(ip));
	bool ok = LB_HTTP_PUTS(&c->hb, "X-Forwarded-For: ");

	if (xff != NULL) {
		/* Only the first one is kept: RFC 7239 lists merge here. */
		ok = ok && lb_http_put(&c->hb, xff->value, xff->value_len) &&
		    LB_HTTP_PUTS(&c->hb, ", ");
	}
	ok = ok && lb_http_put(&c->hb, a, strlen(a)) &&
	    LB_HTTP_PUTS(&c->hb, "\r\nX-Forwarded-Proto: ");
	ok = ok &&
	    (c->ssl != NULL ? LB_HTTP_PUTS(&c->hb, "https\r\n") :
	                      LB_HTTP_PUTS(&c->hb, "http\r\n"));
	return ok;
}

void
lb_http_build_head(
    struct lb_conn *c, const struct http1_req *req, const char *base)
{
	const struct http1_header *xff = NULL;
	bool xf = c->l->conf.forwarded_headers, ok;

	lb_iobuf_get(&c->w->bufs, &c->hb);
	c->hb.off = c->hb.len = 0;
	ok =
	    lb_http_copy_lines(&c->hb, base, &req->m, req->m.upgrade, xf, &xff);
	if (ok && xf)
		ok = lb_http_forwarded(c, xff);
	if (ok && req->m.upgrade)
		ok = LB_HTTP_PUTS(&c->hb, "Connection: upgrade\r\n");
	else if (ok && req->m.minor == 0)
		/* Keep the server connection poolable behind a 1.0 client. */
		ok = LB_HTTP_PUTS(&c->hb, "Connection: keep-alive\r\n");
	ok = ok && LB_HTTP_PUTS(&c->hb, "\r\n");
	c->r.req_head_len = ok ? c->hb.len : 0;
	c->r.req_head_sent = 0;
}

/* Rewrite the final response head into hb for the client. */
bool
lb_http_resp_head(
    struct lb_conn *c, const struct http1_resp *resp, const char *base)
{
	struct lb_req *r = &c->r;
	const struct http1_header *unused = NULL;
	bool ok;

	c->hb.off = c->hb.len = 0;
	ok = lb_http_copy_lines(
	    &c->hb, base, &resp->m, resp->status == 101, false, &unused);
	if (resp->status == 101)
		ok = ok && LB_HTTP_PUTS(&c->hb, "Connection: upgrade\r\n");
	else if (!r->keep_alive)
		ok = ok && LB_HTTP_PUTS(&c->hb, "Connection: close\r\n");
	else if (r->minor == 0)
		ok = ok && LB_HTTP_PUTS(&c->hb, "Connection: keep-alive\r\n");
	ok = ok && LB_HTTP_PUTS(&c->hb, "\r\n");
	r->hb_client = true;
	return ok;
}
