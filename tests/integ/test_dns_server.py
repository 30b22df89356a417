"""test_dns_server - haven's authoritative DNS server, from the outside.

A haven with a `dns:` section serves the zone below on 127.0.0.1 and ::1
(a free port, UDP and TCP); dnspython and kdig ask it. Each test starts
its own daemon, so the counters it reads are its own.

What a user of an authoritative server relies on: answers with AA for the
zone's data (A, AAAA, MX, TXT), NXDOMAIN and NODATA with the SOA in
authority, REFUSED outside the zone, wildcards, CNAME chains, referrals
with glue; TCP with several queries pipelined on one connection, and idle
connections closed; a UDP answer too big for the client truncated with
TC and complete over TCP; EDNS (BADVERS, NSID, DO echoed); malformed
packets counted in /metrics while the server goes on answering; RRL
dropping and slipping a burst from one client; two workers both
answering; and `haven check` pointing at a broken zone file's own
file:line:col.
"""

import os
import random
import re
import socket
import struct
import subprocess
import shutil
import time

import pytest

dns = pytest.importorskip("dns")
import dns.edns  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

from havenlib.configs import BASE  # noqa: E402
from havenlib.poll import wait_until  # noqa: E402

ZONE = """\
$ORIGIN example.com.
$TTL 300
@       IN SOA ns1 hostmaster 2026120601 3600 600 604800 60
        IN NS  ns1
        IN NS  ns2
        IN MX  10 mail
        IN TXT "v=spf1 -all"
ns1     IN A    198.18.0.53
ns2     IN A    198.18.1.53
mail    IN A    198.18.0.25
www     IN A    198.18.0.80
        IN AAAA 2001:db8::80
alias   IN CNAME www
chain   IN CNAME alias
*.apps  IN A    198.18.0.90
sub     IN NS   ns.sub
ns.sub  IN A    198.18.2.53
"""

# An RRset of about 2 KB: over any UDP limit we allow without EDNS.
BIG = "".join('big IN TXT "%s-%s"\n' % (i, "x" * 60) for i in range(30))

CONFIG = BASE + """\
dns:
  listen: ["127.0.0.1:{port}", "[::1]:{port}"]
  workers: {workers}
  nsid: haven-test
  tcp: {{ idle_timeout: {idle} }}
  rrl: {{ responses_per_second: {rrl}, slip: 2, window: 2s }}
  zones:
    - {{ name: example.com, file: example.com.zone }}
"""


