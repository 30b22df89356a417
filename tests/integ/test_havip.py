"""The HAVIP control plane as the VPC of reference/vip.md §5.1: a `vpc`
namespace (haven with `havip:`, 198.18.0.1 on lo, ip_forward, proxy_arp and
a /32 route per node link, no shared L2), nodes n1, n2 (and n3, not
associated) each on a veth of its own, a client c1 on another, and an
`inet` side for the EIP (198.19.0.100 -> HAVIP 198.18.0.100).

Announcements are `arping -U` from a node after it added the HAVIP; VRRP
adverts for the witness rules come from a small raw-socket sender
(SENDER below), so this test does not depend on the node-side plane. The
last test runs two real haven nodes with `vrrp:` unicast instances and
kills the master with -9."""

import os
import signal
import subprocess
import sys
import time

import pytest

from havenlib.poll import wait_until

HAVIP, EIP = "198.18.0.100", "198.19.0.100"
NODES = {"n1": "198.18.0.11", "n2": "198.18.0.12", "n3": "198.18.0.13"}
CLIENT = "198.18.0.50"

VPC = """\
haven:
  state_dir: {dir}/state
  log_level: debug
api:
  socket: {dir}/haven.sock
havip:
  hold_down: {hold}
  instances:
    - {{ name: n1, interface: v-n1, address: 198.18.0.11 }}
    - {{ name: n2, interface: v-n2, address: 198.18.0.12 }}
    - {{ name: n3, interface: v-n3, address: 198.18.0.13 }}
  addresses:
    - name: web
      address: 198.18.0.100
      subnet: 198.18.0.0/24
      instances: [n1, n2]
      eip: 198.19.0.100
"""

# VRRPv3 adverts (RFC 9568 §5.1, message-only checksum, which the decoder
# accepts as RFC 9568 asks) from this node to a peer, naming the HAVIP,
# every 100 ms; SIGTERM sends one priority-0 advert (a graceful stop).
SENDER = r"""
import signal, socket, struct, sys, time
peer, prio, vip = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 255)
def pkt(p):
    b = struct.pack("!BBBBHH", 0x31, 51, p, 1, 10, 0) + socket.inet_aton(vip)
    t = sum(struct.unpack("!6H", b))
    t = (t & 0xffff) + (t >> 16); t = (t & 0xffff) + (t >> 16)
    return b[:6] + struct.pack("!H", ~t & 0xffff) + b[8:]
def stop(*a):
    s.sendto(pkt(0), (peer, 0)); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    s.sendto(pkt(prio), (peer, 0)); time.sleep(0.1)
"""


@pytest.fixture
def vpc(netns):
    """The §5.1 topology; returns a dict of namespaces."""
    v = netns.router("vpc")
    v.add_addr("lo", "198.18.0.1/32")
    ns = {"vpc": v}
    for name, addr in list(NODES.items()) + [("c1", CLIENT)]:
        n = netns.ns(name)
        netns.link(n, v, addr + "/24", None, ifname_a="eth0",
                   ifname_b="v-" + name)
        n.ip("route", "add", "default", "via", "198.18.0.1")
        v.sysctl("net.ipv4.conf.v-%s.proxy_arp" % name, 1)
        v.ip("route", "add", addr + "/32", "dev", "v-" + name)
        ns[name] = n
    inet = netns.ns("inet")
    netns.link(inet, v, "198.19.1.2/30", "198.19.1.1/30", ifname_a="eth0",
               ifname_b="v-inet")
    inet.ip("route", "add", "default", "via", "198.19.1.1")
    ns["inet"] = inet
    return ns


def controller(haven, workdir, ns, hold="2s"):
    d = os.path.join(str(workdir), "vpc")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)
    h = haven(VPC.format(dir=d, hold=hold), ns=ns, name="vpc",
              socket_path=d + "/haven.sock")
    # the API answers before the plane has its config and its sockets
    wait_until(lambda: h.api("GET", "/v1/havip/web").status == 200,
               timeout=10, what="the havip plane configured")
    return h


