/*
 * api.h - the control API's HTTP/1.1 server: JSON over a unix socket (mode
 * 0600) and optionally over TCP, where a bearer token may be required.
 *
 * The server parses requests with http1.c (strict: malformed → 400, oversized
 * head → 431, oversized body → 413, each with a JSON error body), then hands
 * each complete request to one handler. The handler answers with
 * api_reply(), either at once or later (the parent forwards some requests to
 * a child and answers when the child replies). If the client goes away first,
 * the request is orphaned and api_reply() just frees it.
 *
 * One request at a time per connection; keep-alive supported. Connections are
 * bounded in number, head-read time and idle time.
 */
#ifndef HAVEN_API_H
#define HAVEN_API_H

#include <sys/types.h>
#include <sys/socket.h>

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

struct api_stats {
	unsigned long requests;
	unsigned long bad_requests; /* 4xx produced by the server itself */
	unsigned long unauthorized;
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
 * Listen on a unix socket (created 0600). A stale socket file is replaced;
 * one a process still answers on is not: -EADDRINUSE.
 */
int api_listen_unix(struct api_server *s, const char *path);
/* Listen on TCP; token (may be NULL) is then required as a bearer token. */
int api_listen_tcp(
    struct api_server *s, const struct sockaddr_storage *ss, const char *token);
const struct api_stats *api_server_stats(const struct api_server *s);

/* Answer and free req. body may be NULL. content_type NULL: JSON. */
void api_reply(struct api_req *req, int status, const char *content_type,
    const char *body, size_t len);
/* Answer {"error": msg, "status": status}. */
void api_error(struct api_req *req, int status, const char *msg);
/* Percent-decode s in place; returns -1 on a malformed escape. */
int api_unescape(char *s);

#endif
