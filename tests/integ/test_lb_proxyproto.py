"""PROXY protocol on both sides of the LB.

send_proxy v1 and v2: an nginx backend listening with `proxy_protocol`
echoes $proxy_protocol_addr:$proxy_protocol_port, which must be the
client's source (curl bound to 127.0.0.5 and a fixed port), not the LB's.

accept_proxy: a listener that expects a PROXY v1 header takes the client
address from it: curl --haproxy-protocol works, a forged header's address
(198.18.7.7) reaches the backend both in X-Forwarded-For and in the PROXY
header haven sends on, and a connection without a header is refused and
counted.
"""

import socket
import subprocess

from havenlib.configs import lb_config
from havenlib.haven import free_port
from havenlib.poll import wait_until

CONFIG = lb_config("""\
  listeners:
    - {{ name: v1, bind: 127.0.0.1:{p_v1}, pool: v1 }}
    - {{ name: v2, bind: 127.0.0.1:{p_v2}, pool: v2 }}
    - {{ name: in, bind: 127.0.0.1:{p_in}, pool: v1, accept_proxy: true }}
  pools:
    - name: v1
      send_proxy: v1
      servers: [ {{ name: n, address: 127.0.0.1:{backend} }} ]
    - name: v2
      send_proxy: v2
      servers: [ {{ name: n, address: 127.0.0.1:{backend} }} ]
""")

ECHO = """\
        location = /pp {
            return 200 "$proxy_protocol_addr:$proxy_protocol_port xff=$http_x_forwarded_for\\n";
        }
"""


def curl(port, *extra):
    cp = subprocess.run(["curl", "-sS", "-m", "5"] + list(extra) +
                        ["http://127.0.0.1:%d/pp" % port],
                        capture_output=True, text=True, timeout=15)
    assert cp.returncode == 0, (port, extra, cp.stderr)
    return cp.stdout.strip()


def start(haven, nginx, workdir):
    backend = nginx(port=free_port(), listen_opts="proxy_protocol",
                    server_extra=ECHO)
    ports = {k: free_port() for k in ("p_v1", "p_v2", "p_in")}
    h = haven(CONFIG.format(dir=workdir, backend=backend.port, **ports))
    wait_until(lambda: subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:%d/pp" %
         ports["p_v1"]], timeout=10).returncode == 0, timeout=5,
        what="listener up")
    return h, ports


def test_send_proxy_v1_v2(haven, nginx, workdir):
    h, ports = start(haven, nginx, workdir)
    for name in ("p_v1", "p_v2"):
        cport = free_port("127.0.0.5")
        got = curl(ports[name], "--interface", "127.0.0.5", "--local-port",
                   str(cport))
        assert got == "127.0.0.5:%d xff=127.0.0.5" % cport, (name, got)


def test_accept_proxy(haven, nginx, workdir):
    h, ports = start(haven, nginx, workdir)
    port = ports["p_in"]

    got = curl(port, "--haproxy-protocol", "--interface", "127.0.0.6")
    assert got.startswith("127.0.0.6:") and got.endswith("xff=127.0.0.6"), \
        got

    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"PROXY TCP4 198.18.7.7 127.0.0.1 5555 80\r\n"
                  b"GET /pp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        resp = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            resp += chunk
    assert resp.startswith(b"HTTP/1.1 200"), resp
    assert resp.endswith(b"198.18.7.7:5555 xff=198.18.7.7\n"), resp

    # No header on an accept_proxy listener: closed without an answer.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /pp HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            got = s.recv(4096)
        except ConnectionResetError:  # closed with our bytes unread
            got = b""
        assert got == b""
    m = h.api("GET", "/metrics").text
    assert 'haven_lb_listener_proxyproto_errors_total{listener="in",' in m, \
        [ln for ln in m.splitlines() if "proxyproto" in ln]
