"""test_dns_zone_diff - haven's zone-file parser against NSD's.

The same zone files go through `nsd-checkzone -p` (NSD 4, Debian's nsd
package: it parses the zone and prints it back) and through haven's
parser (`test_dns_zone --dump ORIGIN FILE`, which prints each record as
owner, TTL, class, type and RDATA in hex). Both become sets of dnspython
records: NSD's printout read by dns.zone.from_text, ours by
dns.rdata.from_wire on the RDATA bytes. The sets must be equal; dnspython
compares names case-insensitively and RDATA in DNSSEC canonical form, as a
server's answers would be compared.

Zones that NSD rejects must be rejected by haven too, and the other way
round. Skipped, never passed, without nsd-checkzone or dnspython.

Where the two differ by design the zones here stay clear of it: NSD
wants an absolute name after $ORIGIN, which RFC 1035 §5.1 does not ask
(haven takes a relative one relative to the current origin), and NSD
warns about TTLs that differ within an RRset (RFC 2181 §5.2), which the
parser leaves to the table builder.
"""

import os
import shutil
import subprocess

import pytest

dns = pytest.importorskip("dns")
import dns.name  # noqa: E402
import dns.rdata  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.zone  # noqa: E402

from havenlib.haven import REPO  # noqa: E402

NSD_CHECKZONE = shutil.which("nsd-checkzone") or "/usr/sbin/nsd-checkzone"

ORIGIN = "example."

# One construct per line where possible: directives, relative and absolute
# names, '@', omitted owner/TTL/class, TTL units, parentheses over lines,
# comments, quoted strings with escapes, escaped names, each type with a
# text form, RFC 3597 generic RDATA, $INCLUDE with and without an origin.
EVERY = r"""; every construct once
$TTL 1h
@	IN SOA ns1 hostmaster.Example. ( 2026120601 ; serial
		2h 1H 2w
		300 )
	NS ns1
	NS ns2.example.
ns1 IN 3600 A 198.18.0.1
ns2 A 198.18.0.2
  AAAA fd00:198:18::2
www 60 CNAME web
web IN A 198.18.0.3 ; comment
WeB2 in a 198.18.0.33
mail MX 10 web
mail MX 20 mail.other.
txt TXT "a b" plain "q\"uote" "\065\;" ""
txt TXT "semi;colon" "paren(" "tab\009"
_sip._tcp SRV 0 5 5060 web
@ CAA 0 issue "ca.example; account=1"
@ CAA 128 tbs "unknown critical"
1.0 PTR web.example.
esc\.dot A 198.18.0.4
\@\032x A 198.18.0.5
gen TYPE65280 \# 3 abcd ef
gen2 A \# 4 C6120006
empty TYPE65281 \# 0
dn DNAME other.example.
long ( TXT "multi"
   "line" )
$ORIGIN sub.example.
a A 198.18.0.7
$INCLUDE inc.zone
b A 198.18.0.8
$INCLUDE inc.zone other.sub.example.
c 1w2d A 198.18.0.9
"""

INC = r"""host A 198.18.1.1
host TXT "in inc"
$ORIGIN deeper.example.
x A 198.18.1.2
"""

# Each of these is broken for both parsers.
BAD = {
    "bad_ipv4": "a A 198.18.0.256\n",
    "bad_ipv6": "a AAAA 198.18.0.1\n",
    "unknown_type": "a FOO 1\n",
    "extra_field": "a A 198.18.0.1 extra\n",
    "unterminated": 'a TXT "open\n',
    "paren_close": "a A 198.18.0.1 )\n",
    "long_label": "a" * 64 + " A 198.18.0.1\n",
    "generic_a": "a TYPE1 \\# 3 c61200\n",
    "empty_label": "a..b A 198.18.0.1\n",
    "srv_short": "a SRV 1 2 3\n",
    "out_of_zone": "a.other. A 198.18.0.1\n",
}

