/*
 * vrrp_tk.h - the takeover interface: what an instance does to the world
 * when its state machine makes it MASTER, and undoes when it leaves.
 *
 * The machine (vrrp_fsm.c) decides who should hold the virtual addresses;
 * a takeover backend makes it so, one file each:
 *
 *   vrrp_tk_local.c  the addresses on the interface over netlink plus
 *                    gratuitous ARP / unsolicited NA with repeats and
 *                    refresh: a LAN where whoever announces gets the
 *                    traffic;
 *   vrrp_tk_havip.c  the same, then proof that the VPC really routes the
 *                    HAVIP here: echo requests from the VIP to the gateway
 *                    are answered only where the VPC sends the VIP
 *                    (reference/vip.md §5); a master that is not answered
 *                    stops refreshing its announcements and, instead of
 *                    re-announcing blindly, pings the VIP through the
 *                    gateway: it announces again only when nobody else
 *                    answers for the address, so two masters of a
 *                    partition do not steal it from each other;
 *   vrrp_tk_exec.c   the same as local, then the provider's CLI (acquire,
 *                    then describe as proof), ordered with the notify
 *                    hooks, under a timeout, retried with back-off.
 *
 * Contract of a backend (struct vrrp_tk_ops):
 *   - acquire() returns at once: 0 when it has started, -errno when it
 *     could not (the instance records FAILED). It reports each change of
 *     its state with vrrp_inst_tk_report(), from inside acquire or later
 *     from its own timers or sockets: a backend that must wait for
 *     someone else (a cloud API, a child process) reports ACQUIRING first
 *     and HELD / OWNER / FAILED when it knows.
 *   - release() is synchronous, best effort and idempotent: the instance
 *     leaves MASTER whatever it says, and calls it again on shutdown. It
 *     cancels whatever acquire left in flight; nothing is reported after
 *     it returns.
 *   - announce() tells the network again, now, that this node holds the
 *     addresses (a lower-priority master was heard: it announced last);
 *     only called while MASTER.
 *   - init() / fini() pair with the instance's life; priv is the
 *     backend's own (see struct vrrp_tk).
 *
 * The bookkeeping common to every backend (state, time as master without
 * proof of ownership, time to the first proof) is pure and lives in
 * vrrp_tk.c, with the pure parts of the havip backend (ICMP echo codec,
 * the owner probe's frame, the fallback back-off) so that tests reach them
 * directly.
 */
#ifndef HAVEN_VRRP_TK_H
#define HAVEN_VRRP_TK_H

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vrrp_inst;
struct vrrp_announce_plan;
struct vrrp_instance_conf;

/* takeover: key values (vrrp_conf.c binds the index). */
enum vrrp_tk_kind {
	VRRP_TK_LOCAL,
	VRRP_TK_HAVIP,
	VRRP_TK_EXEC,
};

enum vrrp_tk_state {
	VRRP_TK_IDLE,      /* not master: nothing acquired */
	VRRP_TK_ACQUIRING, /* acquire started, outcome not known yet */
	VRRP_TK_HELD,      /* acquired; the backend cannot verify more */
	VRRP_TK_VERIFYING, /* acquired, no proof of ownership yet */
	VRRP_TK_OWNER,     /* proof: traffic for the VIP reaches us */
	VRRP_TK_NOT_OWNER, /* probe_fall probes unanswered while master */
	VRRP_TK_FAILED,    /* acquire could not be done */
	VRRP_TK__COUNT
};

struct vrrp_tk_ops {
	const char *name; /* static: as in the config */
	bool verifies;    /* reports OWNER / NOT_OWNER */
	int (*init)(struct vrrp_inst *in);
	int (*acquire)(struct vrrp_inst *in);
	void (*release)(struct vrrp_inst *in);
	void (*announce)(struct vrrp_inst *in);
	void (*fini)(struct vrrp_inst *in);
};

extern const struct vrrp_tk_ops vrrp_tk_local_ops;
extern const struct vrrp_tk_ops vrrp_tk_havip_ops;
extern const struct vrrp_tk_ops vrrp_tk_exec_ops;

/* The backend of a takeover: value. */
const struct vrrp_tk_ops *vrrp_tk_ops_of(int kind);

/*
 * The havip backend's fallback back-off, for a node that is not the owner
 * and cannot send its owner probe (no neighbour entry for the gateway, a
 * send error): the n-th announcement (from 0) comes vrrp_tk_backoff_us(n,
 * max) after the one before: 1 s, 2 s, 4 s ... capped at max_us (at least
 * 1 s).
 */
#define VRRP_TK_BACKOFF_FIRST_US 1000000u
uint64_t vrrp_tk_backoff_us(unsigned n, uint64_t max_us);
/*
 * May a node that found the owner gone announce at now_us? The first time
 * since its last proof of ownership (streak 0), at once; the n-th time
 * again without a proof in between, only vrrp_tk_backoff_us(n - 1, max)
 * after the previous one (at last_us): an owner that the VPC hides from
 * our probes (ICMP to the VIP filtered) then costs one announcement per
 * back-off step, as the blind back-off did, not one per probe_fall.
 */
