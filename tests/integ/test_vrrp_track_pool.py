"""VRRP tracking of an lb pool's usable count: node a balances to two
nginx backends of its own (pool web, health-checked) and holds the VIP at
priority 200 while both are up; its instance tracks the pool with min_up 2
and weight 150. Stopping one nginx leaves one usable server: a's priority
falls to 50, below its peer b (100), which preempts and takes the VIP.
Starting the nginx again brings a back to 200, and a preempts back.

Same bridge as test_vrrp.py (198.18.30.0/24, VIP .100)."""

import os
import subprocess

import pytest

from havenlib.configs import FAST, WEB_HTTP, health
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
      vrid: 52
      priority: {prio}
      advert_interval: 100ms
      virtual_addresses: [{vip}]
{extra}"""

POOL = """\
      track_pools: [{{ pool: web, min_up: 2, weight: 150 }}]
lb:
  listeners:
    - {{ name: web, bind: '{vip}:8080', pool: web, freebind: true }}
  pools:
    - name: web
      health_check: web-http
      servers:
        - {{ name: s1, address: '{a}:9001' }}
        - {{ name: s2, address: '{a}:9002' }}
""" + health(FAST, WEB_HTTP)


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


def pool(h):
    return [t for t in inst(h)["tracking"] if "pool" in t][0]


def holds_vip(ns):
    return VIP + "/" in ns.ip("-o", "addr", "show", "dev", "eth0").stdout


def test_pool_usable_count_moves_the_master(haven, nginx, haven_bin,
                                            workdir, lan):
    a, b, c = lan
    nginx(A, 9001, ns=a, body="s1\n")
    s2 = nginx(A, 9002, ns=a, body="s2\n")
    ha = node(haven, workdir, a, "na", 200,
              extra=POOL.format(vip=VIP, a=A))
    hb = node(haven, workdir, b, "nb", 100)
    wait_until(lambda: inst(ha)["state"] == "master" and
               inst(hb)["state"] == "backup", timeout=10,
               what="a master, b backup")
    wait_until(lambda: ha.lb_server("web", "s2")["state"] == "up",
               timeout=10, what="s2 up in the lb")
    assert pool(ha) == {"pool": "web", "down": False, "usable": 2,
                        "servers": 2, "min_up": 2, "weight": 150}
    cp = c.run(["curl", "-s", "-m", "5", "http://%s:8080/" % VIP])
    assert cp.stdout in ("s1\n", "s2\n"), cp

    # One backend stops: one usable, short of min_up, 200 - 150 = 50.
    s2.stop()
    wait_until(lambda: pool(ha)["usable"] == 1, timeout=10,
               what="a counts one usable server")
    st = inst(ha)
    assert pool(ha)["down"] and st["priority"] == 50, st
    wait_until(lambda: inst(hb)["state"] == "master", timeout=5,
               what="b preempts a's lowered priority")
    wait_until(lambda: inst(ha)["state"] == "backup", timeout=5,
               what="a backup")
    assert holds_vip(b) and not holds_vip(a)
    assert c.ping(VIP)
    out = subprocess.run([haven_bin, "status", "-s", ha.socket],
                         capture_output=True, text=True, timeout=30)
    assert "pool web: 1/2 up, min_up 2, weight 150 (short" in out.stdout, \
        out

    # It comes back: full priority again, a preempts (the default).
    s2.start()
    try:
        wait_until(lambda: pool(ha)["usable"] == 2, timeout=10,
                   what="a counts both servers again")
        wait_until(lambda: inst(ha)["state"] == "master" and
                   inst(hb)["state"] == "backup", timeout=5,
                   what="a preempts back")
        assert inst(ha)["priority"] == 200
        assert holds_vip(a) and not holds_vip(b)
    finally:
        s2.stop()
