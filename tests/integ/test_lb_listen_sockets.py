"""The parent binds the lb's listening sockets and keeps them, so an lb
worker's death loses no connection still waiting in its accept queue:

- a worker frozen (SIGSTOP) while clients queue on its socket, then killed
  (SIGKILL): every client gets its answer, from the other worker (which
  adopts the dead one's socket until it is back) or from its successor;
- the adoption is counted and let go once the worker runs again;
- a reload that names a port nobody can bind is refused by the parent,
  naming the listener, and the running config keeps serving;
- a reload that renames a listener on the same address keeps serving."""

import os
import signal
import socket
import time

from havenlib.configs import lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

LB = """\
  listeners:
    - {{ name: {lname}, bind: 127.0.0.1:{port}, mode: http, pool: web }}
  pools:
    - name: web
      servers:
        - {{ name: a, address: 127.0.0.1:{pa} }}
"""


def config(workdir, port, pa, lname="web"):
    return lb_config(LB, workers=2).format(dir=workdir, port=port, pa=pa,
                                           lname=lname)


def lb_pids(h, want=2):
    def pids():
        ps = [p["pid"] for p in h.status()["processes"]
              if p["plane"] == "lb" and p["state"] == "running"]
        return ps if len(ps) == want else None
    return wait_until(pids, timeout=10, what="%d lb workers" % want)


def send_requests(port, n):
    """n clients that each sent a request and wait for its answer."""
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                  % i)
        socks.append(s)
    return socks


def answers(socks):
    """The status line each client got (or the error it saw)."""
    out = []
    for s in socks:
        try:
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            out.append(data.split(b"\r\n", 1)[0].decode() or "EOF")
        except OSError as e:
            out.append(type(e).__name__)
        finally:
            s.close()
    return out


def test_killed_worker_loses_no_queued_connection(haven, nginx, workdir):
    pa, port = free_port(), free_port()
    nginx(port=pa, body="A\n")
    h = haven(config(workdir, port, pa))
    url = "http://127.0.0.1:%d/" % port
    wait_until(lambda: http_get(url) == (200, b"A\n"), timeout=10,
               what="lb serving")
    victim, other = lb_pids(h)

    # Frozen, the victim accepts nothing: about half of the clients (the
    # kernel hashes them over both workers' sockets) queue on its socket.
    os.kill(victim, signal.SIGSTOP)
    try:
        socks = send_requests(port, 40)
        time.sleep(0.3)
        os.kill(victim, signal.SIGKILL)
    finally:
        try:
            os.kill(victim, signal.SIGCONT)
        except ProcessLookupError:
            pass
    got = answers(socks)
    assert got == ["HTTP/1.1 200 OK"] * 40, got
    assert other in lb_pids(h)
    # The survivor took the dead worker's socket on, and let it go once
    # the new worker ran (the set it holds is its own socket only).
    assert h.metric("haven_lb_listener_adopted_sockets_total") >= 1
    wait_until(lambda: victim not in lb_pids(h), timeout=10,
               what="victim replaced")
    assert h.proc.log_text().count("child died; restarting") == 1


def test_reload_refused_when_a_port_cannot_be_bound(haven, nginx, workdir):
    pa, port = free_port(), free_port()
    nginx(port=pa, body="A\n")
    cfg = workdir / "haven.yaml"
    cfg.write_text(config(workdir, port, pa))
    h = haven(str(cfg))
    url = "http://127.0.0.1:%d/" % port
    wait_until(lambda: http_get(url) == (200, b"A\n"), timeout=10,
               what="lb serving")

    # Someone else holds the new port (no SO_REUSEPORT: nobody can join).
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    busy = taken.getsockname()[1]
    try:
        cfg.write_text(config(workdir, busy, pa))
        r = h.api("POST", "/v1/reload")
        assert r.status != 200, r
        assert "lb: web: cannot bind 127.0.0.1:%d" % busy in r.text, r.text
        assert http_get(url) == (200, b"A\n")
    finally:
        taken.close()

    # Renamed on the same address: the socket stays, serving goes on.
    cfg.write_text(config(workdir, port, pa, lname="www"))
    r = h.api("POST", "/v1/reload")
    assert r.status == 200, r
    wait_until(lambda: h.metric("haven_lb_listener_accepted_total",
                                listener="www") >= 0 and
               http_get(url) == (200, b"A\n"), timeout=10,
               what="renamed listener serving")
    for _ in range(20):
        assert http_get(url) == (200, b"A\n")


def test_first_start_leaves_no_socket_adopted(haven, nginx, workdir):
    """At the first start, a worker spawned before its siblings is handed
    their sockets to adopt; once they run it lets them go, so no client
    is accepted from another worker's socket while every worker runs."""
    pa, port = free_port(), free_port()
    nginx(port=pa, body="A\n")
    h = haven(config(workdir, port, pa))
    url = "http://127.0.0.1:%d/" % port
    wait_until(lambda: http_get(url) == (200, b"A\n"), timeout=10,
               what="lb serving")
    lb_pids(h)
    time.sleep(0.5)  # the last worker's config result, then the push
    before = h.metric("haven_lb_listener_accepted_adopted_total")
    got = answers(send_requests(port, 60))
    assert got == ["HTTP/1.1 200 OK"] * 60, got
    assert h.metric("haven_lb_listener_accepted_adopted_total") == before
