"""Continuous replication: haven A snapshots a volume every second and
ships it to haven B's snap plane, with the lag measured per peer.

Two network namespaces on a veth (198.18.0.1 runs A with `snap.volumes`,
198.18.0.2 runs B, a receiver). A writer overwrites A's source image ten
times a second; each state writes its sequence number into every chunk,
so a replica mixing two states is seen. While it runs, B's snapshots keep
arriving, A's measured lag stays within interval + ship time + a margin,
and B's newest snapshot restores to one complete state the writer wrote.
Cutting the link (iptables DROP) makes the lag grow past rpo_target and
the alarm's exec run once; healing it brings the lag back and the
recovery event runs once. Each peer ships in its own pipeline: with a
second receiver stopped (SIGSTOP), the first one's lag stays within
interval + ship time, the stopped one skips snapshots and, resumed,
catches up with the newest.

Root and network namespaces are needed; without them every test skips.
"""

import os
import pwd
import signal
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import time

import pytest

from havenlib.poll import wait_until

CHUNK = 65536
NCHUNKS = 32
SENDER, RECEIVER, PORT = "198.18.0.1", "198.18.0.2", 7411
INTERVAL = 1.0
RPO_TARGET = 4.0


def run_user():
    for name in ("haven", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    pytest.skip("neither user haven nor nobody exists")


def state_bytes(seq):
    """The image of state seq: chunk c is (seq, c) repeated."""
    return b"".join(struct.pack("<QQ", seq, c) * (CHUNK // 16)
                    for c in range(NCHUNKS))


def state_of(data):
    """The seq of a complete state, or raise: the image is a mix."""
    assert len(data) == CHUNK * NCHUNKS, len(data)
    seq = struct.unpack_from("<Q", data, 0)[0]
    assert data == state_bytes(seq), "replica mixes writer states"
    return seq


class Writer(threading.Thread):
    """Overwrites path with state 1, 2, ... every period, chunk by chunk,
    as a database would rewrite its pages in place."""

    def __init__(self, path, period=0.1):
        super().__init__(daemon=True)
        self.path, self.period = path, period
        self.seq = 0
        self.done = {}  # seq -> time its last chunk was written
        self.stop = threading.Event()

    def write_state(self, fd, seq):
        for c in range(NCHUNKS):
            os.pwrite(fd, struct.pack("<QQ", seq, c) * (CHUNK // 16),
                      c * CHUNK)
        self.done[seq] = time.time()
        self.seq = seq

    def run(self):
        fd = os.open(self.path, os.O_WRONLY)
        try:
            while not self.stop.is_set():
                self.write_state(fd, self.seq + 1)
                self.stop.wait(self.period)
        finally:
            os.close(fd)


@pytest.fixture
def site(netns, haven, haven_bin, workdir):
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    a, b = netns.ns("pri"), netns.ns("rep")
    netns.link(a, b, SENDER + "/24", RECEIVER + "/24")
    pw = run_user()
    top = tempfile.mkdtemp(prefix="hv-snapcont-")
    os.chmod(top, 0o711)
    dirs = {}
    for d in ("src", "dst", "dst2", "alarm"):
        dirs[d] = os.path.join(top, d)
        os.mkdir(dirs[d])
        os.chown(dirs[d], pw.pw_uid, pw.pw_gid)
    psk = os.path.join(top, "psk")
    with open(psk, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(psk, 0o600)
    os.chown(psk, pw.pw_uid, pw.pw_gid)
    image = os.path.join(top, "vm1.img")
    with open(image, "wb") as f:
        f.write(state_bytes(0))
    os.chmod(image, 0o644)
    events = os.path.join(dirs["alarm"], "events")
    w = str(workdir)
    cfg_b = ("haven:\n  state_dir: %s/state-b\n"
             "api:\n  socket: %s/b.sock\n"
             "snap:\n  listen: %s:%d\n  store: %s\n  psk_file: %s\n"
             % (w, w, RECEIVER, PORT, dirs["dst"], psk))
    hb = haven(cfg_b, ns=b, name="replica")

    def start_a(peers=("%s:%d" % (RECEIVER, PORT),), timeout="30s"):
        cfg_a = ("haven:\n  state_dir: %s/state-a\n"
                 "api:\n  socket: %s/a.sock\n"
                 "snap:\n  store: %s\n  psk_file: %s\n"
                 "  volumes:\n"
                 "    - name: vm1\n      source: %s\n      interval: %dms\n"
                 "      keep: 5\n      peers: [%s]\n"
                 "      rpo_target: %dms\n      cycle_timeout: %s\n"
                 "  alarms:\n"
                 "    exec: 'echo \"$HAVEN_EVENT $HAVEN_VOLUME $HAVEN_PEER "
                 "$HAVEN_LAG_MS\" >> %s'\n"
                 % (w, w, dirs["src"], psk, image, INTERVAL * 1000,
                    ", ".join('"%s"' % p for p in peers),
                    RPO_TARGET * 1000, timeout, events))
        return haven(cfg_a, ns=a, name="primary")

    yield {"a": a, "b": b, "start_a": start_a, "hb": hb, "image": image,
           "dst": dirs["dst"], "dst2": dirs["dst2"], "src": dirs["src"],
           "psk": psk, "events": events,
           "bin": haven_bin, "workdir": w, "pw": pw}
    shutil.rmtree(top, ignore_errors=True)


def peer_state(h, i=0):
    j = h.api("GET", "/v1/snap").json
    v = j["continuous"][0]
    return v, v["peers"][i]


def newest_on_b(s):
    ids = s["hb"].api("GET", "/v1/snap").json["volumes"].get("vm1", [])
    return ids[-1] if ids else None


def restore_seq(s, name):
    out = os.path.join(s["workdir"], "restored.img")
    r = subprocess.run([s["bin"], "snap", "restore", "--store", s["dst"],
                        "vm1/" + name, out], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(out, "rb") as f:
        return state_of(f.read())


def events(s):
    try:
        with open(s["events"]) as f:
            return [line.split() for line in f if line.strip()]
    except FileNotFoundError:
        return []


@pytest.mark.timing
def test_continuous_lag_alarm_recovery(site):
    s = site
    s["ha"] = s["start_a"]()
    writer = Writer(s["image"])
    writer.start()
    try:
        # Snapshots keep arriving at B.
        seen = set()

        def arrivals():
            n = newest_on_b(s)
            if n is not None:
                seen.add(n)
            return len(seen) >= 4
        wait_until(arrivals, timeout=30, interval=0.2,
                   what="four snapshots arriving at B")

        # Steady state: the lag stays within interval + ship + margin.
        lags, ships = [], []
        t_end = time.time() + 8
        while time.time() < t_end:
            v, p = peer_state(s["ha"])
            lags.append(p["lag_ms"] / 1000.0)
            ships.append(p["ship_ms"] / 1000.0)
            time.sleep(0.1)
        lags.sort()
        bound = INTERVAL + max(ships) + 1.0
        print("lag median %.3f s max %.3f s; ship max %.3f s; bound %.3f s"
              % (lags[len(lags) // 2], lags[-1], max(ships), bound))
        assert lags[-1] <= bound, (lags[-1], bound)
        assert s["ha"].metric("haven_snap_lag_seconds", volume="vm1",
                              peer="%s:%d" % (RECEIVER, PORT)) <= bound
        assert s["ha"].metric("haven_snap_cycles_total", volume="vm1",
                              result="ok") >= 4
        assert events(s) == []
        # The change detection asked for and used, in the API; the roles
        # each side holds (A creates, B receives).
        v, _ = peer_state(s["ha"])
        assert v["detect"] == "auto" and v["last_detect"] in (
            "rescan", "reflink"), v
        assert v["last_read_chunks"] + v["last_reused_chunks"] > 0, v
        assert s["ha"].api("GET", "/v1/snap").json["roles"]["vm1"][
            "role"] == "primary"
        assert s["hb"].api("GET", "/v1/snap").json["roles"]["vm1"][
            "role"] == "replica"

        # B's newest snapshot is one complete earlier state of A's source.
        name = newest_on_b(s)
        seq = restore_seq(s, name)
        assert 1 <= seq <= writer.seq
        print("replica %s holds writer state %d (writer at %d)"
              % (name, seq, writer.seq))

        # Cut: the lag grows past rpo_target and the alarm runs once.
        s["a"].block(s["b"])
        try:
            wait_until(lambda: any(e[0] == "rpo_exceeded"
                                   for e in events(s)),
                       timeout=RPO_TARGET + 15, interval=0.2,
                       what="the rpo_exceeded event")
            v, p = peer_state(s["ha"])
            assert p["rpo_exceeded"] and p["lag_ms"] > RPO_TARGET * 1000
            # The cycle in flight fails at its 5 s I/O timeout, and says so.
            wait_until(lambda: peer_state(s["ha"])[1]["last_error"] != "",
                       timeout=15, what="the failed shipment reported")
            ev = events(s)[0]
            assert ev[1:3] == ["vm1", "%s:%d" % (RECEIVER, PORT)], ev
            assert int(ev[3]) > RPO_TARGET * 1000
            time.sleep(2)
            assert len(events(s)) == 1, events(s)
        finally:
            s["a"].heal()

        # Back: the lag recovers, and the recovery runs once.
        wait_until(lambda: any(e[0] == "rpo_recovered"
                               for e in events(s)),
                   timeout=30, interval=0.2, what="the rpo_recovered event")
        wait_until(lambda: peer_state(s["ha"])[1]["lag_ms"]
                   <= (INTERVAL + 2.0) * 1000,
                   timeout=15, what="the lag back near the interval")
        time.sleep(2)
        assert [e[0] for e in events(s)] == ["rpo_exceeded",
                                             "rpo_recovered"]
        assert s["ha"].metric("haven_snap_rpo_events_total",
                              event="exceeded") == 1
        assert s["ha"].metric("haven_snap_rpo_events_total",
                              event="recovered") == 1
        assert s["ha"].metric("haven_snap_cycles_total", volume="vm1",
                              result="partial") >= 1
        # The cut peer's shipments outlived the interval; the cycles did
        # not wait for them: the snapshots made meanwhile were skipped
        # for that peer, none started late.
        assert s["ha"].metric("haven_snap_cycle_overruns_total",
                              volume="vm1") == 0
        assert s["ha"].metric("haven_snap_ship_skipped_total",
                              volume="vm1") >= 1
        print("cycles %r" % peer_state(s["ha"])[0]["results"])
        name = newest_on_b(s)
        assert restore_seq(s, name) <= writer.seq
        out = subprocess.run([s["bin"], "status", "-s", s["ha"].socket],
                             capture_output=True, text=True,
                             timeout=10).stdout
        assert "(no receiver)" in out and "continuous vm1" in out, out
        assert re.search(r"-> %s:%d +lag \d+ ms" % (RECEIVER, PORT), out), out
    finally:
        writer.stop.set()
        writer.join()


def test_demoted_volume_is_skipped(site):
    """A volume demoted on the sending node (`haven snap demote`, run as
    the plane's user) is no longer snapshotted: its cycles end as
    "replica", without an error or an RPO alarm, and a promote brings
    them back."""
    s = site
    ha = s["start_a"]()
    wait_until(lambda: peer_state(ha)[0]["results"]["ok"] >= 1, timeout=20,
               what="a first cycle")
    pw = s["pw"]

    def as_plane(*args):
        r = subprocess.run(["setpriv", "--reuid=%d" % pw.pw_uid,
                            "--regid=%d" % pw.pw_gid, "--clear-groups",
                            s["bin"], "snap", args[0], "--store", s["src"]]
                           + list(args[1:]), capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r
        return r

    as_plane("demote", "vm1")
    wait_until(lambda: peer_state(ha)[0]["results"]["replica"] >= 2,
               timeout=20, what="cycles skipped as replica")
    v, _ = peer_state(ha)
    assert v["replica_here"] is True and v["last_error"] == "", v
    failed = v["results"]["failed"]
    assert events(s) == []
    as_plane("promote", "vm1")
    ok = v["results"]["ok"]
    wait_until(lambda: peer_state(ha)[0]["results"]["ok"] > ok, timeout=20,
               what="cycles creating again")
    v, _ = peer_state(ha)
    assert v["replica_here"] is False and v["results"]["failed"] == failed


def test_fanout_one_peer_down(site):
    """Each snapshot goes to every peer; a peer that refuses does not hold
    back the other, and only its own lag crosses rpo_target."""
    s = site
    down = "%s:%d" % (RECEIVER, PORT + 1)  # nothing listens there
    s["ha"] = h = s["start_a"](("%s:%d" % (RECEIVER, PORT), down))
    wait_until(lambda: any(e[0] == "rpo_exceeded" for e in events(s)),
               timeout=RPO_TARGET + 10, interval=0.2,
               what="the rpo_exceeded event for the down peer")
    v, up = peer_state(h, 0)
    _, dn = peer_state(h, 1)
    assert up["lag_ms"] <= (INTERVAL + 1.0) * 1000 and up["ok"] >= 3, up
    assert not up["rpo_exceeded"] and up["last_error"] == "", up
    assert dn["rpo_exceeded"] and dn["ok"] == 0 and dn["failed"] >= 3, dn
    assert dn["last_error"] != ""
    assert [e[:3] for e in events(s)] == [["rpo_exceeded", "vm1", down]]
    assert h.metric("haven_snap_cycles_total", volume="vm1",
                    result="partial") >= 3
    assert h.metric("haven_snap_cycles_total", volume="vm1",
                    result="ok") == 0
    assert up["acked_id"] in \
        s["hb"].api("GET", "/v1/snap").json["volumes"]["vm1"]

    # A reload (keep 5 -> 6) keeps what was measured: the down peer is
    # still over its target, so no second event; the counters go on.
    before = h.metric("haven_snap_cycles_total", volume="vm1",
                      result="partial")
    with open(h.config) as f:
        text = f.read()
    with open(h.config, "w") as f:
        f.write(text.replace("keep: 5", "keep: 6"))
    r = h.api("POST", "/v1/reload")
    assert r.status == 200 and r.json["ok"] is True, r.json
    wait_until(lambda: h.metric("haven_snap_cycles_total", volume="vm1",
                                result="partial") >= before + 2,
               timeout=10, what="cycles after the reload")
    _, dn = peer_state(h, 1)
    assert dn["rpo_exceeded"] and dn["lag_ms"] > RPO_TARGET * 1000, dn
    assert len(events(s)) == 1, events(s)
    assert h.metric("haven_snap_rpo_events_total", event="exceeded") == 1


@pytest.mark.timing
def test_pipeline_stalled_peer(site, haven):
    """Two receivers; the second one's snap plane is stopped (SIGSTOP) for
    a while. The first keeps its lag within interval + ship time, the
    cycles keep their interval, the stopped one's shipments are killed at
    cycle_timeout and the snapshots made meanwhile are skipped for it
    (counted); resumed, it gets the newest snapshot at once."""
    s = site
    w = s["workdir"]
    cfg_b2 = ("haven:\n  state_dir: %s/state-b2\n"
              "api:\n  socket: %s/b2.sock\n"
              "snap:\n  listen: %s:%d\n  store: %s\n  psk_file: %s\n"
              % (w, w, RECEIVER, PORT + 1, s["dst2"], s["psk"]))
    hb2 = haven(cfg_b2, ns=s["b"], name="replica2")
    fast, slow = "%s:%d" % (RECEIVER, PORT), "%s:%d" % (RECEIVER, PORT + 1)
    s["ha"] = h = s["start_a"]((fast, slow), timeout="3s")
    writer = Writer(s["image"])
    writer.start()
    pid = None
    try:
        wait_until(lambda: peer_state(h, 0)[1]["ok"] >= 2 and
                   peer_state(h, 1)[1]["ok"] >= 2, timeout=30,
                   interval=0.2, what="both peers acknowledging")
        v0, _ = peer_state(h)
        apid = h.plane_pid("snap")
        fds0 = len(os.listdir("/proc/%d/fd" % apid))
        pid = hb2.plane_pid("snap")
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        lags, ships, busy = [], [], False
        t_end = time.time() + 12
        while time.time() < t_end:
            v, up = peer_state(h, 0)
            _, dn = peer_state(h, 1)
            lags.append(up["lag_ms"] / 1000.0)
            ships.append(up["ship_ms"] / 1000.0)
            busy = busy or dn["shipping"]
            time.sleep(0.1)
        bound = INTERVAL + max(ships) + 1.0
        print("stalled peer: healthy lag max %.3f s, ship max %.3f s, "
              "bound %.3f s" % (max(lags), max(ships), bound))
        assert max(lags) <= bound, (max(lags), bound)
        v, up = peer_state(h, 0)
        _, dn = peer_state(h, 1)
        print("stalled peer: %r" % dn)
        assert busy
        assert up["last_error"] == "" and up["skipped"] == 0, up
        # About one cycle a second went on (the stall did not stretch
        # them) and the stalled peer skipped most of their snapshots.
        assert v["cycles"] - v0["cycles"] >= 9, (v0["cycles"], v)
        assert v["overruns"] == 0, v
        assert dn["skipped"] >= 3 and dn["timeouts"] >= 2, dn
        assert dn["lag_ms"] > 10 * 1000, dn
        assert h.metric("haven_snap_ship_skipped_total", volume="vm1",
                        peer=slow) == dn["skipped"]
        assert h.metric("haven_snap_ship_skipped_total", volume="vm1",
                        peer=fast) == 0
        newest = v["last_id"]
    finally:
        if pid is not None:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
    try:
        # Resumed: the shipment in flight ends, then the newest snapshot
        # made while it was stopped (IDs sort by creation time) goes at
        # once, not the ones it skipped; its lag is back near the
        # interval.
        wait_until(lambda: peer_state(h, 1)[1]["acked_id"] >= newest,
                   timeout=15, interval=0.1,
                   what="the resumed peer acknowledging the newest")
        _, dn2 = peer_state(h, 1)
        print("resumed: acked %s (newest at resume %s), %d shipments ok"
              % (dn2["acked_id"], newest, dn2["ok"] - dn["ok"]))
        assert dn2["ok"] - dn["ok"] <= 3, (dn, dn2)
        dn = dn2
        wait_until(lambda: peer_state(h, 1)[1]["lag_ms"]
                   <= (INTERVAL + 2.0) * 1000, timeout=15,
                   what="the resumed peer's lag back near the interval")
        ids = hb2.api("GET", "/v1/snap").json["volumes"]["vm1"]
        assert dn["acked_id"] in ids, (dn, ids)
        # Every killed shipping process was reaped, its pipe closed: no
        # zombie child, no fd left over (one cycle and one shipment per
        # peer at most may be running: 3 pipes).
        kids = plane_children(apid)
        assert "Z" not in kids, kids
        fds = len(os.listdir("/proc/%d/fd" % apid))
        assert fds <= fds0 + 3, (fds0, fds)
        _, up = peer_state(h, 0)
        assert up["lag_ms"] <= (INTERVAL + 2.0) * 1000, up
        out = subprocess.run([s["bin"], "status", "-s", h.socket],
                             capture_output=True, text=True,
                             timeout=10).stdout
        assert re.search(r"-> %s +lag \d+ ms, last ship \d+ ms, "
                         r"skipped [1-9]" % re.escape(slow), out), out
    finally:
        writer.stop.set()
        writer.join()


def plane_children(pid):
    """The state letter of each child of pid (from /proc)."""
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
            for c in f.read().split():
                try:
                    with open("/proc/%s/stat" % c) as st:
                        out.append(st.read().rsplit(")", 1)[1].split()[0])
                except FileNotFoundError:
                    pass
    return out


def check_errors(haven_bin, workdir, body):
    psk = os.path.join(str(workdir), "k.psk")
    with open(psk, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(psk, 0o600)
    cfg = os.path.join(str(workdir), "cont.yaml")
    with open(cfg, "w") as f:
        f.write(body.replace("PSK", psk))
    r = subprocess.run([str(haven_bin), "check", "-c", cfg],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode != 0
    return r.stdout + r.stderr


def test_config_errors_at_their_line(haven_bin, workdir):
    """Each mistake in snap.volumes and snap.alarms is refused at its
    line and column."""
    out = check_errors(haven_bin, workdir,
                       "snap:\n  store: /tmp/x\n  psk_file: PSK\n"
                       "  volumes:\n"
                       "    - name: .db\n"
                       "      source: rel/disk.img\n"
                       "      peers: [\"198.18.0.2\"]\n"
                       "  alarms:\n    webhook: ftp://x/y\n")
    assert "cont.yaml:5:13: name:" in out, out
    assert "cont.yaml:6:15: source: want an absolute path" in out, out
    assert "cont.yaml:7:14: peers: \"198.18.0.2\" is not ip:port" in out, \
        out
    assert "cont.yaml:9:14: webhook must be an http:// URL" in out, out
    out = check_errors(haven_bin, workdir,
                       "snap:\n  volumes:\n    - name: db\n"
                       "      source: /d.img\n")
    assert "cont.yaml:3:5: snap: volumes need store and psk_file" in out, \
        out
    out = check_errors(haven_bin, workdir,
                       "snap:\n  store: /tmp/x\n  psk_file: PSK\n"
                       "  volumes:\n    - name: db\n"
                       "      source: /d.img\n      interval: 10ms\n")
    assert "cont.yaml:7:17: interval 10ms out of range" in out, out
