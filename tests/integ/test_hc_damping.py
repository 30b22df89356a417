"""Flap damping: a backend whose health flips quickly, several times, is
held down with reason `damped`, and stays held while its probes pass again
until the penalty decays (half-life 30 s here, so for the rest of the test).

Fast timing (interval 200 ms, rise 1, fall 1) makes each flip a raw
transition within a few hundred milliseconds; each adds damp_penalty 1000,
so the fourth one passes damp_suppress 3000."""

import time

from havenlib import hc
from havenlib.haven import free_port
from havenlib.poll import wait_until

TIMING = {"interval": "200ms", "fast_interval": "100ms",
          "down_interval": "200ms", "timeout": "500ms", "rise": 1,
          "fall": 1, "jitter": 0, "damping": True, "damp_penalty": 1000,
          "damp_suppress": 3000, "damp_reuse": 750,
          "damp_half_life": "30s"}


def test_flapping_backend_held_down_damped(haven, nginx, workdir):
    n = nginx("127.0.0.1", free_port())
    h = haven(hc.config(workdir, [
        {"name": "flappy", "type": "http", "path": "/healthz",
         "address": "127.0.0.1:%d" % n.port}], defaults=TIMING))
    hc.wait_state(h, "flappy", "up", timeout=5)

    healthy = True
    flips = 0
    while not hc.check(h, "flappy")["damping"]["damped"]:
        assert flips < 8, "not damped after %d flips: %r" % (
            flips, hc.check(h, "flappy"))
        flaps = hc.check(h, "flappy")["damping"]["flaps"]
        healthy = not healthy
        n.set_healthy(healthy)
        flips += 1
        wait_until(lambda: hc.check(h, "flappy")["damping"]["flaps"] > flaps,
                   timeout=3, what="flip %d seen as a flap" % flips)
    c = hc.check(h, "flappy")
    print("\nMEASURE damped after %d flips, penalty %.0f" % (
        flips, c["damping"]["penalty"]))
    assert flips in (4, 5), c["damping"]
    assert c["state"] == "down" and c["reason"] == "damped", c

    # The backend is healthy from now on, and probes say so, yet it stays
    # held down.
    n.set_healthy(True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 2.0:
        c = hc.check(h, "flappy")
        assert c["state"] == "down" and c["reason"] == "damped", c
        time.sleep(hc.POLL_S)
    assert c["consecutive_ok"] >= 3, c
    assert c["probes"][0]["ok"], c
    assert hc.checks(h)["flappy"]["state"] == "down"
