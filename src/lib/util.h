/*
 * util.h - allocation that never fails, fatal(), and the few macros every
 * file needs.
 *
 * x*alloc abort the process on exhaustion: a daemon that runs out of memory
 * cannot serve anyone correctly, and checking NULL at every call site only
 * adds untested paths. fatal() is for start-up errors and broken invariants,
 * never for a fault caused by a peer or a request.
 */
#ifndef HAVEN_UTIL_H
#define HAVEN_UTIL_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))
#define container_of(p, type, member)                                          \
	((type *)(void *)((char *)(p)-offsetof(type, member)))
#define likely(x)          __builtin_expect(!!(x), 1)
#define unlikely(x)        __builtin_expect(!!(x), 0)
#define __unused           __attribute__((unused))
#define __dead             __attribute__((noreturn))
#define __printflike(a, b) __attribute__((format(printf, a, b)))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* A copy of the strings v[0..n), NULL-terminated, each xstrdup'd; NULL
 * when n is 0 (an empty argv or list is "none"). Free with strv_free. */
char **strv_dup(char *const *v, size_t n);
/* Free a NULL-terminated vector and its strings; NULL is a no-op. */
void strv_free(char **v);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __printflike(1, 2);

/* Print "haven: message" to stderr and exit(1). */
void fatal(const char *fmt, ...) __printflike(1, 2) __dead;

/* Monotonic and wall clocks in milliseconds / microseconds. */
uint64_t util_mono_ms(void);
uint64_t util_mono_us(void);
uint64_t util_wall_ms(void);

/* Write all len bytes of p to a blocking fd, resuming after EINTR and
 * short writes. Returns 0 or -errno. */
int util_write_all(int fd, const void *p, size_t len);

/* The same at file offset off (pwrite). Returns 0 or -errno. */
int util_pwrite_all(int fd, const void *p, size_t len, uint64_t off);

/* Read up to len bytes at off (pread), resuming after EINTR and short
 * reads: fewer only at end of file. Returns the bytes read or -errno. */
ssize_t util_pread_full(int fd, void *p, size_t len, uint64_t off);

/*
 * flock(fd, LOCK_EX or LOCK_SH) waiting at most wait_ms (flock has no
 * timed wait: it polls every 20 ms); wait_ms < 0 waits for ever. Returns
 * 0, -EWOULDBLOCK when the wait ran out, or -errno.
 */
int util_flock_wait(int fd, int op, int wait_ms);

/* Set O_NONBLOCK (and FD_CLOEXEC). Returns 0 or -errno. */
int util_set_nonblock(int fd);

/*
 * Raise the RLIMIT_NOFILE soft limit to the hard limit, as HAProxy does at
 * start: every proxied connection costs descriptors, and children inherit
 * the limit. *before and *after get the soft limit (clamped to UINT_MAX).
 * Returns 0 or -errno (the limit is then unchanged).
 */
int util_raise_nofile(unsigned *before, unsigned *after);
/* The RLIMIT_NOFILE soft limit, clamped to UINT_MAX. */
unsigned util_nofile(void);

#endif
