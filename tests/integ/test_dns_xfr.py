"""test_dns_xfr - zone transfers out of haven, and NOTIFY, from the outside.

haven is the primary of example.com on 127.0.0.1 (a free port). Two kinds
of secondary pull from it:

* dnspython (dns.query.xfr), which checks every message's TSIG in order
  and gives us the records to compare with the zone file, record by
  record, and reads the refusals (REFUSED outside allow_transfer, NOTAUTH
  with the TSIG error for a bad key or signature);
* NSD 4 and Knot DNS 3 (Debian's nsd, knot) as real secondaries, with
  and without TSIG: each pulls the zone at start, we AXFR the copy it
  serves and compare every record; then the zone file
  gets a bumped serial and a new record, haven reloads, its NOTIFY makes
  the secondary refresh at once (the SOA refresh is an hour, so nothing else would),
  and the new copy is compared again.

Skipped, never passed, without dnspython, nsd or knotd.
"""

import os
import shutil
import subprocess
import time

import pytest

dns = pytest.importorskip("dns")
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.opcode  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.tsig  # noqa: E402
import dns.tsigkeyring  # noqa: E402
import dns.xfr  # noqa: E402
import dns.zone  # noqa: E402

from havenlib.configs import BASE  # noqa: E402
from havenlib.poll import wait_until  # noqa: E402
from test_dns_server import free_dns_port  # noqa: E402

NSD = shutil.which("nsd") or "/usr/sbin/nsd"

SECRET = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
WRONG = "IB8eHRwbGhkYFxYVFBMSERAPDg0MCwoJCAcGBQQDAgE="
KEY = "xfr-key."


def zone_text(serial, extra="", nhosts=1500):
    # Enough records to need several 16 KiB messages, plus the usual
    # kinds: MX, TXT, AAAA, CNAME, a delegation with glue, a wildcard.
    hosts = "".join("h%d IN A 198.18.%d.%d\n" % (i, i // 250, i % 250 + 1)
                    for i in range(nhosts))
    return """\
$ORIGIN example.com.
$TTL 300
@       IN SOA ns1 hostmaster %d 3600 600 604800 60
        IN NS  ns1
        IN MX  10 mail
        IN TXT "v=spf1 -all"
ns1     IN A    198.18.0.53
mail    IN A    198.18.0.25
www     IN A    198.18.0.80
        IN AAAA 2001:db8::80
alias   IN CNAME www
*.apps  IN A    198.18.0.90
sub     IN NS   ns.sub
ns.sub  IN A    198.18.2.53
%s%s""" % (serial, hosts, extra)


CONFIG = BASE + """\
dns:
  listen: ["127.0.0.1:{port}"]
  tsig_keys:
    - {{ name: xfr-key, algorithm: hmac-sha256, secret: "{secret}" }}
  zones:
    - name: example.com
      file: {zonefile}
      allow_transfer: [{allow}]
      notify: [{notify}]
{keyline}"""


def write_config(workdir, port, zonefile, allow='"127.0.0.0/8"', notify="",
                 key=False):
    cfg = os.path.join(str(workdir), "haven.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(
            dir=workdir, port=port, secret=SECRET, zonefile=zonefile,
            allow=allow, notify=notify,
            keyline="      transfer_key: xfr-key\n" if key else ""))
    return cfg


def start(haven, workdir, serial=1, **kw):
    with open(os.path.join(str(workdir), "z1.zone"), "w") as f:
        f.write(zone_text(serial))
    port = free_dns_port()
    h = haven(write_config(workdir, port, "z1.zone", **kw))
    h.port = port

    def answers():
        q = dns.message.make_query("example.com", "SOA")
        try:
            return dns.query.udp(q, "127.0.0.1", port=port,
                                 timeout=1).rcode() == 0
        except dns.exception.Timeout:
            return False
    wait_until(answers, timeout=10, what="dns answers on %d" % port)
    return h


def ring(secret=SECRET):
    return dns.tsigkeyring.from_text({KEY: ("hmac-sha256", secret)})


