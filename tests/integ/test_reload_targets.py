"""A reload that removes a health target makes every plane forget it: it
leaves `haven status`, and a pool whose health check was removed serves from
its servers again instead of keeping their last `down` verdict forever."""

from havenlib.configs import FAST, WEB_HTTP, health, lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

LB = """\
  listeners:
    - {{ name: web, bind: 127.0.0.1:{port}, mode: http, pool: web }}
  pools:
    - name: web
{check}      servers:
        - {{ name: a, address: 127.0.0.1:{pa} }}
"""


def targets(h):
    return {t["name"]: t["state"] for t in h.status()["targets"]}


def test_removed_target_is_forgotten(haven, nginx, workdir):
    pa, port = free_port(), free_port()
    n = nginx(port=pa, body="A\n")
    n.set_healthy(False)  # /healthz answers 503, the body still 200
    cfg = workdir / "haven.yaml"
    tmpl = lb_config(LB, health(FAST, WEB_HTTP))
    cfg.write_text(tmpl.format(dir=workdir, port=port, pa=pa,
                               check="      health_check: web-http\n"))
    h = haven(str(cfg))
    wait_until(lambda: targets(h).get("web/a") == "down", timeout=5,
               what="web/a down")
    status, _ = http_get("http://127.0.0.1:%d/" % port)
    assert status == 503

    cfg.write_text(tmpl.format(dir=workdir, port=port, pa=pa, check=""))
    assert h.api("POST", "/v1/reload").status == 200
    wait_until(lambda: "web/a" not in targets(h), timeout=5,
               what="web/a gone from status")
    status, body = wait_until(
        lambda: (lambda r: r if r[0] == 200 else None)(
            http_get("http://127.0.0.1:%d/" % port)),
        timeout=5, what="pool serving again")
    assert body.strip() == b"A"
