"""test_dns_gslb - GSLB names steered by health, plans and the operator.

Two "sites" are TCP backends on loopback addresses (127.0.0.2 for site-a,
127.0.0.3 for site-b) that the health plane probes with a tcp check; a
GSLB name www.example.com answers the site its policy serves. Killing a
backend closes its listening socket (probes are refused); bringing it back
listens again on the same address and port.

What an operator relies on: answers switch to the backup site within
interval x fall plus a margin (the time is measured and printed), a
preemptive policy fails back after hold_down and a non-preemptive one
stays until POST .../failback; DR plans previewed (nothing changes),
executed, rolled back, and rolled back by rollback_after; every switch,
plan action and failback in GET /v1/dns/events with who caused it; the
alarms' webhook and exec command get the events; a restarted haven
answers what was true before any probe (persisted state); EDNS Client
Subnet chooses the region's policy and gives the matched prefix as scope
(RFC 7871).
"""

import json
import os
import signal
import socket
import subprocess
import threading
import time
import http.server

import pytest

dns = pytest.importorskip("dns")
import dns.edns  # noqa: E402
import dns.exception  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rdatatype  # noqa: E402

from havenlib.configs import BASE  # noqa: E402
from havenlib.poll import wait_until  # noqa: E402

from test_dns_server import free_dns_port  # noqa: E402

SITE_A = "127.0.0.2"
SITE_B = "127.0.0.3"
INTERVAL_S, FALL = 0.2, 2

ZONE = """\
$ORIGIN example.com.
$TTL 300
@       IN SOA ns1 hostmaster 2026120601 3600 600 604800 60
        IN NS  ns1
ns1     IN A    198.18.0.53
"""

CONFIG = BASE + """\
health:
  defaults: {{ interval: 200ms, timeout: 200ms, fall: 2, rise: 2,
              fast_interval: 100ms, down_interval: 200ms, damping: false }}
  checks:
    - {{ name: web, type: tcp, port: {bport} }}
dns:
  listen: ["127.0.0.1:{port}"]
  workers: {workers}
  zones:
    - {{ name: example.com, file: example.com.zone }}
  regions:
    - {{ name: eu, networks: [198.18.100.0/24] }}
    - {{ name: us, networks: [198.18.200.0/22] }}
  pools:
    - {{ name: site-a, check: web, addresses: [{{ address: {a} }}] }}
    - {{ name: site-b, check: web, addresses: [{{ address: {b} }}] }}
  names:
    - name: www.example.com
      ttl: 30s
      degraded_ttl: 5s
      policies:
        - {{ pools: [site-a], backup: [site-b], failback: {failback},
            hold_down: {hold} }}
        - {{ sources: [us], pools: [site-b], backup: [site-a] }}
  plans:
    - {{ name: lose-a, pools: [site-a], rollback_after: {rollback} }}
{alarms}"""


class Backend:
    """A TCP listener that accepts and closes, so a tcp check passes."""

    def __init__(self, addr, port):
        self.addr, self.port = addr, port
        self.sock = None
        self.start()

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.addr, self.port))
        s.listen(64)
        self.sock = s
        threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, s):
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            c.close()

    def kill(self):
        s, self.sock = self.sock, None
        if s is not None:
            s.shutdown(socket.SHUT_RDWR)
            s.close()


@pytest.fixture
def sites():
    port = free_dns_port()
    out = {"port": port, "a": Backend(SITE_A, port),
           "b": Backend(SITE_B, port)}
    yield out
    out["a"].kill()
    out["b"].kill()


def start(haven, workdir, sites, failback="preemptive", hold="2s",
          rollback="0s", alarms="", workers=1, port=None, wait_a=True):
    with open(os.path.join(str(workdir), "example.com.zone"), "w") as f:
        f.write(ZONE)
    port = port or free_dns_port()
    h = haven(CONFIG.format(dir=workdir, port=port, bport=sites["port"],
                            a=SITE_A, b=SITE_B, workers=workers,
                            failback=failback, hold=hold, rollback=rollback,
                            alarms=alarms))
    h.port = port
    if wait_a:
        wait_until(lambda: answer(h) == [SITE_A], timeout=10,
                   what="www answered with site-a", ignore=(
                       OSError, dns.exception.Timeout))
    return h


