"""test_dns_secondary - haven as the secondary of a zone Knot serves.

Knot DNS 3 (Debian's knot) is the primary of example.com on 127.0.0.1 (a
free port); haven, with two dns workers, is configured with
`primaries: ["127.0.0.1:<knot>"]` for it. We check, from the outside:

* before any transfer (Knot not started yet) haven answers SERVFAIL
  without AA for names in the zone, and REFUSED outside it;
* once Knot runs, haven transfers the zone and serves exactly what Knot
  serves (both AXFRs compared record by record, queries over UDP that
  reach both workers);
* a new serial in Knot, reloaded with knotc: Knot's NOTIFY makes haven
  serve the new record within seconds (the SOA refresh is an hour);
* NOTIFYs sent from many source ports reach both workers
  (SO_REUSEPORT), and worker 1 relays its ones to worker 0;
* a NOTIFY from an address that is not a primary is REFUSED;
* haven restarted with Knot stopped serves the saved copy;
* with transfer_key: an unsigned NOTIFY gets NOTAUTH, a signed one is
  accepted, and the signed transfer works.

Skipped, never passed, without dnspython or knotd.
"""

import os
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

dns = pytest.importorskip("dns")
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.opcode  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.tsig  # noqa: E402
import dns.tsigkeyring  # noqa: E402
import dns.zone  # noqa: E402

from havenlib.configs import BASE  # noqa: E402
from havenlib.poll import wait_until  # noqa: E402
from test_dns_server import free_dns_port  # noqa: E402
from test_dns_xfr import SECRET, KEY, records, ring  # noqa: E402
from test_dns_xfr import zone_text as xfr_zone_text  # noqa: E402

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"


def zone_text(serial, extra=""):
    """test_dns_xfr's zone, smaller, with a record of an unknown type (the
    saved copy writes every record in RFC 3597 form)."""
    return xfr_zone_text(serial, "odd IN TYPE65280 \\# 3 abcdef\n" + extra,
                         nhosts=600)


CONFIG = BASE + """\
dns:
  listen: ["127.0.0.1:{port}"]
  workers: 2
  tsig_keys:
    - {{ name: xfr-key, algorithm: hmac-sha256, secret: "{secret}" }}
  zones:
    - name: example.com
      primaries: [{prims}]
      allow_transfer: ["127.0.0.0/8"]
{keyline}"""

KNOT_CONF = """\
server:
    rundir: "{d}"
    listen: 127.0.0.1@{port}
database:
    storage: "{d}"
control:
    listen: "{d}/knot.sock"
log:
  - target: "{d}/knot.log"
    any: info
key:
  - id: xfr-key
    algorithm: hmac-sha256
    secret: "{secret}"
remote:
  - id: haven
    address: 127.0.0.1@{hport}
{keyline}acl:
  - id: xfr_out
    address: 127.0.0.0/8
{keyline}    action: transfer
zone:
  - domain: example.com
    storage: "{d}"
    file: "example.com.zone"
{notifyline}    acl: [xfr_out]
"""


class Knot:
    def __init__(self, d, port, hport, key, notify=True):
        if not os.access(KNOTD, os.X_OK):
            pytest.skip("knotd not installed (Debian package knot)")
        self.dir, self.port = d, port
        d.mkdir(exist_ok=True)
        os.chmod(d, 0o777)
        self.conf = d / "knot.conf"
        self.conf.write_text(KNOT_CONF.format(
            d=d, port=port, hport=hport, secret=SECRET,
            keyline="    key: xfr-key\n" if key else "",
            notifyline="    notify: haven\n" if notify else ""))
        self.log = d / "knot.log"
        self.p = None

    def write_zone(self, serial, extra=""):
        (self.dir / "example.com.zone").write_text(zone_text(serial, extra))

    def start(self):
        self.p = subprocess.Popen([KNOTD, "-c", str(self.conf)],
                                  stdout=subprocess.DEVNULL,
                                  stderr=open(self.dir / "stderr", "w"))
        wait_until(lambda: soa(self.port)[0] == 0, timeout=10,
                   what="knot answers on %d" % self.port)

    def reload(self):
        subprocess.run([KNOTC, "-c", str(self.conf), "zone-reload",
                        "example.com"], check=True, timeout=10,
                       stdout=subprocess.DEVNULL)

    def stop(self):
        if self.p is not None and self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
        self.p = None


