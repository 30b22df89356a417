"""Faults the virtual IP plane must ride out, on the bridge of
test_vrrp.py (198.18.30.0/24, VIP 198.18.30.100; node a priority 200,
node b 100, adverts every 100 ms):

- the master's vrrp process stopped (SIGSTOP) for three master-down
  intervals, then resumed: the backup takes over within its interval,
  and the resumed node, whose timers all ran late, does not act on what
  it believed before the stall;
- VRRP alone (IP protocol 112) dropped between the nodes: both become
  master (split brain) while the data plane stays up; once adverts cross
  again exactly one master is left, the higher priority, and the loser
  steps down without taking the address off the winner;
- the master's link down: FAULT, the address released, the backup takes
  over; link up: back per the preempt policy.

The client pings the VIP every 5 ms; which node answers is the one whose
MAC the client's neighbour entry for the VIP holds."""

import os
import re
import signal
import subprocess
import time

import pytest

from havenlib.poll import wait_until

pytestmark = pytest.mark.root

VIP = "198.18.30.100"
A, B, C = "198.18.30.1", "198.18.30.2", "198.18.30.10"

NODE = """\
haven:
  state_dir: {dir}/state
api:
  socket: {dir}/haven.sock
vrrp:
  instances:
    - name: web
      interface: eth0
      vrid: 53
      priority: {prio}
      advert_interval: 100ms
      virtual_addresses: [{vip}]
{extra}"""


@pytest.fixture
def lan(netns):
    br = netns.bridge("lan")
    a, b, c = netns.ns("a"), netns.ns("b"), netns.ns("c")
    netns.attach(a, br, A + "/24", ifname="eth0")
    netns.attach(b, br, B + "/24", ifname="eth0")
    netns.attach(c, br, C + "/24", ifname="eth0")
    return a, b, c


def node(haven, workdir, ns, name, prio, extra=""):
    d = os.path.join(str(workdir), name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)
    cfg = NODE.format(dir=d, prio=prio, vip=VIP, extra=extra)
    return haven(cfg, ns=ns, name=name, socket_path=d + "/haven.sock")


def inst(h):
    r = h.api("GET", "/v1/vrrp")
    assert r.status == 200, r
    return r.json["instances"][0]


def holds_vip(ns):
    return VIP + "/" in ns.ip("-o", "addr", "show", "dev", "eth0").stdout


def mac(ns):
    out = ns.ip("-o", "link", "show", "dev", "eth0").stdout
    return re.search(r"link/ether (\S+)", out).group(1)


def answering(c, a, b):
    """Which node the client sends the VIP's packets to: "a", "b" or
    None, from its neighbour entry."""
    out = c.ip("neigh", "show", VIP, "dev", "eth0").stdout
    m = re.search(r"lladdr (\S+)", out)
    if m is None:
        return None
    return {mac(a): "a", mac(b): "b"}.get(m.group(1))


def pair(haven, workdir, a, b):
    ha = node(haven, workdir, a, "na", 200)
    hb = node(haven, workdir, b, "nb", 100)
    wait_until(lambda: inst(ha)["state"] == "master" and
               inst(hb)["state"] == "backup", timeout=10,
               what="a master, b backup")
    return ha, hb


def masters(*hs):
    return [h.name for h in hs if inst(h)["state"] == "master"]


