/*
 * parent.h - the parent process of `haven run`: owns the config, supervises
 * one child per plane worker (sup.c), serves the control API (parent_api.c)
 * and relays messages between planes (parent_relay.c): health verdicts from
 * the health plane to every subscriber, passive reports back to it; which
 * plane is which is in the registry (cmd/planes.h).
 *
 * The parent never does data-plane work, so a bug in a plane cannot take the
 * supervisor, the API or the other planes down with it.
 */
#ifndef HAVEN_PARENT_H
#define HAVEN_PARENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/config.h"
#include "cmd/sup.h"
#include "lib/api.h"
#include "lib/ev.h"
#include "lib/ipc.h"
#include "lib/namemap.h"

struct parent_query;

/*
 * An operator's change to a plane whose row replays them (lb's drain,
 * disable, enable, weight), kept so a worker that restarts gets it again:
 * the API promised it.
 */
struct parent_op {
	struct parent_op *next;      /* owned list link */
	const struct plane_row *row; /* borrowed: static, the plane */
	char *key;                   /* owned: the plane's replay_key of path */
	char *path;                  /* owned: the request path */
	char *body;                  /* owned */
	size_t body_len;
};

/* A socket a plane serves on, held by the parent (parent_socks.c). */
struct parent_sock {
	const struct plane_row *row; /* borrowed: static, the plane's */
	struct plane_sock_spec spec;
	unsigned slot; /* the worker it is for */
	int fd;        /* owned; -1 once handed on */
	/* PLANE_SOCK_XDP (parent_xdp.c): the umem's memfd, sent after fd;
	 * -1 for other sockets */
	int umem_fd;            /* owned */
	struct xdp_filter *xdp; /* owned: the program; NULL for others */
	/* prepare only: the running socket this one takes over, or NULL */
	struct parent_sock *from; /* borrowed */
	bool taken;               /* prepare only: claimed by a new one */
};

struct parent_sockset {
	struct parent_sock *v; /* owned array */
	size_t n, cap;
};

struct parent {
	struct ev_loop *loop;    /* owned */
	struct haven_conf *conf; /* owned: the config in effect */
	char *conf_path;         /* owned */
	uint64_t started_ms;     /* wall clock */
	uint64_t started_mono_ms;
	uint64_t conf_loaded_ms; /* wall clock */
	struct sup *sup;         /* owned */
	struct api_server *api;  /* owned */
	/*
	 * Last verdict per target name, replayed to every (re)started
	 * subscriber: values are owned struct ipc_verdict, freed by
	 * parent_relay_fini.
	 */
	struct namemap vtab;
	struct parent_sock *socks; /* owned: the planes' sockets in use */
	size_t nsocks;
	struct parent_query *queries; /* owned list of requests in flight */
	struct parent_op *ops;        /* owned: changes to replay */
	uint32_t next_id;
	/* id of the config in effect: every IPC_CONFIG carries it, so a
	 * child's result names the config it answers (a reload's query) */
	uint32_t config_id;
	int lock_fd; /* owned: flock on state_dir/haven.lock, -1 if none */
	bool stopping;
	/* counters for /metrics */
	unsigned long reloads_ok, reloads_failed;
	unsigned long verdicts_relayed, passive_relayed;
	unsigned long ipc_unexpected;
	/* Messages a child sent that its row does not allow: per row, type. */
	unsigned long ipc_dropped[PLANES_MAX][IPC__COUNT];
	unsigned long ipc_send_failed; /* messages a child's channel refused */
};

/* parent.c */
/*
 * Dispatch a message from child c: types its row does not allow are
 * dropped and counted in ipc_dropped.
 */
void parent_child_msg(struct sup_child *c, const struct ipc_msg *m, void *arg);
int parent_reload(struct parent *p, struct buf *errtext);
void parent_apply_planes(struct parent *p);
/* How many processes a plane runs under the config in effect (0: off). */
unsigned parent_plane_procs(
    const struct parent *p, const struct plane_row *row);

