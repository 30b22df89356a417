/*
 * hc_scale.c - the health engine at scale: N tcp targets (default 5000) at
 * interval 1 s, probing listeners on 127.0.0.1, run by the real engine on a
 * real event loop for D seconds (default 20). Prints the engine process's
 * CPU use (utime+stime from /proc/self/stat, as a percentage of one core)
 * and probe latency p50/p90/p99 over the last probes of every target.
 *
 * The listeners live in a forked process that only accepts and closes, so
 * their cost is not charged to the engine. Not built by default; run it
 * through bench/hc_scale.sh, which builds it against build-<dir>.
 *
 *   hc_scale [-n targets] [-d seconds] [-l listeners] [-p first_port]
 *   hc_scale -s [-l listeners] [-p first_port]   listeners only (for the
 *                                                 HAProxy side of the run)
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hc/hc_engine.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/util.h"

static int
hc_scale_listen(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;

	if (fd == -1)
		fatal("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4096) == -1)
		fatal("listen on %u: %s", port, strerror(errno));
	return fd;
}

/* The listener process: accept and close until killed. */
static void __dead
hc_scale_serve(const int *fds, int n)
{
	struct epoll_event ev, evs[64];
	int ep = epoll_create1(0), c;

	for (int i = 0; i < n; i++) {
		ev.events = EPOLLIN;
		ev.data.fd = fds[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	for (;;) {
		int k = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < k; i++)
			while (
			    (c = accept4(evs[i].data.fd, NULL, NULL, 0)) != -1)
				close(c);
	}
}

static double
hc_scale_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* utime+stime in seconds from /proc/self/stat (fields 14 and 15). */
static double
hc_scale_proc_cpu_s(void)
{
	char buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f = fopen("/proc/self/stat", "r");

	if (f == NULL)
		return hc_scale_cpu_s();
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return hc_scale_cpu_s();
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	        &ut, &st) != 2)
		return hc_scale_cpu_s();
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int
hc_scale_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
hc_scale_probes(const struct hc_engine *e)
{
	uint64_t n = 0;

	for (size_t i = 0; i < e->ntargets; i++)
		n += e->targets[i]->probes_ok + e->targets[i]->probes_failed;
	return n;
}

static void
hc_scale_report(
    const struct hc_engine *e, double cpu, double secs, uint64_t probes)
{
	size_t n = 0, up = 0, cap = e->ntargets * HC_HIST_PROBES;
	uint32_t *v = xcalloc(cap + 1, sizeof(*v));
	const struct hc_probe_rec *p;

	for (size_t i = 0; i < e->ntargets; i++) {
		const struct hc_target *t = e->targets[i];

		up += t->sm.state == HC_UP;
		for (size_t k = 0; (p = hc_target_probe(t, k)) != NULL; k++)
			v[n++] = p->latency_us;
	}
	qsort(v, n, sizeof(*v), hc_scale_cmp);
	printf("targets=%zu up=%zu seconds=%.1f probes=%llu "
	       "probes_per_s=%.0f cpu_pct=%.1f p50_us=%u p90_us=%u "
	       "p99_us=%u\n",
	    e->ntargets, up, secs, (unsigned long long)probes,
	    (double)probes / secs, 100.0 * cpu / secs, n ? v[n / 2] : 0,
	    n ? v[n * 9 / 10] : 0, n ? v[n * 99 / 100] : 0);
	free(v);
}

static struct buf *
hc_scale_yaml(int ntargets, int nlisten, int port0)
{
	struct buf *y = xcalloc(1, sizeof(*y));

	buf_init(y);
	buf_puts(y, "defaults: { interval: 1s, timeout: 1s }\nchecks:\n");
	for (int i = 0; i < ntargets; i++)
		buf_printf(y,
		    "  - { name: t%d, type: tcp, address: \"127.0.0.1:%d\" }\n",
		    i, port0 + i % nlisten);
	return y;
}

int
main(int argc, char **argv)
{
	int ntargets = 5000, secs = 20, nlisten = 8, port0 = 21000, c;
	bool serve_only = false;
	struct conf_errors errs;
	struct hc_conf conf;
	struct ev_loop *loop;
	struct hc_engine *e;
	struct buf *y;
	int fds[256];
	pid_t srv;
	double cpu0, t0, t1;
	uint64_t probes0;

	while ((c = getopt(argc, argv, "n:d:l:p:s")) != -1) {
		switch (c) {
		case 's':
			serve_only = true;
			break;
		case 'n':
			ntargets = atoi(optarg);
			break;
		case 'd':
			secs = atoi(optarg);
			break;
		case 'l':
			nlisten = MIN(atoi(optarg), 256);
			break;
		case 'p':
			port0 = atoi(optarg);
			break;
		default:
			fprintf(stderr,
			    "usage: hc_scale [-n N] [-d S] [-l L] "
			    "[-p PORT]\n");
			return 2;
		}
	}
	log_set_level(LOG_ERR); /* 5000 "up" lines are not the benchmark */
	for (int i = 0; i < nlisten; i++)
		fds[i] = hc_scale_listen((uint16_t)(port0 + i));
	if (serve_only)
		hc_scale_serve(fds, nlisten);
	if ((srv = fork()) == 0)
		hc_scale_serve(fds, nlisten);
	for (int i = 0; i < nlisten; i++)
		close(fds[i]);
	y = hc_scale_yaml(ntargets, nlisten, port0);
	conf_errors_init(&errs);
	if (conf_bind_text(
	        &hc_conf_schema, "bench", y->data, y->len, &conf, &errs) != 0) {
		conf_errors_print(&errs, stderr);
		return 1;
	}
	loop = ev_loop_new();
	e = hc_engine_new(loop, NULL, 0);
	hc_engine_apply_conf(e, &conf, NULL);
	/* Measure the steady state: skip the first two seconds. */
	t0 = (double)util_mono_ms() / 1e3;
	while ((double)util_mono_ms() / 1e3 - t0 < 2)
		ev_run_once(loop, 100);
	cpu0 = hc_scale_proc_cpu_s();
	probes0 = hc_scale_probes(e);
	t0 = (double)util_mono_ms() / 1e3;
	while ((t1 = (double)util_mono_ms() / 1e3) - t0 < secs)
		ev_run_once(loop, 100);
	hc_scale_report(e, hc_scale_proc_cpu_s() - cpu0, t1 - t0,
	    hc_scale_probes(e) - probes0);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	hc_engine_free(e);
	ev_loop_free(loop);
	conf_schema_free(&hc_conf_schema, &conf);
	buf_fini(y);
	free(y);
	conf_errors_fini(&errs);
	return 0;
}
