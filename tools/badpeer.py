#!/usr/bin/python3
"""badpeer - a TCP peer that misbehaves in one chosen way, for health-check
and load-balancer tests.

Usage: badpeer.py --role ROLE --listen ADDR:PORT [--delay MS]
                  [--max-seconds N]

Roles (one per run):
  refuse       bind the port but never listen(): connections are refused
               (RST to the SYN) while the port stays reserved, so nothing
               else can grab it mid-test. "No listener at all" is the other
               way to get a refusal: just do not start a peer.
  rst          accept, then close with SO_LINGER 0: the client sees a reset
  close        accept, then close before sending a byte (clean FIN)
  hang         accept and read, never answer
  slow         a valid HTTP 200, one byte every --delay ms (default 100)
  status:CODE  an HTTP response with status CODE (100..999), keep-alive
  garbage      random bytes that are not HTTP, then close
  huge         HTTP 200 with a 100 MiB body, streamed with back-pressure
  tls-badcert  TLS with a self-signed certificate made at start with the
               openssl CLI, then HTTP 200 "ok"
  http-ok      plain HTTP 200 with body "ok", keep-alive

--delay MS waits that long before the first response byte (for slow: the
interval between bytes). ADDR may be [v6]; PORT 0 picks a free port.
Prints "listening ADDR:PORT" and then "ready" on stdout once the socket is
set up. Exits 0 on SIGTERM/SIGINT or after --max-seconds (default 300): a
forgotten peer never outlives its test run by much. Counts of connections
and errors go to stderr at exit.
"""

import argparse
import asyncio
import os
import random
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile

HUGE_BYTES = 100 * 1024 * 1024
CHUNK = 64 * 1024
MAX_HEAD = 64 * 1024
READ_TIMEOUT = 30.0
REASONS = {200: "OK", 204: "No Content", 301: "Moved Permanently",
           404: "Not Found", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}

stats = {"conns": 0, "requests": 0, "errors": 0}


def parse_listen(s):
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError("want ADDR:PORT, got %r" % s)
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def parse_role(s):
    if s.startswith("status:"):
        code = s[len("status:"):]
        if not code.isdigit() or not 100 <= int(code) <= 999:
            raise argparse.ArgumentTypeError("bad status code %r" % code)
        return s
    if s not in ROLES and s != "refuse":
        raise argparse.ArgumentTypeError(
            "unknown role %r (one of: refuse, %s, status:CODE)" % (
                s, ", ".join(sorted(ROLES))))
    return s


def response(code, body, close=False):
    head = "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n" \
           "Content-Length: %d\r\n" % (code, REASONS.get(code, "Status"),
                                       len(body))
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + body


async def read_head(reader):
    """One request head; None at EOF. Bodies are not expected: peers of
    health checks and proxies send GET/HEAD."""
    try:
        data = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"),
                                      READ_TIMEOUT)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError,
            asyncio.TimeoutError, ConnectionError):
        return None
    stats["requests"] += 1
    return data


def wants_close(head):
    first, _, rest = head.partition(b"\r\n")
    lower = rest.lower()
    return first.endswith(b"HTTP/1.0") or b"connection: close" in lower


async def delay(args):
    if args.delay > 0:
        await asyncio.sleep(args.delay / 1000.0)


async def role_http(reader, writer, args, code, body):
    while True:
        head = await read_head(reader)
        if head is None:
            return
        await delay(args)
        close = wants_close(head)
        is_head = head.startswith(b"HEAD ")
        msg = response(code, body, close)
        if is_head:
            msg = msg[:len(msg) - len(body)]
        writer.write(msg)
        await writer.drain()
        if close:
            return


async def role_slow(reader, writer, args):
    if await read_head(reader) is None:
        return
    interval = (args.delay if args.delay > 0 else 100) / 1000.0
    for b in response(200, b"slow\n", close=True):
        writer.write(bytes([b]))
        await writer.drain()
        await asyncio.sleep(interval)


