/*
 * vrrp_fsm.c - the pure VRRP state machine: see vrrp_fsm.h for the
 * contract. No I/O, no clock, no globals, no allocation.
 *
 * vrrp_fsm_rx_backup, vrrp_fsm_rx_master and vrrp_fsm_timer are the RFC
 * 9568 §6.4.2 and §6.4.3 event lists in the RFC's order; everything else
 * is bookkeeping around them. Two things are ours, not the RFC's: the
 * preemption delay (vrrp_fsm_may_preempt) and late-timer suppression
 * (vrrp_fsm_timer).
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "lib/util.h"
#include "vrrp/vrrp_fsm.h"

static bool
vrrp_fsm_owner(const struct vrrp_fsm *fsm)
{
	return fsm->conf.priority == VRRP_PRIO_OWNER;
}

static size_t
vrrp_fsm_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* The unit of the Max Adver Int field: centiseconds (v3), seconds (v2). */
static uint64_t
vrrp_fsm_unit_us(const struct vrrp_fsm_conf *conf)
{
	return conf->version == 2 ? VRRP_V2_ADVER_UNIT : VRRP_V3_ADVER_UNIT;
}

int
vrrp_fsm_conf_check(const struct vrrp_fsm_conf *conf, const char **why)
{
	uint64_t lo = VRRP_V3_ADVER_MIN_US, hi = VRRP_V3_ADVER_MAX_US;

	*why = NULL;
	if (conf->version == 2) {
		lo = VRRP_V2_ADVER_MIN_US;
		hi = VRRP_V2_ADVER_MAX_US;
	} else if (conf->version != 3)
		*why = "version must be 2 or 3";
	if (*why == NULL && (conf->vrid < 1 || conf->vrid > 255))
		*why = "vrid must be 1..255";
	if (*why == NULL && (conf->priority < 1 || conf->priority > 255))
		*why = "priority must be 1..255";
	if (*why == NULL &&
	    (conf->adver_us < lo || conf->adver_us > hi ||
	        conf->adver_us % vrrp_fsm_unit_us(conf) != 0))
		*why = conf->version == 2 ?
		    "v2 advert interval must be whole seconds, 1..255" :
		    "v3 advert interval must be centiseconds, 0.01..40.95 s";
	if (*why == NULL && vrrp_fsm_addr_len(conf->self.family) == 0)
		*why = "self address must be IPv4 or IPv6";
	if (*why == NULL && conf->version == 2 && conf->self.family != AF_INET)
		*why = "VRRPv2 is IPv4 only (RFC 3768)";
	if (*why == NULL && (unsigned)conf->preempt > VRRP_PREEMPT_AFTER)
		*why = "unknown preempt policy";
	return *why == NULL ? 0 : -EINVAL;
}

int
vrrp_fsm_init(struct vrrp_fsm *fsm, const struct vrrp_fsm_conf *conf)
{
	const char *why;

	if (vrrp_fsm_conf_check(conf, &why) != 0)
		return -EINVAL;
	memset(fsm, 0, sizeof(*fsm));
	fsm->conf = *conf;
	fsm->state = VRRP_S_INIT;
	fsm->priority = (uint8_t)conf->priority;
	fsm->master_adver_us = conf->adver_us;
	fsm->deadline_us = UINT64_MAX;
	fsm->eligible_us = UINT64_MAX;
	return 0;
}

/* Timers (RFC 9568 §6.1, RFC 3768 §6.1) */

/*
 * v3 scales the skew by Master_Adver_Interval; v2 does not: its Skew_Time
 * is (256 - Priority) / 256 seconds whatever the interval (RFC 3768 §6.1).
 * The product is at most 255 * 40.95e6, far from overflow, and the floor
 * of this division is the only rounding in the timers: 1 cs at priority
 * 100 gives 6093 µs where whole centiseconds would give 0.
 */
uint64_t
vrrp_fsm_skew_us(const struct vrrp_fsm *fsm)
{
	uint64_t base =
	    fsm->conf.version == 2 ? VRRP_V2_ADVER_UNIT : fsm->master_adver_us;

	return (256 - (uint64_t)fsm->priority) * base / 256;
}

uint64_t
vrrp_fsm_down_interval_us(const struct vrrp_fsm *fsm)
{
	return 3 * fsm->master_adver_us + vrrp_fsm_skew_us(fsm);
}

uint64_t
vrrp_fsm_next_deadline(const struct vrrp_fsm *fsm)
{
	return fsm->deadline_us;
}

