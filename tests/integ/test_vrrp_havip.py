"""takeover: havip in the emulated VPC of reference/vip.md §5.1.

Namespace `vpc` is the vSwitch/router: 198.18.0.1 on lo, one veth per host
(v-n1, v-n2, v-c1) with proxy_arp, so every host reaches every other only
through vpc's routing table, and broadcast (GARP) never crosses it. n1 and
n2 run haven with unicast VRRP between 198.18.0.11 and .12; the HAVIP
198.18.0.100 reaches whichever node vpc's /32 route points at. The real
controller (it snoops ARP announcements and re-points the route) is
written elsewhere; here the test plays it with `ip route replace`.

What is checked: the master proves ownership (echo replies from the
gateway to the VIP come back); in a control-plane partition (protocol 112
dropped in vpc's FORWARD) both nodes are master, and the one the route
does not point at reports not-owner, stops announcing altogether while
its owner probes (echo requests to the VIP through the gateway) are
answered by the live owner, and counts unverified master time; after the
heal there is one master, which owns the VIP once the route follows it;
when the owner dies during the partition, the not-owner finds its owner
probes unanswered and announces within probe_fall probe intervals; kill
-9 of the owner with the route moved makes the other one verify
ownership."""

import os
import signal
import subprocess
import time

import pytest

from havenlib.poll import wait_until

pytestmark = pytest.mark.root

HAVIP = "198.18.0.100"
GW = "198.18.0.1"
N1, N2, C1 = "198.18.0.11", "198.18.0.12", "198.18.0.21"

NODE = """\
haven:
  state_dir: {dir}/state
  log_level: debug
api:
  socket: {dir}/haven.sock
vrrp:
  instances:
    - name: hv
      interface: eth0
      vrid: 51
      priority: {prio}
      advert_interval: 100ms
      virtual_addresses: [{vip}/32]
      unicast_peers: [{peer}]
      takeover: havip
      havip: {{ gateway: {gw}, probe_interval: 200ms, probe_fall: 3,
               reannounce_max: 4s }}
      garp: {{ master_refresh: 500ms, master_delay: 0s }}
"""


@pytest.fixture
def vpc(netns):
    """The §5.1 topology; returns (vpc, n1, n2, c1)."""
    r = netns.router("vpc")
    r.add_addr("lo", GW + "/32")
    hosts = []
    for short, addr in (("n1", N1), ("n2", N2), ("c1", C1)):
        h = netns.ns(short)
        port = "v-" + short
        netns.link(h, r, addr + "/24", None, ifname_a="eth0",
                   ifname_b=port)
        h.add_route("default", GW)
        r.sysctl("net.ipv4.conf.%s.proxy_arp" % port, 1)
        # Answer ARP at once, as a vSwitch does (default: up to 0.8 s).
        r.sysctl("net.ipv4.neigh.%s.proxy_delay" % port, 0)
        r.ip("route", "add", addr + "/32", "dev", port)
        hosts.append(h)
    return (r,) + tuple(hosts)


def route_to(vpc_ns, short):
    """The controller's move: the HAVIP now goes to node `short`."""
    vpc_ns.ip("route", "replace", HAVIP + "/32", "dev", "v-" + short)


def node(haven, workdir, ns, name, prio, peer):
    d = os.path.join(str(workdir), name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)
    cfg = NODE.format(dir=d, prio=prio, vip=HAVIP, peer=peer, gw=GW)
    return haven(cfg, ns=ns, name=name, socket_path=d + "/haven.sock")


def inst(h):
    r = h.api("GET", "/v1/vrrp")
    assert r.status == 200, r
    return r.json["instances"][0]


def tk(h):
    return inst(h)["takeover"]


def announcements(h):
    return h.metric("haven_vrrp_announcements_total", instance="hv")


def unverified(h):
    return h.metric("haven_vrrp_unverified_master_seconds_total",
                    instance="hv")


def holds_vip(ns):
    return HAVIP + "/" in ns.ip("-o", "addr", "show", "dev", "eth0").stdout


def partition(vpc_ns, on):
    """Drop VRRP (protocol 112) between the nodes: a control-plane-only
    partition; the data plane (ICMP, the client) stays up."""
    vpc_ns.run(["iptables", "-w", "-I" if on else "-D", "FORWARD", "-p",
                "112", "-j", "DROP"])


