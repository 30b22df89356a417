/*
 * vrrp_fsm.h - the VRRP state machine of one virtual router (RFC 9568 §6
 * for version 3, RFC 3768 §6 for version 2). Pure: no sockets, no clock
 * (every input carries now_us, a monotonic time in microseconds), no
 * globals, no allocation. The caller owns all I/O: it decodes and
 * validates adverts (§7.1: version, type, VRID, TTL, checksum, addresses),
 * arms one timer at vrrp_fsm_next_deadline(), and performs the actions each
 * input returns, in order: advert transmission, address add/del, GARP/NA.
 *
 * States are the RFC's Initialize, Backup and Active (called master here,
 * as in keepalived and the rest of haven), plus FAULT, a non-RFC state for
 * "told by health tracking not to take part": it neither sends nor takes
 * over. A master entering FAULT first releases with a priority 0 advert.
 *
 * Timers are kept in microseconds and computed with integer arithmetic:
 * the only rounding is the floor of the skew division, in µs (see
 * vrrp_fsm_skew_us), so the smallest interval keeps its priority stagger
 * (computed in whole centiseconds, every skew at 1 cs would be 0).
 *
 * Invariants: deadline_us is the Adver_Timer in MASTER, the
 * Master_Down_Timer in BACKUP, and UINT64_MAX in INIT and FAULT;
 * eligible_us is UINT64_MAX outside BACKUP; priority is 255 iff the
 * configured priority is 255 (the owner's priority is never tracked).
 */
#ifndef HAVEN_VRRP_FSM_H
#define HAVEN_VRRP_FSM_H

#include <stdbool.h>
#include <stdint.h>

#define VRRP_PRIO_STOP  0   /* RFC 9568 §5.2.4: the Active router stops */
#define VRRP_PRIO_MAX   254 /* RFC 9568 §5.2.4: highest non-owner */
#define VRRP_PRIO_OWNER 255 /* RFC 9568 §5.2.4: owns the addresses */

/* RFC 9568 §5.2.7: 12 bits of centiseconds, 0 is discarded (erratum 8301) */
#define VRRP_V3_ADVER_MIN_US 10000ull
#define VRRP_V3_ADVER_MAX_US 40950000ull
#define VRRP_V3_ADVER_UNIT   10000ull
/* RFC 3768 §5.3.7: 8 bits of whole seconds */
#define VRRP_V2_ADVER_MIN_US 1000000ull
#define VRRP_V2_ADVER_MAX_US 255000000ull
#define VRRP_V2_ADVER_UNIT   1000000ull

enum vrrp_state {
	VRRP_S_INIT,   /* RFC Initialize: not started, or shut down */
	VRRP_S_BACKUP, /* RFC Backup */
	VRRP_S_MASTER, /* RFC Active */
	VRRP_S_FAULT,  /* started but held out by set_fault (non-RFC) */
	VRRP__STATE_COUNT
};

/*
 * Preemption of a lower-priority master by this node when it is a backup
 * (RFC 9568 §6.1 Preempt_Mode). It never delays taking over from a master
 * that went silent or released with priority 0. The owner (255) always
 * preempts whatever this says (RFC 9568 §6.1).
 *
 * AFTER delays preemption by preempt_delay_us counted from the moment this
 * node became eligible to preempt: the first time, since it last saw a
 * master at or above its own priority, that it knows of a master below it
 * (a lower-priority advert arrives, or set_priority raises it above the
 * master it hears). Until then it behaves as NEVER; from then on as
 * IMMEDIATE, so the takeover comes one Master_Down_Interval after the
 * last advert it accepted. "After healthy for D" is the caller's business:
 * it raises the priority when its own hold-down ends.
 */
enum vrrp_preempt {
	VRRP_PREEMPT_NEVER,
	VRRP_PREEMPT_IMMEDIATE,
	VRRP_PREEMPT_AFTER,
};

/* An IPv4 or IPv6 address as the wire carries it (network byte order). */
struct vrrp_fsm_addr {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t bytes[16]; /* first 4 bytes for AF_INET */
};

