"""`haven snap`: snapshots of image files in a content-addressed store.

Round trips are byte-identical and a sparse image comes back sparse; an
incremental snapshot after scattered writes to 1 % of an image stores about
1 % new chunks; a flipped byte in a chunk file is named by `verify` (chunk,
offset, snapshots) and a restore that needs it writes nothing; delete + gc
removes exactly the chunks no snapshot names; gc never removes a chunk a
create in flight relies on (the store lock); a damaged store gives clear
errors and distinct exit codes, never a crash.

Exit codes: 0 ok, 1 error, 2 usage, 3 damaged data, 4 store busy.
"""

import fcntl
import hashlib
import os
import random
import re
import shutil
import subprocess
import time

import pytest

CHUNK = 65536
MIB = 1 << 20


def snap(haven_bin, store, *args, check=None, timeout=120):
    r = subprocess.run([haven_bin, "snap", args[0], "--store", str(store)]
                       + [str(a) for a in args[1:]],
                       capture_output=True, text=True, timeout=timeout)
    if check is not None:
        assert r.returncode == check, (r.returncode, r.stdout, r.stderr)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, \
        r.stderr
    return r


def create(haven_bin, store, volume, path, *extra):
    r = snap(haven_bin, store, "create", "--volume", volume, path, *extra,
             check=0)
    name = re.search(r"^snapshot (\S+)$", r.stdout, re.M).group(1)
    stats = dict(kv.split("=", 1) for kv in
                 r.stdout.strip().splitlines()[-1].split())
    return name, {k: (int(v) if v.isdigit() else v) for k, v in stats.items()}


def write_random(f, off, n, rng):
    f.seek(off)
    f.write(rng.randbytes(n))


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(MIB)
            if not b:
                return h.hexdigest()
            h.update(b)


def chunk_files(store):
    out = set()
    for d, _, files in os.walk(os.path.join(store, "chunks")):
        out |= {f for f in files if not f.startswith(".")}
    return out


def manifest_chunks(store, name):
    vol, sid = name.split("/")
    lines = open(os.path.join(store, "snapshots", vol, sid)).read().split("\n")
    n = int(next(ln for ln in lines if ln.startswith("chunks ")).split()[1])
    start = lines.index("chunks %d" % n) + 1
    return lines[start:start + n]


def sparse_image(path, rng):
    """64 MiB: random extents, a run of written zeros, holes elsewhere,
    and an odd tail so the last chunk is short."""
    size = 64 * MIB + 4321
    with open(path, "wb") as f:
        f.truncate(size)
        write_random(f, 0, 3 * CHUNK, rng)                 # data at the start
        write_random(f, 10 * MIB + 100, 200000, rng)       # unaligned extent
        f.seek(20 * MIB)
        f.write(bytes(4 * CHUNK))                          # written zeros
        write_random(f, 40 * MIB, 5000, rng)
        write_random(f, size - 1000, 1000, rng)            # the short tail
    return size


