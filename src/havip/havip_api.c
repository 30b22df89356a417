/*
 * havip_api.c - what the HAVIP controller shows and takes: GET /v1/havip
 * (every HAVIP as a cloud's DescribeHaVips would: address, subnet, EIP,
 * associations, owner, Available/InUse, last remap and why, held and
 * contested figures), GET /v1/havip/NAME, POST /v1/havip/NAME/associate,
 * the haven_havip_* Prometheus families and the `haven status` lines.
 *
 * An associate is a one-shot move, not a standing state: a restarted
 * controller adopts the route it finds, so the registry row asks for no
 * replay.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "havip/havip_rt.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "lib/metrics.h"
#include "lib/util.h"

#define HAVIP_API_PREFIX "/v1/havip"

static void
havip_api_kip(struct jw *w, const char *k, struct in_addr a)
{
	char s[INET_ADDRSTRLEN];

	jw_kstr(w, k, inet_ntop(AF_INET, &a, s, sizeof(s)));
}

static double
havip_api_contested_s(struct havip_vip *v, uint64_t now)
{
	/* Accounted up to the last event; add the stretch since. */
	struct havip_arb copy = v->arb;

	(void)havip_arb_tick(&copy, now);
	return (double)copy.contested_ms / 1000.0;
}

static void
havip_api_vip(struct jw *w, struct havip_vip *v)
{
	uint64_t now = ev_now_ms(v->rt->loop);
	char sn[INET_ADDRSTRLEN + 4], a[INET_ADDRSTRLEN];
	size_t i;

	jw_obj_begin(w);
	jw_kstr(w, "name", v->name);
	havip_api_kip(w, "address", v->addr);
	inet_ntop(AF_INET, &v->subnet.net, a, sizeof(a));
	snprintf(sn, sizeof(sn), "%s/%u", a, v->subnet.prefix);
	jw_kstr(w, "subnet", sn);
	jw_key(w, "eip");
	if (v->has_eip)
		jw_str(w, inet_ntop(AF_INET, &v->eip, a, sizeof(a)));
	else
		jw_null(w);
	jw_key(w, "instances");
	jw_arr_begin(w);
	for (i = 0; i < v->ninst; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "name", v->inst[i]);
		jw_kbool(w, "claiming_master",
		    havip_arb_claiming(&v->arb, (int)i, now));
		jw_key(w, "priority");
		if (v->arb.peer[i].adverted)
			jw_uint(w, v->arb.peer[i].prio);
		else
			jw_null(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "owner");
	if (v->arb.owner == HAVIP_ARB_NONE)
		jw_null(w);
	else
		jw_str(w, v->inst[v->arb.owner]);
	jw_kstr(
	    w, "state", v->arb.owner == HAVIP_ARB_NONE ? "Available" : "InUse");
	jw_kbool(w, "route_in_sync", v->in_sync);
	jw_key(w, "last_remap");
	if (v->arb.reason == HAVIP_R_NONE)
		jw_null(w);
	else {
		jw_obj_begin(w);
		jw_kuint(w, "at_ms", v->remap_wall_ms);
		jw_kstr(w, "reason", havip_arb_reason_name(v->arb.reason));
		jw_obj_end(w);
	}
	jw_kbool(w, "hold_down_active", now < v->arb.hold_until_ms);
	jw_kbool(w, "witness", v->arb.witness);
	jw_kuint(w, "held", v->arb.verdicts[HAVIP_V_HELD]);
	jw_kuint(w, "witness_kept", v->arb.verdicts[HAVIP_V_WITNESS]);
	jw_kuint(w, "ignored", v->ignored);
	jw_kdouble(w, "contested_seconds", havip_api_contested_s(v, now));
	jw_kuint(w, "route_errors", v->route_errors);
	jw_obj_end(w);
}

static int
havip_api_err(struct buf *out, int status, const char *msg)
{
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kstr(&w, "error", msg);
	jw_obj_end(&w);
	(void)jw_finish(&w);
	return status;
}

/* The body of an associate: {"instance": "n2"}. */
struct havip_api_assoc {
	char *instance; /* owned */
};

static const struct conf_key havip_api_assoc_keys[] = {
	{ .name = "instance",
	    .type = CT_STRING,
	    .off = offsetof(struct havip_api_assoc, instance),
	    .flags = CK_REQUIRED,
	    .help = "the instance to route the HAVIP to" },
};

static const struct conf_schema havip_api_assoc_schema = {
	.name = "associate",
	.size = sizeof(struct havip_api_assoc),
	.keys = havip_api_assoc_keys,
	.nkeys = ARRAY_SIZE(havip_api_assoc_keys),
};

