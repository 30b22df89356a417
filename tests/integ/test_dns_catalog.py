"""test_dns_catalog - haven publishes a catalog zone (RFC 9432) and Knot,
told of nothing but the catalog, serves every zone it lists.

haven is the primary of example.com and example.net and publishes
catalog.invalid (members: all), NOTIFYing Knot when it changes. Knot
(Debian's knotd 3.2) has one zone in its config: catalog.invalid, with
catalog-role: interpret and a template that transfers members from
haven. Then:

* Knot serves both members with haven's serials (it transferred them);
* example.org is added to haven's config and haven reloads: the catalog's
  serial rises, its NOTIFY makes Knot refresh the catalog (IXFR), and Knot
  starts serving example.org;
* example.net is removed: Knot stops serving it (REFUSED), the other two
  stay;
* haven restarts with the same config: the catalog's serial does not
  change (it is kept in the state directory), so Knot has nothing to do.

BIND 9.18 (catalog-zones) follows the same catalog too: it serves the
members and one added by a reload.

Skipped, never passed, without dnspython, knotd or named.
"""

import os
import shutil
import time

import pytest

dns = pytest.importorskip("dns")
import dns.exception  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

from havenlib import knot as hknot  # noqa: E402
from havenlib.configs import BASE  # noqa: E402
from havenlib.poll import wait_until  # noqa: E402
from test_dns_server import free_dns_port  # noqa: E402

CATALOG = "catalog.invalid"

ZONE = """\
$ORIGIN {name}.
$TTL 300
@       IN SOA ns1 hostmaster {serial} 3600 600 604800 60
        IN NS  ns1
ns1     IN A   198.18.0.53
www     IN A   198.18.0.80
"""

CONFIG = BASE + """\
dns:
  listen: ["127.0.0.1:{port}"]
  workers: {workers}
  zones:
{zones}  catalogs:
    - name: {catalog}
      members: all
      allow_transfer: ["127.0.0.0/8"]
      notify: ["127.0.0.1:{knot}"]
"""

SERIALS = {"example.com": 11, "example.net": 22, "example.org": 33}


def write_config(workdir, port, knot, names, workers=1):
    zones = ""
    for n in names:
        path = os.path.join(str(workdir), n + ".zone")
        with open(path, "w") as f:
            f.write(ZONE.format(name=n, serial=SERIALS[n]))
        zones += ('    - { name: %s, file: %s.zone, '
                  'allow_transfer: ["127.0.0.0/8"] }\n' % (n, n))
    cfg = os.path.join(str(workdir), "haven.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(dir=workdir, port=port, knot=knot,
                              workers=workers,
                              catalog=CATALOG, zones=zones))
    return cfg


def soa(port, name):
    """(rcode, serial or None) of name's SOA at 127.0.0.1:port."""
    q = dns.message.make_query(name, "SOA")
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1)
    except dns.exception.Timeout:
        return None, None
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return r.rcode(), None
    return r.rcode(), r.answer[0][0].serial


def serves(port, name):
    return soa(port, name)[1] == SERIALS[name]


def one_serial(port):
    """The catalog's serial, asked enough times to reach every worker
    (SO_REUSEPORT spreads the queries): they must all agree."""
    got = {soa(port, CATALOG)[1] for _ in range(16)}
    assert len(got) == 1 and None not in got, got
    return got.pop()


def members(port):
    """The PTR targets under zones.<catalog>, by AXFR from port."""
    z = dns.query.xfr("127.0.0.1", CATALOG, port=port, timeout=5)
    out = set()
    for m in z:
        for rrset in m.answer:
            if rrset.rdtype == dns.rdatatype.PTR:
                out |= {str(rr.target).rstrip(".") for rr in rrset}
    return out


@pytest.fixture
def knot_catalog(tmp_path):
    started = []

    def run(primary, port):
        p = hknot.start_catalog_consumer(str(tmp_path / "knot"), port,
                                         primary)
        started.append(p)
        return p

    yield run
    for p in started:
        hknot.stop(p)


