/*
 * parent_single.c - one daemon per state directory and per API socket.
 *
 * A second `haven run` given the same state directory would overwrite the
 * first one's state file, split its traffic through SO_REUSEPORT and, by
 * unlinking its socket, leave it without a control API for good. So before
 * touching the socket, a port or the state, the parent takes the state
 * directory's lock (lib/pidlock.h) and checks that no process still answers
 * on the API socket. Either failure names the running pid and stops the
 * start with exit 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/parent.h"
#include "lib/log.h"
#include "lib/pidlock.h"

int
parent_single_start(struct parent *p)
{
	const char *dir = p->conf->haven.state_dir;
	const char *sock = p->conf->api.socket;
	pid_t holder = 0;
	int fd, e;

	p->lock_fd = -1;
	if ((fd = pidlock_acquire(dir, &holder)) == -EWOULDBLOCK) {
		log_err("another haven runs on this state directory; not "
		        "starting",
		    "state_dir=%s lock=%s/%s pid=%d", log_q(dir), log_q(dir),
		    PIDLOCK_NAME, (int)holder);
		return -EWOULDBLOCK;
	}
	if (fd < 0) {
		log_err("cannot lock the state directory",
		    "state_dir=%s error=%s", log_q(dir), log_q(strerror(-fd)));
		return fd;
	}
	p->lock_fd = fd;
	/*
	 * The socket may belong to a daemon with another state directory:
	 * its pid then comes from the socket's peer credentials.
	 */
	if ((e = api_unix_probe(sock, &holder)) == -EADDRINUSE) {
		log_err("another haven answers on the API socket; not starting",
		    "socket=%s pid=%d", log_q(sock), (int)holder);
		return e;
	}
	if (e != 0) {
		log_err("cannot check the API socket", "socket=%s error=%s",
		    log_q(sock), log_q(strerror(-e)));
		return e;
	}
	return 0;
}

void
parent_single_stop(struct parent *p)
{
	/* The lock goes with the descriptor; the file stays for the next. */
	if (p->lock_fd >= 0)
		close(p->lock_fd);
	p->lock_fd = -1;
}
