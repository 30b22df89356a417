"""Control API access with the real daemon: the token matrix over TCP (no
token, read-only, admin x GET, POST), the unix socket as root and as user
nobody (refused; admin through api.group; read-only through
api.read_group), a browser's Origin and a foreign Host refused, every
refusal counted in haven_api_refused_total{reason}, the CLI sending its
token over TCP, and the loud waiver."""

import http.client
import os
import shutil
import subprocess
import tempfile

import pytest

from havenlib.configs import BASE
from havenlib.haven import free_port, unix_request

ADMIN, READ = "adm1n-t0ken", "r3ad-t0ken"

CONFIG = BASE + """\
  listen: 127.0.0.1:{port}
  token: {admin}
  read_token: {read}
health: {{}}
"""


def tcp(port, method, path, token=None, headers=None):
    """One request to the TCP listener; (status, headers, body)."""
    hdrs = dict(headers or {})
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request(method, path, headers=hdrs)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


@pytest.fixture
def tcp_haven(haven, workdir):
    port = free_port()
    h = haven(CONFIG.format(dir=workdir, port=port, admin=ADMIN, read=READ))
    return h, port


def test_token_matrix(tcp_haven):
    h, port = tcp_haven
    # (token, GET /v1/status, POST /v1/reload)
    for token, get, post in ((None, 401, 401), (READ, 200, 403),
                             (ADMIN, 200, 200), ("wrong", 401, 401)):
        st, hdrs, _ = tcp(port, "GET", "/v1/status", token)
        assert st == get, (token, st)
        st, hdrs, body = tcp(port, "POST", "/v1/reload", token)
        assert st == post, (token, st, body)
        if post == 401:
            assert hdrs.get("WWW-Authenticate", "").startswith("Bearer")
    # The read-only token reads metrics; each refusal is counted.
    st, _, body = tcp(port, "GET", "/metrics", READ)
    assert st == 200
    assert h.metric("haven_api_refused_total", reason="no_token") == 2
    assert h.metric("haven_api_refused_total", reason="bad_token") == 2
    assert h.metric("haven_api_refused_total", reason="read_only") == 1
    assert h.status()["config"]["reloads"] == 1  # the admin's reload only


def test_origin_and_host_refused(tcp_haven):
    h, port = tcp_haven
    evil = {"Host": "evil.example:%d" % port}
    assert tcp(port, "GET", "/v1/status", ADMIN, evil)[0] == 403
    assert tcp(port, "GET", "/v1/status", ADMIN,
               {"Host": "localhost:%d" % port})[0] == 200
    page = {"Origin": "http://evil.example"}
    assert tcp(port, "POST", "/v1/reload", ADMIN, page)[0] == 403
    # Even root's unix socket: a request a browser page made is refused.
    assert h.api("GET", "/v1/status").status == 200
    r = unix_request(h.socket, "POST", "/v1/reload", headers=page)
    assert r.status == 403, r
    assert h.metric("haven_api_refused_total", reason="host") == 1
    assert h.metric("haven_api_refused_total", reason="origin") == 2
    assert h.status()["config"]["reloads"] == 0


def test_cli_sends_token_over_tcp(tcp_haven, workdir):
    h, port = tcp_haven
    addr = "127.0.0.1:%d" % port

    def ctl(*args, token=None, conf=None):
        env = dict(os.environ)
        env.pop("HAVEN_TOKEN", None)
        if token:
            env["HAVEN_TOKEN"] = token
        argv = [h.bin, "ctl"] + (["-c", conf] if conf else []) + \
            ["-a", addr] + list(args)
        return subprocess.run(argv, capture_output=True, text=True,
                              timeout=10, env=env)

    assert ctl("GET", "/v1/status").returncode == 1
    assert ctl("GET", "/v1/status", token=READ).returncode == 0
    cp = ctl("POST", "/v1/reload", token=READ)
    assert cp.returncode == 1 and "read-only" in cp.stdout, cp
    # From the config: api.token, the admin one.
    cp = ctl("POST", "/v1/reload", conf=h.config)
    assert cp.returncode == 0, cp
    env = dict(os.environ, HAVEN_TOKEN=READ)
    cp = subprocess.run([h.bin, "status", "-a", addr], capture_output=True,
                        text=True, timeout=10, env=env)
    assert cp.returncode == 0 and "PROCESS" in cp.stdout, cp


def test_insecure_waiver_is_loud(haven, workdir):
    port = free_port()
    h = haven(BASE.format(dir=workdir) + "  listen: 127.0.0.1:%d\n"
              "  insecure_no_token: true\nhealth: {}\n" % port)
    assert tcp(port, "POST", "/v1/reload")[0] == 200
    h.proc.wait_for_log(r"level=warn .*INSECURE.*insecure_no_token")


@pytest.fixture
def reachable_dir():
    """A directory user nobody can traverse (pytest's tmp is 0700)."""
    d = tempfile.mkdtemp(prefix="haven-auth-")
    os.chmod(d, 0o711)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def as_nobody(h, sock, method, path):
    """`haven ctl` run as nobody:nogroup with no supplementary groups."""
    cp = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                         "--clear-groups", h.bin, "ctl", "-s", sock,
                         method, path], capture_output=True, text=True,
                        timeout=10)
    return cp


@pytest.mark.parametrize("groups,get,post", [
    ("", "cannot reach", "cannot reach"),        # 0600: cannot connect
    ("  group: nogroup\n", 0, 0),                 # admin by group
    ("  group: root\n  read_group: nogroup\n", 0, "read-only"),
    ("  read_group: root\n", "not allowed", "not allowed"),  # peer refused
])
def test_unix_socket_as_nobody(haven, workdir, reachable_dir, groups, get,
                               post):
    if os.geteuid() != 0:
        pytest.skip("needs root to run the client as nobody")
    sock = os.path.join(reachable_dir, "haven.sock")
    h = haven("haven:\n  state_dir: %s/state\napi:\n  socket: %s\n%s"
              "health: {}\n" % (workdir, sock, groups), socket_path=sock)
    # Root is always admin.
    assert h.api("POST", "/v1/reload").status == 200
    for method, path, want in (("GET", "/v1/status", get),
                               ("POST", "/v1/reload", post)):
        cp = as_nobody(h, sock, method, path)
        if want == 0:
            assert cp.returncode == 0, cp
        else:
            assert cp.returncode == 1, cp
            assert want in cp.stdout + cp.stderr, cp
    refused_peer = 2 if "not allowed" in (get, post) else 0
    assert h.metric("haven_api_refused_total", reason="peer") == refused_peer
