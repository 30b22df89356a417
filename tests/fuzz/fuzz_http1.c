/*
 * fuzz_http1.c - libFuzzer target for http1.c. The first byte picks the
 * mode (request head, response head, chunked body, request head followed by
 * its chunked body) and the limits; the rest is the message. Beyond "no
 * crash", it checks the contract callers rely on: head_len within the
 * input, every header pointer inside the buffer, incremental feeding (one
 * byte more per call) ending in the one-shot answer, and the chunked scanner
 * consuming and decoding the same bytes however the input is split.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static bool
fuzz_http1_inside(const char *b, size_t len, const char *p, size_t n)
{
	return p >= b && n <= len && (size_t)(p - b) <= len - n;
}

static void
fuzz_http1_msg(const char *b, size_t len, const struct http1_msg *m)
{
	FUZZ_CHECK(m->head_len > 0 && m->head_len <= len);
	FUZZ_CHECK(m->nhdr <= HTTP1_MAX_HDRS);
	FUZZ_CHECK(m->minor == 0 || m->minor == 1);
	FUZZ_CHECK(!(m->chunked && m->content_length >= 0));
	for (size_t i = 0; i < m->nhdr; i++) {
		const struct http1_header *h = &m->hdr[i];

		FUZZ_CHECK(h->name_len > 0);
		FUZZ_CHECK(
		    fuzz_http1_inside(b, m->head_len, h->name, h->name_len));
		FUZZ_CHECK(
		    fuzz_http1_inside(b, m->head_len, h->value, h->value_len));
		FUZZ_CHECK(memchr(h->value, '\r', h->value_len) == NULL);
		FUZZ_CHECK(memchr(h->value, '\n', h->value_len) == NULL);
		FUZZ_CHECK(memchr(h->value, '\0', h->value_len) == NULL);
	}
}

static int
fuzz_http1_parse(bool req, const char *b, size_t len,
    const struct http1_limits *lim, struct http1_req *rq, struct http1_resp *rs)
{
	int rc;

	if (req) {
		rc = http1_parse_request(b, len, lim, rq);
		if (rc == HTTP1_DONE) {
			fuzz_http1_msg(b, len, &rq->m);
			FUZZ_CHECK(fuzz_http1_inside(
			    b, len, rq->target, rq->target_len));
			FUZZ_CHECK(rq->host == NULL ||
			    fuzz_http1_inside(b, len, rq->host, rq->host_len));
		}
		return rc;
	}
	rc = http1_parse_response(b, len, lim, rs);
	if (rc == HTTP1_DONE) {
		fuzz_http1_msg(b, len, &rs->m);
		FUZZ_CHECK(rs->status >= 100 && rs->status <= 599);
		FUZZ_CHECK(
		    fuzz_http1_inside(b, len, rs->reason, rs->reason_len));
	}
	return rc;
}

/* One-shot, then prefix by prefix into exact-size copies. */
static void
fuzz_http1_head(
    bool req, const char *b, size_t len, const struct http1_limits *lim)
{
	static struct http1_req r1, r2;
	static struct http1_resp s1, s2;
	const struct http1_msg *m1 = req ? &r1.m : &s1.m;
	const struct http1_msg *m2 = req ? &r2.m : &s2.m;
	int rc1, rc2 = HTTP1_AGAIN;

	rc1 = fuzz_http1_parse(req, b, len, lim, &r1, &s1);
	FUZZ_CHECK(
	    rc1 == HTTP1_DONE || rc1 == HTTP1_AGAIN || rc1 == HTTP1_ERROR);
	FUZZ_CHECK((rc1 == HTTP1_ERROR) == (m1->err != HTTP1_E_NONE));
	for (size_t n = 0; n <= len && rc2 == HTTP1_AGAIN; n++) {
		char *p = malloc(n > 0 ? n : 1);

		FUZZ_CHECK(p != NULL);
		memcpy(p, b, n);
		rc2 = fuzz_http1_parse(req, p, n, lim, &r2, &s2);
		free(p);
	}
	FUZZ_CHECK(rc1 == rc2 && m1->err == m2->err);
	FUZZ_CHECK(m1->head_len == m2->head_len && m1->nhdr == m2->nhdr);
	FUZZ_CHECK(m1->content_length == m2->content_length);
	FUZZ_CHECK(m1->chunked == m2->chunked);
}

/* Returns bytes consumed, or -1; decoded bytes summed into *sum. */
static long
fuzz_http1_chunks(const char *b, size_t len, size_t step, uint64_t *sum,
    size_t *ndata, struct http1_chunked *c)
{
	size_t off = 0;

	http1_chunked_init(c);
	*sum = 0;
	*ndata = 0;
	while (off < len && !c->done) {
		size_t lim = len - off < step ? len - off : step, doff, dlen;
		long n = http1_chunked_feed(c, b + off, lim, &doff, &dlen);

		if (n < 0)
			return -1;
		FUZZ_CHECK((size_t)n <= lim && doff + dlen <= (size_t)n);
		FUZZ_CHECK(n > 0 || c->done);
		for (size_t i = 0; i < dlen; i++)
			*sum = *sum * 31 + (uint8_t)b[off + doff + i];
		*ndata += dlen;
		off += (size_t)n;
	}
	return (long)off;
}

static void
fuzz_http1_chunked(const char *b, size_t len)
{
	struct http1_chunked c1, c2, c3;
	uint64_t s1, s2;
	size_t d1, d2;
	long n1, n2, n3;

	n1 = fuzz_http1_chunks(b, len, len > 0 ? len : 1, &s1, &d1, &c1);
	n2 = fuzz_http1_chunks(b, len, 1, &s2, &d2, &c2);
	FUZZ_CHECK(n1 == n2 && c1.done == c2.done && c1.err == c2.err);
	if (n1 >= 0)
		FUZZ_CHECK(s1 == s2 && d1 == d2 && (size_t)n1 <= len);
	/* without data reporting it consumes everything up to the end */
	http1_chunked_init(&c3);
	n3 = http1_chunked_feed(&c3, b, len, NULL, NULL);
	FUZZ_CHECK(n3 == n1 && c3.done == c1.done);
	if (n3 >= 0 && !c3.done)
		FUZZ_CHECK((size_t)n3 == len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http1_limits lim;
	const char *b = (const char *)data + 1;
	static struct http1_req r;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	/* small limits now and then, so the 431 paths are reached too */
	lim.max_head = data[0] & 0x10 ? 64 + (data[0] & 0x0f) * 16 : 4096;
	lim.max_headers = data[0] & 0x20 ? 4 : HTTP1_MAX_HDRS;
	switch (data[0] % 4) {
	case 0:
		fuzz_http1_head(true, b, len, &lim);
		break;
	case 1:
		fuzz_http1_head(false, b, len, &lim);
		break;
	case 2:
		fuzz_http1_chunked(b, len);
		break;
	default:
		if (http1_parse_request(b, len, &lim, &r) == HTTP1_DONE &&
		    r.m.chunked)
			fuzz_http1_chunked(
			    b + r.m.head_len, len - r.m.head_len);
		break;
	}
	return 0;
}
