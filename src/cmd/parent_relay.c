/*
 * parent_relay.c - the parent as the hub between planes (ARCHITECTURE §2):
 * verdicts from hc go to every subscribing plane and are remembered, so a
 * worker that restarts learns the current health at once instead of
 * assuming everything is up; passive reports from lb workers go to hc.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd/parent.h"
#include "hc/hc.h"
#include "lib/log.h"
#include "lib/util.h"

/* Planes that act on verdicts. vrrp and dns join them later. */
static const char *const parent_subscribers[] = { "lb" };

bool
parent_plane_subscribes(const char *plane)
{
	for (size_t i = 0; i < ARRAY_SIZE(parent_subscribers); i++)
		if (strcmp(plane, parent_subscribers[i]) == 0)
			return true;
	return false;
}

static uint64_t
parent_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void
parent_vtab_rehash(struct parent_vtab *t)
{
	free(t->idx);
	t->icap = t->icap ? t->icap * 2 : 64;
	t->idx = xcalloc(t->icap, sizeof(*t->idx));
	for (size_t i = 0; i < t->n; i++) {
		size_t h = parent_hash(t->v[i].target) & (t->icap - 1);

		while (t->idx[h] != 0)
			h = (h + 1) & (t->icap - 1);
		t->idx[h] = (uint32_t)(i + 1);
	}
}

static struct ipc_verdict *
parent_vtab_get(struct parent_vtab *t, const char *name)
{
	size_t h;

	if (t->icap == 0 || (t->n + 1) * 2 > t->icap)
		parent_vtab_rehash(t);
	h = parent_hash(name) & (t->icap - 1);
	while (t->idx[h] != 0) {
		struct ipc_verdict *v = &t->v[t->idx[h] - 1];

		if (strcmp(v->target, name) == 0)
			return v;
		h = (h + 1) & (t->icap - 1);
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	snprintf(t->v[t->n].target, sizeof(t->v[t->n].target), "%s", name);
	t->idx[h] = (uint32_t)(++t->n);
	return &t->v[t->n - 1];
}

/* Rare (a reload removed a target): rebuild the index from scratch. */
static void
parent_vtab_del(struct parent_vtab *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].target, name) != 0)
			continue;
		t->v[i] = t->v[--t->n];
		t->icap /= 2; /* the rehash doubles it back */
		parent_vtab_rehash(t);
		return;
	}
}

void
parent_vtab_fini(struct parent_vtab *t)
{
	free(t->v);
	free(t->idx);
	memset(t, 0, sizeof(*t));
}

void
parent_send(struct parent *p, struct sup_child *c, enum ipc_type type,
    const void *data, size_t len)
{
	if (ipc_send(&c->chan, type, 0, data, len, -1) != 0)
		p->ipc_send_failed++;
}

void
parent_relay_verdict(struct parent *p, const struct ipc_msg *m)
{
	struct ipc_verdict v;

	if (m->len != sizeof(v)) {
		p->ipc_unexpected++;
		return;
	}
	memcpy(&v, m->data, sizeof(v));
	v.target[sizeof(v.target) - 1] = '\0';
	if (v.gone)
		parent_vtab_del(&p->vtab, v.target);
	else
		*parent_vtab_get(&p->vtab, v.target) = v;
	for (struct sup_child *c = sup_first(p->sup); c; c = c->next) {
		if (!sup_child_live(c) || !parent_plane_subscribes(c->plane))
			continue;
		parent_send(p, c, IPC_VERDICT, &v, sizeof(v));
	}
	p->verdicts_relayed++;
}

void
parent_relay_passive(struct parent *p, const struct ipc_msg *m)
{
	if (m->len != sizeof(struct ipc_passive)) {
		p->ipc_unexpected++;
		return;
	}
	for (struct sup_child *c = sup_first(p->sup); c; c = c->next) {
		if (!sup_child_live(c) || strcmp(c->plane, "hc") != 0)
			continue;
		parent_send(p, c, IPC_PASSIVE, m->data, m->len);
	}
	p->passive_relayed++;
}

void
parent_relay_replay(struct parent *p, struct sup_child *c)
{
	if (!parent_plane_subscribes(c->plane))
		return;
	for (size_t i = 0; i < p->vtab.n; i++)
		parent_send(
		    p, c, IPC_VERDICT, &p->vtab.v[i], sizeof(p->vtab.v[i]));
}

void
parent_relay_forget_all(struct parent *p)
{
	while (p->vtab.n > 0) {
		struct ipc_verdict v = p->vtab.v[p->vtab.n - 1];

		v.gone = 1;
		v.state = HC_UNKNOWN;
		v.reason = HC_R_NOT_PROBED;
		parent_vtab_del(&p->vtab, v.target);
		for (struct sup_child *c = sup_first(p->sup); c; c = c->next)
			if (sup_child_live(c) &&
			    parent_plane_subscribes(c->plane))
				parent_send(p, c, IPC_VERDICT, &v, sizeof(v));
	}
}
