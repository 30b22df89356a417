"""Snapshot replication: `haven snap replicate` to a peer's snap plane.

Two network namespaces on a veth (198.18.0.1 sender, 198.18.0.2 receiver,
where `haven run` has a `snap:` section and runs its snap plane as an
unprivileged user). A 48 MiB image snapshot arrives whole: the receiver
restores it byte for byte and its root hash is the sender's. An incremental
snapshot after changing 1 % of the image sends about 1 % of the chunks. A
sender killed with SIGKILL, or cut off by iptables DROP or a link going
down, in the middle of a transfer leaves the receiver with no new snapshot
and a store that verifies; running it again sends only the chunks that did
not arrive. A sender with another PSK is refused, counted, and stores
nothing. A damaged chunk in the sender's store is not sent. A peer that
never speaks is dropped after handshake_timeout, and connections beyond
max_sessions are closed at once.

Root and network namespaces are needed; without them every test skips.
"""

import os
import pwd
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from havenlib import netns as hnetns
from havenlib.poll import wait_until

CHUNK = 65536
MIB = 1 << 20
IMAGE = 48 * MIB
NCHUNKS = IMAGE // CHUNK
SENDER, RECEIVER, PORT = "198.18.0.1", "198.18.0.2", 7411


def run_user():
    """The user haven's children run as (haven, else nobody)."""
    for name in ("haven", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    pytest.skip("neither user haven nor nobody exists")


@pytest.fixture
def site(netns, haven, haven_bin, workdir):
    """Sender and receiver namespaces, a receiver daemon, stores, PSK."""
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    a, b = netns.ns("snd"), netns.ns("rcv")
    ifa, ifb = netns.link(a, b, SENDER + "/24", RECEIVER + "/24")
    pw = run_user()
    # The receiver's plane runs as pw: its store and key live in a
    # directory it can reach (the pytest tmp dir is root's alone).
    top = tempfile.mkdtemp(prefix="hv-snaprepl-")
    os.chmod(top, 0o711)
    dst = os.path.join(top, "dst")
    os.mkdir(dst)
    os.chown(dst, pw.pw_uid, pw.pw_gid)
    psk = os.path.join(top, "psk")
    with open(psk, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(psk, 0o600)
    os.chown(psk, pw.pw_uid, pw.pw_gid)

    def start(idle="60s", max_sessions=4):
        cfg = ("haven:\n  state_dir: %s/state\n"
               "api:\n  socket: %s/haven.sock\n"
               "snap:\n  listen: %s:%d\n  store: %s\n  psk_file: %s\n"
               "  idle_timeout: %s\n  handshake_timeout: 2s\n"
               "  max_sessions: %d\n"
               % (workdir, workdir, RECEIVER, PORT, dst, psk, idle,
                  max_sessions))
        return haven(cfg, ns=b, name="receiver")

    s = {"a": a, "b": b, "ifa": ifa, "ifb": ifb, "dst": dst, "psk": psk,
         "src": os.path.join(str(workdir), "src"), "start": start,
         "bin": haven_bin, "workdir": str(workdir), "user": pw}
    yield s
    shutil.rmtree(top, ignore_errors=True)


def snap(s, store, *args, check=0, timeout=120):
    r = subprocess.run([s["bin"], "snap", args[0], "--store", store]
                       + [str(x) for x in args[1:]],
                       capture_output=True, text=True, timeout=timeout)
    if check is not None:
        assert r.returncode == check, (r.returncode, r.stdout, r.stderr)
    return r


def make_image(s, seed=1):
    path = os.path.join(s["workdir"], "disk.img")
    rng = random.Random(seed)
    with open(path, "wb") as f:
        f.write(rng.randbytes(IMAGE))
    return path


def create(s, path):
    r = snap(s, s["src"], "create", "--volume", "vm1", path)
    # "snapshot VOLUME/ID"
    return re.search(r"^snapshot vm1/(\S+)$", r.stdout, re.M).group(1)


def replicate_argv(s, *extra, psk=None):
    return [s["bin"], "snap", "replicate", "--store", s["src"], "--to",
            "%s:%d" % (RECEIVER, PORT), "--psk-file", psk or s["psk"],
            "--timeout", "3"] + list(extra) + ["vm1"]


def replicate(s, *extra, check=0, psk=None):
    r = s["a"].run(replicate_argv(s, *extra, psk=psk), check=False,
                   timeout=120)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, \
        r.stderr
    if check is not None:
        assert r.returncode == check, (r.returncode, r.stdout, r.stderr)
    m = re.search(r"chunks=(\d+) wanted=(\d+) of=(\d+) payload=(\d+) "
                  r"wire=(\d+) seconds=([\d.]+)", r.stdout)
    stats = None
    if m:
        stats = dict(zip(("chunks", "wanted", "of", "payload", "wire"),
                         map(int, m.groups()[:5])))
        stats["seconds"] = float(m.group(6))
    return r, stats


def root_of(s, store, name):
    r = snap(s, store, "verify", name)
    return re.search(r"^ok \S+ root ([0-9a-f]{64})$", r.stdout, re.M).group(1)


def listed(s, store):
    r = snap(s, store, "list")
    return [line.split()[1] for line in r.stdout.splitlines()[1:]
            if line.strip()]


def restore_equals(s, name, path):
    out = os.path.join(s["workdir"], "restored.img")
    snap(s, s["dst"], "restore", "vm1/" + name, out)
    with open(out, "rb") as f1, open(path, "rb") as f2:
        while True:
            x, y = f1.read(MIB), f2.read(MIB)
            if x != y:
                return False
            if not x:
                return True


def test_full_then_incremental(site):
    s = site
    h = s["start"]()
    img = make_image(s)
    first = create(s, img)
    r, st = replicate(s)
    print("full: %s" % r.stdout.strip().splitlines()[-1])
    assert st["wanted"] == NCHUNKS and st["chunks"] == NCHUNKS
    assert listed(s, s["dst"]) == [first]
    assert restore_equals(s, first, img)
    assert root_of(s, s["dst"], first) == root_of(s, s["src"], first)

    # 1 % of the chunks, scattered: ~1 % of the chunks travel.
    rng = random.Random(7)
    changed = set(rng.sample(range(NCHUNKS), NCHUNKS // 100))
    with open(img, "r+b") as f:
        for c in changed:
            f.seek(c * CHUNK + rng.randrange(CHUNK - 100))
            f.write(rng.randbytes(100))
    second = create(s, img)
    r, st = replicate(s)
    print("incremental: %s" % r.stdout.strip().splitlines()[-1])
    assert st["wanted"] == len(changed) == st["chunks"]
    assert st["payload"] < 0.02 * IMAGE
    assert listed(s, s["dst"]) == [first, second]
    assert restore_equals(s, second, img)
    assert root_of(s, s["dst"], second) == root_of(s, s["src"], second)

    # Again: the receiver has it; nothing travels.
    r, st = replicate(s)
    assert st["chunks"] == 0 and "had vm1/" in r.stdout
    assert h.metric("haven_snap_sessions_total", result="ok") == 3
    assert h.metric("haven_snap_received_chunks_total") == \
        NCHUNKS + len(changed)
    j = h.api("GET", "/v1/snap").json
    assert j["volumes"]["vm1"] == [first, second]
    assert j["last_session"]["result"] == "ok"
    out = subprocess.run([h.bin, "status", "-s", h.socket],
                         capture_output=True, text=True, timeout=10).stdout
    assert "Snapshot receiver on %s:%d" % (RECEIVER, PORT) in out, out
    assert "2 snapshots, newest %s" % second in out, out
    assert "last session: ok from %s:" % SENDER in out, out
    # The plane runs as the unprivileged user, with no capability.
    pid = h.plane_pid("snap")
    with open("/proc/%d/status" % pid) as f:
        st = f.read()
    assert re.search(r"^Uid:\s+%d\b" % s["user"].pw_uid, st, re.M)
    assert re.search(r"^CapEff:\s+0+$", st, re.M)


def wait_received(h, n):
    wait_until(lambda: h.metric("haven_snap_received_chunks_total") >= n,
               timeout=30, what="%d chunks received" % n)


def assert_nothing_published_and_resume(s, h, img, name, before):
    """The broken session published nothing and its chunks verify; a
    re-run sends only the chunks that had not arrived."""
    assert listed(s, s["dst"]) == []
    got = h.metric("haven_snap_received_chunks_total")
    assert before <= got < NCHUNKS
    r = snap(s, s["dst"], "verify", check=0)
    r, st = replicate(s)
    print("resume: %s" % r.stdout.strip().splitlines()[-1])
    # Chunks of the broken session that reached the socket buffer but
    # not the plane are sent again; nothing that was stored is.
    assert st["wanted"] == NCHUNKS - got
    assert listed(s, s["dst"]) == [name]
    assert restore_equals(s, name, img)
    assert root_of(s, s["dst"], name) == root_of(s, s["src"], name)


def test_sender_killed_mid_transfer(site):
    s = site
    h = s["start"]()
    img = make_image(s, seed=2)
    name = create(s, img)
    p = s["a"].popen(replicate_argv(s, "--bwlimit", str(8 * MIB)),
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_received(h, NCHUNKS // 4)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    wait_until(lambda: h.metric("haven_snap_sessions_total",
                                result="closed") == 1,
               timeout=10, what="the receiver to see the session die")
    assert_nothing_published_and_resume(s, h, img, name, NCHUNKS // 4)


@pytest.mark.parametrize("fault", ["iptables-drop", "link-down"])
def test_partition_mid_transfer(site, fault):
    s = site
    h = s["start"](idle="2s")
    img = make_image(s, seed=3)
    name = create(s, img)
    p = s["a"].popen(replicate_argv(s, "--bwlimit", str(8 * MIB)),
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     text=True)
    try:
        wait_received(h, NCHUNKS // 4)
        if fault == "iptables-drop":
            s["b"].block(s["a"])
        else:
            s["b"].link_down(s["ifb"])
        out, err = p.communicate(timeout=30)
        # The sender gives up within its --timeout, and says so.
        assert p.returncode == 1, (out, err)
        assert "sent" in err
        wait_until(lambda: h.metric("haven_snap_sessions_total",
                                    result="timeout") == 1,
                   timeout=10, what="the receiver's idle timeout")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if fault == "iptables-drop":
            s["b"].heal()
        else:
            s["b"].link_up(s["ifb"])
    wait_until(lambda: s["a"].ping(RECEIVER), timeout=10,
               what="the link back")
    assert_nothing_published_and_resume(s, h, img, name, NCHUNKS // 4)


def test_wrong_psk_refused_and_counted(site):
    s = site
    h = s["start"]()
    img = make_image(s, seed=4)
    create(s, img)
    bad = os.path.join(s["workdir"], "bad.psk")
    with open(bad, "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    os.chmod(bad, 0o600)
    r, _ = replicate(s, psk=bad, check=5)
    assert "do not share the PSK" in r.stderr
    wait_until(lambda: h.metric("haven_snap_auth_failures_total") == 1,
               timeout=5, what="the auth failure counted")
    assert h.metric("haven_snap_sessions_total", result="auth_failed") == 1
    assert h.metric("haven_snap_received_chunks_total") == 0
    # Not even the store was made: nothing happens before AUTH.
    assert os.listdir(s["dst"]) == []
    assert h.api("GET", "/v1/snap").json["last_session"]["result"] == \
        "auth_failed"
    # A key others can read is refused by the sender before it connects,
    # and by `haven check` at its line.
    os.chmod(bad, 0o644)
    r, _ = replicate(s, psk=bad, check=1)
    assert "readable or writable by others" in r.stderr
    cfg = os.path.join(s["workdir"], "bad.yaml")
    with open(cfg, "w") as f:
        f.write("haven:\n  state_dir: %s/st2\nsnap:\n  listen: %s:%d\n"
                "  store: /tmp/x\n  psk_file: %s\n"
                % (s["workdir"], RECEIVER, PORT, bad))
    r = subprocess.run([s["bin"], "check", "-c", cfg], capture_output=True,
                       text=True)
    assert r.returncode != 0
    assert re.search(r"bad\.yaml:6:\d+: .*readable or writable by others",
                     r.stdout + r.stderr), r.stdout + r.stderr


def test_damaged_local_chunk_is_not_sent(site):
    """The sender proves each chunk it reads: a flipped byte stops the
    run (exit 3) and the receiver publishes nothing."""
    s = site
    h = s["start"]()
    img = make_image(s, seed=5)
    create(s, img)
    chunks = os.path.join(s["src"], "chunks")
    victim = sorted(os.path.join(d, f) for d, _, fs in os.walk(chunks)
                    for f in fs)[0]
    with open(victim, "r+b") as f:
        f.seek(100)
        b = f.read(1)
        f.seek(100)
        f.write(bytes([b[0] ^ 1]))
    r, _ = replicate(s, check=3)
    assert "local chunk %s" % os.path.basename(victim) in r.stderr
    wait_until(lambda: h.metric("haven_snap_sessions_total",
                                result="closed") == 1,
               timeout=10, what="the receiver to see the session end")
    assert listed(s, s["dst"]) == []


def test_silent_peers_time_out_and_excess_is_refused(site):
    """A peer that never speaks is dropped after handshake_timeout; with
    max_sessions taken, another connection is closed at once."""
    s = site
    h = s["start"](max_sessions=1)
    img = make_image(s, seed=6)
    create(s, img)
    mute = s["a"].popen(["python3", "-c",
                         "import socket,time;"
                         "c=socket.create_connection(('%s',%d));"
                         "time.sleep(10)" % (RECEIVER, PORT)])
    try:
        wait_until(lambda: h.api("GET", "/v1/snap").json[
            "sessions_active"] == 1, timeout=5, what="the mute session")
        r, _ = replicate(s, check=None)
        assert r.returncode == 1, (r.stdout, r.stderr)
        assert h.metric("haven_snap_sessions_total", result="busy") == 1
        wait_until(lambda: h.metric("haven_snap_sessions_total",
                                    result="timeout") == 1,
                   timeout=5, what="the handshake timeout")
        # Room again: the same sender now gets through.
        replicate(s)
    finally:
        mute.kill()
        mute.wait()
    assert h.metric("haven_snap_sessions_total", result="ok") == 1


def test_receiver_killed_mid_transfer(site):
    """The snap plane itself dies (SIGKILL) mid-transfer: the parent
    restarts it, nothing was published, a re-run completes sending only
    the chunks not durably stored, and gc removes the dead session's temp
    files."""
    s = site
    h = s["start"]()
    img = make_image(s, seed=8)
    name = create(s, img)
    p = s["a"].popen(replicate_argv(s, "--bwlimit", str(8 * MIB)),
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_received(h, NCHUNKS // 4)
        old = h.plane_pid("snap")
        os.kill(old, signal.SIGKILL)
        p.communicate(timeout=30)
        assert p.returncode == 1
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    wait_until(lambda: h.plane_pid("snap") not in (None, old), timeout=10,
               what="the snap plane restarted")
    assert listed(s, s["dst"]) == []
    snap(s, s["dst"], "verify", check=0)

    def files():
        fs = [f for _, _, v in os.walk(os.path.join(s["dst"], "chunks"))
              for f in v]
        return ([f for f in fs if not f.startswith(".tmp.")],
                [f for f in fs if f.startswith(".tmp.")])

    # Chunks of the batch the plane had not yet synced and renamed are
    # temp files nothing names; the named ones are sound and kept.
    named, temps = files()
    # The plane syncs every 8 MiB received: most of what it got is kept.
    assert len(named) >= NCHUNKS // 4 - 8 * MIB // CHUNK - 1
    r, st = replicate(s)
    print("after receiver crash: %s" % r.stdout.strip().splitlines()[-1])
    assert st["wanted"] == NCHUNKS - len(named)
    assert listed(s, s["dst"]) == [name]
    assert restore_equals(s, name, img)
    if temps:
        snap(s, s["dst"], "gc", check=0)
        assert files()[1] == []
    snap(s, s["dst"], "verify", check=0)


def test_reload_moves_the_listener(site):
    """A reload that changes snap.listen's port: the plane serves there."""
    s = site
    h = s["start"]()
    img = make_image(s, seed=9)
    name = create(s, img)
    with open(h.config) as f:
        text = f.read()
    with open(h.config, "w") as f:
        f.write(text.replace(":%d\n" % PORT, ":%d\n" % (PORT + 1)))
    r = h.api("POST", "/v1/reload")
    assert r.status == 200 and r.json["ok"] is True, r.json
    argv = replicate_argv(s)
    argv[argv.index("--to") + 1] = "%s:%d" % (RECEIVER, PORT + 1)
    r = wait_until(lambda: (lambda c: c if c.returncode == 0 else None)(
        s["a"].run(argv, check=False, timeout=60)), timeout=10,
        what="replication to the new port")
    assert listed(s, s["dst"]) == [name]
    r = s["a"].run(replicate_argv(s), check=False, timeout=60)
    assert r.returncode == 1 and "connect" in r.stderr, r.stderr


def test_trickling_peer_cannot_stretch_the_handshake(site):
    """handshake_timeout (2 s here) runs from accept: a peer sending a
    byte of HELLO every 0.3 s is still dropped on time."""
    s = site
    h = s["start"]()
    t0 = time.monotonic()
    slow = s["a"].popen(["python3", "-c",
                         "import socket,time\n"
                         "c=socket.create_connection(('%s',%d))\n"
                         "for b in b'HVRP'*10:\n"
                         "    c.send(bytes([b])); time.sleep(0.3)\n"
                         % (RECEIVER, PORT)],
                        stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: h.metric("haven_snap_sessions_total",
                                    result="timeout") == 1,
                   timeout=6, what="the handshake timeout")
        assert time.monotonic() - t0 < 4.5
    finally:
        slow.kill()
        slow.wait()


def test_two_senders_of_one_snapshot_at_once(site):
    """Two sessions offer the same snapshot at the same time: one volume
    changes in one session at a time, so the second is refused as busy
    (counted) while the first runs; the snapshot is published once,
    whole, and a retry afterwards finds it there, sending nothing."""
    s = site
    h = s["start"]()
    img = make_image(s, seed=10)
    name = create(s, img)
    ps = [s["a"].popen(replicate_argv(s, "--bwlimit", str(24 * MIB)),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True) for _ in range(2)]
    try:
        outs = [p.communicate(timeout=60) for p in ps]
    finally:
        for p in ps:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert sorted(p.returncode for p in ps) == [0, 1], outs
    assert any("is busy" in err for _, err in outs), outs
    assert h.metric("haven_snap_sessions_total", result="ok") == 1
    assert listed(s, s["dst"]) == [name]
    assert restore_equals(s, name, img)
    r, st = replicate(s)
    assert "had " in r.stdout and st["chunks"] == 0, r.stdout
    snap(s, s["dst"], "verify", check=0)