/* Plain configuration data, copied by vrrp_fsm_init. */
struct vrrp_fsm_conf {
	unsigned version;  /* 2 or 3 */
	unsigned vrid;     /* 1..255, for logs: the caller demultiplexes */
	unsigned priority; /* 1..255, 255 = address owner */
	/*
	 * Advertisement_Interval. v3: a multiple of 10 ms in 10 ms..40.95 s;
	 * v2: a multiple of 1 s in 1..255 s (what the wire can carry).
	 */
	uint64_t adver_us;
	enum vrrp_preempt preempt;
	uint64_t preempt_delay_us; /* VRRP_PREEMPT_AFTER only */
	bool accept_mode;          /* RFC 9568 §6.1 Accept_Mode */
	struct vrrp_fsm_addr self; /* primary address, the tie-break */
};

/* Why an action was asked for. Names: vrrp_reason_name(). */
enum vrrp_reason {
	VRRP_R_NONE,
	VRRP_R_STARTUP,          /* non-owner start: backup */
	VRRP_R_STARTUP_OWNER,    /* priority 255 start: master at once */
	VRRP_R_MASTER_DOWN,      /* Master_Down_Timer expired */
	VRRP_R_PRIORITY0,        /* master released: skew timer expired */
	VRRP_R_PREEMPT,          /* took over from a lower-priority master */
	VRRP_R_HIGHER_PRIORITY,  /* master saw a higher priority */
	VRRP_R_ADDRESS_TIEBREAK, /* master saw its priority, higher address */
	VRRP_R_ADVER_TIMER,      /* periodic advert */
	VRRP_R_LOWER_PRIORITY,   /* master answers a lower one (RFC 9568) */
	VRRP_R_ANSWER_PRIORITY0, /* master answers a priority 0 advert */
	VRRP_R_SHUTDOWN,         /* vrrp_fsm_shutdown */
	VRRP_R_FAULT,            /* vrrp_fsm_set_fault(true) */
	VRRP_R_FAULT_CLEARED,    /* vrrp_fsm_set_fault(false) */
	VRRP__REASON_COUNT
};

enum vrrp_act {
	VRRP_A_SEND_ADVERT,   /* transmit an advert with .priority */
	VRRP_A_BECOME_MASTER, /* add the addresses, GARP/NA */
	VRRP_A_BECOME_BACKUP, /* remove the addresses */
	VRRP_A_BECOME_INIT,   /* remove the addresses */
	VRRP_A_BECOME_FAULT,  /* remove the addresses */
};

struct vrrp_action {
	enum vrrp_act act;
	enum vrrp_reason reason;
	uint8_t priority;       /* SEND_ADVERT: the Priority field */
	uint16_t max_adver_int; /* SEND_ADVERT: v3 centiseconds, v2 seconds */
};

/* What one input asks of the caller, in the order to perform it. */
#define VRRP_ACTIONS_MAX 4
struct vrrp_actions {
	unsigned n;
	struct vrrp_action v[VRRP_ACTIONS_MAX];
};

/* The decoded facts of an advert the caller received for this VRID. */
struct vrrp_advert_in {
	struct vrrp_fsm_addr src; /* IP source: the sender's primary address */
	uint8_t priority;
	uint16_t max_adver_int; /* as received: v3 centiseconds, v2 seconds */
	bool validated;         /* the caller ran the §7.1 checks */
};

/*
 * One counter per transition, per advert sent or received that matters,
 * and per advert discarded here (the caller counts its own discards).
 */
struct vrrp_fsm_stats {
	uint64_t to_master;
	uint64_t to_backup;
	uint64_t to_init;
	uint64_t to_fault;
	uint64_t adverts_sent;
	uint64_t prio0_sent;
	uint64_t prio0_rcvd;
	uint64_t late_timers;     /* timer run > one interval late */
	uint64_t late_suppressed; /* of which a backup did not take over */
	uint64_t dual_master; /* master heard a lower master (split brain) */
	uint64_t preempt_discard; /* backup discarded a lower advert: preempt */
	uint64_t rx_not_validated;
	uint64_t rx_bad_interval; /* max_adver_int 0 (erratum 8301) */
	uint64_t rx_v2_interval;  /* v2: not our interval (RFC 3768 §7.1) */
	uint64_t rx_family;       /* not our address family */
	uint64_t rx_own;          /* our own address: a loop or a clash */
	uint64_t rx_inactive;     /* received in INIT or FAULT */
};

