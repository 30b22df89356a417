/*
 * vrrp_auth.c - see vrrp_auth.h. Pure: no I/O, clock or globals; the only
 * allocation is the peer table of vrrp_auth_set.
 *
 * The MAC input is copied into one buffer (at most 32 bytes of addresses,
 * a VRRP_PKT_MAX + 8 message and 12 bytes of trailer: about 4 KiB on the
 * stack) so that one HMAC() call computes it: an advert a second per
 * peer does not need an incremental context.
 *
 * The replay rule. A receiver keeps, per peer, the highest sequence it
 * accepted and drops anything not above it. The sender's sequence starts
 * at its wall clock in microseconds and grows by one per advert, so it
 * runs far behind real time: a restarted sender starts above everything
 * its previous run sent unless its clock went back by more than that run
 * lasted. That does happen: a host that booted with its clock ahead and
 * was corrected by NTP restarts "in the past". Never accepting it would
 * leave the backup deaf to a live master until the master's clock passes
 * the old sequence, hours perhaps: two masters, with nothing but a
 * counter to say why. Accepting any lower sequence would let a recorded
 * advert be replayed whenever the attacker likes. So a lower sequence is
 * taken only when both hold:
 *   - the peer has been silent for more than the master-down interval: a
 *     replay interleaved with a live peer's adverts is always dropped, and
 *     by then this node has already given the peer up (it took over or is
 *     about to), which is what a restart looks like;
 *   - the sequence is within VRRP_AUTH_FRESH_US of our own wall clock: a
 *     freshly started sender's first sequence is its clock at start, so
 *     this only asks the two clocks to agree within a minute (NTP), while
 *     a recording of an older run carries that run's start time, which is
 *     older than a minute unless the run started less than a minute ago.
 * What is left to an attacker is replaying, while the peer is down, the
 * recorded adverts of a run that began less than a minute before (once
 * the first is taken the rest climb normally): that holds this node in
 * BACKUP for as long as the recording lasts, under a minute, and only
 * right after a peer's short-lived run died.
 */
#include <sys/socket.h>

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "vrrp/vrrp_auth.h"

static size_t
vrrp_auth_alen(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/*
 * The MAC of src || dst || msg || hdr (the trailer up to the MAC) into
 * mac. msglen is at most what the codec can produce. 0 or -EINVAL.
 */
static int
vrrp_auth_mac(const struct vrrp_ip *ip, const struct vrrp_auth_key *k,
    const uint8_t *msg, size_t msglen, const uint8_t *hdr,
    uint8_t mac[VRRP_AUTH_MAC_LEN])
{
	uint8_t in[32 + VRRP_PKT_MAX + VRRP_V2_AUTH_LEN + VRRP_AUTH_HDR_LEN];
	size_t alen = vrrp_auth_alen(ip->family), n = 0;
	unsigned mlen = 0;

	if (alen == 0 || k->len < VRRP_AUTH_KEY_MIN ||
	    k->len > VRRP_AUTH_KEY_MAX ||
	    msglen > VRRP_PKT_MAX + VRRP_V2_AUTH_LEN)
		return -EINVAL;
	memcpy(in, ip->src.b, alen);
	n += alen;
	memcpy(in + n, ip->dst.b, alen);
	n += alen;
	memcpy(in + n, msg, msglen);
	n += msglen;
	memcpy(in + n, hdr, VRRP_AUTH_HDR_LEN);
	n += VRRP_AUTH_HDR_LEN;
	if (HMAC(EVP_sha256(), k->bytes, (int)k->len, in, n, mac, &mlen) ==
	        NULL ||
	    mlen != VRRP_AUTH_MAC_LEN)
		return -EINVAL;
	return 0;
}

int
vrrp_auth_append(const struct vrrp_ip *ip, const struct vrrp_auth_key *k,
    uint64_t seq, uint8_t *buf, size_t msglen, size_t size)
{
	uint8_t *t = buf + msglen;
	int i, rc;

	if (msglen + VRRP_AUTH_TRAILER > size)
		return -EMSGSIZE;
	t[0] = VRRP_AUTH_TYPE_V1;
	t[1] = k->id;
	t[2] = t[3] = 0;
	for (i = 0; i < 8; i++)
		t[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
	if ((rc = vrrp_auth_mac(ip, k, buf, msglen, t, t + VRRP_AUTH_HDR_LEN)))
		return rc;
	return (int)(msglen + VRRP_AUTH_TRAILER);
}

bool
vrrp_auth_is_trailer(const uint8_t *buf, size_t msglen, size_t len)
{
	return len == msglen + VRRP_AUTH_TRAILER &&
	    buf[msglen] == VRRP_AUTH_TYPE_V1;
}

enum vrrp_drop
vrrp_auth_verify(const struct vrrp_ip *ip, const struct vrrp_auth_key *k,
    const uint8_t *buf, size_t msglen, size_t len, uint64_t *seq)
{
	const uint8_t *t = buf + msglen;
	uint8_t mac[VRRP_AUTH_MAC_LEN];
	uint64_t s = 0;
	int i;

	if (len <= msglen)
		return VRRP_DROP_AUTH_MISSING;
	if (!vrrp_auth_is_trailer(buf, msglen, len))
		return VRRP_DROP_AUTH_TRAILER;
	if (t[1] != k->id)
		return VRRP_DROP_AUTH_KEY_ID;
	if (vrrp_auth_mac(ip, k, buf, msglen, t, mac) != 0 ||
	    CRYPTO_memcmp(mac, t + VRRP_AUTH_HDR_LEN, VRRP_AUTH_MAC_LEN) != 0)
		return VRRP_DROP_AUTH_BAD_MAC;
	for (i = 0; i < 8; i++)
		s = s << 8 | t[4 + i];
	*seq = s;
	return VRRP_DROP_NONE;
}

enum vrrp_drop
vrrp_auth_replay(struct vrrp_auth_peer *p, uint64_t seq, uint64_t now_us,
    uint64_t wall_us, uint64_t down_us)
{
	uint64_t skew = seq > wall_us ? seq - wall_us : wall_us - seq;

	if (p->heard && seq <= p->seq &&
	    !(now_us - p->heard_us > down_us && skew <= VRRP_AUTH_FRESH_US))
		return VRRP_DROP_AUTH_REPLAY;
	p->heard = true;
	p->seq = seq;
	p->heard_us = now_us;
	return VRRP_DROP_NONE;
}

void
vrrp_auth_set(struct vrrp_auth *a, const struct vrrp_auth_key *k, size_t npeers,
    uint64_t wall_us)
{
	if (k == NULL) {
		/* Keep the sequences: auth may come back on a reload. */
		a->on = false;
		OPENSSL_cleanse(&a->key, sizeof(a->key));
		return;
	}
	if (a->tx_seq == 0)
		a->tx_seq = wall_us;
	if (a->peers == NULL || a->npeers != npeers) {
		free(a->peers);
		a->peers = xcalloc(npeers ? npeers : 1, sizeof(*a->peers));
		a->npeers = npeers;
	}
	a->key = *k;
	a->on = true;
}

void
vrrp_auth_fini(struct vrrp_auth *a)
{
	free(a->peers);
	a->peers = NULL;
	a->npeers = 0;
	a->on = false;
	OPENSSL_cleanse(&a->key, sizeof(a->key));
}
