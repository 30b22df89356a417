/*
 * metrics.c - see metrics.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

const double mx_hist_bounds[MX_HIST_N] = { 0.0001, 0.00025, 0.0005, 0.001,
	0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5 };

void
mx_family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
mx_u64(struct buf *b, const char *name, const char *labels, uint64_t v)
{
	if (labels != NULL && *labels != '\0')
		buf_printf(b, "%s{%s} %" PRIu64 "\n", name, labels, v);
	else
		buf_printf(b, "%s %" PRIu64 "\n", name, v);
}

void
mx_f64(struct buf *b, const char *name, const char *labels, double v)
{
	if (labels != NULL && *labels != '\0')
		buf_printf(b, "%s{%s} %.9g\n", name, labels, v);
	else
		buf_printf(b, "%s %.9g\n", name, v);
}

void
mx_hist_observe_us(struct mx_hist *h, uint64_t us)
{
	double s = (double)us / 1e6;
	size_t i;

	for (i = 0; i < MX_HIST_N; i++)
		if (s <= mx_hist_bounds[i])
			break;
	if (i < MX_HIST_N)
		h->bucket[i]++;
	h->count++;
	h->sum += s;
}

void
mx_hist_render(struct buf *b, const char *name, const char *labels,
    const struct mx_hist *h)
{
	const char *sep = labels != NULL && *labels != '\0' ? "," : "";
	uint64_t cum = 0;

	if (labels == NULL)
		labels = "";
	for (size_t i = 0; i < MX_HIST_N; i++) {
		cum += h->bucket[i];
		buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name,
		    labels, sep, mx_hist_bounds[i], cum);
	}
	buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels,
	    sep, h->count);
	if (*labels != '\0') {
		buf_printf(b, "%s_sum{%s} %.9g\n", name, labels, h->sum);
		buf_printf(
		    b, "%s_count{%s} %" PRIu64 "\n", name, labels, h->count);
	} else {
		buf_printf(b, "%s_sum %.9g\n", name, h->sum);
		buf_printf(b, "%s_count %" PRIu64 "\n", name, h->count);
	}
}

double
mx_hist_quantile(const struct mx_hist *h, double q)
{
	double rank = q * (double)h->count, lo = 0;
	uint64_t cum = 0;

	if (h->count == 0)
		return 0;
	for (size_t i = 0; i < MX_HIST_N; i++) {
		if ((double)(cum + h->bucket[i]) >= rank && h->bucket[i] > 0) {
			double f = (rank - (double)cum) / (double)h->bucket[i];

			return lo + (mx_hist_bounds[i] - lo) * f;
		}
		cum += h->bucket[i];
		lo = mx_hist_bounds[i];
	}
	return mx_hist_bounds[MX_HIST_N - 1];
}

void
mx_label(struct buf *b, const char *k, const char *v)
{
	if (b->len > 0)
		buf_putc(b, ',');
	buf_printf(b, "%s=\"", k);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			buf_putc(b, '\\');
		if (*v == '\n') {
			buf_puts(b, "\\n");
			continue;
		}
		buf_putc(b, *v);
	}
	buf_putc(b, '"');
}

struct mx_fam {
	char *name;        /* owned */
	struct buf header; /* HELP and TYPE lines */
	struct buf body;   /* samples */
};

static struct mx_fam *
mx_fam_get(struct mx_fam **fams, size_t *n, const char *name, size_t len)
{
	for (size_t i = 0; i < *n; i++)
		if (strlen((*fams)[i].name) == len &&
		    memcmp((*fams)[i].name, name, len) == 0)
			return &(*fams)[i];
	*fams = xrealloc(*fams, (*n + 1) * sizeof(**fams));
	(*fams)[*n].name = xstrndup(name, len);
	buf_init(&(*fams)[*n].header);
	buf_init(&(*fams)[*n].body);
	return &(*fams)[(*n)++];
}

void
mx_merge(struct buf *out, const char *const *texts, size_t n)
{
	struct mx_fam *fams = NULL, *cur = NULL;
	size_t nfam = 0;

	for (size_t t = 0; t < n; t++) {
		const char *p = texts[t];

		cur = NULL;
		while (p != NULL && *p != '\0') {
			const char *eol = strchr(p, '\n');
			size_t len = eol ? (size_t)(eol - p) : strlen(p);

			if (len > 7 &&
			    (strncmp(p, "# HELP ", 7) == 0 ||
			        strncmp(p, "# TYPE ", 7) == 0)) {
				const char *nm = p + 7;
				size_t nl = strcspn(nm, " \n");
				bool fresh;

				cur = mx_fam_get(&fams, &nfam, nm, nl);
				/* The first process to announce it wins. */
				fresh =
				    strstr(cur->header.data ? cur->header.data :
				                              "",
				        p[2] == 'H' ? "# HELP" : "# TYPE") ==
				    NULL;
				if (fresh) {
					buf_append(&cur->header, p, len);
					buf_putc(&cur->header, '\n');
				}
			} else if (len > 0 && p[0] != '#') {
				if (cur == NULL)
					cur = mx_fam_get(&fams, &nfam, "", 0);
				buf_append(&cur->body, p, len);
				buf_putc(&cur->body, '\n');
			}
			p = eol ? eol + 1 : NULL;
		}
	}
	for (size_t i = 0; i < nfam; i++) {
		if (fams[i].header.len)
			buf_append(
			    out, fams[i].header.data, fams[i].header.len);
		if (fams[i].body.len)
			buf_append(out, fams[i].body.data, fams[i].body.len);
		free(fams[i].name);
		buf_fini(&fams[i].header);
		buf_fini(&fams[i].body);
	}
	free(fams);
}

/* Length of the label set at p ("{...}", quotes and escapes honoured). */
static size_t
mx_labels_len(const char *p, size_t n)
{
	bool quoted = false;

	for (size_t i = 1; i < n; i++) {
		if (quoted && p[i] == '\\')
			i++;
		else if (p[i] == '"')
			quoted = !quoted;
		else if (!quoted && p[i] == '}')
			return i + 1;
	}
	return n;
}

void
mx_add_label(struct buf *out, const char *text, const char *k, const char *v)
{
	struct buf l;
	size_t len, name, set;

	buf_init(&l);
	mx_label(&l, k, v);
	for (const char *p = text; p != NULL && *p != '\0'; p += len) {
		len = strcspn(p, "\n");
		len += p[len] == '\n';
		if (*p == '#' || *p == '\n') {
			buf_append(out, p, len);
			continue;
		}
		name = strcspn(p, "{ \n");
		buf_append(out, p, name);
		set = p[name] == '{' ? mx_labels_len(p + name, len - name) : 0;
		if (set >= 2 && p[name + set - 1] == '}') {
			/* "{a="1"}" becomes "{a="1",k="v"}"; "{}" "{k="v"}". */
			buf_append(out, p + name, set - 1);
			if (set > 2)
				buf_putc(out, ',');
		} else {
			set = 0;
			buf_putc(out, '{');
		}
		buf_append(out, l.data, l.len);
		buf_putc(out, '}');
		buf_append(out, p + name + set, len - name - set);
	}
	buf_fini(&l);
}