def web(h):
    r = h.api("GET", "/v1/havip/web")
    assert r.status == 200, r
    return r.json


def route_dev(vpc_ns):
    """The interface the VPC routes the HAVIP through, or None."""
    out = vpc_ns.ip("-o", "route", "show", HAVIP + "/32").stdout.split()
    return out[out.index("dev") + 1] if "dev" in out else None


_arpings = []


def announce(n):
    """What a node taking the HAVIP does: add it, then a gratuitous ARP."""
    n.ip("addr", "replace", HAVIP + "/32", "dev", "eth0")
    # arping lingers a second for replies an unsolicited ARP never gets,
    # while the frame leaves at once: let it linger in the background
    _arpings[:] = [p for p in _arpings if p.poll() is None]
    _arpings.append(n.popen(["arping", "-q", "-U", "-c", "1", "-I", "eth0",
                             "-s", HAVIP, HAVIP], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL))


def serve_name(procs, n, name):
    """An HTTP server on the node that answers with its name."""
    d = os.path.join(str(procs.workdir), "www-" + name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "name"), "w") as f:
        f.write(name)
    return procs.start([sys.executable, "-m", "http.server", "-b", "0.0.0.0",
                        "8080", "-d", d], ns=n, name="www-" + name)


def who(inet, addr=EIP):
    """The name of the node that answers http://addr:8080/name, or None."""
    cp = inet.run(["curl", "-s", "-m", "2", "http://%s:8080/name" % addr],
                  check=False, timeout=10)
    return cp.stdout.strip() or None


