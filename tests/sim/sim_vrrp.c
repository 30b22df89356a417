/*
 * Scenarios for the VRRP state machine (vrrp_fsm.c) on a simulated clock
 * and a simulated wire. Each node is a real struct vrrp_fsm; the wire
 * carries every SEND_ADVERT of one node to the others after a fixed delay;
 * the loop below runs whichever comes first, a delivery or a node's
 * deadline, deliveries first at equal times (as ev.c runs I/O before
 * timers). Nodes can be killed (silent), cut off from each other, or
 * stalled: a SIGSTOP keeps their incoming adverts queued, a VM pause
 * loses them. Every time asserted is exact to the microsecond, computed
 * by hand in the comments from RFC 9568 §6.1.
 *
 * Addresses: node i is 198.18.0.(10 + i) unless a test says otherwise.
 */
#include <sys/socket.h>

#include <errno.h>

#include "../unit/runner.h"
#include "lib/util.h"
#include "vrrp/vrrp_fsm.h"

#define T0 1000000000ull /* virtual start: 1000 s */
#define MS 1000ull
#define S  1000000ull

#define SVR_NODES  4
#define SVR_QMAX   256
#define SVR_LOGMAX 1024
#define SVR_NONE   UINT64_MAX

struct svr_pkt {
	uint64_t at; /* arrival time */
	int from;
	int to;
	uint8_t prio;
	uint16_t mai;
};

struct svr_ev {
	uint64_t at;
	int node;
	struct vrrp_action a;
};

struct svr {
	uint64_t now;
	uint64_t delay; /* one-way wire delay */
	int n;
	struct vrrp_fsm fsm[SVR_NODES];
	uint8_t octet[SVR_NODES];        /* 198.18.0.octet */
	bool dead[SVR_NODES];            /* crashed: no timer, rx or tx */
	uint64_t stall_until[SVR_NODES]; /* not running before this */
	bool stall_drops[SVR_NODES];     /* paused VM: rx lost meanwhile */
	bool cut[SVR_NODES][SVR_NODES];  /* from -> to dropped when sent */
	struct svr_pkt q[SVR_QMAX];      /* FIFO by insertion */
	size_t nq;
	struct svr_ev log[SVR_LOGMAX];
	size_t nlog;
};

/* ---- the world ----------------------------------------------------------- */

static void
svr_addr(struct vrrp_fsm_addr *a, uint8_t octet)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->bytes[0] = 198;
	a->bytes[1] = 18;
	a->bytes[3] = octet;
}

static void
svr_init(struct svr *s, int n, uint64_t delay)
{
	int i;

	memset(s, 0, sizeof(*s));
	s->now = T0;
	s->n = n;
	s->delay = delay;
	for (i = 0; i < n; i++)
		s->octet[i] = (uint8_t)(10 + i);
}

static void
svr_conf(struct vrrp_fsm_conf *c, unsigned version, unsigned prio,
    uint64_t adver_us, enum vrrp_preempt preempt, uint64_t delay_us)
{
	memset(c, 0, sizeof(*c));
	c->version = version;
	c->vrid = 51;
	c->priority = prio;
	c->adver_us = adver_us;
	c->preempt = preempt;
	c->preempt_delay_us = delay_us;
	svr_addr(&c->self, 10);
}

/* Node i, v3 unless version says 2. */
static void
svr_node(struct svr *s, int i, unsigned version, unsigned prio,
    uint64_t adver_us, enum vrrp_preempt preempt, uint64_t delay_us)
{
	struct vrrp_fsm_conf c;

	svr_conf(&c, version, prio, adver_us, preempt, delay_us);
	svr_addr(&c.self, s->octet[i]);
	T_EQ_INT(vrrp_fsm_init(&s->fsm[i], &c), 0);
}

/* What the daemon does with the actions: log them, put adverts on wire. */
static void
svr_apply(struct svr *s, int i, const struct vrrp_actions *out)
{
	unsigned k;
	int j;

	for (k = 0; k < out->n; k++) {
		const struct vrrp_action *a = &out->v[k];

		T_ASSERT(s->nlog < SVR_LOGMAX);
		s->log[s->nlog++] = (struct svr_ev){ s->now, i, *a };
		if (a->act != VRRP_A_SEND_ADVERT)
			continue;
		for (j = 0; j < s->n; j++) {
			if (j == i || s->cut[i][j])
				continue;
			T_ASSERT(s->nq < SVR_QMAX);
			s->q[s->nq++] = (struct svr_pkt){ s->now + s->delay, i,
				j, a->priority, a->max_adver_int };
		}
	}
}

static void
svr_deliver(struct svr *s, const struct svr_pkt *p)
{
	struct vrrp_advert_in ad;
	struct vrrp_actions out;

	if (s->dead[p->to])
		return;
	if (s->stall_drops[p->to] && p->at < s->stall_until[p->to])
		return;
	memset(&ad, 0, sizeof(ad));
	svr_addr(&ad.src, s->octet[p->from]);
	ad.priority = p->prio;
	ad.max_adver_int = p->mai;
	ad.validated = true;
	vrrp_fsm_rx_advert(&s->fsm[p->to], s->now, &ad, &out);
	svr_apply(s, p->to, &out);
}

/* When packet p is handled: a stalled node reads its queue on resuming. */
static uint64_t
svr_pkt_when(const struct svr *s, const struct svr_pkt *p)
{
	if (s->stall_drops[p->to] || p->at >= s->stall_until[p->to])
		return p->at;
	return s->stall_until[p->to];
}

/* Run the next event at or before until; false when there is none. */
static bool
svr_step(struct svr *s, uint64_t until)
{
	uint64_t best = SVR_NONE, t;
	size_t i, bp = SIZE_MAX;
	int bn = -1, k;
	struct vrrp_actions out;
	struct svr_pkt p;

	for (i = 0; i < s->nq; i++) {
		t = svr_pkt_when(s, &s->q[i]);
		if (t < best) {
			best = t;
			bp = i;
		}
	}
	for (k = 0; k < s->n; k++) {
		t = vrrp_fsm_next_deadline(&s->fsm[k]);
		if (s->dead[k] || t == SVR_NONE)
			continue;
		t = MAX(t, s->stall_until[k]);
		if (t < best) { /* strict: deliveries first at equal times */
			best = t;
			bn = k;
			bp = SIZE_MAX;
		}
	}
	if (best == SVR_NONE || best > until)
		return false;
	T_ASSERT(best >= s->now);
	s->now = best;
	if (bp != SIZE_MAX) {
		p = s->q[bp];
		memmove(&s->q[bp], &s->q[bp + 1],
		    (s->nq - bp - 1) * sizeof(s->q[0]));
		s->nq--;
		svr_deliver(s, &p);
		return true;
	}
	vrrp_fsm_timer(&s->fsm[bn], s->now, &out);
	svr_apply(s, bn, &out);
	return true;
}

