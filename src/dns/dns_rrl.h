/*
 * dns_rrl.h - response rate limiting for UDP answers, in the manner of
 * BIND, NSD and Knot: a spoofed-source flood must not turn the server into
 * an amplifier, while a real client behind a limited prefix can still get
 * its answer over TCP. Pure: no I/O, clock or globals; time comes in as
 * now_ms arguments, so tests run on made-up timestamps.
 *
 * Responses are counted per bucket, a bucket being (client prefix, kind of
 * answer, the answer's RRL name): a client /24 (IPv4) or /56 (IPv6) asking
 * many names of one zone that do not exist shares one NXDOMAIN bucket for
 * the zone, since the answer engine names the apex for those.
 *
 * Each bucket is an account: it earns rate responses per second, at most
 * one second's worth ahead, and pays one per response. A response with the
 * account below zero is limited; the account may owe at most window
 * seconds' worth, so limiting ends at most window after a flood stops.
 * Of the limited responses of a bucket, every slip-th goes out as a
 * truncated empty answer (TC=1: a real client retries over TCP, which a
 * spoofer cannot), the others are dropped; slip 0 drops all of them, slip
 * 1 truncates all.
 *
 * The table is fixed-size and 4-way set-associative: a key lives in one of
 * four slots of its set; a new key takes the slot least recently used.
 * Memory is bounded whatever the flood; under a spread of many prefixes a
 * bucket may be evicted early, which only makes limiting more lenient.
 */
#ifndef HAVEN_DNS_RRL_H
#define HAVEN_DNS_RRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_dyn.h"

#define DNS_RRL_WAYS 4

struct dns_rrl_params {
	uint32_t rate;     /* responses per second per bucket; 0: off */
	uint32_t slip;     /* every slip-th limited response truncated */
	uint32_t window_s; /* seconds of debt a bucket may run up */
	uint8_t v4_prefix; /* 0..32 */
	uint8_t v6_prefix; /* 0..128 */
	size_t buckets;    /* table size, rounded up to a power of two */
};

enum dns_rrl_action {
	DNS_RRL_PASS = 0, /* send the response */
	DNS_RRL_DROP,     /* send nothing */
	DNS_RRL_SLIP,     /* send it truncated, TC and no records */
};

struct dns_rrl_stats {
	uint64_t passed, dropped, slipped;
	uint64_t evicted; /* a live bucket gave its slot to a new key */
};

struct dns_rrl; /* opaque */

struct dns_rrl *dns_rrl_new(const struct dns_rrl_params *p);
void dns_rrl_free(struct dns_rrl *r);

/*
 * The fate of one response of kind (enum dns_answer_kind) with RRL name
 * name (wire form, lower case) to client cl at now_ms. Always PASS when
 * the rate is 0.
 */
enum dns_rrl_action dns_rrl_check(struct dns_rrl *r,
    const struct dns_client *cl, unsigned kind, const uint8_t *name,
    uint64_t now_ms);

const struct dns_rrl_stats *dns_rrl_stats(const struct dns_rrl *r);

/*
 * Turn the response of len bytes in msg into the slip answer in place:
 * header and question kept, TC set, no records (the OPT too is dropped:
 * a client retrying over TCP asks again). Returns the new length, or 0
 * when msg is not a well-formed response header and question.
 */
size_t dns_rrl_slip_msg(uint8_t *msg, size_t len);

#endif