async def role_hang(reader, writer, args):
    # Read and drop whatever comes, so the peer's writes never block and
    # only the missing answer is the fault.
    while await reader.read(CHUNK):
        pass


async def role_garbage(reader, writer, args):
    await delay(args)
    junk = bytearray(random.randbytes(4096))
    junk[0:4] = b"\x00\xffZ\x01"  # never a valid status line
    writer.write(bytes(junk))
    await writer.drain()


async def role_huge(reader, writer, args):
    if await read_head(reader) is None:
        return
    await delay(args)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream"
                 b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                 % HUGE_BYTES)
    chunk = b"x" * CHUNK
    for _ in range(HUGE_BYTES // CHUNK):
        writer.write(chunk)
        await writer.drain()


async def role_close(reader, writer, args):
    await delay(args)


def role_rst_sock(writer):
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))


ROLES = {
    "rst": None,  # handled in serve(): needs the socket before close
    "close": role_close,
    "hang": role_hang,
    "slow": role_slow,
    "garbage": role_garbage,
    "huge": role_huge,
    "tls-badcert": lambda r, w, a: role_http(r, w, a, 200, b"ok"),
    "http-ok": lambda r, w, a: role_http(r, w, a, 200, b"ok"),
}


def handler_for(role):
    if role.startswith("status:"):
        code = int(role[len("status:"):])
        return lambda r, w, a: role_http(r, w, a, code,
                                         b"status %d\n" % code)
    return ROLES[role]


async def serve(reader, writer, args, fn):
    stats["conns"] += 1
    try:
        if args.role == "rst":
            await delay(args)
            role_rst_sock(writer)
        else:
            await fn(reader, writer, args)
    except (ConnectionError, ssl.SSLError, OSError):
        stats["errors"] += 1
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, ssl.SSLError, OSError):
            pass


def self_signed(tmpdir):
    """A throwaway certificate from the openssl CLI, as the task asks:
    nothing about it is trustworthy, which is the point."""
    key = os.path.join(tmpdir, "key.pem")
    crt = os.path.join(tmpdir, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=badpeer.invalid", "-keyout", key, "-out",
                    crt], check=True, capture_output=True, timeout=30)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    return ctx


def make_socket(host, port, listen):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(128)
    return sock


def announce(sock):
    host, port = sock.getsockname()[:2]
    print("listening %s:%d" % ("[%s]" % host if ":" in host else host,
                               port), flush=True)
    print("ready", flush=True)


async def main_async(args):
    host, port = args.listen
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tmpdir = None
    server = None
    if args.role == "refuse":
        sock = make_socket(host, port, listen=False)
        announce(sock)
    else:
        ctx = None
        if args.role == "tls-badcert":
            tmpdir = tempfile.mkdtemp(prefix="badpeer-")
            ctx = self_signed(tmpdir)
        sock = make_socket(host, port, listen=True)
        fn = handler_for(args.role)
        server = await asyncio.start_server(
            lambda r, w: serve(r, w, args, fn), sock=sock, ssl=ctx,
            limit=MAX_HEAD)
        announce(sock)
    try:
        await asyncio.wait_for(stop.wait(), args.max_seconds)
    except asyncio.TimeoutError:
        print("badpeer: --max-seconds reached", file=sys.stderr)
    if server is not None:
        server.close()
    else:
        sock.close()
    if tmpdir:
        shutil.rmtree(tmpdir, ignore_errors=True)
    print("badpeer: %(conns)d connections, %(requests)d requests, "
          "%(errors)d errors" % stats, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--role", required=True, type=parse_role)
    ap.add_argument("--listen", required=True, type=parse_listen)
    ap.add_argument("--delay", type=int, default=0, metavar="MS")
    ap.add_argument("--max-seconds", type=float, default=300)
    ap.add_argument("--seed", type=int, default=None,
                    help="seed for garbage bytes (default: random)")
    args = ap.parse_args()
    if args.seed is not None:
        random.seed(args.seed)
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