bool
vrrp_fsm_accepts(const struct vrrp_fsm *fsm)
{
	return fsm->state == VRRP_S_MASTER &&
	    (vrrp_fsm_owner(fsm) || fsm->conf.accept_mode);
}

/* Actions and transitions */

static struct vrrp_action *
vrrp_fsm_push(struct vrrp_actions *out, enum vrrp_act act, enum vrrp_reason why)
{
	struct vrrp_action *a;

	/* No input asks for more than two. */
	if (out->n >= VRRP_ACTIONS_MAX)
		fatal("vrrp_fsm: action list full");
	a = &out->v[out->n++];
	memset(a, 0, sizeof(*a));
	a->act = act;
	a->reason = why;
	return a;
}

static void
vrrp_fsm_send(struct vrrp_fsm *fsm, uint8_t prio, enum vrrp_reason why,
    struct vrrp_actions *out)
{
	struct vrrp_action *a = vrrp_fsm_push(out, VRRP_A_SEND_ADVERT, why);

	a->priority = prio;
	a->max_adver_int =
	    (uint16_t)(fsm->conf.adver_us / vrrp_fsm_unit_us(&fsm->conf));
	fsm->st.adverts_sent++;
	if (prio == VRRP_PRIO_STOP)
		fsm->st.prio0_sent++;
}

/* Enter state s with no timer and no knowledge of a master. */
static void
vrrp_fsm_enter(struct vrrp_fsm *fsm, uint64_t now, enum vrrp_state s,
    enum vrrp_reason why, struct vrrp_actions *out)
{
	static const enum vrrp_act act[VRRP__STATE_COUNT] = {
		[VRRP_S_INIT] = VRRP_A_BECOME_INIT,
		[VRRP_S_BACKUP] = VRRP_A_BECOME_BACKUP,
		[VRRP_S_MASTER] = VRRP_A_BECOME_MASTER,
		[VRRP_S_FAULT] = VRRP_A_BECOME_FAULT,
	};
	uint64_t *count[VRRP__STATE_COUNT] = {
		[VRRP_S_INIT] = &fsm->st.to_init,
		[VRRP_S_BACKUP] = &fsm->st.to_backup,
		[VRRP_S_MASTER] = &fsm->st.to_master,
		[VRRP_S_FAULT] = &fsm->st.to_fault,
	};

	fsm->state = s;
	fsm->reason = why;
	fsm->since_us = now;
	fsm->deadline_us = UINT64_MAX;
	fsm->down_reason = VRRP_R_NONE;
	fsm->late_rearmed = false;
	fsm->master_prio = 0;
	fsm->eligible_us = UINT64_MAX;
	(*count[s])++;
	vrrp_fsm_push(out, act[s], why);
}

static void
vrrp_fsm_arm_down(
    struct vrrp_fsm *fsm, uint64_t at, enum vrrp_reason if_expired)
{
	fsm->deadline_us = at;
	fsm->down_reason = if_expired;
	fsm->late_rearmed = false;
}

/* Advert first, then the addresses: the order of RFC 9568 §6.4.1/§6.4.2. */
static void
vrrp_fsm_to_master(struct vrrp_fsm *fsm, uint64_t now, enum vrrp_reason why,
    struct vrrp_actions *out)
{
	vrrp_fsm_send(fsm, fsm->priority, why, out);
	vrrp_fsm_enter(fsm, now, VRRP_S_MASTER, why, out);
	fsm->deadline_us = now + fsm->conf.adver_us;
}

static void
vrrp_fsm_to_backup(struct vrrp_fsm *fsm, uint64_t now, enum vrrp_reason why,
    struct vrrp_actions *out)
{
	vrrp_fsm_enter(fsm, now, VRRP_S_BACKUP, why, out);
	vrrp_fsm_arm_down(
	    fsm, now + vrrp_fsm_down_interval_us(fsm), VRRP_R_MASTER_DOWN);
}

/* RFC 9568 §6.4.1, also the way out of FAULT. */
static void
vrrp_fsm_start(struct vrrp_fsm *fsm, uint64_t now, enum vrrp_reason why,
    struct vrrp_actions *out)
{
	fsm->master_adver_us = fsm->conf.adver_us;
	if (fsm->fault)
		vrrp_fsm_enter(fsm, now, VRRP_S_FAULT, VRRP_R_FAULT, out);
	else if (vrrp_fsm_owner(fsm))
		vrrp_fsm_to_master(fsm, now,
		    why == VRRP_R_STARTUP ? VRRP_R_STARTUP_OWNER : why, out);
	else
		vrrp_fsm_to_backup(fsm, now, why, out);
}

