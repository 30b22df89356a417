/*
 * log.h - one logfmt line per event on stderr:
 *
 *   ts=2026-11-21T23:59:01.123Z level=info plane=hc msg="check down" check=web1
 *
 * The message is a short constant phrase: it is also the key for rate
 * limiting, so a message repeated more than LOG_BURST times in one second is
 * suppressed and the next line that gets through carries suppressed=N.
 * Key/value pairs are formatted by the caller; a value that may hold spaces
 * or quotes goes through log_q(), which quotes it logfmt-style.
 */
#ifndef HAVEN_LOG_H
#define HAVEN_LOG_H

#include "util.h"

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_NOTICE,
	LOG_WARN,
	LOG_ERR,
};

#define LOG_BURST 10 /* lines per message per second before suppression */

void log_set_plane(const char *plane);
void log_set_level(enum log_level min);
enum log_level log_get_level(void);
/* Parse "debug", "info", ...; returns -1 if unknown. */
int log_level_parse(const char *s);
const char *log_level_name(enum log_level l);

void log_msg(enum log_level l, const char *msg, const char *kvfmt, ...)
    __printflike(3, 4);

/*
 * Quote s for logfmt when it needs it. Returns a pointer into one of eight
 * rotating static buffers: valid until eight more calls.
 */
const char *log_q(const char *s);

/* Lines suppressed by rate limiting since start (for metrics). */
unsigned long log_suppressed_total(void);

#define log_debug(msg, ...)  log_msg(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...)   log_msg(LOG_INFO, msg, __VA_ARGS__)
#define log_notice(msg, ...) log_msg(LOG_NOTICE, msg, __VA_ARGS__)
#define log_warn(msg, ...)   log_msg(LOG_WARN, msg, __VA_ARGS__)
#define log_err(msg, ...)    log_msg(LOG_ERR, msg, __VA_ARGS__)

#endif
