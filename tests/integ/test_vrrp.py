"""The virtual IP plane on real hosts: two nodes and a client on one bridge
(198.18.30.0/24), VIP 198.18.30.100. haven with haven, and haven with
keepalived 2.2 (the Debian package) as the peer, elect one master, move
the VIP on kill -9 and on a graceful stop, and a client pinging the VIP
every 10 ms sees it answered again within a few advert intervals.

Killing a node is kill -9 of every process of it plus removing the VIP
the dead process left on its link, as ../shared/bench/vip does for
keepalived: a dead host answers no ARP."""

import os
import re
import shutil
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
  log_level: debug
api:
  socket: {dir}/haven.sock
vrrp:
  instances:
    - name: web
      interface: eth0
      vrid: 51
      priority: {prio}
      version: {version}
      advert_interval: {adv}
      virtual_addresses: [{vip}]
{extra}"""

KEEPALIVED = """\
global_defs {{
  router_id {name}
  vrrp_garp_master_delay 0
  {gdefs}
}}
vrrp_instance VI_1 {{
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority {prio}
  advert_int {adv}
  version {version}
  virtual_ipaddress {{ {vip}/32 }}
{extra}
}}
"""


@pytest.fixture
def lan(netns):
    br = netns.bridge("lan")
    a, b, c = netns.ns("a"), netns.ns("b"), netns.ns("c")
    netns.attach(a, br, A + "/24", ifname="eth0")
    netns.attach(b, br, B + "/24", ifname="eth0")
    netns.attach(c, br, C + "/24", ifname="eth0")
    return a, b, c


def node(haven, workdir, ns, name, prio, adv="100ms", version=3, extra=""):
    d = os.path.join(str(workdir), name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)
    cfg = NODE.format(dir=d, prio=prio, adv=adv, version=version, vip=VIP,
                      extra=extra)
    return haven(cfg, ns=ns, name=name, socket_path=d + "/haven.sock")


def inst(h):
    r = h.api("GET", "/v1/vrrp")
    assert r.status == 200, r
    return r.json["instances"][0]


def holds_vip(ns):
    return VIP + "/" in ns.ip("-o", "addr", "show", "dev", "eth0").stdout


def sched_policy(pid):
    """The scheduling policy of pid (field 41 of /proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[38])


def kill_node(h, ns):
    """kill -9 every process of this haven, then take the VIP its dead
    vrrp process left behind off the link, as a dead host would."""
    pids = [p["pid"] for p in h.status()["processes"]]
    for pid in pids:  # children first: they would release on their own
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    h.proc.kill()
    ns.ip("addr", "del", VIP + "/32", "dev", "eth0", check=False)


