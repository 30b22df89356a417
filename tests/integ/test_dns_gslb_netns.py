"""test_dns_gslb_netns - GSLB failover across namespaces, real backends.

The issue's "failover in namespaces": two sites are network namespaces
on one bridge, each with nginx as its backend; haven runs in a third
namespace, probes them with an http check (interval 200ms, fall 2, timeout
200ms, fast_interval 100ms) and answers www.example.com from a DR template
(primary site-a, secondary site-b). Clients ask haven on 127.0.0.1:53 of
its namespace with dnspython, from sockets the test process opens in that
namespace (havenlib Ns.socket), so the host's own routing is never touched.

    lan (br0)
     |-- dns     198.18.0.1   haven
     |-- site-a  198.18.0.2, 198.18.0.4   one nginx on both
     `-- site-b  198.18.0.3               nginx

What an operator relies on, each measured and printed (MEASURE lines):
  * site-a's nginx killed (probes refused): www answers site-b within the
    detection time haven itself reports (detect_ms of GET
    /v1/dns/names/www.example.com, switch_budget_ms less the TTL) + MARGIN;
  * nginx back: the template's preemptive failback (hold_down 0) returns
    www to site-a once the probes rise; hold.example.com, the same DR with
    hold_down 1s, only hold_down after site-a's pool came back;
  * site-a's link down (a black hole: probes time out, not refused): the
    same switch bound; link up: failback;
  * both sites down: fail open, every address of the default set (site-a)
    answered whatever its health, with the degraded TTL; then back;
  * GET /v1/dns/events records each switch, caused by who "health" (the
    hold-down's failback by "timer").
"""

import time

import pytest

dns = pytest.importorskip("dns")
import dns.exception  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rdatatype  # noqa: E402

from havenlib import hc  # noqa: E402
from havenlib.configs import BASE, FAST, health  # noqa: E402
from havenlib.poll import wait_until  # noqa: E402

pytestmark = pytest.mark.root

DNS_ADDR = "198.18.0.1"
SITE_A = ["198.18.0.2", "198.18.0.4"]
SITE_B = ["198.18.0.3"]
WWW, HOLD = "www.example.com", "hold.example.com"
INTERVAL_S, FAST_S, DOWN_S, RISE = 0.2, 0.1, 0.2, 2
HOLD_S = 1.0
# For this small shared machine: scheduling, the poll, the API round trip.
MARGIN = 2.0
POLL_S = 0.02

ZONE = """\
$ORIGIN example.com.
$TTL 300
@       IN SOA ns1 hostmaster 2026120601 3600 600 604800 60
        IN NS  ns1
ns1     IN A    198.18.0.53
"""

CONFIG = BASE + health(FAST, "{{ name: web, type: http, port: 8080, "
                             "path: /healthz, expect_status: [200] }}") + """\
dns:
  listen: ["127.0.0.1:53"]
  workers: 2
  zones:
    - {{ name: example.com, file: example.com.zone }}
  pools:
    - {{ name: site-a, check: web,
        addresses: [{{ address: {a0} }}, {{ address: {a1} }}] }}
    - {{ name: site-b, check: web, addresses: [{{ address: {b0} }}] }}
  names:
    - name: www.example.com
      ttl: 30s
      degraded_ttl: 5s
      template: {{ dr: {{ primary: site-a, secondary: site-b }} }}
    - name: hold.example.com
      ttl: 30s
      degraded_ttl: 5s
      policies:
        - {{ pools: [site-a], backup: [site-b], failback: preemptive,
            hold_down: {hold}ms }}
"""