bool vrrp_tk_owner_lost_due(
    unsigned streak, uint64_t last_us, uint64_t now_us, uint64_t max_us);

/*
 * The exec backend's pure decisions. After the n-th failed acquire of a
 * round (from 1), the next one comes vrrp_tk_exec_pause_ms() later:
 * backoff_ms, doubling, capped at max_ms; past the retries allowed
 * (n > retries) it is max_ms: FAILED retries on at the cap while master.
 * vrrp_tk_exec_owns(): whether expect occurs in describe's captured
 * stdout (len bytes, NULs included); an empty expect never does.
 */
uint64_t vrrp_tk_exec_pause_ms(
    unsigned n, unsigned retries, uint64_t backoff_ms, uint64_t max_ms);
bool vrrp_tk_exec_owns(const char *out, size_t len, const char *expect);

/* The exec backend's counters (vrrp_tk_exec.c); NULL for the others. */
struct vrrp_tk_exec_stats {
	uint64_t runs;      /* commands started (acquire, describe, release) */
	uint64_t failures;  /* runs that failed: exit != 0, timeout, spawn */
	uint64_t timeouts;  /* runs killed at exec.timeout */
	uint64_t retries;   /* acquires after the first of a round */
	uint64_t releases;  /* release runs queued */
	uint64_t verify_us; /* last round: acquire queued -> describe proof */
	bool verified_once; /* verify_us is meaningful */
	unsigned attempt;   /* acquires in the current round; 0: none */
};
const struct vrrp_tk_exec_stats *vrrp_tk_exec_stats(const struct vrrp_inst *in);

/*
 * ICMP echo (RFC 792), two probes of the havip backend:
 *
 *  - the ownership probe, from the VIP to the gateway, sent through the
 *    IP stack: its reply is addressed to the VIP, so it proves the VPC
 *    routes the VIP here;
 *  - the owner probe, sent while not the owner, from the node's own
 *    address to the VIP, as a whole Ethernet frame handed to the gateway
 *    (the kernel would loop a datagram to a local address back): its
 *    reply comes from whoever the VPC routes the VIP to, so it proves
 *    another node holds the address and is alive.
 *
 * Each probe carries its own identifier, chosen at random per instance,
 * and its own random token in the payload, so a reply meant for the other
 * master of a partition (the VPC routes replies to the VIP to whoever it
 * thinks holds it) is told apart from ours, and the two probes from each
 * other.
 */
#define VRRP_TK_ICMP_TOKEN 8
#define VRRP_TK_ICMP_LEN   (8 + VRRP_TK_ICMP_TOKEN) /* header + token */

enum vrrp_tk_icmp_drop {
	VRRP_TK_ICMP_OK,
	VRRP_TK_ICMP_SHORT,     /* truncated IPv4 or ICMP header */
	VRRP_TK_ICMP_NOT_V4,    /* not an IPv4 header */
	VRRP_TK_ICMP_FRAGMENT,  /* a fragment: we send no large echoes */
	VRRP_TK_ICMP_NOT_REPLY, /* another ICMP type or code */
	VRRP_TK_ICMP_CKSUM,     /* bad ICMP checksum */
	VRRP_TK_ICMP_ADDR,      /* not the addresses of our replies */
	VRRP_TK_ICMP_ID,        /* another identifier: not ours */
	VRRP_TK_ICMP_TOKEN_BAD, /* our identifier, another token */
	VRRP_TK_ICMP_STALE,     /* a sequence number not recently sent */
	VRRP_TK_ICMP__COUNT
};

/*
 * What a reply must match. Plain data. Ownership probe: gateway -> VIP;
 * owner probe: VIP -> the node's own address.
 */
struct vrrp_tk_icmp_match {
	struct in_addr from; /* the reply's source */
	struct in_addr to;   /* its destination */
	uint16_t id;
	uint16_t seq;    /* the last sequence number sent */
	uint16_t window; /* accept seq-window+1 .. seq (at least 1) */
	uint8_t token[VRRP_TK_ICMP_TOKEN];
};

const char *vrrp_tk_icmp_drop_name(enum vrrp_tk_icmp_drop d);
/* RFC 1071 Internet checksum of n bytes. */
uint16_t vrrp_tk_icmp_cksum(const uint8_t *p, size_t n);
/* An echo request into buf (VRRP_TK_ICMP_LEN bytes); returns the length. */
size_t vrrp_tk_icmp_build(uint8_t buf[VRRP_TK_ICMP_LEN], uint16_t id,
    uint16_t seq, const uint8_t token[VRRP_TK_ICMP_TOKEN]);
/*
 * Judge a datagram from a raw IPPROTO_ICMP socket (IPv4 header first).
 * VRRP_TK_ICMP_OK and *seq when it is the reply to one of our recent
 * requests; else the first rule it broke.
 */
enum vrrp_tk_icmp_drop vrrp_tk_icmp_parse(const uint8_t *pkt, size_t len,
    const struct vrrp_tk_icmp_match *m, uint16_t *seq);

