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

Skipped, never passed, without dnspython or knotd.
"""

import os
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
  zones:
{zones}  catalogs:
    - name: {catalog}
      members: all
      allow_transfer: ["127.0.0.0/8"]
      notify: ["127.0.0.1:{knot}"]
"""

SERIALS = {"example.com": 11, "example.net": 22, "example.org": 33}


def write_config(workdir, port, knot, names):
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


def test_knot_follows_catalog(haven, workdir, knot_catalog):
    kport, hport = free_dns_port(), free_dns_port()
    h = haven(write_config(workdir, hport, kport,
                           ["example.com", "example.net"]))
    wait_until(lambda: soa(hport, CATALOG)[1] is not None, timeout=10,
               what="haven serves the catalog")
    serial1 = soa(hport, CATALOG)[1]
    assert members(hport) == {"example.com", "example.net"}

    k = knot_catalog(hport, kport)
    try:
        for n in ("example.com", "example.net"):
            wait_until(lambda: serves(kport, n), timeout=20,
                       what="knot serves %s from the catalog" % n)
        assert soa(kport, "example.org")[0] == dns.rcode.REFUSED

        # A third zone: the catalog's serial rises, and its NOTIFY
        # brings Knot the new member (the catalog's refresh is 600 s).
        write_config(workdir, hport, kport,
                     ["example.com", "example.net", "example.org"])
        r = h.api("POST", "/v1/reload")
        assert r.status == 200, r
        wait_until(lambda: (soa(hport, CATALOG)[1] or 0) > serial1,
                   timeout=10, what="the catalog's serial rises")
        serial2 = soa(hport, CATALOG)[1]
        wait_until(lambda: serves(kport, "example.org"), timeout=20,
                   what="knot serves example.org after the NOTIFY")

        # One removed: Knot drops it and keeps the others.
        write_config(workdir, hport, kport, ["example.com", "example.org"])
        r = h.api("POST", "/v1/reload")
        assert r.status == 200, r
        wait_until(lambda: (soa(hport, CATALOG)[1] or 0) > serial2,
                   timeout=10, what="the catalog's serial rises again")
        serial3 = soa(hport, CATALOG)[1]
        wait_until(
            lambda: soa(kport, "example.net")[0] == dns.rcode.REFUSED,
            timeout=20, what="knot drops example.net")
        assert serves(kport, "example.com")
        assert serves(kport, "example.org")
        assert members(hport) == {"example.com", "example.org"}

        # A reload that changes no member keeps the serial.
        r = h.api("POST", "/v1/reload")
        assert r.status == 200, r
        assert soa(hport, CATALOG)[1] == serial3
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
