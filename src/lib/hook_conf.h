/*
 * hook_conf.h - the config of an alarm: where a plane's events go through
 * lib/hook.c, a webhook and/or an exec command. One schema for every plane
 * that sends alarms (`dns.alarms`, `snap.alarms`, `health.hooks` and each
 * check's `hooks`): the keys, defaults and
 * checks are the same, only the events differ.
 *
 *   alarms: { webhook: "http://127.0.0.1:9099/x", exec: "/usr/bin/page",
 *             retries: 3, timeout: 5s }
 */
#ifndef HAVEN_HOOK_CONF_H
#define HAVEN_HOOK_CONF_H

#include <stdint.h>

#include "lib/conf.h"

struct hook_alarm_conf {
	char *webhook;       /* owned: http://ip:port/path, or NULL */
	char *exec;          /* owned: shell command, or NULL */
	uint32_t retries;    /* webhook attempts after a failed first one */
	uint64_t timeout_ms; /* per attempt */
};

extern const struct conf_schema hook_alarm_schema;

#endif
