"""test_dns_dnssec - DNSSEC online signing, checked by validators.

A haven serves example.com signed with an ECDSA P-256 key made by openssl
(dnssec: {key_file}), with a GSLB name steered to a TCP backend. What an
operator relies on:

- dnspython's dns.dnssec.validate accepts the RRSIG of every RRset haven
  sends with DO set: data (static, wildcard, CNAME, GSLB), the DNSKEY
  itself, and the NSEC and SOA of NODATA and non-existent names (RFC 9824
  compact denial: NOERROR, an NSEC at the name with NXNAME);
- a real validating resolver, unbound, with haven as the stub for the zone
  and the zone's DS as trust anchor, answers with AD set, and SERVFAILs
  when the anchor is not the key's;
- without DO, answers carry no DNSSEC records at all;
- `haven check` rejects a key of the wrong type at its file:line:col.
"""

import os
import subprocess
import shutil

import pytest

dns = pytest.importorskip("dns")
pytest.importorskip("cryptography")  # dnspython's DNSSEC backend
import dns.dnssec  # noqa: E402
import dns.exception  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402

from havenlib.configs import BASE  # noqa: E402
from havenlib.poll import wait_until  # noqa: E402

from test_dns_gslb import Backend  # noqa: E402
from test_dns_server import free_dns_port  # noqa: E402

ZONE = """\
$ORIGIN example.com.
$TTL 300
@       IN SOA ns1 hostmaster 2026120601 3600 600 604800 60
        IN NS  ns1
        IN MX  10 Mail
ns1     IN A    198.18.0.53
mail    IN A    198.18.0.25
web     IN A    198.18.0.80
        IN AAAA 2001:db8::80
alias   IN CNAME WEB
*.apps  IN A    198.18.0.90
a.b.c   IN TXT  "deep"
sub     IN NS   ns.sub
ns.sub  IN A    198.18.2.53
"""

CONFIG = BASE + """\
health:
  defaults: {{ interval: 200ms, timeout: 200ms, fall: 2, rise: 2 }}
  checks:
    - {{ name: web, type: tcp, port: {bport} }}
dns:
  listen: ["127.0.0.1:{port}"]
  zones:
    - {{ name: example.com, file: example.com.zone,
        dnssec: {{ key_file: {key} }} }}
  pools:
    - {{ name: site-a, check: web, addresses: [{{ address: 127.0.0.2 }}] }}
  names:
    - {{ name: www.example.com, ttl: 30s,
        policies: [{{ pools: [site-a] }}] }}
"""

# 15 TXT records of 64 octets: 1,184 bytes answered without DO, under
# the 1,232 a UDP answer may use; the RRSIG (107 bytes) does not fit too.
MID = "".join('mid IN TXT "%02d-%s"\n' % (i, "x" * 60) for i in range(15))

APEX = dns.name.from_text("example.com.")
SITE = "127.0.0.2"


def genkey(path, curve="P-256"):
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:" + curve, "-out", str(path)],
                   check=True, capture_output=True)


@pytest.fixture
def site():
    port = free_dns_port()
    b = Backend(SITE, port)
    yield port
    b.kill()


def start(haven, workdir, bport):
    with open(os.path.join(str(workdir), "example.com.zone"), "w") as f:
        f.write(ZONE + MID)
    genkey(workdir / "example.com.pem")
    port = free_dns_port()
    h = haven(CONFIG.format(dir=workdir, port=port, bport=bport,
                            key="example.com.pem"))
    h.port = port

    def up():
        r = ask(h, "www.example.com", "A")
        return any(rr.rdtype == dns.rdatatype.A for rr in r.answer)
    wait_until(up, timeout=10, what="GSLB name answered",
               ignore=(OSError, dns.exception.Timeout))
    return h


CO = 0x4000  # Compact Answers OK, an EDNS header flag (RFC 9824 §4)


def ask(h, name, rdtype, do=True, tcp=False, co=False):
    q = dns.message.make_query(name, rdtype, want_dnssec=do, payload=1232,
                               ednsflags=CO if co else 0)
    q.flags &= ~dns.flags.RD
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", port=h.port, timeout=2)
    return dns.query.udp(q, "127.0.0.1", port=h.port, timeout=2,
                         ignore_trailing=True)


