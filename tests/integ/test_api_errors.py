"""Malformed control-API requests get a 4xx with a JSON body and the daemon
keeps serving: huge headers, smuggling shapes, bad request lines, unknown
paths, wrong methods, the HTTP fuzz corpus; and the TCP listener requires
its bearer token."""

import glob
import json
import os
import socket

import pytest

from havenlib.configs import MINIMAL
from havenlib.haven import REPO, free_port

CONFIG = MINIMAL


def raw(sock_path, data, timeout=5.0):
    """Send raw bytes; return everything the daemon answers before closing
    (or before timeout)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    try:
        s.sendall(data)
    except OSError:
        pass
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
            if b"\r\n\r\n" in out and b"Connection: close" in out:
                head, _, body = out.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(body) >= int(line.split(b":")[1]):
                            return out
    except (socket.timeout, ConnectionResetError):
        pass
    finally:
        s.close()
    return out


def status_of(resp):
    assert resp.startswith(b"HTTP/1.1 "), resp[:100]
    return int(resp.split(b" ", 2)[1])


def json_body(resp):
    return json.loads(resp.partition(b"\r\n\r\n")[2])


@pytest.fixture
def h(haven, workdir):
    return haven(CONFIG.format(dir=workdir))


CASES = [
    ("huge_header", b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX-A: " +
     b"a" * 20000 + b"\r\n\r\n", 431),
    ("cl_and_te", b"POST /v1/reload HTTP/1.1\r\nHost: x\r\n"
     b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     400),
    ("dup_cl", b"POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 1"
     b"\r\nContent-Length: 1\r\n\r\nx", 400),
    ("obs_fold", b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
     400),
    ("bad_request_line", b"GET\r\n\r\n", 400),
    ("bad_version", b"GET /v1/status HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("nul_in_header", b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
     400),
    ("body_too_large", b"POST /v1/reload HTTP/1.1\r\nHost: x\r\n"
     b"Content-Length: 99999999\r\n\r\n", 413),
]


@pytest.mark.parametrize("name,data,want", CASES, ids=[c[0] for c in CASES])
def test_malformed(h, name, data, want):
    resp = raw(h.socket, data)
    assert status_of(resp) == want, resp[:300]
    assert "error" in json_body(resp)
    assert h.api("GET", "/v1/status").status == 200


def test_unknown_path_and_method(h):
    r = h.api("GET", "/v1/nope")
    assert r.status == 404 and r.json["error"]
    r = h.api("DELETE", "/v1/status")
    assert r.status == 405 and r.json["error"]
    r = h.api("GET", "/v1/lb")  # no lb plane configured
    assert r.status == 503 and r.json["error"]


def test_keepalive_and_pipelining(h):
    req = b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"
    resp = raw(h.socket, req * 3 + b"GET /nope HTTP/1.1\r\nHost: x\r\n"
               b"Connection: close\r\n\r\n", timeout=3)
    assert resp.count(b"HTTP/1.1 200 ") == 3
    assert resp.count(b"HTTP/1.1 404 ") == 1


def test_fuzz_corpus_against_daemon(h):
    files = sorted(glob.glob(os.path.join(REPO, "tests/fuzz/corpus/http1/*")))
    assert files, "no http1 corpus"
    for f in files:
        data = open(f, "rb").read()
        resp = raw(h.socket, data, timeout=0.5)
        if resp:
            code = status_of(resp)
            assert code < 500 or code == 505 or code == 503, (f, resp[:200])
    assert h.api("GET", "/v1/status").status == 200


def test_tcp_listener_requires_token(haven, workdir):
    port = free_port()
    haven(CONFIG.format(dir=workdir) +
          "  listen: 127.0.0.1:%d\n  token: s3cret\n" % port)
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    host = b"Host: 127.0.0.1:%d\r\n" % port
    c.sendall(b"GET /v1/status HTTP/1.1\r\n" + host +
              b"Connection: close\r\n\r\n")
    resp = c.recv(65536)
    c.close()
    assert status_of(resp) == 401
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    c.sendall(b"GET /v1/status HTTP/1.1\r\n" + host + b"Authorization: "
              b"Bearer s3cret\r\nConnection: close\r\n\r\n")
    resp = b""
    while True:
        b = c.recv(65536)
        if not b:
            break
        resp += b
    c.close()
    assert status_of(resp) == 200
    assert json_body(resp)["version"]
