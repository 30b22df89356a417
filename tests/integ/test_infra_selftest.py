"""The integration-test library tested on its own: if these fail, every
other integration result is suspect. Read top to bottom: polling, processes,
the HTTP helpers and badpeer, then namespaces (root only)."""

import http.server
import os
import socketserver
import subprocess
import sys
import threading
import time

import pytest

from havenlib import netns as hnetns
from havenlib.haven import (BADPEER, PYTHON, api_socket_of, free_port,
                            http_get, unix_request)
from havenlib.poll import WaitTimeout, wait_until


# --- poll -----------------------------------------------------------------

def test_wait_until_returns_first_truthy_value():
    calls = []

    def third_time():
        calls.append(1)
        return "done" if len(calls) == 3 else None

    assert wait_until(third_time, timeout=5, interval=0.001) == "done"
    assert len(calls) == 3


def test_wait_until_timeout_names_condition_and_last_value():
    t0 = time.monotonic()
    with pytest.raises(WaitTimeout) as ei:
        wait_until(lambda: 0, timeout=0.2, interval=0.02, what="the answer")
    elapsed = time.monotonic() - t0
    assert 0.2 <= elapsed < 2.0
    msg = str(ei.value)
    assert "timed out after 0.2s waiting for the answer" in msg
    assert "last value: 0" in msg
    assert isinstance(ei.value, AssertionError)


def test_wait_until_reports_last_ignored_exception():
    def refused():
        raise ConnectionRefusedError("port 1 closed")

    with pytest.raises(WaitTimeout, match="ConnectionRefusedError: port 1"):
        wait_until(refused, timeout=0.05, interval=0.01)


def test_wait_until_propagates_unexpected_exception():
    with pytest.raises(KeyError):
        wait_until(lambda: {}["x"], timeout=1)


# --- proc -----------------------------------------------------------------

def test_proc_logs_kill_and_pause(procs):
    p = procs.start(["/bin/sh", "-c", "echo started; exec sleep 60"],
                    name="sleeper")
    p.wait_for_log(r"^started$", timeout=5)
    assert p.log_path.startswith(str(procs.workdir))

    p.pause()
    wait_until(lambda: _proc_state(p.pid) == "T", timeout=5,
               what="state T (stopped)")
    p.resume()
    wait_until(lambda: _proc_state(p.pid) == "S", timeout=5,
               what="state S (sleeping)")

    assert p.kill() == -9
    assert not p.alive()


def test_proc_wait_for_log_fails_fast_when_process_exits(procs):
    p = procs.start(["/bin/sh", "-c", "echo bye; exit 3"], name="quitter")
    t0 = time.monotonic()
    with pytest.raises(AssertionError, match="exited"):
        p.wait_for_log("never printed", timeout=20)
    assert time.monotonic() - t0 < 10


def test_proc_stop_escalates_to_sigkill(procs):
    p = procs.start(["/bin/sh", "-c", "trap '' TERM; echo armed; "
                     "while :; do sleep 1; done"], name="stubborn")
    p.wait_for_log("^armed$")
    assert p.stop(timeout=0.3) == -9


def _proc_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


# --- HTTP helpers ---------------------------------------------------------

