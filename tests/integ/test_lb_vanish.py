"""Clients that vanish at the LB: mid-head, mid-body (with a reset), while
the server is still thinking, mid-response from a trickling server, and
mid-response of a 32 MiB download. Each
one is counted as a client abort, the server side of the exchange is let
go (no connection left open to the backend), and the worker keeps serving
everyone else without a restart."""

import socket
import struct
import time

from havenlib.configs import lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

# `web` fronts nginx; `sink` fronts a peer that reads everything and never
# answers, so a request body is still being forwarded when its client goes.
CONFIG = lb_config("""\
  listeners:
    - {{ name: web, bind: 127.0.0.1:{port}, mode: http, pool: web }}
    - {{ name: sink, bind: 127.0.0.1:{sport}, mode: http, pool: sink }}
  pools:
    - name: web
      servers: [ {{ name: n, address: 127.0.0.1:{backend} }} ]
    - name: sink
      servers: [ {{ name: h, address: 127.0.0.1:{hang} }} ]
""")

# /trickle sends a big file at 1 KiB/s: a server still busy answering.
SERVER_EXTRA = """\
        location = /big { try_files /big =404; }
        location = /trickle { limit_rate 1k; try_files /big =404; }
"""

BIG = 32 << 20




def reset_close(s):
    """Close with RST instead of FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_vanishing_clients(haven, nginx, badpeer, workdir):
    port, sport, backend = free_port(), free_port(), free_port()
    ng = nginx(port=backend, server_extra=SERVER_EXTRA)
    with open(ng.dir + "/www/big", "wb") as f:
        f.write(b"z" * BIG)
    hang = badpeer("hang")
    h = haven(CONFIG.format(dir=workdir, port=port, sport=sport,
                            backend=backend, hang=hang.port))
    url = "http://127.0.0.1:%d/" % port
    wait_until(lambda: http_get(url)[0] == 200, timeout=5, what="listener")
    pid = h.plane_pid("lb")
    aborts0 = h.metric("haven_lb_pool_errors_total", cause="client_abort")

    # 1. Half a request head, then FIN.
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Half")
    s.close()

    # 2. A POST that promises 100 KiB and sends 1 KiB, then RST.
    s = socket.create_connection(("127.0.0.1", sport), timeout=5)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 102400\r\n\r\n"
              + b"b" * 1024)
    time.sleep(0.2)
    reset_close(s)

    # 3. Waiting on a server that never answers, then RST: the server
    # connection must go at once, not at server_timeout (30 s).
    s = socket.create_connection(("127.0.0.1", sport), timeout=5)
    s.sendall(b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.2)
    reset_close(s)

    # 4. Mid-response from a server that trickles, then RST.
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /trickle HTTP/1.1\r\nHost: x\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 200"), "trickle did not start"
    reset_close(s)

    # 5. A 32 MiB download abandoned after 64 KiB.
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
    got = 0
    while got < 65536:
        chunk = s.recv(65536)
        assert chunk, "LB closed the download early"
        got += len(chunk)
    s.close()

    # Everyone else is still served, by the same worker.
    for i in range(20):
        assert http_get(url) == (200, b"hello\n"), i
    status, body = http_get(url + "big")
    assert status == 200 and len(body) == BIG, (status, len(body))

    # The aborted exchanges let go of their server connections: only
    # pooled idle ones may stay, none in progress.
    wait_until(lambda: h.metric("haven_lb_server_active_connections") == 0,
               timeout=5, what="no server connection in progress")
    wait_until(lambda: h.metric("haven_lb_listener_connections") == 0,
               timeout=5, what="no client connection left")
    aborts = h.metric("haven_lb_pool_errors_total", cause="client_abort")
    print("client aborts counted:", aborts - aborts0)
    # Cases 2-5 had a request under way; case 1 never became one.
    assert aborts - aborts0 == 4, aborts - aborts0
    assert h.plane_pid("lb") == pid, "the lb worker restarted"
