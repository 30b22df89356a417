/*
 * fuzz_dns_tcp.c - libFuzzer target for the DNS TCP server (dns_tcp.c):
 * the input is the byte stream a client sends on one connection, then it
 * closes its side. The server end of a socketpair is handed to
 * dns_tcp_open with a fixed zone; the loop (simulated clock) runs until
 * the server closes the connection, advancing past the idle timeout when
 * nothing moves.
 *
 * Checks beyond "no crash": the server always ends the connection
 * (reading stops, timers fire); what it sends is a sequence of complete
 * length-prefixed messages, each at least a header, each with QR set, as
 * many as there were complete queries of at least a header before the
 * first shorter frame (which closes the connection) or fewer (a query
 * the parser drops gets nothing); and the IDs come back in query order.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns_srv.h"
#include "dns/dns_zone.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

#define FUZZ_IN_MAX (256u << 10)

static const char fuzz_zone[] = "$TTL 300\n"
                                "@ SOA ns1 hm 1 3600 600 86400 60\n"
                                "@ NS ns1\n"
                                "ns1 A 198.18.0.53\n"
                                "www A 198.18.0.1\n"
                                "*.w A 198.18.0.9\n"
                                "big TXT \"" /* a 1 KB answer */
                                "0123456789012345678901234567890123456789"
                                "0123456789012345678901234567890123456789"
                                "0123456789012345678901234567890123456789"
                                "0123456789012345678901234567890123456789"
                                "01234567890123456789012345678901234567\"\n"
                                "big TXT \"b\"\nbig TXT \"c\"\nbig TXT \"d\"\n";

static struct dns_conf fuzz_conf;
/* The server every input is fed to, made by the first: libFuzzer's entry
 * point carries no context. Lives until the process exits. */
static struct dns_srv *fuzz_srv; /* owned */

static int
fuzz_rr(const struct dns_zone_rr *rr, void *arg)
{
	return dns_db_add_rr(
	    arg, 0, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen);
}

static void
fuzz_init(void)
{
	static const uint8_t apex[] = "\7example\3com";
	struct dns_srv *s = xcalloc(1, sizeof(*s));
	struct dns_zone_conf zc = { 0 };
	struct dns_db *db = dns_db_new();

	FUZZ_CHECK(dns_db_zone_begin(db, apex) == 0);
	zc.origin = apex;
	zc.checks = DNS_ZONE_CHECK_ALL;
	zc.rr = fuzz_rr;
	zc.arg = db;
	FUZZ_CHECK(dns_zone_parse(
	               &zc, "fuzz", fuzz_zone, strlen(fuzz_zone), NULL) == 0);
	FUZZ_CHECK(dns_db_finish(db, NULL, NULL) == 0);
	s->loop = ev_loop_new_sim(0);
	s->scratch = xmalloc(2 + DNS_MSG_MAX);
	s->zones = xcalloc(1, sizeof(*s->zones));
	s->zones->db = db;
	s->zones->refs = 1;
	fuzz_conf.tcp.idle_timeout_ms = 10000;
	fuzz_conf.tcp.max_connections = 4;
	s->conf = &fuzz_conf;
	s->opts.udp_max = 1232;
	fuzz_srv = s;
}

/* Read what the server sent into out; false at end of stream. */
static bool
fuzz_drain(int fd, uint8_t **out, size_t *len, size_t *cap)
{
	for (;;) {
		ssize_t n;

		if (*len + 65536 > *cap) {
			*cap = *len + 65536;
			*out = xrealloc(*out, *cap);
		}
		n = recv(fd, *out + *len, 65536, MSG_DONTWAIT);
		if (n > 0) {
			*len += (size_t)n;
			continue;
		}
		if (n == 0)
			return false;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		return errno == EINTR;
	}
}

/* The IDs of the complete frames of at least a header, up to the first
 * shorter one; their count. */
static size_t
fuzz_queries(const uint8_t *d, size_t n, uint16_t *ids, size_t max)
{
	size_t off = 0, k = 0;

	while (n - off >= 2 && k < max) {
		size_t l = (size_t)d[off] << 8 | d[off + 1];

		if (l < DNS_HDR_LEN || n - off - 2 < l)
			break;
		ids[k++] = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
		off += 2 + l;
	}
	return k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint16_t qids[FUZZ_IN_MAX / 14 + 1];
	struct dns_srv *s;
	struct sockaddr_storage ss = { .ss_family = AF_INET };
	uint8_t *out = NULL;
	size_t len = 0, cap = 0, sent = 0, nq, na = 0, off = 0;
	bool open = true;
	int sv[2];

	if (size > FUZZ_IN_MAX)
		return 0;
	if (fuzz_srv == NULL)
		fuzz_init();
	s = fuzz_srv;
	FUZZ_CHECK(socketpair(AF_UNIX,
	               SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
	dns_tcp_open(s, sv[0], &ss, NULL);
	for (unsigned i = 0; i < 100000 && (open || s->nconns > 0); i++) {
		if (sent < size) {
			ssize_t n = send(sv[1], data + sent, size - sent,
			    MSG_DONTWAIT | MSG_NOSIGNAL);

			if (n > 0)
				sent += (size_t)n;
			if (sent == size)
				shutdown(sv[1], SHUT_WR);
		} else if (size == 0 && i == 0) {
			shutdown(sv[1], SHUT_WR);
		}
		ev_run_once(s->loop, 0);
		if (open)
			open = fuzz_drain(sv[1], &out, &len, &cap);
		/* Nothing moved: let the idle timer fire. */
		if (i % 64 == 63)
			ev_sim_advance(s->loop, 11000);
	}
	FUZZ_CHECK(s->nconns == 0);
	ev_run_once(s->loop, 0); /* deferred frees */
	nq = fuzz_queries(data, sent, qids, sizeof(qids) / sizeof(qids[0]));
	while (off < len) {
		size_t l;

		FUZZ_CHECK(len - off >= 2);
		l = (size_t)out[off] << 8 | out[off + 1];
		FUZZ_CHECK(l >= DNS_HDR_LEN && len - off - 2 >= l);
		FUZZ_CHECK(out[off + 2 + 2] & 0x80); /* QR */
		/* In order: the next answered query is at or after na. */
		while (na < nq &&
		    qids[na] != (uint16_t)(out[off + 2] << 8 | out[off + 3]))
			na++;
		FUZZ_CHECK(na < nq);
		na++;
		off += 2 + l;
	}
	close(sv[1]);
	free(out);
	return 0;
}
