/*
 * vrrp_conf.c - schema of the `vrrp:` section: every key's type, range and
 * default, and the rules across keys (one family per instance, v2's
 * whole-second intervals, one virtual router per interface and vrid).
 *
 * Table data plus check hooks that only report, as lb_conf.c. Defaults are
 * keepalived's where it has one (priority 100, advert 1 s, preempt on,
 * five gratuitous ARPs again after 5 s), so a keepalived.conf carried over
 * key for key behaves the same; the README has the mapping.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/log.h"
#include "lib/plane.h"
#include "lib/util.h"
#include "vrrp/vrrp_addr.h"
#include "vrrp/vrrp_conf.h"
#include "vrrp/vrrp_tk.h"

#define VRRP_CONF_HOUR_MS (3600 * 1000)

static const char *const vrrp_conf_csum_names[] = { "pseudo", "message", NULL };
/* Indexed by enum vrrp_tk_kind. */
static const char *const vrrp_conf_takeover_names[] = { "local", "havip",
	"exec", NULL };
static const char *const vrrp_conf_auth_names[] = { "none", "hmac-sha256",
	NULL };

const char *
vrrp_preempt_name(int preempt)
{
	switch (preempt) {
	case VRRP_CONF_PREEMPT_NEVER:
		return "never";
	case VRRP_CONF_PREEMPT_AFTER:
		return "after";
	case VRRP_CONF_PREEMPT_AFTER_HEALTHY:
		return "after healthy";
	default:
		return "immediate";
	}
}

/* preempt: never | immediate | after D | after healthy D */
static int
vrrp_conf_parse_preempt(struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	struct vrrp_instance_conf *ic =
	    container_of(dst, struct vrrp_instance_conf, preempt);
	char *v = conf_node_text(node);
	const char *d = NULL;
	int rc = 0;

	ic->preempt_delay_ms = 0;
	if (v != NULL && strcmp(v, "never") == 0)
		ic->preempt = VRRP_CONF_PREEMPT_NEVER;
	else if (v != NULL && strcmp(v, "immediate") == 0)
		ic->preempt = VRRP_CONF_PREEMPT_IMMEDIATE;
	else if (v != NULL && strncmp(v, "after healthy ", 14) == 0) {
		ic->preempt = VRRP_CONF_PREEMPT_AFTER_HEALTHY;
		d = v + 14;
	} else if (v != NULL && strncmp(v, "after ", 6) == 0) {
		ic->preempt = VRRP_CONF_PREEMPT_AFTER;
		d = v + 6;
	} else
		rc = -1;
	if (d != NULL &&
	    (conf_parse_duration(d, &ic->preempt_delay_ms) != 0 ||
	        ic->preempt_delay_ms > VRRP_CONF_HOUR_MS))
		rc = -1;
	free(v);
	if (rc != 0)
		conf_error(ctx, node,
		    "preempt: expected never, immediate, \"after 30s\" or "
		    "\"after healthy 30s\" (at most 1h)");
	return rc;
}

static void
vrrp_conf_preempt_json(const void *src, struct jw *w)
{
	const struct vrrp_instance_conf *ic =
	    container_of(src, struct vrrp_instance_conf, preempt);
	char d[32], s[64];

	if (ic->preempt != VRRP_CONF_PREEMPT_AFTER &&
	    ic->preempt != VRRP_CONF_PREEMPT_AFTER_HEALTHY) {
		jw_str(w, vrrp_preempt_name(ic->preempt));
		return;
	}
	conf_fmt_duration(ic->preempt_delay_ms, d, sizeof(d));
	snprintf(s, sizeof(s), "%s %s", vrrp_preempt_name(ic->preempt), d);
	jw_str(w, s);
}

/*
 * One address of a sequence: "198.18.0.100", "198.18.0.100/24",
 * "2001:db8::1/64" (with_prefix), or a bare address; parsed as the
 * netlink side will use it (vrrp_addr_ip_parse). 0 or -1.
 */
static int
vrrp_conf_parse_one(const char *v, bool with_prefix,
    struct sockaddr_storage *ss, uint8_t *prefix)
{
	struct vrrp_addr_ip ip;

	if ((!with_prefix && strchr(v, '/') != NULL) ||
	    vrrp_addr_ip_parse(v, &ip) != 0 || ip.prefixlen == 0)
		return -1;
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = ip.family;
	if (ip.family == AF_INET)
		((struct sockaddr_in *)ss)->sin_addr = ip.u.v4;
	else
		((struct sockaddr_in6 *)ss)->sin6_addr = ip.u.v6;
	if (prefix != NULL)
		*prefix = ip.prefixlen;
	return 0;
}

/*
 * A sequence of addresses into a new array at *dst (replacing what was
 * there) with its count at *np. An empty sequence or null is no address.
 */
