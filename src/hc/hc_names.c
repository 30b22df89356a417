/*
 * hc_names.c - the names of hc.h's states and reasons, as they appear in the
 * API, in logs, in metrics labels and in the persisted state file. A name,
 * once published, never changes: dashboards and the state file depend on it.
 */
#include <string.h>

#include "hc/hc.h"
#include "lib/util.h"

static const char *const hc_state_names[HC__STATE_COUNT] = {
	[HC_UNKNOWN] = "unknown",
	[HC_UP] = "up",
	[HC_DOWN] = "down",
};

static const char *const hc_reason_names[HC__REASON_COUNT] = {
	[HC_R_OK] = "ok",
	[HC_R_CONNECT_REFUSED] = "connect_refused",
	[HC_R_TIMEOUT] = "timeout",
	[HC_R_UNREACHABLE] = "unreachable",
	[HC_R_RESET] = "reset",
	[HC_R_CLOSED] = "closed",
	[HC_R_BAD_STATUS] = "bad_status",
	[HC_R_BODY_MISMATCH] = "body_mismatch",
	[HC_R_PROTOCOL_ERROR] = "protocol_error",
	[HC_R_TLS_ERROR] = "tls_error",
	[HC_R_DNS_RCODE] = "dns_rcode",
	[HC_R_DNS_ANSWER] = "dns_answer",
	[HC_R_EXEC_FAILED] = "exec_failed",
	[HC_R_TOO_LARGE] = "too_large",
	[HC_R_PASSIVE_EJECTED] = "passive_ejected",
	[HC_R_DAMPED] = "damped",
	[HC_R_INTERNAL] = "internal",
	[HC_R_RESTORED] = "restored",
	[HC_R_ADMIN] = "admin",
	[HC_R_NOT_PROBED] = "not_probed",
};

const char *
hc_state_name(enum hc_state s)
{
	if ((unsigned)s >= ARRAY_SIZE(hc_state_names))
		return "invalid";
	return hc_state_names[s];
}

const char *
hc_reason_name(enum hc_reason r)
{
	if ((unsigned)r >= ARRAY_SIZE(hc_reason_names))
		return "invalid";
	return hc_reason_names[r];
}

int
hc_reason_parse(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(hc_reason_names); i++)
		if (strcmp(hc_reason_names[i], name) == 0)
			return (int)i;
	return -1;
}