def test_round_trip_sparse_and_random(haven_bin, workdir):
    rng = random.Random(1)
    store = workdir / "store"
    img = workdir / "sparse.img"
    size = sparse_image(img, rng)
    name, st = create(haven_bin, store, "vm1", img)
    assert st["size"] == size and st["chunks"] == (size + CHUNK - 1) // CHUNK
    # 3 + 4 (unaligned 200000 B) + 1 + 1 data chunks; the rest are zero.
    assert st["new"] == 9 and st["zero"] == st["chunks"] - 9, st
    assert st["read"] < 2 * MIB, "holes must not be read: %r" % st

    for cmd in ("restore", "clone"):
        out = workdir / (cmd + ".img")
        r = snap(haven_bin, store, cmd, name, out, check=0)
        assert sha(out) == sha(img)
        assert os.path.getsize(out) == size
        # Sparse stays sparse: a handful of MiB allocated, not 64.
        assert os.stat(out).st_blocks * 512 < 4 * MIB, os.stat(out)
        if cmd == "clone":
            # No baseline copy of this snapshot beside a reflink file
            # system here (test_snap_reflink.py has those): a restore.
            assert "a plain copy, not a reflink" in r.stdout, r.stdout

    # export writes every byte: same content, fully allocated.
    out = workdir / "export.img"
    snap(haven_bin, store, "export", name, out, check=0)
    assert sha(out) == sha(img)
    assert os.stat(out).st_blocks * 512 >= size - 4096
    r = subprocess.run([haven_bin, "snap", "export", "--store", str(store),
                        name, "-"], capture_output=True, timeout=60)
    assert r.returncode == 0
    assert hashlib.sha256(r.stdout).hexdigest() == sha(img)

    # Random, incompressible data, with and without --compress; and a
    # compressible file that --compress stores smaller.
    rnd = workdir / "random.bin"
    rnd.write_bytes(rng.randbytes(5 * MIB + 17))
    text = workdir / "text.bin"
    text.write_bytes(b"haven snapshot test line\n" * 200000)
    for f, extra in ((rnd, ()), (rnd, ("--compress",)),
                     (text, ("--compress",))):
        n, st = create(haven_bin, store, "files", f, *extra)
        out = workdir / "out.bin"
        snap(haven_bin, store, "restore", n, out, check=0)
        assert sha(out) == sha(f)
        os.unlink(out)
        if f == text:
            assert st["stored_bytes"] < st["new_bytes"] // 5, st
    snap(haven_bin, store, "verify", check=0)

    # Repeated chunks inside one image are stored once (the same write
    # batch must not write or rename a chunk twice).
    rep = workdir / "repeat.img"
    block = rng.randbytes(CHUNK)
    rep.write_bytes(block * 10 + block[:100])
    n, st = create(haven_bin, store, "rep", rep)
    assert st["new"] == 2 and st["dedup"] == 9, st
    snap(haven_bin, store, "restore", n, workdir / "rep.out", check=0)
    assert sha(workdir / "rep.out") == sha(rep)

    # An empty image round-trips too.
    empty = workdir / "empty.img"
    empty.write_bytes(b"")
    n, st = create(haven_bin, store, "empty", empty)
    assert st["chunks"] == 0
    snap(haven_bin, store, "restore", n, workdir / "empty.out", check=0)
    assert os.path.getsize(workdir / "empty.out") == 0