static void
svr_run(struct svr *s, uint64_t until)
{
	while (svr_step(s, until))
		;
	s->now = until;
}

static void
svr_startup(struct svr *s, int i)
{
	struct vrrp_actions out;

	T_EQ_INT(vrrp_fsm_startup(&s->fsm[i], s->now, &out), 0);
	svr_apply(s, i, &out);
}

/* The usual pair: v3 at 1 s, preempting, 100 µs apart, started at T0. */
static void
svr_pair(struct svr *s, unsigned prio0, unsigned prio1)
{
	svr_init(s, 2, 100);
	svr_node(s, 0, 3, prio0, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_node(s, 1, 3, prio1, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_startup(s, 0);
	svr_startup(s, 1);
}

static void
svr_shutdown(struct svr *s, int i)
{
	struct vrrp_actions out;

	vrrp_fsm_shutdown(&s->fsm[i], s->now, &out);
	svr_apply(s, i, &out);
}

static void
svr_fault(struct svr *s, int i, bool fault)
{
	struct vrrp_actions out;

	vrrp_fsm_set_fault(&s->fsm[i], s->now, fault, &out);
	svr_apply(s, i, &out);
}

/* Deliver a crafted advert from 198.18.0.octet to node i now. */
static const struct vrrp_actions *
svr_inject(struct svr *s, int i, uint8_t octet, uint8_t prio, uint16_t mai)
{
	static struct vrrp_actions out;
	struct vrrp_advert_in ad;

	memset(&ad, 0, sizeof(ad));
	svr_addr(&ad.src, octet);
	ad.priority = prio;
	ad.max_adver_int = mai;
	ad.validated = true;
	vrrp_fsm_rx_advert(&s->fsm[i], s->now, &ad, &out);
	svr_apply(s, i, &out);
	return &out;
}

/* ---- the log --------------------------------------------------------------
 */

/* The first event of node i of kind act at or after from, or NULL. */
static const struct svr_ev *
svr_find(const struct svr *s, int i, enum vrrp_act act, uint64_t from)
{
	size_t k;

	for (k = 0; k < s->nlog; k++)
		if (s->log[k].node == i && s->log[k].a.act == act &&
		    s->log[k].at >= from)
			return &s->log[k];
	return NULL;
}

/* When node i first did act at or after from; SVR_NONE if never. */
static uint64_t
svr_when(const struct svr *s, int i, enum vrrp_act act, uint64_t from)
{
	const struct svr_ev *e = svr_find(s, i, act, from);

	return e != NULL ? e->at : SVR_NONE;
}

static const char *
svr_why(const struct svr *s, int i, enum vrrp_act act, uint64_t from)
{
	const struct svr_ev *e = svr_find(s, i, act, from);

	return e != NULL ? vrrp_reason_name(e->a.reason) : "(none)";
}

static unsigned
svr_count(const struct svr *s, int i, enum vrrp_act act, uint64_t from)
{
	unsigned n = 0;
	size_t k;

	for (k = 0; k < s->nlog; k++)
		n += s->log[k].node == i && s->log[k].a.act == act &&
		    s->log[k].at >= from;
	return n;
}

static enum vrrp_state
svr_state(const struct svr *s, int i)
{
	return s->fsm[i].state;
}

/* ---- scenarios ------------------------------------------------------------
 */

/*
 * Skew_Time = (256 - P) * I / 256, floored in µs; MDI = 3 I + skew.
 * One fsm, no adverts: it becomes master exactly MDI after startup.
 */
static void
test_down_interval_and_skew(void)
{
	static const struct {
		unsigned prio;
		uint64_t adver, skew, mdi;
		uint16_t mai;
	} tab[] = {
		/* 156 * 10000 / 256 = 6093.75 */
		{ 100, 10 * MS, 6093, 36093, 1 },
		{ 200, 10 * MS, 2187, 32187, 1 },     /* 2187.5 */
		{ 254, 10 * MS, 78, 30078, 1 },       /* 78.125 */
		{ 100, 100 * MS, 60937, 360937, 10 }, /* 60937.5 */
		{ 200, 100 * MS, 21875, 321875, 10 },
		{ 254, 100 * MS, 781, 300781, 10 }, /* 781.25 */
		{ 100, 1 * S, 609375, 3609375, 100 },
		{ 200, 1 * S, 218750, 3218750, 100 },
		{ 254, 1 * S, 7812, 3007812, 100 }, /* 7812.5 */
	};
	struct vrrp_fsm_conf c;
	struct vrrp_fsm f;
	struct vrrp_actions out;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tab); i++) {
		svr_conf(&c, 3, tab[i].prio, tab[i].adver,
		    VRRP_PREEMPT_IMMEDIATE, 0);
		T_EQ_INT(vrrp_fsm_init(&f, &c), 0);
		T_EQ_INT(vrrp_fsm_next_deadline(&f), SVR_NONE);
		T_EQ_INT(vrrp_fsm_startup(&f, T0, &out), 0);
		T_EQ_INT(out.n, 1);
		T_EQ_INT(out.v[0].act, VRRP_A_BECOME_BACKUP);
		T_EQ_STR(vrrp_reason_name(out.v[0].reason), "startup");
		T_EQ_INT(vrrp_fsm_skew_us(&f), tab[i].skew);
		T_EQ_INT(vrrp_fsm_down_interval_us(&f), tab[i].mdi);
		T_EQ_INT(vrrp_fsm_next_deadline(&f), T0 + tab[i].mdi);
		/* One µs early: nothing (a ms timer may round down). */
		vrrp_fsm_timer(&f, T0 + tab[i].mdi - 1, &out);
		T_EQ_INT(out.n, 0);
		T_EQ_INT(f.state, VRRP_S_BACKUP);
		vrrp_fsm_timer(&f, T0 + tab[i].mdi, &out);
		T_EQ_INT(out.n, 2);
		T_EQ_INT(out.v[0].act, VRRP_A_SEND_ADVERT);
		T_EQ_INT(out.v[0].priority, tab[i].prio);
		T_EQ_INT(out.v[0].max_adver_int, tab[i].mai);
		T_EQ_INT(out.v[1].act, VRRP_A_BECOME_MASTER);
		T_EQ_STR(
		    vrrp_reason_name(out.v[1].reason), "master_down_timer");
		T_EQ_INT(f.since_us, T0 + tab[i].mdi);
		T_EQ_INT(
		    vrrp_fsm_next_deadline(&f), T0 + tab[i].mdi + tab[i].adver);
		T_EQ_INT(f.st.to_master, 1);
		T_EQ_INT(f.st.late_timers, 0);
	}
}

