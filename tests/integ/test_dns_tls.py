"""test_dns_tls - DNS over TLS on the dns plane: zone transfers (XoT, RFC
9103) and queries (DoT, RFC 7858) on dns.tls.listen.

* kdig (Knot's dig, GnuTLS) asks over TLS, pinned to haven's certificate:
  the answer is the plain one, and an AXFR over TLS is record for record
  the AXFR over plain TCP (several messages, the zone is large);
* Python's ssl (OpenSSL) checks the rules: TLS 1.3 only (a TLS 1.2-only
  client fails), ALPN "dot" chosen when offered, a client offering only
  another protocol refused, one offering none served; pipelined queries
  on one connection all answered;
* the connections are counted (haven_dns_tls_accepted_total), and the
  plain listen address is not TLS;
* `haven check` reports a certificate that does not match its key at the
  cert line;
* BIND 9.18, whose only address for the primary is haven's TLS port,
  transfers the zone over XoT and serves it;
* transfer_tls_only refuses the plain AXFR and serves the TLS one.

Skipped, never passed, without dnspython or kdig.
"""

import base64
import hashlib
import os
import shutil
import socket
import ssl
import struct
import subprocess

import pytest

dns = pytest.importorskip("dns")
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.xfr  # noqa: E402
import dns.zone  # noqa: E402

from havenlib.configs import BASE  # noqa: E402
from havenlib.poll import wait_until  # noqa: E402
from test_dns_server import free_dns_port  # noqa: E402
from test_dns_xfr import zone_text  # noqa: E402

KDIG = shutil.which("kdig") or "/usr/bin/kdig"

CONFIG = BASE + """\
dns:
  listen: ["127.0.0.1:{port}"]
  tls: {{ listen: ["127.0.0.1:{tport}"], cert: {cert}, key: {key} }}
  zones:
    - {{ name: example.com, file: z.zone, allow_transfer: ["127.0.0.0/8"] }}
"""


def make_cert(workdir, name):
    """A self-signed EC certificate and key: (cert path, key path)."""
    cert, key = workdir / (name + ".crt"), workdir / (name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2",
                    "-subj", "/CN=ns1.example.com",
                    "-addext", "subjectAltName=DNS:ns1.example.com"],
                   check=True, capture_output=True)
    os.chmod(key, 0o644)  # the dns workers (haven.user) read it
    return cert, key


def pin(cert):
    """The base64 SHA-256 of the certificate's public key (kdig's pin)."""
    der = subprocess.run(["openssl", "x509", "-in", str(cert), "-pubkey",
                          "-noout"], check=True, capture_output=True).stdout
    spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"],
                          input=der, check=True, capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture
def server(haven, workdir):
    if not os.access(KDIG, os.X_OK):
        pytest.skip("kdig not installed (Debian package knot-dnsutils)")
    with open(os.path.join(str(workdir), "z.zone"), "w") as f:
        f.write(zone_text(7))
    cert, key = make_cert(workdir, "ns1")
    port, tport = free_dns_port(), free_dns_port()
    h = haven(CONFIG.format(dir=workdir, port=port, tport=tport,
                            cert=cert, key=key))
    h.port, h.tport, h.cert = port, tport, cert

    def answers():
        q = dns.message.make_query("example.com", "SOA")
        return dns.query.udp(q, "127.0.0.1", port=port,
                             timeout=1).rcode() == 0
    wait_until(answers, timeout=10, what="dns answers",
               ignore=(OSError, dns.exception.Timeout))
    return h