static int
havip_api_associate(struct havip_rt *rt, const char *name, const char *body,
    size_t body_len, struct buf *out)
{
	struct havip_api_assoc req = { 0 };
	struct conf_errors errs;
	char msg[256];
	struct jw w;
	int rc;

	conf_errors_init(&errs);
	if (conf_bind_json(&havip_api_assoc_schema, "body", body ? body : "",
	        body ? body_len : 0, &req, &errs) != 0) {
		snprintf(msg, sizeof(msg), "%s",
		    errs.n ? errs.v[0].msg : "bad body");
		conf_errors_fini(&errs);
		return havip_api_err(out, 400, msg);
	}
	conf_errors_fini(&errs);
	rc = havip_rt_associate(rt, name, req.instance);
	if (rc == -ESRCH)
		snprintf(
		    msg, sizeof(msg), "no instance named %s", req.instance);
	else if (rc == -EPERM)
		snprintf(msg, sizeof(msg),
		    "instance %s is not associated with havip %s", req.instance,
		    name);
	conf_schema_free(&havip_api_assoc_schema, &req);
	if (rc == -ENOENT)
		return havip_api_err(out, 404, "no such havip");
	if (rc < 0)
		return havip_api_err(out, rc == -ESRCH ? 400 : 409, msg);
	jw_init(&w, out);
	havip_api_vip(&w, havip_rt_find(rt, name));
	return jw_finish(&w) == 0 ? 200 : 500;
}

int
havip_api_query(struct havip_rt *rt, const char *method, const char *path,
    const char *body, size_t body_len, struct buf *out)
{
	const char *rest = path + strlen(HAVIP_API_PREFIX);
	char name[128];
	struct havip_vip *v;
	const char *slash;
	struct jw w;
	size_t i, n;

	if (strncmp(path, HAVIP_API_PREFIX, strlen(HAVIP_API_PREFIX)) != 0 ||
	    (*rest != '\0' && *rest != '/'))
		return havip_api_err(out, 404, "not found");
	if (*rest == '/')
		rest++;
	if (*rest == '\0') {
		if (strcmp(method, "GET") != 0)
			return havip_api_err(out, 405, "method not allowed");
		jw_init(&w, out);
		jw_obj_begin(&w);
		jw_key(&w, "havips");
		jw_arr_begin(&w);
		for (i = 0; rt != NULL && i < rt->nvips; i++)
			havip_api_vip(&w, rt->vips[i]);
		jw_arr_end(&w);
		jw_obj_end(&w);
		return jw_finish(&w) == 0 ? 200 : 500;
	}
	slash = strchr(rest, '/');
	n = slash ? (size_t)(slash - rest) : strlen(rest);
	if (n >= sizeof(name))
		return havip_api_err(out, 404, "no such havip");
	memcpy(name, rest, n);
	name[n] = '\0';
	if ((v = havip_rt_find(rt, name)) == NULL)
		return havip_api_err(out, 404, "no such havip");
	if (slash == NULL) {
		if (strcmp(method, "GET") != 0)
			return havip_api_err(out, 405, "method not allowed");
		jw_init(&w, out);
		havip_api_vip(&w, v);
		return jw_finish(&w) == 0 ? 200 : 500;
	}
	if (strcmp(slash, "/associate") != 0)
		return havip_api_err(out, 404, "not found");
	if (strcmp(method, "POST") != 0)
		return havip_api_err(out, 405, "method not allowed");
	return havip_api_associate(rt, name, body, body_len, out);
}

static void
havip_api_vip_metrics(struct havip_rt *rt, struct buf *out, struct buf *l)
{
	static const char *const verd[] = { "owner", "remap", "pending", "held",
		"witness" };
	size_t i, r;

	mx_family(out, "haven_havip_in_use", "gauge",
	    "1 when an instance owns the HAVIP (the route points at it)");
	for (i = 0; i < rt->nvips; i++) {
		buf_reset(l);
		mx_label(l, "havip", rt->vips[i]->name);
		mx_u64(out, "haven_havip_in_use", l->data,
		    rt->vips[i]->arb.owner != HAVIP_ARB_NONE);
	}
	mx_family(out, "haven_havip_owner_changes_total", "counter",
	    "owner changes, by reason");
	for (i = 0; i < rt->nvips; i++)
		for (r = HAVIP_R_FIRST; r < HAVIP_R__COUNT; r++) {
			buf_reset(l);
			mx_label(l, "havip", rt->vips[i]->name);
			mx_label(l, "reason", havip_arb_reason_name(r));
			mx_u64(out, "haven_havip_owner_changes_total", l->data,
			    rt->vips[i]->arb.changes[r]);
		}
	mx_family(out, "haven_havip_announcements_total", "counter",
	    "ARP announcements of the HAVIP, by what became of them "
	    "(ignored: from an instance not associated)");
	for (i = 0; i < rt->nvips; i++) {
		for (r = 0; r < HAVIP_V__COUNT; r++) {
			buf_reset(l);
			mx_label(l, "havip", rt->vips[i]->name);
			mx_label(l, "result", verd[r]);
			mx_u64(out, "haven_havip_announcements_total", l->data,
			    rt->vips[i]->arb.verdicts[r]);
		}
		buf_reset(l);
		mx_label(l, "havip", rt->vips[i]->name);
		mx_label(l, "result", "ignored");
		mx_u64(out, "haven_havip_announcements_total", l->data,
		    rt->vips[i]->ignored);
	}
	mx_family(out, "haven_havip_contested_seconds_total", "counter",
	    "time two or more associated instances claimed master");
	for (i = 0; i < rt->nvips; i++) {
		buf_reset(l);
		mx_label(l, "havip", rt->vips[i]->name);
		mx_f64(out, "haven_havip_contested_seconds_total", l->data,
		    havip_api_contested_s(rt->vips[i], ev_now_ms(rt->loop)));
	}
	mx_family(out, "haven_havip_route_changes_total", "counter",
	    "routes installed or removed and read back");
	for (i = 0; i < rt->nvips; i++) {
		buf_reset(l);
		mx_label(l, "havip", rt->vips[i]->name);
		mx_u64(out, "haven_havip_route_changes_total", l->data,
		    rt->vips[i]->route_changes);
	}
	mx_family(out, "haven_havip_route_errors_total", "counter",
	    "route changes the kernel refused or did not confirm (retried)");
	for (i = 0; i < rt->nvips; i++) {
		buf_reset(l);
		mx_label(l, "havip", rt->vips[i]->name);
		mx_u64(out, "haven_havip_route_errors_total", l->data,
		    rt->vips[i]->route_errors);
	}
}

