/*
 * snap_retain.c - retention policies (snap_retain.h). Pure.
 */
#include <errno.h>
#include <string.h>

#include "snap/snap_retain.h"

bool
snap_retain_empty(const struct snap_retain_policy *p)
{
	return p->last == 0 && p->hourly == 0 && p->daily == 0;
}

/* floor(t / d) for negative t too: a bucket is a whole UTC hour or day. */
static int64_t
snap_retain_bucket(int64_t t, int64_t d)
{
	return t >= 0 ? t / d : -((-t + d - 1) / d);
}

/*
 * Newest first: keep the first snapshot met in each new bucket until
 * want buckets are filled.
 */
static void
snap_retain_buckets(const int64_t *created, size_t n, int64_t now,
    uint32_t want, int64_t width, bool *keep)
{
	int64_t last = 0;
	bool have = false;
	uint32_t got = 0;

	for (size_t i = n; i-- > 0 && got < want;) {
		int64_t b;

		if (created[i] > now)
			continue;
		b = snap_retain_bucket(created[i], width);
		if (have && b == last)
			continue;
		keep[i] = true;
		last = b;
		have = true;
		got++;
	}
}

size_t
snap_retain_select(const int64_t *created, size_t n,
    const struct snap_retain_policy *p, int64_t now, bool *keep)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++)
		keep[i] = snap_retain_empty(p) || created[i] > now ||
		    n - i <= p->last;
	snap_retain_buckets(created, n, now, p->hourly, 3600, keep);
	snap_retain_buckets(created, n, now, p->daily, 86400, keep);
	for (size_t i = 0; i < n; i++)
		kept += keep[i];
	return kept;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
snap_retain_days(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool
snap_retain_num(const char *s, size_t len, unsigned *out)
{
	unsigned v = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

int
snap_retain_id_time(const char *id, int64_t *t)
{
	unsigned y, mo, d, h, mi, s;

	/* YYYYmmddTHHMMSS then '.' or 'Z' */
	if (strnlen(id, 16) < 16 || id[8] != 'T' ||
	    (id[15] != '.' && id[15] != 'Z') || !snap_retain_num(id, 4, &y) ||
	    !snap_retain_num(id + 4, 2, &mo) ||
	    !snap_retain_num(id + 6, 2, &d) ||
	    !snap_retain_num(id + 9, 2, &h) ||
	    !snap_retain_num(id + 11, 2, &mi) ||
	    !snap_retain_num(id + 13, 2, &s))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -EINVAL;
	*t = snap_retain_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}
