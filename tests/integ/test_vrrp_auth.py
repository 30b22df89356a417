"""VRRP unicast authentication (HMAC-SHA256 trailer, anti-replay) between
two havens in network namespaces on one bridge (198.18.31.0/24), as
test_vrrp.py does it: with the same key they elect one master; with
different keys neither hears the other (both master, auth_bad_mac grows);
a node without auth counts the other's adverts as auth_unexpected; a
captured advert sent again is dropped as auth_replay and changes nothing;
a key file others can read is refused."""

import os
import pwd
import socket
import time

import pytest

from havenlib.poll import wait_until

pytestmark = pytest.mark.root

VIP = "198.18.31.100"
A, B, C = "198.18.31.1", "198.18.31.2", "198.18.31.10"

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
      vrid: 61
      priority: {prio}
      advert_interval: 100ms
      virtual_addresses: [{vip}]
      unicast_peers: [{peer}]
{auth}"""

AUTH = """\
      auth:
        type: hmac-sha256
        key_file: {key}
        key_id: {kid}
"""

# In namespace b: catch one protocol-112 frame from A with AF_PACKET and
# print the IP datagram (the frame less its Ethernet header) in hex.
CAPTURE = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("eth0", 0))
s.settimeout(5)
while True:
    f, addr = s.recvfrom(65535)
    ip = f[14:]
    if addr[2] != socket.PACKET_OUTGOING and ip[9] == 112 and \
            socket.inet_ntoa(ip[12:16]) == sys.argv[1]:
        print(ip.hex())
        break
"""

# In namespace c: send that datagram again, byte for byte (IP_HDRINCL
# keeps A as the source), n times.
RESEND = r"""
import socket, sys, time
ip = bytes.fromhex(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for _ in range(int(sys.argv[3])):
    s.sendto(ip, (sys.argv[2], 0))
    time.sleep(0.02)
"""


@pytest.fixture
def lan(netns):
    br = netns.bridge("lan")
    a, b, c = netns.ns("a"), netns.ns("b"), netns.ns("c")
    netns.attach(a, br, A + "/24", ifname="eth0")
    netns.attach(b, br, B + "/24", ifname="eth0")
    netns.attach(c, br, C + "/24", ifname="eth0")
    return a, b, c


