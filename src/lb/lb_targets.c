/*
 * lb_targets.c - the health targets the load balancer declares: one per
 * server of a pool whose health_check names a template, named
 * "pool/server" and probed at the server's check_address (or its address).
 * The health plane probes them without knowing what a pool is.
 *
 * Pure: config in, plain target specs out.
 */
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb/lb_conf.h"
#include "lib/log.h"
#include "lib/plane.h"
#include "lib/util.h"

/* The address a pool server is probed at: check_address, port inherited. */
static void
lb_targets_addr(const struct lb_server_conf *sv, struct sockaddr_storage *out)
{
	const struct sockaddr_in *a4 = (const void *)&sv->address;
	const struct sockaddr_in6 *a6 = (const void *)&sv->address;
	struct sockaddr_in *o4 = (void *)out;
	struct sockaddr_in6 *o6 = (void *)out;

	*out = sv->has_check_address ? sv->check_address : sv->address;
	if (out->ss_family == AF_INET && o4->sin_port == 0)
		o4->sin_port = sv->address.ss_family == AF_INET6 ?
		    a6->sin6_port :
		    a4->sin_port;
	else if (out->ss_family == AF_INET6 && o6->sin6_port == 0)
		o6->sin6_port = sv->address.ss_family == AF_INET6 ?
		    a6->sin6_port :
		    a4->sin_port;
}

size_t
lb_targets(const void *conf, struct plane_target **out)
{
	const struct lb_conf *lb = conf;
	size_t n = 0, cap = 0;

	*out = NULL;
	for (size_t i = 0; i < lb->npools; i++) {
		const struct lb_pool_conf *p = &lb->pools[i];

		if (p->health_check == NULL)
			continue;
		for (size_t j = 0; j < p->nservers; j++) {
			const struct lb_server_conf *sv = &p->servers[j];
			struct plane_target *t;
			int len;

			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				*out = xrealloc(*out, cap * sizeof(**out));
			}
			t = &(*out)[n];
			memset(t, 0, sizeof(*t));
			len = snprintf(t->name, sizeof(t->name), "%s/%s",
			    p->name, sv->name);
			if (len < 0 || (size_t)len >= sizeof(t->name)) {
				log_warn("target name too long",
				    "pool=%s server=%s", log_q(p->name),
				    log_q(sv->name));
				continue;
			}
			snprintf(t->owner, sizeof(t->owner), "%s", p->name);
			t->check = p->health_check;
			lb_targets_addr(sv, &t->addr);
			n++;
		}
	}
	return n;
}

void
lb_targets_check_refs(struct conf_ctx *ctx, struct conf_node *node,
    const void *conf, const char *const *names, size_t n)
{
	lb_conf_check_health(ctx, node, conf, names, n);
}