/* A master hands over at once with priority 0 (RFC 9568 §6.4.3). */
static void
vrrp_fsm_release(struct vrrp_fsm *fsm, uint64_t now, enum vrrp_state to,
    enum vrrp_reason why, struct vrrp_actions *out)
{
	if (fsm->state == VRRP_S_MASTER)
		vrrp_fsm_send(fsm, VRRP_PRIO_STOP, why, out);
	vrrp_fsm_enter(fsm, now, to, why, out);
}

/* Preemption */

/* AFTER counts from the first moment a master below us is known. */
static void
vrrp_fsm_eligibility(struct vrrp_fsm *fsm, uint64_t now)
{
	if (fsm->master_prio == 0 || fsm->master_prio >= fsm->priority)
		fsm->eligible_us = UINT64_MAX;
	else if (fsm->eligible_us == UINT64_MAX)
		fsm->eligible_us = now;
}

/* Preempt_Mode as of now; the owner always preempts (RFC 9568 §6.1). */
static bool
vrrp_fsm_may_preempt(const struct vrrp_fsm *fsm, uint64_t now)
{
	if (vrrp_fsm_owner(fsm))
		return true;
	switch (fsm->conf.preempt) {
	case VRRP_PREEMPT_NEVER:
		return false;
	case VRRP_PREEMPT_IMMEDIATE:
		return true;
	case VRRP_PREEMPT_AFTER:
		return fsm->eligible_us != UINT64_MAX &&
		    now - fsm->eligible_us >= fsm->conf.preempt_delay_us;
	}
	return false;
}

/* Inputs */

int
vrrp_fsm_startup(
    struct vrrp_fsm *fsm, uint64_t now_us, struct vrrp_actions *out)
{
	out->n = 0;
	if (fsm->state != VRRP_S_INIT)
		return -EALREADY;
	vrrp_fsm_start(fsm, now_us, VRRP_R_STARTUP, out);
	return 0;
}

void
vrrp_fsm_shutdown(
    struct vrrp_fsm *fsm, uint64_t now_us, struct vrrp_actions *out)
{
	out->n = 0;
	if (fsm->state != VRRP_S_INIT)
		vrrp_fsm_release(
		    fsm, now_us, VRRP_S_INIT, VRRP_R_SHUTDOWN, out);
}

void
vrrp_fsm_set_fault(
    struct vrrp_fsm *fsm, uint64_t now_us, bool fault, struct vrrp_actions *out)
{
	out->n = 0;
	if (fsm->fault == fault)
		return;
	fsm->fault = fault;
	if (fsm->state == VRRP_S_INIT)
		return; /* startup will look at the flag */
	if (fault)
		vrrp_fsm_release(fsm, now_us, VRRP_S_FAULT, VRRP_R_FAULT, out);
	else
		vrrp_fsm_start(fsm, now_us, VRRP_R_FAULT_CLEARED, out);
}

int
vrrp_fsm_set_priority(struct vrrp_fsm *fsm, uint64_t now_us, unsigned prio)
{
	bool owner = vrrp_fsm_owner(fsm);

	if (owner ? prio != VRRP_PRIO_OWNER : prio < 1 || prio > VRRP_PRIO_MAX)
		return -EINVAL;
	fsm->priority = (uint8_t)prio;
	if (fsm->state == VRRP_S_BACKUP)
		vrrp_fsm_eligibility(fsm, now_us);
	return 0;
}

/*
 * Discards that are the fsm's to make because they need its config; the
 * caller made the §7.1 ones. One counter per reason.
 */
static bool
vrrp_fsm_rx_ok(struct vrrp_fsm *fsm, const struct vrrp_advert_in *ad)
{
	const struct vrrp_fsm_conf *c = &fsm->conf;
	size_t len = vrrp_fsm_addr_len(c->self.family);

	if (!ad->validated)
		fsm->st.rx_not_validated++;
	else if (ad->src.family != c->self.family)
		fsm->st.rx_family++;
	else if (memcmp(ad->src.bytes, c->self.bytes, len) == 0)
		fsm->st.rx_own++;
	else if (ad->max_adver_int == 0 ||
	    (c->version == 3 && ad->max_adver_int > 4095))
		fsm->st.rx_bad_interval++;
	else if (c->version == 2 &&
	    ad->max_adver_int * VRRP_V2_ADVER_UNIT != c->adver_us)
		fsm->st.rx_v2_interval++;
	else if (fsm->state == VRRP_S_INIT || fsm->state == VRRP_S_FAULT)
		fsm->st.rx_inactive++;
	else
		return true;
	return false;
}