/*
 * The owner probe's frame: Ethernet II (RFC 894) to the gateway's MAC,
 * IPv4 (RFC 791: no options, DF, TTL 64, the IP identifier = seq) from src
 * to vip, an echo request (id, seq, token). Returns the length
 * (VRRP_TK_OWNER_FRAME_LEN; a NIC pads it to the Ethernet minimum).
 */
#define VRRP_TK_ETH_HLEN        14
#define VRRP_TK_MACLEN          6
#define VRRP_TK_OWNER_FRAME_LEN (VRRP_TK_ETH_HLEN + 20 + VRRP_TK_ICMP_LEN)
size_t vrrp_tk_owner_build(uint8_t frame[VRRP_TK_OWNER_FRAME_LEN],
    const uint8_t gw_mac[VRRP_TK_MACLEN], const uint8_t own_mac[VRRP_TK_MACLEN],
    struct in_addr src, struct in_addr vip, uint16_t id, uint16_t seq,
    const uint8_t token[VRRP_TK_ICMP_TOKEN]);
/*
 * Judge an Ethernet frame read from the owner probe's packet socket:
 * VRRP_TK_ICMP_NOT_V4 for another EtherType, else vrrp_tk_icmp_parse()
 * of its payload (m: VIP -> our address).
 */
enum vrrp_tk_icmp_drop vrrp_tk_owner_parse(const uint8_t *frame, size_t len,
    const struct vrrp_tk_icmp_match *m, uint16_t *seq);

/*
 * Per-instance takeover state, embedded in struct vrrp_inst. Times are
 * CLOCK_MONOTONIC microseconds passed in by the caller (pure).
 */
struct vrrp_tk {
	const struct vrrp_tk_ops *ops; /* static */
	void *priv;                    /* owned by ops: init / fini */
	enum vrrp_tk_state state;
	uint64_t master_since_us;     /* 0: not master */
	uint64_t unverified_since_us; /* 0: no open unverified span */
	uint64_t unverified_us;       /* closed spans as unverified master */
	uint64_t verify_us; /* last takeover to its first proof; 0: none */
	bool verified;      /* the current takeover had its first proof */
	uint64_t verified_wall_ms; /* last proof (wall clock); 0: never */
	uint64_t acquires;         /* takeovers started */
	uint64_t failures;         /* acquires that failed */
	/* Ownership probes of a verifying backend (havip: ICMP echo). */
	uint64_t probes_sent;
	uint64_t probes_ok;     /* answered: proofs */
	uint64_t probes_missed; /* no answer by the next probe */
	uint64_t probe_errors;  /* socket errors (not sent, not read) */
	uint64_t reannounces;   /* fallback back-off announcements */
	/* Replies discarded, by enum vrrp_tk_icmp_drop (0 unused). */
	uint64_t probe_drops[VRRP_TK_ICMP__COUNT];
	/* Owner probes (havip, while NOT_OWNER): is another node alive? */
	uint64_t owner_sent;
	uint64_t owner_ok;     /* answered: the owner is alive */
	uint64_t owner_missed; /* no answer by the next probe */
	uint64_t owner_unsent; /* not built or sent: the back-off applies */
	uint64_t owner_lost;   /* probe_fall missed in a row: we took over */
	uint64_t owner_drops[VRRP_TK_ICMP__COUNT];
};

const char *vrrp_tk_state_name(enum vrrp_tk_state st);
/* Became master at now: a takeover starts, state ACQUIRING. */
void vrrp_tk_begin(struct vrrp_tk *tk, uint64_t now_us);
/* The backend says st at now; false when nothing changed. */
bool vrrp_tk_set(struct vrrp_tk *tk, enum vrrp_tk_state st, uint64_t now_us);
/* A proof of ownership (a reply) at wall_ms: only the time is kept. */
void vrrp_tk_proof(struct vrrp_tk *tk, uint64_t wall_ms);
/* Left master at now: spans close, state IDLE. */
void vrrp_tk_end(struct vrrp_tk *tk, uint64_t now_us);
/* Time as master without proof of ownership, the open span included. */
uint64_t vrrp_tk_unverified_us(const struct vrrp_tk *tk, uint64_t now_us);

/*
 * Helpers of the local backend that the havip backend reuses: the
 * addresses on or off the interface, one announcement round, and the
 * announcement schedule of the instance (its garp_timer and sched).
 */
void vrrp_tk_local_hold(struct vrrp_inst *in, bool hold);
void vrrp_tk_local_plan(
    const struct vrrp_instance_conf *ic, struct vrrp_announce_plan *plan);
void vrrp_tk_local_garp_start(
    struct vrrp_inst *in, const struct vrrp_announce_plan *plan);
void vrrp_tk_local_garp_stop(struct vrrp_inst *in);
void vrrp_tk_local_announce(struct vrrp_inst *in);
/* announce() of both: the takeover's burst, then the refresh as before. */
void vrrp_tk_local_reannounce(struct vrrp_inst *in);

#endif
