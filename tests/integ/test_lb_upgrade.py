"""LB Upgrade passthrough (the WebSocket handshake shape): a tiny Python
backend answers `101 Switching Protocols` and then echoes bytes; through the
LB the client gets the 101 and a working byte tunnel in both directions."""

import socket

from havenlib.configs import lb_config
from havenlib.haven import PYTHON, free_port
from havenlib.poll import wait_until

CONFIG = lb_config("""\
  listeners:
    - {{ name: web, bind: 127.0.0.1:{port}, pool: ws }}
  pools:
    - name: ws
      servers: [ {{ name: echo, address: 127.0.0.1:{backend} }} ]
""")

# Answers one Upgrade request per connection with 101 and echoes after it;
# checks that the LB forwarded the Upgrade and Connection headers.
BACKEND = r'''
import socket, sys, threading
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(16)
print("ready", flush=True)
def serve(c):
    head = b""
    while b"\r\n\r\n" not in head:
        d = c.recv(4096)
        if not d:
            return
        head += d
    low = head.lower()
    if b"upgrade: echo" not in low or b"connection: upgrade" not in low:
        c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        return
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n"
              b"Connection: Upgrade\r\n\r\n")
    rest = head.split(b"\r\n\r\n", 1)[1]
    if rest:
        c.sendall(rest)
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'''


def test_upgrade_tunnel(haven, procs, workdir):
    bport, port = free_port(), free_port()
    script = workdir / "echo101.py"
    script.write_text(BACKEND)
    be = procs.start([PYTHON, str(script), str(bport)], name="echo101")
    be.wait_for_log(r"^ready$")
    haven(CONFIG.format(dir=workdir, port=port, backend=bport))

    def connect():
        return socket.create_connection(("127.0.0.1", port), timeout=5)

    s = wait_until(connect, timeout=5, what="listener up")
    with s:
        s.sendall(b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\n"
                  b"Connection: Upgrade\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            d = s.recv(4096)
            assert d, head
            head += d
        assert head.startswith(b"HTTP/1.1 101 "), head
        assert b"upgrade: echo" in head.lower(), head
        tail = head.split(b"\r\n\r\n", 1)[1]
        assert tail == b"", tail
        for size in (1, 1000, 200000):
            msg = bytes((i * 7) & 0xff for i in range(size))
            s.sendall(msg)
            got = b""
            while len(got) < size:
                d = s.recv(65536)
                assert d, (size, len(got))
                got += d
            assert got == msg, size
        s.shutdown(socket.SHUT_WR)
        assert s.recv(10) == b""  # the backend's close comes through
