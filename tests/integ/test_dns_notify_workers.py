"""test_dns_notify_workers - NOTIFY waits until every worker serves.

haven serves example.com from four workers on one SO_REUSEPORT group;
Knot (knotd) is its secondary, with an SOA refresh of an hour and a retry
of ten minutes, so only haven's NOTIFY makes it look for a new version
within the test. The zone file changes and haven reloads, again and again:
each time Knot must hold the new serial within a few seconds.

Knot answers a NOTIFY and then asks for the SOA, and the IXFR, on
whichever worker the kernel picks. Each worker loads the zones itself, so
worker 0, done first, used to send the NOTIFY while another was still on
its way to the new serial: a query on that worker waited (or saw the old
serial), Knot's refresh failed or found nothing newer, and it slept for
the retry or refresh interval. haven now sends the NOTIFY once every
worker reported the new serial.

A worker late to its reload (a busy box: four workers on two cores, a
large zone set) is made here by stopping workers 1 to 3 (SIGSTOP) across
the reload for longer than Knot waits for an answer, then letting them go
on: without the wait, about three queries in four land on a stopped
worker, so some round fails; with it, Knot is told only once they serve
the new serial. The first test, with no worker stopped, is the everyday
case: a reload every round, Knot follows each.

Skipped, never passed, without dnspython or knotd.
"""

import os
import signal
import threading
import time

import pytest

dns = pytest.importorskip("dns")
import dns.exception  # noqa: E402

from havenlib.configs import BASE  # noqa: E402
from havenlib.poll import wait_until  # noqa: E402
from test_dns_server import free_dns_port  # noqa: E402
from test_dns_xfr import soa_serial  # noqa: E402

WORKERS = 4
HOSTS = 2000
# How long the stopped workers stay stopped, and how long Knot waits for
# an answer (tcp-remote-io-timeout): the first must exceed the second.
STALL_S = 2.0
KNOT_TIMEOUT_MS = 700

CONFIG = BASE + """\
dns:
  listen: ["127.0.0.1:{port}"]
  workers: {workers}
  zones:
    - name: example.com
      file: {zonefile}
      allow_transfer: ["127.0.0.0/8"]
      notify: ["127.0.0.1:{kport}"]
"""

def zone(serial):
    # Each version renames one host: every step is a real change.
    hosts = "".join("h%d-%d IN A 198.18.%d.%d\n" %
                    (i, serial if i == 0 else 0, i // 250, i % 250 + 1)
                    for i in range(HOSTS))
    return """\
$ORIGIN example.com.
$TTL 300
@       IN SOA ns1 hostmaster %d 3600 600 604800 60
        IN NS  ns1
ns1     IN A    198.18.0.53
%s""" % (serial, hosts)


def write(workdir, port, kport, serial):
    zf = os.path.join(str(workdir), "example.com.zone")
    with open(zf + ".tmp", "w") as f:
        f.write(zone(serial))
    os.rename(zf + ".tmp", zf)
    cfg = os.path.join(str(workdir), "haven.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(dir=workdir, port=port, kport=kport,
                              zonefile=zf, workers=WORKERS))
    return cfg


def start(haven, workdir, knot_secondary):
    """haven at serial 100 and Knot holding it; (h, port, kport, knot)."""
    kport = free_dns_port()
    port = free_dns_port()
    h = haven(write(workdir, port, kport, 100))
    wait_until(lambda: soa_serial(port) == 100, timeout=20,
               what="haven serves serial 100")
    wait_until(lambda: len(dns_pids(h)) == WORKERS, timeout=10,
               what="%d dns workers running" % WORKERS)
    k = knot_secondary(port, kport, io_timeout_ms=KNOT_TIMEOUT_MS)
    wait_until(lambda: soa_serial(kport) == 100, timeout=30,
               what="knot has serial 100",
               ignore=(OSError, dns.exception.DNSException))
    return h, port, kport, k


def dns_pids(h):
    """{worker index: pid} of the running dns workers."""
    return {p["worker"]: p["pid"] for p in h.status()["processes"]
            if p["plane"] == "dns" and p["state"] == "running"}


def reload(h, serial, kport, workdir, port, stall):
    """Change the zone to serial and reload; with stall, workers 1.. stay
    stopped STALL_S seconds from before the reload. Returns the seconds
    until Knot holds serial, or None if it does not within STALL_S + 5."""
    write(workdir, port, kport, serial)
    stopped = [pid for w, pid in dns_pids(h).items() if w != 0] \
        if stall else []
    result = {}

    def post():
        # The parent answers a reload once every worker applied it: from
        # a thread, since the stopped ones apply only once let go.
        result["r"] = h.api("POST", "/v1/reload", timeout=STALL_S + 10)

    t0 = time.monotonic()
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        th = threading.Thread(target=post)
        th.start()
        if stopped:
            # The injected stall itself, not a wait for a condition.
            time.sleep(STALL_S)
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    th.join(STALL_S + 15)
    assert result.get("r") is not None and result["r"].status == 200, result
    try:
        wait_until(lambda: soa_serial(kport) == serial,
                   timeout=STALL_S + 5, what="knot has serial %d" % serial,
                   ignore=(OSError, dns.exception.DNSException))
    except AssertionError:
        return None
    return time.monotonic() - t0


def run_rounds(h, port, kport, k, workdir, rounds, stall):
    serial = 100
    try:
        for _ in range(rounds):
            serial += 1
            took = reload(h, serial, kport, workdir, port, stall)
            assert took is not None, \
                "knot missed the NOTIFY of serial %d" % serial
            print("serial %d on knot after %.2f s" % (serial, took))
        # Every NOTIFY answered; none sent before all workers served.
        assert h.metric("haven_dns_notify_acked_total") >= rounds
        assert h.metric("haven_dns_notify_waits_total",
                        result="served") >= rounds
        assert h.metric("haven_dns_notify_waits_total",
                        result="timeout") == 0
    finally:
        if os.path.exists(k.log):
            print(open(k.log).read()[-3000:])


def test_secondary_follows_every_reload(haven, workdir, knot_secondary):
    h, port, kport, k = start(haven, workdir, knot_secondary)
    run_rounds(h, port, kport, k, workdir, rounds=8, stall=False)


def test_notify_waits_for_late_workers(haven, workdir, knot_secondary):
    h, port, kport, k = start(haven, workdir, knot_secondary)
    run_rounds(h, port, kport, k, workdir, rounds=5, stall=True)
