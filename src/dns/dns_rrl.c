/*
 * dns_rrl.c - response rate limiting (dns_rrl.h). Pure: no I/O, clock or
 * globals.
 *
 * Accounts are kept in thousandths of a response so that the credit of one
 * millisecond at low rates is not lost to rounding: a bucket earns rate
 * thousandths per millisecond, holds at most rate * 1000 (one second of
 * credit) and owes at most rate * window * 1000.
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "dns/dns_name.h"
#include "dns/dns_rrl.h"
#include "dns/dns_wire.h"
#include "lib/util.h"

struct dns_rrl_key {
	uint8_t addr[16]; /* client prefix, host bits zero */
	uint8_t family;   /* 4 or 6 */
	uint8_t kind;
	uint32_t name_hash;
};

struct dns_rrl_bucket {
	struct dns_rrl_key key;
	bool used;
	uint64_t last_ms; /* last response counted */
	int64_t balance;  /* thousandths of a response */
	uint32_t limited; /* limited responses since the account went
	                     negative: for slip */
};

struct dns_rrl {
	struct dns_rrl_params p;
	size_t nsets;                   /* power of two */
	struct dns_rrl_bucket *buckets; /* owned: nsets * DNS_RRL_WAYS */
	struct dns_rrl_stats st;
};

struct dns_rrl *
dns_rrl_new(const struct dns_rrl_params *p)
{
	struct dns_rrl *r = xcalloc(1, sizeof(*r));
	size_t n = 1;

	r->p = *p;
	if (r->p.v4_prefix > 32)
		r->p.v4_prefix = 32;
	if (r->p.v6_prefix > 128)
		r->p.v6_prefix = 128;
	if (r->p.window_s == 0)
		r->p.window_s = 1;
	while (n * DNS_RRL_WAYS < p->buckets && n < ((size_t)1 << 24))
		n <<= 1;
	r->nsets = n;
	r->buckets = xcalloc(n * DNS_RRL_WAYS, sizeof(*r->buckets));
	return r;
}

void
dns_rrl_free(struct dns_rrl *r)
{
	if (r == NULL)
		return;
	free(r->buckets);
	free(r);
}

const struct dns_rrl_stats *
dns_rrl_stats(const struct dns_rrl *r)
{
	return &r->st;
}

static void
dns_rrl_make_key(const struct dns_rrl *r, const struct dns_client *cl,
    unsigned kind, const uint8_t *name, struct dns_rrl_key *k)
{
	unsigned bits, alen;

	memset(k, 0, sizeof(*k));
	if (cl->family == AF_INET6) {
		k->family = 6;
		bits = r->p.v6_prefix;
		alen = 16;
	} else {
		k->family = 4;
		bits = r->p.v4_prefix;
		alen = 4;
	}
	if (bits > alen * 8)
		bits = alen * 8;
	memcpy(k->addr, cl->addr, bits / 8);
	if (bits % 8 != 0)
		k->addr[bits / 8] =
		    cl->addr[bits / 8] & (uint8_t)(0xff00u >> (bits % 8));
	k->kind = (uint8_t)kind;
	k->name_hash = name != NULL ? dns_name_hash(name) : 0;
}

/* FNV-1a over the key's bytes (the struct has no padding holes we read
 * uninitialised: it was zeroed whole). */
static uint32_t
dns_rrl_hash(const struct dns_rrl_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

static struct dns_rrl_bucket *
dns_rrl_find(struct dns_rrl *r, const struct dns_rrl_key *k, uint64_t now_ms)
{
	struct dns_rrl_bucket *set, *victim;
	size_t s = dns_rrl_hash(k) & (r->nsets - 1);

	set = &r->buckets[s * DNS_RRL_WAYS];
	victim = &set[0];
	for (unsigned i = 0; i < DNS_RRL_WAYS; i++) {
		if (set[i].used && memcmp(&set[i].key, k, sizeof(*k)) == 0)
			return &set[i];
		if (!set[i].used)
			victim = &set[i];
		else if (victim->used && set[i].last_ms < victim->last_ms)
			victim = &set[i];
	}
	/* A bucket idle for a window has a full account: no loss. */
	if (victim->used &&
	    now_ms - victim->last_ms < (uint64_t)r->p.window_s * 1000)
		r->st.evicted++;
	memset(victim, 0, sizeof(*victim));
	victim->key = *k;
	victim->used = true;
	victim->last_ms = now_ms;
	victim->balance = (int64_t)r->p.rate * 1000;
	return victim;
}

enum dns_rrl_action
dns_rrl_check(struct dns_rrl *r, const struct dns_client *cl, unsigned kind,
    const uint8_t *name, uint64_t now_ms)
{
	struct dns_rrl_key k;
	struct dns_rrl_bucket *b;
	int64_t max, min;

	if (r == NULL || r->p.rate == 0) {
		if (r != NULL)
			r->st.passed++;
		return DNS_RRL_PASS;
	}
	dns_rrl_make_key(r, cl, kind, name, &k);
	b = dns_rrl_find(r, &k, now_ms);
	max = (int64_t)r->p.rate * 1000;
	min = -(int64_t)r->p.rate * r->p.window_s * 1000;
	if (now_ms > b->last_ms) {
		uint64_t dt = now_ms - b->last_ms;

		/* Cap dt first: a long idle gap must not overflow. */
		if (dt > (uint64_t)r->p.window_s * 1000 + 1000)
			dt = (uint64_t)r->p.window_s * 1000 + 1000;
		b->balance += (int64_t)dt * r->p.rate;
		if (b->balance > max)
			b->balance = max;
		b->last_ms = now_ms;
	}
	b->balance -= 1000;
	if (b->balance < min)
		b->balance = min;
	if (b->balance >= 0) {
		b->limited = 0;
		r->st.passed++;
		return DNS_RRL_PASS;
	}
	b->limited++;
	if (r->p.slip != 0 && b->limited % r->p.slip == 0) {
		r->st.slipped++;
		return DNS_RRL_SLIP;
	}
	r->st.dropped++;
	return DNS_RRL_DROP;
}

size_t
dns_rrl_slip_msg(uint8_t *msg, size_t len)
{
	size_t qend = DNS_HDR_LEN;
	uint16_t qd, flags;
	int n;

	if (len < DNS_HDR_LEN)
		return 0;
	qd = (uint16_t)(msg[4] << 8 | msg[5]);
	if (qd > 1)
		return 0;
	if (qd == 1) {
		/* The question is the first name: never compressed. */
		n = dns_name_check(msg + DNS_HDR_LEN, len - DNS_HDR_LEN);
		if (n < 0 || (size_t)n + 4 > len - DNS_HDR_LEN)
			return 0;
		qend += (size_t)n + 4;
	}
	flags = (uint16_t)(msg[2] << 8 | msg[3]);
	flags |= DNS_FLAG_TC;
	/* An extended RCODE lived in the OPT dropped here: keep the low
	 * bits only, which is what a client without the OPT sees. */
	msg[2] = (uint8_t)(flags >> 8);
	msg[3] = (uint8_t)flags;
	memset(msg + 6, 0, 6); /* AN, NS, AR counts */
	return qend;
}
