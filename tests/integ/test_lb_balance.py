"""LB balancing and admin: round-robin spreads requests over both nginx
backends; `haven ctl` drain/disable take a server out of rotation, enable
puts it back, and a weight override shifts the split."""

import collections
import subprocess

from havenlib.configs import FAST, WEB_HTTP, health, lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

CONFIG = lb_config("""\
  listeners:
    - {{ name: web, bind: 127.0.0.1:{port}, mode: http, pool: web }}
  pools:
    - name: web
      balance: roundrobin
      health_check: web-http
      servers:
        - {{ name: a, address: 127.0.0.1:{pa} }}
        - {{ name: b, address: 127.0.0.1:{pb} }}
""", health=health(FAST, WEB_HTTP))


def start(haven, nginx, workdir):
    pa, pb, port = free_port(), free_port(), free_port()
    nginx(port=pa, body="A\n")
    nginx(port=pb, body="B\n")
    h = haven(CONFIG.format(dir=workdir, port=port, pa=pa, pb=pb))
    for s in ("a", "b"):
        wait_until(lambda: h.lb_server("web", s)["state"] == "up",
                   timeout=10, what="server %s up" % s)
    return h, "http://127.0.0.1:%d/" % port


def spread(url, n):
    """Bodies of n sequential GETs through the LB (each must be a 200)."""
    seen = collections.Counter()
    for _ in range(n):
        status, body = http_get(url)
        assert status == 200, (status, body)
        seen[body.decode().strip()] += 1
    return seen


def ctl(h, *args):
    cp = subprocess.run([h.bin, "ctl", "-s", h.socket] + list(args),
                        capture_output=True, text=True, timeout=10)
    assert cp.returncode == 0, (args, cp.stdout, cp.stderr)
    return cp.stdout


def test_round_robin_both_backends(haven, nginx, workdir):
    h, url = start(haven, nginx, workdir)
    seen = spread(url, 20)
    # Smooth weighted round-robin with equal weights alternates exactly.
    assert seen == {"A": 10, "B": 10}, seen


def test_drain_disable_enable(haven, nginx, workdir):
    h, url = start(haven, nginx, workdir)
    ctl(h, "POST", "/v1/lb/pools/web/servers/a/drain")
    assert h.lb_server("web", "a")["admin"] == "drain"
    assert spread(url, 10) == {"B": 10}

    ctl(h, "POST", "/v1/lb/pools/web/servers/a/enable")
    ctl(h, "POST", "/v1/lb/pools/web/servers/b/disable")
    assert h.lb_server("web", "b")["admin"] == "disabled"
    assert h.lb_server("web", "b")["usable"] is False
    assert spread(url, 10) == {"A": 10}

    ctl(h, "POST", "/v1/lb/pools/web/servers/b/enable")
    assert h.lb_server("web", "b")["admin"] == "ready"
    seen = spread(url, 10)
    assert 4 <= seen["B"] <= 6 and seen["A"] + seen["B"] == 10, seen


def test_weight_override(haven, nginx, workdir):
    h, url = start(haven, nginx, workdir)
    out = ctl(h, "POST", "/v1/lb/pools/web/servers/a/weight",
              '{"weight": 300}')
    assert '"admin_weight":300' in out.replace(" ", ""), out
    # Weights 300:100 under smooth round-robin: 3 of every 4 (give or
    # take the one period the change landed in).
    seen = spread(url, 40)
    assert 29 <= seen["A"] <= 31 and seen["A"] + seen["B"] == 40, seen

    ctl(h, "POST", "/v1/lb/pools/web/servers/a/weight", '{"weight": 0}')
    assert spread(url, 10) == {"B": 10}

    cp = subprocess.run([h.bin, "ctl", "-s", h.socket, "POST",
                         "/v1/lb/pools/web/servers/nope/weight",
                         '{"weight": 1}'], capture_output=True, text=True,
                        timeout=10)
    assert cp.returncode == 1 and "no such" in cp.stdout, cp.stdout
