/*
 * client.h - the CLI side of the control API: a blocking HTTP/1.1 client over
 * the daemon's unix socket, and how the CLI finds that socket.
 */
#ifndef HAVEN_CLIENT_H
#define HAVEN_CLIENT_H

#include "lib/buf.h"

#define HAVEN_DEFAULT_CONFIG "/etc/haven/haven.yaml"
#define HAVEN_DEFAULT_SOCKET "/run/haven/haven.sock"

/*
 * The socket to talk to: -s SOCKET if given, else the api.socket of the
 * config FILE (-c), else $HAVEN_SOCKET, else the default. Returns an owned
 * string, or NULL after printing why (a config that cannot be read).
 */
char *client_socket(const char *sock_opt, const char *conf_opt);
/*
 * One request; the response body goes to out. Returns the HTTP status, or -1
 * after printing why the daemon could not be reached.
 */
int client_request(const char *sock, const char *method, const char *path,
    const char *body, size_t body_len, struct buf *out);

#endif
