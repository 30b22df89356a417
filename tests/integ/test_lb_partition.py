"""LB with a partitioned backend, on real hosts: haven in namespace `lb`,
nginx backends in `a` and `b`, all on one bridge in 198.18.0.0/24. When a
drops every packet from lb (iptables DROP: SYNs and requests on pooled
connections vanish, nothing is refused), requests from a client in `lb`
still succeed, each one that picked a retried on b after connect_timeout
or per_try_timeout; a is ejected, and readmitted by its health check once
the partition heals."""

import time

import pytest

from havenlib.configs import FAST, WEB_HTTP, health, lb_config
from havenlib.haven import http_get
from havenlib.poll import wait_until

pytestmark = pytest.mark.root

CONFIG = lb_config("""\
  listeners:
    - {{ name: web, bind: 198.18.0.1:8080, pool: web }}
  pools:
    - name: web
      health_check: web-http
      connect_timeout: 300ms
      per_try_timeout: 500ms
      servers:
        - {{ name: a, address: 198.18.0.2:8080 }}
        - {{ name: b, address: 198.18.0.3:8080 }}
""", health=health(FAST, WEB_HTTP))


def test_partitioned_backend(haven, nginx, netns, workdir):
    lan = netns.bridge("lan")
    lb, a, b = netns.ns("lb"), netns.ns("a"), netns.ns("b")
    netns.attach(lb, lan, "198.18.0.1/24")
    netns.attach(a, lan, "198.18.0.2/24")
    netns.attach(b, lan, "198.18.0.3/24")
    nginx("198.18.0.2", 8080, ns=a, body="A\n")
    nginx("198.18.0.3", 8080, ns=b, body="B\n")
    h = haven(CONFIG.format(dir=workdir), ns=lb)
    url = "http://198.18.0.1:8080/"
    wait_until(lambda: h.lb_server("web", "a")["state"] == "up" and
               h.lb_server("web", "b")["state"] == "up", timeout=10,
               what="both servers up")
    got = sorted(http_get(url, ns=lb)[1] for _ in range(4))
    assert got == [b"A\n", b"A\n", b"B\n", b"B\n"], got

    a.block(lb)
    t0 = time.monotonic()
    for i in range(10):
        assert http_get(url, ns=lb, timeout=5) == (200, b"B\n"), i
    print("10 requests during the partition took %.2fs" % (
        time.monotonic() - t0))
    wait_until(lambda: not h.lb_server("web", "a")["usable"], timeout=3,
               what="a out of rotation")
    m = h.api("GET", "/metrics").text
    assert 'server="a",cause="connect_timeout"' in m or \
        'server="a",cause="server_timeout"' in m, m

    a.heal()
    wait_until(lambda: h.lb_server("web", "a")["usable"], timeout=10,
               what="a readmitted")
    got = sorted(http_get(url, ns=lb)[1] for _ in range(4))
    assert got == [b"A\n", b"A\n", b"B\n", b"B\n"], got