@pytest.fixture
def knot(tmp_path):
    started = []

    def make(hport, key=False, notify=True):
        k = Knot(tmp_path / "knot", free_dns_port(), hport, key, notify)
        started.append(k)
        return k

    yield make
    for k in started:
        if os.path.exists(k.log):
            print(open(k.log).read()[-3000:])
        k.stop()


def soa(port, name="example.com", rdtype="SOA", src="127.0.0.1"):
    """(rcode, flags, first answer rdata or None); rcode -1 on timeout."""
    q = dns.message.make_query(name, rdtype)
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1, source=src)
    except dns.exception.Timeout:
        return -1, 0, None
    return r.rcode(), r.flags, r.answer[0][0] if r.answer else None


def serial(port):
    rc, _, rd = soa(port)
    return rd.serial if rc == 0 and rd is not None else None


def notify(port, src="127.0.0.1", keyring=None, keyname=KEY,
           zone="example.com"):
    m = dns.message.make_query(zone, "SOA")
    # The opcode lives in the flags word: set it after the flags.
    m.flags = dns.flags.AA
    m.set_opcode(dns.opcode.NOTIFY)
    if keyring is not None:
        m.use_tsig(keyring, keyname=keyname, algorithm=dns.tsig.HMAC_SHA256)
    # dnspython checks the answer's TSIG with the query's keyring.
    return dns.query.udp(m, "127.0.0.1", port=port, timeout=2, source=src)


def start_haven(haven, workdir, port, kport, key=False, dead=None,
                kaddr="127.0.0.1"):
    """haven with 2 workers, secondary for example.com from Knot at
    kaddr:kport (after a primary that does not answer at port dead, if
    given)."""
    prims = ['"127.0.0.1:%d"' % dead] if dead is not None else []
    prims.append('"%s:%d"' % (kaddr, kport))
    cfg = os.path.join(str(workdir), "haven.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(dir=workdir, port=port, prims=", ".join(prims),
                              secret=SECRET,
                              keyline="      transfer_key: xfr-key\n"
                              if key else ""))
    h = haven(cfg)
    h.port = port
    wait_until(lambda: soa(port)[0] != -1, timeout=10,
               what="haven answers on %d" % port)
    return h