/* Priority 255 is master at startup; a running master yields to it. */
static void
test_owner_startup(void)
{
	struct svr s;
	size_t mark;

	svr_init(&s, 2, 100);
	svr_node(&s, 0, 3, 255, S, VRRP_PREEMPT_NEVER, 0);
	svr_node(&s, 1, 3, 100, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_startup(&s, 1);
	svr_run(&s, T0 + 5 * S);
	T_EQ_INT(svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 3609375);

	mark = s.nlog;
	svr_startup(&s, 0);
	/* At once, advert first: RFC 9568 §6.4.1. */
	T_EQ_INT(s.nlog, mark + 2);
	T_EQ_INT(s.log[mark].a.act, VRRP_A_SEND_ADVERT);
	T_EQ_INT(s.log[mark].a.priority, 255);
	T_EQ_INT(s.log[mark + 1].a.act, VRRP_A_BECOME_MASTER);
	T_EQ_STR(vrrp_reason_name(s.log[mark + 1].a.reason), "startup_owner");
	T_EQ_INT(s.log[mark + 1].at, T0 + 5 * S);
	T_ASSERT(vrrp_fsm_accepts(&s.fsm[0])); /* owner: accept_mode moot */

	svr_run(&s, T0 + 35 * S);
	T_EQ_INT(
	    svr_when(&s, 1, VRRP_A_BECOME_BACKUP, T0 + 1), T0 + 5 * S + 100);
	T_EQ_STR(svr_why(&s, 1, VRRP_A_BECOME_BACKUP, T0 + 1),
	    "higher_priority_seen");
	T_ASSERT(!vrrp_fsm_accepts(&s.fsm[1]));
	/* Owner adverts at 5, 6, ..., 35 s; node 1 silent once backup. */
	T_EQ_INT(svr_count(&s, 0, VRRP_A_SEND_ADVERT, T0), 31);
	T_EQ_INT(svr_count(&s, 1, VRRP_A_SEND_ADVERT, T0 + 5 * S + 1), 0);
	T_EQ_INT(s.fsm[0].st.to_master, 1);
	T_EQ_INT(s.fsm[1].st.to_master, 1);
	/* Last owner advert at 35 s, heard at +100 µs: MDI 3609375 on. */
	svr_run(&s, T0 + 35 * S + 100);
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[1]), T0 + 38609475);
}

/* Three start together: the highest priority has the shortest MDI. */
static void
test_election_three(void)
{
	struct svr s;

	svr_init(&s, 3, 100);
	svr_node(&s, 0, 3, 100, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_node(&s, 1, 3, 150, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_node(&s, 2, 3, 200, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_startup(&s, 0);
	svr_startup(&s, 1);
	svr_startup(&s, 2);
	svr_run(&s, T0 + 60 * S);
	T_EQ_INT(svr_when(&s, 2, VRRP_A_BECOME_MASTER, T0), T0 + 3218750);
	T_EQ_INT(svr_when(&s, 0, VRRP_A_BECOME_MASTER, T0), SVR_NONE);
	T_EQ_INT(svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), SVR_NONE);
	T_EQ_INT(svr_count(&s, 0, VRRP_A_SEND_ADVERT, T0), 0);
	T_EQ_INT(svr_count(&s, 1, VRRP_A_SEND_ADVERT, T0), 0);
	/* 3218750 + 56 s is the last advert by 60 s, heard at +100 µs. */
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[0]), T0 + 59218850 + 3609375);
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[1]),
	    T0 + 59218850 + 3414062); /* 106e6 / 256 = 414062.5 */

	/* The master dies: the next highest takes over, only it. */
	s.dead[2] = true;
	svr_run(&s, T0 + 70 * S);
	T_EQ_INT(svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 62632912);
	T_EQ_INT(svr_when(&s, 0, VRRP_A_BECOME_MASTER, T0), SVR_NONE);
}

/*
 * Equal priority: the greater address wins, compared as unsigned bytes
 * (.200 > .10, though (signed char)200 < 10).
 */
