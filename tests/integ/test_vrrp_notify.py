"""VRRP notify hooks and the transition stream, on two havens on one bridge
(198.18.31.0/24, VIP 198.18.31.100), set up as in test_vrrp.py.

Every hook appends "$HAVEN_SEQ $HAVEN_STATE" to a file of its node. Hooks
run one at a time in transition order, once per transition, so each file
must read exactly like GET /v1/vrrp/events of its node: the same numbers,
the same states, in the same order, nothing doubled, nothing missing,
across kill -9 of the master, a preempting return and a graceful stop
(whose notify_stop runs before the process exits). A hook that hangs past
notify_timeout is killed and counted; the transition that happened
meanwhile was queued behind it and its hook still runs."""

import os
import signal
import subprocess
import time

import pytest

from havenlib.poll import wait_until

pytestmark = pytest.mark.root

VIP = "198.18.31.100"
A, B = "198.18.31.1", "198.18.31.2"

LINE = 'echo "$HAVEN_SEQ $HAVEN_STATE" >> {dir}/notify.log'

NODE = """\
haven:
  state_dir: {dir}/state
  log_level: debug
  shutdown_timeout: 5s
api:
  socket: {dir}/haven.sock
vrrp:
  instances:
    - name: web
      interface: eth0
      vrid: 52
      priority: {prio}
      advert_interval: 100ms
      virtual_addresses: [{vip}]
      notify_master: '{master}'
      notify_backup: '{backup}'
      notify_fault: '{line}'
      notify_stop: '{line}'
      notify: '{dir}/notify.sh'
      notify_timeout: {timeout}
"""


@pytest.fixture
def lan(netns):
    br = netns.bridge("lan")
    a, b = netns.ns("a"), netns.ns("b")
    netns.attach(a, br, A + "/24", ifname="eth0")
    netns.attach(b, br, B + "/24", ifname="eth0")
    return a, b


def node(haven, workdir, ns, name, prio, backup=None, timeout="2s"):
    d = os.path.join(str(workdir), name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)  # hooks run as haven's unprivileged user
    line = LINE.format(dir=d)
    # keepalived style: a script path, called with INSTANCE NAME STATE
    # PRIORITY.
    with open(os.path.join(d, "notify.sh"), "w") as f:
        f.write('#!/bin/sh\necho "$@" >> %s/generic.log\n' % d)
    os.chmod(os.path.join(d, "notify.sh"), 0o755)
    # notify_master also records the scheduling policy it runs under
    # (field 41 of /proc/PID/stat): the vrrp process itself is SCHED_RR.
    master = line + "; awk \"{print \\$41}\" /proc/$$/stat >> %s/sched" % d
    cfg = NODE.format(dir=d, prio=prio, vip=VIP, line=line, master=master,
                      backup=backup or line, timeout=timeout)
    h = haven(cfg, ns=ns, name=name, socket_path=d + "/haven.sock")
    h.dir = d
    return h


def state(h):
    r = h.api("GET", "/v1/vrrp")
    assert r.status == 200, r
    return r.json["instances"][0]["state"]


def events(h, since=0):
    r = h.api("GET", "/v1/vrrp/events?since=%d" % since)
    assert r.status == 200, r
    return r.json


def lines(h, name="notify.log"):
    p = os.path.join(h.dir, name)
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return f.read().splitlines()


def as_lines(evs):
    return ["%d %s" % (e["seq"], e["to"]) for e in evs["events"]]


def wait_lines(h, n, what):
    wait_until(lambda: len(lines(h)) >= n, timeout=10,
               what="%s: %d notify lines" % (what, n))
    time.sleep(0.3)  # nothing more may come: a doubled run would show
    return lines(h)


def kill_node(h, ns):
    for pid in [p["pid"] for p in h.status()["processes"]]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    h.proc.kill()
    ns.ip("addr", "del", VIP + "/32", "dev", "eth0", check=False)


