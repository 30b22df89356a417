/*
 * sim_dns_notify.c - worker 0's NOTIFY held until every worker serves the
 * new serial (dns_notify.c), on the simulated clock: three workers, one
 * zone with one notify: address, a UDP socket of the test's standing in
 * for the secondary (it reads each NOTIFY and answers it, so no retry
 * muddles the count). The other workers' reports are fed in as the
 * parent would relay them (dns_notify_report_in).
 *
 * Scenarios, one serial each: held until the last worker reports; a
 * report that came before worker 0's own apply, and one of a later
 * serial (RFC 1982), both count; a worker that went down (its sockets
 * adopted) is not waited for; nobody reports and the NOTIFY goes at the
 * deadline, counted; a malformed report is counted and changes nothing.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/runner.h"
#include "dns/dns_conf.h"
#include "dns/dns_srv.h"
#include "dns/dns_wire.h"
#include "dns/dns_xfr.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/ev.h"
#include "lib/util.h"

#define T_WORKERS 3
#define T_WAIT_MS 30000 /* DNS_NOTIFY_WAIT_MS */

static const uint8_t t_apex[] = "\7example\3com";

struct t_env {
	char dir[64];
	char zonefile[128];
	int peer; /* owned: the secondary's socket */
	struct ev_loop *loop;
	struct dns_conf conf;
	struct dns_srv s;
};

static void
t_zone(struct t_env *e, uint32_t serial)
{
	FILE *f = fopen(e->zonefile, "w");

	T_ASSERT(f != NULL);
	fprintf(f,
	    "$ORIGIN example.com.\n$TTL 300\n"
	    "@ IN SOA ns1 hostmaster %u 3600 600 604800 60\n"
	    "  IN NS ns1\nns1 IN A 198.18.0.53\n",
	    serial);
	fclose(f);
}

/* The tables of the zone file at serial. */
static struct dns_srv_zones *
t_build(struct t_env *e, uint32_t serial)
{
	struct dns_srv_zones *z = NULL;
	struct conf_errors errs;

	t_zone(e, serial);
	conf_errors_init(&errs);
	T_EQ_INT(dns_load_build(&e->conf, "", "", false, &z, &errs), 0);
	conf_errors_fini(&errs);
	return z;
}

static void
t_setup(struct t_env *e)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct conf_errors errs;
	char text[512];

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/sim_dns_notify.XXXXXX");
	T_ASSERT(mkdtemp(e->dir) != NULL);
	snprintf(
	    e->zonefile, sizeof(e->zonefile), "%s/example.com.zone", e->dir);
	t_zone(e, 1);
	e->peer = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	T_ASSERT(e->peer >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_EQ_INT(bind(e->peer, (struct sockaddr *)&sin, sizeof(sin)), 0);
	T_EQ_INT(getsockname(e->peer, (struct sockaddr *)&sin, &sl), 0);
	snprintf(text, sizeof(text),
	    "listen: [\"127.0.0.1:5300\"]\n"
	    "zones:\n"
	    "  - name: example.com\n"
	    "    file: %s\n"
	    "    notify: [\"127.0.0.1:%u\"]\n",
	    e->zonefile, ntohs(sin.sin_port));
	conf_errors_init(&errs);
	conf_bind_text(
	    &dns_conf_schema, "t.yaml", text, strlen(text), &e->conf, &errs);
	T_EQ_INT(errs.n, 0);
	conf_errors_fini(&errs);
	T_EQ_INT(e->conf.zones[0].xfr.nnotify, 1);
	e->loop = ev_loop_new_sim(1000000);
	e->s.loop = e->loop;
	e->s.worker = 0;
	e->s.conf = &e->conf;
	e->s.notify = dns_notify_new(&e->s, T_WORKERS);
}

static void
t_teardown(struct t_env *e)
{
	dns_notify_stop(&e->s);
	dns_notify_free(e->s.notify);
	dns_srv_zones_unref(e->s.zones);
	conf_schema_free(&dns_conf_schema, &e->conf);
	ev_loop_free(e->loop);
	close(e->peer);
	unlink(e->zonefile);
	rmdir(e->dir);
}

/* Worker 0 applies the zone file at serial, as dns_plane_apply does. */
static void
t_apply(struct t_env *e, uint32_t serial)
{
	struct dns_srv_zones *z = t_build(e, serial);

	dns_notify_apply(&e->s, e->s.zones, z);
	dns_srv_zones_unref(e->s.zones);
	e->s.zones = z;
	ev_run_once(e->loop, 0); /* the deferred check */
}

/* Worker w reports serial for the zone, as the parent relays it. */
static void
t_report(struct t_env *e, unsigned w, uint32_t serial)
{
	struct {
		struct dns_notify_report r;
		struct dns_notify_serial v;
	} m;

	memset(&m, 0, sizeof(m));
	m.r.worker = w;
	m.r.n = 1;
	memcpy(m.v.apex, t_apex, sizeof(t_apex));
	m.v.serial = serial;
	dns_notify_report_in(&e->s, &m, sizeof(m));
}