static int
vrrp_conf_parse_addrs(struct conf_ctx *ctx, struct conf_node *node,
    bool with_prefix, void **dst, size_t *np)
{
	size_t i, n = conf_node_count(node), esz;
	unsigned char *arr;
	int rc = 0;

	free(*dst);
	*dst = NULL;
	*np = 0;
	if (conf_node_is_null(node))
		return 0;
	if (!conf_node_is_seq(node)) {
		conf_error(ctx, node, "expected a list of addresses");
		return -1;
	}
	esz = with_prefix ? sizeof(struct vrrp_vaddr) :
	                    sizeof(struct sockaddr_storage);
	arr = calloc(n ? n : 1, esz);
	if (arr == NULL) {
		conf_error(ctx, node, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct conf_node *it = conf_node_item(node, i);
		char *v = conf_node_text(it);
		void *e = arr + i * esz;
		struct sockaddr_storage *ss = with_prefix ?
		    &((struct vrrp_vaddr *)e)->addr :
		    (struct sockaddr_storage *)e;
		uint8_t *pfx =
		    with_prefix ? &((struct vrrp_vaddr *)e)->prefix : NULL;

		if (v == NULL || vrrp_conf_parse_one(v, with_prefix, ss, pfx)) {
			conf_error(ctx, it,
			    with_prefix ?
			        "expected an address with an optional prefix, "
			        "like 198.51.100.10/24 or 2001:db8::10/64" :
			        "expected an address, like 198.51.100.2");
			rc = -1;
		}
		free(v);
	}
	*dst = arr;
	*np = n;
	return rc;
}

static int
vrrp_conf_parse_vaddrs(struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	struct vrrp_instance_conf *ic =
	    container_of(dst, struct vrrp_instance_conf, vaddrs);

	return vrrp_conf_parse_addrs(
	    ctx, node, true, (void **)&ic->vaddrs, &ic->nvaddrs);
}

static int
vrrp_conf_parse_peers(struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	struct vrrp_instance_conf *ic =
	    container_of(dst, struct vrrp_instance_conf, peers);

	return vrrp_conf_parse_addrs(
	    ctx, node, false, (void **)&ic->peers, &ic->npeers);
}

static void
vrrp_conf_vaddrs_json(const void *src, struct jw *w)
{
	const struct vrrp_instance_conf *ic =
	    container_of(src, struct vrrp_instance_conf, vaddrs);
	char a[64], s[80];
	size_t i;

	jw_arr_begin(w);
	for (i = 0; i < ic->nvaddrs; i++) {
		conf_addr_str(&ic->vaddrs[i].addr, a, sizeof(a));
		snprintf(s, sizeof(s), "%s/%u", a, ic->vaddrs[i].prefix);
		jw_str(w, s);
	}
	jw_arr_end(w);
}

static void
vrrp_conf_peers_json(const void *src, struct jw *w)
{
	const struct vrrp_instance_conf *ic =
	    container_of(src, struct vrrp_instance_conf, peers);
	char a[64];
	size_t i;

	jw_arr_begin(w);
	for (i = 0; i < ic->npeers; i++)
		jw_str(w, conf_addr_str(&ic->peers[i], a, sizeof(a)));
	jw_arr_end(w);
}

#define VRRP_K(n, t, st, f, d, lo, hi, h)                                      \
	{                                                                      \
		.name = n, .type = t, .off = offsetof(struct st, f),           \
		.dflt = d, .min = lo, .max = hi, .help = h                     \
	}
#define VRRP_R(n, t, st, f, lo, hi, h)                                         \
	{                                                                      \
		.name = n, .type = t, .off = offsetof(struct st, f),           \
		.min = lo, .max = hi, .flags = CK_REQUIRED, .help = h          \
	}

static const struct conf_key vrrp_conf_garp_keys[] = {
	VRRP_K("master_delay", CT_DURATION, vrrp_garp_conf, master_delay_ms,
	    "5s", 0, VRRP_CONF_HOUR_MS,
	    "a second burst this long after becoming master (0: none)"),
	VRRP_K("master_repeat", CT_UINT, vrrp_garp_conf, master_repeat, "5", 1,
	    100, "announcements per burst"),
	VRRP_K("interval", CT_DURATION, vrrp_garp_conf, interval_ms, "0s", 0,
	    1000, "pause between the announcements of a burst"),
	VRRP_K("master_refresh", CT_DURATION, vrrp_garp_conf, master_refresh_ms,
	    "0s", 0, VRRP_CONF_HOUR_MS,
	    "repeat a burst this often while master (0: never)"),
};

static const struct conf_schema vrrp_conf_garp_schema = {
	.name = "vrrp.instances[].garp",
	.size = sizeof(struct vrrp_garp_conf),
	.keys = vrrp_conf_garp_keys,
	.nkeys = ARRAY_SIZE(vrrp_conf_garp_keys),
};

static const struct conf_key vrrp_conf_havip_keys[] = {
	VRRP_K("gateway", CT_ADDR, vrrp_havip_conf, gateway, NULL, 0, 0,
	    "IPv4 address pinged from the VIP: its replies prove ownership"),
	VRRP_K("probe_interval", CT_DURATION, vrrp_havip_conf,
	    probe_interval_ms, "200ms", 10, 60000,
	    "one echo request to the gateway this often while master"),
	VRRP_K("probe_fall", CT_UINT, vrrp_havip_conf, probe_fall, "3", 1, 100,
	    "unanswered requests in a row: another node owns the VIP (or, "
	    "owner probes: it is gone)"),
	VRRP_K("reannounce_max", CT_DURATION, vrrp_havip_conf,
	    reannounce_max_ms, "30s", 1000, VRRP_CONF_HOUR_MS,
	    "not the owner, owner unprobed or lost again: announce after "
	    "1s, doubling up to this"),
};

static const struct conf_schema vrrp_conf_havip_schema = {
	.name = "vrrp.instances[].havip",
	.size = sizeof(struct vrrp_havip_conf),
	.keys = vrrp_conf_havip_keys,
	.nkeys = ARRAY_SIZE(vrrp_conf_havip_keys),
};

static const struct conf_key vrrp_conf_auth_keys[] = {
	{ .name = "type",
	    .type = CT_ENUM,
	    .off = offsetof(struct vrrp_auth_conf, type),
	    .dflt = "none",
	    .enum_names = vrrp_conf_auth_names,
	    .help = "none | hmac-sha256 (haven's own trailer, unicast only)" },
	VRRP_K("key_file", CT_STRING, vrrp_auth_conf, key_file, NULL, 0, 0,
	    "file holding the key, 16-64 bytes, not readable by others"),
	VRRP_K("key_id", CT_UINT, vrrp_auth_conf, key_id, "1", 0, 255,
	    "key id sent and required in the trailer"),
};

static const struct conf_schema vrrp_conf_auth_schema = {
	.name = "vrrp.instances[].auth",
	.size = sizeof(struct vrrp_auth_conf),
	.keys = vrrp_conf_auth_keys,
	.nkeys = ARRAY_SIZE(vrrp_conf_auth_keys),
};

static const struct conf_key vrrp_conf_exec_keys[] = {
	VRRP_K("acquire", CT_STRING, vrrp_exec_conf, acquire, NULL, 0, 0,
	    "shell command that moves the VIP here (provider CLI)"),
	VRRP_K("release", CT_STRING, vrrp_exec_conf, release, NULL, 0, 0,
	    "shell command run on leaving master, after any acquire"),
	VRRP_K("describe", CT_STRING, vrrp_exec_conf, describe, NULL, 0, 0,
	    "shell command printing the provider's current state"),
	VRRP_K("expect", CT_STRING, vrrp_exec_conf, expect, NULL, 0, 0,
	    "text in describe's output that proves this node owns the VIP"),
	VRRP_K("timeout", CT_DURATION, vrrp_exec_conf, timeout_ms, "10s", 100,
	    VRRP_CONF_HOUR_MS, "each run is killed past this"),
	VRRP_K("retries", CT_UINT, vrrp_exec_conf, retries, "5", 0, 1000,
	    "acquires after a failed or unverified first one, then FAILED"),
	VRRP_K("backoff", CT_DURATION, vrrp_exec_conf, backoff_ms, "1s", 10,
	    VRRP_CONF_HOUR_MS, "pause before the first retry, doubling"),
	VRRP_K("backoff_max", CT_DURATION, vrrp_exec_conf, backoff_max_ms,
	    "30s", 10, VRRP_CONF_HOUR_MS,
	    "cap of the pause; FAILED keeps retrying this often"),
	VRRP_K("verify_interval", CT_DURATION, vrrp_exec_conf,
	    verify_interval_ms, "0s", 0, VRRP_CONF_HOUR_MS,
	    "re-run describe this often while master, re-acquire when it "
	    "no longer shows us (0: verify once)"),
};

static const struct conf_schema vrrp_conf_exec_schema = {
	.name = "vrrp.instances[].exec",
	.size = sizeof(struct vrrp_exec_conf),
	.keys = vrrp_conf_exec_keys,
	.nkeys = ARRAY_SIZE(vrrp_conf_exec_keys),
};

static const struct conf_key vrrp_conf_track_if_keys[] = {
	VRRP_R("name", CT_STRING, vrrp_track_if_conf, name, 0, 0,
	    "interface whose link is tracked"),
	VRRP_K("weight", CT_UINT, vrrp_track_if_conf, weight, "0", 0, 254,
	    "down: priority minus weight; 0: FAULT"),
};

static const struct conf_schema vrrp_conf_track_if_schema = {
	.name = "vrrp.instances[].track_interfaces[]",
	.size = sizeof(struct vrrp_track_if_conf),
	.keys = vrrp_conf_track_if_keys,
	.nkeys = ARRAY_SIZE(vrrp_conf_track_if_keys),
};

/* address: "198.51.100.5" or "198.51.100.5:80" (the check may set one). */
static int
vrrp_conf_parse_track_addr(
    struct conf_ctx *ctx, struct conf_node *node, void *dst)
{
	char *v = conf_node_text(node);
	bool ok = v != NULL &&
	    (conf_parse_addr(v, true, dst) == 0 ||
	        conf_parse_addr(v, false, dst) == 0);

	free(v);
	if (!ok) {
		conf_error(ctx, node,
		    "address: expected 198.51.100.5, 198.51.100.5:80 or "
		    "[2001:db8::5]:80");
		return -1;
	}
	return 0;
}

static void
vrrp_conf_track_addr_json(const void *src, struct jw *w)
{
	char a[64];

	jw_str(w, conf_addr_str(src, a, sizeof(a)));
}

static const struct conf_key vrrp_conf_track_check_keys[] = {
	VRRP_R("name", CT_STRING, vrrp_track_check_conf, name, 0, 0,
	    "unique within the instance"),
	{ .name = "address",
	    .type = CT_CUSTOM,
	    .off = offsetof(struct vrrp_track_check_conf, address),
	    .custom = vrrp_conf_parse_track_addr,
	    .to_json = vrrp_conf_track_addr_json,
	    .flags = CK_REQUIRED,
	    .help = "what the check probes (port optional)" },
	VRRP_R("check", CT_STRING, vrrp_track_check_conf, check, 0, 0,
	    "a template in health.checks"),
	VRRP_K("weight", CT_UINT, vrrp_track_check_conf, weight, "0", 0, 254,
	    "down: priority minus weight; 0: FAULT"),
};

static const struct conf_schema vrrp_conf_track_check_schema = {
	.name = "vrrp.instances[].track_checks[]",
	.size = sizeof(struct vrrp_track_check_conf),
	.keys = vrrp_conf_track_check_keys,
	.nkeys = ARRAY_SIZE(vrrp_conf_track_check_keys),
};

static const struct conf_key vrrp_conf_track_pool_keys[] = {
	VRRP_R("pool", CT_STRING, vrrp_track_pool_conf, pool, 0, 0,
	    "a pool in lb.pools with a health_check"),
	VRRP_K("min_up", CT_UINT, vrrp_track_pool_conf, min_up, "1", 1, 65535,
	    "servers the health engine must not report down"),
	VRRP_K("weight", CT_UINT, vrrp_track_pool_conf, weight, "0", 0, 254,
	    "fewer up: priority minus weight; 0: FAULT"),
};

static const struct conf_schema vrrp_conf_track_pool_schema = {
	.name = "vrrp.instances[].track_pools[]",
	.size = sizeof(struct vrrp_track_pool_conf),
	.keys = vrrp_conf_track_pool_keys,
	.nkeys = ARRAY_SIZE(vrrp_conf_track_pool_keys),
};

static const struct conf_key vrrp_conf_instance_keys[] = {
	VRRP_R("name", CT_STRING, vrrp_instance_conf, name, 0, 0,
	    "unique instance name"),
	VRRP_R("interface", CT_STRING, vrrp_instance_conf, interface, 0, 0,
	    "interface the adverts and the addresses use"),
	VRRP_R("vrid", CT_UINT, vrrp_instance_conf, vrid, 1, 255,
	    "virtual router id (keepalived virtual_router_id)"),
	VRRP_K("priority", CT_UINT, vrrp_instance_conf, priority, "100", 1, 255,
	    "election priority; 255: the address owner"),
	VRRP_K("version", CT_UINT, vrrp_instance_conf, version, "3", 2, 3,
	    "VRRP version: 3 (RFC 9568) or 2 (RFC 3768, IPv4)"),
	VRRP_K("advert_interval", CT_DURATION, vrrp_instance_conf,
	    advert_interval_ms, "1s", 10, 40950,
	    "advertisement interval, 10ms to 40.95s (v2: whole seconds)"),
	{ .name = "virtual_addresses",
	    .type = CT_CUSTOM,
	    .off = offsetof(struct vrrp_instance_conf, vaddrs),
	    .custom = vrrp_conf_parse_vaddrs,
	    .to_json = vrrp_conf_vaddrs_json,
	    .flags = CK_REQUIRED,
	    .help = "the VIPs, address[/prefix], all of one family" },
	{ .name = "unicast_peers",
	    .type = CT_CUSTOM,
	    .off = offsetof(struct vrrp_instance_conf, peers),
	    .custom = vrrp_conf_parse_peers,
	    .to_json = vrrp_conf_peers_json,
	    .help = "send adverts to these; none: multicast" },
	VRRP_K("unicast_src", CT_ADDR, vrrp_instance_conf, unicast_src, NULL, 0,
	    0, "source of unicast adverts (default: the interface's)"),
	{ .name = "preempt",
	    .type = CT_CUSTOM,
	    .off = offsetof(struct vrrp_instance_conf, preempt),
	    .dflt = "immediate",
	    .custom = vrrp_conf_parse_preempt,
	    .to_json = vrrp_conf_preempt_json,
	    .help = "never | immediate | after D | after healthy D" },
	VRRP_K("accept", CT_BOOL, vrrp_instance_conf, accept, "false", 0, 0,
	    "as master, accept packets to the VIPs (non-owner)"),
	VRRP_K("stop_priority_zero", CT_BOOL, vrrp_instance_conf, stop_zero,
	    "true", 0, 0, "on a graceful stop, hand over at once"),
	{ .name = "checksum",
	    .type = CT_ENUM,
	    .off = offsetof(struct vrrp_instance_conf, checksum),
	    .dflt = "pseudo",
	    .enum_names = vrrp_conf_csum_names,
	    .help = "v3 IPv4 checksum sent: pseudo (keepalived) or message" },
	{ .name = "garp",
	    .type = CT_SECTION,
	    .off = offsetof(struct vrrp_instance_conf, garp),
	    .sub = &vrrp_conf_garp_schema,
	    .help = "gratuitous ARP / unsolicited NA after takeover" },
	{ .name = "takeover",
	    .type = CT_ENUM,
	    .off = offsetof(struct vrrp_instance_conf, takeover),
	    .dflt = "local",
	    .enum_names = vrrp_conf_takeover_names,
	    .help = "local (address + announcements), havip (the same, "
	            "ownership verified through the VPC) or exec (the same, "
	            "then a provider CLI)" },
	{ .name = "havip",
	    .type = CT_SECTION,
	    .off = offsetof(struct vrrp_instance_conf, havip),
	    .sub = &vrrp_conf_havip_schema,
	    .help = "takeover: havip: the gateway to probe and the back-off" },
	{ .name = "auth",
	    .type = CT_SECTION,
	    .off = offsetof(struct vrrp_instance_conf, auth),
	    .sub = &vrrp_conf_auth_schema,
	    .help = "authenticate unicast adverts (HMAC-SHA256, anti-replay)" },
	{ .name = "track_interfaces",
	    .type = CT_LIST,
	    .off = offsetof(struct vrrp_instance_conf, track_interfaces),
	    .count_off = offsetof(struct vrrp_instance_conf, ntrack_interfaces),
	    .sub = &vrrp_conf_track_if_schema,
	    .help = "links whose state lowers the priority or faults" },
	{ .name = "track_checks",
	    .type = CT_LIST,
	    .off = offsetof(struct vrrp_instance_conf, track_checks),
	    .count_off = offsetof(struct vrrp_instance_conf, ntrack_checks),
	    .sub = &vrrp_conf_track_check_schema,
	    .help = "health checks whose verdicts lower the priority or "
	            "fault" },
	VRRP_K("notify_master", CT_STRING, vrrp_instance_conf, notify.master,
	    NULL, 0, 0, "shell command run on becoming master"),
	VRRP_K("notify_backup", CT_STRING, vrrp_instance_conf, notify.backup,
	    NULL, 0, 0, "shell command run on becoming backup"),
	VRRP_K("notify_fault", CT_STRING, vrrp_instance_conf, notify.fault,
	    NULL, 0, 0, "shell command run on entering fault"),
	VRRP_K("notify_stop", CT_STRING, vrrp_instance_conf, notify.stop, NULL,
	    0, 0, "shell command run when the instance stops"),
	VRRP_K("notify", CT_STRING, vrrp_instance_conf, notify.any, NULL, 0, 0,
	    "shell command run on every transition with the arguments "
	    "INSTANCE NAME STATE PRIORITY (keepalived)"),
	VRRP_K("notify_timeout", CT_DURATION, vrrp_instance_conf,
	    notify.timeout_ms, "10s", 100, VRRP_CONF_HOUR_MS,
	    "each notify run is killed past this"),
	{ .name = "track_pools",
	    .type = CT_LIST,
	    .off = offsetof(struct vrrp_instance_conf, track_pools),
	    .count_off = offsetof(struct vrrp_instance_conf, ntrack_pools),
	    .sub = &vrrp_conf_track_pool_schema,
	    .help = "lb pools whose usable servers lower the priority or "
	            "fault" },
	{ .name = "exec",
	    .type = CT_SECTION,
	    .off = offsetof(struct vrrp_instance_conf, exec),
	    .sub = &vrrp_conf_exec_schema,
	    .help = "takeover: exec: the provider CLI's commands, timeout "
	            "and retries" },
};

static bool
vrrp_conf_same_family(const struct sockaddr_storage *ss, int family)
{
	return ss->ss_family == AF_UNSPEC || ss->ss_family == family;
}

/*
 * takeover: havip proves ownership by pinging from the one VIP, and
 * HAVIPs are IPv4 only (reference/vip.md §5.1 quotas).
 */
static void
vrrp_conf_havip_check(struct conf_ctx *ctx, struct conf_node *node,
    const struct vrrp_instance_conf *ic)
{
	struct conf_node *h = conf_key_node(node, "havip");

	/* A havip: map of defaults alone is what JSON output carries for
	 * every instance; a gateway says the operator meant havip. */
	if (ic->takeover != VRRP_TK_HAVIP) {
		if (ic->havip.gateway.ss_family != AF_UNSPEC)
			conf_error(ctx, conf_key_node(h, "gateway"),
			    "havip.gateway: only with takeover: havip");
		return;
	}
	if (ic->nvaddrs != 1 || ic->family != AF_INET)
		conf_error(ctx, conf_key_node(node, "virtual_addresses"),
		    "virtual_addresses: takeover havip takes exactly one "
		    "IPv4 address");
	if (h == NULL)
		conf_error(ctx, conf_key_node(node, "takeover"),
		    "takeover havip: a havip: map with a gateway is "
		    "required");
	else if (ic->havip.gateway.ss_family != AF_INET)
		conf_error(ctx,
		    conf_key_node(h, "gateway") ? conf_key_node(h, "gateway") :
		                                  h,
		    "havip.gateway: an IPv4 address is required");
}

/*
 * auth needs unicast peers: the replay state is per peer, and a group
 * advert cannot carry one MAC per receiver's destination address. The
 * key file itself is read by the vrrp process at apply.
 */
static void
vrrp_conf_auth_check(struct conf_ctx *ctx, struct conf_node *node,
    const struct vrrp_instance_conf *ic)
{
	struct conf_node *an = conf_key_node(node, "auth");

	if (an == NULL)
		an = node;
	if (ic->auth.type == VRRP_CONF_AUTH_NONE) {
		if (ic->auth.key_file != NULL)
			conf_error(ctx, conf_key_node(an, "key_file"),
			    "auth: key_file without type: hmac-sha256");
		return;
	}
	if (ic->auth.key_file == NULL || ic->auth.key_file[0] == '\0')
		conf_error(ctx, an, "auth: key_file is required");
	if (ic->npeers == 0)
		conf_error(ctx, an,
		    "auth: needs unicast_peers (the trailer is for unicast "
		    "adverts only)");
}

/* An exec: key's node, else the map's, else the instance's. */
static struct conf_node *
vrrp_conf_exec_node(struct conf_node *node, const char *key)
{
	struct conf_node *x = conf_key_node(node, "exec"), *k;

	if (x == NULL)
		return node;
	if (key == NULL || (k = conf_key_node(x, key)) == NULL)
		return x;
	return k;
}

static bool
vrrp_conf_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/*
 * takeover: exec needs its acquire command; a describe is only proof
 * with the text to look for in it, and re-verifying needs a describe.
 * The commands without takeover: exec would silently never run.
 */
static void
vrrp_conf_exec_check(struct conf_ctx *ctx, struct conf_node *node,
    const struct vrrp_instance_conf *ic)
{
	const struct vrrp_exec_conf *x = &ic->exec;

	if (ic->takeover != VRRP_TK_EXEC) {
		if (vrrp_conf_set(x->acquire) || vrrp_conf_set(x->release) ||
		    vrrp_conf_set(x->describe) || vrrp_conf_set(x->expect))
			conf_error(ctx, vrrp_conf_exec_node(node, NULL),
			    "exec: only with takeover: exec");
		return;
	}
	if (!vrrp_conf_set(x->acquire))
		conf_error(ctx,
		    conf_key_node(node, "exec") != NULL ?
		        vrrp_conf_exec_node(node, "acquire") :
		        conf_key_node(node, "takeover"),
		    "takeover exec: exec.acquire is required");
	if (vrrp_conf_set(x->describe) && x->expect == NULL)
		conf_error(ctx, vrrp_conf_exec_node(node, "describe"),
		    "exec.describe: exec.expect is required (the text that "
		    "proves ownership)");
	if (x->expect != NULL && !vrrp_conf_set(x->describe))
		conf_error(ctx, vrrp_conf_exec_node(node, "expect"),
		    "exec.expect: only with exec.describe");
	else if (x->expect != NULL && x->expect[0] == '\0')
		conf_error(ctx, vrrp_conf_exec_node(node, "expect"),
		    "exec.expect: must not be empty");
	if (x->verify_interval_ms > 0 && !vrrp_conf_set(x->describe))
		conf_error(ctx, vrrp_conf_exec_node(node, "verify_interval"),
		    "exec.verify_interval: needs exec.describe");
	if (x->backoff_max_ms < x->backoff_ms)
		conf_error(ctx, vrrp_conf_exec_node(node, "backoff_max"),
		    "exec.backoff_max: less than exec.backoff");
}

static void
vrrp_conf_instance_check(
    struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct vrrp_instance_conf *ic = obj;
	int fam;
	size_t i;

	if (ic->nvaddrs == 0) {
		conf_error(ctx, conf_key_node(node, "virtual_addresses"),
		    "virtual_addresses: at least one address");
		return;
	}
	fam = ic->vaddrs[0].addr.ss_family;
	ic->family = fam;
	for (i = 1; i < ic->nvaddrs; i++)
		if (ic->vaddrs[i].addr.ss_family != fam)
			conf_error(ctx,
			    conf_node_item(
			        conf_key_node(node, "virtual_addresses"), i),
			    "virtual_addresses: all of one family (a VRRP "
			    "instance is IPv4 or IPv6)");
	for (i = 0; i < ic->npeers; i++)
		if (ic->peers[i].ss_family != fam)
			conf_error(ctx,
			    conf_node_item(
			        conf_key_node(node, "unicast_peers"), i),
			    "unicast_peers: not the family of the virtual "
			    "addresses");
	if (!vrrp_conf_same_family(&ic->unicast_src, fam))
		conf_error(ctx, conf_key_node(node, "unicast_src"),
		    "unicast_src: not the family of the virtual addresses");
	if (ic->version == 2 && fam != AF_INET)
		conf_error(ctx, conf_key_node(node, "version"),
		    "version 2 is IPv4 only (RFC 3768); use version 3");
	if (ic->version == 2 && ic->advert_interval_ms % 1000 != 0)
		conf_error(ctx, conf_key_node(node, "advert_interval"),
		    "advert_interval: version 2 carries whole seconds");
	if (ic->version == 3 && ic->advert_interval_ms % 10 != 0)
		conf_error(ctx, conf_key_node(node, "advert_interval"),
		    "advert_interval: version 3 carries centiseconds (a "
		    "multiple of 10ms)");
	if (fam == AF_INET6 &&
	    !IN6_IS_ADDR_LINKLOCAL(
	        &((struct sockaddr_in6 *)&ic->vaddrs[0].addr)->sin6_addr))
		conf_error(ctx,
		    conf_node_item(conf_key_node(node, "virtual_addresses"), 0),
		    "virtual_addresses: an IPv6 router's first address must "
		    "be link-local (fe80::/10, RFC 9568 5.2.9)");
	if (ic->priority == 255 && ic->preempt != VRRP_CONF_PREEMPT_IMMEDIATE)
		conf_error(ctx, conf_key_node(node, "preempt"),
		    "preempt: the address owner (priority 255) always "
		    "preempts (RFC 9568 6.1)");
	if (ic->ntrack_interfaces > VRRP_TRACK_MAX)
		conf_error(ctx, conf_key_node(node, "track_interfaces"),
		    "track_interfaces: at most %d", VRRP_TRACK_MAX);
	if (ic->ntrack_checks > VRRP_TRACK_MAX)
		conf_error(ctx, conf_key_node(node, "track_checks"),
		    "track_checks: at most %d", VRRP_TRACK_MAX);
	if (ic->ntrack_pools > VRRP_TRACK_MAX)
		conf_error(ctx, conf_key_node(node, "track_pools"),
		    "track_pools: at most %d", VRRP_TRACK_MAX);
	for (i = 0; i < ic->ntrack_pools; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(ic->track_pools[i].pool,
			        ic->track_pools[j].pool) == 0)
				conf_error(ctx,
				    conf_node_item(
				        conf_key_node(node, "track_pools"), i),
				    "track_pools: pool %s is tracked twice",
				    ic->track_pools[i].pool);
	if (ic->version == 2 && ic->advert_interval_ms > 255000)
		conf_error(ctx, conf_key_node(node, "advert_interval"),
		    "advert_interval: version 2 carries at most 255s");
	vrrp_conf_havip_check(ctx, node, ic);
	vrrp_conf_auth_check(ctx, node, ic);
	vrrp_conf_exec_check(ctx, node, ic);
}

static void
vrrp_conf_instance_fini(void *obj)
{
	struct vrrp_instance_conf *ic = obj;

	free(ic->vaddrs);
	free(ic->peers);
	ic->vaddrs = NULL;
	ic->peers = NULL;
}

static const struct conf_schema vrrp_conf_instance_schema = {
	.name = "vrrp.instances[]",
	.size = sizeof(struct vrrp_instance_conf),
	.keys = vrrp_conf_instance_keys,
	.nkeys = ARRAY_SIZE(vrrp_conf_instance_keys),
	.check = vrrp_conf_instance_check,
	.fini = vrrp_conf_instance_fini,
};

static const struct conf_key vrrp_conf_keys[] = {
	{ .name = "instances",
	    .type = CT_LIST,
	    .off = offsetof(struct vrrp_conf, instances),
	    .count_off = offsetof(struct vrrp_conf, ninstances),
	    .sub = &vrrp_conf_instance_schema,
	    .help = "virtual routers this node takes part in" },
};

/* Two instances with one interface, vrid and family are one router. */
static void
vrrp_conf_check(struct conf_ctx *ctx, struct conf_node *node, void *obj)
{
	struct vrrp_conf *c = obj;
	struct conf_node *list = conf_key_node(node, "instances");
	size_t i, j;

	for (i = 0; i < c->ninstances; i++)
		for (j = 0; j < i; j++) {
			const struct vrrp_instance_conf *a = &c->instances[i];
			const struct vrrp_instance_conf *b = &c->instances[j];

			if (a->vrid == b->vrid && a->family == b->family &&
			    strcmp(a->interface, b->interface) == 0)
				conf_error(ctx, conf_node_item(list, i),
				    "instance %s: interface %s vrid %u is "
				    "already instance %s",
				    a->name, a->interface, a->vrid, b->name);
		}
}

const struct conf_schema vrrp_conf_schema = {
	.name = "vrrp",
	.size = sizeof(struct vrrp_conf),
	.keys = vrrp_conf_keys,
	.nkeys = ARRAY_SIZE(vrrp_conf_keys),
	.check = vrrp_conf_check,
};

bool
vrrp_conf_target_name(
    char *out, size_t outlen, const char *instance, const char *name)
{
	int n = snprintf(out, outlen, "vrrp:%s/%s", instance, name);

	return n >= 0 && (size_t)n < outlen;
}

size_t
vrrp_conf_targets(const void *conf, struct plane_target **out)
{
	const struct vrrp_conf *c = conf;
	size_t i, j, n = 0, total = 0;

	for (i = 0; i < c->ninstances; i++)
		total += c->instances[i].ntrack_checks;
	*out = total ? calloc(total, sizeof(**out)) : NULL;
	if (*out == NULL)
		return 0;
	for (i = 0; i < c->ninstances; i++) {
		const struct vrrp_instance_conf *ic = &c->instances[i];

		for (j = 0; j < ic->ntrack_checks; j++) {
			const struct vrrp_track_check_conf *tc =
			    &ic->track_checks[j];
			struct plane_target *t = &(*out)[n];

			if (!vrrp_conf_target_name(
			        t->name, sizeof(t->name), ic->name, tc->name)) {
				log_warn("target name too long",
				    "instance=%s check=%s", log_q(ic->name),
				    log_q(tc->name));
				continue;
			}
			snprintf(t->owner, sizeof(t->owner), "%s", ic->name);
			t->check = tc->check;
			t->addr = tc->address;
			n++;
		}
	}
	return n;
}

void
vrrp_conf_check_refs(struct conf_ctx *ctx, struct conf_node *node,
    const void *conf, const char *const *names, size_t n)
{
	const struct vrrp_conf *c = conf;
	struct conf_node *insts = conf_key_node(node, "instances");
	size_t i, j, k;

	for (i = 0; i < c->ninstances; i++) {
		const struct vrrp_instance_conf *ic = &c->instances[i];
		struct conf_node *list =
		    conf_key_node(conf_node_item(insts, i), "track_checks");

		for (j = 0; j < ic->ntrack_checks; j++) {
			const char *want = ic->track_checks[j].check;

			for (k = 0; k < n && strcmp(want, names[k]) != 0; k++)
				;
			if (k == n)
				conf_error(ctx,
				    conf_key_node(
				        conf_node_item(list, j), "check"),
				    "instance %s: check %s is not in "
				    "health.checks",
				    ic->name, want);
		}
	}
}

/* Targets lb declared for pool: its health-checked servers. */
static size_t
vrrp_conf_pool_servers(
    const struct plane_target *targets, size_t n, const char *pool)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (vrrp_conf_pool_server(&targets[i], pool))
			k++;
	return k;
}