class Pinger:
    """ping -D -i 0.01 the VIP from the client; gaps between replies."""

    def __init__(self, ns):
        self.p = ns.popen(["ping", "-n", "-D", "-i", "0.01", "-W", "0.05",
                           VIP], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        out, _ = self.p.communicate(timeout=10)
        ts = [float(m.group(1)) for m in
              (re.match(r"\[(\d+\.\d+)\]", ln) for ln in out.splitlines())
              if m]
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        return len(ts), (max(gaps) if gaps else None)


def test_haven_pair_failover(haven, workdir, lan):
    a, b, c = lan
    ha = node(haven, workdir, a, "na", 200)
    hb = node(haven, workdir, b, "nb", 100)
    wait_until(lambda: inst(ha)["state"] == "master" and
               inst(hb)["state"] == "backup", timeout=10,
               what="a master, b backup")
    assert holds_vip(a) and not holds_vip(b)
    assert c.ping(VIP)
    st = inst(hb)
    assert st["master"] == A, st
    assert hb.metric("haven_vrrp_adverts_received_total", instance="web") > 0
    # The vrrp process alone holds NET_ADMIN and NET_RAW, runs real-time.
    p = [p for p in ha.status()["processes"] if p["plane"] == "vrrp"][0]
    assert sorted(p["caps"]) == ["cap_net_admin", "cap_net_raw"], p
    assert sched_policy(p["pid"]) == 2, "not SCHED_RR"

    # kill -9 the master: b takes over within its master-down interval
    # (3 x 100 ms + skew), the client sees a short gap.
    pinger = Pinger(c)
    time.sleep(0.5)
    kill_node(ha, a)
    wait_until(lambda: inst(hb)["state"] == "master", timeout=5,
               what="b master after a died")
    time.sleep(0.5)
    n, gap = pinger.stop()
    assert holds_vip(b)
    print("kill -9 at 100 ms adverts: %d replies, largest gap %.0f ms" % (
        n, gap * 1000))
    assert gap is not None and gap < 1.5, gap
    last = inst(hb)["transitions"][0]
    assert last["to"] == "master" and last["reason"].startswith("master_down"), last

    # a comes back with the higher priority and preempts (default).
    ha = node(haven, workdir, a, "na2", 200)
    wait_until(lambda: inst(ha)["state"] == "master" and
               inst(hb)["state"] == "backup", timeout=10,
               what="a preempts again")
    assert holds_vip(a) and not holds_vip(b)

    # Graceful stop: priority 0 hands over after the skew time only.
    pinger = Pinger(c)
    time.sleep(0.3)
    ha.stop()
    wait_until(lambda: inst(hb)["state"] == "master", timeout=5,
               what="b master after a stopped")
    time.sleep(0.3)
    n, gap = pinger.stop()
    print("graceful stop: %d replies, largest gap %.0f ms" % (n, gap * 1000))
    assert not holds_vip(a) and holds_vip(b)
    why = inst(hb)["transitions"][0]["reason"]
    assert why.startswith("priority0"), why


def test_preempt_never_and_link_tracking(haven, workdir, lan):
    a, b, c = lan
    hb = node(haven, workdir, b, "nb", 100, extra="      preempt: never\n")
    wait_until(lambda: inst(hb)["state"] == "master", timeout=10,
               what="b master alone")
    ha = node(haven, workdir, a, "na", 200,
              extra="      preempt: never\n")
    wait_until(lambda: inst(ha)["state"] == "backup", timeout=10,
               what="a backup")
    time.sleep(1.0)
    # never: the higher priority waits while the master lives.
    assert inst(hb)["state"] == "master" and inst(ha)["state"] == "backup"

    # b's own link down: FAULT, addresses released, a takes over.
    b.link_down("eth0")
    wait_until(lambda: inst(hb)["state"] == "fault", timeout=5,
               what="b fault on link down")
    wait_until(lambda: inst(ha)["state"] == "master", timeout=5,
               what="a master")
    assert holds_vip(a) and not holds_vip(b)
    b.link_up("eth0")
    wait_until(lambda: inst(hb)["state"] == "backup", timeout=5,
               what="b back as backup")
    assert inst(ha)["state"] == "master"


def check(haven_bin, workdir, text):
    p = os.path.join(str(workdir), "bad.yaml")
    with open(p, "w") as f:
        f.write(text)
    cp = subprocess.run([haven_bin, "check", "-c", p], capture_output=True,
                        text=True, timeout=30)
    assert cp.returncode == 1, cp
    return cp.stderr + cp.stdout


def test_config_errors(haven_bin, workdir):
    err = check(haven_bin, workdir, NODE.format(
        dir=str(workdir), prio=100, adv="1s", version=3, vip=VIP,
        extra="      unicast_peers: [x]\n"))
    assert "bad.yaml:15:23: expected an address" in err, err
    err = check(haven_bin, workdir, NODE.format(
        dir=str(workdir), prio=100, adv="1500ms", version=2,
        vip="2001:db8::1", extra=""))
    assert "bad.yaml:12:16: version 2 is IPv4 only" in err, err
    assert "bad.yaml:13:24: advert_interval: version 2 carries whole " \
        "seconds" in err, err
    assert "first address must be link-local" in err, err
    err = check(haven_bin, workdir, NODE.format(
        dir=str(workdir), prio=100, adv="1s", version=3, vip=VIP,
        extra="      track_checks: [{ name: w, address: 198.18.30.5, "
              "check: nope }]\n"))
    assert "bad.yaml:15:62: instance web: check nope is not in " \
        "health.checks" in err, err


def keepalived(ns, workdir, name, prio, adv=1, version=3, extra="",
               gdefs=""):
    if shutil.which("keepalived") is None:
        pytest.skip("keepalived not installed (scripts/deps.sh check)")
    d = os.path.join(str(workdir), name)
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "keepalived.conf")
    with open(conf, "w") as f:
        f.write(KEEPALIVED.format(name=name, prio=prio, adv=adv,
                                  version=version, vip=VIP, extra=extra,
                                  gdefs=gdefs))
    argv = ["keepalived", "-n", "-l", "-D", "-P", "-f", conf,
            "-p", d + "/ka.pid", "-r", d + "/vrrp.pid"]
    log = open(os.path.join(d, "keepalived.log"), "w")
    return ns.popen(argv, stdout=log, stderr=subprocess.STDOUT), d