@pytest.mark.root
def test_announce_hold_down_eip_api(haven, workdir, vpc, procs):
    h = controller(haven, workdir, vpc["vpc"], hold="2s")
    st = web(h)
    assert st["state"] == "Available" and st["owner"] is None, st
    assert st["eip"] == EIP and st["subnet"] == "198.18.0.0/24"
    assert [i["name"] for i in st["instances"]] == ["n1", "n2"]
    assert route_dev(vpc["vpc"]) is None
    # the EIP table is there as soon as the config is
    ruleset = vpc["vpc"].run(["nft", "list", "table", "ip",
                              "haven_havip"]).stdout
    assert "dnat to 198.18.0.100" in ruleset, ruleset
    for n in ("n1", "n2"):
        serve_name(procs, vpc[n], n)

    # rule 1: the first announcer owns it and the route follows
    announce(vpc["n1"])
    wait_until(lambda: web(h)["owner"] == "n1", timeout=5,
               what="n1 owns the HAVIP")
    t0 = time.monotonic()
    assert route_dev(vpc["vpc"]) == "v-n1"
    st = web(h)
    assert st["state"] == "InUse" and st["last_remap"]["reason"] == "first"
    assert st["hold_down_active"], st

    # rule 2: n2's announcement inside the hold-down is held ...
    announce(vpc["n2"])
    wait_until(lambda: web(h)["held"] >= 1, timeout=2, what="held")
    assert web(h)["owner"] == "n1" and route_dev(vpc["vpc"]) == "v-n1"
    assert time.monotonic() - t0 < 2.0, "too slow to test the hold-down"
    # ... and judged again when it ends (n1 sends no adverts: n2 wins)
    wait_until(lambda: web(h)["owner"] == "n2", timeout=5,
               what="n2 owns it after the hold-down")
    assert time.monotonic() - t0 >= 1.5
    assert route_dev(vpc["vpc"]) == "v-n2"
    assert web(h)["last_remap"]["reason"] == "takeover"
    wait_until(lambda: who(vpc["inet"]) == "n2", timeout=10,
               what="the EIP answered by n2")
    # the client in the subnet reaches the HAVIP (through proxy ARP)
    wait_until(lambda: vpc["c1"].ping(HAVIP), timeout=5,
               what="c1 reaches the HAVIP on n2")
    assert h.metric("haven_havip_announcements_total", havip="web",
                    result="held") >= 1

    # an instance that is not associated is ignored and counted
    announce(vpc["n3"])
    wait_until(lambda: web(h)["ignored"] >= 1, timeout=3, what="ignored")
    assert web(h)["owner"] == "n2"

    # rule 4: the operator moves it; idempotent; errors are JSON 4xx
    r = h.api("POST", "/v1/havip/web/associate", {"instance": "n1"})
    assert r.status == 200 and r.json["owner"] == "n1", r
    assert r.json["last_remap"]["reason"] == "api"
    assert route_dev(vpc["vpc"]) == "v-n1"
    wait_until(lambda: who(vpc["inet"]) == "n1", timeout=10,
               what="the EIP answered by n1 again")
    r = h.api("POST", "/v1/havip/web/associate", {"instance": "n1"})
    assert r.status == 200 and r.json["owner"] == "n1", r
    r = h.api("POST", "/v1/havip/web/associate", {"instance": "n3"})
    assert r.status == 409 and "not associated" in r.json["error"], r
    r = h.api("POST", "/v1/havip/web/associate", {"instance": "n9"})
    assert r.status == 400 and "n9" in r.json["error"], r
    r = h.api("POST", "/v1/havip/web/associate", {"instance": 7})
    assert r.status == 400, r
    r = h.api("POST", "/v1/havip/nope/associate", {"instance": "n1"})
    assert r.status == 404 and "error" in r.json, r
    r = h.api("GET", "/v1/havip")
    assert r.status == 200 and [v["name"] for v in r.json["havips"]] == \
        ["web"], r
    # the hold-down restarted with the API move: n2 is held again
    announce(vpc["n2"])
    time.sleep(0.5)  # a negative: nothing must move within the hold-down
    assert web(h)["owner"] == "n1" and route_dev(vpc["vpc"]) == "v-n1"

    out = subprocess.run([h.bin, "status", "-s", h.socket],
                         capture_output=True, text=True, timeout=10)
    assert "HAVIP" in out.stdout and "InUse" in out.stdout, out

    # stop: the route stays (the gateway keeps forwarding), the EIP
    # table goes
    h.stop()
    assert route_dev(vpc["vpc"]) == "v-n1"
    cp = vpc["vpc"].run(["nft", "list", "table", "ip", "haven_havip"],
                        check=False)
    assert cp.returncode != 0
    # and a new controller adopts the route it finds
    h2 = controller(haven, workdir, vpc["vpc"], hold="2s")
    st = web(h2)
    assert st["owner"] == "n1" and st["last_remap"]["reason"] == "adopted"


def sender(procs, n, peer, prio, name):
    return procs.start([sys.executable, "-c", SENDER, peer, str(prio),
                        HAVIP], ns=n, name=name)


