"""test_dns_xdp - the XDP fast path (dns.xdp) answers like the socket path.

haven runs in namespace "srv" with dns.xdp on the veth facing namespace
"cli" (the lo limitation of the README's "XDP fast path" is why a veth):

    cli 198.18.0.2/24 --- veth --- srv 198.18.0.1/24  haven, xdp: {interface}

Queries from cli arrive on the veth, so the XDP program steers them into
the AF_XDP socket; the same queries asked from inside srv travel over lo
and are answered by the kernel's UDP socket of the same haven. What a user
relies on:
  * A, NXDOMAIN, TC at a small EDNS buffer, EDNS Client Subnet: over XDP
    (the xdp query counter rises, the UDP one does not) the very answers
    the socket path gives (ids aside);
  * dig from cli gets its answer; TCP and ping still work (the program
    passes all but UDP to the listen address);
  * malformed DNS payloads get FORMERR (counted as malformed), garbage
    frames (bad IP checksum, bad UDP length) are dropped and counted by
    reason, and the server keeps answering;
  * `haven status` and GET /v1/dns say XDP is on, on which interface;
  * a reload adding a port steers it too, one without xdp: detaches the
    program; a wildcard listen address steers the interface's addresses;
  * a dns worker killed: its successor serves the same AF_XDP socket;
  * run without privileges: one error in the log, the socket serves.
Skipped (never passed) without root, namespaces or AF_XDP in the kernel.
"""

import os
import signal
import socket
import struct
import subprocess

import pytest

dns = pytest.importorskip("dns")
import dns.edns  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

from havenlib.configs import BASE  # noqa: E402
from havenlib.poll import wait_until  # noqa: E402

pytestmark = pytest.mark.root

SRV, CLI = "198.18.0.1", "198.18.0.2"
AF_XDP = 44

ZONE = """\
$ORIGIN example.com.
$TTL 300
@       IN SOA ns1 hostmaster 2026120701 3600 600 604800 60
        IN NS  ns1
ns1     IN A    198.18.0.53
static  IN A    192.0.2.10
        IN A    192.0.2.11
big     IN TXT  "{a}" "{b}" "{c}"
""".format(a="a" * 200, b="b" * 200, c="c" * 200)

CONFIG = BASE + """\
dns:
  listen: [{listen}]
  {xdp}
  zones:
    - {{ name: example.com, file: {dir}/example.com.zone }}
"""


def xdp_available():
    try:
        socket.socket(AF_XDP, socket.SOCK_RAW, 0).close()
        return True
    except OSError:
        return False


class Topo:
    def __init__(self, netns, haven, workdir):
        if not xdp_available():
            pytest.skip("the kernel has no AF_XDP sockets")
        self.srv, self.cli = netns.ns("srv"), netns.ns("cli")
        self.srv_if, self.cli_if = netns.link(
            self.srv, self.cli, SRV + "/24", CLI + "/24")
        with open(workdir / "example.com.zone", "w") as f:
            f.write(ZONE)
        self.workdir = workdir
        self.cfg = workdir / "haven.yaml"
        self.write()
        self.h = haven(str(self.cfg), ns=self.srv)
        wait_until(lambda: self.xdp()["on"], timeout=10,
                   what="the dns worker serving its AF_XDP socket")

    def write(self, ports=(53,), xdp=True, addr=SRV):
        self.cfg.write_text(CONFIG.format(
            dir=self.workdir,
            listen=", ".join('"%s:%d"' % (addr, p) for p in ports),
            xdp="xdp: {interface: %s}" % self.srv_if if xdp else ""))

    def reload(self, **kw):
        before = self.h.status()["config"]["digest"]
        self.write(**kw)
        self.h.proc.signal(signal.SIGHUP)
        wait_until(lambda: self.h.status()["config"]["digest"] != before,
                   timeout=10, what="the reload applied")

    def get(self):
        r = self.h.api("GET", "/v1/dns")
        assert r.status == 200, r
        return r.json

    def xdp(self):
        return self.get()["xdp"]

    def counters(self):
        return self.get()["counters"]

    def ask(self, ns, q, timeout=2, port=53):
        s = ns.socket()
        s.setblocking(False)
        try:
            return dns.query.udp(q, SRV, port=port, timeout=timeout, sock=s,
                                 ignore_trailing=True)
        finally:
            s.close()

    def both(self, q):
        """(over XDP from cli, over the socket from srv's lo)"""
        return self.ask(self.cli, q), self.ask(self.srv, q)


@pytest.fixture
def topo(netns, haven, workdir):
    return Topo(netns, haven, workdir)


def same(a, b):
    """Equal answers but for the message id (RRsets compare as sets: the
    server rotates their order)."""
    b.id = a.id
    assert a == b, (a, b)
    assert (a.edns, a.payload, a.options) == (b.edns, b.payload, b.options)
    assert len(a.to_wire()) == len(b.to_wire())


