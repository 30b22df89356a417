/*
 * lb_mem.c - give memory back to the system once a connection burst is
 * over.
 *
 * A burst of connections leaves the heap at its peak: glibc keeps freed
 * chunks for reuse and returns only the top of the heap, and the buffer
 * pool keeps up to LB_BUF_POOL_KEEP free buffers. A timer watches the
 * connection count against the highest it reached since the last trim; once
 * it has stayed at a quarter of that or below for a whole period (the burst
 * is over, not paused), the free buffers go back to malloc down to
 * LB_MEM_BUFS_KEEP and malloc_trim(0) hands every free page back. A steady
 * load never triggers it, so the hot path keeps its warm buffers.
 */
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

#include "lb/lb_worker.h"
#include "lib/log.h"
#include "lib/metrics.h"

#define LB_MEM_PERIOD_MS 2000
#define LB_MEM_MIN_DROP  256 /* connections: smaller bursts are not worth it */
#define LB_MEM_BUFS_KEEP 16  /* free buffers kept after a trim */

/* Resident set size in bytes from /proc/self/statm; 0 if unreadable. */
static uint64_t
lb_mem_rss(void)
{
	unsigned long size, resident;
	FILE *f = fopen("/proc/self/statm", "re");
	int n;

	if (f == NULL)
		return 0;
	n = fscanf(f, "%lu %lu", &size, &resident);
	fclose(f);
	return n == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) :
	                0;
}

static void
lb_mem_trim(struct lb_worker *w, unsigned now)
{
	struct lb_mem *m = &w->mem;
	uint64_t before = lb_mem_rss(), after;

	lb_iobuf_shrink(&w->bufs, LB_MEM_BUFS_KEEP);
	(void)malloc_trim(0);
	after = lb_mem_rss();
	m->trims++;
	if (after < before)
		m->trimmed_bytes += before - after;
	log_info("memory returned after a burst",
	    "peak_conns=%u conns=%u rss_before=%llu rss_after=%llu", m->peak,
	    now, (unsigned long long)before, (unsigned long long)after);
}

static void
lb_mem_tick(struct ev_timer *t, void *arg)
{
	struct lb_worker *w = arg;
	struct lb_mem *m = &w->mem;
	unsigned now = lb_conn_count(w);

	if (now > m->peak)
		m->peak = now;
	if (m->peak - now >= LB_MEM_MIN_DROP && now <= m->peak / 4) {
		if (m->low) {
			lb_mem_trim(w, now);
			m->peak = now;
			m->low = false;
		} else {
			m->low = true;
		}
	} else {
		m->low = false;
	}
	ev_timer_start(w->loop, &m->timer, LB_MEM_PERIOD_MS);
}

void
lb_mem_init(struct lb_worker *w)
{
	ev_timer_init(&w->mem.timer, lb_mem_tick, w);
}

void
lb_mem_start(struct lb_worker *w)
{
	ev_timer_start(w->loop, &w->mem.timer, LB_MEM_PERIOD_MS);
}

void
lb_mem_stop(struct lb_worker *w)
{
	if (w->loop != NULL)
		ev_timer_stop(w->loop, &w->mem.timer);
}

void
lb_mem_conn_opened(struct lb_worker *w)
{
	unsigned n = lb_conn_count(w);

	if (n > w->mem.peak)
		w->mem.peak = n;
}

void
lb_mem_metrics(const struct lb_worker *w, struct buf *out)
{
	const struct lb_mem *m = &w->mem;

	mx_family(out, "haven_lb_rss_bytes", "gauge",
	    "Resident memory of the worker");
	mx_u64(out, "haven_lb_rss_bytes", NULL, lb_mem_rss());
	mx_family(out, "haven_lb_memory_trims_total", "counter",
	    "Times memory was handed back to the system after a burst");
	mx_u64(out, "haven_lb_memory_trims_total", NULL, m->trims);
	mx_family(out, "haven_lb_memory_trimmed_bytes_total", "counter",
	    "Resident bytes those trims gave back");
	mx_u64(
	    out, "haven_lb_memory_trimmed_bytes_total", NULL, m->trimmed_bytes);
}
