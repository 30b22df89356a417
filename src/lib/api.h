/*
 * api.h - the control API's HTTP/1.1 server: JSON over a unix socket and
 * optionally over TCP.
 *
 * The server parses requests with http1.c (strict: malformed → 400, oversized
 * head → 431, oversized body → 413, each with a JSON error body), then hands
 * each complete request to one handler. The handler answers with
 * api_reply(), either at once or later (the parent forwards some requests to
 * a child and answers when the child replies). If the client goes away first,
 * the request is orphaned and api_reply() just frees it.
 *
 * Access is decided here, before the handler sees a request, in two levels:
 * read (GET and HEAD) and admin (every method). On TCP a bearer token gives
 * the level (compared in constant time); on the unix socket the peer's
 * credentials do (SO_PEERCRED: root, our own uid or a member of the admin
 * group is admin, a member of the read group is read, anyone else is
 * refused). A request with an Origin header, or on TCP with a Host that is
 * not the listener's own address, localhost or a configured name, is
 * refused: a browser on the host (CSRF, DNS rebinding) never gets through.
 * Every refusal is counted by reason.
 *
 * One request at a time per connection; keep-alive supported. Connections are
 * bounded in number, head-read time and idle time.
 */
#ifndef HAVEN_API_H
#define HAVEN_API_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ev.h"

struct api_server;
struct api_conn;

struct api_req {
	struct api_conn *conn; /* weak: NULL once the client has gone */
	char method[16];
	char *path;  /* owned: the path without the query string */
	char *query; /* owned: after '?', or "" */
	char *body;  /* owned: NUL-terminated, may hold NULs */
	size_t body_len;
	uint64_t start_us;
};

typedef void api_handler_fn(struct api_req *req, void *arg);

enum api_level {
	API_LEVEL_NONE,
	API_LEVEL_READ,  /* GET and HEAD */
	API_LEVEL_ADMIN, /* every method */
};

/* Why a request was refused before its handler saw it. */
enum api_refuse {
	API_REFUSE_NO_TOKEN,  /* TCP, no Authorization: 401 */
	API_REFUSE_BAD_TOKEN, /* TCP, a token that is neither: 401 */
	API_REFUSE_READ_ONLY, /* read level, a method that writes: 403 */
	API_REFUSE_PEER,      /* unix, a peer in neither group: 403 */
	API_REFUSE_ORIGIN,    /* an Origin header: a browser sent it: 403 */
	API_REFUSE_HOST,      /* TCP, a Host that is not ours: 403 */
	API_REFUSE_N,
};

#define API_NO_GID ((gid_t)-1)

/* Who may do what on one listener; the server copies what it keeps. */
struct api_access {
	const char *token;      /* borrowed: TCP admin token, NULL: none */
	const char *read_token; /* borrowed: TCP read-only token, NULL: none */
	bool no_token; /* TCP: the operator waived tokens: all are admin */
	const char *const *hosts; /* borrowed: more Host names TCP accepts */
	size_t nhosts;
	gid_t group;      /* unix: members are admin; API_NO_GID: none */
	gid_t read_group; /* unix: members are read; API_NO_GID: none */
};

struct api_stats {
	unsigned long requests;
	unsigned long bad_requests; /* 4xx produced by the server itself */
	unsigned long refused[API_REFUSE_N];
	unsigned long conn_rejected; /* over the connection limit */
	unsigned long timeouts;
	unsigned long accepted;
};

struct api_server *api_server_new(
    struct ev_loop *loop, api_handler_fn *fn, void *arg, size_t max_body);
void api_server_free(struct api_server *s);
/*
 * Whether a process answers on the unix socket path: 0 if none does (no
 * file, or a stale one nobody listens on), -EADDRINUSE if one does (its pid
 * in *pid when the kernel tells, else 0), another -errno if we cannot tell.
 */
int api_unix_probe(const char *path, pid_t *pid);
/*
 * Listen on a unix socket. A stale socket file is replaced; one a process
 * still answers on is not: -EADDRINUSE. The file is 0600 (only root and our
 * uid can connect), 0660 with a.group as its group, 0666 when a.read_group
 * is set (then the peer check alone decides). a NULL: no groups.
 */
int api_listen_unix(
    struct api_server *s, const char *path, const struct api_access *a);
/*
 * Listen on TCP. Requests need a.token or a.read_token as a bearer token,
 * unless a.no_token.
 */
int api_listen_tcp(struct api_server *s, const struct sockaddr_storage *ss,
    const struct api_access *a);
/* New tokens and Host names for every TCP listener (a reload). */
void api_server_set_tcp_access(
    struct api_server *s, const struct api_access *a);
const struct api_stats *api_server_stats(const struct api_server *s);
/* "no_token", "bad_token", ... as in /metrics. */
const char *api_refuse_name(enum api_refuse r);

/* Answer and free req. body may be NULL. content_type NULL: JSON. */
void api_reply(struct api_req *req, int status, const char *content_type,
    const char *body, size_t len);
/* Answer {"error": msg, "status": status}. */
void api_error(struct api_req *req, int status, const char *msg);
/* Percent-decode s in place; returns -1 on a malformed escape. */
int api_unescape(char *s);

#endif
