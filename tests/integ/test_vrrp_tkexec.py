"""takeover: exec, with a fake cloud CLI, on havens in namespaces on one
bridge (198.18.33.0/24, VIP 198.18.33.100), set up as in test_vrrp.py.

cli.sh in the test's directory plays the provider: `acquire NODE` makes
NODE the owner (the file `owner`), `describe` prints "owner=NODE",
`release NODE` clears the owner if it is NODE. Every call appends
"TIME NODE ACTION ATTEMPT start|end|fail" to calls.log (TIME: seconds,
nanosecond precision), so order and pauses can be read back. Per node,
files make the next acquires misbehave: fail.NODE (a count of attempts
that exit 1), hang.NODE (a count of attempts that sleep 30 s: past
exec.timeout) and slow.NODE (seconds each acquire takes).

What is checked: the master's acquire runs once and describe verifies it;
kill -9 of the master makes the other node acquire and verify; a CLI that
fails twice is retried with growing pauses (HAVEN_ATTEMPT 1, 2, 3) then
verified, and with verify_interval a describe that no longer shows us
starts a new acquire; a hanging CLI is killed at the timeout, the
instance shows FAILED (retries: 0), and the retry at backoff_max verifies
it; a graceful stop during an acquire runs release after it, never
before; the state and counters in GET /v1/vrrp and /metrics."""

import os
import signal
import subprocess

import pytest

from havenlib.poll import wait_until

pytestmark = pytest.mark.root

VIP = "198.18.33.100"
A, B = "198.18.33.1", "198.18.33.2"

CLI = """\
#!/bin/sh
# A fake provider CLI: see the module comment.
d={dir}
act=$1 node=$2
log() {{ echo "$(date +%s.%N) $node $act $HAVEN_ATTEMPT $1" >> $d/calls.log; }}
take() {{  # decrement a per-node counter file; true if it was > 0
    f=$d/$1.$node
    [ -f $f ] || return 1
    n=$(cat $f)
    [ "$n" -gt 0 ] || return 1
    echo $((n - 1)) > $f
}}
if [ "$act" = describe ]; then
    node=-
    log start
    echo "region=test"
    echo "owner=$(cat $d/owner 2>/dev/null)"
    log end
    exit 0
fi
log start
echo "$HAVEN_INSTANCE $HAVEN_VIP $HAVEN_ACTION" >> $d/env.log
case $act in
acquire)
    if take fail; then log fail; exit 1; fi
    if take hang; then sleep 30; log end; exit 0; fi
    [ -f $d/slow.$node ] && sleep $(cat $d/slow.$node)
    echo $node > $d/owner
    ;;
release)
    [ "$(cat $d/owner 2>/dev/null)" = $node ] && echo none > $d/owner
    ;;
esac
log end
"""

NODE = """\
haven:
  state_dir: {dir}/state
  log_level: debug
  shutdown_timeout: 10s
api:
  socket: {dir}/haven.sock
vrrp:
  instances:
    - name: web
      interface: eth0
      vrid: 53
      priority: {prio}
      advert_interval: 100ms
      virtual_addresses: [{vip}/32]
      takeover: exec
      exec:
        acquire: '{cli} acquire {node}'
        release: '{cli} release {node}'
        describe: '{cli} describe'
        expect: 'owner={node}'
        timeout: {timeout}
        retries: {retries}
        backoff: {backoff}
        backoff_max: {backoff_max}
        verify_interval: {verify}
"""


@pytest.fixture
def lan(netns):
    br = netns.bridge("lan")
    a, b = netns.ns("a"), netns.ns("b")
    netns.attach(a, br, A + "/24", ifname="eth0")
    netns.attach(b, br, B + "/24", ifname="eth0")
    return a, b


@pytest.fixture
def cloud(workdir):
    """The provider's directory, writable by haven's unprivileged user."""
    d = os.path.join(str(workdir), "cloud")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)
    p = os.path.join(d, "cli.sh")
    with open(p, "w") as f:
        f.write(CLI.format(dir=d))
    os.chmod(p, 0o755)
    return d


def put(cloud, name, value):
    p = os.path.join(cloud, name)
    with open(p, "w") as f:
        f.write("%s\n" % value)
    os.chmod(p, 0o666)