class Pinger:
    """ping -D -i 0.005 the VIP from the client: reply times."""

    def __init__(self, ns):
        self.p = ns.popen(["ping", "-n", "-D", "-i", "0.005", "-W", "0.05",
                           VIP], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
        self.t0 = time.time()

    def stop(self):
        """(replies, largest gap s, gaps over 50 ms as (start, length))
        with start relative to when the pinger started."""
        self.p.send_signal(signal.SIGINT)
        out, _ = self.p.communicate(timeout=10)
        ts = [float(m.group(1)) for m in
              (re.match(r"\[(\d+\.\d+)\]", ln) for ln in out.splitlines())
              if m]
        self.ts = [t - self.t0 for t in ts]
        gaps = [(x - self.t0, y - x) for x, y in zip(ts, ts[1:])
                if y - x > 0.05]
        big = max((g for _, g in gaps), default=None)
        return len(ts), big, gaps


def test_sigstop_master(haven, workdir, lan):
    """SIGSTOP of a's vrrp process for three master-down intervals. Its
    kernel keeps answering for the VIP meanwhile; b takes over on its
    down timer and announces itself, so the client turns to b. On SIGCONT
    a's timers all run late (counted); by priority (RFC 9568 6.4.3) a is
    the master and b steps down on a's first advert, but a must not carry
    on as if nothing happened: the client now sends to b, which is about
    to drop the VIP. a heard b's queued adverts (a lower master), so it
    announces the VIP again, once: the client turns back to a, which
    never left MASTER (no new transition). Without that re-announcement
    the client's pings went unanswered until its ARP entry expired."""
    a, b, c = lan
    ha, hb = pair(haven, workdir, a, b)
    down = inst(hb)["master_down_interval_us"] / 1e6
    late0 = ha.metric("haven_vrrp_late_timers_total", instance="web")
    ann0 = ha.metric("haven_vrrp_announcements_total", instance="web")
    na = len(inst(ha)["transitions"])
    pid = ha.plane_pid("vrrp")
    pinger = Pinger(c)
    time.sleep(0.3)
    t_stop = time.time()
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_until(lambda: inst(hb)["state"] == "master", timeout=5,
                   what="b master while a is stopped")
        took = time.time() - t_stop
        time.sleep(max(0.0, t_stop + 3 * down - time.time()))
        during = answering(c, a, b)
    finally:
        os.kill(pid, signal.SIGCONT)
    t_cont = time.time()
    seen = []
    while time.time() - t_cont < 2.0:
        seen.append((time.time() - t_cont, masters(ha, hb),
                     answering(c, a, b)))
        time.sleep(0.05)
    n, gap, gaps = pinger.stop()
    after = [t for t in pinger.ts if t > t_cont - pinger.t0 + 0.5]
    print("SIGSTOP %.0f ms (3 x down interval %.0f ms): b master after "
          "%.0f ms, client sent to %s; after SIGCONT: masters %s, client "
          "sends to %s; %d replies, largest gap %s ms, %d replies in the "
          "last 1.5 s" % (
              3 * down * 1000, down * 1000, took * 1000, during,
              seen[0][1], seen[0][2], n,
              "%.0f" % (gap * 1000) if gap else "-", len(after)))
    assert took < down + 0.5, took
    assert during == "b"
    assert ha.metric("haven_vrrp_late_timers_total", instance="web") > late0
    # Within a few intervals: exactly one master, a, and it stays so.
    settled = [s for s in seen if s[0] > 5 * 0.1]
    assert settled and all(m == ["na"] for _, m, _ in settled), seen
    assert all(who == "a" for _, _, who in settled), seen
    assert holds_vip(a) and not holds_vip(b)
    # a never left MASTER; it re-announced once (one burst), no more.
    assert len(inst(ha)["transitions"]) == na, inst(ha)["transitions"]
    assert 0 < ha.metric("haven_vrrp_announcements_total",
                         instance="web") - ann0 <= 5
    t = inst(hb)["transitions"]
    assert [(x["from"], x["to"], x["reason"]) for x in t[:2]] == [
        ("master", "backup", "higher_priority_seen"),
        ("backup", "master", "master_down_timer")], t
    # The data plane: never a gap beyond the down interval, and the
    # client's pings answered after the resume (by a).
    assert gap is None or gap < down + 0.5, gaps
    assert len(after) > 100, (len(after), gaps)


def vrrp_drop(ns, on):
    """Drop IP protocol 112 (VRRP) arriving in ns, nothing else (raw
    sockets get their packets after the INPUT hook)."""
    ns.run(["iptables", "-w", "-I" if on else "-D", "INPUT", "-p", "112",
            "-j", "DROP"], check=on)


@pytest.mark.parametrize("first", ["a", "b"])
def test_vrrp_partition(haven, workdir, lan, first):
    """Adverts dropped (iptables, protocol 112 only) in both nodes: b
    hears no master and becomes one too, and announces the VIP; ARP and
    ICMP still pass, so the client keeps reaching it. Once the rules go,
    exactly one master is left, a (the higher priority), within a few
    intervals; b steps down to BACKUP, a keeps the address.

    Who hears whom first decides how the client finds a again. first=a:
    a hears b as a lower master and announces the VIP again. first=b: b
    hears a and steps down before a ever hears b, so nothing tells a that
    the client was sent to b; without a periodic refresh the client's
    pings stay unanswered until its ARP entry expires (tens of seconds,
    keepalived alike). This case runs with garp.master_refresh 1s, the
    bound an operator can buy."""
    a, b, c = lan
    refresh = "      garp: { master_refresh: 1s }\n" if first == "b" else ""
    ha = node(haven, workdir, a, "na", 200, extra=refresh)
    hb = node(haven, workdir, b, "nb", 100, extra=refresh)
    wait_until(lambda: inst(ha)["state"] == "master" and
               inst(hb)["state"] == "backup", timeout=10,
               what="a master, b backup")
    dual0 = ha.metric("haven_vrrp_dual_master_total", instance="web")
    pinger = Pinger(c)  # the client's ARP entry for the VIP, kept fresh
    time.sleep(0.3)
    vrrp_drop(a, True)
    vrrp_drop(b, True)
    try:
        wait_until(lambda: masters(ha, hb) == ["na", "nb"], timeout=5,
                   what="split brain: both master")
        assert holds_vip(a) and holds_vip(b)
        assert a.ping(B) and b.ping(A), "more than VRRP dropped"
        wait_until(lambda: answering(c, a, b) == "b", timeout=2,
                   what="b announced the VIP")
        time.sleep(1.0)
        assert masters(ha, hb) == ["na", "nb"]
        n, gap, gaps = pinger.stop()
        # The data plane stayed up: the client moved from a to b.
        assert n > 100 and (gap is None or gap < 0.5), (n, gaps)
        if first == "a":
            vrrp_drop(a, False)
            wait_until(lambda: ha.metric("haven_vrrp_dual_master_total",
                                         instance="web") > dual0,
                       timeout=2, what="a hears b as a lower master")
        else:
            vrrp_drop(b, False)
            wait_until(lambda: inst(hb)["state"] == "backup", timeout=2,
                       what="b hears a and steps down")
    finally:
        vrrp_drop(a, False) if first == "b" else vrrp_drop(b, False)
    t_heal = time.time()
    wait_until(lambda: masters(ha, hb) == ["na"] and
               inst(hb)["state"] == "backup", timeout=1.0,
               what="one master, a, b backup")
    healed = time.time() - t_heal
    wait_until(lambda: c.ping(VIP), timeout=2.5,
               what="client reaches the VIP again")
    reached = time.time() - t_heal
    assert answering(c, a, b) == "a"
    time.sleep(0.5)
    assert masters(ha, hb) == ["na"] and inst(hb)["state"] == "backup"
    assert holds_vip(a) and not holds_vip(b)
    why = inst(hb)["transitions"][0]
    assert (why["from"], why["to"], why["reason"]) == (
        "master", "backup", "higher_priority_seen"), why
    assert [t["to"] for t in inst(ha)["transitions"]] == [
        "master", "backup"], "a left MASTER"
    print("split brain healed (%s hears first): one master after %.0f ms, "
          "client reaches a after %.0f ms" % (first, healed * 1000,
                                               reached * 1000))


def test_master_link_down(haven, workdir, lan):
    """a's link down: FAULT, the address off, b takes over within its
    down interval; link up: a (higher priority, preempt immediate) takes
    the VIP back and b is backup again."""
    a, b, c = lan
    ha, hb = pair(haven, workdir, a, b)
    down = inst(hb)["master_down_interval_us"] / 1e6
    pinger = Pinger(c)
    time.sleep(0.3)
    a.link_down("eth0")
    wait_until(lambda: inst(ha)["state"] == "fault", timeout=5,
               what="a fault on link down")
    assert not holds_vip(a)
    wait_until(lambda: inst(hb)["state"] == "master", timeout=5,
               what="b master")
    assert holds_vip(b)
    time.sleep(0.3)
    n, gap, gaps = pinger.stop()
    print("link down: %d replies, largest gap %.0f ms (down interval "
          "%.0f ms)" % (n, (gap or 0) * 1000, down * 1000))
    assert gap is not None and gap < down + 0.5, gaps
    why = inst(ha)["transitions"][0]
    assert (why["from"], why["to"]) == ("master", "fault"), why
    a.link_up("eth0")
    wait_until(lambda: inst(ha)["state"] == "master" and
               inst(hb)["state"] == "backup", timeout=5,
               what="a preempts back after link up")
    assert holds_vip(a) and not holds_vip(b)
    wait_until(lambda: answering(c, a, b) == "a" and c.ping(VIP),
               timeout=3, what="client reaches the VIP on a")


def test_gateway_probe_faults_the_master(haven, workdir, lan):
    """The gateway reachability probe: a track_checks entry whose check is
    an icmp probe of the upstream gateway (the client's host stands in for
    it), weight 0. ICMP to the gateway dropped on a (its uplink broken
    while VRRP still crosses the LAN): the health engine marks it down, a
    goes FAULT and b takes the VIP; the gateway back: a preempts."""
    from havenlib.configs import FAST, health
    a, b, c = lan
    track = ("      track_checks:\n"
             "        - { name: gateway, address: '%s', check: gw }\n" % C +
             health(FAST, "{{ name: gw, type: icmp }}").replace(
                 "{{", "{").replace("}}", "}"))
    ha = node(haven, workdir, a, "na", 200, extra=track)
    hb = node(haven, workdir, b, "nb", 100)
    wait_until(lambda: inst(ha)["state"] == "master" and
               inst(hb)["state"] == "backup", timeout=10,
               what="a master, b backup")
    drop = ["iptables", "-w", "OUTPUT", "-d", C, "-p", "icmp", "-j", "DROP"]
    a.run(drop[:2] + ["-I"] + drop[2:])
    try:
        wait_until(lambda: inst(ha)["state"] == "fault", timeout=10,
                   what="a fault when its gateway stops answering")
        wait_until(lambda: inst(hb)["state"] == "master", timeout=5,
                   what="b master")
        assert holds_vip(b) and not holds_vip(a)
        assert inst(ha)["tracking"] == [{"check": "gateway", "down": True,
                                         "weight": 0}], inst(ha)
    finally:
        a.run(drop[:2] + ["-D"] + drop[2:], check=False)
    wait_until(lambda: inst(ha)["state"] == "master", timeout=10,
               what="a master again with its gateway back")
    wait_until(lambda: holds_vip(a) and not holds_vip(b), timeout=5,
               what="VIP back on a")
