/*
 * parent_relay.c - the parent as the hub between planes (ARCHITECTURE §2):
 * a message a plane may send (its registry row's sends) goes to every plane
 * whose row receives it. Verdicts are also remembered, so a worker that
 * restarts learns the current health at once instead of assuming everything
 * is up; passive reports from the data path go to the health plane.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd/parent.h"
#include "hc/hc.h"
#include "lib/log.h"
#include "lib/util.h"

bool
parent_plane_receives(const char *plane, enum ipc_type type)
{
	const struct plane_row *row = planes_find(plane);

	return row != NULL && (row->receives & PLANE_MSG(type)) != 0;
}

/* To every live child whose plane receives type. */
static void
parent_relay_send(
    struct parent *p, enum ipc_type type, const void *data, size_t len)
{
	for (struct sup_child *c = sup_first(p->sup); c; c = c->next)
		if (sup_child_live(c) && parent_plane_receives(c->plane, type))
			parent_send(p, c, type, data, len);
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
	parent_relay_send(p, IPC_VERDICT, &v, sizeof(v));
	p->verdicts_relayed++;
}

void
parent_relay_passive(struct parent *p, const struct ipc_msg *m)
{
	if (m->len != sizeof(struct ipc_passive)) {
		p->ipc_unexpected++;
		return;
	}
	parent_relay_send(p, IPC_PASSIVE, m->data, m->len);
	p->passive_relayed++;
}

void
parent_relay_replay(struct parent *p, struct sup_child *c)
{
	if (!parent_plane_receives(c->plane, IPC_VERDICT))
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
		parent_relay_send(p, IPC_VERDICT, &v, sizeof(v));
	}
}
