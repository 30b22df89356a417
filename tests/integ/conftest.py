"""conftest - fixtures shared by every integration test.

Fixtures:
    workdir     the test's own tmp_path: configs, logs, sockets
    haven_bin   $HAVEN_BIN (set by tests/run-suites.sh), else build/haven
    procs       start processes with logs in workdir; all stopped after
    netns       a havenlib.netns.Network, torn down after the test
    haven       factory: haven(config, ns=None) -> started Haven
    nginx       factory: nginx(addr, port, body=..., ns=None) -> started Nginx
    badpeer     factory: badpeer(role, addr=..., port=0, ns=None) -> started

Marker `root`: the test needs root and namespaces, and is skipped without
them. When a test fails, the tail of every process log it started is
printed in its report, so a CI failure can be read without a rerun; a
sanitizer report (ASan, LSan, UBSan) in any of those logs fails the test.
"""

import os
import re
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from havenlib import knot as hknot  # noqa: E402
from havenlib import netns as hnetns  # noqa: E402
from havenlib import proc as hproc  # noqa: E402
from havenlib.haven import BadPeer, Haven, Nginx, REPO  # noqa: E402


_SANITIZER = re.compile(r"^(==\d+==ERROR: \w+Sanitizer|\S+:\d+:\d+: runtime "
                        r"error:)", re.M)


def _on_sigterm(signum, frame):
    # tests/run-suites.sh kills a stuck run with SIGTERM; atexit would not
    # run, so tear down here and then die of the signal as intended.
    hproc.stop_all(timeout=1.0)
    hnetns.cleanup_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def pytest_configure(config):
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def pytest_runtest_setup(item):
    if item.get_closest_marker("root") is not None:
        hnetns.require()
    # tests/run-suites.sh sets HAVEN_SANITIZED for an ASan/UBSan build,
    # which runs the whole suite again for memory errors: the long tests
    # that measure time add little there and a minute to `make check`.
    if item.get_closest_marker("timing") is not None and \
            os.environ.get("HAVEN_SANITIZED"):
        pytest.skip("timing test: plain build only")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request):
    rep = getattr(request.node, "rep_call", None)
    return rep is not None and rep.failed


@pytest.fixture
def workdir(tmp_path):
    # Under root, haven's children drop to haven.user (haven, else nobody)
    # and read scripts and certificates from here, write hook output and
    # the state directory below it: open the test's directory to them the
    # way an operator's /etc/haven is readable by the haven group. pytest
    # makes its tmp tree 0700 (and resets it each session).
    if os.geteuid() == 0:
        tmp_path.chmod(0o777)
        for d in tmp_path.parents:
            if not d.name.startswith("pytest-"):
                break
            d.chmod(d.stat().st_mode | 0o111)
    return tmp_path


@pytest.fixture(scope="session")
def haven_bin():
    path = os.environ.get("HAVEN_BIN")
    if path:
        assert os.access(path, os.X_OK), "HAVEN_BIN=%s is not executable" % (
            path)
        return path
    path = os.path.join(REPO, "build", "haven")
    if not os.access(path, os.X_OK):
        pytest.skip("no haven binary: build first or set HAVEN_BIN")
    return path


class _Procs:
    def __init__(self, workdir):
        self.workdir = workdir
        self.started = []

    def start(self, argv, **kw):
        p = hproc.start(argv, self.workdir, **kw)
        self.started.append(p)
        return p


@pytest.fixture
def procs(request, workdir):
    ps = _Procs(workdir)
    yield ps
    if _failed(request):
        for p in ps.started:
            print("\n--- %s (rc=%s) %s\n%s" % (p.name, p.returncode,
                                               p.log_path, p.log_tail()))
    for p in reversed(ps.started):
        p.stop(timeout=2.0)
    # In the ASan build a daemon's sanitizer report lands in its log, not
    # in any exit status a test looks at; make it fail the test.
    found = [(p, m) for p in ps.started for m in [_SANITIZER.search(
        p.log_text())] if m is not None]
    if found:
        pytest.fail("sanitizer report in %s:\n%s" % (
            ", ".join(p.log_path for p, _ in found),
            found[0][0].log_text()[found[0][1].start():][:4000]),
            pytrace=False)


@pytest.fixture
def knot_secondary(tmp_path):
    """run(primary, port, **kw): Knot as haven's secondary (havenlib/knot.py)
    in tmp_path/knot; every one started is stopped after the test."""
    started = []

    def run(primary, port, **kw):
        p = hknot.start_secondary(str(tmp_path / "knot"), port, primary, **kw)
        started.append(p)
        return p

    yield run
    for p in started:
        hknot.stop(p)


@pytest.fixture
def netns():
    net = hnetns.Network()
    yield net
    net.cleanup()


@pytest.fixture
def haven(procs, workdir, haven_bin):
    def start(config, ns=None, name="haven", ready=True, **kw):
        h = Haven(haven_bin, config, workdir, ns=ns, name=name, **kw)
        h.start()
        procs.started.append(h.proc)
        return h.wait_ready() if ready else h

    return start


@pytest.fixture
def nginx(procs, workdir):
    def start(addr="127.0.0.1", port=8080, ns=None, **kw):
        n = Nginx(workdir, addr, port, ns=ns, **kw)
        try:
            n.start()
        finally:
            if n.proc is not None:
                procs.started.append(n.proc)
        return n

    return start


@pytest.fixture
def badpeer(procs, workdir):
    def start(role, addr="127.0.0.1", port=0, ns=None, **kw):
        b = BadPeer(workdir, role, addr, port, ns=ns, **kw)
        try:
            b.start()
        finally:
            if b.proc is not None:
                procs.started.append(b.proc)
        return b

    return start
