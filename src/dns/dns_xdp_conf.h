/*
 * dns_xdp_conf.h - the `xdp:` part of the dns section: the XDP fast path
 * (dns_xdp.c), off unless an interface is named.
 *
 *   dns:
 *     listen: ["198.18.0.1:53"]
 *     xdp: {interface: eth0}
 *
 * UDP queries to the IPv4 listen addresses that arrive on the interface
 * are answered from an AF_XDP socket (rx queue 0, worker 0) instead of the
 * kernel's UDP sockets, which stay bound and serve everything else.
 */
#ifndef HAVEN_DNS_XDP_CONF_H
#define HAVEN_DNS_XDP_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/conf.h"
#include "lib/plane.h"

struct dns_conf;

struct dns_xdp_conf {
	char *interface; /* owned; NULL: off */
};

extern const struct conf_schema dns_xdp_conf_schema;

/* The section's check calls this once listen_addr is parsed. */
void dns_xdp_conf_check(
    struct conf_ctx *ctx, struct conf_node *node, const struct dns_conf *c);

/* The AF_XDP "socket" the parent opens for c into *out: true, or false
 * when off. */
bool dns_xdp_conf_spec(const struct dns_conf *c, struct plane_sock_spec *out);

#endif
