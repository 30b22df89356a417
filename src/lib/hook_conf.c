/*
 * hook_conf.c - the alarm schema shared by the planes: see hook_conf.h.
 */
#include <stddef.h>
#include <string.h>

#include "lib/hook_conf.h"
#include "lib/util.h"

static const struct conf_key hook_alarm_keys[] = {
	{ .name = "webhook",
	    .type = CT_STRING,
	    .off = offsetof(struct hook_alarm_conf, webhook),
	    .help = "http://ip:port/path receiving a JSON POST per event" },
	{ .name = "exec",
	    .type = CT_STRING,
	    .off = offsetof(struct hook_alarm_conf, exec),
	    .help = "command run through /bin/sh -c per event "
	            "(HAVEN_EVENT and the event's fields in its environment)" },
	{ .name = "retries",
	    .type = CT_UINT,
	    .off = offsetof(struct hook_alarm_conf, retries),
	    .dflt = "3",
	    .min = 0,
	    .max = 20,
	    .help = "attempts after a failed first one" },
	{ .name = "timeout",
	    .type = CT_DURATION,
	    .off = offsetof(struct hook_alarm_conf, timeout_ms),
	    .dflt = "5s",
	    .min = 1,
	    .max = 600000,
	    .help = "time one webhook attempt or exec run may take" },
};

static void
hook_alarm_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct hook_alarm_conf *c = obj;

	if (c->webhook != NULL && strncmp(c->webhook, "http://", 7) != 0)
		conf_error(ctx, conf_key_node(node, "webhook"),
		    "webhook must be an http:// URL");
	if (c->exec != NULL && c->exec[0] == '\0')
		conf_error(
		    ctx, conf_key_node(node, "exec"), "exec must not be empty");
}

const struct conf_schema hook_alarm_schema = {
	.name = "alarms",
	.size = sizeof(struct hook_alarm_conf),
	.keys = hook_alarm_keys,
	.nkeys = ARRAY_SIZE(hook_alarm_keys),
	.check = hook_alarm_check,
};
