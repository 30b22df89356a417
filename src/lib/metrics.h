/*
 * metrics.h - Prometheus text exposition (format 0.0.4).
 *
 * Counters live as plain integers inside the objects they count (a hot path
 * only increments a field); each module renders its own families when
 * /metrics is asked for. Every process renders its part; the parent merges
 * the parts with mx_merge() so that one family is announced once even when
 * several processes report samples of it.
 */
#ifndef HAVEN_METRICS_H
#define HAVEN_METRICS_H

#include <stdint.h>

#include "buf.h"

/* Latency buckets in seconds, shared by every histogram. */
#define MX_HIST_N 14
extern const double mx_hist_bounds[MX_HIST_N];

struct mx_hist {
	uint64_t bucket[MX_HIST_N]; /* non-cumulative; rendered cumulative */
	uint64_t count;
	double sum; /* seconds */
};

/* "# HELP" and "# TYPE" lines. type: counter, gauge or histogram. */
void mx_family(
    struct buf *b, const char *name, const char *type, const char *help);
/* name{labels} value; labels is `k="v",k2="v2"` already escaped, or NULL. */
void mx_u64(struct buf *b, const char *name, const char *labels, uint64_t v);
void mx_f64(struct buf *b, const char *name, const char *labels, double v);

void mx_hist_observe_us(struct mx_hist *h, uint64_t us);
void mx_hist_render(struct buf *b, const char *name, const char *labels,
    const struct mx_hist *h);
/* Value at quantile q (0..1) by linear interpolation inside its bucket. */
double mx_hist_quantile(const struct mx_hist *h, double q);

/* Append `k="escaped v"` (with a leading comma unless b is empty). */
void mx_label(struct buf *b, const char *k, const char *v);

/*
 * Merge several expositions into one: samples are grouped under their
 * family's HELP/TYPE header, which is written once, in order of first
 * appearance.
 */
void mx_merge(struct buf *out, const char *const *texts, size_t n);
/*
 * Append text (an exposition) to out with k="v" (v escaped) added after the
 * labels of every sample: the parent tells the workers of one plane apart
 * this way, since each renders the same series.
 */
void mx_add_label(
    struct buf *out, const char *text, const char *k, const char *v);

#endif