static void
test_tiebreak_address(void)
{
	struct svr s;

	svr_init(&s, 2, 100);
	s.octet[1] = 200;
	svr_node(&s, 0, 3, 100, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_node(&s, 1, 3, 100, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_startup(&s, 0);
	svr_startup(&s, 1);
	svr_run(&s, T0 + 60 * S);
	/* Both time out together: a dual master for one wire delay. */
	T_EQ_INT(svr_when(&s, 0, VRRP_A_BECOME_MASTER, T0), T0 + 3609375);
	T_EQ_INT(svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 3609375);
	T_EQ_INT(svr_when(&s, 0, VRRP_A_BECOME_BACKUP, T0 + 1), T0 + 3609475);
	T_EQ_STR(svr_why(&s, 0, VRRP_A_BECOME_BACKUP, T0 + 1),
	    "equal_priority_higher_address");
	/* .200 heard .10 as a lower master and asserted itself at once. */
	T_EQ_INT(s.fsm[1].st.dual_master, 1);
	T_EQ_STR(svr_why(&s, 1, VRRP_A_SEND_ADVERT, T0 + 3609475),
	    "lower_priority_seen");
	T_EQ_INT(svr_state(&s, 0), VRRP_S_BACKUP);
	T_EQ_INT(svr_state(&s, 1), VRRP_S_MASTER);
	T_EQ_INT(s.fsm[0].st.to_master, 1);
	T_EQ_INT(s.fsm[1].st.to_backup, 1);
}

/* The same rule over 16 bytes. */
static void
test_tiebreak_ipv6(void)
{
	static const uint8_t lo[16] = { 0xfe, 0x80, [15] = 0x0a };
	static const uint8_t hi[16] = { 0xfe, 0x80, [8] = 0x80, [15] = 0x01 };
	struct vrrp_fsm_conf c;
	struct vrrp_fsm f;
	struct vrrp_advert_in ad;
	struct vrrp_actions out;

	svr_conf(&c, 3, 100, S, VRRP_PREEMPT_IMMEDIATE, 0);
	c.self.family = AF_INET6;
	memcpy(c.self.bytes, lo, 16);
	T_EQ_INT(vrrp_fsm_init(&f, &c), 0);
	T_EQ_INT(vrrp_fsm_startup(&f, T0, &out), 0);
	vrrp_fsm_timer(&f, T0 + 3609375, &out);
	T_EQ_INT(f.state, VRRP_S_MASTER);
	memset(&ad, 0, sizeof(ad));
	ad.src.family = AF_INET6;
	memcpy(ad.src.bytes, hi, 16);
	ad.priority = 100;
	ad.max_adver_int = 100;
	ad.validated = true;
	vrrp_fsm_rx_advert(&f, T0 + 4 * S, &ad, &out);
	T_EQ_INT(out.n, 1);
	T_EQ_INT(out.v[0].act, VRRP_A_BECOME_BACKUP);
	T_EQ_INT(out.v[0].reason, VRRP_R_ADDRESS_TIEBREAK);
	/* An IPv4 advert on an IPv6 instance is counted, not acted on. */
	svr_addr(&ad.src, 99);
	ad.priority = 0;
	vrrp_fsm_rx_advert(&f, T0 + 5 * S, &ad, &out);
	T_EQ_INT(out.n, 0);
	T_EQ_INT(f.st.rx_family, 1);
	T_EQ_INT(vrrp_fsm_next_deadline(&f), T0 + 4 * S + 3609375);
}

/* A master shutting down releases with priority 0: takeover after skew. */
static void
test_priority0_fast_takeover(void)
{
	struct svr s;

	svr_pair(&s, 200, 100);
	svr_run(&s, T0 + 10 * S);
	T_EQ_INT(svr_state(&s, 0), VRRP_S_MASTER);

	svr_shutdown(&s, 0);
	T_EQ_INT(s.log[s.nlog - 2].a.act, VRRP_A_SEND_ADVERT);
	T_EQ_INT(s.log[s.nlog - 2].a.priority, 0);
	T_EQ_STR(vrrp_reason_name(s.log[s.nlog - 2].a.reason), "shutdown");
	T_EQ_INT(s.log[s.nlog - 1].a.act, VRRP_A_BECOME_INIT);
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[0]), SVR_NONE);
	T_EQ_INT(s.fsm[0].st.prio0_sent, 1);
	/* Heard at 10 s + 100 µs; Skew_Time(100, 1 s) = 609375. */
	svr_run(&s, T0 + 10609474);
	T_EQ_INT(svr_state(&s, 1), VRRP_S_BACKUP);
	svr_run(&s, T0 + 10609475);
	T_EQ_INT(svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 10609475);
	T_EQ_STR(
	    svr_why(&s, 1, VRRP_A_BECOME_MASTER, T0), "priority0_received");
	T_EQ_INT(s.fsm[1].st.prio0_rcvd, 1);
	/* A node in INIT ignores the new master's adverts. */
	svr_run(&s, T0 + 20 * S);
	T_ASSERT(s.fsm[0].st.rx_inactive >= 9);
	T_EQ_INT(svr_state(&s, 0), VRRP_S_INIT);
}