@pytest.mark.root
def test_witness_split_brain_dead_and_released_owner(haven, workdir, vpc,
                                                     procs):
    h = controller(haven, workdir, vpc["vpc"], hold="1s")
    s1 = sender(procs, vpc["n1"], NODES["n2"], 100, "vrrp-n1")
    announce(vpc["n1"])
    wait_until(lambda: web(h)["owner"] == "n1", timeout=5, what="n1 owns")
    wait_until(lambda: web(h)["instances"][0]["claiming_master"],
               timeout=5, what="n1's adverts seen")
    time.sleep(1.2)  # past the hold-down

    # split brain: n2 claims master too and announces; the owner is alive
    # and not outranked, so the HAVIP stays (no flapping)
    s2 = sender(procs, vpc["n2"], NODES["n1"], 100, "vrrp-n2")
    wait_until(lambda: web(h)["instances"][1]["claiming_master"],
               timeout=5, what="n2's adverts seen")
    for _ in range(3):
        announce(vpc["n2"])
        time.sleep(0.3)
    st = web(h)
    assert st["owner"] == "n1" and st["witness_kept"] >= 3, st
    assert route_dev(vpc["vpc"]) == "v-n1"
    assert st["contested_seconds"] > 0.5, st

    # the owner dies (no priority 0): the claiming n2 takes over as soon
    # as n1's three intervals lapse, without announcing again
    s1.kill()
    t0 = time.monotonic()
    wait_until(lambda: web(h)["owner"] == "n2", timeout=3,
               what="n2 takes over from the dead owner")
    took = time.monotonic() - t0
    assert route_dev(vpc["vpc"]) == "v-n2"
    assert web(h)["last_remap"]["reason"] == "takeover"
    contested = web(h)["contested_seconds"]

    # a graceful stop (priority 0) releases the HAVIP at once, and the
    # next announcer gets it inside what would have been the hold-down
    s2.signal(signal.SIGTERM)
    wait_until(lambda: web(h)["owner"] is None, timeout=3, what="released")
    assert web(h)["last_remap"]["reason"] == "release"
    wait_until(lambda: route_dev(vpc["vpc"]) is None, timeout=3,
               what="route removed")
    announce(vpc["n1"])
    wait_until(lambda: web(h)["owner"] == "n1", timeout=3, what="n1 again")
    assert abs(web(h)["contested_seconds"] - contested) < 0.01
    print("dead owner replaced in %.3f s" % took)
    assert took < 1.5


def test_check_reports_quota_errors(workdir, haven_bin):
    insts = "".join("    - { name: n%d, interface: v-n%d, address: "
                    "198.18.0.%d }\n" % (i, i, 10 + i) for i in range(1, 12))
    cfg = ("havip:\n  instances:\n" + insts +
           "  addresses:\n"
           "    - name: web\n"
           "      address: 198.18.0.100\n"
           "      subnet: 198.18.0.0/24\n"
           "      instances: [n1, n2, n3, n4, n5, n6, n7, n8, n9, n10, "
           "n11]\n"
           "      eip: 198.19.0.100\n"
           "    - name: far\n"
           "      address: 198.18.1.100\n"
           "      subnet: 198.18.0.0/24\n"
           "      instances: [n1]\n")
    path = os.path.join(str(workdir), "quota.yaml")
    with open(path, "w") as f:
        f.write(cfg)
    cp = subprocess.run([str(haven_bin), "check", "-c", path],
                        capture_output=True, text=True, timeout=30)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 1, out
    assert "quota.yaml:18:18: havip web: instances: 1 to 10" in out, out
    assert "quota.yaml:21:16: havip far: address is not in subnet" in out, out


NODE = """\
haven:
  state_dir: {dir}/state
api:
  socket: {dir}/haven.sock
vrrp:
  instances:
    - name: web
      interface: eth0
      vrid: 51
      priority: {prio}
      advert_interval: 100ms
      accept: true
      virtual_addresses: [198.18.0.100/32]
      unicast_peers: [{peer}]
      takeover: havip
      havip: {{ gateway: 198.18.0.1 }}
"""


def node(haven, workdir, ns, name, prio, peer):
    d = os.path.join(str(workdir), name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)
    return haven(NODE.format(dir=d, prio=prio, peer=peer), ns=ns, name=name,
                 socket_path=d + "/haven.sock")


def vrrp_inst(h):
    r = h.api("GET", "/v1/vrrp")
    assert r.status == 200, r
    return r.json["instances"][0]


def vrrp_state(h):
    return vrrp_inst(h)["state"]


def takeover_state(h):
    return vrrp_inst(h)["takeover"]["state"]