def records(port, keyring=None, rdtype="AXFR", serial=0):
    """Every record of example.com from an AXFR at port, as a set of
    (name, type, ttl, rdata), and the count of SOA records seen (2 for a
    complete AXFR)."""
    out = set()
    soas = 0
    msgs = 0
    for m in dns.query.xfr("127.0.0.1", "example.com", rdtype=rdtype,
                           port=port, keyring=keyring,
                           keyname=KEY if keyring else None,
                           keyalgorithm=dns.tsig.HMAC_SHA256,
                           serial=serial, timeout=5, lifetime=20,
                           relativize=False):
        msgs += 1
        for rrset in m.answer:
            for rd in rrset:
                if rrset.rdtype == dns.rdatatype.SOA:
                    soas += 1
                out.add((str(rrset.name), dns.rdatatype.to_text(
                    rrset.rdtype), rrset.ttl, rd.to_text()))
    return out, soas, msgs


def file_records(text):
    z = dns.zone.from_text(text, origin="example.com.", relativize=False)
    return {(str(name), dns.rdatatype.to_text(rds.rdtype), rds.ttl,
             rd.to_text())
            for name, rds in z.iterate_rdatasets() for rd in rds}


def raw_xfr(port, wire):
    """Send one query over TCP; the first answer message's bytes."""
    import socket
    import struct
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack(
                "!H", buf[:2])[0]:
            chunk = s.recv(65536)
            assert chunk, "connection closed"
            buf += chunk
        n = struct.unpack("!H", buf[:2])[0]
        return buf[2:2 + n]


def test_axfr_every_record_and_ixfr(haven, workdir):
    h = start(haven, workdir, serial=7)
    want = file_records(zone_text(7))
    got, soas, msgs = records(h.port)
    assert soas == 2 and msgs > 1
    assert got == want, (want - got, got - want)
    # IXFR from the current serial: our SOA alone.
    got, soas, msgs = records(h.port, rdtype="IXFR", serial=7)
    assert msgs == 1 and soas == 1
    # IXFR from an older serial: the zone in AXFR form (RFC 1995 §4).
    got, soas, msgs = records(h.port, rdtype="IXFR", serial=6)
    assert got == want
    assert h.metric("haven_dns_xfr_requests_total", result="axfr") >= 1
    assert h.metric("haven_dns_xfr_requests_total",
                    result="ixfr_uptodate") >= 1


def test_refused_outside_allow_transfer(haven, workdir):
    h = start(haven, workdir, allow='"198.18.0.0/15"')
    with pytest.raises(dns.xfr.TransferError) as e:
        records(h.port)
    assert e.value.rcode == dns.rcode.REFUSED
    # The zone itself is still served over UDP and TCP.
    q = dns.message.make_query("www.example.com", "A")
    assert dns.query.tcp(q, "127.0.0.1", port=h.port,
                         timeout=2).rcode() == 0
    assert h.metric("haven_dns_xfr_requests_total", result="refused") >= 1