/* Whether a NOTIFY for the zone reached the secondary; it is answered. */
static bool
t_notified(struct t_env *e)
{
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	uint8_t b[512];
	ssize_t n;

	n = recvfrom(e->peer, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
	if (n < 0) {
		T_EQ_INT(errno, EAGAIN);
		return false;
	}
	T_ASSERT(n >= DNS_HDR_LEN + (ssize_t)sizeof(t_apex) + 4);
	T_EQ_INT(DNS_OPCODE((uint16_t)(b[2] << 8 | b[3])), DNS_OPCODE_NOTIFY);
	T_ASSERT(memcmp(b + DNS_HDR_LEN, t_apex, sizeof(t_apex)) == 0);
	b[2] |= 0x80; /* QR: the answer, NOERROR */
	T_EQ_INT(
	    sendto(e->peer, b, (size_t)n, 0, (struct sockaddr *)&from, fl), n);
	ev_run_once(e->loop, 0);
	return true;
}

/* The value of the sample line (family{labels}) in the metrics. */
static long long
t_metric(struct t_env *e, const char *sample)
{
	struct buf b;
	const char *p;
	long long v = -1;
	size_t len = strlen(sample);

	buf_init(&b);
	dns_notify_metrics(e->s.notify, &b);
	buf_putc(&b, '\0');
	for (p = b.data; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, sample, len) == 0 && p[len] == ' ') {
			v = strtoll(p + len + 1, NULL, 10);
			break;
		}
	}
	buf_fini(&b);
	return v;
}

static void
test_held_until_every_worker_serves(void)
{
	struct t_env e;

	t_setup(&e);
	t_apply(&e, 1);
	T_ASSERT(!t_notified(&e)); /* 1 and 2 never reported */
	T_EQ_INT(t_metric(&e, "haven_dns_notify_waiting"), 1);
	t_report(&e, 1, 1);
	T_ASSERT(!t_notified(&e));
	t_report(&e, 2, 1);
	T_ASSERT(t_notified(&e));
	T_EQ_INT(t_metric(&e, "haven_dns_notify_waiting"), 0);
	T_EQ_INT(t_metric(&e, "haven_dns_notify_acked_total"), 1);

	/* Worker 1 first, before worker 0 applied; worker 2 then reports a
	 * later serial (its file changed again): both serve 2 or after. */
	t_report(&e, 1, 2);
	T_ASSERT(!t_notified(&e));
	t_apply(&e, 2);
	T_ASSERT(!t_notified(&e));
	t_report(&e, 2, 3);
	T_ASSERT(t_notified(&e));
	T_EQ_INT(
	    t_metric(&e, "haven_dns_notify_waits_total{result=\"served\"}"), 2);
	T_EQ_INT(
	    t_metric(&e, "haven_dns_notify_waits_total{result=\"timeout\"}"),
	    0);
	t_teardown(&e);
}

static void
test_down_worker_not_waited_for(void)
{
	struct dns_sock adopted = { .adopted = true, .slot = 2, .fd = -1 };
	struct t_env e;

	t_setup(&e);
	t_report(&e, 1, 1);
	t_report(&e, 2, 1);
	t_apply(&e, 1);
	T_ASSERT(t_notified(&e));
	t_apply(&e, 4);
	t_report(&e, 1, 4);
	T_ASSERT(!t_notified(&e)); /* worker 2 is at 1 */
	/* Worker 2 died: worker 0 adopts its sockets. */
	e.s.socks = &adopted;
	dns_notify_sockets(&e.s);
	T_ASSERT(t_notified(&e));
	e.s.socks = NULL;
	t_teardown(&e);
}

static void
test_deadline_sends_anyway(void)
{
	struct t_env e;

	t_setup(&e);
	t_report(&e, 1, 1);
	t_report(&e, 2, 1);
	t_apply(&e, 1);
	T_ASSERT(t_notified(&e));
	t_apply(&e, 5); /* nobody else follows */
	ev_sim_advance(e.loop, T_WAIT_MS - 1);
	T_ASSERT(!t_notified(&e));
	ev_sim_advance(e.loop, 1);
	T_ASSERT(t_notified(&e));
	T_EQ_INT(
	    t_metric(&e, "haven_dns_notify_waits_total{result=\"timeout\"}"),
	    1);
	T_EQ_INT(t_metric(&e, "haven_dns_notify_waiting"), 0);
	t_teardown(&e);
}

static void
test_bad_report_counted(void)
{
	struct t_env e;
	uint32_t junk[3] = { 1, 7, 0 }; /* says 7 entries, holds none */

	t_setup(&e);
	dns_notify_report_in(&e.s, junk, sizeof(junk));
	t_report(&e, T_WORKERS, 1); /* no such worker */
	T_EQ_INT(
	    t_metric(&e, "haven_dns_notify_reports_total{result=\"bad\"}"), 2);
	t_apply(&e, 1);
	T_ASSERT(!t_notified(&e));
	t_teardown(&e);
}

static const struct test tests[] = {
	{ "held_until_every_worker_serves",
	    test_held_until_every_worker_serves },
	{ "down_worker_not_waited_for", test_down_worker_not_waited_for },
	{ "deadline_sends_anyway", test_deadline_sends_anyway },
	{ "bad_report_counted", test_bad_report_counted },
};

TEST_MAIN(tests)
