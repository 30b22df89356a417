"""One daemon per state directory: a second `haven run` on the state
directory or the API socket of a running one exits 1 naming its pid, and
the first keeps its socket (the API answers), its lb port (traffic through
it works) and its state file. A stale socket file nobody listens on is
replaced, so a crashed daemon's leftovers never block a restart."""

import os
import socket
import subprocess

from havenlib.configs import FAST, MINIMAL, WEB_HTTP, health, lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

CONFIG = lb_config("""\
  listeners:
    - {{ name: web, bind: 127.0.0.1:{port}, mode: http, pool: web }}
  pools:
    - name: web
      health_check: web-http
      servers:
        - {{ name: a, address: 127.0.0.1:{pa} }}
""", health=health(FAST, WEB_HTTP))


def start_first(haven, nginx, workdir):
    pa, port = free_port(), free_port()
    nginx(port=pa, body="A\n")
    text = CONFIG.format(dir=workdir, port=port, pa=pa)
    h = haven(text, name="first")
    wait_until(lambda: h.lb_server("web", "a")["state"] == "up",
               timeout=10, what="server a up")
    state = os.path.join(str(workdir), "state", "health.json")
    # Written once server a's verdict is in: later bytes stay the same.
    wait_until(lambda: os.path.exists(state) and '"web/a"' in read(state),
               timeout=10, what="first daemon's state file with web/a")
    return h, text, port, state


def run_second(h, text, workdir, name):
    path = os.path.join(str(workdir), name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    return subprocess.run([h.bin, "run", "-c", path], capture_output=True,
                          text=True, timeout=10)


def assert_first_intact(h, port, state, before):
    assert h.proc.alive()
    assert h.status()["pid"] == h.proc.pid
    status, body = http_get("http://127.0.0.1:%d/" % port)
    assert (status, body) == (200, b"A\n")
    assert os.path.exists(state)
    with open(os.path.join(os.path.dirname(state), "haven.lock")) as f:
        assert f.read().strip() == str(h.proc.pid)
    # Nothing changed in between (server a stays up), so the bytes are
    # still the first daemon's: the second one did not write its own.
    with open(state) as f:
        assert f.read() == before


def read(path):
    with open(path) as f:
        return f.read()


def test_same_config_refused(haven, nginx, workdir):
    h, text, port, state = start_first(haven, nginx, workdir)
    before = read(state)
    cp = run_second(h, text, workdir, "second")
    assert cp.returncode == 1, (cp.stdout, cp.stderr)
    assert "pid=%d" % h.proc.pid in cp.stderr, cp.stderr
    assert "state directory" in cp.stderr, cp.stderr
    assert_first_intact(h, port, state, before)


def test_same_state_dir_other_socket_refused(haven, nginx, workdir):
    h, text, port, state = start_first(haven, nginx, workdir)
    before = read(state)
    other = text.replace("%s/haven.sock" % workdir,
                         "%s/other.sock" % workdir)
    assert other != text
    cp = run_second(h, other, workdir, "second")
    assert cp.returncode == 1, (cp.stdout, cp.stderr)
    assert "pid=%d" % h.proc.pid in cp.stderr, cp.stderr
    assert not os.path.exists(os.path.join(str(workdir), "other.sock"))
    assert_first_intact(h, port, state, before)


def test_same_socket_other_state_dir_refused(haven, nginx, workdir):
    h, text, port, state = start_first(haven, nginx, workdir)
    before = read(state)
    other = text.replace("%s/state" % workdir, "%s/state2" % workdir)
    assert other != text
    cp = run_second(h, other, workdir, "second")
    assert cp.returncode == 1, (cp.stdout, cp.stderr)
    # Named from the socket's peer credentials: no shared lock file here.
    assert "pid=%d" % h.proc.pid in cp.stderr, cp.stderr
    assert "API socket" in cp.stderr, cp.stderr
    assert_first_intact(h, port, state, before)


def test_stale_socket_replaced(haven, workdir):
    path = os.path.join(str(workdir), "haven.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()  # the file stays; nobody listens: what a crash leaves
    assert os.path.exists(path)
    h = haven(MINIMAL.format(dir=workdir))
    assert h.status()["pid"] == h.proc.pid
