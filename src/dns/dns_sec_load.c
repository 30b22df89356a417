/*
 * dns_sec_load.c - the part of the secondary role every dns worker runs
 * (dns_sec.h): secondary zones filled from their saved copies when the
 * tables are built, the inotify watch on the copies' directory that
 * rebuilds the tables when worker 0 renames a new copy into place (and
 * that hands worker 0 the NOTIFY trigger files), and the timer that
 * rebuilds them when a copy expires.
 *
 * A rebuild is a full dns_load_build from the current config, swapped in
 * only when it succeeds: on failure the worker keeps serving the tables
 * it has, counts haven_dns_secondary_reload_failed_total and logs why.
 */
#include <sys/inotify.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns_ixfr.h"
#include "dns/dns_sec.h"
#include "dns/dns_xfr.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/statefile.h"
#include "lib/util.h"

#define DNS_SEC_EXPIRY_SLACK_MS 1000 /* rebuild just after the expiry */

struct dns_sec_fill {
	struct dns_db *db;
	unsigned zone;
	size_t n;
	int rc;
};

static int
dns_sec_fill_rr(const struct dns_zone_rr *rr, void *arg)
{
	struct dns_sec_fill *f = arg;
	int rc = dns_db_add_rr(
	    f->db, f->zone, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen);

	if (rc != 0) {
		f->rc = rc;
		return rc;
	}
	f->n++;
	return 0;
}

int
dns_sec_load_zone(struct dns_db *db, unsigned zone,
    const struct dns_zone_item *zi, const char *dir, bool strict,
    struct dns_sec_info *info)
{
	struct dns_sec_fill f = { .db = db, .zone = zone };
	int rc;

	memset(info, 0, sizeof(*info));
	info->secondary = true;
	if (dir[0] == '\0') /* no state directory: nowhere to keep copies */
		return dns_db_zone_pending(db, zone);
	/* First a check of the whole copy, so a corrupt one adds no
	 * record and the zone can still be marked pending. */
	rc = dns_sec_copy_read(
	    dir, zi->apex, NULL, NULL, &info->soa, &info->mtime);
	if (rc == -EINVAL) {
		log_warn("dns secondary copy unusable", "zone=%s dir=%s",
		    zi->name, log_q(dir));
		if (strict)
			return rc;
	}
	if (rc == 0 &&
	    dns_sec_copy_expired(&info->soa, info->mtime, time(NULL))) {
		info->expired = true;
		rc = -ESTALE;
	}
	if (rc == 0)
		rc = dns_sec_copy_read(dir, zi->apex, dns_sec_fill_rr, &f,
		    &info->soa, &info->mtime);
	if (rc == 0) {
		info->loaded = true;
		info->records = f.n;
		return 0;
	}
	if (f.n > 0) /* changed under us, or the db refused a record */
		return f.rc != 0 ? f.rc : -EINVAL;
	return dns_db_zone_pending(db, zone);
}

static void dns_sec_exp_cb(struct ev_timer *t, void *arg);

struct dns_sec *
dns_sec_new(struct dns_srv *s)
{
	struct dns_sec *sec = xcalloc(1, sizeof(*sec));

	sec->ifd = -1;
	ev_timer_init(&sec->exp_t, dns_sec_exp_cb, s);
	return sec;
}

/*
 * Build the tables again from the current config and swap them in.
 * strict for a new copy: a corrupt copy then fails the build (the worker
 * keeps the tables it serves) instead of turning the zone pending as at
 * start, where there is nothing to keep. Not for an expiry, which must
 * take an expired copy out of service whatever else is on disk.
 */
