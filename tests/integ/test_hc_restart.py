"""A restart starts from what was true: a target that was down when the
daemon stopped is `down` from the first answer of the restarted daemon and
never `up` in between (no burst of traffic to a dead server), and one that
was up is `up` at once (no 502 burst either)."""

import time

from havenlib import hc
from havenlib.haven import free_port

DEFAULTS = {"interval": "1s", "timeout": "1s", "rise": 2, "fall": 2}


def test_restart_keeps_down_target_down(haven, nginx, workdir):
    dead = nginx("127.0.0.1", free_port(), name="dead")
    alive = nginx("127.0.0.1", free_port(), name="alive")
    cfg = hc.config(workdir, [
        {"name": "dead", "type": "http", "path": "/healthz",
         "address": "127.0.0.1:%d" % dead.port},
        {"name": "alive", "type": "http", "path": "/healthz",
         "address": "127.0.0.1:%d" % alive.port}], defaults=DEFAULTS)
    h = haven(cfg)
    hc.wait_state(h, "dead", "up", timeout=5)
    hc.wait_state(h, "alive", "up", timeout=5)
    dead.kill()
    hc.wait_state(h, "dead", "down", timeout=6)
    assert h.stop() == 0
    assert (workdir / "state" / "health.json").exists()

    h2 = haven(cfg, name="haven2", ready=False)
    seen = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3.0:
        try:
            cs = hc.checks(h2)
        except OSError:  # API not listening yet
            cs = None
        if cs:
            seen.append((round(time.monotonic() - t0, 3),
                         cs.get("dead", {}).get("state"),
                         cs.get("dead", {}).get("reason"),
                         cs.get("alive", {}).get("state")))
        time.sleep(hc.POLL_S)
    assert h2.proc.alive(), h2.proc.log_tail()
    with_targets = [s for s in seen if s[1] is not None]
    assert with_targets, "no answer listing the targets in 3 s: %r" % seen
    first = with_targets[0]
    print("\n%d answers before the targets were listed" % (
        len(seen) - len(with_targets)))
    print("\nMEASURE first answer after restart at %.3f s: dead=%s/%s "
          "alive=%s; %d answers" % (first[0], first[1], first[2], first[3],
                                     len(with_targets)))
    assert first[1] == "down", with_targets[:5]
    assert first[3] == "up", with_targets[:5]
    ups = [s for s in with_targets if s[1] != "down"]
    assert not ups, "dead target not down after restart: %r" % ups
    # Real probes later confirm the restored verdict (the reason changes
    # from restored to the probe's), and it was never up meanwhile.
    _, c = hc.wait_state(h2, "dead", "down", reason="connect_refused",
                         timeout=5)
    assert not [t for t in c["transitions"] if t["to"] == "up"], c