def test_tsig_required(haven, workdir):
    h = start(haven, workdir, key=True)
    want = file_records(zone_text(1))
    # Signed with the key: every message verified by dnspython.
    got, soas, _ = records(h.port, keyring=ring())
    assert got == want and soas == 2
    # Unsigned: refused.
    with pytest.raises(dns.xfr.TransferError) as e:
        records(h.port)
    assert e.value.rcode == dns.rcode.REFUSED
    # Signed with a wrong secret: NOTAUTH, TSIG error BADSIG, no MAC.
    q = dns.message.make_query("example.com", "AXFR")
    q.use_tsig(ring(WRONG), keyname=KEY, algorithm=dns.tsig.HMAC_SHA256)
    wire = raw_xfr(h.port, q.to_wire())
    assert wire[3] & 0xF == dns.rcode.NOTAUTH
    with pytest.raises(dns.tsig.PeerBadSignature):
        dns.message.from_wire(wire, keyring=ring(WRONG),
                              request_mac=q.mac)
    # An unknown key name: NOTAUTH, BADKEY.
    q = dns.message.make_query("example.com", "AXFR")
    q.use_tsig(dns.tsigkeyring.from_text(
        {"nobody.": ("hmac-sha256", SECRET)}), keyname="nobody.",
        algorithm=dns.tsig.HMAC_SHA256)
    wire = raw_xfr(h.port, q.to_wire())
    assert wire[3] & 0xF == dns.rcode.NOTAUTH
    with pytest.raises(dns.tsig.PeerBadKey):
        dns.message.from_wire(wire, keyring=dns.tsigkeyring.from_text(
            {"nobody.": ("hmac-sha256", SECRET)}), request_mac=q.mac)
    assert h.metric("haven_dns_xfr_requests_total", result="badtsig") >= 2

    # Plain queries signed (a secondary's SOA check is one): the answer
    # is signed, over UDP and TCP; a bad signature gets NOTAUTH alone.
    for query in (dns.query.udp, dns.query.tcp):
        q = dns.message.make_query("example.com", "SOA")
        q.use_tsig(ring(), keyname=KEY, algorithm=dns.tsig.HMAC_SHA256)
        r = query(q, "127.0.0.1", port=h.port, timeout=2)
        assert r.had_tsig and r.rcode() == 0 and r.answer
        q = dns.message.make_query("www.example.com", "A")
        q.use_tsig(ring(WRONG), keyname=KEY,
                   algorithm=dns.tsig.HMAC_SHA256)
        with pytest.raises(dns.tsig.PeerBadSignature):
            query(q, "127.0.0.1", port=h.port, timeout=2)
    assert h.metric("haven_dns_tsig_answers_total", result="signed") == 2
    assert h.metric("haven_dns_tsig_answers_total", result="notauth") == 2


NSD_CONF = """\
server:
  ip-address: 127.0.0.1@{port}
  port: {port}
  username: ""
  chroot: ""
  zonesdir: "{d}"
  pidfile: "{d}/nsd.pid"
  database: ""
  zonelistfile: "{d}/zone.list"
  xfrdfile: "{d}/xfrd.state"
  xfrdir: "{d}"
  logfile: "{d}/nsd.log"
  verbosity: 2
  server-count: 1
  tcp-count: 10
remote-control:
  control-enable: no
key:
  name: xfr-key
  algorithm: hmac-sha256
  secret: "{secret}"
zone:
  name: example.com
  zonefile: "{d}/secondary.zone"
  request-xfr: 127.0.0.1@{primary} {key}
  allow-notify: 127.0.0.1 {key}
  provide-xfr: 127.0.0.0/8 NOKEY
"""



def start_nsd(tmp_path, primary_port, key, port):
    if not os.access(NSD, os.X_OK):
        pytest.skip("nsd not installed (Debian package nsd)")
    d = tmp_path / "nsd"
    d.mkdir()
    conf = d / "nsd.conf"
    conf.write_text(NSD_CONF.format(
        d=d, port=port, primary=primary_port, secret=SECRET,
        key="xfr-key" if key else "NOKEY"))
    p = subprocess.Popen([NSD, "-d", "-c", str(conf)],
                         stdout=subprocess.DEVNULL,
                         stderr=open(d / "stderr", "w"))
    p.port = port
    p.dir = d
    p.log = d / "nsd.log"
    return p


@pytest.fixture
def secondary(tmp_path, knot_secondary):
    started = []

    def run(kind, primary_port, key, port):
        if kind == "knot":
            return knot_secondary(primary_port, port,
                                  secret=SECRET if key else None)
        p = start_nsd(tmp_path, primary_port, key, port)
        started.append(p)
        return p

    yield run
    for p in started:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()


def soa_serial(port):
    q = dns.message.make_query("example.com", "SOA")
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1)
    except dns.exception.Timeout:
        return None
    if r.rcode() != 0 or not r.answer:
        return None
    return r.answer[0][0].serial