# Broken too, but NSD 4.6.1 takes them: it wraps an MX preference of 70000
# to 4464, reads "\256" as the text "256" with a warning, stores 2 bytes
# for "\# 3 abcd", and closes a parenthesis left open at the end of the
# file. haven refuses each (RFC 1035 §3.3.9 16-bit field, RFC 1035 §5.1
# octet escapes, RFC 3597 §5 "the length ... must match", RFC 1035 §5.1
# parentheses group lines), so only its side is asserted.
NSD_LAX = {
    "mx_range": "a MX 70000 web\n",
    "bad_escape": "a TXT \"\\256\"\n",
    "generic_short": "a TYPE65280 \\# 3 abcd\n",
    "paren_open": "a A ( 198.18.0.1\n",
}

HEAD = "$TTL 300\n@ SOA ns1 hm 1 2 3 4 5\n@ NS ns1\nns1 A 198.18.0.1\n"


def _build():
    build = os.environ.get("HAVEN_BUILD")
    if not build and os.environ.get("HAVEN_BIN"):
        build = os.path.dirname(os.environ["HAVEN_BIN"])
    return build or os.path.join(REPO, "build")


@pytest.fixture
def tools():
    if not os.access(NSD_CHECKZONE, os.X_OK):
        pytest.skip("nsd-checkzone not installed (Debian package nsd)")
    dump = os.path.join(_build(), "tests", "test_dns_zone")
    assert os.access(dump, os.X_OK), "%s not built" % dump
    return dump


def nsd_records(path, cwd):
    p = subprocess.run([NSD_CHECKZONE, "-p", ORIGIN, path], cwd=cwd,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    z = dns.zone.from_text(p.stdout, origin=ORIGIN, relativize=False,
                           check_origin=False)
    recs = set()
    for name, rds in z.iterate_rdatasets():
        for rd in rds:
            recs.add((name, rds.ttl, rds.rdclass, rds.rdtype, rd))
    return recs


def haven_records(dump, path, cwd):
    p = subprocess.run([dump, "--dump", ORIGIN, path], cwd=cwd,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    recs = set()
    for line in p.stdout.splitlines():
        owner, ttl, cls, typ, *hexdata = line.split(" ")
        wire = bytes.fromhex(hexdata[0] if hexdata else "")
        rd = dns.rdata.from_wire(cls and int(cls), int(typ), wire, 0,
                                 len(wire))
        recs.add((dns.name.from_text(owner), int(ttl), int(cls), int(typ),
                  rd))
    return recs


def test_every_construct_same_records(tools, tmp_path):
    (tmp_path / "every.zone").write_text(EVERY)
    (tmp_path / "inc.zone").write_text(INC)
    ours = haven_records(tools, "every.zone", tmp_path)
    theirs = nsd_records("every.zone", tmp_path)
    # 33 records, x.deeper.example. twice (both includes make it).
    assert len(ours) == 32
    assert ours - theirs == set() and theirs - ours == set(), (
        "only haven: %s\nonly nsd: %s" % (ours - theirs, theirs - ours))


def nsd_refuses(path, cwd):
    """NSD refuses a record by failing the zone or by leaving the record
    out: either way the record "a" must not be served."""
    p = subprocess.run([NSD_CHECKZONE, "-p", ORIGIN, path], cwd=cwd,
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return True
    z = dns.zone.from_text(p.stdout, origin=ORIGIN, relativize=False,
                           check_origin=False)
    return dns.name.from_text("a." + ORIGIN) not in z.nodes


@pytest.mark.parametrize("name", sorted(BAD))
def test_both_reject(tools, tmp_path, name):
    f = tmp_path / (name + ".zone")
    f.write_text(HEAD + BAD[name])
    ours = subprocess.run([tools, "--dump", ORIGIN, str(f)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=30)
    assert nsd_refuses(str(f), tmp_path), "nsd accepted it"
    assert ours.returncode == 1, "haven accepted it: " + ours.stdout
    assert "a.example." not in ours.stdout
    # Our message names the line: the one after HEAD's four.
    assert "%s:5:" % f in ours.stderr, ours.stderr


@pytest.mark.parametrize("name", sorted(NSD_LAX))
def test_haven_rejects_what_nsd_takes(tools, tmp_path, name):
    f = tmp_path / (name + ".zone")
    f.write_text(HEAD + NSD_LAX[name])
    ours = subprocess.run([tools, "--dump", ORIGIN, str(f)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=30)
    assert ours.returncode == 1, "haven accepted it: " + ours.stdout
    assert "a.example." not in ours.stdout
    assert "%s:5:" % f in ours.stderr, ours.stderr
