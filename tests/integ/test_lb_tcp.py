"""LB in L4 tcp mode: a TCP listener in front of nginx relays HTTP it does
not parse (curl through it works, round-robin per connection), and a 50 MiB
file arrives byte-identical (sha256) through the relay, both through a
listener with splice on and through one that copies (the default)."""

import hashlib
import os
import subprocess

from havenlib.configs import lb_config
from havenlib.haven import free_port
from havenlib.poll import wait_until

CONFIG = lb_config("""\
  listeners:
    - {{ name: l4, bind: 127.0.0.1:{port}, mode: tcp, pool: l4, splice: true }}
    - {{ name: l4c, bind: 127.0.0.1:{pcopy}, mode: tcp, pool: l4 }}
  pools:
    - name: l4
      servers:
        - {{ name: a, address: 127.0.0.1:{pa} }}
        - {{ name: b, address: 127.0.0.1:{pb} }}
""")

BIG = 50 * 1024 * 1024
BIG_LOC = "        location = /big { alias %s; }\n"


def curl(url, *extra):
    """curl's stdout for url (asserts success)."""
    cp = subprocess.run(["curl", "-sS", "-m", "60"] + list(extra) + [url],
                        capture_output=True, text=True, timeout=90)
    assert cp.returncode == 0, cp.stderr
    return cp.stdout


def test_tcp_relay_and_bulk(haven, nginx, workdir):
    big = workdir / "big.bin"
    with open(big, "wb") as f:
        for _ in range(BIG // (1 << 20)):
            f.write(os.urandom(1 << 20))
    want = hashlib.sha256(big.read_bytes()).hexdigest()
    a = nginx(port=free_port(), body="A\n", server_extra=BIG_LOC % big)
    b = nginx(port=free_port(), body="B\n", server_extra=BIG_LOC % big)
    port = free_port()
    pcopy = free_port()
    h = haven(CONFIG.format(dir=workdir, port=port, pcopy=pcopy, pa=a.port,
                            pb=b.port))
    url = "http://127.0.0.1:%d/" % port
    wait_until(lambda: subprocess.run(["curl", "-s", "-o", "/dev/null", url],
                                      timeout=10).returncode == 0,
               timeout=5, what="tcp listener up")

    bodies = sorted(curl(url).strip() for _ in range(4))
    assert bodies == ["A", "A", "B", "B"], bodies

    # Through the splice listener, then through the copying one.
    for u in (url, "http://127.0.0.1:%d/" % pcopy):
        got = workdir / "got.bin"
        assert curl(u + "big", "-o", str(got), "-w", "%{http_code}") == "200"
        assert got.stat().st_size == BIG
        assert hashlib.sha256(got.read_bytes()).hexdigest() == want

    # bytes_out counts every byte sent to clients, spliced or copied; the
    # spliced share is also counted on its own (the bulk went that way).
    out = h.metric("haven_lb_listener_bytes_out_total", listener="l4")
    assert BIG <= out < BIG + 64 * 1024, out
    assert h.metric("haven_lb_listener_spliced_bytes_total",
                    listener="l4") >= BIG // 2
    out = h.metric("haven_lb_listener_bytes_out_total", listener="l4c")
    assert BIG <= out < BIG + 64 * 1024, out
    assert h.metric("haven_lb_listener_spliced_bytes_total",
                    listener="l4c") == 0
    assert h.metric("haven_lb_server_bytes_in_total") >= BIG
    assert h.metric("haven_lb_listener_bytes_in_total") > 0


# TLS terminated on an L4 listener, PROXY v2 towards a server that expects
# it: the client side goes through OpenSSL both ways (no splice), the server
# side gets the PROXY header ahead of the first relayed byte.
CONFIG_TLS = lb_config("""\
  listeners:
    - name: l4s
      bind: 127.0.0.1:{port}
      mode: tcp
      pool: pp
      tls:
        certificates: [ {{ cert: {dir}/l4.pem, key: {dir}/l4.key }} ]
  pools:
    - name: pp
      send_proxy: v2
      servers: [ {{ name: n, address: 127.0.0.1:{backend} }} ]
""")

ECHO_PP = """\
        location = /pp { return 200 "pp=$proxy_protocol_addr\\n"; }
"""


def test_tls_l4_with_send_proxy(haven, nginx, workdir):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=l4.test", "-keyout", str(workdir / "l4.key"),
                    "-out", str(workdir / "l4.pem")],
                   check=True, capture_output=True, timeout=30)
    # The lb runs as haven.user under root: the key must be readable to it.
    (workdir / "l4.key").chmod(0o644)
    big = workdir / "big.bin"
    with open(big, "wb") as f:
        for _ in range(8):
            f.write(os.urandom(1 << 20))
    want = hashlib.sha256(big.read_bytes()).hexdigest()
    backend = nginx(port=free_port(), listen_opts="proxy_protocol",
                    server_extra=ECHO_PP + BIG_LOC % big)
    port = free_port()
    haven(CONFIG_TLS.format(dir=workdir, port=port, backend=backend.port))
    url = "https://127.0.0.1:%d/" % port
    wait_until(lambda: subprocess.run(["curl", "-sk", "-o", "/dev/null", url],
                                      timeout=10).returncode == 0,
               timeout=5, what="tls l4 listener up")

    assert curl(url + "pp", "-k") == "pp=127.0.0.1\n"
    got = workdir / "got.bin"
    assert curl(url + "big", "-k", "-o", str(got), "-w",
                "%{http_code}") == "200"
    assert hashlib.sha256(got.read_bytes()).hexdigest() == want