def ka_stop(p, sig=signal.SIGTERM):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.mark.parametrize("version,unicast", [(3, False), (3, True),
                                              (2, False)])
@pytest.mark.timing
def test_keepalived_interop(haven, workdir, lan, version, unicast):
    """haven and keepalived elect one master both ways, and each takes
    over when the other stops. VRRPv3 runs at 100 ms adverts (the waits
    scale with them); v2 only knows whole seconds."""
    a, b, c = lan
    adv = 1 if version == 2 else 0.1
    hv_adv = "1s" if version == 2 else "100ms"
    ka_extra = ("  unicast_src_ip %s\n  unicast_peer { %s }\n" % (B, A)
                if unicast else "")
    hv_extra = ("      unicast_peers: [%s]\n" % B) if unicast else ""
    # keepalived master (150) on b, haven backup (100) on a.
    kp, kd = keepalived(b, workdir, "kb", 150, adv=adv, version=version,
                        extra=ka_extra)
    try:
        ha = node(haven, workdir, a, "na", 100, adv=hv_adv, version=version,
                  extra=hv_extra)
        wait_until(lambda: holds_vip(b), timeout=15, what="keepalived master")
        wait_until(lambda: inst(ha)["state"] == "backup", timeout=10,
                   what="haven backup")
        time.sleep(3.5 * adv)  # > master-down interval: stays backup
        st = inst(ha)
        assert st["state"] == "backup" and st["master"] == B, st
        assert ha.metric("haven_vrrp_adverts_discarded_total") == 0, \
            ha.api("GET", "/metrics").text
        # keepalived stops gracefully (priority 0): haven takes over fast.
        ka_stop(kp)
        wait_until(lambda: inst(ha)["state"] == "master", timeout=5,
                   what="haven master after keepalived stopped")
        assert holds_vip(a) and not holds_vip(b)
        assert c.ping(VIP)
    finally:
        ka_stop(kp)

    # The other way round: haven master (200), keepalived backup (100).
    ha.stop()
    ha = node(haven, workdir, a, "na2", 200, adv=hv_adv, version=version,
              extra=hv_extra)
    wait_until(lambda: inst(ha)["state"] == "master", timeout=10,
               what="haven master")
    kp, kd = keepalived(b, workdir, "kb2", 100, adv=adv, version=version,
                        extra=ka_extra)
    try:
        time.sleep(4.5 * adv)
        assert inst(ha)["state"] == "master"
        assert holds_vip(a) and not holds_vip(b), "keepalived took over"
        kill_node(ha, a)
        wait_until(lambda: holds_vip(b), timeout=10,
                   what="keepalived master after haven died")
        assert c.ping(VIP)
    finally:
        ka_stop(kp)


def test_lb_listens_on_the_vip(haven, nginx, workdir, lan):
    """An lb listener with freebind binds the VIP before this node holds
    it (at start, as a backup would); once master, clients reach the
    backend through the VIP."""
    a, b, c = lan
    nginx(A, 9000, ns=a, body="via vip\n")
    lb = ("lb:\n  listeners:\n"
          "    - { name: web, bind: '%s:8080', pool: web, freebind: true }\n"
          "  pools:\n    - name: web\n      servers:\n"
          "        - { name: s1, address: '%s:9000' }\n" % (VIP, A))
    ha = node(haven, workdir, a, "na", 100, extra=lb)
    wait_until(lambda: inst(ha)["state"] == "master", timeout=10,
               what="a master")
    cp = c.run(["curl", "-s", "-m", "5", "http://%s:8080/" % VIP])
    assert cp.stdout == "via vip\n", cp


