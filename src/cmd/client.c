/*
 * client.c - see client.h.
 */
#include <sys/socket.h>
#include <sys/un.h>

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

char *
client_socket(const char *sock_opt, const char *conf_opt)
{
	struct haven_conf c;
	struct conf_errors errs;
	const char *env = getenv("HAVEN_SOCKET");
	char *s;

	if (sock_opt != NULL)
		return xstrdup(sock_opt);
	if (conf_opt == NULL)
		return xstrdup(env && *env ? env : HAVEN_DEFAULT_SOCKET);
	conf_errors_init(&errs);
	memset(&c, 0, sizeof(c));
	if (haven_conf_load(conf_opt, &c, &errs) != 0) {
		conf_errors_print(&errs, stderr);
		conf_errors_fini(&errs);
		return NULL;
	}
	s = xstrdup(c.api.socket);
	haven_conf_free(&c);
	conf_errors_fini(&errs);
	return s;
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
client_request(const char *sock, const char *method, const char *path,
    const char *body, size_t body_len, struct buf *out)
{
	const struct http1_limits lim = { 64 * 1024, HTTP1_MAX_HDRS };
	struct http1_resp resp;
	struct buf req, in;
	int fd, status = -1, r = HTTP1_AGAIN;

	if ((fd = client_connect(sock)) == -1)
		return -1;
	buf_init(&req);
	buf_init(&in);
	buf_printf(&req,
	    "%s %s HTTP/1.1\r\nHost: haven\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n%s\r\n",
	    method, path, body_len,
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