def test_answers_match_socket_path(topo):
    c0 = topo.counters()
    queries = [
        dns.message.make_query("static.example.com", "A"),
        dns.message.make_query("nx.example.com", "A"),
        dns.message.make_query("big.example.com", "TXT", use_edns=0,
                               payload=512),
        dns.message.make_query(
            "static.example.com", "A", use_edns=0,
            options=[dns.edns.ECSOption("198.18.7.0", 24)]),
    ]
    got = [topo.both(q) for q in queries]
    for x, s in got:
        same(x, s)
    (a, _), (nx, _), (tc, _), (ecs, _) = got
    assert sorted(r.address for rr in a.answer for r in rr) == [
        "192.0.2.10", "192.0.2.11"]
    assert nx.rcode() == dns.rcode.NXDOMAIN
    assert tc.flags & dns.flags.TC
    assert [o for o in ecs.options if isinstance(o, dns.edns.ECSOption)]
    c1 = topo.counters()
    # each query once over XDP (cli) and once over the socket (srv's lo)
    assert c1["queries_xdp"] - c0["queries_xdp"] == len(queries)
    assert c1["queries_udp"] - c0["queries_udp"] == len(queries)
    assert c1["truncated"] - c0["truncated"] == 2


def test_dig_tcp_ping_and_status(topo):
    before = topo.xdp()["queries"]
    out = topo.cli.run(["dig", "+time=2", "+tries=1", "@" + SRV,
                        "static.example.com", "A"]).stdout
    assert "status: NOERROR" in out and "192.0.2.10" in out, out
    assert topo.xdp()["queries"] == before + 1
    # not UDP to the listen address: passed to the kernel
    out = topo.cli.run(["dig", "+tcp", "+time=2", "+tries=1", "@" + SRV,
                        "static.example.com", "A"]).stdout
    assert "status: NOERROR" in out, out
    assert topo.cli.ping(SRV)
    assert topo.xdp()["queries"] == before + 1
    x = topo.xdp()
    assert x["interface"] == topo.srv_if and x["queue"] == 0, x
    st = subprocess.run([topo.h.bin, "status", "-s", topo.h.socket],
                        capture_output=True, text=True, timeout=10)
    assert "XDP on %s queue 0" % topo.srv_if in st.stdout, st.stdout
    # The parent kept CAP_BPF (39) because the start config has dns.xdp
    # (parent_socks_caps); without it the bit is gone (test_privileges).
    with open("/proc/%d/status" % topo.h.proc.pid) as f:
        bnd = [ln.split()[1] for ln in f if ln.startswith("CapBnd:")][0]
    assert int(bnd, 16) & (1 << 39), bnd


def frame(src_mac, dst_mac, payload, csum_ok=True, udp_len=None):
    """An Ethernet frame: IPv4/UDP CLI:40000 -> SRV:53."""
    ulen = udp_len if udp_len is not None else 8 + len(payload)
    udp = struct.pack("!HHHH", 40000, 53, ulen, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000,
                     64, 17, 0, socket.inet_aton(CLI), socket.inet_aton(SRV))
    s = sum(struct.unpack("!10H", ip))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    c = (~s) & 0xffff if csum_ok else ((~s) & 0xffff) ^ 0x5555
    ip = ip[:10] + struct.pack("!H", c) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + udp


def mac(ns, ifname):
    out = ns.ip("-o", "link", "show", ifname).stdout
    return bytes.fromhex(out.split("link/ether ")[1].split()[0].replace(
        ":", ""))


def test_malformed_and_garbage(topo):
    c0 = topo.counters()
    # a header that promises a question and stops: FORMERR over XDP, as
    # over the socket
    bad = bytes.fromhex("abcd0000000100000000000003777777")
    rc = {}
    for name, ns in (("xdp", topo.cli), ("udp", topo.srv)):
        s = ns.socket()
        s.settimeout(2)
        try:
            s.sendto(bad, (SRV, 53))
            r = s.recv(4096)
            rc[name] = r[3] & 0x0f if r[:2] == bad[:2] else "other"
        except socket.timeout:
            rc[name] = None
        finally:
            s.close()
    assert rc["xdp"] == rc["udp"] == dns.rcode.FORMERR, rc
    assert topo.counters()["malformed"] == c0["malformed"] + 2

    # raw frames: a bad IP checksum, a UDP length past the packet
    pk = topo.cli.socket(socket.AF_PACKET, socket.SOCK_RAW)
    try:
        pk.bind((topo.cli_if, 0))
        src, dst = mac(topo.cli, topo.cli_if), mac(topo.srv, topo.srv_if)
        q = dns.message.make_query("static.example.com", "A").to_wire()
        pk.send(frame(src, dst, q, csum_ok=False))
        pk.send(frame(src, dst, q, udp_len=8 + len(q) + 40))
    finally:
        pk.close()

    def dropped(reason):
        return topo.h.metric("haven_dns_xdp_dropped_total", reason=reason)

    wait_until(lambda: dropped("bad_checksum") >= 1 and
               dropped("bad_length") >= 1, timeout=5,
               what="garbage frames dropped and counted by reason")
    assert topo.xdp()["dropped_malformed"] >= 2
    # still answering
    x, _ = topo.both(dns.message.make_query("static.example.com", "A"))
    assert x.rcode() == dns.rcode.NOERROR