# Two workers load each config at once and must agree on the catalog's
# serial (the NOTIFY waits until every worker serves it).
@pytest.mark.parametrize("workers", [1, 2])
def test_knot_follows_catalog(haven, workdir, knot_catalog, workers):
    kport, hport = free_dns_port(), free_dns_port()

    def config(names):
        return write_config(workdir, hport, kport, names, workers)

    h = haven(config(["example.com", "example.net"]))
    wait_until(lambda: soa(hport, CATALOG)[1] is not None, timeout=10,
               what="haven serves the catalog")
    serial1 = one_serial(hport)
    assert members(hport) == {"example.com", "example.net"}

    k = knot_catalog(hport, kport)
    try:
        for n in ("example.com", "example.net"):
            wait_until(lambda: serves(kport, n), timeout=20,
                       what="knot serves %s from the catalog" % n)
        assert soa(kport, "example.org")[0] == dns.rcode.REFUSED

        # A third zone: the catalog's serial rises, and its NOTIFY
        # brings Knot the new member (the catalog's refresh is 600 s).
        # A reload answers once every worker has applied it.
        config(["example.com", "example.net", "example.org"])
        t0 = time.monotonic()
        r = h.api("POST", "/v1/reload")
        assert r.status == 200, r
        serial2 = one_serial(hport)
        assert serial2 > serial1
        wait_until(lambda: serves(kport, "example.org"), timeout=20,
                   what="knot serves example.org after the NOTIFY")
        took = time.monotonic() - t0
        print("added member served by knot after %.2f s" % took)
        assert took < 10  # the catalog's refresh is 600 s: NOTIFY did it

        # One removed: Knot drops it and keeps the others.
        config(["example.com", "example.org"])
        t0 = time.monotonic()
        r = h.api("POST", "/v1/reload")
        assert r.status == 200, r
        serial3 = one_serial(hport)
        assert serial3 > serial2
        wait_until(
            lambda: soa(kport, "example.net")[0] == dns.rcode.REFUSED,
            timeout=20, what="knot drops example.net")
        print("removed member dropped by knot after %.2f s"
              % (time.monotonic() - t0))
        assert serves(kport, "example.com")
        assert serves(kport, "example.org")
        assert members(hport) == {"example.com", "example.org"}

        # A reload that changes no member keeps the serial.
        r = h.api("POST", "/v1/reload")
        assert r.status == 200, r
        assert one_serial(hport) == serial3
    finally:
        if os.path.exists(k.log):
            print(open(k.log).read()[-3000:])


def test_serial_kept_across_restart(haven, workdir):
    hport = free_dns_port()
    cfg = write_config(workdir, hport, 9, ["example.com"])
    h = haven(cfg)
    wait_until(lambda: soa(hport, CATALOG)[1] is not None, timeout=10,
               what="haven serves the catalog")
    serial = soa(hport, CATALOG)[1]
    # A serial taken from the clock again would differ once a second has
    # passed since the first load: let it pass.
    wait_until(lambda: time.time() >= serial + 1.2, timeout=5,
               what="a second past the first serial")
    h.stop()
    h = haven(cfg)
    wait_until(lambda: soa(hport, CATALOG)[1] is not None, timeout=10,
               what="haven serves the catalog again")
    assert soa(hport, CATALOG)[1] == serial


NAMED = shutil.which("named") or "/usr/sbin/named"

NAMED_CONF = """\
options {{
  directory "{d}";
  listen-on port {port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  pid-file "{d}/named.pid";
  recursion no;
  dnssec-validation no;
  allow-new-zones yes;
  catalog-zones {{
    zone "{catalog}" default-primaries {{ 127.0.0.1 port {primary}; }}
      in-memory yes min-update-interval 1;
  }};
}};
zone "{catalog}" {{
  type secondary;
  file "{d}/catalog.db";
  primaries {{ 127.0.0.1 port {primary}; }};
}};
"""


def test_bind_follows_catalog(haven, workdir, procs):
    """BIND 9.18, told of the catalog alone (catalog-zones), serves the
    members and, after haven's reload and NOTIFY, a member added."""
    if not os.access(NAMED, os.X_OK):
        pytest.skip("named not installed (Debian package bind9)")
    bport, hport = free_dns_port(), free_dns_port()
    h = haven(write_config(workdir, hport, bport,
                           ["example.com", "example.net"]))
    d = workdir / "bind"
    d.mkdir()
    (d / "named.conf").write_text(NAMED_CONF.format(
        d=d, port=bport, primary=hport, catalog=CATALOG))
    p = procs.start([NAMED, "-g", "-u", "root", "-c", d / "named.conf"],
                    name="named")
    for n in ("example.com", "example.net"):
        wait_until(lambda: serves(bport, n), timeout=20,
                   what="BIND serves %s from the catalog" % n,
                   ignore=(OSError,))
    write_config(workdir, hport, bport,
                 ["example.com", "example.net", "example.org"])
    assert h.api("POST", "/v1/reload").status == 200
    wait_until(lambda: serves(bport, "example.org"), timeout=20,
               what="BIND serves example.org after the NOTIFY",
               ignore=(OSError,))
    assert "catz: adding zone 'example.org'" in p.log_text(), p.log_tail()
