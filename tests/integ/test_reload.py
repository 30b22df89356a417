"""Reload: a broken config changes nothing (errors logged and returned), a
good one is applied and shows its digest in /v1/status."""

import hashlib
import signal

from havenlib.poll import wait_until

CONFIG = """\
haven:
  state_dir: {dir}/state
  log_level: {level}
api:
  socket: {dir}/haven.sock
health: {{}}
"""


def write(path, text):
    path.write_text(text)
    return hashlib.sha256(text.encode()).hexdigest()


def test_sighup_broken_then_good(haven, workdir):
    cfg = workdir / "haven.yaml"
    d1 = write(cfg, CONFIG.format(dir=workdir, level="info"))
    h = haven(str(cfg))
    assert h.status()["config"]["digest"] == d1

    write(cfg, CONFIG.format(dir=workdir, level="loud"))
    h.proc.signal(signal.SIGHUP)
    h.proc.wait_for_log(r"config rejected", timeout=5)
    assert "haven.yaml:3:14" in h.proc.log_text()
    st = h.status()
    assert st["config"]["digest"] == d1
    assert st["config"]["reloads_failed"] == 1

    d3 = write(cfg, CONFIG.format(dir=workdir, level="debug"))
    h.proc.signal(signal.SIGHUP)
    wait_until(lambda: h.status()["config"]["digest"] == d3, timeout=5,
               what="new digest")


def test_api_reload_reports_errors(haven, workdir):
    cfg = workdir / "haven.yaml"
    d1 = write(cfg, CONFIG.format(dir=workdir, level="info"))
    h = haven(str(cfg))
    write(cfg, CONFIG.format(dir=workdir, level="info") + "bogus: 1\n")
    r = h.api("POST", "/v1/reload")
    assert r.status == 400
    assert r.json["ok"] is False
    assert any(e.startswith(str(cfg) + ":7:1:") for e in r.json["errors"]), \
        r.json
    assert h.status()["config"]["digest"] == d1
    d2 = write(cfg, CONFIG.format(dir=workdir, level="warn"))
    r = h.api("POST", "/v1/reload")
    assert r.status == 200 and r.json["ok"] is True
    assert r.json["digest"] == d2


def test_reload_of_an_emptied_file_keeps_the_planes(haven, workdir):
    """A config file truncated by a failed deploy, then a reload: refused,
    the health plane keeps running."""
    cfg = workdir / "haven.yaml"
    d1 = write(cfg, CONFIG.format(dir=workdir, level="info"))
    h = haven(str(cfg))
    pid = wait_until(lambda: h.plane_pid("hc"), timeout=5, what="hc running")
    write(cfg, "")
    r = h.api("POST", "/v1/reload")
    assert r.status == 400 and r.json["ok"] is False
    assert any("no plane configured" in e for e in r.json["errors"]), r.json
    st = h.status()
    assert st["config"]["digest"] == d1
    assert h.plane_pid("hc") == pid
