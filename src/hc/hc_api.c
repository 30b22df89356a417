/*
 * hc_api.c - explainability: GET /v1/checks (every target, one line each)
 * and GET /v1/checks/NAME (why is it in its state: the last probes, the
 * transitions, damping, passive reports, the timing in effect). NAME may
 * hold '/' ("pool/server"), written as is or URL-encoded as %2F.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "hc/hc_engine.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "lib/util.h"

#define HC_API_PREFIX "/v1/checks"

/* Percent-decode src (up to '?') into dst. Returns 0 or -1 if malformed. */
static int
hc_api_unescape(const char *src, char *dst, size_t n)
{
	size_t o = 0;
	unsigned v;

	for (; *src != '\0' && *src != '?'; src++) {
		if (o + 1 >= n)
			return -1;
		if (*src == '%') {
			if (!isxdigit((unsigned char)src[1]) ||
			    !isxdigit((unsigned char)src[2]) ||
			    sscanf(src + 1, "%2x", &v) != 1 || v == 0)
				return -1;
			dst[o++] = (char)v;
			src += 2;
		} else {
			dst[o++] = *src;
		}
	}
	dst[o] = '\0';
	return 0;
}

static void
hc_api_error(struct buf *out, const char *msg, const char *name)
{
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kstr(&w, "error", msg);
	if (name != NULL)
		jw_kstr(&w, "name", name);
	jw_obj_end(&w);
}

static void
hc_api_summary(struct jw *w, const struct hc_target *t)
{
	jw_kstr(w, "name", t->name);
	jw_kstr(w, "state", hc_state_name(t->sm.state));
	jw_kstr(w, "reason", hc_reason_name(t->sm.reason));
	jw_kuint(w, "since_ms", t->since_wall_ms);
	jw_kuint(w, "last_latency_us", t->last_latency_us);
}

static void
hc_api_list(const struct hc_engine *e, struct buf *out)
{
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_key(&w, "checks");
	jw_arr_begin(&w);
	for (size_t i = 0; i < e->ntargets; i++) {
		jw_obj_begin(&w);
		hc_api_summary(&w, e->targets[i]);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
}

static void
hc_api_timing(struct jw *w, const struct hc_timing *t)
{
	jw_key(w, "timing");
	jw_obj_begin(w);
	jw_kuint(w, "interval_ms", t->interval_ms);
	jw_kuint(w, "timeout_ms", t->timeout_ms);
	jw_kuint(w, "rise", t->rise);
	jw_kuint(w, "fall", t->fall);
	jw_kuint(w, "fast_interval_ms", t->fast_interval_ms);
	jw_kuint(w, "down_interval_ms", t->down_interval_ms);
	jw_kuint(w, "jitter_pct", t->jitter_pct);
	jw_kuint(w, "passive_fails", t->passive_fails);
	jw_kbool(w, "damping", t->damping);
	jw_kuint(w, "damp_penalty", t->damp_penalty);
	jw_kuint(w, "damp_suppress", t->damp_suppress);
	jw_kuint(w, "damp_reuse", t->damp_reuse);
	jw_kuint(w, "damp_half_life_ms", t->damp_half_life_ms);
	jw_obj_end(w);
}

static void
hc_api_history(struct jw *w, const struct hc_target *t)
{
	const struct hc_probe_rec *p;
	const struct hc_trans_rec *r;

	jw_key(w, "probes");
	jw_arr_begin(w);
	for (size_t i = 0; (p = hc_target_probe(t, i)) != NULL; i++) {
		jw_obj_begin(w);
		jw_kuint(w, "at_ms", p->at_ms);
		jw_kbool(w, "ok", p->reason == HC_R_OK);
		jw_kstr(w, "reason", hc_reason_name(p->reason));
		jw_kuint(w, "latency_us", p->latency_us);
		jw_kstr(w, "detail", p->detail);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "transitions");
	jw_arr_begin(w);
	for (size_t i = 0; (r = hc_target_trans(t, i)) != NULL; i++) {
		jw_obj_begin(w);
		jw_kuint(w, "at_ms", r->at_ms);
		jw_kstr(w, "from", hc_state_name(r->from));
		jw_kstr(w, "to", hc_state_name(r->to));
		jw_kstr(w, "reason", hc_reason_name(r->reason));
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void
hc_api_detail(
    const struct hc_engine *e, const struct hc_target *t, struct buf *out)
{
	const struct hc_probe_rec *last = hc_target_probe(t, 0);
	uint64_t now = ev_now_ms(e->loop);
	char addr[80];
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	hc_api_summary(&w, t);
	jw_kstr(&w, "detail", last != NULL ? last->detail : "not probed yet");
	jw_kstr(&w, "type", hc_conf_type_name(t->cc->type));
	jw_kstr(&w, "check", t->cc->name);
	if (t->pool[0] != '\0')
		jw_kstr(&w, "pool", t->pool);
	jw_kstr(&w, "address", conf_addr_str(&t->addr, addr, sizeof(addr)));
	jw_kuint(&w, "consecutive_ok", t->sm.ok_run);
	jw_kuint(&w, "consecutive_fail", t->sm.fail_run);
	jw_kuint(&w, "probes_ok", t->probes_ok);
	jw_kuint(&w, "probes_failed", t->probes_failed);
	jw_kuint(&w, "next_probe_in_ms",
	    t->next_probe_ms > now ? t->next_probe_ms - now : 0);
	jw_key(&w, "damping");
	jw_obj_begin(&w);
	jw_kbool(&w, "damped", t->sm.damped);
	jw_kdouble(&w, "penalty", hc_sm_penalty(&t->sm, &t->cc->timing, now));
	jw_kuint(&w, "flaps", t->sm.transitions);
	jw_obj_end(&w);
	jw_key(&w, "passive");
	jw_obj_begin(&w);
	jw_kuint(&w, "reports", t->passive_reports);
	jw_kuint(&w, "consecutive", t->sm.passive_run);
	jw_kuint(&w, "ejections", t->passive_ejections);
	jw_kuint(&w, "refused_last_healthy", t->passive_refused);
	jw_kbool(&w, "ejected", t->sm.passive_ejected);
	jw_obj_end(&w);
	hc_api_timing(&w, &t->cc->timing);
	hc_api_history(&w, t);
	jw_obj_end(&w);
}

int
hc_api_query(
    struct hc_engine *e, const char *method, const char *path, struct buf *out)
{
	size_t plen = strlen(HC_API_PREFIX);
	const struct hc_target *t;
	char name[IPC_NAME_MAX * 3];

	if (strncmp(path, HC_API_PREFIX, plen) != 0 ||
	    (path[plen] != '\0' && path[plen] != '/' && path[plen] != '?')) {
		hc_api_error(out, "not found", NULL);
		return 404;
	}
	if (strcmp(method, "GET") != 0) {
		hc_api_error(out, "method not allowed", NULL);
		return 405;
	}
	if (path[plen] != '/' || path[plen + 1] == '\0' ||
	    path[plen + 1] == '?') {
		hc_api_list(e, out);
		return 200;
	}
	if (hc_api_unescape(path + plen + 1, name, sizeof(name)) == -1) {
		hc_api_error(out, "bad check name", NULL);
		return 400;
	}
	if ((t = hc_engine_find(e, name)) == NULL) {
		hc_api_error(out, "no such check", name);
		return 404;
	}
	hc_api_detail(e, t, out);
	return 200;
}
