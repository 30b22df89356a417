"""HTTP checks against a real nginx: a backend that answers 503 on
/healthz without dying is down with reason bad_status and the status in the
detail; a body that lacks the expected substring is body_mismatch; healing
brings it back. Loopback only: no namespaces needed."""

import time

from havenlib import hc
from havenlib.haven import free_port

DEFAULTS = {"interval": "1s", "timeout": "1s", "rise": 2, "fall": 2}
DOWN_BOUND = 1.0 * 2 + 1.0 + 1.5


def test_503_is_bad_status_then_heals(haven, nginx, workdir):
    n = nginx("127.0.0.1", free_port())
    h = haven(hc.config(workdir, [
        {"name": "web", "type": "http", "address": "127.0.0.1:%d" % n.port,
         "path": "/healthz", "expect_status": [200]}], defaults=DEFAULTS))
    hc.wait_state(h, "web", "up", timeout=5)

    t0 = time.monotonic()
    n.set_healthy(False)
    took, c = hc.wait_state(h, "web", "down", timeout=DOWN_BOUND + 5, t0=t0)
    hc.report("healthz 503 -> down", took, DOWN_BOUND)
    assert took <= DOWN_BOUND
    assert c["reason"] == "bad_status", c
    assert "503" in c["detail"], c
    assert c["probes"][0]["reason"] == "bad_status"

    n.set_healthy(True)
    hc.wait_state(h, "web", "up", timeout=2 * 1.0 + 1.5 + 2)


def test_body_mismatch(haven, nginx, workdir):
    n = nginx("127.0.0.1", free_port(), body="backend-a ready\n")
    addr = "127.0.0.1:%d" % n.port
    h = haven(hc.config(workdir, [
        {"name": "good", "type": "http", "address": addr, "path": "/",
         "body": "ready"},
        {"name": "bad", "type": "http", "address": addr, "path": "/",
         "body": "not-there"}], defaults=DEFAULTS))
    hc.wait_state(h, "good", "up", timeout=5)
    _, c = hc.wait_state(h, "bad", "down", timeout=5)
    assert c["reason"] == "body_mismatch", c
    assert c["probes"][0]["reason"] == "body_mismatch"