struct vrrp_fsm {
	struct vrrp_fsm_conf conf;
	enum vrrp_state state;
	enum vrrp_reason reason;  /* of the last transition */
	uint64_t since_us;        /* time of the last transition */
	uint8_t priority;         /* effective: configured, then tracked */
	bool fault;               /* set_fault(true) in force */
	uint64_t master_adver_us; /* Master_Adver_Interval (RFC 9568 §6.1) */
	uint64_t deadline_us;     /* see the invariants above */
	/* BACKUP: what the running Master_Down_Timer means if it expires */
	enum vrrp_reason down_reason;
	bool late_rearmed;    /* the down timer was re-armed by a late expiry */
	uint8_t master_prio;  /* BACKUP: last non-zero priority heard, 0 none */
	uint64_t eligible_us; /* BACKUP: eligible to preempt since */
	struct vrrp_fsm_stats st;
};

/* Check conf; 0 or -EINVAL with *why set to a static message. */
int vrrp_fsm_conf_check(const struct vrrp_fsm_conf *conf, const char **why);
/* Validate and copy conf; the fsm starts in INIT. 0 or -EINVAL. */
int vrrp_fsm_init(struct vrrp_fsm *fsm, const struct vrrp_fsm_conf *conf);

/*
 * Inputs. Each resets *out and fills it. now_us must not go backwards
 * between calls.
 */
/* RFC Startup (to FAULT if the fault flag is set). -EALREADY unless INIT. */
int vrrp_fsm_startup(
    struct vrrp_fsm *fsm, uint64_t now_us, struct vrrp_actions *out);
/* RFC Shutdown: a master releases with priority 0. Idempotent. */
void vrrp_fsm_shutdown(
    struct vrrp_fsm *fsm, uint64_t now_us, struct vrrp_actions *out);
void vrrp_fsm_rx_advert(struct vrrp_fsm *fsm, uint64_t now_us,
    const struct vrrp_advert_in *ad, struct vrrp_actions *out);
/*
 * The deadline passed. Called early it does nothing (a millisecond timer
 * may round down). The caller must hand in the adverts that arrived before
 * this wake-up first, as ev.c does by running I/O before timers: an advert
 * queued while the process was stalled is evidence the master lives.
 */
void vrrp_fsm_timer(
    struct vrrp_fsm *fsm, uint64_t now_us, struct vrrp_actions *out);
/*
 * Tracking: the effective priority, 1..254; only 255 for an owner, whose
 * priority does not move (use set_fault). -EINVAL otherwise. A master
 * advertises it from its next advert; a backup uses it from the next time
 * it arms its down timer, and for the preemption decision at once. No
 * action: VRRP has no event for a priority change.
 */
int vrrp_fsm_set_priority(
    struct vrrp_fsm *fsm, uint64_t now_us, unsigned priority);
/* Hold the instance out (FAULT) or let it back in (as at startup). */
void vrrp_fsm_set_fault(struct vrrp_fsm *fsm, uint64_t now_us, bool fault,
    struct vrrp_actions *out);

/* Absolute time of the next vrrp_fsm_timer call, or UINT64_MAX. */
uint64_t vrrp_fsm_next_deadline(const struct vrrp_fsm *fsm);
/* Skew_Time and Master_Down_Interval now, in µs (RFC 9568 §6.1). */
uint64_t vrrp_fsm_skew_us(const struct vrrp_fsm *fsm);
uint64_t vrrp_fsm_down_interval_us(const struct vrrp_fsm *fsm);
/*
 * Whether packets addressed to the virtual addresses may be accepted
 * locally (RFC 9568 §6.4.3): only as master, and only if owner or
 * Accept_Mode. The caller installs or removes its drop rule on transitions.
 */
bool vrrp_fsm_accepts(const struct vrrp_fsm *fsm);

const char *vrrp_state_name(enum vrrp_state s);
const char *vrrp_reason_name(enum vrrp_reason r);
const char *vrrp_act_name(enum vrrp_act a);

#endif