@pytest.mark.root
def test_two_haven_nodes_kill_master(haven, workdir, vpc, procs):
    """Real nodes: haven `vrrp:` unicast instances through the VPC, with
    `takeover: havip` (each master probes the gateway from the HAVIP to
    verify it owns it). The master's GARP makes it the owner; kill -9 of
    it moves the HAVIP to the backup and the EIP keeps answering, now from
    n2."""
    h = controller(haven, workdir, vpc["vpc"], hold="1s")
    for n in ("n1", "n2"):
        serve_name(procs, vpc[n], n)
    h1 = node(haven, workdir, vpc["n1"], "node1", 200, NODES["n2"])
    h2 = node(haven, workdir, vpc["n2"], "node2", 100, NODES["n1"])
    wait_until(lambda: vrrp_state(h1) == "master" and
               vrrp_state(h2) == "backup", timeout=10,
               what="n1 master, n2 backup")
    wait_until(lambda: web(h)["owner"] == "n1", timeout=10,
               what="the master's GARP makes n1 the owner")
    assert route_dev(vpc["vpc"]) == "v-n1"
    wait_until(lambda: who(vpc["inet"]) == "n1", timeout=10,
               what="the EIP answered by n1")
    # the node's own check (takeover: havip) agrees: this controller
    # routes the HAVIP's traffic to it
    wait_until(lambda: takeover_state(h1) == "owner", timeout=5,
               what="n1 verified as the owner by its probes")
    # the controller sees the unicast adverts routed through it
    wait_until(lambda: web(h)["instances"][0]["claiming_master"],
               timeout=5, what="n1's adverts seen")
    time.sleep(1.2)  # past the hold-down

    t0 = time.monotonic()
    for pid in [p["pid"] for p in h1.status()["processes"]]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    h1.proc.kill()
    # a dead host answers nothing for the address it held
    vpc["n1"].ip("addr", "del", HAVIP + "/32", "dev", "eth0", check=False)
    wait_until(lambda: web(h)["owner"] == "n2", timeout=10,
               what="the HAVIP moves to n2")
    moved = time.monotonic() - t0
    assert route_dev(vpc["vpc"]) == "v-n2"
    wait_until(lambda: who(vpc["inet"]) == "n2", timeout=10,
               what="the EIP answered by n2")
    served = time.monotonic() - t0
    assert vrrp_state(h2) == "master"
    wait_until(lambda: takeover_state(h2) == "owner", timeout=5,
               what="n2 verified as the owner by its probes")
    print("kill -9: HAVIP moved in %.3f s, EIP served by n2 after %.3f s" %
          (moved, served))


def two_nodes(haven, workdir, vpc, procs, hold="1s"):
    """The controller and two haven nodes, n1 master and verified owner."""
    h = controller(haven, workdir, vpc["vpc"], hold=hold)
    for n in ("n1", "n2"):
        serve_name(procs, vpc[n], n)
    h1 = node(haven, workdir, vpc["n1"], "node1", 200, NODES["n2"])
    h2 = node(haven, workdir, vpc["n2"], "node2", 100, NODES["n1"])
    wait_until(lambda: vrrp_state(h1) == "master" and
               vrrp_state(h2) == "backup" and web(h)["owner"] == "n1" and
               takeover_state(h1) == "owner", timeout=10,
               what="n1 master and verified owner, n2 backup")
    wait_until(lambda: who(vpc["inet"]) == "n1", timeout=10,
               what="the EIP answered by n1")
    return h, h1, h2


