/*
 * vrrp_api.c - what the virtual IP plane shows: GET /v1/vrrp (each
 * instance's state, priorities, master and recent transitions), its
 * Prometheus families, and its lines in `haven status`.
 *
 * Read-only for now: nothing here changes an instance, so the plane's
 * registry row asks for no replay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "vrrp/vrrp_rt.h"

static void
vrrp_api_addr(struct jw *w, const char *k, const struct sockaddr_storage *ss)
{
	char a[64];

	jw_key(w, k);
	if (ss->ss_family == AF_UNSPEC)
		jw_null(w);
	else
		jw_str(w, conf_addr_str(ss, a, sizeof(a)));
}

static void
vrrp_api_events(struct jw *w, const struct vrrp_inst *in)
{
	unsigned n = in->nevents < VRRP_EVENTS ? in->nevents : VRRP_EVENTS;
	unsigned i;

	jw_key(w, "transitions");
	jw_arr_begin(w);
	for (i = 0; i < n; i++) {
		const struct vrrp_event *e =
		    &in->events[(in->nevents - 1 - i) % VRRP_EVENTS];

		jw_obj_begin(w);
		jw_kuint(w, "at_ms", e->wall_ms);
		jw_kstr(w, "from", vrrp_state_name(e->from));
		jw_kstr(w, "to", vrrp_state_name(e->to));
		jw_kstr(w, "reason", vrrp_reason_name(e->reason));
		jw_kuint(w, "priority", e->priority);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* What tracking holds against the instance, entry by entry. */
static void
vrrp_api_tracking(struct jw *w, const struct vrrp_inst *in)
{
	const struct vrrp_instance_conf *ic = in->conf;
	size_t i;

	jw_key(w, "tracking");
	jw_arr_begin(w);
	for (i = 0; i < ic->ntrack_interfaces && i < VRRP_TRACK_MAX; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "interface", ic->track_interfaces[i].name);
		jw_kbool(w, "down", in->track_down & (UINT64_C(1) << i));
		jw_kuint(w, "weight", ic->track_interfaces[i].weight);
		jw_obj_end(w);
	}
	for (i = 0; i < ic->ntrack_checks && i < VRRP_TRACK_MAX; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "check", ic->track_checks[i].name);
		jw_kbool(w, "down", in->check_down & (UINT64_C(1) << i));
		jw_kuint(w, "weight", ic->track_checks[i].weight);
		jw_obj_end(w);
	}
	for (i = 0; i < in->npools; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "pool", ic->track_pools[i].pool);
		jw_kbool(w, "down", in->pool_short & (UINT64_C(1) << i));
		jw_kuint(w, "usable", in->pools[i].usable);
		jw_kuint(w, "servers", in->pools[i].nservers);
		jw_kuint(w, "min_up", ic->track_pools[i].min_up);
		jw_kuint(w, "weight", ic->track_pools[i].weight);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void
vrrp_api_inst(struct jw *w, const struct vrrp_inst *in)
{
	const struct vrrp_instance_conf *ic = in->conf;

	jw_obj_begin(w);
	jw_kstr(w, "name", in->name);
	jw_kstr(w, "interface", ic->interface);
	jw_kuint(w, "vrid", ic->vrid);
	jw_kuint(w, "version", ic->version);
	jw_kstr(w, "state", vrrp_state_name(in->fsm.state));
	jw_kuint(w, "priority", in->fsm.priority);
	jw_kuint(w, "configured_priority", ic->priority);
	jw_kbool(w, "holding_addresses", in->holding);
	vrrp_api_addr(w, "source", &in->src);
	if (in->fsm.state == VRRP_S_MASTER)
		vrrp_api_addr(w, "master", &in->src);
	else
		vrrp_api_addr(w, "master", &in->master);
	jw_kuint(
	    w, "master_down_interval_us", vrrp_fsm_down_interval_us(&in->fsm));
	jw_kbool(w, "link_down", in->link_down);
	vrrp_api_tracking(w, in);
	vrrp_api_events(w, in);
	jw_obj_end(w);
}

int
vrrp_api_query(
    struct vrrp_rt *rt, const char *method, const char *path, struct buf *out)
{
	struct jw w;
	size_t i;

	if (strcmp(method, "GET") != 0) {
		buf_puts(out, "{\"error\":\"method not allowed\"}");
		return 405;
	}
	if (strcmp(path, "/v1/vrrp") != 0 && strcmp(path, "/v1/vrrp/") != 0) {
		buf_puts(out, "{\"error\":\"not found\"}");
		return 404;
	}
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_key(&w, "instances");
	jw_arr_begin(&w);
	for (i = 0; i < rt->ninsts; i++)
		vrrp_api_inst(&w, rt->insts[i]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w) == 0 ? 200 : 500;
}

typedef uint64_t vrrp_api_stat_fn(const struct vrrp_inst *in);

static uint64_t
vrrp_api_to_master(const struct vrrp_inst *in)
{
	return in->fsm.st.to_master;
}

static uint64_t
vrrp_api_sent(const struct vrrp_inst *in)
{
	return in->fsm.st.adverts_sent;
}

static uint64_t
vrrp_api_rx(const struct vrrp_inst *in)
{
	return in->rx_adverts;
}

static uint64_t
vrrp_api_dual(const struct vrrp_inst *in)
{
	return in->fsm.st.dual_master;
}

static uint64_t
vrrp_api_late(const struct vrrp_inst *in)
{
	return in->fsm.st.late_timers;
}

static uint64_t
vrrp_api_send_err(const struct vrrp_inst *in)
{
	return in->send_errors;
}

static uint64_t
vrrp_api_addr_err(const struct vrrp_inst *in)
{
	return in->addr_errors;
}

