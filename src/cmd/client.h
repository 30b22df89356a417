/*
 * client.h - the CLI side of the control API: a blocking HTTP/1.1 client over
 * the daemon's unix socket (where the kernel vouches for who we are) or its
 * TCP listener (where a bearer token does), and how the CLI finds them.
 */
#ifndef HAVEN_CLIENT_H
#define HAVEN_CLIENT_H

#include <sys/socket.h>

#include "lib/buf.h"

#define HAVEN_DEFAULT_CONFIG "/etc/haven/haven.yaml"
#define HAVEN_DEFAULT_SOCKET "/run/haven/haven.sock"

struct client_target {
	char *sock;                   /* owned: unix socket, NULL: TCP */
	struct sockaddr_storage addr; /* TCP */
	char where[112];              /* for messages and the Host header */
	char *token;                  /* owned, NULL: no Authorization */
};

/*
 * Where to talk: -s SOCKET; else TCP to -a ADDR:PORT; else the api.socket
 * of the config FILE (-c); else $HAVEN_ADDR (TCP), $HAVEN_SOCKET, the
 * default socket. On TCP the token is $HAVEN_TOKEN, else FILE's api.token,
 * else its api.read_token. Returns 0, or -1 after printing why.
 */
int client_target_init(struct client_target *t, const char *sock_opt,
    const char *addr_opt, const char *conf_opt);
void client_target_fini(struct client_target *t);
/*
 * One request; the response body goes to out. Returns the HTTP status, or -1
 * after printing why the daemon could not be reached.
 */
int client_request(const struct client_target *t, const char *method,
    const char *path, const char *body, size_t body_len, struct buf *out);

#endif
