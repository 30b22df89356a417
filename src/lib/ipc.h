/*
 * ipc.h - typed messages between the parent and its children over
 * SOCK_SEQPACKET socketpairs: one message per packet, boundaries kept by the
 * kernel, optional file descriptor passed with SCM_RIGHTS.
 *
 * A message is a struct ipc_hdr followed by len bytes of payload. Payloads
 * larger than IPC_INLINE_MAX travel in a sealed memfd passed alongside the
 * header (IPC_F_MEMFD); the receiver maps it back transparently, so callers
 * never see the difference. Both ends run the same binary, so payload structs
 * are sent as they are laid out in memory.
 *
 * Sending never blocks: packets the socket cannot take now are queued and
 * flushed when it becomes writable. A peer that stops reading until the queue
 * exceeds IPC_QUEUE_MAX is considered dead (the channel reports an error).
 */
#ifndef HAVEN_IPC_H
#define HAVEN_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "ev.h"

#define IPC_INLINE_MAX (32 * 1024)
#define IPC_QUEUE_MAX  (64 * 1024 * 1024)
#define IPC_NAME_MAX   128 /* target / object names in fixed payloads */

enum ipc_type {
	IPC_NONE,
	/* parent -> child: config text (memfd-backed payload). */
	IPC_CONFIG,
	/* child -> parent: struct ipc_config_result + error text. */
	IPC_CONFIG_RESULT,
	/* child -> parent: initialised and serving. */
	IPC_READY,
	/* parent -> child: struct ipc_query + request body. */
	IPC_QUERY,
	/* child -> parent: struct ipc_reply + JSON/text body; id echoes. */
	IPC_REPLY,
	/* hc -> parent -> subscribers: struct ipc_verdict. */
	IPC_VERDICT,
	/* lb -> parent -> hc: struct ipc_passive. */
	IPC_PASSIVE,
	/* parent -> child: stop gracefully; payload uint32_t deadline ms. */
	IPC_STOP,
	/* parent -> child: a socket (fd) of the plane, struct ipc_listener;
	 * the next IPC_CONFIG or IPC_SOCKETS makes those sent since the
	 * last one the process's whole set. */
	IPC_LISTENER,
	/* parent -> child: struct ipc_hello (identity, worker index). */
	IPC_HELLO,
	/* parent -> child: no payload; the sockets sent since the last
	 * config or IPC_SOCKETS are now the set (a worker went or came). */
	IPC_SOCKETS,
	/* dns worker -> parent -> worker 0 of the dns plane: the serial of
	 * each zone the worker serves, after each apply (payload and
	 * contract: dns/dns_xfr.h, struct dns_notify_report). */
	IPC_ZONE_SERIALS,
	IPC__COUNT
};

#define IPC_F_MEMFD 0x1u /* payload is in the passed memfd */
#define IPC_F_FD    0x2u /* a descriptor for the caller is attached */

struct ipc_hdr {
	uint16_t type;
	uint16_t flags;
	uint32_t len; /* payload bytes */
	uint32_t id;  /* request/reply correlation; 0 if unused */
	uint32_t pad;
};

struct ipc_hello {
	char plane[16];
	uint32_t worker; /* index among the plane's workers */
	uint32_t nworkers;
};

struct ipc_config_result {
	int32_t ok; /* 1: applied; 0: rejected, errors follow as text */
};

struct ipc_query {
	char method[8];
	char path[512];
	uint32_t body_len; /* body follows the struct */
};

struct ipc_reply {
	int32_t status; /* HTTP status */
	char content_type[48];
	uint32_t body_len;
};

/* Health verdict states and the reasons behind them: see hc/hc.h. */
struct ipc_verdict {
	char target[IPC_NAME_MAX]; /* "pool/server" or a check's own name */
	int32_t state;             /* enum hc_state */
	int32_t reason;            /* enum hc_reason */
	uint64_t since_ms;         /* wall clock */
	int32_t gone; /* 1: the target left the config: forget it */
	/* enum hc_state the active probes alone give, before damping and
	 * passive ejection (hc_sm_probe_state): UP on a held-down target
	 * means it answers and may be used when nothing better is left. */
	int32_t probe_state;
};

struct ipc_passive {
	char target[IPC_NAME_MAX];
	int32_t kind; /* enum hc_reason of the observed failure */
};

struct ipc_listener {
	char name[IPC_NAME_MAX]; /* struct plane_sock_spec's */
	uint32_t slot;           /* the worker whose socket it is */
	int32_t adopted;         /* 1: slot's worker is down for now */
};

/* A received message. data is valid during the callback only. */
struct ipc_msg {
	enum ipc_type type;
	uint32_t id;
	const void *data; /* borrowed */
	size_t len;
	int fd; /* passed descriptor, -1 if none; the callback owns it */
};

struct ipc_chan;
/* msg NULL means the channel failed or the peer closed; no more calls. */
typedef void ipc_recv_fn(
    struct ipc_chan *ch, const struct ipc_msg *msg, void *arg);

struct ipc_pkt;

struct ipc_chan {
	int fd;               /* owned */
	struct ev_loop *loop; /* borrowed */
	struct ev_io io;
	ipc_recv_fn *cb;
	void *arg;                     /* borrowed */
	struct ipc_pkt *qhead, *qtail; /* owned: unsent packets */
	size_t qbytes;
	int dead;
	unsigned long tx_msgs, rx_msgs, rx_bad;
};

/* Make a socketpair(AF_UNIX, SOCK_SEQPACKET). Returns 0 or -errno. */
int ipc_pair(int fds[2]);
/* Take ownership of fd and start reading. */
void ipc_chan_init(struct ipc_chan *ch, struct ev_loop *loop, int fd,
    ipc_recv_fn *cb, void *arg);
/* Stop and close; drops unsent packets. Idempotent. */
void ipc_chan_fini(struct ipc_chan *ch);
/*
 * Queue a message. pass_fd (or -1) is duplicated, so the caller keeps its
 * own. Returns 0, or -errno if the channel is dead.
 */
int ipc_send(struct ipc_chan *ch, enum ipc_type type, uint32_t id,
    const void *data, size_t len, int pass_fd);
/* Same with the payload gathered from two pieces (struct + body). */
int ipc_send2(struct ipc_chan *ch, enum ipc_type type, uint32_t id,
    const void *a, size_t alen, const void *b, size_t blen, int pass_fd);
/* Block until the queue is flushed or timeout_ms passes (shutdown path). */
int ipc_flush(struct ipc_chan *ch, int timeout_ms);

/* The type's name for metrics and logs ("verdict"), "unknown" if none. */
const char *ipc_type_name(enum ipc_type type);

#endif
