/*
 * planes.c - the plane registry's rows (planes.h). Adding a plane is a
 * folder under src/, a schema, a plane_ops and one row here.
 *
 * Only the table lives in this file: a test build links the parent with a
 * table of its own instead (tests/unit/test_planes.c).
 */
#include <linux/capability.h>

#include "cmd/planes.h"
#include "dns/dns_conf.h"
#include "havip/havip_conf.h"
#include "hc/hc_conf.h"
#include "lb/lb_conf.h"
#include "lib/priv.h"
#include "snap/snap_conf.h"
#include "vrrp/vrrp_conf.h"

extern const struct plane_ops dns_plane;
extern const struct plane_ops havip_plane;
extern const struct plane_ops hc_plane;
extern const struct plane_ops lb_plane;
extern const struct plane_ops snap_plane;
extern const struct plane_ops vrrp_plane;

const struct plane_row planes[] = {
	{
	    .name = "hc",
	    .ops = &hc_plane,
	    .section = "health",
	    .schema = &hc_conf_schema,
	    .help = "health engine",
	    .api_prefix = "/v1/checks",
	    .fanout = PLANE_API_ONE,
	    .sends = PLANE_MSG(IPC_VERDICT),
	    .receives = PLANE_MSG(IPC_PASSIVE),
	    /* icmp checks where ping sockets are refused (hc_plane_caps) */
	    .caps_bound = PRIV_CAP(CAP_NET_RAW),
	},
	{
	    .name = "lb",
	    .ops = &lb_plane,
	    .section = "lb",
	    .schema = &lb_conf_schema,
	    .help = "load balancer",
	    .api_prefix = "/v1/lb",
	    .fanout = PLANE_API_POST_ALL,
	    .replay = true,
	    .sends = PLANE_MSG(IPC_PASSIVE),
	    .receives = PLANE_MSG(IPC_VERDICT),
	},
	{
	    .name = "vrrp",
	    .ops = &vrrp_plane,
	    .section = "vrrp",
	    .schema = &vrrp_conf_schema,
	    .help = "virtual IP (VRRP)",
	    .api_prefix = "/v1/vrrp",
	    .fanout = PLANE_API_ONE,
	    .receives = PLANE_MSG(IPC_VERDICT),
	    /* addresses and raw sockets after the drop; a real-time priority
	     * and locked pages taken as root at init (vrrp_plane.c) */
	    .caps_bound = PRIV_CAP(CAP_NET_ADMIN) | PRIV_CAP(CAP_NET_RAW) |
	        PRIV_CAP(CAP_SYS_NICE) | PRIV_CAP(CAP_IPC_LOCK),
	},
	{
	    .name = "havip",
	    .ops = &havip_plane,
	    .section = "havip",
	    .schema = &havip_conf_schema,
	    .help = "HAVIP control plane (site gateway, VPC emulator)",
	    .api_prefix = "/v1/havip",
	    .fanout = PLANE_API_ONE,
	    /* routes and the EIP's nftables table; snooping packet sockets */
	    .caps_bound = PRIV_CAP(CAP_NET_ADMIN) | PRIV_CAP(CAP_NET_RAW),
	},
	{
	    .name = "dns",
	    .ops = &dns_plane,
	    .section = "dns",
	    .schema = &dns_conf_schema,
	    .help = "DNS traffic manager (authoritative server, GSLB)",
	    .api_prefix = "/v1/dns",
	    /* a DR plan executed or a failback must reach every worker */
	    .fanout = PLANE_API_POST_ALL,
	    /* No replay: every worker persists the GSLB state (plans, forced
	     * failbacks) and a restarted one restores it; replaying an
	     * "execute" since rolled back by rollback_after would put the
	     * plan back on that worker alone. */
	    .replay = false,
	    /* each worker's zone serials, to worker 0: it sends NOTIFY
	     * once all of them serve a new serial (dns_notify.c) */
	    .sends = PLANE_MSG(IPC_ZONE_SERIALS),
	    .receives = PLANE_MSG(IPC_VERDICT) | PLANE_MSG(IPC_ZONE_SERIALS),
	    /* the parent binds port 53: the workers keep nothing. The XDP
	     * fast path's program, map and AF_XDP socket (dns.xdp) are the
	     * parent's too, and only a start config with one keeps what
	     * they need (parent_socks_caps). */
	    .caps_bound = 0,
	},
	{
	    .name = "snap",
	    .ops = &snap_plane,
	    .section = "snap",
	    .schema = &snap_conf_schema,
	    .help = "snapshot replication receiver",
	    .api_prefix = "/v1/snap",
	    .fanout = PLANE_API_ONE,
	    /* the parent binds the port; a store its user may write */
	    .caps_bound = 0,
	},
};

const size_t nplanes = sizeof(planes) / sizeof(planes[0]);