def free_dns_port():
    """A port free for UDP and TCP on 127.0.0.1 and ::1."""
    for _ in range(100):
        port = random.randint(20000, 60000)
        socks = []
        try:
            for fam, addr in ((socket.AF_INET, "127.0.0.1"),
                              (socket.AF_INET6, "::1")):
                for typ in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    s = socket.socket(fam, typ)
                    socks.append(s)
                    s.bind((addr, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free port")


def start(haven, workdir, workers=1, idle="10s", rrl=0, zone=ZONE + BIG):
    with open(os.path.join(str(workdir), "example.com.zone"), "w") as f:
        f.write(zone)
    port = free_dns_port()
    h = haven(CONFIG.format(dir=workdir, port=port, workers=workers,
                            idle=idle, rrl=rrl))
    h.port = port

    def answers():
        try:
            return ask(h, "www.example.com", "A").rcode() == 0
        except dns.exception.Timeout:
            return False
    wait_until(answers, timeout=10, what="dns answers on %d" % port)
    return h


def ask(h, name, rdtype, addr="127.0.0.1", tcp=False, edns_version=None,
        **kw):
    q = dns.message.make_query(name, rdtype, **kw)
    q.flags &= ~dns.flags.RD
    if edns_version is not None:
        # make_query's use_edns takes no version in every dnspython
        q.use_edns(edns_version)
    if tcp:
        return dns.query.tcp(q, addr, port=h.port, timeout=2)
    return dns.query.udp(q, addr, port=h.port, timeout=2)


def rrs(section):
    return sorted((str(r.name), dns.rdatatype.to_text(r.rdtype),
                   sorted(x.to_text() for x in r)) for r in section)


def test_answers_data_negative_and_refused(haven, workdir):
    h = start(haven, workdir)
    for addr in ("127.0.0.1", "::1"):
        r = ask(h, "www.example.com", "A", addr=addr)
        assert r.rcode() == dns.rcode.NOERROR
        assert r.flags & dns.flags.AA
        assert rrs(r.answer) == [("www.example.com.", "A",
                                  ["198.18.0.80"])]
    r = ask(h, "www.example.com", "AAAA")
    assert rrs(r.answer) == [("www.example.com.", "AAAA", ["2001:db8::80"])]
    r = ask(h, "example.com", "MX")
    assert rrs(r.answer) == [("example.com.", "MX", ["10 mail.example.com."])]
    r = ask(h, "example.com", "TXT")
    assert rrs(r.answer) == [("example.com.", "TXT", ['"v=spf1 -all"'])]

    # NXDOMAIN and NODATA: no answer, the SOA in authority with the
    # negative TTL (min of its TTL and MINIMUM, RFC 2308 §3)
    for name, rdtype, rcode in (("nope.example.com", "A",
                                 dns.rcode.NXDOMAIN),
                                ("www.example.com", "MX",
                                 dns.rcode.NOERROR)):
        r = ask(h, name, rdtype)
        assert r.rcode() == rcode, (name, r)
        assert r.answer == []
        assert [(str(a.name), a.rdtype, a.ttl) for a in r.authority] == [
            ("example.com.", dns.rdatatype.SOA, 60)]

    # not our zone
    r = ask(h, "example.org", "A")
    assert r.rcode() == dns.rcode.REFUSED
    assert not r.flags & dns.flags.AA


def test_wildcard_cname_chain_delegation(haven, workdir):
    h = start(haven, workdir)
    r = ask(h, "x.apps.example.com", "A")
    assert rrs(r.answer) == [("x.apps.example.com.", "A", ["198.18.0.90"])]

    r = ask(h, "chain.example.com", "A")
    assert rrs(r.answer) == [
        ("alias.example.com.", "CNAME", ["www.example.com."]),
        ("chain.example.com.", "CNAME", ["alias.example.com."]),
        ("www.example.com.", "A", ["198.18.0.80"])]

    # a referral: not authoritative, NS in authority, glue in additional
    r = ask(h, "host.sub.example.com", "A")
    assert r.rcode() == dns.rcode.NOERROR
    assert not r.flags & dns.flags.AA
    assert r.answer == []
    assert rrs(r.authority) == [("sub.example.com.", "NS",
                                 ["ns.sub.example.com."])]
    assert rrs(r.additional) == [("ns.sub.example.com.", "A",
                                  ["198.18.2.53"])]


def test_tcp_pipelining(haven, workdir):
    """Ten queries written at once on one connection: ten answers, each
    matching its query's ID."""
    h = start(haven, workdir)
    names = ["www", "mail", "ns1", "nope", "alias"] * 2
    queries = []
    for i, n in enumerate(names):
        q = dns.message.make_query(n + ".example.com", "A")
        q.id = 1000 + i
        queries.append(q)
    wire = b"".join(struct.pack("!H", len(w)) + w
                    for w in (q.to_wire() for q in queries))
    with socket.create_connection(("127.0.0.1", h.port), timeout=3) as s:
        s.sendall(wire)
        got = {}
        buf = b""
        deadline = time.monotonic() + 5
        while len(got) < len(queries) and time.monotonic() < deadline:
            buf += s.recv(65536)
            while len(buf) >= 2:
                n = struct.unpack("!H", buf[:2])[0]
                if len(buf) < 2 + n:
                    break
                m = dns.message.from_wire(buf[2:2 + n])
                got[m.id] = m
                buf = buf[2 + n:]
    assert sorted(got) == [q.id for q in queries]
    assert got[1000].answer[0][0].address == "198.18.0.80"
    assert got[1003].rcode() == dns.rcode.NXDOMAIN
    assert h.metric("haven_dns_queries_total", transport="tcp") >= 10


def test_tcp_idle_timeout_closes(haven, workdir):
    h = start(haven, workdir, idle="300ms")
    with socket.create_connection(("127.0.0.1", h.port), timeout=3) as s:
        t0 = time.monotonic()
        assert s.recv(1) == b""  # closed by the server, nothing sent
        took = time.monotonic() - t0
    assert 0.2 < took < 2.5, took
    wait_until(lambda: h.metric("haven_dns_tcp_closed_total",
                                reason="idle") >= 1, timeout=5)


def test_truncation_then_tcp(haven, workdir):
    h = start(haven, workdir)
    # no EDNS: 512 bytes at most, so the 2 KB RRset sets TC
    r = ask(h, "big.example.com", "TXT")
    assert r.flags & dns.flags.TC
    assert len(r.to_wire()) <= 512
    r = ask(h, "big.example.com", "TXT", tcp=True)
    assert not r.flags & dns.flags.TC
    assert len(r.answer) == 1 and len(r.answer[0]) == 30
    # with EDNS 1232 still too big: TC, and the OPT kept
    r = ask(h, "big.example.com", "TXT", use_edns=0, payload=1232)
    assert r.flags & dns.flags.TC and r.edns == 0
    assert len(r.to_wire()) <= 1232
    assert h.metric("haven_dns_truncated_total") >= 2


def test_edns_badvers_nsid_do(haven, workdir):
    h = start(haven, workdir)
    r = ask(h, "www.example.com", "A", edns_version=1)
    assert r.rcode() == dns.rcode.BADVERS
    assert r.edns == 0  # answered with version 0 (RFC 6891 §6.1.3)
    r = ask(h, "www.example.com", "A", use_edns=0,
            options=[dns.edns.GenericOption(dns.edns.NSID, b"")],
            want_dnssec=True)
    assert r.rcode() == dns.rcode.NOERROR
    assert r.ednsflags & dns.flags.DO
    nsid = [o for o in r.options if o.otype == dns.edns.NSID]
    assert len(nsid) == 1 and nsid[0].to_wire() == b"haven-test"
    # without asking there is no NSID, and no DO
    r = ask(h, "www.example.com", "A", use_edns=0)
    assert not r.ednsflags & dns.flags.DO
    assert [o for o in r.options if o.otype == dns.edns.NSID] == []


COOKIE = 10  # RFC 7873 option code


def cookie_of(r):
    c = [o for o in r.options if o.otype == COOKIE]
    return c[0].to_wire() if c else None


def test_cookies_and_rrl_exemption(haven, workdir):
    """RFC 7873 / 9018: a client cookie gets a 16-byte server cookie, which
    comes back valid from either worker (one secret in the state
    directory), lets its client past RRL, and is bad from a forged
    source; a COOKIE of a bad length is FORMERR; dig +cookie agrees."""
    h = start(haven, workdir, workers=2, rrl=5)
    cc = bytes(range(1, 9))
    opt = dns.edns.GenericOption(COOKIE, cc)
    r = ask(h, "www.example.com", "A", use_edns=0, options=[opt])
    got = cookie_of(r)
    assert got is not None and len(got) == 24 and got[:8] == cc, got
    assert got[8] == 1  # RFC 9018 version
    full = dns.edns.GenericOption(COOKIE, got)
    # Many queries with the server cookie, from new sockets (so both
    # workers see some): all valid, none rate limited.
    answered = 0
    for _ in range(60):
        r = ask(h, "www.example.com", "A", use_edns=0, options=[full])
        assert cookie_of(r)[8:] == got[8:]
        answered += r.rcode() == 0 and not r.flags & dns.flags.TC
    assert answered == 60
    assert h.metric("haven_dns_cookies_total", result="valid") >= 60
    assert h.metric("haven_dns_rrl_total", action="cookie_pass") >= 60
    # The same cookie from another address (::1): bad, replaced.
    r = ask(h, "www.example.com", "A", addr="::1", use_edns=0,
            options=[full])
    assert cookie_of(r)[8:] != got[8:]
    assert h.metric("haven_dns_cookies_total", result="bad") >= 1
    # Bad lengths: FORMERR (RFC 7873 §5.2.2).
    for bad in (cc[:7], cc + b"x", got + bytes(17)):
        r = ask(h, "www.example.com", "A", use_edns=0,
                options=[dns.edns.GenericOption(COOKIE, bad)])
        assert r.rcode() == dns.rcode.FORMERR
    assert h.metric("haven_dns_malformed_total", reason="cookie_len") >= 3
    dig = shutil.which("dig")
    if dig is not None:
        out = subprocess.run(
            [dig, "@127.0.0.1", "-p", str(h.port), "+norec", "+cookie",
             "www.example.com", "A"], capture_output=True, text=True,
            timeout=10)
        assert out.returncode == 0, out.stderr
        m = re.search(r"COOKIE: ([0-9a-f]{16})([0-9a-f]{32})", out.stdout)
        assert m, out.stdout
        assert "(good)" in out.stdout or "(bad)" not in out.stdout


def test_kdig_answers(haven, workdir):
    kdig = shutil.which("kdig")
    if kdig is None:
        pytest.skip("kdig (knot-dnsutils) not installed")
    h = start(haven, workdir)
    for extra in ([], ["+tcp"]):
        out = subprocess.run(
            [kdig, "@127.0.0.1", "-p", str(h.port), "+norec", "+nsid",
             "+short", "mail.example.com", "A"] + extra,
            capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stderr
        assert "198.18.0.25" in out.stdout.split()


def test_tcp_keepalive_and_extended_errors(haven, workdir):
    """RFC 7828: over TCP an empty edns-tcp-keepalive gets the idle
    timeout (10 s = 100 units); over UDP none; dig +keepalive shows it.
    RFC 8914: REFUSED outside our zones carries EDE 20 (Not
    Authoritative), an AXFR over UDP EDE 18 (Prohibited)."""
    h = start(haven, workdir)
    ka = dns.edns.GenericOption(11, b"")
    r = ask(h, "www.example.com", "A", tcp=True, use_edns=0, options=[ka])
    got = [o for o in r.options if o.otype == 11]
    assert len(got) == 1 and got[0].to_wire() == b"\x00\x64", r.options
    r = ask(h, "www.example.com", "A", use_edns=0, options=[ka])
    assert not [o for o in r.options if o.otype == 11], r.options
    r = ask(h, "www.example.com", "A", tcp=True, use_edns=0,
            options=[dns.edns.GenericOption(11, b"\x00\x05")])
    assert r.rcode() == dns.rcode.FORMERR
    r = ask(h, "www.elsewhere.org", "A", use_edns=0)
    assert r.rcode() == dns.rcode.REFUSED
    assert [o.otype for o in r.options] == [15], r.options
    assert r.options[0].to_wire()[:2] == b"\x00\x14"
    r = ask(h, "example.com", "AXFR", use_edns=0)
    assert r.rcode() == dns.rcode.REFUSED
    assert r.options[0].to_wire()[:2] == b"\x00\x12"
    dig = shutil.which("dig")
    if dig is not None:
        out = subprocess.run(
            [dig, "@127.0.0.1", "-p", str(h.port), "+norec", "+tcp",
             "+keepalive", "www.example.com", "A"],
            capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stderr
        assert "TCP KEEPALIVE: 10.0 secs" in out.stdout, out.stdout


def udp_raw(h, payload, wait=0.5):
    """Send raw bytes; the reply or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(wait)
        s.sendto(payload, ("127.0.0.1", h.port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def test_malformed_counted_and_still_answering(haven, workdir):
    h = start(haven, workdir)
    rnd = random.Random(7)
    for _ in range(200):
        udp_raw(h, bytes(rnd.randrange(256)
                         for _ in range(rnd.randrange(40))), wait=0.01)
    hdr = struct.pack("!HHHHHH", 0x1234, 0, 1, 0, 0, 0)
    # a question cut short: FORMERR
    r = udp_raw(h, hdr + b"\x03www\x07exam")
    assert r is not None and r[:2] == b"\x12\x34" and (r[3] & 0xf) == 1
    # a name that points at itself: FORMERR, no loop
    r = udp_raw(h, hdr + b"\xc0\x0c\x00\x01\x00\x01")
    assert r is not None and (r[3] & 0xf) == 1
    # under a header: nothing to answer
    assert udp_raw(h, b"\x00\x01\x02") is None
    assert ask(h, "www.example.com", "A").rcode() == dns.rcode.NOERROR
    assert h.metric("haven_dns_malformed_total", reason="truncated") >= 1
    assert h.metric("haven_dns_malformed_total", reason="ptr_forward") + \
        h.metric("haven_dns_malformed_total", reason="ptr_loop") >= 1
    assert h.metric("haven_dns_malformed_total", reason="short") >= 1
    assert h.metric("haven_dns_malformed_total") >= 50


def test_rrl_drops_and_slips(haven, workdir):
    """rate 5/s, slip 2: a burst of 100 identical queries from one client
    gets about 5 full answers; of the rest, every second goes out
    truncated and empty, the others are dropped."""
    h = start(haven, workdir, rrl=5)
    q = dns.message.make_query("www.example.com", "A")
    full = slipped = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.3)
        for _ in range(100):
            s.sendto(q.to_wire(), ("127.0.0.1", h.port))
        try:
            while True:
                m = dns.message.from_wire(s.recv(4096))
                if m.flags & dns.flags.TC:
                    assert m.answer == []
                    slipped += 1
                else:
                    full += 1
        except socket.timeout:
            pass
    assert 1 <= full <= 12, full
    assert 30 <= slipped <= 60, slipped
    assert h.metric("haven_dns_rrl_total", action="drop") >= 30
    assert h.metric("haven_dns_rrl_total", action="slip") == slipped
    # TCP is never limited: the client that got TC gets its answer
    r = ask(h, "www.example.com", "A", tcp=True)
    assert r.answer and not r.flags & dns.flags.TC


def test_two_workers_answer(haven, workdir):
    h = start(haven, workdir, workers=2)
    wait_until(lambda: len([p for p in h.status()["processes"]
                            if p["plane"] == "dns"
                            and p["state"] == "running"]) == 2, timeout=10)
    # SO_REUSEPORT spreads clients by their source port: new sockets,
    # until each worker has answered some (a worker that has just
    # started may see its socket drained by the other for a moment)

    def workers_answering():
        for _ in range(32):
            assert ask(h, "www.example.com", "A").rcode() == 0
        r = h.api("GET", "/metrics")
        workers = set()
        for line in r.text.splitlines():
            if line.startswith("haven_dns_queries_total{") and \
                    'worker="' in line:
                workers.add(line.split('worker="')[1].split('"')[0])
        return workers == {"0", "1"}
    wait_until(workers_answering, timeout=10, what="both workers answer")


def test_check_reports_zone_file_position(haven_bin, workdir):
    zone = os.path.join(str(workdir), "example.com.zone")
    with open(zone, "w") as f:
        f.write(ZONE + "bad IN A 198.18.0.999\n")
    cfg = os.path.join(str(workdir), "haven.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(dir=workdir, port=5300, workers=1,
                              idle="10s", rrl=0))
    out = subprocess.run([str(haven_bin), "check", "-c", cfg],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    line = len(ZONE.splitlines()) + 1
    assert "%s:%d:" % (zone, line) in out.stdout + out.stderr, out


def test_reload_swaps_zones_only_when_they_load(haven, workdir):
    """A zone file edited and reloaded is served; a broken one is refused
    with its position, and the old data stays served."""
    h = start(haven, workdir)
    zone = os.path.join(str(workdir), "example.com.zone")
    with open(zone, "w") as f:
        f.write(ZONE.replace("198.18.0.80", "198.18.0.81"))
    r = h.api("POST", "/v1/reload")
    assert r.status == 200, r
    wait_until(lambda: ask(h, "www.example.com", "A").answer[0][0].address
               == "198.18.0.81", timeout=5, what="new zone served")
    with open(zone, "w") as f:
        f.write(ZONE.replace("198.18.0.81", "198.18.0.82") +
                "broken IN A 300.1.1.1\n")
    r = h.api("POST", "/v1/reload")
    assert r.status == 400, r
    line = len(ZONE.splitlines()) + 1
    assert any(e.startswith("%s:%d:" % (zone, line))
               for e in r.json["errors"]), r.json
    assert ask(h, "www.example.com", "A").answer[0][0].address == \
        "198.18.0.81"


def test_tcp_max_connections_closes_oldest_idle(haven, workdir):
    h = start(haven, workdir)
    cfg = h.config
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write(text.replace("tcp: { idle_timeout: 10s }",
                             "tcp: { idle_timeout: 10s, "
                             "max_connections: 2 }"))
    assert h.api("POST", "/v1/reload").status == 200
    first = socket.create_connection(("127.0.0.1", h.port), timeout=3)
    second = socket.create_connection(("127.0.0.1", h.port), timeout=3)
    wait_until(lambda: h.metric("haven_dns_tcp_connections") == 2,
               timeout=5)
    # the third asks at once and is answered; the oldest idle one goes
    r = ask(h, "www.example.com", "A", tcp=True)
    assert r.answer
    first.settimeout(3)
    assert first.recv(1) == b""
    assert h.metric("haven_dns_tcp_closed_total", reason="oldest") >= 1
    second.close()
    first.close()


def test_tcp_slow_reader_is_bounded(haven, workdir):
    """A client that pipelines 600000 queries (21 MB) for a 2 KB answer
    and reads nothing: the server stops reading (at most 64 KiB of
    answers wait), so the client cannot send it all once the kernel
    buffers are full; then the idle timeout closes the stuck
    connection."""
    h = start(haven, workdir, idle="1s")
    q = dns.message.make_query("big.example.com", "TXT").to_wire()
    frame = struct.pack("!H", len(q)) + q
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        s.connect(("127.0.0.1", h.port))
        s.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 4
        data = memoryview(frame * 600000)
        try:
            while sent < len(data) and time.monotonic() < deadline:
                try:
                    sent += s.send(data[sent:])
                except BlockingIOError:
                    time.sleep(0.01)
        except (ConnectionResetError, BrokenPipeError):
            pass  # the idle timeout closed the stuck connection already
        assert sent < len(data), "the server read everything"
        assert h.metric("haven_dns_tcp_read_paused_total") >= 1
        wait_until(lambda: h.metric("haven_dns_tcp_closed_total",
                                    reason="idle") >= 1, timeout=10)
    assert ask(h, "www.example.com", "A", tcp=True).answer


def test_wildcard_listen_answers_from_the_address_asked(haven, workdir):
    """On 0.0.0.0 the answer leaves from the address the query went to
    (dnspython refuses an answer from another source)."""
    with open(os.path.join(str(workdir), "example.com.zone"), "w") as f:
        f.write(ZONE)
    port = free_dns_port()
    h = haven((CONFIG.format(dir=workdir, port=port, workers=1, idle="10s",
                             rrl=0)
               .replace('["127.0.0.1:%d", "[::1]:%d"]' % (port, port),
                        '["0.0.0.0:%d", "[::]:%d"]' % (port, port))))
    h.port = port
    # loopback has one IPv6 address: ::1 only shows [::] answers at all
    for addr in ("127.0.0.1", "127.0.0.2", "127.1.2.3", "::1"):
        wait_until(lambda: ask(h, "www.example.com", "A", addr=addr)
                   .rcode() == 0, timeout=5,
                   ignore=(OSError, dns.exception.Timeout))


def test_tcp_max_queries_closes_after_the_last_answer(haven, workdir):
    h = start(haven, workdir)
    with open(h.config) as f:
        text = f.read()
    with open(h.config, "w") as f:
        f.write(text.replace("tcp: { idle_timeout: 10s }",
                             "tcp: { idle_timeout: 10s, max_queries: 3 }"))
    assert h.api("POST", "/v1/reload").status == 200
    q = dns.message.make_query("www.example.com", "A").to_wire()
    with socket.create_connection(("127.0.0.1", h.port), timeout=3) as s:
        s.sendall((struct.pack("!H", len(q)) + q) * 5)
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    n = 0
    while len(buf) >= 2:
        ln = struct.unpack("!H", buf[:2])[0]
        buf = buf[2 + ln:]
        n += 1
    assert n == 3
    assert h.metric("haven_dns_tcp_closed_total", reason="max_queries") == 1


def test_oversize_datagram_counted(haven, workdir):
    h = start(haven, workdir)
    q = dns.message.make_query("www.example.com", "A").to_wire()
    assert udp_raw(h, q + b"\0" * 5000) is None
    wait_until(lambda: h.metric("haven_dns_udp_oversize_total") == 1,
               timeout=5)
    assert ask(h, "www.example.com", "A").answer