static void
dns_sec_rebuild(struct dns_srv *s, const char *why, bool strict)
{
	struct dns_srv_zones *z = NULL;
	struct conf_errors errs;
	int rc;

	if (s->conf == NULL || s->stopping)
		return;
	conf_errors_init(&errs);
	rc =
	    dns_load_build(s->conf, s->sec->dir, s->cat_dir, strict, &z, &errs);
	if (rc != 0) {
		s->sec->reload_failed++;
		log_warn("dns secondary reload failed",
		    "worker=%u why=%s err=%s", s->worker, why,
		    log_q(errs.n > 0 ? errs.v[0].msg : "unknown"));
		conf_errors_fini(&errs);
		dns_sec_arm_expiry(s);
		return;
	}
	conf_errors_fini(&errs);
	s->sec->reloads++;
	/* Journal what the primary sent, so we serve IXFR onward. */
	dns_ixfr_update(s->ixfr, s->conf, s->zones, z);
	dns_notify_apply(s, s->zones, z); /* NOTIFY our own secondaries */
	dns_srv_zones_unref(s->zones);
	s->zones = z;
	log_info("dns secondary reload", "worker=%u why=%s", s->worker, why);
	dns_sec_arm_expiry(s);
}

static void
dns_sec_exp_cb(struct ev_timer *t, void *arg)
{
	(void)t;
	dns_sec_rebuild(arg, "expiry", false);
}

void
dns_sec_arm_expiry(struct dns_srv *s)
{
	const struct dns_conf *c = s->conf;
	time_t now = time(NULL);
	int64_t best = -1;

	ev_timer_stop(s->loop, &s->sec->exp_t);
	if (c == NULL || s->zones == NULL || s->zones->sec == NULL)
		return;
	for (size_t i = 0; i < c->nzones; i++) {
		const struct dns_sec_info *in = &s->zones->sec[i];
		int64_t left;

		if (!in->loaded)
			continue;
		left =
		    (int64_t)in->mtime + (int64_t)in->soa.expire - (int64_t)now;
		if (left < 0)
			left = 0;
		if (best < 0 || left < best)
			best = left;
	}
	if (best < 0)
		return;
	/* A day at most: the timer heap wants sane deadlines, and a check
	 * once a day costs nothing. */
	if (best > 86400)
		best = 86400;
	ev_timer_start(s->loop, &s->sec->exp_t,
	    (uint64_t)best * 1000 + DNS_SEC_EXPIRY_SLACK_MS);
}

/* The apex of the secondary zone whose file name is name minus suffix. */
static const uint8_t *
dns_sec_apex_of(const struct dns_conf *c, const char *name, const char *suffix)
{
	char want[DNS_SEC_FILE_MAX];

	for (size_t i = 0; c != NULL && i < c->nzones; i++) {
		if (!dns_zone_item_secondary(&c->zones[i]))
			continue;
		dns_sec_copy_name(c->zones[i].apex, suffix, want, sizeof(want));
		if (strcmp(want, name) == 0)
			return c->zones[i].apex;
	}
	return NULL;
}

static void
dns_sec_inotify_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct dns_srv *s = arg;
	char b[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	bool reload = false;
	const uint8_t *apex;
	ssize_t n;

	(void)io;
	(void)events;
	while ((n = read(s->sec->ifd, b, sizeof(b))) > 0) {
		for (char *p = b; p < b + n;) {
			struct inotify_event *e = (struct inotify_event *)p;

			p += sizeof(*e) + e->len;
			/* Events were lost: a copy may have come. */
			if (e->mask & IN_Q_OVERFLOW)
				reload = true;
			if (e->len == 0 || e->name[0] == '.')
				continue;
			if ((e->mask & IN_MOVED_TO) &&
			    dns_sec_apex_of(s->conf, e->name, ".zone") != NULL)
				reload = true;
			if ((e->mask & IN_CLOSE_WRITE) && s->worker == 0 &&
			    (apex = dns_sec_apex_of(
			         s->conf, e->name, ".notify")) != NULL)
				dns_sec_notify_relayed(s, apex);
		}
	}
	if (reload)
		dns_sec_rebuild(s, "new copy", true);
}

