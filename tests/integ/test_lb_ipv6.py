"""LB over IPv6: an http listener on [::1] in front of an nginx backend on
[::1] proxies (curl -g), tells the backend the client's IPv6 address in
X-Forwarded-For, and an IPv4 listener relays to the same IPv6 backend. A
mode tcp listener on [::1] relays a bulk download byte for byte (with
splice on, so it moves to splice(2) after the first 64 KiB)."""

import hashlib
import os
import subprocess

from havenlib.configs import FAST, WEB_HTTP, health, lb_config
from havenlib.haven import free_port
from havenlib.poll import wait_until

CONFIG = lb_config("""\
  listeners:
    - {{ name: v6, bind: "[::1]:{p6}", mode: http, pool: web }}
    - {{ name: v4, bind: "127.0.0.1:{p4}", mode: http, pool: web }}
    - {{ name: t6, bind: "[::1]:{pt}", mode: tcp, pool: raw, splice: true }}
  pools:
    - name: web
      health_check: web-http
      servers:
        - {{ name: a, address: "[::1]:{pa}" }}
    - name: raw
      servers:
        - {{ name: a, address: "[::1]:{pa}" }}
""", health=health(FAST, WEB_HTTP))

# The backend echoes what the proxy told it and where it came from.
ECHO = ('        location = /who { return 200 '
        '"xff=$http_x_forwarded_for peer=$remote_addr\\n"; }\n'
        '        location = /big { alias %s; }\n')

BIG = 4 * 1024 * 1024


def curl(url, *extra):
    """curl -g's stdout for url (asserts success)."""
    cp = subprocess.run(["curl", "-gsS", "-m", "30"] + list(extra) + [url],
                        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, (url, cp.stderr)
    return cp.stdout


def test_ipv6_listener_and_backend(haven, nginx, workdir):
    big = workdir / "big.bin"
    big.write_bytes(os.urandom(BIG))
    want = hashlib.sha256(big.read_bytes()).hexdigest()
    pa = free_port("::1")
    nginx(addr="::1", port=pa, body="six\n", server_extra=ECHO % big)
    p6, p4, pt = free_port("::1"), free_port(), free_port("::1")
    h = haven(CONFIG.format(dir=workdir, p6=p6, p4=p4, pt=pt, pa=pa))
    wait_until(lambda: h.lb_server("web", "a")["state"] == "up",
               timeout=10, what="[::1] backend up")

    # IPv6 client -> IPv6 listener -> IPv6 backend.
    assert curl("http://[::1]:%d/" % p6) == "six\n"
    assert curl("http://[::1]:%d/who" % p6) == "xff=::1 peer=::1\n"

    # IPv4 client -> IPv4 listener -> IPv6 backend.
    assert curl("http://127.0.0.1:%d/" % p4) == "six\n"
    assert curl("http://127.0.0.1:%d/who" % p4) == "xff=127.0.0.1 peer=::1\n"

    # mode tcp on [::1]: bytes through unchanged, counted on the listener.
    got = workdir / "got.bin"
    assert curl("http://[::1]:%d/big" % pt, "-o", str(got),
                "-w", "%{http_code}") == "200"
    assert hashlib.sha256(got.read_bytes()).hexdigest() == want
    m = h.api("GET", "/metrics").text
    out = [int(ln.split()[-1]) for ln in m.splitlines()
           if ln.startswith('haven_lb_listener_bytes_out_total{listener="t6"')]
    assert out and out[0] >= BIG, out