def test_incremental_one_percent(haven_bin, workdir):
    rng = random.Random(2)
    store = workdir / "store"
    img = workdir / "disk.img"
    img.write_bytes(rng.randbytes(64 * MIB))
    base, st0 = create(haven_bin, store, "vm", img)
    assert st0["new"] == 1024 and st0["parent"] == "-"

    # 1 %: 10 scattered 4 KiB writes, as a VM or database would do.
    touched = set()
    with open(img, "r+b") as f:
        for _ in range(10):
            off = rng.randrange(0, 64 * MIB - 4096)
            write_random(f, off, 4096, rng)
            touched |= {off // CHUNK, (off + 4095) // CHUNK}
    inc, st = create(haven_bin, store, "vm", img)
    assert st["parent"] == base.split("/")[1]
    assert st["generation"] == st0["generation"]
    assert st["new"] == len(touched), (st, sorted(touched))
    assert st["new"] <= 0.015 * st["chunks"]
    assert st["dedup"] == 1024 - len(touched)
    assert st["new_bytes"] == len(touched) * CHUNK

    # diff names exactly the touched chunks, as byte ranges.
    r = snap(haven_bin, store, "diff", base, inc, check=0)
    got = set()
    for line in r.stdout.splitlines():
        if line.startswith("#"):
            continue
        off, ln = map(int, line.split())
        got |= set(range(off // CHUNK, (off + ln) // CHUNK))
    assert got == touched
    assert "# %d of 1024 chunks differ" % len(touched) in r.stdout

    out = workdir / "inc.img"
    snap(haven_bin, store, "restore", inc, out, check=0)
    assert sha(out) == sha(img)
    # list shows both, the child naming its parent.
    r = snap(haven_bin, store, "list", "--volume", "vm", check=0)
    rows = [ln.split() for ln in r.stdout.splitlines()[1:]]
    assert [(x[1], x[-1]) for x in rows] == [
        (base.split("/")[1], "-"), (inc.split("/")[1], base.split("/")[1])]
    shutil.rmtree(store)
    img.unlink()
    out.unlink()


def test_bit_rot_named_and_restore_refused(haven_bin, workdir):
    rng = random.Random(3)
    store = workdir / "store"
    a = workdir / "a.img"
    a.write_bytes(rng.randbytes(8 * CHUNK))
    b = workdir / "b.img"
    b.write_bytes(rng.randbytes(8 * CHUNK))
    na, _ = create(haven_bin, store, "va", a)
    na2, _ = create(haven_bin, store, "va", a)     # shares every chunk
    nb, _ = create(haven_bin, store, "vb", b)
    snap(haven_bin, store, "verify", check=0)

    victim = manifest_chunks(store, na)[5]         # chunk 5 of image a
    path = store / "chunks" / victim[:2] / victim
    data = bytearray(path.read_bytes())
    data[40000] ^= 0x01
    path.write_bytes(bytes(data))

    r = snap(haven_bin, store, "verify", check=3)
    assert "damaged chunk %s: checksum mismatch" % victim in r.stdout
    for n in (na, na2):
        assert "used by %s chunk 5 at offset %d length %d" % (
            n, 5 * CHUNK, CHUNK) in r.stdout, r.stdout
        assert "DAMAGED " + n in r.stdout
    assert "ok " + nb in r.stdout
    assert "1 damaged chunks" in r.stdout
    # verify of one snapshot: the same finding; of a sound one: exit 0.
    r = snap(haven_bin, store, "verify", na, check=3)
    assert victim in r.stdout and "offset %d" % (5 * CHUNK) in r.stdout
    snap(haven_bin, store, "verify", nb, check=0)

    out = workdir / "out.img"
    r = snap(haven_bin, store, "restore", na, out, check=3)
    assert victim in r.stderr and "offset %d" % (5 * CHUNK) in r.stderr
    assert not out.exists() and not any(
        p.name.startswith("out.img") for p in workdir.iterdir())
    snap(haven_bin, store, "export", na, out, check=3)
    assert not out.exists()
    snap(haven_bin, store, "restore", nb, out, check=0)
    assert sha(out) == sha(b)

    # A chunk that the frame check passes but whose content is another
    # chunk's (a swapped file): caught by SHA-256 against the name.
    other = manifest_chunks(store, nb)[0]
    path.write_bytes((store / "chunks" / other[:2] / other).read_bytes())
    r = snap(haven_bin, store, "verify", na, check=3)
    assert "content does not match its ID" in r.stdout
    # Truncated, then missing.
    path.write_bytes(data[:100])
    r = snap(haven_bin, store, "verify", na, check=3)
    assert "damaged chunk " + victim in r.stdout
    path.unlink()
    r = snap(haven_bin, store, "verify", na, check=3)
    assert "damaged chunk %s: missing from the store" % victim in r.stdout
    snap(haven_bin, store, "restore", na, out.with_suffix(".2"), check=3)

    # Repair, as the README says: with the chunk file gone, a create from
    # the source writes it afresh and every snapshot sharing it is whole.
    _, st = create(haven_bin, store, "va", a)
    assert st["new"] == 1
    snap(haven_bin, store, "verify", check=0)
    snap(haven_bin, store, "restore", na, out, check=0)
    assert sha(out) == sha(a)


def test_delete_gc_removes_exactly_unreferenced(haven_bin, workdir):
    rng = random.Random(4)
    store = workdir / "store"
    img = workdir / "d.img"
    img.write_bytes(rng.randbytes(32 * CHUNK))
    n1, _ = create(haven_bin, store, "v", img)
    with open(img, "r+b") as f:
        write_random(f, 3 * CHUNK, 2 * CHUNK, rng)       # chunks 3, 4
    n2, _ = create(haven_bin, store, "v", img)
    with open(img, "r+b") as f:
        write_random(f, 20 * CHUNK + 7, 10, rng)         # chunk 20
    n3, _ = create(haven_bin, store, "v", img)
    assert len(chunk_files(store)) == 32 + 2 + 1

    # gc with nothing to do removes nothing.
    r = snap(haven_bin, store, "gc", check=0)
    assert "deleted=0" in r.stdout and len(chunk_files(store)) == 35

    # Delete the middle one: every chunk it used is in n1 or n3.
    snap(haven_bin, store, "delete", n2, check=0)
    r = snap(haven_bin, store, "gc", check=0)
    assert "deleted=0" in r.stdout
    # Delete the first: its old chunks 3, 4 and 20 are now unreferenced.
    old = set(manifest_chunks(store, n1))
    snap(haven_bin, store, "delete", n1, check=0)
    want = set(manifest_chunks(store, n3))
    r = snap(haven_bin, store, "gc", "--dry-run", check=0)
    assert "deleted=3" in r.stdout and len(chunk_files(store)) == 35
    r = snap(haven_bin, store, "gc", check=0)
    assert "deleted=3" in r.stdout and "freed_bytes=%d" % (3 * (CHUNK + 32)) \
        in r.stdout, r.stdout
    assert chunk_files(store) == want
    assert len(old - want) == 3
    out = workdir / "o.img"
    snap(haven_bin, store, "restore", n3, out, check=0)
    assert sha(out) == sha(img)
    snap(haven_bin, store, "verify", check=0)

    # A crashed create's temp file is garbage to gc; a stranger's file is
    # left alone.
    d = store / "chunks" / "ab"
    d.mkdir(exist_ok=True)
    (d / ".tmp.999.abcd").write_bytes(b"partial")
    (d / "README").write_text("not a chunk")
    vol = store / "snapshots" / n3.split("/")[0]
    (vol / ".20261206T000000.000000Z-dead.999.tmp").write_text("partial")
    r = snap(haven_bin, store, "gc", check=0)
    assert "temps=2" in r.stdout
    assert [f.name for f in vol.iterdir()] == [n3.split("/")[1]]
    assert not (d / ".tmp.999.abcd").exists() and (d / "README").exists()

    # Deleting the last snapshot and gc empties the store.
    snap(haven_bin, store, "delete", n3, check=0)
    snap(haven_bin, store, "gc", check=0)
    assert chunk_files(store) == {"README"}
    snap(haven_bin, store, "delete", n3, check=1)


def test_gc_waits_for_create(haven_bin, workdir):
    """The lock contract, deterministically: a create holds the store lock
    shared, gc needs it exclusive."""
    store = workdir / "store"
    img = workdir / "x.img"
    img.write_bytes(random.Random(5).randbytes(4 * CHUNK))
    create(haven_bin, store, "v", img)
    fd = os.open(store / "lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)              # "a create in flight"
        t0 = time.monotonic()
        r = snap(haven_bin, store, "gc", "--wait", "0.3", check=4)
        assert "store busy" in r.stderr
        assert time.monotonic() - t0 >= 0.3
        fcntl.flock(fd, fcntl.LOCK_UN)
        fcntl.flock(fd, fcntl.LOCK_EX)              # "a gc in flight"
        p = subprocess.Popen([haven_bin, "snap", "create", "--store",
                              str(store), "--volume", "v", str(img)],
                             stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        assert p.poll() is None, "create must wait for gc"
        fcntl.flock(fd, fcntl.LOCK_UN)
        assert p.wait(timeout=30) == 0
    finally:
        os.close(fd)


def test_gc_racing_create(haven_bin, workdir):
    """The dangerous interleaving for real: the chunks a new create
    deduplicates against are unreferenced (their snapshot was deleted)
    while gc runs over and over. No chunk the new snapshot needs may go."""
    rng = random.Random(6)
    store = workdir / "store"
    img = workdir / "big.img"
    img.write_bytes(rng.randbytes(128 * MIB))
    for rnd in range(3):
        n0, _ = create(haven_bin, store, "v", img)
        snap(haven_bin, store, "delete", n0, check=0)
        with open(img, "r+b") as f:
            write_random(f, rng.randrange(0, 100) * MIB, CHUNK, rng)
        # create first, so it finds n0's chunks and skips them; then gc
        # again and again until it is done.
        p = subprocess.Popen([haven_bin, "snap", "create", "--store",
                              str(store), "--volume", "v", str(img)],
                             stdout=subprocess.PIPE, text=True)
        gcs = []
        while p.poll() is None:
            gcs.append(snap(haven_bin, store, "gc", check=0).stdout)
        out_text = p.stdout.read()
        p.stdout.close()
        assert p.returncode == 0
        n1 = re.search(r"^snapshot (\S+)$", out_text, re.M).group(1)
        assert len(gcs) >= 1
        r = snap(haven_bin, store, "verify", n1, check=0)
        assert "0 damaged chunks" in r.stdout
        out = workdir / "r.img"
        snap(haven_bin, store, "restore", n1, out, check=0)
        assert sha(out) == sha(img)
        os.unlink(out)
        snap(haven_bin, store, "delete", n1, check=0)
    # Big files: not kept in pytest's retained tmp dirs once passed.
    shutil.rmtree(store)
    img.unlink()


def test_killed_create_publishes_nothing(haven_bin, workdir):
    """kill -9 in the middle of a create: no snapshot appears, the store
    verifies, gc removes what the dead create left, a new create works."""
    rng = random.Random(8)
    store = workdir / "store"
    img = workdir / "k.img"
    img.write_bytes(rng.randbytes(192 * MIB))
    small = workdir / "s.img"
    small.write_bytes(rng.randbytes(2 * CHUNK))
    keep, _ = create(haven_bin, store, "keep", small)
    p = subprocess.Popen([haven_bin, "snap", "create", "--store", str(store),
                          "--volume", "v", str(img)],
                         stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while len(chunk_files(store)) < 600 and p.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    p.kill()
    p.wait()
    if p.returncode == 0:
        pytest.skip("create finished before it could be killed")
    assert not (store / "snapshots" / "v").exists() or not [
        f for f in os.listdir(store / "snapshots" / "v")
        if not f.startswith(".")]
    r = snap(haven_bin, store, "list", check=0)
    assert keep.split("/")[1] in r.stdout and "\nv " not in r.stdout
    snap(haven_bin, store, "verify", check=0)
    r = snap(haven_bin, store, "gc", check=0)
    st = dict(kv.split("=") for kv in r.stdout.split()[1:])
    assert int(st["deleted"]) + int(st["temps"]) >= 600, r.stdout
    assert chunk_files(store) == set(manifest_chunks(store, keep))
    n, _ = create(haven_bin, store, "v", img)
    out = workdir / "k.out"
    snap(haven_bin, store, "restore", n, out, check=0)
    assert sha(out) == sha(img)
    shutil.rmtree(store)
    img.unlink()
    out.unlink()


def test_damaged_store_and_cli_errors(haven_bin, workdir):
    store = workdir / "store"
    img = workdir / "y.img"
    img.write_bytes(random.Random(7).randbytes(3 * CHUNK))
    n, _ = create(haven_bin, store, "v", img)
    vol, sid = n.split("/")
    mpath = store / "snapshots" / vol / sid
    good = mpath.read_text()

    # A manifest with a flipped chunk ID: the root hash catches it.
    lines = good.split("\n")
    first = lines.index("chunks 3") + 1
    lines[first] = ("0" if lines[first][0] != "0" else "1") + \
        lines[first][1:]
    mpath.write_text("\n".join(lines))
    r = snap(haven_bin, store, "verify", check=3)
    assert "damaged manifest %s: line %d: root hash does not match" % (
        n, first + 4) \
        in r.stdout, r.stdout
    r = snap(haven_bin, store, "list", check=3)
    assert "damaged" in r.stdout
    snap(haven_bin, store, "restore", n, workdir / "o", check=3)
    # gc refuses: the damaged manifest's chunks would look unreferenced.
    before = chunk_files(store)
    r = snap(haven_bin, store, "gc", check=3)
    assert "nothing removed" in r.stderr and chunk_files(store) == before
    # Garbage, an empty file, a huge count: errors, never a crash.
    for junk in (b"", b"\x00\xff" * 1000, b"haven-snapshot 2\n",
                 good.replace("chunks 3", "chunks 99999999999").encode()):
        mpath.write_bytes(junk)
        snap(haven_bin, store, "verify", check=3)
    mpath.write_text(good)
    snap(haven_bin, store, "verify", check=0)

    # Usage and lookup errors.
    snap(haven_bin, store, "create", img, check=2)          # no --volume
    snap(haven_bin, store, "create", "--volume", "../x", img, check=1)
    # A target that is not a regular file is refused, never renamed over
    # (a device node would be replaced by a file).
    fifo = workdir / "fifo"
    os.mkfifo(fifo)
    for cmd in ("restore", "clone", "export"):
        r = snap(haven_bin, store, cmd, n, fifo, check=1)
        assert "not a regular file" in r.stderr
        assert fifo.is_fifo()
    r = snap(haven_bin, store, "restore", n, workdir, check=1)
    assert "not a regular file" in r.stderr
    assert not list(workdir.glob("*.haven-tmp.*"))
    fresh = workdir / "fresh"
    snap(haven_bin, fresh, "create", "--volume", ".x", img, check=1)
    assert not fresh.exists()
    snap(haven_bin, store, "restore", "nope", workdir / "o", check=1)
    snap(haven_bin, store, "restore", "../../etc", workdir / "o", check=1)
    snap(haven_bin, store, "frobnicate", check=2)
    for w in ("-1", "1e99", "nan", "x"):
        snap(haven_bin, store, "gc", "--wait", w, check=2)
    snap(haven_bin, workdir / "nostore", "list", check=1)
    snap(haven_bin, store, "create", "--volume", "v", workdir / "missing",
         check=1)
    r = subprocess.run([haven_bin, "snap", "--help"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0 and "usage: haven snap" in r.stdout
    r = subprocess.run([haven_bin, "snap", "list"], capture_output=True,
                       text=True, timeout=10,
                       env=dict(os.environ, HAVEN_SNAP_STORE=str(store)))
    assert r.returncode == 0 and sid in r.stdout
