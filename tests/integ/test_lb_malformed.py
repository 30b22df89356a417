"""Hostile clients at the LB: request smuggling shapes (Content-Length with
Transfer-Encoding, two Content-Lengths), obs-fold, a NUL byte and oversized
heads are answered 400/431 and the connection is closed, without a byte
reaching the backend; slowloris clients are cut at header_timeout and
counted in /metrics. A normal client is served throughout."""

import re
import socket
import time

from havenlib.configs import lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

CONFIG = lb_config("""\
  listeners:
    - name: web
      bind: 127.0.0.1:{port}
      pool: web
      header_timeout: 500ms
      max_header_size: 8k
  pools:
    - name: web
      servers: [ {{ name: n, address: 127.0.0.1:{backend} }} ]
""")

HEAD = b"POST / HTTP/1.1\r\nHost: x\r\n"
BAD = {
    "cl+te": HEAD + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"
    b"\r\n0\r\n\r\n",
    "te+cl": HEAD + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"
    b"\r\n0\r\n\r\n",
    "dup-cl": HEAD + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "te-not-chunked": HEAD + b"Transfer-Encoding: gzip\r\n\r\n",
    "obs-fold": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
    "nul": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    "space-before-colon": b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    "bare-cr": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
    "oversized": b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 12000 +
    b"\r\n\r\n",
}


def exchange(port, data, timeout=5):
    """Send data, read until the LB closes; returns (status, closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp, closed = b"", False
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
                resp += chunk
        except ConnectionResetError:
            closed = True
        except socket.timeout:
            pass
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", resp)
    return (int(m.group(1)) if m else 0), closed



def start(haven, nginx, workdir):
    backend = nginx(port=free_port(), body="fine\n")
    port = free_port()
    h = haven(CONFIG.format(dir=workdir, port=port, backend=backend.port))
    url = "http://127.0.0.1:%d/" % port
    wait_until(lambda: http_get(url) == (200, b"fine\n"), timeout=5,
               what="listener serving")
    return h, url, port


def test_malformed_requests_rejected(haven, nginx, workdir):
    h, url, port = start(haven, nginx, workdir)
    before = h.lb_server("web", "n")["requests"]
    for name, data in BAD.items():
        status, closed = exchange(port, data)
        want = (431,) if name == "oversized" else (400,)
        assert status in want and closed, (name, status, closed)
        assert http_get(url) == (200, b"fine\n"), name
    # Only the len(BAD) good requests above reached the backend.
    assert h.lb_server("web", "n")["requests"] == before + len(BAD)
    m = h.api("GET", "/metrics").text
    errs = [ln for ln in m.splitlines()
            if ln.startswith("haven_lb_listener_http_errors_total{")]
    assert sum(int(ln.split()[-1]) for ln in errs) >= len(BAD), errs


def test_slowloris_cut_at_header_timeout(haven, nginx, workdir):
    h, url, port = start(haven, nginx, workdir)
    socks = []
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    t0 = time.monotonic()
    open_socks = list(socks)
    # Drip one header line every 100 ms: each byte resets no timer, the
    # head as a whole must arrive within header_timeout (500 ms).
    while open_socks and time.monotonic() - t0 < 5:
        for s in list(open_socks):
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                open_socks.remove(s)
        assert http_get(url, timeout=2) == (200, b"fine\n")
        time.sleep(0.1)  # the drip interval is the behaviour under test
    took = time.monotonic() - t0
    print("50 slowloris connections closed after %.2fs "
          "(header_timeout 500ms)" % took)
    assert not open_socks and took < 2.0, (len(open_socks), took)
    for s in socks:
        s.close()
    n = h.metric("haven_lb_listener_terminations_total", listener="web",
               cause="header_timeout")
    assert n >= 50, n