def dnskey(h):
    r = ask(h, "example.com", "DNSKEY")
    keys = r.find_rrset(r.answer, APEX, dns.rdataclass.IN,
                        dns.rdatatype.DNSKEY)
    sig = r.find_rrset(r.answer, APEX, dns.rdataclass.IN,
                       dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
    dns.dnssec.validate(keys, sig, {APEX: keys})
    assert [k.flags for k in keys] == [257]
    assert [k.algorithm for k in keys] == [13]
    return keys


def validate_section(section, keys):
    """Every RRset of section has an RRSIG that validates; the RRsets."""
    data = [rr for rr in section if rr.rdtype != dns.rdatatype.RRSIG]
    sigs = {(rr.name, rr.covers): rr for rr in section
            if rr.rdtype == dns.rdatatype.RRSIG}
    for rr in data:
        assert (rr.name, rr.rdtype) in sigs, "unsigned %s" % rr
        dns.dnssec.validate(rr, sigs[(rr.name, rr.rdtype)], {APEX: keys})
    return data


def test_dnspython_validates_every_answer(haven, workdir, site):
    h = start(haven, workdir, site)
    keys = dnskey(h)

    # data: static, a CNAME followed, a wildcard, the GSLB answer
    for name, rdtype, want in (("web.example.com", "A", 1),
                               ("alias.example.com", "A", 2),
                               ("x.apps.example.com", "A", 1),
                               ("www.example.com", "A", 1),
                               ("example.com", "MX", 1)):
        r = ask(h, name, rdtype)
        assert r.rcode() == dns.rcode.NOERROR
        assert r.flags & dns.flags.AA
        assert len(validate_section(r.answer, keys)) == want, r
        validate_section(r.authority, keys)
    # the wildcard expansion's RRSIG counts the wildcard's labels, and
    # an NSEC proves the next closer name absent (RFC 4035 §3.1.3.3)
    r = ask(h, "x.y.apps.example.com", "A")
    sig = [rr for rr in r.answer if rr.rdtype == dns.rdatatype.RRSIG]
    assert sig[0][0].labels == 3
    nsec = [rr for rr in validate_section(r.authority, keys)
            if rr.rdtype == dns.rdatatype.NSEC]
    assert len(nsec) == 1
    nc = dns.name.from_text("y.apps.example.com.")
    assert nsec[0].name < nc < nsec[0][0].next

    # NODATA: SOA and NSEC at the name with its real types, no MX
    r = ask(h, "web.example.com", "MX")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []
    auth = validate_section(r.authority, keys)
    nsec = [rr for rr in auth if rr.rdtype == dns.rdatatype.NSEC]
    assert [rr.rdtype for rr in auth if rr.rdtype == dns.rdatatype.SOA]
    assert nsec[0].name == dns.name.from_text("web.example.com.")
    bitmap = nsec[0][0].to_text().split()[1:]
    assert bitmap == ["A", "AAAA", "RRSIG", "NSEC"]

    # NODATA at the apex: DNSKEY is in its bitmap
    r = ask(h, "example.com", "AAAA")
    nsec = [rr for rr in validate_section(r.authority, keys)
            if rr.rdtype == dns.rdatatype.NSEC]
    assert "DNSKEY" in nsec[0][0].to_text().split()

    # a name that does not exist: compact denial, NOERROR and NXNAME
    r = ask(h, "nope.example.com", "A")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []
    nsec = [rr for rr in validate_section(r.authority, keys)
            if rr.rdtype == dns.rdatatype.NSEC]
    assert nsec[0].name == dns.name.from_text("nope.example.com.")
    assert nsec[0][0].to_text().split()[1:] == ["RRSIG", "NSEC", "TYPE128"]
    # the same with CO: the client reads NXDOMAIN beside the same proof,
    # and CO comes back; CO without DO is not a DNSSEC query at all
    r = ask(h, "nope.example.com", "A", co=True)
    assert r.rcode() == dns.rcode.NXDOMAIN and r.ednsflags & CO
    nsec = [rr for rr in validate_section(r.authority, keys)
            if rr.rdtype == dns.rdatatype.NSEC]
    assert nsec[0][0].to_text().split()[1:] == ["RRSIG", "NSEC", "TYPE128"]
    r = ask(h, "web.example.com", "MX", co=True)
    assert r.rcode() == dns.rcode.NOERROR and r.ednsflags & CO
    r = ask(h, "nope.example.com", "A", do=False, co=True)
    assert r.rcode() == dns.rcode.NXDOMAIN and not r.ednsflags & CO
    assert not [rr for rr in r.authority if rr.rdtype == dns.rdatatype.NSEC]
    # NXNAME asked outright: FORMERR, EDE 30 (RFC 9824 §3.5)
    r = ask(h, "web.example.com", 128)
    assert r.rcode() == dns.rcode.FORMERR
    assert [o.code for o in r.options if o.otype == 15] == [30]

    # type NSEC asked: the NSEC at the name is the answer
    for name, bitmap in (("web.example.com", ["A", "AAAA", "RRSIG", "NSEC"]),
                         ("nope.example.com", ["RRSIG", "NSEC",
                                               "TYPE128"])):
        r = ask(h, name, "NSEC")
        nsec = validate_section(r.answer, keys)
        assert nsec[0][0].to_text().split()[1:] == bitmap, r

    # type RRSIG asked: every RRSIG at the name, the NSEC's included
    r = ask(h, "web.example.com", "RRSIG")
    assert sorted(dns.rdatatype.to_text(rr.covers) for rr in r.answer) == [
        "A", "AAAA", "NSEC"]
    r = ask(h, "nope.example.com", "RRSIG")
    assert [rr.covers for rr in r.answer] == [dns.rdatatype.NSEC]

    # an empty non-terminal is NODATA with an empty bitmap
    r = ask(h, "b.c.example.com", "A")
    nsec = [rr for rr in validate_section(r.authority, keys)
            if rr.rdtype == dns.rdatatype.NSEC]
    assert nsec[0][0].to_text().split()[1:] == ["RRSIG", "NSEC"]

    # a referral: the NS unsigned, the NSEC proving no DS signed
    r = ask(h, "host.sub.example.com", "A")
    assert not r.flags & dns.flags.AA
    nsec = [rr for rr in r.authority if rr.rdtype == dns.rdatatype.NSEC]
    assert nsec[0][0].to_text().split()[1:] == ["NS", "RRSIG", "NSEC"]
    assert not [rr for rr in r.authority if rr.rdtype == dns.rdatatype.RRSIG
                and rr.covers == dns.rdatatype.NS]
    dns.dnssec.validate(nsec[0], [rr for rr in r.authority
                                  if rr.rdtype == dns.rdatatype.RRSIG][0],
                        {APEX: keys})

    # the caches at work: the same answers again are not signed again
    signed = h.metric("haven_dns_dnssec_rrsigs_total",
                      source="signed_static")
    assert signed > 0
    for _ in range(3):
        ask(h, "web.example.com", "A")
    assert h.metric("haven_dns_dnssec_rrsigs_total",
                    source="signed_static") == signed
    assert h.metric("haven_dns_dnssec_rrsigs_total", source="cache") >= 3
    assert h.metric("haven_dns_dnssec_sign_failures_total") == 0

    # a bit flipped in a signature: the check can fail
    r = ask(h, "web.example.com", "A")
    sig = [rr for rr in r.answer if rr.rdtype == dns.rdatatype.RRSIG][0]
    data = [rr for rr in r.answer if rr.rdtype == dns.rdatatype.A][0]
    bad = sig[0].replace(signature=bytes([sig[0].signature[0] ^ 1]) +
                         sig[0].signature[1:])
    sig = dns.rrset.from_rdata(sig.name, sig.ttl, bad)
    with pytest.raises(dns.dnssec.ValidationFailure):
        dns.dnssec.validate(data, sig, {APEX: keys})


def test_no_do_no_dnssec_records(haven, workdir, site):
    h = start(haven, workdir, site)
    for name, rdtype, rcode in (("web.example.com", "A", dns.rcode.NOERROR),
                                ("nope.example.com", "A",
                                 dns.rcode.NXDOMAIN),
                                ("web.example.com", "MX",
                                 dns.rcode.NOERROR)):
        r = ask(h, name, rdtype, do=False)
        assert r.rcode() == rcode
        for rr in r.answer + r.authority + r.additional:
            assert rr.rdtype not in (dns.rdatatype.RRSIG,
                                     dns.rdatatype.NSEC), r


def test_truncation_with_signatures(haven, workdir, site):
    """An answer that fits without its RRSIG but not with it: TC over UDP
    with DO (the set is never sent unsigned), whole and valid over TCP."""
    h = start(haven, workdir, site)
    keys = dnskey(h)
    r = ask(h, "mid.example.com", "TXT", do=False)
    assert not r.flags & dns.flags.TC
    assert len(r.answer[0]) == 15
    r = ask(h, "mid.example.com", "TXT")
    assert r.flags & dns.flags.TC
    assert r.answer == []
    r = ask(h, "mid.example.com", "TXT", tcp=True)
    assert not r.flags & dns.flags.TC
    data = validate_section(r.answer, keys)
    assert len(data[0]) == 15


def test_reload_keeps_root_only_key(haven, workdir, site):
    """The key file is root's alone (0600, as openssl makes it): the dns
    worker, which dropped root after reading it at start, cannot read it
    on a reload, keeps the key it has, and signs the new zone data."""
    h = start(haven, workdir, site)
    key = workdir / "example.com.pem"
    if os.geteuid() != 0:
        pytest.skip("needs root: the worker must be another user")
    os.chown(key, 0, 0)
    os.chmod(key, 0o600)
    keys = dnskey(h)
    with open(os.path.join(str(workdir), "example.com.zone"), "a") as f:
        f.write("extra IN A 198.18.0.99\n")
    r = h.api("POST", "/v1/reload")
    assert r.status == 200, r

    def served():
        return ask(h, "extra.example.com", "A").answer != []
    wait_until(served, timeout=5, what="reloaded zone served")
    r = ask(h, "extra.example.com", "A")
    assert len(validate_section(r.answer, keys)) == 1
    assert dnskey(h) == keys


UNBOUND = """\
server:
  interface: 127.0.0.1
  port: {port}
  do-ip6: no
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "{dir}"
  pidfile: ""
  use-syslog: no
  logfile: "{dir}/unbound.log"
  verbosity: 1
  val-log-level: 2
  module-config: "validator iterator"
  trust-anchor: "{anchor}"
  qname-minimisation: no
  aggressive-nsec: no
  access-control: 127.0.0.0/8 allow
stub-zone:
  name: "example.com"
  stub-addr: 127.0.0.1@{haven_port}
  stub-prime: no
remote-control:
  control-enable: no
"""


def unbound(workdir, haven_port, anchor, name):
    exe = shutil.which("unbound") or "/usr/sbin/unbound"
    if not os.access(exe, os.X_OK):
        pytest.skip("unbound not installed (scripts/deps.sh check)")
    d = workdir / name
    d.mkdir()
    port = free_dns_port()
    conf = d / "unbound.conf"
    conf.write_text(UNBOUND.format(port=port, dir=d, anchor=anchor,
                                   haven_port=haven_port))
    p = subprocess.Popen([exe, "-d", "-c", str(conf)],
                         stdout=subprocess.DEVNULL,
                         stderr=open(d / "stderr", "w"))
    p.port = port

    def up():
        q = dns.message.make_query("ns1.example.com", "A")
        dns.query.udp(q, "127.0.0.1", port=port, timeout=1)
        return True
    try:
        wait_until(up, timeout=10, what="unbound answers",
                   ignore=(OSError, dns.exception.Timeout))
    except BaseException:
        p.kill()
        raise
    return p


def resolve(u, name, rdtype):
    q = dns.message.make_query(name, rdtype, want_dnssec=True)
    return dns.query.udp(q, "127.0.0.1", port=u.port, timeout=5)


def test_unbound_validates(haven, haven_bin, workdir, site):
    h = start(haven, workdir, site)
    keys = dnskey(h)
    ds = dns.dnssec.make_ds(APEX, keys[0], "SHA256")
    # `haven check` prints the DS an operator gives the parent: the one
    # dnspython computes from the DNSKEY served; unbound anchors on it.
    p = subprocess.run([haven_bin, "check", "-c", h.config],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    printed = [ln for ln in p.stdout.splitlines() if " IN DS " in ln]
    assert printed == ["example.com. IN DS " + ds.to_text()], p.stdout
    good = unbound(workdir, h.port, printed[0].replace(" IN ", " "),
                   "good")
    bad_digest = ds.digest[:-1] + bytes([ds.digest[-1] ^ 1])
    bad = dns.dnssec.make_ds(APEX, keys[0], "SHA256").replace(
        digest=bad_digest)
    wrong = unbound(workdir, h.port, "example.com. DS " + bad.to_text(),
                    "wrong")
    try:
        for name, rdtype, rcode, n in (
                ("web.example.com", "A", dns.rcode.NOERROR, 1),
                ("alias.example.com", "AAAA", dns.rcode.NOERROR, 2),
                ("x.apps.example.com", "A", dns.rcode.NOERROR, 1),
                ("www.example.com", "A", dns.rcode.NOERROR, 1),
                ("web.example.com", "MX", dns.rcode.NOERROR, 0),
                ("nope.example.com", "A", None, 0),
                ("b.c.example.com", "TXT", dns.rcode.NOERROR, 0),
                ("sub.example.com", "DS", dns.rcode.NOERROR, 0)):
            r = resolve(good, name, rdtype)
            if rcode is not None:
                assert r.rcode() == rcode, (name, r)
            else:  # unbound may say NXDOMAIN from the NXNAME bit
                assert r.rcode() in (dns.rcode.NOERROR,
                                     dns.rcode.NXDOMAIN), (name, r)
            assert r.flags & dns.flags.AD, (name, rdtype, r)
            data = [rr for rr in r.answer
                    if rr.rdtype != dns.rdatatype.RRSIG]
            assert len(data) == n, (name, r)
            r = resolve(wrong, name, rdtype)
            assert r.rcode() == dns.rcode.SERVFAIL, (name, r)
            assert not r.flags & dns.flags.AD
    finally:
        good.kill()
        wrong.kill()
        good.wait()
        wrong.wait()


def test_check_rejects_wrong_key(haven_bin, workdir):
    with open(os.path.join(str(workdir), "example.com.zone"), "w") as f:
        f.write(ZONE)
    genkey(workdir / "p384.pem", curve="P-384")
    (workdir / "junk.pem").write_text("not a key\n")
    for key, why in (("p384.pem", "not an ECDSA P-256 key"),
                     ("junk.pem", "not a PEM private key"),
                     ("missing.pem", "cannot read")):
        cfg = workdir / "haven.yaml"
        cfg.write_text(BASE.format(dir=workdir) + (
            "dns:\n"
            "  listen: [\"127.0.0.1:5300\"]\n"
            "  zones:\n"
            "    - name: example.com\n"
            "      file: example.com.zone\n"
            "      dnssec: {key_file: %s}\n") % key)
        p = subprocess.run([haven_bin, "check", "-c", str(cfg)],
                           capture_output=True, text=True, timeout=20)
        assert p.returncode != 0
        out = p.stdout + p.stderr
        # the key_file value: line 10 (BASE is 4 lines), column 26
        assert "haven.yaml:10:26:" in out and why in out, out


def zsk_keys(zsk1_active):
    """dnssec keys: a KSK and two ZSKs, zsk1 or zsk2 the active one."""
    return ("keys: [{ file: ksk.pem, role: ksk },\n"
            "        { file: zsk1.pem, role: zsk, active: %s },\n"
            "        { file: zsk2.pem, role: zsk, active: %s }]"
            % ("true" if zsk1_active else "false",
               "false" if zsk1_active else "true"))


def keys_config(workdir, port, bport, keys):
    """CONFIG with the zone's dnssec keys (YAML) instead of key_file."""
    return CONFIG.format(dir=workdir, port=port, bport=bport,
                         key="KEY").replace("key_file: KEY", keys)


def start_keys(haven, workdir, bport, names, keys):
    """haven serving ZONE signed with new keys names and dnssec keys."""
    with open(os.path.join(str(workdir), "example.com.zone"), "w") as f:
        f.write(ZONE)
    for k in names:
        genkey(workdir / (k + ".pem"))
    port = free_dns_port()
    h = haven(keys_config(workdir, port, bport, keys))
    h.port = port
    wait_until(lambda: ask(h, "web.example.com", "A").answer != [],
               timeout=10, what="zone answered",
               ignore=(OSError, dns.exception.Timeout))
    return h


def sig_tags(r, name, rdtype):
    """Key tags of the RRSIGs over name/rdtype in r's answer."""
    return sorted(rd.key_tag for rrset in r.answer
                  if rrset.rdtype == dns.rdatatype.RRSIG and
                  rrset.covers == dns.rdatatype.from_text(rdtype) and
                  rrset.name == dns.name.from_text(name + ".")
                  for rd in rrset)


def test_zsk_rollover(haven, haven_bin, workdir, site):
    """A pre-publish ZSK rollover (RFC 6781 §4.1.1.1) with a KSK: every
    key is in the DNSKEY RRset, the KSK alone signs it, the active ZSK
    the data; making the pre-published ZSK active and reloading moves
    the data's signatures to it, and a validating unbound anchored on
    the KSK's DS (from `haven check`) keeps answering with AD across."""
    h = start_keys(haven, workdir, site, ("ksk", "zsk1", "zsk2"),
                   zsk_keys(True))
    r = ask(h, "example.com", "DNSKEY")
    keys = r.find_rrset(r.answer, APEX, dns.rdataclass.IN,
                        dns.rdatatype.DNSKEY)
    assert sorted(k.flags for k in keys) == [256, 256, 257]
    tag = {k.flags: dns.dnssec.key_id(k) for k in keys if k.flags == 257}
    ksk = tag[257]
    zsks = sorted(dns.dnssec.key_id(k) for k in keys if k.flags == 256)
    assert sig_tags(r, "example.com", "DNSKEY") == [ksk]
    dns.dnssec.validate(keys, r.find_rrset(
        r.answer, APEX, dns.rdataclass.IN, dns.rdatatype.RRSIG,
        dns.rdatatype.DNSKEY), {APEX: keys})
    first = sig_tags(ask(h, "web.example.com", "A"), "web.example.com", "A")
    assert len(first) == 1 and first[0] in zsks and first[0] != ksk
    validate_section(ask(h, "web.example.com", "A").answer, keys)

    p = subprocess.run([haven_bin, "check", "-c", h.config],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    printed = [ln for ln in p.stdout.splitlines() if " IN DS " in ln]
    assert len(printed) == 1 and printed[0].split()[3] == str(ksk), p.stdout
    u = unbound(workdir, h.port, printed[0].replace(" IN ", " "), "roll")
    try:
        r = resolve(u, "web.example.com", "A")
        assert r.flags & dns.flags.AD, r
        # The roll: zsk2 signs now, zsk1 stays published.
        with open(h.config, "w") as f:
            f.write(keys_config(workdir, h.port, site, zsk_keys(False)))
        assert h.api("POST", "/v1/reload").status == 200

        def rolled():
            return sig_tags(ask(h, "mail.example.com", "A"),
                            "mail.example.com", "A") != first
        wait_until(rolled, timeout=5, what="data signed by the new ZSK")
        second = sig_tags(ask(h, "mail.example.com", "A"),
                          "mail.example.com", "A")
        assert len(second) == 1 and second[0] in zsks
        assert second[0] != first[0]
        validate_section(ask(h, "mail.example.com", "A").answer, keys)
        # unbound holds the DNSKEY RRset from before, with zsk2 in it:
        # a name it has not seen validates at once.
        r = resolve(u, "mail.example.com", "A")
        assert r.flags & dns.flags.AD, r
    finally:
        u.kill()
        u.wait()


def test_ksk_double_signature(haven, haven_bin, workdir, site):
    """A KSK rollover's middle step (RFC 6781 §4.1.2): two active KSKs
    both sign the DNSKEY RRset, the data keeps one signature, and
    `haven check` prints a DS for each KSK."""
    h = start_keys(haven, workdir, site, ("ksk1", "ksk2", "zsk"),
                   "keys: [{ file: ksk1.pem, role: ksk }, "
                   "{ file: ksk2.pem, role: ksk }, "
                   "{ file: zsk.pem, role: zsk }]")
    r = ask(h, "example.com", "DNSKEY")
    dnskeys = r.find_rrset(r.answer, APEX, dns.rdataclass.IN,
                           dns.rdatatype.DNSKEY)
    ksks = sorted(dns.dnssec.key_id(k) for k in dnskeys if k.flags == 257)
    assert len(ksks) == 2
    assert sig_tags(r, "example.com", "DNSKEY") == ksks
    sigs = r.find_rrset(r.answer, APEX, dns.rdataclass.IN,
                        dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
    for rd in sigs:  # each signature alone validates the set
        one = dns.rrset.from_rdata(APEX, sigs.ttl, rd)
        dns.dnssec.validate(dnskeys, one, {APEX: dnskeys})
    assert len(sig_tags(ask(h, "web.example.com", "A"),
                        "web.example.com", "A")) == 1
    p = subprocess.run([haven_bin, "check", "-c", h.config],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    printed = sorted(int(ln.split()[3]) for ln in p.stdout.splitlines()
                     if " IN DS " in ln)
    assert printed == ksks, p.stdout
