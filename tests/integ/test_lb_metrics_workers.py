"""/metrics with two lb workers: each worker renders the same series, and
the parent labels every sample of theirs with its worker index, so that the
exposition has no duplicate sample (a scraper rejects the whole scrape
otherwise) and each worker's requests are counted under its own label."""

import collections
import re

from havenlib.configs import lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

CONFIG = lb_config("""\
  listeners:
    - {{ name: web, bind: 127.0.0.1:{port}, pool: web }}
  pools:
    - name: web
      servers: [ {{ name: n, address: 127.0.0.1:{backend} }} ]
""", workers=2)

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? \S+$")


def samples(text):
    """(name, label set) of every sample line."""
    out = []
    for ln in text.splitlines():
        if not ln or ln.startswith("#"):
            continue
        m = SAMPLE.match(ln)
        assert m, "not a sample line: %r" % ln
        out.append((m.group(1), m.group(2) or ""))
    return out


def test_two_workers_no_duplicate_samples(haven, nginx, workdir):
    backend = nginx(port=free_port(), body="fine\n")
    port = free_port()
    h = haven(CONFIG.format(dir=workdir, port=port, backend=backend.port))
    url = "http://127.0.0.1:%d/" % port
    wait_until(lambda: http_get(url) == (200, b"fine\n"), timeout=5,
               what="listener serving")

    def both_workers():
        text = h.api("GET", "/metrics").text
        got = [lab for name, lab in samples(text)
               if name == "haven_lb_listener_requests_total"]
        return text if len(got) == 2 else None

    text = wait_until(both_workers, timeout=5, what="both lb workers")
    dups = [k for k, n in collections.Counter(samples(text)).items()
            if n > 1]
    assert dups == [], dups
    reqs = sorted(lab for name, lab in samples(text)
                  if name == "haven_lb_listener_requests_total")
    assert reqs == ['{listener="web",worker="0"}',
                    '{listener="web",worker="1"}'], reqs