def child_user():
    """The user haven's children drop to by default (test_privileges)."""
    for name in ("haven", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    raise AssertionError("neither haven nor nobody exists")


def key_file(workdir, name, text, mode=0o400):
    """A key the vrrp process (running as the children's user) can read
    and nobody else can."""
    p = os.path.join(str(workdir), name)
    with open(p, "w") as f:
        f.write(text + "\n")
    u = child_user()
    os.chown(p, u.pw_uid, u.pw_gid)
    os.chmod(p, mode)
    return p


def node(haven, workdir, ns, name, prio, peer, key=None, kid=1,
         ready=True):
    d = os.path.join(str(workdir), name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)
    auth = AUTH.format(key=key, kid=kid) if key else ""
    cfg = NODE.format(dir=d, prio=prio, vip=VIP, peer=peer, auth=auth)
    return haven(cfg, ns=ns, name=name, socket_path=d + "/haven.sock",
                 ready=ready)


def inst(h):
    r = h.api("GET", "/v1/vrrp")
    assert r.status == 200, r
    return r.json["instances"][0]


def drops(h, reason):
    return h.metric("haven_vrrp_adverts_discarded_total", reason=reason)


def test_same_key_one_master_and_replay(haven, workdir, lan):
    a, b, c = lan
    k = key_file(workdir, "k1", "correct horse battery staple 0001")
    ha = node(haven, workdir, a, "na", 200, B, key=k, kid=5)
    hb = node(haven, workdir, b, "nb", 100, A, key=k, kid=5)
    wait_until(lambda: inst(ha)["state"] == "master" and
               inst(hb)["state"] == "backup", timeout=10,
               what="a master, b backup")
    time.sleep(1.0)  # > master-down interval: b keeps hearing a
    assert inst(ha)["state"] == "master" and inst(hb)["state"] == "backup"
    assert inst(hb)["master"] == A
    assert hb.metric("haven_vrrp_adverts_received_total",
                     instance="web") > 5
    for reason in ("auth_missing", "auth_trailer", "auth_key_id",
                   "auth_bad_mac", "auth_replay", "auth_unexpected"):
        assert drops(ha, reason) == 0 and drops(hb, reason) == 0, reason

    # Capture one of a's adverts to b and send it again from c: it is
    # authentic, but its sequence is behind what b has since accepted.
    cap = b.run(["/usr/bin/python3", "-c", CAPTURE, A], timeout=15)
    pkt = cap.stdout.strip()
    assert len(pkt) == 2 * (20 + 8 + 4 + 44), pkt  # IPv4 + v3 + 1 VIP + MAC
    assert pkt[2 * 32:2 * 33] == "a1", pkt  # our trailer's type
    before = drops(hb, "auth_replay")
    c.run(["/usr/bin/python3", "-c", RESEND, pkt, B, "10"], timeout=15)
    wait_until(lambda: drops(hb, "auth_replay") >= before + 10, timeout=5,
               what="10 replays dropped as auth_replay")
    assert inst(ha)["state"] == "master" and inst(hb)["state"] == "backup"
    assert drops(hb, "auth_bad_mac") == 0

    # A forged one (the same advert, one MAC byte changed): auth_bad_mac.
    forged = pkt[:-2] + ("00" if pkt[-2:] != "00" else "01")
    c.run(["/usr/bin/python3", "-c", RESEND, forged, B, "3"], timeout=15)
    wait_until(lambda: drops(hb, "auth_bad_mac") >= 3, timeout=5,
               what="forged adverts dropped as auth_bad_mac")

    # a stops: b takes over as usual.
    ha.stop()
    wait_until(lambda: inst(hb)["state"] == "master", timeout=5,
               what="b master after a stopped")


def test_different_keys_both_master(haven, workdir, lan):
    a, b, c = lan
    ka = key_file(workdir, "ka", "0123456789abcdef0123456789abcdef")
    kb = key_file(workdir, "kb", "0123456789abcdef0123456789abcdeX")
    ha = node(haven, workdir, a, "na", 200, B, key=ka)
    hb = node(haven, workdir, b, "nb", 100, A, key=kb)
    wait_until(lambda: inst(ha)["state"] == "master" and
               inst(hb)["state"] == "master", timeout=10,
               what="both master: neither authenticates the other")
    wait_until(lambda: drops(ha, "auth_bad_mac") > 5 and
               drops(hb, "auth_bad_mac") > 5, timeout=5,
               what="auth_bad_mac on both")
    assert hb.metric("haven_vrrp_adverts_received_total",
                     instance="web") == 0


def test_auth_on_one_side_only(haven, workdir, lan):
    a, b, c = lan
    k = key_file(workdir, "k", "0123456789abcdef0123456789abcdef")
    ha = node(haven, workdir, a, "na", 200, B, key=k)
    hb = node(haven, workdir, b, "nb", 100, A)
    wait_until(lambda: inst(ha)["state"] == "master" and
               inst(hb)["state"] == "master", timeout=10,
               what="both master")
    # b gets a trailer it has no key for; a gets adverts without one.
    wait_until(lambda: drops(hb, "auth_unexpected") > 5 and
               drops(ha, "auth_missing") > 5, timeout=5,
               what="auth_unexpected on b, auth_missing on a")


def test_key_id_mismatch(haven, workdir, lan):
    a, b, c = lan
    k = key_file(workdir, "k", "0123456789abcdef0123456789abcdef")
    ha = node(haven, workdir, a, "na", 200, B, key=k, kid=1)
    hb = node(haven, workdir, b, "nb", 100, A, key=k, kid=2)
    wait_until(lambda: drops(hb, "auth_key_id") > 5 and
               drops(ha, "auth_key_id") > 5, timeout=10,
               what="auth_key_id on both")
    assert inst(hb)["state"] == "master"


def test_key_file_readable_by_others_refused(haven, workdir, lan):
    a, b, c = lan
    k = key_file(workdir, "k", "0123456789abcdef0123456789abcdef",
                 mode=0o644)
    ha = node(haven, workdir, a, "na", 200, B, key=k, ready=False)

    def refused():
        return "readable or writable by others" in ha.proc.log_text()

    wait_until(refused, timeout=10, what="the key file refused")
    short = key_file(workdir, "short", "too short")
    hs = node(haven, workdir, b, "nb", 100, A, key=short, ready=False)
    wait_until(lambda: "the key must be 16 to 64 bytes" in
               hs.proc.log_text(), timeout=10, what="a short key refused")