void
havip_api_metrics(struct havip_rt *rt, struct buf *out)
{
	static const char *const rx[HAVIP_RX__COUNT] = { "arp", "vrrp",
		"vrrp_hmac_unverified", "advert_foreign_source", "read_error" };
	struct buf l;
	int d;

	if (rt == NULL)
		return;
	buf_init(&l);
	havip_api_vip_metrics(rt, out, &l);
	mx_family(out, "haven_havip_frames_total", "counter",
	    "frames snooped on the instance links, by kind (an advert from "
	    "another source than the link's instance is dropped)");
	for (d = 0; d < HAVIP_RX__COUNT; d++) {
		buf_reset(&l);
		mx_label(&l, "kind", rx[d]);
		mx_u64(out, "haven_havip_frames_total", l.data, rt->rx[d]);
	}
	mx_family(out, "haven_havip_frames_discarded_total", "counter",
	    "malformed frames, by reason");
	for (d = 1; d < HAVIP_FDROP__COUNT; d++) {
		buf_reset(&l);
		mx_label(&l, "reason", havip_frame_drop_name(d));
		mx_u64(out, "haven_havip_frames_discarded_total", l.data,
		    rt->fdrops[d]);
	}
	mx_family(out, "haven_havip_adverts_discarded_total", "counter",
	    "VRRP adverts the decoder refused, by RFC rule");
	for (d = 1; d < VRRP_DROP__COUNT; d++) {
		buf_reset(&l);
		mx_label(&l, "reason", vrrp_drop_name((enum vrrp_drop)d));
		mx_u64(out, "haven_havip_adverts_discarded_total", l.data,
		    rt->vdrops[d]);
	}
	mx_family(out, "haven_havip_socket_errors_total", "counter",
	    "instance links that could not be snooped");
	mx_u64(out, "haven_havip_socket_errors_total", NULL, rt->sock_errors);
	mx_family(out, "haven_havip_nft_errors_total", "counter",
	    "EIP rulesets nftables refused");
	mx_u64(out, "haven_havip_nft_errors_total", NULL, rt->nft_errors);
	buf_fini(&l);
}

/* The scalar at path below n, or "-"; valid for the next seven calls. */
static const char *
havip_status_str(struct conf_node *n, const char *path)
{
	static char bufs[8][128];
	static unsigned k;
	char *out = bufs[k++ % 8], *s;

	if ((s = conf_node_text(conf_node_at(n, path))) == NULL)
		return "-";
	snprintf(out, sizeof(bufs[0]), "%s", s);
	free(s);
	return out;
}

void
havip_status_print(struct conf_node *root)
{
	struct conf_node *vips = conf_node_at(root, "/havips"), *v;

	if (conf_node_count(vips) == 0)
		return;
	printf("\n%-16s %-16s %-10s %-12s %-10s %6s %10s\n", "HAVIP", "ADDRESS",
	    "STATE", "OWNER", "LAST REMAP", "HELD", "CONTESTED");
	for (size_t i = 0; (v = conf_node_item(vips, i)) != NULL; i++)
		printf("%-16s %-16s %-10s %-12s %-10s %6s %9ss\n",
		    havip_status_str(v, "/name"),
		    havip_status_str(v, "/address"),
		    havip_status_str(v, "/state"),
		    havip_status_str(v, "/owner"),
		    havip_status_str(v, "/last_remap/reason"),
		    havip_status_str(v, "/held"),
		    havip_status_str(v, "/contested_seconds"));
}