/* Node 1 (200) joins a running 100: it ignores its adverts, takes over. */
static void
test_preempt_immediate(void)
{
	struct svr s;

	svr_init(&s, 2, 100);
	svr_node(&s, 0, 3, 100, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_node(&s, 1, 3, 200, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_startup(&s, 0);
	svr_run(&s, T0 + 10 * S);
	T_EQ_INT(svr_when(&s, 0, VRRP_A_BECOME_MASTER, T0), T0 + 3609375);
	svr_startup(&s, 1);
	svr_run(&s, T0 + 30 * S);
	/* Heard at 10.609475, 11.609475, 12.609475: all discarded. */
	T_EQ_INT(s.fsm[1].st.preempt_discard, 3);
	T_EQ_INT(svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 13218750);
	T_EQ_STR(svr_why(&s, 1, VRRP_A_BECOME_MASTER, T0),
	    "preempted_lower_priority");
	T_EQ_INT(svr_when(&s, 0, VRRP_A_BECOME_BACKUP, T0 + 1), T0 + 13218850);
	T_EQ_STR(svr_why(&s, 0, VRRP_A_BECOME_BACKUP, T0 + 1),
	    "higher_priority_seen");
	T_EQ_INT(svr_count(&s, 0, VRRP_A_SEND_ADVERT, T0 + 13218850), 0);
}

/* With preemption off the higher node waits for a real failure. */
static void
test_preempt_never(void)
{
	struct svr s;

	svr_init(&s, 2, 100);
	svr_node(&s, 0, 3, 100, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_node(&s, 1, 3, 200, S, VRRP_PREEMPT_NEVER, 0);
	svr_startup(&s, 0);
	svr_run(&s, T0 + 10 * S);
	svr_startup(&s, 1);
	svr_run(&s, T0 + 60500 * MS);
	T_EQ_INT(s.fsm[1].st.to_master, 0);
	T_EQ_INT(s.fsm[1].st.preempt_discard, 0);
	/* Last advert 59.609375 heard at +100 µs; MDI(200) = 3218750. */
	s.dead[0] = true;
	svr_run(&s, T0 + 70 * S);
	T_EQ_INT(svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 62828225);
	T_EQ_STR(svr_why(&s, 1, VRRP_A_BECOME_MASTER, T0), "master_down_timer");
}

/* AFTER 2 s: NEVER for 2 s from the first lower advert, then IMMEDIATE. */
static void
test_preempt_after(void)
{
	struct svr s;

	svr_init(&s, 2, 100);
	svr_node(&s, 0, 3, 100, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_node(&s, 1, 3, 200, S, VRRP_PREEMPT_AFTER, 2 * S);
	svr_startup(&s, 0);
	svr_run(&s, T0 + 10 * S);
	svr_startup(&s, 1);
	svr_run(&s, T0 + 10609475);
	T_EQ_INT(s.fsm[1].eligible_us, T0 + 10609475);
	/*
	 * 11.609475 is accepted (down timer to 14.828225); 12.609475 is
	 * exactly 2 s after eligibility and discarded, as are 13 and 14.
	 */
	svr_run(&s, T0 + 14828224);
	T_EQ_INT(svr_state(&s, 1), VRRP_S_BACKUP);
	T_EQ_INT(s.fsm[1].st.preempt_discard, 3);
	svr_run(&s, T0 + 20 * S);
	T_EQ_INT(svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 14828225);
	T_EQ_STR(svr_why(&s, 1, VRRP_A_BECOME_MASTER, T0),
	    "preempted_lower_priority");
	T_EQ_INT(svr_state(&s, 0), VRRP_S_BACKUP);
}

/* Eligibility restarts when the node drops below the master and back. */
static void
test_preempt_after_restarts(void)
{
	struct svr s;

	svr_init(&s, 2, 100);
	svr_node(&s, 0, 3, 100, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_node(&s, 1, 3, 200, S, VRRP_PREEMPT_AFTER, 2 * S);
	svr_startup(&s, 0);
	svr_run(&s, T0 + 10 * S);
	svr_startup(&s, 1);
	svr_run(&s, T0 + 11 * S);
	T_EQ_INT(s.fsm[1].eligible_us, T0 + 10609475);
	T_EQ_INT(vrrp_fsm_set_priority(&s.fsm[1], s.now, 90), 0);
	T_EQ_INT(s.fsm[1].eligible_us, SVR_NONE);
	svr_run(&s, T0 + 12 * S);
	/* Above the master it hears again: eligible from now, 12 s. */
	T_EQ_INT(vrrp_fsm_set_priority(&s.fsm[1], s.now, 200), 0);
	T_EQ_INT(s.fsm[1].eligible_us, T0 + 12 * S);
	/* 12.609475, 13.609475 accepted; 14.609475 discarded. */
	svr_run(&s, T0 + 30 * S);
	T_EQ_INT(s.fsm[1].st.preempt_discard, 3);
	T_EQ_INT(
	    svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 13609475 + 3218750);
}

/*
 * RFC 9568 §6.4.3: a master hearing a lower priority (or its own priority
 * from a lower address) answers at once and keeps its Adver_Timer; hearing
 * priority 0 it answers and resets the timer.
 */
static void
test_master_answers_lower(void)
{
	struct svr s;
	const struct vrrp_actions *out;

	svr_init(&s, 1, 0);
	svr_node(&s, 0, 3, 200, S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_startup(&s, 0);
	svr_run(&s, T0 + 3218750);
	T_EQ_INT(svr_state(&s, 0), VRRP_S_MASTER);
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[0]), T0 + 4218750);

	s.now = T0 + 3500 * MS;
	out = svr_inject(&s, 0, 99, 100, 100);
	T_EQ_INT(out->n, 1);
	T_EQ_INT(out->v[0].act, VRRP_A_SEND_ADVERT);
	T_EQ_INT(out->v[0].priority, 200);
	T_EQ_INT(out->v[0].max_adver_int, 100);
	T_EQ_STR(vrrp_reason_name(out->v[0].reason), "lower_priority_seen");
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[0]), T0 + 4218750);
	out = svr_inject(&s, 0, 5, 200, 100); /* equal, lower address */
	T_EQ_INT(out->n, 1);
	T_EQ_INT(out->v[0].reason, VRRP_R_LOWER_PRIORITY);
	T_EQ_INT(s.fsm[0].st.dual_master, 2);

	s.now = T0 + 3600 * MS;
	out = svr_inject(&s, 0, 99, 0, 100);
	T_EQ_INT(out->n, 1);
	T_EQ_STR(vrrp_reason_name(out->v[0].reason), "answer_priority0");
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[0]), T0 + 4600 * MS);
	T_EQ_INT(s.fsm[0].st.dual_master, 2);
	T_EQ_INT(s.fsm[0].st.prio0_rcvd, 1);

	/* Equal priority from a greater address: yield, learn 50 cs. */
	s.now = T0 + 4 * S;
	out = svr_inject(&s, 0, 99, 200, 50);
	T_EQ_INT(out->n, 1);
	T_EQ_INT(out->v[0].act, VRRP_A_BECOME_BACKUP);
	T_EQ_INT(vrrp_fsm_down_interval_us(&s.fsm[0]), 1500000 + 109375);
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[0]), T0 + 5609375);
}

/* When a split brain heals, the lower master's advert is answered at once. */
static void
test_split_brain_heals(void)
{
	struct svr s;

	svr_pair(&s, 200, 100);
	svr_run(&s, T0 + 10 * S);
	s.cut[0][1] = s.cut[1][0] = true;
	svr_run(&s, T0 + 19500 * MS);
	/* Last heard 9.218850: 3609375 later node 1 is master too. */
	T_EQ_INT(svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 12828225);
	T_EQ_INT(svr_state(&s, 0), VRRP_S_MASTER);
	s.cut[0][1] = s.cut[1][0] = false;
	svr_run(&s, T0 + 30 * S);
	/*
	 * Node 1 advertises at 19.828225, node 0 hears it at +100 and
	 * answers at once; node 1 yields at +200, before node 0's periodic
	 * advert of 20.218750 would have told it.
	 */
	T_EQ_INT(s.fsm[0].st.dual_master, 1);
	T_EQ_INT(
	    svr_when(&s, 0, VRRP_A_SEND_ADVERT, T0 + 19828325), T0 + 19828325);
	T_EQ_INT(svr_when(&s, 1, VRRP_A_BECOME_BACKUP, T0 + 1), T0 + 19828425);
	T_EQ_INT(svr_state(&s, 0), VRRP_S_MASTER);
	T_EQ_INT(svr_state(&s, 1), VRRP_S_BACKUP);
}

/*
 * v3 backups time out on the master's interval, not their own: node 1 is
 * configured for 1 s, the master advertises every 10 cs.
 */