def test_secondary_follows_knot(haven, workdir, knot):
    hport = free_dns_port()
    k = knot(hport)
    h = start_haven(haven, workdir, hport, k.port)

    # No copy yet: SERVFAIL without AA inside the zone, REFUSED outside.
    rc, flags, _ = soa(hport)
    assert rc == dns.rcode.SERVFAIL and not flags & dns.flags.AA
    assert soa(hport, "www.example.com", "A")[0] == dns.rcode.SERVFAIL
    assert soa(hport, "example.org")[0] == dns.rcode.REFUSED

    k.write_zone(10)
    k.start()
    # The first retry without a copy is 5 s after the failed attempt.
    wait_until(lambda: all(serial(hport) == 10 for _ in range(10)),
               timeout=20,
               what="haven transferred serial 10")
    want, soas, _ = records(k.port)
    got, gsoas, _ = records(hport)
    assert soas == 2 and gsoas == 2
    assert got == want, (want - got, got - want)
    # Both workers serve it (UDP queries from fresh ports spread over
    # the SO_REUSEPORT group).
    wait_until(lambda: all(serial(hport) == 10 for _ in range(20)),
               timeout=10, what="every worker serves serial 10")
    rc, flags, rd = soa(hport, "www.example.com", "A")
    assert rc == 0 and flags & dns.flags.AA and rd.address == "198.18.0.80"
    assert h.metric("haven_dns_secondary_refresh_total",
                    zone="example.com.", result="updated") == 1

    # A new serial in Knot: its NOTIFY makes haven fetch it at once.
    k.write_zone(11, "new IN A 198.18.9.9\n")
    k.reload()
    wait_until(lambda: all(soa(hport, "new.example.com", "A")[0] == 0
                           for _ in range(10)),
               timeout=10, what="haven serves the new record")
    assert serial(hport) == 11
    got, _, _ = records(hport)
    want, _, _ = records(k.port)
    assert got == want
    assert h.metric("haven_dns_notify_in_total", result="accepted") >= 1

    # NOTIFYs from many source ports: some land on worker 1, which
    # relays them to worker 0 through the trigger file.
    before = h.metric("haven_dns_secondary_refresh_total",
                      zone="example.com.")
    # The attempt before Knot ran failed; none may fail from now on.
    failed = h.metric("haven_dns_secondary_refresh_total",
                      zone="example.com.", result="failed")
    assert failed >= 1
    def on1():
        return h.metric("haven_dns_notify_in_total", result="accepted",
                        worker="1")

    def relayed1():
        return h.metric("haven_dns_notify_relayed_total", worker="1")

    time.sleep(1.1)  # Knot's NOTIFYs' relays are over a second old
    on1_0, rel1_0 = on1(), relayed1()
    t0 = time.monotonic()
    for _ in range(24):
        r = notify(hport)
        assert r.rcode() == 0 and r.flags & dns.flags.AA
        assert r.opcode() == dns.opcode.NOTIFY
    burst = time.monotonic() - t0
    assert on1() - on1_0 >= 2, "no two of 24 NOTIFYs reached worker 1"
    # At most one trigger a second: the first at once, the rest of the
    # burst folded into one delayed to a second later (not dropped).
    wait_until(lambda: relayed1() - rel1_0 >= 2, timeout=5,
               what="worker 1 relayed at once and delayed")
    time.sleep(1.2)  # a third trigger would come by now: none may
    assert relayed1() - rel1_0 <= 2 + int(burst)
    wait_until(lambda: h.metric("haven_dns_secondary_refresh_total",
                                zone="example.com.") > before,
               timeout=10, what="a refresh after the NOTIFYs")
    assert h.metric("haven_dns_secondary_refresh_total",
                    zone="example.com.", result="failed") == failed

    # Over TCP too.
    m = dns.message.make_query("example.com", "SOA")
    m.flags = dns.flags.AA
    m.set_opcode(dns.opcode.NOTIFY)
    r = dns.query.tcp(m, "127.0.0.1", port=hport, timeout=2)
    assert r.rcode() == 0 and r.flags & dns.flags.AA and r.id == m.id
    assert r.question == m.question

    # A zone we are no secondary for.
    assert notify(hport, zone="example.org").rcode() == dns.rcode.NOTAUTH

    # Not a primary: 127.0.0.2 is a loopback address, but not Knot's.
    r = notify(hport, src="127.0.0.2")
    assert r.rcode() == dns.rcode.REFUSED
    assert h.metric("haven_dns_notify_in_total", result="refused") >= 1

    # GET /v1/dns (from whichever worker answers): the copy's state.
    z = h.api("GET", "/v1/dns").json["zones"][0]
    assert z["secondary"] and z["loaded"] and not z["expired"], z
    assert z["serial"] == 11 and z["last_refresh"] > 0, z
    # Worker 0's last attempt, whichever worker answers.
    assert z["last_result"] in ("updated", "up_to_date"), z
    assert z["last_attempt"] >= z["last_refresh"] - 1, z

    # Restart with Knot stopped: the saved copy is served.
    k.stop()
    h.stop()
    copy = os.path.join(str(workdir), "state", "dns-secondary",
                        "example.com.zone")
    assert os.path.exists(copy)
    h = start_haven(haven, workdir, hport, k.port)
    wait_until(lambda: all(serial(hport) == 11 for _ in range(10)),
               timeout=5, what="the saved copy served after restart")
    assert soa(hport, "new.example.com", "A")[0] == 0