def test_havip_split_brain(haven, workdir, vpc):
    r, n1, n2, c1 = vpc
    h1 = node(haven, workdir, n1, "n1", 200, N2)
    h2 = node(haven, workdir, n2, "n2", 100, N1)
    wait_until(lambda: inst(h1)["state"] == "master" and
               inst(h2)["state"] == "backup", timeout=10,
               what="n1 master, n2 backup")
    assert tk(h2)["state"] == "idle" and not holds_vip(n2)

    # The controller saw n1's announcement: the HAVIP goes to n1, and n1
    # proves it with an echo reply from the gateway to the VIP.
    route_to(r, "n1")
    wait_until(lambda: tk(h1)["state"] == "owner", timeout=5,
               what="n1 verified owner")
    t1 = tk(h1)
    assert t1["last_verified_ms"] is not None and t1["probes_answered"] > 0
    assert t1["verify_seconds"] is not None and t1["verify_seconds"] > 0
    assert c1.ping(HAVIP)
    # Adverts cross vpc (routed: TTL 254, accepted for unicast peers).
    assert inst(h2)["state"] == "backup"
    assert h2.metric("haven_vrrp_adverts_received_total", instance="hv") > 0
    out = subprocess.run([h1.bin, "status", "-s", h1.socket],
                         capture_output=True, text=True, timeout=10).stdout
    assert "takeover havip: owner" in out, out

    # Control-plane partition: n2 stops hearing n1 and becomes master too.
    partition(r, True)
    wait_until(lambda: inst(h2)["state"] == "master", timeout=5,
               what="n2 master in the partition")
    assert inst(h1)["state"] == "master"
    # n2 announced last: the controller moves the HAVIP to it.
    route_to(r, "n2")
    wait_until(lambda: tk(h2)["state"] == "owner", timeout=5,
               what="n2 verified owner")
    wait_until(lambda: tk(h1)["state"] == "not-owner", timeout=5,
               what="n1 not the owner")
    # n1's probes are answered to n2, which discards them as not its own.
    wait_until(lambda: tk(h2)["replies_discarded"]["other_id"] > 0,
               timeout=5, what="n2 discards n1's replies")

    # Over 3 s the owner keeps refreshing (every 500 ms); the loser, whose
    # owner probes n2 answers, announces nothing: no flapping fuel.
    a1, a2, u1 = announcements(h1), announcements(h2), unverified(h1)
    time.sleep(3.0)
    d1, d2 = announcements(h1) - a1, announcements(h2) - a2
    print("in 3 s of partition: owner %d announcements, not-owner %d" % (
        d2, d1))
    assert d2 >= 4, d2
    assert d1 == 0, d1
    assert unverified(h1) >= u1 + 2.5, (u1, unverified(h1))
    assert tk(h1)["state"] == "not-owner"
    assert tk(h1)["reannounces"] == 0
    assert tk(h1)["owner_probes"]["answered"] > 0
    # n2's own unverified time is only its time to verify.
    assert unverified(h2) < 2.0, unverified(h2)
    assert c1.ping(HAVIP)

    # Heal: the higher priority wins, n2 leaves. The route still points at
    # n2 until the controller follows n1's announcement (n1 hears n2's
    # last adverts, or its owner probes go unanswered).
    partition(r, False)
    wait_until(lambda: inst(h2)["state"] == "backup", timeout=5,
               what="n2 back to backup after the heal")
    assert inst(h1)["state"] == "master"
    assert not holds_vip(n2) and tk(h2)["state"] == "idle"
    route_to(r, "n1")
    wait_until(lambda: tk(h1)["state"] == "owner", timeout=5,
               what="n1 owner again")
    assert c1.ping(HAVIP)


