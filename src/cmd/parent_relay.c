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

void
parent_relay_fini(struct parent *p)
{
	size_t pos = 0;
	void *v;

	while (namemap_next(&p->vtab, &pos, NULL, &v))
		free(v);
	namemap_fini(&p->vtab);
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
	struct ipc_verdict v, *last;

	if (m->len != sizeof(v)) {
		p->ipc_unexpected++;
		return;
	}
	memcpy(&v, m->data, sizeof(v));
	v.target[sizeof(v.target) - 1] = '\0';
	if (v.gone)
		free(namemap_del(&p->vtab, v.target));
	else if ((last = namemap_get(&p->vtab, v.target)) != NULL)
		*last = v;
	else {
		last = xmalloc(sizeof(*last));
		*last = v;
		/* Cannot fail: the name is absent and the value not NULL. */
		(void)namemap_add(&p->vtab, v.target, last);
	}
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
parent_relay_worker0(
    struct parent *p, const struct sup_child *from, const struct ipc_msg *m)
{
	for (struct sup_child *c = sup_first(p->sup); c; c = c->next)
		if (c->worker == 0 && sup_child_live(c) &&
		    strcmp(c->plane, from->plane) == 0 &&
		    parent_plane_receives(c->plane, m->type))
			parent_send(p, c, m->type, m->data, m->len);
}

void
parent_relay_replay(struct parent *p, struct sup_child *c)
{
	size_t pos = 0;
	void *v;

	if (!parent_plane_receives(c->plane, IPC_VERDICT))
		return;
	while (namemap_next(&p->vtab, &pos, NULL, &v))
		parent_send(p, c, IPC_VERDICT, v, sizeof(struct ipc_verdict));
}

void
parent_relay_forget_all(struct parent *p)
{
	size_t pos = 0;
	void *last;

	/* Deleting the entry just returned is allowed while iterating. */
	while (namemap_next(&p->vtab, &pos, NULL, &last)) {
		struct ipc_verdict v = *(struct ipc_verdict *)last;

		v.gone = 1;
		v.state = HC_UNKNOWN;
		v.reason = HC_R_NOT_PROBED;
		free(namemap_del(&p->vtab, v.target));
		parent_relay_send(p, IPC_VERDICT, &v, sizeof(v));
	}
}
