/*
 * parent_socks.c - the sockets the planes serve on, opened and kept by the
 * parent (lib/plane.h, struct plane_sock_spec).
 *
 * Why here: a worker killed with SIGKILL takes its descriptors with it, and
 * a listening socket that closes with connections in its accept queue resets
 * them all. Held by the parent, a socket lives as long as a config declares
 * it: the queue of a worker that died stays, its successor finds it, and
 * until then the plane's other workers adopt the socket and drain it. It
 * also means no plane needs CAP_NET_BIND_SERVICE, and a port that cannot be
 * bound rejects a reload before anything changed.
 *
 * Every (spec, worker slot) has its own socket in one SO_REUSEPORT group,
 * so the kernel spreads connections over the workers as it did when each
 * bound its own. A reload keeps every socket whose plane, type, address and
 * slot stay (its name and flags may change: a renamed listener keeps its
 * queue); it opens the missing ones first and closes the unwanted ones only
 * once all are open, so a rejected reload changes nothing. The workers hold
 * duplicates: a socket the parent closes lives on in a worker until that
 * worker's next apply lets it go.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/parent.h"
#include "cmd/planes.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/util.h"

#define PARENT_SOCK_BACKLOG 4096

static socklen_t
parent_sock_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	                                   sizeof(struct sockaddr_in);
}

static void
parent_sock_flags(int fd, const struct plane_sock_spec *s)
{
	int defer = (s->flags & PLANE_SOCK_DEFER_ACCEPT) ? 1 : 0, one = 1;

	if (s->type == SOCK_STREAM)
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer));
	/* IP_FREEBIND covers IPv6 sockets too (the kernel checks either). */
	if (s->flags & PLANE_SOCK_FREEBIND)
		(void)setsockopt(
		    fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
}

/* Open, bind and (stream) listen; the socket or -errno. */
static int
parent_sock_open(const struct plane_sock_spec *s)
{
	int fd, one = 1, e;

	fd = socket(
	    s->addr.ss_family, s->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1)
		goto fail;
	if (s->addr.ss_family == AF_INET6)
		(void)setsockopt(
		    fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	parent_sock_flags(fd, s);
	if (bind(fd, (const struct sockaddr *)&s->addr,
	        parent_sock_len(&s->addr)) == -1)
		goto fail;
	if (s->type == SOCK_STREAM && listen(fd, PARENT_SOCK_BACKLOG) == -1)
		goto fail;
	return fd;
fail:
	e = -errno;
	close(fd);
	return e;
}

/* The socket of the running set that s at slot can take over, or NULL. */
static struct parent_sock *
parent_sock_match(struct parent *p, const struct plane_row *row,
    const struct plane_sock_spec *s, unsigned slot)
{
	for (size_t i = 0; i < p->nsocks; i++) {
		struct parent_sock *o = &p->socks[i];

		if (o->row == row && o->slot == slot && !o->taken &&
		    o->spec.type == s->type &&
		    memcmp(&o->spec.addr, &s->addr, sizeof(s->addr)) == 0 &&
		    (s->type != PLANE_SOCK_XDP ||
		        (strcmp(o->spec.xdp_ifname, s->xdp_ifname) == 0 &&
		            o->spec.xdp_queue == s->xdp_queue)))
			return o;
	}
	return NULL;
}

static void
parent_sock_add(struct parent_sockset *set, const struct parent_sock *ps)
{
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 8;
		set->v = xrealloc(set->v, set->cap * sizeof(*set->v));
	}
	set->v[set->n++] = *ps;
}

/* The sockets of one plane's section into set; errors into errs. */
static void
parent_socks_plane(struct parent *p, const struct haven_conf *next,
    const struct plane_row *row, struct parent_sockset *set,
    struct conf_errors *errs)
{
	struct plane_sock_spec *specs;
	unsigned nslots = haven_conf_procs(next, row);
	size_t n = row->ops->sockets(haven_conf_section(next, row), &specs);
	char addr[96];

	for (size_t i = 0; i < n; i++) {
		for (unsigned slot = 0; slot < nslots; slot++) {
			struct parent_sock ps = { .row = row,
				.spec = specs[i],
				.slot = slot,
				.fd = -1,
				.umem_fd = -1 };
			struct parent_sock *o;

			/* One consumer per AF_XDP socket: one slot. */
			if (specs[i].type == PLANE_SOCK_XDP &&
			    slot != specs[i].xdp_queue % nslots)
				continue;
			o = parent_sock_match(p, row, &specs[i], slot);
			if (o != NULL) {
				o->taken = true;
				ps.from = o;
			} else if (specs[i].type == PLANE_SOCK_XDP) {
				/* Logged; the plane serves on its sockets. */
				if (parent_xdp_open(&ps) != 0)
					continue;
			} else if ((ps.fd = parent_sock_open(&specs[i])) < 0) {
				conf_errors_addf(errs, next->path, 0, 0,
				    "%s: %s: cannot bind %s: %s", row->name,
				    specs[i].name,
				    conf_addr_str(
				        &specs[i].addr, addr, sizeof(addr)),
				    strerror(-ps.fd));
				break;
			}
			parent_sock_add(set, &ps);
		}
	}
	free(specs);
}

