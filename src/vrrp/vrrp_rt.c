/*
 * vrrp_rt.c - the virtual IP plane's runtime (vrrp_rt.h): apply, the
 * shared raw sockets and their receive path, link events, stop.
 *
 * Receive path: a datagram is decoded (vrrp_pkt.c judges everything the
 * packet alone can break), matched to the instance of its vrid on that
 * socket, and only then handed to the instance, which judges the rest
 * against its configuration. Every discard is counted by reason; the log
 * line for it is rate-limited by log.c, so a flood of junk costs a
 * counter increment, not a disk.
 *
 * Authentication (vrrp_auth.h) sits between the instance lookup and the
 * instance: decode lets bytes after the message through as a trailer, and
 * vrrp_rt_auth_check judges them against the instance's auth settings
 * before anything in the advert is believed. The key file is read here at
 * apply, in the vrrp process, the way lb workers read their TLS keys.
 */
#include <arpa/inet.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ipc.h"
#include "lib/log.h"
#include "lib/util.h"
#include "vrrp/vrrp_rt.h"

/* Datagrams read per wake-up before the loop gets back to timers. */
#define VRRP_RX_BATCH 64

static struct vrrp_inst *
vrrp_rt_inst_for(struct vrrp_rt *rt, const struct vrrp_rsock *s, unsigned vrid)
{
	size_t i;

	for (i = 0; i < rt->ninsts; i++)
		if (rt->insts[i]->sock == s && rt->insts[i]->conf->vrid == vrid)
			return rt->insts[i];
	return NULL;
}

static void
vrrp_rt_drop(struct vrrp_rt *rt, enum vrrp_drop why, const struct vrrp_rx *rx)
{
	char a[64];

	rt->drops[why]++;
	log_info("vrrp advert discarded", "reason=%s from=%s",
	    vrrp_drop_name(why), conf_addr_str(&rx->src, a, sizeof(a)));
}

