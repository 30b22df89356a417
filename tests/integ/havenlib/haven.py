"""haven - run haven, nginx and badpeer as the processes tests talk to.

Haven starts `$HAVEN_BIN run -c CONFIG` (optionally inside an Ns) and
speaks HTTP/1.1 to its control API over the unix socket named by the
config's api.socket; the socket lives on the shared filesystem, so the
client works from the test process even when haven runs in a namespace.

Nginx is a backend: nginx-light with a generated config, single process
(master_process off) so kill() really takes the backend down, every path
under its own work dir. It serves a fixed body on every path and /healthz,
which answers 200 while its flag file exists and 503 once set_healthy(False)
removed it: a backend that fails its health check without dying.
listen_opts is appended to the listen directive (e.g. "proxy_protocol") and
server_extra is raw nginx text placed in the server block (extra locations;
`$dir` in it is not expanded, use self.dir from the caller).

BadPeer runs tools/badpeer.py with one misbehaviour.

http_get() fetches a URL from the test process or, given an Ns, with curl
inside that namespace. All processes are havenlib.proc Procs: logs in the
test's directory, killed at exit.
"""

import http.client
import json
import os
import re
import socket

from . import proc
from .poll import wait_until

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                    ".."))
BADPEER = os.path.join(REPO, "tools", "badpeer.py")
PYTHON = "/usr/bin/python3"


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over an AF_UNIX stream socket."""

    def __init__(self, path, timeout=5.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.unix_path)
        except OSError:
            s.close()
            raise
        self.sock = s


class ApiResponse:
    """status, headers, raw body, and .json (None if not JSON)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<ApiResponse %d %r>" % (self.status, self.body[:200])

    @property
    def text(self):
        return self.body.decode(errors="replace")


def unix_request(path, method, url, body=None, headers=None, timeout=5.0):
    """One HTTP request over a unix socket; body may be bytes, str or a
    JSON-serialisable object."""
    hdrs = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        hdrs.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode()
    conn = UnixHTTPConnection(path, timeout=timeout)
    try:
        conn.request(method, url, body=body, headers=hdrs)
        r = conn.getresponse()
        return ApiResponse(r.status, dict(r.getheaders()), r.read())
    finally:
        conn.close()


def api_socket_of(config_text):
    """api.socket from a haven YAML config (block style, as examples use)."""
    in_api = False
    for line in config_text.splitlines():
        if re.match(r"^api\s*:", line):
            in_api = True
            continue
        if in_api and re.match(r"^\S", line):
            in_api = False
        m = in_api and re.match(r"^\s+socket\s*:\s*['\"]?([^'\"#\s]+)", line)
        if m:
            return m.group(1)
    return None


class Haven:
    """One haven daemon; see the module comment."""

    def __init__(self, bin_path, config, workdir, ns=None, socket_path=None,
                 name="haven", env=None, args=(), wrap=()):
        self.bin = str(bin_path)
        # A command haven runs under, e.g. ["prlimit", "--nofile=128:128"].
        self.wrap = list(wrap)
        self.workdir = str(workdir)
        self.ns = ns
        self.name = name
        self.env = env
        self.args = list(args)
        if os.path.exists(str(config)):
            self.config = str(config)
        else:
            self.config = os.path.join(self.workdir, name + ".yaml")
            with open(self.config, "w") as f:
                f.write(config)
        with open(self.config) as f:
            self.socket = socket_path or api_socket_of(f.read())
        self.proc = None

    def start(self):
        self.proc = proc.start(self.wrap +
                               [self.bin, "run", "-c", self.config] +
                               self.args, self.workdir, name=self.name,
                               ns=self.ns, env=self.env)
        return self

    def lb_server(self, pool, server):
        """The server's object in GET /v1/lb (asserts 200 and presence)."""
        r = self.api("GET", "/v1/lb")
        assert r.status == 200, r
        for p in r.json["pools"]:
            for s in p["servers"] if p["name"] == pool else ():
                if s["name"] == server:
                    return s
        raise AssertionError("no server %s/%s in %r" % (pool, server, r))

    def api(self, method, path, body=None, timeout=5.0):
        if self.socket is None:
            raise AssertionError("no api.socket in %s" % self.config)
        return unix_request(self.socket, method, path, body, timeout=timeout)

    def status(self):
        """GET /v1/status as parsed JSON (asserts 200)."""
        r = self.api("GET", "/v1/status")
        assert r.status == 200, r
        return r.json

    def plane_pid(self, plane):
        """The pid of plane's running process (the first worker), or None."""
        for p in self.status()["processes"]:
            if p["plane"] == plane and p["state"] == "running":
                return p["pid"]
        return None

    def metric(self, name, **labels):
        """Sum of the /metrics samples called name whose labels include
        labels (every worker's), parsed as Prometheus text; 0 if none."""
        from prometheus_client.parser import text_string_to_metric_families

        r = self.api("GET", "/metrics")
        assert r.status == 200, r
        return sum(s.value for fam in text_string_to_metric_families(r.text)
                   for s in fam.samples
                   if s.name == name and all(s.labels.get(k) == v
                                             for k, v in labels.items()))

    def wait_ready(self, timeout=10.0):
        """Wait until GET /v1/status answers 200; fail fast if haven
        exits, with its log tail."""
        def ready():
            if not self.proc.alive():
                raise AssertionError("%s exited rc=%s:\n%s" % (
                    self.name, self.proc.returncode, self.proc.log_tail()))
            return self.api("GET", "/v1/status", timeout=1.0).status == 200

        wait_until(ready, timeout=timeout,
                   what="%s control API on %s" % (self.name, self.socket))
        return self

    def stop(self, timeout=5.0):
        return self.proc.stop(timeout=timeout) if self.proc else None


NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    default_type text/plain;
    server {{
        listen {listen} reuseport{listen_opts};
        root {dir}/www;
{server_extra}
        location = /healthz {{ try_files /healthz =503; }}
        location / {{ try_files /body =404; }}
    }}
}}
"""


class Nginx:
    """A backend on addr:port; see the module comment."""

    def __init__(self, workdir, addr="127.0.0.1", port=8080, body="hello\n",
                 ns=None, name=None, listen_opts="", server_extra=""):
        self.addr, self.port, self.ns = addr, int(port), ns
        self.name = name or "nginx-%s-%d" % (addr.replace(":", "_"), port)
        self.dir = os.path.join(str(workdir), self.name)
        self.body = body
        self.listen_opts = listen_opts
        www = os.path.join(self.dir, "www")
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        os.makedirs(www, exist_ok=True)
        with open(os.path.join(www, "body"), "w") as f:
            f.write(body)
        self.set_healthy(True)
        listen = ("[%s]:%d" if ":" in addr else "%s:%d") % (addr, self.port)
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(NGINX_CONF.format(
                dir=self.dir, listen=listen,
                listen_opts=" " + listen_opts if listen_opts else "",
                server_extra=server_extra))
        self.proc = None

    @property
    def url(self):
        host = "[%s]" % self.addr if ":" in self.addr else self.addr
        return "http://%s:%d/" % (host, self.port)

    def start(self, timeout=10.0):
        self.proc = proc.start(["nginx", "-e", "stderr", "-p", self.dir,
                                "-c", self.conf], self.dir, name="nginx",
                               ns=self.ns)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=10.0):
        def up():
            if not self.proc.alive():
                raise AssertionError("nginx exited rc=%s:\n%s" % (
                    self.proc.returncode, self.proc.log_tail()))
            if "proxy_protocol" in self.listen_opts and self.ns is None:
                # A plain GET gets no answer here: a connect must do.
                socket.create_connection((self.addr, self.port), 1).close()
                return True
            return http_get(self.url + "healthz", ns=self.ns)[0] != 0

        wait_until(up, timeout=timeout, what="nginx on " + self.url)

    def set_healthy(self, ok):
        flag = os.path.join(self.dir, "www", "healthz")
        if ok:
            with open(flag, "w") as f:
                f.write("ok\n")
        elif os.path.exists(flag):
            os.unlink(flag)

    def stop(self):
        return self.proc.stop() if self.proc else None

    def kill(self):
        return self.proc.kill()


class BadPeer:
    """tools/badpeer.py with one role, started and waited for."""

    def __init__(self, workdir, role, addr="127.0.0.1", port=0, ns=None,
                 delay_ms=None, max_seconds=300, name=None):
        self.role, self.addr, self.ns = role, addr, ns
        self.port = int(port)
        self.workdir = str(workdir)
        self.name = name or "badpeer-" + re.sub(r"[^\w-]", "_", role)
        host = "[%s]" % addr if ":" in addr else addr
        self.argv = [PYTHON, BADPEER, "--role", role, "--listen",
                     "%s:%d" % (host, self.port), "--max-seconds",
                     str(max_seconds)]
        if delay_ms is not None:
            self.argv += ["--delay", str(delay_ms)]
        self.proc = None

    def start(self, timeout=10.0):
        self.proc = proc.start(self.argv, self.workdir, name=self.name,
                               ns=self.ns)
        m = self.proc.wait_for_log(r"^listening \S+:(\d+)$", timeout)
        self.port = int(m.group(1))
        self.proc.wait_for_log(r"^ready$", timeout)
        return self

    def stop(self):
        return self.proc.stop() if self.proc else None


def http_get(url, ns=None, timeout=5.0):
    """GET url; returns (status, body bytes), status 0 when no HTTP answer
    came (refused, reset, timeout). With ns, curl runs in that namespace."""
    if ns is not None:
        cp = ns.run(["curl", "-s", "-m", str(timeout), "-o", "-", "-w",
                     "\n%{http_code}", url], check=False,
                    timeout=timeout + 10)
        out, _, code = cp.stdout.rpartition("\n")
        return int(code or 0), out.encode()
    m = re.match(r"http://(\[[^\]]+\]|[^/:]+)(?::(\d+))?(/.*)?$", url)
    if m is None:
        raise ValueError("not an http URL: " + url)
    host = m.group(1).strip("[]")
    conn = http.client.HTTPConnection(host, int(m.group(2) or 80),
                                      timeout=timeout)
    try:
        conn.request("GET", m.group(3) or "/")
        r = conn.getresponse()
        return r.status, r.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        conn.close()


def free_port(addr="127.0.0.1"):
    """A TCP port that was free a moment ago on addr (racy by nature; fine
    for loopback tests, which are the only callers)."""
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


__all__ = ["Haven", "Nginx", "BadPeer", "http_get", "unix_request",
           "free_port", "UnixHTTPConnection", "api_socket_of"]
