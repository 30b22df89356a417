"""Detection and recovery times of the health engine against a real nginx
backend in another network namespace, with the default timing (interval 1s,
timeout 1s, rise 2, fall 2).

A dead backend (process killed: connections refused) and a black-holed one
(iptables DROP: probes time out) must both be `down` within
interval x fall + timeout, and a healed one `up` again after `rise` probes.
Each time is printed (MEASURE lines) and bounded with SLACK for this small,
noisy machine.
"""

import time

import pytest

from havenlib import hc
from havenlib.poll import wait_until

pytestmark = pytest.mark.root

INTERVAL, TIMEOUT, RISE, FALL = 1.0, 1.0, 2, 2
SLACK = 1.5
DOWN_BOUND = INTERVAL * FALL + TIMEOUT + SLACK
UP_BOUND = RISE * INTERVAL + SLACK


def start(netns, haven, nginx, workdir, ctype="http"):
    hv, be, _ = hc.two_hosts(netns)
    n = nginx(hc.BACKEND_ADDR, 8080, ns=be)
    chk = {"name": "web", "type": ctype,
           "address": "%s:8080" % hc.BACKEND_ADDR}
    if ctype == "http":
        chk["path"] = "/healthz"
    h = haven(hc.config(workdir, [chk], defaults={
        "interval": "1s", "timeout": "1s", "rise": RISE, "fall": FALL}),
        ns=hv)
    hc.wait_state(h, "web", "up", timeout=5)
    return h, n, hv, be


@pytest.mark.parametrize("ctype", ["tcp", "http"])
def test_killed_backend_down_within_bound(netns, haven, nginx, workdir,
                                          ctype):
    h, n, _, _ = start(netns, haven, nginx, workdir, ctype)
    t0 = time.monotonic()
    n.kill()
    took, c = hc.wait_state(h, "web", "down", timeout=DOWN_BOUND + 5, t0=t0)
    hc.report("%s check: kill -> down" % ctype, took, DOWN_BOUND)
    assert took <= DOWN_BOUND
    assert c["reason"] == "connect_refused", c
    assert c["consecutive_fail"] >= FALL


def test_blackholed_backend_down_by_timeout_then_up(netns, haven, nginx,
                                                    workdir):
    h, n, hv, be = start(netns, haven, nginx, workdir)
    t0 = time.monotonic()
    be.block(hv)
    took, c = hc.wait_state(h, "web", "down", timeout=DOWN_BOUND + 5, t0=t0)
    hc.report("iptables DROP -> down", took, DOWN_BOUND)
    assert took <= DOWN_BOUND
    assert c["reason"] == "timeout", c
    # A timed-out probe took the whole timeout, never much more.
    lat = [p["latency_us"] for p in c["probes"] if p["reason"] == "timeout"]
    assert lat and all(900e3 <= us <= TIMEOUT * 1e6 + 500e3 for us in lat), \
        lat

    t0 = time.monotonic()
    be.unblock(hv)
    # A probe already in flight may still time out: allow one timeout more.
    bound = UP_BOUND + TIMEOUT
    took, c = hc.wait_state(h, "web", "up", timeout=bound + 5, t0=t0)
    hc.report("unblock -> up (rise %d)" % RISE, took, bound)
    assert took <= bound
    assert c["consecutive_ok"] >= RISE
    ok = [p for p in c["probes"] if p["ok"]]
    assert len(ok) >= RISE


def test_restarted_backend_up_after_rise_probes(netns, haven, nginx,
                                                workdir):
    h, n, _, be = start(netns, haven, nginx, workdir)
    n.kill()
    hc.wait_state(h, "web", "down", timeout=DOWN_BOUND + 5)
    t0 = time.monotonic()
    n.start()
    took, c = hc.wait_state(h, "web", "up", timeout=UP_BOUND + 5, t0=t0)
    hc.report("nginx restart -> up (rise %d)" % RISE, took, UP_BOUND)
    assert took <= UP_BOUND
    # Exactly the up<-down transition was published, after RISE passes.
    tr = c["transitions"]
    assert tr[0]["to"] == "up" and tr[0]["from"] == "down", tr
    assert [p["ok"] for p in c["probes"][:RISE]] == [True] * RISE
    wait_until(lambda: hc.checks(h)["web"]["state"] == "up", timeout=1)
