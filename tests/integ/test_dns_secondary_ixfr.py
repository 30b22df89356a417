"""test_dns_secondary_ixfr - haven as the secondary of Knot, by IXFR.

Knot DNS 3 is the primary of example.com with `zonefile-load: difference`:
each reload of its zone file puts the difference in its journal, so it
answers IXFR incrementally. haven (two workers) is its secondary. We
check, from the outside:

* the first transfer (no copy yet) is an AXFR; after each new serial in
  Knot (records added, deleted, changed), haven asks IXFR from its serial,
  applies the increments (its log and metrics say so, Knot's log says it
  sent IXFR), and then serves exactly what Knot serves, record by record;
* haven journals what it received: `kdig IXFR=<old>` against haven gets
  the increments onward;
* a copy that does not match what Knot's increments assume (a record
  removed from haven's saved copy behind its back) makes the increment
  fail to apply: haven falls back to AXFR and ends up equal to Knot again.

Skipped, never passed, without dnspython, knotd or kdig.
"""

import os

import pytest

dns = pytest.importorskip("dns")

from havenlib.poll import wait_until  # noqa: E402
from test_dns_ixfr import kdig_ixfr, soa_of, steps  # noqa: E402
from test_dns_secondary import knot, serial, soa, start_haven  # noqa: E402,F401
from test_dns_server import free_dns_port  # noqa: E402
from test_dns_xfr import records  # noqa: E402


def difference_mode(k):
    """Knot computes each zone file change into its journal."""
    text = k.conf.read_text()
    text = text.replace('    file: "example.com.zone"\n',
                        '    file: "example.com.zone"\n'
                        '    zonefile-load: difference\n'
                        '    journal-content: changes\n')
    k.conf.write_text(text)


def same_as_knot(hport, kport):
    want, _, _ = records(kport)
    got, _, _ = records(hport)
    return got == want


def forms(h, form):
    return h.metric("haven_dns_secondary_ixfr_total", zone="example.com.",
                    form=form)


def knot_step(hport, k, serial_to, extra):
    """Knot's zone at serial_to with extra records, h7 renamed and www
    changed; reloaded, until haven (every worker) serves the same."""
    k.write_zone(serial_to, extra)
    text = (k.dir / "example.com.zone").read_text()
    text = text.replace("h7 IN A", "h7x IN A").replace(
        "www     IN A    198.18.0.80", "www     IN A    198.18.0.81")
    (k.dir / "example.com.zone").write_text(text)
    k.reload()
    wait_until(lambda: all(serial(hport) == serial_to for _ in range(10)),
               timeout=10, what="haven serves serial %d" % serial_to)
    wait_until(lambda: same_as_knot(hport, k.port), timeout=5,
               what="haven's copy equals Knot's at %d" % serial_to,
               ignore=(OSError, dns.exception.DNSException))


def test_secondary_takes_ixfr_from_knot(haven, workdir, knot):  # noqa: F811
    hport = free_dns_port()
    k = knot(hport)
    difference_mode(k)
    k.write_zone(10)
    k.start()
    h = start_haven(haven, workdir, hport, k.port)
    wait_until(lambda: serial(hport) == 10, timeout=20,
               what="haven transferred serial 10")
    assert same_as_knot(hport, k.port)
    assert forms(h, "incremental") == 0

    # 11: two records added, one changed, one deleted (h7 is gone from
    # zone_text's hosts by replacing it).
    knot_step(hport, k, 11, "new IN A 198.18.9.9\nnew IN TXT \"eleven\"\n")
    assert forms(h, "incremental") == 1
    assert forms(h, "fallback_axfr") == 0
    rc, _, rd = soa(hport, "www.example.com", "A")
    assert rc == 0 and rd.address == "198.18.0.81"
    assert soa(hport, "h7.example.com", "A")[0] == dns.rcode.NXDOMAIN
    log = h.proc.log_text()
    assert "dns secondary ixfr applied" in log and "from=10 to=11" in log
    klog = open(k.log).read()
    assert "IXFR, outgoing" in klog, klog[-2000:]

    # 12: the TXT deleted again; a second increment on top of the first.
    knot_step(hport, k, 12, "new IN A 198.18.9.9\n")
    assert forms(h, "incremental") == 2
    assert soa(hport, "new.example.com", "TXT")[0] == 0
    assert not soa(hport, "new.example.com", "TXT")[2]

    # haven journaled what it received: it answers IXFR onward, from
    # either worker once both rebuilt their tables from the new copies.
    wait_until(lambda: h.metric("haven_dns_ixfr_journal_events_total",
                                event="appended") == 4, timeout=10,
               what="both workers journaled 10->11->12")
    got = steps(kdig_ixfr(hport, 10))
    assert [(f, t) for f, t, _, _ in got] == [(10, 11), (11, 12)]
    assert ("new.example.com.", "TXT", 300, '"eleven"') in got[0][3]
    assert ("new.example.com.", "TXT", 300, '"eleven"') in got[1][2]


def test_secondary_falls_back_to_axfr(haven, workdir, knot):  # noqa: F811
    hport = free_dns_port()
    k = knot(hport)
    difference_mode(k)
    k.write_zone(20)
    k.start()
    h = start_haven(haven, workdir, hport, k.port)
    wait_until(lambda: serial(hport) == 20, timeout=20,
               what="haven transferred serial 20")
    h.stop()
    # Behind haven's back, its copy loses h5 (one line, RFC 3597 form).
    copy = os.path.join(str(workdir), "state", "dns-secondary",
                        "example.com.zone")
    lines = open(copy).read().splitlines(True)
    kept = [ln for ln in lines if not ln.lower().startswith("h5.example")]
    assert len(kept) == len(lines) - 1
    with open(copy, "w") as f:
        f.writelines(kept)
    h = start_haven(haven, workdir, hport, k.port)
    wait_until(lambda: serial(hport) == 20, timeout=10,
               what="haven serves its copy")
    assert soa(hport, "h5.example.com", "A")[0] == dns.rcode.NXDOMAIN

    # Knot's increment deletes h5, which haven's copy lacks: the
    # increment cannot apply, haven asks AXFR and ends equal to Knot.
    k.write_zone(21)
    text = (k.dir / "example.com.zone").read_text()
    (k.dir / "example.com.zone").write_text(
        text.replace("h5 IN A", "h5y IN A"))
    k.reload()
    wait_until(lambda: serial(hport) == 21, timeout=10,
               what="haven serves serial 21")
    wait_until(lambda: same_as_knot(hport, k.port), timeout=5,
               what="haven's copy equals Knot's at 21",
               ignore=(OSError, dns.exception.DNSException))
    assert forms(h, "fallback_axfr") == 1
    assert forms(h, "incremental") == 0
    assert "dns secondary ixfr unusable, asking axfr" in h.proc.log_text()
    assert soa(hport, "h5y.example.com", "A")[0] == 0
