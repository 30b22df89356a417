"""poll - wait for a condition with a deadline.

Tests never sleep for a fixed time: they state what they wait for and how
long it may take, and a timeout names the condition and the last value seen,
so a failure says what was wrong and not only that something was.
"""

import time


class WaitTimeout(AssertionError):
    """Raised when wait_until's condition stays false past its deadline."""

    def __init__(self, what, timeout, last, last_exc):
        self.what = what
        self.timeout = timeout
        self.last = last
        self.last_exc = last_exc
        msg = "timed out after %.3gs waiting for %s; last value: %r" % (
            timeout, what, last)
        if last_exc is not None:
            msg += "; last exception: %s: %s" % (
                type(last_exc).__name__, last_exc)
        super().__init__(msg)


def _describe(fn):
    return getattr(fn, "__name__", None) or repr(fn)


def wait_until(fn, timeout=10.0, interval=0.05, what=None, ignore=(OSError,)):
    """Call fn() until it returns a truthy value and return that value.

    fn is called at least once, then every `interval` seconds until
    `timeout` seconds have passed. Exceptions of the types in `ignore`
    (default OSError: a port not yet listening) count as a false result and
    are reported if the wait fails; others propagate at once. On timeout,
    raises WaitTimeout (an AssertionError) naming `what` (default: fn's
    name), the timeout and the last value and exception seen.
    """
    if timeout < 0 or interval <= 0:
        raise ValueError("timeout must be >= 0 and interval > 0")
    deadline = time.monotonic() + timeout
    last, last_exc = None, None
    while True:
        try:
            last = fn()
            last_exc = None
            if last:
                return last
        except ignore as e:  # noqa: PERF203 - the loop is the point
            last, last_exc = None, e
        now = time.monotonic()
        if now >= deadline:
            raise WaitTimeout(what or _describe(fn), timeout, last, last_exc)
        time.sleep(min(interval, deadline - now))
