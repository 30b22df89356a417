"""knot - Knot DNS (Debian's knotd) as a secondary of haven, for the zone
transfer tests: one config and one start-up instead of a copy in each.

    k = start_secondary(d, port, primary)          # plain AXFR/IXFR + NOTIFY
    k = start_secondary(d, port, primary, secret=S)  # TSIG hmac-sha256
    k.log                                          # knot.log, to read
    k = start_catalog_consumer(d, port, primary)   # RFC 9432 consumer

start_catalog_consumer gives Knot only the catalog zone (catalog.invalid,
catalog-role: interpret): every member zone it lists is created from a
template that transfers it from haven, and dropped when the catalog no
longer lists it.

Knot listens on 127.0.0.1:port, takes example.com from haven at
127.0.0.1:primary, accepts haven's NOTIFY (signed when secret is set) and
lets 127.0.0.0/8 transfer its copy onward. The caller stops the process
(the knot_secondary fixture in conftest.py does). Skips the test when knotd
is not installed: a test that could not run must not pass.
"""
import os
import shutil
import subprocess

import pytest

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"

_CONF = """\
server:
    rundir: "{d}"
    listen: 127.0.0.1@{port}
{server_extra}database:
    storage: "{d}"
control:
    listen: "{d}/knot.sock"
log:
  - target: "{d}/knot.log"
    any: {log}
{keys}remote:
  - id: haven
    address: 127.0.0.1@{primary}
{keyline}acl:
  - id: from_haven
    address: 127.0.0.1
{keyline}    action: notify
  - id: xfr_out
    address: 127.0.0.0/8
    action: transfer
zone:
  - domain: example.com
    storage: "{d}"
    file: "secondary.zone"
    master: haven
    acl: [from_haven, xfr_out]
"""


def secondary_conf(d, port, primary, secret=None, io_timeout_ms=None,
                   log="info"):
    """Knot's config text; secret: base64 TSIG key "xfr-key" for both the
    transfer and the NOTIFY; io_timeout_ms: tcp-remote-io-timeout, how
    long Knot waits for an answer from haven."""
    return _CONF.format(
        d=d, port=port, primary=primary, log=log,
        server_extra=("    tcp-remote-io-timeout: %d\n" % io_timeout_ms
                      if io_timeout_ms is not None else ""),
        keys=("key:\n  - id: xfr-key\n    algorithm: hmac-sha256\n"
              "    secret: \"%s\"\n" % secret if secret else ""),
        keyline="    key: xfr-key\n" if secret else "")


_CATALOG_CONF = """\
server:
    rundir: "{d}"
    listen: 127.0.0.1@{port}
database:
    storage: "{d}"
control:
    listen: "{d}/knot.sock"
log:
  - target: "{d}/knot.log"
    any: info
remote:
  - id: haven
    address: 127.0.0.1@{primary}
acl:
  - id: from_haven
    address: 127.0.0.1
    action: notify
template:
  - id: default
    storage: "{d}"
  - id: member
    storage: "{d}"
    file: "member-%s.zone"
    master: haven
    acl: from_haven
zone:
  - domain: {catalog}
    file: "catalog.zone"
    master: haven
    acl: from_haven
    catalog-role: interpret
    catalog-template: member
"""


def catalog_conf(d, port, primary, catalog="catalog.invalid"):
    """Knot's config text as a catalog consumer: the catalog zone only."""
    return _CATALOG_CONF.format(d=d, port=port, primary=primary,
                                catalog=catalog)


def _start(d, port, text):
    if not os.access(KNOTD, os.X_OK):
        pytest.skip("knotd not installed (Debian package knot)")
    os.makedirs(d)
    conf = os.path.join(d, "knot.conf")
    with open(conf, "w") as f:
        f.write(text)
    p = subprocess.Popen([KNOTD, "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(d, "stderr"), "w"))
    p.port = port
    p.dir = d
    p.log = os.path.join(d, "knot.log")
    return p


def start_secondary(d, port, primary, **kw):
    """knotd with secondary_conf(d, ...) in directory d (created); the
    Popen has .port, .dir and .log."""
    return _start(d, port, secondary_conf(d, port, primary, **kw))


def start_catalog_consumer(d, port, primary, **kw):
    """knotd with catalog_conf(d, ...) in directory d (created); the Popen
    has .port, .dir and .log."""
    return _start(d, port, catalog_conf(d, port, primary, **kw))


def stop(p):
    p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
