/*
 * Unit tests for snap_conf.c's volume keys: retention (retain: last,
 * hourly, daily; keep: as the older spelling of retain.last, not both;
 * 10 newest when nothing is said) and consistency (freeze mount points
 * and hook argv must be absolute paths; the timeouts' defaults), and
 * change detection (detect and the dirty_bytes / dirty_paths triggers
 * that only some methods can measure).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_test.h"
#include "lib/util.h"
#include "runner.h"
#include "snap/snap_cd.h"
#include "snap/snap_conf.h"

static char t_psk[64];

/* snap: with a store, a key file and one volume given by vol (indented
 * as the volume's keys). */
static size_t
t_bind(const char *vol, struct snap_conf *c, char *first, size_t flen)
{
	char *text;
	size_t n;
	int fd;

	snprintf(t_psk, sizeof(t_psk), "/tmp/haven-snap-psk-XXXXXX");
	fd = mkstemp(t_psk);
	T_ASSERT(fd != -1);
	T_EQ_INT(util_write_all(fd,
	             "0123456789abcdef0123456789abcdef"
	             "0123456789abcdef0123456789abcdef",
	             64),
	    0);
	close(fd);
	text = xasprintf("store: /var/lib/haven/snap\npsk_file: %s\n"
	                 "volumes:\n  - name: vm1\n    source: /srv/vm1.img\n"
	                 "%s",
	    t_psk, vol);
	n = t_conf_bind(&snap_conf_schema, text, c, first, flen);
	free(text);
	unlink(t_psk);
	return n;
}

static void
t_error(const char *vol, const char *want)
{
	struct snap_conf c;
	char first[512];
	size_t n = t_bind(vol, &c, first, sizeof(first));

	if (n != 1 || strstr(first, want) == NULL)
		test_fail(__FILE__, __LINE__,
		    "%zu errors, first \"%s\", want \"%s\"", n, first, want);
}

static void
test_retain_defaults_and_alias(void)
{
	struct snap_conf c;

	T_EQ_INT(t_bind("", &c, NULL, 0), 0);
	T_EQ_INT(c.volumes[0].retain.last, 10);
	T_EQ_INT(c.volumes[0].retain.hourly, 0);
	conf_schema_free(&snap_conf_schema, &c);
	T_EQ_INT(t_bind("    keep: 5\n", &c, NULL, 0), 0);
	T_EQ_INT(c.volumes[0].retain.last, 5);
	conf_schema_free(&snap_conf_schema, &c);
	/* hourly alone: no `last` added behind the operator's back. */
	T_EQ_INT(
	    t_bind("    retain: {hourly: 24, daily: 7}\n", &c, NULL, 0), 0);
	T_EQ_INT(c.volumes[0].retain.last, 0);
	T_EQ_INT(c.volumes[0].retain.hourly, 24);
	T_EQ_INT(c.volumes[0].retain.daily, 7);
	conf_schema_free(&snap_conf_schema, &c);
}

static void
test_retain_errors(void)
{
	t_error("    keep: 5\n    retain: {last: 3}\n", "keep: is retain.last");
	t_error("    retain: {weekly: 3}\n", "weekly");
	t_error("    keep: 0\n", "keep");
}

/* detect: auto by default, the three methods by name, nothing else. */
static void
test_detect_key(void)
{
	struct snap_conf c;

	T_EQ_INT(t_bind("", &c, NULL, 0), 0);
	T_EQ_INT(c.volumes[0].detect, SNAP_CD_AUTO);
	conf_schema_free(&snap_conf_schema, &c);
	T_EQ_INT(t_bind("    detect: rescan\n", &c, NULL, 0), 0);
	T_EQ_INT(c.volumes[0].detect, SNAP_CD_RESCAN);
	conf_schema_free(&snap_conf_schema, &c);
	T_EQ_INT(t_bind("    detect: reflink\n", &c, NULL, 0), 0);
	T_EQ_INT(c.volumes[0].detect, SNAP_CD_REFLINK);
	conf_schema_free(&snap_conf_schema, &c);
	t_error("    detect: fiemap\n", "detect");
	/* A directory's watcher: inotify, and its dirty_paths trigger. */
	T_EQ_INT(
	    t_bind("    detect: inotify\n    dirty_paths: 100\n", &c, NULL, 0),
	    0);
	T_EQ_INT(c.volumes[0].detect, SNAP_CONF_DETECT_INOTIFY);
	T_EQ_INT(c.volumes[0].dirty_paths, 100);
	conf_schema_free(&snap_conf_schema, &c);
	T_EQ_INT(t_bind("    dirty_paths: 10\n", &c, NULL, 0), 0);
	conf_schema_free(&snap_conf_schema, &c);
	t_error("    detect: rescan\n    dirty_paths: 10\n",
	    "dirty_paths needs detect: auto or inotify");
	t_error("    detect: inotify\n    dirty_bytes: 1m\n",
	    "dirty_bytes needs detect: auto or reflink");
}

static void
test_freeze_keys(void)
{
	struct snap_conf c;

	T_EQ_INT(t_bind("    freeze: [/srv/a, /srv/b]\n"
	                "    pre_hook: [/usr/local/bin/flush, --all]\n"
	                "    post_hook: [/usr/local/bin/resume]\n",
	             &c, NULL, 0),
	    0);
	T_EQ_INT(c.volumes[0].nfreeze, 2);
	T_EQ_STR(c.volumes[0].freeze[1], "/srv/b");
	T_EQ_INT(c.volumes[0].npre_hook, 2);
	T_EQ_STR(c.volumes[0].pre_hook[1], "--all");
	T_ASSERT(c.volumes[0].pre_hook[2] == NULL);
	T_EQ_INT(c.volumes[0].freeze_timeout_ms, 30000);
	T_EQ_INT(c.volumes[0].hook_timeout_ms, 60000);
	conf_schema_free(&snap_conf_schema, &c);
	t_error("    freeze: [srv/a]\n", "not an absolute path");
	t_error("    pre_hook: [flush]\n", "absolute path");
	t_error("    post_hook: [resume]\n", "absolute path");
	t_error("    freeze_timeout: 11m\n", "freeze_timeout");
}

static const struct test tests[] = {
	TEST(test_retain_defaults_and_alias),
	TEST(test_retain_errors),
	TEST(test_freeze_keys),
	TEST(test_detect_key),
};

TEST_MAIN(tests)
