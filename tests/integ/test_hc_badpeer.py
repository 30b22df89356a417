"""Misbehaving peers (tools/badpeer.py) against tcp, http and https checks:
each fault maps to its own reason, and a hanging or slow target never
delays the probes of the others.

One daemon probes every peer at once, which is the point of the cadence
assertion: while several probes sit in their timeout, a healthy nginx
target keeps being probed every interval (1 s +- 10 % jitter).
"""

import time

from prometheus_client.parser import text_string_to_metric_families

from havenlib import hc
from havenlib.haven import free_port
from havenlib.poll import wait_until

DEFAULTS = {"interval": "1s", "timeout": "1s", "rise": 2, "fall": 2}

# name: (badpeer role, check fields, expected state, accepted reasons)
CASES = {
    "hang-http": ("hang", {"type": "http"}, "down", {"timeout"}),
    "hang-tcp": ("hang", {"type": "tcp", "send": "PING\r\n",
                          "expect": "PONG"}, "down", {"timeout"}),
    "rst-http": ("rst", {"type": "http"}, "down",
                 {"reset", "connect_refused"}),
    "rst-tcp": ("rst", {"type": "tcp", "send": "PING\r\n",
                        "expect": "PONG"}, "down",
                {"reset", "connect_refused", "closed"}),
    "refuse-tcp": ("refuse", {"type": "tcp"}, "down", {"connect_refused"}),
    # badpeer closes without reading the request: the unread bytes make
    # the kernel answer the close with RST, so either reason is right.
    "close-http": ("close", {"type": "http"}, "down", {"closed", "reset"}),
    "garbage-http": ("garbage", {"type": "http"}, "down",
                     {"protocol_error"}),
    "slow-http": ("slow", {"type": "http"}, "down", {"timeout"}),
    "huge-http": ("huge", {"type": "http"}, "up", {"ok"}),
    "huge-http-body": ("huge", {"type": "http", "body": "needle",
                                "max_body": "64k"}, "down", {"too_large"}),
    "tls-verify": ("tls-badcert", {"type": "https", "tls_verify": True},
                   "down", {"tls_error"}),
    "tls-noverify": ("tls-badcert", {"type": "https", "tls_verify": False},
                     "up", {"ok"}),
}


def test_badpeer_roles_and_cadence(haven, nginx, badpeer, workdir):
    peers = {}
    checks = []
    for name, (role, fields, _, _) in CASES.items():
        if role not in peers:
            peers[role] = badpeer(role)
        chk = {"name": name, "address": "127.0.0.1:%d" % peers[role].port}
        chk.update(fields)
        checks.append(chk)
    n = nginx("127.0.0.1", free_port())
    checks.append({"name": "steady", "type": "http",
                   "address": "127.0.0.1:%d" % n.port, "path": "/healthz"})
    t0 = time.monotonic()
    h = haven(hc.config(workdir, checks, defaults=DEFAULTS))

    wrong = []
    for name, (role, _, state, reasons) in CASES.items():
        left = max(0.5, t0 + 12 - time.monotonic())
        try:
            took, c = hc.wait_state(h, name, state, timeout=left, t0=t0)
        except AssertionError as e:
            wrong.append("%s: %s; detail: %r" % (name, e, hc.check(h, name)))
            continue
        reason = c["probes"][0]["reason"]
        print("\n%-15s %-12s %-5s %-16s %s" % (name, role, c["state"],
                                               reason, c["detail"]))
        if reason not in reasons or (state == "down" and
                                     c["reason"] not in reasons):
            wrong.append("%s: state %s reason %s (last probe %s, detail "
                         "%r), want one of %s" % (name, c["state"],
                                                  c["reason"], reason,
                                                  c["detail"], reasons))
    assert not wrong, "\n".join(wrong)
    _assert_metrics(h)

    # Let the timeouts pile up, then read the healthy target's history.
    hc.wait_state(h, "steady", "up", timeout=5)
    c = _wait_probes(h, "steady", 6)
    at = sorted(p["at_ms"] for p in c["probes"] if p["ok"])
    gaps = [(b - a) / 1000.0 for a, b in zip(at, at[1:])]
    # Probes right after start run at fast_interval while rising.
    stable = gaps[-4:]
    print("\nMEASURE steady probe gaps while peers hang: %s s" % (
        ", ".join("%.3f" % g for g in stable)))
    assert all(0.75 <= g <= 1.35 for g in stable), gaps
    # The hanging probes really sat in their timeout meanwhile.
    hang = hc.check(h, "hang-http")["probes"]
    assert all(p["latency_us"] >= 900e3 for p in hang
               if p["reason"] == "timeout"), hang


def _wait_probes(h, name, count):
    def enough():
        c = hc.check(h, name)
        return c if sum(p["ok"] for p in c["probes"]) >= count else None

    return wait_until(enough, timeout=count * 1.2 + 5,
                      what="%d probes of %s" % (count, name))


def _assert_metrics(h):
    """/metrics agrees with the API: each target's state gauge, and a
    failed-probe counter for every failure reason the probes showed."""
    r = h.api("GET", "/metrics")
    assert r.status == 200, r
    fams = {f.name: f for f in text_string_to_metric_families(r.text)}
    state = {(s.labels["target"], s.labels["state"]): s.value
             for s in fams["haven_hc_target_state"].samples}
    errors = {s.labels["reason"]: s.value
              for s in fams["haven_hc_probe_errors"].samples
              if s.name == "haven_hc_probe_errors_total"}
    seen = set()
    for name in CASES:
        c = hc.check(h, name)
        assert state[(name, c["state"])] == 1, (name, c["state"])
        seen |= {p["reason"] for p in c["probes"] if not p["ok"]}
    assert seen, "no failed probes?"
    for reason in seen:
        assert errors.get(reason, 0) >= 1, (reason, errors)
