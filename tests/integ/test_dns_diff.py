"""test_dns_diff - haven's answers against NSD's for the same zone file.

The zone below is served by a real NSD 4 (Debian's nsd, started here in
the foreground on a free loopback port, with its files in the test's
directory) and by haven; about 170 queries (names x types: apex, plain
names, CNAME and a CNAME chain, wildcards at one and two labels below
their owner, the wildcard's own parent, an empty non-terminal and the
name below it, a delegation, its glue name and a name below it, SRV,
NXDOMAIN, a query in upper case) go to both with EDNS 1232 and RD clear,
and every section is compared after sorting RRsets.

NSD runs with minimal-responses: yes (no NS RRset in the authority of
positive answers, no additional data beyond what a referral needs). Two
differences are allowed and normalised, both permitted by the RFCs:

  - additional data: haven adds the addresses of the names an MX or SRV
    answer points to (RFC 1035 §3.3.9, RFC 2782), which minimal NSD
    leaves out; those records are removed from haven's additional
    section before comparing, and nothing else may differ there;
  - ANY: both answer with one RRset of the name (RFC 8482 §4.2), but each
    picks its own; haven's must be one of the RRsets NSD returns for that
    name under a specific type, with the same rcode and AA.

TTLs must be equal, including the SOA's negative TTL in authority.
Skipped, never passed, without nsd or dnspython.
"""

import os
import shutil
import subprocess

import pytest

dns = pytest.importorskip("dns")
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rdatatype  # noqa: E402

from havenlib.configs import BASE  # noqa: E402
from havenlib.poll import wait_until  # noqa: E402
from test_dns_server import free_dns_port  # noqa: E402

NSD = shutil.which("nsd") or "/usr/sbin/nsd"

ZONE = """\
$ORIGIN example.com.
$TTL 300
@       IN SOA  ns1 hostmaster 2026120601 3600 600 604800 60
        IN NS   ns1
        IN NS   ns2
        IN MX   10 mail
        IN TXT  "v=spf1 mx -all"
        IN CAA  0 issue "letsencrypt.org"
ns1     IN A    198.18.0.53
        IN AAAA 2001:db8::53
ns2     IN A    198.18.1.53
mail    IN A    198.18.0.25
api     IN A    198.18.0.80
        IN A    198.18.0.81
        IN AAAA 2001:db8::80
alias   IN CNAME api
chain   IN CNAME alias
*.apps  IN A    198.18.0.90
        IN TXT  "wildcard"
deep.ent IN A   198.18.0.91
sub     IN NS   ns.sub
ns.sub  IN A    198.18.2.53
_sip._udp IN SRV 10 60 5060 sip
sip     IN A    198.18.0.60
"""

NAMES = ["example.com", "api.example.com", "alias.example.com",
         "chain.example.com", "x.apps.example.com", "a.b.apps.example.com",
         "apps.example.com", "ent.example.com", "deep.ent.example.com",
         "host.sub.example.com", "sub.example.com", "ns.sub.example.com",
         "nope.example.com", "_sip._udp.example.com", "mail.example.com",
         "EXAMPLE.COM", "ns1.example.com"]
TYPES = ["A", "AAAA", "MX", "NS", "SOA", "TXT", "CNAME", "SRV", "CAA",
         "ANY"]

NSD_CONF = """\
server:
  ip-address: 127.0.0.1@{port}
  port: {port}
  zonesdir: {dir}
  database: ""
  pidfile: {dir}/nsd.pid
  username: ""
  chroot: ""
  xfrdfile: {dir}/xfrd.state
  zonelistfile: {dir}/zone.list
  logfile: {dir}/nsd.log
  verbosity: 1
  hide-version: yes
  server-count: 1
  minimal-responses: yes
remote-control:
  control-enable: no
zone:
  name: example.com
  zonefile: example.com.zone
"""

CONFIG = BASE + """\
dns:
  listen: ["127.0.0.1:{port}"]
  zones: [{{ name: example.com, file: example.com.zone }}]
"""


def ask(port, name, rdtype):
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    q.flags &= ~dns.flags.RD
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=2)


def norm(section):
    return sorted((r.name.to_text().lower(), dns.rdatatype.to_text(r.rdtype),
                   r.ttl, sorted(x.to_text() for x in r)) for r in section)


def targets(answer):
    """Names an MX or SRV answer points to, lower case."""
    out = set()
    for rrset in answer:
        for rd in rrset:
            if rrset.rdtype in (dns.rdatatype.MX, dns.rdatatype.SRV):
                name = rd.exchange if rrset.rdtype == dns.rdatatype.MX \
                    else rd.target
                out.add(name.to_text().lower())
    return out


@pytest.fixture
def servers(haven, procs, workdir):
    if not os.path.exists(NSD):
        pytest.skip("nsd not installed (Debian package nsd)")
    d = str(workdir)
    with open(os.path.join(d, "example.com.zone"), "w") as f:
        f.write(ZONE)
    nport, hport = free_dns_port(), free_dns_port()
    with open(os.path.join(d, "nsd.conf"), "w") as f:
        f.write(NSD_CONF.format(port=nport, dir=d))
    procs.start([NSD, "-d", "-c", os.path.join(d, "nsd.conf")], name="nsd")
    haven(CONFIG.format(dir=workdir, port=hport))
    for port in (nport, hport):
        wait_until(lambda: ask(port, "example.com", "SOA").rcode() == 0,
                   timeout=10, ignore=(OSError, dns.exception.Timeout),
                   what="dns on %d" % port)
    return nport, hport


def test_same_answers_as_nsd(servers):
    nport, hport = servers
    diffs = []
    by_name = {}
    anys = []
    for name in NAMES:
        for t in TYPES:
            a, b = ask(nport, name, t), ask(hport, name, t)
            if t == "ANY":
                anys.append((name, a, b))
                continue
            by_name.setdefault(name.lower(), []).extend(norm(a.answer))
            extra = targets(b.answer)
            ours_add = [r for r in norm(b.additional)
                        if not (r[0] in extra and r[1] in ("A", "AAAA"))]
            for what, x, y in (
                    ("rcode", a.rcode(), b.rcode()),
                    ("aa", bool(a.flags & dns.flags.AA),
                     bool(b.flags & dns.flags.AA)),
                    ("tc", bool(a.flags & dns.flags.TC),
                     bool(b.flags & dns.flags.TC)),
                    ("answer", norm(a.answer), norm(b.answer)),
                    ("authority", norm(a.authority), norm(b.authority)),
                    ("additional", norm(a.additional), ours_add)):
                if x != y:
                    diffs.append("%s %s %s:\n  nsd   %r\n  haven %r" % (
                        name, t, what, x, y))
    for name, a, b in anys:
        if (a.rcode(), bool(a.flags & dns.flags.AA)) != \
                (b.rcode(), bool(b.flags & dns.flags.AA)):
            diffs.append("%s ANY rcode/aa: nsd %s haven %s" % (
                name, a.rcode(), b.rcode()))
        ours = norm(b.answer)
        if len(ours) > 1 or any(r not in by_name.get(name.lower(), [])
                                for r in ours):
            diffs.append("%s ANY: haven %r not one RRset of the name" % (
                name, ours))
        if norm(a.authority) != norm(b.authority):
            diffs.append("%s ANY authority:\n  nsd   %r\n  haven %r" % (
                name, norm(a.authority), norm(b.authority)))
    assert not diffs, "\n".join(diffs)
    assert len(NAMES) * len(TYPES) >= 150