def test_ipv6_pair(haven, workdir, lan):
    """VRRPv3 over IPv6: the link-local VIP first (RFC 9568 5.2.9), a
    ULA VIP the client pings; kill -9 moves both."""
    a, b, c = lan
    vip6 = "fd00:198:18:30::100"
    for ns, last in ((a, 1), (b, 2), (c, 10)):
        ns.sysctl("net.ipv6.conf.eth0.accept_dad", 0)
        ns.ip("-6", "addr", "add", "fd00:198:18:30::%d/64" % last, "dev",
              "eth0", "nodad")
    wait_until(lambda: "fe80" in a.ip("-6", "-o", "addr", "show", "dev",
                                      "eth0").stdout and
               "tentative" not in a.ip("-6", "-o", "addr", "show", "dev",
                                       "eth0").stdout, timeout=10,
               what="link-local on a")
    six = "[fe80::1:100, '%s']" % vip6
    cfg = NODE.replace("[{vip}]", six.replace("{", "{{").replace("}", "}}"))
    nodes = []
    for ns, name, prio in ((a, "n6a", 200), (b, "n6b", 100)):
        d = os.path.join(str(workdir), name)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o777)
        nodes.append(haven(cfg.format(dir=d, prio=prio, adv="100ms",
                                      version=3, vip=None, extra=""),
                           ns=ns, name=name, socket_path=d + "/haven.sock"))
    ha, hb = nodes
    # b is backup from the start; who the master is, it knows from the
    # first advert it hears.
    wait_until(lambda: inst(ha)["state"] == "master" and
               inst(hb)["state"] == "backup" and
               inst(hb)["master"] is not None, timeout=10,
               what="a master, b backup hearing it (IPv6)")
    assert inst(hb)["master"].startswith("fe80::"), inst(hb)
    assert c.run(["ping", "-6", "-c", "1", "-W", "2", vip6],
                 check=False).returncode == 0
    kill_node(ha, a)
    a.ip("-6", "addr", "del", vip6 + "/128", "dev", "eth0", check=False)
    wait_until(lambda: inst(hb)["state"] == "master", timeout=5,
               what="b master (IPv6)")
    assert vip6 + "/128" in b.ip("-6", "-o", "addr", "show", "dev",
                                 "eth0").stdout
    wait_until(lambda: c.run(["ping", "-6", "-c", "1", "-W", "1", vip6],
                             check=False).returncode == 0, timeout=5,
               what="client reaches the IPv6 VIP on b")


def test_track_health_check(haven, nginx, workdir, lan):
    """A track_checks entry of weight 0: the health engine's verdict on the
    node's own backend faults the instance, the peer takes the VIP; when
    the backend recovers, the node preempts back."""
    from havenlib.configs import FAST, WEB_HTTP, health
    a, b, c = lan
    web = nginx(A, 9000, ns=a)
    track = ("      track_checks:\n"
             "        - { name: web, address: '%s:9000', check: web-http }\n"
             % A + health(FAST, WEB_HTTP).replace("{{", "{").replace(
                 "}}", "}"))
    ha = node(haven, workdir, a, "na", 200, extra=track)
    hb = node(haven, workdir, b, "nb", 100)
    wait_until(lambda: inst(ha)["state"] == "master" and
               inst(hb)["state"] == "backup", timeout=10,
               what="a master, b backup")
    web.set_healthy(False)
    wait_until(lambda: inst(ha)["state"] == "fault", timeout=10,
               what="a fault when its backend fails")
    assert inst(ha)["tracking"] == [{"check": "web", "down": True,
                                     "weight": 0}], inst(ha)
    wait_until(lambda: inst(hb)["state"] == "master", timeout=5,
               what="b master")
    assert holds_vip(b) and not holds_vip(a)
    web.set_healthy(True)
    wait_until(lambda: inst(ha)["state"] == "master", timeout=10,
               what="a master again")
    wait_until(lambda: holds_vip(a) and not holds_vip(b), timeout=5,
               what="VIP back on a")


def test_reload_keeps_the_master(haven, workdir, lan):
    """A reload that changes only the priority keeps the running instance
    (no transition, no takeover by the peer: keepalived #754 loses the
    VIP when a reload outlasts the down interval); a priority below the
    peer's then hands over at once."""
    a, b, c = lan
    ha = node(haven, workdir, a, "na", 200)
    hb = node(haven, workdir, b, "nb", 100)
    wait_until(lambda: inst(ha)["state"] == "master" and
               inst(hb)["state"] == "backup", timeout=10,
               what="a master, b backup")
    before = len(inst(ha)["transitions"])
    with open(ha.config) as f:
        text = f.read()
    with open(ha.config, "w") as f:
        f.write(text.replace("priority: 200", "priority: 210"))
    r = ha.api("POST", "/v1/reload")
    assert r.status == 200, r
    wait_until(lambda: inst(ha)["configured_priority"] == 210, timeout=5,
               what="new priority applied")
    time.sleep(1.0)
    st = inst(ha)
    assert st["state"] == "master" and len(st["transitions"]) == before, st
    assert [t["to"] for t in inst(hb)["transitions"]] == ["backup"]
    with open(ha.config, "w") as f:
        f.write(text.replace("priority: 200", "priority: 50"))
    assert ha.api("POST", "/v1/reload").status == 200
    wait_until(lambda: inst(hb)["state"] == "master", timeout=5,
               what="b preempts a lowered a")
    wait_until(lambda: inst(ha)["state"] == "backup", timeout=5,
               what="a backup")
    assert holds_vip(b) and not holds_vip(a)
