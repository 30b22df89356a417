"""A short seeded chaos drill (bench/chaos.py) against haven at its
defaults: three nginx backends on loopback, 16 keep-alive clients, and for
18 s a fault every 2-4 s (kill -9, SIGSTOP, iptables DROP, reload; never
more than two backends at once, so one always answers its probes). haven
must never answer 503 while that is so: flap damping and passive ejection
may only de-prefer a server that answers, never take the pool's last
capacity away. The drill removes its iptables rules itself, failure
included.
"""
import json
import os
import shutil
import subprocess

import pytest

from havenlib.haven import REPO

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.mark.timing
def test_chaos_no_503_at_defaults(haven_bin, workdir):
    if os.geteuid() != 0 or shutil.which("iptables") is None:
        pytest.skip("needs root and iptables")
    if subprocess.run(["iptables", "-w", "-S", "INPUT"],
                      capture_output=True).returncode != 0:
        pytest.skip("iptables does not work here")
    out = os.path.join(str(workdir), "chaos.json")
    # Seed 4's schedule has every fault kind within 18 s.
    p = subprocess.run(
        ["/usr/bin/python3", os.path.join(REPO, "bench", "chaos.py"),
         "--seeds", "4", "--duration", "18", "--only", "haven",
         "--haven-bin", haven_bin, "--json", out, "--assert-no-503"],
        capture_output=True, text=True, timeout=90)
    print(p.stdout, p.stderr)
    assert p.returncode in (0, 1), p.stderr
    res = json.load(open(out))["4"]
    kinds = {f[1] for f in res["schedule"]}
    assert {"kill", "stop", "drop", "reload"} <= kinds, res["schedule"]
    h = res["proxies"]["haven"]
    assert h["requests"] > 2000, h
    assert h["503"] == 0, h["fails"][:20]
    assert p.returncode == 0
    # Stalls cost a few timeouts per parked connection, nothing more.
    assert h["failed"] < 0.02 * h["requests"], h["by_fault"]