def owner(cloud):
    try:
        with open(os.path.join(cloud, "owner")) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def calls(cloud, node=None, act=None, what=None):
    """calls.log as (time, node, action, attempt, what) tuples."""
    try:
        with open(os.path.join(cloud, "calls.log")) as f:
            rows = [ln.split() for ln in f.read().splitlines()]
    except FileNotFoundError:
        return []
    out = []
    for r in rows:
        r += [""] * (5 - len(r))
        row = (float(r[0]), r[1], r[2], r[3], r[4])
        if ((node is None or row[1] == node) and
                (act is None or row[2] == act) and
                (what is None or row[4] == what)):
            out.append(row)
    return out


def node(haven, workdir, cloud, ns, name, prio, timeout="2s", retries=5,
         backoff="1s", backoff_max="30s", verify="0s", tag=None):
    d = os.path.join(str(workdir), tag or name)
    os.makedirs(d, exist_ok=True)
    cfg = NODE.format(dir=d, prio=prio, vip=VIP, node=name,
                      cli=os.path.join(cloud, "cli.sh"), timeout=timeout,
                      retries=retries, backoff=backoff,
                      backoff_max=backoff_max, verify=verify)
    h = haven(cfg, ns=ns, name=tag or name, socket_path=d + "/haven.sock")
    h.dir = d
    return h


def inst(h):
    r = h.api("GET", "/v1/vrrp")
    assert r.status == 200, r
    return r.json["instances"][0]


def tk(h):
    return inst(h)["takeover"]


def kill_node(h, ns):
    for pid in [p["pid"] for p in h.status()["processes"]]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    h.proc.kill()
    ns.ip("addr", "del", VIP + "/32", "dev", "eth0", check=False)


def test_exec_acquire_verified_and_failover(haven, workdir, cloud, lan):
    a, b = lan
    ha = node(haven, workdir, cloud, a, "a", 200)
    wait_until(lambda: tk(ha)["state"] == "owner", timeout=10,
               what="a verified owner")
    hb = node(haven, workdir, cloud, b, "b", 100)
    wait_until(lambda: inst(hb)["state"] == "backup", timeout=10,
               what="b backup")
    assert owner(cloud) == "a"
    # One acquire, attempt 1, then one describe; nothing from b.
    acq = calls(cloud, act="acquire", what="start")
    assert [(c[1], c[3]) for c in acq] == [("a", "1")], acq
    assert len(calls(cloud, act="describe", what="end")) == 1
    assert calls(cloud, node="b") == []
    t = tk(ha)
    assert t["backend"] == "exec" and inst(ha)["holding_addresses"], t
    x = t["exec"]
    assert (x["runs"], x["failures"], x["timeouts"], x["retries"]) == (
        2, 0, 0, 0), x
    assert x["acquire_verified_seconds"] is not None, x
    assert 0 < x["acquire_verified_seconds"] < 2, x
    assert t["probes_sent"] == t["probes_answered"] == 1, t
    assert t["last_verified_ms"] is not None, t
    assert tk(hb)["state"] == "idle" and tk(hb)["exec"]["runs"] == 0
    assert ha.metric("haven_vrrp_takeover_exec_runs_total",
                     instance="web") == 2
    assert ha.metric("haven_vrrp_takeover_exec_failures_total") == 0
    with open(os.path.join(cloud, "env.log")) as f:
        assert f.read().splitlines() == ["web %s acquire" % VIP]
    out = subprocess.run([ha.bin, "status", "-s", ha.socket],
                         capture_output=True, text=True, timeout=10).stdout
    assert "takeover exec: owner" in out, out
    assert "exec: attempt 0/5, runs 2, failures 0, timeouts 0" in out, out

    # kill -9 of the master: b's acquire runs and describe verifies it.
    kill_node(ha, a)
    wait_until(lambda: tk(hb)["state"] == "owner", timeout=10,
               what="b verified owner")
    assert owner(cloud) == "b"
    acq = calls(cloud, act="acquire", what="start")
    assert [(c[1], c[3]) for c in acq] == [("a", "1"), ("b", "1")], acq
    # b's describe came after b's acquire ended.
    b_end = calls(cloud, node="b", act="acquire", what="end")[0][0]
    assert [c for c in calls(cloud, act="describe", what="start")
            if c[0] > b_end], calls(cloud)
    assert hb.metric("haven_vrrp_takeover_exec_runs_total") == 2
    assert hb.metric("haven_vrrp_takeover_exec_verify_seconds") > 0


