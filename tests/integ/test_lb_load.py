"""LB under load (wrk, 32 keep-alive connections): killing one of two nginx
backends mid-run, and reloading the config (a changed weight) mid-run, both
at default retry settings, cost no socket error and no non-2xx answer."""

import re
import subprocess

import pytest

from havenlib.configs import WEB_HTTP, health, lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

CONFIG = lb_config("""\
  listeners:
    - {{ name: web, bind: 127.0.0.1:{port}, pool: web, access_log: false }}
  pools:
    - name: web
      health_check: web-http
      servers:
        - {{ name: a, address: 127.0.0.1:{pa}, weight: {wa} }}
        - {{ name: b, address: 127.0.0.1:{pb} }}
""", health=health("interval: 200ms, timeout: 200ms, fall: 2, rise: 2,\n"
                            "              damping: false", WEB_HTTP))


def wrk_start(url, secs=6, conns=32):
    return subprocess.Popen(["wrk", "-t2", "-c%d" % conns, "-d%ds" % secs,
                             url], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wrk_result(p, secs=6):
    """(requests, socket errors, non-2xx) of a finished wrk run."""
    out, _ = p.communicate(timeout=secs + 20)
    print(out)
    m = re.search(r"(\d+) requests in", out)
    assert m, out
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write "
                     r"(\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (int(m.group(1)),
            sum(int(x) for x in sock.groups()) if sock else 0,
            int(non2xx.group(1)) if non2xx else 0)


def wait_load(h, n=20000):
    """Wait until the listener has parsed n requests: load is flowing."""
    def served():
        m = re.search(r'^haven_lb_listener_requests_total\{listener="web"\}'
                      r' (\d+)', h.api("GET", "/metrics").text, re.M)
        return m is not None and int(m.group(1)) >= n

    wait_until(served, timeout=4, interval=0.1, what="%d requests" % n)


def start(haven, nginx, workdir, wa=100, env=None):
    pa, pb, port = free_port(), free_port(), free_port()
    a = nginx(port=pa, body="A\n")
    b = nginx(port=pb, body="B\n")
    cfg = workdir / "haven.yaml"
    cfg.write_text(CONFIG.format(dir=workdir, port=port, pa=pa, pb=pb,
                                 wa=wa))
    h = haven(str(cfg), env=env)
    wait_until(lambda: h.lb_server("web", "a")["state"] == "up" and
               h.lb_server("web", "b")["state"] == "up", timeout=10,
               what="both servers up")
    return h, a, b, cfg, (pa, pb, port)


# Requests go to the servers in io_uring batches when the kernel allows,
# and one sendmsg at a time otherwise (HAVEN_IO_URING=0 forces that path):
# both must lose nothing.
@pytest.mark.parametrize("uring", ["auto", "off"])
def test_backend_killed_under_load(haven, nginx, workdir, uring):
    env = {"HAVEN_IO_URING": "0"} if uring == "off" else None
    h, a, b, _, ports = start(haven, nginx, workdir, env=env)
    url = "http://127.0.0.1:%d/" % ports[2]
    w = wrk_start(url)
    wait_load(h)
    b.kill()
    reqs, sock_err, non2xx = wrk_result(w)
    print("backend killed under load: %d requests, %d socket errors, "
          "%d non-2xx" % (reqs, sock_err, non2xx))
    assert reqs > 1000
    assert sock_err == 0 and non2xx == 0
    assert h.lb_server("web", "b")["usable"] is False
    assert http_get(url) == (200, b"A\n")
    sent = h.metric("haven_lb_batched_sends_total")
    print("requests sent through io_uring batches:", sent)
    if uring == "off":
        assert sent == 0


def test_reload_under_load(haven, nginx, workdir):
    h, a, b, cfg, (pa, pb, port) = start(haven, nginx, workdir)
    url = "http://127.0.0.1:%d/" % port
    w = wrk_start(url)
    wait_load(h)
    cfg.write_text(CONFIG.format(dir=workdir, port=port, pa=pa, pb=pb,
                                 wa=300))
    r = h.api("POST", "/v1/reload")
    assert r.status == 200 and r.json["ok"] is True, r
    reqs, sock_err, non2xx = wrk_result(w)
    print("reload under load: %d requests, %d socket errors, %d non-2xx" % (
        reqs, sock_err, non2xx))
    assert reqs > 1000
    assert sock_err == 0 and non2xx == 0
    assert h.lb_server("web", "a")["weight"] == 300
    # The new weight is in effect: 3 of every 4 requests go to a.
    bodies = [http_get(url)[1] for _ in range(40)]
    assert 29 <= bodies.count(b"A\n") <= 31, bodies