int
parent_socks_prepare(struct parent *p, const struct haven_conf *next,
    struct parent_sockset *set, struct conf_errors *errs)
{
	size_t before = errs->n;

	memset(set, 0, sizeof(*set));
	for (size_t i = 0; i < p->nsocks; i++)
		p->socks[i].taken = false;
	for (size_t i = 0; i < nplanes; i++)
		if (planes[i].ops->sockets != NULL &&
		    haven_conf_has(next, &planes[i]))
			parent_socks_plane(p, next, &planes[i], set, errs);
	if (errs->n == before)
		return 0;
	parent_socks_abort(set);
	return -EADDRNOTAVAIL;
}

static void
parent_sock_close(struct parent_sock *ps)
{
	parent_xdp_close(ps); /* the program first: traffic back to UDP */
	if (ps->fd >= 0)
		close(ps->fd);
	ps->fd = -1;
}

void
parent_socks_abort(struct parent_sockset *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].from == NULL)
			parent_sock_close(&set->v[i]);
	free(set->v);
	memset(set, 0, sizeof(*set));
}

void
parent_socks_commit(struct parent *p, struct parent_sockset *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct parent_sock *ps = &set->v[i];

		if (ps->from == NULL)
			continue;
		ps->fd = ps->from->fd;
		ps->from->fd = -1;
		ps->umem_fd = ps->from->umem_fd;
		ps->from->umem_fd = -1;
		ps->xdp = ps->from->xdp;
		ps->from->xdp = NULL;
		ps->from = NULL;
		if (ps->spec.type == PLANE_SOCK_XDP)
			parent_xdp_refresh(ps);
		else if (ps->fd >= 0)
			parent_sock_flags(ps->fd, &ps->spec);
	}
	for (size_t i = 0; i < p->nsocks; i++)
		parent_sock_close(&p->socks[i]);
	free(p->socks);
	p->socks = set->v;
	p->nsocks = set->n;
	memset(set, 0, sizeof(*set));
}

void
parent_socks_fini(struct parent *p)
{
	struct parent_sockset none = { 0 };

	parent_socks_commit(p, &none);
}

/*
 * Whether slot's worker of plane serves its own sockets: it runs, or it is
 * starting for the first time (at start or after a resize, where nobody
 * would be left to adopt anything).
 */
static bool
parent_slot_served(struct parent *p, const char *plane, unsigned slot)
{
	for (struct sup_child *c = sup_first(p->sup); c; c = c->next) {
		if (strcmp(c->plane, plane) != 0 || c->worker != slot)
			continue;
		if (c->state == SUP_RUNNING ||
		    (c->state == SUP_STARTING && c->restarts == 0))
			return true;
	}
	return false;
}

void
parent_socks_send(struct parent *p, struct sup_child *c)
{
	for (size_t i = 0; i < p->nsocks; i++) {
		const struct parent_sock *ps = &p->socks[i];
		struct ipc_listener m = { .slot = ps->slot };

		if (strcmp(ps->row->name, c->plane) != 0 || ps->fd < 0)
			continue;
		if (ps->slot != c->worker) {
			if (ps->spec.type == PLANE_SOCK_XDP ||
			    parent_slot_served(p, c->plane, ps->slot))
				continue;
			m.adopted = 1;
		}
		snprintf(m.name, sizeof(m.name), "%s", ps->spec.name);
		if (ipc_send(
		        &c->chan, IPC_LISTENER, 0, &m, sizeof(m), ps->fd) != 0)
			p->ipc_send_failed++;
		if (ps->umem_fd < 0)
			continue;
		snprintf(m.name, sizeof(m.name), "%.*s#umem",
		    (int)sizeof(m.name) - 6, ps->spec.name);
		if (ipc_send(&c->chan, IPC_LISTENER, 0, &m, sizeof(m),
		        ps->umem_fd) != 0)
			p->ipc_send_failed++;
	}
}

void
parent_socks_push(struct parent *p, const struct sup_child *changed)
{
	const struct plane_row *row = planes_find(changed->plane);

	if (row == NULL || row->ops->sockets == NULL)
		return;
	for (struct sup_child *c = sup_first(p->sup); c; c = c->next) {
		if (c == changed || strcmp(c->plane, changed->plane) != 0 ||
		    !sup_child_live(c) || c->state == SUP_STOPPING)
			continue;
		parent_socks_send(p, c);
		parent_send(p, c, IPC_SOCKETS, NULL, 0);
	}
}