def test_notify_once_per_transition_in_order(haven, workdir, lan):
    a, b = lan
    ha = node(haven, workdir, a, "na", 200)
    hb = node(haven, workdir, b, "nb", 100)
    wait_until(lambda: state(ha) == "master" and state(hb) == "backup",
               timeout=10, what="a master, b backup")
    assert wait_lines(ha, 2, "a") == ["1 backup", "2 master"]
    assert wait_lines(hb, 1, "b") == ["1 backup"]
    ev = events(ha)
    assert as_lines(ev) == lines(ha) and ev["newest"] == 2, ev
    assert not ev["lost"] and ev["oldest"] == 1, ev
    e = ev["events"][1]
    assert (e["instance"], e["from"], e["to"], e["priority"]) == (
        "web", "backup", "master", 200), e
    # Following: only what came after the last seq seen.
    assert as_lines(events(ha, since=1)) == ["2 master"]
    assert events(ha, since=2)["events"] == []
    # A since past the newest is a client of an earlier process (numbers
    # restart with it): everything kept, marked lost.
    ev = events(ha, since=99)
    assert ev["lost"] and as_lines(ev) == lines(ha), ev
    assert ha.api("GET", "/v1/vrrp/events?since=x").status == 400

    # kill -9 the master: b takes over; one more line on b.
    kill_node(ha, a)
    wait_until(lambda: state(hb) == "master", timeout=5, what="b master")
    assert wait_lines(hb, 2, "b") == ["1 backup", "2 master"]

    # a comes back and preempts: b goes back to backup (3).
    ha = node(haven, workdir, a, "na2", 200)
    wait_until(lambda: state(ha) == "master" and state(hb) == "backup",
               timeout=10, what="a preempts")
    assert wait_lines(ha, 2, "a2") == ["1 backup", "2 master"]
    assert wait_lines(hb, 3, "b") == ["1 backup", "2 master", "3 backup"]
    assert as_lines(events(ha)) == lines(ha)

    # Graceful stop: notify_stop has run by the time the process is gone.
    ha.stop()
    assert lines(ha) == ["1 backup", "2 master", "3 init"]
    wait_until(lambda: state(hb) == "master", timeout=5, what="b master")
    got = wait_lines(hb, 4, "b")
    assert got == ["1 backup", "2 master", "3 backup", "4 master"], got
    ev = events(hb)
    assert as_lines(ev) == got and not ev["lost"], ev
    assert [e["reason"] for e in ev["events"]][-1].startswith("priority0")

    # keepalived's notify arguments, after the state's own hook.
    assert lines(hb, "generic.log") == [
        "INSTANCE web BACKUP 100", "INSTANCE web MASTER 100",
        "INSTANCE web BACKUP 100", "INSTANCE web MASTER 100"]
    assert lines(ha, "generic.log")[-1] == "INSTANCE web STOP 200"
    # Hooks never inherit the real-time policy of the vrrp process.
    assert set(lines(hb, "sched")) == {"0"}, lines(hb, "sched")
    assert hb.metric("haven_vrrp_notify_runs_total") == 8
    assert hb.metric("haven_vrrp_notify_failed_total") == 0


def test_notify_timeout_kills_and_next_runs(haven, haven_bin, workdir, lan):
    a, _ = lan
    # The backup hook writes its line, then hangs: killed at 600 ms.
    # Alone on the link, the node becomes master after the master-down
    # interval (~350 ms), while that hook still runs: the master hook
    # is queued behind it and runs once it is killed.
    d = os.path.join(str(workdir), "na")
    hang = LINE.format(dir=d) + "; sleep 30"
    ha = node(haven, workdir, a, "na", 100, backup=hang, timeout="600ms")
    wait_until(lambda: state(ha) == "master", timeout=10, what="master")
    assert wait_lines(ha, 2, "a") == ["1 backup", "2 master"]
    assert ha.metric("haven_vrrp_notify_timeouts_total") == 1
    assert ha.metric("haven_vrrp_notify_failed_total") == 1
    assert ha.metric("haven_vrrp_notify_dropped_total") == 0

    # `haven vrrp events --follow` prints what follows, as it comes.
    follow = subprocess.Popen(
        [haven_bin, "vrrp", "-s", ha.socket, "events", "--follow"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Link down: fault; up again: backup (hangs again), then master.
    a.link_down("eth0")
    wait_until(lambda: state(ha) == "fault", timeout=5, what="fault")
    a.link_up("eth0")
    wait_until(lambda: state(ha) == "master", timeout=10, what="master")
    got = wait_lines(ha, 5, "a")
    assert got == ["1 backup", "2 master", "3 fault", "4 backup",
                   "5 master"], got
    assert as_lines(events(ha)) == got
    time.sleep(1.0)  # two polls of the follower
    follow.terminate()
    out, err = follow.communicate(timeout=5)
    printed = [" ".join((ln.split()[0], ln.split()[5]))
               for ln in out.splitlines()]
    assert printed == got, (out, err)
    assert ha.metric("haven_vrrp_notify_timeouts_total") == 2
    # Two hooks a transition (the state's and the generic one).
    assert ha.metric("haven_vrrp_notify_runs_total") == 10