static uint64_t
vrrp_api_garp(const struct vrrp_inst *in)
{
	return in->garp_sent;
}

static uint64_t
vrrp_api_state(const struct vrrp_inst *in)
{
	return (uint64_t)in->fsm.state;
}

static uint64_t
vrrp_api_prio(const struct vrrp_inst *in)
{
	return in->fsm.priority;
}

static const struct {
	const char *name, *type, *help;
	vrrp_api_stat_fn *fn;
} vrrp_api_families[] = {
	{ "haven_vrrp_state", "gauge", "0 init, 1 backup, 2 master, 3 fault",
	    vrrp_api_state },
	{ "haven_vrrp_priority", "gauge", "effective priority", vrrp_api_prio },
	{ "haven_vrrp_became_master_total", "counter", "transitions to master",
	    vrrp_api_to_master },
	{ "haven_vrrp_adverts_sent_total", "counter", "adverts sent",
	    vrrp_api_sent },
	{ "haven_vrrp_adverts_received_total", "counter",
	    "adverts accepted for this instance", vrrp_api_rx },
	{ "haven_vrrp_dual_master_total", "counter",
	    "adverts from another master while master (split brain)",
	    vrrp_api_dual },
	{ "haven_vrrp_late_timers_total", "counter",
	    "timers run more than an interval late (stalled process)",
	    vrrp_api_late },
	{ "haven_vrrp_send_errors_total", "counter", "adverts not sent",
	    vrrp_api_send_err },
	{ "haven_vrrp_address_errors_total", "counter",
	    "virtual address changes the kernel refused", vrrp_api_addr_err },
	{ "haven_vrrp_announcements_total", "counter",
	    "gratuitous ARP / unsolicited NA frames sent", vrrp_api_garp },
};

void
vrrp_api_metrics(struct vrrp_rt *rt, struct buf *out)
{
	struct buf l;
	size_t f, i;
	int d;

	buf_init(&l);
	for (f = 0; f < ARRAY_SIZE(vrrp_api_families); f++) {
		mx_family(out, vrrp_api_families[f].name,
		    vrrp_api_families[f].type, vrrp_api_families[f].help);
		for (i = 0; i < rt->ninsts; i++) {
			buf_reset(&l);
			mx_label(&l, "instance", rt->insts[i]->name);
			mx_u64(out, vrrp_api_families[f].name, l.data,
			    vrrp_api_families[f].fn(rt->insts[i]));
		}
	}
	mx_family(out, "haven_vrrp_adverts_discarded_total", "counter",
	    "adverts discarded, by the RFC 9568 / 3768 rule they broke");
	for (d = 1; d < VRRP_DROP__COUNT; d++) {
		buf_reset(&l);
		mx_label(&l, "reason", vrrp_drop_name((enum vrrp_drop)d));
		mx_u64(out, "haven_vrrp_adverts_discarded_total", l.data,
		    rt->drops[d]);
	}
	buf_fini(&l);
}

/* The scalar at path below n, or "-"; valid until the next call but three. */
static const char *
vrrp_status_str(struct conf_node *n, const char *path)
{
	static char bufs[4][128];
	static unsigned k;
	char *out = bufs[k++ % 4], *s;

	if ((s = conf_node_text(conf_node_at(n, path))) == NULL)
		return "-";
	snprintf(out, sizeof(bufs[0]), "%s", s);
	free(s);
	return out;
}

/* A line under the instance per tracked pool: the usable count counts. */
static void
vrrp_status_pools(struct conf_node *in)
{
	struct conf_node *tr = conf_node_at(in, "/tracking"), *t;
	char up[64];

	for (size_t i = 0; (t = conf_node_item(tr, i)) != NULL; i++) {
		if (conf_node_at(t, "/pool") == NULL)
			continue;
		/* vrrp_status_str keeps four results: two printfs. */
		snprintf(up, sizeof(up), "%s/%s", vrrp_status_str(t, "/usable"),
		    vrrp_status_str(t, "/servers"));
		printf("  pool %s: %s up, min_up %s, weight %s",
		    vrrp_status_str(t, "/pool"), up,
		    vrrp_status_str(t, "/min_up"),
		    vrrp_status_str(t, "/weight"));
		printf("%s\n",
		    strcmp(vrrp_status_str(t, "/down"), "true") == 0 ?
		        " (short: weight applies)" :
		        "");
	}
}

void
vrrp_status_print(struct conf_node *root)
{
	struct conf_node *insts = conf_node_at(root, "/instances"), *in, *t;
	char prio[32], last[160];

	if (conf_node_count(insts) == 0)
		return;
	printf("\n%-16s %-8s %-10s %-20s %s\n", "VRRP INSTANCE", "STATE",
	    "PRIORITY", "MASTER", "LAST TRANSITION");
	for (size_t i = 0; (in = conf_node_item(insts, i)) != NULL; i++) {
		snprintf(prio, sizeof(prio), "%s/%s",
		    vrrp_status_str(in, "/priority"),
		    vrrp_status_str(in, "/configured_priority"));
		t = conf_node_item(conf_node_at(in, "/transitions"), 0);
		if (t == NULL)
			snprintf(last, sizeof(last), "-");
		else
			snprintf(last, sizeof(last), "%s -> %s (%s)",
			    vrrp_status_str(t, "/from"),
			    vrrp_status_str(t, "/to"),
			    vrrp_status_str(t, "/reason"));
		printf("%-16s %-8s %-10s %-20s %s\n",
		    vrrp_status_str(in, "/name"), vrrp_status_str(in, "/state"),
		    prio, vrrp_status_str(in, "/master"), last);
		vrrp_status_pools(in);
	}
}
