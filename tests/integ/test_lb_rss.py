"""Memory goes back to the system after a connection burst: 10,000 clients
(fewer if the descriptor limit allows fewer) each holding a half-sent
request head, so each holds a buffer, raise the lb worker's RSS by tens of
MiB; some seconds after they all closed the worker has handed most of it
back (buffer pool shrunk, malloc_trim) and counts it in /metrics. Prints
the RSS before, at the peak, just after the close and after the trim."""

import resource
import socket

import pytest

from havenlib.configs import lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

BURST = 10000
MIB = 1 << 20

CONFIG = lb_config("""\
  listeners:
    - {{ name: web, bind: 127.0.0.1:{port}, pool: web,
         header_timeout: 60s, client_timeout: 60s }}
  pools:
    - name: web
      keepalive: 2
      servers: [ {{ name: n, address: 127.0.0.1:{backend} }} ]
""")


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for %d" % pid)


def test_rss_drops_after_burst(haven, nginx, workdir):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < BURST + 200:
        pytest.skip("needs %d descriptors in the test process" % BURST)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        burst(haven, nginx, workdir)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def burst(haven, nginx, workdir):
    backend = nginx(port=free_port(), body="fine\n")
    port = free_port()
    h = haven(CONFIG.format(dir=workdir, port=port, backend=backend.port))
    url = "http://127.0.0.1:%d/" % port
    wait_until(lambda: http_get(url) == (200, b"fine\n"), timeout=5,
               what="listener serving")
    n = min(BURST, h.api("GET", "/v1/lb").json["limits"]
            ["max_conn_effective"] - 10)
    assert n >= BURST // 2, n
    worker = wait_until(lambda: h.plane_pid("lb"), timeout=5, what="worker")
    with open("/proc/%d/maps" % worker) as f:
        if "libasan" in f.read():
            pytest.skip("ASan's allocator quarantines freed memory: the RSS "
                        "is not glibc malloc's")
    before = rss(worker)

    clients = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            clients.append(s)
        wait_until(lambda: h.metric("haven_lb_listener_connections") == n,
                   timeout=30, what="%d connections held" % n)
        peak = rss(worker)
    finally:
        for s in clients:
            s.close()
    wait_until(lambda: h.metric("haven_lb_listener_connections") == 0,
               timeout=30, what="connections closed")
    closed = rss(worker)  # freed, not yet handed back
    wait_until(lambda: h.metric("haven_lb_memory_trims_total") >= 1,
               timeout=15, what="memory handed back")
    after = rss(worker)
    print("lb worker RSS: before %.1f MiB, peak with %d connections %.1f "
          "MiB, just closed %.1f MiB, after the trim %.1f MiB" % (
              before / MIB, n, peak / MIB, closed / MIB, after / MIB))
    # A page or more of buffer and the connection's structs each.
    assert peak - before > 20 * MIB, (before, peak)
    assert after < before + (peak - before) / 4, (before, peak, after)
    assert h.metric("haven_lb_rss_bytes") > 0
