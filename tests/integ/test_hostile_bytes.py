"""Bytes that crash libfyaml 0.7.12 (": ? z:<TAB>>", eight of them) reach
haven by every path an operator or a client has, and never crash a process:
`haven check` exits 1 naming the file, a reload keeps the old config and
every plane, an API body gets a 400 with the lb worker still the same
process, and a state file holding them costs only a cold start."""

import signal
import subprocess

from havenlib.poll import wait_until
from test_lb_balance import spread, start

CRASHER = b": ? z:\t>"


def test_check_reports_a_parser_crash(haven_bin, workdir):
    bad = workdir / "bad.yaml"
    bad.write_bytes(CRASHER)
    cp = subprocess.run([haven_bin, "check", "-c", str(bad)],
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode == 1, (cp.returncode, cp.stdout, cp.stderr)
    out = cp.stdout + cp.stderr
    assert "%s: the YAML parser crashed on this input" % bad in out, out


def test_reload_with_crashing_bytes_keeps_everything(haven, nginx, workdir):
    h, url = start(haven, nginx, workdir)
    digest = h.status()["config"]["digest"]
    pids = {p: h.plane_pid(p) for p in ("hc", "lb")}
    cfg = h.config
    good = open(cfg, "rb").read()
    with open(cfg, "wb") as f:
        f.write(CRASHER)
    r = h.api("POST", "/v1/reload")
    assert r.status == 400, r
    assert any("the YAML parser crashed" in e for e in r.json["errors"]), r
    h.proc.signal(signal.SIGHUP)
    h.proc.wait_for_log(r"config rejected", timeout=10)
    st = h.status()
    assert st["config"]["digest"] == digest
    assert st["config"]["reloads_failed"] == 2
    assert {p: h.plane_pid(p) for p in ("hc", "lb")} == pids
    assert set(spread(url, 4)) == {"A", "B"}
    # The good file reloads as before.
    with open(cfg, "wb") as f:
        f.write(good)
    assert h.api("POST", "/v1/reload").status == 200


def test_api_body_with_crashing_bytes(haven, nginx, workdir):
    h, url = start(haven, nginx, workdir)
    lb = h.plane_pid("lb")
    for body in (CRASHER, b"weight: 5\n", b"? a:\t? b"):
        for _ in range(20):
            r = h.api("POST", "/v1/lb/pools/web/servers/a/weight", body)
            assert r.status == 400, (body, r)
            assert "invalid JSON" in r.text, r.text
    assert h.plane_pid("lb") == lb
    assert all(p["restarts"] == 0 for p in h.status()["processes"])
    assert set(spread(url, 4)) == {"A", "B"}
    r = h.api("POST", "/v1/lb/pools/web/servers/a/weight", b'{"weight": 5}')
    assert r.status == 200, r


def test_state_file_with_crashing_bytes(haven, nginx, workdir):
    state = workdir / "state"
    state.mkdir(parents=True, exist_ok=True)
    (state / "health.json").write_bytes(CRASHER)
    h, url = start(haven, nginx, workdir)
    h.proc.wait_for_log(r"health state file unusable", timeout=5)
    hc = h.plane_pid("hc")
    assert all(p["restarts"] == 0 for p in h.status()["processes"])
    assert set(spread(url, 4)) == {"A", "B"}
    # Fresh probes made the verdicts, and they are persisted in JSON again.
    wait_until(lambda: b'"written_ms"' in
               (state / "health.json").read_bytes(), timeout=5,
               what="state file rewritten")
    assert h.plane_pid("hc") == hc