/* parent_single.c */
/*
 * Lock the state directory and make sure no daemon answers on the API
 * socket; 0, or -errno after logging which pid is in the way.
 */
int parent_single_start(struct parent *p);
void parent_single_stop(struct parent *p);

/* parent_socks.c */
/*
 * Open what next declares and the running set lacks, into set; the running
 * set is untouched. On a failure (reported to errs) nothing stays open and
 * -errno is returned.
 */
int parent_socks_prepare(struct parent *p, const struct haven_conf *next,
    struct parent_sockset *set, struct conf_errors *errs);
/* Make a prepared set the running one; close what it does not keep. */
void parent_socks_commit(struct parent *p, struct parent_sockset *set);
void parent_socks_abort(struct parent_sockset *set);
void parent_socks_fini(struct parent *p);

/* parent_xdp.c: open the AF_XDP socket and filter of ps->spec into ps
 * (0 or a negative errno, logged), make a kept one follow a changed spec,
 * close one. */
int parent_xdp_open(struct parent_sock *ps);
/*
 * What the parent needs to hold for the sockets c declares, beyond
 * binding them: with an XDP socket, CAP_BPF and CAP_NET_ADMIN (program,
 * map, link), CAP_NET_RAW (AF_XDP) and CAP_IPC_LOCK (the umem), kept
 * for reloads. A config that adds one later than the start finds them
 * gone and serves on its sockets (parent_xdp_open logs why).
 */
uint64_t parent_socks_caps(const struct haven_conf *c);
void parent_xdp_refresh(struct parent_sock *ps);
void parent_xdp_close(struct parent_sock *ps);
/*
 * Send c its plane's sockets: its own slot's, and those of slots whose
 * worker is down (adopted). The next IPC_CONFIG or IPC_SOCKETS commits.
 */
void parent_socks_send(struct parent *p, struct sup_child *c);
/* changed's worker went down or came back: the plane's others get their
 * new set (IPC_SOCKETS). */
void parent_socks_push(struct parent *p, const struct sup_child *changed);

/* parent_api.c */
void parent_api_handle(struct api_req *req, void *arg);
/* The plane whose API prefix path falls under, or NULL. */
const struct plane_row *parent_api_route(const char *path);
/* Who may use the API under config c (borrows c's strings). */
void parent_api_access(const struct haven_conf *c, struct api_access *a);
void parent_api_reply_msg(
    struct parent *p, struct sup_child *c, const struct ipc_msg *m);
/* Child c applied (ok) or refused the config of id; text: its errors. */
void parent_api_config_result(struct parent *p, struct sup_child *c,
    uint32_t id, bool ok, const char *text, size_t len);
void parent_api_child_gone(struct parent *p, struct sup_child *c);
void parent_api_fini(struct parent *p);
/* Replay recorded operator changes to a (re)started lb worker. */
void parent_api_replay_ops(struct parent *p, struct sup_child *c);

/* parent_relay.c */
/* ipc_send() to c, counting a refusal in ipc_send_failed. */
void parent_send(struct parent *p, struct sup_child *c, enum ipc_type type,
    const void *data, size_t len);
void parent_relay_verdict(struct parent *p, const struct ipc_msg *m);
void parent_relay_passive(struct parent *p, const struct ipc_msg *m);
/* m, from a worker of from's plane, to worker 0 of that plane if its row
 * receives m's type (a worker 0 that sent it gets it back). */
void parent_relay_worker0(
    struct parent *p, const struct sup_child *from, const struct ipc_msg *m);
/* Send the whole verdict table to a new subscriber. */
void parent_relay_replay(struct parent *p, struct sup_child *c);
/* Free the verdict table: its verdicts and the map. */
void parent_relay_fini(struct parent *p);
/* The health plane went away: every subscriber forgets every verdict. */
void parent_relay_forget_all(struct parent *p);
/* Whether plane's row receives messages of type (verdicts...). */
bool parent_plane_receives(const char *plane, enum ipc_type type);

#endif