/* Set Active_Adver_Interval from an advert: v3 only, v2 has one interval. */
static void
vrrp_fsm_learn_interval(struct vrrp_fsm *fsm, const struct vrrp_advert_in *ad)
{
	if (fsm->conf.version == 3)
		fsm->master_adver_us = ad->max_adver_int * VRRP_V3_ADVER_UNIT;
}

/* RFC 9568 §6.4.2, Backup: "If an ADVERTISEMENT is received, then". */
static void
vrrp_fsm_rx_backup(
    struct vrrp_fsm *fsm, uint64_t now, const struct vrrp_advert_in *ad)
{
	if (ad->priority == VRRP_PRIO_STOP) {
		/* Skew_Time of the interval we know, as the RFC says. */
		fsm->master_prio = 0;
		vrrp_fsm_eligibility(fsm, now);
		vrrp_fsm_arm_down(
		    fsm, now + vrrp_fsm_skew_us(fsm), VRRP_R_PRIORITY0);
		return;
	}
	fsm->master_prio = ad->priority;
	vrrp_fsm_eligibility(fsm, now);
	if (!vrrp_fsm_may_preempt(fsm, now) || ad->priority >= fsm->priority) {
		vrrp_fsm_learn_interval(fsm, ad);
		vrrp_fsm_arm_down(fsm, now + vrrp_fsm_down_interval_us(fsm),
		    VRRP_R_MASTER_DOWN);
		return;
	}
	/* Discard: the down timer runs out, and that is the preemption. */
	fsm->st.preempt_discard++;
	fsm->down_reason = VRRP_R_PREEMPT;
}

/* RFC 9568 §6.4.3, Active: "If an ADVERTISEMENT is received, then". */
static void
vrrp_fsm_rx_master(struct vrrp_fsm *fsm, uint64_t now,
    const struct vrrp_advert_in *ad, struct vrrp_actions *out)
{
	size_t len = vrrp_fsm_addr_len(fsm->conf.self.family);
	int cmp;

	if (ad->priority == VRRP_PRIO_STOP) {
		vrrp_fsm_send(fsm, fsm->priority, VRRP_R_ANSWER_PRIORITY0, out);
		fsm->deadline_us = now + fsm->conf.adver_us;
		return;
	}
	/* memcmp compares unsigned bytes: network order is big-endian. */
	cmp = memcmp(ad->src.bytes, fsm->conf.self.bytes, len);
	if (ad->priority > fsm->priority ||
	    (ad->priority == fsm->priority && cmp > 0)) {
		vrrp_fsm_learn_interval(fsm, ad);
		vrrp_fsm_to_backup(fsm, now,
		    ad->priority > fsm->priority ? VRRP_R_HIGHER_PRIORITY :
		                                   VRRP_R_ADDRESS_TIEBREAK,
		    out);
		fsm->master_prio = ad->priority;
		return;
	}
	/*
	 * Another master below us: a split brain healing, or a peer that
	 * missed our adverts. RFC 9568 §6.4.3 (new since RFC 5798): "Send an
	 * ADVERTISEMENT immediately to assert the Active state to the sending
	 * VRRP Router". Unlike its priority 0 branch it does not reset the
	 * Adver_Timer, so neither do we: a peer sending fast cannot push our
	 * periodic adverts back.
	 */
	fsm->st.dual_master++;
	vrrp_fsm_send(fsm, fsm->priority, VRRP_R_LOWER_PRIORITY, out);
}

void
vrrp_fsm_rx_advert(struct vrrp_fsm *fsm, uint64_t now_us,
    const struct vrrp_advert_in *ad, struct vrrp_actions *out)
{
	out->n = 0;
	if (!vrrp_fsm_rx_ok(fsm, ad))
		return;
	if (ad->priority == VRRP_PRIO_STOP)
		fsm->st.prio0_rcvd++;
	if (fsm->state == VRRP_S_BACKUP)
		vrrp_fsm_rx_backup(fsm, now_us, ad);
	else /* MASTER: rx_ok counted INIT and FAULT out */
		vrrp_fsm_rx_master(fsm, now_us, ad, out);
}