static int
vrrp_rt_peer_index(const struct vrrp_inst *in, const struct vrrp_ip *ip)
{
	size_t i, alen = ip->family == AF_INET ? 4 : 16;

	for (i = 0; i < in->conf->npeers; i++) {
		const struct sockaddr_storage *p = &in->conf->peers[i];
		const void *b = p->ss_family == AF_INET ?
		    (const void *)&((const struct sockaddr_in *)p)->sin_addr :
		    (const void *)&((const struct sockaddr_in6 *)p)->sin6_addr;

		if (memcmp(b, ip->src.b, alen) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * The trailer rules. Without auth, a trailer of ours is auth_unexpected
 * (a peer configured with a key we lack: say so rather than count it as
 * junk) and other trailing bytes are addr_count as they always were. With
 * auth, the source must be a configured peer (the replay state is per
 * peer), the trailer must verify, and its sequence must pass the replay
 * rule (vrrp_auth.c), which runs last so that nothing unauthenticated
 * moves a peer's sequence.
 */
static enum vrrp_drop
vrrp_rt_auth_check(struct vrrp_inst *in, const struct vrrp_ip *ip,
    const uint8_t *payload, const struct vrrp_pkt *pkt)
{
	enum vrrp_drop why;
	uint64_t seq;
	int i;

	if (!in->auth.on) {
		if (pkt->len == ip->len)
			return VRRP_DROP_NONE;
		return vrrp_auth_is_trailer(payload, pkt->len, ip->len) ?
		    VRRP_DROP_AUTH_UNEXPECTED :
		    VRRP_DROP_ADDR_COUNT;
	}
	if ((i = vrrp_rt_peer_index(in, ip)) < 0 ||
	    (size_t)i >= in->auth.npeers)
		return VRRP_DROP_PEER_UNKNOWN;
	why = vrrp_auth_verify(
	    ip, &in->auth.key, payload, pkt->len, ip->len, &seq);
	if (why != VRRP_DROP_NONE)
		return why;
	return vrrp_auth_replay(&in->auth.peers[i], seq, util_mono_us(),
	    util_wall_ms() * 1000, vrrp_fsm_down_interval_us(&in->fsm));
}

static void
vrrp_rt_rx_one(
    struct vrrp_rt *rt, struct vrrp_rsock *s, const struct vrrp_rx *rx)
{
	struct vrrp_inst *in;
	struct vrrp_pkt pkt;
	struct vrrp_ip ip;
	enum vrrp_drop why;
	size_t alen = s->s.family == AF_INET ? 4 : 16;
	const uint8_t *sb, *db;

	rt->rx_total++;
	memset(&ip, 0, sizeof(ip));
	ip.family = s->s.family;
	if (s->s.family == AF_INET) {
		sb = (const uint8_t *)&((const struct sockaddr_in *)&rx->src)
		         ->sin_addr;
		db = (const uint8_t *)&((const struct sockaddr_in *)&rx->dst)
		         ->sin_addr;
	} else {
		sb = (const uint8_t *)&((const struct sockaddr_in6 *)&rx->src)
		         ->sin6_addr;
		db = (const uint8_t *)&((const struct sockaddr_in6 *)&rx->dst)
		         ->sin6_addr;
	}
	memcpy(ip.src.b, sb, alen);
	memcpy(ip.dst.b, db, alen);
	ip.ttl = rx->ttl < 0 ? 0 : (unsigned)rx->ttl;
	/* Unicast adverts may be routed (a VPC, reference/vip.md §5): no
	 * TTL rule for them here; vrrp_inst_rx keeps it for an instance
	 * that has no unicast peers. */
	ip.ttl_any = s->s.family == AF_INET ?
	    !IN_MULTICAST(ntohl(
	        ((const struct sockaddr_in *)&rx->dst)->sin_addr.s_addr)) :
	    !IN6_IS_ADDR_MULTICAST(
	        &((const struct sockaddr_in6 *)&rx->dst)->sin6_addr);
	ip.len = rx->len;
	why = vrrp_pkt_decode(&ip, VRRP_PKT_V2 | VRRP_PKT_V3 | VRRP_PKT_TRAILER,
	    rx->payload, rx->len, &pkt);
	if (why != VRRP_DROP_NONE) {
		vrrp_rt_drop(rt, why, rx);
		return;
	}
	in = vrrp_rt_inst_for(rt, s, pkt.vrid);
	if (in == NULL) {
		vrrp_rt_drop(rt, VRRP_DROP_VRID_UNKNOWN, rx);
		return;
	}
	if (pkt.version != in->conf->version) {
		vrrp_rt_drop(rt, VRRP_DROP_VERSION, rx);
		return;
	}
	why = vrrp_rt_auth_check(in, &ip, rx->payload, &pkt);
	if (why != VRRP_DROP_NONE) {
		vrrp_rt_drop(rt, why, rx);
		return;
	}
	vrrp_inst_rx(in, rx, &pkt);
}

static void
vrrp_rt_sock_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct vrrp_rsock *s = arg;
	struct vrrp_rt *rt = s->rt;
	uint8_t buf[65536];
	struct vrrp_rx rx;
	int i, rc;

	for (i = 0; i < VRRP_RX_BATCH; i++) {
		rc = vrrp_sock_recv(&s->s, buf, sizeof(buf), &rx);
		if (rc == -EAGAIN)
			break;
		if (rc == -EBADMSG || rc == -EMSGSIZE) {
			rt->drops[VRRP_DROP_LENGTH]++;
			continue;
		}
		if (rc != 0) {
			log_warn("vrrp receive failed", "interface=%s error=%s",
			    log_q(s->s.ifname), strerror(-rc));
			break;
		}
		vrrp_rt_rx_one(rt, s, &rx);
	}
}

struct vrrp_rsock *
vrrp_rt_sock(struct vrrp_rt *rt, const char *ifname, int family, char *err,
    size_t errlen)
{
	struct vrrp_rsock *s, **v;
	size_t i;
	int rc;

	for (i = 0; i < rt->nsocks; i++)
		if (rt->socks[i]->s.family == family &&
		    strcmp(rt->socks[i]->s.ifname, ifname) == 0) {
			rt->socks[i]->users++;
			return rt->socks[i];
		}
	s = calloc(1, sizeof(*s));
	v = realloc(rt->socks, (rt->nsocks + 1) * sizeof(*v));
	if (s == NULL || v == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rt->socks = v;
	s->rt = rt;
	s->ann.fd = -1;
	if (vrrp_sock_open(&s->s, family, ifname, err, errlen) != 0) {
		free(s);
		return NULL;
	}
	if ((rc = vrrp_announce_open(&s->ann, (int)s->s.ifindex)) != 0) {
		snprintf(err, errlen, "announcements: %s", s->ann.err);
		vrrp_sock_close(&s->s);
		free(s);
		return NULL;
	}
	ev_io_init(&s->io, s->s.fd, vrrp_rt_sock_cb, s);
	ev_io_start(rt->loop, &s->io, EV_READ);
	s->users = 1;
	rt->socks[rt->nsocks++] = s;
	return s;
}

void
vrrp_rt_sock_put(struct vrrp_rt *rt, struct vrrp_rsock *s)
{
	size_t i;

	if (--s->users > 0)
		return;
	for (i = 0; i < rt->nsocks; i++)
		if (rt->socks[i] == s) {
			rt->socks[i] = rt->socks[--rt->nsocks];
			break;
		}
	ev_io_stop(rt->loop, &s->io);
	vrrp_sock_close(&s->s);
	vrrp_announce_close(&s->ann);
	free(s);
}

static void
vrrp_rt_link_ev(const struct vrrp_addr_link *l, void *arg)
{
	struct vrrp_rt *rt = arg;
	size_t i;

	for (i = 0; i < rt->ninsts; i++)
		vrrp_inst_link(rt->insts[i], l);
}

/* Events were lost: ask the kernel for each tracked link again. */
static void
vrrp_rt_link_requery(struct vrrp_rt *rt)
{
	struct vrrp_addr_link l;
	size_t i, j;
	int idx;

	for (i = 0; i < rt->ninsts; i++) {
		const struct vrrp_instance_conf *ic = rt->insts[i]->conf;

		if (vrrp_addr_link_get(&rt->nl, rt->insts[i]->ifindex, &l) == 0)
			vrrp_rt_link_ev(&l, rt);
		for (j = 0; j < ic->ntrack_interfaces; j++) {
			idx = vrrp_addr_ifindex(
			    &rt->nl, ic->track_interfaces[j].name);
			if (idx > 0 &&
			    vrrp_addr_link_get(&rt->nl, idx, &l) == 0)
				vrrp_rt_link_ev(&l, rt);
		}
	}
}

static void
vrrp_rt_mon_cb(struct ev_io *io, unsigned events, void *arg)
{
	struct vrrp_rt *rt = arg;
	int rc = vrrp_addr_mon_read(&rt->mon, vrrp_rt_link_ev, rt);

	if (rc == -ENOBUFS)
		vrrp_rt_link_requery(rt);
	else if (rc < 0 && rc != -EAGAIN)
		log_warn("vrrp link events", "error=%s", log_q(rt->mon.err));
}

/* Whether target is one of the servers of pool tracker pt. */
static bool
vrrp_rt_pool_has(const struct vrrp_pool_track *pt, const char *target)
{
	size_t k;

	for (k = 0; k < pt->nservers; k++)
		if (strcmp(pt->servers[k], target) == 0)
			return true;
	return false;
}

/*
 * Every verdict comes here (the parent relays all of them): remembered
 * in rt->down first, which the pools count from, then handed to the
 * check or pool trackers that name the target.
 */
void
vrrp_rt_verdict(struct vrrp_rt *rt, const char *target, bool down)
{
	char name[IPC_NAME_MAX];
	size_t i, j;

	if (!down)
		namemap_del(&rt->down, target);
	else if (namemap_get(&rt->down, target) == NULL)
		/* Cannot fail: the name is absent and the value not NULL. */
		(void)namemap_add(&rt->down, target, rt);
	for (i = 0; i < rt->ninsts; i++) {
		struct vrrp_inst *in = rt->insts[i];

		for (j = 0; j < in->conf->ntrack_checks; j++)
			if (vrrp_conf_target_name(name, sizeof(name), in->name,
			        in->conf->track_checks[j].name) &&
			    strcmp(name, target) == 0)
				vrrp_inst_check(in, j, down);
		for (j = 0; j < in->npools; j++)
			if (vrrp_rt_pool_has(&in->pools[j], target))
				vrrp_inst_pool_recount(in, j);
	}
}

struct vrrp_rt *
vrrp_rt_new(struct ev_loop *loop)
{
	struct vrrp_rt *rt = calloc(1, sizeof(*rt));

	if (rt == NULL)
		return NULL;
	rt->loop = loop;
	if (vrrp_addr_init(&rt->nl) != 0)
		log_err("vrrp netlink unavailable: addresses cannot move",
		    "error=%s", log_q(rt->nl.err));
	else
		rt->nl_ok = true;
	if (vrrp_addr_mon_init(&rt->mon) != 0)
		log_err("vrrp link events unavailable: no link tracking",
		    "error=%s", log_q(rt->mon.err));
	else {
		ev_io_init(&rt->mon_io, vrrp_addr_mon_fd(&rt->mon),
		    vrrp_rt_mon_cb, rt);
		ev_io_start(loop, &rt->mon_io, EV_READ);
	}
	return rt;
}

/*
 * The key of ic's auth from its key_file: the file's bytes less one
 * trailing newline (LF or CRLF, so that `openssl rand -hex 32 > key`
 * works), VRRP_AUTH_KEY_MIN to VRRP_AUTH_KEY_MAX bytes. A file others may
 * read or write is refused, not warned about: a key anyone on the host
 * can read authenticates nothing, and a warning in a log is easy to miss
 * (ssh refuses such keys too). 0 or -1 with err set.
 */
static int
vrrp_rt_auth_key(const struct vrrp_instance_conf *ic, struct vrrp_auth_key *k,
    char *err, size_t errlen)
{
	const char *path = ic->auth.key_file;
	uint8_t b[VRRP_AUTH_KEY_MAX + 3];
	struct stat st;
	ssize_t n;
	int fd;

	memset(k, 0, sizeof(*k));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(
		    err, errlen, "auth key_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(
		    err, errlen, "auth key_file %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		snprintf(err, errlen,
		    "auth key_file %s: readable or writable by others (mode "
		    "%04o); chmod o-rw it",
		    path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n < 0) {
		snprintf(
		    err, errlen, "auth key_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (n > 0 && b[n - 1] == '\n')
		n--;
	if (n > 0 && b[n - 1] == '\r')
		n--;
	if (n < VRRP_AUTH_KEY_MIN || n > VRRP_AUTH_KEY_MAX) {
		snprintf(err, errlen,
		    "auth key_file %s: the key must be %d to %d bytes", path,
		    VRRP_AUTH_KEY_MIN, VRRP_AUTH_KEY_MAX);
		OPENSSL_cleanse(b, sizeof(b));
		return -1;
	}
	memcpy(k->bytes, b, (size_t)n);
	k->len = (size_t)n;
	k->id = (uint8_t)ic->auth.key_id;
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

/* Every instance's key, before anything changes. 0 or -1. */
static int
vrrp_rt_auth_keys(const struct vrrp_conf *conf, struct vrrp_auth_key *keys,
    struct conf_errors *errs)
{
	char err[512];
	size_t i;
	int rc = 0;

	for (i = 0; i < conf->ninstances; i++) {
		const struct vrrp_instance_conf *ic = &conf->instances[i];

		if (ic->auth.type == VRRP_CONF_AUTH_NONE)
			continue;
		if (vrrp_rt_auth_key(ic, &keys[i], err, sizeof(err)) != 0) {
			conf_errors_addf(errs, NULL, 0, 0,
			    "vrrp instance %s: %s", ic->name, err);
			rc = -1;
		}
	}
	return rc;
}

static struct vrrp_inst *
vrrp_rt_take(struct vrrp_rt *rt, const struct vrrp_instance_conf *ic)
{
	size_t i;

	for (i = 0; i < rt->ninsts; i++) {
		struct vrrp_inst *in = rt->insts[i];

		if (in != NULL && strcmp(in->name, ic->name) == 0 &&
		    vrrp_inst_same(in, ic)) {
			rt->insts[i] = NULL;
			return in;
		}
	}
	return NULL;
}

/*
 * Diff by name: an instance that is the same router keeps its state and
 * takes the new conf; the others leave (priority 0) and new ones start.
 * New instances are built before anything old is touched, so a config
 * whose interface is missing is rejected with the old one still running.
 */
int
vrrp_rt_apply(struct vrrp_rt *rt, const struct vrrp_conf *conf,
    const struct plane_target *targets, size_t ntargets,
    struct conf_errors *errs)
{
	struct vrrp_inst **next, *in;
	struct vrrp_auth_key *keys;
	bool *kept;
	size_t i, n = conf->ninstances;
	int rc = 0;

	keys = xcalloc(n ? n : 1, sizeof(*keys));
	if (vrrp_rt_auth_keys(conf, keys, errs) != 0) {
		OPENSSL_cleanse(keys, (n ? n : 1) * sizeof(*keys));
		free(keys);
		return -1;
	}
	next = calloc(n ? n : 1, sizeof(*next));
	kept = calloc(n ? n : 1, sizeof(*kept));
	if (next == NULL || kept == NULL) {
		free(next);
		free(kept);
		free(keys);
		conf_errors_addf(errs, NULL, 0, 0, "vrrp: out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		next[i] = vrrp_rt_take(rt, &conf->instances[i]);
		kept[i] = next[i] != NULL;
		if (next[i] == NULL &&
		    (next[i] = vrrp_inst_new(rt, &conf->instances[i], errs)) ==
		        NULL)
			rc = -1;
	}
	if (rc != 0) {
		/* Give the taken ones back, drop the new ones. */
		for (i = 0; i < n; i++) {
			if (next[i] == NULL)
				continue;
			if (kept[i]) {
				size_t j;

				for (j = 0; j < rt->ninsts; j++)
					if (rt->insts[j] == NULL) {
						rt->insts[j] = next[i];
						break;
					}
			} else
				vrrp_inst_free(next[i]);
		}
		OPENSSL_cleanse(keys, n * sizeof(*keys));
		free(keys);
		free(next);
		free(kept);
		return -1;
	}
	for (i = 0; i < rt->ninsts; i++) {
		if ((in = rt->insts[i]) == NULL)
			continue;
		vrrp_inst_shutdown(in);
		vrrp_inst_free(in);
	}
	free(rt->insts);
	rt->insts = next;
	rt->ninsts = n;
	/* Keys before the first advert of a new instance goes out. */
	for (i = 0; i < n; i++)
		vrrp_auth_set(&next[i]->auth,
		    conf->instances[i].auth.type == VRRP_CONF_AUTH_NONE ?
		        NULL :
		        &keys[i],
		    conf->instances[i].npeers, util_wall_ms() * 1000);
	OPENSSL_cleanse(keys, n * sizeof(*keys));
	free(keys);
	for (i = 0; i < n; i++) {
		vrrp_inst_pools_bind(
		    next[i], &conf->instances[i], targets, ntargets);
		if (kept[i])
			vrrp_inst_update(next[i], &conf->instances[i]);
		else
			vrrp_inst_start(next[i]);
	}
	free(kept);
	return 0;
}

void
vrrp_rt_stop(struct vrrp_rt *rt)
{
	size_t i;

	rt->stopping = true;
	for (i = 0; i < rt->ninsts; i++)
		vrrp_inst_shutdown(rt->insts[i]);
}

void
vrrp_rt_free(struct vrrp_rt *rt)
{
	size_t i;

	if (rt == NULL)
		return;
	vrrp_notify_free(rt);
	for (i = 0; i < rt->ninsts; i++)
		vrrp_inst_free(rt->insts[i]);
	free(rt->insts);
	while (rt->nsocks > 0)
		vrrp_rt_sock_put(rt, rt->socks[0]);
	free(rt->socks);
	ev_io_stop(rt->loop, &rt->mon_io);
	namemap_fini(&rt->down);
	vrrp_addr_mon_fini(&rt->mon);
	vrrp_addr_fini(&rt->nl);
	free(rt);
}
