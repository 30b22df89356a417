/*
 * log.c - see log.h. Lines are built in a stack buffer and written with one
 * write(2), so lines from several processes sharing stderr do not interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 2048
#define LOG_RL_SLOTS 64

struct log_rl {
	const char *msg; /* borrowed: a string literal */
	uint64_t window_ms;
	unsigned count;
	unsigned long suppressed;
};

static const char *log_plane = "main";
static enum log_level log_min = LOG_INFO;
static struct log_rl log_rl[LOG_RL_SLOTS];
static unsigned long log_suppressed;

static const char *const log_names[] = { "debug", "info", "notice", "warn",
	"error" };

void
log_set_plane(const char *plane)
{
	log_plane = plane;
}

void
log_set_level(enum log_level min)
{
	log_min = min;
}

enum log_level
log_get_level(void)
{
	return log_min;
}

int
log_level_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(log_names); i++)
		if (strcmp(s, log_names[i]) == 0)
			return (int)i;
	if (strcmp(s, "err") == 0 || strcmp(s, "warning") == 0)
		return strcmp(s, "err") == 0 ? LOG_ERR : LOG_WARN;
	return -1;
}

const char *
log_level_name(enum log_level l)
{
	return (unsigned)l < ARRAY_SIZE(log_names) ? log_names[l] : "?";
}

/*
 * Returns how many lines of msg were suppressed before this one, or -1 if
 * this one must be suppressed too. Slots are keyed by the literal's address;
 * a collision just shares a budget, which errs toward fewer lines.
 */
static long
log_ratelimit(const char *msg)
{
	struct log_rl *rl = &log_rl[((uintptr_t)msg >> 3) % LOG_RL_SLOTS];
	uint64_t now = util_mono_ms();
	long prev;

	/*
	 * A colliding message shares the window: resetting here would let
	 * two alternating messages through unlimited.
	 */
	if (rl->msg == NULL || now - rl->window_ms >= 1000) {
		prev = (long)rl->suppressed;
		rl->msg = msg;
		rl->window_ms = now;
		rl->count = 1;
		rl->suppressed = 0;
		return prev;
	}
	if (++rl->count > LOG_BURST) {
		rl->suppressed++;
		log_suppressed++;
		return -1;
	}
	return 0;
}

const char *
log_q(const char *s)
{
	static char bufs[8][512];
	static unsigned next;
	char *out = bufs[next++ % 8];
	size_t o = 0;
	bool quote = *s == '\0';

	for (const char *p = s; *p; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    (unsigned char)*p < 0x20)
			quote = true;
	if (!quote)
		return s;
	out[o++] = '"';
	for (const char *p = s; *p && o < 500; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c < 0x20) {
			out[o++] = '?';
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

unsigned long
log_suppressed_total(void)
{
	return log_suppressed;
}

void
log_msg(enum log_level l, const char *msg, const char *kvfmt, ...)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t n;
	long supp;
	int r;

	if (l < log_min)
		return;
	if ((supp = log_ratelimit(msg)) < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	r = snprintf(line, sizeof(line),
	    "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s plane=%s msg=%s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, log_level_name(l), log_plane,
	    log_q(msg));
	n = r < 0 ? 0 : MIN((size_t)r, sizeof(line) - 2);
	if (kvfmt != NULL && *kvfmt != '\0' && n < sizeof(line) - 2) {
		line[n++] = ' ';
		va_start(ap, kvfmt);
		r = vsnprintf(line + n, sizeof(line) - n, kvfmt, ap);
		va_end(ap);
		n = r < 0 ? n : MIN(n + (size_t)r, sizeof(line) - 2);
	}
	if (supp > 0 && n < sizeof(line) - 2) {
		r = snprintf(
		    line + n, sizeof(line) - n, " suppressed=%ld", supp);
		n = r < 0 ? n : MIN(n + (size_t)r, sizeof(line) - 2);
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}