/*
 * A timer is late when it runs more than one advert interval after its
 * deadline: the process was not running for at least that long (SIGSTOP,
 * a VM pause, a starved scheduler). Within the bound, at most one advert
 * can hide in the gap, and the factor 3 of Master_Down_Interval is there
 * to absorb such a loss. Beyond it we cannot tell a dead master from our
 * own absence: adverts sent meanwhile may have been dropped by the paused
 * VM, and a third node may have taken over. So a late backup does not take
 * over on that expiry; it listens for one full Master_Down_Interval from
 * now, awake. The same holds for a priority 0 release: someone else may
 * have taken over since. Only one expiry in a row is suppressed: a host
 * late at every expiry would otherwise never replace a dead master.
 *
 * A late master sends at once and re-arms from now rather than catching up
 * with a burst: one advert asserts it, and if a backup took over during
 * the stall, the RFC's rules settle it as soon as the adverts cross.
 */
void
vrrp_fsm_timer(struct vrrp_fsm *fsm, uint64_t now_us, struct vrrp_actions *out)
{
	uint64_t bound;
	bool late;

	out->n = 0;
	if (fsm->deadline_us == UINT64_MAX || now_us < fsm->deadline_us)
		return;
	bound = fsm->state == VRRP_S_MASTER ? fsm->conf.adver_us :
	                                      fsm->master_adver_us;
	late = now_us - fsm->deadline_us > bound;
	if (late)
		fsm->st.late_timers++;
	if (fsm->state == VRRP_S_MASTER) {
		/* RFC 9568 §6.4.3: "If the Adver_Timer fires" */
		vrrp_fsm_send(fsm, fsm->priority, VRRP_R_ADVER_TIMER, out);
		fsm->deadline_us = now_us + fsm->conf.adver_us;
		return;
	}
	if (late && !fsm->late_rearmed) {
		fsm->st.late_suppressed++;
		vrrp_fsm_arm_down(fsm, now_us + vrrp_fsm_down_interval_us(fsm),
		    fsm->down_reason);
		fsm->late_rearmed = true;
		return;
	}
	/* RFC 9568 §6.4.2: "If the Active_Down_Timer fires" */
	vrrp_fsm_to_master(fsm, now_us, fsm->down_reason, out);
}

/* Names: published in logs, the API and metrics labels; never renamed. */

static const char *const vrrp_state_names[VRRP__STATE_COUNT] = {
	[VRRP_S_INIT] = "init",
	[VRRP_S_BACKUP] = "backup",
	[VRRP_S_MASTER] = "master",
	[VRRP_S_FAULT] = "fault",
};

static const char *const vrrp_reason_names[VRRP__REASON_COUNT] = {
	[VRRP_R_NONE] = "none",
	[VRRP_R_STARTUP] = "startup",
	[VRRP_R_STARTUP_OWNER] = "startup_owner",
	[VRRP_R_MASTER_DOWN] = "master_down_timer",
	[VRRP_R_PRIORITY0] = "priority0_received",
	[VRRP_R_PREEMPT] = "preempted_lower_priority",
	[VRRP_R_HIGHER_PRIORITY] = "higher_priority_seen",
	[VRRP_R_ADDRESS_TIEBREAK] = "equal_priority_higher_address",
	[VRRP_R_ADVER_TIMER] = "adver_timer",
	[VRRP_R_LOWER_PRIORITY] = "lower_priority_seen",
	[VRRP_R_ANSWER_PRIORITY0] = "answer_priority0",
	[VRRP_R_SHUTDOWN] = "shutdown",
	[VRRP_R_FAULT] = "fault",
	[VRRP_R_FAULT_CLEARED] = "fault_cleared",
};

static const char *const vrrp_act_names[] = {
	[VRRP_A_SEND_ADVERT] = "send_advert",
	[VRRP_A_BECOME_MASTER] = "become_master",
	[VRRP_A_BECOME_BACKUP] = "become_backup",
	[VRRP_A_BECOME_INIT] = "become_init",
	[VRRP_A_BECOME_FAULT] = "become_fault",
};

const char *
vrrp_state_name(enum vrrp_state s)
{
	if ((unsigned)s >= ARRAY_SIZE(vrrp_state_names))
		return "invalid";
	return vrrp_state_names[s];
}

const char *
vrrp_reason_name(enum vrrp_reason r)
{
	if ((unsigned)r >= ARRAY_SIZE(vrrp_reason_names))
		return "invalid";
	return vrrp_reason_names[r];
}

const char *
vrrp_act_name(enum vrrp_act a)
{
	if ((unsigned)a >= ARRAY_SIZE(vrrp_act_names))
		return "invalid";
	return vrrp_act_names[a];
}