/* Watch the copies' directory (once: it does not move on a reload). */
static void
dns_sec_watch(struct dns_srv *s)
{
	struct dns_sec *sec = s->sec;

	if (sec->ifd >= 0)
		return;
	sec->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (sec->ifd == -1 ||
	    inotify_add_watch(
	        sec->ifd, sec->dir, IN_MOVED_TO | IN_CLOSE_WRITE) == -1) {
		log_warn("dns secondary: directory not watched",
		    "dir=%s errno=%d", log_q(sec->dir), errno);
		if (sec->ifd >= 0)
			close(sec->ifd);
		sec->ifd = -1;
		return;
	}
	ev_io_init(&sec->iio, sec->ifd, dns_sec_inotify_cb, s);
	if (ev_io_start(s->loop, &sec->iio, EV_READ) != 0)
		log_warn("dns secondary: inotify not polled", "dir=%s",
		    log_q(sec->dir));
}

void
dns_sec_apply(struct dns_srv *s, const char *state_dir)
{
	const struct dns_conf *c = s->conf;
	bool any = false;

	for (size_t i = 0; c != NULL && i < c->nzones; i++)
		any |= dns_zone_item_secondary(&c->zones[i]);
	if (any && s->sec->dir[0] != '\0') {
		if (statefile_mkdir(s->sec->dir) != 0)
			log_warn("dns secondary: no directory", "dir=%s",
			    log_q(s->sec->dir));
		dns_sec_watch(s);
	}
	(void)state_dir;
	dns_sec_arm_expiry(s);
	if (s->worker == 0)
		dns_sec_refresh_apply(s);
}

/* Set before the tables are built: dns_load_build reads copies here. */
void
dns_sec_set_dir(struct dns_sec *sec, const char *state_dir)
{
	if (state_dir != NULL && state_dir[0] != '\0')
		snprintf(sec->dir, sizeof(sec->dir), "%s/%s", state_dir,
		    DNS_SEC_DIR);
}

void
dns_sec_stop(struct dns_srv *s)
{
	struct dns_sec *sec = s->sec;

	ev_timer_stop(s->loop, &sec->exp_t);
	if (sec->ifd >= 0) {
		ev_io_stop(s->loop, &sec->iio);
		close(sec->ifd);
		sec->ifd = -1;
	}
	dns_sec_refresh_stop(s);
	dns_sec_notify_stop(s);
}

void
dns_sec_metrics(const struct dns_srv *s, struct buf *out)
{
	static const struct dns_sec zero = { .ifd = -1 };
	const struct dns_sec *sec = s != NULL ? s->sec : &zero;

	mx_family(out, "haven_dns_secondary_reload_total", "counter",
	    "zone tables rebuilt for a new or expired secondary copy");
	mx_u64(out, "haven_dns_secondary_reload_total", NULL, sec->reloads);
	mx_family(out, "haven_dns_secondary_reload_failed_total", "counter",
	    "rebuilds for a secondary copy that failed: old tables kept");
	mx_u64(out, "haven_dns_secondary_reload_failed_total", NULL,
	    sec->reload_failed);
	dns_sec_refresh_metrics(sec, out);
	dns_sec_notify_metrics(sec, out);
}

void
dns_sec_zone_json(struct dns_srv *s, size_t i, struct jw *w)
{
	const struct dns_sec_info *in;

	if (s->zones == NULL || s->zones->sec == NULL)
		return;
	in = &s->zones->sec[i];
	if (!in->secondary)
		return;
	jw_kbool(w, "secondary", true);
	jw_kbool(w, "loaded", in->loaded);
	jw_kbool(w, "expired", in->expired);
	if (in->loaded || in->expired)
		jw_kuint(w, "serial", in->soa.serial);
	jw_key(w, "last_refresh");
	if (in->mtime != 0)
		jw_int(w, (int64_t)in->mtime);
	else
		jw_null(w);
	if (s->worker == 0)
		dns_sec_refresh_json(s, s->conf->zones[i].apex, w);
	else
		dns_sec_refresh_json_saved(s, s->conf->zones[i].apex, w);
}
