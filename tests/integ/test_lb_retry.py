"""LB retries and passive ejection: a server with no listener (connect
refused) sits in the pool next to a real nginx. Every request still succeeds
(the refused attempt is retried on the other server), and the refusing
server is ejected passively, as GET /v1/lb and /metrics show."""

from havenlib.configs import lb_config
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

# No health check: only real traffic can find out that `dead` refuses, so
# the ejection seen here is the passive one.
CONFIG = lb_config("""\
  listeners:
    - {{ name: web, bind: 127.0.0.1:{port}, mode: http, pool: web }}
  pools:
    - name: web
      retries: 2
      servers:
        - {{ name: dead, address: 127.0.0.1:{pdead} }}
        - {{ name: live, address: 127.0.0.1:{plive} }}
""")


def test_refused_server_retried_and_ejected(haven, nginx, workdir):
    pdead, plive, port = free_port(), free_port(), free_port()
    nginx(port=plive, body="live\n")
    h = haven(CONFIG.format(dir=workdir, port=port, pdead=pdead,
                            plive=plive))
    url = "http://127.0.0.1:%d/" % port
    wait_until(lambda: http_get(url)[0] != 0, timeout=5, what="listener")

    for i in range(20):
        status, body = http_get(url)
        assert (status, body) == (200, b"live\n"), (i, status, body)

    dead = h.lb_server("web", "dead")
    print("dead server after 20 requests:", dead)
    assert dead["passive_ejected"] is True, dead
    assert dead["usable"] is False, dead
    assert dead["passive_ejections"] >= 1, dead
    assert h.lb_server("web", "live")["usable"] is True

    m = h.api("GET", "/metrics").text
    assert 'haven_lb_server_errors_total{pool="web",server="dead",' \
        'cause="connect_refused"}' in m, m[-3000:]
    retries = [ln for ln in m.splitlines()
               if ln.startswith("haven_lb_pool_retries_total")]
    assert retries and int(retries[0].split()[-1]) >= 1, retries


# `sick` answers every request with 500 (its dependency is gone) while its
# port accepts, so neither a connect check nor a retry finds it out: only
# the run of 5xx answers does (passive_5xx, 5 by default).
CONFIG_5XX = lb_config("""\
  listeners:
    - {{ name: web, bind: 127.0.0.1:{port}, mode: http, pool: web }}
  pools:
    - name: web
      servers:
        - {{ name: sick, address: 127.0.0.1:{psick} }}
        - {{ name: live, address: 127.0.0.1:{plive} }}
""")


def test_run_of_5xx_ejects(haven, nginx, workdir):
    psick, plive, port = free_port(), free_port(), free_port()
    nginx(port=psick, name="sick",
          server_extra="        location = /app { return 500; }")
    nginx(port=plive, name="live",
          server_extra="        location = /app { return 200 'live\\n'; }")
    h = haven(CONFIG_5XX.format(dir=workdir, port=port, psick=psick,
                                plive=plive))
    url = "http://127.0.0.1:%d/app" % port
    wait_until(lambda: http_get(url)[0] != 0, timeout=5, what="listener")

    statuses = [http_get(url)[0] for _ in range(40)]
    print("statuses:", statuses)
    # The probe above may have been one of sick's answers.
    assert statuses.count(500) in (4, 5), statuses
    assert statuses[-20:] == [200] * 20, statuses

    sick = h.lb_server("web", "sick")
    assert sick["passive_ejected"] is True, sick
    assert sick["passive_ejections"] == 1, sick
    assert h.lb_server("web", "live")["usable"] is True
    m = h.api("GET", "/metrics").text
    assert 'haven_lb_server_errors_total{pool="web",server="sick",' \
        'cause="status_5xx"} 5' in m, m[-3000:]
