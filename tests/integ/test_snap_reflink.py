"""`haven snap create --detect reflink|rescan|auto` and `snap clone` by
reflink, on XFS and btrfs file systems in loop-mounted files on tmpfs.

With reflink detection a snapshot reads only the chunks whose extents are
no longer shared with the last snapshot's copy, and yet its manifest is
exactly the one a full rescan gives (same chunk IDs, same root hash);
appending, truncating, punching holes and writing zeros are all seen; a
baseline copy that was written to is not trusted; a file system without
reflinks falls back to rescan (auto) or is an error (reflink). `clone`
FICLONEs the baseline copy of the snapshot where it can, else restores.

Loop mounts need root and a loop device: skipped cleanly without them.
"""

import os
import random
import shutil
import subprocess
import tempfile

import pytest

from test_snap import CHUNK, MIB, create, sha, snap

SIZE = 32 * MIB
NCHUNKS = SIZE // CHUNK


def _run(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(params=["xfs", "btrfs"])
def fs(request):
    """A mounted reflink file system in a sparse file on /dev/shm."""
    kind = request.param
    mkfs = {"xfs": ["mkfs.xfs", "-q", "-m", "reflink=1"],
            "btrfs": ["mkfs.btrfs", "-q"]}[kind]
    if os.geteuid() != 0:
        pytest.skip("loop mounts need root")
    if shutil.which(mkfs[0]) is None:
        pytest.skip("%s not installed (scripts/deps.sh check)" % mkfs[0])
    base = tempfile.mkdtemp(prefix="haven-reflink-", dir="/dev/shm")
    img, mnt = os.path.join(base, "fs.img"), os.path.join(base, "mnt")
    os.mkdir(mnt)
    with open(img, "wb") as f:
        f.truncate(320 * MIB)     # sparse: only what is written takes RAM
    try:
        r = _run(*mkfs, img)
        if r.returncode != 0:
            pytest.skip("%s failed: %s" % (mkfs[0], r.stderr.strip()))
        r = _run("mount", "-o", "loop", img, mnt)
        if r.returncode != 0:
            pytest.skip("cannot loop-mount %s: %s" % (kind, r.stderr.strip()))
        try:
            yield mnt
        finally:
            if _run("umount", mnt).returncode != 0:
                _run("umount", "-l", mnt)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def root_of(store, name):
    vol, sid = name.split("/")
    with open(os.path.join(store, "snapshots", vol, sid)) as f:
        return next(ln for ln in f if ln.startswith("root ")).split()[1]


def chunks_of(store, name):
    vol, sid = name.split("/")
    with open(os.path.join(store, "snapshots", vol, sid)) as f:
        lines = f.read().split("\n")
    n = int(next(ln for ln in lines if ln.startswith("chunks ")).split()[1])
    start = lines.index("chunks %d" % n) + 1
    return lines[start:start + n]


def both(haven_bin, store, img):
    """A reflink snapshot, then a rescan one of the same bytes: their
    manifests must be identical. Returns the reflink one's name and stats."""
    name, st = create(haven_bin, store, "vm", img, "--detect", "reflink")
    assert st["detect"] == "reflink", st
    again, st2 = create(haven_bin, store, "vm", img, "--detect", "rescan")
    assert st2["detect"] == "rescan" and st2["reused"] == 0, st2
    assert chunks_of(store, name) == chunks_of(store, again)
    assert root_of(store, name) == root_of(store, again)
    return name, st


def test_reflink_reuses_unchanged_chunks(haven_bin, workdir, fs):
    rng = random.Random(12)
    store = workdir / "store"
    img = os.path.join(fs, "vol.img")
    with open(img, "wb") as f:
        f.write(rng.randbytes(SIZE))

    first, st = create(haven_bin, store, "vm", img, "--detect", "reflink")
    assert st["detect"] == "reflink" and st["reused"] == 0
    assert st["read_chunks"] == NCHUNKS

    # 1 % of the chunks, at random offsets inside each.
    changed = rng.sample(range(NCHUNKS), NCHUNKS // 100)
    with open(img, "r+b") as f:
        for c in changed:
            f.seek(c * CHUNK + rng.randrange(0, CHUNK - 5000))
            f.write(rng.randbytes(5000))
    name, st = both(haven_bin, store, img)
    assert st["read_chunks"] == len(changed), st
    assert st["reused"] == NCHUNKS - len(changed), st
    assert st["new"] == len(changed), st

    # A rescan into a store of its own agrees too (no shared history).
    other, _ = create(haven_bin, workdir / "other", "vm", img,
                      "--detect", "rescan")
    assert root_of(workdir / "other", other) == root_of(store, name)

    out = workdir / "back.img"
    snap(haven_bin, store, "restore", name, out, check=0)
    assert sha(out) == sha(img)

    # clone: instant on the same file system, a restore elsewhere. The
    # newest snapshot (the rescan one in both()) has the same root.
    on_fs = os.path.join(fs, "clone.img")
    r = snap(haven_bin, store, "clone", name, on_fs, check=0)
    assert "by reflink" in r.stdout, r.stdout
    assert sha(on_fs) == sha(img)
    r = snap(haven_bin, store, "clone", name, workdir / "c.img", check=0)
    assert "a plain copy, not a reflink" in r.stdout, r.stdout
    assert sha(workdir / "c.img") == sha(img)
    r = snap(haven_bin, store, "clone", first, os.path.join(fs, "old.img"),
             check=0)
    assert "no baseline copy of this snapshot" in r.stdout, r.stdout


def test_reflink_sees_append_truncate_punch(haven_bin, workdir, fs):
    rng = random.Random(7)
    store = workdir / "store"
    img = os.path.join(fs, "vol.img")
    with open(img, "wb") as f:
        f.write(rng.randbytes(8 * MIB + 1234))
    create(haven_bin, store, "vm", img, "--detect", "reflink")

    def step(change):
        change()
        name, st = both(haven_bin, store, img)
        out = workdir / "back.img"
        snap(haven_bin, store, "restore", name, out, check=0)
        assert sha(out) == sha(img)
        os.unlink(out)
        return st

    def append():
        with open(img, "ab") as f:
            f.write(rng.randbytes(300000))
    st = step(append)
    # 129 chunks, the last one short, grow to 133: the old short last
    # chunk and the 4 new ones are read, nothing else.
    assert st["chunks"] == 133, st
    assert st["read_chunks"] == 5 and st["reused"] == 128, st

    st = step(lambda: os.truncate(img, 5 * MIB + 777))
    assert st["read_chunks"] == 1 and st["reused"] == 80, st

    def punch():
        r = _run("fallocate", "--punch-hole", "--offset", str(MIB),
                 "--length", str(3 * CHUNK + 100), img)
        assert r.returncode == 0, r.stderr
    st = step(punch)
    # Three whole chunks are holes now (zero, unread), one is partly.
    assert st["reused"] == 81 - 4 and st["read_chunks"] == 1, st

    def zeros():
        with open(img, "r+b") as f:
            f.seek(2 * MIB + 5)
            f.write(bytes(CHUNK))
    step(zeros)

    st = step(lambda: os.truncate(img, 7 * MIB))  # sparse growth
    assert st["read_chunks"] <= 1, st

    # Writing to the baseline copy (not ours to touch) voids it: every
    # chunk is read again, and the result is still right.
    base = [os.path.join(fs, ".haven-snap", b) for b in
            os.listdir(os.path.join(fs, ".haven-snap"))]
    assert len(base) == 1 and base[0].endswith(".base"), base
    with open(base[0], "r+b") as f:
        f.write(b"tampered")
    name, st = create(haven_bin, store, "vm", img, "--detect", "reflink")
    assert st["reused"] == 0, st
    r = snap(haven_bin, store, "restore", name, workdir / "t.img", check=0)
    assert sha(workdir / "t.img") == sha(img)

    # So does a state file that does not parse.
    with open(os.path.join(store, "cd", "vm"), "w") as f:
        f.write("haven-snap-cd 1\nsnapshot x\n")
    r = snap(haven_bin, store, "create", "--volume", "vm", "--detect",
             "reflink", img, check=0)
    assert "no baseline copy of parent" in r.stdout, r.stdout
    assert " reused=0 " in r.stdout, r.stdout
    # ... and the create after it reuses again.
    _, st = create(haven_bin, store, "vm", img, "--detect", "reflink")
    assert st["read_chunks"] == 0 and st["reused"] == st["chunks"], st


def test_no_reflinks_auto_rescans(haven_bin, workdir):
    """On a file system without FICLONE (tmpfs, ext4), auto rescans and
    says why, leaving nothing beside the image; --detect reflink fails."""
    d = tempfile.mkdtemp(prefix="haven-noreflink-", dir="/dev/shm")
    try:
        img = os.path.join(d, "vol.img")
        with open(img, "wb") as f:
            f.write(random.Random(3).randbytes(MIB))
        r = snap(haven_bin, workdir / "store", "create", "--volume", "vm",
                 img, check=0)
        assert "detect rescan: reflink: FICLONE" in r.stdout, r.stdout
        assert " detect=rescan " in r.stdout
        assert os.listdir(d) == ["vol.img"]
        r = snap(haven_bin, workdir / "store", "create", "--volume", "vm",
                 "--detect", "reflink", img, check=1)
        assert "FICLONE" in r.stderr, r.stderr
        assert os.listdir(d) == ["vol.img"]
        snap(haven_bin, workdir / "store", "create", "--volume", "vm",
             "--detect", "fiemap", img, check=2)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_dirty_bytes_starts_a_cycle_early(fs, haven, workdir):
    """Continuous mode with `dirty_bytes: 1m` and a 60 s interval on XFS:
    after the first snapshot, writing 256 KiB starts nothing, writing
    2 MiB more starts a cycle within about a second (counted as early),
    and the new snapshot has the written data. The snap plane runs as an
    unprivileged user: the image's directory is made theirs."""
    if "xfs" not in subprocess.run(["stat", "-f", "-c", "%T", fs],
                                   capture_output=True, text=True).stdout:
        pytest.skip("one file system is enough for the trigger")
    import pwd
    from havenlib.poll import wait_until
    pw = None
    for name in ("haven", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            break
        except KeyError:
            pass
    if pw is None:
        pytest.skip("neither user haven nor nobody exists")
    d = os.path.join(fs, "vol")
    os.mkdir(d)
    img = os.path.join(d, "disk.img")
    with open(img, "wb") as f:
        f.write(random.Random(3).randbytes(SIZE))
    store = os.path.join(fs, "store")
    psk = os.path.join(fs, "psk")
    with open(psk, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(psk, 0o600)
    for p in (d, img, psk):
        os.chown(p, pw.pw_uid, pw.pw_gid)
    os.chmod(fs, 0o755)
    os.chmod(os.path.dirname(fs), 0o711)  # mkdtemp's 0700
    os.mkdir(store)
    os.chown(store, pw.pw_uid, pw.pw_gid)
    h = haven("haven:\n  state_dir: %s/state\napi:\n  socket: %s/h.sock\n"
              "snap:\n  store: %s\n  psk_file: %s\n  volumes:\n"
              "    - name: v\n      source: %s\n      interval: 60s\n"
              "      detect: reflink\n      dirty_bytes: 1m\n"
              % (workdir, workdir, store, psk, img))

    def state():
        return h.api("GET", "/v1/snap").json["continuous"][0]

    wait_until(lambda: state()["last_id"] != "", timeout=20,
               what="the first snapshot")
    first = state()
    assert first["last_detect"] == "reflink", first

    def write(n, seed):
        rng = random.Random(seed)
        with open(img, "r+b") as f:
            for _ in range(n):
                f.seek(rng.randrange(NCHUNKS) * CHUNK)
                f.write(rng.randbytes(CHUNK))

    write(4, 1)          # 256 KiB: under the trigger
    wait_until(lambda: state()["dirty_bytes"] >= 4 * CHUNK, timeout=5,
               what="the dirty estimate")
    assert state()["last_id"] == first["last_id"]
    assert state()["early_cycles"] == 0
    write(32, 2)         # 2 MiB more: over it
    wait_until(lambda: state()["last_id"] != first["last_id"], timeout=5,
               what="an early cycle")
    s = state()
    assert s["early_cycles"] == 1, s
    assert s["last_detect"] == "reflink" and s["last_read_chunks"] <= 40, s
    # The new snapshot is the image as written.
    out = os.path.join(fs, "restored.img")
    snap(h.bin, store, "restore", "v/" + s["last_id"], out)
    assert sha(out) == sha(img)
    assert h.metric("haven_snap_cycles_early_total", volume="v") == 1
