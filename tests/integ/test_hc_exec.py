"""exec checks: the exit status is the verdict, the output explains a
failure, a hanging command is killed at the timeout, and a command that
floods its output fails in time without growing the daemon's memory.

exec checks need an address (a check without one is a template for lb
pools); HAVEN_TARGET_ADDR carries it to the command."""

import os
import time

from havenlib import hc
from havenlib.poll import wait_until

DEFAULTS = {"interval": "1s", "timeout": "1s", "rise": 2, "fall": 2}
DOWN_BOUND = 1.0 * 2 + 1.0 + 1.5


def exe(name, command, **kw):
    c = {"name": name, "type": "exec", "address": "127.0.0.1",
         "command": command}
    c.update(kw)
    return c


def test_exit_status_and_output(haven, workdir):
    h = haven(hc.config(workdir, [
        exe("pass", 'test "$HAVEN_TARGET_ADDR" = 127.0.0.1'),
        exe("fail", "echo db-replica-lagging-42s; exit 3")],
        defaults=DEFAULTS))
    hc.wait_state(h, "pass", "up", timeout=5)
    _, c = hc.wait_state(h, "fail", "down", timeout=5)
    assert c["reason"] == "exec_failed", c
    assert "db-replica-lagging-42s" in c["detail"], c
    assert "3" in c["detail"], c


def test_hanging_command_times_out(haven, workdir):
    h = haven(hc.config(workdir, [exe("hang", "exec sleep 30")],
                        defaults=DEFAULTS))
    took, c = hc.wait_state(h, "hang", "down", timeout=DOWN_BOUND + 5)
    # From daemon start: the first probe begins within HC_FIRST_MS (1 s).
    hc.report("exec hang -> down (from start)", took, DOWN_BOUND + 1.0)
    assert took <= DOWN_BOUND + 1.0
    assert c["reason"] == "timeout", c
    lat = [p["latency_us"] for p in c["probes"]]
    assert lat and all(900e3 <= us <= 1.5e6 for us in lat), lat
    # The killed sleeps are gone: the hc child has no `sleep` left over
    # beyond the one probe that may be running now.
    pid = hc.hc_pid(h)
    wait_until(lambda: len(_children(pid, "sleep")) <= 1, timeout=3,
               what="no leftover sleep processes")


def test_flooding_command_down_in_time_rss_bounded(haven, workdir):
    h = haven(hc.config(workdir, [exe("flood", "yes", fall=1)],
                        defaults=DEFAULTS))
    pid = hc.hc_pid(h)
    rss0 = hc.rss_kb(pid)
    t0 = time.monotonic()
    # fall 1: the first probe decides; it starts within ~1 s of startup.
    bound = 1.0 * 1.1 + 1.0 + 1.5
    took, c = hc.wait_state(h, "flood", "down", timeout=bound + 5, t0=t0)
    hc.report("exec `yes` -> down (fall 1)", took, bound)
    assert took <= bound
    assert c["reason"] == "timeout", c
    # Several more flooded probes must not grow the daemon.
    wait_until(lambda: hc.check(h, "flood")["probes_failed"] >= 4,
               timeout=10, what="4 flooded probes")
    rss1 = hc.rss_kb(pid)
    print("\nMEASURE hc child RSS before/after 4 `yes` probes: %d / %d kB"
          % (rss0, rss1))
    assert rss1 < rss0 + 8 * 1024 and rss1 < 64 * 1024, (rss0, rss1)
    assert h.proc.alive()


def _children(ppid, comm):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        pp = int(st[st.rindex(")") + 2:].split()[1])
        if name == comm and pp == ppid:
            out.append(int(d))
    return out