static void
test_learned_interval_v3(void)
{
	struct svr s;

	svr_init(&s, 2, 100);
	svr_node(&s, 0, 3, 200, 100 * MS, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_node(&s, 1, 3, 100, 1 * S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_startup(&s, 0);
	svr_startup(&s, 1);
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[1]), T0 + 3609375);
	svr_run(&s, T0 + 321975);
	T_EQ_INT(svr_when(&s, 0, VRRP_A_BECOME_MASTER, T0), T0 + 321875);
	T_EQ_INT(s.fsm[1].master_adver_us, 100 * MS);
	T_EQ_INT(vrrp_fsm_skew_us(&s.fsm[1]), 60937);
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[1]), T0 + 321975 + 360937);
	/* Last advert before 5 s: 321875 + 46 * 100000 = 4921875. */
	svr_run(&s, T0 + 5 * S);
	s.dead[0] = true;
	svr_run(&s, T0 + 10 * S);
	T_EQ_INT(
	    svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 4921975 + 360937);
	/* As master it advertises its own interval. */
	T_EQ_INT(svr_find(&s, 1, VRRP_A_SEND_ADVERT, T0)->a.max_adver_int, 100);
	T_EQ_INT(svr_count(&s, 1, VRRP_A_SEND_ADVERT, T0), 5);
}

/*
 * v2 (RFC 3768 §6.1): whole seconds, Skew_Time = (256 - P) / 256 s not
 * scaled by the interval, no learning, another interval discarded.
 */
static void
test_v2_seconds(void)
{
	struct vrrp_fsm_conf c;
	struct vrrp_fsm f;
	struct vrrp_actions out;
	const struct vrrp_actions *o;
	struct svr s;

	svr_conf(&c, 2, 254, 1 * S, VRRP_PREEMPT_IMMEDIATE, 0);
	T_EQ_INT(vrrp_fsm_init(&f, &c), 0);
	T_EQ_INT(vrrp_fsm_startup(&f, T0, &out), 0);
	T_EQ_INT(vrrp_fsm_next_deadline(&f), T0 + 3007812);

	svr_init(&s, 2, 100);
	svr_node(&s, 0, 2, 200, 2 * S, VRRP_PREEMPT_IMMEDIATE, 0);
	svr_node(&s, 1, 2, 100, 2 * S, VRRP_PREEMPT_IMMEDIATE, 0);
	T_EQ_INT(vrrp_fsm_skew_us(&s.fsm[1]), 609375);
	T_EQ_INT(vrrp_fsm_down_interval_us(&s.fsm[1]), 6609375);
	svr_startup(&s, 0);
	svr_startup(&s, 1);
	svr_run(&s, T0 + 10 * S);
	T_EQ_INT(svr_when(&s, 0, VRRP_A_BECOME_MASTER, T0), T0 + 6218750);
	T_EQ_INT(svr_find(&s, 0, VRRP_A_SEND_ADVERT, T0)->a.max_adver_int, 2);
	/* Last heard 8.218850. A 1 s advert changes nothing. */
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[1]), T0 + 8218850 + 6609375);
	o = svr_inject(&s, 1, 99, 250, 1);
	T_EQ_INT(o->n, 0);
	T_EQ_INT(s.fsm[1].st.rx_v2_interval, 1);
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[1]), T0 + 8218850 + 6609375);
	s.dead[0] = true;
	svr_run(&s, T0 + 30 * S);
	T_EQ_INT(
	    svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 8218850 + 6609375);
}

/*
 * A backup paused (VM pause: adverts to it lost) for 10 s while the master
 * lives: its down timer runs 7 s late, and it must not take over on that.
 */
static void
test_late_timer_master_alive(void)
{
	struct svr s;

	svr_pair(&s, 200, 100);
	svr_run(&s, T0 + 20 * S);
	s.stall_until[1] = T0 + 30 * S;
	s.stall_drops[1] = true;
	/* Deadline 19.218850 + 3.609375 = 22.828225; runs at 30 s. */
	svr_run(&s, T0 + 30 * S);
	T_EQ_INT(svr_state(&s, 1), VRRP_S_BACKUP);
	T_EQ_INT(s.fsm[1].st.late_timers, 1);
	T_EQ_INT(s.fsm[1].st.late_suppressed, 1);
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[1]), T0 + 33609375);
	/* The next advert (30.218750) re-arms it as usual. */
	svr_run(&s, T0 + 60 * S);
	T_EQ_INT(s.fsm[1].st.to_master, 0);
	T_EQ_INT(s.fsm[1].st.late_timers, 1);
	T_EQ_INT(svr_count(&s, 1, VRRP_A_SEND_ADVERT, T0), 0);
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[1]), T0 + 59218850 + 3609375);
}

/* Same pause, but the master died meanwhile: one full MDI after resume. */
static void
test_late_timer_master_dead(void)
{
	struct svr s;

	svr_pair(&s, 200, 100);
	svr_run(&s, T0 + 20 * S);
	s.stall_until[1] = T0 + 30 * S;
	s.stall_drops[1] = true;
	svr_run(&s, T0 + 25 * S);
	s.dead[0] = true;
	svr_run(&s, T0 + 33609374);
	T_EQ_INT(svr_state(&s, 1), VRRP_S_BACKUP);
	svr_run(&s, T0 + 40 * S);
	T_EQ_INT(svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 33609375);
	T_EQ_STR(svr_why(&s, 1, VRRP_A_BECOME_MASTER, T0), "master_down_timer");
	T_EQ_INT(s.fsm[1].st.late_timers, 1);
	T_EQ_INT(s.fsm[1].st.late_suppressed, 1);
}

/*
 * SIGSTOP: adverts queue in the socket and are read on resume before the
 * timer runs, so the expiry never happens late: the view is fresh.
 */
static void
test_stall_queued_adverts(void)
{
	struct svr s;

	svr_pair(&s, 200, 100);
	svr_run(&s, T0 + 20 * S);
	s.stall_until[1] = T0 + 30 * S;
	svr_run(&s, T0 + 20500 * MS); /* 20.218750 sent, queued */
	s.dead[0] = true;
	svr_run(&s, T0 + 30 * S);
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[1]), T0 + 33609375);
	svr_run(&s, T0 + 40 * S);
	T_EQ_INT(svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 33609375);
	T_EQ_INT(s.fsm[1].st.late_timers, 0);
}