def test_secondary_tsig(haven, workdir, knot):
    hport = free_dns_port()
    k = knot(hport, key=True)
    k.write_zone(20)
    k.start()
    # The first primary listed is not there: haven goes on to Knot.
    h = start_haven(haven, workdir, hport, k.port, key=True,
                    dead=free_dns_port())
    wait_until(lambda: all(serial(hport) == 20 for _ in range(10)),
               timeout=15,
               what="haven transferred serial 20 with TSIG")
    # transfer_key also guards AXFR out of haven: sign it too.
    want, _, _ = records(k.port, keyring=ring())
    got, _, _ = records(hport, keyring=ring())
    assert got == want

    # Unsigned, or signed with the wrong key: NOTAUTH.
    r = notify(hport)
    assert r.rcode() == dns.rcode.NOTAUTH
    bad = dns.tsigkeyring.from_text({"other-key.": (
        "hmac-sha256", SECRET)})
    # dnspython refuses the answer: NOTAUTH signed with BADKEY, no MAC.
    with pytest.raises(dns.tsig.PeerBadKey):
        notify(hport, keyring=bad, keyname="other-key.")
    assert h.metric("haven_dns_notify_in_total", result="notauth") >= 2
    # Signed with the zone's key: accepted, and the answer is signed.
    r = notify(hport, keyring=ring())
    assert r.rcode() == 0 and r.had_tsig and r.flags & dns.flags.AA

    k.write_zone(21, "signed IN A 198.18.9.10\n")
    k.reload()
    wait_until(lambda: all(soa(hport, "signed.example.com", "A")[0] == 0
                           for _ in range(10)),
               timeout=10, what="signed NOTIFY and transfer of serial 21")
    wait_until(lambda: all(serial(hport) == 21 for _ in range(10)),
               timeout=5, what="every worker serves serial 21")

    # A corrupt copy renamed into place: every worker refuses to load
    # it, counts it and keeps serving what it has.
    d = os.path.join(str(workdir), "state", "dns-secondary")
    with open(os.path.join(d, ".junk"), "w") as f:
        f.write("example.com. 300 IN TYPE6 \\# 3 abc\n")
    os.rename(os.path.join(d, ".junk"), os.path.join(d, "example.com.zone"))
    wait_until(lambda: h.metric("haven_dns_secondary_reload_failed_total")
               >= 2, timeout=5, what="both workers refused the copy")
    assert all(serial(hport) == 21 for _ in range(10))


@pytest.mark.timing
def test_secondary_copy_expires(haven, workdir, knot):
    """SOA expire 4 s: with the primary gone, the copy stops being served
    (SERVFAIL) once it is 4 s past its last refresh, and a restart does
    not serve an expired copy either."""
    hport = free_dns_port()
    k = knot(hport)
    (k.dir / "example.com.zone").write_text(
        zone_text(30).replace("3600 600 604800 60", "3600 600 4 60"))
    k.start()
    h = start_haven(haven, workdir, hport, k.port)
    wait_until(lambda: all(serial(hport) == 30 for _ in range(10)),
               timeout=15, what="haven serves serial 30")
    k.stop()
    wait_until(lambda: all(soa(hport)[0] == dns.rcode.SERVFAIL
                           for _ in range(10)),
               timeout=10, what="every worker drops the expired copy")
    z = h.api("GET", "/v1/dns").json["zones"][0]
    assert not z["loaded"] and z["expired"], z
    # The primary back with the same serial: its NOTIFY at start makes
    # haven transfer the zone again (touching the expired copy would
    # not bring it back).
    k.start()
    wait_until(lambda: all(serial(hport) == 30 for _ in range(10)),
               timeout=10, what="served again once the primary is back")
    k.stop()
    h.stop()
    # Past the expire again while haven was down: not served at start.
    wait_until(lambda: False if os.stat(os.path.join(
        str(workdir), "state", "dns-secondary",
        "example.com.zone")).st_mtime > time.time() - 5 else True,
        timeout=10, what="the copy is 5 s old")
    h = start_haven(haven, workdir, hport, k.port)
    assert soa(hport)[0] == dns.rcode.SERVFAIL