class _UnixHTTPServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"path": "%s"}' % self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers["Content-Length"])
        body = self.rfile.read(n)
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def test_unix_api_client_round_trip(workdir):
    path = str(workdir / "api.sock")
    srv = _UnixHTTPServer(path, _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        r = unix_request(path, "GET", "/v1/status")
        assert r.status == 200 and r.json == {"path": "/v1/status"}
        r = unix_request(path, "POST", "/v1/reload", body={"dry": True})
        assert r.status == 201 and r.json == {"dry": True}
    finally:
        srv.shutdown()
        srv.server_close()


def test_api_socket_read_from_config():
    cfg = "log:\n  level: info\napi:\n  listen: 127.0.0.1:9\n" \
          "  socket: \"/run/h/api.sock\"  # control\nlb: {}\n"
    assert api_socket_of(cfg) == "/run/h/api.sock"
    assert api_socket_of("lb:\n  socket: /nope\n") is None


def test_nginx_serves_body_and_health_then_dies(nginx):
    n = nginx("127.0.0.1", free_port(), body="backend-a\n")
    assert http_get(n.url) == (200, b"backend-a\n")
    assert http_get(n.url + "healthz")[0] == 200
    n.set_healthy(False)
    assert http_get(n.url + "healthz")[0] == 503
    assert http_get(n.url)[0] == 200
    n.kill()
    assert http_get(n.url, timeout=1)[0] == 0


@pytest.mark.parametrize("role,want", [
    ("http-ok", 200), ("status:503", 503), ("rst", 0), ("close", 0),
    ("refuse", 0), ("garbage", 0)])
def test_badpeer_roles(badpeer, role, want):
    b = badpeer(role)
    status, body = http_get("http://127.0.0.1:%d/" % b.port, timeout=2)
    assert status == want
    if role == "http-ok":
        assert body == b"ok"


def test_badpeer_hang_times_out(badpeer):
    hang = badpeer("hang")
    t0 = time.monotonic()
    assert http_get("http://127.0.0.1:%d/" % hang.port, timeout=0.3)[0] == 0
    assert time.monotonic() - t0 < 5


def test_badpeer_slow_dribbles_a_valid_response(badpeer):
    # ~90 bytes at 15 ms each: valid in the end, but never fast.
    slow = badpeer("slow", delay_ms=15)
    t0 = time.monotonic()
    assert http_get("http://127.0.0.1:%d/" % slow.port, timeout=2) == (
        200, b"slow\n")
    assert time.monotonic() - t0 >= 1.0


def test_badpeer_tls_badcert_fails_verification(badpeer):
    b = badpeer("tls-badcert")
    url = "https://127.0.0.1:%d/" % b.port
    bad = subprocess.run(["curl", "-s", "-m", "5", url])
    assert bad.returncode == 60  # peer certificate cannot be authenticated
    ok = subprocess.run(["curl", "-sk", "-m", "5", url], capture_output=True)
    assert ok.returncode == 0 and ok.stdout == b"ok"


def test_badpeer_exits_after_max_seconds(procs):
    p = procs.start([PYTHON, BADPEER, "--role", "http-ok", "--listen",
                     "127.0.0.1:0", "--max-seconds", "0.3"], name="shortpeer")
    assert p.wait(timeout=10) == 0


# --- netns (root) ---------------------------------------------------------

def test_addresses_outside_benchmark_range_are_refused():
    for bad in ("10.0.0.1/24", "198.20.0.1/24", "192.0.2.1/32", "::1/128"):
        with pytest.raises(AssertionError, match="outside"):
            hnetns.check_addr(bad)
    assert str(hnetns.check_addr("198.19.255.254/15").ip) == "198.19.255.254"


@pytest.mark.root
def test_namespaces_created_and_removed():
    net = hnetns.Network()
    a, b = net.ns("a"), net.ns("b")
    ifa, ifb = net.link(a, b, "198.18.7.1/30", "198.18.7.2/30")
    assert set(hnetns.ours()) >= {a.name, b.name}
    assert a.ping("198.18.7.2")
    net.cleanup()
    assert a.name not in hnetns.ours() and b.name not in hnetns.ours()
    net.cleanup()  # idempotent


@pytest.mark.root
def test_bridge_ping_partition_and_link_flap(netns):
    lan = netns.bridge("lan")
    a, b = netns.ns("a"), netns.ns("b")
    netns.attach(a, lan, "198.18.0.1/24")
    netns.attach(b, lan, "198.18.0.2/24")
    assert a.ping("198.18.0.2") and b.ping("198.18.0.1")

    a.block(b)
    assert not a.ping("198.18.0.2")
    a.heal()
    assert a.ping("198.18.0.2")

    port = netns.port_of(b, lan)
    lan.link_down(port)
    assert not a.ping("198.18.0.2")
    lan.link_up(port)
    wait_until(lambda: a.ping("198.18.0.2"), timeout=10,
               what="ping after link up")


@pytest.mark.root
def test_nginx_in_namespace_reached_from_client(netns, nginx):
    lan = netns.bridge("lan")
    srv, cli = netns.ns("srv"), netns.ns("cli")
    netns.attach(srv, lan, "198.18.0.10/24")
    netns.attach(cli, lan, "198.18.0.20/24")
    n = nginx("198.18.0.10", 80, ns=srv, body="in-ns\n")
    assert http_get(n.url, ns=cli) == (200, b"in-ns\n")
    n.set_healthy(False)
    assert http_get(n.url + "healthz", ns=cli)[0] == 503


@pytest.mark.root
def test_cleanup_at_exit_when_a_test_dies():
    # A child that builds namespaces and then crashes with an exception
    # must leave nothing behind (atexit), and so must one that is killed
    # with SIGTERM under conftest's handler.
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from havenlib import netns\n"
            "net = netns.Network(); net.ns('x'); net.bridge('y')\n"
            "print(netns.ours(), flush=True)\n"
            "raise RuntimeError('test died')\n") % os.path.dirname(
                os.path.abspath(__file__))
    cp = subprocess.run([sys.executable, "-c", code], capture_output=True,
                        text=True, timeout=60)
    assert "RuntimeError" in cp.stderr
    assert "-x'" in cp.stdout  # it did create them
    left = subprocess.run(["ip", "netns", "list"], capture_output=True,
                          text=True).stdout
    assert "hv%d-" % _child_pid(cp.stdout) not in left


def _child_pid(out):
    import re
    return int(re.search(r"hv(\d+)-", out).group(1))


@pytest.mark.root
def test_stale_namespaces_of_dead_runs_are_swept():
    dead = "hv%d-stale" % (4194304 + 1)  # above any pid_max
    subprocess.run(["ip", "netns", "add", dead], check=True)
    try:
        assert dead in hnetns.sweep_stale()
    finally:
        subprocess.run(["ip", "netns", "del", dead], capture_output=True)


def test_sanitizer_report_in_a_process_log_is_detected(workdir):
    # The procs fixture fails a test whose process logged a sanitizer
    # report; check the pattern it uses against real report lines.
    import conftest
    for line in ("==123==ERROR: AddressSanitizer: heap-use-after-free",
                 "==9==ERROR: LeakSanitizer: detected memory leaks",
                 "src/lib/buf.c:42:7: runtime error: signed integer overflow"):
        assert conftest._SANITIZER.search("start\n" + line + "\n"), line
    assert not conftest._SANITIZER.search("level=error msg=\"runtime error\"")