bool
vrrp_conf_pool_server(const struct plane_target *t, const char *pool)
{
	return t->plane != NULL && strcmp(t->plane, "lb") == 0 &&
	    strcmp(t->owner, pool) == 0;
}

void
vrrp_conf_target_refs(struct conf_ctx *ctx, struct conf_node *node,
    const void *conf, const struct plane_target *targets, size_t n)
{
	const struct vrrp_conf *c = conf;
	struct conf_node *insts = conf_key_node(node, "instances");
	size_t i, j, k;

	for (i = 0; i < c->ninstances; i++) {
		const struct vrrp_instance_conf *ic = &c->instances[i];
		struct conf_node *list =
		    conf_key_node(conf_node_item(insts, i), "track_pools");

		for (j = 0; j < ic->ntrack_pools; j++) {
			const struct vrrp_track_pool_conf *tp =
			    &ic->track_pools[j];
			struct conf_node *it = conf_node_item(list, j);

			k = vrrp_conf_pool_servers(targets, n, tp->pool);
			if (k == 0)
				conf_error(ctx, conf_key_node(it, "pool"),
				    "instance %s: pool %s is not in lb.pools "
				    "or has no health_check (no verdict would "
				    "ever count its servers)",
				    ic->name, tp->pool);
			else if (k < tp->min_up)
				conf_error(ctx, conf_key_node(it, "min_up"),
				    "instance %s: min_up %u but pool %s has "
				    "%zu health-checked servers",
				    ic->name, tp->min_up, tp->pool, k);
		}
	}
}
