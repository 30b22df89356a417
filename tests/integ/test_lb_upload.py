"""Request bodies through the LB: a 24 MiB upload with Content-Length and
one with chunked transfer encoding reach a backend that hashes what it
reads, byte-identical (sha256), three times each on the same keep-alive
path. Request bytes go to servers in batches (io_uring or plain sendmsg,
see lb_uring.h); a body larger than any socket buffer exercises the
partial sends and the waits for room in between."""

import hashlib
import os
import subprocess

from havenlib import proc
from havenlib.configs import lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

CONFIG = lb_config("""\
  listeners:
    - {{ name: web, bind: 127.0.0.1:{port}, mode: http, pool: up }}
  pools:
    - name: up
      servers: [ {{ name: h, address: 127.0.0.1:{backend} }} ]
""")

# Reads the whole body (Content-Length or chunked, decoded by http.server's
# caller below) and answers its sha256.
HASHER = r'''
import hashlib, http.server, sys

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    return
                yield self.rfile.read(n)
                self.rfile.readline()
        left = int(self.headers.get("Content-Length", 0))
        while left:
            b = self.rfile.read(min(left, 1 << 16))
            left -= len(b)
            yield b

    def do_GET(self):
        self.reply(b"ok\n")

    def do_POST(self):
        h = hashlib.sha256()
        for b in self.body():
            h.update(b)
        self.reply(h.hexdigest().encode() + b"\n")

    def reply(self, body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])),
                                H).serve_forever()
'''

SIZE = 24 << 20


def curl_post(url, path, *extra):
    cp = subprocess.run(["curl", "-sS", "-m", "60", "--data-binary",
                         "@" + str(path)] + list(extra) + [url],
                        capture_output=True, text=True, timeout=90)
    assert cp.returncode == 0, cp.stderr
    return cp.stdout.strip()


def test_large_uploads(haven, procs, workdir):
    backend, port = free_port(), free_port()
    (workdir / "hasher.py").write_text(HASHER)
    procs.started.append(proc.start(
        ["/usr/bin/python3", str(workdir / "hasher.py"), str(backend)],
        str(workdir), name="hasher"))
    big = workdir / "big.bin"
    with open(big, "wb") as f:
        for _ in range(SIZE >> 20):
            f.write(os.urandom(1 << 20))
    want = hashlib.sha256(big.read_bytes()).hexdigest()
    haven(CONFIG.format(dir=workdir, port=port, backend=backend))
    url = "http://127.0.0.1:%d/up" % port
    wait_until(lambda: http_get(url)[0] == 200, timeout=10, what="path up")

    for i in range(3):
        got = curl_post(url, big)
        print("upload", i, got[:16], want[:16])
        assert got == want, i
        assert curl_post(url, big, "-H", "Transfer-Encoding: chunked") == \
            want, i
