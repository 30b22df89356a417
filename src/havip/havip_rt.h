/*
 * havip_rt.h - the HAVIP controller at run time: one snooping socket per
 * instance link, one arbiter per HAVIP, and the actuation that makes the
 * gateway's route follow each arbiter's owner.
 *
 * Frames come in on a node's link: the link names the instance. An ARP
 * frame whose sender address is a HAVIP is that instance's announcement
 * (ignored and counted when the instance is not associated with the
 * HAVIP); a VRRP advert from the instance's own address is its claim on
 * every HAVIP in the advert's address list that it is associated with.
 *
 * Actuation is a reconciliation: the wanted state is the arbiter's owner
 * (a route through its link, or none), the installed state is what the
 * kernel confirmed; a failure is logged, counted, and retried with
 * back-off until the two agree.
 *
 * Reload: HAVIPs are kept by name when their address and association
 * list are unchanged (owner, hold-down and counters survive); the snooping
 * sockets are reopened. At start, or for a new HAVIP, a /32 already routed
 * through an associated instance's link is adopted: a restarted controller
 * takes over the network as it finds it instead of black-holing the HAVIP
 * until the next failover.
 *
 * Stop leaves each HAVIP's route in place, for the same reason (the
 * gateway's forwarding does not depend on this process; the next start
 * adopts it), and deletes the EIP table, as the section asks.
 */
#ifndef HAVEN_HAVIP_RT_H
#define HAVEN_HAVIP_RT_H

#include <net/if.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "havip/havip_arb.h"
#include "havip/havip_conf.h"
#include "havip/havip_frame.h"
#include "havip/havip_nft.h"
#include "havip/havip_route.h"
#include "lib/buf.h"
#include "lib/ev.h"

struct conf_errors;
struct conf_node;
struct havip_rt;

#define HAVIP_RETRY_MIN_MS 100
#define HAVIP_RETRY_MAX_MS 5000

/* One instance's link. */
struct havip_link {
	char name[64]; /* the instance's */
	char ifname[IF_NAMESIZE];
	struct in_addr addr; /* the instance's own */
	int ifindex;         /* 0: not found at apply */
	int fd;              /* owned: AF_PACKET, -1 when closed */
	struct ev_io io;
	struct havip_rt *rt; /* borrowed: owner */
	uint64_t rx_frames;
};

/* Frames that are not discards but not announcements either. */
enum havip_rt_rx {
	HAVIP_RX_ARP,        /* ARP frames seen */
	HAVIP_RX_VRRP,       /* adverts decoded */
	HAVIP_RX_VRRP_AUTH,  /* ... of them with an HMAC trailer, unverified */
	HAVIP_RX_ADVERT_SRC, /* advert not from the link's instance: dropped */
	HAVIP_RX_READ_ERR,   /* recv failed */
	HAVIP_RX__COUNT
};

struct havip_vip {
	char *name; /* owned */
	struct in_addr addr;
	struct havip_subnet subnet;
	bool has_eip;
	struct in_addr eip;
	size_t ninst;
	char inst[HAVIP_CONF_INST_MAX][64]; /* associations, arb's order */
	int link[HAVIP_CONF_INST_MAX];      /* index in rt->links, -1: none */
	struct havip_arb arb;
	int installed;          /* ifindex the route goes through; 0: none */
	bool in_sync;           /* installed is what the arbiter wants */
	uint64_t remap_wall_ms; /* when the owner last changed, wall clock */
	uint64_t ignored;       /* announcements from unassociated instances */
	uint64_t route_errors;
	uint64_t route_changes;
	uint64_t backoff_ms;
	struct ev_timer retry; /* actuation retry */
	struct ev_timer tick;  /* the arbiter's next deadline */
	struct havip_rt *rt;   /* borrowed: owner */
};

struct havip_rt {
	struct ev_loop *loop; /* borrowed */
	struct havip_route route;
	struct havip_nft nft;
	bool nft_ok;
	struct havip_link *links; /* owned array */
	size_t nlinks;
	struct havip_vip **vips; /* owned array of owned */
	size_t nvips;
	uint64_t fdrops[HAVIP_FDROP__COUNT];
	uint64_t vdrops[VRRP_DROP__COUNT];
	uint64_t rx[HAVIP_RX__COUNT];
	uint64_t nft_errors;
	uint64_t sock_errors;
};

struct havip_rt *havip_rt_new(struct ev_loop *loop);
void havip_rt_free(struct havip_rt *rt);
int havip_rt_apply(
    struct havip_rt *rt, const struct havip_conf *c, struct conf_errors *errs);
/* Close the sockets, delete the EIP table; routes stay (see above). */
void havip_rt_stop(struct havip_rt *rt);
/* One parsed frame from link (exposed for tests). */
void havip_rt_frame(
    struct havip_rt *rt, struct havip_link *l, const struct havip_frame *f);
/* Operator's associate: 0, -ENOENT (no such HAVIP), -ESRCH (no such
 * instance), -EPERM (not associated). */
int havip_rt_associate(
    struct havip_rt *rt, const char *havip, const char *instance);
struct havip_vip *havip_rt_find(struct havip_rt *rt, const char *name);

/* havip_sock.c: an AF_PACKET socket on ifindex that sees only ingress
 * ARP and IPv4 protocol-112 frames. fd or -errno. */
int havip_sock_open(int ifindex);

/* havip_api.c */
int havip_api_query(struct havip_rt *rt, const char *method, const char *path,
    const char *body, size_t body_len, struct buf *out);
void havip_api_metrics(struct havip_rt *rt, struct buf *out);
void havip_status_print(struct conf_node *root);

#endif
