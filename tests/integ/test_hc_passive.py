"""Passive health: an lb pool of two nginx servers whose active checks run
rarely (interval 30 s). When one server dies, the first real request the
load balancer fails to connect for is reported to the health engine, which
ejects the server at once, long before its next active probe. Only active
probes readmit it: after the server returns it stays down until `rise`
probes in a row passed."""

import time

from havenlib import hc
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

LB = """\
lb:
  workers: 1
  listeners:
    - name: web
      bind: 127.0.0.1:{port}
      mode: http
      pool: web
  pools:
    - name: web
      balance: roundrobin
      health_check: web-http
      servers:
        - {{ name: a, address: "127.0.0.1:{a}" }}
        - {{ name: b, address: "127.0.0.1:{b}" }}
"""

RISE = 2


def test_passive_eject_at_once_active_readmit(haven, nginx, workdir):
    a = nginx("127.0.0.1", free_port(), body="A\n", name="a")
    b = nginx("127.0.0.1", free_port(), body="B\n", name="b")
    port = free_port()
    h = haven(hc.config(
        workdir, [{"name": "web-http", "type": "http", "path": "/healthz"}],
        defaults={"interval": "30s", "down_interval": "1s", "timeout": "1s",
                  "rise": RISE, "fall": 2, "passive_fails": 1},
        extra=LB.format(port=port, a=a.port, b=b.port)))
    hc.wait_state(h, "web/a", "up", timeout=6)
    hc.wait_state(h, "web/b", "up", timeout=6)
    url = "http://127.0.0.1:%d/" % port
    wait_until(lambda: http_get(url)[0] == 200, timeout=5,
               what="lb answering")

    a.kill()
    t0 = time.monotonic()
    bodies = [http_get(url, timeout=3) for _ in range(4)]
    took, c = hc.wait_state(h, "web/a", "down", timeout=3, t0=t0)
    hc.report("passive connect failure -> ejected", took, 1.0)
    print("\nresponses after kill: %r" % bodies)
    assert c["reason"] == "passive_ejected", c
    assert took < 1.0  # the next active probe is ~30 s away
    assert c["passive"]["ejections"] >= 1, c["passive"]
    # Every client request was still answered, by b.
    assert all(r == (200, b"B\n") for r in bodies), bodies
    assert hc.check(h, "web/b")["state"] == "up"

    a.start()
    t1 = time.monotonic()
    took, c = hc.wait_state(h, "web/a", "up", timeout=RISE * 1.0 + 5, t0=t1)
    hc.report("restarted server readmitted by active probes", took,
              RISE * 1.0 + 1.5)
    assert took <= RISE * 1.0 + 1.5
    assert c["consecutive_ok"] >= RISE, c
    ok = c["probes"][:RISE]
    assert all(p["ok"] for p in ok) and len(ok) == RISE, c["probes"]
    assert c["transitions"][0]["to"] == "up", c["transitions"]
    wait_until(lambda: http_get(url)[1] == b"A\n", timeout=5,
               what="traffic to a again")
