"""The parent supervises one child per plane: a child killed with SIGKILL is
restarted within a second, and the restart shows in `haven status` and in
/metrics; SIGTERM stops everything cleanly."""

import os
import signal
import subprocess
import time

from prometheus_client.parser import text_string_to_metric_families

from havenlib.poll import wait_until

CONFIG = """\
haven:
  state_dir: {dir}/state
  shutdown_timeout: 2s
api:
  socket: {dir}/haven.sock
health:
  checks:
    - {{ name: local, type: tcp, address: 127.0.0.1:{port} }}
"""


def start(haven, workdir, port=9):
    h = haven(CONFIG.format(dir=workdir, port=port))
    return h


def hc_proc(h):
    for p in h.status()["processes"]:
        if p["plane"] == "hc" and p["state"] in ("running", "starting"):
            return p
    return None



def test_kill9_child_is_restarted(haven, workdir, haven_bin):
    h = start(haven, workdir)
    first = wait_until(lambda: hc_proc(h), timeout=10, what="hc running")
    t0 = time.monotonic()
    os.kill(first["pid"], signal.SIGKILL)

    def restarted():
        p = hc_proc(h)
        return p if p and p["pid"] != first["pid"] else None

    p = wait_until(restarted, timeout=5, interval=0.01, what="hc restarted")
    took = time.monotonic() - t0
    print("hc restarted after kill -9 in %.0f ms" % (took * 1000))
    assert took < 1.0
    assert p["restarts"] == 1
    assert h.metric("haven_process_restarts_total", plane="hc") == 1
    out = subprocess.run([haven_bin, "status", "-c", h.config],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    row = [line for line in out.stdout.splitlines()
           if line.startswith("hc ")]
    assert row and row[0].split()[4] == "1", out.stdout


def test_sigterm_stops_everything(haven, workdir):
    h = start(haven, workdir)
    child = wait_until(lambda: hc_proc(h), timeout=10, what="hc running")
    h.proc.signal(signal.SIGTERM)
    rc = h.proc.wait(timeout=6)
    assert rc == 0, h.proc.log_tail()
    assert not os.path.exists("/proc/%d" % child["pid"]) or \
        open("/proc/%d/stat" % child["pid"]).read().split()[2] == "Z"
    assert not os.path.exists(str(workdir / "haven.sock"))


def test_metrics_parse(haven, workdir):
    h = start(haven, workdir)
    wait_until(lambda: hc_proc(h), timeout=10, what="hc running")
    r = h.api("GET", "/metrics")
    assert r.status == 200
    names = {f.name for f in text_string_to_metric_families(r.text)}
    assert "haven_up" in names
    assert "haven_process_restarts" in names or \
        "haven_process_restarts_total" in names
