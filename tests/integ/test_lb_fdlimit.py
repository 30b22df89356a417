"""The lb at its descriptor limit: haven runs under `prlimit --nofile=64:128`
and raises its soft limit to the hard one, 128.

The effective connection limit is sized from RLIMIT_NOFILE (two descriptors
per proxied connection after a reserve), said at start-up, in GET /v1/lb and
in /metrics. More idle clients than that limit: the listener stops
accepting (the others wait in the kernel's accept queue), one log line per
interval however often it pauses, every pause counted; once the idle
clients leave, the waiting ones are served - no client hangs. An accept
that fails anyway (the limit lowered under the running worker) pauses the
same way, logged once per interval and counted by errno."""

import os
import re
import socket
import subprocess
import time

from havenlib.configs import lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

NOFILE = 128
LOG_INTERVAL_S = 10  # lb_limit.c: LB_LIMIT_LOG_MS

CONFIG = lb_config("""\
  listeners:
    - {{ name: web, bind: 127.0.0.1:{port}, pool: web,
         header_timeout: 60s, client_timeout: 60s }}
  pools:
    - name: web
      keepalive: 2
      servers: [ {{ name: n, address: 127.0.0.1:{backend} }} ]
""")

# A request head never finished: the connection is accepted (the listener
# defers accept until data arrives) and then holds its slot.
PARTIAL = b"GET / HTTP/1.1\r\nHost: x\r\n"


def idle_client(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(PARTIAL)
    return s


def curl(port, timeout):
    return subprocess.Popen(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
         "-m", str(timeout), "http://127.0.0.1:%d/" % port],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lines(h, msg):
    return len(re.findall(r'msg="%s"' % re.escape(msg), h.proc.log_text()))


def set_nofile(pid, spec):
    """prlimit another process. Under root the worker runs as haven.user,
    and root may only change a foreign process's limits with
    CAP_SYS_RESOURCE (some containers lack it): act as the worker's own
    user, which needs no capability."""
    st = open("/proc/%d/status" % pid).read()
    uid = int(re.search(r"^Uid:\s+(\d+)", st, re.M).group(1))
    gid = int(re.search(r"^Gid:\s+(\d+)", st, re.M).group(1))
    argv = ["prlimit", "--pid", str(pid), "--nofile=" + spec]
    if uid != os.getuid():
        argv = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid,
                "--clear-groups"] + argv
    subprocess.run(argv, check=True)


def start(haven, nginx, workdir):
    backend = nginx(port=free_port(), body="fine\n")
    port = free_port()
    h = haven(CONFIG.format(dir=workdir, port=port, backend=backend.port),
              wrap=["prlimit", "--nofile=%d:%d" % (NOFILE // 2, NOFILE), "--"])
    wait_until(lambda: http_get("http://127.0.0.1:%d/" % port) ==
               (200, b"fine\n"), timeout=5, what="listener serving")
    return h, port


def test_limit_sized_from_nofile_and_said(haven, nginx, workdir):
    h, port = start(haven, nginx, workdir)
    lim = h.api("GET", "/v1/lb").json["limits"]
    assert lim["fd_limit"] == NOFILE, lim
    eff = lim["max_conn_effective"]
    # Two descriptors per connection, after the reserve: well below 20000.
    assert 0 < eff and 2 * eff + lim["fd_reserve"] <= NOFILE, lim
    web = lim["listeners"][0]
    assert web["max_conn"] == 20000 and web["max_conn_effective"] == eff
    assert web["paused"] is None
    assert h.metric("haven_lb_max_conn_effective") == eff
    assert h.metric("haven_lb_fd_limit") == NOFILE
    assert h.metric("haven_lb_listener_max_conn_effective",
                    listener="web") == eff
    log = h.proc.log_text()
    # The soft limit was raised to the hard one at start.
    assert re.search(r'msg="descriptor limit" nofile=%d was=%d' %
                     (NOFILE, NOFILE // 2), log), log
    assert re.search(r'msg="max_conn lowered to fit the descriptor limit" '
                     r'listener=web max_conn=20000 effective=%d ' % eff, log)


def test_at_the_limit_clients_wait_then_are_served(haven, nginx, workdir):
    h, port = start(haven, nginx, workdir)
    eff = h.api("GET", "/v1/lb").json["limits"]["max_conn_effective"]
    idle = [idle_client(port) for _ in range(eff + 10)]
    wait_until(lambda: h.metric("haven_lb_listener_connections") == eff,
               timeout=5, what="listener full")
    assert h.metric("haven_lb_listener_accept_paused", listener="web") == 1
    waiting = curl(port, 30)
    # Queued behind the idle ones: neither served nor cut.
    try:
        waiting.wait(timeout=1)
        raise AssertionError("served or cut at the limit: %r" %
                             (waiting.communicate(),))
    except subprocess.TimeoutExpired:
        pass

    # Churn at the limit for a few seconds: every close lets one queued
    # client in and pauses again; the log says so once per interval.
    t0 = time.monotonic()
    churned = 0
    while time.monotonic() - t0 < 4:
        idle.pop(0).close()
        idle.append(idle_client(port))
        churned += 1
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    wait_until(lambda: h.metric("haven_lb_accept_paused_total",
                                cause="max_conn") >= churned,
               timeout=5, what="every pause counted")
    assert lines(h, "accept paused") <= 1 + int(elapsed / LOG_INTERVAL_S)

    for s in idle:
        s.close()
    out, err = waiting.communicate(timeout=30)
    assert out == "200", (out, err)
    r = curl(port, 5)
    assert r.communicate(timeout=10)[0] == "200"
    wait_until(lambda: h.metric("haven_lb_listener_accept_paused",
                                listener="web") == 0,
               timeout=5, what="accepting again")
    assert h.metric("haven_lb_accept_errors_total") == 0


def test_accept_error_pauses_logged_once(haven, nginx, workdir):
    h, port = start(haven, nginx, workdir)
    worker = wait_until(lambda: h.plane_pid("lb"), timeout=5,
                        what="lb worker")
    idle = [idle_client(port) for _ in range(5)]
    wait_until(lambda: h.metric("haven_lb_listener_connections") == 5,
               timeout=5, what="idle clients accepted")
    # Below the descriptors the worker already holds: the next accept gets
    # EMFILE.
    set_nofile(worker, "8:%d" % NOFILE)
    waiting = [curl(port, 30) for _ in range(3)]
    t0 = time.monotonic()
    wait_until(lambda: h.metric("haven_lb_accept_errors_total",
                                errno="EMFILE") >= 3,
               timeout=10, what="accept retried and failed again")
    elapsed = time.monotonic() - t0
    assert lines(h, "accept failed") <= 1 + int(elapsed / LOG_INTERVAL_S)
    assert "err=\"Too many open files\"" in h.proc.log_text()
    assert h.metric("haven_lb_accept_paused_total",
                    cause="accept_error") >= 3
    assert all(w.poll() is None for w in waiting)

    set_nofile(worker, "%d:%d" % (NOFILE, NOFILE))
    for s in idle:
        s.close()
    for w in waiting:
        out, err = w.communicate(timeout=30)
        assert out == "200", (out, err)
