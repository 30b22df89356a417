"""proc - processes under test, with their output kept in the test's dir.

A Proc is one child started in its own session (process group), so stop()
and cleanup reach the helpers it forks too. stdout and stderr go to
LOGDIR/NAME.log, never to a pipe nobody reads (a full pipe would stall the
child and look like a bug in it). Every Proc is recorded in a module-level
registry and killed with its group at interpreter exit, so an aborted test
leaves no process behind.

Faults a test can inject: stop() (SIGTERM, then SIGKILL after a grace
period), kill() (SIGKILL, a crash), pause()/resume() (SIGSTOP/SIGCONT, a
hung process that keeps its sockets).
"""

import atexit
import os
import re
import signal
import subprocess

from .poll import wait_until

_live = []


class Proc:
    """One started process; see the module comment."""

    def __init__(self, argv, logdir, name=None, env=None, ns=None, cwd=None,
                 stdin=subprocess.DEVNULL):
        self.name = name or os.path.basename(str(argv[0]))
        self.argv = [str(a) for a in argv]
        if ns is not None:
            self.argv = ns.wrap(self.argv)
        os.makedirs(str(logdir), exist_ok=True)
        self.log_path = os.path.join(str(logdir), self.name + ".log")
        full_env = dict(os.environ)
        full_env.update(env or {})
        with open(self.log_path, "ab") as log:
            log.write(("# %s\n" % " ".join(self.argv)).encode())
            log.flush()
            # `ip netns exec` execs the command, so the pid is the target.
            self.popen = subprocess.Popen(
                self.argv, stdin=stdin, stdout=log, stderr=subprocess.STDOUT,
                env=full_env, cwd=cwd, start_new_session=True)
        self.pid = self.popen.pid
        _live.append(self)

    def __repr__(self):
        return "<Proc %s pid=%d rc=%r>" % (self.name, self.pid,
                                            self.popen.poll())

    @property
    def returncode(self):
        return self.popen.poll()

    def alive(self):
        return self.popen.poll() is None

    def signal(self, sig, group=False):
        """Send sig to the process (or its whole group); no-op once reaped."""
        if not self.alive():
            return
        try:
            if group:
                os.killpg(self.pid, sig)
            else:
                os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def wait(self, timeout=10.0):
        """Wait for exit and return the exit code (-N for signal N)."""
        return self.popen.wait(timeout=timeout)

    def stop(self, timeout=5.0):
        """SIGTERM, then SIGKILL to the group after `timeout`. Idempotent."""
        if self.alive():
            self.signal(signal.SIGCONT)  # a paused process cannot exit
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self._reap_group()
        return self.popen.poll()

    def kill(self, group=False):
        """SIGKILL: a crash, no chance to clean up. Returns the exit code."""
        self.signal(signal.SIGKILL, group=group)
        return self.popen.wait(timeout=10)

    def pause(self):
        self.signal(signal.SIGSTOP)

    def resume(self):
        self.signal(signal.SIGCONT)

    def _reap_group(self):
        # Children that outlived their parent still hold ports and sockets.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self in _live:
            _live.remove(self)

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def log_tail(self, lines=30):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_for_log(self, pattern, timeout=10.0):
        """Wait until the log matches regex `pattern`; return the match.

        Fails early, with the log's tail, if the process exits first.
        """
        rx = re.compile(pattern, re.M)

        def check():
            # Skip our own "# argv" header: it must not satisfy a pattern.
            text = self.log_text()
            m = rx.search(text, text.find("\n") + 1)
            if m is None and not self.alive():
                raise AssertionError(
                    "%s exited (rc=%s) before logging %r; log tail:\n%s" % (
                        self.name, self.returncode, pattern, self.log_tail()))
            return m

        return wait_until(check, timeout=timeout,
                          what="%s to log %r" % (self.name, pattern))


def start(argv, logdir, **kw):
    """Start a process; see Proc for the keyword arguments."""
    return Proc(argv, logdir, **kw)


def live():
    """The processes started and not yet stopped, oldest first."""
    return list(_live)


def stop_all(timeout=2.0):
    """Stop every live Proc, newest first (clients before servers)."""
    for p in reversed(list(_live)):
        p.stop(timeout=timeout)


atexit.register(stop_all)