def test_reload_follows_listen_and_turns_off(topo):
    """A reload that adds a listen port steers it too (the program is
    replaced under its link); one without xdp: detaches the program, and
    the UDP socket answers the client again."""
    q = dns.message.make_query("static.example.com", "A")
    topo.reload(ports=(53, 5353))
    before = topo.xdp()["queries"]
    r = topo.ask(topo.cli, q, port=5353)
    assert r.rcode() == dns.rcode.NOERROR
    assert topo.xdp()["queries"] == before + 1
    assert "xdpgeneric" in topo.srv.ip("link", "show", topo.srv_if).stdout

    topo.reload(ports=(53, 5353), xdp=False)
    wait_until(lambda: not topo.xdp()["on"], timeout=10,
               what="the worker letting its AF_XDP socket go")
    assert "xdp" not in topo.srv.ip("link", "show", topo.srv_if).stdout
    udp = topo.counters()["queries_udp"]
    r = topo.ask(topo.cli, q)
    assert r.rcode() == dns.rcode.NOERROR
    assert topo.counters()["queries_udp"] == udp + 1


def test_worker_killed_next_one_serves(topo):
    """The parent holds the AF_XDP socket: a dns worker killed with
    SIGKILL is replaced, and the new one maps the same rings and answers
    over XDP again (queries in between wait in the ring or are lost)."""
    pid = topo.h.plane_pid("dns")
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: topo.h.plane_pid("dns") not in (None, pid),
               timeout=10, what="a new dns worker")
    wait_until(lambda: topo.xdp()["on"], timeout=10,
               what="the new worker serving the AF_XDP socket")
    before = topo.xdp()["queries"]
    for _ in range(20):
        r = topo.ask(topo.cli, dns.message.make_query(
            "static.example.com", "A"))
        assert r.rcode() == dns.rcode.NOERROR
    assert topo.xdp()["queries"] == before + 20


def test_wildcard_listen_is_the_interfaces_addresses(topo):
    """listen 0.0.0.0: the filter steers the interface's own addresses
    (not every destination: on a router that would take DNS passing
    through); a second address added later is served by the socket until
    the next reload puts it in the filter."""
    q = dns.message.make_query("static.example.com", "A")
    topo.reload(addr="0.0.0.0")
    before = topo.xdp()["queries"]
    assert topo.ask(topo.cli, q).rcode() == dns.rcode.NOERROR
    assert topo.xdp()["queries"] == before + 1

    topo.srv.add_addr(topo.srv_if, "198.18.0.3/24")
    udp = topo.counters()["queries_udp"]
    s = topo.cli.socket()
    s.setblocking(False)
    try:
        r = dns.query.udp(q, "198.18.0.3", port=53, timeout=2, sock=s)
    finally:
        s.close()
    assert r.rcode() == dns.rcode.NOERROR
    assert topo.counters()["queries_udp"] == udp + 1
    assert topo.xdp()["queries"] == before + 1


def test_without_privileges_sockets_serve(netns, haven, workdir):
    """Run by a user without capabilities: one clear error in the log, and
    the UDP socket answers what XDP would have."""
    if not xdp_available():
        pytest.skip("the kernel has no AF_XDP sockets")
    srv, cli = netns.ns("srv"), netns.ns("cli")
    srv_if, _ = netns.link(srv, cli, SRV + "/24", CLI + "/24")
    with open(workdir / "example.com.zone", "w") as f:
        f.write(ZONE)
    h = haven(CONFIG.format(dir=workdir, listen='"%s:5353"' % SRV,
                            xdp="xdp: {interface: %s}" % srv_if),
              ns=srv, wrap=["setpriv", "--reuid=65534", "--regid=65534",
                            "--clear-groups"])
    log = h.proc.log_text()
    assert log.count("xdp not set up: serving on sockets only") == 1, log
    assert "AF_XDP socket" in log
    s = cli.socket()
    s.setblocking(False)
    try:
        r = dns.query.udp(dns.message.make_query("static.example.com", "A"),
                          SRV, port=5353, timeout=2, sock=s)
    finally:
        s.close()
    assert r.rcode() == dns.rcode.NOERROR
    got = h.api("GET", "/v1/dns").json
    assert got["xdp"]["on"] is False
    assert got["counters"]["queries_udp"] == 1
    assert got["counters"]["queries_xdp"] == 0
