"""LB answers for broken backends: every server down gives the pool's
configured status and body; a server answering garbage gives 502; a server
that accepts and never answers gives 504 within server_timeout. The same
worker keeps serving a healthy listener throughout."""

import time

from havenlib.configs import health, lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

CONFIG = lb_config("""\
  listeners:
    - {{ name: ok, bind: 127.0.0.1:{p_ok}, pool: ok }}
    - {{ name: down, bind: 127.0.0.1:{p_down}, pool: down }}
    - {{ name: garbage, bind: 127.0.0.1:{p_garbage}, pool: garbage }}
    - {{ name: hang, bind: 127.0.0.1:{p_hang}, pool: hang }}
  pools:
    - name: ok
      servers: [ {{ name: n, address: 127.0.0.1:{b_ok} }} ]
    - name: down
      health_check: tcp
      all_down_status: 503
      all_down_body: "sorry, all gone\\n"
      servers:
        - {{ name: x, address: 127.0.0.1:{b_down1} }}
        - {{ name: y, address: 127.0.0.1:{b_down2} }}
    - name: garbage
      retries: 0
      servers: [ {{ name: g, address: 127.0.0.1:{b_garbage} }} ]
    - name: hang
      retries: 0
      server_timeout: 1s
      servers: [ {{ name: h, address: 127.0.0.1:{b_hang} }} ]
""", health=health("interval: 200ms, timeout: 200ms, fall: 1, rise: 1,\n"
                            "              damping: false",
                            "{{ name: tcp, type: tcp }}"))


def url(port):
    return "http://127.0.0.1:%d/" % port


def test_backend_errors(haven, nginx, badpeer, workdir):
    ok = nginx(port=free_port(), body="fine\n")
    garbage = badpeer("garbage")
    hang = badpeer("hang")
    ports = {k: free_port() for k in ("p_ok", "p_down", "p_garbage",
                                      "p_hang", "b_down1", "b_down2")}
    h = haven(CONFIG.format(dir=workdir, b_ok=ok.port,
                            b_garbage=garbage.port, b_hang=hang.port,
                            **ports))
    u_ok = url(ports["p_ok"])
    wait_until(lambda: http_get(u_ok) == (200, b"fine\n"), timeout=5,
               what="ok listener serving")

    # All down: nothing listens on x or y, the tcp check says so.
    wait_until(lambda: h.api("GET", "/v1/lb/pools/down").json
               ["all_down"], timeout=5, what="pool down all_down")
    assert http_get(url(ports["p_down"])) == (503, b"sorry, all gone\n")
    assert http_get(u_ok) == (200, b"fine\n")

    status, body = http_get(url(ports["p_garbage"]))
    assert status == 502, (status, body)
    assert http_get(u_ok) == (200, b"fine\n")

    t0 = time.monotonic()
    status, body = http_get(url(ports["p_hang"]), timeout=10)
    took = time.monotonic() - t0
    print("hanging server answered %d after %.2fs (server_timeout 1s)" % (
        status, took))
    assert status == 504, (status, body)
    assert 0.9 <= took <= 2.5, took
    assert http_get(u_ok) == (200, b"fine\n")

    m = h.api("GET", "/metrics").text
    for cause in ("bad_response", "server_timeout"):
        assert 'cause="%s"' % cause in m, cause