class TruncatingPrimary:
    """A primary of our own (dnspython) that answers every UDP query with
    TC and an empty answer, and SOA and AXFR queries over TCP; it counts
    what it was asked, by transport and type."""

    def __init__(self, serial, family=socket.AF_INET, addr="127.0.0.1"):
        self.zone = dns.zone.from_text(zone_text(serial),
                                       origin="example.com.",
                                       relativize=False)
        self.port = free_dns_port()
        self.asked = []
        self.udp = socket.socket(family, socket.SOCK_DGRAM)
        self.udp.bind((addr, self.port))
        self.tcp = socket.socket(family, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((addr, self.port))
        self.tcp.listen(8)
        for fn in (self.serve_udp, self.serve_tcp):
            threading.Thread(target=fn, daemon=True).start()

    def serve_udp(self):
        while True:
            try:
                wire, peer = self.udp.recvfrom(4096)
            except OSError:
                return
            q = dns.message.from_wire(wire)
            self.asked.append(("udp", dns.rdatatype.to_text(
                q.question[0].rdtype)))
            r = dns.message.make_response(q)
            r.flags |= dns.flags.TC | dns.flags.AA
            self.udp.sendto(r.to_wire(), peer)

    def answer(self, q):
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        soa = self.zone.find_rrset("example.com.", "SOA")
        if q.question[0].rdtype == dns.rdatatype.SOA:
            r.answer.append(soa)
            return r.to_wire()
        r.answer.append(soa)
        for name, rds in self.zone.iterate_rdatasets():
            if rds.rdtype != dns.rdatatype.SOA:
                rrset = dns.rrset.RRset(name, rds.rdclass, rds.rdtype)
                rrset.update(rds)
                r.answer.append(rrset)
        r.answer.append(soa)
        return r.to_wire()

    def serve_tcp(self):
        while True:
            try:
                c, _ = self.tcp.accept()
            except OSError:
                return
            with c:
                try:
                    n = struct.unpack("!H", c.recv(2))[0]
                    wire = b""
                    while len(wire) < n:
                        wire += c.recv(n - len(wire))
                    q = dns.message.from_wire(wire)
                    self.asked.append(("tcp", dns.rdatatype.to_text(
                        q.question[0].rdtype)))
                    out = self.answer(q)
                    c.sendall(struct.pack("!H", len(out)) + out)
                except (OSError, struct.error):
                    pass

    def close(self):
        self.udp.close()
        self.tcp.close()


def test_secondary_soa_over_tcp_when_truncated(haven, workdir):
    """A truncated SOA answer over UDP is asked again over TCP; the
    transfer follows over TCP and the zone is served as the primary has
    it. The primary is at [::1]: IPv6 on both transports."""
    p = TruncatingPrimary(40, socket.AF_INET6, "::1")
    # Listed first: a primary that never answers (SOA queries time out).
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        hport = free_dns_port()
        t0 = time.monotonic()
        start_haven(haven, workdir, hport, p.port, kaddr="[::1]",
                    dead=silent.getsockname()[1])
        wait_until(lambda: all(serial(hport) == 40 for _ in range(10)),
                   timeout=15,
                   what="haven transferred from the truncating primary")
        # Two SOA queries 2 s apart to the silent one, then the next.
        assert time.monotonic() - t0 > 3.5
        assert len(silent.recvfrom(512)[0]) > 12
        assert p.asked[:3] == [("udp", "SOA"), ("tcp", "SOA"),
                               ("tcp", "AXFR")], p.asked
        got, _, _ = records(hport)
        want = {(str(n), dns.rdatatype.to_text(rds.rdtype), rds.ttl,
                 rd.to_text())
                for n, rds in p.zone.iterate_rdatasets() for rd in rds}
        assert got == want, (want - got, got - want)
    finally:
        silent.close()
        p.close()


def test_secondary_refresh_timer(haven, workdir, knot):
    """No NOTIFY at all (Knot is told not to send any): the SOA refresh
    of 2 s alone finds the new serial."""
    hport = free_dns_port()
    k = knot(hport, notify=False)
    (k.dir / "example.com.zone").write_text(
        zone_text(50).replace("3600 600 604800 60", "2 1 604800 60"))
    k.start()
    h = start_haven(haven, workdir, hport, k.port)
    wait_until(lambda: all(serial(hport) == 50 for _ in range(10)),
               timeout=10,
               what="haven transferred serial 50")
    wait_until(lambda: h.metric("haven_dns_secondary_refresh_total",
                                zone="example.com.",
                                result="up_to_date") >= 1,
               timeout=6, what="a refresh 2 s later finds nothing new")
    (k.dir / "example.com.zone").write_text(
        zone_text(51, "timer IN A 198.18.9.11\n").replace(
            "3600 600 604800 60", "2 1 604800 60"))
    k.reload()
    wait_until(lambda: all(soa(hport, "timer.example.com", "A")[0] == 0
                           for _ in range(10)),
               timeout=8, what="the refresh timer found serial 51")
    assert h.metric("haven_dns_notify_in_total") == 0
