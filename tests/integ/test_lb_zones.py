"""LB zone failover and failback: a pool with primary zone {a} and secondary
zone {b}. Killing a moves traffic to b; when a comes back, failback: hold
returns traffic only after failback_hold, and failback: manual only after
POST /v1/lb/pools/web/failback."""

import time

from havenlib.configs import FAST, WEB_HTTP, health, lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

CONFIG = lb_config("""\
  listeners:
    - {{ name: web, bind: 127.0.0.1:{port}, mode: http, pool: web }}
  pools:
    - name: web
      health_check: web-http
      zones: [primary, secondary]
      failback: {failback}
      failback_hold: 3s
      servers:
        - {{ name: a, address: 127.0.0.1:{pa}, zone: primary }}
        - {{ name: b, address: 127.0.0.1:{pb}, zone: secondary }}
""", health=health(FAST, WEB_HTTP))


def start(haven, nginx, workdir, failback):
    pa, pb, port = free_port(), free_port(), free_port()
    a = nginx(port=pa, body="A\n")
    nginx(port=pb, body="B\n")
    h = haven(CONFIG.format(dir=workdir, port=port, pa=pa, pb=pb,
                            failback=failback))
    wait_until(lambda: h.lb_server("web", "a")["state"] == "up" and
               h.lb_server("web", "b")["state"] == "up", timeout=10,
               what="both servers up")
    return h, a, "http://127.0.0.1:%d/" % port


def body(url):
    status, b = http_get(url)
    return b.decode().strip() if status == 200 else "status %d" % status


def fail_over_and_restart(h, a, url):
    """Kill a, see traffic on b, restart a and wait until it is up again;
    returns the monotonic time a was seen up."""
    assert [body(url) for _ in range(4)] == ["A"] * 4
    a.kill()
    wait_until(lambda: body(url) == "B", timeout=5, what="traffic on b")
    assert [body(url) for _ in range(4)] == ["B"] * 4
    a.start()
    wait_until(lambda: h.lb_server("web", "a")["state"] == "up", timeout=10,
               interval=0.02, what="a up again")
    return time.monotonic()


def test_failback_hold(haven, nginx, workdir):
    h, a, url = start(haven, nginx, workdir, "hold")
    t_up = fail_over_and_restart(h, a, url)
    # While the hold runs, b keeps the traffic.
    assert body(url) == "B"
    wait_until(lambda: body(url) == "A", timeout=8, interval=0.05,
               what="traffic back on a")
    held = time.monotonic() - t_up
    print("failback after %.2fs (failback_hold: 3s)" % held)
    assert 2.5 <= held <= 4.5, held
    assert [body(url) for _ in range(4)] == ["A"] * 4


def test_failback_manual(haven, nginx, workdir):
    h, a, url = start(haven, nginx, workdir, "manual")
    fail_over_and_restart(h, a, url)
    # Well past any hold: manual never fails back on its own.
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        assert body(url) == "B"
        time.sleep(0.1)
    pool = h.api("GET", "/v1/lb").json["pools"][0]
    assert pool["active_zone"] == "secondary", pool

    r = h.api("POST", "/v1/lb/pools/web/failback")
    assert r.status == 200, r
    wait_until(lambda: body(url) == "A", timeout=2, what="traffic on a")
    assert h.api("GET", "/v1/lb").json["pools"][0]["active_zone"] == \
        "primary"
    # Nothing better left to fail back to.
    assert h.api("POST", "/v1/lb/pools/web/failback").status == 409
