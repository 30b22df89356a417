/*
 * Scenarios for the snap plane's timers on the simulated clock, with real
 * loopback TCP for the peers: a peer that never speaks is dropped exactly
 * at handshake_timeout; one that trickles HELLO bytes does not push that
 * deadline back; an authenticated session that goes quiet is dropped
 * exactly at idle_timeout, and traffic re-arms it.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/runner.h"
#include "lib/conf.h"
#include "lib/ev.h"
#include "lib/plane.h"
#include "lib/util.h"
#include "snap/snap_conf.h"
#include "snap/snap_proto.h"

#define SSN_HS   2000 /* handshake_timeout, ms */
#define SSN_IDLE 5000 /* idle_timeout, ms */

extern const struct plane_ops snap_plane;

static const uint8_t ssn_psk[32] = { 3, 1, 4, 1, 5, 9, 2, 6 };

struct ssn {
	struct ev_loop *loop;
	char root[64];
	struct sockaddr_in addr;
	int lfd;
	struct snap_conf conf;
};

static void
ssn_start(struct ssn *t)
{
	struct plane_sock ps = { .name = "snap" };
	struct plane_env env = { .socks = &ps, .nsocks = 1 };
	struct conf_errors errs;
	socklen_t sl = sizeof(t->addr);
	char *psk;
	FILE *f;

	snprintf(t->root, sizeof(t->root), "/tmp/haven-sim-snap-XXXXXX");
	T_ASSERT(mkdtemp(t->root) != NULL);
	psk = xasprintf("%s/psk", t->root);
	T_ASSERT((f = fopen(psk, "w")) != NULL);
	fwrite(ssn_psk, 1, sizeof(ssn_psk), f);
	fclose(f);
	T_EQ_INT(chmod(psk, 0600), 0);
	t->addr.sin_family = AF_INET;
	t->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT((t->lfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	T_EQ_INT(bind(t->lfd, (struct sockaddr *)&t->addr, sizeof(t->addr)), 0);
	T_EQ_INT(listen(t->lfd, 8), 0);
	T_EQ_INT(getsockname(t->lfd, (struct sockaddr *)&t->addr, &sl), 0);
	memcpy(&t->conf.listen, &t->addr, sizeof(t->addr));
	t->conf.store = xasprintf("%s/store", t->root);
	t->conf.psk_file = psk;
	t->conf.max_sessions = 4;
	t->conf.handshake_timeout_ms = SSN_HS;
	t->conf.idle_timeout_ms = SSN_IDLE;
	ps.fd = t->lfd;
	t->loop = ev_loop_new_sim(1000000);
	T_EQ_INT(snap_plane.init(t->loop, 0, 1), 0);
	conf_errors_init(&errs);
	T_EQ_INT(snap_plane.apply(NULL, &t->conf, &env, &errs), 0);
	conf_errors_fini(&errs);
}

static int
ssn_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static void
ssn_finish(struct ssn *t)
{
	ev_sim_advance(t->loop, 1);
	ev_loop_free(t->loop);
	close(t->lfd);
	free(t->conf.store);
	free(t->conf.psk_file);
	T_EQ_INT(nftw(t->root, ssn_rm, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static int
ssn_connect(struct ssn *t)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	T_ASSERT(fd != -1);
	/* Small writes leave at once (no Nagle wait for a delayed ACK,
	 * which real time would end and the virtual clock would not). */
	T_EQ_INT(
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	T_EQ_INT(connect(fd, (struct sockaddr *)&t->addr, sizeof(t->addr)), 0);
	return fd;
}

/* The value of metric line `name` in the plane's exposition. */
static long
ssn_metric(const char *name)
{
	struct buf b;
	const char *p;
	long v = -1;

	buf_init(&b);
	snap_plane.metrics(&b);
	if ((p = strstr(b.data, name)) != NULL)
		v = strtol(p + strlen(name), NULL, 10);
	buf_fini(&b);
	return v;
}

#define SSN_ACTIVE  "\nhaven_snap_sessions_active "
#define SSN_TIMEOUT "\nhaven_snap_sessions_total{result=\"timeout\"} "

static void
sim_snap_silent_peer(void)
{
	struct ssn t = { 0 };
	int fd;

	ssn_start(&t);
	fd = ssn_connect(&t);
	ev_sim_advance(t.loop, 0);
	T_EQ_INT(ssn_metric(SSN_ACTIVE), 1);
	ev_sim_advance(t.loop, SSN_HS - 1);
	T_EQ_INT(ssn_metric(SSN_ACTIVE), 1);
	ev_sim_advance(t.loop, 1);
	T_EQ_INT(ssn_metric(SSN_ACTIVE), 0);
	T_EQ_INT(ssn_metric(SSN_TIMEOUT), 1);
	close(fd);
	ssn_finish(&t);
}

static void
sim_snap_trickling_peer(void)
{
	struct ssn t = { 0 };
	int fd;

	ssn_start(&t);
	fd = ssn_connect(&t);
	ev_sim_advance(t.loop, 0);
	/* A HELLO byte every 400 ms: still gone at 2 s. */
	for (int i = 0; i < 4; i++) {
		ev_sim_advance(t.loop, 400);
		T_EQ_INT(write(fd, "H", 1), 1);
	}
	ev_sim_advance(t.loop, SSN_HS - 1600 - 1);
	T_EQ_INT(ssn_metric(SSN_ACTIVE), 1);
	ev_sim_advance(t.loop, 1);
	T_EQ_INT(ssn_metric(SSN_ACTIVE), 0);
	T_EQ_INT(ssn_metric(SSN_TIMEOUT), 1);
	close(fd);
	ssn_finish(&t);
}

static void
ssn_read_full(int fd, uint8_t *p, size_t n)
{
	size_t off = 0;
	ssize_t r;

	while (off < n && (r = read(fd, p + off, n - off)) > 0)
		off += (size_t)r;
	T_EQ_INT(off, n);
}

static void
sim_snap_idle_after_auth(void)
{
	uint8_t hello[SNAP_PROTO_HELLO_LEN], auth[SNAP_PROTO_AUTH_LEN];
	uint8_t nonce[32] = { 5 };
	struct snap_proto p;
	struct ssn t = { 0 };
	struct buf rec;
	int fd;

	ssn_start(&t);
	fd = ssn_connect(&t);
	ev_sim_advance(t.loop, 0);
	snap_proto_init(&p, SNAP_ROLE_SENDER, ssn_psk, nonce);
	ssn_read_full(fd, hello, sizeof(hello));
	T_EQ_INT(snap_proto_on_hello(&p, hello, sizeof(hello)), 0);
	T_EQ_INT(write(fd, snap_proto_hello(&p), 40), 40);
	ev_sim_advance(t.loop, 0);
	ssn_read_full(fd, auth, sizeof(auth));
	T_EQ_INT(snap_proto_on_auth(&p, auth, sizeof(auth)), 0);
	T_EQ_INT(write(fd, p.auth_out, sizeof(auth)), (long)sizeof(auth));
	/* Authenticated: past the handshake deadline, the idle one holds. */
	ev_sim_advance(t.loop, SSN_IDLE - 1);
	T_EQ_INT(ssn_metric(SSN_ACTIVE), 1);
	/* Traffic (half a record) re-arms it. */
	buf_init(&rec);
	snap_proto_seal(&p, "\x04", 1, &rec);
	T_EQ_INT(write(fd, rec.data, 4), 4);
	ev_sim_advance(t.loop, SSN_IDLE - 1);
	T_EQ_INT(ssn_metric(SSN_ACTIVE), 1);
	ev_sim_advance(t.loop, 1);
	T_EQ_INT(ssn_metric(SSN_ACTIVE), 0);
	T_EQ_INT(ssn_metric(SSN_TIMEOUT), 1);
	buf_fini(&rec);
	close(fd);
	ssn_finish(&t);
}

static const struct test tests[] = {
	TEST(sim_snap_silent_peer),
	TEST(sim_snap_trickling_peer),
	TEST(sim_snap_idle_after_auth),
};

TEST_MAIN(tests)
