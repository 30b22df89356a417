/*
 * client.c - see client.h.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/config.h"
#include "lib/conf.h"
#include "lib/http1.h"
#include "lib/util.h"

#define CLIENT_TIMEOUT_MS 10000

/* Load FILE for its api section; NULL after printing its errors. */
static struct haven_conf *
client_conf(const char *path)
{
	struct haven_conf *c = xcalloc(1, sizeof(*c));
	struct conf_errors errs;

	conf_errors_init(&errs);
	if (haven_conf_load(path, c, &errs) != 0) {
		conf_errors_print(&errs, stderr);
		conf_errors_fini(&errs);
		free(c);
		return NULL;
	}
	conf_errors_fini(&errs);
	return c;
}

int
client_target_init(struct client_target *t, const char *sock_opt,
    const char *addr_opt, const char *conf_opt)
{
	const char *env_sock = getenv("HAVEN_SOCKET");
	const char *env_addr = getenv("HAVEN_ADDR");
	const char *env_token = getenv("HAVEN_TOKEN");
	struct haven_conf *c = NULL;

	memset(t, 0, sizeof(*t));
	if (addr_opt == NULL && sock_opt == NULL && conf_opt == NULL &&
	    env_addr != NULL && *env_addr)
		addr_opt = env_addr;
	/* The config is read for its socket, or for the token TCP needs. */
	if (conf_opt != NULL && sock_opt == NULL &&
	    (c = client_conf(conf_opt)) == NULL)
		return -1;
	if (sock_opt != NULL || addr_opt == NULL) {
		t->sock = xstrdup(sock_opt    ? sock_opt :
		        c != NULL             ? c->api.socket :
		        env_sock && *env_sock ? env_sock :
		                                HAVEN_DEFAULT_SOCKET);
		snprintf(t->where, sizeof(t->where), "%s", t->sock);
	} else if (conf_parse_addr(addr_opt, true, &t->addr) != 0) {
		fprintf(stderr, "haven: bad address %s (want ADDR:PORT)\n",
		    addr_opt);
		goto fail;
	} else {
		conf_addr_str(&t->addr, t->where, sizeof(t->where));
		if (env_token != NULL && *env_token)
			t->token = xstrdup(env_token);
		else if (c != NULL && c->api.token != NULL)
			t->token = xstrdup(c->api.token);
		else if (c != NULL && c->api.read_token != NULL)
			t->token = xstrdup(c->api.read_token);
	}
	if (c != NULL) {
		haven_conf_free(c);
		free(c);
	}
	return 0;
fail:
	if (c != NULL) {
		haven_conf_free(c);
		free(c);
	}
	return -1;
}

void
client_target_fini(struct client_target *t)
{
	free(t->sock);
	free(t->token);
	t->sock = t->token = NULL;
}

static int
client_connect(const char *sock)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(sock) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "haven: socket path too long: %s\n", sock);
		return -1;
	}
	strcpy(sun.sun_path, sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr,
		    "haven: cannot reach the daemon at %s: %s\n"
		    "  (is `haven run` running? use -c FILE or -s "
		    "SOCKET to point at it)\n",
		    sock, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static int
client_connect_tcp(const struct client_target *t)
{
	socklen_t len = t->addr.ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1 ||
	    connect(fd, (const struct sockaddr *)&t->addr, len) == -1) {
		fprintf(stderr, "haven: cannot reach the daemon at %s: %s\n",
		    t->where, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static int
client_send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
client_request(const struct client_target *t, const char *method,
    const char *path, const char *body, size_t body_len, struct buf *out)
{
	const struct http1_limits lim = { 64 * 1024, HTTP1_MAX_HDRS };
	const char *sock = t->where;
	struct http1_resp resp;
	struct buf req, in;
	int fd, status = -1, r = HTTP1_AGAIN;

	fd = t->sock ? client_connect(t->sock) : client_connect_tcp(t);
	if (fd == -1)
		return -1;
	buf_init(&req);
	buf_init(&in);
	/* Host: the address itself, which the daemon's Host check accepts. */
	buf_printf(&req,
	    "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n",
	    method, path, t->sock ? "localhost" : t->where, body_len);
	if (t->token != NULL)
		buf_printf(&req, "Authorization: Bearer %s\r\n", t->token);
	buf_printf(&req, "%s\r\n",
	    body_len ? "Content-Type: application/json\r\n" : "");
	if (body_len)
		buf_append(&req, body, body_len);
	if (client_send_all(fd, req.data, req.len) != 0)
		goto fail;
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&pfd, 1, CLIENT_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "haven: no answer from %s\n", sock);
			goto out;
		}
		n = recv(fd, buf_reserve(&in, 65536), 65536, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		in.len += (size_t)n;
		in.data[in.len] = '\0';
	}
	r = http1_parse_response(in.data ? in.data : "", in.len, &lim, &resp);
	if (r != HTTP1_DONE)
		goto fail;
	if (resp.m.content_length >= 0 &&
	    in.len - resp.m.head_len < (size_t)resp.m.content_length)
		goto fail;
	buf_append(out, in.data + resp.m.head_len,
	    resp.m.content_length >= 0 ? (size_t)resp.m.content_length :
	                                 in.len - resp.m.head_len);
	status = resp.status;
	goto out;
fail:
	fprintf(stderr, "haven: bad or truncated answer from %s\n", sock);
out:
	close(fd);
	buf_fini(&req);
	buf_fini(&in);
	return status;
}
