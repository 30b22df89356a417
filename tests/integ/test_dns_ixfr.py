"""test_dns_ixfr - incremental zone transfers (RFC 1995) out of haven.

haven is the primary of example.com on 127.0.0.1 (a free port), with two
workers (every worker answers transfers, so each must hold the journal;
the tests wait until both have journaled a reload before asking).
The zone file changes: records added, deleted, RDATA and a TTL changed,
the serial bumped; haven reloads and journals the difference. Then:

* `kdig IXFR=<old>` (Knot's dig) must get the incremental form: our SOA,
  the old SOA, exactly the deleted records, the new SOA, exactly the
  added ones, our SOA, step after step;
* a serial the journal does not know gets the whole zone (AXFR form);
* the journal survives a restart, and a corrupt journal file is refused
  (logged, counted) with full answers instead, never a crash;
* ixfr_versions bounds the journal, and 0 turns it off;
* with a transfer_key, an incremental answer of several messages is
  signed message by message (dnspython verifies the chain);
* Knot (knotd) as a secondary of haven catches up by IXFR after the
  NOTIFY: its log says so, and its copy holds exactly the new records.

Skipped, never passed, without dnspython, kdig or knotd.
"""

import os
import re
import shutil
import subprocess

import pytest

dns = pytest.importorskip("dns")
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.xfr  # noqa: E402
import dns.zone  # noqa: E402

from havenlib.configs import BASE  # noqa: E402
from havenlib.poll import wait_until  # noqa: E402
from test_dns_server import free_dns_port  # noqa: E402
from test_dns_xfr import file_records, records, soa_serial  # noqa: E402

KDIG = shutil.which("kdig") or "/usr/bin/kdig"

# Version 10, then what each later serial changes.
BASE_ZONE = """\
$ORIGIN example.com.
$TTL 300
@       IN SOA ns1 hostmaster {serial} 3600 600 604800 60
        IN NS  ns1
ns1     IN A    198.18.0.53
mail    {mailttl} IN A 198.18.0.25
www     IN A    {www}
{hosts}{extra}"""


def zone(serial, www="198.18.0.80", mailttl=300, drop=(), extra=""):
    hosts = "".join("h%d IN A 198.18.1.%d\n" % (i, i + 1)
                    for i in range(40) if i not in drop)
    return BASE_ZONE.format(serial=serial, www=www, mailttl=mailttl,
                            hosts=hosts, extra=extra)


V10 = zone(10)
# 11: h3 deleted, www's address changed, mail's TTL changed, two added.
V11 = zone(11, www="198.18.0.81", mailttl=600, drop=(3,),
           extra="new IN A 198.18.9.9\nnew IN TXT \"added in 11\"\n")
# 12: the TXT deleted again, h5 deleted, one more added.
V12 = zone(12, www="198.18.0.81", mailttl=600, drop=(3, 5),
           extra="new IN A 198.18.9.9\nlate IN AAAA 2001:db8::12\n")

CONFIG = BASE + """\
dns:
  listen: ["127.0.0.1:{port}"]
  workers: {workers}
  zones:
    - name: example.com
      file: {zonefile}
      allow_transfer: ["127.0.0.0/8"]
      notify: [{notify}]
      ixfr_versions: {versions}
"""


def write(workdir, port, text, notify="", versions=20, workers=2):
    zf = os.path.join(str(workdir), "example.com.zone")
    with open(zf + ".tmp", "w") as f:
        f.write(text)
    os.rename(zf + ".tmp", zf)
    cfg = os.path.join(str(workdir), "haven.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(dir=workdir, port=port, zonefile=zf,
                              notify=notify, versions=versions,
                              workers=workers))
    return cfg


def events(h, event):
    """haven_dns_ixfr_journal_events_total{event}, over every worker."""
    return h.metric("haven_dns_ixfr_journal_events_total", event=event)


def reload_to(h, serial, appended):
    """Reload, and wait until every worker journaled the step: the total
    of appended steps (over workers) reaches appended. A query's answer
    alone says one worker has the new serial, not that all have."""
    r = h.api("POST", "/v1/reload")
    assert r.status == 200, r
    wait_until(lambda: soa_serial(h.port) == serial, timeout=10,
               what="haven serves serial %d" % serial)
    wait_until(lambda: events(h, "appended") == appended, timeout=10,
               what="every worker journaled serial %d" % serial)


def settled(h, event, n):
    """Wait until n workers counted event (their first apply is over)."""
    wait_until(lambda: events(h, event) == n, timeout=10,
               what="%d workers counted %s" % (n, event))


