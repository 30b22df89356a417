/*
 * dns_sec.h - the secondary (slave) role of the dns plane (dns-sec): zones
 * configured with `primaries:` instead of `file:` are transferred from
 * those primaries and served like any other zone.
 *
 *   dns_sec_load.c     every worker: loads the saved copies
 *                      (dns_sec_copy.h) into its tables, or marks a zone
 *                      pending (SERVFAIL) without a usable copy; watches
 *                      <state_dir>/dns-secondary/ with inotify and
 *                      rebuilds its tables when a copy is replaced, and
 *                      again when a copy expires; metrics and API.
 *   dns_sec_refresh.c  worker 0 only (N workers must not transfer N
 *                      times): the refresh state machine per zone (SOA
 *                      query over UDP, TCP on TC, AXFR over TCP, writes
 *                      the copy).
 *   dns_sec_notify.c   every worker: NOTIFY in (RFC 1996) on UDP and
 *                      TCP; worker 0 acts on it, the others relay it
 *                      to worker 0 through a trigger file.
 *
 * Workers are processes: the file system is how they agree. A copy
 * renamed into place is what every worker serves next; its mtime is the
 * last successful refresh.
 */
#ifndef HAVEN_DNS_SEC_H
#define HAVEN_DNS_SEC_H

#include <sys/socket.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dns/dns_sec_copy.h"
#include "dns/dns_srv.h"
#include "lib/buf.h"

struct jw;
struct dns_sec_job;
struct dns_sec_relay;

/* Answers to NOTIFYs for secondary zones (dns_sec_notify.c). */
enum dns_sec_nres {
	DNS_SEC_N_ACCEPTED,
	DNS_SEC_N_REFUSED,
	DNS_SEC_N_NOTAUTH,
	DNS_SEC_N__COUNT
};

/*
 * The secondary role's state in one worker: what the three files share.
 * Owned by the server (struct dns_srv.sec), made by dns_sec_new at init;
 * like the server, it lives until the process exits (dns_sec_stop
 * releases what it holds).
 */
struct dns_sec {
	/* dns_sec_load.c */
	char dir[PATH_MAX];    /* the copies' directory; "" without a
	                          state directory or before the first apply */
	int ifd;               /* owned: inotify on dir, -1 */
	struct ev_io iio;      /* on ifd */
	struct ev_timer exp_t; /* the next copy expiry */
	uint64_t reloads, reload_failed;
	/* dns_sec_refresh.c: worker 0's refresh jobs */
	struct dns_sec_job *jobs; /* owned list */
	/* dns_sec_notify.c */
	struct dns_sec_relay *relays; /* owned list: workers other than 0 */
	uint64_t nres[DNS_SEC_N__COUNT];
	uint64_t relayed, relay_errors;
};

/* Server s's (its loop and worker index are read at each use). */
struct dns_sec *dns_sec_new(struct dns_srv *s);

/* Per zone of the config, built with the tables (dns_srv_zones.sec). */
struct dns_sec_info {
	bool secondary;
	bool loaded;            /* a copy is served */
	bool expired;           /* a copy exists but is past its SOA expire */
	struct dns_sec_soa soa; /* of the copy, when one was read */
	time_t mtime;           /* the copy's: last successful refresh */
	size_t records;         /* loaded */
};

/* dns_sec_load.c */

/*
 * Fill zone (just begun in db) of secondary zone item zi from its copy in
 * dir, or mark it pending when there is none usable; *info says which.
 * Returns 0, or -errno when the db refused a record (the build fails),
 * or -EINVAL for a corrupt copy when strict: a rebuild for a new copy,
 * where the worker then keeps serving its tables (at start there are
 * none, and the zone is pending).
 */
int dns_sec_load_zone(struct dns_db *db, unsigned zone,
    const struct dns_zone_item *zi, const char *dir, bool strict,
    struct dns_sec_info *info);

/* Set the copies' directory (<state_dir>/dns-secondary) before the
 * tables are built. */
void dns_sec_set_dir(struct dns_sec *sec, const char *state_dir);
/* After the first and every apply: remember the directory, watch it,
 * arm the expiry timer, start or update the refresh (worker 0). */
void dns_sec_apply(struct dns_srv *s, const char *state_dir);
/* Arm the timer that rebuilds the tables when the next copy expires. */
void dns_sec_arm_expiry(struct dns_srv *s);
void dns_sec_stop(struct dns_srv *s);
/* s NULL (before init): zeros. */
void dns_sec_metrics(const struct dns_srv *s, struct buf *out);
/* Fields of secondary zone i in GET /v1/dns's zone object. */
void dns_sec_zone_json(struct dns_srv *s, size_t i, struct jw *w);

/* dns_sec_notify.c */

/*
 * Answer the len-byte NOTIFY msg from client from (its address; the
 * source port does not matter, RFC 1996 §3.10 allows any) into out (size
 * bytes). Returns the answer's length, or 0 when msg is no NOTIFY this code
 * answers (the answer engine then replies NOTIMP/FORMERR as before).
 */
size_t dns_sec_notify_in(struct dns_srv *s, const uint8_t *msg, size_t len,
    const struct dns_client *from, uint8_t *out, size_t size);
/* Whether msg is a request with opcode NOTIFY. */
bool dns_sec_is_notify(const uint8_t *msg, size_t len);
/* A trigger file for zone apex appeared (worker 0). */
void dns_sec_notify_relayed(struct dns_srv *s, const uint8_t *apex);
void dns_sec_notify_stop(struct dns_srv *s);
void dns_sec_notify_metrics(const struct dns_sec *sec, struct buf *out);

/* dns_sec_refresh.c (worker 0) */

#define DNS_SEC_CLAMP_MIN_S 1 /* SOA refresh and retry, clamped */
#define DNS_SEC_CLAMP_MAX_S 86400
#define DNS_SEC_BACKOFF_MIN 5000   /* ms: without a copy, doubling... */
#define DNS_SEC_BACKOFF_MAX 300000 /* ...up to this */

/*
 * When the next attempt is due after one that succeeded (ok) or failed:
 * the SOA refresh, the SOA retry when we have a copy, else the back-off
 * (*backoff_ms, 0 at first; reset by a success). Clamped as above. Pure.
 */
uint64_t dns_sec_next_ms(
    bool ok, bool have, const struct dns_sec_soa *soa, uint64_t *backoff_ms);

/* Make the refresh jobs those of the secondary zones of s->conf. */
void dns_sec_refresh_apply(struct dns_srv *s);
/* Check zone apex's primaries now (a NOTIFY came). */
void dns_sec_refresh_now(struct dns_srv *s, const uint8_t *apex);
void dns_sec_refresh_stop(struct dns_srv *s);
void dns_sec_refresh_metrics(const struct dns_sec *sec, struct buf *out);
void dns_sec_refresh_json(struct dns_srv *s, const uint8_t *apex, struct jw *w);
/* The same fields from what worker 0 saved, for the other workers. */
void dns_sec_refresh_json_saved(
    struct dns_srv *s, const uint8_t *apex, struct jw *w);

#endif
