"""`haven snap create --freeze`: a snapshot of a mounted file system's
image that is consistent, and a freeze that is always thawed.

A real ext4 (and XFS when mkfs.xfs works) image is loop-mounted; a writer
keeps creating files in it (each written whole to a temp name, then
renamed) while the image is snapshotted with --freeze and pre/post hooks.
The restored image passes `e2fsck -fn` (`xfs_repair -n`), mounts, and
holds the files written before, the pre hook's marker, and only complete
writer files. Two file systems frozen together (a consistency group) give
snapshots under one ID.

The freeze is bounded: while the create is stuck (the test holds the
store's lock, so the create waits with the file system frozen), the guard
thaws at --freeze-timeout and the snapshot is discarded; when the haven
process is killed outright, the guard thaws at once. A store on the
frozen file system and a path that is not a mount point are refused.

Root and loop devices are needed; without them every test skips.
"""

import fcntl
import os
import pwd
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest

from havenlib.poll import wait_until

MIB = 1 << 20


def run(*argv, check=True, timeout=60):
    r = subprocess.run([str(a) for a in argv], capture_output=True,
                       text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, (argv, r.returncode, r.stdout, r.stderr)
    return r


def snap(haven_bin, store, *args, check=0, timeout=60):
    r = run(haven_bin, "snap", args[0], "--store", store, *args[1:],
            check=False, timeout=timeout)
    if check is not None:
        assert r.returncode == check, (r.returncode, r.stdout, r.stderr)
    assert "Sanitizer" not in r.stderr, r.stderr
    return r


def can_loop(tmp):
    if os.geteuid() != 0:
        return "needs root (loop mounts, FIFREEZE)"
    if shutil.which("mkfs.ext4") is None or shutil.which("e2fsck") is None:
        return "needs e2fsprogs"
    img, mnt = os.path.join(tmp, "probe.img"), os.path.join(tmp, "probe")
    os.mkdir(mnt)
    with open(img, "wb") as f:
        f.truncate(8 * MIB)
    try:
        run("mkfs.ext4", "-q", "-F", img)
        if run("mount", "-o", "loop", img, mnt, check=False).returncode:
            return "cannot loop-mount"
        run("umount", mnt)
    finally:
        os.unlink(img)
        os.rmdir(mnt)
    return None


class Fs:
    """A file system of kind in an image file, loop-mounted."""

    def __init__(self, top, name, kind):
        self.kind, self.name = kind, name
        self.img = os.path.join(top, name + ".img")
        self.mnt = os.path.join(top, name)
        os.mkdir(self.mnt)
        with open(self.img, "wb") as f:
            f.truncate((300 if kind == "xfs" else 32) * MIB)
        if kind == "xfs":
            run("mkfs.xfs", "-q", "-f", self.img)
        else:
            run("mkfs.ext4", "-q", "-F", self.img)
        run("mount", "-o", "loop", self.img, self.mnt)
        self.mounted = [self.mnt]

    def check_copy(self, img, where, check_files):
        """fsck the restored image and check its files. ext4's freeze
        leaves a clean journal: e2fsck -fn passes on the image as it is.
        XFS's leaves a log to replay (as after a crash, which a frozen
        image equals): mount it (replay), check, unmount, xfs_repair -n."""
        os.mkdir(where)
        if self.kind == "ext4":
            ck = run("e2fsck", "-fn", img, check=False)
            assert ck.returncode == 0, (ck.stdout, ck.stderr)
            run("mount", "-o", "loop,ro", img, where)
        else:
            run("mount", "-o", "loop,nouuid", img, where)
        self.mounted.append(where)
        check_files(where)
        run("umount", where)
        self.mounted.pop()
        if self.kind == "xfs":
            ck = run("xfs_repair", "-n", "-f", img, check=False)
            assert ck.returncode == 0, (ck.stdout, ck.stderr)

    def cleanup(self):
        for m in reversed(self.mounted):
            # A freeze left behind would hang the umount: thaw first.
            subprocess.run(["fsfreeze", "-u", m], capture_output=True)
            subprocess.run(["umount", "-l", m], capture_output=True)


@pytest.fixture
def top(tmp_path):
    why = can_loop(str(tmp_path))
    if why:
        pytest.skip(why)
    fss = []

    def mkfs(name, kind="ext4"):
        fs = Fs(str(tmp_path), name, kind)
        fss.append(fs)
        return fs

    yield str(tmp_path), mkfs
    for fs in fss:
        fs.cleanup()


def script(path, body):
    with open(path, "w") as f:
        f.write("#!/bin/sh\nset -e\n" + body)
    os.chmod(path, 0o755)


def content(i):
    return (b"file %d\n" % i) * (100 + 37 * (i % 100))


class Writer(threading.Thread):
    """Creates w-0, w-1, ... in mnt: each written whole to a temp name and
    renamed, as an application that keeps its files consistent does."""

    def __init__(self, mnt):
        super().__init__(daemon=True)
        self.mnt, self.n = mnt, 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set() and self.n < 5000:
            tmp = os.path.join(self.mnt, ".tmp-%d" % self.n)
            try:
                with open(tmp, "wb") as f:
                    f.write(content(self.n))
                os.rename(tmp, os.path.join(self.mnt, "w-%d" % self.n))
            except OSError:  # full: stop writing
                return
            self.n += 1


def fs_kinds():
    kinds = ["ext4"]
    if shutil.which("mkfs.xfs") and shutil.which("xfs_repair"):
        kinds.append("xfs")
    return kinds


@pytest.mark.parametrize("kind", fs_kinds())
def test_freeze_snapshot_is_consistent(top, kind, haven_bin):
    tmp, mkfs = top
    fs = mkfs("data", kind)
    store = os.path.join(tmp, "store")
    for i in range(20):
        with open(os.path.join(fs.mnt, "base-%d" % i), "wb") as f:
            f.write(content(i))
    log = os.path.join(tmp, "hooks.log")
    w = Writer(fs.mnt)
    w.start()
    wait_until(lambda: w.n >= 20, timeout=10, what="the writer running")
    # The pre hook writes into the file system: it must run before the
    # freeze (or it would block until the guard's thaw). The post hook
    # too: after the thaw. Hooks are argv, no shell: scripts here.
    pre, post = os.path.join(tmp, "pre.sh"), os.path.join(tmp, "post.sh")
    script(pre, 'echo "pre $HAVEN_SNAP_VOLUME $HAVEN_SNAP_FREEZE $1" >> %s\n'
           'echo flushed > %s/marker\n' % (log, fs.mnt))
    script(post, 'echo "post $HAVEN_SNAP_RESULT $HAVEN_SNAP_ID" >> %s\n'
           'echo after > %s/post-marker\n' % (log, fs.mnt))
    r = snap(haven_bin, store, "create", "data=" + fs.img, "--freeze",
             fs.mnt, "--freeze-timeout", "20", "--pre", pre + " arg1",
             "--post", post)
    n_at_snap = w.n
    w.stop.set()
    w.join(10)
    name = re.search(r"^snapshot (\S+)$", r.stdout, re.M).group(1)
    sid = name.split("/")[1]
    assert "does not" not in r.stderr
    hooks = open(log).read().split("\n")
    assert hooks[0] == "pre data %s arg1" % fs.mnt, hooks
    assert hooks[1] == "post ok %s" % sid, hooks
    assert os.path.exists(os.path.join(fs.mnt, "post-marker"))

    out = os.path.join(tmp, "restored.img")
    snap(haven_bin, store, "restore", name, out)

    def check_files(got):
        for i in range(20):
            with open(os.path.join(got, "base-%d" % i), "rb") as f:
                assert f.read() == content(i)
        assert open(os.path.join(got, "marker")).read() == "flushed\n"
        names = [f for f in os.listdir(got) if f.startswith("w-")]
        assert len(names) >= 20, len(names)
        assert len(names) <= n_at_snap + 1
        for f in names:
            with open(os.path.join(got, f), "rb") as fh:
                assert fh.read() == content(int(f[2:])), f
        assert not os.path.exists(os.path.join(got, "post-marker"))

    fs.check_copy(out, os.path.join(tmp, "restored"), check_files)


def test_group_one_id(top, haven_bin):
    tmp, mkfs = top
    a, b = mkfs("db"), mkfs("wal")
    for fs in (a, b):
        with open(os.path.join(fs.mnt, "f"), "w") as f:
            f.write(fs.name)
    store = os.path.join(tmp, "store")
    r = snap(haven_bin, store, "create", "db=" + a.img, "wal=" + b.img,
             "--freeze", a.mnt, "--freeze", b.mnt)
    names = re.findall(r"^snapshot (\S+)$", r.stdout, re.M)
    assert [n.split("/")[0] for n in names] == ["db", "wal"]
    assert names[0].split("/")[1] == names[1].split("/")[1], names
    gid = re.search(r"^group (\S+) volumes=2 frozen=2$", r.stdout,
                    re.M).group(1)
    assert names[0] == "db/" + gid
    # One volume failing takes the whole group back: nothing published.
    r = snap(haven_bin, store, "create", "db=" + a.img,
             "wal=" + os.path.join(tmp, "missing.img"), "--freeze", a.mnt,
             check=1)
    assert "wal" in r.stderr
    lst = snap(haven_bin, store, "list").stdout
    assert len(re.findall(r"^db ", lst, re.M)) == 1, lst
    assert len(re.findall(r"^wal ", lst, re.M)) == 1, lst
    # Both are thawed.
    for fs in (a, b):
        with open(os.path.join(fs.mnt, "g"), "w") as f:
            f.write("x")
            os.fsync(f.fileno())


def test_refusals(top, haven_bin):
    tmp, mkfs = top
    fs = mkfs("data")
    r = snap(haven_bin, os.path.join(fs.mnt, "store"), "create",
             "d=" + fs.img, "--freeze", fs.mnt, check=1)
    assert "is on that file system" in r.stderr, r.stderr
    sub = os.path.join(fs.mnt, "sub")
    os.mkdir(sub)
    r = snap(haven_bin, os.path.join(tmp, "store"), "create",
             "d=" + fs.img, "--freeze", sub, check=1)
    assert "not a mount point" in r.stderr, r.stderr
    r = snap(haven_bin, os.path.join(tmp, "store"), "create",
             "d=" + fs.img, "--freeze", fs.mnt, "--pre", "/bin/false",
             check=1)
    assert "pre hook failed" in r.stderr, r.stderr
    lst = snap(haven_bin, os.path.join(tmp, "store"), "list").stdout
    assert re.search(r"^d ", lst, re.M) is None, lst


def fs_writable(mnt, timeout=10.0):
    """True when a write + fsync in mnt completes within timeout (a
    frozen file system blocks it)."""
    done = threading.Event()

    def w():
        with open(os.path.join(mnt, "probe-%f" % time.time()), "w") as f:
            f.write("x")
            os.fsync(f.fileno())
        done.set()

    threading.Thread(target=w, daemon=True).start()
    return done.wait(timeout)


def create_stuck(haven_bin, tmp, fs, timeout_s):
    """Start a create that freezes fs, then waits for the store lock the
    test holds. Returns (process, lock file)."""
    store = os.path.join(tmp, "store")
    snap(haven_bin, store, "create", "--volume", "seed", fs.img)
    lockf = open(os.path.join(store, "lock"), "rb")
    fcntl.flock(lockf, fcntl.LOCK_EX)
    p = subprocess.Popen([haven_bin, "snap", "create", "--store", store,
                          "d=" + fs.img, "--freeze", fs.mnt,
                          "--freeze-timeout", str(timeout_s)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)

    def blocked():
        # /proc/locks shows a waiter as "N: -> FLOCK ... PID ...": the
        # create has frozen fs and now waits for the lock.
        return any("->" in ln and (" %d " % p.pid) in ln
                   for ln in open("/proc/locks"))

    wait_until(blocked, timeout=10, what="the create waiting, frozen")
    return p, lockf, store


def test_freeze_timeout_thaws_and_discards(top, haven_bin):
    tmp, mkfs = top
    fs = mkfs("data")
    p, lockf, store = create_stuck(haven_bin, tmp, fs, 0.5)
    try:
        assert fs_writable(fs.mnt), "still frozen after freeze-timeout"
    finally:
        lockf.close()
    out, err = p.communicate(timeout=30)
    assert p.returncode == 1, (out, err)
    assert "outlasted its timeout" in err, err
    assert "guard thawed" in err, err
    lst = snap(haven_bin, store, "list").stdout
    assert re.search(r"^d ", lst, re.M) is None, lst


def test_killed_freezer_is_thawed(top, haven_bin):
    tmp, mkfs = top
    fs = mkfs("data")
    p, lockf, store = create_stuck(haven_bin, tmp, fs, 120)
    try:
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        assert fs_writable(fs.mnt), "still frozen after the freezer died"
    finally:
        lockf.close()
    p.communicate(timeout=10)


def run_user():
    for name in ("haven", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    pytest.skip("neither user haven nor nobody exists")


def test_continuous_cycles_freeze(top, haven, haven_bin, workdir):
    """snap.volumes[] with freeze and hooks: every cycle runs pre, freezes,
    snapshots, thaws, runs post; the store keeps retain.last of them; a
    kept snapshot restores to an image e2fsck finds clean."""
    tmp, mkfs = top
    fs = mkfs("vm")
    with open(os.path.join(fs.mnt, "data"), "w") as f:
        f.write("payload\n")
    pw = run_user()
    os.chmod(tmp, 0o755)
    os.chmod(fs.img, 0o644)
    store, logd = os.path.join(tmp, "store"), os.path.join(tmp, "log")
    for d in (store, logd):
        os.mkdir(d)
        os.chown(d, pw.pw_uid, pw.pw_gid)
    psk = os.path.join(tmp, "psk")
    with open(psk, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(psk, 0o600)
    os.chown(psk, pw.pw_uid, pw.pw_gid)
    log = os.path.join(logd, "hooks")
    pre, post = os.path.join(tmp, "pre.sh"), os.path.join(tmp, "post.sh")
    script(pre, 'echo "pre $HAVEN_SNAP_VOLUME $HAVEN_SNAP_FREEZE" >> %s\n'
           % log)
    script(post, 'echo "post $HAVEN_SNAP_RESULT $HAVEN_SNAP_ID" >> %s\n'
           % log)
    w = str(workdir)
    h = haven("haven:\n  state_dir: %s/state\napi:\n  socket: %s/a.sock\n"
              "snap:\n  store: %s\n  psk_file: %s\n  volumes:\n"
              "    - name: vm\n      source: %s\n      interval: 300ms\n"
              "      retain: {last: 2}\n      freeze: [%s]\n"
              "      freeze_timeout: 10s\n"
              "      pre_hook: [%s]\n      post_hook: [%s]\n"
              % (w, w, store, psk, fs.img, fs.mnt, pre, post))

    def cycles_ok():
        v = h.api("GET", "/v1/snap").json["continuous"][0]
        assert v["results"]["failed"] == 0, v
        return v["results"]["ok"] >= 4 and v

    v = wait_until(cycles_ok, timeout=20, what="four good cycles")
    lines = open(log).read().splitlines()
    assert lines[0] == "pre vm %s" % fs.mnt, lines
    assert any(ln == "post ok %s" % v["last_id"] for ln in lines), lines
    ids = os.listdir(os.path.join(store, "snapshots", "vm"))
    assert 1 <= len(ids) <= 3, ids  # retain.last 2 (+1 being made)
    out = os.path.join(tmp, "restored.img")
    snap(haven_bin, store, "restore", "vm/" + v["last_id"], out)
    fs.check_copy(out, os.path.join(tmp, "restored"), lambda got: None)
    # Thawed between cycles.
    assert fs_writable(fs.mnt)


def test_continuous_group(top, haven, haven_bin, workdir):
    """Two volumes in one `group`: one cycle freezes both file systems and
    snapshots both under one ID; each is then kept by its own policy."""
    tmp, mkfs = top
    a, b = mkfs("db"), mkfs("wal")
    pw = run_user()
    os.chmod(tmp, 0o755)
    store = os.path.join(tmp, "store")
    os.mkdir(store)
    os.chown(store, pw.pw_uid, pw.pw_gid)
    psk = os.path.join(tmp, "psk")
    with open(psk, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(psk, 0o600)
    os.chown(psk, pw.pw_uid, pw.pw_gid)
    vols = ""
    for fs in (a, b):
        os.chmod(fs.img, 0o644)
        vols += ("    - name: %s\n      source: %s\n      interval: 300ms\n"
                 "      group: g1\n      freeze: [%s]\n      keep: 3\n"
                 % (fs.name, fs.img, fs.mnt))
    w = str(workdir)
    h = haven("haven:\n  state_dir: %s/state\napi:\n  socket: %s/a.sock\n"
              "snap:\n  store: %s\n  psk_file: %s\n  volumes:\n%s"
              % (w, w, store, psk, vols))

    def cycles_ok():
        vs = h.api("GET", "/v1/snap").json["continuous"]
        for v in vs:
            assert v["results"]["failed"] == 0, v
        return all(v["results"]["ok"] >= 3 for v in vs) and vs

    vs = wait_until(cycles_ok, timeout=20, what="three good group cycles")
    assert [v["group"] for v in vs] == ["g1", "g1"]
    db = set(os.listdir(os.path.join(store, "snapshots", "db")))
    wal = set(os.listdir(os.path.join(store, "snapshots", "wal")))
    # One ID per cycle, in both volumes (a cycle in flight may have
    # published one volume's and not yet the other's).
    assert len(db & wal) >= 2, (db, wal)
    for fs in (a, b):
        assert fs_writable(fs.mnt)


def test_group_config_must_agree(haven_bin, tmp_path):
    """A group is one cycle: its volumes may not differ in interval."""
    psk = tmp_path / "psk"
    psk.write_bytes(os.urandom(32))
    psk.chmod(0o600)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("snap:\n  store: /var/tmp/s\n  psk_file: %s\n  volumes:\n"
                   "    - {name: a, source: /a.img, group: g, interval: 1s}\n"
                   "    - {name: b, source: /b.img, group: g, interval: 2s}\n"
                   % psk)
    r = run(haven_bin, "check", "-c", cfg, check=False)
    assert r.returncode != 0
    assert "differ in interval" in r.stdout + r.stderr, (r.stdout, r.stderr)