@pytest.mark.parametrize("key", [False, True], ids=["nokey", "tsig"])
@pytest.mark.parametrize("kind", ["nsd", "knot"])
def test_secondary_pulls_and_follows_notify(haven, workdir, secondary, kind,
                                            key):
    # haven first (the secondary's first pull needs it); its NOTIFY target
    # is the secondary's port, chosen before either starts.
    nport = free_dns_port()
    with open(os.path.join(str(workdir), "z1.zone"), "w") as f:
        f.write(zone_text(10))
    hport = free_dns_port()
    h = haven(write_config(workdir, hport, "z1.zone",
                           notify='"127.0.0.1:%d"' % nport, key=key))
    h.port = hport
    wait_until(lambda: soa_serial(hport) == 10, timeout=10,
               what="haven serves serial 10")

    n = secondary(kind, hport, key, nport)
    try:
        wait_until(lambda: soa_serial(nport) == 10, timeout=20,
                   what="%s has serial 10: %s" % (kind, n.log))
        # NSD may answer the new SOA a moment before its AXFR side has
        # the zone it belongs to: wait for the records, then compare.
        want = file_records(zone_text(10))
        wait_until(lambda: records(nport)[0] == want, timeout=5,
                   what="%s transfers what haven serves" % kind,
                   ignore=(OSError, dns.exception.DNSException))
        got, soas, _ = records(nport)
        assert got == want, (want - got, got - want)

        # A new serial and a new record; haven reloads and NOTIFYs.
        extra = "new IN A 198.18.9.9\n"
        with open(os.path.join(str(workdir), "z2.zone"), "w") as f:
            f.write(zone_text(11, extra))
        write_config(workdir, hport, "z2.zone",
                     notify='"127.0.0.1:%d"' % nport, key=key)
        # The NOTIFY for serial 10 may still be resending (the secondary
        # started after it): serial 11's replaces it, so count from here.
        acked = h.metric("haven_dns_notify_acked_total")
        t0 = time.monotonic()
        r = h.api("POST", "/v1/reload")
        assert r.status == 200, r
        wait_until(lambda: soa_serial(nport) == 11, timeout=15,
                   what="%s refreshed to 11 after NOTIFY" % kind)
        took = time.monotonic() - t0
        want = file_records(zone_text(11, extra))
        wait_until(lambda: records(nport)[0] == want, timeout=5,
                   what="%s transfers serial 11's records" % kind,
                   ignore=(OSError, dns.exception.DNSException))
        got, _, _ = records(nport)
        assert got == want
        assert ("new.example.com.", "A", 300, "198.18.9.9") in got
        wait_until(
            lambda: h.metric("haven_dns_notify_acked_total") >= acked + 1,
            timeout=10, what="serial 11's NOTIFY acknowledged")
        # Far below the SOA's one-hour refresh: NOTIFY did it.
        assert took < 15
    finally:
        if os.path.exists(n.log):
            print(open(n.log).read()[-3000:])


def test_notify_signed_and_retried(haven, workdir):
    """The NOTIFY target is a socket of ours: it reads each NOTIFY
    (checking its TSIG with dnspython), leaves the first two unanswered,
    and acknowledges the third. They come about 1 s and 2 s apart, each a
    new message (new ID and TSIG time)."""
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(10)
    nport = s.getsockname()[1]
    h = start(haven, workdir, serial=3, notify='"127.0.0.1:%d"' % nport,
              key=True)
    try:
        seen = []
        while len(seen) < 3:
            wire, peer = s.recvfrom(4096)
            m = dns.message.from_wire(wire, keyring=ring())
            assert m.opcode() == dns.opcode.NOTIFY
            assert m.flags & dns.flags.AA and not m.flags & dns.flags.QR
            assert m.question[0].rdtype == dns.rdatatype.SOA
            assert str(m.question[0].name) == "example.com."
            assert m.had_tsig and str(m.keyname) == KEY
            seen.append((time.monotonic(), m.id))
        r = dns.message.make_response(m)
        s.sendto(r.to_wire(), peer)
        gaps = [b[0] - a[0] for a, b in zip(seen, seen[1:])]
        assert 0.7 < gaps[0] < 1.6 and 1.6 < gaps[1] < 2.8, gaps
        assert len({i for _, i in seen}) == 3
        wait_until(lambda: h.metric("haven_dns_notify_acked_total") == 1,
                   timeout=5, what="NOTIFY acknowledged")
        assert h.metric("haven_dns_notify_sent_total") == 3
        assert h.metric("haven_dns_notify_pending") == 0
    finally:
        s.close()
