/*
 * dns_xdp_conf.c - see dns_xdp_conf.h.
 */
#include <net/if.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "dns/dns_conf.h"
#include "dns/dns_xdp_conf.h"
#include "lib/util.h"

static const struct conf_key dns_xdp_conf_keys[] = {
	{ .name = "interface",
	    .type = CT_STRING,
	    .off = offsetof(struct dns_xdp_conf, interface),
	    .help = "answer UDP queries arriving on this interface from an "
	            "AF_XDP socket (generic mode; needs root)" },
};

const struct conf_schema dns_xdp_conf_schema = {
	.name = "dns.xdp",
	.size = sizeof(struct dns_xdp_conf),
	.keys = dns_xdp_conf_keys,
	.nkeys = ARRAY_SIZE(dns_xdp_conf_keys),
};

/* The IPv4 listen addresses as filter destinations; the count. */
static size_t
dns_xdp_conf_dst(
    const struct dns_conf *c, struct xdp_filter_dst *dst, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nlisten && c->listen_addr != NULL; i++) {
		const struct sockaddr_in *a = (const void *)&c->listen_addr[i];

		if (a->sin_family != AF_INET)
			continue;
		if (n < max) {
			dst[n].addr = a->sin_addr.s_addr;
			dst[n].port = a->sin_port;
		}
		n++;
	}
	return n;
}

void
dns_xdp_conf_check(
    struct conf_ctx *ctx, struct conf_node *node, const struct dns_conf *c)
{
	struct conf_node *sec = conf_key_node(node, "xdp"), *at;
	struct xdp_filter_dst dst[XDP_FILTER_DST_MAX];
	const char *ifn = c->xdp.interface;
	size_t n;

	if (ifn == NULL)
		return;
	at = sec != NULL && conf_key_node(sec, "interface") != NULL ?
	    conf_key_node(sec, "interface") :
	    node;
	if (ifn[0] == '\0' || strlen(ifn) >= IF_NAMESIZE)
		conf_error(ctx, at, "xdp: interface: not an interface name");
	/* The workers bind what the parent checked: only the parent asks
	 * the kernel (the interface could be gone by a worker's start). */
	else if (!(conf_ctx_flags(ctx) & CONF_BIND_CHECKED) &&
	    if_nametoindex(ifn) == 0)
		conf_error(
		    ctx, at, "xdp: interface %s: no such interface", ifn);
	n = dns_xdp_conf_dst(c, dst, XDP_FILTER_DST_MAX);
	if (n == 0)
		conf_error(ctx, at,
		    "xdp: needs an IPv4 listen address (IPv6 is not served "
		    "over XDP)");
	else if (n > XDP_FILTER_DST_MAX)
		conf_error(ctx, at, "xdp: at most %d IPv4 listen addresses",
		    XDP_FILTER_DST_MAX);
}

bool
dns_xdp_conf_spec(const struct dns_conf *c, struct plane_sock_spec *out)
{
	size_t n;

	if (c->xdp.interface == NULL)
		return false;
	memset(out, 0, sizeof(*out));
	out->type = PLANE_SOCK_XDP;
	snprintf(
	    out->xdp_ifname, sizeof(out->xdp_ifname), "%s", c->xdp.interface);
	out->xdp_queue = 0;
	n = dns_xdp_conf_dst(c, out->xdp_dst, XDP_FILTER_DST_MAX);
	out->xdp_ndst = n < XDP_FILTER_DST_MAX ? n : XDP_FILTER_DST_MAX;
	snprintf(out->name, sizeof(out->name), "xdp/%s:%u", out->xdp_ifname,
	    out->xdp_queue);
	return out->xdp_ndst > 0;
}