@pytest.mark.timing
@pytest.mark.root
def test_vpc_faults_with_real_nodes(haven, workdir, vpc, procs):
    """The fault matrix of reference/vip.md §6 on the emulated VPC with its
    controller and two haven nodes (`takeover: havip`):

    - control-plane partition (IP protocol 112 dropped in the VPC's
      FORWARD chain) for 4 s: both nodes master, the controller keeps the
      HAVIP on n1 (witness), n2 is not the owner and stays quiet, the EIP
      keeps answering from n1, dual-master time is counted on both sides;
      healed: n2 backup again;
    - SIGSTOP of n1's vrrp process: n2 takes over and the HAVIP follows
      it (n1's adverts lapsed); SIGCONT: n1 (higher, preempting) takes it
      back;
    - n1's link down: n1 FAULT, n2 master and owner; link up: n1 back;
    - graceful stop of n1: its priority-0 advert releases the HAVIP at
      once and n2's announcement takes it."""
    h, h1, h2 = two_nodes(haven, workdir, vpc, procs)
    time.sleep(1.2)  # past the hold-down
    changes0 = web(h)["last_remap"]["at_ms"]

    # -- partition
    drop = ["iptables", "-w", "FORWARD", "-p", "112", "-j", "DROP"]
    vpc["vpc"].run(drop[:2] + ["-I"] + drop[2:])
    try:
        wait_until(lambda: vrrp_state(h2) == "master", timeout=5,
                   what="n2 master too (split brain)")
        time.sleep(4)
        assert vrrp_state(h1) == "master"
        assert web(h)["owner"] == "n1", web(h)
        assert web(h)["last_remap"]["at_ms"] == changes0, web(h)
        assert route_dev(vpc["vpc"]) == "v-n1"
        assert who(vpc["inet"]) == "n1"
        tk2 = vrrp_inst(h2)["takeover"]
        assert tk2["state"] == "not-owner", tk2
        assert tk2["unverified_master_seconds"] > 3, tk2
        assert web(h)["contested_seconds"] > 3, web(h)
        assert web(h)["witness_kept"] >= 1, web(h)
    finally:
        vpc["vpc"].run(drop[:2] + ["-D"] + drop[2:], check=False)
    wait_until(lambda: vrrp_state(h2) == "backup", timeout=5,
               what="n2 backup once adverts cross again")
    assert web(h)["owner"] == "n1"

    # -- SIGSTOP of n1's vrrp process
    pid = h1.plane_pid("vrrp")
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_until(lambda: vrrp_state(h2) == "master" and
                   web(h)["owner"] == "n2", timeout=5,
                   what="n2 master and the HAVIP moved while n1 stalls")
        wait_until(lambda: who(vpc["inet"]) == "n2", timeout=5,
                   what="the EIP answered by n2")
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_until(lambda: vrrp_state(h1) == "master" and
               vrrp_state(h2) == "backup" and web(h)["owner"] == "n1",
               timeout=10, what="n1 preempts back and owns the HAVIP")
    wait_until(lambda: who(vpc["inet"]) == "n1", timeout=10,
               what="the EIP answered by n1 again")
    # its timers ran a whole stall late: counted, and not acted on
    assert h1.metric("haven_vrrp_late_timers_total", instance="web") >= 1

    # -- n1's link down, then up
    vpc["n1"].link_down("eth0")
    try:
        wait_until(lambda: vrrp_state(h1) == "fault" and
                   vrrp_state(h2) == "master" and web(h)["owner"] == "n2",
                   timeout=5, what="n1 fault, n2 master and owner")
        wait_until(lambda: who(vpc["inet"]) == "n2", timeout=5,
                   what="the EIP answered by n2")
    finally:
        vpc["n1"].link_up("eth0")
        # the kernel dropped the routes through the link while it was
        # down; a node's network manager would put the default back
        vpc["n1"].ip("route", "replace", "default", "via", "198.18.0.1")
    wait_until(lambda: vrrp_state(h1) == "master" and
               web(h)["owner"] == "n1" and takeover_state(h1) == "owner",
               timeout=10, what="n1 back: master, owner, verified")
    wait_until(lambda: who(vpc["inet"]) == "n1", timeout=10,
               what="the EIP answered by n1 again")

    # -- graceful stop of n1
    t0 = time.monotonic()
    h1.stop()
    wait_until(lambda: web(h)["owner"] == "n2", timeout=5,
               what="the HAVIP released by n1's priority 0 and taken by n2")
    moved = time.monotonic() - t0
    wait_until(lambda: who(vpc["inet"]) == "n2", timeout=5,
               what="the EIP answered by n2")
    assert vrrp_state(h2) == "master"
    print("graceful stop: HAVIP on n2 %.3f s after the stop began" % moved)