class Sites:
    """The topology of the module comment, with haven started and every
    address's health verdict in (up)."""

    def __init__(self, netns, nginx, haven, procs, workdir):
        self.procs = procs
        lan = netns.bridge("lan")
        self.dns = netns.ns("dns")
        self.a, self.b = netns.ns("site-a"), netns.ns("site-b")
        netns.attach(self.dns, lan, DNS_ADDR + "/24")
        self.a_if = netns.attach(self.a, lan, SITE_A[0] + "/24")
        self.a.add_addr(self.a_if, SITE_A[1] + "/24")
        netns.attach(self.b, lan, SITE_B[0] + "/24")
        self.na = nginx(SITE_A[0], 8080, ns=self.a, body="site-a\n",
                        server_extra="        listen %s:8080;" % SITE_A[1])
        self.nb = nginx(SITE_B[0], 8080, ns=self.b, body="site-b\n")
        with open(workdir / "example.com.zone", "w") as f:
            f.write(ZONE)
        self.h = haven(CONFIG.format(dir=workdir, a0=SITE_A[0],
                                     a1=SITE_A[1], b0=SITE_B[0],
                                     hold=int(HOLD_S * 1000)), ns=self.dns)
        # Unknown health counts as up: wait for real verdicts, so that
        # what follows measures a detection, not the first probes.
        wait_until(lambda: all(a["health"] == "up"
                               for p in self.pools().values()
                               for a in p["addresses"]),
                   timeout=10, interval=POLL_S, what="every address up")
        assert self.answer(WWW) == SITE_A
        assert self.answer(HOLD) == SITE_A

    def restart(self, n):
        """Start a killed nginx again; stopped (and its log shown on a
        failure) with the test's other processes."""
        n.start()
        self.procs.started.append(n.proc)

    def ask(self, name):
        q = dns.message.make_query(name, "A")
        q.flags &= ~dns.flags.RD
        s = self.dns.socket()
        s.setblocking(False)  # dnspython waits with select: timeout works
        try:
            return dns.query.udp(q, "127.0.0.1", port=53, timeout=1, sock=s)
        finally:
            s.close()

    def answer(self, name=WWW):
        r = self.ask(name)
        return sorted(x.address for rr in r.answer for x in rr
                      if rr.rdtype == dns.rdatatype.A)

    def ttl(self, name=WWW):
        return [rr.ttl for rr in self.ask(name).answer][0]

    def wait_answer(self, want, t0, timeout, what, name=WWW):
        """Poll until name answers want; seconds since t0."""
        wait_until(lambda: self.answer(name) == want, timeout=timeout,
                   interval=POLL_S, what=what,
                   ignore=(OSError, dns.exception.Timeout))
        return time.monotonic() - t0

    def steady(self, want, n=20, name=WWW):
        """n answers in a row are want (UDP spreads them over both
        workers: neither may lag behind)."""
        got = [self.answer(name) for _ in range(n)]
        assert got == [want] * n, got

    def name_state(self, name=WWW):
        r = self.h.api("GET", "/v1/dns/names/" + name)
        assert r.status == 200, r
        return r.json

    def pools(self):
        r = self.h.api("GET", "/v1/dns/names")
        assert r.status == 200, r
        return {p["name"]: p for p in r.json["pools"]}

    def events(self):
        r = self.h.api("GET", "/v1/dns/events?since=0")
        assert r.status == 200, r
        return r.json["events"]

    def switches(self, name=WWW):
        return [(e["from"], e["to"], e["who"]) for e in self.events()
                if e["kind"] == "switch" and e["name"] == name]

    def detect_s(self):
        """The detection time haven reports for www (its switch budget
        without the TTL), checked against the check's timing."""
        st = self.name_state()
        assert st["switch_budget_ms"] == st["detect_ms"] + 30000, st
        # interval + (fall-1) fast_interval + fall timeouts, no jitter
        # asked for: 200 + 100 + 400 (hc_conf_check_detect_ms).
        assert 700 <= st["detect_ms"] <= 1000, st
        return st["detect_ms"] / 1000.0


@pytest.fixture
def sites(netns, nginx, haven, procs, workdir):
    return Sites(netns, nginx, haven, procs, workdir)


def report(what, seconds, bound):
    hc.report(what, seconds, bound)


def failback(s, t0, what):
    """Poll www and hold until both answer site-a again; seconds since t0
    at which each was first seen doing so."""
    seen = {}
    end = time.monotonic() + HOLD_S + 10

    def both():
        for name in (WWW, HOLD):
            if name not in seen and s.answer(name) == SITE_A:
                seen[name] = time.monotonic() - t0
        return len(seen) == 2

    wait_until(both, timeout=end - time.monotonic(), interval=POLL_S,
               what=what, ignore=(OSError, dns.exception.Timeout))
    return seen[WWW], seen[HOLD]


def check_hold_down(s):
    """hold.example.com's failback came hold_down after site-a's pool
    was up again, by the timer; www's came with the pool (hold_down 0), by
    health. The times are the since_ms of GET /v1/dns/names (one worker's
    loop clock, the one its decisions use; the events' at_ms are wall
    clock stamps taken as each is logged, a few ms apart)."""
    r = s.h.api("GET", "/v1/dns/names")
    assert r.status == 200, r
    up = [p for p in r.json["pools"] if p["name"] == "site-a"][0]
    pol = {n["name"]: n["policies"][0] for n in r.json["names"]}
    assert up["available"] and all(p["set"] == "default"
                                   for p in pol.values()), r.json
    assert pol[WWW]["since_ms"] == up["since_ms"], r.json
    held = pol[HOLD]["since_ms"] - up["since_ms"]
    assert HOLD_S * 1000 <= held <= HOLD_S * 1000 + 1000, r.json
    evs = s.events()
    fb = {n: [e for e in evs if e["kind"] == "switch" and e["name"] == n
              and e["to"] == "default"][-1] for n in (WWW, HOLD)}
    assert fb[WWW]["who"] == "health" and fb[HOLD]["who"] == "timer", fb
    return held / 1000.0