def kdig(h, *args, tls=True):
    cmd = [KDIG, "@127.0.0.1", "-p", str(h.tport if tls else h.port),
           "+noall", "+answer", "+nocrypto", "+time=3", "+retry=0"]
    if tls:
        cmd.append("+tls-pin=" + pin(h.cert))
    p = subprocess.run(cmd + list(args), capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr + p.stdout
    return sorted(ln.split(None, 4)[0::3] + [ln.split(None, 4)[4]]
                  for ln in p.stdout.splitlines()
                  if ln and not ln.startswith(";"))


def ctx(alpn=("dot",), maxv=None):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    if alpn:
        c.set_alpn_protocols(list(alpn))
    if maxv is not None:
        c.maximum_version = maxv
    return c


def test_kdig_query_and_axfr_over_tls(server):
    h = server
    assert kdig(h, "www.example.com", "A") == kdig(
        h, "www.example.com", "A", tls=False) != []
    tls = kdig(h, "-t", "AXFR", "example.com")
    plain = kdig(h, "-t", "AXFR", "example.com", "+tcp", tls=False)
    assert len(tls) > 1500 and tls == plain
    assert h.metric("haven_dns_tls_accepted_total") >= 2
    # A wrong pin: kdig refuses haven's certificate, so it is checked.
    p = subprocess.run([KDIG, "@127.0.0.1", "-p", str(h.tport),
                        "+tls-pin=" + base64.b64encode(b"x" * 32).decode(),
                        "+time=2", "+retry=0", "www.example.com"],
                       capture_output=True, text=True, timeout=30)
    assert "NOERROR" not in p.stdout


def test_tls_rules(server):
    h = server
    q = dns.message.make_query("www.example.com", "A")
    for alpn in (("dot",), ()):
        c = ctx(alpn)
        with socket.create_connection(("127.0.0.1", h.tport), 5) as raw:
            with c.wrap_socket(raw) as s:
                assert s.version() == "TLSv1.3"
                assert s.selected_alpn_protocol() == (
                    "dot" if alpn else None)
                r = dns.query.tls(q, "127.0.0.1", port=h.tport, sock=s,
                                  timeout=5)
                assert r.rcode() == dns.rcode.NOERROR and r.answer
    # Only another protocol offered, or TLS 1.2 at most: no handshake.
    for c in (ctx(("h2",)), ctx(maxv=ssl.TLSVersion.TLSv1_2)):
        with socket.create_connection(("127.0.0.1", h.tport), 5) as raw:
            with pytest.raises(ssl.SSLError):
                c.wrap_socket(raw)
    # Pipelined: three queries written at once, three answers.
    with socket.create_connection(("127.0.0.1", h.tport), 5) as raw:
        with ctx().wrap_socket(raw) as s:
            wire = b""
            for i, name in enumerate(("www", "mail", "nope")):
                m = dns.message.make_query(name + ".example.com", "A")
                m.id = 100 + i
                b = m.to_wire()
                wire += struct.pack("!H", len(b)) + b
            s.sendall(wire)
            got = {}
            buf = b""
            while len(got) < 3:
                chunk = s.recv(65536)
                assert chunk, "closed early"
                buf += chunk
                while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(
                        "!H", buf[:2])[0]:
                    n = struct.unpack("!H", buf[:2])[0]
                    m = dns.message.from_wire(buf[2:2 + n])
                    got[m.id] = m.rcode()
                    buf = buf[2 + n:]
            assert got == {100: 0, 101: 0, 102: dns.rcode.NXDOMAIN}
    # The plain address does not speak TLS.
    with socket.create_connection(("127.0.0.1", h.port), 5) as raw:
        raw.settimeout(3)
        with pytest.raises((ssl.SSLError, OSError)):
            ctx().wrap_socket(raw)


def test_check_reports_mismatched_key(haven_bin, workdir):
    with open(os.path.join(str(workdir), "z.zone"), "w") as f:
        f.write(zone_text(1))
    cert, _ = make_cert(workdir, "a")
    _, other = make_cert(workdir, "b")
    cfg = workdir / "haven.yaml"
    cfg.write_text(CONFIG.format(dir=workdir, port=5399, tport=5398,
                                 cert=cert, key=other))
    p = subprocess.run([haven_bin, "check", "-c", str(cfg)],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0
    # At the tls line, with OpenSSL's reason.
    assert "haven.yaml:7:" in p.stderr and "mismatch" in p.stderr, p.stderr


NAMED = shutil.which("named") or "/usr/sbin/named"

NAMED_CONF = """\
options {{
  directory "{d}";
  listen-on port {port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  pid-file "{d}/named.pid";
  recursion no;
  dnssec-validation no;
}};
tls to-haven {{ protocols {{ TLSv1.3; }}; }};
zone "example.com" {{
  type secondary;
  file "{d}/example.com.db";
  primaries {{ 127.0.0.1 port {tport} tls to-haven; }};
}};
"""


def wait_served(port, what):
    """Until the server on port answers for h7.example.com (the zone
    arrived there)."""
    def served():
        q = dns.message.make_query("h7.example.com", "A")
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1)
        return r.rcode() == 0 and r.answer != []
    wait_until(served, timeout=20, what=what,
               ignore=(OSError, dns.exception.Timeout))


def test_bind_secondary_over_xot(server, workdir, procs):
    """BIND 9.18 transfers the zone from haven over TLS alone (haven's
    TLS port is the only primary address it has) and serves it."""
    h = server
    if not os.access(NAMED, os.X_OK):
        pytest.skip("named not installed (Debian package bind9)")
    d = workdir / "bind"
    d.mkdir()
    port = free_dns_port()
    (d / "named.conf").write_text(NAMED_CONF.format(d=d, port=port,
                                                    tport=h.tport))
    before = h.metric("haven_dns_tls_accepted_total")
    p = procs.start([NAMED, "-g", "-u", "root", "-c", d / "named.conf"],
                    name="named")
    wait_served(port, "BIND serves the zone")
    assert "Transfer status: success" in p.log_text(), p.log_tail()
    assert h.metric("haven_dns_tls_accepted_total") > before


def zone_keys(h, more):
    """Add more (YAML keys) to the zone's item in h's config; reload."""
    with open(h.config) as f:
        text = f.read()
    with open(h.config, "w") as f:
        f.write(text.replace('allow_transfer: ["127.0.0.0/8"]',
                             'allow_transfer: ["127.0.0.0/8"], ' + more))
    assert h.api("POST", "/v1/reload").status == 200


def test_transfer_tls_only(server):
    """transfer_tls_only: the zone's AXFR is refused over plain TCP and
    served over TLS; queries are not affected."""
    h = server
    zone_keys(h, "transfer_tls_only: true")

    def refused():
        try:
            dns.zone.from_xfr(dns.query.xfr("127.0.0.1", "example.com",
                                            port=h.port, timeout=5))
        except dns.xfr.TransferError as e:
            return e.rcode == dns.rcode.REFUSED
        return False
    wait_until(refused, timeout=5, what="plain AXFR refused")
    assert len(kdig(h, "-t", "AXFR", "example.com")) > 1500
    assert kdig(h, "www.example.com", "A", tls=False) != []


SECONDARY = """\
haven:
  state_dir: {dir}/state2
api:
  socket: {dir}/haven2.sock
dns:
  listen: ["127.0.0.1:{port}"]
  zones:
    - name: example.com
      primaries: ["127.0.0.1:{tport}"]
      primaries_tls: true
{extra}"""


def test_haven_secondary_over_xot(server, haven, workdir):
    """haven as the secondary of a haven primary whose zone is
    transfer_tls_only: the SOA query and the AXFR go over TLS (UDP is
    never tried), verified against the primary's certificate as CA and
    its name; with a wrong name the refresh a NOTIFY starts fails
    instead of falling back to clear text."""
    h = server
    port = free_dns_port()
    zone_keys(h, 'transfer_tls_only: true, notify: ["127.0.0.1:%d"]' % port)
    before = h.metric("haven_dns_tls_accepted_total")
    extra = ("      primaries_tls_ca: %s\n"
             "      primaries_tls_name: ns1.example.com\n" % h.cert)
    sec = haven(SECONDARY.format(dir=workdir, port=port, tport=h.tport,
                                 extra=extra), name="secondary")
    wait_served(port, "secondary serves the zone")
    assert h.metric("haven_dns_tls_accepted_total") >= before + 2
    assert sec.metric("haven_dns_secondary_refresh_total",
                      result="updated") >= 1

    # The wrong name: the certificate does not verify, nothing moves.
    with open(sec.config, "w") as f:
        f.write(SECONDARY.format(
            dir=workdir, port=port, tport=h.tport,
            extra=extra.replace("ns1.example.com", "ns2.example.com")))
    failed = sec.metric("haven_dns_secondary_refresh_total",
                        result="failed")
    assert sec.api("POST", "/v1/reload").status == 200
    tried = h.metric("haven_dns_tls_accepted_total")
    # A new serial; the primary's NOTIFY makes the secondary try at once.
    with open(os.path.join(str(workdir), "z.zone")) as f:
        z = f.read()
    with open(os.path.join(str(workdir), "z.zone"), "w") as f:
        f.write(z.replace(" 7 3600 600", " 8 3600 600"))
    assert h.api("POST", "/v1/reload").status == 200
    wait_until(lambda: sec.metric("haven_dns_secondary_refresh_total",
                                  result="failed") > failed,
               timeout=20, what="refresh fails on the wrong name")
    assert h.metric("haven_dns_tls_accepted_total") > tried
    q = dns.message.make_query("example.com", "SOA")
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    assert r.answer[0][0].serial == 7