def test_exec_retry_backoff_then_reconcile(haven, workdir, cloud, lan):
    a, _ = lan
    put(cloud, "fail.a", 2)
    ha = node(haven, workdir, cloud, a, "a", 100, backoff="300ms",
              backoff_max="5s", verify="400ms")
    wait_until(lambda: tk(ha)["state"] == "owner", timeout=10,
               what="a verified owner after two failures")
    acq = calls(cloud, act="acquire")
    assert [(c[3], c[4]) for c in acq] == [
        ("1", "start"), ("1", "fail"), ("2", "start"), ("2", "fail"),
        ("3", "start"), ("3", "end")], acq
    pause1 = acq[2][0] - acq[1][0]
    pause2 = acq[4][0] - acq[3][0]
    # 300 ms, then 600 ms: growing, each at least its back-off.
    assert 0.29 <= pause1 < 0.6, (pause1, pause2)
    assert 0.59 <= pause2 < 1.2, (pause1, pause2)
    x = tk(ha)["exec"]
    assert (x["failures"], x["retries"], x["timeouts"]) == (2, 2, 0), x
    assert ha.metric("haven_vrrp_takeover_exec_retries_total") == 2
    assert ha.metric("haven_vrrp_takeover_exec_failures_total") == 2

    # verify_interval: describe runs again while master...
    n = len(calls(cloud, act="describe", what="end"))
    wait_until(lambda: len(calls(cloud, act="describe", what="end")) >= n + 2,
               timeout=5, what="periodic describe")
    assert len(calls(cloud, act="acquire", what="start")) == 3
    # ... and when someone else moves the address, acquires it back.
    put(cloud, "owner", "z")
    wait_until(lambda: owner(cloud) == "a", timeout=5, what="re-acquired")
    wait_until(lambda: tk(ha)["state"] == "owner", timeout=5,
               what="owner again")
    acq = calls(cloud, act="acquire", what="start")
    assert len(acq) == 4 and acq[3][3] == "1", acq
    assert tk(ha)["probes_missed"] >= 1


def test_exec_hang_killed_failed_then_retried(haven, workdir, cloud, lan):
    a, _ = lan
    put(cloud, "hang.a", 1)
    ha = node(haven, workdir, cloud, a, "a", 100, timeout="500ms",
              retries=0, backoff="200ms", backoff_max="1500ms")
    # Killed at 500 ms; with retries: 0 that is FAILED at once...
    wait_until(lambda: tk(ha)["state"] == "failed", timeout=10,
               what="failed after the timeout")
    t = tk(ha)
    assert t["exec"]["timeouts"] == 1 and t["failures"] == 1, t
    assert inst(ha)["state"] == "master"
    assert ha.metric("haven_vrrp_takeover_exec_timeouts_total") == 1
    # ... and FAILED is not final: the retry at backoff_max verifies.
    wait_until(lambda: tk(ha)["state"] == "owner", timeout=10,
               what="owner after the retry")
    acq = calls(cloud, act="acquire")
    # The hung attempt never ended: its process group was killed.
    assert [(c[3], c[4]) for c in acq] == [
        ("1", "start"), ("2", "start"), ("2", "end")], acq
    pause = acq[1][0] - acq[0][0]
    assert 1.9 <= pause < 3.5, pause  # 0.5 s timeout + 1.5 s cap


def test_exec_graceful_stop_releases_after_acquire(haven, workdir, cloud,
                                                   lan):
    a, _ = lan
    put(cloud, "slow.a", 1.5)
    ha = node(haven, workdir, cloud, a, "a", 100, timeout="5s")
    wait_until(lambda: calls(cloud, act="acquire", what="start"),
               timeout=10, what="acquire in flight")
    assert tk(ha)["state"] == "acquiring"
    ha.stop(timeout=10)
    rows = [(c[1], c[2], c[4]) for c in calls(cloud)]
    # Release after the in-flight acquire ended; no describe for an
    # acquire that was overtaken by the release.
    assert rows == [("a", "acquire", "start"), ("a", "acquire", "end"),
                    ("a", "release", "start"), ("a", "release", "end")], rows
    assert owner(cloud) == "none"
