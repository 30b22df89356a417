"""An operator's drain and weight change survive the crash of an lb worker:
the parent replays them to the restarted worker, so a server the operator
took out does not silently come back."""

import os
import signal
import subprocess

from havenlib.poll import wait_until
from test_lb_balance import ctl, spread, start



def test_drain_and_weight_survive_worker_restart(haven, nginx, workdir):
    h, url = start(haven, nginx, workdir)
    out = subprocess.run([h.bin, "status", "-s", h.socket],
                         capture_output=True, text=True, timeout=10).stdout
    pool = [line.split() for line in out.splitlines()
            if line.startswith("web ")]
    assert pool == [["web", "default", "2/2", "serving"]], out
    ctl(h, "POST", "/v1/lb/pools/web/servers/a/drain")
    ctl(h, "POST", "/v1/lb/pools/web/servers/b/weight", '{"weight": 7}')
    assert spread(url, 6) == {"B": 6}

    old = wait_until(lambda: h.plane_pid("lb"), timeout=5, what="lb running")
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: (h.plane_pid("lb") or old) != old, timeout=5,
               what="lb restarted")
    a = wait_until(lambda: h.lb_server("web", "a"), timeout=5, what="lb api")
    b = h.lb_server("web", "b")
    print("after restart: a=%r b=%r" % (a, b))
    assert a["admin"] == "drain", a
    assert b["admin_weight"] == 7, b
    assert spread(url, 6) == {"B": 6}

    ctl(h, "POST", "/v1/lb/pools/web/servers/a/enable")
    assert set(spread(url, 10)) == {"A", "B"}