def ask(h, ecs=None):
    q = dns.message.make_query("www.example.com", "A")
    q.flags &= ~dns.flags.RD
    if ecs is not None:
        q.use_edns(0, options=[dns.edns.ECSOption(*ecs)])
    return dns.query.udp(q, "127.0.0.1", port=h.port, timeout=2)


def answer(h, ecs=None):
    r = ask(h, ecs)
    return sorted(x.address for rr in r.answer for x in rr
                  if rr.rdtype == dns.rdatatype.A)


def ttl(h):
    r = ask(h)
    return [rr.ttl for rr in r.answer][0]


def wait_answer(h, want, timeout, what):
    """Poll until www answers want; seconds it took."""
    t0 = time.monotonic()
    wait_until(lambda: answer(h) == want, timeout=timeout, interval=0.02,
               what=what, ignore=(OSError, dns.exception.Timeout))
    return time.monotonic() - t0


def stays(h, want, seconds):
    """Assert www answers want for the whole of seconds (polled)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert answer(h) == want
        time.sleep(0.05)


def events(h, since=0):
    r = h.api("GET", "/v1/dns/events?since=%d" % since)
    assert r.status == 200, r
    return r.json["events"]


def name_state(h):
    r = h.api("GET", "/v1/dns/names/www.example.com")
    assert r.status == 200, r
    return r.json


def metric(h, family, **labels):
    """Sum of the samples of /metrics called family with these labels
    (Haven.metric's own parameter is called name, which GSLB series have
    as a label)."""
    from prometheus_client.parser import text_string_to_metric_families

    r = h.api("GET", "/metrics")
    assert r.status == 200, r
    return sum(x.value for fam in text_string_to_metric_families(r.text)
               for x in fam.samples
               if x.name == family and all(x.labels.get(k) == v
                                         for k, v in labels.items()))


def switches(h):
    return [(e["from"], e["to"], e["who"]) for e in events(h)
            if e["kind"] == "switch" and e["policy"] == "default"]


def test_failover_then_preemptive_failback(haven, workdir, sites):
    h = start(haven, workdir, sites, hold="2s")
    # The full TTL once probes said up and no switch is recent.
    wait_until(lambda: ttl(h) == 30, timeout=5, what="TTL 30")
    t0 = time.monotonic()
    sites["a"].kill()
    took = wait_answer(h, [SITE_B], timeout=10, what="switch to site-b")
    budget = INTERVAL_S * FALL
    print("\nswitch after backend death: %.2f s (interval x fall = %.1f s)"
          % (took, budget))
    assert took < budget + 1.5
    # Degraded or just switched: the short TTL.
    assert ttl(h) == 5
    assert switches(h) == [("default", "backup", "health")]

    down = events(h)[-1]["seq"]
    sites["a"].start()
    t0 = time.monotonic()
    wait_until(lambda: any(e["kind"] == "address_up"
                           for e in events(h, since=down)),
               timeout=5, what="site-a address up")
    # Preemptive: back to site-a once it has been up for hold_down.
    assert answer(h) == [SITE_B]
    took = wait_answer(h, [SITE_A], timeout=10, what="failback to site-a")
    took = time.monotonic() - t0
    print("failback after backend return: %.2f s (hold_down 2 s)" % took)
    assert took >= 1.5
    assert switches(h)[-1] == ("backup", "default", "timer")
    assert metric(h, "haven_dns_gslb_switches_total",
                  name="www.example.com") == 2
    assert metric(h, "haven_dns_gslb_address_up", pool="site-a",
                  address=SITE_A) == 1
    assert metric(h, "haven_dns_gslb_policy_set", name="www.example.com",
                  policy="default", set="default") == 1


def test_non_preemptive_stays_until_operator_failback(haven, workdir, sites):
    h = start(haven, workdir, sites, failback="non-preemptive", hold="1s")
    sites["a"].kill()
    wait_answer(h, [SITE_B], timeout=10, what="switch to site-b")
    r = h.api("POST", "/v1/dns/names/www.example.com/failback")
    assert r.status == 409, r  # site-a is down: nothing to fail back to
    # `haven status`: the policy on its backup set, site-a degraded.
    out = subprocess.run([h.bin, "status", "-s", h.socket],
                         capture_output=True, text=True, timeout=10).stdout
    print("\n" + out)
    line = [ln for ln in out.splitlines()
            if ln.startswith("www.example.com")]
    assert line and line[0].split()[1:5] == ["default", "backup", "1",
                                              "5"], out
    # The switch budget: this config's detection (200 ms interval, fall
    # 2, 200 ms timeouts: 0.7 s at worst) plus the 30 s TTL.
    assert line[0].split()[5:] == ["0.7s", "+", "ttl", "30.0s", "=",
                                   "30.7s"], out
    assert "plan lose-a: unexecuted\n" in out, out
    assert "    site-a/%s" % SITE_A in out, out
    sites["a"].start()

    def a_usable():
        for p in h.api("GET", "/v1/dns/names").json["pools"]:
            if p["name"] == "site-a":
                return p["addresses"][0]["usable"] and p["available"]
        return False
    wait_until(a_usable, timeout=5, what="site-a usable again")
    stays(h, [SITE_B], 2.0)  # twice hold_down: no failback on its own
    r = h.api("POST", "/v1/dns/names/www.example.com/failback")
    assert r.status == 200, r
    wait_answer(h, [SITE_A], timeout=2, what="operator failback")
    fb = [e for e in events(h) if e["kind"] == "failback"]
    assert fb and fb[-1]["who"] == "api" and \
        fb[-1]["name"] == "www.example.com"
    assert switches(h)[-1] == ("backup", "default", "api")


def test_plan_preview_execute_rollback_and_auto_rollback(haven, workdir,
                                                         sites):
    h = start(haven, workdir, sites, rollback="2s", workers=2)
    r = h.api("GET", "/v1/dns/plans/lose-a/preview")
    assert r.status == 200, r
    changes = r.json["preview"]["changes"]
    assert any(c["name"] == "www.example.com" and c["policy"] == "default"
               and c["set_after"] == "backup" for c in changes), r.json
    assert answer(h) == [SITE_A]  # a preview changes nothing

    r = h.api("POST", "/v1/dns/plans/lose-a/execute")
    assert r.status == 200, r
    # POSTs reach every worker: all answer site-b from now on.
    for _ in range(20):
        assert answer(h) == [SITE_B]
    assert h.api("POST", "/v1/dns/plans/lose-a/execute").status == 409
    r = h.api("POST", "/v1/dns/plans/lose-a/rollback")
    assert r.status == 200, r
    wait_answer(h, [SITE_A], timeout=3, what="rollback")

    # Executed again, rolled back by rollback_after (2 s); the default
    # set then serves again after hold_down (2 s, preemptive).
    t0 = time.monotonic()
    assert h.api("POST", "/v1/dns/plans/lose-a/execute").status == 200
    assert answer(h) == [SITE_B]
    wait_until(lambda: h.api("GET", "/v1/dns/plans/lose-a").json["state"]
               == "rolled-back", timeout=5, interval=0.02,
               what="automatic rollback")
    took = time.monotonic() - t0
    print("\nautomatic rollback after %.2f s (rollback_after 2 s)" % took)
    assert 1.8 <= took < 3.0
    wait_answer(h, [SITE_A], timeout=4, what="site-a after the rollback")
    plan = h.api("GET", "/v1/dns/plans/lose-a").json
    assert plan["state"] == "rolled-back" and plan["by"] == "timer", plan
    audit = [(e["from"], e["to"], e["who"]) for e in events(h)
             if e["kind"] == "plan" and e["plan"] == "lose-a"]
    assert audit == [("unexecuted", "executed", "api"),
                     ("executed", "rolled-back", "api"),
                     ("rolled-back", "executed", "api"),
                     ("executed", "rolled-back", "timer")], audit
    assert metric(h, "haven_dns_gslb_plan_executed", plan="lose-a") == 0


class _Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.server.posts.append(json.loads(self.rfile.read(n)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture
def webhook():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    srv.posts = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_alarms_webhook_and_exec(haven, workdir, sites, webhook):
    out = workdir / "alarms"
    out.mkdir()
    out.chmod(0o777)  # started as root, hooks run as haven.user
    alarms = ("  alarms: { webhook: \"http://127.0.0.1:%d/gslb\", "
              "exec: \"env | grep ^HAVEN_ > %s/$HAVEN_SEQ\", "
              "timeout: 2s }\n" % (webhook.server_address[1], out))
    h = start(haven, workdir, sites, alarms=alarms, workers=2)
    sites["a"].kill()
    wait_answer(h, [SITE_B], timeout=10, what="switch to site-b")

    def switch_posted():
        return [p for p in webhook.posts if p["kind"] == "switch"]
    sw = wait_until(switch_posted, timeout=5, what="switch webhook")
    assert sw[0]["name"] == "www.example.com"
    assert (sw[0]["from"], sw[0]["to"]) == ("default", "backup")
    kinds = [p["kind"] for p in webhook.posts]
    assert "address_down" in kinds and "pool_down" in kinds, kinds
    # Two workers, one sender: each event is posted once.
    seqs = [p["seq"] for p in webhook.posts]
    assert len(seqs) == len(set(seqs)), seqs

    def exec_switch():
        for f in out.iterdir():
            env = dict(ln.split("=", 1) for ln in
                       f.read_text().splitlines() if "=" in ln)
            if env.get("HAVEN_EVENT") == "switch":
                return env
        return None
    env = wait_until(exec_switch, timeout=5, what="exec alarm for switch")
    assert env["HAVEN_NAME"] == "www.example.com"
    assert env["HAVEN_FROM"] == "default" and env["HAVEN_TO"] == "backup"
    assert metric(h, "haven_dns_gslb_alarm_failed_total") == 0


def test_restart_serves_persisted_state(haven, workdir, sites):
    h = start(haven, workdir, sites, failback="non-preemptive")
    sites["a"].kill()
    wait_answer(h, [SITE_B], timeout=10, what="switch to site-b")
    # Site-a comes back, but the policy is non-preemptive: still site-b.
    sites["a"].start()
    wait_until(lambda: name_state(h)["policies"][0]["default_available"],
               timeout=5, what="site-a available again")
    assert answer(h) == [SITE_B]
    wait_until(lambda: os.path.exists(os.path.join(
        str(workdir), "state", "dns-gslb.state")), timeout=2,
        what="state file")
    h.stop()
    port = h.port
    h2 = start(haven, workdir, sites, failback="non-preemptive", port=port,
               wait_a=False)
    # The first answer of the new process is the last one of the old.
    wait_until(lambda: answer(h2), timeout=10, what="answers after restart",
               ignore=(OSError, dns.exception.Timeout))
    assert answer(h2) == [SITE_B]
    stays(h2, [SITE_B], 1.0)


def test_ecs_chooses_region_with_scope(haven, workdir, sites):
    h = start(haven, workdir, sites)
    r = ask(h, ecs=("198.18.201.9", 32))  # us: 198.18.200.0/22
    assert answer(h, ecs=("198.18.201.9", 32)) == [SITE_B]
    opt = [o for o in r.options if isinstance(o, dns.edns.ECSOption)]
    assert opt and opt[0].scopelen == 22, r
    r = ask(h, ecs=("198.18.100.0", 24))  # eu: in no policy, default
    assert answer(h, ecs=("198.18.100.0", 24)) == [SITE_A]
    # SOURCE /0: the client opted out; the answer claims scope 0.
    r = ask(h, ecs=("0.0.0.0", 0))
    opt = [o for o in r.options if isinstance(o, dns.edns.ECSOption)]
    assert opt and opt[0].scopelen == 0, r
    assert answer(h, ecs=("0.0.0.0", 0)) == [SITE_A]
    # The us region's site-b fails: its policy goes to its backup.
    sites["b"].kill()
    wait_until(lambda: answer(h, ecs=("198.18.201.9", 32)) == [SITE_A],
               timeout=10, what="us policy on its backup",
               ignore=(OSError, dns.exception.Timeout))
    assert answer(h) == [SITE_A]


def _dns_workers(h):
    return {p["worker"]: p for p in h.status()["processes"]
            if p["plane"] == "dns"}


def test_worker_restart_after_auto_rollback(haven, workdir, sites):
    h = start(haven, workdir, sites, rollback="1s", hold="0s", workers=2)
    assert h.api("POST", "/v1/dns/plans/lose-a/execute").status == 200
    wait_until(lambda: h.api("GET", "/v1/dns/plans/lose-a").json["state"]
               == "rolled-back", timeout=5, what="automatic rollback")
    wait_answer(h, [SITE_A], timeout=3, what="site-a after the rollback")
    # A worker dies and is restarted: it restores the persisted state.
    w1 = _dns_workers(h)[1]
    os.kill(w1["pid"], signal.SIGKILL)
    wait_until(lambda: _dns_workers(h)[1]["state"] == "running" and
               _dns_workers(h)[1]["pid"] != w1["pid"], timeout=10,
               what="dns worker 1 restarted")
    # Every worker answers site-a (UDP spreads queries over both).
    for _ in range(40):
        assert answer(h) == [SITE_A]