/*
 * Liveness: a host late at every expiry suppresses one, then acts. A late
 * master sends at once and re-arms from now.
 */
static void
test_late_timer_bounds(void)
{
	struct vrrp_fsm_conf c;
	struct vrrp_fsm f;
	struct vrrp_actions out;

	svr_conf(&c, 3, 100, S, VRRP_PREEMPT_IMMEDIATE, 0);
	T_EQ_INT(vrrp_fsm_init(&f, &c), 0);
	T_EQ_INT(vrrp_fsm_startup(&f, T0, &out), 0);
	/* Exactly one interval late is not late. */
	vrrp_fsm_timer(&f, T0 + 3609375 + 1 * S, &out);
	T_EQ_INT(out.n, 2);
	T_EQ_INT(f.state, VRRP_S_MASTER);
	T_EQ_INT(f.st.late_timers, 0);

	T_EQ_INT(vrrp_fsm_init(&f, &c), 0);
	T_EQ_INT(vrrp_fsm_startup(&f, T0, &out), 0);
	vrrp_fsm_timer(&f, T0 + 3609375 + 1 * S + 1, &out);
	T_EQ_INT(out.n, 0);
	T_EQ_INT(vrrp_fsm_next_deadline(&f), T0 + 8218751);
	vrrp_fsm_timer(&f, T0 + 8218751 + 2 * S, &out);
	T_EQ_INT(out.n, 2);
	T_EQ_INT(out.v[1].act, VRRP_A_BECOME_MASTER);
	T_EQ_INT(f.st.late_timers, 2);
	T_EQ_INT(f.st.late_suppressed, 1);

	/* Master 5 s late: one advert now, next in one interval. */
	vrrp_fsm_timer(&f, T0 + 10218751 + 6 * S, &out);
	T_EQ_INT(out.n, 1);
	T_EQ_INT(out.v[0].act, VRRP_A_SEND_ADVERT);
	T_EQ_INT(f.st.late_timers, 3);
	T_EQ_INT(vrrp_fsm_next_deadline(&f), T0 + 17218751);
}

/* Tracking lowers the master below a preempting backup. */
static void
test_set_priority_preemption(void)
{
	struct svr s;

	svr_pair(&s, 200, 150);
	svr_run(&s, T0 + 20 * S);
	T_EQ_INT(vrrp_fsm_set_priority(&s.fsm[0], s.now, 100), 0);
	svr_run(&s, T0 + 30 * S);
	T_EQ_INT(
	    svr_find(&s, 0, VRRP_A_SEND_ADVERT, T0 + 20 * S)->a.priority, 100);
	/* Last accepted 19.218850; MDI(150) = 3 s + 414062. */
	T_EQ_INT(s.fsm[1].st.preempt_discard, 3);
	T_EQ_INT(
	    svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 19218850 + 3414062);
	T_EQ_STR(svr_why(&s, 1, VRRP_A_BECOME_MASTER, T0),
	    "preempted_lower_priority");
	T_EQ_INT(svr_when(&s, 0, VRRP_A_BECOME_BACKUP, T0 + 1),
	    T0 + 19218850 + 3414062 + 100);
	/* A backup's skew follows its tracked priority. */
	T_EQ_INT(vrrp_fsm_skew_us(&s.fsm[0]), 609375);

	T_EQ_INT(vrrp_fsm_set_priority(&s.fsm[0], s.now, 0), -EINVAL);
	T_EQ_INT(vrrp_fsm_set_priority(&s.fsm[0], s.now, 255), -EINVAL);
	T_EQ_INT(vrrp_fsm_set_priority(&s.fsm[0], s.now, 254), 0);
}

/* FAULT: a master releases with priority 0; a faulted backup never acts. */
static void
test_fault(void)
{
	struct svr s;

	svr_pair(&s, 200, 100);
	svr_run(&s, T0 + 10 * S);
	svr_fault(&s, 0, true);
	T_EQ_INT(s.log[s.nlog - 2].a.act, VRRP_A_SEND_ADVERT);
	T_EQ_INT(s.log[s.nlog - 2].a.priority, 0);
	T_EQ_INT(s.log[s.nlog - 1].a.act, VRRP_A_BECOME_FAULT);
	T_EQ_STR(vrrp_reason_name(s.log[s.nlog - 1].a.reason), "fault");
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[0]), SVR_NONE);
	svr_run(&s, T0 + 20 * S);
	T_EQ_INT(svr_when(&s, 1, VRRP_A_BECOME_MASTER, T0), T0 + 10609475);
	T_EQ_INT(s.fsm[0].st.rx_inactive, 10); /* 10.609575 .. 19.609575 */
	T_EQ_INT(s.fsm[0].st.to_master, 1);

	/* Cleared: back through BACKUP, then preempts the lower master. */
	svr_fault(&s, 0, false);
	T_EQ_INT(s.log[s.nlog - 1].a.act, VRRP_A_BECOME_BACKUP);
	T_EQ_STR(vrrp_reason_name(s.log[s.nlog - 1].a.reason), "fault_cleared");
	svr_run(&s, T0 + 30 * S);
	T_EQ_INT(
	    svr_when(&s, 0, VRRP_A_BECOME_MASTER, T0 + 20 * S), T0 + 23218750);
	T_EQ_INT(svr_state(&s, 1), VRRP_S_BACKUP);

	/* A faulted backup does not take over from a dead master. */
	svr_fault(&s, 1, true);
	T_EQ_INT(s.log[s.nlog - 1].a.act, VRRP_A_BECOME_FAULT);
	T_EQ_INT(svr_count(&s, 1, VRRP_A_SEND_ADVERT, T0 + 30 * S), 0);
	s.dead[0] = true;
	svr_run(&s, T0 + 60 * S);
	T_EQ_INT(svr_state(&s, 1), VRRP_S_FAULT);
	T_EQ_INT(vrrp_fsm_next_deadline(&s.fsm[1]), SVR_NONE);
	/* Startup with the fault set stays out. */
	svr_shutdown(&s, 1);
	T_EQ_INT(s.log[s.nlog - 1].a.act, VRRP_A_BECOME_INIT);
	svr_startup(&s, 1);
	T_EQ_INT(s.log[s.nlog - 1].a.act, VRRP_A_BECOME_FAULT);
}

