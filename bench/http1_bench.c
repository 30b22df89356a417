/*
 * http1_bench.c - throughput of http1_parse_request() on a typical
 * ~300-byte browser request, and of the chunked scanner on a 64 KiB body.
 * Not built by default (a benchmark, not a test); run it with
 *
 *   cc -O2 -D_GNU_SOURCE -Isrc bench/http1_bench.c src/lib/http1.c \
 *       -o /tmp/http1_bench && /tmp/http1_bench
 *
 * It prints the median of 7 runs. Compare builds on the same machine in
 * the same session; the absolute figure means little on a noisy box.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/http1.h"

#define BENCH_RUNS  7
#define BENCH_ITERS 2000000

static const char bench_req[] =
    "GET /api/v1/items?page=2&sort=name HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=0123456789abcdef\r\n"
    "\r\n";

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
bench_heads(void)
{
	const struct http1_limits lim = { 8192, HTTP1_MAX_HDRS };
	static struct http1_req r;
	size_t len = sizeof(bench_req) - 1;
	double t0 = bench_now();

	for (long i = 0; i < BENCH_ITERS; i++) {
		if (http1_parse_request(bench_req, len, &lim, &r) !=
		        HTTP1_DONE ||
		    r.m.head_len != len)
			abort();
		__asm__ volatile("" : : "r"(&r) : "memory");
	}
	return bench_now() - t0;
}

static double
bench_chunks(char *body, size_t len, int iters)
{
	struct http1_chunked c;
	double t0 = bench_now();

	for (int i = 0; i < iters; i++) {
		http1_chunked_init(&c);
		if (http1_chunked_feed(&c, body, len, NULL, NULL) !=
		        (long)len ||
		    !c.done)
			abort();
	}
	return bench_now() - t0;
}

int
main(void)
{
	size_t len = sizeof(bench_req) - 1, blen = 0;
	double t[BENCH_RUNS], med;
	static char body[70000];
	int iters = 20000;

	for (int i = 0; i < BENCH_RUNS; i++)
		t[i] = bench_heads();
	qsort(t, BENCH_RUNS, sizeof(t[0]), bench_cmp);
	med = t[BENCH_RUNS / 2];
	printf("request head: %zu bytes, %.0f req/s, %.0f MB/s (median of "
	       "%d)\n",
	    len, BENCH_ITERS / med, BENCH_ITERS * (double)len / med / 1e6,
	    BENCH_RUNS);

	for (int i = 0; i < 16; i++) {
		blen += (size_t)sprintf(body + blen, "1000\r\n");
		memset(body + blen, 'x', 4096);
		blen += 4096;
		blen += (size_t)sprintf(body + blen, "\r\n");
	}
	blen += (size_t)sprintf(body + blen, "0\r\n\r\n");
	for (int i = 0; i < BENCH_RUNS; i++)
		t[i] = bench_chunks(body, blen, iters);
	qsort(t, BENCH_RUNS, sizeof(t[0]), bench_cmp);
	med = t[BENCH_RUNS / 2];
	printf("chunked body: %zu bytes in 4 KiB chunks, %.0f MB/s\n", blen,
	    iters * (double)blen / med / 1e6);
	return 0;
}