def kill_node(h, ns):
    """kill -9 every process of this haven and take the VIP its dead vrrp
    process left off the link, as a dead host would."""
    for p in h.status()["processes"]:
        try:
            os.kill(p["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
    h.proc.kill()
    ns.ip("addr", "del", HAVIP + "/32", "dev", "eth0", check=False)


def test_havip_owner_killed(haven, workdir, vpc):
    r, n1, n2, c1 = vpc
    h1 = node(haven, workdir, n1, "n1", 200, N2)
    h2 = node(haven, workdir, n2, "n2", 100, N1)
    wait_until(lambda: inst(h1)["state"] == "master" and
               inst(h2)["state"] == "backup", timeout=10,
               what="n1 master, n2 backup")
    route_to(r, "n1")
    wait_until(lambda: tk(h1)["state"] == "owner", timeout=5,
               what="n1 verified owner")

    kill_node(h1, n1)
    wait_until(lambda: inst(h2)["state"] == "master", timeout=5,
               what="n2 master after n1 died")
    route_to(r, "n2")
    wait_until(lambda: tk(h2)["state"] == "owner", timeout=5,
               what="n2 verified owner")
    t2 = tk(h2)
    print("n2: master to verified owner in %.3f s" % t2["verify_seconds"])
    assert 0 < t2["verify_seconds"] < 5
    assert h2.metric("haven_vrrp_takeover_verify_seconds",
                     instance="hv") == pytest.approx(t2["verify_seconds"])
    assert c1.ping(HAVIP)


def owner_probes(h):
    return tk(h)["owner_probes"]


@pytest.mark.timing
def test_havip_owner_alive_then_dead(haven, workdir, vpc):
    """The issue's goal: in a partition with last-announcer-wins, the
    master that lost the address sends nothing while the owner lives (the
    old back-off would have re-announced at 1, 2, 4 s), and takes over
    once the owner is dead."""
    r, n1, n2, c1 = vpc
    h1 = node(haven, workdir, n1, "n1", 200, N2)
    h2 = node(haven, workdir, n2, "n2", 100, N1)
    wait_until(lambda: inst(h1)["state"] == "master" and
               inst(h2)["state"] == "backup", timeout=10,
               what="n1 master, n2 backup")
    route_to(r, "n1")
    wait_until(lambda: tk(h1)["state"] == "owner", timeout=5,
               what="n1 verified owner")
    assert owner_probes(h1)["sent"] == 0

    partition(r, True)
    wait_until(lambda: inst(h2)["state"] == "master", timeout=5,
               what="n2 master in the partition")
    route_to(r, "n2")
    wait_until(lambda: tk(h2)["state"] == "owner", timeout=5,
               what="n2 verified owner")
    wait_until(lambda: tk(h1)["state"] == "not-owner", timeout=5,
               what="n1 not the owner")
    wait_until(lambda: owner_probes(h1)["answered"] > 0, timeout=5,
               what="n2 answers n1's owner probes")

    # 8.5 s of partition: not one announcement from n1.
    a1, p1 = announcements(h1), owner_probes(h1)
    reann = tk(h1)["reannounces"]
    time.sleep(8.5)
    p1b = owner_probes(h1)
    print("n1 in 8.5 s not-owner: %d announcements, owner probes %s" % (
        announcements(h1) - a1, p1b))
    assert announcements(h1) == a1
    assert tk(h1)["reannounces"] == reann
    assert tk(h1)["state"] == "not-owner"
    assert inst(h1)["state"] == "master"
    # Probed every 200 ms, answered (a lost one or two at most).
    assert p1b["sent"] - p1["sent"] >= 30, (p1, p1b)
    assert p1b["answered"] - p1["answered"] >= p1b["sent"] - p1["sent"] - 2
    assert p1b["owner_lost"] == 0 and p1b["unsent"] == 0, p1b
    assert c1.ping(HAVIP)

    # The owner dies (VM gone: no process, no address). probe_fall (3)
    # owner probes 200 ms apart go unanswered: n1 announces.
    kill_node(h2, n2)
    t0 = time.monotonic()
    wait_until(lambda: owner_probes(h1)["owner_lost"] >= 1, timeout=3,
               what="n1 finds the owner gone")
    took = time.monotonic() - t0
    print("n1 saw the owner gone in %.2f s" % took)
    assert took < 3 * 0.2 + 1.0, took
    assert announcements(h1) > a1
    assert tk(h1)["state"] in ("verifying", "not-owner")
    # The controller follows n1's announcement.
    route_to(r, "n1")
    wait_until(lambda: tk(h1)["state"] == "owner", timeout=5,
               what="n1 owner again")
    assert c1.ping(HAVIP)
    assert h1.metric("haven_vrrp_takeover_owner_lost_total",
                     instance="hv") == 1


def test_havip_owner_probe_blind_fallback(haven, workdir, vpc):
    """Without the gateway's MAC the owner probe cannot be sent: the
    not-owner falls back to the blind back-off (1 s, 2 s, ...) and stops
    it once the probe goes out again."""
    r, n1, n2, c1 = vpc
    h1 = node(haven, workdir, n1, "n1", 200, N2)
    h2 = node(haven, workdir, n2, "n2", 100, N1)
    wait_until(lambda: inst(h1)["state"] == "master" and
               inst(h2)["state"] == "backup", timeout=10,
               what="n1 master, n2 backup")
    route_to(r, "n1")
    wait_until(lambda: tk(h1)["state"] == "owner", timeout=5,
               what="n1 verified owner")
    partition(r, True)
    wait_until(lambda: inst(h2)["state"] == "master", timeout=5,
               what="n2 master in the partition")
    route_to(r, "n2")
    wait_until(lambda: tk(h1)["state"] == "not-owner" and
               owner_probes(h1)["answered"] > 0, timeout=5,
               what="n1 not the owner, owner answering")

    # vpc stops answering ARP for the gateway on n1's port; n1 forgets it.
    r.sysctl("net.ipv4.conf.v-n1.arp_ignore", 8)
    n1.ip("neigh", "flush", "dev", "eth0", "to", GW)
    wait_until(lambda: owner_probes(h1)["unsent"] > 0, timeout=5,
               what="n1's owner probe cannot be sent")
    a1 = announcements(h1)
    wait_until(lambda: tk(h1)["reannounces"] >= 2, timeout=5,
               what="n1 re-announces on the back-off")
    assert announcements(h1) >= a1 + 2
    assert tk(h1)["state"] == "not-owner"

    # The gateway is back: owner probes go out, are answered, and the
    # back-off stops.
    r.sysctl("net.ipv4.conf.v-n1.arp_ignore", 0)
    answered = owner_probes(h1)["answered"]
    wait_until(lambda: owner_probes(h1)["answered"] > answered, timeout=5,
               what="n1's owner probes answered again")
    reann, unsent = tk(h1)["reannounces"], owner_probes(h1)["unsent"]
    time.sleep(2.5)
    assert tk(h1)["reannounces"] == reann
    assert owner_probes(h1)["unsent"] == unsent
    assert h1.metric("haven_vrrp_takeover_owner_probes_unsent_total",
                     instance="hv") == unsent