def test_killed_site_switch_and_failback(sites):
    s = sites
    detect = s.detect_s()
    assert s.ttl() == 30
    t0 = time.monotonic()
    s.na.kill()
    took = s.wait_answer(SITE_B, t0, timeout=detect + MARGIN + 5,
                         what="switch to site-b")
    report("nginx killed -> site-b answered", took, detect + MARGIN)
    # The degraded TTL while a policy serves its backup set (dns_gslb.h),
    # so that clients come back soon after the failback.
    assert s.ttl(HOLD) == 5
    assert s.ttl(WWW) == 5
    assert took <= detect + MARGIN
    s.steady(SITE_B)
    s.steady(SITE_B, name=HOLD)
    # ... and it stays degraded past hold's hold_down: still on backup.
    time.sleep(HOLD_S + 0.2)
    assert s.ttl(HOLD) == 5 and s.ttl(WWW) == 5
    c = hc.check(s.h, "site-a/" + SITE_A[0])
    assert c["state"] == "down" and c["reason"] == "connect_refused", c

    t0 = time.monotonic()
    s.restart(s.na)
    ready = time.monotonic() - t0
    www, hold = failback(s, t0, "failback to site-a")
    # Probes of a down target every down_interval, then rise passes.
    bound = ready + DOWN_S + (RISE - 1) * FAST_S + MARGIN
    report("nginx back -> www on site-a (hold_down 0)", www, bound)
    report("nginx back -> hold on site-a (hold_down %gs)" % HOLD_S, hold,
           bound + HOLD_S)
    assert www <= bound
    assert hold <= bound + HOLD_S
    held = check_hold_down(s)
    print("MEASURE hold.example.com failback %.3f s after site-a's "
          "pool_up (hold_down %g s)" % (held, HOLD_S))
    s.steady(SITE_A)
    s.steady(SITE_A, name=HOLD)
    assert s.switches(WWW) == [("default", "backup", "health"),
                               ("backup", "default", "health")]
    assert s.switches(HOLD) == [("default", "backup", "health"),
                                ("backup", "default", "timer")]
    assert s.name_state()["switches"] == 2


def test_link_down_blackhole_switch_and_failback(sites):
    s = sites
    detect = s.detect_s()
    t0 = time.monotonic()
    s.a.link_down(s.a_if)
    took = s.wait_answer(SITE_B, t0, timeout=detect + MARGIN + 5,
                         what="switch to site-b")
    report("site-a link down -> site-b answered", took, detect + MARGIN)
    assert took <= detect + MARGIN
    s.steady(SITE_B)
    # A black hole: the probes ran out their timeout, nothing refused.
    for addr in SITE_A:
        c = hc.check(s.h, "site-a/" + addr)
        assert c["state"] == "down" and c["reason"] == "timeout", c

    t0 = time.monotonic()
    s.a.link_up(s.a_if)
    www, hold = failback(s, t0, "failback to site-a")
    # A probe in flight when the link came back may still time out.
    bound = DOWN_S + INTERVAL_S + (RISE - 1) * FAST_S + MARGIN
    report("site-a link up -> www on site-a (hold_down 0)", www, bound)
    report("site-a link up -> hold on site-a (hold_down %gs)" % HOLD_S,
           hold, bound + HOLD_S)
    assert www <= bound
    assert hold <= bound + HOLD_S
    check_hold_down(s)
    s.steady(SITE_A)
    assert s.switches(WWW) == [("default", "backup", "health"),
                               ("backup", "default", "health")]


def test_both_sites_down_fail_open(sites):
    s = sites
    detect = s.detect_s()
    s.na.kill()
    s.wait_answer(SITE_B, time.monotonic(), timeout=detect + MARGIN + 5,
                  what="switch to site-b")
    t0 = time.monotonic()
    s.nb.kill()
    # No set available: fail open (the template's `fail: open`) answers
    # every address of the default set, site-a, whatever its health.
    took = s.wait_answer(SITE_A, t0, timeout=detect + MARGIN + 5,
                         what="fail open to site-a's addresses")
    report("site-b killed too -> fail open (site-a's addresses)", took,
           detect + MARGIN)
    assert took <= detect + MARGIN
    s.steady(SITE_A)
    s.steady(SITE_A, name=HOLD)
    assert s.ttl() == 5  # the served set's addresses are down
    pol = s.name_state()["policies"][0]
    assert pol["set"] == "fail-open" and pol["degraded"], pol
    p = s.pools()
    assert not p["site-a"]["available"] and not p["site-b"]["available"], p

    # site-b back first: the backup set serves; then site-a: failback.
    t0 = time.monotonic()
    s.restart(s.nb)
    ready = time.monotonic() - t0
    took = s.wait_answer(SITE_B, t0, timeout=MARGIN + 5,
                         what="backup site-b again")
    bound = ready + DOWN_S + (RISE - 1) * FAST_S + MARGIN
    report("site-b back -> site-b answered", took, bound)
    assert took <= bound
    s.steady(SITE_B)
    s.restart(s.na)
    s.wait_answer(SITE_A, time.monotonic(), timeout=MARGIN + 5,
                  what="failback to site-a")
    s.steady(SITE_A)
    assert s.switches(WWW) == [("default", "backup", "health"),
                               ("backup", "fail-open", "health"),
                               ("fail-open", "backup", "health"),
                               ("backup", "default", "health")]