def kdig_ixfr(port, serial):
    """The answer records of `kdig IXFR=serial`, in order, as tuples
    (name, type, ttl, rdata text)."""
    if not os.access(KDIG, os.X_OK):
        pytest.skip("kdig not installed (Debian package knot-dnsutils)")
    out = subprocess.run(
        [KDIG, "-p", str(port), "@127.0.0.1", "example.com",
         "IXFR=%d" % serial, "+nocomments", "+nostats", "+noquestion",
         "+timeout=5", "+retry=0"],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    rrs = []
    for line in out.stdout.splitlines():
        if not line or line.startswith(";"):
            continue
        f = line.split(None, 4)
        assert f[2] == "IN", line
        rrs.append((f[0], f[3], int(f[1]), f[4]))
    return rrs


def soa_of(rr):
    assert rr[1] == "SOA", rr
    return int(rr[3].split()[2])


def steps(rrs):
    """Split an incremental answer into [(from, to, deleted, added)],
    checking its frame: our SOA first and last (RFC 1995 §4)."""
    assert soa_of(rrs[0]) == soa_of(rrs[-1])
    body = rrs[1:-1]
    out = []
    i = 0
    while i < len(body):
        frm = soa_of(body[i])
        i += 1
        dels = set()
        while body[i][1] != "SOA":
            dels.add(body[i])
            i += 1
        to = soa_of(body[i])
        i += 1
        adds = set()
        while i < len(body) and body[i][1] != "SOA":
            adds.add(body[i])
            i += 1
        out.append((frm, to, dels, adds))
    return out


def diff(old, new):
    """What RFC 1995 must carry from old to new: (deleted, added), as
    kdig prints records, the SOA aside."""
    o = {r for r in file_records(old) if r[1] != "SOA"}
    n = {r for r in file_records(new) if r[1] != "SOA"}
    return o - n, n - o


def kdig_form(recs):
    # file_records' rdata is dnspython's text, which kdig matches for
    # these types; TXT keeps its quotes in both.
    return {(name, t, ttl, rd) for name, t, ttl, rd in recs}


def start(haven, workdir, text, **kw):
    port = free_dns_port()
    h = haven(write(workdir, port, text, **kw))
    h.port = port
    want = int(re.search(r"hostmaster (\d+)", text).group(1))
    wait_until(lambda: soa_serial(port) == want, timeout=10,
               what="haven answers serial %d on %d" % (want, port))
    # Every worker, not only the one that answered: a worker still
    # loading would read the next version of the file the test writes.
    workers = kw.get("workers", 2)
    wait_until(lambda: all(
        h.metric("haven_dns_zone_serial", zone="example.com.",
                 worker=str(w)) == want for w in range(workers)),
        timeout=10, what="every worker serves serial %d" % want)
    return h


def test_kdig_gets_exactly_the_changes(haven, workdir):
    h = start(haven, workdir, V10)
    write(workdir, h.port, V11)
    reload_to(h, 11, appended=2)
    write(workdir, h.port, V12)
    reload_to(h, 12, appended=4)

    d11, a11 = diff(V10, V11)
    d12, a12 = diff(V11, V12)
    # Sanity of the fixture itself: every kind of change is in it.
    assert ("h3.example.com.", "A", 300, "198.18.1.4") in d11
    assert ("mail.example.com.", "A", 600, "198.18.0.25") in a11
    assert len(d12) == 2 and len(a12) == 1

    # Two steps from 10, each exactly the file's difference; a few
    # tries, since each worker answers and both must have it.
    for _ in range(4):
        rrs = kdig_ixfr(h.port, 10)
        assert soa_of(rrs[0]) == 12
        got = steps(rrs)
        assert [(f, t) for f, t, _, _ in got] == [(10, 11), (11, 12)]
        assert got[0][2] == kdig_form(d11) and got[0][3] == kdig_form(a11)
        assert got[1][2] == kdig_form(d12) and got[1][3] == kdig_form(a12)
    # One step from 11.
    got = steps(kdig_ixfr(h.port, 11))
    assert [(f, t) for f, t, _, _ in got] == [(11, 12)]
    # Far smaller than the zone: 40 hosts are not resent.
    assert len(kdig_ixfr(h.port, 11)) == 2 + 2 + 3
    assert h.metric("haven_dns_xfr_requests_total",
                    result="ixfr_incremental") >= 5

    # A serial the journal never saw: the whole zone, AXFR form.
    full = kdig_ixfr(h.port, 9)
    assert soa_of(full[0]) == 12 and soa_of(full[-1]) == 12
    assert sum(1 for r in full if r[1] == "SOA") == 2
    assert {r for r in full[1:-1]} == kdig_form(
        {r for r in file_records(V12) if r[1] != "SOA"})
    assert h.metric("haven_dns_xfr_requests_total",
                    result="ixfr_full") >= 1
    # dnspython, an independent IXFR client, applies the increments to
    # its copy of serial 10 and must land on the file's serial 12.
    z = dns.zone.from_text(V10, origin="example.com.", relativize=False)
    q, serial = dns.xfr.make_query(z)
    assert serial == 10
    dns.query.inbound_xfr("127.0.0.1", z, q, port=h.port, timeout=5,
                          lifetime=20)
    assert {(str(n), dns.rdatatype.to_text(rds.rdtype), rds.ttl,
             rd.to_text()) for n, rds in z.iterate_rdatasets()
            for rd in rds} == file_records(V12)
    assert h.metric("haven_dns_ixfr_journal_events_total",
                    event="appended") == 4  # two steps, two workers


def test_journal_survives_restart_and_corruption_falls_back(haven, workdir):
    h = start(haven, workdir, V10)
    write(workdir, h.port, V11)
    reload_to(h, 11, appended=2)
    jdir = os.path.join(str(workdir), "state", "dns-journal")
    jfile = os.path.join(jdir, "example.com.ixfr")
    wait_until(lambda: os.path.exists(jfile), timeout=5,
               what="journal file written")
    h.stop()

    h = start(haven, workdir, V11)
    settled(h, "loaded", 2)
    got = steps(kdig_ixfr(h.port, 10))
    assert [(f, t) for f, t, _, _ in got] == [(10, 11)]
    d11, a11 = diff(V10, V11)
    assert got[0][2] == kdig_form(d11) and got[0][3] == kdig_form(a11)
    h.stop()

    # Flip a byte in the middle, then truncate: each refused, full
    # transfers served, the process alive.
    data = open(jfile, "rb").read()
    for bad in (data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 1]) +
                data[len(data) // 2 + 1:], data[:len(data) - 7]):
        with open(jfile, "wb") as f:
            f.write(bad)
        h = start(haven, workdir, V11)
        settled(h, "load_rejected", 2)
        rrs = kdig_ixfr(h.port, 10)
        assert sum(1 for r in rrs if r[1] == "SOA") == 2
        assert len(rrs) == len(file_records(V11)) + 1
        assert h.metric("haven_dns_xfr_requests_total",
                        result="ixfr_full") == 1
        assert "dns ixfr journal rejected" in h.proc.log_text()
        h.stop()

    # The zone changed while haven was down: the journal ends at 11 but
    # we serve 12, so nothing in it can be served.
    write(workdir, h.port, V11)
    h = start(haven, workdir, V11)
    write(workdir, h.port, V12)
    reload_to(h, 12, appended=2)
    h.stop()
    write(workdir, h.port, zone(13, extra="x IN A 198.18.7.7\n"))
    h = start(haven, workdir, zone(13, extra="x IN A 198.18.7.7\n"))
    settled(h, "load_stale", 2)
    rrs = kdig_ixfr(h.port, 12)
    assert sum(1 for r in rrs if r[1] == "SOA") == 2


def test_journal_bound_and_off(haven, workdir):
    """ixfr_versions: 1 keeps the last step only: the serial before it
    gets the whole zone. ixfr_versions: 0 keeps nothing."""
    h = start(haven, workdir, V10, versions=1)
    write(workdir, h.port, V11, versions=1)
    reload_to(h, 11, appended=2)
    write(workdir, h.port, V12, versions=1)
    reload_to(h, 12, appended=4)
    rrs = kdig_ixfr(h.port, 10)
    assert sum(1 for r in rrs if r[1] == "SOA") == 2
    assert len(rrs) == len(file_records(V12)) + 1
    got = steps(kdig_ixfr(h.port, 11))
    assert [(f, t) for f, t, _, _ in got] == [(11, 12)]
    assert h.metric("haven_dns_ixfr_journal_steps") == 2  # one per worker
    # Off: the reload journals nothing, every IXFR is answered in full.
    write(workdir, h.port, zone(13), versions=0)
    r = h.api("POST", "/v1/reload")
    assert r.status == 200, r
    wait_until(lambda: all(
        h.metric("haven_dns_zone_serial", zone="example.com.",
                 worker=str(w)) == 13 for w in range(2)),
        timeout=10, what="every worker serves serial 13")
    assert h.metric("haven_dns_ixfr_journal_steps") == 0
    assert events(h, "appended") == 4
    rrs = kdig_ixfr(h.port, 12)
    assert sum(1 for r in rrs if r[1] == "SOA") == 2


SIGNED = BASE + """\
dns:
  listen: ["127.0.0.1:{port}"]
  tsig_keys:
    - {{ name: xfr-key, algorithm: hmac-sha256, secret: "{secret}" }}
  zones:
    - name: example.com
      file: {zonefile}
      allow_transfer: ["127.0.0.0/8"]
      transfer_key: xfr-key
"""


def test_signed_incremental_stream_of_many_messages(haven, workdir):
    """A step too big for one message: every message of the incremental
    answer is signed, and dnspython verifies the TSIG chain message by
    message (RFC 8945 §5.3.1), then applies the step."""
    from test_dns_xfr import KEY, SECRET, ring
    import dns.tsig
    big = "".join("n%d IN A 198.18.%d.%d\n" % (i, 100 + i // 250, i % 250)
                  for i in range(3000))
    v11 = zone(11, extra=big)
    port = free_dns_port()
    zf = os.path.join(str(workdir), "example.com.zone")
    cfg = os.path.join(str(workdir), "haven.yaml")

    def put(text):
        with open(zf, "w") as f:
            f.write(text)
        with open(cfg, "w") as f:
            f.write(SIGNED.format(dir=workdir, port=port, zonefile=zf,
                                  secret=SECRET))
    put(V10)
    h = haven(cfg)
    h.port = port
    wait_until(lambda: soa_serial(port) == 10, timeout=10,
               what="haven serves serial 10")
    put(v11)
    reload_to(h, 11, appended=1)  # one worker
    msgs = 0
    adds = 0
    for m in dns.query.xfr("127.0.0.1", "example.com", rdtype="IXFR",
                           serial=10, port=port, keyring=ring(),
                           keyname=KEY, keyalgorithm=dns.tsig.HMAC_SHA256,
                           timeout=5, lifetime=20, relativize=False):
        assert m.had_tsig
        msgs += 1
        adds += sum(len(r) for r in m.answer if r.rdtype == 1)
    assert msgs > 1
    assert adds == 3000
    z = dns.zone.from_text(V10, origin="example.com.", relativize=False)
    q, _ = dns.xfr.make_query(z, keyring=ring(), keyname=KEY,
                              keyalgorithm=dns.tsig.HMAC_SHA256)
    dns.query.inbound_xfr("127.0.0.1", z, q, port=port, timeout=5,
                          lifetime=20)
    assert {(str(n), dns.rdatatype.to_text(rds.rdtype), rds.ttl,
             rd.to_text()) for n, rds in z.iterate_rdatasets()
            for rd in rds} == file_records(v11)
    assert h.metric("haven_dns_xfr_requests_total",
                    result="ixfr_incremental") == 2
    # Unsigned: refused, journal or not.
    with pytest.raises(dns.xfr.TransferError):
        records(port, rdtype="IXFR", serial=10)


def test_knot_secondary_catches_up_by_ixfr(haven, workdir, knot_secondary):
    kport = free_dns_port()
    port = free_dns_port()
    notify = '"127.0.0.1:%d"' % kport
    # Two workers: worker 0 sends the NOTIFY only once both serve the
    # new serial (test_dns_notify_workers), so Knot's SOA query and
    # IXFR, on either, find it.
    h = haven(write(workdir, port, V10, notify=notify, workers=2))
    h.port = port
    wait_until(lambda: soa_serial(port) == 10, timeout=10,
               what="haven serves serial 10")
    k = knot_secondary(port, kport, log="debug")
    try:
        wait_until(lambda: soa_serial(kport) == 10, timeout=20,
                   what="knot has serial 10")
        write(workdir, port, V11, notify=notify, workers=2)
        reload_to(h, 11, appended=2)
        wait_until(lambda: soa_serial(kport) == 11, timeout=15,
                   what="knot refreshed to 11 after NOTIFY")
        want = file_records(V11)
        wait_until(lambda: records(kport)[0] == want, timeout=5,
                   what="knot's copy is serial 11's records",
                   ignore=(OSError, dns.exception.DNSException))
        log = open(k.log).read()
        # Knot 3 logs "IXFR, incoming, remote ..., finished" for an
        # incremental transfer and says "fallback to AXFR" otherwise.
        assert "IXFR, incoming" in log and "finished" in log, log[-2000:]
        assert "fallback to AXFR" not in log, log[-2000:]
        assert h.metric("haven_dns_xfr_requests_total",
                        result="ixfr_incremental") >= 1
        assert h.metric("haven_dns_xfr_requests_total",
                        result="ixfr_full") == 0
    finally:
        if os.path.exists(k.log):
            print(open(k.log).read()[-3000:])
