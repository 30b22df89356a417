"""Restore and promote onto an image that is already there: only the
chunks that differ come from the store, the result is byte-identical to a
fresh restore, and a failure leaves either the old image (the default,
atomic) or a marker saying the target is partly patched (--inplace)."""
import os
import random
import re

from test_snap import CHUNK, create, manifest_chunks, sha, snap, \
    sparse_image


def delta_line(out):
    m = re.search(r"^delta: kept (\d+) chunks, wrote (\d+) \(([^)]*)\)$",
                  out, re.M)
    assert m, out
    return int(m.group(1)), int(m.group(2)), m.group(3)


def stale_copy(src, dst, rng, grow=0):
    """dst: src with three chunks changed, a data chunk zeroed, a hole
    filled, and the size changed by grow bytes."""
    data = bytearray(open(src, "rb").read())
    for c in (1, 7, 300):
        off = c * CHUNK + 17
        data[off:off + 100] = rng.randbytes(100)
    data[0:CHUNK] = bytes(CHUNK)                   # data became zeros
    data[50 * CHUNK:50 * CHUNK + 10] = b"x" * 10   # a hole got data
    if grow > 0:
        data += rng.randbytes(grow)
    elif grow < 0:
        del data[grow:]
    open(dst, "wb").write(bytes(data))
    # changed chunks: 0, 1, 7, 300, 50, plus the tail when the size moved
    return {0, 1, 7, 50, 300}


def test_restore_onto_existing(haven_bin, workdir):
    rng = random.Random(21)
    store = workdir / "store"
    img = workdir / "img"
    size = sparse_image(img, rng)
    name, _ = create(haven_bin, store, "v", img)
    nchunks = (size + CHUNK - 1) // CHUNK
    for grow, mode in ((0, []), (CHUNK + 5, []), (-3 * CHUNK, []),
                       (0, ["--inplace"]), (CHUNK + 5, ["--inplace"]),
                       (-3 * CHUNK, ["--inplace"])):
        out = workdir / "out"
        changed = stale_copy(img, out, rng, grow)
        r = snap(haven_bin, store, "restore", *mode, name, out, check=0)
        kept, wrote, how = delta_line(r.stdout)
        assert sha(out) == sha(img), (grow, mode)
        assert os.path.getsize(out) == size
        assert kept + wrote == nchunks
        # the changed chunks, and the tail ones when the size moved
        assert len(changed) <= wrote <= len(changed) + 4, (grow, mode, wrote)
        assert how == ("in place" if mode else "onto a new copy"), how
        assert not (workdir / "out.haven-partial").exists()
        assert [p.name for p in workdir.iterdir()
                if p.name.startswith("out.haven-tmp")] == []

    # A fresh target: no delta line, the plain restore.
    r = snap(haven_bin, store, "restore", name, workdir / "fresh", check=0)
    assert "delta:" not in r.stdout
    assert sha(workdir / "fresh") == sha(img)
    # --inplace belongs to restore only.
    snap(haven_bin, store, "export", "--inplace", name, workdir / "x",
         check=2)


def test_restore_onto_damaged_store(haven_bin, workdir):
    """A chunk the target lacks is damaged in the store: the default
    restore leaves the old image as it was; --inplace says the target is
    partly patched, keeps the marker, and a restore after the repair
    finishes it."""
    rng = random.Random(22)
    store = workdir / "store"
    img = workdir / "img"
    img.write_bytes(rng.randbytes(40 * CHUNK))
    name, _ = create(haven_bin, store, "v", img)
    victim = manifest_chunks(store, name)[30]
    cpath = store / "chunks" / victim[:2] / victim
    good = cpath.read_bytes()
    cpath.write_bytes(good[:100])

    out = workdir / "out"
    with open(img, "rb") as f:
        data = bytearray(f.read())
    data[2 * CHUNK:2 * CHUNK + 4] = b"AAAA"
    data[30 * CHUNK:30 * CHUNK + 4] = b"BBBB"      # needs the damaged one
    out.write_bytes(bytes(data))
    before = sha(out)

    r = snap(haven_bin, store, "restore", name, out, check=3)
    assert victim in r.stderr and "nothing written" in r.stderr
    assert sha(out) == before

    r = snap(haven_bin, store, "restore", "--inplace", name, out, check=3)
    assert "partly patched" in r.stderr, r.stderr
    marker = workdir / "out.haven-partial"
    assert marker.read_text().strip() == name

    cpath.write_bytes(good)
    r = snap(haven_bin, store, "restore", "--inplace", name, out, check=0)
    assert sha(out) == sha(img)
    assert not marker.exists()
    kept, wrote, _ = delta_line(r.stdout)
    assert wrote == 1 and kept == 39          # chunk 2 was patched already


def test_promote_onto_old_image(haven_bin, workdir):
    """Failback shape: the old primary's image is mostly right; promote
    --to writes only the chunks that differ."""
    rng = random.Random(23)
    store = workdir / "store"
    img = workdir / "img"
    img.write_bytes(rng.randbytes(64 * CHUNK))
    name, _ = create(haven_bin, store, "v", img)
    old = workdir / "old"
    stale_copy(img, old, rng)  # chunks 0, 1, 7, 50 (300 is past its end)
    snap(haven_bin, store, "demote", "v", check=0)
    r = snap(haven_bin, store, "promote", "--to", old, "--inplace", "v",
             check=0)
    kept, wrote, how = delta_line(r.stdout)
    assert (kept, wrote, how) == (60, 4, "in place"), r.stdout
    assert sha(old) == sha(img)
    assert "role=primary" in r.stdout
    # --inplace is promote's only.
    snap(haven_bin, store, "demote", "--inplace", "v", check=2)