/* A two-owner misconfiguration: the owner always preempts. */
static void
test_two_owners(void)
{
	struct svr s;

	svr_init(&s, 2, 100);
	svr_node(&s, 0, 3, 255, S, VRRP_PREEMPT_NEVER, 0);
	svr_node(&s, 1, 3, 255, S, VRRP_PREEMPT_NEVER, 0);
	svr_startup(&s, 0);
	svr_startup(&s, 1);
	svr_run(&s, T0 + 10 * S);
	T_EQ_INT(svr_when(&s, 0, VRRP_A_BECOME_BACKUP, T0), T0 + 100);
	T_EQ_INT(svr_state(&s, 1), VRRP_S_MASTER);
	/* Skew_Time(255, 1 s) = 3906.25. */
	T_EQ_INT(vrrp_fsm_down_interval_us(&s.fsm[0]), 3003906);
	/* Owner with NEVER still discards a lower master (RFC 9568 §6.1). */
	T_EQ_INT(vrrp_fsm_set_priority(&s.fsm[1], s.now, 100), -EINVAL);
	svr_inject(&s, 0, 99, 100, 100);
	T_EQ_INT(s.fsm[0].st.preempt_discard, 1);
}

/* Inputs out of place, and the discards the fsm makes itself. */
static void
test_edges(void)
{
	struct vrrp_fsm_conf c;
	struct vrrp_fsm f;
	struct vrrp_actions out;
	struct vrrp_advert_in ad;
	const char *why;

	svr_conf(&c, 3, 100, 15 * MS, VRRP_PREEMPT_IMMEDIATE, 0);
	T_EQ_INT(vrrp_fsm_init(&f, &c), -EINVAL);
	c.adver_us = 41 * S;
	T_EQ_INT(vrrp_fsm_conf_check(&c, &why), -EINVAL);
	T_ASSERT(why != NULL);
	svr_conf(&c, 2, 100, 1500 * MS, VRRP_PREEMPT_IMMEDIATE, 0);
	T_EQ_INT(vrrp_fsm_init(&f, &c), -EINVAL);
	svr_conf(&c, 4, 100, S, VRRP_PREEMPT_IMMEDIATE, 0);
	T_EQ_INT(vrrp_fsm_init(&f, &c), -EINVAL);
	svr_conf(&c, 3, 0, S, VRRP_PREEMPT_IMMEDIATE, 0);
	T_EQ_INT(vrrp_fsm_init(&f, &c), -EINVAL);
	svr_conf(&c, 2, 100, S, VRRP_PREEMPT_IMMEDIATE, 0);
	c.self.family = AF_INET6;
	T_EQ_INT(vrrp_fsm_conf_check(&c, &why), -EINVAL);
	T_EQ_STR(why, "VRRPv2 is IPv4 only (RFC 3768)");

	svr_conf(&c, 3, 100, S, VRRP_PREEMPT_IMMEDIATE, 0);
	T_EQ_INT(vrrp_fsm_init(&f, &c), 0);
	memset(&ad, 0, sizeof(ad));
	svr_addr(&ad.src, 99);
	ad.priority = 200;
	ad.max_adver_int = 100;
	ad.validated = true;
	vrrp_fsm_rx_advert(&f, T0, &ad, &out); /* INIT */
	T_EQ_INT(f.st.rx_inactive, 1);
	vrrp_fsm_shutdown(&f, T0, &out);
	T_EQ_INT(out.n, 0);
	T_EQ_INT(vrrp_fsm_startup(&f, T0, &out), 0);
	T_EQ_INT(vrrp_fsm_startup(&f, T0, &out), -EALREADY);
	T_EQ_INT(out.n, 0);

	ad.validated = false;
	vrrp_fsm_rx_advert(&f, T0 + 1, &ad, &out);
	ad.validated = true;
	ad.max_adver_int = 0;
	vrrp_fsm_rx_advert(&f, T0 + 1, &ad, &out);
	ad.max_adver_int = 100;
	svr_addr(&ad.src, 10); /* ourselves */
	vrrp_fsm_rx_advert(&f, T0 + 1, &ad, &out);
	T_EQ_INT(f.st.rx_not_validated, 1);
	T_EQ_INT(f.st.rx_bad_interval, 1);
	T_EQ_INT(f.st.rx_own, 1);
	T_EQ_INT(vrrp_fsm_next_deadline(&f), T0 + 3609375);

	/* A backup's shutdown sends nothing. */
	vrrp_fsm_shutdown(&f, T0 + 2, &out);
	T_EQ_INT(out.n, 1);
	T_EQ_INT(out.v[0].act, VRRP_A_BECOME_INIT);
	T_EQ_INT(f.st.adverts_sent, 0);
	T_EQ_INT(vrrp_fsm_next_deadline(&f), SVR_NONE);
	vrrp_fsm_timer(&f, T0 + 10 * S, &out);
	T_EQ_INT(out.n, 0);

	T_EQ_STR(vrrp_state_name(VRRP_S_MASTER), "master");
	T_EQ_STR(vrrp_act_name(VRRP_A_SEND_ADVERT), "send_advert");
	T_EQ_STR(vrrp_reason_name(VRRP__REASON_COUNT), "invalid");
}

static const struct test tests[] = {
	TEST(test_down_interval_and_skew),
	TEST(test_owner_startup),
	TEST(test_election_three),
	TEST(test_tiebreak_address),
	TEST(test_tiebreak_ipv6),
	TEST(test_priority0_fast_takeover),
	TEST(test_preempt_immediate),
	TEST(test_preempt_never),
	TEST(test_preempt_after),
	TEST(test_preempt_after_restarts),
	TEST(test_master_answers_lower),
	TEST(test_split_brain_heals),
	TEST(test_learned_interval_v3),
	TEST(test_v2_seconds),
	TEST(test_late_timer_master_alive),
	TEST(test_late_timer_master_dead),
	TEST(test_stall_queued_adverts),
	TEST(test_late_timer_bounds),
	TEST(test_set_priority_preemption),
	TEST(test_fault),
	TEST(test_two_owners),
	TEST(test_edges),
};

TEST_MAIN(tests)
